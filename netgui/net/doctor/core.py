"""The connection doctor: every layer of one connection, in order, each with its result and
time, and a verdict that names the step that broke and what to try.

For a connection: name resolution (the system resolver, or the one given, and the DNS tab's
saved servers compared; DNSSEC where the answer is signed), a TCP connection to each address
(IPv4 and IPv6), the TLS handshake (version, cipher, the certificate chain as sent, names,
expiry, a stapled OCSP response) and the protocol's greeting (HTTP HEAD, SMTP EHLO with
STARTTLS, IMAP CAPABILITY, POP3 CAPA, FTP FEAT, the SSH banner, IRC registration, getfile's
extension probe). For an e-mail address: its MX and SRV records and autoconfig first, then
the servers they name.
"""

from __future__ import annotations

import select
import socket
import ssl
import threading
import time
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from typing import Callable

from netgui.net.cancel import CancelToken
from netgui.net.connection import Log, no_log, tls_context
from netgui.net.errors import (Cancelled, CertificateError, ConnectError, NetError, NetTimeout,
                               ResolveError, TLSError, translate)

from .greetings import DIALOGS, Dialog
from .model import FAIL, INFO, OK, SKIP, WARN, Report, Step
from .target import SCHEMES, Target, is_address, parse_target
from .wire import Wire, WrongGreeting, speaks

AUTOCONFIG_URL = "https://autoconfig.{domain}/mail/config-v1.1.xml"
SRV_SERVICES = (("_submissions._tcp", "submissions"), ("_submission._tcp", "submission"),
                ("_imaps._tcp", "imaps"), ("_imap._tcp", "imap"),
                ("_pop3s._tcp", "pop3s"), ("_pop3._tcp", "pop3"))
EXPIRY_WARN_DAYS = 14
DEFAULT_TIMEOUT = 8.0


def diagnose(target: str | Target, *, dns_servers=(), resolver=None, anchors=None,
             timeout: float = DEFAULT_TIMEOUT, cafile: str | None = None,
             token: CancelToken | None = None, log: Log = no_log,
             on_step: Callable[[Step], None] | None = None,
             autoconfig_url: str = AUTOCONFIG_URL) -> Report:
    """Check ``target`` layer by layer; ``on_step(step)`` as each step ends.

    ``resolver``: the DNS server for addresses, records and DNSSEC (None: the system's);
    ``dns_servers``: servers to compare with it (the DNS tab's saved ones); ``anchors``: a
    DNSSEC trust anchor file or text (None: the root's); ``cafile`` adds a CA for TLS.
    Raises DoctorInputError for a target it cannot read, Cancelled when cancelled; every
    other failure is a step's result."""
    parsed = target if isinstance(target, Target) else parse_target(target)
    doctor = _Doctor(parsed, list(dns_servers), resolver, anchors, timeout, cafile,
                     token or CancelToken(), log, on_step, autoconfig_url)
    return doctor.run()


class _StepRun:
    """``with doctor.step(...) as step``: timed; a NetError inside makes the step FAIL with its
    message (and the advice given for that error), then is swallowed."""

    def __init__(self, doctor: "_Doctor", step: Step, advise: Callable[[NetError], str] | None):
        self.doctor, self.step, self.advise = doctor, step, advise

    def __enter__(self) -> Step:
        self.started = time.monotonic()
        self.doctor.token.check()
        return self.step

    def __exit__(self, kind, exc, tb) -> bool:
        step = self.step
        step.seconds = time.monotonic() - self.started
        swallow = False
        if exc is not None and not isinstance(exc, Cancelled) and isinstance(exc, (NetError, OSError)):
            if self.doctor.token.cancelled:
                return False
            err = translate(exc)
            step.status = FAIL
            step.summary = str(err)
            if self.advise is not None and not step.advice:
                step.advice = self.advise(err)
            swallow = True
        if exc is None or swallow:
            self.doctor.report.steps.append(step)
            if self.doctor.on_step is not None:
                self.doctor.on_step(step)
        return swallow


class _Doctor:
    def __init__(self, target: Target, dns_servers, resolver, anchors, timeout, cafile, token,
                 log, on_step, autoconfig_url: str = AUTOCONFIG_URL):
        self.target = target
        self.dns_servers = [s for s in dns_servers if s]
        self.resolver = resolver or None
        self.anchors = anchors
        self.timeout = timeout
        self.cafile = cafile
        self.token = token
        self.log = log
        self.on_step = on_step
        self.autoconfig_url = autoconfig_url
        self.report = Report(target.url if target.kind != "email" else target.email, target.kind)

    def step(self, layer: str, title: str, section: str = "",
             advise: Callable[[NetError], str] | None = None) -> _StepRun:
        return _StepRun(self, Step(layer, title, section=section), advise)

    def skip(self, layer: str, title: str, why: str, section: str = "") -> None:
        step = Step(layer, title, SKIP, why, section=section)
        self.report.steps.append(step)
        if self.on_step is not None:
            self.on_step(step)

    def run(self) -> Report:
        started = time.monotonic()
        self.log("*", f"Connection doctor: {self.report.target}")
        if self.target.kind == "email":
            self.check_mail()
        else:
            t = self.target
            self.check_connection(t.host, t.port, t.scheme, "", t.path)
        self.report.seconds = time.monotonic() - started
        verdict = self.report.decide()
        self.log("*" if verdict.status != FAIL else "!", f"Verdict: {verdict.message}")
        return self.report

    # -- DNS helpers -----------------------------------------------------------------------
    def _query(self, name: str, rdtype: str, server=None, **kw):
        from netgui.net.dns.lookup import query
        return query(name, rdtype, server if server is not None else self.resolver,
                     timeout=min(self.timeout, 5.0), token=self.token, log=self.log, **kw)

    def _dns_addresses(self, host: str, server) -> list[str]:
        """A and AAAA from ``server``; one of them failing is fine if the other answers."""
        import dns.rcode
        found: list[str] = []
        problems: list[NetError] = []
        for rdtype in ("A", "AAAA"):
            result = self._query(host, rdtype, server)
            code = result.message.rcode()
            if code == dns.rcode.NXDOMAIN:
                raise ResolveError(f"{host} does not exist (NXDOMAIN from {result.server})")
            if code != dns.rcode.NOERROR:
                problems.append(ResolveError(f"{result.server} answers {result.rcode} for {host} {rdtype}"))
            found += [r.data for r in result.answer if r.rdtype == rdtype]
        if problems and not found:
            raise problems[0]
        return found

    def _system_addresses(self, host: str, port: int) -> list[str]:
        """getaddrinfo in a helper thread: a resolver that never answers cannot hold the doctor."""
        box: dict = {}

        def work() -> None:
            try:
                box["infos"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            except Exception as exc:
                box["error"] = exc

        helper = threading.Thread(target=work, name="netgui-doctor-resolve", daemon=True)
        helper.start()
        deadline = time.monotonic() + self.timeout
        while helper.is_alive():
            self.token.check()
            if time.monotonic() > deadline:
                raise NetTimeout(f"The system resolver did not answer for {host} in "
                                 f"{self.timeout:.0f} s")
            helper.join(0.05)
        if "error" in box:
            raise translate(box["error"], host, port)
        return list(dict.fromkeys(info[4][0] for info in box["infos"]))

    # -- one connection ----------------------------------------------------------------------
    def check_connection(self, host: str, port: int, scheme: str, section: str, path: str = "/") -> None:
        spec = SCHEMES[scheme]
        addresses = self.resolve(host, port, section)
        if addresses is None:
            for layer, title in (("tcp", "TCP connection"), ("tls", "TLS"), ("greeting", "Greeting")):
                if layer != "tls" or spec.tls or spec.starttls:
                    self.skip(layer, title, "not tried: the name did not resolve", section)
            return
        working = self.connect_all(addresses, port, section)
        if working is None:
            for layer, title in (("tls", "TLS"), ("greeting", "Greeting")):
                if layer != "tls" or spec.tls or spec.starttls:
                    self.skip(layer, title, "not tried: no address took the connection", section)
            return
        if spec.protocol == "http":
            self.check_http(host, port, scheme, working, section, path)
        elif spec.protocol == "dns":
            self.check_dns(working, port, section)
        else:
            self.check_dialog(host, port, scheme, working, section)

    def resolve(self, host: str, port: int, section: str) -> list[str] | None:
        if is_address(host):
            with self.step("resolve", "Name resolution", section) as step:
                step.status, step.summary = INFO, f"{host} is an address: nothing to look up"
            return [host]
        which = f"the DNS server {self.resolver}" if self.resolver else "the system resolver"

        def advise(err: NetError) -> str:
            if isinstance(err, NetTimeout):
                return (f"{which.capitalize()} does not answer: check the network, or pick a DNS "
                        "server that works (DNS tab, Compare).")
            return (f"Check the spelling of {host}. If it is right, the name is not published in "
                    f"DNS, or {which} cannot reach DNS: compare with another server in the DNS tab.")

        addresses = None
        with self.step("resolve", "Name resolution", section, advise) as step:
            addresses = (self._dns_addresses(host, self.resolver) if self.resolver
                         else self._system_addresses(host, port))
            if not addresses:
                addresses = None
                raise ResolveError(f"{host} has no address (no A or AAAA record)")
            step.status = OK
            step.summary = f"{host} → {', '.join(addresses)}"
            step.details = [f"asked {which}"]
        if addresses is None:
            return None
        if self.dns_servers:
            self.compare(host, addresses, section)
        if "." in host and not host.endswith(".localhost"):  # not a name only /etc/hosts knows
            self.dnssec(host, section)
        return addresses

    def compare(self, host: str, addresses: list[str], section: str) -> None:
        with self.step("compare", "Saved DNS servers", section) as step:
            mine = set(addresses)
            differ, failed = [], []
            for server in self.dns_servers:
                try:
                    theirs = set(self._dns_addresses(host, server))
                except NetError as exc:
                    failed.append(server)
                    step.details.append(f"{server}: {exc}")
                    continue
                if theirs == mine:
                    step.details.append(f"{server}: the same ({', '.join(sorted(theirs))})")
                else:
                    differ.append(server)
                    step.details.append(f"{server}: {', '.join(sorted(theirs)) or 'no address'}")
            if differ:
                step.status = WARN
                step.summary = f"{', '.join(differ)} give{'s' if len(differ) == 1 else ''} other addresses"
                step.advice = ("The resolver netgui uses and your saved DNS servers disagree: a stale "
                               "cache, split DNS (a VPN or company network) or a resolver that rewrites "
                               "answers. Compare them in the DNS tab.")
            elif failed:
                step.status = WARN
                step.summary = f"{', '.join(failed)} did not answer"
                step.advice = "A saved DNS server does not answer: check its address in the DNS tab."
            else:
                step.status = OK
                step.summary = f"all {len(self.dns_servers)} saved servers agree"

    def dnssec(self, host: str, section: str) -> None:
        from netgui.net.dns.dnssec import BOGUS, INSECURE, SECURE, validate
        with self.step("dnssec", "DNSSEC", section) as step:
            try:
                result = self._query(host, "A", do=True)
                if not result.answer:
                    result = self._query(host, "AAAA", do=True)
            except NetError as exc:
                step.status, step.summary = INFO, f"not checked: {exc}"
                return
            rdtype = result.qtype
            if not any(r.rdtype == "RRSIG" for r in result.answer):
                step.status = INFO
                step.summary = "not signed (the answer carries no signature)"
                return
            check = validate(host, rdtype, self.resolver, anchors=self.anchors,
                             timeout=min(self.timeout, 5.0), token=self.token, log=self.log)
            step.details = [f"[{link.status}] {link.zone} {link.what}: {link.detail}" for link in check.chain]
            if check.verdict == SECURE:
                step.status, step.summary = OK, f"signed and valid ({check.reason})"
            elif check.verdict == INSECURE:
                step.status, step.summary = INFO, f"not protected: {check.reason}"
            elif check.verdict == BOGUS:
                where = f" at {check.where}" if check.where else ""
                step.status, step.summary = FAIL, f"bogus{where}: {check.reason}"
                step.advice = ("Validating resolvers (many ISPs, 1.1.1.1, 9.9.9.9) refuse this name: its "
                               "DNSSEC signatures do not verify. The zone's administrator must re-sign "
                               "it or fix the DS record at the parent.")
            else:
                step.status, step.summary = WARN, f"indeterminate: {check.reason}"

    def connect_all(self, addresses: list[str], port: int, section: str) -> str | None:
        working = None
        results = []
        for address in addresses:
            where = f"[{address}]:{port}" if ":" in address else f"{address}:{port}"
            family = "IPv6" if ":" in address else "IPv4"

            def advise(err: NetError, where=where) -> str:
                text = str(err)
                if "refused" in text:
                    return (f"Nothing listens on {where}: the service is down, or it uses another "
                            "port (IMAP over TLS is 993, SMTP submission 587 or 465, HTTPS 443).")
                if isinstance(err, NetTimeout):
                    return (f"No answer from {where}: a firewall drops the connection, or the host is "
                            "down. Try from another network.")
                return f"{where} cannot be reached from here: check the network (VPN, {family} route)."

            with self.step("tcp", f"TCP to {where} ({family})", section, advise) as step:
                started = time.monotonic()
                sock = self._connect(address, port)
                sock.close()
                step.status, step.summary = OK, f"connected in {(time.monotonic() - started) * 1000:.0f} ms"
                working = working or address
            results.append(step)
        failed = [s for s in results if s.status == FAIL]
        if working and failed:
            for step in failed:  # one address of several: clients that try it first will wait
                step.status = WARN
                step.advice = ("Some addresses of this host do not take connections while others do: "
                               "programs that try those first wait for a timeout. The server's "
                               "administrator should fix or withdraw them (often a broken IPv6 "
                               "address).")
        return working

    def _connect(self, address: str, port: int) -> socket.socket:
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            with self.token.watch(sock):
                sock.connect((address, port))
        except OSError as exc:
            sock.close()
            self.token.check()
            raise translate(exc, address, port) from exc
        return sock

    def _wire(self, address: str, port: int, host: str) -> Wire:
        sock = self._connect(address, port)
        where = f"{host}:{port}"
        return Wire(sock, self.token, self.log, where)

    # -- TLS ------------------------------------------------------------------------------------
    def tls(self, wire: Wire, host: str, port: int, address: str, section: str,
            prepare: Callable[[Wire], None] | None, protocol: str, starttls: bool) -> bool:
        """The handshake on ``wire`` (as netgui makes it: verified), then a look at the
        certificate chain and OCSP staple on a second connection; True if verified."""
        title = "STARTTLS" if starttls else "TLS"
        verified = False

        def advise(err: NetError) -> str:
            if isinstance(err, CertificateError):
                return _certificate_advice(str(err), host)
            return (f"The server did not answer in TLS: it may speak plain {protocol} on port {port}. "
                    "Check the port and the security setting (TLS from the start, STARTTLS or none).")

        with self.step("tls", title, section, advise) as step:
            try:
                wire.upgrade(tls_context(verify=True, cafile=self.cafile), host)
                verified = True
            except ssl.SSLCertVerificationError as exc:
                err = translate(exc, host, port)
                step.status, step.summary = FAIL, str(err)
                step.advice = _certificate_advice(str(err), host)
            except ssl.SSLError as exc:
                err = translate(exc, host, port)
                if not starttls:
                    plain = self._peek_plain(address, port, host, protocol)
                    if plain:
                        err = TLSError(f"{err} (the port answers in plain text: {plain})")
                raise err from exc
            except OSError as exc:
                raise translate(exc, host, port) from exc
            info = self._inspect(address, port, host, prepare)
            if verified:
                tls_sock = wire.sock
                step.summary = f"{tls_sock.version()}, {tls_sock.cipher()[0]}"
            else:
                step.summary += f" ({info.get('version', '?')}, {info.get('cipher', '?')})"
            step.details = info.get("details", [])
            days = info.get("days_left")
            if verified:
                step.status = OK
                if days is not None:
                    step.summary += f"; certificate valid for {days} more days"
                    if days < EXPIRY_WARN_DAYS:
                        step.status = WARN
                        step.advice = (f"The certificate of {host} expires in {days} days: its "
                                       "administrator should renew it now.")
                if info.get("revoked"):
                    step.status, step.summary = FAIL, "the stapled OCSP response says REVOKED"
                    step.advice = f"The certificate of {host} was revoked: do not continue."
        return verified

    def _peek_plain(self, address: str, port: int, host: str, protocol: str) -> str:
        """What a port says in plain text (after a failed TLS handshake), or ""."""
        try:
            wire = self._wire(address, port, host)
        except NetError:
            return ""
        try:
            wire.sock.settimeout(1.5)
            if protocol == "HTTP":
                wire.send("HEAD / HTTP/1.0\r\n")
            return speaks(wire.first_line())
        except NetError:
            return ""
        finally:
            wire.finish()

    def _inspect(self, address: str, port: int, host: str,
                 prepare: Callable[[Wire], None] | None) -> dict:
        """Chain as sent, names, dates, OCSP staple: a second handshake with pyOpenSSL (the
        ssl module shows neither the chain as sent nor a stapled OCSP response)."""
        try:
            wire = self._wire(address, port, host)
        except NetError as exc:
            return {"details": [f"the certificate could not be looked at: {exc}"]}
        try:
            if prepare is not None:
                prepare(wire)
            return _handshake_facts(wire.sock, None if is_address(host) else host,
                                    self.timeout, self.token)
        except NetError as exc:
            return {"details": [f"the certificate could not be looked at: {exc}"]}
        finally:
            wire.finish()

    # -- greetings --------------------------------------------------------------------------------
    def check_dialog(self, host: str, port: int, scheme: str, address: str, section: str) -> None:
        spec = SCHEMES[scheme]
        dialog: Dialog = DIALOGS[spec.protocol]()

        def advise(err: NetError) -> str:
            if isinstance(err, WrongGreeting):
                usual = ", ".join(f"{s} {p.port}" for s, p in SCHEMES.items()
                                  if p.protocol == spec.protocol and p.port)
                return (f"Port {port} does not speak {dialog.name}: check the port ({dialog.name} "
                        f"usually runs on {usual}) and the protocol.")
            if isinstance(err, NetTimeout) and not spec.tls:
                tls_scheme = next((s for s, p in SCHEMES.items()
                                   if p.protocol == spec.protocol and p.tls), None)
                if tls_scheme:
                    return (f"No greeting in {self.timeout:.0f} s: this port may expect TLS from the "
                            f"start (try {tls_scheme}://{host}:{SCHEMES[tls_scheme].port}).")
            return f"The {dialog.name} server answers, but not as it should: {err}"

        try:
            wire = self._wire(address, port, host)
        except NetError as exc:
            with self.step("greeting", f"{dialog.name} greeting", section, advise):
                raise exc
            return
        try:
            if spec.tls:
                if not self.tls(wire, host, port, address, section, None, dialog.name, False):
                    self.skip("greeting", f"{dialog.name} greeting",
                              "not tried: the certificate is not trusted (netgui stops here too)",
                              section)
                    return
            with self.step("greeting", f"{dialog.name} greeting", section, advise) as step:
                step.summary, step.details = dialog.hello(wire)
                step.status = OK
            if step.status != OK or spec.tls or not spec.starttls:
                return
            self.check_starttls(wire, dialog, host, port, address, scheme, section)
            try:
                dialog.bye(wire)
            except NetError:
                pass
        finally:
            wire.finish()

    def check_starttls(self, wire: Wire, dialog: Dialog, host: str, port: int, address: str,
                       scheme: str, section: str) -> None:
        spec = SCHEMES[scheme]
        if not dialog.offers_tls:
            with self.step("tls", "STARTTLS", section) as step:
                if spec.protocol == "getfile":
                    step.status, step.summary = INFO, "an original server: no TLS"
                    return
                step.status = FAIL if spec.starttls == "need" else WARN
                step.summary = f"not offered: {dialog.name} would cross the network unencrypted"
                step.advice = (f"The server does not offer STARTTLS on port {port}: passwords and mail "
                               "would be readable on the way. Use its TLS port if it has one, or ask "
                               "its administrator to enable TLS.")
            return

        def prepare(other: Wire) -> None:
            fresh = DIALOGS[spec.protocol]()
            if spec.protocol != "getfile":
                fresh.hello(other)
            fresh.starttls(other)

        own = None
        try:
            if spec.protocol == "getfile":  # one request per connection: STARTTLS on a new one
                own = wire = self._wire(address, port, host)
            try:
                dialog.starttls(wire)
            except NetError as exc:
                with self.step("tls", "STARTTLS", section) as step:
                    step.status, step.summary = WARN, str(exc)
                    step.advice = "The server offers STARTTLS but refuses it: ask its administrator."
                return
            if not self.tls(wire, host, port, address, section, prepare, dialog.name, True):
                return
            with self.step("greeting", f"{dialog.name} over TLS", section) as step:
                step.summary, step.details = dialog.again(wire)
                step.status = OK
        finally:
            if own is not None:
                own.finish()

    def check_http(self, host: str, port: int, scheme: str, address: str, section: str,
                   path: str) -> None:
        from netgui.net.http.request import Request
        from netgui.net.http.session import HttpSession
        if SCHEMES[scheme].tls:
            try:
                wire = self._wire(address, port, host)
            except NetError as exc:
                with self.step("tls", "TLS", section):
                    raise exc
                return
            try:
                verified = self.tls(wire, host, port, address, section, None, "HTTP", False)
            finally:
                wire.finish()
            if not verified:
                self.skip("greeting", "HTTP HEAD", "not tried: the certificate is not trusted "
                          "(netgui stops here too)", section)
                return
        where = f"[{host}]" if ":" in host else host
        url = f"{'https' if SCHEMES[scheme].tls else 'http'}://{where}:{port}{path or '/'}"

        def advise(err: NetError) -> str:
            return f"The web server at {host}:{port} does not answer HTTP properly: {err}"

        with self.step("greeting", "HTTP HEAD", section, advise) as step:
            session = HttpSession(cafile=self.cafile)
            try:
                response = session.send(Request(url=url, method="HEAD", follow_redirects=False,
                                                timeout=self.timeout), token=self.token, log=self.log)
            finally:
                session.close()
            step.summary = response.status_line
            step.details = [f"{n}: {v}" for n, v in response.headers
                            if n.lower() in ("server", "location", "content-type", "strict-transport-security",
                                             "alt-svc", "date")]
            if response.status >= 500:
                step.status = WARN
                step.advice = (f"The web server answers {response.status_line}: the site itself has a "
                               "problem (not the network).")
            else:
                step.status = OK

    def check_dns(self, address: str, port: int, section: str) -> None:
        with self.step("greeting", "DNS query", section) as step:
            result = self._query(".", "NS", (address, port))
            step.status = OK
            step.summary = f"answers DNS: {result.rcode}, {len(result.answer)} records, " \
                           f"{result.elapsed * 1000:.0f} ms"

    # -- e-mail --------------------------------------------------------------------------------------
    def check_mail(self) -> None:
        domain = self.target.domain
        mx_hosts: list[str] = []
        with self.step("records", f"MX of {domain}", "", _dns_advice(domain)) as step:
            result = self._query(domain, "MX")
            if result.rcode == "NXDOMAIN":
                raise ResolveError(f"{domain} does not exist (NXDOMAIN)")
            rows = sorted((r for r in result.answer if r.rdtype == "MX"),
                          key=lambda r: int(r.data.split()[0]))
            mx_hosts = [r.data.split()[1].rstrip(".") for r in rows if r.data.split()[1] != "."]
            step.details = [r.data for r in rows]
            if mx_hosts:
                step.status, step.summary = OK, f"{len(mx_hosts)} mail exchanger(s): {', '.join(mx_hosts)}"
            else:
                step.status = WARN
                step.summary = "no MX record: mail for the domain goes to its address, or nowhere"
                step.advice = f"{domain} publishes no MX record: its DNS administrator should add one."
        if step.status == FAIL:
            return
        services: dict[str, tuple[str, int]] = {}
        with self.step("records", f"SRV records of {domain}") as step:
            for prefix, scheme in SRV_SERVICES:
                result = self._query(f"{prefix}.{domain}", "SRV")
                for record in result.answer:
                    if record.rdtype != "SRV":
                        continue
                    _, _, port, target = record.data.split()
                    target = target.rstrip(".")
                    if target:  # "." means "not offered here"
                        step.details.append(f"{prefix}: {target}:{port}")
                        services.setdefault(scheme, (target, int(port)))
                    else:
                        step.details.append(f"{prefix}: not offered")
            step.status = OK if services else INFO
            step.summary = (", ".join(f"{s} {h}:{p}" for s, (h, p) in services.items()) if services
                            else "none (most providers publish none)")
        found = self.autoconfig(domain)
        for scheme, server in found.items():
            services.setdefault(scheme, server)
        incoming = next((s for s in ("imaps", "imap", "pop3s", "pop3") if s in services), None)
        outgoing = next((s for s in ("submissions", "submission", "smtps", "smtp") if s in services), None)
        checks = [(s, services[s]) for s in (incoming, outgoing) if s]
        if not checks and mx_hosts:
            checks = [("smtp", (mx_hosts[0], 25))]
        for scheme, (host, port) in checks:
            self.check_connection(host, port, scheme, f"{scheme}://{host}:{port}")

    def autoconfig(self, domain: str) -> dict[str, tuple[str, int]]:
        """The autoconfig file (found or not) and the servers it names."""
        from netgui.net.http.request import Request
        from netgui.net.http.session import HttpSession
        url = self.autoconfig_url.format(domain=domain)
        found: dict[str, tuple[str, int]] = {}
        with self.step("autoconfig", "Autoconfig") as step:
            step.details = [url]
            session = HttpSession(cafile=self.cafile)
            try:
                response = session.send(Request(url=url, timeout=min(self.timeout, 5.0)),
                                        token=self.token, log=self.log)
            except NetError as exc:
                step.status, step.summary = INFO, f"not found ({exc})"
                return found
            finally:
                session.close()
            if response.status != 200:
                step.status, step.summary = INFO, f"not found ({response.status_line})"
                return found
            try:
                root = ET.fromstring(response.body[:1 << 20])
            except ET.ParseError as exc:
                step.status, step.summary = WARN, f"found, but it is not valid XML: {exc}"
                step.advice = f"The autoconfig file at {url} cannot be read: its publisher should fix it."
                return found
            for server in root.iter():
                if server.tag not in ("incomingServer", "outgoingServer"):
                    continue
                kind = server.get("type", "")
                host = (server.findtext("hostname") or "").strip()
                port = (server.findtext("port") or "").strip()
                socket_type = (server.findtext("socketType") or "").strip().upper()
                if not host or not port.isdigit():
                    continue
                scheme = {("imap", "SSL"): "imaps", ("imap", "STARTTLS"): "imap",
                          ("pop3", "SSL"): "pop3s", ("pop3", "STARTTLS"): "pop3",
                          ("smtp", "SSL"): "smtps", ("smtp", "STARTTLS"): "submission"}.get(
                    (kind, socket_type), {"imap": "imap", "pop3": "pop3", "smtp": "smtp"}.get(kind))
                if scheme:
                    found.setdefault(scheme, (host, int(port)))
                    step.details.append(f"{server.tag}: {kind} {host}:{port} {socket_type}")
            step.status = OK
            step.summary = "found: " + (", ".join(f"{s} {h}:{p}" for s, (h, p) in found.items())
                                        or "but it names no server")
        return found


def _dns_advice(domain: str) -> Callable[[NetError], str]:
    return lambda err: (f"The domain {domain} cannot be looked up: check its spelling, and whether "
                        "DNS works at all (DNS tab).")


def _certificate_advice(message: str, host: str) -> str:
    lowered = message.lower()
    if "expired" in lowered:
        return (f"The certificate of {host} has expired: its administrator must renew it. Going on "
                "without verifying would let anyone in between read the connection.")
    if "hostname" in lowered or "match" in lowered or "ip address mismatch" in lowered:
        return (f"The certificate is not for {host}: connect with a name it lists (see the "
                "details), or the server is set up for another name.")
    if "self" in lowered or "local issuer" in lowered or "unknown ca" in lowered:
        return ("The certificate comes from an authority this computer does not trust (self-signed, "
                "or a private CA): if you expect that, add the CA to the system; otherwise do not "
                "continue.")
    if "not yet valid" in lowered:
        return "The certificate is not valid yet: check this computer's clock, or the server's."
    return f"The certificate of {host} is not trusted: {message}"


def _wait(sock: socket.socket, write: bool, deadline: float, token: CancelToken) -> None:
    poller = select.poll()
    poller.register(sock, select.POLLOUT if write else select.POLLIN)
    while True:
        token.check()
        left = deadline - time.monotonic()
        if left <= 0:
            raise NetTimeout("The TLS handshake did not finish in time")
        if poller.poll(min(left, 0.2) * 1000):
            return


def _handshake_facts(sock: socket.socket, server_name: str | None, timeout: float,
                     token: CancelToken) -> dict:
    from cryptography.x509 import ocsp
    from OpenSSL import SSL
    context = SSL.Context(SSL.TLS_CLIENT_METHOD)
    context.set_verify(SSL.VERIFY_NONE, lambda *args: True)
    staples: list[bytes] = []
    context.set_ocsp_client_callback(lambda conn, data, extra: staples.append(data) or True)
    conn = SSL.Connection(context, sock)
    if server_name:
        conn.set_tlsext_host_name(server_name.encode("idna"))
    conn.request_ocsp()
    conn.set_connect_state()
    deadline = time.monotonic() + timeout
    while True:
        try:
            conn.do_handshake()
            break
        except SSL.WantReadError:
            _wait(sock, False, deadline, token)
        except SSL.WantWriteError:
            _wait(sock, True, deadline, token)
        except SSL.Error as exc:
            raise TLSError(f"TLS handshake failed: {exc}") from None
    chain = conn.get_peer_cert_chain(as_cryptography=True) or []
    try:
        conn.shutdown()  # a polite close_notify: servers need not log an aborted session
    except SSL.Error:
        pass
    facts: dict = {"version": conn.get_protocol_version_name(), "cipher": conn.get_cipher_name(),
                   "details": []}
    details = facts["details"]
    now = datetime.now(timezone.utc)
    for index, cert in enumerate(chain):
        subject = cert.subject.rfc4514_string() or "(no subject)"
        issuer = cert.issuer.rfc4514_string()
        until = cert.not_valid_after_utc
        days = (until - now).days
        if index == 0:
            facts["days_left"] = days
            names = _names(cert)
            details.append(f"names: {', '.join(names) if names else '(none)'}")
            details.append(f"valid {cert.not_valid_before_utc:%Y-%m-%d} to {until:%Y-%m-%d} "
                           + (f"({days} days left)" if days >= 0 else f"(EXPIRED {-days} days ago)"))
        details.append(f"chain {index}: {subject}, issued by {issuer}")
    if staples and staples[0]:
        try:
            response = ocsp.load_der_ocsp_response(staples[0])
            if response.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL:
                status = response.certificate_status.name.lower()
                facts["revoked"] = status == "revoked"
                details.append(f"OCSP stapled: {status}, updated {response.this_update_utc:%Y-%m-%d %H:%M}"
                               + (f", next {response.next_update_utc:%Y-%m-%d}" if response.next_update_utc else ""))
            else:
                details.append(f"OCSP stapled: {response.response_status.name.lower()}")
        except ValueError as exc:
            details.append(f"OCSP stapled, but unreadable: {exc}")
    else:
        details.append("OCSP: no response stapled")
    return facts


def _names(cert) -> list[str]:
    from cryptography import x509
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    return [str(n) for n in san.get_values_for_type(x509.DNSName)] + \
        [str(a) for a in san.get_values_for_type(x509.IPAddress)]


__all__ = ["diagnose", "AUTOCONFIG_URL", "DEFAULT_TIMEOUT", "ConnectError"]
