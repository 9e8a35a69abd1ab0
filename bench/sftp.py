"""SFTP benchmark: netgui's SftpClient against OpenSSH ``sftp -b`` and ``curl sftp://`` on loopback.

    python bench/sftp.py              # 1 GiB download and upload, 10,000-entry folder, 3 rounds
    python bench/sftp.py --quick      # 64 MiB, for a trial run

A throwaway sshd (tests/support/sshd.py) serves a file in /tmp (deleted afterwards). Each
round runs every tool once per direction, alternating; the result is the median. Then a
folder of ``--entries`` files is listed by netgui and by ``sftp ls -l``. Ends with
``name: value`` lines; ``*_ratio`` is netgui / OpenSSH sftp (goal: >= 0.8 both ways);
``openssh_sftp_aesgcm`` is OpenSSH forced to the cipher netgui prefers (like for like).
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

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from netgui.net.ftp.hostkeys import ONCE, KnownHosts  # noqa: E402
from netgui.net.ftp.sftp import SftpClient, SftpSite  # noqa: E402
from tests.support.sshd import Sshd  # noqa: E402

SSH_OPTS = ["-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "LogLevel=ERROR"]


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


def netgui_client(server, key) -> SftpClient:
    site = SftpSite("127.0.0.1", server.port, user="root", key_file=key, auth="key", timeout=30)
    return SftpClient(site, known_hosts=KnownHosts(None, user_files=[]), ask_host_key=lambda q: ONCE,
                      in_flight=int(os.environ.get("NETGUI_SFTP_IN_FLIGHT", "16")))


def netgui(server, key, direction, remote, local) -> float:
    t0 = time.perf_counter()          # connection and login included, as for the other tools
    client = netgui_client(server, key)
    try:
        if direction == "get":
            client.download(str(remote), local)
        else:
            client.upload(local, str(remote))
    finally:
        client.close()
    return time.perf_counter() - t0


def digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 22):
            h.update(block)
    return h.hexdigest()


def main() -> None:
    import signal
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(143))   # clean up (sshd, /tmp) when killed
    parser = argparse.ArgumentParser()
    parser.add_argument("--mib", type=int, default=1024)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--skip-curl", action="store_true")
    parser.add_argument("--quick", action="store_true", help="64 MiB, 2 rounds")
    args = parser.parse_args()
    if args.quick:
        args.mib, args.runs = 64, 2

    work = Path(tempfile.mkdtemp(prefix="netgui-sftp-bench-", dir="/tmp"))
    os.chmod(work, 0o755)
    src = work / "src.bin"
    with open(src, "wb") as f:
        block = os.urandom(1 << 20)
        for _ in range(args.mib):
            f.write(block)
    size = src.stat().st_size
    want = digest(src)
    tools = {"openssh_sftp": None, "openssh_sftp_aesgcm": "aes128-gcm@openssh.com", "netgui": netgui}
    if not args.skip_curl:
        tools["curl"] = curl
    times: dict[tuple[str, str], list[float]] = {}
    try:
        with Sshd() as server:
            key = str(server.keys["ed25519"])
            for run in range(args.runs):
                for name, fn in tools.items():
                    for direction in ("get", "put"):
                        ref = fn is None or isinstance(fn, str)     # OpenSSH sftp, maybe with a cipher
                        if direction == "get":
                            out = work / "down.bin"
                            secs = (openssh(server, key, f"get {src} {out}", fn) if ref
                                    else fn(server, key, "get", src, out))
                        else:
                            out = work / "up.bin"
                            secs = (openssh(server, key, f"put {src} {out}", fn) if ref
                                    else fn(server, key, "put", out, src))
                        if out.stat().st_size != size or (run == 0 and digest(out) != want):
                            raise SystemExit(f"{name} {direction}: wrong bytes")
                        out.unlink()
                        times.setdefault((name, direction), []).append(secs)
                        print(f"  round {run + 1} {name} {direction}: {size / secs / 1e6:.0f} MB/s", flush=True)
            src.unlink()

            # a big folder
            folder = work / "many"
            folder.mkdir()
            for i in range(args.entries):
                (folder / f"file-{i:05d}.txt").write_bytes(b"x" * (i % 100))
            list_times: dict[str, list[float]] = {"openssh_sftp": [], "netgui": []}
            for _ in range(args.runs):
                list_times["openssh_sftp"].append(openssh(server, key, f"ls -l {folder}"))
                t0 = time.perf_counter()
                client = netgui_client(server, key)
                try:
                    entries = client.listdir(str(folder))
                finally:
                    client.close()
                list_times["netgui"].append(time.perf_counter() - t0)
                assert len(entries) == args.entries
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print()
    results = {}
    for (name, direction), secs in times.items():
        results[(name, direction)] = size / statistics.median(secs) / 1e6
        print(f"{name}_{direction}_MBps: {results[(name, direction)]:.0f}")
    for direction in ("get", "put"):
        print(f"netgui_vs_openssh_{direction}_ratio: "
              f"{results[('netgui', direction)] / results[('openssh_sftp', direction)]:.2f}")
        print(f"netgui_vs_openssh_aesgcm_{direction}_ratio: "
              f"{results[('netgui', direction)] / results[('openssh_sftp_aesgcm', direction)]:.2f}")
    for name, secs in list_times.items():
        print(f"{name}_list_{args.entries}_s: {statistics.median(secs):.2f}")


if __name__ == "__main__":
    main()
