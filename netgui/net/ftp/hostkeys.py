"""SSH host keys the OpenSSH way: known_hosts files, fingerprints, unknown and changed keys.

- Reads OpenSSH ``known_hosts`` files: plain and hashed (``|1|salt|hash``) host names,
  ``[host]:port`` for other ports than 22, patterns (``*``, ``?``, ``!``, CIDR), the
  ``@revoked`` and ``@cert-authority`` markers. Unreadable lines are skipped, never fatal.
- The user's ``~/.ssh/known_hosts`` is only ever read. A key the user trusts "always" is
  appended to netgui's own file (hashed, like Debian's ``HashKnownHosts yes``).
- Matching is OpenSSH's: a non-default port matches only ``[host]:port`` entries (asyncssh's
  own matcher falls back to port 22 entries, which would call a different server on another
  port of the same host "changed"; so the matching is done here).
- ``check`` answers KNOWN or UNKNOWN, or raises ``HostKeyChanged`` naming the old and the new
  fingerprint (and where the old one is written), or ``HostKeyRevoked``.

Keys and fingerprints come from asyncssh (``import_public_key``, ``get_fingerprint``); host
patterns from ``asyncssh.pattern.HostPatternList``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import asyncssh
from asyncssh.pattern import HostPatternList

from netgui.net.errors import NetError

KNOWN, UNKNOWN = "known", "unknown"
ONCE, ALWAYS = "once", "always"        # answers to an unknown host key


class HostKeyError(NetError):
    """The server's host key was not accepted."""


class HostKeyUnknown(HostKeyError):
    """The host is not known and nobody (or the user) accepted its key."""


class HostKeyChanged(HostKeyError):
    """The host is known with another key: possibly someone in the middle. Never accepted.
    ``host`` (as known_hosts writes it), ``old`` and ``new`` ((type, fingerprint) pairs) and
    ``where`` (file:line of the known key) let a dialog show the facts."""

    def __init__(self, message: str, *, host: str = "", old: tuple[str, str] = ("", ""),
                 new: tuple[str, str] = ("", ""), where: str = ""):
        super().__init__(message, detail=f"known key in {where}" if where else None)
        self.host, self.old, self.new, self.where = host, old, new, where


class HostKeyRevoked(HostKeyError):
    """The key is marked @revoked."""


@dataclass(frozen=True)
class HostKeyQuestion:
    """What the user is asked about an unknown host (shown in a dialog)."""

    host: str
    port: int
    key_type: str       # "ssh-ed25519", "ecdsa-sha2-nistp256", "ssh-rsa"
    fingerprint: str    # "SHA256:..."

    def text(self) -> str:
        return (f"The authenticity of host {host_label(self.host, self.port)} can't be established.\n"
                f"{key_type_name(self.key_type)} key fingerprint is {self.fingerprint}.")


AskHostKey = Callable[[HostKeyQuestion], "str | None"]
"""``ask(question) -> ONCE | ALWAYS | None`` (None: refuse)."""


def host_label(host: str, port: int) -> str:
    """The name a known_hosts file uses: ``host`` for port 22, ``[host]:port`` otherwise."""
    return host if port == 22 else f"[{host}]:{port}"


def key_type_name(key_type: str) -> str:
    """``ssh-ed25519`` -> ``ED25519`` (as OpenSSH prints it)."""
    if key_type.startswith("ecdsa"):
        return "ECDSA"
    return key_type.removeprefix("ssh-").split("@")[0].upper()


def fingerprint(key: asyncssh.SSHKey) -> str:
    return key.get_fingerprint("sha256")


def hashed_name(name: str, salt: bytes | None = None) -> str:
    """OpenSSH's hashed host name: ``|1|base64(salt)|base64(HMAC-SHA1(salt, name))``."""
    salt = salt or os.urandom(20)
    digest = hmac.new(salt, name.encode(), hashlib.sha1).digest()
    return f"|1|{base64.b64encode(salt).decode()}|{base64.b64encode(digest).decode()}"


@dataclass
class Entry:
    """One usable known_hosts line."""

    marker: str | None        # None, "revoked" or "cert-authority"
    names: str                # the host field as written (maybe hashed)
    key: asyncssh.SSHKey
    source: Path
    line: int

    def where(self) -> str:
        return f"{self.source}:{self.line}"

    def matches(self, label: str, addr_label: str | None) -> bool:
        if self.names.startswith("|"):
            return any(_hashed_match(self.names, v) for v in (label, addr_label) if v)
        try:
            ip = ipaddress.ip_address(addr_label or label)   # None for names and [host]:port
        except ValueError:
            ip = None
        try:
            return HostPatternList(self.names).matches(label, addr_label or "", ip)
        except Exception:   # a pattern asyncssh cannot read: no match
            return False


def _hashed_match(field: str, value: str) -> bool:
    try:
        _, magic, salt, digest = field.split("|")
        if magic != "1":
            return False
        salt_b, digest_b = base64.b64decode(salt), base64.b64decode(digest)
    except (ValueError, binascii.Error):
        return False
    return hmac.compare_digest(hmac.new(salt_b, value.encode(), hashlib.sha1).digest(), digest_b)


def parse_known_hosts(text: str, source: Path) -> tuple[list[Entry], list[int]]:
    """Entries of a known_hosts text, and the numbers of lines that could not be read."""
    entries, bad = [], []
    for number, raw in enumerate(text.split("\n"), 1):   # as OpenSSH counts lines (not splitlines)
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        marker = None
        parts = line.split()
        if parts[0].startswith("@"):
            marker = parts.pop(0)[1:]
            if marker not in ("revoked", "cert-authority"):
                bad.append(number)
                continue
        if len(parts) < 3:
            bad.append(number)
            continue
        try:
            key = asyncssh.import_public_key(f"{parts[1]} {parts[2]}")
        except (asyncssh.KeyImportError, ValueError, TypeError):
            bad.append(number)   # an unknown key type or a broken line: skip it, like OpenSSH
            continue
        entries.append(Entry(marker, parts[0], key, source, number))
    return entries, bad


@dataclass
class Match:
    trusted: list[Entry]
    revoked: list[Entry]
    authorities: list[Entry]


class KnownHosts:
    """The known_hosts files netgui reads (the user's, read-only) and its own (read-write)."""

    def __init__(self, own_file: Path | str | None, user_files: list[Path | str] | None = None):
        if user_files is None:
            user_files = [Path("~/.ssh/known_hosts").expanduser(), Path("/etc/ssh/ssh_known_hosts")]
        self.user_files = [Path(p) for p in user_files]
        self.own_file = Path(own_file) if own_file else None
        self._lock = threading.Lock()
        self.skipped: dict[Path, list[int]] = {}
        self._session: set[tuple[str, int, bytes]] = set()   # keys accepted "this time"

    def accept_once(self, host: str, port: int, key: asyncssh.SSHKey) -> None:
        """Trust ``key`` for host:port until this object is gone (not written anywhere)."""
        with self._lock:
            self._session.add((host, port, key.public_data))

    def accepted_once(self, host: str, port: int, key: asyncssh.SSHKey) -> bool:
        with self._lock:
            return (host, port, key.public_data) in self._session

    def _entries(self) -> list[Entry]:
        files = [*self.user_files, *([self.own_file] if self.own_file else [])]
        result = []
        for path in files:
            try:
                text = path.read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            entries, bad = parse_known_hosts(text, path)
            if bad:
                self.skipped[path] = bad
            result += entries
        return result

    def lookup(self, host: str, port: int, addr: str | None = None) -> Match:
        label = host_label(host, port)
        addr_label = host_label(addr, port) if addr and addr != host else None
        found = [e for e in self._entries() if e.matches(label, addr_label)]
        return Match(trusted=[e for e in found if e.marker is None],
                     revoked=[e for e in found if e.marker == "revoked"],
                     authorities=[e for e in found if e.marker == "cert-authority"])

    def check(self, host: str, port: int, key: asyncssh.SSHKey, addr: str | None = None) -> str:
        """KNOWN or UNKNOWN; raises HostKeyChanged / HostKeyRevoked."""
        match = self.lookup(host, port, addr)
        label = host_label(host, port)
        if any(e.key.public_data == key.public_data for e in match.revoked):
            raise HostKeyRevoked(f"The host key of {label} ({fingerprint(key)}) is marked as revoked")
        if any(e.key.public_data == key.public_data for e in match.trusted):
            return KNOWN
        if match.trusted:
            old = match.trusted[0]
            others = f" (and {len(match.trusted) - 1} more)" if len(match.trusted) > 1 else ""
            known = (key_type_name(old.key.get_algorithm()), fingerprint(old.key))
            now = (key_type_name(key.get_algorithm()), fingerprint(key))
            raise HostKeyChanged(
                f"The host key of {label} has changed: known {known[0]} {known[1]}{others}, "
                f"now {now[0]} {now[1]}. Refusing to connect",
                host=label, old=known, new=now, where=old.where())
        return UNKNOWN

    def preferred_algorithms(self, host: str, port: int, addr: str | None = None) -> list[str]:
        """Host key algorithms to offer first: those of keys already known (as OpenSSH does)."""
        algs: list[str] = []
        for e in self.lookup(host, port, addr).trusted:
            for alg in e.key.sig_algorithms:
                name = alg.decode()
                if name not in algs:
                    algs.append(name)
        return algs

    def remember(self, host: str, port: int, key: asyncssh.SSHKey, *, hashed: bool = True) -> Path:
        """Append the key to netgui's own known_hosts file (created 0600)."""
        if self.own_file is None:
            raise HostKeyError("There is no known_hosts file of netgui's own to write to")
        label = host_label(host, port)
        name = hashed_name(label) if hashed else label
        line = f"{name} {key.export_public_key('openssh').decode().split()[0]} " \
               f"{key.export_public_key('openssh').decode().split()[1]}\n"
        with self._lock:
            self.own_file.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.own_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            with os.fdopen(fd, "a", encoding="utf-8") as f:
                f.write(line)
        return self.own_file


__all__ = ["KnownHosts", "HostKeyQuestion", "HostKeyError", "HostKeyUnknown", "HostKeyChanged",
           "HostKeyRevoked", "KNOWN", "UNKNOWN", "ONCE", "ALWAYS", "host_label", "fingerprint",
           "hashed_name", "parse_known_hosts"]
