"""The Outbox window of the Mail tab: messages waiting to be sent (with their errors), the
local Drafts and what was sent; retry, edit or delete them."""

from __future__ import annotations

import time
import tkinter as tk
from tkinter import ttk

from netgui.fmt import human_bytes
from netgui.net.mail import accounts, compose, outbox
from netgui.net.mail.compose import Draft
from netgui.ui import dialogs
from netgui.ui.theme import monospace, style_text
from netgui.ui.transcript import TranscriptPane

from .compose import REFRESH_MS, ask_smtp_password, open_compose
from .work import deliver_many


class OutboxWindow(tk.Toplevel):
    """Messages waiting in the Outbox (with their errors) and the local Drafts."""

    def __init__(self, app):
        super().__init__(app.root)
        self.app = app
        self.task = None
        self.password_prompt: dialogs.PasswordDialog | None = None
        self._items: list[tuple[str, str]] = []  # (Outbox id, account) last sent
        self.title("Outgoing mail")
        self.geometry("820x420")
        self.minsize(520, 300)
        outer = ttk.Frame(self, padding=10)
        outer.pack(fill="both", expand=True)
        close = ttk.Frame(outer)
        close.pack(side="bottom", fill="x", pady=(6, 0))
        ttk.Button(close, text="Refresh", command=self.refresh).pack(side="left")
        ttk.Button(close, text="Close", command=self.destroy).pack(side="right")
        self.show_log = tk.BooleanVar(self, value=False)
        ttk.Checkbutton(close, text="Show transcript", variable=self.show_log,
                        command=self._toggle_log).pack(side="right", padx=(0, 10))
        self.transcript = TranscriptPane(outer, palette=app.theme)
        self._close_bar = close
        self.notebook = ttk.Notebook(outer)
        self.notebook.pack(side="top", fill="both", expand=True)

        out_page = ttk.Frame(self.notebook, padding=6)
        self.notebook.add(out_page, text="Outbox")
        self.outbox = self._tree(out_page, (("subject", "Subject", 200), ("to", "To", 160),
                                            ("account", "Account", 90), ("state", "State", 70),
                                            ("error", "Last error", 260)))
        bar = ttk.Frame(out_page)
        bar.pack(side="bottom", fill="x", pady=(6, 0), before=self.outbox.master)
        self.detail = ttk.Label(out_page, text="", style="Error.TLabel", wraplength=760,
                                justify="left")
        self.detail.pack(side="bottom", fill="x", pady=(6, 0), before=bar)
        self.outbox.bind("<<TreeviewSelect>>", lambda e: self._show_detail())
        self.retry_button = ttk.Button(bar, text="Retry", command=self.retry)
        self.retry_button.pack(side="left")
        self.edit_button = ttk.Button(bar, text="Edit", command=self.edit)
        self.edit_button.pack(side="left", padx=(6, 0))
        self.delete_button = ttk.Button(bar, text="Delete", command=self.delete)
        self.delete_button.pack(side="left", padx=(6, 0))
        self.status = ttk.Label(bar, text="", style="Status.TLabel")
        self.status.pack(side="left", padx=(10, 0), fill="x", expand=True)
        self.outbox.bind("<Double-1>", lambda e: self.edit())

        draft_page = ttk.Frame(self.notebook, padding=6)
        self.notebook.add(draft_page, text="Drafts")
        self.drafts = self._tree(draft_page, (("subject", "Subject", 260), ("to", "To", 200),
                                              ("account", "Account", 100),
                                              ("saved", "Saved", 140)))
        dbar = ttk.Frame(draft_page)
        dbar.pack(side="bottom", fill="x", pady=(6, 0), before=self.drafts.master)
        self.open_button = ttk.Button(dbar, text="Open", command=self.open_draft)
        self.open_button.pack(side="left")
        self.delete_draft_button = ttk.Button(dbar, text="Delete", command=self.delete_draft)
        self.delete_draft_button.pack(side="left", padx=(6, 0))
        self.drafts.bind("<Double-1>", lambda e: self.open_draft())

        sent_page = ttk.Frame(self.notebook, padding=6)
        self.notebook.add(sent_page, text="Sent (local)")
        self.sent = self._tree(sent_page, (("subject", "Subject", 240), ("to", "To", 180),
                                           ("account", "Account", 90), ("sent", "Sent", 130),
                                           ("note", "Note", 160)))
        sbar = ttk.Frame(sent_page)
        sbar.pack(side="bottom", fill="x", pady=(6, 0), before=self.sent.master)
        self.view_button = ttk.Button(sbar, text="View", command=self.view_sent)
        self.view_button.pack(side="left")
        self.again_button = ttk.Button(sbar, text="Edit as new", command=self.edit_sent_as_new)
        self.again_button.pack(side="left", padx=(6, 0))
        self.delete_sent_button = ttk.Button(sbar, text="Delete", command=self.delete_sent)
        self.delete_sent_button.pack(side="left", padx=(6, 0))
        ttk.Label(sbar, text="Mail sent from POP3 accounts (or when the IMAP Sent folder could "
                  "not be reached)", style="Muted.TLabel").pack(side="left", padx=(10, 0))
        self.sent.bind("<Double-1>", lambda e: self.view_sent())
        self.bind("<Escape>", lambda e: self.destroy())
        app.follow_theme(self, self.transcript.set_palette)
        self.refresh()
        self._tick_id = self.after(REFRESH_MS, self._tick)

    def _tick(self) -> None:
        """Follow what other windows do (a compose window sending, a draft being saved)."""
        self.refresh()
        self._tick_id = self.after(REFRESH_MS, self._tick)

    def destroy(self) -> None:
        try:
            self.after_cancel(self._tick_id)
        except (AttributeError, tk.TclError):
            pass
        super().destroy()

    @staticmethod
    def _tree(parent, columns) -> ttk.Treeview:
        frame = ttk.Frame(parent)
        frame.pack(side="top", fill="both", expand=True)
        tree = ttk.Treeview(frame, columns=[c[0] for c in columns], show="headings",
                            selectmode="extended", height=6)
        for key, title, width in columns:
            tree.heading(key, text=title, anchor="w")
            tree.column(key, width=width, stretch=key in ("subject", "error", "to"))
        scroll = ttk.Scrollbar(frame, orient="vertical", command=tree.yview)
        tree.configure(yscrollcommand=scroll.set)
        scroll.pack(side="right", fill="y")
        tree.pack(side="left", fill="both", expand=True)
        return tree

    def refresh(self) -> None:
        """Re-read the stores; lists whose rows did not change are left alone."""
        st = outbox.stores()
        when = lambda t: time.strftime("%Y-%m-%d %H:%M", time.localtime(t or 0))  # noqa: E731
        _fill_tree(self.outbox, [(m["id"], (m.get("subject") or "(no subject)", m.get("to", ""),
                                            m.get("account", ""), m.get("state", ""),
                                            m.get("error", "")))
                                 for m in st.outbox.items()])
        self._show_detail()
        _fill_tree(self.drafts, [(m["id"], (m.get("subject") or "(no subject)", m.get("to", ""),
                                            m.get("account", ""), when(m.get("updated"))))
                                 for m in st.drafts.items()])
        _fill_tree(self.sent, [(m["id"], (m.get("subject") or "(no subject)", m.get("to", ""),
                                          m.get("account", ""), when(m.get("sent")),
                                          f"not filed in IMAP Sent: {m['filing_error']}"
                                          if m.get("filing_error") else ""))
                               for m in st.sent.items()])
        for index, (tree, title) in enumerate(((self.outbox, "Outbox"), (self.drafts, "Drafts"))):
            count = len(tree.get_children())
            self.notebook.tab(index, text=f"{title} ({count})" if count else title)

    def _show_detail(self) -> None:
        ids = self._selected(self.outbox)
        error = self.outbox.set(ids[0], "error") if ids and self.outbox.exists(ids[0]) else ""
        self.detail.configure(text=f"Last error: {error}" if error else "")

    def _selected(self, tree) -> list[str]:
        chosen = list(tree.selection())
        if not chosen and tree.focus():
            chosen = [tree.focus()]
        return chosen

    def retry(self):
        """Send the selected messages again (all of them if none is selected)."""
        if self.task is not None and self.task.running:
            return None
        st = outbox.stores()
        ids = self._selected(self.outbox) or list(self.outbox.get_children())
        items = [(i, st.outbox.meta(i).get("account", "")) for i in ids if i in st.outbox]
        if not items:
            self.status.configure(text="The Outbox is empty", style="Status.TLabel")
            return None
        return self._deliver(items)

    def _deliver(self, items: list[tuple[str, str]], passwords=None):
        self._items = items
        self.retry_button.state(["disabled"])
        self.status.configure(text=f"Sending {len(items)} message(s)…", style="Status.TLabel")
        self.task = self.app.runner.submit(
            deliver_many, items, self.app.settings, self.app.secrets, passwords,
            name="Send Outbox", on_result=self._retried, on_error=self._retry_failed,
            on_status=lambda text: self._say(text), on_log=self.transcript.append,
            on_done=lambda t: self._retry_done())
        return self.task

    def ask_password(self, name: str, error=None) -> dialogs.PasswordDialog | None:
        """Ask for the SMTP password of account ``name``, then send its messages again."""
        profile = accounts.load_account(self.app.settings, name)
        if profile is None:
            return None
        items = [(i, n) for i, n in self._items if n == name]

        def answered(password, remember):
            self.password_prompt = None
            if password is not None and self.winfo_exists():
                self._deliver([(i, n) for i, n in items if i in outbox.stores().outbox],
                              {name: (password, remember)})

        self.password_prompt = ask_smtp_password(self, name, profile, error, answered, self.app)
        return self.password_prompt

    def _toggle_log(self) -> None:
        if self.show_log.get():
            self.transcript.pack(side="bottom", fill="x", pady=(6, 0), before=self._close_bar)
        else:
            self.transcript.pack_forget()

    def _say(self, text: str, style: str = "Status.TLabel") -> None:
        if self.winfo_exists():
            self.status.configure(text=text, style=style)

    def _retried(self, result) -> None:
        sent, errors, refused = result
        text = f"Sent {sent} message{'s' if sent != 1 else ''}"
        if errors:
            text += f"; {len(errors)} still waiting: {errors[0]}"
        self._say(text, "Error.TLabel" if errors else "Ok.TLabel")
        self.app.set_status(text)
        if refused and self.winfo_exists():
            self.ask_password(*next(iter(refused.items())))

    def _retry_failed(self, err) -> None:
        self._say(str(err), "Error.TLabel")

    def _retry_done(self) -> None:
        if self.winfo_exists():
            self.retry_button.state(["!disabled"])
            self.refresh()

    def edit(self):
        ids = self._selected(self.outbox)
        if not ids or (self.task is not None and self.task.running):
            return None
        draft = outbox.edit_queued(ids[0])
        self.refresh()
        return open_compose(self.app, draft.account, draft=draft)

    def delete(self) -> None:
        ids = self._selected(self.outbox)
        if not ids or (self.task is not None and self.task.running):
            return
        if not dialogs.confirm(self, "Delete from Outbox",
                               f"Delete {len(ids)} unsent message{'s' if len(ids) != 1 else ''}?",
                               "They will not be sent."):
            return
        st = outbox.stores()
        for i in ids:
            st.outbox.delete(i)
        self.refresh()

    def open_draft(self):
        ids = self._selected(self.drafts)
        if not ids:
            return None
        draft = outbox.open_draft(ids[0])
        return open_compose(self.app, draft.account, draft=draft)

    def view_sent(self):
        ids = self._selected(self.sent)
        if not ids:
            return None
        data, _ = outbox.stores().sent.load(ids[0])
        return MessageView(self, compose.parse_bytes(data))

    def edit_sent_as_new(self):
        ids = self._selected(self.sent)
        if not ids:
            return None
        data, meta = outbox.stores().sent.load(ids[0])
        draft = compose.draft_from_message(data, meta.get("account", ""))
        draft.id = Draft().id  # a new message: its own id and Message-ID
        draft.message_id = ""
        return open_compose(self.app, draft.account, draft=draft)

    def delete_sent(self) -> None:
        ids = self._selected(self.sent)
        if ids and dialogs.confirm(self, "Delete sent mail",
                                   f"Delete {len(ids)} sent message{'s' if len(ids) != 1 else ''} "
                                   "from the local Sent folder?"):
            st = outbox.stores()
            for i in ids:
                st.sent.delete(i)
            self.refresh()

    def delete_draft(self) -> None:
        ids = self._selected(self.drafts)
        if ids and dialogs.confirm(self, "Delete drafts",
                                   f"Delete {len(ids)} draft{'s' if len(ids) != 1 else ''}?"):
            st = outbox.stores()
            for i in ids:
                st.drafts.delete(i)
            self.refresh()


def _fill_tree(tree: ttk.Treeview, rows: list[tuple[str, tuple]]) -> None:
    """Show ``rows`` (iid, values) in ``tree``, keeping the selection; no-op if unchanged."""
    current = [(iid, tuple(str(v) for v in tree.item(iid, "values")))
               for iid in tree.get_children()]
    wanted = [(iid, tuple(str(v) for v in values)) for iid, values in rows]
    if current == wanted:
        return
    keep = set(tree.selection())
    tree.delete(*tree.get_children())
    for iid, values in rows:
        tree.insert("", "end", iid=iid, values=values)
    tree.selection_set([i for i in keep if tree.exists(i)])


class MessageView(tk.Toplevel):
    """A read-only view of a locally stored message: headers, text, attachment names."""

    def __init__(self, parent, msg):
        super().__init__(parent)
        self.title(str(msg.get("Subject", "")) or "(no subject)")
        self.geometry("700x480")
        frame = ttk.Frame(self, padding=10)
        frame.pack(fill="both", expand=True)
        lines = [f"{name}: {' '.join(str(msg[name]).split())}"
                 for name in ("From", "To", "Cc", "Bcc", "Subject", "Date") if msg[name]]
        atts = compose.attachments_of(msg)
        if atts:
            lines.append("Attachments: " + ", ".join(f"{a.filename} ({human_bytes(a.size)})"
                                                     for a in atts))
        ttk.Label(frame, text="\n".join(lines), justify="left").pack(side="top", anchor="w")
        self.text = tk.Text(frame, wrap="word", font=monospace(self), padx=6, pady=4)
        style_text(self.text, parent.app.theme)
        parent.app.follow_theme(self, lambda palette: style_text(self.text, palette))
        self.text.insert("1.0", compose.text_of(msg))
        self.text.configure(state="disabled")
        self.text.pack(side="top", fill="both", expand=True, pady=(8, 0))
        ttk.Button(frame, text="Close", command=self.destroy).pack(side="right", pady=(8, 0))
        self.bind("<Escape>", lambda e: self.destroy())


def open_outbox(app) -> OutboxWindow:
    """Open the Outbox window (Tools menu and the Mail tab)."""
    return OutboxWindow(app)
