"""netgui.net.dns.lookup.query against a real dnsmasq (and misbehaving peers written here)."""

from __future__ import annotations

import threading
import time

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from netgui.net.cancel import CancelToken
from netgui.net.dns.lookup import DnsInputError, parse_name, parse_rdtype, parse_server, query
from netgui.net.errors import Cancelled, CertificateError, ConnectError, NetTimeout, ProtocolError
from tests.support.dnspeers import BIG_TXT_STRINGS


def ask(peer, name, rdtype="A", **kw):
    return query(name, rdtype, peer.address, timeout=kw.pop("timeout", 3), **kw)


@pytest.mark.parametrize("name,rdtype,expected", [
    ("a.test", "A", "10.1.2.3"),
    ("a.test", "AAAA", "fd00::3"),
    ("test", "MX", "10 mail.test."),
    ("test", "NS", "ns1.test."),
    ("t.test", "TXT", '"hello world" "second string"'),
    ("_sip._tcp.test", "SRV", "1 2 5060 sip.test."),
    ("c2.test", "CNAME", "a.test."),
    ("test", "CAA", '0 issue "letsencrypt.org"'),
    ("num.test", "65280", r"\# 4 0102abcd"),
    ("num.test", "TYPE65280", r"\# 4 0102abcd"),
    ("hinfo.test", "hinfo", '"PC" "Linux"'),
])
def test_record_types(dnsmasq, name, rdtype, expected):
    result = ask(dnsmasq, name, rdtype)
    assert result.rcode == "NOERROR"
    assert expected in [r.data for r in result.answer]
    assert result.problem is None
    assert result.size > 12 and result.elapsed > 0
    assert result.server == f"127.0.0.1#{dnsmasq.port}"


def test_soa_and_header_flags(dnsmasq):
    result = ask(dnsmasq, "test", "SOA")
    (soa,) = result.answer
    assert soa.rdtype == "SOA" and soa.data.startswith("ns1.test. hostmaster.test. 2024010101")
    assert soa.target == "ns1.test."
    assert result.flags["QR"] and result.flags["AA"] and result.flags["RD"]
    assert not result.flags["TC"] and not result.flags["RA"]
    assert [r.rdtype for r in result.authority] == ["NS", "NS"]


def test_cname_chain_and_clickable_targets(dnsmasq):
    result = ask(dnsmasq, "c1.test", "A")
    # dnsmasq gives the first hop of a chain; the user follows it by clicking the target
    assert [(r.name, r.rdtype, r.data) for r in result.answer] == [("c1.test.", "CNAME", "c2.test.")]
    step = ask(dnsmasq, result.answer[0].target, "A")
    assert [(r.name, r.rdtype, r.data) for r in step.answer] == [
        ("c2.test.", "CNAME", "a.test."), ("a.test.", "A", "10.1.2.3")]
    assert [r.target for r in step.answer] == ["a.test.", None]
    mx = ask(dnsmasq, "test", "MX")
    assert sorted(r.target for r in mx.answer) == ["mail.test.", "mx2.test."]


def test_reverse_lookup_from_an_address(dnsmasq):
    result = ask(dnsmasq, "10.1.2.3", "A")  # the type is ignored for an address
    assert result.reverse and result.qtype == "PTR"
    assert result.qname == "3.2.1.10.in-addr.arpa."
    assert [r.data for r in result.answer] == ["a.test."]
    assert result.answer[0].target == "a.test."
    assert ask(dnsmasq, "10.1.2.25").answer[0].data == "mail.test."
    six = ask(dnsmasq, "fd00::3", "A")
    assert six.qname.endswith(".0.0.d.f.ip6.arpa.") and six.answer[0].data == "a.test."


def test_truncated_udp_reply_is_retried_over_tcp(dnsmasq):
    lines = []
    result = ask(dnsmasq, "big.test", "TXT", log=lambda d, t: lines.append((d, t)))
    assert result.truncated_retry and result.transport == "TCP"
    data = result.answer[0].data
    assert all(s in data for s in BIG_TXT_STRINGS)
    assert result.size > 1232
    assert any("truncated" in t.lower() for _, t in lines)
    assert "after a truncated UDP reply" in result.summary()
    assert ";; Truncated, retrying in TCP mode." in result.to_text()


def test_tcp_transport(dnsmasq):
    result = ask(dnsmasq, "big.test", "TXT", transport="tcp")
    assert result.transport == "TCP" and not result.truncated_retry
    assert len(result.answer) == 1


def test_dns_over_tls_verified(dnsmasq, dot_server):
    result = query("a.test", "A", dot_server.address, "tls", timeout=5,
                   cafile=str(dot_server.ca_file))
    assert result.transport == "TLS"
    assert [r.data for r in result.answer] == ["10.1.2.3"]
    result = query("a.test", "A", ("127.0.0.1", dot_server.port), "tls", timeout=5,
                   cafile=str(dot_server.ca_file), tls_hostname="dns.test")
    assert result.answer[0].data == "10.1.2.3"


def test_dns_over_tls_untrusted_certificate(dot_server):
    with pytest.raises(CertificateError) as info:
        query("a.test", "A", dot_server.address, "tls", timeout=5)
    assert "not trusted" in str(info.value)
    with pytest.raises(CertificateError):
        query("a.test", "A", dot_server.address, "tls", timeout=5,
              cafile=str(dot_server.ca_file), tls_hostname="other.example")


def test_do_bit_and_rd_flag(dnsmasq):
    result = ask(dnsmasq, "a.test", do=True, rd=False)
    assert result.request.ednsflags & 0x8000
    assert not result.flags["RD"]
    text = result.to_text()
    assert "flags: do;" in text
    assert "flags: qr aa;" in text


def test_dig_style_text(dnsmasq):
    text = ask(dnsmasq, "test", "MX").to_text()
    assert ";; ->>HEADER<<- opcode: QUERY, status: NOERROR" in text
    assert ";; QUESTION SECTION:\n;test.\t\tIN\tMX" in text
    assert ";; ANSWER SECTION:" in text and "IN\tMX\t10 mail.test." in text
    assert ";; AUTHORITY SECTION:" in text
    assert f";; SERVER: 127.0.0.1#{dnsmasq.port} (UDP)" in text
    assert ";; MSG SIZE  rcvd: " in text


def test_nxdomain_and_nodata(dnsmasq):
    result = ask(dnsmasq, "nothing-here.test")
    assert result.rcode == "NXDOMAIN"
    assert result.problem == f"nothing-here.test. does not exist (NXDOMAIN from 127.0.0.1#{dnsmasq.port})"
    assert result.authority[0].rdtype == "SOA"
    nodata = ask(dnsmasq, "t.test", "MX")
    assert nodata.rcode == "NOERROR" and nodata.answer == []
    assert nodata.summary().startswith("No MX records for t.test.")


def test_refused(dnsmasq):
    result = ask(dnsmasq, "outside.example")
    assert result.rcode == "REFUSED"
    assert result.problem == f"127.0.0.1#{dnsmasq.port} refused to answer for outside.example. (REFUSED)"


def test_servfail_from_dnsmasq(dnsmasq2):
    result = ask(dnsmasq2, "fail.example")
    assert result.rcode == "SERVFAIL"
    assert result.problem == f"127.0.0.1#{dnsmasq2.port} failed to answer for fail.example. (SERVFAIL)"


@pytest.mark.parametrize("bad_server", ["garbage"], indirect=True)
def test_garbage_reply(bad_server):
    with pytest.raises(ProtocolError) as info:
        query("a.test", "A", bad_server.address, timeout=3)
    assert str(info.value) == (f"127.0.0.1#{bad_server.port} sent a reply that is not valid DNS "
                               "(34 bytes)")
    assert "\n" not in str(info.value) and info.value.detail


@pytest.mark.parametrize("bad_server", ["cut"], indirect=True)
def test_reply_cut_short(bad_server):
    with pytest.raises(ProtocolError, match="not valid DNS"):
        query("a.test", "A", bad_server.address, timeout=3)


@pytest.mark.parametrize("bad_server", ["tc"], indirect=True)
def test_truncated_reply_and_tcp_retry_fails(bad_server):
    with pytest.raises(ProtocolError) as info:
        query("a.test", "A", bad_server.address, timeout=3)
    assert str(info.value) == (f"The reply from 127.0.0.1#{bad_server.port} was truncated over UDP "
                               f"and the TCP retry failed: Connection refused by 127.0.0.1:{bad_server.port}")


@pytest.mark.parametrize("bad_server", ["servfail"], indirect=True)
def test_servfail_reply(bad_server):
    result = query("a.test", "A", bad_server.address, timeout=3)
    assert result.rcode == "SERVFAIL" and "SERVFAIL" in result.problem


@pytest.mark.parametrize("bad_server", ["wrongid"], indirect=True)
def test_mismatched_replies_then_timeout(bad_server):
    with pytest.raises(NetTimeout) as info:
        query("a.test", "A", bad_server.address, timeout=1)
    assert "did not answer within 1 s" in str(info.value)
    assert "did not match the query" in str(info.value)


@pytest.mark.parametrize("bad_server", ["silent"], indirect=True)
def test_timeout_resends(bad_server):
    start = time.monotonic()
    with pytest.raises(NetTimeout) as info:
        query("a.test", "A", bad_server.address, timeout=2.2)
    assert 2.0 <= time.monotonic() - start < 10  # waited the full timeout, then gave up
    assert str(info.value) == f"127.0.0.1#{bad_server.port} did not answer within 2.2 s"
    assert bad_server.received >= 2  # resent, like dig


@pytest.mark.parametrize("bad_server", ["silent"], indirect=True)
def test_cancel_wakes_a_waiting_query(bad_server):
    token = CancelToken()
    threading.Timer(0.3, token.cancel).start()
    start = time.monotonic()
    with pytest.raises(Cancelled):
        query("a.test", "A", bad_server.address, timeout=10, token=token)
    assert time.monotonic() - start < 5  # woke long before the 10 s timeout


def test_nobody_listening():
    import socket

    from tests.support.peers import free_port
    port = free_port(socket.SOCK_DGRAM)
    with pytest.raises(ConnectError, match="connection refused"):
        query("a.test", "A", ("127.0.0.1", port), timeout=2)
    with pytest.raises(ConnectError, match="refused"):
        query("a.test", "A", ("127.0.0.1", free_port()), "tcp", timeout=2)


@pytest.mark.parametrize("text,message", [
    ("", "Enter a name or an IP address to look up"),
    ("   ", "Enter a name or an IP address to look up"),
    ("a..b", "'a..b' has an empty label (two dots in a row, or a leading dot)"),
    ("x" * 64 + ".test", "is 64 bytes long; a label may have at most 63"),
    (".".join(["y" * 60] * 5), "Name is 306 bytes long; a DNS name may have at most 255"),
    ("has space.test", "A name cannot contain spaces"),
])
def test_invalid_names(text, message):
    with pytest.raises(DnsInputError) as info:
        parse_name(text)
    assert message in str(info.value)
    with pytest.raises(DnsInputError):
        query(text, "A", ("127.0.0.1", 9), timeout=1)


def test_name_at_the_limits():
    assert len(parse_name("x" * 63 + ".test").labels[0]) == 63
    name = ".".join(["y" * 63] * 3 + ["z" * 61])  # 64*3 + 62 + 1 = 255 bytes
    assert len(parse_name(name).to_wire()) == 255
    assert parse_name("bücher.example").to_text() == "xn--bcher-kva.example."


def test_types_and_servers():
    assert parse_rdtype("mx") == 15 and parse_rdtype("65") == 65 and parse_rdtype(28) == 28
    assert parse_rdtype("TYPE65280") == 65280
    for bad, message in [("FOO", "Unknown record type 'FOO'"), ("70000", "out of range"),
                         ("AXFR", "Zone transfers"), ("", "Choose a record type")]:
        with pytest.raises(DnsInputError, match=message):
            parse_rdtype(bad)
    assert parse_server("") is None and parse_server("system") is None
    assert parse_server("1.1.1.1") == ("1.1.1.1", None)
    assert parse_server("1.1.1.1:5353") == ("1.1.1.1", 5353)
    assert parse_server("@9.9.9.9#53") == ("9.9.9.9", 53)
    assert parse_server("[::1]:5300") == ("::1", 5300)
    assert parse_server("::1") == ("::1", None)
    assert parse_server("dns.example") == ("dns.example", None)
    with pytest.raises(DnsInputError, match="port must be a number"):
        parse_server("1.1.1.1:99999")


def test_server_given_as_text(dnsmasq):
    result = query("a.test", "A", f"127.0.0.1:{dnsmasq.port}", timeout=3)
    assert result.answer[0].data == "10.1.2.3"


def test_system_resolver_path_and_fallback(dnsmasq, monkeypatch):
    import netgui.net.dns.lookup as core
    # The system's name servers, in order: the first refuses (nothing on 127.0.0.250), the
    # second is the test dnsmasq. The port is patched because the system path uses 53.
    monkeypatch.setattr(core, "system_nameservers", lambda: ["127.0.0.250", "127.0.0.1"])
    monkeypatch.setattr(core, "DEFAULT_PORTS", {"udp": dnsmasq.port, "tcp": dnsmasq.port,
                                                "tls": 853})
    lines = []
    result = query("a.test", "A", None, timeout=3, log=lambda d, t: lines.append(t))
    assert result.server == f"127.0.0.1#{dnsmasq.port}"
    assert any("trying the next system name server" in line for line in lines)
    assert core.resolve_server("system", "tls") == [("127.0.0.250", 853), ("127.0.0.1", 853)]


def test_no_system_resolver(monkeypatch):
    import dns.resolver

    import netgui.net.dns.lookup as core

    def broken(*a, **kw):
        raise dns.resolver.NoResolverConfiguration("no nameservers")
    monkeypatch.setattr(dns.resolver, "Resolver", broken)
    with pytest.raises(core.NetError, match="No system DNS server is configured"):
        query("a.test", "A", None, timeout=1)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126,
                                                exclude_characters=".\\"),
                        min_size=1, max_size=20), min_size=1, max_size=6), st.booleans())
def test_plain_names_parse_as_dnspython_parses_them(labels, absolute):
    import dns.name
    # dnspython reads a lone "@" as a zone file's origin; typed into a lookup it is the label "@"
    assume(labels != ["@"])
    text = ".".join(labels) + ("." if absolute else "")
    assert parse_name(text).labels == dns.name.from_text(text).labels
