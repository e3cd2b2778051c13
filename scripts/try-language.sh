#!/usr/bin/env bash
# Build a language's runner image (cold unless it is up to date) and run its sample
# in a locked-down container, the way runners/docker.py runs one: no network, the
# candidate's uid, no capabilities, read-only root, tmpfs /work (exec) and /tmp.
#   scripts/try-language.sh LANG [SAMPLE]   (SAMPLE: a folder under scripts/lang-samples/LANG/)
# Env: MEMORY (default 256m), PIDS (default 64), CPUS (default 1), FORCE=1 rebuilds,
# COLD=1 rebuilds the base and the image without the engine's layer cache (the time
# a first build takes, less debootstrap's; host downloads stay cached).
set -euo pipefail
cd "$(dirname "$0")/.."
lang="${1:?usage: scripts/try-language.sh LANG [SAMPLE]}"
sample="${2:-basic}"
dir="scripts/lang-samples/$lang/$sample"
py=.venv/bin/python
[ -x "$py" ] || py=python3
if [ "$lang" != python ]; then
    [ -f "$dir/expect.json" ] || { echo "no sample $dir" >&2; exit 2; }
fi
start=$(date +%s.%N)
tag=$("$py" - "$lang" "${FORCE:-0}" "${COLD:-0}" <<'PY'
import sys
from runners.images import build
say = lambda m: None if m.startswith("Step ") else print(m, file=sys.stderr)
print(build(sys.argv[1], force=sys.argv[2] == "1", cold=sys.argv[3] == "1", progress=say))
PY
)
end=$(date +%s.%N)
size=$(docker image inspect -f '{{.Size}}' "$tag")
echo "image $tag: $(python3 -c "print(f'{$size/1e6:.0f} MB, build/look-up {$end-$start:.1f} s')")"
if [ "$lang" = python ]; then
    # Python keeps its own harness (launcher + pytest in /opt/venv): the project's
    # Docker tests are its sample.
    exec "$py" -m pytest -q -m docker -p no:cacheprovider tests/test_docker_runner.py
fi
chmod -R a+rX "$dir" scripts/lang-samples/drive.py
docker run --rm --network none --user 10002:10002 --read-only \
    --cap-drop ALL --security-opt no-new-privileges \
    --memory "${MEMORY:-256m}" --memory-swap "${MEMORY:-256m}" \
    --pids-limit "${PIDS:-64}" --cpus "${CPUS:-1}" \
    --tmpfs /work:rw,exec,nosuid,nodev,size=64m,nr_inodes=8192,mode=1777 \
    --tmpfs /tmp:rw,noexec,nosuid,nodev,size=64m,nr_inodes=8192,mode=1777 \
    --ulimit nofile=256:256 \
    -e HOME=/tmp \
    -v "$PWD/$dir:/grader/sample:ro" \
    -v "$PWD/scripts/lang-samples/drive.py:/grader/drive.py:ro" \
    "$tag" python3 -I /grader/drive.py /grader/sample "${@:3}"
