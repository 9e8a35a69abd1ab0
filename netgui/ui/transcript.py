"""The transcript pane: the wire conversation, timestamped, redacted, capped."""

from __future__ import annotations

import time
import tkinter as tk
from tkinter import filedialog, ttk

from ..net.redact import redact
from .theme import LIGHT, Palette, monospace, style_text

MARKS = {">": "→", "<": "←", "*": "·", "!": "!"}
TAGS = {">": "sent", "<": "received", "*": "info", "!": "error"}


class TranscriptPane(ttk.Frame):
    """A read-only, capped log of wire lines with Copy, Save and Clear.

    ``append(direction, text)``: direction '>' sent, '<' received, '*' info, '!' error.
    Every line passes through ``redact`` (and the pane's known secrets) first.
    """

    def __init__(self, master, max_lines: int = 5000, palette: Palette = LIGHT, **kw):
        super().__init__(master, **kw)
        self.max_lines = max_lines
        self.secrets: list[str] = []
        self._lines = 0
        bar = ttk.Frame(self)
        bar.pack(side="top", fill="x")
        ttk.Label(bar, text="Transcript", style="Muted.TLabel").pack(side="left", padx=(2, 8))
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
        """Add one or more lines (text may contain newlines)."""
        stamp = time.strftime("%H:%M:%S") + f".{int(time.time() * 1000) % 1000:03d} "
        tag = TAGS.get(direction, "info")
        mark = MARKS.get(direction, direction)
        lines = redact(str(text).rstrip("\n"), self.secrets).split("\n") if text else [""]
        self.text.configure(state="normal")
        at_end = self.text.yview()[1] >= 0.999
        for line in lines:
            line = redact(line, self.secrets)
            self.text.insert("end", stamp, ("time",), f"{mark} {line}\n", (tag,))
        self._lines += len(lines)
        if self._lines > self.max_lines:
            excess = self._lines - self.max_lines
            self.text.delete("1.0", f"{excess + 1}.0")
            self._lines = self.max_lines
        self.text.configure(state="disabled")
        if at_end:
            self.text.see("end")

    def contents(self) -> str:
        return self.text.get("1.0", "end-1c")

    def clear(self) -> None:
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
