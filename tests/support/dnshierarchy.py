"""A private DNS hierarchy on loopback for +trace and DNSSEC tests.

Built at test time in a temp folder:

- keys made with ``dnssec-keygen`` (ECDSAP256SHA256) and zones signed with
  ``dnssec-signzone`` (bind9-utils), the expired zone with explicit past ``-s``/``-e`` dates;
- three NSD processes (``nsd``), one per level, on 127.0.0.2 (root), 127.0.0.3 (``test.``,
  NSEC3) and 127.0.0.4 (the leaf zones), all on one shared port (root hints carry addresses
  only, so trace takes the port as an option; port 53 works too when it is free);
- a root hints file (named.root format) and the root trust anchor (DS lines, and a
  ``trust-anchors {}`` file for delv);
- on demand, unbound on 127.0.0.5 as a validating resolver for that hierarchy (stub zones
  with the shared port, the same trust anchor, extended DNS errors on), with DNS over
  HTTPS (HTTP/2) on a second port and a trustme certificate: the reference for ``delv`` and
  the source of real EDE codes.

Leaf zones and the verdict a validator must reach:

===============  =========================================================  ============
zone             how it is made                                             verdict
===============  =========================================================  ============
secure.test.     signed (NSEC), DS in test.                                 secure
insecure.test.   unsigned, no DS (test.'s NSEC3 proves it)                  insecure
bogus.test.      signed, then www's A record changed in the signed file     bogus
expired.test.    signed with -s/-e in 2020: every RRSIG expired             bogus
badds.test.      signed, but the DS in test. is for a key not in the zone   bogus
unsupported.     signed, but its only DS in test. is ECC-GOST (algorithm     insecure
 test.           12, digest 3), which no validator here implements
glueless.test.   signed; its name server ns.glueless.alt. lives in a        secure
                 second TLD (alt., NSEC, on the TLD server), so test.
                 holds no glue for it and +trace must look it up
===============  =========================================================  ============

Every signed leaf also has wildcards (``*.wild`` A and TXT) for wildcard-expansion proofs
(NSEC), and test. has ``*.wild.test.`` A for the NSEC3 case. ``lame.test.`` is delegated
to a name server name that does not exist.
"""

from __future__ import annotations

import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import dns.message
import dns.query
import pytest

from tests.support.peers import require_binary, stop_process

ROOT_ADDR, TLD_ADDR, LEAF_ADDR = "127.0.0.2", "127.0.0.3", "127.0.0.4"
RESOLVER_ADDR, PLAIN_RESOLVER_ADDR = "127.0.0.5", "127.0.0.6"
LEAVES = ("secure", "insecure", "bogus", "expired", "badds", "unsupported", "glueless")
EXPECTED = {"secure.test.": "secure", "insecure.test.": "insecure", "bogus.test.": "bogus",
            "expired.test.": "bogus", "badds.test.": "bogus", "unsupported.test.": "insecure",
            "glueless.test.": "secure"}
GLUELESS_NS = "ns.glueless.alt."
LAME_NS = "ns.nowhere.alt."       # lame.test.'s name server: a name that does not exist
# ECC-GOST (RFC 5933): algorithm 12, digest type 3 (GOST R 34.11-94, 32 bytes)
GOST_DS = "unsupported.test. IN DS 4242 12 3 " + "ab" * 32 + "\n"
EXPIRED_INCEPTION, EXPIRED_EXPIRATION = "20200101000000", "20200201000000"
TAMPERED_FROM, TAMPERED_TO = "192.0.2.1", "192.0.2.66"


def shared_free_port(addresses, tries: int = 50) -> int:
    """A port free for UDP and TCP on every address (the hierarchy's servers share it)."""
    for _ in range(tries):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.bind((addresses[0], 0))
            port = probe.getsockname()[1]
        try:
            held = []
            for address in addresses:
                for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
                    s = socket.socket(socket.AF_INET, kind)
                    held.append(s)
                    s.bind((address, port))
            return port
        except OSError:
            continue
        finally:
            for s in held:
                s.close()
    raise RuntimeError("no port free on all of " + ", ".join(addresses))


def _soa(origin: str, ns: str) -> str:
    mbox = "hostmaster." + ("" if origin == "." else origin)
    return (f"$TTL 300\n$ORIGIN {origin}\n@ IN SOA {ns} {mbox} 1 3600 600 86400 300\n"
            f"@ IN NS {ns}\n")


@dataclass
class Keys:
    ksk: str        # file stem K<zone>+013+<tag>
    zsk: str
    ksk_tag: int
    zsk_tag: int


@dataclass
class DnsHierarchy:
    workdir: Path
    port: int
    keys: dict = field(default_factory=dict)
    procs: list = field(default_factory=list)
    ds: dict = field(default_factory=dict)       # zone -> DS lines (zone-file text)
    hints_file: Path | None = None
    anchor_file: Path | None = None               # ". IN DS ..." lines (also for unbound)
    delv_anchor_file: Path | None = None          # trust-anchors { } for delv
    orphan_tag: int = 0                           # the key tag of badds.test.'s false DS

    # ------------------------------------------------------------ building
    def _run(self, *args) -> str:
        done = subprocess.run([str(a) for a in args], cwd=self.workdir, capture_output=True,
                              text=True)
        if done.returncode:
            raise RuntimeError(f"{args[0]} failed: {done.stderr.strip()}")
        return done.stdout

    def _keygen(self, zone: str, ksk: bool) -> tuple[str, int]:
        keygen = require_binary("dnssec-keygen")
        args = [keygen, "-q", "-a", "ECDSAP256SHA256", "-K", self.workdir / "keys"]
        stem = self._run(*(args + (["-f", "KSK"] if ksk else []) + [zone])).strip()
        return stem, int(stem.rsplit("+", 1)[1])

    def _keys(self, zone: str) -> Keys:
        ksk, ksk_tag = self._keygen(zone, True)
        zsk, zsk_tag = self._keygen(zone, False)
        self.keys[zone] = Keys(ksk, zsk, ksk_tag, zsk_tag)
        return self.keys[zone]

    def _sign(self, zone: str, source: Path, *, nsec3: bool = False, dates=None) -> Path:
        signzone = require_binary("dnssec-signzone")
        self._keys(zone)
        out = source.with_suffix(".signed")
        args = [signzone, "-S", "-K", self.workdir / "keys", "-d", self.workdir / "keys",
                "-o", zone, "-f", out]
        if nsec3:
            args += ["-3", "-", "-H", "0"]       # no salt, no extra iterations (RFC 9276)
        if dates:
            args += ["-P", "-s", dates[0], "-e", dates[1]]  # -P: no check (it would fail)
        self._run(*args, source)
        ds = (self.workdir / "keys" / f"dsset-{zone}").read_text()
        self.ds[zone] = ds
        return out

    def build(self) -> "DnsHierarchy":
        (self.workdir / "keys").mkdir(parents=True, exist_ok=True)
        zones = self.workdir / "zones"
        zones.mkdir(exist_ok=True)
        leaf_files = {}
        for leaf in LEAVES:
            origin = f"{leaf}.test."
            if leaf == "glueless":
                text = _soa(origin, GLUELESS_NS)
            else:
                text = _soa(origin, f"ns.{origin}") + f"ns A {LEAF_ADDR}\n"
            text += (
                f"www A {TAMPERED_FROM}\n"
                f"www AAAA 2001:db8::1\n"
                f"txt TXT \"zone {leaf}\"\n"
                f"alias CNAME www\n"
                f"mail MX 10 www\n"
                f"*.wild A 192.0.2.77\n"
                f'*.wild TXT "wildcard"\n')
            path = zones / f"{leaf}.test"
            path.write_text(text)
            if leaf == "insecure":
                leaf_files[origin] = path
            elif leaf == "expired":
                leaf_files[origin] = self._sign(origin, path,
                                                dates=(EXPIRED_INCEPTION, EXPIRED_EXPIRATION))
            else:
                leaf_files[origin] = self._sign(origin, path)
        # bogus: change a signed record after signing
        bogus = leaf_files["bogus.test."]
        signed = bogus.read_text()
        assert TAMPERED_FROM in signed
        bogus.write_text(signed.replace(f"A\t{TAMPERED_FROM}", f"A\t{TAMPERED_TO}"))
        assert TAMPERED_TO in bogus.read_text()
        # badds: the parent gets the DS of a key that is not in the zone
        stem, self.orphan_tag = self._keygen("badds.test.", True)
        dsfromkey = require_binary("dnssec-dsfromkey")
        self.ds["badds.test."] = self._run(dsfromkey, "-2", self.workdir / "keys" / f"{stem}.key")

        # unsupported: the parent's only DS has an algorithm nobody here implements
        self.ds["unsupported.test."] = GOST_DS

        tld = (_soa("test.", "ns.test.") + f"ns A {TLD_ADDR}\nwww A 192.0.2.10\n"
               "alias CNAME www.secure.test.\n*.wild A 192.0.2.78\n"
               f"lame NS {LAME_NS}\n")
        for leaf in LEAVES:
            if leaf == "glueless":   # out-of-bailiwick name server: no glue in test.
                tld += f"{leaf} NS {GLUELESS_NS}\n"
            else:
                tld += f"{leaf} NS ns.{leaf}.test.\nns.{leaf} A {LEAF_ADDR}\n"
            tld += self.ds.get(f"{leaf}.test.", "")
        (zones / "test").write_text(tld)
        tld_file = self._sign("test.", zones / "test", nsec3=True)

        alt = _soa("alt.", "ns1.alt.") + f"ns1 A {TLD_ADDR}\nns.glueless A {LEAF_ADDR}\n"
        (zones / "alt").write_text(alt)
        alt_file = self._sign("alt.", zones / "alt")

        root = (_soa(".", "a.root-servers.test.")
                + f"test. NS ns.test.\nns.test. A {TLD_ADDR}\n"
                + f"alt. NS ns1.alt.\nns1.alt. A {TLD_ADDR}\n"
                + f"a.root-servers.test. A {ROOT_ADDR}\n" + self.ds["test."] + self.ds["alt."])
        (zones / "root").write_text(root)
        root_file = self._sign(".", zones / "root")

        self.hints_file = self.workdir / "root.hints"
        self.hints_file.write_text(". 3600000 NS a.root-servers.test.\n"
                                   f"a.root-servers.test. 3600000 A {ROOT_ADDR}\n")
        self.anchor_file = self.workdir / "root.ds"
        self.anchor_file.write_text(self.ds["."])
        entries = []
        for line in self.ds["."].splitlines():
            parts = line.split()
            if len(parts) >= 7 and parts[2] == "DS":
                tag, alg, dt = parts[3:6]
                entries.append(f'\t"." static-ds {tag} {alg} {dt} "{"".join(parts[6:])}";')
        self.delv_anchor_file = self.workdir / "delv-anchors.conf"
        self.delv_anchor_file.write_text("trust-anchors {\n" + "\n".join(entries) + "\n};\n")

        self._nsd("root", ROOT_ADDR, {".": root_file})
        self._nsd("tld", TLD_ADDR, {"test.": tld_file, "alt.": alt_file})
        self._nsd("leaf", LEAF_ADDR, leaf_files)
        return self

    def _nsd(self, label: str, address: str, zones: dict) -> None:
        nsd = require_binary("nsd")
        base = self.workdir / f"nsd-{label}"
        base.mkdir(exist_ok=True)
        conf = base / "nsd.conf"
        nsid = label.encode().hex()
        lines = ["server:", f"  ip-address: {address}", f"  port: {self.port}",
                 '  username: ""', '  chroot: ""', f'  zonesdir: "{self.workdir / "zones"}"',
                 f'  pidfile: "{base / "nsd.pid"}"', '  database: ""',
                 f'  xfrdfile: "{base / "xfrd.state"}"', f'  zonelistfile: "{base / "zone.list"}"',
                 f'  xfrdir: "{base}"', f'  logfile: "{base / "nsd.log"}"', "  server-count: 1",
                 "  do-ip6: no", "  verbosity: 1", f"  nsid: {nsid}", "  hide-version: yes",
                 "remote-control:", "  control-enable: no"]
        for name, path in zones.items():
            lines += ["zone:", f'  name: "{name}"', f'  zonefile: "{path}"']
        conf.write_text("\n".join(lines) + "\n")
        check = subprocess.run([require_binary("nsd-checkconf"), str(conf)], capture_output=True,
                               text=True)
        if check.returncode:
            raise RuntimeError(f"nsd-checkconf: {check.stderr or check.stdout}")
        proc = subprocess.Popen([nsd, "-d", "-c", str(conf)], stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT)
        self.procs.append(proc)
        _wait_dns(address, self.port, next(iter(zones)), proc, base / "nsd.log")

    def stop(self) -> None:
        for proc in reversed(self.procs):
            stop_process(proc)
        self.procs.clear()

    # ------------------------------------------------------------ helpers for tests
    @property
    def servers(self) -> dict:
        return {".": (ROOT_ADDR, self.port), "test.": (TLD_ADDR, self.port),
                "alt.": (TLD_ADDR, self.port),
                **{f"{leaf}.test.": (LEAF_ADDR, self.port) for leaf in LEAVES}}


def _wait_dns(address: str, port: int, zone: str, proc, log: Path, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    request = dns.message.make_query(zone, "SOA")
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
            extra = log.read_text() if log.exists() else ""
            pytest.fail(f"{proc.args[0]} exited with {proc.returncode}: {out} {extra}")
        try:
            reply = dns.query.udp(request, address, port=port, timeout=0.3)
            if reply.rcode() == 0:
                return
        except Exception:
            pass
        time.sleep(0.05)
    pytest.fail(f"no DNS answer for {zone} SOA from {address}:{port} after {timeout} s")


class ValidatingResolver:
    """unbound on 127.0.0.5: recursive into the hierarchy, validating with its anchor,
    extended DNS errors on, DNS over HTTPS (HTTP/2 only) on ``https_port``.

    ``validate=False`` (on 127.0.0.6): the same without validation, for delv, which does
    not set CD and so needs a resolver that hands it bogus data to judge by itself."""

    def __init__(self, hierarchy: DnsHierarchy, workdir: Path, validate: bool = True):
        import trustme
        unbound = require_binary("unbound")
        workdir.mkdir(parents=True, exist_ok=True)
        self.host = host = RESOLVER_ADDR if validate else PLAIN_RESOLVER_ADDR
        self.port = shared_free_port([host])
        self.https_port = shared_free_port([host])
        self.ca = trustme.CA()
        cert = self.ca.issue_cert("resolver.test", host)
        self.cert_file, self.key_file = workdir / "cert.pem", workdir / "key.pem"
        cert.cert_chain_pems[0].write_to_path(str(self.cert_file))
        cert.private_key_pem.write_to_path(str(self.key_file))
        self.ca_file = workdir / "ca.pem"
        self.ca.cert_pem.write_to_path(str(self.ca_file))
        hp = hierarchy.port
        conf = workdir / "unbound.conf"
        lines = ["server:", f"  interface: {host}@{self.port}",
                 f"  interface: {host}@{self.https_port}",
                 f"  https-port: {self.https_port}", f'  tls-service-key: "{self.key_file}"',
                 f'  tls-service-pem: "{self.cert_file}"', '  http-endpoint: "/dns-query"',
                 "  do-ip6: no", '  username: ""', '  chroot: ""', f'  directory: "{workdir}"',
                 f'  pidfile: "{workdir / "unbound.pid"}"', f'  logfile: "{workdir / "unbound.log"}"',
                 "  use-syslog: no", "  do-daemonize: no", "  num-threads: 1",
                 "  do-not-query-localhost: no", "  access-control: 127.0.0.0/8 allow",
                 "  ede: yes", "  qname-minimisation: no", "  verbosity: 1",
                 '  local-zone: "test." nodefault', '  nsid: "ascii_resolver"']
        if validate:
            lines += [f'  trust-anchor-file: "{hierarchy.anchor_file}"', "  val-log-level: 2",
                      '  module-config: "validator iterator"']
        else:
            lines += ['  module-config: "iterator"']
        lines += [
                 "  cache-max-ttl: 0", "  cache-max-negative-ttl: 0", "  val-bogus-ttl: 0"]
        for zone, (address, _) in hierarchy.servers.items():
            lines += ["stub-zone:", f'  name: "{zone}"', f"  stub-addr: {address}@{hp}"]
        conf.write_text("\n".join(lines) + "\n")
        check = subprocess.run([require_binary("unbound-checkconf"), str(conf)],
                               capture_output=True, text=True)
        if check.returncode:
            raise RuntimeError(f"unbound-checkconf: {check.stderr or check.stdout}")
        self.proc = subprocess.Popen([unbound, "-d", "-c", str(conf)], stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        _wait_dns(host, self.port, "test.", self.proc, workdir / "unbound.log")

    @property
    def address(self) -> tuple[str, int]:
        return (self.host, self.port)

    @property
    def url(self) -> str:
        return f"https://resolver.test:{self.https_port}/dns-query"

    def stop(self) -> None:
        stop_process(self.proc)


def delv(hierarchy: DnsHierarchy, resolver: ValidatingResolver, name: str, rdtype: str = "A"):
    """delv's output for a name, asked through a non-validating resolver (``validate=False``)."""
    done = subprocess.run([require_binary("delv"), f"@{resolver.host}", "-p", str(resolver.port),
                           "-a", str(hierarchy.delv_anchor_file), "+root=.", name, rdtype],
                          capture_output=True, text=True, timeout=30)
    return done.stdout + done.stderr


__all__ = ["DnsHierarchy", "ValidatingResolver", "delv", "shared_free_port", "EXPECTED",
           "ROOT_ADDR", "TLD_ADDR", "LEAF_ADDR", "RESOLVER_ADDR", "PLAIN_RESOLVER_ADDR"]
