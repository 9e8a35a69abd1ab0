"""The main window: notebook, menus, keyboard, remembered state, clean quit."""

import threading
import tkinter as tk
from tkinter import ttk

import pytest

from netgui.tabs import TabSpec, ToolSpec
from netgui.tabs.base import Tab
from tests.support.tk import pump

BUILT = []


class FirstTab(Tab):
    title = "First"

    def __init__(self, master, app):
        super().__init__(master, app)
        BUILT.append("first")
        ttk.Label(self, text="first").pack()


class SecondTab(FirstTab):
    title = "Second"

    def __init__(self, master, app):
        Tab.__init__(self, master, app)
        BUILT.append("second")


TEST_TABS = [TabSpec("first", "First", __name__, "FirstTab"),
             TabSpec("second", "Second", __name__, "SecondTab"),
             TabSpec("third", "Third", __name__, "SecondTab")]


def opened_tools(app):
    opened_tools.calls.append(app)
    return tk.Toplevel(app.root)


opened_tools.calls = []


@pytest.fixture(autouse=True)
def reset_built():
    BUILT.clear()


def test_window_has_notebook_menus_and_status(make_app):
    app = make_app(tabs=TEST_TABS, tools=[ToolSpec("Test tool…", __name__, "opened_tools")])
    pump(app.root, timeout=0.3)
    assert [app.notebook.tab(i, "text") for i in range(3)] == ["First", "Second", "Third"]
    labels = [app.menubar.entrycget(i, "label") for i in range(1, app.menubar.index("end") + 1)]
    assert labels == ["File", "View", "Tools", "Help"]
    assert app.status.cget("text") == "Ready"
    assert BUILT == ["first"]  # tabs are built lazily, the first one at once
    app.tools_menu.invoke(0)
    assert opened_tools.calls[-1] is app
    about = app.show_about()
    assert "netgui" in about.title()
    about.destroy()


def test_keyboard_switches_tabs(make_app):
    app = make_app(tabs=TEST_TABS)
    app.root.focus_force()
    pump(app.root, timeout=0.3)
    widget = app.root.focus_get() or app.root
    widget.event_generate("<Control-Key-3>")
    pump(app.root, until=lambda: app.current_tab_key() == "third", timeout=2, message="Ctrl+3")
    widget.event_generate("<Control-Tab>")
    pump(app.root, until=lambda: app.current_tab_key() == "first", timeout=2, message="Ctrl+Tab wraps")
    widget.event_generate("<Control-ISO_Left_Tab>")
    pump(app.root, until=lambda: app.current_tab_key() == "third", timeout=2, message="Ctrl+Shift+Tab")
    assert set(BUILT) == {"first", "second"}  # "third" reuses SecondTab


def test_theme_switch_and_state_are_remembered(make_app):
    app = make_app(tabs=TEST_TABS)
    app.set_theme("dark")
    app.root.geometry("900x600+40+30")
    app.select_tab(1)
    pump(app.root, until=lambda: app.current_tab_key() == "second", timeout=2, message="tab select")
    assert app.quit()
    again = make_app(tabs=TEST_TABS)
    pump(again.root, timeout=0.3)
    assert again.theme_name.get() == "dark"
    assert again.current_tab_key() == "second"
    assert again.root.geometry().startswith("900x600")


def test_quit_with_a_running_task_cancels_it_without_leftover_threads(make_app, monkeypatch):
    app = make_app(tabs=TEST_TABS)
    started = threading.Event()

    def forever(ctx):
        started.set()
        while not ctx.token.wait(0.05):
            pass

    task = app.runner.submit(forever, name="endless")
    assert started.wait(5)
    asked = []
    monkeypatch.setattr("netgui.ui.dialogs.confirm", lambda *a, **k: asked.append(a) or False)
    assert app.quit() is False  # the user said no: still running
    assert task.running and asked
    monkeypatch.setattr("netgui.ui.dialogs.confirm", lambda *a, **k: True)
    assert app.quit() is True
    assert not task.thread.is_alive()
    assert not [t for t in threading.enumerate() if t.name.startswith("netgui-task")]


def test_app_starts_with_registered_tabs(app):
    assert isinstance(app.notebook, ttk.Notebook)
    assert app.notebook.index("end") == len(app.tab_specs)


def test_fonts_follow_the_screen_scaling(make_app, monkeypatch):
    """On a HiDPI screen (NETGUI_SCALE=2) text is drawn twice as large."""
    from tkinter import font
    normal = make_app(tabs=TEST_TABS)
    normal_height = font.nametofont("SunValleyBodyFont", root=normal.root).metrics("linespace")
    assert all(font.nametofont(n, root=normal.root).cget("size") > 0 for n in font.names(normal.root))
    normal.quit(ask=False)
    monkeypatch.setenv("NETGUI_SCALE", "2")
    big = make_app(tabs=TEST_TABS)
    big_height = font.nametofont("SunValleyBodyFont", root=big.root).metrics("linespace")
    assert big_height >= 1.7 * normal_height


def test_status_bar_stays_visible_in_a_small_window(make_app):
    app = make_app(tabs=TEST_TABS)
    app.root.geometry("720x300")
    pump(app.root, timeout=0.3)
    bar = app.status.master
    assert bar.winfo_ismapped()
    assert bar.winfo_rooty() + bar.winfo_height() <= app.root.winfo_rooty() + app.root.winfo_height()


def test_a_task_status_leaves_the_status_bar_when_the_task_ends(make_app):
    app = make_app(tabs=TEST_TABS)
    release = threading.Event()

    def work(ctx):
        ctx.status("Fetching 3 headers")
        release.wait(5)

    task = app.runner.submit(work, name="work")
    pump(app.root, lambda: app.status.cget("text") == "Fetching 3 headers", timeout=5,
         message="the task's status line")
    release.set()
    pump(app.root, lambda: task.finished is not None and app.status.cget("text") == "", timeout=5,
         message="the status line cleared")
    done = app.runner.submit(lambda ctx: ctx.status("Looking"), name="look",
                             on_result=lambda _: app.set_status("3 found"))
    pump(app.root, lambda: done.finished is not None, timeout=5, message="second task")
    pump(app.root, timeout=0.1)
    assert app.status.cget("text") == "3 found"  # what the tab said afterwards stays
