"""Cancellation tokens shared by the task runner and the protocol cores.

A core checks ``token.check()`` between chunks and registers the sockets it
blocks on with ``token.watch(sock)``: cancelling shuts those sockets down, so a
worker blocked in ``recv`` wakes up at once instead of waiting for a timeout.
"""

from __future__ import annotations

import socket
import threading
from contextlib import contextmanager
from typing import Callable, Iterator

from .errors import Cancelled


class CancelToken:
    """A thread-safe cancel flag with hooks that run when it is set."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._hooks: list[Callable[[], None]] = []

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def cancel(self) -> None:
        """Set the flag and run every registered hook once."""
        with self._lock:
            if self._event.is_set():
                return
            self._event.set()
            hooks, self._hooks = self._hooks, []
        for hook in hooks:
            try:
                hook()
            except Exception:  # a hook that fails must not stop the others
                pass

    def check(self) -> None:
        """Raise Cancelled if the token was cancelled."""
        if self._event.is_set():
            raise Cancelled()

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds``; return True at once if cancelled meanwhile."""
        return self._event.wait(seconds)

    def add_hook(self, hook: Callable[[], None]) -> Callable[[], None]:
        """Run ``hook`` on cancel (at once if already cancelled); returns a remover."""
        with self._lock:
            if not self._event.is_set():
                self._hooks.append(hook)

                def remove() -> None:
                    with self._lock:
                        if hook in self._hooks:
                            self._hooks.remove(hook)

                return remove
        hook()
        return lambda: None

    @contextmanager
    def watch(self, sock: socket.socket) -> Iterator[socket.socket]:
        """While inside the block, cancelling shuts ``sock`` down."""
        remove = self.add_hook(lambda: shutdown_quietly(sock))
        try:
            yield sock
        finally:
            remove()


def shutdown_quietly(sock) -> None:
    """Shut a socket down both ways and close it, ignoring errors."""
    for action in (lambda: sock.shutdown(socket.SHUT_RDWR), sock.close):
        try:
            action()
        except OSError:
            pass

