"""Fixtures for the chat tests: ngircd and IRC sessions running in threads."""

from __future__ import annotations

import threading
import time

import pytest

from netgui.net.cancel import CancelToken
from netgui.net.chat.irc import IrcProfile, IrcSession
from tests.support.ngircd import Ngircd


@pytest.fixture
def ngircd(tmp_path):
    server = Ngircd(tmp_path / "ngircd").start()
    yield server
    server.stop()


class Runner:
    """An IrcSession in a thread, with every event and transcript line it produced."""

    def __init__(self, profile: IrcProfile, **kw) -> None:
        self.events = []
        self.logs = []
        self.token = CancelToken()
        self.lock = threading.Lock()
        kw.setdefault("rate", 50)
        kw.setdefault("burst", 20)
        kw.setdefault("timeout", 5)
        self.session = IrcSession(profile, self._on_event, token=self.token,
                                  log=lambda d, t: self.logs.append((d, t)), **kw)
        self.error = None
        self.finished = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _on_event(self, events) -> None:
        with self.lock:
            self.events.extend(events)

    def _run(self) -> None:
        try:
            self.session.run()
        except Exception as exc:  # recorded for the test to assert on
            self.error = exc
        finally:
            self.finished.set()

    def start(self) -> "Runner":
        self.thread.start()
        return self

    def say(self, window, text) -> None:
        self.session.send_input(window, text)

    def find(self, pred):
        with self.lock:
            return [e for e in self.events if pred(e)]

    def wait_for(self, pred, timeout=10, what="event"):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.find(pred)
            if found:
                return found[-1]
            if self.finished.is_set() and not self.find(pred):
                break
            time.sleep(0.01)
        raise AssertionError(f"no {what} within {timeout} s; error={self.error!r}; last events: "
                             f"{[(e.kind, e.window, e.text, e.data) for e in self.events[-15:]]}")

    def wait_connected(self, timeout=10):
        return self.wait_for(lambda e: e.kind == "state" and e.data == "connected", timeout, "connection")

    def stop(self) -> None:
        self.token.cancel()
        self.thread.join(10)


@pytest.fixture
def irc_runner():
    runners = []

    def make(profile, **kw):
        runner = Runner(profile, **kw).start()
        runners.append(runner)
        return runner

    yield make
    for runner in runners:
        runner.stop()
