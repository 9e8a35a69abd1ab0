"""DNS speed: netgui's bulk lookup vs ``dig -f``, and one query vs ``dig``, against a local dnsmasq.

Every figure is the median of alternating runs in the same process.

- ``bulk``: 1,000 names (``--quick``: 300) resolved by ``bulk_resolve`` vs ``dig -f`` on the
  same list. A local dnsmasq answers in microseconds, so this measures per-query CPU cost;
  ``bulk_latency`` repeats it through a proxy that delays every reply by 5 ms (like a
  nearby resolver), where answering many names at once is what counts.
- ``ui_bulk``: with a DISPLAY, the Bulk pane fills its table with the 1,000 rows while a
  10 ms heartbeat measures the longest stall of the Tk loop.
- ``single``: one ``a.test A`` query. dig's time includes its process start; netgui's core is
  timed in-process (what the app does) and, for fairness, also as a fresh ``python`` process.
- ``dnspython_parse_floor``: only ``dns.message.from_wire`` over the same 1,000 replies, with
  no network and nothing else: the least any dnspython-based bulk lookup can cost here,
  beside the budget a 5x goal against ``dig -f`` leaves.

    python -m bench.dns [--quick] [--runs N]
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import free_port, timed  # noqa: E402
from netgui.net.dns.bulk import bulk_resolve  # noqa: E402
from netgui.net.dns.lookup import query  # noqa: E402

DELAY_PROXY = r"""
import asyncio, sys
upstream = ("127.0.0.1", int(sys.argv[1])); delay = float(sys.argv[2])
class Front(asyncio.DatagramProtocol):
    def connection_made(self, transport):
        self.transport = transport
        print(transport.get_extra_info("sockname")[1], flush=True)
    def datagram_received(self, data, client):
        loop = asyncio.get_running_loop()
        async def relay():
            back, _ = await loop.create_datagram_endpoint(lambda: Back(self.transport, client),
                                                          remote_addr=upstream)
            back.sendto(data)
        loop.create_task(relay())
class Back(asyncio.DatagramProtocol):
    def __init__(self, front, client):
        self.front, self.client = front, client
    def connection_made(self, transport):
        self.transport = transport
    def datagram_received(self, data, addr):
        asyncio.get_running_loop().call_later(delay, self.front.sendto, data, self.client)
        self.transport.close()
async def main():
    loop = asyncio.get_running_loop()
    await loop.create_datagram_endpoint(Front, local_addr=("127.0.0.1", 0))
    await asyncio.Event().wait()
asyncio.run(main())
"""


def start_dnsmasq(workdir: Path, count: int) -> tuple[subprocess.Popen, int]:
    binary = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"
    hosts = workdir / "hosts"
    hosts.write_text("".join(f"10.{i // 65536}.{i // 256 % 256}.{i % 256} host{i}.bench\n"
                             for i in range(count)) + "10.1.2.3 a.test\n")
    port = free_port()
    proc = subprocess.Popen([binary, "--no-daemon", f"--port={port}", "--listen-address=127.0.0.1",
                             "--bind-interfaces", "--no-resolv", "--no-hosts", "--no-ident",
                             f"--addn-hosts={hosts}", "--local=/bench/", "--local=/test/",
                             "--cache-size=10000", f"--pid-file={workdir / 'pid'}",
                             f"--log-facility={workdir / 'log'}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            query("a.test", "A", ("127.0.0.1", port), timeout=0.5)
            return proc, port
        except Exception:
            time.sleep(0.05)
    raise SystemExit("dnsmasq did not start")


def alternate(a, b, runs: int) -> tuple[float, float]:
    """Median seconds of ``a`` and ``b`` over alternating runs (one warm-up each)."""
    a(), b()
    ta, tb = [], []
    for _ in range(runs):
        ta.append(timed(a))
        tb.append(timed(b))
    return statistics.median(ta), statistics.median(tb)


def dig_file(port: int, names_file: Path):
    def run():
        out = subprocess.run(["dig", "@127.0.0.1", "-p", str(port), "-f", str(names_file),
                              "+noall", "+answer", "+tries=3"],
                             capture_output=True, text=True, check=True).stdout
        if not out.strip():
            raise SystemExit("dig -f answered nothing")
    return run


def netgui_bulk(port: int, pairs):
    def run():
        rows = bulk_resolve(pairs, ("127.0.0.1", port), timeout=5, concurrency=100)
        bad = [r for r in rows if r.status != "NOERROR"]
        if bad:
            raise SystemExit(f"bulk: {len(bad)} failures, e.g. {bad[0]}")
    return run


def parse_floor(port: int, names: list[str], runs: int) -> float:
    """Median seconds dnspython needs just to parse the replies to ``names`` (fetched once)."""
    import socket

    import dns.message
    import dns.name

    from netgui.net.dns.bulk import _render_query

    replies = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(2)
        sock.connect(("127.0.0.1", port))
        for i, name in enumerate(names):
            sock.send(_render_query(i, dns.name.from_text(name), 1, True, False))
            replies.append(sock.recv(65535))
    return statistics.median(timed(lambda: [dns.message.from_wire(r) for r in replies])
                             for _ in range(runs))


def ui_bulk_stall(port: int, names: list[str]) -> tuple[float, float]:
    """(longest Tk stall in ms, seconds) while the Bulk pane resolves ``names`` into its table."""
    os.environ.setdefault("NETGUI_CONFIG_DIR", tempfile.mkdtemp(prefix="netgui-bench-"))
    from bench.ui_stall import run_until
    from netgui.app import App
    from netgui.tabs import TabSpec

    app = App(tabs=[TabSpec("dns", "DNS", "netgui.tabs.dns", "DnsTab")])
    tab = app.tab("dns")
    tab.form.set_values({"server": f"127.0.0.1:{port}"})
    tab.bulk.set_entry("\n".join(names))
    tab.pages.select(tab.bulk)
    app.root.update()
    started = time.perf_counter()
    tab.bulk.run()
    meter = run_until(app.root, lambda: tab.bulk.task.finished is not None and not tab.bulk.pending,
                      timeout=60)
    elapsed = time.perf_counter() - started
    rows = len(tab.bulk.table.rows())
    app.quit(ask=False)
    if rows != len(names):
        raise SystemExit(f"the Bulk table has {rows} rows, expected {len(names)}")
    return meter.longest_ms, elapsed


def main() -> None:
    quick = "--quick" in sys.argv
    runs = int(sys.argv[sys.argv.index("--runs") + 1]) if "--runs" in sys.argv else (3 if quick else 5)
    count = 300 if quick else 1000
    latency_count = 100 if quick else 300
    if not shutil.which("dig"):
        raise SystemExit("dig is not installed (bind9-dnsutils)")
    workdir = Path(tempfile.mkdtemp(prefix="netgui-bench-dns-"))
    proc, port = start_dnsmasq(workdir, count)
    proxy = None
    try:
        names = [f"host{i}.bench" for i in range(count)]
        names_file = workdir / "names.txt"
        names_file.write_text("".join(f"{n} A\n" for n in names))
        pairs = [(n, "A") for n in names]

        dig_s, bulk_s = alternate(dig_file(port, names_file), netgui_bulk(port, pairs), runs)
        floor_s = parse_floor(port, names, runs)

        proxy = subprocess.Popen([sys.executable, "-c", DELAY_PROXY, str(port), "0.005"],
                                 stdout=subprocess.PIPE, text=True)
        proxy_port = int(proxy.stdout.readline())
        slow_file = workdir / "slow.txt"
        slow_file.write_text("".join(f"{n} A\n" for n in names[:latency_count]))
        slow_dig_s, slow_bulk_s = alternate(dig_file(proxy_port, slow_file),
                                            netgui_bulk(proxy_port, pairs[:latency_count]),
                                            max(1, runs // 2))

        server = ("127.0.0.1", port)
        dig_one = ["dig", "@127.0.0.1", "-p", str(port), "a.test", "A", "+noall", "+answer"]
        one_script = ("import sys; sys.path.insert(0, %r); from netgui.net.dns.lookup import query; "
                      "print(query('a.test', 'A', ('127.0.0.1', %d), timeout=2).answer[0].data)"
                      % (str(ROOT), port))
        single_runs = max(runs * 4, 11)
        dig_one_s, core_one_s = alternate(
            lambda: subprocess.run(dig_one, capture_output=True, check=True),
            lambda: query("a.test", "A", server, timeout=2), single_runs)
        _, proc_one_s = alternate(
            lambda: subprocess.run(dig_one, capture_output=True, check=True),
            lambda: subprocess.run([sys.executable, "-c", one_script], capture_output=True,
                                   check=True), max(runs, 5))
        stall = ui_bulk_stall(port, names) if os.environ.get("DISPLAY") else None
    finally:
        if proxy is not None:
            proxy.terminate()
            proxy.wait(5)
        proc.terminate()
        proc.wait(5)
        shutil.rmtree(workdir, ignore_errors=True)

    print(f"bulk_names: {count}")
    print(f"bulk_netgui_s: {bulk_s:.3f}")
    print(f"bulk_dig_f_s: {dig_s:.3f}")
    print(f"bulk_speedup_vs_dig_f: {dig_s / bulk_s:.2f}x")
    print(f"bulk_5x_goal_budget_ms: {dig_s / 5 * 1000:.1f}")
    print(f"dnspython_parse_floor_ms: {floor_s * 1000:.1f}")
    print(f"bulk_5x_goal_reachable_with_dnspython: {'yes' if floor_s < dig_s / 5 else 'no'}")
    print(f"bulk_latency_names: {latency_count}")
    print(f"bulk_latency_5ms_netgui_s: {slow_bulk_s:.3f}")
    print(f"bulk_latency_5ms_dig_f_s: {slow_dig_s:.3f}")
    print(f"bulk_latency_5ms_speedup_vs_dig_f: {slow_dig_s / slow_bulk_s:.2f}x")
    print(f"single_dig_process_ms: {dig_one_s * 1000:.2f}")
    print(f"single_netgui_core_ms: {core_one_s * 1000:.2f}")
    print(f"single_netgui_process_ms: {proc_one_s * 1000:.2f}")
    print(f"single_core_vs_dig: {core_one_s / dig_one_s:.2f}x")
    print(f"single_process_vs_dig: {proc_one_s / dig_one_s:.2f}x")
    if stall is not None:
        print(f"ui_bulk_table_s: {stall[1]:.3f}")
        print(f"ui_bulk_stall_max_ms: {stall[0]:.1f}")
    else:
        print("ui_bulk_stall_max_ms: n/a (no DISPLAY)")


if __name__ == "__main__":
    main()
