#!/bin/sh
# CI: build the one-file executable and check it on a virtual screen: the full self-test,
# TLS with no system CA store (certifi), the Secret Service keyring, and install-desktop.
# Called from .ci/run after the test suite (which has set up .venv, Xvfb and gnome-keyring).
set -eu
cd "$(dirname "$0")/.."
project=$(pwd)
start=$(date +%s)
sh packaging/build.sh
echo "netgui ci-build: built dist/netgui ($(du -h dist/netgui | cut -f1)) in $(( $(date +%s) - start )) s"

# Run the executable from an empty folder, away from the source tree, so it can only use
# what it carries.
run_dir=$(mktemp -d)
xvfb_pid=""
cleanup() { [ -z "$xvfb_pid" ] || kill "$xvfb_pid" 2>/dev/null || true; rm -rf "$run_dir"; }
trap cleanup EXIT
cp dist/netgui "$run_dir/netgui"
cd "$run_dir"

# check NAME COMMAND...: run it, show its output, fail the build if it fails
check() {
    name=$1; shift
    if "$@" >"$name.out" 2>&1; then
        cat "$name.out"
    else
        cat "$name.out"
        echo "netgui ci-build: FAILED: $name" >&2
        exit 1
    fi
}

if [ -z "${DISPLAY:-}" ]; then
    # a virtual screen on a free display number of Xvfb's own choosing
    Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp 3>display 2>/dev/null &
    xvfb_pid=$!
    i=0
    while [ ! -s display ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    DISPLAY=":$(cat display)"
    export DISPLAY
fi

check self-test timeout 300 ./netgui --self-test -v

# on a system without a CA store, TLS must fall back to the bundled certifi
check tls env SSL_CERT_FILE=/nonexistent SSL_CERT_DIR=/nonexistent ./netgui --self-test -v --only tls
grep -q "from certifi" tls.out || { echo "netgui ci-build: TLS did not use certifi" >&2; exit 1; }

# the Secret Service backend (secretstorage, jeepney, cryptography) works from the executable
check keyring timeout 120 sh "$project/packaging/with-test-keyring.sh" \
    ./netgui --self-test -v --only keyring --only keyring-store
grep -q "in use: keyring.backends.SecretService" keyring.out \
    || { echo "netgui ci-build: the executable did not use the Secret Service keyring" >&2; exit 1; }

# desktop integration from the executable: the entry must launch the executable itself
check desktop ./netgui install-desktop --data-home "$run_dir/share"
grep -qx "Exec=$run_dir/netgui" "$run_dir/share/applications/netgui.desktop" \
    || { echo "netgui ci-build: install-desktop wrote a wrong Exec line" >&2; exit 1; }

echo "netgui ci-build: the executable passed every check in $(( $(date +%s) - start )) s total"
