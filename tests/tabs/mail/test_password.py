"""The Mail tab asks for a missing or refused password, against a real Dovecot."""

from __future__ import annotations

from netgui.net.mail import accounts
from tests.support.dovecot import PASSWORD, dovecot, mailuser  # noqa: F401  (fixtures)
from tests.support.tk import pump
from tests.tabs.mail.test_tab import MAIL, fill_mailbox, wait_rows

KEY = ("netgui", "mail/Work/incoming")


def add_account(app, server, user, password=None, protocol="imap"):
    """An account whose password is ``password`` in the keyring (None: nothing stored)."""
    accounts.save_account(app.settings, app.secrets, "Work", {
        "display_name": "Bob", "email": f"{user}@example.org", "incoming_protocol": protocol,
        "incoming_host": "127.0.0.1",
        "incoming_port": server.imap_port if protocol == "imap" else server.pop3_port,
        "incoming_security": "none", "incoming_user": user, "smtp_host": "127.0.0.1",
        "smtp_port": 2525, "smtp_security": "none"}, incoming_password=password)
    tab = app.tab("mail")
    tab.reload_accounts()
    return tab


def wait_prompt(app, tab, other_than=None):
    pump(app.root, lambda: tab.password_prompts.get("Work") not in (None, other_than),
         message=f"the password dialog (status {tab.status.cget('text')!r})")
    return tab.password_prompts["Work"]


def assert_nowhere_on_disk(config, secret):
    for path in config.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path


def test_no_stored_password_asks_and_a_wrong_one_asks_again(make_app, mailuser, isolated_config,
                                                            test_keyring):
    server, user, _ = mailuser
    fill_mailbox(server, user)
    app = make_app(tabs=MAIL)
    tab = add_account(app, server, user)
    dialog = wait_prompt(app, tab)
    assert dialog.winfo_toplevel() is dialog and dialog.winfo_exists()
    assert dialog.problem == "", "nothing was refused yet: no error line"
    assert dialog.form.widgets["password"].cget("show") == "•"
    assert not dialog.form.get("remember")
    pump(app.root, lambda: not tab.busy_tasks(), message="the tab to settle")
    assert tab.status.cget("text") == "Work: waiting for the password"
    pump(app.root, lambda: dialog.grab_status() == "local", message="a modal dialog")

    dialog.answer("not-the-password", remember=True)
    assert not dialog.winfo_exists()
    again = wait_prompt(app, tab, other_than=dialog)
    assert "refused the user name or password" in again.problem
    assert KEY not in test_keyring.store, "a refused password is not remembered"

    again.answer(PASSWORD, remember=False)
    wait_rows(app, tab, 5)
    assert tab.password_prompts == {}
    assert KEY not in test_keyring.store, "not remembered unless ticked"
    transcript = tab._transcript("Work").contents()
    assert "LOGIN" in transcript and "****" in transcript
    assert PASSWORD not in transcript and "not-the-password" not in transcript
    app.settings.flush()
    assert_nowhere_on_disk(isolated_config, PASSWORD)
    assert_nowhere_on_disk(isolated_config, "not-the-password")


def test_remember_password_stores_it_in_the_keyring(make_app, mailuser, test_keyring):
    server, user, _ = mailuser
    fill_mailbox(server, user)
    app = make_app(tabs=MAIL)
    tab = add_account(app, server, user)
    wait_prompt(app, tab).answer(PASSWORD, remember=True)
    wait_rows(app, tab, 5)
    assert test_keyring.store[KEY] == PASSWORD


def test_a_refused_stored_password_asks_for_a_new_one(make_app, mailuser, test_keyring):
    server, user, _ = mailuser
    fill_mailbox(server, user)
    app = make_app(tabs=MAIL)
    tab = add_account(app, server, user, password="an-old-password")
    dialog = wait_prompt(app, tab)
    assert "refused the user name or password" in dialog.problem
    dialog.answer(PASSWORD, remember=True)
    wait_rows(app, tab, 5)
    assert test_keyring.store[KEY] == PASSWORD


def test_cancel_leaves_the_account_offline(make_app, mailuser, capsys):
    server, user, _ = mailuser
    fill_mailbox(server, user)
    app = make_app(tabs=MAIL)
    tab = add_account(app, server, user, protocol="pop3")
    dialog = wait_prompt(app, tab)
    dialog.cancel_button.invoke()
    assert not dialog.winfo_exists()
    pump(app.root, lambda: not tab.busy_tasks(), message="the tab to settle")
    pump(app.root, timeout=0.3)
    status = tab.status.cget("text")
    assert status == "Work is offline: no password was given (Get mail to try again)."
    assert tab.password_prompts == {} and tab.list.rows == {}
    assert "Traceback" not in capsys.readouterr().err
    assert "Internal error" not in app.status.cget("text")
    tab.get_mail()  # trying again asks again
    wait_prompt(app, tab).answer(PASSWORD)
    wait_rows(app, tab, 5)
