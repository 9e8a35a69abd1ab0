"""Finding bundled files (icons, images) from source, an installed package or a PyInstaller bundle.

The files live in the top-level ``assets/`` folder. A wheel carries them as ``netgui/assets``
(pyproject.toml maps the folder into the package), the PyInstaller bundle as ``assets/``, and a
source checkout or an editable install reads them where they are.
"""

from __future__ import annotations

import sys
from pathlib import Path

ICON_SIZES = (16, 32, 48, 64, 128, 256)


def asset_dirs() -> list[Path]:
    """Where assets may be, in the order they are looked for."""
    package = Path(__file__).resolve().parent
    dirs = [package / "assets", package.parent / "assets"]
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        dirs.insert(0, Path(bundle) / "assets")
    return dirs


def asset_path(name: str) -> Path:
    """The path of the asset ``name`` wherever netgui runs from."""
    dirs = asset_dirs()
    for folder in dirs:
        if (folder / name).exists():
            return folder / name
    return dirs[-1] / name


def app_icon_paths() -> list[Path]:
    """The application icon in every size that exists, largest first."""
    paths = [asset_path(f"netgui-{size}.png") for size in sorted(ICON_SIZES, reverse=True)]
    return [p for p in paths if p.exists()]
