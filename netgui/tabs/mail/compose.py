"""The compose window of the Mail tab.

``open_compose(app, account, mode, original)`` opens a window to write a new
message, a reply, a reply to all or a forward. What is typed is saved to the
local Drafts as you type (debounced); "Save draft" also stores it in the IMAP
Drafts folder. "Send" moves the message into the Outbox and sends it as a task;
if sending fails it waits in the Outbox with its error (``open_outbox``), from
where it can be retried, edited or deleted.
"""

from __future__ import annotations

import dataclasses
import time
import tkinter as tk
import traceback
from tkinter import filedialog, ttk

from netgui.fmt import human_bytes
from netgui.net.mail import accounts, compose, outbox
from netgui.net.mail.compose import Attachment, ComposeError, Draft
from netgui.tabs import handoff
from netgui.timeline import Origin
from netgui.ui import dialogs
from netgui.ui.form import Field, Form
from netgui.ui.progress import ProgressRow
from netgui.ui.theme import monospace, style_text
from netgui.ui.transcript import TranscriptPane

from .work import read_attachments, save_draft_everywhere, save_draft_local, send_draft

MODES = ("new", "reply", "reply_all", "forward")
AUTOSAVE_MS = 1500
REFRESH_MS = 3000
_SEP = " — "


# -- the compose window ---------------------------------------------------------
class ComposeWindow(tk.Toplevel):
    """A window to write one message."""

    def __init__(self, app, draft: Draft):
        super().__init__(app.root)
        self.app = app
        self.draft = draft
        self.accounts = accounts.load_accounts(app.settings)
        self.send_task = None
        self.password_prompt: dialogs.PasswordDialog | None = None
        self._smtp_password: str | None = None  # typed into the prompt: this window only
        self.result: outbox.Delivery | None = None
        self._save_task = None
        self._save_again = False
        self._autosave_id = None
        self._dirty = False
        self._filling = False
        self._closed = False
        self.geometry("780x660")
        self.minsize(560, 420)

        outer = ttk.Frame(self, padding=10)
        outer.pack(fill="both", expand=True)
        choices = [self._label(n) for n in self.accounts] or ["(no mail account)"]
        address = lambda label: (lambda v: _address_problem(v, label))  # noqa: E731
        self.form = Form(outer, [
            Field("account", "From", kind="choice", choices=choices, width=60, remember=False),
            Field("to", "To", width=60, remember=False, validator=address("To")),
            Field("cc", "Cc", width=60, remember=False, validator=address("Cc")),
            Field("bcc", "Bcc", width=60, remember=False, validator=address("Bcc")),
            Field("subject", "Subject", width=60, remember=False, validator=_subject_problem),
        ], on_submit=self._send, submit_text="Send")
        self.form.pack(side="top", fill="x")
        self.save_button = self.form.add_button("Save draft", self.save_draft)
        self.attach_button = self.form.add_button("Attach…", self.attach_files)
        self.cancel_button = self.form.add_button("Cancel", self.cancel_send, enabled=False)

        self.att_frame = ttk.Frame(outer)
        self.att_frame.pack(side="top", fill="x", pady=(6, 0))
        self.att_label = ttk.Label(self.att_frame, text="No attachments", style="Muted.TLabel")
        self.att_label.pack(side="left", anchor="n")
        self.remove_button = ttk.Button(self.att_frame, text="Remove", command=self.remove_selected)
        self.remove_button.pack(side="right", anchor="n")
        self.att_list = ttk.Treeview(self.att_frame, columns=("size", "type"), height=2,
                                     show="tree", selectmode="extended")
        self.att_list.column("#0", width=220, minwidth=120, stretch=True)
        self.att_list.column("size", width=80, minwidth=60, stretch=False, anchor="e")
        self.att_list.column("type", width=150, minwidth=80, stretch=False)
        self.att_list.pack(side="left", fill="x", expand=True, padx=(8, 8))
        self.att_list.bind("<Delete>", lambda e: self.remove_selected())

        self.bottom = ttk.Frame(outer)
        self.bottom.pack(side="bottom", fill="x", pady=(6, 0))
        self.progress = ProgressRow(self.bottom, "Sending")
        self.show_log = tk.BooleanVar(self, value=False)
        ttk.Checkbutton(self.bottom, text="Show transcript", variable=self.show_log,
                        command=self._toggle_log).pack(side="right")
        self.saved_label = ttk.Label(self.bottom, text="", style="Muted.TLabel")
        self.saved_label.pack(side="left")
        self.warning = ttk.Label(self.bottom, text="", style="Error.TLabel")
        self.warning.pack(side="left", padx=(12, 0))
        self.transcript = TranscriptPane(outer, palette=app.theme)

        body = ttk.Frame(outer)
        body.pack(side="top", fill="both", expand=True, pady=(6, 0))
        self.body = tk.Text(body, wrap="word", undo=True, height=16, font=monospace(self),
                            padx=6, pady=4)
        style_text(self.body, app.theme)
        scroll = ttk.Scrollbar(body, orient="vertical", command=self.body.yview)
        self.body.configure(yscrollcommand=scroll.set)
        scroll.pack(side="right", fill="y")
        self.body.pack(side="left", fill="both", expand=True)

        self._fill(draft)
        for name in ("to", "cc", "bcc", "subject"):
            self.form.variables[name].trace_add("write", lambda *_: self._changed())
        self.form.variables["account"].trace_add("write", lambda *_: self._account_changed())
        self._account = draft.account
        self._show_warning()
        self.body.bind("<<Modified>>", self._body_modified)
        self.body.edit_modified(False)
        # Return in a header field moves on (it must not send a half-written message)
        for name in ("to", "cc", "bcc", "subject"):
            for key in ("<Return>", "<KP_Enter>"):
                self.form.widgets[name].bind(key, self._next_field)
        self.bind("<Control-Return>", lambda e: (self.form.submit(), "break")[1])
        self.body.bind("<Control-Return>", lambda e: (self.form.submit(), "break")[1])
        self.bind("<Control-s>", lambda e: (self.save_draft(), "break")[1])
        self.protocol("WM_DELETE_WINDOW", self.close)
        app.follow_theme(self, self._recolour)
        self._update_title()
        focus = "to" if not draft.to else "body"
        (self.form.widgets["to"] if focus == "to" else self.body).focus_set()
        if focus == "body":
            self.body.mark_set("insert", "1.0")

    def _recolour(self, palette) -> None:
        style_text(self.body, palette)
        self.transcript.set_palette(palette)

    def _next_field(self, event) -> str:
        if event.state & 0x4:  # Control+Return sends
            self.form.submit()
            return "break"
        order = [self.form.widgets[n] for n in ("to", "cc", "bcc", "subject")] + [self.body]
        at = order.index(event.widget) if event.widget in order else -1
        order[min(at + 1, len(order) - 1)].focus_set()
        return "break"

    # -- filling and reading the widgets ------------------------------------------
    def _label(self, name: str) -> str:
        profile = self.accounts.get(name, {})
        return f"{name}{_SEP}{compose.sender_for(profile)}" if profile.get("email") else name

    def _account_name(self, label: str) -> str:
        for name in self.accounts:
            if label == self._label(name):
                return name
        return label.split(_SEP, 1)[0] if label in self.accounts else ""

    def _fill(self, draft: Draft) -> None:
        self._filling = True
        try:
            name = draft.account if draft.account in self.accounts else next(iter(self.accounts), "")
            draft.account = name
            values = {"to": draft.to, "cc": draft.cc, "bcc": draft.bcc, "subject": draft.subject}
            if name:
                values["account"] = self._label(name)
            self.form.set_values(values)
            self.body.delete("1.0", "end")
            self.body.insert("1.0", draft.body)
            self.body.edit_reset()
            self._show_attachments()
        finally:
            self._filling = False

    def current_draft(self) -> Draft:
        """The draft as the widgets show it now (a copy, safe to hand to a worker)."""
        values = self.form.values()
        name = self._account_name(values["account"])
        profile = self.accounts.get(name)
        d = self.draft
        d.account = name
        if profile:
            d.sender = compose.sender_for(profile)
        d.to, d.cc, d.bcc, d.subject = values["to"], values["cc"], values["bcc"], values["subject"]
        d.body = self.body.get("1.0", "end-1c")
        compose.ensure_message_id(d)
        return dataclasses.replace(d, attachments=list(d.attachments))

    def _show_attachments(self) -> None:
        self.att_list.delete(*self.att_list.get_children())
        for i, att in enumerate(self.draft.attachments):
            self.att_list.insert("", "end", iid=str(i), text=att.filename,
                                 values=(human_bytes(att.size), att.content_type))
        n = len(self.draft.attachments)
        total = sum(a.size for a in self.draft.attachments)
        self.att_label.configure(text=f"{n} attachment{'s' if n != 1 else ''}, {human_bytes(total)}"
                                 if n else "No attachments")
        self.att_list.configure(height=min(max(n, 1), 4))

    def _update_title(self) -> None:
        subject = self.form.variables["subject"].get().strip()
        self.title(f"Write: {subject}" if subject else "Write a message")

    def _toggle_log(self) -> None:
        if self.show_log.get():
            self.transcript.pack(side="bottom", fill="both", expand=False, pady=(6, 0),
                                 before=self.bottom)
        else:
            self.transcript.pack_forget()

    # -- drafts -----------------------------------------------------------------
    def _body_modified(self, event=None) -> None:
        if self.body.edit_modified():
            self.body.edit_modified(False)
            self._changed()

    def _account_changed(self) -> None:
        new = self._account_name(self.form.variables["account"].get())
        old, self._account = self._account, new
        if not self._filling and old != new and old in self.accounts and new in self.accounts:
            old_sig = compose.signature_block(self.accounts[old].get("signature", ""))
            new_sig = compose.signature_block(self.accounts[new].get("signature", ""))
            text = self.body.get("1.0", "end-1c")
            if old_sig and old_sig in text:
                at = text.rindex(old_sig)
                self.body.delete("1.0", "end")
                self.body.insert("1.0", text[:at] + new_sig + text[at + len(old_sig):])
        self._show_warning()
        self._changed()

    def _show_warning(self) -> None:
        profile = self.accounts.get(self._account) or {}
        text = ""
        if profile and not profile.get("verify_tls", True) and profile.get("smtp_security") != "none":
            text = "Certificate checks are off for this account"
        elif profile and profile.get("smtp_security") == "none":
            text = "This account sends without encryption"
        self.warning.configure(text=text)

    def _changed(self) -> None:
        if self._filling or self._closed:
            return
        self._update_title()
        self._dirty = True
        if self._autosave_id is not None:
            self.after_cancel(self._autosave_id)
        self._autosave_id = self.after(AUTOSAVE_MS, self.autosave)

    def autosave(self) -> None:
        """Save the draft locally if it changed (runs in a worker; one save at a time)."""
        self._autosave_id = None
        if self._closed or not self._dirty or self.sending:
            return
        if self._save_task is not None and self._save_task.running:
            self._save_again = True
            return
        draft = self.current_draft()
        if draft.is_empty():
            return
        self._dirty = False
        self._save_task = self.app.runner.submit(
            save_draft_local, draft, name="Save draft", on_done=self._after_autosave)

    def _after_autosave(self, task) -> None:
        if self._closed:
            return
        if task.state == "failed":
            self._dirty = True
            self.saved_label.configure(text=f"Draft not saved: {task.error}", style="Error.TLabel")
        else:
            self.saved_label.configure(text=f"Draft saved {time.strftime('%H:%M')}",
                                       style="Muted.TLabel")
        if self._save_again:
            self._save_again = False
            self.autosave()

    def save_draft(self):
        """Save now, locally and (IMAP accounts) in the server's Drafts folder."""
        if self.sending:
            return None
        self._body_modified()
        draft = self.current_draft()
        self._dirty = False
        if self._autosave_id is not None:
            self.after_cancel(self._autosave_id)
            self._autosave_id = None
        profile = self.accounts.get(draft.account)
        self.form.set_busy(True, "Saving the draft")
        self.cancel_button.state(["!disabled"])
        self._save_task = self.app.runner.submit(
            save_draft_everywhere, draft, profile, self.app.settings, self.app.secrets,
            name="Save draft", on_result=lambda text: self._saved(text), on_error=self._save_failed,
            on_log=self.transcript.append, on_done=lambda t: self._idle())
        return self._save_task

    def _saved(self, text: str) -> None:
        if not self._closed:
            self.form.set_status(text, "ok")
            self.saved_label.configure(text=f"Draft saved {time.strftime('%H:%M')}",
                                       style="Muted.TLabel")

    def _save_failed(self, err) -> None:
        if not self._closed:
            where = "locally only" if draft_is_local(self.draft) else "nowhere"
            self.form.set_status(f"{err} (draft saved {where})", "error")

    # -- attachments --------------------------------------------------------------
    def attach_files(self, paths=None):
        if paths is None:
            paths = filedialog.askopenfilenames(parent=self, title="Attach files")
        paths = [str(p) for p in paths or ()]
        if not paths:
            return None
        self.form.set_status(f"Reading {len(paths)} file(s)")
        return self.app.runner.submit(read_attachments, paths, name="Read attachments",
                                      on_result=self._add_attachments,
                                      on_error=lambda err: self.form.set_status(str(err), "error"))

    def _add_attachments(self, atts: list[Attachment]) -> None:
        if self._closed:
            return
        self.draft.attachments.extend(atts)
        self._show_attachments()
        self.form.set_status(f"Attached {', '.join(a.filename for a in atts)}")
        self._changed()

    def remove_selected(self) -> None:
        chosen = sorted((int(i) for i in self.att_list.selection()), reverse=True)
        for i in chosen:
            del self.draft.attachments[i]
        if chosen:
            self._show_attachments()
            self._changed()

    # -- sending --------------------------------------------------------------------
    @property
    def sending(self) -> bool:
        return self.send_task is not None and self.send_task.running

    def _send(self, values=None) -> None:
        self._body_modified()  # consume a change Tk has not announced yet
        draft = self.current_draft()
        problems = compose.validate(draft)
        if draft.account not in self.accounts:
            problems.insert(0, "Set up a mail account to send from (Mail tab → Accounts)")
        if problems:
            self.form.set_status(problems[0], "error")
            return
        if not draft.subject.strip() and not dialogs.confirm(
                self, "No subject", "Send without a subject?", "The subject field is empty."):
            self.form.widgets["subject"].focus_set()
            return
        self._start_send(draft)

    def _start_send(self, draft: Draft, remember: bool = False) -> None:
        profile = self.accounts[draft.account]
        if self._autosave_id is not None:
            self.after_cancel(self._autosave_id)
            self._autosave_id = None
        self._dirty = False
        self.form.set_busy(True, f"Sending via {profile['smtp_host']}:{profile['smtp_port']}")
        self.cancel_button.state(["!disabled"])
        self.progress.pack(side="left", fill="x", expand=True, before=self.saved_label)
        self.transcript.append("*", f"Sending “{draft.subject}” from {draft.account}")
        self.send_task = self.app.runner.submit(
            send_draft, draft, profile, self.app.settings, self.app.secrets, self._smtp_password,
            remember, name=f"Send “{draft.subject[:40]}”",
            origin=smtp_origin(draft, profile, self._smtp_password),
            on_result=self._sent, on_error=self._send_failed, on_progress=self.progress.update,
            on_log=self.transcript.append, on_status=self.form.set_status,
            on_done=lambda t: self._idle())

    def _sent(self, delivery: outbox.Delivery) -> None:
        self.result = delivery
        n = len(delivery.recipients)
        where = "saved in Sent" if delivery.sent_to.startswith("imap:") else "saved in local Sent"
        if delivery.filing_error:
            where = f"kept in local Sent ({delivery.filing_error})"
        self.app.set_status(f"Sent “{self.draft.subject}” to {n} recipient{'s' if n != 1 else ''}; "
                            f"{where}")
        self._closed = True
        self.destroy()

    def _send_failed(self, err) -> None:
        if self._closed:
            return
        queued = self.draft.id in outbox.stores().outbox
        tail = " The message waits in the Outbox." if queued else ""
        self.form.set_status(f"{err}.{tail}" if not str(err).endswith(".") else f"{err}{tail}",
                             "error", action=handoff.error_action(self.app, err))
        self.progress.pack_forget()
        if queued and (accounts.needs_password(err) or accounts.needs_sign_in(err)):
            self.ask_password(err)
        elif not self.show_log.get() and not isinstance(err, ComposeError):
            self.show_log.set(True)
            self._toggle_log()

    def ask_password(self, error=None):
        """Ask for the SMTP password (or, for an OAuth2 account, to sign in again), then send
        again; Cancel leaves the message in the Outbox (the status line says so)."""
        def answered(password, remember):
            self.password_prompt = None
            if password is not None and not self._closed:
                self._smtp_password = password
                self._start_send(self.current_draft(), remember)

        name = self.draft.account
        self.password_prompt = ask_smtp_password(self, name, self.accounts[name], error, answered,
                                                 self.app)
        return self.password_prompt

    def _idle(self) -> None:
        if self._closed:
            return
        self.form.set_busy(False)
        self.cancel_button.state(["disabled"])

    def cancel_send(self) -> None:
        for task in (self.send_task, self._save_task):
            if task is not None and task.running:
                task.cancel()

    # -- closing --------------------------------------------------------------------
    def close(self):
        """Close the window; unsaved changes go to the local Drafts first."""
        if self.sending:
            if not dialogs.confirm(self, "Sending", "The message is being sent.",
                                   "Stop sending? It stays in the Outbox."):
                return None
            self.send_task.cancel()
        task = None
        self._body_modified()  # a change Tk has not announced yet
        if self._dirty:
            draft = self.current_draft()
            if not draft.is_empty():
                task = self.app.runner.submit(save_draft_local, draft, name="Save draft")
        elif self.draft.is_empty() and self.draft.id in outbox.stores().drafts:
            outbox.stores().drafts.delete(self.draft.id)
        self._closed = True
        self.destroy()
        return task

    def destroy(self) -> None:
        if not self._closed:  # destroyed from outside (the app quits): keep what was typed
            self._closed = True
            try:
                if self.body.edit_modified():
                    self._dirty = True
                draft = self.current_draft()
                if self._dirty and not draft.is_empty() and not self.sending:
                    outbox.save_draft(draft)
            except Exception:  # never stop the app from closing
                traceback.print_exc()
        if self._autosave_id is not None:
            try:
                self.after_cancel(self._autosave_id)
            except tk.TclError:
                pass
            self._autosave_id = None
        super().destroy()


def ask_smtp_password(parent, name: str, profile: dict, error, answered, app=None):
    """The password dialog for sending with account ``name`` (``error``: why it is asked);
    for an account that sends with OAuth2, the "Sign in again" window, whose success answers
    ``answered(None, False)`` (the new sign-in is in the keyring, no password is involved)."""
    if profile.get("smtp_auth_method") == "oauth2" and app is not None:
        from .signin_window import SignInWindow
        return SignInWindow(parent, app, name, profile,
                            lambda ok: answered(None if not ok else "", False),
                            problem=str(error or ""))
    user = profile["smtp_user"] or profile["incoming_user"] or profile["email"]
    problem = "" if isinstance(error, accounts.PasswordNeeded) else str(error or "")
    return dialogs.PasswordDialog(
        parent, f"SMTP password for {name}",
        f"Enter the password for sending as {user} via {profile['smtp_host']}.", answered,
        problem=problem)


def draft_is_local(draft: Draft) -> bool:
    return draft.id in outbox.stores().drafts


def _address_problem(value: str, label: str) -> str | None:
    try:
        compose.parse_addresses(value, label)
    except ComposeError as exc:
        return str(exc).removeprefix(f"{label}: ").removeprefix(f"{label} ")
    return None


def _subject_problem(value: str) -> str | None:
    try:
        compose.check_header("Subject", value)
    except ComposeError:
        return "One line only"
    return None


def open_compose(app, account_name: str | None = None, mode: str = "new", original=None,
                 draft: Draft | None = None) -> ComposeWindow:
    """Open a compose window: mode "new", "reply", "reply_all" or "forward" of ``original``
    (raw bytes, an EmailMessage, or a parsed message with ``raw``), or an existing ``draft``."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}")
    known = accounts.load_accounts(app.settings)
    name = account_name if account_name in known else next(iter(known), "")
    profile = known.get(name, {})
    if draft is None:
        if mode == "new" or original is None:
            draft = compose.new_draft(name, profile)
        elif mode == "forward":
            draft = compose.forward_draft(name, profile, original)
        else:
            draft = compose.reply_draft(name, profile, original, reply_all=mode == "reply_all")
    return ComposeWindow(app, draft)


def smtp_origin(draft: Draft, profile: dict, password: str | None = None) -> Origin:
    """The timeline's origin of sending ``draft`` (the Mail tab's "draft <id>" item)."""
    protocol = "smtps" if profile.get("smtp_security") == "tls" else \
        "submission" if profile.get("smtp_security") == "starttls" else "smtp"
    return Origin("mail", f"draft {draft.id}", protocol, profile.get("smtp_host", ""),
                  profile.get("smtp_port"), f"smtp:{draft.account}", (password,) if password else ())


def new_message(app) -> ComposeWindow:
    """Tools menu: write a new message from the first account."""
    return open_compose(app)
