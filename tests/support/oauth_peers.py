"""Fixtures for OAuth2 tests: the test authorization server, a Dovecot that validates bearer
tokens against it (oauth2 passdb, introspection), and an aiosmtpd that does the same."""

from __future__ import annotations

import atexit

import pytest

from tests.support.dovecot import Dovecot, start_dovecot, stop_dovecot
from tests.support.oauth_server import OAuthServer
from tests.support.smtp import SmtpPeer

_server: OAuthServer | None = None
_dovecot: Dovecot | None = None


def shared_oauth_server() -> OAuthServer:
    """One authorization server per test process (tests that stop it make their own)."""
    global _server
    if _server is None:
        _server = OAuthServer().start()
        atexit.register(_server.stop)
    return _server


def shared_oauth_dovecot() -> Dovecot:
    global _dovecot
    if _dovecot is None or _dovecot.proc.poll() is not None:
        _dovecot = start_dovecot(
            oauth_introspection_url=shared_oauth_server().introspection_url())
        atexit.register(stop_dovecot, _dovecot)
    return _dovecot


@pytest.fixture
def oauth_server() -> OAuthServer:
    return shared_oauth_server()


@pytest.fixture
def oauth_dovecot(oauth_server) -> Dovecot:
    """A Dovecot offering XOAUTH2 and OAUTHBEARER, checking tokens at ``oauth_server``."""
    return shared_oauth_dovecot()


@pytest.fixture
def oauth_smtp(smtp_ca, oauth_server):
    """aiosmtpd with STARTTLS whose XOAUTH2/OAUTHBEARER check tokens at ``oauth_server``."""
    peer = SmtpPeer(smtp_ca, "starttls", introspection_url=oauth_server.introspection_url())
    peer.start()
    yield peer
    peer.stop()
