"""Widgets of the FTP tab: a file pane (local or remote), the queue pane and small dialogs.

File panes insert rows in chunks from ``after()`` callbacks, so a folder of 10,000 entries
never blocks the window for long. Nothing here talks to the network.
"""

from __future__ import annotations

import os
import stat
import time
import tkinter as tk
from tkinter import ttk
from typing import Callable, Sequence

from netgui.fmt import human_bytes, human_eta, human_rate
from netgui.net.ftp.listing import DIR, FILE, LINK, RemoteEntry, display_name, sort_key
from netgui.net.ftp.queue import (
    CANCELLED,
    DONE,
    DOWNLOAD,
    FAILED,
    POLICIES,
    QUEUED,
    RUNNING,
    SKIPPED,
    WAITING,
    TransferItem,
)
from netgui.resources import asset_path
from netgui.ui.progress import ProgressRow
from netgui.ui.tasks import Progress
from netgui.ui.theme import monospace, style_text
from netgui.ui.treefill import insert_rows, row_options

SLICE_SECONDS = 0.020     # rows are inserted for at most this long per after() slice
COLUMNS = (("size", "Size", 74, "e"), ("modified", "Modified", 140, "w"), ("perms", "Permissions", 84, "w"))

MenuItems = Sequence["tuple[str, Callable[[], None]] | None"]


def row_texts(entry: RemoteEntry) -> tuple[str, str, str, str]:
    """What a pane shows for an entry: (name, size, modified, permissions)."""
    size = human_bytes(entry.size) if entry.size is not None and entry.kind != DIR else ""
    name = " " + display_name(entry.name)
    if entry.kind == LINK and entry.target:
        name += " → " + display_name(entry.target)
    return name, size, entry.modified_text(), entry.perms


def prepare(entries: list[RemoteEntry]) -> list[tuple[RemoteEntry, tuple]]:
    """Entries sorted by name (folders first) with their row texts, made in a worker thread
    so the Tk thread only inserts rows."""
    ordered = sorted(entries, key=sort_key("name"))
    result = []
    for n, e in enumerate(ordered):
        if n % 256 == 255:
            time.sleep(0)   # yield the GIL to the Tk thread now and then
        result.append((e, row_texts(e)))
    return result


def list_local(ctx, path: str) -> tuple[str, list]:
    """List a local folder (runs in a worker): (absolute path, entries)."""
    folder = os.path.abspath(os.path.expanduser(path or os.path.expanduser("~")))
    entries = []
    with os.scandir(folder) as it:
        for n, item in enumerate(it):
            if n % 500 == 0:
                ctx.check()
            try:
                st = item.stat(follow_symlinks=True)
                is_dir = stat.S_ISDIR(st.st_mode)
            except OSError:
                st, is_dir = None, False
            kind = DIR if is_dir else (LINK if item.is_symlink() else FILE)
            entries.append(RemoteEntry(
                name=item.name, kind=kind,
                size=None if is_dir or st is None else st.st_size,
                modified=st.st_mtime if st else None,
                perms=stat.filemode(st.st_mode) if st else ""))
    return folder, prepare(entries)


class FilePane(ttk.Frame):
    """A titled folder view: path bar, Up, Refresh, a sortable list with icons, a context menu."""

    def __init__(self, master, title: str, *, on_open: Callable[[RemoteEntry], None],
                 on_path: Callable[[str], None], on_up: Callable[[], None],
                 on_refresh: Callable[[], None], menu: MenuItems = (), **kw):
        super().__init__(master, **kw)
        self.on_open, self.on_path = on_open, on_path
        self.path = ""
        self.entries: list[RemoteEntry] = []
        self._rows: dict[str, RemoteEntry] = {}
        self._texts: dict[int, tuple] = {}
        self._generation = 0
        self._sort = ("name", False)
        self.filling = False
        self.shown_at: float | None = None

        head = ttk.Frame(self)
        head.pack(side="top", fill="x")
        ttk.Label(head, text=title, font=("TkHeadingFont", 10, "bold")).pack(side="left", padx=(2, 6))
        self.path_var = tk.StringVar(self)
        self.path_entry = ttk.Entry(head, textvariable=self.path_var)
        self.path_entry.pack(side="left", fill="x", expand=True)
        self.path_entry.bind("<Return>", lambda e: on_path(self.path_var.get().strip()))
        self.up_button = ttk.Button(head, text="↑ Up", width=5, command=on_up)
        self.up_button.pack(side="left", padx=(4, 0))
        self.refresh_button = ttk.Button(head, text="⟳", width=3, command=on_refresh)
        self.refresh_button.pack(side="left", padx=(4, 0))

        body = ttk.Frame(self)
        body.pack(side="top", fill="both", expand=True, pady=(4, 0))
        self.tree = ttk.Treeview(body, columns=[c[0] for c in COLUMNS], selectmode="extended")
        self.tree.heading("#0", text="Name", anchor="w", command=lambda: self.sort_by("name"))
        self.tree.column("#0", width=130, minwidth=80, stretch=True)
        for key, label, width, anchor in COLUMNS:
            self.tree.heading(key, text=label, anchor="center", command=lambda k=key: self.sort_by(k))
            self.tree.column(key, width=width, anchor=anchor, stretch=False)
        scroll = ttk.Scrollbar(body, orient="vertical", command=self.tree.yview)
        self.tree.configure(yscrollcommand=scroll.set)
        scroll.pack(side="right", fill="y")
        self.tree.pack(side="left", fill="both", expand=True)
        self.status = ttk.Label(self, text="", style="Muted.TLabel", anchor="w")
        self.status.pack(side="top", fill="x")

        self.icons = {kind: tk.PhotoImage(master=self, file=str(asset_path(f"ftp-{kind}.png")))
                      for kind in (DIR, FILE, LINK)}
        self.tree.bind("<Double-1>", self._on_double)
        self.tree.bind("<Return>", lambda e: self.open_selected())
        self.tree.bind("<BackSpace>", lambda e: on_up())
        self.menu = tk.Menu(self, tearoff=False)
        for item in menu:
            if item is None:
                self.menu.add_separator()
            else:
                self.menu.add_command(label=item[0], command=item[1])
        self.tree.bind("<Button-3>", self._popup)
        if self.tk.call("tk", "windowingsystem") == "aqua":
            self.tree.bind("<Button-2>", self._popup)
        self._update_headings()

    # showing -------------------------------------------------------------------------
    def show(self, path: str, prepared: list[tuple[RemoteEntry, tuple]]) -> None:
        """Show a folder: ``prepared`` comes from ``prepare()`` (sorted by name, with texts).
        Rows go in by slices of a few milliseconds each, so the window stays responsive."""
        self.path = path
        self.path_var.set(display_name(path))
        self.entries = [e for e, _ in prepared]
        self._texts = {id(e): texts for e, texts in prepared}
        column, reverse = self._sort
        if column == "name" and not reverse:
            self._fill(self.entries)
        else:
            self._refill()

    def _refill(self) -> None:
        column, reverse = self._sort
        ordered = sorted(self.entries, key=sort_key(column), reverse=reverse)
        if reverse:  # keep folders first when reversed too
            ordered = [e for e in ordered if e.kind == DIR] + [e for e in ordered if e.kind != DIR]
        self._fill(ordered)

    def _fill(self, ordered: list[RemoteEntry]) -> None:
        self._generation += 1
        generation = self._generation
        children = self.tree.get_children()
        if children:
            self.tree.delete(*children)
        self._rows = {}
        self.filling = True
        self.shown_at = None
        folders = sum(1 for e in self.entries if e.kind == DIR)
        self.status.configure(text=f"{len(self.entries) - folders} files, {folders} folders")
        self._insert_slice(generation, ordered, 0)

    def _insert_slice(self, generation: int, ordered: list[RemoteEntry], start: int) -> None:
        if generation != self._generation:
            return
        icons, texts, rows = self.icons, self._texts, self._rows
        deadline = time.perf_counter() + SLICE_SECONDS
        index, count = start, len(ordered)
        while index < count and time.perf_counter() < deadline:
            stop = min(count, index + 128)
            chunk = []
            for i in range(index, stop):
                entry = ordered[i]
                row = texts.get(id(entry)) or row_texts(entry)
                rows[f"r{i}"] = entry
                chunk.append(row_options(row[1:], iid=f"r{i}", text=row[0], image=icons[entry.kind]))
            insert_rows(self.tree, chunk)  # one Tcl call per chunk: see netgui.ui.treefill
            index = stop
        if index < count:
            self.after(1, self._insert_slice, generation, ordered, index)
        else:
            self.filling = False
            self.shown_at = time.perf_counter()
            self.event_generate("<<PaneFilled>>", when="tail")

    def clear(self, message: str = "") -> None:
        self._generation += 1
        self.entries, self._rows = [], {}
        children = self.tree.get_children()
        if children:
            self.tree.delete(*children)
        self.path_var.set("")
        self.path = ""
        self.filling = False
        self.status.configure(text=message)

    def set_message(self, text: str) -> None:
        self.status.configure(text=text)

    # sorting ---------------------------------------------------------------------------
    def sort_by(self, column: str) -> None:
        current, reverse = self._sort
        self._sort = (column, not reverse if column == current else False)
        self._update_headings()
        self._refill()

    def _update_headings(self) -> None:
        column, reverse = self._sort
        arrow = " ▼" if reverse else " ▲"
        self.tree.heading("#0", text="Name" + (arrow if column == "name" else ""))
        for key, label, _, _ in COLUMNS:
            self.tree.heading(key, text=label + (arrow if column == key else ""))

    def shown_names(self) -> list[str]:
        """Names in the order shown (for tests and keyboard users)."""
        return [self._rows[iid].name for iid in self.tree.get_children() if iid in self._rows]

    # selection and opening ---------------------------------------------------------------
    def selected(self) -> list[RemoteEntry]:
        return [self._rows[iid] for iid in self.tree.selection() if iid in self._rows]

    def select_names(self, names: Sequence[str]) -> None:
        wanted = set(names)
        iids = [iid for iid, e in self._rows.items() if e.name in wanted]
        self.tree.selection_set(iids)
        if iids:
            self.tree.focus(iids[0])
            self.tree.see(iids[0])

    def open_selected(self) -> None:
        chosen = self.selected()
        if len(chosen) == 1:
            self.on_open(chosen[0])

    def _on_double(self, event) -> None:
        iid = self.tree.identify_row(event.y)
        if iid in self._rows:
            self.on_open(self._rows[iid])

    def _popup(self, event) -> None:
        iid = self.tree.identify_row(event.y)
        if iid and iid not in self.tree.selection():
            self.tree.selection_set(iid)
        try:
            self.menu.tk_popup(event.x_root, event.y_root)
        finally:
            self.menu.grab_release()


STATE_TEXT = {QUEUED: "Queued", RUNNING: "Running", WAITING: "Target exists", DONE: "Done",
              FAILED: "Failed", SKIPPED: "Skipped", CANCELLED: "Cancelled"}
POLICY_LABELS = {"ask": "Ask", "overwrite": "Overwrite", "resume": "Resume", "rename": "Rename",
                 "skip": "Skip"}


class QueuePane(ttk.Frame):
    """The transfer queue: one row per item with progress, rate and state; total progress."""

    def __init__(self, master, *, on_cancel, on_retry, on_remove, on_clear, on_concurrency,
                 concurrency: int = 2, policy: str = "ask", **kw):
        super().__init__(master, **kw)
        bar = ttk.Frame(self)
        bar.pack(side="top", fill="x")
        ttk.Label(bar, text="Transfers", font=("TkHeadingFont", 10, "bold")).pack(side="left", padx=(2, 8))
        self.cancel_button = ttk.Button(bar, text="Cancel", command=on_cancel)
        self.retry_button = ttk.Button(bar, text="Retry", command=on_retry)
        self.remove_button = ttk.Button(bar, text="Remove", command=on_remove)
        self.clear_button = ttk.Button(bar, text="Clear finished", command=on_clear)
        for b in (self.cancel_button, self.retry_button, self.remove_button, self.clear_button):
            b.pack(side="left", padx=1)
        self.policy_var = tk.StringVar(self, value=POLICY_LABELS.get(policy, "Ask"))
        self.policy_box = ttk.Combobox(bar, textvariable=self.policy_var, state="readonly", width=9,
                                       values=list(POLICY_LABELS.values()))
        self.policy_box.pack(side="right")
        ttk.Label(bar, text="If it exists:").pack(side="right", padx=(10, 4))
        self.concurrency_var = tk.IntVar(self, value=concurrency)
        self.concurrency_box = ttk.Spinbox(bar, from_=1, to=4, width=2, textvariable=self.concurrency_var,
                                           state="readonly",
                                           command=lambda: on_concurrency(self.concurrency_var.get()))
        self.concurrency_box.pack(side="right")
        ttk.Label(bar, text="At once:").pack(side="right", padx=(10, 4))
        self.total = ProgressRow(self, "Total")
        self.total.pack(side="bottom", fill="x", pady=(4, 0))

        body = ttk.Frame(self)
        body.pack(side="top", fill="both", expand=True, pady=(4, 0))
        columns = (("dir", "", 28, "center"), ("size", "Size", 90, "e"), ("progress", "Progress", 70, "e"),
                   ("rate", "Rate", 90, "e"), ("state", "Status", 320, "w"))
        self.tree = ttk.Treeview(body, columns=[c[0] for c in columns], selectmode="extended", height=5)
        self.tree.heading("#0", text="File", anchor="w")
        self.tree.column("#0", width=300, stretch=True)
        for key, label, width, anchor in columns:
            self.tree.heading(key, text=label, anchor="w" if key == "state" else "center")
            self.tree.column(key, width=width, anchor=anchor, stretch=key == "state")
        scroll = ttk.Scrollbar(body, orient="vertical", command=self.tree.yview)
        self.tree.configure(yscrollcommand=scroll.set)
        scroll.pack(side="right", fill="y")
        self.tree.pack(side="left", fill="both", expand=True)
        self._shown: dict[int, tuple] = {}

    @property
    def policy(self) -> str | None:
        """The default answer for new batches (None = ask)."""
        label = self.policy_var.get()
        for key, text in POLICY_LABELS.items():
            if text == label:
                return None if key == "ask" else key
        return None

    def selected_ids(self) -> list[int]:
        return [int(iid[1:]) for iid in self.tree.selection()]

    def sync(self, items: list[TransferItem], rates: dict[int, Progress]) -> None:
        """Bring the rows in line with the queue's items (only changed rows are touched)."""
        present = set()
        for position, item in enumerate(items):
            if item.is_dir and item.state == DONE:
                continue   # an expanded folder: its files are the rows that matter
            iid = f"q{item.id}"
            present.add(iid)
            p = rates.get(item.id)
            if item.state == RUNNING and p is not None:
                rate = human_rate(p.rate) if p.rate else ""
                eta = f" · {human_eta(p.eta)} left" if p.eta is not None else ""
            else:
                rate, eta = "", ""
            fraction = (item.done / item.size) if item.size else (1.0 if item.state == DONE else 0.0)
            state = STATE_TEXT.get(item.state, item.state)
            if item.error and item.state in (FAILED, WAITING, CANCELLED, QUEUED):
                state = f"{state}: {item.error}"
            elif item.state == RUNNING:
                state += eta
            arrow = "↓" if item.direction == DOWNLOAD else "↑"
            where = item.remote if item.direction == DOWNLOAD else str(item.local)
            row = (display_name(where + ("/" if item.is_dir else "")),
                   (arrow, "" if item.size is None else human_bytes(item.size),
                    "" if item.is_dir else f"{min(1.0, fraction) * 100:.0f}%", rate, state))
            if self._shown.get(item.id) == row and self.tree.exists(iid):
                continue
            self._shown[item.id] = row
            if self.tree.exists(iid):
                self.tree.item(iid, text=row[0], values=row[1])
            else:
                self.tree.insert("", "end", iid=iid, text=row[0], values=row[1])
        for iid in self.tree.get_children():
            if iid not in present:
                self.tree.delete(iid)
                self._shown.pop(int(iid[1:]), None)

    def row_values(self, item_id: int) -> tuple:
        return self.tree.item(f"q{item_id}", "values")


class ConflictDialog(tk.Toplevel):
    """"The target exists": overwrite, resume, rename or skip — optionally for the whole batch."""

    def __init__(self, master, item: TransferItem, detail: str, on_answer: Callable[[str, bool], None]):
        super().__init__(master)
        self.title("Target exists")
        self.transient(master.winfo_toplevel())
        self.resizable(False, False)
        self.on_answer = on_answer
        frame = ttk.Frame(self, padding=16)
        frame.pack(fill="both", expand=True)
        target = item.local if item.direction == DOWNLOAD else item.remote
        ttk.Label(frame, text=f"{display_name(str(target))} already exists.",
                  font=("TkHeadingFont", 10, "bold"), wraplength=420).pack(anchor="w")
        ttk.Label(frame, text=detail, style="Muted.TLabel", wraplength=420).pack(anchor="w", pady=(4, 8))
        self.choice = tk.StringVar(self, value="overwrite")
        for policy in POLICIES:
            ttk.Radiobutton(frame, text=POLICY_LABELS[policy], value=policy,
                            variable=self.choice).pack(anchor="w")
        self.for_batch = tk.BooleanVar(self, value=True)
        ttk.Checkbutton(frame, text="Do the same for the rest of this batch",
                        variable=self.for_batch).pack(anchor="w", pady=(8, 0))
        buttons = ttk.Frame(frame)
        buttons.pack(fill="x", pady=(12, 0))
        self.ok_button = ttk.Button(buttons, text="OK", command=self.answer)
        self.ok_button.pack(side="right")
        self.bind("<Return>", lambda e: self.answer())
        self.bind("<Escape>", lambda e: (self.choice.set("skip"), self.answer()))
        self.protocol("WM_DELETE_WINDOW", lambda: (self.choice.set("skip"), self.answer()))

    def answer(self) -> None:
        choice, for_batch = self.choice.get(), bool(self.for_batch.get())
        self.destroy()
        self.on_answer(choice, for_batch)


class TextViewer(tk.Toplevel):
    """A read-only window with a remote text file."""

    def __init__(self, master, title: str, text: str, palette, truncated: bool = False):
        super().__init__(master)
        self.title(title)
        self.geometry("720x520")
        body = ttk.Frame(self, padding=6)
        body.pack(fill="both", expand=True)
        if truncated:
            ttk.Label(body, text="Only the first part of the file is shown.",
                      style="Muted.TLabel").pack(anchor="w")
        self.text = tk.Text(body, wrap="none", font=monospace(self), undo=False)
        style_text(self.text, palette)
        scroll = ttk.Scrollbar(body, orient="vertical", command=self.text.yview)
        self.text.configure(yscrollcommand=scroll.set)
        scroll.pack(side="right", fill="y")
        self.text.pack(side="left", fill="both", expand=True)
        self.text.insert("1.0", text)
        self.text.configure(state="disabled")
        self.bind("<Escape>", lambda e: self.destroy())
