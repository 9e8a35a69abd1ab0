"""Small Tk pieces shared by the DNS tab's panes: the list-in, table-out pane, the page that
runs the form's question with a file setting (Trace, DNSSEC), scrolled tables and text."""

from __future__ import annotations

import tkinter as tk
from tkinter import filedialog, ttk
from typing import Iterable, Sequence

from netgui.ui.theme import style_text
from netgui.ui.treefill import insert_rows, row_options


class ListPane(ttk.Frame):
    """A list typed or pasted on the left (one item a line) with a run and a cancel button and
    a status line under it; the subclass puts its results on the right.

    Subclasses build their options between ``super().__init__`` and ``add_buttons``.
    """

    def __init__(self, master, tab, prompt: str, width: int, height: int):
        super().__init__(master, padding=4)
        self.tab = tab
        self.task = None
        left = ttk.Frame(self)
        left.pack(side="left", fill="y")
        ttk.Label(left, text=prompt, style="Muted.TLabel").pack(side="top", anchor="w")
        self.bottom = ttk.Frame(left)
        self.bottom.pack(side="bottom", fill="x")
        self.entry = tk.Text(left, width=width, height=height, wrap="none", undo=True)
        self.entry.pack(side="top", fill="both", expand=True)

    def add_buttons(self, run_text: str) -> ttk.Frame:
        """The run and cancel buttons (``self.run``, ``self.cancel``); returns their row."""
        buttons = ttk.Frame(self.bottom)
        buttons.pack(side="top", fill="x", pady=(4, 0))
        self.run_button = ttk.Button(buttons, text=run_text, command=self.run, style="Accent.TButton")
        self.run_button.pack(side="left")
        self.cancel_button = ttk.Button(buttons, text="Cancel", command=self.cancel)
        self.cancel_button.pack(side="left", padx=4)
        self.cancel_button.state(["disabled"])
        return buttons

    def add_status(self, wraplength: int) -> None:
        self.status = ttk.Label(self.bottom, text="", style="Status.TLabel", wraplength=wraplength)
        self.status.pack(side="top", fill="x", pady=(2, 0))

    def say(self, text: str, error: bool = False) -> None:
        """Put one line in the status line."""
        self.status.configure(text=text, style="Error.TLabel" if error else "Status.TLabel")

    def try_file(self, action, path: str, verb: str) -> None:
        """``action(path)``; a file that cannot be read or written becomes the status line."""
        try:
            action(path)
        except OSError as exc:
            self.say(f"Cannot {verb} {path}: {exc.strerror or exc}", error=True)

    def set_entry(self, text: str) -> None:
        self.entry.delete("1.0", "end")
        self.entry.insert("1.0", text)

    def entry_text(self) -> str:
        return self.entry.get("1.0", "end-1c")

    def set_palette(self, palette) -> None:
        style_text(self.entry, palette)
        self.entry.configure(highlightthickness=1, highlightbackground=palette.muted)

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()


class QuestionPage(ttk.Frame):
    """A page that runs the form's question with a setting of its own kept in a file: a run
    and a cancel button, the file field with Browse…, and (``tree_view``) a scrolled tree.
    Subclasses build the rest and start their task with ``self.tab.start``."""

    def __init__(self, master, tab, run_text: str, file_label: str, file_value: str,
                 file_title: str, filetypes):
        super().__init__(master, padding=4)
        self.tab = tab
        self.task = None
        self.file_title, self.filetypes = file_title, filetypes
        self.bar = ttk.Frame(self)
        self.bar.pack(side="top", fill="x")
        self.run_button = ttk.Button(self.bar, text=run_text, command=self.run,
                                     style="Accent.TButton")
        self.run_button.pack(side="left")
        self.cancel_button = ttk.Button(self.bar, text="Cancel", command=self.cancel)
        self.cancel_button.pack(side="left", padx=4)
        self.cancel_button.state(["disabled"])
        ttk.Label(self.bar, text=file_label).pack(side="left", padx=(10, 3))
        self.file = tk.StringVar(self, value=file_value)
        ttk.Entry(self.bar, textvariable=self.file, width=24).pack(side="left", fill="x",
                                                                  expand=True)
        ttk.Button(self.bar, text="Browse…", command=self.browse).pack(side="left", padx=(3, 0))

    def tree_view(self, columns) -> ttk.Treeview:
        """A scrolled tree with the item column ``#0`` and ``columns`` as
        (key, title, width, stretch), key ``#0`` included."""
        holder = ttk.Frame(self)
        holder.pack(side="top", fill="both", expand=True)
        tree = ttk.Treeview(holder, columns=[key for key, *_ in columns if key != "#0"],
                            show="tree headings", height=6, selectmode="browse")
        for key, title, width, stretch in columns:
            tree.heading(key, text=title, anchor="w")
            tree.column(key, width=width, stretch=stretch, anchor="w")
        scrolled(holder, tree)
        return tree

    def browse(self) -> None:
        path = filedialog.askopenfilename(parent=self, title=self.file_title,
                                          filetypes=self.filetypes)
        if path:
            self.file.set(path)

    def begin(self) -> dict | None:
        """The form's options when the page may start (nothing else running), else None."""
        if self.tab.busy():
            return None
        return self.tab.options(need_name=True)

    def running(self) -> None:
        self.run_button.state(["disabled"])
        self.cancel_button.state(["!disabled"])

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()

    def _on_error(self, err) -> None:
        self.say(str(err), error=True)
        from netgui.tabs import handoff
        self.tab.form.set_status(str(err), "error", action=handoff.error_action(self.tab.app, err))

    def _on_done(self, task) -> None:
        self.run_button.state(["!disabled"])
        self.cancel_button.state(["disabled"])


class Table(ttk.Frame):
    """A ttk.Treeview with scrollbars, named columns, Ctrl+C copy and click-to-sort."""

    def __init__(self, master, columns: Sequence[tuple[str, str, int]], height: int = 6,
                 stretch: str | None = None, **kw):
        super().__init__(master, **kw)
        self.keys = [key for key, _, _ in columns]
        self.tree = ttk.Treeview(self, columns=self.keys, show="headings", height=height,
                                 selectmode="extended")
        for key, title, width in columns:
            self.tree.heading(key, text=title, anchor="w",
                              command=lambda k=key: self.sort_by(k))
            self.tree.column(key, width=width, minwidth=40, anchor="w",
                             stretch=(key == stretch) if stretch else True)
        scrolled(self, self.tree)
        self.tree.bind("<Control-c>", lambda e: self.copy_selection())
        self.tree.bind("<Control-a>", lambda e: self.tree.selection_set(self.tree.get_children()))
        self._descending: dict[str, bool] = {}

    def clear(self) -> None:
        self.tree.delete(*self.tree.get_children())

    def add(self, values: Sequence, tags: Sequence[str] = ()) -> str:
        return self.add_many([(values, tags)])[0]

    def add_many(self, rows: Iterable[tuple[Sequence, Sequence[str]]]) -> tuple[str, ...]:
        """Append ``(values, tags)`` rows in one Tcl call; returns their item ids."""
        return insert_rows(self.tree, [row_options([_cell(v) for v in values], tags)
                                       for values, tags in rows])

    def rows(self) -> list[tuple[str, ...]]:
        """Every row's cell texts, top to bottom."""
        return [tuple(str(v) for v in self.tree.item(i, "values")) for i in self.tree.get_children()]

    def row_values(self, item: str) -> dict[str, str]:
        return dict(zip(self.keys, (str(v) for v in self.tree.item(item, "values"))))

    def copy_selection(self) -> str:
        """Copy the selected rows (all rows when none is selected) as tab-separated text."""
        items = self.tree.selection() or self.tree.get_children()
        text = "\n".join("\t".join(str(v) for v in self.tree.item(i, "values")) for i in items)
        self.clipboard_clear()
        self.clipboard_append(text)
        return "break"

    def sort_by(self, key: str) -> None:
        """Sort by a column (numbers numerically); a second click reverses."""
        descending = self._descending.get(key, False)
        items = list(self.tree.get_children())
        column = self.keys.index(key)

        def sort_key(item):
            value = str(self.tree.item(item, "values")[column])
            try:
                return (0, float(value), "")
            except ValueError:
                return (1, 0.0, value.lower())

        items.sort(key=sort_key, reverse=descending)
        for position, item in enumerate(items):
            self.tree.move(item, "", position)
        self._descending[key] = not descending


def _cell(value) -> str:
    if value is None:
        return ""
    text = str(value)
    return text if len(text) < 4000 else text[:4000] + "…"


def scrolled_text(master, height: int = 10, font=None) -> tuple[ttk.Frame, tk.Text]:
    """A read-only tk.Text with a vertical scrollbar."""
    frame = ttk.Frame(master)
    text = tk.Text(frame, height=height, wrap="none", state="disabled", undo=False, font=font)
    scrolled(frame, text)
    return frame, text


def scrolled(frame: ttk.Frame, widget) -> None:
    """Grid ``widget`` (a child of ``frame``) with vertical and horizontal scrollbars."""
    yscroll = ttk.Scrollbar(frame, orient="vertical", command=widget.yview)
    xscroll = ttk.Scrollbar(frame, orient="horizontal", command=widget.xview)
    widget.configure(yscrollcommand=yscroll.set, xscrollcommand=xscroll.set)
    widget.grid(row=0, column=0, sticky="nsew")
    yscroll.grid(row=0, column=1, sticky="ns")
    xscroll.grid(row=1, column=0, sticky="ew")
    frame.rowconfigure(0, weight=1)
    frame.columnconfigure(0, weight=1)


def set_text(widget: tk.Text, content: str) -> None:
    widget.configure(state="normal")
    widget.delete("1.0", "end")
    widget.insert("1.0", content)
    widget.configure(state="disabled")
