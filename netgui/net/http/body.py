"""Receiving a response body: streaming gzip/deflate decoding and where the bytes go.

A body is never held whole in memory: ``BodySink`` keeps only the first ``head_limit``
bytes for the views and streams everything to ``<name>.part`` when saving, renaming it
to ``<name>`` only once the body is known to be complete.
"""

from __future__ import annotations

import os
import zlib
from pathlib import Path
from typing import Iterator

from netgui.net.errors import ProtocolError

HEAD_LIMIT = 4 * 1024 * 1024
PIECE = 1024 * 1024


class Decoder:
    """Undo a Content-Encoding chunk by chunk (gzip, x-gzip, deflate; identity passes through)."""

    def __init__(self, encoding: str | None):
        self.encoding = (encoding or "identity").strip().lower()
        if self.encoding in ("gzip", "x-gzip"):
            self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif self.encoding == "deflate":
            self._z = None  # zlib-wrapped or raw deflate: decided on the first bytes
        elif self.encoding in ("identity", ""):
            self._z = False
        else:
            raise ProtocolError(f"The server used an encoding netgui cannot decode: {encoding}")
        self._pending = b""

    @property
    def active(self) -> bool:
        return self._z is not False

    def feed_pieces(self, data) -> Iterator[bytes]:
        """Decoded bytes for ``data``, in pieces of at most PIECE bytes (a small gzip bomb
        cannot blow up memory)."""
        if self._z is False:
            yield data
            return
        try:
            if self._z is None:
                # RFC 9110 says zlib-wrapped, but many servers send raw deflate.
                self._pending += bytes(data)
                if len(self._pending) < 2:
                    return
                first, second = self._pending[0], self._pending[1]
                wrapped = (first & 0x0F) == 8 and ((first << 8) | second) % 31 == 0
                self._z = zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)
                data, self._pending = self._pending, b""
            z = self._z
            if z.eof:
                return
            out = z.decompress(data, PIECE)
            while True:
                if out:
                    yield out
                if not z.unconsumed_tail or z.eof:
                    break
                out = z.decompress(z.unconsumed_tail, PIECE)
        except zlib.error as exc:
            raise ProtocolError(f"The {self.encoding} body is corrupt: {exc}") from exc

    def finish_pieces(self) -> Iterator[bytes]:
        """Whatever is left once the raw body has ended."""
        if self._z is False:
            return
        if self._z is None:
            if not self._pending:
                return
            self._z = zlib.decompressobj(-zlib.MAX_WBITS)
            data, self._pending = self._pending, b""
            yield from self.feed_pieces(data)
        try:
            out = self._z.flush()
        except zlib.error as exc:
            raise ProtocolError(f"The {self.encoding} body is corrupt: {exc}") from exc
        if out:
            yield out

    def decode_all(self, data: bytes) -> bytes:
        """Decode a whole body at once (small bodies, tests)."""
        return b"".join(list(self.feed_pieces(data)) + list(self.finish_pieces()))

    @property
    def complete(self) -> bool:
        """False if a compressed stream stopped before its end marker."""
        if self._z in (False, None):
            return True
        return self._z.eof


class BodySink:
    """Where decoded body bytes go: the first ``head_limit`` bytes in memory, all to a file."""

    def __init__(self, save_to: str | os.PathLike | None = None, head_limit: int = HEAD_LIMIT):
        self.head_limit = head_limit
        self._head = bytearray()
        self.size = 0
        self.path = Path(save_to) if save_to else None
        self.part_path = self.path.with_name(self.path.name + ".part") if self.path else None
        self._file = None
        if self.part_path is not None:
            try:
                self._file = open(self.part_path, "wb")
            except OSError as exc:
                from netgui.net.errors import NetError
                raise NetError(f"Cannot write {self.part_path}: {exc.strerror or exc}") from exc

    def write(self, data) -> None:
        n = len(data)
        if not n:
            return
        room = self.head_limit - len(self._head)
        if room > 0:
            self._head += data[:room]
        self.size += n
        if self._file is not None:
            self._file.write(data)

    @property
    def head(self) -> bytes:
        return bytes(self._head)

    @property
    def whole_in_memory(self) -> bool:
        return self.size <= self.head_limit

    def commit(self) -> Path | None:
        """The body is complete: rename ``.part`` to its final name; returns that name."""
        if self._file is None:
            return None
        self._file.close()
        self._file = None
        os.replace(self.part_path, self.path)
        return self.path

    def abandon(self) -> Path | None:
        """The body is incomplete: keep the ``.part`` file as it is; returns its name."""
        if self._file is None:
            return None
        self._file.close()
        self._file = None
        return self.part_path


def save_bytes(data: bytes, path: str | os.PathLike) -> Path:
    """Write a body already in memory the same careful way: ``.part`` first, then rename."""
    sink = BodySink(path, head_limit=0)
    try:
        sink.write(data)
        return sink.commit()
    except BaseException:
        sink.abandon()
        raise
