#!/bin/sh
# Installs what netgui needs on a Debian/Ubuntu machine: `setup.sh app` for running it,
# `setup.sh test` for the test suite (adds Xvfb and the real test servers).
# System packages come from apt when run as root; otherwise it says what to install.
# Python packages go into .venv beside this project.
set -eu
cd "$(dirname "$0")/.."
mode=${1:-app}

have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/sbin/$1" ]; }

missing=""
python3 -c 'import tkinter' >/dev/null 2>&1 || missing="$missing python3-tk"
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || missing="$missing python3-venv"
if [ "$mode" = test ]; then
    # command:package pairs for the virtual screen, screenshots and the real test peers
    for pair in Xvfb:xvfb xauth:xauth xdotool:xdotool import:imagemagick \
                dovecot:dovecot-imapd ngircd:ngircd dnsmasq:dnsmasq-base \
                nginx:nginx-light vsftpd:vsftpd curl:curl dig:bind9-dnsutils socat:socat \
                nc:netcat-openbsd desktop-file-validate:desktop-file-utils \
                nsd:nsd unbound:unbound dnsdist:dnsdist dnssec-signzone:bind9-utils \
                gnome-keyring-daemon:gnome-keyring dbus-run-session:dbus-daemon \
                sshd:openssh-server sftp:openssh-client ssh-agent:openssh-client \
                useradd:passwd chpasswd:passwd; do
        have "${pair%%:*}" || missing="$missing ${pair#*:}"
    done
    [ -e /usr/lib/dovecot/pop3 ] || missing="$missing dovecot-pop3d"
    fc-list 2>/dev/null | grep -qi dejavu || missing="$missing fonts-dejavu-core"
fi

if [ -n "$missing" ]; then
    if [ "$(id -u)" = 0 ]; then
        echo "netgui setup: installing Debian packages:$missing"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        # shellcheck disable=SC2086
        apt-get install -y -qq $missing >/dev/null
    else
        echo "netgui setup: these Debian packages are needed:$missing" >&2
        echo "Install them with:  sudo apt-get install -y$missing   (then run this again)" >&2
        exit 1
    fi
fi

if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
extras=""
[ "$mode" = test ] && extras="[test]"
stamp=".venv/.netgui-installed-$mode"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null
    .venv/bin/python -m pip install -q --disable-pip-version-check -e ".$extras"
    touch "$stamp"
fi
