"""What the doctor is asked about: a host, ``host:port``, a URL or an e-mail address."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from netgui.net.errors import NetError


class DoctorInputError(NetError):
    """The target cannot be understood (one line saying why)."""


@dataclass(frozen=True)
class Scheme:
    protocol: str      # what greets: http, smtp, imap, pop3, ftp, ssh, irc, getfile, chat, dns, tcp
    port: int
    tls: bool          # TLS from the first byte (https, imaps …)
    starttls: str = ""  # "" (never), "try" (if offered) or "need" (ftpes: asked for)


SCHEMES: dict[str, Scheme] = {
    "http": Scheme("http", 80, False), "https": Scheme("http", 443, True),
    "ftp": Scheme("ftp", 21, False, "try"), "ftpes": Scheme("ftp", 21, False, "need"),
    "ftps": Scheme("ftp", 990, True),
    "sftp": Scheme("ssh", 22, False), "ssh": Scheme("ssh", 22, False),
    "imap": Scheme("imap", 143, False, "try"), "imaps": Scheme("imap", 993, True),
    "pop3": Scheme("pop3", 110, False, "try"), "pop": Scheme("pop3", 110, False, "try"),
    "pop3s": Scheme("pop3", 995, True), "pops": Scheme("pop3", 995, True),
    "smtp": Scheme("smtp", 25, False, "try"), "submission": Scheme("smtp", 587, False, "try"),
    "smtps": Scheme("smtp", 465, True), "submissions": Scheme("smtp", 465, True),
    "irc": Scheme("irc", 6667, False), "ircs": Scheme("irc", 6697, True),
    "getfile": Scheme("getfile", 50001, False, "try"), "chat": Scheme("chat", 51423, False),
    "dns": Scheme("dns", 53, False), "tcp": Scheme("tcp", 0, False),
}
PORT_SCHEMES = {21: "ftp", 22: "ssh", 25: "smtp", 53: "dns", 80: "http", 110: "pop3",
                143: "imap", 443: "https", 465: "smtps", 587: "submission", 990: "ftps",
                993: "imaps", 995: "pop3s", 6667: "irc", 6697: "ircs", 50001: "getfile",
                51423: "chat", 8080: "http", 8443: "https"}
_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$", re.I)
_EMAIL = re.compile(r"^[^@\s]+@([^@\s]+)$")


@dataclass(frozen=True)
class Target:
    text: str            # as given
    kind: str            # host, url, email
    host: str = ""
    port: int = 0
    scheme: str = ""
    path: str = "/"
    email: str = ""

    @property
    def spec(self) -> Scheme:
        return SCHEMES[self.scheme]

    @property
    def url(self) -> str:
        where = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{where}:{self.port}"

    @property
    def domain(self) -> str:
        return self.email.rsplit("@", 1)[1] if self.email else self.host


def is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False


def check_host(host: str, text: str) -> str:
    host = host.strip().rstrip(".").lower()
    if not host:
        raise DoctorInputError(f"No host name in {text!r}")
    if is_address(host):
        return host
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise DoctorInputError(f"{host!r} is not a valid host name") from None
    if len(ascii_host) > 253 or not all(_HOST_LABEL.match(label) for label in ascii_host.split(".")):
        raise DoctorInputError(f"{host!r} is not a valid host name")
    return host


def parse_target(text: str) -> Target:
    """Read a host, ``host:port``, ``[v6]:port``, a URL (``imaps://host``, ``https://…``,
    ``mailto:a@b``) or an e-mail address. A bare host is checked as a web site (https)."""
    raw = (text or "").strip()
    if not raw:
        raise DoctorInputError("Type a host, host:port, URL or e-mail address")
    if raw.lower().startswith("mailto:"):
        raw = unquote(raw[7:].split("?", 1)[0])
    if "://" not in raw:
        match = _EMAIL.match(raw)
        if match:
            domain = check_host(match.group(1), text)
            return Target(text, "email", domain, 0, "", email=f"{raw.rsplit('@', 1)[0]}@{domain}")
        return _host_port(raw, text)
    parts = urlsplit(raw)
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES or scheme == "tcp":
        known = ", ".join(s for s in sorted(SCHEMES) if s != "tcp")
        raise DoctorInputError(f"netgui does not know {scheme}:// (it knows {known})")
    try:
        port = parts.port
    except ValueError:
        raise DoctorInputError(f"The port in {text!r} is not a number from 1 to 65535") from None
    host = check_host(parts.hostname or "", text)
    return Target(text, "url", host, port or SCHEMES[scheme].port, scheme, parts.path or "/")


def _host_port(raw: str, text: str) -> Target:
    """``host``, ``host:port`` or ``[v6]:port`` (read like a DNS server's address)."""
    from netgui.net.dns.lookup import DnsInputError, parse_server
    if any(c.isspace() for c in raw):
        raise DoctorInputError(f"{raw!r} is not a valid host name")
    try:
        host, port = parse_server(raw.split("/", 1)[0]) or ("", None)
    except DnsInputError as exc:
        raise DoctorInputError(f"Cannot read {text!r}: {str(exc).split(': ', 1)[-1]}") from None
    host = check_host(host, text)
    if port is None:
        return Target(text, "host", host, 443, "https")
    return Target(text, "host", host, port, PORT_SCHEMES.get(port, "tcp"))
