"""DNS lookups like ``dig``: one query over UDP (with TCP retry), TCP, DNS over TLS or
DNS over HTTPS (a ``https://host/dns-query`` server, see doh.py).

Built on dnspython: it builds and parses every message; this module only moves the
bytes (so it can time the exchange, honour a CancelToken and report the message size)
and turns every failure into one clear line. ``query()`` returns a ``DnsResult`` with
the sections as rows, the header flags and a dig-style text.
"""

from __future__ import annotations

import ipaddress
import select
import socket
import struct
import time
from dataclasses import dataclass, field
from datetime import datetime

import dns.edns
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.reversename

from netgui.net.cancel import CancelToken
from netgui.net.connection import Log, no_log, open_connection, tls_context
from netgui.net.errors import Cancelled, ConnectError, NetError, NetTimeout, ProtocolError, translate

from .edns import DEFAULT_PAYLOAD, EdnsOptions, describe_options, ede_text, extended_errors

TRANSPORTS = ("udp", "tcp", "tls", "https")
DEFAULT_PORTS = {"udp": 53, "tcp": 53, "tls": 853, "https": 443}
COMMON_TYPES = ("A", "AAAA", "CNAME", "MX", "NS", "TXT", "SOA", "SRV", "PTR", "CAA", "ANY")
EDNS_PAYLOAD = DEFAULT_PAYLOAD  # 1232: what dig and the DNS flag day 2020 recommend
DEFAULT_TIMEOUT = 5.0

# rdata attribute that holds a name worth looking up next, per record type
_TARGET_ATTR = {
    dns.rdatatype.CNAME: "target", dns.rdatatype.DNAME: "target", dns.rdatatype.NS: "target",
    dns.rdatatype.PTR: "target", dns.rdatatype.MX: "exchange", dns.rdatatype.SRV: "target",
    dns.rdatatype.SOA: "mname", dns.rdatatype.SVCB: "target", dns.rdatatype.HTTPS: "target",
}
_FLAG_NAMES = ("QR", "AA", "TC", "RD", "RA", "AD", "CD")


class DnsInputError(NetError):
    """The name, type or server the user typed cannot be queried."""


# ---------------------------------------------------------------- input


def parse_rdtype(value) -> int:
    """A record type from a name (``mx``), ``TYPE65`` or a number; DnsInputError if unknown."""
    if isinstance(value, int):
        number = value
    else:
        text = str(value or "").strip().upper()
        if not text:
            raise DnsInputError("Choose a record type (A, MX, TXT, … or a number)")
        if text.isdigit():
            number = int(text)
        else:
            try:
                number = int(dns.rdatatype.from_text(text))
            except dns.exception.DNSException:
                raise DnsInputError(f"Unknown record type {value!r}: use a name like MX or a "
                                    "number like 65") from None
    if not 0 <= number <= 65535:
        raise DnsInputError(f"Record type {number} is out of range (0–65535)")
    if number in (dns.rdatatype.AXFR, dns.rdatatype.IXFR):
        raise DnsInputError("Zone transfers (AXFR/IXFR) are not supported here")
    if number == dns.rdatatype.OPT:
        raise DnsInputError("OPT is not a record type you can query")
    return number


def type_text(rdtype: int) -> str:
    """``MX`` for 15, ``TYPE65280`` for unknown numbers."""
    return dns.rdatatype.to_text(rdtype)


def _idna_bytes(label: str) -> bytes:
    try:
        return label.encode("ascii")
    except UnicodeEncodeError:
        try:
            return dns.name.IDNA_2008_Practical.encode(label)
        except dns.exception.DNSException:
            return label.encode("utf-8")


def parse_name(text: str) -> dns.name.Name:
    """An absolute dnspython name from user input, or DnsInputError with the reason."""
    name = (text or "").strip()
    if not name:
        raise DnsInputError("Enter a name or an IP address to look up")
    if any(c.isspace() for c in name):
        raise DnsInputError(f"A name cannot contain spaces: {name!r}")
    if name == ".":
        return dns.name.root
    labels = name[:-1].split(".") if name.endswith(".") else name.split(".")
    raw = [_idna_bytes(label) for label in labels]
    for label, encoded in zip(labels, raw):
        if not label:
            raise DnsInputError(f"{name!r} has an empty label (two dots in a row, or a leading dot)")
        if len(encoded) > 63:
            raise DnsInputError(f"Label {label[:20]!r}… is {len(encoded)} bytes long; "
                                "a label may have at most 63")
    wire_length = sum(len(b) + 1 for b in raw) + 1
    if wire_length > 255:
        raise DnsInputError(f"Name is {wire_length} bytes long; a DNS name may have at most 255")
    if name.isascii() and "\\" not in name:   # nothing to unescape or encode: labels as typed
        return dns.name.Name(raw + [b""])
    try:
        return dns.name.from_text(name)
    except dns.exception.DNSException as exc:
        raise DnsInputError(f"Not a valid DNS name: {name!r} ({exc})") from None


def question_for(text: str, rdtype) -> tuple[dns.name.Name, int, bool]:
    """(name, type, reverse): an IP address becomes its in-addr/ip6.arpa PTR question."""
    candidate = (text or "").strip()
    try:
        address = ipaddress.ip_address(candidate.strip("[]"))
    except ValueError:
        return parse_name(candidate), parse_rdtype(rdtype), False
    return dns.reversename.from_address(str(address)), dns.rdatatype.PTR, True


def parse_server(text: str | None) -> tuple[str, int | None] | None:
    """``None`` for the system resolver (empty or "system"), else (host, port or None).

    Accepts ``1.1.1.1``, ``1.1.1.1:5353``, ``1.1.1.1#5353``, ``[::1]:53``, ``::1``, ``dns.example``,
    and a DNS over HTTPS URL ``https://dns.example/dns-query`` (returned as (url, None)).
    """
    value = (text or "").strip()
    if not value or value.lower() in ("system", "system resolver", "(system resolver)"):
        return None
    value = value.lstrip("@")
    if value.lower().startswith("https://"):
        from .doh import parse_url
        return parse_url(value)[0], None
    host, port = value, None
    if value.startswith("["):
        end = value.find("]")
        if end < 0:
            raise DnsInputError(f"Server {text!r}: missing ']' after the IPv6 address")
        host, rest = value[1:end], value[end + 1:]
        if rest:
            if rest[0] not in ":#" or not rest[1:].isdigit():
                raise DnsInputError(f"Server {text!r}: expected [address]:port")
            port = int(rest[1:])
    elif "#" in value:
        host, _, p = value.rpartition("#")
        port = _port(p, text)
    elif value.count(":") == 1:
        host, _, p = value.partition(":")
        port = _port(p, text)
    if not host or any(c.isspace() for c in host):
        raise DnsInputError(f"Server {text!r} is not an address or host name")
    return host, port


def _port(text: str, whole: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise DnsInputError(f"Server {whole!r}: the port must be a number from 1 to 65535")
    return int(text)


def server_text(host: str, port: int) -> str:
    """dig's way of writing a server: ``127.0.0.1#53``."""
    return f"{host}#{port}"


def system_nameservers() -> list[str]:
    """The addresses of the system resolver's name servers (resolv.conf, or the registry)."""
    import dns.resolver  # here: it loads dns.query and with it the DoH client (~0.1 s)
    try:
        resolver = dns.resolver.Resolver()
    except dns.exception.DNSException as exc:
        raise NetError("No system DNS server is configured", detail=str(exc)) from None
    servers = [str(s) for s in resolver.nameservers]
    if not servers:
        raise NetError("No system DNS server is configured")
    return servers


def transport_for(server, transport: str) -> str:
    """``https`` for a DNS over HTTPS server (a URL, as text or as parse_server's tuple),
    else ``transport`` as given."""
    text = server[0] if isinstance(server, tuple) else server
    if isinstance(text, str) and text.strip().lstrip("@").lower().startswith("https://"):
        return "https"
    return (transport or "udp").lower()


def resolve_server(server, transport: str) -> list[tuple[str, int]]:
    """The (address-or-host, port) candidates to ask, in order."""
    if transport not in TRANSPORTS:
        raise DnsInputError(f"Unknown transport {transport!r}: use udp, tcp, tls or https")
    if transport == "https":
        text = server if isinstance(server, str) else (server[0] if server else "")
        if not str(text).lower().startswith("https://"):
            raise DnsInputError("DNS over HTTPS needs a URL like https://dns.example/dns-query "
                                "as the server")
        from .doh import parse_url
        url, _, port, _ = parse_url(str(text))
        return [(url, port)]
    if server is None:
        return [(host, DEFAULT_PORTS[transport]) for host in system_nameservers()]
    if isinstance(server, str):
        parsed = parse_server(server)
        if parsed is None:
            return resolve_server(None, transport)
        server = parsed
    host, port = server
    return [(str(host), int(port) if port else DEFAULT_PORTS[transport])]


# ---------------------------------------------------------------- results


@dataclass(frozen=True)
class Record:
    """One resource record as a table row; ``target`` is a name worth looking up next."""

    name: str
    ttl: int
    rdclass: str
    rdtype: str
    data: str
    target: str | None = None

    def row(self) -> tuple:
        return (self.name, self.ttl, self.rdclass, self.rdtype, self.data)


def records(section) -> list[Record]:
    """Rows for a message section (a list of rrsets)."""
    rows = []
    for rrset in section:
        name = rrset.name.to_text()
        klass = dns.rdataclass.to_text(rrset.rdclass)
        kind = dns.rdatatype.to_text(rrset.rdtype)
        attr = _TARGET_ATTR.get(rrset.rdtype)
        for rdata in rrset:
            target = getattr(rdata, attr, None) if attr else None
            if target is not None:
                target = None if target == dns.name.root else target.to_text()
            rows.append(Record(name, int(rrset.ttl), klass, kind, rdata.to_text(), target))
    return rows


@dataclass
class DnsResult:
    """A reply and how it arrived."""

    qname: str
    qtype: str
    server: str
    transport: str          # what carried the final reply: "UDP", "TCP", "TLS" or "HTTPS"
    elapsed: float          # seconds for the exchange that produced the reply
    size: int               # bytes of the reply on the wire
    message: dns.message.Message
    request: dns.message.Message
    reverse: bool = False
    truncated_retry: bool = False
    when: datetime = field(default_factory=datetime.now)
    http_version: str | None = None   # "HTTP/2" or "HTTP/1.1" for DNS over HTTPS

    @property
    def extended_errors(self) -> list[dict]:
        """RFC 8914 extended errors: [{"code": 7, "name": "Signature Expired", "text": …}]."""
        return extended_errors(self.message)

    @property
    def edns_options(self) -> list[dict]:
        """The reply's EDNS options as dicts (NSID, COOKIE, CLIENT-SUBNET, EDE, PADDING…)."""
        return describe_options(self.message)

    def to_dict(self) -> dict:
        from .jsonout import result_to_dict
        return result_to_dict(self)

    @property
    def rcode(self) -> str:
        return dns.rcode.to_text(self.message.rcode())

    @property
    def answer(self) -> list[Record]:
        return records(self.message.answer)

    @property
    def authority(self) -> list[Record]:
        return records(self.message.authority)

    @property
    def additional(self) -> list[Record]:
        return records(self.message.additional)

    @property
    def flags(self) -> dict[str, bool]:
        """Header flags by name: QR, AA, TC, RD, RA, AD, CD."""
        value = self.message.flags
        return {name: bool(value & getattr(dns.flags, name)) for name in _FLAG_NAMES}

    def flags_text(self) -> str:
        on = [name.lower() for name, is_set in self.flags.items() if is_set]
        return " ".join(on)

    @property
    def problem(self) -> str | None:
        """One line when the reply is not a plain success (NXDOMAIN, SERVFAIL, REFUSED…)."""
        code = self.message.rcode()
        where = f"{self.server}"
        if code == dns.rcode.NXDOMAIN:
            return f"{self.qname} does not exist (NXDOMAIN from {where})"
        if code == dns.rcode.SERVFAIL:
            return f"{where} failed to answer for {self.qname} (SERVFAIL)"
        if code == dns.rcode.REFUSED:
            return f"{where} refused to answer for {self.qname} (REFUSED)"
        if code == dns.rcode.FORMERR:
            return f"{where} could not understand the query (FORMERR)"
        if code == dns.rcode.NOTIMP:
            return f"{where} does not implement this kind of query (NOTIMP)"
        if code != dns.rcode.NOERROR:
            return f"{where} answered {self.rcode} for {self.qname}"
        return None

    @property
    def problem_with_reason(self) -> str | None:
        """``problem`` plus the server's extended error, if it gave one."""
        problem, why = self.problem, ede_text(self.message)
        if problem and why:
            return f"{problem}: {why}"
        return problem

    def summary(self) -> str:
        """One line for the status bar."""
        problem = self.problem_with_reason
        if problem:
            return problem
        count = len(self.answer)
        carried = f"{self.transport}, {self.http_version}" if self.http_version else self.transport
        how = f"{self.elapsed * 1000:.1f} ms from {self.server} ({carried}"
        how += " after a truncated UDP reply)" if self.truncated_retry else ")"
        if count == 0:
            return f"No {self.qtype} records for {self.qname} (the name exists); {how}"
        noun = "record" if count == 1 else "records"
        return f"{count} {noun} in {how}"

    def to_text(self) -> str:
        """A dig-style rendering of the reply."""
        m = self.message
        lines = [f"; <<>> netgui <<>> @{self.server} {self.qname} {self.qtype}"]
        if self.truncated_retry:
            lines.append(";; Truncated, retrying in TCP mode.")
        lines.append(";; Got answer:")
        lines.append(f";; ->>HEADER<<- opcode: {dns.opcode.to_text(m.opcode())}, "
                     f"status: {self.rcode}, id: {m.id}")
        lines.append(f";; flags: {self.flags_text()}; QUERY: {len(m.question)}, "
                     f"ANSWER: {_count(m.answer)}, AUTHORITY: {_count(m.authority)}, "
                     f"ADDITIONAL: {_count(m.additional) + (1 if m.edns >= 0 else 0)}")
        if m.flags & dns.flags.RD and not m.flags & dns.flags.RA:
            lines.append(";; WARNING: recursion requested but not available")
        if m.edns >= 0:
            eflags = " do" if m.ednsflags & dns.flags.DO else ""
            lines += ["", ";; OPT PSEUDOSECTION:",
                      f"; EDNS: version: {m.edns}, flags:{eflags}; udp: {m.payload}"]
            for option in describe_options(m):
                lines.append(f"; {option['option']}: {option['text']}")
        lines += ["", ";; QUESTION SECTION:"]
        for rrset in m.question:
            lines.append(f";{rrset.name.to_text()}\t\t"
                         f"{dns.rdataclass.to_text(rrset.rdclass)}\t{dns.rdatatype.to_text(rrset.rdtype)}")
        for title, section in (("ANSWER", m.answer), ("AUTHORITY", m.authority),
                               ("ADDITIONAL", m.additional)):
            if section:
                lines += ["", f";; {title} SECTION:"]
                lines += [_dig_line(row) for row in records(section)]
        lines += ["", f";; Query time: {self.elapsed * 1000:.1f} msec",
                  f";; SERVER: {self.server} ({self.transport}"
                  + (f", {self.http_version})" if self.http_version else ")"),
                  f";; WHEN: {self.when.strftime('%a %b %d %H:%M:%S %Y')}",
                  f";; MSG SIZE  rcvd: {self.size}", ""]
        return "\n".join(lines)


def _dig_line(row: Record) -> str:
    pad = "\t" * max(1, 3 - len(row.name) // 8)
    return f"{row.name}{pad}{row.ttl}\t{row.rdclass}\t{row.rdtype}\t{row.data}"


def _count(section) -> int:
    return sum(len(rrset) for rrset in section) if section else 0


# ---------------------------------------------------------------- the exchange


def make_request(qname: dns.name.Name, rdtype: int, *, rd: bool = True, do: bool = False,
                 edns: bool = True, cd: bool = False,
                 options: EdnsOptions | None = None) -> dns.message.QueryMessage:
    """A query message the way dig builds one (EDNS0 with a 1232-byte payload), with the
    EDNS options asked for (NSID, client subnet, cookie, padding, buffer size)."""
    flags = (dns.flags.RD if rd else 0) | (dns.flags.CD if cd else 0)
    use_edns = 0 if (edns or do or (options and options.any)) else None
    opts = options.check() if options else None
    return dns.message.make_query(qname, rdtype, use_edns=use_edns, want_dnssec=do,
                                  payload=opts.payload if opts else EDNS_PAYLOAD, flags=flags,
                                  options=opts.options() if opts else None,
                                  pad=opts.padding if opts else 0)


def query(name: str, rdtype="A", server=None, transport: str = "udp", *, rd: bool = True,
          do: bool = False, timeout: float = DEFAULT_TIMEOUT, token: CancelToken | None = None,
          log: Log = no_log, tls_verify: bool = True, tls_hostname: str | None = None,
          cafile: str | None = None, cd: bool = False, edns: EdnsOptions | None = None,
          doh_method: str = "POST", http_version: str = "auto", doh_client=None) -> DnsResult:
    """Ask one server one question; return the reply (NXDOMAIN etc. included) or raise NetError.

    ``server`` is None (the system resolver), ``(address, port)``, text like
    ``1.1.1.1:53`` or a DoH URL. ``transport`` is ``udp`` (retried over TCP when truncated),
    ``tcp``, ``tls`` (DNS over TLS, certificate verified against ``tls_hostname`` or the
    server) or ``https`` (DNS over HTTPS, chosen by itself for a https:// server; ``doh_method``
    POST or GET, ``http_version`` auto, 1.1 or 2; ``tls_hostname`` there is the address to
    connect to instead of resolving the URL's host, like curl's --resolve).
    """
    token = token or CancelToken()
    transport = transport_for(server, transport)
    qname, qtype, reverse = question_for(name, rdtype)
    candidates = resolve_server(server, transport)
    if timeout is None or timeout <= 0:
        raise DnsInputError("The timeout must be more than 0 seconds")
    request = make_request(qname, qtype, rd=rd, do=do, cd=cd, options=edns)
    shown = qname.to_text()
    if reverse:
        log("*", f"{name.strip()} is an address: asking for PTR {shown}")
    if transport == "https":
        return _ask_doh(request, shown, type_text(qtype), candidates[0][0], timeout, token, log,
                        reverse, tls_verify, tls_hostname, cafile, doh_method, http_version,
                        doh_client)
    last: NetError | None = None
    for host, port in candidates:
        token.check()
        try:
            return _ask(request, shown, type_text(qtype), host, port, transport, timeout, token,
                        log, reverse, tls_verify, tls_hostname, cafile)
        except (NetTimeout, ConnectError) as exc:
            last = exc
            if len(candidates) > 1:
                log("!", f"{exc}; trying the next system name server")
    assert last is not None
    raise last


def _ask(request, qname, qtype, host, port, transport, timeout, token, log, reverse,
         tls_verify, tls_hostname, cafile) -> DnsResult:
    where = server_text(host, port)
    wire = request.to_wire()
    log(">", f"{qname} {qtype} to {where} over {transport.upper()} "
             f"({len(wire)} bytes, id {request.id})")
    truncated = False
    if transport == "udp":
        message, size, elapsed = _udp_exchange(request, wire, host, port, timeout, token, log)
        if message is None:
            truncated = True
            log("*", f"Reply was truncated ({size} bytes over UDP): retrying over TCP")
            try:
                message, size, elapsed = _stream_exchange(request, wire, host, port, timeout,
                                                          token, log, None, None)
            except Cancelled:
                raise
            except NetError as exc:
                raise ProtocolError(f"The reply from {where} was truncated over UDP and the TCP "
                                    f"retry failed: {exc}", detail=exc.detail) from exc
        carried = "TCP" if truncated else "UDP"
    else:
        ctx = None
        if transport == "tls":
            ctx = tls_context(verify=tls_verify, cafile=cafile)
        message, size, elapsed = _stream_exchange(request, wire, host, port, timeout, token, log,
                                                  ctx, tls_hostname)
        carried = transport.upper()
    log("<", f"{dns.rcode.to_text(message.rcode())}, {_count(message.answer)} answers, "
             f"{size} bytes in {elapsed * 1000:.1f} ms")
    return DnsResult(qname=qname, qtype=qtype, server=where, transport=carried, elapsed=elapsed,
                     size=size, message=message, request=request, reverse=reverse,
                     truncated_retry=truncated)


def _ask_doh(request, qname, qtype, url, timeout, token, log, reverse, tls_verify, address,
             cafile, method, http_version, client) -> DnsResult:
    from .doh import doh_query
    wire = request.to_wire()
    log(">", f"{qname} {qtype} to {url} over HTTPS {method.upper()} ({len(wire)} bytes)")
    if client is not None:
        message, size, elapsed, version = client.exchange(request, method=method, timeout=timeout)
    else:
        message, size, elapsed, version = doh_query(
            request, url, method=method, http_version=http_version, timeout=timeout,
            verify=tls_verify, cafile=cafile, address=address, token=token, log=log)
    log("<", f"{dns.rcode.to_text(message.rcode())}, {_count(message.answer)} answers, "
             f"{size} bytes in {elapsed * 1000:.1f} ms over {version}")
    return DnsResult(qname=qname, qtype=qtype, server=url, transport="HTTPS", elapsed=elapsed,
                     size=size, message=message, request=request, reverse=reverse,
                     http_version=version)


def _address(host: str, port: int, kind: int):
    try:
        infos = socket.getaddrinfo(host, port, type=kind)
    except socket.gaierror as exc:
        raise translate(exc, host, port) from exc
    family, _, proto, _, sockaddr = infos[0]
    return family, proto, sockaddr


def parse_reply(data: bytes, request, where: str):
    """(message, truncated): parse with dnspython; garbage raises ProtocolError.

    A reply that was cut short but says TC is reported as truncated (message None).
    """
    try:
        message = dns.message.from_wire(data, ignore_trailing=True)
    except Exception as exc:  # dnspython raises many kinds for malformed input
        if _says_truncated(data):
            return None, True
        preview = data[:16].hex(" ")
        raise ProtocolError(f"{where} sent a reply that is not valid DNS ({len(data)} bytes)",
                            detail=f"{type(exc).__name__}: {exc}; first bytes: {preview}") from None
    return message, bool(message.flags & dns.flags.TC)


def _says_truncated(data: bytes) -> bool:
    try:
        header = dns.message.from_wire(data, question_only=True, ignore_trailing=True)
    except Exception:
        return False
    return bool(header.flags & dns.flags.QR and header.flags & dns.flags.TC)


def _udp_exchange(request, wire, host, port, timeout, token, log):
    """(message or None if truncated, size, seconds). Resends like dig until the deadline."""
    where = server_text(host, port)
    family, proto, sockaddr = _address(host, port, socket.SOCK_DGRAM)
    sock = socket.socket(family, socket.SOCK_DGRAM, proto)
    mismatched = 0
    try:
        sock.setblocking(False)
        sock.connect(sockaddr)  # connected: ICMP "port unreachable" surfaces as a refusal
        start = time.perf_counter()
        deadline = start + timeout
        resend_every = max(1.0, timeout / 3)
        sent_at = start
        sock.send(wire)
        while True:
            token.check()
            now = time.perf_counter()
            if now >= deadline:
                extra = (f" (it sent {mismatched} reply(s) that did not match the query)"
                         if mismatched else "")
                raise NetTimeout(f"{where} did not answer within {timeout:g} s{extra}")
            if now - sent_at >= resend_every:
                log("*", "No reply yet: sending the query again")
                sock.send(wire)
                sent_at = now
            wait = min(0.1, deadline - now, sent_at + resend_every - now)
            readable, _, _ = select.select([sock], [], [], max(wait, 0))
            if not readable:
                continue
            try:
                data = sock.recv(65535)
            except (BlockingIOError, InterruptedError):
                continue
            elapsed = time.perf_counter() - start
            message, truncated = parse_reply(data, request, where)
            if truncated:
                return None, len(data), elapsed
            if not request.is_response(message):
                mismatched += 1
                log("!", f"Ignored a reply that does not match the query (id {message.id})")
                continue
            return message, len(data), elapsed
    except (ConnectionRefusedError, ConnectionResetError) as exc:  # Windows reports ICMP as a reset
        raise ConnectError(f"No DNS server answers at {where} (connection refused)",
                           detail=str(exc)) from exc
    except NetError:
        raise
    except OSError as exc:
        raise translate(exc, host, port) from exc
    finally:
        sock.close()


def _stream_exchange(request, wire, host, port, timeout, token, log, ctx, tls_hostname):
    """DNS over TCP or TLS: a 2-byte length, then the message (RFC 1035 4.2.2, RFC 7858)."""
    where = server_text(host, port)
    start = time.perf_counter()
    sock = open_connection(host, port, timeout=timeout, token=token, tls=ctx,
                           server_hostname=tls_hostname or host, log=log)
    try:
        with token.watch(sock):
            sock.settimeout(max(0.01, start + timeout - time.perf_counter()))
            sock.sendall(struct.pack("!H", len(wire)) + wire)
            while True:
                head = _read_exactly(sock, 2, where, first=True)
                (length,) = struct.unpack("!H", head)
                data = _read_exactly(sock, length, where, first=False)
                elapsed = time.perf_counter() - start
                message, _ = parse_reply(data, request, where)
                if message is None:
                    raise ProtocolError(f"{where} sent a truncated reply over a stream")
                if request.is_response(message):
                    return message, len(data), elapsed
                log("!", f"Ignored a reply that does not match the query (id {message.id})")
    except NetError:
        raise
    except OSError as exc:
        if token.cancelled:
            raise Cancelled() from exc
        if isinstance(exc, (socket.timeout, TimeoutError)):
            raise NetTimeout(f"{where} did not answer within {timeout:g} s") from exc
        raise translate(exc, host, port) from exc
    finally:
        sock.close()


def _read_exactly(sock, count: int, where: str, first: bool) -> bytes:
    chunks, got = [], 0
    while got < count:
        chunk = sock.recv(count - got)
        if not chunk:
            if first and got == 0:
                raise ProtocolError(f"{where} closed the connection without answering")
            raise ProtocolError(f"{where} closed the connection in the middle of a reply")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


__all__ = ["query", "DnsResult", "Record", "DnsInputError", "parse_rdtype", "parse_name",
           "parse_server", "question_for", "resolve_server", "system_nameservers", "type_text",
           "TRANSPORTS", "COMMON_TYPES", "DEFAULT_TIMEOUT", "server_text", "make_request",
           "parse_reply", "records", "transport_for"]
