"""The transfer queue against a real pyftpdlib server: concurrency, conflicts, retry, folders."""

from __future__ import annotations

import os

from netgui.net.ftp.client import FtpSite
from netgui.net.ftp.queue import (
    DONE,
    FAILED,
    OVERWRITE,
    RENAME,
    RESUME,
    SKIP,
    SKIPPED,
    ClientPool,
    QueueRunner,
    TransferQueue,
)
from tests.support.ftpd import PASSWORD, USER, FtpServer

from .conftest import snapshot


def site(server, **kw):
    return FtpSite("127.0.0.1", server.port, user=USER, password=PASSWORD, timeout=10, **kw)


def run(queue, server, decide=None, log=None, **kw):
    pool = ClientPool(site(server), size=4)
    runner = QueueRunner(queue, pool, decide=decide, **({"log": log} if log is not None else {}))
    try:
        runner.run()
    finally:
        pool.close()
    return runner, pool


def test_concurrent_transfers_use_their_own_connections(tmp_path):
    root = tmp_path / "srv"
    root.mkdir()
    for i in range(6):
        (root / f"f{i}.bin").write_bytes(os.urandom(1_500_000))
    server = FtpServer(root, throttle=1_000_000).start()
    try:
        queue = TransferQueue(concurrency=3)
        batch = queue.new_batch()
        for i in range(6):
            queue.add_download(f"/f{i}.bin", tmp_path / "down", size=1_500_000, batch=batch)
        runner, pool = run(queue, server)
        assert runner.max_parallel == 3
        assert pool.created == 3
        assert all(item.state == DONE for item in queue.items)
        assert queue.totals() == (6 * 1_500_000, 6 * 1_500_000)
        assert snapshot(tmp_path / "down") == snapshot(root)
    finally:
        server.stop()


def test_folder_download_and_upload_through_the_queue(ftpd, tree, tmp_path):
    queue = TransferQueue(concurrency=2)
    queue.add_download("/sub", tmp_path / "down", is_dir=True)
    queue.add_download("/hostile", tmp_path / "down", is_dir=True)
    run(queue, ftpd)
    failed = [i for i in queue.items if i.state != DONE]
    assert [i.state for i in failed] == [FAILED] * 3   # control characters, or dots only
    assert all(i.error.startswith("Refusing the remote name") for i in failed)
    assert snapshot(tmp_path / "down" / "sub") == snapshot(tree / "sub")
    inner = tmp_path / "down" / "sub" / "inner.txt"   # the remote modification time is kept
    assert abs(inner.stat().st_mtime - (tree / "sub" / "inner.txt").stat().st_mtime) < 1.01
    assert len(list((tmp_path / "down" / "hostile").iterdir())) == len(list((tree / "hostile").iterdir())) - 3

    queue = TransferQueue(concurrency=2)
    queue.add_upload(tmp_path / "down" / "sub", "/copied")
    run(queue, ftpd)
    assert snapshot(tree / "copied" / "sub") == snapshot(tree / "sub")


def test_conflict_answer_is_remembered_for_the_batch(ftpd, tree, tmp_path):
    down = tmp_path / "down"
    down.mkdir()
    (down / "hello.txt").write_text("mine")
    (down / "empty.txt").write_text("mine too")
    asked = []

    def decide(item):
        asked.append(item.name)
        return SKIP, True

    queue = TransferQueue(concurrency=2)
    batch = queue.new_batch()
    for name in ("hello.txt", "empty.txt", "space name.txt"):
        queue.add_download(f"/{name}", down, batch=batch)
    run(queue, ftpd, decide)
    assert len(asked) == 1            # one question for the whole batch
    assert batch.policy == SKIP
    assert (down / "hello.txt").read_text() == "mine"
    assert (down / "empty.txt").read_text() == "mine too"
    assert (down / "space name.txt").read_bytes() == b"spaces\n"
    assert sorted(i.state for i in queue.items) == [DONE, SKIPPED, SKIPPED]

    queue = TransferQueue()
    queue.add_download("/hello.txt", down, batch=queue.new_batch(RENAME))
    queue.add_download("/empty.txt", down, batch=queue.new_batch(OVERWRITE))
    run(queue, ftpd)
    assert (down / "hello.txt").read_text() == "mine"
    assert (down / "hello (1).txt").read_bytes() == (tree / "hello.txt").read_bytes()
    assert (down / "empty.txt").read_bytes() == b""


def test_resume_policy_continues_a_partial_download(ftpd, tree, tmp_path, transcript):
    down = tmp_path / "down"
    down.mkdir()
    data = (tree / "big.bin").read_bytes()
    (down / "big.bin").write_bytes(data[:1_000_000])
    queue = TransferQueue()
    queue.add_download("/big.bin", down, size=len(data), batch=queue.new_batch(RESUME))
    run(queue, ftpd, log=transcript)
    assert "> REST 1000000" in transcript.text()
    assert (down / "big.bin").read_bytes() == data


def test_failed_items_keep_their_error_and_can_be_retried(ftpd, tree, tmp_path):
    queue = TransferQueue()
    item = queue.add_download("/later.txt", tmp_path / "down")
    run(queue, ftpd)
    assert item.state == FAILED
    assert item.error.startswith("Cannot download /later.txt: 550")
    assert item in queue.items
    (tree / "later.txt").write_bytes(b"now it exists\n")
    queue.retry(item)
    run(queue, ftpd)
    assert item.state == DONE
    assert (tmp_path / "down" / "later.txt").read_bytes() == b"now it exists\n"


def test_upload_conflicts_rename_and_resume(ftpd, tree, tmp_path):
    local = tmp_path / "hello.txt"
    local.write_text("new hello\n")
    queue = TransferQueue()
    item = queue.add_upload(local, "/", batch=queue.new_batch(RENAME))
    run(queue, ftpd)
    assert item.remote == "/hello (1).txt"
    assert (tree / "hello (1).txt").read_text() == "new hello\n"
    assert (tree / "hello.txt").read_text().startswith("Hello, FTP!")

    big = tmp_path / "big.bin"
    big.write_bytes((tree / "big.bin").read_bytes() + b"tail" * 1000)
    queue = TransferQueue()
    item = queue.add_upload(big, "/", batch=queue.new_batch(RESUME))
    run(queue, ftpd)
    assert item.state == DONE
    assert (tree / "big.bin").read_bytes() == big.read_bytes()


def test_a_transfer_cut_off_resumes_by_itself(tree, tmp_path):
    import threading
    import time
    server = FtpServer(tree, throttle=500_000).start()
    queue = TransferQueue(retry_delay=1.5)
    item = queue.add_download("/big.bin", tmp_path / "down", size=(tree / "big.bin").stat().st_size)
    lines = []
    pool = ClientPool(site(server), size=1, log=lambda d, t: lines.append(f"{d} {t}"))
    runner = QueueRunner(queue, pool, log=lambda d, t: lines.append(f"{d} {t}"))
    thread = threading.Thread(target=runner.run)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while item.done < 400_000 and time.monotonic() < deadline:
            time.sleep(0.02)
        server.kill()                      # the server dies mid-transfer …
        while "retrying" not in item.error and time.monotonic() < deadline:
            time.sleep(0.02)
        assert item.state == "queued" and "was lost" in item.error
        server = FtpServer(tree, port=server.port).start()   # … and is back before the retry
        thread.join(30)
        assert item.state == DONE and item.attempts == 2
        assert (tmp_path / "down" / "big.bin").read_bytes() == (tree / "big.bin").read_bytes()
        assert any(line.startswith("> REST ") for line in lines)
    finally:
        runner.cancel()
        pool.close()
        server.stop()
