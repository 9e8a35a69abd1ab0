"""An HTTP client core: HTTP/1.1 and HTTP/2, timed phases, keep-alive and multiplexing,
cookies, redirects, proxies, streamed bodies.

Connections are netgui's own sockets (``dial``), so each phase (resolve, connect, TLS, first
byte) is timed and every blocking call honours the request timeout and the cancel token.
On top of a socket sits either ``H1Connection`` (one request at a time, pooled for
keep-alive) or ``H2Connection`` (many requests at once, shared). TLS ALPN decides between
them unless the request pins a version (``Request.http_version``: auto, 1.1, 2).
``HttpSession.send`` is blocking and meant for a worker thread; it reports through
``log(direction, text)``, ``progress(done, total)`` and ``status(text)``.

Several requests at once (what a collection runner needs):

- One ``HttpSession`` may be used from several worker threads at the same time. Requests to
  one origin that can use HTTP/2 share ONE connection: the first thread dials while the
  others wait for it, then every thread opens its own stream on it (up to the server's
  SETTINGS_MAX_CONCURRENT_STREAMS; beyond that a second connection is opened). Each
  thread keeps its own timeout and cancel token: a cancel or a timeout resets only that
  thread's stream. HTTP/1.1 requests each take an idle connection from the pool (or dial
  one), one request per connection at a time.
- ``HttpSession.send_many(requests)`` is the fast way for a batch: it opens the HTTP/2
  streams of a batch in one write and reads every response in the calling thread (no
  hand-offs between threads), and sends what cannot go that way through ``send`` on a
  few threads. 100 small requests cost about what the h2 library's framing costs
  (README, "Web": figures).
"""
from __future__ import annotations

import dataclasses
import functools
import http.cookiejar
import ipaddress
import socket
import ssl
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable
from urllib.parse import unquote, urljoin, urlsplit

from netgui import __version__
from netgui.net.cancel import CancelToken
from netgui.net.connection import Log, no_log, tls_context
from netgui.net.errors import (
    Cancelled,
    ConnectionLost,
    NetError,
    NetTimeout,
    ProtocolError,
    TLSError,
    translate,
)
from netgui.net.redact import redact

from .body import HEAD_LIMIT, BodySink, Decoder
from .dial import ALPN, TLSInfo, Timing, dial
from .h1 import H1Connection, IncompleteBody, NoAnswer
from .h2 import H2Connection, H2Stream, StreamReset, Unprocessed, error_name
from .request import (
    HTTP_VERSIONS,
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

REDIRECT_CODES = (301, 302, 303, 307, 308)
PROGRESS_INTERVAL = 0.1
USER_AGENT = f"netgui/{__version__}"

Progress = Callable[..., None]

__all__ = ["HttpSession", "Response", "Hop", "Timing", "TLSInfo", "TruncatedBody",
           "export_cookies", "import_cookies", "USER_AGENT"]


class TruncatedBody(ProtocolError):
    """The connection ended before the whole body arrived (``.response`` holds what did)."""


# -- results -----------------------------------------------------------------------------

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
    frames: str = ""
    """HTTP/2: the stream's frames in one line ("HTTP/2 stream 3: HEADERS, DATA x12 (190.0 KiB),
    END_STREAM"); empty for HTTP/1."""

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


# -- helpers -----------------------------------------------------------------------------

@functools.lru_cache(maxsize=256)
def _is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class _Headers:
    """What http.cookiejar needs from a response: ``info()`` with ``get_all``."""

    def __init__(self, headers: list[tuple[str, str]]):
        self._headers = headers

    def info(self):
        return self

    def get_all(self, name: str, default=None):
        lowered = name.lower()
        found = [v for n, v in self._headers if n.lower() == lowered]
        return found or default


@contextmanager
def _watch(conn, token: CancelToken):
    """Cancelling wakes ``conn``'s blocked call: HTTP/1 shuts its socket down, HTTP/2 ends
    only the caller's stream (the connection carries others)."""
    if conn.multiplexed:
        remove = token.add_hook(conn._wake)
        try:
            yield
        finally:
            remove()
    else:
        with token.watch(conn.sock):
            yield


def _no_status(text: str) -> None:
    pass


@dataclass(eq=False)
class _Job:
    """One request on its way: where it is now (after redirects) and how it reports."""

    request: Request
    url: str
    method: str
    body: object
    origin: tuple[str, str]
    token: CancelToken
    log: Log
    status: Callable[[str], None]
    progress: Progress | None
    save_to: str | Path | None
    started: float
    redirects: list[Hop] = field(default_factory=list)
    seen: set = field(default_factory=set)
    loop: bool = False


class HttpSession:
    """Sends requests, keeping a cookie jar, idle HTTP/1.1 connections and shared HTTP/2
    connections between them.

    Safe to use from several worker threads: an HTTP/1.1 connection is taken out of the
    pool while a request uses it; an HTTP/2 connection stays in the pool and carries the
    requests of every thread at once (up to the server's stream limit).
    """

    def __init__(self, cookies: http.cookiejar.CookieJar | None = None, cafile: str | None = None,
                 head_limit: int = HEAD_LIMIT):
        self.cookies = cookies if cookies is not None else http.cookiejar.CookieJar()
        self.cafile = cafile
        self.head_limit = head_limit
        self._pool: dict[tuple, list[H1Connection]] = {}
        self._h2: dict[tuple, list[H2Connection]] = {}
        self._dialling: dict[tuple, threading.Lock] = {}
        self._lock = threading.Lock()
        self._contexts: dict[tuple, ssl.SSLContext] = {}

    # -- public -------------------------------------------------------------------------
    def send(self, request: Request, *, token: CancelToken | None = None, log: Log = no_log,
             progress: Progress | None = None, status: Callable[[str], None] | None = None,
             save_to: str | Path | None = None) -> Response:
        """Send ``request``, follow redirects if asked, and return the final Response.

        With ``save_to``, the body streams to ``<save_to>.part``, renamed to ``save_to`` only
        when complete. Raises the NetError family; a body that ends early raises
        TruncatedBody (and a stall NetTimeout) with the partial ``.response`` attached.
        """
        job = self._job(request, token, log, progress, status, save_to)
        conn, resp, key = self._exchange(job)
        return self._complete(job, conn, resp, key)

    def send_many(self, requests: list[Request], *, token: CancelToken | None = None,
                  log: Log = no_log, progress: Callable[[int, int], None] | None = None,
                  workers: int = 6) -> list[Response | NetError]:
        """Send several requests at once; returns each one's Response or NetError, in order.

        Requests that can share an HTTP/2 connection (https:// with Auto where the server
        offers h2, or HTTP/2 only) go out as streams in one batch: their HEADERS (and small
        bodies) in one write, and this thread reads every response. That costs about what
        the protocol costs, where a thread per request costs hand-offs between threads.
        The others (HTTP/1.1, a body too big to go along, a stream the server refused) go
        through ``send`` on up to ``workers`` threads. Origins are batched one after another. Redirects are followed and cookies
        kept as ``send`` does; bodies are kept in memory (up to the session's head limit).
        ``progress(done, total)`` counts finished requests.
        """
        token = token or CancelToken()
        outcomes: list[Response | NetError | None] = [None] * len(requests)
        done = 0

        def finished(index: int, outcome) -> None:
            nonlocal done
            outcomes[index] = outcome
            done += 1
            if progress is not None:
                progress(done, len(requests))

        groups: dict[tuple, list[tuple[int, _Job]]] = {}
        others: list[tuple[int, _Job]] = []
        for index, request in enumerate(requests):
            try:
                job = self._job(request, token, log, None, None, None)
            except NetError as exc:
                finished(index, exc)
                continue
            scheme, host, port = host_port(job.url)
            version = request.http_version
            if version == "2" or (version == "auto" and scheme == "https"):
                key = (scheme, host, port, request.proxy, request.verify, version)
                groups.setdefault(key, []).append((index, job))
            else:
                others.append((index, job))
        for members in groups.values():
            others += self._send_batch(members, token, finished)
        if others:
            def one(item):
                index, job = item
                try:
                    conn, resp, key = self._exchange(job)
                    return index, self._complete(job, conn, resp, key)
                except NetError as exc:
                    return index, exc

            with ThreadPoolExecutor(max(1, min(workers, len(others)))) as pool:
                for index, outcome in pool.map(one, others):
                    finished(index, outcome)
        token.check()
        return outcomes

    def _send_batch(self, members: list[tuple[int, _Job]], token: CancelToken, finished):
        """Send ``members`` (one origin) as HTTP/2 streams in batches on one connection;
        returns those that need ``send``'s way instead."""
        index, first = members[0]
        try:
            conn, key, proxy, reused = self._connection(first.url, first.request, token, first.log)
        except NetError as exc:
            for index, _ in members:
                finished(index, exc)
            return []
        except BaseException as exc:
            err = self._error(exc, "connect", *host_port(first.url)[1:], first.request.timeout,
                              first.log)
            for index, _ in members:
                finished(index, err)
            return []
        if not conn.multiplexed:  # the server chose HTTP/1.1: keep the connection for them
            self._release_idle(conn, key)
            return members
        timeout = max(job.request.timeout for _, job in members)
        pending, fallback = list(members), []
        first_timing = None if reused else conn.timing
        while pending:
            token.check()
            batch, items = [], []
            room = max(1, conn.room())
            while pending and len(batch) < min(room, 100):
                index, job = pending.pop(0)
                data = None
                if job.body is not None:
                    data = b"".join(job.body) if job.body.length <= 65536 else None
                    if data is None or not conn.fits(len(data)):
                        fallback.append((index, job))
                        continue
                job.seen.add((job.method, job.url))
                headers = self._headers(job.method, job.url, job.request, job.body, True)
                batch.append((index, job))
                items.append((self._h2_headers(job, headers), data))
            if not batch:
                continue
            streams = conn.start_streams(items, first.log)
            opened = [s for s in streams if isinstance(s, H2Stream)]
            try:
                conn.wait_heads(opened, token, timeout)
            except (socket.timeout, TimeoutError, NetError):
                if token.cancelled:
                    for stream in opened:
                        conn.abandon(stream)
                    raise Cancelled() from None
                # else each stream says below what became of it
            for (index, job), stream in zip(batch, streams):
                try:
                    if isinstance(stream, BaseException):
                        raise stream
                    resp = conn.response(stream, job.request.timeout)
                    resp.token, resp.timeout = token, job.request.timeout
                    timing, first_timing = first_timing or Timing(reused=True), None
                    timing.first_byte = resp.first_byte
                    self._head_received(job, resp, proxy, timing)
                    finished(index, self._complete(job, conn, resp, key))
                except Unprocessed as exc:
                    job.log("*", f"The server did not process the request ({exc}); sending it "
                                 "again")
                    fallback.append((index, job))
                except NetError as exc:
                    finished(index, exc)
            if conn.dead is not None:  # the rest go on a new connection, through send
                self._forget(key, conn)
                return fallback + pending
        return fallback

    def _job(self, request, token, log, progress, status, save_to) -> _Job:
        """Check ``request`` and build what its exchanges share (raises BadRequest)."""
        if request.http_version not in HTTP_VERSIONS:
            raise BadRequest(f"Unknown HTTP version choice {request.http_version!r}")
        url, userinfo = split_userinfo(request.full_url())
        if userinfo and not request.username:  # http://user:pass@host/ as curl does
            request = dataclasses.replace(request, username=userinfo[0], password=userinfo[1])
        secrets = (request.password,) if request.password else ()

        def log_safe(direction: str, text: str) -> None:
            # redact() is regex work; only lines that can hold a credential need it.
            if secrets or "uthorization" in text or "@" in text:
                text = redact(text, secrets)
            log(direction, text)

        for name, value in request.headers:
            if name:
                check_header(name, value)
        return _Job(request, url, request.method.upper(), build_body(request), host_port(url)[:2],
                    token or CancelToken(), no_log if log is no_log else log_safe,
                    status or _no_status, progress, save_to, time.monotonic())

    def _complete(self, job: _Job, conn, resp, key) -> Response:
        """Follow redirects from the response head ``resp`` on, then read the final body."""
        request = job.request
        while True:
            location = resp.fields.get("location")
            if not (resp.status in REDIRECT_CODES and location and request.follow_redirects):
                return self._finish(job, conn, resp, key)
            next_url = urljoin(job.url, location.strip())
            self._discard(conn, resp, key, job.token)
            job.redirects.append(Hop(job.method, job.url, resp.status, resp.reason, next_url))
            job.log("*", f"Redirect {resp.status} to {next_url}")
            try:
                next_url = check_url(next_url)
            except BadRequest as exc:
                raise ProtocolError(f"Redirected to a URL netgui cannot follow: {next_url}",
                                    detail=str(exc)) from None
            if resp.status == 303 or (resp.status in (301, 302) and job.method == "POST"):
                job.method = "GET" if job.method != "HEAD" else "HEAD"
                job.body = None
            job.loop = job.loop or (job.method, next_url) in job.seen
            if len(job.redirects) > request.max_redirects:
                chain = " -> ".join(h.url for h in job.redirects[-4:])
                what = "in a loop" if job.loop else "too many times"
                raise ProtocolError(f"The server redirects {what} (more than "
                                    f"{request.max_redirects} redirects)", detail=chain)
            job.url = next_url
            conn, resp, key = self._exchange(job)

    def close(self) -> None:
        """Close every idle connection (and every HTTP/2 connection)."""
        with self._lock:
            pools, self._pool = self._pool, {}
            shared, self._h2 = self._h2, {}
        for conns in list(pools.values()) + list(shared.values()):
            for conn in conns:
                conn.close()

    def clear_cookies(self) -> None:
        self.cookies.clear()

    def cookie_list(self) -> list[http.cookiejar.Cookie]:
        return list(self.cookies)

    @property
    def idle_connections(self) -> int:
        with self._lock:
            return sum(len(c) for c in self._pool.values()) + sum(
                1 for conns in self._h2.values() for c in conns if not c.active_streams)

    @property
    def http2_connections(self) -> int:
        with self._lock:
            return sum(len(c) for c in self._h2.values())

    # -- connections --------------------------------------------------------------------
    def _context(self, verify: bool, alpn: str) -> ssl.SSLContext:
        ctx = self._contexts.get((verify, alpn))
        if ctx is None:
            ctx = tls_context(verify=verify, cafile=self.cafile)
            ctx.set_alpn_protocols(ALPN[alpn])
            self._contexts[(verify, alpn)] = ctx
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

    def _take_idle(self, key):
        """A pooled connection for ``key`` that is still usable, or None. HTTP/2 connections
        are shared by "auto" and "2" requests (pooled without the version in their key)."""
        h2_ok = key[5] != "1.1"
        while True:
            with self._lock:
                shared = list(self._h2.get(key[:5], ())) if h2_ok else ()
            # asked outside the session's lock: a connection's lock may be busy reading
            conn = next((c for c in shared if c.can_open()), None)
            if conn is None:
                with self._lock:
                    idle = self._pool.get(key)
                    conn = idle.pop() if idle else None
            if conn is None:
                return None
            if conn.multiplexed:
                if conn.idle_ok():
                    return conn
                self._forget(key, conn)
                if not conn.active_streams:
                    conn.close()
                continue
            if conn.idle_ok():
                return conn
            conn.close()  # closed by the server while idle: costs nothing, try the next

    def _forget(self, key, conn) -> None:
        with self._lock:
            conns = self._h2.get(key[:5])
            if conns and conn in conns:
                conns.remove(conn)

    def _connection(self, url: str, request: Request, token: CancelToken, log: Log):
        """(conn, key, proxy, reused): an idle or shared connection, or a new one."""
        scheme, host, port = host_port(url)
        proxy = self._proxy_for(request, scheme, host)
        version = request.http_version
        if proxy and scheme == "http" and version == "2":
            raise BadRequest("HTTP/2 through a proxy works for https:// URLs only; choose Auto "
                             "or HTTP/1.1 for this one")
        key = (scheme, host, port, proxy, request.verify, version)
        conn = self._take_idle(key)
        if conn is not None:
            return conn, key, proxy, True
        may_share = version == "2" or (version == "auto" and scheme == "https")
        if not may_share:
            return self._dial(key, url, request, token, log), key, proxy, False
        # Only one thread dials a connection that may turn out to be HTTP/2: the others wait
        # for it and then share it instead of each opening their own.
        with self._lock:
            gate = self._dialling.setdefault(key, threading.Lock())
        while not gate.acquire(timeout=0.1):
            token.check()
        try:
            conn = self._take_idle(key)
            if conn is not None:
                return conn, key, proxy, True
            conn = self._dial(key, url, request, token, log)
            if conn.multiplexed:
                with self._lock:
                    self._h2.setdefault(key[:5], []).append(conn)
            return conn, key, proxy, False
        finally:
            gate.release()

    def _dial(self, key, url: str, request: Request, token: CancelToken, log: Log):
        scheme, host, port, proxy, verify, version = key
        where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        tls = self._context(verify, version) if scheme == "https" else None
        tunnel = None
        target = (host, port)
        if proxy:
            parts = urlsplit(proxy)
            if parts.scheme != "http" or not parts.hostname:
                raise BadRequest(f"Unsupported proxy {proxy!r}: use http://host:port")
            proxy_headers = []
            if parts.username:
                proxy_headers.append(("Proxy-Authorization", basic_auth(
                    unquote(parts.username), unquote(parts.password or ""))))
            target = (parts.hostname, parts.port or 8080)
            if scheme == "https":
                tunnel = (host, port, proxy_headers)
        dialled = dial(*target, timeout=request.timeout, token=token, log=log, tls=tls,
                       server_hostname=host, tunnel=tunnel, alpn=version)
        if dialled.alpn == "h2" or (scheme == "http" and version == "2"):
            if scheme == "http":
                log("*", "HTTP/2 with prior knowledge (h2c)")
            try:
                return H2Connection(dialled, where, log=log, timeout=request.timeout)
            except BaseException:
                dialled.sock.close()
                raise
        if version == "2":
            dialled.sock.close()
            chose = dialled.alpn or "nothing"
            raise ProtocolError(f"{where} does not offer HTTP/2 (ALPN chose {chose}); choose "
                                "Auto or HTTP/1.1 for this server")
        conn = H1Connection(dialled, where)
        conn.proxy_headers = proxy_headers if proxy and scheme == "http" else []
        return conn

    # -- one exchange -------------------------------------------------------------------
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
        jar_cookie = None
        if len(self.cookies):
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

    def _exchange(self, job: _Job):
        """Send the job's request (to ``job.url``) and read the response head; returns
        (conn, response head, pool key)."""
        job.token.check()
        job.seen.add((job.method, job.url))
        url, request, token, log, status = job.url, job.request, job.token, job.log, job.status
        scheme, host, port = host_port(url)
        headers = self._headers(job.method, url, request, job.body, host_port(url)[:2] == job.origin)
        for attempt in (1, 2, 3):
            phase = "connect"
            conn = None
            try:
                if attempt == 1:
                    status(f"Connecting to {host}:{port}")
                conn, key, proxy, reused = self._connection(url, request, token, log)
                timing = Timing(reused=True) if reused else conn.timing
                if reused:
                    log("*", f"Reusing the connection to {conn.remote}"
                             + (" (HTTP/2)" if conn.multiplexed else ""))
                phase = "send"
                if conn.multiplexed:
                    resp = self._send_h2(conn, job, headers)
                    timing.first_byte = resp.first_byte
                else:
                    conn.settimeout(request.timeout)
                    with token.watch(conn.sock):
                        self._send_h1(conn, job, proxy, scheme, headers)
                        sent = time.monotonic()
                        phase = "wait"
                        status("Waiting for the response")
                        resp = conn.read_head(job.method)
                    timing.first_byte = time.monotonic() - sent
            except BaseException as exc:
                if conn is not None and not conn.multiplexed:
                    conn.close()
                if token.cancelled:
                    raise Cancelled() from exc
                if isinstance(exc, Unprocessed) and attempt < 3:
                    if conn is not None:
                        self._forget(key, conn)
                    log("*", f"The server did not process the request ({exc}); sending it "
                             "again on a new connection")
                    continue
                retry = (conn is not None and reused and attempt == 1 and phase in ("send", "wait")
                         and isinstance(exc, (NoAnswer, BrokenPipeError, ConnectionResetError,
                                              ConnectionAbortedError)))
                if retry:
                    log("*", "The idle connection was closed by the server; opening a new one")
                    continue
                if conn is not None and conn.multiplexed and conn.dead is not None:
                    self._forget(key, conn)
                err = self._error(exc, phase, host, port, request.timeout, log)
                if err is exc:  # already a NetError: keep its own cause
                    raise
                raise err from exc
            self._head_received(job, resp, proxy, timing)
            return conn, resp, key
        raise AssertionError("unreachable")

    def _head_received(self, job: _Job, resp, proxy, timing) -> None:
        """Log the response head and take its cookies."""
        log = job.log
        if log is not no_log:
            if resp.version == "HTTP/2":
                for name, value in resp.pseudo:
                    log("<", f"{name}: {value}")
            else:
                log("<", f"{resp.version} {resp.status} {resp.reason}")
            for name, value in resp.headers:
                log("<", f"{name}: {value}")
        if "set-cookie" in resp.fields or "set-cookie2" in resp.fields:
            self.cookies.extract_cookies(_Headers(resp.headers),
                                         urllib.request.Request(job.url, method=job.method))
        resp.proxy = proxy
        resp.timing = timing

    def _send_h1(self, conn, job: _Job, proxy, scheme, headers) -> None:
        url, body, log = job.url, job.body, job.log
        target = url if proxy and scheme == "http" else request_target(url)
        lines = [f"{job.method} {target} HTTP/1.1", f"Host: {_host_header(url)}"]
        lines += [f"{name}: {value}" for name, value in headers + conn.proxy_headers]
        if log is not no_log:
            for line in lines:
                log(">", line)
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")
        if body is None:
            conn.send_head(head)
            return
        job.status("Sending the request body")
        done, last, first = 0, 0.0, True
        for chunk in body:
            job.token.check()
            if first and len(chunk) < 65536:
                conn.send(head + chunk)  # one packet for a small body
            else:
                if first:
                    conn.send(head)
                conn.send(chunk)
            first = False
            done += len(chunk)
            now = time.monotonic()
            if job.progress and now - last >= PROGRESS_INTERVAL:
                last = now
                job.progress(done, body.length)
        if first:
            conn.send(head)
        log("*", f"Sent a body of {body.length} bytes")

    def _h2_headers(self, job: _Job, headers) -> list[tuple[str, str]]:
        """The pseudo-headers and headers of an HTTP/2 request (logged)."""
        url = job.url
        pseudo = [(":method", job.method), (":scheme", host_port(url)[0]),
                  (":authority", _host_header(url)), (":path", request_target(url))]
        if job.log is not no_log:
            for name, value in pseudo + [(n.lower(), v) for n, v in headers]:
                job.log(">", f"{name}: {value}")
        return pseudo + headers

    def _send_h2(self, conn, job: _Job, headers):
        job.status("Sending the request" if job.body is None else "Sending the request body")
        resp = conn.open_stream(self._h2_headers(job, headers), job.body, token=job.token,
                                log=job.log, timeout=job.request.timeout, progress=job.progress)
        resp.token, resp.timeout = job.token, job.request.timeout
        return resp

    def _error(self, exc, phase, host, port, timeout, log) -> NetError:
        """The NetError for ``exc`` raised while connecting, sending or waiting for the head."""
        if isinstance(exc, NetError):
            err = exc
        elif isinstance(exc, NoAnswer):
            err = ConnectionLost(str(exc))
        elif isinstance(exc, Unprocessed):
            err = ConnectionLost(f"{host}:{port} refused the request three times ({exc})")
        elif isinstance(exc, (socket.timeout, TimeoutError)) and phase in ("wait", "send"):
            err = NetTimeout(f"{host}:{port} sent no response within {timeout:g} s")
        elif isinstance(exc, ssl.SSLError) and "NO APPLICATION PROTOCOL" in \
                str(exc).upper().replace("_", " "):
            err = TLSError(f"{host}:{port} speaks none of the offered protocols (ALPN); "
                           "choose another HTTP version")
        elif isinstance(exc, (ssl.SSLError, ssl.CertificateError)):
            err = translate(exc, host, port)
        else:
            err = translate(exc, host, port)
        detail = err.detail or f"{type(exc).__name__}: {exc}"
        err.detail = detail
        log("!", detail)
        return err

    # -- the body -----------------------------------------------------------------------
    def _discard(self, conn, resp, key, token) -> None:
        """Throw away a redirect's body; keep the connection only if that was cheap."""
        try:
            if conn.multiplexed:
                if resp.complete or (resp.length is not None and resp.length <= 65536):
                    while resp.read():
                        pass
                    resp.done()
                else:
                    resp.abort()
                return
            if resp.mode in ("none", "length") and (resp.length or 0) <= 65536:
                with token.watch(conn.sock):
                    while resp.read():
                        pass
                self._release(conn, resp, key)
                return
        except (OSError, IncompleteBody, NetError):
            if conn.multiplexed:
                resp.abort()
                return
        conn.close()

    def _release(self, conn, resp, key) -> None:
        if conn.multiplexed:
            resp.done()
        elif resp.reusable:
            self._release_idle(conn, key)
        else:
            conn.close()

    def _release_idle(self, conn, key) -> None:
        with self._lock:
            self._pool.setdefault(key, []).append(conn)

    def _finish(self, job: _Job, conn, resp, key) -> Response:
        method, url, token, log, status = job.method, job.url, job.token, job.log, job.status
        progress, save_to, started, timeout = job.progress, job.save_to, job.started, \
            job.request.timeout
        declared = resp.fields.get("content-length")
        try:
            declared_length = int(declared) if declared is not None else None
        except ValueError:
            declared_length = None
        response = Response(
            method=method, url=url, status=resp.status, reason=resp.reason,
            http_version=resp.version, headers=resp.headers, timing=resp.timing,
            redirects=job.redirects, remote_address=conn.remote, via_proxy=resp.proxy,
            tls=conn.tls_info, content_length=declared_length)
        has_body = method != "HEAD" and resp.status not in (204, 304) and resp.status >= 200
        try:
            decoder = Decoder(resp.fields.get("content-encoding") if has_body else None)
        except ProtocolError:
            decoder = Decoder(None)
            log("*", "Unknown Content-Encoding: the body is shown as received")
        try:
            sink = BodySink(save_to, head_limit=self.head_limit)
        except NetError:
            self._drop(conn, resp)
            raise
        raw = 0
        host = host_port(url)[1]
        try:
            with _watch(conn, token):
                if has_body:
                    status("Receiving the body")
                    raw = self._pump(resp, decoder, sink, token, progress, save_to is not None,
                                     declared_length, response)
                    for piece in decoder.finish_pieces():
                        sink.write(piece)
                else:
                    while resp.read():  # HEAD, 204, 304: nothing should come
                        pass
        except BaseException as exc:
            self._drop(conn, resp)
            part = sink.abandon()
            response.body, response.body_size, response.part_path = sink.head, sink.size, part
            response.body_complete = False
            response.timing.total = time.monotonic() - started
            response.frames = resp.frames
            if resp.frames:
                log("*", resp.frames)
            if token.cancelled:
                raise Cancelled() from exc
            raw = response.received
            got = f"after {raw} of {declared_length} bytes" if declared_length is not None \
                else f"after {raw} bytes"
            if isinstance(exc, IncompleteBody):
                err = TruncatedBody(f"The body is truncated: the connection ended {got}")
                response.truncated = True
            elif isinstance(exc, StreamReset):
                err = TruncatedBody(f"The body is truncated: the server reset the stream "
                                    f"({error_name(resp.stream.reset)}) {got}")
                response.truncated = True
            elif isinstance(exc, NetError) and conn.multiplexed and conn.goaway is not None:
                err = TruncatedBody(f"The body is truncated: the server ended the HTTP/2 "
                                    f"connection (GOAWAY {error_name(conn.goaway[1])}) {got}",
                                    detail=str(exc))
                response.truncated = True
            elif isinstance(exc, ConnectionLost) and conn.multiplexed:
                err = TruncatedBody(f"The body is truncated: {exc} {got}")
                response.truncated = True
            elif isinstance(exc, (socket.timeout, TimeoutError)):
                err = NetTimeout(f"{host} stopped sending: nothing for {timeout:g} s {got}")
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
        response.frames = resp.frames
        if not decoder.complete and not response.stopped_early:
            self._drop(conn, resp)
            response.truncated = True
            response.body_complete = False
            response.part_path = sink.abandon()
            got = (f"{raw} of {declared_length} bytes" if declared_length is not None
                   else f"{raw} bytes")
            err = TruncatedBody(f"The body is truncated: the connection ended after {got}",
                                detail=f"the {decoder.encoding} stream has no end")
            log("!", err.detail)
            if response.part_path:
                log("!", f"Kept the incomplete body as {response.part_path}")
            err.response = response
            raise err
        if resp.frames:
            log("*", resp.frames)
            for name, value in resp.trailers:
                log("<", f"{name}: {value} (trailer)")
        if response.stopped_early:
            self._drop(conn, resp)
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

    @staticmethod
    def _drop(conn, resp) -> None:
        """Give up on a response: HTTP/1 closes the connection, HTTP/2 resets the stream."""
        if conn.multiplexed:
            resp.abort()
        else:
            conn.close()

    def _pump(self, resp, decoder, sink, token, progress, saving, declared, response) -> int:
        """Read the body into ``sink``; returns the number of raw (encoded) bytes read."""
        raw, last = 0, 0.0
        limit = self.head_limit
        read = resp.read
        decoding = decoder.active
        write = sink.write
        check = token.check
        monotonic = time.monotonic
        try:
            while True:
                check()
                data = read()
                n = len(data)
                if not n:
                    break
                raw += n
                if decoding:
                    for piece in decoder.feed_pieces(data):
                        write(piece)
                else:
                    write(data)
                if progress is not None:
                    now = monotonic()
                    if now - last >= PROGRESS_INTERVAL:
                        last = now
                        response.received = raw
                        progress(raw, declared)
                if not saving and sink.size > limit:
                    response.stopped_early = True
                    break
        finally:
            response.received = raw
        token.check()  # a cancel shuts the socket down, which looks like the end of the body
        if progress is not None:
            progress(raw, declared)
        return raw


@functools.lru_cache(maxsize=512)
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
