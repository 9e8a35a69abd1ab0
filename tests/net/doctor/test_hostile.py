"""The doctor against broken and hostile servers: endless lines, silence, garbage, refusals,
and random bytes for every protocol's greeting (hypothesis). Each ends as a failed step with
one line, never an exception."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netgui.net.doctor import FAIL, DoctorInputError, diagnose, parse_target
from netgui.net.doctor.greetings import DIALOGS
from netgui.net.links import find_links
from tests.support.doctor_peers import ScriptedPeer


def greeting_step(report):
    return next(s for s in report.steps if s.layer == "greeting")


@pytest.mark.parametrize("scheme, greeting, reply, says", [
    ("imap", b"* OK " + b"x" * 100_000, b"", "longer than 8192 bytes"),
    ("imap", b"", b"", "sent nothing more in time"),
    ("pop3", b"\x00\xff\xfe garbage\r\n", b"", "not POP3"),
    ("smtp", b"554 go away\r\n", b"", "refuses mail sessions"),
    ("ftp", b"220-first\r\n220-second\r\n", b"", "sent nothing more in time"),
    ("irc", b"", b"ERROR :Closing link (banned)\r\n", "refused registration"),
    ("ssh", b"SSH-1.5-ancient\r\n", b"", "SSH version 1.5"),
    ("getfile", b"", b"hello there\n", "not getfile"),
    ("chat", b"", b"", "sent nothing more in time"),
])
def test_broken_greetings_fail_in_one_line(scheme, greeting, reply, says):
    peer = ScriptedPeer(greeting, reply)
    try:
        report = diagnose(f"{scheme}://127.0.0.1:{peer.port}", timeout=1.5)
    finally:
        peer.stop()
    step = greeting_step(report)
    assert step.status == FAIL and says in step.summary, report.to_text()
    assert "\n" not in step.summary and report.verdict.status == FAIL


def test_a_server_that_hangs_up_at_once():
    peer = ScriptedPeer(close_after=0)
    try:
        report = diagnose(f"imap://127.0.0.1:{peer.port}", timeout=2)
    finally:
        peer.stop()
    assert "closed the connection" in greeting_step(report).summary


def test_silence_on_a_plain_port_suggests_the_tls_one():
    peer = ScriptedPeer()
    try:
        report = diagnose(f"imap://127.0.0.1:{peer.port}", timeout=1)
    finally:
        peer.stop()
    assert "imaps://127.0.0.1:993" in report.verdict.advice


@settings(max_examples=15, deadline=None)
@given(scheme=st.sampled_from(sorted(set(DIALOGS) - {"tcp"})), data=st.binary(max_size=300),
       reply=st.binary(max_size=100))
def test_random_bytes_never_escape_as_exceptions(scheme, data, reply):
    peer = ScriptedPeer(data, reply, close_after=0.5)
    try:
        report = diagnose(f"{scheme}://127.0.0.1:{peer.port}", timeout=1)
    finally:
        peer.stop()
    assert report.verdict is not None
    assert all("\n" not in s.summary for s in report.steps)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_any_text_is_a_target_or_one_clear_line(text):
    try:
        target = parse_target(text)
    except DoctorInputError as exc:
        assert "\n" not in str(exc)
    else:
        assert target.kind in ("host", "url", "email")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=200)
       | st.lists(st.sampled_from(["https://a.example/x", "mailto:a@b.test", " ", "(", ")", ".",
                                   "b@c.example", "10.0.0.1", "::1", "host.org", "ftp://", ","]),
                  max_size=20).map("".join))
def test_links_are_ordered_apart_and_read_back(text):
    spans = find_links(text)
    ends = 0
    for start, end, link in spans:
        assert ends <= start < end <= len(text)
        assert text[start:end] == link.text
        ends = end
