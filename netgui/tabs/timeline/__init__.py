"""The Timeline window (Tools → Timeline…, Ctrl+Shift+T): every tab's wire events in one
list, live, with a search box (free text and ``proto:`` ``host:`` ``dir:`` ``tab:``
``after:`` … filters), a jump to the tab and item a line belongs to, Diagnose on its
connection, and export of the selection as text or JSON.

Searches run in a worker (``TimelineStore.search``); new events arrive through the store's
listener and are drawn in batches, newest first, those the shown search finds."""

from __future__ import annotations

import time
import tkinter as tk
from tkinter import filedialog, ttk

from netgui.timeline import DEFAULT_MAX_DAYS, DEFAULT_MAX_MB, Event, events_to_json, events_to_text, parse_query
from netgui.ui.theme import monospace, style_text

from .. import handoff

LIVE_ROWS = 5000
"""Rows the list keeps while new events arrive (the store keeps everything)."""
FLUSH_MS = 150
DIRECTIONS = {">": "→", "<": "←", "*": "·", "!": "!"}
HINT = 'Search: words, "a phrase", proto:ftp host:files.example dir:in|out|error tab:mail after:10:00 before:2h'
_window = None


def _stamp(t: float, today: str) -> str:
    """The time of day (with the date before it when it is not today), to the millisecond."""
    local = time.localtime(t)
    day = time.strftime("%Y-%m-%d", local)
    return (f"{day} " if day != today else "") + time.strftime("%H:%M:%S", local) + f".{int(t * 1000) % 1000:03d}"


def _search(ctx, store, query, limit):
    started = time.perf_counter()
    found = store.search(query, limit=limit)
    return found, time.perf_counter() - started, store.count()


class TimelineWindow(tk.Toplevel):
    def __init__(self, app):
        super().__init__(app.root)
        self.app = app
        self.store = app.timeline
        self.title("Timeline")
        self.geometry("1040x620")
        self.minsize(640, 360)
        self.query = parse_query("")
        self.events: dict[str, Event] = {}   # row id -> event
        self._pending: list[Event] = []
        self._flush_id = None
        self._generation = 0
        self._serial = 0
        self.search_task = None

        outer = ttk.Frame(self, padding=8)
        outer.pack(fill="both", expand=True)
        top = ttk.Frame(outer)
        top.pack(side="top", fill="x")
        self.search_var = tk.StringVar(self)
        self.entry = ttk.Entry(top, textvariable=self.search_var)
        self.entry.pack(side="left", fill="x", expand=True)
        self.entry.bind("<Return>", lambda e: self.search())
        self.entry.bind("<Escape>", lambda e: self.clear_search())
        ttk.Button(top, text="Search", command=self.search).pack(side="left", padx=(6, 0))
        ttk.Button(top, text="Clear", command=self.clear_search).pack(side="left", padx=(4, 0))
        self.live = tk.BooleanVar(self, value=True)
        ttk.Checkbutton(top, text="Live", variable=self.live).pack(side="left", padx=(8, 0))
        self.hint = ttk.Label(outer, text=HINT, style="Muted.TLabel")
        self.hint.pack(side="top", anchor="w", pady=(2, 4))

        bottom = ttk.Frame(outer)
        bottom.pack(side="bottom", fill="x", pady=(6, 0))
        self.go_button = ttk.Button(bottom, text="Go to", command=self.go_to)
        self.go_button.pack(side="left")
        self.diagnose_button = ttk.Button(bottom, text="Diagnose…", command=self.diagnose)
        self.diagnose_button.pack(side="left", padx=(4, 0))
        ttk.Button(bottom, text="Copy", command=self.copy).pack(side="left", padx=(4, 0))
        ttk.Button(bottom, text="Export text…", command=lambda: self.export_dialog("text")).pack(
            side="left", padx=(4, 0))
        ttk.Button(bottom, text="Export JSON…", command=lambda: self.export_dialog("json")).pack(
            side="left", padx=(4, 0))
        ttk.Button(bottom, text="Close", command=self.destroy).pack(side="right")
        limits = ttk.Frame(outer)
        limits.pack(side="bottom", fill="x", pady=(6, 0))
        ttk.Label(limits, text="Keep at most").pack(side="left")
        self.max_mb = tk.StringVar(self, value=f"{app.settings.get('timeline.max_mb', DEFAULT_MAX_MB):g}")
        self.max_days = tk.StringVar(self, value=f"{app.settings.get('timeline.max_days', DEFAULT_MAX_DAYS):g}")
        for variable, unit in ((self.max_mb, "MB and"), (self.max_days, "days")):
            entry = ttk.Entry(limits, width=6, textvariable=variable, justify="right")
            entry.pack(side="left", padx=(4, 4))
            entry.bind("<Return>", lambda e: self.apply_limits())
            entry.bind("<FocusOut>", lambda e: self.apply_limits())
            ttk.Label(limits, text=unit).pack(side="left")
        self.clear_button = ttk.Button(limits, text="Delete all…", command=self.delete_all)
        self.clear_button.pack(side="right")
        self.status = ttk.Label(outer, text="", style="Status.TLabel", anchor="w")
        self.status.pack(side="bottom", fill="x", pady=(4, 0))

        panes = ttk.PanedWindow(outer, orient="vertical")
        panes.pack(side="top", fill="both", expand=True)
        listing = ttk.Frame(panes)
        columns = (("time", "Time", 150), ("tab", "Tab", 60), ("proto", "Protocol", 70),
                   ("host", "Host", 150), ("dir", "", 28), ("text", "Line", 520))
        self.tree = ttk.Treeview(listing, columns=[c[0] for c in columns], show="headings",
                                 selectmode="extended")
        for name, title, width in columns:
            self.tree.heading(name, text=title, anchor="w")
            self.tree.column(name, width=width, stretch=name == "text", anchor="w")
        scroll = ttk.Scrollbar(listing, orient="vertical", command=self.tree.yview)
        self.tree.configure(yscrollcommand=scroll.set)
        scroll.pack(side="right", fill="y")
        self.tree.pack(side="left", fill="both", expand=True)
        self.tree.bind("<<TreeviewSelect>>", lambda e: self._show_detail())
        self.tree.bind("<Double-1>", lambda e: self.go_to())
        self.tree.bind("<Return>", lambda e: self.go_to())
        self.tree.bind("<Button-3>", self._context_menu)
        panes.add(listing, weight=4)
        self.detail = tk.Text(panes, height=5, wrap="word", state="disabled", font=monospace(self))
        panes.add(self.detail, weight=1)
        self.set_palette(app.theme)
        app.follow_theme(self, self.set_palette)

        self._unsubscribe = self.store.subscribe(self._arrived)
        self.bind("<Destroy>", self._destroyed, add="+")
        self.protocol("WM_DELETE_WINDOW", self.destroy)
        self._show_buttons()
        self.search()
        self.entry.focus_set()

    # -- look ---------------------------------------------------------------------------------
    def set_palette(self, palette) -> None:
        style_text(self.detail, palette)
        self.tree.tag_configure("error", foreground=palette.error)
        self.tree.tag_configure("sent", foreground=palette.sent)
        self.tree.tag_configure("received", foreground=palette.received)
        self.tree.tag_configure("info", foreground=palette.muted)

    # -- searching ------------------------------------------------------------------------------
    def search(self, text: str | None = None) -> None:
        """Search the store (in a worker) with the box's text; new events that it finds keep
        arriving while Live is on."""
        if text is not None:
            self.search_var.set(text)
        self.query = parse_query(self.search_var.get())
        if self.query.problems:
            self.status.configure(text="; ".join(self.query.problems), style="Error.TLabel")
        else:
            self.status.configure(text="Searching…", style="Status.TLabel")
        self._generation += 1
        generation = self._generation
        self._pending = []
        if self.search_task is not None and self.search_task.running:
            self.search_task.cancel()
        self.search_task = self.app.runner.submit(
            _search, self.store, self.query, LIVE_ROWS, name="Search the timeline",
            on_result=lambda result: self._show_results(generation, *result),
            on_error=lambda err: self.status.configure(text=str(err), style="Error.TLabel"))

    def _show_results(self, generation: int, found: list[Event], took: float, stored: int) -> None:
        if generation != self._generation or not self.winfo_exists():
            return
        self.tree.delete(*self.tree.get_children())
        self.events.clear()
        self._insert(found, at_top=False)
        problem = self.store.problem
        text = (f"{len(found):,} shown of {stored:,} stored · searched in {took * 1000:.0f} ms"
                + (f" · {problem}" if problem else ""))
        if self.query.problems:
            text = "; ".join(self.query.problems) + " · " + text
        self.status.configure(text=text, style="Error.TLabel" if problem or self.query.problems
                              else "Status.TLabel")
        self._show_buttons()

    def clear_search(self) -> None:
        self.search("")

    # -- live -----------------------------------------------------------------------------------
    def _arrived(self, event: Event) -> None:
        if not self.live.get() or not self.query.matches(event):
            return
        self._pending.append(event)
        if self._flush_id is None:
            self._flush_id = self.after(FLUSH_MS, self.flush)

    def flush(self) -> None:
        """Draw the events that arrived since the last flush (newest on top)."""
        if self._flush_id is not None:
            self.after_cancel(self._flush_id)
            self._flush_id = None
        pending, self._pending = self._pending, []
        if pending:
            self._insert(pending, at_top=True)  # each on top of the one before
            rows = self.tree.get_children()
            if len(rows) > LIVE_ROWS:
                extra = rows[LIVE_ROWS:]
                self.tree.delete(*extra)
                for row in extra:
                    self.events.pop(row, None)

    def _insert(self, events: list[Event], at_top: bool) -> None:
        position = 0 if at_top else "end"
        today = time.strftime("%Y-%m-%d")
        rows = []
        for event in events:
            self._serial += 1
            row = f"e{self._serial}"
            self.events[row] = event
            stamp = _stamp(event.t, today)
            first, _, more = event.text.partition("\n")
            line = first + (f"  (+{more.count(chr(10)) + 1} lines)" if more else "")
            host = event.host + (f":{event.port}" if event.port else "")
            tag = {">": "sent", "<": "received", "!": "error"}.get(event.dir, "info")
            rows.append((row, (stamp, event.tab, event.proto, host, DIRECTIONS.get(event.dir, event.dir),
                               line[:500]), tag))
        for row, values, tag in rows:
            self.tree.insert("", position, iid=row, values=values, tags=(tag,))

    # -- the selection ---------------------------------------------------------------------------
    def selected(self) -> list[Event]:
        """The selected events in time order (all shown ones if none is selected)."""
        rows = self.tree.selection() or self.tree.get_children()
        return sorted((self.events[r] for r in rows if r in self.events), key=lambda e: (e.t, e.id or 0))

    def _current(self) -> Event | None:
        rows = self.tree.selection()
        return self.events.get(rows[0]) if rows else None

    def _show_detail(self) -> None:
        event = self._current()
        self.detail.configure(state="normal")
        self.detail.delete("1.0", "end")
        if event is not None:
            where = event.host + (f":{event.port}" if event.port else "")
            head = " · ".join(x for x in (event.tab, event.item, event.proto, where, event.conn) if x)
            self.detail.insert("1.0", f"{head}\n{event.text}")
        self.detail.configure(state="disabled")
        self._show_buttons()

    def _show_buttons(self) -> None:
        event = self._current()
        self.go_button.state(["!disabled"] if event is not None and event.tab else ["disabled"])
        self.diagnose_button.state(["!disabled"] if event is not None and event.target() else ["disabled"])

    def go_to(self) -> None:
        """Show the tab and item the selected line belongs to."""
        event = self._current()
        if event is not None and event.tab:
            handoff.reveal(self.app, event.tab, event.item)

    def diagnose(self) -> None:
        event = self._current()
        if event is not None and event.target():
            handoff.diagnose(self.app, event.target())

    def _context_menu(self, event) -> str:
        from netgui.ui.links import popup
        row = self.tree.identify_row(event.y)
        if row and row not in self.tree.selection():
            self.tree.selection_set(row)
        chosen = self._current()
        items = [("Go to", self.go_to), ("Copy", self.copy)]
        if chosen is not None and chosen.target():
            items.insert(1, (f"Diagnose {chosen.target()}", self.diagnose))
            items.append((f"Show only {chosen.host or chosen.tab}",
                          lambda: self.search(f"host:{chosen.host}" if chosen.host else f"tab:{chosen.tab}")))
        popup(self.tree, items, event)
        return "break"

    def export_text(self, kind: str = "text") -> str:
        events = self.selected()
        return events_to_json(events) if kind == "json" else events_to_text(events)

    def export(self, path: str, kind: str) -> None:
        with open(path, "w", encoding="utf-8") as f:
            f.write(self.export_text(kind))

    def export_dialog(self, kind: str) -> None:
        extension = ".json" if kind == "json" else ".txt"
        path = filedialog.asksaveasfilename(parent=self, title="Export timeline",
                                            defaultextension=extension,
                                            initialfile=f"timeline{extension}")
        if path:
            try:
                self.export(path, kind)
                self.status.configure(text=f"Exported {len(self.selected())} lines to {path}",
                                      style="Ok.TLabel")
            except OSError as exc:
                self.status.configure(text=f"Cannot write {path}: {exc.strerror or exc}",
                                      style="Error.TLabel")

    def copy(self) -> None:
        self.clipboard_clear()
        self.clipboard_append(self.export_text("text"))

    # -- limits ----------------------------------------------------------------------------------
    def apply_limits(self) -> bool:
        try:
            mb, days = float(self.max_mb.get()), float(self.max_days.get())
            if mb <= 0 or days <= 0:
                raise ValueError
        except ValueError:
            self.status.configure(text="The limits are a number of MB and of days, above 0",
                                  style="Error.TLabel")
            return False
        self.app.settings.set("timeline.max_mb", mb)
        self.app.settings.set("timeline.max_days", days)
        self.store.set_limits(int(mb * (1 << 20)), days * 86400)
        self.status.configure(text=f"Keeping at most {mb:g} MB and {days:g} days", style="Status.TLabel")
        return True

    def delete_all(self, ask: bool = True) -> None:
        from netgui.ui import dialogs
        if ask and not dialogs.confirm(self, "Delete the timeline", "Delete every stored event?"):
            return
        self.store.clear()
        self.tree.delete(*self.tree.get_children())
        self.events.clear()
        self.status.configure(text="The timeline is empty", style="Status.TLabel")

    def _destroyed(self, event) -> None:
        if event.widget is self:
            self._unsubscribe()
            if self._flush_id is not None:
                self.after_cancel(self._flush_id)
                self._flush_id = None
            global _window
            if _window is self:
                _window = None


def open_timeline(app, query: str = "") -> TimelineWindow:
    """Tools → Timeline… (one window; raised if it is open)."""
    global _window
    if _window is not None and _window.winfo_exists():
        _window.deiconify()
        _window.lift()
        if query:
            _window.search(query)
        return _window
    _window = TimelineWindow(app)
    if query:
        _window.search(query)
    return _window
