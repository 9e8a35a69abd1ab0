"""Desktop integration: opening a file or folder with the desktop's program, and on Linux a
.desktop entry and hicolor icons for the current user.

``install()`` writes ``$XDG_DATA_HOME/applications/netgui.desktop`` and
``$XDG_DATA_HOME/icons/hicolor/<n>x<n>/apps/netgui.png`` (XDG_DATA_HOME defaults to
``~/.local/share``), so netgui appears in the application menu and starts with a click.
The entry's Exec line points at whatever is running now: the frozen executable, the
source checkout's ``main.py`` under the current (venv) Python, or the installed
``netgui`` script.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from . import APP_NAME
from .config import atomic_write_bytes, atomic_write_text
from .resources import ICON_SIZES, asset_path

DESKTOP_FILE = f"{APP_NAME}.desktop"
ICON_NAME = APP_NAME
# The class part of the window's WM_CLASS: Tk capitalises App's tk.Tk(className="netgui").
WM_CLASS = "Netgui"


class CannotOpen(Exception):
    """The desktop has no program to open a file with; the message is one line for the user."""


def open_with_desktop(path) -> None:
    """Hand ``path`` (a file or folder) to the desktop's default program, without waiting
    for it. Raises CannotOpen when there is no opener (``xdg-open`` is missing, say)."""
    path = str(path)
    try:
        if sys.platform.startswith("win"):
            os.startfile(path)  # type: ignore[attr-defined]
            return
        opener = "open" if sys.platform == "darwin" else "xdg-open"
        if shutil.which(opener) is None:
            raise CannotOpen(f"Cannot open {Path(path).name}: this desktop has no {opener} "
                             f"(install xdg-utils); it is in {Path(path).parent}")
        subprocess.Popen([opener, path], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)
    except OSError as exc:
        raise CannotOpen(f"Cannot open {Path(path).name}: {exc.strerror or exc}") from exc


def icon_file(size: int) -> Path:
    """The packaged PNG of the application icon (the window's icon) at ``size`` px."""
    return asset_path(f"netgui-{size}.png")


def data_home() -> Path:
    """$XDG_DATA_HOME, or ~/.local/share when unset or not absolute (as the spec says)."""
    value = os.environ.get("XDG_DATA_HOME", "")
    if value and os.path.isabs(value):
        return Path(value)
    return Path.home() / ".local" / "share"


def launch_command() -> list[str]:
    """The command line that starts the window from the way netgui is running now."""
    if getattr(sys, "frozen", False):
        return [sys.executable]
    # don't resolve symlinks: a venv's python is a symlink, and resolving it leaves the venv
    python = os.path.abspath(sys.executable)
    main_py = Path(__file__).resolve().parent.parent / "main.py"
    if main_py.is_file():
        return [python, str(main_py)]
    script = Path(python).parent / APP_NAME
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [python, "-m", APP_NAME]


def _quote_exec_arg(arg: str) -> str:
    """Quote one Exec argument as the Desktop Entry spec requires."""
    if not arg:
        return '""'
    reserved = set(' \t\n"\'\\><~|&;$*?#()`')
    if not any(c in reserved for c in arg):
        return arg.replace("%", "%%")
    inner = arg.replace("\\", "\\\\").replace('"', '\\"').replace("`", "\\`").replace("$", "\\$")
    # the whole value is also a desktop-file string, whose escapes are decoded first
    return '"' + inner.replace("\\", "\\\\").replace("%", "%%") + '"'


def exec_line(command: list[str]) -> str:
    """The Exec= value for ``command`` (quoted per the Desktop Entry spec)."""
    return " ".join(_quote_exec_arg(a) for a in command)


def desktop_entry(command: list[str] | None = None, icon: str = ICON_NAME) -> str:
    """The text of netgui's .desktop file, launching ``command`` (default: launch_command())."""
    command = command or launch_command()
    lines = [
        "[Desktop Entry]",
        "Type=Application",
        "Version=1.4",
        "Name=netgui",
        "GenericName=Internet client",
        "Comment=Mail, FTP, web, chat, DNS and getfile in one window",
        f"Exec={exec_line(command)}",
        f"Icon={icon}",
        "Terminal=false",
        "Categories=Network;Email;FileTransfer;Chat;",
        "Keywords=mail;imap;smtp;ftp;http;irc;dns;getfile;",
        f"StartupWMClass={WM_CLASS}",
        "StartupNotify=true",
    ]
    return "\n".join(lines) + "\n"


def install(base: Path | None = None, command: list[str] | None = None) -> list[Path]:
    """Install the .desktop file and the icons under ``base`` (default: data_home()).

    Returns the paths written. Refreshes the menu and icon caches when the tools exist.
    """
    base = Path(base) if base else data_home()
    written: list[Path] = []
    for size in ICON_SIZES:
        target = base / "icons" / "hicolor" / f"{size}x{size}" / "apps" / f"{ICON_NAME}.png"
        atomic_write_bytes(target, icon_file(size).read_bytes())
        target.chmod(0o644)
        written.append(target)
    entry = base / "applications" / DESKTOP_FILE
    atomic_write_text(entry, desktop_entry(command))
    entry.chmod(0o755)  # some desktops only launch entries marked executable
    written.append(entry)
    _refresh_caches(base)
    return written


def uninstall(base: Path | None = None) -> list[Path]:
    """Remove what install() wrote; returns the paths removed."""
    base = Path(base) if base else data_home()
    candidates = [base / "applications" / DESKTOP_FILE]
    candidates += [base / "icons" / "hicolor" / f"{n}x{n}" / "apps" / f"{ICON_NAME}.png"
                   for n in ICON_SIZES]
    removed = []
    for path in candidates:
        if path.exists():
            path.unlink()
            removed.append(path)
    _refresh_caches(base)
    return removed


def _refresh_caches(base: Path) -> None:
    """Best effort: menus and icon themes pick changes up without a re-login."""
    jobs = [("update-desktop-database", "-q", str(base / "applications"))]
    if (base / "icons" / "hicolor" / "index.theme").exists():
        jobs.append(("gtk-update-icon-cache", "-q", "-t", str(base / "icons" / "hicolor")))
    for job in jobs:
        if shutil.which(job[0]) and Path(job[-1]).is_dir():
            try:
                subprocess.run(job, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               timeout=20, check=False)
            except (OSError, subprocess.SubprocessError):
                pass
