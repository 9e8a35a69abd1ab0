"""DNS over HTTPS test peer: dnsdist (Debian's build has DoH through h2o: HTTP/1.1 and
HTTP/2, GET and POST) in front of any plain DNS server, with a trustme certificate.

unbound's DoH (HTTP/2 only) comes with the hierarchy's resolver in dnshierarchy.py.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.support.peers import free_port, require_binary, stop_process, wait_for_port


class DohFront:
    """``https://doh.test:PORT/dns-query`` (and ``https://127.0.0.1:PORT/dns-query``)
    relaying to ``backend`` (host, port) over UDP/TCP."""

    def __init__(self, backend: tuple[str, int], workdir: Path, path: str = "/dns-query"):
        import trustme
        binary = require_binary("dnsdist")
        workdir.mkdir(parents=True, exist_ok=True)
        self.ca = trustme.CA()
        cert = self.ca.issue_cert("doh.test", "127.0.0.1", "localhost")
        self.cert_file, self.key_file = workdir / "doh-cert.pem", workdir / "doh-key.pem"
        cert.cert_chain_pems[0].write_to_path(str(self.cert_file))
        cert.private_key_pem.write_to_path(str(self.key_file))
        self.ca_file = workdir / "doh-ca.pem"
        self.ca.cert_pem.write_to_path(str(self.ca_file))
        self.port = free_port()
        self.path = path
        plain = free_port()   # dnsdist always has a plain listener; keep it off port 53
        conf = workdir / "dnsdist.conf"
        conf.write_text("\n".join([
            f'setLocal("127.0.0.1:{plain}")',
            f'addDOHLocal("127.0.0.1:{self.port}", "{self.cert_file}", "{self.key_file}", '
            f'"{path}", {{ reusePort=true }})',
            f'newServer({{address="{backend[0]}:{backend[1]}", name="backend", '
            'healthCheckMode="up"})',
            'setSecurityPollSuffix("")',   # no phoning home
            "setMaxUDPOutstanding(65535)",
        ]) + "\n")
        check = subprocess.run([binary, "--check-config", "-C", str(conf)], capture_output=True,
                               text=True)
        if check.returncode:
            raise RuntimeError(f"dnsdist --check-config: {check.stdout}{check.stderr}")
        self.proc = subprocess.Popen([binary, "--supervised", "--disable-syslog", "-C", str(conf)],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        wait_for_port(self.port, proc=self.proc)

    @property
    def url(self) -> str:
        return f"https://doh.test:{self.port}{self.path}"

    @property
    def ip_url(self) -> str:
        return f"https://127.0.0.1:{self.port}{self.path}"

    def stop(self) -> None:
        stop_process(self.proc)


__all__ = ["DohFront"]
