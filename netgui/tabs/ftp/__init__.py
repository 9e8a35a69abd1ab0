"""The FTP tab: saved sites, quick connect, local and remote panes, a transfer queue, the log.

All network work runs through ``app.runner`` on ``FtpClient`` objects: one browsing
connection, plus a pool of up to four transfer connections used by the queue.
"""

from __future__ import annotations

import os
import posixpath
from pathlib import Path
from tkinter import simpledialog, ttk

from netgui.fmt import human_bytes
from netgui.net.ftp.client import FtpClient, FtpSite, remote_join
from netgui.net.ftp.listing import DIR, LINK, RemoteEntry, display_name
from netgui.net.ftp.queue import DOWNLOAD, RUNNING, ClientPool, TransferItem, TransferQueue, run_item
from netgui.tabs import handoff
from netgui.tabs.base import Tab
from netgui.ui.dialogs import confirm, show_error
from netgui.ui.form import Field, Form
from netgui.ui.tasks import Progress
from netgui.ui.transcript import TranscriptPane

from .panes import ConflictDialog, FilePane, QueuePane, TextViewer, list_local, prepare

PROFILE_KIND = "ftp"
SECURITY = {"Plain FTP": "none", "FTPS (AUTH TLS)": "explicit", "Implicit FTPS": "implicit"}
ENCODINGS = ("utf-8", "latin-1", "cp1252", "cp1251", "cp437", "shift_jis", "gbk")
KEEPALIVE_MS = 30_000
KEEPALIVE_IDLE = 60.0
SCHEMES = {"none": "ftp", "explicit": "ftpes", "implicit": "ftps", "sftp": "sftp"}
"""URL schemes of the security choices (the timeline's protocol, the doctor's target)."""
URL_CHOICES = {"ftp": ("plain", "ftp"), "ftpes": ("auth tls", "explicit"), "ftps": ("implicit",),
               "sftp": ("sftp",)}
"""Words that pick a URL scheme's entry in the form's security (or protocol) choices."""
QUEUE_REFRESH_MS = 150


def _fields() -> list[Field]:
    return [
        Field("host", "Host", required=True, width=16),
        Field("port", "Port", kind="port", default=21, width=7),
        Field("anonymous", "Anonymous login", kind="check", default=False),
        Field("user", "User", default="", width=16),
        Field("password", "Password", kind="password", width=16),
        Field("security", "Security", kind="choice", choices=tuple(SECURITY), default="Plain FTP", width=16),
        Field("verify", "Verify TLS certificate", kind="check", default=True),
        Field("mode", "Data mode", kind="choice", choices=("Passive", "Active"), default="Passive", width=16),
        Field("encoding", "Encoding", kind="choice", choices=ENCODINGS, default="utf-8",
              editable=True, validator=_check_encoding, width=16),
        Field("folder", "Remote folder", default="", width=16),
        Field("local", "Local folder", kind="folder", default=str(Path.home()), width=12),
    ]


def _check_encoding(value) -> str | None:
    import codecs
    try:
        codecs.lookup(str(value))
    except LookupError:
        return "Unknown encoding"
    return None


def site_from_values(values: dict) -> FtpSite:
    """An FtpSite from the Form's values."""
    anonymous = bool(values.get("anonymous")) or not (values.get("user") or "").strip()
    return FtpSite(host=values["host"].strip(), port=int(values["port"] or 21),
                   user="anonymous" if anonymous else values["user"].strip(),
                   password="" if anonymous else values.get("password") or "",
                   tls=SECURITY.get(values.get("security"), "none"), passive=values.get("mode") != "Active",
                   encoding=values.get("encoding") or "utf-8", verify=bool(values.get("verify", True)),
                   initial_dir=(values.get("folder") or "").strip())


# -- worker functions (run in the runner's threads) --------------------------------------------

def _connect_and_list(ctx, client: FtpClient):
    with client.bound(ctx.token, ctx.log):
        ctx.status(f"Connecting to {client.site.describe()}")
        client.connect()
        ctx.status("Listing")
        return client.cwd, prepare(client.listdir())


def _change_and_list(ctx, client: FtpClient, path: str):
    with client.bound(ctx.token, ctx.log):
        if path:
            client.chdir(path)
        return client.cwd, prepare(client.listdir())


def _remote_call(ctx, client: FtpClient, method: str, *args):
    with client.bound(ctx.token, ctx.log):
        return getattr(client, method)(*args)


def _delete_many(ctx, client: FtpClient, targets: list[tuple[str, str]]):
    count = 0
    with client.bound(ctx.token, ctx.log):
        for path, kind in targets:
            count += client.delete(path, kind, on_item=lambda p: ctx.status(f"Deleted {p}"))
    return count


def _transfer(ctx, pool: ClientPool, queue: TransferQueue, item: TransferItem):
    client = pool.acquire(ctx.token)
    number = pool.number(client)

    def log(direction, text):   # already redacted by the client; tagged with its connection
        ctx.log(direction, f"[{number}] {text}")
    try:
        with client.bound(ctx.token, log):
            return run_item(client, queue, item, progress=ctx.progress, token=ctx.token)
    finally:
        pool.release(client)


def _close_all(ctx, client: FtpClient | None, pool: ClientPool | None):
    if client is not None:
        client.close()
    if pool is not None:
        pool.close()


def _keepalive(ctx, client: FtpClient):
    return client.keepalive(KEEPALIVE_IDLE, log=ctx.log)


def _make_local_folder(ctx, path: str):
    os.makedirs(path, exist_ok=False)
    return path


# -- the tab -----------------------------------------------------------------------------------

class FtpTab(Tab):
    """A dual-pane FTP/FTPS browser with a transfer queue."""

    title = "FTP"
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
        self.form = Form(box, _fields(), on_submit=self.connect, submit_text="Connect",
                         settings=self.app.settings, secrets=self.app.secrets, store_key="ftp.quick")
        self.form.pack(side="top", fill="x")
        self.disconnect_button = self.form.add_button("Disconnect", self.disconnect, enabled=False)
        self.form.status.configure(wraplength=150, justify="left")
        self.form.widgets["security"].bind("<<ComboboxSelected>>", self._security_changed, add="+")
        self.form.variables["anonymous"].trace_add("write", lambda *a: self._anonymous_changed())
        self._anonymous_changed()
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
                  ("Delete…", self.delete_remote_selected), None, ("Refresh", self.remote_refresh)])
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

    def _security_changed(self, event=None) -> None:
        security = SECURITY.get(self.form.get("security"), "none")
        port = str(self.form.raw("port"))
        if security == "implicit" and port == "21":
            self.form.set("port", 990)
        elif security != "implicit" and port == "990":
            self.form.set("port", 21)

    def _anonymous_changed(self) -> None:
        """User and password do not apply to an anonymous login: grey them out."""
        anonymous = bool(self.form.variables["anonymous"].get())
        for name in ("user", "password"):
            self.form.set_enabled(name, not anonymous)

    def _log(self, direction: str, text: str) -> None:
        self.transcript.append(direction, text)

    def _submit(self, fn, *args, **kw):
        kw.setdefault("on_log", self._log)
        kw.setdefault("origin", self._site_origin())
        return self.track(self.app.runner.submit(fn, *args, **kw))

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
        values = dict(data)
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
    def connect(self, values: dict) -> None:
        if self.client is not None:
            self._close_connections()
        site = site_from_values(values)
        self.transcript.secrets = [site.password] if site.password else []
        if site.tls != "none" and not site.verify:
            self._log("!", "Certificate verification is off for this connection: "
                           "anyone in between could read and change the traffic")
        self.client = FtpClient(site)
        self.pool = ClientPool(site, size=4)
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
            if site.tls == "none":
                note = " (plain FTP: not encrypted)"
            elif not site.verify:
                note = " (TLS, but the certificate is NOT verified)"
            else:
                note = " (TLS)"
            kind = "info" if site.tls == "none" else ("ok" if site.verify else "error")
            self.form.set_status(f"Connected to {site.describe()}{note}", kind)
            self.app.set_status(f"FTP: connected to {site.describe()}")
            self.pump_queue()   # items left queued from an earlier connection go on

        def failed(err):
            if client is not self.client:
                return
            self._error(err)
            self.remote_pane.clear(str(err))
            self.client, self.pool = None, None
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
