"""Helpers for starting real test peers on loopback ports."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    """A port that is free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, host: str = "127.0.0.1", timeout: float = 10.0,
                  proc: subprocess.Popen | None = None) -> None:
    """Wait until something accepts TCP connections on host:port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
            pytest.fail(f"peer exited with {proc.returncode} before listening on {port}: {out}")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    pytest.fail(f"nothing listens on {host}:{port} after {timeout} s")


def require_binary(name: str) -> str:
    """Path of a peer's program; a missing peer fails the test (never skips it)."""
    path = shutil.which(name) or next(
        (str(p) for p in (Path("/usr/sbin") / name, Path("/sbin") / name) if p.exists()), None)
    if path is None:
        pytest.fail(f"test peer {name!r} is not installed: run scripts/run-tests.sh "
                    "(it installs the test servers)")
    return path


def stop_process(proc: subprocess.Popen, timeout: float = 5.0) -> None:
    """Terminate a peer process and wait for it to exit."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)


def in_ci() -> bool:
    return bool(os.environ.get("CI"))


class FaultyRelay:
    """A TCP relay in front of a real server that, once ``armed``, misbehaves after passing
    ``after`` more bytes from the server: ``mode`` "drop" closes both sides, "stall" stops
    forwarding (the connection stays open). Use as a context manager; ``port`` is its own."""

    def __init__(self, target_port: int, mode: str = "drop", after: int = 0):
        import threading
        self.target_port, self.mode, self.after = target_port, mode, after
        self.armed = threading.Event()
        self.tripped = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._sockets: list[socket.socket] = [self._listener]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        import threading
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self.target_port))
            self._sockets += [client, server]
            threading.Thread(target=self._pipe, args=(client, server, False), daemon=True).start()
            threading.Thread(target=self._pipe, args=(server, client, True), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket, from_server: bool) -> None:
        passed = 0
        try:
            while data := src.recv(65536):
                if from_server and self.armed.is_set() and passed + len(data) > self.after:
                    dst.sendall(data[:self.after - passed])
                    self.tripped.set()
                    if self.mode == "stall":
                        while src.recv(65536):  # swallow the rest; the client hears nothing
                            pass
                        return
                    break
                if from_server and self.armed.is_set():
                    passed += len(data)
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            _hang_up(s)

    def close(self) -> None:
        for s in self._sockets:
            _hang_up(s)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()



def _hang_up(sock: socket.socket) -> None:
    """Shut a socket down and close it (a bare close waits for another thread's recv)."""
    for step in (lambda: sock.shutdown(socket.SHUT_RDWR), sock.close):
        try:
            step()
        except OSError:
            pass
