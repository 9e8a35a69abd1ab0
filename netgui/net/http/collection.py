"""Collections as plain files: folders of ``.http`` files in the REST Client format.

A ``.http`` file holds one or more requests separated by lines starting with ``###`` (the
rest of that line names the request). Each request is an optional block of comments
(``#`` or ``//``), then the request line ``METHOD URL [HTTP/1.1]`` (a bare URL means GET;
indented lines starting with ``?`` or ``&`` continue the query), headers ``Name: value``
up to a blank line, and the body up to the next ``###``. ``@name = value`` lines outside
requests define the file's variables. netgui reads some comments as settings::

    ### Create a user
    # @check status == 201            (see netgui.net.http.checks)
    # @no-redirect                     do not follow redirects
    # @insecure                        do not verify TLS certificates
    # @timeout 10                      seconds
    # @proxy http://proxy:3128         or "none"
    POST {{host}}/users
    Content-Type: application/json

    {"name": "Zoë"}

A collection is a folder of such files; its subfolders are groups. Environments live
beside them in ``http-client.env.json`` (``netgui.net.http.variables``).
"""

from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from netgui.config import atomic_write_text
from netgui.net.errors import LocalFileError

from .request import Request, encode_pairs, split_query, split_userinfo
from .variables import ENV_FILE, Environment, load_environments

HTTP_SUFFIXES = (".http", ".rest")
METHOD_NAMES = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE", "CONNECT")
SKIPPED_DIRS = ("node_modules", "__pycache__")
MAX_FILES = 2000
MULTIPART_BOUNDARY = "----netgui-form-boundary"

_SEPARATOR = re.compile(r"^\s*###")
_VARIABLE = re.compile(r"^@([A-Za-z_][\w.-]*)\s*=\s*(.*?)\s*$")
_META = re.compile(r"^(?:#|//)\s*@([A-Za-z][\w-]*)\s*(.*?)\s*$")
_HEADER = re.compile(r"^([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*:\s*(.*?)\s*$")
_REQUEST_LINE = re.compile(r"^([A-Za-z]+)\s+(.+?)\s*$")
_VERSIONS = re.compile(r"(?:\s+HTTP/\d(?:\.\d)?)+$")


@dataclass
class HttpEntry:
    """One request of a ``.http`` file, as written (``{{variables}}`` unresolved)."""

    method: str = "GET"
    url: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: str = ""
    name: str = ""
    """The text after ``###``."""
    comments: list[str] = field(default_factory=list)
    """Whole comment lines (``# …`` or ``// …``) before the request line."""
    checks: list[str] = field(default_factory=list)
    options: list[tuple[str, str]] = field(default_factory=list)
    """Other ``# @key value`` settings, in order (name, no-redirect, insecure, timeout, proxy…)."""

    def option(self, key: str) -> str | None:
        return next((value for k, value in self.options if k == key), None)

    def header(self, name: str) -> str | None:
        return next((v for n, v in self.headers if n.lower() == name.lower()), None)

    @property
    def label(self) -> str:
        """What lists show: its name, else ``METHOD /path``."""
        name = self.name or self.option("name")
        if name:
            return name
        url = self.url
        try:
            parts = urlsplit(url if "://" in url else "http://" + url)
            url = parts.path or "/"
            if "{{" in parts.netloc and not parts.path:
                url = self.url
        except ValueError:
            pass
        return f"{self.method} {url}"


@dataclass
class HttpFile:
    """A parsed ``.http`` file: its variables, its requests and where each request is."""

    variables: list[tuple[str, str]] = field(default_factory=list)
    entries: list[HttpEntry] = field(default_factory=list)
    spans: list[tuple[int, int]] = field(default_factory=list)
    """Each entry's lines [start, end) in the text it was parsed from."""
    kept: list[list[str]] = field(default_factory=list)
    """Variable lines inside each entry's span (kept when that entry is replaced)."""


# -- parsing ------------------------------------------------------------------------------

def _lines(text: str) -> list[str]:
    return [line[:-1] if line.endswith("\r") else line for line in text.split("\n")]


def _is_comment(stripped: str) -> bool:
    return stripped.startswith("#") or stripped.startswith("//")


def _request_line(stripped: str) -> tuple[str, str]:
    stripped = _VERSIONS.sub("", stripped)
    match = _REQUEST_LINE.match(stripped)
    if match and match.group(1).upper() in METHOD_NAMES:
        return match.group(1).upper(), match.group(2)
    return "GET", stripped


def _blocks(lines: list[str]) -> list[tuple[int, int, str | None]]:
    """(start, end, title) of each ``###`` block; the first may have no title line."""
    starts = [i for i, line in enumerate(lines) if _SEPARATOR.match(line)]
    blocks = []
    if not starts or starts[0] > 0:
        blocks.append((0, starts[0] if starts else len(lines), None))
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        blocks.append((start, end, lines[start].strip().lstrip("#").strip()))
    return blocks


def parse_http(text: str) -> HttpFile:
    """Parse a ``.http`` file. Lenient, as REST Client is: anything parses."""
    lines = _lines(text)
    result = HttpFile()
    for start, end, title in _blocks(lines):
        entry = HttpEntry(name=title or "")
        state = "pre"
        first = start if title is not None else None
        body: list[str] = []
        kept: list[str] = []
        for number in range(start + (title is not None), end):
            line = lines[number]
            stripped = line.strip()
            if state == "pre":
                if not stripped:
                    continue
                variable = _VARIABLE.match(stripped)
                if variable:
                    result.variables.append((variable.group(1), variable.group(2)))
                    if first is not None:
                        kept.append(stripped)
                    continue
                if first is None:
                    first = number
                if _is_comment(stripped):
                    _comment(entry, stripped)
                    continue
                entry.method, entry.url = _request_line(stripped)
                state = "url"
                continue
            if state == "url":
                if line[:1].isspace() and stripped[:1] in ("?", "&"):
                    entry.url += stripped
                    continue
                state = "headers"
            if state == "headers":
                if not stripped:
                    state = "body"
                    continue
                if _is_comment(stripped):
                    _comment(entry, stripped)
                    continue
                header = _HEADER.match(stripped)
                if header:
                    entry.headers.append((header.group(1), header.group(2)))
                    continue
                state = "body"
            body.append(line)
        if state == "pre":
            continue  # comments and variables only: no request here
        entry.url = _VERSIONS.sub("", entry.url)
        while body and not body[-1].strip():
            body.pop()
        while body and not body[0].strip():
            body.pop(0)
        entry.body = "\n".join(body)
        result.entries.append(entry)
        result.spans.append((first, end))
        result.kept.append(kept)
    return result


def _comment(entry: HttpEntry, stripped: str) -> None:
    meta = _META.match(stripped)
    if meta is None:
        entry.comments.append(stripped)
    elif meta.group(1) == "check":
        entry.checks.append(meta.group(2))
    else:
        entry.options.append((meta.group(1), meta.group(2)))


# -- writing ------------------------------------------------------------------------------

def entry_lines(entry: HttpEntry, separator: bool) -> list[str]:
    """The lines of one request (a ``###`` line first if ``separator`` or it has a name)."""
    lines = []
    if separator or entry.name:
        lines.append(f"### {entry.name}".rstrip())
    lines += entry.comments
    lines += [f"# @{key} {value}".rstrip() for key, value in entry.options]
    lines += [f"# @check {check}" for check in entry.checks]
    lines.append(f"{entry.method} {entry.url}")
    lines += [f"{name}: {value}" for name, value in entry.headers]
    if entry.body:
        lines.append("")
        lines += entry.body.split("\n")
    return lines


def format_http(file: HttpFile) -> str:
    """The text of a whole file: its variables, then its requests."""
    lines = [f"@{name} = {value}" for name, value in file.variables]
    for number, entry in enumerate(file.entries):
        if lines:
            lines.append("")
        lines += entry_lines(entry, separator=number > 0 or bool(file.variables))
    return "\n".join(lines) + "\n" if lines else ""


def replace_entry(text: str, index: int, entry: HttpEntry) -> str:
    """``text`` with its ``index``-th request replaced by ``entry`` (the rest stays as it was)."""
    parsed = parse_http(text)
    lines = _lines(text)
    start, end = parsed.spans[index]
    new = parsed.kept[index] + entry_lines(entry, separator=bool(lines[start].strip().startswith("###")
                                                                  or start > 0))
    tail = lines[end:]
    if tail and any(line.strip() for line in tail):
        new.append("")
    return "\n".join(lines[:start] + new + tail).rstrip("\n") + "\n"


def append_entry(text: str, entry: HttpEntry) -> str:
    """``text`` with ``entry`` added as its last request."""
    head = text.rstrip()
    new = "\n".join(entry_lines(entry, separator=bool(head)))
    return (head + "\n\n" + new if head else new) + "\n"


def remove_entry(text: str, index: int) -> str:
    """``text`` without its ``index``-th request."""
    parsed = parse_http(text)
    lines = _lines(text)
    start, end = parsed.spans[index]
    rest = lines[:start] + parsed.kept[index] + lines[end:]
    return "\n".join(rest).strip("\n") + "\n" if any(line.strip() for line in rest) else ""


# -- requests <-> entries -------------------------------------------------------------------

def multipart_text(fields: list[tuple[str, str]], files: list[tuple[str, str]],
                   boundary: str = MULTIPART_BOUNDARY) -> str:
    """A multipart/form-data body as REST Client writes it: files as ``< path`` lines."""
    lines = []
    for name, value in fields:
        lines += [f"--{boundary}", f'Content-Disposition: form-data; name="{name}"', "", value]
    for name, path in files:
        filename = PurePosixPath(path.replace("\\", "/")).name
        lines += [f"--{boundary}", f'Content-Disposition: form-data; name="{name}"; filename="{filename}"',
                  "", f"< {path}"]
    lines.append(f"--{boundary}--")
    return "\n".join(lines)


def _param(header: str, name: str) -> str | None:
    match = re.search(rf';\s*{name}\s*=\s*(?:"([^"]*)"|([^;\s]+))', header, re.I)
    return None if match is None else (match.group(1) if match.group(1) is not None else match.group(2))


def parse_multipart(body: str, boundary: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]] | None:
    """(fields, files) of a multipart text body, or None if it is not one netgui can send."""
    delimiter = f"--{boundary}"
    lines = _lines(body)
    fields: list[tuple[str, str]] = []
    files: list[tuple[str, str]] = []
    if not lines or lines[0].strip() != delimiter:
        return None
    part: list[str] = []
    for line in lines[1:] + [None]:
        if line is None:
            return None  # no closing delimiter
        if line.strip() in (delimiter, delimiter + "--"):
            if "" not in part:
                return None
            blank = part.index("")
            heads, content = part[:blank], "\n".join(part[blank + 1:])
            disposition = next((h.split(":", 1)[1] for h in heads
                                if h.lower().startswith("content-disposition:")), "")
            name = _param(disposition, "name")
            if name is None:
                return None
            if _param(disposition, "filename") is not None and content.startswith("< ") \
                    and "\n" not in content:
                files.append((name, content[2:].strip()))
            else:
                fields.append((name, content))
            if line.strip() == delimiter + "--":
                return fields, files
            part = []
        else:
            part.append(line)
    return None


def entry_to_request(entry: HttpEntry) -> Request:
    """The Request an entry describes, with its ``{{variables}}`` still in place."""
    headers = list(entry.headers)
    content_type = next((v for n, v in headers if n.lower() == "content-type"), None)
    request = Request(url=entry.url, method=entry.method.upper() or "GET")
    if entry.body:
        headers = [(n, v) for n, v in headers if n.lower() != "content-type"]
        boundary = _param(content_type or "", "boundary")
        parts = parse_multipart(entry.body, boundary) if boundary and (content_type or "").lower() \
            .startswith("multipart/form-data") else None
        if parts is not None:
            request.body_kind, (request.form, request.files) = "multipart", parts
        else:
            request.body_kind, request.raw = "raw", entry.body
            request.content_type = content_type or ""
    request.headers = headers
    request.follow_redirects = entry.option("no-redirect") is None
    request.verify = entry.option("insecure") is None
    timeout = entry.option("timeout")
    try:
        request.timeout = float(timeout) if timeout else request.timeout
    except ValueError:
        pass
    proxy = entry.option("proxy")
    if proxy is not None:
        request.proxy = "" if proxy.lower() == "none" else proxy
    return request


_OWN_OPTIONS = ("no-redirect", "insecure", "timeout", "proxy")


def request_to_entry(request: Request, base: HttpEntry | None = None) -> HttpEntry:
    """An entry for ``request``, keeping the name, comments, checks and other settings of
    ``base``. A password goes in as ``Authorization: Basic user:password`` (take it out
    with ``netgui.net.http.importers.extract_secrets`` before writing a file)."""
    url = request.url
    if request.params:
        base_url, pairs = split_query(url)
        url = base_url + "?" + encode_pairs(pairs + list(request.params))
    entry = HttpEntry(method=request.method.upper(), url=url)
    if base is not None:
        entry.name, entry.comments, entry.checks = base.name, list(base.comments), list(base.checks)
        entry.options = [(k, v) for k, v in base.options if k not in _OWN_OPTIONS]
    headers = [(n, v) for n, v in request.headers if n]
    has_type = any(n.lower() == "content-type" for n, _ in headers)
    if request.body_kind == "form" and request.form:
        entry.body = encode_pairs(request.form)
        if not has_type:
            headers.append(("Content-Type", "application/x-www-form-urlencoded"))
    elif request.body_kind == "multipart" and (request.form or request.files):
        boundary = MULTIPART_BOUNDARY
        while any(boundary in v for _, v in request.form):
            boundary += "-x"
        entry.body = multipart_text(list(request.form), list(request.files), boundary)
        headers = [(n, v) for n, v in headers if n.lower() != "content-type"]
        headers.append(("Content-Type", f"multipart/form-data; boundary={boundary}"))
    elif request.body_kind == "raw" and request.raw:
        entry.body = request.raw
        if not has_type and request.content_type:
            headers.append(("Content-Type", request.content_type))
    if request.username and not any(n.lower() == "authorization" for n, _ in headers):
        headers.insert(0, ("Authorization", f"Basic {request.username}:{request.password}"))
    plain, userinfo = split_userinfo(url) if "@" in url else (url, None)
    if userinfo and not any(n.lower() == "authorization" for n, _ in headers):
        entry.url = plain
        headers.insert(0, ("Authorization", f"Basic {userinfo[0]}:{userinfo[1]}"))
    entry.headers = headers
    if not request.follow_redirects:
        entry.options.append(("no-redirect", ""))
    if not request.verify:
        entry.options.append(("insecure", ""))
    if request.timeout != Request.timeout:
        entry.options.append(("timeout", f"{request.timeout:g}"))
    if request.proxy is not None:
        entry.options.append(("proxy", request.proxy or "none"))
    return entry


def anchor_files(request: Request, folder: str | os.PathLike) -> Request:
    """``request`` with relative upload paths made relative to ``folder`` (the .http file's)."""
    if not request.files:
        return request
    files = [(n, p if os.path.isabs(p) else str(Path(folder) / p)) for n, p in request.files]
    return dataclasses.replace(request, files=files)


# -- collections on disk ---------------------------------------------------------------------

@dataclass
class Collection:
    """A folder of ``.http`` files: its groups (subfolders), files and environments."""

    root: Path
    folders: list[str] = field(default_factory=list)
    """Subfolders holding requests, as POSIX paths relative to ``root``."""
    files: dict[str, HttpFile] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)
    """Files that could not be read: path -> one line."""
    environments: dict[str, Environment] = field(default_factory=dict)
    env_problem: str = ""
    truncated: bool = False

    def entry(self, path: str, index: int) -> HttpEntry | None:
        file = self.files.get(path)
        return file.entries[index] if file is not None and 0 <= index < len(file.entries) else None

    def folder_of(self, path: str) -> Path:
        return self.root / PurePosixPath(path).parent


def natural_key(name: str) -> list:
    """Sort ``2-b.http`` before ``10-a.http``."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


def _walk(root: Path):
    """(relative folder, [file names]) depth-first, folders before files, natural order."""
    stack = [""]
    while stack:
        rel = stack.pop()
        try:
            with os.scandir(root / rel if rel else root) as it:
                entries = list(it)
        except OSError:
            continue
        dirs = sorted((e.name for e in entries if e.is_dir(follow_symlinks=False)
                       and not e.name.startswith(".") and e.name not in SKIPPED_DIRS), key=natural_key)
        files = sorted((e.name for e in entries if e.is_file() and e.name.lower().endswith(HTTP_SUFFIXES)),
                       key=natural_key)
        yield rel, files, entries
        stack.extend(reversed([f"{rel}/{d}" if rel else d for d in dirs]))


def snapshot(root: str | os.PathLike) -> dict[str, tuple[int, int]]:
    """What changes when a file is edited, added or removed: path -> (mtime_ns, size).
    Folders are listed too (with size -1), so an added empty group shows."""
    root = Path(root)
    seen: dict[str, tuple[int, int]] = {}
    for rel, files, entries in _walk(root):
        stats = {e.name: e for e in entries}
        if rel:
            seen[rel + "/"] = (0, -1)
        for name in files + ([ENV_FILE] if not rel and ENV_FILE in stats else []):
            try:
                st = stats[name].stat()
            except OSError:
                continue
            seen[f"{rel}/{name}" if rel else name] = (st.st_mtime_ns, st.st_size)
        if len(seen) > MAX_FILES:
            break
    return seen


def load_collection(root: str | os.PathLike) -> Collection:
    """Read every ``.http``/``.rest`` file under ``root`` (hidden folders skipped)."""
    root = Path(root)
    if not root.is_dir():
        raise LocalFileError(f"{root} is not a folder")
    collection = Collection(root)
    count = 0
    for rel, files, _ in _walk(root):
        if rel:
            collection.folders.append(rel)
        for name in files:
            path = f"{rel}/{name}" if rel else name
            count += 1
            if count > MAX_FILES:
                collection.truncated = True
                break
            try:
                text = (root / path).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                collection.problems[path] = f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}"
                continue
            collection.texts[path] = text
            collection.files[path] = parse_http(text)
        if collection.truncated:
            break
    try:
        collection.environments = load_environments(root)
    except ValueError as exc:
        collection.env_problem = str(exc)
    return collection


@dataclass
class RunItem:
    """One request of a collection run."""

    path: str
    index: int
    entry: HttpEntry
    variables: list[tuple[str, str]]

    @property
    def label(self) -> str:
        return f"{self.path} › {self.entry.label}"


def items_under(collection: Collection, where: str = "") -> list[RunItem]:
    """The requests of a folder (``"users"``), a file (``"users/list.http"``), one request
    (``"users/list.http#2"``) or the whole collection (``""``), in the order shown."""
    path, _, index = where.partition("#")
    items = []
    for file_path, parsed in collection.files.items():  # in the order shown
        if path and file_path != path and not file_path.startswith(path.rstrip("/") + "/"):
            continue
        for number, entry in enumerate(parsed.entries):
            if index and str(number) != index:
                continue
            items.append(RunItem(file_path, number, entry, parsed.variables))
    return items


def unique_path(folder: Path, stem: str, suffix: str = ".http") -> Path:
    """``folder/stem.http``, or ``stem-2.http``… if taken."""
    candidate = folder / f"{stem}{suffix}"
    number = 2
    while candidate.exists():
        candidate = folder / f"{stem}-{number}{suffix}"
        number += 1
    return candidate


def file_stem(text: str) -> str:
    """A safe file name stem from a request's name or URL."""
    stem = re.sub(r"[^\w.-]+", "-", text, flags=re.UNICODE).strip("-.")[:60]
    return stem or "request"



class ChangedOnDisk(LocalFileError):
    """The file changed since netgui read it (saving would overwrite someone's edit)."""


def _current_text(target: Path, path: str) -> str:
    """What the file holds now ("" if it does not exist)."""
    try:
        return target.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""
    except (OSError, UnicodeDecodeError) as exc:
        raise LocalFileError(f"Cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from exc


def save_text(root: str | os.PathLike, path: str, text: str, expected: str | None) -> None:
    """Write ``text`` to the collection file ``path`` (atomically). With ``expected`` (the
    text netgui read, or "" for a new file), refuse if the file no longer holds it."""
    target = Path(root) / path
    if expected is not None and _current_text(target, path) != expected:
        raise ChangedOnDisk(f"{path} changed on disk since netgui read it")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(target, text)
    except OSError as exc:
        raise LocalFileError(f"Cannot write {path}: {exc.strerror or exc}") from exc


def save_entry(root: str | os.PathLike, path: str, index: int | None, entry: HttpEntry,
               expected: str | None) -> str:
    """Write ``entry`` as request ``index`` of ``path`` (None: add it at the end, creating
    the file if needed); ``expected`` as for ``save_text``. Returns the new text."""
    if expected is None:
        expected = _current_text(Path(root) / path, path)
    if index is None or index >= len(parse_http(expected).entries):
        text = append_entry(expected, entry)
    else:
        text = replace_entry(expected, index, entry)
    save_text(root, path, text, expected)
    return text
