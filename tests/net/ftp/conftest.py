"""Fixtures for the FTP core tests: a file tree (with hostile names) and real pyftpdlib servers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from netgui.net.ftp.client import FtpClient, FtpSite
from tests.support.ftpd import PASSWORD, USER, FtpServer

HOSTILE = ["evil\\..\\..\\escape.txt", "C:drive.txt", "ctl\x1bname.txt", "tab\tname.txt", "...",
           " lead space.txt", "-dash.txt"]


def usable(name: str) -> bool:
    """True for names that ``local_child`` accepts (control characters and dots-only are refused)."""
    from netgui.net.errors import LocalFileError
    from netgui.net.ftp.client import local_child
    try:
        local_child("/tmp", name)
        return True
    except LocalFileError:
        return False


def make_tree(root: Path) -> Path:
    """A tree of files: text, binary, nested folders, unicode and hostile names."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "hello.txt").write_text("Hello, FTP!\nSecond line ünïcödé\n", encoding="utf-8")
    (root / "big.bin").write_bytes(os.urandom(3 * 1024 * 1024 + 17))
    (root / "space name.txt").write_bytes(b"spaces\n")
    (root / "ünïcödé.txt").write_bytes("unicode ✓\n".encode())
    (root / "empty.txt").write_bytes(b"")
    sub = root / "sub" / "deeper"
    sub.mkdir(parents=True)
    (root / "sub" / "inner.txt").write_bytes(b"inner\n" * 1000)
    (sub / "deep.bin").write_bytes(os.urandom(100_000))
    (root / "empty_dir").mkdir()
    for i, name in enumerate(HOSTILE):
        (root / "hostile").mkdir(exist_ok=True)
        (root / "hostile" / name).write_bytes(f"hostile {i}\n".encode())
    return root


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Relative path -> bytes (None for folders) for a whole tree."""
    result = {}
    for path in sorted(Path(root).rglob("*")):
        rel = path.relative_to(root).as_posix()
        result[rel] = None if path.is_dir() else path.read_bytes()
    return result


@pytest.fixture
def tree(tmp_path) -> Path:
    return make_tree(tmp_path / "srv")


@pytest.fixture
def ftpd(tree):
    server = FtpServer(tree).start()
    yield server
    server.stop()


@pytest.fixture
def ca():
    import trustme
    return trustme.CA()


@pytest.fixture
def tls_files(ca, tmp_path):
    cert = ca.issue_cert("127.0.0.1", "localhost")
    pem = tmp_path / "server.pem"
    cert.private_key_and_cert_chain_pem.write_to_path(str(pem))
    cafile = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(cafile))
    return str(pem), str(cafile)


class Transcript(list):
    def __call__(self, direction, text):
        self.append((direction, text))

    def text(self) -> str:
        return "\n".join(f"{d} {t}" for d, t in self)


@pytest.fixture
def transcript():
    return Transcript()


@pytest.fixture
def client_for(transcript):
    clients = []

    def make(server: FtpServer, **kw) -> FtpClient:
        kw.setdefault("user", USER)
        kw.setdefault("password", PASSWORD)
        kw.setdefault("timeout", 10)
        client = FtpClient(FtpSite("127.0.0.1", server.port, **kw), log=transcript)
        clients.append(client)
        return client
    yield make
    for c in clients:
        c.close()


from .sftp_fixtures import (hostile, known_hosts_for, sftp_for, sftp_tree, ssh_agent, sshd,  # noqa: E402,F401
                            sshd_pam)
