"""open_connection, cancellation and error translation against real loopback sockets."""

import socket
import threading
import time

import pytest

from netgui.net.cancel import CancelToken
from netgui.net.connection import open_connection
from netgui.net.errors import Cancelled, ConnectError, ConnectionLost, NetTimeout, ResolveError, translate
from tests.support.peers import free_port


def test_connects_and_reports_in_transcript():
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    lines = []
    sock = open_connection("127.0.0.1", port, timeout=2, log=lambda d, t: lines.append((d, t)))
    sock.close()
    server.close()
    assert lines[0] == ("*", f"Connecting to 127.0.0.1:{port}")
    assert any("Connected" in t for _, t in lines)


def test_refused_port_is_a_clear_connect_error():
    with pytest.raises(ConnectError) as info:
        open_connection("127.0.0.1", free_port(), timeout=2)
    assert str(info.value) .startswith("Connection refused by 127.0.0.1:")


def test_unknown_host_is_a_resolve_error():
    with pytest.raises(ResolveError) as info:
        open_connection("no-such-host.invalid", 80, timeout=2)
    assert "no-such-host.invalid" in str(info.value)


def test_cancel_wakes_a_worker_blocked_in_recv():
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    token = CancelToken()
    sock = open_connection("127.0.0.1", port, timeout=30, token=token)
    outcome = {}

    def reader():
        started = time.monotonic()
        try:
            with token.watch(sock):
                sock.recv(10)
        except OSError:
            outcome["error"] = True
        outcome["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=reader)
    thread.start()
    time.sleep(0.2)
    token.cancel()
    thread.join(5)
    server.close()
    assert not thread.is_alive()
    assert outcome["seconds"] < 5
    with pytest.raises(Cancelled):
        token.check()


def test_translate_maps_stdlib_errors_to_one_line_messages():
    assert isinstance(translate(socket.timeout("timed out"), "h", 1), NetTimeout)
    assert isinstance(translate(ConnectionResetError(), "h", 1), ConnectionLost)
    err = translate(ValueError("odd\nsecond line"))
    assert str(err).startswith("Unexpected error")


def test_redaction_hides_credentials():
    from netgui.net.redact import redact
    assert redact("PASS hunter2") == "PASS ****"
    assert redact("A1 LOGIN alice s3cret") == "A1 LOGIN alice ****"
    assert redact("AUTH PLAIN AGFsaWNlAHNlY3JldA==") == "AUTH PLAIN ****"
    assert redact("Authorization: Basic YWxpY2U6c2VjcmV0") == "Authorization: Basic ****"
    assert redact("fetch ftp://bob:pw@host/x") == "fetch ftp://bob:****@host/x"
    assert redact("said hunter2 here", ["hunter2"]) == "said **** here"
    assert redact("USER alice") == "USER alice"


def test_local_file_errors_are_not_called_network_errors(tmp_path):
    from netgui.net.errors import LocalFileError
    try:
        open(tmp_path / "missing" / "file")
    except OSError as exc:
        err = translate(exc)
    assert isinstance(err, LocalFileError)
    assert str(err) == f"Cannot use {tmp_path / 'missing' / 'file'}: No such file or directory"


def test_safe_names_accept_undecodable_bytes():
    from netgui.net.safe_names import safe_local_name
    name = b"caf\xe9.txt".decode("utf-8", "surrogateescape")  # Latin-1 read as UTF-8
    assert safe_local_name(name) == "caf_.txt"
