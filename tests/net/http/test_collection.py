""".http files: parsing, writing, editing one request in place, folders as collections."""

from __future__ import annotations

import string

from hypothesis import given, settings
from hypothesis import strategies as st

from netgui.net.http.collection import (
    METHOD_NAMES,
    HttpEntry,
    HttpFile,
    append_entry,
    entry_to_request,
    format_http,
    items_under,
    load_collection,
    parse_http,
    parse_multipart,
    remove_entry,
    replace_entry,
    request_to_entry,
    snapshot,
)
from netgui.net.http.request import Request

REST_CLIENT_SAMPLE = """\
@host = localhost:8080
@token = {{$env.TOKEN}}

# A comment before the first request
GET https://{{host}}/users?page=1
    &size=10 HTTP/1.1
Accept: application/json

###

### Create a user
// @name createUser
# @check status == 201
POST https://{{host}}/users
Content-Type: application/json
Authorization: Bearer {{token}}

{
  "name": "Zoë",

  "tags": ["#1", "// not a comment"]
}


### Upload
POST /upload
Content-Type: multipart/form-data; boundary=----B

------B
Content-Disposition: form-data; name="title"

My photo
------B
Content-Disposition: form-data; name="photo"; filename="cat.png"
Content-Type: image/png

< ./cat.png
------B--
"""


def test_parses_what_rest_client_writes():
    parsed = parse_http(REST_CLIENT_SAMPLE)
    assert parsed.variables == [("host", "localhost:8080"), ("token", "{{$env.TOKEN}}")]
    first, create, upload = parsed.entries
    assert (first.method, first.url) == ("GET", "https://{{host}}/users?page=1&size=10")
    assert first.comments == ["# A comment before the first request"]
    assert first.headers == [("Accept", "application/json")]
    assert create.name == "Create a user" and create.option("name") == "createUser"
    assert create.checks == ["status == 201"]
    assert create.body.startswith("{\n") and create.body.endswith("}")
    assert '"tags": ["#1", "// not a comment"]' in create.body and "\n\n" in create.body
    request = entry_to_request(upload)
    assert request.body_kind == "multipart"
    assert request.form == [("title", "My photo")] and request.files == [("photo", "./cat.png")]
    assert not any(n.lower() == "content-type" for n, _ in request.headers)


def test_a_bare_url_is_a_get_and_blocks_without_requests_are_skipped():
    parsed = parse_http("# only a comment\n\n###\n\nexample.com/x\n###\n@a = 1\n")
    assert [(e.method, e.url) for e in parsed.entries] == [("GET", "example.com/x")]
    assert parsed.variables == [("a", "1")]
    assert parse_http("").entries == [] and format_http(HttpFile()) == ""


def test_crlf_files_parse_like_lf():
    text = "POST http://x/\r\nA: 1\r\n\r\nbody line\r\nsecond\r\n"
    entry = parse_http(text).entries[0]
    assert entry.headers == [("A", "1")] and entry.body == "body line\nsecond"


def test_replacing_one_request_keeps_the_rest_of_the_file_as_it_was():
    parsed = parse_http(REST_CLIENT_SAMPLE)
    changed = HttpEntry("DELETE", "https://{{host}}/users/7", name="Delete", checks=["status == 204"])
    text = replace_entry(REST_CLIENT_SAMPLE, 1, changed)
    again = parse_http(text)
    assert again.entries[1] == changed
    assert again.entries[0] == parsed.entries[0] and again.entries[2] == parsed.entries[2]
    assert again.variables == parsed.variables
    # the other requests' text is untouched, blank lines and all
    assert text.startswith(REST_CLIENT_SAMPLE.split("### Create")[0])
    assert text.endswith(REST_CLIENT_SAMPLE.split("### Upload")[1])
    # the first request of a file without ###, and variables inside its span, survive
    text = replace_entry("@a = 1\n# about b\n@b = 2\nGET http://x/\n", 0, HttpEntry("PUT", "http://y/"))
    assert parse_http(text).variables == [("a", "1"), ("b", "2")]
    assert [(e.method, e.url) for e in parse_http(text).entries] == [("PUT", "http://y/")]


def test_append_and_remove():
    text = append_entry("", HttpEntry("GET", "http://a/"))
    text = append_entry(text, HttpEntry("GET", "http://b/", name="B"))
    assert [e.url for e in parse_http(text).entries] == ["http://a/", "http://b/"]
    text = remove_entry(text, 0)
    assert [e.name for e in parse_http(text).entries] == ["B"]
    assert remove_entry(text, 0) == ""


def test_requests_and_entries_convert_both_ways():
    request = Request(url="http://{{host}}/f", method="POST", headers=[("X-A", "{{a}}")],
                      body_kind="form", form=[("q", "a b&c"), ("v", "{{value}}")],
                      follow_redirects=False, verify=False, timeout=5, proxy="")
    entry = request_to_entry(request)
    assert entry.body == "q=a+b%26c&v={{value}}"
    assert ("Content-Type", "application/x-www-form-urlencoded") in entry.headers
    assert entry.options == [("no-redirect", ""), ("insecure", ""), ("timeout", "5"), ("proxy", "none")]
    back = entry_to_request(parse_http(format_http(HttpFile(entries=[entry]))).entries[0])
    assert (back.follow_redirects, back.verify, back.timeout, back.proxy) == (False, False, 5.0, "")
    assert back.body_kind == "raw" and back.raw == entry.body
    assert back.content_type == "application/x-www-form-urlencoded"

    multipart = Request(url="http://x/up", method="POST", body_kind="multipart",
                        form=[("title", "hi")], files=[("file", "data/cat.png")])
    back = entry_to_request(request_to_entry(multipart))
    assert (back.body_kind, back.form, back.files) == ("multipart", [("title", "hi")],
                                                      [("file", "data/cat.png")])
    auth = request_to_entry(Request(url="http://x/", username="al", password="{{pw}}"))
    assert auth.headers == [("Authorization", "Basic al:{{pw}}")]


def test_parse_multipart_refuses_what_it_cannot_send():
    assert parse_multipart("no delimiter", "B") is None
    assert parse_multipart("--B\nContent-Disposition: form-data; name=\"a\"\n\nx\n", "B") is None
    assert parse_multipart("--B\nContent-Disposition: form-data; name=\"a\"\n\nx\n--B--", "B") == (
        [("a", "x")], [])


def test_a_folder_is_a_collection(tmp_path):
    (tmp_path / "2-second.http").write_text("GET http://x/2\n")
    (tmp_path / "10-tenth.http").write_text("GET http://x/10\n###\nGET http://x/10b\n")
    (tmp_path / "users" / "admins").mkdir(parents=True)
    (tmp_path / "users" / "list.rest").write_text("@u = 1\nGET http://x/users?u={{u}}\n")
    (tmp_path / "users" / "admins" / "a.http").write_text("GET http://x/admins\n")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "x.http").write_text("GET http://hidden/\n")
    (tmp_path / "notes.txt").write_text("not a request")
    (tmp_path / "bad.http").write_bytes(b"GET http://x/\xff\n")
    collection = load_collection(tmp_path)
    assert collection.folders == ["users", "users/admins"]
    assert list(collection.files) == ["2-second.http", "10-tenth.http", "users/list.rest",
                                      "users/admins/a.http"]
    assert "bad.http" in collection.problems
    assert [i.entry.url for i in items_under(collection)] == [
        "http://x/2", "http://x/10", "http://x/10b", "http://x/users?u={{u}}", "http://x/admins"]
    assert [i.entry.url for i in items_under(collection, "users")] == [
        "http://x/users?u={{u}}", "http://x/admins"]
    assert [i.entry.url for i in items_under(collection, "10-tenth.http#1")] == ["http://x/10b"]
    assert items_under(collection, "users/list.rest")[0].variables == [("u", "1")]


def test_snapshot_changes_when_files_change(tmp_path):
    (tmp_path / "a.http").write_text("GET http://x/\n")
    before = snapshot(tmp_path)
    assert snapshot(tmp_path) == before
    (tmp_path / "a.http").write_text("GET http://x/changed\n")
    assert snapshot(tmp_path) != before
    before = snapshot(tmp_path)
    (tmp_path / "group").mkdir()
    assert "group/" in snapshot(tmp_path)


# -- fuzzing ------------------------------------------------------------------------------------

_text = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from("{}#@/ \t"),
                max_size=30)
_line = _text.map(str.strip)


def _not_special(line: str) -> bool:
    return not line.startswith(("#", "//", "@"))


_token = st.text(alphabet=string.ascii_letters + string.digits + "-_.", min_size=1, max_size=12)
_url = st.tuples(st.sampled_from(["http://", "https://", "{{host}}", ""]), _line).map(
    lambda p: (p[0] + p[1]).strip()).filter(lambda u: u and not u.upper().endswith(
        ("HTTP/1.1", "HTTP/1", "HTTP/2", "HTTP/1.0", "HTTP/2.0")))
_header_name = st.text(alphabet=string.ascii_letters + string.digits + "-_!$%&'*+.^`|~", min_size=1,
                       max_size=16).filter(lambda n: not n.startswith("//"))
_body_line = _text.filter(lambda line: not line.lstrip().startswith("###"))
_body = st.lists(_body_line, max_size=6).map("\n".join).filter(
    lambda b: not b or (b.split("\n")[0].strip() and b.split("\n")[-1].strip()))
_comment = st.tuples(st.sampled_from(["#", "# ", "//", "// "]), _line).map("".join).map(str.strip).filter(
    lambda c: not c.startswith("###") and not c.lstrip("#/ ").startswith("@"))
_entry = st.builds(
    HttpEntry,
    method=st.sampled_from(METHOD_NAMES),
    url=_url,
    headers=st.lists(st.tuples(_header_name, _line), max_size=4),
    body=_body,
    name=_line.filter(lambda n: not n.startswith("#")),
    comments=st.lists(_comment, max_size=3),
    checks=st.lists(_line.filter(bool), max_size=3),
    options=st.lists(st.tuples(_token.filter(lambda k: k[0].isalpha() and k != "check" and "." not in k),
                               _line), max_size=2),
)
_file = st.builds(HttpFile, variables=st.lists(st.tuples(
    _token.filter(lambda n: n[0].isalpha() or n[0] == "_"), _line), max_size=3),
    entries=st.lists(_entry, max_size=4))


@settings(max_examples=150, deadline=None)
@given(_file)
def test_writing_then_reading_gives_the_same_requests(file):
    parsed = parse_http(format_http(file))
    assert parsed.variables == file.variables
    assert parsed.entries == file.entries


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(_text, st.sampled_from(
    ["###", "### name", "GET http://x/", "  ?a=1", "  &b=2", "A: b", "", "@v = 1", "# @check status == 200",
     "{", "}", "POST {{h}}/p HTTP/1.1", "// c"])), max_size=25).map("\n".join))
def test_any_text_parses_and_its_normal_form_is_stable(text):
    once = format_http(parse_http(text))
    assert format_http(parse_http(once)) == once


@settings(max_examples=200, deadline=None)
@given(_file, st.data())
def test_replacing_a_request_changes_only_that_request(file, data):
    text = format_http(file)
    if not file.entries:
        return
    index = data.draw(st.integers(0, len(file.entries) - 1))
    new = data.draw(_entry)
    parsed = parse_http(replace_entry(text, index, new))
    expected = list(file.entries)
    expected[index] = new
    assert parsed.entries == expected
    assert parsed.variables == file.variables
