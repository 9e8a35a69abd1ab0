"""The mail account manager: a list of accounts and a Form for the one selected."""

from __future__ import annotations

import tkinter as tk
from tkinter import ttk
from typing import Callable

from netgui.net.mail import accounts, signin
from netgui.ui import dialogs
from netgui.ui.form import Field, Form
from netgui.ui.scrolled import ScrolledFrame

SECURITY_LABELS = {"tls": "TLS", "starttls": "STARTTLS", "none": "None (unencrypted)"}
SECURITY_VALUES = {v: k for k, v in SECURITY_LABELS.items()}
PROTOCOL_LABELS = {"imap": "IMAP", "pop3": "POP3"}
PROTOCOL_VALUES = {v: k for k, v in PROTOCOL_LABELS.items()}
AUTH_LABELS = {"password": "Password", "oauth2": "OAuth2 (browser sign-in)"}
AUTH_VALUES = {v: k for k, v in AUTH_LABELS.items()}


def _email(value: str) -> str | None:
    if value and ("@" not in value or " " in value or "\n" in value):
        return "Not an e-mail address"
    return None


def _no_newline(value) -> str | None:
    return "No line breaks" if isinstance(value, str) and ("\n" in value or "\r" in value) else None


def _fields(providers: list[str]) -> list[Field]:
    sec = list(SECURITY_LABELS.values())
    return [
        Field("name", "Account name", required=True, remember=False,
              validator=lambda v: "No '/' in the name" if "/" in v else None),
        Field("display_name", "Your name", remember=False, validator=_no_newline),
        Field("email", "E-mail address", required=True, remember=False, validator=_email),
        Field("incoming_protocol", "Incoming", kind="choice", choices=list(PROTOCOL_LABELS.values()),
              remember=False),
        Field("incoming_host", "Incoming server", required=True, remember=False, validator=_no_newline),
        Field("incoming_security", "Security", kind="choice", choices=sec, remember=False),
        Field("incoming_port", "Port", kind="port", default=993, remember=False),
        Field("incoming_user", "User name", remember=False, validator=_no_newline,
              help="empty = the e-mail address"),
        Field("incoming_auth", "Sign in with", kind="choice", choices=list(AUTH_LABELS.values()),
              remember=False),
        Field("oauth_provider", "OAuth2 provider", kind="choice", choices=providers,
              remember=False),
        Field("incoming_password", "Password", kind="password", remember=False),
        Field("verify_tls", "Check server certificates", kind="check", default=True, remember=False),
        Field("smtp_host", "Outgoing (SMTP) server", remember=False, validator=_no_newline),
        Field("smtp_security", "Security", kind="choice", choices=sec, remember=False),
        Field("smtp_port", "Port", kind="port", default=465, remember=False),
        Field("smtp_auth", "SMTP needs a login", kind="check", default=True, remember=False),
        Field("smtp_user", "SMTP user name", remember=False, validator=_no_newline,
              help="empty = same as incoming"),
        Field("smtp_password", "SMTP password", kind="password", remember=False,
              help="empty = same as incoming"),
        Field("signature", "Signature", kind="textarea", remember=False),
    ]


class AccountDialog(tk.Toplevel):
    """Add, edit and delete mail accounts. ``on_change(name_or_None)`` runs after a save/delete."""

    def __init__(self, master, app, on_change: Callable[[str | None], None] | None = None,
                 select: str | None = None, on_add: Callable[[], None] | None = None,
                 open_browser: Callable[[str], bool] | None = None):
        super().__init__(master)
        self.app = app
        self.on_change = on_change
        self.open_browser = open_browser
        self.providers = {p["name"]: p["id"] for p in signin.oauth_providers(app.settings)}
        self.title("Mail accounts")
        self.transient(master.winfo_toplevel())
        self.geometry(f"{min(840, self.winfo_screenwidth() - 40)}x"
                      f"{min(720, self.winfo_screenheight() - 60)}")
        self.current: str | None = None

        left = ttk.Frame(self, padding=8)
        left.pack(side="left", fill="y")
        ttk.Label(left, text="Accounts").pack(anchor="w")
        self.listbox = tk.Listbox(left, width=22, exportselection=False, activestyle="none")
        self.listbox.pack(fill="y", expand=True, pady=4)
        self.listbox.bind("<<ListboxSelect>>", self._picked)
        if on_add is not None:
            ttk.Button(left, text="Add account…", command=on_add).pack(fill="x")
        ttk.Button(left, text="New by hand", command=self.new).pack(fill="x", pady=(4, 0))
        self.delete_button = ttk.Button(left, text="Delete…", command=self.delete)
        self.delete_button.pack(fill="x", pady=(4, 0))
        ttk.Button(left, text="Sign-in clients…", command=self.open_clients).pack(fill="x",
                                                                                  pady=(12, 0))

        right = ScrolledFrame(self, app)  # the form is taller than an 800x600 screen
        right.pack(side="left", fill="both", expand=True)
        self.form = Form(right.inner, _fields([""] + list(self.providers)), on_submit=self._save,
                         submit_text="Save")
        self.form.pack(fill="both", expand=True, padx=8, pady=8)
        self.sign_in_button = self.form.add_button("Sign in…", self.sign_in_again)
        self.form.add_button("Close", self.destroy)
        self.form.variables["incoming_auth"].trace_add("write", lambda *_: self._auth_changed())
        ttk.Label(left, text="Passwords are kept in the system keyring, never in a file. "
                  "Ports follow the security choice.", style="Muted.TLabel",
                  wraplength=170).pack(anchor="w", pady=(8, 0))
        for name in ("incoming_protocol", "incoming_security"):
            self.form.variables[name].trace_add("write", lambda *_: self._default_port("incoming"))
        self.form.variables["smtp_security"].trace_add("write", lambda *_: self._default_port("smtp"))
        self.bind("<Escape>", lambda e: self.destroy())
        self.refresh(select)

    # -- list ------------------------------------------------------------------------
    def names(self) -> list[str]:
        return list(accounts.load_accounts(self.app.settings))

    def refresh(self, select: str | None = None) -> None:
        names = self.names()
        self.listbox.delete(0, "end")
        for name in names:
            self.listbox.insert("end", name)
        if select in names:
            self.load(select)
        elif names:
            self.load(names[0])
        else:
            self.new()

    def _picked(self, event=None):
        sel = self.listbox.curselection()
        if sel:
            self.load(self.listbox.get(sel[0]))

    def load(self, name: str) -> None:
        data = accounts.load_account(self.app.settings, name)
        if data is None:
            return
        self.current = name
        names = self.names()
        self.listbox.selection_clear(0, "end")
        if name in names:
            self.listbox.selection_set(names.index(name))
        values = dict(data)
        values["name"] = name
        values["incoming_protocol"] = PROTOCOL_LABELS[data["incoming_protocol"]]
        values["incoming_security"] = SECURITY_LABELS[data["incoming_security"]]
        values["smtp_security"] = SECURITY_LABELS[data["smtp_security"]]
        values["incoming_auth"] = AUTH_LABELS[data["incoming_auth"]]
        values["oauth_provider"] = next((label for label, pid in self.providers.items()
                                         if pid == data["oauth_provider"]), "")
        values["incoming_password"] = accounts.incoming_password(self.app.secrets, name) or ""
        values["smtp_password"] = self.app.secrets.get(accounts.secret_key(name, "smtp")) or ""
        self._loading = True
        try:
            self.form.set_values(values)
        finally:
            self._loading = False
        self.form.set_status("")
        self._auth_changed()

    def new(self) -> None:
        self.current = None
        self.listbox.selection_clear(0, "end")
        self._loading = True
        try:
            self.form.set_values({"name": "", "display_name": "", "email": "", "incoming_host": "",
                                  "incoming_user": "", "incoming_password": "", "smtp_host": "",
                                  "smtp_user": "", "smtp_password": "", "signature": "",
                                  "incoming_protocol": "IMAP", "incoming_security": "TLS",
                                  "incoming_port": 993, "smtp_security": "STARTTLS", "smtp_port": 587,
                                  "verify_tls": True, "smtp_auth": True,
                                  "incoming_auth": AUTH_LABELS["password"], "oauth_provider": ""})
        finally:
            self._loading = False
        self._auth_changed()
        self.form.set_status("A new account: fill in the servers and Save.")
        self.form.widgets["name"].focus_set()

    _loading = False

    def _default_port(self, which: str) -> None:
        if self._loading:
            return
        raw = self.form.values()
        if which == "incoming":
            protocol = PROTOCOL_VALUES.get(self.form.raw("incoming_protocol"), "imap")
            security = SECURITY_VALUES.get(self.form.raw("incoming_security"), "tls")
            defaults = {p for d in accounts.INCOMING_PORTS.values() for p in d.values()}
            if raw["incoming_port"] in defaults or raw["incoming_port"] is None:
                self.form.set("incoming_port", accounts.incoming_port(protocol, security))
        else:
            security = SECURITY_VALUES.get(self.form.raw("smtp_security"), "tls")
            if raw["smtp_port"] in set(accounts.SMTP_PORTS.values()) or raw["smtp_port"] is None:
                self.form.set("smtp_port", accounts.smtp_port(security))

    def _auth_changed(self) -> None:
        oauth = AUTH_VALUES.get(self.form.raw("incoming_auth")) == "oauth2"
        self.form.set_enabled("oauth_provider", oauth)
        self.form.set_enabled("incoming_password", not oauth)
        self.form.set_enabled("smtp_password", not oauth)
        if oauth and self.current:
            self.sign_in_button.state(["!disabled"])
        else:
            self.sign_in_button.state(["disabled"])

    def sign_in_again(self):
        """Sign the selected OAuth2 account in again (a new grant replaces the stored one)."""
        from .signin_window import SignInWindow
        profile = accounts.load_account(self.app.settings, self.current or "")
        if profile is None or not signin.uses_oauth(profile):
            return None
        name = self.current

        def done(ok: bool) -> None:
            if ok:
                self.form.set_status(f"Signed in to {name}.", "ok")
                if self.on_change:
                    self.on_change(name)

        window = SignInWindow(self, self.app, name, profile, done, open_browser=self.open_browser)
        window.start()
        return window

    def open_clients(self):
        from .clients_dialog import ClientsDialog
        return ClientsDialog(self, self.app, open_browser=self.open_browser)

    # -- save / delete ---------------------------------------------------------------------
    def profile_from_form(self) -> tuple[str, dict, str, str]:
        v = self.form.values()
        name = v.pop("name")
        incoming_pw = v.pop("incoming_password")
        smtp_pw = v.pop("smtp_password")
        v["incoming_protocol"] = PROTOCOL_VALUES.get(v["incoming_protocol"], "imap")
        v["incoming_security"] = SECURITY_VALUES.get(v["incoming_security"], "tls")
        v["smtp_security"] = SECURITY_VALUES.get(v["smtp_security"], "tls")
        v["incoming_auth"] = v["smtp_auth_method"] = AUTH_VALUES.get(v["incoming_auth"], "password")
        v["oauth_provider"] = self.providers.get(v["oauth_provider"], "")
        if not v["incoming_user"]:
            v["incoming_user"] = v["email"]
        return name, accounts.normalize(v), incoming_pw, smtp_pw

    def _save(self, values=None) -> None:
        name, data, incoming_pw, smtp_pw = self.profile_from_form()
        problems = accounts.validate(name, data)
        if problems:
            self.form.set_status(problems[0], "error")
            return
        grant = None
        if self.current and self.current != name:  # renamed: the sign-in moves along
            grant = self.app.secrets.get(accounts.secret_key(self.current, "oauth-refresh"))
            accounts.delete_account(self.app.settings, self.app.secrets, self.current)
            signin.forget_account(self.current)
        if signin.uses_oauth(data):  # no passwords for an account that signs in with OAuth2
            incoming_pw = smtp_pw = None
        accounts.save_account(self.app.settings, self.app.secrets, name, data,
                              incoming_password=incoming_pw, smtp_password=smtp_pw)
        if grant and signin.uses_oauth(data):
            self.app.secrets.set(accounts.secret_key(name, "oauth-refresh"), grant)
        self.current = name
        self.refresh(name)
        self.form.set_status(f"Saved {name}.", "ok")
        if self.on_change:
            self.on_change(name)

    def delete(self, ask: bool = True) -> None:
        if not self.current:
            return
        if ask and not dialogs.confirm(self, "Delete account",
                                       f"Delete the account {self.current}?",
                                       "Its cached mail on this computer is removed too; "
                                       "nothing is deleted on the server."):
            return
        name = self.current
        profile = accounts.load_account(self.app.settings, name) or {}
        refresh = self.app.secrets.get(accounts.secret_key(name, "oauth-refresh"))
        accounts.delete_account(self.app.settings, self.app.secrets, name)
        signin.forget_account(name)
        if refresh:  # end the grant at the provider too, in the background
            settings, secrets = self.app.settings, self.app.secrets
            self.app.runner.submit(lambda ctx: signin.sign_out(
                settings, secrets, name, profile, refresh_token=refresh, token=ctx.token,
                log=ctx.log), name=f"Sign out of {name}")
        self.current = None
        self.refresh()
        if self.on_change:
            self.on_change(None)
