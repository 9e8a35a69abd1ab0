"""A WebSocket client (ws://, wss://) on netgui's own connection, ``wsproto`` driving the framing.

Like the HTTP core it dials with ``dial`` (timed phases, TLS with certificate checks, ALPN
pinned to http/1.1), honours a timeout and a cancel token everywhere, and reports through
``log(direction, text)``. Every message in either direction is kept in ``messages`` with its
time, direction, kind and size, for the Web tab's message log.

Threads: one worker runs ``receive()`` (or ``run()``), others may call ``send_*``, ``ping``
and ``close`` at any time; wsproto is only touched under a lock, never while blocked in recv.
"""

from __future__ import annotations

import json
from collections import deque
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from typing import Callable
from urllib.parse import urlsplit

import wsproto
import wsproto.events as ev
import wsproto.utilities
from wsproto.connection import ConnectionState

from netgui.fmt import human_bytes
from netgui.net.cancel import CancelToken
from netgui.net.connection import Log, no_log, tls_context
from netgui.net.errors import (
    AuthError,
    Cancelled,
    ConnectionLost,
    NetError,
    NetTimeout,
    ProtocolError,
    translate,
)
from netgui.net.redact import redact

from .dial import Dialled, Timing, TLSInfo, dial

MAX_MESSAGE = 64 * 1024 * 1024  # a bigger message is refused with close code 1009
KEPT = 10_000  # messages kept in ``messages`` (a ping flood must not fill memory)
RECV = 256 * 1024
PREVIEW = 200

CLOSE_NAMES = {1000: "normal closure", 1001: "going away", 1002: "protocol error",
               1003: "unsupported data", 1005: "no status code", 1006: "connection lost",
               1007: "invalid data", 1008: "policy violation", 1009: "message too big",
               1010: "missing extension", 1011: "server error", 1012: "service restart",
               1013: "try again later", 1014: "bad gateway", 1015: "TLS failure"}


class WebSocketRejected(ProtocolError):
    """The server answered the upgrade with an HTTP status instead of 101."""


class WebSocketClosed(ConnectionLost):
    """The WebSocket is closed (``code`` / ``reason`` say how)."""


@dataclass
class Message:
    when: float          # time.time() when sent or received
    direction: str       # ">" sent, "<" received
    kind: str            # "text", "binary", "ping", "pong", "close"
    data: str | bytes
    size: int

    def preview(self) -> str:
        if isinstance(self.data, str):
            text = self.data
        else:
            text = self.data[:PREVIEW // 2].hex(" ") + (" …" if self.size > PREVIEW // 2 else "")
        return text if len(text) <= PREVIEW else text[:PREVIEW] + " …"


def is_websocket_url(url: str) -> bool:
    return url.strip().lower().startswith(("ws://", "wss://"))


def check_url(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, request target) of a ws:// or wss:// URL; raises ProtocolError
    with a one-line reason otherwise."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        raise ProtocolError(f"Not a valid port in {url!r}") from None
    if scheme not in ("ws", "wss") or not parts.hostname:
        raise ProtocolError(f"Not a WebSocket URL: {url!r} (use ws://host/path or wss://host/path)")
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return scheme, parts.hostname, port or (443 if scheme == "wss" else 80), target


def close_text(code: int | None, reason: str = "") -> str:
    if code is None:
        return "closed"
    name = CLOSE_NAMES.get(code, "application code" if 4000 <= code < 5000 else "code")
    return f"{code} ({name})" + (f": {reason}" if reason else "")


class WebSocket:
    """One WebSocket connection. Use ``WebSocket.connect(url, ...)``."""

    def __init__(self, dialled: Dialled, conn: wsproto.WSConnection, where: str, *, log: Log,
                 timeout: float, max_message: int = MAX_MESSAGE):
        self.sock = dialled.sock
        self.remote = dialled.remote
        self.timing: Timing = dialled.timing
        self.tls: TLSInfo | None = dialled.tls
        self.where = where
        self.log = log
        self.timeout = timeout
        self._ws = conn
        self._lock = threading.Lock()
        self._buf = bytearray(RECV)
        self._view = memoryview(self._buf)
        self._parts: list = []
        self._part_size = 0
        self._pending: list[Message] = []
        self.messages: deque[Message] = deque(maxlen=KEPT)
        self.max_message = max_message
        self.subprotocol: str | None = None
        self.response_headers: list[tuple[str, str]] = []
        self.close_code: int | None = None
        self.close_reason = ""
        self.closed = False
        self.on_message: Callable[[Message], None] | None = None

    # -- opening ------------------------------------------------------------------------
    @classmethod
    def connect(cls, url: str, *, headers: list[tuple[str, str]] = (), subprotocols=(),
                verify: bool = True, cafile: str | None = None, timeout: float = 30.0,
                token: CancelToken | None = None, log: Log = no_log,
                secrets: tuple[str, ...] = (), max_message: int = MAX_MESSAGE) -> "WebSocket":
        token = token or CancelToken()
        scheme, host, port, target = check_url(url)
        where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"

        def log_safe(direction: str, text: str) -> None:
            log(direction, redact(text, secrets) if (secrets or "uthorization" in text) else text)

        tls = None
        if scheme == "wss":
            tls = tls_context(verify=verify, cafile=cafile)
            tls.set_alpn_protocols(["http/1.1"])  # WebSocket over HTTP/2 (RFC 8441) is not offered
        try:
            dialled = dial(host, port, timeout=timeout, token=token, log=log_safe, tls=tls,
                           server_hostname=host, alpn="1.1")
        except NetError:
            raise
        except BaseException as exc:
            if token.cancelled:
                raise Cancelled() from exc
            raise translate(exc, host, port) from exc
        conn = wsproto.WSConnection(wsproto.ConnectionType.CLIENT)
        self = cls(dialled, conn, where, log=log_safe, timeout=timeout, max_message=max_message)
        try:
            with token.watch(self.sock):
                self._handshake(host if port in (80, 443) else f"{host}:{port}", target,
                                list(headers), list(subprotocols), token)
        except BaseException as exc:
            self._drop()
            if token.cancelled:
                raise Cancelled() from exc
            if isinstance(exc, NetError):
                raise
            if isinstance(exc, (socket.timeout, TimeoutError)):
                raise NetTimeout(f"{where} did not answer the WebSocket upgrade within "
                                 f"{timeout:g} s") from exc
            raise translate(exc, host, port) from exc
        return self

    def _handshake(self, host, target, headers, subprotocols, token) -> None:
        extra = [(n.encode("latin-1"), v.encode("utf-8")) for n, v in headers if n]
        request = ev.Request(host=host, target=target, extra_headers=extra,
                             subprotocols=subprotocols)
        data = self._ws.send(request)
        for line in data.decode("latin-1").split("\r\n"):
            if line:
                self.log(">", line)
        started = time.monotonic()
        self.sock.sendall(data)
        reject: ev.RejectConnection | None = None
        body = b""
        while True:
            n = self.sock.recv_into(self._view)
            if not n:
                raise ConnectionLost(f"{self.where} closed the connection during the WebSocket "
                                     "upgrade")
            try:
                self._ws.receive_data(self._view[:n].tobytes())
                events = list(self._ws.events())
            except wsproto.utilities.RemoteProtocolError as exc:
                raise ProtocolError(f"{self.where} answered the WebSocket upgrade wrongly: {exc}") \
                    from None
            for index, event in enumerate(events):
                if isinstance(event, ev.AcceptConnection):
                    self.timing.first_byte = time.monotonic() - started
                    self.subprotocol = event.subprotocol
                    self.response_headers = [(k.decode("latin-1"), v.decode("latin-1"))
                                             for k, v in event.extra_headers]
                    self.log("<", "HTTP/1.1 101 Switching Protocols")
                    for name, value in self.response_headers:
                        self.log("<", f"{name}: {value}")
                    self.log("*", "WebSocket open" + (f" (subprotocol {self.subprotocol})"
                                                      if self.subprotocol else ""))
                    with self._lock:  # frames that came in the same read as the 101
                        for later in events[index + 1:]:
                            if not self.closed:
                                self._event(later)
                    return
                finished = False
                if isinstance(event, ev.RejectConnection):
                    reject = event
                    finished = not event.has_body
                elif isinstance(event, ev.RejectData):
                    body += event.data
                    finished = event.body_finished
                if finished and reject is not None:
                    self.log("<", f"HTTP/1.1 {reject.status_code}")
                    text = body[:200].decode("utf-8", "replace").strip()
                    cls = AuthError if reject.status_code in (401, 403) else WebSocketRejected
                    raise cls(f"{self.where} refused the WebSocket upgrade: HTTP "
                              f"{reject.status_code}" + (f" ({text})" if text else ""))

    # -- sending ------------------------------------------------------------------------
    def _send(self, event, kind: str, data, size: int) -> Message:
        with self._lock:
            if self.closed or self._ws.state not in (ConnectionState.OPEN,
                                                      ConnectionState.REMOTE_CLOSING):
                raise WebSocketClosed(f"The WebSocket to {self.where} is closed "
                                      f"({close_text(self.close_code, self.close_reason)})")
            try:
                payload = self._ws.send(event)
                self.sock.sendall(payload)
            except (OSError, ssl.SSLError) as exc:
                self._lost(exc)
                raise WebSocketClosed(f"The WebSocket to {self.where} was lost") from exc
            message = Message(time.time(), ">", kind, data, size)
            self._record(message)
        return message

    def send_text(self, text: str) -> Message:
        return self._send(ev.TextMessage(data=text), "text", text, len(text.encode("utf-8")))

    def send_binary(self, data: bytes) -> Message:
        return self._send(ev.BytesMessage(data=bytes(data)), "binary", bytes(data), len(data))

    def send_json(self, value) -> Message:
        return self.send_text(json.dumps(value, ensure_ascii=False))

    def ping(self, payload: bytes = b"") -> Message:
        return self._send(ev.Ping(payload=payload), "ping", payload, len(payload))

    def close(self, code: int = 1000, reason: str = "", wait: float = 2.0) -> None:
        """Send a close frame and wait (up to ``wait`` s) for the server's, then hang up."""
        try:
            self._send(ev.CloseConnection(code=code, reason=reason or None), "close",
                       close_text(code, reason), 0)
        except WebSocketClosed:
            self._drop()
            return
        deadline = time.monotonic() + wait
        try:
            while not self.closed and time.monotonic() < deadline:
                self.receive(timeout=max(0.05, deadline - time.monotonic()))
        except NetError:
            pass
        if not self.closed:
            # RFC 6455 7.1.5: closed without a close frame from the peer is 1006
            self.log("!", f"{self.where} did not answer our close within {wait:g} s: hung up")
            self._closed_by(1006, f"no answer to our close within {wait:g} s")
        self._drop()

    # -- receiving ----------------------------------------------------------------------
    def receive(self, timeout: float | None = None, token: CancelToken | None = None) -> Message | None:
        """The next data message (text or binary; pings are answered and logged on the way),
        or None when ``timeout`` passes first. Raises WebSocketClosed once closed."""
        token = token or CancelToken()
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        with token.watch(self.sock):
            while True:
                if self._pending:
                    return self._pending.pop(0)
                if self.closed:
                    raise WebSocketClosed(f"The WebSocket to {self.where} is closed: "
                                          f"{close_text(self.close_code, self.close_reason)}")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                try:
                    self.sock.settimeout(remaining)
                    n = self.sock.recv_into(self._view)
                except (socket.timeout, TimeoutError):
                    return None
                except (OSError, ssl.SSLError) as exc:
                    if token.cancelled:
                        raise Cancelled() from exc
                    self._lost(exc)
                    continue
                finally:
                    if self.sock is not None:
                        try:
                            self.sock.settimeout(self.timeout)
                        except OSError:
                            pass
                if token.cancelled:
                    raise Cancelled()
                if not n:
                    self._lost(None)
                    continue
                self._feed(self._view[:n].tobytes())

    def run(self, token: CancelToken, idle: float = 0.5) -> None:
        """Receive until closed or cancelled (for a worker thread); messages go to
        ``on_message`` and ``messages``."""
        while True:
            try:
                self.receive(timeout=idle, token=token)
            except WebSocketClosed:
                return

    def _feed(self, data: bytes) -> None:
        with self._lock:
            try:
                self._ws.receive_data(data)
                events = list(self._ws.events())
            except wsproto.utilities.RemoteProtocolError as exc:
                self.log("!", f"{self.where} broke the WebSocket protocol: {exc}")
                events = []
                self._closed_by(1002, str(exc))
            for event in events:
                if not self.closed:
                    self._event(event)

    def _event(self, event) -> None:  # lock held
        if isinstance(event, (ev.TextMessage, ev.BytesMessage)):
            self._parts.append(event.data)
            self._part_size += len(event.data)
            if self._part_size > self.max_message:
                self.log("!", f"A message over {human_bytes(self.max_message)}: closing with 1009")
                self._respond(ev.CloseConnection(code=1009, reason="message too big"))
                self._record(Message(time.time(), ">", "close",
                                     close_text(1009, "message too big"), 0))
                self._closed_by(1009, "message too big (netgui's limit)")
                return
            if not event.message_finished:
                return
            parts, self._parts, self._part_size = self._parts, [], 0
            if isinstance(event, ev.TextMessage):
                data = "".join(parts)
                message = Message(time.time(), "<", "text", data, len(data.encode("utf-8")))
            else:
                data = b"".join(parts)
                message = Message(time.time(), "<", "binary", data, len(data))
            self._record(message)
            self._pending.append(message)
        elif isinstance(event, ev.Ping):
            self._record(Message(time.time(), "<", "ping", bytes(event.payload), len(event.payload)))
            self._respond(event.response())
            self._record(Message(time.time(), ">", "pong", bytes(event.payload), len(event.payload)))
        elif isinstance(event, ev.Pong):
            self._record(Message(time.time(), "<", "pong", bytes(event.payload), len(event.payload)))
        elif isinstance(event, ev.CloseConnection):
            reason = event.reason or ""
            if self._ws.state in (ConnectionState.OPEN, ConnectionState.LOCAL_CLOSING):
                # wsproto reports a frame it cannot parse as a close with the code to use
                self.log("!", f"{self.where} broke the WebSocket protocol: {reason}")
                if self._ws.state == ConnectionState.OPEN:
                    self._respond(ev.CloseConnection(code=event.code, reason=reason[:100]))
                    self._record(Message(time.time(), ">", "close",
                                         close_text(event.code, reason), 0))
            else:
                self._record(Message(time.time(), "<", "close", close_text(event.code, reason), 0))
                if self._ws.state == ConnectionState.REMOTE_CLOSING:
                    self._respond(event.response())
            self._closed_by(event.code, reason)

    def _respond(self, event) -> None:  # lock held
        if self.sock is None:
            return
        try:
            self.sock.sendall(self._ws.send(event))
        except (OSError, ssl.SSLError, wsproto.utilities.LocalProtocolError):
            pass

    def _record(self, message: Message) -> None:
        self.messages.append(message)
        what = message.kind if message.kind in ("text", "binary") else message.kind.upper()
        self.log(message.direction, f"{what} ({message.size} bytes): {message.preview()}"
                 if message.kind in ("text", "binary") else
                 f"{what} {message.preview()}".rstrip())
        if self.on_message is not None:
            self.on_message(message)

    def _closed_by(self, code: int | None, reason: str) -> None:
        if self.close_code is None:
            self.close_code, self.close_reason = code, reason
        self.closed = True
        self.log("*", f"WebSocket closed: {close_text(self.close_code, self.close_reason)}")
        self._drop()

    def _lost(self, exc: BaseException | None) -> None:
        if not self.closed:
            detail = f" ({type(exc).__name__}: {exc})" if exc else ""
            self.log("!", f"The connection to {self.where} ended without a close frame{detail}")
            self.close_code, self.close_reason = 1006, "the connection ended without a close frame"
            self.closed = True
        self._drop()

    def abort(self) -> None:
        """Hang up without a close frame (after a cancel: the socket is already shut)."""
        with self._lock:
            if not self.closed:
                self.log("*", "WebSocket abandoned (cancelled)")
                self.close_code, self.close_reason = 1006, "cancelled here"
                self.closed = True
            self._drop()

    def _drop(self) -> None:
        sock, self.sock = self.sock, None
        if sock is not None:
            try:
                sock.close()
            except OSError:
                pass


__all__ = ["WebSocket", "Message", "WebSocketClosed", "WebSocketRejected", "close_text",
           "check_url", "is_websocket_url"]
