"""DNS over HTTPS (RFC 8484): ``https://host[:port]/dns-query`` as a server.

dnspython's ``dns.query.https`` builds the request (POST with ``application/dns-message``,
or GET with the base64url ``dns=`` parameter), checks the status and parses the reply; it
runs on an httpx2 client (dnspython >= 2.9 uses httpx2, the maintained httpx fork; ``h2``
adds HTTP/2). This module gives that client netgui's TLS context (verified, custom CA),
a connection step that honours a CancelToken (the socket is shut down on cancel) and an
optional fixed address (connect to 127.0.0.1 while verifying ``doh.test``), records
which HTTP version answered, and turns every failure into one NetError line.

One ``DohClient`` keeps its connection for the queries made with it, from one thread at a
time: httpx2's HTTP/2 connection is not thread-safe (pydantic/httpx2#908), so bulk lookups
give each worker thread a client of its own.
"""

from __future__ import annotations

import ssl
import threading
import time
import urllib.parse

import dns.exception
import dns.message
import dns.query

from netgui.net.cancel import CancelToken, shutdown_quietly
from netgui.net.connection import Log, no_log, tls_context
from netgui.net.errors import Cancelled, ConnectError, NetError, NetTimeout, ProtocolError, translate

HTTP_VERSIONS = ("auto", "1.1", "2")
METHODS = ("POST", "GET")


class DohUnavailable(NetError):
    """dnspython's DoH extra (httpx2, h2) is not installed."""


def parse_url(text: str) -> tuple[str, str, int, str]:
    """(url, host, port, path) for ``https://host[:port][/path]``; the path defaults to
    /dns-query (RFC 8484's example, what most servers use)."""
    from .lookup import DnsInputError
    value = (text or "").strip()
    parts = urllib.parse.urlsplit(value)
    if parts.scheme.lower() != "https" or not parts.hostname:
        raise DnsInputError(f"{text!r} is not a DNS over HTTPS URL like "
                            "https://dns.example/dns-query")
    try:
        port = parts.port or 443
    except ValueError:
        raise DnsInputError(f"{text!r}: the port must be a number from 1 to 65535") from None
    path = parts.path or "/dns-query"
    if parts.query:
        raise DnsInputError("A DoH URL has no query string: netgui adds ?dns= itself for GET")
    host = parts.hostname
    shown_host = f"[{host}]" if ":" in host else host
    url = f"https://{shown_host}{'' if port == 443 else f':{port}'}{path}"
    return url, host, port, path


def _modules():
    try:
        import httpcore2
        import httpx2
    except ImportError as exc:  # pragma: no cover - a packaging error
        raise DohUnavailable("DNS over HTTPS needs dnspython's DoH support (pip install "
                             "'dnspython[doh]')", detail=str(exc)) from None
    if not dns.query.have_doh:  # pragma: no cover
        raise DohUnavailable("dnspython cannot use httpx2 here: DNS over HTTPS is unavailable")
    return httpx2, httpcore2


class DohClient:
    """An HTTP client for DoH queries to one URL, used by one thread at a time; close() when
    done."""

    def __init__(self, url: str, *, verify: bool = True, cafile: str | None = None,
                 http_version: str = "auto", address: str | None = None,
                 token: CancelToken | None = None, log: Log = no_log, timeout: float = 5.0,
                 max_connections: int = 4):
        httpx2, httpcore2 = _modules()
        self.url, self.host, self.port, self.path = parse_url(url)
        if http_version not in HTTP_VERSIONS:
            from .lookup import DnsInputError
            raise DnsInputError(f"HTTP version {http_version!r}: use auto, 1.1 or 2")
        self.http_version = http_version
        self.token = token or CancelToken()
        self.log = log
        self.address = address
        self.versions: dict[int, str] = {}      # id(response) -> "HTTP/2"
        self._last = threading.local()
        ctx = tls_context(verify=verify, cafile=cafile)
        h1, h2 = http_version in ("auto", "1.1"), http_version in ("auto", "2")
        if h2:
            ctx.set_alpn_protocols(["h2", "http/1.1"] if h1 else ["h2"])
        transport = httpx2.HTTPTransport(verify=ctx, http1=h1, http2=h2, trust_env=False,
                                         limits=httpx2.Limits(max_connections=max_connections))
        # httpx2 has no public hook for the connect step; dnspython sets the same attribute.
        transport._pool._network_backend = _Backend(httpcore2, self)
        self.client = httpx2.Client(transport=transport, http1=h1, http2=h2, verify=ctx,
                                    trust_env=False, timeout=timeout,
                                    event_hooks={"response": [self._on_response]})

    def _on_response(self, response) -> None:
        self._last.version = response.http_version
        self._last.status = response.status_code
        self._last.size = response.headers.get("content-length")

    def exchange(self, request: dns.message.Message, *, method: str = "POST",
                 timeout: float = 5.0) -> tuple[dns.message.Message, int, float, str]:
        """(reply, size in bytes, seconds, "HTTP/2") for one query; NetError on failure."""
        httpx2, httpcore2 = _modules()
        self.token.check()
        method = method.upper()
        if method not in METHODS:
            from .lookup import DnsInputError
            raise DnsInputError(f"DoH method {method!r}: use POST or GET")
        self._last.version = None
        start = time.perf_counter()
        try:
            reply = dns.query.https(request, self.url, timeout=timeout, session=self.client,
                                    post=method == "POST", ignore_trailing=True)
        except Exception as exc:  # noqa: BLE001 - every failure becomes one line
            if self.token.cancelled:
                raise Cancelled() from None
            raise self._error(exc, timeout, httpx2) from None
        elapsed = time.perf_counter() - start
        version = getattr(self._last, "version", None) or "HTTP"
        declared = getattr(self._last, "size", None)
        size = int(declared) if declared and declared.isdigit() else len(reply.to_wire())
        return reply, size, elapsed, version

    def _error(self, exc: BaseException, timeout: float, httpx2) -> NetError:
        where = self.url
        cause = exc.__cause__ or exc.__context__
        chain = [exc]
        while cause is not None and len(chain) < 6:
            chain.append(cause)
            cause = cause.__cause__ or cause.__context__
        for item in chain:
            if isinstance(item, NetError):
                return item
            if isinstance(item, (ssl.SSLCertVerificationError, ssl.CertificateError)):
                return translate(item, self.host, self.port)
        for item in chain:
            if isinstance(item, ssl.SSLError):
                return translate(item, self.host, self.port)
        detail = f"{type(exc).__name__}: {exc}"
        if isinstance(exc, httpx2.TimeoutException):
            return NetTimeout(f"{where} did not answer within {timeout:g} s", detail=detail)
        if isinstance(exc, httpx2.ConnectError):
            for item in chain:
                if isinstance(item, OSError):
                    return translate(item, self.host, self.port)
            return ConnectError(f"Cannot connect to {where}", detail=detail)
        if isinstance(exc, (httpx2.RemoteProtocolError, httpx2.ReadError, httpx2.WriteError)):
            return ProtocolError(f"{where} broke the HTTP exchange: {exc}", detail=detail)
        if isinstance(exc, ValueError) and "status code" in str(exc):
            status = getattr(self._last, "status", None)
            first = str(exc).splitlines()[0]
            return ProtocolError(f"{where} answered HTTP {status or '?'} instead of a DNS reply",
                                 detail=str(exc)[:500] or first)
        if isinstance(exc, dns.query.BadResponse):
            return ProtocolError(f"{where} sent a DNS reply that does not match the query",
                                 detail=detail)
        if isinstance(exc, dns.exception.DNSException):
            return ProtocolError(f"{where} sent a body that is not a valid DNS message",
                                 detail=detail)
        return translate(exc, self.host, self.port)

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> "DohClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _Backend(httpcore2, owner: DohClient):
    """httpcore2's socket backend, with the connection logged, a fixed address honoured and
    the socket registered with the owner's CancelToken."""

    class Backend(httpcore2.SyncBackend):
        def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
            owner.token.check()
            target = owner.address or host
            owner.log("*", f"Connecting to {target}:{port} for {owner.url}")
            try:
                stream = super().connect_tcp(target, port, timeout, local_address, socket_options)
            except Exception:
                if owner.token.cancelled:
                    raise Cancelled() from None
                raise
            sock = stream.get_extra_info("socket")
            if sock is not None:
                owner.token.add_hook(lambda: shutdown_quietly(sock))
            return stream

    return Backend()


def doh_query(request: dns.message.Message, url: str, *, method: str = "POST",
              http_version: str = "auto", timeout: float = 5.0, verify: bool = True,
              cafile: str | None = None, address: str | None = None,
              token: CancelToken | None = None, log: Log = no_log):
    """One DoH exchange with a client of its own: (reply, size, seconds, http version)."""
    with DohClient(url, verify=verify, cafile=cafile, http_version=http_version,
                   address=address, token=token, log=log, timeout=timeout) as client:
        return client.exchange(request, method=method, timeout=timeout)


__all__ = ["DohClient", "doh_query", "parse_url", "DohUnavailable", "HTTP_VERSIONS", "METHODS"]
