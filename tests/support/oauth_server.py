"""A real OAuth2 authorization server for tests, built on Authlib's server side (Flask).

It runs in a thread on an ephemeral loopback port and offers what a mail provider's
sign-in offers a native app (RFC 8252):

- ``/authorize``: a login page, then a consent page (Allow / Deny); authorization code
  grant with PKCE (S256 required for public clients); redirect URIs on loopback with any
  port (RFC 8252 7.3);
- ``/token``: authorization_code, refresh_token (rotated) and device_code grants;
- ``/device_authorization`` and ``/device`` (the page where the user types the code):
  RFC 8628 device flow;
- ``/revoke`` (RFC 7009) and ``/introspect`` (RFC 7662; only for the resource-server client
  that Dovecot and the SMTP peer authenticate as).

Tests play the browser with ``Browser`` (requests following the pages and forms).
Admin methods let tests expire access tokens, revoke a user's grant, or take the server
down, to check what the client does then. Nothing here is for production.
"""

from __future__ import annotations

import html
import re
import secrets
import threading
import time
import urllib.parse
from dataclasses import dataclass, field

import requests
from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import ClientMixin, TokenMixin, grants
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from authlib.oauth2.rfc8628 import (DeviceAuthorizationEndpoint, DeviceCodeGrant,
                                    DeviceCredentialDict)
from flask import Flask, redirect, request, session
from werkzeug.serving import WSGIRequestHandler, make_server


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):  # the URLs carry codes: keep test output clean
        pass

PUBLIC_CLIENT = "netgui-test"           # the native app: public, no secret
RESOURCE_CLIENT = "mail-server"          # Dovecot / the SMTP peer, for introspection
RESOURCE_SECRET = "introspect-s3cret"
SCOPE = "mail"
USER_PASSWORD = "browser-pw"


@dataclass
class Client(ClientMixin):
    client_id: str
    secret: str | None = None
    redirect_paths: tuple[str, ...] = ("/", "/callback")
    grant_types: tuple[str, ...] = ("authorization_code", "refresh_token",
                                    "urn:ietf:params:oauth:grant-type:device_code")

    def get_client_id(self):
        return self.client_id

    def get_default_redirect_uri(self):
        return None

    def get_allowed_scope(self, scope):
        allowed = set(SCOPE.split())
        return " ".join(s for s in (scope or "").split() if s in allowed)

    def check_redirect_uri(self, redirect_uri):
        # RFC 8252 7.3: a loopback IP redirect with any port; only the path is registered
        parts = urllib.parse.urlsplit(redirect_uri)
        return (parts.scheme == "http" and parts.hostname in ("127.0.0.1", "::1")
                and parts.port is not None and (parts.path or "/") in self.redirect_paths
                and not parts.fragment)

    def check_client_secret(self, client_secret):
        return self.secret is not None and secrets.compare_digest(self.secret, client_secret)

    def check_endpoint_auth_method(self, method, endpoint):
        if self.secret is None:
            return method == "none"
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type):
        return response_type == "code" and self.secret is None

    def check_grant_type(self, grant_type):
        return self.secret is None and grant_type in self.grant_types


@dataclass
class Token(TokenMixin):
    client_id: str
    user: str
    scope: str
    access_token: str
    refresh_token: str | None
    expires_at: float
    access_revoked: bool = False
    refresh_revoked: bool = False

    def check_client(self, client):
        return client.get_client_id() == self.client_id

    def get_scope(self):
        return self.scope

    def get_expires_in(self):
        return int(self.expires_at - time.time())

    def is_expired(self):
        return time.time() >= self.expires_at

    def is_revoked(self):
        return self.access_revoked

    def get_user(self):
        return self.user

    def get_client(self):
        return None


@dataclass
class AuthCode:
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    user: str
    code_challenge: str | None
    code_challenge_method: str | None
    expires_at: float

    def get_redirect_uri(self):
        return self.redirect_uri

    def get_scope(self):
        return self.scope

    def get_nonce(self):
        return None

    def get_auth_time(self):
        return None


@dataclass
class Store:
    """Everything the server knows, in memory, behind one lock."""

    users: dict[str, str] = field(default_factory=dict)
    clients: dict[str, Client] = field(default_factory=dict)
    codes: dict[str, AuthCode] = field(default_factory=dict)
    tokens: list[Token] = field(default_factory=list)
    devices: dict[str, dict] = field(default_factory=dict)      # device_code -> data
    device_grants: dict[str, tuple[str, bool]] = field(default_factory=dict)  # user_code -> (user, ok)
    introspections: int = 0
    lock: threading.RLock = field(default_factory=threading.RLock)

    def by_access(self, value):
        with self.lock:
            return next((t for t in self.tokens if t.access_token == value), None)

    def by_refresh(self, value):
        with self.lock:
            return next((t for t in self.tokens if t.refresh_token == value), None)


def _grant_classes(store: Store):
    class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
        TOKEN_ENDPOINT_AUTH_METHODS = ["none"]

        def save_authorization_code(self, code, req):
            with store.lock:
                store.codes[code] = AuthCode(
                    code, req.client.get_client_id(), req.payload.redirect_uri,
                    req.payload.scope, req.user, req.payload.data.get("code_challenge"),
                    req.payload.data.get("code_challenge_method"), time.time() + 120)

        def query_authorization_code(self, code, client):
            with store.lock:
                item = store.codes.get(code)
            if item and item.client_id == client.get_client_id() and item.expires_at > time.time():
                return item
            return None

        def delete_authorization_code(self, authorization_code):
            with store.lock:
                store.codes.pop(authorization_code.code, None)

        def authenticate_user(self, authorization_code):
            return authorization_code.user

    class RefreshTokenGrant(grants.RefreshTokenGrant):
        TOKEN_ENDPOINT_AUTH_METHODS = ["none"]
        INCLUDE_NEW_REFRESH_TOKEN = True

        def authenticate_refresh_token(self, refresh_token):
            token = store.by_refresh(refresh_token)
            if token and not token.refresh_revoked:
                return token
            return None

        def authenticate_user(self, refresh_token):
            return refresh_token.user

        def revoke_old_credential(self, refresh_token):
            with store.lock:
                refresh_token.refresh_revoked = True

    class DeviceGrant(DeviceCodeGrant):
        TOKEN_ENDPOINT_AUTH_METHODS = ["none"]

        def query_device_credential(self, device_code):
            with store.lock:
                data = store.devices.get(device_code)
            return DeviceCredentialDict(data) if data else None

        def query_user_grant(self, user_code):
            with store.lock:
                return store.device_grants.get(user_code)

        def should_slow_down(self, credential):
            return False

    class DeviceEndpoint(DeviceAuthorizationEndpoint):
        INTERVAL = 1
        base_url = ""

        def get_verification_uri(self):
            return self.base_url + "/device"

        def save_device_credential(self, client_id, scope, data):
            with store.lock:
                store.devices[data["device_code"]] = dict(
                    data, client_id=client_id, scope=scope,
                    expires_at=int(time.time()) + data["expires_in"])

    class Revocation(RevocationEndpoint):
        CLIENT_AUTH_METHODS = ["none", "client_secret_basic"]

        def query_token(self, token_string, token_type_hint):
            return store.by_refresh(token_string) or store.by_access(token_string)

        def revoke_token(self, token, req):
            with store.lock:  # revoking either ends the whole grant
                token.access_revoked = token.refresh_revoked = True

    class Introspection(IntrospectionEndpoint):
        CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

        def query_token(self, token_string, token_type_hint):
            with store.lock:
                store.introspections += 1
            return store.by_access(token_string)

        def check_permission(self, token, client, req):
            return client.get_client_id() == RESOURCE_CLIENT

        def introspect_token(self, token):
            return {"active": True, "client_id": token.client_id, "token_type": "Bearer",
                    "username": token.user, "sub": token.user, "scope": token.scope,
                    "exp": int(token.expires_at)}

    return AuthorizationCodeGrant, RefreshTokenGrant, DeviceGrant, DeviceEndpoint, Revocation, \
        Introspection


_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>{title}</title></head>
<body><h1>{title}</h1>{body}</body></html>"""


def _form(action: str, fields: dict[str, str], inputs: str, buttons: str) -> str:
    hidden = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                     for k, v in fields.items())
    return f'<form method="post" action="{html.escape(action)}">{hidden}{inputs}{buttons}</form>'


class OAuthServer:
    """The authorization server; ``start()`` runs it, ``stop()`` ends it.

    ``access_ttl``: seconds an access token lives. ``users``: name -> password for the
    login page (default: user1..user300 with USER_PASSWORD, the test Dovecot's users).
    """

    def __init__(self, access_ttl: int = 3600, users: dict[str, str] | None = None,
                 token_bytes: int = 32):
        self.store = Store()
        self.store.users = users or {f"user{n}": USER_PASSWORD for n in range(1, 301)}
        self.store.clients = {PUBLIC_CLIENT: Client(PUBLIC_CLIENT),
                              RESOURCE_CLIENT: Client(RESOURCE_CLIENT, RESOURCE_SECRET)}
        self.access_ttl = access_ttl
        self.token_bytes = token_bytes  # real providers' tokens are 1-2 KB: try 1200
        self.app = self._make_app()
        self._http = None
        self._thread = None
        self.port = 0

    # -- control ----------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def endpoints(self) -> dict[str, str]:
        """The URLs a client needs (the shape of a provider preset's endpoints)."""
        b = self.base_url
        return {"authorization_endpoint": b + "/authorize", "token_endpoint": b + "/token",
                "revocation_endpoint": b + "/revoke",
                "device_authorization_endpoint": b + "/device_authorization"}

    def introspection_url(self, with_credentials: bool = True) -> str:
        cred = f"{RESOURCE_CLIENT}:{RESOURCE_SECRET}@" if with_credentials else ""
        return f"http://{cred}127.0.0.1:{self.port}/introspect"

    def start(self, port: int = 0) -> "OAuthServer":
        self._http = make_server("127.0.0.1", port, self.app, threaded=True,
                                 request_handler=_QuietHandler)
        self.port = self._http.server_port
        self._device_endpoint.base_url = self.base_url
        self._thread = threading.Thread(target=self._http.serve_forever, daemon=True,
                                        name="oauth-server")
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop answering (the port is closed: clients see the server down)."""
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
            self._http = None

    def restart(self) -> None:
        """Start again on the same port (the same tokens are still known)."""
        self.start(self.port)

    def expire_access_tokens(self, user: str | None = None) -> None:
        """Make every (or ``user``'s) access token expired now; refresh tokens stay good."""
        with self.store.lock:
            for t in self.store.tokens:
                if user is None or t.user == user:
                    t.expires_at = time.time() - 1

    def revoke_grants(self, user: str) -> None:
        """The user withdrew the app's access: every token of theirs stops working."""
        with self.store.lock:
            for t in self.store.tokens:
                if t.user == user:
                    t.access_revoked = t.refresh_revoked = True

    def live_tokens(self, user: str) -> list[Token]:
        with self.store.lock:
            return [t for t in self.store.tokens if t.user == user and not t.access_revoked]

    def approve_device(self, user_code: str, user: str, approve: bool = True) -> None:
        with self.store.lock:
            self.store.device_grants[user_code] = (user, approve)

    # -- the Flask app ------------------------------------------------------
    def _make_app(self) -> Flask:
        app = Flask("netgui-test-oauth")
        app.secret_key = secrets.token_hex(16)
        store = self.store
        server = AuthorizationServer(app, query_client=lambda cid: store.clients.get(cid),
                                     save_token=self._save_token)
        code_grant, refresh_grant, device_grant, device_ep, revocation, introspection = \
            _grant_classes(store)
        server.register_grant(code_grant, [CodeChallenge(required=True)])
        server.register_grant(refresh_grant)
        server.register_grant(device_grant)
        self._device_endpoint = device_ep(server)
        server.register_endpoint(self._device_endpoint)
        server.register_endpoint(revocation)
        server.register_endpoint(introspection)
        # the token endpoint's lifetimes
        server.register_token_generator("default", self._bearer_generator())

        def login_page(action, error=""):
            inputs = (('<p class="error">' + html.escape(error) + "</p>" if error else "")
                      + '<label>User <input name="username"></label>'
                      '<label>Password <input type="password" name="password"></label>')
            return _PAGE.format(title="Sign in", body=_form(
                action, {"step": "login"}, inputs, '<button name="go" value="1">Sign in</button>'))

        def check_login():
            user, pw = request.form.get("username", ""), request.form.get("password", "")
            if store.users.get(user) == pw and pw:
                session["user"] = user
                return True
            return False

        @app.route("/authorize", methods=["GET", "POST"])
        def authorize():
            action = "/authorize?" + request.query_string.decode()
            if request.method == "POST" and request.form.get("step") == "login":
                if not check_login():
                    return login_page(action, "Wrong user name or password"), 401
                return redirect(action, 303)
            user = session.get("user")
            if not user:
                try:  # a bad request is reported before anyone types a password
                    server.get_consent_grant(end_user=None)
                except Exception as exc:  # noqa: BLE001 - shown to the browser
                    return _PAGE.format(title="Error", body=html.escape(str(exc))), 400
                return login_page(action)
            if request.method == "GET":
                try:
                    grant = server.get_consent_grant(end_user=user)
                except Exception as exc:  # noqa: BLE001
                    return _PAGE.format(title="Error", body=html.escape(str(exc))), 400
                body = (f"<p>{html.escape(grant.client.client_id)} asks to read and send mail "
                        f"as {html.escape(user)} (scope {html.escape(grant.request.payload.scope)}).</p>")
                return _PAGE.format(title="Allow access?", body=body + _form(
                    action, {"step": "consent"}, "",
                    '<button name="decision" value="allow">Allow</button>'
                    '<button name="decision" value="deny">Deny</button>'))
            allowed = request.form.get("decision") == "allow"
            grant = server.get_consent_grant(end_user=user)
            return server.create_authorization_response(grant_user=user if allowed else None,
                                                        grant=grant)

        @app.route("/token", methods=["POST"])
        def token():
            return server.create_token_response()

        @app.route("/revoke", methods=["POST"])
        def revoke():
            return server.create_endpoint_response(revocation.ENDPOINT_NAME)

        @app.route("/introspect", methods=["POST"])
        def introspect():
            return server.create_endpoint_response(introspection.ENDPOINT_NAME)

        @app.route("/device_authorization", methods=["POST"])
        def device_authorization():
            return server.create_endpoint_response(device_ep.ENDPOINT_NAME)

        @app.route("/device", methods=["GET", "POST"])
        def device():
            action = "/device"
            code = request.values.get("user_code", "")
            if request.method == "POST" and request.form.get("step") == "login":
                if not check_login():
                    return login_page(action + "?user_code=" + urllib.parse.quote(code),
                                      "Wrong user name or password"), 401
                return redirect(action + "?user_code=" + urllib.parse.quote(code), 303)
            user = session.get("user")
            if not user:
                return login_page(action + "?user_code=" + urllib.parse.quote(code))
            if request.method == "POST" and request.form.get("step") == "consent":
                known = any(d["user_code"] == code for d in store.devices.values())
                if not known:
                    return _PAGE.format(title="Unknown code", body="<p>No such code.</p>"), 400
                approve = request.form.get("decision") == "allow"
                self.approve_device(code, user, approve)
                return _PAGE.format(title="Done", body="<p>You can close this window.</p>")
            return _PAGE.format(title="Connect a device", body=_form(
                action, {"step": "consent"}, f'<input name="user_code" value="{html.escape(code)}">',
                '<button name="decision" value="allow">Allow</button>'
                '<button name="decision" value="deny">Deny</button>'))

        return app

    def _bearer_generator(self):
        from authlib.oauth2.rfc6750 import BearerTokenGenerator

        def gen_token(*args, **kwargs):
            return secrets.token_urlsafe(self.token_bytes)

        return BearerTokenGenerator(gen_token, gen_token,
                                    expires_generator=lambda client, grant_type: self.access_ttl)

    def _save_token(self, token: dict, req) -> None:
        with self.store.lock:
            self.store.tokens.append(Token(
                req.client.get_client_id(), req.user, token.get("scope", ""),
                token["access_token"], token.get("refresh_token"),
                time.time() + token.get("expires_in", self.access_ttl)))


class Browser:
    """Plays the user's browser: opens the authorization URL, signs in, answers consent.

    ``open(url)`` follows the pages; with ``approve`` False it presses Deny; with
    ``close_at`` "login"/"consent" it stops there (the user closed the browser).
    """

    def __init__(self, user: str, password: str = USER_PASSWORD):
        self.user, self.password = user, password
        self.http = requests.Session()
        self.last: requests.Response | None = None

    def _submit(self, page: requests.Response, **values) -> requests.Response:
        form = re.search(r'<form method="post" action="([^"]*)">(.*?)</form>', page.text, re.S)
        assert form, f"no form on {page.url}: {page.text[:200]}"
        data = dict(re.findall(r'<input type="hidden" name="([^"]*)" value="([^"]*)">',
                               form.group(2)))
        data = {html.unescape(k): html.unescape(v) for k, v in data.items()}
        data.update(values)
        url = urllib.parse.urljoin(page.url, html.unescape(form.group(1)))
        return self.http.post(url, data=data, timeout=10)

    def open(self, url: str, approve: bool = True, close_at: str | None = None) -> requests.Response:
        page = self.http.get(url, timeout=10)
        if page.status_code == 400:
            self.last = page
            return page
        if close_at == "login":
            return page
        if 'name="decision"' not in page.text:  # a browser signed in before skips the login
            page = self._submit(page, username=self.user, password=self.password)
        if close_at == "consent":
            return page
        # pressing Allow/Deny redirects to the app's loopback listener, which answers
        self.last = self._submit(page, decision="allow" if approve else "deny")
        return self.last

    def enter_device_code(self, verification_uri: str, user_code: str, approve: bool = True):
        page = self.http.get(verification_uri, params={"user_code": user_code}, timeout=10)
        page = self._submit(page, username=self.user, password=self.password)
        return self._submit(page, user_code=user_code, decision="allow" if approve else "deny")


def start_oauth_server(**kw) -> OAuthServer:
    return OAuthServer(**kw).start()
