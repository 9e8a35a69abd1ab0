"""Fixtures for the DNS core tests: real dnsmasq peers started once per session."""

from tests.support.dns_fixtures import bad_server, dnsmasq, dnsmasq2, dot_server, servfail_upstream  # noqa: F401
