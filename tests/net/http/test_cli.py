"""``python -m netgui http``: the HTTP core from the command line, against the real test app."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.support.httpapp import JSON_DOC, http_app, pattern  # noqa: F401


def netgui(*args, env_extra=None):
    import os
    env = dict(os.environ, **(env_extra or {}))
    return subprocess.run([sys.executable, "-m", "netgui", "http", *args], capture_output=True,
                          timeout=60, env=env)


def test_prints_head_and_body(http_app):
    out = netgui("-i", http_app.url("/json"))
    assert out.returncode == 0
    head, _, body = out.stdout.decode().partition("\n\n")
    assert head.startswith("HTTP/1.1 200 OK") and "Content-Type: application/json" in head
    assert json.loads(body) == JSON_DOC


def test_posts_data_with_headers_and_saves(http_app, tmp_path):
    out = netgui("-d", '{"a": 1}', "-H", "X-Cli: yes", http_app.url("/echo"))
    echoed = json.loads(out.stdout)
    assert echoed["method"] == "POST" and echoed["headers"]["X-Cli"] == "yes"
    target = tmp_path / "big.bin"
    out = netgui("-o", str(target), http_app.url("/big?size=300000"))
    assert out.returncode == 0 and target.read_bytes() == pattern(300000)


def test_errors_are_one_line_with_exit_codes(http_app, tmp_path):
    out = netgui(http_app.url("/truncated"), "-o", str(tmp_path / "t"))
    assert out.returncode == 1
    assert out.stderr.decode().strip() == \
        "netgui http: The body is truncated: the connection ended after 500 of 1000 bytes"
    assert not (tmp_path / "t").exists()
    ca = {"NETGUI_CA_FILE": http_app.ca_file}
    assert netgui(http_app.tls_url("/json"), env_extra=ca).returncode == 0
    out = netgui(http_app.tls_url("/json", name="expired"), env_extra=ca)
    assert out.returncode == 1 and "certificate has expired" in out.stderr.decode()
    assert netgui("-k", http_app.tls_url("/json", name="expired")).returncode == 0
    assert netgui(http_app.url("/nothing-here")).returncode == 22
