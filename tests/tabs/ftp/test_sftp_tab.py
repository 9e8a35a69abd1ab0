"""The FTP / SFTP tab over SFTP in a real window: OpenSSH's sshd and the hostile asyncssh server.

Every dialog a login can raise (host key, passphrase, keyboard-interactive) is answered the
way a user would, through the dialog's own widgets; every bad input ends in one clear line.
"""

from __future__ import annotations

import os
import stat
import subprocess

import asyncssh
import pytest

from netgui.config import config_dir
from netgui.net.ftp.hostkeys import KnownHosts
from netgui.tabs import TabSpec
from netgui.tabs.ftp.dialogs import ChmodDialog, HostKeyChangedDialog, HostKeyDialog, KbdIntDialog
from netgui.ui.dialogs import PasswordDialog
from tests.support import hostile_sftp
from tests.support.sshd import KEY_PASSPHRASE, PASSWORD, USER
from tests.support.tk import pump

FTP_TAB = TabSpec("ftp", "FTP / SFTP", "netgui.tabs.ftp", "FtpTab")


@pytest.fixture
def user_known_hosts(tmp_path):
    """Stands in for ~/.ssh/known_hosts (the real one is never read or written by tests)."""
    path = tmp_path / "user_known_hosts"
    path.write_text("")
    return path


@pytest.fixture
def tab(make_app, tmp_path, user_known_hosts, monkeypatch):
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    app = make_app(tabs=[FTP_TAB])
    tab = app._ensure_built("ftp")
    tab._known_hosts = KnownHosts(config_dir() / "known_hosts", user_files=[user_known_hosts])
    local = tmp_path / "local"
    local.mkdir()
    tab.local_go(str(local))
    pump(app.root, until=lambda: tab.local_pane.path == str(local), timeout=5, message="local pane")
    return tab


def connect(tab, server, **values):
    form = {"protocol": "SFTP", "host": "127.0.0.1", "port": server.port, "user": USER,
            "password": PASSWORD, "login": "Automatic", "key_file": "", "folder": ""}
    form.update(values)
    tab.form.set_values(form)
    tab.form.submit_button.invoke()


def dialog(tab, kind, timeout=15):
    """The dialog a worker's question opened (waits for it)."""
    pump(tab.app.root, until=lambda: isinstance(tab.ask_dialog, kind) and tab.ask_dialog.winfo_exists(),
         timeout=timeout, message=f"a {kind.__name__}")
    found, tab.ask_dialog = tab.ask_dialog, None
    return found


def wait_remote(tab, path=None, timeout=15):
    pane = tab.remote_pane
    pump(tab.app.root, until=lambda: pane.entries and not pane.filling and (path is None or pane.path == path),
         timeout=timeout, message=f"remote listing of {path}")


def wait_connected(tab, timeout=15):
    pump(tab.app.root, until=lambda: not tab.form.busy and not tab.remote_pane.filling
         and tab.form.status.cget("text").startswith("Connected to"), timeout=timeout, message="connected")


def wait_failed(tab, text, timeout=15):
    pump(tab.app.root, until=lambda: not tab.form.busy and text in tab.form.status.cget("text"),
         timeout=timeout, message=f"the error {text!r}")
    line = tab.form.status.cget("text")
    assert "\n" not in line
    return line


def wait_queue(tab, timeout=30):
    pump(tab.app.root, until=lambda: not tab.queue.pending() and not tab.item_tasks, timeout=timeout,
         message="the transfer queue")


def fingerprint(pub_path) -> str:
    return asyncssh.read_public_key(str(pub_path)).get_fingerprint("sha256")


def test_browse_transfer_and_manage_over_sftp(tab, sshd, sftp_tree, tmp_path, monkeypatch):
    local = tmp_path / "local"
    os.symlink("hello.txt", sftp_tree / "link.txt")
    os.lchown(sftp_tree / "link.txt", sshd.user.pw_uid, sshd.user.pw_gid)
    connect(tab, sshd, folder=str(sftp_tree))

    # an unknown host: its key type and SHA256 fingerprint, "this time"
    question = dialog(tab, HostKeyDialog)
    assert question.question.fingerprint == fingerprint(f"{sshd.host_key}.pub")
    assert question.question.key_type == "ssh-ed25519"
    question.once_button.invoke()
    wait_remote(tab, str(sftp_tree))
    pane = tab.remote_pane
    assert pane.shown_names()[:3] == ["empty_dir", "hostile", "sub"]
    assert "(SFTP over SSH)" in tab.form.status.cget("text")
    link = next(e for e in pane.entries if e.name == "link.txt")
    assert link.kind == "link" and link.target == "hello.txt"
    assert next(e for e in pane.entries if e.name == "hello.txt").perms == "-rw-r--r--"
    log = tab.transcript.contents()
    assert "AUTH password ****" in log and "OPENDIR" in log and "READDIR" in log and PASSWORD not in log

    # download a file and a folder: parallel SFTP sessions on the one connection
    tab.set_concurrency(2)
    pane.select_names(["big.bin", "sub"])
    tab.download_button.invoke()
    wait_queue(tab)
    assert (local / "big.bin").read_bytes() == (sftp_tree / "big.bin").read_bytes()
    assert (local / "sub" / "deeper" / "deep.bin").read_bytes() == (sftp_tree / "sub" / "deeper" / "deep.bin").read_bytes()
    log = tab.transcript.contents()
    assert "] OPEN " in log and "] READ " in log
    assert "[1] AUTH password ****" in log and PASSWORD not in log   # transfers log in on their own...
    assert tab.ask_dialog is None                                    # ...without asking again

    # upload
    (local / "from me.txt").write_text("uploaded over sftp\n")
    tab.local_pane.refresh_button.invoke()
    pump(tab.app.root, until=lambda: "from me.txt" in tab.local_pane.shown_names(), timeout=5)
    tab.local_pane.select_names(["from me.txt"])
    tab.upload_button.invoke()
    wait_queue(tab)
    assert (sftp_tree / "from me.txt").read_text() == "uploaded over sftp\n"
    pump(tab.app.root, until=lambda: "from me.txt" in pane.shown_names(), timeout=10, message="the upload listed")

    # chmod through the dialog: the boxes and the number agree
    pane.select_names(["hello.txt"])
    tab.chmod_selected()
    chmod = tab.chmod_dialog
    assert isinstance(chmod, ChmodDialog) and chmod.octal.get() == "644"
    chmod.bits[0o004].set(False)
    chmod.bits[0o040].set(False)
    assert chmod.octal.get() == "600"
    chmod.ok_button.invoke()
    pump(tab.app.root, until=lambda: stat.S_IMODE((sftp_tree / "hello.txt").stat().st_mode) == 0o600,
         timeout=10, message="the new permissions")
    pump(tab.app.root, until=lambda: any(e.name == "hello.txt" and e.perms == "-rw-------" for e in pane.entries),
         timeout=10, message="the listing to show them")
    assert "SETSTAT mode=600" in tab.transcript.contents()

    # view a remote text file, rename, new folder
    pane.select_names(["hello.txt"])
    tab.view_selected()
    pump(tab.app.root, until=lambda: tab.viewer is not None, timeout=10, message="viewer")
    assert tab.viewer.text.get("1.0", "end-1c") == "Hello, FTP!\nSecond line ünïcödé\n"
    tab.viewer.destroy()
    tab.mkdir_remote("made here")
    pump(tab.app.root, until=lambda: "made here" in pane.shown_names(), timeout=10, message="new folder")
    entry = next(e for e in pane.entries if e.name == "space name.txt")
    tab.rename_remote(entry, "renamed.txt")
    pump(tab.app.root, until=lambda: "renamed.txt" in pane.shown_names(), timeout=10, message="rename")

    # delete a folder with everything in it, after confirming
    asked = []
    monkeypatch.setattr("netgui.tabs.ftp.confirm", lambda *a, **k: asked.append(a) or True)
    pane.select_names(["sub"])
    tab.delete_remote_selected()
    pump(tab.app.root, until=lambda: "sub" not in pane.shown_names() and not pane.filling, timeout=10,
         message="the folder to go")
    assert asked and not (sftp_tree / "sub").exists()

    # the key accepted "this time" holds while netgui runs: connecting again does not ask
    tab.disconnect()
    connect(tab, sshd, folder=str(sftp_tree))
    wait_remote(tab, str(sftp_tree))
    assert tab.ask_dialog is None
    assert not (config_dir() / "known_hosts").exists()


def test_always_trust_writes_netguis_known_hosts_not_the_users(make_app, tab, sshd, user_known_hosts):
    connect(tab, sshd)
    dialog(tab, HostKeyDialog).always_button.invoke()
    wait_connected(tab)
    own = (config_dir() / "known_hosts").read_text()
    assert own.startswith("|1|") and own.count("\n") == 1      # hashed, like HashKnownHosts
    assert stat.S_IMODE((config_dir() / "known_hosts").stat().st_mode) == 0o600
    assert user_known_hosts.read_text() == ""
    # a new session of the tab knows the key from netgui's file
    tab.disconnect()
    tab._known_hosts = KnownHosts(config_dir() / "known_hosts", user_files=[user_known_hosts])
    connect(tab, sshd)
    wait_connected(tab)
    assert tab.ask_dialog is None
    assert "is known" in tab.transcript.contents()


def test_changed_host_key_is_refused_naming_both_keys(tab, hostile, user_known_hosts):
    old = fingerprint_of(hostile.host_key)
    user_known_hosts.write_text(hostile.host_key_line())
    new_key = hostile.rotate_host_key("ecdsa-sha2-nistp256")
    connect(tab, hostile, user=hostile_sftp.USER, password=hostile_sftp.PASSWORD, login="Password")
    line = wait_failed(tab, "has changed")
    assert line == f"The host key of [127.0.0.1]:{hostile.port} has changed: not connected"
    log = tab.transcript.contents()
    assert old in log and new_key.get_fingerprint("sha256") in log     # the whole line, in the transcript
    warning = dialog(tab, HostKeyChangedDialog)
    buttons = [w for w in all_widgets(warning) if w.winfo_class() == "TButton"]
    assert [b.cget("text") for b in buttons] == ["Close"]        # no "continue anyway"
    shown = " ".join(w.get() for w in all_widgets(warning) if w.winfo_class() == "TEntry")
    assert old in shown and new_key.get_fingerprint("sha256") in shown and "ECDSA" in shown
    assert str(user_known_hosts) in shown
    warning.close_button.invoke()
    assert tab.client is None and hostile_sftp.PASSWORD not in tab.transcript.contents()


def test_key_passphrase_is_asked_and_kept_only_when_remembered(tab, sshd, test_keyring, user_known_hosts):
    user_known_hosts.write_text(sshd.host_key_line())
    values = dict(login="Key file", key_file=str(sshd.encrypted_key), password="")
    connect(tab, sshd, **values)
    ask = dialog(tab, PasswordDialog)
    assert str(sshd.encrypted_key) in " ".join(w.cget("text") for w in all_widgets(ask) if w.winfo_class() == "TLabel")
    ask.answer(KEY_PASSPHRASE, remember=False)
    wait_connected(tab)
    assert KEY_PASSPHRASE not in test_keyring.store.values()
    assert KEY_PASSPHRASE not in tab.transcript.contents() and "AUTH publickey id_encrypted" in tab.transcript.contents()

    tab.disconnect()
    connect(tab, sshd, **values)                     # not remembered: asked again
    ask = dialog(tab, PasswordDialog)
    ask.answer("wrong passphrase")
    again = dialog(tab, PasswordDialog)              # a wrong one: asked again, saying why
    assert again.problem.startswith("Wrong passphrase")
    again.answer(KEY_PASSPHRASE, remember=True)
    wait_connected(tab)
    assert KEY_PASSPHRASE in test_keyring.store.values()

    tab.disconnect()
    connect(tab, sshd, **values)                     # remembered: no dialog
    wait_connected(tab)
    assert tab.ask_dialog is None


def test_wrong_passphrase_is_one_line(tab, sshd, user_known_hosts):
    user_known_hosts.write_text(sshd.host_key_line())
    connect(tab, sshd, login="Key file", key_file=str(sshd.encrypted_key), password="")
    for _ in range(2):
        dialog(tab, PasswordDialog).answer("not it")
    line = wait_failed(tab, "Wrong passphrase")
    assert line == f"Wrong passphrase for the key file {sshd.encrypted_key}"
    assert tab.client is None


def test_keyboard_interactive_shows_each_prompt(tab, hostile, user_known_hosts):
    user_known_hosts.write_text(hostile.host_key_line())
    connect(tab, hostile, user=hostile_sftp.USER, password="", login="Keyboard-interactive")
    ask = dialog(tab, KbdIntDialog)
    labels = [ask.form.fields[name].label for name in ask.form.fields]
    assert labels == ["Password", "Verification code"]
    assert ask.form.fields["p0"].kind == "password" and ask.form.fields["p1"].kind == "text"  # OTP echoes
    ask.answer(hostile_sftp.PASSWORD, hostile_sftp.OTP)
    wait_remote(tab, "/")
    # a one-time code is good once: transfers run on sessions of this connection, nothing is asked
    tab.remote_pane.select_names(["hello.txt"])
    tab.download_button.invoke()
    wait_queue(tab)
    assert tab.queue.items[-1].state == "done" and tab.ask_dialog is None
    log = tab.transcript.contents()
    assert "ANSWER **** | ****" in log and hostile_sftp.OTP not in log and hostile_sftp.PASSWORD not in log
    assert log.count("Logged in with") == 1


def test_password_asked_when_the_form_has_none(tab, sshd, user_known_hosts, test_keyring):
    user_known_hosts.write_text(sshd.host_key_line())
    connect(tab, sshd, password="", login="Password")
    ask = dialog(tab, PasswordDialog)
    ask.answer(PASSWORD, remember=True)
    wait_connected(tab)
    assert tab.form.get("password") == PASSWORD and PASSWORD in test_keyring.store.values()
    assert PASSWORD not in tab.transcript.contents()


def test_ssh_agent_and_its_absence(tab, sshd, ssh_agent, user_known_hosts, monkeypatch):
    user_known_hosts.write_text(sshd.host_key_line())
    sock, add = ssh_agent
    add(sshd.keys["ecdsa"])
    monkeypatch.setenv("SSH_AUTH_SOCK", sock)
    connect(tab, sshd, login="SSH agent", password="")
    wait_connected(tab)
    assert "AUTH publickey agent" in tab.transcript.contents()
    tab.disconnect()
    monkeypatch.delenv("SSH_AUTH_SOCK")
    connect(tab, sshd, login="SSH agent", password="")
    assert wait_failed(tab, "agent") == "No SSH agent is running (SSH_AUTH_SOCK is not set)"


def test_wrong_password_and_rejected_key_are_one_line_each(tab, sshd, user_known_hosts):
    user_known_hosts.write_text(sshd.host_key_line())
    connect(tab, sshd, password="wrong", login="Password")
    line = wait_failed(tab, "refused the login")
    assert line.startswith(f"127.0.0.1:{sshd.port} refused the login as {USER}")
    connect(tab, sshd, password="", login="Key file", key_file=str(sshd.rejected_key))
    line = wait_failed(tab, "refused the login")
    assert "id_rejected" in line and "SHA256:" in line


def test_server_gone_mid_transfer_resumes_and_browsing_reconnects(tab, hostile, user_known_hosts, tmp_path):
    user_known_hosts.write_text(hostile.host_key_line())
    local = tmp_path / "local"
    tab.queue.retry_delay = 0.2
    connect(tab, hostile, user=hostile_sftp.USER, password=hostile_sftp.PASSWORD, login="Password")
    wait_remote(tab, "/")
    tab.remote_pane.select_names(["drop.bin"])
    tab.download_button.invoke()
    item = tab.queue.items[-1]
    wait_queue(tab)
    assert hostile.dropped and item.state == "done"
    assert (local / "drop.bin").read_bytes() == (hostile.root / "drop.bin").read_bytes()
    log = tab.transcript.contents()
    assert "Resuming at byte" in log and "ended early" in log or "was lost" in log

    hostile.drop_all()                               # an idle connection cut: the next action reconnects
    tab.remote_go("/")
    pump(tab.app.root, until=lambda: tab.transcript.contents().count("Logged in to") >= 2 and not tab.remote_pane.filling,
         timeout=15, message="a reconnect")
    assert "hello.txt" in tab.remote_pane.shown_names()


def test_permission_denied_and_full_disks_are_one_line_each(tab, hostile, user_known_hosts, tmp_path):
    user_known_hosts.write_text(hostile.host_key_line())
    (hostile.root / "big.bin").write_bytes(os.urandom(1_500_000))
    connect(tab, hostile, user=hostile_sftp.USER, password=hostile_sftp.PASSWORD, login="Password")
    wait_remote(tab, "/")

    tab.remote_go("/secret")
    pump(tab.app.root, until=lambda: "permission denied" in tab.remote_pane.status.cget("text"), timeout=10,
         message="permission denied")

    # the server's disk is full (its SFTP v3 says only "Failure")
    (tmp_path / "local" / "upload.bin").write_bytes(b"u" * 100_000)
    tab.remote_go("/full")
    pump(tab.app.root, until=lambda: tab.remote_pane.path == "/full", timeout=10, message="/full")
    tab.local_pane.refresh_button.invoke()
    pump(tab.app.root, until=lambda: "upload.bin" in tab.local_pane.shown_names(), timeout=5)
    tab.local_pane.select_names(["upload.bin"])
    tab.upload_button.invoke()
    wait_queue(tab)
    item = tab.queue.items[-1]
    assert item.state == "failed" and "No space left on device" in item.error and "\n" not in item.error

    # the local disk is full: the download stops with the reason, the partial file stays .part
    small = tmp_path / "local" / "small"
    small.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(small)], check=True)
    try:
        tab.local_go(str(small))
        pump(tab.app.root, until=lambda: tab.local_pane.path == str(small), timeout=5)
        tab.remote_go("/")
        wait_remote(tab, "/")
        tab.remote_pane.select_names(["big.bin"])
        tab.download_button.invoke()
        wait_queue(tab)
        item = tab.queue.items[-1]
        assert item.state == "failed" and "No space left on device" in item.error
        assert (small / "big.bin.part").exists() and not (small / "big.bin").exists()
    finally:
        subprocess.run(["umount", "-l", str(small)], check=True)


def test_hostile_names_never_become_local_paths(tab, hostile, user_known_hosts, tmp_path):
    user_known_hosts.write_text(hostile.host_key_line())
    local = tmp_path / "local"
    connect(tab, hostile, user=hostile_sftp.USER, password=hostile_sftp.PASSWORD, login="Password")
    wait_remote(tab, "/")
    tab.remote_go("/hostile")
    wait_remote(tab, "/hostile")
    shown = tab.remote_pane.shown_names()
    for bad in ("../escape.txt", "/etc/passwd", "a/b.txt", "..", "", "nul\x00name"):
        assert bad not in shown
    assert "ok.txt" in shown and "Ignored a name no server may send" in tab.transcript.contents()
    tab.remote_go("/")
    wait_remote(tab, "/")
    tab.remote_pane.select_names(["hostile"])
    tab.download_button.invoke()
    wait_queue(tab)
    landed = {p.relative_to(local).as_posix() for p in local.rglob("*")}
    assert "hostile/ok.txt" in landed
    assert all(p.startswith("hostile") for p in landed)
    assert not any("\x1b" in p or "\u202e" in p for p in landed)
    refused = [i for i in tab.queue.items if i.state == "failed"]
    assert refused and all("\n" not in i.error for i in refused)


def test_protocol_choice_url_and_saved_sites(tab, sshd, sftp_tree, user_known_hosts):
    form = tab.form
    form.set("protocol", "SFTP")
    assert form.get("port") == 22 and form.visible("login") and form.visible("key_file")
    assert not form.visible("anonymous") and not form.visible("mode") and not form.visible("verify")
    form.set("protocol", "FTPS implicit")
    assert form.get("port") == 990 and form.visible("verify") and not form.visible("login")
    form.set("protocol", "FTP")
    assert form.get("port") == 21 and not form.visible("verify") and form.visible("anonymous")

    # a site saved before the protocol choice existed keeps its FTPS
    tab.app.settings.save_profile("ftp", "old", {"host": "example.org", "port": 990, "security": "Implicit FTPS"})
    tab.load_site("old")
    assert form.get("protocol") == "FTPS implicit" and form.get("port") == 990

    # an sftp:// URL in the host field fills in the rest, and connects (a password stays out of it)
    form.set_values({"host": f"sftp://{USER}:{PASSWORD}@127.0.0.1:{sshd.port}/"})
    assert not form.submit() and form.message("host") == "Leave the password out of the URL"
    user_known_hosts.write_text(sshd.host_key_line())
    form.set_values({"host": f"sftp://{USER}@127.0.0.1:{sshd.port}{sftp_tree}", "password": PASSWORD,
                     "login": "Password"})
    form.submit_button.invoke()
    wait_remote(tab, str(sftp_tree))
    assert form.get("protocol") == "SFTP" and form.get("host") == "127.0.0.1"
    assert form.get("port") == sshd.port and form.get("user") == USER and form.get("folder") == str(sftp_tree)
    tab.save_site("sftp site")
    tab.form.set_values({"protocol": "FTP", "host": "elsewhere"})
    tab.load_site("sftp site")
    assert form.get("protocol") == "SFTP" and form.get("port") == sshd.port and form.visible("login")


def test_disconnect_while_a_question_is_open_closes_it(tab, sshd):
    connect(tab, sshd)
    question = dialog(tab, HostKeyDialog)
    tab.disconnect()
    pump(tab.app.root, until=lambda: not question.winfo_exists(), timeout=5, message="the dialog to close")
    pump(tab.app.root, until=lambda: not tab.form.busy, timeout=5, message="the form")
    assert tab.client is None


# -- helpers ---------------------------------------------------------------------------------

def fingerprint_of(key) -> str:
    return key.get_fingerprint("sha256")


def all_widgets(widget):
    for child in widget.winfo_children():
        yield child
        yield from all_widgets(child)
