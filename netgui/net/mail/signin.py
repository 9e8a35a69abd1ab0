"""How mail accounts sign in with OAuth2: providers, the user's OAuth clients, shared tokens.

- Providers: the presets bundled in ``providers.json`` (Gmail, Microsoft, Yahoo, Fastmail,
  iCloud) and the ones a domain's autoconfig file described in an ``<oAuth2>`` block, which
  are kept in the settings under ``mail_oauth_providers`` when an account using one is saved.
- OAuth clients: netgui ships no client ID and no secret. The user registers an OAuth client
  with the provider (README: "Mail sign-in with OAuth2") and enters its ID, kept in the
  settings under ``mail_oauth_clients``; a client secret, where a provider insists on one,
  goes to the keyring (``mail-oauth/<provider>/client-secret``).
- Tokens: one ``TokenManager`` per account for the whole process (``token_manager``), so the
  sync, the new-mail watcher and sending share one access token and one refresh.

Nothing here imports Authlib at module level: the Mail tab loads fast and only an account
that signs in with OAuth2 pays for it.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING

from netgui.net.cancel import CancelToken
from netgui.net.connection import DEFAULT_TIMEOUT, Log, no_log
from netgui.net.errors import SignInError

from . import accounts

if TYPE_CHECKING:  # pragma: no cover
    from .oauth import OAuthConfig, TokenManager

PROVIDERS_KEY = "mail_oauth_providers"
CLIENTS_KEY = "mail_oauth_clients"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


# -- providers ------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def _bundled_text() -> str:
    return resources.files(__package__).joinpath("providers.json").read_text("utf-8")


def load_providers(path: str | None = None) -> list[dict]:
    """The bundled provider presets (or those in ``path``); a fresh copy each call."""
    if path:
        with open(path, encoding="utf-8") as f:
            return json.load(f)["providers"]
    return json.loads(_bundled_text())["providers"]


def find_provider(providers: list[dict], domain: str, *, by_mx: bool = False) -> dict | None:
    """The preset whose domains (or MX domains) include ``domain``."""
    key = "mx_domains" if by_mx else "domains"
    domain = domain.lower().rstrip(".")
    for p in providers:
        for d in p.get(key, ()):
            if domain == d or (by_mx and domain.endswith("." + d)):
                return p
    return None


def provider_for_host(providers: list[dict], host: str) -> dict | None:
    """The preset one of whose servers is ``host`` (imap.gmail.com -> Gmail), as Thunderbird
    picks an OAuth provider by server name."""
    host = host.lower().rstrip(".")
    for p in providers:
        if any(s["host"] == host for s in p.get("incoming", []) + p.get("outgoing", [])):
            return p
    return None


def custom_provider(oauth: dict, name: str) -> dict:
    """A provider entry from an autoconfig ``<oAuth2>`` block (see autoconfig.parse_config)."""
    pid = oauth.get("issuer_host") or urllib.parse.urlsplit(oauth["authorization_endpoint"]).netloc
    return {"id": pid, "name": name or pid, "custom": True, "oauth": {
        "authorization_endpoint": oauth["authorization_endpoint"],
        "token_endpoint": oauth["token_endpoint"], "scope": oauth.get("scope", ""),
        "revocation_endpoint": oauth.get("revocation_endpoint"),
        "device_authorization_endpoint": oauth.get("device_authorization_endpoint"),
        "client_secret_required": False, "default_client_id": oauth.get("client_id", "")}}


def provider(settings, provider_id: str) -> dict | None:
    """A bundled preset or a saved custom provider by id."""
    if not provider_id:
        return None
    for p in load_providers():
        if p["id"] == provider_id:
            return p
    custom = (settings.get(PROVIDERS_KEY) or {}) if settings is not None else {}
    return custom.get(provider_id)


def oauth_providers(settings) -> list[dict]:
    """Every provider one can sign in to with OAuth2: the presets, then the saved custom ones."""
    out = [p for p in load_providers() if p.get("oauth")]
    out += list((settings.get(PROVIDERS_KEY) or {}).values())
    return out


def save_custom_provider(settings, entry: dict) -> None:
    if not entry.get("custom"):
        return
    custom = settings.get(PROVIDERS_KEY) or {}
    custom[entry["id"]] = entry
    settings.set(PROVIDERS_KEY, custom)


def check_endpoint(url: str) -> None:
    """Sign-in servers speak HTTPS; plain HTTP only on this machine (RFC 8252 8.3)."""
    parts = urllib.parse.urlsplit(url or "")
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS:
        return
    raise SignInError(f"The sign-in server address {url or '(none)'} is not HTTPS; refused")


# -- the user's OAuth clients ------------------------------------------------------------------

def client_secret_key(provider_id: str) -> str:
    """The keyring entry of a provider's client secret."""
    return f"mail-oauth/{provider_id}/client-secret"


def client_id(settings, provider_id: str) -> str:
    """The OAuth client ID the user set for a provider ('' when none; a custom provider's
    autoconfig file may name a default)."""
    chosen = (settings.get(CLIENTS_KEY) or {}).get(provider_id, "")
    if chosen:
        return chosen
    p = provider(settings, provider_id) or {}
    return (p.get("oauth") or {}).get("default_client_id", "") or ""


def client_secret(secrets, provider_id: str) -> str | None:
    return secrets.get(client_secret_key(provider_id)) or None


def save_client(settings, secrets, provider_id: str, new_id: str,
                new_secret: str | None = None) -> None:
    """Keep the client ID (settings) and, when given, the secret (keyring; '' deletes it)."""
    clients = settings.get(CLIENTS_KEY) or {}
    if new_id:
        clients[provider_id] = new_id.strip()
    else:
        clients.pop(provider_id, None)
    settings.set(CLIENTS_KEY, clients)
    if new_secret is not None:
        if new_secret:
            secrets.set(client_secret_key(provider_id), new_secret)
        else:
            secrets.delete(client_secret_key(provider_id))


def uses_oauth(profile: dict) -> bool:
    return "oauth2" in (profile.get("incoming_auth"), profile.get("smtp_auth_method"))


def oauth_config(settings, secrets, provider_id: str, *, client: str | None = None,
                 secret: str | None = None, entry: dict | None = None) -> "OAuthConfig":
    """The OAuthConfig for a provider with the user's client (or the ``client``/``secret``
    given, as the wizard does before anything is saved). SignInError when it cannot be made."""
    from .oauth import config_for_provider
    entry = entry or provider(settings, provider_id)
    if entry is None:
        raise SignInError(f"netgui knows no sign-in provider {provider_id!r}; set the account "
                          "up again")
    o = entry.get("oauth") or {}
    for key in ("authorization_endpoint", "token_endpoint", "revocation_endpoint",
                "device_authorization_endpoint"):
        if o.get(key):
            check_endpoint(o[key])
    return config_for_provider(entry, client if client is not None else client_id(settings, entry["id"]),
                               secret if secret is not None else client_secret(secrets, entry["id"]))


# -- one TokenManager per account ----------------------------------------------------------------

_managers: dict[str, "TokenManager"] = {}
_managers_lock = threading.Lock()


def token_manager(settings, secrets, name: str, profile: dict) -> "TokenManager":
    """The account's TokenManager, shared by every connection of this process (a new one when
    the provider, the client or the keyring changed)."""
    from .oauth import TokenManager
    config = oauth_config(settings, secrets, profile.get("oauth_provider", ""))
    with _managers_lock:
        manager = _managers.get(name)
        if manager is None or manager.config != config or manager.store is not secrets:
            manager = TokenManager(name, config, secrets)
            _managers[name] = manager
        return manager


def forget_account(name: str) -> None:
    """Drop an account's in-memory access token (deleted or renamed)."""
    with _managers_lock:
        _managers.pop(name, None)


def sign_out(settings, secrets, name: str, profile: dict, *, refresh_token: str | None = None,
             token: CancelToken | None = None, log: Log = no_log) -> bool:
    """Forget the account's sign-in (keyring and memory) and revoke the grant at the provider
    where it can be; ``refresh_token``: the one read before the account was deleted. True
    when the provider confirmed the revocation."""
    key = accounts.secret_key(name, "oauth-refresh")
    refresh = refresh_token or secrets.get(key)
    secrets.delete(key)
    forget_account(name)
    if not refresh:
        return False
    try:
        config = oauth_config(settings, secrets, profile.get("oauth_provider", ""))
    except SignInError as exc:
        log("!", f"Not revoked at the provider: {exc}")
        return False
    from .oauth import revoke
    return revoke(config, refresh, token=token, log=log)


def save_new_account(settings, secrets, name: str, profile: dict, *,
                     incoming_password: str | None = None, smtp_password: str | None = None,
                     refresh_token: str | None = None, provider_entry: dict | None = None,
                     client: str | None = None, secret: str | None = None) -> dict:
    """The wizard's last step, all or nothing: the account (accounts.save_new_account) and, for
    an OAuth2 account, the custom provider it signs in with and the OAuth client the user
    entered. When any part cannot be written, what was written is taken back."""
    clean = accounts.save_new_account(settings, secrets, name, profile,
                                      incoming_password=incoming_password,
                                      smtp_password=smtp_password,
                                      oauth_refresh_token=refresh_token)
    if not uses_oauth(clean):
        return clean
    pid = clean["oauth_provider"]
    before = settings.get(PROVIDERS_KEY), settings.get(CLIENTS_KEY), client_secret(secrets, pid)
    try:
        if provider_entry is not None:
            save_custom_provider(settings, provider_entry)
        if client is not None:
            save_client(settings, secrets, pid, client, secret)
    except BaseException:
        undo = [lambda: accounts.delete_account(settings, secrets, name),
                lambda: settings.set(PROVIDERS_KEY, before[0] or {}),
                lambda: settings.set(CLIENTS_KEY, before[1] or {})]
        if secret is not None:
            undo.append(lambda: secrets.set(client_secret_key(pid), before[2]) if before[2]
                        else secrets.delete(client_secret_key(pid)))
        for step in undo:  # each on its own: one that fails must not keep the others from it
            try:
                step()
            except Exception:
                pass
        raise
    return clean


# -- a test login (the wizard, before saving) ----------------------------------------------------

def check_login(profile: dict, *, password: str | None = None, smtp_password: str | None = None,
                tokens=None, token: CancelToken | None = None, log: Log = no_log,
                status=lambda text: None, cafile: str | None = None,
                timeout: float = DEFAULT_TIMEOUT) -> None:
    """Log in to the incoming server and, when set, the SMTP server (nothing is read or sent);
    the NetError of the first that fails. ``tokens`` (a TokenManager) for OAuth2 profiles."""
    from .imap import ImapClient
    from .pop3 import Pop3Client
    client_class = ImapClient if profile["incoming_protocol"] == "imap" else Pop3Client
    status(f"Signing in to {profile['incoming_host']}")
    client = client_class.from_account(
        profile, password, token=token, log=log, cafile=cafile, timeout=timeout,
        tokens=tokens if profile.get("incoming_auth") == "oauth2" else None)
    client.close()
    if not profile.get("smtp_host"):
        return
    status(f"Signing in to {profile['smtp_host']}")
    session = open_smtp(profile, smtp_password or password, tokens, token=token, log=log,
                        cafile=cafile, timeout=timeout)
    session.close()


def open_smtp(profile: dict, password: str | None, tokens=None, *, token=None, log: Log = no_log,
              cafile=None, timeout: float = DEFAULT_TIMEOUT, progress=None):
    """A connected (and, as the profile says, authenticated) SmtpSession; with OAuth2 the
    access token is refreshed once when the server refuses it."""
    from .smtp import SmtpSession
    user = None
    if profile.get("smtp_auth", True):
        user = profile.get("smtp_user") or profile.get("incoming_user") or profile.get("email")

    def connect(access_token=None):
        return SmtpSession(profile.get("smtp_host", ""), profile.get("smtp_port"),
                           security=profile.get("smtp_security", "tls"), user=user,
                           password=None if access_token else password,
                           access_token=access_token, verify=profile.get("verify_tls", True),
                           cafile=cafile, timeout=timeout, token=token, log=log,
                           progress=progress).connect()

    if user and profile.get("smtp_auth_method") == "oauth2":
        if tokens is None:
            raise SignInError(f"{profile.get('email', 'This account')} signs in with OAuth2, "
                              "but no sign-in is set up")
        return tokens.with_access_token(connect, token=token, log=log)
    return connect()


def describe(profile: dict, settings=None) -> str:
    """How an account signs in, for the account list: 'password' or 'OAuth2 (Gmail)'."""
    if not uses_oauth(profile):
        return "password"
    p = provider(settings, profile.get("oauth_provider", "")) if settings is not None else None
    return f"OAuth2 ({(p or {}).get('name') or profile.get('oauth_provider') or '?'})"


__all__ = ["load_providers", "find_provider", "provider_for_host", "custom_provider", "provider",
           "oauth_providers", "save_custom_provider", "client_id", "client_secret", "save_client",
           "client_secret_key", "oauth_config", "token_manager", "forget_account", "sign_out",
           "check_login", "open_smtp", "uses_oauth", "check_endpoint", "describe",
           "save_new_account"]

