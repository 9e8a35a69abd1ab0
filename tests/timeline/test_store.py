"""The timeline store (SQLite, a writer thread, bounded by size and age) and its search
language, checked against a plain Python filter of the same events."""

from __future__ import annotations

import random
import threading
import time
from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netgui.timeline import Origin, TimelineStore, events_to_json, events_to_text, parse_query
from netgui.timeline.query import parse_time

NOW = datetime(2024, 5, 1, 12, 30).timestamp()


def make_store(tmp_path, **kw) -> TimelineStore:
    return TimelineStore(tmp_path / "timeline.sqlite3", **kw)


def fill(store, count=300, seed=1, start=NOW - 3600):
    rnd = random.Random(seed)
    protos = ["ftp", "ftps", "imaps", "imap", "https", "ircs", "dns"]
    hosts = ["files.example", "files2.example", "mail.example.org", "irc.example.net", ""]
    texts = ["550 Permission denied", "226 Transfer complete", "A1 OK FETCH completed",
             "* 3 EXISTS", "HTTP/1.1 200 OK", "PRIVMSG #chan :hi", "Connected", "ab", "Ünïcode ÄÖ"]
    added = []
    for i in range(count):
        proto = rnd.choice(protos)
        origin = Origin(tab=proto[:3], item=f"item{i % 7}", protocol=proto, host=rnd.choice(hosts),
                        port=rnd.choice([21, 993, None]), connection=f"c{i % 5}")
        added.append(store.add(origin, rnd.choice("<>*!"), rnd.choice(texts) + f" #{i}", start + i * 10))
    assert store.flush()
    return added


def test_events_are_stored_searched_newest_first_and_exported(tmp_path):
    store = make_store(tmp_path)
    try:
        store.add(Origin("ftp", "transfer:3", "ftp", "Files.Example", 21, "ftp1"), "<",
                  "550 Permission denied", NOW - 10)
        store.add(Origin("mail", "work/INBOX", "imaps", "mail.example.org", 993), ">", "A1 LOGIN x ****", NOW)
        store.add(None, "*", "no origin", NOW + 1, connection="task-9")
        assert store.flush()
        found = store.search('proto:ftp host:files.example "550"')
        assert [(e.tab, e.item, e.host, e.port, e.dir, e.text) for e in found] == [
            ("ftp", "transfer:3", "files.example", 21, "<", "550 Permission denied")]
        assert [e.text for e in store.search("")] == ["no origin", "A1 LOGIN x ****", "550 Permission denied"]
        assert store.search("conn:task-9")[0].tab == ""
        assert found[0].target() == "ftp://files.example:21"
        text = events_to_text(found)
        assert text.endswith(" ftp files.example:21 < 550 Permission denied\n")
        assert '"item": "transfer:3"' in events_to_json(found)
    finally:
        store.close()


def test_secrets_of_the_origin_are_masked(tmp_path):
    store = make_store(tmp_path)
    try:
        store.add(Origin("ftp", secrets=("hunter22",)), "<", "530 bad password hunter22 for you")
        assert store.flush()
        assert store.search("")[0].text == "530 bad password **** for you"
    finally:
        store.close()


def test_undecodable_names_are_stored_as_escapes(tmp_path):
    """A listing's name that was not UTF-8 arrives with lone surrogates; the writer must not die."""
    store = make_store(tmp_path)
    try:
        name = b"caf\xe9.txt".decode("utf-8", "surrogateescape")
        store.add(Origin("ftp", f"download {name}", "sftp", "h"), "<", f"OPEN {name}")
        store.add(Origin("ftp"), "<", "after it")
        assert store.flush()
        assert [e.text for e in store.search("")] == ["after it", "OPEN caf\\udce9.txt"]
        assert store.problem is None
    finally:
        store.close()


@pytest.mark.parametrize("part_size", [50_000, 37])
def test_filters_match_what_a_python_filter_finds(tmp_path, part_size):
    store = make_store(tmp_path)
    store.part_size = part_size  # 37: the text spread over nine indexes
    try:
        added = fill(store)
        for text in ['proto:ftp "550"', "proto:imap dir:in", "host:files", "dir:error tab:ftp",
                     "after:12:00", "before:11:45 proto:https", "item:item3 conn:c1", "ab",
                     "ünïcode", "denied proto:ftps", "host:nothing", "proto:ftp proto:dns dir:out",
                     '"FETCH completed" host:mail', "OK"]:
            query = parse_query(text, now=NOW)
            expected = [e.text for e in reversed(added) if query.matches(e)]
            assert [e.text for e in store.search(query, limit=10_000)] == expected, text
    finally:
        store.close()


words = st.sampled_from(["proto:ftp", "proto:imap", "host:files", "host:example", "dir:in", "dir:out",
                         "dir:error", "tab:ftp", "after:12:00", "before:12:20", '"550"', "denied",
                         "OK", "ab", "#1", "item:item2", "conn:c3", "Ün"])


@settings(max_examples=60, deadline=None)
@given(st.lists(words, max_size=4))
def test_any_combination_agrees_with_python(tmp_path_factory, chosen):
    store = _shared_store(tmp_path_factory)
    query = parse_query(" ".join(chosen), now=NOW)
    expected = [e.text for e in reversed(_SHARED["added"]) if query.matches(e)][:50]
    assert [e.text for e in store.search(query, limit=50)] == expected


_SHARED: dict = {}


def _shared_store(tmp_path_factory) -> TimelineStore:
    if "store" not in _SHARED:
        store = TimelineStore(tmp_path_factory.mktemp("shared") / "t.sqlite3")
        _SHARED["added"] = fill(store, count=400, seed=7)
        _SHARED["store"] = store
    return _SHARED["store"]


def test_parse_time_and_problems():
    noon = datetime(2024, 5, 1, 12, 0).timestamp()
    assert parse_time("10:00", noon) == datetime(2024, 5, 1, 10, 0).timestamp()
    assert parse_time("13:00", noon) == datetime(2024, 4, 30, 13, 0).timestamp()  # not yet today
    assert parse_time("2024-04-02", noon) == datetime(2024, 4, 2).timestamp()
    assert parse_time("2024-04-02T08:15", noon) == datetime(2024, 4, 2, 8, 15).timestamp()
    assert parse_time("2h", noon) == noon - 7200
    assert parse_time("yesterday", noon) == datetime(2024, 4, 30).timestamp()
    query = parse_query('after:25:00 dir:sideways proto: Content-Type: "a ""b"" c"', now=noon)
    assert len(query.problems) == 3
    assert query.terms == ["content-type:", 'a "b" c']


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_parsing_never_raises(text):
    query = parse_query(text)
    assert isinstance(query.problems, list)


def test_age_limit_deletes_old_events(tmp_path):
    store = make_store(tmp_path, max_age=3600)
    try:
        now = time.time()
        for i in range(50):
            store.add(Origin("dns", protocol="dns"), "<", f"old {i}", now - 7200 + i)
        store.add(Origin("dns", protocol="dns"), "<", "new", now)
        assert store.flush()
        store.prune()  # the writer applies the limits now
        assert store.flush()
        assert [e.text for e in store.search("")] == ["new"]
    finally:
        store.close()


@pytest.mark.parametrize("part_size", [50_000, 500])
def test_size_limit_keeps_the_file_bounded(tmp_path, part_size):
    store = make_store(tmp_path, max_bytes=2 << 20)
    store.part_size = part_size  # 500: whole text indexes are dropped
    try:
        payload = "x" * 2000
        for i in range(4000):
            store.add(Origin("web", protocol="https", host=f"h{i % 50}.example"), "<", f"{payload} {i}")
        assert store.flush(30)
        store.prune()
        assert store.flush(30)
        newest = store.search("", limit=1)[0].text
        assert newest.endswith(" 3999")
        assert store.count() < 2000  # the oldest went
        size = (tmp_path / "timeline.sqlite3").stat().st_size
        assert size < 8 << 20, size
    finally:
        store.close()


def test_search_while_the_writer_writes(tmp_path):
    store = make_store(tmp_path)
    errors = []
    try:
        fill(store, count=100)

        def search():
            try:
                for _ in range(30):
                    store.search("proto:ftp 550")
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
        threads = [threading.Thread(target=search) for _ in range(3)]
        for t in threads:
            t.start()
        for i in range(2000):
            store.add(Origin("ftp", protocol="ftp"), "<", f"550 nope {i}")
        for t in threads:
            t.join(30)
        assert store.flush(30)
        assert not errors
        assert len(store.search("nope", limit=5000)) == 2000
    finally:
        store.close()


def test_a_damaged_file_is_kept_aside(tmp_path):
    path = tmp_path / "timeline.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    store = TimelineStore(path)
    try:
        store.add(Origin("chat"), "*", "fresh")
        assert store.flush()
        assert [e.text for e in store.search("")] == ["fresh"]
        assert (tmp_path / "timeline.sqlite3.bad").exists()
    finally:
        store.close()


def test_clear_and_listeners(tmp_path):
    store = make_store(tmp_path)
    heard = []
    try:
        stop = store.subscribe(heard.append)
        store.add(Origin("dns"), "<", "one")
        stop()
        store.add(Origin("dns"), "<", "two")
        assert [e.text for e in heard] == ["one"]
        store.clear()
        assert store.flush()
        assert store.count() == 0
    finally:
        store.close()


def test_without_a_trigram_tokenizer_text_is_still_found(tmp_path, monkeypatch):
    from netgui.timeline import store as module
    monkeypatch.setattr(module, "_has_trigram", lambda db: False)  # as SQLite before 3.34
    store = make_store(tmp_path)
    try:
        added = fill(store, count=200)
        assert store.text_index is False
        for text in ['"550"', "denied proto:ftps", "ünïcode", "OK host:mail"]:
            query = parse_query(text, now=NOW)
            assert [e.text for e in store.search(query)] == \
                [e.text for e in reversed(added) if query.matches(e)], text
    finally:
        store.close()
