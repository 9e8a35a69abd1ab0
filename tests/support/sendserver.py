"""A test peer: the historical SEND-variant line-chat server (buffers lines until ``SEND``)."""

from __future__ import annotations

import socket
import threading


class SendVariantServer:
    """Thread-per-client server: lines are kept until a line ``SEND``, then relayed to all."""

    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.clients: list[socket.socket] = []
        self.lock = threading.Lock()
        self.running = True
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while self.running:
            try:
                conn, addr = self.listener.accept()
            except OSError:
                return
            with self.lock:
                self.clients.append(conn)
            threading.Thread(target=self._serve, args=(conn, addr), daemon=True).start()

    def _serve(self, conn, addr):
        peer = f"{addr[0]}:{addr[1]}"
        conn.sendall(f"Welcome to the chat server, {peer}\n".encode())
        buffered = []
        try:
            self._relay_until_eof(conn, peer, buffered)
        except OSError:
            pass
        with self.lock:
            self.clients.remove(conn)
        conn.close()

    def _relay_until_eof(self, conn, peer, buffered):
        with conn.makefile("rb") as f:
            for raw in f:
                line = raw.rstrip(b"\r\n").decode("utf-8", "replace")
                if line == "SEND":
                    with self.lock:
                        for text in buffered:
                            for c in self.clients:
                                try:
                                    c.sendall(f"{peer}: {text}\n".encode())
                                except OSError:
                                    pass
                    buffered.clear()
                else:
                    buffered.append(line)

    def close(self):
        self.running = False
        self.listener.close()
        with self.lock:
            for c in self.clients:
                try:
                    c.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
