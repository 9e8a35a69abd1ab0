"""Small Tk pieces of the Web tab: an editable name/value table."""

from __future__ import annotations

import tkinter as tk
from tkinter import filedialog, ttk
from typing import Callable


class KeyValueTable(ttk.Frame):
    """Rows of (name, value): pick a row to edit it below, Add / Update / Remove.

    ``on_change(rows)`` runs after every change the user makes (not after ``set_rows``).
    With ``files=True`` an "Add file…" button adds (name, "@" + chosen path) rows.
    """

    def __init__(self, master, on_change: Callable[[list], None] | None = None,
                 headings=("Name", "Value"), files: bool = False, height: int = 5):
        super().__init__(master)
        self.on_change = on_change
        self._data: dict[str, tuple[str, str]] = {}
        self.columnconfigure(0, weight=1)
        self.rowconfigure(0, weight=1)
        box = ttk.Frame(self)
        box.grid(row=0, column=0, columnspan=2, sticky="nsew")
        box.columnconfigure(0, weight=1)
        box.rowconfigure(0, weight=1)
        self.tree = ttk.Treeview(box, columns=("name", "value"), show="headings", height=height,
                                 selectmode="browse")
        self.tree.heading("name", text=headings[0], anchor="w")
        self.tree.heading("value", text=headings[1], anchor="w")
        self.tree.column("name", width=140, stretch=False)
        self.tree.column("value", width=240, stretch=True)
        scroll = ttk.Scrollbar(box, orient="vertical", command=self.tree.yview)
        self.tree.configure(yscrollcommand=scroll.set)
        self.tree.grid(row=0, column=0, sticky="nsew")
        scroll.grid(row=0, column=1, sticky="ns")
        self.tree.bind("<<TreeviewSelect>>", self._on_select)
        self.tree.bind("<Delete>", lambda e: self.remove())

        edit = ttk.Frame(self)
        edit.grid(row=1, column=0, columnspan=2, sticky="ew", pady=(4, 0))
        edit.columnconfigure(1, weight=1)
        self.name_var = tk.StringVar(self)
        self.value_var = tk.StringVar(self)
        self.name_entry = ttk.Entry(edit, textvariable=self.name_var, width=16)
        self.value_entry = ttk.Entry(edit, textvariable=self.value_var)
        self.name_entry.grid(row=0, column=0, sticky="ew", padx=(0, 4))
        self.value_entry.grid(row=0, column=1, sticky="ew", padx=(0, 4))
        self.add_button = ttk.Button(edit, text="Add", width=6, command=self.add_from_entries)
        self.add_button.grid(row=0, column=2)
        self.update_button = ttk.Button(edit, text="Update", width=7, command=self.update_selected)
        self.update_button.grid(row=0, column=3, padx=(2, 0))
        self.remove_button = ttk.Button(edit, text="Remove", width=7, command=self.remove)
        self.remove_button.grid(row=0, column=4, padx=(2, 0))
        if files:
            ttk.Button(edit, text="Add file…", command=self.add_file).grid(row=0, column=5, padx=(2, 0))
        for entry in (self.name_entry, self.value_entry):
            entry.bind("<Return>", lambda e: (self.add_from_entries(), "break")[1])

    # -- data ---------------------------------------------------------------------------
    def rows(self) -> list[tuple[str, str]]:
        return [self._data[iid] for iid in self.tree.get_children()]

    def set_rows(self, rows) -> None:
        """Replace every row (without calling on_change)."""
        self.tree.delete(*self.tree.get_children())
        self._data.clear()
        for name, value in rows:
            self._insert(name, value)

    def _insert(self, name: str, value: str) -> str:
        # Keep the strings ourselves: Treeview hands back "007" as the number 7.
        iid = self.tree.insert("", "end", values=(name, value))
        self._data[iid] = (str(name), str(value))
        return iid

    def add(self, name: str, value: str) -> None:
        self._insert(name, value)
        self._changed()

    def add_from_entries(self) -> None:
        name, value = self.name_var.get().strip(), self.value_var.get()
        if not name:
            self.name_entry.focus_set()
            return
        self.add(name, value)
        self.name_var.set("")
        self.value_var.set("")
        self.name_entry.focus_set()

    def update_selected(self) -> None:
        selected = self.tree.selection()
        name = self.name_var.get().strip()
        if not selected or not name:
            return
        self.tree.item(selected[0], values=(name, self.value_var.get()))
        self._data[selected[0]] = (name, self.value_var.get())
        self._changed()

    def remove(self) -> None:
        selected = self.tree.selection()
        if selected:
            self.tree.delete(selected[0])
            self._data.pop(selected[0], None)
            self._changed()

    def add_file(self) -> None:
        path = filedialog.askopenfilename(parent=self, title="File to upload")
        if path:
            self.add(self.name_var.get().strip() or "file", "@" + path)

    def _on_select(self, event=None) -> None:
        selected = self.tree.selection()
        if selected:
            name, value = self._data[selected[0]]
            self.name_var.set(name)
            self.value_var.set(value)

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change(self.rows())
