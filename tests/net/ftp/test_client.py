"""FtpClient against a real pyftpdlib server on loopback: browse, transfer, edit, fail well."""

from __future__ import annotations

import os
import threading
import time

import pytest

from netgui.net.cancel import CancelToken
from netgui.net.errors import (
    AuthError,
    Cancelled,
    CertificateError,
    ConnectError,
    ConnectionLost,
    ProtocolError,
)
from netgui.net.ftp.client import DIR, FILE, FtpClient, FtpSite
from tests.support.ftpd import PASSWORD, READONLY_USER, FtpServer
from tests.support.peers import free_port

from .conftest import HOSTILE, snapshot, usable


def names(entries):
    return {e.name: e for e in entries}


def test_login_list_and_transcript_hides_password(ftpd, client_for, transcript):
    client = client_for(ftpd)
    assert client.connect() == "/"
    entries = names(client.listdir())
    assert entries["sub"].kind == DIR
    assert entries["hello.txt"].kind == FILE
    assert entries["big.bin"].size == 3 * 1024 * 1024 + 17
    assert entries["ünïcödé.txt"].size == len("unicode ✓\n".encode())
    assert "space name.txt" in entries
    assert entries["hello.txt"].modified is not None
    assert entries["hello.txt"].perms.startswith("-rw")
    text = transcript.text()
    assert "> PASS ****" in text
    assert PASSWORD not in text
    assert "MLSD" in text


def test_wrong_password_is_an_auth_error(ftpd, client_for):
    client = client_for(ftpd, password="wrong")
    with pytest.raises(AuthError) as info:
        client.connect()
    assert str(info.value).startswith("127.0.0.1:")
    assert "530" in str(info.value)


def test_refused_port_is_a_connect_error(transcript):
    client = FtpClient(FtpSite("127.0.0.1", free_port(), timeout=3), log=transcript)
    with pytest.raises(ConnectError) as info:
        client.listdir()
    assert "refused" in str(info.value)


def test_navigate_and_read_text(ftpd, client_for):
    client = client_for(ftpd)
    assert client.chdir("sub") == "/sub"
    assert set(names(client.listdir())) == {"inner.txt", "deeper"}
    assert client.chdir("..") == "/"
    text, truncated = client.read_text("/hello.txt")
    assert text == "Hello, FTP!\nSecond line ünïcödé\n" and not truncated
    text, truncated = client.read_text("/sub/inner.txt", limit=12)
    assert text == "inner\ninner\n" and truncated
    # the connection is still usable after hanging up early
    assert "hello.txt" in names(client.listdir("/"))
    with pytest.raises(ProtocolError) as info:
        client.chdir("/no/such/folder")
    assert "550" in str(info.value)


def test_recursive_download_round_trip_is_byte_for_byte(ftpd, tree, client_for, tmp_path):
    client = client_for(ftpd)
    target = tmp_path / "down"
    seen = []
    count = client.download_tree("/", target, progress=lambda d, t: seen.append((d, t)))
    expected = {k: v for k, v in snapshot(tree).items() if not k.startswith("hostile")}
    got = {k: v for k, v in snapshot(target).items() if not k.startswith("hostile")}
    assert got == expected
    files = [k for k, v in snapshot(tree).items() if v is not None]
    assert count == len([k for k in files if usable(k.rsplit("/", 1)[-1])])
    assert seen and seen[-1][0] == seen[-1][1]
    assert not list(target.rglob("*.part"))


def test_hostile_names_stay_inside_the_target(ftpd, client_for, tmp_path, transcript):
    client = client_for(ftpd)
    target = tmp_path / "deep" / "down"
    client.download_tree("/hostile", target)
    refused = [t for d, t in transcript if d == "!" and "Refusing the remote name" in t]
    assert len(refused) == len([n for n in HOSTILE if not usable(n)]) == 3   # reported and skipped
    outside = [p for p in (tmp_path).rglob("*") if not str(p).startswith(str(target))
               and "srv" not in p.parts and p not in (tmp_path / "deep", target)]
    assert outside == []
    local = sorted(p.name for p in target.iterdir())
    assert len(local) == len(HOSTILE) - 3
    for name in local:
        assert "/" not in name and "\\" not in name and "\x1b" not in name and "\t" not in name
        assert name not in (".", "..") and not name.startswith("C:")
    contents = sorted(p.read_bytes() for p in target.iterdir())
    kept = [i for i, name in enumerate(HOSTILE) if usable(name)]
    assert contents == sorted(f"hostile {i}\n".encode() for i in kept)


def test_recursive_upload_round_trip(ftpd, tree, client_for, tmp_path):
    source = tmp_path / "up"
    (source / "a" / "b").mkdir(parents=True)
    (source / "one.bin").write_bytes(bytes(range(256)) * 4000)
    (source / "a" / "two ü.txt").write_text("two\n")
    (source / "a" / "b" / "three.txt").write_bytes(b"")
    client = client_for(ftpd)
    assert client.upload_tree(source, "/uploaded") == 3
    assert snapshot(tree / "uploaded") == snapshot(source)
    # uploading again over an existing folder works too
    assert client.upload_tree(source, "/uploaded") == 3


def test_mkdir_rename_delete_recursive(ftpd, tree, client_for):
    client = client_for(ftpd)
    client.mkdir("/newdir")
    assert (tree / "newdir").is_dir()
    client.rename("/newdir", "/renamed")
    assert (tree / "renamed").is_dir() and not (tree / "newdir").exists()
    client.rename("/hello.txt", "/renamed/hello moved.txt")
    assert (tree / "renamed" / "hello moved.txt").read_text().startswith("Hello")
    deleted = []
    assert client.delete("/sub", DIR, on_item=deleted.append) == 4
    assert not (tree / "sub").exists()
    client.chmod("/renamed/hello moved.txt", 0o640)
    assert (tree / "renamed" / "hello moved.txt").stat().st_mode & 0o777 == 0o640
    client.delete("/renamed/hello moved.txt")
    assert not (tree / "renamed" / "hello moved.txt").exists()


def test_permission_denied_is_a_clear_error(ftpd, client_for, tmp_path):
    client = client_for(ftpd, user=READONLY_USER)
    local = tmp_path / "x.txt"
    local.write_text("x")
    with pytest.raises(ProtocolError) as info:
        client.upload(local, "/x.txt")
    assert str(info.value).startswith("Cannot upload /x.txt: 550")
    with pytest.raises(ProtocolError):
        client.delete("/hello.txt")
    # the connection survives refusals
    assert "hello.txt" in names(client.listdir("/"))


def test_active_mode_transfers(ftpd, client_for, tree, tmp_path):
    client = client_for(ftpd, passive=False)
    client.download("/big.bin", tmp_path / "big.bin")
    assert (tmp_path / "big.bin").read_bytes() == (tree / "big.bin").read_bytes()
    client.upload(tmp_path / "big.bin", "/copy.bin")
    assert (tree / "copy.bin").read_bytes() == (tree / "big.bin").read_bytes()


def test_keepalive_sends_noop_when_idle(ftpd, client_for, transcript):
    client = client_for(ftpd)
    client.connect()
    assert client.keepalive(idle=3600) is False
    assert client.keepalive(idle=0) is True
    assert "> NOOP" in transcript.text()


def test_reconnects_transparently_after_dropped_control_connection(tree, client_for, transcript):
    server = FtpServer(tree, idle_timeout=1).start()
    try:
        client = client_for(server)
        client.chdir("/sub")
        time.sleep(1.6)   # the server hangs up the idle control connection (421)
        entries = names(client.listdir())
        assert "inner.txt" in entries          # same folder after reconnecting
        assert "reconnecting" in transcript.text()
        assert client.cwd == "/sub"
    finally:
        server.stop()


def test_cancel_wakes_a_blocked_download_and_leaves_part(tree, client_for, tmp_path):
    server = FtpServer(tree, throttle=256 * 1024).start()
    try:
        token = CancelToken()
        client = client_for(server)
        client.connect()
        local = tmp_path / "big.bin"
        errors = []
        progress = []

        def run():
            try:
                with client.bound(token):
                    client.download("/big.bin", local, progress=lambda d, t: progress.append(d))
            except Exception as exc:
                errors.append(exc)
        worker = threading.Thread(target=run)
        worker.start()
        deadline = time.monotonic() + 10
        while (not progress or progress[-1] < 100_000) and time.monotonic() < deadline:
            time.sleep(0.02)
        started = time.monotonic()
        token.cancel()
        worker.join(5)
        assert not worker.is_alive()
        assert time.monotonic() - started < 2
        assert isinstance(errors[0], Cancelled)
        assert not local.exists()
        part = tmp_path / "big.bin.part"
        assert 0 < part.stat().st_size < (tree / "big.bin").stat().st_size
        # the next action on the same client works again (fresh connection)
        assert "hello.txt" in names(client.listdir("/"))
    finally:
        server.stop()


def test_resume_download_after_server_killed_mid_transfer(tree, client_for, transcript, tmp_path):
    server = FtpServer(tree, throttle=512 * 1024).start()
    local = tmp_path / "big.bin"
    client = client_for(server)
    progress = []
    errors = []

    def run():
        try:
            client.download("/big.bin", local, progress=lambda d, t: progress.append(d))
        except Exception as exc:
            errors.append(exc)
    worker = threading.Thread(target=run)
    worker.start()
    deadline = time.monotonic() + 10
    while (not progress or progress[-1] < 300_000) and time.monotonic() < deadline:
        time.sleep(0.02)
    server.kill()
    worker.join(10)
    assert errors, "the download should fail when the server dies"
    assert isinstance(errors[0], ConnectionLost)
    assert str(errors[0]) == f"Connection to 127.0.0.1:{server.port} was lost"
    part = tmp_path / "big.bin.part"
    partial = part.stat().st_size
    assert 0 < partial < (tree / "big.bin").stat().st_size
    assert not local.exists()

    server = FtpServer(tree, port=server.port).start()
    try:
        transcript.clear()
        resumed = client.download("/big.bin", local, resume=True)
        assert f"> REST {partial}" in transcript.text()
        assert resumed == (tree / "big.bin").stat().st_size - partial
        assert local.read_bytes() == (tree / "big.bin").read_bytes()
    finally:
        server.stop()


def test_resume_upload_with_appe(ftpd, tree, client_for, transcript, tmp_path):
    data = bytes(range(256)) * 2000
    local = tmp_path / "up.bin"
    local.write_bytes(data)
    (tree / "up.bin").write_bytes(data[:100_000])   # an interrupted earlier upload
    client = client_for(ftpd)
    sent = client.upload(local, "/up.bin", resume=True)
    assert sent == len(data) - 100_000
    assert "> APPE /up.bin" in transcript.text()
    assert (tree / "up.bin").read_bytes() == data


def test_explicit_tls_round_trip(tree, tls_files, client_for, transcript, tmp_path):
    pem, cafile = tls_files
    server = FtpServer(tree, tls="explicit", cert=pem).start()
    try:
        client = client_for(server, tls="explicit", cafile=cafile)
        assert "sub" in names(client.listdir("/"))
        client.download("/big.bin", tmp_path / "big.bin")
        assert (tmp_path / "big.bin").read_bytes() == (tree / "big.bin").read_bytes()
        client.upload(tmp_path / "big.bin", "/tls-copy.bin")
        assert (tree / "tls-copy.bin").read_bytes() == (tree / "big.bin").read_bytes()
        text = transcript.text()
        assert "> AUTH TLS" in text and "> PROT P" in text and "* TLS" in text
        assert PASSWORD not in text
    finally:
        server.stop()


def test_untrusted_certificate_is_refused(tree, tls_files, client_for):
    pem, _ = tls_files
    server = FtpServer(tree, tls="explicit", cert=pem).start()
    try:
        client = client_for(server, tls="explicit")   # no test CA: not trusted
        with pytest.raises(CertificateError) as info:
            client.connect()
        assert "not trusted" in str(info.value)
        insecure = client_for(server, tls="explicit", verify=False)
        assert insecure.connect() == "/"
    finally:
        server.stop()


def test_implicit_tls(tree, tls_files, client_for, transcript, tmp_path):
    pem, cafile = tls_files
    server = FtpServer(tree, tls="implicit", cert=pem).start()
    try:
        client = client_for(server, tls="implicit", cafile=cafile)
        assert "hello.txt" in names(client.listdir("/"))
        text, _ = client.read_text("/hello.txt")
        assert text.startswith("Hello, FTP!")
        assert "> AUTH TLS" not in transcript.text()
        active = client_for(server, tls="implicit", cafile=cafile, passive=False)
        active.download("/big.bin", tmp_path / "big.bin")   # TLS on an active data connection too
        assert (tmp_path / "big.bin").read_bytes() == (tree / "big.bin").read_bytes()
        assert "> PORT " in transcript.text() or "> EPRT " in transcript.text()
    finally:
        server.stop()


def test_malformed_listing_lines_are_skipped(tmp_path, client_for, transcript):
    root = tmp_path / "odd"
    root.mkdir()
    (root / "good.txt").write_bytes(b"ok")
    (root / "bad\nname.txt").write_bytes(b"broken")   # breaks the listing line in two
    server = FtpServer(root).start()
    try:
        client = client_for(server)
        entries = names(client.listdir("/"))
        assert "good.txt" in entries
        assert "could not be read" in transcript.text()
    finally:
        server.stop()


def test_anonymous_login(tree, transcript):
    server = FtpServer(tree, anonymous=True).start()
    try:
        client = FtpClient(FtpSite("127.0.0.1", server.port, timeout=5), log=transcript)
        assert "hello.txt" in names(client.listdir())
        assert "> USER anonymous" in transcript.text()
        client.close()
    finally:
        server.stop()


def test_cancel_wakes_a_login_that_hangs(transcript):
    import socket
    silent = socket.create_server(("127.0.0.1", 0))   # accepts, never greets
    port = silent.getsockname()[1]
    token = CancelToken()
    client = FtpClient(FtpSite("127.0.0.1", port, timeout=30), log=transcript, token=token)
    errors = []
    worker = threading.Thread(target=lambda: errors.append(_capture(client.connect)))
    worker.start()
    time.sleep(0.3)
    started = time.monotonic()
    token.cancel()
    worker.join(5)
    silent.close()
    assert time.monotonic() - started < 2
    assert isinstance(errors[0], Cancelled)


def test_silent_server_times_out_with_a_clear_line(transcript):
    import socket

    from netgui.net.errors import NetTimeout
    silent = socket.create_server(("127.0.0.1", 0))
    client = FtpClient(FtpSite("127.0.0.1", silent.getsockname()[1], timeout=0.5), log=transcript)
    with pytest.raises(NetTimeout) as info:
        client.connect()
    silent.close()
    assert "did not answer in time" in str(info.value)


def _capture(fn):
    try:
        fn()
    except Exception as exc:
        return exc
    return None


def test_a_stale_size_from_the_listing_does_not_fail_a_download(ftpd, tree, client_for, tmp_path):
    client = client_for(ftpd)
    client.download("/hello.txt", tmp_path / "hello.txt", size=10_000)   # the file shrank since
    assert (tmp_path / "hello.txt").read_bytes() == (tree / "hello.txt").read_bytes()


def test_cancel_stops_an_upload_promptly(tree, client_for, tmp_path):
    server = FtpServer(tree, throttle=256 * 1024).start()
    try:
        local = tmp_path / "up.bin"
        local.write_bytes(os.urandom(8 * 1024 * 1024))
        token = CancelToken()
        client = client_for(server)
        client.connect()
        progress, errors = [], []

        def run():
            try:
                with client.bound(token):
                    client.upload(local, "/up.bin", progress=lambda d, t: progress.append(d))
            except Exception as exc:
                errors.append(exc)
        worker = threading.Thread(target=run)
        worker.start()
        deadline = time.monotonic() + 10
        while (not progress or progress[-1] == 0) and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.3)
        started = time.monotonic()
        token.cancel()
        worker.join(5)
        assert not worker.is_alive() and time.monotonic() - started < 2
        assert isinstance(errors[0], Cancelled)
        assert (tree / "up.bin").stat().st_size < local.stat().st_size
    finally:
        server.stop()
