"""IMAP4rev1 client core on imaplib: folders, header batches, bodies, flags, move, search, IDLE.

One ``ImapClient`` is one connection. Every call blocks, has a timeout, reports
the wire transcript through ``log(direction, text)`` (passwords masked) and is
cancelled through a ``CancelToken`` (cancelling shuts the socket down). Errors
are the NetError family: a refused command raises ProtocolError, a refused
login AuthError, a broken connection ConnectionLost.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import imaplib
import inspect
import itertools
import re
import threading
from dataclasses import dataclass
from typing import Iterable, Iterator, Sequence

from netgui.net.cancel import CancelToken
from netgui.net.connection import DEFAULT_TIMEOUT, Log, no_log
from netgui.net.errors import (AuthError, Cancelled, ConnectionLost, NetError, ProtocolError,
                               TokenRejected, translate)
from netgui.net.redact import MASK, redact

from . import sasl
from .connection import MailConnection, MailWire
from .imap_stream import ResponseReader

DEFAULT_PORTS = {"tls": 993, "starttls": 143, "none": 143}
HEADER_FIELDS = ("FROM", "TO", "CC", "SUBJECT", "DATE", "MESSAGE-ID", "CONTENT-TYPE")
SPECIAL_KINDS = ("inbox", "sent", "drafts", "trash", "junk", "archive")

# Names used by servers that do not announce special-use flags (compared case-insensitively
# with the last component of a folder's name).
SPECIAL_NAMES = {
    "sent": ("sent", "sent items", "sent messages", "sent mail", "gesendet", "envoyés", "enviados"),
    "drafts": ("drafts", "draft", "entwürfe", "brouillons", "borradores"),
    "trash": ("trash", "deleted items", "deleted messages", "bin", "papierkorb", "corbeille",
              "papelera"),
    "junk": ("junk", "spam", "junk e-mail", "junk email", "bulk mail"),
    "archive": ("archive", "archives", "all mail"),
}
SPECIAL_FLAGS = {"\\sent": "sent", "\\drafts": "drafts", "\\trash": "trash", "\\junk": "junk",
                 "\\archive": "archive", "\\all": "archive"}

_LIST_RE = re.compile(rb'\((?P<flags>[^)]*)\)\s+(?P<delim>NIL|"(?:[^"\\]|\\.)*")\s*(?P<name>.*)$',
                      re.I)
_UID_RE = re.compile(rb"\bUID\s+(\d+)", re.I)
_FLAGS_RE = re.compile(rb"\bFLAGS\s+\(([^)]*)\)", re.I)
_SIZE_RE = re.compile(rb"\bRFC822\.SIZE\s+(\d+)", re.I)
_FETCH_RE = re.compile(rb"\* (\d+) FETCH ", re.I)
# The shape Dovecot (and most servers) answer a list FETCH in, read in one regex call.
# Groups: message number, UID, flags, size, and the length of the header literal.
_LIST_FETCH_RE = re.compile(rb"\* (\d+) FETCH \(UID (\d+) FLAGS \(([^)\r\n]*)\) RFC822\.SIZE (\d+) "
                            rb"BODY\[HEADER\.FIELDS \([^)\r\n]*\)\] \{(\d+)\}\r\n")
_STREAM_TAGS = itertools.count(1)
_STATUS_ITEM_RE = re.compile(rb"\[(UIDVALIDITY|UIDNEXT|UNSEEN)\s+(\d+)\]", re.I)


# -- folder names: IMAP's modified UTF-7 (RFC 3501 5.1.3) ------------------------------

def decode_folder_name(raw: bytes | str) -> str:
    """Modified UTF-7 (``&AOQ-``) to text."""
    text = raw.decode("ascii", "replace") if isinstance(raw, bytes) else raw
    out, i = [], 0
    while i < len(text):
        ch = text[i]
        if ch == "&":
            end = text.find("-", i)
            if end < 0:
                out.append(text[i:])
                break
            chunk = text[i + 1:end]
            if not chunk:
                out.append("&")
            else:
                try:
                    out.append(("+" + chunk.replace(",", "/") + "-").encode("ascii").decode("utf-7"))
                except UnicodeError:
                    out.append(text[i:end + 1])
            i = end + 1
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def encode_folder_name(name: str) -> str:
    """Text to modified UTF-7."""
    out, pending = [], []

    def flush():
        if pending:
            encoded = "".join(pending).encode("utf-7").decode("ascii")
            # Python's UTF-7 gives "+...-"; modified UTF-7 uses "&" and "," instead of "/"
            body = encoded[1:].rstrip("-").replace("/", ",")
            out.append("&" + body + "-")
            pending.clear()

    for ch in name:
        if 0x20 <= ord(ch) <= 0x7E:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            pending.append(ch)
    flush()
    return "".join(out)


def quote(text: str) -> str:
    """An IMAP quoted string (folder names are encoded first by the caller)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _unquote(raw: bytes) -> bytes:
    raw = raw.strip()
    if len(raw) >= 2 and raw[:1] == b'"' and raw[-1:] == b'"':
        return re.sub(rb"\\(.)", rb"\1", raw[1:-1])
    return raw


def uid_set(uids: Iterable[int]) -> str:
    """A compact UID set: ``1:3,7,9:10``."""
    ordered = sorted(set(int(u) for u in uids))
    parts, start, prev = [], None, None
    for uid in ordered:
        if start is None:
            start = prev = uid
        elif uid == prev + 1:
            prev = uid
        else:
            parts.append(f"{start}:{prev}" if start != prev else str(start))
            start = prev = uid
    if start is not None:
        parts.append(f"{start}:{prev}" if start != prev else str(start))
    return ",".join(parts)


@dataclass
class Folder:
    """One mailbox on the server. ``name`` is decoded text, ``raw`` what goes on the wire."""

    name: str
    raw: str
    delimiter: str | None
    flags: tuple[str, ...]
    special: str | None = None


    @property
    def leaf(self) -> str:
        if self.delimiter and self.delimiter in self.name:
            return self.name.rsplit(self.delimiter, 1)[1]
        return self.name


@dataclass
class FolderState:
    """What SELECT/EXAMINE said about a folder."""

    name: str
    uidvalidity: int
    exists: int
    uidnext: int | None
    readonly: bool


@dataclass(slots=True)
class FetchedHeaders:
    """One message's list data as fetched: raw header bytes plus flags and size."""

    uid: int
    flags: tuple[str, ...]
    size: int
    header: bytes = b""
    seq: int | None = None


def classify_folder(name: str, delimiter: str | None, flags: Sequence[str]) -> str | None:
    """The special kind of a folder (inbox/sent/drafts/trash/junk/archive) from flags or name."""
    if name.upper() == "INBOX":
        return "inbox"
    for flag in flags:
        kind = SPECIAL_FLAGS.get(flag.lower())
        if kind:
            return kind
    leaf = name.rsplit(delimiter, 1)[-1] if delimiter else name
    leaf = leaf.strip().lower()
    for kind, names in SPECIAL_NAMES.items():
        if leaf in names:
            return kind
    return None


class _Wire(MailWire, imaplib.IMAP4):
    """imaplib with our connection (timeouts, TLS, cancel) and a transcript hook.

    ``quiet`` (during bulk fetches): count FETCH lines in ``quiet_count`` instead of logging.
    """

    def __init__(self, *args):
        self.quiet_count = 0
        self.masking = False  # during AUTHENTICATE: what we send is a credential
        super().__init__(*args)

    def _emit(self, direction, data: bytes):
        text = data.decode("utf-8", "replace")
        if len(text) > 300:
            text = text[:300] + f"… ({len(data)} bytes)"
        self._log_cb(direction, redact(text, self._secrets))

    def send(self, data):
        if data == b"\r\n":
            pass
        elif self.masking:
            self._log_cb(">", MASK)
        elif data.endswith(b"\r\n") and len(data) < 2000 and b"\r\n" not in data[:-2]:
            self._emit(">", data[:-2])
        else:
            self._log_cb(">", f"({len(data)} bytes of message data)")
        super().send(data)

    def read(self, size):
        data = super().read(size)
        if not self.quiet:
            self._log_cb("<", f"({len(data)} bytes)")
        return data

    def _get_line(self):
        line = super()._get_line()
        if self.quiet and line.startswith(b"* ") and b"FETCH" in line[:40].upper():
            self.quiet_count += 1
        elif not (self.quiet and line == b")"):
            self._emit("<", line)
        return line


def _guard(method):
    """Turn imaplib/socket exceptions into the NetError family and honour the token
    (for a generator, while it is being iterated)."""

    if inspect.isgeneratorfunction(method):
        def wrapper(self, *args, **kwargs):
            with self._translating():
                yield from method(self, *args, **kwargs)
    else:
        def wrapper(self, *args, **kwargs):
            with self._translating():
                return method(self, *args, **kwargs)

    wrapper.__name__ = method.__name__
    wrapper.__doc__ = method.__doc__
    return wrapper


def _clean(exc) -> str:
    text = str(exc)
    match = re.search(r"\[?b?['\"](.*)['\"]\]?$", text)
    if match and "response" in text:
        text = match.group(1)
    return text.splitlines()[0][:200] if text else type(exc).__name__


class ImapClient(MailConnection):
    """One IMAP connection. Construct, ``connect()``, ``login()``, then use; ``close()`` at the end.

    ``security`` is "tls" (implicit TLS), "starttls" or "none". ``verify`` False turns off
    certificate checks for this connection; ``cafile`` adds a CA (tests).
    """

    DEFAULT_PORTS = DEFAULT_PORTS
    wire_class = _Wire
    _wire: _Wire | None

    def __init__(self, host: str, port: int | None = None, security: str = "tls", *,
                 timeout: float = DEFAULT_TIMEOUT, token: CancelToken | None = None,
                 log: Log = no_log, verify: bool = True, cafile: str | None = None):
        super().__init__(host, port, security, timeout=timeout, token=token, log=log,
                         verify=verify, cafile=cafile)
        self._folders: list[Folder] | None = None
        self.selected: FolderState | None = None

    # -- connection ---------------------------------------------------------
    def bind(self, token: CancelToken, log: Log | None = None) -> None:
        """Use ``token`` (and ``log``) for the next operations: one connection serves many tasks."""
        if self._unwatch:
            self._unwatch()
            self._unwatch = None
        self.token = token
        if log is not None:
            self.log = log
        if self._wire is not None:
            self._wire._token = token
            if log is not None:
                self._wire._log_cb = log
            self._unwatch = token.add_hook(self._abort)

    @property
    def alive(self) -> bool:
        return self._wire is not None and not self._broken

    @contextlib.contextmanager
    def _translating(self):
        """Check the token, then raise imaplib and socket failures as the NetError family."""
        self.token.check()
        try:
            yield
        except NetError:
            raise
        except imaplib.IMAP4.abort as exc:
            self._broken = True
            if self.token.cancelled:
                raise Cancelled() from exc
            raise ConnectionLost(f"Connection to {self.where} was lost: {_clean(exc)}",
                                 detail=str(exc)) from exc
        except imaplib.IMAP4.error as exc:
            if self.token.cancelled:
                raise Cancelled() from exc
            raise ProtocolError(f"{self.where} refused: {_clean(exc)}", detail=str(exc)) from exc
        except (OSError, EOFError, ValueError) as exc:
            raise self._failed(exc) from exc

    @_guard
    def connect(self) -> None:
        """Open the connection (and negotiate STARTTLS when asked)."""
        ctx = self._open()
        if self.security == "starttls":
            if "STARTTLS" not in self._wire.capabilities:
                raise ProtocolError(f"{self.where} does not offer STARTTLS")
            try:
                self._wire.starttls(ctx)
            except (imaplib.IMAP4.error, OSError) as exc:
                raise translate(exc if isinstance(exc, OSError) else OSError(str(exc)),
                                self.host, self.port) from exc
            self.log("*", f"TLS {self._wire.sock.version()} after STARTTLS")

    @property
    def capabilities(self) -> tuple[str, ...]:
        return tuple(self._wire.capabilities) if self._wire else ()

    def has(self, capability: str) -> bool:
        return capability.upper() in (c.upper() for c in self.capabilities)

    @_guard
    def login(self, user: str, password: str) -> None:
        """LOGIN; a refusal raises AuthError (ProtocolError where no password could help)."""
        if password:
            self._secrets.append(password)
        if self.has("LOGINDISABLED"):
            raise ProtocolError(f"{self.where} does not allow a password login on an unencrypted "
                                "connection: use TLS or STARTTLS")
        try:
            self._wire.login(user, password)
        except imaplib.IMAP4.abort:
            raise
        except imaplib.IMAP4.error as exc:
            raise AuthError(f"{self.where} refused the user name or password ({_clean(exc)})",
                            detail=str(exc)) from exc
        # Servers may send new capabilities after login
        try:
            typ, data = self._wire.capability()
            if typ == "OK" and data and data[-1]:
                self._wire.capabilities = tuple(data[-1].decode("ascii", "replace").upper().split())
        except imaplib.IMAP4.error:
            pass

    @_guard
    def authenticate_oauth(self, user: str, access_token: str, mechanism: str | None = None) -> str:
        """AUTHENTICATE with an OAuth2 access token: OAUTHBEARER or XOAUTH2, whichever the
        server offers (``mechanism`` forces one). Returns the mechanism used. A refused token
        raises TokenRejected (refresh it and try once more)."""
        if self.security == "none":
            raise ProtocolError(f"netgui sends sign-in tokens only over TLS; {self.where} is "
                                "not encrypted")
        offered = [c[5:] for c in self.capabilities if c.upper().startswith("AUTH=")]
        chosen = sasl.choose(offered, mechanism)
        if chosen is None:
            raise ProtocolError(f"{self.where} does not offer OAuth2 sign-in "
                                f"(it offers {' '.join(offered) or 'no SASL mechanism'})")
        response = sasl.initial_response(chosen, user, access_token, self.host, self.port)
        self._secrets.extend([access_token, base64.b64encode(response).decode()])
        answers = []

        def step(challenge: bytes) -> bytes:
            answers.append(challenge)
            self._wire.masking = True  # the answer goes out next
            # the first "+" carries nothing; a later one is the server's JSON error
            return response if len(answers) == 1 else sasl.ABORT_REPLY[chosen]

        try:
            self._wire.authenticate(chosen, step)
        except imaplib.IMAP4.abort:
            raise
        except imaplib.IMAP4.error as exc:
            why = sasl.describe_failure(answers[-1] if len(answers) > 1 else None)
            raise TokenRejected(f"{self.where} refused the sign-in for {user}"
                                + (f": {why}" if why else f" ({_clean(exc)})"),
                                detail=str(exc)) from exc
        finally:
            self._wire.masking = False
        self.log("*", f"Signed in as {user} with {chosen}")
        try:  # servers may send new capabilities after authentication
            typ, data = self._wire.capability()
            if typ == "OK" and data and data[-1]:
                self._wire.capabilities = tuple(data[-1].decode("ascii", "replace").upper().split())
        except imaplib.IMAP4.error:
            pass
        return chosen

    def _goodbye(self, imap: _Wire) -> None:
        imap.sock.settimeout(3)
        imap.logout()

    def _hang_up(self, imap: _Wire) -> None:
        imap.shutdown()

    def _check(self, typ, data, what: str):
        if typ != "OK":
            detail = b" ".join(d for d in data if isinstance(d, bytes)).decode("utf-8", "replace")
            raise ProtocolError(f"{self.where} refused {what}: {detail[:200]}", detail=detail)
        return data

    # -- folders ------------------------------------------------------------
    @_guard
    def list_folders(self) -> list[Folder]:
        """All folders with their special kinds (from SPECIAL-USE flags, else from names)."""
        typ, data = self._wire.list()
        self._check(typ, data, "LIST")
        folders = []
        items = iter(data)
        for item in items:
            if item is None:
                continue
            if isinstance(item, tuple):  # name sent as a literal
                prefix, literal = item
                line = prefix
                name_raw = literal
            else:
                line = item
                name_raw = None
            match = _LIST_RE.match(line)
            if not match:
                continue
            flags = tuple(match.group("flags").decode("ascii", "replace").split())
            delim = match.group("delim")
            delimiter = None if delim.upper() == b"NIL" else _unquote(delim).decode("ascii", "replace")
            if name_raw is None:
                name_raw = _unquote(match.group("name"))
            raw = name_raw.decode("utf-8" if self._wire.utf8_enabled else "ascii", "replace")
            name = decode_folder_name(raw)
            folders.append(Folder(name, raw, delimiter, flags, classify_folder(name, delimiter, flags)))
        # One folder per special kind: flags beat names
        seen: dict[str, Folder] = {}
        for f in sorted(folders, key=lambda f: not any(fl.lower() in SPECIAL_FLAGS for fl in f.flags)):
            if f.special and f.special in seen and f.special != "inbox":
                f.special = None
            elif f.special:
                seen[f.special] = f
        self._folders = folders
        return folders

    def special_folder(self, kind: str) -> str | None:
        """The server's name for "sent", "drafts", "trash", "junk" (or "archive"), or None."""
        if self._folders is None:
            self.list_folders()
        for f in self._folders or []:
            if f.special == kind:
                return f.name
        return None

    def _raw_name(self, folder: str) -> str:
        if folder.upper() == "INBOX":
            return "INBOX"
        return quote(encode_folder_name(folder))

    @_guard
    def create_folder(self, folder: str) -> None:
        typ, data = self._wire.create(self._raw_name(folder))
        self._check(typ, data, f"to create {folder}")
        self._folders = None

    @_guard
    def delete_folder(self, folder: str) -> None:
        typ, data = self._wire.delete(self._raw_name(folder))
        self._check(typ, data, f"to delete {folder}")
        self._folders = None

    @_guard
    def select(self, folder: str = "INBOX", readonly: bool = False) -> FolderState:
        """SELECT (or EXAMINE when ``readonly``) and return UIDVALIDITY, EXISTS, UIDNEXT."""
        imap = self._wire
        typ, data = imap.select(self._raw_name(folder), readonly)
        self._check(typ, data, f"to open {folder}")
        exists = int(data[0]) if data and data[0] else 0
        uidvalidity = _first_int(imap.untagged_responses.get("UIDVALIDITY"))
        uidnext = _first_int(imap.untagged_responses.get("UIDNEXT"))
        if uidvalidity is None:
            typ, data = imap.status(self._raw_name(folder), "(UIDVALIDITY UIDNEXT)")
            text = data[0] if data and isinstance(data[0], bytes) else b""
            m = re.search(rb"UIDVALIDITY (\d+)", text)
            uidvalidity = int(m.group(1)) if m else 0
            m = re.search(rb"UIDNEXT (\d+)", text)
            uidnext = int(m.group(1)) if m else uidnext
        self.selected = FolderState(folder, uidvalidity or 0, exists, uidnext, readonly)
        return self.selected

    def _need_selected(self, folder: str | None):
        if folder is not None and (self.selected is None or self.selected.name != folder):
            self.select(folder)
        if self.selected is None:
            raise ProtocolError("No folder is open")

    # -- fetching -----------------------------------------------------------
    @_guard
    def uids(self, folder: str | None = None) -> list[int]:
        """Every UID in the folder (UID SEARCH ALL), ascending."""
        self._need_selected(folder)
        typ, data = self._wire.uid("SEARCH", "ALL")
        self._check(typ, data, "SEARCH")
        return sorted(int(x) for x in b" ".join(d for d in data if d).split())

    @_guard
    def fetch_headers(self, spec: str, *, by_uid: bool = True) -> list[FetchedHeaders]:
        """Header fields, FLAGS and RFC822.SIZE for a UID set (or a sequence set)."""
        items = self._list_items()
        imap = self._wire
        imap.quiet, imap.quiet_count = True, 0
        try:
            if by_uid:
                typ, data = imap.uid("FETCH", spec, items)
            else:
                typ, data = imap.fetch(spec, items)
        finally:
            imap.quiet = False
        self.log("<", f"({imap.quiet_count} FETCH responses)")
        self._check(typ, data, "FETCH")
        return parse_fetch(data)

    def _list_items(self) -> str:
        return "(UID FLAGS RFC822.SIZE BODY.PEEK[HEADER.FIELDS (" + " ".join(HEADER_FIELDS) + ")])"

    def _fetch_stream(self, commands: Sequence[str], list_shape: bool = False
                      ) -> Iterator[list[FetchedHeaders] | int]:
        """Run FETCH ``commands`` (without tags), yielding the records read from each chunk of
        the answer as a list, and the number of commands completed so far as each completes.

        imaplib reads a line at a time and only returns once a command is done, about 10 µs
        of Python per message while the client could work; here big reads are split by
        ``ResponseReader`` (``list_shape``: the usual list FETCH answer is matched whole, and
        FETCH responses without a header, such as another session's flag change, are left
        out). Only the first command is sent at once, the others (pipelined) once it
        completes: servers may answer pipelined commands interleaved (Dovecot does), which
        would hold the first answer back. A refusal raises once all are done; a failure
        midway leaves the connection marked broken.
        """
        imap = self._wire
        tags = [b"ng%d" % next(_STREAM_TAGS) for _ in commands]
        wire = [tag + b" " + command.encode("ascii") + b"\r\n" for tag, command in zip(tags, commands)]
        imap.send(wire[0])
        reader = ResponseReader(self.where)
        quick = _LIST_FETCH_RE if list_shape else None
        completed = count = 0
        refusals: list[str] = []
        try:
            while completed < len(tags):
                self.token.check()
                data = imap.file.read1(1 << 18)
                if not data:
                    raise imaplib.IMAP4.abort("the server closed the connection")
                reader.feed(data)
                found: list[FetchedHeaders] = []
                for text, literals in reader.responses(quick):
                    if not isinstance(text, bytes):  # the list shape: its groups and the literal
                        number, uid, flags, size, _ = text
                        found.append(FetchedHeaders(int(uid), _flag_tuple(flags), int(size),
                                                    literals, int(number)))
                    elif fetch := _FETCH_RE.match(text):
                        record = fetch_record(text, literals[0] if literals else b"",
                                              int(fetch.group(1)))
                        if record is not None and (literals or not list_shape):
                            found.append(record)
                    elif self._stream_status(text, tags, refusals):
                        if not completed:
                            for command in wire[1:]:
                                imap.send(command)
                        count += len(found)
                        completed += 1
                        yield found
                        found = []
                        yield completed
                if found:
                    count += len(found)
                    yield found
            self.log("<", f"({count} FETCH records)")
        finally:
            if completed < len(tags) or reader.pending:
                self._broken = True  # responses left unread: this connection is out of step
        if refusals:
            raise imaplib.IMAP4.error(f"FETCH: {refusals[0]}")

    def _stream_status(self, line: bytes, tags: list[bytes], refused_to: list[str]) -> bool:
        """Log a response that is not a FETCH; True if it completes one of ``tags`` (a
        refusal's text goes to ``refused_to``)."""
        self._wire._emit("<", line)
        tag, _, status = line.partition(b" ")
        if tag not in tags:
            return False  # EXISTS, EXPUNGE, an alert: nothing the list needs
        if not status.upper().startswith(b"OK"):
            refused_to.append(status.decode("utf-8", "replace"))
        return True

    @_guard
    def stream_headers(self, ranges: Sequence[tuple[int, int]], *,
                       batch: int = 500) -> Iterator[list[FetchedHeaders]]:
        """The list fields for message number ranges ``(low, high)``, in batches while the
        server is still sending: the first range's records as one batch once its FETCH
        completes (a first screen at once), then the others ``batch`` at a time, so the
        caller's work on one batch overlaps the server sending the next.
        """
        first_low, first_high = ranges[0]
        first: list[FetchedHeaders] = []
        rest: list[FetchedHeaders] = []
        first_done = False
        commands = [f"FETCH {low}:{high} {self._list_items()}" for low, high in ranges]
        for item in self._fetch_stream(commands, list_shape=True):
            if isinstance(item, int):
                if not first_done:
                    first_done = True
                    if first:
                        self.token.check()
                        first.sort(key=lambda r: -r.uid)
                        yield first
                continue
            if first_done:  # the others are only asked for once the first is done
                rest += item
            else:
                for record in item:
                    (first if first_low <= record.seq <= first_high else rest).append(record)
            if first_done and len(rest) >= batch:
                self.token.check()
                yield rest
                rest = []
        if rest:
            self.token.check()
            yield rest

    def iter_header_batches(self, state: FolderState, first: int = 100, batch: int = 500,
                            min_uid: int = 0) -> Iterator[list[FetchedHeaders]]:
        """All messages, the newest ``first`` as the first batch (so rows appear at once),
        the rest streamed ``batch`` at a time while they arrive.

        With ``min_uid`` only messages whose UID is at least that are fetched (new mail).
        """
        if min_uid:
            rows = [r for r in self.fetch_headers(f"{min_uid}:*") if r.uid >= min_uid]
            rows.sort(key=lambda r: -r.uid)
            for i in range(0, len(rows), batch):
                yield rows[i:i + batch]
            return
        top = state.exists
        if top < 1:
            return
        low = max(1, top - first + 1)
        yield from self.stream_headers([(low, top)] + ([(1, low - 1)] if low > 1 else []),
                                       batch=batch)

    @_guard
    def fetch_flags(self, spec: str = "1:*") -> dict[int, tuple[str, ...]]:
        """FLAGS for a UID set: {uid: flags}. UIDs missing from the answer are gone."""
        return {r.uid: r.flags for found in self._fetch_stream([f"UID FETCH {spec} (UID FLAGS)"])
                if not isinstance(found, int) for r in found}

    @_guard
    def fetch_message(self, uid: int, folder: str | None = None, mark_seen: bool = True) -> bytes:
        """The whole message (RFC 822 bytes). ``mark_seen`` False uses BODY.PEEK."""
        self._need_selected(folder)
        item = "BODY[]" if mark_seen and not self.selected.readonly else "BODY.PEEK[]"
        typ, data = self._wire.uid("FETCH", str(int(uid)), f"(UID {item})")
        self._check(typ, data, "FETCH")
        for part in data:
            if isinstance(part, tuple) and len(part) == 2:
                return part[1]
        raise ProtocolError(f"Message {uid} is no longer on {self.where}")

    # -- changing -----------------------------------------------------------
    @_guard
    def store_flags(self, uids: Iterable[int], flags: Sequence[str], add: bool = True) -> None:
        """Add (or remove) flags such as \\Seen, \\Flagged, \\Deleted."""
        spec = uid_set(uids)
        if not spec:
            return
        typ, data = self._wire.uid("STORE", spec, "+FLAGS.SILENT" if add else "-FLAGS.SILENT",
                                   "(" + " ".join(flags) + ")")
        self._check(typ, data, "to change flags")

    @_guard
    def expunge_uids(self, uids: Iterable[int]) -> None:
        """Remove messages flagged \\Deleted (only these UIDs where UIDPLUS allows)."""
        spec = uid_set(uids)
        if self.has("UIDPLUS") and spec:
            typ, data = self._wire.uid("EXPUNGE", spec)
        else:
            typ, data = self._wire.expunge()
        self._check(typ, data, "EXPUNGE")

    @_guard
    def move(self, uids: Iterable[int], target: str, use_move: bool | None = None) -> None:
        """Move messages to ``target`` (MOVE, or COPY + \\Deleted + EXPUNGE where MOVE is missing)."""
        uids = list(uids)
        spec = uid_set(uids)
        if not spec:
            return
        if use_move is None:
            use_move = self.has("MOVE")
        if use_move:
            typ, data = self._wire.uid("MOVE", spec, self._raw_name(target))
            self._check(typ, data, f"to move to {target}")
            return
        typ, data = self._wire.uid("COPY", spec, self._raw_name(target))
        self._check(typ, data, f"to copy to {target}")
        self.store_flags(uids, ["\\Deleted"])
        self.expunge_uids(uids)

    def delete(self, uids: Iterable[int], folder: str | None = None) -> str | None:
        """Move to Trash; inside Trash (or without one) delete for good. Returns the target or None."""
        uids = list(uids)
        self._need_selected(folder)
        trash = self.special_folder("trash")
        if trash and trash != self.selected.name:
            self.move(uids, trash)
            return trash
        self.store_flags(uids, ["\\Deleted"])
        self.expunge_uids(uids)
        return None

    @_guard
    def append(self, folder: str, data_bytes: bytes, flags: Sequence[str] = ("\\Seen",),
               date=None) -> None:
        """APPEND a message to ``folder`` (e.g. a sent mail to Sent, a draft to Drafts)."""
        flag_text = "(" + " ".join(flags) + ")" if flags else None
        when = imaplib.Time2Internaldate(date) if date is not None else None
        data_bytes = re.sub(rb"\r?\n", b"\r\n", data_bytes)
        typ, data = self._wire.append(self._raw_name(folder), flag_text, when, data_bytes)
        self._check(typ, data, f"to store the message in {folder}")

    # -- search -------------------------------------------------------------
    @_guard
    def search(self, text: str, fields: Sequence[str] = ("FROM", "SUBJECT", "BODY"),
               folder: str | None = None) -> list[int]:
        """UIDs of messages whose fields contain ``text`` (server-side SEARCH), ascending."""
        self._need_selected(folder)
        found: set[int] = set()
        encoded = text.encode("utf-8")
        for name in fields:
            self.token.check()
            if text.isascii() and "\r" not in text and "\n" not in text:
                typ, data = self._wire.uid("SEARCH", "CHARSET", "UTF-8", name.upper(), quote(text))
            else:
                self._wire.literal = encoded
                typ, data = self._wire.uid("SEARCH", "CHARSET", "UTF-8", name.upper())
            self._check(typ, data, "SEARCH")
            found.update(int(x) for x in b" ".join(d for d in data if d).split())
        return sorted(found)

    # -- waiting for new mail -------------------------------------------------
    @_guard
    def noop(self) -> list[str]:
        """NOOP: returns the untagged news (e.g. "EXISTS") the server had for us."""
        imap = self._wire
        typ, data = imap.noop()
        news = [k for k in ("EXISTS", "RECENT", "EXPUNGE", "FETCH") if k in imap.untagged_responses]
        for k in news:
            imap.untagged_responses.pop(k, None)
        return news

    @_guard
    def idle(self, seconds: float) -> list[str]:
        """IDLE for up to ``seconds``; returns the untagged news (empty when nothing happened)."""
        imap = self._wire
        if not self.has("IDLE"):
            raise ProtocolError(f"{self.where} does not offer IDLE")
        tag = imap._new_tag()
        del imap.tagged_commands[tag]
        imap.send(tag + b" IDLE\r\n")
        line = imap._get_line()
        if not line.startswith(b"+"):
            raise ProtocolError(f"{self.where} refused IDLE: {line.decode('utf-8', 'replace')}")
        done_lock = threading.Lock()
        done = [False]

        def send_done():
            with done_lock:
                if not done[0]:
                    done[0] = True
                    try:
                        imap.send(b"DONE\r\n")
                    except OSError:
                        pass

        timer = threading.Timer(seconds, send_done)
        timer.daemon = True
        old_timeout = imap.sock.gettimeout()
        imap.sock.settimeout(seconds + self.timeout)
        news: list[str] = []
        timer.start()
        try:
            while True:
                line = imap._get_line()
                if line.startswith(tag + b" "):
                    break
                parts = line.split()
                if line.startswith(b"* ") and len(parts) >= 3:
                    kind = parts[2].decode("ascii", "replace").upper()
                    if kind in ("EXISTS", "RECENT", "EXPUNGE", "FETCH"):
                        news.append(kind)
                        send_done()
                elif line.startswith(b"* BYE"):
                    raise ConnectionLost(f"{self.where} closed the connection")
        finally:
            timer.cancel()
            try:
                imap.sock.settimeout(old_timeout)
            except OSError:
                pass
        return news


def _first_int(values) -> int | None:
    if not values:
        return None
    try:
        return int(values[-1])
    except (TypeError, ValueError):
        return None


def fetch_record(text: bytes, literal: bytes, seq: int | None) -> FetchedHeaders | None:
    """A FETCH response's UID, FLAGS and size (from ``text``) with its header literal."""
    uid = _UID_RE.search(text)
    if not uid:
        return None
    flags = _FLAGS_RE.search(text)
    size = _SIZE_RE.search(text)
    return FetchedHeaders(int(uid.group(1)), _flag_tuple(flags.group(1)) if flags else (),
                          int(size.group(1)) if size else 0, literal, seq)


@functools.lru_cache(maxsize=256)  # a folder has a few combinations of flags, many times over
def _flag_tuple(raw: bytes) -> tuple[str, ...]:
    """IMAP flags as text, without \\Recent (which belongs to one session only)."""
    return tuple(f for f in raw.decode("ascii", "replace").split() if f.lower() != "\\recent")


def parse_fetch(data) -> list[FetchedHeaders]:
    """Turn imaplib's FETCH answer into records: UID, FLAGS, size and the header literal."""
    rows: list[FetchedHeaders] = []
    text_parts: list[bytes] = []
    literal = b""

    def finish():
        if not text_parts:
            return
        text = b" ".join(text_parts)
        seq = text.split(b" ", 1)[0]
        record = fetch_record(text, literal, int(seq) if seq.isdigit() else None)
        if record is not None:
            rows.append(record)

    for item in data:
        if item is None:
            continue
        if isinstance(item, tuple):
            finish()
            text_parts = [item[0]]
            literal = item[1]
        elif item == b")":
            continue
        elif re.match(rb"\d+ \(", item):
            finish()
            text_parts = [item]
            literal = b""
        else:
            text_parts.append(item)
    finish()
    return rows
