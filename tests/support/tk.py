"""Driving a real Tk event loop from tests."""

from __future__ import annotations

import time
from typing import Callable


def pump(root, until: Callable[[], bool] | None = None, timeout: float = 10.0,
         message: str = "condition") -> None:
    """Run the Tk event loop until ``until()`` is true (or for ``timeout`` if no condition).

    Fails the test with ``message`` when the condition is not met in time.
    """
    deadline = time.monotonic() + timeout
    while True:
        root.update()
        if until is not None and until():
            return
        if time.monotonic() >= deadline:
            if until is None:
                return
            raise AssertionError(f"timed out after {timeout} s waiting for {message}")
        time.sleep(0.005)


def click(widget, x: int = 5, y: int = 5, button: int = 1) -> None:
    """A real mouse press and release at (x, y) inside ``widget``."""
    widget.event_generate(f"<ButtonPress-{button}>", x=x, y=y)
    widget.event_generate(f"<ButtonRelease-{button}>", x=x, y=y)


def double_click(widget, x: int = 5, y: int = 5) -> None:
    """Two presses in quick succession, which Tk turns into <Double-1>
    (``event_generate("<Double-1>")`` itself is refused by Tk)."""
    click(widget, x, y)
    click(widget, x, y)
