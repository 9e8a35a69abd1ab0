"""The bulk reply reader (read_reply) against dnspython's own message parser: for any reply
dnspython can build, the bulk row is the one ``dns.message.from_wire`` would give; for any
bytes at all it answers or raises, and never takes a reply to another question."""

from __future__ import annotations

import dns.edns
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.rrset
from hypothesis import given, settings
from hypothesis import strategies as st

from netgui.net.dns.bulk import _QueryTemplate, read_reply, row_from_answers, row_from_message

LABEL = st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,20}[a-z0-9])?", fullmatch=True)
NAMES = st.lists(LABEL, min_size=1, max_size=5).map(lambda labels: ".".join(labels) + ".")
RECORDS = st.sampled_from([
    ("A", "192.0.2.{n}"), ("AAAA", "2001:db8::{n}"), ("CNAME", "c{n}.example."),
    ("MX", "{n} mail.example."), ("TXT", '"text {n}" "more"'), ("NS", "ns{n}.example."),
    ("SRV", "0 5 {n} sip.example."), ("CAA", '0 issue "ca{n}.example"'),
])
RCODES = st.sampled_from([0, 1, 2, 3, 4, 5, 16, 23])


@st.composite
def replies(draw):
    qname = draw(NAMES)
    qtype = draw(st.sampled_from(["A", "AAAA", "MX", "TXT", "CNAME"]))
    rcode = draw(RCODES)
    query = dns.message.make_query(qname, qtype, use_edns=0 if rcode > 15 or draw(st.booleans())
                                   else None)
    reply = dns.message.make_response(query)
    reply.set_rcode(rcode)
    # distinct records: an RRset holds no duplicates (RFC 2181 5) and a name one CNAME,
    # which dnspython enforces and the reader would not
    entries = draw(st.lists(st.tuples(st.one_of(st.just(qname), NAMES), RECORDS,
                                      st.integers(1, 250), st.integers(0, 2**31 - 1)),
                            max_size=6, unique_by=lambda e: (e[0], e[1][0], e[1][0] != "CNAME" and e[2])))
    for owner, (kind, data), n, ttl in entries:
        reply.answer.append(dns.rrset.from_text(owner, ttl, "IN", kind, data.format(n=n)))
    if draw(st.booleans()):
        reply.authority.append(dns.rrset.from_text(
            "example.", 300, "IN", "SOA", "ns.example. host.example. 1 2 3 4 5"))
    if reply.edns >= 0 and draw(st.booleans()):
        reply.use_edns(0, options=[dns.edns.NSIDOption(b"ns1")])
        reply.set_rcode(rcode)
    return qname, qtype, reply


@settings(max_examples=300, deadline=None)
@given(replies())
def test_rows_are_the_rows_dnspython_gives(case):
    qname, qtype, reply = case
    wire = reply.to_wire()
    name, rdtype = dns.name.from_text(qname), dns.rdatatype.from_text(qtype)
    rcode, truncated, answers = read_reply(wire, name, rdtype)
    assert read_reply(wire, name, rdtype, _QueryTemplate.question(name, rdtype)) == (
        rcode, truncated, answers)
    assert not truncated
    ours = row_from_answers(0, qname, qtype, rdtype, rcode, answers, 1.0)
    theirs = row_from_message(0, qname, qtype, dns.message.from_wire(wire), 1.0)
    # dnspython gathers the records of an RRset that arrive apart; the reader keeps wire
    # order, so the texts are compared as sets
    assert (ours.status, ours.ttl, ours.message) == (theirs.status, theirs.ttl, theirs.message)
    assert sorted(ours.answers.split("; ")) == sorted(theirs.answers.split("; "))


@settings(max_examples=100, deadline=None)
@given(replies(), st.data())
def test_a_reply_to_another_question_is_not_taken(case, data):
    qname, qtype, reply = case
    other = data.draw(NAMES.filter(lambda n: n != qname))
    assert read_reply(reply.to_wire(), dns.name.from_text(other),
                      dns.rdatatype.from_text(qtype)) is None
    query = dns.message.make_query(qname, qtype)
    assert read_reply(query.to_wire(), dns.name.from_text(qname),
                      dns.rdatatype.from_text(qtype)) is None   # a query, not a reply


def test_truncated_reply_is_reported():
    query = dns.message.make_query("big.test.", "TXT")
    reply = dns.message.make_response(query)
    reply.flags |= dns.flags.TC
    assert read_reply(reply.to_wire(), dns.name.from_text("big.test."),
                      dns.rdatatype.TXT) == (0, True, [])


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=300), st.binary(min_size=12, max_size=12))
def test_any_bytes_answer_or_raise_dnspython_errors(tail, head):
    name = dns.name.from_text("a.test.")
    wire = head[:2] + bytes([head[2] | 0x80]) + head[3:4] + b"\x00\x01" + head[6:] + tail
    try:
        read_reply(wire, name, 1)
    except (dns.exception.DNSException, ValueError, UnicodeError):
        pass
