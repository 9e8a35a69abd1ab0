"""Small helpers the benchmarks share: loopback ports, timing, a private display.

Imported as ``bench.common`` (each benchmark puts the project root on ``sys.path`` first).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time


def free_port() -> int:
    """A TCP port that is free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 10, failure: BaseException | None = None) -> None:
    """Wait until something accepts connections on 127.0.0.1:port.

    After ``timeout`` seconds raises ``failure``, by default SystemExit("nothing listens on PORT").
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise failure or SystemExit(f"nothing listens on {port}")


def timed(fn) -> float:
    """Wall seconds of ``fn()``."""
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def ensure_display(first: int, count: int) -> subprocess.Popen | None:
    """Start a private Xvfb when there is no display (CI); returns the process or None.

    Its display number is ``first`` plus the process id modulo ``count``: each benchmark
    passes its own range, so benchmarks running at once do not collide.
    """
    if os.environ.get("DISPLAY"):
        return None
    display = f":{first + os.getpid() % count}"
    proc = subprocess.Popen(["Xvfb", display, "-screen", "0", "1280x800x24"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.environ["DISPLAY"] = display
    time.sleep(1.0)
    return proc


def pump_until(root, until, timeout: float) -> None:
    """Run a Tk window's event loop until ``until()``; SystemExit after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not until():
        if time.monotonic() > deadline:
            raise SystemExit("benchmark step timed out")
        root.update()
        time.sleep(0.001)


def ram_folder(size: int) -> str | None:
    """A RAM-backed folder (/dev/shm) when it has room for six times ``size``: disk write-back on
    a shared machine otherwise swamps the figures of netgui and the reference tool alike."""
    shm = "/dev/shm"
    try:
        if os.path.isdir(shm) and shutil.disk_usage(shm).free > 6 * size:
            return shm
    except OSError:
        pass
    return None
