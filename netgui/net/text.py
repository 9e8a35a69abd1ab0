"""Text that arrives from the network."""

from __future__ import annotations


def decode_line(raw: bytes) -> str:
    """UTF-8, or Latin-1 when the bytes are not UTF-8 (what older chat clients still send)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")
