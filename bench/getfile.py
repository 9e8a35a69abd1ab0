"""Getfile speed on loopback: netgui vs ``nc -N``, vs the original-style peers, 50 clients, UI stall.

    python -m bench.getfile            # 1 GiB file, 3 alternating runs per figure (medians)
    python -m bench.getfile --quick    # 128 MiB, smaller concurrency test

Servers run in their own processes (``python -m netgui getfile serve`` and the original-style
server from tests/support); the netgui client runs in this process. The test file is made
in a temporary folder and deleted at the end. Ends with ``name: value`` lines.
"""

from __future__ import annotations

import gc
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402
from bench.common import free_port, wait_port  # noqa: E402
from netgui.net.getfile import client as getfile  # noqa: E402
from netgui.net.getfile.client import fetch  # noqa: E402

MiB = 1 << 20
ROOT_DIR = Path(__file__).resolve().parent.parent


def make_file(path: Path, size: int) -> None:
    block = os.urandom(16 * MiB)
    with open(path, "wb") as f:
        left = size
        while left:
            n = min(left, len(block))
            f.write(block[:n])
            left -= n


def start(cmd: list[str], port: int) -> subprocess.Popen:
    proc = subprocess.Popen(cmd, cwd=ROOT_DIR, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port)
    return proc


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


CPU: dict[str, list[float]] = {}


def timed(fn, cpu: str | None = None) -> float:
    """Wall seconds of fn(); with ``cpu``, also record its CPU seconds (this thread + children)."""
    before = (time.thread_time(), _children_cpu())
    wall = common.timed(fn)
    if cpu:
        CPU.setdefault(cpu, []).append(time.thread_time() - before[0] + _children_cpu() - before[1])
    return wall


def _children_cpu() -> float:
    import resource
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_nc(port: int, name: str, out: Path) -> None:
    with open(out, "wb") as f:
        subprocess.run(["nc", "-N", "127.0.0.1", str(port)], input=f"{name}\n".encode(), stdout=f,
                       check=True)


def run_netgui(port: int, name: str, dest: Path) -> None:
    fetch("127.0.0.1", port, name, dest, resume=False, timeout=60)


def run_original_client(port: int, name: str, dest: Path) -> None:
    subprocess.run([sys.executable, "-m", "tests.support.getfile_original", "fetch", "127.0.0.1",
                    str(port), name, str(dest)], cwd=ROOT_DIR, check=True)


def check_size(path: Path, size: int) -> None:
    if path.stat().st_size != size:
        raise SystemExit(f"{path} has {path.stat().st_size} bytes, expected {size}")
    path.unlink()


def concurrent(port: int, name: str, dest: Path, clients: int) -> tuple[float, float]:
    """(aggregate bytes/s, slowest client's seconds) for ``clients`` simultaneous fetches."""
    times: list[float] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(clients)

    def one(i: int) -> None:
        folder = dest / f"c{i}"
        folder.mkdir(exist_ok=True)
        barrier.wait()
        started = time.perf_counter()
        try:
            fetch("127.0.0.1", port, name, folder, resume=False, timeout=120)
        except BaseException as exc:  # reported after the run
            errors.append(exc)
        times.append(time.perf_counter() - started)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    if errors:
        raise SystemExit(f"{len(errors)} concurrent fetches failed: {errors[0]}")
    size = (dest / "c0" / name).stat().st_size
    shutil.rmtree(dest)
    dest.mkdir()
    return clients * size / wall, max(times)


def ui_stall(port: int, name: str, dest: Path, size: int) -> tuple[float, float]:
    """Longest UI stall (ms) while the Getfile tab downloads the file, and while idle after."""
    from bench.ui_stall import run_until
    from netgui.app import App
    from netgui.config import Secrets, Settings

    app = App(settings=Settings(), secrets=Secrets())
    tab = app.tab("getfile")
    # let the window's own start-up timers run first (the keyring probe at +300 ms blocks
    # the Tk thread for a moment the first time); this measures the download, not start-up
    settle = time.monotonic() + 1.0
    run_until(app.root, lambda: time.monotonic() >= settle)
    # warm up: the first row ever drawn loads fonts and glyphs once (about 0.1 s)
    tab.form.set_values({"host": "127.0.0.1", "port": port, "file": "client.bin",
                         "folder": str(dest)})
    tab.form.submit_button.invoke()
    (warm,) = tab.downloads.values()
    run_until(app.root, lambda: not warm.task.running, timeout=60)
    tab.form.set_values({"file": name})
    tab.form.submit_button.invoke()
    d = tab.downloads[tab.tree.get_children()[0]]
    started = time.monotonic()
    meter = run_until(app.root, lambda: not d.task.running, timeout=300)
    seconds = time.monotonic() - started
    ok = d.result is not None and d.result.size == size
    # the same window, idle for as long: what this machine's load alone costs
    end = time.monotonic() + seconds
    idle = run_until(app.root, lambda: time.monotonic() >= end, timeout=300)
    app.quit(ask=False)
    del app, tab
    gc.collect()  # free this window's Tk objects here, not in a later run's worker thread
    if not ok:
        raise SystemExit("the tab's download did not complete")
    (dest / name).unlink()
    return meter.longest_ms, idle.longest_ms


def main() -> None:
    quick = "--quick" in sys.argv
    size = 128 * MiB if quick else 1024 * MiB
    runs = 3
    clients, client_size = (20, 5 * MiB) if quick else (50, 20 * MiB)
    tmp = Path(tempfile.mkdtemp(prefix="netgui-bench-getfile-"))
    os.environ.setdefault("NETGUI_CONFIG_DIR", str(tmp / "config"))
    root, dest = tmp / "root", tmp / "dest"
    root.mkdir()
    dest.mkdir()
    xvfb = None
    procs: list[subprocess.Popen] = []
    try:
        make_file(root / "big.bin", size)
        make_file(root / "client.bin", client_size)
        netgui_port, original_port = free_port(), free_port()
        procs.append(start([sys.executable, "-m", "netgui", "getfile", "serve", "--root", str(root),
                            "--port", str(netgui_port), "--quiet"], netgui_port))
        procs.append(start([sys.executable, "-m", "tests.support.getfile_original", "serve",
                            str(root), str(original_port)], original_port))
        getfile.forget_peers()

        t_nc, t_netgui, t_orig = [], [], []
        run_netgui(netgui_port, "big.bin", dest)  # warm the page cache
        check_size(dest / "big.bin", size)
        for i in range(runs):
            order = [("nc", "netgui"), ("netgui", "nc")][i % 2]
            for who in order:
                if who == "nc":
                    t_nc.append(timed(lambda: run_nc(netgui_port, "big.bin", dest / "big.bin"),
                                      cpu="nc"))
                else:
                    t_netgui.append(timed(lambda: run_netgui(netgui_port, "big.bin", dest),
                                          cpu="netgui"))
                check_size(dest / "big.bin", size)
            t_orig.append(timed(lambda: run_original_client(original_port, "big.bin", dest)))
            check_size(dest / "big.bin", size)
            print(f"run {i + 1}: nc {size / t_nc[-1] / MiB:.0f} MiB/s, netgui "
                  f"{size / t_netgui[-1] / MiB:.0f} MiB/s, original pair "
                  f"{size / t_orig[-1] / MiB:.0f} MiB/s", file=sys.stderr, flush=True)

        aggregates, slowest = [], []
        for _ in range(runs):
            rate, worst = concurrent(netgui_port, "client.bin", dest, clients)
            aggregates.append(rate)
            slowest.append(worst)

        xvfb = common.ensure_display(150, 100)
        stalls = [ui_stall(netgui_port, "big.bin", dest, size) for _ in range(runs)]
    finally:
        for proc in procs:
            stop(proc)
        if xvfb is not None:
            stop(xvfb)
        shutil.rmtree(tmp, ignore_errors=True)

    nc, netgui, orig = (statistics.median(t) for t in (t_nc, t_netgui, t_orig))
    label = f"{size // MiB}MiB"
    print(f"file_size: {label}")
    print(f"load_average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"nc_rate: {size / nc / MiB:.0f} MiB/s")
    print(f"netgui_rate: {size / netgui / MiB:.0f} MiB/s")
    print(f"original_pair_rate: {size / orig / MiB:.0f} MiB/s")
    print(f"client_vs_nc: {nc / netgui:.2f}x")
    cpu_nc, cpu_netgui = statistics.median(CPU["nc"]), statistics.median(CPU["netgui"])
    print(f"nc_cpu_per_GiB: {cpu_nc * (1 << 30) / size:.2f} s")
    print(f"netgui_cpu_per_GiB: {cpu_netgui * (1 << 30) / size:.2f} s")
    print(f"client_cpu_vs_nc: {cpu_nc / cpu_netgui:.2f}x (above 1: netgui needs less CPU)")
    print(f"netgui_vs_original_pair: {orig / netgui:.1f}x")
    print(f"concurrent_{clients}x{client_size // MiB}MiB_aggregate: "
          f"{statistics.median(aggregates) / MiB:.0f} MiB/s")
    print(f"concurrent_{clients}x{client_size // MiB}MiB_slowest_client: "
          f"{statistics.median(slowest):.2f} s")
    print(f"ui_stall_runs_ms: {', '.join(f'{s:.0f}' for s, _ in stalls)}")
    print(f"ui_stall_max_ms: {statistics.median(s for s, _ in stalls):.1f}")
    print(f"ui_stall_idle_baseline_ms: {statistics.median(i for _, i in stalls):.1f}")


if __name__ == "__main__":
    main()
