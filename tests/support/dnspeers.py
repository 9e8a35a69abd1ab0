"""Real DNS peers for tests: dnsmasq on loopback, a misbehaving UDP server, a DoT front (socat)."""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from pathlib import Path

import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import pytest

from tests.support.peers import free_port, require_binary, stop_process, wait_for_port

BIG_TXT_STRINGS = [f"chunk{i:02d}-" + "x" * 200 for i in range(8)]  # > 1232 bytes: truncates over UDP


def _hex_rdata(rdtype: str, text: str) -> str:
    return dns.rdata.from_text("IN", rdtype, text).to_wire().hex()


def primary_records() -> list[str]:
    """dnsmasq options for the main test zone ``test`` (authoritative, with NS and SOA)."""
    big = ",".join(f'{s}' for s in BIG_TXT_STRINGS)
    return [
        "--auth-server=ns1.test,127.0.0.1",
        "--auth-zone=test,10.1.2.0/24,fd00::/64",
        "--auth-soa=2024010101,hostmaster.test",
        "--auth-sec-servers=ns2.test",
        "--host-record=a.test,10.1.2.3,fd00::3",
        "--host-record=mail.test,10.1.2.25",
        "--host-record=sip.test,10.1.2.50",
        "--mx-host=test,mail.test,10",
        "--mx-host=test,mx2.test,20",
        "--txt-record=t.test,hello world,second string",
        f"--txt-record=big.test,{big}",
        "--srv-host=_sip._tcp.test,sip.test,5060,1,2",
        "--cname=c1.test,c2.test",
        "--cname=c2.test,a.test",
        "--caa-record=test,0,issue,letsencrypt.org",
        "--dns-rr=num.test,65280,0102abcd",
        "--dns-rr=hinfo.test,13," + _hex_rdata("HINFO", '"PC" "Linux"'),
    ]


def secondary_records() -> list[str]:
    """A second server that disagrees on a few names (for Compare)."""
    return [
        "--local=/test/",
        "--host-record=a.test,10.1.2.4,fd00::3",
        "--host-record=mail.test,10.1.2.25",
        "--mx-host=test,mail.test,10",
        "--txt-record=t.test,hello world,second string",
    ]


class Dnsmasq:
    """A dnsmasq process answering on 127.0.0.1:port (UDP and TCP)."""

    def __init__(self, options: list[str], workdir: Path):
        binary = require_binary("dnsmasq")
        self.port = free_port()
        workdir.mkdir(parents=True, exist_ok=True)
        self.log = workdir / f"dnsmasq-{self.port}.log"
        args = [binary, "--no-daemon", f"--port={self.port}", "--listen-address=127.0.0.1",
                "--bind-interfaces", "--no-resolv", "--no-hosts", "--no-ident",
                f"--pid-file={workdir / f'dnsmasq-{self.port}.pid'}",
                f"--log-facility={self.log}", *options]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        wait_for_port(self.port, proc=self.proc)
        self._wait_udp()

    @property
    def address(self) -> tuple[str, int]:
        return ("127.0.0.1", self.port)

    def _wait_udp(self) -> None:
        deadline = time.monotonic() + 10
        request = dns.message.make_query("ready.invalid.", "A")
        while time.monotonic() < deadline:
            try:
                dns.query.udp(request, "127.0.0.1", port=self.port, timeout=0.5)
                return
            except Exception:
                time.sleep(0.05)
        pytest.fail(f"dnsmasq on port {self.port} does not answer over UDP")

    def stop(self) -> None:
        stop_process(self.proc)


class BadDnsServer:
    """A UDP server written for the tests that misbehaves on purpose.

    ``mode``: ``garbage`` (random bytes), ``servfail`` (a valid SERVFAIL reply),
    ``wrongid`` (a reply with another id), ``silent`` (never answers), ``cut``
    (a valid reply with its last bytes cut off, TC not set), ``tc`` (an empty reply with TC set).
    """

    def __init__(self, mode: str = "garbage"):
        self.mode = mode
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.received = 0
        self._stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def address(self) -> tuple[str, int]:
        return ("127.0.0.1", self.port)

    def _serve(self) -> None:
        self.sock.settimeout(0.2)
        while not self._stop:
            try:
                data, peer = self.sock.recvfrom(65535)
            except socket.timeout:
                continue
            except OSError:
                return
            self.received += 1
            reply = self._reply(data)
            if reply is not None:
                self.sock.sendto(reply, peer)

    def _reply(self, data: bytes) -> bytes | None:
        if self.mode == "silent":
            return None
        if self.mode == "garbage":
            return b"\x13\x37this is not a DNS message at all"
        request = dns.message.from_wire(data)
        response = dns.message.make_response(request)
        if self.mode == "servfail":
            response.set_rcode(dns.rcode.SERVFAIL)
            return response.to_wire()
        if self.mode == "wrongid":
            response.id = (request.id + 1) % 65536
            return response.to_wire()
        if self.mode == "tc":  # "too big for UDP" (and nothing listens on TCP)
            response.flags |= dns.flags.TC
            return response.to_wire()
        if self.mode == "cut":
            rrset = response.find_rrset(response.answer, request.question[0].name,
                                        dns.rdataclass.IN, dns.rdatatype.A, create=True)
            rrset.add(dns.rdata.from_text("IN", "A", "192.0.2.1"), 300)
            return response.to_wire()[:-3]
        raise ValueError(self.mode)

    def stop(self) -> None:
        self._stop = True
        self.thread.join(2)
        self.sock.close()


class DotFront:
    """DNS over TLS in front of a dnsmasq TCP port: socat terminates TLS with a trustme cert."""

    def __init__(self, backend_port: int, workdir: Path):
        import trustme
        binary = require_binary("socat")
        self.ca = trustme.CA()
        cert = self.ca.issue_cert("dns.test", "127.0.0.1", "localhost")
        workdir.mkdir(parents=True, exist_ok=True)
        self.cert_file = workdir / "dot-server.pem"
        cert.private_key_and_cert_chain_pem.write_to_path(str(self.cert_file))
        self.ca_file = workdir / "dot-ca.pem"
        self.ca.cert_pem.write_to_path(str(self.ca_file))
        self.port = free_port()
        self.proc = subprocess.Popen(
            [binary, f"OPENSSL-LISTEN:{self.port},bind=127.0.0.1,reuseaddr,fork,"
                     f"cert={self.cert_file},verify=0",
             f"TCP:127.0.0.1:{backend_port}"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        wait_for_port(self.port, proc=self.proc)

    @property
    def address(self) -> tuple[str, int]:
        return ("127.0.0.1", self.port)

    def stop(self) -> None:
        stop_process(self.proc)
