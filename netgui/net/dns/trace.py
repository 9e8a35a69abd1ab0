"""+trace: resolve a name from the root like ``dig +trace``.

Starting from the root hints (a named.root file: Debian's /usr/share/dns/root.hints, the
built-in list, or any file, so a trace runs against a private hierarchy), each step asks one
server of the current zone without recursion, and records which servers the zone has,
which one answered, how long it took, and what came back: a referral (NS, DS and glue of
the next zone down), the answer, a CNAME to follow (from the root again), NXDOMAIN or
NODATA. Servers that fail are listed in the step and the next one is asked. Name servers
without glue are looked up from the root (a note on the step says so; depth-limited).

Root hints carry addresses only, so every server is asked on ``port`` (53 unless told).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.zone

from netgui.net.cancel import CancelToken
from netgui.net.connection import Log, no_log
from netgui.net.errors import Cancelled, NetError
from .lookup import DnsInputError, Record, query, question_for, records, type_text

DEBIAN_HINTS = Path("/usr/share/dns/root.hints")
# IANA's root servers (IPv4), used when no hints file is given and Debian's is absent.
BUILTIN_ROOTS = [
    ("a.root-servers.net.", "198.41.0.4"), ("b.root-servers.net.", "170.247.170.2"),
    ("c.root-servers.net.", "192.33.4.12"), ("d.root-servers.net.", "199.7.91.13"),
    ("e.root-servers.net.", "192.203.230.10"), ("f.root-servers.net.", "192.5.5.241"),
    ("g.root-servers.net.", "192.112.36.4"), ("h.root-servers.net.", "198.97.190.53"),
    ("i.root-servers.net.", "192.36.148.17"), ("j.root-servers.net.", "192.58.128.30"),
    ("k.root-servers.net.", "193.0.14.129"), ("l.root-servers.net.", "199.7.83.42"),
    ("m.root-servers.net.", "202.12.27.33"),
]
MAX_STEPS = 40
MAX_CNAMES = 8
MAX_DEPTH = 3


class TraceError(NetError):
    """The trace could not go on (no server of a zone answered, a referral loop…)."""


def load_hints(hints=None, ipv6: bool = False) -> list[tuple[str, str]]:
    """(server name, address) pairs for the root from a hints file (path or text), or the
    default (Debian's file, else the built-in list)."""
    if hints is None:
        if not DEBIAN_HINTS.exists():
            return list(BUILTIN_ROOTS)
        hints = DEBIAN_HINTS
    if isinstance(hints, Path) or (isinstance(hints, str) and "\n" not in hints
                                   and Path(hints).exists()):
        path = Path(hints)
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise DnsInputError(f"Cannot read the root hints file {path}: "
                                f"{exc.strerror or exc}") from None
        where = path.name
    else:
        text, where = str(hints), "the root hints"
    try:
        zone = dns.zone.from_text(text, origin=dns.name.root, relativize=False,
                                  check_origin=False)
    except Exception as exc:  # dnspython raises many kinds for bad zone text
        raise DnsInputError(f"{where} is not a root hints file: {exc}") from None
    ns = zone.get_rdataset(dns.name.root, dns.rdatatype.NS)
    if not ns:
        raise DnsInputError(f"{where} has no NS records for the root (.)")
    out = []
    kinds = (dns.rdatatype.A, dns.rdatatype.AAAA) if ipv6 else (dns.rdatatype.A,)
    for rdata in ns:
        for kind in kinds:
            addresses = zone.get_rdataset(rdata.target, kind)
            for address in addresses or ():
                out.append((rdata.target.to_text().lower(), address.address))
    if not out:
        raise DnsInputError(f"{where} gives no addresses for the root's name servers")
    return out


@dataclass
class TraceStep:
    """One question to one zone's servers."""

    zone: str                                  # the zone whose servers were asked
    qname: str                                 # the name asked (changes after a CNAME)
    qtype: str
    servers: list[tuple[str, str]]             # (name, address) the zone's servers
    server: str | None = None                  # "ns.test. (127.0.0.3#53)" that answered
    elapsed_ms: float | None = None
    size: int | None = None
    rcode: str | None = None
    kind: str = "error"     # referral, answer, cname, nxdomain, nodata, error
    next_zone: str | None = None               # for a referral
    next_name: str | None = None               # for a CNAME: the end of the chain given
    records: list[Record] = field(default_factory=list)   # answer, or NS + DS of a referral
    glue: list[Record] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)     # servers that did not answer
    notes: list[str] = field(default_factory=list)        # name server addresses looked up
    authenticated: bool = False                # AD flag (meaningful only with do=True)
    message: object = None                     # the dnspython reply (not serialised)

    def headline(self) -> str:
        """``. via a.root-servers.test. (127.0.0.2#53) in 0.4 ms: referral to test.``"""
        head = f"{self.zone} "
        if self.server:
            head += f"via {self.server} in {self.elapsed_ms:.1f} ms: "
        return head + self.outcome()

    def outcome(self) -> str:
        return {
            "referral": f"referral to {self.next_zone}",
            "answer": f"answer ({len(self.records)} record{'' if len(self.records) == 1 else 's'})",
            "cname": f"CNAME to {self.next_name}",
            "nxdomain": f"{self.qname} does not exist (NXDOMAIN)",
            "nodata": f"no {self.qtype} records for {self.qname} (NODATA)",
            "error": "no server answered" if not self.server else f"{self.rcode}",
        }[self.kind]

    def to_dict(self) -> dict:
        from .jsonout import record_dict
        return {"zone": self.zone, "qname": self.qname, "qtype": self.qtype,
                "servers": [{"name": n, "address": a} for n, a in self.servers],
                "server": self.server, "elapsed_ms": self.elapsed_ms, "size": self.size,
                "rcode": self.rcode, "kind": self.kind, "next_zone": self.next_zone,
                "next_name": self.next_name,
                "records": [record_dict(r) for r in self.records],
                "glue": [record_dict(r) for r in self.glue], "failures": self.failures,
                "notes": self.notes}


@dataclass
class Trace:
    qname: str
    qtype: str
    steps: list[TraceStep] = field(default_factory=list)
    error: str | None = None
    elapsed: float = 0.0
    port: int = 53

    @property
    def outcome(self) -> str:
        if self.error:
            return "error"
        return self.steps[-1].kind if self.steps else "error"

    @property
    def answer(self) -> list[Record]:
        return [r for s in self.steps if s.kind in ("answer", "cname") for r in s.records]

    def summary(self) -> str:
        if self.error:
            return f"Trace of {self.qname} {self.qtype} stopped: {self.error}"
        last = self.steps[-1]
        zones = len({s.zone for s in self.steps})
        return (f"{last.headline()} — {len(self.steps)} steps through {zones} zones in "
                f"{self.elapsed * 1000:.0f} ms")

    def tree(self) -> dict:
        """Nested nodes for a tree view: each step is the child of the step before;
        ``children`` of a step hold its records (``kind`` record/glue/failure)."""
        root: dict = {"text": f"{self.qname} {self.qtype}", "kind": "trace", "children": []}
        parent = root
        for step in self.steps:
            node = {"text": step.headline(), "kind": step.kind, "zone": step.zone,
                    "children": []}
            for failure in step.failures:
                node["children"].append({"text": failure, "kind": "failure", "children": []})
            node["children"] += [{"text": _line(r), "kind": "record", "children": []}
                                 for r in step.records]
            node["children"] += [{"text": _line(r), "kind": "glue", "children": []}
                                 for r in step.glue]
            node["children"] += [{"text": note, "kind": "note", "children": []}
                                 for note in step.notes]
            parent["children"].append(node)
            parent = node
        if self.error:
            parent["children"].append({"text": self.error, "kind": "error", "children": []})
        return root

    def to_text(self) -> str:
        """dig +trace style: each step's records, then ``;; Received N bytes from …``."""
        lines = [f"; <<>> netgui <<>> +trace {self.qname} {self.qtype}"]
        for step in self.steps:
            lines.append("")
            for failure in step.failures:
                lines.append(f";; {failure}")
            for rec in step.records + step.glue:
                lines.append(_line(rec))
            for note in step.notes:
                lines.append(f";; {note}")
            if step.server:
                lines.append(f";; Received {step.size} bytes from {step.server} in "
                             f"{step.elapsed_ms:.1f} ms ({step.zone} → {step.kind})")
        if self.error:
            lines += ["", f";; {self.error}"]
        return "\n".join(lines) + "\n"

    def to_dict(self) -> dict:
        return {"qname": self.qname, "qtype": self.qtype, "port": self.port,
                "outcome": self.outcome, "error": self.error,
                "elapsed_ms": round(self.elapsed * 1000, 3),
                "steps": [s.to_dict() for s in self.steps]}


def _line(rec: Record) -> str:
    return f"{rec.name}\t{rec.ttl}\t{rec.rdclass}\t{rec.rdtype}\t{rec.data}"


def trace(name: str, rdtype="A", *, hints=None, port: int = 53, transport: str = "udp",
          do: bool = True, ipv6: bool = False, timeout: float = 3.0,
          follow_cnames: bool = True, token: CancelToken | None = None,
          log: Log = no_log, edns=None, on_step=None) -> Trace:
    """Resolve ``name`` from the root; ``on_step(step)`` is called as each step completes.

    A trace that cannot go on is returned with ``error`` set (its steps so far kept);
    bad input raises DnsInputError, cancelling raises Cancelled.
    """
    token = token or CancelToken()
    if transport not in ("udp", "tcp"):
        raise DnsInputError("A trace asks authoritative servers over UDP or TCP")
    qname, qtype, _ = question_for(name, rdtype)
    roots = load_hints(hints, ipv6=ipv6)
    walker = _Walker(roots, port, transport, do, timeout, token, log, edns, ipv6)
    result = Trace(qname.to_text(), type_text(qtype), port=port)
    started = time.perf_counter()
    try:
        walker.walk(qname, qtype, result, follow_cnames, on_step)
    except TraceError as exc:
        result.error = str(exc)
    result.elapsed = time.perf_counter() - started
    return result


class _Walker:
    def __init__(self, roots, port, transport, do, timeout, token, log, edns, ipv6):
        self.roots, self.port, self.transport, self.do = roots, port, transport, do
        self.timeout, self.token, self.log, self.edns, self.ipv6 = timeout, token, log, edns, ipv6

    def walk(self, qname, qtype, result: Trace | None, follow_cnames=True, on_step=None,
             depth: int = 0) -> list[Record]:
        """Iterate from the root; record steps into ``result`` (None: a side lookup)."""
        zone, servers = dns.name.root, list(self.roots)
        cnames, steps = 0, 0
        seen = set()
        while True:
            steps += 1
            if steps > MAX_STEPS:
                raise TraceError(f"more than {MAX_STEPS} steps: giving up")
            step = self.ask(zone, servers, qname, qtype)
            child = None
            if step.kind == "referral":
                child = dns.name.from_text(step.next_zone)
                if child in seen or not child.is_subdomain(zone) or child == zone:
                    step.kind = "error"
                    step.failures.append(f"{step.server} referred {qname} to {child} from "
                                         f"{zone.to_text()}: not a step down (lame server?)")
                else:
                    servers = self.addresses(step, depth)
            if result is not None:
                result.steps.append(step)
                if on_step:
                    on_step(step)
            if step.kind == "error":
                why = "; ".join(step.failures) or "no server to ask"
                raise TraceError(f"no server of {zone.to_text()} answered ({why})")
            if child is not None:
                if not servers:
                    raise TraceError(f"no address found for any name server of {child}")
                seen.add(child)
                zone = child
                continue
            if step.kind == "cname" and follow_cnames:
                cnames += 1
                if cnames > MAX_CNAMES:
                    raise TraceError(f"more than {MAX_CNAMES} CNAMEs: a loop?")
                qname = dns.name.from_text(step.next_name)
                self.log("*", f"CNAME: following {qname} from the root")
                zone, servers, seen = dns.name.root, list(self.roots), set()
                continue
            return step.records

    def ask(self, zone, servers, qname, qtype) -> TraceStep:
        step = TraceStep(zone.to_text(), qname.to_text(), type_text(qtype), list(servers))
        for ns_name, address in servers:
            self.token.check()
            label = f"{ns_name} ({address}#{self.port})"
            try:
                result = query(qname.to_text(), qtype, (address, self.port), self.transport,
                               rd=False, do=self.do, timeout=self.timeout, token=self.token,
                               edns=self.edns, log=self.log)
            except Cancelled:
                raise
            except NetError as exc:
                step.failures.append(f"{label}: {exc}")
                continue
            message = result.message
            code = message.rcode()
            if code not in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
                step.failures.append(f"{label}: answered {dns.rcode.to_text(code)}")
                continue
            step.server, step.message = label, message
            step.elapsed_ms, step.size = round(result.elapsed * 1000, 3), result.size
            step.rcode = dns.rcode.to_text(code)
            step.authenticated = result.flags["AD"]
            self.classify(step, message, zone, qname, qtype)
            if step.kind == "error":   # e.g. an upward referral: try the next server
                step.failures.append(f"{label}: {step.rcode}, but neither an answer nor a "
                                     "referral")
                step.server = None
                continue
            return step
        return step

    @staticmethod
    def classify(step: TraceStep, message, zone, qname, qtype) -> None:
        if message.rcode() == dns.rcode.NXDOMAIN:
            step.kind = "nxdomain"
            step.records = records(message.authority)
            return
        answer = list(message.answer)
        if answer:
            step.records = records(answer)
            has_type = any(rr.rdtype == qtype or qtype == dns.rdatatype.ANY for rr in answer)
            chain = {rr.name: rr[0].target for rr in answer if rr.rdtype == dns.rdatatype.CNAME}
            if has_type or qname not in chain or qtype == dns.rdatatype.CNAME:
                step.kind = "answer"
            else:
                target = qname
                while target in chain and len(chain) < 50:
                    target = chain.pop(target)
                step.kind, step.next_name = "cname", target.to_text()
            return
        ns = [rr for rr in message.authority if rr.rdtype == dns.rdatatype.NS]
        for rrset in ns:
            if rrset.name != zone and rrset.name.is_subdomain(zone) and qname.is_subdomain(rrset.name):
                step.kind = "referral"
                step.next_zone = rrset.name.to_text()
                wanted = (dns.rdatatype.NS, dns.rdatatype.DS, dns.rdatatype.RRSIG,
                          dns.rdatatype.NSEC, dns.rdatatype.NSEC3)
                step.records = records([rr for rr in message.authority if rr.rdtype in wanted])
                targets = {rd.target for rd in rrset}
                step.glue = records([rr for rr in message.additional if rr.name in targets
                                     and rr.rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA)])
                return
        if message.flags & 0x0400 or any(rr.rdtype == dns.rdatatype.SOA
                                         for rr in message.authority):  # AA or SOA: NODATA
            step.kind = "nodata"
            step.records = records(message.authority)
            return
        step.kind = "error"

    def addresses(self, step: TraceStep, depth: int) -> list[tuple[str, str]]:
        """(name, address) of the referred zone's servers: glue first, else looked up."""
        kinds = ("A", "AAAA") if self.ipv6 else ("A",)
        names = [r.data for r in step.records if r.rdtype == "NS"]
        out = [(g.name, g.data) for name in names for g in step.glue
               if g.name == name and g.rdtype in kinds]
        if out or depth >= MAX_DEPTH:
            return out
        for name in names:
            self.log("*", f"No glue for {name}: looking up its address from the root")
            side = Trace(name, "A")
            started = time.perf_counter()
            try:
                found = self.walk(dns.name.from_text(name), dns.rdatatype.A, side, True, None,
                                  depth + 1)
            except TraceError as exc:
                step.notes.append(f"no glue for {name}: no address ({exc})")
                continue
            found = [r.data for r in found if r.rdtype == "A"]
            out += [(name, address) for address in found]
            took = (time.perf_counter() - started) * 1000
            step.notes.append(f"no glue for {name}: looked it up from the root in {took:.1f} ms"
                              f" → {', '.join(found) or side.steps[-1].outcome()}")
            if out:
                break
        return out


__all__ = ["trace", "Trace", "TraceStep", "TraceError", "load_hints", "BUILTIN_ROOTS"]
