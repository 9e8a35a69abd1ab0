"""Parallel transfers: N connections (N SftpClients, as ClientPool does) vs N files on one connection.

    python bench/sftp_parallel.py [--files 4] [--mib 256] [--runs 3]
"""
import argparse, asyncio, os, shutil, statistics, sys, tempfile, threading, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import asyncssh
from netgui.net.ftp.hostkeys import ONCE, KnownHosts
from netgui.net.ftp.sftp import SftpClient, SftpSite
from tests.support.sshd import Sshd

p = argparse.ArgumentParser(); p.add_argument("--files", type=int, default=4); p.add_argument("--mib", type=int, default=256)
p.add_argument("--runs", type=int, default=3); a = p.parse_args()
work = Path(tempfile.mkdtemp(prefix="netgui-par-", dir="/tmp")); os.chmod(work, 0o755)
block = os.urandom(1 << 20)
srcs = []
for i in range(a.files):
    f = work / f"src{i}.bin"
    with open(f, "wb") as out:
        for _ in range(a.mib): out.write(block)
    srcs.append(f)
total = a.files * a.mib * (1 << 20)
res = {}
try:
    with Sshd() as s:
        key = str(s.keys["ed25519"])
        def client():
            return SftpClient(SftpSite("127.0.0.1", s.port, user="root", key_file=key, auth="key", timeout=30),
                              known_hosts=KnownHosts(None, user_files=[]), ask_host_key=lambda q: ONCE)
        def many_connections():
            cs = [client() for _ in srcs]
            for c in cs: c.connect()
            t0 = time.perf_counter()
            ts = [threading.Thread(target=c.download, args=(str(src), work / f"out{i}.bin")) for i, (c, src) in enumerate(zip(cs, srcs))]
            for t in ts: t.start()
            for t in ts: t.join()
            dt = time.perf_counter() - t0
            for c in cs: c.close()
            return dt
        def one_connection():
            async def main():
                async with asyncssh.connect("127.0.0.1", s.port, username="root", client_keys=[key], known_hosts=None,
                                            encryption_algs=["aes128-gcm@openssh.com"]) as conn:
                    async with conn.start_sftp_client() as sftp:
                        t0 = time.perf_counter()
                        await asyncio.gather(*(sftp.get(str(src), str(work / f"out{i}.bin"), block_size=261120, max_requests=16)
                                               for i, src in enumerate(srcs)))
                        return time.perf_counter() - t0
            return asyncio.run(main())
        def one_file_at_a_time():
            c = client(); c.connect(); t0 = time.perf_counter()
            for i, src in enumerate(srcs): c.download(str(src), work / f"out{i}.bin")
            dt = time.perf_counter() - t0; c.close(); return dt
        for r in range(a.runs):
            for name, fn in (("separate_connections", many_connections), ("one_connection", one_connection), ("sequential", one_file_at_a_time)):
                dt = fn(); res.setdefault(name, []).append(dt)
                print(f"  run {r+1} {name}: {total/dt/1e6:.0f} MB/s", flush=True)
                for i in range(len(srcs)): (work / f"out{i}.bin").unlink()
finally:
    shutil.rmtree(work, ignore_errors=True)
for name, v in res.items(): print(f"{name}_{a.files}x{a.mib}MiB_MBps: {total/statistics.median(v)/1e6:.0f}")
