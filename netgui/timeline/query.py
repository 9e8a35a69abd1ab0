"""The timeline's search language: free text and ``key:value`` filters.

``proto:ftp host:files.example "550"`` finds FTP (and FTPS) lines with hosts containing
``files.example`` whose text contains ``550``; ``proto:imap dir:in`` finds what IMAP servers
sent; ``after:10:00`` what happened since ten today. Words are ANDed; the same key given
twice is ORed (``proto:ftp proto:sftp``). Text matching ignores case and finds any part of a
word. A word that is not understood as a filter is searched as text.

Keys: ``proto`` (a prefix: ``ftp`` matches ``ftps`` too), ``host`` (a part of the host
name), ``dir`` (``in``, ``out``, ``info``, ``error`` or ``<``, ``>``, ``*``, ``!``), ``tab``,
``conn``, ``item``, ``after`` and ``before`` (``10:00``, ``10:00:30``, ``2024-05-01``,
``2024-05-01T10:00``, ``today``, ``yesterday``, or an age such as ``15m``, ``2h``, ``3d``).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

DIRECTIONS = {"in": "<", "received": "<", "<": "<", "out": ">", "sent": ">", ">": ">",
              "info": "*", "*": "*", "error": "!", "err": "!", "!": "!"}
KEYS = ("proto", "host", "dir", "tab", "conn", "item", "after", "before")
_TOKEN = re.compile(r'(?:(\w+):)?(?:"((?:[^"]|"")*)"?|(\S+))')
_AGE = re.compile(r"^(\d+(?:\.\d+)?)([smhd])$")
_AGE_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass
class Query:
    """A parsed search: every list is "any of", the lists together are "all of"."""

    terms: list[str] = field(default_factory=list)
    protos: list[str] = field(default_factory=list)
    hosts: list[str] = field(default_factory=list)
    dirs: list[str] = field(default_factory=list)
    tabs: list[str] = field(default_factory=list)
    conns: list[str] = field(default_factory=list)
    items: list[str] = field(default_factory=list)
    after: float | None = None
    before: float | None = None
    problems: list[str] = field(default_factory=list)
    """Words that looked like filters but could not be read (``after:25:00``)."""

    @property
    def empty(self) -> bool:
        return not (self.terms or self.protos or self.hosts or self.dirs or self.tabs
                    or self.conns or self.items or self.after is not None or self.before is not None)

    def matches(self, event) -> bool:
        """Whether ``event`` (anything with the Event attributes) is found by this search:
        the same rules as the store's SQL, for events that arrive while a search is shown."""
        if self.protos and not any(event.proto.startswith(p) for p in self.protos):
            return False
        if self.hosts and not any(h in event.host.lower() for h in self.hosts):
            return False
        if self.dirs and event.dir not in self.dirs:
            return False
        if self.tabs and event.tab not in self.tabs:
            return False
        if self.conns and event.conn not in self.conns:
            return False
        if self.items and event.item not in self.items:
            return False
        if self.after is not None and event.t < self.after:
            return False
        if self.before is not None and event.t >= self.before:
            return False
        text = event.text.lower()
        return all(term in text for term in self.terms)


def parse_query(text: str, now: float | None = None) -> Query:
    """Read a search box's text (never raises: what cannot be read is in ``problems``)."""
    now = time.time() if now is None else now
    query = Query()
    for match in _TOKEN.finditer(text or ""):
        key, quoted, bare = match.group(1), match.group(2), match.group(3)
        value = quoted.replace('""', '"') if quoted is not None else bare
        if key is not None and key.lower() not in KEYS:
            # "Content-Type:" or "http://x": not a filter, the whole word is text
            value = match.group(0).strip('"') if quoted is None else f"{key}:{value}"
            key = None
        if key is None:
            if value.endswith(":") and value[:-1].lower() in KEYS:
                query.problems.append(f"{value.lower()} needs a value")
            elif value:
                query.terms.append(value.lower())
            continue
        key = key.lower()
        if not value:
            query.problems.append(f"{key}: needs a value")
            continue
        if key == "proto":
            query.protos.append(value.lower())
        elif key == "host":
            query.hosts.append(value.lower().rstrip("."))
        elif key == "dir":
            direction = DIRECTIONS.get(value.lower())
            if direction is None:
                query.problems.append(f"dir:{value} is not in, out, info or error")
            elif direction not in query.dirs:
                query.dirs.append(direction)
        elif key == "tab":
            query.tabs.append(value.lower())
        elif key == "conn":
            query.conns.append(value)
        elif key == "item":
            query.items.append(value)
        else:  # after, before
            moment = parse_time(value, now)
            if moment is None:
                query.problems.append(f"{key}:{value} is not a time (10:00, 2024-05-01, 2h …)")
            elif key == "after":
                query.after = moment if query.after is None else max(query.after, moment)
            else:
                query.before = moment if query.before is None else min(query.before, moment)
    return query


def parse_time(value: str, now: float) -> float | None:
    """A moment (seconds since the epoch) from a time of day (today's, or yesterday's when
    today's is still to come), a date, a date and time, or an age like ``2h``."""
    value = value.strip().lower()
    current = datetime.fromtimestamp(now)
    age = _AGE.match(value)
    if age:
        return now - float(age.group(1)) * _AGE_UNITS[age.group(2)]
    if value in ("today", "yesterday"):
        day = current.replace(hour=0, minute=0, second=0, microsecond=0)
        return (day - timedelta(days=1 if value == "yesterday" else 0)).timestamp()
    for fmt in ("%H:%M", "%H:%M:%S"):
        try:
            clock = datetime.strptime(value, fmt).time()
        except ValueError:
            continue
        moment = datetime.combine(current.date(), clock)
        if moment > current:
            moment -= timedelta(days=1)
        return moment.timestamp()
    for fmt in ("%Y-%m-%d", "%Y-%m-%dt%H:%M", "%Y-%m-%dt%H:%M:%S"):
        try:
            return datetime.strptime(value, fmt).timestamp()
        except ValueError:
            continue
    return None
