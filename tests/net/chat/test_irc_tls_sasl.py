"""IRC over verified TLS (ngircd with a throwaway CA) and SASL PLAIN against a scripted server."""

import base64
import socket
import threading

import pytest
import trustme

from netgui.net.chat.irc import IrcProfile, IrcSession
from netgui.net.errors import AuthError, CertificateError
from tests.support.ngircd import Ngircd
from tests.support.saslserver import SaslServer


@pytest.fixture
def tls_ngircd(tmp_path):
    ca = trustme.CA()
    cert = ca.issue_cert("localhost", "127.0.0.1")
    folder = tmp_path / "tls"
    folder.mkdir()
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert.cert_chain_pems[0].write_to_path(str(cert_file))
    for pem in cert.cert_chain_pems[1:]:
        with open(cert_file, "ab") as f:
            f.write(pem.bytes())
    cert.private_key_pem.write_to_path(str(key_file))
    cert_file.chmod(0o644), key_file.chmod(0o644)
    ca_file = folder / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    server = Ngircd(folder / "run", tls_cert=(str(cert_file), str(key_file))).start()
    server.ca_file = str(ca_file)
    yield server
    server.stop()


def test_tls_with_verified_certificate(tls_ngircd, irc_runner):
    p = IrcProfile("localhost", tls_ngircd.tls_port, tls=True, nick="secure", channels=["#tls"])
    r = irc_runner(p, cafile=tls_ngircd.ca_file)
    r.wait_connected()
    r.wait_for(lambda e: e.kind == "open" and e.window == "#tls")
    assert any(t.startswith("TLS ") for d, t in r.logs if d == "*")


def test_tls_with_untrusted_certificate_is_refused(tls_ngircd):
    session = IrcSession(IrcProfile("localhost", tls_ngircd.tls_port, tls=True, nick="x"), lambda evs: None,
                         timeout=5)
    with pytest.raises(CertificateError) as info:
        session.run()
    assert "not trusted" in str(info.value)


def test_sasl_plain_logs_in_and_never_logs_the_password(irc_runner):
    server = SaslServer()
    r = irc_runner(IrcProfile("127.0.0.1", server.port, nick="alice", username="alice", password="s3cret-pass"))
    r.wait_connected()
    assert r.find(lambda e: e.kind == "info" and "logged in as alice" in e.text)
    assert "CAP REQ :sasl" in server.received and "AUTHENTICATE PLAIN" in server.received
    transcript = "\n".join(t for _, t in r.logs)
    assert "s3cret-pass" not in transcript
    assert base64.b64encode(b"alice\0alice\0s3cret-pass").decode() not in transcript
    assert "AUTHENTICATE ****" in transcript


def test_sasl_wrong_password_is_an_auth_error():
    server = SaslServer()
    session = IrcSession(IrcProfile("127.0.0.1", server.port, nick="alice", password="wrong"), lambda evs: None,
                         timeout=5)
    with pytest.raises(AuthError) as info:
        session.run()
    assert "refused the SASL login" in str(info.value)


def test_malformed_and_latin1_lines_from_the_server_do_not_break_the_session(irc_runner):
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve():
        conn, _ = listener.accept()
        f = conn.makefile("rb")
        f.readline(), f.readline()  # NICK, USER
        conn.sendall(b":odd.test 001 me :Welcome\r\n"
                     b":prefix-only\r\n"
                     b"\r\n"
                     b":x!y@z PRIVMSG me :caf\xe9 cr\xe8me\r\n"
                     b"@bad-tag=\\ :x!y@z PRIVMSG #c\r\n"
                     b":x!y@z PRIVMSG me :still here\n"
                     b"PING :tok123\r\n")
        for raw in f:
            if raw.startswith(b"PONG"):
                conn.sendall(b":x!y@z PRIVMSG me :got pong " + raw.split()[-1].lstrip(b":") + b"\r\n")
        conn.close()

    threading.Thread(target=serve, daemon=True).start()
    r = irc_runner(IrcProfile("127.0.0.1", port, nick="me"))
    r.wait_for(lambda e: e.kind == "message" and e.text == "café crème" and e.window == "x")
    r.wait_for(lambda e: e.kind == "message" and e.text == "still here")
    r.wait_for(lambda e: e.kind == "message" and e.text == "got pong tok123")
    assert any("no command" in t for d, t in r.logs if d == "!")
    listener.close()
