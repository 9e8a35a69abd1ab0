"""The WebSocket client (wsproto on netgui's own connection) against hypercorn's WebSocket
server (also wsproto), plain and TLS."""

from __future__ import annotations

import threading
import time

import pytest

from netgui.net.cancel import CancelToken
from netgui.net.errors import AuthError, Cancelled, CertificateError
from netgui.net.http.websocket import WebSocket, WebSocketClosed
from tests.support.h2c_server import hypercorn_server  # noqa: F401


def test_text_binary_json_and_the_message_log(hypercorn_server):
    lines = []
    ws = WebSocket.connect(hypercorn_server.url("/ws", scheme="ws"), timeout=5,
                           log=lambda d, t: lines.append((d, t)))
    ws.send_text("hello ünïcode")
    assert ws.receive(timeout=5).data == "hello ünïcode"
    ws.send_binary(bytes(range(256)) * 1000)
    got = ws.receive(timeout=5)
    assert got.kind == "binary" and got.data == bytes(range(256)) * 1000
    ws.send_json({"a": [1, 2]})
    assert ws.receive(timeout=5).data == '{"a": [1, 2]}'
    assert [(m.direction, m.kind) for m in ws.messages] == [
        (">", "text"), ("<", "text"), (">", "binary"), ("<", "binary"), (">", "text"), ("<", "text")]
    assert all(m.when > 0 for m in ws.messages)
    assert ("<", "HTTP/1.1 101 Switching Protocols") in lines
    assert (">", "text (15 bytes): hello ünïcode") in lines
    ws.close()
    assert ws.closed and ws.close_code == 1000


def test_ping_pong_and_receive_timeout(hypercorn_server):
    ws = WebSocket.connect(hypercorn_server.url("/ws", scheme="ws"), timeout=5)
    ws.ping(b"are you there")
    assert ws.receive(timeout=0.5) is None  # a pong is logged, it is not a data message
    assert ("<", "pong", b"are you there") in [(m.direction, m.kind, m.data) for m in ws.messages]
    ws.close()


def test_server_close_code_and_reason(hypercorn_server):
    ws = WebSocket.connect(hypercorn_server.url("/ws", scheme="ws"), timeout=5)
    ws.send_text("close:4001:bye now")
    with pytest.raises(WebSocketClosed, match=r"4001 \(application code\): bye now"):
        ws.receive(timeout=5)
    assert (ws.close_code, ws.close_reason) == (4001, "bye now")
    with pytest.raises(WebSocketClosed):
        ws.send_text("too late")


def test_headers_subprotocol_and_refusal(hypercorn_server):
    url = hypercorn_server.url("/ws-auth", scheme="ws")
    with pytest.raises(AuthError, match="refused the WebSocket upgrade: HTTP 403"):
        WebSocket.connect(url, timeout=5)
    lines = []
    ws = WebSocket.connect(url, headers=[("Authorization", "Bearer good")], subprotocols=["chat"],
                           timeout=5, log=lambda d, t: lines.append(t), secrets=("good",))
    assert ws.subprotocol == "chat"
    assert "Authorization: Bearer ****" in lines
    ws.close()


def test_wss_with_certificate_checks(hypercorn_server):
    url = hypercorn_server.url("/ws", tls=True, scheme="ws")
    with pytest.raises(CertificateError):
        WebSocket.connect(url, timeout=5)
    ws = WebSocket.connect(url, cafile=hypercorn_server.ca_file, timeout=5)
    assert ws.tls.verified and ws.tls.alpn in (None, "http/1.1")
    ws.send_text("over tls")
    assert ws.receive(timeout=5).data == "over tls"
    ws.close()


def test_cancel_wakes_a_blocked_receive(hypercorn_server):
    ws = WebSocket.connect(hypercorn_server.url("/ws", scheme="ws"), timeout=30)
    token = CancelToken()
    outcome = {}

    def wait():
        try:
            ws.receive(timeout=20, token=token)
        except BaseException as exc:  # noqa: BLE001
            outcome["exc"] = exc

    t = threading.Thread(target=wait)
    t.start()
    time.sleep(0.2)
    token.cancel()
    t.join(3)
    assert not t.is_alive() and isinstance(outcome["exc"], Cancelled)


# -- a hostile server ------------------------------------------------------------------------

from tests.support.hostile_ws import hostile_ws  # noqa: E402,F401
from netgui.net.errors import NetTimeout  # noqa: E402
from netgui.net.http.websocket import WebSocketRejected  # noqa: E402


def test_fragments_and_frames_that_came_with_the_upgrade_are_kept(hostile_ws):
    ws = WebSocket.connect(hostile_ws.url("/fragments?n=1000"), timeout=5)
    assert ws.receive(timeout=5).data == "abc" * 1000
    ws.close()
    ws = WebSocket.connect(hostile_ws.url("/big?size=3000000"), timeout=5)
    got = ws.receive(timeout=5)
    assert got.kind == "binary" and got.data == b"B" * 3_000_000
    ws.close()


def test_a_message_over_the_limit_is_refused_with_1009(hostile_ws):
    lines = []
    ws = WebSocket.connect(hostile_ws.url("/big?size=3000000"), timeout=5, max_message=1 << 20,
                           log=lambda d, t: lines.append(t))
    with pytest.raises(WebSocketClosed, match=r"1009 \(message too big\)"):
        ws.receive(timeout=5)
    assert "A message over 1.0 MiB: closing with 1009" in lines
    assert [(m.direction, m.kind) for m in ws.messages] == [(">", "close")]


@pytest.mark.parametrize("path, code, why", [
    ("/bad-close", 1002, "CLOSE with invalid code"),
    ("/bad-utf8", 1007, "utf-8"),
    ("/masked", 1002, "masked frame"),
])
def test_protocol_errors_close_with_the_right_code(hostile_ws, path, code, why):
    lines = []
    ws = WebSocket.connect(hostile_ws.url(path), timeout=5, log=lambda d, t: lines.append((d, t)))
    with pytest.raises(WebSocketClosed, match=str(code)):
        ws.receive(timeout=5)
    assert ws.close_code == code and why in ws.close_reason
    assert any(d == "!" and "broke the WebSocket protocol" in t for d, t in lines)
    assert [(m.direction, m.kind) for m in ws.messages] == [(">", "close")]
    deadline = time.monotonic() + 3
    while hostile_ws.closes < 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert hostile_ws.closes == 1  # the server got our close frame


def test_a_ping_flood_is_answered_and_the_log_stays_bounded(hostile_ws, monkeypatch):
    import netgui.net.http.websocket as module
    monkeypatch.setattr(module, "KEPT", 100)
    ws = WebSocket.connect(hostile_ws.url("/ping-flood?n=3000"), timeout=5)
    assert ws.receive(timeout=5).data == "done"
    assert len(ws.messages) == 100
    ws.close()
    assert hostile_ws.pongs == 3000


def test_no_answer_to_our_close_and_a_dropped_connection_are_1006(hostile_ws):
    ws = WebSocket.connect(hostile_ws.url("/no-close-reply"), timeout=5)
    ws.close(wait=0.3)
    assert ws.closed and ws.close_code == 1006 and "no answer to our close" in ws.close_reason
    ws = WebSocket.connect(hostile_ws.url("/drop"), timeout=5)
    with pytest.raises(WebSocketClosed, match=r"1006 \(connection lost\)"):
        ws.receive(timeout=5)


def test_refused_or_unanswered_upgrades_are_one_line(hostile_ws):
    with pytest.raises(WebSocketRejected, match=r"refused the WebSocket upgrade: HTTP 500 "
                                                 r"\(no websockets here\)"):
        WebSocket.connect(hostile_ws.url("/reject"), timeout=5)
    with pytest.raises(NetTimeout, match="did not answer the WebSocket upgrade within 0.5 s"):
        WebSocket.connect(hostile_ws.url("/silent-upgrade"), timeout=0.5)
