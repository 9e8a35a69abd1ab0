"""Peers for the connection doctor's tests: OpenSSH's sshd (a real SSH banner), a TLS server
that staples a real OCSP response (pyOpenSSL, signed by a trustme CA), and an HTTPS server
that publishes a mail autoconfig file."""

from __future__ import annotations

import datetime
import os
import socket
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import trustme

from tests.support.peers import free_port, require_binary, stop_process, wait_for_port


class Sshd:
    """OpenSSH's sshd in the foreground on 127.0.0.1:<free port> (no logins are made)."""

    def __init__(self, folder: Path):
        binary = require_binary("sshd")
        keygen = require_binary("ssh-keygen")
        folder.mkdir(parents=True, exist_ok=True)
        key = folder / "hostkey"
        if not key.exists():
            subprocess.run([keygen, "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
        self.port = free_port()
        config = folder / "sshd_config"
        config.write_text(f"Port {self.port}\nListenAddress 127.0.0.1\nHostKey {key}\n"
                          f"PidFile {folder / 'sshd.pid'}\nPasswordAuthentication no\n"
                          "KbdInteractiveAuthentication no\nStrictModes no\nUsePAM no\n")
        os.makedirs("/run/sshd", exist_ok=True)
        self.proc = subprocess.Popen([binary, "-D", "-e", "-f", str(config)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port, proc=self.proc)

    def stop(self) -> None:
        stop_process(self.proc)


def _ocsp_response(ca: trustme.CA, leaf_pem: bytes, revoked: bool) -> bytes:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509 import ocsp
    issuer = x509.load_pem_x509_certificate(ca.cert_pem.bytes())
    key = serialization.load_pem_private_key(ca.private_key_pem.bytes(), password=None)
    leaf = x509.load_pem_x509_certificate(leaf_pem)
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = ocsp.OCSPResponseBuilder().add_response(
        cert=leaf, issuer=issuer, algorithm=hashes.SHA1(),
        cert_status=ocsp.OCSPCertStatus.REVOKED if revoked else ocsp.OCSPCertStatus.GOOD,
        this_update=now - datetime.timedelta(hours=1), next_update=now + datetime.timedelta(days=3),
        revocation_time=now - datetime.timedelta(days=1) if revoked else None,
        revocation_reason=x509.ReasonFlags.key_compromise if revoked else None,
    ).responder_id(ocsp.OCSPResponderEncoding.HASH, issuer)
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


class StaplingImapsServer:
    """A TLS server (pyOpenSSL) that staples an OCSP response for its certificate ("good" or
    "revoked") and then greets like an IMAP server; ``staple=False`` staples nothing."""

    def __init__(self, ca: trustme.CA, status: str = "good", staple: bool = True):
        from cryptography import x509
        from cryptography.hazmat.primitives import serialization
        from OpenSSL import SSL
        cert = ca.issue_cert("localhost", "127.0.0.1")
        self.ocsp = _ocsp_response(ca, cert.cert_chain_pems[0].bytes(), status == "revoked")
        self.staple = staple
        context = SSL.Context(SSL.TLS_SERVER_METHOD)
        context.use_certificate(x509.load_pem_x509_certificate(cert.cert_chain_pems[0].bytes()))
        context.use_privatekey(serialization.load_pem_private_key(cert.private_key_pem.bytes(), None))
        if staple:
            context.set_ocsp_server_callback(lambda conn, data: self.ocsp)
        self.context = context
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self._stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self._stop:
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._client, args=(sock,), daemon=True).start()

    def _client(self, sock: socket.socket) -> None:
        from OpenSSL import SSL
        sock.settimeout(None)
        conn = SSL.Connection(self.context, sock)
        conn.set_accept_state()
        try:
            conn.do_handshake()
            conn.sendall(b"* OK [CAPABILITY IMAP4rev1] stapling test server ready\r\n")
            data = b""
            while True:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                data += chunk
                while b"\n" in data:
                    line, data = data.split(b"\n", 1)
                    tag = line.split(b" ", 1)[0]
                    if b"CAPABILITY" in line.upper():
                        conn.sendall(b"* CAPABILITY IMAP4rev1\r\n" + tag + b" OK done\r\n")
                    else:
                        conn.sendall(b"* BYE\r\n" + tag + b" OK bye\r\n")
                        return
        except (SSL.Error, OSError):
            pass
        finally:
            sock.close()

    def stop(self) -> None:
        self._stop = True
        self.listener.close()


AUTOCONFIG = """<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="{domain}">
    <domain>{domain}</domain>
    <incomingServer type="imap">
      <hostname>{host}</hostname><port>{imap_port}</port><socketType>SSL</socketType>
      <authentication>password-cleartext</authentication><username>%EMAILADDRESS%</username>
    </incomingServer>
    <outgoingServer type="smtp">
      <hostname>{host}</hostname><port>{smtp_port}</port><socketType>STARTTLS</socketType>
      <authentication>password-cleartext</authentication><username>%EMAILADDRESS%</username>
    </outgoingServer>
  </emailProvider>
</clientConfig>
"""


class AutoconfigServer:
    """HTTPS (trustme) serving ``/mail/config-v1.1.xml`` for one domain; 404 for the rest."""

    def __init__(self, ca: trustme.CA, domain: str, **servers):
        body = AUTOCONFIG.format(domain=domain, **servers).encode()
        self.requests: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                outer.requests.append(self.path)
                found = self.path.split("?")[0] == "/mail/config-v1.1.xml" and domain in self.path
                self.send_response(200 if found else 404)
                self.send_header("Content-Type", "text/xml" if found else "text/plain")
                payload = body if found else b"not here\n"
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("localhost", "127.0.0.1").configure_cert(context)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()

    @property
    def url_template(self) -> str:
        return f"https://localhost:{self.port}/mail/config-v1.1.xml?domain={{domain}}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class LinksPage:
    """A plain HTTP server with one page of links of every kind (web, mailto, ftp, irc) and
    a JSON document the web link points to."""

    def __init__(self, ftp_port: int = 21, irc_port: int = 6667):
        outer = self
        self.requests: list[str] = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                outer.requests.append(self.path)
                port = self.server.server_address[1]
                if self.path == "/links":
                    body = (f'<html><head><title>Links</title></head><body><p>'
                            f'<a href="http://127.0.0.1:{port}/doc">the document</a> · '
                            f'<a href="mailto:bob@example.org?subject=From%20the%20web">write to Bob</a> · '
                            f'<a href="ftp://127.0.0.1:{ftp_port}/">the files</a> · '
                            f'<a href="irc://127.0.0.1:{irc_port}/%23netgui">the channel</a>'
                            f'</p></body></html>').encode()
                    kind = "text/html; charset=utf-8"
                else:
                    body, kind = b'{"doc": true}\n', "application/json"
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()

    def url(self, path: str = "/links") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class ScriptedPeer:
    """A hostile or broken server for the doctor: to every connection it sends ``greeting``
    (bytes), answers each line it reads with ``reply`` (if any), and closes after ``close_after``
    seconds (None: keeps the connection open until the client goes)."""

    def __init__(self, greeting: bytes = b"", reply: bytes = b"", close_after: float | None = None):
        self.greeting, self.reply, self.close_after = greeting, reply, close_after
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.connections = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(sock,), daemon=True).start()

    def _serve(self, sock: socket.socket) -> None:
        sock.settimeout(self.close_after if self.close_after is not None else 30)
        try:
            if self.greeting:
                sock.sendall(self.greeting)
            while True:
                data = sock.recv(4096)
                if not data:
                    break
                if self.reply:
                    sock.sendall(self.reply * data.count(b"\n"))
        except OSError:
            pass
        finally:
            sock.close()

    def stop(self) -> None:
        self.listener.close()
