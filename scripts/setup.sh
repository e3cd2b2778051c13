#!/usr/bin/env bash
# Install what grader needs on this machine (idempotent):
#   system packages (as root, Debian): docker.io, debootstrap, redis-server, postgresql, chromium
#   a virtualenv in .venv with grader and its dev dependencies.
# Usage: scripts/setup.sh [--system-only | --python-only]
set -euo pipefail
cd "$(dirname "$0")/.."

log() { echo "setup: $*" >&2; }

want_system=1; want_python=1
case "${1:-}" in
    --system-only) want_python=0 ;;
    --python-only) want_system=0 ;;
esac

if [ "$want_system" = 1 ]; then
    missing=()
    command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
    command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
    command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
    [ -x /usr/lib/postgresql/15/bin/postgres ] || ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || missing+=(postgresql)
    command -v chromium >/dev/null 2>&1 || missing+=(chromium)
    command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
    if [ "${#missing[@]}" -gt 0 ]; then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
            log "installing ${missing[*]}"
            export DEBIAN_FRONTEND=noninteractive
            apt-get update -qq
            apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
        else
            log "missing system packages: ${missing[*]} (install them, or run this as root on Debian)"
        fi
    fi
fi

if [ "$want_python" = 1 ]; then
    if [ ! -x .venv/bin/python ]; then
        log "creating .venv"
        python3 -m venv .venv
    fi
    stamp=.venv/.grader-installed
    if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ constraints.txt -nt "$stamp" ]; then
        log "installing grader and its dependencies into .venv"
        .venv/bin/pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
        touch "$stamp"
    fi
fi
