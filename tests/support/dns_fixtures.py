"""pytest fixtures shared by the DNS core and DNS tab tests."""

from __future__ import annotations

import pytest

from tests.support.dnspeers import BadDnsServer, Dnsmasq, DotFront, primary_records, secondary_records


@pytest.fixture(scope="session")
def dnsmasq(tmp_path_factory):
    """The main test server: zone ``test`` with records of every type."""
    peer = Dnsmasq(primary_records(), tmp_path_factory.mktemp("dnsmasq-primary"))
    yield peer
    peer.stop()


@pytest.fixture(scope="session")
def servfail_upstream():
    """An upstream that answers SERVFAIL to everything, for dnsmasq2 to forward to."""
    server = BadDnsServer("servfail")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def dnsmasq2(tmp_path_factory, servfail_upstream):
    """A second server whose records differ from the first; it forwards ``fail.example``
    to an upstream that fails, so it answers SERVFAIL for that name."""
    options = secondary_records() + [f"--server=/fail.example/127.0.0.1#{servfail_upstream.port}"]
    peer = Dnsmasq(options, tmp_path_factory.mktemp("dnsmasq-secondary"))
    yield peer
    peer.stop()


@pytest.fixture(scope="session")
def dot_server(dnsmasq, tmp_path_factory):
    """DNS over TLS (socat with a trustme certificate) in front of ``dnsmasq``."""
    front = DotFront(dnsmasq.port, tmp_path_factory.mktemp("dot"))
    yield front
    front.stop()


@pytest.fixture
def bad_server(request):
    """A misbehaving UDP server; parametrize indirectly with its mode."""
    server = BadDnsServer(getattr(request, "param", "garbage"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def doh_server(dnsmasq, tmp_path_factory):
    """DNS over HTTPS (dnsdist: HTTP/1.1 and HTTP/2, trustme certificate) in front of ``dnsmasq``."""
    from tests.support.doh import DohFront
    front = DohFront(dnsmasq.address, tmp_path_factory.mktemp("doh"))
    yield front
    front.stop()


@pytest.fixture(scope="session")
def dns_hierarchy(tmp_path_factory):
    """Root, the TLDs test. and alt., and the leaf zones of tests/support/dnshierarchy.py
    (secure, insecure, bogus, expired, badds, unsupported, glueless) served by NSD on
    127.0.0.2-4, signed at test time; hints file and trust anchor beside them."""
    from tests.support.dnshierarchy import LEAF_ADDR, ROOT_ADDR, TLD_ADDR, DnsHierarchy, shared_free_port
    hierarchy = DnsHierarchy(tmp_path_factory.mktemp("hierarchy"),
                             shared_free_port([ROOT_ADDR, TLD_ADDR, LEAF_ADDR]))
    try:
        hierarchy.build()
        yield hierarchy
    finally:
        hierarchy.stop()


@pytest.fixture(scope="session")
def validating_resolver(dns_hierarchy, tmp_path_factory):
    """unbound validating for the hierarchy (EDE on, NSID "resolver", DoH over HTTP/2)."""
    from tests.support.dnshierarchy import ValidatingResolver
    resolver = ValidatingResolver(dns_hierarchy, tmp_path_factory.mktemp("unbound"))
    yield resolver
    resolver.stop()


@pytest.fixture(scope="session")
def plain_resolver(dns_hierarchy, tmp_path_factory):
    """unbound recursing into the hierarchy without validating (what delv needs)."""
    from tests.support.dnshierarchy import ValidatingResolver
    resolver = ValidatingResolver(dns_hierarchy, tmp_path_factory.mktemp("unbound-plain"),
                                  validate=False)
    yield resolver
    resolver.stop()


__all__ = ["dnsmasq", "servfail_upstream", "dnsmasq2", "dot_server", "bad_server", "doh_server",
           "dns_hierarchy", "validating_resolver", "plain_resolver"]
