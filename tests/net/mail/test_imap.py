"""The IMAP core against a real Dovecot: TLS modes, folders, headers, flags, move, delete, search."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from netgui.net.cancel import CancelToken
from netgui.net.errors import (
    AuthError,
    Cancelled,
    CertificateError,
    ConnectionLost,
    NetTimeout,
    ProtocolError,
)
from netgui.net.mail.imap import ImapClient, classify_folder, decode_folder_name, encode_folder_name, uid_set
from netgui.net.mail.message import summarize
from tests.support import mailsamples as samples
from tests.support.dovecot import PASSWORD, dovecot, mailuser  # noqa: F401  (fixtures)
from tests.support.peers import FaultyRelay


def connect(server, user, security="none", log=None, **kw):
    port = {"none": server.imap_port, "starttls": server.imap_port, "tls": server.imaps_port}[security]
    client = ImapClient("127.0.0.1", port, security, cafile=server.ca_file, timeout=10,
                        log=log or (lambda d, t: None), **kw)
    client.connect()
    client.login(user, PASSWORD)
    return client


@pytest.mark.parametrize("security", ["none", "starttls", "tls"])
def test_login_in_each_security_mode_and_password_never_in_transcript(mailuser, security):
    server, user, _ = mailuser
    lines = []
    client = connect(server, user, security, log=lambda d, t: lines.append((d, t)))
    try:
        names = {f.name: f.special for f in client.list_folders()}
    finally:
        client.close()
    assert names["INBOX"] == "inbox"
    assert names["Sent"] == "sent" and names["Drafts"] == "drafts"
    assert names["Trash"] == "trash" and names["Junk"] == "junk"
    text = "\n".join(t for _, t in lines)
    assert PASSWORD not in text
    assert "LOGIN" in text and "****" in text
    if security != "none":
        assert "TLS" in text


def test_wrong_password_is_an_auth_error(mailuser):
    server, user, _ = mailuser
    client = ImapClient("127.0.0.1", server.imap_port, "none", timeout=10)
    client.connect()
    with pytest.raises(AuthError) as info:
        client.login(user, "wrong")
    client.close()
    assert "refused the user name or password" in str(info.value)


def test_untrusted_certificate_is_refused(mailuser):
    server, user, _ = mailuser
    client = ImapClient("127.0.0.1", server.imaps_port, "tls", timeout=10)  # no test CA given
    with pytest.raises(CertificateError):
        client.connect()


def test_special_folder_names_fall_back_to_names():
    assert classify_folder("Sent Items", "/", ()) == "sent"
    assert classify_folder("INBOX.Deleted Messages", ".", ()) == "trash"
    assert classify_folder("[Gmail]/Spam", "/", ()) == "junk"
    assert classify_folder("Stuff", "/", ("\\HasNoChildren", "\\Drafts")) == "drafts"
    assert classify_folder("Projects", "/", ()) is None


def test_modified_utf7_round_trip():
    for name in ("Entwürfe", "Café & Co", "日本語", "plain"):
        assert decode_folder_name(encode_folder_name(name)) == name
    assert encode_folder_name("Entwürfe") == "Entw&APw-rfe"
    assert uid_set([5, 1, 2, 3, 9, 10]) == "1:3,5,9:10"


def test_headers_in_batches_newest_first_and_bodies(mailuser):
    server, user, _ = mailuser
    for i in range(25):
        server.deliver(user, samples.plain(subject=f"Message {i}", body=f"Body {i}\n"))
    server.deliver(user, samples.encoded_headers())
    client = connect(server, user)
    try:
        state = client.select("INBOX")
        assert state.exists == 26 and state.uidvalidity > 0
        batches = list(client.iter_header_batches(state, first=5, batch=10))
        assert len(batches[0]) == 5 and sum(map(len, batches)) == 26
        uids = [r.uid for b in batches for r in b]
        assert len(set(uids)) == 26
        assert [r.uid for r in batches[0]] == sorted(uids, reverse=True)[:5]  # the newest first
        newest = summarize(batches[0][0].header)
        assert newest.subject == "Grüße aus Köln €50"
        assert newest.sender == "Jürgen Müller"
        assert all(r.size > 0 and "\\Seen" not in r.flags for b in batches for r in b)
        raw = client.fetch_message(min(uids))
        assert b"Body 0" in raw
        assert "\\Seen" in client.fetch_flags()[min(uids)]
        # only-new fetch by UID
        server.deliver(user, samples.plain(subject="Late"))
        client.noop()
        new = [r for b in client.iter_header_batches(client.select("INBOX"), min_uid=max(uids) + 1)
               for r in b]
        assert [summarize(r.header).subject for r in new] == ["Late"]
    finally:
        client.close()


def test_flags_move_delete_and_search(mailuser):
    server, user, _ = mailuser
    server.deliver(user, samples.plain(subject="Invoice March", sender="billing@shop.example"))
    server.deliver(user, samples.plain(subject="Lunch?", sender="dave@example.org",
                                       body="Shall we meet at the café?\n"))
    server.deliver(user, samples.plain(subject="Report", sender="eve@example.org"))
    client = connect(server, user)
    try:
        client.select("INBOX")
        a, b, c = client.uids()
        client.store_flags([a], ["\\Flagged", "\\Seen"])
        client.store_flags([a], ["\\Seen"], add=False)
        assert client.fetch_flags()[a] == ("\\Flagged",)
        assert client.search("invoice") == [a]
        assert client.search("billing@shop") == [a]
        assert client.search("café") == [b]            # body, non-ASCII through a literal
        assert client.search("nothing-like-this") == []
        client.move([b], "Junk")
        assert client.uids() == [a, c]
        assert len(client.uids("Junk")) == 1
        client.select("INBOX")
        assert client.delete([c]) == "Trash"
        assert client.uids() == [a]
        trash_uids = client.uids("Trash")
        assert len(trash_uids) == 1
        assert client.delete(trash_uids) is None       # inside Trash: gone for good
        assert client.uids() == []
        # COPY + \\Deleted + EXPUNGE where MOVE is missing
        client.select("INBOX")
        client.move([a], "Sent", use_move=False)
        assert client.uids("INBOX") == []
        assert len(client.uids("Sent")) == 1
    finally:
        client.close()


def test_append_and_special_folder_for_the_sending_side(mailuser):
    server, user, _ = mailuser
    client = connect(server, user)
    try:
        sent = client.special_folder("sent")
        assert sent == "Sent" and client.special_folder("drafts") == "Drafts"
        client.append(sent, samples.plain(subject="Sent by me"))
        client.select(sent)
        (uid,) = client.uids()
        assert client.fetch_flags()[uid] == ("\\Seen",)
        assert b"Sent by me" in client.fetch_message(uid)
    finally:
        client.close()


def test_uidvalidity_changes_when_a_folder_is_recreated(mailuser):
    server, user, _ = mailuser
    client = connect(server, user)
    try:
        client.create_folder("Projekte/Entwürfe")
        assert any(f.name == "Projekte/Entwürfe" for f in client.list_folders())
        client.append("Projekte/Entwürfe", samples.plain())
        first = client.select("Projekte/Entwürfe").uidvalidity
        client.select("INBOX")
        client.delete_folder("Projekte/Entwürfe")
        client.create_folder("Projekte/Entwürfe")
        second = client.select("Projekte/Entwürfe")
        assert second.uidvalidity != first and second.exists == 0
    finally:
        client.close()


def fill_inbox(server, user, count):
    for i in range(count):
        server.deliver(user, samples.plain(subject=f"Message {i} " + "x" * 200, body=f"Body {i}\n"))
    server.deliver(user, samples.encoded_headers())
    server.deliver(user, samples.multipart_with_attachments())


def test_streamed_listing_reads_what_imaplib_reads(mailuser):
    server, user, _ = mailuser
    fill_inbox(server, user, 40)
    client = connect(server, user)
    try:
        state = client.select("INBOX")
        streamed = [r for b in client.iter_header_batches(state, first=7) for r in b]
        plain = client.fetch_headers("1:*", by_uid=False)
        client.noop()  # the connection is in step after the stream
    finally:
        client.close()
    key = (lambda r: r.uid)
    assert sorted(streamed, key=key) == sorted(plain, key=key)
    assert len(streamed) == 42 and all(r.header.startswith(b"From:") or b"\nFrom:" in r.header
                                       for r in streamed)


def armed_listing(relay, user, **kw):
    """A client logged in through ``relay`` with the Inbox selected; the relay then armed."""
    client = ImapClient("127.0.0.1", relay.port, "none", **kw)
    client.connect()
    client.login(user, PASSWORD)
    state = client.select("INBOX")
    relay.armed.set()
    return client, state


def test_a_connection_dropped_mid_listing_is_lost_not_a_short_list(mailuser):
    server, user, _ = mailuser
    fill_inbox(server, user, 300)
    with FaultyRelay(server.imap_port, "drop", after=20_000) as relay:
        client, state = armed_listing(relay, user, timeout=10)
        got = []
        with pytest.raises(ConnectionLost):
            for batch in client.iter_header_batches(state, first=10):
                got.extend(batch)
        assert relay.tripped.is_set() and not client.alive
        assert len(got) < 302
        client.close()


def test_a_stalled_listing_times_out_and_cancel_wakes_it(mailuser):
    server, user, _ = mailuser
    fill_inbox(server, user, 300)
    for timeout, cancel_after in ((1.0, None), (30, 0.3)):
        with FaultyRelay(server.imap_port, "stall", after=20_000) as relay:
            token = CancelToken()
            client, state = armed_listing(relay, user, timeout=timeout, token=token)
            if cancel_after:
                threading.Timer(cancel_after, token.cancel).start()
            started = time.monotonic()
            with pytest.raises(Cancelled if cancel_after else NetTimeout):
                for _ in client.iter_header_batches(state, first=10):
                    pass
            assert time.monotonic() - started < 5 and not client.alive
            client.close()


def test_a_refused_fetch_in_a_stream_is_a_protocol_error_and_the_session_goes_on(mailuser):
    server, user, _ = mailuser
    fill_inbox(server, user, 3)
    client = connect(server, user)
    try:
        client.select("INBOX")
        with pytest.raises(ProtocolError, match="FETCH"):
            list(client.stream_headers([(1, 2), (90, 99)]))
        assert client.alive and client.noop() is not None
    finally:
        client.close()


def test_a_server_refusing_cleartext_logins_is_told_apart_from_a_wrong_password():
    """Dovecot always allows cleartext logins from the same machine, so a few lines stand in
    for a server that announces LOGINDISABLED on a plain connection."""
    from netgui.net.mail.accounts import needs_password
    heard = []
    listener = socket.create_server(("127.0.0.1", 0))

    def serve():
        conn, _ = listener.accept()
        with conn, conn.makefile("rb") as lines:
            greeting = b"IMAP4rev1 STARTTLS LOGINDISABLED"
            conn.sendall(b"* OK [CAPABILITY " + greeting + b"] ready\r\n")
            for line in lines:
                heard.append(line)
                tag, command = line.split(b" ", 2)[:2]
                command = command.strip().upper()
                if command == b"CAPABILITY":
                    conn.sendall(b"* CAPABILITY " + greeting + b"\r\n" + tag + b" OK done\r\n")
                elif command == b"LOGOUT":
                    conn.sendall(b"* BYE\r\n" + tag + b" OK bye\r\n")
                    return

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    client = ImapClient("127.0.0.1", listener.getsockname()[1], "none", timeout=5)
    client.connect()
    with pytest.raises(ProtocolError, match="use TLS or STARTTLS") as caught:
        client.login("user", "s3cret")
    client.close()
    thread.join(5)
    listener.close()
    assert not needs_password(caught.value)  # asking for another password would not help
    assert [line.split()[1] for line in heard] == [b"CAPABILITY", b"LOGOUT"]  # no LOGIN sent


def test_refused_command_is_a_protocol_error(mailuser):
    server, user, _ = mailuser
    client = connect(server, user)
    try:
        with pytest.raises(ProtocolError):
            client.select("No such folder")
    finally:
        client.close()


def test_idle_reports_new_mail_and_cancel_wakes_it(mailuser):
    server, user, _ = mailuser
    client = connect(server, user)
    try:
        client.select("INBOX")
        assert client.has("IDLE")
        threading.Timer(0.5, lambda: server.deliver(user, samples.plain(subject="Ping"))).start()
        started = time.monotonic()
        news = client.idle(20)
        assert "EXISTS" in news and time.monotonic() - started < 15
        assert client.idle(0.3) == []   # quiet: the timer ends IDLE with DONE
        assert len(client.uids()) == 1  # and the connection still works
    finally:
        client.close()
    token = CancelToken()
    client = connect(server, user, token=token)
    client.select("INBOX")
    threading.Timer(0.3, token.cancel).start()
    started = time.monotonic()
    with pytest.raises(Cancelled):
        client.idle(30)
    assert time.monotonic() - started < 5
    client.close()
