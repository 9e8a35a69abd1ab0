"""Sending mail over SMTP: implicit TLS, STARTTLS or plain, with AUTH when configured.

Built on ``smtplib``. The connection is opened with ``netgui.net.connection``
(timeouts, cancellation, clear errors); every command sent and every reply
received goes to the ``log`` callback, with AUTH lines and the answers to AUTH
challenges masked. The message body is sent in chunks so a large message
reports progress and can be cancelled.
"""

from __future__ import annotations

import re
import smtplib
import socket
import ssl
from dataclasses import dataclass, field
from typing import Callable, Iterable

from netgui.net.cancel import CancelToken, shutdown_quietly
from netgui.net.connection import DEFAULT_TIMEOUT, Log, no_log, open_connection, tls_context
from netgui.net.errors import (
    AuthError,
    Cancelled,
    ConnectionLost,
    NetError,
    ProtocolError,
    TLSError,
    TokenRejected,
    translate,
)
from netgui.net.redact import MASK, redact

from . import sasl

SECURITY_MODES = ("tls", "starttls", "none")
DEFAULT_PORTS = {"tls": 465, "starttls": 587, "none": 25}
CHUNK = 64 * 1024
_DOT = re.compile(rb"^\.", re.M)
AUTH_PREFERENCE = ("PLAIN", "LOGIN", "CRAM-MD5")

Progress = Callable[[int, int], None]


@dataclass
class SendResult:
    """What the server said when it accepted a message."""

    code: int
    reply: str
    recipients: list[str] = field(default_factory=list)
    size: int = 0


def _text(reply: bytes | str) -> str:
    if isinstance(reply, bytes):
        return reply.decode("utf-8", "replace")
    return str(reply)


def _one_line(reply: bytes | str) -> str:
    return " ".join(_text(reply).split())


class _WiredSMTP(smtplib.SMTP):
    """smtplib.SMTP that connects through netgui, logs a redacted transcript and
    sends the DATA payload in cancellable chunks with progress."""

    def __init__(self, session: "SmtpSession"):
        self._session = session
        self._in_auth = False
        super().__init__(host="", timeout=session.timeout, local_hostname=session.local_hostname)

    def _get_socket(self, host, port, timeout):
        s = self._session
        ctx = s.context if s.security == "tls" else None
        return open_connection(host, port, timeout=timeout, token=s.token, tls=ctx, log=s.log)

    def putcmd(self, cmd, args=""):
        line = f"{cmd} {args}" if args else cmd
        if cmd.upper() == "AUTH":
            self._in_auth = True
            self._session.log(">", redact(line, self._session.secrets))
        elif self._in_auth:
            self._session.log(">", MASK)  # an answer to an AUTH challenge (base64 credentials)
        else:
            self._session.log(">", redact(line, self._session.secrets))
        super().putcmd(cmd, args)

    def data(self, msg: bytes):
        """DATA with the body sent in slices: dot-stuffed, cancellable, with progress."""
        self.putcmd("data")
        code, reply = self.getreply()
        if code != 354:
            raise smtplib.SMTPDataError(code, reply)
        self._send_body(bytes(msg))
        return self.getreply()

    def _send_body(self, data: bytes) -> None:
        s = self._session
        total = len(data)
        s.log("*", f"Sending message body ({total} bytes)")
        start = 0
        try:
            while start < total:
                s.token.check()
                cut = data.find(b"\n", start + CHUNK)  # slices start at a line start
                end = total if cut < 0 else cut + 1
                # dot-stuffing (RFC 5321 4.5.2) per slice: short calls, the window stays live
                self.sock.sendall(_DOT.sub(b"..", data[start:end]))
                start = end
                s.progress(start, total)
            self.sock.sendall((b"" if data.endswith(b"\r\n") else b"\r\n") + b".\r\n")
        except OSError:
            self.close()
            raise

    def getreply(self):
        code, msg = super().getreply()
        lines = _text(msg).split("\n") if msg else [""]
        for i, line in enumerate(lines):
            sep = "-" if i < len(lines) - 1 else " "
            text = f"{code}{sep}{line}".rstrip()
            self._session.log("<", redact(text, self._session.secrets))
        if code != 334:
            self._in_auth = False
        return code, msg


class SmtpSession:
    """One SMTP connection. Use as a context manager, or call ``connect`` and ``close``.

    ``security``: "tls" (implicit TLS, port 465), "starttls" (upgrade, port 587),
    or "none". ``user``/``password``: AUTH is done when ``user`` is given.
    """

    def __init__(self, host: str, port: int | None = None, *, security: str = "starttls",
                 user: str | None = None, password: str | None = None, verify: bool = True,
                 cafile: str | None = None, context: ssl.SSLContext | None = None,
                 timeout: float = DEFAULT_TIMEOUT, token: CancelToken | None = None,
                 log: Log = no_log, progress: Progress | None = None,
                 local_hostname: str | None = None, access_token: str | None = None,
                 oauth_mechanism: str | None = None):
        if security not in SECURITY_MODES:
            raise ValueError(f"security must be one of {SECURITY_MODES}")
        self.host = host
        self.port = int(port or DEFAULT_PORTS[security])
        self.security = security
        self.user = user or None
        self.password = password or ""
        self._context = context
        self._verify, self._cafile = verify, cafile
        self.timeout = timeout
        self.token = token or CancelToken()
        self.log = log
        self.progress = progress or (lambda done, total: None)
        self.local_hostname = local_hostname or _local_name()
        self.access_token = access_token or None  # OAuth2: AUTH OAUTHBEARER/XOAUTH2 with it
        self.oauth_mechanism = oauth_mechanism
        self.secrets = tuple(x for x in (self.password, self.access_token) if x)
        self._smtp: _WiredSMTP | None = None
        self._remove_hook = lambda: None
        self.features: dict[str, str] = {}

    @property
    def context(self) -> ssl.SSLContext:
        """The TLS context (made on first use: loading the CA store takes a while)."""
        if self._context is None:
            self._context = tls_context(verify=self._verify, cafile=self._cafile)
            if not self._verify:
                self.log("!", "Certificate checks are turned off for this account")
        return self._context

    # -- connection -------------------------------------------------------
    def connect(self) -> "SmtpSession":
        """Connect, greet, upgrade to TLS and authenticate as configured."""
        smtp = _WiredSMTP(self)
        self._smtp = smtp
        # cancel shuts down whatever socket the session holds at that moment (TLS replaces it)
        self._remove_hook = self.token.add_hook(
            lambda: smtp.sock is not None and shutdown_quietly(smtp.sock))
        try:
            code, msg = smtp.connect(self.host, self.port)
            if code != 220:
                raise ProtocolError(f"{self._where()} refused the connection: {code} {_one_line(msg)}")
            self._ehlo()
            if self.security == "starttls":
                if not smtp.has_extn("starttls"):
                    raise TLSError(f"{self._where()} does not offer STARTTLS; choose another "
                                   "security mode or port")
                code, msg = smtp.docmd("STARTTLS")
                if code != 220:
                    raise TLSError(f"{self._where()} refused STARTTLS: {code} {_one_line(msg)}")
                smtp.sock = self.context.wrap_socket(smtp.sock, server_hostname=self.host)
                smtp.file = None
                self.log("*", f"TLS {smtp.sock.version()} with {smtp.sock.cipher()[0]}")
                smtp.helo_resp = smtp.ehlo_resp = None
                smtp.esmtp_features = {}
                smtp.does_esmtp = False
                self._ehlo()
            if self.user:
                self._login()
            return self
        except BaseException as exc:
            err = self._failure(exc)
            self.close(quit=False)
            if err is exc:
                raise
            raise err from exc

    def _ehlo(self) -> None:
        smtp = self._smtp
        code, msg = smtp.ehlo()
        if not 200 <= code <= 299:
            code, msg = smtp.helo()
            if not 200 <= code <= 299:
                raise ProtocolError(f"{self._where()} refused the greeting: {code} {_one_line(msg)}")
        self.features = dict(smtp.esmtp_features)

    def _login(self) -> None:
        smtp = self._smtp
        if not smtp.has_extn("auth"):
            hint = " before STARTTLS" if self.security == "none" else ""
            raise ProtocolError(f"{self._where()} does not offer authentication{hint}; "
                                "turn off SMTP authentication or use TLS")
        offered = smtp.esmtp_features.get("auth", "").upper().split()
        if self.access_token:
            return self._login_oauth(offered)
        # in the clear, prefer the mechanism that does not send the password itself
        preference = (("CRAM-MD5",) + AUTH_PREFERENCE) if self.security == "none" else AUTH_PREFERENCE
        mechanism = next((m for m in preference if m in offered), None)
        if mechanism is None:
            raise ProtocolError(f"{self._where()} offers no authentication method netgui knows "
                                f"({' '.join(offered)})")
        # one attempt only: trying every mechanism with a wrong password can lock the account
        smtp.user, smtp.password = self.user, self.password
        authobject = getattr(smtp, "auth_" + mechanism.lower().replace("-", "_"))
        try:
            smtp.auth(mechanism, authobject)
        except smtplib.SMTPAuthenticationError as exc:
            raise AuthError(f"{self._where()} refused the user name or password "
                            f"({exc.smtp_code} {_one_line(exc.smtp_error)})") from exc
        self.log("*", f"Authenticated as {self.user}")

    def _login_oauth(self, offered: list[str]) -> None:
        if self.security == "none":
            raise ProtocolError(f"netgui sends sign-in tokens only over TLS; {self._where()} is "
                                "not encrypted")
        mechanism = sasl.choose(offered, self.oauth_mechanism)
        if mechanism is None:
            raise ProtocolError(f"{self._where()} does not offer OAuth2 sign-in "
                                f"(it offers {' '.join(offered)})")
        response = sasl.initial_response(mechanism, self.user, self.access_token, self.host,
                                         self.port)
        challenges = []

        def step(challenge=None):
            if challenge is None:  # the initial response, on the AUTH line
                return response.decode()
            challenges.append(challenge)  # the server's JSON error: end the exchange
            return sasl.ABORT_REPLY[mechanism].decode()

        try:
            self._smtp.auth(mechanism, step)
        except smtplib.SMTPAuthenticationError as exc:
            why = sasl.describe_failure(challenges[-1] if challenges else None)
            raise TokenRejected(f"{self._where()} refused the sign-in for {self.user}"
                                + (f": {why}" if why else f" ({exc.smtp_code} "
                                   f"{_one_line(exc.smtp_error)})")) from exc
        self.log("*", f"Signed in as {self.user} with {mechanism}")

    def close(self, quit: bool = True) -> None:
        """Say QUIT (if connected) and close the socket."""
        smtp, self._smtp = self._smtp, None
        self._remove_hook()
        if smtp is None:
            return
        if quit and smtp.sock is not None and not self.token.cancelled:
            try:
                smtp.docmd("QUIT")
            except (OSError, smtplib.SMTPException, NetError):
                pass
        smtp.close()

    def __enter__(self) -> "SmtpSession":
        return self.connect()

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close(quit=exc_type is None)

    # -- sending ----------------------------------------------------------
    def send(self, data: bytes, sender: str, recipients: Iterable[str], *,
             smtputf8: bool = False) -> SendResult:
        """Send one message. All recipients must be accepted, else nothing is sent.

        Raises ProtocolError with the server's reply when it refuses the sender,
        a recipient or the message.
        """
        smtp = self._smtp
        if smtp is None:
            raise ConnectionLost("Not connected to the SMTP server")
        recipients = list(recipients)
        if not recipients:
            raise ProtocolError("The message has no recipients")
        try:
            options = []
            if smtputf8:
                if not smtp.has_extn("smtputf8"):
                    raise ProtocolError(f"{self._where()} cannot take non-ASCII addresses "
                                        "(no SMTPUTF8)")
                options.append("SMTPUTF8")
                smtp.command_encoding = "utf-8"
            if smtp.has_extn("size"):
                options.append(f"SIZE={len(data)}")
                limit = smtp.esmtp_features.get("size", "").strip()
                if limit.isdigit() and 0 < int(limit) < len(data):
                    raise ProtocolError(f"The message is too large for {self._where()}: "
                                        f"{len(data)} bytes, the limit is {limit}")
            if smtp.has_extn("8bitmime") and _has_8bit(data):
                options.append("BODY=8BITMIME")
            self.token.check()
            code, msg = smtp.mail(sender, options)
            if code != 250:
                smtp.rset()
                raise ProtocolError(f"Server refused sender {sender}: {code} {_one_line(msg)}")
            refused = []
            for rcpt in recipients:
                self.token.check()
                code, msg = smtp.rcpt(rcpt)
                if code not in (250, 251):
                    refused.append(f"{rcpt} ({code} {_one_line(msg)})")
            if refused:
                smtp.rset()
                raise ProtocolError("Server refused recipient" + ("s " if len(refused) > 1 else " ")
                                    + ", ".join(refused))
            self.progress(0, len(data))
            code, msg = smtp.data(data)
            if code != 250:
                raise ProtocolError(f"Server refused the message: {code} {_one_line(msg)}")
            return SendResult(code, _one_line(msg), recipients, len(data))
        except smtplib.SMTPDataError as exc:
            raise ProtocolError(f"Server refused the message: {exc.smtp_code} "
                                f"{_one_line(exc.smtp_error)}") from exc
        except BaseException as exc:
            err = self._failure(exc)
            if err is exc:
                raise
            raise err from exc

    # -- helpers ----------------------------------------------------------
    def _where(self) -> str:
        return f"{self.host}:{self.port}"

    def _failure(self, exc: BaseException) -> BaseException:
        """The NetError for any exception raised mid-session (logged with details)."""
        if isinstance(exc, NetError):
            err = Cancelled() if self.token.cancelled and not isinstance(exc, Cancelled) else exc
        elif self.token.cancelled:
            err = Cancelled()
        elif isinstance(exc, smtplib.SMTPServerDisconnected) and isinstance(exc.__context__, OSError):
            err = translate(exc.__context__, self.host, self.port)
        elif isinstance(exc, smtplib.SMTPServerDisconnected):
            err = ConnectionLost(f"{self._where()} closed the connection", detail=str(exc))
        elif isinstance(exc, smtplib.SMTPResponseException):
            err = ProtocolError(f"{self._where()} answered {exc.smtp_code} "
                                f"{_one_line(exc.smtp_error)}")
        elif isinstance(exc, smtplib.SMTPException):
            err = ProtocolError(f"SMTP error with {self._where()}: {exc}")
        elif isinstance(exc, Exception):
            err = translate(exc, self.host, self.port)
        else:
            return exc
        if isinstance(err, NetError):
            self.log("!", str(err) + (f" ({err.detail})" if err.detail else ""))
        return err


def _has_8bit(data: bytes) -> bool:
    try:
        data.decode("ascii")
        return False
    except UnicodeDecodeError:
        return True


def _local_name() -> str:
    """The EHLO name: the host name, without a slow DNS lookup."""
    name = socket.gethostname()
    return name if name and name.isascii() and " " not in name else "localhost"


def send_message(data: bytes, sender: str, recipients: Iterable[str], *, host: str,
                 port: int | None = None, security: str = "starttls", user: str | None = None,
                 password: str | None = None, verify: bool = True, cafile: str | None = None,
                 timeout: float = DEFAULT_TIMEOUT, token: CancelToken | None = None,
                 log: Log = no_log, progress: Progress | None = None,
                 smtputf8: bool = False) -> SendResult:
    """Connect, send one message, and quit."""
    with SmtpSession(host, port, security=security, user=user, password=password, verify=verify,
                     cafile=cafile, timeout=timeout, token=token, log=log,
                     progress=progress) as session:
        return session.send(data, sender, recipients, smtputf8=smtputf8)


__all__ = ["SmtpSession", "SendResult", "send_message", "SECURITY_MODES", "DEFAULT_PORTS"]
