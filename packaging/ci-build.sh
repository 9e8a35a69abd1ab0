#!/bin/sh
# CI: build the one-file executable and run its self-test on a virtual screen.
# Called from .ci/run after the test suite (which has set up .venv and Xvfb).
set -eu
cd "$(dirname "$0")/.."
start=$(date +%s)
sh packaging/build.sh
echo "netgui ci-build: built dist/netgui ($(du -h dist/netgui | cut -f1)) in $(( $(date +%s) - start )) s"

# Run the executable from an empty folder, with no access to the source tree, so it
# can only use what it carries.
run_dir=$(mktemp -d)
trap 'rm -rf "$run_dir"' EXIT
cp dist/netgui "$run_dir/netgui"
cd "$run_dir"
if command -v xvfb-run >/dev/null 2>&1; then
    timeout 300 xvfb-run -a -s "-screen 0 1280x800x24" ./netgui --self-test -v
else
    # no xvfb-run: start an Xvfb on a free display number of its own choosing
    Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp 3>"$run_dir/display" 2>/dev/null &
    xvfb_pid=$!
    trap 'kill "$xvfb_pid" 2>/dev/null; rm -rf "$run_dir"' EXIT
    i=0
    while [ ! -s "$run_dir/display" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    DISPLAY=":$(cat "$run_dir/display")" timeout 300 ./netgui --self-test -v
fi
# on a system without a CA store, TLS must fall back to the bundled certifi
SSL_CERT_FILE=/nonexistent SSL_CERT_DIR=/nonexistent ./netgui --self-test --only tls -v | tee tls.out
grep -q "from certifi" tls.out

# desktop integration from the executable: the entry must launch the executable itself
./netgui install-desktop --data-home "$run_dir/share" >/dev/null
if ! grep -qx "Exec=$run_dir/netgui" "$run_dir/share/applications/netgui.desktop"; then
    echo "netgui ci-build: install-desktop from the executable wrote a wrong Exec line:" >&2
    grep '^Exec=' "$run_dir/share/applications/netgui.desktop" >&2
    exit 1
fi
echo "netgui ci-build: executable self-test passed in $(( $(date +%s) - start )) s total"
