"""``netgui chat serve`` runs the bundled line-chat server; ``netgui chat connect`` is a terminal client."""

from __future__ import annotations

import queue
import signal
import sys
import threading

from netgui.net.chat.linechat import VARIANTS, run_session
from netgui.net.errors import Cancelled, NetError
from netgui.servers.chat import DEFAULT_PORT, ChatServer


def register(subparsers) -> None:
    parser = subparsers.add_parser("chat", help="the line-chat server")
    sub = parser.add_subparsers(dest="chat_command", metavar="ACTION")
    serve = sub.add_parser("serve", help="run the line-chat server until Ctrl+C")
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0 = any free port)")
    serve.set_defaults(func=serve_command)
    connect = sub.add_parser("connect", help="talk to a line-chat server: stdin is sent, what arrives is printed")
    connect.add_argument("host")
    connect.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    connect.add_argument("--variant", choices=VARIANTS, default="auto",
                         help="server kind: line (per line), send (buffered until SEND) or auto (detect)")
    connect.set_defaults(func=connect_command)
    parser.set_defaults(func=lambda args: (parser.print_help(), 2)[1])


def serve_command(args, stop: threading.Event | None = None) -> int:
    def log(direction: str, text: str) -> None:
        print(f"{direction} {text}", flush=True)

    server = ChatServer(args.host, args.port, log=log)
    try:
        server.start()
    except OSError as exc:
        print(f"netgui chat: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        server.serve_forever(stop)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


def connect_command(args) -> int:
    outbox: queue.Queue = queue.Queue()

    def read_stdin() -> None:
        for line in sys.stdin:
            outbox.put(line.rstrip("\r\n"))
        outbox.put(None)  # end of input: leave

    def show(lines: list[str]) -> None:
        for line in lines:
            print(line, flush=True)

    threading.Thread(target=read_stdin, daemon=True).start()
    try:
        run_session(args.host, args.port, variant=args.variant, outbox=outbox, on_lines=show, linger=1.0)
    except Cancelled:
        return 130
    except NetError as err:
        print(f"netgui chat: {err}", file=sys.stderr)
        return 1
    return 0
