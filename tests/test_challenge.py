"""The challenge model: defaults, validation errors that name file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.challenge import Isolation, load_challenge
from grader.errors import ChallengeError

REPO = Path(__file__).resolve().parents[1]


def make(tmp_path: Path, toml: str, *, files: dict[str, str] | None = None) -> Path:
    root = tmp_path / "demo"
    files = files or {
        "solution/demo.py": "X = 1\n",
        "starter/demo.py": "X = 0\n",
        "tests/public/test_a.py": "def test_a():\n    pass\n",
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    (root / "challenge.toml").write_text(toml)
    return root


def test_minimal_toml_gets_design_defaults(tmp_path: Path) -> None:
    ch = load_challenge(make(tmp_path, 'title = "T"\nlanguage = "python"\n'))
    cfg = ch.config
    assert (cfg.version, cfg.entrypoint, cfg.isolation) == (1, None, None)
    assert ch.isolation == Isolation.PROCESS.value  # Python's default
    assert (cfg.limits.wall_seconds, cfg.limits.test_seconds, cfg.limits.memory_mb) == (60, 5, 256)
    assert (cfg.limits.cpus, cfg.limits.pids, cfg.limits.output_kb) == (1.0, 64, 256)
    assert (
        cfg.scoring.correctness,
        cfg.scoring.style,
        cfg.scoring.complexity,
        cfg.scoring.docs,
    ) == (70, 15, 10, 5)
    assert cfg.feedback.public_tests == "full" and cfg.feedback.hidden_tests == "count"
    assert cfg.feedback.score is False
    assert ch.test_files() == ["tests/public/test_a.py"]
    assert ch.slug == "demo"


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ('language = "python"\n', "title: Field required"),
        ('title = "T"\n', "language: Field required"),
        ('title = "T"\nlanguage = "cobol"\n', "language: unknown language 'cobol' (known: python"),
        ('title = "T"\nlanguage = "python"\n[limits]\nmemory_mb = "lots"\n', "limits.memory_mb"),
        ('title = "T"\nlanguage = "python"\n[limits]\nwall_seconds = -1\n', "limits.wall_seconds"),
        ('title = "T"\nlanguage = "python"\n[scoring]\ncorrectness = 90\n', "sum to 120"),
        ('title = "T"\nlanguage = "python"\ncolour = "red"\n', "colour: unknown key"),
        (
            'title = "T"\nlanguage = "python"\n[feedback]\nhidden_tests = "full"\n',
            "feedback.hidden_tests",
        ),
        ('title = "T"\nlanguage = "python"\nentrypoint = "../x.py"\n', "entrypoint"),
        ('title = "T"\nlanguage = [python\n', "not valid TOML"),
    ],
)
def test_invalid_toml_names_file_and_key(tmp_path: Path, toml: str, expected: str) -> None:
    root = make(tmp_path, toml)
    with pytest.raises(ChallengeError) as info:
        load_challenge(root)
    message = str(info.value)
    assert str(root / "challenge.toml") in message
    assert expected in message
    assert "\n" not in message


def test_weight_for_missing_test_file_is_refused(tmp_path: Path) -> None:
    toml = 'title = "T"\nlanguage = "python"\n[tests.weights]\n"tests/hidden/nope.py::t" = 2\n'
    with pytest.raises(ChallengeError, match=r"tests\.weights.*no such test file"):
        load_challenge(make(tmp_path, toml))


@pytest.mark.parametrize("missing", ["solution", "starter"])
def test_missing_folder_is_named(tmp_path: Path, missing: str) -> None:
    root = make(tmp_path, 'title = "T"\nlanguage = "python"\n')
    for p in sorted((root / missing).rglob("*"), reverse=True):
        p.unlink()
    (root / missing).rmdir()
    with pytest.raises(ChallengeError, match=f"{missing}: missing folder"):
        load_challenge(root)


def test_no_tests_is_refused(tmp_path: Path) -> None:
    files = {"solution/a.py": "", "starter/a.py": ""}
    with pytest.raises(ChallengeError, match="no test files"):
        load_challenge(make(tmp_path, 'title = "T"\nlanguage = "python"\n', files=files))


def test_not_a_folder_and_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(ChallengeError, match="no such challenge folder"):
        load_challenge(tmp_path / "nope")
    (tmp_path / "file").write_text("x")
    with pytest.raises(ChallengeError, match="not a folder"):
        load_challenge(tmp_path / "file")


def test_visibility_and_weights(tmp_path: Path) -> None:
    files = {
        "solution/a.py": "",
        "starter/a.py": "",
        "tests/public/test_p.py": "def test_p():\n    pass\n",
        "tests/hidden/test_h.py": "def test_h():\n    pass\n",
    }
    toml = (
        'title = "T"\nlanguage = "python"\n[tests.weights]\n"tests/hidden/test_h.py::test_h" = 3\n'
    )
    ch = load_challenge(make(tmp_path, toml, files=files))
    assert ch.visibility("tests/public/test_p.py::test_p") == "public"
    assert ch.visibility("tests/hidden/test_h.py::test_h") == "hidden"
    assert ch.weight("tests/hidden/test_h.py::test_h") == 3
    assert ch.weight("tests/public/test_p.py::test_p") == 1


@pytest.mark.parametrize(
    "slug",
    sorted(p.name for p in (REPO / "challenges").iterdir() if (p / "challenge.toml").is_file()),
)
def test_shipped_challenges_load(slug: str) -> None:
    ch = load_challenge(REPO / "challenges" / slug)
    assert ch.config.title and ch.test_files()
    assert any(f.startswith("tests/hidden/") for f in ch.test_files())


def test_both_test_file_patterns_and_nested_folders_are_found(tmp_path: Path) -> None:
    files = {
        "solution/a.py": "",
        "starter/a.py": "",
        "tests/public/test_a.py": "",
        "tests/hidden/b_test.py": "",
        "tests/hidden/deep/test_c.py": "",
        "tests/hidden/helpers.py": "",
    }
    ch = load_challenge(make(tmp_path, 'title = "T"\nlanguage = "python"\n', files=files))
    assert ch.test_files() == [
        "tests/public/test_a.py",
        "tests/hidden/b_test.py",
        "tests/hidden/deep/test_c.py",
    ]


def test_review_keys_default_and_parse(tmp_path: Path) -> None:
    """[similarity], [ranking] and the deadline feedback rule: defaults, then set."""
    cfg = load_challenge(make(tmp_path, 'title = "T"\nlanguage = "python"\n')).config
    assert (cfg.similarity.threshold, cfg.similarity.enabled) == (0.4, True)
    assert cfg.ranking.per_candidate == "best"
    assert cfg.feedback.hide_hidden_until_deadline is False
    set_ = load_challenge(
        make(
            tmp_path / "b",
            (
                'title = "T"\nlanguage = "python"\n[similarity]\nthreshold = 0.7\nenabled = false\n'
                '[ranking]\nper_candidate = "last"\n[feedback]\nhide_hidden_until_deadline = true\n'
            ),
        )
    ).config
    assert (set_.similarity.threshold, set_.similarity.enabled) == (0.7, False)
    assert set_.ranking.per_candidate == "last"
    assert set_.feedback.hide_hidden_until_deadline is True


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ("[similarity]\nthreshold = 1.5\n", "similarity.threshold"),
        ("[similarity]\nthresold = 0.5\n", "similarity.thresold: unknown key"),
        ('[ranking]\nper_candidate = "worst"\n', "ranking.per_candidate"),
        (
            '[feedback]\nhide_hidden_until_deadline = "soon"\n',
            "feedback.hide_hidden_until_deadline",
        ),
    ],
)
def test_invalid_review_keys_name_the_key(tmp_path: Path, toml: str, expected: str) -> None:
    root = make(tmp_path, 'title = "T"\nlanguage = "python"\n' + toml)
    with pytest.raises(ChallengeError) as info:
        load_challenge(root)
    assert expected in str(info.value)


def test_isolation_must_be_one_the_language_supports(tmp_path: Path) -> None:
    ch = load_challenge(
        make(tmp_path, 'title = "T"\nlanguage = "python"\nisolation = "in-process"\n')
    )
    assert ch.isolation == "in-process"
    with pytest.raises(ChallengeError, match="isolation: Input should be"):
        load_challenge(
            make(tmp_path / "x", 'title = "T"\nlanguage = "python"\nisolation = "shared"\n')
        )


def test_side_by_side_languages_refuse_a_test_file_in_both_public_and_hidden(
    tmp_path: Path,
) -> None:
    root = make(tmp_path, 'title = "T"\nlanguage = "go"\n')
    for vis in ("public", "hidden"):
        (root / "tests" / vis).mkdir(parents=True, exist_ok=True)
        (root / "tests" / vis / "x_test.go").write_text("package x\n")
    with pytest.raises(ChallengeError, match="has the same path; Go runs public and hidden"):
        load_challenge(root)


def test_the_engine_imports_no_docker_module() -> None:
    """The engine reaches the sandbox only through a runner it is given."""
    import subprocess
    import sys

    code = (
        "import sys, grader.engine, grader.validate; print(sorted(m for m in sys.modules "
        "if m == 'docker' or m.startswith(('docker.', 'runners.docker'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --- service challenges -------------------------------------------------------------------

SERVICE_FILES = {
    "solution/python/app.py": "X = 1\n",
    "solution/go/main.go": "package main\n",
    "starter/python/app.py": "X = 0\n",
    "starter/go/main.go": "package main\n",
    "tests/public/test_a.py": "def test_a(http):\n    pass\n",
    "db/schema.sql": "CREATE TABLE t (id int);\n",
}
SERVICE_TOML = """\
title = "S"
kind = "service"
languages = ["python", "go"]
[service]
port = 9000
ready = "/healthz"
[service.start]
go = "exec ./app"
[databases]
postgres = { schema = "db/schema.sql" }
redis = {}
"""


def test_a_service_challenge_loads_per_language(tmp_path: Path) -> None:
    ch = load_challenge(make(tmp_path, SERVICE_TOML, files=SERVICE_FILES))
    assert ch.is_service and ch.languages == ["python", "go"]
    assert ch.isolation == "service"
    assert ch.config.databases.names() == ["postgres", "redis"]
    assert ch.service.port == 9000 and ch.service.start == {"go": "exec ./app"}
    go = ch.for_language("go")
    assert go.language.name == "go" and go.solution_dir == ch.root / "solution" / "go"
    assert go.starter_dir == ch.root / "starter" / "go"
    # The tests are pytest whatever the language; a service's own config files are kept.
    assert go.test_files() == ["tests/public/test_a.py"]
    assert not go.ignores("go.mod") and not ch.ignores("pyproject.toml")
    assert ch.ignores("__MACOSX/x")
    with pytest.raises(ChallengeError, match="not offered in 'ruby'"):
        ch.for_language("ruby")


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ('title = "S"\nkind = "service"\n', "languages: Field required"),
        (
            'title = "S"\nkind = "service"\nlanguage = "python"\nlanguages = ["python"]\n',
            "names languages = [...] instead",
        ),
        ('title = "S"\nkind = "service"\nlanguages = ["cobol"]\n', "unknown language 'cobol'"),
        (
            'title = "S"\nkind = "service"\nlanguages = ["python"]\n[service]\nport = 5432\n',
            "service.port: Value error, port 5432 is taken",
        ),
        (
            'title = "S"\nkind = "service"\nlanguages = ["python"]\n[service]\nready = "healthz"\n',
            "service.ready: Value error, ready must be a URL path",
        ),
        (
            'title = "S"\nkind = "service"\nlanguages = ["python"]\n[service.start]\ngo = "x"\n',
            "service.start.go: go is not in languages",
        ),
        (
            'title = "S"\nlanguage = "python"\n[databases]\nredis = {}\n',
            "databases: only a service challenge",
        ),
        (
            'title = "S"\nkind = "service"\nlanguages = ["python"]\n[databases]\nsqlite = {}\n',
            "databases.sqlite: unknown key",
        ),
    ],
)
def test_a_bad_service_toml_names_the_key(tmp_path: Path, toml: str, expected: str) -> None:
    with pytest.raises(ChallengeError) as info:
        load_challenge(make(tmp_path, toml, files=SERVICE_FILES))
    assert str(tmp_path / "demo" / "challenge.toml") in str(info.value)
    assert expected.replace("Value error, ", "") in str(info.value)


def test_a_service_challenge_needs_each_languages_folders_and_its_schema(tmp_path: Path) -> None:
    files = {k: v for k, v in SERVICE_FILES.items() if k != "solution/go/main.go"}
    with pytest.raises(ChallengeError, match=r"solution/go: missing folder"):
        load_challenge(make(tmp_path, SERVICE_TOML, files=files))
    files = {k: v for k, v in SERVICE_FILES.items() if k != "db/schema.sql"}
    with pytest.raises(ChallengeError, match="databases.postgres.schema: db/schema.sql"):
        load_challenge(make(tmp_path / "b", SERVICE_TOML, files=files))
