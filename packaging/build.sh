#!/bin/sh
# Builds dist/netgui, a one-file windowed executable, with PyInstaller from the project's .venv.
#   sh packaging/build.sh            (sets up .venv first if needed)
set -eu
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || sh scripts/setup.sh app
if ! .venv/bin/python -c 'import PyInstaller, certifi' >/dev/null 2>&1; then
    echo "netgui build: installing the packaging extra (PyInstaller, certifi) into .venv"
    .venv/bin/python -m pip install -q --disable-pip-version-check -e ".[packaging]"
fi
.venv/bin/python -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath dist --workpath build/pyinstaller packaging/netgui.spec
ls -l dist/netgui
