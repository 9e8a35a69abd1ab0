"""The connection doctor against real peers that work, and against ones that fail at each
layer: no DNS, refused, TLS expired (and a wrong name, an unknown CA, a revoked staple), a
wrong greeting; the greetings of every protocol; an e-mail address's MX, SRV and autoconfig."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

import pytest
import trustme

from netgui.net.doctor import FAIL, INFO, OK, SKIP, WARN, DoctorInputError, diagnose, parse_target
from netgui.servers.chat import ChatServer
from netgui.servers.getfile import GetfileServer
from tests.support.dns_fixtures import dns_hierarchy, dnsmasq, dnsmasq2, plain_resolver, servfail_upstream  # noqa: F401
from tests.support.doctor_peers import AutoconfigServer, Sshd, StaplingImapsServer
from tests.support.dovecot import dovecot  # noqa: F401
from tests.support.dnspeers import Dnsmasq
from tests.support.ftpd import FtpServer
from tests.support.getfile_original import OriginalServer
from tests.support.httpapp import http_app  # noqa: F401
from tests.support.ngircd import Ngircd
from tests.support.smtp import SmtpPeer, smtp_ca  # noqa: F401

T = 5.0


def steps(report, layer=None):
    return [s for s in report.steps if layer is None or s.layer == layer]


def only(report, layer):
    found = steps(report, layer)
    assert len(found) == 1, report.to_text()
    return found[0]


def refused_port() -> int:
    sock = socket.create_server(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


@pytest.fixture(scope="module")
def sshd(tmp_path_factory):
    server = Sshd(tmp_path_factory.mktemp("sshd"))
    yield server
    server.stop()


# -- reading targets ----------------------------------------------------------------------------

@pytest.mark.parametrize("text, kind, host, port, scheme", [
    ("example.org", "host", "example.org", 443, "https"),
    ("example.org:21", "host", "example.org", 21, "ftp"),
    ("[2001:db8::1]:993", "host", "2001:db8::1", 993, "imaps"),
    ("127.0.0.1:4711", "host", "127.0.0.1", 4711, "tcp"),
    ("imaps://Mail.Example.org", "url", "mail.example.org", 993, "imaps"),
    ("https://example.org:8443/path?q", "url", "example.org", 8443, "https"),
    ("sftp://files.example", "url", "files.example", 22, "sftp"),
    ("ircs://irc.example/#chan", "url", "irc.example", 6697, "ircs"),
    ("getfile://127.0.0.1:50001", "url", "127.0.0.1", 50001, "getfile"),
    ("alice@example.org", "email", "example.org", 0, ""),
    ("mailto:bob@example.org?subject=hi", "email", "example.org", 0, ""),
])
def test_targets_are_read(text, kind, host, port, scheme):
    target = parse_target(text)
    assert (target.kind, target.host, target.port, target.scheme) == (kind, host, port, scheme)


@pytest.mark.parametrize("text, says", [
    ("", "Type a host"), ("gopher://x", "does not know gopher://"), ("host:99999", "port"),
    ("bad host name", "not a valid host name"), ("https://:80", "No host"),
])
def test_bad_targets_say_why(text, says):
    with pytest.raises(DoctorInputError, match=says):
        parse_target(text)


# -- failing at each layer -------------------------------------------------------------------------

def test_no_dns_stops_at_resolution_and_names_it(dnsmasq):  # noqa: F811
    report = diagnose("imaps://nothing-here.test", resolver=f"127.0.0.1:{dnsmasq.port}", timeout=T)
    step = only(report, "resolve")
    assert step.status == FAIL and "NXDOMAIN" in step.summary
    assert [s.status for s in report.steps if s.layer in ("tcp", "tls", "greeting")] == [SKIP] * 3
    assert report.verdict.status == FAIL and report.verdict.step == "Name resolution"
    assert "spelling" in report.verdict.advice


def test_system_resolver_failure_is_a_resolution_failure():
    report = diagnose("https://no-such-host.invalid", timeout=T)
    assert only(report, "resolve").status == FAIL
    assert report.verdict.step == "Name resolution"


def test_refused_names_the_port():
    port = refused_port()
    report = diagnose(f"imap://127.0.0.1:{port}", timeout=T)
    tcp = only(report, "tcp")
    assert tcp.status == FAIL and "refused" in tcp.summary
    assert report.verdict.status == FAIL and report.verdict.step.startswith("TCP to 127.0.0.1")
    assert "Nothing listens" in report.verdict.advice
    assert only(report, "greeting").status == SKIP


def test_expired_certificate_fails_at_tls_with_the_date(http_app):  # noqa: F811
    report = diagnose(f"https://localhost:{http_app.port('expired')}/", cafile=http_app.ca_file, timeout=T)
    tls = only(report, "tls")
    assert tls.status == FAIL and "expired" in tls.summary.lower()
    assert any("EXPIRED" in d for d in tls.details), tls.details
    assert report.verdict.step == "TLS" and "renew" in report.verdict.advice
    assert only(report, "greeting").status == SKIP


def test_wrong_name_and_unknown_authority(http_app):  # noqa: F811
    wrong = diagnose(f"https://localhost:{http_app.port('wrong_host')}/", cafile=http_app.ca_file, timeout=T)
    assert only(wrong, "tls").status == FAIL
    assert "other.example" in " ".join(only(wrong, "tls").details)
    assert "not for localhost" in wrong.verdict.advice
    stranger = diagnose(f"https://localhost:{http_app.port('untrusted')}/", cafile=http_app.ca_file, timeout=T)
    assert only(stranger, "tls").status == FAIL and "authority" in stranger.verdict.advice


def test_wrong_greeting_says_what_the_port_speaks(sshd):
    report = diagnose(f"imap://127.0.0.1:{sshd.port}", timeout=T)
    greeting = only(report, "greeting")
    assert greeting.status == FAIL and "speaks SSH, not IMAP" in greeting.summary
    assert report.verdict.step == "IMAP greeting" and "does not speak IMAP" in report.verdict.advice


def test_smtp_asked_of_an_imap_server(dovecot):  # noqa: F811
    report = diagnose(f"smtp://127.0.0.1:{dovecot.imap_port}", timeout=T)
    assert "IMAP" in only(report, "greeting").summary and report.verdict.status == FAIL


def test_tls_asked_of_a_plain_port_says_so(dovecot):  # noqa: F811
    report = diagnose(f"imaps://127.0.0.1:{dovecot.imap_port}", cafile=dovecot.ca_file, timeout=T)
    tls = only(report, "tls")
    assert tls.status == FAIL and "plain text: IMAP" in tls.summary
    assert "plain IMAP" in report.verdict.advice


# -- every protocol's greeting against a real server -----------------------------------------------

def test_https_head_with_chain_and_no_staple(http_app):  # noqa: F811
    report = diagnose(f"https://localhost:{http_app.port('tls')}/", cafile=http_app.ca_file, timeout=T)
    assert report.verdict.status == OK, report.to_text()
    tls = only(report, "tls")
    assert tls.status == OK and tls.summary.startswith("TLSv1.")
    assert any(d.startswith("names: localhost") for d in tls.details)
    assert any(d.startswith("chain 0:") for d in tls.details)
    assert "OCSP: no response stapled" in tls.details
    assert only(report, "greeting").summary.startswith("HTTP/1.")


def test_plain_http(http_app):  # noqa: F811
    report = diagnose(http_app.url("/"), timeout=T)
    assert report.verdict.status == OK and not steps(report, "tls")


def test_imap_starttls_and_imaps(dovecot):  # noqa: F811
    report = diagnose(f"imap://127.0.0.1:{dovecot.imap_port}", cafile=dovecot.ca_file, timeout=T)
    assert [s.title for s in report.steps] == ["Name resolution", f"TCP to 127.0.0.1:{dovecot.imap_port} (IPv4)",
                                               "IMAP greeting", "STARTTLS", "IMAP over TLS"]
    assert report.verdict.status == OK, report.to_text()
    assert "STARTTLS" in steps(report, "greeting")[0].details[0]
    implicit = diagnose(f"imaps://127.0.0.1:{dovecot.imaps_port}", cafile=dovecot.ca_file, timeout=T)
    assert implicit.verdict.status == OK, implicit.to_text()
    assert [s.layer for s in implicit.steps] == ["resolve", "tcp", "tls", "greeting"]


def test_pop3_capa_and_stls(dovecot):  # noqa: F811
    report = diagnose(f"pop3://127.0.0.1:{dovecot.pop3_port}", cafile=dovecot.ca_file, timeout=T)
    assert report.verdict.status == OK, report.to_text()
    assert "STLS" in steps(report, "greeting")[0].details
    assert only(report, "tls").status == OK


def test_smtp_ehlo_then_starttls(smtp_ca):  # noqa: F811
    peer = SmtpPeer(smtp_ca, mode="starttls").start()
    try:
        ca_file = smtp_ca.cert_pem.tempfile()
        with ca_file as path:
            report = diagnose(f"submission://127.0.0.1:{peer.port}", cafile=path, timeout=T)
    finally:
        peer.stop()
    greeting = [s for s in report.steps if s.layer == "greeting"]
    assert [s.title for s in greeting] == ["SMTP greeting", "SMTP over TLS"], report.to_text()
    assert "STARTTLS" in greeting[0].details
    assert only(report, "tls").status == OK
    assert any(d.startswith("AUTH") for d in greeting[1].details)


def test_smtp_without_starttls_warns(smtp_ca):  # noqa: F811
    peer = SmtpPeer(smtp_ca, mode="none", auth=False).start()
    try:
        report = diagnose(f"smtp://127.0.0.1:{peer.port}", timeout=T)
    finally:
        peer.stop()
    tls = only(report, "tls")
    assert tls.status == WARN and "unencrypted" in tls.summary
    assert report.verdict.status == WARN


def test_ftp_feat_and_auth_tls(tmp_path):
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    pem = tmp_path / "cert.pem"
    cert.private_key_and_cert_chain_pem.write_to_path(str(pem))
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    (tmp_path / "root").mkdir()
    server = FtpServer(tmp_path / "root", tls="explicit", cert=str(pem)).start()
    try:
        report = diagnose(f"ftpes://127.0.0.1:{server.port}", cafile=str(ca_file), timeout=T)
    finally:
        server.stop()
    assert report.verdict.status == OK, report.to_text()
    assert any("AUTH TLS" in f for f in steps(report, "greeting")[0].details)


def test_ftpes_without_tls_fails(tmp_path):
    (tmp_path / "root").mkdir()
    server = FtpServer(tmp_path / "root").start()
    try:
        report = diagnose(f"ftpes://127.0.0.1:{server.port}", timeout=T)
    finally:
        server.stop()
    assert only(report, "tls").status == FAIL and report.verdict.step == "STARTTLS"


def test_ssh_banner(sshd):
    report = diagnose(f"ssh://127.0.0.1:{sshd.port}", timeout=T)
    assert report.verdict.status == OK, report.to_text()
    assert only(report, "greeting").summary.startswith("SSH-2.0-OpenSSH")


def test_irc_registration(tmp_path):
    server = Ngircd(tmp_path / "ngircd").start()
    try:
        report = diagnose(f"irc://127.0.0.1:{server.port}", timeout=T)
    finally:
        server.stop()
    assert report.verdict.status == OK, report.to_text()
    assert only(report, "greeting").summary.startswith("registered as netgui")


def test_getfile_extension_probe_netgui_and_original(tmp_path):
    (tmp_path / "f.txt").write_text("x")
    with GetfileServer(tmp_path) as server:
        report = diagnose(f"getfile://127.0.0.1:{server.port}", timeout=T)
    assert "netgui's getfile extension" in steps(report, "greeting")[0].summary, report.to_text()
    assert only(report, "tls").summary.startswith("not offered") or only(report, "tls").status in (WARN, INFO)
    original = OriginalServer(tmp_path).start()
    try:
        report = diagnose(f"getfile://127.0.0.1:{original.port}", timeout=T)
    finally:
        original.stop()
    assert "original getfile server" in only(report, "greeting").summary
    assert only(report, "tls").status == INFO and report.verdict.status == OK


def test_line_chat_welcome():
    server = ChatServer()
    server.start()
    try:
        report = diagnose(f"chat://127.0.0.1:{server.port}", timeout=T)
    finally:
        server.stop()
    assert report.verdict.status == OK
    assert only(report, "greeting").summary.startswith("Welcome to the chat server")


def test_dns_server_answers(dnsmasq):  # noqa: F811
    report = diagnose(f"dns://127.0.0.1:{dnsmasq.port}", timeout=T)
    assert only(report, "greeting").summary.startswith("answers DNS"), report.to_text()


def test_ocsp_staple_good_and_revoked():
    ca = trustme.CA()
    with ca.cert_pem.tempfile() as ca_file:
        good = StaplingImapsServer(ca, "good")
        revoked = StaplingImapsServer(ca, "revoked")
        try:
            ok = diagnose(f"imaps://localhost:{good.port}", cafile=ca_file, timeout=T)
            bad = diagnose(f"imaps://localhost:{revoked.port}", cafile=ca_file, timeout=T)
        finally:
            good.stop()
            revoked.stop()
    assert any(d.startswith("OCSP stapled: good") for d in only(ok, "tls").details), ok.to_text()
    assert ok.verdict.status == OK
    assert only(bad, "tls").status == FAIL and "REVOKED" in only(bad, "tls").summary
    assert bad.verdict.step == "TLS"


# -- DNS: servers compared, DNSSEC ------------------------------------------------------------------

def test_saved_servers_that_disagree_warn(dnsmasq, dnsmasq2):  # noqa: F811
    report = diagnose("a.test:9", resolver=f"127.0.0.1:{dnsmasq.port}",
                      dns_servers=[f"127.0.0.1:{dnsmasq2.port}"], timeout=2)
    compare = only(report, "compare")
    assert compare.status == WARN and "10.1.2.4" in " ".join(compare.details)
    same = diagnose("mail.test:9", resolver=f"127.0.0.1:{dnsmasq.port}",
                    dns_servers=[f"127.0.0.1:{dnsmasq2.port}"], timeout=2)
    assert only(same, "compare").status == OK


def test_dnssec_secure_and_bogus(dns_hierarchy, plain_resolver):  # noqa: F811
    server = f"{plain_resolver.address[0]}:{plain_resolver.address[1]}"
    secure = diagnose("www.secure.test:9", resolver=server, anchors=str(dns_hierarchy.anchor_file), timeout=2)
    assert only(secure, "dnssec").status == OK, secure.to_text()
    bogus = diagnose("www.bogus.test:9", resolver=server, anchors=str(dns_hierarchy.anchor_file), timeout=2)
    step = only(bogus, "dnssec")
    assert step.status == FAIL and "bogus" in step.summary
    assert bogus.verdict.step == "DNSSEC"
    unsigned = diagnose("www.insecure.test:9", resolver=server, anchors=str(dns_hierarchy.anchor_file), timeout=2)
    assert only(unsigned, "dnssec").status == INFO


# -- an e-mail address -------------------------------------------------------------------------------

def test_email_address_mx_srv_autoconfig_then_servers(tmp_path, dovecot, smtp_ca):  # noqa: F811
    smtp = SmtpPeer(smtp_ca, mode="starttls").start()
    ca = trustme.CA()
    # the servers' certificates are for localhost: the records name it
    auto = AutoconfigServer(ca, "example.test", host="localhost", imap_port=dovecot.imaps_port,
                            smtp_port=smtp.port)
    dns = Dnsmasq(["--local=/example.test/", "--local=/localhost/", "--host-record=localhost,127.0.0.1",
                   "--mx-host=example.test,localhost,10",
                   f"--srv-host=_imaps._tcp.example.test,localhost,{dovecot.imaps_port},0,1",
                   "--srv-host=_pop3._tcp.example.test,.,0"], tmp_path / "dns")
    bundle = tmp_path / "cas.pem"
    bundle.write_bytes(open(dovecot.ca_file, "rb").read() + smtp_ca.cert_pem.bytes() + ca.cert_pem.bytes())
    try:
        report = diagnose("alice@example.test", resolver=f"127.0.0.1:{dns.port}", cafile=str(bundle),
                          autoconfig_url=auto.url_template, timeout=T)
    finally:
        dns.stop()
        auto.stop()
        smtp.stop()
    text = report.to_text()
    records = steps(report, "records")
    assert records[0].status == OK and "localhost" in records[0].summary, text
    assert f"imaps localhost:{dovecot.imaps_port}" in records[1].summary
    assert "_pop3._tcp: not offered" in records[1].details
    autoconfig = only(report, "autoconfig")
    assert autoconfig.status == OK and f"submission localhost:{smtp.port}" in autoconfig.summary
    sections = list(dict.fromkeys(s.section for s in report.steps if s.section))
    assert sections == [f"imaps://localhost:{dovecot.imaps_port}", f"submission://localhost:{smtp.port}"], text
    assert report.verdict.status == OK, text


def test_email_domain_without_records(dnsmasq):  # noqa: F811
    report = diagnose("bob@nowhere.test", resolver=f"127.0.0.1:{dnsmasq.port}", timeout=2,
                      autoconfig_url="https://127.0.0.1:1/{domain}")
    assert steps(report, "records")[0].status == FAIL and report.verdict.status == FAIL
    assert "nowhere.test" in report.verdict.advice


# -- the command line -------------------------------------------------------------------------------

def test_cli_text_json_and_exit_codes(http_app):  # noqa: F811
    port = refused_port()
    run = subprocess.run([sys.executable, "-m", "netgui", "doctor", f"127.0.0.1:{port}", "--compare", ""],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 1 and "Verdict: FAIL" in run.stdout and "Nothing listens" in run.stdout
    run = subprocess.run([sys.executable, "-m", "netgui", "doctor", http_app.url("/"), "--json"],
                         capture_output=True, text=True, timeout=60)
    data = json.loads(run.stdout)
    assert run.returncode == 0 and data["verdict"]["status"] == "ok"
    assert [s["layer"] for s in data["steps"]] == ["resolve", "tcp", "greeting"]
    run = subprocess.run([sys.executable, "-m", "netgui", "doctor", "gopher://x"],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and "does not know gopher" in run.stderr
