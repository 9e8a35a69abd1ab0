"""Removing secrets from transcript lines before anyone sees or stores them."""

from __future__ import annotations

import re

MASK = "****"

_RULES = [
    # FTP / POP3 / IRC: PASS secret
    (re.compile(r"^(\s*PASS\s+).+$", re.I), rf"\g<1>{MASK}"),
    # POP3 APOP user digest
    (re.compile(r"^(\s*APOP\s+\S+\s+).+$", re.I), rf"\g<1>{MASK}"),
    # IMAP: tag LOGIN user secret
    (re.compile(r"^(\s*\S+\s+LOGIN\s+(?:\"[^\"]*\"|\S+)\s+).+$", re.I), rf"\g<1>{MASK}"),
    # SMTP / IMAP / IRC SASL: AUTH PLAIN <b64>, AUTHENTICATE PLAIN <b64>, AUTHENTICATE <b64>
    (re.compile(r"^(\s*(?:\S+\s+)?AUTH(?:ENTICATE)?\s+(?:PLAIN|LOGIN|XOAUTH2|OAUTHBEARER|CRAM-MD5)\s+).+$", re.I),
     rf"\g<1>{MASK}"),
    (re.compile(r"^(\s*AUTHENTICATE\s+)(?!PLAIN\b|LOGIN\b|EXTERNAL\b|\+$)\S+$", re.I), rf"\g<1>{MASK}"),
    # IRC services
    (re.compile(r"^(\s*PRIVMSG\s+NickServ\s+:\s*IDENTIFY\s+).+$", re.I), rf"\g<1>{MASK}"),
    # HTTP
    (re.compile(r"^(\s*(?:Proxy-)?Authorization:\s*\S+\s+).+$", re.I), rf"\g<1>{MASK}"),
]
_URL_USERINFO = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^/\s:@]+:)[^@\s/]+@", re.I)


def redact(line: str, secrets: tuple[str, ...] | list[str] = ()) -> str:
    """Return ``line`` with passwords and credentials replaced by ``****``.

    ``secrets`` are exact strings (the session's passwords) masked wherever they appear.
    """
    for pattern, replacement in _RULES:
        line = pattern.sub(replacement, line)
    line = _URL_USERINFO.sub(rf"\g<1>{MASK}@", line)
    for secret in secrets:
        if secret and len(secret) >= 3:
            line = line.replace(secret, MASK)
    return line
