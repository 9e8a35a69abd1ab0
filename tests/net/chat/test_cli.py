"""``python -m netgui chat serve`` as a real process."""

import socket
import subprocess
import sys

from tests.support.peers import free_port, stop_process, wait_for_port


def test_chat_serve_runs_relays_and_stops():
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "netgui", "chat", "serve", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, proc=proc)
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s, s.makefile("rb") as f:
            assert f.readline().startswith(b"Welcome to the chat server, 127.0.0.1:")
            s.sendall(b"hi\n")
            assert f.readline().endswith(b": hi\n")
    finally:
        stop_process(proc)
    out = proc.stdout.read().decode()
    assert f"Chat server listening on 127.0.0.1:{port}" in out
    assert "connected (1 online)" in out
    assert "Chat server stopped" in out  # SIGTERM stops it cleanly


def test_chat_serve_reports_a_taken_port():
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "netgui", "chat", "serve", "--port", str(port)],
                                capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr


def test_chat_connect_sends_stdin_and_prints_what_arrives():
    from netgui.servers.chat import ChatServer
    with ChatServer() as server:
        result = subprocess.run([sys.executable, "-m", "netgui", "chat", "connect", "127.0.0.1",
                                 "--port", str(server.port), "--variant", "line"],
                                input="hello from stdin\nsecond line\n", capture_output=True, text=True, timeout=30)
    lines = result.stdout.splitlines()
    assert result.returncode == 0, result.stderr
    assert lines[0].startswith("Welcome to the chat server, 127.0.0.1:")
    peer = lines[0].rsplit(", ", 1)[1]
    assert f"{peer}: hello from stdin" in lines


def test_chat_connect_refused_is_one_line():
    port = free_port()
    result = subprocess.run([sys.executable, "-m", "netgui", "chat", "connect", "127.0.0.1", "--port", str(port)],
                            input="", capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert result.stderr.strip() == f"netgui chat: Connection refused by 127.0.0.1:{port}"
