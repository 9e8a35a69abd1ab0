"""SftpClient against Debian's OpenSSH sshd on loopback: log in every way, browse, transfer, fail well."""

from __future__ import annotations

import os
import threading
import time

import pytest

from netgui.net.cancel import CancelToken
from netgui.net.errors import AuthError, Cancelled, ConnectError, ConnectionLost, LocalFileError
from netgui.net.ftp.hostkeys import ALWAYS, ONCE, HostKeyChanged, HostKeyUnknown, KnownHosts
from netgui.net.ftp.listing import DIR, FILE, LINK
from netgui.net.ftp.queue import DONE, ClientPool, QueueRunner, TransferQueue
from netgui.net.ftp.sftp import SftpClient, SftpSite, SftpStatusError, pool_factory
from tests.support.peers import FaultyRelay, free_port
from tests.support.sshd import JAIL_USER, KEY_PASSPHRASE, PASSWORD, USER

from .conftest import snapshot


def names(entries):
    return {e.name: e for e in entries}


# -- logging in --------------------------------------------------------------------------------

def test_password_login_lists_sizes_times_perms_links_and_hides_the_password(sshd, sftp_tree, sftp_for,
                                                                             transcript):
    os.symlink("hello.txt", sftp_tree / "link.txt")
    os.lchown(sftp_tree / "link.txt", sshd.user.pw_uid, sshd.user.pw_gid)
    client = sftp_for(sshd, initial_dir=str(sftp_tree))
    assert client.connect() == str(sftp_tree)
    entries = names(client.listdir())
    assert entries["sub"].kind == DIR and entries["sub"].perms.startswith("d")
    assert entries["big.bin"].kind == FILE and entries["big.bin"].size == 3 * 1024 * 1024 + 17
    assert entries["hello.txt"].modified == pytest.approx((sftp_tree / "hello.txt").stat().st_mtime, abs=1)
    assert entries["hello.txt"].perms == "-rw-r--r--"
    assert entries["link.txt"].kind == LINK and entries["link.txt"].target == "hello.txt"
    assert "ünïcödé.txt" in entries
    text = transcript.text()
    assert PASSWORD not in text
    assert "AUTH password ****" in text and "OPENDIR" in text and "READDIR" in text


def test_wrong_password_is_one_clear_auth_error(sshd, sftp_for):
    with pytest.raises(AuthError) as info:
        sftp_for(sshd, password="wrong").connect()
    message = str(info.value)
    assert "refused the login" in message and USER in message and "password" in message
    assert "\n" not in message


@pytest.mark.parametrize("kind", ["ed25519", "ecdsa", "rsa"])
def test_key_file_login(sshd, sftp_for, kind, transcript):
    client = sftp_for(sshd, password="", key_file=str(sshd.keys[kind]), auth="key")
    assert client.connect() == str(sshd.root)
    assert "AUTH publickey" in transcript.text()


def test_encrypted_key_with_its_passphrase(sshd, sftp_for, transcript):
    client = sftp_for(sshd, password="", key_file=str(sshd.encrypted_key), key_passphrase=KEY_PASSPHRASE,
                      auth="key")
    client.connect()
    assert KEY_PASSPHRASE not in transcript.text()


def test_wrong_or_missing_passphrase_is_an_auth_error(sshd, sftp_for):
    with pytest.raises(AuthError, match="Wrong passphrase"):
        sftp_for(sshd, password="", key_file=str(sshd.encrypted_key), key_passphrase="nope", auth="key").connect()
    with pytest.raises(AuthError, match="encrypted"):
        sftp_for(sshd, password="", key_file=str(sshd.encrypted_key), auth="key").connect()


def test_password_and_passphrase_asked_only_when_needed(sshd, sftp_for, transcript):
    asked = []
    client = sftp_for(sshd, password="", auth="password",
                      ask_password=lambda user, host: asked.append((user, host)) or PASSWORD)
    client.connect()
    assert asked == [(USER, "127.0.0.1")]
    assert client.site.password == PASSWORD        # kept in memory for reconnects and the pool
    client._drop()
    client.listdir()
    assert len(asked) == 1
    phrases = []
    client = sftp_for(sshd, password="", key_file=str(sshd.encrypted_key), auth="key",
                      ask_passphrase=lambda path, problem: phrases.append((path, problem)) or KEY_PASSPHRASE,
                      ask_password=lambda u, h: pytest.fail("no password needed"))
    client.connect()
    assert phrases == [(str(sshd.encrypted_key), "")]
    assert PASSWORD not in transcript.text() and KEY_PASSPHRASE not in transcript.text()


def test_a_wrong_passphrase_is_asked_again_then_refused(sshd, sftp_for):
    asked = []
    client = sftp_for(sshd, password="", key_file=str(sshd.encrypted_key), key_passphrase="stale",
                      auth="key", ask_passphrase=lambda path, problem: asked.append(problem) or KEY_PASSPHRASE)
    client.connect()
    assert asked == [f"Wrong passphrase for the key file {sshd.encrypted_key}"]
    assert client.site.key_passphrase == KEY_PASSPHRASE
    asked.clear()
    with pytest.raises(AuthError, match="^Wrong passphrase"):
        sftp_for(sshd, password="", key_file=str(sshd.encrypted_key), auth="key",
                 ask_passphrase=lambda path, problem: asked.append(problem) or "nope").connect()
    assert len(asked) == 2 and asked[0] == "" and asked[1].startswith("Wrong passphrase")


def test_rejected_key_names_the_key_tried(sshd, sftp_for):
    with pytest.raises(AuthError) as info:
        sftp_for(sshd, password="", key_file=str(sshd.rejected_key), auth="key").connect()
    assert "id_rejected" in str(info.value) and "SHA256:" in str(info.value)


def test_missing_key_file_is_a_local_file_error(sshd, sftp_for, tmp_path):
    with pytest.raises(LocalFileError):
        sftp_for(sshd, password="", key_file=str(tmp_path / "nothing"), auth="key").connect()


def test_ssh_agent_login_and_absent_agent(sshd, sftp_for, ssh_agent, monkeypatch):
    sock, add = ssh_agent
    add(sshd.keys["ed25519"])
    client = sftp_for(sshd, password="", auth="agent", agent_path=sock)
    assert client.connect() == str(sshd.root)
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    with pytest.raises(AuthError, match="No SSH agent"):
        sftp_for(sshd, password="", auth="agent").connect()
    # "auto" without an agent just goes on with the password
    assert sftp_for(sshd, auth="auto", use_agent=True).connect() == str(sshd.root)


def test_keyboard_interactive_prompts_go_to_the_callback(sshd_pam, sftp_for, transcript):
    asked = []

    def answer(name, instructions, prompts):
        asked.append(prompts)
        return [PASSWORD]
    client = sftp_for(sshd_pam, password="", auth="keyboard-interactive", ask_kbdint=answer)
    assert client.connect() == str(sshd_pam.root)
    assert asked and asked[0][0][0].startswith("Password")
    assert asked[0][0][1] is False          # not echoed
    assert PASSWORD not in transcript.text() and "ANSWER ****" in transcript.text()
    assert threading.current_thread() is threading.main_thread()


def test_keyboard_interactive_wrong_answer_and_refusal(sshd_pam, sftp_for):
    with pytest.raises(AuthError):
        sftp_for(sshd_pam, password="", auth="keyboard-interactive",
                 ask_kbdint=lambda n, i, p: ["wrong"]).connect()
    with pytest.raises(AuthError):
        sftp_for(sshd_pam, password="", auth="keyboard-interactive", ask_kbdint=lambda n, i, p: None).connect()


def test_keyboard_interactive_answered_with_the_site_password(sshd_pam, sftp_for):
    assert sftp_for(sshd_pam, auth="password").connect() == str(sshd_pam.root)


def test_refused_port_is_a_connect_error(sftp_for, sshd):
    class Nowhere:
        port = free_port()

        def host_key_line(self):
            return ""
    with pytest.raises(ConnectError, match="refused"):
        sftp_for(Nowhere()).connect()


# -- host keys ---------------------------------------------------------------------------------

def test_unknown_host_key_once_always_and_refused(sshd, sftp_for, known_hosts_for, tmp_path):
    questions = []
    kh = known_hosts_for(None)            # nothing known
    user_file = tmp_path / "user_known_hosts"
    with pytest.raises(HostKeyUnknown):
        sftp_for(sshd, known_hosts=kh).connect()        # no one to ask: refused
    client = sftp_for(sshd, known_hosts=kh, ask_host_key=lambda q: questions.append(q) or ONCE)
    client.connect()
    q = questions[0]
    assert q.key_type == "ssh-ed25519" and q.fingerprint.startswith("SHA256:") and q.port == sshd.port
    assert "ED25519 key fingerprint is SHA256:" in q.text()
    assert not kh.own_file.exists()
    # "this time" lasts for the KnownHosts object (the app session): a second connection does not ask
    sftp_for(sshd, known_hosts=kh, ask_host_key=lambda q: pytest.fail("asked twice")).connect()
    # "always" writes netgui's own file (hashed), never the user's
    kh2 = known_hosts_for(None)
    sftp_for(sshd, known_hosts=kh2, ask_host_key=lambda q: ALWAYS).connect()
    saved = kh2.own_file.read_text()
    assert saved.startswith("|1|") and "ssh-ed25519" in saved and "127.0.0.1" not in saved
    assert user_file.read_text() == ""
    fresh = KnownHosts(kh2.own_file, user_files=[user_file])
    sftp_for(sshd, known_hosts=fresh, ask_host_key=lambda q: pytest.fail("asked again")).connect()


def test_hashed_user_known_hosts_entry_is_recognised(sshd, sftp_for, tmp_path):
    user_file = tmp_path / "hashed_known_hosts"
    user_file.write_text(sshd.host_key_line())
    import subprocess
    subprocess.run(["ssh-keygen", "-H", "-f", str(user_file)], check=True, capture_output=True)
    assert user_file.read_text().startswith("|1|")
    kh = KnownHosts(None, user_files=[user_file])
    sftp_for(sshd, known_hosts=kh, ask_host_key=lambda q: pytest.fail("asked")).connect()


def test_changed_host_key_is_refused_naming_both_fingerprints(sshd, sftp_for, tmp_path):
    import asyncssh
    other = asyncssh.generate_private_key("ssh-ed25519")
    blob = other.export_public_key().decode().split()[1]
    user_file = tmp_path / "known"
    user_file.write_text(f"[127.0.0.1]:{sshd.port} ssh-ed25519 {blob}\n")
    kh = KnownHosts(tmp_path / "own", user_files=[user_file])
    with pytest.raises(HostKeyChanged) as info:
        sftp_for(sshd, known_hosts=kh, ask_host_key=lambda q: pytest.fail("a changed key is never asked")).connect()
    message = str(info.value)
    real = asyncssh.read_public_key(f"{sshd.host_key}.pub").get_fingerprint()
    assert other.get_fingerprint() in message and real in message and "changed" in message
    assert not (tmp_path / "own").exists()


def test_port_22_entry_does_not_vouch_for_another_port(sshd, sftp_for, tmp_path):
    import asyncssh
    other = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode().split()[1]
    user_file = tmp_path / "known"
    user_file.write_text(f"127.0.0.1 ssh-ed25519 {other}\n")     # port 22's key, not this port's
    questions = []
    kh = KnownHosts(None, user_files=[user_file])
    sftp_for(sshd, known_hosts=kh, ask_host_key=lambda q: questions.append(q) or ONCE).connect()
    assert len(questions) == 1                                   # unknown, not "changed"


# -- browsing and editing ---------------------------------------------------------------------

def test_navigate_read_text_and_edit(sshd, sftp_tree, sftp_for):
    client = sftp_for(sshd, initial_dir=str(sftp_tree))
    assert client.chdir("sub") == f"{sftp_tree}/sub"
    assert set(names(client.listdir())) == {"inner.txt", "deeper"}
    assert client.chdir("..") == str(sftp_tree)
    text, truncated = client.read_text("hello.txt")
    assert text == "Hello, FTP!\nSecond line ünïcödé\n" and not truncated
    text, truncated = client.read_text("sub/inner.txt", limit=12)
    assert text == "inner\ninner\n" and truncated
    client.mkdir("made")
    client.rename("hello.txt", "made/renamed.txt")
    client.chmod("made/renamed.txt", 0o640)
    assert (sftp_tree / "made" / "renamed.txt").stat().st_mode & 0o777 == 0o640
    assert client.exists("made/renamed.txt").perms == "-rw-r-----"
    assert client.exists("nothing") is None and client.size("nothing") is None
    assert client.delete("sub", DIR) == 4      # inner.txt, deeper/deep.bin, deeper, sub
    assert not (sftp_tree / "sub").exists()
    client.ensure_dir(f"{sftp_tree}/x/y/z")
    assert (sftp_tree / "x" / "y" / "z").is_dir()
    with pytest.raises(SftpStatusError, match="no such file"):
        client.chdir("/no/such/folder")


def test_permission_denied_is_one_clear_line(sshd, sftp_tree, sftp_for):
    locked = sftp_tree / "locked"
    locked.mkdir()
    (locked / "f.txt").write_text("x")           # root's folder: the user cannot change it
    client = sftp_for(sshd, initial_dir=str(sftp_tree))
    with pytest.raises(SftpStatusError) as info:
        client.delete_file("locked/f.txt")
    assert str(info.value) == "Cannot delete locked/f.txt: permission denied"
    with pytest.raises(SftpStatusError, match="permission denied"):
        client.upload(sftp_tree / "hello.txt", "locked/new.txt")
    assert client.listdir()                      # still connected and usable


def test_chroot_user_sees_only_the_jail(sshd, sftp_for, tmp_path):
    client = sftp_for(sshd, user=JAIL_USER)
    assert client.connect() == "/files"
    assert [e.name for e in client.listdir("/")] == ["files"]
    src = tmp_path / "up.txt"
    src.write_bytes(b"jailed\n")
    client.upload(src, "/files/up.txt")
    assert (sshd.jail_files / "up.txt").read_bytes() == b"jailed\n"
    with pytest.raises(SftpStatusError, match="permission denied"):
        client.upload(src, "/up.txt")


# -- transfers ---------------------------------------------------------------------------------

def test_download_and_upload_round_trip_with_progress(sshd, sftp_tree, sftp_for, tmp_path, transcript):
    client = sftp_for(sshd, initial_dir=str(sftp_tree))
    seen = []
    target = tmp_path / "big.bin"
    assert client.download("big.bin", target, progress=lambda d, t: seen.append((d, t))) == 3 * 1024 * 1024 + 17
    assert target.read_bytes() == (sftp_tree / "big.bin").read_bytes()
    assert not target.with_name("big.bin.part").exists()
    assert seen[-1] == (3 * 1024 * 1024 + 17,) * 2 and [d for d, _ in seen] == sorted(d for d, _ in seen)
    up = []
    assert client.upload(target, "copy.bin", progress=lambda d, t: up.append(d)) == 3 * 1024 * 1024 + 17
    assert (sftp_tree / "copy.bin").read_bytes() == target.read_bytes()
    assert up[-1] == 3 * 1024 * 1024 + 17
    text = transcript.text()
    assert "OPEN" in text and "READ 3145745 bytes in" in text and "WRITE 3145745 bytes" in text


def test_empty_file_both_ways(sshd, sftp_tree, sftp_for, tmp_path):
    client = sftp_for(sshd, initial_dir=str(sftp_tree))
    assert client.download("empty.txt", tmp_path / "e") == 0 and (tmp_path / "e").read_bytes() == b""
    assert client.upload(tmp_path / "e", "e2") == 0 and (sftp_tree / "e2").read_bytes() == b""


def test_resume_download_and_upload_by_offset(sshd, sftp_tree, sftp_for, tmp_path, transcript):
    client = sftp_for(sshd, initial_dir=str(sftp_tree))
    data = (sftp_tree / "big.bin").read_bytes()
    target = tmp_path / "big.bin"
    target.with_name("big.bin.part").write_bytes(data[:1_000_000])
    assert client.download("big.bin", target, resume=True) == len(data) - 1_000_000
    assert target.read_bytes() == data
    assert "Resuming at byte 1000000" in transcript.text()
    (sftp_tree / "half.bin").write_bytes(data[:777_777])
    os.chown(sftp_tree / "half.bin", sshd.user.pw_uid, sshd.user.pw_gid)
    assert client.upload(target, "half.bin", resume=True) == len(data) - 777_777
    assert (sftp_tree / "half.bin").read_bytes() == data


def test_tree_round_trip_skips_unusable_names(sshd, sftp_tree, sftp_for, tmp_path):
    client = sftp_for(sshd, initial_dir=str(sftp_tree))
    down = tmp_path / "out" / "down"
    client.download_tree(str(sftp_tree), down)
    expected = {k: v for k, v in snapshot(sftp_tree).items() if not k.startswith("hostile")}
    assert {k: v for k, v in snapshot(down).items() if not k.startswith("hostile")} == expected
    for name in os.listdir(down / "hostile"):
        assert "/" not in name and "\\" not in name and "\x1b" not in name
    assert sorted(os.listdir(tmp_path / "out")) == ["down"]     # nothing escaped
    client.upload_tree(down, f"{sftp_tree}/again")
    assert {k: v for k, v in snapshot(sftp_tree / "again").items() if not k.startswith("hostile")} == expected


def test_server_gone_mid_download_keeps_part_then_resumes(sshd, sftp_tree, sftp_for, tmp_path):
    data = (sftp_tree / "big.bin").read_bytes()
    target = tmp_path / "big.bin"
    with FaultyRelay(sshd.port, mode="drop", after=1_200_000) as relay:
        class Via:
            port = relay.port

            def host_key_line(self):
                return sshd.host_key_line().replace(str(sshd.port), str(relay.port))
        client = sftp_for(Via(), initial_dir=str(sftp_tree))
        client.connect()
        relay.armed.set()
        with pytest.raises(ConnectionLost) as info:
            client.download("big.bin", target)
        assert "\n" not in str(info.value)
    part = target.with_name("big.bin.part")
    assert part.exists() and 0 < part.stat().st_size < len(data)
    again = sftp_for(sshd, initial_dir=str(sftp_tree))
    again.download("big.bin", target, resume=True)
    assert target.read_bytes() == data and not part.exists()


def test_dropped_idle_connection_reconnects_transparently(sshd, sftp_tree, sftp_for, transcript):
    client = sftp_for(sshd, initial_dir=str(sftp_tree))
    client.connect()
    client._drop()                     # as if the server had gone away while idle
    assert "hello.txt" in names(client.listdir())
    assert client.cwd == str(sftp_tree)
    # a connection that died under us (not yet noticed) is retried once
    conn = client._conn
    client._loop.call_soon_threadsafe(conn.abort)
    time.sleep(0.3)
    assert "hello.txt" in names(client.listdir())


def test_cancel_during_download_is_quick_and_keeps_the_client(sshd, sftp_tree, sftp_for, tmp_path):
    big = sftp_tree / "huge.bin"
    with open(big, "wb") as f:
        f.truncate(400 * 1024 * 1024)              # sparse: quick to make
    client = sftp_for(sshd, initial_dir=str(sftp_tree))
    client.connect()
    token = CancelToken()
    started = threading.Event()

    def progress(done, total):
        if done > 0:
            started.set()
    threading.Thread(target=lambda: (started.wait(10), token.cancel()), daemon=True).start()
    t0 = time.monotonic()
    with pytest.raises(Cancelled):
        with client.bound(token):
            client.download("huge.bin", tmp_path / "huge.bin", progress=progress)
    assert time.monotonic() - t0 < 8
    assert (tmp_path / "huge.bin.part").exists()
    assert "hello.txt" in names(client.listdir())


def test_local_disk_full_is_one_clear_line(sshd, sftp_tree, sftp_for, tmp_path):
    client = sftp_for(sshd, initial_dir=str(sftp_tree))
    target = tmp_path / "big.bin"
    os.symlink("/dev/full", target.with_name("big.bin.part"))
    with pytest.raises(LocalFileError, match="full|space"):
        client.download("big.bin", target)


def test_keepalive_pings_an_idle_connection(sshd, sftp_for, transcript):
    client = sftp_for(sshd)
    assert client.keepalive(idle=0) is False    # not connected: nothing to keep
    client.connect()
    assert client.keepalive(idle=3600) is False
    assert client.keepalive(idle=0) is True
    assert "STAT" in transcript.text()


def test_transfer_queue_runs_on_sftp(sshd, sftp_tree, tmp_path):
    import functools
    site = SftpSite("127.0.0.1", sshd.port, user=USER, password=PASSWORD, use_agent=False, timeout=10)
    kh = KnownHosts(None, user_files=[])
    factory = functools.partial(SftpClient, known_hosts=kh, ask_host_key=lambda q: ONCE)
    queue = TransferQueue(concurrency=3)
    batch = queue.new_batch("overwrite")
    queue.add_download(str(sftp_tree / "sub"), tmp_path, is_dir=True, batch=batch)
    queue.add_download(str(sftp_tree / "big.bin"), tmp_path, size=3 * 1024 * 1024 + 17, batch=batch)
    queue.add_upload(sftp_tree / "hello.txt", str(sftp_tree / "uploaded"), batch=batch)
    (sftp_tree / "uploaded").mkdir()
    os.chown(sftp_tree / "uploaded", sshd.user.pw_uid, sshd.user.pw_gid)
    pool = ClientPool(site, size=3, factory=factory)
    try:
        QueueRunner(queue, pool).run()
    finally:
        pool.close()
    assert all(i.state == DONE for i in queue.items), [(i.remote, i.state, i.error) for i in queue.items]
    assert (tmp_path / "sub" / "deeper" / "deep.bin").read_bytes() == (sftp_tree / "sub/deeper/deep.bin").read_bytes()
    assert (sftp_tree / "uploaded" / "hello.txt").exists()


def test_parallel_transfers_log_in_with_what_the_first_login_learnt(sshd, sftp_tree, tmp_path, transcript):
    site = SftpSite("127.0.0.1", sshd.port, user=USER, password="", use_agent=False, timeout=10)
    asked = []
    browse = SftpClient(site, log=transcript, known_hosts=KnownHosts(None, user_files=[]),
                        ask_host_key=lambda q: asked.append(q) or ONCE,
                        ask_password=lambda u, h: asked.append(u) or PASSWORD)
    browse.connect()
    queue = TransferQueue(concurrency=3)
    batch = queue.new_batch("overwrite")
    for name in ("big.bin", "hello.txt", "space name.txt", "ünïcödé.txt"):
        queue.add_download(str(sftp_tree / name), tmp_path, batch=batch)
    queue.add_download(str(sftp_tree / "sub"), tmp_path, is_dir=True, batch=batch)
    pool = ClientPool(site, size=3, factory=pool_factory(browse), log=transcript)
    try:
        runner = QueueRunner(queue, pool, log=transcript)
        runner.run()
    finally:
        pool.close()
    assert all(i.state == DONE for i in queue.items), [(i.remote, i.state, i.error) for i in queue.items]
    assert pool.created >= 2 and runner.max_parallel >= 2
    assert len(asked) == 2                                   # one host key question, one password
    # each transfer client has its own connection (measured faster than sessions sharing one)
    assert transcript.text().count("Logged in with password") == 1 + pool.created
    assert (tmp_path / "big.bin").read_bytes() == (sftp_tree / "big.bin").read_bytes()
    # the browsing client outlives the pool's sessions
    assert "hello.txt" in names(browse.listdir(str(sftp_tree)))
    browse.close()


def test_siblings_reconnect_together(sshd, sftp_tree, sftp_for):
    a = sftp_for(sshd, initial_dir=str(sftp_tree))
    a.connect()
    b = a.sibling()
    assert b.connect() == str(sftp_tree)
    a._drop()                                   # the shared connection is gone for both
    assert not b.connected
    assert "hello.txt" in names(b.listdir())
    assert a._conn is b._conn and "hello.txt" in names(a.listdir())
    b.close()
    assert "hello.txt" in names(a.listdir())    # closing a sibling leaves the connection


@pytest.fixture
def small_disk(sshd, sftp_tree):
    """A 256 KiB tmpfs inside the user's folder (root may mount on this machine kind)."""
    import subprocess
    mount = sftp_tree / "small"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o",
                    f"size=256k,uid={sshd.user.pw_uid},gid={sshd.user.pw_gid},mode=0755", "tmpfs", str(mount)],
                   check=True, capture_output=True)
    yield mount
    subprocess.run(["umount", str(mount)], check=False, capture_output=True)


def test_remote_disk_full_is_one_clear_line(sshd, sftp_tree, sftp_for, small_disk):
    client = sftp_for(sshd, initial_dir=str(sftp_tree))
    with pytest.raises(SftpStatusError) as info:
        client.upload(sftp_tree / "big.bin", "small/big.bin")
    assert str(info.value) == ("Cannot upload small/big.bin: the server could not write the file "
                               "(is its disk full or the quota used up?)")
    assert "hello.txt" in names(client.listdir())            # the session goes on
