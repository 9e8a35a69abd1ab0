"""Account discovery against real peers: dnsmasq, nginx (autoconfig, ISPDB), Dovecot, aiosmtpd."""

from __future__ import annotations

import threading

import pytest

from netgui.net.cancel import CancelToken
from netgui.net.errors import Cancelled, ProtocolError
from netgui.net.mail.autoconfig import (Discovery, DiscoveryError, InsecureSettings, Resolver,
                                        Server, base_domain, parse_config)
from tests.support.autoconfig_peers import discovery_peers  # noqa: F401 (fixture)
from tests.support.smtp import smtp_ca  # noqa: F401

pytestmark = pytest.mark.timeout(90)


def discovery(peers, **kw) -> Discovery:
    return Discovery(resolver=Resolver("127.0.0.1", peers.dns_port, timeout=3),
                     cafile=peers.ca_file, timeout=3, ispdb_url=peers.ispdb_url, **kw)


class Progress(list):
    def __call__(self, step, text):
        self.append((step, text))


def test_autoconfig_subdomain(discovery_peers):
    progress = Progress()
    found = discovery(discovery_peers).discover("ann@auto.test", progress=progress)
    assert found.source == "autoconfig" and found.verified
    assert found.where == "https://autoconfig.auto.test/mail/config-v1.1.xml"
    assert found.incoming[0] == Server("imap", "imap.auto.test", 993, "tls")
    assert found.outgoing[0] == Server("smtp", "smtp.auto.test", 465, "tls")
    assert progress[0] == ("autoconfig", "Asking autoconfig.auto.test for its settings")
    assert progress[-1][0] == "done"
    profile = found.to_profile("ann@auto.test", "Ann")
    assert profile["incoming_user"] == "ann@auto.test" and profile["smtp_security"] == "tls"


def test_well_known_with_oauth(discovery_peers):
    found = discovery(discovery_peers).discover("bo@wk.test")
    assert found.where == "https://wk.test/.well-known/autoconfig/mail/config-v1.1.xml"
    assert found.incoming[0].auth == "oauth2" and found.incoming[0].security == "starttls"


def test_http_only_autoconfig_is_marked_unverified(discovery_peers):
    found = discovery(discovery_peers).discover("x@httponly.test")
    assert not found.verified
    assert any("unencrypted HTTP" in n for n in found.notes)
    with pytest.raises(DiscoveryError):
        discovery(discovery_peers, allow_http=False,
                  steps=("autoconfig",)).discover("x@httponly.test")


def test_ispdb_by_domain_and_by_mx(discovery_peers):
    d = discovery(discovery_peers)
    found = d.discover("a@isp.test")
    assert found.source == "ispdb" and found.incoming[0].host == "imap.isp.test"
    found = d.discover("a@mx.test")  # MX mx1.hosted.test -> ISPDB entry of hosted.test
    assert found.source == "ispdb" and found.incoming[0].host == "imap.hosted.test"
    assert "mx1.hosted.test" in found.notes[-1]


def test_bundled_provider_by_mx(discovery_peers):
    """A custom domain hosted at Google: the bundled preset, with OAuth2."""
    found = discovery(discovery_peers).discover("me@custom.test")
    assert found.source == "bundled" and found.provider == "gmail"
    assert found.incoming[0].host == "imap.gmail.com" and found.incoming[0].auth == "oauth2"
    assert found.to_profile("me@custom.test")["oauth_provider"] == "gmail"


def test_bundled_provider_by_domain_asks_no_network():
    d = Discovery(resolver=Resolver("127.0.0.1", 9, timeout=0.5), ispdb_url=None,
                  steps=("ispdb",))
    found = d.discover("someone@outlook.com")
    assert found.provider == "microsoft"
    assert found.outgoing[0] == Server("smtp", "smtp.office365.com", 587, "starttls",
                                       "%EMAILADDRESS%", "oauth2")


def test_srv_records(discovery_peers):
    found = discovery(discovery_peers).discover("c@srv.test")
    assert found.source == "srv" and not found.verified
    assert [s.describe() for s in found.incoming] == [
        "IMAP mail.srv.test:993 (TLS)", "IMAP mail.srv.test:143 (STARTTLS)"]
    assert found.outgoing == [Server("smtp", "mail.srv.test", 587, "starttls")]


def test_guessing_probes_tls_first(discovery_peers):
    log = []
    found = discovery(discovery_peers).discover("d@guess.test",
                                                log=lambda d, t: log.append(t))
    assert found.source == "guess"
    assert found.incoming[0] == Server("imap", "imap.guess.test", 993, "tls")
    assert Server("imap", "imap.guess.test", 143, "starttls") in found.incoming
    assert found.outgoing[0] == Server("smtp", "smtp.guess.test", 587, "starttls")
    assert any("probe IMAP imap.guess.test:993 (TLS): works" in line for line in log)


def test_plaintext_config_is_never_chosen_silently(discovery_peers):
    found = discovery(discovery_peers).discover("e@plain.test")
    assert found.insecure
    with pytest.raises(InsecureSettings, match="imap.plain.test offers only unencrypted "
                                               "connections"):
        found.to_profile("e@plain.test")
    profile = found.to_profile("e@plain.test", allow_plaintext=True)
    assert profile["incoming_security"] == "none"


def test_malformed_xml_one_line(discovery_peers):
    with pytest.raises(DiscoveryError) as info:
        discovery(discovery_peers).discover("f@bad.test")
    message = str(info.value)
    assert message == ("No mail settings were found for bad.test (autoconfig.bad.test sent "
                       "settings netgui cannot read (XML error on line 5)); enter the servers "
                       "by hand")
    assert "\n" not in message


def test_entity_expansion_is_refused(discovery_peers):
    with pytest.raises(DiscoveryError, match="entities or references; refused"):
        discovery(discovery_peers, steps=("autoconfig",)).discover("g@bomb.test")


def test_nothing_found(discovery_peers):
    with pytest.raises(DiscoveryError, match="No mail settings were found for nothing.test; "
                                             "enter the servers by hand"):
        discovery(discovery_peers).discover("h@nothing.test")


def test_not_an_address():
    with pytest.raises(DiscoveryError, match="not an e-mail address"):
        Discovery(resolver=Resolver("127.0.0.1", 9)).discover("no-at-sign")


def test_cancel_stops_discovery(discovery_peers):
    token = CancelToken()
    seen = Progress()

    def progress(step, text):
        seen(step, text)
        if step == "guess":
            token.cancel()

    with pytest.raises(Cancelled):
        discovery(discovery_peers).discover("d@guess.test", token=token, progress=progress)


def test_cancel_from_another_thread(discovery_peers):
    token = CancelToken()
    threading.Timer(0.05, token.cancel).start()
    with pytest.raises(Cancelled):
        discovery(discovery_peers).discover("h@nothing.test", token=token)


def test_parse_config_rejects_junk():
    with pytest.raises(ProtocolError, match="without a usable incoming server"):
        parse_config(b'<clientConfig version="1.1"><emailProvider id="x">'
                     b'<incomingServer type="imap"><hostname>a b</hostname><port>99999</port>'
                     b"<socketType>SSL</socketType></incomingServer></emailProvider>"
                     b"</clientConfig>", "a@x.test", "x.test")
    with pytest.raises(ProtocolError, match="not a config-v1.1 document"):
        parse_config(b"<html><body>hello</body></html>", "a@x.test", "x.test")


def test_base_domain():
    assert base_domain("aspmx.l.google.com") == "google.com"
    assert base_domain("mx1.example.co.uk") == "example.co.uk"


# -- the sign-in server in an autoconfig file ----------------------------------------------------

def test_oauth_block_names_the_sign_in_server(discovery_peers):
    """oauth.test's own config file says: OAuth2, and which server signs its users in."""
    found = discovery(discovery_peers).discover("user7@oauth.test")
    server = discovery_peers.oauth
    assert found.source == "autoconfig" and found.verified and found.uses_oauth
    assert found.provider == f"127.0.0.1:{server.port}"
    entry = found.custom_provider
    assert entry["oauth"]["authorization_endpoint"] == server.endpoints()["authorization_endpoint"]
    assert entry["oauth"]["default_client_id"] == "netgui-test" and entry["custom"]
    profile = found.to_profile("user7@oauth.test")
    assert profile["incoming_auth"] == profile["smtp_auth_method"] == "oauth2"
    assert profile["incoming_user"] == "user7" and profile["oauth_provider"] == found.provider


def test_oauth_block_over_plain_http_is_ignored(discovery_peers):
    """A sign-in server named in settings fetched without encryption could be anyone's."""
    found = discovery(discovery_peers).discover("user7@oauthhttp.test")
    assert not found.verified and found.oauth is None and found.provider is None
    assert found.custom_provider is None
    assert any("sign-in server in the unencrypted settings was ignored" in n for n in found.notes)


def test_preset_found_by_server_name():
    """Settings that name imap.gmail.com sign in with the Gmail preset (as Thunderbird does)."""
    data = (b'<clientConfig version="1.1"><emailProvider id="corp.test"><domain>corp.test</domain>'
            b'<incomingServer type="imap"><hostname>imap.gmail.com</hostname><port>993</port>'
            b"<socketType>SSL</socketType><authentication>OAuth2</authentication>"
            b"</incomingServer></emailProvider></clientConfig>")
    found = parse_config(data, "a@corp.test", "corp.test")
    Discovery(resolver=Resolver("127.0.0.1", 9, timeout=0.5))._sign_in_provider(found)
    assert found.provider == "gmail" and found.custom_provider is None


# -- fuzzing the config reader -----------------------------------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_TAGS = ["clientConfig", "emailProvider", "incomingServer", "outgoingServer", "hostname", "port",
         "socketType", "authentication", "username", "domain", "oAuth2", "authURL", "tokenURL"]


@st.composite
def _xml(draw, depth=0):
    tag = draw(st.sampled_from(_TAGS))
    attrs = draw(st.sampled_from(["", ' type="imap"', ' type="smtp"', ' type="pop3"', ' version="1.1"']))
    if depth > 3 or draw(st.booleans()):
        text = draw(st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="<&"),
                            max_size=20))
        return f"<{tag}{attrs}>{text}</{tag}>"
    children = draw(st.lists(_xml(depth + 1), max_size=4))
    return f"<{tag}{attrs}>{''.join(children)}</{tag}>"


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(_xml(), st.binary(max_size=300)))
def test_parse_config_fuzz_raises_only_protocol_errors(doc):
    """Any document: a Settings with sane servers, or one ProtocolError line."""
    data = doc.encode() if isinstance(doc, str) else doc
    try:
        found = parse_config(data, "a@x.test", "x.test")
    except ProtocolError as exc:
        assert "\n" not in str(exc)
        return
    for server in found.incoming + found.outgoing:
        assert 0 < server.port < 65536 and server.security in ("tls", "starttls", "none")
        assert server.host and not any(c in server.host for c in " /\\@\r\n")
