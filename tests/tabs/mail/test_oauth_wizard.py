"""Issue 17's "done when", in the real window: a new account for a test domain is set up from
the address alone (autoconfig through nginx and dnsmasq), signs in at the local authorization
server (the test plays the browser over HTTP), reads and sends mail with OAuth2 (Dovecot's
oauth2 passdb, aiosmtpd), and survives token expiry and revocation."""

from __future__ import annotations

import threading

import pytest

from netgui.net.mail import accounts, signin
from netgui.net.mail.autoconfig import Discovery, Resolver
from netgui.tabs import TabSpec
from netgui.tabs.mail.compose import open_compose
from netgui.tabs.mail.wizard import METHODS, AccountWizard
from tests.support import mailsamples as samples
from tests.support.autoconfig_peers import discovery_peers  # noqa: F401 (fixture)
from tests.support.oauth_peers import oauth_server  # noqa: F401 (fixture)
from tests.support.oauth_server import Browser
from tests.support.smtp import smtp_ca  # noqa: F401 (fixture)
from tests.support.tk import pump

MAIL = [TabSpec("mail", "Mail", "netgui.tabs.mail", "MailTab")]
pytestmark = pytest.mark.timeout(150)


@pytest.fixture
def discovering(discovery_peers, monkeypatch):
    """The wizard asks the test's dnsmasq and trusts the test CAs (web, Dovecot, SMTP)."""
    peers = discovery_peers
    monkeypatch.setenv("NETGUI_CA_FILE", peers.ca_file)
    monkeypatch.setattr(AccountWizard, "make_discovery", staticmethod(
        lambda settings: Discovery(resolver=Resolver("127.0.0.1", peers.dns_port, timeout=3),
                                   ispdb_url=peers.ispdb_url, timeout=3)))
    return peers


class PlayedBrowser:
    """The system browser, played by tests.support.oauth_server.Browser in a thread."""

    def __init__(self, user: str, **kw):
        self.browser = Browser(user)
        self.kw = kw
        self.urls: list[str] = []
        self.works = True

    def __call__(self, url: str) -> bool:
        self.urls.append(url)
        if not self.works:
            return False
        threading.Thread(target=self.browser.open, args=(url,), kwargs=self.kw,
                         daemon=True).start()
        return True


def start_wizard(app, user: str, domain: str = "oauth.test"):
    tab = app.tab("mail")
    wizard = tab.add_account()
    wizard.start_form.set_values({"display_name": "Test User", "email": f"{user}@{domain}"})
    wizard.start_form.submit_button.invoke()
    pump(app.root, lambda: wizard.page == "check", timeout=60,
         message=f"discovery (status {wizard.look_status.cget('text')!r})")
    return tab, wizard


def idle(tab):
    return not tab.busy_tasks()


def test_account_from_the_address_alone_reads_sends_and_survives_expiry_and_revocation(
        make_app, discovering, oauth_server, isolated_config, test_keyring):
    peers = discovering
    user = "user271"
    peers.dovecot.deliver(user, samples.plain(subject="Welcome to OAuth", sender="ops@oauth.test"))
    app = make_app(tabs=MAIL)
    browser = PlayedBrowser(user)
    app.tab("mail").open_browser = browser
    tab, wizard = start_wizard(app, user)

    # what was found, and how: the domain's own config file over HTTPS, with its sign-in server
    how = wizard.how.cget("text")
    assert "the domain's own configuration file" in how
    assert "https://autoconfig.oauth.test/mail/config-v1.1.xml" in how
    assert [wizard.step_marks[s].cget("text") for s in ("autoconfig", "ispdb")] == ["✓", "·"]
    assert wizard.in_form.get("incoming_host") == peers.mail_ip
    assert wizard.in_form.get("incoming_user") == user
    assert wizard.out_form.get("smtp_host") == peers.mail_ip
    assert wizard.auth_form.get("method") == METHODS["oauth2"]
    assert wizard.client_form.get("client_id") == "netgui-test"  # the config's public client
    assert f"127.0.0.1:{oauth_server.port}" in wizard.sign_in_note.cget("text")
    wizard.auth_form.set("name", "Work")

    wizard.continue_button.invoke()
    assert wizard.page == "finish"
    assert wizard.panel.heading.cget("text") == "Finish signing in in your browser"
    pump(app.root, lambda: not wizard.winfo_exists(), timeout=60, message="sign-in and test")
    assert browser.urls and "code_challenge_method=S256" in browser.urls[0]

    # saved: the profile, the refresh token in the keyring only, the client ID as a setting
    profile = accounts.load_account(app.settings, "Work")
    assert profile["incoming_auth"] == profile["smtp_auth_method"] == "oauth2"
    assert profile["oauth_provider"] == f"127.0.0.1:{oauth_server.port}"
    assert signin.client_id(app.settings, profile["oauth_provider"]) == "netgui-test"
    assert list(test_keyring.store) == [("netgui", "mail/Work/oauth-refresh")]
    refresh = test_keyring.store[("netgui", "mail/Work/oauth-refresh")]

    # reading: the Inbox lists over IMAP with XOAUTH2/OAUTHBEARER
    pump(app.root, lambda: len(tab.list.rows) >= 1 and idle(tab), timeout=30,
         message=f"the Inbox (status {tab.status.cget('text')!r})")
    assert [r.subject for r in tab.list.rows.values()] == ["Welcome to OAuth"]
    transcript = tab.transcripts["Work"].contents()
    assert "AUTHENTICATE OAUTHBEARER" in transcript and "→ ****" in transcript

    # sending: SMTP AUTH with the same access token, Sent filed on the IMAP server
    before = len(peers.smtp.received)
    win = open_compose(app, "Work")
    win.form.set_values({"to": "bob@example.test", "subject": "Signed in with OAuth2"})
    win.body.insert("1.0", "It works.\n")
    win.form.submit_button.invoke()
    pump(app.root, lambda: not win.winfo_exists(), timeout=30,
         message=f"sending ({win.form.status.cget('text') if win.winfo_exists() else ''!r})")
    got = peers.smtp.wait_for(before + 1)[-1]
    assert got.sender == f"{user}@oauth.test"
    assert peers.smtp.bearer.attempts[-1] == ("OAUTHBEARER", user, True)
    assert "saved in Sent" in app.status.cget("text")

    # expiry: the server refuses the access token; netgui refreshes once and goes on
    oauth_server.expire_access_tokens(user)
    tab.services["Work"].close()  # a new connection has to sign in
    tab.get_mail()
    pump(app.root, lambda: idle(tab), timeout=30, message="Get mail after expiry")
    transcript = tab.transcripts["Work"].contents()
    assert "The server refused the access token; refreshing it once" in transcript
    assert "Refreshing the access token: OK" in transcript
    assert not tab.sign_in_prompts
    new_refresh = test_keyring.store[("netgui", "mail/Work/oauth-refresh")]
    assert new_refresh != refresh  # rotated, and the new one kept

    # revocation: the refresh fails for good; the tab asks to sign in again
    oauth_server.revoke_grants(user)
    tab.services["Work"].close()
    tab.get_mail()
    pump(app.root, lambda: "Work" in tab.sign_in_prompts, timeout=30,
         message=f"the sign-in prompt (status {tab.status.cget('text')!r})")
    window = tab.sign_in_prompts["Work"]
    assert "Sign in to Work again" in window.problem.cget("text")
    assert ("netgui", "mail/Work/oauth-refresh") not in test_keyring.store  # dead: dropped
    window.sign_in_button.invoke()
    pump(app.root, lambda: not window.winfo_exists(), timeout=30, message="signing in again")
    pump(app.root, lambda: idle(tab) and "Work" not in tab.sign_in_prompts, timeout=30,
         message="Get mail after signing in again")
    assert test_keyring.store[("netgui", "mail/Work/oauth-refresh")] not in (refresh, new_refresh)
    assert "messages on the server" in tab.status.cget("text") or \
        "INBOX" in tab.status.cget("text"), tab.status.cget("text")

    # never a token in a file, a transcript or the window's status lines
    tokens = [t.access_token for t in oauth_server.store.tokens if t.user == user]
    tokens += [t.refresh_token for t in oauth_server.store.tokens if t.user == user]
    everything = tab.transcripts["Work"].contents() + win_transcript(win)
    for secret in tokens:
        assert secret not in everything
    for path in isolated_config.parent.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert not any(secret.encode() in data for secret in tokens), path


def win_transcript(win) -> str:
    try:
        return win.transcript.contents()
    except Exception:  # the compose window is gone after sending
        return ""


def test_denied_consent_saves_nothing(make_app, discovering, test_keyring):
    app = make_app(tabs=MAIL)
    app.tab("mail").open_browser = PlayedBrowser("user272", approve=False)
    tab, wizard = start_wizard(app, "user272")
    wizard.continue_button.invoke()
    panel = wizard.panel
    declined = "You declined access in the browser; nothing was saved"
    pump(app.root, lambda: panel.status.cget("text") == declined, timeout=30,
         message="the refusal in the sign-in panel")
    assert panel.retry_button.winfo_ismapped() and panel.cancel_button.cget("text") == "Close"
    panel.cancel_button.invoke()
    assert wizard.page == "check" and wizard.check_status.cget("text") == declined
    assert app.settings.profiles("mail") == {} and test_keyring.store == {}
    assert app.settings.get(signin.CLIENTS_KEY) is None and app.settings.get(signin.PROVIDERS_KEY) is None
    wizard.cancel()


def test_device_code_when_no_browser_opens(make_app, discovering, oauth_server, test_keyring):
    """No browser here: the code and the address to type it at, both copyable."""
    app = make_app(tabs=MAIL)
    browser = PlayedBrowser("user273")
    browser.works = False
    app.tab("mail").open_browser = browser
    # the test domain's sign-in server, with its device endpoint (as an RFC 8414 document gives)
    tab, wizard = start_wizard(app, "user273")
    wizard.provider["oauth"]["device_authorization_endpoint"] = \
        oauth_server.endpoints()["device_authorization_endpoint"]
    wizard.continue_button.invoke()
    panel = wizard.panel
    pump(app.root, lambda: panel.code_var.get() != "", timeout=30, message="a device code")
    assert panel.heading.cget("text") == "Sign in with a code"
    assert panel.link_var.get() == f"{oauth_server.base_url}/device"
    panel.copy_code()
    assert app.root.clipboard_get() == panel.code_var.get()
    panel.copy_link()
    assert app.root.clipboard_get() == f"{oauth_server.base_url}/device"
    # the user types the code on their phone
    threading.Thread(target=Browser("user273").enter_device_code,
                     args=(panel.link_var.get(), panel.code_var.get()), daemon=True).start()
    pump(app.root, lambda: not wizard.winfo_exists(), timeout=60,
         message=f"device sign-in ({wizard.finish_status.cget('text')!r})")
    assert accounts.load_account(app.settings, "user273@oauth.test")["incoming_auth"] == "oauth2"


def test_plaintext_is_never_chosen_silently(make_app, discovering, test_keyring):
    app = make_app(tabs=MAIL)
    tab, wizard = start_wizard(app, "e", domain="plain.test")
    assert "Only unencrypted connections were found" in wizard.notes.cget("text")
    assert wizard.in_form.get("incoming_security") == "None (unencrypted)"
    wizard.pw_form.set("password", "secret")
    wizard.continue_button.invoke()
    assert wizard.page == "check"
    assert "Use the unencrypted connection anyway" in wizard.check_status.cget("text")
    assert app.settings.profiles("mail") == {}
    wizard.cancel()


def test_cancel_while_looking(make_app, discovering):
    app = make_app(tabs=MAIL)
    tab = app.tab("mail")
    wizard = tab.add_account()
    wizard.start_form.set_values({"email": "h@nothing.test"})
    wizard.start_form.submit_button.invoke()
    assert wizard.page == "looking"
    task = wizard.task
    wizard.cancel_lookup()
    assert wizard.page == "start"
    pump(app.root, lambda: not task.running, timeout=20, message="discovery to stop")
    assert task.state == "cancelled"
    wizard.cancel()
