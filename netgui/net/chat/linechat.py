"""A client for the line-chat protocol (see docs/ARCHITECTURE.md), for both historical server variants.

* ``line``: every line sent is relayed at once to every client as ``<peer>: <line>``.
* ``send``: the server buffers lines until the text ``SEND`` and then relays them.

``variant="auto"`` finds out on the first ``send()``: if the line comes back within
``probe_seconds`` it is the line variant; otherwise the client sends ``SEND`` and waits again.
Lines that arrive meanwhile are kept for ``receive()`` / ``lines()``, so nothing is lost.
One object per connection; use it from one thread at a time.
"""

from __future__ import annotations

import queue
import select
import socket
import time
from typing import Callable, Iterator

from netgui.net.cancel import CancelToken
from netgui.net.connection import Log, describe_failure, no_log, open_connection
from netgui.net.errors import ConnectionLost, NetError, NetTimeout, ProtocolError
from netgui.net.text import decode_line

DEFAULT_PORT = 51423
GREETING = "Welcome to the chat server, "
VARIANTS = ("auto", "line", "send")
MAX_LINE = 65536
"""A line longer than this from the server is cut (protects memory against a broken peer)."""


class LineChatClient:
    """One connection to a line-chat server."""

    def __init__(self, host: str, port: int = DEFAULT_PORT, timeout: float = 15, token: CancelToken | None = None,
                 log: Log | None = None, variant: str = "auto", probe_seconds: float = 1.5) -> None:
        if variant not in VARIANTS:
            raise ValueError(f"variant must be one of {VARIANTS}")
        self.host, self.port = host, port
        self.timeout = timeout
        self.token = token or CancelToken()
        self.log = log or no_log
        self.variant = variant
        self.probe_seconds = probe_seconds
        self.peer: str | None = None
        """Our own name as the server sees it (from the greeting), if it told us."""
        self.greeting: str | None = None
        self.sock: socket.socket | None = None
        self._buf = bytearray()
        self._lines: list[str] = []
        self._eof = False
        self._rx_log: list[str] = []
        self._remove_hook: Callable[[], None] | None = None

    # -- connection --
    def connect(self) -> str:
        """Connect and return the server's greeting line."""
        self.sock = open_connection(self.host, self.port, timeout=self.timeout, token=self.token, log=self.log)
        self._remove_hook = self.token.add_hook(self._abort)
        try:
            greeting = self.receive(timeout=self.timeout)
        except ConnectionLost:
            self.close()
            raise ProtocolError(f"{self.host}:{self.port} closed the connection without a greeting") from None
        if greeting is None:
            self.close()
            raise NetTimeout(f"{self.host}:{self.port} sent no greeting in {self.timeout:g} s")
        self.greeting = greeting
        if greeting.startswith(GREETING):
            self.peer = greeting[len(GREETING):].strip() or None
        return greeting

    def close(self) -> None:
        if self._remove_hook:
            self._remove_hook()
            self._remove_hook = None
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
            self.sock = None

    def _abort(self) -> None:
        sock = self.sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def __enter__(self) -> "LineChatClient":
        if self.sock is None:
            self.connect()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def connected(self) -> bool:
        return self.sock is not None and not self._eof

    # -- sending --
    def send(self, line: str) -> None:
        """Send one message (text with newlines is sent as several lines).

        With the send variant, ``SEND`` follows. With ``auto`` the first call finds the variant.
        """
        lines = [part.rstrip("\r") for part in line.split("\n")] or [""]
        if any(part == "SEND" for part in lines):
            # a line that is exactly SEND would be a command for a send-variant server
            lines = ["SEND " if part == "SEND" else part for part in lines]
        self._write_lines(lines)
        if self.variant == "send":
            self._write_lines(["SEND"])
        elif self.variant == "auto":
            self._detect(lines[-1])

    def _write_lines(self, lines: list[str]) -> None:
        if self.sock is None:
            raise ConnectionLost("Not connected")
        self.token.check()
        data = "".join(f"{part}\n" for part in lines).encode("utf-8")
        try:
            self.sock.sendall(data)
        except OSError as exc:
            raise self._failure(exc) from exc
        for part in lines:
            self.log(">", part)

    def _detect(self, last: str) -> None:
        if self._wait_for_echo(last, self.probe_seconds):
            self.variant = "line"
        else:
            self._write_lines(["SEND"])
            self.variant = "send" if self._wait_for_echo(last, max(self.probe_seconds, 2.0)) else "line"
            if self.variant == "line":
                self.log("*", "The server did not relay the line; assuming the per-line variant")
        self.log("*", f"Server variant: {'buffered until SEND' if self.variant == 'send' else 'per line'}")

    def _wait_for_echo(self, last: str, seconds: float) -> bool:
        """Read (keeping every line) until our ``last`` line comes back or ``seconds`` pass."""
        start = len(self._lines)
        deadline = time.monotonic() + seconds
        while True:
            for line in self._lines[start:]:
                if self._is_echo(line, last):
                    return True
            start = len(self._lines)
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self._eof:
                return False
            self._fill(remaining)

    def _is_echo(self, line: str, last: str) -> bool:
        if self.peer:
            return line == f"{self.peer}: {last}"
        return line.endswith(": " + last)

    # -- receiving --
    def receive(self, timeout: float | None = None) -> str | None:
        """The next line from the server; None on timeout. Raises ConnectionLost at end of stream."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._lines:
            if self._eof:
                raise ConnectionLost(f"{self.host}:{self.port} closed the connection")
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return None
            self._fill(remaining)
        return self._lines.pop(0)

    def pending(self) -> list[str]:
        """Every line already received and not yet taken, without waiting."""
        if not self._eof:
            self._fill(0)
        lines, self._lines = self._lines, []
        return lines

    def lines(self) -> Iterator[str]:
        """Yield lines until the server closes the connection."""
        while True:
            try:
                line = self.receive(timeout=None)
            except ConnectionLost:
                return
            if line is not None:
                yield line

    def _fill(self, timeout: float | None) -> None:
        """Wait up to ``timeout`` (None: the connection's timeout, repeatedly) for data and split it."""
        if self.sock is None:
            raise ConnectionLost("Not connected")
        self.token.check()
        wait = self.timeout if timeout is None else max(0.0, timeout)
        try:
            ready, _, _ = select.select([self.sock], [], [], min(wait, 0.5) if timeout is None else wait)
            if not ready:
                return
            data = self.sock.recv(65536)
        except (OSError, ValueError) as exc:
            self.token.check()
            raise self._failure(exc) from exc
        self.token.check()
        try:
            self._split(data)
        finally:
            if self._rx_log:  # one transcript message per chunk, not per line
                lines, self._rx_log = self._rx_log, []
                self.log("<", "\n".join(lines))

    def _split(self, data: bytes) -> None:
        if not data:
            self._eof = True
            if self._buf:
                self._take(bytes(self._buf))
                self._buf.clear()
            return
        self._buf += data
        while True:
            nl = self._buf.find(b"\n")
            if nl < 0:
                if len(self._buf) > MAX_LINE:
                    self._take(bytes(self._buf[:MAX_LINE]))
                    self._buf.clear()
                break
            raw = bytes(self._buf[:nl])
            del self._buf[:nl + 1]
            self._take(raw[:MAX_LINE])

    def _take(self, raw: bytes) -> None:
        line = decode_line(raw.rstrip(b"\r"))
        self._lines.append(line)
        self._rx_log.append(line)

    def _failure(self, exc: BaseException) -> NetError:
        return describe_failure(exc, self.token, self.host, self.port)


def run_session(host: str, port: int, *, variant: str = "auto", outbox: "queue.Queue[str | None]",
                on_lines: Callable[[list[str]], None], token: CancelToken | None = None,
                log: Log | None = None, on_status: Callable[[str], None] | None = None,
                timeout: float = 15, batch_seconds: float = 0.05, linger: float = 0.0) -> None:
    """Run one line-chat conversation until the server closes, ``None`` is queued, or cancel.

    Lines to send are taken from ``outbox``; received lines (the greeting first) are passed
    to ``on_lines`` in batches, at most one call per ``batch_seconds``. After ``None``, lines
    still arriving are shown until none came for ``linger`` seconds.
    """
    token = token or CancelToken()
    client = LineChatClient(host, port, timeout=timeout, token=token, log=log, variant=variant)
    status = on_status or (lambda text: None)
    status(f"Connecting to {host}:{port}")
    on_lines([client.connect()])
    status(f"Connected to {host}:{port}")
    try:
        batch: list[str] = []
        last_flush = time.monotonic()
        leave_at = None
        while True:
            token.check()
            if leave_at is not None and time.monotonic() >= leave_at:
                if batch:
                    on_lines(batch)
                return
            try:
                while leave_at is None:
                    item = outbox.get_nowait()
                    if item is None:
                        leave_at = time.monotonic() + linger
                        break
                    client.send(item)
                    if variant == "auto" and client.variant != "auto":
                        variant = client.variant
                        status(f"Connected to {host}:{port} "
                               f"({'buffered until SEND' if variant == 'send' else 'per-line'} server)")
            except queue.Empty:
                pass
            try:
                line = client.receive(timeout=0.05)
            except ConnectionLost:
                batch.extend(client.pending() if client.sock else [])
                if batch:
                    on_lines(batch)
                raise ConnectionLost(f"{host}:{port} closed the connection") from None
            if line is not None:
                batch.append(line)
                batch.extend(client._lines)
                client._lines.clear()
                if leave_at is not None:
                    leave_at = time.monotonic() + linger
            now = time.monotonic()
            if batch and (now - last_flush >= batch_seconds or line is None):
                on_lines(batch)
                batch = []
                last_flush = now
    finally:
        client.close()


__all__ = ["LineChatClient", "run_session", "DEFAULT_PORT", "VARIANTS"]
