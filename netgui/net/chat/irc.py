"""An IRC client session (RFC 1459/2812 with CAP and SASL PLAIN), blocking, one object per network.

``IrcSession(profile, on_event).run()`` connects (TLS verified when asked), registers
(falling back to the alternative nick, then ``nick_``), joins the profile's channels and
then serves until the user quits or the token is cancelled. A lost connection is
re-established with exponential backoff; channels are joined again.

Input comes through ``outbox`` (a ``queue.Queue``), so a UI thread never touches the
socket: put ``("input", window, text)`` for what the user typed in a window (plain text or
``/join /part /msg /me /nick /topic /whois /quit …``), or ``("quit", message)``.
Output is a list of ``IrcEvent`` passed to ``on_event`` in batches (at most every
``batch_seconds``), so a flood of messages costs the UI few wake-ups.
"""

from __future__ import annotations

import base64
import queue
import select
import ssl
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable

from netgui import __version__
from netgui.net.cancel import CancelToken
from netgui.net.connection import Log, describe_failure, no_log, open_connection, tls_context
from netgui.net.errors import AuthError, Cancelled, ConnectionLost, NetError, NetTimeout, ProtocolError
from netgui.net.redact import redact
from netgui.net.text import decode_line

from .irc_message import Message, casefold, ctcp, ctcp_parse, make, parse, parse_isupport_prefix, split_utf8

DEFAULT_PORT = 6667
DEFAULT_TLS_PORT = 6697
VERSION_REPLY = f"netgui {__version__} (Python, Tk)"
HELP = ("Commands: /join #chan [key], /part [#chan] [reason], /msg nick text, /query nick, /me action, "
        "/nick newnick, /topic [#chan] [text], /whois nick, /notice target text, /quote raw line, "
        "/quit [message]. Start a line with // to send a text that begins with /.")


@dataclass
class IrcProfile:
    """Where and who to be on one IRC network."""

    host: str
    port: int = DEFAULT_PORT
    tls: bool = False
    verify: bool = True
    nick: str = "netgui"
    alt_nick: str = ""
    real_name: str = ""
    username: str = ""
    password: str = ""
    """SASL PLAIN password (account = username, or nick); empty for no SASL."""
    channels: list[str] = field(default_factory=list)


@dataclass
class IrcEvent:
    """Something the UI should show.

    kinds: ``message`` (style privmsg/action/notice), ``info`` (style join/part/quit/nick/mode/
    topic/names/server/error/whois/ctcp), ``users`` (data: list of (prefixes, nick)), ``topic``,
    ``network`` (data: the network's name, once the server tells it),
    ``open`` / ``close`` (a window), ``nick`` (data: our new nick), ``state`` (data: connecting/
    registering/connected/disconnected/reconnecting/closed). ``window`` None is the server window.
    """

    kind: str
    window: str | None = None
    text: str = ""
    nick: str | None = None
    style: str = ""
    own: bool = False
    highlight: bool = False
    time: float = field(default_factory=time.time)
    data: Any = None


@dataclass
class Channel:
    """What we know about a joined channel."""

    name: str
    topic: str = ""
    users: dict[str, str] = field(default_factory=dict)
    """nick (as the server spells it) -> its prefix symbols, e.g. ``{"alice": "@", "bob": ""}``."""
    names_complete: bool = True
    """False while a NAMES reply is arriving (353 lines until 366)."""
    names_seen: bool = False


class TokenBucket:
    """Outgoing rate limit: ``burst`` lines at once, then ``rate`` lines per second."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, burst
        self.tokens = float(burst)
        self.stamp = time.monotonic()

    def _refill(self) -> None:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now

    def take(self) -> bool:
        self._refill()
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False

    def wait_time(self) -> float:
        self._refill()
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate


class _Quit(Exception):
    """The session ended because the user quit."""


class IrcSession:
    """One connection to one IRC network, with reconnects. See the module docstring."""

    def __init__(self, profile: IrcProfile, on_event: Callable[[list[IrcEvent]], None], *,
                 token: CancelToken | None = None, log: Log | None = None,
                 outbox: "queue.Queue | None" = None, timeout: float = 15, cafile: str | None = None,
                 rate: float = 2.0, burst: int = 5, reconnect: bool = True,
                 backoff: tuple[float, float] = (1.0, 60.0), ping_interval: float = 90,
                 batch_seconds: float = 0.05) -> None:
        self.profile = profile
        self.on_event = on_event
        self.token = token or CancelToken()
        self._log = log or no_log
        self.outbox = outbox if outbox is not None else queue.Queue()
        self.timeout = timeout
        self.cafile = cafile
        self.bucket = TokenBucket(rate, burst)
        self.reconnect = reconnect
        self.backoff = backoff
        self.ping_interval = ping_interval
        self.batch_seconds = batch_seconds

        self.nick = profile.nick
        self.registered = False
        self.ever_registered = False
        self.network = profile.host
        self.channels: dict[str, Channel] = {}
        self.prefix_modes = parse_isupport_prefix("(ov)@+")
        self.chantypes = "#&"
        self.chanmodes = ("beI", "k", "l", "imnpst")
        self.my_mask: str | None = None
        self.wanted: list[str] = list(profile.channels)
        self.attempts = 0

        self._sock = None
        self._inbuf = bytearray()
        self._rx_log: list[str] = []
        self._sendq: deque[str] = deque()
        self._events: list[IrcEvent] = []
        self._last_flush = 0.0
        self._dirty_users: set[str] = set()
        self._nick_tries: list[str] = []
        self._quitting = False
        self._last_rx = 0.0
        self._ping_sent = False
        self._reply_window: str | None = None
        self._cap_ls: list[str] = []
        self._sasl = False

    # ---------------------------------------------------------------- public
    def send_input(self, window: str | None, text: str) -> None:
        """Thread-safe: queue what the user typed in ``window``."""
        self.outbox.put(("input", window, text))

    def quit(self, message: str = "") -> None:
        """Thread-safe: ask the session to quit."""
        self.outbox.put(("quit", message))

    def run(self) -> None:
        """Connect and serve until the user quits (returns) or the token is cancelled (Cancelled).

        Raises the NetError family when the first connection fails or authentication is refused.
        """
        try:
            while True:
                try:
                    self._serve_once()
                    return
                except _Quit:
                    return
                except (Cancelled, AuthError):
                    raise
                except NetError as err:
                    self._disconnected(str(err))
                    if self._quitting:
                        return
                    if not self.ever_registered or not self.reconnect:
                        raise
                    delay = min(self.backoff[1], self.backoff[0] * (2 ** self.attempts))
                    self.attempts += 1
                    self._emit(IrcEvent("state", None, f"Reconnecting in {delay:g} s", data="reconnecting"))
                    self._flush(force=True)
                    if self.token.wait(delay):
                        raise Cancelled()
        finally:
            self._close()
            self._emit(IrcEvent("state", None, "Disconnected", data="closed"))
            self._flush(force=True)

    # ------------------------------------------------------------ connection
    def _serve_once(self) -> None:
        p = self.profile
        self._reset_connection_state()
        self._emit(IrcEvent("state", None, f"Connecting to {p.host}:{p.port}", data="connecting"))
        self._flush(force=True)
        tls = tls_context(p.verify, self.cafile) if p.tls else None
        if p.tls and not p.verify:
            self.log("!", "TLS certificate checks are turned off for this network")
        self._sock = open_connection(p.host, p.port, timeout=self.timeout, token=self.token, tls=tls,
                                     log=self.log)
        self._emit(IrcEvent("state", None, "Registering", data="registering"))
        try:
            with self.token.watch(self._sock):
                self._register()
                self._loop()
        except (NetError, _Quit):
            raise
        except (OSError, ssl.SSLError) as exc:
            raise describe_failure(exc, self.token, p.host, p.port) from exc
        finally:
            self._close()

    def _reset_connection_state(self) -> None:
        self.registered = False
        self.channels.clear()
        self._inbuf.clear()
        self._sendq.clear()
        self._last_rx = time.monotonic()
        self._ping_sent = False
        self._cap_ls = []
        self._sasl = False
        p = self.profile
        tries = [p.nick] + ([p.alt_nick] if p.alt_nick and p.alt_nick != p.nick else [])
        tries += [p.nick + "_", p.nick + "__"] + [f"{p.nick[:6]}{n}" for n in range(10, 100, 17)]
        self._nick_tries = tries
        self.nick = tries.pop(0)

    def _close(self) -> None:
        if self._sock is not None:
            try:
                self._sock.close()
            except OSError:
                pass
            self._sock = None

    def _disconnected(self, reason: str) -> None:
        was = self.registered
        self.registered = False
        if self.channels:
            self.wanted = [c.name for c in self.channels.values()]
        for chan in list(self.channels.values()):
            self._emit(IrcEvent("info", chan.name, f"Disconnected: {reason}", style="error"))
            self._emit(IrcEvent("users", chan.name, data=[]))
        self.channels.clear()
        self._emit(IrcEvent("state", None, f"Disconnected: {reason}" if was or not self._quitting else "Disconnected",
                            data="disconnected"))
        self._flush(force=True)

    def _register(self) -> None:
        p = self.profile
        if p.password:
            self._write("CAP LS 302")
        self._write(f"NICK {self.nick}")
        user = p.username or p.nick
        self._write(make("USER", user, "0", "*", p.real_name or p.nick).to_line())

    # ------------------------------------------------------------------ loop
    def _loop(self) -> None:
        registration_deadline = time.monotonic() + max(self.timeout * 2, 10)
        while True:
            self.token.check()
            self._drain_outbox()
            wait = self._pump_send()
            data = self._read(min(wait, 0.05))
            if data is not None:
                self._feed(data)
            now = time.monotonic()
            if not self.registered and now > registration_deadline:
                raise NetTimeout(f"{self.profile.host} did not finish registration in time")
            idle = now - self._last_rx
            if self.registered and idle > self.ping_interval and not self._ping_sent:
                self._write(f"PING :netgui-{int(now)}")
                self._ping_sent = True
            if idle > self.ping_interval + self.timeout:
                raise NetTimeout(f"{self.profile.host} stopped answering (no reply for {int(idle)} s)")
            self._flush(force=data is None)

    def _read(self, wait: float) -> bytes | None:
        sock = self._sock
        pending = sock.pending() if isinstance(sock, ssl.SSLSocket) else 0
        if not pending:
            ready, _, _ = select.select([sock], [], [], wait)
            if not ready:
                return None
        try:
            data = sock.recv(65536)
        except ssl.SSLWantReadError:
            return None
        if not data:
            if self._quitting:
                raise _Quit()
            raise ConnectionLost(f"{self.profile.host} closed the connection")
        self._last_rx = time.monotonic()
        self._ping_sent = False
        return data

    def _feed(self, data: bytes) -> None:
        self._inbuf += data
        try:
            self._feed_lines()
        finally:
            self._flush_rx_log()

    def _feed_lines(self) -> None:
        while True:
            nl = self._inbuf.find(b"\n")
            if nl < 0:
                if len(self._inbuf) > 65536:
                    raise ProtocolError(f"{self.profile.host} sent a line over 64 KiB")
                return
            raw = bytes(self._inbuf[:nl]).rstrip(b"\r")
            del self._inbuf[:nl + 1]
            if not raw.strip():
                continue
            line = decode_line(raw)
            self._rx_log.append(line)
            try:
                msg = parse(line)
            except ProtocolError as err:
                self.log("!", f"{err}: {line[:200]}")
                continue
            self._handle(msg)

    # ------------------------------------------------------------------ send
    def log(self, direction: str, text: str) -> None:
        self._flush_rx_log()  # keep the transcript in wire order
        self._log_now(direction, text)

    def _log_now(self, direction: str, text: str) -> None:
        if direction == ">" or self.profile.password:  # what we send may hold secrets
            text = redact(text, (self.profile.password,) if self.profile.password else ())
        self._log(direction, text)

    def _flush_rx_log(self) -> None:
        # received lines go to the transcript one chunk at a time (one message, many lines):
        # a flood of 1,000 lines per second then costs the UI a few dozen messages
        if self._rx_log:
            lines, self._rx_log = self._rx_log, []
            self._log_now("<", "\n".join(lines))

    def _write(self, line: str) -> None:
        """Send a line now (registration, PONG, and lines the bucket let through)."""
        data = line.encode("utf-8")
        if len(data) > 510:
            raise ValueError("IRC line over 510 bytes")
        self.log(">", line)
        self._sock.sendall(data + b"\r\n")

    def _queue(self, line: str) -> None:
        self._sendq.append(line)

    def _pump_send(self) -> float:
        """Send queued lines the rate limit allows; returns how long until the next may go."""
        while self._sendq and self.registered:
            if not self.bucket.take():
                return max(0.005, self.bucket.wait_time())
            self._write(self._sendq.popleft())
        return 0.05

    def _drain_outbox(self) -> None:
        while True:
            try:
                item = self.outbox.get_nowait()
            except queue.Empty:
                return
            if item is None:
                item = ("quit", "")
            kind = item[0]
            if kind == "input":
                try:
                    self._user_input(item[1], item[2])
                except ValueError as err:
                    self._emit(IrcEvent("info", item[1], str(err), style="error"))
            elif kind == "quit":
                self._do_quit(item[1] if len(item) > 1 else "")
            elif kind == "raw":
                self._queue(item[1])

    def _do_quit(self, message: str) -> None:
        self._quitting = True
        if not self.registered:
            raise _Quit()
        self._sendq.clear()
        self._write(make("QUIT", message or "Leaving").to_line())
        self._emit(IrcEvent("state", None, "Quitting", data="disconnected"))

    def privmsg(self, target: str, text: str, *, action: bool = False, notice: bool = False) -> None:
        """Queue a message, split to fit the 512-byte limit, and show it as our own."""
        command = "NOTICE" if notice else "PRIVMSG"
        mask = self.my_mask or f"{self.nick}!~{(self.profile.username or self.nick)[:10]}@{'x' * 63}"
        overhead = len(f":{mask} {command} {target} :".encode()) + (len("\x01ACTION \x01") if action else 0)
        budget = 510 - overhead
        if budget < 16:
            raise ValueError(f"Target name too long: {target}")
        window = target
        for raw_line in text.split("\n"):
            raw_line = raw_line.rstrip("\r")
            if not raw_line and not action:
                continue
            for piece in split_utf8(raw_line, budget):
                body = ctcp("ACTION", piece) if action else piece
                self._queue(make(command, target, body).to_line())
                self._emit(IrcEvent("message", window, piece, nick=self.nick,
                                    style="action" if action else ("notice" if notice else "privmsg"), own=True))

    # ---------------------------------------------------------------- input
    def _user_input(self, window: str | None, text: str) -> None:
        text = text.rstrip("\r\n")
        if not text.strip():
            return
        if not text.startswith("/") or text.startswith("//"):
            if text.startswith("//"):
                text = text[1:]
            if not window:
                raise ValueError("This is the server window: join a channel (/join #name) or use /msg nick text")
            self._need_registered()
            self.privmsg(window, text)
            return
        command, _, rest = text[1:].partition(" ")
        command = command.lower()
        rest = rest.strip()
        args = rest.split()
        self._reply_window = window
        if command == "help":
            self._emit(IrcEvent("info", window, HELP, style="server"))
            return
        if command == "quit":
            self._do_quit(rest)
            return
        self._need_registered()
        if command in ("join", "j"):
            if not args:
                raise ValueError("Usage: /join #channel [key]")
            names = ",".join(n if n[0] in self.chantypes else "#" + n for n in args[0].split(",") if n)
            self._queue(make("JOIN", names, *args[1:2]).to_line())
        elif command in ("part", "leave"):
            target = window
            if args and self._is_channel(args[0]):
                target, rest = args[0], rest[len(args[0]):].strip()
            if not target or not self._is_channel(target):
                raise ValueError("Usage: /part #channel [reason]")
            self._queue(make("PART", target, *([rest] if rest else [])).to_line())
        elif command in ("msg", "query"):
            if not args:
                raise ValueError(f"Usage: /{command} nick text")
            target = args[0]
            body = rest[len(target):].strip()
            if not self._is_channel(target):
                self._emit(IrcEvent("open", target, data="focus"))
            if body:
                self.privmsg(target, body)
            elif command == "msg":
                raise ValueError("Usage: /msg nick text")
        elif command == "me":
            if not window:
                raise ValueError("/me needs a channel or conversation window")
            self.privmsg(window, rest, action=True)
        elif command == "notice":
            if len(args) < 2:
                raise ValueError("Usage: /notice target text")
            self.privmsg(args[0], rest[len(args[0]):].strip(), notice=True)
        elif command == "nick":
            if len(args) != 1:
                raise ValueError("Usage: /nick newnick")
            self._queue(f"NICK {args[0]}")
        elif command == "topic":
            target = window
            if args and self._is_channel(args[0]):
                target, rest = args[0], rest[len(args[0]):].strip()
            if not target or not self._is_channel(target):
                raise ValueError("Usage: /topic #channel [new topic]")
            self._queue(make("TOPIC", target, rest).to_line() if rest else f"TOPIC {target}")
        elif command == "whois":
            if len(args) != 1:
                raise ValueError("Usage: /whois nick")
            self._queue(f"WHOIS {args[0]}")
        elif command in ("quote", "raw"):
            if not rest:
                raise ValueError("Usage: /quote RAW IRC LINE")
            parse(rest)  # refuse what is not an IRC line
            if "\r" in rest or "\n" in rest or len(rest.encode()) > 510:
                raise ValueError("That line cannot be sent")
            self._queue(rest)
        else:
            raise ValueError(f"Unknown command /{command} (try /help)")

    def _need_registered(self) -> None:
        if not self.registered:
            raise ValueError("Not connected to the network yet")

    # -------------------------------------------------------------- incoming
    def _is_channel(self, name: str | None) -> bool:
        return bool(name) and name[0] in self.chantypes

    def _is_me(self, nick: str | None) -> bool:
        return nick is not None and casefold(nick) == casefold(self.nick)

    def _chan(self, name: str) -> Channel | None:
        return self.channels.get(casefold(name))

    def _msg_time(self, msg: Message) -> float:
        stamp = msg.tags.get("time")
        if stamp:
            try:
                return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
            except ValueError:
                pass
        return time.time()

    def _handle(self, msg: Message) -> None:
        cmd = msg.command
        handler = getattr(self, f"_on_{cmd.lower()}", None)
        if handler is not None:
            handler(msg)
        elif msg.is_numeric:
            self._on_numeric(msg)
        else:
            self._emit(IrcEvent("info", None, f"{msg.nick or ''} {cmd} {' '.join(msg.params)}".strip(),
                                style="server"))

    def _on_ping(self, msg: Message) -> None:
        self._write(make("PONG", *(msg.params[:1] or ["netgui"])).to_line())

    def _on_pong(self, msg: Message) -> None:
        pass

    def _on_error(self, msg: Message) -> None:
        text = msg.param(-1, "closing link")
        self._emit(IrcEvent("info", None, f"Server closed the link: {text}", style="error"))
        if self._quitting:
            raise _Quit()

    def _on_cap(self, msg: Message) -> None:
        sub = msg.param(1).upper()
        if sub == "LS":
            more = len(msg.params) >= 4 and msg.params[2] == "*"
            self._cap_ls += msg.param(-1).split()
            if more:
                return
            caps = {c.split("=", 1)[0].lower() for c in self._cap_ls}
            if "sasl" in caps and self.profile.password:
                self._write("CAP REQ :sasl")
            else:
                self._write("CAP END")
                if self.profile.password:
                    self._emit(IrcEvent("info", None, "The server does not offer SASL; logging in without it",
                                        style="error"))
        elif sub == "ACK":
            if "sasl" in msg.param(-1).lower().split():
                self._sasl = True
                self._write("AUTHENTICATE PLAIN")
        elif sub == "NAK":
            self._write("CAP END")

    def _on_authenticate(self, msg: Message) -> None:
        if msg.param(0) != "+":
            return
        account = self.profile.username or self.profile.nick
        payload = base64.b64encode(f"{account}\0{account}\0{self.profile.password}".encode()).decode()
        chunks = [payload[i:i + 400] for i in range(0, len(payload), 400)] or ["+"]
        if len(chunks[-1]) == 400:
            chunks.append("+")
        for chunk in chunks:
            self._write(f"AUTHENTICATE {chunk}")

    def _on_numeric(self, msg: Message) -> None:
        code = int(msg.command)
        params = msg.params[1:]  # the first is our nick
        text = params[-1] if params else ""
        if code == 1:
            self._registered(msg)
        if code in (1, 2, 3, 4):
            self._emit(IrcEvent("info", None, text if code != 4 else " ".join(params), style="server"))
        elif code == 5:
            self._isupport(params[:-1])
        elif code in (900, 903):
            self._emit(IrcEvent("info", None, text, style="server"))
            if code == 903:
                self._write("CAP END")
        elif code in (902, 904, 905, 906, 908):
            self._write("CAP END")
            self._write("QUIT")
            raise AuthError(f"{self.profile.host} refused the SASL login: {text}")
        elif code in (432, 433, 436) and not self.registered:
            self._nick_refused(msg)
        elif code == 464:
            raise AuthError(f"{self.profile.host} refused the password: {text}")
        elif code == 332:
            self._set_topic(params[0], text, None)
        elif code == 333 and len(params) >= 3:
            when = datetime.fromtimestamp(int(params[2])).strftime("%Y-%m-%d %H:%M") if params[2].isdigit() else ""
            self._emit(IrcEvent("info", params[0], f"Topic set by {params[1].split('!')[0]} {when}".strip(),
                                style="topic"))
        elif code == 331:
            self._set_topic(params[0], "", None)
        elif code == 353 and len(params) >= 3:
            self._names(params[1], params[2])
        elif code == 366:
            chan = self._chan(params[0]) if params else None
            if chan is not None:
                first = not chan.names_seen
                chan.names_complete = chan.names_seen = True
                self._dirty_users.add(casefold(chan.name))
                if first:  # after joining: say who is there
                    users = self.user_list(chan)
                    shown = " ".join(p[:1] + n for p, n in users[:40]) + (" …" if len(users) > 40 else "")
                    self._emit(IrcEvent("info", chan.name, f"{len(users)} here: {shown}", style="names"))
        elif code in (311, 314):  # whois / whowas user
            nick, user, host = (params + ["", "", ""])[:3]
            self._whois(f"{nick} is {user}@{host} ({text})")
        elif code in (312, 313, 301, 307, 320, 330, 335, 338, 378, 379, 671, 276):
            self._whois(" ".join(params[:-1] + [text]) if code in (312, 330, 338) else f"{params[0]} {text}")
        elif code == 317 and len(params) >= 2:
            idle = int(params[1]) if params[1].isdigit() else 0
            signon = (f", on since {datetime.fromtimestamp(int(params[2])):%Y-%m-%d %H:%M}"
                      if len(params) > 3 and params[2].isdigit() else "")
            self._whois(f"{params[0]} has been idle {idle // 60} min {idle % 60} s{signon}")
        elif code == 319:
            self._whois(f"{params[0]} is on {text}")
        elif code in (318, 369):
            self._whois(f"{params[0]}: {text}" if params else text)
        elif 400 <= code < 600:
            subject = params[0] if len(params) > 1 else ""
            window = subject if self._chan(subject) else self._reply_window
            self._emit(IrcEvent("info", window, f"{subject}: {text}" if subject else text, style="error"))
        else:
            shown = " ".join(params) if len(params) > 1 and code not in (372, 375, 376, 251, 255, 265, 266) else text
            if code in (265, 266) and len(params) > 1:
                shown = text
            self._emit(IrcEvent("info", None, shown, style="server"))

    def _whois(self, text: str) -> None:
        self._emit(IrcEvent("info", self._reply_window, text, style="whois"))

    def _registered(self, msg: Message) -> None:
        self.nick = msg.param(0, self.nick)
        self.registered = self.ever_registered = True
        self.attempts = 0
        self._emit(IrcEvent("nick", None, data=self.nick))
        self._emit(IrcEvent("state", None, f"Connected to {self.network} as {self.nick}", data="connected"))
        if self.wanted:
            # JOIN lines are short; a few channels per line
            for i in range(0, len(self.wanted), 5):
                self._queue(f"JOIN {','.join(self.wanted[i:i + 5])}")

    def _isupport(self, tokens: list[str]) -> None:
        for token in tokens:
            key, _, value = token.partition("=")
            key = key.upper()
            if key == "PREFIX":
                self.prefix_modes = parse_isupport_prefix(value)
            elif key == "CHANTYPES" and value:
                self.chantypes = value
            elif key == "NETWORK" and value and value != self.network:
                self.network = value
                self._emit(IrcEvent("network", None, value, data=value))
            elif key == "CHANMODES":
                parts = (value.split(",") + ["", "", "", ""])[:4]
                self.chanmodes = tuple(parts)

    def _nick_refused(self, msg: Message) -> None:
        refused = msg.param(1, self.nick)
        if not self._nick_tries:
            raise ProtocolError(f"Every nick we tried is taken or refused ({refused})")
        self.nick = self._nick_tries.pop(0)
        self._emit(IrcEvent("info", None, f"Nick {refused} is not available ({msg.param(-1)}); trying {self.nick}",
                            style="error"))
        self._write(f"NICK {self.nick}")

    def _names(self, channel: str, names: str) -> None:
        chan = self._chan(channel)
        if chan is None:
            return
        if chan.names_complete:  # a new NAMES reply replaces the list
            chan.users.clear()
            chan.names_complete = False
        symbols = "".join(symbol for _, symbol in self.prefix_modes)
        for item in names.split():
            bare = item.lstrip(symbols)
            prefixes = item[:len(item) - len(bare)]
            nick = bare.split("!", 1)[0]
            if nick:
                chan.users[nick] = prefixes

    def _set_topic(self, channel: str, topic: str, by: str | None) -> None:
        chan = self._chan(channel)
        if chan is not None:
            chan.topic = topic
        self._emit(IrcEvent("topic", channel, topic))
        if by:
            self._emit(IrcEvent("info", channel, f"{by} changed the topic to: {topic}", style="topic"))
        elif topic:
            self._emit(IrcEvent("info", channel, f"Topic: {topic}", style="topic"))

    def _user_key(self, chan: Channel, nick: str) -> str | None:
        folded = casefold(nick)
        return next((n for n in chan.users if casefold(n) == folded), None)

    def _on_join(self, msg: Message) -> None:
        name = msg.param(0)
        nick = msg.nick
        if self._is_me(nick):
            self.my_mask = msg.prefix
            key = casefold(name)
            self.channels[key] = Channel(name, names_complete=True)
            if not any(casefold(w) == key for w in self.wanted):
                self.wanted.append(name)
            self._emit(IrcEvent("open", name))
            self._emit(IrcEvent("info", name, f"You joined {name}", style="join"))
            return
        chan = self._chan(name)
        if chan is not None:
            chan.users[nick] = ""
            self._dirty_users.add(casefold(name))
        self._emit(IrcEvent("info", name, f"{nick} ({msg.prefix.split('!', 1)[-1]}) joined", nick=nick, style="join"))

    def _on_part(self, msg: Message) -> None:
        name, reason = msg.param(0), msg.param(1)
        nick = msg.nick
        suffix = f" ({reason})" if reason else ""
        if self._is_me(nick):
            self.channels.pop(casefold(name), None)
            self.wanted = [w for w in self.wanted if casefold(w) != casefold(name)]
            self._emit(IrcEvent("info", name, f"You left {name}{suffix}", style="part"))
            self._emit(IrcEvent("close", name))
            return
        chan = self._chan(name)
        if chan is not None:
            key = self._user_key(chan, nick)
            if key:
                del chan.users[key]
                self._dirty_users.add(casefold(name))
        self._emit(IrcEvent("info", name, f"{nick} left{suffix}", nick=nick, style="part"))

    def _on_kick(self, msg: Message) -> None:
        name, victim, reason = msg.param(0), msg.param(1), msg.param(2)
        by = msg.nick
        if self._is_me(victim):
            self.channels.pop(casefold(name), None)
            self.wanted = [w for w in self.wanted if casefold(w) != casefold(name)]
            self._emit(IrcEvent("info", name, f"You were kicked from {name} by {by} ({reason})", style="error"))
            self._emit(IrcEvent("users", name, data=[]))
            return
        chan = self._chan(name)
        if chan is not None:
            key = self._user_key(chan, victim)
            if key:
                del chan.users[key]
                self._dirty_users.add(casefold(name))
        self._emit(IrcEvent("info", name, f"{victim} was kicked by {by} ({reason})", style="part"))

    def _on_quit(self, msg: Message) -> None:
        nick, reason = msg.nick, msg.param(0)
        if self._is_me(nick):
            return
        for chan in self.channels.values():
            key = self._user_key(chan, nick)
            if key:
                del chan.users[key]
                self._dirty_users.add(casefold(chan.name))
                self._emit(IrcEvent("info", chan.name, f"{nick} quit ({reason})", nick=nick, style="quit"))
        self._emit(IrcEvent("info", nick, f"{nick} quit ({reason})", nick=nick, style="quit", data="if-open"))

    def _on_nick(self, msg: Message) -> None:
        old, new = msg.nick, msg.param(0)
        me = self._is_me(old)
        if me:
            self.nick = new
            if self.my_mask:
                self.my_mask = new + self.my_mask[len(old):]
            self._emit(IrcEvent("nick", None, data=new))
            self._emit(IrcEvent("info", None, f"You are now known as {new}", style="nick"))
        for chan in self.channels.values():
            key = self._user_key(chan, old)
            if key:
                chan.users[new] = chan.users.pop(key)
                self._dirty_users.add(casefold(chan.name))
                text = f"You are now known as {new}" if me else f"{old} is now known as {new}"
                self._emit(IrcEvent("info", chan.name, text, style="nick"))
        if not me:
            self._emit(IrcEvent("info", old, f"{old} is now known as {new}", style="nick", data=("rename", new)))

    def _on_mode(self, msg: Message) -> None:
        target = msg.param(0)
        changes = " ".join(msg.params[1:])
        if not self._is_channel(target):
            self._emit(IrcEvent("info", None, f"Mode {changes} for {target}", style="mode"))
            return
        chan = self._chan(target)
        if chan is not None:
            self._apply_modes(chan, msg.params[1:])
        self._emit(IrcEvent("info", target, f"{msg.nick} sets mode {changes}", style="mode"))

    def _apply_modes(self, chan: Channel, params: list[str]) -> None:
        if not params:
            return
        modes, args = params[0], list(params[1:])
        prefix_of = dict(self.prefix_modes)
        order = "".join(symbol for _, symbol in self.prefix_modes)
        a, b, c, _ = self.chanmodes
        adding = True
        for ch in modes:
            if ch in "+-":
                adding = ch == "+"
                continue
            if ch in prefix_of:
                nick = args.pop(0) if args else ""
                key = self._user_key(chan, nick)
                if key is None:
                    continue
                current = set(chan.users[key])
                (current.add if adding else current.discard)(prefix_of[ch])
                chan.users[key] = "".join(s for s in order if s in current)
                self._dirty_users.add(casefold(chan.name))
            elif ch in a or ch in b or (ch in c and adding):
                if args:
                    args.pop(0)

    def _on_topic(self, msg: Message) -> None:
        self._set_topic(msg.param(0), msg.param(1), msg.nick)

    def _on_privmsg(self, msg: Message, notice: bool = False) -> None:
        target, text = msg.param(0), msg.param(1)
        nick = msg.nick or "?"
        when = self._msg_time(msg)
        symbols = "".join(symbol for _, symbol in self.prefix_modes)
        if not self._is_channel(target) and target[:1] in symbols and self._is_channel(target[1:]):
            target = target[1:]  # STATUSMSG: "@#chan" is a message to the channel's operators
        if self._is_channel(target):
            window = target
        elif notice:
            window = None  # notices to us (server, services, CTCP replies) go to the server window
        else:
            window = nick  # a private conversation; the UI opens its window on the first message
        request = ctcp_parse(text)
        if request is not None:
            command, arg = request
            if command == "ACTION" and not notice:
                self._emit(IrcEvent("message", window, arg, nick=nick, style="action", time=when,
                                    highlight=self._mentions(arg)))
                return
            if notice:
                self._emit(IrcEvent("info", window, f"CTCP {command} reply from {nick}: {arg}", style="ctcp"))
                return
            self._ctcp_request(nick, command, arg)
            return
        private = window == nick
        self._emit(IrcEvent("message", window, text, nick=nick, style="notice" if notice else "privmsg", time=when,
                            highlight=not self._is_me(nick) and (private or self._mentions(text))))

    def _on_notice(self, msg: Message) -> None:
        self._on_privmsg(msg, notice=True)

    def _ctcp_request(self, nick: str, command: str, arg: str) -> None:
        reply = None
        if command == "VERSION":
            reply = VERSION_REPLY
        elif command == "PING":
            reply = arg
        elif command == "TIME":
            reply = datetime.now().astimezone().strftime("%a %b %d %H:%M:%S %Y %Z")
        elif command == "CLIENTINFO":
            reply = "ACTION CLIENTINFO PING TIME VERSION"
        self._emit(IrcEvent("info", None, f"CTCP {command} from {nick}" + (" (answered)" if reply is not None else ""),
                            style="ctcp"))
        if reply is not None and len(self._sendq) < 20:  # a CTCP flood must not fill our send queue
            self._queue(make("NOTICE", nick, ctcp(command, reply)).to_line())

    def _mentions(self, text: str) -> bool:
        folded, me = casefold(text), casefold(self.nick)
        start = folded.find(me)
        while start >= 0:
            end = start + len(me)
            before = folded[start - 1] if start else " "
            after = folded[end] if end < len(folded) else " "
            if not (before.isalnum() or before in "_-[]\\`^{}|") and not (after.isalnum() or after in "_-[]\\`^{}|"):
                return True
            start = folded.find(me, start + 1)
        return False

    # ---------------------------------------------------------------- events
    def _emit(self, event: IrcEvent) -> None:
        self._events.append(event)

    def _flush(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_flush < self.batch_seconds:
            return
        for key in self._dirty_users:
            chan = self.channels.get(key)
            if chan is not None and chan.names_complete:
                self._events.append(IrcEvent("users", chan.name, data=self.user_list(chan)))
        self._dirty_users = {k for k in self._dirty_users if k in self.channels
                             and not self.channels[k].names_complete}
        if self._events:
            events, self._events = self._events, []
            self.on_event(events)
        self._last_flush = now

    def user_list(self, chan: Channel) -> list[tuple[str, str]]:
        """(prefixes, nick) sorted by rank (ops first), then by name."""
        order = "".join(symbol for _, symbol in self.prefix_modes)

        def rank(item):
            nick, prefixes = item
            best = min((order.index(s) for s in prefixes if s in order), default=len(order))
            return best, casefold(nick)

        return [(prefixes, nick) for nick, prefixes in sorted(chan.users.items(), key=rank)]
