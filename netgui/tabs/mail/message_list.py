"""The sortable message list, virtual: the Treeview only ever holds the rows on screen.

A folder of 10,000 messages is a sorted Python list; scrolling, sorting and new
batches re-render the forty-odd visible rows, so nothing the list does costs
time in proportion to the folder's size on the Tk thread (except one sort).
"""

from __future__ import annotations

import bisect
import time
import tkinter as tk
from tkinter import ttk
from typing import Callable, Iterable

from netgui.fmt import human_bytes
from netgui.net.mail.cache import MessageRow
from netgui.ui.treefill import insert_rows, row_options

COLUMNS = ("marks", "sender", "subject", "date", "size")
HEADINGS = {"marks": "", "sender": "From", "subject": "Subject", "date": "Date", "size": "Size"}
WIDTHS = {"marks": 52, "sender": 200, "subject": 380, "date": 130, "size": 70}
UNREAD, FLAGGED, ATTACHMENT = "●", "⚑", "◫"
BULK = 300           # batches larger than this re-sort instead of inserting one by one
WARM_DELAY_MS = 300  # quiet time after the last batch before rows are decoded in the background
WARM_SLICE_S = 0.008


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
    """MessageRows sorted by a column; the Treeview shows the window ``top … top+capacity``.

    ``rows`` holds every row by UID and ``order`` the visible UIDs sorted ascending by the
    sort key (displayed reversed when descending). The selection is kept by UID, so it
    survives scrolling and re-sorting.
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
        self.scroll = ttk.Scrollbar(self, orient="vertical", command=self._yview)
        self.tree.grid(row=0, column=0, sticky="nsew")
        self.scroll.grid(row=0, column=1, sticky="ns")
        self.columnconfigure(0, weight=1)
        self.rowconfigure(0, weight=1)
        self.tree.tag_configure("unread", font=self._bold_font())
        self.tree.bind("<<TreeviewSelect>>", self._selected_event)
        self.tree.bind("<Configure>", lambda e: self._schedule_render())
        for seq, step in (("<Button-4>", -3), ("<Button-5>", 3)):
            self.tree.bind(seq, lambda e, s=step: self._scroll_by(s))
        self.tree.bind("<MouseWheel>", lambda e: self._scroll_by(-3 if e.delta > 0 else 3))
        for key, step in (("<Up>", -1), ("<Down>", 1), ("<Prior>", "-page"), ("<Next>", "page"),
                          ("<Home>", "home"), ("<End>", "end")):
            self.tree.bind(key, lambda e, s=step: self._key_move(s))
        self.tree.bind("<Button-1>", self._plain_click)
        for seq in ("<Control-Button-1>", "<Shift-Button-1>"):
            self.tree.bind(seq, lambda e: None)
        self.rows: dict[int, MessageRow] = {}
        self.order: list[int] = []
        self._keys: list[tuple] = []
        self.sort_column = "date"
        self.descending = True
        self.filter: set[int] | None = None
        self.top = 0
        self._visible: list[int] = []
        self._selected: set[int] = set()
        self._anchor: int | None = None
        self._reported: list[int] = []
        self._render_after = None
        self._warm_after = None
        self._row_height = 0
        self._header_height = 0
        self._update_headings()

    def _bold_font(self):
        from tkinter import font as tkfont
        bold = tkfont.nametofont("TkDefaultFont").copy()
        bold.configure(weight="bold")
        self._bold = bold
        return bold

    # -- what is shown -------------------------------------------------------------
    @property
    def rendered(self) -> int:
        """How many rows the list can show (all of them: it is virtual)."""
        return len(self.order)

    filling = False

    def _passes(self, row: MessageRow) -> bool:
        return self.filter is None or row.uid in self.filter

    def _values(self, row: MessageRow):
        marks = (UNREAD if row.unread else " ") + (FLAGGED if row.flagged else " ") + \
                (ATTACHMENT if row.attachment else " ")
        return (marks, row.sender, row.subject or "(no subject)", format_date(row.date),
                human_bytes(row.size))

    def set_rows(self, rows: Iterable[MessageRow]) -> None:
        """Replace everything (a folder was opened)."""
        self.rows = {r.uid: r for r in rows}
        self._selected &= set(self.rows)
        self.top = 0
        self._resort()
        self._warm_soon()

    def clear(self) -> None:
        self._selected.clear()
        self.set_rows([])

    def set_filter(self, uids: Iterable[int] | None) -> None:
        """Show only these UIDs (a search result), or everything with None."""
        self.filter = set(uids) if uids is not None else None
        self.top = 0
        self._resort()

    def sort_by(self, column: str) -> None:
        """Sort by a column; the same column again flips the direction."""
        if column == self.sort_column:
            self.descending = not self.descending
        else:
            self.sort_column = column
            self.descending = column in ("date", "size", "marks")
        self._update_headings()
        self.top = 0
        self._resort()

    def _update_headings(self):
        for col in COLUMNS:
            arrow = (" ▼" if self.descending else " ▲") if col == self.sort_column else ""
            self.tree.heading(col, text=HEADINGS[col] + arrow)

    def _resort(self, rows: Iterable[MessageRow] | None = None) -> None:
        """Sort every row again, or with ``rows`` (all new) merge just those in."""
        key = _key(self.sort_column)
        if rows is None:
            self._keys = sorted(key(r) for r in self.rows.values() if self._passes(r))
        else:  # two sorted runs: the sort merges them in one pass
            self._keys = sorted(self._keys + sorted(key(r) for r in rows if self._passes(r)))
        self.order = [k[-1] for k in self._keys]  # every sort key ends with the UID
        self._render()

    def _display_uid(self, index: int) -> int:
        return self.order[len(self.order) - 1 - index] if self.descending else self.order[index]

    def _display_index(self, uid: int) -> int | None:
        row = self.rows.get(uid)
        if row is None or not self._passes(row):
            return None
        k = _key(self.sort_column)(row)
        pos = bisect.bisect_left(self._keys, k)
        if pos >= len(self.order) or self.order[pos] != uid:
            return None
        return len(self.order) - 1 - pos if self.descending else pos

    def shown_uids(self) -> list[int]:
        """Every UID in display order (also those scrolled out of view)."""
        return self.order[::-1] if self.descending else list(self.order)

    # -- rendering the window ------------------------------------------------------------
    def capacity(self) -> int:
        """How many rows fit in the Treeview now."""
        if not self._row_height:
            try:
                self._row_height = int(ttk.Style(self).lookup("Treeview", "rowheight") or 0)
            except (tk.TclError, ValueError):
                self._row_height = 0
            self._row_height = self._row_height or 20
        height = self.tree.winfo_height()
        if height <= 1:
            return int(self.tree.cget("height"))
        return max(1, (height - (self._header_height or self._row_height + 6)) // self._row_height)

    def _schedule_render(self) -> None:
        if self._render_after is None:
            self._render_after = self.after_idle(self._render)

    def _render(self) -> None:
        if self._render_after is not None:
            try:
                self.after_cancel(self._render_after)
            except tk.TclError:
                pass
            self._render_after = None
        total = len(self.order)
        cap = self.capacity()
        self.top = max(0, min(self.top, total - cap))
        wanted = [self._display_uid(i) for i in range(self.top, min(total, self.top + cap))]
        tree = self.tree
        if wanted != self._visible:
            children = tree.get_children()
            if children:
                tree.delete(*children)
            insert_rows(tree, [row_options(self._values(row), ("unread",) if row.unread else (),
                                           iid=str(uid))
                               for uid in wanted for row in (self.rows[uid],)])
            self._visible = wanted
        selected = [str(u) for u in wanted if u in self._selected]
        if tuple(selected) != tree.selection():
            tree.selection_set(selected)  # its <<TreeviewSelect>> changes nothing: see below
        if wanted and not self._header_height:
            box = tree.bbox(str(wanted[0]))
            if box:
                self._header_height = box[1] + 2
        self.scroll.set(*(self.top / total, min(1.0, (self.top + cap) / total)) if total else (0, 1))

    def destroy(self) -> None:
        for pending in (self._warm_after, self._render_after):  # Tk would still fire them
            if pending is not None:
                self.after_cancel(pending)
        self._warm_after = self._render_after = None
        super().destroy()

    def _warm_soon(self) -> None:
        """Once batches stop arriving, decode every row's text in short idle slices, so that
        sorting by sender or subject later does not stall (rows decode lazily otherwise)."""
        if self._warm_after is not None:
            self.after_cancel(self._warm_after)
        self._warm_after = self.after(WARM_DELAY_MS, self._warm, None)

    def _warm(self, cold) -> None:
        if cold is None:
            cold = iter(list(self.rows.values()))
        deadline = time.perf_counter() + WARM_SLICE_S
        for row in cold:
            row.sender  # noqa: B018 - decodes the row's text once
            if time.perf_counter() > deadline:
                self._warm_after = self.after(1, self._warm, cold)
                return
        self._warm_after = None

    def _refresh_row(self, uid: int) -> None:
        if uid in self._visible and self.tree.exists(str(uid)):
            row = self.rows[uid]
            self.tree.item(str(uid), values=self._values(row), tags=("unread",) if row.unread else ())

    # -- scrolling -----------------------------------------------------------------------
    def _yview(self, *args) -> None:
        total = len(self.order)
        cap = self.capacity()
        if not args:
            return
        if args[0] == "moveto":
            self.top = int(float(args[1]) * total)
        elif args[0] == "scroll":
            amount = int(args[1])
            self.top += amount * (cap if args[2] == "pages" else 1)
        self._render()

    def _scroll_by(self, rows: int) -> str:
        self.top += rows
        self._render()
        return "break"

    def see(self, uid: int) -> None:
        index = self._display_index(uid)
        if index is None:
            return
        cap = self.capacity()
        if index < self.top:
            self.top = index
        elif index >= self.top + cap:
            self.top = index - cap + 1
        self._render()

    def _key_move(self, step) -> str:
        total = len(self.order)
        if not total:
            return "break"
        current = self._display_index(self._anchor) if self._anchor is not None else None
        if current is None:
            current = self.top - 1 if step not in ("home", "end") else 0
        cap = self.capacity()
        target = {"home": 0, "end": total - 1, "page": current + cap,
                  "-page": current - cap}.get(step, current + step if isinstance(step, int) else 0)
        self.select(self._display_uid(max(0, min(total - 1, target))))
        return "break"

    # -- incremental changes ---------------------------------------------------------
    def add_rows(self, rows: Iterable[MessageRow]) -> None:
        """Add or refresh rows (a sync batch arrived); the window re-renders once."""
        rows = list(rows)
        self._warm_soon()
        if len(rows) > BULK:
            fresh = not any(r.uid in self.rows for r in rows)
            self.rows.update((r.uid, r) for r in rows)
            self._resort(rows if fresh else None)
            return
        key = _key(self.sort_column)
        for row in rows:
            if row.uid in self.rows:
                self._remove_from_order(row.uid)
            self.rows[row.uid] = row
            if not self._passes(row):
                continue
            k = key(row)
            pos = bisect.bisect_left(self._keys, k)
            self._keys.insert(pos, k)
            self.order.insert(pos, row.uid)
            display = len(self.order) - 1 - pos if self.descending else pos
            if display < self.top:  # keep the rows the user is looking at in place
                self.top += 1
        self._schedule_render()

    def _remove_from_order(self, uid: int) -> None:
        index = self._display_index(uid)
        if index is None:
            return
        pos = len(self.order) - 1 - index if self.descending else index
        del self.order[pos]
        del self._keys[pos]
        if index < self.top:
            self.top -= 1

    def remove(self, uids: Iterable[int]) -> None:
        for uid in list(uids):
            self._remove_from_order(uid)
            self.rows.pop(uid, None)
            self._selected.discard(uid)
        self._render()

    def update_flags(self, flags_by_uid: dict[int, tuple[str, ...]]) -> None:
        for uid, flags in flags_by_uid.items():
            row = self.rows.get(uid)
            if row is None:
                continue
            if self.sort_column == "marks":
                self._remove_from_order(uid)
                row.flags = tuple(flags)
                self.rows.pop(uid)
                self.add_rows([row])
            else:
                row.flags = tuple(flags)
                self._refresh_row(uid)

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
            self._refresh_row(uid)

    # -- selection ----------------------------------------------------------------------
    def selection(self) -> list[int]:
        """Selected UIDs in display order (also those scrolled out of view)."""
        visible = set(self._visible)
        chosen = (self._selected - visible) | {int(i) for i in self.tree.selection()}
        return [u for u in self.shown_uids() if u in chosen] if len(chosen) > 1 else list(chosen)

    def select(self, uid: int) -> None:
        """Select one message, scroll it into view and report it."""
        self._selected = {uid}
        self._anchor = uid
        self.see(uid)
        self._report()

    def _plain_click(self, event=None):
        self._selected.clear()  # a click without Ctrl/Shift starts a new selection

    def _selected_event(self, event=None):
        # Idempotent: after a render the tree shows exactly the selected visible rows
        visible = set(self._visible)
        current = {int(i) for i in self.tree.selection()}
        self._selected = (self._selected - visible) | current
        focus = self.tree.focus()
        if focus:
            self._anchor = int(focus)
        self._report()

    def _report(self) -> None:
        chosen = self.selection()
        if chosen != self._reported:
            self._reported = chosen
            if self.on_select:
                self.on_select(chosen)
