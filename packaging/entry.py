"""The executable's entry point: no arguments open the window; otherwise the command line
(``netgui --self-test``, ``netgui install-desktop``, the server subcommands)."""

import sys

from netgui.cli import main

if __name__ == "__main__":
    sys.exit(main())
