"""The compose and Outbox windows, driven like a user would, against aiosmtpd and Dovecot."""

from __future__ import annotations

import pytest

from netgui.net.mail import accounts, compose, outbox
from netgui.net.mail.imap import ImapClient
from netgui.tabs.mail.compose import open_compose
from netgui.tabs.mail.outbox import open_outbox
from tests.support.dovecot import dovecot, mailuser, shared_dovecot  # noqa: F401
from tests.support.smtp import smtp_ca, smtp_ca_file, smtp_plain_server, smtp_server  # noqa: F401
from tests.support.tk import pump

ORIGINAL = (b"From: Bob <bob@example.test>\r\nTo: Alice <alice@example.test>, "
            b"carol@example.test\r\nSubject: Lunch?\r\nDate: Tue, 03 Nov 2026 12:00:00 +0000\r\n"
            b"Message-ID: <lunch-1@example.test>\r\n\r\nNoon at the usual place?\r\n")


@pytest.fixture(autouse=True)
def trust_test_cas(monkeypatch, smtp_ca_file, tmp_path):
    bundle = tmp_path / "cas.pem"
    bundle.write_bytes(open(smtp_ca_file, "rb").read()
                       + open(shared_dovecot().ca_file, "rb").read())
    monkeypatch.setenv("NETGUI_CA_FILE", str(bundle))


def add_account(app, smtp, protocol="pop3", dove=None, user="", incoming_password=None,
                name="work", **extra):
    data = {"display_name": "Alice Ärger", "email": "alice@example.test",
            "signature": "Alice\nexample.test", "incoming_protocol": protocol,
            "incoming_host": "127.0.0.1", "incoming_port": dove.imap_port if dove else 110,
            "incoming_security": "none", "incoming_user": user or "alice",
            "verify_tls": True, "smtp_host": smtp.host, "smtp_port": smtp.port,
            "smtp_security": smtp.mode, "smtp_user": smtp.user, "smtp_auth": smtp.mode != "none"}
    data.update(extra)
    accounts.save_account(app.settings, app.secrets, name, data,
                          incoming_password=incoming_password,
                          smtp_password=smtp.password if smtp.mode != "none" else None)


def fill(win, to="Bob <bob@example.test>, carol@example.test", cc="", bcc="", subject="Hi",
         body="Hello Bob,\nsee attached.\n"):
    win.form.set_values({"to": to, "cc": cc, "bcc": bcc, "subject": subject})
    win.body.delete("1.0", "end")
    win.body.insert("1.0", body)


def attach(app, win, path):
    task = win.attach_files([path])
    pump(app.root, until=lambda: not task.running and len(win.att_list.get_children()) > 0,
         timeout=10, message="attachment listed")


def send_and_wait(app, win, timeout=20):
    win.form.submit_button.invoke()
    assert win.send_task is not None, win.form.status.cget("text")
    pump(app.root, until=lambda: not win.send_task.running and not win.winfo_exists()
         or (not win.send_task.running and win.form.status.cget("style") == "Error.TLabel"),
         timeout=timeout, message="sending to finish")


def test_send_through_gui_arrives_and_goes_to_local_sent(make_app, smtp_server, tmp_path,
                                                         isolated_config, test_keyring):
    app = make_app(tabs=[])
    add_account(app, smtp_server)
    pdf = tmp_path / "report é.pdf"
    pdf.write_bytes(b"%PDF-1.4\n" + bytes(range(256)) * 40)
    win = open_compose(app, "work")
    assert win.form.get("account").startswith("work — ")
    assert win.body.get("1.0", "end-1c").endswith("-- \nAlice\nexample.test\n")
    fill(win, cc='"Doe, John" <john@example.test>', bcc="boss@example.test",
         subject="Quarterly report ✓", body="Hällo Bob,\n\nthe numbers are attached.\n")
    attach(app, win, pdf)
    assert win.att_list.item("0", "text") == "report é.pdf"
    lines = []
    shown = win.transcript.append
    win.transcript.append = lambda d, t: (lines.append(f"{d} {t}"), shown(d, t))
    send_and_wait(app, win)
    assert not win.winfo_exists(), "the window closes after sending"
    got = smtp_server.wait_for(1)[0]
    assert got.sender == "alice@example.test"
    assert sorted(got.recipients) == sorted(["bob@example.test", "carol@example.test",
                                             "john@example.test", "boss@example.test"])
    msg = got.message()
    assert msg["Subject"] == "Quarterly report ✓"
    assert str(msg["From"]) == "Alice Ärger <alice@example.test>"
    assert [a.addr_spec for a in msg["To"].addresses] == ["bob@example.test", "carol@example.test"]
    assert msg["Cc"].addresses[0].display_name == "Doe, John"
    assert msg["Bcc"] is None
    assert msg.get_body(("plain",)).get_content().replace("\r\n", "\n") == \
        "Hällo Bob,\n\nthe numbers are attached.\n"
    [att] = list(msg.iter_attachments())
    assert att.get_filename() == "report é.pdf" and att.get_content_type() == "application/pdf"
    assert att.get_payload(decode=True) == pdf.read_bytes()
    sent = outbox.stores().sent.items(account="work")
    assert [m["message_id"] for m in sent] == [msg["Message-ID"]]
    assert outbox.stores().outbox.items() == [] and outbox.stores().drafts.items() == []
    assert "Sent “Quarterly report ✓” to 4 recipients" in app.status.cget("text")
    box = open_outbox(app)
    assert box.sent.get_children() == (sent[0]["id"],)
    box.sent.selection_set(sent[0]["id"])
    view = box.view_sent()
    assert "Bcc: boss@example.test" in view.winfo_children()[0].winfo_children()[0].cget("text")
    assert view.text.get("1.0", "end").startswith("Hällo Bob,")
    again = box.edit_sent_as_new()
    assert again.form.get("subject") == "Quarterly report ✓" and len(again.draft.attachments) == 1
    assert again.draft.message_id != msg["Message-ID"]
    again.close()
    box.destroy()
    transcript = "\n".join(lines)
    assert "> AUTH PLAIN ****" in transcript and "< 250 2.0.0 Message accepted" in transcript
    for path in isolated_config.rglob("*"):
        if path.is_file():
            assert smtp_server.password.encode() not in path.read_bytes()
    assert smtp_server.password not in transcript
    assert test_keyring.store  # the password lives in the keyring only


def test_reply_through_gui_goes_to_dovecot_sent(make_app, smtp_plain_server, mailuser):
    dove, user, password = mailuser
    app = make_app(tabs=[])
    add_account(app, smtp_plain_server, "imap", dove, user, incoming_password=password)
    win = open_compose(app, "work", mode="reply_all", original=ORIGINAL)
    assert win.form.get("to") == "Bob <bob@example.test>"
    assert win.form.get("cc") == "carol@example.test"
    assert win.form.get("subject") == "Re: Lunch?"
    assert "> Noon at the usual place?" in win.body.get("1.0", "end")
    win.body.insert("1.0", "Yes, see you there.\n")
    send_and_wait(app, win)
    assert not win.winfo_exists()
    msg = smtp_plain_server.wait_for(1)[0].message()
    assert msg["In-Reply-To"] == "<lunch-1@example.test>"
    assert msg["References"] == "<lunch-1@example.test>"
    assert msg.get_content().startswith("Yes, see you there.")
    with ImapClient.from_account(accounts.load_account(app.settings, "work"), password) as client:
        client.select("Sent")
        uids = client.uids("Sent")
        assert len(uids) == 1
        stored = compose.parse_bytes(client.fetch_message(uids[0], "Sent"))
    assert stored["Message-ID"] == msg["Message-ID"] and stored["Subject"] == "Re: Lunch?"
    assert outbox.stores().sent.items() == []
    assert "saved in Sent" in app.status.cget("text")


def test_refused_mail_waits_in_outbox_and_retry_sends(make_app, smtp_server, monkeypatch):
    app = make_app(tabs=[])
    add_account(app, smtp_server)
    smtp_server.refuse_recipient("bob@example.test")
    win = open_compose(app, "work")
    fill(win, subject="Will be refused")
    send_and_wait(app, win)
    assert win.winfo_exists(), "the window stays open on failure"
    status = win.form.status.cget("text")
    assert "550" in status and "Outbox" in status
    assert win.show_log.get() and "rcpt TO:<bob@example.test>" in win.transcript.contents()
    [meta] = outbox.stores().outbox.items()
    assert meta["state"] == "failed" and "550" in meta["error"]
    win.close()
    assert outbox.stores().drafts.items() == [], "no duplicate draft of a queued message"

    box = open_outbox(app)
    assert box.outbox.get_children() == (meta["id"],)
    assert "550" in box.outbox.set(meta["id"], "error")
    smtp_server.accept_all()
    box.outbox.selection_set(meta["id"])
    task = box.retry()
    pump(app.root, until=lambda: not task.running, timeout=20, message="retry to finish")
    pump(app.root, timeout=0.2)
    assert box.outbox.get_children() == ()
    assert box.status.cget("text") == "Sent 1 message"
    assert "→ AUTH PLAIN ****" in box.transcript.contents()
    assert smtp_server.password not in box.transcript.contents()
    box.show_log.set(True)
    box._toggle_log()
    assert box.transcript.winfo_ismapped() or box.transcript.winfo_manager() == "pack"
    assert smtp_server.wait_for(1)[0].message()["Subject"] == "Will be refused"
    assert len(outbox.stores().sent.items()) == 1
    box.destroy()


def test_header_injection_refused_in_gui(make_app, smtp_server):
    app = make_app(tabs=[])
    add_account(app, smtp_server)
    win = open_compose(app, "work")
    fill(win, subject="Hello\r\nBcc: victim@example.test")
    win.form.submit_button.invoke()
    assert win.send_task is None
    assert win.form.message("subject") == "One line only"
    fill(win, to="bob@example.test\nBcc: victim@example.test", subject="ok")
    win.form.submit_button.invoke()
    assert win.send_task is None
    assert "line breaks" in win.form.message("to")
    fill(win, to="bob, carol@example.test")
    win.form.submit_button.invoke()
    assert win.send_task is None and "no @" in win.form.message("to")
    fill(win, to="", subject="nobody")
    win.form.submit_button.invoke()
    assert win.send_task is None
    assert win.form.status.cget("text") == "Add at least one recipient"
    pump(app.root, timeout=0.3)
    assert smtp_server.received == [] and outbox.stores().outbox.items() == []
    win.close()


def test_drafts_autosave_close_and_reopen(make_app, smtp_server, monkeypatch, tmp_path):
    import netgui.tabs.mail.compose as mc
    monkeypatch.setattr(mc, "AUTOSAVE_MS", 100)
    app = make_app(tabs=[])
    add_account(app, smtp_server)
    win = open_compose(app, "work", mode="forward", original=ORIGINAL)
    assert win.form.get("subject") == "Fwd: Lunch?"
    win.form.set_values({"to": "dave@example.test, not yet an addr"})
    win.body.insert("1.0", "FYI\n")
    pump(app.root, until=lambda: len(outbox.stores().drafts.items()) == 1, timeout=10,
         message="autosave")
    pump(app.root, until=lambda: "Draft saved" in win.saved_label.cget("text"), timeout=5,
         message="saved label")
    win.body.insert("end", "PS: typed after the autosave\n")
    task = win.close()
    assert task is not None
    pump(app.root, until=lambda: not task.running, timeout=10, message="final save")
    [meta] = outbox.stores().drafts.items()
    assert meta["subject"] == "Fwd: Lunch?"

    box = open_outbox(app)
    box.notebook.select(1)
    assert box.drafts.get_children() == (meta["id"],)
    box.drafts.selection_set(meta["id"])
    again = box.open_draft()
    assert again.form.get("to") == "dave@example.test, not yet an addr"
    assert again.body.get("1.0", "end").startswith("FYI\n")
    assert "PS: typed after the autosave" in again.body.get("1.0", "end")
    assert "Forwarded Message" in again.body.get("1.0", "end")
    again.form.set_values({"to": "dave@example.test"})
    send_and_wait(app, again)
    assert smtp_server.wait_for(1)[0].recipients == ["dave@example.test"]
    assert outbox.stores().drafts.items() == []
    box.refresh()
    assert box.drafts.get_children() == ()
    box.destroy()


def test_save_draft_stores_it_in_imap_drafts(make_app, smtp_plain_server, mailuser):
    dove, user, password = mailuser
    app = make_app(tabs=[])
    add_account(app, smtp_plain_server, "imap", dove, user, incoming_password=password)
    win = open_compose(app, "work")
    fill(win, subject="Half done")
    task = win.save_draft()
    pump(app.root, until=lambda: not task.running, timeout=15, message="draft save")
    assert win.form.status.cget("text") == "Draft saved here and in Drafts on the server"
    fill(win, subject="Almost done")
    task = win.save_draft()
    pump(app.root, until=lambda: not task.running, timeout=15, message="draft save")
    with ImapClient.from_account(accounts.load_account(app.settings, "work"), password) as client:
        client.select("Drafts")
        uids = client.uids("Drafts")
        assert len(uids) == 1
        assert compose.parse_bytes(client.fetch_message(uids[0], "Drafts"))["Subject"] == \
            "Almost done"
    assert [m["subject"] for m in outbox.stores().drafts.items()] == ["Almost done"]
    win.close()


def test_editing_after_a_failure_takes_it_back_from_the_outbox(make_app, smtp_server,
                                                               monkeypatch):
    import netgui.tabs.mail.compose as mc
    monkeypatch.setattr(mc, "AUTOSAVE_MS", 50)
    app = make_app(tabs=[])
    add_account(app, smtp_server)
    smtp_server.refuse_messages()
    win = open_compose(app, "work")
    fill(win, subject="First try")
    send_and_wait(app, win)
    assert len(outbox.stores().outbox.items()) == 1
    win.form.set_values({"subject": "Second try"})
    # the edited version supersedes the queued one
    pump(app.root, until=lambda: outbox.stores().drafts.items() != []
         and outbox.stores().outbox.items() == [], timeout=10, message="autosave")
    smtp_server.accept_all()
    send_and_wait(app, win)
    assert [r.message()["Subject"] for r in smtp_server.wait_for(1)] == ["Second try"]
    assert outbox.stores().outbox.items() == [] and outbox.stores().drafts.items() == []


def test_no_password_stored_asks_and_cancel_keeps_it_in_outbox(make_app, smtp_server,
                                                                test_keyring):
    app = make_app(tabs=[])
    add_account(app, smtp_server)
    app.secrets.delete(accounts.secret_key("work", "smtp"))
    win = open_compose(app, "work")
    fill(win)
    send_and_wait(app, win)
    status = win.form.status.cget("text")
    assert "No password is stored for sending from work" in status and "Outbox" in status
    assert len(outbox.stores().outbox.items()) == 1
    prompt = win.password_prompt
    assert prompt is not None and prompt.problem == ""
    assert prompt.form.widgets["password"].cget("show") == "•"
    prompt.cancel_button.invoke()
    pump(app.root, timeout=0.2)
    assert win.password_prompt is None and win.send_task.state == "failed"
    assert "Outbox" in win.form.status.cget("text")
    assert len(outbox.stores().outbox.items()) == 1 and smtp_server.received == []
    assert test_keyring.store == {}
    win.close()


def test_smtp_password_prompt_sends_and_remembers_when_ticked(make_app, smtp_server,
                                                              isolated_config, test_keyring):
    app = make_app(tabs=[])
    add_account(app, smtp_server)
    key = ("netgui", accounts.secret_key("work", "smtp"))
    test_keyring.store[key] = "an-old-password"
    win = open_compose(app, "work")
    fill(win, subject="Needs a password")
    send_and_wait(app, win)
    prompt = win.password_prompt
    assert "refused the user name or password" in prompt.problem
    [meta] = outbox.stores().outbox.items()
    assert meta["state"] == "failed", "a refused message stays in the Outbox"
    prompt.answer("still-wrong", remember=True)
    pump(app.root, until=lambda: win.password_prompt not in (None, prompt), timeout=20,
         message="the password to be asked again")
    assert test_keyring.store[key] == "an-old-password", "a refused password is not stored"
    assert len(outbox.stores().outbox.items()) == 1
    win.password_prompt.answer(smtp_server.password, remember=True)
    pump(app.root, until=lambda: not win.winfo_exists(), timeout=20, message="sending")
    assert smtp_server.wait_for(1)[0].message()["Subject"] == "Needs a password"
    assert test_keyring.store[key] == smtp_server.password
    assert outbox.stores().outbox.items() == []
    for path in isolated_config.rglob("*"):
        if path.is_file():
            assert smtp_server.password.encode() not in path.read_bytes()
            assert b"still-wrong" not in path.read_bytes()


def test_smtp_password_not_remembered_unless_ticked(make_app, smtp_server, test_keyring):
    app = make_app(tabs=[])
    add_account(app, smtp_server)
    app.secrets.delete(accounts.secret_key("work", "smtp"))
    win = open_compose(app, "work")
    fill(win, subject="Once")
    lines = []
    shown = win.transcript.append
    win.transcript.append = lambda d, t: (lines.append(f"{d} {t}"), shown(d, t))
    send_and_wait(app, win)
    win.password_prompt.answer(smtp_server.password)
    pump(app.root, until=lambda: not win.winfo_exists(), timeout=20, message="sending")
    assert smtp_server.wait_for(1)[0].message()["Subject"] == "Once"
    assert test_keyring.store == {}
    transcript = "\n".join(lines)
    assert "AUTH PLAIN ****" in transcript and smtp_server.password not in transcript


def test_cancel_sending_keeps_message_in_outbox(make_app, smtp_server):
    import socket
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)
    try:
        app = make_app(tabs=[])
        add_account(app, smtp_server, smtp_port=silent.getsockname()[1], smtp_security="none")
        win = open_compose(app, "work")
        fill(win, subject="Stuck")
        win.form.submit_button.invoke()
        pump(app.root, until=lambda: "Connected" in win.transcript.contents(), timeout=10,
             message="connected")
        assert win.form.busy and win.sending
        win.cancel_button.invoke()
        pump(app.root, until=lambda: not win.send_task.running, timeout=10, message="cancel")
        assert win.send_task.state == "cancelled"
        assert "Cancelled" in win.form.status.cget("text")
        assert "Outbox" in win.form.status.cget("text")
        assert not win.form.busy
        assert outbox.stores().outbox.items()[0]["error"] == "Cancelled"
        win.close()
    finally:
        silent.close()


def test_large_attachment_shows_progress(make_app, smtp_server, tmp_path):
    app = make_app(tabs=[])
    add_account(app, smtp_server)
    big = tmp_path / "big.bin"
    big.write_bytes(bytes(range(256)) * 16 * 1024)  # 4 MiB
    win = open_compose(app, "work")
    fill(win, subject="Big one")
    attach(app, win, big)
    seen = []
    shown = win.progress.update
    win.progress.update = lambda p=None: (seen.append(p), shown(p))
    send_and_wait(app, win, timeout=60)
    assert not win.winfo_exists()
    assert seen and seen[-1].total and seen[-1].done == seen[-1].total > 4 * 1024 * 1024
    got = smtp_server.wait_for(1)[0].message()
    assert list(got.iter_attachments())[0].get_payload(decode=True) == big.read_bytes()


def test_return_in_a_field_moves_on_and_does_not_send(make_app, smtp_server):
    app = make_app(tabs=[])
    add_account(app, smtp_server)
    win = open_compose(app, "work")
    fill(win)
    win.form.widgets["to"].focus_force()
    pump(app.root, timeout=0.2)
    win.form.widgets["to"].event_generate("<Return>")
    pump(app.root, timeout=0.2)
    assert win.send_task is None
    assert win.focus_get() is win.form.widgets["cc"]
    win.form.widgets["subject"].focus_force()
    pump(app.root, timeout=0.2)
    win.form.widgets["subject"].event_generate("<Return>")
    pump(app.root, timeout=0.2)
    assert win.focus_get() is win.body and win.send_task is None
    win.close()


def test_weak_security_is_shown(make_app, smtp_server, smtp_plain_server):
    app = make_app(tabs=[])
    add_account(app, smtp_server, verify_tls=False)
    add_account(app, smtp_plain_server, name="plain")
    win = open_compose(app, "work")
    assert win.warning.cget("text") == "Certificate checks are off for this account"
    win.form.set_values({"account": win._label("plain")})
    assert win.warning.cget("text") == "This account sends without encryption"
    win.close()


def test_quitting_the_app_keeps_the_unsaved_text(make_app, smtp_server):
    app = make_app(tabs=[])
    add_account(app, smtp_server)
    win = open_compose(app, "work")
    fill(win, subject="Typed just before quitting")
    app.quit(ask=False)
    [meta] = outbox.stores().drafts.items()
    assert meta["subject"] == "Typed just before quitting"
    assert "Hello Bob" in outbox.open_draft(meta["id"]).body


def test_outbox_window_follows_changes_and_keeps_selection(make_app, monkeypatch):
    import netgui.tabs.mail.compose as mc
    monkeypatch.setattr(mc, "REFRESH_MS", 100)
    app = make_app(tabs=[])
    first = compose.Draft(account="work", sender="alice@example.test", to="bob@example.test",
                          subject="first")
    outbox.save_draft(first)
    box = open_outbox(app)
    box.drafts.selection_set(first.id)
    assert box.outbox.get_children() == ()
    queued = compose.Draft(account="work", sender="alice@example.test", to="bob@example.test",
                           subject="queued elsewhere")
    outbox.queue(queued)
    pump(app.root, until=lambda: box.outbox.get_children() == (queued.id,), timeout=5,
         message="the window to notice the new Outbox item")
    assert box.drafts.selection() == (first.id,)
    assert box.notebook.tab(0, "text") == "Outbox (1)"
    box.destroy()


def test_without_any_account_the_window_explains(make_app):
    app = make_app(tabs=[])
    win = open_compose(app)
    fill(win)
    win.form.submit_button.invoke()
    assert win.send_task is None
    assert win.form.status.cget("text").startswith("Set up a mail account")
    task = win.close()
    pump(app.root, until=lambda: task is None or not task.running, timeout=5, message="save")
    assert len(outbox.stores().drafts.items()) == 1, "what was typed is kept as a draft"


def test_compose_and_outbox_windows_follow_the_theme(make_app, smtp_server):
    from netgui.ui.theme import DARK, LIGHT
    app = make_app(tabs=[])
    add_account(app, smtp_server)
    win = open_compose(app, "work")
    box = open_outbox(app)
    pump(app.root, timeout=0.1)
    assert win.body.cget("background") == LIGHT.field_bg
    app.set_theme("dark")
    pump(app.root, timeout=0.1)
    assert win.body.cget("background") == DARK.field_bg
    assert win.body.cget("foreground") == DARK.fg
    assert win.transcript.text.cget("background") == DARK.field_bg
    assert box.transcript.text.cget("background") == DARK.field_bg
    app.set_theme("light")
    assert win.body.cget("background") == LIGHT.field_bg
    assert box.transcript.text.cget("background") == LIGHT.field_bg
    win.close()
    box.destroy()
    assert app._theme_listeners == [], "closed windows no longer listen"
    app.set_theme("dark")  # nothing left that could touch a destroyed widget


def test_empty_subject_asks_first(make_app, smtp_server, monkeypatch):
    from netgui.ui import dialogs
    app = make_app(tabs=[])
    add_account(app, smtp_server)
    win = open_compose(app, "work")
    fill(win, subject="  ")
    asked = []
    monkeypatch.setattr(dialogs, "confirm", lambda parent, title, message, detail=None:
                        asked.append(message) or False)
    win.form.submit_button.invoke()
    assert asked == ["Send without a subject?"]
    assert win.send_task is None and outbox.stores().outbox.items() == []
    pump(app.root, timeout=0.1)
    assert win.focus_get() is win.form.widgets["subject"]
    assert smtp_server.received == []
    monkeypatch.setattr(dialogs, "confirm", lambda parent, title, message, detail=None:
                        asked.append(message) or True)
    send_and_wait(app, win)
    assert len(asked) == 2 and not win.winfo_exists()
    [got] = smtp_server.wait_for(1)
    assert got.message()["Subject"] in (None, "")
    assert got.message().get_body(("plain",)).get_content().startswith("Hello Bob,")


def test_a_subject_sends_without_asking(make_app, smtp_server, monkeypatch):
    from netgui.ui import dialogs
    app = make_app(tabs=[])
    add_account(app, smtp_server)
    win = open_compose(app, "work")
    fill(win, subject="Hi")
    monkeypatch.setattr(dialogs, "confirm", lambda *a, **k: pytest.fail("asked"))
    send_and_wait(app, win)
    assert smtp_server.wait_for(1)[0].message()["Subject"] == "Hi"


def test_outbox_retry_asks_for_a_missing_smtp_password(make_app, smtp_server, test_keyring):
    app = make_app(tabs=[])
    add_account(app, smtp_server)
    app.secrets.delete(accounts.secret_key("work", "smtp"))
    win = open_compose(app, "work")
    fill(win, subject="Later")
    send_and_wait(app, win)
    win.password_prompt.cancel()
    win.close()
    [meta] = outbox.stores().outbox.items()
    box = open_outbox(app)
    task = box.retry()
    pump(app.root, until=lambda: not task.running and box.password_prompt is not None,
         timeout=20, message="the password dialog")
    assert "still waiting: No password is stored" in box.status.cget("text")
    assert outbox.stores().outbox.items()[0]["id"] == meta["id"]
    box.password_prompt.answer(smtp_server.password, remember=True)
    pump(app.root, until=lambda: box.outbox.get_children() == ()
         and not box.task.running, timeout=20, message="the retry with the password")
    assert box.status.cget("text") == "Sent 1 message"
    assert smtp_server.wait_for(1)[0].message()["Subject"] == "Later"
    assert test_keyring.store[("netgui", accounts.secret_key("work", "smtp"))] == \
        smtp_server.password
    box.destroy()
