"""HTTP/2 on netgui's own socket, with the ``h2`` library driving the framing.

One ``H2Connection`` carries many requests at once (streams). Any thread waiting for its
stream takes the socket in turn ("the reader"): it reads, feeds ``h2``, files each event
under its stream and wakes the others. So there is no background thread, and each caller
keeps its own timeout and cancel token:

- a timeout or a cancel ends only that caller's stream (RST_STREAM CANCEL), not the
  connection; a cancel wakes a reader blocked in select through a socketpair;
- received DATA is handed back to the flow-control window only once the caller has taken
  it, so a slow consumer bounds memory (the stream windows; the connection window is large,
  as curl's, so one thread reading a batch stream by stream cannot stall);
- GOAWAY, stream resets and protocol errors become one clear line each, and the frames of
  a stream are summarised for the transcript (HEADERS, DATA xN (size), END_STREAM).

``start_streams`` / ``wait_heads`` / ``response`` open a batch of streams in one write for
``HttpSession.send_many``. For speed, runs of DATA frames are re-framed before ``h2`` sees
them (``DataCoalescer``) and hyperframe's DATA repr is replaced (``quiet_data_repr``).
"""

from __future__ import annotations

import select
import socket
import ssl
import struct
import threading
import time
from collections import deque

import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.exceptions
import h2.settings
import hyperframe.frame

from netgui.fmt import human_bytes
from netgui.net.cancel import CancelToken
from netgui.net.connection import Log, no_log
from netgui.net.errors import Cancelled, ConnectionLost, NetError, NetTimeout, ProtocolError

from .dial import Dialled

STREAM_WINDOW = 8 * 1024 * 1024
CONNECTION_WINDOW = 1 << 30   # as curl: stream windows bound memory; a batch read by one thread cannot stall
MAX_FRAME = 1 << 20           # we accept frames up to 1 MiB (servers mostly send 16 KiB)
MAX_HEADER_LIST = 256 * 1024  # decoded header block limit we announce and enforce
RECV = 512 * 1024
ACK_BATCH = 256 * 1024
JOIN = 256 * 1024  # queued DATA payloads are joined up to this size before they are handed on
COALESCE = 256 * 1024  # DATA runs are re-framed into frames up to this size


def quiet_data_repr(frame) -> str:
    """The text hyperframe's ``DataFrame._body_repr`` gives, without its cost.

    ``h2`` formats ``repr(frame)`` for its trace log on every frame it receives, even when
    nothing logs (``logger.trace("Received frame: %s", repr(frame))``). For a DATA frame
    hyperframe copies the whole payload and hex-encodes all of it to show 20 hex digits:
    12 µs for an 8 KiB frame, 1.6 s of CPU for a 1 GiB download, more than everything
    else ``h2`` does with those frames once they are coalesced. This returns the same text
    from the first 11 bytes."""
    head = frame.serialize_padding_data() + bytes(frame.data[:11]) + b"\0" * min(frame.pad_length, 11)
    return hyperframe.frame._raw_data_repr(head[:11])


def _install_quiet_data_repr() -> bool:
    """Put ``quiet_data_repr`` in place of hyperframe's (the one patch of a library here;
    README: "HTTP/2"). Skipped if hyperframe no longer has these names: then only speed is
    lost (tests/net/http/test_h2_frames.py checks the text stays the same)."""
    frame = hyperframe.frame
    if not (hasattr(frame.DataFrame, "_body_repr") and hasattr(frame, "_raw_data_repr")):
        return False
    frame.DataFrame._body_repr = quiet_data_repr
    return True


QUIET_DATA_REPR = _install_quiet_data_repr()


_FRAME_HEADER = struct.Struct(">HBBBL")  # length (24 bits as 16 + 8), type, flags, stream id


def _emit(out: list, payloads: list, sid: int, size: int, end: bool) -> None:
    """One DATA frame (END_STREAM if ``end``) carrying ``payloads``, appended to ``out``."""
    out.append(_FRAME_HEADER.pack(size >> 8, size & 0xFF, 0, 1 if end else 0, sid))
    out.extend(payloads)


class DataCoalescer:
    """Joins runs of DATA frames of one stream into one frame before ``h2`` parses them.

    Servers send bodies in small frames (nginx: 8 KiB, so 131,072 frames a GiB) and ``h2``
    spends about 15 µs of Python on each. A run of unpadded DATA frames on one stream is
    re-framed here as one DATA frame of up to ``limit`` bytes (no more than the
    ``max_frame`` we announced in SETTINGS_MAX_FRAME_SIZE, so it is valid HTTP/2): the same
    payload, the same flow-control length, END_STREAM on the last piece. Every other frame
    passes through unchanged, and so does everything from a frame header that announces
    more than ``max_frame`` on (``h2`` reports it). Only whole frames are handed on; a
    partial one waits here for the rest. ``frames[stream id]`` counts the DATA frames as
    the server sent them (for the transcript).
    """

    def __init__(self, limit: int, max_frame: int):
        self.limit, self.max_frame = limit, max_frame
        self.frames: dict[int, int] = {}
        self.passthrough = False
        self._tail = b""  # the start of a frame whose end has not arrived
        self._out: list = []

    def feed(self, data) -> bytes:
        """The whole frames in ``data`` (after what was left over), re-framed."""
        if self.passthrough:
            return bytes(data)
        data = memoryview(data)
        if self._tail:  # first complete the frame begun in an earlier read
            tail, self._tail = self._tail, b""
            if len(tail) < 9:
                more = 9 - len(tail)
                tail, data = tail + bytes(data[:more]), data[more:]
            if len(tail) >= 9 and int.from_bytes(tail[:3], "big") <= self.max_frame:
                more = 9 + int.from_bytes(tail[:3], "big") - len(tail)
                tail, data = tail + bytes(data[:more]), data[more:]
            self._scan(memoryview(tail))
        if self.passthrough:
            self._out.append(data)
        elif not self._tail:  # (else the earlier frame is still incomplete: data went into it)
            self._scan(data)
        out, self._out = self._out, []
        return b"".join(out)

    def _scan(self, view: memoryview) -> None:
        """File the whole frames of ``view`` in ``_out``; keep an incomplete end in ``_tail``."""
        pos, end, limit, max_frame = 0, len(view), self.limit, self.max_frame
        out, frames, unpack = self._out, self.frames, _FRAME_HEADER.unpack_from
        run: list = []  # DATA payloads of one stream, to go out as one frame
        run_sid = run_size = run_count = 0
        run_end = False
        while end - pos >= 9:
            high, low, kind, flags, sid = unpack(view, pos)
            length = high << 8 | low
            if length > max_frame or end - pos - 9 < length:
                break
            sid &= 0x7FFFFFFF
            joins = kind == 0 and sid and not flags & 0x08  # DATA, not padded
            if joins and not (run and (sid != run_sid or run_end or run_size + length > limit)):
                if not run:
                    run_sid = sid
                run.append(view[pos + 9:pos + 9 + length])
                run_size += length
                run_count += 1
                run_end = bool(flags & 0x01)
                pos += 9 + length
                continue
            if run:
                _emit(out, run, run_sid, run_size, run_end)
                frames[run_sid] = frames.get(run_sid, 0) + run_count
                run, run_size, run_count = [], 0, 0
            if joins:
                continue  # this DATA frame starts the next run
            if kind == 0 and sid:
                frames[sid] = frames.get(sid, 0) + 1
            out.append(view[pos:pos + 9 + length])
            pos += 9 + length
        if run:
            _emit(out, run, run_sid, run_size, run_end)
            frames[run_sid] = frames.get(run_sid, 0) + run_count
        if end - pos >= 9 and (view[pos] << 16 | view[pos + 1] << 8 | view[pos + 2]) > max_frame:
            out.append(view[pos:])  # h2 refuses it
            self.passthrough = True
        elif pos < end:
            self._tail = bytes(view[pos:])

    def forget(self, sid: int) -> None:
        self.frames.pop(sid, None)


_QUICKACK = getattr(socket, "TCP_QUICKACK", None)  # Linux
_HOP_HEADERS = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade",
                "host", "te"}


def error_name(code) -> str:
    try:
        return h2.errors.ErrorCodes(code).name
    except ValueError:
        return f"error 0x{int(code):x}"


class StreamReset(ProtocolError):
    """The server reset this stream (RST_STREAM) or the connection broke under it."""

    retryable = False


class Unprocessed(ConnectionResetError):
    """The server did not process the request (GOAWAY below it, REFUSED_STREAM): safe to retry."""


class H2Stream:
    """One request/response on the connection, as the reader files it. Streams opened in one
    batch share one Condition (whoever waits for the batch wakes on any of them)."""

    def __init__(self, sid: int, log: Log, lock, cond: threading.Condition | None = None):
        self.id = sid
        self.cond = cond or threading.Condition(lock)
        self.log = log
        self.sent_at = self.head_at = 0.0
        self.headers: list[tuple[str, str]] | None = None
        self.status = 0
        self.chunks: deque = deque()
        self.ended = False
        self.reset: int | None = None
        self.unprocessed = False
        self.data_frames = 0
        self.data_bytes = 0
        self.unacked = 0
        self.trailers: list[tuple[str, str]] = []


class H2Connection:
    version = "HTTP/2"
    multiplexed = True

    def __init__(self, dialled: Dialled, where: str, *, log: Log = no_log, timeout: float = 30.0):
        self.sock = dialled.sock
        self._tls = isinstance(dialled.sock, ssl.SSLSocket)
        self.remote = dialled.remote
        self.timing = dialled.timing
        self.tls_info = dialled.tls
        self.where = where
        self.timeout = timeout
        self._cond = threading.Condition(threading.Lock())
        self._reading = False
        self._waiting: list[H2Stream] = []
        self._touched: set[H2Stream] = set()
        self._streams: dict[int, H2Stream] = {}
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._buf = bytearray(RECV)
        self._view = memoryview(self._buf)
        self._coalescer = DataCoalescer(COALESCE, MAX_FRAME)
        self.goaway: tuple[int, int, bytes] | None = None
        self.dead: BaseException | None = None
        self.got_settings = False
        # Outbound headers are already checked (check_header) and lower-cased here: h2's own
        # validation and normalisation of them cost more than the rest of a small request.
        config = h2.config.H2Configuration(client_side=True, header_encoding=None,
                                           validate_outbound_headers=False,
                                           normalize_outbound_headers=False)
        self.h2 = h2.connection.H2Connection(config=config)
        self.h2.local_settings = h2.settings.Settings(client=True, initial_values={
            h2.settings.SettingCodes.ENABLE_PUSH: 0,
            h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: STREAM_WINDOW,
            h2.settings.SettingCodes.MAX_FRAME_SIZE: MAX_FRAME,
            h2.settings.SettingCodes.MAX_HEADER_LIST_SIZE: MAX_HEADER_LIST,
        })
        self.h2.initiate_connection()
        self.h2.increment_flow_control_window(CONNECTION_WINDOW - 65535)
        self.h2.max_inbound_frame_size = MAX_FRAME
        try:
            self.h2.decoder.max_header_list_size = MAX_HEADER_LIST
        except AttributeError:
            pass
        log(">", "HTTP/2 connection preface, SETTINGS (push off, window "
                 f"{human_bytes(STREAM_WINDOW)}), WINDOW_UPDATE")
        self.sock.settimeout(timeout)
        self.sock.sendall(self.h2.data_to_send())

    # -- state --------------------------------------------------------------------------
    @property
    def active_streams(self) -> int:
        return len(self._streams)

    def can_open(self) -> bool:
        """Room for one more stream (without taking the lock: a guess that opening checks;
        h2's own count of open streams walks every stream)."""
        if self.dead is not None or self.goaway is not None or self.sock is None:
            return False
        return len(self._streams) < self.h2.remote_settings.max_concurrent_streams and \
            self.h2.highest_outbound_stream_id < 2 ** 31 - 3

    def idle_ok(self) -> bool:
        """Usable for another request: drains whatever an idle server sent (GOAWAY, PING)."""
        with self._cond:
            if self.dead is not None or self.goaway is not None or self.sock is None:
                return False
            if self._reading or self._streams:
                return True
            self._reading = True
        try:
            readable, _, _ = select.select([self.sock], [], [], 0)
            data = None
            if readable or self._pending():
                self.sock.settimeout(0.05)
                n = self.sock.recv_into(self._view)
                data = self._view[:n]
        except (OSError, ValueError):
            data = b""
        with self._cond:
            self._reading = False
            if data is not None:
                self._feed(data)
            return self.can_open()

    def close(self) -> None:
        with self._cond:
            sock, self.sock = self.sock, None
            if sock is not None and self.dead is None:
                try:
                    self.h2.close_connection()
                    sock.settimeout(1)
                    sock.sendall(self.h2.data_to_send())
                except Exception:
                    pass
            if self.dead is None:
                self.dead = ConnectionLost(f"The HTTP/2 connection to {self.where} was closed")
            self._notify_all()
        if sock is not None:
            try:
                sock.close()
            except OSError:
                pass
        for s in (self._wake_r, self._wake_w):
            try:
                s.close()
            except OSError:
                pass

    def _wake(self) -> None:
        try:
            self._wake_w.send(b"x")
        except OSError:
            pass
        if self._cond.acquire(timeout=1):
            try:
                self._notify_all()
            finally:
                self._cond.release()

    def _notify_all(self) -> None:
        self._cond.notify_all()
        for stream in self._waiting:
            stream.cond.notify()

    def _notify_some(self) -> None:
        """Wake the streams that got something, and one more waiter to take over reading."""
        touched, self._touched = self._touched, set()
        for stream in touched:
            stream.cond.notify()
        for stream in self._waiting:
            if stream not in touched:
                stream.cond.notify()
                break

    # -- sending ------------------------------------------------------------------------
    def _flush(self) -> None:
        """Send what h2 has queued (called with the lock held)."""
        data = self.h2.data_to_send()
        if data and self.sock is not None:
            self.sock.sendall(data)

    def _start(self, headers: list[tuple[str, str]], end: bool, log: Log, cond=None) -> H2Stream:
        """Open a stream with HEADERS (queued, not yet sent; lock held)."""
        self._check_dead()
        if self.goaway is not None:
            raise Unprocessed("the server sent GOAWAY")
        encoded = [(n.encode("utf-8") if n.startswith(":") else n.lower().encode("utf-8"),
                    v.encode("utf-8")) for n, v in headers
                   if n.startswith(":") or n.lower() not in _HOP_HEADERS]
        sid = self.h2.get_next_available_stream_id()
        try:
            self.h2.send_headers(sid, encoded, end_stream=end)
        except h2.exceptions.TooManyStreamsError:
            raise Unprocessed("too many streams open") from None
        stream = self._streams[sid] = H2Stream(sid, log, self._cond, cond)
        return stream

    def open_stream(self, headers: list[tuple[str, str]], body, *, token: CancelToken, log: Log,
                    timeout: float, progress=None) -> "H2Response":
        """Send a request; returns once the response head has arrived."""
        with self._cond:
            stream = self._start(headers, body is None, log)
            try:
                self._flush()
            except OSError:
                del self._streams[stream.id]
                raise
        sid = stream.id
        log("*", f"HTTP/2 stream {sid}: HEADERS" + (" (END_STREAM)" if body is None else ""))
        remove = token.add_hook(self._wake)
        try:
            if body is not None:
                self._send_body(stream, body, token, log, timeout, progress)
            sent = time.monotonic()
            self._wait(stream, lambda: stream.headers is not None, token, timeout, "head")
            first_byte = time.monotonic() - sent
        except BaseException:
            remove()
            self.abandon(stream)
            raise
        remove()
        return H2Response(self, stream, first_byte)

    # -- many requests at once ----------------------------------------------------------
    def room(self) -> int:
        """How many more streams the server lets us open now."""
        with self._cond:
            return max(0, self.h2.remote_settings.max_concurrent_streams
                       - self.h2.open_outbound_streams)

    def fits(self, size: int) -> bool:
        """Whether a body of ``size`` bytes can go out at once with its HEADERS."""
        with self._cond:
            return size <= min(self.h2.outbound_flow_control_window,
                               self.h2.remote_settings.initial_window_size,
                               self.h2.max_outbound_frame_size)

    def start_streams(self, requests: list[tuple[list[tuple[str, str]], bytes | None]],
                      log: Log) -> list[H2Stream | BaseException]:
        """Open one stream per (headers, body) and send them all in one write (writing in
        smaller groups measured slower); each body must ``fit``. Returns the streams, or
        why one could not be opened."""
        group = threading.Condition(self._cond)
        started: list[H2Stream | BaseException] = []
        with self._cond:
            for headers, data in requests:
                try:
                    stream = self._start(headers, data is None, log, group)
                    if data is not None:
                        self.h2.send_data(stream.id, data, end_stream=True)
                except (NetError, Unprocessed, h2.exceptions.H2Error) as exc:
                    stream = exc if not isinstance(exc, h2.exceptions.H2Error) else \
                        Unprocessed(f"could not open a stream ({exc})")
                started.append(stream)
            self._flush()
            sent = time.monotonic()
            for stream in started:
                if isinstance(stream, H2Stream):
                    stream.sent_at = sent
        if log is not no_log:
            opened = [s.id for s in started if isinstance(s, H2Stream)]
            if opened:
                log("*", f"HTTP/2 streams {opened[0]}-{opened[-1]}: HEADERS in one write "
                         f"({len(opened)} requests)")
        return started

    def wait_heads(self, streams: list[H2Stream], token: CancelToken, timeout: float) -> None:
        """Read until every stream has its response head, has ended or was reset (one
        thread reads for all of them). Raises the connection's error, Cancelled or
        socket.timeout."""
        if not streams:
            return
        group = H2Stream(0, no_log, self._cond, streams[0].cond)

        def ready():
            return all(s.headers is not None or s.ended or s.reset is not None for s in streams)

        remove = token.add_hook(self._wake)
        try:
            self._wait(group, ready, token, timeout, "head")
        finally:
            remove()

    def response(self, stream: H2Stream, timeout: float) -> "H2Response":
        """The response head of a stream from ``start_streams`` (after ``wait_heads``), or
        the stream's error (StreamReset, Unprocessed, the connection's, NetTimeout)."""
        with self._cond:
            if stream.headers is not None:
                return H2Response(self, stream, stream.head_at - stream.sent_at)
        try:
            with self._cond:
                self._check_stream(stream)
            if stream.ended:
                raise ProtocolError(f"{self.where} ended HTTP/2 stream {stream.id} without a "
                                    "response")
            raise NetTimeout(f"{self.where} sent no response within {timeout:g} s")
        finally:
            self.abandon(stream)

    def _send_body(self, stream, body, token, log, timeout, progress) -> None:
        sid, done, frames, last = stream.id, 0, 0, 0.0
        for chunk in body:
            view = memoryview(chunk)
            while view:
                token.check()
                with self._cond:
                    self._check_stream(stream)
                    window = min(self.h2.local_flow_control_window(sid),
                                 self.h2.max_outbound_frame_size)
                    if window > 0:
                        piece = view[:window]
                        self.h2.send_data(sid, piece.tobytes())
                        self._flush()
                        view = view[len(piece):]
                        done += len(piece)
                        frames += 1
                        continue
                try:
                    self._wait(stream, lambda: self.h2.local_flow_control_window(sid) > 0
                               or stream.reset is not None or stream.headers is not None,
                               token, timeout, "window")
                except (socket.timeout, TimeoutError):
                    raise NetTimeout(f"{self.where} stopped taking the request body: its HTTP/2 "
                                     f"flow-control window stayed shut for {timeout:g} s "
                                     f"after {human_bytes(done)}") from None
                if stream.headers is not None and stream.reset is None:
                    log("*", f"HTTP/2 stream {sid}: the server answered before taking the "
                             "whole body")
                    return
            now = time.monotonic()
            if progress and now - last >= 0.1:
                last = now
                progress(done, body.length)
        with self._cond:
            self._check_stream(stream)
            self.h2.end_stream(sid)
            self._flush()
        log("*", f"HTTP/2 stream {sid}: DATA x{frames} ({human_bytes(done)}), END_STREAM")

    # -- receiving ----------------------------------------------------------------------
    def _pending(self) -> bool:
        return isinstance(self.sock, ssl.SSLSocket) and self.sock.pending() > 0

    def _check_dead(self) -> None:
        if self.dead is not None:
            raise self.dead

    def _check_stream(self, stream: H2Stream) -> None:
        if stream.reset is not None:
            if stream.unprocessed:
                raise Unprocessed(f"stream {stream.id} was refused")
            raise StreamReset(f"{self.where} reset the HTTP/2 stream ({error_name(stream.reset)})")
        if self.dead is not None and not stream.ended:
            raise self.dead

    def _wait(self, stream: H2Stream, ready, token: CancelToken, timeout: float, what: str) -> None:
        """Read from the socket (or let another thread do it) until ``ready()``.

        Raises Cancelled, socket.timeout (nothing for ``timeout`` seconds), or the stream's /
        connection's error."""
        deadline = time.monotonic() + timeout
        with self._cond:
            try:
                self._wait_locked(stream, ready, token, deadline, timeout)
            finally:
                if self._waiting and not self._reading:
                    self._waiting[0].cond.notify()  # someone else reads from now on

    def _wait_locked(self, stream, ready, token, deadline, timeout) -> None:
        while not ready():
            self._check_stream(stream)
            if token.cancelled:
                raise Cancelled()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise socket.timeout(f"nothing on stream {stream.id} for {timeout:g} s")
            self._ack(stream, force=True)
            if self._reading:
                self._waiting.append(stream)
                try:
                    stream.cond.wait(remaining)
                finally:
                    self._waiting.remove(stream)
                continue
            self._reading = True
            self._cond.release()
            data, error = None, None
            try:
                data = self._recv(remaining)
            except BaseException as exc:  # noqa: BLE001 - filed below, under the lock
                error = exc
            finally:
                self._cond.acquire()
                self._reading = False
            if error is not None:
                if isinstance(error, (socket.timeout, TimeoutError)):
                    self._notify_some()
                    continue  # the loop decides: this stream's deadline or another's
                if token.cancelled:
                    self._notify_some()
                    raise Cancelled() from error
                self._fail(ConnectionLost(f"The HTTP/2 connection to {self.where} was lost",
                                          detail=f"{type(error).__name__}: {error}"))
                continue
            if data is not None:
                self._feed(data)
            self._notify_some()

    def _recv(self, timeout: float):
        """Bytes from the socket (a memoryview; empty at EOF), or None when woken."""
        sock = self.sock
        if sock is None:
            return b""
        if not self._pending():
            readable, _, _ = select.select([sock, self._wake_r], [], [], timeout)
            if self._wake_r in readable:
                try:
                    while self._wake_r.recv(64):
                        pass
                except OSError:
                    pass
                if sock not in readable:
                    return None
            if not readable:
                raise socket.timeout()
        view = self._view
        n = sock.recv_into(view)
        if _QUICKACK is not None and not self._tls:
            # Acknowledge at once: nginx writes h2c responses with Nagle on, and each small
            # write waited for our delayed ACK (40 ms a request, sequential h2c).
            try:
                sock.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)
            except OSError:
                pass
        if n and self._tls:
            # SSL reads return one TLS record (<= 16 KiB) at a time: gather what is already
            # there so h2 gets big batches (a third of the calls for a download).
            sock.settimeout(0)
            try:
                while n < RECV - 16384:
                    got = sock.recv_into(view[n:])
                    if not got:
                        break
                    n += got
            except (ssl.SSLWantReadError, BlockingIOError):
                pass
            finally:
                sock.settimeout(self.timeout)
        return view[:n]

    def _fail(self, error: BaseException) -> None:
        if self.dead is None:
            self.dead = error
            for stream in self._streams.values():
                if not stream.ended:
                    stream.log("!", str(error))
        self._notify_all()

    def _feed(self, data) -> None:
        """Hand bytes to h2 and file its events (lock held)."""
        if not data:
            if not self.got_settings:
                self._fail(ConnectionLost(f"{self.where} closed the connection without answering "
                                          "in HTTP/2 (does it speak HTTP/2 on this port?)"))
            elif self.goaway is not None:
                self._fail(ConnectionLost(f"{self.where} closed the HTTP/2 connection after GOAWAY"))
            else:
                self._fail(ConnectionLost(f"{self.where} closed the HTTP/2 connection"))
            return
        if not self.got_settings and bytes(data[:5]) == b"HTTP/":
            # An HTTP/1 server answering our preface (h2c to a server without it); HTTP/2
            # would wait for a 4 MB "frame" here.
            first = bytes(data[:200]).split(b"\r\n", 1)[0].decode("latin-1")
            self._fail(ProtocolError(f"{self.where} does not speak HTTP/2 here: it answered "
                                     f"with HTTP/1 ({first})"))
            return
        data = self._coalescer.feed(data)
        if not data:
            return  # only part of a frame so far
        try:
            events = self.h2.receive_data(data)
        except h2.exceptions.ProtocolError as exc:
            raw = bytes(data[:200])
            if not self.got_settings and raw.startswith(b"HTTP/"):
                first = raw.split(b"\r\n", 1)[0].decode("latin-1")
                error = ProtocolError(f"{self.where} does not speak HTTP/2 here: it answered "
                                      f"with HTTP/1 ({first})")
            elif isinstance(exc, h2.exceptions.DenialOfServiceError) or "continuation" in str(exc):
                error = ProtocolError(f"{self.where} sent an oversized HTTP/2 header block "
                                      f"(over {human_bytes(MAX_HEADER_LIST)} or endless "
                                      "CONTINUATION frames)", detail=f"{type(exc).__name__}: {exc}")
            else:
                error = ProtocolError(f"{self.where} broke the HTTP/2 protocol: {exc}",
                                      detail=f"{type(exc).__name__}: {exc}")
            try:
                self._flush()  # h2 queued a GOAWAY for it
            except OSError:
                pass
            self._fail(error)
            return
        for event in events:
            self._event(event)
        try:
            self._flush()
        except OSError as exc:
            self._fail(ConnectionLost(f"The HTTP/2 connection to {self.where} was lost",
                                      detail=str(exc)))

    def _event(self, event) -> None:
        streams = self._streams
        stream = streams.get(getattr(event, "stream_id", None) or 0)
        if stream is not None:
            self._touched.add(stream)
        elif isinstance(event, (h2.events.ConnectionTerminated, h2.events.WindowUpdated)):
            self._touched.update(streams.values())
        if isinstance(event, h2.events.DataReceived):
            stream = streams.get(event.stream_id)
            if stream is None:  # a stream we gave up on: give the window back at once
                self.h2.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                return
            stream.chunks.append((event.data, event.flow_controlled_length))
            stream.data_frames = self._coalescer.frames.get(event.stream_id, 0)
            stream.data_bytes += len(event.data)
        elif isinstance(event, h2.events.ResponseReceived):
            stream = streams.get(event.stream_id)
            if stream is not None:
                stream.headers = [(n.decode("latin-1"), v.decode("utf-8", "replace"))
                                  for n, v in event.headers]
                stream.head_at = time.monotonic()
                status = next((v for n, v in stream.headers if n == ":status"), "0")
                stream.status = int(status) if status.isdigit() else 0
        elif isinstance(event, h2.events.TrailersReceived):
            stream = streams.get(event.stream_id)
            if stream is not None:
                stream.trailers = [(n.decode("latin-1"), v.decode("utf-8", "replace"))
                                   for n, v in event.headers]
        elif isinstance(event, h2.events.StreamEnded):
            stream = streams.get(event.stream_id)
            if stream is not None:
                stream.ended = True
        elif isinstance(event, h2.events.StreamReset):
            stream = streams.get(event.stream_id)
            if stream is not None and stream.reset is None and not stream.ended:
                stream.reset = event.error_code
                stream.unprocessed = event.error_code == h2.errors.ErrorCodes.REFUSED_STREAM \
                    and stream.headers is None
                stream.log("<", f"HTTP/2 stream {stream.id}: RST_STREAM ({error_name(event.error_code)})")
        elif isinstance(event, h2.events.ConnectionTerminated):
            last = event.last_stream_id if event.last_stream_id is not None else 2 ** 31
            debug = bytes(event.additional_data or b"")
            self.goaway = (last, event.error_code, debug)
            text = (f"GOAWAY (last stream {last}, {error_name(event.error_code)}"
                    + (f": {debug[:200].decode('utf-8', 'replace')}" if debug else "") + ")")
            for stream in streams.values():
                stream.log("<", f"HTTP/2 {text}")
                if stream.id > last and not stream.ended:
                    stream.reset, stream.unprocessed = event.error_code, stream.headers is None
            if event.error_code != h2.errors.ErrorCodes.NO_ERROR:
                self._fail(ProtocolError(f"{self.where} ended the HTTP/2 connection: "
                                         f"{error_name(event.error_code)}",
                                         detail=debug.decode("utf-8", "replace") or None))
        elif isinstance(event, h2.events.RemoteSettingsChanged):
            self.got_settings = True

    def _ack(self, stream: H2Stream, force: bool = False) -> None:
        """Give consumed bytes back to the flow-control windows (lock held)."""
        if stream.unacked and (force or stream.unacked >= ACK_BATCH):
            n, stream.unacked = stream.unacked, 0
            if stream.reset is None and self.dead is None:
                try:
                    self.h2.acknowledge_received_data(n, stream.id)
                except h2.exceptions.H2Error:
                    pass  # the stream closed meanwhile: nothing to give back
                try:
                    self._flush()
                except OSError:
                    pass

    def abandon(self, stream: H2Stream) -> None:
        """Stop a stream we no longer want (cancel, timeout, error): RST_STREAM CANCEL."""
        with self._cond:
            self._streams.pop(stream.id, None)
            self._coalescer.forget(stream.id)
            unacked = stream.unacked + sum(n for _, n in stream.chunks)
            stream.chunks.clear()
            if self.dead is None and self.sock is not None:
                try:
                    if unacked:
                        self.h2.acknowledge_received_data(unacked, stream.id)
                except Exception:
                    pass
                if not stream.ended and stream.reset is None:
                    try:
                        self.h2.reset_stream(stream.id, h2.errors.ErrorCodes.CANCEL)
                        stream.log(">", f"HTTP/2 stream {stream.id}: RST_STREAM (CANCEL)")
                    except h2.exceptions.H2Error:
                        pass
                try:
                    self._flush()
                except OSError:
                    pass
            self._notify_some()

    def _finished(self, stream: H2Stream) -> None:
        with self._cond:
            self._streams.pop(stream.id, None)
            self._coalescer.forget(stream.id)
            self._ack(stream, force=True)
            self._notify_some()

    def read(self, stream: H2Stream, token: CancelToken, timeout: float):
        """The next body bytes of ``stream`` (b"" at END_STREAM): every DATA payload already
        received, joined (up to about 1 MiB), so small frames cost one call, not one each."""
        with self._cond:
            chunks = stream.chunks
            if chunks:
                data, n = chunks.popleft()
                if chunks:
                    parts, size = [data], len(data)
                    while chunks and size < JOIN:
                        more, m = chunks.popleft()
                        parts.append(more)
                        size += len(more)
                        n += m
                    data = b"".join(parts)
                stream.unacked += n
                if stream.unacked >= ACK_BATCH:
                    self._ack(stream)
                return data
            if stream.ended:
                return b""
        self._wait(stream, lambda: bool(stream.chunks) or stream.ended, token, timeout, "body")
        return self.read(stream, token, timeout)


class H2Response:
    """The head of an HTTP/2 response and a reader for its body (same shape as H1Response)."""

    def __init__(self, conn: H2Connection, stream: H2Stream, first_byte: float):
        self.conn, self.stream = conn, stream
        self.version = "HTTP/2"
        self.status = stream.status
        self.reason = ""
        self.headers = [(n, v) for n, v in stream.headers if not n.startswith(":")]
        self.fields: dict[str, str] = {}
        """Header name (lower case in HTTP/2) to its first value."""
        for name, value in self.headers:
            self.fields.setdefault(name, value)
        self.pseudo = [(n, v) for n, v in stream.headers if n.startswith(":")]
        self.first_byte = first_byte
        self.will_close = False
        self.complete = stream.ended and not stream.chunks
        length = self.fields.get("content-length")
        self.length = int(length) if length and length.isdigit() else None
        self.token = CancelToken()
        self.timeout = conn.timeout
        self._closed = False

    def read(self):
        if self.complete:
            return b""
        try:
            data = self.conn.read(self.stream, self.token, self.timeout)
        except StreamReset as exc:
            raise exc
        if not data and self.stream.ended:
            self.complete = True
        return data

    @property
    def frames(self) -> str:
        s = self.stream
        parts = ["HEADERS"]
        if s.data_frames:
            parts.append(f"DATA x{s.data_frames} ({human_bytes(s.data_bytes)})")
        if s.trailers:
            parts.append("HEADERS (trailers)")
        if s.ended:
            parts.append("END_STREAM")
        if s.reset is not None:
            parts.append(f"RST_STREAM ({error_name(s.reset)})")
        return f"HTTP/2 stream {s.id}: " + ", ".join(parts)

    @property
    def trailers(self) -> list[tuple[str, str]]:
        return self.stream.trailers

    def done(self) -> None:
        if not self._closed:
            self._closed = True
            self.conn._finished(self.stream)

    def abort(self) -> None:
        if not self._closed:
            self._closed = True
            self.conn.abandon(self.stream)

    @property
    def reusable(self) -> bool:
        return self.complete
