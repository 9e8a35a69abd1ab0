"""Reading pipelined IMAP responses in bulk, for listing large folders fast.

imaplib reads one line at a time and returns a command's responses only once it
has completed, which costs about 10 µs of Python per message and keeps the client
idle while the server works. ``ResponseReader`` instead splits big chunks of
server data into whole responses (a line and the literals it announces), so a
caller can parse message N while the server is still producing message N+1.
"""

from __future__ import annotations

import re
from typing import Iterator

from netgui.net.errors import ProtocolError

MAX_LINE = 1 << 20          # a response line longer than this is not IMAP
MAX_LITERAL = 64 << 20      # nor is a header literal larger than this

_LITERAL = re.compile(rb"\{(\d+)\+?\}$")


class ResponseReader:
    """Split server data into responses: ``(text, literals)`` where ``text`` is the response's
    lines joined (each literal left as its ``{n}`` marker) and ``literals`` their bytes."""

    def __init__(self, where: str = "the server"):
        self.where = where
        self._buf = bytearray()
        self._pos = 0

    def feed(self, data: bytes) -> None:
        if self._pos:
            del self._buf[:self._pos]
            self._pos = 0
        self._buf += data

    @property
    def pending(self) -> int:
        """Bytes received but not yet part of a whole response."""
        return len(self._buf) - self._pos

    def responses(self, quick: re.Pattern | None = None) -> Iterator[tuple]:
        """Every whole response fed so far; a partial one waits for more data.

        Yields ``(text, literals)``. With ``quick``, a pattern for one line whose last group
        is the size ``n`` of the literal that ends it (followed by ``)``), such responses
        are yielded as ``(groups, literal)`` instead (a tuple, not bytes): the common FETCH
        shape, read in one regex call.
        """
        buf = self._buf
        while True:
            pos = self._pos
            if quick is not None:
                match = quick.match(buf, pos)
                if match is not None:
                    start = match.end()
                    groups = match.groups()
                    end = start + int(groups[-1])
                    if buf.startswith(b")\r\n", end):
                        self._pos = end + 3
                        yield groups, bytes(buf[start:end])
                        continue
            parts: list[bytes] = []
            literals: list[bytes] = []
            while True:
                eol = buf.find(b"\r\n", pos)
                if eol < 0:
                    if len(buf) - pos > MAX_LINE:
                        raise ProtocolError(f"{self.where} sent a line longer than "
                                            f"{MAX_LINE} bytes")
                    return  # not complete yet: this response is read again next time
                line = bytes(buf[pos:eol])
                marker = _LITERAL.search(line) if line.endswith(b"}") else None
                if marker is None:
                    parts.append(line)
                    pos = eol + 2
                    break
                size = int(marker.group(1))
                if size > MAX_LITERAL:
                    raise ProtocolError(f"{self.where} announced a {size}-byte literal")
                if eol + 2 + size > len(buf):
                    return
                parts.append(line)
                literals.append(bytes(buf[eol + 2:eol + 2 + size]))
                pos = eol + 2 + size
            self._pos = pos
            yield (parts[0] if len(parts) == 1 else b"".join(parts)), literals
