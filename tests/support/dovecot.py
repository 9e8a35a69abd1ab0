"""A real Dovecot (IMAP and POP3, plain and TLS) on loopback ports for tests.

One server runs per test session; every test gets a fresh user (and so a fresh
Maildir) from ``Dovecot.new_user()``. Messages are delivered by writing files
into the user's Maildir ``new/`` folder, as a local delivery agent would.
"""

from __future__ import annotations

import atexit
import itertools
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.peers import free_port, require_binary, wait_for_port

PASSWORD = "s3cret-pw"
USERS = 300

CONFIG = """\
base_dir = {base}/run
state_dir = {base}/state
log_path = {base}/dovecot.log
info_log_path = {base}/dovecot.log
listen = 127.0.0.1
protocols = imap pop3
default_login_user = dovenull
default_internal_user = dovecot
first_valid_uid = 1
disable_plaintext_auth = no
auth_mechanisms = plain login{oauth_mechanisms}
mail_location = maildir:{base}/mail/%u
ssl = yes
ssl_cert = <{base}/cert.pem
ssl_key = <{base}/key.pem
pop3_uidl_format = %08Xu%08Xv
mail_max_userip_connections = 100
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {base}/passwd
}}
{oauth_passdb}userdb {{
  driver = static
  args = uid=nobody gid=nogroup home={base}/home/%u
}}
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Drafts {{
    special_use = \\Drafts
    auto = subscribe
  }}
  mailbox Sent {{
    special_use = \\Sent
    auto = subscribe
  }}
  mailbox Trash {{
    special_use = \\Trash
    auto = subscribe
  }}
  mailbox Junk {{
    special_use = \\Junk
    auto = subscribe
  }}
}}
service imap-login {{
  inet_listener imap {{
    port = {imap}
  }}
  inet_listener imaps {{
    port = {imaps}
    ssl = yes
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = {pop3}
  }}
  inet_listener pop3s {{
    port = {pop3s}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
"""

# OAuth2 (XOAUTH2 / OAUTHBEARER): Dovecot hands the bearer token to the oauth2 passdb, which
# asks the test authorization server's introspection endpoint (RFC 7662) whether it is
# active and whose it is. ``mechanisms`` keeps PLAIN/LOGIN away from this passdb.
OAUTH_PASSDB = """\
passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {base}/dovecot-oauth2.conf.ext
}}
"""

# Dovecot 2.3 syntax (2.4 renamed these to oauth2_* settings in an oauth2 {{}} filter).
OAUTH_CONF = """\
introspection_mode = post
introspection_url = {introspection_url}
username_attribute = username
active_attribute = active
active_value = true
timeout_msecs = 5000
"""


@dataclass
class Dovecot:
    """A running Dovecot: ports, the CA file that trusts it, and its folders."""

    base: Path
    imap_port: int
    imaps_port: int
    pop3_port: int
    pop3s_port: int
    ca_file: str
    proc: subprocess.Popen
    _counter = itertools.count(1)

    def new_user(self) -> str:
        """A user nobody used yet, with an empty Maildir (its password is PASSWORD)."""
        # The passwd-file is written once at start: Dovecot may not notice appends made
        # within the same second, so a stock of users is made up front.
        n = next(self._counter)
        if n > USERS:
            raise RuntimeError("the test Dovecot ran out of users; raise USERS")
        name = f"user{n}"
        self.maildir(name)
        return name

    def maildir(self, user: str, folder: str | None = None) -> Path:
        """The user's Maildir (or one of its subfolders), created if missing."""
        root = self.base / "mail" / user
        path = root if folder is None or folder.upper() == "INBOX" else root / f".{folder}"
        for sub in ("new", "cur", "tmp"):
            (path / sub).mkdir(parents=True, exist_ok=True)
        _chown_tree(self.base / "mail" / user)
        return path

    def deliver(self, user: str, data: bytes, folder: str | None = None, seen: bool = False) -> Path:
        """Drop one message into the Maildir as a delivery agent would."""
        path = self.maildir(user, folder)
        name = f"{time.time():.6f}.{next(_names)}.{os.getpid()}.test"
        if seen:
            target = path / "cur" / f"{name}:2,S"
        else:
            target = path / "new" / name
        tmp = path / "tmp" / name
        tmp.write_bytes(data.replace(b"\r\n", b"\n"))
        os.chown(tmp, _NOBODY[0], _NOBODY[1])
        os.replace(tmp, target)
        return target


_NOBODY = (65534, 65534)
_names = itertools.count(1)


def _chown_tree(root: Path) -> None:
    for dirpath, dirnames, filenames in os.walk(root):
        os.chown(dirpath, *_NOBODY)
        for name in filenames:
            os.chown(os.path.join(dirpath, name), *_NOBODY)


def _make_certs(base: Path, *names: str) -> str:
    import trustme
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost", *(n for n in names if n != "127.0.0.1"))
    cert.private_key_pem.write_to_path(str(base / "key.pem"))
    cert.cert_chain_pems[0].write_to_path(str(base / "cert.pem"))
    with open(base / "cert.pem", "ab") as f:
        for pem in cert.cert_chain_pems[1:]:
            f.write(pem.bytes())
    ca.cert_pem.write_to_path(str(base / "ca.pem"))
    return str(base / "ca.pem")


def start_dovecot(base: Path | None = None, *, oauth_introspection_url: str | None = None,
                  listen: str = "127.0.0.1", ports: dict[str, int] | None = None,
                  cert_names: tuple[str, ...] = ()) -> Dovecot:
    """Start Dovecot with its own config in ``base`` (a temp folder if None).

    ``oauth_introspection_url``: also offer XOAUTH2 and OAUTHBEARER, validating tokens at
    that RFC 7662 endpoint (client credentials in the URL's user info).
    """
    binary = require_binary("dovecot")
    base = Path(base or tempfile.mkdtemp(prefix="netgui-dovecot-"))
    for sub in ("run", "state", "mail", "home"):
        (base / sub).mkdir(parents=True, exist_ok=True)
    os.chmod(base, 0o755)
    (base / "passwd").write_text("".join(f"user{n}:{{PLAIN}}{PASSWORD}\n"
                                         for n in range(1, USERS + 1)))
    os.chmod(base / "passwd", 0o644)
    ca_file = _make_certs(base, listen, *cert_names)
    os.chmod(base / "key.pem", 0o644)
    ports = ports or dict(imap=free_port(), imaps=free_port(), pop3=free_port(), pop3s=free_port())
    oauth = {"oauth_mechanisms": "", "oauth_passdb": ""}
    if oauth_introspection_url:
        oauth = {"oauth_mechanisms": " xoauth2 oauthbearer",
                 "oauth_passdb": OAUTH_PASSDB.format(base=base)}
        (base / "dovecot-oauth2.conf.ext").write_text(
            OAUTH_CONF.format(introspection_url=oauth_introspection_url))
        os.chmod(base / "dovecot-oauth2.conf.ext", 0o600)  # it holds the client secret
    (base / "dovecot.conf").write_text(CONFIG.format(base=base, **oauth, **ports)
                                       .replace("listen = 127.0.0.1", f"listen = {listen}"))
    _chown_tree(base / "mail")
    _chown_tree(base / "home")
    proc = subprocess.Popen([binary, "-F", "-c", str(base / "dovecot.conf")],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    for port in ports.values():
        wait_for_port(port, host=listen, proc=proc, timeout=15)
    return Dovecot(base, ports["imap"], ports["imaps"], ports["pop3"], ports["pop3s"], ca_file, proc)


def stop_dovecot(server: Dovecot) -> None:
    proc = server.proc
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    if proc.stdout:
        proc.stdout.close()
    shutil.rmtree(server.base, ignore_errors=True)


_shared: Dovecot | None = None


def shared_dovecot() -> Dovecot:
    """The one Dovecot of this test process (started on first use, stopped at exit)."""
    global _shared
    if _shared is None or _shared.proc.poll() is not None:
        _shared = start_dovecot()
        atexit.register(stop_dovecot, _shared)
    return _shared


@pytest.fixture
def dovecot():
    """The shared Dovecot (one per test process; every test takes its own user)."""
    return shared_dovecot()


@pytest.fixture
def mailuser(dovecot):
    """A fresh user with an empty mailbox: (dovecot, user, password)."""
    return dovecot, dovecot.new_user(), PASSWORD
