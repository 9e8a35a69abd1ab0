"""Syncing into the offline cache against a real Dovecot: batches, incremental, UIDVALIDITY, POP3."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest

from netgui.net.errors import Cancelled, ConnectError, ConnectionLost
from netgui.net.mail import accounts
from netgui.net.mail.cache import MailCache, MessageRow
from netgui.net.mail.imap import ImapClient
from netgui.net.mail.sync import MailService, PlainContext
from tests.support import mailsamples as samples
from tests.support.dovecot import PASSWORD, dovecot, mailuser  # noqa: F401  (fixtures)
from tests.support.peers import FaultyRelay, free_port


def account(server, user, protocol="imap", security="none", port=None):
    if port is None:
        port = {("imap", "tls"): server.imaps_port, ("pop3", "tls"): server.pop3s_port,
                ("pop3", "none"): server.pop3_port}.get((protocol, security), server.imap_port)
    return accounts.normalize({"email": f"{user}@example.org", "incoming_protocol": protocol,
                               "incoming_host": "127.0.0.1", "incoming_port": port,
                               "incoming_security": security, "incoming_user": user})


def service(server, user, tmp_path, **kw):
    cache = MailCache(tmp_path / "cache.sqlite3")
    return MailService("acct", account(server, user, **kw), cache, password=PASSWORD,
                       cafile=server.ca_file)


def rows_of(ctx, kind="rows"):
    return [r for k, p in ctx.events if k == kind for r in p["rows"]]


def test_imap_first_sync_in_batches_then_reopen_offline(mailuser, tmp_path):
    server, user, _ = mailuser
    for i in range(30):
        server.deliver(user, samples.plain(subject=f"Message {i:02d}", date=f"Mon, 02 Mar 2026 10:{i:02d}:00 +0000"))
    server.deliver(user, samples.multipart_with_attachments())
    svc = service(server, user, tmp_path, security="tls")
    ctx = PlainContext()
    folders = svc.folders(ctx)
    assert {f.special for f in folders} >= {"inbox", "sent", "drafts", "trash", "junk"}
    assert svc.sync(ctx, "INBOX", first=5, batch=10) == 31
    batches = [len(p["rows"]) for k, p in ctx.events if k == "rows"]
    assert batches[0] == 5 and sum(batches) == 31  # the newest first, the rest as it streams
    first = ctx.events[0][1]["rows"]
    assert first[0].subject == "Files attached" and first[0].attachment
    opened = svc.open(ctx, "INBOX", first[0].uid)
    assert opened.text.strip() == "The plain part wins." and len(opened.attachments) == 6
    svc.close()
    svc.cache.close()

    # Reopen with the server unreachable: the list and the opened message come from the cache
    cache = MailCache(tmp_path / "cache.sqlite3")
    offline = MailService("acct", account(server, user, port=free_port()), cache,
                          password=PASSWORD)
    started = time.monotonic()
    rows = cache.messages("acct", "INBOX")
    assert time.monotonic() - started < 0.5
    assert len(rows) == 31 and rows[0].subject == "Files attached"
    assert "\\Seen" in rows[0].flags and "\\Seen" not in rows[1].flags
    assert {"INBOX", "Sent", "Trash"} <= {f.name for f in cache.folders("acct")}
    again = offline.open(PlainContext(), "INBOX", rows[0].uid)
    assert again.subject == "Files attached"
    with pytest.raises(ConnectError):
        offline.open(PlainContext(), "INBOX", rows[1].uid)


def test_imap_incremental_sync_sees_new_flags_and_removed(mailuser, tmp_path):
    server, user, _ = mailuser
    for i in range(4):
        server.deliver(user, samples.plain(subject=f"Old {i}"))
    svc = service(server, user, tmp_path)
    svc.sync(PlainContext(), "INBOX")
    uids = sorted(svc.cache.uids("acct", "INBOX"))
    # Another client changes things meanwhile
    other = ImapClient("127.0.0.1", server.imap_port, "none", timeout=10)
    other.connect()
    other.login(user, PASSWORD)
    other.select("INBOX")
    other.store_flags([uids[0]], ["\\Flagged"])
    other.move([uids[1]], "Trash")
    other.close()
    server.deliver(user, samples.plain(subject="New one"))
    ctx = PlainContext()
    assert svc.sync(ctx, "INBOX") == 4
    assert [r.subject for r in rows_of(ctx)] == ["New one"]
    kinds = {k: p for k, p in ctx.events}
    assert kinds["removed"]["uids"] == [uids[1]]
    assert "\\Flagged" in kinds["flags"]["flags"][uids[0]]
    cached = {r.uid: r for r in svc.cache.messages("acct", "INBOX")}
    assert cached[uids[0]].flagged and uids[1] not in cached and len(cached) == 4
    # Our own changes go to the server and the cache
    svc.set_flag(PlainContext(), "INBOX", [uids[2]], "\\Seen", True)
    assert svc.delete(PlainContext(), "INBOX", [uids[3]]) == "Trash"
    svc.move(PlainContext(), "INBOX", [uids[0]], "Junk")
    assert svc.search(PlainContext(), "INBOX", "new one") == [max(cached)]
    svc.sync(PlainContext(), "Trash")
    assert len(svc.cache.messages("acct", "Trash")) == 2
    ctx = PlainContext()
    svc.sync(ctx, "INBOX")
    rows = svc.cache.messages("acct", "INBOX")
    assert [r.subject for r in rows] == ["New one", "Old 2"] and not rows[1].unread
    svc.close()


def test_uidvalidity_change_drops_the_cached_list(mailuser, tmp_path):
    server, user, _ = mailuser
    svc = service(server, user, tmp_path)
    setup = ImapClient("127.0.0.1", server.imap_port, "none", timeout=10)
    setup.connect()
    setup.login(user, PASSWORD)
    setup.create_folder("Lists")
    setup.append("Lists", samples.plain(subject="Before"), flags=())
    svc.sync(PlainContext(), "Lists")
    (old_uid,) = svc.cache.uids("acct", "Lists")
    svc.open(PlainContext(), "Lists", old_uid)
    setup.delete_folder("Lists")
    setup.create_folder("Lists")
    setup.append("Lists", samples.plain(subject="After"), flags=())
    setup.close()
    ctx = PlainContext()
    svc.sync(ctx, "Lists")
    assert ctx.events[0][0] == "reset"
    rows = svc.cache.messages("acct", "Lists")
    assert [r.subject for r in rows] == ["After"]
    assert svc.open(PlainContext(), "Lists", rows[0].uid).subject == "After"
    svc.close()


def test_pop3_fetches_only_new_leaves_mail_and_deletes_on_request(mailuser, tmp_path):
    server, user, _ = mailuser
    for i in range(3):
        server.deliver(user, samples.plain(subject=f"Pop {i}"))
    svc = service(server, user, tmp_path, protocol="pop3")
    lines = []
    ctx = PlainContext(log=lambda d, t: lines.append(t))
    assert [f.name for f in svc.folders(ctx)] == ["INBOX"]
    assert svc.sync(ctx) == 3
    assert sorted(r.subject for r in rows_of(ctx)) == ["Pop 0", "Pop 1", "Pop 2"]
    assert sum(1 for t in lines if t.startswith("TOP")) == 3
    server.deliver(user, samples.plain(subject="Pop 3"))
    lines.clear()
    ctx = PlainContext(log=lambda d, t: lines.append(t))
    assert svc.sync(ctx) == 4
    assert [r.subject for r in rows_of(ctx)] == ["Pop 3"]
    assert sum(1 for t in lines if t.startswith("TOP")) == 1
    rows = svc.cache.messages("acct", "INBOX")
    assert rows[0].subject == "Pop 3" and rows[0].unread
    opened = svc.open(PlainContext(), "INBOX", rows[0].uid)
    assert opened.subject == "Pop 3"
    assert not svc.cache.messages("acct", "INBOX")[0].unread
    assert svc.sync(PlainContext()) == 4             # left on the server
    svc.delete(PlainContext(), "INBOX", [rows[-1].uid])
    ctx = PlainContext()
    assert svc.sync(ctx) == 3
    assert rows_of(ctx) == []
    assert sorted(r.subject for r in svc.cache.messages("acct", "INBOX")) == ["Pop 1", "Pop 2", "Pop 3"]
    assert svc.search(PlainContext(), "INBOX", "pop 2") == [r.uid for r in svc.cache.messages(
        "acct", "INBOX") if r.subject == "Pop 2"]


def test_watch_reports_new_mail_until_cancelled(mailuser, tmp_path):
    server, user, _ = mailuser
    svc = service(server, user, tmp_path)
    ctx = PlainContext()
    errors = []

    def run():
        try:
            svc.watch(ctx, "INBOX")
        except Cancelled:
            pass
        except Exception as exc:  # pragma: no cover - shown by the assert below
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    time.sleep(0.8)
    server.deliver(user, samples.plain(subject="Wake up"))
    deadline = time.monotonic() + 10
    while not ctx.events and time.monotonic() < deadline:
        time.sleep(0.05)
    ctx.token.cancel()
    thread.join(5)
    assert not thread.is_alive() and not errors
    assert ctx.events[0] == ("new-mail", {"account": "acct", "folder": "INBOX"})


def test_opening_a_message_does_not_wait_for_a_running_sync(mailuser, tmp_path):
    server, user, _ = mailuser
    server.deliver(user, samples.plain(subject="Quick look"))
    svc = service(server, user, tmp_path)
    svc.sync(PlainContext(), "INBOX")
    (uid,) = svc.cache.uids("acct", "INBOX")
    lines = []
    with svc.lock:  # as if a long sync held the shared connection
        started = time.monotonic()
        msg = svc.open(PlainContext(log=lambda d, t: lines.append(t)), "INBOX", uid)
    assert msg.subject == "Quick look" and time.monotonic() - started < 10
    assert any("second one" in t for t in lines)


def test_the_folder_list_takes_turns_with_a_running_sync(mailuser, tmp_path):
    server, user, _ = mailuser
    svc = service(server, user, tmp_path)
    lines, result = [], []
    ctx = PlainContext(log=lambda d, t: lines.append(t))
    with svc.lock:  # as if a long sync held the shared connection
        thread = threading.Thread(target=lambda: result.append(svc.folders(ctx)))
        thread.start()
        time.sleep(0.3)
        assert thread.is_alive() and not result        # it waits its turn…
    thread.join(10)
    assert {f.special for f in result[0]} >= {"inbox", "sent"}
    assert not any("second one" in t for t in lines)   # …on the one connection
    cancelled = PlainContext()
    with svc.lock:
        threading.Timer(0.2, cancelled.token.cancel).start()
        with pytest.raises(Cancelled):                  # and waiting can be cancelled
            svc.folders(cancelled)
    svc.close()
    svc.close()


def test_a_sync_interrupted_halfway_is_completed_next_time(mailuser, tmp_path):
    server, user, _ = mailuser
    for i in range(12):
        server.deliver(user, samples.plain(subject=f"N{i:02d}"))
    svc = service(server, user, tmp_path)
    ctx = PlainContext()
    events = []

    def stop_after_first(kind, payload=None):  # the user cancels after the first screen
        events.append(kind)
        if kind == "rows":
            ctx.token.cancel()

    ctx.event = stop_after_first
    with pytest.raises(Cancelled):
        svc.sync(ctx, "INBOX", first=4, batch=4)
    assert len(svc.cache.uids("acct", "INBOX")) == 4
    ctx = PlainContext()
    assert svc.sync(ctx, "INBOX", first=4, batch=4) == 12
    assert len(rows_of(ctx)) == 8
    assert sorted(r.subject for r in svc.cache.messages("acct", "INBOX")) == [f"N{i:02d}" for i in range(12)]
    svc.close()


def test_a_listing_cut_off_by_the_network_keeps_its_rows_and_is_completed(mailuser, tmp_path):
    server, user, _ = mailuser
    for i in range(400):
        server.deliver(user, samples.plain(subject=f"Cut {i:03d} " + "x" * 300))
    with FaultyRelay(server.imap_port, "drop", after=40_000) as relay:
        svc = MailService("acct", account(server, user, port=relay.port),
                          MailCache(tmp_path / "cache.sqlite3"), password=PASSWORD)
        ctx = PlainContext()
        svc.folders(ctx)
        relay.armed.set()
        with pytest.raises(ConnectionLost):
            svc.sync(ctx, "INBOX", first=20)
        shown = {r.uid for r in rows_of(ctx)}
        assert 20 <= len(shown) < 400 and svc.cache.uids("acct", "INBOX") == shown
        svc.close()
    svc = service(server, user, tmp_path)  # the network is back
    ctx = PlainContext()
    assert svc.sync(ctx) == 400
    assert len(svc.cache.uids("acct", "INBOX")) == 400 and not shown & {r.uid for r in rows_of(ctx)}
    svc.close()


def test_a_cache_from_an_older_netgui_is_rebuilt(tmp_path):
    path = tmp_path / "cache.sqlite3"
    with sqlite3.connect(path) as db:  # the first cache format: decoded text per row
        db.executescript("""
            CREATE TABLE messages (account TEXT NOT NULL, folder TEXT NOT NULL, uid INTEGER NOT NULL,
                sender TEXT, recipient TEXT, subject TEXT, date REAL, size INTEGER, flags TEXT,
                attachment INTEGER, message_id TEXT, uidl TEXT, PRIMARY KEY (account, folder, uid));
            CREATE TABLE bodies (account TEXT, folder TEXT, uid INTEGER, raw BLOB);
            INSERT INTO messages VALUES ('acct', 'INBOX', 1, 'a', 'b', 'old', 0, 1, '', 0, '', NULL);
            INSERT INTO bodies VALUES ('acct', 'INBOX', 1, x'00');""")
    cache = MailCache(path)
    assert cache.messages("acct", "INBOX") == [] and cache.body("acct", "INBOX", 1) is None
    cache.add_messages("acct", "INBOX", [MessageRow(5, b"Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\n"
                                                       b"Date: Mon, 02 Mar 2026 10:00:00 +0000\r\n",
                                                    42, ("\\Seen",))])
    cache.close()
    row, = MailCache(path).messages("acct", "INBOX")
    assert (row.uid, row.subject, row.size, row.flags, row.unread) == (5, "Grüße", 42, ("\\Seen",), False)
    assert row.date == 1772445600.0


@pytest.mark.parametrize("protocol", ["imap-without-idle", "pop3"])
def test_watch_polls_where_idle_is_missing(mailuser, tmp_path, monkeypatch, protocol):
    server, user, _ = mailuser
    if protocol == "pop3":
        svc = service(server, user, tmp_path, protocol="pop3")
    else:
        original = ImapClient.has
        monkeypatch.setattr(ImapClient, "has",
                            lambda self, cap: cap.upper() != "IDLE" and original(self, cap))
        svc = service(server, user, tmp_path)
    ctx = PlainContext()
    thread = threading.Thread(target=lambda: pytest.raises(Cancelled, svc.watch, ctx, "INBOX",
                                                           poll=0.3))
    thread.start()
    time.sleep(1.0)
    server.deliver(user, samples.plain(subject="Polled"))
    deadline = time.monotonic() + 10
    while not ctx.events and time.monotonic() < deadline:
        time.sleep(0.05)
    ctx.token.cancel()
    thread.join(5)
    assert not thread.is_alive()
    assert ctx.events and ctx.events[0][0] == "new-mail"
