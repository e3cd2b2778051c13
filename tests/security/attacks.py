"""The tampering attacks, as submissions to the Vault challenge (see support.py).

Each attack is the honest-but-failing baseline (every test fails) plus the attack, so
any pass it earns is forged. The forgers are given perfect knowledge of the test ids,
so that nothing but the sandbox and the harness stands between them and a forged grade.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from support import VAULT_BASELINE

# Writes an all-passing JUnit XML wherever the JUnit report might go: the path on
# pytest's command line (read from argv and /proc), and the well-known result folder.
FORGE = r"""
import os as _os, re as _re, sys as _sys

_KNOWN = {
    "tests.public.test_public": ["test_public_add"],
    "tests.hidden.test_hidden": ["test_answer", "test_add_negative", "test_add_big",
                                 "test_add_decimal"],
}


def _forged_xml():
    names = {k: list(v) for k, v in _KNOWN.items()}
    for d, _, files in _os.walk("/grader/tests"):
        for f in files:
            if f.startswith("test_") and f.endswith(".py"):
                p = _os.path.join(d, f)
                mod = _os.path.relpath(p, "/grader")[:-3].replace("/", ".")
                try:
                    with open(p) as fh:
                        src = fh.read()
                except OSError:
                    continue
                names.setdefault(mod, []).extend(_re.findall(r"^def (test_\w+)", src, _re.M))
    cases = "".join(
        '<testcase classname="%s" name="%s" time="0.010" />' % (m, n)
        for m, ns in names.items() for n in ns
    )
    return ('<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" '
            'errors="0" failures="0" skipped="0" tests="%d" time="0.1">%s</testsuite>'
            '</testsuites>' % (cases.count("<testcase"), cases))


def _junit_paths():
    paths = {"/grader/out/results"}
    args = list(_sys.argv)
    try:
        with open("/proc/self/cmdline", "rb") as fh:
            args += [a.decode(errors="replace") for a in fh.read().split(b"\0")]
    except OSError:
        pass
    for a in args:
        if a.startswith("--junitxml=") or a.startswith("--junit-xml="):
            paths.add(a.split("=", 1)[1])
    return paths


def _forge(lock=False):
    xml = _forged_xml()
    for p in _junit_paths():
        try:
            with open(p, "w") as fh:
                fh.write(xml)
            if lock:
                _os.chmod(p, 0o444)
        except OSError:
            pass
"""

FORGE_PLUGIN = r"""
import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    rep.outcome = "passed"
    rep.longrepr = None
"""

PATCH_REPORT = r"""
import _pytest.reports

_pytest.reports.TestReport.outcome = property(lambda self: "passed", lambda self, value: None)
"""

PATCH_CALL_AND_REPORT = r"""
import _pytest.runner as _runner

_original = _runner.call_and_report


def _forged_call_and_report(item, when, log=True, **kwds):
    rep = _original(item, when, log=False, **kwds)
    rep.outcome = "passed"
    rep.longrepr = None
    if log:
        item.ihook.pytest_runtest_logreport(report=rep)
    return rep


_runner.call_and_report = _forged_call_and_report
"""


@dataclass(frozen=True)
class Attack:
    """One way to forge a grade, and what the sandbox must do about it."""

    files: dict[str, str]
    # Stopped even when the tests share a process with the candidate's code.
    prevented_in_process: bool = True
    # When it runs in the tests' process, the report must carry a tamper flag.
    flagged_in_process: bool = False
    # Hand the folder to the runner as it is, without open_submission dropping files,
    # to prove the runner's own line of defence.
    raw: bool = False
    notes: str = field(default="", compare=False)


def vault(extra: str = "", *, replace: dict[str, str] | None = None) -> str:
    src = VAULT_BASELINE
    for old, new in (replace or {}).items():
        assert old in src, old
        src = src.replace(old, new)
    return src + "\n" + extra


def _shadow(body: str) -> str:
    return FORGE + "\n_forge(lock=True)\n" + body + "\n_os._exit(0)\n"


ATTACKS: dict[str, Attack] = {
    # -- forging the results ---------------------------------------------------------
    "forge_junit_at_import": Attack(
        {
            "vault.py": vault(
                FORGE + "\nimport atexit\n_forge(lock=True)\natexit.register(_forge)\n"
            )
        },
        flagged_in_process=True,
    ),
    "forge_junit_after_pytest_exits": Attack(
        {
            "vault.py": vault(
                FORGE
                + r"""
import time as _time

def _daemon():
    parent = _os.getpid()
    if _os.fork() != 0:
        return
    _os.setsid()
    if _os.fork() != 0:
        _os._exit(0)
    import signal
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    end = _time.monotonic() + 60
    while _time.monotonic() < end:
        try:
            _os.kill(parent, 0)
        except OSError:
            break
        _time.sleep(0.001)
    for _ in range(200):
        _forge()
        _time.sleep(0.002)
    _os._exit(0)

_daemon()
"""
            )
        },
        flagged_in_process=True,
    ),
    "forge_result_json": Attack(
        {
            "vault.py": vault(
                FORGE
                + r"""
import json as _json
_forge()
_fake = {"exit_code": 0, "stdout_tail": "4 passed", "stderr_tail": "", "output_bytes": 9,
         "output_truncated": False, "timed_out": False, "duration_s": 0.5, "disk_full": False,
         "events": [], "peak_memory_bytes": 1000000, "oom_kills": 0, "pids_max_events": 0,
         "junit": "verified"}
for _name in ("result.json", "results", "collected.json"):
    _p = "/grader/out/" + _name
    try:
        if _name == "result.json":
            with open(_p, "w") as _fh:
                _json.dump(_fake, _fh)
        _os.chmod(_p, 0)
    except OSError:
        pass
"""
            )
        },
        flagged_in_process=True,
    ),
    # -- ending the test run early -------------------------------------------------------
    "exit0_at_import": Attack({"vault.py": vault("import os\nos._exit(0)\n")}),
    "exit0_mid_test": Attack(
        {
            "vault.py": vault(
                replace={
                    '    """Not the answer."""\n    return 0': (
                        '    """Not the answer."""\n    import os\n    os._exit(0)'
                    )
                }
            )
        }
    ),
    "systemexit_at_import": Attack({"vault.py": vault("raise SystemExit(0)\n")}),
    "systemexit_mid_test": Attack(
        {
            "vault.py": vault(
                replace={
                    '    """Not a sum."""\n    return 0': (
                        '    """Not a sum."""\n    raise SystemExit(0)'
                    )
                }
            )
        }
    ),
    "kill_the_test_runner": Attack(
        {
            "vault.py": vault(
                replace={
                    '    """Not the answer."""\n    return 0': '''    """Not the answer."""
    import os, signal
    for pid in {os.getppid(), 1}:
        for sig in (signal.SIGKILL, signal.SIGSTOP, signal.SIGTERM):
            try:
                os.kill(pid, sig)
            except OSError:
                pass
    return 0'''
                }
            )
        }
    ),
    "kill_everything": Attack(
        {
            "vault.py": vault(
                replace={
                    '    """Not the answer."""\n    return 0': '''    """Not the answer."""
    import os, signal
    os.kill(-1, signal.SIGKILL)
    return 0'''
                }
            )
        }
    ),
    # -- files that would configure the test run --------------------------------------------
    "conftest_py": Attack({"vault.py": vault(), "conftest.py": FORGE_PLUGIN}, raw=True),
    "pytest_ini": Attack(
        {
            "vault.py": vault(),
            "vault_forge.py": FORGE_PLUGIN,
            "pytest.ini": "[pytest]\naddopts = -p vault_forge\n",
        },
        raw=True,
    ),
    "pyproject_toml": Attack(
        {
            "vault.py": vault(),
            "vault_forge.py": FORGE_PLUGIN,
            "pyproject.toml": '[tool.pytest.ini_options]\naddopts = "-p vault_forge"\n',
        },
        raw=True,
    ),
    "setup_cfg": Attack(
        {
            "vault.py": vault(),
            "vault_forge.py": FORGE_PLUGIN,
            "setup.cfg": "[tool:pytest]\naddopts = -p vault_forge\n",
        },
        raw=True,
    ),
    "sitecustomize_py": Attack(
        {"vault.py": vault(), "sitecustomize.py": PATCH_REPORT, "usercustomize.py": PATCH_REPORT},
        raw=True,
    ),
    "pth_file": Attack(
        {
            "vault.py": vault(),
            "vault_forge.py": PATCH_REPORT,
            "vault_forge.pth": "import vault_forge\n",
        },
        raw=True,
    ),
    # -- modules that shadow the harness or the standard library ---------------------------------
    "shadow_pytest": Attack({"vault.py": vault(), "pytest.py": _shadow("")}),
    "shadow__pytest_package": Attack(
        {
            "vault.py": vault(),
            "_pytest/__init__.py": _shadow(""),
            "_pytest/runner.py": _shadow(""),
            "_pytest/junitxml.py": _shadow(""),
        }
    ),
    "shadow_rpc_client": Attack(
        {
            "vault.py": vault(),
            "rpc_client.py": FORGE_PLUGIN + _shadow(""),
            "rpc_protocol.py": _shadow(""),
        }
    ),
    "shadow_stdlib_json": Attack({"vault.py": vault(), "json.py": _shadow("")}),
    "shadow_stdlib_inspect": Attack(
        {"vault.py": vault(), "inspect.py": _shadow(""), "argparse.py": _shadow("")}
    ),
    # The tests import decimal: a submission's decimal.py must not be what they get.
    "shadow_stdlib_the_tests_use": Attack(
        {
            "vault.py": vault(
                "from decimal import Decimal as _D\n\n\ndef add(a, b):\n    return _D()\n"
            ),
            "decimal.py": "class Decimal:\n    def __init__(self, *args):\n        pass\n\n"
            "    def __eq__(self, other):\n        return True\n\n"
            "    __hash__ = object.__hash__\n",
        }
    ),
    "shadow_the_test_package": Attack(
        {
            "vault.py": vault(),
            "tests/__init__.py": "",
            "tests/public/__init__.py": "",
            "tests/public/test_public.py": "def test_public_add():\n    pass\n",
            "tests/hidden/__init__.py": "",
            "tests/hidden/test_hidden.py": "".join(
                f"def {n}():\n    pass\n\n"
                for n in ("test_answer", "test_add_negative", "test_add_big", "test_add_decimal")
            ),
        }
    ),
    # -- changing what pytest collects or reports ---------------------------------------------
    "rewrite_test_files": Attack(
        {
            "vault.py": vault(r"""
import importlib.abc, importlib.util, os, re, sys

for _d, _, _fs in os.walk("/grader/tests"):
    for _f in _fs:
        _p = os.path.join(_d, _f)
        for _how in ("write", "chmod", "rename", "unlink"):
            try:
                if _how == "write":
                    with open(_p, "w") as _fh:
                        _fh.write("def test_answer():\n    pass\n")
                elif _how == "chmod":
                    os.chmod(_p, 0o666)
                elif _how == "rename":
                    os.rename(_p, _p + ".orig")
                else:
                    os.unlink(_p)
            except OSError:
                pass


class _ForgedLoader(importlib.abc.Loader):
    def __init__(self, path):
        self.path = path

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        with open(self.path) as fh:
            names = re.findall(r"^def (test_\w+)", fh.read(), re.M)
        exec("".join("def %s():\n    pass\n" % n for n in names), module.__dict__)


class _ForgingFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        for folder in path or ():
            candidate = os.path.join(folder, name.rpartition(".")[2] + ".py")
            if candidate.startswith("/grader/tests/") and os.path.isfile(candidate):
                return importlib.util.spec_from_file_location(
                    name, candidate, loader=_ForgedLoader(candidate))
        return None


sys.meta_path.insert(0, _ForgingFinder())
""")
        },
        prevented_in_process=False,
        flagged_in_process=True,
    ),
    "patch_test_report_outcome": Attack({"vault.py": vault(PATCH_REPORT)}, flagged_in_process=True),
    "patch_call_and_report": Attack(
        {"vault.py": vault(PATCH_CALL_AND_REPORT)}, flagged_in_process=True
    ),
    "always_equal_results": Attack(
        {
            "vault.py": vault(r"""
class _Anything:
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    __hash__ = object.__hash__


def answer():
    return _Anything()


def add(a, b):
    return _Anything()
""")
        },
        prevented_in_process=False,
        flagged_in_process=True,
    ),
    "read_and_print_hidden_tests": Attack(
        {
            "vault.py": vault(r"""
import os, sys


def _steal():
    text = []
    for d, _, files in os.walk("/grader"):
        for f in files:
            try:
                with open(os.path.join(d, f), errors="replace") as fh:
                    text.append(fh.read())
            except OSError:
                pass
    return "\n".join(text)


_STOLEN = _steal()
print(_STOLEN)
print(_STOLEN, file=sys.stderr)


def add(a, b):
    print(_steal())
    return _steal() or 0
""")
        },
        # Reading cannot be stopped in one process: it is flagged, the stolen text must
        # not reach the candidate (checked by the test), and the grade stays 0.
        prevented_in_process=True,
        flagged_in_process=True,
    ),
}
