"""The offline mail cache: one SQLite file in the data folder.

Per account and folder it keeps the UIDVALIDITY seen last, the list rows
(the raw list header fields, date, size, flags, attachment mark) and the bodies
of the messages that were opened, so reopening the tab shows the list at once and
cached messages can be read without a network. A UIDVALIDITY change wipes the
folder's rows, as RFC 3501 requires.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from netgui.config import data_dir

from .message import list_keys, summarize

SCHEMA_VERSION = 2  # 2: rows keep their raw header (decoded when shown), not decoded text
SCHEMA = """
CREATE TABLE IF NOT EXISTS folders (
    account TEXT NOT NULL, name TEXT NOT NULL, delimiter TEXT, flags TEXT NOT NULL DEFAULT '',
    special TEXT, uidvalidity INTEGER, uidnext INTEGER, position INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (account, name));
CREATE TABLE IF NOT EXISTS messages (
    account TEXT NOT NULL, folder TEXT NOT NULL, uid INTEGER NOT NULL,
    header BLOB NOT NULL, date REAL, size INTEGER NOT NULL DEFAULT 0,
    flags TEXT NOT NULL DEFAULT '', attachment INTEGER NOT NULL DEFAULT 0, uidl TEXT,
    PRIMARY KEY (account, folder, uid)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS messages_uidl ON messages (account, folder, uidl);
CREATE TABLE IF NOT EXISTS bodies (
    account TEXT NOT NULL, folder TEXT NOT NULL, uid INTEGER NOT NULL, raw BLOB NOT NULL,
    PRIMARY KEY (account, folder, uid));
"""
_ROW_COLUMNS = "uid, header, size, flags, uidl, date, attachment"


class MessageRow:
    """One message in a list. ``flags`` are IMAP flags (POP3 keeps \\Seen locally).

    A row holds the message's raw list header fields; the date and attachment mark
    (needed to sort and mark every row) are read at once, sender, recipient, subject
    and message id when first used. A folder of 10,000 messages is listed without
    decoding the rows nobody looks at.
    """

    __slots__ = ("uid", "header", "size", "flags", "uidl", "date", "attachment", "_text")

    def __init__(self, uid: int, header: bytes, size: int = 0, flags: Iterable[str] = (),
                 uidl: str | None = None, date: float | None = None,
                 attachment: bool | None = None):
        self.uid = uid
        self.header = header
        self.size = size
        self.flags = tuple(flags)
        self.uidl = uidl
        if attachment is None:  # not known yet: read both from the header
            date, attachment = list_keys(header)
        self.date = date
        self.attachment = attachment
        self._text: tuple[str, str, str, str] | None = None

    def _decoded(self) -> tuple[str, str, str, str]:
        text = self._text
        if text is None:
            s = summarize(self.header)
            text = self._text = (s.sender, s.to, s.subject, s.message_id)
        return text

    sender = property(lambda self: self._decoded()[0], doc="Who sent it (name or address).")
    to = property(lambda self: self._decoded()[1], doc="The first recipient.")
    subject = property(lambda self: self._decoded()[2], doc="The decoded subject.")
    message_id = property(lambda self: self._decoded()[3], doc="The Message-ID header.")

    @property
    def unread(self) -> bool:
        return "\\Seen" not in self.flags

    @property
    def flagged(self) -> bool:
        return "\\Flagged" in self.flags

    def as_tuple(self):
        return (self.uid, self.header, self.size, " ".join(self.flags), self.uidl, self.date,
                int(self.attachment))

    def __repr__(self) -> str:
        return f"MessageRow(uid={self.uid}, subject={self.subject!r}, flags={self.flags})"


@dataclass
class CachedFolder:
    name: str
    delimiter: str | None
    flags: tuple[str, ...]
    special: str | None
    uidvalidity: int | None
    uidnext: int | None


def _row(columns) -> MessageRow:
    uid, header, size, flags, uidl, date, attachment = columns
    return MessageRow(uid, bytes(header), size, flags.split(), uidl, date, bool(attachment))


def default_path() -> Path:
    return data_dir() / "mail" / "cache.sqlite3"


class MailCache:
    """Thread-safe access to the cache file (one connection, one lock)."""

    def __init__(self, path: Path | str | None = None):
        self.path = Path(path) if path else default_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, timeout=10)
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            if self._db.execute("PRAGMA user_version").fetchone()[0] < SCHEMA_VERSION:
                # An older cache: its rows are fetched again (bodies go with them, as POP3's
                # local numbers are assigned anew).
                self._db.executescript("DROP TABLE IF EXISTS messages; DROP TABLE IF EXISTS bodies;")
                self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            self._db.executescript(SCHEMA)
            self._db.commit()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- folders -------------------------------------------------------------
    def folders(self, account: str) -> list[CachedFolder]:
        with self._lock:
            rows = self._db.execute(
                "SELECT name, delimiter, flags, special, uidvalidity, uidnext FROM folders "
                "WHERE account=? ORDER BY position", (account,)).fetchall()
        return [CachedFolder(n, d, tuple(f.split()), s, v, u) for n, d, f, s, v, u in rows]

    def set_folders(self, account: str, folders: Iterable) -> None:
        """Replace the folder list (objects with name, delimiter, flags, special)."""
        folders = list(folders)
        names = [f.name for f in folders]
        with self._lock, self._db:
            for pos, f in enumerate(folders):
                self._db.execute(
                    "INSERT INTO folders (account, name, delimiter, flags, special, position) "
                    "VALUES (?,?,?,?,?,?) ON CONFLICT(account, name) DO UPDATE SET "
                    "delimiter=excluded.delimiter, flags=excluded.flags, special=excluded.special, "
                    "position=excluded.position",
                    (account, f.name, f.delimiter, " ".join(f.flags), f.special, pos))
            gone = [r[0] for r in self._db.execute(
                "SELECT name FROM folders WHERE account=?", (account,)) if r[0] not in names]
            for name in gone:
                self._drop_folder(account, name)

    def _drop_folder(self, account: str, name: str) -> None:
        self._db.execute("DELETE FROM folders WHERE account=? AND name=?", (account, name))
        self._db.execute("DELETE FROM messages WHERE account=? AND folder=?", (account, name))
        self._db.execute("DELETE FROM bodies WHERE account=? AND folder=?", (account, name))

    def uidvalidity(self, account: str, folder: str) -> int | None:
        with self._lock:
            row = self._db.execute("SELECT uidvalidity FROM folders WHERE account=? AND name=?",
                                   (account, folder)).fetchone()
        return row[0] if row else None

    def check_uidvalidity(self, account: str, folder: str, uidvalidity: int,
                          uidnext: int | None = None) -> bool:
        """Record the folder's UIDVALIDITY; if it changed, wipe its rows. True if wiped."""
        with self._lock, self._db:
            row = self._db.execute("SELECT uidvalidity FROM folders WHERE account=? AND name=?",
                                   (account, folder)).fetchone()
            changed = row is not None and row[0] is not None and row[0] != uidvalidity
            if changed:
                self._db.execute("DELETE FROM messages WHERE account=? AND folder=?", (account, folder))
                self._db.execute("DELETE FROM bodies WHERE account=? AND folder=?", (account, folder))
            if row is None:
                self._db.execute("INSERT INTO folders (account, name, uidvalidity, uidnext) "
                                 "VALUES (?,?,?,?)", (account, folder, uidvalidity, uidnext))
            else:
                self._db.execute("UPDATE folders SET uidvalidity=?, uidnext=? WHERE account=? AND name=?",
                                 (uidvalidity, uidnext, account, folder))
        return changed

    # -- messages ------------------------------------------------------------
    def add_messages(self, account: str, folder: str, rows: Iterable[MessageRow]) -> None:
        with self._lock, self._db:
            self._db.executemany(
                f"INSERT OR REPLACE INTO messages (account, folder, {_ROW_COLUMNS}) "
                "VALUES (?,?,?,?,?,?,?,?,?)",
                [(account, folder) + r.as_tuple() for r in rows])

    def messages(self, account: str, folder: str) -> list[MessageRow]:
        """All cached rows of a folder, newest UID first."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_ROW_COLUMNS} FROM messages WHERE account=? AND folder=? "
                "ORDER BY uid DESC", (account, folder)).fetchall()
        return [_row(r) for r in rows]

    def message(self, account: str, folder: str, uid: int) -> MessageRow | None:
        for row in self._rows_where(account, folder, "uid=?", (uid,)):
            return row
        return None

    def _rows_where(self, account, folder, where, args):
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_ROW_COLUMNS} FROM messages WHERE account=? AND folder=? AND {where}",
                (account, folder) + tuple(args)).fetchall()
        return [_row(r) for r in rows]

    def uids(self, account: str, folder: str) -> set[int]:
        with self._lock:
            return {r[0] for r in self._db.execute(
                "SELECT uid FROM messages WHERE account=? AND folder=?", (account, folder))}

    def flags(self, account: str, folder: str) -> dict[int, tuple[str, ...]]:
        """{uid: flags} of a folder's cached rows."""
        with self._lock:
            return {uid: tuple(flags.split()) for uid, flags in self._db.execute(
                "SELECT uid, flags FROM messages WHERE account=? AND folder=?", (account, folder))}

    def max_uid(self, account: str, folder: str) -> int:
        with self._lock:
            row = self._db.execute("SELECT MAX(uid) FROM messages WHERE account=? AND folder=?",
                                   (account, folder)).fetchone()
        return row[0] or 0

    def set_flags(self, account: str, folder: str, flags_by_uid: dict[int, Iterable[str]]) -> None:
        with self._lock, self._db:
            self._db.executemany(
                "UPDATE messages SET flags=? WHERE account=? AND folder=? AND uid=?",
                [(" ".join(sorted(set(f))), account, folder, uid) for uid, f in flags_by_uid.items()])

    def change_flag(self, account: str, folder: str, uids: Iterable[int], flag: str, add: bool) -> None:
        """Add or remove one flag on some cached rows."""
        current = {uid: set(flags) for uid, flags in self.flags(account, folder).items()}
        changed = {}
        for uid in uids:
            if uid in current:
                flags = current[uid]
                (flags.add if add else flags.discard)(flag)
                changed[uid] = flags
        self.set_flags(account, folder, changed)

    def set_attachment(self, account: str, folder: str, uid: int, attachment: bool) -> None:
        with self._lock, self._db:
            self._db.execute("UPDATE messages SET attachment=? WHERE account=? AND folder=? AND uid=?",
                             (int(attachment), account, folder, uid))

    def remove(self, account: str, folder: str, uids: Iterable[int]) -> None:
        uids = [(account, folder, int(u)) for u in uids]
        with self._lock, self._db:
            self._db.executemany("DELETE FROM messages WHERE account=? AND folder=? AND uid=?", uids)
            self._db.executemany("DELETE FROM bodies WHERE account=? AND folder=? AND uid=?", uids)

    # -- bodies --------------------------------------------------------------
    def body(self, account: str, folder: str, uid: int) -> bytes | None:
        with self._lock:
            row = self._db.execute("SELECT raw FROM bodies WHERE account=? AND folder=? AND uid=?",
                                   (account, folder, uid)).fetchone()
        return bytes(row[0]) if row else None

    def store_body(self, account: str, folder: str, uid: int, raw: bytes) -> None:
        with self._lock, self._db:
            self._db.execute("INSERT OR REPLACE INTO bodies (account, folder, uid, raw) VALUES (?,?,?,?)",
                             (account, folder, uid, raw))

    # -- POP3 ----------------------------------------------------------------
    def uidls(self, account: str, folder: str = "INBOX") -> dict[str, int]:
        """{UIDL: local uid} for a POP3 account."""
        with self._lock:
            return {u: uid for uid, u in self._db.execute(
                "SELECT uid, uidl FROM messages WHERE account=? AND folder=? AND uidl IS NOT NULL",
                (account, folder))}

    def delete_account(self, account: str) -> None:
        with self._lock, self._db:
            for table in ("folders", "messages", "bodies"):
                self._db.execute(f"DELETE FROM {table} WHERE account=?", (account,))
