"""An original-style getfile server and client, written from the protocol description.

The original server reads one line, opens it as a path (relative paths from its working
folder; here ``base`` stands in for the working folder so tests need not chdir), streams
the bytes in 1 KiB blocks and closes; on any error it just closes. The original client
sends ``path\\n``, reads 1 KiB blocks to EOF and stores them under the base name.
The benchmark uses these too, as the reference implementation.
"""

from __future__ import annotations

import os
import socket
import threading


class OriginalServer:
    """A thread-per-client server that behaves like the original getfile server."""

    def __init__(self, base, host: str = "127.0.0.1", port: int = 0):
        self.base = str(base)
        self.listener = socket.create_server((host, port))
        self.port = self.listener.getsockname()[1]
        self.requests: list[bytes] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._stopped = False

    def start(self) -> "OriginalServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped = True
        try:
            self.listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.listener.close()
        self._thread.join(5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _accept(self) -> None:
        while not self._stopped:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._client, args=(conn,), daemon=True).start()

    def _client(self, conn: socket.socket) -> None:
        with conn:
            try:
                data = conn.recv(1024)
                self.requests.append(data)
                path = data.decode().strip()
                # like the original: open whatever the line names (relative to the cwd)
                with open(os.path.join(self.base, path), "rb") as f:
                    while True:
                        block = f.read(1024)
                        if not block:
                            break
                        conn.sendall(block)
            except Exception:
                pass  # the original cannot report errors: it just closes


def original_fetch(host: str, port: int, path: str, dest_dir) -> str:
    """Fetch like the original client; returns the local file's path."""
    local = os.path.join(str(dest_dir), os.path.basename(path))
    with socket.create_connection((host, port), timeout=30) as sock:
        sock.sendall(path.encode() + b"\n")
        with open(local, "wb") as f:
            while True:
                block = sock.recv(1024)
                if not block:
                    break
                f.write(block)
    return local


def _main(argv) -> None:
    """``python -m tests.support.getfile_original serve BASE PORT`` or ``fetch HOST PORT PATH DEST``."""
    if argv[0] == "serve":
        server = OriginalServer(argv[1], port=int(argv[2])).start()
        print(f"listening on {server.port}", flush=True)
        server._thread.join()
    elif argv[0] == "fetch":
        original_fetch(argv[1], int(argv[2]), argv[3], argv[4])


if __name__ == "__main__":
    import sys
    _main(sys.argv[1:])
