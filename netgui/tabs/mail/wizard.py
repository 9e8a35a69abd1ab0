"""The account wizard: from a name and an e-mail address to a working mail account.

1. Start: name, address, password (where the provider uses one), optionally a provider.
2. Looking: discovery runs as a task (autoconfig, provider database, SRV, guessing), one row
   per step, Cancel at any time.
3. Check: what was found and how, editable; unencrypted servers only when ticked; for OAuth2
   the provider's client ID (and secret, for providers that insist).
4. Sign in and test: the browser sign-in (or a code), then a login to both servers; only then
   is anything saved (account, keyring entries, client ID), all or nothing.
"""

from __future__ import annotations

import tkinter as tk
import urllib.parse
import webbrowser
from tkinter import font as tkfont
from tkinter import ttk
from typing import Callable

from netgui.net.errors import Cancelled
from netgui.net.mail import accounts, signin
from netgui.ui.form import Field, Form
from netgui.ui.scrolled import ScrolledFrame
from netgui.ui.theme import accent_button_style
from netgui.ui.transcript import TranscriptPane

from .account_dialog import PROTOCOL_LABELS, PROTOCOL_VALUES, SECURITY_LABELS, SECURITY_VALUES
from .clients_dialog import register_help
from .signin_window import SignInPanel, spinner_line
from .work import discover, test_and_save

AUTOMATIC = "Find automatically"
STEPS = (("autoconfig", "The domain's configuration file (autoconfig)"),
         ("ispdb", "Provider database (by domain and mail exchanger)"),
         ("srv", "DNS SRV records"),
         ("guess", "Trying common server names"))
HOW = {"autoconfig": "the domain's own configuration file",
       "ispdb": "the Thunderbird provider database (ISPDB)",
       "bundled": "netgui's provider list", "preset": "the provider you picked",
       "srv": "the domain's DNS SRV records", "guess": "trying common server names"}
METHODS = {"password": "Password", "oauth2": "Sign in with the browser (OAuth2)"}
METHOD_VALUES = {v: k for k, v in METHODS.items()}
WRAP = 560


def make_discovery(settings):
    """The discovery the wizard runs (tests point it at their own DNS server)."""
    from netgui.net.mail.autoconfig import ISPDB_URL, Discovery
    return Discovery(ispdb_url=settings.get("mail_ispdb_url", ISPDB_URL) or None,
                     allow_http=bool(settings.get("mail_autoconfig_http", True)))


def _email(value: str) -> str | None:
    local, _, domain = (value or "").rpartition("@")
    if value and (not local or "." not in domain or " " in value):
        return "Not an e-mail address"
    return None


class AccountWizard(tk.Toplevel):
    """Add a mail account from an address. ``on_saved(name)`` after the account is saved."""

    make_discovery = staticmethod(make_discovery)

    def __init__(self, master, app, on_saved: Callable[[str], None] | None = None,
                 open_browser: Callable[[str], bool] | None = None,
                 on_manual: Callable[[dict], None] | None = None):
        super().__init__(master)
        self.app = app
        self.on_saved = on_saved
        self.on_manual = on_manual
        self._sign_in_error = ""
        self.open_browser = open_browser or webbrowser.open
        self.task = None
        self.found = None          # autoconfig.Settings
        self.provider: dict | None = None
        self.saved: str | None = None
        self.title("Add a mail account")
        self.transient(master.winfo_toplevel())
        self.geometry(f"{min(760, self.winfo_screenwidth() - 40)}x"
                      f"{min(640, self.winfo_screenheight() - 60)}")
        self.minsize(560, 420)
        self.pages: dict[str, ttk.Frame] = {}
        self.page = ""
        outer = ttk.Frame(self, padding=14)
        outer.pack(fill="both", expand=True)
        self.body = outer
        self._build_start()
        self._build_looking()
        self._build_check()
        self._build_finish()
        self.show("start")
        self.bind("<Escape>", lambda e: self.cancel())
        self.protocol("WM_DELETE_WINDOW", self.cancel)
        app.follow_theme(self, self.transcript.set_palette)

    # -- pages ------------------------------------------------------------------------------
    def _page(self, key: str, title: str) -> ttk.Frame:
        frame = ttk.Frame(self.body)
        heading = ttk.Label(frame, text=title, font=("TkHeadingFont", 13, "bold"))
        heading.pack(side="top", anchor="w", pady=(0, 8))
        frame.heading = heading
        self.pages[key] = frame
        return frame

    def show(self, key: str) -> None:
        for name, frame in self.pages.items():
            if name != key:
                frame.pack_forget()
        self.pages[key].pack(fill="both", expand=True)
        self.page = key

    @staticmethod
    def _bar(page) -> ttk.Frame:
        bar = ttk.Frame(page)
        bar.pack(side="bottom", fill="x", pady=(10, 0))
        return bar

    def _build_start(self) -> None:
        page = self._page("start", "Add a mail account")
        ttk.Label(page, text="netgui looks up your provider's servers from the address. Leave "
                  "the password empty if your provider signs you in through the web browser "
                  "(Gmail, Outlook, Microsoft 365).", wraplength=WRAP,
                  justify="left").pack(side="top", anchor="w", pady=(0, 10))
        names = [AUTOMATIC] + [p["name"] for p in signin.load_providers()]
        self.start_form = Form(page, [
            Field("display_name", "Your name", remember=False, width=36),
            Field("email", "E-mail address", required=True, remember=False, width=36,
                  validator=_email),
            Field("password", "Password", kind="password", remember=False, width=36,
                  help="or an app password"),
            Field("provider", "Provider", kind="choice", choices=names, remember=False, width=34),
        ], on_submit=self._start_lookup, submit_text="Continue")
        self.start_form.pack(side="top", fill="x")
        if self.on_manual is not None:
            self.manual_button = self.start_form.add_button("Set up by hand…", self.manual)
        self.start_form.add_button("Cancel", self.cancel)

    def _build_looking(self) -> None:
        page = self._page("looking", "Looking for your mail servers")
        self.step_labels: dict[str, ttk.Label] = {}
        self.step_marks: dict[str, ttk.Label] = {}
        rows = ttk.Frame(page)
        rows.pack(side="top", fill="x")
        for i, (step, text) in enumerate(STEPS):
            mark = ttk.Label(rows, text="·", width=2, anchor="center")
            mark.grid(row=i, column=0, sticky="w", pady=2)
            label = ttk.Label(rows, text=text)
            label.grid(row=i, column=1, sticky="w", padx=(6, 0), pady=2)
            self.step_marks[step], self.step_labels[step] = mark, label
        self.look_spinner, self.look_status = spinner_line(page, WRAP - 40, pady=(10, 0))
        bar = self._bar(page)
        ttk.Button(bar, text="Cancel", command=self.cancel_lookup).pack(side="right")
        self.show_details = tk.BooleanVar(self, value=False)
        ttk.Checkbutton(bar, text="Show details", variable=self.show_details,
                        command=self._toggle_details).pack(side="left")
        self.transcript = TranscriptPane(page, palette=self.app.theme)

    def _build_check(self) -> None:
        page = self._page("check", "Check the settings")
        bar = self._bar(page)
        self.check_status = ttk.Label(bar, text="", style="Error.TLabel", wraplength=WRAP,
                                      justify="left")
        self.check_status.pack(side="top", fill="x", pady=(0, 6))
        self.continue_button = ttk.Button(bar, text="Sign in and test", command=self.finish,
                                          style=accent_button_style(self))
        self.continue_button.pack(side="right")
        ttk.Button(bar, text="Back", command=lambda: self.show("start")).pack(side="right",
                                                                              padx=(0, 6))
        ttk.Button(bar, text="Cancel", command=self.cancel).pack(side="left")
        self.scroll = ScrolledFrame(page, self.app)
        self.scroll.pack(side="top", fill="both", expand=True)
        body = self.scroll.inner
        self.how = ttk.Label(body, text="", wraplength=WRAP, justify="left")
        self.how.pack(side="top", anchor="w")
        self.notes = ttk.Label(body, text="", style="Error.TLabel", wraplength=WRAP,
                               justify="left")
        self.notes.pack(side="top", anchor="w", pady=(2, 6))
        sec = list(SECURITY_LABELS.values())
        cols = ttk.Frame(body)
        cols.pack(side="top", fill="x")
        left = ttk.LabelFrame(cols, text="Incoming", padding=6)
        left.pack(side="left", fill="both", expand=True)
        right = ttk.LabelFrame(cols, text="Outgoing (SMTP)", padding=6)
        right.pack(side="left", fill="both", expand=True, padx=(8, 0))
        self.in_form = Form(left, [
            Field("incoming_protocol", "Protocol", kind="choice",
                  choices=list(PROTOCOL_LABELS.values()), remember=False, width=12),
            Field("incoming_host", "Server", required=True, remember=False, width=22),
            Field("incoming_security", "Security", kind="choice", choices=sec, remember=False,
                  width=18),
            Field("incoming_port", "Port", kind="port", remember=False),
            Field("incoming_user", "User name", remember=False, width=22),
        ])
        self.out_form = Form(right, [
            Field("smtp_host", "Server", remember=False, width=22),
            Field("smtp_security", "Security", kind="choice", choices=sec, remember=False,
                  width=18),
            Field("smtp_port", "Port", kind="port", remember=False),
            Field("smtp_user", "User name", remember=False, width=22),
            Field("smtp_auth", "Needs a login", kind="check", default=True, remember=False),
        ])
        box = ttk.LabelFrame(body, text="Sign-in", padding=6)
        box.pack(side="top", fill="x", pady=(8, 0))
        self.auth_form = Form(box, [
            Field("method", "Sign in with", kind="choice", choices=list(METHODS.values()),
                  remember=False, width=30),
            Field("name", "Account name", required=True, remember=False, width=30,
                  validator=lambda v: "No '/' in the name" if "/" in v else None),
        ])
        self.pw_form = Form(box, [
            Field("password", "Password", kind="password", remember=False, width=30)])
        self.client_form = Form(box, [
            Field("client_id", "OAuth client ID", remember=False, width=30),
            Field("client_secret", "Client secret", kind="password", remember=False, width=30,
                  help="if the provider needs one")])
        label_width = tkfont.nametofont("TkDefaultFont").measure("OAuth client ID: ") + 6
        for form in (self.in_form, self.out_form, self.auth_form, self.pw_form, self.client_form):
            form.buttons.pack_forget()
            if form not in (self.pw_form, self.client_form):
                form.pack(fill="x")
            if form in (self.auth_form, self.pw_form, self.client_form):  # labels line up
                form.winfo_children()[0].columnconfigure(0, minsize=label_width)
        self.plaintext = tk.BooleanVar(self, value=False)
        self.plaintext_check = ttk.Checkbutton(
            box, variable=self.plaintext, text="Use the unencrypted connection anyway (the "
            "password can be read on the way)")
        links = self.links = ttk.Frame(box)
        links.pack(side="top", fill="x", pady=(4, 0))
        self.sign_in_note = ttk.Label(links, text="", style="Muted.TLabel", wraplength=WRAP - 180,
                                      justify="left")
        self.sign_in_note.pack(side="left", fill="x", expand=True)
        self.help_button = ttk.Button(links, text="How to get a client ID", command=self.open_help)
        self.help_button.pack(side="right")
        self.auth_form.variables["method"].trace_add("write", lambda *_: self._method_changed())
        for form, key in ((self.in_form, "incoming_security"), (self.out_form, "smtp_security")):
            form.variables[key].trace_add("write", lambda *_: self._security_changed())

    def _build_finish(self) -> None:
        page = self._page("finish", "Signing in")
        self.panel_holder = ttk.Frame(page)
        self.panel_holder.pack(side="top", fill="x")
        self.panel: SignInPanel | None = None
        self.finish_spinner, self.finish_status = spinner_line(page, WRAP, pady=(12, 0))
        bar = self._bar(page)
        self.finish_cancel = ttk.Button(bar, text="Cancel", command=self.cancel_finish)
        self.finish_cancel.pack(side="right")

    # -- 1 -> 2: looking ------------------------------------------------------------------------
    def _start_lookup(self, values: dict) -> None:
        email = values["email"]
        self.transcript.clear()
        for step, _ in STEPS:
            self.step_marks[step].configure(text="·", style="TLabel")
        self.pages["looking"].heading.configure(
            text=f"Looking for the mail servers of {email.rpartition('@')[2]}")
        preset = next((p for p in signin.load_providers() if p["name"] == values["provider"]),
                      None)
        if preset is not None:
            from netgui.net.mail.autoconfig import provider_settings
            found = provider_settings(preset, preset["name"])
            found.source = "preset"
            self._review(found)
            return
        self.show("looking")
        self.look_spinner.start()
        self.look_status.configure(text="Starting…", style="Status.TLabel")
        self.task = self.app.runner.submit(
            discover, self.make_discovery(self.app.settings), email,
            name=f"Find the servers of {email}", on_event=self._step,
            on_log=self.transcript.append, on_result=self._review, on_error=self._lookup_failed,
            on_done=lambda t: self.winfo_exists() and self.look_spinner.stop())

    def _step(self, kind: str, payload) -> None:
        step, text = payload
        order = [s for s, _ in STEPS]
        if step in order:
            for earlier in order[:order.index(step)]:
                if self.step_marks[earlier].cget("text") in ("·", "…"):
                    self.step_marks[earlier].configure(text="–")
            self.step_marks[step].configure(text="…")
        elif step == "done":
            for s in order:
                if self.step_marks[s].cget("text") == "…":
                    self.step_marks[s].configure(text="✓", style="Ok.TLabel")
        self.look_status.configure(text=text)

    def _lookup_failed(self, error) -> None:
        if isinstance(error, Cancelled):
            return
        # nothing found: the check page with empty servers, the reason on top
        from netgui.net.mail.autoconfig import Settings
        self._review(Settings("manual", ""), problem=str(error))

    def cancel_lookup(self) -> None:
        if self.task is not None and self.task.running:
            self.task.cancel()
        self.show("start")

    def _toggle_details(self) -> None:
        if self.show_details.get():
            self.transcript.pack(side="top", fill="both", expand=True, pady=(10, 0))
        else:
            self.transcript.pack_forget()

    # -- 3: check ---------------------------------------------------------------------------
    def _review(self, found, problem: str = "") -> None:
        start = self.start_form.values()
        email, name = start["email"], start["display_name"]
        self.found = found
        self.provider = signin.provider(self.app.settings, found.provider or "") \
            or found.custom_provider
        profile = found.to_profile(email, name, allow_plaintext=True) if found.incoming else {
            "incoming_protocol": "imap", "incoming_security": "tls",
            "incoming_port": 993, "incoming_user": email, "smtp_security": "starttls",
            "smtp_port": 587, "smtp_user": email}
        self.in_form.set_values({
            "incoming_protocol": PROTOCOL_LABELS[profile["incoming_protocol"]],
            "incoming_host": profile.get("incoming_host", ""),
            "incoming_security": SECURITY_LABELS[profile["incoming_security"]],
            "incoming_port": profile["incoming_port"],
            "incoming_user": profile.get("incoming_user", email)})
        self.out_form.set_values({
            "smtp_host": profile.get("smtp_host", ""),
            "smtp_security": SECURITY_LABELS[profile.get("smtp_security", "starttls")],
            "smtp_port": profile.get("smtp_port", 587),
            "smtp_user": profile.get("smtp_user", email),
            "smtp_auth": profile.get("smtp_auth", True)})
        method = "oauth2" if found.uses_oauth and self.provider and self.provider.get("oauth") \
            else "password"
        pid = (self.provider or {}).get("id", "")
        self.auth_form.set_values({"name": email, "method": METHODS[method]})
        self.pw_form.set_values({"password": start["password"]})
        client = signin.client_id(self.app.settings, pid) if pid else ""
        if not client and self.provider is not None and self.provider.get("custom"):
            client = self.provider["oauth"].get("default_client_id", "")  # the config's own
        self.client_form.set_values({
            "client_id": client,
            "client_secret": signin.client_secret(self.app.secrets, pid) or "" if pid else ""})
        self.plaintext.set(False)
        if found.source == "manual":
            self.how.configure(text="Enter your provider's servers below.")
        elif found.source == "bundled":
            self.how.configure(text=f"Found in {found.where}.")
        else:
            where = f" ({found.where})" if found.where and found.source != "preset" else ""
            self.how.configure(text=f"Found through {HOW.get(found.source, found.source)}"
                                    f"{where}.")
        notes = [problem] if problem else []
        notes += found.notes
        if found.insecure:
            notes.append("Only unencrypted connections were found: tick the box below to use "
                         "them, or change the security.")
        self.notes.configure(text="\n".join(n for n in notes if n)[:600])
        self.check_status.configure(text="")
        self._method_changed()
        self._security_changed()
        self.show("check")
        self.scroll.to_top()

    def _method_changed(self) -> None:
        method = METHOD_VALUES.get(self.auth_form.raw("method"), "password")
        oauth = method == "oauth2"
        p = self.provider or {}
        shown, hidden = (self.client_form, self.pw_form) if oauth else (self.pw_form,
                                                                         self.client_form)
        hidden.pack_forget()
        shown.pack(fill="x", after=self.auth_form)
        needs_secret = bool((p.get("oauth") or {}).get("client_secret_required"))
        self.client_form.fields["client_secret"].help = \
            "required by this provider" if needs_secret else "if the provider needs one"
        self.client_form.messages["client_secret"].configure(
            text=self.client_form.fields["client_secret"].help)
        self.continue_button.configure(text="Sign in and test" if oauth else "Test and save")
        if oauth and p.get("oauth"):
            server = urllib.parse.urlsplit(p["oauth"]["authorization_endpoint"]).netloc
            self.sign_in_note.configure(text=f"Sign-in server: {server}. netgui has no client ID "
                                        "of its own: register one with the provider and enter "
                                        "it here (it is kept for the next account).")
            self.help_button.configure(text="How to get a client ID")
            self.help_button.pack(side="right")
        elif p.get("app_password_url"):
            self.sign_in_note.configure(text=f"{p.get('name')} wants an app password here, not "
                                        "your usual password.")
            self.help_button.configure(text="Get an app password")
            self.help_button.pack(side="right")
        elif oauth:
            self.sign_in_note.configure(text="No sign-in server is known for these servers: "
                                        "sign in with a password.")
            self.help_button.pack_forget()
        else:
            self.sign_in_note.configure(text="The password is kept in the system keyring, never "
                                        "in a file.")
            self.help_button.pack_forget()

    def _security_changed(self) -> None:
        """The "unencrypted anyway" box, only while a server is set to no encryption."""
        plain = SECURITY_VALUES.get(self.in_form.raw("incoming_security")) == "none" or (
            SECURITY_VALUES.get(self.out_form.raw("smtp_security")) == "none")
        if plain:
            self.plaintext_check.pack(side="top", anchor="w", pady=(4, 0), before=self.links)
        else:
            self.plaintext_check.pack_forget()
            self.plaintext.set(False)

    def open_help(self) -> None:
        """How to get a client ID (OAuth2), or the provider's app password page."""
        p = self.provider or {}
        if METHOD_VALUES.get(self.auth_form.raw("method")) == "password" and \
                p.get("app_password_url"):
            self.open_browser(p["app_password_url"])
        else:
            register_help(self, p, self.open_browser)

    def profile(self) -> tuple[str, dict, str]:
        """(account name, profile, password) from the check page."""
        i, o, a = self.in_form.values(), self.out_form.values(), self.auth_form.values()
        start = self.start_form.values()
        password = self.pw_form.get("password")
        method = METHOD_VALUES.get(a["method"], "password")
        profile = accounts.normalize({
            "display_name": start["display_name"], "email": start["email"],
            "incoming_protocol": PROTOCOL_VALUES.get(i["incoming_protocol"], "imap"),
            "incoming_host": i["incoming_host"],
            "incoming_security": SECURITY_VALUES.get(i["incoming_security"], "tls"),
            "incoming_port": i["incoming_port"], "incoming_user": i["incoming_user"] or start["email"],
            "smtp_host": o["smtp_host"], "smtp_security": SECURITY_VALUES.get(o["smtp_security"], "tls"),
            "smtp_port": o["smtp_port"], "smtp_user": o["smtp_user"], "smtp_auth": o["smtp_auth"],
            "incoming_auth": method, "smtp_auth_method": method,
            "oauth_provider": (self.provider or {}).get("id", "")})
        return a["name"], profile, password

    def problems(self) -> list[str]:
        name, profile, password = self.profile()
        forms = (self.in_form, self.out_form, self.auth_form)
        problems = [] if all([f.validate() for f in forms]) else ["Please correct the marked fields"]
        problems += accounts.validate(name, profile)
        if name in self.app.settings.profiles(accounts.KIND):
            problems.append(f"An account named {name} exists already")
        plaintext = profile["incoming_security"] == "none" or (
            profile["smtp_host"] and profile["smtp_security"] == "none")
        if plaintext and not self.plaintext.get():
            problems.append("A server is set to no encryption: tick “Use the unencrypted "
                            "connection anyway” or choose TLS or STARTTLS")
        oauth = profile["incoming_auth"] == "oauth2"
        p = self.provider or {}
        if oauth and not p.get("oauth"):
            problems.append("No sign-in server is known for these servers; sign in with a "
                            "password")
        elif oauth and not self.client_form.get("client_id"):
            problems.append(f"Enter the OAuth client ID you registered with {p.get('name')} "
                            "(How to get a client ID)")
        elif oauth and p["oauth"].get("client_secret_required") and \
                not self.client_form.get("client_secret"):
            problems.append(f"{p.get('name')} also needs your OAuth client's secret")
        if not oauth and not password:
            problems.append("Enter the password (or app password)")
        return problems

    # -- 4: sign in and test --------------------------------------------------------------------
    def finish(self) -> None:
        problems = self.problems()
        if problems:
            self.check_status.configure(text=problems[0])
            return
        name, profile, password = self.profile()
        self.show("finish")
        self.finish_status.configure(text="", style="Status.TLabel")
        if self.panel is not None:
            self.panel.destroy()
            self.panel = None
        if profile["incoming_auth"] != "oauth2":
            heading = self.pages["finish"].heading
            heading.configure(text=f"Testing {name}")
            heading.pack(side="top", anchor="w", pady=(0, 8), before=self.panel_holder)
            self._test(name, profile, password)
            return
        a = self.client_form.values()
        try:
            config = signin.oauth_config(self.app.settings, self.app.secrets, self.provider["id"],
                                         client=a["client_id"], secret=a["client_secret"] or None,
                                         entry=self.provider)
        except Exception as exc:  # SignInError: an address that is not HTTPS, ...
            self._back(str(exc))
            return
        self.pages["finish"].heading.pack_forget()  # the panel says what to do
        self.finish_cancel.pack_forget()
        self.panel = SignInPanel(self.panel_holder, self.app, config,
                                 provider_name=self.provider["name"], login_hint=profile["email"],
                                 open_browser=self.open_browser, wrap=WRAP,
                                 on_done=lambda grant, error: self._signed_in(
                                     grant, error, name, profile, config))
        self.panel.pack(fill="x")
        self.panel.start()

    def _signed_in(self, grant, error, name, profile, config) -> None:
        if error is not None:
            self._sign_in_error = str(error)
            return  # the panel shows it, with Try again and Close
        if grant is None:  # Cancel or Close: back to the settings, nothing kept
            why, self._sign_in_error = self._sign_in_error, ""
            self._back(f"{why}. Nothing was saved." if why and not why.endswith("saved")
                       else why or "Not signed in; nothing was saved.")
            return
        self.panel.pack_forget()
        heading = self.pages["finish"].heading
        heading.configure(text=f"Testing {name}")
        heading.pack(side="top", anchor="w", pady=(0, 8), before=self.panel_holder)
        self.finish_cancel.pack(side="right")
        self._test(name, profile, None, config=config, grant=grant)

    def _test(self, name: str, profile: dict, password: str | None, **oauth) -> None:
        a = self.client_form.values()
        extra = {}
        if oauth:
            extra = dict(oauth, client=a["client_id"], secret=a["client_secret"] or None,
                         provider_entry=self.provider if self.provider.get("custom") else None)
        self.finish_spinner.start()
        self.finish_status.configure(text="Testing the servers…", style="Status.TLabel")
        self.task = self.app.runner.submit(
            test_and_save, self.app.settings, self.app.secrets, name, profile, password=password,
            name=f"Test {name}", on_log=self.transcript.append,
            on_status=lambda text: self.finish_status.configure(text=text),
            on_result=lambda saved: self._saved(name), on_error=self._test_failed,
            on_done=lambda t: self.winfo_exists() and self.finish_spinner.stop(), **extra)

    def _test_failed(self, error) -> None:
        if isinstance(error, Cancelled):
            self._back("Cancelled; nothing was saved.")
        else:
            self._back(f"{error}. Nothing was saved.")

    def _back(self, text: str) -> None:
        self.check_status.configure(text=text)
        self.show("check")

    def _saved(self, name: str) -> None:
        self.saved = name
        self.finish_status.configure(text=f"{name} is ready.", style="Ok.TLabel")
        if self.on_saved:
            self.on_saved(name)
        self.destroy()

    def cancel_finish(self) -> None:
        if self.task is not None and self.task.running:
            self.task.cancel()  # the failure callback goes back to the check page
        else:
            self.show("check")

    # -- leaving ----------------------------------------------------------------------------
    def manual(self) -> None:
        """Open the account form instead, with what was typed."""
        values = self.start_form.values()
        self.cancel()
        self.on_manual(values)

    def cancel(self) -> None:
        if self.task is not None and self.task.running:
            self.task.cancel()
        if self.panel is not None and self.panel.running:
            self.panel.task.cancel()
        self.destroy()

