"""The Web tab in a real window under Xvfb, against the real threaded test HTTP app."""

from __future__ import annotations

import json

import pytest

from netgui.tabs import TabSpec
from tests.support.httpapp import JSON_DOC, http_app, pattern  # noqa: F401
from tests.support.tk import pump

WEB = [TabSpec("web", "Web", "netgui.tabs.web", "WebTab")]


@pytest.fixture
def tab(make_app, http_app, monkeypatch):
    monkeypatch.setenv("NETGUI_CA_FILE", http_app.ca_file)
    app = make_app(tabs=WEB)
    web = app.tab("web")
    pump(app.root, timeout=0.1)
    return web


def send(tab, url, wait=15, **values):
    tab.form.set_values({"url": url, **values})
    tab.form.submit_button.invoke()
    pump(tab.app.root, until=lambda: not tab.form.busy, timeout=wait, message="the request to finish")
    pump(tab.app.root, timeout=0.05)


def tree_rows(tree):
    return [tuple(str(v) for v in tree.item(i, "values")) for i in tree.get_children()]


def text_of(widget):
    return widget.get("1.0", "end-1c")


def test_get_json_shows_status_headers_tree_and_details(tab, http_app):
    send(tab, http_app.url("/json"))
    assert tab.summary.status.cget("text") == "200 OK"
    assert tab.form.status.cget("text").startswith("200 OK")
    assert ("Content-Type", "application/json") in tree_rows(tab.response_headers)
    views = tab.body_views
    assert views.mode == "JSON"
    root = views.json_tree.get_children()[0]
    keys = [views.json_tree.item(i, "text") for i in views.json_tree.get_children(root)]
    assert keys == list(JSON_DOC)
    nested = views.json_tree.get_children(root)[3]
    views.open_json(nested)
    assert [views.json_tree.item(i, "text") for i in views.json_tree.get_children(nested)] == [
        "ok", "none", "list"]
    assert json.loads(text_of(views.text)) == JSON_DOC
    details = text_of(tab.details)
    assert "Timing" in details and "First byte" in details and "127.0.0.1:" in details
    assert tab.history.get_children()


def test_html_view_lists_links_and_a_click_fetches_it(tab, http_app):
    send(tab, http_app.url("/html"))
    views = tab.body_views
    assert views.mode == "HTML"
    assert "First paragraph with a JSON link." in text_of(views.html)
    assert http_app.url("/json") in views.link_urls()
    pump(tab.app.root, timeout=0.2)
    views.click_link(http_app.url("/json"))
    pump(tab.app.root, until=lambda: not tab.form.busy and tab.body_views.mode == "JSON",
         timeout=10, message="the link to load")
    assert tab.form.values()["url"] == http_app.url("/json")


def test_image_is_decoded_and_scaled(tab, http_app):
    send(tab, http_app.url("/image.png"))
    assert tab.body_views.mode == "Image"
    pump(tab.app.root, until=lambda: tab.body_views.photo is not None, timeout=10,
         message="the image to be decoded")
    assert tab.body_views.image_info.cget("text").startswith("PNG 64×48")
    assert tab.body_views.photo.width() == 64


def test_binary_goes_to_hex(tab, http_app):
    send(tab, http_app.url("/binary"))
    assert tab.body_views.mode == "Hex"
    assert text_of(tab.body_views.hex).startswith("00000000  00 01 02 03")


def test_gzip_body_is_decoded_in_the_text_view(tab, http_app):
    send(tab, http_app.url("/gzip"))
    assert text_of(tab.body_views.text).startswith("gzip body gzip body")
    assert ("Content-Encoding", "gzip") in tree_rows(tab.response_headers)


def test_params_table_and_url_stay_in_sync(tab, http_app):
    tab.form.set("url", http_app.url("/echo?a=1&b=two"))
    assert tab.params.rows() == [("a", "1"), ("b", "two")]
    tab.params.name_var.set("c")
    tab.params.value_var.set("3 4")
    tab.params.add_button.invoke()
    assert tab.form.values()["url"].endswith("/echo?a=1&b=two&c=3+4")
    send(tab, tab.form.values()["url"])
    assert json.loads(text_of(tab.body_views.text))["query"] == {"a": "1", "b": "two", "c": "3 4"}


def test_post_form_headers_and_raw_json(tab, http_app):
    tab.headers.set_rows([("X-Custom", "42")])
    tab.body_kind.set("form")
    tab.body_fields.set_rows([("name", "Zoë"), ("n", "007")])
    send(tab, http_app.url("/echo"), method="POST")
    echoed = json.loads(text_of(tab.body_views.text))
    assert echoed["form"] == {"name": "Zoë", "n": "007"} and echoed["headers"]["X-Custom"] == "42"

    tab.body_kind.set("raw")
    tab.raw_text.insert("1.0", '{"hello": "world"}')
    send(tab, http_app.url("/echo"), method="PUT")
    echoed = json.loads(text_of(tab.body_views.text))
    assert echoed["method"] == "PUT" and json.loads(echoed["body"]) == {"hello": "world"}
    assert echoed["headers"]["Content-Type"] == "application/json"


def test_multipart_upload(tab, http_app, tmp_path):
    upload = tmp_path / "notes.txt"
    upload.write_text("uploaded text")
    tab.body_kind.set("multipart")
    tab.body_fields.set_rows([("title", "hi"), ("doc", "@" + str(upload))])
    send(tab, http_app.url("/echo"), method="POST")
    echoed = json.loads(text_of(tab.body_views.text))
    assert echoed["fields"] == {"title": "hi"}
    assert echoed["files"]["doc"]["filename"] == "notes.txt"


def test_save_to_file_streams_and_renames(tab, http_app, tmp_path):
    size = 6 * 1024 * 1024 + 3
    target = tmp_path / "out.bin"
    send(tab, http_app.url(f"/big?size={size}"), save_to=str(target))
    assert target.read_bytes() == pattern(size)
    assert not (tmp_path / "out.bin.part").exists()
    assert "saved to" in tab.form.status.cget("text")
    assert "Showing the first 4.0 MiB of 6.0 MiB" in tab.body_views.note.cget("text")


def test_save_body_button_path_from_memory_and_refetch(tab, http_app, tmp_path):
    send(tab, http_app.url("/json"))
    assert tab.suggested_name() == "json"
    tab.save_body(str(tmp_path / "doc.json"))
    pump(tab.app.root, until=lambda: (tmp_path / "doc.json").exists() and not tab.busy_tasks(),
         timeout=10, message="the body to be saved")
    assert json.loads((tmp_path / "doc.json").read_text()) == JSON_DOC
    # A body larger than the views keep is fetched again, straight to the file.
    send(tab, http_app.url("/big?size=5000000"))
    assert tab.last_response.stopped_early
    tab.save_body(str(tmp_path / "big.bin"))
    pump(tab.app.root, until=lambda: not tab.form.busy and (tmp_path / "big.bin").exists(),
         timeout=15, message="the refetch to finish")
    assert (tmp_path / "big.bin").read_bytes() == pattern(5_000_000)


def test_truncated_body_is_an_error_and_never_saved(tab, http_app, tmp_path):
    target = tmp_path / "t.txt"
    send(tab, http_app.url("/truncated"), save_to=str(target))
    assert tab.form.status.cget("text") == \
        "The body is truncated: the connection ended after 500 of 1000 bytes"
    assert str(tab.form.status.cget("style")) == "Error.TLabel"
    assert not target.exists()
    assert tab.summary.status.cget("text") == "200 OK"
    assert "truncated" in tab.summary.warning.cget("text")
    assert "Incomplete body" in tab.body_views.note.cget("text")


def test_stall_and_cancel(tab, http_app):
    send(tab, http_app.url("/stall?for=2"), wait=10, timeout=1)
    assert "stopped sending: nothing for 1 s" in tab.form.status.cget("text")
    tab.form.set_values({"url": http_app.url("/stall?for=5"), "timeout": 30})
    tab.form.submit_button.invoke()
    pump(tab.app.root, timeout=0.4)
    assert tab.form.busy
    tab.cancel_button.invoke()
    pump(tab.app.root, until=lambda: not tab.form.busy, timeout=5, message="the cancel")
    assert tab.form.status.cget("text") == "Cancelled"


def test_tls_failure_offers_continue_without_verifying(tab, http_app):
    url = http_app.tls_url("/echo", name="untrusted")
    send(tab, url)
    assert tab.form.status.cget("text").startswith("Certificate of localhost is not trusted")
    assert tab.insecure_button.winfo_ismapped()
    tab.insecure_button.invoke()
    pump(tab.app.root, until=lambda: not tab.form.busy, timeout=10, message="the insecure retry")
    pump(tab.app.root, timeout=0.05)
    assert tab.summary.status.cget("text") == "200 OK"
    assert "NOT verified" in tab.summary.warning.cget("text")
    assert "Verified    NO" in text_of(tab.details)
    # only that request: the form still verifies, and the next send fails again
    assert tab.form.values()["verify"] is True
    send(tab, url)
    assert tab.form.status.cget("text").startswith("Certificate of localhost is not trusted")


def test_trusted_tls_shows_certificate(tab, http_app):
    send(tab, http_app.tls_url("/json"))
    details = text_of(tab.details)
    assert "TLSv1." in details and "Issuer" in details and "Verified    yes" in details


def test_cookie_jar_view_and_clear(tab, http_app):
    send(tab, http_app.url("/set-cookie?flavour=oat"))
    assert [r[:2] for r in tree_rows(tab.cookies)] == [("flavour", "oat")]
    send(tab, http_app.url("/cookies"))
    assert "flavour=oat" in text_of(tab.body_views.text)
    tab.clear_cookies()
    assert tree_rows(tab.cookies) == []


def test_redirect_chain_and_loop(tab, http_app):
    send(tab, http_app.url("/redirect/2"))
    assert "Redirect chain" in text_of(tab.details)
    assert "2 redirects" in tab.summary.facts.cget("text")
    send(tab, http_app.url("/loop"))
    assert tab.form.status.cget("text") == "The server redirects in a loop (more than 20 redirects)"
    assert "Redirect 302" in tab.transcript.contents()


def test_bad_url_and_refused_connection_are_one_line(tab, http_app):
    tab.form.set_values({"url": "ftp://example.com/"})
    tab.form.submit_button.invoke()
    assert "Unsupported scheme 'ftp'" in tab.form.message("url")
    from tests.support.peers import free_port
    port = free_port()
    send(tab, f"http://127.0.0.1:{port}/")
    assert tab.form.status.cget("text") == f"Connection refused by 127.0.0.1:{port}"
    assert tab.summary.status.cget("text") == "No response"


def test_saved_request_keeps_password_in_keyring_only(tab, http_app, isolated_config, test_keyring):
    tab.form.set_values({"url": http_app.url("/auth"), "username": "alice", "password": "s3cret-pw"})
    tab.headers.set_rows([("X-Saved", "yes")])
    tab.save_current("login")
    send(tab, http_app.url("/auth"))
    assert tab.summary.status.cget("text") == "200 OK"
    assert "s3cret-pw" in test_keyring.store.values()
    for path in isolated_config.rglob("*"):
        if path.is_file():
            assert "s3cret-pw" not in path.read_text(errors="replace"), path
    assert "s3cret-pw" not in tab.transcript.contents()
    assert "Authorization: Basic ****" in tab.transcript.contents()
    # reopen it in a fresh form
    tab.form.set_values({"url": "http://elsewhere.invalid/", "username": "", "password": ""})
    tab.headers.set_rows([])
    tab.open_saved("login")
    values = tab.form.values()
    assert values["password"] == "s3cret-pw" and values["url"] == http_app.url("/auth")
    assert tab.headers.rows() == [("X-Saved", "yes")]
    assert test_keyring.store[("netgui", "web/login/password")] == "s3cret-pw"
    tab.delete_saved("login")
    assert ("netgui", "web/login/password") not in test_keyring.store
    assert tab.saved.get_children() == ()


def test_credential_headers_stay_out_of_files(tab, http_app, isolated_config, test_keyring):
    tab.headers.set_rows([("Authorization", "Bearer tok-123456"), ("X-Plain", "1")])
    tab.form.set_values({"url": http_app.url("/echo"), "username": "", "password": ""})
    tab.save_current("bearer")
    send(tab, http_app.url("/echo"))
    assert json.loads(text_of(tab.body_views.text))["headers"]["Authorization"] == "Bearer tok-123456"
    pump(tab.app.root, until=lambda: not tab.busy_tasks(), timeout=5, message="settings saved")
    files = [p for p in isolated_config.rglob("*") if p.is_file()]
    assert files
    for path in files:
        assert "tok-123456" not in path.read_text(errors="replace"), path
    tab.headers.set_rows([])
    tab.open_saved("bearer")
    assert tab.headers.rows() == [("Authorization", "Bearer tok-123456"), ("X-Plain", "1")]


def test_history_reopens_a_request(tab, http_app):
    tab.body_kind.set("raw")
    tab.raw_text.insert("1.0", "payload")
    send(tab, http_app.url("/echo"), method="PATCH")
    send(tab, http_app.url("/json"), method="GET")
    tab.body_kind.set("none")
    tab.history.selection_set("1")
    tab.reopen_history()
    assert tab.form.values()["method"] == "PATCH"
    assert tab.body_kind.get() == "raw" and text_of(tab.raw_text) == "payload"


def test_copy_as_curl_goes_to_the_clipboard(tab, http_app):
    tab.form.set_values({"url": http_app.url("/echo"), "method": "DELETE", "username": "bob",
                         "password": "pw-secret"})
    command = tab.copy_curl()
    assert command.startswith("curl -X DELETE")
    assert tab.clipboard_get() == command and "pw-secret" not in command


def test_cookie_jar_saved_with_a_request_goes_to_the_keyring(tab, http_app, isolated_config,
                                                              test_keyring):
    send(tab, http_app.url("/login"))
    tab.form.set_values({"url": http_app.url("/cookies")})
    tab.save_cookies.set(True)
    tab.save_current("with-jar")
    pump(tab.app.root, until=lambda: not tab.busy_tasks(), timeout=5, message="settings saved")
    for path in isolated_config.rglob("*"):
        if path.is_file():
            assert "abc123xyz" not in path.read_text(errors="replace"), path
    assert "abc123xyz" in test_keyring.store[("netgui", "web/with-jar/cookies")]
    tab.clear_cookies()
    tab.open_saved("with-jar")
    assert [r[:2] for r in tree_rows(tab.cookies)] == [("sid", "abc123xyz")]
    send(tab, tab.form.values()["url"])
    assert "sid=abc123xyz" in text_of(tab.body_views.text)
    tab.delete_saved("with-jar")
    assert ("netgui", "web/with-jar/cookies") not in test_keyring.store
