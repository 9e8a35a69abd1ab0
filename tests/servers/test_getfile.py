"""netgui's getfile server: the root is a wall, stalled clients do not block others, stats, stop."""

import os
import socket
import threading
import time

import pytest

from netgui.net.getfile import client as getfile
from netgui.net.getfile.client import GetfileError, fetch
from netgui.servers.getfile import GetfileServer

SECRET = b"TOP-SECRET-OUTSIDE-THE-ROOT"


@pytest.fixture(autouse=True)
def fresh_peer_memory():
    getfile.forget_peers()


@pytest.fixture
def layout(tmp_path):
    """root/ with a file, plus a secret file beside root/ and symlinks leading out."""
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    (root / "ok.txt").write_bytes(b"fine")
    secret = tmp_path / "secret.txt"
    secret.write_bytes(SECRET)
    (root / "link-out").symlink_to(secret)
    (root / "dir-out").symlink_to(tmp_path)
    (root / "link-in").symlink_to(root / "ok.txt")
    (root / "sub" / "deep.txt").write_bytes(b"deep")
    return root, secret


def raw_request(port: int, payload: bytes, timeout: float = 5) -> bytes:
    """Send raw bytes, read to EOF (as any client would)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(payload)
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


TRAVERSALS = [
    "../secret.txt",
    "sub/../../secret.txt",
    "./../secret.txt",
    "..\\secret.txt",
    "sub/../../../../../../etc/passwd",
    "link-out",
    "dir-out/secret.txt",
    "/etc/passwd",
    "//etc/passwd",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_traversal_is_refused_for_original_clients(layout, path):
    root, _ = layout
    log = []
    with GetfileServer(root, log=lambda d, t: log.append(t)) as server:
        reply = raw_request(server.port, path.encode() + b"\n")
    assert reply == b""
    assert SECRET not in reply
    assert any("outside" in line or "notfound" in line for line in log)


def test_absolute_path_of_the_secret_is_refused(layout):
    root, secret = layout
    with GetfileServer(root) as server:
        assert raw_request(server.port, str(secret).encode() + b"\n") == b""
        reply = raw_request(server.port, b"\x00NETGUI/1 GET 0 " + str(secret).encode() + b"\n")
    assert reply.startswith(b"NETGUI/1 ERR outside ")
    assert SECRET not in reply


@pytest.mark.parametrize("path", TRAVERSALS)
def test_traversal_is_refused_for_netgui_clients_with_a_reason(layout, path, tmp_path):
    root, _ = layout
    dest = tmp_path / "dest"
    with GetfileServer(root) as server:
        with pytest.raises(GetfileError) as info:
            fetch("127.0.0.1", server.port, path, dest)
    assert info.value.code in ("outside", "notfound")
    assert not any(dest.iterdir())


def test_paths_inside_the_root_still_work(layout):
    root, _ = layout
    with GetfileServer(root) as server:
        assert raw_request(server.port, b"ok.txt\n") == b"fine"
        assert raw_request(server.port, b"link-in\n") == b"fine"  # a symlink that stays inside
        assert raw_request(server.port, b"sub/deep.txt\r\n") == b"deep"
        assert raw_request(server.port, str(root / "sub" / "deep.txt").encode() + b"\n") == b"deep"


def test_nul_bytes_and_long_lines_are_refused(layout):
    root, _ = layout
    with GetfileServer(root) as server:
        assert raw_request(server.port, b"ok.txt\x00../secret.txt\n") == b""
        assert raw_request(server.port, b"a" * 5000 + b"\n") == b""
        long_ext = raw_request(server.port, b"\x00NETGUI/1 GET 0 " + b"a" * 5000 + b"\n")
        assert long_ext.startswith(b"NETGUI/1 ERR toolong")
        nul_ext = raw_request(server.port, b"\x00NETGUI/1 GET 0 ok.txt\x00x\n")
        assert nul_ext.startswith(b"NETGUI/1 ERR badrequest")
        assert raw_request(server.port, b"\x00NETGUI/9 GET 0 ok.txt\n").startswith(
            b"NETGUI/1 ERR version")
        assert raw_request(server.port, b"\x00NETGUI/1 FROB\n").startswith(b"NETGUI/1 ERR badrequest")
        assert raw_request(server.port, b"\x00NETGUI/1 GET -1 ok.txt\n").startswith(
            b"NETGUI/1 ERR badrequest")
        assert raw_request(server.port, b"\x00NETGUI/1 GET 99 ok.txt\n").startswith(
            b"NETGUI/1 ERR range")
        mtime = int((root / "ok.txt").stat().st_mtime)
        assert raw_request(server.port, b"\x00NETGUI/1 GET 2 ok.txt\n") == (
            f"NETGUI/1 OK 4 2 {mtime}\n".encode() + b"ne")


def test_listing_hides_links_that_lead_out(layout):
    root, _ = layout
    with GetfileServer(root) as server:
        names = [e.name for e in getfile.list_dir("127.0.0.1", server.port, "")]
    assert names == ["sub", "link-in", "ok.txt"]


def test_a_stalled_client_does_not_block_others(layout, tmp_path):
    root, _ = layout
    big = root / "big.bin"
    big.write_bytes(os.urandom(16 << 20))
    with GetfileServer(root, idle_timeout=60) as server:
        silent = socket.create_connection(("127.0.0.1", server.port))  # never sends a line
        stalled = socket.create_connection(("127.0.0.1", server.port))  # never reads
        stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stalled.sendall(b"big.bin\n")
        deadline = time.monotonic() + 10
        while server.stats.clients_connected < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        result = fetch("127.0.0.1", server.port, "ok.txt", tmp_path / "dest", timeout=30)
        assert result.path.read_bytes() == b"fine"
        # served while both others still hang (they would hold it up for 60 s otherwise)
        assert server.stats.clients_connected == 2
        silent.close()
        stalled.close()


def test_idle_clients_are_dropped_after_the_timeout(layout):
    root, _ = layout
    with GetfileServer(root, idle_timeout=0.5) as server:
        silent = socket.create_connection(("127.0.0.1", server.port))
        silent.settimeout(10)
        assert silent.recv(10) == b""  # the server gave up on it
        silent.close()
        deadline = time.monotonic() + 10
        while server.stats.clients_connected and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.stats.clients_connected == 0


def test_stats_count_clients_and_bytes(layout, tmp_path):
    root, _ = layout
    with GetfileServer(root) as server:
        for _ in range(3):
            fetch("127.0.0.1", server.port, "ok.txt", tmp_path / "dest")
        raw_request(server.port, b"sub/deep.txt\n")
        stats = server.stats
    assert stats.clients_total == 4 and stats.requests == 4
    assert stats.bytes_served == 3 * 4 + 4
    assert stats.clients == 0


def test_stop_closes_clients_and_frees_the_port(layout):
    root, _ = layout
    server = GetfileServer(root).start()
    port = server.port
    assert server.address == ("127.0.0.1", port)
    idle = socket.create_connection(("127.0.0.1", port))
    time.sleep(0.1)
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 10  # stop() must not wait for idle clients
    assert not any(t.name.startswith("getfile-") and t.is_alive() for t in threading.enumerate())
    idle.settimeout(2)
    assert idle.recv(10) == b""
    idle.close()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    # the port can be taken again at once
    with GetfileServer(root, port=port) as again:
        assert again.port == port


def test_access_log_has_a_line_per_request(layout, tmp_path):
    root, _ = layout
    lines = []
    with GetfileServer(root, log=lambda d, t: lines.append(t)) as server:
        fetch("127.0.0.1", server.port, "ok.txt", tmp_path / "dest")
        raw_request(server.port, b"../secret.txt\n")
    requests = [line for line in lines if '"' in line]
    assert len(requests) == 2
    # Each client has its own thread, so the two lines may come in either order.
    served = next(line for line in requests if "GET 0 ok.txt" in line)
    refused = next(line for line in requests if "../secret.txt" in line)
    assert "4 of 4 bytes" in served
    assert "outside" in refused


def test_root_must_be_a_folder(tmp_path):
    with pytest.raises(ValueError):
        GetfileServer(tmp_path / "missing")


def test_listing_skips_names_that_are_not_utf8(layout):
    root, _ = layout
    (root / "sub" / "caf\u00e9.txt").write_bytes(b"ok")
    os.close(os.open(os.fsencode(root / "sub") + b"/bad-\xff.txt", os.O_CREAT | os.O_WRONLY))
    with GetfileServer(root) as server:
        names = [e.name for e in getfile.list_dir("127.0.0.1", server.port, "sub")]
    assert names == ["café.txt", "deep.txt"]
