"""An SFTP client core on asyncssh with the same public interface as ``FtpClient``.

The FTP tab, the transfer queue and ``netgui ftp`` call the same methods on either client
(``connect``, ``listdir``, ``chdir``, ``download``/``upload`` with progress and resume, ``delete``,
``rename``, ``mkdir``, ``chmod``, ``read_text``, ``keepalive``, ``bound``, ``close`` ...).

- Blocking calls: each client runs its own asyncio loop in a private thread; a call submits a
  coroutine there and waits. Everything that reaches the caller (transcript lines, progress,
  host-key questions, keyboard-interactive prompts) runs on the *calling* thread, queued by
  the loop, so a task's callbacks behave as with ``FtpClient``.
- Every request has a timeout (``site.timeout``); a ``CancelToken`` cancels the running
  coroutine at once (outstanding requests are abandoned, the connection is kept if healthy).
- Host keys are checked against OpenSSH known_hosts files (``hostkeys.KnownHosts``): unknown
  keys go to ``ask_host_key`` (this time / always / refuse), changed keys are refused.
- Authentication: ssh-agent keys, a private key file (OpenSSH format, ed25519/ECDSA/RSA, with
  passphrase), password, keyboard-interactive (prompts answered by ``ask_kbdint``, or with the
  password for a single "Password:" prompt).
- Transfers pipeline many read/write requests (the server's ``limits@openssh.com`` sizes) and
  resume by offset: downloads continue a ``.part`` file, uploads write after the remote size.
- A dropped connection is reopened by the next call; a call that had not moved data yet is
  retried once transparently. ``keepalive`` pings an idle connection; asyncssh's own
  keep-alive notices a dead peer.
- The transcript names SFTP operations (OPEN, READ summaries, STAT, READDIR, ...), never secrets.
- Remote names are never local paths: a listing drops names that are empty, ``.``/``..`` or
  contain ``/`` or NUL, and downloads go through ``local_child`` (``safe_names``).
"""

from __future__ import annotations

import asyncio
import collections
import os
import posixpath
import queue
import stat as stat_mod
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Awaitable, Callable, Iterator

import asyncssh

from netgui.net.cancel import CancelToken
from netgui.net.connection import DEFAULT_TIMEOUT, Log, no_log, open_connection
from netgui.net.errors import (AuthError, Cancelled, ConnectionLost, LocalFileError, NetError, NetTimeout,
                               ProtocolError, translate)
from netgui.net.redact import redact

from .client import (PROGRESS_INTERVAL, FtpClient, Progress, _local_error, _no_progress, open_upload,
                     part_and_offset)
from .hostkeys import (ALWAYS, KNOWN, ONCE, AskHostKey, HostKeyError, HostKeyQuestion, HostKeyUnknown,
                       KnownHosts, fingerprint, host_label, key_type_name)
from .listing import DIR, FILE, LINK, RemoteEntry, display_name

AUTH_MODES = ("auto", "agent", "key", "password", "keyboard-interactive")
HANDSHAKE_BUDGET = 30.0              # seconds for key exchange + login, not counting time in dialogs
KBD_TRIES = 3                        # keyboard-interactive rounds answered by the callback
READ_LIMIT_FALLBACK = 32 * 1024      # request size for servers without limits@openssh.com
MAX_IN_FLIGHT = 16                   # outstanding read/write requests per transfer
CHUNK_CAP = 256 * 1024               # never ask for more than this per request
MAX_LISTING_ENTRIES = 200_000        # a folder listing longer than this is refused
# Ciphers: AES-GCM first (hardware AES: the fastest here, see bench/sftp.py), then OpenSSH's order.
CIPHERS = ("aes128-gcm@openssh.com", "aes256-gcm@openssh.com", "chacha20-poly1305@openssh.com",
           "aes128-ctr", "aes192-ctr", "aes256-ctr")

KbdPrompt = tuple[str, bool]          # (prompt text, echo)
AskKbdInt = Callable[[str, str, list[KbdPrompt]], "list[str] | None"]
"""``ask(name, instructions, prompts) -> answers`` (None: give up). Called on the caller's thread."""
AskPassword = Callable[[str, str], "str | None"]
"""``ask(user, host) -> password`` when the server wants one and the site has none."""
AskPassphrase = Callable[[str, str], "str | None"]
"""``ask(key_file, problem) -> passphrase`` for an encrypted key file without a (right) saved
passphrase; ``problem`` is "" the first time, else why it is asked again."""
PASSPHRASE_TRIES = 3


class SftpStatusError(ProtocolError):
    """The server answered a request with an SFTP error status (``code``: FX_*)."""

    def __init__(self, message: str, *, code: int = 0, detail: str | None = None):
        super().__init__(message, detail=detail)
        self.code = code


@dataclass
class SftpSite:
    """Where and how to connect by SFTP. Secrets are held in memory only."""

    host: str
    port: int = 22
    user: str = ""
    password: str = field(default="", repr=False)
    key_file: str | None = None
    key_passphrase: str = field(default="", repr=False)
    auth: str = "auto"             # one of AUTH_MODES; "auto" tries agent, key, then password
    use_agent: bool = True         # in "auto": offer the ssh-agent's keys (SSH_AUTH_SOCK)
    agent_path: str | None = None  # default: $SSH_AUTH_SOCK
    encoding: str = "utf-8"        # of file names on the server
    timeout: float = DEFAULT_TIMEOUT
    initial_dir: str = ""
    keepalive_interval: float = 30.0
    protocol = "sftp"               # not a field: tells the tab and the queue which client to make

    def describe(self) -> str:
        return f"{self.host}:{self.port}"


def _status_message(exc: asyncssh.SFTPError, what: str = "") -> str:
    code = getattr(exc, "code", 0)
    text = str(getattr(exc, "reason", "") or "").strip()
    if code == asyncssh.FX_FAILURE and text.lower() in ("", "failure") and what.startswith("upload"):
        # SFTP v3 has no "disk full": OpenSSH answers a failed write (ENOSPC, EDQUOT, EIO) with Failure
        return "the server could not write the file (is its disk full or the quota used up?)"
    reasons = {asyncssh.FX_NO_SUCH_FILE: "no such file or folder",
               asyncssh.FX_PERMISSION_DENIED: "permission denied",
               asyncssh.FX_OP_UNSUPPORTED: "the server does not support this",
               asyncssh.FX_FILE_ALREADY_EXISTS: "it exists already",
               asyncssh.FX_NO_SPACE_ON_FILESYSTEM: "the server's disk is full",
               asyncssh.FX_QUOTA_EXCEEDED: "over quota on the server",
               asyncssh.FX_DIR_NOT_EMPTY: "the folder is not empty",
               asyncssh.FX_NOT_A_DIRECTORY: "not a folder"}
    reason = reasons.get(code)
    text = str(getattr(exc, "reason", "") or "").strip()
    if reason is None:
        reason = text or "the server refused"
    elif text and text.lower() != reason.lower() and code not in (asyncssh.FX_NO_SUCH_FILE,
                                                                  asyncssh.FX_PERMISSION_DENIED):
        reason = f"{reason} ({text})"
    return reason


def _is_connection_failure(exc: BaseException) -> bool:
    if isinstance(exc, (ConnectionRefusedError, NetError)) and not isinstance(exc, ConnectionLost):
        return False
    if isinstance(exc, (asyncssh.SFTPConnectionLost, asyncssh.SFTPNoConnection)):
        return True
    if isinstance(exc, asyncssh.SFTPError):
        return False
    if isinstance(exc, (asyncssh.PermissionDenied, asyncssh.HostKeyNotVerifiable)):
        return False
    return isinstance(exc, (asyncssh.DisconnectError, asyncssh.ChannelOpenError, ConnectionError,
                            EOFError, BrokenPipeError, ConnectionLost, asyncssh.ConnectionLost))


class _Ticker:
    def __init__(self, post, progress: Progress, total: int | None):
        self.post, self.progress, self.total, self.last = post, progress, total, 0.0

    def __call__(self, done: int, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self.last >= PROGRESS_INTERVAL:
            self.last = now
            self.post(self.progress, done, self.total)


class _Client(asyncssh.SSHClient):
    """asyncssh's callbacks: host-key check and authentication, answered through the owner."""

    def __init__(self, owner: "SftpClient", keys: list, password: str, kbd: bool):
        self.owner = owner
        self.keys = list(keys)
        self.password = password
        self.password_sent = False
        self.kbd = kbd
        self.kbd_password_sent = False
        self.kbd_rounds = 0
        self.may_ask_password = True
        self.asked_password = ""
        self.tried: list[str] = []
        self.host_key_error: HostKeyError | None = None
        self.conn = None

    def connection_made(self, conn) -> None:
        self.conn = conn

    def connection_lost(self, exc) -> None:
        self.owner._lost(self)

    def auth_banner_received(self, msg: str, lang: str) -> None:
        for line in msg.splitlines():
            self.owner._say("<", f"BANNER {line}")

    def validate_host_public_key(self, host, addr, port, key) -> bool:
        # Runs on the loop thread; a question goes to the caller's thread and is waited for.
        try:
            return self.owner._decide_host_key(key, addr)
        except HostKeyError as exc:
            self.host_key_error = exc
            return False

    def public_key_auth_requested(self):
        if not self.keys:
            return None
        pair, label = self.keys.pop(0)
        self.tried.append(f"key {label}")
        self.owner._say(">", f"AUTH publickey {label}")
        return pair

    async def password_auth_requested(self):
        if self.password_sent:
            return None
        if not self.password and self.owner.ask_password is not None and self.may_ask_password:
            site = self.owner.site
            answer = await self.owner._ask_async(self.owner.ask_password, site.user, site.host)
            if not answer:
                return None
            self.password = answer
            self.asked_password = answer
        if not self.password:
            return None
        self.password_sent = True
        self.tried.append("password")
        self.owner._say(">", "AUTH password ****")
        return self.password

    def kbdint_auth_requested(self):
        if not (self.kbd and self.kbd_rounds < KBD_TRIES) and not (self.password and not self.kbd_password_sent):
            return None
        self.owner._say(">", "AUTH keyboard-interactive")
        self.tried.append("keyboard-interactive")
        return ""

    async def kbdint_challenge_received(self, name, instructions, lang, prompts):
        if not prompts:
            return []
        self.owner._say("<", f"PROMPT {len(prompts)}: " + " | ".join(p for p, _ in prompts))
        if (len(prompts) == 1 and "password" in prompts[0][0].lower() and not prompts[0][1]
                and self.password and not self.kbd_password_sent):
            self.kbd_password_sent = True
            self.owner._say(">", "ANSWER ****")
            return [self.password]
        if not self.kbd or self.kbd_rounds >= KBD_TRIES:
            return None
        self.kbd_rounds += 1
        answers = await self.owner._ask_async(self.owner.ask_kbdint, name, instructions, list(prompts))
        if answers is None:
            return None
        self.owner._say(">", "ANSWER " + " | ".join("****" for _ in answers))
        return list(answers)

    def auth_completed(self) -> None:
        self.owner._say("*", f"Logged in with {self.tried[-1] if self.tried else 'none'}")


class _Shared:
    """The SSH connection and its loop thread, shared by an SftpClient and its siblings."""

    def __init__(self, name: str):
        self.name = name
        self.loop: asyncio.AbstractEventLoop | None = None
        self.thread: threading.Thread | None = None
        self.conn: asyncssh.SSHClientConnection | None = None
        self.owner: _Client | None = None
        self.welcome = ""
        self.connect_lock = threading.Lock()    # one login at a time for all siblings
        self.lock = threading.Lock()
        self.users: list["SftpClient"] = []
        self.interactive = False                # the login took keyboard-interactive answers

    def ensure_loop(self) -> asyncio.AbstractEventLoop:
        with self.lock:
            if self.loop is None or self.thread is None or not self.thread.is_alive():
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=loop.run_forever, name=f"sftp {self.name}", daemon=True)
                thread.start()
                self.loop, self.thread = loop, thread
            return self.loop

    def lost(self) -> None:
        """The connection is gone: every sibling's session with it."""
        conn, self.conn, self.owner = self.conn, None, None
        for user in list(self.users):
            user._sftp = None
        if conn is not None and self.loop is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(conn.abort)

    def release(self, user: "SftpClient", sftp) -> None:
        with self.lock:
            if user in self.users:
                self.users.remove(user)
            last = not self.users
            loop, thread, conn = self.loop, self.thread, self.conn
            if last:
                self.loop = self.thread = self.conn = self.owner = None
        if loop is None:
            return
        if not last:
            if sftp is not None:
                loop.call_soon_threadsafe(sftp.exit)
            return

        async def shut():
            if sftp is not None:
                sftp.exit()
            if conn is not None:
                conn.close()
                try:
                    await asyncio.wait_for(conn.wait_closed(), 3)
                except BaseException:
                    conn.abort()
        try:
            asyncio.run_coroutine_threadsafe(shut(), loop).result(5)
        except BaseException:
            pass
        loop.call_soon_threadsafe(loop.stop)
        if thread is not None and thread is not threading.current_thread():
            thread.join(5)
        if not loop.is_running():
            loop.close()


class SftpClient:
    """One SFTP session (an SSH channel); calls serialise (like ``FtpClient``).

    A client makes its own SSH connection; ``sibling()`` gives another client (another SFTP
    session, its own lock and folder) on the same connection, or on one of its own that logs in
    with what this one's login learnt; ``pool_factory`` picks for the transfer queue.

    ``known_hosts`` is shared by all clients of an app session (it remembers "this time"
    answers); ``ask_*`` callbacks run on the calling thread and may block (a dialog).
    """

    # Whole trees are walked, deleted, downloaded and uploaded with the methods both clients
    # have (listdir, delete_file, rmdir, download, upload, ensure_dir): FtpClient's code serves.
    walk = FtpClient.walk
    delete = FtpClient.delete
    download_tree = FtpClient.download_tree
    upload_tree = FtpClient.upload_tree

    def __init__(self, site: SftpSite, *, log: Log = no_log, token: CancelToken | None = None,
                 known_hosts: KnownHosts | None = None, ask_host_key: AskHostKey | None = None,
                 ask_kbdint: AskKbdInt | None = None, ask_password: AskPassword | None = None,
                 ask_passphrase: AskPassphrase | None = None, in_flight: int = MAX_IN_FLIGHT,
                 _shared: _Shared | None = None):
        if site.auth not in AUTH_MODES:
            raise ValueError(f"auth must be one of {AUTH_MODES}")
        self.site = site
        self._raw_log = log
        self._log = self._logger(log)
        self._token = token or CancelToken()
        self.known_hosts = known_hosts or KnownHosts(None)
        self.ask_host_key = ask_host_key
        self.ask_kbdint = ask_kbdint
        self.ask_password = ask_password
        self.ask_passphrase = ask_passphrase
        self.in_flight = in_flight
        self._lock = threading.RLock()
        self._shared = _shared or _Shared(site.describe())
        with self._shared.lock:
            self._shared.users.append(self)
        self._calls: queue.SimpleQueue | None = None
        self._sftp: asyncssh.SFTPClient | None = None
        self._cwd: str | None = None
        self._accepted_once: set[tuple[str, int, bytes]] = set()
        self.features: set[str] = set()
        self.last_activity = 0.0
        self._moved = False
        self._read_len = READ_LIMIT_FALLBACK
        self._write_len = READ_LIMIT_FALLBACK
        self._asking = 0             # callbacks waiting for the user right now
        self._asked_for = 0.0        # seconds spent in them (not part of the handshake budget)

    # plumbing ------------------------------------------------------------------------------
    def _logger(self, log: Log) -> Log:
        secrets = tuple(s for s in (self.site.password, self.site.key_passphrase) if s)

        def emit(direction: str, text: str) -> None:
            log(direction, redact(text, secrets))
        return emit

    @contextmanager
    def bound(self, token: CancelToken | None = None, log: Log | None = None) -> Iterator["SftpClient"]:
        with self._lock:
            old = (self._token, self._log)
            if token is not None:
                self._token = token
            old_raw = self._raw_log
            if log is not None:
                self._raw_log = log
                self._log = self._logger(log)
            try:
                yield self
            finally:
                self._token, self._log = old
                self._raw_log = old_raw

    @property
    def connected(self) -> bool:
        return self._sftp is not None

    @property
    def _session(self) -> asyncssh.SFTPClient:
        """The SFTP session, for requests; gone when a sibling found the connection dead
        while this call ran (then the call counts as cut off by a lost connection)."""
        sftp = self._sftp
        if sftp is None:
            raise asyncssh.SFTPNoConnection("the connection was closed")
        return sftp

    @property
    def cwd(self) -> str | None:
        return self._cwd

    def _where(self) -> str:
        return self.site.describe()

    @property
    def _loop(self) -> asyncio.AbstractEventLoop | None:
        return self._shared.loop

    @property
    def _conn(self):
        return self._shared.conn

    @property
    def welcome(self) -> str:
        return self._shared.welcome

    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        return self._shared.ensure_loop()

    def sibling(self, *, log: Log = no_log, same_connection: bool = True) -> "SftpClient":
        """Another client for the same site, host keys and questions: another SFTP session on
        this client's SSH connection, or (``same_connection=False``) a connection of its own."""
        return SftpClient(self.site, log=log, known_hosts=self.known_hosts, ask_host_key=self.ask_host_key,
                          ask_kbdint=self.ask_kbdint, ask_password=self.ask_password,
                          ask_passphrase=self.ask_passphrase, in_flight=self.in_flight,
                          _shared=self._shared if same_connection else None)

    def _post(self, fn: Callable, *args) -> None:
        """From the loop: run ``fn(*args)`` on the caller's thread (fire and forget)."""
        calls = self._calls
        if calls is not None:
            calls.put((fn, args, None))
        else:
            fn(*args)

    def _say(self, direction: str, text: str) -> None:
        self._post(self._emit, direction, text)

    def _emit(self, direction: str, text: str) -> None:
        self._log(direction, text)

    def _ask_blocking(self, fn: Callable, *args):
        """From the loop thread, synchronously: run ``fn`` on the caller's thread and wait."""
        calls = self._calls
        if calls is None:
            return fn(*args)
        box: dict[str, Any] = {}
        done = threading.Event()
        self._asking += 1
        t0 = time.monotonic()
        calls.put((fn, args, (box, done)))
        done.wait()
        self._asking -= 1
        self._asked_for += time.monotonic() - t0
        if "error" in box:
            raise box["error"]
        return box.get("value")

    async def _ask_async(self, fn: Callable, *args):
        """From a coroutine: run ``fn`` on the caller's thread without blocking the loop."""
        calls = self._calls
        if calls is None:
            return fn(*args)
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        box: dict[str, Any] = {}
        done = threading.Event()

        def finished():
            if not fut.done():
                fut.set_result(None)
        self._asking += 1
        t0 = time.monotonic()
        calls.put((fn, args, (box, done, lambda: loop.call_soon_threadsafe(finished))))
        try:
            await fut
        finally:
            self._asking -= 1
            self._asked_for += time.monotonic() - t0
        if "error" in box:
            raise box["error"]
        return box.get("value")

    def _call(self, make: Callable[[], Awaitable]):
        """Run a coroutine on the loop and wait, serving callbacks on this thread meanwhile."""
        loop = self._ensure_loop()
        calls: queue.SimpleQueue = queue.SimpleQueue()
        self._calls = calls
        holder: dict[str, Any] = {}
        started = threading.Event()

        async def runner():
            holder["task"] = asyncio.current_task()
            started.set()
            return await make()

        fut = asyncio.run_coroutine_threadsafe(runner(), loop)
        fut.add_done_callback(lambda f: calls.put(None))

        def cancel():
            started.wait(5)
            task = holder.get("task")
            if task is not None:
                loop.call_soon_threadsafe(task.cancel)
        unhook = self._token.add_hook(cancel)
        try:
            while True:
                item = calls.get()
                if item is None:
                    if fut.done():
                        break
                    continue
                fn, args, reply = item
                if reply is None:
                    try:
                        fn(*args)
                    except Exception:
                        pass
                    continue
                box, done = reply[0], reply[1]
                try:
                    box["value"] = fn(*args)
                except BaseException as exc:  # handed back to the loop
                    box["error"] = exc
                done.set()
                if len(reply) > 2:
                    reply[2]()
            # drain what the loop queued before finishing (transcript lines, last progress)
            while True:
                try:
                    item = calls.get_nowait()
                except queue.Empty:
                    break
                if item is not None and item[2] is None:
                    try:
                        item[0](*item[1])
                    except Exception:
                        pass
        finally:
            unhook()
            self._calls = None
        try:
            return fut.result()
        except (asyncio.CancelledError, _FuturesCancelled):
            raise Cancelled() from None

    def _lost(self, owner: _Client) -> None:
        if owner is self._shared.owner:
            self._shared.lost()

    # connecting -----------------------------------------------------------------------------
    def _decide_host_key(self, key: asyncssh.SSHKey, addr: str | None) -> bool:
        site = self.site
        ident = (site.host, site.port, key.public_data)
        verdict = self.known_hosts.check(site.host, site.port, key, addr)   # may raise Changed
        kind = key_type_name(key.get_algorithm())
        if verdict == KNOWN:
            self._say("*", f"Host key {kind} {fingerprint(key)} is known")
            return True
        if ident in self._accepted_once or self.known_hosts.accepted_once(site.host, site.port, key):
            self._say("*", f"Host key {kind} {fingerprint(key)} was accepted for this session")
            return True
        question = HostKeyQuestion(site.host, site.port, key.get_algorithm(), fingerprint(key))
        self._say("!", f"Unknown host key {kind} {fingerprint(key)} for {host_label(site.host, site.port)}")
        answer = self._ask_blocking(self.ask_host_key, question) if self.ask_host_key else None
        if answer == ALWAYS:
            path = self.known_hosts.remember(site.host, site.port, key)
            self._say("*", f"Host key saved to {path}")
            return True
        if answer == ONCE:
            self._accepted_once.add(ident)
            self.known_hosts.accept_once(site.host, site.port, key)
            self._say("*", "Host key accepted for this session")
            return True
        raise HostKeyUnknown(f"The host key of {host_label(site.host, site.port)} ({kind} {fingerprint(key)}) "
                             "is not known and was not accepted")

    async def _load_keys(self) -> list:
        """Key pairs to offer, with labels for the transcript: agent keys, then the key file."""
        site = self.site
        pairs: list = []
        if site.auth in ("auto", "agent") and (site.use_agent or site.auth == "agent"):
            path = site.agent_path or os.environ.get("SSH_AUTH_SOCK")
            if not path:
                if site.auth == "agent":
                    raise AuthError("No SSH agent is running (SSH_AUTH_SOCK is not set)")
            else:
                try:
                    agent = await asyncio.wait_for(asyncssh.connect_agent(path), self.site.timeout)
                    agent_keys = await asyncio.wait_for(agent.get_keys(), self.site.timeout)
                except (OSError, asyncssh.Error, asyncio.TimeoutError) as exc:
                    if site.auth == "agent":
                        raise AuthError(f"Cannot reach the SSH agent at {path}",
                                        detail=f"{type(exc).__name__}: {exc}") from None
                    self._say("*", f"No SSH agent at {path}; not using it")
                    agent_keys = []
                for pair in agent_keys:
                    label = f"agent {pair.get_comment() or ''} {_pair_fingerprint(pair)}".replace("  ", " ")
                    pairs.append((pair, label))
                if site.auth == "agent" and not pairs:
                    raise AuthError(f"The SSH agent at {path} holds no keys")
        if site.key_file and site.auth in ("auto", "key"):
            passphrase = site.key_passphrase
            for attempt in range(PASSPHRASE_TRIES):
                try:
                    loaded = _read_key_file(site.key_file, passphrase)
                    break
                except _NeedsPassphrase as exc:
                    if self.ask_passphrase is None or attempt == PASSPHRASE_TRIES - 1:
                        raise AuthError(str(exc)) from None
                    problem = "" if not passphrase else str(exc)
                    self._say("*", f"Passphrase needed for {site.key_file}")
                    passphrase = await self._ask_async(self.ask_passphrase, site.key_file, problem)
                    if not passphrase:
                        raise AuthError(f"The key file {site.key_file} is encrypted: "
                                        "enter its passphrase") from None
            if passphrase != site.key_passphrase:
                site.key_passphrase = passphrase    # memory only: the pool's other connections use it
                self._log = self._logger(self._raw_log)
            pairs += [(pair, f"{Path(site.key_file).name} {_pair_fingerprint(pair)}") for pair in loaded]
        elif site.auth == "key":
            raise AuthError("No private key file is set for this site")
        return pairs

    def _tcp(self):
        """The TCP connection, made on the calling thread (resolve, timeout, cancel, clear errors)."""
        return open_connection(self.site.host, self.site.port, timeout=self.site.timeout,
                               token=self._token, log=self._log)

    async def _open_connection(self, sock) -> None:
        """Key exchange, host key and login on ``sock``; the connection becomes the shared one."""
        site = self.site
        keys = await self._load_keys()
        password = site.password if site.auth in ("auto", "password", "keyboard-interactive") else ""
        kbd = self.ask_kbdint is not None and site.auth in ("auto", "keyboard-interactive")
        if site.auth == "keyboard-interactive":
            methods = "keyboard-interactive"
        elif site.auth == "password":
            methods = "keyboard-interactive,password"   # a password can answer a Password: prompt
        elif site.auth in ("key", "agent"):
            methods = "publickey"
        else:
            methods = "publickey,keyboard-interactive,password"
        owner = _Client(self, keys, password, kbd)
        preferred = self.known_hosts.preferred_algorithms(site.host, site.port)
        host_key_algs = preferred + [a for a in _default_host_key_algs() if a not in preferred]
        self._asked_for = 0.0
        task = asyncio.ensure_future(asyncssh.connect(
            site.host, site.port, tunnel=_GatheredSocket(sock) if GATHER_WRITES else None,
            sock=None if GATHER_WRITES else sock, username=site.user or None,
            client_factory=lambda: owner,
            known_hosts=lambda h, a, p: ([], [], []),   # every key goes through the owner
            server_host_key_algs=host_key_algs,
            client_keys=None, agent_path=None, password=None, passphrase=None,
            preferred_auth=methods, encryption_algs=_ciphers(),
            connect_timeout=None, login_timeout=None,
            keepalive_interval=site.keepalive_interval or None, keepalive_count_max=3,
            config=None, gss_host=None, x509_trusted_certs=None))
        budget = max(site.timeout, HANDSHAKE_BUDGET)
        started = time.monotonic()
        try:
            while not task.done():
                await asyncio.wait({task}, timeout=0.25)
                if not task.done() and not self._asking and \
                        time.monotonic() - started - self._asked_for > budget:
                    task.cancel()
                    raise NetTimeout(f"{self._where()} did not complete the SSH login in time")
            conn = task.result()
        except BaseException as exc:
            if not task.done():
                task.cancel()
            sock.close()
            if isinstance(exc, asyncssh.HostKeyNotVerifiable):
                raise owner.host_key_error or HostKeyUnknown(
                    f"The host key of {host_label(site.host, site.port)} was not accepted") from exc
            if isinstance(exc, asyncssh.PermissionDenied):
                tried = ", ".join(owner.tried) or "no method the server accepts"
                raise AuthError(f"{self._where()} refused the login as {site.user} (tried {tried})",
                                detail=str(exc)) from None
            raise
        if owner.asked_password:
            site.password = owner.asked_password    # memory only: reconnects and the pool reuse it
            self._log = self._logger(self._raw_log)
        self._shared.owner = owner
        self._shared.interactive = owner.kbd_rounds > 0
        self._shared.conn = conn
        self._shared.welcome = conn.get_extra_info("server_version") or ""
        self._say("<", self._shared.welcome)
        self._say("*", f"Cipher {conn.get_extra_info('send_cipher')}")

    async def _open_session(self) -> None:
        """This client's SFTP session on the shared connection, and its folder."""
        site = self.site
        conn = self._shared.conn
        if conn is None:
            raise ConnectionLost(f"Connection to {self._where()} was lost")
        try:
            sftp = await asyncio.wait_for(conn.start_sftp_client(path_encoding=None), site.timeout)
        except asyncssh.ChannelOpenError as exc:
            if exc.code == asyncssh.OPEN_CONNECT_FAILED or "subsystem" in str(exc.reason).lower():
                raise ProtocolError(f"{self._where()} does not offer SFTP: {exc.reason}") from None
            raise
        limits = sftp.limits
        self._read_len = min(limits.max_read_len, CHUNK_CAP) if limits.max_read_len > 16384 else READ_LIMIT_FALLBACK
        self._write_len = min(limits.max_write_len, CHUNK_CAP) if limits.max_write_len > 16384 else READ_LIMIT_FALLBACK
        self.features = {f"sftp{sftp.version}"}
        self._sftp = sftp
        self._say("*", f"SFTP version {sftp.version}; requests of {self._read_len // 1024} KiB")
        target = self._cwd or site.initial_dir or "."
        try:
            self._cwd = await self._realpath(target)
        except NetError:
            if self._cwd:
                raise
            self._cwd = await self._realpath(".")
        self._say("*", f"Logged in to {self._where()} as {site.user}; folder {self._cwd}")

    # helpers on the loop ----------------------------------------------------------------------
    def _b(self, path: str) -> bytes:
        return path.encode(self.site.encoding, "surrogateescape")

    def _s(self, raw: bytes) -> str:
        return raw.decode(self.site.encoding, "surrogateescape")

    def _abs(self, path: str | None) -> str:
        if not path:
            return self._cwd or "."
        if path.startswith("/"):
            return path
        return posixpath.join(self._cwd or ".", path)

    async def _req(self, what: str, aw: Awaitable):
        """One request with the site's timeout and errors mapped to the NetError family."""
        # asyncio.wait, not wait_for: Python 3.11's wait_for swallows a cancel that arrives just
        # as the request completes (bpo-42130), and pipelined requests complete all the time.
        fut = asyncio.ensure_future(aw)
        try:
            done, _ = await asyncio.wait({fut}, timeout=self.site.timeout)
        except asyncio.CancelledError:
            fut.cancel()
            raise
        if not done:
            fut.cancel()
            raise NetTimeout(f"{self._where()} did not answer in time ({what})")
        try:
            return fut.result()
        except asyncssh.SFTPError as exc:
            if isinstance(exc, (asyncssh.SFTPConnectionLost, asyncssh.SFTPNoConnection)):
                raise
            raise SftpStatusError(f"Cannot {what}: {_status_message(exc, what)}", code=exc.code,
                                  detail=f"{type(exc).__name__}: {exc.reason}") from None

    async def _realpath(self, path: str) -> str:
        self._say(">", f"REALPATH {path}")
        raw = await self._req(f"open folder {path}", self._session.realpath(self._b(path)))
        return self._s(raw)

    def _entry(self, name: str, attrs, target: str | None = None) -> RemoteEntry:
        mode = attrs.permissions
        if mode is not None and stat_mod.S_ISDIR(mode):
            kind = DIR
        elif mode is not None and stat_mod.S_ISLNK(mode):
            kind = LINK
        elif attrs.type == asyncssh.FILEXFER_TYPE_DIRECTORY:
            kind = DIR
        elif attrs.type == asyncssh.FILEXFER_TYPE_SYMLINK:
            kind = LINK
        else:
            kind = FILE
        perms = stat_mod.filemode(mode) if mode is not None else ""
        return RemoteEntry(name=name, kind=kind, size=attrs.size if kind != DIR else None,
                           modified=float(attrs.mtime) if attrs.mtime is not None else None,
                           perms=perms, target=target)

    # the operation frame ----------------------------------------------------------------------
    def _op(self, what: str, fn: Callable[[], Awaitable], *, retry: bool = True):
        """Run coroutine ``fn()`` connected; reconnect once if the connection was found dead."""
        with self._lock:
            self._token.check()
            with self._shared.lock:          # a closed client used again joins again
                if self not in self._shared.users:
                    self._shared.users.append(self)
            for attempt in (0, 1):
                fresh = self._sftp is None
                try:
                    if fresh and self._shared.conn is None:
                        with self._shared.connect_lock:       # siblings wait for one login
                            if self._shared.conn is None:
                                sock = self._tcp()
                                self._call(lambda: self._open_connection(sock))

                    async def body():
                        if self._sftp is None:
                            await self._open_session()
                        self._moved = False
                        return await fn()
                    result = self._call(body)
                    self.last_activity = time.monotonic()
                    return result
                except Cancelled:
                    raise
                except NetError as exc:
                    if isinstance(exc, (ConnectionLost, NetTimeout)):
                        self._drop()
                    raise
                except BaseException as exc:
                    if self._token.cancelled:
                        raise Cancelled() from exc
                    if not _is_connection_failure(exc):
                        raise self._translate(exc, what) from exc
                    self._drop()
                    if retry and attempt == 0 and not fresh and not self._moved:
                        self._log("*", f"Connection lost ({type(exc).__name__}); reconnecting")
                        continue
                    raise self._translate(exc, what) from exc

    def _translate(self, exc: BaseException, what: str) -> NetError:
        if isinstance(exc, NetError):
            return exc
        if _is_connection_failure(exc):
            return ConnectionLost(f"Connection to {self._where()} was lost while trying to {what}",
                                  detail=f"{type(exc).__name__}: {exc}")
        if isinstance(exc, asyncssh.KeyExchangeFailed):
            return ProtocolError(f"Cannot agree on encryption with {self._where()}: {exc.reason}")
        if isinstance(exc, asyncssh.Error):
            return ProtocolError(f"SSH error with {self._where()}: {exc.reason}",
                                 detail=f"{type(exc).__name__}: {exc}")
        if isinstance(exc, asyncio.TimeoutError):
            return NetTimeout(f"{self._where()} did not answer in time")
        return translate(exc, self.site.host, self.site.port)

    def _drop(self) -> None:
        """Give up the connection (every sibling's session with it): the next call reconnects."""
        self._sftp = None
        self._shared.lost()

    # public API ---------------------------------------------------------------------------
    def connect(self) -> str:
        """Connect and log in now (otherwise the first action does). Returns the folder."""
        async def nothing():
            return self._cwd
        return self._op("connect", nothing)

    def close(self) -> None:
        """End this session; the last client on a connection closes the connection."""
        with self._lock:
            sftp, self._sftp = self._sftp, None
        self._shared.release(self, sftp)

    def noop(self) -> None:
        async def ping():
            self._say(">", f"STAT {self._cwd or '.'}")
            await self._req("keep the connection alive", self._session.stat(self._b(self._cwd or ".")))
        self._op("keep the connection alive", ping)

    def keepalive(self, idle: float = 60.0, log: Log | None = None) -> bool:
        """Ping if connected, idle for ``idle`` seconds and not busy; True if a ping was sent."""
        if not self._lock.acquire(blocking=False):
            return False
        old = self._log
        try:
            if self._sftp is None or time.monotonic() - self.last_activity < idle:
                return False
            if log is not None:
                self._log = self._logger(log)
            try:
                self.noop()
            except NetError:
                self._drop()
            return True
        finally:
            self._log = old
            self._lock.release()

    def pwd(self) -> str:
        async def run():
            return self._cwd
        return self._op("read the current folder", run)

    def chdir(self, path: str) -> str:
        async def run():
            target = await self._realpath(self._abs(path))
            self._say(">", f"STAT {target}")
            attrs = await self._req(f"open folder {path}", self._session.stat(self._b(target)))
            if attrs.permissions is not None and not stat_mod.S_ISDIR(attrs.permissions):
                raise SftpStatusError(f"Cannot open folder {path}: not a folder", code=asyncssh.FX_NOT_A_DIRECTORY)
            self._cwd = target
            return target
        return self._op(f"open folder {path}", run)

    def listdir(self, path: str | None = None) -> list[RemoteEntry]:
        """The entries of ``path`` (default: the current folder), links with their targets."""
        async def run():
            target = self._abs(path)
            self._say(">", f"OPENDIR {target}")
            entries: list[RemoteEntry] = []
            refused: list[str] = []
            links: list[tuple[int, bytes]] = []
            handle_path = self._b(target)

            async def read_all() -> list:
                found = []
                async for item in self._session.scandir(handle_path):
                    found.append(item)
                    if len(found) > MAX_LISTING_ENTRIES:   # a hostile server can list without end
                        raise ProtocolError(f"The folder {target} has more than {MAX_LISTING_ENTRIES:,} "
                                            "entries; netgui stopped reading there")
                return found
            names = await self._req(f"list {target}", read_all())
            for item in names:
                raw = item.filename if isinstance(item.filename, bytes) else self._b(item.filename)
                if raw in (b".", b".."):
                    continue
                if not raw or b"/" in raw or b"\x00" in raw:
                    refused.append(repr(raw)[2:-1])
                    continue
                entry = self._entry(self._s(raw), item.attrs)
                if entry.kind == LINK:
                    links.append((len(entries), raw))
                entries.append(entry)
            self._say("<", f"READDIR {len(entries)} entries")
            for name in refused[:20]:
                self._say("!", f"Ignored a name no server may send: {name!r}")
            # link targets: a few hundred READLINKs pipelined; big folders of links show no target
            if 0 < len(links) <= 500:
                base = handle_path.rstrip(b"/") or b""
                self._say(">", f"READLINK x{len(links)}")
                results = await self._req(f"list {target}", asyncio.gather(
                    *(self._session.readlink(base + b"/" + raw) for _, raw in links), return_exceptions=True))
                for (index, _), result in zip(links, results):
                    if isinstance(result, bytes):
                        entries[index].target = display_name(self._s(result))
            return entries
        return self._op(f"list {path or 'the folder'}", run)

    def stat(self, path: str, *, follow: bool = True) -> RemoteEntry | None:
        """The entry for ``path`` (None if it does not exist)."""
        async def run():
            target = self._abs(path)
            self._say(">", f"{'STAT' if follow else 'LSTAT'} {target}")
            call = self._session.stat if follow else self._session.lstat
            try:
                attrs = await self._req(f"read {path}", call(self._b(target)))
            except SftpStatusError as exc:
                if exc.code in (asyncssh.FX_NO_SUCH_FILE, asyncssh.FX_NO_SUCH_PATH):
                    return None
                raise
            name = posixpath.basename(target.rstrip("/")) or "/"
            return self._entry(name, attrs)
        return self._op(f"read {path}", run)

    def size(self, path: str) -> int | None:
        entry = self.stat(path)
        return None if entry is None or entry.kind == DIR else entry.size

    def exists(self, path: str) -> RemoteEntry | None:
        return self.stat(path, follow=False)

    def _simple(self, what: str, verb: str, call: Callable[..., Awaitable], *paths: str):
        """One request on paths resolved against the current folder (once connected)."""
        async def run():
            targets = [self._abs(p) for p in paths]
            self._say(">", f"{verb} {' -> '.join(targets)}")
            return await self._req(what, call(*(self._b(t) for t in targets)))
        return self._op(what, run)

    def mkdir(self, path: str) -> str:
        self._simple(f"create folder {path}", "MKDIR", lambda p: self._session.mkdir(p), path)
        return self._abs(path)

    def rename(self, old: str, new: str) -> None:
        self._simple(f"rename {old}", "RENAME", lambda a, b: self._session.rename(a, b), old, new)

    def delete_file(self, path: str) -> None:
        self._simple(f"delete {path}", "REMOVE", lambda p: self._session.remove(p), path)

    def rmdir(self, path: str) -> None:
        self._simple(f"remove folder {path}", "RMDIR", lambda p: self._session.rmdir(p), path)

    def chmod(self, path: str, mode: int) -> None:
        self._simple(f"change the permissions of {path}", f"SETSTAT mode={mode:o}",
                     lambda p: self._session.chmod(p, mode), path)

    def read_text(self, path: str, limit: int = 1 << 20) -> tuple[str, bool]:
        """The start of a remote file as text (up to ``limit`` bytes): (text, truncated)."""
        async def run():
            target = self._abs(path)
            self._say(">", f"OPEN {target} (read)")
            f = await self._req(f"read {path}", self._session.open(self._b(target), "rb", block_size=0))
            try:
                data = await self._read_range(f, 0, limit + 1, f"read {path}", None)
            finally:
                await self._close_file(f)
            self._say("<", f"READ {len(data[:limit])} bytes")
            truncated = len(data) > limit
            raw = data[:limit]
            for enc in ("utf-8", self.site.encoding, "latin-1"):
                try:
                    return raw.decode(enc), truncated
                except (UnicodeDecodeError, LookupError):
                    continue
            return raw.decode("latin-1"), truncated
        return self._op(f"read {path}", run)

    async def _close_file(self, f) -> None:
        try:
            await asyncio.wait_for(f.close(), min(self.site.timeout, 5))
        except (asyncssh.SFTPError, asyncio.TimeoutError, OSError, asyncssh.Error):
            pass

    async def _read_range(self, f, offset: int, size: int, what: str, sink, *, probe: bool = False) -> bytes:
        """Pipelined reads of ``size`` bytes from ``offset`` (size < 0: to EOF). With
        ``sink(data)`` the data is handed over in order and not kept, else it is returned.
        ``probe``: after ``size`` bytes, read on to EOF if the file has grown."""
        block = self._read_len
        pending: collections.deque = collections.deque()
        next_off = offset
        end = offset + size if size >= 0 else None
        kept = bytearray()
        eof = False
        requests = 0
        grown_from: int | None = None

        def ask(off: int, length: int):
            nonlocal requests
            requests += 1
            return (off, length, asyncio.ensure_future(f.read(length, off)))
        try:
            while True:
                while not eof and len(pending) < self.in_flight and (end is None or next_off < end):
                    length = block if end is None else min(block, end - next_off)
                    pending.append(ask(next_off, length))
                    next_off += length
                if not pending:
                    if probe and end is not None and not eof:
                        probe = False       # one request past the expected end: has it grown?
                        grown_from = next_off
                        pending.append(ask(next_off, block))
                        next_off += block
                        end = next_off
                        continue
                    break
                off, length, task = pending.popleft()
                data = await self._req(what, task)
                if data:
                    if sink is None:
                        kept += data
                    else:
                        sink(data)
                    if grown_from is not None and off >= grown_from:
                        end = None          # it grew: read on to EOF
                    if len(data) < length:   # a short read: fetch the rest next, keep the pipeline
                        pending.appendleft(ask(off + len(data), length - len(data)))
                else:
                    eof = True
                    if end is None or off < end:
                        for _, _, t in pending:
                            t.cancel()
                        pending.clear()
        finally:
            for _, _, t in pending:
                t.cancel()
        self._requests = requests
        return bytes(kept)

    # transfers ------------------------------------------------------------------------------
    def download(self, remote: str, local, *, resume: bool = False,
                 progress: Progress = _no_progress, size: int | None = None) -> int:
        """Download ``remote`` to ``local`` via ``local.part``; returns bytes moved.

        With ``resume`` an existing ``.part`` (or a smaller ``local``) is continued at its size.
        """
        local = Path(local)
        part, offset = part_and_offset(local, resume)
        try:
            out = open(part, "r+b" if offset else "wb", buffering=0)
        except OSError as exc:
            raise _local_error(exc, part) from exc
        result: dict[str, int] = {}
        try:
            async def run():
                target = self._abs(remote)
                self._say(">", f"OPEN {target} (read)")
                f = await self._req(f"download {remote}", self._session.open(self._b(target), "rb", block_size=0))
                try:
                    attrs = await self._req(f"download {remote}", f.stat())
                    total = attrs.size
                    start = offset if total is None or offset <= total else 0
                    if start != offset or offset:
                        try:
                            out.seek(start)
                            out.truncate()
                        except OSError as exc:
                            raise _local_error(exc, part) from exc
                    done = start
                    ticker = _Ticker(self._post, progress, total)
                    ticker(done, force=True)
                    t0 = time.monotonic()

                    def sink(data: bytes) -> None:
                        nonlocal done
                        try:
                            out.write(data)
                        except OSError as exc:
                            raise _local_error(exc, part) from exc
                        self._moved = True
                        done += len(data)
                        ticker(done)
                    if start:
                        self._say("*", f"Resuming at byte {start}")
                    await self._read_range(f, start, total - start if total is not None else -1,
                                           f"download {remote}", sink, probe=True)
                    ticker(done, force=True)
                    self._say("<", f"READ {done - start} bytes in {self._requests} requests "
                                   f"({_rate(done - start, time.monotonic() - t0)})")
                finally:
                    await self._close_file(f)
                    self._say(">", f"CLOSE {target}")
                result["total"], result["done"], result["start"] = total, done, start
                return done
            self._op(f"download {remote}", run)
        finally:
            out.close()
        total, done = result["total"], result["done"]
        if total is not None and done < total:
            raise ConnectionLost(f"Download of {remote} ended early at {done} of {total} bytes; "
                                 "it can be resumed")
        try:
            os.replace(part, local)
        except OSError as exc:
            raise _local_error(exc, local) from exc
        return done - result["start"]

    def upload(self, local, remote: str, *, resume: bool = False,
               progress: Progress = _no_progress) -> int:
        """Upload the local file to ``remote``. With ``resume``, continue after the remote size."""
        local = Path(local)
        src, total, offset = open_upload(local, (lambda: self.size(remote)) if resume else None)
        try:
            if resume and offset == total and total:
                progress(total, total)
                return 0

            async def run():
                target = self._abs(remote)
                mode = "r+b" if offset else "wb"
                self._say(">", f"OPEN {target} ({'write at ' + str(offset) if offset else 'create/truncate'})")
                f = await self._req(f"upload {remote}", self._session.open(self._b(target), mode, block_size=0))
                done = offset
                ticker = _Ticker(self._post, progress, total)
                ticker(done, force=True)
                pending: collections.deque = collections.deque()
                requests = 0
                t0 = time.monotonic()
                try:
                    pos = offset
                    block = self._write_len
                    try:
                        src.seek(offset)
                    except OSError as exc:
                        raise _local_error(exc, local) from exc
                    while True:
                        while len(pending) < self.in_flight:
                            try:
                                data = src.read(block)
                            except OSError as exc:
                                raise _local_error(exc, local) from exc
                            if not data:
                                break
                            pending.append((len(data), asyncio.ensure_future(f.write(data, pos))))
                            pos += len(data)
                            requests += 1
                        if not pending:
                            break
                        n, task = pending.popleft()
                        await self._req(f"upload {remote}", task)
                        self._moved = True
                        done += n
                        ticker(done)
                    ticker(done, force=True)
                    self._say(">", f"WRITE {done - offset} bytes in {requests} requests "
                                   f"({_rate(done - offset, time.monotonic() - t0)})")
                finally:
                    for _, t in pending:
                        t.cancel()
                    await self._close_file(f)
                    self._say(">", f"CLOSE {target}")
                return done - offset
            return self._op(f"upload {remote}", run)
        finally:
            src.close()

    def ensure_dir(self, path: str) -> None:
        """Create ``path`` (and missing parents) unless it exists already."""
        async def run():
            target = self._abs(path)
            missing = []
            folder = target.rstrip("/") or "/"
            while folder not in ("/", ".", ""):
                try:
                    self._say(">", f"STAT {folder}")
                    await self._req(f"create folder {path}", self._session.stat(self._b(folder)))
                    break
                except SftpStatusError as exc:
                    if exc.code != asyncssh.FX_NO_SUCH_FILE:
                        raise
                    missing.append(folder)
                    folder = posixpath.dirname(folder)
            for folder in reversed(missing):
                self._say(">", f"MKDIR {folder}")
                await self._req(f"create folder {folder}", self._session.mkdir(self._b(folder)))
        self._op(f"create folder {path}", run)


# -- gathered writes ---------------------------------------------------------------------------
# asyncssh writes every SSH packet (at most 32 KiB towards OpenSSH's sftp channel, each preceded
# by an SSH_MSG_IGNORE) with its own send() call: some 70,000 system calls per GiB uploaded, a
# large part of the upload's CPU time. Handing asyncssh a transport that gathers what it writes
# during one pass of the event loop and sends it with one call cuts that to about one per pass
# (bench/sftp.py measures both). It is plain asyncio: a Protocol in front of asyncssh's and a
# Transport around asyncio's, given to asyncssh through its ``tunnel`` hook.

GATHER_WRITES = True


class _GatheringTransport(asyncio.Transport):
    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop):
        super().__init__()
        self._transport, self._loop = transport, loop
        self._pending: list[bytes] = []

    def write(self, data) -> None:
        if not self._pending:
            self._loop.call_soon(self._flush)
        self._pending.append(bytes(data))

    def _flush(self) -> None:
        pending, self._pending = self._pending, []
        if pending and not self._transport.is_closing():
            self._transport.write(pending[0] if len(pending) == 1 else b"".join(pending))

    def writelines(self, lines) -> None:
        for data in lines:
            self.write(data)

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def abort(self) -> None:
        self._pending = []
        self._transport.abort()

    def write_eof(self) -> None:
        self._flush()
        self._transport.write_eof()

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + sum(map(len, self._pending))

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def get_extra_info(self, name, default=None):
        return self._transport.get_extra_info(name, default)

    def can_write_eof(self) -> bool:
        return self._transport.can_write_eof()

    def pause_reading(self) -> None:
        self._transport.pause_reading()

    def resume_reading(self) -> None:
        self._transport.resume_reading()

    def set_write_buffer_limits(self, high=None, low=None) -> None:
        self._transport.set_write_buffer_limits(high, low)


class _GatheringProtocol(asyncio.Protocol):
    """Passes everything to asyncssh's protocol, which sees a gathering transport."""

    def __init__(self, inner: asyncio.Protocol):
        self.inner = inner

    def connection_made(self, transport) -> None:
        self.inner.connection_made(_GatheringTransport(transport, asyncio.get_running_loop()))

    def data_received(self, data: bytes) -> None:
        self.inner.data_received(data)

    def eof_received(self):
        return self.inner.eof_received()

    def connection_lost(self, exc) -> None:
        self.inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()


class _GatheredSocket:
    """An asyncssh ``tunnel``: the already connected ``sock``, written through gathering."""

    def __init__(self, sock):
        self.sock = sock

    async def create_connection(self, session_factory, host, port):
        made = []

        def protocol():
            made.append(session_factory())
            return _GatheringProtocol(made[0])
        transport, _ = await asyncio.get_running_loop().create_connection(protocol, sock=self.sock)
        return transport, made[0]


# -- small helpers ----------------------------------------------------------------------------

try:
    from concurrent.futures import CancelledError as _FuturesCancelled
except ImportError:  # pragma: no cover
    _FuturesCancelled = asyncio.CancelledError


def _rate(n: int, seconds: float) -> str:
    if seconds <= 0:
        return "instant"
    return f"{n / seconds / 1e6:.1f} MB/s"


def _pair_fingerprint(pair) -> str:
    from asyncssh.public_key import decode_ssh_public_key
    try:
        key = decode_ssh_public_key(pair.public_data)
        return f"{key_type_name(key.get_algorithm())} {key.get_fingerprint('sha256')}"
    except Exception:
        return ""


class _NeedsPassphrase(AuthError):
    """No passphrase, or a wrong one: asking (again) may help."""


def _read_key_file(path: str, passphrase: str) -> list:
    try:
        return asyncssh.load_keypairs([path], passphrase or None)
    except asyncssh.KeyEncryptionError as exc:
        if "passphrase" in str(exc).lower():
            raise _NeedsPassphrase(f"Wrong passphrase for the key file {path}") from None
        raise AuthError(f"Cannot decrypt the key file {path}: {exc}") from None
    except asyncssh.KeyImportError as exc:
        text = str(exc)
        if "passphrase" in text.lower():
            raise _NeedsPassphrase(f"The key file {path} is encrypted: enter its passphrase") from None
        raise AuthError(f"Cannot read the key file {path}: {text}") from None
    except OSError as exc:
        raise LocalFileError(f"Cannot read the key file {path}: {exc.strerror or exc}") from None


def _default_host_key_algs() -> list[str]:
    from asyncssh.public_key import get_default_public_key_algs
    return [a.decode() for a in get_default_public_key_algs()]


def _ciphers() -> list[str]:
    from asyncssh.encryption import get_encryption_algs
    available = {a.decode() for a in get_encryption_algs()}
    return [c for c in CIPHERS if c in available]


def pool_factory(root: "SftpClient"):
    """A ``ClientPool`` factory for the transfers beside ``root`` (the tab's browsing client).

    Each transfer client gets an SSH connection of its own and logs in with what ``root``'s
    login learnt (the site's password and passphrase in memory, a host key accepted for the
    session): that measured faster than SFTP sessions sharing one connection, whose single
    event-loop thread then does every transfer's work (bench/sftp_parallel.py). Only when
    ``root``'s login took keyboard-interactive answers from the user (a one-time code is good
    once) are the transfers more SFTP sessions on ``root``'s connection instead.
    """
    def make(site, log: Log = no_log) -> SftpClient:
        return root.sibling(log=log, same_connection=root._shared.interactive)
    return make


__all__ = ["SftpClient", "SftpSite", "SftpStatusError", "AUTH_MODES", "pool_factory"]
