"""Signing in to a mail provider with OAuth2: the waiting panel and the "Sign in again" window.

``SignInPanel`` runs one sign-in as a task and shows what the user has to do: "Finish signing
in in your browser" (with the address to copy when no browser opened), or a code to type on
another device (the device flow). Cancel ends the task; the loopback listener closes at once.
``SignInWindow`` is the panel in a window of its own, for an account whose stored sign-in the
provider no longer accepts. Neither ever shows or logs a token.
"""

from __future__ import annotations

import tkinter as tk
import urllib.parse
import webbrowser
from tkinter import ttk
from typing import Callable

from netgui.net.errors import Cancelled
from netgui.net.mail import signin
from netgui.ui.spinner import Spinner
from netgui.ui.theme import accent_button_style

from .work import sign_in

OnDone = Callable[[object, BaseException | None], None]  # (grant or None, error or None)


def spinner_line(parent, wrap: int, pady=(8, 0)) -> tuple[Spinner, ttk.Label]:
    """A spinner and a status line beside it, packed at the top of ``parent``."""
    line = ttk.Frame(parent)
    line.pack(side="top", fill="x", pady=pady)
    spinner = Spinner(line)
    spinner.pack(side="left")
    label = ttk.Label(line, text="", style="Status.TLabel", wraplength=wrap, justify="left")
    label.pack(side="left", fill="x", expand=True, padx=(4, 0))
    return spinner, label


def _host(url: str) -> str:
    return urllib.parse.urlsplit(url or "").hostname or url


class SignInPanel(ttk.Frame):
    """The waiting part of an OAuth2 sign-in. ``start()`` runs the browser flow (or
    ``start("device")`` the device flow); ``on_done(grant, None)`` after a sign-in,
    ``on_done(None, error)`` after a failure, ``on_done(None, None)`` after Cancel."""

    def __init__(self, master, app, config, *, provider_name: str, on_done: OnDone,
                 login_hint: str | None = None, open_browser: Callable[[str], bool] | None = None,
                 wrap: int = 480):
        super().__init__(master)
        self.app = app
        self.config = config
        self.provider_name = provider_name
        self.on_done = on_done
        self.login_hint = login_hint
        self.open_browser = open_browser or webbrowser.open
        self.task = None
        self.mode = "browser"
        self.url = ""
        self.device_code = None
        self.can_use_code = bool(config.device_authorization_endpoint)

        self.heading = ttk.Label(self, text="", font=("TkHeadingFont", 13, "bold"))
        self.heading.pack(side="top", anchor="w")
        self.text = ttk.Label(self, text="", wraplength=wrap, justify="left")
        self.text.pack(side="top", anchor="w", pady=(6, 8))

        self.link_row = ttk.Frame(self)
        self.link_var = tk.StringVar(self)
        self.link_entry = ttk.Entry(self.link_row, textvariable=self.link_var, state="readonly",
                                    width=48)
        self.link_entry.pack(side="left", fill="x", expand=True)
        self.copy_link_button = ttk.Button(self.link_row, text="Copy link", command=self.copy_link)
        self.copy_link_button.pack(side="left", padx=(4, 0))
        self.open_link_button = ttk.Button(self.link_row, text="Open", command=self.open_link)
        self.open_link_button.pack(side="left", padx=(4, 0))

        self.code_row = ttk.Frame(self)
        ttk.Label(self.code_row, text="Code:").pack(side="left")
        self.code_var = tk.StringVar(self)
        self.code_entry = ttk.Entry(self.code_row, textvariable=self.code_var, state="readonly",
                                    width=14, font=("TkFixedFont", 16, "bold"), justify="center")
        self.code_entry.pack(side="left", padx=(6, 0))
        self.copy_code_button = ttk.Button(self.code_row, text="Copy code", command=self.copy_code)
        self.copy_code_button.pack(side="left", padx=(6, 0))

        self.spinner, self.status = spinner_line(self, wrap)

        buttons = ttk.Frame(self)
        buttons.pack(side="top", fill="x", pady=(10, 0))
        self.switch_button = ttk.Button(buttons, text="Sign in with a code instead",
                                        command=self.switch)
        self.switch_button.pack(side="left")
        self.retry_button = ttk.Button(buttons, text="Try again", command=self.start,
                                       style=accent_button_style(self))
        self.cancel_button = ttk.Button(buttons, text="Cancel", command=self.cancel)
        self.cancel_button.pack(side="right")
        self.bind("<Destroy>", self._on_destroy, add="+")

    # -- running ------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.task is not None and self.task.running

    def start(self, mode: str | None = None) -> None:
        """Start (or restart) the sign-in in ``mode`` ("browser" or "device")."""
        if self.task is not None and self.task.running:
            self.task.cancel()
        self.mode = mode or self.mode
        self.url, self.device_code = "", None
        self.retry_button.pack_forget()
        self.link_row.pack_forget()
        self.code_row.pack_forget()
        host = _host(self.config.authorization_endpoint)
        if self.mode == "device":
            self.heading.configure(text="Sign in with a code")
            self.text.configure(text=f"Asking {_host(self.config.device_authorization_endpoint)} "
                                     "for a code…")
            self.switch_button.configure(text="Use the browser instead")
        else:
            self.heading.configure(text="Finish signing in in your browser")
            self.text.configure(text=f"netgui opened {host} in your web browser. Sign in to "
                                     f"{self.provider_name} there and allow access; this "
                                     "window goes on by itself.")
            self.switch_button.configure(text="Sign in with a code instead")
        if self.can_use_code:
            self.switch_button.pack(side="left")
        else:
            self.switch_button.pack_forget()
        self._set_status("Waiting for the sign-in…", busy=True)
        self.cancel_button.configure(text="Cancel")
        task = self.app.runner.submit(sign_in, self.config, self.mode, self.login_hint,
                                      self.open_browser, name=f"Sign in to {self.provider_name}",
                                      on_event=self._on_event, on_done=self._finished)
        self.task = task

    def switch(self) -> None:
        self.start("browser" if self.mode == "device" else "device")

    def cancel(self) -> None:
        """Stop waiting; nothing is kept."""
        task, self.task = self.task, None
        if task is not None and task.running:
            task.cancel()
        self._set_status("", busy=False)
        self._done(None, None)

    def _done(self, grant, error) -> None:
        on_done, self.on_done = self.on_done, None
        if on_done is not None:
            on_done(grant, error)

    def _on_event(self, kind: str, payload) -> None:
        if kind == "url":
            self.url = payload
            self.link_var.set(payload)
            self.link_row.pack(side="top", fill="x", after=self.text)
        elif kind == "no-browser":
            if self.can_use_code and self.mode == "browser":
                self.start("device")
                self.status.configure(text="No web browser could be opened here: sign in with a "
                                           "code on another device.")
                return
            self.text.configure(text="No web browser could be opened here. Open this address in a "
                                     f"browser on this computer and sign in to {self.provider_name}:")
        elif kind == "device-code":
            self.device_code = payload
            self.url = payload.verification_uri_complete or payload.verification_uri
            self.link_var.set(payload.verification_uri)
            self.code_var.set(payload.user_code)
            minutes = max(1, int(payload.expires_in // 60))
            self.text.configure(text="On a phone or another computer, open this address and enter "
                                     f"the code below (it works for {minutes} minutes):")
            self.link_row.pack(side="top", fill="x", after=self.text)
            self.code_row.pack(side="top", anchor="w", pady=(8, 0), after=self.link_row)

    def _finished(self, task) -> None:
        if task is not self.task:
            return  # a sign-in that was replaced (switched, restarted) or cancelled
        self.task = None
        if task.state == "done":
            self._set_status("Signed in.", busy=False, style="Ok.TLabel")
            self._done(task.result, None)
        elif task.state == "cancelled" or isinstance(task.error, Cancelled):
            self._set_status("", busy=False)
        else:
            self._set_status(str(task.error), busy=False, style="Error.TLabel")
            self.retry_button.pack(side="right", padx=(6, 0))
            self.cancel_button.configure(text="Close")
            if self.on_done is not None:  # kept: "Try again" may still sign in
                self.on_done(None, task.error)

    def _set_status(self, text: str, busy: bool, style: str = "Status.TLabel") -> None:
        self.status.configure(text=text, style=style)
        if busy:
            self.spinner.start()
        else:
            self.spinner.stop()

    # -- copying --------------------------------------------------------------------------
    def _copy(self, text: str, what: str) -> None:
        if text:
            self.clipboard_clear()
            self.clipboard_append(text)
            self.status.configure(text=f"{what} copied.", style="Status.TLabel")

    def copy_link(self) -> None:
        self._copy(self.link_var.get(), "The address is")

    def copy_code(self) -> None:
        self._copy(self.code_var.get(), "The code is")

    def open_link(self) -> None:
        if self.url:
            self.open_browser(self.url)

    def _on_destroy(self, event=None) -> None:
        if event is not None and event.widget is self and self.task is not None:
            self.task.cancel()


class SignInWindow(tk.Toplevel):
    """"Sign in to <account> again": why (one line), then the browser sign-in on request.
    ``on_done(True)`` once the account's new grant is kept (keyring), ``on_done(False)`` when
    the window is closed without one."""

    def __init__(self, parent, app, name: str, profile: dict, on_done: Callable[[bool], None],
                 problem: str = "", open_browser: Callable[[str], bool] | None = None):
        super().__init__(parent)
        self.app = app
        self.name = name
        self.profile = profile
        self._on_done = on_done
        self.title(f"Sign in to {name}")
        self.transient(parent.winfo_toplevel())
        self.resizable(False, False)
        frame = self.frame = ttk.Frame(self, padding=14)
        frame.pack(fill="both", expand=True)
        provider = signin.provider(app.settings, profile.get("oauth_provider", "")) or {}
        self.provider_name = provider.get("name") or profile.get("oauth_provider") or "the provider"
        self.problem = ttk.Label(frame, text=problem.splitlines()[0] if problem else "",
                                 style="Error.TLabel", wraplength=480, justify="left")
        self.problem.pack(side="top", anchor="w")
        self.intro = ttk.Frame(frame)
        self.intro.pack(side="top", fill="x", pady=(6, 0))
        user = profile.get("incoming_user") or profile.get("email")
        ttk.Label(self.intro, text=f"Sign in to {self.provider_name} as {user} in your web "
                                   "browser to read and send mail with this account again.",
                  wraplength=480, justify="left").pack(side="top", anchor="w")
        buttons = ttk.Frame(self.intro)
        buttons.pack(side="top", fill="x", pady=(12, 0))
        self.sign_in_button = ttk.Button(buttons, text="Sign in…", command=self.start,
                                         style=accent_button_style(self))
        self.sign_in_button.pack(side="left")
        ttk.Button(buttons, text="Cancel", command=self.close).pack(side="right")
        self.panel = None
        self._open_browser = open_browser
        self.bind("<Escape>", lambda e: self.close())
        self.protocol("WM_DELETE_WINDOW", self.close)

    def start(self) -> None:
        """Start the browser sign-in (what "Sign in…" does)."""
        try:
            config = signin.oauth_config(self.app.settings, self.app.secrets,
                                         self.profile.get("oauth_provider", ""))
        except Exception as exc:  # SignInError: no client ID set, unknown provider
            self.problem.configure(text=str(exc).splitlines()[0])
            return
        self.intro.pack_forget()
        self.problem.configure(text="")
        self.panel = SignInPanel(self.frame, self.app, config,
                                 provider_name=self.provider_name, on_done=self._signed_in,
                                 login_hint=self.profile.get("email"),
                                 open_browser=self._open_browser)
        self.panel.pack(side="top", fill="both", expand=True, pady=(6, 0))
        self.panel.start()

    def _signed_in(self, grant, error) -> None:
        if error is not None:
            return  # the panel shows it; "Try again" or Close
        if grant is None:
            self.close()
            return
        manager = signin.token_manager(self.app.settings, self.app.secrets, self.name,
                                       self.profile)
        manager.adopt(grant)
        self._finish(True)

    def close(self) -> None:
        if self.panel is not None and self.panel.running:
            self.panel.task.cancel()
        self._finish(False)

    def _finish(self, ok: bool) -> None:
        on_done, self._on_done = self._on_done, None
        try:
            self.destroy()
        except tk.TclError:
            pass
        if on_done is not None:
            on_done(ok)
