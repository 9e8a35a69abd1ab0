"""The FTP core against vsftpd: a second dialect (LIST in ``ls -l`` style, no MLSD, TLS session reuse)."""

from __future__ import annotations

import os

import pytest

from netgui.net.ftp.client import DIR, FILE, FtpClient, FtpSite, local_child
from netgui.net.ftp.listing import display_name
from tests.support.vsftpd import Vsftpd

from .conftest import snapshot


@pytest.fixture
def vsftpd(tmp_path):
    server = Vsftpd(tmp_path / "vsftpd")
    (server.root / "pub" / "sub").mkdir(parents=True)
    (server.root / "pub" / "sub" / "a file ü.txt").write_bytes("vsftpd ✓\n".encode())
    (server.root / "pub" / "data.bin").write_bytes(os.urandom(700_000))
    (server.root / "readme.txt").write_bytes(b"read me\n")
    server.start()
    yield server
    server.stop()


def test_vsftpd_list_parsing_and_round_trip(vsftpd, transcript, tmp_path):
    client = FtpClient(FtpSite("127.0.0.1", vsftpd.port, timeout=10), log=transcript)
    try:
        root = {e.name: e for e in client.listdir("/")}
        assert root["pub"].kind == DIR and root["readme.txt"].kind == FILE
        assert root["readme.txt"].size == 8
        assert root["readme.txt"].perms == "-rw-r--r--"
        assert "MLSD" not in transcript.text() and "> LIST /" in transcript.text()

        down = tmp_path / "down"
        assert client.download_tree("/pub", down) == 2
        assert snapshot(down) == snapshot(vsftpd.pub)

        up = tmp_path / "up"
        (up / "nested").mkdir(parents=True)
        (up / "nested" / "x y.bin").write_bytes(os.urandom(300_000))
        (up / "top.txt").write_text("top\n")
        assert client.upload_tree(up, "/pub/uploaded") == 2
        assert snapshot(vsftpd.pub / "uploaded") == snapshot(up)

        client.rename("/pub/uploaded/top.txt", "/pub/uploaded/renamed.txt")
        assert (vsftpd.pub / "uploaded" / "renamed.txt").read_text() == "top\n"
        client.delete("/pub/uploaded", DIR)
        assert not (vsftpd.pub / "uploaded").exists()
        text, _ = client.read_text("/pub/sub/a file ü.txt")
        assert text == "vsftpd ✓\n"
    finally:
        client.close()


def test_vsftpd_explicit_tls_with_session_reuse(tmp_path, tls_files, transcript):
    pem, cafile = tls_files
    server = Vsftpd(tmp_path / "vsftpd-tls", cert=pem)
    server.pub.mkdir(parents=True)
    (server.pub / "secret.bin").write_bytes(os.urandom(200_000))
    server.start()
    client = FtpClient(FtpSite("127.0.0.1", server.port, tls="explicit", cafile=cafile, timeout=10),
                       log=transcript)
    try:
        assert "secret.bin" in {e.name for e in client.listdir("/pub")}
        client.download("/pub/secret.bin", tmp_path / "secret.bin")
        assert (tmp_path / "secret.bin").read_bytes() == (server.pub / "secret.bin").read_bytes()
    finally:
        client.close()
        server.stop()


def test_vsftpd_latin1_names_in_either_encoding(tmp_path, transcript):
    server = Vsftpd(tmp_path / "vsftpd-latin1")
    server.root.mkdir(parents=True)
    with open(os.fsencode(str(server.root)) + b"/caf\xe9.txt", "wb") as f:   # a Latin-1 name on disk
        f.write(b"latin-1 name\n")
    server.start()
    try:
        utf8 = FtpClient(FtpSite("127.0.0.1", server.port, timeout=10), log=transcript)
        [entry] = [e for e in utf8.listdir("/") if e.name.startswith("caf")]
        assert display_name(entry.name) == "caf\ufffd.txt"      # undecodable: shown visibly
        utf8.download("/" + entry.name, local_child(tmp_path, entry.name))   # yet still usable
        assert (tmp_path / "caf\ufffd.txt").read_bytes() == b"latin-1 name\n"
        utf8.close()
        latin = FtpClient(FtpSite("127.0.0.1", server.port, timeout=10, encoding="latin-1"))
        assert "café.txt" in [e.name for e in latin.listdir("/")]
        text, _ = latin.read_text("/café.txt")
        assert text == "latin-1 name\n"
        latin.close()
    finally:
        server.stop()
