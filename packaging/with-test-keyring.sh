#!/bin/sh
# Runs a command with a throwaway, unlocked gnome-keyring on a private D-Bus session, so the
# Secret Service keyring backend can be tested without touching the user's keyring:
#   sh packaging/with-test-keyring.sh dist/netgui --self-test --only keyring-store
set -eu
for tool in dbus-run-session gnome-keyring-daemon; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "with-test-keyring: $tool is missing (sh scripts/setup.sh test installs it)" >&2
        exit 1
    fi
done
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -m 700 "$scratch/run"
# The daemon keeps its keyring files under XDG_DATA_HOME and its sockets under
# XDG_RUNTIME_DIR. The bus daemon's own chatter (it cannot raise its fd limit in a
# container) is dropped: the command's stderr travels on fd 3.
XDG_DATA_HOME="$scratch/data" XDG_RUNTIME_DIR="$scratch/run" \
    dbus-run-session -- sh -c '
        eval "$(printf "selftest\n" | gnome-keyring-daemon --unlock --components=secrets 2>/dev/null)"
        exec "$@" 2>&3' sh "$@" 3>&2 2>/dev/null
