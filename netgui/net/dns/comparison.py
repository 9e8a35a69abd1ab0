"""Asking several servers the same question and working out where their answers differ."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from netgui.net.cancel import CancelToken
from netgui.net.connection import Log, no_log
from netgui.net.errors import Cancelled, NetError

from .lookup import DEFAULT_TIMEOUT, DnsResult, query, question_for


@dataclass
class CompareRow:
    """One answer record (without TTL) and, per server, its TTL or None when absent."""

    name: str
    rdtype: str
    data: str
    ttls: list[int | None]

    @property
    def differs(self) -> bool:
        return any(ttl is None for ttl in self.ttls)


@dataclass
class Comparison:
    """The outcome per server (a DnsResult or the error line) and the merged answer rows."""

    servers: list[str]
    results: list[DnsResult | None]
    errors: list[str | None]
    rows: list[CompareRow] = field(default_factory=list)

    def status(self, i: int) -> str:
        """rcode, or ``error`` when the server could not be asked."""
        result = self.results[i]
        return result.rcode if result is not None else "error"

    @property
    def statuses_differ(self) -> bool:
        return len({self.status(i) for i in range(len(self.servers))}) > 1

    @property
    def differs(self) -> bool:
        return self.statuses_differ or any(row.differs for row in self.rows)

    def differences(self) -> list[str]:
        """Human lines describing each difference; empty when all servers agree."""
        lines = []
        if self.statuses_differ:
            parts = [f"{self.status(i)} at {s}" for i, s in enumerate(self.servers)]
            lines.append("Status differs: " + ", ".join(parts))
        for row in self.rows:
            if row.differs:
                have = [s for s, ttl in zip(self.servers, row.ttls) if ttl is not None]
                lacking = [s for s, ttl in zip(self.servers, row.ttls) if ttl is None]
                lines.append(f"{row.name} {row.rdtype} {row.data}: only at {', '.join(have)} "
                             f"(missing at {', '.join(lacking)})")
        return lines

    def summary(self) -> str:
        if not self.differs:
            return f"All {len(self.servers)} servers agree"
        count = len(self.differences())
        return f"{count} difference{'s' if count != 1 else ''} between the servers"


def compare(name: str, rdtype, servers: list, transport: str = "udp", *, rd: bool = True,
            do: bool = False, timeout: float = DEFAULT_TIMEOUT, token: CancelToken | None = None,
            log: Log = no_log, **tls) -> Comparison:
    """Ask each server concurrently; servers that fail get their error line instead of rows."""
    token = token or CancelToken()
    question_for(name, rdtype)  # bad input fails once, up front
    if len(servers) < 2:
        from .lookup import DnsInputError
        raise DnsInputError("Choose at least two servers to compare")

    def ask(server):
        try:
            return query(name, rdtype, server, transport, rd=rd, do=do, timeout=timeout,
                         token=token, **tls), None
        except Cancelled:
            raise
        except NetError as exc:
            return None, str(exc)

    with ThreadPoolExecutor(max_workers=min(8, len(servers)), thread_name_prefix="dns-cmp") as pool:
        outcomes = list(pool.map(ask, servers))
    token.check()
    results = [r for r, _ in outcomes]
    errors = [e for _, e in outcomes]
    labels = []
    for server, result in zip(servers, results):
        labels.append(result.server if result is not None else _label(server))
    for label, result, error in zip(labels, results, errors):
        log("*", f"{label}: {result.summary() if result else error}")
    merged: dict[tuple, CompareRow] = {}
    for i, result in enumerate(results):
        if result is None:
            continue
        for record in result.answer:
            key = (record.name.lower(), record.rdtype, record.data)
            row = merged.get(key)
            if row is None:
                row = merged[key] = CompareRow(record.name, record.rdtype, record.data,
                                               [None] * len(servers))
            row.ttls[i] = record.ttl
    return Comparison(labels, results, errors, list(merged.values()))


def _label(server) -> str:
    if server is None:
        return "system resolver"
    if isinstance(server, tuple):
        host, port = server
        return f"{host}#{port or 53}"
    return str(server)


__all__ = ["compare", "Comparison", "CompareRow"]
