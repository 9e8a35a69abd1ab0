"""OAuth2 accounts in the mail cores: providers and clients, the shared TokenManager, reading
(MailService: sync, IDLE) and sending (outbox: SMTP, Sent filing) against Dovecot's oauth2
passdb and aiosmtpd, both checking tokens at the test authorization server."""

from __future__ import annotations

import threading
import time

import pytest

from netgui.config import Secrets, Settings
from netgui.net.errors import AuthError, SignInError, SignInNeeded, TokenRejected
from netgui.net.mail import accounts, compose, oauth, outbox, signin
from netgui.net.mail.cache import MailCache
from netgui.net.mail.sync import MailService, PlainContext
from tests.support import mailsamples as samples
from tests.support.oauth_peers import oauth_dovecot, oauth_server, oauth_smtp  # noqa: F401
from tests.support.oauth_server import PUBLIC_CLIENT, Browser, OAuthServer
from tests.support.smtp import smtp_ca, smtp_ca_file  # noqa: F401

pytestmark = pytest.mark.timeout(60)
_users = iter(range(150, 200))


@pytest.fixture
def user():
    return f"user{next(_users)}"


@pytest.fixture
def trust(monkeypatch, smtp_ca_file, oauth_dovecot, tmp_path):
    bundle = tmp_path / "cas.pem"
    bundle.write_bytes(open(smtp_ca_file, "rb").read() + open(oauth_dovecot.ca_file, "rb").read())
    monkeypatch.setenv("NETGUI_CA_FILE", str(bundle))


def provider_entry(server: OAuthServer) -> dict:
    ep = server.endpoints()
    return {"id": "testsso", "name": "Test SSO", "custom": True, "oauth": dict(
        ep, scope="mail", client_secret_required=False, default_client_id="")}


def setup_account(server, dovecot, smtp, user, settings, secrets, protocol="imap") -> dict:
    """What the wizard leaves behind: a provider, its client ID, a profile, a refresh token."""
    signin.save_custom_provider(settings, provider_entry(server))
    signin.save_client(settings, secrets, "testsso", PUBLIC_CLIENT)
    config = signin.oauth_config(settings, secrets, "testsso")
    opener = lambda url: threading.Thread(target=Browser(user).open, args=(url,),  # noqa: E731
                                          daemon=True).start() or True
    grant = oauth.sign_in_browser(config, open_browser=opener, timeout=20)
    port = dovecot.imaps_port if protocol == "imap" else dovecot.pop3s_port
    profile = accounts.normalize({
        "email": f"{user}@example.test", "incoming_protocol": protocol,
        "incoming_host": "127.0.0.1", "incoming_port": port, "incoming_security": "tls",
        "incoming_user": user, "smtp_host": "127.0.0.1", "smtp_port": smtp.port if smtp else 587,
        "smtp_security": "starttls", "smtp_user": user, "incoming_auth": "oauth2",
        "smtp_auth_method": "oauth2", "oauth_provider": "testsso"})
    signin.save_new_account(settings, secrets, "Work", profile, refresh_token=grant.refresh_token)
    signin.forget_account("Work")
    return profile


def test_reading_with_oauth_refreshes_once_and_asks_to_sign_in_after_revocation(
        oauth_server, oauth_dovecot, oauth_smtp, user, trust, tmp_path):
    settings, secrets = Settings(), Secrets()
    profile = setup_account(oauth_server, oauth_dovecot, oauth_smtp, user, settings, secrets)
    oauth_dovecot.deliver(user, samples.plain(subject="Hello token"))
    lines = []
    svc = MailService("Work", profile, MailCache(tmp_path / "c.sqlite3"), secrets=secrets,
                      tokens=lambda: signin.token_manager(settings, secrets, "Work", profile))
    ctx = PlainContext(log=lambda d, t: lines.append(f"{d} {t}"))
    assert svc.sync(ctx) == 1
    assert any("Signed in as" in line and "OAUTHBEARER" in line for line in lines)

    oauth_server.expire_access_tokens(user)
    svc.close()
    assert svc.sync(ctx) == 1
    assert any("refreshing it once" in line for line in lines)

    # IDLE on a connection of its own, with the same (refreshed) token
    watch = PlainContext(log=lambda d, t: lines.append(f"{d} {t}"))
    thread = threading.Thread(target=lambda: _quietly(svc.watch, watch), daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not any(line.startswith(">") and line.endswith(" IDLE") for line in lines) \
            and time.monotonic() < deadline:
        time.sleep(0.05)
    oauth_dovecot.deliver(user, samples.plain(subject="Second"))
    while not watch.events and time.monotonic() < deadline + 10:
        time.sleep(0.05)
    watch.token.cancel()
    thread.join(10)
    assert ("new-mail", {"account": "Work", "folder": "INBOX"}) in watch.events

    oauth_server.revoke_grants(user)
    svc.close()
    with pytest.raises(SignInNeeded) as info:
        svc.sync(ctx)
    assert accounts.needs_sign_in(info.value) and not accounts.needs_password(info.value)
    assert secrets.get(accounts.secret_key("Work", "oauth-refresh")) is None
    text = "\n".join(lines)
    for t in oauth_server.store.tokens:
        assert t.access_token not in text and (t.refresh_token or "-") not in text
    svc.close()


def _quietly(fn, ctx):
    try:
        fn(ctx)
    except Exception as exc:
        ctx.events.append(("error", exc))


def test_pop3_with_oauth(oauth_server, oauth_dovecot, user, trust, tmp_path):
    settings, secrets = Settings(), Secrets()
    profile = setup_account(oauth_server, oauth_dovecot, None, user, settings, secrets, "pop3")
    oauth_dovecot.deliver(user, samples.plain(subject="Over POP3"))
    svc = MailService("Work", profile, MailCache(tmp_path / "c.sqlite3"), secrets=secrets,
                      tokens=lambda: signin.token_manager(settings, secrets, "Work", profile))
    ctx = PlainContext()
    assert svc.sync(ctx) == 1


def test_sending_with_oauth_files_in_imap_sent(oauth_server, oauth_dovecot, oauth_smtp, user,
                                               trust):
    settings, secrets = Settings(), Secrets()
    profile = setup_account(oauth_server, oauth_dovecot, oauth_smtp, user, settings, secrets)
    tokens = signin.token_manager(settings, secrets, "Work", profile)
    tokens.access_token()  # one in memory, which the server then considers expired:
    oauth_server.expire_access_tokens(user)  # the first attempt is refused: refresh, retry
    d = compose.Draft(account="Work", sender=f"{user}@example.test", to="bob@example.test",
                      subject="Via OAuth2", body="Hi\n")
    item = outbox.queue(d)
    lines = []
    delivery = outbox.deliver(item, profile, tokens=tokens, log=lambda a, b: lines.append(b))
    assert delivery.sent_to.startswith("imap:") and not delivery.filing_error
    assert oauth_smtp.wait_for(1)[0].sender == f"{user}@example.test"
    assert [ok for _, u, ok in oauth_smtp.bearer.attempts if u == user] == [False, True]
    assert "The server refused the access token; refreshing it once" in lines
    assert outbox.stores().outbox.items() == []


def test_an_oauth_account_without_tokens_says_so(tmp_path):
    profile = accounts.normalize({"email": "a@b.test", "incoming_host": "imap.b.test",
                                  "incoming_auth": "oauth2", "smtp_auth_method": "oauth2",
                                  "oauth_provider": "gmail", "smtp_host": "smtp.b.test"})
    svc = MailService("Work", profile, MailCache(tmp_path / "c.sqlite3"))
    with pytest.raises(SignInError, match="no sign-in is set up"):
        svc.sync(PlainContext())
    with pytest.raises(SignInError, match="no sign-in is set up"):
        signin.open_smtp(profile, None, None)
    with pytest.raises(SignInError, match="Set an OAuth client ID for Gmail"):
        signin.token_manager(Settings(), Secrets(), "Work", profile)


def test_token_managers_are_shared_and_follow_the_client():
    settings, secrets = Settings(), Secrets()
    signin.save_client(settings, secrets, "microsoft", "client-a")
    profile = {"oauth_provider": "microsoft"}
    first = signin.token_manager(settings, secrets, "M", profile)
    assert signin.token_manager(settings, secrets, "M", profile) is first
    signin.save_client(settings, secrets, "microsoft", "client-b")
    second = signin.token_manager(settings, secrets, "M", profile)
    assert second is not first and second.config.client_id == "client-b"
    assert second.config.redirect_host == "localhost" and second.config.revocation_endpoint is None


def test_client_secret_lives_in_the_keyring(test_keyring, isolated_config):
    settings, secrets = Settings(), Secrets()
    signin.save_client(settings, secrets, "gmail", "123.apps.googleusercontent.com", "GOCSPX-x")
    assert test_keyring.store[("netgui", "mail-oauth/gmail/client-secret")] == "GOCSPX-x"
    settings.flush()
    for path in isolated_config.rglob("*"):
        if path.is_file():
            assert b"GOCSPX" not in path.read_bytes()
    config = signin.oauth_config(settings, secrets, "gmail")
    assert config.client_secret == "GOCSPX-x" and config.scope == "https://mail.google.com/"
    signin.save_client(settings, secrets, "gmail", "123.apps.googleusercontent.com", "")
    with pytest.raises(SignInError, match="also needs the client secret"):
        signin.oauth_config(settings, secrets, "gmail")


def test_sign_in_servers_must_use_https():
    signin.check_endpoint("https://login.example.test/authorize")
    signin.check_endpoint("http://127.0.0.1:8080/authorize")
    with pytest.raises(SignInError, match="is not HTTPS; refused"):
        signin.check_endpoint("http://login.example.test/authorize")
    entry = {"id": "evil", "name": "Evil", "custom": True, "oauth": {
        "authorization_endpoint": "http://evil.test/a", "token_endpoint": "https://evil.test/t",
        "scope": "mail"}}
    with pytest.raises(SignInError, match="not HTTPS"):
        signin.oauth_config(Settings(), Secrets(), "evil", client="x", entry=entry)


def test_new_account_is_all_or_nothing(test_keyring, oauth_server):
    class Refusing(Settings):
        def set(self, key, value, **kw):
            if key == signin.CLIENTS_KEY:
                raise OSError(28, "No space left on device")
            super().set(key, value, **kw)

    settings = Refusing()
    profile = {"email": "a@b.test", "incoming_host": "imap.b.test", "incoming_auth": "oauth2",
               "oauth_provider": "testsso"}
    with pytest.raises(OSError):
        signin.save_new_account(settings, Secrets(), "A", profile, refresh_token="rt",
                                provider_entry=provider_entry(oauth_server), client="c")
    assert settings.profiles("mail") == {} and test_keyring.store == {}
    assert not settings.get(signin.PROVIDERS_KEY)


def test_sign_out_revokes_and_forgets(oauth_server, oauth_dovecot, user, test_keyring):
    settings, secrets = Settings(), Secrets()
    profile = setup_account(oauth_server, oauth_dovecot, None, user, settings, secrets)
    assert oauth_server.live_tokens(user)
    assert signin.sign_out(settings, secrets, "Work", profile) is True
    assert oauth_server.live_tokens(user) == []
    assert ("netgui", "mail/Work/oauth-refresh") not in test_keyring.store


def test_errors_that_ask_for_a_password_and_those_that_ask_to_sign_in():
    assert accounts.needs_password(AuthError("refused")) and not accounts.needs_sign_in(AuthError("x"))
    assert accounts.needs_password(accounts.PasswordNeeded("none stored"))
    for err in (SignInNeeded("again"), TokenRejected("refused")):
        assert accounts.needs_sign_in(err) and not accounts.needs_password(err)
    assert not accounts.needs_password(SignInError("no client ID"))
    assert not accounts.needs_sign_in(SignInError("no client ID"))


def test_oauth_profiles_need_a_provider_and_encryption():
    base = accounts.normalize({"email": "a@b.test", "incoming_host": "h", "incoming_auth": "oauth2"})
    assert "OAuth2 sign-in needs a provider" in accounts.validate("A", base)
    plain = dict(base, oauth_provider="gmail", incoming_security="none")
    assert "OAuth2 sign-in needs an encrypted connection (TLS or STARTTLS)" in \
        accounts.validate("A", plain)


def test_send_mail_command_with_an_oauth_account(oauth_server, oauth_dovecot, oauth_smtp, user,
                                                 trust, monkeypatch, capsys):
    """netgui send-mail uses the sign-in kept in the keyring; a revoked one says what to do."""
    from netgui.cli import main
    settings, secrets = Settings(), Secrets()
    setup_account(oauth_server, oauth_dovecot, oauth_smtp, user, settings, secrets)
    settings.flush()
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("Sent from the shell.\n"))
    assert main(["send-mail", "--account", "Work", "--to", "bob@example.test",
                 "--subject", "CLI"]) == 0
    assert oauth_smtp.wait_for(1)[0].sender == f"{user}@example.test"
    oauth_server.revoke_grants(user)
    signin.forget_account("Work")
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("Again.\n"))
    assert main(["send-mail", "--account", "Work", "--to", "bob@example.test",
                 "--subject", "CLI 2"]) == 1
    err = capsys.readouterr().err
    assert "Sign in to Work again" in err and "sign in again in the Mail tab" in err
