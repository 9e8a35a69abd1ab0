"""``netgui doctor TARGET``: the connection doctor's steps and verdict as text (or ``--json``)."""

from __future__ import annotations

import re
import sys
import time

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "doctor", help="check every layer of a connection and say which one broke",
        description="Check a host, host:port, URL or e-mail address layer by layer: name "
        "resolution (compared with the DNS tab's saved servers, DNSSEC where signed), TCP to "
        "each address, TLS, the protocol's greeting; MX, SRV and autoconfig for an address. "
        "Examples: netgui doctor imaps://mail.example.org; netgui doctor ftp.example.org:21; "
        "netgui doctor alice@example.org --json")
    parser.add_argument("target", help="host, host:port, URL (https://, imaps://, ftp://, irc://, "
                                       "getfile:// …) or e-mail address")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--resolver", metavar="SERVER",
                        help="DNS server for addresses, records and DNSSEC (default: the system's)")
    parser.add_argument("--compare", metavar="SERVER", action="append", default=None,
                        help="a DNS server to compare with (repeatable; default: the DNS tab's "
                             "saved servers)")
    parser.add_argument("--anchor", metavar="FILE", help="DNSSEC trust anchor (default: the root's)")
    parser.add_argument("--cafile", help="extra CA certificates (PEM) to trust")
    parser.add_argument("--timeout", type=float, default=8.0, help="seconds per step (default 8)")
    parser.add_argument("--autoconfig-url", metavar="TEMPLATE",
                        help="where autoconfig is looked for ({domain} is replaced; default "
                             "https://autoconfig.{domain}/mail/config-v1.1.xml)")
    parser.add_argument("--transcript", action="store_true", help="print the wire transcript to stderr")
    parser.set_defaults(func=run)


def clean(text: str) -> str:
    """Remote text made harmless for a terminal (control and bidi characters escaped)."""
    return _CONTROL.sub(lambda m: m.group(0).encode("unicode_escape").decode("ascii"), text)


def saved_servers() -> list[str]:
    from netgui.config import Settings
    return [str(s) for s in Settings().get("dns.servers", []) or []]


def run(args) -> int:
    from netgui.net.doctor import AUTOCONFIG_URL, FAIL, DoctorInputError, diagnose
    from netgui.net.doctor.model import step_line
    from netgui.net.errors import NetError

    def log(direction: str, text: str) -> None:
        print(clean(f"{time.strftime('%H:%M:%S')} {direction} {text}"), file=sys.stderr, flush=True)

    def progress(step) -> None:  # each step as it ends, between its wire lines
        print(clean(step_line(step)), file=sys.stderr, flush=True)

    compare = args.compare if args.compare is not None else saved_servers()
    try:
        report = diagnose(args.target, dns_servers=compare, resolver=args.resolver,
                          anchors=args.anchor, timeout=args.timeout, cafile=args.cafile,
                          log=log if args.transcript else (lambda d, t: None),
                          on_step=progress if args.transcript else None,
                          autoconfig_url=args.autoconfig_url or AUTOCONFIG_URL)
    except DoctorInputError as exc:
        print(f"netgui doctor: {exc}", file=sys.stderr)
        return 2
    except NetError as exc:
        print(f"netgui doctor: {exc}", file=sys.stderr)
        return 1
    print(clean(report.to_json()) if args.json else clean(report.to_text()), end="" if not args.json else "\n")
    return 1 if report.verdict.status == FAIL else 0
