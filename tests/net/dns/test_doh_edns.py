"""DNS over HTTPS, EDNS options, extended DNS errors and JSON, against real servers:
dnsdist (DoH, HTTP/1.1 + HTTP/2) before dnsmasq, and unbound (DoH over HTTP/2, EDE, NSID)
validating the private hierarchy."""

from __future__ import annotations

import json

import pytest

from netgui.net.cancel import CancelToken
from netgui.net.dns import DnsInputError, EdnsOptions, parse_server, query
from netgui.net.dns.bulk import bulk_resolve
from netgui.net.dns.comparison import compare
from netgui.net.dns.doh import DohClient, parse_url
from netgui.net.dns.edns import EdnsInputError
from netgui.net.dns.jsonout import to_json
from netgui.net.errors import Cancelled, CertificateError, ConnectError, ProtocolError


@pytest.mark.parametrize("method", ["POST", "GET"])
@pytest.mark.parametrize("version,expected", [("auto", "HTTP/2"), ("2", "HTTP/2"),
                                              ("1.1", "HTTP/1.1")])
def test_doh_methods_and_versions(doh_server, method, version, expected):
    result = query("a.test", "A", doh_server.ip_url, timeout=5, cafile=str(doh_server.ca_file),
                   doh_method=method, http_version=version)
    assert result.transport == "HTTPS" and result.http_version == expected
    assert [r.data for r in result.answer] == ["10.1.2.3"]
    assert result.server == doh_server.ip_url
    assert f"(HTTPS, {expected})" in result.to_text()
    assert result.size > 12


def test_doh_host_name_verified_with_fixed_address(doh_server):
    # the URL names doh.test (in the certificate); connect to 127.0.0.1 like curl --resolve
    result = query("test", "MX", doh_server.url, timeout=5, cafile=str(doh_server.ca_file),
                   tls_hostname="127.0.0.1")
    assert sorted(r.data for r in result.answer) == ["10 mail.test.", "20 mx2.test."]


def test_doh_untrusted_and_wrong_name(doh_server):
    with pytest.raises(CertificateError, match="not trusted"):
        query("a.test", "A", doh_server.ip_url, timeout=5)
    wrong = doh_server.ip_url.replace("127.0.0.1", "localhost")
    result = query("a.test", "A", wrong, timeout=5, cafile=str(doh_server.ca_file))
    assert result.answer  # localhost is in the certificate too
    other = f"https://other.example:{doh_server.port}/dns-query"
    with pytest.raises(CertificateError):
        query("a.test", "A", other, timeout=5, cafile=str(doh_server.ca_file),
              tls_hostname="127.0.0.1")


def test_doh_wrong_path_is_one_line(doh_server):
    with pytest.raises(ProtocolError) as info:
        query("a.test", "A", doh_server.ip_url.replace("/dns-query", "/nothing"), timeout=5,
              cafile=str(doh_server.ca_file))
    assert "answered HTTP 404" in str(info.value) and "\n" not in str(info.value)


def test_doh_refused_port(doh_server):
    from tests.support.peers import free_port
    with pytest.raises(ConnectError, match="refused"):
        query("a.test", "A", f"https://127.0.0.1:{free_port()}/dns-query", timeout=3)


def test_doh_url_parsing():
    assert parse_url("https://dns.example") == ("https://dns.example/dns-query", "dns.example",
                                                443, "/dns-query")
    assert parse_url("https://[::1]:8443/q")[0] == "https://[::1]:8443/q"
    assert parse_server("https://dns.example/dns-query") == ("https://dns.example/dns-query", None)
    for bad in ("http://dns.example/", "https://dns.example/dns-query?dns=x", "https://:5/"):
        with pytest.raises(DnsInputError):
            parse_url(bad)
    with pytest.raises(DnsInputError, match="URL"):
        query("a.test", "A", ("127.0.0.1", 443), "https")


def test_doh_bulk_shares_one_connection(doh_server):
    pairs = [(f"h{i}.test", "A") for i in range(150)] + [("a.test", "A"), ("test", "MX")]
    logs = []
    rows = bulk_resolve(pairs, doh_server.ip_url, "https", timeout=5, concurrency=16,
                        cafile=str(doh_server.ca_file), log=lambda d, t: logs.append(t))
    by = {(r.name, r.rdtype): r for r in rows}
    assert by[("a.test", "A")].answers == "10.1.2.3"
    odd = [by[(f"h{i}.test", "A")] for i in range(150) if by[(f"h{i}.test", "A")].status != "NXDOMAIN"]
    assert not odd, odd[:3]
    assert sum("Connecting to" in line for line in logs) <= 8   # one per thread, not per query


def test_doh_in_compare(dnsmasq, doh_server):
    result = compare("a.test", "A", [dnsmasq.address, doh_server.ip_url], cafile=str(doh_server.ca_file),
                     timeout=5)
    assert not result.differs, result.differences()
    assert [r.transport for r in result.results] == ["UDP", "HTTPS"]


def test_doh_cancel_is_prompt(doh_server):
    token = CancelToken()
    client = DohClient(doh_server.ip_url, cafile=str(doh_server.ca_file), token=token)
    token.cancel()
    with pytest.raises(Cancelled):
        query("a.test", "A", doh_server.ip_url, timeout=5, doh_client=client, token=token)
    client.close()


def test_unbound_doh_http2_only(validating_resolver):
    result = query("www.secure.test", "A", validating_resolver.url, timeout=5,
                   cafile=str(validating_resolver.ca_file), tls_hostname=validating_resolver.host,
                   do=True)
    assert result.http_version == "HTTP/2" and result.flags["AD"]
    with pytest.raises(ProtocolError):
        query("www.secure.test", "A", validating_resolver.url, timeout=5, http_version="1.1",
              cafile=str(validating_resolver.ca_file), tls_hostname=validating_resolver.host)


def test_extended_dns_error_with_the_status(validating_resolver):
    result = query("www.expired.test", "A", validating_resolver.address, timeout=5, do=True)
    assert result.rcode == "SERVFAIL"
    (ede,) = result.extended_errors
    assert ede["code"] == 7 and ede["name"] == "Signature Expired"
    assert "signature expired" in ede["text"]
    assert result.summary().startswith(
        f"{validating_resolver.host}#{validating_resolver.port} failed to answer for "
        "www.expired.test. (SERVFAIL): Signature Expired (7): ")
    assert "; EDE: 7 (Signature Expired): (" in result.to_text()
    bogus = query("www.bogus.test", "A", validating_resolver.address, timeout=5)
    assert bogus.extended_errors[0]["code"] in (6, 10)   # DNSSEC Bogus / RRSIGs Missing…
    fine = query("www.bogus.test", "A", validating_resolver.address, timeout=5, cd=True)
    assert fine.rcode == "NOERROR" and fine.answer[0].data == "192.0.2.66"


def test_nsid_cookie_subnet_padding(validating_resolver, dns_hierarchy):
    opts = EdnsOptions(nsid=True, cookie=True, ecs="192.0.2.0/24", padding=128, payload=1400)
    result = query("www.secure.test", "A", validating_resolver.address, timeout=5, edns=opts)
    assert result.request.payload == 1400
    assert len(result.request.to_wire()) % 128 == 0
    kinds = {o["option"]: o for o in result.edns_options}
    assert kinds["NSID"]["ascii"] == "resolver"
    assert '; NSID: 72 65 73 6f 6c 76 65 72 ("resolver")' in result.to_text()
    # NSD answers NSID too (set per server in the fixture: "leaf")
    leaf = query("www.secure.test", "A", dns_hierarchy.servers["secure.test."], rd=False,
                 timeout=5, edns=EdnsOptions(nsid=True))
    assert {o["option"]: o for o in leaf.edns_options}["NSID"]["ascii"] == "leaf"


def test_edns_input_errors():
    for bad in (dict(ecs="300.1.1.1/8"), dict(cookie="xyz"), dict(cookie="0102"),
                dict(payload=100), dict(padding=-1)):
        with pytest.raises(EdnsInputError):
            EdnsOptions(**bad).check()
    assert EdnsOptions(cookie="0102030405060708").options()[0].client == bytes(range(1, 9))


def test_json_of_a_lookup(validating_resolver):
    result = query("www.expired.test", "A", validating_resolver.address, timeout=5,
                   edns=EdnsOptions(nsid=True))
    data = json.loads(to_json(result))
    assert data["status"] == "SERVFAIL" and data["extended_errors"][0]["code"] == 7
    assert data["message"]["edns"]["options"][0]["option"] in ("NSID", "EDE")
    assert data["query"] == {"name": "www.expired.test.", "type": "A", "reverse": False}
    ok = json.loads(to_json(query("mail.secure.test", "MX", validating_resolver.address, timeout=5)))
    assert ok["message"]["answer"][0] == {"name": "mail.secure.test.", "ttl": ok["message"]["answer"][0]["ttl"],
                                         "class": "IN", "type": "MX", "data": "10 www.secure.test.",
                                         "target": "www.secure.test."}
