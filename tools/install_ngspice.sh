#!/usr/bin/env bash
# Install an ngspice built with KLU, with its shared library, from Debian's packages.
#
# Debian 13 (trixie) and newer: the distribution's own ngspice (44.x+) has KLU.
# Debian 12 (bookworm): the distribution's ngspice 39 has no KLU, so this script
# enables the bookworm-backports suite of the mirror the machine already uses
# (read from its apt sources, never hard-coded) and installs 46.x from there.
#
# Idempotent: exits at once when a KLU ngspice and libngspice are already present.
set -euo pipefail

say() { printf 'spicebar setup: %s\n' "$*" >&2; }

have_klu_ngspice() {
    command -v ngspice >/dev/null 2>&1 || return 1
    ngspice -v 2>/dev/null | grep -qi 'KLU' || return 1
    # the shared library PySpice loads
    ls /usr/lib/*/libngspice.so >/dev/null 2>&1 || ls /usr/lib/libngspice.so >/dev/null 2>&1 \
        || [ -n "${NGSPICE_LIBRARY_PATH:-}" ] || return 1
}

if have_klu_ngspice; then
    exit 0
fi

need_msg="install ngspice with KLU and its shared library yourself: on Debian 12 'apt-get install -t bookworm-backports ngspice libngspice0 libngspice0-dev', on Debian 13 'apt-get install ngspice libngspice0 libngspice0-dev'; elsewhere build ngspice >= 44 with --with-ngshared --enable-klu and set NGSPICE_LIBRARY_PATH to its libngspice.so.0"

. "$(dirname "$0")/apt_access.sh"   # sets SUDO, or exits naming what to install

. /etc/os-release
codename="${VERSION_CODENAME:-}"
target=()
if [ "$codename" = "bookworm" ]; then
    # Derive the Debian mirror from the sources already configured.
    mirror=""
    if [ -f /etc/apt/sources.list.d/debian.sources ]; then
        mirror=$(awk '/^URIs:/ {for (i=2;i<=NF;i++) if ($i !~ /security/) {print $i; exit}}' \
                 /etc/apt/sources.list.d/debian.sources)
    fi
    if [ -z "$mirror" ]; then
        mirror=$(grep -hsE '^deb\s' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
                 | grep -v security | grep -E '\sbookworm(\s|$)' | awk '{for (i=2;i<=NF;i++) if ($i ~ /^(https?|file|ftp|mirror):/) {print $i; exit}}' | head -n1)
    fi
    if [ -z "$mirror" ]; then
        say "could not find the Debian mirror in /etc/apt/sources*; $need_msg"
        exit 1
    fi
    if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
        say "enabling bookworm-backports from $mirror"
        printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
            "$mirror" | $SUDO tee /etc/apt/sources.list.d/spicebar-backports.sources >/dev/null
    fi
    target=(-t bookworm-backports)
fi

say "installing ngspice with KLU (apt-get ${target[*]:-})"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${target[@]}" ngspice libngspice0 libngspice0-dev >/dev/null

if ! have_klu_ngspice; then
    say "ngspice was installed but has no KLU or no shared library ($(ngspice -v 2>&1 | head -n 3 | tr '\n' ' ')); $need_msg"
    exit 1
fi
say "ngspice ready: $(ngspice -v 2>/dev/null | grep -m1 -i 'ngspice-' | tr -s ' ')"
