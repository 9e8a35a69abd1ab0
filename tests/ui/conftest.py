"""Fixtures for GUI tests: real Tk windows under Xvfb (pytest-xvfb)."""

from __future__ import annotations

import gc
import tkinter as tk

import pytest

from netgui.config import Secrets, Settings


@pytest.fixture
def root():
    """A bare Tk root with the app's theme."""
    from netgui.ui.theme import apply_theme
    root = tk.Tk()
    apply_theme(root, "light")
    yield root
    try:
        root.destroy()
    except tk.TclError:
        pass
    gc.collect()  # drop Tk variables here, not later in some worker thread


@pytest.fixture
def make_app():
    """Build a real App (optionally with given tab specs); destroyed after the test."""
    from netgui.app import App
    made = []

    def make(tabs=None, tools=None):
        app = App(settings=Settings(background=True), secrets=Secrets(), tabs=tabs, tools=tools)
        made.append(app)
        app.root.update()
        return app

    yield make
    for app in made:
        try:
            app.quit(ask=False)
        except tk.TclError:
            pass
    gc.collect()


@pytest.fixture
def app(make_app):
    """The real App with every registered tab."""
    return make_app()
