"""ngircd as a real IRC test peer: foreground, its own config, a free loopback port."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.support.peers import free_port, require_binary, stop_process, wait_for_port


class Ngircd:
    """One ngircd process; ``restart()`` brings it back on the same port(s)."""

    def __init__(self, folder: Path, tls_cert: tuple[str, str] | None = None) -> None:
        self.binary = require_binary("ngircd")
        self.folder = folder
        self.port = free_port()
        self.tls_port = free_port() if tls_cert else None
        self.conf = folder / "ngircd.conf"
        folder.mkdir(parents=True, exist_ok=True)
        os.chmod(folder, 0o777)
        ssl_block = ""
        if tls_cert:
            cert, key = tls_cert
            ssl_block = f"[SSL]\nCertFile = {cert}\nKeyFile = {key}\nPorts = {self.tls_port}\n"
        (folder / "motd").write_text("Welcome to the netgui test network\n")
        self.conf.write_text(f"""[Global]
Name = irc.netgui.test
Info = netgui test server
Network = NetguiTest
Listen = 127.0.0.1
Ports = {self.port}
PidFile = {folder}/ngircd.pid
MotdFile = {folder}/motd
ServerUID = nobody
ServerGID = nogroup
[Limits]
MaxConnectionsIP = 0
MaxNickLength = 20
MaxPenaltyTime = 0
PingTimeout = 120
[Options]
PAM = no
Ident = no
DNS = no
{ssl_block}""")
        self.proc: subprocess.Popen | None = None

    def start(self) -> "Ngircd":
        self.proc = subprocess.Popen([self.binary, "-n", "-f", str(self.conf)], stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        wait_for_port(self.port, proc=self.proc)
        if self.tls_port:
            wait_for_port(self.tls_port, proc=self.proc)
        return self

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc)
            self.proc.stdout.close()
            self.proc = None

    def kill(self) -> None:
        """Drop every connection at once (SIGKILL), like a crashed server."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(5)
            self.proc.stdout.close()
            self.proc = None

    def restart(self) -> None:
        self.kill()
        self.start()
