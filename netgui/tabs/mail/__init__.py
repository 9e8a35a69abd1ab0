"""The Mail tab: accounts and folders, a sortable message list, a viewer and a per-account transcript.

All network work runs through ``app.runner`` with ``netgui.net.mail.sync.MailService``;
the list is filled from the offline cache first and then updated by sync batches.
Sending (Write, Reply, Forward, Outbox) belongs to ``netgui.tabs.mail.compose``.
"""

from __future__ import annotations

import tempfile
import threading
import time
import tkinter as tk
from pathlib import Path
from tkinter import filedialog, ttk

from netgui.config import data_dir
from netgui.desktop import CannotOpen, open_with_desktop
from netgui.net.mail import accounts, signin
from netgui.net.mail.cache import MailCache
from netgui.net.mail.message import Attachment, save_attachment
from netgui.net.mail.sync import MailService
from netgui.tabs import handoff
from netgui.tabs.base import Tab
from netgui.ui import dialogs
from netgui.ui.actions import ActionSlot
from netgui.ui.links import bind_links
from netgui.ui.spinner import Spinner
from netgui.ui.transcript import TranscriptPane

from .message_list import MessageList
from .viewer import MessageViewer

SPECIAL_LABELS = {"inbox": "Inbox", "drafts": "Drafts", "sent": "Sent", "junk": "Junk",
                  "trash": "Trash", "archive": "Archive"}
SPECIAL_ORDER = {"inbox": 0, "drafts": 1, "sent": 2, "archive": 3, "junk": 4, "trash": 5}
SEP = "\x1f"
RISKY_SUFFIXES = {".exe", ".com", ".bat", ".cmd", ".scr", ".pif", ".msi", ".ps1", ".vbs", ".js",
                  ".jse", ".wsf", ".hta", ".jar", ".sh", ".bash", ".py", ".pl", ".desktop",
                  ".lnk", ".app", ".command", ".reg", ".cpl", ".dll", ".appimage", ".run", ".bin"}  # between account and folder in folder-tree item ids


class MailTab(Tab):
    """Read mail from IMAP and POP3 accounts, offline from the cache when needed."""

    title = "Mail"
    key = "mail"

    def __init__(self, master, app, cache: MailCache | None = None):
        super().__init__(master, app)
        self.opener = open_with_desktop  # tests replace this
        self.cache = cache or MailCache()
        self.services: dict[str, MailService] = {}
        self.transcripts: dict[str, TranscriptPane] = {}
        self.current: tuple[str, str] | None = None
        self.watchers: dict[str, object] = {}
        self.syncing: dict[tuple[str, str], object] = {}
        self.open_task = None
        self.opened: tuple[str, str, int] | None = None
        self.folder_kinds: dict[tuple[str, str], str | None] = {}
        self.folder_labels: dict[tuple[str, str], str] = {}
        self._resets: dict[tuple[str, str], int] = {}  # UIDVALIDITY changes seen, per folder
        self.unread_counts: dict[tuple[str, str], int] = {}
        self.password_prompts: dict[str, dialogs.PasswordDialog] = {}
        self.sign_in_prompts: dict[str, object] = {}  # account -> SignInWindow
        self.open_browser = None  # the sign-in's browser opener (None: the system's; tests)
        self.offline: set[str] = set()  # accounts whose password prompt was cancelled
        self.password_given: dict[str, float] = {}  # account -> when a password was entered
        self._count_after = None
        self._build()
        self.reload_accounts()

    # -- layout -------------------------------------------------------------------------
    def _build(self) -> None:
        bar = ttk.Frame(self)
        bar.pack(side="top", fill="x", pady=(0, 6))
        self.buttons: dict[str, ttk.Button] = {}

        def button(key, text, command, parent=bar):
            b = ttk.Button(parent, text=text, command=command)
            b.pack(side="left", padx=(0, 3))
            self.buttons[key] = b
            return b

        button("get", "Get mail", self.get_mail)
        button("write", "Write", lambda: self.compose("new"))
        button("reply", "Reply", lambda: self.compose("reply"))
        button("reply_all", "Reply all", lambda: self.compose("reply_all"))
        button("forward", "Forward", lambda: self.compose("forward"))
        button("outbox", "Outbox", self.open_outbox)
        ttk.Separator(bar, orient="vertical").pack(side="left", fill="y", padx=6)
        button("delete", "Delete", self.delete_selected)
        self.move_button = ttk.Menubutton(bar, text="Move to")
        self.move_menu = tk.Menu(self.move_button, tearoff=False, postcommand=self._fill_move_menu)
        self.move_button.configure(menu=self.move_menu)
        self.move_button.pack(side="left", padx=(0, 3))
        button("read", "Unread", self.toggle_read)
        button("flag", "Flag", self.toggle_flag)
        ttk.Button(bar, text="Accounts…", command=self.manage_accounts).pack(side="right")
        self.search_var = tk.StringVar(self)
        clear = ttk.Button(bar, text="✕", width=2, command=self.clear_search)
        clear.pack(side="right", padx=(0, 8))
        find = ttk.Button(bar, text="Search", command=self.search)
        find.pack(side="right", padx=(2, 2))
        self.buttons["find"] = find
        self.search_entry = ttk.Entry(bar, textvariable=self.search_var, width=18)
        self.search_entry.pack(side="right")
        self.search_entry.bind("<Return>", lambda e: self.search())
        self.search_entry.bind("<Escape>", lambda e: self.clear_search())

        status = ttk.Frame(self)
        status.pack(side="bottom", fill="x", pady=(4, 0))
        self.spinner = Spinner(status)
        self.spinner.pack(side="left")
        self.status = ttk.Label(status, text="", style="Status.TLabel", anchor="w")
        self.status.pack(side="left", fill="x", expand=True, padx=(4, 0))
        self.cancel_button = ttk.Button(status, text="Cancel", command=self.cancel_work)
        self.cancel_button.pack(side="right")
        self.status_action = ActionSlot(status, self.status, side="right")
        self.cancel_button.state(["disabled"])

        outer = ttk.PanedWindow(self, orient="horizontal")
        outer.pack(side="top", fill="both", expand=True)
        left = ttk.Frame(outer)
        self.folders = ttk.Treeview(left, show="tree", selectmode="browse")
        self.folders.column("#0", width=190)
        self.folders.pack(side="top", fill="both", expand=True)
        self.folders.bind("<<TreeviewSelect>>", self._folder_picked)
        self.welcome = ttk.Frame(left, padding=8)
        ttk.Label(self.welcome, text="No mail account yet.", wraplength=180).pack(anchor="w")
        ttk.Button(self.welcome, text="Add an account…", command=self.add_account).pack(
            anchor="w", pady=(6, 0))
        outer.add(left, weight=1)

        right = self.right_pane = ttk.PanedWindow(outer, orient="vertical")
        self.list = MessageList(right, on_select=self._message_picked)
        right.add(self.list, weight=2)
        self.viewer = MessageViewer(right, on_save=self.save_attachment_dialog,
                                    on_open=self.open_attachment, palette=self.app.theme)
        right.add(self.viewer, weight=3)
        outer.add(right, weight=5)
        self.transcript_page = ttk.Frame(self.viewer.pages)
        self.viewer.add_page(self.transcript_page, "Transcript")
        bind_links(self.viewer.text, lambda link: handoff.open_link(self.app, link),
                   lambda link: handoff.actions(self.app, link), colour=self.app.theme.accent)
        tree = self.list.tree
        tree.bind("<Delete>", lambda e: self.delete_selected())
        tree.bind("<Control-f>", lambda e: (self.search_entry.focus_set(), "break")[1])
        tree.bind("<F5>", lambda e: self.get_mail())
        self.folders.bind("<F5>", lambda e: self.get_mail())
        self.bind("<Destroy>", self._on_destroy, add="+")
        self.right_pane.bind("<Map>", self._place_sash, add="+")

    def _place_sash(self, event=None) -> None:
        """Give the message list about 40 % of the height the first time the tab is shown."""
        if getattr(self, "_sash_placed", False):
            return
        height = self.right_pane.winfo_height()
        if height > 200:
            self._sash_placed = True
            self.right_pane.sashpos(0, int(height * 0.42))
        else:
            self.after(50, self._place_sash)

    def on_theme_changed(self, palette) -> None:
        self.viewer.set_palette(palette)
        for pane in self.transcripts.values():
            pane.set_palette(palette)

    def set_status(self, text: str, busy: bool | None = None) -> None:
        self.status.configure(text=text)
        self.status_action.offer(None)
        if busy is True:
            self.spinner.start()
            self.cancel_button.state(["!disabled"])
        elif busy is False and not self.busy_tasks():
            self.spinner.stop()
            self.cancel_button.state(["disabled"])

    def busy_tasks(self) -> list:
        return [t for t in self.tasks if t.running]

    def _mail_origin(self, account: str, folder: str | None = None, uid: int | None = None):
        """The timeline's origin of work on ``account``: item "account/folder[/uid]"."""
        service = self.services.get(account)
        profile = service.account if service is not None else {}
        protocol = profile.get("incoming_protocol", "imap")
        if profile.get("incoming_security") == "tls":
            protocol += "s"
        item = "/".join(str(x) for x in (account, folder, uid) if x is not None)
        return self.origin(item, protocol, profile.get("incoming_host", ""),
                           profile.get("incoming_port"), f"mail:{account}")

    def reveal(self, item: str) -> None:
        """An account, folder or message ("account/folder/uid"): the folder is shown with the
        account's transcript; a message is opened once the list has it."""
        if item.startswith("draft "):
            from .outbox import open_outbox
            open_outbox(self.app)
            return
        account, _, rest = item.partition("/")
        if account not in self.services:
            return
        folder, _, uid = rest.rpartition("/") if rest.count("/") and rest.rsplit("/", 1)[1].isdigit() \
            else (rest, "", "")
        folder = folder or "INBOX"
        if self.current != (account, folder):
            self.show_folder(account, folder)
        self._show_transcript(account)
        if uid.isdigit():
            self._reveal_uid(int(uid), tries=40)
        else:
            self.viewer.pages.select(self.transcript_page)

    def _reveal_uid(self, uid: int, tries: int) -> None:
        if uid in self.list.rows:
            self.list.select(uid)  # selecting opens it
        elif tries > 0:
            self.after(100, lambda: self._reveal_uid(uid, tries - 1))

    def cancel_work(self) -> None:
        """Cancel what runs now."""
        for task in self.busy_tasks():
            task.cancel()

    # -- accounts ----------------------------------------------------------------------
    def reload_accounts(self, select: str | None = None) -> None:
        """(Re)read the account profiles, rebuild the folder tree from the cache, start syncing."""
        profiles = accounts.load_accounts(self.app.settings)
        for name in list(self.services):
            if name not in profiles or self.services[name].account != profiles[name]:
                self._drop_service(name, forget_cache=name not in profiles)
        for name, profile in profiles.items():
            if name not in self.services:
                self.services[name] = MailService(name, profile, self.cache,
                                                  secrets=self.app.secrets,
                                                  tokens=self._tokens_for(name, profile))
            if name not in self.transcripts:
                pane = TranscriptPane(self.transcript_page, palette=self.app.theme)
                self.transcripts[name] = pane
        self.folders.delete(*self.folders.get_children())
        if not profiles:
            self.welcome.pack(side="top", fill="x")
            self.current = None
            self.list.clear()
            self.viewer.clear("Add a mail account to start: Add an account… on the left.")
            self.set_status("No mail account yet.")
            return
        self.welcome.pack_forget()
        for name, profile in profiles.items():
            label = name if profile["verify_tls"] or profile["incoming_security"] == "none" else \
                f"{name} (certificates not checked)"
            self.folders.insert("", "end", iid=name, text=label, open=True)
            self._fill_folders(name, self.cache.folders(name) or [])
        target = self.current if self.current and self.current[0] in profiles else None
        if select in profiles:
            target = (select, "INBOX")
        if target is None:
            target = (next(iter(profiles)), "INBOX")
        self.show_folder(*target)
        for name in profiles:
            self.refresh_account(name, sync=name != target[0])  # show_folder syncs that one

    def _drop_service(self, name: str, forget_cache: bool) -> None:
        service = self.services.pop(name)
        for key in [k for k in self.syncing if k[0] == name]:
            self.syncing.pop(key).cancel()
        watcher = self.watchers.pop(name, None)
        if watcher is not None:
            watcher.cancel()
        threading.Thread(target=service.close, daemon=True).start()
        if forget_cache:
            self.cache.delete_account(name)
            pane = self.transcripts.pop(name, None)
            if pane is not None:
                pane.destroy()
            if self.current and self.current[0] == name:
                self.current = None

    def _tokens_for(self, name: str, profile: dict):
        """How the account's service gets its TokenManager (made in the worker)."""
        settings, secrets = self.app.settings, self.app.secrets
        return lambda: signin.token_manager(settings, secrets, name, profile)

    def add_account(self):
        """The account wizard: from a name and an address to a working account."""
        from .wizard import AccountWizard
        self.wizard = AccountWizard(self, self.app, on_saved=self._accounts_changed,
                                    open_browser=self.open_browser, on_manual=self._manual_account)
        return self.wizard

    def _manual_account(self, values: dict) -> None:
        dialog = self.manage_accounts()
        dialog.new()
        dialog.form.set_values({"name": values["email"], "email": values["email"],
                                "display_name": values["display_name"],
                                "incoming_password": values["password"]})

    def manage_accounts(self):
        from .account_dialog import AccountDialog
        select = self.current[0] if self.current else None
        self.account_dialog = AccountDialog(self, self.app, on_change=self._accounts_changed,
                                            select=select, on_add=self.add_account,
                                            open_browser=self.open_browser)
        return self.account_dialog

    def _accounts_changed(self, name: str | None) -> None:
        if name in self.services:  # its password may have changed: the keyring's again
            self.services[name].use_password(None)
        self.offline.discard(name)
        self.reload_accounts(select=name)

    def ask_password(self, account: str, error=None):
        """Ask for ``account``'s password (one dialog per account) and connect again with it;
        Cancel leaves the account offline until Get mail. Returns the dialog, if one is open."""
        service = self.services.get(account)
        if account in self.password_prompts:  # a second task failed the same way
            self.set_status(_waiting_text(account), busy=False)
            return self.password_prompts[account]
        if account in self.offline:
            self.set_status(_offline_text(account), busy=False)
        if service is None or account in self.offline:
            return None
        profile = service.account
        user = profile["incoming_user"] or profile["email"]
        problem = "" if isinstance(error, accounts.PasswordNeeded) else str(error or "")

        def answered(password, remember):
            self.password_prompts.pop(account, None)
            if self.services.get(account) is not service:
                return  # the account was edited or removed meanwhile
            if password is None:
                self.offline.add(account)
                self.set_status(_offline_text(account), busy=False)
                return
            service.use_password(password, remember)
            self.password_given[account] = time.monotonic()
            self.refresh_account(account)

        dialog = dialogs.PasswordDialog(
            self, f"Password for {account}",
            f"Enter the password for {user} on {profile['incoming_host']}.", answered,
            problem=problem)
        self.password_prompts[account] = dialog
        self.set_status(_waiting_text(account), busy=False)
        return dialog

    def _transcript(self, account: str) -> TranscriptPane:
        return self.transcripts[account]

    def _show_transcript(self, account: str) -> None:
        for name, pane in self.transcripts.items():
            if name == account:
                pane.pack(fill="both", expand=True)
            else:
                pane.pack_forget()

    # -- folders -----------------------------------------------------------------------
    def _fill_folders(self, account: str, folders) -> None:
        tree = self.folders
        for child in tree.get_children(account):
            tree.delete(child)
        if not folders:
            from netgui.net.mail.cache import CachedFolder
            folders = [CachedFolder("INBOX", None, (), "inbox", None, None)]
        folders = sorted(folders, key=lambda f: (SPECIAL_ORDER.get(f.special or "", 9),
                                                  f.name.casefold()))
        for f in folders:
            self.folder_kinds[(account, f.name)] = f.special
            parent = account
            label = SPECIAL_LABELS.get(f.special or "", None)
            if label is None:
                label = f.name
                if f.delimiter and f.delimiter in f.name:
                    head, label = f.name.rsplit(f.delimiter, 1)
                    if tree.exists(account + SEP + head):
                        parent = account + SEP + head
            self.folder_labels[(account, f.name)] = label
            count = self.unread_counts.get((account, f.name))
            if count:
                label = f"{label} ({count})"
            noselect = any(fl.lower() == "\\noselect" for fl in f.flags)
            tree.insert(parent, "end", iid=account + SEP + f.name, text=label, open=True,
                        tags=("noselect",) if noselect else ())
        if self.current and self.current[0] == account and tree.exists(account + SEP + self.current[1]):
            tree.selection_set(account + SEP + self.current[1])

    def _folder_picked(self, event=None) -> None:
        sel = self.folders.selection()
        if not sel:
            return
        iid = sel[0]
        if SEP not in iid:  # an account node: open its Inbox
            if self.folders.exists(iid + SEP + "INBOX"):
                self.folders.selection_set(iid + SEP + "INBOX")
            return
        account, folder = iid.split(SEP, 1)
        if (account, folder) != self.current:
            self.show_folder(account, folder)

    def folder_names(self, account: str) -> list[str]:
        return [name for (acct, name) in self.folder_kinds if acct == account]

    def refresh_account(self, account: str, sync: bool = True) -> None:
        """Fetch the folder list, then (``sync``) sync the folder shown (or the Inbox)."""
        service = self.services.get(account)
        if service is None:
            return
        pane = self._transcript(account)

        def done_folders(folders):
            self._fill_folders(account, folders)

        def after(task):
            if task.state == "done":
                if sync:
                    folder = self.current[1] if self.current and self.current[0] == account else "INBOX"
                    self.sync(account, folder)
                else:
                    self.set_status(self.status.cget("text"), busy=False)
            else:
                self._failed(task, account)

        task = self.app.runner.submit(service.folders, name=f"Folders of {account}",
                                      origin=self._mail_origin(account),
                                      on_result=done_folders, on_log=pane.append,
                                      on_status=self.set_status, on_done=after)
        self.track(task)
        self.set_status(f"Connecting to {service.account['incoming_host']}…", busy=True)

    def show_folder(self, account: str, folder: str) -> None:
        """Show a folder: cached rows at once (read in a worker) while it syncs with the server."""
        self.current = (account, folder)
        iid = account + SEP + folder
        if self.folders.exists(iid) and self.folders.selection() != (iid,):
            self.folders.selection_set(iid)
        self._show_transcript(account)
        self.search_var.set("")
        self.list.filter = None
        self.list.clear()
        self.viewer.clear()
        self.opened = None
        resets = self._resets.get(self.current, 0)

        def loaded(rows):
            if self.current != (account, folder) or self._resets.get(self.current, 0) != resets:
                return  # another folder is shown, or the server renumbered this one meanwhile
            merged = {r.uid: r for r in rows}
            merged.update(self.list.rows)  # rows the sync already delivered are newer
            self.list.set_rows(merged.values())
            self._count_unread_soon()
            running = self.syncing.get(self.current)
            if running is not None and running.running:  # else its outcome is on the status line
                self.set_status(f"{len(merged)} messages in {folder} (cached), checking for new "
                                "mail…", busy=True)

        task = self.app.runner.submit(lambda ctx: self.cache.messages(account, folder),
                                      name=f"Open {folder}", on_result=loaded)
        self.track(task)
        self.sync(account, folder)

    def get_mail(self) -> None:
        """Refresh folder lists and the shown folder of every account."""
        if not self.services:
            self.manage_accounts()
            return
        self.offline.clear()
        for account in self.services:
            self.refresh_account(account)

    def sync(self, account: str, folder: str, quiet: bool = False) -> None:
        """Bring a folder up to date; ``quiet`` (new-mail checks) leaves the status line alone."""
        key = (account, folder)
        running = self.syncing.get(key)
        if running is not None and running.running:
            return
        service = self.services.get(account)
        if service is None:
            return

        def done(task):
            if self.syncing.get(key) is task:
                self.syncing.pop(key, None)
            if self.services.get(account) is not service:
                return  # the account was edited meanwhile: this result is stale
            if task.state == "done":
                self.set_status(self.status.cget("text") if quiet else
                                f"{folder}: {task.result} messages on the server", busy=False)
                self._start_watcher(account)
            else:
                self._failed(task, account)

        task = self.app.runner.submit(service.sync, folder, name=f"Get mail: {account}/{folder}",
                                      origin=self._mail_origin(account, folder),
                                      on_event=self._on_event, on_log=self._transcript(account).append,
                                      on_status=None if quiet else self.set_status, on_done=done)
        self.syncing[key] = self.track(task)
        if not quiet:
            self.set_status(f"Checking {folder}…", busy=True)

    def ask_sign_in(self, account: str, error=None):
        """The "Sign in again" window for an OAuth2 account (one per account); after a new
        sign-in the account connects again, Cancel leaves it offline until Get mail."""
        from .signin_window import SignInWindow
        if account in self.sign_in_prompts:
            return self.sign_in_prompts[account]
        service = self.services.get(account)
        if service is None or account in self.offline:
            self.set_status(_offline_text(account, signed_out=True), busy=False)
            return None

        def answered(ok: bool):
            self.sign_in_prompts.pop(account, None)
            if self.services.get(account) is not service:
                return
            if not ok:
                self.offline.add(account)
                self.set_status(_offline_text(account, signed_out=True), busy=False)
                return
            self.password_given[account] = time.monotonic()
            self.refresh_account(account)

        window = SignInWindow(self, self.app, account, service.account, answered,
                              problem=str(error or ""), open_browser=self.open_browser)
        self.sign_in_prompts[account] = window
        self.set_status(f"{account}: waiting for you to sign in again", busy=False)
        return window

    def _failed(self, task, account: str | None = None) -> None:
        sign_in = accounts.needs_sign_in(task.error)
        if account is not None and task.state == "failed" and (
                sign_in or accounts.needs_password(task.error)):
            if task.started >= self.password_given.get(account, -1.0):
                (self.ask_sign_in if sign_in else self.ask_password)(account, task.error)
            else:  # it started with the password (or sign-in) before the new one: its retry runs
                self.set_status(self.status.cget("text"), busy=False)
        elif task.state == "cancelled":
            self.set_status("Cancelled.", busy=False)
        elif task.error is not None:
            self.set_status(str(task.error), busy=False)
            self.status_action.offer(handoff.error_action(self.app, task.error))
            self.status.configure(style="Error.TLabel")
            self.after(6000, lambda: self.status.configure(style="Status.TLabel"))

    def _start_watcher(self, account: str) -> None:
        watcher = self.watchers.get(account)
        if watcher is not None and watcher.running:
            return
        service = self.services.get(account)
        if service is None:
            return
        # Not tracked: watching for new mail never keeps the app from quitting.
        self.watchers[account] = self.app.runner.submit(
            service.watch, "INBOX", name=f"New mail in {account}", on_event=self._on_event,
            origin=self._mail_origin(account, "INBOX"),
            on_log=self._transcript(account).append)

    def destroy(self) -> None:
        if self._count_after is not None:  # Tk would still fire it, into a deleted command
            self.after_cancel(self._count_after)
            self._count_after = None
        super().destroy()

    def _count_unread_soon(self) -> None:
        if self._count_after is None:
            self._count_after = self.after(200, self._count_unread)

    def _count_unread(self) -> None:
        """Show the shown folder's unread count in the folder tree: "Inbox (3)"."""
        self._count_after = None
        if self.current is None:
            return
        count = sum(1 for r in self.list.rows.values() if r.unread)
        self.unread_counts[self.current] = count
        iid = self.current[0] + SEP + self.current[1]
        label = self.folder_labels.get(self.current)
        if label and self.folders.exists(iid):
            self.folders.item(iid, text=f"{label} ({count})" if count else label)

    def _on_event(self, kind: str, payload) -> None:
        key = (payload.get("account"), payload.get("folder"))
        if kind == "new-mail":
            self.sync(*key, quiet=True)
            return
        if key != self.current:
            return
        self._count_unread_soon()
        if kind == "rows":
            self.list.add_rows(payload["rows"])
        elif kind == "flags":
            self.list.update_flags(payload["flags"])
        elif kind == "removed":
            self.list.remove(payload["uids"])
        elif kind == "reset":
            self._resets[key] = self._resets.get(key, 0) + 1
            self.list.clear()
            self.viewer.clear("The server renumbered this folder; the list is fetched again.")

    # -- one message --------------------------------------------------------------------
    def _message_picked(self, uids: list[int]) -> None:
        if len(uids) != 1 or self.current is None:
            return
        self.open_message(uids[0])

    def open_message(self, uid: int) -> None:
        account, folder = self.current
        service = self.services[account]
        if self.opened == (account, folder, uid) and self.viewer.message is not None:
            return
        if self.open_task is not None and self.open_task.running:
            self.open_task.cancel()
        self.viewer.clear("Loading…")

        def shown(parsed):
            if self.current != (account, folder) or self.list.selection() != [uid]:
                return
            self.opened = (account, folder, uid)
            self.viewer.show(parsed)
            self.list.change_flag([uid], "\\Seen", True)
            self._count_unread_soon()
            self.list.set_attachment(uid, bool(parsed.attachments))

        def done(task):
            if task.state != "done":
                if task.state == "failed":
                    self.viewer.clear(f"Cannot show this message: {task.error}")
                self._failed(task, account)

        self.open_task = self.track(self.app.runner.submit(
            service.open, folder, uid, name="Open message", on_result=shown,
            origin=self._mail_origin(account, folder, uid),
            on_log=self._transcript(account).append, on_done=done))

    # -- actions on the selection ---------------------------------------------------------
    def _selection(self) -> list[int]:
        uids = self.list.selection()
        if not uids:
            self.set_status("Select one or more messages first.")
        return uids

    def _run(self, name, fn, *args, done_text="", on_result=None):
        account = self.current[0]

        def done(task):
            if task.state == "done":
                if on_result:
                    on_result(task.result)
                self.set_status(done_text if isinstance(done_text, str) else done_text(task.result),
                                busy=False)
            else:
                self._failed(task, account)

        task = self.app.runner.submit(fn, *args, name=name, on_log=self._transcript(account).append,
                                      on_status=self.set_status, on_done=done,
                                      origin=self._mail_origin(account, self.current[1]))
        self.set_status(name + "…", busy=True)
        return self.track(task)

    def delete_selected(self, ask: bool = True):
        uids = self._selection()
        if not uids or self.current is None:
            return None
        account, folder = self.current
        service = self.services[account]
        permanent = service.protocol == "pop3" or self.folder_kinds.get((account, folder)) == "trash"
        if permanent and ask and not dialogs.confirm(
                self, "Delete messages", f"Delete {len(uids)} message(s) from the server for good?",
                "This cannot be undone."):
            return None

        def removed(target):
            self.list.remove(uids)
            if self.opened and self.opened[2] in uids:
                self.viewer.clear()
                self.opened = None

        return self._run("Deleting", service.delete, folder, uids, on_result=removed,
                         done_text=lambda t: f"Moved {len(uids)} to {t}" if t else
                         f"Deleted {len(uids)} message(s)")

    def _fill_move_menu(self) -> None:
        self.move_menu.delete(0, "end")
        if self.current is None:
            return
        account, folder = self.current
        for name in sorted(self.folder_names(account)):
            if name != folder:
                self.move_menu.add_command(label=name, command=lambda n=name: self.move_selected(n))

    def move_selected(self, target: str):
        uids = self._selection()
        if not uids or self.current is None:
            return None
        account, folder = self.current
        return self._run(f"Moving to {target}", self.services[account].move, folder, uids, target,
                         on_result=lambda _: self.list.remove(uids),
                         done_text=f"Moved {len(uids)} to {target}")

    def _toggle(self, flag: str):
        """Set the flag on the selection, or clear it when every selected message has it."""
        uids = self._selection()
        if not uids or self.current is None:
            return None
        account, folder = self.current
        rows = [self.list.rows[u] for u in uids if u in self.list.rows]
        add = not all(flag in r.flags for r in rows)
        self.list.change_flag(uids, flag, add)
        self._count_unread_soon()
        return self._run("Changing flags", self.services[account].set_flag, folder, uids, flag, add,
                         done_text="")

    def toggle_read(self):
        return self._toggle("\\Seen")

    def toggle_flag(self):
        return self._toggle("\\Flagged")

    def search(self):
        text = self.search_var.get().strip()
        if not text:
            self.clear_search()
            return None
        if self.current is None:
            return None
        account, folder = self.current

        def found(uids):
            self.list.set_filter(uids)

        return self._run(f"Searching for {text!r}", self.services[account].search, folder, text,
                         on_result=found, done_text=lambda uids: f"{len(uids)} found for {text!r}")

    def clear_search(self):
        self.search_var.set("")
        if self.list.filter is not None:
            self.list.set_filter(None)

    # -- attachments -----------------------------------------------------------------------
    def save_attachment_dialog(self, att: Attachment) -> None:
        path = filedialog.asksaveasfilename(parent=self, initialfile=att.safe_name,
                                            title="Save attachment")
        if path:
            self.save_attachment_to(att, Path(path).parent, Path(path).name)

    def save_attachment_to(self, att: Attachment, folder, name: str | None = None):
        """Write the attachment in a worker (``.part`` then rename); returns the task."""
        return self._run("Saving attachment", lambda ctx: save_attachment(att, folder, name),
                         done_text=lambda p: f"Saved {p}")

    def open_attachment(self, att: Attachment, ask: bool = True):
        """Save to a private folder and hand to the desktop; programs and scripts ask first."""
        if ask and Path(att.safe_name).suffix.lower() in RISKY_SUFFIXES and not dialogs.confirm(
                self, "Open attachment", f"{att.safe_name} is a program or script.",
                "Opening it may run it. Only open it if you trust the sender."):
            return None
        folder = Path(tempfile.mkdtemp(prefix="netgui-mail-", dir=_open_dir()))

        def open_saved(path) -> str:
            try:
                self.opener(path)
            except CannotOpen as exc:
                return str(exc)
            return f"Opened {path.name}"

        return self._run("Opening attachment", lambda ctx: save_attachment(att, folder),
                         done_text=open_saved)

    # -- sending (the compose side) -----------------------------------------------------------
    def compose(self, mode: str):
        from . import compose as mail_compose  # lazily: the compose window is the sending side's
        account = self.current[0] if self.current else next(iter(self.services), None)
        if account is None:
            self.manage_accounts()
            return None
        original = None
        if mode != "new":
            if self.viewer.message is None:
                self.set_status("Open a message first.")
                return None
            original = self.viewer.message.message
        return mail_compose.open_compose(self.app, account, mode=mode, original=original)

    def open_outbox(self):
        from . import outbox
        return outbox.open_outbox(self.app)

    # -- teardown ---------------------------------------------------------------------------------
    def _on_destroy(self, event=None) -> None:
        if event is not None and event.widget is not self:
            return
        for watcher in self.watchers.values():
            watcher.cancel()
        for task in self.busy_tasks():
            task.cancel()
        services = list(self.services.values())
        threading.Thread(target=lambda: [s.close() for s in services], daemon=True).start()


def _waiting_text(account: str) -> str:
    return f"{account}: waiting for the password"


def _offline_text(account: str, signed_out: bool = False) -> str:
    if signed_out:
        return f"{account} is offline: not signed in (Get mail to try again)."
    return f"{account} is offline: no password was given (Get mail to try again)."


def _open_dir() -> str:
    path = data_dir() / "mail" / "opened"
    path.mkdir(parents=True, exist_ok=True)
    return str(path)
