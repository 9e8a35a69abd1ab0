"""SftpClient against a hostile SFTP server (asyncssh's server side): bad names, drops, stalls, lies."""

from __future__ import annotations

import os

import pytest

from netgui.net.errors import AuthError, ConnectionLost, NetTimeout
from netgui.net.ftp.hostkeys import ALWAYS, HostKeyChanged, KnownHosts
from netgui.net.ftp.listing import display_name
from netgui.net.ftp.sftp import SftpClient, SftpSite, SftpStatusError
from tests.support.hostile_sftp import OTP, PASSWORD, USER


@pytest.fixture
def hostile_client(hostile, tmp_path, transcript):
    clients = []
    known = tmp_path / "known_hosts"
    known.write_text(hostile.host_key_line())

    def make(**kw) -> SftpClient:
        kw.setdefault("user", USER)
        kw.setdefault("password", PASSWORD)
        kw.setdefault("timeout", 5)
        kw.setdefault("use_agent", False)
        ask_kbdint = kw.pop("ask_kbdint", None)
        kh = kw.pop("known_hosts", None) or KnownHosts(None, user_files=[known])
        client = SftpClient(SftpSite("127.0.0.1", hostile.port, **kw), log=transcript, known_hosts=kh,
                            ask_kbdint=ask_kbdint)
        clients.append(client)
        return client
    yield make
    for c in clients:
        c.close()


def test_listing_drops_impossible_names_and_downloads_stay_inside(hostile_client, tmp_path, transcript):
    client = hostile_client()
    entries = client.listdir("/hostile")
    names = [e.name for e in entries]
    for bad in ("../escape.txt", "/etc/passwd", "a/b.txt", "..", ".", ""):
        assert bad not in names
    assert not any("\x00" in n for n in names)
    assert "ctl\x1bname.txt" in names                  # legal remotely: shown, but made visible
    assert "\x1b" not in display_name("ctl\x1bname.txt")
    assert "Ignored a name no server may send" in transcript.text()
    target = tmp_path / "out"
    client.download_tree("/hostile", target)
    for path in tmp_path.rglob("*"):
        assert path == target or target in path.parents or path.name in ("known_hosts",) \
            or (tmp_path / "served") in path.parents or path == tmp_path / "served"
    got = sorted(os.listdir(target))
    assert "ok.txt" in got
    assert not any("\x1b" in n or "/" in n or "\u202e" in n for n in got)


def test_server_gone_mid_file_then_resume(hostile, hostile_client, tmp_path):
    client = hostile_client()
    target = tmp_path / "drop.bin"
    with pytest.raises(ConnectionLost) as info:
        client.download("/drop.bin", target)
    assert "\n" not in str(info.value)
    part = target.with_name("drop.bin.part")
    assert part.exists() and 0 < part.stat().st_size <= 2_000_000
    assert not target.exists()
    # the same client reconnects and continues at the offset it has
    client.download("/drop.bin", target, resume=True)
    assert target.read_bytes() == (hostile.root / "drop.bin").read_bytes()


def test_stalled_read_times_out(hostile_client, tmp_path):
    client = hostile_client(timeout=2)
    with pytest.raises(NetTimeout):
        client.download("/stall.bin", tmp_path / "stall.bin")
    assert (tmp_path / "stall.bin.part").exists()


def test_remote_disk_full_and_permission_denied(hostile_client, tmp_path):
    client = hostile_client()
    src = tmp_path / "src.bin"
    src.write_bytes(b"y" * 100_000)
    with pytest.raises(SftpStatusError) as info:
        client.upload(src, "/full/x.bin")
    assert str(info.value) == "Cannot upload /full/x.bin: No space left on device"
    with pytest.raises(SftpStatusError) as info:
        client.listdir("/secret")
    assert str(info.value) == "Cannot list /secret: permission denied"
    assert client.read_text("/hello.txt") == ("hello\n", False)   # still fine after errors


def test_keyboard_interactive_with_two_prompts(hostile_client, transcript):
    seen = []

    def answer(name, instructions, prompts):
        seen.append((name, instructions, prompts))
        return [PASSWORD if "Password" in p else OTP for p, _ in prompts]
    client = hostile_client(password="", auth="keyboard-interactive", ask_kbdint=answer)
    client.connect()
    name, instructions, prompts = seen[0]
    assert name == "netgui test" and instructions == "Two questions follow."
    assert prompts == [("Password: ", False), ("Verification code: ", True)]
    text = transcript.text()
    assert PASSWORD not in text and OTP not in text


def test_keyboard_interactive_declined_is_an_auth_error(hostile_client):
    with pytest.raises(AuthError):
        hostile_client(password="", auth="keyboard-interactive", ask_kbdint=lambda *a: None).connect()


def test_changed_host_key_after_trusting_it(hostile, hostile_client, tmp_path):
    own = tmp_path / "netgui_known_hosts"
    first = KnownHosts(own, user_files=[])
    c1 = SftpClient(SftpSite("127.0.0.1", hostile.port, user=USER, password=PASSWORD, use_agent=False, timeout=5),
                    known_hosts=first, ask_host_key=lambda q: ALWAYS)
    c1.connect()
    c1.close()
    old = hostile.host_key.get_fingerprint()
    new = hostile.rotate_host_key("ecdsa-sha2-nistp256").get_fingerprint()
    asked = []
    client = hostile_client(known_hosts=KnownHosts(own, user_files=[]))
    client.ask_host_key = lambda q: asked.append(q) or ALWAYS
    with pytest.raises(HostKeyChanged) as info:
        client.connect()
    assert old in str(info.value) and new in str(info.value) and not asked
    assert own.read_text().count("\n") == 1           # nothing added


def test_connection_cut_while_idle_reconnects(hostile, hostile_client, transcript):
    client = hostile_client()
    client.connect()
    hostile.drop_all()
    import time
    time.sleep(0.3)
    assert "hello.txt" in [e.name for e in client.listdir("/")]


def test_a_listing_without_end_is_cut_off(hostile_client, monkeypatch):
    from netgui.net.errors import ProtocolError
    from netgui.net.ftp import sftp
    monkeypatch.setattr(sftp, "MAX_LISTING_ENTRIES", 3000)
    client = hostile_client()
    with pytest.raises(ProtocolError, match="more than 3,000 entries"):
        client.listdir("/endless")
    assert [e.name for e in client.listdir("/")]          # the connection is still good


def test_after_a_one_time_code_transfers_share_the_connection(hostile, hostile_client, tmp_path, transcript):
    from netgui.net.ftp.queue import DONE, ClientPool, QueueRunner, TransferQueue
    from netgui.net.ftp.sftp import pool_factory
    asked = []
    browse = hostile_client(password="", auth="keyboard-interactive",
                            ask_kbdint=lambda n, i, p: asked.append(p) or [PASSWORD, OTP])
    browse.connect()
    queue = TransferQueue(concurrency=2)
    for name in ("hello.txt", "drop.bin"):
        queue.add_download(f"/{name}", tmp_path, batch=queue.new_batch("overwrite"))
    hostile.dropped = True                   # serve drop.bin whole
    pool = ClientPool(browse.site, size=2, factory=pool_factory(browse))
    try:
        QueueRunner(queue, pool).run()
    finally:
        pool.close()
    assert all(i.state == DONE for i in queue.items), [(i.remote, i.error) for i in queue.items]
    assert len(asked) == 1                               # the code was asked once...
    assert transcript.text().count("Logged in with") == 1   # ...as the sessions share its connection
