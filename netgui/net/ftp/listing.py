"""Remote directory entries: MLSD facts and LIST lines (Unix and DOS styles) as ``RemoteEntry``.

LIST output has no standard; ftputil's well-kept parsers read the Unix (``ls -l``) and
Microsoft (``01-15-20  10:20AM  <DIR>  name``) styles. MLSD (RFC 3659) is parsed here:
its grammar is three lines of RFC text.
"""

from __future__ import annotations

import calendar
import functools
import stat
import time
import unicodedata
import warnings
from dataclasses import dataclass
from datetime import datetime

with warnings.catch_warnings():  # ftputil warns about a future default we do not use
    warnings.simplefilter("ignore")
    import ftputil.error
    import ftputil.stat

DIR, FILE, LINK = "dir", "file", "link"


@dataclass
class RemoteEntry:
    """One name in a remote folder."""

    name: str
    kind: str = FILE            # "dir", "file" or "link"
    size: int | None = None
    modified: float | None = None   # POSIX timestamp (UTC), None when unknown
    perms: str = ""             # "drwxr-xr-x" style where known, else the server's perm facts
    target: str | None = None   # a link's target, where the listing says

    @property
    def is_dir(self) -> bool:
        return self.kind == DIR

    def modified_text(self) -> str:
        """The modification time as ``YYYY-MM-DD HH:MM`` (local time), or ''."""
        if self.modified is None:
            return ""
        try:
            return datetime.fromtimestamp(self.modified).strftime("%Y-%m-%d %H:%M")
        except (OverflowError, OSError, ValueError):
            return ""


def parse_mlsd_line(line: str) -> RemoteEntry | None:
    """One MLSD line (``fact=value;fact=value; name``) as an entry; None for ``.``/``..``/junk."""
    facts_text, sep, name = line.partition(" ")
    if not sep or not name or "=" not in facts_text:
        return None
    facts: dict[str, str] = {}
    for fact in facts_text.split(";"):
        key, eq, value = fact.partition("=")
        if eq:
            facts[key.strip().lower()] = value
    kind_fact = facts.get("type", "").lower()
    if kind_fact in ("cdir", "pdir") or name in (".", ".."):
        return None
    if kind_fact == "dir":
        kind = DIR
    elif "symlink" in kind_fact or kind_fact.startswith("os.unix=slink"):
        kind = LINK
    else:
        kind = FILE
    size = _int(facts.get("size") or facts.get("sizd"))
    modified = _mlsd_time(facts.get("modify"))
    mode = facts.get("unix.mode")
    perms = _filemode(kind, mode) if mode else ""
    if not perms:
        perms = facts.get("perm", "")
    return RemoteEntry(name=name, kind=kind, size=size if kind != DIR else None,
                       modified=modified, perms=perms)


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def _mlsd_time(text: str | None) -> float | None:
    # YYYYMMDDHHMMSS[.sss] in UTC; read by slicing (strptime is ten times slower, and a
    # 10,000-entry listing has 10,000 of these)
    if not text or len(text) < 14 or not text[:14].isdigit():
        return None
    month, day = int(text[4:6]), int(text[6:8])
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    return float(calendar.timegm((int(text[0:4]), month, day, int(text[8:10]), int(text[10:12]),
                                  int(text[12:14]), 0, 0, 0)))


@functools.lru_cache(maxsize=256)
def _filemode(kind: str, mode: str) -> str:
    try:
        bits = int(mode, 8)
    except ValueError:
        return ""
    type_bits = {DIR: stat.S_IFDIR, LINK: stat.S_IFLNK}.get(kind, stat.S_IFREG)
    return stat.filemode(type_bits | (bits & 0o7777))


_UNIX = ftputil.stat.UnixParser()
_DOS = ftputil.stat.MSParser()


def parse_list_line(line: str) -> RemoteEntry | None:
    """One LIST line (Unix or DOS style) as an entry; None for ``total``, ``.``/``..`` and junk."""
    if not line.strip() or line.lower().startswith("total "):
        return None
    for parser in ((_DOS, _UNIX) if line[:1].isdigit() else (_UNIX, _DOS)):
        try:
            result = parser.parse_line(line)
        except (ftputil.error.ParserError, ValueError, IndexError, OverflowError):
            continue
        name = result._st_name
        if not name or name in (".", ".."):
            return None
        mode = result.st_mode or 0
        if stat.S_ISDIR(mode):
            kind = DIR
        elif stat.S_ISLNK(mode):
            kind = LINK
        else:
            kind = FILE
        perms = line.split(None, 1)[0] if parser is _UNIX else ""
        return RemoteEntry(name=name, kind=kind,
                           size=result.st_size if kind != DIR else None,
                           modified=result.st_mtime, perms=perms, target=result._st_target)
    return None


def parse_listing(lines, mlsd: bool) -> tuple[list[RemoteEntry], list[str]]:
    """Parse a whole listing; returns (entries, lines that could not be read)."""
    parse = parse_mlsd_line if mlsd else parse_list_line
    entries, bad = [], []
    for n, line in enumerate(lines):
        if n % 256 == 255:
            time.sleep(0)   # let the GUI thread have the GIL: long listings must not stall it
        entry = parse(line)
        if entry is not None:
            entries.append(entry)
        elif line.strip() and not line.lower().startswith("total ") and not _is_dot(line, mlsd):
            bad.append(line)
    return entries, bad


def _is_dot(line: str, mlsd: bool) -> bool:
    if mlsd:
        name = line.partition(" ")[2]
        return name in (".", "..") or "type=cdir" in line.lower() or "type=pdir" in line.lower()
    return line.rstrip().endswith((" .", " .."))


def display_name(name: str) -> str:
    """A name made safe to show (undecodable bytes and control characters become visible)."""
    if name.isprintable():
        return name
    if any(0xDC80 <= ord(c) <= 0xDCFF for c in name):
        name = name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return "".join(c if unicodedata.category(c)[0] != "C" else "\N{REPLACEMENT CHARACTER}"
                   for c in name)


def sort_key(column: str):
    """A key function for sorting entries by a column, folders first."""
    def key(entry: RemoteEntry):
        folder_first = 0 if entry.kind == DIR else 1
        if column == "size":
            value = entry.size or 0
        elif column == "modified":
            value = entry.modified or 0.0
        elif column == "perms":
            value = entry.perms
        else:
            value = entry.name.casefold()
        return (folder_first, value, entry.name)
    return key
