"""The harness contract: what both sides of the sandbox boundary agree on.

Standard library only, and no imports of ours: the host side (``runners``,
``grader``) imports it as ``runners.harness.grader_contract`` and the sandbox side
(launcher, pytest bootstrap, RPC client and server) loads it from the harness
folder. A name, a path or a property changes here and nowhere else.

Inside a sandbox::

    /grader/harness/     the harness files (root, read-only)
    /grader/tests/       the challenge's tests: public/ and hidden/ (root, read-only)
    /grader/submission/  the candidate's files (root, read-only)
    /grader/job.json     what to run (see ``runners.sandbox_io.job_document``)
    /grader/out/         result.json, results, collected.json (pre-created for the run user)
    /work                tmpfs: the working copy the command runs in

The launcher gives the test command two pipes: the *results* pipe (the command
writes its JUnit XML, or the language's result stream, into it; only the launcher
reads it) and the *token* pipe (the per-run token the command puts into its
results, read and closed before any submitted code loads). Commands name them with
the placeholders below; the launcher substitutes the real paths and numbers.
"""

from __future__ import annotations

import hashlib
import hmac

ROOT = "/grader"
WORK = "/work"
HARNESS_DIR = "harness"
TESTS_DIR = "tests"
SUBMISSION_DIR = "submission"
OUT_DIR = "out"
JOB_FILE = "job.json"

# Files the launcher (or, for collected ids, the test run) writes under out/.
RESULT_FILE = "result.json"
RESULTS_FILE = "results"
COLLECTED_FILE = "collected.json"
# The linter's report (a job's lint step runs before any submitted code does).
LINT_FILE = "lint"
# A service run's tests container: what it saw of the service (readiness, restarts) and
# the database schema the service left (see grader_service.py).
SERVICE_FILE = "service.json"
SCHEMA_FILE = "schema.json"
OUT_FILES = (RESULT_FILE, RESULTS_FILE, COLLECTED_FILE, LINT_FILE, SERVICE_FILE, SCHEMA_FILE)
# A pooled launcher writes this line on its own stdout (the host's attached stream, out of
# reach of what it runs) once every file under out/ is written: the host reads them then,
# without waiting for the container to exit. A container that exits without it is read
# after its exit, as an unpooled one is.
DONE_LINE = b"grader-launcher: results written\n"

# Placeholders in a job's argv, replaced by the launcher.
ROOT_PLACEHOLDER = "{root}"
WORK_PLACEHOLDER = "{work}"
RESULTS_PLACEHOLDER = "{results}"
TOKEN_FD_PLACEHOLDER = "{token_fd}"
# The command finds the results pipe (write end) on fd 3 and the token pipe (read end)
# on fd 4, as the language images' test drivers expect.
RESULTS_FD = 3
TOKEN_FD = 4

# The interpreter running the launcher (the image's python3: its venv where it has one).
PYTHON_PLACEHOLDER = "{python}"
# A loopback port the containers of one run share (process isolation's channel).
PORT_PLACEHOLDER = "{port}"
# The port of the reference solution's server (a performance run only).
REFERENCE_PORT_PLACEHOLDER = "{reference_port}"

# How a container starts: the image's python3 (found on its PATH) runs the launcher.
LAUNCHER_ARGV = ("python3", "-I", f"{ROOT}/{HARNESS_DIR}/launcher.py", f"{ROOT}/{JOB_FILE}")

# The launcher reads the run token from its own environment under this name; no
# process it starts gets it.
TOKEN_ENV = "GRADER_RUN_TOKEN"

# Properties in the results' JUnit XML.
TOKEN_PROPERTY = "grader_run"  # testsuite: the run token
LIMIT_PROPERTY = "grader_limit"  # testcase: a limit that stopped it ("test_seconds")
TAMPER_PROPERTY = "grader_tamper"  # testcase: what the candidate's code tried and was refused
PORTABILITY_PROPERTY = "grader_portability"  # testcase: JSON {"cause", "fix"}
PERF_PROPERTY = "grader_perf"  # testcase: JSON, the measurements of a performance case
PER_TEST_LIMIT = "test_seconds"

# The harness's always-failing check, run last (pytest: a strict xfail).
SENTINEL_FILE = "test_grader_sentinel.py"
SENTINEL_CLASS = "harness.test_grader_sentinel"

# Users of the sandbox (the images create them).
TESTER_UID = 10001
CANDIDATE_UID = 10002

# Process isolation: the candidate's server listens here, on the loopback interface
# the two containers share.
RPC_PORT = 7411
# A performance run: the reference solution's server listens here, on the same
# loopback, and serves only a client that proves it holds ``reference_secret(token)``.
REFERENCE_PORT = 7413


def reference_secret(token: str) -> str:
    """The secret of a performance run's reference server, derived from the run token.

    The host gives it to the reference container (never the token itself); the tests'
    pytest derives it from the token it read through its pipe. The candidate's code
    sees neither, so it cannot call into the reference solution.
    """
    return hashlib.sha256(b"grader-reference\0" + token.encode()).hexdigest()


# A service run: the tests container's fixtures read their configuration (base URL,
# databases, the control channel and its token) as JSON from this variable. The
# candidate container's launcher answers on the control port (one JSON line in, one
# out: {"token", "op": "status" | "restart" | "logs"}); its token is the one the host
# gave that launcher (TOKEN_ENV), never passed to the service.
SERVICE_ENV = "GRADER_SERVICE"
CONTROL_OPS = ("status", "restart", "logs", "prove")
# A service performance run: the control port answers on every address of the service's
# own network (the tests container is on another host of it), and ``prove`` (no token
# sent: {"op": "prove", "nonce"}) answers ``control_proof(token, nonce)``, so the tests
# know which launcher (the reference's, not the candidate's) holds an address.
CONTROL_ANY_HOST = "0.0.0.0"
MAX_NONCE = 64


def control_proof(token: str, nonce: str) -> str:
    """A launcher's answer to ``prove``: shows it holds ``token`` without revealing it."""
    return hmac.new(token.encode(), b"grader-control\0" + nonce.encode(), "sha256").hexdigest()


# Bytes of a service's log kept: its first and its last bytes.
SERVICE_LOG_HEAD = 16 * 1024
SERVICE_LOG_TAIL = 48 * 1024

# Bytes of output kept from each stream, and the largest results document read.
TAIL_BYTES = 64 * 1024
MAX_RESULTS_BYTES = 16 * 1024 * 1024

# The environment every sandboxed command starts from (a job may add to it).
BASE_ENV = {
    "PATH": "/opt/venv/bin:/usr/local/bin:/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "HOME": "/tmp",
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYTHONHASHSEED": "0",
}
