"""SFTP benchmark: netgui's SftpClient and tab against OpenSSH's ``sftp`` and ``curl sftp://``.

    python bench/sftp.py              # 1 GiB download and upload, 10,000-entry folder, 3 rounds
    python bench/sftp.py --quick      # 64 MiB, 2 rounds, for a trial run
    python bench/sftp.py --levers     # also netgui's upload variants (what makes uploads fast)

A throwaway sshd (tests/support/sshd.py, root with a key) serves a file from a RAM-backed
folder. Each round runs every tool once per direction, one after another (alternating), login
included; a figure is the median over the rounds. ``*_ratio`` is netgui / OpenSSH ``sftp -b``
with OpenSSH's own cipher choice (the goal: >= 0.8 both ways); ``openssh_sftp_aesgcm`` is
OpenSSH forced to the cipher netgui prefers (like for like).

Then the FTP / SFTP tab opens a folder of ``--entries`` files over SFTP: the time from asking
until every row is shown, against ``sftp -b`` running ``ls -l`` on it, and the longest stall of
the window's event loop meanwhile (``bench.ui_stall.StallMeter``; goal < 50 ms), next to the
same measure with the window idle.

Ends with one ``name: value`` line per figure.
"""

from __future__ import annotations

import argparse
import hashlib
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

from bench.common import ensure_display, pump_until, ram_folder  # noqa: E402
from bench.ui_stall import StallMeter  # noqa: E402
from netgui.net.ftp import sftp as sftp_core  # noqa: E402
from netgui.net.ftp.hostkeys import ONCE, KnownHosts  # noqa: E402
from netgui.net.ftp.sftp import SftpClient, SftpSite  # noqa: E402
from tests.support.sshd import Sshd  # noqa: E402

MiB = 1 << 20
SSH_OPTS = ["-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "LogLevel=ERROR"]
AES_GCM = "aes128-gcm@openssh.com"
CHACHA = "chacha20-poly1305@openssh.com"


# -- the tools -------------------------------------------------------------------------------

def openssh(server, key, commands: str, cipher: str | None = None) -> float:
    extra = ["-c", cipher] if cipher else []     # default: OpenSSH's own choice (chacha20-poly1305)
    t0 = time.perf_counter()
    subprocess.run(["sftp", "-q", "-b", "-", "-P", str(server.port), "-i", key, *SSH_OPTS, *extra,
                    "root@127.0.0.1"], input=commands.encode(), check=True, capture_output=True)
    return time.perf_counter() - t0


def curl(server, key, direction, remote, local) -> float:
    url = f"sftp://root@127.0.0.1:{server.port}{remote}"
    args = ["curl", "-sS", "-k", "--key", key, "--pubkey", key + ".pub", url]
    args += ["-o", str(local)] if direction == "get" else ["-T", str(local)]
    t0 = time.perf_counter()
    subprocess.run(args, check=True, capture_output=True)
    return time.perf_counter() - t0


def netgui_client(server, key, in_flight: int = sftp_core.MAX_IN_FLIGHT) -> SftpClient:
    site = SftpSite("127.0.0.1", server.port, user="root", key_file=key, auth="key", timeout=30)
    return SftpClient(site, known_hosts=KnownHosts(None, user_files=[]), ask_host_key=lambda q: ONCE,
                      in_flight=in_flight)


def netgui_variant(*, gather: bool = True, cipher: str | None = None, in_flight: int = sftp_core.MAX_IN_FLIGHT):
    """netgui's client, optionally with one lever changed."""
    def run(server, key, direction, remote, local) -> float:
        saved = sftp_core.GATHER_WRITES, sftp_core.CIPHERS
        sftp_core.GATHER_WRITES = gather
        if cipher:
            sftp_core.CIPHERS = (cipher,)
        try:
            t0 = time.perf_counter()          # connection and login included, as for the other tools
            client = netgui_client(server, key, in_flight)
            try:
                if direction == "get":
                    client.download(str(remote), local)
                else:
                    client.upload(local, str(remote))
            finally:
                client.close()
            return time.perf_counter() - t0
        finally:
            sftp_core.GATHER_WRITES, sftp_core.CIPHERS = saved
    return run


def digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 22):
            h.update(block)
    return h.hexdigest()


# -- transfers -------------------------------------------------------------------------------

def bench_transfers(server, key: str, work: Path, size: int, runs: int, tools: dict) -> dict:
    src = work / "src.bin"
    block = os.urandom(MiB)
    with open(src, "wb") as f:
        for _ in range(size // MiB):
            f.write(block[:64] + os.urandom(64) + block[128:])   # no two blocks alike
    want = digest(src)
    times: dict[tuple[str, str], list[float]] = {}
    for run in range(runs):
        names = list(tools) if run % 2 == 0 else list(reversed(tools))
        for name in names:
            fn = tools[name]
            for direction in ("get", "put"):
                out = work / ("down.bin" if direction == "get" else "up.bin")
                if fn is None or isinstance(fn, str):           # OpenSSH sftp, maybe with a cipher
                    commands = f"get {src} {out}" if direction == "get" else f"put {src} {out}"
                    secs = openssh(server, key, commands, fn)
                elif direction == "get":
                    secs = fn(server, key, "get", src, out)
                else:
                    secs = fn(server, key, "put", out, src)
                if out.stat().st_size != size or (run == 0 and digest(out) != want):
                    raise SystemExit(f"{name} {direction}: wrong bytes")
                out.unlink()
                times.setdefault((name, direction), []).append(secs)
                print(f"  round {run + 1} {name} {direction}: {size / secs / 1e6:.0f} MB/s", flush=True)
    src.unlink()
    return {key_: size / statistics.median(secs) / 1e6 for key_, secs in times.items()}


# -- the tab opening a big folder --------------------------------------------------------------

def bench_listing(server, key: str, work: Path, count: int, runs: int) -> dict[str, float]:
    from netgui.app import App
    from netgui.config import Secrets, Settings, config_dir
    from netgui.tabs import TabSpec

    folder = work / "many"
    folder.mkdir()
    for i in range(count):
        (folder / f"entry number {i:05d}.txt").write_bytes(b"x" * (i % 100))
    user_known_hosts = work / "known_hosts"
    user_known_hosts.write_text(server.host_key_line())
    os.environ["NETGUI_CONFIG_DIR"] = str(work / "config")
    os.environ["NETGUI_DATA_DIR"] = str(work / "data")
    app = App(settings=Settings(), secrets=Secrets(backend=None),
              tabs=[TabSpec("ftp", "FTP / SFTP", "netgui.tabs.ftp", "FtpTab")])
    tab = app._ensure_built("ftp")
    tab._known_hosts = KnownHosts(config_dir() / "known_hosts", user_files=[user_known_hosts])
    root = app.root
    tab.form.set_values({"protocol": "SFTP", "host": "127.0.0.1", "port": server.port, "user": "root",
                         "password": "", "login": "Key file", "key_file": key, "folder": str(work)})
    tab.form.submit()
    pane = tab.remote_pane
    pump_until(root, lambda: pane.path == str(work) and not pane.filling, 60)

    tab_times, sftp_times, stalls = [], [], []
    for run in range(runs):
        order = ("tab", "sftp") if run % 2 == 0 else ("sftp", "tab")
        for who in order:
            if who == "sftp":
                sftp_times.append(openssh(server, key, f"ls -l {folder}"))
                continue
            start = time.perf_counter()
            meter = StallMeter(root).start()
            tab.remote_go(str(folder))
            pump_until(root, lambda: pane.path == str(folder) and not pane.filling
                  and pane.shown_at is not None and pane.shown_at > start, 60)
            meter.stop()
            tab_times.append(pane.shown_at - start)
            stalls.append(meter.longest_ms)
            assert len(pane.tree.get_children()) == count
            tab.remote_go(str(work))
            pump_until(root, lambda: pane.path == str(work) and not pane.filling, 60)
    idle = []   # the same heartbeat with the window idle: what the shared machine itself costs
    for _ in range(runs):
        meter = StallMeter(root).start()
        until = time.perf_counter() + max(tab_times)
        pump_until(root, lambda: time.perf_counter() > until, 60)
        meter.stop()
        idle.append(meter.longest_ms)
    app.quit(ask=False)
    t, s = statistics.median(tab_times), statistics.median(sftp_times)
    return {f"list_{count}_tab_ms": t * 1000, f"list_{count}_openssh_sftp_ls_l_ms": s * 1000,
            f"list_{count}_tab_vs_openssh": s / t,
            f"list_{count}_ui_stall_ms": statistics.median(stalls), "idle_ui_stall_ms": statistics.median(idle)}


# -- main ------------------------------------------------------------------------------------

def main() -> None:
    import signal
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(143))   # clean up (sshd, files) when killed
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=1024)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--quick", action="store_true", help="64 MiB, 2 rounds")
    parser.add_argument("--levers", action="store_true",
                        help="also netgui without gathered writes, with chacha20, with 8/32/64 requests in flight")
    parser.add_argument("--no-listing", action="store_true", help="transfers only")
    args = parser.parse_args()
    if args.quick:
        args.mib, args.runs = 64, 2
    size = args.mib * MiB

    tools: dict = {"openssh_sftp": None, "openssh_sftp_aesgcm": AES_GCM, "curl": curl,
                   "netgui": netgui_variant()}
    if args.levers:
        tools.update({"netgui_ungathered": netgui_variant(gather=False),
                      "netgui_chacha20": netgui_variant(cipher=CHACHA),
                      "netgui_8_in_flight": netgui_variant(in_flight=8),
                      "netgui_32_in_flight": netgui_variant(in_flight=32),
                      "netgui_64_in_flight": netgui_variant(in_flight=64)})
    xvfb = None if args.no_listing else ensure_display(80, 20)
    work = Path(tempfile.mkdtemp(prefix="netgui-sftp-bench-", dir=ram_folder(size)))
    os.chmod(work, 0o755)
    results: dict[str, float] = {}
    try:
        with Sshd() as server:
            key = str(server.keys["ed25519"])
            speeds = bench_transfers(server, key, work, size, args.runs, tools)
            for (name, direction), mbps in speeds.items():
                results[f"{name}_{direction}_MBps"] = mbps
            for direction in ("get", "put"):
                for name in tools:
                    if name.startswith("netgui"):
                        results[f"{name}_vs_openssh_{direction}_ratio"] = \
                            speeds[(name, direction)] / speeds[("openssh_sftp", direction)]
                results[f"netgui_vs_openssh_aesgcm_{direction}_ratio"] = \
                    speeds[("netgui", direction)] / speeds[("openssh_sftp_aesgcm", direction)]
            if not args.no_listing:
                results.update(bench_listing(server, key, work, args.entries, args.runs))
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if xvfb is not None:
            xvfb.terminate()
    print(f"\n# SFTP benchmark: {args.mib} MiB against a local OpenSSH sshd, median of {args.runs} "
          f"alternating rounds (login included)")
    for name, value in results.items():
        print(f"{name}: {value:.2f}" if name.endswith("ratio") or "_vs_" in name else f"{name}: {value:.0f}")


if __name__ == "__main__":
    main()
