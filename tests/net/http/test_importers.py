"""Importing curl commands, HAR files and Postman collections; credentials kept out of files."""

from __future__ import annotations

import json
import shlex
import string

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from netgui.net.http.collection import load_collection, parse_http
from netgui.net.http.importers import (
    ImportProblem,
    SecretNamer,
    detect,
    extract_secrets,
    from_curl,
    parse_curl,
    parse_har,
    parse_postman,
    shell_words,
    write_import,
)
from netgui.net.http.request import Request, to_curl
from netgui.net.http.variables import load_environments


def test_shell_words_quote_as_a_shell_does():
    assert shell_words("curl 'a b' \"c \\\"d\\\"\" e\\ f") == ["curl", "a b", 'c "d"', "e f"]
    assert shell_words("curl \\\n  -H 'X: 1' \\\r\n  http://x/") == ["curl", "-H", "X: 1", "http://x/"]
    assert shell_words("curl --data-raw $'{\"a\":\"it\\'s\\\\n\\u00e9\"}' x") == [
        "curl", "--data-raw", '{"a":"it\'s\\n\u00e9"}', "x"]
    assert shell_words("curl \"$'not ansi'\" '$x'") == ["curl", "$'not ansi'", "$x"]
    with pytest.raises(ImportProblem, match="as a shell would"):
        shell_words("curl 'unclosed")


def test_the_common_flags():
    request, warnings = parse_curl(
        "curl -sSL -X PATCH --url https://api.example.com/v1/items/7 -H 'Content-Type: application/json' "
        "-H 'X-Empty;' -d '{\"a\":1}' -u alice:pw -b 'sid=1; theme=dark' -k --compressed "
        "--max-time 12 --max-redirs 3 -A netgui-test -e https://ref/ -x proxy:3128 -o out.json")
    assert request.method == "PATCH" and request.url == "https://api.example.com/v1/items/7"
    assert request.headers == [("Content-Type", "application/json"), ("X-Empty", ""),
                               ("Cookie", "sid=1; theme=dark"), ("User-Agent", "netgui-test"),
                               ("Referer", "https://ref/")]
    assert (request.body_kind, request.raw, request.content_type) == ("raw", '{"a":1}', "application/json")
    assert (request.username, request.password) == ("alice", "pw")
    assert not request.verify and request.follow_redirects and request.max_redirects == 3
    assert request.timeout == 12 and request.proxy == "http://proxy:3128"
    assert warnings == []


def test_data_forms_and_defaults():
    request, _ = parse_curl("curl http://x/ -d a=1 -d b=2")
    assert (request.method, request.raw) == ("POST", "a=1&b=2")
    assert ("Content-Type", "application/x-www-form-urlencoded") in request.headers
    assert not request.follow_redirects  # curl follows only with -L
    request, _ = parse_curl("curl http://x/ --data-urlencode 'q=a b&c' --data-urlencode 'n=Zoë'")
    assert (request.body_kind, request.form) == ("form", [("q", "a b&c"), ("n", "Zoë")])
    request, _ = parse_curl("curl -G http://x/s -d q=1 --data-urlencode 'w=a b'")
    assert (request.method, request.url, request.body_kind) == ("GET", "http://x/s?q=1&w=a+b", "none")
    request, _ = parse_curl("curl -F title=hi -F 'file=@/tmp/cat.png;type=image/png' "
                            "--form-string 'raw=@not-a-file' http://x/up")
    assert request.body_kind == "multipart" and request.method == "POST"
    assert request.form == [("title", "hi"), ("raw", "@not-a-file")]
    assert request.files == [("file", "/tmp/cat.png")]
    request, _ = parse_curl("curl --json '{\"x\": 1}' http://x/j")
    assert ("Content-Type", "application/json") in request.headers and request.method == "POST"
    request, _ = parse_curl("curl -I http://x/h")
    assert request.method == "HEAD"
    request, warnings = parse_curl("curl -d @body.json -b cookies.txt --frobnicate http://x/")
    assert request.body_kind == "none"
    assert any("from a file" in w for w in warnings) and any("cookie files" in w for w in warnings)
    assert any("--frobnicate" in w for w in warnings)


@pytest.mark.parametrize("command, problem", [
    ("wget http://x/", "starts with curl"), ("curl -s", "no URL"), ("curl -H", "needs a value"), ("", "curl"),
])
def test_what_is_not_a_curl_command(command, problem):
    with pytest.raises(ImportProblem, match=problem):
        parse_curl(command)


# -- Copy as curl round-trips ------------------------------------------------------------------

_safe = st.text(alphabet=string.ascii_letters + string.digits + " -_.~!$&'()*+,;=:@/?%\"{}é\\\n", max_size=20)
_name = st.text(alphabet=string.ascii_letters + string.digits + "-_", min_size=1, max_size=10)
_requests = st.builds(
    Request,
    url=st.tuples(st.sampled_from(["http://", "https://"]), st.sampled_from(["example.com", "127.0.0.1:8080"]),
                  st.text(alphabet=string.ascii_letters + "/-_.", max_size=12)).map(
        lambda p: p[0] + p[1] + "/" + p[2].lstrip("/")),
    method=st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"]),
    headers=st.lists(st.tuples(_name.filter(lambda n: n.lower() != "content-type"),
                               _safe.map(lambda v: v.replace("\n", " ").strip())), max_size=3),
    body_kind=st.sampled_from(["none", "form", "multipart", "raw"]),
    form=st.lists(st.tuples(_name, _safe), max_size=3),
    files=st.lists(st.tuples(_name, st.text(alphabet=string.ascii_letters + "/._", min_size=1, max_size=12)
                             .filter(lambda p: ";" not in p)), max_size=2),
    raw=_safe, content_type=st.sampled_from(["application/json", "text/plain; charset=utf-8"]),
    username=_name | st.just(""), follow_redirects=st.booleans(), max_redirects=st.integers(0, 30),
    verify=st.booleans(), timeout=st.sampled_from([30.0, 5.0, 0.5]),
    proxy=st.sampled_from([None, "", "http://proxy:3128"]))


@settings(max_examples=200, deadline=None)
@given(_requests)
def test_copy_as_curl_reads_back_as_the_same_request(request):
    # an empty form is no body at all (Copy as curl still writes its -X GET)
    assume(request.body_kind != "form" or request.form)
    assume(request.body_kind != "multipart" or request.form or request.files)
    command = to_curl(request)
    back, warnings = parse_curl(command)
    assert warnings == []
    assert to_curl(back) == command
    assert back.method == request.method and back.url == request.full_url()
    assert (back.username, back.verify, back.timeout, back.proxy) == (
        request.username, request.verify, request.timeout, request.proxy)
    assert back.follow_redirects == request.follow_redirects
    kind = request.body_kind
    if kind == "form" and request.form:
        assert back.form == request.form
    elif kind == "multipart" and (request.form or request.files):
        assert (back.form, back.files) == (request.form, request.files)
    elif kind == "raw":
        assert back.raw == request.raw


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(max_size=15), max_size=6))
def test_shell_words_invert_shlex_quote(words):
    assert shell_words(" ".join(shlex.quote(w) for w in words)) == words


# -- HAR and Postman ------------------------------------------------------------------------------

HAR = {"log": {"version": "1.2", "entries": [
    {"request": {"method": "GET", "url": "https://api.example.com/v1/users?page=2", "headers": [
        {"name": ":authority", "value": "api.example.com"}, {"name": "Accept", "value": "application/json"},
        {"name": "Authorization", "value": "Bearer eyJhbGciOi.secret"}, {"name": "Content-Length", "value": "0"}]}},
    {"request": {"method": "POST", "url": "https://api.example.com/v1/users", "headers": [
        {"name": "Content-Type", "value": "application/json"}],
        "postData": {"mimeType": "application/json", "text": "{\"name\": \"Zoë\"}"}}},
    {"request": {"method": "POST", "url": "https://api.example.com/login", "headers": [],
                 "postData": {"mimeType": "multipart/form-data; boundary=x", "params": [
                     {"name": "user", "value": "zoe"}, {"name": "avatar", "fileName": "me.png"}]}}},
    {"request": {"method": "GET", "url": "https://cdn.example.net/app.js", "headers": []}},
    {"request": {"method": "GET", "url": "data:image/png;base64,xx", "headers": []}},
    {"request": {"method": "GET", "url": "https://cdn.example.net/app.js", "headers": []}},
]}}


def test_har_entries_become_requests_per_host():
    imported = parse_har(json.dumps(HAR))
    stems = [stem for _, stem, _ in imported.entries]
    assert stems == ["api.example.com"] * 3 + ["cdn.example.net"]
    first, post, login, _ = [entry for _, _, entry in imported.entries]
    assert first.headers == [("Accept", "application/json"), ("Authorization", "Bearer eyJhbGciOi.secret")]
    assert post.body == '{"name": "Zoë"}' and ("Content-Type", "application/json") in post.headers
    assert "< me.png" in login.body and "multipart/form-data; boundary=" in login.header("Content-Type")
    assert any("me.png" in w for w in imported.warnings)
    with pytest.raises(ImportProblem, match="not a HAR"):
        parse_har("{}")


POSTMAN = {
    "info": {"name": "Shop API", "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"},
    "variable": [{"key": "base", "value": "https://shop.example.com"}, {"key": "off", "value": "x", "disabled": True}],
    "auth": {"type": "bearer", "bearer": [{"key": "token", "value": "collection-token", "type": "string"}]},
    "item": [
        {"name": "Products", "item": [
            {"name": "List products", "request": {
                "method": "GET", "url": {"raw": "{{base}}/products?limit=10", "host": ["{{base}}"],
                                         "path": ["products"], "query": [{"key": "limit", "value": "10"}]},
                "header": [{"key": "Accept", "value": "application/json"},
                           {"key": "X-Off", "value": "1", "disabled": True}]},
             "event": [{"listen": "test", "script": {"exec": ["pm.test()"]}}]},
            {"name": "Get product", "request": {
                "method": "GET", "auth": {"type": "noauth"},
                "url": {"raw": "{{base}}/products/:id", "variable": [{"key": "id", "value": "42"}]}}},
        ]},
        {"name": "Login", "request": {
            "method": "POST", "url": "{{base}}/login", "description": "Logs in.\n@check status == 200\n## Details",
            "auth": {"type": "basic", "basic": [{"key": "username", "value": "zoe"},
                                                {"key": "password", "value": "pa55word"}]},
            "body": {"mode": "urlencoded", "urlencoded": [{"key": "remember", "value": "yes"}]}}},
        {"name": "Search", "request": {
            "method": "POST", "url": "{{base}}/graphql",
            "body": {"mode": "graphql", "graphql": {"query": "{ products { id } }", "variables": "{\"n\": 1}"}}}},
        {"name": "Raw", "request": {"method": "PUT", "url": "{{base}}/raw",
                                    "body": {"mode": "raw", "raw": "<a/>", "options": {"raw": {"language": "xml"}}}}},
    ]}


def test_postman_folders_auth_bodies_and_variables():
    imported = parse_postman(json.dumps(POSTMAN))
    assert imported.name == "Shop API" and imported.variables == [("base", "https://shop.example.com")]
    where = [(folder, stem) for folder, stem, _ in imported.entries]
    assert where == [("Products", "List-products"), ("Products", "Get-product"), ("", "Login"),
                     ("", "Search"), ("", "Raw")]
    listing, product, login, search, raw = [e for _, _, e in imported.entries]
    assert listing.url == "{{base}}/products?limit=10" and listing.name == "List products"
    assert listing.headers == [("Authorization", "Bearer collection-token"), ("Accept", "application/json")]
    assert product.url == "{{base}}/products/42" and product.headers == []
    assert login.headers[0] == ("Authorization", "Basic zoe:pa55word") and login.body == "remember=yes"
    assert login.comments == ["# Logs in.", "# ## Details"]  # a description cannot smuggle in a check
    assert json.loads(search.body) == {"query": "{ products { id } }", "variables": {"n": 1}}
    assert raw.header("Content-Type") == "application/xml"
    assert any("test script" in w for w in imported.warnings)
    with pytest.raises(ImportProblem, match="v1"):
        parse_postman('{"requests": []}')


def test_detect_tells_the_three_apart():
    assert detect("curl http://x/").name == "curl"
    assert detect(json.dumps(HAR)).name == "har"
    assert detect(json.dumps(POSTMAN)).name == "Shop API"


# -- credentials stay out of the files -----------------------------------------------------------

def test_extract_secrets_replaces_credentials_with_variables():
    namer = SecretNamer(known={"old-token": "api_token"}, taken={"password"})
    entry = from_curl("curl -u zoe:pw1 -H 'X-Api-Key: k123' -H 'Cookie: sid=9' "
                      "'https://x/?access_token=abc&q=1' -H 'Authorization-Ignored: no'").entries[0][2]
    clean = extract_secrets(entry, namer)
    assert clean.headers[0] == ("Authorization", "Basic zoe:{{password_2}}")
    assert ("X-Api-Key", "{{x_api_key}}") in clean.headers and ("Cookie", "{{cookie}}") in clean.headers
    assert clean.url == "https://x/?access_token={{access_token}}&q=1"
    assert namer.found == {"password_2": "pw1", "x_api_key": "k123", "cookie": "sid=9", "access_token": "abc"}
    bearer = extract_secrets(from_curl("curl -H 'Authorization: Bearer old-token' http://x/").entries[0][2],
                             namer)
    assert bearer.headers == [("Authorization", "Bearer {{api_token}}")]
    encoded = extract_secrets(from_curl("curl -H 'Authorization: Basic em9lOnB3MQ==' http://x/").entries[0][2],
                              namer)
    assert encoded.headers == [("Authorization", "Basic zoe:{{password_2}}")]
    templated = from_curl("curl -H 'Authorization: Bearer {{token}}' http://x/").entries[0][2]
    assert extract_secrets(templated, namer).headers == templated.headers


def test_write_import_into_a_collection(tmp_path):
    (tmp_path / "Products").mkdir()
    (tmp_path / "Products" / "List-products.http").write_text("GET http://old/\n")
    written = write_import(tmp_path, "", parse_postman(json.dumps(POSTMAN)), None)
    assert written.files[0] == "Products/List-products-2.http"
    assert written.environment == "Default"
    assert written.secrets == {"token": "collection-token", "password": "pa55word"}
    text = "".join((tmp_path / f).read_text() for f in written.files)
    assert "collection-token" not in text and "pa55word" not in text
    envs = load_environments(tmp_path)
    assert [v.name for v in envs["Default"].variables if v.secret] == ["token", "password"]
    assert envs["$shared"].variables[0].value == "https://shop.example.com"
    assert "pa55word" not in (tmp_path / "http-client.env.json").read_text()
    collection = load_collection(tmp_path)
    login = parse_http((tmp_path / "Login.http").read_text()).entries[0]
    assert login.headers[0] == ("Authorization", "Basic zoe:{{password}}")
    assert len(collection.files) == 6
