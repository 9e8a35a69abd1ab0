"""Fixtures for the DNS tab tests: real dnsmasq, dnsdist, NSD and unbound peers."""

from tests.support.dns_fixtures import *  # noqa: F401,F403 - the fixtures
