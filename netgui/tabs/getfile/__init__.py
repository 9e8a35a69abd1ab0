"""The Getfile tab: download files from getfile servers (original ones and netgui's own).

A Form (Server, Port, File, Local folder, TLS) starts downloads; each one becomes a row
of the download list with its state, bytes, rate and ETA. Several run at once. Against
netgui's server a Browse dialog lists remote folders.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from tkinter import ttk

from netgui.desktop import CannotOpen, open_with_desktop
from netgui.fmt import human_bytes, human_eta, human_rate
from netgui.net.getfile.client import DEFAULT_PORT, check_remote_path
from netgui.net.safe_names import safe_local_name
from netgui.tabs import handoff
from netgui.tabs.base import Tab
from netgui.ui.form import Field, Form
from netgui.ui.transcript import TranscriptPane

from .browse import RemoteBrowser
from .work import download


def default_folder() -> str:
    """~/Downloads if it exists, else the home folder."""
    downloads = Path.home() / "Downloads"
    return str(downloads if downloads.is_dir() else Path.home())


def _validate_path(value: str) -> str | None:
    try:
        check_remote_path(value)
        safe_local_name(value)
    except ValueError as exc:
        return str(exc)
    return None


@dataclass
class Download:
    """One row of the download list."""

    iid: str
    task: object
    name: str
    folder: str
    host: str
    port: int
    remote: str
    state: str = "Starting"
    result: object = None


class GetfileTab(Tab):
    """Download files with the getfile protocol."""

    title = "Getfile"
    key = "getfile"
    COLUMNS = ("state", "bytes", "rate", "eta", "server")

    def __init__(self, master, app):
        super().__init__(master, app)
        self.downloads: dict[str, Download] = {}
        self.opener = open_with_desktop  # tests replace this
        self._build_form()
        self._build_list()
        self.transcript = TranscriptPane(self.panes, palette=app.theme)
        self.panes.add(self.transcript, weight=1)
        self._update_buttons()
        # the first line also loads the transcript's font now, not during the first download
        self.after_idle(lambda: self.transcript.append(
            "*", "Files arrive as <name>.part and get their name only when complete."))

    # -- building --------------------------------------------------------------------
    def _build_form(self) -> None:
        self.form = Form(self, [
            Field("host", "Server", required=True, default="localhost", width=36),
            Field("port", "Port", kind="port", default=DEFAULT_PORT, required=True),
            Field("file", "File", required=True, remember=False, validator=_validate_path,
                  width=36, help="path on the server"),
            Field("folder", "Local folder", kind="folder", required=True, default=default_folder(),
                  validator=lambda v: None if Path(v).is_dir() else "No such folder"),
            Field("tls", "Use TLS (netgui servers only)", kind="check", default=False),
            Field("verify", "Verify the server's certificate", kind="check", default=True),
        ], on_submit=self._start, submit_text="Download", settings=self.app.settings,
            secrets=self.app.secrets, store_key="getfile")
        self.form.pack(side="top", fill="x")
        self.browse_button = self.form.add_button("Browse server…", self._browse)
        self.cancel_button = self.form.add_button("Cancel", self._cancel_selected, enabled=False)
        self.form.variables["tls"].trace_add("write", lambda *_: self._tls_changed())
        self._tls_changed()

    def _tls_changed(self) -> None:
        """The certificate option only means something with TLS on."""
        on = bool(self.form.variables["tls"].get())
        self.form.set_enabled("verify", on)

    def _build_list(self) -> None:
        self.panes = ttk.PanedWindow(self, orient="vertical")
        self.panes.pack(side="top", fill="both", expand=True, pady=(8, 0))
        box = ttk.Frame(self.panes)
        self.panes.add(box, weight=3)
        bar = ttk.Frame(box)
        bar.pack(side="top", fill="x")
        ttk.Label(bar, text="Downloads", style="Muted.TLabel").pack(side="left", padx=(2, 8))
        self.open_button = ttk.Button(bar, text="Open folder", command=self._open_selected)
        self.open_button.pack(side="right", padx=1)
        self.mail_button = ttk.Button(bar, text="Attach to new mail", command=self.mail_selected)
        self.mail_button.pack(side="right", padx=1)
        self.clear_button = ttk.Button(bar, text="Clear finished", command=self._clear_finished)
        self.clear_button.pack(side="right", padx=1)
        body = ttk.Frame(box)
        body.pack(side="top", fill="both", expand=True)
        self.tree = ttk.Treeview(body, columns=self.COLUMNS, height=6, selectmode="browse")
        headings = {"#0": ("File", 170), "state": ("State", 300), "bytes": ("Bytes", 175),
                    "rate": ("Rate", 95), "eta": ("ETA", 50), "server": ("Server", 130)}
        for column, (text, width) in headings.items():
            self.tree.heading(column, text=text, anchor="w")
            self.tree.column(column, width=width, minwidth=40, stretch=column in ("#0", "state"),
                             anchor="e" if column in ("bytes", "rate", "eta") else "w")
        scroll = ttk.Scrollbar(body, orient="vertical", command=self.tree.yview)
        self.tree.configure(yscrollcommand=scroll.set)
        scroll.pack(side="right", fill="y")
        self.tree.pack(side="left", fill="both", expand=True)
        self.tree.bind("<<TreeviewSelect>>", lambda e: self._update_buttons())
        self.tree.bind("<Double-1>", lambda e: self._open_selected())

    # -- downloads -------------------------------------------------------------------
    def _start(self, values: dict) -> None:
        host, port, remote, folder = values["host"], values["port"], values["file"], values["folder"]
        name = safe_local_name(remote)
        target = str(Path(folder) / name)
        for d in self.downloads.values():
            if d.task.running and str(Path(d.folder) / d.name) == target:
                self.form.set_status(f"{name} is already being downloaded to that folder", "error")
                return
        iid = self.tree.insert("", 0, text=name, values=("Connecting", "", "", "", f"{host}:{port}"))
        self.transcript.append("*", f"Download {remote} from {host}:{port} to {target}")
        task = self.app.runner.submit(
            download, host, port, remote, folder, use_tls=values["tls"], verify=values["verify"],
            name=f"Download {name}", origin=self.origin(iid, "getfile", host, port, f"getfile-{iid}"),
            on_progress=lambda p, iid=iid: self._on_progress(iid, p),
            on_log=self.transcript.append,
            on_result=lambda r, iid=iid: self._on_result(iid, r),
            on_error=lambda e, iid=iid: self._on_error(iid, e),
            on_done=lambda t: self._on_done())
        self.downloads[iid] = Download(iid, self.track(task), name, folder, host, port, remote)
        self.tree.selection_set(iid)
        self.tree.see(iid)
        self.form.spinner.start()
        note = "" if not values["tls"] or values["verify"] else " (TLS certificate NOT verified)"
        self.form.set_status(f"Downloading {name} from {host}:{port}{note}")
        self._update_buttons()

    def _on_progress(self, iid: str, p) -> None:
        d = self.downloads.get(iid)
        if d is None or not self.tree.exists(iid):
            return
        d.state = "Downloading"
        state = f"Downloading {p.fraction * 100:.0f}%" if p.fraction is not None else "Downloading"
        done = f"{human_bytes(p.done)} of {human_bytes(p.total)}" if p.total else human_bytes(p.done)
        eta = human_eta(p.eta) if p.total else ""
        self.tree.item(iid, values=(state, done, human_rate(p.rate) if p.rate else "", eta,
                                    f"{d.host}:{d.port}"))

    def _on_result(self, iid: str, result) -> None:
        d = self.downloads[iid]
        d.result = result
        d.state = "Done"
        rate = human_rate(result.size / result.elapsed) if result.elapsed > 0 else ""
        state = "Done" if result.verified else "Done (unverified: original server)"
        if result.resumed_from:
            state += f", resumed at {human_bytes(result.resumed_from)}"
        self.tree.item(iid, values=(state, human_bytes(result.size), rate, "", f"{d.host}:{d.port}"))
        self.form.set_status(f"Saved {result.path} ({human_bytes(result.size)})", "ok")
        self.app.set_status(f"Downloaded {d.name}")

    def _on_error(self, iid: str, err) -> None:
        d = self.downloads[iid]
        cancelled = d.task.state == "cancelled"
        d.state = "Cancelled" if cancelled else "Failed"
        text = "Cancelled" if cancelled else f"Failed: {err}"
        values = list(self.tree.item(iid, "values"))
        values[0], values[2], values[3] = text, "", ""
        self.tree.item(iid, values=values)
        self.form.set_status(f"{d.name}: {err}", "info" if cancelled else "error",
                             action=handoff.error_action(self.app, err))

    def _on_done(self) -> None:
        if not self.busy_tasks():
            self.form.spinner.stop()
        self._update_buttons()

    def _selected(self) -> Download | None:
        selection = self.tree.selection()
        return self.downloads.get(selection[0]) if selection else None

    def _cancel_selected(self) -> None:
        d = self._selected()
        if d is None or not d.task.running:
            running = [x for x in self.downloads.values() if x.task.running]
            d = running[-1] if running else None
        if d is not None:
            d.task.cancel()
            self.tree.item(d.iid, values=("Cancelling…", *self.tree.item(d.iid, "values")[1:]))

    def _open_selected(self) -> None:
        d = self._selected()
        if d is not None and d.result is not None:
            try:
                self.opener(Path(d.result.path).parent)
            except CannotOpen as exc:
                self.form.set_status(str(exc), "error")

    def mail_selected(self) -> None:
        """The selected download (finished), attached to a new message."""
        d = self._selected()
        if d is not None and d.result is not None:
            handoff.attach_to_mail(self.app, [str(d.result.path)])

    def reveal(self, item: str) -> None:
        """A download (its row in the list)."""
        if self.tree.exists(item):
            self.tree.selection_set(item)
            self.tree.see(item)

    def _clear_finished(self) -> None:
        for iid, d in list(self.downloads.items()):
            if not d.task.running:
                self.tree.delete(iid)
                del self.downloads[iid]
        self._update_buttons()

    def _update_buttons(self) -> None:
        d = self._selected()
        self.open_button.state(["!disabled"] if d is not None and d.result is not None else ["disabled"])
        self.mail_button.state(["!disabled"] if d is not None and d.result is not None else ["disabled"])
        any_running = any(x.task.running for x in self.downloads.values())
        self.cancel_button.state(["!disabled"] if any_running else ["disabled"])
        finished = any(not x.task.running for x in self.downloads.values())
        self.clear_button.state(["!disabled"] if finished else ["disabled"])

    # -- remote browsing ---------------------------------------------------------------
    def _browse(self) -> None:
        values = self.form.values()
        errors = [self.form.field_error(n) for n in ("host", "port")]
        if any(errors):
            self.form.validate()
            return
        start = values["file"].rsplit("/", 1)[0] if "/" in values["file"] else ""
        self.browser = RemoteBrowser(self, self.app, values["host"], values["port"], start,
                                     use_tls=values["tls"], verify=values["verify"],
                                     on_pick=lambda path: self.form.set("file", path),
                                     log=self.transcript.append)

    # -- tab hooks -----------------------------------------------------------------------
    def on_theme_changed(self, palette) -> None:
        self.transcript.set_palette(palette)

    def on_shown(self) -> None:
        self.form.widgets["file" if self.form.get("host") else "host"].focus_set()
