"""Double-click entry point: starts the netgui window."""

import sys

from netgui.cli import main

if __name__ == "__main__":
    sys.exit(main())
