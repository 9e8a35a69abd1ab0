"""Real peers for account discovery: dnsmasq (A, MX, SRV), nginx (autoconfig over HTTPS and
HTTP, an ISPDB), and a Dovecot + aiosmtpd found only by guessing.

``oauth.test`` is the whole story of a provider with OAuth2: its autoconfig file names its
IMAP and SMTP servers with OAuth2 and, in an ``<oAuth2>`` block, the test authorization server
(tests/support/oauth_server.py) with a public client ID; the Dovecot and aiosmtpd there check
bearer tokens against that server. Those servers are named by their address (with certificates
for it): after discovery the account's connections resolve names the system's way, and the
system knows nothing of this dnsmasq.

How names reach loopback, honestly: discovery resolves every name through its injectable
``Resolver``, which tests point at this dnsmasq; dnsmasq maps the test domains to two
loopback addresses picked at random in 127.0.0.0/8 for this run. The servers listen there on
the real well-known ports (443, 80, 993, 143, 995, 110, 587), so nothing in the core is
remapped: URLs, SNI, Host headers, certificates and port choices are those a user's
machine would see. Binding ports below 1024 needs root, as CI and the developers' machines
have; without it the fixture fails with that reason (never skips).
"""

from __future__ import annotations

import random
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme

from tests.support.dnspeers import Dnsmasq
from tests.support.dovecot import Dovecot, start_dovecot, stop_dovecot
from tests.support.oauth_peers import shared_oauth_server
from tests.support.oauth_server import PUBLIC_CLIENT, SCOPE, OAuthServer
from tests.support.peers import require_binary, stop_process, wait_for_port

CONFIG = """<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="{domain}">
    <domain>{domain}</domain>
    <displayName>{domain} mail</displayName>
    {servers}
  </emailProvider>
</clientConfig>
"""


def incoming(kind, host, port, socket_type, auth="password-cleartext",
             user="%EMAILADDRESS%") -> str:
    return (f'<incomingServer type="{kind}"><hostname>{host}</hostname><port>{port}</port>'
            f"<socketType>{socket_type}</socketType><username>{user}</username>"
            f"<authentication>{auth}</authentication></incomingServer>")


def outgoing(host, port, socket_type, auth="password-cleartext") -> str:
    return (f'<outgoingServer type="smtp"><hostname>{host}</hostname><port>{port}</port>'
            f"<socketType>{socket_type}</socketType><username>%EMAILADDRESS%</username>"
            f"<authentication>{auth}</authentication></outgoingServer>")


def config(domain: str, *servers: str) -> str:
    return CONFIG.format(domain=domain, servers="\n    ".join(servers))


def oauth_block(server: OAuthServer, client_id: str = PUBLIC_CLIENT) -> str:
    ep = server.endpoints()
    return (f"<oAuth2><issuer>{server.base_url}</issuer><scope>{SCOPE}</scope>"
            f"<authURL>{ep['authorization_endpoint']}</authURL>"
            f"<tokenURL>{ep['token_endpoint']}</tokenURL><clientId>{client_id}</clientId></oAuth2>")


def oauth_documents(server: OAuthServer, mail_ip: str) -> tuple[dict, dict]:
    """oauth.test: OAuth2 servers and the sign-in server in the config (HTTPS); the same over
    plain HTTP only for oauthhttp.test, whose <oAuth2> block must be ignored."""
    servers = (incoming("imap", mail_ip, 993, "SSL", "OAuth2", "%EMAILLOCALPART%"),
               outgoing(mail_ip, 587, "STARTTLS", "OAuth2").replace(
                   "%EMAILADDRESS%", "%EMAILLOCALPART%"),
               oauth_block(server))
    path = "/mail/config-v1.1.xml"
    return ({("autoconfig.oauth.test", path): config("oauth.test", *servers)},
            {("autoconfig.oauthhttp.test", path): config("oauthhttp.test", *servers)})


# what nginx serves: (server_name, path) -> body; https and http unless noted
DOCUMENTS = {
    ("autoconfig.auto.test", "/mail/config-v1.1.xml"): config(
        "auto.test", incoming("imap", "imap.auto.test", 993, "SSL"),
        incoming("pop3", "pop.auto.test", 995, "SSL"), outgoing("smtp.auto.test", 465, "SSL")),
    ("wk.test", "/.well-known/autoconfig/mail/config-v1.1.xml"): config(
        "wk.test", incoming("imap", "mail.wk.test", 143, "STARTTLS", "OAuth2"),
        outgoing("mail.wk.test", 587, "STARTTLS", "OAuth2")),
    ("autoconfig.bad.test", "/mail/config-v1.1.xml"):
        '<?xml version="1.0"?>\n<clientConfig version="1.1">\n  <emailProvider id="bad.test">\n'
        "    <incomingServer type=\"imap\"><hostname>imap.bad.test</hostname>\n",
    ("autoconfig.bomb.test", "/mail/config-v1.1.xml"):
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
        "<clientConfig><emailProvider><domain>&b;</domain></emailProvider></clientConfig>",
    ("autoconfig.plain.test", "/mail/config-v1.1.xml"): config(
        "plain.test", incoming("imap", "imap.plain.test", 143, "plain"),
        outgoing("smtp.plain.test", 25, "plain")),
    ("ispdb.test", "/v1.1/isp.test"): config(
        "isp.test", incoming("imap", "imap.isp.test", 993, "SSL"),
        outgoing("smtp.isp.test", 465, "SSL")),
    ("ispdb.test", "/v1.1/hosted.test"): config(
        "hosted.test", incoming("imap", "imap.hosted.test", 993, "SSL"),
        outgoing("smtp.hosted.test", 587, "STARTTLS")),
}
HTTP_ONLY = {("autoconfig.httponly.test", "/mail/config-v1.1.xml"): config(
    "httponly.test", incoming("imap", "imap.httponly.test", 993, "SSL"),
    outgoing("smtp.httponly.test", 465, "SSL"))}

NGINX = """\
daemon off;
pid {w}/nginx.pid;
error_log {w}/error.log;
worker_processes 1;
events {{ worker_connections 64; }}
http {{
  access_log {w}/access.log;
  client_body_temp_path {w}/tmp; proxy_temp_path {w}/tmp; fastcgi_temp_path {w}/tmp;
  uwsgi_temp_path {w}/tmp; scgi_temp_path {w}/tmp;
  default_type application/xml;
{servers}
}}
"""
VHOST = """\
  server {{
    {listen}
    server_name {name};
    root {w}/www/{name};
  }}
"""


@dataclass
class DiscoveryPeers:
    web_ip: str
    mail_ip: str
    dns_port: int
    ca_file: str
    ispdb_url: str
    dovecot: Dovecot
    work: Path
    smtp: object = None
    oauth: OAuthServer | None = None


def _free_loopback_ip() -> str:
    """A random 127.x.y.z whose mail and web ports are free."""
    for _ in range(50):
        ip = f"127.{random.randint(100, 250)}.{random.randint(0, 255)}.{random.randint(2, 254)}"
        try:
            for port in (80, 443, 993, 143):
                with socket.socket() as s:
                    s.bind((ip, port))
        except PermissionError:
            pytest.fail("discovery tests need root to listen on ports below 1024 (as CI has)")
        except OSError:
            continue
        return ip
    pytest.fail("no free loopback address for the discovery peers")


def start_peers(smtp_ca: trustme.CA, oauth: OAuthServer | None = None
                ) -> tuple[DiscoveryPeers, list]:
    require_binary("nginx")
    oauth = oauth or shared_oauth_server()
    work = Path(tempfile.mkdtemp(prefix="netgui-discovery-"))
    work.chmod(0o755)  # nginx's workers (not root) read the documents
    web_ip, mail_ip = _free_loopback_ip(), _free_loopback_ip()
    https_docs, http_docs = oauth_documents(oauth, mail_ip)
    documents, http_only = {**DOCUMENTS, **https_docs}, {**HTTP_ONLY, **http_docs}
    names = sorted({n for n, _ in documents} | {n for n, _ in http_only})
    ca = smtp_ca
    cert = ca.issue_cert(*names)
    cert.private_key_and_cert_chain_pem.write_to_path(str(work / "web.pem"))
    ca_file = work / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    (work / "tmp").mkdir()
    servers = []
    for docs, https in ((documents, True), (http_only, False)):
        for (name, path), body in docs.items():
            target = work / "www" / name / path.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(body)
    # the default vhost answers names nobody configured (as shared hosting does) with 404
    servers.append(VHOST.format(
        listen=(f"listen {web_ip}:80 default_server; listen {web_ip}:443 ssl default_server;"
                f" ssl_certificate {work}/web.pem; ssl_certificate_key {work}/web.pem;"
                " return 404;"), name="_", w=work))
    for name in names:
        https = any(n == name for n, _ in documents)
        listen = f"listen {web_ip}:80;"
        if https:
            listen += (f" listen {web_ip}:443 ssl; ssl_certificate {work}/web.pem;"
                       f" ssl_certificate_key {work}/web.pem;")
        servers.append(VHOST.format(listen=listen, name=name, w=work))
    (work / "nginx.conf").write_text(NGINX.format(w=work, servers="".join(servers)))
    nginx = subprocess.Popen([require_binary("nginx"), "-c", str(work / "nginx.conf"),
                              "-p", str(work)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    wait_for_port(443, host=web_ip, proc=nginx)
    # the Dovecot found by guessing (and through SRV): real ports on its own address
    dovecot = start_dovecot(listen=mail_ip, ports=dict(imap=143, imaps=993, pop3=110, pop3s=995),
                            cert_names=("imap.guess.test", "mail.guess.test", "mail.srv.test",
                                        "smtp.guess.test", "imap.selfsigned.test"),
                            oauth_introspection_url=oauth.introspection_url())
    records = [
        "--local=/test/",
        f"--host-record=autoconfig.auto.test,{web_ip}",
        f"--host-record=wk.test,{web_ip}",
        f"--host-record=autoconfig.bad.test,{web_ip}",
        f"--host-record=autoconfig.bomb.test,{web_ip}",
        f"--host-record=autoconfig.plain.test,{web_ip}",
        f"--host-record=autoconfig.httponly.test,{web_ip}",
        f"--host-record=ispdb.test,{web_ip}",
        "--mx-host=mx.test,mx1.hosted.test,10",
        "--mx-host=custom.test,aspmx.l.google.com,1",
        f"--host-record=imap.guess.test,{mail_ip}",
        f"--host-record=smtp.guess.test,{mail_ip}",
        f"--host-record=mail.srv.test,{mail_ip}",
        "--srv-host=_imaps._tcp.srv.test,mail.srv.test,993,0,1",
        "--srv-host=_imap._tcp.srv.test,mail.srv.test,143,10,1",
        "--srv-host=_pop3._tcp.srv.test",                      # "not offered" (target ".")
        "--srv-host=_submission._tcp.srv.test,mail.srv.test,587,0,1",
        f"--host-record=imap.plainonly.test,{mail_ip}",
        f"--host-record=autoconfig.oauth.test,{web_ip}",
        f"--host-record=autoconfig.oauthhttp.test,{web_ip}",
    ]
    dns = Dnsmasq(records, work / "dns")
    # SMTP submission on 587 (STARTTLS) for the guessed and SRV domains
    from tests.support.smtp import SmtpPeer
    smtp = SmtpPeer(ca, "starttls", host=mail_ip, port=587,
                    cert_names=("smtp.guess.test", "mail.srv.test", mail_ip),
                    introspection_url=oauth.introspection_url())
    smtp.start()
    peers = DiscoveryPeers(web_ip, mail_ip, dns.port, str(ca_file),
                           "https://ispdb.test/v1.1/{domain}", dovecot, work, smtp, oauth)
    return peers, [nginx, dns, smtp]


@pytest.fixture(scope="module")
def discovery_peers(smtp_ca):
    peers, procs = start_peers(smtp_ca)
    # Dovecot's CA differs from the web CA: one bundle that trusts both
    bundle = peers.work / "bundle.pem"
    bundle.write_text(Path(peers.ca_file).read_text() + Path(peers.dovecot.ca_file).read_text())
    peers.ca_file = str(bundle)
    yield peers
    nginx, dns, smtp = procs
    smtp.stop()
    stop_process(nginx)
    dns.stop() if hasattr(dns, "stop") else stop_process(dns.proc)
    stop_dovecot(peers.dovecot)
    shutil.rmtree(peers.work, ignore_errors=True)
