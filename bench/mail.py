"""Mail tab benchmark: a large Dovecot mailbox, listed by the real tab and by a plain imaplib script.

Measures, as medians of alternating runs:

- time to the first rows in the tab's message list, and to the full list (fresh cache),
- a plain imaplib script fetching the same header fields (UID FETCH 1:* in one command),
- reopening the tab from the offline cache (first rows, full list),
- the longest stall of the Tk event loop while the tab lists the mailbox.

    python -m bench.mail            # 10,000 messages, 3 runs each
    python -m bench.mail --quick    # 2,000 messages

Needs Dovecot and a display (Xvfb) like the tests.
"""

from __future__ import annotations

import argparse
import email.header
import email.utils
import gc
import imaplib
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ui_stall import StallMeter  # noqa: E402

FIELDS = "(UID FLAGS RFC822.SIZE BODY.PEEK[HEADER.FIELDS (FROM TO CC SUBJECT DATE MESSAGE-ID CONTENT-TYPE)])"
WORDS = ("report", "meeting", "invoice", "lunch", "draft", "review", "Grüße", "notes", "plan", "café")


def fill(server, user: str, count: int) -> None:
    """Write ``count`` messages straight into the Maildir (as a delivery agent would)."""
    from tests.support.dovecot import _chown_tree
    folder = server.maildir(user)
    start = time.time() - count * 600
    for i in range(count):
        subject = f"{WORDS[i % len(WORDS)]} {i}"
        if not subject.isascii() or i % 7 == 0:
            subject = email.header.Header(subject, "utf-8").encode()  # RFC 2047 words
        date = email.utils.formatdate(start + i * 600)
        ctype = "multipart/mixed; boundary=b" if i % 11 == 0 else "text/plain; charset=utf-8"
        body = (f"From: Person {i % 97} <p{i % 97}@example.org>\nTo: me@example.org\n"
                f"Subject: {subject}\nDate: {date}\nMessage-ID: <{i}@bench.example>\n"
                f"MIME-Version: 1.0\nContent-Type: {ctype}\n\nBody of message {i}.\n")
        flags = ":2,S" if i % 3 else ""
        sub = "cur" if flags else "new"
        (folder / sub / f"{1700000000 + i}.{i}.bench{flags}").write_text(body, encoding="utf-8")
    _chown_tree(folder)


def script(port: int, user: str, password: str) -> float:
    """The reference: plain imaplib fetching the same header fields in one command."""
    started = time.perf_counter()
    m = imaplib.IMAP4("127.0.0.1", port)
    m.login(user, password)
    m.select("INBOX")
    typ, data = m.uid("FETCH", "1:*", FIELDS)
    assert typ == "OK" and data
    elapsed = time.perf_counter() - started
    m.logout()
    return elapsed


def run_tab(server, user: str, password: str, data_dir: str, expect: int) -> dict:
    """Open the real Mail tab on a fresh or warm cache; time rows and measure stalls.

    The window is shown first (its startup is measured by bench/startup.py); the clock
    starts when the tab loads the account, as it does at startup or after adding it.
    """
    os.environ["NETGUI_DATA_DIR"] = data_dir
    from netgui.app import App
    from netgui.config import Secrets, Settings
    from netgui.net.mail import accounts
    from netgui.tabs import TabSpec

    settings, secrets = Settings(), Secrets()
    for name in settings.profiles("mail"):
        settings.delete_profile("mail", name)
    app = App(settings=settings, secrets=secrets,
              tabs=[TabSpec("mail", "Mail", "netgui.tabs.mail", "MailTab")])
    root = app.root
    tab = app.tab("mail")
    root.update()
    accounts.save_account(settings, secrets, "Bench", {
        "email": "me@example.org", "incoming_host": "127.0.0.1", "incoming_port": server.imap_port,
        "incoming_security": "none", "incoming_user": user}, incoming_password=password)
    times: dict[str, float] = {}
    started = time.perf_counter()

    def watch():
        now = time.perf_counter() - started
        if "first" not in times and tab.list.rendered > 0:
            times["first"] = now
        if "full" not in times and tab.list.rendered >= expect:
            times["full"] = now
        if "full" in times and not tab.busy_tasks():
            root.quit()
            return
        root.after(2, watch)

    meter = StallMeter(root).start()
    root.after(0, tab.reload_accounts)
    root.after(2, watch)
    root.after(600_000, root.quit)
    root.mainloop()
    meter.stop()
    stall = meter.longest_ms
    app.quit(ask=False)
    app = tab = root = None  # noqa: F841 - drop the Tk objects now
    gc.collect()  # drop Tk objects here, on the main thread, not later in a worker
    return {"first": times.get("first", float("nan")), "full": times.get("full", float("nan")),
            "stall": stall}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 messages instead of 10,000")
    parser.add_argument("--messages", type=int, default=None)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    count = args.messages or (2000 if args.quick else 10000)

    from tests.support.dovecot import PASSWORD, start_dovecot, stop_dovecot
    server = start_dovecot()
    work = Path(tempfile.mkdtemp(prefix="netgui-bench-mail-"))
    os.environ["NETGUI_CONFIG_DIR"] = str(work / "config")
    try:
        import keyring

        from tests.support.memkeyring import MemoryKeyring
        keyring.set_keyring(MemoryKeyring())
        user = server.new_user()
        fill(server, user, count)
        script(server.imap_port, user, PASSWORD)  # let Dovecot build its index first
        scripts, firsts, fulls, stalls, re_first, re_full, re_stall = [], [], [], [], [], [], []
        for run in range(args.runs):
            scripts.append(script(server.imap_port, user, PASSWORD))
            data = str(work / f"data{run}")
            fresh = run_tab(server, user, PASSWORD, data, count)
            firsts.append(fresh["first"])
            fulls.append(fresh["full"])
            stalls.append(fresh["stall"])
            warm = run_tab(server, user, PASSWORD, data, count)
            re_first.append(warm["first"])
            re_full.append(warm["full"])
            re_stall.append(warm["stall"])
            print(f"run {run + 1}: script {scripts[-1]:.2f} s, tab first {fresh['first']:.3f} s "
                  f"full {fresh['full']:.2f} s stall {fresh['stall']:.0f} ms; reopen first "
                  f"{warm['first']:.3f} s full {warm['full']:.2f} s stall {warm['stall']:.0f} ms",
                  flush=True)
        med = statistics.median
        print(f"messages: {count}")
        print(f"first_rows_s: {med(firsts):.3f}")
        print(f"full_list_s: {med(fulls):.2f}")
        print(f"imaplib_script_s: {med(scripts):.2f}")
        print(f"full_list_vs_imaplib: {med(fulls) / med(scripts):.2f}x")
        print(f"reopen_first_rows_s: {med(re_first):.3f}")
        print(f"reopen_full_list_s: {med(re_full):.2f}")
        print(f"ui_stall_max_ms: {max(stalls + re_stall):.0f}")
    finally:
        stop_dovecot(server)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
