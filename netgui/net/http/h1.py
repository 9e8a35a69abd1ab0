"""HTTP/1.1 on netgui's own socket: one request at a time, keep-alive, no http.client.

The response head is parsed from one reusable buffer; the body is received with
``recv_into`` into that same buffer and handed out as memoryviews (valid until the next
read), so a download allocates nothing per chunk. Content-Length, chunked and
read-until-close bodies are supported; 1xx interim answers are skipped.
"""

from __future__ import annotations

import select
import socket

from netgui.net.errors import ConnectionLost, ProtocolError

from .dial import Dialled

BUF = 512 * 1024
MAX_LINE = 65536
MAX_HEADERS = 100


class IncompleteBody(Exception):
    """The connection ended before the body did."""


class NoAnswer(ConnectionResetError):
    """The server closed the connection without sending a status line."""


class H1Connection:
    """One HTTP/1.1 connection; ``exchange`` sends a request and returns its response."""

    version = "HTTP/1.1"
    multiplexed = False

    def __init__(self, dialled: Dialled, where: str):
        self.sock: socket.socket | None = dialled.sock
        self.remote = dialled.remote
        self.timing = dialled.timing
        self.tls_info = dialled.tls
        self.where = where
        self._buf = bytearray(BUF)
        self._view = memoryview(self._buf)
        self._pos = self._end = 0
        self.busy = False

    # -- lifecycle ----------------------------------------------------------------------
    def close(self) -> None:
        sock, self.sock = self.sock, None
        if sock is not None:
            try:
                sock.close()
            except OSError:
                pass

    def settimeout(self, timeout: float) -> None:
        if self.sock is not None:
            self.sock.settimeout(timeout)

    def idle_ok(self) -> bool:
        """False if the idle connection was closed by the server (or it sent something
        unasked): checked before reuse, so a stale connection costs nothing."""
        sock = self.sock
        if sock is None:
            return False
        if self._pos != self._end:
            return False
        try:
            readable, _, _ = select.select([sock], [], [], 0)
        except (OSError, ValueError):
            return False
        return not readable

    # -- sending ------------------------------------------------------------------------
    def send_head(self, head: bytes) -> None:
        self.sock.sendall(head)

    def send(self, data) -> None:
        self.sock.sendall(data)

    # -- receiving ----------------------------------------------------------------------
    def _recv_more(self) -> int:
        """Read more bytes after ``_end`` (compacting first); returns how many (0 = EOF)."""
        if self._pos:
            rest = self._end - self._pos
            self._buf[:rest] = self._view[self._pos:self._end]
            self._pos, self._end = 0, rest
        if self._end == BUF:
            raise ProtocolError(f"{self.where} sent oversized headers (a line over 64 KiB)")
        n = self.sock.recv_into(self._view[self._end:])
        self._end += n
        return n

    def readline(self) -> bytes:
        """One line including its ``\\n`` (b"" at EOF, a partial line if EOF comes first)."""
        searched = 0
        while True:
            i = self._buf.find(b"\n", self._pos + searched, self._end)
            if i >= 0:
                line = bytes(self._view[self._pos:i + 1])
                self._pos = i + 1
                if len(line) > MAX_LINE:
                    raise ProtocolError(f"{self.where} sent oversized headers (a line over 64 KiB)")
                return line
            searched = self._end - self._pos
            if searched > MAX_LINE:
                raise ProtocolError(f"{self.where} sent oversized headers (a line over 64 KiB)")
            if not self._recv_more():
                line = bytes(self._view[self._pos:self._end])
                self._pos = self._end
                return line

    def take(self, limit: int):
        """Up to ``limit`` body bytes as a memoryview (empty at EOF); valid until the next read."""
        pos, end = self._pos, self._end
        if pos < end:
            n = min(limit, end - pos)
            self._pos = pos + n
            return self._view[pos:pos + n]
        self._pos = self._end = 0
        n = self.sock.recv_into(self._view, min(limit, BUF))
        return self._view[:n]

    def _read_block(self) -> str:
        """The response head up to its empty line, decoded (latin-1), without that line.

        One search of the buffer per recv instead of one readline per header: the head of a
        keep-alive response usually arrives in one recv and is split once."""
        buf = self._buf
        searched = 0
        while True:
            start = self._pos + searched
            end = self._end
            i = buf.find(b"\r\n\r\n", start, end)
            k = buf.find(b"\n\n", start, end)
            if i >= 0 and (k < 0 or i < k):
                head = self._view[self._pos:i].tobytes()
                self._pos = i + 4
                return head.decode("latin-1")
            if k >= 0:
                head = self._view[self._pos:k].tobytes()
                self._pos = k + 2
                return head.decode("latin-1")
            last = buf.rfind(b"\n", self._pos, end)
            if end - (last + 1 if last >= 0 else self._pos) > MAX_LINE:
                raise ProtocolError(f"{self.where} sent oversized headers (a line over 64 KiB)")
            searched = max(0, end - self._pos - 3)
            if not self._recv_more():
                if self._end == self._pos:
                    raise NoAnswer(f"{self.where} closed the connection without answering")
                if searched < 5 and not bytes(self._view[self._pos:self._end]).startswith(b"HTTP/"):
                    raise ProtocolError(f"{self.where} did not answer with HTTP")
                raise ConnectionLost(f"{self.where} closed the connection in the middle of "
                                     "the response head")

    def read_head(self, method: str) -> "H1Response":
        while True:
            lines = self._read_block().split("\n")
            text = lines[0].rstrip("\r")
            parts = text.split(None, 2)
            if len(parts) < 2 or not parts[0].startswith("HTTP/") or len(parts[1]) != 3 \
                    or not parts[1].isdigit():
                raise ProtocolError(f"{self.where} did not answer with HTTP",
                                    detail=f"status line {text[:100]!r}")
            version, status = parts[0], int(parts[1])
            reason = parts[2] if len(parts) > 2 else ""
            if len(lines) > MAX_HEADERS + 1:
                raise ProtocolError(f"{self.where} sent too many headers (got more than "
                                    f"{MAX_HEADERS} headers)")
            headers: list[tuple[str, str]] = []
            for line in lines[1:]:
                if len(line) > MAX_LINE:
                    raise ProtocolError(f"{self.where} sent oversized headers (a line over 64 KiB)")
                if line[:1] in (" ", "\t") and headers:  # obsolete line folding
                    name, value = headers[-1]
                    headers[-1] = (name, f"{value} {line.strip()}")
                    continue
                name, sep, value = line.partition(":")
                if not sep:
                    raise ProtocolError(f"{self.where} sent a malformed response: header line "
                                        f"{line[:60]!r}")
                headers.append((name.strip(), value.strip()))
            if 100 <= status < 200 and status != 101:
                continue  # 100 Continue, 103 Early Hints: the real answer follows
            return H1Response(self, method, version, status, reason, headers)


class H1Response:
    """The head of a response and a reader for its body."""

    def __init__(self, conn: H1Connection, method: str, version: str, status: int, reason: str,
                 headers: list[tuple[str, str]]):
        self.conn = conn
        self.version = version if version in ("HTTP/1.0", "HTTP/1.1") else "HTTP/1.1"
        self.status, self.reason, self.headers = status, reason, headers
        self.complete = False
        self.frames = ""
        self.trailers: list[tuple[str, str]] = []  # (chunked trailers are read and dropped)
        connection, encoding, lengths = "", "", set()
        self.fields: dict[str, str] = {}
        """Lower-case header name to its first value."""
        for name, value in headers:
            lowered = name.lower()
            self.fields.setdefault(lowered, value)
            if lowered == "content-length":
                lengths.add(value)
            elif lowered == "connection":
                connection += "," + value.lower()
            elif lowered == "transfer-encoding":
                encoding += "," + value.lower()
        tokens = {t.strip() for t in connection.split(",")} if connection else ()
        self.will_close = "close" in tokens or (version == "HTTP/1.0" and "keep-alive" not in tokens)
        encoding = encoding.strip(",")
        self.length: int | None = None
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            self.mode = "none"
        elif encoding and encoding.rsplit(",", 1)[-1].strip() == "chunked":
            self.mode = "chunked"
            self._chunk_left = 0
            self._chunk_state = "size"
        elif lengths:
            if len(lengths) > 1 or not next(iter(lengths)).isdigit():
                raise ProtocolError(f"{conn.where} sent a malformed response: Content-Length "
                                    f"{', '.join(sorted(lengths))}")
            self.length = int(next(iter(lengths)))
            self.mode = "length"
            self._left = self.length
        else:
            self.mode = "close"
            self.will_close = True
        if self.mode == "none" or (self.mode == "length" and self.length == 0):
            self.mode = "none"
            self.complete = True

    def read(self):
        """The next piece of the body (a memoryview, valid until the next call); empty at
        the end. Raises IncompleteBody when the connection ends first."""
        mode = self.mode
        if mode == "length":
            if not self._left:
                return b""
            view = self.conn.take(self._left)
            if not view:
                raise IncompleteBody()
            self._left -= len(view)
            if not self._left:
                self.complete = True
            return view
        if mode == "close":
            view = self.conn.take(BUF)
            if not view:
                self.complete = True
            return view
        if mode == "chunked":
            return self._read_chunked()
        return b""

    def _read_chunked(self):
        conn = self.conn
        while True:
            state = self._chunk_state
            if state == "data":
                view = conn.take(self._chunk_left)
                if not view:
                    raise IncompleteBody()
                self._chunk_left -= len(view)
                if not self._chunk_left:
                    self._chunk_state = "crlf"
                return view
            if state == "done":
                return b""
            line = conn.readline()
            if not line.endswith(b"\n"):
                raise IncompleteBody()
            if state == "crlf":
                if line.strip():
                    raise ProtocolError(f"{conn.where} sent a malformed chunked body")
                self._chunk_state = "size"
                continue
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise ProtocolError(f"{conn.where} sent a malformed chunked body",
                                    detail=f"chunk size line {line[:40]!r}") from None
            if size:
                self._chunk_left, self._chunk_state = size, "data"
                continue
            while True:  # trailers, then the empty line
                trailer = conn.readline()
                if not trailer.endswith(b"\n"):
                    raise IncompleteBody()
                if trailer in (b"\r\n", b"\n"):
                    break
            self._chunk_state = "done"
            self.complete = True
            return b""

    @property
    def reusable(self) -> bool:
        return self.complete and not self.will_close and self.conn.sock is not None
