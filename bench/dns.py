"""DNS speed: netgui's bulk lookup vs ``dig -f``, and one query vs ``dig``, against a local dnsmasq.

Every comparison is the median of alternating runs in the same process. The issue 20 goals
are printed beside the figures (``*_goal_met: yes/no``).

- ``bulk``: 1,000 names (``--quick``: 300) resolved by ``bulk_resolve`` vs ``dig -f`` on the
  same list, on loopback: a local dnsmasq answers in microseconds, so this is CPU per reply
  (goal: at least 1.0x ``dig -f``).
- ``bulk_5ms``: the same through a proxy that delays every reply by 5 ms (a server nearby),
  at the app's concurrency (100) and at 200 (goal: at least 20x ``dig -f``, and within 2x of
  the floor: the raw round trips at that concurrency through the same proxy plus
  dnspython's parse floor).
- ``parse floors``: ``dns.message.from_wire`` over the same 1,000 replies (dnspython's
  floor, as the issue defines it) and ``read_reply``, the dnspython-based reader bulk uses.
- ``bulk_from_wire``: bulk with ``read_reply`` swapped for ``from_wire`` (the reader's worth).
- ``ui_bulk``: with a DISPLAY, the Bulk pane fills its table with the 1,000 rows while a
  10 ms heartbeat measures the longest stall of the Tk loop (goal: under 50 ms); after each
  run the same window idles as long, measured the same way (``ui_idle``: what the machine's
  load alone costs).
- ``single``: one ``a.test A`` query. dig's time includes its process start; netgui's core is
  timed in-process (what the app does) and, for fairness, also as a fresh ``python`` process.

    python -m bench.dns [--quick] [--runs N]
"""

from __future__ import annotations

import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import dns.message  # noqa: E402
import dns.name  # noqa: E402

import netgui.net.dns.bulk as bulk  # noqa: E402
from bench.common import free_port, timed  # noqa: E402
from netgui.net.dns.bulk import _QueryTemplate, bulk_resolve, read_reply  # noqa: E402
from netgui.net.dns.lookup import query  # noqa: E402

# A server 5 ms away: one socket each way; each reply waits in a timer heap (call_later
# without an event loop) and leaves when its time is up. Every wake-up reads all waiting
# datagrams. Measured on loopback with 1,000 queries 100 at a time: about 30 us per query
# (an asyncio version with call_later cost 180 us per query, which distorted the figures).
# Replies are matched to clients by message id (one client at a time in this benchmark).
DELAY_PROXY = r"""
import heapq, itertools, select, socket, sys, time
upstream = ("127.0.0.1", int(sys.argv[1])); delay = float(sys.argv[2])
front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); front.bind(("127.0.0.1", 0))
back = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); back.connect(upstream)
for s in (front, back):
    s.setblocking(False); s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 21)
print(front.getsockname()[1], flush=True)
waiting, due, seq = {}, [], itertools.count()
while True:
    timeout = max(0.0, due[0][0] - time.perf_counter()) if due else None
    readable, _, _ = select.select([front, back], [], [], timeout)
    if front in readable:
        while True:
            try:
                data, client = front.recvfrom(65535)
            except BlockingIOError:
                break
            waiting[data[:2]] = client
            back.send(data)
    if back in readable:
        now = time.perf_counter()
        while True:
            try:
                data = back.recv(65535)
            except BlockingIOError:
                break
            client = waiting.pop(data[:2], None)
            if client is not None:
                heapq.heappush(due, (now + delay, next(seq), data, client))
    now = time.perf_counter()
    while due and due[0][0] <= now:
        _, _, data, client = heapq.heappop(due)
        front.sendto(data, client)
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


def alternate(fns: dict, runs: int) -> dict:
    """Median seconds of each function over alternating runs (one warm-up each)."""
    for fn in fns.values():
        fn()
    times = {key: [] for key in fns}
    for _ in range(runs):
        for key, fn in fns.items():
            times[key].append(timed(fn))
    return {key: statistics.median(values) for key, values in times.items()}


def dig_file(port: int, names_file: Path):
    def run():
        out = subprocess.run(["dig", "@127.0.0.1", "-p", str(port), "-f", str(names_file),
                              "+noall", "+answer", "+tries=3"],
                             capture_output=True, text=True, check=True).stdout
        if out.count("\n") < sum(1 for _ in names_file.open()):
            raise SystemExit("dig -f did not answer every name")
    return run


def netgui_bulk(port: int, pairs, concurrency: int = 100):
    def run():
        rows = bulk_resolve(pairs, ("127.0.0.1", port), timeout=5, concurrency=concurrency)
        bad = [r for r in rows if r.status != "NOERROR"]
        if bad:
            raise SystemExit(f"bulk: {len(bad)} failures, e.g. {bad[0]}")
    return run


def _from_wire_reader(data, qname, qtype, question=None):
    """read_reply's answer, made by ``dns.message.from_wire`` (the slow way, for comparison)."""
    message = dns.message.from_wire(data, ignore_trailing=True)
    if not message.flags & 0x8000 or len(message.question) != 1 \
            or message.question[0].name != qname or message.question[0].rdtype != qtype:
        return None
    answers = [(rrset.rdtype, rrset.ttl, rdata.to_text()) for rrset in message.answer
               for rdata in rrset]
    return message.rcode(), bool(message.flags & 0x0200), answers


def netgui_bulk_from_wire(port: int, pairs):
    run = netgui_bulk(port, pairs)

    def swapped():
        bulk.read_reply = _from_wire_reader
        try:
            run()
        finally:
            bulk.read_reply = read_reply
    return swapped


def replies_for(port: int, names: list[str]) -> list[bytes]:
    template = _QueryTemplate(True, False)
    out = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(2)
        sock.connect(("127.0.0.1", port))
        for i, name in enumerate(names):
            sock.send(template.wire(i, template.question(dns.name.from_text(name), 1)))
            out.append(sock.recv(65535))
    return out


def parse_floors(port: int, names: list[str], runs: int) -> tuple[float, float]:
    """Median seconds to parse the replies to ``names``: (from_wire, read_reply)."""
    replies = replies_for(port, names)
    questions = [dns.name.from_text(n) for n in names]
    from_wire = statistics.median(timed(lambda: [dns.message.from_wire(r) for r in replies])
                                  for _ in range(runs))
    reader = statistics.median(timed(lambda: [read_reply(r, q, 1) for r, q in
                                              zip(replies, questions)]) for _ in range(runs))
    return from_wire, reader


def network_floor(port: int, names: list[str], concurrency: int) -> float:
    """Seconds for the round trips alone: the queries sent ``concurrency`` at a time and the
    replies received and counted, nothing parsed (lost ones are sent again after 1 s)."""
    template = _QueryTemplate(True, False)
    wires = [template.wire(i, template.question(dns.name.from_text(n), 1))
             for i, n in enumerate(names)]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 21)
        sock.connect(("127.0.0.1", port))
        sock.settimeout(1)
        started = time.perf_counter()
        waiting, sent = set(), 0
        while sent < len(wires) or waiting:
            while sent < len(wires) and len(waiting) < concurrency:
                sock.send(wires[sent])
                waiting.add(sent)
                sent += 1
            try:
                waiting.discard(int.from_bytes(sock.recv(65535)[:2], "big"))
            except socket.timeout:
                for i in waiting:
                    sock.send(wires[i])
        return time.perf_counter() - started


def ui_bulk_stalls(port: int, names: list[str], runs: int) -> list[tuple[float, float, float]]:
    """Per run: (longest Tk stall in ms while the Bulk pane resolves ``names`` into its
    table, seconds that took, longest stall of the same window doing nothing for as long).
    The idle figure, alternated with the busy one, is what the machine's load alone costs."""
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
    out = []
    try:
        for _ in range(runs + 1):                       # the first is a warm-up
            started = time.perf_counter()
            tab.bulk.run()
            meter = run_until(app.root, lambda: tab.bulk.task.finished is not None
                              and not tab.bulk.pending, timeout=60)
            elapsed = time.perf_counter() - started
            rows = len(tab.bulk.table.rows())
            if rows != len(names):
                raise SystemExit(f"the Bulk table has {rows} rows, expected {len(names)}")
            until = time.perf_counter() + elapsed
            idle = run_until(app.root, lambda: time.perf_counter() >= until, timeout=60)
            out.append((meter.longest_ms, elapsed, idle.longest_ms))
    finally:
        app.quit(ask=False)
    return out[1:]


def main() -> None:
    quick = "--quick" in sys.argv
    runs = int(sys.argv[sys.argv.index("--runs") + 1]) if "--runs" in sys.argv else (3 if quick else 5)
    count = 300 if quick else 1000
    delay = 0.005
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

        local = alternate({"dig": dig_file(port, names_file), "bulk": netgui_bulk(port, pairs),
                           "from_wire": netgui_bulk_from_wire(port, pairs)}, runs)
        from_wire_s, reader_s = parse_floors(port, names, runs)
        net_local_s = statistics.median(network_floor(port, names, 100) for _ in range(runs))

        proxy = subprocess.Popen([sys.executable, "-c", DELAY_PROXY, str(port), str(delay)],
                                 stdout=subprocess.PIPE, text=True)
        proxy_port = int(proxy.stdout.readline())
        slow = alternate({"dig": dig_file(proxy_port, names_file),
                          "bulk100": netgui_bulk(proxy_port, pairs, 100),
                          "bulk200": netgui_bulk(proxy_port, pairs, 200)}, max(2, runs // 2))
        net100_s = statistics.median(network_floor(proxy_port, names, 100) for _ in range(runs))
        net200_s = statistics.median(network_floor(proxy_port, names, 200) for _ in range(runs))

        server = ("127.0.0.1", port)
        dig_one = ["dig", "@127.0.0.1", "-p", str(port), "a.test", "A", "+noall", "+answer"]
        one_script = ("import sys; sys.path.insert(0, %r); from netgui.net.dns.lookup import query; "
                      "print(query('a.test', 'A', ('127.0.0.1', %d), timeout=2).answer[0].data)"
                      % (str(ROOT), port))
        single = alternate({"dig": lambda: subprocess.run(dig_one, capture_output=True, check=True),
                            "core": lambda: query("a.test", "A", server, timeout=2)},
                           max(runs * 4, 11))
        single_proc = alternate({
            "dig": lambda: subprocess.run(dig_one, capture_output=True, check=True),
            "process": lambda: subprocess.run([sys.executable, "-c", one_script],
                                              capture_output=True, check=True)}, max(runs, 5))
        stalls = ui_bulk_stalls(port, names, runs) if os.environ.get("DISPLAY") else None
    finally:
        if proxy is not None:
            proxy.terminate()
            proxy.wait(5)
        proc.terminate()
        proc.wait(5)
        shutil.rmtree(workdir, ignore_errors=True)

    def yes(ok: bool) -> str:
        return "yes" if ok else "no"

    dig_s, bulk_s = local["dig"], local["bulk"]
    print(f"bulk_names: {count}")
    print(f"bulk_netgui_s: {bulk_s:.3f}")
    print(f"bulk_dig_f_s: {dig_s:.3f}")
    print(f"bulk_speedup_vs_dig_f: {dig_s / bulk_s:.2f}x")
    print(f"bulk_loopback_1x_goal_met: {yes(dig_s / bulk_s >= 1.0)}")
    print(f"bulk_with_from_wire_s: {local['from_wire']:.3f}")
    print(f"bulk_network_floor_loopback_ms: {net_local_s * 1000:.1f}")
    print(f"dnspython_parse_floor_ms: {from_wire_s * 1000:.1f}")
    print(f"read_reply_parse_ms: {reader_s * 1000:.1f}")
    print(f"bulk_5ms_dig_f_s: {slow['dig']:.3f}")
    for conc, net in ((100, net100_s), (200, net200_s)):
        took = slow[f"bulk{conc}"]
        floor = net + from_wire_s
        print(f"bulk_5ms_c{conc}_netgui_s: {took:.3f}")
        print(f"bulk_5ms_c{conc}_speedup_vs_dig_f: {slow['dig'] / took:.1f}x")
        print(f"bulk_5ms_c{conc}_round_trips_ms: {net * 1000:.1f} "
              f"(ideal {count / conc * delay * 1000:.0f})")
        print(f"bulk_5ms_c{conc}_floor_ms: {floor * 1000:.1f}")
        print(f"bulk_5ms_c{conc}_vs_floor: {took / floor:.2f}x")
        print(f"bulk_5ms_c{conc}_vs_floor_with_read_reply: {took / (net + reader_s):.2f}x")
        print(f"bulk_5ms_c{conc}_goals_met: {yes(slow['dig'] / took >= 20 and took <= 2 * floor)}")
    print(f"single_dig_process_ms: {single['dig'] * 1000:.2f}")
    print(f"single_netgui_core_ms: {single['core'] * 1000:.2f}")
    print(f"single_netgui_process_ms: {single_proc['process'] * 1000:.2f}")
    print(f"single_core_vs_dig: {single['core'] / single['dig']:.2f}x")
    print(f"single_process_vs_dig: {single_proc['process'] / single_proc['dig']:.2f}x")
    if stalls is not None:
        longest = [ms for ms, _, _ in stalls]
        idle = [ms for _, _, ms in stalls]
        print(f"ui_bulk_table_s: {statistics.median(s for _, s, _ in stalls):.3f}")
        print(f"ui_bulk_stall_runs_ms: {' '.join(f'{ms:.1f}' for ms in longest)}")
        print(f"ui_idle_stall_runs_ms: {' '.join(f'{ms:.1f}' for ms in idle)}")
        print(f"ui_bulk_stall_median_ms: {statistics.median(longest):.1f}")
        print(f"ui_idle_stall_median_ms: {statistics.median(idle):.1f}")
        print(f"ui_bulk_stall_max_ms: {max(longest):.1f}")
        print(f"ui_bulk_stall_goal_met: {yes(max(longest) < 50)}")
    else:
        print("ui_bulk_stall_max_ms: n/a (no DISPLAY)")


if __name__ == "__main__":
    main()
