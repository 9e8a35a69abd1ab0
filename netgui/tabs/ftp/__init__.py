"""The FTP / SFTP tab: saved sites, quick connect, local and remote panes, a transfer queue, the log.

All network work runs through ``app.runner`` on ``FtpClient`` or ``SftpClient`` objects (the
same methods): one browsing connection, plus a pool of up to four transfer clients used by the
queue, each with its own connection (SFTP ones log in with what the browsing login learnt).
What an SFTP login needs from the user (host key, passphrase, prompts) the worker asks
through ``ctx.ask``; ``_on_ask`` shows the dialog on the Tk thread.
"""

from __future__ import annotations

import os
import posixpath
import sys
import threading
from contextlib import contextmanager
from pathlib import Path
from tkinter import simpledialog, ttk

from netgui.config import config_dir
from netgui.fmt import human_bytes
from netgui.net.ftp.client import FtpClient, remote_join
from netgui.net.ftp.listing import DIR, LINK, RemoteEntry, display_name
from netgui.net.ftp.queue import DOWNLOAD, RUNNING, ClientPool, TransferItem, TransferQueue, run_item
from netgui.tabs import handoff
from netgui.tabs.base import Tab
from netgui.ui.dialogs import PasswordDialog, confirm, show_error
from netgui.ui.form import Form
from netgui.ui.tasks import Progress
from netgui.ui.transcript import TranscriptPane

from .dialogs import ChmodDialog, HostKeyChangedDialog, HostKeyDialog, KbdIntDialog, parse_perms
from .panes import ConflictDialog, FilePane, QueuePane, TextViewer, list_local, prepare
from .sites import (DEFAULT_PORTS, FTP_ONLY, SFTP_ONLY, TLS_ONLY, fields, passphrase_account,
                    protocol_of, site_from_values, upgrade, values_from_url)

PROFILE_KIND = "ftp"
KEEPALIVE_MS = 30_000
KEEPALIVE_IDLE = 60.0
SCHEMES = {"none": "ftp", "explicit": "ftpes", "implicit": "ftps", "sftp": "sftp"}
"""URL schemes of the security choices (the timeline's protocol, the doctor's target)."""
URL_CHOICES = {"ftp": ("plain", "ftp"), "ftpes": ("auth tls", "explicit"), "ftps": ("implicit",),
               "sftp": ("sftp",)}
"""Words that pick a URL scheme's entry in the form's security (or protocol) choices."""
QUEUE_REFRESH_MS = 150


# -- worker functions (run in the runner's threads) --------------------------------------------

_asker = threading.local()   # the task whose worker runs on this thread (see _ask_ui)


@contextmanager
def _asking(ctx):
    """Meanwhile an SFTP client's questions on this thread go to ``ctx.ask``."""
    previous = getattr(_asker, "ctx", None)
    _asker.ctx = ctx
    try:
        yield
    finally:
        _asker.ctx = previous


@contextmanager
def _bound(client, ctx, log=None):
    """``client.bound`` to the task, asking through it."""
    with _asking(ctx), client.bound(ctx.token, log or ctx.log):
        yield client


def _ask_ui(kind: str):
    """An SftpClient ``ask_*`` callback: it runs on the worker's thread, so it asks that task's
    ``on_ask`` and waits (None when no task is asking, e.g. outside ``_bound``)."""
    def ask(*payload):
        ctx = getattr(_asker, "ctx", None)
        return None if ctx is None else ctx.ask(kind, payload)
    return ask


def _connect_and_list(ctx, client: FtpClient):
    with _bound(client, ctx):
        ctx.status(f"Connecting to {client.site.describe()}")
        client.connect()
        ctx.status("Listing")
        return client.cwd, prepare(client.listdir())


def _change_and_list(ctx, client: FtpClient, path: str):
    with _bound(client, ctx):
        if path:
            client.chdir(path)
        return client.cwd, prepare(client.listdir())


def _remote_call(ctx, client: FtpClient, method: str, *args):
    with _bound(client, ctx):
        return getattr(client, method)(*args)


def _delete_many(ctx, client: FtpClient, targets: list[tuple[str, str]]):
    count = 0
    with _bound(client, ctx):
        for path, kind in targets:
            count += client.delete(path, kind, on_item=lambda p: ctx.status(f"Deleted {p}"))
    return count


def _chmod_many(ctx, client: FtpClient, targets: list[tuple[str, str]], mode: int, recursive: bool):
    """Set ``mode`` on each target (and, if ``recursive``, on everything inside its folders)."""
    count = 0
    with _bound(client, ctx):
        for path, kind in targets:
            client.chmod(path, mode)
            count += 1
            if recursive and kind == DIR:
                for folder, dirs, files in client.walk(path):
                    for entry in dirs + files:
                        if entry.kind != LINK:
                            client.chmod(remote_join(folder, entry.name), mode)
                            count += 1
                    ctx.status(f"Permissions set on {count} items")
    return count


def _transfer(ctx, pool: ClientPool, queue: TransferQueue, item: TransferItem):
    client = pool.acquire(ctx.token)
    number = pool.number(client)

    def log(direction, text):   # already redacted by the client; tagged with its connection
        ctx.log(direction, f"[{number}] {text}")
    try:
        with _bound(client, ctx, log):
            return run_item(client, queue, item, progress=ctx.progress, token=ctx.token)
    finally:
        pool.release(client)


def _close_all(ctx, client: FtpClient | None, pool: ClientPool | None):
    if client is not None:
        client.close()
    if pool is not None:
        pool.close()


def _keepalive(ctx, client: FtpClient):
    with _asking(ctx):   # a reconnect may have to ask
        return client.keepalive(KEEPALIVE_IDLE, log=ctx.log)


def _make_local_folder(ctx, path: str):
    os.makedirs(path, exist_ok=False)
    return path


# -- the tab -----------------------------------------------------------------------------------

class FtpTab(Tab):
    """A dual-pane FTP/FTPS/SFTP browser with a transfer queue."""

    title = "FTP / SFTP"
    key = "ftp"

    def __init__(self, master, app):
        super().__init__(master, app)
        self.session = 0          # counts connections: the timeline's connection name
        self.client: FtpClient | None = None
        self.pool: ClientPool | None = None
        self.queue = TransferQueue(concurrency=int(app.settings.get("ftp.concurrency", 2) or 2))
        self.rates: dict[int, Progress] = {}
        self.item_tasks: dict[int, object] = {}
        self.conflict_dialog: ConflictDialog | None = None
        self.viewer: TextViewer | None = None
        self.ask_dialog = None           # the open dialog answering a worker's question, if any
        self.chmod_dialog: ChmodDialog | None = None
        self._known_hosts = None         # SFTP host keys: made on the first SFTP connection
        self._refresh_job = None
        self._local_refresh_job = None
        self._remote_refresh_job = None
        self._remote_nav = self._local_nav = 0
        self._retry_job = None
        self._build()
        self._keepalive_job = self.after(KEEPALIVE_MS, self._keepalive_tick)
        self.local_go(self.form.get("local") or str(Path.home()))

    # building ------------------------------------------------------------------------------
    def _build(self) -> None:
        side = ttk.Frame(self)
        side.pack(side="left", fill="y", padx=(0, 8))
        sites = ttk.LabelFrame(side, text="Sites", padding=6)
        sites.pack(side="top", fill="x")
        self.site_box = ttk.Combobox(sites, state="readonly", width=24)
        self.site_box.pack(side="top", fill="x")
        self.site_box.bind("<<ComboboxSelected>>", lambda e: self.load_site(self.site_box.get()))
        row = ttk.Frame(sites)
        row.pack(side="top", fill="x", pady=(4, 0))
        ttk.Button(row, text="Save as site…", command=self._ask_save_site).pack(side="left")
        ttk.Button(row, text="Delete site", command=self._delete_current_site).pack(side="left", padx=4)

        box = ttk.LabelFrame(side, text="Connection", padding=6)
        box.pack(side="top", fill="x", pady=(8, 0))
        self.form = Form(box, fields(), on_submit=self.connect, submit_text="Connect",
                         settings=self.app.settings, secrets=self.app.secrets, store_key="ftp.quick")
        remembered = self.app.settings.form_values("ftp.quick")
        if "security" in remembered:    # remembered before the protocol choice existed
            self.form.set_values(upgrade(remembered))
        self.form.pack(side="top", fill="x")
        self.disconnect_button = self.form.add_button("Disconnect", self.disconnect, enabled=False)
        self.form.status.configure(wraplength=150, justify="left")
        self._protocol = protocol_of(self.form.values())
        self.form.variables["protocol"].trace_add("write", lambda *a: self._protocol_changed())
        self.form.variables["anonymous"].trace_add("write", lambda *a: self._anonymous_changed())
        self.form.widgets["host"].bind("<FocusOut>", lambda e: self._host_url(), add="+")
        self._protocol_changed()
        self._refresh_sites()

        main = ttk.PanedWindow(self, orient="vertical")
        main.pack(side="left", fill="both", expand=True)
        panes = ttk.PanedWindow(main, orient="horizontal")
        self.local_pane = FilePane(
            panes, "Local", on_open=self.local_open, on_path=self.local_go, on_up=self.local_up,
            on_refresh=self.local_refresh,
            menu=[("Upload", self.upload_selected), ("Attach to new mail", self.mail_selected_local),
                  None, ("New folder…", self._ask_local_mkdir), ("Refresh", self.local_refresh)])
        self.remote_pane = FilePane(
            panes, "Remote", on_open=self.remote_open, on_path=self.remote_go, on_up=self.remote_up,
            on_refresh=self.remote_refresh,
            menu=[("Download", self.download_selected), ("View", self.view_selected), None,
                  ("New folder…", self._ask_remote_mkdir), ("Rename…", self._ask_rename),
                  ("Permissions…", self.chmod_selected), ("Delete…", self.delete_remote_selected), None,
                  ("Refresh", self.remote_refresh)])
        self.remote_pane.set_message("Not connected")
        remote, local = self.remote_pane.tree, self.local_pane.tree
        remote.bind("<Delete>", lambda e: self.delete_remote_selected())
        remote.bind("<F2>", lambda e: self._ask_rename())
        remote.bind("<F3>", lambda e: self.view_selected())
        remote.bind("<F5>", lambda e: self.remote_refresh())
        local.bind("<F5>", lambda e: self.local_refresh())
        panes.add(self.local_pane, weight=1)
        panes.add(self.remote_pane, weight=1)
        actions = ttk.Frame(main)
        self.upload_button = ttk.Button(actions, text="Upload →", command=self.upload_selected)
        self.download_button = ttk.Button(actions, text="← Download", command=self.download_selected)
        self.upload_button.pack(side="left")
        self.download_button.pack(side="left", padx=4)
        self.queue_pane = QueuePane(
            main, on_cancel=self.cancel_selected, on_retry=self.retry_selected,
            on_remove=self.remove_selected, on_clear=self.clear_finished,
            on_concurrency=self.set_concurrency, concurrency=self.queue.concurrency,
            policy=self.app.settings.get("ftp.policy", "ask") or "ask")
        self.queue_pane.policy_box.bind("<<ComboboxSelected>>", self._policy_changed, add="+")
        self.transcript = TranscriptPane(main, palette=self.app.theme)
        main.add(panes, weight=5)
        main.add(actions, weight=0)
        main.add(self.queue_pane, weight=2)
        main.add(self.transcript, weight=1)

    def on_theme_changed(self, palette) -> None:
        self.transcript.set_palette(palette)

    def on_shown(self) -> None:
        if not self.form.get("host"):
            self.form.widgets["host"].focus_set()

    def _protocol_changed(self) -> None:
        """The port follows the protocol (when it was the old one's default); only the fields
        the protocol uses are shown."""
        old, new = self._protocol, protocol_of({"protocol": self.form.raw("protocol")})
        self._protocol = new
        if str(self.form.raw("port")) in ("", str(DEFAULT_PORTS[old])):
            self.form.set("port", DEFAULT_PORTS[new])
        sftp = new == "sftp"
        for name in FTP_ONLY:
            self.form.set_visible(name, not sftp)
        for name in SFTP_ONLY:
            self.form.set_visible(name, sftp)
        for name in TLS_ONLY:
            self.form.set_visible(name, new in ("explicit", "implicit"))
        self._anonymous_changed()

    def _anonymous_changed(self) -> None:
        """User and password do not apply to an anonymous login: grey them out."""
        anonymous = bool(self.form.variables["anonymous"].get()) and self._protocol != "sftp"
        for name in ("user", "password"):
            self.form.set_enabled(name, not anonymous)

    def _host_url(self) -> dict | None:
        """A URL typed (or pasted) as the host fills in protocol, host, port, user and folder."""
        values = values_from_url(str(self.form.raw("host")))
        if values:
            self.form.set_values(values)
        return values

    def _log(self, direction: str, text: str) -> None:
        self.transcript.append(direction, text)

    def _submit(self, fn, *args, **kw):
        kw.setdefault("on_log", self._log)
        kw.setdefault("on_ask", self._on_ask)
        kw.setdefault("origin", self._site_origin())
        return self.track(self.app.runner.submit(fn, *args, **kw))

    # questions from workers (SFTP logins) --------------------------------------------------------
    def _on_ask(self, question) -> None:
        """A worker needs the user: show the dialog; its answer releases the worker."""
        kind, payload = question.kind, question.payload
        if kind == "host-key":
            dialog = HostKeyDialog(self, payload[0], question.answer, own_file=str(self.known_hosts.own_file))
        elif kind == "password":
            user, host = payload
            dialog = PasswordDialog(self, "SFTP password", f"Password for {user} on {host}:",
                                    lambda answer, remember: self._secret_answered(question, answer, remember))
        elif kind == "passphrase":
            key_file, problem = payload
            dialog = PasswordDialog(self, "Key passphrase", f"Passphrase for the key file {key_file}:",
                                    lambda answer, remember: self._secret_answered(question, answer, remember),
                                    problem=problem, label="Passphrase")
        elif kind == "kbdint":
            name, instructions, prompts = payload
            server = self.client.site.describe() if self.client is not None else "The server"

            def answered(answers):
                self.transcript.secrets += [a for a in answers or () if a]
                question.answer(answers)
            dialog = KbdIntDialog(self, server, name, instructions, prompts, answered)
        else:
            question.answer(None)
            return
        self.ask_dialog = dialog
        self._close_when_moot(question, dialog)

    def _secret_answered(self, question, answer: str | None, remember: bool) -> None:
        """A password or passphrase from its dialog: masked in the transcript, kept in the
        keyring only when the user ticked Remember."""
        if answer:
            self.transcript.secrets.append(answer)
            if remember:
                self._remember_secret(question.kind, question.payload, answer)
        question.answer(answer)

    def _remember_secret(self, kind: str, payload: tuple, answer: str) -> None:
        if kind == "passphrase":
            self.app.secrets.set(passphrase_account(payload[0]), answer)
            return
        self.form.set("password", answer)
        self.form.remember()
        site = self.site_box.get()
        if site:
            self.app.secrets.set(f"ftp/{site}/password", answer)

    def _close_when_moot(self, question, dialog) -> None:
        """The worker stopped waiting (cancelled, timed out): its dialog goes away."""
        def check():
            if not dialog.winfo_exists():
                return
            if question.open:
                dialog.after(200, check)
            else:
                dialog.destroy()
        dialog.after(200, check)

    def _warn_host_key(self, err) -> bool:
        """A changed SSH host key gets a warning window naming both keys (and no way on) and
        its whole line in the transcript; True if ``err`` was one."""
        hostkeys = sys.modules.get("netgui.net.ftp.hostkeys")   # loaded if SFTP was used at all
        if hostkeys is None or not isinstance(err, hostkeys.HostKeyChanged):
            return False
        self._log("!", str(err))
        if self.ask_dialog is None or not self.ask_dialog.winfo_exists():
            self.ask_dialog = HostKeyChangedDialog(self, err)
        return True

    def _site_origin(self, item: str = "session"):
        """The timeline's origin of work on the connected site (None when not connected)."""
        if self.client is None:
            return None
        site = self.client.site
        kind = "sftp" if getattr(site, "protocol", "ftp") == "sftp" else site.tls
        return self.origin(item, SCHEMES.get(kind, "ftp"), site.host, site.port,
                           f"ftp{self.session}", secrets=(site.password,))

    def _error(self, err, prefix: str = "") -> None:
        """An error on the connection line, with Diagnose when it is about the connection."""
        self.form.set_status(prefix + str(err), "error", action=handoff.error_action(self.app, err))

    # sites ---------------------------------------------------------------------------------
    def _refresh_sites(self) -> None:
        self.site_box.configure(values=sorted(self.app.settings.profiles(PROFILE_KIND)))

    def save_site(self, name: str) -> None:
        """Save the form as a named site (password to the keyring only)."""
        values = self.form.values()
        data = {k: v for k, v in values.items() if k != "password"}
        self.app.settings.save_profile(PROFILE_KIND, name, data)
        self.app.secrets.set(f"ftp/{name}/password", values.get("password") or "")
        self._refresh_sites()
        self.site_box.set(name)
        self.form.set_status(f"Saved site {name}", "ok")

    def load_site(self, name: str) -> None:
        data = self.app.settings.profile(PROFILE_KIND, name)
        if data is None:
            return
        values = upgrade(data)
        values.setdefault("protocol", "FTP")
        values["password"] = self.app.secrets.get(f"ftp/{name}/password") or ""
        self.form.set_values(values)
        self.site_box.set(name)
        self.form.set_status(f"Loaded site {name}")

    def delete_site(self, name: str) -> None:
        self.app.settings.delete_profile(PROFILE_KIND, name)
        self.app.secrets.delete(f"ftp/{name}/password")
        self._refresh_sites()
        self.site_box.set("")

    def _ask_save_site(self) -> None:
        if not self.form.validate():
            self.form.set_status("Fill in the host first.", "error")
            return
        default = self.site_box.get() or self.form.get("host")
        name = simpledialog.askstring("Save site", "Name of the site:", initialvalue=default, parent=self)
        if name and name.strip():
            self.save_site(name.strip())

    def _delete_current_site(self) -> None:
        name = self.site_box.get()
        if name and confirm(self, "Delete site", f"Delete the saved site {name}?"):
            self.delete_site(name)

    # connecting ------------------------------------------------------------------------------
    @property
    def known_hosts(self):
        """SSH host keys: ~/.ssh/known_hosts (read only) and netgui's own file; one per tab, so
        a key accepted "this time" is not asked again until netgui quits."""
        if self._known_hosts is None:
            from netgui.net.ftp.hostkeys import KnownHosts
            self._known_hosts = KnownHosts(config_dir() / "known_hosts")
        return self._known_hosts

    def _make_clients(self, site):
        """The browsing client and the transfer pool for a site."""
        if site.protocol != "sftp":
            return FtpClient(site), ClientPool(site, size=4)
        from netgui.net.ftp.sftp import SftpClient, pool_factory   # asyncssh is loaded only now
        if site.key_file and not site.key_passphrase:
            site.key_passphrase = self.app.secrets.get(passphrase_account(site.key_file)) or ""
        client = SftpClient(site, known_hosts=self.known_hosts, ask_host_key=_ask_ui("host-key"),
                            ask_password=_ask_ui("password"), ask_passphrase=_ask_ui("passphrase"),
                            ask_kbdint=_ask_ui("kbdint"))
        # transfers log in with what this client's login learnt (nothing is asked twice)
        return client, ClientPool(site, size=4, factory=pool_factory(client))

    def connect(self, values: dict) -> None:
        if "://" in values.get("host", ""):
            values = {**values, **(self._host_url() or {})}
            self.form.remember()
        if self.client is not None:
            self._close_connections()
        site = site_from_values(values)
        sftp = site.protocol == "sftp"
        self.client, self.pool = self._make_clients(site)
        self.transcript.secrets = [s for s in (site.password, getattr(site, "key_passphrase", "")) if s]
        if not sftp and site.tls != "none" and not site.verify:
            self._log("!", "Certificate verification is off for this connection: "
                           "anyone in between could read and change the traffic")
        self.session += 1
        self.form.set_busy(True, f"Connecting to {site.describe()}")
        self.remote_pane.clear(f"Connecting to {site.describe()}…")
        _set_enabled(self.disconnect_button, True)   # doubles as Cancel while connecting
        client = self.client
        local = values.get("local")
        if local and os.path.abspath(os.path.expanduser(local)) != self.local_pane.path:
            self.local_go(local)

        def done(result):
            if client is not self.client:
                return
            path, entries = result
            self.remote_pane.show(path, entries)
            if sftp:
                note, kind = " (SFTP over SSH)", "ok"
            elif site.tls == "none":
                note, kind = " (plain FTP: not encrypted)", "info"
            elif not site.verify:
                note, kind = " (TLS, but the certificate is NOT verified)", "error"
            else:
                note, kind = " (TLS)", "ok"
            self.form.set_status(f"Connected to {site.describe()}{note}", kind)
            self.app.set_status(f"{'SFTP' if sftp else 'FTP'}: connected to {site.describe()}")
            self.pump_queue()   # items left queued from an earlier connection go on

        def failed(err):
            if client is not self.client:
                return
            line = str(err)
            if self._warn_host_key(err):   # the warning window names both keys
                line = f"The host key of {err.host} has changed: not connected"
            self.form.set_status(line, "error", action=handoff.error_action(self.app, err))
            self.remote_pane.clear(line)
            self._close_connections()
            _set_enabled(self.disconnect_button, False)

        self.connect_task = self._submit(_connect_and_list, client, name=f"Connect to {site.describe()}",
                                         on_result=done, on_error=failed,
                                         on_status=lambda text: self.form.set_status(text),
                                         on_done=self._connect_done)

    def _connect_done(self, task) -> None:
        self.form.set_busy(False)  # keeps user and password disabled for an anonymous login

    @property
    def connected(self) -> bool:
        return self.client is not None

    def disconnect(self) -> None:
        """Stop connecting, or close the connections (running transfers are cancelled)."""
        task = getattr(self, "connect_task", None)
        if task is not None and task.running:
            task.cancel()
        for task in list(self.item_tasks.values()):
            task.cancel()
        self._close_connections()
        self.remote_pane.clear("Not connected")
        _set_enabled(self.disconnect_button, False)
        self.form.set_status("Disconnected")

    def _close_connections(self) -> None:
        origin = self._site_origin()
        client, pool = self.client, self.pool
        self.client, self.pool = None, None
        self._submit(_close_all, client, pool, name="Disconnect FTP", origin=origin)

    def _keepalive_tick(self) -> None:
        if self.client is not None and self.client.connected:
            self.app.runner.submit(_keepalive, self.client, name="FTP keep-alive", on_log=self._log,
                                   origin=self._site_origin())
        self._keepalive_job = self.after(KEEPALIVE_MS, self._keepalive_tick)

    # remote browsing -------------------------------------------------------------------------
    def _remote_failed(self, err) -> None:
        self.remote_pane.set_message(str(err))
        self.app.set_status(f"FTP: {err}")
        self._warn_host_key(err)
        self._error(err)

    def remote_go(self, path: str) -> None:
        """Open a remote folder (absolute, or relative to the current one)."""
        if self.client is None:
            self.remote_pane.set_message("Not connected")
            return
        client = self.client
        if path and not path.startswith("/") and self.remote_pane.path:
            path = remote_join(self.remote_pane.path, path)
        self._remote_nav += 1
        nav = self._remote_nav

        def shown(result):   # only the newest navigation is shown (calls may finish out of order)
            if client is self.client and nav == self._remote_nav:
                self.remote_pane.show(*result)

        def failed(err):
            if nav == self._remote_nav:
                self._remote_failed(err)
        self.remote_pane.set_message(f"Opening {display_name(path)}…")
        self._submit(_change_and_list, client, path, name=f"List {path}", on_result=shown, on_error=failed)

    def remote_refresh(self) -> None:
        self.remote_go(self.remote_pane.path or "")

    def remote_up(self) -> None:
        path = self.remote_pane.path or "/"
        self.remote_go(posixpath.dirname(path.rstrip("/")) or "/")

    def remote_open(self, entry: RemoteEntry) -> None:
        if entry.kind in (DIR, LINK):
            self.remote_go(remote_join(self.remote_pane.path, entry.name))
        else:
            self.download_entries([entry])

    def _remote_path(self, entry: RemoteEntry) -> str:
        return remote_join(self.remote_pane.path, entry.name)

    def view_selected(self) -> None:
        chosen = [e for e in self.remote_pane.selected() if e.kind != DIR]
        if not chosen or self.client is None:
            return
        path = self._remote_path(chosen[0])

        def show(result):
            text, truncated = result
            self.viewer = TextViewer(self, display_name(path), text, self.app.theme, truncated)
        self._submit(_remote_call, self.client, "read_text", path, name=f"View {path}",
                     on_result=show, on_error=self._remote_failed)

    def mkdir_remote(self, name: str) -> None:
        if self.client is None:
            return
        path = remote_join(self.remote_pane.path, name)
        self._submit(_remote_call, self.client, "mkdir", path, name=f"Create {path}",
                     on_result=lambda r: self.remote_refresh(), on_error=self._remote_failed)

    def rename_remote(self, entry: RemoteEntry, new_name: str) -> None:
        if self.client is None or not new_name or new_name == entry.name:
            return
        old = self._remote_path(entry)
        new = remote_join(self.remote_pane.path, new_name)
        self._submit(_remote_call, self.client, "rename", old, new, name=f"Rename {old}",
                     on_result=lambda r: self.remote_refresh(), on_error=self._remote_failed)

    def delete_remote(self, entries: list[RemoteEntry]) -> None:
        if self.client is None or not entries:
            return
        targets = [(self._remote_path(e), e.kind) for e in entries]
        self.remote_pane.set_message(f"Deleting {len(targets)} item(s)…")
        self._submit(_delete_many, self.client, targets, name="Delete on server",
                     on_result=lambda n: self.remote_refresh(), on_error=self._remote_failed,
                     on_status=self.remote_pane.set_message)

    def chmod_selected(self) -> None:
        """The permissions dialog for the selected remote items (the first one's mode to start)."""
        chosen = self.remote_pane.selected()
        if not chosen or self.client is None:
            return
        mode = parse_perms(chosen[0].perms)
        if mode is None:
            mode = 0o755 if chosen[0].kind == DIR else 0o644
        what = display_name(chosen[0].name) if len(chosen) == 1 else f"{len(chosen)} items"

        def answered(answer):
            self.chmod_dialog = None
            if answer is not None:
                self.chmod_remote(chosen, *answer)
        self.chmod_dialog = ChmodDialog(self, what, mode, any(e.kind == DIR for e in chosen), answered)

    def chmod_remote(self, entries: list[RemoteEntry], mode: int, recursive: bool = False) -> None:
        if self.client is None or not entries:
            return
        targets = [(self._remote_path(e), e.kind) for e in entries]
        self._submit(_chmod_many, self.client, targets, mode, recursive, name="Change permissions",
                     on_result=lambda n: self.remote_refresh(), on_error=self._remote_failed,
                     on_status=self.remote_pane.set_message)

    def delete_remote_selected(self) -> None:
        chosen = self.remote_pane.selected()
        if not chosen:
            return
        folders = sum(1 for e in chosen if e.kind == DIR)
        names = ", ".join(display_name(e.name) for e in chosen[:5]) + (" …" if len(chosen) > 5 else "")
        detail = "Folders are deleted with everything in them." if folders else None
        if confirm(self, "Delete on server", f"Delete {len(chosen)} item(s) on the server: {names}?", detail):
            self.delete_remote(chosen)

    def _ask_remote_mkdir(self) -> None:
        name = simpledialog.askstring("New folder", "Name of the new remote folder:", parent=self)
        if name and name.strip():
            self.mkdir_remote(name.strip())

    def _ask_rename(self) -> None:
        chosen = self.remote_pane.selected()
        if len(chosen) != 1:
            return
        name = simpledialog.askstring("Rename", "New name:", initialvalue=chosen[0].name, parent=self)
        if name and name.strip():
            self.rename_remote(chosen[0], name.strip())

    # local browsing ----------------------------------------------------------------------------
    def local_go(self, path: str) -> None:
        target = os.path.expanduser(path or "~")
        if not os.path.isabs(target):
            target = os.path.join(self.local_pane.path or str(Path.home()), target)
        self._local_nav += 1
        nav = self._local_nav

        def shown(result):
            if nav == self._local_nav:
                self.local_pane.show(*result)
                self.form.set("local", result[0])   # the form's local folder follows the pane

        def failed(err):
            if nav == self._local_nav:
                self.local_pane.set_message(str(err))
        self._submit(list_local, target, name=f"List {target}", on_result=shown, on_error=failed)

    def local_refresh(self) -> None:
        self.local_go(self.local_pane.path or str(Path.home()))

    def local_up(self) -> None:
        self.local_go(os.path.dirname(self.local_pane.path.rstrip(os.sep)) or os.sep)

    def local_open(self, entry: RemoteEntry) -> None:
        if entry.kind == DIR:
            self.local_go(os.path.join(self.local_pane.path, entry.name))
        else:
            self.upload_entries([entry])

    def _ask_local_mkdir(self) -> None:
        name = simpledialog.askstring("New folder", "Name of the new local folder:", parent=self)
        if name and name.strip():
            path = os.path.join(self.local_pane.path, os.path.basename(name.strip()))
            self._submit(_make_local_folder, path, name="Create local folder",
                         on_result=lambda p: self.local_refresh(),
                         on_error=lambda err: self.local_pane.set_message(str(err)))

    # queue ------------------------------------------------------------------------------------
    def download_selected(self) -> None:
        self.download_entries(self.remote_pane.selected())

    def upload_selected(self) -> None:
        self.upload_entries(self.local_pane.selected())

    def download_entries(self, entries: list[RemoteEntry]) -> None:
        if self.client is None or not entries or not self.local_pane.path:
            return
        batch = self.queue.new_batch(self.queue_pane.policy)
        for entry in entries:
            self.queue.add_download(self._remote_path(entry), self.local_pane.path, size=entry.size,
                                    is_dir=entry.kind == DIR, batch=batch, name=entry.name,
                                    modified=entry.modified)
        self.pump_queue()

    def upload_entries(self, entries: list[RemoteEntry]) -> None:
        if self.client is None or not entries or not self.remote_pane.path:
            return
        batch = self.queue.new_batch(self.queue_pane.policy)
        for entry in entries:
            self.queue.add_upload(Path(self.local_pane.path) / entry.name, self.remote_pane.path, batch=batch)
        self.pump_queue()

    def pump_queue(self) -> None:
        """Start queued items while slots are free; refresh the queue view."""
        while self.pool is not None:
            item = self.queue.take()
            if item is None:
                break
            self._start_item(item)
        if self.item_tasks:
            self._request_queue_refresh()   # a big folder finishes many small files per second
        else:
            self._refresh_queue()
        self._ask_conflicts()
        wait = self.queue.next_retry_in()
        if wait is not None and self._retry_job is None:
            def again():
                self._retry_job = None
                self.pump_queue()
            self._retry_job = self.after(int(wait * 1000) + 50, again)

    def _request_queue_refresh(self) -> None:
        if self._refresh_job is None:
            self._refresh_job = self.after(QUEUE_REFRESH_MS, self._refresh_queue)

    def _start_item(self, item: TransferItem) -> None:
        def result(outcome):
            self.queue.finish(item, outcome)

        def error(err):
            self.queue.finish(item, error=err)
            self._log("!", f"{item.name}: {err}")
            self._warn_host_key(err)
            self._error(err, f"{item.name}: ")

        def progress(p):
            self.rates[item.id] = p

        def done(task):
            self.item_tasks.pop(item.id, None)
            self.rates.pop(item.id, None)
            self._transfer_finished(item)
            self.pump_queue()

        verb = "Download" if item.direction == DOWNLOAD else "Upload"
        self.item_tasks[item.id] = self._submit(_transfer, self.pool, self.queue, item,
                                                name=f"{verb} {item.name}", on_result=result,
                                                on_error=error, on_progress=progress, on_done=done,
                                                origin=self._site_origin(f"transfer:{item.id}"))

    def _transfer_finished(self, item: TransferItem) -> None:
        if item.direction == DOWNLOAD:
            if os.path.dirname(str(item.local)) == self.local_pane.path:
                self._schedule_refresh("_local_refresh_job", self.local_refresh)
        elif posixpath.dirname(item.remote) == self.remote_pane.path:
            self._schedule_refresh("_remote_refresh_job", self.remote_refresh)

    def _schedule_refresh(self, attr: str, fn) -> None:
        job = getattr(self, attr)
        if job is not None:
            self.after_cancel(job)

        def run():
            setattr(self, attr, None)
            fn()
        setattr(self, attr, self.after(300, run))

    def _refresh_queue(self) -> None:
        if self._refresh_job is not None:
            self.after_cancel(self._refresh_job)
            self._refresh_job = None
        self.queue_pane.sync(self.queue.items, self.rates)
        done, total = self.queue.totals()
        rate = sum(p.rate or 0 for p in self.rates.values()) or None
        eta = (total - done) / rate if rate and total else None
        self.queue_pane.total.update_progress(Progress(done, total or None, rate, eta))
        counts = self.queue.counts()
        summary = ", ".join(f"{counts[state]} {state}" for state in
                            ("running", "queued", "waiting", "failed", "done", "skipped", "cancelled")
                            if counts.get(state))
        self.queue_pane.total.title.configure(text=f"Total: {summary}" if summary else "Total")
        if self.item_tasks:
            self._refresh_job = self.after(QUEUE_REFRESH_MS, self._refresh_queue)

    def _ask_conflicts(self) -> None:
        if self.conflict_dialog is not None and self.conflict_dialog.winfo_exists():
            return
        waiting = self.queue.waiting()
        if not waiting:
            self.conflict_dialog = None
            return
        item = waiting[0]
        if item.direction == DOWNLOAD:
            try:
                here = human_bytes(item.local.stat().st_size)
            except OSError:
                here = "?"
            detail = f"Local file: {here}; on the server: {human_bytes(item.size)}."
        else:
            detail = f"Local file: {human_bytes(item.size)}; the server already has a file of that name."

        def answer(policy: str, for_batch: bool) -> None:
            self.conflict_dialog = None
            self.queue.decide(item, policy, for_batch)
            self.pump_queue()
        self.conflict_dialog = ConflictDialog(self, item, detail, answer)

    def _selected_items(self) -> list[TransferItem]:
        ids = set(self.queue_pane.selected_ids())
        return [i for i in self.queue.items if i.id in ids]

    def cancel_selected(self) -> None:
        for item in self._selected_items():
            task = self.item_tasks.get(item.id)
            if task is not None and item.state == RUNNING:
                task.cancel()
            else:
                self.queue.cancel_queued(item)
        self._refresh_queue()

    def retry_selected(self) -> None:
        for item in self._selected_items():
            self.queue.retry(item)
        self.pump_queue()

    def remove_selected(self) -> None:
        for item in self._selected_items():
            self.queue.remove(item)
        self._refresh_queue()

    def clear_finished(self) -> None:
        self.queue.clear_finished()
        self._refresh_queue()

    def set_concurrency(self, n: int) -> None:
        self.queue.concurrency = n
        self.app.settings.set("ftp.concurrency", self.queue.concurrency)
        self.pump_queue()

    def _policy_changed(self, event=None) -> None:
        self.app.settings.set("ftp.policy", self.queue_pane.policy or "ask")

    # hand-off -----------------------------------------------------------------------------------
    def open_url(self, link) -> None:
        """An ftp://, ftps://, ftpes:// or sftp:// link: fill the form and connect."""
        from urllib.parse import unquote, urlsplit
        parts = urlsplit(link.url)
        scheme = parts.scheme.lower()
        folder = unquote(parts.path or "")
        if folder and not folder.endswith("/"):
            folder = posixpath.dirname(folder)
        values = {"host": parts.hostname or "", "folder": folder,
                  "anonymous": not parts.username, "user": unquote(parts.username or ""),
                  "password": unquote(parts.password or "")}
        field = "protocol" if "protocol" in self.form.fields else "security"
        choice = next((c for c in self.form.fields[field].choices
                       if any(word in c.lower() for word in URL_CHOICES.get(scheme, ()))), None)
        if choice is None:  # sftp:// before the tab speaks SSH
            self.form.set_values({"host": values["host"], "port": parts.port or 22})
            self.form.set_status(f"This FTP tab does not speak SFTP yet: {link.url}", "error",
                                 action=handoff.diagnose_action(self.app, link.url))
            return
        values[field] = choice
        values["port"] = parts.port or (990 if scheme == "ftps" else 22 if scheme == "sftp" else 21)
        self.form.set_values(values)
        self._anonymous_changed()
        self.form.submit()

    def reveal(self, item: str) -> None:
        """A transfer (``transfer:N``) is selected in the queue; the session needs nothing."""
        if item.startswith("transfer:") and self.queue_pane.tree.exists(f"q{item[9:]}"):
            row = f"q{item[9:]}"
            self.queue_pane.tree.selection_set(row)
            self.queue_pane.tree.see(row)

    def mail_selected_local(self) -> None:
        """The selected local files, attached to a new message."""
        paths = [os.path.join(self.local_pane.path, e.name) for e in self.local_pane.selected()
                 if e.kind != DIR]
        if paths:
            handoff.attach_to_mail(self.app, paths)

    def destroy(self) -> None:
        self.after_cancel(self._keepalive_job)
        client, pool = self.client, self.pool
        self.client = self.pool = None
        try:
            if client is not None or pool is not None:
                self.app.runner.submit(_close_all, client, pool, name="Close FTP connections")
        except Exception:
            pass
        super().destroy()


def _set_enabled(widget, enabled: bool) -> None:
    widget.state(["!disabled"] if enabled else ["disabled"])


__all__ = ["FtpTab", "site_from_values", "show_error"]
