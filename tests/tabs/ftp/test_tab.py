"""The FTP tab in a real window against a real pyftpdlib server: connect, browse, transfer, delete."""

from __future__ import annotations

import json
import re

import pytest

from netgui.tabs import TabSpec
from tests.net.ftp.conftest import make_tree
from tests.support.ftpd import PASSWORD, USER, FtpServer
from tests.support.tk import pump

FTP_TAB = TabSpec("ftp", "FTP / SFTP", "netgui.tabs.ftp", "FtpTab")


@pytest.fixture
def server(tmp_path):
    root = make_tree(tmp_path / "srv")
    srv = FtpServer(root).start()
    yield srv
    srv.stop()


@pytest.fixture
def tab(make_app, tmp_path):
    app = make_app(tabs=[FTP_TAB])
    tab = app._ensure_built("ftp")
    local = tmp_path / "local"
    local.mkdir()
    tab.local_go(str(local))
    pump(app.root, until=lambda: tab.local_pane.path == str(local), timeout=5, message="local pane")
    return tab


def connect(tab, server, **values):
    form = {"host": "127.0.0.1", "port": server.port, "user": USER, "password": PASSWORD}
    form.update(values)
    tab.form.set_values(form)
    tab.form.submit_button.invoke()


def wait_remote(tab, path=None, timeout=10):
    pane = tab.remote_pane
    pump(tab.app.root, until=lambda: pane.entries and not pane.filling and (path is None or pane.path == path),
         timeout=timeout, message=f"remote listing of {path}")


def wait_queue(tab, timeout=20):
    pump(tab.app.root, until=lambda: not tab.queue.pending() and not tab.item_tasks, timeout=timeout,
         message="the transfer queue")


def test_connect_navigate_transfer_and_delete(tab, server, tmp_path, monkeypatch):
    root = server.root
    local = tmp_path / "local"
    connect(tab, server)
    wait_remote(tab, "/")
    pane = tab.remote_pane
    assert pane.shown_names()[:3] == ["empty_dir", "hostile", "sub"]   # folders first, by name
    assert "big.bin" in pane.shown_names()
    assert "Connected to 127.0.0.1" in tab.form.status.cget("text")
    log = tab.transcript.contents()
    assert "PASS ****" in log and PASSWORD not in log

    # double-click equivalent: open the selected folder, then Up
    pane.select_names(["sub"])
    pane.open_selected()
    wait_remote(tab, "/sub")
    assert set(pane.shown_names()) == {"deeper", "inner.txt"}
    pane.up_button.invoke()
    wait_remote(tab, "/")

    # sort by size (folders stay first)
    pane.sort_by("size")
    pump(tab.app.root, until=lambda: not pane.filling, timeout=5)
    files = [n for n in pane.shown_names() if (root / n).is_file()]
    assert files[0] == "empty.txt" and files[-1] == "big.bin"

    # download a file and a folder through the queue
    pane.select_names(["big.bin", "sub"])
    tab.download_button.invoke()
    wait_queue(tab)
    assert (local / "big.bin").read_bytes() == (root / "big.bin").read_bytes()
    assert (local / "sub" / "deeper" / "deep.bin").read_bytes() == (root / "sub" / "deeper" / "deep.bin").read_bytes()
    pump(tab.app.root, until=lambda: "big.bin" in tab.local_pane.shown_names(), timeout=5,
         message="the local pane to show the download")
    log = tab.transcript.contents()
    assert re.search(r"→ \[\d\] PASS \*\*\*\*", log)      # transfer connections log in, tagged
    assert re.search(r"→ \[\d\] RETR /big.bin", log)
    assert PASSWORD not in log
    rows = [tab.queue_pane.tree.item(i, "values") for i in tab.queue_pane.tree.get_children()]
    assert rows and all(r[2] == "100%" and r[4] == "Done" for r in rows)

    # the same download again: the conflict dialog asks; rename keeps both
    pane.select_names(["big.bin"])
    tab.download_button.invoke()
    pump(tab.app.root, until=lambda: tab.conflict_dialog is not None, timeout=10, message="conflict dialog")
    tab.conflict_dialog.choice.set("rename")
    tab.conflict_dialog.ok_button.invoke()
    wait_queue(tab)
    assert (local / "big (1).bin").read_bytes() == (root / "big.bin").read_bytes()

    # upload a local file
    (local / "from me.txt").write_text("uploaded through the tab\n")
    tab.local_pane.refresh_button.invoke()
    pump(tab.app.root, until=lambda: "from me.txt" in tab.local_pane.shown_names(), timeout=5)
    tab.local_pane.select_names(["from me.txt"])
    tab.upload_button.invoke()
    wait_queue(tab)
    assert (root / "from me.txt").read_text() == "uploaded through the tab\n"
    pump(tab.app.root, until=lambda: "from me.txt" in pane.shown_names(), timeout=5,
         message="the remote pane to show the upload")

    # delete a folder recursively (after confirming)
    monkeypatch.setattr("netgui.tabs.ftp.confirm", lambda *a, **k: True)
    pane.select_names(["sub"])
    tab.delete_remote_selected()
    pump(tab.app.root, until=lambda: "sub" not in pane.shown_names() and not pane.filling, timeout=10,
         message="the folder to disappear")
    assert not (root / "sub").exists()


def test_view_rename_and_mkdir(tab, server):
    connect(tab, server)
    wait_remote(tab, "/")
    pane = tab.remote_pane
    pane.select_names(["hello.txt"])
    tab.view_selected()
    pump(tab.app.root, until=lambda: tab.viewer is not None, timeout=5, message="viewer")
    assert tab.viewer.text.get("1.0", "end-1c") == "Hello, FTP!\nSecond line ünïcödé\n"
    tab.viewer.destroy()

    tab.mkdir_remote("made here")
    pump(tab.app.root, until=lambda: "made here" in pane.shown_names(), timeout=5, message="new folder")
    entry = next(e for e in pane.entries if e.name == "hello.txt")
    tab.rename_remote(entry, "hello renamed.txt")
    pump(tab.app.root, until=lambda: "hello renamed.txt" in pane.shown_names(), timeout=5, message="rename")
    assert (server.root / "made here").is_dir()
    assert (server.root / "hello renamed.txt").exists()


def test_wrong_password_is_one_clear_line(tab, server):
    connect(tab, server, password="wrong")
    pump(tab.app.root, until=lambda: not tab.form.busy and "refused" in tab.form.status.cget("text"),
         timeout=10, message="the login error")
    assert tab.form.status.cget("text").startswith("127.0.0.1:")
    assert "\n" not in tab.form.status.cget("text")
    assert tab.client is None


def test_saved_site_keeps_password_in_keyring_only(tab, server, isolated_config, test_keyring):
    tab.form.set_values({"host": "127.0.0.1", "port": server.port, "user": USER, "password": PASSWORD,
                         "protocol": "FTP"})
    tab.save_site("test site")
    tab.form.set_values({"host": "elsewhere", "password": ""})
    tab.load_site("test site")
    assert tab.form.get("host") == "127.0.0.1"
    assert tab.form.get("password") == PASSWORD
    assert PASSWORD in test_keyring.store.values()
    tab.app.settings.flush()   # the app writes settings from a background thread
    for path in isolated_config.rglob("*"):
        if path.is_file():
            assert PASSWORD not in path.read_text(errors="replace")
    settings = json.loads((isolated_config / "settings.json").read_text())
    assert settings["profiles"]["ftp"]["test site"]["host"] == "127.0.0.1"
    tab.form.submit_button.invoke()
    wait_remote(tab, "/")
    assert "hello.txt" in tab.remote_pane.shown_names()
    tab.app.settings.flush()   # the form remembered its values on Connect: still no password in files
    for path in isolated_config.rglob("*"):
        if path.is_file():
            assert PASSWORD not in path.read_text(errors="replace")


def test_ten_thousand_entries_fill_in_chunks(tab, tmp_path):
    root = tmp_path / "many"
    root.mkdir()
    for i in range(10_000):
        (root / f"file{i:05d}.txt").touch()
    srv = FtpServer(root).start()
    try:
        connect(tab, srv)
        pane = tab.remote_pane
        partial = []

        def beat():   # a heartbeat: runs only if the window is serviced between chunks
            if pane.filling:
                partial.append(len(pane.tree.get_children()))
            tab.after(2, beat)
        beat()
        pump(tab.app.root, until=lambda: pane.entries and not pane.filling, timeout=30, message="10,000 rows")
        assert len(pane.shown_names()) == 10_000
        assert partial and min(partial) < 10_000   # the window was serviced while rows went in
        assert pane.shown_names()[0] == "file00000.txt"
    finally:
        srv.stop()


def test_cancel_and_retry_a_running_transfer(tab, tmp_path):
    root = make_tree(tmp_path / "slow")
    srv = FtpServer(root, throttle=400_000).start()
    local = tmp_path / "local"
    try:
        connect(tab, srv)
        wait_remote(tab, "/")
        tab.remote_pane.select_names(["big.bin"])
        tab.download_button.invoke()
        item = tab.queue.items[-1]
        pump(tab.app.root, until=lambda: item.done > 200_000, timeout=15, message="the transfer to start")
        tab.queue_pane.tree.selection_set(f"q{item.id}")
        tab.queue_pane.cancel_button.invoke()
        pump(tab.app.root, until=lambda: item.state == "cancelled" and not tab.item_tasks, timeout=10,
             message="the transfer to stop")
        assert tab.queue_pane.row_values(item.id)[4].startswith("Cancelled")
        partial = (local / "big.bin.part").stat().st_size
        assert 0 < partial < (root / "big.bin").stat().st_size
        tab.queue_pane.tree.selection_set(f"q{item.id}")
        tab.queue_pane.retry_button.invoke()
        wait_queue(tab, timeout=30)
        assert item.state == "done"
        assert (local / "big.bin").read_bytes() == (root / "big.bin").read_bytes()
        assert "] REST " in tab.transcript.contents()
    finally:
        srv.stop()


def test_ftps_connects_and_says_when_the_certificate_is_not_checked(tab, tmp_path, monkeypatch):
    import trustme
    ca = trustme.CA()
    pem, cafile = tmp_path / "server.pem", tmp_path / "ca.pem"
    ca.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(str(pem))
    ca.cert_pem.write_to_path(str(cafile))
    root = make_tree(tmp_path / "tls")
    srv = FtpServer(root, tls="explicit", cert=str(pem)).start()
    try:
        # untrusted CA: a clear certificate error
        connect(tab, srv, protocol="FTPS explicit")
        pump(tab.app.root, until=lambda: not tab.form.busy, timeout=10, message="the TLS failure")
        assert "not trusted" in tab.form.status.cget("text")
        # trusted (the test CA via NETGUI_CA_FILE): connected over TLS
        monkeypatch.setenv("NETGUI_CA_FILE", str(cafile))
        connect(tab, srv, protocol="FTPS explicit")
        wait_remote(tab, "/")
        assert tab.form.status.cget("text").endswith("(TLS)")
        assert "PROT P" in tab.transcript.contents()
        # verification off: works, and the tab says so
        monkeypatch.delenv("NETGUI_CA_FILE")
        connect(tab, srv, protocol="FTPS explicit", verify=False)
        pump(tab.app.root, until=lambda: not tab.form.busy, timeout=10, message="the insecure connection")
        assert "NOT verified" in tab.form.status.cget("text")
        assert "Certificate verification is off" in tab.transcript.contents()
    finally:
        srv.stop()


def test_anonymous_login_greys_out_user_and_password(tab, tmp_path):
    root = make_tree(tmp_path / "anon")
    srv = FtpServer(root, anonymous=True).start()
    try:
        connect(tab, srv, anonymous=True, user="someone", password="ignored")
        assert tab.form.widgets["user"].instate(["disabled"])
        wait_remote(tab, "/")
        assert "→ USER anonymous" in tab.transcript.contents()
        assert tab.form.widgets["password"].instate(["disabled"])
        tab.form.set("anonymous", False)
        assert not tab.form.widgets["user"].instate(["disabled"])
    finally:
        srv.stop()


def test_refused_upload_stays_in_the_queue_with_its_error(tab, server, tmp_path):
    from tests.support.ftpd import READONLY_USER
    local = tmp_path / "local"
    (local / "mine.txt").write_text("mine\n")
    connect(tab, server, user=READONLY_USER)
    wait_remote(tab, "/")
    tab.local_pane.refresh_button.invoke()
    pump(tab.app.root, until=lambda: "mine.txt" in tab.local_pane.shown_names(), timeout=5)
    tab.local_pane.select_names(["mine.txt"])
    tab.upload_button.invoke()
    wait_queue(tab)
    [item] = tab.queue.items
    assert item.state == "failed"
    status = tab.queue_pane.row_values(item.id)[4]
    assert status.startswith("Failed: Cannot upload /mine.txt: 550")
    assert not (server.root / "mine.txt").exists()


def test_keepalive_and_transparent_reconnect(make_app, tmp_path, monkeypatch):
    monkeypatch.setattr("netgui.tabs.ftp.KEEPALIVE_MS", 200)
    monkeypatch.setattr("netgui.tabs.ftp.KEEPALIVE_IDLE", 0.3)
    root = make_tree(tmp_path / "srv")
    srv = FtpServer(root, idle_timeout=1.2).start()   # the server hangs up after 1.2 s idle
    try:
        app = make_app(tabs=[FTP_TAB])
        tab = app._ensure_built("ftp")
        connect(tab, srv)
        wait_remote(tab, "/")
        pump(app.root, timeout=2.5)   # idle for longer than the server allows
        log = tab.transcript.contents()
        assert "→ NOOP" in log and "reconnecting" not in log and "Connection lost" not in log
        # without keep-alive the server drops us; the next action reconnects by itself
        monkeypatch.setattr("netgui.tabs.ftp.KEEPALIVE_IDLE", 3600)
        pump(app.root, timeout=2.0)
        tab.remote_pane.select_names(["sub"])
        tab.remote_pane.open_selected()
        wait_remote(tab, "/sub")
        assert "reconnecting" in tab.transcript.contents()
        assert set(tab.remote_pane.shown_names()) == {"deeper", "inner.txt"}
    finally:
        srv.stop()
