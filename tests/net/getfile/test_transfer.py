"""Big and concurrent transfers, cancel, a server killed mid-transfer, and resume."""

import hashlib
import os
import subprocess
import sys
import threading
import time

import pytest

from netgui.net.cancel import CancelToken
from netgui.net.errors import Cancelled, ConnectionLost
from netgui.net.getfile import client as getfile
from netgui.net.getfile.client import fetch
from netgui.servers.getfile import GetfileServer
from tests.support.getfile_original import OriginalServer
from tests.support.peers import free_port, stop_process, wait_for_port

BIG = 200 << 20


def sha256(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


@pytest.fixture(scope="session")
def big_root(tmp_path_factory):
    """A served folder with one 200 MiB random file, made once per session; (root, sha256)."""
    root = tmp_path_factory.mktemp("getfile-big")
    digest = hashlib.sha256()
    with open(root / "big.bin", "wb") as f:
        for _ in range(BIG >> 22):
            block = os.urandom(4 << 20)
            digest.update(block)
            f.write(block)
    return root, digest.hexdigest()


@pytest.fixture(autouse=True)
def fresh_peer_memory():
    getfile.forget_peers()


def test_200_mib_arrives_intact(big_root, tmp_path):
    root, digest = big_root
    calls = []
    with GetfileServer(root) as server:
        result = fetch("127.0.0.1", server.port, "big.bin", tmp_path,
                       progress=lambda done, total: calls.append((done, total)))
        assert server.stats.bytes_served == BIG
    assert result.verified and result.size == BIG
    assert sha256(result.path) == digest
    assert calls[-1] == (BIG, BIG)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)


def test_several_concurrent_downloads(big_root, tmp_path):
    root, _ = big_root
    files = {}
    for i in range(6):
        data = os.urandom(3_000_000 + i)
        (tmp_path / f"f{i}.bin").write_bytes(data)
        files[f"f{i}.bin"] = hashlib.sha256(data).hexdigest()
    results, errors = {}, []

    def worker(name):
        try:
            results[name] = fetch("127.0.0.1", server.port, name, tmp_path / "dest")
        except Exception as exc:  # reported below
            errors.append(exc)

    with GetfileServer(tmp_path) as server:
        threads = [threading.Thread(target=worker, args=(name,)) for name in files]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert server.stats.clients_total == len(files)
    assert not errors
    for name, digest in files.items():
        assert results[name].verified
        assert sha256(tmp_path / "dest" / name) == digest


def test_cancel_mid_transfer_keeps_only_the_part_file_and_resume_completes_it(big_root, tmp_path):
    root, digest = big_root
    token = CancelToken()

    def progress(done, total):
        if done >= 20 << 20:
            token.cancel()

    with GetfileServer(root) as server:
        with pytest.raises(Cancelled):
            fetch("127.0.0.1", server.port, "big.bin", tmp_path, token=token, progress=progress)
        assert not (tmp_path / "big.bin").exists()
        part = tmp_path / "big.bin.part"
        kept = part.stat().st_size
        assert 20 << 20 <= kept < BIG
        # The server thread of the cancelled transfer counts its last bytes when it notices.
        deadline = time.monotonic() + 10
        while server.stats.clients_connected and time.monotonic() < deadline:
            time.sleep(0.01)
        served_before = server.stats.bytes_served
        result = fetch("127.0.0.1", server.port, "big.bin", tmp_path)
        # resume asked only for the missing bytes
        assert server.stats.bytes_served - served_before == BIG - kept
    assert result.resumed_from == kept and result.verified
    assert sha256(result.path) == digest
    assert not part.exists()


def test_no_resume_starts_again(tmp_path):
    (tmp_path / "root").mkdir()
    (tmp_path / "root" / "f.txt").write_bytes(b"0123456789")
    (tmp_path / "f.txt.part").write_bytes(b"XXXX")
    with GetfileServer(tmp_path / "root") as server:
        result = fetch("127.0.0.1", server.port, "f.txt", tmp_path, resume=False)
    assert result.resumed_from == 0 and result.path.read_bytes() == b"0123456789"


def test_a_part_file_longer_than_the_remote_file_restarts(tmp_path):
    (tmp_path / "root").mkdir()
    (tmp_path / "root" / "f.txt").write_bytes(b"0123456789")
    (tmp_path / "f.txt.part").write_bytes(b"X" * 50)
    with GetfileServer(tmp_path / "root") as server:
        result = fetch("127.0.0.1", server.port, "f.txt", tmp_path)
    assert result.resumed_from == 0 and result.path.read_bytes() == b"0123456789"


def test_a_symlinked_part_file_is_not_followed(tmp_path):
    (tmp_path / "root").mkdir()
    (tmp_path / "root" / "f.txt").write_bytes(b"payload")
    victim = tmp_path / "victim"
    victim.write_bytes(b"keep me")
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "f.txt.part").symlink_to(victim)
    with GetfileServer(tmp_path / "root") as server:
        with pytest.raises(getfile.NetError, match="symbolic link"):
            fetch("127.0.0.1", server.port, "f.txt", dest, resume=False)
    assert victim.read_bytes() == b"keep me"


def test_server_killed_mid_transfer(big_root, tmp_path):
    root, _ = big_root
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "netgui", "getfile", "serve", "--root", str(root),
                             "--port", str(port), "--quiet"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, proc=proc)

        def progress(done, total):
            if done >= 10 << 20 and proc.poll() is None:
                proc.kill()
                proc.wait(5)

        with pytest.raises(ConnectionLost) as info:
            fetch("127.0.0.1", port, "big.bin", tmp_path, progress=progress, timeout=10)
    finally:
        stop_process(proc)
    message = str(info.value)
    assert "of 209715200 bytes" in message or "broke after" in message
    assert "partial file is kept" in message
    assert not (tmp_path / "big.bin").exists()
    assert (tmp_path / "big.bin.part").stat().st_size < BIG


def test_cancel_with_an_original_server_leaves_no_final_file(big_root, tmp_path):
    root, _ = big_root
    token = CancelToken()
    with OriginalServer(root) as server:
        with pytest.raises(Cancelled):
            fetch("127.0.0.1", server.port, "big.bin", tmp_path, token=token,
                  progress=lambda done, total: token.cancel() if done > 1 << 20 else None)
    assert not (tmp_path / "big.bin").exists()


def test_a_server_that_stalls_mid_transfer_times_out(tmp_path):
    import socket
    import time

    from netgui.net.errors import NetTimeout
    listener = socket.create_server(("127.0.0.1", 0))
    held = []

    def stalling_server():
        conn, _ = listener.accept()
        conn.recv(4096)
        conn.sendall(b"NETGUI/1 OK 100 0\n" + b"x" * 10)
        held.append(conn)  # keep it open, send nothing more

    thread = threading.Thread(target=stalling_server, daemon=True)
    thread.start()
    started = time.monotonic()
    with pytest.raises(NetTimeout):
        fetch("127.0.0.1", listener.getsockname()[1], "f.bin", tmp_path, timeout=0.6)
    assert time.monotonic() - started < 20  # the 0.6 s timeout fired, not some default
    assert not (tmp_path / "f.bin").exists()
    assert (tmp_path / "f.bin.part").read_bytes() == b"x" * 10
    for conn in held:
        conn.close()
    listener.close()


def test_resume_restarts_when_the_file_changed_on_the_server(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    remote = root / "f.bin"
    old = os.urandom(8 << 20)
    remote.write_bytes(old)
    os.utime(remote, (1_600_000_000, 1_600_000_000))
    with GetfileServer(root) as server:
        # an interrupted download of the old version: the client stamps the .part with its mtime
        part = tmp_path / "f.bin.part"
        part.write_bytes(old[: 1 << 20])
        os.utime(part, (1_600_000_000, 1_600_000_000))
        same = fetch("127.0.0.1", server.port, "f.bin", tmp_path)
        assert same.resumed_from == 1 << 20 and same.path.read_bytes() == old
        part.write_bytes(old[: 1 << 20])
        os.utime(part, (1_600_000_000, 1_600_000_000))
        new = os.urandom(9 << 20)
        remote.write_bytes(new)  # a new version, with a new modification time
        lines = []
        result = fetch("127.0.0.1", server.port, "f.bin", tmp_path,
                       log=lambda d, t: lines.append(t))
    assert result.resumed_from == 0
    assert result.path.read_bytes() == new
    assert any("changed on the server" in line for line in lines)
    assert int(result.path.stat().st_mtime) == int(remote.stat().st_mtime)


def test_an_interrupted_download_stamps_the_part_with_the_remote_time(big_root, tmp_path):
    root, _ = big_root
    token = CancelToken()
    with GetfileServer(root) as server:
        with pytest.raises(Cancelled):
            fetch("127.0.0.1", server.port, "big.bin", tmp_path, token=token,
                  progress=lambda done, total: token.cancel() if done >= 1 << 20 else None)
    assert int((tmp_path / "big.bin.part").stat().st_mtime) == int((root / "big.bin").stat().st_mtime)


def test_a_folder_in_the_way_is_a_clear_error(tmp_path):
    (tmp_path / "root").mkdir()
    (tmp_path / "root" / "f.txt").write_bytes(b"data")
    (tmp_path / "dest" / "f.txt").mkdir(parents=True)
    with GetfileServer(tmp_path / "root") as server:
        with pytest.raises(getfile.NetError, match="a folder of that name is in the way"):
            fetch("127.0.0.1", server.port, "f.txt", tmp_path / "dest")
        assert server.stats.requests == 0  # refused before connecting
