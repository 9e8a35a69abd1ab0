"""netgui's getfile server: serves the files under one folder, to original and netgui clients.

An original client sends ``path\\n`` and reads to EOF; it gets the file's bytes, or a closed
connection on any error, exactly as from an original server. A netgui client sends an
extended request (``\\0NETGUI/1 ...``, see ``netgui.net.getfile.client``) and gets a status line
first: sizes, clear errors, resume offsets, listings and STARTTLS.

One thread accepts; each client gets a thread with an idle timeout, so a stalled client
never blocks the others. Files go out with ``socket.sendfile`` (zero-copy where the OS
offers it).
"""

from __future__ import annotations

import json
import os
import socket
import ssl
import stat
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

from netgui.net.getfile.client import MAGIC, MAX_LINE, VERSION

DEFAULT_PORT = 50001
IDLE_TIMEOUT = 30.0
"""Seconds a client may stay silent (while we wait for its request or for it to read)."""
MAX_CLIENTS = 512
SEND_BLOCK = 8 << 20
"""Bytes per sendfile call, so stats stay live and stop() interrupts long sends."""


@dataclass(frozen=True)
class ServerStats:
    """A snapshot of the server's counters."""

    clients_connected: int = 0
    clients_total: int = 0
    requests: int = 0
    bytes_served: int = 0

    @property
    def clients(self) -> int:
        return self.clients_connected


class _Refused(Exception):
    """A request the server will not serve; ``code`` goes on the wire."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


class GetfileServer:
    """Serve the files under ``root`` on host:port (port 0 picks a free port).

    ``tls`` is a server-side SSLContext offered to netgui clients through STARTTLS;
    ``log(direction, text)`` receives one access-log line per request ('*') and errors ('!').
    Use ``start()``/``stop()`` or ``with GetfileServer(...) as server:``.
    """

    def __init__(self, root, host: str = "127.0.0.1", port: int = 0,
                 tls: ssl.SSLContext | None = None, log: Optional[Callable[[str, str], None]] = None,
                 *, idle_timeout: float = IDLE_TIMEOUT, max_clients: int = MAX_CLIENTS):
        self.root = Path(os.path.realpath(root))
        if not self.root.is_dir():
            raise ValueError(f"{root} is not a folder")
        self.host = host
        self.port = int(port)
        self.tls = tls
        self.log = log or (lambda direction, text: None)
        self.idle_timeout = idle_timeout
        self.max_clients = max_clients
        self._listener: socket.socket | None = None
        self._accept_thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._clients: dict[threading.Thread, socket.socket] = {}
        self._stopping = threading.Event()
        self._total = 0
        self._requests = 0
        self._bytes = 0

    # lifecycle ---------------------------------------------------------------------------

    def start(self) -> "GetfileServer":
        """Bind, listen and serve in background threads; returns once listening."""
        if self._listener is not None:
            return self
        self._stopping.clear()
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        listener = socket.create_server((self.host, self.port), family=family, backlog=128,
                                        reuse_port=False)
        listener.settimeout(0.5)  # the accept loop notices stop() even where close cannot wake it
        self._listener = listener
        self.port = listener.getsockname()[1]
        self._accept_thread = threading.Thread(target=self._accept_loop, name="getfile-accept",
                                               daemon=True)
        self._accept_thread.start()
        self.log("*", f"Serving {self.root} on {self.host}:{self.port}")
        return self

    def stop(self) -> None:
        """Close the listener and every client connection, and join the threads."""
        self._stopping.set()
        listener, self._listener = self._listener, None
        if listener is not None:
            _close(listener)
        if self._accept_thread is not None:
            self._accept_thread.join(5)
            self._accept_thread = None
        with self._lock:
            clients = list(self._clients.items())
        for _, conn in clients:
            _shutdown(conn)  # wakes the client's thread, which closes its own socket
        for thread, _ in clients:
            thread.join(5)
        if listener is not None:
            self.log("*", "Stopped")

    @property
    def running(self) -> bool:
        return self._listener is not None

    @property
    def address(self) -> tuple[str, int]:
        return (self.host, self.port)

    @property
    def stats(self) -> ServerStats:
        with self._lock:
            return ServerStats(len(self._clients), self._total, self._requests, self._bytes)

    def __enter__(self) -> "GetfileServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # connections -------------------------------------------------------------------------

    def _accept_loop(self) -> None:
        listener = self._listener
        while not self._stopping.is_set():
            try:
                conn, addr = listener.accept()
            except socket.timeout:
                continue
            except OSError:
                if self._stopping.is_set():
                    return
                time.sleep(0.05)  # e.g. out of file descriptors: do not spin
                continue
            with self._lock:
                if len(self._clients) >= self.max_clients:
                    full = True
                else:
                    full = False
                    self._total += 1
                    thread = threading.Thread(target=self._serve_client, args=(conn, addr),
                                              name=f"getfile-{addr[0]}:{addr[1]}", daemon=True)
                    self._clients[thread] = conn
            if full:
                self.log("!", f"{addr[0]}:{addr[1]} refused: too many clients")
                _close(conn)
                continue
            thread.start()

    def _serve_client(self, conn: socket.socket, addr) -> None:
        peer = f"{addr[0]}:{addr[1]}"
        me = threading.current_thread()
        try:
            conn.settimeout(self.idle_timeout)
            self._handle(conn, peer)
        except Exception as exc:  # a client's trouble never reaches the accept loop
            if not self._stopping.is_set():
                self.log("!", f"{peer} {type(exc).__name__}: {exc}")
        finally:
            with self._lock:
                conn = self._clients.pop(me, conn)
            _close(conn)

    def _set_conn(self, conn) -> None:
        with self._lock:
            self._clients[threading.current_thread()] = conn

    def _handle(self, conn, peer: str) -> None:
        line, too_long = _read_line(conn)
        with self._lock:
            self._requests += 1
        if line.startswith(MAGIC[:1]):
            self._handle_extended(conn, peer, line, too_long)
        else:
            self._handle_original(conn, peer, line, too_long)

    # the original protocol -----------------------------------------------------------------

    def _handle_original(self, conn, peer, line: bytes, too_long: bool) -> None:
        request = line.decode("utf-8", "surrogateescape").strip()
        shown = ascii(request)[1:-1]
        if too_long:
            self.log("*", f'{peer} "{shown[:80]}..." refused: request over {MAX_LINE} bytes')
            return
        if not request:
            self.log("*", f"{peer} empty request")
            return
        try:
            f, size, _ = self._open_file(request)
        except _Refused as refused:
            # an original client cannot be told why: it just sees the connection close
            self.log("*", f'{peer} "{shown}" {refused.code}: {refused.message}')
            return
        with f:
            sent = self._send(conn, f, 0, size)
        self.log("*", f'{peer} "{shown}" {sent} of {size} bytes')

    # the extension -------------------------------------------------------------------------

    def _handle_extended(self, conn, peer, line: bytes, too_long: bool, tls: bool = False) -> None:
        if too_long:
            return self._error(conn, peer, "?", "toolong", f"request over {MAX_LINE} bytes")
        text = line[1:].decode("utf-8", "replace").rstrip("\r")
        version, _, rest = text.partition(" ")
        verb, _, args = rest.partition(" ")
        if version != VERSION:
            return self._error(conn, peer, text, "version", f"this server speaks {VERSION}")
        if verb == "STARTTLS" and not tls:
            if self.tls is None:
                return self._error(conn, peer, text, "notls", "TLS is not configured")
            conn.sendall(f"{VERSION} OK STARTTLS\n".encode())
            conn = self.tls.wrap_socket(conn, server_side=True)
            self._set_conn(conn)
            line, too_long = _read_line(conn)
            if not line.startswith(MAGIC[:1]):
                return self._error(conn, peer, "?", "badrequest", "expected a request after STARTTLS")
            return self._handle_extended(conn, peer, line, too_long, tls=True)
        if verb == "GET":
            offset_text, _, path = args.partition(" ")
            try:
                offset = int(offset_text)
                if offset < 0:
                    raise ValueError
            except ValueError:
                return self._error(conn, peer, text, "badrequest", "bad offset")
            try:
                f, size, mtime = self._open_file(path)
            except _Refused as refused:
                return self._error(conn, peer, text, refused.code, refused.message)
            with f:
                if offset > size:
                    return self._error(conn, peer, text, "range", f"offset beyond size {size}")
                conn.sendall(f"{VERSION} OK {size} {offset} {mtime}\n".encode())
                sent = self._send(conn, f, offset, size - offset)
            where = " TLS" if tls else ""
            self.log("*", f'{peer}{where} "GET {offset} {ascii(path)[1:-1]}" {sent} of '
                          f'{size - offset} bytes')
            return
        if verb == "LIST":
            try:
                body = self._listing(args)
            except _Refused as refused:
                return self._error(conn, peer, text, refused.code, refused.message)
            conn.sendall(f"{VERSION} OK {len(body)}\n".encode() + body)
            self.log("*", f'{peer} "LIST {ascii(args)[1:-1]}" {len(body)} bytes')
            return
        return self._error(conn, peer, text, "badrequest", f"unknown request {verb!r}")

    def _error(self, conn, peer, text, code, message) -> None:
        message = " ".join(message.split())
        self.log("*", f'{peer} "{ascii(text)[1:-1][:200]}" {code}: {message}')
        try:
            conn.sendall(f"{VERSION} ERR {code} {message}\n".encode("utf-8", "replace"))
        except OSError:
            pass

    # files ---------------------------------------------------------------------------------

    def _resolve(self, request: str) -> Path:
        if "\x00" in request:
            raise _Refused("badrequest", "NUL in path")
        parts = request.replace("\\", "/").split("/")
        if ".." in parts:
            raise _Refused("outside", "'..' is not allowed")
        candidate = Path(request) if os.path.isabs(request) else self.root / request
        real = Path(os.path.realpath(candidate))
        if real != self.root and self.root not in real.parents:
            raise _Refused("outside", "outside the served folder")
        return real

    def _open_file(self, request: str):
        real = self._resolve(request)
        try:
            f = open(real, "rb")
        except FileNotFoundError:
            raise _Refused("notfound", "no such file") from None
        except IsADirectoryError:
            raise _Refused("isdir", "a folder") from None
        except PermissionError:
            raise _Refused("denied", "permission denied") from None
        except OSError as exc:
            raise _Refused("notfound", exc.strerror or "cannot open") from None
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            f.close()
            raise _Refused("isdir" if stat.S_ISDIR(info.st_mode) else "notfound", "not a file")
        return f, info.st_size, int(info.st_mtime)

    def _listing(self, request: str) -> bytes:
        real = self._resolve(request or ".")
        if not real.exists():
            raise _Refused("notfound", "no such folder")
        if not real.is_dir():
            raise _Refused("notdir", "not a folder")
        items = []
        try:
            with os.scandir(real) as it:
                for entry in it:
                    try:
                        entry.name.encode("utf-8")
                    except UnicodeEncodeError:
                        continue  # not valid UTF-8 on disk: a client could not ask for it
                    target = os.path.realpath(entry.path)
                    if target != str(self.root) and not target.startswith(str(self.root) + os.sep):
                        continue  # a symlink leading out of the root is not shown
                    try:
                        info = os.stat(target)
                    except OSError:
                        continue
                    is_dir = stat.S_ISDIR(info.st_mode)
                    if not is_dir and not stat.S_ISREG(info.st_mode):
                        continue
                    items.append({"name": entry.name, "type": "dir" if is_dir else "file",
                                  "size": None if is_dir else info.st_size,
                                  "mtime": int(info.st_mtime)})
        except PermissionError:
            raise _Refused("denied", "permission denied") from None
        items.sort(key=lambda i: (i["type"] != "dir", i["name"]))
        return json.dumps(items, ensure_ascii=False).encode("utf-8")

    def _send(self, conn, f, offset: int, count: int) -> int:
        """Send ``count`` bytes of ``f`` from ``offset``; return how many went out."""
        sent = 0
        use_sendfile = not isinstance(conn, ssl.SSLSocket)
        buf = None if use_sendfile else bytearray(256 * 1024)
        try:
            while sent < count and not self._stopping.is_set():
                block = min(SEND_BLOCK, count - sent)
                if use_sendfile:
                    n = conn.sendfile(f, offset + sent, block)
                else:
                    f.seek(offset + sent)
                    n = f.readinto(memoryview(buf)[:min(block, len(buf))])
                    if n:
                        conn.sendall(memoryview(buf)[:n])
                if not n:
                    break  # the file shrank while we sent it
                sent += n
                with self._lock:
                    self._bytes += n
        except (OSError, ValueError):
            pass  # the client went away or stalled past the timeout: counted by what was sent
        return sent


def server_tls_context(cert, key=None) -> ssl.SSLContext:
    """A server-side TLS context from a PEM certificate (chain) and key; ValueError if unusable."""
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        ctx.load_cert_chain(cert, key or None)
    except (OSError, ssl.SSLError) as exc:
        reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or exc
        raise ValueError(f"Cannot use the certificate {cert}: {reason}") from exc
    return ctx


def _read_line(conn) -> tuple[bytes, bool]:
    """Read one request line (up to MAX_LINE bytes); returns (line, too_long)."""
    data = b""
    while b"\n" not in data and len(data) <= MAX_LINE:
        chunk = conn.recv(MAX_LINE + 1 - len(data) if len(data) < MAX_LINE else 1)
        if not chunk:
            break
        data += chunk
    line, sep, _ = data.partition(b"\n")
    too_long = len(line) + len(sep) > MAX_LINE
    return line, too_long


def _shutdown(sock) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def _close(sock) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass


__all__ = ["GetfileServer", "ServerStats", "DEFAULT_PORT", "server_tls_context"]
