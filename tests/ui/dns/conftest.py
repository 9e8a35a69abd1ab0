"""Fixtures for the DNS tab tests: real dnsmasq peers."""

from tests.support.dns_fixtures import *  # noqa: F401,F403
