"""The sortable message list: a Treeview filled in small slices so 10,000 rows never freeze the window."""

from __future__ import annotations

import bisect
import time
import tkinter as tk
from tkinter import ttk
from typing import Callable, Iterable

from ..fmt import human_bytes
from ..mail.cache import MessageRow

COLUMNS = ("marks", "sender", "subject", "date", "size")
HEADINGS = {"marks": "", "sender": "From", "subject": "Subject", "date": "Date", "size": "Size"}
WIDTHS = {"marks": 52, "sender": 200, "subject": 380, "date": 130, "size": 70}
SLICE = 400          # rows inserted per event-loop turn while filling
FIRST_SLICE = 150    # rows shown at once (the first screen and a bit)
BULK = 300           # batches larger than this re-sort instead of inserting one by one
UNREAD, FLAGGED, ATTACHMENT = "●", "⚑", "◫"


def _key(column: str) -> Callable[[MessageRow], tuple]:
    if column == "sender":
        return lambda r: (r.sender.casefold(), r.uid)
    if column == "subject":
        return lambda r: (_bare_subject(r.subject), r.uid)
    if column == "size":
        return lambda r: (r.size, r.uid)
    if column == "marks":
        return lambda r: (r.unread, r.flagged, r.attachment, r.uid)
    return lambda r: (r.date or 0.0, r.uid)


def _bare_subject(subject: str) -> str:
    text = subject.casefold()
    while True:
        for prefix in ("re:", "fwd:", "fw:", "aw:", "wg:"):
            if text.startswith(prefix):
                text = text[len(prefix):].lstrip()
                break
        else:
            return text


def format_date(ts: float | None, now: float | None = None) -> str:
    if not ts:
        return ""
    now = now or time.time()
    t = time.localtime(ts)
    if time.localtime(now)[:3] == t[:3]:
        return time.strftime("%H:%M", t)
    if abs(now - ts) < 180 * 86400:
        return time.strftime("%d %b %H:%M", t)
    return time.strftime("%d %b %Y", t)


class MessageList(ttk.Frame):
    """A Treeview of MessageRows, sorted by a column, filled incrementally.

    ``rows`` holds every row by UID; ``order`` the UIDs sorted ascending by the sort key;
    the tree shows them (reversed when descending) and may lag behind ``order`` while it
    is being filled (``rendered`` items are in the tree).
    """

    def __init__(self, master, on_select: Callable[[list[int]], None] | None = None, **kw):
        super().__init__(master, **kw)
        self.on_select = on_select
        self.tree = ttk.Treeview(self, columns=COLUMNS, show="headings", selectmode="extended",
                                 height=9)
        for col in COLUMNS:
            self.tree.heading(col, text=HEADINGS[col], command=lambda c=col: self.sort_by(c))
            self.tree.column(col, width=WIDTHS[col], stretch=col == "subject",
                             anchor="e" if col == "size" else "w")
        self.tree.column("marks", anchor="center")
        scroll = ttk.Scrollbar(self, orient="vertical", command=self.tree.yview)
        self.tree.configure(yscrollcommand=scroll.set)
        self.tree.grid(row=0, column=0, sticky="nsew")
        scroll.grid(row=0, column=1, sticky="ns")
        self.columnconfigure(0, weight=1)
        self.rowconfigure(0, weight=1)
        self.tree.tag_configure("unread", font=self._bold_font())
        self.tree.bind("<<TreeviewSelect>>", self._selected)
        self.rows: dict[int, MessageRow] = {}
        self.order: list[int] = []
        self._keys: list[tuple] = []
        self.sort_column = "date"
        self.descending = True
        self.filter: set[int] | None = None
        self.rendered = 0
        self._fill_after = None
        self._update_headings()

    def _bold_font(self):
        from tkinter import font as tkfont
        base = tkfont.nametofont("TkDefaultFont")
        bold = base.copy()
        bold.configure(weight="bold")
        self._bold = bold
        return bold

    # -- what is shown -------------------------------------------------------------
    def _visible(self, row: MessageRow) -> bool:
        return self.filter is None or row.uid in self.filter

    def _values(self, row: MessageRow):
        marks = (UNREAD if row.unread else " ") + (FLAGGED if row.flagged else " ") + \
                (ATTACHMENT if row.attachment else " ")
        return (marks, row.sender, row.subject or "(no subject)", format_date(row.date),
                human_bytes(row.size))

    def _tags(self, row: MessageRow):
        return ("unread",) if row.unread else ()

    def set_rows(self, rows: Iterable[MessageRow]) -> None:
        """Replace everything (a folder was opened) and refill."""
        self.rows = {r.uid: r for r in rows}
        self._resort()

    def clear(self) -> None:
        self.set_rows([])

    def set_filter(self, uids: Iterable[int] | None) -> None:
        """Show only these UIDs (a search result), or everything with None."""
        self.filter = set(uids) if uids is not None else None
        self._resort()

    def sort_by(self, column: str) -> None:
        """Sort by a column; the same column again flips the direction."""
        if column == self.sort_column:
            self.descending = not self.descending
        else:
            self.sort_column = column
            self.descending = column in ("date", "size", "marks")
        self._update_headings()
        self._resort()

    def _update_headings(self):
        for col in COLUMNS:
            arrow = (" ▼" if self.descending else " ▲") if col == self.sort_column else ""
            self.tree.heading(col, text=HEADINGS[col] + arrow)

    def _resort(self) -> None:
        selected = self.selection()
        key = _key(self.sort_column)
        visible = [r for r in self.rows.values() if self._visible(r)]
        visible.sort(key=key)
        self.order = [r.uid for r in visible]
        self._keys = [key(r) for r in visible]
        if self._fill_after is not None:
            self.after_cancel(self._fill_after)
            self._fill_after = None
        children = self.tree.get_children()
        if children:
            self.tree.delete(*children)
        self.rendered = 0
        self._fill(FIRST_SLICE)
        keep = [str(u) for u in selected if self.tree.exists(str(u))]
        if keep:
            self.tree.selection_set(keep)

    def _display_uid(self, index: int) -> int:
        return self.order[len(self.order) - 1 - index] if self.descending else self.order[index]

    def _fill(self, count: int = SLICE) -> None:
        self._fill_after = None
        end = min(len(self.order), self.rendered + count)
        insert = self.tree.insert
        for index in range(self.rendered, end):
            row = self.rows[self._display_uid(index)]
            insert("", "end", iid=str(row.uid), values=self._values(row), tags=self._tags(row))
        self.rendered = end
        if self.rendered < len(self.order):
            self._fill_after = self.after(1, self._fill)

    @property
    def filling(self) -> bool:
        return self.rendered < len(self.order)

    # -- incremental changes ---------------------------------------------------------
    def add_rows(self, rows: Iterable[MessageRow]) -> None:
        """Add or refresh rows in place (a sync batch arrived)."""
        rows = list(rows)
        if len(rows) > BULK and len(rows) * 4 > len(self.rows):
            # A big batch: one sort of everything beats thousands of ordered inserts
            self.rows.update((r.uid, r) for r in rows)
            self._resort()
            return
        key = _key(self.sort_column)
        for row in rows:
            if row.uid in self.rows:
                self._remove_from_order(row.uid)
            self.rows[row.uid] = row
            if not self._visible(row):
                continue
            k = key(row)
            pos = bisect.bisect_left(self._keys, k)
            self._keys.insert(pos, k)
            self.order.insert(pos, row.uid)
            display = len(self.order) - 1 - pos if self.descending else pos
            # Inside the part already in the tree: insert now. Beyond it: the filler adds it
            # in slices, so a batch of a thousand rows never blocks the window.
            if display < self.rendered:
                self.tree.insert("", display, iid=str(row.uid), values=self._values(row),
                                 tags=self._tags(row))
                self.rendered += 1
        if self.filling and self._fill_after is None:
            self._fill_after = self.after(1, self._fill)

    def _remove_from_order(self, uid: int) -> None:
        try:
            pos = self.order.index(uid)
        except ValueError:
            return
        display = len(self.order) - 1 - pos if self.descending else pos
        del self.order[pos]
        del self._keys[pos]
        if self.tree.exists(str(uid)):
            self.tree.delete(str(uid))
            if display < self.rendered:
                self.rendered -= 1

    def remove(self, uids: Iterable[int]) -> None:
        for uid in uids:
            self._remove_from_order(uid)
            self.rows.pop(uid, None)

    def update_flags(self, flags_by_uid: dict[int, tuple[str, ...]]) -> None:
        for uid, flags in flags_by_uid.items():
            row = self.rows.get(uid)
            if row is None:
                continue
            row.flags = tuple(flags)
            if self.tree.exists(str(uid)):
                self.tree.item(str(uid), values=self._values(row), tags=self._tags(row))

    def change_flag(self, uids: Iterable[int], flag: str, add: bool) -> None:
        changes = {}
        for uid in uids:
            row = self.rows.get(uid)
            if row is not None:
                flags = set(row.flags)
                (flags.add if add else flags.discard)(flag)
                changes[uid] = tuple(sorted(flags))
        self.update_flags(changes)

    def set_attachment(self, uid: int, attachment: bool) -> None:
        row = self.rows.get(uid)
        if row is not None and row.attachment != attachment:
            row.attachment = attachment
            if self.tree.exists(str(uid)):
                self.tree.item(str(uid), values=self._values(row))

    # -- selection ----------------------------------------------------------------------
    def selection(self) -> list[int]:
        return [int(i) for i in self.tree.selection()]

    def select(self, uid: int) -> None:
        while not self.tree.exists(str(uid)) and self.filling:
            self._fill()
        if self.tree.exists(str(uid)):
            self.tree.selection_set(str(uid))
            self.tree.focus(str(uid))
            self.tree.see(str(uid))

    def shown_uids(self) -> list[int]:
        """UIDs in display order (all of them, also those not yet in the tree)."""
        return [self._display_uid(i) for i in range(len(self.order))]

    def _selected(self, event=None):
        if self.on_select:
            self.on_select(self.selection())
