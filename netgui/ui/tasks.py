"""The task runner: socket work in worker threads, results on the Tk thread.

Workers never touch a widget. They post messages to one ``queue.Queue``; the Tk
thread drains it from an ``after()`` callback, spending at most a small time
budget per tick, so a flood of messages cannot freeze the window. Progress
messages are coalesced: within one tick only the newest progress of a task is
delivered (always before any later message of that task, so order is kept).
"""

from __future__ import annotations

import functools
import itertools
import queue
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from typing import Any, Callable

from netgui.net.cancel import CancelToken
from netgui.net.errors import Cancelled, NetError, translate
from netgui.net.redact import redact

POLL_MS = 50
BUSY_POLL_MS = 4     # while tasks start or report: results reach the screen sooner
BUSY_SECONDS = 1.0   # how long after the last submit or message the runner counts as busy
BUDGET_S = 0.02
GIL_SWITCH_S = 0.001
ASK_TIMEOUT_S = 600.0   # how long ctx.ask waits for the user by default

RUNNING, DONE, FAILED, CANCELLED = "running", "done", "failed", "cancelled"


@dataclass
class Progress:
    """Where a task stands: bytes (or items) done, total if known, rate and ETA."""

    done: float
    total: float | None
    rate: float | None = None
    eta: float | None = None

    @property
    def fraction(self) -> float | None:
        if not self.total:
            return None
        return min(1.0, self.done / self.total)


class RateMeter:
    """A smoothed rate (units per second) over a sliding window of samples."""

    def __init__(self, window: float = 2.0):
        self.window = window
        self._samples: list[tuple[float, float]] = []

    def add(self, done: float, now: float | None = None) -> float | None:
        now = time.monotonic() if now is None else now
        self._samples.append((now, done))
        while len(self._samples) > 2 and now - self._samples[0][0] > self.window:
            self._samples.pop(0)
        (t0, d0), (t1, d1) = self._samples[0], self._samples[-1]
        if t1 - t0 < 0.05:
            return None
        return max(0.0, (d1 - d0) / (t1 - t0))


class Question:
    """A worker's question for the Tk thread (``TaskContext.ask``): ``kind`` and ``payload``
    say what to ask; ``answer(value)`` (Tk thread) releases the worker. The first answer
    counts; once the worker stopped waiting (cancelled, timed out) ``open`` is False and
    later answers are ignored."""

    def __init__(self, kind: str, payload: Any):
        self.kind = kind
        self.payload = payload
        self.value: Any = None
        self._answered = threading.Event()
        self._lock = threading.Lock()

    @property
    def open(self) -> bool:
        return not self._answered.is_set()

    def answer(self, value: Any = None) -> None:
        with self._lock:
            if not self._answered.is_set():
                self.value = value
                self._answered.set()

    def __repr__(self) -> str:
        return f"<Question {self.kind} {'open' if self.open else 'answered'}>"


class TaskContext:
    """What a worker function gets: the cancel token and ways to report back."""

    PROGRESS_INTERVAL = 0.03

    def __init__(self, token: CancelToken, post: Callable[[str, Any], None]):
        self.token = token
        self._post = post
        self._last_progress = 0.0

    @property
    def cancelled(self) -> bool:
        return self.token.cancelled

    def check(self) -> None:
        """Raise Cancelled if the user cancelled."""
        self.token.check()

    def progress(self, done: float, total: float | None = None, force: bool = False) -> None:
        """Report progress; posted at most every 30 ms (and always when complete or forced)."""
        now = time.monotonic()
        if force or (total is not None and done >= total) or now - self._last_progress >= self.PROGRESS_INTERVAL:
            self._last_progress = now
            self._post("progress", (done, total))

    def log(self, direction: str, text: str) -> None:
        """A transcript line: direction '>' sent, '<' received, '*' info, '!' error."""
        self._post("log", (direction, "\n".join(redact(line) for line in str(text).split("\n")),
                           time.time()))

    def status(self, text: str) -> None:
        self._post("status", text)

    def event(self, kind: str, payload: Any = None) -> None:
        """A custom message for the tab (a batch of rows, a chat line, …)."""
        self._post("event", (kind, payload))

    def ask(self, kind: str, payload: Any = None, timeout: float = ASK_TIMEOUT_S) -> Any:
        """Ask the Tk thread and wait for the answer (a host key to confirm, a passphrase, …).

        The task's ``on_ask(question)`` runs on the Tk thread and calls ``question.answer(value)``
        then or later (from a dialog). Returns that value; None when the task has no ``on_ask``
        or nobody answered within ``timeout`` seconds. Raises Cancelled if the task is cancelled
        while waiting."""
        question = Question(kind, payload)
        unhook = self.token.add_hook(question.answer)   # cancel releases the wait
        try:
            self._post("ask", question)
            question._answered.wait(timeout)
        finally:
            unhook()
        question.answer(None)   # closes it if the wait timed out
        self.token.check()
        return question.value


class Task:
    """A handle on one piece of background work."""

    def __init__(self, runner: "TaskRunner", task_id: int, name: str, callbacks: dict[str, Callable]):
        self.runner = runner
        self.id = task_id
        self.name = name
        self.token = CancelToken()
        self.state = RUNNING
        self.result: Any = None
        self.error: NetError | None = None
        self.status_text = ""
        self.progress: Progress | None = None
        self.started = time.monotonic()
        self.finished: float | None = None
        self.thread: threading.Thread | None = None
        self._callbacks = callbacks
        self._meter = RateMeter()
        self.origin: Any = None
        """What the work belongs to (a ``netgui.timeline.Origin``: tab, item, protocol, host),
        given to ``submit(origin=...)`` or set before the first delivery; log listeners get it."""

    @property
    def running(self) -> bool:
        return self.state == RUNNING

    def cancel(self) -> None:
        """Ask the worker to stop: sockets it registered are shut down at once."""
        self.token.cancel()

    def _call(self, name: str, *args) -> None:
        callback = self._callbacks.get(name)
        if callback is None:
            return
        try:
            callback(*args)
        except Exception:  # a broken callback must not stop the queue
            print(f"netgui: error in {name} callback of task {self.name!r}:", file=sys.stderr)
            traceback.print_exc()

    def _deliver(self, kind: str, payload: Any) -> None:
        if kind == "progress":
            done, total = payload
            rate = self._meter.add(done)
            eta = (total - done) / rate if rate and total else None
            self.progress = Progress(done, total, rate, eta)
            self._call("on_progress", self.progress)
        elif kind == "log":
            direction, text, when = payload
            self._call("on_log", direction, text)
            self.runner._notify_log(self, direction, text, when)
        elif kind == "status":
            self.status_text = payload
            self._call("on_status", payload)
            self.runner._notify_status(self, payload)
        elif kind == "event":
            self._call("on_event", *payload)
        elif kind == "ask":
            if "on_ask" in self._callbacks and payload.open:
                self._call("on_ask", payload)
            else:           # nobody to ask: the worker gets None at once
                payload.answer(None)
        elif kind == "result":
            self.state, self.result = DONE, payload
            self._call("on_result", payload)
        elif kind == "error":
            self.state, self.error = (CANCELLED if isinstance(payload, Cancelled) else FAILED), payload
            if self.origin is not None:
                payload.origin = self.origin  # an error line can offer Diagnose on that connection
            if self.state == FAILED and payload.detail:
                self._call("on_log", "!", redact(payload.detail))
            self._call("on_error", payload)
            if self.state == FAILED:
                self.runner._notify_log(self, "!", str(payload), time.time())
        elif kind == "finished":
            self.finished = time.monotonic()
            self.runner._forget(self)
            self._call("on_done", self)

    def __repr__(self) -> str:
        return f"<Task {self.id} {self.name!r} {self.state}>"


def _post(q: queue.Queue, task: "Task", kind: str, payload: Any) -> None:
    q.put((task, kind, payload))


def _run_worker(q: queue.Queue, task: Task, ctx: TaskContext, fn, args, kwargs) -> None:
    """The body of a worker thread: run ``fn`` and post its outcome.

    The worker drops its references (the function may be a bound method of a tab,
    which reaches Tk objects) before posting "finished": Tk objects must never be
    freed from a worker thread, so the Tk thread has to hold the last reference.
    """
    token = task.token
    try:
        outcome = ("result", fn(ctx, *args, **kwargs))
        if token.cancelled:
            outcome = ("error", Cancelled())
    except BaseException as exc:  # every failure becomes one human line
        if token.cancelled or isinstance(exc, Cancelled):
            outcome = ("error", Cancelled())
        else:
            err = translate(exc)
            if not isinstance(exc, NetError):
                err.detail = "".join(traceback.format_exception(exc)).strip()
            outcome = ("error", err)
        del exc
    del fn, args, kwargs, ctx
    q.put((task,) + outcome)
    final = (task, "finished", None)
    del task, outcome
    q.put(final)


class TaskRunner:
    """Runs functions in worker threads and delivers what they report on the Tk thread."""

    def __init__(self, widget, poll_ms: int = POLL_MS, budget: float = BUDGET_S):
        # _tkinter releases the GIL around every Tcl call; with the default 5 ms switch
        # interval a busy worker can hold the Tk thread up for 5 ms per call.
        sys.setswitchinterval(min(sys.getswitchinterval(), GIL_SWITCH_S))
        self.widget = widget
        self.poll_ms = poll_ms
        self.budget = budget
        self.queue: queue.Queue = queue.Queue()
        self._ids = itertools.count(1)
        self._tasks: dict[int, Task] = {}
        self._lock = threading.Lock()
        self._after_id = None
        self._busy_until = 0.0
        self._status_listeners: list[Callable[[Task | None, str], None]] = []
        self._log_listeners: list[Callable[[Task, str, str, float], None]] = []
        self._closed = False
        self._schedule(poll_ms)

    # -- public API ---------------------------------------------------------
    def submit(self, fn: Callable[..., Any], *args, name: str = "", on_result=None, on_error=None,
               on_done=None, on_progress=None, on_log=None, on_status=None, on_event=None,
               on_ask=None, origin=None, **kwargs) -> Task:
        """Run ``fn(ctx, *args, **kwargs)`` in a worker thread; returns its Task handle.
        ``origin``: what the work belongs to (see ``Task.origin``)."""
        callbacks = {k: v for k, v in dict(on_result=on_result, on_error=on_error, on_done=on_done,
                                          on_progress=on_progress, on_log=on_log, on_status=on_status,
                                          on_event=on_event, on_ask=on_ask).items() if v is not None}
        task = Task(self, next(self._ids), name or getattr(fn, "__name__", "task"), callbacks)
        task.origin = origin
        with self._lock:
            self._tasks[task.id] = task
        ctx = TaskContext(task.token, functools.partial(_post, self.queue, task))
        thread = threading.Thread(target=_run_worker, args=(self.queue, task, ctx, fn, args, kwargs),
                                  name=f"netgui-task-{task.id}", daemon=True)
        task.thread = thread
        thread.start()
        self._busy_until = time.monotonic() + BUSY_SECONDS
        return task

    def active(self) -> list[Task]:
        """Tasks whose workers have not finished (or whose last messages are not delivered)."""
        with self._lock:
            return list(self._tasks.values())

    def cancel_all(self) -> None:
        for task in self.active():
            task.cancel()

    def shutdown(self, timeout: float = 3.0) -> bool:
        """Cancel everything and wait for workers; True if all stopped in time."""
        self.cancel_all()
        deadline = time.monotonic() + timeout
        for task in self.active():
            if task.thread is not None:
                task.thread.join(max(0.0, deadline - time.monotonic()))
        self._closed = True
        if self._after_id is not None:
            try:
                self.widget.after_cancel(self._after_id)
            except Exception:
                pass
            self._after_id = None
        return all(t.thread is None or not t.thread.is_alive() for t in self.active())

    def add_status_listener(self, listener: Callable[[Task | None, str], None]) -> None:
        """``listener(task, text)`` runs on the Tk thread when a task changes its status line
        (to ``""`` when the task has finished)."""
        self._status_listeners.append(listener)

    def add_log_listener(self, listener: Callable[[Task, str, str, float], None]) -> None:
        """``listener(task, direction, text, when)`` runs on the Tk thread for every transcript
        line of every task (already redacted; ``when`` is the worker's time.time()), and with
        direction "!" and the error's message when a task fails. The timeline records them."""
        self._log_listeners.append(listener)

    def _notify_log(self, task: Task, direction: str, text: str, when: float) -> None:
        for listener in self._log_listeners:
            try:
                listener(task, direction, text, when)
            except Exception:
                traceback.print_exc()

    # -- Tk side ----------------------------------------------------------------
    def _schedule(self, delay: int) -> None:
        if self._closed:
            return
        try:
            self._after_id = self.widget.after(delay, self._poll)
        except Exception:  # the window is gone
            self._after_id = None

    def _poll(self) -> None:
        self._after_id = None
        if self.drain():
            self._busy_until = time.monotonic() + BUSY_SECONDS
        if not self.queue.empty():
            self._schedule(1)
        else:
            busy = time.monotonic() < self._busy_until
            self._schedule(min(BUSY_POLL_MS, self.poll_ms) if busy else self.poll_ms)

    def drain(self, budget: float | None = None) -> int:
        """Deliver queued messages for up to ``budget`` seconds; returns how many were read."""
        deadline = time.perf_counter() + (self.budget if budget is None else budget)
        latest_progress: dict[Task, Any] = {}
        count = 0
        while time.perf_counter() < deadline:
            try:
                task, kind, payload = self.queue.get_nowait()
            except queue.Empty:
                break
            count += 1
            if kind == "progress":
                latest_progress[task] = payload
                continue
            if task in latest_progress:
                task._deliver("progress", latest_progress.pop(task))
            task._deliver(kind, payload)
        for task, payload in latest_progress.items():
            task._deliver("progress", payload)
        return count

    def _forget(self, task: Task) -> None:
        with self._lock:
            self._tasks.pop(task.id, None)
        self._notify_status(task, "")  # a finished task's status line is empty

    def _notify_status(self, task: Task | None, text: str) -> None:
        for listener in self._status_listeners:
            try:
                listener(task, text)
            except Exception:
                traceback.print_exc()
