"""The collection sidebar of the Web tab: a folder of ``.http`` files as a tree, the
environment selector, and what opens, saves, imports and runs requests.

It owns the collection state (the folder, its parsed files, the chosen environment and
its secret values from the keyring) and resolves ``{{variables}}`` for the tab. All file
and keyring work goes through the task runner; the Tk thread only looks at memory. Outside
edits are noticed by a look at the folder every few seconds (in a worker) while the tab
is on screen.
"""

from __future__ import annotations

import tkinter as tk
from pathlib import Path, PurePosixPath
from tkinter import filedialog, ttk

from netgui.net.http.checks import MISSING, evaluate_all, subject_of
from netgui.net.http.collection import (
    ChangedOnDisk,
    Collection,
    HttpEntry,
    anchor_files,
    entry_to_request,
    file_stem,
    items_under,
    parse_http,
    request_to_entry,
)
from netgui.net.http.importers import ImportProblem, parse_curl
from netgui.net.http.request import Request
from netgui.net.http.variables import (
    environment_names,
    make_resolver,
    resolve_for_sending,
)

from . import collection_work as work

LOOK_MS = 2000
SETTINGS_KEY = "web.collection"
NO_ENV = "(no environment)"


class CollectionPanel(ttk.Frame):
    """The sidebar. ``tab`` is the WebTab (build_request, load_request, checks_view, form)."""

    def __init__(self, master, tab):
        super().__init__(master, padding=(0, 0, 6, 0))
        self.tab = tab
        self.app = tab.app
        self.root_path: Path | None = None
        self.collection: Collection | None = None
        self.snapshot: dict = {}
        self.env_name: str | None = None
        self.secret_values: dict[str, str] = {}
        self.current: tuple[str, int] | None = None
        """The file and index of the request in the form (None: not from the collection)."""
        self.current_entry: HttpEntry | None = None
        self.expected: str | None = None
        """The text of the current request's file when it was opened (to notice outside edits)."""
        self._looking = False
        self._look_id = None
        self._build()
        self._schedule_look()
        remembered = (self.app.settings.get(SETTINGS_KEY) or {}).get("folder")
        if remembered:
            self.open(remembered, quiet=True)

    # -- building ---------------------------------------------------------------------------
    def _build(self) -> None:
        head = ttk.Frame(self)
        head.pack(side="top", fill="x")
        self.folder_label = ttk.Label(head, text="No folder open", style="Muted.TLabel")
        self.folder_label.pack(side="left", fill="x", expand=True)
        ttk.Button(head, text="◂", width=2, command=self.tab.hide_sidebar).pack(side="right")
        row = ttk.Frame(self)
        row.pack(side="top", fill="x", pady=(4, 0))
        self.open_button = ttk.Button(row, text="Open…", command=self.open_dialog)
        self.open_button.pack(side="left", fill="x", expand=True)
        self.import_button = ttk.Button(row, text="Import…", command=self.import_dialog)
        self.import_button.pack(side="left", fill="x", expand=True, padx=(4, 0))

        env = ttk.Frame(self)
        env.pack(side="top", fill="x", pady=(6, 0))
        self.env_var = tk.StringVar(self, value=NO_ENV)
        self.env_box = ttk.Combobox(env, textvariable=self.env_var, values=[NO_ENV], state="readonly",
                                    width=14)
        self.env_box.pack(side="left", fill="x", expand=True)
        self.env_box.bind("<<ComboboxSelected>>", lambda e: self.select_env(self.env_var.get()))
        self.env_button = ttk.Button(env, text="Edit…", command=self.edit_environments, width=6)
        self.env_button.pack(side="left", padx=(4, 0))

        box = ttk.Frame(self)
        box.pack(side="top", fill="both", expand=True, pady=(6, 0))
        self.tree = ttk.Treeview(box, columns=("method",), show="tree", selectmode="browse", height=8)
        self.tree.column("#0", width=140, minwidth=80, stretch=True)
        self.tree.column("method", width=64, minwidth=40, stretch=False, anchor="e")
        scroll = ttk.Scrollbar(box, orient="vertical", command=self.tree.yview)
        self.tree.configure(yscrollcommand=scroll.set)
        scroll.pack(side="right", fill="y")
        self.tree.pack(side="left", fill="both", expand=True)
        self.tree.bind("<Double-1>", lambda e: self.open_selected())
        self.tree.bind("<Return>", lambda e: self.open_selected())
        self.tree.bind("<Button-3>", self._context_menu)
        self.empty = ttk.Label(self.tree, text="Open a folder of .http files\nor import requests.",
                               style="Muted.TLabel", justify="center")
        self.empty.place(relx=0.5, rely=0.3, anchor="center")

        buttons = ttk.Frame(self)
        buttons.pack(side="top", fill="x", pady=(4, 0))
        self.new_button = ttk.Button(buttons, text="New", command=self.new_request, width=4)
        self.save_button = ttk.Button(buttons, text="Save", command=self.save, width=4)
        self.run_button = ttk.Button(buttons, text="Run…", command=lambda: self.run(), width=4)
        for number, button in enumerate((self.new_button, self.save_button, self.run_button)):
            button.pack(side="left", fill="x", expand=True, padx=(4 if number else 0, 0))
        self.where = ttk.Label(self, text="", style="Muted.TLabel", anchor="w", wraplength=190,
                               justify="left")
        self.where.pack(side="top", fill="x", pady=(4, 0))

        self.menu = tk.Menu(self, tearoff=False)
        self._set_enabled()

    def _set_enabled(self) -> None:
        state = ["!disabled"] if self.collection is not None else ["disabled"]
        for button in (self.save_button, self.run_button, self.env_button, self.env_box):
            button.state(state)
        if self.collection is not None:
            self.env_box.state(["readonly"])

    # -- opening a folder ---------------------------------------------------------------------
    def open_dialog(self) -> None:
        folder = filedialog.askdirectory(parent=self, title="Open a collection folder",
                                         mustexist=True)
        if folder:
            self.open(folder)

    def open(self, folder, quiet: bool = False) -> None:
        """Open a collection folder (read in a worker)."""
        root = Path(folder).expanduser()
        self.tab.track(self.app.runner.submit(
            work.load, root, name=f"Open collection {root.name}",
            on_result=lambda result: self._opened(root, result),
            on_error=lambda err: self._open_failed(err, quiet)))

    def _open_failed(self, err, quiet: bool) -> None:
        if quiet:
            self.app.settings.set(SETTINGS_KEY, {}, save=True)
        else:
            self.tab.form.set_status(str(err), "error")

    def _opened(self, root: Path, result) -> None:
        collection, seen = result
        first = self.root_path != root
        self.root_path, self.collection, self.snapshot = root, collection, seen
        if first:
            self.current = self.current_entry = self.expected = None
            self.where.configure(text="")
        self.folder_label.configure(text=root.name)
        self._refresh_tree()
        self._refresh_envs(first)
        self._set_enabled()
        remembered = self.app.settings.get(SETTINGS_KEY) or {}
        envs = dict(remembered.get("envs") or {})
        envs[str(root)] = self.env_name
        self.app.settings.set(SETTINGS_KEY, {"folder": str(root), "envs": envs})
        problems = list(collection.problems.values())
        if collection.env_problem:
            problems.append(collection.env_problem)
        if problems:
            self.tab.form.set_status(problems[0], "error")
        elif first:
            count = sum(len(f.entries) for f in collection.files.values())
            self.tab.form.set_status(f"Opened {root.name}: {count} request{'s' if count != 1 else ''}",
                                     "ok")
        if self.current is not None and self.expected is not None:
            text = collection.texts.get(self.current[0])
            if text != self.expected:
                self.where.configure(text=f"{self.current[0]} changed on disk: open the request "
                                          "again to see the new version.")
        if self._select_after_reload and self.tree.exists(self._select_after_reload):
            self.tree.selection_set(self._select_after_reload)
            self.tree.see(self._select_after_reload)
        self._select_after_reload = None

    def reload(self) -> None:
        if self.root_path is not None:
            self.open(self.root_path, quiet=True)

    # -- the tree ---------------------------------------------------------------------------
    def _refresh_tree(self) -> None:
        tree = self.tree
        opened = {iid for iid in self._all_iids() if tree.item(iid, "open")}
        selected = tree.selection()
        tree.delete(*tree.get_children())
        collection = self.collection
        if collection is None:
            self.empty.place(relx=0.5, rely=0.3, anchor="center")
            return
        for folder in collection.folders:
            parent = PurePosixPath(folder).parent.as_posix()
            tree.insert("d:" + parent if parent != "." else "", "end", iid="d:" + folder,
                        text=PurePosixPath(folder).name + "/", open="d:" + folder in opened)
        for path, parsed in collection.files.items():
            parent = PurePosixPath(path).parent.as_posix()
            parent_iid = "d:" + parent if parent != "." else ""
            stem = PurePosixPath(path).stem
            if len(parsed.entries) == 1:
                entry = parsed.entries[0]
                tree.insert(parent_iid, "end", iid=f"r:{path}#0", text=entry.name or entry.option("name")
                            or stem, values=(entry.method,))
            else:
                tree.insert(parent_iid, "end", iid="f:" + path, text=PurePosixPath(path).name,
                            open="f:" + path in opened or not opened)
                for index, entry in enumerate(parsed.entries):
                    tree.insert("f:" + path, "end", iid=f"r:{path}#{index}", text=entry.label,
                                values=(entry.method,))
        for path in collection.problems:
            tree.insert("", "end", iid="x:" + path, text=f"{path} (unreadable)")
        # a folder's files come before its subfolders, the order a run follows
        for folder in collection.folders:
            tree.move("d:" + folder, tree.parent("d:" + folder), "end")
        if selected and tree.exists(selected[0]):
            tree.selection_set(selected[0])
            tree.see(selected[0])
        if collection.files or collection.folders:
            self.empty.place_forget()
        else:
            self.empty.configure(text="No .http files here yet:\nNew, then Save, adds one.")
            self.empty.place(relx=0.5, rely=0.3, anchor="center")

    def _all_iids(self, parent: str = "") -> list[str]:
        out = []
        for iid in self.tree.get_children(parent):
            out.append(iid)
            out += self._all_iids(iid)
        return out

    def selected_where(self) -> str:
        """The selection as ``items_under`` reads it: folder, file, ``file#index`` or "" (all)."""
        selected = self.tree.selection()
        if not selected:
            return ""
        kind, _, rest = selected[0].partition(":")
        return rest if kind in ("d", "f", "r") else ""

    def selected_folder(self) -> str:
        """The folder of the selection (where New and Import put things)."""
        where = self.selected_where().partition("#")[0]
        if not where or self.tree.selection()[0].startswith("d:"):
            return where
        parent = PurePosixPath(where).parent.as_posix()
        return "" if parent == "." else parent

    def _context_menu(self, event) -> None:
        iid = self.tree.identify_row(event.y)
        if iid:
            self.tree.selection_set(iid)
        self.menu.delete(0, "end")
        if iid.startswith("r:"):
            self.menu.add_command(label="Open", command=self.open_selected)
        self.menu.add_command(label="Run…", command=lambda: self.run(), state="normal"
                              if self.collection else "disabled")
        if iid.startswith(("r:", "f:")):
            path = iid[2:].partition("#")[0]
            self.menu.add_command(label="Edit file as text…", command=lambda: self.edit_text(path))
        self.menu.add_command(label="New request here", command=self.new_request)
        self.menu.tk_popup(event.x_root, event.y_root)

    # -- environments -------------------------------------------------------------------------
    def _refresh_envs(self, first: bool) -> None:
        environments = self.collection.environments if self.collection else {}
        names = environment_names(environments)
        self.env_box.configure(values=[NO_ENV] + names)
        wanted, self._pending_env = self._pending_env or self.env_name, None
        if first:
            remembered = (self.app.settings.get(SETTINGS_KEY) or {}).get("envs") or {}
            wanted = remembered.get(str(self.root_path), names[0] if names else None)
        if wanted not in names:
            wanted = names[0] if names else None
        self.select_env(wanted)

    def select_env(self, name: str | None) -> None:
        """Use environment ``name`` (NO_ENV or None for none); reads its secrets from the keyring."""
        name = None if name in (None, NO_ENV) else name
        changed = name != self.env_name
        self.env_name = name
        self.env_var.set(name or NO_ENV)
        if changed and self.root_path is not None:
            remembered = self.app.settings.get(SETTINGS_KEY) or {}
            envs = dict(remembered.get("envs") or {})
            envs[str(self.root_path)] = name
            self.app.settings.set(SETTINGS_KEY, {**remembered, "envs": envs})
        if self.collection is not None:
            self.secrets_loaded = False
            self.tab.track(self.app.runner.submit(
                work.load_secrets, self.app.secrets, self.root_path, self.collection.environments, name,
                name="Read secret variables", on_result=lambda values: self._secrets_loaded(name, values),
                on_error=lambda err: self.tab.form.set_status(str(err), "error")))

    secrets_loaded = True

    def _secrets_loaded(self, name, values: dict[str, str]) -> None:
        if name == self.env_name:
            self.secret_values = values
            self.secrets_loaded = True

    def edit_environments(self):
        if self.collection is None:
            return None
        from .env_editor import EnvironmentEditor
        return EnvironmentEditor(self, self.app, self.root_path, self.collection.environments,
                                 self.secret_values, self.env_name, on_saved=self._environments_saved)

    def _environments_saved(self, env_name: str | None) -> None:
        self._pending_env = env_name
        self.reload()

    _pending_env: str | None = None

    # -- variables ----------------------------------------------------------------------------
    def resolver(self, masked: bool = False):
        collection = self.collection
        file_variables = []
        if collection is not None and self.current is not None:
            parsed = collection.files.get(self.current[0])
            file_variables = parsed.variables if parsed is not None else []
        return make_resolver(collection.environments if collection else {}, self.env_name,
                             file_variables, self.secret_values, masked=masked)

    def resolve(self, request: Request):
        """The request to send, the same to show, and its secret values (raises BadRequest)."""
        resolved = resolve_for_sending(request, self.resolver)
        if self.current is not None and self.root_path is not None:
            resolved.wire = anchor_files(resolved.wire, self.collection.folder_of(self.current[0]))
        return resolved

    def check_response(self, response, rendered) -> None:
        """Run the Checks tab's lines against a response that just arrived."""
        view = self.tab.checks_view
        lines = view.lines()
        if not lines:
            view.clear_results()
            return
        json_value = rendered.json_value if rendered is not None and rendered.json_value is not None \
            else MISSING
        resolver = self.resolver()
        results = evaluate_all(lines, subject_of(response, json_value), resolver.resolve)
        for result in results:
            result.detail = resolver.mask(result.detail)
        view.show_results(results)

    # -- requests in the form -----------------------------------------------------------------
    def open_selected(self) -> None:
        selected = self.tree.selection()
        if selected and selected[0].startswith("r:"):
            path, _, index = selected[0][2:].rpartition("#")
            self.open_request(path, int(index))

    def open_request(self, path: str, index: int) -> None:
        """Put request ``index`` of ``path`` into the form and its checks into the Checks tab."""
        entry = self.collection.entry(path, index) if self.collection else None
        if entry is None:
            return
        self.current, self.current_entry = (path, index), entry
        self.expected = self.collection.texts.get(path)
        self.tab.load_request(entry_to_request(entry))
        self.tab.checks_view.set_lines(entry.checks)
        self.where.configure(text=f"{path} › {entry.label}")
        iid = f"r:{path}#{index}"
        if self.tree.exists(iid):
            self.tree.selection_set(iid)
            self.tree.see(iid)

    def new_request(self) -> None:
        """An empty request in the form, not yet in any file (Save asks for a name)."""
        self.current = self.current_entry = self.expected = None
        self.tab.load_request(Request(url="{{host}}/" if self._has_host() else "https://"))
        self.tab.checks_view.set_lines(["status == 200"])
        self.where.configure(text="New request (not saved yet)")

    def paste_curl(self, command: str, quiet: bool = True) -> None:
        """Fill the form from a curl command (pasted into the URL field, or imported).
        A command that cannot be read leaves the form alone and says why (or raises
        ImportProblem when not ``quiet``)."""
        try:
            request, warnings = parse_curl(command)
        except ImportProblem as exc:
            if not quiet:
                raise
            self.tab.form.set_status(f"Not imported: {exc}", "error")
            return
        self.tab.load_request(request, request.password)
        self.current = self.current_entry = self.expected = None
        self.where.configure(text="Imported from curl (not saved yet)")
        self.tab.form.set_status("Imported the curl command" + (f" ({warnings[0]})" if warnings else ""),
                                 "ok")

    def _has_host(self) -> bool:
        return self.collection is not None and "host" in self.resolver().names()

    def _entry_from_form(self) -> HttpEntry:
        entry = request_to_entry(self.tab.build_request(), base=self.current_entry)
        entry.checks = self.tab.checks_view.lines()
        return entry

    def save(self, force: bool = False) -> None:
        """Save the form into its request's file (or ask for a name for a new one)."""
        if self.collection is None:
            self.tab.form.set_status("Open a collection folder first (Open…)", "error")
            return
        if self.current is None:
            self.save_as_dialog()
            return
        path, index = self.current
        force = force or self._overwrite == path
        self._overwrite = None
        self._save(path, index, self._entry_from_form(), None if force else self.expected)

    def save_as_dialog(self):
        from .dialogs import SaveAsDialog
        folders = [""] + (self.collection.folders if self.collection else [])
        return SaveAsDialog(self, folders, self.selected_folder(), on_done=self.save_as)

    def save_as(self, name: str, folder: str = "") -> None:
        """Save the form as a new file ``name.http`` in ``folder`` of the collection."""
        if self.collection is None or not name.strip():
            return
        entry = self._entry_from_form()
        entry.name = name.strip()
        stem = file_stem(name)
        self._save(f"{folder}/{stem}.http" if folder else f"{stem}.http", None, entry, "")

    def _save(self, path: str, index: int | None, entry: HttpEntry, expected: str | None) -> None:
        self.tab.track(self.app.runner.submit(
            work.save_request, self.app.secrets, self.root_path, path, index, entry, expected,
            self.env_name, dict(self.secret_values), name=f"Save {path}",
            on_result=lambda result: self._saved(index, result),
            on_error=lambda err: self._save_failed(err, path)))

    def _saved(self, index: int | None, result) -> None:
        path, text, found, env_name = result
        parsed = parse_http(text)
        if index is None:
            index = len(parsed.entries) - 1
        self.current, self.current_entry, self.expected = (path, index), parsed.entries[index], text
        self.where.configure(text=f"{path} › {parsed.entries[index].label}")
        note = ""
        if found:
            names = ", ".join("{{" + name + "}}" for name in found)
            note = f"; credentials went to the keyring as {names} of {env_name}"
            if self.env_name is None:
                self._pending_env = env_name
        self.tab.form.set_status(f"Saved {path}{note}", "ok")
        if found:
            self.tab.load_request(entry_to_request(parsed.entries[index]))
        self._select_after_reload = f"r:{path}#{index}"
        self.reload()

    _select_after_reload: str | None = None

    def _save_failed(self, err, path: str) -> None:
        if isinstance(err, ChangedOnDisk):
            self._overwrite = path
            self.tab.form.set_status(f"{err}: press Save again to overwrite this request there", "error")
            return
        self.tab.form.set_status(str(err), "error")

    _overwrite: str | None = None
    """A file that changed on disk under the form's request: the next Save overwrites it."""

    def edit_text(self, path: str):
        """Edit a whole .http file as text."""
        if self.collection is None:
            return None
        from .dialogs import FileEditor
        text = self.collection.texts.get(path, "")
        return FileEditor(self, self.app, path, text,
                          on_save=lambda new, done: self._save_text(path, new, text, done))

    def _save_text(self, path: str, new: str, expected: str, done) -> None:
        self.tab.track(self.app.runner.submit(
            work.save_file_text, self.root_path, path, new, expected, name=f"Save {path}",
            on_result=lambda text: (done(None), self.reload()),
            on_error=lambda err: done(str(err))))

    # -- import and run -----------------------------------------------------------------------
    def import_dialog(self):
        from .import_dialog import ImportDialog
        return ImportDialog(self, self)

    def run(self, where: str | None = None):
        """Open the runner for a folder, file or request (the selection), or everything."""
        if self.collection is None:
            self.tab.form.set_status("Open a collection folder first (Open…)", "error")
            return None
        where = self.selected_where() if where is None else where
        from .runner_window import RunnerWindow
        return RunnerWindow(self, self, where)

    def items(self, where: str):
        return items_under(self.collection, where) if self.collection else []

    def run_resolver(self):
        """A resolver factory for a run: a snapshot of the variables, safe in worker threads."""
        environments = self.collection.environments if self.collection else {}
        env_name, secrets = self.env_name, dict(self.secret_values)
        return lambda item, masked: make_resolver(environments, env_name, item.variables, secrets,
                                                  masked=masked)

    # -- noticing outside edits ------------------------------------------------------------------
    def _schedule_look(self) -> None:
        self._look_id = self.after(LOOK_MS, self._look)

    def _look(self) -> None:
        self._look_id = None
        try:
            if self.root_path is not None and not self._looking and self.tab.winfo_viewable():
                self._looking = True
                root = self.root_path
                self.app.runner.submit(work.look, root, name="Look for changes",
                                       on_result=lambda seen: self._looked(root, seen),
                                       on_done=lambda task: setattr(self, "_looking", False))
        finally:
            self._schedule_look()

    def _looked(self, root: Path, seen: dict) -> None:
        if root == self.root_path and seen != self.snapshot:
            self.reload()

    def destroy(self) -> None:
        if self._look_id is not None:
            self.after_cancel(self._look_id)
            self._look_id = None
        super().destroy()
