"""The SMTP core against a real aiosmtpd on loopback: TLS modes, AUTH, refusals, cancel."""

from __future__ import annotations

import base64
import socket
import threading

import pytest

from netgui.net.cancel import CancelToken
from netgui.net.errors import (
    AuthError,
    Cancelled,
    CertificateError,
    ConnectError,
    NetTimeout,
    ProtocolError,
    TLSError,
)
from netgui.net.mail.smtp import SmtpSession, send_message
from tests.support.peers import free_port
from tests.support.smtp import (  # noqa: F401
    PASSWORD,
    SmtpPeer,
    smtp_ca,
    smtp_ca_file,
    smtp_plain_server,
    smtp_server,
    smtps_server,
)

MESSAGE = (b"From: Alice <alice@example.test>\r\nTo: bob@example.test\r\n"
           b"Subject: hello\r\nMessage-ID: <1@example.test>\r\n\r\nHi Bob.\r\n.leading dot\r\n")


class Transcript(list):
    def __call__(self, direction, text):
        self.append((direction, text))

    def text(self) -> str:
        return "\n".join(f"{d} {t}" for d, t in self)


def assert_no_secret(transcript: Transcript, password: str = PASSWORD) -> None:
    text = transcript.text()
    assert password not in text
    for form in (f"\0mailer\0{password}", password):
        assert base64.b64encode(form.encode()).decode() not in text


def session_for(peer, cafile, **kw):
    kw.setdefault("user", peer.user)
    kw.setdefault("password", peer.password)
    return SmtpSession(peer.host, peer.port, security=peer.mode, cafile=cafile, timeout=5, **kw)


def test_starttls_auth_delivers_and_redacts(smtp_server, smtp_ca_file):
    log = Transcript()
    with session_for(smtp_server, smtp_ca_file, log=log) as s:
        result = s.send(MESSAGE, "alice@example.test", ["bob@example.test", "carol@example.test"])
    assert result.code == 250
    got = smtp_server.wait_for(1)[0]
    assert got.sender == "alice@example.test"
    assert got.recipients == ["bob@example.test", "carol@example.test"]
    msg = got.message()
    assert msg["Subject"] == "hello"
    assert ".leading dot" in msg.get_content()  # dot-stuffing round trip
    text = log.text()
    assert "> STARTTLS" in text and "* TLS" in text
    assert "> AUTH PLAIN ****" in text
    assert "< 235" in text
    assert_no_secret(log)
    assert smtp_server.auth_attempts == [("PLAIN", "mailer")]


def test_auth_login_challenge_answers_are_masked(smtp_ca, smtp_ca_file):
    peer = SmtpPeer(smtp_ca, "starttls", auth_exclude=("PLAIN",)).start()
    try:
        log = Transcript()
        with session_for(peer, smtp_ca_file, log=log) as s:
            s.send(MESSAGE, "alice@example.test", ["bob@example.test"])
        assert peer.auth_attempts == [("LOGIN", "mailer")]
        sent = [t for d, t in log if d == ">"]
        assert any(t.startswith("AUTH LOGIN") for t in sent)
        assert "****" in sent
        assert_no_secret(log)
        assert base64.b64encode(b"mailer").decode() not in log.text()
    finally:
        peer.stop()


def test_implicit_tls(smtps_server, smtp_ca_file):
    log = Transcript()
    send_message(MESSAGE, "alice@example.test", ["bob@example.test"], host=smtps_server.host,
                 port=smtps_server.port, security="tls", user=smtps_server.user,
                 password=smtps_server.password, cafile=smtp_ca_file, log=log, timeout=5)
    assert len(smtps_server.wait_for(1)) == 1
    assert "STARTTLS" not in log.text()
    assert "* TLS" in log.text()


def test_plain_connection_without_auth(smtp_plain_server):
    s = SmtpSession(smtp_plain_server.host, smtp_plain_server.port, security="none", timeout=5)
    with s:
        s.send(MESSAGE, "alice@example.test", ["bob@example.test"])
    assert smtp_plain_server.wait_for(1)[0].recipients == ["bob@example.test"]


def test_wrong_password_is_auth_error(smtp_server, smtp_ca_file):
    log = Transcript()
    with pytest.raises(AuthError) as info:
        session_for(smtp_server, smtp_ca_file, password="wrong-password", log=log).connect()
    assert "535" in str(info.value)
    assert "\n" not in str(info.value)
    assert_no_secret(log, "wrong-password")


def test_refused_recipient_sends_nothing(smtp_server, smtp_ca_file):
    smtp_server.refuse_recipient("nobody@example.test")
    with session_for(smtp_server, smtp_ca_file) as s:
        with pytest.raises(ProtocolError) as info:
            s.send(MESSAGE, "alice@example.test", ["bob@example.test", "nobody@example.test"])
        assert "nobody@example.test" in str(info.value) and "550" in str(info.value)
        # the session is still usable after the refusal (RSET)
        smtp_server.accept_all()
        s.send(MESSAGE, "alice@example.test", ["bob@example.test"])
    assert [r.recipients for r in smtp_server.wait_for(1)] == [["bob@example.test"]]


def test_refused_message_carries_server_reply(smtp_server, smtp_ca_file):
    smtp_server.refuse_messages("554 5.7.1 Message rejected as spam")
    with pytest.raises(ProtocolError) as info:
        with session_for(smtp_server, smtp_ca_file) as s:
            s.send(MESSAGE, "alice@example.test", ["bob@example.test"])
    assert "554" in str(info.value) and "spam" in str(info.value)
    assert smtp_server.received == []


def test_untrusted_certificate(smtp_server):
    with pytest.raises(CertificateError):
        SmtpSession(smtp_server.host, smtp_server.port, security="starttls", timeout=5).connect()


def test_verification_off_accepts_untrusted_certificate(smtp_server):
    with SmtpSession(smtp_server.host, smtp_server.port, security="starttls", verify=False,
                     user=smtp_server.user, password=smtp_server.password, timeout=5) as s:
        s.send(MESSAGE, "alice@example.test", ["bob@example.test"])
    assert len(smtp_server.wait_for(1)) == 1


def test_starttls_missing_is_tls_error(smtp_plain_server):
    with pytest.raises(TLSError) as info:
        SmtpSession(smtp_plain_server.host, smtp_plain_server.port, security="starttls",
                    timeout=5).connect()
    assert "STARTTLS" in str(info.value)


def test_auth_refused_before_tls_is_explained(smtp_server):
    # the STARTTLS server only offers AUTH after TLS: in the clear there is none
    with pytest.raises(ProtocolError) as info:
        SmtpSession(smtp_server.host, smtp_server.port, security="none", user="mailer",
                    password=PASSWORD, timeout=5).connect()
    assert "authentication" in str(info.value)


def test_connection_refused():
    with pytest.raises(ConnectError):
        SmtpSession("127.0.0.1", free_port(), security="none", timeout=5).connect()


def test_silent_server_times_out():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    try:
        with pytest.raises(NetTimeout):
            SmtpSession("127.0.0.1", listener.getsockname()[1], security="none",
                        timeout=0.5).connect()
    finally:
        listener.close()


def test_cancel_while_waiting_for_greeting():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    token = CancelToken()
    threading.Timer(0.3, token.cancel).start()
    try:
        with pytest.raises(Cancelled):
            SmtpSession("127.0.0.1", listener.getsockname()[1], security="none", timeout=30,
                        token=token).connect()
    finally:
        listener.close()


def test_large_message_progress_and_cancel(smtp_server, smtp_ca_file):
    body = b"".join(b"line %06d of a large message body..................\r\n" % i
                    for i in range(40000))
    data = MESSAGE.split(b"\r\n\r\n")[0] + b"\r\n\r\n" + body
    seen = []
    with session_for(smtp_server, smtp_ca_file, progress=lambda d, t: seen.append((d, t))) as s:
        s.send(data, "alice@example.test", ["bob@example.test"])
    assert len(seen) > 10
    assert seen[-1][0] == seen[-1][1] >= len(data)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert smtp_server.wait_for(1)[0].data.count(b"\r\n") >= 40000

    token = CancelToken()

    def cancel_midway(done, total):
        if done > total // 4:
            token.cancel()

    with pytest.raises(Cancelled):
        with session_for(smtp_server, smtp_ca_file, token=token, progress=cancel_midway) as s:
            s.send(data, "alice@example.test", ["bob@example.test"])
    assert len(smtp_server.received) == 1


def test_size_limit_refused_before_sending(smtp_ca, smtp_ca_file):
    peer = SmtpPeer(smtp_ca, "starttls", data_size_limit=1000).start()
    try:
        with pytest.raises(ProtocolError) as info:
            with session_for(peer, smtp_ca_file) as s:
                s.send(MESSAGE + b"x" * 2000 + b"\r\n", "alice@example.test", ["bob@example.test"])
        assert "too large" in str(info.value)
    finally:
        peer.stop()
