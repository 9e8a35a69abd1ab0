"""A real SMTP server (aiosmtpd) on a loopback port for tests.

``SmtpPeer`` runs aiosmtpd's Controller with AUTH (PLAIN and LOGIN, checked
against one user/password), STARTTLS with a trustme certificate, or implicit TLS.
Every accepted message is recorded in ``peer.received`` (envelope sender,
recipients and the raw bytes) so tests can parse what arrived. ``refuse_rcpt``
and ``refuse_data`` make the server refuse recipients or the message itself.
"""

from __future__ import annotations

import email
import email.policy
import ssl
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.support.peers import free_port

USER = "mailer"
PASSWORD = "smtp-pa55word"


@dataclass
class Received:
    """One message as the server received it."""

    sender: str
    recipients: list[str]
    data: bytes

    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.data, policy=email.policy.default)


@dataclass
class _Handler:
    received: list[Received] = field(default_factory=list)
    refuse_rcpt: set[str] = field(default_factory=set)
    refuse_data: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    arrived: threading.Condition = field(default=None)

    def __post_init__(self):
        self.arrived = threading.Condition(self.lock)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.refuse_rcpt:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.refuse_data:
            return self.refuse_data
        with self.arrived:
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos),
                                          bytes(envelope.original_content or envelope.content)))
            self.arrived.notify_all()
        return "250 2.0.0 Message accepted for delivery"


class SmtpPeer:
    """aiosmtpd on 127.0.0.1:<free port>; ``mode`` is "starttls", "tls" or "none"."""

    def __init__(self, ca: trustme.CA, mode: str = "starttls", auth: bool = True,
                 auth_require_tls: bool = True, data_size_limit: int = 33554432,
                 auth_exclude: tuple[str, ...] = (), smtputf8: bool = True):
        self.mode = mode
        self.host = "127.0.0.1"
        self.port = free_port()
        self.user = USER
        self.password = PASSWORD
        self.handler = _Handler()
        self.auth_attempts: list[tuple[str, str]] = []
        server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("127.0.0.1", "localhost").configure_cert(server_ctx)
        kwargs = dict(hostname=self.host, port=self.port, server_hostname="smtp.test",
                      data_size_limit=data_size_limit, enable_SMTPUTF8=smtputf8)
        if auth:
            if mode == "tls":  # aiosmtpd does not count implicit TLS as TLS; the link is TLS anyway
                auth_require_tls = False
            kwargs.update(authenticator=self._authenticate, auth_require_tls=auth_require_tls,
                          auth_exclude_mechanism=list(auth_exclude))
        if mode == "starttls":
            kwargs.update(tls_context=server_ctx, require_starttls=False)
        elif mode == "tls":
            kwargs.update(ssl_context=server_ctx)
        self.controller = Controller(self.handler, **kwargs)

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        user = auth_data.login.decode("utf-8", "replace")
        password = auth_data.password.decode("utf-8", "replace")
        self.auth_attempts.append((mechanism, user))
        ok = user == self.user and password == self.password
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd sends 235/535

    # -- control ------------------------------------------------------------
    def start(self) -> "SmtpPeer":
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    @property
    def received(self) -> list[Received]:
        with self.handler.lock:
            return list(self.handler.received)

    def refuse_recipient(self, address: str) -> None:
        self.handler.refuse_rcpt.add(address.lower())

    def refuse_messages(self, reply: str | None = "554 5.7.1 Message rejected as spam") -> None:
        """Refuse every message at the end of DATA with ``reply`` (None accepts again)."""
        self.handler.refuse_data = reply

    def accept_all(self) -> None:
        self.handler.refuse_rcpt.clear()
        self.handler.refuse_data = None

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """Wait until ``count`` messages have arrived; return them."""
        with self.handler.arrived:
            ok = self.handler.arrived.wait_for(lambda: len(self.handler.received) >= count, timeout)
            if not ok:
                pytest.fail(f"only {len(self.handler.received)} of {count} messages arrived")
            return list(self.handler.received)

    def profile(self, email_addr: str = "alice@example.test", **extra) -> dict:
        """An SMTP part of a mail account profile pointing at this server."""
        data = {"smtp_host": self.host, "smtp_port": self.port, "smtp_security": self.mode,
                "smtp_user": self.user, "smtp_auth": True, "verify_tls": True, "email": email_addr}
        data.update(extra)
        return data


@pytest.fixture(scope="session")
def smtp_ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="session")
def smtp_ca_file(smtp_ca, tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("smtp-ca") / "ca.pem"
    smtp_ca.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture
def smtp_server(smtp_ca):
    """aiosmtpd with STARTTLS and AUTH (AUTH only after STARTTLS)."""
    peer = SmtpPeer(smtp_ca, "starttls").start()
    yield peer
    peer.stop()


@pytest.fixture
def smtps_server(smtp_ca):
    """aiosmtpd with implicit TLS and AUTH."""
    peer = SmtpPeer(smtp_ca, "tls").start()
    yield peer
    peer.stop()


@pytest.fixture
def smtp_plain_server(smtp_ca):
    """aiosmtpd without TLS, AUTH allowed in the clear (for the "none" mode)."""
    peer = SmtpPeer(smtp_ca, "none", auth_require_tls=False).start()
    yield peer
    peer.stop()
