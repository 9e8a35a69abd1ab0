"""``netgui --self-test`` from source, on the virtual screen pytest-xvfb provides."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.peers import require_binary

ROOT = Path(__file__).resolve().parents[2]
LOCAL_CHECKS = ["modules", "libraries", "dns", "keyring", "tls", "assets", "window"]


def self_test(*args: str, env: dict | None = None, module: bool = True) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "netgui"] if module else [sys.executable, str(ROOT / "main.py")]
    return subprocess.run([*cmd, "--self-test", *args], capture_output=True, text=True,
                          timeout=120, cwd=ROOT, env=env or dict(os.environ))


def only(*names: str) -> list[str]:
    return [arg for name in names for arg in ("--only", name)]


def test_full_self_test_passes_from_source(isolated_config):
    """Window and every tab, then loopback round trips through the getfile and chat servers."""
    done = self_test("-v")
    assert done.returncode == 0, done.stdout + done.stderr
    for name in [*LOCAL_CHECKS, "getfile", "chat"]:
        assert f"ok   {name} (" in done.stdout
    assert done.stdout.splitlines()[-1] == "netgui self-test passed: 9 checks"
    assert not isolated_config.exists()


def test_window_and_bundle_checks_pass_and_leave_settings_alone(isolated_config):
    assert os.environ.get("DISPLAY"), "pytest-xvfb should provide a display"
    done = self_test("-v", *only(*LOCAL_CHECKS))
    assert done.returncode == 0, done.stdout + done.stderr
    for name in LOCAL_CHECKS:
        assert f"ok   {name} (" in done.stdout
    assert f"netgui self-test passed: {len(LOCAL_CHECKS)} checks" in done.stdout
    # the window saved its geometry into the self-test's own temporary folder, not ours
    assert not isolated_config.exists()


def test_main_py_runs_the_self_test_too():
    done = self_test(*only("modules", "window"), module=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == "netgui self-test passed: 2 checks"


def test_a_failed_check_is_one_line_and_exit_code_1():
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    done = self_test(*only("assets", "window"), env=env)
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        "FAIL window: no display: set DISPLAY (for example run it under xvfb-run)"]
    assert "Traceback" not in done.stderr


def test_unknown_check_name_is_a_usage_error():
    done = self_test("--only", "nonsense")
    assert done.returncode == 2
    assert "invalid choice" in done.stderr


def test_passwords_go_to_a_real_secret_service():
    """Against a throwaway gnome-keyring: keyring finds Secret Service, Secrets round-trips."""
    require_binary("dbus-run-session")
    require_binary("gnome-keyring-daemon")
    done = subprocess.run(["sh", str(ROOT / "packaging" / "with-test-keyring.sh"), sys.executable,
                           "-m", "netgui", "--self-test", "-v", *only("keyring", "keyring-store")],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "in use: keyring.backends.SecretService.Keyring" in done.stdout
    assert "ok   keyring-store" in done.stdout


def test_without_a_keyring_service_the_store_check_says_so(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DBUS_SESSION_BUS_ADDRESS"}
    env["XDG_RUNTIME_DIR"] = str(tmp_path)  # no session bus socket there
    done = self_test(*only("keyring-store"), env=env)
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        "FAIL keyring-store: passwords cannot be kept in the system keyring: "
        "no keyring service is available"]


def test_the_keyring_store_check_is_opt_in():
    done = self_test("-v", *only("assets"))
    assert "keyring-store" not in done.stdout
