"""Body rendering, request building helpers and "copy as curl" (checked with real curl)."""

from __future__ import annotations

import json
import subprocess

from netgui.net.http.body import Decoder, save_bytes
from netgui.net.http.content import (
    decode_text,
    hex_dump,
    html_to_text,
    image_format,
    render,
    suggested_filename,
)
from netgui.net.http.request import (
    Request,
    join_query,
    multipart_body,
    request_from_dict,
    request_to_dict,
    split_query,
    to_curl,
    with_query,
)
from netgui.net.http.session import HttpSession
from tests.support.httpapp import HTML, JSON_DOC, http_app, make_png  # noqa: F401
from tests.support.peers import require_binary


def test_charset_declared_sniffed_and_fallback():
    assert decode_text("café".encode("latin-1"), "iso-8859-1") == ("café", "iso8859-1")
    assert decode_text("café".encode()) == ("café", "utf-8")
    meta = '<html><head><meta charset="windows-1252"></head>caf\xe9</html>'.encode("cp1252")
    assert decode_text(meta, None, "text/html")[1] == "cp1252"
    assert decode_text(b"caf\xe9 cr\xe8me")[0] == "café crème"   # not UTF-8: cp1252
    assert decode_text("\ufeffhi".encode("utf-8"))[0] == "hi"


def test_html_becomes_readable_text_with_links():
    segments, links, title = html_to_text(HTML.decode(), "http://h.test/dir/index.html")
    text = "".join(t for t, _ in segments)
    assert title == "Test page"
    assert "Welcome" in text and "First paragraph with a JSON link." in text
    assert "hidden" not in text and "color: red" not in text
    assert links == [("JSON link", "http://h.test/json"), ("Absolute", "http://example.invalid/abs"),
                     ("Relative", "http://h.test/dir/page2.html")]
    assert ("JSON link", "http://h.test/json") in [(t, h) for t, h in segments if h]


def test_render_picks_the_best_view():
    assert render(json.dumps(JSON_DOC).encode(), "application/json", None, "http://x/").kind == "json"
    assert render(HTML, "text/html", None, "http://x/").kind == "html"
    assert render(make_png(), "image/png", None, "http://x/").kind == "image"
    assert render(bytes(range(256)), "application/octet-stream", None, "http://x/").kind == "hex"
    assert render(b"plain words", "text/plain", None, "http://x/").kind == "text"
    partial = render(b'{"a": [1, 2', "application/json", None, "http://x/", complete=False)
    assert partial.kind == "text" and "first part" in partial.json_error
    bad = render(b'{"a": oops}', "application/json", None, "http://x/")
    assert bad.kind == "text" and bad.json_error.startswith("Not valid JSON")


def test_image_formats_and_hex():
    assert image_format(make_png()) == "PNG"
    assert image_format(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "WEBP"
    assert image_format(b"\xff\xd8\xff\xe0") == "JPEG"
    assert image_format(b"hello") is None
    line = hex_dump(b"AB\x00")
    assert line.startswith("00000000  41 42 00 ") and line.endswith("  AB.")
    assert len(hex_dump(bytes(16))) == len(line) - 3 + 16


def test_names_from_the_network_are_made_safe():
    assert suggested_filename("http://h/x/report%20final.pdf?x=1", None) == "report final.pdf"
    assert suggested_filename("http://h/", 'attachment; filename="../../.bashrc"') == "bashrc"
    assert suggested_filename("http://h/", None, "application/json") == "download.json"


def test_query_helpers():
    base, pairs = split_query("http://h/p?a=1&b=two%20words&c=")
    assert base == "http://h/p" and pairs == [("a", "1"), ("b", "two words"), ("c", "")]
    assert with_query(base, pairs) == "http://h/p?a=1&b=two+words&c="
    assert join_query("http://h/p?a=1", [("b", "2")]) == "http://h/p?a=1&b=2"


def test_request_round_trips_without_password():
    req = Request("http://h/", method="POST", headers=[("A", "1")], body_kind="form",
                  form=[("k", "v")], username="bob", password="hunter22", verify=False)
    data = request_to_dict(req)
    assert "password" not in json.dumps(data) and "hunter22" not in json.dumps(data)
    assert "hunter22" not in json.dumps(request_to_dict(Request(
        "http://bob:hunter22@h/", headers=[("Authorization", "Bearer hunter22"),
                                           ("cookie", "sid=hunter22"), ("X-Ok", "1")])))
    masked = request_to_dict(Request("http://bob:hunter22@h/", headers=[("Authorization", "x")]))
    assert masked["url"] == "http://bob:****@h/" and masked["headers"] == [["Authorization", "****"]]
    back = request_from_dict(data)
    assert back.headers == [("A", "1")] and back.form == [("k", "v")] and back.verify is False
    assert back.password == ""


def test_multipart_length_matches_stream(tmp_path):
    f = tmp_path / "a b.txt"
    f.write_bytes(b"x" * 1000)
    body = multipart_body([("name", "välue")], [("file", str(f))], boundary="B")
    data = b"".join(body)
    assert len(data) == body.length
    assert b'filename="a b.txt"' in data and data.endswith(b"--B--\r\n")


def test_decoder_refuses_corrupt_gzip_and_bounds_output():
    import gzip

    import pytest

    from netgui.net.errors import ProtocolError
    with pytest.raises(ProtocolError, match="corrupt"):
        Decoder("gzip").decode_all(b"not gzip at all")
    bomb = gzip.compress(b"\0" * (20 * 1024 * 1024))
    pieces = list(Decoder("gzip").feed_pieces(bomb))
    assert max(len(p) for p in pieces) <= 1024 * 1024
    assert sum(len(p) for p in pieces) == 20 * 1024 * 1024


def test_save_bytes_goes_through_part(tmp_path):
    target = tmp_path / "x.bin"
    assert save_bytes(b"data", target) == target
    assert target.read_bytes() == b"data" and not (tmp_path / "x.bin.part").exists()


def test_copy_as_curl_sends_the_same_request(http_app, tmp_path):
    curl = require_binary("curl")
    req = Request(http_app.url("/echo"), method="PATCH", params=[("q", "it's")],
                  headers=[("X-Quote", "a \"b\" 'c'")], body_kind="raw", raw='{"a": "$HOME"}',
                  content_type="application/json", username="alice", password="s3cret-pw")
    command = to_curl(req)
    assert "s3cret-pw" not in command and "-u alice" in command
    # Without -u (curl would ask for the password on the terminal), run it for real.
    result = subprocess.run(command.replace(" -u alice", ""), shell=True, capture_output=True,
                            timeout=20, executable="/bin/sh")
    assert result.returncode == 0, result.stderr
    echoed = json.loads(result.stdout)
    ours = json.loads(HttpSession().send(req.__class__(**{**req.__dict__, "username": ""})).body)
    for key in ("method", "query", "body"):
        assert echoed[key] == ours[key]
    assert echoed["headers"]["X-Quote"] == "a \"b\" 'c'"
    assert echoed["headers"]["Content-Type"] == "application/json"
    assert curl


def test_copy_as_curl_form_and_multipart(http_app, tmp_path):
    upload = tmp_path / "up.txt"
    upload.write_text("file body")
    for req in (Request(http_app.url("/echo"), method="POST", body_kind="form", form=[("a", "1 2")]),
                Request(http_app.url("/echo"), method="POST", body_kind="multipart",
                        form=[("t", "x")], files=[("f", str(upload))])):
        out = subprocess.run(to_curl(req), shell=True, capture_output=True, timeout=20)
        echoed = json.loads(out.stdout)
        if req.body_kind == "form":
            assert echoed["form"] == {"a": "1 2"}
        else:
            assert echoed["fields"] == {"t": "x"} and echoed["files"]["f"]["filename"] == "up.txt"


def test_long_lines_are_broken_and_big_json_is_cut():
    rendered = render(b"word " * 200_000, "text/plain", None, "http://x/")
    assert rendered.lines_broken and max(len(line) for line in rendered.text.split("\n")) <= 2000
    assert rendered.text.replace("\n", "") == ("word " * 200_000)[:len(rendered.text.replace("\n", ""))]
    doc = [{"id": i, "name": f"item {i}"} for i in range(40_000)]
    rendered = render(json.dumps(doc).encode(), "application/json", None, "http://x/")
    assert rendered.kind == "json" and rendered.json_value == doc
    assert rendered.text_cut and len(rendered.text) <= 512 * 1024
    assert rendered.text.startswith('[\n  {\n    "id": 0,')
    html = b"<html><body><p>" + b"x" * 10_000 + b"</p></body></html>"
    segments = render(html, "text/html", None, "http://x/").html_segments
    assert max(len(t) for t, _ in segments) <= 2000


def test_urls_are_normalised():
    from netgui.net.http.request import check_url
    assert check_url("http://bücher.example:8080/ä") == "http://xn--bcher-kva.example:8080/%C3%A4"
    assert check_url("example.com") == "http://example.com/"
    assert check_url("HTTPS://Example.com/x?q=a b".replace(" ", "%20")) == "https://Example.com/x?q=a%20b"
