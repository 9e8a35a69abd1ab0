"""EDNS options a query can carry (NSID, client subnet, cookie, padding, buffer size) and
how the options of a reply read: dig-like lines and plain dicts, extended DNS errors
(RFC 8914) included. dnspython encodes and decodes every option; this module only maps
user input to its option objects and replies to words."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass

import dns.edns
import dns.message

from netgui.net.errors import NetError

DEFAULT_PAYLOAD = 1232     # DNS flag day 2020
PADDING_BLOCK = 128        # RFC 8467: pad queries to a multiple of 128 bytes


class EdnsInputError(NetError):
    """An EDNS option value the user typed is not valid."""


@dataclass
class EdnsOptions:
    """What to put into the OPT record of a query.

    ``ecs``: a client subnet like ``192.0.2.0/24`` or ``2001:db8::/56`` (``0.0.0.0/0`` asks the
    server not to use the client's address). ``cookie``: True for a fresh client cookie, or the
    hex of a client cookie (8 bytes), optionally followed by the server cookie from a
    previous reply. ``padding``: pad the query to a multiple of that many bytes (RFC 7830;
    0 = no padding). ``payload``: the UDP buffer size advertised.
    """

    nsid: bool = False
    ecs: str | None = None
    cookie: bool | str = False
    padding: int = 0
    payload: int = DEFAULT_PAYLOAD

    def options(self) -> list[dns.edns.Option]:
        """dnspython option objects for make_query / use_edns."""
        out: list[dns.edns.Option] = []
        if self.nsid:
            out.append(dns.edns.NSIDOption(b""))
        if self.ecs:
            out.append(ecs_option(self.ecs))
        if self.cookie:
            out.append(cookie_option(self.cookie))
        return out

    def check(self) -> "EdnsOptions":
        if not 512 <= int(self.payload) <= 65535:
            raise EdnsInputError("The EDNS buffer size must be from 512 to 65535 bytes")
        if not 0 <= int(self.padding) <= 4096:
            raise EdnsInputError("Padding must be from 0 (none) to 4096 bytes")
        self.options()
        return self

    @property
    def any(self) -> bool:
        return bool(self.nsid or self.ecs or self.cookie or self.padding
                    or self.payload != DEFAULT_PAYLOAD)


def ecs_option(text: str) -> dns.edns.ECSOption:
    try:
        network = ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        raise EdnsInputError(f"Client subnet {text!r} is not an address/prefix like "
                             "192.0.2.0/24") from None
    return dns.edns.ECSOption(str(network.network_address), network.prefixlen, 0)


def cookie_option(value) -> dns.edns.CookieOption:
    if value is True:
        return dns.edns.CookieOption(os.urandom(8), b"")
    text = str(value).strip().replace(" ", "")
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raise EdnsInputError("A cookie is written in hex: 16 digits for the client cookie, "
                             "then optionally 16 to 64 for the server cookie") from None
    client, server = raw[:8], raw[8:]
    if len(client) != 8 or (server and not 8 <= len(server) <= 32):
        raise EdnsInputError("A cookie has an 8-byte client part and an optional 8-32 byte "
                             "server part")
    return dns.edns.CookieOption(client, server)


# ---------------------------------------------------------------- reading replies


def ede_name(code: int) -> str:
    """``Signature Expired`` for 7 (dig's wording)."""
    try:
        return dns.edns.EDECode(code).name.replace("_", " ").title().replace("Dnskey", "DNSKEY") \
            .replace("Ds ", "DS ").replace("Rrsigs", "RRSIGs").replace("Nsec", "NSEC")
    except ValueError:
        return f"Code {code}"


def extended_errors(message: dns.message.Message) -> list[dict]:
    """Every EDE option of a reply: ``{"code": 7, "name": "Signature Expired", "text": ...}``."""
    out = []
    for option in getattr(message, "options", ()) or ():
        if isinstance(option, dns.edns.EDEOption):
            out.append({"code": int(option.code), "name": ede_name(int(option.code)),
                        "text": option.text or ""})
    return out


def ede_text(message: dns.message.Message) -> str:
    """``Signature Expired (7): validation failure …`` for a status line; empty without EDE."""
    parts = []
    for e in extended_errors(message):
        parts.append(f"{e['name']} ({e['code']})" + (f": {e['text']}" if e["text"] else ""))
    return "; ".join(parts)


def _printable(raw: bytes) -> str:
    return raw.decode("ascii") if raw and all(32 <= b < 127 for b in raw) else ""


def describe_option(option: dns.edns.Option) -> dict:
    """A reply's option as a dict with ``option`` (name) and ``text`` (dig-like) plus fields."""
    kind = int(option.otype)
    if isinstance(option, dns.edns.EDEOption):
        name = ede_name(int(option.code))
        text = f"{int(option.code)} ({name})" + (f": ({option.text})" if option.text else "")
        return {"option": "EDE", "code": int(option.code), "name": name,
                "extra_text": option.text or "", "text": text}
    if isinstance(option, dns.edns.NSIDOption) or kind == dns.edns.OptionType.NSID:
        raw = option.data if hasattr(option, "data") else option.to_wire()
        ascii_ = _printable(raw)
        text = " ".join(f"{b:02x}" for b in raw) + (f' ("{ascii_}")' if ascii_ else "")
        return {"option": "NSID", "hex": raw.hex(), "ascii": ascii_ or None, "text": text}
    if isinstance(option, dns.edns.ECSOption):
        text = f"{option.address}/{option.srclen}/{option.scopelen}"
        return {"option": "CLIENT-SUBNET", "address": str(option.address),
                "source_prefix": option.srclen, "scope_prefix": option.scopelen, "text": text}
    if isinstance(option, dns.edns.CookieOption):
        client, server = option.client.hex(), option.server.hex()
        return {"option": "COOKIE", "client": client, "server": server or None,
                "text": client + server}
    if kind == dns.edns.OptionType.PADDING:
        size = len(option.to_wire())
        return {"option": "PADDING", "length": size, "text": f"({size} bytes)"}
    try:
        name = dns.edns.OptionType(kind).name
    except ValueError:
        name = f"OPT{kind}"
    raw = option.to_wire()
    return {"option": name, "hex": raw.hex(), "text": raw.hex()}


def describe_options(message: dns.message.Message) -> list[dict]:
    return [describe_option(o) for o in (getattr(message, "options", ()) or ())]


__all__ = ["EdnsOptions", "EdnsInputError", "extended_errors", "ede_text", "ede_name",
           "describe_option", "describe_options", "DEFAULT_PAYLOAD", "PADDING_BLOCK"]
