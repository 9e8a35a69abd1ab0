"""JSON for ``netgui dns --json`` and the tab's Copy as JSON: plain dicts of str, int, float,
bool, None and lists, the same for a lookup, a bulk run, a comparison, a trace and a
DNSSEC validation. Record data is dig's presentation text (what the tables show).

The field names follow RFC 8427's spirit (``rcode``, ``flags``, sections as lists of
records) without its per-field wire encoding: this is for people and scripts, not for
reconstructing wire messages.
"""

from __future__ import annotations

import json
from typing import Any

import dns.flags
import dns.opcode
import dns.rcode
import dns.rdataclass
import dns.rdatatype

_FLAGS = ("QR", "AA", "TC", "RD", "RA", "AD", "CD")


def record_dict(rec) -> dict:
    """A Record (query.records) as a dict."""
    out = {"name": rec.name, "ttl": rec.ttl, "class": rec.rdclass, "type": rec.rdtype,
           "data": rec.data}
    if rec.target:
        out["target"] = rec.target
    return out


def message_dict(message) -> dict:
    """Header, EDNS and sections of a dnspython message."""
    from .edns import describe_options
    from .lookup import records
    flags = [f for f in _FLAGS if message.flags & getattr(dns.flags, f)]
    out: dict[str, Any] = {
        "id": message.id,
        "opcode": dns.opcode.to_text(message.opcode()),
        "rcode": dns.rcode.to_text(message.rcode()),
        "flags": flags,
        "question": [{"name": q.name.to_text(), "class": dns.rdataclass.to_text(q.rdclass),
                      "type": dns.rdatatype.to_text(q.rdtype)} for q in message.question],
        "answer": [record_dict(r) for r in records(message.answer)],
        "authority": [record_dict(r) for r in records(message.authority)],
        "additional": [record_dict(r) for r in records(message.additional)],
    }
    if message.edns >= 0:
        out["edns"] = {"version": message.edns, "udp_payload": message.payload,
                       "do": bool(message.ednsflags & dns.flags.DO),
                       "options": describe_options(message)}
    return out


def result_to_dict(result) -> dict:
    """A DnsResult: where it came from, how long it took, status with EDE, the message."""
    out = {
        "query": {"name": result.qname, "type": result.qtype, "reverse": result.reverse},
        "server": result.server,
        "transport": result.transport,
        "http_version": result.http_version,
        "elapsed_ms": round(result.elapsed * 1000, 3),
        "size": result.size,
        "when": result.when.isoformat(timespec="seconds"),
        "status": result.rcode,
        "problem": result.problem,
        "extended_errors": result.extended_errors,
        "truncated_retry": result.truncated_retry,
        "message": message_dict(result.message),
    }
    return out


def bulk_to_dict(rows) -> list[dict]:
    return [{"name": r.name, "type": r.rdtype, "status": r.status, "answers": r.answers,
             "ttl": r.ttl, "ms": None if r.ms is None else round(r.ms, 3), "message": r.message}
            for r in rows]


def comparison_to_dict(comparison) -> dict:
    return {
        "servers": [{"server": s, "status": comparison.status(i), "error": comparison.errors[i],
                     "elapsed_ms": (round(comparison.results[i].elapsed * 1000, 3)
                                    if comparison.results[i] else None)}
                    for i, s in enumerate(comparison.servers)],
        "rows": [{"name": r.name, "type": r.rdtype, "data": r.data, "ttls": r.ttls,
                  "differs": r.differs} for r in comparison.rows],
        "differences": comparison.differences(),
        "agree": not comparison.differs,
    }


def to_json(obj, indent: int | None = 2) -> str:
    """JSON text for any DNS outcome netgui produces."""
    from .comparison import Comparison
    from .lookup import DnsResult
    if isinstance(obj, DnsResult):
        data = result_to_dict(obj)
    elif isinstance(obj, Comparison):
        data = comparison_to_dict(obj)
    elif isinstance(obj, list):
        data = bulk_to_dict(obj)
    elif hasattr(obj, "to_dict"):
        data = obj.to_dict()
    else:
        raise TypeError(f"no JSON form for {type(obj).__name__}")
    return json.dumps(data, indent=indent, ensure_ascii=False)


__all__ = ["to_json", "result_to_dict", "message_dict", "bulk_to_dict", "comparison_to_dict",
           "record_dict"]
