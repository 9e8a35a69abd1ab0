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
