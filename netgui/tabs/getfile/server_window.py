"""Tools → Serve a folder (getfile)…: run netgui's getfile server from the window.

The server runs in its own threads; its access log reaches the window through a queue
that an ``after()`` tick drains, together with the live counters. Starting and stopping
go through ``app.runner`` so the window never waits on a socket.
"""

from __future__ import annotations

import os
import queue
import threading
import tkinter as tk
from pathlib import Path
from tkinter import ttk

from netgui.fmt import human_bytes
from netgui.net.errors import NetError
from netgui.servers.getfile import DEFAULT_PORT, GetfileServer, server_tls_context
from netgui.ui.form import Field, Form
from netgui.ui.transcript import TranscriptPane

REFRESH_MS = 250


def _start_server(ctx, root: str, host: str, port: int, log, cert: str = "", key: str = ""):
    try:
        tls = server_tls_context(cert, key) if cert else None
        return GetfileServer(root, host=host, port=port, log=log, tls=tls).start()
    except ValueError as exc:
        raise NetError(str(exc)) from exc
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        raise NetError(f"Cannot listen on {host} port {port}: {reason}") from exc


def _stop_server(ctx, server: GetfileServer) -> None:
    server.stop()


class ServeWindow(tk.Toplevel):
    """Root folder, port, optional TLS, Start/Stop, connected clients, bytes served, access log."""

    def __init__(self, app):
        super().__init__(app.root)
        self.app = app
        self.server: GetfileServer | None = None
        self.lines: queue.Queue = queue.Queue()
        self._after = None
        self.title("Serve a folder (getfile)")
        self.geometry("660x520")
        frame = ttk.Frame(self, padding=10)
        frame.pack(fill="both", expand=True)
        self.form = Form(frame, [
            Field("root", "Folder to serve", kind="folder", required=True, default=str(Path.home()),
                  validator=lambda v: None if Path(v).is_dir() else "No such folder"),
            Field("port", "Port", kind="port", default=DEFAULT_PORT, required=True),
            Field("public", "Allow other computers (listen on every interface)", kind="check",
                  default=False),
            Field("cert", "TLS certificate", kind="file", help="optional (PEM): offers STARTTLS",
                  validator=lambda v: None if not v or Path(v).is_file() else "No such file"),
            Field("key", "TLS private key", kind="file", help="if not inside the certificate file",
                  validator=lambda v: None if not v or Path(v).is_file() else "No such file"),
        ], on_submit=self.start, submit_text="Start", settings=app.settings, store_key="getfile.serve")
        self.form.pack(side="top", fill="x")
        self.stop_button = self.form.add_button("Stop", self.stop, enabled=False)
        counters = ttk.Frame(frame)
        counters.pack(side="top", fill="x", pady=(10, 4))
        self.state_label = ttk.Label(counters, text="Stopped")
        self.state_label.grid(row=0, column=0, columnspan=4, sticky="w")
        self.clients_label = ttk.Label(counters, text="Connected clients: 0")
        self.clients_label.grid(row=1, column=0, sticky="w", padx=(0, 24))
        self.requests_label = ttk.Label(counters, text="Requests: 0")
        self.requests_label.grid(row=1, column=1, sticky="w", padx=(0, 24))
        self.bytes_label = ttk.Label(counters, text="Bytes served: 0 B")
        self.bytes_label.grid(row=1, column=2, sticky="w")
        self.log_pane = TranscriptPane(frame, palette=app.theme, title="Access log")
        self.log_pane.pack(side="top", fill="both", expand=True)
        self.protocol("WM_DELETE_WINDOW", self.close)
        self.bind("<Destroy>", self._on_destroy)
        self._tick()

    # -- actions ---------------------------------------------------------------------------
    def start(self, values: dict) -> None:
        host = "0.0.0.0" if values["public"] else "127.0.0.1"
        self.form.set_busy(True, f"Starting on {host}:{values['port']}")
        self.app.runner.submit(_start_server, values["root"], host, values["port"], self._log,
                               values["cert"], values["key"], name="Start getfile server",
                               on_result=self._started,
                               on_error=self._failed)

    def _log(self, direction: str, text: str) -> None:
        self.lines.put((direction, text))  # server threads: never touch widgets here

    def _started(self, server: GetfileServer) -> None:
        if not self.winfo_exists():
            server.stop()
            return
        self.server = server
        self.form.set_busy(True)
        self.form.spinner.stop()
        self.stop_button.state(["!disabled"])
        where = "every interface" if server.host == "0.0.0.0" else server.host
        tls = ", TLS offered" if server.tls is not None else ""
        self.form.set_status(f"Serving {server.root} on {where} port {server.port}{tls}", "ok")
        host = "any address of this computer" if server.host == "0.0.0.0" else server.host
        self.state_label.configure(text=f"Running: getfile clients (netgui or original) connect "
                                        f"to {host}, port {server.port}")

    def _failed(self, err) -> None:
        self.form.set_busy(False)
        self.form.set_status(f"Cannot start: {err}", "error")

    def stop(self) -> None:
        server, self.server = self.server, None
        if server is None:
            return
        self.stop_button.state(["disabled"])
        self.form.set_status("Stopping…")
        self.app.runner.submit(_stop_server, server, name="Stop getfile server",
                               on_done=lambda task: self._stopped())

    def _stopped(self) -> None:
        if not self.winfo_exists():
            return
        self.form.set_busy(False)
        self.form.set_status("Stopped")
        self.state_label.configure(text="Stopped")

    def close(self) -> None:
        if self.server is not None:
            self.stop()
        if self._after is not None:
            self.after_cancel(self._after)
            self._after = None
        self.destroy()

    def _on_destroy(self, event) -> None:
        """Destroyed with the main window (quit): stop the server without waiting for it."""
        if event.widget is not self:
            return
        server, self.server = self.server, None
        if server is not None:
            threading.Thread(target=server.stop, name="getfile-serve-stop", daemon=True).start()

    # -- live view ---------------------------------------------------------------------------
    def _tick(self) -> None:
        for _ in range(200):
            try:
                direction, text = self.lines.get_nowait()
            except queue.Empty:
                break
            self.log_pane.append(direction, text)
        if self.server is not None:
            stats = self.server.stats
            self.clients_label.configure(text=f"Connected clients: {stats.clients_connected}")
            self.requests_label.configure(text=f"Requests: {stats.requests}")
            self.bytes_label.configure(text=f"Bytes served: {human_bytes(stats.bytes_served)}")
        self._after = self.after(REFRESH_MS, self._tick)


def open(app) -> ServeWindow:  # noqa: A001 - the ToolSpec's function name
    """Open the Serve-a-folder window (called from the Tools menu)."""
    return ServeWindow(app)
