"""The POP3 core against a real Dovecot: TLS modes, UIDL, TOP, RETR, DELE."""

from __future__ import annotations

import pytest

from netgui.net.errors import AuthError, CertificateError
from netgui.net.mail.message import summarize
from netgui.net.mail.pop3 import Pop3Client
from tests.support import mailsamples as samples
from tests.support.dovecot import PASSWORD, dovecot, mailuser  # noqa: F401  (fixtures)


def connect(server, user, security="none", log=None):
    port = server.pop3s_port if security == "tls" else server.pop3_port
    client = Pop3Client("127.0.0.1", port, security, cafile=server.ca_file, timeout=10,
                        log=log or (lambda d, t: None))
    client.connect()
    client.login(user, PASSWORD)
    return client


@pytest.mark.parametrize("security", ["none", "starttls", "tls"])
def test_uidl_top_retr_and_password_masked(mailuser, security):
    server, user, _ = mailuser
    server.deliver(user, samples.encoded_headers())
    server.deliver(user, samples.plain(subject="Second", body="line\n.starts with a dot\n"))
    lines = []
    with connect(server, user, security, log=lambda d, t: lines.append(t)) as pop:
        ids = pop.uidl()
        assert sorted(ids.values()) == [1, 2]
        assert summarize(pop.top(1)).subject == "Grüße aus Köln €50"
        assert pop.sizes()[2] > 0
        raw = pop.retr(2)
        assert b"\r\n.starts with a dot\r\n" in raw
    text = "\n".join(lines)
    assert PASSWORD not in text and "PASS ****" in text
    # messages stay on the server (nothing deleted)
    with connect(server, user, security) as pop:
        assert len(pop.uidl()) == 2


def test_dele_takes_effect_after_quit(mailuser):
    server, user, _ = mailuser
    for i in range(3):
        server.deliver(user, samples.plain(subject=f"m{i}"))
    pop = connect(server, user)
    ids = pop.uidl()
    pop.dele(2)
    pop.quit()
    pop = connect(server, user)
    after = pop.uidl()
    pop.close()
    assert len(after) == 2
    assert set(after) == {k for k, v in ids.items() if v != 2}


def test_wrong_password_and_untrusted_certificate(mailuser):
    server, user, _ = mailuser
    pop = Pop3Client("127.0.0.1", server.pop3_port, "none", timeout=10)
    pop.connect()
    with pytest.raises(AuthError):
        pop.login(user, "nope")
    pop.close()
    with pytest.raises(CertificateError):
        Pop3Client("127.0.0.1", server.pop3s_port, "tls", timeout=10).connect()
