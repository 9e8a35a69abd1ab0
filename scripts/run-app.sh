#!/bin/sh
# Set up (see setup.sh) and launch netgui.
set -eu
cd "$(dirname "$0")/.."
sh scripts/setup.sh app
exec .venv/bin/python main.py "$@"
