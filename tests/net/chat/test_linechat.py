"""netgui's chat server and line-chat client, against each other, plain sockets and a SEND-variant server."""

import queue
import socket
import threading
import time

import pytest

from netgui.net.cancel import CancelToken
from netgui.net.chat.linechat import LineChatClient, run_session
from netgui.net.errors import Cancelled, ConnectError, ConnectionLost
from netgui.servers.chat import ChatServer
from tests.support.peers import free_port
from tests.support.sendserver import SendVariantServer


@pytest.fixture
def server():
    logs = []
    with ChatServer(log=lambda d, t: logs.append((d, t))) as srv:
        srv.logs = logs
        yield srv


def raw_client(port):
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    f = sock.makefile("rb")
    greeting = f.readline().decode()
    name = f"127.0.0.1:{sock.getsockname()[1]}"
    assert greeting == f"Welcome to the chat server, {name}\n"
    return sock, f, name


def wait_until(cond, timeout=5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.01)
    return False


def test_plain_sockets_greeting_and_relay_to_everyone(server):
    a, fa, name_a = raw_client(server.port)
    b, fb, name_b = raw_client(server.port)
    assert wait_until(lambda: len(server.clients) == 2)
    assert set(server.clients) == {name_a, name_b}
    a.sendall("hello wörld\r\n".encode())
    assert fa.readline().decode() == f"{name_a}: hello wörld\n"
    assert fb.readline().decode() == f"{name_a}: hello wörld\n"
    b.sendall(b"one\ntwo\n")
    assert [fa.readline(), fa.readline()] == [f"{name_b}: one\n".encode(), f"{name_b}: two\n".encode()]
    fa.close(), a.close()  # the file object holds the socket open too
    assert wait_until(lambda: server.clients == [name_b])
    assert any("disconnected" in t for _, t in server.logs)
    b.close()


def test_oversized_and_malformed_lines(server):
    a, fa, name = raw_client(server.port)
    a.sendall(b"x" * 10000 + b"\n")  # cut to the cap
    line = fa.readline()
    assert line == f"{name}: ".encode() + b"x" * server.max_line + b"\n"
    # a huge line without any newline does not grow memory and is relayed once, cut
    a.sendall(b"y" * 100000)
    assert fa.readline() == f"{name}: ".encode() + b"y" * server.max_line + b"\n"
    a.sendall(b"z" * 100 + b"\n")  # the rest of that line is dropped at its newline
    a.sendall(b"bad \xff\xfe utf8\x00 \x1b[31mred\x07\n\n")
    assert fa.readline() == f"{name}: ".encode() + b"bad \xff\xfe utf8 [31mred\n"  # controls removed
    assert fa.readline() == f"{name}: \n".encode()  # empty line relayed as-is
    a.sendall(b"last words")
    a.shutdown(socket.SHUT_WR)
    assert fa.readline() == f"{name}: last words\n".encode()
    assert fa.readline() == b""  # server closes after our EOF
    assert any("cut" in t for _, t in server.logs)


def test_slow_client_is_dropped_without_stalling_others():
    logs = []
    with ChatServer(max_queue=1000, log=lambda d, t: logs.append(t)) as srv:
        slow = socket.socket()
        slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        slow.connect(("127.0.0.1", srv.port))  # never reads
        fast, ff, name = raw_client(srv.port)
        received = []
        done = threading.Event()

        def reader():
            for raw in ff:
                received.append(raw)
                if len(received) == 5000:
                    done.set()
                    return

        threading.Thread(target=reader, daemon=True).start()
        payload = b"".join(b"%05d " % i + b"p" * 1000 + b"\n" for i in range(5000))
        fast.sendall(payload)
        assert wait_until(lambda: any("too far behind" in t for t in logs), 20), "the slow client was not dropped"
        # the slow client gets the goodbye line at the end of what it had queued
        slow.settimeout(5)
        data = bytearray()
        while True:
            chunk = slow.recv(65536)
            if not chunk:
                break
            data += chunk
        assert data.endswith(b"Disconnected by the chat server: too far behind (1000 lines waiting)\n")
        assert done.wait(20), f"fast client got only {len(received)} lines"
        assert [int(r.split(b": ")[1][:5]) for r in received] == list(range(5000))
        assert wait_until(lambda: srv.clients == [name])
        slow.close()
        fast.close()


def test_client_against_netgui_server(server):
    logs = []
    with LineChatClient("127.0.0.1", server.port, timeout=5, log=lambda d, t: logs.append((d, t))) as a, \
         LineChatClient("127.0.0.1", server.port, timeout=5, variant="line") as b:
        assert a.greeting.startswith("Welcome to the chat server, 127.0.0.1:")
        assert a.peer == f"127.0.0.1:{a.sock.getsockname()[1]}"
        a.send("hi from a")
        assert a.variant == "line"
        assert a.receive(timeout=5) == f"{a.peer}: hi from a"
        assert b.receive(timeout=5) == f"{a.peer}: hi from a"
        b.send("héllo ✓")
        assert a.receive(timeout=5) == f"{b.peer}: héllo ✓"
        assert ("*", "Server variant: per line") in logs
        assert (">", "hi from a") in logs
    assert wait_until(lambda: server.clients == [])


def test_auto_detects_send_variant_and_keeps_every_line():
    srv = SendVariantServer()
    try:
        a = LineChatClient("127.0.0.1", srv.port, timeout=5, probe_seconds=0.3)
        b = LineChatClient("127.0.0.1", srv.port, timeout=5, variant="send")
        a.connect(), b.connect()
        a.send("first")
        assert a.variant == "send"
        assert a.receive(timeout=5) == f"{a.peer}: first"
        b.send("one\ntwo")
        assert [a.receive(timeout=5), a.receive(timeout=5)] == [f"{b.peer}: one", f"{b.peer}: two"]
        a.send("again")
        assert [b.receive(timeout=5) for _ in range(4)] == \
            [f"{a.peer}: first", f"{b.peer}: one", f"{b.peer}: two", f"{a.peer}: again"]
        a.close(), b.close()
    finally:
        srv.close()


def test_line_named_send_is_not_taken_as_a_command():
    srv = SendVariantServer()
    try:
        with LineChatClient("127.0.0.1", srv.port, timeout=5, variant="send") as c:
            c.send("SEND")
            assert c.receive(timeout=5) == f"{c.peer}: SEND "
    finally:
        srv.close()


def test_errors_refused_closed_and_cancel(server):
    with pytest.raises(ConnectError):
        LineChatClient("127.0.0.1", free_port(), timeout=2).connect()
    token = CancelToken()
    c = LineChatClient("127.0.0.1", server.port, timeout=5, token=token)
    c.connect()
    threading.Timer(0.2, token.cancel).start()
    started = time.monotonic()
    with pytest.raises(Cancelled):
        c.receive(timeout=None)
    assert time.monotonic() - started < 3
    c.close()
    # server goes away: lines() ends, receive raises ConnectionLost
    with ChatServer() as srv2:
        c = LineChatClient("127.0.0.1", srv2.port, timeout=5)
        c.connect()
    assert list(c.lines()) == []
    with pytest.raises(ConnectionLost):
        c.receive(timeout=1)
    c.close()


def test_run_session_batches_and_sends_from_outbox(server):
    outbox = queue.Queue()
    batches = []
    token = CancelToken()
    outcome = {}

    def worker():
        try:
            run_session("127.0.0.1", server.port, outbox=outbox, on_lines=batches.append, token=token, timeout=5)
            outcome["ok"] = True
        except Exception as exc:
            outcome["error"] = exc

    t = threading.Thread(target=worker)
    t.start()
    assert wait_until(lambda: batches)
    assert batches[0][0].startswith("Welcome to the chat server")
    for i in range(50):
        outbox.put(f"m{i}")
    assert wait_until(lambda: sum(len(b) for b in batches) >= 51)
    got = [line.split(": ", 1)[1] for batch in batches[1:] for line in batch]
    assert got == [f"m{i}" for i in range(50)]
    outbox.put(None)
    t.join(5)
    assert outcome == {"ok": True}


def test_silent_or_closing_server_is_a_clear_error():
    from netgui.net.errors import NetTimeout, ProtocolError
    with socket.create_server(("127.0.0.1", 0)) as silent:
        with pytest.raises(NetTimeout) as info:
            LineChatClient("127.0.0.1", silent.getsockname()[1], timeout=0.5).connect()
        assert "sent no greeting" in str(info.value)

    closer = socket.create_server(("127.0.0.1", 0))

    def close_at_once():
        conn, _ = closer.accept()
        conn.close()

    threading.Thread(target=close_at_once, daemon=True).start()
    with pytest.raises(ProtocolError) as info:
        LineChatClient("127.0.0.1", closer.getsockname()[1], timeout=5).connect()
    assert "without a greeting" in str(info.value)
    closer.close()
