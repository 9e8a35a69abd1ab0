"""``python -m netgui install-desktop``: add netgui to the current user's application menu."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers) -> None:
    """Add the ``install-desktop`` subcommand."""
    p = subparsers.add_parser(
        "install-desktop", help="install the .desktop entry and icon for the current user",
        description="Installs netgui.desktop into $XDG_DATA_HOME/applications (default "
                    "~/.local/share/applications) and the icon into icons/hicolor, so netgui "
                    "starts from the application menu. The entry launches this netgui: the "
                    "executable when run from it, else this Python with this checkout.")
    p.add_argument("--data-home", type=Path, default=None, metavar="DIR",
                   help="install under DIR instead of $XDG_DATA_HOME")
    p.add_argument("--uninstall", action="store_true", help="remove the entry and icons instead")
    p.add_argument("--print", dest="print_only", action="store_true",
                   help="print the .desktop entry and install nothing")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from netgui import desktop

    if args.print_only:
        print(desktop.desktop_entry(), end="")
        return 0
    try:
        if args.uninstall:
            paths = desktop.uninstall(args.data_home)
            print(f"removed {len(paths)} file(s)" if paths else "nothing to remove")
            for path in paths:
                print(f"  {path}")
            return 0
        paths = desktop.install(args.data_home)
    except OSError as exc:
        print(f"install-desktop: cannot write {exc.filename or ''}: {exc.strerror or exc}")
        return 1
    print(f"installed {paths[-1]}")
    print(f"  Exec={desktop.exec_line(desktop.launch_command())}")
    print(f"  icons: {len(paths) - 1} sizes under {paths[0].parents[2]}")
    return 0
