"""The Browse-server dialog: pick a remote file from netgui's server's listings."""

from __future__ import annotations

import time
import tkinter as tk
from tkinter import ttk

from netgui.fmt import human_bytes
from netgui.timeline import Origin
from netgui.ui.actions import ActionSlot

from .work import listing


def _join(folder: str, name: str) -> str:
    return f"{folder.rstrip('/')}/{name}" if folder else name


class RemoteBrowser(tk.Toplevel):
    """Lists a remote folder; double-click enters folders, Choose picks a file."""

    def __init__(self, master, app, host: str, port: int, folder: str = "", *, use_tls=False,
                 verify=True, on_pick=None, log=None):
        super().__init__(master)
        self.app, self.host, self.port = app, host, port
        self.use_tls, self.verify = use_tls, verify
        self.on_pick = on_pick or (lambda path: None)
        self.log = log
        self.folder = folder
        self.task = None
        self.entries: dict[str, object] = {}
        self.title(f"Files on {host}:{port}")
        self.transient(master.winfo_toplevel())
        self.geometry("560x420")
        frame = ttk.Frame(self, padding=10)
        frame.pack(fill="both", expand=True)
        top = ttk.Frame(frame)
        top.pack(side="top", fill="x")
        self.up_button = ttk.Button(top, text="↑ Up", command=self.go_up, width=6)
        self.up_button.pack(side="left")
        self.where = ttk.Label(top, text="/")
        self.where.pack(side="left", padx=8)
        body = ttk.Frame(frame)
        body.pack(side="top", fill="both", expand=True, pady=6)
        self.tree = ttk.Treeview(body, columns=("size", "modified"), selectmode="browse")
        self.tree.heading("#0", text="Name", anchor="w")
        self.tree.heading("size", text="Size", anchor="e")
        self.tree.heading("modified", text="Modified", anchor="w")
        self.tree.column("#0", width=260, stretch=True)
        self.tree.column("size", width=90, anchor="e", stretch=False)
        self.tree.column("modified", width=140, stretch=False)
        scroll = ttk.Scrollbar(body, orient="vertical", command=self.tree.yview)
        self.tree.configure(yscrollcommand=scroll.set)
        scroll.pack(side="right", fill="y")
        self.tree.pack(side="left", fill="both", expand=True)
        bottom = ttk.Frame(frame)
        bottom.pack(side="top", fill="x")
        self.status = ttk.Label(bottom, text="", style="Status.TLabel")
        self.status.pack(side="left", fill="x", expand=True)
        self.status_action = ActionSlot(bottom, self.status)
        ttk.Button(bottom, text="Close", command=self.close).pack(side="right")
        self.choose_button = ttk.Button(bottom, text="Choose", command=self.choose)
        self.choose_button.pack(side="right", padx=6)
        self.tree.bind("<Double-1>", lambda e: self.activate())
        self.tree.bind("<Return>", lambda e: self.activate())
        self.tree.bind("<BackSpace>", lambda e: self.go_up())
        self.bind("<Escape>", lambda e: self.close())
        self.protocol("WM_DELETE_WINDOW", self.close)
        self.load(folder)

    def load(self, folder: str) -> None:
        if self.task is not None and self.task.running:
            self.task.cancel()
        self.folder = folder.strip("/") if folder not in ("/",) else ""
        self.where.configure(text="/" + self.folder)
        self.status.configure(text=f"Listing /{self.folder} …", style="Status.TLabel")
        self.status_action.offer(None)
        self.tree.delete(*self.tree.get_children())
        self.entries.clear()
        self.task = self.app.runner.submit(
            listing, self.host, self.port, self.folder, use_tls=self.use_tls, verify=self.verify,
            name=f"List {self.host}:{self.port}/{self.folder}", on_result=self._show,
            on_error=self._failed, on_log=self.log,
            origin=Origin("getfile", f"browse {self.host}:{self.port}", "getfile", self.host, self.port,
                          f"getfile-browse-{self.host}:{self.port}"))

    def _show(self, entries) -> None:
        if not self.winfo_exists():
            return
        for entry in entries:
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(entry.mtime)) if entry.mtime else ""
            label = entry.name + ("/" if entry.is_dir else "")
            iid = self.tree.insert("", "end", text=label,
                                   values=("" if entry.is_dir else human_bytes(entry.size), when))
            self.entries[iid] = entry
        self.status.configure(text=f"{len(entries)} entries")
        children = self.tree.get_children()
        if children:
            self.tree.selection_set(children[0])
            self.tree.focus(children[0])
        self.tree.focus_set()

    def _failed(self, err) -> None:
        if self.winfo_exists():
            from netgui.tabs import handoff
            self.status.configure(text=str(err), style="Error.TLabel")
            self.status_action.offer(handoff.error_action(self.app, err))

    def activate(self) -> None:
        selection = self.tree.selection()
        if not selection:
            return
        entry = self.entries[selection[0]]
        if entry.is_dir:
            self.load(_join(self.folder, entry.name))
        else:
            self.choose()

    def go_up(self) -> None:
        if self.folder:
            self.load(self.folder.rsplit("/", 1)[0] if "/" in self.folder else "")

    def choose(self) -> None:
        selection = self.tree.selection()
        if not selection:
            return
        entry = self.entries[selection[0]]
        if entry.is_dir:
            self.load(_join(self.folder, entry.name))
            return
        self.on_pick(_join(self.folder, entry.name))
        self.close()

    def close(self) -> None:
        if self.task is not None and self.task.running:
            self.task.cancel()
        self.destroy()
