"""Checks on a response: status, headers, JSON paths, body text and response time.

One check per line, written in a ``.http`` file as a comment so other tools ignore it::

    # @check status == 200
    # @check header Content-Type contains json
    # @check json $.items[0].id == 7
    # @check json $.tags contains "web"
    # @check json $.name matches ^net
    # @check json $.tags length == 2
    # @check body contains welcome
    # @check time < 500

Subjects: ``status``, ``header NAME``, ``json PATH`` (optionally followed by ``length``),
``body``, ``time`` (milliseconds; ``2s`` also works). Operators: ``== != < <= > >=
contains !contains matches exists absent``. ``status == 2xx`` matches any 2xx. A value is
read as JSON when it parses (``7``, ``"7"``, ``true``, ``null``, ``[1, 2]``), else as text.

JSON paths: ``$`` the document, ``.key`` or ``["key"]``, ``[0]`` (``[-1]`` the last),
``[*]`` or ``.*`` every item (the subject is then the list of matches).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Callable

OPERATORS = ("==", "!=", "<=", ">=", "<", ">", "!contains", "contains", "matches", "exists", "absent")
UNARY = ("exists", "absent")
SUBJECTS = ("status", "header", "json", "body", "time")
EXAMPLES = ("status == 200", "json $.id == 7", "header Content-Type contains json", "time < 500")
MISSING = object()


class CheckError(ValueError):
    """A check line that cannot be understood."""


@dataclass
class Check:
    text: str
    subject: str
    target: str = ""
    """The header name or JSON path."""
    length: bool = False
    op: str = "=="
    expected: object = None
    expected_text: str = ""


@dataclass
class CheckResult:
    text: str
    passed: bool
    detail: str


# -- parsing ---------------------------------------------------------------------------------

def _split_op(rest: str) -> tuple[str, str]:
    """(operator, value text) from the part of a check after its subject."""
    rest = rest.strip()
    for op in OPERATORS:
        if rest == op or rest.startswith(op + " ") or (op[0] in "=!<>" and rest.startswith(op)):
            value = rest[len(op):].strip()
            if op in UNARY and value:
                raise CheckError(f"‘{op}’ takes no value")
            if op not in UNARY and not value:
                raise CheckError(f"‘{op}’ needs a value after it")
            return op, value
    raise CheckError(f"expected one of {' '.join(OPERATORS)} in ‘{rest}’")


def _value(text: str) -> object:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _path_end(rest: str) -> int:
    """Where a JSON path ends: at the first space outside brackets and quotes."""
    depth, quote = 0, ""
    for i, c in enumerate(rest):
        if quote:
            if c == "\\":
                continue
            if c == quote:
                quote = ""
        elif c in "\"'":
            quote = c
        elif c == "[":
            depth += 1
        elif c == "]":
            depth -= 1
        elif c == " " and depth <= 0:
            return i
    return len(rest)


def parse_check(text: str) -> Check:
    """Parse one check line (raises CheckError with a reason)."""
    line = text.strip()
    subject, _, rest = line.partition(" ")
    subject = subject.lower()
    if subject not in SUBJECTS:
        raise CheckError(f"a check starts with {', '.join(SUBJECTS)}; not ‘{subject or line}’")
    check = Check(line, subject)
    if subject == "header":
        name, _, rest = rest.strip().partition(" ")
        if not name:
            raise CheckError("‘header’ needs a header name")
        check.target = name
    elif subject == "json":
        rest = rest.strip()
        end = _path_end(rest)
        check.target, rest = rest[:end], rest[end:].strip()
        if not check.target:
            raise CheckError("‘json’ needs a path such as $.items[0].id")
        json_path(check.target)  # raises for a malformed path
        if rest == "length" or rest.startswith("length "):
            check.length, rest = True, rest[6:]
    check.op, check.expected_text = _split_op(rest)
    if check.op in UNARY and subject not in ("header", "json"):
        raise CheckError(f"‘{check.op}’ works with header and json checks")
    if subject == "status":
        if check.op in ("==", "!=") and re.fullmatch(r"[1-5]xx", check.expected_text, re.I):
            check.expected = check.expected_text.lower()
        else:
            check.expected = _number(check.expected_text, "a status code")
    elif subject == "time":
        if check.op not in ("<", "<=", ">", ">="):
            raise CheckError("‘time’ works with < <= > >=")
        check.expected = _milliseconds(check.expected_text)
    elif check.op == "matches":
        try:
            check.expected = re.compile(check.expected_text)
        except re.error as exc:
            raise CheckError(f"not a regular expression: {exc}") from None
    elif check.length:
        check.expected = _number(check.expected_text, "a length")
    elif check.op not in UNARY:
        check.expected = _value(check.expected_text)
    return check


def _number(text: str, what: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise CheckError(f"‘{text}’ is not {what}") from None


def _milliseconds(text: str) -> float:
    match = re.fullmatch(r"\s*([0-9.]+)\s*(ms|s)?\s*", text)
    if not match:
        raise CheckError(f"‘{text}’ is not a time (500, 500ms or 2s)")
    try:
        value = float(match.group(1))
    except ValueError:
        raise CheckError(f"‘{text}’ is not a time (500, 500ms or 2s)") from None
    return value * 1000 if match.group(2) == "s" else value


# -- JSON paths ---------------------------------------------------------------------------------

_STEP = re.compile(r"""\.(\*|[^.\[\]]+)|\[\s*(\*|-?\d+|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')\s*\]""")


def json_path(path: str) -> list[object]:
    """The steps of a path: str keys, int indexes, and ``"*"`` wildcards as the object WILD."""
    path = path.strip()
    if path.startswith("$"):
        path = path[1:]
    elif path and not path.startswith((".", "[")):
        path = "." + path  # json name == x means $.name
    steps: list[object] = []
    pos = 0
    while pos < len(path):
        match = _STEP.match(path, pos)
        if not match:
            raise CheckError(f"cannot read the JSON path at ‘{path[pos:]}’")
        key, bracket = match.group(1), match.group(2)
        if key is not None:
            steps.append(WILD if key == "*" else key)
        elif bracket == "*":
            steps.append(WILD)
        elif bracket[0] == '"':
            steps.append(json.loads(bracket))
        elif bracket[0] == "'":
            steps.append(re.sub(r"\\(.)", r"\1", bracket[1:-1]))
        else:
            steps.append(int(bracket))
        pos = match.end()
    return steps


class _Wild:
    def __repr__(self) -> str:
        return "*"


WILD = _Wild()


def select(document: object, path: str) -> object:
    """The value at ``path``, a list of values if it has wildcards, or MISSING."""
    steps = json_path(path)
    current = [document]
    wild = False
    for step in steps:
        found = []
        for value in current:
            if step is WILD:
                wild = True
                if isinstance(value, dict):
                    found.extend(value.values())
                elif isinstance(value, list):
                    found.extend(value)
            elif isinstance(step, int):
                if isinstance(value, list) and -len(value) <= step < len(value):
                    found.append(value[step])
            elif isinstance(value, dict) and step in value:
                found.append(value[step])
        current = found
    if wild:
        return current
    return current[0] if current else MISSING


# -- evaluating ---------------------------------------------------------------------------------

def _show(value: object) -> str:
    if value is MISSING:
        return "nothing"
    if isinstance(value, re.Pattern):
        return value.pattern
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 80 else text[:77] + "…"


def _compare(actual: object, op: str, expected: object) -> bool:
    if op == "exists":
        return actual is not MISSING
    if op == "absent":
        return actual is MISSING
    if actual is MISSING:
        return op == "!=" or op == "!contains"
    if op in ("==", "!="):
        same = actual == expected
        if not same and isinstance(actual, (int, float)) and isinstance(expected, str):
            same = _show(actual) == expected
        elif not same and isinstance(actual, str) and not isinstance(expected, str):
            same = actual == _show(expected)
        return same if op == "==" else not same
    if op in ("<", "<=", ">", ">="):
        try:
            a, b = float(actual), float(expected)
        except (TypeError, ValueError):
            return False
        return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]
    if op in ("contains", "!contains"):
        if isinstance(actual, str):
            found = (expected if isinstance(expected, str) else _show(expected)) in actual
        elif isinstance(actual, list):
            found = expected in actual
        elif isinstance(actual, dict):
            found = _show(expected) in actual
        else:
            found = False
        return found if op == "contains" else not found
    if op == "matches":
        return expected.search(actual if isinstance(actual, str) else _show(actual)) is not None
    return False


@dataclass
class Subject:
    """What checks look at: status, headers, body, its JSON (if any) and the time in ms."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes
    body_complete: bool
    charset: str | None
    elapsed_ms: float
    json_value: object = MISSING
    json_error: str = ""

    def text(self) -> str:
        return self.body.decode(self.charset or "utf-8", "replace")

    def document(self) -> object:
        if self.json_value is MISSING and not self.json_error:
            if not self.body_complete:
                self.json_error = "only the first part of the body arrived"
            else:
                try:
                    self.json_value = json.loads(self.text())
                except ValueError as exc:
                    self.json_error = f"the body is not JSON ({exc})"
        return self.json_value


def subject_of(response, json_value: object = MISSING) -> Subject:
    """A Subject from a session Response (``json_value`` if the body is already parsed)."""
    return Subject(response.status, list(response.headers), response.body, response.body_complete,
                   response.charset, response.timing.total * 1000, json_value)


def evaluate(check: Check | str, subject: Subject) -> CheckResult:
    """Run one check (a line or a parsed Check) against a response."""
    try:
        if isinstance(check, str):
            check = parse_check(check)
    except CheckError as exc:
        return CheckResult(check, False, f"cannot read this check: {exc}")
    op, expected = check.op, check.expected
    if check.subject == "status":
        actual: object = subject.status
        if isinstance(expected, str):  # 2xx
            same = str(subject.status)[0] == expected[0]
            passed = same if op == "==" else not same
            return CheckResult(check.text, passed, f"status is {subject.status}")
        passed = _compare(actual, op, expected)
        return CheckResult(check.text, passed, f"status is {subject.status}")
    if check.subject == "time":
        actual = round(subject.elapsed_ms, 1)
        passed = _compare(actual, op, expected)
        return CheckResult(check.text, passed, f"took {actual:g} ms")
    if check.subject == "header":
        values = [v for n, v in subject.headers if n.lower() == check.target.lower()]
        actual = ", ".join(values) if values else MISSING
        passed = _compare(actual, op, expected)
        shown = f"{check.target} is {_show(actual)}" if values else f"no {check.target} header"
        return CheckResult(check.text, passed, shown)
    if check.subject == "body":
        if not subject.body_complete and op in ("==", "!=", "!contains"):
            return CheckResult(check.text, False, "only the first part of the body arrived")
        actual = subject.text()
        if isinstance(expected, (int, float, bool)) or expected is None:
            expected = check.expected_text
        passed = _compare(actual, op, expected)
        return CheckResult(check.text, passed, f"body is {_show(actual)}")
    document = subject.document()
    if document is MISSING:
        return CheckResult(check.text, False, subject.json_error or "the body is not JSON")
    actual = select(document, check.target)
    if check.length:
        if not isinstance(actual, (list, dict, str)):
            return CheckResult(check.text, False, f"{check.target} is {_show(actual)}, which has no length")
        actual = len(actual)
    passed = _compare(actual, op, expected)
    where = f"{check.target} length" if check.length else check.target
    return CheckResult(check.text, passed, f"{where} is {_show(actual)}")


def evaluate_all(checks: list[str], subject: Subject,
                 resolve: Callable[[str], str] | None = None) -> list[CheckResult]:
    """Run check lines; ``resolve`` fills in their ``{{variables}}`` first (the results keep
    the lines as written, so a secret's value never shows in a check's text)."""
    results = []
    for line in checks:
        if not line.strip():
            continue
        try:
            result = evaluate(resolve(line) if resolve else line, subject)
        except ValueError as exc:  # BadRequest: an undefined variable
            result = CheckResult(line, False, f"cannot read this check: {exc}")
        result.text = line.strip()
        results.append(result)
    return results
