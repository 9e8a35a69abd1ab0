"""The Web tab's HTTP version choice and its WebSocket side, in a real window under Xvfb,
against nginx (HTTP/2 over TLS by ALPN), hypercorn (h2c, WebSocket, wss) and a hostile
WebSocket server."""

from __future__ import annotations

import pytest

from netgui.tabs import TabSpec
from tests.support.h2c_server import hypercorn_server  # noqa: F401
from tests.support.hostile_ws import hostile_ws  # noqa: F401
from tests.support.nginx_h2 import nginx_h2  # noqa: F401
from tests.support.tk import pump
from tests.tabs.web.test_tab import send

WEB = [TabSpec("web", "Web", "netgui.tabs.web", "WebTab")]


@pytest.fixture
def web(make_app, nginx_h2, monkeypatch):
    monkeypatch.setenv("NETGUI_CA_FILE", nginx_h2.ca_file)
    app = make_app(tabs=WEB)
    tab = app.tab("web")
    pump(app.root, timeout=0.1)
    return tab


def details(tab) -> str:
    return tab.details.get("1.0", "end-1c")


def test_auto_negotiates_http2_and_the_response_says_so(web, nginx_h2):
    send(web, nginx_h2.url("/small.txt"))
    assert web.summary.status.cget("text") == "200"
    assert web.summary.facts.cget("text").startswith("HTTP/2 · 1.0 KiB")
    text = details(web)
    assert "Protocol        HTTP/2 (ALPN: h2)" in text
    assert "Frames          HEADERS, DATA x1 (1.0 KiB), END_STREAM" in text
    transcript = web.transcript.contents()
    assert ":method: GET" in transcript and ":status: 200" in transcript
    assert "ALPN: the server chose h2" in transcript


def test_the_version_choice_is_sent_kept_and_copied(web, nginx_h2):
    send(web, nginx_h2.url("/small.txt"), http_version="HTTP/1.1")
    assert web.summary.facts.cget("text").startswith("HTTP/1.1")
    assert "Protocol        HTTP/1.1 (ALPN: http/1.1)" in details(web)
    send(web, nginx_h2.url("/echo-headers", "h2c"), http_version="HTTP/2")
    assert web.last_response.body.startswith(b"GET HTTP/2.0")
    assert "Protocol        HTTP/2 (cleartext, prior knowledge: h2c)" in details(web)
    assert "--http2-prior-knowledge" in web.copy_curl()
    web.form.set("http_version", "Auto")
    web.reopen_history(0)
    assert web.form.values()["http_version"] == "HTTP/2"


def test_http2_only_where_the_server_has_none_is_one_line(web, nginx_h2):
    send(web, nginx_h2.url("/", "tls11"), http_version="HTTP/2")
    assert "speaks none of the offered protocols (ALPN)" in web.form.status.cget("text")
    send(web, nginx_h2.url("/", "plain"), http_version="HTTP/2")
    assert "does not speak HTTP/2 here" in web.form.status.cget("text")


# -- WebSocket --------------------------------------------------------------------------------

def connect(tab, url, **values):
    tab.form.set_values({"url": url, **values})
    assert tab.form.submit_button.cget("text") == "Connect"
    tab.form.submit_button.invoke()
    pump(tab.app.root, until=lambda: tab.ws_view.ws is not None or not tab.ws_view.running,
         timeout=10, message="the WebSocket to open")


def wait_rows(tab, count):
    pump(tab.app.root, until=lambda: len(tab.ws_view.rows()) >= count, timeout=10,
         message=f"{count} messages in the log")
    return tab.ws_view.rows()


def test_websocket_send_text_json_binary_ping_and_close(web, hypercorn_server):
    connect(web, hypercorn_server.url("/ws", scheme="ws"))
    view = web.ws_view
    assert view.state_label.cget("text").startswith("Open: ws://127.0.0.1:")
    assert web.form.busy and web.response_book.select() == str(view)
    view.text.insert("1.0", "hello")
    view.send_button.invoke()
    assert view.send("JSON", '{"a": [1, 2]}')
    assert view.send("Binary (hex)", "00 01 ff")
    view.ping_button.invoke()
    rows = wait_rows(web, 8)
    sent = [(k, data) for d, k, _, data in rows if d == "→"]
    received = [(k, data) for d, k, _, data in rows if d == "←"]
    assert sent == [("text", "hello"), ("text", '{"a": [1, 2]}'), ("binary", "00 01 ff"),
                    ("ping", "6e 65 74 67 75 69")]
    assert received == [("text", "hello"), ("text", '{"a": [1, 2]}'), ("binary", "00 01 ff"),
                        ("pong", "6e 65 74 67 75 69")]
    json_row = next(i for i in view.log.get_children() if view.messages[i].data == '{"a": [1, 2]}')
    view.log.selection_set(json_row)
    pump(web.app.root, timeout=0.05)
    assert view.detail.get("1.0", "end-1c") == '{\n  "a": [\n    1,\n    2\n  ]\n}'
    view.close_code.set("4000")
    view.close_reason.set("done here")
    view.close_button.invoke()
    pump(web.app.root, until=lambda: not view.running, timeout=10, message="the close")
    assert view.state_label.cget("text").startswith("Closed: ")
    assert any(k == "close" and d == "→" and "4000" in data for d, k, _, data in view.rows())
    assert not web.form.busy and web.form.submit_button.cget("text") == "Connect"
    assert "text (5 bytes): hello" in web.transcript.contents()
    book = web.response_book
    assert book.tab(web.body_views, "state") == "hidden" and not web.summary.winfo_ismapped()
    web.form.set("url", hypercorn_server.url("/echo"))  # back to HTTP: the response tabs return
    pump(web.app.root, timeout=0.05)
    assert book.tab(view, "state") == "hidden" and book.tab(web.body_views, "state") == "normal"
    assert web.form.submit_button.cget("text") == "Send" and web.summary.winfo_ismapped()


def test_websocket_close_code_from_the_server_and_bad_input(web, hypercorn_server):
    connect(web, hypercorn_server.url("/ws", scheme="ws"))
    view = web.ws_view
    assert not view.send("JSON", "{not json")
    assert view.message_status.cget("text").startswith("Not JSON")
    assert not view.send("Binary (hex)", "zz")
    view.send("Text", "close:4001:bye now")
    pump(web.app.root, until=lambda: not view.running, timeout=10, message="the server's close")
    assert view.state_label.cget("text") == "Closed: 4001 (application code): bye now"
    assert web.form.status.cget("text") == "Closed: 4001 (application code): bye now"


def test_wss_headers_and_auth_refusal(web, hypercorn_server, monkeypatch):
    monkeypatch.setenv("NETGUI_CA_FILE", hypercorn_server.ca_file)
    url = hypercorn_server.url("/ws-auth", scheme="ws")
    connect(web, url)
    assert "refused the WebSocket upgrade: HTTP 403" in web.ws_view.state_label.cget("text")
    web.headers.set_rows([("Authorization", "Bearer good")])
    connect(web, url)
    assert web.ws_view.ws is not None
    web.cancel_button.invoke()
    pump(web.app.root, until=lambda: not web.ws_view.running, timeout=10, message="the cancel")
    assert web.ws_view.state_label.cget("text").startswith("Closed: cancelled here")
    assert "Authorization: Bearer ****" in web.transcript.contents()
    connect(web, hypercorn_server.url("/ws", tls=True, scheme="ws"))
    view = web.ws_view
    assert "TLSv1.3" in view.state_label.cget("text") or "TLSv1.2" in view.state_label.cget("text")
    view.send("Text", "over tls")
    assert wait_rows(web, 2)[1][3] == "over tls"
    web.cancel()
    pump(web.app.root, until=lambda: not view.running, timeout=10, message="the cancel")


def test_a_message_flood_is_drawn_in_batches_and_capped(web, hostile_ws, monkeypatch):
    import netgui.tabs.web.websocket as module
    monkeypatch.setattr(module, "ROWS", 300)
    connect(web, hostile_ws.url("/ping-flood?n=2000"))
    pump(web.app.root, until=lambda: any(r[3] == "done" for r in web.ws_view.rows()), timeout=15,
         message="the flood to end")
    assert len(web.ws_view.rows()) == 300
    web.cancel()
    pump(web.app.root, until=lambda: not web.ws_view.running, timeout=10, message="the cancel")
