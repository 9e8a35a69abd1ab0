"""``netgui send-mail``: a message from the command line, and flushing the Outbox."""

from __future__ import annotations

import io

from netgui.cli import main
from netgui.config import Secrets, Settings
from netgui.net.mail import accounts, outbox
from tests.support.smtp import smtp_ca, smtp_ca_file, smtp_server  # noqa: F401


def setup_account(smtp, monkeypatch, ca_file):
    monkeypatch.setenv("NETGUI_CA_FILE", ca_file)
    accounts.save_account(Settings(), Secrets(), "work", {
        "display_name": "Alice", "email": "alice@example.test", "signature": "A.",
        "incoming_protocol": "pop3", "incoming_host": "127.0.0.1", "smtp_host": smtp.host,
        "smtp_port": smtp.port, "smtp_security": smtp.mode, "smtp_user": smtp.user,
        "smtp_auth": True}, smtp_password=smtp.password)


def test_send_mail_from_the_command_line(smtp_server, smtp_ca_file, monkeypatch, tmp_path,
                                         capsys):
    setup_account(smtp_server, monkeypatch, smtp_ca_file)
    att = tmp_path / "notes.txt"
    att.write_text("attached notes\n")
    monkeypatch.setattr("sys.stdin", io.StringIO("Hello from the shell.\n"))
    code = main(["send-mail", "--to", "bob@example.test", "--to", "carol@example.test",
                 "--subject", "CLI ✓", "--attach", str(att), "-v"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "Sent to 2 recipient(s); copy in local Sent" in out
    assert "AUTH PLAIN ****" in err and smtp_server.password not in err
    got = smtp_server.wait_for(1)[0]
    msg = got.message()
    assert got.recipients == ["bob@example.test", "carol@example.test"]
    assert msg["Subject"] == "CLI ✓"
    assert msg.get_body(("plain",)).get_content().replace("\r\n", "\n") == \
        "Hello from the shell.\n\n-- \nA.\n"
    assert list(msg.iter_attachments())[0].get_payload(decode=True) == b"attached notes\n"


def test_refused_then_flush_outbox(smtp_server, smtp_ca_file, monkeypatch, capsys):
    setup_account(smtp_server, monkeypatch, smtp_ca_file)
    smtp_server.refuse_messages()
    monkeypatch.setattr("sys.stdin", io.StringIO("body\n"))
    assert main(["send-mail", "--to", "bob@example.test", "--subject", "later"]) == 1
    assert "554" in capsys.readouterr().err
    assert len(outbox.stores().outbox.items()) == 1
    smtp_server.accept_all()
    assert main(["send-mail", "--outbox"]) == 0
    assert "1 of 1 message(s) sent" in capsys.readouterr().out
    assert smtp_server.wait_for(1)[0].message()["Subject"] == "later"
    assert outbox.stores().outbox.items() == []


def test_bad_address_is_one_line(smtp_server, smtp_ca_file, monkeypatch, capsys):
    setup_account(smtp_server, monkeypatch, smtp_ca_file)
    monkeypatch.setattr("sys.stdin", io.StringIO("x"))
    assert main(["send-mail", "--to", "bob\r\nBcc: victim@example.test"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "line breaks" in err
    assert outbox.stores().outbox.items() == []
