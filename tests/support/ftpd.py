"""A real pyftpdlib FTP / FTPS server in a child process, for tests and benchmarks.

Run as ``python -m tests.support.ftpd --root DIR --port N [--tls explicit|implicit --cert PEM]``.
``FtpServer`` starts it, waits for the port and stops (or kills) it.
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
import tempfile
from pathlib import Path

USER, PASSWORD = "alice", "s3cret-pw"
READONLY_USER = "reader"
ROOT = Path(__file__).resolve().parents[2]


def _serve(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--tls", choices=("none", "explicit", "implicit"), default="none")
    parser.add_argument("--cert", help="PEM with certificate chain and key")
    parser.add_argument("--throttle", type=int, default=0, help="bytes/s per data connection")
    parser.add_argument("--idle-timeout", type=float, default=300)
    parser.add_argument("--anonymous", action="store_true")
    args = parser.parse_args(argv)

    from pyftpdlib.authorizers import DummyAuthorizer
    from pyftpdlib.handlers import FTPHandler, ThrottledDTPHandler
    from pyftpdlib.servers import FTPServer

    auth = DummyAuthorizer()
    auth.add_user(USER, PASSWORD, args.root, perm="elradfmwMT")
    auth.add_user(READONLY_USER, PASSWORD, args.root, perm="elr")
    if args.anonymous:
        auth.add_anonymous(args.root, perm="elr")

    if args.tls == "none":
        class Handler(FTPHandler):
            pass
        if args.throttle:
            class Throttled(ThrottledDTPHandler):
                read_limit = args.throttle
                write_limit = args.throttle
            Handler.dtp_handler = Throttled
    else:
        from pyftpdlib.handlers import TLS_FTPHandler

        class Handler(TLS_FTPHandler):
            certfile = args.cert
            keyfile = args.cert
        if args.tls == "implicit":
            class Implicit(Handler):
                def handle(self):
                    self.secure_connection(self.ssl_context)

                def handle_ssl_established(self):
                    if not getattr(self, "_greeted", False):
                        self._greeted = True
                        TLS_FTPHandler.handle(self)
            Handler = Implicit
    Handler.authorizer = auth
    Handler.timeout = args.idle_timeout
    Handler.banner = "netgui test server ready."
    Handler.auth_failed_timeout = 0.2   # answer a wrong password quickly (default: 3 s)
    Handler.permit_foreign_addresses = False
    server = FTPServer(("127.0.0.1", args.port), Handler)
    server.max_cons = 256
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("pyftpdlib").setLevel(logging.WARNING)
    server.serve_forever(handle_exit=True)


class FtpServer:
    """A running pyftpdlib child process on a loopback port."""

    def __init__(self, root, *, tls: str = "none", cert: str | None = None, throttle: int = 0,
                 idle_timeout: float = 300, anonymous: bool = False, port: int | None = None):
        from tests.support.peers import free_port
        self.root = Path(root)
        self.port = port or free_port()
        self.args = [sys.executable, "-m", "tests.support.ftpd", "--root", str(root),
                     "--port", str(self.port), "--tls", tls, "--idle-timeout", str(idle_timeout)]
        if cert:
            self.args += ["--cert", cert]
        if throttle:
            self.args += ["--throttle", str(throttle)]
        if anonymous:
            self.args.append("--anonymous")
        self.proc: subprocess.Popen | None = None

    def start(self) -> "FtpServer":
        from tests.support.peers import wait_for_port
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        self.output = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(self.args, cwd=ROOT, env=env, stdout=self.output,
                                     stderr=subprocess.STDOUT)
        wait_for_port(self.port, proc=self.proc)
        return self

    def stop(self) -> None:
        from tests.support.peers import stop_process
        if self.proc is not None:
            stop_process(self.proc)
            self.output.close()

    def kill(self) -> None:
        """Kill the server at once, mid-transfer (SIGKILL)."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(5)
            self.output.close()


if __name__ == "__main__":
    _serve()
