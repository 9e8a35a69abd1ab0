"""Finding a mail account's servers from the address alone, in Thunderbird's order.

1. autoconfig: ``https://autoconfig.<domain>/mail/config-v1.1.xml`` and
   ``https://<domain>/.well-known/autoconfig/mail/config-v1.1.xml`` (then the same over
   plain HTTP, marked unverified);
2. the provider database: netgui's bundled ``providers.json`` and the online ISPDB
   (``ispdb_url``, Thunderbird's by default), by the domain, then by the domain of its MX host;
3. DNS SRV records (RFC 6186, RFC 8314): _imaps, _imap, _pop3s, _pop3, _submissions, _submission;
4. guessing imap./pop./mail./smtp.<domain> (and the domain itself) and probing their ports,
   TLS first: each probe connects, reads the greeting and, on a plain port, checks STARTTLS.

Every name lookup goes through one ``Resolver`` (dnspython; the system's resolver unless
told a server, which is how tests point discovery at their own dnsmasq), and every
connection goes to the address it returned, with the name kept for TLS and HTTP Host.
Progress goes to ``progress(step, text)``; the CancelToken stops lookups, fetches and
probes. A setting without encryption is never chosen silently: ``Settings.insecure`` says
so and ``to_profile`` refuses it unless the caller passes ``allow_plaintext``.
"""

from __future__ import annotations

import concurrent.futures
import http.client
import socket
import ssl
import urllib.parse
from dataclasses import dataclass, field, replace
from typing import Callable, Iterable

import dns.exception
import dns.resolver
from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException

from netgui.net.cancel import CancelToken, shutdown_quietly
from netgui.net.connection import Log, connect_first, no_log, tls_context
from netgui.net.errors import Cancelled, CertificateError, NetError, ProtocolError, translate

from .signin import custom_provider, find_provider, load_providers, provider_for_host

ISPDB_URL = "https://autoconfig.thunderbird.net/v1.1/{domain}"
MAX_XML = 256 * 1024
SECURE = ("tls", "starttls")
STEPS = ("autoconfig", "ispdb", "srv", "guess")
Progress = Callable[[str, str], None]


class DiscoveryError(NetError):
    """Nothing usable was found for the address (one line for the user)."""


class InsecureSettings(DiscoveryError):
    """The only settings found send the password unencrypted."""


@dataclass(frozen=True)
class Server:
    """One way to reach one service."""

    protocol: str            # imap | pop3 | smtp
    host: str
    port: int
    security: str            # tls | starttls | none
    username: str = "%EMAILADDRESS%"
    auth: str = "password"   # password | oauth2 | none

    @property
    def secure(self) -> bool:
        return self.security in SECURE

    def describe(self) -> str:
        label = {"tls": "TLS", "starttls": "STARTTLS", "none": "no encryption"}[self.security]
        return f"{self.protocol.upper()} {self.host}:{self.port} ({label})"


@dataclass
class Settings:
    """What discovery found, best first within each list."""

    source: str                              # autoconfig | ispdb | bundled | srv | guess
    where: str                               # URL, record or "probing"
    incoming: list[Server] = field(default_factory=list)
    outgoing: list[Server] = field(default_factory=list)
    provider: str | None = None              # a provider id: OAuth preset, app passwords
    verified: bool = True                    # False: fetched over plain HTTP or from plain DNS
    notes: list[str] = field(default_factory=list)
    oauth: dict | None = None                # the config's <oAuth2> block (its sign-in server)
    name: str = ""                           # the config's displayName

    @property
    def custom_provider(self) -> dict | None:
        """The provider entry an <oAuth2> block describes (signin.custom_provider), when the
        settings came over HTTPS and no bundled preset is known for them."""
        if self.oauth and self.provider == self.oauth.get("id"):
            return custom_provider(self.oauth, self.name)
        return None

    @property
    def uses_oauth(self) -> bool:
        return any(s.auth == "oauth2" for s in self.incoming + self.outgoing)

    def _best(self, servers: list[Server], allow_plaintext: bool) -> Server | None:
        for s in servers:
            if s.secure:
                return s
        return servers[0] if servers and allow_plaintext else None

    @property
    def insecure(self) -> bool:
        """True when incoming or outgoing mail could only go unencrypted."""
        return any(lst and not any(s.secure for s in lst) for lst in (self.incoming, self.outgoing))

    def to_profile(self, email: str, display_name: str = "", *,
                   allow_plaintext: bool = False) -> dict:
        """An account profile (netgui.mail.accounts schema, plus ``auth``) from the best
        servers. Raises InsecureSettings when only unencrypted ones exist and the user has
        not said yes to them."""
        inc = self._best(self.incoming, allow_plaintext)
        out = self._best(self.outgoing, allow_plaintext)
        if inc is None or (self.outgoing and out is None):
            bad = next(s for s in self.incoming + self.outgoing if not s.secure)
            raise InsecureSettings(f"{bad.host} offers only unencrypted connections "
                                   f"({bad.describe()}); netgui will not use it unless you "
                                   "agree")
        profile = {"display_name": display_name, "email": email,
                   "incoming_protocol": inc.protocol, "incoming_host": inc.host,
                   "incoming_port": inc.port, "incoming_security": inc.security,
                   "incoming_user": expand(inc.username, email, display_name),
                   "incoming_auth": inc.auth, "verify_tls": True}
        if out is not None:
            profile.update(smtp_host=out.host, smtp_port=out.port, smtp_security=out.security,
                           smtp_user=expand(out.username, email, display_name),
                           smtp_auth=out.auth != "none", smtp_auth_method=out.auth)
        if self.provider:
            profile["oauth_provider"] = self.provider
        return profile


def expand(template: str, email: str, name: str = "") -> str:
    local, _, domain = email.partition("@")
    return (template.replace("%EMAILADDRESS%", email).replace("%EMAILLOCALPART%", local)
            .replace("%EMAILDOMAIN%", domain).replace("%REALNAME%", name))


# -- the provider database -------------------------------------------------------------------

def provider_settings(p: dict, where: str) -> Settings:
    def servers(items):
        return [Server(s["type"], s["host"], int(s["port"]), s["security"],
                       s.get("username", "%EMAILADDRESS%"), s.get("auth", "password"))
                for s in items]
    notes = [p["notes"]] if p.get("notes") else []
    return Settings("bundled", where, servers(p["incoming"]), servers(p["outgoing"]),
                    provider=p["id"], notes=notes)


# -- config-v1.1 XML ----------------------------------------------------------------------------

_SOCKET = {"SSL": "tls", "STARTTLS": "starttls", "plain": "none"}
_AUTH = {"password-cleartext": "password", "plain": "password", "password-encrypted": "password",
         "secure": "password", "OAuth2": "oauth2", "none": "none",
         "client-IP-address": "none"}


def parse_config(data: bytes, email: str, where: str) -> Settings:
    """Read a config-v1.1 document (defusedxml: no entities, no external references).
    Raises ProtocolError with one line when it is not one."""
    try:
        root = SafeET.fromstring(data)
    except SafeET.ParseError as exc:
        line = getattr(exc, "position", (None,))[0]
        raise ProtocolError(f"{where} sent settings netgui cannot read (XML error"
                            + (f" on line {line})" if line else ")"), detail=str(exc)) from exc
    except DefusedXmlException as exc:
        raise ProtocolError(f"{where} sent XML with entities or references; refused",
                            detail=str(exc)) from exc
    provider = root.find("emailProvider") if root.tag == "clientConfig" else None
    if provider is None:
        raise ProtocolError(f"{where} sent no mail settings (not a config-v1.1 document)")
    name = " ".join((provider.findtext("displayName") or "").split())[:80]
    domain = email.partition("@")[2].lower()
    domains = [d.text.strip().lower() for d in provider.findall("domain") if d.text]
    notes = []
    if domains and domain not in domains:
        notes.append(f"The settings from {where} are for {', '.join(domains[:3])}")

    def server(el, kind) -> Server | None:
        protocol = el.get("type", "")
        if kind == "incoming" and protocol not in ("imap", "pop3"):
            return None
        if kind == "outgoing" and protocol != "smtp":
            return None
        host = (el.findtext("hostname") or "").strip()
        port = (el.findtext("port") or "").strip()
        sock = _SOCKET.get((el.findtext("socketType") or "").strip())
        if not host or not port.isdigit() or not 0 < int(port) < 65536 or sock is None \
                or any(c in host for c in " /\\@\r\n"):
            return None
        auths = [(a.text or "").strip() for a in el.findall("authentication")]
        auth = next((_AUTH[a] for a in auths if a in _AUTH), "password")
        host = expand(host, email)
        return Server(protocol, host, int(port), sock,
                      (el.findtext("username") or "%EMAILADDRESS%").strip(), auth)

    incoming = [s for el in provider.findall("incomingServer") if (s := server(el, "incoming"))]
    outgoing = [s for el in provider.findall("outgoingServer") if (s := server(el, "outgoing"))]
    if not incoming:
        raise ProtocolError(f"{where} sent settings without a usable incoming server")
    # config files list servers in the provider's order; keep it, but TLS before plaintext
    incoming.sort(key=lambda s: not s.secure)
    outgoing.sort(key=lambda s: not s.secure)
    return Settings("autoconfig", where, incoming, outgoing, notes=notes,
                    oauth=_oauth_block(provider.find("oAuth2")), name=name)


def _oauth_block(el) -> dict | None:
    """The sign-in server of an ``<oAuth2>`` block (issuer, scope, authURL, tokenURL and an
    optional public clientId), None when there is none or it lacks an endpoint."""
    if el is None:
        return None
    text = {key: " ".join((el.findtext(key) or "").split()) for key in
            ("issuer", "scope", "authURL", "tokenURL", "clientId")}
    if not text["authURL"] or not text["tokenURL"]:
        return None
    issuer = text["issuer"]
    host = urllib.parse.urlsplit(issuer).netloc if "//" in issuer else issuer
    host = host or urllib.parse.urlsplit(text["authURL"]).netloc
    return {"id": host, "issuer_host": host, "scope": text["scope"],
            "authorization_endpoint": text["authURL"], "token_endpoint": text["tokenURL"],
            "client_id": text["clientId"]}


# -- name lookups -----------------------------------------------------------------------------

class Resolver:
    """All of discovery's name lookups. ``nameserver``/``port``: ask that DNS server
    (tests: their dnsmasq); default: the system's configuration."""

    def __init__(self, nameserver: str | None = None, port: int = 53, timeout: float = 5.0):
        self.nameserver = nameserver
        self.dns = dns.resolver.Resolver(configure=nameserver is None)
        if nameserver:
            self.dns.nameservers = [nameserver]
            self.dns.port = port
        self.dns.lifetime = timeout

    def _query(self, name: str, rdtype: str, token: CancelToken):
        token.check()
        try:
            return list(self.dns.resolve(name, rdtype, search=False))
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer, dns.resolver.NoNameservers):
            return []
        except dns.exception.Timeout:
            return []
        finally:
            token.check()

    def addresses(self, host: str, token: CancelToken) -> list[str]:
        if self.nameserver is None:
            token.check()
            try:
                infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
            except (socket.gaierror, UnicodeError):
                return []
            return list(dict.fromkeys(i[4][0] for i in infos))
        out = [r.address for r in self._query(host, "A", token)]
        return out + [r.address for r in self._query(host, "AAAA", token)]

    def mx(self, domain: str, token: CancelToken) -> list[str]:
        records = sorted(self._query(domain, "MX", token), key=lambda r: r.preference)
        return [r.exchange.to_text(omit_final_dot=True) for r in records if r.exchange.labels]

    def srv(self, name: str, token: CancelToken) -> list[tuple[int, int, int, str]]:
        records = self._query(name, "SRV", token)
        out = [(r.priority, -r.weight, r.port, r.target.to_text(omit_final_dot=True))
               for r in records]
        return sorted(out)


def base_domain(host: str) -> str:
    """The registrable domain of an MX host, roughly: the last two labels, three under
    two-letter country codes with a second level like co./com./ac. (no Public Suffix List)."""
    labels = host.lower().rstrip(".").split(".")
    if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in (
            "co", "com", "ac", "net", "org", "gov", "edu", "ne", "or"):
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


# -- HTTP(S) fetch through the resolver ----------------------------------------------------------

def _address_infos(addresses: list[str], port: int) -> list:
    infos = []
    for a in addresses:
        family = socket.AF_INET6 if ":" in a else socket.AF_INET
        infos.append((family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (a, port)))
    return infos


class _Fetcher:
    def __init__(self, resolver: Resolver, cafile: str | None, timeout: float, log: Log):
        self.resolver, self.cafile, self.timeout, self.log = resolver, cafile, timeout, log
        self._ctx = None

    def get(self, url: str, token: CancelToken) -> bytes | None:
        """The body of a 200 answer (at most MAX_XML bytes), None for "not there" (no such
        host, refused, 404). Certificate problems raise CertificateError."""
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        addresses = self.resolver.addresses(host, token)
        if not addresses:
            self.log("*", f"{host}: no such host")
            return None
        self.log("*", f"GET {url}")
        try:
            sock, _ = connect_first(_address_infos(addresses, port), self.timeout, token)
        except OSError as exc:
            self.log("*", f"{host}:{port}: {translate(exc, host, port)}")
            return None
        try:
            with token.watch(sock):
                if parts.scheme == "https":
                    if self._ctx is None:
                        self._ctx = tls_context(True, self.cafile)
                    sock = self._ctx.wrap_socket(sock, server_hostname=host)
                conn = http.client.HTTPConnection(host, port, timeout=self.timeout)
                conn.sock = sock
                path = parts.path + (f"?{parts.query}" if parts.query else "")
                default = 443 if parts.scheme == "https" else 80
                conn.request("GET", path, headers={
                    "Host": host if port == default else f"{host}:{port}",
                    "Accept": "application/xml, text/xml"})
                resp = conn.getresponse()
                if resp.status != 200:
                    self.log("<", f"{resp.status} {resp.reason}")
                    return None
                body = resp.read(MAX_XML + 1)
                if len(body) > MAX_XML:
                    raise ProtocolError(f"{host} sent more than {MAX_XML // 1024} KiB of settings")
                self.log("<", f"200 ({len(body)} bytes)")
                return body
        except (ssl.SSLCertVerificationError, ssl.CertificateError) as exc:
            token.check()
            raise translate(exc, host, port) from exc
        except (OSError, http.client.HTTPException) as exc:
            token.check()
            self.log("*", f"{host}:{port}: {type(exc).__name__}: {exc}")
            return None
        finally:
            shutdown_quietly(sock)


# -- probing ----------------------------------------------------------------------------------

# (protocol, port, security) in the order tried: TLS first; plaintext only to report it
PROBES = {
    "imap": [("imap", 993, "tls"), ("imap", 143, "starttls")],
    "pop3": [("pop3", 995, "tls"), ("pop3", 110, "starttls")],
    "smtp": [("smtp", 465, "tls"), ("smtp", 587, "starttls"), ("smtp", 25, "starttls")],
}
GUESS_HOSTS = {"imap": ("imap.{d}", "mail.{d}", "{d}"), "pop3": ("pop3.{d}", "pop.{d}", "mail.{d}"),
               "smtp": ("smtp.{d}", "mail.{d}", "{d}")}


@dataclass(frozen=True)
class ProbeResult:
    server: Server
    ok: bool            # the service answered, and TLS (or STARTTLS) works with a trusted cert
    plaintext_only: bool = False
    problem: str = ""


def probe(server: Server, addresses: list[str], *, token: CancelToken, cafile: str | None,
          timeout: float) -> ProbeResult:
    """Connect, read the greeting, check TLS/STARTTLS; never log in."""
    host, port = server.host, server.port
    try:
        sock, _ = connect_first(_address_infos(addresses, port), timeout, token)
    except OSError as exc:
        return ProbeResult(server, False, problem=str(translate(exc, host, port)))
    ctx = tls_context(True, cafile)
    try:
        with token.watch(sock):
            sock.settimeout(timeout)
            if server.security == "tls":
                sock = ctx.wrap_socket(sock, server_hostname=host)
            f = sock.makefile("rb")
            greeting = f.readline(1024)
            ok_greeting = {"imap": b"* OK", "pop3": b"+OK", "smtp": b"220"}[server.protocol]
            if not greeting.startswith(ok_greeting):
                return ProbeResult(server, False, problem=f"{host}:{port} is not {server.protocol}")
            if server.protocol == "smtp":  # skip a multi-line greeting
                while greeting[3:4] == b"-":
                    greeting = f.readline(1024)
            if server.security == "tls":
                return ProbeResult(server, True)
            has_starttls = _offers_starttls(server.protocol, sock, f, greeting)
            if not has_starttls:
                return ProbeResult(replace(server, security="none"), False, plaintext_only=True,
                                   problem=f"{host}:{port} offers no encryption")
            f = None
            sock = ctx.wrap_socket(sock, server_hostname=host)
            return ProbeResult(server, True)
    except (ssl.SSLCertVerificationError, ssl.CertificateError) as exc:
        return ProbeResult(server, False, problem=str(translate(exc, host, port)))
    except (OSError, ValueError) as exc:
        token.check()
        return ProbeResult(server, False, problem=str(translate(exc, host, port)))
    finally:
        shutdown_quietly(sock)


def _offers_starttls(protocol: str, sock, f, greeting: bytes) -> bool:
    """Ask for capabilities; when STARTTLS is offered, send it and read the go-ahead."""
    if protocol == "imap":
        if b"STARTTLS" not in greeting.upper():
            sock.sendall(b"p1 CAPABILITY\r\n")
            caps = b""
            while not (line := f.readline(4096)).startswith(b"p1 ") and line:
                caps += line
            if b"STARTTLS" not in caps.upper():
                return False
        sock.sendall(b"p2 STARTTLS\r\n")
        return f.readline(1024).startswith(b"p2 OK")
    if protocol == "pop3":
        sock.sendall(b"CAPA\r\n")
        caps, line = b"", f.readline(1024)
        if line.startswith(b"+OK"):
            while (line := f.readline(1024)) not in (b".\r\n", b".\n", b""):
                caps += line
        if b"STLS" not in caps.upper():
            return False
        sock.sendall(b"STLS\r\n")
        return f.readline(1024).startswith(b"+OK")
    sock.sendall(b"EHLO netgui.invalid\r\n")
    caps = b""
    while (line := f.readline(1024)) and line[3:4] == b"-":
        caps += line
    caps += line
    if b"STARTTLS" not in caps.upper():
        return False
    sock.sendall(b"STARTTLS\r\n")
    return f.readline(1024).startswith(b"220")


# -- discovery --------------------------------------------------------------------------------

class Discovery:
    """The four steps; construct once per wizard, ``discover(email)`` in a worker thread."""

    def __init__(self, *, resolver: Resolver | None = None, cafile: str | None = None,
                 timeout: float = 8.0, ispdb_url: str | None = ISPDB_URL,
                 providers: list[dict] | None = None, allow_http: bool = True,
                 steps: Iterable[str] = STEPS):
        self.resolver = resolver or Resolver()
        self.cafile = cafile
        self.timeout = timeout
        self.ispdb_url = ispdb_url
        self.providers = load_providers() if providers is None else providers
        self.allow_http = allow_http
        self.steps = tuple(steps)

    def discover(self, email: str, *, token: CancelToken | None = None,
                 progress: Progress = lambda step, text: None, log: Log = no_log) -> Settings:
        token = token or CancelToken()
        local, _, domain = email.strip().rpartition("@")
        domain = domain.lower().rstrip(".")
        if not local or not domain or "." not in domain or any(c in domain for c in "/\\ :"):
            raise DiscoveryError(f"{email!r} is not an e-mail address netgui can look up")
        notes: list[str] = []
        for step in self.steps:
            token.check()
            found = getattr(self, "_" + step)(email, domain, token, progress, log, notes)
            if found is not None:
                if not found.outgoing and step != "guess":
                    progress("guess", f"Looking for an outgoing server of {domain}")
                    found.outgoing = self._guess_kind("smtp", domain, token, log, notes)
                self._sign_in_provider(found)
                found.notes = notes + found.notes
                progress("done", f"Found settings for {domain} ({found.source})")
                return found
        raise DiscoveryError(f"No mail settings were found for {domain}"
                             + (f" ({notes[-1]})" if notes else "")
                             + "; enter the servers by hand")

    def _sign_in_provider(self, found: Settings) -> None:
        """Which provider the account signs in with: a preset by server name (as Thunderbird
        does), else the config's own <oAuth2> block, trusted only when it came over HTTPS."""
        if found.provider is None:
            for server in found.incoming + found.outgoing:
                p = provider_for_host(self.providers, server.host)
                if p is not None:
                    found.provider = p["id"]
                    break
        if found.provider is None and found.oauth:
            if found.verified:
                found.provider = found.oauth["id"]
            else:
                found.notes.append("The sign-in server in the unencrypted settings was ignored")
                found.oauth = None

    # step 1
    def _autoconfig(self, email, domain, token, progress, log, notes):
        fetch = _Fetcher(self.resolver, self.cafile, self.timeout, log)
        q = urllib.parse.urlencode({"emailaddress": email})
        candidates = [f"https://autoconfig.{domain}/mail/config-v1.1.xml?{q}",
                      f"https://{domain}/.well-known/autoconfig/mail/config-v1.1.xml"]
        if self.allow_http:
            candidates += [c.replace("https://", "http://", 1) for c in candidates]
        for url in candidates:
            host = urllib.parse.urlsplit(url).hostname
            progress("autoconfig", f"Asking {host} for its settings")
            found = self._fetch_config(fetch, url, email, token, notes)
            if found is not None:
                if url.startswith("http://"):
                    found.verified = False
                    found.notes.append(f"The settings came over unencrypted HTTP from {host}: "
                                       "check the server names")
                return found
        return None

    def _fetch_config(self, fetch: _Fetcher, url, email, token, notes) -> Settings | None:
        host = urllib.parse.urlsplit(url).hostname
        try:
            data = fetch.get(url, token)
            if data is None:
                return None
            found = parse_config(data, email, host)
        except (ProtocolError, CertificateError) as exc:
            notes.append(str(exc))
            return None
        found.where = url.split("?")[0]
        return found

    # step 2
    def _ispdb(self, email, domain, token, progress, log, notes):
        progress("ispdb", f"Looking up {domain} in the provider database")
        p = find_provider(self.providers, domain)
        if p:
            return provider_settings(p, f"netgui's provider list ({p['name']})")
        fetch = _Fetcher(self.resolver, self.cafile, self.timeout, log)
        if self.ispdb_url:
            found = self._fetch_config(fetch, self.ispdb_url.format(domain=domain), email,
                                       token, notes)
            if found:
                found.source = "ispdb"
                return found
        progress("ispdb", f"Looking up the mail exchanger of {domain}")
        mx = self.resolver.mx(domain, token)
        if not mx:
            return None
        mx_domain = base_domain(mx[0])
        log("*", f"MX of {domain}: {mx[0]} ({mx_domain})")
        p = find_provider(self.providers, mx[0], by_mx=True)
        if p:
            found = provider_settings(p, f"netgui's provider list ({p['name']}, by MX {mx[0]})")
            return found
        if self.ispdb_url and mx_domain != domain:
            found = self._fetch_config(fetch, self.ispdb_url.format(domain=mx_domain), email,
                                       token, notes)
            if found:
                found.source = "ispdb"
                found.notes.append(f"Found through the mail exchanger {mx[0]}")
                return found
        return None

    # step 3
    def _srv(self, email, domain, token, progress, log, notes):
        progress("srv", f"Looking for SRV records of {domain}")
        incoming, outgoing = [], []
        for service, protocol, security in (("_imaps", "imap", "tls"), ("_imap", "imap", "starttls"),
                                            ("_pop3s", "pop3", "tls"), ("_pop3", "pop3", "starttls"),
                                            ("_submissions", "smtp", "tls"),
                                            ("_submission", "smtp", "starttls")):
            for _, _, port, target in self.resolver.srv(f"{service}._tcp.{domain}", token):
                if target in ("", ".") or port == 0:  # RFC 2782: "not offered here"
                    continue
                (outgoing if protocol == "smtp" else incoming).append(
                    Server(protocol, target, port, security))
        if not incoming:
            return None
        log("*", "SRV: " + ", ".join(s.describe() for s in incoming + outgoing))
        # RFC 6186 puts plain-port entries after TLS ones only by priority; TLS first here
        return Settings("srv", f"DNS SRV records of {domain}", incoming, outgoing,
                        verified=False,
                        notes=["Found in DNS SRV records: check that the servers belong to "
                               f"{domain}"])

    # step 4
    def _guess(self, email, domain, token, progress, log, notes):
        incoming = self._guess_kind("imap", domain, token, log, notes, progress) \
            or self._guess_kind("pop3", domain, token, log, notes, progress)
        if not incoming:
            return None
        outgoing = self._guess_kind("smtp", domain, token, log, notes, progress)
        return Settings("guess", "probing", incoming, outgoing,
                        notes=["Found by trying common server names"])

    def _guess_kind(self, kind, domain, token, log, notes, progress=None) -> list[Server]:
        """Probe the usual names and ports for one service, in parallel; the results in the
        order tried (host, then TLS before STARTTLS), working ones first."""
        hosts = []
        for pattern in GUESS_HOSTS[kind]:
            host = pattern.format(d=domain)
            addresses = self.resolver.addresses(host, token)
            if addresses:
                hosts.append((host, addresses))
        if not hosts:
            return []
        jobs = [(Server(p, host, port, sec), addresses)
                for host, addresses in hosts for p, port, sec in PROBES[kind]]
        if progress:
            progress("guess", f"Trying {len(jobs)} {kind.upper()} server candidates of {domain}")
        with concurrent.futures.ThreadPoolExecutor(max_workers=6) as pool:
            futures = [pool.submit(probe, s, a, token=token, cafile=self.cafile,
                                   timeout=self.timeout) for s, a in jobs]
            results = []
            for f in futures:
                try:
                    results.append(f.result())
                except Cancelled:
                    raise
        token.check()
        for r in results:
            log("*", f"probe {r.server.describe()}: " + ("works" if r.ok else r.problem))
        working = [r.server for r in results if r.ok]
        plain = [r.server for r in results if r.plaintext_only]
        problems = [r.problem for r in results if not r.ok and "certificate" in r.problem.lower()]
        notes.extend(problems[:1])
        if not working and plain:
            notes.append(f"{plain[0].host} offers only unencrypted connections")
        return working + plain
