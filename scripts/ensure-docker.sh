#!/usr/bin/env bash
# Make sure a Docker engine answers. Idempotent: does nothing when one already runs.
# As root on Debian it installs docker.io when missing and starts dockerd, coping with
# stale pid files left by an engine that was killed. Otherwise it says what is missing.
set -euo pipefail

log() { echo "ensure-docker: $*" >&2; }

if docker info >/dev/null 2>&1; then
    exit 0
fi

if [ "$(id -u)" != 0 ]; then
    log "no Docker engine answers and this is not root: start dockerd, or set DOCKER_HOST"
    exit 1
fi

if ! command -v dockerd >/dev/null 2>&1; then
    if ! command -v apt-get >/dev/null 2>&1; then
        log "dockerd is missing and there is no apt-get to install docker.io"
        exit 1
    fi
    log "installing Debian's docker.io"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq docker.io >/dev/null
fi

# A pid file whose process is gone (the engine was killed) stops dockerd from starting.
clear_stale_pids() {
    for pidfile in /var/run/docker.pid /var/run/docker/containerd/containerd.pid; do
        if [ -f "$pidfile" ]; then
            pid="$(cat "$pidfile" 2>/dev/null || true)"
            if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then
                log "removing stale $pidfile"
                rm -f "$pidfile"
            fi
        fi
    done
}

starts=0
start_dockerd() {
    starts=$((starts + 1))
    if [ "$starts" -gt 3 ]; then
        log "dockerd exited three times; last log lines:"
        tail -n 20 /var/log/grader-dockerd.log >&2 || true
        exit 1
    fi
    clear_stale_pids
    log "starting dockerd (log: /var/log/grader-dockerd.log)"
    nohup dockerd >>/var/log/grader-dockerd.log 2>&1 &
}

if ! pgrep -x dockerd >/dev/null 2>&1; then
    start_dockerd
fi

# A dockerd that does not answer may be one still shutting down (it stops its
# containers first, up to 10 s each): wait for it, and start a new one once it is gone.
for _ in $(seq 1 90); do
    if docker info >/dev/null 2>&1; then
        exit 0
    fi
    if ! pgrep -x dockerd >/dev/null 2>&1; then
        start_dockerd
    fi
    sleep 1
done
log "dockerd did not answer within 90 s; last log lines:"
tail -n 20 /var/log/grader-dockerd.log >&2 || true
exit 1
