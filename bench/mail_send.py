"""Sending speed: netgui's SMTP core beside a plain smtplib script, and UI stalls while sending.

Both clients send the same message (text plus one large attachment) to the same
aiosmtpd (its own process, so its work does not compete for our GIL) on
loopback, alternating, several times; the medians are compared. Then the compose
window sends it through the task runner while a 10 ms heartbeat measures the
longest stall of the Tk loop (beside the longest stall of an idle loop, the
noise floor of a busy machine).

    python -m bench.mail_send            # 10 MiB attachment, 5 runs each
    python -m bench.mail_send --quick    # 2 MiB, 3 runs each
"""

from __future__ import annotations

import argparse
import os
import smtplib
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smaller message, fewer runs")
    args = parser.parse_args(argv)
    size = (2 if args.quick else 10) * 1024 * 1024
    runs = 3 if args.quick else 5

    tmp = tempfile.mkdtemp(prefix="netgui-bench-")
    os.environ.setdefault("NETGUI_CONFIG_DIR", os.path.join(tmp, "config"))
    os.environ.setdefault("NETGUI_DATA_DIR", os.path.join(tmp, "data"))

    from netgui.net.mail import compose
    from netgui.net.mail.smtp import send_message
    from tests.support.peers import free_port, stop_process, wait_for_port

    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "aiosmtpd", "-n", "-c", "aiosmtpd.handlers.Sink",
                               "-l", f"127.0.0.1:{port}", "-s", str(4 * size)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peer = argparse.Namespace(host="127.0.0.1", port=port)
    try:
        wait_for_port(port, proc=server)
        draft = compose.Draft(sender="Alice <alice@example.test>", to="bob@example.test",
                              subject="bench", body="A large attachment follows.\n",
                              attachments=[compose.Attachment("data.bin", os.urandom(size))])
        msg = compose.build_message(draft)
        t0 = time.perf_counter()
        data = compose.wire_bytes(msg)
        build_ms = (time.perf_counter() - t0) * 1000
        sender, rcpts = compose.envelope(msg)

        def ours():
            send_message(data, sender, rcpts, host=peer.host, port=peer.port, security="none",
                         timeout=60)

        def plain():
            with smtplib.SMTP(peer.host, peer.port, timeout=60,
                              local_hostname="localhost") as s:
                s.sendmail(sender, rcpts, data)

        times = {"netgui": [], "smtplib": []}
        for i in range(runs):
            for name, fn in (("netgui", ours), ("smtplib", plain))[:: 1 if i % 2 == 0 else -1]:
                t = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - t)
        ours_s = statistics.median(times["netgui"])
        plain_s = statistics.median(times["smtplib"])
        gui_stall, idle_stall = _gui_send(peer, draft)
    finally:
        stop_process(server)
    mib = size / (1024 * 1024)
    print(f"message: {len(data)} bytes ({mib:.0f} MiB attachment), {runs} runs each")
    print(f"build_message_ms: {build_ms:.0f}")
    print(f"smtp_send_ms: {ours_s * 1000:.0f}")
    print(f"smtplib_send_ms: {plain_s * 1000:.0f}")
    print(f"smtp_send_vs_smtplib: {ours_s / plain_s:.2f}x")
    print(f"idle_ui_stall_max_ms: {idle_stall:.0f}")
    print(f"compose_send_ui_stall_max_ms: {gui_stall:.0f}")
    return 0


def _gui_send(peer, draft) -> tuple[float, float]:
    """Send ``draft`` through the compose window: the longest UI stall, and an idle one (ms)."""
    import keyring

    from bench.ui_stall import run_until
    from netgui.app import App
    from netgui.config import Secrets, Settings
    from netgui.net.mail import accounts
    from netgui.tabs.mail.compose import open_compose
    from tests.support.memkeyring import MemoryKeyring

    keyring.set_keyring(MemoryKeyring())
    app = App(settings=Settings(), secrets=Secrets(), tabs=[])
    try:
        accounts.save_account(app.settings, app.secrets, "bench", {
            "email": "alice@example.test", "incoming_protocol": "pop3",
            "incoming_host": "127.0.0.1", "smtp_host": peer.host, "smtp_port": peer.port,
            "smtp_security": "none", "smtp_auth": False})
        win = open_compose(app, "bench")
        win.form.set_values({"to": draft.to, "subject": draft.subject})
        win.draft.attachments = list(draft.attachments)
        win._show_attachments()
        app.root.update()
        t0 = time.monotonic()
        win.form.submit_button.invoke()
        meter = run_until(app.root, lambda: not win.winfo_exists(), timeout=300)
        took = time.monotonic() - t0
        if "Sent" not in app.status.cget("text"):
            raise SystemExit(f"sending failed: {app.status.cget('text')}")
        idle_until = time.monotonic() + took
        idle = run_until(app.root, lambda: time.monotonic() > idle_until, timeout=300)
        return meter.longest_ms, idle.longest_ms
    finally:
        app.quit(ask=False)


if __name__ == "__main__":
    sys.exit(main())
