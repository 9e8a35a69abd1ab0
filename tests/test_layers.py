"""The layering of docs/ARCHITECTURE.md, checked by import-linter's contracts in pyproject.toml."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=cwd, capture_output=True, text=True,
                          timeout=120, env={"PYTHONPATH": str(cwd), "PATH": "/usr/bin:/bin"})


def test_the_import_contracts_are_kept():
    done = lint_imports(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "5 kept, 0 broken" in done.stdout


def test_a_core_that_imports_tkinter_breaks_a_contract(tmp_path):
    """The contracts do catch a violation: a copy of the tree with Tk in a protocol core."""
    shutil.copytree(ROOT / "netgui", tmp_path / "netgui", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    core = tmp_path / "netgui" / "net" / "cancel.py"
    core.write_text(core.read_text() + "\nimport tkinter  # a violation\n")
    done = lint_imports(tmp_path)
    assert done.returncode != 0
    assert "Protocol cores know nothing of Tk or the window BROKEN" in done.stdout
    assert "netgui.net.cancel -> tkinter" in done.stdout
