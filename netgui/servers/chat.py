"""netgui's line-chat server (the line variant of the protocol in docs/ARCHITECTURE.md).

On connect a client gets ``Welcome to the chat server, <peer>\\n``; every line a client sends
is relayed to every client, the sender included, as ``<peer>: <line>\\n``.

It runs an asyncio loop in a background thread. Each client has its own bounded outgoing
queue: relaying only appends to the queues, so a slow reader never stalls the others, and a
client whose queue overflows is sent a short message and disconnected. Lines longer than
``max_line`` bytes are cut; control characters (terminal escapes) are removed.
"""

from __future__ import annotations

import asyncio
import collections
import re
import threading
from typing import Callable

DEFAULT_PORT = 51423
MAX_LINE = 2048
"""Longest line relayed, in bytes; longer lines are cut to this length."""
MAX_QUEUE = 5000
"""Lines a client may have waiting before it counts as too far behind."""
CLOSE_GRACE = 10.0
"""Seconds a dropped client gets to take its goodbye message before the socket is aborted."""

Log = Callable[[str, str], None]
_CONTROL = re.compile(rb"[\x00-\x08\x0b-\x1f\x7f]")


def _no_log(direction: str, text: str) -> None:
    pass


def peer_name(addr) -> str:
    """``127.0.0.1:5000`` or ``[::1]:5000`` for a socket address."""
    if not isinstance(addr, tuple):
        return str(addr)
    host, port = addr[0], addr[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class _Client(asyncio.Protocol):
    """One connection: splits input into lines and owns the bounded outgoing queue."""

    def __init__(self, server: "ChatServer") -> None:
        self.server = server
        self.transport: asyncio.Transport | None = None
        self.name = "?"
        self.prefix = b""
        self.inbuf = bytearray()
        self.discarding = False  # inside an over-long line, dropping bytes until its newline
        self.queue: collections.deque[bytes] = collections.deque()
        self.paused = False  # the transport's own buffer is full
        self.closing = False
        self._flush_scheduled = False

    # -- asyncio callbacks --
    def connection_made(self, transport) -> None:
        self.transport = transport
        self.name = peer_name(transport.get_extra_info("peername"))
        self.prefix = self.name.encode() + b": "
        self.server._joined(self)
        transport.write(f"Welcome to the chat server, {self.name}\n".encode())

    def data_received(self, data: bytes) -> None:
        if self.closing:
            return
        self.inbuf += data
        limit = self.server.max_line
        while True:
            nl = self.inbuf.find(b"\n")
            if nl < 0:
                if len(self.inbuf) > limit:  # an over-long line: relay its start, drop the rest
                    if not self.discarding:
                        self.server._relay(self, bytes(self.inbuf[:limit]))
                        self.server.log("!", f"{self.name} sent a line over {limit} bytes; cut")
                    self.discarding = True
                    del self.inbuf[:]
                return
            line = bytes(self.inbuf[:nl])
            del self.inbuf[:nl + 1]
            if self.discarding:
                self.discarding = False
                continue
            if len(line) > limit:
                self.server.log("!", f"{self.name} sent a line over {limit} bytes; cut")
                line = line[:limit]
            self.server._relay(self, line)

    def eof_received(self):
        if self.inbuf and not self.discarding:  # a last line without its newline
            self.server._relay(self, bytes(self.inbuf))
        del self.inbuf[:]
        # the client is done sending: deliver what it still has queued, then close
        self.server.loop.call_soon(self._finish)
        return True

    def _finish(self) -> None:
        if self.closing or self.transport is None:
            return
        self.closing = True
        if self.queue:
            self.transport.write(b"".join(self.queue))
            self.queue.clear()
        self.transport.close()
        self.server.loop.call_later(CLOSE_GRACE, self.transport.abort)

    def connection_lost(self, exc) -> None:
        self.closing = True
        self.queue.clear()
        self.server._left(self, exc)

    def pause_writing(self) -> None:
        self.paused = True

    def resume_writing(self) -> None:
        self.paused = False
        self.flush()

    # -- queue --
    def enqueue(self, data: bytes) -> None:
        if self.closing:
            return
        if len(self.queue) >= self.server.max_queue:
            self.drop(f"too far behind ({len(self.queue)} lines waiting)")
            return
        was_empty = not self.queue
        self.queue.append(data)
        if self.paused:
            return
        if len(self.queue) >= 64:  # a burst: hand it over now, the queue only grows while paused
            self.flush()
        elif was_empty:
            self.server.loop.call_soon(self.flush)

    def flush(self) -> None:
        if self.closing or self.paused or not self.queue or self.transport is None:
            return
        # hand the transport a few KB at a time, so its own buffer stays small and the
        # queue length really measures how far behind this client is
        chunk, size = [], 0
        while self.queue and size < 65536:
            item = self.queue.popleft()
            chunk.append(item)
            size += len(item)
        self.transport.write(b"".join(chunk))
        if self.queue and not self.paused and not self._flush_scheduled:
            self._flush_scheduled = True
            self.server.loop.call_soon(self._scheduled_flush)

    def _scheduled_flush(self) -> None:
        self._flush_scheduled = False
        self.flush()

    def drop(self, reason: str) -> None:
        """Disconnect with a one-line message (used when the client falls too far behind)."""
        if self.closing or self.transport is None:
            return
        self.closing = True
        self.queue.clear()
        self.server.log("!", f"Disconnecting {self.name}: {reason}")
        transport = self.transport
        transport.write(f"Disconnected by the chat server: {reason}\n".encode())
        transport.close()
        self.server.loop.call_later(CLOSE_GRACE, transport.abort)


class ChatServer:
    """The line-chat server. ``start()`` returns once it listens; ``port`` is the bound port."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, log: Log | None = None, *,
                 max_line: int = MAX_LINE, max_queue: int = MAX_QUEUE) -> None:
        self.host = host
        self.port = port
        self.log = log or _no_log
        self.max_line = max_line
        self.max_queue = max_queue
        self.loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.AbstractServer | None = None
        self._thread: threading.Thread | None = None
        self._clients: list[_Client] = []
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self.relayed = 0
        """Lines received and relayed since start."""

    # -- lifecycle --
    def start(self) -> "ChatServer":
        """Bind and start serving in a background thread; raises OSError if the port is taken."""
        if self._thread is not None:
            return self
        self._thread = threading.Thread(target=self._run, name=f"chat-server-{self.port}", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            self._thread.join()
            self._thread = None
            raise self._error
        self.log("*", f"Chat server listening on {peer_name((self.host, self.port))}")
        return self

    def _run(self) -> None:
        self.loop = asyncio.new_event_loop()
        try:
            self._server = self.loop.run_until_complete(
                self.loop.create_server(lambda: _Client(self), self.host, self.port, reuse_address=True))
            self.port = self._server.sockets[0].getsockname()[1]
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            self.loop.close()
            return
        self._ready.set()
        try:
            self.loop.run_forever()
        finally:
            self.loop.run_until_complete(self._shutdown())
            self.loop.close()

    async def _shutdown(self) -> None:
        self._server.close()
        for client in list(self._clients):
            if client.transport is not None:
                client.transport.abort()
        await asyncio.sleep(0)  # let connection_lost run
        await self._server.wait_closed()

    def stop(self) -> None:
        """Disconnect everyone and stop listening."""
        if self._thread is None:
            return
        if self.loop is not None and self.loop.is_running():
            self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self._thread = None
        self.log("*", "Chat server stopped")

    def serve_forever(self, stop: threading.Event | None = None) -> None:
        """Block until ``stop`` is set (or forever)."""
        (stop or threading.Event()).wait()

    def __enter__(self) -> "ChatServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def clients(self) -> list[str]:
        """Peer names of the connected clients."""
        with self._lock:
            return [c.name for c in self._clients]

    # -- called on the loop thread --
    def _joined(self, client: _Client) -> None:
        with self._lock:
            self._clients.append(client)
        self.log("*", f"{client.name} connected ({len(self._clients)} online)")

    def _left(self, client: _Client, exc) -> None:
        with self._lock:
            if client in self._clients:
                self._clients.remove(client)
        self.log("*", f"{client.name} disconnected ({len(self._clients)} online)")

    def _relay(self, sender: _Client, line: bytes) -> None:
        if line.endswith(b"\r"):
            line = line[:-1]
        line = _CONTROL.sub(b"", line)
        data = sender.prefix + line + b"\n"
        self.relayed += 1
        for client in list(self._clients):
            client.enqueue(data)
