"""An action offered beside a status or error line: a small button after the line that is
shown only while there is something to do (Diagnose, after a connection error), and the
same action in the line's context menu (right click)."""

from __future__ import annotations

from tkinter import ttk
from typing import Callable

from .links import popup

Action = tuple[str, Callable[[], object]]


class ActionSlot:
    """``offer((label, command))`` shows the button; ``offer(None)`` hides it."""

    def __init__(self, parent, line, **pack):
        self.line = line
        # packed before the line: a crowded row squeezes the text, never the button
        self.pack = {"side": "left", "padx": (6, 0), "before": line, **pack}
        self.action: Action | None = None
        self.button = ttk.Button(parent, command=self.invoke, style="Toolbutton")
        line.bind("<Button-3>", self._menu, add="+")

    def offer(self, action: Action | None) -> None:
        self.action = action
        if action is None:
            self.button.pack_forget()
        else:
            self.button.configure(text=action[0] + "…")
            if not self.button.winfo_ismapped():
                self.button.pack(**self.pack)

    @property
    def offered(self) -> str | None:
        return self.action[0] if self.action else None

    def invoke(self):
        return self.action[1]() if self.action else None

    def _menu(self, event):
        if self.action is not None:
            popup(self.line, [self.action], event)
            return "break"
        return None
