"""Mail sign-in settings: the user's OAuth client per provider, and how accounts are looked up.

netgui ships no OAuth client ID and no secret. The user registers a client with a provider
(README, "Mail sign-in with OAuth2") and enters its ID here; a client secret, for providers
that insist on one, goes to the keyring only.
"""

from __future__ import annotations

import tkinter as tk
import webbrowser
from tkinter import messagebox, ttk
from typing import Callable

from netgui.net.mail import signin
from netgui.ui.theme import accent_button_style

ISPDB_KEY, HTTP_KEY = "mail_ispdb_url", "mail_autoconfig_http"
REGISTER_HELP = ("Register a client for a desktop (native) app with your mail provider's "
                 "sign-in service, or ask its administrator for one. It needs: a public client "
                 "(no secret) with PKCE, the redirect address http://127.0.0.1 (any port; "
                 "Microsoft: http://localhost), and the mail scopes. Then enter its client ID "
                 "here. netgui's README, “Mail sign-in with OAuth2”, has the steps for Google and "
                 "Microsoft.")


def register_help(parent, provider: dict | None, open_browser: Callable[[str], bool]) -> None:
    """How to get a client ID: the provider's registration page, else the steps in a box."""
    url = ((provider or {}).get("oauth") or {}).get("register_url")
    if url:
        open_browser(url)
    else:
        messagebox.showinfo("OAuth client ID", REGISTER_HELP, parent=parent)


class ClientsDialog(tk.Toplevel):
    """One row per OAuth2 provider: client ID, client secret, how to register one."""

    def __init__(self, master, app, open_browser: Callable[[str], bool] | None = None):
        from netgui.net.mail.autoconfig import ISPDB_URL
        super().__init__(master)
        self.app = app
        self.open_browser = open_browser or webbrowser.open
        self.title("Mail sign-in settings")
        self.transient(master.winfo_toplevel())
        self.resizable(True, False)
        frame = ttk.Frame(self, padding=14)
        frame.pack(fill="both", expand=True)
        ttk.Label(frame, text="OAuth clients", font=("TkHeadingFont", 12, "bold")).pack(anchor="w")
        ttk.Label(frame, text="netgui has no OAuth client of its own. Register one with each "
                  "provider you sign in to (Register…), then enter its client ID. A "
                  "client secret is kept in the system keyring, never in a file.",
                  wraplength=540, justify="left").pack(anchor="w", pady=(4, 8))
        grid = ttk.Frame(frame)
        grid.pack(fill="x")
        grid.columnconfigure(1, weight=1)
        for col, text in enumerate(("Provider", "Client ID", "Client secret")):
            ttk.Label(grid, text=text, style="Muted.TLabel").grid(row=0, column=col, sticky="w",
                                                                  padx=(0, 6))
        self.ids: dict[str, tk.StringVar] = {}
        self.secrets: dict[str, tk.StringVar] = {}
        self.entries: dict[str, ttk.Entry] = {}
        for row, p in enumerate(signin.oauth_providers(app.settings), start=1):
            pid = p["id"]
            ttk.Label(grid, text=p["name"]).grid(row=row, column=0, sticky="w", padx=(0, 6), pady=2)
            self.ids[pid] = tk.StringVar(self, value=signin.client_id(app.settings, pid))
            entry = ttk.Entry(grid, textvariable=self.ids[pid], width=26)
            entry.grid(row=row, column=1, sticky="ew", padx=(0, 6), pady=2)
            self.entries[pid] = entry
            self.secrets[pid] = tk.StringVar(self, value=signin.client_secret(app.secrets, pid) or "")
            ttk.Entry(grid, textvariable=self.secrets[pid], width=12, show="•").grid(
                row=row, column=2, sticky="ew", padx=(0, 6), pady=2)
            ttk.Button(grid, text="Register…",
                       command=lambda p=p: register_help(self, p, self.open_browser)
                       ).grid(row=row, column=3, pady=2)
        ttk.Separator(frame).pack(fill="x", pady=10)
        ttk.Label(frame, text="Finding servers", font=("TkHeadingFont", 12, "bold")).pack(anchor="w")
        row = ttk.Frame(frame)
        row.pack(fill="x", pady=(4, 0))
        ttk.Label(row, text="Provider database (ISPDB):").pack(side="left")
        self.ispdb = tk.StringVar(self, value=app.settings.get(ISPDB_KEY, ISPDB_URL))
        ttk.Entry(row, textvariable=self.ispdb, width=36).pack(side="left", fill="x", expand=True,
                                                               padx=(6, 0))
        ttk.Label(frame, text="empty = do not ask it; {domain} stands for the address's domain",
                  style="Muted.TLabel").pack(anchor="w")
        self.http = tk.BooleanVar(self, value=bool(app.settings.get(HTTP_KEY, True)))
        ttk.Checkbutton(frame, text="Also ask for settings over unencrypted HTTP (shown as "
                        "unverified)", variable=self.http).pack(anchor="w",
                                                                                  pady=(6, 0))
        bar = ttk.Frame(frame)
        bar.pack(fill="x", pady=(12, 0))
        self.status = ttk.Label(bar, text="", style="Status.TLabel")
        self.status.pack(side="left", fill="x", expand=True)
        ttk.Button(bar, text="Close", command=self.destroy).pack(side="right")
        ttk.Button(bar, text="Save", command=self.save, style=accent_button_style(self)).pack(
            side="right", padx=(0, 6))
        self.bind("<Escape>", lambda e: self.destroy())

    def save(self) -> None:
        for pid, var in self.ids.items():
            signin.save_client(self.app.settings, self.app.secrets, pid, var.get().strip(),
                               self.secrets[pid].get())
        self.app.settings.set(ISPDB_KEY, self.ispdb.get().strip())
        self.app.settings.set(HTTP_KEY, bool(self.http.get()))
        self.status.configure(text="Saved.", style="Ok.TLabel")
