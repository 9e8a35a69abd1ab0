"""The timeline store: every tab's wire events in one SQLite file, bounded by size and age.

``add()`` is cheap and never blocks on the disk: it queues the event and tells in-process
listeners (the Timeline window's live list). One writer thread takes batches off the queue
and commits each batch in one transaction, deletes events older than the age limit and,
when the file's used pages exceed the size limit, the oldest tenth. Searches open their own
read-only connection (WAL mode: readers never wait for the writer), so any worker thread
can search while the writer writes.

Text is found with FTS5 trigram indexes (any part of a word, case ignored; terms shorter
than three characters are checked on the rows another index finds), one contentless index
per 50,000 events so that the oldest text goes by dropping a table; protocol, direction,
host, tab, item and connection have B-tree indexes; time bounds become id bounds.
"""

from __future__ import annotations

import heapq
import json
import os
import queue
import sqlite3
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Iterable

from netgui.net.redact import redact

from .query import Query, parse_query

DEFAULT_MAX_MB = 200
DEFAULT_MAX_DAYS = 30
MAX_TEXT = 64 * 1024
"""Longest text kept for one event (a huge listing or body dump is cut, with a note)."""
BATCH_SECONDS = 0.25
PRUNE_SECONDS = 10.0
PART_SIZE = 50_000
"""Events per text index: each partition of the events (by id) has its own FTS5 table, so
the oldest text leaves by dropping a table, not by deletes that FTS5 keeps as tombstones."""
SEARCH_LIMIT = 2000
SCHEMA_VERSION = 2
MMAP_BYTES = 1 << 30

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events(
    id INTEGER PRIMARY KEY,
    t REAL NOT NULL,
    proto TEXT NOT NULL,
    conn TEXT NOT NULL,
    host TEXT NOT NULL,
    port INTEGER,
    dir TEXT NOT NULL,
    text TEXT NOT NULL,
    tab TEXT NOT NULL,
    item TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_proto_dir ON events(proto, dir);
CREATE INDEX IF NOT EXISTS events_host_proto ON events(host, proto);
CREATE INDEX IF NOT EXISTS events_tab_item ON events(tab, item);
CREATE INDEX IF NOT EXISTS events_tab ON events(tab);
CREATE INDEX IF NOT EXISTS events_dir ON events(dir);
CREATE INDEX IF NOT EXISTS events_conn ON events(conn);
CREATE TABLE IF NOT EXISTS names(kind TEXT, name TEXT, PRIMARY KEY(kind, name)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS parts(n INTEGER PRIMARY KEY, first_id INTEGER, last_id INTEGER);
"""
_ID_RANGE = "SELECT (SELECT min(id) FROM events), (SELECT max(id) FROM events)"
_COLUMNS = "id, t, proto, conn, host, port, dir, text, tab, item"


def _storable(text: str) -> str:
    """``text`` as SQLite can store it: bytes a server's encoding could not decode arrive as
    lone surrogates (surrogateescape) and are kept as ``\\udcXX`` escapes."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


@dataclass(frozen=True)
class Origin:
    """What a wire event belongs to: the tab, the item in it (a conversation, transfer,
    request or account: the tab's own key, ``reveal``-able), the protocol (a URL scheme:
    ``imaps``, ``ftp``, ``https``, ``ircs``, ``getfile`` …), host and port, and a connection
    name. ``secrets`` (never stored) are masked like the transcript pane's."""

    tab: str
    item: str = ""
    protocol: str = ""
    host: str = ""
    port: int | None = None
    connection: str = ""
    secrets: tuple[str, ...] = ()

    def target(self) -> str:
        """What the connection doctor is given for this connection (``proto://host:port``)."""
        return target_text(self.protocol, self.host, self.port)


def target_text(protocol: str, host: str, port: int | None) -> str:
    if not host:
        return ""
    where = f"[{host}]" if ":" in host else host
    if port:
        where += f":{port}"
    return f"{protocol}://{where}" if protocol else where


@dataclass(slots=True)
class Event:
    """One stored wire event (``dir``: '>' sent, '<' received, '*' info, '!' error)."""

    t: float
    proto: str
    conn: str
    host: str
    port: int | None
    dir: str
    text: str
    tab: str
    item: str
    id: int | None = None

    def target(self) -> str:
        return target_text(self.proto, self.host, self.port)

    def to_dict(self) -> dict:
        out = asdict(self)
        out["time"] = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(self.t)) + \
            f".{int(self.t * 1000) % 1000:03d}"
        return out

    def to_line(self) -> str:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.t)) + f".{int(self.t * 1000) % 1000:03d}"
        where = self.host + (f":{self.port}" if self.port else "")
        head = f"{stamp} {self.proto or '-'} {where or '-'} {self.dir}"
        return "\n".join(f"{head} {line}" for line in self.text.split("\n"))


def events_to_text(events: Iterable[Event]) -> str:
    return "".join(e.to_line() + "\n" for e in events)


def events_to_json(events: Iterable[Event]) -> str:
    return json.dumps([e.to_dict() for e in events], indent=1, ensure_ascii=False) + "\n"


def _row(row) -> Event:
    id_, t, proto, conn, host, port, direction, text, tab, item = row
    return Event(t, proto, conn, host, port, direction, text, tab, item, id_)


def _connect(path: Path, readonly: bool = False) -> sqlite3.Connection:
    if readonly:
        conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=5,
                               check_same_thread=False)
    else:
        conn = sqlite3.connect(str(path), timeout=5, check_same_thread=False)
    conn.execute("PRAGMA busy_timeout=5000")
    conn.execute(f"PRAGMA mmap_size={MMAP_BYTES}")  # page reads without a system call each
    return conn


class TimelineStore:
    """The timeline file and its writer thread; ``search`` from any thread."""

    def __init__(self, path: Path, max_bytes: int = DEFAULT_MAX_MB << 20,
                 max_age: float = DEFAULT_MAX_DAYS * 86400.0):
        self.path = Path(path)
        self.max_bytes = max_bytes
        self.max_age = max_age
        self.part_size = PART_SIZE
        self.text_index = True
        """False where SQLite lacks FTS5's trigram tokenizer (before 3.34): text is then found
        by checking the rows the other filters (or the newest events) give, which is slower."""
        self.problem: str | None = None
        """Why events are not being stored (a disk error), for the Timeline window to say."""
        self._queue: queue.Queue = queue.Queue()
        self._listeners: list[Callable[[Event], None]] = []
        self._lock = threading.Lock()
        self._pending = 0
        self._idle = threading.Condition(self._lock)
        self._stopping = False
        self._names: set[tuple[str, str]] = set()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._write_loop, name="netgui-timeline", daemon=True)
        self._thread.start()  # it opens (or creates) the file: the window does not wait for that

    # -- opening ------------------------------------------------------------------
    def _open(self) -> sqlite3.Connection:
        try:
            return self._init_db()
        except sqlite3.DatabaseError as exc:  # a damaged file: keep it aside, start afresh
            print(f"netgui: timeline {self.path} cannot be used ({exc}); starting a new one",
                  file=sys.stderr)
            for suffix in ("", "-wal", "-shm"):
                old = Path(str(self.path) + suffix)
                if old.exists():
                    old.replace(Path(str(self.path) + ".bad" + suffix))
            return self._init_db()

    def _init_db(self) -> sqlite3.Connection:
        db = _connect(self.path)
        try:
            db.execute("PRAGMA auto_vacuum=INCREMENTAL")  # a new file only: lets prune shrink it
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.executescript(_SCHEMA)
            db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            self._names = set(db.execute("SELECT kind, name FROM names"))
            db.commit()
            self.text_index = _has_trigram(db)
        except BaseException:
            db.close()
            raise
        return db

    # -- recording ------------------------------------------------------------------
    def add(self, origin: Origin | None, direction: str, text: str, when: float | None = None,
            connection: str = "") -> Event:
        """Record one event (any thread; listeners run on the caller's thread)."""
        origin = origin or Origin("")
        text = "\n".join(redact(line, origin.secrets) for line in str(text).split("\n")) \
            if origin.secrets else str(text)
        if len(text) > MAX_TEXT:
            text = text[:MAX_TEXT] + f"\n… ({len(text) - MAX_TEXT} more characters not kept)"
        event = Event(time.time() if when is None else when, origin.protocol,
                      _storable(origin.connection or connection), _storable(origin.host.lower()),
                      origin.port, direction, _storable(text), origin.tab, _storable(origin.item))
        with self._lock:
            self._pending += 1
        self._queue.put(event)
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:
                import traceback
                traceback.print_exc()
        return event

    def subscribe(self, listener: Callable[[Event], None]) -> Callable[[], None]:
        """``listener(event)`` for every event added from now on; returns the unsubscriber."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def _command(self, name: str) -> None:
        with self._lock:
            self._pending += 1
        self._queue.put(name)

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every event added so far is committed (and every prune or clear asked
        for is done); False on timeout."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._pending and self._thread.is_alive():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return not self._pending

    def close(self, timeout: float = 5.0) -> None:
        """Write what is queued, then stop the writer."""
        if self._stopping:
            return
        self._stopping = True
        self._queue.put(None)
        self._thread.join(timeout)

    def set_limits(self, max_bytes: int | None = None, max_age: float | None = None) -> None:
        if max_bytes is not None:
            self.max_bytes = max_bytes
        if max_age is not None:
            self.max_age = max_age
        self._command("prune")

    def clear(self) -> None:
        """Delete every stored event (in the writer thread, after what is queued)."""
        self._command("clear")

    # -- the writer thread ----------------------------------------------------------------
    def _write_loop(self) -> None:
        _lower_priority()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = self._open()
        except (OSError, sqlite3.Error) as exc:
            self.problem = f"The timeline cannot be stored in {self.path}: {exc}"
            print(f"netgui: {self.problem}", file=sys.stderr)
            self._ready.set()
            self._drop_everything()
            return
        self._ready.set()
        next_prune = time.monotonic() + 1.0
        running = True
        while running:
            try:
                first = self._queue.get(timeout=1.0)
            except queue.Empty:
                first = "tick"
            batch: list[Event] = []
            commands: list[str] = []
            item = first
            deadline = time.monotonic() + BATCH_SECONDS
            while True:
                if item is None:
                    running = False
                elif isinstance(item, Event):
                    batch.append(item)
                elif item != "tick":
                    commands.append(item)
                if not running or len(batch) >= 5000:
                    break
                try:
                    item = self._queue.get(timeout=max(0.0, deadline - time.monotonic())) \
                        if batch else self._queue.get_nowait()
                except queue.Empty:
                    break
            try:
                if batch:
                    self._insert(db, batch)
                if "clear" in commands:
                    high = db.execute(_ID_RANGE).fetchone()[1]
                    if high is not None:
                        self._delete_before(db, high + 1)
                    with db:
                        db.execute("DELETE FROM names")
                    self._names.clear()
                if commands or time.monotonic() >= next_prune or self.used_bytes(db) > self.max_bytes:
                    self.prune(db)
                    next_prune = time.monotonic() + PRUNE_SECONDS
            except (sqlite3.Error, ValueError) as exc:
                if self.problem is None:
                    print(f"netgui: cannot write the timeline {self.path}: {exc}", file=sys.stderr)
                self.problem = f"Events are not being stored: {exc}"
            finally:
                with self._idle:
                    self._pending -= len(batch) + len(commands)
                    self._idle.notify_all()
        db.close()

    def _drop_everything(self) -> None:
        """Without a file: take events off the queue (so flush returns) and forget them."""
        while True:
            item = self._queue.get()
            if item is None:
                return
            if item is not None:
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()

    def _insert(self, db: sqlite3.Connection, batch: list[Event]) -> None:
        seen = {(kind, getattr(e, kind)) for e in batch for kind in ("proto", "host", "tab")}
        new_names = seen - self._names
        with db:
            db.execute("BEGIN IMMEDIATE")  # ids are ours until the commit, even with another process
            first = (db.execute("SELECT max(id) FROM events").fetchone()[0] or 0) + 1
            rows = [(first + i, e.t, e.proto, e.conn, e.host, e.port, e.dir, e.text, e.tab, e.item)
                    for i, e in enumerate(batch)]
            db.executemany(f"INSERT INTO events({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
            start = 0 if self.text_index else len(rows)
            while start < len(rows):
                part, room = self._current_part(db, rows[start][0])
                chunk = rows[start:start + room]
                db.executemany(f"INSERT INTO fts_{part}(rowid, text) VALUES (?, ?)",
                               [(r[0], r[7]) for r in chunk])
                db.execute("UPDATE parts SET last_id = ? WHERE n = ?", (chunk[-1][0], part))
                start += len(chunk)
            if new_names:
                db.executemany("INSERT OR IGNORE INTO names(kind, name) VALUES (?, ?)", sorted(new_names))
        self._names |= new_names
        self.problem = None

    def _current_part(self, db: sqlite3.Connection, next_id: int) -> tuple[int, int]:
        """The text index the event ``next_id`` goes to, and how many more it takes."""
        row = db.execute("SELECT n, first_id FROM parts ORDER BY n DESC LIMIT 1").fetchone()
        if row is not None and next_id - row[1] < self.part_size:
            return row[0], self.part_size - (next_id - row[1])
        part = (row[0] + 1) if row else 1
        db.execute(f"CREATE VIRTUAL TABLE fts_{part} USING fts5(text, content='', tokenize='trigram')")
        db.execute("INSERT INTO parts(n, first_id, last_id) VALUES (?, ?, ?)", (part, next_id, next_id))
        return part, self.part_size

    def prune(self, db: sqlite3.Connection | None = None) -> int:
        """Apply the age and size limits now (the writer does it every few seconds);
        returns how many events were deleted."""
        if db is None:  # from another thread: let the writer do it
            self._command("prune")
            return 0
        deleted = 0
        low, high = db.execute(_ID_RANGE).fetchone()
        if low is not None:
            keep = _first_id_at(db, time.time() - self.max_age, low, high)
            if keep > low:
                deleted += self._delete_before(db, keep)
        while self.used_bytes(db) > self.max_bytes:
            parts = db.execute("SELECT n, last_id FROM parts ORDER BY n").fetchall()
            if len(parts) > 1:  # the oldest partition goes whole
                keep = parts[0][1] + 1
            else:  # one partition holds it all: the older half of it
                low, high = db.execute(_ID_RANGE).fetchone()
                if low is None or low == high:
                    break
                keep = (low + high + 1) // 2
            deleted += self._delete_before(db, keep)
        if deleted:
            with db:
                for column in ("proto", "host", "tab"):
                    db.execute(f"DELETE FROM names WHERE kind = '{column}' AND NOT EXISTS "
                               f"(SELECT 1 FROM events WHERE events.{column} = names.name)")
            self._names = set(db.execute("SELECT kind, name FROM names"))
            db.executescript("PRAGMA incremental_vacuum;")  # freed pages back to the disk (all steps)
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return deleted

    def _delete_before(self, db: sqlite3.Connection, keep: int) -> int:
        """Delete the events below id ``keep`` and the text indexes wholly below it (a text
        index's entries for deleted events are left: searches join them with the events)."""
        with db:
            count = db.execute("DELETE FROM events WHERE id < ?", (keep,)).rowcount
            for (part,) in db.execute("SELECT n FROM parts WHERE last_id < ?", (keep,)).fetchall():
                db.execute(f"DROP TABLE fts_{part}")
                db.execute("DELETE FROM parts WHERE n = ?", (part,))
        return count

    @staticmethod
    def used_bytes(db: sqlite3.Connection) -> int:
        page_size = db.execute("PRAGMA page_size").fetchone()[0]
        pages = db.execute("PRAGMA page_count").fetchone()[0]
        free = db.execute("PRAGMA freelist_count").fetchone()[0]
        return (pages - free) * page_size

    # -- reading --------------------------------------------------------------------------
    def search(self, query: Query | str, limit: int = SEARCH_LIMIT) -> list[Event]:
        """The newest ``limit`` events the query finds, newest first (any thread)."""
        if isinstance(query, str):
            query = parse_query(query)
        self._ready.wait(10)
        db = _connect(self.path, readonly=True)
        db.create_function("has", 2, _has, deterministic=True)
        try:
            return _Plan(db, query).run(limit)
        finally:
            db.close()

    def count(self) -> int:
        self._ready.wait(10)
        db = _connect(self.path, readonly=True)
        try:
            return db.execute("SELECT count(*) FROM events").fetchone()[0]
        finally:
            db.close()


def _has_trigram(db: sqlite3.Connection) -> bool:
    try:
        db.execute("CREATE VIRTUAL TABLE temp.probe USING fts5(text, content='', tokenize='trigram')")
        db.execute("DROP TABLE temp.probe")
        return True
    except sqlite3.OperationalError:
        print("netgui: this SQLite has no FTS5 trigram tokenizer: timeline text searches scan",
              file=sys.stderr)
        return False


def _lower_priority() -> None:
    """Let the window's thread have the CPU first: the writer is never in a hurry (Linux gives
    each thread its own nice value; elsewhere this does nothing)."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
    except (AttributeError, OSError):
        pass


def _fts_phrase(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def _has(text: str, term: str) -> bool:
    return term in text.lower()


INDEXES = {"proto_dir": ("proto", "dir"), "host_proto": ("host", "proto"),
           "tab_item": ("tab", "item"), "tab": ("tab",), "dir": ("dir",), "conn": ("conn",)}
"""The B-tree indexes a search can walk (each row's id comes last in every index, so one value
of each column is walked in id order)."""
DIRECTION_CODES = (">", "<", "*", "!")
MAX_COMBINATIONS = 24


class _Plan:
    """How one search runs. Every search walks events newest first and stops at the limit;
    what it walks is the cheapest of: an index (one walk per combination of its columns'
    values, merged), the trigram indexes of the text, or the events themselves between the
    time bounds. Bounded counts on the indexes pick the walk; everything the walk does not
    ensure is checked on the rows walked."""

    CAP = 40_000  # an index finding fewer rows than this is "small": walking it costs < ~70 ms

    def __init__(self, db: sqlite3.Connection, query: Query):
        self.db = db
        self.query = query
        self.fts_terms = [t for t in query.terms if len(t) >= 3]
        self.filters: dict[str, list[str]] = {}
        self.known = _names(db)
        self.known["dir"] = list(DIRECTION_CODES)
        if query.protos:
            self.filters["proto"] = [n for n in self.known.get("proto", ()) if n.startswith(tuple(query.protos))]
        if query.hosts:
            self.filters["host"] = [n for n in self.known.get("host", ()) if any(h in n for h in query.hosts)]
        for column, values in (("dir", query.dirs), ("tab", query.tabs), ("conn", query.conns),
                               ("item", query.items)):
            if values:
                self.filters[column] = list(dict.fromkeys(values))
        self.low, self.high = _id_bounds(db, query.after, query.before)

    def _combinations(self, columns: tuple[str, ...]) -> list[tuple] | None:
        """The value combinations that walking this index takes (None: it cannot serve)."""
        if not any(c in self.filters for c in columns):
            return None
        choices = []
        for column in columns:
            values = self.filters.get(column) or self.known.get(column)
            if not values:
                return None
            choices.append(values)
        combos = [()]
        for values in choices:
            combos = [c + (v,) for c in combos for v in values]
            if len(combos) > MAX_COMBINATIONS:
                return None
        return combos

    def _estimate(self, index: str, combos: list[tuple]) -> int:
        columns = INDEXES[index]
        match = " AND ".join(f"{c} = ?" for c in columns)
        total = 0
        for combo in combos:
            total += self.db.execute(
                f"SELECT count(*) FROM (SELECT 1 FROM events INDEXED BY events_{index} "
                f"WHERE {match} AND id BETWEEN ? AND ? LIMIT ?)",
                (*combo, self.low, self.high, self.CAP)).fetchone()[0]
            if total >= self.CAP:
                break
        return total

    def _where(self, skip: tuple[str, ...] = ()) -> tuple[str, list]:
        """The checks for everything the walk does not already ensure (``skip``: the filtered
        columns it walks, or "text")."""
        clauses, args = ["e.id BETWEEN ? AND ?"], [self.low, self.high]
        if self.query.after is not None:
            clauses.append("e.t >= ?")
            args.append(self.query.after)
        if self.query.before is not None:
            clauses.append("e.t < ?")
            args.append(self.query.before)
        for column, values in self.filters.items():
            if column not in skip:
                clauses.append(f"e.{column} IN ({','.join('?' * len(values))})" if values else "0")
                args += values
        for term in self.query.terms:
            if "text" not in skip or len(term) < 3:
                clauses.append("has(e.text, ?)")
                args.append(term)
        return " AND ".join(clauses), args

    def run(self, limit: int) -> list[Event]:
        if any(not values for values in self.filters.values()) or self.low > self.high:
            return []  # a host or protocol never seen, or an empty time range
        candidates = {}
        for index, columns in INDEXES.items():
            combos = self._combinations(columns)
            if combos is not None:
                candidates[index] = (self._estimate(index, combos), combos)
        span = self.high - self.low + 1
        best = min(candidates, key=lambda i: candidates[i][0], default=None)
        if best is not None and candidates[best][0] < min(self.CAP, span):
            return self._walk_index(best, candidates[best][1], limit)
        if span < self.CAP:
            return self._walk_events(limit)
        if self.fts_terms and self.db.execute("SELECT 1 FROM parts LIMIT 1").fetchone():
            return self._walk_text(limit)
        return self._walk_events(limit)  # every filter finds many: the newest events find them

    def _walk_events(self, limit: int) -> list[Event]:
        where, args = self._where()
        # NOT INDEXED: the rows in id order, never an index whose rows must then be sorted
        sql = f"SELECT {_COLUMNS} FROM events e NOT INDEXED WHERE {where} ORDER BY e.id DESC LIMIT ?"
        return [_row(r) for r in self.db.execute(sql, args + [limit])]

    def _walk_text(self, limit: int) -> list[Event]:
        """The text indexes newest first, each walked newest first, until ``limit`` are found."""
        where, args = self._where(skip=("text",))
        columns = ", ".join("e." + c.strip() for c in _COLUMNS.split(","))
        match = " AND ".join(_fts_phrase(t) for t in self.fts_terms)
        found: list[Event] = []
        parts = self.db.execute("SELECT n FROM parts WHERE first_id <= ? AND last_id >= ? "
                                "ORDER BY n DESC", (self.high, self.low)).fetchall()
        for (part,) in parts:
            sql = (f"SELECT {columns} FROM fts_{part} JOIN events e ON e.id = fts_{part}.rowid "
                   f"WHERE fts_{part} MATCH ? AND fts_{part}.rowid BETWEEN ? AND ? AND {where} "
                   f"ORDER BY fts_{part}.rowid DESC LIMIT ?")
            found += [_row(r) for r in self.db.execute(
                sql, [match, self.low, self.high] + args + [limit - len(found)])]
            if len(found) >= limit:
                break
        return found

    def _walk_index(self, index: str, combos: list[tuple], limit: int) -> list[Event]:
        columns = INDEXES[index]
        where, args = self._where(skip=tuple(c for c in columns if c in self.filters))
        match = " AND ".join(f"e.{c} = ?" for c in columns)
        sql = (f"SELECT {_COLUMNS} FROM events e INDEXED BY events_{index} "
               f"WHERE {match} AND {where} ORDER BY e.id DESC LIMIT ?")
        runs = [[_row(r) for r in self.db.execute(sql, [*combo] + args + [limit])] for combo in combos]
        if len(runs) == 1:
            return runs[0]
        return list(heapq.merge(*runs, key=lambda e: -e.id))[:limit]


def _names(db: sqlite3.Connection) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for kind, name in db.execute("SELECT kind, name FROM names"):
        out.setdefault(kind, []).append(name)
    return out


TIME_SLACK = 60.0
"""Events are stamped by the workers and stored in arrival order: ids follow time to within
this many seconds, which is how time bounds become id bounds."""


def _id_bounds(db: sqlite3.Connection, after: float | None, before: float | None) -> tuple[int, int]:
    low, high = db.execute(_ID_RANGE).fetchone()
    if low is None:
        return 1, 0
    if after is not None:
        low = _first_id_at(db, after - TIME_SLACK, low, high)
    if before is not None:
        high = _first_id_at(db, before + TIME_SLACK, low, high) - 1
    return low, high


def _first_id_at(db: sqlite3.Connection, moment: float, low: int, high: int) -> int:
    """The first id whose event is at ``moment`` or later (ids grow with time), by bisection
    on the primary key; ``high + 1`` if there is none."""
    lo, hi = low, high + 1
    while lo < hi:
        mid = (lo + hi) // 2
        row = db.execute("SELECT id, t FROM events WHERE id >= ? ORDER BY id LIMIT 1", (mid,)).fetchone()
        if row is None or row[1] >= moment:
            hi = mid
        else:
            lo = row[0] + 1
    return lo
