"""SASL bearer-token mechanisms for IMAP, POP3 and SMTP: XOAUTH2 and OAUTHBEARER (RFC 7628).

Only the message formats and the choice of mechanism live here; each protocol core sends
them its own way. A server that refuses a token answers with a JSON error as a challenge
(``{"status":"401",...}``); the client must then send a dummy response (XOAUTH2: empty,
OAUTHBEARER: ``\\x01``) and the server ends the exchange with a failure.
"""

from __future__ import annotations

import base64
import json
from typing import Iterable

MECHANISMS = ("OAUTHBEARER", "XOAUTH2")  # preference order: the standard one first
ABORT_REPLY = {"XOAUTH2": b"", "OAUTHBEARER": b"\x01"}


def xoauth2(user: str, token: str) -> bytes:
    """Google's/Microsoft's XOAUTH2 initial response."""
    return f"user={user}\x01auth=Bearer {token}\x01\x01".encode()


def _saslname(user: str) -> str:
    # RFC 5801 saslname: "=" and "," are escaped as =3D and =2C
    return user.replace("=", "=3D").replace(",", "=2C")


def oauthbearer(user: str, token: str, host: str | None = None, port: int | None = None) -> bytes:
    """RFC 7628 OAUTHBEARER initial client response (GS2 header with the authzid)."""
    parts = [f"n,a={_saslname(user)},"]
    if host:
        parts.append(f"host={host}")
    if port:
        parts.append(f"port={port}")
    parts.append(f"auth=Bearer {token}")
    return ("\x01".join(parts) + "\x01\x01").encode()


def initial_response(mechanism: str, user: str, token: str, host: str | None = None,
                     port: int | None = None) -> bytes:
    if mechanism == "XOAUTH2":
        return xoauth2(user, token)
    if mechanism == "OAUTHBEARER":
        return oauthbearer(user, token, host, port)
    raise ValueError(f"not a bearer mechanism: {mechanism}")


def choose(offered: Iterable[str], wanted: str | None = None) -> str | None:
    """The mechanism to use among those the server ``offered`` (None: it offers neither)."""
    offered = {m.upper() for m in offered}
    if wanted:
        return wanted.upper() if wanted.upper() in offered else None
    return next((m for m in MECHANISMS if m in offered), None)


def describe_failure(challenge: bytes | str | None) -> str:
    """A short reason from a server's JSON error challenge (raw JSON or base64 of it)."""
    if not challenge:
        return ""
    raw = challenge.encode() if isinstance(challenge, str) else challenge
    for candidate in (raw, _b64(raw)):
        try:
            data = json.loads(candidate)
        except (ValueError, TypeError):
            continue
        if isinstance(data, dict):
            status = data.get("status", "")
            return {"401": "the token was not accepted", "400": "the server refused the request",
                    "403": "the account may not use this server"}.get(str(status),
                                                                      f"status {status}")
    return ""


def _b64(raw: bytes) -> bytes | None:
    try:
        return base64.b64decode(raw, validate=True)
    except (ValueError, TypeError):
        return None
