"""Seconds from process start to the first mapped window: netgui vs a bare ``tkinter.Tk()``.

Each run is a new process (cold imports included, disk cache warm) that exits as soon as its
window is mapped. Runs alternate between the two and the medians are compared.

    python -m bench.startup [--runs N]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Each child prints the wall-clock time at which its main window is first mapped.
BASELINE = """
import time, tkinter as tk
root = tk.Tk()
def mapped(e):
    if e.widget is root:
        print(time.time(), flush=True)
        root.after_idle(root.destroy)
root.bind("<Map>", mapped)
root.mainloop()
"""

NETGUI = """
import sys, time
sys.path.insert(0, %r)
from netgui.app import App
app = App()
def mapped(e):
    if e.widget is app.root:
        print(time.time(), flush=True)
        app.root.after_idle(lambda: app.quit(ask=False))
app.root.bind("<Map>", mapped)
app.run()
"""


def time_process(code: str, env: dict) -> float:
    """Seconds from starting the process to its window being mapped."""
    started = time.time()
    out = subprocess.run([sys.executable, "-c", code], check=True, env=env, capture_output=True,
                         text=True).stdout
    return float(out.split()[0]) - started


def main() -> None:
    runs = int(sys.argv[sys.argv.index("--runs") + 1]) if "--runs" in sys.argv else 7
    env = dict(os.environ)
    env["NETGUI_CONFIG_DIR"] = tempfile.mkdtemp(prefix="netgui-bench-")
    baseline, netgui = [], []
    time_process(BASELINE, env), time_process(NETGUI % str(ROOT), env)  # warm the disk cache
    for _ in range(runs):
        baseline.append(time_process(BASELINE, env))
        netgui.append(time_process(NETGUI % str(ROOT), env))
    b, n = statistics.median(baseline), statistics.median(netgui)
    print(f"startup_tk_baseline_s: {b:.3f}")
    print(f"startup_netgui_s: {n:.3f}")
    print(f"startup_over_baseline_s: {n - b:.3f}")


if __name__ == "__main__":
    main()
