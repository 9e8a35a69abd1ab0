"""Importing requests: a pasted curl command, a HAR file, a Postman v2.1 collection.

Each importer returns requests, never touches the network and never reads the files a
command refers to (``-d @file`` is reported, not read). Credentials found on the way
(passwords, ``Authorization``, cookies, API keys) are taken out by ``extract_secrets`` so
that what is written to a collection holds ``{{variables}}`` and the values go to the
keyring.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from netgui.config import atomic_write_text

from .collection import HttpEntry, file_stem, format_http, HttpFile, request_to_entry, unique_path
from .request import BadRequest, Request
from .variables import SHARED, declare_variables, load_environments


class ImportProblem(BadRequest):
    """What was pasted or opened cannot be imported (one line saying why)."""


@dataclass
class Imported:
    """Requests to add to a collection: (folder, file stem, entry), plus collection variables."""

    entries: list[tuple[str, str, HttpEntry]] = field(default_factory=list)
    variables: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    name: str = ""


# -- curl ----------------------------------------------------------------------------------

_ANSI = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "f": "\f", "v": "\v", "e": "\x1b",
         "E": "\x1b", "\\": "\\", "'": "'", '"': '"', "?": "?"}


def _ansi_c(text: str, pos: int) -> tuple[str, int]:
    """Decode a bash ``$'…'`` string starting after its ``$'``; returns (value, end)."""
    out = []
    while pos < len(text):
        c = text[pos]
        if c == "'":
            return "".join(out), pos + 1
        if c != "\\" or pos + 1 >= len(text):
            out.append(c)
            pos += 1
            continue
        n = text[pos + 1]
        if n in _ANSI:
            out.append(_ANSI[n])
            pos += 2
        elif n in "xuU":
            digits = {"x": 2, "u": 4, "U": 8}[n]
            match = re.match(r"[0-9a-fA-F]{1,%d}" % digits, text[pos + 2:])
            if match:
                out.append(chr(int(match.group(0), 16)))
                pos += 2 + len(match.group(0))
            else:
                out.append("\\" + n)
                pos += 2
        elif n in "01234567":
            match = re.match(r"[0-7]{1,3}", text[pos + 1:])
            out.append(chr(int(match.group(0), 8)))
            pos += 1 + len(match.group(0))
        else:
            out.append("\\" + n)
            pos += 2
    raise ImportProblem("The command has an unclosed $'…' quote")


def shell_words(command: str) -> list[str]:
    """Split a command line as a POSIX shell would (quotes, escapes, ``\\`` line
    continuations, bash's ``$'…'`` strings as browsers' "Copy as cURL" writes them)."""
    out, pos, state = [], 0, ""
    while pos < len(command):  # rewrite $'…' as ordinary quoting, leave the rest to shlex
        c = command[pos]
        if c == "\\" and state != "'":
            continuation = re.match(r"\\\r?\n", command[pos:pos + 3])
            if continuation:  # a line continuation: gone, outside quotes and inside "…"
                pos += len(continuation.group(0))
                continue
            out.append(command[pos:pos + 2])
            pos += 2
            continue
        if state == "'":
            state = "" if c == "'" else state
        elif state == '"':
            state = "" if c == '"' else state
        elif c == "$" and command[pos + 1:pos + 2] == "'":
            value, pos = _ansi_c(command, pos + 2)
            out.append(shlex.quote(value))
            continue
        elif c in "'\"":
            state = c
        out.append(c)
        pos += 1
    try:
        return shlex.split("".join(out))
    except ValueError as exc:
        raise ImportProblem(f"The command cannot be read as a shell would: {exc}") from None


_SHORT_FLAGS = set("sSvifLkIGgN#qOJnZ46")
_SHORT_WITH_ARG = set("XHdFubeAowmxUrTDcKECyYztPQ")
_LONG_FLAGS = {
    "--silent", "--show-error", "--verbose", "--include", "--fail", "--fail-with-body",
    "--progress-bar", "--no-buffer", "--http1.0", "--http1.1", "--http2", "--http2-prior-knowledge",
    "--http3", "--globoff", "--ipv4", "--ipv6", "--tr-encoding", "--no-keepalive", "--path-as-is",
    "--ssl-no-revoke", "--remote-name", "--remote-header-name", "--netrc", "--disable", "--parallel",
    "--compressed", "--insecure", "--location", "--location-trusted", "--head", "--get",
    "--no-progress-meter", "--raw", "--no-alpn", "--no-npn", "--tcp-nodelay", "--digest", "--basic",
    "--anyauth", "--ntlm", "--negotiate", "--proxy-insecure", "--styled-output", "--no-styled-output",
    "--remote-name-all", "--create-dirs", "--junk-session-cookies", "--post301", "--post302",
    "--post303", "--ssl", "--ssl-reqd", "--tlsv1.2", "--tlsv1.3", "--ignore-content-length",
}
_LONG_WITH_ARG = {
    "--request", "--header", "--data", "--data-ascii", "--data-binary", "--data-raw",
    "--data-urlencode", "--json", "--form", "--form-string", "--user", "--cookie", "--url",
    "--user-agent", "--referer", "--max-time", "--max-redirs", "--proxy", "--noproxy",
    "--oauth2-bearer", "--range", "--output", "--write-out", "--connect-timeout", "--cookie-jar",
    "--dump-header", "--retry", "--retry-delay", "--retry-max-time", "--cacert", "--capath",
    "--cert", "--key", "--cert-type", "--key-type", "--upload-file", "--resolve", "--connect-to",
    "--interface", "--limit-rate", "--proxy-user", "--config", "--continue-at", "--speed-limit",
    "--speed-time", "--time-cond", "--trace", "--trace-ascii", "--stderr", "--proto",
    "--proto-redir", "--request-target", "--unix-socket", "--abstract-unix-socket", "--dns-servers",
    "--expect100-timeout", "--happy-eyeballs-timeout-ms", "--keepalive-time", "--local-port",
    "--max-filesize", "--pass", "--pinnedpubkey", "--quote", "--ciphers", "--tls-max", "--aws-sigv4",
}
_SHORT_LONG = {"X": "--request", "H": "--header", "d": "--data", "F": "--form", "u": "--user",
               "b": "--cookie", "e": "--referer", "A": "--user-agent", "m": "--max-time",
               "x": "--proxy", "r": "--range", "k": "--insecure", "L": "--location", "I": "--head",
               "G": "--get", "T": "--upload-file", "o": "--output", "s": "--silent", "S": "--show-error",
               "v": "--verbose", "i": "--include", "f": "--fail", "N": "--no-buffer", "g": "--globoff",
               "#": "--progress-bar", "O": "--remote-name", "J": "--remote-header-name", "4": "--ipv4",
               "6": "--ipv6", "q": "--disable", "Z": "--parallel", "n": "--netrc", "w": "--write-out",
               "D": "--dump-header", "c": "--cookie-jar", "K": "--config", "E": "--cert",
               "C": "--continue-at", "U": "--proxy-user", "Q": "--quote"}
_IGNORED_QUIETLY = {"--silent", "--show-error", "--verbose", "--include", "--fail", "--fail-with-body",
                    "--progress-bar", "--no-buffer", "--globoff", "--compressed", "--output",
                    "--write-out", "--no-progress-meter", "--http1.1", "--location-trusted",
                    "--remote-name", "--remote-header-name", "--dump-header", "--styled-output",
                    "--create-dirs", "--connect-timeout", "--retry", "--tcp-nodelay", "--http2",
                    "--ipv4", "--ipv6", "--tlsv1.2", "--tlsv1.3", "--proto", "--proto-redir"}


def _options(words: list[str]) -> tuple[list[tuple[str, str | None]], list[str], list[str]]:
    """(options as (long name, argument), URLs, warnings) of a curl command's words."""
    options: list[tuple[str, str | None]] = []
    urls: list[str] = []
    warnings: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        i += 1
        if word == "--":
            urls += words[i:]
            break
        if word.startswith("--"):
            if word in _LONG_WITH_ARG:
                if i >= len(words):
                    raise ImportProblem(f"{word} needs a value")
                options.append((word, words[i]))
                i += 1
            elif word in _LONG_FLAGS:
                options.append((word, None))
            else:
                warnings.append(f"Ignored {word}: netgui does not know this curl option")
            continue
        if word.startswith("-") and len(word) > 1:
            letters = word[1:]
            for n, letter in enumerate(letters):
                if letter in _SHORT_WITH_ARG:
                    arg = letters[n + 1:]
                    if not arg:
                        if i >= len(words):
                            raise ImportProblem(f"-{letter} needs a value")
                        arg = words[i]
                        i += 1
                    options.append((_SHORT_LONG.get(letter, f"-{letter}"), arg))
                    break
                if letter in _SHORT_FLAGS:
                    options.append((_SHORT_LONG.get(letter, f"-{letter}"), None))
                else:
                    warnings.append(f"Ignored -{letter}: netgui does not know this curl option")
            continue
        urls.append(word)
    return options, urls, warnings


def parse_curl(command: str) -> tuple[Request, list[str]]:
    """The Request a curl command sends, and warnings about what was left out.

    Understands ``-X -H -d --data-raw --data-binary --data-ascii --data-urlencode --json
    -F --form-string -u -b -A -e -k -L --max-redirs -m -x --noproxy -I -G --url
    --oauth2-bearer --compressed`` and reads what *Copy as curl* writes back as the same
    request. Without ``-L`` redirects are not followed, as in curl.
    """
    words = shell_words(command.strip())
    if not words or PurePosixPath(words[0].replace("\\", "/")).name.lower() not in ("curl", "curl.exe"):
        raise ImportProblem("Paste a command that starts with curl")
    options, urls, warnings = _options(words[1:])
    request = Request(url="", follow_redirects=False)
    data: list[tuple[str, str] | str] = []     # raw text, or a (name, value) to urlencode
    fields: list[tuple[str, str]] = []
    files: list[tuple[str, str]] = []
    method = None
    head = get = json_body = False
    headers: list[tuple[str, str]] = []
    for name, arg in options:
        if name == "--request":
            method = arg.upper()
        elif name == "--header":
            header, sep, value = arg.partition(":")
            if not sep and header.endswith(";"):
                headers.append((header[:-1].strip(), ""))  # "Name;" sends an empty header
            elif sep and value.strip():
                headers.append((header.strip(), value.strip()))
            elif not sep:
                warnings.append(f"Ignored the header {arg!r}: no colon")
        elif name in ("--data", "--data-ascii", "--data-binary", "--data-raw", "--json"):
            if arg.startswith("@") and name != "--data-raw":
                warnings.append(f"Left out {name} {arg}: netgui does not read the body from a file")
                continue
            data.append(arg)
            json_body = json_body or name == "--json"
        elif name == "--data-urlencode":
            key, sep, value = arg.partition("=")
            if not sep:
                if "@" in arg:
                    warnings.append(f"Left out --data-urlencode {arg}: netgui does not read files")
                    continue
                data.append(urlencode([("", arg)])[1:])
            elif not key:
                data.append(urlencode([("", value)])[1:])
            else:
                data.append((key, value))
        elif name in ("--form", "--form-string"):
            key, sep, value = arg.partition("=")
            if not sep:
                warnings.append(f"Ignored {name} {arg!r}: expected name=value")
            elif name == "--form" and value.startswith("@"):
                files.append((key, value[1:].split(";", 1)[0]))
            elif name == "--form" and value.startswith("<"):
                warnings.append(f"{name} {arg}: sent as a file upload (netgui does not read it into a field)")
                files.append((key, value[1:].split(";", 1)[0]))
            else:
                fields.append((key, value.split(";type=", 1)[0] if name == "--form" else value))
        elif name == "--user":
            user, _, password = arg.partition(":")
            request.username, request.password = user, password
        elif name == "--cookie":
            if "=" in arg:
                headers.append(("Cookie", arg))
            else:
                warnings.append(f"Left out -b {arg}: netgui does not read cookie files")
        elif name == "--user-agent":
            headers.append(("User-Agent", arg))
        elif name == "--referer":
            headers.append(("Referer", arg.removesuffix(";auto")))
        elif name == "--oauth2-bearer":
            headers.append(("Authorization", f"Bearer {arg}"))
        elif name == "--range":
            headers.append(("Range", f"bytes={arg}"))
        elif name == "--url":
            urls.insert(0, arg)
        elif name == "--insecure":
            request.verify = False
        elif name == "--location":
            request.follow_redirects = True
        elif name == "--max-redirs":
            try:
                request.max_redirects = max(0, int(arg))
            except ValueError:
                warnings.append(f"Ignored --max-redirs {arg!r}")
        elif name == "--max-time":
            try:
                request.timeout = float(arg)
            except ValueError:
                warnings.append(f"Ignored --max-time {arg!r}")
        elif name == "--proxy":
            request.proxy = arg if "://" in arg else f"http://{arg}"
        elif name == "--noproxy":
            if arg.strip() == "*":
                request.proxy = ""
            else:
                warnings.append(f"Ignored --noproxy {arg}: netgui goes direct for all hosts or none")
        elif name == "--head":
            head = True
        elif name == "--get":
            get = True
        elif name not in _IGNORED_QUIETLY:
            warnings.append(f"Ignored {name}" + (f" {arg}" if arg is not None else ""))
    if not urls:
        raise ImportProblem("The curl command has no URL")
    if len(urls) > 1:
        warnings.append(f"Imported the first of {len(urls)} URLs")
    request.url = urls[0]
    if json_body:
        for name, value in (("Content-Type", "application/json"), ("Accept", "application/json")):
            if not any(n.lower() == name.lower() for n, _ in headers):
                headers.append((name, value))
    request.headers = headers
    content_type = next((v for n, v in headers if n.lower() == "content-type"), None)
    if get and data:
        pairs = _joined(data)
        request.url += ("&" if "?" in request.url else "?") + pairs
        data = []
    if fields or files:
        request.body_kind, request.form, request.files = "multipart", fields, files
        if data:
            warnings.append("Left out the -d data: a request has either -F fields or -d data")
    elif data and all(isinstance(item, tuple) for item in data) and content_type is None:
        request.body_kind, request.form = "form", list(data)
    elif data:
        request.body_kind = "raw"
        request.raw = _joined(data)
        request.content_type = content_type or "application/x-www-form-urlencoded"
        if content_type is None:
            request.headers.append(("Content-Type", request.content_type))
    request.method = method or ("HEAD" if head else "POST" if request.body_kind != "none" else "GET")
    return request, warnings


def _joined(data: list) -> str:
    """curl's body from several -d options: joined with ``&``."""
    return "&".join(urlencode([item]) if isinstance(item, tuple) else item for item in data)


# -- HAR -----------------------------------------------------------------------------------

_HAR_SKIPPED = ("content-length", "host", "connection")


def parse_har(text: str) -> Imported:
    """The requests of a HAR file (browsers' "Save all as HAR"), one ``.http`` file per host."""
    try:
        data = json.loads(text)
        entries = data["log"]["entries"]
    except (ValueError, KeyError, TypeError):
        raise ImportProblem("This is not a HAR file (no log.entries)") from None
    result = Imported(name="har")
    seen = set()
    for item in entries if isinstance(entries, list) else []:
        req = item.get("request") if isinstance(item, dict) else None
        if not isinstance(req, dict) or not str(req.get("url", "")).startswith(("http://", "https://")):
            continue
        url, method = str(req["url"]), str(req.get("method") or "GET").upper()
        headers = [(str(h.get("name", "")), str(h.get("value", ""))) for h in req.get("headers") or []
                   if isinstance(h, dict)]
        headers = [(n, v) for n, v in headers if n and not n.startswith(":")
                   and n.lower() not in _HAR_SKIPPED]
        request = Request(url=url, method=method, headers=headers)
        post = req.get("postData") or {}
        mime = str(post.get("mimeType") or "")
        params = [p for p in post.get("params") or [] if isinstance(p, dict)]
        if params and mime.startswith("multipart/form-data"):
            request.headers = [(n, v) for n, v in headers if n.lower() != "content-type"]
            request.body_kind = "multipart"
            for p in params:
                if p.get("fileName"):
                    request.files.append((str(p.get("name", "")), str(p["fileName"])))
                    result.warnings.append(f"{method} {url}: the file {p['fileName']} is referred to "
                                           "by name; put it beside the .http file")
                else:
                    request.form.append((str(p.get("name", "")), str(p.get("value", ""))))
        elif post.get("text"):
            request.body_kind, request.raw = "raw", str(post["text"])
            request.content_type = next((v for n, v in headers if n.lower() == "content-type"), mime)
        key = (method, url, request.raw)
        if key in seen:
            continue
        seen.add(key)
        host = urlsplit(url).hostname or "requests"
        result.entries.append(("", file_stem(host), request_to_entry(request)))
    if not result.entries:
        raise ImportProblem("The HAR file has no HTTP requests")
    return result


# -- Postman ---------------------------------------------------------------------------------

def _enabled(items) -> list[dict]:
    return [i for i in items or [] if isinstance(i, dict) and not i.get("disabled")]


def _postman_url(url) -> str:
    if isinstance(url, str):
        return url
    if not isinstance(url, dict):
        return ""
    raw = url.get("raw")
    if raw:
        text = str(raw)
        for variable in _enabled(url.get("variable")):  # path variables :id
            if variable.get("value") not in (None, ""):
                text = re.sub(rf":{re.escape(str(variable.get('key', '')))}(?=/|$|\?)",
                              str(variable["value"]), text)
        return text
    host = url.get("host") or []
    host = ".".join(host) if isinstance(host, list) else str(host)
    path = url.get("path") or []
    path = "/".join(str(p) for p in path) if isinstance(path, list) else str(path)
    text = f"{url.get('protocol', 'https')}://{host}" + (f":{url['port']}" if url.get("port") else "")
    text += "/" + path.lstrip("/")
    query = _enabled(url.get("query"))
    if query:
        text += "?" + "&".join(f"{q.get('key', '')}={q.get('value') or ''}" for q in query)
    return text


def _auth_values(auth: dict, kind: str) -> dict:
    values = auth.get(kind) or []
    if isinstance(values, dict):  # v2.0 wrote objects
        return {str(k): str(v) for k, v in values.items()}
    return {str(v.get("key")): str(v.get("value", "")) for v in values if isinstance(v, dict)}


_RAW_TYPES = {"json": "application/json", "xml": "application/xml", "html": "text/html",
              "javascript": "application/javascript", "text": "text/plain"}


def _postman_request(item: dict, inherited_auth, warnings: list[str]) -> HttpEntry:
    name = str(item.get("name") or "request")
    req = item.get("request")
    if isinstance(req, str):
        req = {"url": req, "method": "GET"}
    if not isinstance(req, dict):
        raise ImportProblem(f"The request {name!r} has no request part")
    request = Request(url=_postman_url(req.get("url")), method=str(req.get("method") or "GET").upper())
    request.headers = [(str(h.get("key", "")), str(h.get("value", ""))) for h in _enabled(req.get("header"))]
    has_type = any(n.lower() == "content-type" for n, _ in request.headers)
    body = req.get("body") or {}
    mode = body.get("mode") if isinstance(body, dict) and not body.get("disabled") else None
    if mode == "raw" and body.get("raw"):
        request.body_kind, request.raw = "raw", str(body["raw"])
        language = (((body.get("options") or {}).get("raw") or {}).get("language") or "text")
        request.content_type = "" if has_type else _RAW_TYPES.get(language, "text/plain")
    elif mode == "urlencoded":
        request.body_kind = "form"
        request.form = [(str(p.get("key", "")), str(p.get("value", "")))
                        for p in _enabled(body.get("urlencoded"))]
    elif mode == "formdata":
        request.body_kind = "multipart"
        request.headers = [(n, v) for n, v in request.headers if n.lower() != "content-type"]
        for p in _enabled(body.get("formdata")):
            if p.get("type") == "file":
                src = p.get("src")
                src = src[0] if isinstance(src, list) and src else src
                request.files.append((str(p.get("key", "")), str(src or "")))
            else:
                request.form.append((str(p.get("key", "")), str(p.get("value", ""))))
    elif mode == "graphql":
        graphql = body.get("graphql") or {}
        variables = graphql.get("variables") or "{}"
        try:
            variables = json.loads(variables) if isinstance(variables, str) else variables
        except ValueError:
            variables = {}
        request.body_kind = "raw"
        request.raw = json.dumps({"query": graphql.get("query", ""), "variables": variables}, indent=2)
        request.content_type = "" if has_type else "application/json"
    elif mode == "file":
        warnings.append(f"{name}: the body comes from a file, which netgui leaves out")
    auth = req.get("auth") if "auth" in req else inherited_auth
    if isinstance(auth, dict):
        kind = auth.get("type")
        if kind == "basic":
            values = _auth_values(auth, "basic")
            request.username, request.password = values.get("username", ""), values.get("password", "")
        elif kind == "bearer":
            token = _auth_values(auth, "bearer").get("token", "")
            request.headers.insert(0, ("Authorization", f"Bearer {token}"))
        elif kind == "apikey":
            values = _auth_values(auth, "apikey")
            if values.get("in") == "query":
                request.params.append((values.get("key", "api_key"), values.get("value", "")))
            else:
                request.headers.append((values.get("key", "X-API-Key"), values.get("value", "")))
        elif kind not in (None, "noauth", "inherit"):
            warnings.append(f"{name}: {kind} authentication is not imported")
    entry = request_to_entry(request)
    entry.name = name
    description = item.get("description") or req.get("description")
    if isinstance(description, dict):
        description = description.get("content")
    if description:
        lines = [f"# {line.strip()}" for line in str(description).splitlines() if line.strip()]
        entry.comments = [c for c in lines if not re.match(r"^#\s*@", c)][:20]  # no checks from here
    if any(e.get("listen") == "test" for e in item.get("event") or [] if isinstance(e, dict)):
        warnings.append(f"{name}: its Postman test script is not imported (add # @check lines)")
    return entry


def parse_postman(text: str) -> Imported:
    """The requests of a Postman collection (v2.1 or v2.0): folders become folders, each
    request one ``.http`` file; collection variables go to the shared environment."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ImportProblem(f"This is not JSON: {exc}") from None
    if not isinstance(data, dict) or "item" not in data or not isinstance(data.get("info"), dict):
        if isinstance(data, dict) and "requests" in data:
            raise ImportProblem("This is a Postman v1 collection: export it again as v2.1")
        raise ImportProblem("This is not a Postman collection (no info and item)")
    schema = str(data["info"].get("schema", ""))
    result = Imported(name=str(data["info"].get("name") or "postman"))
    if schema and "v2." not in schema:
        result.warnings.append(f"Unknown Postman schema {schema}; imported as v2.1")
    result.variables = [(str(v.get("key")), str(v.get("value", ""))) for v in _enabled(data.get("variable"))
                        if v.get("key")]

    def walk(items, folder: str, auth) -> None:
        for item in items or []:
            if not isinstance(item, dict):
                continue
            if "item" in item:
                sub = f"{folder}/{file_stem(str(item.get('name') or 'folder'))}".lstrip("/")
                walk(item["item"], sub, item.get("auth", auth))
            else:
                entry = _postman_request(item, auth, result.warnings)
                result.entries.append((folder, file_stem(entry.name), entry))

    walk(data["item"], "", data.get("auth"))
    if any(e.get("listen") == "prerequest" for e in data.get("event") or [] if isinstance(e, dict)):
        result.warnings.append("The collection's pre-request script is not imported")
    if not result.entries:
        raise ImportProblem("The Postman collection has no requests")
    return result


def from_curl(command: str) -> Imported:
    """A curl command as an Imported of one request."""
    request, warnings = parse_curl(command)
    entry = request_to_entry(request)
    path = urlsplit(request.url if "://" in request.url else "http://" + request.url).path
    stem = file_stem(f"{request.method.lower()}-{path.strip('/').replace('/', '-') or 'root'}")
    return Imported([("", stem, entry)], [], warnings, "curl")


def detect(text: str) -> Imported:
    """Import pasted or opened text: a curl command, a HAR file or a Postman collection."""
    stripped = text.lstrip()
    if stripped.startswith("{"):
        if '"log"' in stripped[:2000] or '"entries"' in stripped:
            try:
                return parse_har(text)
            except ImportProblem:
                pass
        return parse_postman(text)
    return from_curl(text)


# -- secrets out of the files ------------------------------------------------------------------

SECRET_HEADERS = ("authorization", "proxy-authorization", "cookie")
_SECRETISH = re.compile(r"token|secret|api[-_]?key|password|passwd|session", re.I)
_SECRET_PARAMS = ("access_token", "api_key", "apikey", "token", "password", "secret", "client_secret",
                  "key")


class SecretNamer:
    """Names for credentials: the same value gets the same name; names already used for
    other values (``taken``) are not reused."""

    def __init__(self, known: dict[str, str] | None = None, taken=()):
        self.by_value: dict[str, str] = dict(known or {})   # value -> name
        self.taken = set(taken) | set(self.by_value.values())
        self.found: dict[str, str] = {}                     # name -> value (new ones)

    def name(self, base: str, value: str) -> str:
        if value in self.by_value:
            return self.by_value[value]
        base = re.sub(r"\W+", "_", base).strip("_").lower() or "secret"
        if base[0].isdigit():
            base = "v_" + base
        name, number = base, 2
        while name in self.taken:
            name, number = f"{base}_{number}", number + 1
        self.taken.add(name)
        self.by_value[value] = name
        self.found[name] = value
        return name


def _templated(value: str) -> bool:
    return "{{" in value


def _secret_header(name: str, value: str, namer: SecretNamer) -> str:
    lowered = name.lower()
    if lowered in ("authorization", "proxy-authorization"):
        scheme, _, credential = value.partition(" ")
        credential = credential.strip()
        if scheme.lower() == "basic" and credential:
            user, sep, password = credential.partition(":")
            if not sep:
                try:
                    decoded = base64.b64decode(credential, validate=True).decode("utf-8")
                except (binascii.Error, UnicodeDecodeError, ValueError):
                    decoded = ""
                user, sep, password = decoded.partition(":")
            if sep:
                return f"Basic {user}:{{{{{namer.name('password', password)}}}}}" if password else \
                    f"Basic {user}:"
            return f"Basic {{{{{namer.name('basic_auth', credential)}}}}}"
        if credential:
            return f"{scheme} {{{{{namer.name('token', credential)}}}}}"
        return f"{{{{{namer.name(lowered, value)}}}}}"
    return f"{{{{{namer.name(lowered.replace('-', '_'), value)}}}}}"


def extract_secrets(entry: HttpEntry, namer: SecretNamer) -> HttpEntry:
    """``entry`` with credentials replaced by ``{{variables}}`` (their values in ``namer.found``)."""
    headers = []
    for name, value in entry.headers:
        if value and not _templated(value) and (name.lower() in SECRET_HEADERS or _SECRETISH.search(name)):
            value = _secret_header(name, value, namer)
        headers.append((name, value))
    url = entry.url
    try:
        parts = urlsplit(url)
    except ValueError:
        parts = None
    if parts is not None and parts.query:
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        if any(k.lower() in _SECRET_PARAMS and v and not _templated(v) for k, v in pairs):
            query = "&".join(
                f"{k}={{{{{namer.name(k, v)}}}}}" if k.lower() in _SECRET_PARAMS and v and not _templated(v)
                else urlencode([(k, v)]) for k, v in pairs)
            url = urlunsplit(parts._replace(query=query))
    if parts is not None and parts.password and not _templated(parts.password):
        name = namer.name("password", parts.password)
        netloc = parts.netloc.replace(f":{parts.password}@", f":{{{{{name}}}}}@")
        url = urlunsplit(urlsplit(url)._replace(netloc=netloc))
    return HttpEntry(entry.method, url, headers, entry.body, entry.name, list(entry.comments),
                     list(entry.checks), list(entry.options))


# -- writing an import into a collection ---------------------------------------------------------

@dataclass
class Written:
    files: list[str]
    """The files written, relative to the collection."""
    secrets: dict[str, str]
    """Credentials taken out: variable name -> value (for the keyring)."""
    environment: str
    """The environment the secret variables were declared in."""
    warnings: list[str]


def write_import(root: str | Path, folder: str, imported: Imported, environment: str | None,
                 known: dict[str, str] | None = None) -> Written:
    """Write ``imported`` into the collection at ``root``, under ``folder``.

    New files never overwrite old ones. Credentials become secret variables of
    ``environment`` (``Default`` if the collection has none) in ``http-client.env.json``;
    their values are returned for the caller to put in the keyring. ``known`` maps secret
    values already stored to their names, so the same token keeps one name.
    """
    root = Path(root)
    try:
        environments = load_environments(root)
    except ValueError as exc:
        raise ImportProblem(f"Cannot add variables: {exc}") from None
    env_name = environment or next((n for n in environments if n != SHARED), None) or "Default"
    taken = {v.name for env in environments.values() for v in env.variables}
    namer = SecretNamer(known, taken)
    grouped: dict[tuple[str, str], list[HttpEntry]] = {}
    for sub, stem, entry in imported.entries:
        grouped.setdefault((sub, stem), []).append(extract_secrets(entry, namer))
    written = []
    base = root / folder if folder else root
    for (sub, stem), entries in grouped.items():
        target = base / sub if sub else base
        target.mkdir(parents=True, exist_ok=True)
        path = unique_path(target, stem)
        atomic_write_text(path, format_http(HttpFile(entries=entries)))
        written.append(path.relative_to(root).as_posix())
    if namer.found or imported.variables:
        declare_variables(root, env_name, namer.found, imported.variables)
    return Written(written, dict(namer.found), env_name, list(imported.warnings))
