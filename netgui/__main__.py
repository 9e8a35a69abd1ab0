"""``python -m netgui``: the window, or a subcommand (see ``netgui.cli``)."""

import sys

from netgui.cli import main

sys.exit(main())
