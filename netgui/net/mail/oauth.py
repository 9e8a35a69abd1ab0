"""OAuth2 sign-in for mail accounts, as a native app (RFC 8252), on Authlib's client.

- ``sign_in_browser``: authorization code flow with PKCE (S256) in the system browser, the
  answer arriving at a one-shot listener on 127.0.0.1 and an ephemeral port. The caller
  shows a waiting window ("Finish signing in in your browser", Cancel = the CancelToken).
- ``sign_in_device``: the device flow (RFC 8628) where no browser can be opened here.
- ``TokenManager``: per account, the refresh token in the keyring-like store it is given
  (never imported here), the access token in memory only, refreshed a minute before expiry
  and once more when a server refuses it (``with_access_token``); a revoked grant raises
  ``SignInNeeded``.

No token ever reaches a log line: the transcript says which endpoint was asked and what
kind of answer came back. Every request has a timeout; cancelling closes the HTTP session
and stops the listener or the polling at once.
"""

from __future__ import annotations

import html
import http.server
import os
import socket
import secrets as _secrets
import threading
import time
import urllib.parse
import webbrowser
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol, TypeVar

import requests
from authlib.common.security import generate_token
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc8628 import DEVICE_CODE_GRANT_TYPE

from netgui.net.cancel import CancelToken
from netgui.net.connection import DEFAULT_TIMEOUT, Log, no_log
from netgui.net.errors import (Cancelled, ConnectError, NetError, NetTimeout, ProtocolError,
                               SignInError, SignInNeeded, TokenRejected)

T = TypeVar("T")
EXPIRY_MARGIN = 60.0        # refresh an access token this many seconds before it expires
SIGN_IN_TIMEOUT = 600.0     # how long the browser or device flow may take


# -- errors: one line each ---------------------------------------------------------------

class NoBrowser(SignInError):
    """No web browser could be opened on this machine."""


# -- configuration --------------------------------------------------------------------------

@dataclass(frozen=True)
class OAuthConfig:
    """What a flow needs: a provider preset's endpoints and scopes plus the user's client ID.

    ``client_secret`` exists because some providers (Google "Desktop app" clients) demand one
    even with PKCE; it is the user's setting, never shipped with netgui.
    """

    client_id: str
    authorization_endpoint: str
    token_endpoint: str
    scope: str
    device_authorization_endpoint: str | None = None
    revocation_endpoint: str | None = None
    client_secret: str | None = None
    extra_params: tuple[tuple[str, str], ...] = ()  # e.g. (("access_type", "offline"),)
    redirect_host: str = "127.0.0.1"                # "localhost" where a provider insists
    redirect_path: str = "/"
    cafile: str | None = None                       # tests: a throwaway CA
    timeout: float = DEFAULT_TIMEOUT

    @property
    def host(self) -> str:
        return urllib.parse.urlsplit(self.token_endpoint).netloc


def config_for_provider(preset: dict, client_id: str, client_secret: str | None = None, *,
                        cafile: str | None = None) -> OAuthConfig:
    """The OAuthConfig of a providers.json entry with the user's client ID (and secret)."""
    o = preset.get("oauth")
    if not o:
        raise SignInError(f"{preset.get('name', 'This provider')} offers no OAuth2 sign-in for "
                          "mail; use an app password")
    if not client_id:
        raise SignInError(f"Set an OAuth client ID for {preset.get('name')} first "
                          "(Mail, Accounts…, Sign-in clients)")
    if o.get("client_secret_required") and not client_secret:
        raise SignInError(f"{preset.get('name')} also needs the client secret of your OAuth "
                          "client (Mail, Accounts…, Sign-in clients)")
    return OAuthConfig(client_id=client_id, client_secret=client_secret or None,
                       authorization_endpoint=o["authorization_endpoint"],
                       token_endpoint=o["token_endpoint"], scope=o["scope"],
                       device_authorization_endpoint=o.get("device_authorization_endpoint"),
                       revocation_endpoint=o.get("revocation_endpoint"),
                       redirect_host=o.get("redirect_host", "127.0.0.1"), cafile=cafile)


@dataclass
class Grant:
    """The result of a sign-in or refresh: keep ``refresh_token`` in the keyring only."""

    access_token: str
    expires_at: float
    refresh_token: str | None
    scope: str = ""

    def __repr__(self) -> str:  # never print tokens by accident
        return f"Grant(expires_at={self.expires_at:.0f}, scope={self.scope!r})"


class SecretStore(Protocol):
    """The keyring interface (netgui.config.Secrets has this shape)."""

    def get(self, account: str) -> str | None: ...
    def set(self, account: str, value: str) -> None: ...
    def delete(self, account: str) -> None: ...


class MemoryStore:
    """A SecretStore in memory: the account wizard signs in and tests with it, so nothing
    reaches the keyring before the account is saved."""

    def __init__(self):
        self._values: dict[str, str] = {}

    def get(self, account: str) -> str | None:
        return self._values.get(account)

    def set(self, account: str, value: str) -> None:
        self._values[account] = value

    def delete(self, account: str) -> None:
        self._values.pop(account, None)


# -- HTTP through Authlib ---------------------------------------------------------------------

class _Client:
    """One Authlib OAuth2Session bound to a CancelToken, with errors turned into NetErrors."""

    def __init__(self, config: OAuthConfig, token: CancelToken, log: Log,
                 redirect_uri: str | None = None):
        self.config, self.token, self.log = config, token, log
        self.session = OAuth2Session(
            config.client_id, client_secret=config.client_secret, scope=config.scope,
            redirect_uri=redirect_uri, code_challenge_method="S256",
            token_endpoint_auth_method="client_secret_post" if config.client_secret else "none",
            revocation_endpoint_auth_method=("client_secret_post" if config.client_secret
                                             else "none"))
        self.session.verify = config.cafile or os.environ.get("NETGUI_CA_FILE") or True
        self._unhook = token.add_hook(self.session.close)

    def close(self) -> None:
        self._unhook()
        self.session.close()

    def call(self, what: str, url: str, fn: Callable[..., T], *args, **kwargs) -> T:
        """Run one Authlib request; ``what`` names it in the transcript."""
        self.token.check()
        self.log("*", f"{what}: POST {_strip_query(url)}")
        try:
            result = fn(*args, timeout=self.config.timeout, **kwargs)
        except OAuthError as exc:
            self.token.check()
            self.log("<", f"{what}: error {exc.error}")
            raise
        except requests.Timeout as exc:
            self.token.check()
            raise NetTimeout(f"The sign-in server {_host(url)} did not answer in time",
                             detail=str(exc)) from exc
        except ValueError as exc:  # not JSON: a proxy's or an error page
            self.token.check()
            raise ProtocolError(f"The sign-in server {_host(url)} sent an answer netgui cannot "
                                "read", detail=str(exc)[:200]) from exc
        except requests.RequestException as exc:
            if self.token.cancelled:
                raise Cancelled() from exc
            raise ConnectError(f"Cannot reach the sign-in server {_host(url)}",
                               detail=f"{type(exc).__name__}: {exc}") from exc
        self.token.check()
        self.log("<", f"{what}: OK")
        return result


def _host(url: str) -> str:
    return urllib.parse.urlsplit(url).netloc or url


def _strip_query(url: str) -> str:
    return url.split("?", 1)[0]


def _grant(data: dict[str, Any], old_refresh: str | None = None) -> Grant:
    if not data.get("access_token"):
        raise ProtocolError("The sign-in server answered without an access token")
    expires_at = data.get("expires_at")
    if not expires_at:
        expires_at = time.time() + float(data.get("expires_in") or 3600)
    return Grant(data["access_token"], float(expires_at),
                 data.get("refresh_token") or old_refresh, data.get("scope", "") or "")


_DENIED = {"access_denied": "You declined access in the browser; nothing was saved",
           "invalid_scope": "The provider refused the requested access (scope); check the "
                            "account's provider settings",
           "unauthorized_client": "The provider does not accept this client ID for this sign-in",
           "invalid_client": "The provider does not know this client ID; check the OAuth "
                             "client ID setting",
           "expired_token": "The sign-in code expired before it was used; start again",
           "invalid_grant": "The sign-in was refused (the code was already used or expired); "
                            "start again"}


def _sign_in_error(exc: OAuthError) -> SignInError:
    text = _DENIED.get(exc.error) or f"The sign-in server refused: {exc.error}"
    return SignInError(text, detail=(exc.description or "")[:200])


# -- authorization code + PKCE with a loopback listener ---------------------------------------

@dataclass
class _Answer:
    params: dict[str, str] = field(default_factory=dict)
    arrived: threading.Event = field(default_factory=threading.Event)


_DONE_PAGE = ("<!doctype html><meta charset=utf-8><title>netgui</title>"
              "<h1>{title}</h1><p>{text}</p>")


class LoopbackListener:
    """A one-shot HTTP listener on 127.0.0.1 and a free port for the redirect (RFC 8252 7.3).

    Only a request to ``path`` carrying ``state`` or ``error`` counts; anything else (a
    favicon, a stray visit) gets 404 and the wait goes on. The page shown afterwards says
    what happened and never echoes the code.
    """

    def __init__(self, host: str = "127.0.0.1", path: str = "/"):
        self.path = path
        self.answer = _Answer()
        answer = self.answer

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's naming
                parts = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(parts.query))
                if parts.path != path or not ({"state", "error"} & query.keys()) \
                        or answer.arrived.is_set():
                    self.send_error(404)
                    return
                answer.params = query
                answer.arrived.set()
                ok = "code" in query and "error" not in query
                body = _DONE_PAGE.format(
                    title="Signed in" if ok else "Sign-in not completed",
                    text=html.escape("You can close this window and return to netgui." if ok
                                     else "Return to netgui for details."))
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):  # the query holds the code: never log it
                pass

        bind = "127.0.0.1" if host in ("127.0.0.1", "localhost") else host
        self.servers = [http.server.ThreadingHTTPServer((bind, 0), Handler)]
        self.port = self.servers[0].server_port
        if host == "localhost":  # a browser may try ::1 first: listen there too, if it can
            try:
                self.servers.append(_V6Server(("::1", self.port), Handler))
            except OSError:
                pass
        self.redirect_uri = f"http://{host}:{self.port}{path}"
        for server in self.servers:
            server.daemon_threads = True
            threading.Thread(target=server.serve_forever, args=(0.2,), daemon=True,
                             name="oauth-loopback").start()

    def wait(self, token: CancelToken, timeout: float) -> dict[str, str]:
        deadline = time.monotonic() + timeout
        while not self.answer.arrived.wait(0.1):
            token.check()
            if time.monotonic() > deadline:
                raise SignInError("The browser sign-in did not finish in time; nothing was saved")
        return self.answer.params

    def close(self) -> None:
        for server in self.servers:
            server.shutdown()
            server.server_close()


class _V6Server(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6


def sign_in_browser(config: OAuthConfig, *, token: CancelToken | None = None, log: Log = no_log,
                    open_browser: Callable[[str], bool] = webbrowser.open,
                    login_hint: str | None = None, timeout: float = SIGN_IN_TIMEOUT,
                    show_url: Callable[[str], None] | None = None) -> Grant:
    """Sign in with the system browser (authorization code + PKCE + loopback redirect).

    Blocks until the browser comes back, the token is cancelled (the waiting window's
    Cancel), or ``timeout``. ``show_url(url)`` hands the sign-in address to the window (to
    copy it into a browser by hand); when ``open_browser`` returns False, NoBrowser is raised
    unless ``show_url`` was given, and then the wait goes on for the address opened by hand.
    """
    token = token or CancelToken()
    listener = LoopbackListener(config.redirect_host, config.redirect_path)
    client = _Client(config, token, log, listener.redirect_uri)
    try:
        verifier = generate_token(64)          # RFC 7636: 43-128 characters
        state = generate_token(32)
        params = dict(config.extra_params)
        if login_hint:
            params["login_hint"] = login_hint
        url, _ = client.session.create_authorization_url(
            config.authorization_endpoint, state=state, code_verifier=verifier, **params)
        log("*", f"Opening the browser at {_strip_query(config.authorization_endpoint)}; "
                 f"waiting on {listener.redirect_uri}")
        if show_url is not None:
            show_url(url)
        if not _open(open_browser, url):
            if show_url is None:
                raise NoBrowser("No web browser could be opened here; sign in with a code instead")
            log("!", "No web browser could be opened; waiting for the address to be opened by hand")
        answer = listener.wait(token, timeout)
        if not _secrets.compare_digest(answer.get("state", ""), state):
            log("!", "The browser's answer carried a wrong state: refused")
            raise SignInError("The browser's answer did not belong to this sign-in (state "
                              "mismatch); it was refused and nothing was saved")
        if "error" in answer:
            raise _sign_in_error(OAuthError(error=answer["error"],
                                            description=answer.get("error_description")))
        if not answer.get("code"):
            raise SignInError("The browser's answer carried no authorization code")
        try:
            data = client.call("Exchanging the code", config.token_endpoint,
                               client.session.fetch_token, config.token_endpoint,
                               grant_type="authorization_code", code=answer["code"],
                               code_verifier=verifier)
        except OAuthError as exc:
            raise _sign_in_error(exc) from exc
        grant = _grant(data)
        if not grant.refresh_token:
            log("!", "The provider gave no refresh token: the account will ask to sign in "
                     "again when the access token expires")
        return grant
    finally:
        client.close()
        listener.close()


def _open(open_browser: Callable[[str], bool], url: str) -> bool:
    try:
        return bool(open_browser(url))
    except Exception:  # webbrowser raises webbrowser.Error, or OSError from a broken launcher
        return False


# -- device flow (RFC 8628) -------------------------------------------------------------------

@dataclass(frozen=True)
class DeviceCode:
    """What the user must see: go to ``verification_uri`` and type ``user_code``."""

    user_code: str
    verification_uri: str
    verification_uri_complete: str | None
    expires_in: float


def sign_in_device(config: OAuthConfig, show: Callable[[DeviceCode], None], *,
                   token: CancelToken | None = None, log: Log = no_log) -> Grant:
    """Sign in with a code typed on another device. ``show`` is called once with the code;
    then the token endpoint is polled at the server's interval until the user answers."""
    if not config.device_authorization_endpoint:
        raise SignInError("This provider does not offer sign-in with a code")
    token = token or CancelToken()
    client = _Client(config, token, log)
    try:
        def device_request(url, timeout):
            # The device authorization request is no token request; Authlib has no client
            # call for it, so it is one POST through the same session and client auth.
            form = {"client_id": config.client_id, "scope": config.scope}
            if config.client_secret:
                form["client_secret"] = config.client_secret
            resp = client.session.post(url, data=form, timeout=timeout, withhold_token=True)
            data = resp.json()
            if "error" in data:
                raise OAuthError(error=data["error"], description=data.get("error_description"))
            resp.raise_for_status()
            return data

        try:
            data = client.call("Asking for a sign-in code", config.device_authorization_endpoint,
                               device_request, config.device_authorization_endpoint)
        except OAuthError as exc:
            raise _sign_in_error(exc) from exc
        except requests.HTTPError as exc:
            raise ProtocolError(f"The sign-in server {config.host} refused to give a code",
                                detail=str(exc)) from exc
        for key in ("device_code", "user_code", "verification_uri"):
            if not data.get(key):
                raise ProtocolError(f"The sign-in server {config.host} sent an incomplete "
                                    f"answer (no {key})")
        expires_in = float(data.get("expires_in") or 900)
        interval = max(1.0, float(data.get("interval") or 5))
        show(DeviceCode(data["user_code"], data["verification_uri"],
                        data.get("verification_uri_complete"), expires_in))
        deadline = time.monotonic() + expires_in
        while True:
            if token.wait(interval):
                raise Cancelled()
            if time.monotonic() > deadline:
                raise SignInError("The sign-in code expired before it was used; start again")
            try:
                result = client.call("Waiting for the code to be entered", config.token_endpoint,
                                     client.session.fetch_token, config.token_endpoint,
                                     grant_type=DEVICE_CODE_GRANT_TYPE,
                                     device_code=data["device_code"])
            except OAuthError as exc:
                if exc.error == "authorization_pending":
                    continue
                if exc.error == "slow_down":
                    interval += 5
                    continue
                raise _sign_in_error(exc) from exc
            return _grant(result)
    finally:
        client.close()


# -- keeping tokens fresh ---------------------------------------------------------------------

def refresh_key(account: str) -> str:
    """The keyring entry of an account's refresh token."""
    return f"mail/{account}/oauth-refresh"


class TokenManager:
    """One account's tokens: the refresh token in ``store`` (the keyring), the access token
    in memory. Thread-safe: concurrent connections share one refresh."""

    def __init__(self, account: str, config: OAuthConfig, store: SecretStore, *,
                 clock: Callable[[], float] = time.time):
        self.account, self.config, self.store, self.clock = account, config, store, clock
        self._grant: Grant | None = None
        self._lock = threading.Lock()

    def adopt(self, grant: Grant) -> None:
        """Keep a fresh sign-in's grant (the refresh token goes to the keyring)."""
        with self._lock:
            self._grant = grant
            if grant.refresh_token:
                self.store.set(refresh_key(self.account), grant.refresh_token)

    def forget(self) -> None:
        with self._lock:
            self._grant = None
            self.store.delete(refresh_key(self.account))

    @property
    def current(self) -> Grant | None:
        """The grant in memory (after a sign-in or a refresh), or None."""
        return self._grant

    @property
    def signed_in(self) -> bool:
        return self._grant is not None or bool(self.store.get(refresh_key(self.account)))

    def access_token(self, *, token: CancelToken | None = None, log: Log = no_log,
                     force_refresh: bool = False, stale: str | None = None) -> str:
        """A usable access token: the one in memory while it has more than a minute left,
        else a refreshed one. ``force_refresh`` refreshes unless another thread already
        replaced ``stale`` (the token the server just refused)."""
        with self._lock:
            grant = self._grant
            if grant is not None and not force_refresh \
                    and grant.expires_at - EXPIRY_MARGIN > self.clock():
                return grant.access_token
            if force_refresh and grant is not None and stale is not None \
                    and grant.access_token != stale:
                return grant.access_token
            refresh = (grant.refresh_token if grant else None) \
                or self.store.get(refresh_key(self.account))
            if not refresh:
                raise SignInNeeded(f"Sign in to {self.account} again: no sign-in is stored")
            new = self._refresh(refresh, token or CancelToken(), log)
            self._grant = new
            if new.refresh_token and new.refresh_token != refresh:  # rotated
                self.store.set(refresh_key(self.account), new.refresh_token)
            return new.access_token

    def _refresh(self, refresh: str, token: CancelToken, log: Log) -> Grant:
        client = _Client(self.config, token, log)
        try:
            data = client.call("Refreshing the access token", self.config.token_endpoint,
                               client.session.refresh_token, self.config.token_endpoint,
                               refresh_token=refresh)
        except OAuthError as exc:
            if exc.error in ("invalid_grant", "unauthorized_client", "invalid_client"):
                # the grant was revoked or expired: it will never work again
                self._grant = None
                self.store.delete(refresh_key(self.account))
                raise SignInNeeded(f"Sign in to {self.account} again: the provider no longer "
                                   "accepts the stored sign-in", detail=exc.error) from exc
            raise _sign_in_error(exc) from exc
        finally:
            client.close()
        return _grant(data, old_refresh=refresh)

    def with_access_token(self, use: Callable[[str], T], *, token: CancelToken | None = None,
                          log: Log = no_log) -> T:
        """``use(access_token)`` (connect + authenticate); when the server refuses the token
        (TokenRejected), refresh once and call ``use`` once more."""
        first = self.access_token(token=token, log=log)
        try:
            return use(first)
        except TokenRejected:
            log("*", "The server refused the access token; refreshing it once")
            second = self.access_token(token=token, log=log, force_refresh=True, stale=first)
            return use(second)

    def sign_out(self, *, token: CancelToken | None = None, log: Log = no_log) -> None:
        """Revoke the grant at the provider (if it has a revocation endpoint) and forget it.
        Forgetting happens even when the provider cannot be reached."""
        refresh = (self._grant.refresh_token if self._grant else None) \
            or self.store.get(refresh_key(self.account))
        try:
            if refresh:
                revoke(self.config, refresh, token=token, log=log)
        finally:
            self.forget()


def revoke(config: OAuthConfig, refresh_token: str, *, token: CancelToken | None = None,
           log: Log = no_log) -> bool:
    """Revoke a grant at the provider (RFC 7009), where it offers that; True when it said yes.
    A failure is one transcript line, never an exception: the caller forgets the grant anyway."""
    if not config.revocation_endpoint:
        log("*", "The provider offers no revocation; the grant ends when it expires or when "
                 "you remove netgui's access in your account's security settings")
        return False
    client = _Client(config, token or CancelToken(), log)
    try:
        client.call("Revoking the sign-in", config.revocation_endpoint,
                    client.session.revoke_token, config.revocation_endpoint,
                    token=refresh_token, token_type_hint="refresh_token")
        return True
    except (OAuthError, NetError) as exc:
        log("!", f"Revoking at the provider failed: {exc}")
        return False
    finally:
        client.close()


__all__ = ["OAuthConfig", "config_for_provider", "Grant", "DeviceCode", "TokenManager",
           "LoopbackListener", "sign_in_browser", "sign_in_device", "refresh_key", "revoke",
           "SignInError", "SignInNeeded", "NoBrowser", "SecretStore", "MemoryStore"]
