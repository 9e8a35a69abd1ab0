"""Settings are written atomically; secrets go to the keyring only."""

import json
import os

import pytest

from netgui import config
from netgui.config import Secrets, Settings


def test_settings_round_trip(isolated_config):
    s = Settings()
    s.set("theme", "dark")
    s.save_profile("ftp", "home", {"host": "h", "port": 21})
    s.set_form_values("getfile", {"server": "x", "password": "nope"})
    again = Settings()
    assert again.get("theme") == "dark"
    assert again.profile("ftp", "home") == {"host": "h", "port": 21}
    assert again.form_values("getfile") == {"server": "x"}
    assert (isolated_config / "settings.json").exists()


def test_settings_refuse_secret_keys():
    with pytest.raises(ValueError):
        Settings().save_profile("ftp", "x", {"password": "p"})


def test_crash_mid_write_keeps_the_old_file(isolated_config, monkeypatch):
    s = Settings()
    s.set("theme", "light")
    before = (isolated_config / "settings.json").read_text()

    def crash(*args):
        raise OSError("disk died")

    monkeypatch.setattr(config.os, "replace", crash)
    with pytest.raises(OSError):
        s.set("theme", "dark")
    monkeypatch.undo()
    assert (isolated_config / "settings.json").read_text() == before
    assert json.loads(before)["app"]["theme"] == "light"
    assert [p.name for p in isolated_config.iterdir()] == ["settings.json"]  # no temp left


def test_corrupt_settings_are_kept_aside(isolated_config):
    isolated_config.mkdir(parents=True)
    (isolated_config / "settings.json").write_text("{torn")
    s = Settings()
    assert s.get("theme") is None
    assert (isolated_config / "settings.json.bad").read_text() == "{torn"


def test_secrets_go_to_keyring(test_keyring, isolated_config):
    secrets = Secrets()
    secrets.set("ftp/home/password", "hunter2")
    assert secrets.persistent
    assert test_keyring.store[("netgui", "ftp/home/password")] == "hunter2"
    assert secrets.get("ftp/home/password") == "hunter2"
    Settings().set("x", 1)
    for root, _, files in os.walk(isolated_config):
        for name in files:
            assert "hunter2" not in open(os.path.join(root, name)).read()


def test_secrets_fall_back_to_memory_without_keyring():
    import keyring
    from keyring.backends import fail
    keyring.set_keyring(fail.Keyring())
    secrets = Secrets()
    secrets.set("a", "pw")
    assert not secrets.persistent
    assert secrets.get("a") == "pw"
    assert "memory" in secrets.describe()


def test_background_saves_land_in_order_and_flush_waits(isolated_config):
    s = Settings(background=True)
    for i in range(50):
        s.set("counter", i)
    s.flush()
    assert Settings().get("counter") == 49
    assert [p.name for p in isolated_config.iterdir()] == ["settings.json"]
