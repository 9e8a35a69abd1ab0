"""``python -m netgui``: no arguments opens the window; subcommands run servers and headless clients.

Each subcommand module has ``register(subparsers)``, which adds its parser and sets
``func`` (called with the parsed args; returns the exit code). Modules are listed here.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from .. import __version__

COMMAND_MODULES: list[str] = [
    "netgui.cli.getfile",
    "netgui.cli.http",
    "netgui.cli.chat",
    "netgui.cli.desktop",
    "netgui.cli.dns",
    "netgui.cli.sendmail",
    "netgui.cli.ftp",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="netgui", description="A desktop client for internet services. "
                                     "Without a command, opens the window.")
    parser.add_argument("--version", action="version", version=f"netgui {__version__}")
    parser.add_argument("--self-test", action="store_true",
                        help="open the window, run loopback round trips, exit 0 or print what failed")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        from ..app import main as gui_main
        return gui_main([])
    if argv[0] == "--self-test":
        from ..selftest import main as self_test
        return self_test(argv[1:])
    args = build_parser().parse_args(argv)
    if not getattr(args, "func", None):
        build_parser().print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
