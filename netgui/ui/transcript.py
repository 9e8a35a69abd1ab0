"""The transcript pane: the wire conversation, timestamped, redacted, capped."""

from __future__ import annotations

import time
import tkinter as tk
from tkinter import filedialog, ttk

from netgui.net.redact import redact

from .theme import LIGHT, Palette, monospace, style_text

MARKS = {">": "→", "<": "←", "*": "·", "!": "!"}
TAGS = {">": "sent", "<": "received", "*": "info", "!": "error"}
FLUSH_INTERVAL = 0.08


class TranscriptPane(ttk.Frame):
    """A read-only, capped log of wire lines with Copy, Save and Clear.

    ``append(direction, text)``: direction '>' sent, '<' received, '*' info, '!' error.
    Every line passes through ``redact`` (and the pane's known secrets) first.
    """

    def __init__(self, master, max_lines: int = 5000, palette: Palette = LIGHT,
                 title: str = "Transcript", **kw):
        super().__init__(master, **kw)
        self.max_lines = max_lines
        self.secrets: list[str] = []
        self._lines = 0
        self._pending: list[str] = []
        self._flush_id = None
        self._last_flush = 0.0
        bar = ttk.Frame(self)
        bar.pack(side="top", fill="x")
        ttk.Label(bar, text=title, style="Muted.TLabel").pack(side="left", padx=(2, 8))
        for label, command in (("Clear", self.clear), ("Save…", self.save_dialog), ("Copy", self.copy)):
            ttk.Button(bar, text=label, command=command).pack(side="right", padx=1)
        body = ttk.Frame(self)
        body.pack(side="top", fill="both", expand=True)
        self.text = tk.Text(body, height=8, wrap="none", state="disabled", font=monospace(self),
                            undo=False)
        scroll = ttk.Scrollbar(body, orient="vertical", command=self.text.yview)
        self.text.configure(yscrollcommand=scroll.set)
        scroll.pack(side="right", fill="y")
        self.text.pack(side="left", fill="both", expand=True)
        self.set_palette(palette)

    def set_palette(self, palette: Palette) -> None:
        style_text(self.text, palette)
        self.text.tag_configure("time", foreground=palette.muted)
        self.text.tag_configure("sent", foreground=palette.sent)
        self.text.tag_configure("received", foreground=palette.received)
        self.text.tag_configure("info", foreground=palette.muted)
        self.text.tag_configure("error", foreground=palette.error)

    def append(self, direction: str, text: str) -> None:
        """Add one or more lines (text may contain newlines).

        Lines are buffered and written in one Tk call per event-loop turn, so a
        flood of lines costs a few Tcl calls per tick, not several per line.
        """
        now = time.time()
        stamp = time.strftime("%H:%M:%S", time.localtime(now)) + f".{int(now * 1000) % 1000:03d} "
        tag = TAGS.get(direction, "info")
        mark = MARKS.get(direction, direction)
        for line in (str(text).rstrip("\n").split("\n") if text else [""]):
            self._pending.extend((stamp, "time", f"{mark} {redact(line, self.secrets)}\n", tag))
        if self._flush_id is None:
            # At most one redraw per FLUSH_INTERVAL: a flood costs a few Tk calls a tick.
            wait = FLUSH_INTERVAL - (time.monotonic() - self._last_flush)
            self._flush_id = self.after(max(0, int(wait * 1000)), self.flush) if wait > 0 \
                else self.after_idle(self.flush)

    def flush(self) -> None:
        """Write buffered lines now."""
        if self._flush_id is not None:
            self.after_cancel(self._flush_id)
            self._flush_id = None
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        self._last_flush = time.monotonic()
        if len(pending) > 4 * self.max_lines:  # lines the cap would delete at once: skip them
            pending = pending[-4 * self.max_lines:]
        at_end = self.text.yview()[1] >= 0.999
        self.text.configure(state="normal")
        self.text.insert("end", *pending)
        self._lines += len(pending) // 4
        if self._lines > self.max_lines:
            excess = self._lines - self.max_lines
            self.text.delete("1.0", f"{excess + 1}.0")
            self._lines = self.max_lines
        self.text.configure(state="disabled")
        if at_end:
            self.text.see("end")

    def destroy(self) -> None:
        if self._flush_id is not None:  # Tk would still fire it, into a deleted command
            self.after_cancel(self._flush_id)
            self._flush_id = None
        super().destroy()

    def contents(self) -> str:
        self.flush()
        return self.text.get("1.0", "end-1c")

    def clear(self) -> None:
        self._pending = []
        self.text.configure(state="normal")
        self.text.delete("1.0", "end")
        self.text.configure(state="disabled")
        self._lines = 0

    def copy(self) -> None:
        selected = self.text.tag_ranges("sel")
        data = self.text.get(*selected) if selected else self.contents()
        self.clipboard_clear()
        self.clipboard_append(data)

    def save(self, path: str) -> None:
        with open(path, "w", encoding="utf-8") as f:
            f.write(self.contents())

    def save_dialog(self) -> None:
        path = filedialog.asksaveasfilename(parent=self, title="Save transcript",
                                            defaultextension=".txt", initialfile="transcript.txt")
        if path:
            self.save(path)
