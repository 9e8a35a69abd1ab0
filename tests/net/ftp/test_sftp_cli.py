"""``netgui ftp sftp://...`` against OpenSSH sshd."""

from __future__ import annotations

import pytest

from netgui.cli import main
from tests.support.sshd import PASSWORD, USER

from .conftest import snapshot


@pytest.fixture
def trusted(sshd, tmp_path, monkeypatch):
    """HOME and the config folder in tmp_path, with the server's key in ~/.ssh/known_hosts."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    ssh = tmp_path / "home" / ".ssh"
    ssh.mkdir(parents=True)
    (ssh / "known_hosts").write_text(sshd.host_key_line())
    return ssh / "known_hosts"


def url(server, path=""):
    return f"sftp://{USER}@127.0.0.1:{server.port}{path}"


def test_ls_get_put_rm_mkdir_mv_cat(sshd, sftp_tree, trusted, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("NETGUI_FTP_PASSWORD", PASSWORD)
    base = url(sshd, str(sftp_tree))
    assert main(["ftp", base, "ls"]) == 0
    out = capsys.readouterr().out
    assert "sub/" in out and "big.bin" in out and "3.0 MiB" in out and "drwx" in out

    down = tmp_path / "down"
    assert main(["ftp", base, "get", f"{sftp_tree}/sub", "hello.txt", "-o", str(down), "--parallel", "3"]) == 0
    assert snapshot(down / "sub") == snapshot(sftp_tree / "sub")
    assert (down / "hello.txt").read_bytes() == (sftp_tree / "hello.txt").read_bytes()

    assert main(["ftp", base, "mkdir", "in/box"]) == 0
    assert main(["ftp", base, "put", str(down / "sub"), str(down / "hello.txt"), "-d", f"{sftp_tree}/in/box"]) == 0
    assert snapshot(sftp_tree / "in" / "box" / "sub") == snapshot(sftp_tree / "sub")
    assert main(["ftp", base, "mv", "in/box/hello.txt", "in/hi.txt"]) == 0
    capsys.readouterr()
    assert main(["ftp", base, "cat", "in/hi.txt"]) == 0
    assert capsys.readouterr().out == "Hello, FTP!\nSecond line ünïcödé\n"
    assert main(["ftp", base, "rm", "in"]) == 1
    assert "use -r" in capsys.readouterr().err
    assert main(["ftp", base, "rm", "-r", "in"]) == 0
    assert not (sftp_tree / "in").exists()


def test_key_login_and_one_line_errors(sshd, trusted, monkeypatch, capsys):
    monkeypatch.delenv("NETGUI_FTP_PASSWORD", raising=False)
    assert main(["ftp", url(sshd), "ls", "--key", str(sshd.keys["ecdsa"])]) == 0
    capsys.readouterr()
    monkeypatch.setenv("NETGUI_FTP_PASSWORD", "wrong")
    assert main(["ftp", url(sshd), "ls", "--auth", "password"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("netgui ftp: 127.0.0.1:") and "refused the login" in err and err.count("\n") == 1


def test_unknown_host_without_a_terminal_is_refused(sshd, trusted, monkeypatch, capsys):
    trusted.write_text("")
    monkeypatch.setenv("NETGUI_FTP_PASSWORD", PASSWORD)
    assert main(["ftp", url(sshd), "ls"]) == 1
    err = capsys.readouterr().err
    assert "ED25519 key fingerprint is SHA256:" in err and "not known" in err
