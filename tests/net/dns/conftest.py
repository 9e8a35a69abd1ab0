"""Fixtures for the DNS core tests: real peers started once per session."""

from tests.support.dns_fixtures import *  # noqa: F401,F403 - the fixtures
