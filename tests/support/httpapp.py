"""A real HTTP test server (http.server in threads) with plain and TLS listeners.

Routes cover what the Web tab must handle: every method echoed back, forms and multipart,
cookies, redirects and loops, gzip/deflate, chunked bodies, images, JSON, HTML, truncated
and stalling bodies, oversized headers, basic auth. TLS certificates come from trustme.
"""

from __future__ import annotations

import base64
import datetime
import gzip
import io
import json
import socket
import ssl
import threading
import time
import zlib
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import pytest
import trustme

HTML = b"""<!doctype html><html><head><title>Test page</title>
<style>p { color: red }</style><script>var hidden = 1;</script></head>
<body><h1>Welcome</h1><p>First paragraph with a <a href="/json">JSON link</a>.</p>
<ul><li><a href="http://example.invalid/abs">Absolute</a></li><li><a href="page2.html">Relative</a></li></ul>
</body></html>"""

JSON_DOC = {"name": "netgui", "version": 1, "tags": ["web", "http"],
            "nested": {"ok": True, "none": None, "list": [1, 2, {"deep": "yes"}]}}


def make_png(size=(64, 48), color=(200, 30, 30)) -> bytes:
    from PIL import Image
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


def pattern(size: int) -> bytes:
    """Deterministic bytes of any size (for checking saved files)."""
    block = bytes(range(256)) * 4096  # 1 MiB
    reps, rest = divmod(size, len(block))
    return block * reps + block[:rest]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "netgui-test/1"

    def log_message(self, *args):  # keep test output quiet
        pass

    # every method goes through one dispatcher
    def do_GET(self):
        self.dispatch()

    do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_GET

    def do_CONNECT(self):
        """Be a tunnelling proxy (for HTTPS through a proxy): relay bytes both ways."""
        host, _, port = self.path.rpartition(":")
        self.server.seen.append(("CONNECT", self.path, self.client_address[1]))
        if self.headers.get("Proxy-Authorization") is None and self.server.app.proxy_auth_required:
            self.send(407, b"", headers=[("Proxy-Authenticate", 'Basic realm="p"')])
            return
        try:
            upstream = socket.create_connection((host, int(port)), timeout=5)
        except OSError:
            self.send(502, b"")
            return
        self.send_response(200, "Connection established")
        self.end_headers()
        self.wfile.flush()
        client = self.connection

        def pipe(src, dst):
            try:
                while True:
                    data = src.recv(65536)
                    if not data:
                        break
                    dst.sendall(data)
            except OSError:
                pass
            finally:
                for s in (src, dst):
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

        other = threading.Thread(target=pipe, args=(upstream, client), daemon=True)
        other.start()
        pipe(client, upstream)
        other.join(5)
        upstream.close()
        self.close_connection = True

    def read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def send(self, status=200, body=b"", ctype="text/plain; charset=utf-8", headers=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_json(self, data, status=200, headers=()):
        self.send(status, json.dumps(data).encode(), "application/json", headers)

    def dispatch(self):
        parts = urlsplit(self.path)
        path, query = parts.path, dict(parse_qsl(parts.query, keep_blank_values=True))
        self.server.seen.append((self.command, self.path, self.client_address[1]))
        body = self.read_body()
        route = getattr(self, "r_" + path.strip("/").split("/")[0].replace("-", "_").replace(".", "_"),
                        None)
        if route is None:
            self.send(404, b"no such page\n")
            return
        route(path, query, body)

    # -- routes -------------------------------------------------------------------------
    def r_echo(self, path, query, body):
        data = {"method": self.command, "path": self.path, "query": query,
                "headers": dict(self.headers.items()), "body": body.decode("utf-8", "replace"),
                "client_port": self.client_address[1]}
        ctype = self.headers.get("Content-Type", "")
        if ctype.startswith("application/x-www-form-urlencoded"):
            data["form"] = dict(parse_qsl(body.decode(), keep_blank_values=True))
        if ctype.startswith("multipart/form-data"):
            msg = BytesParser(policy=HTTP).parsebytes(
                b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + body)
            fields, files = {}, {}
            for part in msg.iter_parts():
                name = part.get_param("name", header="content-disposition")
                filename = part.get_filename()
                payload = part.get_payload(decode=True)
                if filename:
                    files[name] = {"filename": filename, "size": len(payload),
                                   "sha": __import__("hashlib").sha256(payload).hexdigest(),
                                   "type": part.get_content_type()}
                else:
                    fields[name] = payload.decode()
            data["fields"], data["files"] = fields, files
        self.send_json(data)

    def r_set_cookie(self, path, query, body):
        headers = [("Set-Cookie", f"{k}={v}; Path=/") for k, v in query.items()]
        self.send(200, b"cookies set\n", headers=headers)

    def r_login(self, path, query, body):
        self.send(200, b"logged in\n", headers=[("Set-Cookie", "sid=abc123xyz; Path=/; HttpOnly")])

    def r_cookies(self, path, query, body):
        self.send_json({"cookie": self.headers.get("Cookie", "")})

    def r_redirect(self, path, query, body):
        n = int(path.rstrip("/").split("/")[-1])
        if n <= 0:
            self.send(200, b"arrived\n")
        else:
            code = int(query.get("code", 302))
            self.send(code, b"moving\n", headers=[("Location", f"/redirect/{n - 1}?code={code}")])

    def r_see_other(self, path, query, body):
        self.send(303, b"", headers=[("Location", "/echo")])

    def r_loop(self, path, query, body):
        self.send(302, b"", headers=[("Location", "/loop")])

    def r_to_tls(self, path, query, body):
        self.send(301, b"", headers=[("Location", self.server.app.tls_url("/echo"))])

    def r_gzip(self, path, query, body):
        data = b"gzip body " * 1000
        self.send(200, gzip.compress(data), headers=[("Content-Encoding", "gzip")])

    def r_deflate(self, path, query, body):
        data = b"deflate body " * 1000
        packed = zlib.compress(data)
        if query.get("raw"):
            packed = packed[2:-4]
        self.send(200, packed, headers=[("Content-Encoding", "deflate")])

    def r_chunked(self, path, query, body):
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for i in range(5):
            piece = f"chunk {i}\n".encode()
            self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            self.wfile.flush()
            time.sleep(0.01)
        if query.get("cut"):
            self.wfile.write(b"20\r\nonly part of a chunk")
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(b"0\r\n\r\n")

    def r_image_png(self, path, query, body):
        self.send(200, make_png(), "image/png")

    def r_image_gif(self, path, query, body):
        from PIL import Image
        out = io.BytesIO()
        Image.new("P", (20, 10), 3).save(out, "GIF")
        self.send(200, out.getvalue(), "image/gif")

    def r_json(self, path, query, body):
        self.send_json(JSON_DOC)

    def r_html(self, path, query, body):
        self.send(200, HTML, "text/html")  # no charset: sniffed

    def r_latin1(self, path, query, body):
        self.send(200, "café crème\n".encode("latin-1"), "text/plain; charset=iso-8859-1")

    def r_binary(self, path, query, body):
        self.send(200, bytes(range(256)), "application/octet-stream")

    def r_big(self, path, query, body):
        size = int(query.get("size", 1024))
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(size))
        self.end_headers()
        if self.command == "HEAD":
            return
        data = pattern(size)
        view = memoryview(data)
        for i in range(0, size, 1 << 20):
            self.wfile.write(view[i:i + (1 << 20)])

    def r_truncated(self, path, query, body):
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", "1000")
        self.end_headers()
        self.wfile.write(b"x" * 500)
        self.wfile.flush()
        self.close_connection = True
        self.connection.shutdown(socket.SHUT_RDWR)

    def r_stall(self, path, query, body):
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", "1000")
        self.end_headers()
        self.wfile.write(b"y" * 100)
        self.wfile.flush()
        time.sleep(float(query.get("for", 3)))
        self.close_connection = True

    def r_slow_head(self, path, query, body):
        time.sleep(float(query.get("for", 3)))
        self.send(200, b"late\n")

    def r_bigheaders(self, path, query, body):
        self.send_response(200)
        self.send_header("X-Huge", "a" * 70000)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def r_manyheaders(self, path, query, body):
        self.send_response(200)
        for i in range(150):
            self.send_header(f"X-H{i}", str(i))
        self.send_header("Content-Length", "0")
        self.end_headers()

    def r_auth(self, path, query, body):
        expected = "Basic " + base64.b64encode(b"alice:s3cret-pw").decode()
        if self.headers.get("Authorization") != expected:
            self.send(401, b"who are you?\n", headers=[("WWW-Authenticate", 'Basic realm="t"')])
        else:
            self.send(200, b"welcome alice\n")

    def r_close(self, path, query, body):
        self.send(200, b"bye\n", headers=[("Connection", "close")])
        self.close_connection = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, app, tls: ssl.SSLContext | None):
        self.app = app
        self.tls = tls
        self.seen: list = []
        super().__init__(("127.0.0.1", 0), Handler)

    def finish_request(self, request, client_address):
        # The TLS handshake runs in the connection's thread, so a client that rejects the
        # certificate cannot stall the accept loop.
        if self.tls is not None:
            try:
                request.settimeout(10)
                request = self.tls.wrap_socket(request, server_side=True)
                request.settimeout(None)
            except (ssl.SSLError, OSError):
                return
        super().finish_request(request, client_address)

    def handle_error(self, request, client_address):
        pass  # clients hanging up mid-response are part of the tests


class HttpTestApp:
    """The test app on a plain port, a trusted TLS port, and three bad TLS ports."""

    def __init__(self, tmp_dir):
        self.proxy_auth_required = False
        self.ca = trustme.CA()
        self.ca_file = str(tmp_dir / "test-ca.pem")
        self.ca.cert_pem.write_to_path(self.ca_file)
        good = self.ca.issue_cert("localhost", "127.0.0.1")
        wrong = self.ca.issue_cert("other.example")
        now = datetime.datetime.now(datetime.timezone.utc)
        expired = self.ca.issue_cert("localhost", "127.0.0.1", not_before=now - datetime.timedelta(days=30),
                                     not_after=now - datetime.timedelta(days=1))
        stranger = trustme.CA().issue_cert("localhost", "127.0.0.1")
        self.servers = {"plain": _Server(self, None)}
        for name, cert in (("tls", good), ("wrong_host", wrong), ("expired", expired),
                           ("untrusted", stranger)):
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            cert.configure_cert(ctx)
            self.servers[name] = _Server(self, ctx)
        self.threads = [threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.05},
                                         daemon=True) for s in self.servers.values()]
        for t in self.threads:
            t.start()

    def port(self, name="plain") -> int:
        return self.servers[name].server_address[1]

    def url(self, path="/", name="plain") -> str:
        return f"http://127.0.0.1:{self.port(name)}{path}"

    def tls_url(self, path="/", name="tls", host="localhost") -> str:
        return f"https://{host}:{self.port(name)}{path}"

    @property
    def seen(self):
        return self.servers["plain"].seen

    def close(self):
        for s in self.servers.values():
            s.shutdown()
            s.server_close()


@pytest.fixture(scope="module")
def http_app(tmp_path_factory):
    """The running test app (import this fixture into a test module to use it)."""
    app = HttpTestApp(tmp_path_factory.mktemp("httpapp"))
    yield app
    app.close()
