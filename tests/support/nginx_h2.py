"""nginx with HTTP/2 on loopback: TLS with ALPN h2 (trustme certificate), cleartext h2c
(prior knowledge), TLS without h2, and plain HTTP/1.1, all on ephemeral ports.

Serves a www folder: small files, an index page, a large sparse file (created instantly),
``/status/404`` and ``/status/204`` and ``/redirect`` (nginx ``return``), and ``/echo-headers`` which
answers with the request's method, protocol and a few headers in the body.
"""

from __future__ import annotations

import os
import subprocess
import textwrap
from pathlib import Path

import pytest
import trustme

from tests.support.peers import free_port, require_binary, stop_process, wait_for_port

LARGE_SIZE = 64 * 1024 * 1024


def write_tls_files(work: Path) -> str:
    """A throwaway CA and a certificate for localhost and 127.0.0.1: writes ca.pem, cert.pem
    (the chain) and key.pem into ``work``; returns the CA file's path."""
    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(work / "ca.pem"))
    cert = ca.issue_cert("localhost", "127.0.0.1")
    cert.private_key_pem.write_to_path(str(work / "key.pem"))
    (work / "cert.pem").write_bytes(b"".join(pem.bytes() for pem in cert.cert_chain_pems))
    return str(work / "ca.pem")


class NginxH2:
    """A running nginx. ``url(path, kind)`` with kind ``h2`` (TLS, ALPN h2 + http/1.1),
    ``tls11`` (TLS, HTTP/1.1 only), ``h2c`` (cleartext HTTP/2 prior knowledge) or ``plain``."""

    def __init__(self, work: Path, large_size: int = LARGE_SIZE, small_files: int = 100):
        self.work = work
        self.www = work / "www"
        self.www.mkdir(parents=True)
        self.ca_file = write_tls_files(work)
        (self.www / "index.html").write_text("<!doctype html><title>h2</title><p>hello h2</p>\n")
        (self.www / "small.txt").write_bytes(b"x" * 1024)
        files = self.www / "files"
        files.mkdir()
        for i in range(small_files):
            (files / f"{i}.txt").write_bytes(f"file {i}\n".encode() * (i + 1))
        self.large_size = large_size
        with open(self.www / "large.bin", "wb") as f:  # sparse: zeros, made instantly
            f.truncate(large_size)
        for p in (work, self.www, files):
            os.chmod(p, 0o755)
        ports: set[int] = set()
        while len(ports) < 4:  # free_port() may hand out the same port twice
            ports.add(free_port())
        self.ports = dict(zip(("h2", "tls11", "h2c", "plain"), sorted(ports)))
        p = self.ports
        conf = work / "nginx.conf"
        tls = f"ssl_certificate {work}/cert.pem; ssl_certificate_key {work}/key.pem;"
        # pytest's temp folders are private to their owner: as root, the worker must be root
        # too to read them (the "user" line is ignored when not run as root).
        user = "user root root;" if os.geteuid() == 0 else ""
        conf.write_text(textwrap.dedent(f"""
            {user}
            worker_processes 1;
            pid {work}/nginx.pid;
            error_log {work}/error.log;
            events {{ worker_connections 256; }}
            http {{
                access_log off;
                client_body_temp_path {work}/body;
                proxy_temp_path {work}/proxy;
                fastcgi_temp_path {work}/fastcgi;
                uwsgi_temp_path {work}/uwsgi;
                scgi_temp_path {work}/scgi;
                sendfile on;
                keepalive_requests 100000;
                default_type application/octet-stream;
                server {{
                    listen 127.0.0.1:{p["h2"]} ssl http2;
                    listen 127.0.0.1:{p["tls11"]} ssl;
                    listen 127.0.0.1:{p["h2c"]} http2;
                    listen 127.0.0.1:{p["plain"]};
                    {tls}
                    root {self.www};
                    location /echo-headers {{
                        default_type text/plain;
                        return 200 "$request_method $server_protocol ua=$http_user_agent cookie=$http_cookie\\n";
                    }}
                    location = /status/404 {{ return 404; }}
                    location = /status/204 {{ return 204; }}
                    location /redirect {{ return 302 /small.txt; }}
                }}
            }}
        """))
        nginx = require_binary("nginx")
        self.proc = subprocess.Popen([nginx, "-c", str(conf), "-p", str(work), "-g", "daemon off;"],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        for port in p.values():
            wait_for_port(port, proc=self.proc)

    def url(self, path: str = "/", kind: str = "h2") -> str:
        scheme = "https" if kind in ("h2", "tls11") else "http"
        host = "localhost" if scheme == "https" else "127.0.0.1"
        return f"{scheme}://{host}:{self.ports[kind]}{path}"

    def close(self) -> None:
        stop_process(self.proc)


@pytest.fixture(scope="module")
def nginx_h2(tmp_path_factory):
    server = NginxH2(tmp_path_factory.mktemp("nginx-h2"))
    yield server
    server.close()
