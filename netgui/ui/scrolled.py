"""A frame that scrolls its content vertically when the window is too short for it."""

from __future__ import annotations

import tkinter as tk
from tkinter import ttk


class ScrolledFrame(ttk.Frame):
    """A frame whose ``inner`` part scrolls when the window is too short for it (a long form
    on an 800x600 screen); the scrollbar shows only then. ``app`` (optional) keeps the
    canvas's background with the theme."""

    def __init__(self, master, app=None):
        super().__init__(master)
        self.canvas = tk.Canvas(self, highlightthickness=0, borderwidth=0,
                                background=app.theme.bg if app is not None else None)
        self.bar = ttk.Scrollbar(self, orient="vertical", command=self.canvas.yview)
        self.inner = ttk.Frame(self.canvas)
        self._item = self.canvas.create_window(0, 0, window=self.inner, anchor="nw")
        self.canvas.configure(yscrollcommand=self.bar.set)
        self.canvas.pack(side="left", fill="both", expand=True)
        self.inner.bind("<Configure>", lambda e: self._fit())
        self.canvas.bind("<Configure>", self._resized)
        if app is not None:
            app.follow_theme(self, lambda palette: self.canvas.configure(background=palette.bg))

    def _resized(self, event) -> None:
        # as wide as the window, never narrower than the content wants (then its right edge
        # is cut, as in a window too small, rather than every entry squeezed)
        self.canvas.itemconfigure(self._item, width=max(event.width, self.inner.winfo_reqwidth()))
        self._fit()

    def _fit(self) -> None:
        height = self.inner.winfo_reqheight()
        self.canvas.configure(scrollregion=(0, 0, self.inner.winfo_reqwidth(), height))
        needed = height > self.canvas.winfo_height() > 1
        if needed and not self.bar.winfo_ismapped():
            self.bar.pack(side="right", fill="y", before=self.canvas)
        elif not needed and self.bar.winfo_ismapped():
            self.bar.pack_forget()
            self.canvas.yview_moveto(0)

    def to_top(self) -> None:
        self.canvas.yview_moveto(0)
