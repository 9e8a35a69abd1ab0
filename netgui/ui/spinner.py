"""A small text spinner that shows work is going on."""

from __future__ import annotations

from tkinter import ttk

FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


class Spinner(ttk.Label):
    """A label that cycles through braille dots while started; blank while stopped."""

    def __init__(self, master, interval_ms: int = 90, **kw):
        super().__init__(master, width=2, anchor="center", **kw)
        self.interval_ms = interval_ms
        self._frame = 0
        self._after_id = None

    @property
    def spinning(self) -> bool:
        return self._after_id is not None

    def start(self) -> None:
        if self._after_id is None:
            self._tick()

    def stop(self) -> None:
        if self._after_id is not None:
            self.after_cancel(self._after_id)
            self._after_id = None
        self.configure(text="")

    def _tick(self) -> None:
        self.configure(text=FRAMES[self._frame % len(FRAMES)])
        self._frame += 1
        self._after_id = self.after(self.interval_ms, self._tick)

    def destroy(self) -> None:
        self.stop()
        super().destroy()
