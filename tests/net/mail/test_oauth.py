"""OAuth2 sign-in and SASL bearer mechanisms against real peers: the Authlib test
authorization server, Dovecot's oauth2 passdb (introspection) and aiosmtpd."""

from __future__ import annotations

import threading
import time
import urllib.request

import pytest
import requests

from netgui.config import Secrets
from netgui.net.cancel import CancelToken
from netgui.net.errors import Cancelled, ConnectError, ProtocolError, TokenRejected
from netgui.net.mail.imap import ImapClient
from netgui.net.mail import oauth
from netgui.net.mail.oauth import (NoBrowser, OAuthConfig, SignInError, SignInNeeded, TokenManager,
                                   sign_in_browser, sign_in_device)
from netgui.net.mail.pop3 import Pop3Client
from netgui.net.mail.smtp import SmtpSession
from tests.support.oauth_peers import oauth_dovecot, oauth_server, oauth_smtp  # noqa: F401
from tests.support.oauth_server import PUBLIC_CLIENT, Browser, OAuthServer
from tests.support.smtp import smtp_ca, smtp_ca_file  # noqa: F401

pytestmark = pytest.mark.timeout(60)


def config_for(server: OAuthServer, **kw) -> OAuthConfig:
    ep = server.endpoints()
    return OAuthConfig(client_id=PUBLIC_CLIENT, scope="mail", timeout=5, **ep, **kw)


def in_browser(browser: Browser, **kw):
    """An ``open_browser`` that has the test browser follow the pages in another thread."""
    seen = {}

    def open_browser(url: str) -> bool:
        seen["url"] = url
        thread = threading.Thread(target=lambda: seen.setdefault("page", browser.open(url, **kw)),
                                  daemon=True)
        thread.start()
        seen["thread"] = thread
        return True

    open_browser.seen = seen
    return open_browser


class Transcript(list):
    def __call__(self, direction, text):
        self.append((direction, text))

    def text(self) -> str:
        return "\n".join(f"{d} {t}" for d, t in self)


_users = iter(range(200, 301))  # user1.. are the plain Dovecot's; keep apart anyway


@pytest.fixture
def user():
    return f"user{next(_users)}"


def sign_in(server, user, log=None) -> oauth.Grant:
    return sign_in_browser(config_for(server), open_browser=in_browser(Browser(user)),
                           log=log or Transcript(), timeout=20)


def imap(dovecot, log, security="tls"):
    port = dovecot.imaps_port if security == "tls" else dovecot.imap_port
    client = ImapClient("127.0.0.1", port, security, cafile=dovecot.ca_file, timeout=10, log=log)
    client.connect()
    return client


# -- the browser flow, and each protocol's mechanisms -----------------------------------------

@pytest.mark.parametrize("mechanism", ["XOAUTH2", "OAUTHBEARER"])
def test_browser_sign_in_then_imap(oauth_server, oauth_dovecot, user, mechanism):
    log = Transcript()
    grant = sign_in(oauth_server, user, log)
    assert grant.refresh_token and grant.expires_at > time.time() + 600
    with imap(oauth_dovecot, log) as client:
        assert client.authenticate_oauth(user, grant.access_token, mechanism) == mechanism
        assert any(f.special == "inbox" for f in client.list_folders())
    text = log.text()
    assert f"AUTHENTICATE {mechanism}" in text and "****" in text
    assert grant.access_token not in text and grant.refresh_token not in text
    assert "code=" not in text


@pytest.mark.parametrize("mechanism", ["XOAUTH2", "OAUTHBEARER"])
def test_pop3_and_smtp_mechanisms(oauth_server, oauth_dovecot, oauth_smtp, smtp_ca_file, user,
                                  mechanism):
    grant = sign_in(oauth_server, user)
    log = Transcript()
    with Pop3Client("127.0.0.1", oauth_dovecot.pop3s_port, "tls", cafile=oauth_dovecot.ca_file,
                    log=log) as pop:
        pop.connect()
        assert pop.authenticate_oauth(user, grant.access_token, mechanism) == mechanism
        assert pop.uidl() == {}
    with SmtpSession("127.0.0.1", oauth_smtp.port, security="starttls", user=user,
                     access_token=grant.access_token, oauth_mechanism=mechanism,
                     cafile=smtp_ca_file, log=log) as smtp:
        smtp.send(b"Subject: hi\r\n\r\nbody\r\n", f"{user}@example.test", ["bob@example.test"])
    assert oauth_smtp.bearer.attempts == [(mechanism, user, True)]
    assert oauth_smtp.wait_for(1)[0].sender == f"{user}@example.test"
    assert grant.access_token not in log.text()
    assert f"AUTH {mechanism} ****" in log.text()


def test_mechanism_is_chosen_from_capabilities(oauth_server, oauth_dovecot, user):
    grant = sign_in(oauth_server, user)
    with imap(oauth_dovecot, Transcript()) as client:
        assert client.authenticate_oauth(user, grant.access_token) == "OAUTHBEARER"


def test_long_tokens_like_real_providers(oauth_dovecot, oauth_smtp, smtp_ca_file, user):
    """Microsoft's access tokens are 1-2 KB: POP3 sends them after an empty challenge
    (RFC 5034's 255-octet line), IMAP as a continuation, SMTP on the AUTH line."""
    from tests.support.oauth_peers import shared_oauth_server
    server = shared_oauth_server()
    server.token_bytes = 1200
    try:
        grant = sign_in(server, user)
    finally:
        server.token_bytes = 32
    assert len(grant.access_token) > 1500
    log = Transcript()
    with Pop3Client("127.0.0.1", oauth_dovecot.pop3s_port, "tls", cafile=oauth_dovecot.ca_file,
                    log=log) as pop:
        pop.connect()
        pop.authenticate_oauth(user, grant.access_token, "XOAUTH2")
    with imap(oauth_dovecot, log) as client:
        client.authenticate_oauth(user, grant.access_token, "XOAUTH2")
    with SmtpSession("127.0.0.1", oauth_smtp.port, user=user, access_token=grant.access_token,
                     cafile=smtp_ca_file, log=log):
        pass
    assert grant.access_token not in log.text()


def test_someone_elses_token_is_refused(oauth_server, oauth_dovecot, user):
    grant = sign_in(oauth_server, user)
    with imap(oauth_dovecot, Transcript()) as client:
        with pytest.raises(TokenRejected, match="refused the sign-in for user1"):
            client.authenticate_oauth("user1", grant.access_token)


def test_no_token_over_plaintext(oauth_server, oauth_dovecot, user):
    with imap(oauth_dovecot, Transcript(), security="none") as client:
        with pytest.raises(ProtocolError, match="only over TLS"):
            client.authenticate_oauth(user, "whatever")


def test_server_without_oauth_says_so(user):
    from tests.support.dovecot import shared_dovecot
    plain = shared_dovecot()
    client = ImapClient("127.0.0.1", plain.imaps_port, "tls", cafile=plain.ca_file)
    with client:
        client.connect()
        with pytest.raises(ProtocolError, match="does not offer OAuth2 sign-in"):
            client.authenticate_oauth(user, "x")


# -- the device flow --------------------------------------------------------------------------

def test_device_flow(oauth_server, oauth_dovecot, user):
    browser = Browser(user)
    shown = []

    def show(code: oauth.DeviceCode):
        shown.append(code)
        threading.Thread(target=browser.enter_device_code,
                         args=(code.verification_uri, code.user_code), daemon=True).start()

    grant = sign_in_device(config_for(oauth_server), show, log=Transcript())
    assert len(shown) == 1 and "-" in shown[0].user_code
    with imap(oauth_dovecot, Transcript()) as client:
        client.authenticate_oauth(user, grant.access_token)


def test_device_flow_denied(oauth_server, user):
    browser = Browser(user)

    def show(code):
        threading.Thread(target=browser.enter_device_code,
                         args=(code.verification_uri, code.user_code, False), daemon=True).start()

    with pytest.raises(SignInError, match="You declined access"):
        sign_in_device(config_for(oauth_server), show)


def test_device_flow_cancelled(oauth_server):
    token = CancelToken()
    threading.Timer(0.3, token.cancel).start()
    with pytest.raises(Cancelled):
        sign_in_device(config_for(oauth_server), lambda code: None, token=token)


# -- refresh, rejection, revocation ------------------------------------------------------------

def manager(server, user, grant=None, **kw) -> tuple[TokenManager, Secrets]:
    secrets = Secrets()
    m = TokenManager(user, config_for(server), secrets, **kw)
    if grant:
        m.adopt(grant)
    return m, secrets


def login_imap(dovecot, user):
    def use(access_token):
        with imap(dovecot, Transcript()) as client:
            client.authenticate_oauth(user, access_token)
            return client.list_folders()
    return use


def test_refresh_token_lives_in_the_keyring_only(oauth_server, user, test_keyring, tmp_path):
    grant = sign_in(oauth_server, user)
    m, _ = manager(oauth_server, user, grant)
    assert test_keyring.store[("netgui", oauth.refresh_key(user))] == grant.refresh_token
    for path in tmp_path.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert grant.refresh_token.encode() not in data and grant.access_token.encode() not in data
    assert grant.access_token not in repr(grant)


def test_access_token_refreshed_before_expiry(oauth_server, oauth_dovecot, user):
    grant = sign_in(oauth_server, user)
    now = [time.time()]
    m, secrets = manager(oauth_server, user, grant, clock=lambda: now[0])
    assert m.access_token() == grant.access_token
    now[0] = grant.expires_at - 30  # within the minute before expiry
    fresh = m.access_token()
    assert fresh != grant.access_token
    # the refresh token was rotated and the new one stored; the old one is dead
    assert secrets.get(oauth.refresh_key(user)) not in (None, grant.refresh_token)
    login_imap(oauth_dovecot, user)(fresh)


def test_refused_token_is_refreshed_once(oauth_server, oauth_dovecot, user):
    grant = sign_in(oauth_server, user)
    m, _ = manager(oauth_server, user, grant)
    oauth_server.expire_access_tokens(user)  # the server says expired; we still think it good
    log = Transcript()
    folders = m.with_access_token(login_imap(oauth_dovecot, user), log=log)
    assert folders
    assert "refreshing it once" in log.text()
    assert m.access_token() != grant.access_token


def test_revoked_grant_asks_to_sign_in_again(oauth_server, oauth_dovecot, user):
    grant = sign_in(oauth_server, user)
    m, secrets = manager(oauth_server, user, grant)
    oauth_server.revoke_grants(user)
    with pytest.raises(SignInNeeded, match=f"Sign in to {user} again"):
        m.with_access_token(login_imap(oauth_dovecot, user))
    assert secrets.get(oauth.refresh_key(user)) is None
    with pytest.raises(SignInNeeded, match="no sign-in is stored"):
        m.access_token()


def test_restart_uses_the_stored_refresh_token(oauth_server, oauth_dovecot, user):
    grant = sign_in(oauth_server, user)
    manager(oauth_server, user, grant)
    fresh_process, _ = manager(oauth_server, user)  # nothing in memory, the keyring has it
    fresh_process.with_access_token(login_imap(oauth_dovecot, user))


def test_sign_out_revokes_at_the_provider(oauth_server, user):
    grant = sign_in(oauth_server, user)
    m, secrets = manager(oauth_server, user, grant)
    m.sign_out()
    assert secrets.get(oauth.refresh_key(user)) is None
    assert oauth_server.live_tokens(user) == []


def test_authorization_server_down():
    server = OAuthServer().start()
    grant = sign_in(server, "user5")
    m, secrets = manager(server, "user5", grant, clock=lambda: grant.expires_at)
    server.stop()
    with pytest.raises(ConnectError, match="Cannot reach the sign-in server 127.0.0.1"):
        m.access_token()
    assert secrets.get(oauth.refresh_key("user5")) == grant.refresh_token  # kept for later
    server.restart()
    try:
        assert m.access_token()
    finally:
        server.stop()


# -- what goes wrong in the browser -----------------------------------------------------------

def test_denied_consent(oauth_server, user, test_keyring):
    opener = in_browser(Browser(user), approve=False)
    with pytest.raises(SignInError, match="You declined access in the browser; nothing was saved"):
        sign_in_browser(config_for(oauth_server), open_browser=opener, timeout=20)
    assert test_keyring.store == {}
    opener.seen["thread"].join(10)  # the browser shows netgui's answer page
    assert "Sign-in not completed" in opener.seen["page"].text


def test_closed_browser_then_cancel(oauth_server, user):
    """The user closed the browser at the login page and pressed Cancel in netgui."""
    opener = in_browser(Browser(user), close_at="login")
    token = CancelToken()
    threading.Timer(0.5, token.cancel).start()
    with pytest.raises(Cancelled):
        sign_in_browser(config_for(oauth_server), open_browser=opener, token=token)
    redirect = dict(p.split("=", 1) for p in opener.seen["url"].split("?")[1].split("&"))
    port = int(urllib.request.unquote(redirect["redirect_uri"]).rsplit(":", 1)[1].split("/")[0])
    with pytest.raises(requests.ConnectionError):  # the listener is gone
        requests.get(f"http://127.0.0.1:{port}/", timeout=2)


def test_closed_browser_times_out(oauth_server, user):
    opener = in_browser(Browser(user), close_at="consent")
    with pytest.raises(SignInError, match="did not finish in time"):
        sign_in_browser(config_for(oauth_server), open_browser=opener, timeout=1)


def test_wrong_state_is_refused(oauth_server):
    """A page (CSRF) sends the listener a code with a state of its own: refused."""
    def forged(url: str) -> bool:
        redirect = urllib.request.unquote(url.split("redirect_uri=")[1].split("&")[0])
        threading.Thread(target=requests.get, args=(redirect,),
                         kwargs=dict(params={"code": "attacker-code", "state": "forged"}),
                         daemon=True).start()
        return True

    with pytest.raises(SignInError, match="state mismatch"):
        sign_in_browser(config_for(oauth_server), open_browser=forged, timeout=10)


def test_no_browser(oauth_server):
    with pytest.raises(NoBrowser, match="sign in with a code instead"):
        sign_in_browser(config_for(oauth_server), open_browser=lambda url: False)


def test_stray_requests_do_not_end_the_wait(oauth_server, user):
    browser = Browser(user)

    def opener(url):
        redirect = urllib.request.unquote(url.split("redirect_uri=")[1].split("&")[0])
        requests.get(redirect.rstrip("/") + "/favicon.ico", timeout=5)
        requests.get(redirect, timeout=5)  # no state, no error: not the answer
        threading.Thread(target=browser.open, args=(url,), daemon=True).start()
        return True

    assert sign_in_browser(config_for(oauth_server), open_browser=opener, timeout=20).access_token


def test_unknown_client_id(oauth_server, user):
    cfg = OAuthConfig(client_id="nobody", scope="mail", timeout=5, **oauth_server.endpoints())
    browser = Browser(user)
    opener = in_browser(browser)
    with pytest.raises(SignInError, match="did not finish in time"):
        sign_in_browser(cfg, open_browser=opener, timeout=2)
    opener.seen["thread"].join(5)
    assert opener.seen["page"].status_code == 400  # the provider's page says why


# -- the account wizard's core, end to end -------------------------------------------------------

def _preset(server: OAuthServer, dovecot, smtp) -> dict:
    ep = server.endpoints()
    return {"id": "testmail", "name": "Test Mail", "domains": ["oauth.test"], "mx_domains": [],
            "incoming": [{"type": "imap", "host": "127.0.0.1", "port": dovecot.imaps_port,
                          "security": "tls", "username": "%EMAILLOCALPART%", "auth": "oauth2"}],
            "outgoing": [{"type": "smtp", "host": "127.0.0.1", "port": smtp.port,
                          "security": "starttls", "username": "%EMAILLOCALPART%",
                          "auth": "oauth2"}],
            "oauth": dict(ep, scope="mail", client_secret_required=False)}


def _wizard(preset, email, name, opener, dovecot, smtp_ca_file, settings, secrets):
    """What the account wizard's worker does: discover, sign in, test, then save."""
    from netgui.net.mail import accounts
    from netgui.net.mail.autoconfig import Discovery, Resolver
    found = Discovery(resolver=Resolver("127.0.0.1", 9, timeout=0.5), providers=[preset],
                      ispdb_url=None, steps=("ispdb",)).discover(email)
    profile = found.to_profile(email, "Test User")
    cfg = oauth.config_for_provider(preset, PUBLIC_CLIENT)
    cfg = OAuthConfig(**{**cfg.__dict__, "timeout": 5})
    grant = sign_in_browser(cfg, open_browser=opener, login_hint=email, timeout=20)
    scratch = TokenManager(name, cfg, _Memory())  # nothing reaches the keyring before the end
    scratch.adopt(grant)
    scratch.with_access_token(lambda t: ImapClient.from_account(
        profile, None, access_token=t, cafile=dovecot.ca_file).close())
    scratch.with_access_token(lambda t: SmtpSession(
        profile["smtp_host"], profile["smtp_port"], security=profile["smtp_security"],
        user=profile["smtp_user"], access_token=t, cafile=smtp_ca_file).connect().close())
    return accounts.save_new_account(settings, secrets, name, profile,
                                     oauth_refresh_token=grant.refresh_token)


class _Memory(dict):
    def get(self, k):
        return super().get(k)

    def set(self, k, v):
        self[k] = v

    def delete(self, k):
        self.pop(k, None)


def test_wizard_core_end_to_end(oauth_server, oauth_dovecot, oauth_smtp, smtp_ca_file, user,
                                test_keyring):
    from netgui.config import Settings
    settings, secrets = Settings(), Secrets()
    saved = _wizard(_preset(oauth_server, oauth_dovecot, oauth_smtp), f"{user}@oauth.test",
                    "Work", in_browser(Browser(user)), oauth_dovecot, smtp_ca_file,
                    settings, secrets)
    assert saved["incoming_auth"] == "oauth2" and saved["oauth_provider"] == "testmail"
    assert saved["incoming_user"] == user
    assert list(test_keyring.store) == [("netgui", "mail/Work/oauth-refresh")]
    # a later session: only the keyring's refresh token
    m = TokenManager("Work", config_for(oauth_server), Secrets())
    m.with_access_token(lambda t: ImapClient.from_account(
        saved, None, access_token=t, cafile=oauth_dovecot.ca_file).close())


def test_wizard_core_saves_nothing_when_sign_in_fails(oauth_server, oauth_dovecot, oauth_smtp,
                                                      smtp_ca_file, user, test_keyring):
    from netgui.config import Settings
    settings = Settings()
    with pytest.raises(SignInError, match="You declined access"):
        _wizard(_preset(oauth_server, oauth_dovecot, oauth_smtp), f"{user}@oauth.test", "Work",
                in_browser(Browser(user), approve=False), oauth_dovecot, smtp_ca_file,
                settings, Secrets())
    assert settings.profiles("mail") == {} and test_keyring.store == {}


def test_save_new_account_rolls_back(test_keyring):
    from netgui.config import Settings
    from netgui.net.mail import accounts

    class DiskFull(Settings):
        def save_profile(self, kind, name, data):
            raise OSError(28, "No space left on device")

    profile = {"email": "a@b.test", "incoming_host": "imap.b.test", "incoming_auth": "oauth2",
               "oauth_provider": "gmail"}
    with pytest.raises(OSError):
        accounts.save_new_account(DiskFull(), Secrets(), "A", profile, oauth_refresh_token="rt")
    assert test_keyring.store == {}
    with pytest.raises(ValueError, match="no sign-in yet"):
        accounts.save_new_account(Settings(), Secrets(), "A", profile)


# -- the SASL messages, fuzzed against the test peers' reader ----------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from netgui.net.mail import sasl  # noqa: E402
from tests.support.smtp import parse_bearer  # noqa: E402

_user = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40)
_token = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7e), min_size=1, max_size=300)


@settings(max_examples=300, deadline=None, database=None)
@given(_user, _token, st.sampled_from(sasl.MECHANISMS))
def test_initial_responses_round_trip(user, access_token, mechanism):
    """What netgui sends is what a server reads back: the user (RFC 5801 escaping for
    OAUTHBEARER's authzid) and the bearer token."""
    blob = sasl.initial_response(mechanism, user, access_token, "imap.test", 993)
    assert parse_bearer(mechanism, blob) == (user, access_token)


@settings(max_examples=300, deadline=None, database=None)
@given(st.one_of(st.binary(max_size=200), st.text(max_size=200), st.none()))
def test_describe_failure_never_raises(challenge):
    assert "\n" not in sasl.describe_failure(challenge)
