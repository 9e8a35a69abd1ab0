"""``pip install .`` into a fresh virtual environment gives working entry points."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import netgui

ROOT = Path(__file__).resolve().parents[2]


def run(cmd, **kwargs) -> subprocess.CompletedProcess:
    kwargs.setdefault("timeout", 300)
    done = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kwargs)
    assert done.returncode == 0, f"{cmd} failed:\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A new venv with netgui pip-installed (with its dependencies) from a copy of the source."""
    base = tmp_path_factory.mktemp("pip")
    src = base / "src"
    # a clean copy, so the build cannot pick up .venv, build/ or the editable install
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", "tests"))
    venv = base / "venv"
    run([sys.executable, "-m", "venv", venv])
    run([venv / "bin" / "python", "-m", "pip", "install", "-q", "--disable-pip-version-check", src])
    return venv


def test_entry_points_are_installed(installed):
    bin_dir = installed / "bin"
    for script in ("netgui", "netgui-cli"):
        assert os.access(bin_dir / script, os.X_OK), f"{script} not installed"
    assert "from netgui.cli import main" in (bin_dir / "netgui").read_text()
    assert "from netgui.cli import main" in (bin_dir / "netgui-cli").read_text()
    done = run([bin_dir / "netgui-cli", "--version"], cwd=installed)
    assert done.stdout.strip() == f"netgui {netgui.__version__}"


def test_installed_copy_is_used_and_carries_assets(installed):
    code = ("import netgui, importlib.metadata as m; from netgui.desktop import icon_file;"
            "print(netgui.__file__); print(icon_file(48).stat().st_size);"
            "print(m.version('netgui'))")
    out = run([installed / "bin" / "python", "-c", code], cwd=installed).stdout.split()
    assert out[0].startswith(str(installed)), out[0]
    assert int(out[1]) > 500
    assert out[2] == netgui.__version__


def test_installed_desktop_entry_launches_the_gui_script(installed):
    done = run([installed / "bin" / "netgui-cli", "install-desktop", "--print"], cwd=installed)
    assert f"Exec={installed / 'bin' / 'netgui'}\n" in done.stdout


def test_gui_script_runs_the_self_test(installed, tmp_path):
    """``netgui --self-test`` through the installed gui-script: every check, servers included."""
    env = dict(os.environ, NETGUI_CONFIG_DIR=str(tmp_path / "cfg"))
    done = run([installed / "bin" / "netgui", "--self-test", "-v"], cwd=installed, env=env)
    assert "ok   getfile (" in done.stdout and "ok   chat (" in done.stdout
    assert "netgui self-test passed: 9 checks" in done.stdout
    assert not (tmp_path / "cfg").exists()


def test_every_package_is_listed_in_pyproject():
    """pyproject.toml lists packages (so assets/ can be mapped in): none may be forgotten."""
    import tomllib
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    on_disk = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "netgui").rglob("__init__.py")}
    assert listed == on_disk | {"netgui.assets"}
