"""Checks on responses: parsing, JSON paths, evaluation."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from netgui.net.http.checks import CheckError, Subject, evaluate, evaluate_all, parse_check, select

DOC = {"name": "netgui", "version": 1, "tags": ["web", "http"], "price": 9.5,
       "items": [{"id": 7, "ok": True}, {"id": 8, "ok": False}], "odd key": {"x": None}}


def subject(status=200, body=DOC, headers=(("Content-Type", "application/json; charset=utf-8"),),
            elapsed=12.0, complete=True):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return Subject(status, list(headers), data, complete, "utf-8", elapsed)


@pytest.mark.parametrize("line", [
    "status == 200", "status != 404", "status < 300", "status == 2xx", "status != 4xx",
    "header Content-Type contains json", "header content-type matches ^application/",
    "header X-Missing absent", "header Content-Type exists", "header X-Missing != x",
    "json $.name == netgui", 'json $.name == "netgui"', "json name == netgui", "json $.version == 1",
    "json $.version >= 1", "json $.price < 10", "json $.tags contains web", 'json $.tags contains "http"',
    "json $.tags length == 2", "json $.items[0].id == 7", "json $.items[-1].id == 8",
    "json $.items[*].id contains 8", "json $.items[*].id == [7, 8]", "json $.items[1].ok == false",
    "json $['odd key'].x == null", 'json $["odd key"] exists', "json $.nope absent",
    "json $.name matches ^net", "json $.name !contains xyz", "json $.items length > 1",
    "body contains netgui", "body matches \"version\": 1", "time < 500", "time <= 1s",
])
def test_passing_checks(line):
    result = evaluate(line, subject())
    assert result.passed, result.detail


@pytest.mark.parametrize("line, detail", [
    ("status == 201", "status is 200"),
    ("status == 4xx", "status is 200"),
    ("header Content-Type == text/plain", "Content-Type is application/json; charset=utf-8"),
    ("header X-Missing exists", "no X-Missing header"),
    ("json $.name == other", "$.name is netgui"),
    ("json $.tags length == 3", "$.tags length is 2"),
    ("json $.nope == 1", "$.nope is nothing"),
    ("json $.version length == 1", "$.version is 1, which has no length"),
    ("time < 5", "took 12 ms"),
    ("body contains nothing-like-this", 'body is {"name": "netgui"'),
])
def test_failing_checks_say_what_they_saw(line, detail):
    result = evaluate(line, subject())
    assert not result.passed and result.detail.startswith(detail)


@pytest.mark.parametrize("line, reason", [
    ("", "a check starts with"), ("statuss == 1", "a check starts with"),
    ("status 200", "expected one of"), ("status ==", "needs a value"), ("status == abc", "not a status"),
    ("header", "needs a header name"), ("json", "needs a path"), ("json $.a[ == 1", "cannot read the JSON path"),
    ("time == 5", "time"), ("time < soon", "not a time"), ("json $.a matches (", "not a regular expression"),
    ("json $.a exists 1", "takes no value"), ("status exists", "works with header and json"),
])
def test_unreadable_checks_fail_with_a_reason(line, reason):
    with pytest.raises(CheckError, match=reason.replace("(", r"\(")):
        parse_check(line)
    result = evaluate(line, subject())
    assert not result.passed and result.detail.startswith("cannot read this check")


def test_json_checks_on_bodies_that_are_not_json_or_not_all_there():
    assert evaluate("json $.a == 1", subject(body=b"<html>")).detail.startswith("the body is not JSON")
    partial = subject(complete=False)
    assert evaluate("json $.name == netgui", partial).detail == "only the first part of the body arrived"
    assert evaluate("body contains netgui", partial).passed
    assert not evaluate("body == x", partial).passed
    results = evaluate_all(["status == 200", "", "  ", "time < 1"], subject())
    assert [r.passed for r in results] == [True, False]


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5),
                    lambda children: st.lists(children, max_size=3)
                    | st.dictionaries(st.text(alphabet="abc_", min_size=1, max_size=3), children, max_size=3),
                    max_leaves=10))
def test_every_path_to_a_value_selects_it(document):
    def paths(value, prefix):
        yield prefix, value
        if isinstance(value, dict):
            for key, child in value.items():
                yield from paths(child, f"{prefix}[{json.dumps(key)}]")
        elif isinstance(value, list):
            for index, child in enumerate(value):
                yield from paths(child, f"{prefix}[{index}]")

    for path, value in paths(document, "$"):
        assert select(document, path) == value
        assert evaluate(f"json {path} == {json.dumps(value)}",
                        subject(body=json.dumps(document).encode())).passed
