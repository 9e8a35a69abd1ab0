"""Running the requests of a collection, in order or in parallel, with their checks.

``run_items`` sends each request through one ``HttpSession`` (so cookies carry from one
request to the next, and connections are reused), from up to ``workers`` threads at once.
Results come back in the collection's order; ``junit_xml`` turns them into a report CI
systems read.
"""

from __future__ import annotations

import threading
import time
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable

from netgui.net.cancel import CancelToken
from netgui.net.connection import Log, no_log
from netgui.net.errors import Cancelled, NetError, translate
from netgui.net.redact import redact

from .checks import CheckResult, evaluate_all, subject_of
from .collection import RunItem, anchor_files, entry_to_request
from .request import BadRequest
from .session import HttpSession
from .variables import Resolver, resolve_for_sending

PASSED, FAILED, ERROR, SKIPPED = "passed", "failed", "error", "skipped"


@dataclass
class RunResult:
    """What one request of a run did."""

    label: str
    path: str
    index: int
    method: str = ""
    url: str = ""
    """The resolved URL with secrets masked."""
    status: int | None = None
    reason: str = ""
    elapsed_ms: float = 0.0
    size: int = 0
    checks: list[CheckResult] = field(default_factory=list)
    error: str = ""

    @property
    def outcome(self) -> str:
        if self.error:
            return SKIPPED if self.error == "Cancelled" else ERROR
        return FAILED if any(not c.passed for c in self.checks) else PASSED

    @property
    def failures(self) -> list[CheckResult]:
        return [c for c in self.checks if not c.passed]

    def summary(self) -> str:
        """One line: what failed, or how many checks passed."""
        if self.error:
            return self.error
        failed = self.failures
        if failed:
            return "; ".join(f"{c.text}: {c.detail}" for c in failed)
        return f"{len(self.checks)} check{'s' if len(self.checks) != 1 else ''} passed" if self.checks \
            else "no checks"


def run_one(item: RunItem, session: HttpSession, resolver_for: Callable[[RunItem, bool], Resolver],
            folder, token: CancelToken, log: Log = no_log) -> RunResult:
    """Resolve, send and check one request. Never raises (except Cancelled)."""
    result = RunResult(item.label, item.path, item.index, method=item.entry.method, url=item.entry.url)
    resolver = resolver_for(item, False)
    try:
        resolved = resolve_for_sending(entry_to_request(item.entry),
                                       lambda masked: resolver if not masked else resolver_for(item, True))
    except BadRequest as exc:
        result.error = str(exc)
        return result
    result.method, result.url = resolved.shown.method, resolved.shown.url
    secrets = resolved.secrets

    def log_masked(direction: str, text: str) -> None:
        log(direction, redact(text, secrets))

    request = anchor_files(resolved.wire, folder)
    token.check()
    try:
        response = session.send(request, token=token, log=log_masked if log is not no_log else no_log)
    except Cancelled:
        raise
    except NetError as err:
        partial = getattr(err, "response", None)
        if partial is not None:
            result.status, result.reason = partial.status, partial.reason
        result.error = redact(str(err), secrets)
        return result
    result.status, result.reason = response.status, response.reason
    result.elapsed_ms = response.timing.total * 1000
    result.size = response.body_size
    result.checks = evaluate_all(item.entry.checks, subject_of(response), resolver.resolve)
    secrets = secrets + [s for s in resolver.used_secrets if s not in secrets]
    for check in result.checks:
        check.detail = redact(check.detail, secrets)
    return result


def run_items(items: list[RunItem], session: HttpSession,
              resolver_for: Callable[[RunItem, bool], Resolver], folder_of: Callable[[str], object],
              *, workers: int = 1, token: CancelToken | None = None, log: Log = no_log,
              started: Callable[[int], None] | None = None,
              finished: Callable[[int, RunResult], None] | None = None) -> list[RunResult]:
    """Run ``items``; ``workers`` > 1 sends that many at once. Returns results in order.

    ``resolver_for(item, masked)`` builds the variables of one request; ``folder_of(path)``
    is the folder of a ``.http`` file (relative uploads are read from there). After a
    cancel, requests not yet started come back as skipped.
    """
    token = token or CancelToken()
    results: list[RunResult | None] = [None] * len(items)
    lock = threading.Lock()

    def one(index: int) -> None:
        item = items[index]
        if token.cancelled:
            result = RunResult(item.label, item.path, item.index, item.entry.method, item.entry.url,
                               error="Cancelled")
        else:
            if started:
                started(index)
            prefix = f"[{index + 1}] " if workers > 1 else ""

            def item_log(direction: str, text: str) -> None:
                log(direction, prefix + text)

            try:
                result = run_one(item, session, resolver_for, folder_of(item.path), token,
                                 item_log if log is not no_log else no_log)
            except Cancelled:
                result = RunResult(item.label, item.path, item.index, item.entry.method,
                                   item.entry.url, error="Cancelled")
            except Exception as exc:  # a bug: one line for this request, the run goes on
                result = RunResult(item.label, item.path, item.index, item.entry.method,
                                   item.entry.url, error=str(translate(exc)))
        with lock:
            results[index] = result
        if finished:
            finished(index, result)

    if workers <= 1:
        for index in range(len(items)):
            one(index)
    else:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="netgui-run") as pool:
            for future in [pool.submit(one, index) for index in range(len(items))]:
                future.result()
    return [r for r in results if r is not None]


def tally(results: list[RunResult]) -> dict[str, int]:
    counts = {PASSED: 0, FAILED: 0, ERROR: 0, SKIPPED: 0}
    for result in results:
        counts[result.outcome] += 1
    return counts


def junit_xml(results: list[RunResult], name: str, seconds: float) -> str:
    """A JUnit XML report: one test case per request, its failed checks as the failure."""
    counts = tally(results)
    suites = ET.Element("testsuites", name=name, tests=str(len(results)), failures=str(counts[FAILED]),
                        errors=str(counts[ERROR]), skipped=str(counts[SKIPPED]), time=f"{seconds:.3f}")
    suite = ET.SubElement(suites, "testsuite", name=name, tests=str(len(results)),
                          failures=str(counts[FAILED]), errors=str(counts[ERROR]),
                          skipped=str(counts[SKIPPED]), time=f"{seconds:.3f}",
                          timestamp=time.strftime("%Y-%m-%dT%H:%M:%S"))
    for result in results:
        case = ET.SubElement(suite, "testcase", classname=result.path,
                             name=result.label.split(" › ", 1)[-1], time=f"{result.elapsed_ms / 1000:.3f}")
        lines = [f"{result.method} {result.url}"]
        if result.status is not None:
            lines.append(f"→ {result.status} {result.reason}".rstrip())
        lines += [f"{'PASS' if c.passed else 'FAIL'}  {c.text}  ({c.detail})" for c in result.checks]
        outcome = result.outcome
        if outcome == FAILED:
            failure = ET.SubElement(case, "failure", message=result.summary(), type="check")
            failure.text = "\n".join(lines)
        elif outcome == ERROR:
            error = ET.SubElement(case, "error", message=result.error, type="request")
            error.text = "\n".join(lines)
        elif outcome == SKIPPED:
            ET.SubElement(case, "skipped", message="cancelled")
        ET.SubElement(case, "system-out").text = "\n".join(lines)
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
