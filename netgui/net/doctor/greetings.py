"""Each protocol's greeting, as the doctor checks it: what the server says first, what it
offers (EHLO, CAPABILITY, CAPA, FEAT), STARTTLS where the protocol has it, and a polite bye.

A dialog's ``hello(wire)`` returns (summary, details) and sets ``offers_tls``; ``starttls``
asks for TLS; ``again`` repeats the capability question over TLS. Each raises the NetError
family (``WrongGreeting`` when the server speaks another protocol)."""

from __future__ import annotations

import random
import time

from netgui.net.errors import ConnectionLost, NetTimeout, ProtocolError

from .wire import Wire, WrongGreeting, read_reply, speaks

GETFILE_PROBE = b"\x00NETGUI/1 LIST \n"
GETFILE_STARTTLS = b"\x00NETGUI/1 STARTTLS\n"


class Dialog:
    name = "TCP"
    offers_tls = False

    def hello(self, wire: Wire) -> tuple[str, list[str]]:
        raise NotImplementedError

    def starttls(self, wire: Wire) -> None:
        raise ProtocolError(f"{self.name} has no STARTTLS")

    def again(self, wire: Wire) -> tuple[str, list[str]]:
        return self.hello(wire)

    def bye(self, wire: Wire) -> None:
        pass


def _expect(wire: Wire, line: str, wanted: str, protocol: str) -> None:
    if not line.startswith(wanted):
        raise WrongGreeting(f"{wire.where} speaks {speaks(line)}, not {protocol}")


class Smtp(Dialog):
    name = "SMTP"

    def hello(self, wire):
        code, lines = read_reply(wire)
        if code != 220:
            if code == 554:
                raise ProtocolError(f"{wire.where} refuses mail sessions: {lines[-1]}")
            raise WrongGreeting(f"{wire.where} greets with {lines[0]!r}, not an SMTP 220")
        summary, details = self._ehlo(wire)
        return f"{lines[0][4:][:80]} · {summary}", details

    def _ehlo(self, wire):
        wire.send("EHLO netgui.invalid")
        code, lines = read_reply(wire)
        if code != 250:
            raise ProtocolError(f"{wire.where} refused EHLO: {lines[-1]}")
        extensions = [line[4:] for line in lines[1:]]
        self.offers_tls = any(e.upper().startswith("STARTTLS") for e in extensions)
        return f"EHLO offers {len(extensions)} extensions", extensions

    def starttls(self, wire):
        wire.send("STARTTLS")
        code, lines = read_reply(wire)
        if code != 220:
            raise ProtocolError(f"{wire.where} refused STARTTLS: {lines[-1]}")

    def again(self, wire):
        return self._ehlo(wire)

    def bye(self, wire):
        wire.send("QUIT")


class Imap(Dialog):
    name = "IMAP"

    def hello(self, wire):
        first = wire.first_line()
        _expect(wire, first, "* ", "IMAP")
        if first.startswith("* BYE"):
            raise ProtocolError(f"{wire.where} says goodbye at once: {first[6:]}")
        if not first.startswith(("* OK", "* PREAUTH")):
            raise WrongGreeting(f"{wire.where} speaks {speaks(first)}, not IMAP")
        summary, details = self._capability(wire, "a1")
        text = first.split(" ", 2)[2] if first.count(" ") >= 2 else ""
        if text.startswith("["):  # a response code first: [CAPABILITY …] Dovecot ready.
            text = text.split("]", 1)[-1].strip()
        return f"{text[:60]} · {summary}", details

    def _capability(self, wire, tag):
        wire.send(f"{tag} CAPABILITY")
        caps: list[str] = []
        while True:
            line = wire.line()
            if line.upper().startswith("* CAPABILITY"):
                caps = line.split()[2:]
            elif line.startswith(tag + " "):
                if not line[len(tag) + 1:].upper().startswith("OK"):
                    raise ProtocolError(f"{wire.where} refused CAPABILITY: {line}")
                break
        self.offers_tls = "STARTTLS" in (c.upper() for c in caps)
        return f"CAPABILITY lists {len(caps)}", [" ".join(caps)]

    def starttls(self, wire):
        wire.send("a2 STARTTLS")
        line = wire.line()
        while line.startswith("* "):
            line = wire.line()
        if not line.upper().startswith("A2 OK"):
            raise ProtocolError(f"{wire.where} refused STARTTLS: {line}")

    def again(self, wire):
        return self._capability(wire, "a3")

    def bye(self, wire):
        wire.send("a9 LOGOUT")


class Pop3(Dialog):
    name = "POP3"

    def hello(self, wire):
        first = wire.first_line()
        if not first.startswith("+OK"):
            if first.startswith("-ERR"):
                raise ProtocolError(f"{wire.where} refuses: {first}")
            raise WrongGreeting(f"{wire.where} speaks {speaks(first)}, not POP3")
        summary, details = self._capa(wire)
        return f"{first[4:][:60]} · {summary}", details

    def _capa(self, wire):
        wire.send("CAPA")
        line = wire.line()
        if not line.startswith("+OK"):
            self.offers_tls = False
            return "CAPA is not supported (an old server)", []
        caps = []
        while True:
            line = wire.line()
            if line == ".":
                break
            caps.append(line)
        self.offers_tls = any(c.upper().split()[:1] == ["STLS"] for c in caps)
        return f"CAPA lists {len(caps)}", caps

    def starttls(self, wire):
        wire.send("STLS")
        line = wire.line()
        if not line.startswith("+OK"):
            raise ProtocolError(f"{wire.where} refused STLS: {line}")

    def again(self, wire):
        return self._capa(wire)

    def bye(self, wire):
        wire.send("QUIT")


class Ftp(Dialog):
    name = "FTP"

    def hello(self, wire):
        code, lines = read_reply(wire)
        if code != 220:
            if code in (421, 530):
                raise ProtocolError(f"{wire.where} refuses: {lines[-1]}")
            raise WrongGreeting(f"{wire.where} greets with {lines[0]!r}, not an FTP 220")
        summary, details = self._feat(wire)
        return f"{lines[0][4:][:60]} · {summary}", details

    def _feat(self, wire):
        wire.send("FEAT")
        code, lines = read_reply(wire)
        if code != 211:
            self.offers_tls = False
            return "FEAT is not supported (an old server)", []
        features = [line.strip() for line in lines[1:-1]]
        self.offers_tls = any(f.upper().startswith("AUTH") and "TLS" in f.upper() for f in features)
        return f"FEAT lists {len(features)}", features

    def starttls(self, wire):
        wire.send("AUTH TLS")
        code, lines = read_reply(wire)
        if code != 234:
            raise ProtocolError(f"{wire.where} refused AUTH TLS: {lines[-1]}")

    def again(self, wire):
        wire.send("PBSZ 0")
        read_reply(wire)
        return self._feat(wire)

    def bye(self, wire):
        wire.send("QUIT")


class Ssh(Dialog):
    name = "SSH"

    def hello(self, wire):
        # RFC 4253: a server may send other lines before its identification line
        line = wire.first_line()
        for _ in range(20):
            if line.startswith("SSH-"):
                version = line.split("-", 2)
                if len(version) < 3 or version[1] not in ("2.0", "1.99"):
                    raise ProtocolError(f"{wire.where} speaks SSH version {version[1]}, "
                                        "which netgui does not")
                return line[:120], []
            if not speaks(line).startswith("something else"):
                raise WrongGreeting(f"{wire.where} speaks {speaks(line)}, not SSH")
            line = wire.line()
        raise WrongGreeting(f"{wire.where} sent 20 lines without an SSH identification")


class Irc(Dialog):
    name = "IRC"

    def hello(self, wire):
        nick = f"netgui{random.randrange(10000, 99999)}"
        wire.send(f"NICK {nick}")
        wire.send("USER netgui 0 * :netgui connection doctor")
        notices = []
        for _ in range(200):
            line = wire.line()
            words = line.split()
            command = words[1] if line.startswith(":") and len(words) > 1 else words[0] if words else ""
            if command == "PING":
                token = line.split("PING", 1)[1].strip()
                wire.send(f"PONG {token}"[:510])
            elif command == "001":
                return f"registered as {nick}: {line.split(':', 2)[-1][:80]}", notices[-5:]
            elif command == "433":
                nick = f"netgui{random.randrange(10000, 99999)}"
                wire.send(f"NICK {nick}")
            elif command == "ERROR" or (command.isdigit() and command.startswith(("4", "5"))
                                        and command not in ("433", "451")):
                raise ProtocolError(f"{wire.where} refused registration: {line[:160]}")
            elif _ == 0 and not line.startswith(":") and command not in ("NOTICE", "PING"):
                raise WrongGreeting(f"{wire.where} speaks {speaks(line)}, not IRC")
            else:
                notices.append(line[:160])
        raise ProtocolError(f"{wire.where} did not finish registration")

    def bye(self, wire):
        wire.send("QUIT :netgui connection doctor")


class Getfile(Dialog):
    """netgui's extension probe (a LIST of the root); an original server just closes."""

    name = "getfile"

    def hello(self, wire):
        wire.send_bytes(GETFILE_PROBE, "\\0NETGUI/1 LIST")
        data = b""
        try:
            data = wire.recv_some()
        except ConnectionLost:
            data = b""
        if not data:
            self.offers_tls = False
            return ("an original getfile server (no netgui extension): downloads work; sizes, "
                    "listings, resume and TLS do not"), []
        wire._buffer = data
        line = wire.line()
        if not line.startswith("NETGUI/1 "):
            raise WrongGreeting(f"{wire.where} speaks {speaks(line)}, not getfile")
        self.offers_tls = True  # the extension has STARTTLS; the TLS step asks for it
        if line.startswith("NETGUI/1 OK"):
            return "netgui's getfile extension: the root folder lists", [line]
        return f"netgui's getfile extension (the listing was refused: {line[13:]})", [line]

    def starttls(self, wire):
        wire.send_bytes(GETFILE_STARTTLS, "\\0NETGUI/1 STARTTLS")
        line = wire.line()
        if not line.startswith("NETGUI/1 OK"):
            raise ProtocolError(f"{wire.where} offers no TLS: {line}")

    def again(self, wire):
        wire.send_bytes(GETFILE_PROBE, "\\0NETGUI/1 LIST")
        line = wire.line()
        return f"inside TLS: {line[:60]}", []


class LineChat(Dialog):
    name = "line chat"

    def hello(self, wire):
        first = wire.first_line()
        if not first.startswith("Welcome to the chat server"):
            raise WrongGreeting(f"{wire.where} speaks {speaks(first)}, not the line chat protocol")
        return first, []


class Tcp(Dialog):
    """An unknown protocol: whatever the server says in its first two seconds."""

    name = "TCP"

    def hello(self, wire):
        wire.sock.settimeout(2.0)
        started = time.monotonic()
        try:
            first = wire.first_line()
        except NetTimeout:
            return (f"the server said nothing in {time.monotonic() - started:.0f} s "
                    "(it waits for the client to speak first)"), []
        return f"the server says {first[:80]!r}, which looks like {speaks(first)}", []


DIALOGS = {"smtp": Smtp, "imap": Imap, "pop3": Pop3, "ftp": Ftp, "ssh": Ssh, "irc": Irc,
           "getfile": Getfile, "chat": LineChat, "tcp": Tcp}
