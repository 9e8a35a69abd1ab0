"""POP3 client core on poplib: UIDL, TOP headers, RETR, DELE.

One ``Pop3Client`` is one connection (a POP3 session locks the mailbox, so it is
opened per job and closed with QUIT, which is when DELE takes effect). Every
call blocks with a timeout, reports the transcript through ``log`` (PASS
masked), honours a CancelToken and raises the NetError family.
"""

from __future__ import annotations

import poplib
import socket

from .cancel import CancelToken, shutdown_quietly
from .connection import DEFAULT_TIMEOUT, Log, no_log, open_connection, tls_context
from .errors import AuthError, Cancelled, ConnectionLost, NetError, ProtocolError, translate
from .redact import redact

DEFAULT_PORTS = {"tls": 995, "starttls": 110, "none": 110}


class _Wire(poplib.POP3):
    def __init__(self, host, port, timeout, tls_ctx, token, log, secrets):
        self._tls_ctx = tls_ctx
        self._token = token
        self._log_cb = log
        self._secrets = secrets
        self.quiet = False
        super().__init__(host, port, timeout)

    def _create_socket(self, timeout):
        sock = open_connection(self.host, self.port, timeout=timeout or DEFAULT_TIMEOUT,
                               token=self._token, tls=self._tls_ctx, log=self._log_cb)
        # Cancelling must also wake the wait for the greeting, read inside __init__
        self.unwatch_greeting = self._token.add_hook(lambda: shutdown_quietly(sock))
        return sock

    def _putline(self, line):
        self._log_cb(">", redact(line.decode("utf-8", "replace"), self._secrets))
        super()._putline(line)

    def _getline(self):
        line, octets = super()._getline()
        if not self.quiet:
            self._log_cb("<", redact(line.decode("utf-8", "replace")[:300], self._secrets))
        return line, octets

    def _getlongresp(self):
        # Log the status line only; message lines would flood the transcript
        self.quiet = False
        resp = self._getresp()
        lines, octets = [], 0
        self.quiet = True
        try:
            line, o = self._getline()
            while line != b".":
                if line.startswith(b".."):
                    o -= 1
                    line = line[1:]
                octets += o
                lines.append(line)
                line, o = self._getline()
        finally:
            self.quiet = False
        self._log_cb("<", f"({len(lines)} lines, {octets} bytes)")
        return resp, lines, octets


def _guard(method):
    def wrapper(self, *args, **kwargs):
        self.token.check()
        try:
            return method(self, *args, **kwargs)
        except NetError:
            raise
        except poplib.error_proto as exc:
            if self.token.cancelled:
                raise Cancelled() from exc
            text = _text(exc)
            if "EOF" in text or "line too long" in text:
                self._broken = True
                raise ConnectionLost(f"Connection to {self.where} was lost", detail=text) from exc
            raise ProtocolError(f"{self.where} refused: {text}", detail=text) from exc
        except (OSError, EOFError) as exc:
            self._broken = True
            if self.token.cancelled:
                raise Cancelled() from exc
            err = translate(exc, self.host, self.port)
            if err.detail:
                self.log("!", err.detail)
            raise err from exc

    wrapper.__name__ = method.__name__
    wrapper.__doc__ = method.__doc__
    return wrapper


def _text(exc) -> str:
    arg = exc.args[0] if exc.args else exc
    if isinstance(arg, bytes):
        arg = arg.decode("utf-8", "replace")
    return str(arg)[:200]


class Pop3Client:
    """One POP3 session: ``connect()``, ``login()``, then uidl/top/retr/dele, then ``close()``."""

    def __init__(self, host: str, port: int | None = None, security: str = "tls", *,
                 timeout: float = DEFAULT_TIMEOUT, token: CancelToken | None = None,
                 log: Log = no_log, verify: bool = True, cafile: str | None = None):
        if security not in DEFAULT_PORTS:
            raise ValueError(f"unknown security {security!r}")
        self.host = host
        self.port = int(port or DEFAULT_PORTS[security])
        self.security = security
        self.timeout = timeout
        self.token = token or CancelToken()
        self.log = log
        self.verify = verify
        self.cafile = cafile
        self.where = f"{host}:{self.port}"
        self._secrets: list[str] = []
        self._pop: _Wire | None = None
        self._unwatch = None
        self._broken = False

    @classmethod
    def from_account(cls, account: dict, password: str | None, *, token=None, log=no_log,
                     cafile=None, timeout=DEFAULT_TIMEOUT) -> "Pop3Client":
        """Connect and log in with a mail account profile."""
        client = cls(account["incoming_host"], account.get("incoming_port"),
                     account.get("incoming_security", "tls"), timeout=timeout, token=token, log=log,
                     verify=account.get("verify_tls", True), cafile=cafile)
        client.connect()
        try:
            client.login(account.get("incoming_user") or account.get("email", ""), password or "")
        except BaseException:
            client.close()
            raise
        return client

    def _abort(self):
        pop = self._pop
        if pop is not None:
            self._broken = True
            try:
                pop.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    @_guard
    def connect(self) -> None:
        ctx = tls_context(self.verify, self.cafile) if self.security != "none" else None
        if not self.verify and ctx is not None:
            self.log("!", "Certificate checks are turned off for this account")
        self._pop = _Wire(self.host, self.port, self.timeout,
                          ctx if self.security == "tls" else None, self.token, self.log, self._secrets)
        self._pop.unwatch_greeting()
        self._unwatch = self.token.add_hook(self._abort)
        if self.security == "starttls":
            try:
                self._pop.stls(ctx)
            except poplib.error_proto as exc:
                raise ProtocolError(f"{self.where} does not offer STLS: {_text(exc)}") from exc
            self.log("*", f"TLS {self._pop.sock.version()} after STLS")

    @_guard
    def login(self, user: str, password: str) -> None:
        """USER/PASS; a refusal raises AuthError."""
        if password:
            self._secrets.append(password)
        try:
            self._pop.user(user)
            self._pop.pass_(password)
        except poplib.error_proto as exc:
            raise AuthError(f"{self.where} refused the user name or password ({_text(exc)})",
                            detail=_text(exc)) from exc

    @_guard
    def uidl(self) -> dict[str, int]:
        """{unique id: message number} for every message."""
        resp, lines, _ = self._pop.uidl()
        out = {}
        for line in lines:
            parts = line.decode("ascii", "replace").split()
            if len(parts) >= 2 and parts[0].isdigit():
                out[parts[1]] = int(parts[0])
        return out

    @_guard
    def sizes(self) -> dict[int, int]:
        """{message number: size in octets} (LIST)."""
        resp, lines, _ = self._pop.list()
        out = {}
        for line in lines:
            parts = line.split()
            if len(parts) >= 2 and parts[0].isdigit() and parts[1].isdigit():
                out[int(parts[0])] = int(parts[1])
        return out

    @_guard
    def top(self, number: int, lines: int = 0) -> bytes:
        """The headers (and the first ``lines`` body lines) of message ``number``."""
        resp, data, _ = self._pop.top(number, lines)
        return b"\r\n".join(data) + b"\r\n"

    @_guard
    def retr(self, number: int) -> bytes:
        """The whole message ``number``."""
        resp, data, _ = self._pop.retr(number)
        return b"\r\n".join(data) + b"\r\n"

    @_guard
    def dele(self, number: int) -> None:
        """Mark message ``number`` deleted (it goes when the session ends with QUIT)."""
        self._pop.dele(number)

    @_guard
    def quit(self) -> None:
        """QUIT: the server now removes messages marked with DELE. Raises if it refuses."""
        pop = self._pop
        self._pop = None
        if self._unwatch:
            self._unwatch()
            self._unwatch = None
        if pop is not None:
            pop.quit()

    def close(self) -> None:
        """QUIT (which commits deletions) and close, ignoring errors."""
        pop, self._pop = self._pop, None
        if self._unwatch:
            self._unwatch()
            self._unwatch = None
        if pop is None:
            return
        try:
            if not self._broken and not self.token.cancelled:
                pop.quit()
            else:
                pop.close()
        except Exception:
            try:
                pop.close()
            except Exception:
                pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
