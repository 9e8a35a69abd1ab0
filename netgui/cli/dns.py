"""``netgui dns``: one lookup printed like dig, or a bulk lookup of a list of names."""

from __future__ import annotations

import sys


def register(subparsers) -> None:
    parser = subparsers.add_parser("dns", help="look up DNS records (like dig)",
                                   description="Look up DNS records. Examples: "
                                   "netgui dns example.com MX; netgui dns @1.1.1.1 example.com; "
                                   "netgui dns -x 192.0.2.1; netgui dns -f names.txt --csv")
    parser.add_argument("args", nargs="*", metavar="[@server] name [type]",
                        help="the server (optional, @address[:port]), the name and the type")
    parser.add_argument("-x", dest="reverse", metavar="ADDRESS", help="reverse lookup of an address")
    parser.add_argument("-f", dest="file", metavar="FILE", help="resolve every name in FILE (bulk)")
    parser.add_argument("--transport", choices=("udp", "tcp", "tls"), default="udp")
    parser.add_argument("--norec", action="store_true", help="do not set RD")
    parser.add_argument("--dnssec", action="store_true", help="set the DO bit")
    parser.add_argument("--timeout", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--csv", action="store_true", help="bulk output as CSV")
    parser.set_defaults(func=run)


def run(args) -> int:
    from netgui.net.dns.lookup import parse_server, query
    from netgui.net.errors import NetError
    server, words = None, []
    try:
        for word in args.args:
            if word.startswith("@"):
                server = parse_server(word)
            else:
                words.append(word)
        if args.file:
            return _bulk(args, server, words)
        name = args.reverse or (words[0] if words else "")
        rdtype = words[1] if len(words) > 1 and not args.reverse else "A"
        result = query(name, rdtype, server, args.transport, rd=not args.norec, do=args.dnssec,
                       timeout=args.timeout)
    except NetError as exc:
        print(f"netgui dns: {exc}", file=sys.stderr)
        return 1
    print(result.to_text())
    return 0 if result.problem is None else 1


def _bulk(args, server, types) -> int:
    from netgui.net.dns.bulk import bulk_resolve, parse_bulk_text, rows_to_csv
    with open(args.file, encoding="utf-8", errors="replace") as f:
        pairs = parse_bulk_text(f.read(), types or ["A"])
    rows = bulk_resolve(pairs, server, args.transport, rd=not args.norec, do=args.dnssec,
                        timeout=args.timeout, concurrency=args.concurrency)
    if args.csv:
        sys.stdout.write(rows_to_csv(rows))
    else:
        for row in rows:
            print(f"{row.name}\t{row.rdtype}\t{row.status}\t{row.answers or row.message}")
    return 0


__all__ = ["register", "run"]
