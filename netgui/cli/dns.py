"""``netgui dns``: one lookup printed like dig, a bulk lookup, +trace from the root, or a
DNSSEC validation like delv; ``--json`` prints any of them as JSON."""

from __future__ import annotations

import sys


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "dns", help="look up DNS records (like dig)",
        description="Look up DNS records. Examples: netgui dns example.com MX; "
        "netgui dns @1.1.1.1 example.com; netgui dns @https://dns.example/dns-query example.com; "
        "netgui dns -x 192.0.2.1; netgui dns -f names.txt --csv; netgui dns --trace example.com; "
        "netgui dns --validate example.com; netgui dns --nsid --json example.com")
    parser.add_argument("args", nargs="*", metavar="[@server] name [type]",
                        help="the server (optional: @address[:port] or @https://host/dns-query), "
                             "the name and the type")
    parser.add_argument("-x", dest="reverse", metavar="ADDRESS", help="reverse lookup of an address")
    parser.add_argument("-f", dest="file", metavar="FILE", help="resolve every name in FILE (bulk)")
    parser.add_argument("--transport", choices=("udp", "tcp", "tls", "https"), default="udp")
    parser.add_argument("--norec", action="store_true", help="do not set RD")
    parser.add_argument("--dnssec", action="store_true", help="set the DO bit")
    parser.add_argument("--cd", action="store_true", help="set CD (checking disabled)")
    parser.add_argument("--timeout", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--csv", action="store_true", help="bulk output as CSV")
    parser.add_argument("--json", action="store_true", help="print the outcome as JSON")
    parser.add_argument("--cafile", help="CA certificates to trust for DoT/DoH")
    parser.add_argument("--get", action="store_true", help="DoH: send GET instead of POST")
    parser.add_argument("--http", choices=("auto", "1.1", "2"), default="auto",
                        help="DoH: HTTP version (auto: HTTP/2 where offered)")
    edns = parser.add_argument_group("EDNS options")
    edns.add_argument("--nsid", action="store_true", help="ask for the server's NSID")
    edns.add_argument("--subnet", metavar="PREFIX", help="client subnet, e.g. 192.0.2.0/24")
    edns.add_argument("--cookie", nargs="?", const=True, default=False, metavar="HEX",
                      help="send a DNS cookie (a fresh one, or HEX)")
    edns.add_argument("--padding", type=int, default=0, metavar="BLOCK",
                      help="pad the query to a multiple of BLOCK bytes")
    edns.add_argument("--bufsize", type=int, default=1232, help="EDNS UDP buffer size")
    trace = parser.add_argument_group("+trace and DNSSEC")
    trace.add_argument("--trace", action="store_true", help="resolve from the root, like dig +trace")
    trace.add_argument("--hints", metavar="FILE", help="root hints file for --trace")
    trace.add_argument("--port", type=int, default=53, help="port of every server in --trace")
    trace.add_argument("--validate", action="store_true",
                       help="validate the chain of trust, like delv")
    trace.add_argument("--anchor", metavar="FILE",
                       help="trust anchor (DS/DNSKEY lines or trust-anchors {}) for --validate")
    parser.set_defaults(func=run)


def run(args) -> int:
    from netgui.net.dns.edns import EdnsOptions
    from netgui.net.dns.jsonout import to_json
    from netgui.net.dns.lookup import parse_server, query, transport_for
    from netgui.net.errors import NetError
    server, words = None, []
    try:
        for word in args.args:
            if word.startswith("@"):
                server = parse_server(word)
            else:
                words.append(word)
        edns = EdnsOptions(nsid=args.nsid, ecs=args.subnet, cookie=args.cookie,
                           padding=args.padding, payload=args.bufsize).check()
        if args.file:
            return _bulk(args, server, words, edns if edns.any else None)
        name = args.reverse or (words[0] if words else "")
        rdtype = words[1] if len(words) > 1 and not args.reverse else "A"
        transport = transport_for(server, args.transport)
        if args.trace:
            from netgui.net.dns.trace import trace
            outcome = trace(name, rdtype, hints=args.hints, port=args.port, timeout=args.timeout,
                            transport="tcp" if transport == "tcp" else "udp", edns=edns)
            print(to_json(outcome) if args.json else outcome.to_text() + ";; " + outcome.summary())
            return 0 if outcome.error is None else 1
        tls = dict(cafile=args.cafile, doh_method="GET" if args.get else "POST",
                   http_version=args.http)
        if args.validate:
            from netgui.net.dns.dnssec import validate
            outcome = validate(name, rdtype, server, transport, anchors=args.anchor,
                               timeout=args.timeout, edns=edns, **tls)
            print(to_json(outcome) if args.json else outcome.to_text() + ";; " + outcome.summary())
            return 0 if outcome.verdict in ("secure", "insecure") else 1
        result = query(name, rdtype, server, transport, rd=not args.norec, do=args.dnssec,
                       cd=args.cd, timeout=args.timeout, edns=edns, **tls)
    except NetError as exc:
        print(f"netgui dns: {exc}", file=sys.stderr)
        return 1
    print(to_json(result) if args.json else result.to_text())
    return 0 if result.problem is None else 1


def _bulk(args, server, types, edns) -> int:
    from netgui.net.dns.bulk import bulk_resolve, parse_bulk_text, rows_to_csv
    from netgui.net.dns.jsonout import to_json
    from netgui.net.dns.lookup import transport_for
    try:
        with open(args.file, encoding="utf-8", errors="replace") as f:
            pairs = parse_bulk_text(f.read(), types or ["A"])
    except OSError as exc:
        print(f"netgui dns: cannot read {args.file}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    transport = transport_for(server, args.transport)
    extra = {}
    if transport in ("tls", "https"):
        extra = dict(cafile=args.cafile)
    if transport == "https":
        extra.update(http_version=args.http, doh_method="GET" if args.get else "POST")
    rows = bulk_resolve(pairs, server, transport, rd=not args.norec, do=args.dnssec,
                        cd=args.cd, edns=edns, timeout=args.timeout,
                        concurrency=args.concurrency, **extra)
    if args.json:
        print(to_json(rows))
    elif args.csv:
        sys.stdout.write(rows_to_csv(rows))
    else:
        for row in rows:
            print(f"{row.name}\t{row.rdtype}\t{row.status}\t{row.answers or row.message}")
    return 0


__all__ = ["register", "run"]
