"""The main window: a notebook of tabs, a menu bar and a status bar."""

from __future__ import annotations

import gc
import importlib
import tkinter as tk
import traceback
from tkinter import ttk

from netgui.ui.tasks import TaskRunner
from netgui.ui.theme import apply_scaling, apply_theme

from .config import Secrets, Settings
from .resources import app_icon_paths
from .tabs import TABS, TOOLS, TabSpec, ToolSpec
from .ui import dialogs

DEFAULT_GEOMETRY = "1100x720"


class App:
    """The netgui application window.

    Tabs are imported and built the first time they are shown, so startup does not
    pay for every tab's imports. ``tabs`` and ``tools`` default to the registries in
    ``netgui.tabs``.
    """

    def __init__(self, root: tk.Tk | None = None, settings: Settings | None = None,
                 secrets: Secrets | None = None, tabs: list[TabSpec] | None = None,
                 tools: list[ToolSpec] | None = None):
        self.root = root or tk.Tk(className="netgui")
        self.settings = settings or Settings(background=True)
        self.secrets = secrets or Secrets()
        self.tab_specs = list(TABS if tabs is None else tabs)
        self.tool_specs = list(TOOLS if tools is None else tools)
        self.tabs: dict[str, object] = {}  # key -> built Tab
        self._frames: dict[str, ttk.Frame] = {}
        self._closing = False
        self._mapped = False
        self._status_task = None
        self._theme_listeners: list = []  # recolour(palette) callbacks of open windows

        self.root.title("netgui")
        self.root.minsize(720, 480)
        self._set_icon()
        apply_scaling(self.root)
        self.theme_name = tk.StringVar(self.root, value=self.settings.get("theme", "light"))
        self.theme = apply_theme(self.root, self.theme_name.get())
        self.runner = TaskRunner(self.root)
        self.runner.add_status_listener(self._on_task_status)
        self.timeline = self._open_timeline()
        self.runner.add_log_listener(self._record)

        self._build_menu()
        self._build_body()
        self._bind_keys()
        self._restore_geometry()
        self.root.protocol("WM_DELETE_WINDOW", self.quit)
        self.root.report_callback_exception = self._report_callback_exception

    # -- building -------------------------------------------------------------
    def _set_icon(self) -> None:
        paths = app_icon_paths()
        if not paths:
            return
        self._icons = [tk.PhotoImage(master=self.root, file=str(p)) for p in paths]
        self.root.iconphoto(True, *self._icons)

    def _build_menu(self) -> None:
        menubar = tk.Menu(self.root)
        file_menu = tk.Menu(menubar, tearoff=False)
        file_menu.add_command(label="Quit", accelerator="Ctrl+Q", command=self.quit)
        menubar.add_cascade(label="File", menu=file_menu, underline=0)

        view_menu = tk.Menu(menubar, tearoff=False)
        for name in ("light", "dark"):
            view_menu.add_radiobutton(label=f"{name.title()} theme", value=name, variable=self.theme_name,
                                      command=lambda: self.set_theme(self.theme_name.get()))
        menubar.add_cascade(label="View", menu=view_menu, underline=0)

        self.tools_menu = tk.Menu(menubar, tearoff=False)
        for spec in self.tool_specs:
            self.tools_menu.add_command(label=spec.label, command=lambda s=spec: self.open_tool(s),
                                        accelerator=spec.accelerator)
        if self.tool_specs:
            menubar.add_cascade(label="Tools", menu=self.tools_menu, underline=0)

        help_menu = tk.Menu(menubar, tearoff=False)
        help_menu.add_command(label="About netgui", command=self.show_about)
        menubar.add_cascade(label="Help", menu=help_menu, underline=0)
        self.root.configure(menu=menubar)
        self.menubar = menubar

    def _build_body(self) -> None:
        # The status bar is packed first so a small window squeezes the notebook, not it.
        bar = ttk.Frame(self.root, padding=(8, 3))
        bar.pack(side="bottom", fill="x")
        self.status = ttk.Label(bar, text="Ready", style="Status.TLabel", anchor="w")
        self.status.pack(side="left", fill="x", expand=True)
        self.tasks_label = ttk.Label(bar, text="", style="Status.TLabel")
        self.tasks_label.pack(side="right")
        self.keyring_label = ttk.Label(bar, text="", style="Status.TLabel")
        self.keyring_label.pack(side="right", padx=(0, 12))

        self.notebook = ttk.Notebook(self.root)
        for index, spec in enumerate(self.tab_specs):
            frame = ttk.Frame(self.notebook)
            self._frames[spec.key] = frame
            self.notebook.add(frame, text=spec.title, underline=0 if index < 9 else -1)
        self.notebook.pack(side="top", fill="both", expand=True, padx=6, pady=(6, 0))
        self.notebook.bind("<<NotebookTabChanged>>", self._on_tab_changed)
        if not self.tab_specs:
            ttk.Label(self.notebook, text="No tabs are installed.").place(relx=0.5, rely=0.5, anchor="center")
        # Probing the keyring imports every backend (slow, and some start subprocesses):
        # do it in a worker once the window is up.
        self._keyring_after = self.root.after(300, self._probe_keyring)

    def _bind_keys(self) -> None:
        root = self.root
        root.bind_all("<Control-q>", lambda e: self.quit())
        root.bind_all("<Control-Q>", lambda e: self.quit())
        # Tab switching is bound on the main window's own tag: on "all", Tk's <<NextWindow>>
        # virtual binding would take Ctrl+Tab first.
        root.bind("<Control-Tab>", lambda e: self.cycle_tab(1))
        for sequence in ("<Control-Shift-Tab>", "<Control-ISO_Left_Tab>"):
            try:
                root.bind(sequence, lambda e: self.cycle_tab(-1))
            except tk.TclError:  # ISO_Left_Tab is X11 only
                pass
        for n in range(1, 10):
            root.bind(f"<Control-Key-{n}>", lambda e, n=n: self.select_tab(n - 1))
        for spec in self.tool_specs:
            if spec.sequence:
                root.bind_all(spec.sequence, lambda e, s=spec: (self.open_tool(s), "break")[1])

    def _restore_geometry(self) -> None:
        geometry = self.settings.get("geometry") or DEFAULT_GEOMETRY
        try:
            self.root.geometry(geometry)
        except tk.TclError:
            self.root.geometry(DEFAULT_GEOMETRY)
        last = self.settings.get("last_tab")
        if last in self._frames:
            self.notebook.select(self._frames[last])
        # The selected tab is built once the window is on screen, so it shows at once.
        self.root.bind("<Map>", self._on_first_map, add="+")

    def _on_first_map(self, event) -> None:
        if event.widget is self.root and not self._mapped:
            self._mapped = True
            self.root.after_idle(self._on_tab_changed)

    # -- tabs -------------------------------------------------------------------
    def _on_tab_changed(self, event=None) -> None:
        key = self.current_tab_key()
        if key is None or not self._mapped:
            return
        tab = self._ensure_built(key)
        if tab is not None:
            tab.on_shown()

    def current_tab_key(self) -> str | None:
        try:
            selected = self.notebook.select()
        except tk.TclError:
            return None
        for key, frame in self._frames.items():
            if str(frame) == selected:
                return key
        return None

    def _ensure_built(self, key: str):
        """Import and build a tab the first time it is needed."""
        if key in self.tabs:
            return self.tabs[key]
        spec = next(s for s in self.tab_specs if s.key == key)
        frame = self._frames[key]
        try:
            module = importlib.import_module(spec.module)
            tab = getattr(module, spec.cls)(frame, self)
        except Exception as exc:
            traceback.print_exc()
            ttk.Label(frame, text=f"The {spec.title} tab could not be loaded: {exc}",
                      style="Error.TLabel").pack(padx=20, pady=20)
            self.tabs[key] = None
            return None
        tab.pack(fill="both", expand=True)
        self.tabs[key] = tab
        # The modules and widgets built so far live as long as the app: keep them out of
        # the cyclic GC's full collections, which otherwise pause the window for 25-50 ms
        # each when a tab creates many objects (a 10,000-message list).
        gc.freeze()
        return tab

    def tab(self, key: str):
        """The built tab for ``key`` (building it if needed)."""
        return self._ensure_built(key)

    def show_tab(self, key: str):
        """Select the tab ``key`` and return it (built if needed; None if it cannot be)."""
        frame = self._frames.get(key)
        if frame is None:
            return None
        self.notebook.select(frame)
        return self._ensure_built(key)

    def select_tab(self, index: int) -> None:
        if 0 <= index < len(self.tab_specs):
            self.notebook.select(index)

    def cycle_tab(self, step: int) -> str:
        count = len(self.tab_specs)
        if count:
            self.notebook.select((self.notebook.index("current") + step) % count)
        return "break"

    # -- menus --------------------------------------------------------------------
    def set_theme(self, name: str) -> None:
        """Switch light/dark. Tabs get ``on_theme_changed(palette)``; other windows
        register with ``follow_theme``."""
        self.theme_name.set(name)
        self.theme = apply_theme(self.root, name)
        self.settings.set("theme", name)
        for tab in self.tabs.values():
            if tab is not None:
                tab.on_theme_changed(self.theme)
        for recolour in list(self._theme_listeners):
            recolour(self.theme)

    def follow_theme(self, window: tk.Misc, recolour) -> None:
        """Call ``recolour(palette)`` on every theme switch until ``window`` is destroyed
        (for Toplevels whose classic Tk widgets the ttk theme does not colour)."""
        self._theme_listeners.append(recolour)

        def forget(event) -> None:
            if event.widget is window and recolour in self._theme_listeners:
                self._theme_listeners.remove(recolour)

        window.bind("<Destroy>", forget, add="+")

    def open_tool(self, spec: ToolSpec):
        try:
            return getattr(importlib.import_module(spec.module), spec.func)(self)
        except Exception as exc:
            traceback.print_exc()
            dialogs.show_error(self.root, spec.label, f"Could not open {spec.label}: {exc}")
            return None

    def show_about(self) -> dialogs.AboutDialog:
        return dialogs.AboutDialog(self.root, extra=self.secrets.describe())

    # -- the timeline ------------------------------------------------------------------
    def _open_timeline(self):
        """The store every task's transcript lines go to (limits from the settings)."""
        from .config import data_dir
        from .timeline import DEFAULT_MAX_DAYS, DEFAULT_MAX_MB, TimelineStore
        try:
            max_mb = float(self.settings.get("timeline.max_mb", DEFAULT_MAX_MB))
            max_days = float(self.settings.get("timeline.max_days", DEFAULT_MAX_DAYS))
        except (TypeError, ValueError):
            max_mb, max_days = DEFAULT_MAX_MB, DEFAULT_MAX_DAYS
        return TimelineStore(data_dir() / "timeline.sqlite3", max_bytes=int(max_mb * (1 << 20)),
                             max_age=max_days * 86400)

    def _record(self, task, direction: str, text: str, when: float) -> None:
        self.timeline.add(task.origin, direction, text, when, connection=f"task-{task.id}")

    # -- status -------------------------------------------------------------------
    def set_status(self, text: str) -> None:
        """Show ``text`` in the status bar until something else is shown."""
        self.status.configure(text=text)
        self._status_task = None

    def _on_task_status(self, task, text: str) -> None:
        if task is not None and text:
            self.set_status(text)
            self._status_task = task  # its line goes when it finishes
        elif task is not None and task is self._status_task:
            self.set_status("")
        count = len(self.runner.active())
        self.tasks_label.configure(text=f"{count} task{'s' if count != 1 else ''} running" if count else "")

    def _probe_keyring(self) -> None:
        self.runner.submit(lambda ctx: self.secrets.persistent, name="Look for a keyring",
                           on_result=self._show_keyring_state)

    def _show_keyring_state(self, persistent: bool) -> None:
        if not persistent:
            self.keyring_label.configure(text="Passwords: this session only (no keyring)",
                                         style="Error.TLabel")

    def _report_callback_exception(self, exc_type, exc, tb) -> None:
        """A bug in a Tk callback: details to stderr, one line in the status bar."""
        traceback.print_exception(exc_type, exc, tb)
        self.set_status(f"Internal error: {exc}")

    # -- quitting ---------------------------------------------------------------------
    def running_tasks(self) -> list:
        return self.runner.active()

    def quit(self, ask: bool = True) -> bool:
        """Quit, asking first if work is running; cancels it and waits for workers."""
        if self._closing:
            return True
        running = self.running_tasks()
        if running and ask:
            names = ", ".join(t.name for t in running[:3]) + ("…" if len(running) > 3 else "")
            if not dialogs.confirm(self.root, "Quit netgui",
                                   f"{len(running)} task{'s are' if len(running) != 1 else ' is'} "
                                   f"still running ({names}).", "Cancel them and quit?"):
                return False
        self._closing = True
        self.root.after_cancel(self._keyring_after)
        self._save_state()
        self.runner.shutdown(timeout=3.0)
        self.timeline.close()
        for tab in self.tabs.values():
            close = getattr(tab, "close", None)
            if close is not None:
                try:
                    close()
                except Exception:
                    traceback.print_exc()
        self.root.destroy()
        gc.unfreeze()  # what this window froze can be collected now
        return True

    def _save_state(self) -> None:
        try:
            self.settings.set("geometry", self.root.geometry(), save=False)
            key = self.current_tab_key()
            if key:
                self.settings.set("last_tab", key, save=False)
            self.settings.save()
            self.settings.flush()
        except Exception:
            traceback.print_exc()

    def run(self) -> None:
        self.root.mainloop()


def run_window() -> int:
    """Build the window and run it until it closes (``netgui`` with no arguments)."""
    App().run()
    return 0
