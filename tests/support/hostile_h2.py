"""A hostile HTTP/2 server written with h2's server side (cleartext h2c, optionally TLS).

The request path picks the misbehaviour:

- ``/ok``, ``/ok?size=N``            a normal answer (N bytes of ``pattern``)
- ``/goaway-mid-body``               HEADERS, half the body, GOAWAY (NO_ERROR), then hangs up
- ``/goaway-unprocessed``            first connection only: GOAWAY with last stream 0 (the
                                     request was not processed: a client may retry it)
- ``/goaway-error``                  GOAWAY PROTOCOL_ERROR with a debug text, then hangs up
- ``/reset-mid-body``                HEADERS, half the body, RST_STREAM INTERNAL_ERROR (the
                                     connection stays usable)
- ``/refuse-stream``                 first request only: RST_STREAM REFUSED_STREAM before HEADERS
- ``/huge-headers?size=N``           a header block of N bytes (CONTINUATION frames)
- ``/endless-continuation``          HEADERS without END_HEADERS, then CONTINUATION forever
- ``/stall``                         HEADERS and 10 body bytes, then silence
- ``/upload-stall``                  never opens the flow-control window for a request body
- ``/slow?ms=N``                     answers after N ms (for multiplexing tests)
- ``/trailers``                      a body, then trailers (a second HEADERS with END_STREAM)

A second listener (``http1_port``) answers every connection with ``HTTP/1.1 400`` (a server
that does not speak h2c).
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
from urllib.parse import parse_qsl, urlsplit

import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.exceptions
import h2.settings
import pytest
from hyperframe.frame import ContinuationFrame, HeadersFrame

from tests.support.httpapp import pattern


class HostileH2:
    def __init__(self, tls: ssl.SSLContext | None = None):
        self.tls = tls
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.http1 = socket.create_server(("127.0.0.1", 0))
        self.http1_port = self.http1.getsockname()[1]
        self.connections = 0
        self.seen: list[str] = []
        self.first_goaway_done = False
        self.refused_once = False
        self.active = 0
        self.max_active = 0
        self._count = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._accept, daemon=True),
                         threading.Thread(target=self._accept_http1, daemon=True)]
        for t in self._threads:
            t.start()

    def url(self, path: str) -> str:
        scheme = "https" if self.tls else "http"
        host = "localhost" if self.tls else "127.0.0.1"
        return f"{scheme}://{host}:{self.port}{path}"

    def close(self) -> None:
        self._stop.set()
        for s in (self.server, self.http1):
            try:
                s.close()
            except OSError:
                pass

    # -- plumbing -----------------------------------------------------------------------
    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                sock, _ = self.server.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(sock, self.connections), daemon=True).start()

    def _accept_http1(self) -> None:
        while not self._stop.is_set():
            try:
                sock, _ = self.http1.accept()
            except OSError:
                return
            try:
                sock.settimeout(2)
                sock.recv(65536)
                sock.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n"
                             b"Connection: close\r\n\r\n")
            except OSError:
                pass
            finally:
                sock.close()

    def _serve(self, sock: socket.socket, number: int) -> None:
        try:
            if self.tls is not None:
                sock = self.tls.wrap_socket(sock, server_side=True)
            _Conn(self, sock, number).run()
        except (OSError, ssl.SSLError, h2.exceptions.H2Error):
            pass
        finally:
            try:
                sock.close()
            except OSError:
                pass


class _Conn:
    def __init__(self, app: HostileH2, sock: socket.socket, number: int):
        self.app, self.sock, self.number = app, sock, number
        config = h2.config.H2Configuration(client_side=False, header_encoding="utf-8")
        self.h2 = h2.connection.H2Connection(config=config)
        self.lock = threading.Lock()
        self.closed = False
        self.upload_stall: set[int] = set()
        self.bodies: dict[int, int] = {}

    def send(self) -> None:
        data = self.h2.data_to_send()
        if data:
            self.sock.sendall(data)

    def run(self) -> None:
        self.h2.initiate_connection()
        self.send()
        while not self.closed:
            data = self.sock.recv(65536)
            if not data:
                return
            with self.lock:
                events = self.h2.receive_data(data)
                self.send()
            for event in events:
                if isinstance(event, h2.events.RequestReceived):
                    headers = dict(event.headers)
                    path = headers.get(":path", "/")
                    self.app.seen.append(path)
                    if path.startswith("/upload-stall"):
                        self.upload_stall.add(event.stream_id)
                    if event.stream_ended or not path.startswith("/upload"):
                        threading.Thread(target=self.respond, args=(event.stream_id, path),
                                         daemon=True).start()
                elif isinstance(event, h2.events.DataReceived):
                    self.bodies[event.stream_id] = self.bodies.get(event.stream_id, 0) + len(event.data)
                    if event.stream_id not in self.upload_stall:
                        with self.lock:
                            self.h2.acknowledge_received_data(event.flow_controlled_length,
                                                              event.stream_id)
                            self.send()
                elif isinstance(event, h2.events.StreamEnded):
                    pass
                elif isinstance(event, h2.events.ConnectionTerminated):
                    return

    def respond(self, sid: int, path: str) -> None:
        parts = urlsplit(path)
        query = dict(parse_qsl(parts.query))
        route = parts.path.strip("/").replace("-", "_") or "ok"
        app = self.app
        with app._count:
            app.active += 1
            app.max_active = max(app.max_active, app.active)
        try:
            getattr(self, "r_" + route, self.r_ok)(sid, query)
        except (OSError, h2.exceptions.H2Error):
            self.closed = True
        finally:
            with app._count:
                app.active -= 1

    def headers(self, sid: int, extra=(), end=False, status="200") -> None:
        with self.lock:
            self.h2.send_headers(sid, [(":status", status), ("server", "hostile-h2"), *extra],
                                 end_stream=end)
            self.send()

    def data(self, sid: int, payload: bytes, end=False) -> None:
        view = memoryview(payload)
        while view:
            with self.lock:
                window = min(self.h2.local_flow_control_window(sid), self.h2.max_outbound_frame_size)
                if window > 0:
                    self.h2.send_data(sid, view[:window].tobytes())
                    self.send()
                    view = view[window:]
                    continue
            time.sleep(0.005)
        if end:
            with self.lock:
                self.h2.end_stream(sid)
                self.send()

    def hang_up(self) -> None:
        self.closed = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # -- routes -------------------------------------------------------------------------
    def r_ok(self, sid, query):
        body = pattern(int(query.get("size", 5)))
        self.headers(sid, [("content-length", str(len(body)))])
        self.data(sid, body, end=True)

    def r_trailers(self, sid, query):
        self.headers(sid, [("content-type", "text/plain")])
        self.data(sid, b"with trailers")
        with self.lock:
            self.h2.send_headers(sid, [("grpc-status", "0"), ("x-checksum", "abc")], end_stream=True)
            self.send()

    def r_slow(self, sid, query):
        time.sleep(int(query.get("ms", 200)) / 1000)
        self.r_ok(sid, query)

    def r_goaway_mid_body(self, sid, query):
        body = pattern(200_000)
        self.headers(sid, [("content-length", str(len(body)))])
        self.data(sid, body[:100_000])
        with self.lock:
            self.h2.close_connection(h2.errors.ErrorCodes.NO_ERROR, last_stream_id=sid)
            self.send()
        time.sleep(0.05)
        self.hang_up()

    def r_goaway_unprocessed(self, sid, query):
        if not self.app.first_goaway_done:
            self.app.first_goaway_done = True
            with self.lock:
                self.h2.close_connection(h2.errors.ErrorCodes.NO_ERROR, last_stream_id=0)
                self.send()
            time.sleep(0.05)
            self.hang_up()
            return
        self.r_ok(sid, query)

    def r_goaway_error(self, sid, query):
        with self.lock:
            self.h2.close_connection(h2.errors.ErrorCodes.PROTOCOL_ERROR, last_stream_id=sid,
                                     additional_data=b"hostile says no")
            self.send()
        time.sleep(0.05)
        self.hang_up()

    def r_reset_mid_body(self, sid, query):
        body = pattern(200_000)
        self.headers(sid, [("content-length", str(len(body)))])
        self.data(sid, body[:100_000])
        time.sleep(0.05)
        with self.lock:
            self.h2.reset_stream(sid, h2.errors.ErrorCodes.INTERNAL_ERROR)
            self.send()

    def r_refuse_stream(self, sid, query):
        if not self.app.refused_once:
            self.app.refused_once = True
            with self.lock:
                self.h2.reset_stream(sid, h2.errors.ErrorCodes.REFUSED_STREAM)
                self.send()
            return
        self.r_ok(sid, query)

    def r_huge_headers(self, sid, query):
        size = int(query.get("size", 300_000))
        # Raw frames: h2's own send_headers Huffman-codes in pure Python (seconds for this).
        with self.lock:
            block = self.h2.encoder.encode([(":status", "200"), ("x-huge", "h" * size)],
                                           huffman=False)
            pieces = [block[i:i + 16384] for i in range(0, len(block), 16384)]
            frames = [HeadersFrame(sid, data=pieces[0], flags=["END_STREAM"])]
            frames += [ContinuationFrame(sid, data=p) for p in pieces[1:]]
            frames[-1].flags.add("END_HEADERS")
            self.sock.sendall(b"".join(f.serialize() for f in frames))

    def r_endless_continuation(self, sid, query):
        with self.lock:
            block = self.h2.encoder.encode([(":status", "200")])
            first = HeadersFrame(sid, data=block)  # no END_HEADERS
            self.sock.sendall(first.serialize())
        filler = self.h2.encoder.encode([("x-more", "c" * 1000)])
        for _ in range(10_000):
            if self.closed:
                return
            self.sock.sendall(ContinuationFrame(sid, data=filler).serialize())

    def r_stall(self, sid, query):
        self.headers(sid, [("content-length", "1000")])
        self.data(sid, b"s" * 10)
        time.sleep(float(query.get("for", 5)))

    def r_upload_stall(self, sid, query):
        time.sleep(float(query.get("for", 5)))


@pytest.fixture
def hostile_h2():
    server = HostileH2()
    yield server
    server.close()
