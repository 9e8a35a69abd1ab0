"""FTP benchmark: netgui's FTP core and tab against curl, on the same local pyftpdlib server.

    python bench/ftp.py            # 1 GiB download and upload, 10,000-entry folder
    python bench/ftp.py --quick    # 64 MiB, for a trial run

Figures (median of alternating runs):
- download / upload throughput of ``FtpClient`` vs ``curl`` (ratio > 1: netgui is faster);
- time from asking the FTP tab for a 10,000-entry folder until every row is shown, vs
  ``curl -l`` listing the same folder (names only; ``curl`` with a full ``LIST`` is shown too);
  and the longest stall of the Tk event loop meanwhile
  (``bench.ui_stall.StallMeter``: a 10 ms ``after()`` heartbeat), next to the same measure with the window idle.
Ends with one ``name: value`` line per figure.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import ensure_display, pump_until, ram_folder, timed  # noqa: E402
from bench.ui_stall import StallMeter  # noqa: E402
from netgui.net.ftp.client import FtpClient, FtpSite  # noqa: E402
from tests.support.ftpd import PASSWORD, USER, FtpServer  # noqa: E402

MiB = 1024 * 1024


def make_file(path: Path, size: int) -> None:
    block = os.urandom(4 * MiB)
    with open(path, "wb") as f:
        left = size
        while left > 0:
            f.write(block[:min(left, len(block))])
            left -= len(block)


def curl(*args: str) -> None:
    subprocess.run(["curl", "-s", "-S", "--fail", *args], check=True, stdout=subprocess.DEVNULL)


def bench_transfers(server: FtpServer, work: Path, size: int, runs: int) -> dict[str, float]:
    url = f"ftp://{USER}:{PASSWORD}@127.0.0.1:{server.port}"
    site = FtpSite("127.0.0.1", server.port, user=USER, password=PASSWORD, timeout=60)
    local = work / "local.bin"
    make_file(local, size)
    shutil.copy(local, server.root / "big.bin")
    times: dict[str, list[float]] = {k: [] for k in ("down_client", "down_curl", "up_client", "up_curl")}
    for run in range(runs):
        order = ("client", "curl") if run % 2 == 0 else ("curl", "client")
        for who in order:
            target = work / f"down-{who}.bin"
            if who == "client":
                client = FtpClient(site)
                client.connect()
                times["down_client"].append(timed(lambda: client.download("/big.bin", target)))
                times["up_client"].append(timed(lambda: client.upload(local, "/up-client.bin")))
                client.close()
            else:
                times["down_curl"].append(timed(lambda: curl("-o", str(target), f"{url}/big.bin")))
                times["up_curl"].append(timed(lambda: curl("-T", str(local), f"{url}/up-curl.bin")))
            target.unlink()
        (server.root / "up-client.bin").unlink(missing_ok=True)
        (server.root / "up-curl.bin").unlink(missing_ok=True)
    med = {k: statistics.median(v) for k, v in times.items()}
    return {
        "download_client_mib_s": size / MiB / med["down_client"],
        "download_curl_mib_s": size / MiB / med["down_curl"],
        "download_vs_curl": med["down_curl"] / med["down_client"],
        "upload_client_mib_s": size / MiB / med["up_client"],
        "upload_curl_mib_s": size / MiB / med["up_curl"],
        "upload_vs_curl": med["up_curl"] / med["up_client"],
    }


def bench_listing(server: FtpServer, count: int, runs: int) -> dict[str, float]:
    from netgui.app import App
    from netgui.config import Secrets, Settings
    from netgui.tabs import TabSpec

    folder = server.root / "many"
    folder.mkdir(exist_ok=True)
    for i in range(count):
        (folder / f"entry number {i:05d}.txt").touch()
    url = f"ftp://{USER}:{PASSWORD}@127.0.0.1:{server.port}/many/"

    tmp = Path(tempfile.mkdtemp(prefix="netgui-bench-"))
    os.environ["NETGUI_CONFIG_DIR"] = str(tmp / "config")
    os.environ["NETGUI_DATA_DIR"] = str(tmp / "data")
    app = App(settings=Settings(), secrets=Secrets(backend=None),
              tabs=[TabSpec("ftp", "FTP", "netgui.tabs.ftp", "FtpTab")])
    tab = app._ensure_built("ftp")
    root = app.root
    tab.form.set_values({"host": "127.0.0.1", "port": server.port, "user": USER, "password": PASSWORD})
    tab.form.submit()
    pane = tab.remote_pane
    pump_until(root, lambda: pane.entries and not pane.filling, 30)

    client_times, curl_times, curl_list_times, stalls = [], [], [], []
    for run in range(runs):
        order = ("client", "curl") if run % 2 == 0 else ("curl", "client")
        for who in order:
            if who == "curl":
                curl_times.append(timed(lambda: curl("-l", url)))
                curl_list_times.append(timed(lambda: curl(url)))   # a full LIST, for reference
                continue
            path = "/many" if pane.path != "/many" else "/"
            if path == "/":   # go back to the top first, so the timed step lists the big folder
                tab.remote_go("/")
                pump_until(root, lambda: pane.path == "/" and not pane.filling, 30)
            start = time.perf_counter()
            meter = StallMeter(root).start()
            tab.remote_go("/many")
            pump_until(root, lambda: pane.path == "/many" and pane.entries and not pane.filling
                  and pane.shown_at is not None and pane.shown_at > start, 60)
            meter.stop()
            client_times.append(pane.shown_at - start)
            stalls.append(meter.longest_ms)
            assert len(pane.tree.get_children()) == count
            tab.remote_go("/")
            pump_until(root, lambda: pane.path == "/" and not pane.filling, 30)
    # The same heartbeat with the window idle: what the machine itself costs (a busy
    # shared machine shows stalls even when netgui does nothing).
    idle = []
    for _ in range(runs):
        meter = StallMeter(root).start()
        until = time.perf_counter() + max(client_times)
        pump_until(root, lambda: time.perf_counter() > until, 60)
        meter.stop()
        idle.append(meter.longest_ms)
    app.quit(ask=False)
    shutil.rmtree(tmp, ignore_errors=True)
    c, k = statistics.median(client_times), statistics.median(curl_times)
    return {
        "list_10k_client_ms": c * 1000,
        "list_10k_curl_ms": k * 1000,
        "list_10k_vs_curl": k / c,
        "list_10k_curl_full_list_ms": statistics.median(curl_list_times) * 1000,
        "list_10k_vs_curl_full_list": statistics.median(curl_list_times) / c,
        "list_10k_ui_stall_ms": statistics.median(stalls),   # median over runs of the longest gap
        "idle_ui_stall_ms": statistics.median(idle),         # the same, window idle (baseline)
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="64 MiB and fewer runs")
    parser.add_argument("--runs", type=int, default=None)
    args = parser.parse_args()
    size = (64 if args.quick else 1024) * MiB
    runs = args.runs or 3
    xvfb = ensure_display(70, 20)
    work = Path(tempfile.mkdtemp(prefix="netgui-ftp-bench-", dir=ram_folder(size)))
    (work / "srv").mkdir()
    server = FtpServer(work / "srv").start()
    try:
        results = bench_transfers(server, work, size, runs)
        results.update(bench_listing(server, 10_000, runs))
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
        if xvfb is not None:
            xvfb.terminate()
    label = f"{size // MiB} MiB"
    print(f"# FTP benchmark: transfers of {label} against a local pyftpdlib server, median of {runs} runs")
    for name, value in results.items():
        if "_vs_" in name:
            print(f"{name}: {value:.2f}x")
        elif name.endswith("_ms"):
            print(f"{name}: {value:.1f}")
        else:
            print(f"{name}: {value:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
