"""Debian's OpenSSH sshd as a real SFTP peer on a free loopback port, for tests and benchmarks.

What this machine needs (root, no systemd) and why it is done this way:

- sshd must run as root to switch to the logged-in user. It runs in the foreground
  (``-D -e``) with its own config, throwaway host key and pid file in a private folder.
- Password logins need a real system user with a crypt(3) password in /etc/shadow (sshd reads
  it itself with ``UsePAM no``). ``ensure_user`` creates throwaway users with ``useradd`` once
  (no home, shell nologin) and sets their password with ``chpasswd`` on every start, so a
  machine that already has them (a kept CI machine) works too.
- Keyboard-interactive needs ``UsePAM yes`` (without PAM, OpenSSH on Linux has no
  keyboard-interactive device): ``Sshd(pam=True)``; PAM's Password: prompt reads /etc/shadow.
- ``ForceCommand internal-sftp -d DIR`` starts every session in the test's folder, so users need
  no home folder and no shell, and nothing but SFTP is allowed.
- ``ChrootDirectory`` demands that the chroot folder *and every folder above it* be owned by
  root and not writable by group or others. /tmp (1777) and pytest's tmp_path (under /tmp)
  fail that, so the whole base folder is created under a root-owned 0755 parent (/run here),
  see ``safe_parent``. The jailed user writes only in ``jail/files`` (its own).
- The user reads authorized_keys itself (sshd drops privileges): base folder mode 0755.

``Sshd(...).start()`` returns the running server; ``stop()`` ends it and removes its folder.
"""

from __future__ import annotations

import os
import pwd
import shutil
import stat
import subprocess
import tempfile
import threading
from pathlib import Path

import pytest

from tests.support.peers import free_port, require_binary, stop_process, wait_for_port

USER = "netgui-sftp"            # a normal user: password, keys, keyboard-interactive (PAM)
JAIL_USER = "netgui-sftpjail"   # the ChrootDirectory user
PASSWORD = "s3cret-pw"
KEY_PASSPHRASE = "key-pass-phrase"
KEY_TYPES = ("ed25519", "ecdsa", "rsa")
_user_lock = threading.Lock()


def require_root() -> None:
    """sshd switches to the logged-in user, and the test users are made with useradd: root only.
    Anything else fails the test with what to do (a missing peer is never a skip)."""
    if os.geteuid() != 0:
        pytest.fail("the SFTP tests run OpenSSH's sshd, which must start as root (it switches to "
                    "the test users it creates with useradd): run the tests as root, as CI does")


def safe_parent() -> Path:
    """A folder whose whole chain is root-owned and not group/world-writable (for chroot)."""
    candidates = [os.environ.get("NETGUI_SSHD_BASE"), "/run", "/srv", "/var/lib", "/opt"]
    for cand in filter(None, candidates):
        path = Path(cand)
        if path.is_dir() and _root_owned_chain(path):
            return path
    pytest.fail("sshd's ChrootDirectory needs a folder whose every parent is root-owned and not "
                "group/world-writable; none of /run, /srv, /var/lib, /opt is: set NETGUI_SSHD_BASE "
                "to one")


def _root_owned_chain(path: Path) -> bool:
    path = path.resolve()
    for p in [path, *path.parents]:
        st = p.stat()
        if st.st_uid != 0 or st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            return False
    return True


def ensure_user(name: str, password: str) -> pwd.struct_passwd:
    """Create the throwaway system user ``name`` if missing and (re)set its password."""
    require_root()
    with _user_lock:
        try:
            pwd.getpwnam(name)
        except KeyError:
            _run_admin([_sbin("useradd"), "--no-create-home", "--home-dir", "/nonexistent",
                        "--shell", "/usr/sbin/nologin", "--user-group", name])
        _run_admin([_sbin("chpasswd")], f"{name}:{password}\n")
        return pwd.getpwnam(name)


def _run_admin(args: list[str], stdin: str | None = None) -> None:
    done = subprocess.run(args, input=stdin, capture_output=True, text=True)
    if done.returncode:
        pytest.fail(f"{' '.join(args[:1] + args[-1:])} failed (exit {done.returncode}): "
                    f"{done.stderr.strip() or done.stdout.strip()}")


def _sbin(name: str) -> str:
    return require_binary(name)


def keygen(path: Path, kind: str = "ed25519", passphrase: str = "", comment: str = "netgui-test") -> Path:
    """An OpenSSH-format private key at ``path`` (and ``path.pub``)."""
    args = [require_binary("ssh-keygen"), "-q", "-t", kind, "-N", passphrase, "-C", comment, "-f", str(path)]
    if kind == "rsa":
        args += ["-b", "2048"]   # enough for tests, and fast
    if path.exists():
        path.unlink()
    subprocess.run(args, check=True, capture_output=True)
    return path


class Sshd:
    """One sshd on 127.0.0.1:port with its own config, keys, users and folders.

    Attributes after ``start()``: ``port``, ``root`` (the normal user's start folder, theirs),
    ``jail`` / ``jail_files`` (the chroot and its writable folder: paths as the jailed user
    sees them are ``/files/...``), ``keys[kind]`` (private key paths authorised for USER),
    ``encrypted_key`` (ed25519 with KEY_PASSPHRASE), ``rejected_key`` (not authorised),
    ``host_key`` (private host key path).
    """

    def __init__(self, *, pam: bool = False, password_auth: bool = True, base: Path | None = None,
                 extra_config: str = "", host_key: Path | None = None):
        self.binary = require_binary("sshd")
        require_root()
        self.pam = pam
        self.password_auth = password_auth
        self.extra_config = extra_config
        self._given_host_key = host_key
        parent = base or safe_parent()
        self.base = Path(tempfile.mkdtemp(prefix="netgui-sshd-", dir=parent))
        os.chmod(self.base, 0o755)
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.keys: dict[str, Path] = {}

    # setup -----------------------------------------------------------------------------
    def start(self) -> "Sshd":
        base = self.base
        self.user = ensure_user(USER, PASSWORD)
        self.jail_user = ensure_user(JAIL_USER, PASSWORD)
        keys = base / "keys"
        keys.mkdir()
        os.chmod(keys, 0o755)
        self.host_key = base / "hostkey"
        if self._given_host_key:
            shutil.copy(self._given_host_key, self.host_key)
            os.chmod(self.host_key, 0o600)
        else:
            keygen(self.host_key, "ed25519", comment="netgui-test-host")
        for kind in KEY_TYPES:
            self.keys[kind] = keygen(keys / f"id_{kind}", kind)
        self.encrypted_key = keygen(keys / "id_encrypted", "ed25519", KEY_PASSPHRASE)
        self.rejected_key = keygen(keys / "id_rejected", "ed25519")
        authorized = base / "authorized_keys"
        authorized.write_text("".join(Path(f"{k}.pub").read_text()
                                      for k in [*self.keys.values(), self.encrypted_key]))
        os.chmod(authorized, 0o644)

        self.root = base / "home"
        self.root.mkdir()
        os.chown(self.root, self.user.pw_uid, self.user.pw_gid)
        self.jail = base / "jail"          # root-owned 0755: sshd's rule for ChrootDirectory
        self.jail.mkdir(mode=0o755)
        os.chmod(self.jail, 0o755)
        self.jail_files = self.jail / "files"
        self.jail_files.mkdir()
        os.chown(self.jail_files, self.jail_user.pw_uid, self.jail_user.pw_gid)

        config = f"""\
Port {self.port}
ListenAddress 127.0.0.1
HostKey {self.host_key}
PidFile {base / 'sshd.pid'}
AuthorizedKeysFile {authorized}
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication {'yes' if self.password_auth else 'no'}
KbdInteractiveAuthentication {'yes' if self.pam else 'no'}
UsePAM {'yes' if self.pam else 'no'}
StrictModes no
UseDNS no
MaxStartups 100:30:200
MaxSessions 50
LoginGraceTime 30
ClientAliveInterval 0
LogLevel VERBOSE
Subsystem sftp internal-sftp
{self.extra_config}
Match User {USER}
    ForceCommand internal-sftp -d {self.root}
Match User {JAIL_USER}
    ChrootDirectory {self.jail}
    ForceCommand internal-sftp -d /files
"""
        conf = base / "sshd_config"
        conf.write_text(config)
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)   # privilege separation folder
        check = subprocess.run([self.binary, "-t", "-f", str(conf)], capture_output=True, text=True)
        if check.returncode:
            pytest.fail(f"sshd refused its config: {check.stderr.strip()}")
        self.log_path = base / "sshd.log"
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([self.binary, "-D", "-e", "-f", str(conf)],
                                     stdout=self._log, stderr=subprocess.STDOUT)
        wait_for_port(self.port, proc=self.proc)
        return self

    def chown_tree(self, path: Path, jailed: bool = False) -> None:
        """Give a tree made by the test (as root) to the server's user."""
        owner = self.jail_user if jailed else self.user
        for p in [Path(path), *Path(path).rglob("*")]:
            os.lchown(p, owner.pw_uid, owner.pw_gid)

    # facts for clients ---------------------------------------------------------------------
    def host_key_line(self, host: str = "127.0.0.1") -> str:
        """This server's known_hosts line (``[host]:port type base64``)."""
        kind, blob = Path(f"{self.host_key}.pub").read_text().split()[:2]
        return f"[{host}]:{self.port} {kind} {blob}\n"

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc)
            self.proc = None
            self._log.close()
        shutil.rmtree(self.base, ignore_errors=True)

    def __enter__(self) -> "Sshd":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
