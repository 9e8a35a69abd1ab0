"""A hostile WebSocket server: the upgrade by hand, then raw frames that misbehave.

The request path picks the misbehaviour (after a correct 101 answer unless said otherwise):

- ``/echo``                   echoes text and binary messages (a well-behaved baseline)
- ``/fragments?n=N``          one text message ``"abc" * N`` in N fragments (continuation frames)
- ``/big?size=N``             one binary message of N bytes, in 64 KiB fragments
- ``/bad-close``              a close frame with the reserved code 999
- ``/bad-utf8``               a text message that is not UTF-8
- ``/masked``                 a masked frame (a server must never mask)
- ``/ping-flood?n=N``         N pings in a row, then a text message ``done``
- ``/no-close-reply``         echoes, but never answers a close frame (keeps the socket open)
- ``/drop``                   hangs up right after the upgrade, without a close frame
- ``/reject``                 answers the upgrade with ``500`` and a body instead of 101
- ``/silent-upgrade``         reads the upgrade request and never answers

``pongs`` counts the pongs received; ``closes`` the close frames received.
"""

from __future__ import annotations

import base64
import hashlib
import socket
import struct
import threading
from urllib.parse import parse_qsl, urlsplit

import pytest

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def frame(opcode: int, payload: bytes, fin: bool = True, masked: bool = False) -> bytes:
    head = bytes([(0x80 if fin else 0) | opcode])
    n = len(payload)
    mask_bit = 0x80 if masked else 0
    if n < 126:
        head += bytes([mask_bit | n])
    elif n < 65536:
        head += bytes([mask_bit | 126]) + struct.pack("!H", n)
    else:
        head += bytes([mask_bit | 127]) + struct.pack("!Q", n)
    if masked:
        key = b"\x01\x02\x03\x04"
        payload = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
        head += key
    return head + payload


class HostileWebSocket:
    def __init__(self):
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.pongs = 0
        self.closes = 0
        self._stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, path: str) -> str:
        return f"ws://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        self._stop.set()
        try:
            self.server.close()
        except OSError:
            pass

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                sock, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(sock,), daemon=True).start()

    def _serve(self, sock: socket.socket) -> None:
        try:
            sock.settimeout(20)
            head = b""
            while b"\r\n\r\n" not in head:
                data = sock.recv(4096)
                if not data:
                    return
                head += data
            lines = head.split(b"\r\n")
            target = lines[0].split()[1].decode()
            headers = {}
            for line in lines[1:]:
                name, _, value = line.decode("latin-1").partition(":")
                headers[name.strip().lower()] = value.strip()
            parts = urlsplit(target)
            query = dict(parse_qsl(parts.query))
            route = parts.path.strip("/").replace("-", "_")
            if route == "reject":
                body = b"no websockets here"
                sock.sendall(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: "
                             + str(len(body)).encode() + b"\r\n\r\n" + body)
                return
            if route == "silent_upgrade":
                self._stop.wait(20)
                return
            accept = base64.b64encode(hashlib.sha1(
                headers["sec-websocket-key"].encode() + GUID).digest())
            sock.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                         b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n")
            getattr(self, "r_" + route, self.r_echo)(sock, query)
        except OSError:
            pass
        finally:
            try:
                sock.close()
            except OSError:
                pass

    # -- reading the client's (masked) frames ------------------------------------------
    def _read_frame(self, sock: socket.socket, buf: bytearray):
        """(opcode, payload) of the next client frame, or None at EOF."""
        def need(n):
            while len(buf) < n:
                data = sock.recv(65536)
                if not data:
                    raise EOFError
                buf.extend(data)
        try:
            need(2)
            opcode, n = buf[0] & 0x0F, buf[1] & 0x7F
            pos = 2
            if n == 126:
                need(4)
                n, pos = struct.unpack("!H", buf[2:4])[0], 4
            elif n == 127:
                need(10)
                n, pos = struct.unpack("!Q", buf[2:10])[0], 10
            need(pos + 4 + n)
            key = buf[pos:pos + 4]
            payload = bytes(b ^ key[i % 4] for i, b in enumerate(buf[pos + 4:pos + 4 + n]))
            del buf[:pos + 4 + n]
            return opcode, payload
        except EOFError:
            return None

    def _loop(self, sock, answer_close: bool = True) -> None:
        buf = bytearray()
        while True:
            got = self._read_frame(sock, buf)
            if got is None:
                return
            opcode, payload = got
            if opcode == 0xA:
                self.pongs += 1
            elif opcode == 0x8:
                self.closes += 1
                if answer_close:
                    sock.sendall(frame(0x8, payload[:2]))
                    return
            elif opcode in (0x1, 0x2):
                sock.sendall(frame(opcode, payload))

    # -- routes -------------------------------------------------------------------------
    def r_echo(self, sock, query):
        self._loop(sock)

    def r_fragments(self, sock, query):
        n = int(query.get("n", 100))
        pieces = [frame(0x1 if i == 0 else 0x0, b"abc", fin=i == n - 1) for i in range(n)]
        sock.sendall(b"".join(pieces))
        self._loop(sock)

    def r_big(self, sock, query):
        size = int(query.get("size", 1 << 20))
        step = 65536
        for start in range(0, size, step):
            last = start + step >= size
            sock.sendall(frame(0x2 if start == 0 else 0x0, b"B" * min(step, size - start), fin=last))
        self._loop(sock)

    def r_bad_close(self, sock, query):
        sock.sendall(frame(0x8, struct.pack("!H", 999) + b"nope"))
        self._loop(sock)

    def r_bad_utf8(self, sock, query):
        sock.sendall(frame(0x1, b"\xff\xfe not utf-8"))
        self._loop(sock)

    def r_masked(self, sock, query):
        sock.sendall(frame(0x1, b"masked", masked=True))
        self._loop(sock)

    def r_ping_flood(self, sock, query):
        n = int(query.get("n", 1000))
        sock.sendall(b"".join(frame(0x9, str(i).encode()) for i in range(n)))
        sock.sendall(frame(0x1, b"done"))
        self._loop(sock)

    def r_no_close_reply(self, sock, query):
        self._loop(sock, answer_close=False)
        self._stop.wait(10)

    def r_drop(self, sock, query):
        sock.shutdown(socket.SHUT_RDWR)


@pytest.fixture
def hostile_ws():
    server = HostileWebSocket()
    yield server
    server.close()
