#!/usr/bin/env bash
# Build the images of the composed stack without any registry:
#   grader-service:latest   the API and the workers (deploy/Dockerfile)
#   grader-redis:latest     Debian's redis-server   (deploy/redis/Dockerfile)
#   grader-postgres:latest  Debian's PostgreSQL 15  (deploy/postgres/Dockerfile)
# all FROM the Python runner image (Debian 13 with python3 and venv, built by
# `grader images build python` on the shared base, debootstrapped when no registry
# answers). That runner image, which the workers start sandboxes from, is built first.
# Python packages come from a wheelhouse downloaded on the host: the service build
# runs with no network; the redis and postgres builds fetch Debian packages with apt.
# Usage: deploy/build.sh [--no-cache]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
CACHE=$(realpath -m "${GRADER_CACHE_DIR:-$HOME/.cache/grader}")
log() { echo "deploy/build: $*" >&2; }
extra=()
[ "${1:-}" = "--no-cache" ] && extra+=(--no-cache)

log "runner image (and the local base, when no registry answers)"
BASE=$("$PY" -m api.cli images build python | tail -n 1)
if ! docker image inspect "$BASE" >/dev/null 2>&1; then
    log "no base image: building the Python runner image did not give one ($BASE)"
    exit 1
fi
pyver=$(docker run --rm --network none --entrypoint python3 "$BASE" -c \
    'import platform; print(platform.python_version())')
log "base: $BASE (Python $pyver)"

# Dependencies: cached per pyproject.toml + constraints.txt (pinned versions) + the base's
# exact Python version (markers such as python_full_version < "3.11.3" depend on it).
key=$( (cat pyproject.toml constraints.txt; echo "$pyver") | sha256sum | cut -c1-12)
deps="$CACHE/wheelhouse/service-$key"
abi="cp$(echo "$pyver" | cut -d. -f1,2 | tr -d .)"
# Debian 13 has glibc 2.41: any manylinux wheel up to 2_36 (the newest we ask for) runs.
PLATFORMS=(--platform any)
for v in 2014 _2_17 _2_24 _2_27 _2_28 _2_31 _2_34 _2_35 _2_36; do
    PLATFORMS+=(--platform "manylinux${v}_x86_64")
done
if [ ! -f "$deps/.complete" ]; then
    log "downloading the service's wheels into $deps"
    rm -rf "$deps.tmp" && mkdir -p "$deps.tmp"
    "$PY" - <<'PY' > "$deps.tmp/requirements.txt"
import tomllib
for dep in tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]:
    print(dep)
PY
    "$PY" -m pip download --quiet --disable-pip-version-check --only-binary=:all: \
        --python-version "$pyver" --implementation cp --abi "$abi" \
        "${PLATFORMS[@]}" \
        -c constraints.txt -r "$deps.tmp/requirements.txt" -d "$deps.tmp"
    # Markers are evaluated against the host's Python by `pip download`; let the base's own
    # pip (offline) say what it still misses, and fetch that on the host too.
    complete=0
    for _ in 1 2 3 4 5 6; do
        if out=$(docker run --rm --network none -v "$deps.tmp:/w:ro" --entrypoint sh "$BASE" \
                -c 'python3 -m venv /tmp/v >/dev/null && /tmp/v/bin/pip install --quiet \
                    --disable-pip-version-check --dry-run --no-index --find-links /w \
                    -r /w/requirements.txt' 2>&1); then
            complete=1
            break
        fi
        missing=$(printf '%s\n' "$out" | sed -n 's/.*satisfies the requirement \([^ ;]*\).*/\1/p' | head -1)
        if [ -z "$missing" ]; then
            log "the wheelhouse does not install on the base: $out"
            exit 1
        fi
        log "adding $missing (the base's Python needs it)"
        "$PY" -m pip download --quiet --disable-pip-version-check --only-binary=:all: \
            --python-version "$pyver" --implementation cp --abi "$abi" \
            "${PLATFORMS[@]}" \
            -c constraints.txt "$missing" -d "$deps.tmp"
    done
    if [ "$complete" != 1 ]; then
        log "the wheelhouse is still incomplete for the base: $out"
        exit 1
    fi
    touch "$deps.tmp/.complete"
    rm -rf "$deps" && mv "$deps.tmp" "$deps"
fi

ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
mkdir "$ctx/wheels"
cp "$deps"/*.whl "$ctx/wheels/"
log "building the grader wheel"
"$PY" -m pip wheel --quiet --disable-pip-version-check --no-deps \
    -w "$ctx/wheels" . >/dev/null
cp deploy/Dockerfile "$ctx/Dockerfile"

log "building grader-service:latest"
docker build --quiet --force-rm --network none "${extra[@]}" --build-arg "BASE=$BASE" \
    -t grader-service:latest "$ctx" >/dev/null
log "building grader-redis:latest"
docker build --quiet --force-rm "${extra[@]}" --build-arg "BASE=$BASE" -t grader-redis:latest deploy/redis >/dev/null
log "building grader-postgres:latest"
docker build --quiet --force-rm "${extra[@]}" --build-arg "BASE=$BASE" -t grader-postgres:latest deploy/postgres >/dev/null
log "done: grader-service:latest grader-redis:latest grader-postgres:latest"
