"""``netgui getfile serve`` (the bundled server) and ``netgui getfile fetch`` (headless client)."""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

DEFAULT_PORT = 50001


def register(subparsers) -> None:
    """Add ``getfile serve`` and ``getfile fetch`` to the top-level parser."""
    parser = subparsers.add_parser("getfile", help="serve a folder, or fetch a file, with getfile",
                                   description="The getfile protocol: one line in, a file out.")
    sub = parser.add_subparsers(dest="getfile_command", metavar="ACTION")

    serve = sub.add_parser("serve", help="serve the files under a folder")
    serve.add_argument("--root", required=True, type=Path, help="the folder to serve")
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT, help="TCP port (default 50001)")
    serve.add_argument("--tls-cert", type=Path, help="certificate (PEM) to offer netgui clients "
                       "through STARTTLS")
    serve.add_argument("--tls-key", type=Path, help="private key (PEM) for --tls-cert")
    serve.add_argument("--quiet", action="store_true", help="no access log")
    serve.set_defaults(func=_serve)

    fetch = sub.add_parser("fetch", help="download one file")
    fetch.add_argument("--host", required=True)
    fetch.add_argument("--port", type=int, default=DEFAULT_PORT)
    fetch.add_argument("--file", required=True, help="path of the file on the server")
    fetch.add_argument("--dest", type=Path, default=Path("."), help="local folder (default: here)")
    fetch.add_argument("--timeout", type=float, default=15.0, help="seconds (default 15)")
    fetch.add_argument("--no-resume", action="store_true", help="ignore an existing .part file")
    fetch.add_argument("--tls", action="store_true", help="require TLS (netgui servers only)")
    fetch.add_argument("--cafile", help="extra CA certificates (PEM) to trust")
    fetch.add_argument("--insecure", action="store_true",
                       help="with --tls: do not verify the certificate")
    fetch.add_argument("--quiet", action="store_true", help="no progress or transcript")
    fetch.set_defaults(func=_fetch)
    parser.set_defaults(func=lambda args: (parser.print_help(), 2)[1])


def _stderr_log(direction: str, text: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {direction} {text}", file=sys.stderr, flush=True)


def _serve(args) -> int:
    from netgui.servers.getfile import GetfileServer, server_tls_context

    try:
        tls = server_tls_context(args.tls_cert, args.tls_key) if args.tls_cert else None
        server = GetfileServer(args.root, host=args.host, port=args.port, tls=tls,
                               log=None if args.quiet else _stderr_log)
        server.start()
    except ValueError as exc:
        print(f"netgui getfile serve: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"netgui getfile serve: cannot listen on {args.host} port {args.port}: "
              f"{os.strerror(exc.errno) if exc.errno else exc}", file=sys.stderr)
        return 1
    print(f"Serving {server.root} on {server.host}:{server.port} (Ctrl+C stops)",
          file=sys.stderr, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


def _fetch(args) -> int:
    from netgui.net.connection import tls_context
    from netgui.net.errors import NetError
    from netgui.net.getfile.client import fetch

    tls = tls_context(verify=not args.insecure, cafile=args.cafile) if args.tls else None
    started = time.monotonic()
    shown = [0.0]

    def progress(done: int, total: int | None) -> None:
        now = time.monotonic()
        if args.quiet or not sys.stderr.isatty() or (now - shown[0] < 0.5 and done != total):
            return
        shown[0] = now
        rate = done / max(now - started, 1e-6)
        of = f" of {_size(total)}" if total is not None else ""
        print(f"\r{_size(done)}{of}  {_size(rate)}/s   ", end="", file=sys.stderr, flush=True)

    try:
        result = fetch(args.host, args.port, args.file, args.dest, timeout=args.timeout,
                       progress=progress, log=None if args.quiet else _stderr_log, tls=tls,
                       resume=not args.no_resume)
    except NetError as exc:
        if shown[0]:
            print(file=sys.stderr)  # end the progress line
        print(f"netgui getfile fetch: {exc}", file=sys.stderr)
        return 1
    if shown[0]:
        print(file=sys.stderr)
    check = "size verified" if result.verified else "unverified (original server)"
    print(f"{result.path} {result.size} bytes, {check}")
    return 0


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


__all__ = ["register"]
