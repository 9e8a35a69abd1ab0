"""The site form of the FTP / SFTP tab: protocols, login methods, URLs, and the site it makes.

Nothing here opens a connection; ``site_from_values`` turns the form's values into an
``FtpSite`` or an ``SftpSite`` (asyncssh is imported only for the latter).
"""

from __future__ import annotations

import getpass
import os
from pathlib import Path
from urllib.parse import unquote, urlsplit

from netgui.net.ftp.client import FtpSite
from netgui.ui.form import Field

# label -> FtpSite.tls, or "sftp"
PROTOCOLS = {"FTP": "none", "FTPS explicit": "explicit", "FTPS implicit": "implicit", "SFTP": "sftp"}
DEFAULT_PORTS = {"none": 21, "explicit": 21, "implicit": 990, "sftp": 22}
SCHEMES = {"ftp": "FTP", "ftps": "FTPS explicit", "sftp": "SFTP"}
# label -> SftpSite.auth
LOGINS = {"Automatic": "auto", "Password": "password", "Key file": "key", "SSH agent": "agent",
          "Keyboard-interactive": "keyboard-interactive"}
# which fields a protocol uses (the others are hidden)
FTP_ONLY = ("anonymous", "mode")
TLS_ONLY = ("verify",)
SFTP_ONLY = ("login", "key_file")
# sites saved before SFTP had a "security" choice
OLD_SECURITY = {"Plain FTP": "FTP", "FTPS (AUTH TLS)": "FTPS explicit", "Implicit FTPS": "FTPS implicit"}
ENCODINGS = ("utf-8", "latin-1", "cp1252", "cp1251", "cp437", "shift_jis", "gbk")


def fields() -> list[Field]:
    return [
        Field("protocol", "Protocol", kind="choice", choices=tuple(PROTOCOLS), default="FTP", width=16),
        Field("host", "Host", required=True, width=16, validator=_check_host),
        Field("port", "Port", kind="port", default=21, width=7),
        Field("anonymous", "Anonymous login", kind="check", default=False),
        Field("user", "User", default="", width=16),
        Field("password", "Password", kind="password", width=16),
        Field("login", "Login", kind="choice", choices=tuple(LOGINS), default="Automatic", width=16),
        Field("key_file", "Key file", kind="file", default="", width=8),
        Field("verify", "Verify TLS certificate", kind="check", default=True),
        Field("mode", "Data mode", kind="choice", choices=("Passive", "Active"), default="Passive", width=16),
        Field("encoding", "Encoding", kind="choice", choices=ENCODINGS, default="utf-8",
              editable=True, validator=_check_encoding, width=16),
        Field("folder", "Remote folder", default="", width=16),
        Field("local", "Local folder", kind="folder", default=str(Path.home()), width=8),
    ]


def _check_encoding(value) -> str | None:
    import codecs
    try:
        codecs.lookup(str(value))
    except LookupError:
        return "Unknown encoding"
    return None


def _check_host(value) -> str | None:
    text = str(value).strip()
    if "://" in text:
        if values_from_url(text) is None:
            return "Use ftp://, ftps:// or sftp://user@host:port/folder"
        if urlsplit(text).password is not None:   # it would be remembered with the host
            return "Leave the password out of the URL"
        return None
    if any(c.isspace() or c in "/@" for c in text):
        return "A host name or address (or a URL)"
    return None


def values_from_url(url: str) -> dict | None:
    """Form values from ``sftp://user@host[:port]/folder`` (or ftp://, ftps://); None if it is
    not such a URL. A password in it is not taken (the form refuses such a URL)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    protocol = SCHEMES.get(parts.scheme.lower())
    if protocol is None or not parts.hostname:
        return None
    values = {"protocol": protocol, "host": parts.hostname,
              "port": port or DEFAULT_PORTS[PROTOCOLS[protocol]], "folder": unquote(parts.path or "")}
    if values["folder"] == "/" and protocol != "SFTP":
        values["folder"] = ""
    if parts.username:
        values.update(user=unquote(parts.username), anonymous=False)
    return values


def upgrade(values: dict) -> dict:
    """Values saved before the protocol choice existed get their protocol from "security"."""
    values = dict(values)
    old = values.pop("security", None)
    if "protocol" not in values and old in OLD_SECURITY:
        values["protocol"] = OLD_SECURITY[old]
    return values


def protocol_of(values: dict) -> str:
    """"none", "explicit", "implicit" or "sftp"."""
    return PROTOCOLS.get(values.get("protocol") or "FTP", "none")


def site_from_values(values: dict):
    """An FtpSite or SftpSite from the form's values (secrets other than the password are
    filled in by the tab)."""
    protocol = protocol_of(values)
    host = values["host"].strip()
    folder = (values.get("folder") or "").strip()
    encoding = values.get("encoding") or "utf-8"
    if protocol == "sftp":
        from netgui.net.ftp.sftp import SftpSite
        key_file = (values.get("key_file") or "").strip()
        return SftpSite(host=host, port=int(values["port"] or 22),
                        user=(values.get("user") or "").strip() or getpass.getuser(),
                        password=values.get("password") or "",
                        key_file=os.path.expanduser(key_file) if key_file else None,
                        auth=LOGINS.get(values.get("login") or "Automatic", "auto"),
                        encoding=encoding, initial_dir=folder)
    anonymous = bool(values.get("anonymous")) or not (values.get("user") or "").strip()
    return FtpSite(host=host, port=int(values["port"] or 21),
                   user="anonymous" if anonymous else values["user"].strip(),
                   password="" if anonymous else values.get("password") or "",
                   tls=protocol, passive=values.get("mode") != "Active",
                   encoding=encoding, verify=bool(values.get("verify", True)), initial_dir=folder)


def key_type_label(key_type: str) -> str:
    """``ssh-ed25519`` -> ``ED25519``, ``ecdsa-sha2-nistp256`` -> ``ECDSA (nistp256)``."""
    if key_type.startswith("ecdsa-sha2-"):
        return f"ECDSA ({key_type.removeprefix('ecdsa-sha2-')})"
    return key_type.removeprefix("ssh-").split("@")[0].upper()


def passphrase_account(key_file: str) -> str:
    """Where a key file's passphrase is kept in the keyring (only if the user said Remember)."""
    return f"ssh-key/{os.path.abspath(os.path.expanduser(key_file))}/passphrase"
