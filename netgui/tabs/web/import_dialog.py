"""The import window: paste a curl command, or open a HAR file or a Postman collection.

A curl command can go straight into the request form; anything can go into the open
collection as ``.http`` files, with its credentials moved into secret variables.
"""

from __future__ import annotations

import tkinter as tk
from pathlib import Path
from tkinter import filedialog, ttk

from netgui.net.http.importers import ImportProblem
from netgui.ui.theme import monospace, style_text

from . import collection_work as work
from .dialogs import drop_variables

ROOT_FOLDER = "(top level)"


class ImportDialog(tk.Toplevel):
    def __init__(self, parent, panel):
        super().__init__(parent)
        self.panel = panel
        self.app = panel.app
        self.title("Import requests — netgui")
        self.transient(parent.winfo_toplevel())
        self.geometry("640x440")
        self.minsize(480, 320)
        self.path: str | None = None
        frame = ttk.Frame(self, padding=10)
        frame.pack(fill="both", expand=True)
        ttk.Label(frame, text="Paste a curl command (as browsers' “Copy as cURL” writes it), or open a "
                              "HAR file or a Postman collection (v2.1).", wraplength=600,
                  justify="left").pack(side="top", anchor="w")
        self.text = tk.Text(frame, height=10, wrap="word", undo=True, font=monospace(self), padx=6, pady=6)
        style_text(self.text, self.app.theme)
        self.text.pack(side="top", fill="both", expand=True, pady=(6, 6))
        self.text.bind("<<Modified>>", self._typed)
        row = ttk.Frame(frame)
        row.pack(side="top", fill="x")
        ttk.Button(row, text="Open file…", command=self.choose_file).pack(side="left")
        self.file_label = ttk.Label(row, text="", style="Muted.TLabel")
        self.file_label.pack(side="left", padx=(8, 0))

        where = ttk.Frame(frame)
        where.pack(side="top", fill="x", pady=(8, 0))
        self.target = tk.StringVar(self, value="collection" if panel.collection else "form")
        self.form_radio = ttk.Radiobutton(where, text="Into the request form (curl only)", value="form",
                                          variable=self.target)
        self.form_radio.pack(side="top", anchor="w")
        into = ttk.Frame(where)
        into.pack(side="top", fill="x")
        self.collection_radio = ttk.Radiobutton(into, text="Into the collection, folder:", value="collection",
                                                variable=self.target)
        self.collection_radio.pack(side="left")
        folders = [ROOT_FOLDER] + (panel.collection.folders if panel.collection else [])
        self.folder = tk.StringVar(self, value=panel.selected_folder() or ROOT_FOLDER)
        self.folder_box = ttk.Combobox(into, textvariable=self.folder, values=folders, width=24)
        self.folder_box.pack(side="left", padx=(6, 0))
        if panel.collection is None:
            self.collection_radio.state(["disabled"])
            self.folder_box.state(["disabled"])

        bottom = ttk.Frame(frame)
        bottom.pack(side="top", fill="x", pady=(10, 0))
        self.status = ttk.Label(bottom, text="", style="Muted.TLabel", wraplength=440, justify="left")
        self.status.pack(side="left", fill="x", expand=True)
        ttk.Button(bottom, text="Close", command=self.destroy).pack(side="right")
        self.import_button = ttk.Button(bottom, text="Import", command=self.do_import, style="Accent.TButton")
        self.import_button.pack(side="right", padx=(0, 6))
        self.bind("<Escape>", lambda e: self.destroy())
        self.text.focus_set()

    def _typed(self, event=None) -> None:
        if self.text.edit_modified():
            self.text.edit_modified(False)
            if self.path:
                self.path = None
                self.file_label.configure(text="")

    def choose_file(self) -> None:
        path = filedialog.askopenfilename(parent=self, title="HAR file or Postman collection", filetypes=[
            ("HAR and Postman files", "*.har *.json"), ("All files", "*")])
        if path:
            self.set_file(path)

    def set_file(self, path: str) -> None:
        self.text.delete("1.0", "end")
        self.text.edit_modified(False)
        self.path = path
        self.file_label.configure(text=Path(path).name)

    def paste(self, text: str) -> None:
        self.text.delete("1.0", "end")
        self.text.insert("1.0", text)

    def _say(self, text: str, kind: str = "info") -> None:
        style = {"error": "Error.TLabel", "ok": "Ok.TLabel"}.get(kind, "Muted.TLabel")
        self.status.configure(text=text, style=style)

    def do_import(self) -> None:
        text = self.text.get("1.0", "end-1c")
        if not self.path and not text.strip():
            self._say("Paste a curl command or open a file first.", "error")
            return
        if self.target.get() == "form":
            if self.path or text.lstrip().startswith("{"):
                self._say("HAR files and Postman collections go into a collection: open one first.",
                          "error")
                return
            try:
                self.panel.paste_curl(text, quiet=False)
            except ImportProblem as exc:
                self._say(str(exc), "error")
                return
            self.destroy()
            return
        self.import_button.state(["disabled"])
        self._say("Reading…")
        self.app.runner.submit(work.read_import, self.path, text, name="Read import",
                               on_result=self._read, on_error=self._failed)

    def _read(self, imported) -> None:
        panel = self.panel
        if not self.winfo_exists():
            return  # closed meanwhile: nothing is imported
        if panel.collection is None:
            self._failed(ImportProblem("Open a collection folder first"))
            return
        folder = self.folder.get().strip()
        folder = "" if folder in ("", ROOT_FOLDER) else folder.strip("/")
        self.app.runner.submit(work.write_imported, self.app.secrets, panel.root_path, folder, imported,
                               panel.env_name, dict(panel.secret_values), name="Import requests",
                               on_result=self._written, on_error=self._failed)

    def _written(self, written) -> None:
        panel = self.panel
        count = len(written.files)
        message = f"Imported into {count} file{'s' if count != 1 else ''}: {', '.join(written.files[:3])}" + \
            ("…" if count > 3 else "")
        if written.secrets:
            message += (f". Credentials went to the keyring as secret variables of {written.environment}: "
                        + ", ".join(written.secrets))
            if panel.env_name is None:
                panel._pending_env = written.environment
        panel.tab.form.set_status(message, "ok")
        panel.reload()
        self.result = written
        if not self.winfo_exists():
            return
        warnings = "\n".join(written.warnings[:5])
        self.import_button.state(["!disabled"])
        self._say(message + (f"\n{warnings}" if warnings else ""), "ok")

    def _failed(self, err) -> None:
        if not self.winfo_exists():
            self.panel.tab.form.set_status(str(err), "error")
            return
        self.import_button.state(["!disabled"])
        self._say(str(err), "error")

    result = None

    def destroy(self) -> None:
        super().destroy()
        drop_variables(self)
