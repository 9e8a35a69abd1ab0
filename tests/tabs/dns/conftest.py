"""Fixtures for the DNS tab tests: real dnsmasq, dnsdist, NSD and unbound peers."""

from tests.support.dns_fixtures import (  # noqa: F401
    bad_server,
    dns_hierarchy,
    dnsmasq,
    dnsmasq2,
    doh_server,
    dot_server,
    plain_resolver,
    servfail_upstream,
    validating_resolver,
)
