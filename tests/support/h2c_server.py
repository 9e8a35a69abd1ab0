"""hypercorn serving ``tests/support/asgi_app.py``: cleartext HTTP/1.1 + h2c (prior knowledge)
and WebSocket on one port, TLS with ALPN h2 / http/1.1 (and wss) on another."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.nginx_h2 import write_tls_files
from tests.support.peers import free_port, stop_process, wait_for_port

ROOT = Path(__file__).resolve().parents[2]


class Hypercorn:
    def __init__(self, work: Path):
        self.ca_file = write_tls_files(work)
        self.plain_port = free_port()
        self.tls_port = free_port()
        while self.tls_port == self.plain_port:  # free_port() may hand out a port twice
            self.tls_port = free_port()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "hypercorn", "tests.support.asgi_app:app",
             "--insecure-bind", f"127.0.0.1:{self.plain_port}", "--bind", f"127.0.0.1:{self.tls_port}",
             "--certfile", str(work / "cert.pem"), "--keyfile", str(work / "key.pem"),
             "--log-level", "warning"],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        wait_for_port(self.plain_port, proc=self.proc)
        wait_for_port(self.tls_port, proc=self.proc)

    def url(self, path: str = "/", tls: bool = False, scheme: str = "http") -> str:
        if tls:
            return f"{scheme}s://localhost:{self.tls_port}{path}"
        return f"{scheme}://127.0.0.1:{self.plain_port}{path}"

    def close(self) -> None:
        stop_process(self.proc)


@pytest.fixture(scope="module")
def hypercorn_server(tmp_path_factory):
    server = Hypercorn(tmp_path_factory.mktemp("hypercorn"))
    yield server
    server.close()
