"""Small dialogs: confirmation, one-line errors, About. Never a traceback."""

from __future__ import annotations

import tkinter as tk
from tkinter import messagebox, ttk

from .. import __version__
from ..resources import asset_path


def confirm(parent, title: str, message: str, detail: str | None = None) -> bool:
    """Ask a yes/no question; True for yes."""
    return messagebox.askyesno(title, message, detail=detail, parent=parent, icon="warning")


def show_error(parent, title: str, message: str) -> None:
    """Show one human line (never a traceback)."""
    messagebox.showerror(title, message.splitlines()[0] if message else title, parent=parent)


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
