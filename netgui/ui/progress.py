"""A progress row: name, bar, and "12.3 MiB of 40 MiB · 85.0 MiB/s · 0:12 left"."""

from __future__ import annotations

from tkinter import ttk

from netgui.fmt import human_bytes, human_eta, human_rate

from .tasks import Progress


def describe_progress(p: Progress) -> str:
    """One line for a progress value."""
    parts = [f"{human_bytes(p.done)} of {human_bytes(p.total)}" if p.total else human_bytes(p.done)]
    if p.rate is not None:
        parts.append(human_rate(p.rate))
    if p.eta is not None and p.total:
        parts.append(f"{human_eta(p.eta)} left")
    return " · ".join(parts)


class ProgressRow(ttk.Frame):
    """Determinate when the total is known, indeterminate otherwise."""

    def __init__(self, master, title: str = "", **kw):
        super().__init__(master, **kw)
        self.title = ttk.Label(self, text=title)
        self.bar = ttk.Progressbar(self, mode="determinate", maximum=1000, length=220)
        self.detail = ttk.Label(self, text="", style="Muted.TLabel")
        self.title.grid(row=0, column=0, sticky="w", padx=(0, 8))
        self.bar.grid(row=0, column=1, sticky="ew")
        self.detail.grid(row=0, column=2, sticky="w", padx=(8, 0))
        self.columnconfigure(1, weight=1)
        self._indeterminate = False

    def update_progress(self, p: Progress) -> None:
        fraction = p.fraction
        if fraction is None:
            if not self._indeterminate:
                self.bar.configure(mode="indeterminate")
                self.bar.start(15)
                self._indeterminate = True
        else:
            if self._indeterminate:
                self.bar.stop()
                self.bar.configure(mode="determinate")
                self._indeterminate = False
            self.bar["value"] = fraction * 1000
        self.detail.configure(text=describe_progress(p))

    def update(self, p: Progress | None = None) -> None:  # noqa: D102 - Misc.update() without argument
        if p is None:
            super().update()
        else:
            self.update_progress(p)

    def destroy(self) -> None:
        self.bar.stop()
        super().destroy()

    def finish(self, text: str) -> None:
        if self._indeterminate:
            self.bar.stop()
            self.bar.configure(mode="determinate")
            self._indeterminate = False
        self.detail.configure(text=text)
