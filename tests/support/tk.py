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
