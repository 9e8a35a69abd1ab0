"""Start-up time of the one-file executable beside ``python main.py``, and its size.

Each run launches the program on an Xvfb of its own and measures the time until the
window titled "netgui" is mapped (polled with xwininfo), then ends the program. The two
commands alternate; the figure is the median. ``--cold`` also empties the page cache
(root only) before each run, so files are read from disk as after a reboot.

    .venv/bin/python bench/packaging.py [--exe dist/netgui] [--runs 5] [--cold]

Ends with ``name: value`` lines.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TITLE = "netgui"


def start_xvfb() -> tuple[subprocess.Popen, str]:
    read, write = os.pipe()
    proc = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", "1280x800x24",
                             "-nolisten", "tcp"], pass_fds=(write,),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write)
    with os.fdopen(read) as f:
        number = f.readline().strip()
    return proc, f":{number}"


def window_shown(display: str) -> bool:
    out = subprocess.run(["xwininfo", "-root", "-tree"], capture_output=True, text=True,
                         env=dict(os.environ, DISPLAY=display)).stdout
    return f'"{TITLE}"' in out


def drop_caches() -> None:
    os.sync()
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("3\n")


def time_to_window(cmd: list[str], display: str, cold: bool,
                   timeout: float = 60.0) -> tuple[float, float]:
    """(seconds until the window is shown, CPU seconds the program used in all)."""
    with tempfile.TemporaryDirectory(prefix="netgui-bench-") as tmp:
        env = dict(os.environ, DISPLAY=display, NETGUI_CONFIG_DIR=f"{tmp}/config",
                   NETGUI_DATA_DIR=f"{tmp}/data")
        if cold:
            drop_caches()
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, cwd=tmp, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        try:
            while not window_shown(display):
                if proc.poll() is not None:
                    raise RuntimeError(f"{cmd[0]} exited with {proc.returncode} before showing a window")
                if time.perf_counter() - start > timeout:
                    raise RuntimeError(f"{cmd[0]} showed no window within {timeout} s")
                time.sleep(0.01)
            shown = time.perf_counter() - start
        finally:
            proc.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 10
            while proc.returncode is None:
                pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
                if pid:
                    proc.returncode = status
                elif time.monotonic() > deadline:
                    proc.kill()
                else:
                    time.sleep(0.01)
        # wait4 counts the process and the children it waited for (the one-file
        # executable's unpacked interpreter): the CPU time, which CPU contention on a
        # shared machine does not inflate as it does the wall time
        return shown, usage.ru_utime + usage.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exe", default=str(ROOT / "dist" / "netgui"))
    parser.add_argument("--python", default=str(ROOT / ".venv" / "bin" / "python"))
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cold", action="store_true", help="drop the page cache before each run (root)")
    parser.add_argument("--quick", action="store_true", help="3 runs")
    args = parser.parse_args()
    runs = 3 if args.quick else args.runs
    for tool in ("Xvfb", "xwininfo"):
        if not shutil.which(tool):
            sys.exit(f"{tool} is needed (sh scripts/setup.sh test installs it)")
    if not Path(args.exe).is_file():
        sys.exit(f"{args.exe} does not exist: build it with sh packaging/build.sh")

    commands = {"exe": [args.exe], "source": [args.python, str(ROOT / "main.py")]}
    times: dict[str, list[float]] = {name: [] for name in commands}
    cpu: dict[str, list[float]] = {name: [] for name in commands}
    xvfb, display = start_xvfb()
    try:
        for name, cmd in commands.items():  # one unmeasured warm-up each
            time_to_window(cmd, display, cold=False)
        for i in range(runs):
            order = list(commands.items()) if i % 2 == 0 else list(commands.items())[::-1]
            for name, cmd in order:
                wall, used = time_to_window(cmd, display, cold=args.cold)
                times[name].append(wall)
                cpu[name].append(used)
                print(f"run {i + 1} {name}: {wall:.3f} s to window, {used:.3f} s CPU", flush=True)
    finally:
        xvfb.terminate()
        xvfb.wait()

    kind = "cold" if args.cold else "warm"
    exe = statistics.median(times["exe"])
    src = statistics.median(times["source"])
    print(f"exe_size_mib: {Path(args.exe).stat().st_size / 2**20:.1f}")
    print(f"exe_start_{kind}_s: {exe:.2f}")
    print(f"source_start_{kind}_s: {src:.2f}")
    print(f"exe_vs_source_{kind}: {exe / src:.2f}x")
    print(f"exe_cpu_s: {statistics.median(cpu['exe']):.2f}")
    print(f"source_cpu_s: {statistics.median(cpu['source']):.2f}")
    print(f"load_average_1min: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
