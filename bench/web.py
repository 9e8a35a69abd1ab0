"""Benchmark the Web tab's HTTP core and GUI against curl, with a local nginx as the server
(plain HTTP/1.1, and HTTP/2 over TLS with ALPN h2).

    python bench/web.py            # 1 GiB downloads, 200 keep-alive and 100 HTTP/2 requests, 3 rounds
    python bench/web.py --quick    # 128 MiB downloads
    python bench/web.py --dir /dev/shm --rounds 5   # downloads to RAM: no disk noise
    python bench/web.py --only h2  # only the HTTP/2 figures (or --only h1)

Figures (medians of alternating runs), one ``name: value`` line each at the end:
- download_vs_curl: curl's time / netgui's time for the big download (1.0x = as fast)
- download_netgui_mib_s, download_curl_mib_s
- download_peak_rss_mb: peak RSS of the netgui process downloading (the core alone)
- gui_download_peak_rss_mb: peak RSS of the whole GUI downloading through the Web tab
- gui_longest_stall_ms: longest gap of a 10 ms after() heartbeat during that GUI download,
  minus the 10 ms; gui_idle_longest_stall_ms: the same over one idle second before it (the
  machine's noise floor: tkinter's own mainloop polls every 20 ms)
- keepalive_vs_curl: curl's time / netgui's time for 200 small requests on one connection
- download_h2_vs_curl: ``curl --http2 -o`` time / netgui's time, the big file over HTTP/2 (TLS)
  to disk; download_h2_peak_rss_mb: peak RSS of that netgui process
- many_h2_vs_curl: ``curl --http2 --parallel`` time / netgui's ``send_many`` time for 100 small
  requests multiplexed on one HTTP/2 connection (TLS)
- many_h2_vs_h1: netgui over HTTP/1.1 keep-alive (one connection, one request after another,
  same TLS server) / netgui ``send_many`` over HTTP/2
- many_h2_threads_ms: the same 100 requests from 16 threads sharing one HttpSession (and so one
  HTTP/2 connection), each calling ``send``
- many_rtt_*: the same 100 requests through a relay that adds a 10 ms round trip (loopback has
  none, so the figures above measure CPU per request; here waiting dominates, as on a network)
- *_cpu_*: CPU seconds (user + system) of the same runs, netgui's measured in its process around
  the work, curl's from its rusage: on a machine shared with other work these move far less
  than wall times do
The first request of each client (connect, TLS) is not timed: for curl, a one-request run is
measured and subtracted.
"""

from __future__ import annotations

import argparse
import os
import queue
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import ensure_display, free_port, wait_port  # noqa: E402


def start_nginx(tmp: Path, size: int):
    """nginx serving big.bin, small.txt and s0..s99.txt over plain HTTP/1.1 and over TLS with
    HTTP/2 (ALPN h2, http/1.1); returns (process, plain port, TLS port, CA file)."""
    import trustme
    www = tmp / "www"
    www.mkdir()
    with open(www / "big.bin", "wb") as f:  # real bytes, not a sparse file
        block = os.urandom(1 << 20)
        for _ in range(size >> 20):
            f.write(block)
    (www / "small.txt").write_bytes(b"x" * 1024)
    for i in range(100):
        (www / f"s{i}.txt").write_bytes(b"x" * 1024)
    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(tmp / "ca.pem"))
    cert = ca.issue_cert("localhost", "127.0.0.1")
    cert.private_key_pem.write_to_path(str(tmp / "key.pem"))
    cert.cert_chain_pems[0].write_to_path(str(tmp / "cert.pem"))
    for p in (tmp, www):
        os.chmod(p, 0o755)
    port = tls_port = free_port()
    while tls_port == port:  # free_port() may hand out the same port twice
        tls_port = free_port()
    conf = tmp / "nginx.conf"
    conf.write_text(textwrap.dedent(f"""
        worker_processes 1;
        pid {tmp}/nginx.pid;
        error_log {tmp}/error.log;
        events {{ worker_connections 128; }}
        http {{
            access_log off;
            client_body_temp_path {tmp}/body;
            proxy_temp_path {tmp}/proxy;
            fastcgi_temp_path {tmp}/fastcgi;
            uwsgi_temp_path {tmp}/uwsgi;
            scgi_temp_path {tmp}/scgi;
            sendfile on;
            keepalive_requests 100000;
            server {{ listen 127.0.0.1:{port}; root {www}; }}
            server {{
                listen 127.0.0.1:{tls_port} ssl http2;
                ssl_certificate {tmp}/cert.pem; ssl_certificate_key {tmp}/key.pem;
                root {www};
            }}
        }}
    """))
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    proc = subprocess.Popen([nginx, "-c", str(conf), "-p", str(tmp), "-g", "daemon off;"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wait_port(port, failure=SystemExit(f"nginx did not start on port {port}"))
    wait_port(tls_port, failure=SystemExit(f"nginx did not start on port {tls_port}"))
    return proc, port, tls_port, str(tmp / "ca.pem")


CORE_DOWNLOAD = """
import resource, sys, time
from netgui.net.http.session import HttpSession
from netgui.net.http.request import Request
url, target, version, ca = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] or None
start, cpu = time.perf_counter(), time.process_time()
resp = HttpSession(cafile=ca).send(Request(url, timeout=60, http_version=version), save_to=target)
elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
assert resp.status == 200 and resp.saved_path
assert resp.http_version == ("HTTP/2" if version == "2" else "HTTP/1.1"), resp.http_version
print(elapsed, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, cpu)
"""

GUI_DOWNLOAD = """
import resource, sys, time
from bench.ui_stall import run_until
from netgui.app import App
from netgui.config import Settings, Secrets
from netgui.tabs import TabSpec
url, target = sys.argv[1], sys.argv[2]
app = App(settings=Settings(), secrets=Secrets(),
          tabs=[TabSpec("web", "Web", "netgui.tabs.web", "WebTab")])
tab = app.tab("web")
root = app.root
for _ in range(20):
    root.update()
quiet_until = time.monotonic() + 1.0  # one idle second first: the noise floor of this machine
idle = run_until(root, lambda: time.monotonic() > quiet_until)
state = {}

def go():
    tab.form.set_values({"url": url, "save_to": target})
    state["t0"] = time.perf_counter()
    tab.form.submit_button.invoke()

root.after(0, go)
meter = run_until(root, lambda: "t0" in state and not tab.form.busy)
elapsed = time.perf_counter() - state["t0"]
status = tab.form.status.cget("text")
assert "saved to" in status, status
print(elapsed, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, meter.longest_ms,
      idle.longest_ms)
app.quit(ask=False)
"""

KEEPALIVE = """
import sys, time
from netgui.net.http.session import HttpSession
from netgui.net.http.request import Request
url, count = sys.argv[1], int(sys.argv[2])
session = HttpSession()
session.send(Request(url))  # not timed: the first connection, like curl's below
start, cpu = time.perf_counter(), time.process_time()
for _ in range(count):
    resp = session.send(Request(url))
    assert resp.status == 200 and resp.timing.reused
print(time.perf_counter() - start, time.process_time() - cpu)
"""


MANY = """
import sys, time
from concurrent.futures import ThreadPoolExecutor
from netgui.net.http.session import HttpSession
from netgui.net.http.request import Request
base, ca, mode = sys.argv[1], sys.argv[2], sys.argv[3]
version = "1.1" if mode == "h1" else "2"
session = HttpSession(cafile=ca)
session.send(Request(base + "s0.txt", http_version=version))  # connect + TLS: not timed
requests = [Request(base + f"s{i}.txt", http_version=version) for i in range(100)]
start, cpu = time.perf_counter(), time.process_time()
if mode == "h2":
    results = session.send_many(requests)
elif mode == "h2threads":
    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(session.send, requests))
else:
    results = [session.send(r) for r in requests]
elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
assert all(r.status == 200 and len(r.body) == 1024 and r.timing.reused for r in results)
assert {r.http_version for r in results} == {"HTTP/1.1" if mode == "h1" else "HTTP/2"}
assert mode == "h1" or session.http2_connections == 1
print(elapsed, cpu)
"""


class DelayRelay:
    """A TCP relay on 127.0.0.1 that delivers every byte ``delay`` seconds late, both ways
    (a round trip of 2 x delay, as on a real network), in order. TLS passes through."""

    def __init__(self, target_port: int, delay: float):
        self.target, self.delay = target_port, delay
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target))
            for sock in (client, upstream):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            for src, dst in ((client, upstream), (upstream, client)):
                pending: queue.Queue = queue.Queue()
                threading.Thread(target=self._read, args=(src, pending), daemon=True).start()
                threading.Thread(target=self._write, args=(dst, pending), daemon=True).start()

    def _read(self, src: socket.socket, pending: queue.Queue) -> None:
        while True:
            try:
                data = src.recv(262144)
            except OSError:
                data = b""
            pending.put((time.monotonic() + self.delay, data))
            if not data:
                return

    @staticmethod
    def _write(dst: socket.socket, pending: queue.Queue) -> None:
        while True:
            due, data = pending.get()
            time.sleep(max(0.0, due - time.monotonic()))
            try:
                if not data:
                    dst.shutdown(socket.SHUT_WR)
                    return
                dst.sendall(data)
            except OSError:
                return

    def close(self) -> None:
        self.server.close()


def run_python(code: str, *args: str, env=None) -> list[float]:
    out = subprocess.run([PYTHON, "-c", code, *args], capture_output=True, text=True, cwd=ROOT,
                         env=env, timeout=900)
    if out.returncode != 0:
        raise SystemExit(f"netgui run failed:\n{out.stderr}")
    return [float(x) for x in out.stdout.split()]


def timed_run(args: list[str], **kwargs) -> tuple[float, float]:
    """(wall seconds, CPU seconds: user + system) of a child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(args, check=True, **kwargs)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def curl_download(url: str, target: Path, *options: str) -> tuple[float, float]:
    return timed_run(["curl", "-sS", *options, "-o", str(target), url], timeout=900)


def curl_many(base: str, ca: str) -> tuple[float, float]:
    # 101 URLs in one curl multiplexed on one HTTP/2 connection (not --parallel-immediate:
    # that opens a connection per URL); a one-request run is measured and subtracted.
    common = ["curl", "-sS", "--http2", "--cacert", ca]
    single, single_cpu = timed_run(common + ["-o", "/dev/null", base + "s0.txt"])
    args = common + ["--parallel", "--parallel-max", "100"]
    for i in range(-1, 100):
        args += ["-o", "/dev/null", base + f"s{max(i, 0)}.txt"]
    wall, cpu = timed_run(args, timeout=300, stderr=subprocess.DEVNULL)
    return wall - single, cpu - single_cpu


def curl_keepalive(url: str, count: int) -> tuple[float, float]:
    # One curl process, count+1 URLs: curl reuses its connection for all of them. The first
    # request (connect) is included for curl; its process start is measured and subtracted.
    single, single_cpu = timed_run(["curl", "-sS", "-o", "/dev/null", url])
    args = ["curl", "-sS"]
    for _ in range(count + 1):
        args += ["-o", "/dev/null", url]
    wall, cpu = timed_run(args, timeout=300)
    return wall - single, cpu - single_cpu


RTT = 0.010  # the round trip DelayRelay adds for the many_rtt_* figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, fewer rounds")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--dir", default=None,
                        help="where downloads are written (default: a temp folder; /dev/shm "
                             "takes the disk out of the comparison)")
    parser.add_argument("--only", choices=("h1", "h2"), default=None,
                        help="only the HTTP/1.1 (with the GUI) or only the HTTP/2 figures")
    args = parser.parse_args()
    size = (128 if args.quick else 1024) << 20
    rounds = args.rounds or 3
    count = 200
    do_h1, do_h2 = args.only != "h2", args.only != "h1"

    tmp = Path(tempfile.mkdtemp(prefix="netgui-bench-web-"))
    xvfb = ensure_display(90, 9) if do_h1 else None
    nginx, port, tls_port, ca = start_nginx(tmp, size)
    env = dict(os.environ, NETGUI_CONFIG_DIR=str(tmp / "config"), NETGUI_DATA_DIR=str(tmp / "data"),
               PYTHONPATH=str(ROOT))
    big = f"http://127.0.0.1:{port}/big.bin"
    small = f"http://127.0.0.1:{port}/small.txt"
    base_h2 = f"https://localhost:{tls_port}/"
    relay = DelayRelay(tls_port, RTT / 2) if do_h2 else None
    base_rtt = f"https://localhost:{relay.port}/" if relay else ""
    rtt: dict[str, list[float]] = {"h2": [], "h1": [], "curl": []}
    out_dir = Path(tempfile.mkdtemp(prefix="netgui-bench-out-", dir=args.dir)) if args.dir else tmp
    target = out_dir / "out.bin"
    ours, theirs, rss, gui_rss, stalls, gui_times = [], [], [], [], [], []
    keep_ours, keep_theirs, idles = [], [], []
    h2_ours, h2_theirs, h2_rss, many_h2, many_threads, many_h1, many_curl = [], [], [], [], [], [], []
    cpu: dict[str, list[float]] = {key: [] for key in (
        "h1", "h1_curl", "keepalive", "keepalive_curl", "h2", "h2_curl", "many", "many_curl")}

    def download(who: str, url: str, version: str, cafile: str, times: list, peaks: list,
                 *curl_options: str) -> None:
        os.sync()  # start each download with no dirty pages left by the previous one
        kind = "h2" if version == "2" else "h1"
        if who == "netgui":
            elapsed, peak, used = run_python(CORE_DOWNLOAD, url, str(target), version, cafile,
                                             env=env)
            times.append(elapsed)
            peaks.append(peak)
            cpu[kind].append(used)
        else:
            elapsed, used = curl_download(url, target, *curl_options)
            times.append(elapsed)
            cpu[kind + "_curl"].append(used)
        assert target.stat().st_size == size
        target.unlink()

    try:
        for round_ in range(rounds):
            order = ("netgui", "curl") if round_ % 2 == 0 else ("curl", "netgui")
            line = [f"round {round_ + 1}:"]
            if do_h1:
                for who in order:
                    download(who, big, "1.1", "", ours if who == "netgui" else theirs, rss)
                os.sync()
                elapsed, peak, stall, idle = run_python(GUI_DOWNLOAD, big, str(target), env=env)
                idles.append(idle)
                assert target.stat().st_size == size
                target.unlink()
                gui_times.append(elapsed)
                gui_rss.append(peak)
                stalls.append(stall)
                for who in order:
                    if who == "netgui":
                        elapsed, used = run_python(KEEPALIVE, small, str(count), env=env)
                        keep_ours.append(elapsed)
                        cpu["keepalive"].append(used)
                    else:
                        elapsed, used = curl_keepalive(small, count)
                        keep_theirs.append(elapsed)
                        cpu["keepalive_curl"].append(used)
                line.append(f"netgui {ours[-1]:.2f} s, curl {theirs[-1]:.2f} s, gui "
                            f"{gui_times[-1]:.2f} s (stall {stalls[-1]:.0f} ms); keep-alive netgui "
                            f"{keep_ours[-1] * 1000:.0f} ms, curl {keep_theirs[-1] * 1000:.0f} ms;")
            if do_h2:
                for who in order:
                    download(who, base_h2 + "big.bin", "2", ca,
                             h2_ours if who == "netgui" else h2_theirs, h2_rss,
                             "--http2", "--cacert", ca)
                for who in order:
                    if who == "netgui":
                        elapsed, used = run_python(MANY, base_h2, ca, "h2", env=env)
                        many_h2.append(elapsed)
                        cpu["many"].append(used)
                        many_threads.append(run_python(MANY, base_h2, ca, "h2threads", env=env)[0])
                        many_h1.append(run_python(MANY, base_h2, ca, "h1", env=env)[0])
                    else:
                        elapsed, used = curl_many(base_h2, ca)
                        many_curl.append(elapsed)
                        cpu["many_curl"].append(used)
                for who in order:
                    if who == "netgui":
                        rtt["h2"].append(run_python(MANY, base_rtt, ca, "h2", env=env)[0])
                        rtt["h1"].append(run_python(MANY, base_rtt, ca, "h1", env=env)[0])
                    else:
                        rtt["curl"].append(curl_many(base_rtt, ca)[0])
                line.append(f"HTTP/2 netgui {h2_ours[-1]:.2f} s, curl {h2_theirs[-1]:.2f} s; 100 "
                            f"requests send_many {many_h2[-1] * 1000:.0f} ms, threads "
                            f"{many_threads[-1] * 1000:.0f} ms, HTTP/1.1 {many_h1[-1] * 1000:.0f} "
                            f"ms, curl {many_curl[-1] * 1000:.0f} ms; with a {RTT * 1000:.0f} ms round "
                            f"trip: send_many {rtt['h2'][-1] * 1000:.0f} ms, HTTP/1.1 "
                            f"{rtt['h1'][-1] * 1000:.0f} ms, curl {rtt['curl'][-1] * 1000:.0f} ms")
            print(" ".join(line), flush=True)
    finally:
        if relay is not None:
            relay.close()
        nginx.terminate()
        nginx.wait(10)
        if xvfb is not None:
            xvfb.terminate()
            xvfb.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(out_dir, ignore_errors=True)

    med = statistics.median
    mib = size / (1 << 20)
    print(f"download_size_mib: {mib:.0f}")
    if do_h1:
        print(f"download_netgui_mib_s: {mib / med(ours):.0f}")
        print(f"download_curl_mib_s: {mib / med(theirs):.0f}")
        print(f"download_vs_curl: {med(theirs) / med(ours):.2f}x")
        print(f"download_peak_rss_mb: {max(rss):.0f}")
        print(f"gui_download_mib_s: {mib / med(gui_times):.0f}")
        print(f"gui_download_peak_rss_mb: {max(gui_rss):.0f}")
        print(f"gui_longest_stall_ms: {max(stalls):.0f}")
        print(f"gui_idle_longest_stall_ms: {max(idles):.0f}")
        print(f"keepalive_netgui_ms: {med(keep_ours) * 1000:.0f}")
        print(f"keepalive_curl_ms: {med(keep_theirs) * 1000:.0f}")
        print(f"keepalive_vs_curl: {med(keep_theirs) / med(keep_ours):.2f}x")
        print(f"download_cpu_netgui_s: {med(cpu['h1']):.2f}")
        print(f"download_cpu_curl_s: {med(cpu['h1_curl']):.2f}")
        print(f"keepalive_cpu_netgui_ms: {med(cpu['keepalive']) * 1000:.0f}")
        print(f"keepalive_cpu_curl_ms: {med(cpu['keepalive_curl']) * 1000:.0f}")
    if do_h2:
        print(f"download_h2_netgui_mib_s: {mib / med(h2_ours):.0f}")
        print(f"download_h2_curl_mib_s: {mib / med(h2_theirs):.0f}")
        print(f"download_h2_vs_curl: {med(h2_theirs) / med(h2_ours):.2f}x")
        print(f"download_h2_peak_rss_mb: {max(h2_rss):.0f}")
        print(f"download_h2_cpu_netgui_s: {med(cpu['h2']):.2f}")
        print(f"download_h2_cpu_curl_s: {med(cpu['h2_curl']):.2f}")
        print(f"download_h2_cpu_vs_curl: {med(cpu['h2_curl']) / med(cpu['h2']):.2f}x")
        print(f"many_h2_netgui_ms: {med(many_h2) * 1000:.0f}")
        print(f"many_h2_threads_ms: {med(many_threads) * 1000:.0f}")
        print(f"many_h1_netgui_ms: {med(many_h1) * 1000:.0f}")
        print(f"many_h2_curl_ms: {med(many_curl) * 1000:.0f}")
        print(f"many_h2_vs_curl: {med(many_curl) / med(many_h2):.2f}x")
        print(f"many_h2_vs_h1: {med(many_h1) / med(many_h2):.2f}x")
        print(f"many_h2_cpu_netgui_ms: {med(cpu['many']) * 1000:.0f}")
        print(f"many_h2_cpu_curl_ms: {med(cpu['many_curl']) * 1000:.0f}")
        print(f"many_rtt_ms: {RTT * 1000:.0f}")
        print(f"many_rtt_h2_netgui_ms: {med(rtt['h2']) * 1000:.0f}")
        print(f"many_rtt_h1_netgui_ms: {med(rtt['h1']) * 1000:.0f}")
        print(f"many_rtt_h2_curl_ms: {med(rtt['curl']) * 1000:.0f}")
        print(f"many_rtt_h2_vs_curl: {med(rtt['curl']) / med(rtt['h2']):.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
