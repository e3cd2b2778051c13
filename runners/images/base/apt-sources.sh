#!/bin/sh
# Write apt's sources for trixie, trixie-updates, trixie-backports and, when its
# mirror answers, trixie-security; then `apt-get update`. Every language image runs
# `grader-apt-sources` again before installing, then deletes the lists.
# Usage: grader-apt-sources [MIRROR [SECURITY_MIRROR]]
set -eu
mirror="${1:-http://deb.debian.org/debian}"
security="${2:-http://deb.debian.org/debian-security}"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
rm -f /etc/apt/sources.list
write() {
    {
        printf 'Types: deb\nURIs: %s\nSuites: trixie trixie-updates trixie-backports\n' "$mirror"
        printf 'Components: main\nSigned-By: %s\n' "$keyring"
        if [ "$1" = with-security ]; then
            printf '\nTypes: deb\nURIs: %s\nSuites: trixie-security\n' "$security"
            printf 'Components: main\nSigned-By: %s\n' "$keyring"
        fi
    } > /etc/apt/sources.list.d/debian.sources
}
write with-security
if ! apt-get update -q -o APT::Update::Error-Mode=any >/tmp/apt-update.log 2>&1; then
    echo "grader-apt-sources: trixie-security did not answer; going on without it" >&2
    tail -n 3 /tmp/apt-update.log >&2 || true
    write without-security
    apt-get update -q
fi
rm -f /tmp/apt-update.log
