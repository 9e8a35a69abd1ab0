"""Small dialogs: confirmation, one-line errors, a password prompt, About. Never a traceback."""

from __future__ import annotations

import tkinter as tk
from tkinter import messagebox, ttk
from typing import Callable

from netgui import __version__
from netgui.resources import asset_path

from .form import Field, Form


def confirm(parent, title: str, message: str, detail: str | None = None) -> bool:
    """Ask a yes/no question; True for yes."""
    return messagebox.askyesno(title, message, detail=detail, parent=parent, icon="warning")


def show_error(parent, title: str, message: str) -> None:
    """Show one human line (never a traceback)."""
    messagebox.showerror(title, message.splitlines()[0] if message else title, parent=parent)


class PasswordDialog(tk.Toplevel):
    """Ask for a password (masked; or another secret: ``label``) with a "Remember" box, without blocking.

    Modal for its parent window (a local grab), but nothing waits for it: OK calls
    ``on_done(password, remember)``, Cancel (or closing it, or Escape) ``on_done(None, False)``.
    """

    def __init__(self, parent, title: str, prompt: str,
                 on_done: Callable[[str | None, bool], None], problem: str = "", label: str = "Password"):
        super().__init__(parent)
        self.title(title)
        self.transient(parent.winfo_toplevel())
        self.resizable(False, False)
        self._on_done = on_done
        frame = ttk.Frame(self, padding=14)
        frame.pack(fill="both", expand=True)
        self.problem = problem.splitlines()[0] if problem else ""
        if self.problem:
            ttk.Label(frame, text=self.problem, style="Error.TLabel",
                      wraplength=420, justify="left").pack(side="top", anchor="w", pady=(0, 6))
        ttk.Label(frame, text=prompt, wraplength=420, justify="left").pack(side="top", anchor="w",
                                                                           pady=(0, 8))
        self.form = Form(frame, [
            Field("password", label, kind="password", required=True, remember=False),
            Field("remember", f"Remember {label.lower()}", kind="check", remember=False),
        ], on_submit=self._ok, submit_text="OK")
        self.form.pack(side="top", fill="x")
        self.cancel_button = self.form.add_button("Cancel", self.cancel)
        self.bind("<Escape>", lambda e: self.cancel())
        self.protocol("WM_DELETE_WINDOW", self.cancel)
        self.form.widgets["password"].focus_set()
        self.bind("<Map>", self._grab, add="+")

    def _grab(self, event=None) -> None:
        if event is None or event.widget is self:
            try:
                self.grab_set()
            except tk.TclError:  # not viewable yet, or another grab is active: not modal then
                pass

    def answer(self, password: str, remember: bool = False) -> None:
        """Fill in and press OK (what a user does; also for tests)."""
        self.form.set_values({"password": password, "remember": remember})
        self.form.submit()

    def _ok(self, values: dict) -> None:
        self._finish(values["password"], values["remember"])

    def cancel(self) -> None:
        self._finish(None, False)

    def _finish(self, password: str | None, remember: bool) -> None:
        on_done, self._on_done = self._on_done, None
        self.destroy()
        if on_done is not None:
            on_done(password, remember)


class AboutDialog(tk.Toplevel):
    """Help → About: name, version, what it is."""

    def __init__(self, parent, extra: str = ""):
        super().__init__(parent)
        self.title("About netgui")
        self.transient(parent)
        self.resizable(False, False)
        frame = ttk.Frame(self, padding=20)
        frame.pack(fill="both", expand=True)
        self._icon = tk.PhotoImage(master=self, file=str(asset_path("netgui-64.png")))
        ttk.Label(frame, image=self._icon).pack()
        ttk.Label(frame, text=f"netgui {__version__}", font=("TkHeadingFont", 14, "bold")).pack(pady=(8, 2))
        ttk.Label(frame, text="A desktop client for internet services:\n"
                              "mail, FTP, web, chat, DNS and getfile.", justify="center").pack()
        if extra:
            ttk.Label(frame, text=extra, style="Muted.TLabel", justify="center",
                      wraplength=360).pack(pady=(8, 0))
        ttk.Button(frame, text="Close", command=self.destroy).pack(pady=(14, 0))
        self.bind("<Escape>", lambda e: self.destroy())
        self.bind("<Return>", lambda e: self.destroy())
