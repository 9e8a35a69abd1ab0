"""The Web tab's WebSocket side: a connection for ws:// and wss:// URLs and its message log.

The connection runs in one task of the runner (``run_websocket``: connect, then receive
until closed or cancelled); every message either way arrives as an event and is drawn in
batches. Sending, pinging and closing are short tasks of their own that use the open
``WebSocket`` (the tab never touches its socket).
"""

from __future__ import annotations

import json
import time
from collections import deque
import tkinter as tk
from tkinter import font as tkfont
from tkinter import ttk
from typing import Callable

from netgui.fmt import human_bytes
from netgui.net.errors import NetError
from netgui.net.http.request import basic_auth
from netgui.net.http.websocket import Message, WebSocket, close_text
from netgui.ui.theme import LIGHT, Palette, monospace, style_text
from netgui.ui.treefill import insert_rows, row_options

KINDS = ("Text", "JSON", "Binary (hex)")
ROWS = 2000       # rows kept in the log (older ones are dropped from the view)
FLUSH_MS = 50     # messages are drawn at most this often
DETAIL = 256 * 1024  # characters of one message shown in full below the log


# -- worker functions (run in the task runner's threads) -------------------------------------

def run_websocket(ctx, url: str, headers: list[tuple[str, str]], verify: bool, timeout: float,
                  secrets: tuple[str, ...]):
    """Connect, report ("open", ws) and every message ("message", Message), then receive
    until closed or cancelled; returns (close code, close reason)."""
    ws = WebSocket.connect(url, headers=headers, verify=verify, timeout=timeout, token=ctx.token,
                           log=ctx.log, secrets=secrets)
    ctx.event("open", ws)
    for message in list(ws.messages):  # frames that came with the upgrade answer
        ctx.event("message", message)
    ws.on_message = lambda message: ctx.event("message", message)
    ctx.status(f"WebSocket open to {url}")
    try:
        ws.run(ctx.token)
    finally:
        ws.on_message = None
        if not ws.closed:
            ws.abort()
    return ws.close_code, ws.close_reason


def send_message(ctx, ws: WebSocket, kind: str, payload) -> None:
    if kind == "binary":
        ws.send_binary(payload)
    elif kind == "ping":
        ws.ping(payload)
    else:
        ws.send_text(payload)


def close_websocket(ctx, ws: WebSocket, code: int, reason: str) -> None:
    ws.close(code, reason)


def parse_outgoing(kind: str, text: str):
    """(wire kind, payload) for what the user typed, or raises ValueError with a reason."""
    if kind == "JSON":
        try:
            return "text", json.dumps(json.loads(text), ensure_ascii=False)
        except ValueError as exc:
            raise ValueError(f"Not JSON: {exc}") from None
    if kind.startswith("Binary"):
        try:
            return "binary", bytes.fromhex(text)
        except ValueError:
            raise ValueError("Binary: type hex bytes, e.g. 01 ff 7e") from None
    return "text", text


def describe(message: Message) -> str:
    """A message in full for the detail pane (JSON indented, binary as hex)."""
    data = message.data
    if isinstance(data, bytes):
        return data[:DETAIL // 3].hex(" ") + (" …" if len(data) > DETAIL // 3 else "")
    try:
        value = json.loads(data)
        if isinstance(value, (dict, list)):
            data = json.dumps(value, indent=2, ensure_ascii=False)
    except ValueError:
        pass
    return data if len(data) <= DETAIL else data[:DETAIL] + " …"


class WebSocketView(ttk.Frame):
    """The Messages pane: state, the log, the full text of the chosen message, a send box.

    ``on_state(open_or_connecting)`` tells the tab when the form must stay busy."""

    def __init__(self, master, app, transcript, on_state: Callable[[bool], None],
                 palette: Palette = LIGHT):
        super().__init__(master)
        self.app = app
        self.transcript = transcript
        self.on_state = on_state
        self.ws: WebSocket | None = None
        self.task = None
        self.url = ""
        self.messages: dict[str, Message] = {}
        self._queue: list[Message] = []
        self._flush_job = None
        self._outbox: deque = deque()
        self._sending = None

        self.state_label = ttk.Label(self, text="Not connected: type a ws:// or wss:// URL and "
                                                "press Connect.", style="Muted.TLabel", anchor="w")
        self.state_label.pack(side="top", fill="x")
        # The send box and the close row are packed first, at the bottom: they stay visible
        # however small the window; the log and the chosen message share what is left.
        row = ttk.Frame(self)
        row.pack(side="bottom", fill="x", pady=(4, 0))
        self.close_button = ttk.Button(row, text="Close", command=self.close)
        self.close_button.pack(side="right")
        ttk.Label(row, text="Close code:").pack(side="left")
        self.close_code = tk.StringVar(self, value="1000")
        ttk.Entry(row, textvariable=self.close_code, width=5).pack(side="left", padx=(4, 8))
        ttk.Label(row, text="Reason:").pack(side="left")
        self.close_reason = tk.StringVar(self)
        ttk.Entry(row, textvariable=self.close_reason, width=12).pack(
            side="left", padx=(4, 8), fill="x", expand=True)
        self.message_status = ttk.Label(self, text="", style="Muted.TLabel", anchor="w")
        self.message_status.pack(side="bottom", fill="x")
        compose = ttk.Frame(self)
        compose.pack(side="bottom", fill="x", pady=(6, 0))
        compose.columnconfigure(0, weight=1)
        self.text = tk.Text(compose, height=3, width=20, wrap="word", undo=True,
                            font=monospace(self), padx=4, pady=2)
        self.text.grid(row=0, column=0, rowspan=3, sticky="nsew")
        self.text.bind("<Control-Return>", lambda e: (self.send(), "break")[1])
        self.kind = tk.StringVar(self, value=KINDS[0])
        ttk.Combobox(compose, textvariable=self.kind, values=KINDS, state="readonly",
                     width=10).grid(row=0, column=1, sticky="ew", padx=(6, 0))
        self.send_button = ttk.Button(compose, text="Send", command=self.send)
        self.send_button.grid(row=1, column=1, sticky="ew", padx=(6, 0), pady=(4, 0))
        self.ping_button = ttk.Button(compose, text="Ping", command=self.ping)
        self.ping_button.grid(row=2, column=1, sticky="ew", padx=(6, 0), pady=(4, 0))

        panes = ttk.PanedWindow(self, orient="vertical")
        panes.pack(side="top", fill="both", expand=True, pady=(4, 0))
        box = ttk.Frame(panes)
        self.log = ttk.Treeview(box, columns=("time", "dir", "kind", "size", "data"),
                                show="headings", selectmode="browse", height=6)
        measure = tkfont.nametofont("TkDefaultFont").measure
        for column, text, sample, stretch in (("time", "Time", "00:00:00.000", False),
                                              ("dir", "", "←", False),
                                              ("kind", "Kind", "binary", False),
                                              ("size", "Size", "999.9 KiB", False),
                                              ("data", "Data", "x" * 30, True)):
            self.log.heading(column, text=text, anchor="w")
            self.log.column(column, width=measure(sample) + 16, stretch=stretch, anchor="w")
        scroll = ttk.Scrollbar(box, orient="vertical", command=self.log.yview)
        self.log.configure(yscrollcommand=scroll.set)
        scroll.pack(side="right", fill="y")
        self.log.pack(side="left", fill="both", expand=True)
        self.log.bind("<<TreeviewSelect>>", lambda e: self._show_selected())
        panes.add(box, weight=3)
        detail = ttk.Frame(panes)
        self.detail = tk.Text(detail, height=3, wrap="word", state="disabled", font=monospace(self),
                              padx=4, pady=2)
        self.detail.pack(fill="both", expand=True)
        panes.add(detail, weight=1)

        self.set_palette(palette)
        self._set_open(False)

    # -- the connection ---------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.task is not None and self.task.running

    def connect(self, url: str, headers: list[tuple[str, str]], verify: bool, timeout: float,
                username: str = "", password: str = ""):
        """Start the connection task (the caller tracks the returned task); a user name
        adds basic auth to the upgrade request."""
        if self.running:
            return None
        secrets = (password,) if password else ()
        if username:
            headers = headers + [("Authorization", basic_auth(username, password))]
        self.url = url
        self.clear()
        self._state(f"Connecting to {url}…")
        self.on_state(True)
        self.task = self.app.runner.submit(
            run_websocket, url, headers, verify, timeout, secrets, name=f"WebSocket {url}",
            on_event=self._on_event, on_log=self.transcript.append,
            on_result=self._on_closed, on_error=self._on_error, on_done=self._on_done)
        return self.task

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()

    def _on_event(self, kind: str, payload) -> None:
        if kind == "open":
            self.ws = payload
            subprotocol = f" · subprotocol {payload.subprotocol}" if payload.subprotocol else ""
            tls = f" · {payload.tls.version}" if payload.tls is not None else ""
            self._state(f"Open: {self.url}{subprotocol}{tls}", "ok")
            self._set_open(True)
        elif kind == "message":
            self._queue.append(payload)
            if self._flush_job is None:
                self._flush_job = self.after(FLUSH_MS, self._flush)

    def _on_closed(self, result) -> None:
        code, reason = result
        self._state(f"Closed: {close_text(code, reason)}", "error" if code not in (1000, None)
                    else "info")

    def _on_error(self, err: NetError) -> None:
        self._state(str(err), "error")

    def _on_done(self, task) -> None:
        self._flush()
        if task.state == "cancelled":
            self._state("Closed: cancelled here (no close frame sent)", "info")
        self.ws = None
        self._set_open(False)
        self.on_state(False)

    # -- sending ------------------------------------------------------------------------------
    def send(self, kind: str | None = None, text: str | None = None) -> bool:
        if self.ws is None:
            return False
        kind = kind or self.kind.get()
        text = self.text.get("1.0", "end-1c") if text is None else text
        try:
            wire, payload = parse_outgoing(kind, text)
        except ValueError as exc:
            self.message_status.configure(text=str(exc), style="Error.TLabel")
            return False
        self.message_status.configure(text="", style="Muted.TLabel")
        self._submit(send_message, wire, payload, name="WebSocket send")
        return True

    def ping(self) -> None:
        if self.ws is not None:
            self._submit(send_message, "ping", b"netgui", name="WebSocket ping")

    def close(self) -> None:
        if self.ws is None:
            return
        try:
            code = int(self.close_code.get())
        except ValueError:
            code = 0
        if not (code == 1000 or 3000 <= code <= 4999):
            self.message_status.configure(text="Close code: 1000, or 3000–4999 for your own",
                                          style="Error.TLabel")
            return
        self._state(f"Closing with {close_text(code, self.close_reason.get().strip())}…")
        self._submit(close_websocket, code, self.close_reason.get().strip()[:120],
                     name="WebSocket close")

    def _submit(self, fn, *args, name: str) -> None:
        """Queue a send: one at a time, in the order asked (tasks run in parallel)."""
        self._outbox.append((fn, args, name))
        if self._sending is None:
            self._send_next()

    def _send_next(self, task=None) -> None:
        self._sending = None
        if not self._outbox or self.ws is None:
            self._outbox.clear()
            return
        fn, args, name = self._outbox.popleft()
        self._sending = self.app.runner.submit(
            fn, self.ws, *args, name=name, on_done=self._send_next,
            on_error=lambda err: self.message_status.configure(text=str(err), style="Error.TLabel"))

    # -- showing ------------------------------------------------------------------------------
    def _flush(self) -> None:
        self._flush_job = None
        queued, self._queue = self._queue, []
        if not queued:
            return
        queued = queued[-ROWS:]
        rows = []
        for message in queued:
            when = time.strftime("%H:%M:%S", time.localtime(message.when)) + \
                f".{int(message.when * 1000) % 1000:03d}"
            arrow = "→" if message.direction == ">" else "←"
            rows.append(row_options((when, arrow, message.kind, human_bytes(message.size),
                                     message.preview().replace("\n", " ")),
                                    tags=("sent" if message.direction == ">" else "received",)))
        at_end = not self.log.get_children() or self.log.yview()[1] >= 0.999
        for iid, message in zip(insert_rows(self.log, rows), queued):
            self.messages[iid] = message
        children = self.log.get_children()
        if len(children) > ROWS:
            old = children[:len(children) - ROWS]
            self.log.delete(*old)
            for iid in old:
                self.messages.pop(iid, None)
        if at_end:
            self.log.see(self.log.get_children()[-1])

    def rows(self) -> list[tuple[str, ...]]:
        """The log as shown (direction, kind, size, data), for tests."""
        return [tuple(str(v) for v in self.log.item(i, "values"))[1:] for i in self.log.get_children()]

    def _show_selected(self) -> None:
        selected = self.log.selection()
        message = self.messages.get(selected[0]) if selected else None
        self.detail.configure(state="normal")
        self.detail.delete("1.0", "end")
        if message is not None:
            self.detail.insert("1.0", describe(message))
        self.detail.configure(state="disabled")

    def clear(self) -> None:
        self.log.delete(*self.log.get_children())
        self.messages.clear()
        self._queue.clear()
        self._show_selected()

    def _state(self, text: str, kind: str = "info") -> None:
        style = {"error": "Error.TLabel", "ok": "Ok.TLabel"}.get(kind, "Status.TLabel")
        self.state_label.configure(text=text, style=style)

    def _set_open(self, is_open: bool) -> None:
        for button in (self.send_button, self.ping_button, self.close_button):
            button.state(["!disabled"] if is_open else ["disabled"])

    def set_palette(self, palette: Palette) -> None:
        style_text(self.text, palette)
        style_text(self.detail, palette)
        self.log.tag_configure("sent", foreground=palette.sent)
        self.log.tag_configure("received", foreground=palette.received)

    def destroy(self) -> None:
        if self._flush_job is not None:
            self.after_cancel(self._flush_job)
            self._flush_job = None
        super().destroy()
