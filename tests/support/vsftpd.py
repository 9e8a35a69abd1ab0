"""vsftpd (Debian's) as a second, real FTP server dialect: anonymous, LIST only, no MLSD.

Runs in the foreground with its own config file on a free loopback port. Anonymous users
are mapped to the system user ``ftp`` (the vsftpd package creates it); ``pub/`` is writable.
"""

from __future__ import annotations

import os
import pwd
import subprocess
from pathlib import Path

from tests.support.peers import free_port, require_binary, stop_process, wait_for_port


class Vsftpd:
    def __init__(self, base: Path, *, cert: str | None = None):
        self.binary = require_binary("vsftpd")
        self.base = Path(base)
        self.root = self.base / "anon"
        self.pub = self.root / "pub"
        self.port = free_port()
        self.cert = cert
        self.proc: subprocess.Popen | None = None

    def start(self) -> "Vsftpd":
        empty = self.base / "empty"
        for d in (self.root, self.pub, empty):
            d.mkdir(parents=True, exist_ok=True)
        os.chmod(self.root, 0o755)   # vsftpd refuses a writable anonymous root
        user = "ftp"
        try:
            ftp = pwd.getpwnam(user)
            self._chown_pub(ftp.pw_uid, ftp.pw_gid)
        except KeyError:   # no ftp user: run as root's own identity is refused, so say why
            raise RuntimeError("the system user 'ftp' (created by the vsftpd package) is missing")
        lines = [
            "listen=YES", "listen_ipv6=NO", "listen_address=127.0.0.1", f"listen_port={self.port}",
            "background=NO", "anonymous_enable=YES", "local_enable=NO", f"anon_root={self.root}",
            "no_anon_password=YES", "write_enable=YES", "anon_upload_enable=YES",
            "anon_mkdir_write_enable=YES", "anon_other_write_enable=YES", "anon_umask=022",
            f"ftp_username={user}", f"nopriv_user={user}", f"secure_chroot_dir={empty}",
            "seccomp_sandbox=NO", "isolate=NO", "isolate_network=NO", "xferlog_enable=NO",
            f"vsftpd_log_file={self.base / 'vsftpd.log'}", "pasv_address=127.0.0.1",
            "utf8_filesystem=YES", "force_dot_files=YES",
        ]
        if self.cert:
            lines += ["ssl_enable=YES", f"rsa_cert_file={self.cert}", f"rsa_private_key_file={self.cert}",
                      "allow_anon_ssl=YES", "force_anon_logins_ssl=YES", "force_anon_data_ssl=YES",
                      "require_ssl_reuse=YES", "ssl_ciphers=HIGH"]
        conf = self.base / "vsftpd.conf"
        conf.write_text("\n".join(lines) + "\n")
        os.chmod(conf, 0o600)
        self.output = open(self.base / "vsftpd.out", "wb")
        self.proc = subprocess.Popen([self.binary, str(conf)], stdout=self.output, stderr=subprocess.STDOUT)
        wait_for_port(self.port, proc=self.proc)
        return self

    def _chown_pub(self, uid: int, gid: int) -> None:
        for path in [self.pub, *self.pub.rglob("*")]:
            os.chown(path, uid, gid)

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc)
            self.output.close()
