"""The one dispatcher: ``netgui`` with no arguments opens the window; a command runs a server
or a headless client.

Each command module has ``register(subparsers)``, which adds its parser and sets ``func``
(called with the parsed args; returns the exit code). Modules are listed here.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from netgui import __version__

COMMAND_MODULES: list[str] = [
    "netgui.cli.getfile",
    "netgui.cli.http",
    "netgui.cli.http_run",
    "netgui.cli.chat",
    "netgui.cli.desktop",
    "netgui.cli.dns",
    "netgui.cli.sendmail",
    "netgui.cli.ftp",
    "netgui.cli.selftest",
    "netgui.cli.doctor",
]

ALIASES = {"--self-test": "self-test"}
"""Options that name a command (``netgui --self-test`` is what packagers and CI call)."""

SUBCOMMANDS = {("http", "run"): "http-run"}
"""Two words that name one command (``netgui http run DIR``; ``netgui http URL`` stays)."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="netgui", description="A desktop client for internet services. "
                                     "Without a command, opens the window.")
    parser.add_argument("--version", action="version", version=f"netgui {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``netgui``, ``netgui-cli``, ``python -m netgui``, main.py and the executable."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv:
        from netgui.app import run_window
        return run_window()
    if argv[0] in ALIASES:
        argv[0] = ALIASES[argv[0]]
    if tuple(argv[:2]) in SUBCOMMANDS:
        argv[:2] = [SUBCOMMANDS[tuple(argv[:2])]]
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
