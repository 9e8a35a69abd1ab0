"""DNSSEC validation with explanations, like ``delv``.

The chain of trust is followed from a trust anchor (the root's KSKs by default; any DS
or DNSKEY lines for a private hierarchy) down to the answer: the DNSKEY set of each zone
is checked against the DS set its parent signed, every RRSIG on the way is checked with
dnspython's ``dns.dnssec.validate_rrsig``, and a missing DS or a negative answer is
checked against the NSEC or NSEC3 records that prove it.

The verdict is one of ``secure``, ``insecure`` (a provably unsigned delegation on the way),
``bogus`` (something does not verify) or ``indeterminate`` (no anchor covers the name, or
data could not be fetched), with one line saying WHY and the zone WHERE it failed
(``signature expired 2020-02-01 00:00:00 UTC (valid from … to …)``, ``the DS in test. has
key tag 9549, which matches no DNSKEY of badds.test. (keys: 30000 KSK, 40000 ZSK)``), and
the chain as rows for a chain view.

Data comes from a resolver asked with DO and CD (so it hands over bogus data too), as delv
does; ``fetch`` can be any callable (name, type) -> dnspython message.
"""

from __future__ import annotations

import base64
import time
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

with warnings.catch_warnings():
    # dnspython registers every algorithm it knows; cryptography >= 51 warns about DSA
    warnings.filterwarnings("ignore", message="DSA is deprecated")
    import dns.dnssec
    import dns.dnssecalgs
import dns.exception
import dns.message
import dns.name
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdataset
import dns.rdatatype
import dns.rrset

from netgui.net.cancel import CancelToken
from netgui.net.connection import Log, no_log
from netgui.net.errors import Cancelled, NetError
from .lookup import (DnsInputError, Record, query, question_for, records, resolve_server,
                     transport_for, type_text)

SECURE, INSECURE, BOGUS, INDETERMINATE = "secure", "insecure", "bogus", "indeterminate"
DEBIAN_ROOT_DS = Path("/usr/share/dns/root.ds")
ROOT_DS = (". IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D\n"
           ". IN DS 38696 8 2 683D2D0ACB8C9B712A1948B27F741219298D0A450D612C483AF444A4C0FB2B16\n")
_DS, _DNSKEY, _RRSIG = dns.rdatatype.DS, dns.rdatatype.DNSKEY, dns.rdatatype.RRSIG
_NSEC, _NSEC3, _SOA = dns.rdatatype.NSEC, dns.rdatatype.NSEC3, dns.rdatatype.SOA
_DIGESTS = {1: "SHA-1", 2: "SHA-256", 4: "SHA-384"}
_OTHER_DIGESTS = {3: "GOST R 34.11-94", 5: "GOST R 34.11-2012", 6: "SM3"}


# ---------------------------------------------------------------- trust anchors


def load_anchors(source=None) -> dict[dns.name.Name, list]:
    """Trust anchors by zone: DS or DNSKEY rdata.

    ``source``: None (Debian's /usr/share/dns/root.ds, else the IANA root DS built in), a
    path, or text: zone-file lines (``. IN DS …``, ``. IN DNSKEY …``, unbound's
    trust-anchor-file) or BIND's ``trust-anchors { "." static-ds … ; };`` (delv's -a file).
    """
    if source is None:
        source = DEBIAN_ROOT_DS if DEBIAN_ROOT_DS.exists() else ROOT_DS
    if isinstance(source, Path) or (isinstance(source, str) and "\n" not in source
                                    and " " not in source.strip()):
        try:
            text = Path(source).read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise DnsInputError(f"Cannot read the trust anchor file {source}: "
                                f"{exc.strerror or exc}") from None
    else:
        text = str(source)
    anchors: dict[dns.name.Name, list] = {}
    if "trust-anchors" in text or "managed-keys" in text or "trusted-keys" in text:
        lines = _bind_anchor_lines(text)
    else:
        lines = [ln.split(";", 1)[0] for ln in text.splitlines()]
    for line in lines:
        words = line.split()
        if not words:
            continue
        try:
            rrset = dns.rrset.from_text(words[0], 0, "IN", *_type_and_data(words[1:]))
        except Exception as exc:  # noqa: BLE001 - any malformed line
            raise DnsInputError(f"Not a DS or DNSKEY trust anchor: {line.strip()!r} ({exc})") from None
        if rrset.rdtype not in (_DS, _DNSKEY):
            raise DnsInputError(f"A trust anchor is a DS or DNSKEY record, not {line.strip()!r}")
        anchors.setdefault(rrset.name, []).extend(rrset)
    if not anchors:
        raise DnsInputError("The trust anchor file holds no DS or DNSKEY record")
    return anchors


def _type_and_data(words):
    while words and (words[0].isdigit() or words[0].upper() in ("IN", "CH")):
        words = words[1:]
    if not words:
        raise ValueError("no record type")
    return words[0], " ".join(words[1:])


def _bind_anchor_lines(text: str) -> list[str]:
    body = text.split("{", 1)[1].rsplit("}", 1)[0]
    out = []
    for entry in body.split(";"):
        words = entry.replace('"', " ").split()
        if len(words) < 5:
            continue
        name, kind, rest = words[0], words[1].lower(), words[2:]
        rtype = "DS" if kind.endswith("-ds") else "DNSKEY"
        out.append(f"{name if name.endswith('.') else name + '.'} IN {rtype} {' '.join(rest)}")
    return out


# ---------------------------------------------------------------- results


@dataclass
class Link:
    """One row of the chain view: what was checked in which zone, and how it went."""

    zone: str
    what: str        # trust anchor, DNSKEY, DS, no DS, answer, denial
    status: str      # secure, insecure, bogus, indeterminate
    detail: str      # one line: why
    records: list[str] = field(default_factory=list)   # keys, DS, RRSIG summaries

    def to_dict(self) -> dict:
        return {"zone": self.zone, "what": self.what, "status": self.status,
                "detail": self.detail, "records": self.records}


@dataclass
class Validation:
    qname: str
    qtype: str
    verdict: str
    reason: str
    where: str | None
    rcode: str | None = None
    chain: list[Link] = field(default_factory=list)
    answer: list[Record] = field(default_factory=list)
    elapsed: float = 0.0

    def summary(self) -> str:
        if self.verdict == SECURE:
            return f"{self.qname} {self.qtype}: fully validated ({self.reason})"
        where = f" at {self.where}" if self.where else ""
        return f"{self.qname} {self.qtype}: {self.verdict}{where}: {self.reason}"

    def to_text(self) -> str:
        """delv-like: a verdict comment, the answer, then the chain."""
        head = {SECURE: "; fully validated", INSECURE: "; unsigned answer",
                BOGUS: f";; validation failed: {self.reason}",
                INDETERMINATE: f";; validation indeterminate: {self.reason}"}[self.verdict]
        lines = [head]
        lines += [f"{r.name}\t{r.ttl}\t{r.rdclass}\t{r.rdtype}\t{r.data}" for r in self.answer]
        lines += ["", ";; chain of trust:"]
        for link in self.chain:
            lines.append(f";   [{link.status}] {link.zone} {link.what}: {link.detail}")
            lines += [f";       {r}" for r in link.records]
        return "\n".join(lines) + "\n"

    def to_dict(self) -> dict:
        from .jsonout import record_dict
        return {"qname": self.qname, "qtype": self.qtype, "verdict": self.verdict,
                "reason": self.reason, "where": self.where, "rcode": self.rcode,
                "answer": [record_dict(r) for r in self.answer],
                "chain": [link.to_dict() for link in self.chain],
                "elapsed_ms": round(self.elapsed * 1000, 3)}


@dataclass
class _Zone:
    status: str
    keys: dns.rdataset.Rdataset | None = None
    reason: str = ""
    where: str | None = None


class _Stop(Exception):
    def __init__(self, status: str, reason: str, where: str | None):
        super().__init__(reason)
        self.status, self.reason, self.where = status, reason, where


# ---------------------------------------------------------------- text helpers


def _when(posix: int) -> str:
    return datetime.fromtimestamp(posix, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _key_text(zone: dns.name.Name, key) -> str:
    role = "KSK" if key.flags & 0x0001 else "ZSK"
    revoked = ", revoked" if key.flags & 0x0080 else ""
    return (f"DNSKEY {dns.dnssec.key_id(key)} {role} ({dns.dnssec.algorithm_to_text(key.algorithm)}"
            f"{revoked})")


def _keys_summary(keys) -> str:
    return ", ".join(f"{dns.dnssec.key_id(k)} {'KSK' if k.flags & 1 else 'ZSK'}" for k in keys) \
        or "none"


def _ds_text(ds) -> str:
    digest = _DIGESTS.get(ds.digest_type) or _OTHER_DIGESTS.get(ds.digest_type, "digest type")
    return (f"DS {ds.key_tag} ({dns.dnssec.algorithm_to_text(ds.algorithm)} "
            f"({ds.algorithm}), {digest} ({ds.digest_type}))")


def _sig_text(sig) -> str:
    return (f"RRSIG {type_text(sig.type_covered)} by {sig.signer.to_text()} key {sig.key_tag}, "
            f"valid {_when(sig.inception)} to {_when(sig.expiration)}")


def _types(rdata) -> set[str]:
    words = rdata.to_text().split()
    return set(words[1:] if rdata.rdtype == _NSEC else words[5:])


def supported(ds) -> bool:
    """Can dnspython check keys with this DS's algorithm, and compute its digest?"""
    try:
        dns.dnssecalgs.get_algorithm_cls(ds.algorithm)
    except dns.exception.UnsupportedAlgorithm:
        return False
    return ds.digest_type in _DIGESTS


def _b32(raw: bytes) -> str:
    return base64.b32hexencode(raw).decode().lower().rstrip("=")


# ---------------------------------------------------------------- the validator


def check_rrset(rrset, sigs, keys, zone: dns.name.Name, now: float) -> tuple[bool, str]:
    """(valid, why) for an RRset, its RRSIGs and the zone's DNSKEY rdataset."""
    what = f"{rrset.name.to_text()} {type_text(rrset.rdtype)}"
    if not sigs:
        return False, f"{what} has no signature (RRSIG) though {zone.to_text()} is signed"
    reasons = []
    for sig in sigs:
        if sig.signer != zone:
            reasons.append(f"RRSIG signed by {sig.signer.to_text()}, not {zone.to_text()}")
            continue
        match = [k for k in keys or () if dns.dnssec.key_id(k) == sig.key_tag
                 and k.algorithm == sig.algorithm]
        if not match:
            reasons.append(f"the RRSIG on {what} names key tag {sig.key_tag}, which matches no "
                           f"DNSKEY of {zone.to_text()} (keys: {_keys_summary(keys or ())})")
            continue
        if now > sig.expiration:
            reasons.append(f"the signature on {what} expired {_when(sig.expiration)} (valid "
                           f"from {_when(sig.inception)} to {_when(sig.expiration)})")
            continue
        if now < sig.inception:
            reasons.append(f"the signature on {what} is not valid before {_when(sig.inception)}")
            continue
        try:
            dns.dnssec.validate_rrsig(rrset, sig, {zone: keys}, now=now)
        except dns.dnssec.UnsupportedAlgorithm as exc:
            reasons.append(f"algorithm {dns.dnssec.algorithm_to_text(sig.algorithm)} is not "
                           f"supported ({exc})")
            continue
        except dns.dnssec.ValidationFailure:
            reasons.append(f"the signature on {what} by key {sig.key_tag} does not verify (the "
                           "data was changed after signing, or the signature is damaged)")
            continue
        return True, f"signed by key {sig.key_tag}, valid until {_when(sig.expiration)}"
    return False, "; ".join(reasons)


class Validator:
    """Validates answers with data from ``fetch(name, rdtype)`` (a dnspython message)."""

    def __init__(self, fetch: Callable, anchors: dict, *, now: float | None = None,
                 log: Log = no_log):
        self.fetch_message = fetch
        self.anchors = anchors
        self.now = time.time() if now is None else now
        self.log = log
        self.zones: dict[dns.name.Name, _Zone] = {}
        self.chain: list[Link] = []
        self._cache: dict = {}

    def fetch(self, name: dns.name.Name, rdtype: int):
        key = (name, rdtype)
        if key not in self._cache:
            try:
                self._cache[key] = self.fetch_message(name, rdtype)
            except Cancelled:
                raise
            except NetError as exc:
                raise _Stop(INDETERMINATE, f"cannot fetch {name.to_text()} {type_text(rdtype)}: "
                                           f"{exc}", name.to_text()) from None
        return self._cache[key]

    # -- zones --------------------------------------------------------------------------
    def zone(self, zone: dns.name.Name, depth: int = 0) -> _Zone:
        if zone not in self.zones:
            if depth > 30:
                raise _Stop(INDETERMINATE, "the chain is too deep", zone.to_text())
            try:
                self.zones[zone] = self._zone(zone, depth)
            except _Stop as stop:
                self.zones[zone] = _Zone(stop.status, None, stop.reason, stop.where)
        return self.zones[zone]

    def _zone(self, zone: dns.name.Name, depth: int) -> _Zone:
        if zone in self.anchors:
            return self._from_anchor(zone)
        if zone == dns.name.root:
            reason = "no trust anchor covers this name"
            self.chain.append(Link(".", "trust anchor", INDETERMINATE, reason))
            return _Zone(INDETERMINATE, None, reason, ".")
        message = self.fetch(zone, _DS)
        ds_rrset = _find(message.answer, zone, _DS)
        if ds_rrset is not None:
            sigs = _sigs(message.answer, zone, _DS)
            parent = sigs[0].signer if sigs else self.enclosing_zone(zone.parent())
            state = self.zone(parent, depth + 1)
            if state.status != SECURE:
                return _Zone(state.status, None, state.reason, state.where)
            ok, why = check_rrset(ds_rrset, sigs, state.keys, parent, self.now)
            self.chain.append(Link(parent.to_text(), f"DS for {zone.to_text()}",
                                   SECURE if ok else BOGUS, why,
                                   [_ds_text(ds) for ds in ds_rrset] + [_sig_text(s) for s in sigs]))
            if not ok:
                return _Zone(BOGUS, None, why, parent.to_text())
            usable = [ds for ds in ds_rrset if supported(ds)]
            if not usable:
                return self._unsupported(zone, list(ds_rrset), f"the DS in {parent.to_text()}")
            return self._keys_from_ds(zone, usable, f"the DS in {parent.to_text()}")
        # no DS: who proves it?
        parent = _signer(message.authority) or _soa_owner(message) or \
            self.enclosing_zone(zone.parent())
        if parent == zone:   # the child's own server answered the DS query
            parent = self.enclosing_zone(zone.parent())
            message = self.fetch(zone, _DS)
        state = self.zone(parent, depth + 1)
        if state.status != SECURE:
            return _Zone(state.status, None, state.reason, state.where)
        ok, why = check_denial(message, zone, _DS, state.keys, parent, self.now, delegation=True)
        if ok:
            reason = f"{parent.to_text()} has no DS for {zone.to_text()}: {why}"
            self.chain.append(Link(parent.to_text(), f"no DS for {zone.to_text()}", INSECURE, why,
                                   _denial_records(message)))
            return _Zone(INSECURE, None, reason, zone.to_text())
        reason = f"{parent.to_text()} gives no DS for {zone.to_text()} and no valid proof of that: {why}"
        self.chain.append(Link(parent.to_text(), f"no DS for {zone.to_text()}", BOGUS, why,
                               _denial_records(message)))
        return _Zone(BOGUS, None, reason, parent.to_text())

    def _from_anchor(self, zone: dns.name.Name) -> _Zone:
        anchors = self.anchors[zone]
        ds = [a for a in anchors if a.rdtype == _DS]
        if ds:
            usable = [d for d in ds if supported(d)]
            if not usable:
                return self._unsupported(zone, ds, "the trust anchor")
            return self._keys_from_ds(zone, usable, "the trust anchor", anchor=True)
        message = self.fetch(zone, _DNSKEY)
        keys = _find(message.answer, zone, _DNSKEY)
        trusted = [k for k in keys or () if k in anchors]
        if not trusted:
            why = (f"no DNSKEY of {zone.to_text()} is a trust anchor (anchor keys: "
                   f"{_keys_summary(anchors)}; zone keys: {_keys_summary(keys or ())})")
            self.chain.append(Link(zone.to_text(), "trust anchor", BOGUS, why))
            return _Zone(BOGUS, None, why, zone.to_text())
        return self._check_keyset(zone, keys, _sigs(message.answer, zone, _DNSKEY), trusted,
                                  "trust anchor")

    def _unsupported(self, zone, ds_list, source: str) -> _Zone:
        """RFC 4035 5.2: a zone whose every DS uses an algorithm or digest the validator
        does not implement is treated as unsigned."""
        kinds = sorted({_ds_text(ds).split(" ", 2)[2][1:-1] for ds in ds_list})
        why = (f"{source} for {zone.to_text()} uses only {', '.join(kinds)}, which netgui cannot "
               "check: treated as unsigned (RFC 4035 5.2)")
        self.chain.append(Link(zone.to_text(), "unsupported algorithm", INSECURE, why,
                               [_ds_text(ds) for ds in ds_list]))
        return _Zone(INSECURE, None, why, zone.to_text())

    def _keys_from_ds(self, zone, ds_list, source: str, anchor: bool = False) -> _Zone:
        message = self.fetch(zone, _DNSKEY)
        keys = _find(message.answer, zone, _DNSKEY)
        what = "trust anchor" if anchor else "DNSKEY"
        if keys is None:
            why = (f"{source} says {zone.to_text()} is signed, but it has no DNSKEY "
                   f"({dns.rcode.to_text(message.rcode())})")
            self.chain.append(Link(zone.to_text(), what, BOGUS, why))
            return _Zone(BOGUS, None, why, zone.to_text())
        matched = []
        for ds in ds_list:
            for key in keys:
                if dns.dnssec.key_id(key) != ds.key_tag or key.algorithm != ds.algorithm:
                    continue
                try:
                    if dns.dnssec.make_ds(zone, key, ds.digest_type) == ds:
                        matched.append(key)
                except (dns.dnssec.UnsupportedAlgorithm, ValueError):
                    continue
        if not matched:
            tags = ", ".join(str(ds.key_tag) for ds in ds_list)
            why = (f"{source} has key tag {tags}, which matches no DNSKEY of {zone.to_text()} "
                   f"(keys: {_keys_summary(keys)})")
            self.chain.append(Link(zone.to_text(), what, BOGUS, why,
                                   [_key_text(zone, k) for k in keys]))
            return _Zone(BOGUS, None, why, zone.to_text())
        return self._check_keyset(zone, keys, _sigs(message.answer, zone, _DNSKEY), matched, what,
                                  source)

    def _check_keyset(self, zone, keys, sigs, trusted, what, source="the trust anchor") -> _Zone:
        trusted_tags = {dns.dnssec.key_id(k) for k in trusted}
        good_sigs = [s for s in sigs if s.key_tag in trusted_tags]
        ok, why = check_rrset(keys, good_sigs or sigs,
                              dns.rdataset.from_rdata_list(keys.ttl, trusted), zone, self.now)
        rows = [_key_text(zone, k) for k in keys] + [_sig_text(s) for s in sigs]
        if ok:
            detail = (f"key {', '.join(map(str, sorted(trusted_tags)))} matches {source}; "
                      f"DNSKEY set {why}")
            self.chain.append(Link(zone.to_text(), what, SECURE, detail, rows))
            return _Zone(SECURE, keys, detail, zone.to_text())
        self.chain.append(Link(zone.to_text(), what, BOGUS, why, rows))
        return _Zone(BOGUS, None, why, zone.to_text())

    def enclosing_zone(self, name: dns.name.Name) -> dns.name.Name:
        """The zone ``name`` belongs to: the owner of the SOA an SOA query brings back."""
        while True:
            message = self.fetch(name, _SOA)
            soa = _find(message.answer, name, _SOA)
            if soa is not None:
                return name
            owner = _soa_owner(message)
            if owner is not None and name.is_subdomain(owner):
                return owner
            if name == dns.name.root:
                return name
            name = name.parent()

    # -- answers ------------------------------------------------------------------------
    def validate(self, qname: dns.name.Name, qtype: int) -> Validation:
        started = time.perf_counter()
        result = Validation(qname.to_text(), type_text(qtype), INDETERMINATE, "", None)
        try:
            message = self.fetch(qname, qtype)
            result.rcode = dns.rcode.to_text(message.rcode())
            result.answer = [r for r in records(message.answer) if r.rdtype != "RRSIG"]
            self._validate(message, qname, qtype, result)
        except _Stop as stop:
            result.verdict, result.reason, result.where = stop.status, stop.reason, stop.where
        result.chain = self.chain
        result.elapsed = time.perf_counter() - started
        return result

    def _validate(self, message, qname, qtype, result: Validation) -> None:
        code = message.rcode()
        if code not in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
            raise _Stop(INDETERMINATE, f"the resolver answered {dns.rcode.to_text(code)}", None)
        rrsets = [rr for rr in message.answer if rr.rdtype != _RRSIG]
        if rrsets:
            verdicts = []
            for rrset in rrsets:
                sigs = _sigs(message.answer, rrset.name, rrset.rdtype)
                signer = sigs[0].signer if sigs else self.enclosing_zone(rrset.name)
                state = self.zone(signer)
                label = f"{rrset.name.to_text()} {type_text(rrset.rdtype)}"
                if state.status != SECURE:
                    verdicts.append((state.status, state.reason, state.where))
                    if state.status == INSECURE:
                        self.chain.append(Link(signer.to_text(), label, INSECURE,
                                               "unsigned: " + state.reason))
                    continue
                ok, why = check_rrset(rrset, sigs, state.keys, signer, self.now)
                labels = expanded_labels(rrset, sigs) if ok else None
                if labels is not None:
                    ok, how = check_wildcard(message, rrset, labels, state.keys, signer, self.now)
                    why = f"{why}; {how}" if ok else how
                self.chain.append(Link(signer.to_text(), label, SECURE if ok else BOGUS, why,
                                       [_sig_text(s) for s in sigs]
                                       + (_denial_records(message) if labels is not None else [])))
                verdicts.append((SECURE, why, signer.to_text()) if ok
                                else (BOGUS, why, signer.to_text()))
            rank = {BOGUS: 0, INDETERMINATE: 1, INSECURE: 2, SECURE: 3}
            status, reason, where = min(verdicts, key=lambda v: rank[v[0]])
            result.verdict, result.reason, result.where = status, reason, where
            return
        # a negative answer
        signer = _signer(message.authority) or _soa_owner(message) or self.enclosing_zone(qname)
        state = self.zone(signer)
        label = "NXDOMAIN" if code == dns.rcode.NXDOMAIN else f"no {type_text(qtype)}"
        if state.status != SECURE:
            result.verdict, result.reason, result.where = state.status, state.reason, state.where
            return
        ok, why = check_denial(message, qname, qtype, state.keys, signer, self.now)
        self.chain.append(Link(signer.to_text(), f"{label} for {qname.to_text()}",
                               SECURE if ok else BOGUS, why, _denial_records(message)))
        result.verdict = SECURE if ok else BOGUS
        result.reason, result.where = why, signer.to_text()


def _find(section, name, rdtype):
    for rrset in section:
        if rrset.name == name and rrset.rdtype == rdtype:
            return rrset
    return None


def _sigs(section, name, rdtype) -> list:
    return [sig for rrset in section if rrset.rdtype == _RRSIG and rrset.name == name
            for sig in rrset if sig.type_covered == rdtype]


def _signer(section):
    for rrset in section:
        if rrset.rdtype == _RRSIG:
            for sig in rrset:
                return sig.signer
    return None


def _soa_owner(message):
    for rrset in message.authority:
        if rrset.rdtype == _SOA:
            return rrset.name
    return None


def _denial_records(message) -> list[str]:
    return [f"{r.name} {r.rdtype} {r.data}" for r in records(message.authority)
            if r.rdtype in ("NSEC", "NSEC3")]


# ---------------------------------------------------------------- denial of existence


class _Proofs:
    """The NSEC or NSEC3 records of a reply, with the questions a proof asks of them:
    which record matches a name, which covers it (RFC 4035 5.4, RFC 5155 8)."""

    def __init__(self, rrsets):
        self.rrsets = rrsets
        self.nsec3 = bool(rrsets) and rrsets[0].rdtype == _NSEC3
        if self.nsec3:
            self.params = rrsets[0][0]
            self.chain = [(rr.name.labels[0].decode().lower(), _b32(rr[0].next), rr)
                          for rr in rrsets]

    def hash(self, name) -> str:
        p = self.params
        return dns.dnssec.nsec3_hash(name, p.salt, p.iterations, p.algorithm).lower()

    def match(self, name):
        """The record whose owner is ``name`` (NSEC3: whose hash is ``name``'s), or None."""
        if self.nsec3:
            hashed = self.hash(name)
            return next((rr for owner, _, rr in self.chain if owner == hashed), None)
        return next((rr for rr in self.rrsets if rr.name == name), None)

    def cover(self, name):
        """The record whose span proves ``name`` does not exist, or None."""
        if self.nsec3:
            hashed = self.hash(name)
            return next((rr for owner, nxt, rr in self.chain if _hash_between(owner, hashed, nxt)),
                        None)
        return next((rr for rr in self.rrsets if _between(rr.name, name, rr[0].next)), None)

    def label(self, name) -> str:
        return f"{name.to_text()} (hash {self.hash(name)})" if self.nsec3 else name.to_text()

    @property
    def kind(self) -> str:
        return "NSEC3" if self.nsec3 else "NSEC"

    def closest_encloser(self, qname, zone):
        """(closest encloser, next closer name) proved by the records, or (None, None).

        NSEC3: the nearest ancestor with a matching record and a covered next closer name.
        NSEC: the longer common ancestor of ``qname`` with the covering record's two names."""
        if self.nsec3:
            ce = qname.parent()
            while self.match(ce) is None and ce != zone and ce != dns.name.root:
                ce = ce.parent()
            if self.match(ce) is None:
                return None, None
            next_closer = dns.name.Name(qname.labels[-(len(ce.labels) + 1):])
            return (ce, next_closer) if self.cover(next_closer) is not None else (ce, None)
        covering = self.cover(qname)
        if covering is None:
            return None, None
        common = max(qname.fullcompare(covering.name)[2], qname.fullcompare(covering[0].next)[2])
        ce = dns.name.Name(qname.labels[-common:])
        return ce, dns.name.Name(qname.labels[-(common + 1):])


def _signed_proofs(section, keys, zone, now) -> tuple[_Proofs | None, str]:
    """The NSEC/NSEC3 records of a section once each one's signature verifies."""
    rrsets = [rr for rr in section if rr.rdtype in (_NSEC, _NSEC3)]
    if not rrsets:
        return None, f"{zone.to_text()} sent no NSEC or NSEC3 records"
    for rrset in rrsets:
        ok, why = check_rrset(rrset, _sigs(section, rrset.name, rrset.rdtype), keys, zone, now)
        if not ok:
            return None, why
    return _Proofs(rrsets), ""


def check_denial(message, qname, qtype, keys, zone, now, delegation=False) -> tuple[bool, str]:
    """(proved, why): the NSEC/NSEC3 records of a negative answer are signed by the zone's
    keys and prove that ``qname``/``qtype`` does not exist: NXDOMAIN needs the name and the
    wildcard that could have made it denied; NODATA a record at the name (or at the
    wildcard) without the type, or an empty non-terminal; a DS at a delegation the NS bit
    without DS, or an opt-out span."""
    proofs, why = _signed_proofs(message.authority, keys, zone, now)
    if proofs is None:
        return False, why
    nxdomain = message.rcode() == dns.rcode.NXDOMAIN
    want, kind, name = type_text(qtype), proofs.kind, qname.to_text()
    found = proofs.match(qname)
    if found is not None:
        types = _types(found[0])
        if nxdomain:
            return False, f"the {kind} for {proofs.label(qname)} says the name exists"
        if want in types or "CNAME" in types:
            return False, f"the {kind} for {proofs.label(qname)} lists {want}: it exists"
        if delegation and "NS" not in types:
            return False, f"{name} is not a delegation (no NS in its {kind})"
        return True, (f"{kind} {'for' if proofs.nsec3 else 'at'} {proofs.label(qname)} lists only "
                      f"{' '.join(sorted(types)) or 'nothing'}")
    ce, next_closer = proofs.closest_encloser(qname, zone)
    if ce is None:
        return False, f"no {kind} covers or matches {name}"
    if next_closer is None:
        return False, f"no {kind} covers {dns.name.Name(qname.labels[-(len(ce.labels) + 1):])} " \
                      "(the next closer name)"
    covering = proofs.cover(next_closer if proofs.nsec3 else qname)
    if delegation:
        if proofs.nsec3 and covering[0].flags & 1:
            return True, f"opt-out NSEC3 covers {next_closer.to_text()}: an unsigned delegation"
        return False, f"{kind} proves {name} does not exist rather than an unsigned delegation"
    if not proofs.nsec3 and not nxdomain and covering[0].next.is_subdomain(qname):
        return True, (f"NSEC {covering.name.to_text()} → {covering[0].next.to_text()}: "
                      f"{name} is an empty non-terminal")
    spans = (f"closest encloser {ce.to_text()}, {kind} covering {next_closer.to_text()}"
             if proofs.nsec3 else
             f"NSEC {covering.name.to_text()} → {covering[0].next.to_text()} covers {name}")
    wildcard = dns.name.Name((b"*",) + ce.labels)
    source = proofs.match(wildcard)
    if nxdomain:
        if source is not None:
            return False, (f"{spans}, but the wildcard {wildcard.to_text()} exists: the answer "
                           "should have come from it")
        if proofs.cover(wildcard) is None:
            return False, f"{spans}, but no {kind} proves there is no wildcard {wildcard.to_text()}"
        return True, f"{spans}, and no wildcard {wildcard.to_text()}: no such name"
    if source is None:
        if proofs.nsec3 and covering[0].flags & 1:
            return True, f"{spans} (opt-out span): an unsigned delegation, not signed data"
        return False, f"{spans}: the name does not exist, yet the answer is not NXDOMAIN"
    types = _types(source[0])
    if want in types or "CNAME" in types:
        return False, f"the wildcard {wildcard.to_text()} has {want}: it should have answered"
    return True, (f"{spans}, and the wildcard {wildcard.to_text()} lists only "
                  f"{' '.join(sorted(types))}")


def check_wildcard(message, rrset, labels: int, keys, zone, now) -> tuple[bool, str]:
    """(proved, why) for an answer made from a wildcard (its RRSIG has fewer labels than the
    owner): the reply must prove that no closer name exists (RFC 4035 5.3.4, RFC 5155 8.8)."""
    owner = rrset.name
    wildcard = dns.name.Name((b"*",) + owner.labels[-(labels + 1):])
    proofs, why = _signed_proofs(message.authority, keys, zone, now)
    if proofs is None:
        return False, f"{owner.to_text()} came from the wildcard {wildcard.to_text()}, but {why}"
    next_closer = dns.name.Name(owner.labels[-(labels + 2):])
    target = next_closer if proofs.nsec3 else owner
    covering = proofs.cover(target)
    if covering is None:
        return False, (f"{owner.to_text()} came from the wildcard {wildcard.to_text()}, but no "
                       f"{proofs.kind} proves {target.to_text()} does not exist")
    return True, (f"from the wildcard {wildcard.to_text()}; {proofs.kind} "
                  f"{covering.name.to_text()} proves {target.to_text()} does not exist")


def expanded_labels(rrset, sigs) -> int | None:
    """The RRSIG labels count when ``rrset`` was made from a wildcard, else None."""
    owner = len(rrset.name.labels) - 1 - (rrset.name.labels[0] == b"*")
    counts = [sig.labels for sig in sigs if sig.labels < owner]
    return min(counts) if counts else None


def _between(owner, name, nxt) -> bool:
    if owner < nxt:
        return owner < name < nxt
    return name > owner or name < nxt    # the last NSEC wraps to the apex


def _hash_between(owner: str, hashed: str, nxt: str) -> bool:
    if owner < nxt:
        return owner < hashed < nxt
    return hashed > owner or hashed < nxt


# ---------------------------------------------------------------- entry point


def validate(name: str, rdtype="A", server=None, transport: str = "udp", *, anchors=None,
             timeout: float = 5.0, token: CancelToken | None = None, log: Log = no_log,
             now: float | None = None, **query_options) -> Validation:
    """Validate ``name``/``rdtype`` from the trust anchor down, with data from ``server``
    (a resolver; asked with DO and CD). ``anchors``: a file, text or a load_anchors() dict.
    Over DNS over HTTPS one connection serves every query of the validation."""
    token = token or CancelToken()
    qname, qtype, _ = question_for(name, rdtype)
    anchor_map = anchors if isinstance(anchors, dict) else load_anchors(anchors)
    transport = transport_for(server, transport)
    client = None
    if transport == "https" and query_options.get("doh_client") is None:
        from .doh import DohClient
        client = DohClient(resolve_server(server, "https")[0][0],
                           verify=query_options.get("tls_verify", True),
                           cafile=query_options.get("cafile"),
                           http_version=query_options.get("http_version", "auto"),
                           address=query_options.get("tls_hostname"), token=token, log=log,
                           timeout=timeout)
        query_options = {**query_options, "doh_client": client}

    def fetch(n, t):
        token.check()
        result = query(n.to_text(), t, server, transport, do=True, cd=True, timeout=timeout,
                       token=token, log=log, **query_options)
        return result.message

    try:
        return Validator(fetch, anchor_map, now=now, log=log).validate(qname, qtype)
    finally:
        if client is not None:
            client.close()


__all__ = ["validate", "Validator", "Validation", "Link", "load_anchors", "check_rrset",
           "check_denial", "SECURE", "INSECURE", "BOGUS", "INDETERMINATE", "ROOT_DS"]
