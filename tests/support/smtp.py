"""A real SMTP server (aiosmtpd) on a loopback port for tests.

``SmtpPeer`` runs aiosmtpd's Controller with AUTH (PLAIN and LOGIN, checked
against one user/password), STARTTLS with a trustme certificate, or implicit TLS.
Every accepted message is recorded in ``peer.received`` (envelope sender,
recipients and the raw bytes) so tests can parse what arrived. ``refuse_rcpt``
and ``refuse_data`` make the server refuse recipients or the message itself.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import collections
import email
import email.policy
import json
import ssl
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage

import pytest
import requests
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import MISSING, SMTP, AuthResult, LoginPassword

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


def parse_bearer(mechanism: str, blob: bytes) -> tuple[str, str] | None:
    """(user, token) from an XOAUTH2 or OAUTHBEARER client response, None if malformed."""
    try:
        text = blob.decode("utf-8")
    except UnicodeDecodeError:
        return None
    fields = text.split("\x01")
    user = None
    if mechanism == "OAUTHBEARER":  # "n,a=user,\x01host=..\x01auth=Bearer tok\x01\x01"
        gs2 = fields.pop(0).split(",")
        if len(gs2) < 2 or gs2[0] not in ("n", "y"):
            return None
        if gs2[1].startswith("a="):
            user = gs2[1][2:].replace("=2C", ",").replace("=3D", "=")
    kv = dict(f.split("=", 1) for f in fields if "=" in f)
    user = kv.get("user", user)
    auth = kv.get("auth", "")
    if not user or not auth.lower().startswith("bearer "):
        return None
    return user, auth[7:]


class BearerAuth:
    """aiosmtpd AUTH hooks for XOAUTH2 and OAUTHBEARER: the token is checked at the test
    authorization server's introspection endpoint, as Dovecot's oauth2 passdb does."""

    def __init__(self, introspection_url: str):
        self.introspection_url = introspection_url
        self.attempts: list[tuple[str, str, bool]] = []  # (mechanism, user, accepted)

    def introspect(self, user: str, token: str) -> bool:
        resp = requests.post(self.introspection_url, data={"token": token}, timeout=5)
        data = resp.json() if resp.ok else {}
        return data.get("active") is True and data.get("username") == user

    async def run(self, server, args, mechanism: str) -> AuthResult:
        if len(args) == 1:
            blob = await server.challenge_auth("")
            if blob is MISSING:
                return AuthResult(success=False, handled=True)
        else:
            try:
                blob = base64.b64decode(args[1], validate=True)
            except binascii.Error:
                await server.push("501 5.5.2 Can't decode base64")
                return AuthResult(success=False, handled=True)
        parsed = parse_bearer(mechanism, blob)
        if parsed is None:
            await server.push("501 5.5.2 Malformed " + mechanism + " response")
            return AuthResult(success=False, handled=True)
        user, token = parsed
        loop = asyncio.get_running_loop()
        ok = await loop.run_in_executor(None, self.introspect, user, token)
        self.attempts.append((mechanism, user, ok))
        if ok:
            return AuthResult(success=True, auth_data=LoginPassword(user.encode(), b""))
        # RFC 7628 3.2.2: the error is a challenge; the client answers with a dummy response
        answer = await server.challenge_auth(json.dumps(
            {"status": "401", "schemes": "bearer", "scope": "mail"}))
        if answer is MISSING:
            return AuthResult(success=False, handled=True)
        return AuthResult(success=False, handled=False)  # aiosmtpd sends 535


class _BearerHandler(_Handler):
    bearer: BearerAuth | None = None

    async def auth_XOAUTH2(self, server, args):
        return await self.bearer.run(server, args, "XOAUTH2")

    async def auth_OAUTHBEARER(self, server, args):
        return await self.bearer.run(server, args, "OAUTHBEARER")


class _SMTP(SMTP):
    line_length_limit = 12290  # the reader's limit, set in __init__

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # AUTH lines carry tokens of 1-2 KB at real providers (RFC 4954 allows 12288 octets);
        # an instance dict: the class's one is shared by every connection
        self.command_size_limits = collections.defaultdict(lambda: SMTP.command_size_limit,
                                                           AUTH=12288)


class _Controller(Controller):
    def factory(self):
        return _SMTP(self.handler, **self.SMTP_kwargs)


class SmtpPeer:
    """aiosmtpd on 127.0.0.1:<free port>; ``mode`` is "starttls", "tls" or "none"."""

    def __init__(self, ca: trustme.CA, mode: str = "starttls", auth: bool = True,
                 auth_require_tls: bool = True, data_size_limit: int = 33554432,
                 auth_exclude: tuple[str, ...] = (), smtputf8: bool = True,
                 introspection_url: str | None = None, host: str = "127.0.0.1",
                 port: int | None = None, cert_names: tuple[str, ...] = ("127.0.0.1", "localhost")):
        self.mode = mode
        self.host = host
        self.port = port or free_port()
        self.user = USER
        self.password = PASSWORD
        self.handler = _Handler()
        self.bearer = None
        if introspection_url:  # also XOAUTH2 / OAUTHBEARER against the test OAuth server
            self.bearer = BearerAuth(introspection_url)
            self.handler = _BearerHandler()
            self.handler.bearer = self.bearer
        self.auth_attempts: list[tuple[str, str]] = []
        server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert(*cert_names).configure_cert(server_ctx)
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
        self.controller = _Controller(self.handler, **kwargs)

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
