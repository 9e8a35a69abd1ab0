"""Running collections against the real test HTTP app: in order, in parallel, checks, JUnit,
and ``netgui http run`` from the command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET

from netgui.net.cancel import CancelToken
from netgui.net.http.collection import items_under, load_collection
from netgui.net.http.runner import ERROR, FAILED, PASSED, SKIPPED, junit_xml, run_items, tally
from netgui.net.http.session import HttpSession
from netgui.net.http.variables import make_resolver, secret_account
from tests.support.httpapp import http_app  # noqa: F401

ENV = {"$shared": {"api": "/echo"}, "Local": {"token": {"secret": True}, "who": "zoe"},
       "Broken": {"host": "http://127.0.0.1:1"}}

SMOKE = """\
### Echo with variables
# @check status == 200
# @check json $.query.who == zoe
# @check json $.headers.Authorization == "Bearer {{token}}"
GET {{host}}{{api}}?who={{who}}
Authorization: Bearer {{token}}

### Post JSON
# @check status == 2xx
# @check json $.method == POST
# @check json $.body matches "n": 1
POST {{host}}{{api}}
Content-Type: application/json

{"n": 1}
"""

FAILING = """\
### Missing page
# @check status == 200
GET {{host}}/no-such-page

### Undefined variable
GET {{host}}/{{nothing}}
"""


def make_collection(tmp_path, host):
    (tmp_path / "http-client.env.json").write_text(json.dumps(ENV))
    (tmp_path / "smoke.http").write_text(SMOKE)
    (tmp_path / "more").mkdir()
    (tmp_path / "more" / "failing.http").write_text(FAILING)
    (tmp_path / "more" / "json.http").write_text(
        "@host = " + host + "\n# @check json $.tags length == 2\n# @check time < 60000\nGET {{host}}/json\n")
    return load_collection(tmp_path)


def run(collection, env="Local", where="", workers=1, token=None, secrets=None, host=None):
    session = HttpSession()
    seen = []
    lock = threading.Lock()

    def resolver_for(item, masked):
        return make_resolver(collection.environments, env, item.variables,
                             {"token": "tok-123456"} if secrets is None else secrets,
                             {"host": host} if host else {}, masked=masked)

    def finished(index, result):
        with lock:
            seen.append(index)

    try:
        results = run_items(items_under(collection, where), session, resolver_for, collection.folder_of,
                            workers=workers, token=token, finished=finished)
    finally:
        session.close()
    return results, seen


def test_in_order_with_checks_and_secrets_masked(http_app, tmp_path):
    collection = make_collection(tmp_path, http_app.url("").rstrip("/"))
    results, seen = run(collection, host=http_app.url("").rstrip("/"))
    assert seen == list(range(5))
    outcomes = {r.label: r.outcome for r in results}
    assert outcomes == {
        "smoke.http › Echo with variables": PASSED, "smoke.http › Post JSON": PASSED,
        "more/failing.http › Missing page": FAILED, "more/failing.http › Undefined variable": ERROR,
        "more/json.http › GET /json": PASSED}
    echo = results[0]
    assert echo.status == 200 and echo.elapsed_ms > 0
    assert [c.passed for c in echo.checks] == [True, True, True]
    assert echo.checks[2].text == 'json $.headers.Authorization == "Bearer {{token}}"'
    assert echo.checks[2].detail == "$.headers.Authorization is Bearer ****"
    missing = results[2]
    assert missing.status == 404 and missing.summary() == "status == 200: status is 404"
    assert results[3].error.startswith("Undefined variable {{nothing}}")
    assert tally(results) == {PASSED: 3, FAILED: 1, ERROR: 1, SKIPPED: 0}
    assert all("tok-123456" not in json.dumps(r.__dict__, default=str) for r in results)


def test_in_parallel_on_one_session(http_app, tmp_path):
    collection = make_collection(tmp_path, http_app.url("").rstrip("/"))
    results, seen = run(collection, host=http_app.url("").rstrip("/"), workers=4)
    assert sorted(seen) == list(range(5))
    assert [r.label for r in results] == [i.label for i in items_under(collection)]  # in order
    assert [r.outcome for r in results] == [PASSED, PASSED, FAILED, ERROR, PASSED]


def test_errors_and_a_cancelled_run(http_app, tmp_path):
    collection = make_collection(tmp_path, http_app.url("").rstrip("/"))
    results, _ = run(collection, env="Broken", where="smoke.http")
    assert [r.outcome for r in results] == [ERROR, ERROR]
    assert results[0].error.startswith("Undefined variable {{token}} (not in environment Broken")
    assert "refused" in results[1].error
    token = CancelToken()
    token.cancel()
    results, seen = run(collection, host=http_app.url("").rstrip("/"), token=token)
    assert seen == list(range(5)) and all(r.outcome == SKIPPED for r in results)


def test_junit_report(http_app, tmp_path):
    collection = make_collection(tmp_path, http_app.url("").rstrip("/"))
    results, _ = run(collection, host=http_app.url("").rstrip("/"))
    suites = ET.fromstring(junit_xml(results, "api", 1.5))
    suite = suites.find("testsuite")
    assert suite.get("tests") == "5" and suite.get("failures") == "1" and suite.get("errors") == "1"
    cases = suite.findall("testcase")
    assert [c.get("classname") for c in cases][:2] == ["smoke.http", "smoke.http"]
    assert cases[2].find("failure").get("message") == "status == 200: status is 404"
    assert cases[3].find("error").get("message").startswith("Undefined variable")


# -- the command line ------------------------------------------------------------------------------

def netgui(*args, env_extra=None):
    env = dict(os.environ, **(env_extra or {}))
    return subprocess.run([sys.executable, "-m", "netgui", "http", "run", *args], capture_output=True,
                          timeout=120, env=env, text=True)


def test_cli_runs_a_collection_and_writes_junit(http_app, tmp_path):
    make_collection(tmp_path, http_app.url("").rstrip("/"))
    host = http_app.url("").rstrip("/")
    report = tmp_path / "report.xml"
    out = netgui(str(tmp_path), "--env", "Local", "--var", f"host={host}", "--var", "token=tok-999999",
                 "--junit", str(report), "--parallel", "3")
    assert out.returncode == 1, out.stderr
    lines = out.stdout.splitlines()
    assert "PASS  smoke.http › Echo with variables  200 OK" in out.stdout
    assert any(line.startswith("FAIL  more/failing.http › Missing page  404") for line in lines), out.stdout
    assert "      ✗ status == 200: status is 404" in lines
    printed = [line[6:].split("  ")[0] for line in lines if line[:5] in ("PASS ", "FAIL ", "ERROR")]
    assert printed == ["smoke.http › Echo with variables", "smoke.http › Post JSON",  # in order,
                       "more/failing.http › Missing page", "more/failing.http › Undefined variable",
                       "more/json.http › GET /json"]  # though 3 ran at once
    assert lines[-1].startswith("5 requests: 3 passed, 1 failed, 1 error in") and "(environment Local)" in lines[-1]
    assert ET.parse(report).getroot().get("tests") == "5"
    assert "tok-999999" not in out.stdout + report.read_text()

    # one folder, the token from the process environment, verbose transcript masked
    out = netgui(str(tmp_path / "smoke.http"), "--env", "Local", "--var", f"host={host}", "--var", "TOKEN_X",
                 "-v", env_extra={"TOKEN_X": "unused"})
    assert out.returncode == 1 and "token" in out.stdout  # {{token}} has no value: not in the keyring
    out = netgui(str(tmp_path / "smoke.http"), "--env", "Local", "--var", f"host={host}", "--var", "token",
                 "-v", env_extra={"token": "tok-from-env"})
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Authorization: Bearer ****" in out.stderr and "tok-from-env" not in out.stdout + out.stderr
    assert out.stdout.splitlines()[-1].startswith("2 requests: 2 passed, 0 failed, 0 errors")


def test_cli_reads_secrets_from_the_keyring(http_app, tmp_path):
    make_collection(tmp_path, http_app.url("").rstrip("/"))
    # the keyring of a subprocess: a file-backed test keyring that the child loads
    keyring_file = tmp_path / "keyring.json"
    keyring_file.write_text(json.dumps({secret_account(tmp_path, "Local", "token"): "tok-keyring"}))
    out = netgui(str(tmp_path / "smoke.http"), "--env", "Local", "--var", f"host={http_app.url('').rstrip('/')}",
                 env_extra={"PYTHON_KEYRING_BACKEND": "tests.support.filekeyring.FileKeyring",
                            "NETGUI_TEST_KEYRING": str(keyring_file)})
    assert out.returncode == 0, out.stdout + out.stderr


def test_cli_usage_problems_exit_2(tmp_path):
    (tmp_path / "http-client.env.json").write_text(json.dumps(ENV))
    out = netgui(str(tmp_path), "--env", "Nope")
    assert out.returncode == 2 and "no environment 'Nope'" in out.stderr and "Local, Broken" in out.stderr
    assert netgui(str(tmp_path / "missing")).returncode == 2
    out = netgui(str(tmp_path))
    assert out.returncode == 2 and "no requests" in out.stderr
    assert netgui(str(tmp_path), "--var", "1bad=x").returncode == 2


def test_hostile_answers_are_errors_of_one_line_and_the_run_goes_on(http_app, tmp_path):
    host = http_app.url("").rstrip("/")
    (tmp_path / "bad.http").write_text(
        "# @timeout 1\nGET {{host}}/stall?for=3\n\n###\nGET {{host}}/truncated\n\n###\n"
        "GET {{host}}/bigheaders\n\n###\n# @check status == 200\nGET {{host}}/json\n")
    collection = load_collection(tmp_path)
    results, _ = run(collection, env=None, host=host, workers=2)
    assert [r.outcome for r in results] == [ERROR, ERROR, ERROR, PASSED]
    assert "stopped sending" in results[0].error
    assert results[1].error.startswith("The body is truncated") and results[1].status == 200
    assert "oversized headers" in results[2].error
    assert all("\n" not in r.error for r in results)
