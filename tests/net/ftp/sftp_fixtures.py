"""Fixtures for the SFTP tests: OpenSSH sshd (session-wide), a hostile asyncssh server, known hosts.

Import into tests/net/ftp/conftest.py with ``from .sftp_fixtures import *``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from netgui.net.ftp.hostkeys import KnownHosts
from netgui.net.ftp.sftp import SftpClient, SftpSite
from tests.support.hostile_sftp import HostileSftpServer
from tests.support.sshd import PASSWORD, USER, Sshd


@pytest.fixture(scope="session")
def sshd():
    server = Sshd().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def sshd_pam():
    """sshd with UsePAM yes: keyboard-interactive (PAM's Password: prompt)."""
    server = Sshd(pam=True, password_auth=False).start()
    yield server
    server.stop()


@pytest.fixture
def sftp_tree(sshd, request):
    """The FTP tests' tree (hostile names too) in a fresh folder the sshd user owns."""
    from .conftest import make_tree   # not at the top: conftest imports this module
    root = sshd.root / request.node.name[:60].replace("[", "_").replace("]", "_")
    shutil.rmtree(root, ignore_errors=True)
    make_tree(root)
    sshd.chown_tree(root)
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def hostile(tmp_path):
    """The hostile asyncssh SFTP server (tests/support/hostile_sftp.py) serving a fresh folder."""
    root = tmp_path / "served"
    root.mkdir()
    (root / "drop.bin").write_bytes(os.urandom(2_000_000))
    (root / "stall.bin").write_bytes(b"x" * 1000)
    (root / "hello.txt").write_text("hello\n")
    server = HostileSftpServer(root, drop_after=600_000).start()
    yield server
    server.stop()


@pytest.fixture
def known_hosts_for(tmp_path):
    """KnownHosts with the server's key in a (fake) user file and netgui's own file empty."""
    def make(server=None) -> KnownHosts:
        user_file = tmp_path / "user_known_hosts"
        user_file.write_text(server.host_key_line() if server else "")
        return KnownHosts(tmp_path / "netgui_known_hosts", user_files=[user_file])
    return make


@pytest.fixture
def sftp_for(transcript, known_hosts_for):
    clients = []

    def make(server, *, known_hosts: KnownHosts | None = None, ask_host_key=None, ask_kbdint=None,
             ask_password=None, ask_passphrase=None, **kw) -> SftpClient:
        kw.setdefault("user", USER)
        kw.setdefault("password", PASSWORD)
        kw.setdefault("timeout", 10)
        kw.setdefault("use_agent", False)
        site = SftpSite("127.0.0.1", server.port, **kw)
        client = SftpClient(site, log=transcript, known_hosts=known_hosts or known_hosts_for(server),
                            ask_host_key=ask_host_key, ask_kbdint=ask_kbdint, ask_password=ask_password,
                            ask_passphrase=ask_passphrase)
        clients.append(client)
        return client
    yield make
    for c in clients:
        c.close()


@pytest.fixture
def ssh_agent(tmp_path):
    """A real ssh-agent on a private socket; yields (socket path, add(key_path))."""
    import time
    sock = tmp_path / "agent.sock"
    env = {**os.environ, "SSH_AUTH_SOCK": str(sock)}
    proc = subprocess.Popen(["ssh-agent", "-D", "-a", str(sock)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 15
    while subprocess.run(["ssh-add", "-l"], env=env, capture_output=True).returncode == 2:   # 2: no agent
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail("ssh-agent did not start")
        time.sleep(0.05)

    def add(key: Path) -> None:
        subprocess.run(["ssh-add", str(key)], env=env, check=True, capture_output=True)
    yield str(sock), add
    proc.terminate()
    proc.wait(5)


__all__ = ["sshd", "sshd_pam", "sftp_tree", "hostile", "known_hosts_for", "sftp_for", "ssh_agent"]
