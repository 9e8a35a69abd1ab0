"""What an HTTP request is made of: URL checks, query parameters, bodies, and "copy as curl".

Nothing here touches the network; ``netgui.net.http.session`` sends what these build.
"""

from __future__ import annotations

import base64
import functools
import mimetypes
import os
import re
import shlex
import uuid
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator
from urllib.parse import parse_qsl, quote, quote_plus, unquote, urlencode, urlsplit, urlunsplit

from netgui.net.errors import ProtocolError

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
BODY_KINDS = ("none", "form", "multipart", "raw")
SCHEMES = ("http", "https")
DEFAULT_PORTS = {"http": 80, "https": 443}
MAX_REDIRECTS = 20
HTTP_VERSIONS = ("auto", "1.1", "2")


class BadRequest(ProtocolError):
    """The request cannot be sent as entered (malformed URL, unsupported scheme, bad header)."""


@dataclass
class Request:
    """One HTTP request as the user entered it.

    ``body_kind`` picks the body: ``"form"`` urlencodes ``form``, ``"multipart"`` sends
    ``form`` plus ``files`` (field name, local path) as multipart/form-data, ``"raw"``
    sends ``raw`` as UTF-8 with ``content_type``.
    """

    url: str
    method: str = "GET"
    headers: list[tuple[str, str]] = field(default_factory=list)
    params: list[tuple[str, str]] = field(default_factory=list)
    body_kind: str = "none"
    form: list[tuple[str, str]] = field(default_factory=list)
    files: list[tuple[str, str]] = field(default_factory=list)
    raw: str = ""
    content_type: str = "application/json"
    username: str = ""
    password: str = ""
    follow_redirects: bool = True
    max_redirects: int = MAX_REDIRECTS
    verify: bool = True
    timeout: float = 30.0
    proxy: str | None = None
    """None: from the environment; "": no proxy; else ``http://host:port``."""
    http_version: str = "auto"
    """"auto": HTTP/2 when TLS ALPN offers it, else HTTP/1.1; "1.1": HTTP/1.1 only;
    "2": HTTP/2 only (over TLS by ALPN, over http:// with prior knowledge, h2c)."""

    def full_url(self) -> str:
        """The URL with ``params`` appended to its query (checked and normalised)."""
        return join_query(check_url(self.url), self.params) if self.params else check_url(self.url)


# -- URLs ---------------------------------------------------------------------------------

@functools.lru_cache(maxsize=512)  # pure, and called several times per request
def check_url(url: str) -> str:
    """Return ``url`` normalised (scheme added, path quoted) or raise BadRequest."""
    url = (url or "").strip()
    if not url:
        raise BadRequest("Enter a URL, such as https://example.com/")
    if any(c in url for c in " \t\r\n\x00"):
        raise BadRequest("The URL contains spaces or control characters")
    if "://" not in url:
        if ":" in url.split("/", 1)[0] and not url.split("/", 1)[0].split(":", 1)[1].isdigit():
            scheme = url.split(":", 1)[0]
            raise BadRequest(f"Unsupported scheme {scheme!r}: use http:// or https://")
        url = "http://" + url
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise BadRequest(f"Malformed URL: {exc}") from exc
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise BadRequest(f"Unsupported scheme {parts.scheme!r}: use http:// or https://")
    if not parts.hostname:
        raise BadRequest("Malformed URL: no host name")
    if port == 0:
        raise BadRequest("Malformed URL: port 0")
    netloc = parts.netloc
    if not parts.hostname.isascii():  # bücher.example -> xn--bcher-kva.example
        try:
            ascii_host = parts.hostname.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise BadRequest(f"Malformed URL: the host name {parts.hostname!r} is not valid") from exc
        userinfo = netloc.rsplit("@", 1)[0] + "@" if "@" in netloc else ""
        netloc = userinfo + ascii_host + (f":{port}" if port else "")
    path = quote(parts.path, safe="/%:@!$&'()*+,;=-._~") or "/"
    query = quote(parts.query, safe="/%:@!$&'()*+,;=-._~?")
    return urlunsplit((scheme, netloc, path, query, ""))


def split_query(url: str) -> tuple[str, list[tuple[str, str]]]:
    """Split a URL into the part before ``?`` and its query pairs (for the params table)."""
    base, _, rest = url.partition("?")
    query = rest.split("#", 1)[0]
    return base, parse_qsl(query, keep_blank_values=True)


def join_query(url: str, pairs: list[tuple[str, str]]) -> str:
    """``url`` with ``pairs`` appended to its query string."""
    extra = urlencode([(k, v) for k, v in pairs if k])
    if not extra:
        return url
    return url + ("&" if "?" in url else "?") + extra


def with_query(base: str, pairs: list[tuple[str, str]]) -> str:
    """``base`` (no query) with exactly ``pairs`` as its query string (``{{variables}}`` kept)."""
    base = base.split("?", 1)[0]
    query = encode_pairs(pairs)
    return base + "?" + query if query else base


def encode_pairs(pairs: list[tuple[str, str]]) -> str:
    """``a=1&b=x+y`` as urlencode writes it, leaving ``{{variables}}`` as they are."""
    def part(text: str) -> str:
        pieces = re.split(r"(\{\{.*?\}\})", text)
        return "".join(p if p.startswith("{{") and p.endswith("}}") else quote_plus(p) for p in pieces)
    return "&".join(f"{part(name)}={part(value)}" for name, value in pairs if name)


def split_userinfo(url: str) -> tuple[str, tuple[str, str] | None]:
    """``url`` without ``user:password@``, and that (user, password) if it was there."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url, None
    info, host = parts.netloc.rsplit("@", 1)
    user, _, password = info.partition(":")
    return urlunsplit(parts._replace(netloc=host)), (unquote(user), unquote(password))


@functools.lru_cache(maxsize=512)  # pure, and called several times per request
def host_port(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of a checked URL."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, parts.hostname or "", parts.port or DEFAULT_PORTS[scheme]


@functools.lru_cache(maxsize=512)  # pure, and called several times per request
def request_target(url: str) -> str:
    """The path and query of ``url`` as sent on the request line."""
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def check_header(name: str, value: str) -> None:
    """Raise BadRequest for a header that would break the request."""
    if not name or any(c in name for c in " \t\r\n:\x00"):
        raise BadRequest(f"Invalid header name {name!r}")
    if any(c in value for c in "\r\n\x00"):
        raise BadRequest(f"Header {name} has a line break in its value")


def basic_auth(username: str, password: str) -> str:
    token = base64.b64encode(f"{username}:{password}".encode("utf-8")).decode("ascii")
    return f"Basic {token}"


# -- bodies -------------------------------------------------------------------------------

@dataclass
class Body:
    """A request body: its content type, exact length and an iterator of byte chunks."""

    content_type: str | None
    length: int
    chunks: Callable[[], Iterable[bytes]]

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.chunks())


def build_body(request: Request) -> Body | None:
    """The body ``request`` describes, or None. Files are streamed, never read whole."""
    kind = request.body_kind
    if kind == "none" or (kind == "form" and not request.form):
        return None
    if kind == "form":
        data = urlencode(request.form).encode("utf-8")
        return Body("application/x-www-form-urlencoded", len(data), lambda: [data])
    if kind == "raw":
        data = request.raw.encode("utf-8")
        return Body(request.content_type or "text/plain; charset=utf-8", len(data), lambda: [data])
    if kind == "multipart":
        return multipart_body(request.form, request.files)
    raise BadRequest(f"Unknown body kind {kind!r}")


def _quote_name(value: str) -> str:
    # RFC 7578: names and filenames are quoted strings; escape quotes and line breaks.
    return value.replace("\\", "\\\\").replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


def multipart_body(fields: list[tuple[str, str]], files: list[tuple[str, str]],
                   boundary: str | None = None, chunk_size: int = 256 * 1024) -> Body:
    """multipart/form-data with ``fields`` and ``files`` ((field, path)), streamed from disk."""
    boundary = boundary or f"netgui-{uuid.uuid4().hex}"
    parts: list[tuple[bytes, str | None, int]] = []   # (head, path or None, data length)
    for name, value in fields:
        data = value.encode("utf-8")
        head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{_quote_name(name)}\""
                f"\r\n\r\n").encode("utf-8") + data + b"\r\n"
        parts.append((head, None, 0))
    for name, path in files:
        try:
            size = os.path.getsize(path)
        except OSError as exc:
            raise BadRequest(f"Cannot read the file to upload: {path} ({exc.strerror or exc})") from exc
        filename = os.path.basename(path)
        ctype = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{_quote_name(name)}\"; "
                f"filename=\"{_quote_name(filename)}\"\r\nContent-Type: {ctype}\r\n\r\n").encode("utf-8")
        parts.append((head, path, size))
    tail = f"--{boundary}--\r\n".encode("ascii")
    length = sum(len(h) + (size + 2 if path else 0) for h, path, size in parts) + len(tail)

    def chunks() -> Iterator[bytes]:
        for head, path, _ in parts:
            yield head
            if path:
                with open(path, "rb") as f:
                    while True:
                        block = f.read(chunk_size)
                        if not block:
                            break
                        yield block
                yield b"\r\n"
        yield tail

    return Body(f"multipart/form-data; boundary={boundary}", length, chunks)


# -- copy as curl -------------------------------------------------------------------------

def to_curl(request: Request) -> str:
    """A curl command line that sends the same request.

    The password is left out on purpose (curl asks for it): the command goes to the
    clipboard, and a clipboard is no place for a password.
    """
    args = ["curl"]
    if request.method == "HEAD":
        args.append("--head")
    elif request.method != "GET" or request.body_kind != "none":
        args += ["-X", request.method]
    if request.follow_redirects:
        args += ["-L", "--max-redirs", str(request.max_redirects)]
    if not request.verify:
        args.append("-k")
    if request.proxy is not None:
        args += ["--proxy", request.proxy] if request.proxy else ["--noproxy", "*"]
    args += ["--max-time", f"{request.timeout:g}"]
    if request.http_version == "1.1":
        args.append("--http1.1")
    elif request.http_version == "2":
        args.append("--http2-prior-knowledge" if request.url.lower().startswith("http://")
                    else "--http2")
    args.append("--compressed")
    if request.username:
        args += ["-u", request.username]
    for name, value in request.headers:
        if name:  # curl drops "Name:" (no value); "Name;" sends it empty
            args += ["-H", f"{name}: {value}" if value.strip() else f"{name};"]
    if request.body_kind == "form":
        for name, value in request.form:
            args += ["--data-urlencode", f"{name}={value}"]
    elif request.body_kind == "multipart":
        for name, value in request.form:
            args += ["--form-string", f"{name}={value}"]
        for name, path in request.files:
            args += ["-F", f"{name}=@{path}"]
    elif request.body_kind == "raw":
        if not any(n.lower() == "content-type" for n, _ in request.headers):
            args += ["-H", f"Content-Type: {request.content_type}"]
        # --data-binary reads a file when the data starts with "@"; --data-raw never does
        args += ["--data-raw" if request.raw.startswith("@") else "--data-binary", request.raw]
    try:
        url = request.full_url()
    except BadRequest:
        url = request.url
    args.append(url)
    return " ".join(shlex.quote(a) for a in args)


# -- saving and reopening -----------------------------------------------------------------

_STORED = ("url", "method", "headers", "params", "body_kind", "form", "files", "raw", "content_type",
           "username", "follow_redirects", "max_redirects", "verify", "timeout", "proxy",
           "http_version")


SENSITIVE_HEADERS = ("authorization", "proxy-authorization", "cookie")
MASK = "****"


def sensitive_headers(request: Request) -> dict[int, str]:
    """Values of headers that carry credentials, by row index (they belong in the keyring)."""
    return {i: v for i, (n, v) in enumerate(request.headers) if n.lower() in SENSITIVE_HEADERS and v}


def request_to_dict(request: Request) -> dict:
    """A JSON-able form of ``request`` for history and saved requests, without secrets:
    never the password, and credential headers and URL passwords masked as ``****``."""
    data = {}
    for name in _STORED:
        value = getattr(request, name)
        data[name] = [list(p) for p in value] if isinstance(value, list) else value
    for index in sensitive_headers(request):
        data["headers"][index][1] = MASK
    url, userinfo = split_userinfo(request.url)
    if userinfo and userinfo[1]:
        parts = urlsplit(url)
        data["url"] = urlunsplit(parts._replace(
            netloc=f"{quote(userinfo[0], safe='')}:{MASK}@{parts.netloc}"))
    return data


def request_from_dict(data: dict) -> Request:
    """The inverse of ``request_to_dict`` (unknown keys are ignored, missing ones default)."""
    kwargs = {}
    for name in _STORED:
        if name in data:
            value = data[name]
            if isinstance(value, list):
                value = [tuple(p) for p in value if isinstance(p, (list, tuple)) and len(p) == 2]
            kwargs[name] = value
    return Request(**kwargs)
