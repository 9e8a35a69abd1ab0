"""Turning names that come from the network into safe local file names.

A remote name (a getfile path, an attachment filename, an FTP listing entry) is
never used as a local path. ``safe_local_name`` keeps only its base name and
refuses or cleans anything that could point elsewhere; ``safe_join`` puts that
name inside a chosen folder and guarantees the result stays there.
"""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path

MAX_NAME_BYTES = 255
"""Longest file name (in UTF-8 bytes) most file systems accept."""

_DRIVE = re.compile(r"^[A-Za-z]:")
_WINDOWS_ILLEGAL = re.compile(r'[<>:"|?*]')
_BIDI_CONTROLS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")
"""Direction overrides make "evil\u202etxt.exe" look like "evilexe.txt" in a file manager."""
_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", "CLOCK$",
                     *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}


def _has_control(text: str) -> bool:
    return any(unicodedata.category(ch) == "Cc" for ch in text)


def safe_local_name(remote_name: str, max_bytes: int = MAX_NAME_BYTES) -> str:
    """The base name of ``remote_name``, made safe to create in a local folder.

    Raises ValueError (with a one-line reason) for names that cannot be made safe:
    empty names, names with NUL or other control characters, and names whose base
    is ``.`` or ``..``. Directory parts (``/`` or ``\\``) and a drive letter are
    dropped; characters Windows refuses and text-direction overrides become ``_``;
    reserved device names get a
    ``_`` prefix; names over ``max_bytes`` are shortened keeping the extension.
    """
    if isinstance(remote_name, bytes):
        remote_name = remote_name.decode("utf-8", "replace")
    if not isinstance(remote_name, str):
        raise ValueError("the name is not text")
    # Bytes a server's encoding could not decode arrive as lone surrogates: make them "?"
    # (then "_"), so the name can be written and measured in UTF-8.
    remote_name = remote_name.encode("utf-8", "replace").decode("utf-8")
    if "\x00" in remote_name:
        raise ValueError("the name contains a NUL byte")
    if _has_control(remote_name):
        raise ValueError("the name contains control characters")
    base = re.split(r"[\\/]", remote_name)[-1]
    base = _DRIVE.sub("", base)
    base = base.strip().rstrip(". ")  # Windows drops trailing dots and spaces anyway
    if base in ("", ".", ".."):
        raise ValueError(f"{remote_name!r} does not name a file")
    base = _WINDOWS_ILLEGAL.sub("_", base)
    base = _BIDI_CONTROLS.sub("_", base)
    if base.split(".")[0].upper() in _WINDOWS_RESERVED:
        base = "_" + base
    return _shorten(base, max_bytes)


def tolerant_local_name(remote_name: str, fallback: str) -> str:
    """Like ``safe_local_name`` but never refuses, for names a sender suggests (attachments,
    a web server's Content-Disposition), which must be savable whatever they are called:
    control characters are dropped, leading dots too (no hidden files), and a name that
    cannot be made safe becomes ``fallback``. Leaves room for a " (2)" suffix."""
    cleaned = "".join(ch for ch in unicodedata.normalize("NFC", remote_name or "")
                      if unicodedata.category(ch) != "Cc")
    try:
        return safe_local_name(cleaned, max_bytes=200).lstrip(".") or fallback
    except ValueError:
        return fallback


def _shorten(name: str, max_bytes: int = MAX_NAME_BYTES) -> str:
    if len(name.encode("utf-8")) <= max_bytes:
        return name
    stem, dot, ext = name.rpartition(".")
    if not dot or len(ext.encode("utf-8")) > 16:
        stem, ext = name, ""
    suffix = f".{ext}" if ext else ""
    budget = max_bytes - len(suffix.encode("utf-8"))
    stem = stem.encode("utf-8")[:budget].decode("utf-8", "ignore")
    return stem + suffix


def safe_join(folder, remote_name: str) -> Path:
    """``folder / safe_local_name(remote_name)``, guaranteed to be directly inside ``folder``.

    Raises ValueError if the name cannot be made safe. The returned path is not
    resolved, so an existing symlink under that name is replaced, not followed,
    when the caller renames a finished file onto it.
    """
    folder = Path(folder)
    name = safe_local_name(remote_name)
    path = folder / name
    real_folder = os.path.realpath(folder)
    real_parent = os.path.realpath(path.parent)
    if real_parent != real_folder or path.name != name or os.path.isabs(name):
        raise ValueError(f"{remote_name!r} would leave the chosen folder")
    return path


__all__ = ["safe_local_name", "tolerant_local_name", "safe_join", "MAX_NAME_BYTES"]
