"""Finding bundled files (icons, images) from source, an installed package or a PyInstaller bundle."""

from __future__ import annotations

import sys
from pathlib import Path

ICON_SIZES = (16, 32, 48, 64, 128, 256)


def asset_path(name: str) -> Path:
    """The path of ``netgui/assets/<name>`` wherever netgui runs from."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        candidate = Path(bundle) / "netgui" / "assets" / name
        if candidate.exists():
            return candidate
    return Path(__file__).resolve().parent / "assets" / name


def app_icon_paths() -> list[Path]:
    """The application icon in every size that exists, largest first."""
    paths = [asset_path(f"netgui-{size}.png") for size in sorted(ICON_SIZES, reverse=True)]
    return [p for p in paths if p.exists()]


def load_photo(master, name: str):
    """A ``tk.PhotoImage`` of an asset PNG (kept by the caller to stay alive)."""
    import tkinter as tk
    return tk.PhotoImage(master=master, file=str(asset_path(name)))
