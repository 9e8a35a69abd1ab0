"""The environment editor: Dev, Staging, Prod… and their variables, secret ones in the keyring.

Edits are made on a copy; Save writes ``http-client.env.json`` (secret values never go
there) and the secret values to the keyring, in a worker.
"""

from __future__ import annotations

import copy
import tkinter as tk
from tkinter import ttk
from typing import Callable

from netgui.net.http.variables import SHARED, Environment, Variable, valid_name

from . import collection_work as work
from .dialogs import drop_variables

SHARED_LABEL = "Shared (every environment)"
HIDDEN = "••••••"


class EnvironmentEditor(tk.Toplevel):
    def __init__(self, parent, app, root, environments: dict[str, Environment],
                 secret_values: dict[str, str], current: str | None,
                 on_saved: Callable[[str | None], None]):
        super().__init__(parent)
        self.app = app
        self.root = root
        self.title(f"Environments of {root.name} — netgui")
        self.transient(parent.winfo_toplevel())
        self.geometry("720x420")
        self.minsize(560, 320)
        self.on_saved = on_saved
        self.envs: dict[str, Environment] = copy.deepcopy(environments)
        self.envs.setdefault(SHARED, Environment(SHARED))
        self.original = copy.deepcopy(self.envs)
        # secret values being edited: (environment, name) -> value; loaded ones for the current env
        self.secrets: dict[tuple[str, str], str] = {}
        for env_name in (current, SHARED):
            env = self.envs.get(env_name) if env_name else None
            for var in env.variables if env else []:
                if var.secret and var.name in secret_values:
                    self.secrets[(env_name, var.name)] = secret_values[var.name]
        self.loaded = dict(self.secrets)
        self.selected_env: str | None = None

        bottom = ttk.Frame(self, padding=(10, 0, 10, 10))
        bottom.pack(side="bottom", fill="x")
        self.status = ttk.Label(bottom, text="", style="Error.TLabel")
        self.status.pack(side="left", fill="x", expand=True)
        ttk.Button(bottom, text="Cancel", command=self.destroy).pack(side="right")
        self.save_button = ttk.Button(bottom, text="Save", command=self.save,
                                      style="Accent.TButton")
        self.save_button.pack(side="right", padx=(0, 6))
        body = ttk.Frame(self, padding=10)
        body.pack(fill="both", expand=True)
        body.columnconfigure(1, weight=1)
        body.rowconfigure(0, weight=1)
        left = ttk.Frame(body)
        left.grid(row=0, column=0, sticky="ns", padx=(0, 10))
        ttk.Label(left, text="Environments").pack(side="top", anchor="w")
        self.env_list = tk.Listbox(left, width=24, height=10, exportselection=False, activestyle="none")
        self.env_list.pack(side="top", fill="y", expand=True, pady=(4, 4))
        self.env_list.bind("<<ListboxSelect>>", lambda e: self._env_selected())
        row = ttk.Frame(left)
        row.pack(side="top", fill="x")
        self.new_env = tk.StringVar(self)
        ttk.Entry(row, textvariable=self.new_env, width=12).pack(side="left", fill="x", expand=True)
        ttk.Button(row, text="Add", width=5, command=self.add_env).pack(side="left", padx=(4, 0))
        ttk.Button(left, text="Remove environment", command=self.remove_env).pack(side="top", fill="x",
                                                                                 pady=(4, 0))

        right = ttk.Frame(body)
        right.grid(row=0, column=1, sticky="nsew")
        right.columnconfigure(0, weight=1)
        right.rowconfigure(0, weight=1)
        self.table = ttk.Treeview(right, columns=("name", "value", "secret"), show="headings",
                                  selectmode="browse")
        for column, text, width in (("name", "Variable", 140), ("value", "Value", 260),
                                    ("secret", "Secret", 60)):
            self.table.heading(column, text=text, anchor="w")
            self.table.column(column, width=width, stretch=column == "value")
        self.table.grid(row=0, column=0, columnspan=6, sticky="nsew")
        self.table.bind("<<TreeviewSelect>>", lambda e: self._var_selected())
        self.name_var, self.value_var = tk.StringVar(self), tk.StringVar(self)
        self.secret_var = tk.BooleanVar(self, value=False)
        ttk.Label(right, text="Name", style="Muted.TLabel").grid(row=1, column=0, sticky="w", pady=(6, 0))
        ttk.Label(right, text="Value", style="Muted.TLabel").grid(row=1, column=1, sticky="w", padx=(4, 0),
                                                                 pady=(6, 0))
        ttk.Entry(right, textvariable=self.name_var, width=14).grid(row=2, column=0, sticky="ew")
        self.value_entry = ttk.Entry(right, textvariable=self.value_var, width=24)
        self.value_entry.grid(row=2, column=1, sticky="ew", padx=(4, 0))
        ttk.Checkbutton(right, text="Secret", variable=self.secret_var,
                        command=self._secret_toggled).grid(row=2, column=2, padx=(4, 0))
        ttk.Button(right, text="Set", width=5, command=self.set_variable).grid(row=2, column=3, padx=(4, 0))
        ttk.Button(right, text="Remove", width=7, command=self.remove_variable).grid(row=2, column=4,
                                                                                     padx=(4, 0))
        right.columnconfigure(1, weight=2)
        ttk.Label(right, style="Muted.TLabel", wraplength=460, justify="left",
                  text="Use a variable as {{name}} in the URL, headers and body. Secret values are "
                       "kept in the system keyring, never in http-client.env.json. The selected "
                       "environment wins over Shared, Shared over a file's @variables.").grid(
            row=3, column=0, columnspan=6, sticky="w", pady=(6, 0))

        self.bind("<Escape>", lambda e: self.destroy())
        self._fill_envs(current or next((n for n in self.envs if n != SHARED), SHARED))

    # -- environments -----------------------------------------------------------------------
    def _names(self) -> list[str]:
        return [n for n in self.envs if n != SHARED] + [SHARED]

    def _fill_envs(self, select: str) -> None:
        self.env_list.delete(0, "end")
        for name in self._names():
            self.env_list.insert("end", SHARED_LABEL if name == SHARED else name)
        index = self._names().index(select) if select in self.envs else 0
        self.env_list.selection_clear(0, "end")
        self.env_list.selection_set(index)
        self._env_selected()

    def _env_selected(self) -> None:
        selection = self.env_list.curselection()
        if selection:
            self.selected_env = self._names()[selection[0]]
            self._fill_table()

    def select_env(self, name: str) -> None:
        self._fill_envs(name)

    def add_env(self, name: str | None = None) -> None:
        name = (name if name is not None else self.new_env.get()).strip()
        if not name or name == SHARED or name.startswith("$"):
            self.status.configure(text="Type a name for the new environment (not starting with $)")
            return
        if name not in self.envs:
            shared = self.envs.pop(SHARED)
            self.envs[name] = Environment(name)
            self.envs[SHARED] = shared
        self.new_env.set("")
        self.status.configure(text="")
        self._fill_envs(name)

    def remove_env(self) -> None:
        name = self.selected_env
        if name is None or name == SHARED:
            return
        del self.envs[name]
        self._fill_envs(next((n for n in self.envs if n != SHARED), SHARED))

    # -- variables -----------------------------------------------------------------------------
    def _fill_table(self) -> None:
        self.table.delete(*self.table.get_children())
        env = self.envs[self.selected_env]
        for var in env.variables:
            if var.secret:
                known = (self.selected_env, var.name) in self.secrets
                shown = HIDDEN if known else "(in the keyring)"
            else:
                shown = var.value
            self.table.insert("", "end", iid=var.name, values=(var.name, shown, "yes" if var.secret else ""))

    def _var_selected(self) -> None:
        selected = self.table.selection()
        if not selected:
            return
        var = self.envs[self.selected_env].get(selected[0])
        self.name_var.set(var.name)
        self.secret_var.set(var.secret)
        self.value_var.set(self.secrets.get((self.selected_env, var.name), "") if var.secret else var.value)
        self._secret_toggled()

    def _secret_toggled(self) -> None:
        self.value_entry.configure(show="•" if self.secret_var.get() else "")

    def set_variable(self, name: str | None = None, value: str | None = None,
                     secret: bool | None = None) -> None:
        """Add or change a variable of the selected environment (from the entries by default)."""
        name = (self.name_var.get() if name is None else name).strip()
        value = self.value_var.get() if value is None else value
        secret = self.secret_var.get() if secret is None else secret
        if not valid_name(name):
            self.status.configure(text="A name is letters, digits, _ . - (not starting with a digit)")
            return
        env = self.envs[self.selected_env]
        var = env.get(name)
        if var is None:
            var = Variable(name)
            env.variables.append(var)
        var.secret = secret
        if secret:
            var.value = ""
            if value or (self.selected_env, name) not in self.secrets:
                self.secrets[(self.selected_env, name)] = value
        else:
            var.value = value
            self.secrets.pop((self.selected_env, name), None)
        self.status.configure(text="")
        self.name_var.set("")
        self.value_var.set("")
        self.secret_var.set(False)
        self._secret_toggled()
        self._fill_table()

    def remove_variable(self) -> None:
        selected = self.table.selection()
        if not selected:
            return
        env = self.envs[self.selected_env]
        env.variables = [v for v in env.variables if v.name != selected[0]]
        self.secrets.pop((self.selected_env, selected[0]), None)
        self._fill_table()

    # -- saving -----------------------------------------------------------------------------------
    def secret_changes(self) -> dict[tuple[str, str], str | None]:
        """What the keyring must store (a value) or forget (None)."""
        changes: dict[tuple[str, str], str | None] = {}
        for key, value in self.secrets.items():
            if self.loaded.get(key) != value:
                changes[key] = value or None
        for env_name, env in self.original.items():
            for var in env.variables:
                still = self.envs.get(env_name) and self.envs[env_name].get(var.name)
                if var.secret and not (still and still.secret):
                    changes[(env_name, var.name)] = None
        return changes

    def save(self) -> None:
        environments = [env for name, env in self.envs.items() if name != SHARED or env.variables]
        self.save_button.state(["disabled"])
        current = self.selected_env if self.selected_env != SHARED else None
        self.app.runner.submit(
            work.save_envs, self.app.secrets, self.root, environments, self.secret_changes(),
            name="Save environments", on_result=lambda _: self._saved(current),
            on_error=self._failed)

    def _saved(self, current: str | None) -> None:
        self.on_saved(current)
        self.destroy()

    def _failed(self, err) -> None:
        if not self.winfo_exists():
            return
        self.save_button.state(["!disabled"])
        self.status.configure(text=str(err))

    def destroy(self) -> None:
        super().destroy()
        drop_variables(self)
