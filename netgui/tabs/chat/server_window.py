"""Tools → Start chat server…: run netgui's line-chat server from the window."""

from __future__ import annotations

import tkinter as tk
from tkinter import ttk

from netgui.servers.chat import DEFAULT_PORT, ChatServer
from netgui.ui.form import Field, Form
from netgui.ui.transcript import TranscriptPane


def _serve(ctx, host: str, port: int) -> None:
    """Worker: run the server until cancelled, reporting its port and the client list."""
    server = ChatServer(host, port, log=ctx.log)
    server.start()
    ctx.event("listening", server.port)
    last = None
    try:
        while not ctx.token.wait(0.25):
            clients = server.clients
            if clients != last:
                ctx.event("clients", clients)
                last = clients
    finally:
        server.stop()


class ChatServerWindow(tk.Toplevel):
    """A small window: address form, Start/Stop, connected clients and the server's log."""

    def __init__(self, app) -> None:
        super().__init__(app.root)
        self.app = app
        self.title("Chat server")
        self.geometry("520x460")
        self.task = None
        body = ttk.Frame(self, padding=10)
        body.pack(fill="both", expand=True)
        ttk.Label(body, text="netgui's line-chat server: anyone who connects sees every line sent.",
                  style="Muted.TLabel", wraplength=480).pack(anchor="w", pady=(0, 6))
        self.form = Form(body, [
            Field("host", "Listen on", default="127.0.0.1", required=True,
                  help="0.0.0.0 for every interface"),
            Field("port", "Port", kind="port", default=DEFAULT_PORT, minimum=0),
        ], on_submit=self.start, submit_text="Start", settings=app.settings, store_key="tools.chat_server")
        self.form.pack(fill="x")
        self.stop_button = self.form.add_button("Stop", self.stop, enabled=False)
        ttk.Label(body, text="Connected clients", style="Muted.TLabel").pack(anchor="w", pady=(8, 0))
        self.clients = tk.Listbox(body, height=5, activestyle="none")
        self.clients.pack(fill="x")
        self.log = TranscriptPane(body, max_lines=2000, palette=app.theme)
        self.log.pack(fill="both", expand=True, pady=(8, 0))
        self.protocol("WM_DELETE_WINDOW", self.close)

    @property
    def running(self) -> bool:
        return self.task is not None and self.task.running

    def start(self, values: dict) -> None:
        self.form.set_busy(True, f"Starting on {values['host']}:{values['port']}")
        self.stop_button.state(["!disabled"])
        self.task = self.app.runner.submit(
            _serve, values["host"], values["port"], name="Chat server",
            on_event=self._on_event, on_log=self.log.append,
            on_error=lambda err: self.form.set_status(str(err) if type(err).__name__ != "Cancelled" else "Stopped",
                                                      "error" if type(err).__name__ != "Cancelled" else "info"),
            on_done=self._on_done)

    def _on_event(self, kind: str, payload) -> None:
        if kind == "listening":
            self.port = payload
            self.form.spinner.stop()
            self.form.set_status(f"Listening on port {payload}", "ok")
            self.app.set_status(f"Chat server listening on port {payload}")
        elif kind == "clients":
            self.clients.delete(0, "end")
            if payload:
                self.clients.insert("end", *payload)

    def _on_done(self, task) -> None:
        self.form.set_busy(False)
        try:
            self.stop_button.state(["disabled"])
        except tk.TclError:
            pass
        self.clients.delete(0, "end")

    def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()

    def close(self) -> None:
        self.stop()
        self.destroy()


def open(app) -> ChatServerWindow:  # noqa: A001 - the ToolSpec entry point is called "open"
    """Open the chat-server window."""
    return ChatServerWindow(app)
