"""``netgui http URL``: the Web tab's HTTP core from the command line (a small curl)."""

from __future__ import annotations

import sys


def register(subparsers) -> None:
    parser = subparsers.add_parser("http", help="make an HTTP(S) request (headless Web tab)",
                                   description="Send one HTTP request and print or save the body.",
                                   epilog="To run a collection of .http files and their checks: "
                                          "netgui http run DIR (netgui http run --help).")
    parser.add_argument("url")
    parser.add_argument("-X", "--method", default=None, help="GET, POST, … (POST with -d)")
    parser.add_argument("-H", "--header", action="append", default=[], metavar="'NAME: VALUE'")
    parser.add_argument("-d", "--data", default=None, help="raw request body")
    parser.add_argument("--content-type", default="application/json")
    parser.add_argument("-o", "--output", default=None, help="save the body to this file")
    parser.add_argument("-i", "--include", action="store_true", help="print the response head")
    parser.add_argument("-k", "--insecure", action="store_true", help="do not verify TLS")
    parser.add_argument("--no-follow", action="store_true", help="do not follow redirects")
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument("--proxy", default=None, help="http://host:port, or none")
    parser.add_argument("--http", dest="http_version", choices=("auto", "1.1", "2"), default="auto",
                        help="auto (HTTP/2 when TLS ALPN offers it), 1.1 only, or 2 only "
                             "(h2c prior knowledge for http://)")
    parser.add_argument("-v", "--verbose", action="store_true", help="print the transcript")
    parser.set_defaults(func=run)


def run(args) -> int:
    from netgui.fmt import human_bytes
    from netgui.net.errors import NetError
    from netgui.net.http.request import Request
    from netgui.net.http.session import HttpSession

    headers = []
    for item in args.header:
        name, sep, value = item.partition(":")
        if not sep:
            print(f"netgui http: a header is 'Name: value', not {item!r}", file=sys.stderr)
            return 2
        headers.append((name.strip(), value.strip()))
    proxy = None if args.proxy is None else "" if args.proxy.lower() == "none" else args.proxy
    request = Request(url=args.url, method=(args.method or ("POST" if args.data else "GET")).upper(),
                      headers=headers, body_kind="raw" if args.data is not None else "none",
                      raw=args.data or "", content_type=args.content_type,
                      follow_redirects=not args.no_follow, verify=not args.insecure,
                      timeout=args.timeout, proxy=proxy, http_version=args.http_version)
    log = (lambda d, t: print(f"{d} {t}", file=sys.stderr)) if args.verbose else None
    session = HttpSession()
    try:
        kwargs = {"log": log} if log else {}
        response = session.send(request, save_to=args.output, **kwargs)
    except NetError as err:
        print(f"netgui http: {err}", file=sys.stderr)
        return 1
    finally:
        session.close()
    if args.include:
        print(response.status_line)
        for name, value in response.headers:
            print(f"{name}: {value}")
        print()
    if args.output:
        print(f"Saved {human_bytes(response.body_size)} to {response.saved_path}", file=sys.stderr)
    else:
        sys.stdout.buffer.write(response.body)
        sys.stdout.flush()
        if not response.body_complete:
            print(f"\nnetgui http: showed the first {human_bytes(len(response.body))}; "
                  "use -o FILE for the whole body", file=sys.stderr)
    return 0 if response.status < 400 else 22
