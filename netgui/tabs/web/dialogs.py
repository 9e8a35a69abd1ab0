"""Small windows of the collection sidebar: Save as (a name and a folder) and a text editor
for a whole ``.http`` file."""

from __future__ import annotations

import tkinter as tk
from tkinter import ttk
from typing import Callable

from netgui.ui.form import Field, Form
from netgui.ui.theme import monospace, style_text

ROOT_FOLDER = "(top level)"


def drop_variables(owner) -> None:
    """Let go of ``owner``'s Tk variables now, on the Tk thread. A closed window is cyclic
    garbage (its widgets point back at it), which the collector may free later in any
    thread, and a Tk variable must not be freed outside the Tk thread."""
    for name, value in list(vars(owner).items()):
        if isinstance(value, tk.Variable):
            setattr(owner, name, None)


class SaveAsDialog(tk.Toplevel):
    """Ask for a request's name and folder; ``on_done(name, folder)`` on Save."""

    def __init__(self, parent, folders: list[str], folder: str, on_done: Callable[[str, str], None]):
        super().__init__(parent)
        self.title("Save request")
        self.transient(parent.winfo_toplevel())
        self.resizable(False, False)
        self._on_done = on_done
        frame = ttk.Frame(self, padding=14)
        frame.pack(fill="both", expand=True)
        ttk.Label(frame, text="The request becomes a .http file named after it.",
                  style="Muted.TLabel").pack(side="top", anchor="w", pady=(0, 8))
        choices = [ROOT_FOLDER] + [f for f in folders if f]
        self.form = Form(frame, [
            Field("name", "Name", required=True, width=30, remember=False),
            Field("folder", "Folder", kind="choice", choices=choices, remember=False,
                  default=folder or ROOT_FOLDER),
        ], on_submit=self._ok, submit_text="Save")
        self.form.pack(side="top", fill="x")
        self.form.add_button("Cancel", self.destroy)
        self.bind("<Escape>", lambda e: self.destroy())
        self.form.widgets["name"].focus_set()

    def destroy(self) -> None:
        super().destroy()
        self.form.variables.clear()

    def answer(self, name: str, folder: str = "") -> None:
        self.form.set_values({"name": name, "folder": folder or ROOT_FOLDER})
        self.form.submit()

    def _ok(self, values: dict) -> None:
        folder = "" if values["folder"] == ROOT_FOLDER else values["folder"]
        on_done = self._on_done
        self.destroy()
        on_done(values["name"].strip(), folder)


class FileEditor(tk.Toplevel):
    """A ``.http`` file as text. ``on_save(text, done)`` saves it in a worker and calls
    ``done(None)`` when saved (the window closes) or ``done(message)`` on failure."""

    def __init__(self, parent, app, path: str, text: str, on_save):
        super().__init__(parent)
        self.title(f"{path} — netgui")
        self.transient(parent.winfo_toplevel())
        self.geometry("640x480")
        self._on_save = on_save
        bar = ttk.Frame(self, padding=(8, 8, 8, 0))
        bar.pack(side="top", fill="x")
        ttk.Label(bar, text="Requests are separated by ### lines; # @check lines are checks.",
                  style="Muted.TLabel").pack(side="left")
        self.text = tk.Text(self, wrap="none", undo=True, font=monospace(self), padx=6, pady=6)
        style_text(self.text, app.theme)
        self.text.pack(side="top", fill="both", expand=True, padx=8, pady=8)
        self.text.insert("1.0", text)
        self.text.edit_reset()
        row = ttk.Frame(self, padding=(8, 0, 8, 8))
        row.pack(side="top", fill="x")
        self.status = ttk.Label(row, text="", style="Error.TLabel")
        self.status.pack(side="left", fill="x", expand=True)
        ttk.Button(row, text="Cancel", command=self.destroy).pack(side="right")
        self.save_button = ttk.Button(row, text="Save", command=self.save)
        self.save_button.pack(side="right", padx=(0, 6))
        self.bind("<Control-s>", lambda e: self.save())
        self.bind("<Escape>", lambda e: self.destroy())
        app.follow_theme(self, lambda palette: style_text(self.text, palette))

    def save(self) -> None:
        self.save_button.state(["disabled"])
        self._on_save(self.text.get("1.0", "end-1c").rstrip("\n") + "\n", self._saved)

    def _saved(self, problem: str | None) -> None:
        if problem is None:
            self.destroy()
            return
        self.save_button.state(["!disabled"])
        self.status.configure(text=problem)
