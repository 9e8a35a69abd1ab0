"""What the IMAP and POP3 client cores share: the wire's socket, the session object's
settings, account profiles, cancellation, the connect scaffolding and closing.

A core subclasses ``MailWire`` together with its ``imaplib``/``poplib`` class, and
``MailConnection`` for the session object, which names that wire class and the
protocol's default ports and says how to end a session (``_goodbye``/``_hang_up``).
"""

from __future__ import annotations

import socket
from typing import Callable, TypeVar

from netgui.net.cancel import CancelToken, shutdown_quietly
from netgui.net.connection import DEFAULT_TIMEOUT, Log, no_log, open_connection, tls_context
from netgui.net.errors import Cancelled, NetError, translate

_Client = TypeVar("_Client", bound="MailConnection")


class MailWire:
    """Mixin for an ``imaplib.IMAP4``/``poplib.POP3`` subclass: our connection (timeouts, TLS,
    cancel) instead of the library's, and the transcript hook's state."""

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


class MailConnection:
    """One mail-reading connection; subclasses set ``DEFAULT_PORTS`` and ``wire_class``.

    ``security`` is "tls" (implicit TLS), "starttls" or "none". ``verify`` False turns off
    certificate checks for this connection; ``cafile`` adds a CA (tests).
    """

    DEFAULT_PORTS: dict[str, int] = {}
    wire_class: type = MailWire

    def __init__(self, host: str, port: int | None = None, security: str = "tls", *,
                 timeout: float = DEFAULT_TIMEOUT, token: CancelToken | None = None,
                 log: Log = no_log, verify: bool = True, cafile: str | None = None):
        if security not in self.DEFAULT_PORTS:
            raise ValueError(f"unknown security {security!r}")
        self.host = host
        self.port = int(port or self.DEFAULT_PORTS[security])
        self.security = security
        self.timeout = timeout
        self.token = token or CancelToken()
        self.log = log
        self.verify = verify
        self.cafile = cafile
        self.where = f"{host}:{self.port}"
        self._secrets: list[str] = []
        self._wire = None
        self._unwatch: Callable[[], None] | None = None
        self._broken = False

    @classmethod
    def from_account(cls: type[_Client], account: dict, password: str | None, *, token=None,
                     log=no_log, cafile=None, timeout=DEFAULT_TIMEOUT,
                     access_token: str | None = None, tokens=None) -> _Client:
        """Connect and log in with a mail account profile (see netgui.net.mail.accounts); with
        ``access_token``, sign in with OAuth2 (SASL OAUTHBEARER/XOAUTH2) instead; with
        ``tokens`` (an oauth.TokenManager), with its access token, refreshed once more when
        the server refuses it."""
        if tokens is not None:
            return tokens.with_access_token(
                lambda access: cls.from_account(account, None, token=token, log=log, cafile=cafile,
                                                timeout=timeout, access_token=access),
                token=token, log=log)
        client = cls(account["incoming_host"], account.get("incoming_port"),
                     account.get("incoming_security", "tls"), timeout=timeout, token=token, log=log,
                     verify=account.get("verify_tls", True), cafile=cafile)
        client.connect()
        try:
            user = account.get("incoming_user") or account.get("email", "")
            if access_token is not None:
                client.authenticate_oauth(user, access_token)
            else:
                client.login(user, password or "")
        except BaseException:
            client.close()
            raise
        return client

    def _abort(self):
        wire = self._wire
        if wire is not None:
            self._broken = True
            try:
                wire.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _open(self):
        """Connect the wire (implicit TLS included) and watch it; returns the TLS context
        (None without security) for a STARTTLS that follows."""
        ctx = tls_context(self.verify, self.cafile) if self.security != "none" else None
        if not self.verify and ctx is not None:
            self.log("!", "Certificate checks are turned off for this account")
        self._wire = self.wire_class(self.host, self.port, self.timeout,
                                     ctx if self.security == "tls" else None, self.token, self.log,
                                     self._secrets)
        self._wire.unwatch_greeting()
        self._unwatch = self.token.add_hook(self._abort)
        return ctx

    def _failed(self, exc: BaseException) -> NetError:
        """The NetError for a socket-level failure, which leaves the connection broken."""
        self._broken = True
        if self.token.cancelled:
            return Cancelled()
        err = translate(exc, self.host, self.port)
        if err.detail:
            self.log("!", err.detail)
        return err

    def _detach(self):
        """Forget the wire (returned) and stop watching the token."""
        wire, self._wire = self._wire, None
        if self._unwatch:
            self._unwatch()
            self._unwatch = None
        return wire

    def _goodbye(self, wire) -> None:
        """End the session politely (LOGOUT, QUIT)."""
        raise NotImplementedError

    def _hang_up(self, wire) -> None:
        """Close the wire without a word."""
        raise NotImplementedError

    def close(self) -> None:
        """End the session (politely if the connection still works) and close the socket,
        ignoring errors."""
        wire = self._detach()
        if wire is None:
            return
        try:
            if not self._broken and not self.token.cancelled:
                self._goodbye(wire)
            else:
                self._hang_up(wire)
        except Exception:
            try:
                self._hang_up(wire)
            except Exception:
                pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
