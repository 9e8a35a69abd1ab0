"""The HTTP core against a real threaded HTTP server on loopback (plain and TLS)."""

from __future__ import annotations

import hashlib
import json
import threading

import pytest

from netgui.net.cancel import CancelToken
from netgui.net.errors import (
    Cancelled,
    CertificateError,
    ConnectError,
    ConnectionLost,
    NetTimeout,
    ProtocolError,
    ResolveError,
)
from netgui.net.http.request import METHODS, BadRequest, Request
from netgui.net.http.session import HttpSession, TruncatedBody
from tests.support.httpapp import JSON_DOC, http_app, make_png, pattern  # noqa: F401
from tests.support.peers import free_port


@pytest.fixture
def session(http_app):
    s = HttpSession(cafile=http_app.ca_file)
    yield s
    s.close()


def body_json(resp):
    return json.loads(resp.body)


@pytest.mark.parametrize("method", METHODS)
def test_every_method_is_sent_and_answered(session, http_app, method):
    resp = session.send(Request(http_app.url("/echo?x=1"), method=method))
    assert resp.status == 200
    assert resp.status_line == "HTTP/1.1 200 OK"
    if method == "HEAD":
        assert resp.body == b"" and resp.content_length > 0
    else:
        assert body_json(resp)["method"] == method
        assert body_json(resp)["query"] == {"x": "1"}


def test_params_headers_and_raw_json_body(session, http_app):
    req = Request(http_app.url("/echo"), method="PUT", params=[("q", "a b"), ("n", "2")],
                  headers=[("X-Test", "yes")], body_kind="raw", raw='{"k": "ü"}',
                  content_type="application/json")
    data = body_json(session.send(req))
    assert data["query"] == {"q": "a b", "n": "2"}
    assert data["headers"]["X-Test"] == "yes"
    assert data["headers"]["Content-Type"] == "application/json"
    assert json.loads(data["body"]) == {"k": "ü"}
    assert data["headers"]["User-Agent"].startswith("netgui/")


def test_urlencoded_form_post(session, http_app):
    req = Request(http_app.url("/echo"), method="POST", body_kind="form",
                  form=[("name", "Zoë"), ("msg", "a&b=c")])
    data = body_json(session.send(req))
    assert data["form"] == {"name": "Zoë", "msg": "a&b=c"}


def test_multipart_with_file_upload(session, http_app, tmp_path):
    upload = tmp_path / "photo.png"
    upload.write_bytes(make_png() + b"\x00" * 300_000)
    req = Request(http_app.url("/echo"), method="POST", body_kind="multipart",
                  form=[("title", "holiday")], files=[("picture", str(upload))])
    progress = []
    data = body_json(session.send(req, progress=lambda d, t=None: progress.append((d, t))))
    assert data["fields"] == {"title": "holiday"}
    assert data["files"]["picture"]["filename"] == "photo.png"
    assert data["files"]["picture"]["type"] == "image/png"
    assert data["files"]["picture"]["sha"] == hashlib.sha256(upload.read_bytes()).hexdigest()


def test_missing_upload_file_is_one_clear_line(session, http_app, tmp_path):
    req = Request(http_app.url("/echo"), method="POST", body_kind="multipart",
                  files=[("f", str(tmp_path / "nope.bin"))])
    with pytest.raises(BadRequest, match="Cannot read the file to upload"):
        session.send(req)


def test_cookies_are_set_and_sent_back(session, http_app):
    session.send(Request(http_app.url("/set-cookie?flavour=oat&size=big")))
    names = sorted(c.name for c in session.cookie_list())
    assert names == ["flavour", "size"]
    cookie = body_json(session.send(Request(http_app.url("/cookies"))))["cookie"]
    assert "flavour=oat" in cookie and "size=big" in cookie
    session.clear_cookies()
    assert body_json(session.send(Request(http_app.url("/cookies"))))["cookie"] == ""


def test_redirect_chain_is_followed_and_reported(session, http_app):
    resp = session.send(Request(http_app.url("/redirect/3")))
    assert resp.status == 200 and resp.body == b"arrived\n"
    assert [h.status for h in resp.redirects] == [302, 302, 302]
    assert resp.redirects[0].url.endswith("/redirect/3")
    assert resp.url.endswith("/redirect/0?code=302")


def test_redirects_not_followed_when_off(session, http_app):
    resp = session.send(Request(http_app.url("/redirect/2"), follow_redirects=False))
    assert resp.status == 302 and resp.header("Location").startswith("/redirect/1")
    assert resp.redirects == []


def test_303_after_post_becomes_get_and_307_keeps_method(session, http_app):
    resp = session.send(Request(http_app.url("/see-other"), method="POST", body_kind="raw", raw="x"))
    assert body_json(resp)["method"] == "GET"
    resp = session.send(Request(http_app.url("/redirect/1?code=307"), method="DELETE"))
    assert resp.status == 200
    assert ("DELETE", "/redirect/0?code=307") in [(m, p) for m, p, _ in http_app.seen]


def test_redirect_loop_is_one_clear_error(session, http_app):
    lines = []
    with pytest.raises(ProtocolError) as info:
        session.send(Request(http_app.url("/loop")), log=lambda d, t: lines.append(t))
    assert str(info.value) == "The server redirects in a loop (more than 20 redirects)"
    assert sum("Redirect 302" in t for t in lines) == 21


def test_too_many_redirects_respects_the_limit(session, http_app):
    with pytest.raises(ProtocolError, match="too many times"):
        session.send(Request(http_app.url("/redirect/5"), max_redirects=3))


def test_redirect_from_http_to_https(session, http_app):
    resp = session.send(Request(http_app.url("/to-tls")))
    assert resp.url.startswith("https://localhost:") and resp.tls is not None
    assert resp.redirects[0].status == 301


@pytest.mark.parametrize("path, expected", [
    ("/gzip", b"gzip body " * 1000),
    ("/deflate", b"deflate body " * 1000),
    ("/deflate?raw=1", b"deflate body " * 1000),
])
def test_compressed_bodies_are_decoded(session, http_app, path, expected):
    resp = session.send(Request(http_app.url(path)))
    assert resp.header("Content-Encoding") in ("gzip", "deflate")
    assert resp.body == expected and resp.body_size == len(expected)


def test_chunked_body(session, http_app):
    resp = session.send(Request(http_app.url("/chunked")))
    assert resp.body == b"".join(f"chunk {i}\n".encode() for i in range(5))
    assert resp.header("Transfer-Encoding") == "chunked"


def test_cut_chunked_body_is_truncated(session, http_app):
    with pytest.raises(TruncatedBody) as info:
        session.send(Request(http_app.url("/chunked?cut=1")))
    assert info.value.response.truncated
    assert info.value.response.body.startswith(b"chunk 0\n")


def test_short_body_is_truncated_and_never_saved_as_complete(session, http_app, tmp_path):
    target = tmp_path / "t.txt"
    with pytest.raises(TruncatedBody) as info:
        session.send(Request(http_app.url("/truncated")), save_to=target)
    assert str(info.value) == "The body is truncated: the connection ended after 500 of 1000 bytes"
    resp = info.value.response
    assert resp.truncated and not resp.body_complete and resp.status == 200
    assert not target.exists()
    assert (tmp_path / "t.txt.part").read_bytes() == b"x" * 500


def test_stall_mid_body_times_out_with_partial_response(session, http_app, tmp_path):
    target = tmp_path / "s.bin"
    with pytest.raises(NetTimeout) as info:
        session.send(Request(http_app.url("/stall?for=3"), timeout=0.5), save_to=target)
    assert "stopped sending: nothing for 0.5 s after 100 of 1000 bytes" in str(info.value)
    assert info.value.response.body == b"y" * 100
    assert not target.exists() and (tmp_path / "s.bin.part").exists()


def test_slow_response_head_times_out(session, http_app):
    with pytest.raises(NetTimeout, match="sent no response within 0.3 s"):
        session.send(Request(http_app.url("/slow-head?for=2"), timeout=0.3))


def test_save_streams_to_part_and_renames(session, http_app, tmp_path):
    size = 9 * 1024 * 1024 + 7
    target = tmp_path / "big.bin"
    seen_part = []

    def progress(done, total=None):
        seen_part.append((tmp_path / "big.bin.part").exists() and not target.exists())

    resp = session.send(Request(http_app.url(f"/big?size={size}")), save_to=target, progress=progress)
    assert resp.saved_path == target and target.read_bytes() == pattern(size)
    assert not (tmp_path / "big.bin.part").exists()
    assert seen_part and all(seen_part)
    assert len(resp.body) == session.head_limit and not resp.body_complete
    assert resp.body_size == size


def test_large_body_for_viewing_keeps_only_the_first_part(http_app):
    session = HttpSession(head_limit=64 * 1024)
    resp = session.send(Request(http_app.url("/big?size=5000000")))
    assert resp.stopped_early and not resp.body_complete
    assert resp.body == pattern(64 * 1024)
    assert resp.content_length == 5_000_000


def test_keep_alive_reuses_one_connection(session, http_app):
    before = len(http_app.seen)
    for _ in range(5):
        resp = session.send(Request(http_app.url("/echo")))
    ports = {port for _, _, port in http_app.seen[before:]}
    assert len(ports) == 1
    assert resp.timing.reused and session.idle_connections == 1


def test_server_closing_idle_connection_is_retried(session, http_app):
    session.send(Request(http_app.url("/echo")))
    # Close the pooled socket behind the session's back, as a server's idle timeout would.
    conn = next(iter(session._pool.values()))[0]
    conn.sock.close()
    conn.sock = None
    resp = session.send(Request(http_app.url("/echo")))
    assert resp.status == 200


def test_connection_close_is_honoured(session, http_app):
    session.send(Request(http_app.url("/close")))
    assert session.idle_connections == 0


def test_timing_breakdown_and_remote_address(session, http_app):
    resp = session.send(Request(http_app.tls_url("/json")))
    t = resp.timing
    assert t.resolve >= 0 and t.connect > 0 and t.tls > 0 and t.first_byte > 0
    assert t.total >= t.connect + t.tls
    assert resp.remote_address.endswith(f":{http_app.port('tls')}")


def test_tls_details(session, http_app):
    resp = session.send(Request(http_app.tls_url("/json")))
    assert resp.tls.version.startswith("TLSv1.")
    assert resp.tls.verified
    assert "localhost" in resp.tls.subject or "O=" in resp.tls.subject
    assert "trustme" in resp.tls.issuer.lower()
    assert resp.tls.not_after.endswith("GMT")
    assert resp.tls.names == ("localhost", "127.0.0.1")
    assert json.loads(resp.body) == JSON_DOC


@pytest.mark.parametrize("server, host, reason", [
    ("untrusted", "localhost", "unable to get local issuer certificate"),
    ("wrong_host", "localhost", "Hostname mismatch"),
    ("expired", "localhost", "certificate has expired"),
])
def test_tls_failures_are_clear_and_can_be_bypassed(session, http_app, server, host, reason):
    url = http_app.tls_url("/echo", name=server, host=host)
    with pytest.raises(CertificateError) as info:
        session.send(Request(url))
    assert str(info.value).startswith(f"Certificate of {host} is not trusted")
    assert reason in str(info.value)
    resp = session.send(Request(url, verify=False))
    assert resp.status == 200 and not resp.tls.verified
    assert resp.tls.subject != "(unknown)"
    assert resp.tls.names  # decoded even though unverified


def test_basic_auth_and_redacted_transcript(session, http_app):
    resp = session.send(Request(http_app.url("/auth")))
    assert resp.status == 401
    lines = []
    resp = session.send(Request(http_app.url("/auth"), username="alice", password="s3cret-pw"),
                        log=lambda d, t: lines.append((d, t)))
    assert resp.status == 200
    text = "\n".join(t for _, t in lines)
    assert "Authorization: Basic ****" in text
    assert "s3cret-pw" not in text and "YWxpY2U6czNjcmV0LXB3" not in text


def test_transcript_shows_request_and_response_heads(session, http_app):
    lines = []
    session.send(Request(http_app.url("/json")), log=lambda d, t: lines.append((d, t)))
    assert (">", "GET /json HTTP/1.1") in lines
    assert ("<", "HTTP/1.1 200 OK") in lines
    assert ("<", "Content-Type: application/json") in lines


def test_oversized_and_too_many_headers(session, http_app):
    with pytest.raises(ProtocolError, match="oversized headers"):
        session.send(Request(http_app.url("/bigheaders")))
    with pytest.raises(ProtocolError, match="too many headers"):
        session.send(Request(http_app.url("/manyheaders")))


@pytest.mark.parametrize("url, message", [
    ("", "Enter a URL"),
    ("ftp://example.com/", "Unsupported scheme 'ftp'"),
    ("http://exa mple.com/", "spaces"),
    ("http://host:99999/", "Malformed URL"),
    ("http:///path", "no host name"),
])
def test_bad_urls(session, url, message):
    with pytest.raises(BadRequest, match=message):
        session.send(Request(url))


def test_bad_header_is_refused(session, http_app):
    with pytest.raises(BadRequest, match="line break"):
        session.send(Request(http_app.url("/echo"), headers=[("X-A", "1\r\nX-B: 2")]))


def test_scheme_is_added_when_missing(session, http_app):
    resp = session.send(Request(f"127.0.0.1:{http_app.port()}/echo"))
    assert resp.url.startswith("http://127.0.0.1:")


def test_dns_failure_and_refused_connection(session):
    with pytest.raises(ResolveError, match="Cannot find host no-such-host.invalid"):
        session.send(Request("http://no-such-host.invalid/"))
    port = free_port()
    with pytest.raises(ConnectError, match=f"Connection refused by 127.0.0.1:{port}"):
        session.send(Request(f"http://127.0.0.1:{port}/"))


def test_cancel_during_a_stall(session, http_app):
    token = CancelToken()
    outcome = {}

    def run():
        try:
            session.send(Request(http_app.url("/stall?for=5"), timeout=30), token=token)
        except BaseException as exc:
            outcome["exc"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    import time
    time.sleep(0.3)
    token.cancel()
    thread.join(5)
    assert not thread.is_alive()
    assert isinstance(outcome["exc"], Cancelled)


def test_proxy_from_setting_is_used(session, http_app):
    # The test app answers absolute-form requests too, which makes it a tiny forward proxy.
    req = Request("http://unresolvable.invalid/echo", proxy=http_app.url("/"))
    resp = session.send(req)
    data = body_json(resp)
    assert data["path"] == "http://unresolvable.invalid/echo"
    assert data["headers"]["Host"] == "unresolvable.invalid"
    assert resp.via_proxy == http_app.url("/")


def test_proxy_from_environment(session, http_app, monkeypatch):
    monkeypatch.setenv("http_proxy", http_app.url("/"))
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    resp = session.send(Request("http://somewhere.invalid/echo"))
    assert body_json(resp)["path"] == "http://somewhere.invalid/echo"
    # loopback never goes through the proxy
    direct = session.send(Request(http_app.url("/echo")))
    assert body_json(direct)["path"] == "/echo"


def test_connection_lost_before_answer(session):
    import socket
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]

    def serve():
        conn, _ = server.accept()
        conn.recv(1000)
        conn.close()

    t = threading.Thread(target=serve)
    t.start()
    with pytest.raises(ConnectionLost, match="closed the connection without answering"):
        session.send(Request(f"http://127.0.0.1:{port}/"))
    t.join()
    server.close()


def test_head_keeps_the_connection_for_reuse(session, http_app):
    session.send(Request(http_app.url("/echo"), method="HEAD"))
    resp = session.send(Request(http_app.url("/echo"), method="HEAD"))
    assert resp.timing.reused and resp.body == b""


def test_credentials_in_the_url_become_basic_auth(session, http_app):
    lines = []
    url = f"http://alice:s3cret-pw@127.0.0.1:{http_app.port()}/auth"
    resp = session.send(Request(url), log=lambda d, t: lines.append(t))
    assert resp.status == 200 and "@" not in resp.url
    assert not any("s3cret-pw" in t for t in lines)


def test_https_through_a_connect_proxy(session, http_app):
    resp = session.send(Request(http_app.tls_url("/json"), proxy=http_app.url("/")))
    assert resp.status == 200 and resp.tls.verified and json.loads(resp.body) == JSON_DOC
    assert ("CONNECT", f"localhost:{http_app.port('tls')}") in [(m, p) for m, p, _ in http_app.seen]


def test_proxy_refusing_the_tunnel_is_one_line(session, http_app):
    http_app.proxy_auth_required = True
    try:
        with pytest.raises(ProtocolError, match="The proxy refused to connect to localhost:"):
            session.send(Request(http_app.tls_url("/json"), proxy=http_app.url("/")))
        # with credentials in the proxy URL it goes through
        proxy = f"http://u:p@127.0.0.1:{http_app.port()}"
        assert session.send(Request(http_app.tls_url("/json"), proxy=proxy)).status == 200
    finally:
        http_app.proxy_auth_required = False


def test_unwritable_save_path_is_one_line(session, http_app, tmp_path):
    from netgui.net.errors import NetError
    with pytest.raises(NetError, match="Cannot write"):
        session.send(Request(http_app.url("/json")), save_to=tmp_path / "missing" / "x.json")
    assert session.send(Request(http_app.url("/json"))).status == 200


def test_cookies_export_and_import(session, http_app):
    from netgui.net.http.session import export_cookies, import_cookies
    session.send(Request(http_app.url("/set-cookie?a=1&b=2")))
    text = export_cookies(session.cookies)
    fresh = HttpSession()
    assert import_cookies(fresh.cookies, text) == 2
    assert "a=1" in body_json(fresh.send(Request(http_app.url("/cookies"))))["cookie"]
    assert import_cookies(fresh.cookies, "not json") == 0
