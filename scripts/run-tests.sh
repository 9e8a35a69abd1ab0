#!/bin/sh
# Set up (see setup.sh) and run the whole test suite under a virtual screen.
set -eu
cd "$(dirname "$0")/.."
sh scripts/setup.sh test
exec .venv/bin/python -m pytest "$@"
