"""The task runner: worker threads, one queue, delivery on the Tk thread."""

import socket
import threading
import time

from netgui.net.errors import ConnectError
from netgui.ui.tasks import TaskRunner
from tests.support.tk import pump


def test_results_arrive_in_order_on_the_tk_thread(root):
    runner = TaskRunner(root)
    seen = []
    tk_thread = threading.current_thread()

    def work(ctx):
        for i in range(5):
            ctx.log("*", f"line {i}")
            ctx.event("row", i)
        return "finished"

    def record(*args):
        assert threading.current_thread() is tk_thread
        seen.append(args)

    task = runner.submit(work, on_log=lambda d, t: record("log", t), on_event=lambda k, p: record(k, p),
                         on_result=lambda r: record("result", r), on_done=lambda t: record("done"))
    pump(root, until=lambda: not task.running and seen and seen[-1] == ("done",), timeout=5,
         message="task to finish")
    assert seen == [x for i in range(5) for x in (("log", f"line {i}"), ("row", i))] + [
        ("result", "finished"), ("done",)]
    assert task.state == "done" and task.result == "finished"


def test_cancel_stops_a_worker_blocked_on_a_socket(root):
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    runner = TaskRunner(root)
    errors = []

    def blocked(ctx):
        from netgui.net.connection import open_connection
        sock = open_connection("127.0.0.1", port, timeout=60, token=ctx.token)
        with ctx.token.watch(sock):
            ctx.status("waiting")
            sock.recv(1)  # blocks: the server never sends

    task = runner.submit(blocked, on_error=errors.append)
    pump(root, until=lambda: task.status_text == "waiting", timeout=5, message="worker to block")
    started = time.monotonic()
    task.cancel()
    pump(root, until=lambda: not task.running, timeout=5, message="cancelled task to end")
    assert time.monotonic() - started < 5
    assert task.state == "cancelled"
    assert str(errors[0]) == "Cancelled"
    task.thread.join(2)
    assert not task.thread.is_alive()
    server.close()


def test_an_exception_in_a_worker_becomes_one_line(root):
    runner = TaskRunner(root)
    errors, logs = [], []

    def broken(ctx):
        raise ConnectionRefusedError(111, "Connection refused")

    def buggy(ctx):
        return {}["missing"]

    t1 = runner.submit(broken, on_error=errors.append)
    t2 = runner.submit(buggy, on_error=errors.append, on_log=lambda d, t: logs.append((d, t)))
    pump(root, until=lambda: not t1.running and not t2.running, timeout=5, message="tasks to fail")
    assert t1.state == t2.state == "failed"
    messages = sorted(str(e) for e in errors)
    assert "Connection refused by the server" in messages
    assert any(m.startswith("Unexpected error") for m in messages)
    assert all("\n" not in m for m in messages)
    # The traceback goes to the transcript, not to the user's line.
    assert any(d == "!" and "Traceback" in t for d, t in logs)


def test_a_flood_of_progress_never_blocks_a_tick(root):
    runner = TaskRunner(root)
    seen = []

    def flood(ctx):
        for i in range(100_000):
            ctx.progress(i + 1, 100_000, force=True)  # bypass the source throttle: flood the queue
        return "ok"

    task = runner.submit(flood, on_progress=lambda p: seen.append(p.done))
    task.thread.join(30)
    # Every message is queued now; each tick must stay within its budget. CPU time of
    # this thread is measured, so a busy machine descheduling the test cannot fail it.
    longest, ticks = 0.0, 0
    while not runner.queue.empty():
        started = time.thread_time()
        runner.drain()
        ticks += 1
        longest = max(longest, time.thread_time() - started)
    root.update()
    assert task.state == "done"
    assert seen[-1] == 100_000 and seen == sorted(seen)
    assert longest < 0.05, f"one tick took {longest * 1000:.1f} ms"
    assert ticks > 1  # the flood was spread over several ticks


def test_progress_has_rate_and_eta(root):
    runner = TaskRunner(root)
    seen = []

    def slow(ctx):
        for i in range(1, 11):
            ctx.progress(i * 1000, 10_000)
            time.sleep(0.03)

    task = runner.submit(slow, on_progress=seen.append)
    pump(root, until=lambda: not task.running, timeout=5, message="task to finish")
    last = seen[-1]
    assert last.fraction == 1.0 and last.rate and last.rate > 0
    assert any(p.eta is not None for p in seen)


def test_connect_error_keeps_its_message(root):
    runner = TaskRunner(root)
    errors = []

    def work(ctx):
        raise ConnectError("Connection refused by h:1")

    task = runner.submit(work, on_error=errors.append)
    pump(root, until=lambda: not task.running, timeout=5, message="task to fail")
    assert str(errors[0]) == "Connection refused by h:1"


def test_ask_waits_for_the_tk_thread_to_answer(root):
    runner = TaskRunner(root)
    tk_thread = threading.current_thread()
    asked = []

    def work(ctx):
        first = ctx.ask("code", {"prompt": "Code:"})
        second = ctx.ask("code", {"prompt": "Again:"})
        return first, second

    def on_ask(question):
        assert threading.current_thread() is tk_thread
        asked.append(question)
        if question.payload["prompt"] == "Code:":
            question.answer("1234")           # at once
        else:
            root.after(50, question.answer, "5678")   # later, as a dialog would

    task = runner.submit(work, on_ask=on_ask)
    pump(root, until=lambda: not task.running, timeout=5, message="task to finish")
    assert task.result == ("1234", "5678")
    assert [q.kind for q in asked] == ["code", "code"] and not asked[0].open


def test_ask_without_on_ask_or_answer_gives_none(root):
    runner = TaskRunner(root)
    questions = []
    plain = runner.submit(lambda ctx: ctx.ask("anything"))
    late = runner.submit(lambda ctx: ctx.ask("slow", timeout=0.2), on_ask=questions.append)
    pump(root, until=lambda: not plain.running and not late.running, timeout=5, message="tasks to finish")
    assert plain.result is None and late.result is None
    assert questions and not questions[0].open      # the worker gave up: a late answer is ignored
    questions[0].answer("too late")
    assert questions[0].value is None


def test_cancel_releases_a_worker_waiting_for_an_answer(root):
    runner = TaskRunner(root)
    questions, errors = [], []
    task = runner.submit(lambda ctx: ctx.ask("host-key"), on_ask=questions.append, on_error=errors.append)
    pump(root, until=lambda: questions, timeout=5, message="the question")
    task.cancel()
    pump(root, until=lambda: not task.running, timeout=5, message="cancelled task to end")
    assert task.state == "cancelled" and str(errors[0]) == "Cancelled"
    assert not questions[0].open


def test_log_listeners_see_every_line_with_the_task_origin_and_the_error(root):
    runner = TaskRunner(root)
    heard = []
    runner.add_log_listener(lambda task, d, t, when: heard.append((task.origin, d, t, when)))

    def work(ctx):
        ctx.log(">", "PASS hunter2")
        raise ConnectError("Connection refused by x:1")

    before = time.time()
    task = runner.submit(work, origin="the origin")
    pump(root, until=lambda: not task.running, timeout=5, message="task to fail")
    assert [(o, d, t) for o, d, t, _ in heard] == [("the origin", ">", "PASS ****"),
                                                  ("the origin", "!", "Connection refused by x:1")]
    assert all(before <= when <= time.time() for *_, when in heard)
