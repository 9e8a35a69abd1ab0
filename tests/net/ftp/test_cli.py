"""``netgui ftp`` against a real pyftpdlib server."""

from __future__ import annotations

from netgui.cli import main
from tests.support.ftpd import PASSWORD, USER

from .conftest import snapshot


def url(server, path=""):
    return f"ftp://{USER}@127.0.0.1:{server.port}{path}"


def test_ls_get_put_rm_mkdir_mv_cat(ftpd, tree, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("NETGUI_FTP_PASSWORD", PASSWORD)
    assert main(["ftp", url(ftpd), "ls"]) == 0
    out = capsys.readouterr().out
    assert "sub/" in out and "big.bin" in out and "3.0 MiB" in out

    down = tmp_path / "down"
    assert main(["ftp", url(ftpd), "get", "/sub", "/hello.txt", "-o", str(down), "--parallel", "3"]) == 0
    assert snapshot(down / "sub") == snapshot(tree / "sub")
    assert (down / "hello.txt").read_bytes() == (tree / "hello.txt").read_bytes()
    assert "ok" in capsys.readouterr().out

    assert main(["ftp", url(ftpd), "mkdir", "/in/box"]) == 0
    assert main(["ftp", url(ftpd), "put", str(down / "sub"), str(down / "hello.txt"), "-d", "/in/box"]) == 0
    assert snapshot(tree / "in" / "box" / "sub") == snapshot(tree / "sub")
    assert main(["ftp", url(ftpd), "mv", "/in/box/hello.txt", "/in/hi.txt"]) == 0
    capsys.readouterr()
    assert main(["ftp", url(ftpd), "cat", "/in/hi.txt"]) == 0
    assert capsys.readouterr().out == "Hello, FTP!\nSecond line ünïcödé\n"
    assert main(["ftp", url(ftpd), "rm", "/in"]) == 1
    assert "use -r" in capsys.readouterr().err
    assert main(["ftp", url(ftpd), "rm", "-r", "/in"]) == 0   # options after the action
    assert not (tree / "in").exists()


def test_errors_are_one_line(ftpd, monkeypatch, capsys):
    monkeypatch.setenv("NETGUI_FTP_PASSWORD", "wrong")
    assert main(["ftp", url(ftpd), "ls"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("netgui ftp: 127.0.0.1:") and "530" in err and err.count("\n") == 1
    monkeypatch.setenv("NETGUI_FTP_PASSWORD", PASSWORD)
    assert main(["ftp", url(ftpd), "get", "/missing.txt"]) == 1
    assert "no such file" in capsys.readouterr().err
    assert main(["ftp", "http://example.com/", "ls"]) == 2
