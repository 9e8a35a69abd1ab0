"""An HTTP/1.1 client core: timed phases, keep-alive, cookies, redirects, proxies, streamed bodies.

Built on ``http.client`` with a connection class of its own so that each phase (resolve,
connect, TLS, first byte) is timed and every blocking call honours the request timeout and
the cancel token. ``HttpSession.send`` is blocking and meant for a worker thread; it reports
through ``log(direction, text)``, ``progress(done, total)`` and ``status(text)`` callbacks.
"""

from __future__ import annotations

import dataclasses
import http.client
import http.cookiejar
import ipaddress
import socket
import ssl
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable
from urllib.parse import urljoin, urlsplit

from netgui import __version__
from netgui.net.cancel import CancelToken
from netgui.net.connection import Log, connect_first, no_log, resolve, tls_context
from netgui.net.errors import Cancelled, ConnectionLost, NetError, NetTimeout, ProtocolError, translate
from netgui.net.redact import redact

from .body import HEAD_LIMIT, BodySink, Decoder
from .request import (
    BadRequest,
    Request,
    basic_auth,
    build_body,
    check_header,
    check_url,
    host_port,
    request_target,
    split_userinfo,
)

CHUNK = 1024 * 1024
REDIRECT_CODES = (301, 302, 303, 307, 308)
PROGRESS_INTERVAL = 0.1
USER_AGENT = f"netgui/{__version__}"

Progress = Callable[..., None]


class TruncatedBody(ProtocolError):
    """The connection ended before the whole body arrived (``.response`` holds what did)."""


# -- results ------------------------------------------------------------------------------

@dataclass
class Timing:
    """Seconds spent in each phase of the final request (0 for phases a reused connection skips)."""

    resolve: float = 0.0
    connect: float = 0.0
    tls: float = 0.0
    first_byte: float = 0.0
    total: float = 0.0
    reused: bool = False


@dataclass
class TLSInfo:
    version: str
    cipher: str
    subject: str
    issuer: str
    not_before: str
    not_after: str
    verified: bool
    names: tuple[str, ...] = ()
    """The certificate's subjectAltName entries (the host names it is valid for)."""


@dataclass
class Hop:
    """One redirect on the way: where it was, what it answered, where it pointed."""

    method: str
    url: str
    status: int
    reason: str
    location: str


@dataclass
class Response:
    """What came back. ``body`` holds at most the first ``head_limit`` decoded bytes."""

    method: str
    url: str
    status: int
    reason: str
    http_version: str
    headers: list[tuple[str, str]]
    timing: Timing
    redirects: list[Hop] = field(default_factory=list)
    remote_address: str = ""
    via_proxy: str | None = None
    tls: TLSInfo | None = None
    body: bytes = b""
    body_size: int = 0
    body_complete: bool = True
    """True when ``body`` is the whole body (it fit in memory and nothing is missing)."""
    stopped_early: bool = False
    """Not saving and the body was larger than the head limit: reading stopped there."""
    truncated: bool = False
    content_length: int | None = None
    received: int = 0
    """Body bytes as they came over the wire (before gzip/deflate decoding)."""
    saved_path: Path | None = None
    part_path: Path | None = None
    elapsed: float = 0.0

    def header(self, name: str, default: str | None = None) -> str | None:
        lowered = name.lower()
        for key, value in self.headers:
            if key.lower() == lowered:
                return value
        return default

    @property
    def content_type(self) -> str:
        return (self.header("Content-Type") or "").split(";", 1)[0].strip().lower()

    @property
    def charset(self) -> str | None:
        from email.message import Message
        msg = Message()
        msg["Content-Type"] = self.header("Content-Type") or ""
        return msg.get_content_charset()

    @property
    def status_line(self) -> str:
        return f"{self.http_version} {self.status} {self.reason}".strip()


# -- the connection -----------------------------------------------------------------------

class _Connection(http.client.HTTPConnection):
    """An HTTPConnection that times resolve/connect/TLS and can be woken by a cancel token."""

    def __init__(self, host: str, port: int, *, timeout: float, tls: ssl.SSLContext | None,
                 server_hostname: str, token: CancelToken, log: Log):
        super().__init__(host, port, timeout=timeout)
        self.tls_ctx = tls
        self.server_hostname = server_hostname
        self.token = token
        self.log = log
        self.timing = Timing()
        self.remote = ""
        self.tls_info: TLSInfo | None = None

    def connect(self) -> None:
        token, timing = self.token, self.timing
        self.log("*", f"Resolving {self.host}")
        started = time.monotonic()
        infos = resolve(self.host, self.port, token)
        resolved = time.monotonic()
        timing.resolve = resolved - started
        sock, addr = connect_first(infos, self.timeout, token, self.log)
        connected = time.monotonic()
        timing.connect = connected - resolved
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = sock
        self.remote = _address(addr)
        self.log("*", f"Connected to {self.remote}")
        if self._tunnel_host:
            with token.watch(sock):
                self._tunnel()
            self.log("*", f"Proxy tunnel open to {self._tunnel_host}:{self._tunnel_port}")
        if self.tls_ctx is not None:
            tls_started = time.monotonic()
            with token.watch(sock):
                self.sock = self.tls_ctx.wrap_socket(sock, server_hostname=self.server_hostname)
            timing.tls = time.monotonic() - tls_started
            self.tls_info = _tls_info(self.sock, self.tls_ctx.verify_mode != ssl.CERT_NONE)
            self.log("*", f"TLS {self.tls_info.version} with {self.tls_info.cipher}; certificate "
                          f"for {self.tls_info.subject}, issued by {self.tls_info.issuer}, "
                          f"expires {self.tls_info.not_after}"
                          + ("" if self.tls_info.verified else " (NOT VERIFIED)"))


def _address(addr) -> str:
    host, port = addr[0], addr[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


_NAME_KEYS = {"commonName": "CN", "organizationName": "O", "organizationalUnitName": "OU",
              "countryName": "C"}


def _x509_name(name) -> str:
    """``CN=…, O=…`` from the nested tuples ssl.getpeercert() gives."""
    parts = [f"{_NAME_KEYS[key]}={value}" for rdn in name or () for key, value in rdn
             if key in _NAME_KEYS]
    return ", ".join(parts) or "(none)"


def _tls_info(sock: ssl.SSLSocket, verified: bool) -> TLSInfo:
    version = sock.version() or "?"
    cipher = (sock.cipher() or ("?",))[0]
    cert = sock.getpeercert() if verified else None
    if cert:
        names = tuple(value for _, value in cert.get("subjectAltName", ()))
        return TLSInfo(version, cipher, _x509_name(cert.get("subject")), _x509_name(cert.get("issuer")),
                       cert.get("notBefore", "?"), cert.get("notAfter", "?"), True, names)
    # Unverified sessions do not decode the certificate; cryptography (installed with keyring
    # on Linux) can, where it is present.
    subject = issuer = not_before = not_after = "(unknown)"
    names: tuple[str, ...] = ()
    try:
        from cryptography import x509
        der = sock.getpeercert(binary_form=True)
        parsed = x509.load_der_x509_certificate(der)
        subject, issuer = parsed.subject.rfc4514_string(), parsed.issuer.rfc4514_string()
        before = getattr(parsed, "not_valid_before_utc", None) or parsed.not_valid_before
        after = getattr(parsed, "not_valid_after_utc", None) or parsed.not_valid_after
        not_before = before.strftime("%b %d %H:%M:%S %Y GMT")
        not_after = after.strftime("%b %d %H:%M:%S %Y GMT")
        try:
            san = parsed.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
            names = tuple(str(getattr(n, "value", n)) for n in san)
        except x509.ExtensionNotFound:
            pass
    except Exception:
        pass
    return TLSInfo(version, cipher, subject or "(none)", issuer or "(none)", not_before, not_after,
                   verified, names)


def _is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class _CookieResponse:
    """What http.cookiejar needs from a response: ``info()`` with ``get_all``."""

    def __init__(self, message):
        self._message = message

    def info(self):
        return self._message


# -- the session --------------------------------------------------------------------------

class HttpSession:
    """Sends requests, keeping a cookie jar and idle keep-alive connections between them.

    Safe to use from several worker threads: a connection is taken out of the pool while
    a request uses it.
    """

    def __init__(self, cookies: http.cookiejar.CookieJar | None = None, cafile: str | None = None,
                 head_limit: int = HEAD_LIMIT):
        self.cookies = cookies if cookies is not None else http.cookiejar.CookieJar()
        self.cafile = cafile
        self.head_limit = head_limit
        self._pool: dict[tuple, list[_Connection]] = {}
        self._lock = threading.Lock()
        self._contexts: dict[bool, ssl.SSLContext] = {}

    # -- public -------------------------------------------------------------------------
    def send(self, request: Request, *, token: CancelToken | None = None, log: Log = no_log,
             progress: Progress | None = None, status: Callable[[str], None] | None = None,
             save_to: str | Path | None = None) -> Response:
        """Send ``request``, follow redirects if asked, and return the final Response.

        With ``save_to``, the body streams to ``<save_to>.part``, renamed to ``save_to`` only
        when complete. Raises the NetError family; a body that ends early raises
        TruncatedBody (and a stall NetTimeout) with the partial ``.response`` attached.
        """
        token = token or CancelToken()
        status = status or (lambda text: None)
        url, userinfo = split_userinfo(request.full_url())
        if userinfo and not request.username:  # http://user:pass@host/ as curl does
            request = dataclasses.replace(request, username=userinfo[0], password=userinfo[1])
        secrets = (request.password,) if request.password else ()

        def log_safe(direction: str, text: str) -> None:
            # redact() is regex work; only lines that can hold a credential need it.
            if secrets or "uthorization" in text or "@" in text:
                text = redact(text, secrets)
            log(direction, text)

        if log is no_log:
            log_safe = no_log  # noqa: F811 - nothing to write, nothing to redact

        for name, value in request.headers:
            if name:
                check_header(name, value)
        body = build_body(request)
        method = request.method.upper()
        origin = host_port(url)[:2]
        redirects: list[Hop] = []
        seen: set[tuple[str, str]] = set()
        started = time.monotonic()
        loop = False
        while True:
            token.check()
            seen.add((method, url))
            final_hop = not request.follow_redirects
            conn, resp, key = self._exchange(method, url, request, body, token, log_safe, status,
                                             progress, send_auth=host_port(url)[:2] == origin)
            location = resp.getheader("Location")
            if resp.status in REDIRECT_CODES and location and not final_hop:
                next_url = urljoin(url, location.strip())
                hop = Hop(method, url, resp.status, resp.reason, next_url)
                self._discard(conn, resp, key)
                redirects.append(hop)
                log_safe("*", f"Redirect {resp.status} to {next_url}")
                try:
                    next_url = check_url(next_url)
                except BadRequest as exc:
                    raise ProtocolError(f"Redirected to a URL netgui cannot follow: {next_url}",
                                        detail=str(exc)) from None
                if resp.status == 303 or (resp.status in (301, 302) and method == "POST"):
                    method = "GET" if method != "HEAD" else "HEAD"
                    body = None
                loop = loop or (method, next_url) in seen
                if len(redirects) > request.max_redirects:
                    chain = " -> ".join(h.url for h in redirects[-4:])
                    what = "in a loop" if loop else "too many times"
                    raise ProtocolError(f"The server redirects {what} (more than "
                                        f"{request.max_redirects} redirects)", detail=chain)
                url = next_url
                continue
            return self._finish(method, url, conn, resp, key, token, log_safe, status, progress,
                                save_to, redirects, started)

    def close(self) -> None:
        """Close every idle connection."""
        with self._lock:
            pools, self._pool = self._pool, {}
        for conns in pools.values():
            for conn in conns:
                conn.close()

    def clear_cookies(self) -> None:
        self.cookies.clear()

    def cookie_list(self) -> list[http.cookiejar.Cookie]:
        return list(self.cookies)

    @property
    def idle_connections(self) -> int:
        with self._lock:
            return sum(len(c) for c in self._pool.values())

    # -- one exchange -------------------------------------------------------------------
    def _context(self, verify: bool) -> ssl.SSLContext:
        ctx = self._contexts.get(verify)
        if ctx is None:
            ctx = self._contexts[verify] = tls_context(verify=verify, cafile=self.cafile)
        return ctx

    def _proxy_for(self, request: Request, scheme: str, host: str) -> str | None:
        if request.proxy == "":
            return None
        if request.proxy:
            proxy = request.proxy
        else:
            if _is_loopback(host) or urllib.request.proxy_bypass(host):
                return None
            proxy = urllib.request.getproxies().get(scheme)
        if not proxy:
            return None
        if "://" not in proxy:
            proxy = "http://" + proxy
        return proxy

    def _connection(self, url: str, request: Request, token: CancelToken, log: Log):
        scheme, host, port = host_port(url)
        proxy = self._proxy_for(request, scheme, host)
        key = (scheme, host, port, proxy, request.verify)
        with self._lock:
            idle = self._pool.get(key)
            conn = idle.pop() if idle else None
        if conn is not None:
            conn.token, conn.log = token, log
            conn.timing = Timing(reused=True)
            if conn.sock is not None:
                conn.sock.settimeout(request.timeout)
            conn.timeout = request.timeout
            return conn, key, proxy, True
        tls = self._context(request.verify) if scheme == "https" else None
        if proxy:
            parts = urlsplit(proxy)
            if parts.scheme != "http" or not parts.hostname:
                raise BadRequest(f"Unsupported proxy {proxy!r}: use http://host:port")
            conn = _Connection(parts.hostname, parts.port or 8080, timeout=request.timeout, tls=tls,
                               server_hostname=host, token=token, log=log)
            proxy_headers = {}
            if parts.username:
                from urllib.parse import unquote
                proxy_headers["Proxy-Authorization"] = basic_auth(unquote(parts.username),
                                                                  unquote(parts.password or ""))
            if scheme == "https":
                conn.set_tunnel(host, port, headers=proxy_headers)
            else:
                conn.proxy_headers = proxy_headers
        else:
            conn = _Connection(host, port, timeout=request.timeout, tls=tls, server_hostname=host,
                               token=token, log=log)
        return conn, key, proxy, False

    def _headers(self, method: str, url: str, request: Request, body, send_auth: bool) -> list:
        given = {name.lower() for name, _ in request.headers if name}
        headers: list[tuple[str, str]] = []
        if "user-agent" not in given:
            headers.append(("User-Agent", USER_AGENT))
        if "accept" not in given:
            headers.append(("Accept", "*/*"))
        if "accept-encoding" not in given:
            headers.append(("Accept-Encoding", "gzip, deflate"))
        if request.username and send_auth and "authorization" not in given:
            headers.append(("Authorization", basic_auth(request.username, request.password)))
        cookie_request = urllib.request.Request(url, method=method)
        self.cookies.add_cookie_header(cookie_request)
        jar_cookie = cookie_request.unredirected_hdrs.get("Cookie")
        user_cookie = next((v for n, v in request.headers if n.lower() == "cookie"), None)
        for name, value in request.headers:
            if name and name.lower() != "cookie" and not (
                    body is None and name.lower() in ("content-type", "content-length")):
                headers.append((name, value))
        cookie = "; ".join(c for c in (user_cookie, jar_cookie) if c)
        if cookie:
            headers.append(("Cookie", cookie))
        if body is not None:
            if "content-type" not in given and body.content_type:
                headers.append(("Content-Type", body.content_type))
            headers.append(("Content-Length", str(body.length)))
        elif method in ("POST", "PUT", "PATCH"):
            headers.append(("Content-Length", "0"))
        return headers

    def _exchange(self, method, url, request, body, token, log, status, progress, send_auth):
        """Send one request and read the response head; returns (conn, response, pool key)."""
        scheme, host, port = host_port(url)
        headers = self._headers(method, url, request, body, send_auth)
        for attempt in (1, 2):
            conn, key, proxy, reused = self._connection(url, request, token, log)
            where = (conn.host, conn.port)
            phase = "connect"
            try:
                if conn.sock is None:
                    status(f"Connecting to {host}:{port}" + (f" via {proxy}" if proxy else ""))
                    conn.connect()
                else:
                    log("*", f"Reusing the connection to {conn.remote}")
                phase = "send"
                with token.watch(conn.sock):
                    self._send(conn, method, url, proxy, scheme, headers, body, token, log, status,
                               progress)
                    sent = time.monotonic()
                    phase = "wait"
                    status("Waiting for the response")
                    resp = conn.getresponse()
                conn.timing.first_byte = time.monotonic() - sent
            except BaseException as exc:
                conn.close()
                if token.cancelled:
                    raise Cancelled() from exc
                retry = (reused and attempt == 1 and phase in ("send", "wait") and isinstance(
                    exc, (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError,
                          ConnectionAbortedError)))
                if retry:
                    log("*", "The idle connection was closed by the server; opening a new one")
                    continue
                err = self._error(exc, phase, host, port, where, request.timeout, log)
                if err is exc:  # already a NetError (resolve translates): keep its own cause
                    raise
                raise err from exc
            version = {9: "HTTP/0.9", 10: "HTTP/1.0", 11: "HTTP/1.1"}.get(resp.version, "HTTP")
            log("<", f"{version} {resp.status} {resp.reason}")
            for name, value in resp.getheaders():
                log("<", f"{name}: {value}")
            self.cookies.extract_cookies(_CookieResponse(resp.msg),
                                         urllib.request.Request(url, method=method))
            resp.netgui_version = version
            resp.netgui_proxy = proxy
            return conn, resp, key
        raise AssertionError("unreachable")

    def _send(self, conn, method, url, proxy, scheme, headers, body, token, log, status, progress):
        target = url if proxy and scheme == "http" else request_target(url)
        conn.putrequest(method, target, skip_accept_encoding=True)
        log(">", f"{method} {target} HTTP/1.1")
        log(">", f"Host: {_host_header(url)}")
        for name, value in headers + list(getattr(conn, "proxy_headers", {}).items()):
            conn.putheader(name, value)
            log(">", f"{name}: {value}")
        conn.endheaders()
        if body is None:
            return
        status("Sending the request body")
        done, last = 0, 0.0
        for chunk in body:
            token.check()
            conn.send(chunk)
            done += len(chunk)
            now = time.monotonic()
            if progress and now - last >= PROGRESS_INTERVAL:
                last = now
                progress(done, body.length)
        log("*", f"Sent a body of {body.length} bytes")

    def _error(self, exc, phase, host, port, where, timeout, log) -> NetError:
        """The NetError for ``exc`` raised while connecting, sending or waiting for the head."""
        if isinstance(exc, NetError):
            err = exc
        elif isinstance(exc, http.client.LineTooLong):
            err = ProtocolError(f"{host}:{port} sent oversized headers (a line over 64 KiB)")
        elif isinstance(exc, http.client.RemoteDisconnected):
            err = ConnectionLost(f"{host}:{port} closed the connection without answering")
        elif isinstance(exc, http.client.BadStatusLine):
            err = ProtocolError(f"{host}:{port} did not answer with HTTP")
        elif isinstance(exc, http.client.HTTPException):
            text = str(exc)
            if "more than" in text and "headers" in text:
                err = ProtocolError(f"{host}:{port} sent too many headers ({text})")
            else:
                err = ProtocolError(f"{host}:{port} sent a malformed response: {text}")
        elif isinstance(exc, (socket.timeout, TimeoutError)) and phase == "wait":
            err = NetTimeout(f"{host}:{port} sent no response within {timeout:g} s")
        elif isinstance(exc, OSError) and str(exc).startswith("Tunnel connection failed"):
            err = ProtocolError(f"The proxy refused to connect to {host}:{port}: "
                                f"{str(exc).split(':', 1)[1].strip()}")
        elif isinstance(exc, (ssl.SSLError, ssl.CertificateError)):
            err = translate(exc, host, port)
        else:
            err = translate(exc, *where)
        detail = err.detail or f"{type(exc).__name__}: {exc}"
        err.detail = detail
        log("!", detail)
        return err

    # -- the body -----------------------------------------------------------------------
    def _discard(self, conn, resp, key) -> None:
        """Throw away a redirect's body; keep the connection only if that was cheap."""
        try:
            if resp.length is not None and resp.length <= 65536 and not resp.chunked:
                resp.read()
                self._release(conn, resp, key)
                return
        except (OSError, http.client.HTTPException):
            pass
        conn.close()

    def _release(self, conn, resp, key) -> None:
        if resp.will_close or not resp.isclosed() or conn.sock is None:
            conn.close()
            return
        with self._lock:
            self._pool.setdefault(key, []).append(conn)

    def _finish(self, method, url, conn, resp, key, token, log, status, progress, save_to,
                redirects, started) -> Response:
        declared = resp.getheader("Content-Length")
        try:
            declared_length = int(declared) if declared is not None else None
        except ValueError:
            declared_length = None
        response = Response(
            method=method, url=url, status=resp.status, reason=resp.reason,
            http_version=resp.netgui_version, headers=resp.getheaders(), timing=conn.timing,
            redirects=redirects, remote_address=conn.remote, via_proxy=resp.netgui_proxy,
            tls=conn.tls_info, content_length=declared_length)
        has_body = method != "HEAD" and resp.status not in (204, 304) and resp.status >= 200
        try:
            decoder = Decoder(resp.getheader("Content-Encoding") if has_body else None)
        except ProtocolError:
            decoder = Decoder(None)
            log("*", "Unknown Content-Encoding: the body is shown as received")
        try:
            sink = BodySink(save_to, head_limit=self.head_limit)
        except NetError:
            conn.close()
            raise
        raw = 0
        host = host_port(url)[1]
        try:
            with token.watch(conn.sock):
                if has_body:
                    status("Receiving the body")
                    raw = self._pump(resp, decoder, sink, token, progress, save_to is not None,
                                     declared_length, response)
                    for piece in decoder.finish_pieces():
                        sink.write(piece)
                else:
                    resp.read()  # HEAD, 204, 304: nothing to read; closes it for reuse
        except BaseException as exc:
            conn.close()
            part = sink.abandon()
            response.body, response.body_size, response.part_path = sink.head, sink.size, part
            response.body_complete = False
            response.timing.total = time.monotonic() - started
            if token.cancelled:
                raise Cancelled() from exc
            raw = response.received
            got = f"after {raw} of {declared_length} bytes" if declared_length is not None \
                else f"after {raw} bytes"
            if isinstance(exc, http.client.IncompleteRead):
                err = TruncatedBody(f"The body is truncated: the connection ended {got}")
                response.truncated = True
            elif isinstance(exc, (socket.timeout, TimeoutError)):
                err = NetTimeout(f"{host} stopped sending: nothing for {conn.timeout:g} s {got}")
            elif isinstance(exc, NetError):
                err = exc
            else:
                err = translate(exc, host, host_port(url)[2])
            err.detail = err.detail or f"{type(exc).__name__}: {exc}"
            if part:
                log("!", f"Kept the incomplete body as {part}")
            log("!", err.detail)
            err.response = response
            raise err from exc
        response.body, response.body_size = sink.head, sink.size
        response.elapsed = time.monotonic() - started
        short = resp.length is not None and resp.length > 0 and not response.stopped_early
        if short or (not decoder.complete and not response.stopped_early):
            conn.close()
            response.truncated = True
            response.body_complete = False
            response.part_path = sink.abandon()
            got = (f"{raw} of {declared_length} bytes" if declared_length is not None
                   else f"{raw} bytes")
            err = TruncatedBody(f"The body is truncated: the connection ended after {got}",
                                detail="Content-Length longer than the body" if short
                                else f"the {decoder.encoding} stream has no end")
            log("!", err.detail)
            if response.part_path:
                log("!", f"Kept the incomplete body as {response.part_path}")
            err.response = response
            raise err
        if response.stopped_early:
            conn.close()
            response.body_complete = False
        else:
            response.body_complete = sink.whole_in_memory
            self._release(conn, resp, key)
        response.saved_path = sink.commit()
        response.timing.total = response.elapsed
        log("*", f"Received {sink.size} bytes of body in {response.elapsed:.3f} s"
                 + (f"; saved to {response.saved_path}" if response.saved_path else "")
                 + ("; stopped after the first part (not saving)" if response.stopped_early else ""))
        return response

    def _pump(self, resp, decoder, sink, token, progress, saving, declared, response) -> int:
        """Read the body into ``sink``; returns the number of raw (encoded) bytes read."""
        raw, last = 0, 0.0
        limit = self.head_limit

        def write(data) -> None:
            if decoder.active:
                for piece in decoder.feed_pieces(data):
                    sink.write(piece)
            else:
                sink.write(data)

        while True:
            token.check()
            try:
                # read1: at most one recv, so bytes already received are never lost to a
                # timeout in a later recv, and chunks are handed over as they come.
                data = resp.read1(CHUNK)
                n = len(data)
            except http.client.IncompleteRead as exc:
                write(exc.partial)
                raise
            if not n:
                break
            raw += n
            response.received = raw
            write(data)
            now = time.monotonic()
            if progress is not None and now - last >= PROGRESS_INTERVAL:
                last = now
                progress(raw, declared)
            if not saving and sink.size > limit:
                response.stopped_early = True
                break
        token.check()  # a cancel shuts the socket down, which looks like the end of the body
        if progress is not None:
            progress(raw, declared)
        if not response.stopped_early and not resp.chunked and resp.length == 0:
            resp.close()  # read1 leaves a fully read response open; close it for reuse
        return raw


def _host_header(url: str) -> str:
    parts = urlsplit(url)
    return parts.netloc.rsplit("@", 1)[-1]


_COOKIE_FIELDS = ("version", "name", "value", "port", "port_specified", "domain", "domain_specified",
                  "domain_initial_dot", "path", "path_specified", "secure", "expires", "discard",
                  "comment", "comment_url", "rfc2109")


def export_cookies(jar: http.cookiejar.CookieJar) -> str:
    """The jar's cookies as JSON text (cookies can be credentials: store it in the keyring)."""
    import json
    cookies = []
    for cookie in jar:
        data = {name: getattr(cookie, name) for name in _COOKIE_FIELDS}
        data["rest"] = dict(cookie._rest)  # HttpOnly and friends; no public accessor exists
        cookies.append(data)
    return json.dumps(cookies)


def import_cookies(jar: http.cookiejar.CookieJar, text: str) -> int:
    """Add cookies exported by ``export_cookies`` to ``jar``; returns how many (expired ones
    are skipped, unreadable text adds none)."""
    import json
    try:
        items = json.loads(text)
    except ValueError:
        return 0
    now, added = time.time(), 0
    for data in items if isinstance(items, list) else ():
        try:
            if data.get("expires") is not None and data["expires"] <= now:
                continue
            fields = {name: data[name] for name in _COOKIE_FIELDS}
            jar.set_cookie(http.cookiejar.Cookie(rest=data.get("rest") or {}, **fields))
            added += 1
        except (KeyError, TypeError):
            continue
    return added
