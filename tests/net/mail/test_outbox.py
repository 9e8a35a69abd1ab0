"""Drafts, Outbox and Sent: delivering through aiosmtpd, filing in Dovecot's Sent, retrying."""

from __future__ import annotations

import os

import pytest

from netgui.net.errors import AuthError, NetError, ProtocolError
from netgui.net.mail import compose, outbox
from netgui.net.mail.compose import Attachment, ComposeError, Draft
from netgui.net.mail.imap import ImapClient
from tests.support.dovecot import dovecot, mailuser  # noqa: F401
from tests.support.smtp import smtp_ca, smtp_ca_file, smtp_plain_server, smtp_server  # noqa: F401


@pytest.fixture(autouse=True)
def trust_test_cas(monkeypatch, smtp_ca_file, tmp_path):
    """One CA bundle trusting both test servers, through NETGUI_CA_FILE (as a user's system)."""
    from tests.support.dovecot import shared_dovecot
    bundle = tmp_path / "cas.pem"
    bundle.write_bytes(open(smtp_ca_file, "rb").read()
                       + open(shared_dovecot().ca_file, "rb").read())
    monkeypatch.setenv("NETGUI_CA_FILE", str(bundle))


def account(smtp, protocol="pop3", dove=None, user=""):
    data = {"display_name": "Alice", "email": "alice@example.test", "signature": "",
            "incoming_protocol": protocol, "incoming_host": "127.0.0.1",
            "incoming_port": dove.imap_port if dove else 110, "incoming_security": "none",
            "incoming_user": user, "verify_tls": True, "smtp_host": smtp.host,
            "smtp_port": smtp.port, "smtp_security": smtp.mode, "smtp_user": smtp.user,
            "smtp_auth": smtp.mode != "none"}
    return data


def draft(**kw) -> Draft:
    d = Draft(account="work", sender="Alice <alice@example.test>", to="bob@example.test",
              bcc="hidden@example.test", subject="Report ✓", body="Numbers inside.\n",
              attachments=[Attachment("data.bin", os.urandom(3000), "application/octet-stream")])
    for k, v in kw.items():
        setattr(d, k, v)
    return d


def test_queue_refuses_invalid_and_keeps_draft():
    st = outbox.stores()
    d = draft(to="bob@example.test\r\nBcc: victim@example.test")
    outbox.save_draft(d, st)
    with pytest.raises(ComposeError):
        outbox.queue(d, st)
    assert st.outbox.items() == []
    assert [m["id"] for m in st.drafts.items()] == [d.id]
    assert outbox.open_draft(d.id, st).to == "bob@example.test Bcc: victim@example.test"


def test_deliver_pop3_account_files_local_sent(smtp_server):
    st = outbox.stores()
    d = draft()
    outbox.save_draft(d, st)
    item = outbox.queue(d, st)
    assert st.drafts.items() == [] and [m["state"] for m in st.outbox.items()] == ["queued"]
    seen = []
    result = outbox.deliver(item, account(smtp_server), smtp_password=smtp_server.password, st=st,
                            log=lambda d_, t: seen.append((d_, t)))
    got = smtp_server.wait_for(1)[0]
    assert got.sender == "alice@example.test"
    assert got.recipients == ["bob@example.test", "hidden@example.test"]
    msg = got.message()
    assert msg["Subject"] == "Report ✓" and msg["Bcc"] is None
    assert list(msg.iter_attachments())[0].get_payload(decode=True) == d.attachments[0].data
    assert result.sent_to == "local"
    assert st.outbox.items() == []
    sent = st.sent.items(account="work")
    assert [m["message_id"] for m in sent] == [d.message_id]
    data, _ = st.sent.load(item)
    assert compose.parse_bytes(data)["Bcc"] is not None  # the local copy remembers Bcc
    assert smtp_server.password not in repr(seen)


def test_refused_message_stays_in_outbox_and_retry_sends(smtp_server):
    st = outbox.stores()
    item = outbox.queue(draft(), st)
    smtp_server.refuse_recipient("bob@example.test")
    with pytest.raises(ProtocolError) as info:
        outbox.deliver(item, account(smtp_server), smtp_password=smtp_server.password, st=st)
    [meta] = st.outbox.items()
    assert meta["state"] == "failed" and meta["attempts"] == 1
    assert "550" in meta["error"] and meta["error"] == str(info.value)
    assert smtp_server.received == [] and st.sent.items() == []
    smtp_server.accept_all()
    outbox.deliver(item, account(smtp_server), smtp_password=smtp_server.password, st=st)
    assert len(smtp_server.wait_for(1)) == 1
    assert st.outbox.items() == [] and len(st.sent.items()) == 1


def test_wrong_password_keeps_message(smtp_server):
    st = outbox.stores()
    item = outbox.queue(draft(), st)
    with pytest.raises(AuthError):
        outbox.deliver(item, account(smtp_server), smtp_password="nope-nope", st=st)
    assert "refused the user name or password" in st.outbox.meta(item)["error"]


def test_edit_queued_returns_to_drafts(smtp_server):
    st = outbox.stores()
    d = draft()
    item = outbox.queue(d, st)
    back = outbox.edit_queued(item, st)
    assert st.outbox.items() == [] and [m["id"] for m in st.drafts.items()] == [item]
    assert (back.to, back.bcc, back.subject, back.message_id) == (
        "bob@example.test", "hidden@example.test", "Report ✓", d.message_id)


def test_imap_account_appends_to_dovecot_sent(smtp_plain_server, mailuser):
    dove, user, password = mailuser
    st = outbox.stores()
    d = draft()
    acct = account(smtp_plain_server, "imap", dove, user)
    compose.ensure_message_id(d)
    outbox.save_draft_to_imap(d, acct, password)  # saved on the server while writing
    item = outbox.queue(d, st)
    result = outbox.deliver(item, acct, incoming_password=password, st=st)
    assert result.sent_to == "imap:Sent" and result.filing_error == ""
    assert st.sent.items() == [] and st.outbox.items() == []
    assert len(smtp_plain_server.wait_for(1)) == 1
    with ImapClient.from_account(acct, password) as client:
        client.select("Sent")
        uids = client.uids("Sent")
        assert len(uids) == 1
        stored = compose.parse_bytes(client.fetch_message(uids[0], "Sent"))
        assert client.uids("Drafts") == [], "the draft of a sent message is removed"
    assert stored["Message-ID"] == d.message_id
    assert stored["Subject"] == "Report ✓"


def test_imap_filing_failure_keeps_local_sent_copy(smtp_plain_server, mailuser):
    dove, user, _ = mailuser
    st = outbox.stores()
    item = outbox.queue(draft(), st)
    acct = account(smtp_plain_server, "imap", dove, user)
    result = outbox.deliver(item, acct, incoming_password="wrong", st=st)
    assert len(smtp_plain_server.wait_for(1)) == 1  # sent once, never again
    assert result.sent_to == "local" and result.filing_error
    assert st.outbox.items() == [] and st.sent.items()[0]["filing_error"]


def test_draft_saved_to_imap_drafts_replaces_old_copy(mailuser):
    dove, user, password = mailuser
    acct = {"incoming_protocol": "imap", "incoming_host": "127.0.0.1",
            "incoming_port": dove.imap_port, "incoming_security": "starttls",
            "incoming_user": user, "verify_tls": True}
    d = draft(subject="first version")
    assert outbox.save_draft_to_imap(d, acct, password) == "Drafts"
    d.subject = "second version"
    outbox.save_draft_to_imap(d, acct, password)
    with ImapClient.from_account(acct, password) as client:
        client.select("Drafts")
        uids = client.uids("Drafts")
        assert len(uids) == 1
        stored = compose.parse_bytes(client.fetch_message(uids[0], "Drafts"))
        flags = client.fetch_flags()
    assert stored["Subject"] == "second version"
    assert "\\Draft" in next(iter(flags.values()))


def test_no_password_in_any_local_file(smtp_server, isolated_config, tmp_path):
    st = outbox.stores()
    item = outbox.queue(draft(), st)
    smtp_server.refuse_messages()
    with pytest.raises(ProtocolError):
        outbox.deliver(item, account(smtp_server), smtp_password=smtp_server.password, st=st)
    smtp_server.accept_all()
    outbox.deliver(item, account(smtp_server), smtp_password=smtp_server.password, st=st)
    for root in (isolated_config, tmp_path / "data"):
        for path in root.rglob("*") if root.exists() else []:
            if path.is_file():
                assert smtp_server.password.encode() not in path.read_bytes(), path


def test_non_ascii_address_uses_smtputf8(smtp_server, smtp_ca):
    from tests.support.smtp import SmtpPeer
    st = outbox.stores()
    item = outbox.queue(draft(to="Jörg <jörg@bücher.example>", bcc=""), st)
    outbox.deliver(item, account(smtp_server), smtp_password=smtp_server.password, st=st)
    got = smtp_server.wait_for(1)[0]
    assert got.recipients == ["jörg@xn--bcher-kva.example"]
    assert "To: Jörg <jörg@xn--bcher-kva.example>".encode() in got.data  # raw UTF-8 header

    old = SmtpPeer(smtp_ca, "starttls", smtputf8=False).start()
    try:
        item = outbox.queue(draft(to="jörg@example.test", bcc=""), st)
        with pytest.raises(ProtocolError) as info:
            outbox.deliver(item, account(old), smtp_password=old.password, st=st)
        assert "SMTPUTF8" in str(info.value)
        assert st.outbox.meta(item)["state"] == "failed"
    finally:
        old.stop()


def test_same_item_is_not_sent_twice_at_once(smtp_server):
    st = outbox.stores()
    item = outbox.queue(draft(), st)
    outbox._in_flight.add(item)  # as if another task were sending it right now
    try:
        with pytest.raises(NetError) as info:
            outbox.deliver(item, account(smtp_server), smtp_password=smtp_server.password, st=st)
        assert "being sent already" in str(info.value)
    finally:
        outbox._in_flight.discard(item)
    assert smtp_server.received == [] and st.outbox.meta(item)["state"] == "queued"
