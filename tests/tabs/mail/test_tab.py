"""The Mail tab in a real window against a real Dovecot: accounts, list, viewer, actions, offline."""

from __future__ import annotations

import os
import re
import sys
import types

from netgui.net.mail import accounts
from netgui.net.mail.imap import ImapClient
from netgui.tabs import TabSpec
from tests.support import mailsamples as samples
from tests.support.dovecot import PASSWORD, dovecot, mailuser  # noqa: F401  (fixtures)
from tests.support.peers import free_port
from tests.support.tk import pump

MAIL = [TabSpec("mail", "Mail", "netgui.tabs.mail", "MailTab")]


def add_account(app, server, user, name="Work", protocol="imap", port=None):
    port = port or (server.imap_port if protocol == "imap" else server.pop3_port)
    accounts.save_account(app.settings, app.secrets, name, {
        "display_name": "Bob", "email": f"{user}@example.org", "incoming_protocol": protocol,
        "incoming_host": "127.0.0.1", "incoming_port": port, "incoming_security": "none",
        "incoming_user": user, "smtp_host": "127.0.0.1", "smtp_port": 2525, "smtp_security": "none"},
        incoming_password=PASSWORD)
    app.tab("mail").reload_accounts()  # the tab was built when the window opened


def idle(tab):
    return not tab.busy_tasks()


def wait_rows(app, tab, count, timeout=20):
    pump(app.root, lambda: len(tab.list.rows) >= count and idle(tab), timeout=timeout,
         message=f"{count} rows (have {len(tab.list.rows)}; status {tab.status.cget('text')!r})")


def server_client(server, user):
    client = ImapClient("127.0.0.1", server.imap_port, "none", timeout=10)
    client.connect()
    client.login(user, PASSWORD)
    return client


def fill_mailbox(server, user):
    server.deliver(user, samples.plain(subject="Alpha", sender="Zed <zed@example.org>",
                                       date="Mon, 02 Mar 2026 09:00:00 +0000"))
    server.deliver(user, samples.latin1_body())
    server.deliver(user, samples.html_only())
    server.deliver(user, samples.multipart_with_attachments())
    server.deliver(user, samples.encoded_headers(), seen=True)


def test_account_dialog_saves_profile_and_keeps_password_in_keyring(make_app, isolated_config,
                                                                    test_keyring):
    app = make_app(tabs=MAIL)
    tab = app.tab("mail")
    assert "No mail account" in tab.status.cget("text")
    dialog = tab.manage_accounts()
    form = dialog.form
    form.set_values({"name": "Home", "display_name": "Ann", "email": "ann@example.org",
                     "incoming_host": "imap.example.org", "incoming_password": "pw-in-keyring",
                     "smtp_host": "smtp.example.org"})
    form.set("incoming_protocol", "POP3")
    app.root.update()
    assert form.get("incoming_port") == 995
    form.set("incoming_security", "STARTTLS")
    form.set("smtp_security", "TLS")
    app.root.update()
    assert form.get("incoming_port") == 110 and form.get("smtp_port") == 465
    form.set("email", "not an address")
    form.submit_button.invoke()
    assert "Not an e-mail address" in form.message("email")
    form.set("email", "ann@example.org")
    form.submit_button.invoke()
    profile = app.settings.profile("mail", "Home")
    assert profile == {**accounts.DEFAULTS, "display_name": "Ann", "email": "ann@example.org",
                       "incoming_protocol": "pop3", "incoming_host": "imap.example.org",
                       "incoming_port": 110, "incoming_security": "starttls",
                       "incoming_user": "ann@example.org", "smtp_host": "smtp.example.org",
                       "smtp_port": 465, "smtp_security": "tls"}
    assert test_keyring.store[("netgui", "mail/Home/incoming")] == "pw-in-keyring"
    for root, _, files in os.walk(isolated_config):
        for name in files:
            assert b"pw-in-keyring" not in open(os.path.join(root, name), "rb").read()
    assert tab.folders.exists("Home")
    dialog.delete(ask=False)
    assert app.settings.profiles("mail") == {}
    assert ("netgui", "mail/Home/incoming") not in test_keyring.store
    dialog.destroy()


def test_read_flag_search_move_delete_and_reopen_offline(make_app, mailuser, tmp_path,
                                                         isolated_config, monkeypatch):
    server, user, _ = mailuser
    fill_mailbox(server, user)
    app = make_app(tabs=MAIL)
    add_account(app, server, user)
    tab = app.tab("mail")
    wait_rows(app, tab, 5)
    lst = tab.list
    assert {"INBOX", "Sent", "Drafts", "Trash", "Junk"} <= set(tab.folder_names("Work"))
    pump(app.root, lambda: tab.folders.item("Work\x1fINBOX", "text") == "Inbox (4)",
         message="unread count in the folder tree")
    first_look = tab.transcripts["Work"].contents()
    logins = [line for line in first_look.splitlines() if re.search(r"→ \w+ LOGIN ", line)]
    assert len(logins) == 2  # one connection for the list and the folders, one to IDLE
    assert "(UID FLAGS)" not in first_look  # the Inbox was listed once, not synced again
    assert not tab.spinner.spinning  # and the tab says it is done
    # newest date first by default; the multipart message is the newest
    shown = [lst.rows[u].subject for u in lst.shown_uids()]
    assert shown[0] == "Files attached"
    top = lst.shown_uids()[0]
    lst.see(top)
    marks = lst.tree.set(str(top), "marks")
    assert "●" in marks and "◫" in marks
    enc = next(u for u, r in lst.rows.items() if r.subject == "Grüße aus Köln €50")
    lst.see(enc)  # the list is virtual: only rows in view are in the Treeview
    assert "●" not in lst.tree.set(str(enc), "marks")
    # sort by sender, then reverse
    lst.tree.heading("sender")["command"]  # noqa: B018 - heading exists
    lst.sort_by("sender")
    senders = [lst.rows[u].sender.casefold() for u in lst.shown_uids()]
    assert senders == sorted(senders)
    lst.sort_by("sender")
    assert [lst.rows[u].sender.casefold() for u in lst.shown_uids()] == sorted(senders, reverse=True)
    lst.sort_by("date")

    # open the multipart message: plain text, attachments, image preview, source
    lst.select(top)
    pump(app.root, lambda: tab.viewer.message is not None, message="message shown")
    viewer = tab.viewer
    assert viewer.body_text().strip() == "The plain part wins."
    assert viewer.header_labels["subject"].cget("text") == "Files attached"
    names = [viewer.attachments.set(i, "name") for i in viewer.attachments.get_children()]
    assert names[0] == "red.png" and "passwd" in names and "evil.exe" in names
    assert viewer.preview_size == (8, 6)
    viewer.show_source()
    assert "Content-Type: multipart/mixed" in viewer.source_text()
    lst.see(top)
    assert "●" not in lst.tree.set(str(top), "marks")
    hostile = next(a for a in viewer.message.attachments if a.name.startswith("../"))
    save_dir = tmp_path / "downloads"
    task = tab.save_attachment_to(hostile, save_dir)
    pump(app.root, lambda: not task.running, message="attachment saved")
    assert sorted(os.listdir(save_dir)) == ["passwd"]
    assert not (tmp_path / "etc").exists()

    # HTML-only message as safe text
    html_uid = next(u for u, r in lst.rows.items() if r.subject == "HTML only")
    lst.select(html_uid)
    pump(app.root, lambda: viewer.message is not None and viewer.message.subject == "HTML only",
         message="html shown")
    assert "more here <https://example.com/more>" in viewer.body_text()
    assert "nothing remote was loaded" in viewer.note.cget("text")

    # flag and unread go to the server
    lst.select(top)
    pump(app.root, lambda: idle(tab))
    tab.buttons["flag"].invoke()
    pump(app.root, lambda: idle(tab), message="flag stored")
    lst.see(top)
    assert "⚑" in lst.tree.set(str(top), "marks")
    tab.buttons["read"].invoke()
    pump(app.root, lambda: idle(tab), message="unread stored")
    client = server_client(server, user)
    client.select("INBOX")
    assert set(client.fetch_flags()[top]) == {"\\Flagged"}

    # server-side search filters the list
    tab.search_var.set("café")
    tab.buttons["find"].invoke()
    pump(app.root, lambda: lst.filter is not None and idle(tab), message="search")
    assert [lst.rows[u].subject for u in lst.shown_uids()] == ["Café"]
    assert "1 found" in tab.status.cget("text")
    tab.clear_search()
    assert len(lst.shown_uids()) == 5

    # move to Junk, delete to Trash
    alpha = next(u for u, r in lst.rows.items() if r.subject == "Alpha")
    lst.select(alpha)
    tab.move_selected("Junk")
    pump(app.root, lambda: alpha not in lst.rows and idle(tab), message="moved")
    lst.select(html_uid)
    tab.buttons["delete"].invoke()
    pump(app.root, lambda: html_uid not in lst.rows and idle(tab), message="deleted")
    assert "Moved 1 to Trash" in tab.status.cget("text")
    client.noop()  # take the server's EXPUNGE news
    assert len(client.uids("INBOX")) == 3 and len(client.uids("Junk")) == 1
    assert len(client.uids("Trash")) == 1

    # new mail arrives while the tab is open (IDLE), without pressing Get mail
    server.deliver(user, samples.plain(subject="Arrived by itself"))
    pump(app.root, lambda: any(r.subject == "Arrived by itself" for r in lst.rows.values()),
         timeout=20, message="new mail via IDLE")
    client.close()

    # the transcript is per account and masks the password
    text = tab.transcripts["Work"].contents()
    assert "LOGIN" in text and "****" in text and PASSWORD not in text
    for folder in (isolated_config, isolated_config.parent / "data"):  # settings and mail cache
        for root, _, files in os.walk(folder):
            for name in files:
                assert PASSWORD.encode() not in open(os.path.join(root, name), "rb").read()

    # reopen with the server unreachable: the cached list and the opened message still show
    app.quit(ask=False)
    app2 = make_app(tabs=MAIL)
    add_account(app2, server, user, port=free_port())
    tab2 = app2.tab("mail")
    pump(app2.root, lambda: len(tab2.list.rows) == 4 and idle(tab2), timeout=20,
         message="cached rows")
    assert "Connection refused" in tab2.status.cget("text")
    tab2.list.select(top)
    pump(app2.root, lambda: tab2.viewer.message is not None, message="cached message")
    assert tab2.viewer.body_text().strip() == "The plain part wins."


def test_reply_and_write_call_the_compose_side(make_app, mailuser, monkeypatch):
    server, user, _ = mailuser
    server.deliver(user, samples.encoded_headers())
    calls = []
    fake = types.ModuleType("netgui.tabs.mail.compose")
    fake.open_compose = lambda app, account, mode="new", original=None: calls.append(
        (account, mode, original))
    fake_outbox = types.ModuleType("netgui.tabs.mail.outbox")
    fake_outbox.open_outbox = lambda app: calls.append(("outbox",))
    import netgui.tabs.mail as mail_pkg
    for name, module in (("compose", fake), ("outbox", fake_outbox)):
        monkeypatch.setitem(sys.modules, f"netgui.tabs.mail.{name}", module)
        monkeypatch.setattr(mail_pkg, name, module, raising=False)
    app = make_app(tabs=MAIL)
    add_account(app, server, user)
    tab = app.tab("mail")
    wait_rows(app, tab, 1)
    tab.buttons["reply"].invoke()
    assert calls == [] and "Open a message first" in tab.status.cget("text")
    tab.list.select(tab.list.shown_uids()[0])
    pump(app.root, lambda: tab.viewer.message is not None, message="opened")
    for key in ("write", "reply", "reply_all", "forward", "outbox"):
        tab.buttons[key].invoke()
    assert [c[:2] for c in calls] == [("Work", "new"), ("Work", "reply"), ("Work", "reply_all"),
                                      ("Work", "forward"), ("outbox",)]
    original = calls[1][2]
    assert original["Message-ID"] == "<enc@example.de>" and str(original["Subject"]).startswith("Grüße")


def test_pop3_account_lists_and_deletes_only_after_confirmation(make_app, mailuser, monkeypatch):
    server, user, _ = mailuser
    server.deliver(user, samples.plain(subject="Pop one"))
    server.deliver(user, samples.koi8r_body())
    app = make_app(tabs=MAIL)
    add_account(app, server, user, name="Old", protocol="pop3")
    tab = app.tab("mail")
    wait_rows(app, tab, 2)
    assert tab.folder_names("Old") == ["INBOX"]
    koi = next(u for u, r in tab.list.rows.items() if r.subject == "Привет")
    tab.list.select(koi)
    pump(app.root, lambda: tab.viewer.message is not None, message="pop3 message")
    assert "Привет, мир!" in tab.viewer.body_text()
    answers = []
    from netgui.ui import dialogs
    monkeypatch.setattr(dialogs, "confirm", lambda *a, **k: answers.append(a) or False)
    tab.buttons["delete"].invoke()
    pump(app.root, lambda: idle(tab))
    assert len(answers) == 1 and koi in tab.list.rows
    monkeypatch.setattr(dialogs, "confirm", lambda *a, **k: True)
    tab.buttons["delete"].invoke()
    pump(app.root, lambda: koi not in tab.list.rows and idle(tab), message="pop3 delete")
    from netgui.net.mail.pop3 import Pop3Client
    with Pop3Client("127.0.0.1", server.pop3_port, "none", timeout=10) as pop:
        pop.connect()
        pop.login(user, PASSWORD)
        assert len(pop.uidl()) == 1


def test_tls_account_and_an_untrusted_certificate(make_app, mailuser, monkeypatch):
    server, user, _ = mailuser
    server.deliver(user, samples.plain(subject="Over TLS"))
    monkeypatch.setenv("NETGUI_CA_FILE", server.ca_file)
    app = make_app(tabs=MAIL)
    accounts.save_account(app.settings, app.secrets, "Secure", {
        "email": f"{user}@example.org", "incoming_host": "127.0.0.1",
        "incoming_port": server.imaps_port, "incoming_security": "tls", "incoming_user": user},
        incoming_password=PASSWORD)
    tab = app.tab("mail")
    tab.reload_accounts()
    wait_rows(app, tab, 1)
    assert [r.subject for r in tab.list.rows.values()] == ["Over TLS"]
    assert "TLS" in tab.transcripts["Secure"].contents()
    app.quit(ask=False)
    monkeypatch.delenv("NETGUI_CA_FILE")
    app2 = make_app(tabs=MAIL)
    tab2 = app2.tab("mail")
    tab2.reload_accounts()
    pump(app2.root, lambda: idle(tab2) and "not trusted" in tab2.status.cget("text"), timeout=20,
         message="certificate error in the status line")
    assert len(tab2.status.cget("text").splitlines()) == 1
    assert [r.subject for r in tab2.list.rows.values()] == ["Over TLS"]  # the cache still shows it


def test_cancel_a_hanging_server_and_open_an_attachment(make_app, mailuser, monkeypatch):
    import socket
    server, user, _ = mailuser
    server.deliver(user, samples.multipart_with_attachments())
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(5)  # accepts connections but never greets
    try:
        app = make_app(tabs=MAIL)
        add_account(app, server, user, name="Silent", port=silent.getsockname()[1])
        tab = app.tab("mail")
        pump(app.root, timeout=0.8)  # its tasks now wait for a greeting that never comes
        assert tab.busy_tasks()
        assert str(tab.cancel_button.cget("state")) != "disabled"
        tab.cancel_button.invoke()
        pump(app.root, lambda: idle(tab), timeout=5, message="cancelled quickly")
        assert "Cancelled" in tab.status.cget("text")
    finally:
        silent.close()
    opened = []
    app2 = make_app(tabs=MAIL)
    accounts.delete_account(app2.settings, app2.secrets, "Silent")
    add_account(app2, server, user)
    tab2 = app2.tab("mail")
    tab2.opener = opened.append
    wait_rows(app2, tab2, 1)
    tab2.list.select(tab2.list.shown_uids()[0])
    pump(app2.root, lambda: tab2.viewer.message is not None, message="opened")
    tab2.viewer.open_button.invoke()
    pump(app2.root, lambda: opened and idle(tab2), message="attachment handed to the desktop")
    assert opened[0].name == "red.png" and opened[0].read_bytes() == samples.png_bytes()
    # a program asks first; saying no opens nothing
    from netgui.ui import dialogs
    asked = []
    monkeypatch.setattr(dialogs, "confirm", lambda *a, **k: asked.append(a[2]) or False)
    exe = next(a for a in tab2.viewer.message.attachments if a.safe_name == "evil.exe")
    assert tab2.open_attachment(exe) is None
    assert asked == ["evil.exe is a program or script."] and len(opened) == 1
