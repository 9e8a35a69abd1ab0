"""``netgui http run DIR``: run a collection's requests and their checks, headless (for CI)."""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

COMMAND = "http-run"
"""Registered under this name; the dispatcher also accepts ``netgui http run``."""


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        COMMAND, prog="netgui http run",
        help="run a collection of .http requests and their checks (also: http run)",
        description="Send every request of a collection folder (or of one of its folders or "
                    ".http files) and evaluate its # @check lines. Exit status 0 when every "
                    "check passed, 1 when any failed or a request could not be sent, 2 for "
                    "a usage problem.")
    parser.add_argument("target", metavar="DIR", help="a collection folder, a folder in it, or a .http file")
    parser.add_argument("--env", default=None, metavar="NAME",
                        help="the environment of http-client.env.json to use")
    parser.add_argument("--var", action="append", default=[], metavar="NAME[=VALUE]",
                        help="set a variable (overrides the environment); NAME alone takes the "
                             "value of the process environment variable NAME")
    parser.add_argument("--parallel", type=int, default=1, metavar="N",
                        help="send up to N requests at once (default 1: in order)")
    parser.add_argument("--junit", default=None, metavar="FILE", help="write a JUnit XML report")
    parser.add_argument("-v", "--verbose", action="store_true", help="print the transcript to stderr")
    parser.set_defaults(func=run)


def find_root(target: Path) -> Path:
    """The collection folder: the nearest folder at or above ``target`` with an environment
    file, else the target folder itself (or the folder of a target file)."""
    from netgui.net.http.variables import ENV_FILE
    start = target if target.is_dir() else target.parent
    for folder in [start, *start.parents]:
        if (folder / ENV_FILE).is_file():
            return folder
    return start


def _describe(result) -> str:
    """A result's line, and the lines of its error or failed checks."""
    from netgui.net.http.runner import ERROR, FAILED, PASSED
    word = {PASSED: "PASS ", FAILED: "FAIL ", ERROR: "ERROR"}.get(result.outcome, "SKIP ")
    status = f"{result.status} {result.reason}".strip() if result.status is not None else "-"
    lines = [f"{word} {result.label}  {status}  {result.elapsed_ms:.0f} ms"]
    if result.error:
        lines.append(f"      {result.error}")
    lines += [f"      ✗ {check.text}: {check.detail}" for check in result.failures]
    return "\n".join(lines) + "\n"


def _fail(message: str) -> int:
    print(f"netgui http run: {message}", file=sys.stderr)
    return 2


def run(args) -> int:
    from netgui.config import Secrets
    from netgui.net.connection import no_log
    from netgui.net.http.collection import items_under, load_collection
    from netgui.net.http.runner import ERROR, FAILED, PASSED, junit_xml, run_items, tally
    from netgui.net.http.session import HttpSession
    from netgui.net.http.variables import environment_names, make_resolver, secret_account, valid_name

    target = Path(args.target).expanduser().resolve()
    if not target.exists():
        return _fail(f"{args.target}: no such file or folder")
    root = find_root(target)
    collection = load_collection(root)
    if collection.env_problem:
        return _fail(collection.env_problem)
    names = environment_names(collection.environments)
    if args.env is not None and args.env not in names:
        have = ", ".join(names) if names else "none"
        return _fail(f"no environment {args.env!r} in {root} (environments: {have})")
    overrides = {}
    for item in args.var:
        name, sep, value = item.partition("=")
        if not valid_name(name):
            return _fail(f"--var {item!r}: a variable is NAME=VALUE or NAME")
        if not sep:
            if name not in os.environ:
                return _fail(f"--var {name}: the environment variable {name} is not set")
            value = os.environ[name]
        overrides[name] = value
    where = "" if target == root else target.relative_to(root).as_posix()
    items = items_under(collection, where)
    for path, problem in collection.problems.items():
        print(f"netgui http run: {problem}", file=sys.stderr)
    if not items:
        return _fail(f"no requests in {args.target}")
    secrets = {}
    if args.env is not None:
        store = Secrets()
        for name in collection.environments[args.env].secret_names:
            if name not in overrides:
                value = store.get(secret_account(root, args.env, name))
                if value is not None:
                    secrets[name] = value

    def resolver_for(item, masked):
        return make_resolver(collection.environments, args.env, item.variables, secrets, overrides,
                             masked=masked)

    def log(direction, text):
        print(f"{direction} {text}", file=sys.stderr)

    lock = threading.Lock()
    waiting: dict[int, object] = {}
    shown = [0]

    def finished(index, result):
        """Print results in the collection's order, each in one piece, whatever finishes first."""
        with lock:
            waiting[index] = result
            while shown[0] in waiting:
                sys.stdout.write(_describe(waiting.pop(shown[0])))
                sys.stdout.flush()
                shown[0] += 1

    session = HttpSession()
    started = time.monotonic()
    try:
        results = run_items(items, session, resolver_for, lambda path: collection.folder_of(path),
                            workers=max(1, args.parallel), log=log if args.verbose else no_log,
                            finished=finished)
    finally:
        session.close()
    seconds = time.monotonic() - started
    counts = tally(results)
    print(f"{len(results)} request{'s' if len(results) != 1 else ''}: {counts[PASSED]} passed, "
          f"{counts[FAILED]} failed, {counts[ERROR]} error{'s' if counts[ERROR] != 1 else ''} "
          f"in {seconds:.2f} s" + (f" (environment {args.env})" if args.env else ""))
    if args.junit:
        from netgui.config import atomic_write_text
        try:
            atomic_write_text(Path(args.junit), junit_xml(results, root.name, seconds))
        except OSError as exc:
            print(f"netgui http run: cannot write {args.junit}: {exc.strerror or exc}", file=sys.stderr)
            return 1
    return 0 if counts[FAILED] == counts[ERROR] == 0 else 1
