"""Test isolation: every test gets its own config and data folders and a test keyring."""

from __future__ import annotations

import keyring
import pytest

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
