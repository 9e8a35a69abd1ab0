"""install-desktop: a valid .desktop entry and hicolor icons for the current user."""

from __future__ import annotations

import configparser
import os
import shlex
import subprocess
import sys
from pathlib import Path

from PIL import Image

from netgui import desktop
from tests.support.peers import require_binary

ROOT = Path(__file__).resolve().parents[2]


def read_entry(path: Path) -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # keys are case-sensitive
    parser.read_string(path.read_text(encoding="utf-8"))
    return dict(parser["Desktop Entry"])


def validate(path: Path) -> None:
    tool = require_binary("desktop-file-validate")
    done = subprocess.run([tool, str(path)], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0 and "error" not in done.stdout, done.stdout + done.stderr


def run_cli(*args: str, data_home: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, XDG_DATA_HOME=str(data_home))
    return subprocess.run([sys.executable, "-m", "netgui", *args], capture_output=True,
                          text=True, timeout=60, env=env, cwd=ROOT)


def test_install_desktop_writes_valid_entry_and_icons(tmp_path):
    data_home = tmp_path / "share"
    done = run_cli("install-desktop", data_home=data_home)
    assert done.returncode == 0, done.stdout + done.stderr
    entry = data_home / "applications" / "netgui.desktop"
    assert f"installed {entry}" in done.stdout
    validate(entry)
    fields = read_entry(entry)
    assert fields["Type"] == "Application"
    assert fields["Name"] == "netgui"
    assert fields["Icon"] == "netgui"
    assert fields["Terminal"] == "false"
    # from a source checkout: this (venv) Python running this checkout's main.py
    assert shlex.split(fields["Exec"]) == [os.path.abspath(sys.executable), str(ROOT / "main.py")]
    assert os.access(shlex.split(fields["Exec"])[0], os.X_OK)
    for size in desktop.ICON_SIZES:
        icon = data_home / "icons" / "hicolor" / f"{size}x{size}" / "apps" / "netgui.png"
        with Image.open(icon) as img:
            assert img.format == "PNG"
            assert img.size == (size, size)
            assert img.mode == "RGBA"


def test_install_desktop_again_then_uninstall(tmp_path):
    data_home = tmp_path / "share"
    for _ in range(2):  # installing twice just overwrites
        assert run_cli("install-desktop", data_home=data_home).returncode == 0
    done = run_cli("install-desktop", "--uninstall", data_home=data_home)
    assert done.returncode == 0, done.stderr
    assert f"removed {len(desktop.ICON_SIZES) + 1} file(s)" in done.stdout
    assert not (data_home / "applications" / "netgui.desktop").exists()
    assert not list((data_home / "icons").rglob("netgui.png"))
    again = run_cli("install-desktop", "--uninstall", data_home=data_home)
    assert "nothing to remove" in again.stdout


def test_install_desktop_data_home_option_and_print(tmp_path):
    target = tmp_path / "elsewhere"
    done = run_cli("install-desktop", "--data-home", str(target), data_home=tmp_path / "unused")
    assert done.returncode == 0, done.stderr
    assert (target / "applications" / "netgui.desktop").is_file()
    assert not (tmp_path / "unused").exists()
    printed = run_cli("install-desktop", "--print", data_home=tmp_path / "unused2")
    assert printed.stdout.startswith("[Desktop Entry]\n")
    assert not (tmp_path / "unused2").exists()


def test_install_desktop_reports_unwritable_folder(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    done = run_cli("install-desktop", "--data-home", str(blocker), data_home=tmp_path)
    assert done.returncode == 1
    assert done.stdout.startswith("install-desktop: cannot write")
    assert "Traceback" not in done.stderr


def test_exec_line_quotes_awkward_paths(tmp_path):
    command = ["/opt/my apps/py$thon \"3\"", "/x/100%/main.py", "back\\slash"]
    text = desktop.desktop_entry(command)
    entry = tmp_path / "netgui.desktop"
    entry.write_text(text)
    validate(entry)
    assert split_exec(read_entry(entry)["Exec"]) == command


def split_exec(value: str) -> list[str]:
    """Decode an Exec value as the Desktop Entry spec says a launcher does."""
    value = value.replace("\\\\", "\\")  # the string-type escape comes first
    args, current, quoted, started, i = [], "", False, False, 0
    while i < len(value):
        c = value[i]
        if quoted and c == "\\" and value[i + 1] in '"`$\\':
            current += value[i + 1]
            i += 1
        elif c == '"':
            quoted, started = not quoted, True
        elif c == " " and not quoted:
            if current or started:
                args.append(current)
            current, started = "", False
        else:
            current += c
        i += 1
    if current or started:
        args.append(current)
    return [a.replace("%%", "%") for a in args]


def test_frozen_executable_launches_itself(monkeypatch, tmp_path):
    fake = tmp_path / "netgui"
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", str(fake))
    assert desktop.launch_command() == [str(fake)]
    assert f"Exec={fake}\n" in desktop.desktop_entry()


def test_relative_xdg_data_home_is_ignored(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_DATA_HOME", "relative/share")
    assert desktop.data_home() == tmp_path / ".local" / "share"
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "abs"))
    assert desktop.data_home() == tmp_path / "abs"


def test_packaged_desktop_file_matches_generator():
    shipped = ROOT / "packaging" / "netgui.desktop"
    assert shipped.read_text() == desktop.desktop_entry(["netgui"])
    validate(shipped)
