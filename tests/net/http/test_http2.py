"""HTTP/2 (h2 over TLS by ALPN, h2c by prior knowledge) against nginx, hypercorn and a hostile
h2 server, all real peers on loopback."""

from __future__ import annotations

import hashlib
import json
import threading

import pytest

from netgui.net.cancel import CancelToken
from netgui.net.errors import Cancelled, NetTimeout, ProtocolError, TLSError
from netgui.net.http import HttpSession, TruncatedBody
from netgui.net.http.request import Request
from tests.support.h2c_server import hypercorn_server  # noqa: F401
from tests.support.hostile_h2 import hostile_h2  # noqa: F401
from tests.support.httpapp import pattern
from tests.support.nginx_h2 import nginx_h2  # noqa: F401


@pytest.fixture
def session(nginx_h2):
    s = HttpSession(cafile=nginx_h2.ca_file)
    yield s
    s.close()


def test_alpn_picks_http2_and_the_transcript_shows_pseudo_headers_and_frames(session, nginx_h2):
    lines = []
    resp = session.send(Request(nginx_h2.url("/small.txt")), log=lambda d, t: lines.append((d, t)))
    assert resp.status == 200 and resp.http_version == "HTTP/2"
    assert resp.status_line == "HTTP/2 200"
    assert resp.body == b"x" * 1024 and resp.tls.alpn == "h2"
    assert ("*", "ALPN: the server chose h2") in lines
    assert (">", ":method: GET") in lines and (">", ":path: /small.txt") in lines
    assert ("<", ":status: 200") in lines and ("<", "content-length: 1024") in lines
    assert ("*", "HTTP/2 stream 1: HEADERS, DATA x1 (1.0 KiB), END_STREAM") in lines
    assert resp.frames == "HTTP/2 stream 1: HEADERS, DATA x1 (1.0 KiB), END_STREAM"
    assert resp.timing.tls > 0 and resp.timing.first_byte > 0


def test_version_choice(session, nginx_h2):
    assert session.send(Request(nginx_h2.url("/small.txt"), http_version="1.1")).http_version \
        == "HTTP/1.1"
    assert session.send(Request(nginx_h2.url("/small.txt", "tls11"))).http_version == "HTTP/1.1"
    assert session.send(Request(nginx_h2.url("/small.txt", "plain"))).http_version == "HTTP/1.1"
    resp = session.send(Request(nginx_h2.url("/echo-headers", "h2c"), http_version="2"))
    assert resp.http_version == "HTTP/2" and resp.body.startswith(b"GET HTTP/2.0")


def test_http2_only_against_a_server_without_it_is_one_line(session, nginx_h2, hostile_h2):
    with pytest.raises(TLSError, match="speaks none of the offered protocols"):
        session.send(Request(nginx_h2.url("/", "tls11"), http_version="2"))
    with pytest.raises(ProtocolError, match=r"does not speak HTTP/2 here: it answered with "
                                            r"HTTP/1 \(HTTP/1.1 400 Bad Request\)"):
        session.send(Request(f"http://127.0.0.1:{hostile_h2.http1_port}/", http_version="2"))
    with pytest.raises(ProtocolError, match="does not speak HTTP/2 here"):
        session.send(Request(nginx_h2.url("/", "plain"), http_version="2"))


def test_one_connection_carries_many_requests_at_once(session, nginx_h2):
    results, errors = [], []

    def get(i):
        try:
            resp = session.send(Request(nginx_h2.url(f"/files/{i}.txt")))
            results.append((i, resp.body))
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=get, args=(i,)) for i in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    assert sorted(results) == [(i, f"file {i}\n".encode() * (i + 1)) for i in range(40)]
    assert session.http2_connections == 1


def test_streams_really_overlap(hostile_h2):
    session = HttpSession()
    threads = [threading.Thread(target=session.send, args=(
        Request(hostile_h2.url("/slow?ms=300"), http_version="2"),)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert hostile_h2.connections == 1 and hostile_h2.max_active >= 4
    session.close()


def test_large_body_saved_with_progress(session, nginx_h2, tmp_path):
    target = tmp_path / "large.bin"
    seen = []
    resp = session.send(Request(nginx_h2.url("/large.bin")), save_to=target,
                        progress=lambda done, total=None: seen.append((done, total)))
    assert resp.saved_path == target and target.stat().st_size == nginx_h2.large_size
    assert not (tmp_path / "large.bin.part").exists()
    assert seen[-1] == (nginx_h2.large_size, nginx_h2.large_size)
    assert "DATA x" in resp.frames and resp.frames.endswith("END_STREAM")


def test_upload_redirect_and_cookies_over_h2c(hypercorn_server):
    session = HttpSession()
    url = hypercorn_server.url
    body = "é" * 100_000
    resp = session.send(Request(url("/echo"), method="POST", body_kind="raw", raw=body,
                                http_version="2"))
    data = json.loads(resp.body)
    assert data["http_version"] == "2" and data["body_size"] == len(body.encode())
    resp = session.send(Request(url("/redirect"), http_version="2"))
    assert resp.status == 200 and [h.status for h in resp.redirects] == [302]
    session.send(Request(url("/set-cookie?flavour=oat"), http_version="2"))
    cookie = json.loads(session.send(Request(url("/cookies"), http_version="2")).body)["cookie"]
    assert cookie == "flavour=oat"
    session.close()


def test_goaway_mid_body_is_a_truncation_with_the_part_kept(hostile_h2, tmp_path):
    session = HttpSession()
    with pytest.raises(TruncatedBody, match=r"GOAWAY NO_ERROR\) after 100000 of 200000") as info:
        session.send(Request(hostile_h2.url("/goaway-mid-body"), http_version="2"),
                     save_to=tmp_path / "x.bin")
    assert info.value.response.part_path.read_bytes() == pattern(100_000)
    assert not (tmp_path / "x.bin").exists()
    assert session.send(Request(hostile_h2.url("/ok"), http_version="2")).status == 200


def test_goaway_before_processing_is_retried(hostile_h2):
    session = HttpSession()
    lines = []
    resp = session.send(Request(hostile_h2.url("/goaway-unprocessed"), http_version="2"),
                        log=lambda d, t: lines.append(t))
    assert resp.status == 200 and hostile_h2.connections == 2
    assert any("GOAWAY (last stream 0, NO_ERROR)" in t for t in lines)
    assert any("did not process the request" in t for t in lines)


def test_goaway_with_an_error_is_one_line(hostile_h2):
    with pytest.raises(ProtocolError, match="ended the HTTP/2 connection: PROTOCOL_ERROR") as info:
        HttpSession().send(Request(hostile_h2.url("/goaway-error"), http_version="2"))
    assert info.value.detail == "hostile says no"


def test_reset_mid_body_keeps_the_connection(hostile_h2):
    session = HttpSession()
    lines = []
    with pytest.raises(TruncatedBody, match=r"reset the stream \(INTERNAL_ERROR\) after 100000"):
        session.send(Request(hostile_h2.url("/reset-mid-body"), http_version="2"),
                     log=lambda d, t: lines.append(t))
    assert "HTTP/2 stream 1: RST_STREAM (INTERNAL_ERROR)" in lines
    resp = session.send(Request(hostile_h2.url("/ok"), http_version="2"))
    assert resp.status == 200 and resp.timing.reused and hostile_h2.connections == 1


def test_refused_stream_is_retried(hostile_h2):
    resp = HttpSession().send(Request(hostile_h2.url("/refuse-stream"), http_version="2"))
    assert resp.status == 200


@pytest.mark.parametrize("path", ["/huge-headers?size=300000", "/endless-continuation"])
def test_oversized_header_blocks_are_refused(hostile_h2, path):
    with pytest.raises(ProtocolError, match="oversized HTTP/2 header block"):
        HttpSession().send(Request(hostile_h2.url(path), http_version="2", timeout=10))


def test_stall_mid_body_times_out_only_that_stream(hostile_h2):
    session = HttpSession()
    with pytest.raises(NetTimeout, match="stopped sending") as info:
        session.send(Request(hostile_h2.url("/stall?for=3"), http_version="2", timeout=0.5))
    assert info.value.response.body == b"s" * 10
    assert session.send(Request(hostile_h2.url("/ok"), http_version="2")).timing.reused


def test_flow_control_stall_on_upload(hostile_h2):
    req = Request(hostile_h2.url("/upload-stall"), http_version="2", method="POST",
                  body_kind="raw", raw="u" * 200_000, timeout=0.5)
    with pytest.raises(NetTimeout, match="flow-control window stayed shut"):
        HttpSession().send(req)


def test_cancel_ends_one_stream_and_not_its_neighbours(hostile_h2):
    session = HttpSession()
    token = CancelToken()
    outcome = {}

    def stalled():
        try:
            session.send(Request(hostile_h2.url("/stall?for=5"), http_version="2"), token=token)
        except BaseException as exc:  # noqa: BLE001
            outcome["stalled"] = exc

    def slow():
        outcome["slow"] = session.send(Request(hostile_h2.url("/slow?ms=600&size=300000"),
                                               http_version="2"))

    threads = [threading.Thread(target=stalled), threading.Thread(target=slow)]
    for t in threads:
        t.start()
    import time
    time.sleep(0.3)
    token.cancel()
    threads[0].join(3)
    assert not threads[0].is_alive() and isinstance(outcome["stalled"], Cancelled)
    threads[1].join(10)
    assert outcome["slow"].status == 200
    assert hashlib.sha256(outcome["slow"].body).digest() == hashlib.sha256(pattern(300_000)).digest()
    assert hostile_h2.connections == 1


# -- send_many: a batch of streams read by one thread ---------------------------------------

def test_send_many_batches_streams_on_one_connection(session, nginx_h2):
    urls = [nginx_h2.url(f"/files/{i}.txt") for i in range(100)]
    urls += [nginx_h2.url("/status/404"), nginx_h2.url("/redirect")]
    lines, seen = [], []
    outcomes = session.send_many([Request(u) for u in urls], log=lambda d, t: lines.append(t),
                                 progress=lambda done, total: seen.append((done, total)))
    assert [r.body for r in outcomes[:100]] == [f"file {i}\n".encode() * (i + 1) for i in range(100)]
    assert {r.http_version for r in outcomes} == {"HTTP/2"}
    assert outcomes[100].status == 404
    assert outcomes[101].status == 200 and outcomes[101].body == b"x" * 1024
    assert [h.status for h in outcomes[101].redirects] == [302]
    assert session.http2_connections == 1
    assert seen[-1] == (102, 102) and len(seen) == 102
    assert any(t.startswith("HTTP/2 streams 1-") and "HEADERS in one write" in t for t in lines)
    assert sum(t.endswith("END_STREAM") and ": HEADERS, DATA x" in t for t in lines) >= 100
    # the connection stays usable for ordinary requests afterwards
    assert session.send(Request(nginx_h2.url("/small.txt"))).timing.reused


def test_send_many_reports_each_outcome_and_retries_refused_streams(hostile_h2, nginx_h2):
    session = HttpSession(cafile=nginx_h2.ca_file)
    requests = [Request(hostile_h2.url("/ok?size=10"), http_version="2"),
                Request(hostile_h2.url("/refuse-stream"), http_version="2"),
                Request(hostile_h2.url("/reset-mid-body"), http_version="2"),
                Request("ftp://example.com/"),
                Request(nginx_h2.url("/small.txt", "plain")),
                Request(nginx_h2.url("/small.txt", "tls11"))]
    ok, refused, reset, bad, plain, tls11 = session.send_many(requests)
    assert ok.status == 200 and ok.body == pattern(10)
    assert refused.status == 200 and hostile_h2.refused_once
    assert isinstance(reset, TruncatedBody) and "reset the stream (INTERNAL_ERROR)" in str(reset)
    assert isinstance(bad, ProtocolError) and "ftp" in str(bad)
    assert plain.http_version == tls11.http_version == "HTTP/1.1"
    assert plain.body == tls11.body == b"x" * 1024
    session.close()


def test_send_many_bodies_small_ones_ride_along_big_ones_go_alone(hypercorn_server):
    session = HttpSession()
    sizes = [0, 10, 5000, 300_000]
    requests = [Request(hypercorn_server.url("/echo"), method="POST", body_kind="raw",
                        raw="b" * n, http_version="2") for n in sizes]
    outcomes = session.send_many(requests)
    assert [json.loads(r.body)["body_size"] for r in outcomes] == sizes
    assert {json.loads(r.body)["http_version"] for r in outcomes} == {"2"}
    session.close()


def test_send_many_cancel_resets_the_batch_and_keeps_the_connection(hostile_h2):
    session = HttpSession()
    token = CancelToken()
    outcome = {}

    def run():
        try:
            session.send_many([Request(hostile_h2.url("/slow?ms=3000"), http_version="2")] * 3,
                              token=token)
        except BaseException as exc:  # noqa: BLE001
            outcome["exc"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    import time
    time.sleep(0.3)
    token.cancel()
    thread.join(3)
    assert not thread.is_alive() and isinstance(outcome["exc"], Cancelled)
    assert session.send(Request(hostile_h2.url("/ok"), http_version="2")).timing.reused
    assert hostile_h2.connections == 1
    session.close()


def test_trailers_are_in_the_transcript(hostile_h2):
    lines = []
    resp = HttpSession().send(Request(hostile_h2.url("/trailers"), http_version="2"),
                              log=lambda d, t: lines.append((d, t)))
    assert resp.body == b"with trailers"
    assert resp.frames.endswith("DATA x1 (13 B), HEADERS (trailers), END_STREAM")
    assert ("<", "grpc-status: 0 (trailer)") in lines and ("<", "x-checksum: abc (trailer)") in lines
