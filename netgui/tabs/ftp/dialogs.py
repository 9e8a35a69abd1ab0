"""Dialogs of the FTP / SFTP tab: an unknown or changed SSH host key, keyboard-interactive
prompts, and file permissions (chmod).

None of them blocks: each calls ``on_done(answer)`` once (``None`` for Cancel, Escape or
closing the window). Workers wait for these answers through ``ctx.ask`` (netgui.ui.tasks).
"""

from __future__ import annotations

import tkinter as tk
from tkinter import ttk
from typing import Any, Callable, Sequence

from netgui.ui.dialogs import PasswordDialog
from netgui.ui.form import Field, Form
from netgui.ui.theme import accent_button_style, monospace

# The answers netgui.net.ftp.hostkeys expects (not imported here: that would load asyncssh)
ONCE, ALWAYS = "once", "always"
WRAP = 460


class _Dialog(tk.Toplevel):
    """A small window modal for its parent that answers once."""

    def __init__(self, parent, title: str, on_done: Callable[[Any], None]):
        super().__init__(parent)
        self.title(title)
        self.transient(parent.winfo_toplevel())
        self.resizable(False, False)
        self._on_done: Callable[[Any], None] | None = on_done
        self.body = ttk.Frame(self, padding=16)
        self.body.pack(fill="both", expand=True)
        self.bind("<Escape>", lambda e: self.finish(None))
        self.protocol("WM_DELETE_WINDOW", lambda: self.finish(None))
        self.bind("<Map>", self._grab, add="+")

    _grab = PasswordDialog._grab    # modal once shown (a local grab), as the password prompt is

    def text(self, text: str, style: str = "TLabel", font=None, pady=(0, 6)) -> ttk.Label:
        label = ttk.Label(self.body, text=text, style=style, wraplength=WRAP, justify="left",
                          **({"font": font} if font else {}))
        label.pack(side="top", anchor="w", pady=pady)
        return label

    def facts(self, rows: Sequence[tuple[str, str]]) -> None:
        """Label/value rows; values are read-only entries, so they can be selected and copied."""
        grid = ttk.Frame(self.body)
        grid.pack(side="top", fill="x", pady=(2, 8))
        grid.columnconfigure(1, weight=1)
        for row, (label, value) in enumerate(rows):
            ttk.Label(grid, text=label + ":").grid(row=row, column=0, sticky="w", padx=(0, 8), pady=1)
            entry = ttk.Entry(grid, font=monospace(self), width=max(20, min(len(value) + 2, 60)))
            entry.insert(0, value)
            entry.state(["readonly"])
            entry.grid(row=row, column=1, sticky="ew", pady=1)

    def buttons(self, specs: Sequence[tuple[str, Any]], accent: Any = object()) -> dict[Any, ttk.Button]:
        """A right-aligned row of buttons, each answering its value."""
        row = ttk.Frame(self.body)
        row.pack(side="top", fill="x", pady=(8, 0))
        made = {}
        for text, value in reversed(specs):
            style = accent_button_style(self) if value == accent else "TButton"
            button = ttk.Button(row, text=text, style=style, command=lambda v=value: self.finish(v))
            button.pack(side="right", padx=(6, 0))
            made[value] = button
        return made

    def finish(self, answer: Any) -> None:
        on_done, self._on_done = self._on_done, None
        if self.winfo_exists():
            self.destroy()
        if on_done is not None:
            on_done(answer)


class HostKeyDialog(_Dialog):
    """An unknown SSH host key: its type and SHA256 fingerprint; connect this time, always, or not."""

    def __init__(self, parent, question, on_done: Callable[[str | None], None], own_file: str = ""):
        super().__init__(parent, "Unknown host key", on_done)
        from .sites import key_type_label
        self.question = question
        self.text("netgui does not know this server's key", font=("TkHeadingFont", 11, "bold"))
        label = question.host if question.port == 22 else f"[{question.host}]:{question.port}"
        self.text(f"The authenticity of {label} cannot be established: no known_hosts file "
                  "lists a key for it. Compare the fingerprint with one you got from the server's "
                  "administrator before you go on.")
        self.facts([("Server", label), ("Key type", key_type_label(question.key_type)),
                    ("Fingerprint", question.fingerprint)])
        where = f" ({own_file})" if own_file else ""
        self.text(f"“Always” stores the key in netgui's own known_hosts file{where}; "
                  "~/.ssh/known_hosts is only read, never changed.", style="Muted.TLabel")
        made = self.buttons([("Cancel", None), ("Connect this time", ONCE), ("Always trust", ALWAYS)])
        self.cancel_button, self.once_button, self.always_button = made[None], made[ONCE], made[ALWAYS]
        self.cancel_button.focus_set()   # Return does not accept a key by accident


class HostKeyChangedDialog(_Dialog):
    """A known server offers another key: refused. There is no way to continue from here."""

    def __init__(self, parent, error, on_done: Callable[[None], None] | None = None):
        super().__init__(parent, "Host key changed", on_done or (lambda answer: None))
        self.text("WARNING: the server's host key has changed", style="Error.TLabel",
                  font=("TkHeadingFont", 11, "bold"))
        self.text("Someone could be intercepting this connection (a man-in-the-middle attack), or "
                  "the server's key was replaced. netgui did not connect and sent nothing.")
        rows = [("Server", error.host)]
        rows.append(("Known key", " ".join(error.old)))
        rows.append(("Key now offered", " ".join(error.new)))
        if error.where:
            rows.append(("Known key is in", error.where))
        self.facts(rows)
        self.text("If the administrator confirms the new key, delete the old line from that file "
                  "and connect again.", style="Muted.TLabel")
        self.close_button = self.buttons([("Close", None)], accent=None)[None]
        self.close_button.focus_set()
        self.bind("<Return>", lambda e: self.finish(None))


class KbdIntDialog(_Dialog):
    """One round of keyboard-interactive prompts (a password, a one-time code, …)."""

    def __init__(self, parent, server: str, name: str, instructions: str,
                 prompts: Sequence[tuple[str, bool]], on_done: Callable[[list[str] | None], None]):
        super().__init__(parent, name or "Login", on_done)
        self.text(f"{server} asks:", font=("TkHeadingFont", 10, "bold"))
        if instructions:
            self.text(instructions.strip())
        fields = [Field(f"p{i}", (prompt.strip().rstrip(":") or "Answer")[:60],
                        kind="text" if echo else "password", remember=False, width=24)
                  for i, (prompt, echo) in enumerate(prompts)]
        self.form = Form(self.body, fields, on_submit=self._ok, submit_text="OK")
        self.form.pack(side="top", fill="x")
        self.form.add_button("Cancel", lambda: self.finish(None))
        if fields:
            self.form.widgets["p0"].focus_set()

    def answer(self, *answers: str) -> None:
        """Fill in and press OK (what a user does; also for tests)."""
        self.form.set_values({f"p{i}": a for i, a in enumerate(answers)})
        self.form.submit()

    def _ok(self, values: dict) -> None:
        self.finish([values[f"p{i}"] for i in range(len(values))])


PERMISSION_BITS = [("Owner", (0o400, 0o200, 0o100)), ("Group", (0o040, 0o020, 0o010)),
                   ("Others", (0o004, 0o002, 0o001))]


def parse_perms(perms: str) -> int | None:
    """``-rwxr-x---`` -> 0o750 (None if it is not such a string)."""
    text = perms[-9:] if len(perms) >= 9 else ""
    if len(text) != 9:
        return None
    mode = 0
    for i, ch in enumerate(text):
        if ch not in "-rwxsStT":
            return None
        if ch in "rwxst":
            mode |= 1 << (8 - i)
    return mode


class ChmodDialog(_Dialog):
    """Permissions as nine boxes and an octal number (kept in step); optionally into folders."""

    def __init__(self, parent, what: str, mode: int, folders: bool,
                 on_done: Callable[["tuple[int, bool] | None"], None]):
        super().__init__(parent, "Permissions", on_done)
        self.text(f"Permissions of {what}", font=("TkHeadingFont", 10, "bold"))
        grid = ttk.Frame(self.body)
        grid.pack(side="top", anchor="w")
        self.bits: dict[int, tk.BooleanVar] = {}
        for col, title in enumerate(("Read", "Write", "Execute"), 1):
            ttk.Label(grid, text=title).grid(row=0, column=col, padx=6)
        for row, (who, bits) in enumerate(PERMISSION_BITS, 1):
            ttk.Label(grid, text=who).grid(row=row, column=0, sticky="w", padx=(0, 8))
            for col, bit in enumerate(bits, 1):
                var = tk.BooleanVar(self, value=bool(mode & bit))
                var.trace_add("write", lambda *a: self._boxes_changed())
                ttk.Checkbutton(grid, variable=var).grid(row=row, column=col)
                self.bits[bit] = var
        line = ttk.Frame(self.body)
        line.pack(side="top", fill="x", pady=(8, 0))
        ttk.Label(line, text="Numeric value:").pack(side="left")
        self.octal = tk.StringVar(self, value=f"{mode & 0o777:03o}")
        self.octal_entry = ttk.Entry(line, textvariable=self.octal, width=6, font=monospace(self))
        self.octal_entry.pack(side="left", padx=(6, 0))
        self.octal.trace_add("write", lambda *a: self._octal_changed())
        self.problem = ttk.Label(line, text="", style="Error.TLabel")
        self.problem.pack(side="left", padx=(8, 0))
        self.recursive = tk.BooleanVar(self, value=False)
        if folders:
            ttk.Checkbutton(self.body, text="Also everything inside the selected folders",
                            variable=self.recursive).pack(side="top", anchor="w", pady=(8, 0))
        made = self.buttons([("Cancel", None), ("OK", "ok")], accent="ok")
        self.ok_button = made["ok"]
        self.bind("<Return>", lambda e: self.ok())
        self.ok_button.configure(command=self.ok)
        self._syncing = False

    @property
    def mode(self) -> int | None:
        text = self.octal.get().strip()
        try:
            value = int(text, 8)
        except ValueError:
            return None
        return value if 0 <= value <= 0o7777 else None

    def _boxes_changed(self) -> None:
        if self._syncing:
            return
        keep = (self.mode or 0) & 0o7000     # setuid/setgid/sticky stay as they were
        value = keep | sum(bit for bit, var in self.bits.items() if var.get())
        self._syncing = True
        self.octal.set(f"{value:03o}" if value < 0o1000 else f"{value:04o}")
        self._syncing = False

    def _octal_changed(self) -> None:
        mode = self.mode
        self.problem.configure(text="" if mode is not None else "an octal number, e.g. 644")
        if mode is None or self._syncing:
            return
        self._syncing = True
        for bit, var in self.bits.items():
            var.set(bool(mode & bit))
        self._syncing = False

    def ok(self) -> None:
        if self.mode is not None:
            self.finish((self.mode, bool(self.recursive.get())))
