"""``python -m netgui``: the window, or a subcommand (see ``netgui.cli``)."""

import sys

from .cli import main

sys.exit(main())
