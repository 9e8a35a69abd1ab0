"""Chat benchmarks: the line-chat server's relay rate and the Chat tab's UI stall under a flood.

1. 100 clients x 100 messages through netgui's chat server (run as ``netgui chat serve`` in its own
   process), and through a classic thread-per-client relay (the shape of the original line-chat
   server, also in its own process) as the reference. Every client must receive every message,
   and each sender's messages in order; the run fails loudly otherwise.
2. The longest UI stall while the Chat tab receives 1,000 messages per second, over line chat
   (netgui's server) and over IRC (ngircd), measured with bench.ui_stall's 10 ms heartbeat.

    python -m bench.chat [--quick] [--relay | --stall]
"""

from __future__ import annotations

import asyncio
import gc
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import free_port, wait_port  # noqa: E402
from bench.ui_stall import StallMeter  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent

REFERENCE_SERVER = r'''
import socket, sys, threading
listener = socket.create_server(("127.0.0.1", int(sys.argv[1])))
clients, lock = [], threading.Lock()
def serve(conn, addr):
    peer = f"{addr[0]}:{addr[1]}"
    conn.sendall(f"Welcome to the chat server, {peer}\n".encode())
    with conn.makefile("rb") as f:
        for line in f:
            data = peer.encode() + b": " + line.rstrip(b"\r\n") + b"\n"
            with lock:
                for c in clients:
                    try:
                        c.sendall(data)
                    except OSError:
                        pass
    with lock:
        clients.remove(conn)
    conn.close()
while True:
    conn, addr = listener.accept()
    with lock:
        clients.append(conn)
    threading.Thread(target=serve, args=(conn, addr), daemon=True).start()
'''


def start_server(kind: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    if kind == "netgui":
        cmd = [sys.executable, "-m", "netgui", "chat", "serve", "--port", str(port)]
    else:
        cmd = [sys.executable, "-c", REFERENCE_SERVER, str(port)]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port, failure=RuntimeError(f"nothing listens on {port}"))
    return proc, port


# -- 1. relay -----------------------------------------------------------------------------------

async def _relay_run(port: int, clients: int, messages: int) -> float:
    conns = []
    for _ in range(clients):
        reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
        greeting = await reader.readline()
        peer = greeting.decode().rsplit(", ", 1)[1].strip().encode()
        conns.append((reader, writer, peer))
    # wait until the server counts everyone (a message sent earlier would miss late joiners)
    await asyncio.sleep(0.3)
    expected = clients * messages
    peers = {peer: i for i, (_, _, peer) in enumerate(conns)}

    async def read_all(reader) -> None:
        last = [-1] * clients
        got = 0
        rest = b""
        while got < expected:
            chunk = await asyncio.wait_for(reader.read(1 << 16), 60)
            if not chunk:
                raise RuntimeError("a client was disconnected: messages lost")
            lines = (rest + chunk).split(b"\n")
            rest = lines.pop()
            for line in lines:
                sender, _, body = line.partition(b": ")
                who, _, seq = body.partition(b" ")
                index, seq = peers[sender], int(seq)
                if who != b"c%d" % index:
                    raise RuntimeError("a message was attributed to the wrong sender")
                if seq != last[index] + 1:
                    raise RuntimeError(f"sender {index}: message {seq} after {last[index]} (lost or reordered)")
                last[index] = seq
            got += len(lines)
        if last != [messages - 1] * clients or rest:
            raise RuntimeError("not every message arrived, or more than expected")

    async def send_all(writer, index) -> None:
        for seq in range(messages):
            writer.write(b"c%d %d\n" % (index, seq))
            if seq % 10 == 9:
                await writer.drain()
        await writer.drain()

    started = time.perf_counter()
    readers = [asyncio.create_task(read_all(r)) for r, _, _ in conns]
    await asyncio.gather(*(send_all(w, i) for i, (_, w, _) in enumerate(conns)))
    await asyncio.gather(*readers)
    elapsed = time.perf_counter() - started
    for _, writer, _ in conns:
        writer.close()
    return elapsed


def relay_once(kind: str, clients: int, messages: int) -> float:
    proc, port = start_server(kind)
    try:
        return asyncio.run(_relay_run(port, clients, messages))
    finally:
        proc.terminate()
        proc.wait(10)


# -- 2. UI stall --------------------------------------------------------------------------------

FLOOD_CLIENT = r'''
import socket, sys, threading, time
port, seconds, rate = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
prefix, register = sys.argv[4].encode(), sys.argv[5].encode().replace(b"|", b"\r\n")
s = socket.create_connection(("127.0.0.1", port))
def drain():
    try:
        while s.recv(65536):
            pass
    except OSError:
        pass
threading.Thread(target=drain, daemon=True).start()
if register:
    s.sendall(register)
    time.sleep(0.5)
per_slice = max(1, rate // 100)
start = time.perf_counter()
n = 0
while time.perf_counter() - start < seconds:
    s.sendall(b"".join(prefix + b"flood message %d with some ordinary chat text in it\r\n" % (n + i)
                       for i in range(per_slice)))
    n += per_slice
    delay = start + n / rate - time.perf_counter()
    if delay > 0:
        time.sleep(delay)
time.sleep(0.5)
'''


def _flood_lines(port: int, seconds: float, rate: int, prefix: str = "", register: str = "") -> subprocess.Popen:
    """A client in its own process that sends ``rate`` lines per second in 10 ms slices."""
    return subprocess.Popen([sys.executable, "-c", FLOOD_CLIENT, str(port), str(seconds), str(rate), prefix,
                             register])


def _pump_until(root, cond, timeout):
    deadline = time.monotonic() + timeout
    while not cond() and time.monotonic() < deadline:
        root.update()
        time.sleep(0.005)
    if not cond():
        raise RuntimeError("timed out")


class WorkMeter:
    """The longest single call of the tab's own Tk-thread work (runner drain, chat and transcript flush).

    Unlike the heartbeat gap, this does not include time the process waited for a CPU, so on a busy
    machine it shows what the tab itself costs per tick.
    """

    def __init__(self) -> None:
        from netgui.tabs.chat.view import ConversationView
        from netgui.ui.tasks import TaskRunner
        from netgui.ui.transcript import TranscriptPane
        self.longest = 0.0
        self.active = False
        self._patched = []
        for cls, name in ((TaskRunner, "drain"), (ConversationView, "flush"), (TranscriptPane, "flush")):
            original = getattr(cls, name)
            self._patched.append((cls, name, original))
            setattr(cls, name, self._timed(original))

    def _timed(self, original):
        def timed(obj, *args, **kwargs):
            started = time.perf_counter()
            try:
                return original(obj, *args, **kwargs)
            finally:
                if self.active:
                    self.longest = max(self.longest, time.perf_counter() - started)
        return timed

    def restore(self) -> None:
        for cls, name, original in self._patched:
            setattr(cls, name, original)


def stall_once(mode: str, seconds: float, rate: int) -> tuple[float, int, float]:
    """The longest UI stall (ms), the lines shown and the longest tab work (ms) under ``rate`` messages/s."""
    from netgui.app import App
    from netgui.config import Secrets, Settings
    from netgui.tabs import TabSpec

    os.environ.setdefault("NETGUI_CONFIG_DIR", tempfile.mkdtemp(prefix="netgui-bench-"))
    peer = None
    if mode == "line":
        proc, port = start_server("netgui")
    else:
        from tests.support.ngircd import Ngircd
        peer = Ngircd(Path(tempfile.mkdtemp(prefix="netgui-bench-irc-")) / "n").start()
        proc, port = None, peer.port
    work = WorkMeter()
    app = App(settings=Settings(), secrets=Secrets(), tabs=[TabSpec("chat", "Chat", "netgui.tabs.chat", "ChatTab")])
    try:
        tab = app.tab("chat")
        app.root.update()
        if mode == "line":
            tab.line_form.set_values({"host": "127.0.0.1", "port": port})
            tab.line_form.submit()
            _pump_until(app.root, lambda: tab.connections and tab.connections[-1].peer, 10)
            window = tab.connections[-1].server
            flood = _flood_lines(port, seconds, rate)
        else:
            tab.irc_form.set_values({"host": "127.0.0.1", "port": port, "security": "No encryption",
                                     "nick": "viewer", "channels": "#flood"})
            tab.irc_form.submit()
            _pump_until(app.root, lambda: any(w.name == "#flood" for w in tab.view.windows.values()), 10)
            window = next(w for w in tab.view.windows.values() if w.name == "#flood")
            flood = _flood_lines(port, seconds, rate, prefix="PRIVMSG #flood :",
                                 register="NICK flooder|USER f 0 * :f|JOIN #flood|")
        expected = int(seconds * rate) // max(1, rate // 100) * max(1, rate // 100)
        before = len(window.lines)
        warmup = time.monotonic() + 1.0  # the flood client starts (and registers) before we measure
        while time.monotonic() < warmup:
            app.root.update()
            time.sleep(0.002)
        meter = StallMeter(app.root).start()
        work.active = True
        shown = lambda: sum(1 for e in window.lines if "flood message" in "".join(
            x for x in e if isinstance(x, str)))
        deadline = time.monotonic() + seconds + 20
        while time.monotonic() < deadline and flood.poll() is None:
            app.root.update()
            time.sleep(0.002)
        settle = time.monotonic() + 1.0
        while time.monotonic() < settle:
            app.root.update()
            time.sleep(0.002)
        meter.stop()
        work.active = False
        _pump_until(app.root, lambda: shown() >= min(expected, window.lines.maxlen - before - 5), 20)
        return meter.longest_ms, shown(), work.longest * 1000
    finally:
        work.restore()
        app.quit(ask=False)
        gc.collect()
        if proc is not None:
            proc.terminate()
            proc.wait(10)
        if peer is not None:
            peer.stop()


def main() -> None:
    quick = "--quick" in sys.argv
    only = next((a[2:] for a in sys.argv[1:] if a in ("--relay", "--stall")), None)
    clients, messages = (30, 30) if quick else (100, 100)
    runs = 2 if quick else 3
    results = []
    if only in (None, "relay"):
        netgui_times, ref_times = [], []
        for _ in range(runs):  # alternate, so both see the same machine load
            netgui_times.append(relay_once("netgui", clients, messages))
            ref_times.append(relay_once("reference", clients, messages))
        total = clients * messages
        t_netgui, t_ref = statistics.median(netgui_times), statistics.median(ref_times)
        print(f"relay_runs_s: netgui {', '.join(f'{t:.2f}' for t in netgui_times)}; "
              f"threaded reference {', '.join(f'{t:.2f}' for t in ref_times)}")
        results += [f"relay_clients_x_messages: {clients}x{messages} (no message lost, every sender's order kept)",
                    f"relay_msgs_per_s: {total / t_netgui:.0f}",
                    f"relay_deliveries_per_s: {total * clients / t_netgui:.0f}",
                    f"relay_reference_msgs_per_s: {total / t_ref:.0f}",
                    f"relay_vs_threaded_reference: {t_ref / t_netgui:.2f}x"]
    if only in (None, "stall"):
        seconds, rate = (2.0, 1000) if quick else (4.0, 1000)
        line_stalls, irc_stalls, work = [], [], []
        for _ in range(2 if quick else 3):
            for mode, stalls in (("line", line_stalls), ("irc", irc_stalls)):
                stall, _, longest_work = stall_once(mode, seconds, rate)
                stalls.append(stall)
                work.append(longest_work)
        print(f"ui_stall_runs_ms: line {', '.join(f'{s:.1f}' for s in line_stalls)}; "
              f"irc {', '.join(f'{s:.1f}' for s in irc_stalls)}; load average {os.getloadavg()[0]:.1f}")
        results += [f"ui_stall_linechat_1000_per_s_ms: {statistics.median(line_stalls):.1f}",
                    f"ui_stall_irc_1000_per_s_ms: {statistics.median(irc_stalls):.1f}",
                    f"ui_tab_work_longest_tick_ms: {statistics.median(work):.1f}"]
    print("\n".join(results))


if __name__ == "__main__":
    main()
