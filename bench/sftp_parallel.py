"""Parallel SFTP downloads: which way should the transfer queue run them?

    python bench/sftp_parallel.py [--files 4] [--mib 256] [--runs 3]

Three ways to fetch ``--files`` files of ``--mib`` MiB each from a local OpenSSH sshd, with
netgui's own ``ClientPool``, alternating, median of ``--runs`` (logins not timed):
- ``separate_connections``: one SSH connection per file (``sibling(same_connection=False)``;
  what ``sftp.pool_factory`` gives the tab's queue);
- ``one_connection``: one SFTP session per file on a single SSH connection (``sibling()``;
  what the queue uses after a login that took a one-time code);
- ``sequential``: one client, one file after another.
Ends with ``name: value`` lines (MB/s).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import ram_folder  # noqa: E402
from bench.sftp import netgui_client  # noqa: E402
from netgui.net.ftp.queue import ClientPool  # noqa: E402
from tests.support.sshd import Sshd  # noqa: E402

MiB = 1 << 20


def parallel(pool: ClientPool, sources: list[Path], work: Path) -> float:
    clients = [pool.acquire() for _ in sources]
    for client in clients:
        client.connect()                 # logins are not timed: only the transfers are
    started = time.perf_counter()
    threads = [threading.Thread(target=c.download, args=(str(src), work / f"out{i}.bin"))
               for i, (c, src) in enumerate(zip(clients, sources))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    for client in clients:
        pool.release(client)
    pool.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=4)
    parser.add_argument("--mib", type=int, default=256)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    total = args.files * args.mib * MiB
    work = Path(tempfile.mkdtemp(prefix="netgui-sftp-parallel-", dir=ram_folder(total)))
    os.chmod(work, 0o755)
    sources = []
    for i in range(args.files):
        path = work / f"src{i}.bin"
        with open(path, "wb") as f:
            for _ in range(args.mib):
                f.write(os.urandom(MiB))
        sources.append(path)
    results: dict[str, list[float]] = {}
    try:
        with Sshd() as server:
            key = str(server.keys["ed25519"])

            def pooled(same_connection: bool) -> float:
                root = netgui_client(server, key)
                root.connect()
                factory = lambda site, log: root.sibling(log=log, same_connection=same_connection)  # noqa: E731
                elapsed = parallel(ClientPool(root.site, size=args.files, factory=factory), sources, work)
                root.close()
                return elapsed

            def sequential() -> float:
                client = netgui_client(server, key)
                client.connect()
                started = time.perf_counter()
                for i, src in enumerate(sources):
                    client.download(str(src), work / f"out{i}.bin")
                elapsed = time.perf_counter() - started
                client.close()
                return elapsed

            ways = {"separate_connections": lambda: pooled(False), "one_connection": lambda: pooled(True),
                    "sequential": sequential}
            for run in range(args.runs):
                for name in (list(ways) if run % 2 == 0 else list(reversed(ways))):
                    elapsed = ways[name]()
                    for i in range(len(sources)):
                        out = work / f"out{i}.bin"
                        assert out.stat().st_size == args.mib * MiB
                        out.unlink()
                    results.setdefault(name, []).append(elapsed)
                    print(f"  run {run + 1} {name}: {total / elapsed / 1e6:.0f} MB/s", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"\n# {args.files} downloads of {args.mib} MiB at once, median of {args.runs} alternating runs")
    for name, times in results.items():
        print(f"{name}_MBps: {total / statistics.median(times) / 1e6:.0f}")


if __name__ == "__main__":
    main()
