"""The base class of every notebook tab."""

from __future__ import annotations

from tkinter import ttk

from netgui.timeline import Origin


class Tab(ttk.Frame):
    """A tab builds widgets, collects input with a Form, starts work through
    ``app.runner`` and renders what arrives. It never opens a socket.

    Subclasses set ``title`` and ``key`` (as in ``netgui.tabs.TABS``) and build their
    widgets in ``__init__``.
    """

    title = "Tab"
    key = ""

    def __init__(self, master, app, **kw):
        super().__init__(master, padding=8, **kw)
        self.app = app
        self.tasks: list = []

    def track(self, task):
        """Remember a task so the app can ask about it before quitting; returns it."""
        self.tasks = [t for t in self.tasks if t.running] + [task]
        return task

    def busy_tasks(self) -> list:
        """Tasks of this tab that are still running."""
        return [t for t in self.tasks if t.running]

    def origin(self, item: str = "", protocol: str = "", host: str = "", port: int | None = None,
               connection: str = "", secrets=()) -> Origin:
        """What a task's wire lines belong to, for the timeline (``submit(origin=...)``):
        ``item`` is this tab's own name for the conversation, transfer or request, which
        ``reveal(item)`` shows again."""
        return Origin(self.key, item, protocol, host, port, connection,
                      tuple(s for s in secrets if s))

    def reveal(self, item: str) -> None:
        """Show ``item`` (a timeline line's conversation, transfer, request …); the tab itself
        is already shown."""

    def on_theme_changed(self, palette) -> None:
        """Recolour classic Tk widgets; called when the user switches light/dark."""

    def on_shown(self) -> None:
        """Called each time the tab becomes the selected one (focus the first field, …)."""
