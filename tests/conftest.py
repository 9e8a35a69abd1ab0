"""Test isolation (every test gets its own config and data folders and a test keyring), and the
fixtures of GUI tests: real Tk windows under Xvfb (pytest-xvfb)."""

from __future__ import annotations

import gc
import tkinter as tk

import keyring
import pytest

from netgui.config import Secrets, Settings
from tests.support.memkeyring import MemoryKeyring


@pytest.fixture(autouse=True)
def isolated_config(tmp_path, monkeypatch):
    """Point netgui's config and data folders into the test's temp folder."""
    config = tmp_path / "config"
    data = tmp_path / "data"
    monkeypatch.setenv("NETGUI_CONFIG_DIR", str(config))
    monkeypatch.setenv("NETGUI_DATA_DIR", str(data))
    return config


@pytest.fixture(autouse=True)
def test_keyring():
    """A fresh in-memory keyring backend, installed as the process's keyring."""
    backend = MemoryKeyring()
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


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
