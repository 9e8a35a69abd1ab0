"""Opening the socket an HTTP connection runs on: resolve, connect, proxy tunnel, TLS + ALPN.

Each phase is timed into a ``Timing``; every blocking call honours the timeout and the
cancel token. The result says which protocol ALPN picked, so the session can put an
HTTP/1.1 or an HTTP/2 connection on top of the same socket.
"""

from __future__ import annotations

import socket
import ssl
import time
from dataclasses import dataclass

from netgui.net.cancel import CancelToken
from netgui.net.connection import Log, connect_first, resolve
from netgui.net.errors import ProtocolError

ALPN = {"auto": ["h2", "http/1.1"], "1.1": ["http/1.1"], "2": ["h2"]}


@dataclass
class Timing:
    """Seconds spent in each phase of the final request (0 for phases a reused connection skips)."""

    resolve: float = 0.0
    connect: float = 0.0
    tls: float = 0.0
    first_byte: float = 0.0
    total: float = 0.0
    reused: bool = False


@dataclass
class TLSInfo:
    version: str
    cipher: str
    subject: str
    issuer: str
    not_before: str
    not_after: str
    verified: bool
    names: tuple[str, ...] = ()
    """The certificate's subjectAltName entries (the host names it is valid for)."""
    alpn: str | None = None
    """The protocol ALPN settled on (``h2``, ``http/1.1``) or None if the server chose none."""


@dataclass
class Dialled:
    sock: socket.socket
    remote: str
    timing: Timing
    tls: TLSInfo | None
    alpn: str | None


def address(addr) -> str:
    host, port = addr[0], addr[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def dial(host: str, port: int, *, timeout: float, token: CancelToken, log: Log,
         tls: ssl.SSLContext | None = None, server_hostname: str = "",
         tunnel: tuple[str, int, list[tuple[str, str]]] | None = None,
         alpn: str = "auto") -> Dialled:
    """Connect to host:port (a proxy when ``tunnel`` names the real target), then TLS.

    Raises OSError / ssl errors as they come (the session translates them, knowing the
    phase), ProtocolError when a proxy refuses the tunnel.
    """
    timing = Timing()
    log("*", f"Resolving {host}")
    started = time.monotonic()
    infos = resolve(host, port, token)
    resolved = time.monotonic()
    timing.resolve = resolved - started
    sock, addr = connect_first(infos, timeout, token, log)
    timing.connect = time.monotonic() - resolved
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        remote = address(addr)
        log("*", f"Connected to {remote}")
        if tunnel is not None:
            with token.watch(sock):
                _connect_tunnel(sock, *tunnel, log=log)
            log("*", f"Proxy tunnel open to {tunnel[0]}:{tunnel[1]}")
        info = None
        chosen = None
        if tls is not None:
            tls_started = time.monotonic()
            with token.watch(sock):
                sock = tls.wrap_socket(sock, server_hostname=server_hostname or host)
            timing.tls = time.monotonic() - tls_started
            chosen = sock.selected_alpn_protocol()
            info = tls_info(sock, tls.verify_mode != ssl.CERT_NONE)
            info.alpn = chosen
            log("*", f"TLS {info.version} with {info.cipher}; certificate for {info.subject}, "
                     f"issued by {info.issuer}, expires {info.not_after}"
                     + ("" if info.verified else " (NOT VERIFIED)"))
            log("*", f"ALPN: the server chose {chosen}" if chosen
                else "ALPN: the server chose no protocol (HTTP/1.1 then)")
        return Dialled(sock, remote, timing, info, chosen)
    except BaseException:
        sock.close()
        raise


def _connect_tunnel(sock: socket.socket, host: str, port: int, headers, log: Log) -> None:
    target = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    lines = [f"CONNECT {target} HTTP/1.1", f"Host: {target}"]
    lines += [f"{name}: {value}" for name, value in headers]
    log(">", f"CONNECT {target} HTTP/1.1")
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
    head = bytearray()
    while b"\r\n\r\n" not in head and b"\n\n" not in head:
        data = sock.recv(65536)
        if not data:
            raise ProtocolError(f"The proxy closed the connection instead of opening a tunnel "
                                f"to {target}")
        head += data
        if len(head) > 65536:
            raise ProtocolError("The proxy sent an oversized answer to CONNECT")
    status_line = bytes(head).split(b"\n", 1)[0].decode("latin-1").strip()
    log("<", status_line)
    parts = status_line.split(None, 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        raise ProtocolError(f"The proxy did not answer CONNECT with HTTP: {status_line[:80]!r}")
    if not 200 <= int(parts[1]) < 300:
        raise ProtocolError(f"The proxy refused to connect to {target}: "
                            f"{' '.join(parts[1:])}")


_NAME_KEYS = {"commonName": "CN", "organizationName": "O", "organizationalUnitName": "OU",
              "countryName": "C"}


def _x509_name(name) -> str:
    """``CN=…, O=…`` from the nested tuples ssl.getpeercert() gives."""
    parts = [f"{_NAME_KEYS[key]}={value}" for rdn in name or () for key, value in rdn
             if key in _NAME_KEYS]
    return ", ".join(parts) or "(none)"


def tls_info(sock: ssl.SSLSocket, verified: bool) -> TLSInfo:
    version = sock.version() or "?"
    cipher = (sock.cipher() or ("?",))[0]
    cert = sock.getpeercert() if verified else None
    if cert:
        names = tuple(value for _, value in cert.get("subjectAltName", ()))
        return TLSInfo(version, cipher, _x509_name(cert.get("subject")), _x509_name(cert.get("issuer")),
                       cert.get("notBefore", "?"), cert.get("notAfter", "?"), True, names)
    # Unverified sessions do not decode the certificate; cryptography (installed with keyring
    # on Linux) can, where it is present.
    subject = issuer = not_before = not_after = "(unknown)"
    names: tuple[str, ...] = ()
    try:
        from cryptography import x509
        der = sock.getpeercert(binary_form=True)
        parsed = x509.load_der_x509_certificate(der)
        subject, issuer = parsed.subject.rfc4514_string(), parsed.issuer.rfc4514_string()
        before = getattr(parsed, "not_valid_before_utc", None) or parsed.not_valid_before
        after = getattr(parsed, "not_valid_after_utc", None) or parsed.not_valid_after
        not_before = before.strftime("%b %d %H:%M:%S %Y GMT")
        not_after = after.strftime("%b %d %H:%M:%S %Y GMT")
        try:
            san = parsed.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
            names = tuple(str(getattr(n, "value", n)) for n in san)
        except x509.ExtensionNotFound:
            pass
    except Exception:
        pass
    return TLSInfo(version, cipher, subject or "(none)", issuer or "(none)", not_before, not_after,
                   verified, names)
