"""Bulk resolution and server comparison against real dnsmasq peers."""

from __future__ import annotations

import csv
import io
import itertools
import threading

import pytest

from netgui.net.cancel import CancelToken
from netgui.net.dns.bulk import bulk_resolve, parse_bulk_text, rows_to_csv
from netgui.net.dns.comparison import compare
from netgui.net.dns.edns import EdnsOptions
from netgui.net.dns.lookup import DnsInputError
from netgui.net.errors import Cancelled, ConnectError


def test_parse_bulk_text():
    text = """
    # a comment
    a.test
    test MX NS   ; trailing comment
    t.test,c2.test
    x.test IN TXT +short
    """
    assert parse_bulk_text(text, ["A", "AAAA"]) == [
        ("a.test", "A"), ("a.test", "AAAA"), ("test", "MX"), ("test", "NS"),
        ("t.test", "A"), ("t.test", "AAAA"), ("c2.test", "A"), ("c2.test", "AAAA"),
        ("x.test", "TXT")]


def test_bulk_many_names_streamed(dnsmasq):
    pairs = [(f"h{i}.test", "A") for i in range(300)]
    pairs += [("a.test", "A"), ("a.test", "AAAA"), ("test", "MX"), ("big.test", "TXT"),
              ("10.1.2.3", "PTR"), ("bad..name", "A"), ("outside.example", "A"), ("x", "BOGUS")]
    batches, progress = [], []
    rows = bulk_resolve(pairs, dnsmasq.address, timeout=3, concurrency=50,
                        on_rows=batches.append, progress=lambda d, t: progress.append((d, t)),
                        batch_seconds=0.0)
    assert len(rows) == len(pairs) == sum(len(b) for b in batches)
    assert [r.index for r in rows] == list(range(len(pairs)))
    assert len(batches) > 1 and progress[-1] == (len(pairs), len(pairs))
    by = {(r.name, r.rdtype): r for r in rows}
    assert all(by[(f"h{i}.test", "A")].status == "NXDOMAIN" for i in range(300))
    assert by[("a.test", "A")].answers == "10.1.2.3" and by[("a.test", "A")].ttl == 600
    assert by[("a.test", "AAAA")].answers == "fd00::3"
    assert sorted(by[("test", "MX")].answers.split("; ")) == ["10 mail.test.", "20 mx2.test."]
    big = by[("big.test", "TXT")]
    assert big.status == "NOERROR" and "chunk07-" in big.answers
    assert "truncated over UDP, TCP used" in big.message
    assert by[("10.1.2.3", "PTR")].answers == "a.test."
    assert by[("bad..name", "A")].status == "invalid" and "empty label" in by[("bad..name", "A")].message
    assert by[("outside.example", "A")].status == "REFUSED"
    assert by[("x", "BOGUS")].status == "invalid"
    assert all(r.ms is not None and r.ms >= 0 for r in rows if r.status not in ("invalid",))


@pytest.mark.parametrize("transport", ["tcp", "tls"])
def test_bulk_over_streams(dnsmasq, dot_server, transport):
    server = dnsmasq.address if transport == "tcp" else dot_server.address
    pairs = [("a.test", "A"), ("test", "MX"), ("nope.test", "A"), ("big.test", "TXT")] * 5
    rows = bulk_resolve(pairs, server, transport, timeout=5, concurrency=4,
                        cafile=str(dot_server.ca_file))
    assert [r.status for r in rows[:4]] == ["NOERROR", "NOERROR", "NXDOMAIN", "NOERROR"]
    assert rows[-4].answers == "10.1.2.3"


def test_bulk_csv_export(dnsmasq):
    rows = bulk_resolve([("a.test", "A"), ("t.test", "TXT")], dnsmasq.address, timeout=3)
    parsed = list(csv.reader(io.StringIO(rows_to_csv(rows))))
    assert parsed[0] == ["name", "type", "status", "answers", "ttl", "ms", "message"]
    assert parsed[1][:5] == ["a.test", "A", "NOERROR", "10.1.2.3", "600"]
    assert parsed[2][3] == '"hello world" "second string"'


@pytest.mark.parametrize("bad_server", ["garbage"], indirect=True)
def test_bulk_against_garbage(bad_server):
    rows = bulk_resolve([("a.test", "A"), ("b.test", "A")], bad_server.address, timeout=1)
    assert [r.status for r in rows] == ["timeout", "timeout"]
    assert "sent replies that are not DNS" in rows[0].message


@pytest.mark.parametrize("bad_server", ["silent"], indirect=True)
def test_bulk_cancel(bad_server):
    token = CancelToken()
    threading.Timer(0.3, token.cancel).start()
    with pytest.raises(Cancelled):
        bulk_resolve([(f"n{i}.test", "A") for i in range(50)], bad_server.address, timeout=30,
                     token=token)


def test_bulk_nobody_listening():
    import socket

    from tests.support.peers import free_port
    with pytest.raises(ConnectError, match="connection refused"):
        bulk_resolve([("a.test", "A")], ("127.0.0.1", free_port(socket.SOCK_DGRAM)), timeout=2)


def test_compare_two_servers(dnsmasq, dnsmasq2):
    result = compare("a.test", "A", [dnsmasq.address, dnsmasq2.address], timeout=3)
    assert result.servers == [f"127.0.0.1#{dnsmasq.port}", f"127.0.0.1#{dnsmasq2.port}"]
    assert result.differs and not result.statuses_differ
    rows = {r.data: r.ttls for r in result.rows}
    assert rows["10.1.2.3"][0] == 600 and rows["10.1.2.3"][1] is None
    assert rows["10.1.2.4"][0] is None and rows["10.1.2.4"][1] is not None
    lines = result.differences()
    assert any(line.startswith("a.test. A 10.1.2.3: only at 127.0.0.1#") for line in lines)
    assert result.summary() == "2 differences between the servers"


def test_compare_agreeing_and_status_differences(dnsmasq, dnsmasq2):
    same = compare("t.test", "TXT", [dnsmasq.address, dnsmasq2.address], timeout=3)
    assert not same.differs and same.summary() == "All 2 servers agree"
    status = compare("fail.example", "A", [dnsmasq.address, dnsmasq2.address], timeout=3)
    assert status.statuses_differ
    assert status.differences()[0] == (f"Status differs: REFUSED at 127.0.0.1#{dnsmasq.port}, "
                                       f"SERVFAIL at 127.0.0.1#{dnsmasq2.port}")


@pytest.mark.parametrize("bad_server", ["garbage"], indirect=True)
def test_compare_with_a_failing_server(dnsmasq, bad_server):
    result = compare("a.test", "A", [dnsmasq.address, bad_server.address], timeout=2)
    assert result.results[1] is None and "not valid DNS" in result.errors[1]
    assert result.status(1) == "error" and result.differs


def test_compare_needs_two_servers(dnsmasq):
    with pytest.raises(DnsInputError, match="at least two"):
        compare("a.test", "A", [dnsmasq.address])


def test_query_template_makes_the_bytes_make_request_makes():
    import random

    import dns.name

    from netgui.net.dns.bulk import _QueryTemplate
    from netgui.net.dns.edns import EdnsOptions
    from netgui.net.dns.lookup import make_request
    for rd, do, cd in itertools.product((True, False), repeat=3):
        for edns in (None, EdnsOptions(nsid=True, ecs="192.0.2.0/24", payload=4096)):
            template = _QueryTemplate(rd, do, cd, edns)
            for text in ("a.test", "x" * 60 + ".example.org", "."):
                name, qid = dns.name.from_text(text), random.getrandbits(16)
                for qtype in (1, 28, 65280):
                    request = make_request(name, qtype, rd=rd, do=do, cd=cd, options=edns)
                    request.id = qid
                    assert template.wire(qid, template.question(name, qtype)) == request.to_wire()


def test_bulk_flags_and_edns_reach_the_server(validating_resolver):
    # CD through a validating resolver: the bogus record comes back instead of SERVFAIL
    pairs = [("www.bogus.test", "A"), ("www.secure.test", "A")]
    strict = bulk_resolve(pairs, validating_resolver.address, timeout=3)
    assert [r.status for r in strict] == ["SERVFAIL", "NOERROR"]
    lenient = bulk_resolve(pairs, validating_resolver.address, timeout=3, cd=True,
                           edns=EdnsOptions(nsid=True, padding=128))
    assert [r.answers for r in lenient] == ["192.0.2.66", "192.0.2.1"]
    tcp = bulk_resolve(pairs, validating_resolver.address, "tcp", timeout=3, cd=True)
    assert [r.answers for r in tcp] == ["192.0.2.66", "192.0.2.1"]
