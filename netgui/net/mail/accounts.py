"""Mail account profiles: settings profiles of kind "mail", passwords in the keyring.

The schema (shared by reading and sending; ``normalize`` fills defaults)::

    {"display_name": str, "email": str, "signature": str,
     "incoming_protocol": "imap"|"pop3", "incoming_host": str, "incoming_port": int,
     "incoming_security": "tls"|"starttls"|"none", "incoming_user": str, "verify_tls": bool,
     "smtp_host": str, "smtp_port": int, "smtp_security": "tls"|"starttls"|"none",
     "smtp_user": str (empty = same as incoming_user), "smtp_auth": bool,
     "incoming_auth": "password"|"oauth2", "smtp_auth_method": "password"|"oauth2",
     "oauth_provider": str (a provider id, see netgui.net.mail.signin; empty = none)}

Passwords: secrets accounts "mail/<name>/incoming" and "mail/<name>/smtp"; an OAuth2
account's refresh token: "mail/<name>/oauth-refresh" (netgui.net.mail.oauth.refresh_key).
"""

from __future__ import annotations

from typing import Any

from netgui.net.errors import AuthError, SignInError, SignInNeeded, TokenRejected

KIND = "mail"
PROTOCOLS = ("imap", "pop3")
SECURITIES = ("tls", "starttls", "none")

INCOMING_PORTS = {
    "imap": {"tls": 993, "starttls": 143, "none": 143},
    "pop3": {"tls": 995, "starttls": 110, "none": 110},
}
SMTP_PORTS = {"tls": 465, "starttls": 587, "none": 25}

DEFAULTS: dict[str, Any] = {
    "display_name": "", "email": "", "signature": "",
    "incoming_protocol": "imap", "incoming_host": "", "incoming_port": 993,
    "incoming_security": "tls", "incoming_user": "", "verify_tls": True,
    "smtp_host": "", "smtp_port": 465, "smtp_security": "tls", "smtp_user": "", "smtp_auth": True,
    "incoming_auth": "password", "smtp_auth_method": "password", "oauth_provider": "",
}
AUTH_METHODS = ("password", "oauth2")


def incoming_port(protocol: str, security: str) -> int:
    """The usual port for IMAP/POP3 with the given security."""
    return INCOMING_PORTS.get(protocol, INCOMING_PORTS["imap"]).get(security, 993)


def smtp_port(security: str) -> int:
    """The usual SMTP submission port for the given security."""
    return SMTP_PORTS.get(security, 465)


def normalize(data: dict[str, Any]) -> dict[str, Any]:
    """A complete profile: known keys only, defaults filled, types fixed."""
    out = dict(DEFAULTS)
    for key in DEFAULTS:
        if key in data and data[key] is not None:
            out[key] = data[key]
    if out["incoming_protocol"] not in PROTOCOLS:
        out["incoming_protocol"] = "imap"
    for key in ("incoming_security", "smtp_security"):
        if out[key] not in SECURITIES:
            out[key] = "tls"
    for key, default in (("incoming_port", incoming_port(out["incoming_protocol"],
                                                          out["incoming_security"])),
                         ("smtp_port", smtp_port(out["smtp_security"]))):
        try:
            out[key] = int(out[key]) or default
        except (TypeError, ValueError):
            out[key] = default
    for key in ("incoming_auth", "smtp_auth_method"):
        if out[key] not in AUTH_METHODS:
            out[key] = "password"
    for key in ("verify_tls", "smtp_auth"):
        out[key] = bool(out[key])
    for key in ("display_name", "email", "signature", "incoming_host", "incoming_user",
                "smtp_host", "smtp_user", "oauth_provider"):
        out[key] = str(out[key] or "")
        if key != "signature":
            out[key] = out[key].strip()
    return out


def validate(name: str, data: dict[str, Any]) -> list[str]:
    """Problems with a profile, each one line for the user (empty when it is usable)."""
    problems = []
    if not name.strip():
        problems.append("The account needs a name")
    if "/" in name:
        problems.append("The account name cannot contain '/'")
    if "@" not in data.get("email", ""):
        problems.append("The e-mail address needs an @")
    if not data.get("incoming_host"):
        problems.append("The incoming server is missing")
    for key in ("incoming_port", "smtp_port"):
        port = data.get(key)
        if not isinstance(port, int) or not 0 < port < 65536:
            problems.append(f"{key.replace('_', ' ').capitalize()} must be 1-65535")
    for key, value in data.items():
        if isinstance(value, str) and key != "signature" and ("\r" in value or "\n" in value):
            problems.append(f"{key.replace('_', ' ').capitalize()} cannot contain a line break")
    oauth_in = data.get("incoming_auth") == "oauth2"
    oauth_out = data.get("smtp_auth_method") == "oauth2" and data.get("smtp_auth", True)
    if (oauth_in or oauth_out) and not data.get("oauth_provider"):
        problems.append("OAuth2 sign-in needs a provider")
    if oauth_in and data.get("incoming_security") == "none" or \
            oauth_out and data.get("smtp_security") == "none":
        problems.append("OAuth2 sign-in needs an encrypted connection (TLS or STARTTLS)")
    return problems


class PasswordNeeded(AuthError):
    """No password is stored (or known this session) for an account."""


def needs_password(error: BaseException | None) -> bool:
    """True when asking the user for a password could help: none was known, or the
    server refused it (an authentication error that is not about an OAuth2 sign-in)."""
    return isinstance(error, AuthError) and not isinstance(error, (SignInError, TokenRejected))


def needs_sign_in(error: BaseException | None) -> bool:
    """True when signing in again in the browser could help: the stored OAuth2 grant is gone
    or revoked, or the server refused even a freshly refreshed access token."""
    return isinstance(error, (SignInNeeded, TokenRejected))


def secret_key(name: str, which: str = "incoming") -> str:
    """The keyring account for an account's password: which is "incoming" or "smtp"."""
    return f"mail/{name}/{which}"


def load_accounts(settings) -> dict[str, dict[str, Any]]:
    """All mail accounts, normalized, by name."""
    return {name: normalize(data) for name, data in sorted(settings.profiles(KIND).items())}


def load_account(settings, name: str) -> dict[str, Any] | None:
    data = settings.profile(KIND, name)
    return normalize(data) if data is not None else None


def save_account(settings, secrets, name: str, data: dict[str, Any], *,
                 incoming_password: str | None = None, smtp_password: str | None = None) -> dict:
    """Store a profile (and passwords, when given, in the keyring only)."""
    clean = normalize(data)
    settings.save_profile(KIND, name, clean)
    if incoming_password is not None:
        secrets.set(secret_key(name, "incoming"), incoming_password)
    if smtp_password is not None:
        secrets.set(secret_key(name, "smtp"), smtp_password)
    return clean


def save_new_account(settings, secrets, name: str, data: dict[str, Any], *,
                     incoming_password: str | None = None, smtp_password: str | None = None,
                     oauth_refresh_token: str | None = None) -> dict:
    """Add an account all or nothing (the wizard calls this only after discovery, sign-in and
    a test login worked): problems raise ValueError before anything is written; a failure
    while writing removes what was already written."""
    clean = normalize(data)
    problems = validate(name, clean)
    if name in settings.profiles(KIND):
        problems.append(f"An account named {name} exists already")
    if "oauth2" in (clean["incoming_auth"], clean["smtp_auth_method"]) and not oauth_refresh_token:
        problems.append("The account has no sign-in yet")
    if problems:
        raise ValueError(problems[0])
    written: list[str] = []
    try:
        for which, value in (("incoming", incoming_password), ("smtp", smtp_password),
                             ("oauth-refresh", oauth_refresh_token)):
            if value:
                secrets.set(secret_key(name, which), value)
                written.append(secret_key(name, which))
        settings.save_profile(KIND, name, clean)
    except BaseException:
        for key in written:
            secrets.delete(key)
        settings.delete_profile(KIND, name)
        raise
    return clean


def delete_account(settings, secrets, name: str) -> None:
    settings.delete_profile(KIND, name)
    secrets.delete(secret_key(name, "incoming"))
    secrets.delete(secret_key(name, "smtp"))
    secrets.delete(secret_key(name, "oauth-refresh"))  # revoke first: TokenManager.sign_out


def incoming_password(secrets, name: str) -> str | None:
    return secrets.get(secret_key(name, "incoming"))


def smtp_password(secrets, name: str) -> str | None:
    """The SMTP password; falls back to the incoming one when none is stored."""
    return secrets.get(secret_key(name, "smtp")) or secrets.get(secret_key(name, "incoming"))
