"""POP3 client core on poplib: UIDL, TOP headers, RETR, DELE.

One ``Pop3Client`` is one connection (a POP3 session locks the mailbox, so it is
opened per job and closed with QUIT, which is when DELE takes effect). Every
call blocks with a timeout, reports the transcript through ``log`` (PASS
masked), honours a CancelToken and raises the NetError family.
"""

from __future__ import annotations

import base64
import poplib

from netgui.net.errors import (AuthError, Cancelled, ConnectionLost, NetError, ProtocolError,
                               TokenRejected)
from netgui.net.redact import redact

from . import sasl
from .connection import MailConnection, MailWire

DEFAULT_PORTS = {"tls": 995, "starttls": 110, "none": 110}


class _Wire(MailWire, poplib.POP3):
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
            raise self._failed(exc) from exc

    wrapper.__name__ = method.__name__
    wrapper.__doc__ = method.__doc__
    return wrapper


def _text(exc) -> str:
    arg = exc.args[0] if exc.args else exc
    if isinstance(arg, bytes):
        arg = arg.decode("utf-8", "replace")
    return str(arg)[:200]


class Pop3Client(MailConnection):
    """One POP3 session: ``connect()``, ``login()``, then uidl/top/retr/dele, then ``close()``."""

    DEFAULT_PORTS = DEFAULT_PORTS
    wire_class = _Wire
    _wire: _Wire | None

    @_guard
    def connect(self) -> None:
        ctx = self._open()
        if self.security == "starttls":
            try:
                self._wire.stls(ctx)
            except poplib.error_proto as exc:
                raise ProtocolError(f"{self.where} does not offer STLS: {_text(exc)}") from exc
            self.log("*", f"TLS {self._wire.sock.version()} after STLS")

    @_guard
    def login(self, user: str, password: str) -> None:
        """USER/PASS; a refusal raises AuthError."""
        if password:
            self._secrets.append(password)
        try:
            self._wire.user(user)
            self._wire.pass_(password)
        except poplib.error_proto as exc:
            raise AuthError(f"{self.where} refused the user name or password ({_text(exc)})",
                            detail=_text(exc)) from exc

    @_guard
    def authenticate_oauth(self, user: str, access_token: str, mechanism: str | None = None) -> str:
        """AUTH (RFC 5034) with an OAuth2 access token: OAUTHBEARER or XOAUTH2 as CAPA's SASL
        line offers (``mechanism`` forces one). Returns the mechanism used; a refused token
        raises TokenRejected."""
        if self.security == "none":
            raise ProtocolError(f"netgui sends sign-in tokens only over TLS; {self.where} is "
                                "not encrypted")
        pop = self._wire
        try:
            offered = pop.capa().get("SASL", [])
        except poplib.error_proto:
            offered = []
        chosen = sasl.choose(offered, mechanism)
        if chosen is None:
            raise ProtocolError(f"{self.where} does not offer OAuth2 sign-in "
                                f"(it offers {' '.join(offered) or 'no SASL mechanism'})")
        encoded = base64.b64encode(
            sasl.initial_response(chosen, user, access_token, self.host, self.port)).decode()
        self._secrets.extend([access_token, encoded])
        # RFC 5034 4: an initial response that makes the line longer than 255 octets is
        # sent after an empty challenge instead (real tokens are often 1-2 KB)
        if len(f"AUTH {chosen} {encoded}") <= 253:
            pop._putcmd(f"AUTH {chosen} {encoded}")
        else:
            pop._putcmd(f"AUTH {chosen}")
            line, _ = pop._getline()
            if not line.startswith(b"+ ") and line != b"+":
                raise ProtocolError(f"{self.where} refused AUTH {chosen}: {_text(line)}")
            pop._putcmd(encoded)
        line, _ = pop._getline()
        why = ""
        if line.startswith(b"+ ") or line == b"+":  # a JSON error challenge: end the exchange
            why = sasl.describe_failure(line[2:].strip())
            pop._putcmd(base64.b64encode(sasl.ABORT_REPLY[chosen]).decode())
            line, _ = pop._getline()
        if not line.startswith(b"+OK"):
            raise TokenRejected(f"{self.where} refused the sign-in for {user}"
                                + (f": {why}" if why else f" ({_text(line)})"), detail=_text(line))
        self.log("*", f"Signed in as {user} with {chosen}")
        return chosen

    @_guard
    def uidl(self) -> dict[str, int]:
        """{unique id: message number} for every message."""
        resp, lines, _ = self._wire.uidl()
        out = {}
        for line in lines:
            parts = line.decode("ascii", "replace").split()
            if len(parts) >= 2 and parts[0].isdigit():
                out[parts[1]] = int(parts[0])
        return out

    @_guard
    def sizes(self) -> dict[int, int]:
        """{message number: size in octets} (LIST)."""
        resp, lines, _ = self._wire.list()
        out = {}
        for line in lines:
            parts = line.split()
            if len(parts) >= 2 and parts[0].isdigit() and parts[1].isdigit():
                out[int(parts[0])] = int(parts[1])
        return out

    @_guard
    def top(self, number: int, lines: int = 0) -> bytes:
        """The headers (and the first ``lines`` body lines) of message ``number``."""
        resp, data, _ = self._wire.top(number, lines)
        return b"\r\n".join(data) + b"\r\n"

    @_guard
    def retr(self, number: int) -> bytes:
        """The whole message ``number``."""
        resp, data, _ = self._wire.retr(number)
        return b"\r\n".join(data) + b"\r\n"

    @_guard
    def dele(self, number: int) -> None:
        """Mark message ``number`` deleted (it goes when the session ends with QUIT)."""
        self._wire.dele(number)

    @_guard
    def quit(self) -> None:
        """QUIT: the server now removes messages marked with DELE. Raises if it refuses."""
        pop = self._detach()
        if pop is not None:
            pop.quit()

    def _goodbye(self, pop: _Wire) -> None:
        pop.quit()  # which commits deletions

    def _hang_up(self, pop: _Wire) -> None:
        pop.close()
