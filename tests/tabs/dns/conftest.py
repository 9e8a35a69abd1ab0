"""Fixtures for the DNS tab tests: real dnsmasq peers."""

from tests.support.dns_fixtures import bad_server, dnsmasq, dnsmasq2, dot_server, servfail_upstream  # noqa: F401
