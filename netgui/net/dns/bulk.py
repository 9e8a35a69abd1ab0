"""Resolving many names at once: one row per name and type, streamed back in batches.

Over UDP the queries are pipelined on one socket (up to ``concurrency`` in flight,
matched to replies by message id, resent on silence); truncated replies are retried
over TCP. Over TCP, TLS and HTTPS a bounded thread pool runs one query per thread at a time.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import random
import select
import socket
import struct
import threading
import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Callable, Iterable

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdata
import dns.rdatatype
import dns.wire

from netgui.net.cancel import CancelToken
from netgui.net.connection import Log, no_log
from netgui.net.errors import Cancelled, ConnectError, NetError, translate

from .lookup import (
    DEFAULT_TIMEOUT,
    DnsInputError,
    make_request,
    query,
    question_for,
    records,
    resolve_server,
    server_text,
    transport_for,
    type_text,
)

DOH_CONNECTIONS = 8   # threads (each with its own connection) for bulk DNS over HTTPS
BULK_HEADER = ("name", "type", "status", "answers", "ttl", "ms", "message")
# This loop makes a system call every few microseconds, and each one hands the GIL back
# and forth: a thread waiting for the GIL (the Tk thread) is woken, finds it taken again
# and restarts its wait, so the window could freeze for 50-150 ms. A real pause per round
# of sends lets it in (measured: no Tk stall over 30 ms; about 3 ms per 1,000 names).
GIL_BREATH_S = 0.0002


@dataclass
class BulkRow:
    """The outcome for one (name, type): ``status`` is an rcode, ``timeout``, ``invalid`` or ``error``."""

    index: int
    name: str
    rdtype: str
    status: str
    answers: str = ""
    ttl: int | None = None
    ms: float | None = None
    message: str = ""

    def row(self) -> tuple:
        return (self.name, self.rdtype, self.status, self.answers,
                "" if self.ttl is None else self.ttl,
                "" if self.ms is None else f"{self.ms:.1f}", self.message)


def parse_bulk_text(text: str, default_types: Iterable[str] = ("A",)) -> list[tuple[str, str]]:
    """(name, type) pairs from pasted text or a file in ``dig -f`` style.

    Each line holds a name and optionally types (``example.com MX TXT``); commas also
    separate entries; ``#`` and ``;`` start comments; dig options (``+short``, ``-t``) are ignored.
    """
    defaults = [t.strip().upper() for t in default_types if t.strip()] or ["A"]
    pairs: list[tuple[str, str]] = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].split(";", 1)[0]
        for entry in line.split(","):
            words = [w for w in entry.split() if not w.startswith(("+", "@"))]
            if not words:
                continue
            name = words[0]
            kinds = [w.upper() for w in words[1:] if w.upper() not in ("IN", "-T")]
            for kind in kinds or defaults:
                pairs.append((name, kind))
    return pairs


def rows_to_csv(rows: Iterable[BulkRow]) -> str:
    """CSV text with a header line, as written by the Export button."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(BULK_HEADER)
    for row in rows:
        writer.writerow(row.row())
    return out.getvalue()


def row_from_message(index: int, name: str, kind: str, message, ms: float) -> BulkRow:
    """A bulk row for a reply: answers joined with ``; `` and the smallest TTL."""
    answer = records(message.answer)
    status = dns.rcode.to_text(message.rcode())
    data = "; ".join(r.data if r.rdtype == kind else f"{r.rdtype} {r.data}" for r in answer)
    ttl = min((r.ttl for r in answer), default=None)
    note = ""
    if status == "NOERROR" and not answer:
        note = "no records of this type"
    return BulkRow(index, name, kind, status, data, ttl, ms, note)


class _Pending:
    __slots__ = ("qid", "index", "name", "kind", "qname", "qtype", "wire", "question", "start",
                 "sent")

    def __init__(self, qid, index, name, kind, qname, qtype, template, now):
        self.qid, self.index, self.name, self.kind = qid, index, name, kind
        self.qname, self.qtype = qname, qtype
        self.question = template.question(qname, qtype)
        self.wire = template.wire(qid, self.question)
        self.start = self.sent = now


class _QueryTemplate:
    """Bulk queries built by dnspython once: the header flags and the OPT record of
    ``make_request`` are kept, and each query is the id, those flags, the name's wire form
    (dnspython), type and class, and that OPT record — the same bytes ``make_request`` makes
    (tested), at a fraction of the cost. EDNS padding needs the whole message: not used here."""

    def __init__(self, rd: bool, do: bool, cd: bool = False, edns=None):
        if edns is not None and edns.padding:
            edns = dataclasses.replace(edns, padding=0)
        probe = make_request(dns.name.root, dns.rdatatype.A, rd=rd, do=do, cd=cd, options=edns)
        probe.id = 0
        wire = probe.to_wire()
        self.head = wire[2:12]             # flags and the four counts
        self.opt = wire[12 + 5:]           # after the root question

    @staticmethod
    def question(qname, qtype: int) -> bytes:
        return qname.to_wire() + struct.pack("!HH", qtype, 1)

    def wire(self, qid: int, question: bytes) -> bytes:
        return qid.to_bytes(2, "big") + self.head + question + self.opt


_OPT = int(dns.rdatatype.OPT)


def read_reply(data: bytes, qname, qtype: int, question: bytes | None = None):
    """``(rcode, truncated, answers)`` of a UDP reply to ``qname``/``qtype``, or None when it
    answers another question. ``answers`` are (type, ttl, data text) in wire order.

    dnspython's wire parser reads the records of the answer section (a bulk row needs
    nothing else); owner names are stepped over, and the question is compared as bytes
    with ``question`` (the query's, which servers echo) before dnspython compares names.
    This costs about a quarter of ``dns.message.from_wire``. Malformed input raises."""
    parser = dns.wire.Parser(data)
    _, flags, qdcount, ancount, nscount, arcount = parser.get_struct("!HHHHHH")
    if not flags & 0x8000 or qdcount != 1:
        return None
    end = 12 + len(question) - 4 if question else 0
    if question and data[12:end].lower() == question[:-4].lower() \
            and data[end:end + 4] == question[-4:]:
        parser.seek(end + 4)
    else:
        name = dns.name.from_wire_parser(parser)
        rdtype, _ = parser.get_struct("!HH")
        if rdtype != qtype or name != qname:
            return None
    if flags & 0x0200:
        return flags & 0xF, True, []
    answers = []
    for _ in range(ancount):
        _skip_name(parser)
        rdtype, rdclass, ttl, rdlen = parser.get_struct("!HHIH")
        with parser.restrict_to(rdlen):
            rdata = dns.rdata.from_wire_parser(rdclass, rdtype, parser)
        answers.append((rdtype, ttl, rdata.to_text()))
    rcode = flags & 0xF
    for _ in range(nscount + arcount):      # the OPT record carries the rcode's upper bits
        _skip_name(parser)
        rdtype, _, ttl, rdlen = parser.get_struct("!HHIH")
        parser.get_bytes(rdlen)
        if rdtype == _OPT:
            rcode |= (ttl >> 24) << 4
    return rcode, False, answers


def _skip_name(parser) -> None:
    """Step over a name: labels up to the root label or a compression pointer."""
    while True:
        length = parser.get_uint8()
        if length == 0:
            return
        if length >= 0xC0:
            parser.get_uint8()
            return
        if length > 63:
            raise dns.name.BadLabelType
        parser.get_bytes(length)


def row_from_answers(index: int, name: str, kind: str, qtype: int, rcode: int, answers,
                     ms: float) -> BulkRow:
    """The row ``row_from_message`` makes, from ``read_reply``'s answers."""
    status = dns.rcode.to_text(rcode)
    data = "; ".join(text if rdtype == qtype else f"{type_text(rdtype)} {text}"
                     for rdtype, _, text in answers)
    ttl = min((t for _, t, _ in answers), default=None)
    note = "no records of this type" if status == "NOERROR" and not answers else ""
    return BulkRow(index, name, kind, status, data, ttl, ms, note)


def bulk_resolve(pairs: list[tuple[str, str]], server=None, transport: str = "udp", *,
                 rd: bool = True, do: bool = False, timeout: float = DEFAULT_TIMEOUT,
                 concurrency: int = 100, token: CancelToken | None = None,
                 on_rows: Callable[[list[BulkRow]], None] | None = None,
                 progress: Callable[[int, int], None] | None = None,
                 log: Log = no_log, batch_seconds: float = 0.1, cd: bool = False,
                 edns=None, **tls) -> list[BulkRow]:
    """Resolve every (name, type) pair; return rows in input order.

    ``on_rows(batch)`` receives finished rows as they arrive (batched about every
    ``batch_seconds``); ``progress(done, total)`` follows each batch. ``cd`` and ``edns``
    (EdnsOptions) go into every query; ``tls`` holds the TLS/DoH options of ``query``.
    """
    token = token or CancelToken()
    transport = transport_for(server, transport)
    if concurrency < 1:
        raise DnsInputError("Concurrency must be at least 1")
    results: dict[int, BulkRow] = {}
    batch: list[BulkRow] = []
    last_flush = [time.perf_counter()]
    total = len(pairs)

    def emit(row: BulkRow, force: bool = False) -> None:
        if row is not None:
            results[row.index] = row
            batch.append(row)
        now = time.perf_counter()
        if batch and (force or now - last_flush[0] >= batch_seconds):
            if on_rows:
                on_rows(list(batch))
            batch.clear()
            last_flush[0] = now
            if progress:
                progress(len(results), total)

    questions = []
    for index, (name, kind) in enumerate(pairs):
        try:
            qname, qtype, _ = question_for(name, kind)
            questions.append((index, name, type_text(qtype), qname, qtype))
        except DnsInputError as exc:
            emit(BulkRow(index, name, str(kind).upper(), "invalid", message=str(exc)))
    log("*", f"Resolving {len(questions)} questions over {transport.upper()}, "
             f"{concurrency} at a time")
    started = time.perf_counter()
    try:
        if transport == "udp":
            _pipelined_udp(questions, server, _QueryTemplate(rd, do, cd, edns), timeout,
                           concurrency, token, emit, log, dict(rd=rd, do=do, cd=cd, edns=edns))
        else:
            _threaded(questions, server, transport, rd, do, timeout, concurrency, token, emit,
                      log, {**tls, "cd": cd, "edns": edns})
    finally:
        emit(None, force=True)
    log("*", f"{len(results)} answers in {time.perf_counter() - started:.2f} s")
    return [results[i] for i in sorted(results)]


def _threaded(questions, server, transport, rd, do, timeout, concurrency, token, emit, log, tls):
    """TCP, TLS and HTTPS: a pool of threads, one query each at a time.

    Over HTTPS each thread keeps its own DohClient (its own connection): httpx2's HTTP/2
    connection is not safe to share between threads (pydantic/httpx2#908: HPACK state and
    stream ids get mixed up), so queries are spread over DOH_CONNECTIONS connections."""
    clients, local, lock = [], threading.local(), threading.Lock()
    if transport == "https":
        from .doh import DohClient
        url = resolve_server(server, "https")[0][0]

    def options() -> dict:
        if transport != "https":
            return tls
        client = getattr(local, "client", None)
        if client is None:
            client = local.client = DohClient(
                url, verify=tls.get("tls_verify", True), cafile=tls.get("cafile"),
                http_version=tls.get("http_version", "auto"), address=tls.get("tls_hostname"),
                token=token, log=log, timeout=timeout, max_connections=1)
            with lock:
                clients.append(client)
        return {**tls, "doh_client": client}

    def one(item):
        index, name, kind, _, _ = item
        try:
            result = query(name, kind, server, transport, rd=rd, do=do, timeout=timeout,
                           token=token, **options())
        except Cancelled:
            raise
        except NetError as exc:
            return _error_row(index, name, kind, exc)
        return row_from_message(index, name, kind, result.message, result.elapsed * 1000)

    limit = DOH_CONNECTIONS if transport == "https" else 32
    workers = min(concurrency, limit, max(1, len(questions)))
    try:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="dns-bulk") as pool:
            todo = deque(questions)
            running = set()
            try:
                while todo or running:
                    token.check()
                    while todo and len(running) < workers * 2:
                        running.add(pool.submit(one, todo.popleft()))
                    done, running = wait(running, timeout=0.1, return_when=FIRST_COMPLETED)
                    for future in done:
                        emit(future.result())
            except BaseException:
                token.cancel() if not token.cancelled else None
                for future in running:
                    future.cancel()
                raise
    finally:
        for client in clients:
            client.close()


def _error_row(index, name, kind, exc: NetError) -> BulkRow:
    from netgui.net.errors import NetTimeout
    status = "timeout" if isinstance(exc, NetTimeout) else "error"
    return BulkRow(index, name, kind, status, message=str(exc))


def _pipelined_udp(questions, server, template, timeout, concurrency, token, emit, log, flags):
    host, port = resolve_server(server, "udp")[0]
    where = server_text(host, port)
    try:
        family, _, proto, _, sockaddr = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)[0]
    except socket.gaierror as exc:
        raise translate(exc, host, port) from exc
    sock = socket.socket(family, socket.SOCK_DGRAM, proto)
    sock.setblocking(False)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    except OSError:
        pass
    sock.connect(sockaddr)
    todo = deque(questions)
    inflight: dict[int, _Pending] = {}
    resend_after = max(0.5, timeout / 3)
    garbage = 0
    retry_tcp = []
    try:
        with token.watch(sock):
            while todo or inflight:
                token.check()
                now = time.perf_counter()
                while todo and len(inflight) < concurrency:
                    index, name, kind, qname, qtype = todo.popleft()
                    qid = random.getrandbits(16)
                    while qid in inflight:
                        qid = random.getrandbits(16)
                    pending = _Pending(qid, index, name, kind, qname, qtype, template, now)
                    inflight[qid] = pending
                    try:
                        sock.send(pending.wire)
                    except BlockingIOError:
                        pending.sent = now - resend_after  # resend on the next pass
                time.sleep(GIL_BREATH_S)
                readable, _, _ = select.select([sock], [], [], 0.05)
                if readable:
                    garbage += _drain(sock, inflight, emit, retry_tcp)
                now = time.perf_counter()
                for pending in [p for p in inflight.values() if now - p.sent >= resend_after]:
                    if now - pending.start >= timeout:
                        del inflight[pending.qid]
                        why = (f"{where} did not answer within {timeout:g} s"
                               + (" (it sent replies that are not DNS)" if garbage else ""))
                        emit(BulkRow(pending.index, pending.name, pending.kind, "timeout",
                                     ms=None, message=why))
                    else:
                        pending.sent = now
                        try:
                            sock.send(pending.wire)
                        except BlockingIOError:
                            pass
    except (ConnectionRefusedError, ConnectionResetError) as exc:  # Windows reports ICMP as a reset
        raise ConnectError(f"No DNS server answers at {where} (connection refused)",
                           detail=str(exc)) from exc
    except OSError as exc:
        if token.cancelled:
            raise Cancelled() from exc
        raise translate(exc, host, port) from exc
    finally:
        sock.close()
    if garbage:
        log("!", f"{where} sent {garbage} replies that are not valid DNS")
    for pending in retry_tcp:
        token.check()
        log("*", f"{pending.name} {pending.kind}: truncated over UDP, retrying over TCP")
        try:
            result = query(pending.name, pending.kind, (host, port), "tcp", timeout=timeout,
                           token=token, **flags)
        except Cancelled:
            raise
        except NetError as exc:
            emit(_error_row(pending.index, pending.name, pending.kind, exc))
            continue
        row = row_from_message(pending.index, pending.name, pending.kind, result.message,
                               (time.perf_counter() - pending.start) * 1000)
        row.message = (row.message + "; " if row.message else "") + "truncated over UDP, TCP used"
        emit(row)


def _drain(sock, inflight, emit, retry_tcp) -> int:
    """Read every waiting datagram; return how many were not DNS."""
    garbage = 0
    while True:
        try:
            data = sock.recv(65535)
        except (BlockingIOError, InterruptedError):
            return garbage
        arrived = time.perf_counter()
        pending = inflight.get(int.from_bytes(data[:2], "big"))
        try:
            reply = (read_reply(data, pending.qname, pending.qtype, pending.question)
                     if pending else None)
            if reply is None:   # a late duplicate of an answered query, or a stray reply
                dns.message.from_wire(data, question_only=True, ignore_trailing=True)
                continue
        except Exception:  # dnspython raises many kinds for malformed input
            garbage += 1
            continue
        del inflight[pending.qid]
        rcode, truncated, answers = reply
        if truncated:
            retry_tcp.append(pending)
            continue
        emit(row_from_answers(pending.index, pending.name, pending.kind, pending.qtype, rcode,
                              answers, (arrived - pending.start) * 1000))


__all__ = ["bulk_resolve", "BulkRow", "parse_bulk_text", "rows_to_csv", "BULK_HEADER",
           "row_from_message", "read_reply"]
