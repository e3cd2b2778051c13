"""Similarity: normalised tokens, winnowing, base exclusion, and the generated corpus."""

from __future__ import annotations

import itertools
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from similarity_corpus import (
    LANGUAGES,
    PYTHON,
    Lang,
    corpus,
    disguise,
    original,
    reference_files,
    starter_files,
)

from grader import similarity as sim
from grader.challenge import ChallengeConfig
from grader.cli import cli

THRESHOLD = ChallengeConfig(title="t", language="python").similarity.threshold


def _base(lang: Lang) -> frozenset[int]:
    return sim.base_hashes({**starter_files(lang), **reference_files(lang)})


def _scores(lang: Lang, seed: int) -> tuple[list[float], list[float]]:
    samples = corpus(lang, seed=seed)
    base = _base(lang)
    prints = {s.name: sim.fingerprint_files({lang.filename: s.text}) for s in samples}
    family = {s.name: s.family for s in samples}
    copies, independent = [], []
    for a, b in itertools.combinations(sorted(prints), 2):
        score = sim.compare(prints[a], prints[b], base=base).score
        (copies if family[a] == family[b] else independent).append(score)
    return copies, independent


# --- tokens --------------------------------------------------------------------------------


SNIPPETS = {
    "x.py": (
        "def total(xs):\n    # sum them\n    s = 0\n    for x in xs:\n        s += x * 2\n"
        "    return s, 'done'\n",
        'def acc(vals):\n    """Docs."""\n    r = 0\n    for v in vals:  # loop\n'
        '        r += v * 7\n    return r, "finished"\n',
    ),
    "x.go": (
        "func total(xs []int) int {\n\t// sum\n\ts := 0\n\tfor _, x := range xs {\n"
        "\t\ts += x * 2\n\t}\n\treturn s\n}\n",
        "func acc(vals []int) int {\n\tr := 0 /* zero */\n\tfor _, v := range vals "
        "{ r += v * 9 }\n\treturn r\n}\n",
    ),
    "X.java": (
        "int total(int[] xs) { int s = 0; for (int x : xs) { s += x * 2; } return s; }\n",
        "// renamed\nint acc(int[] vals) {\n  int r = 0;\n  for (int v : vals) {\n"
        "    r += v * 3; /* x */\n  }\n  return r;\n}\n",
    ),
    "x.js": (
        "function total(xs) { let s = 0; for (const x of xs) { s += x * 2; } return [s, 'ok']; }\n",
        "/** doc */\nfunction acc(vals) {\n  let r = 0; // zero\n  for (const v of vals) "
        '{\n    r += v * 5;\n  }\n  return [r, "fine"];\n}\n',
    ),
    "x.rb": (
        "def total(xs)\n  s = 0\n  xs.each { |x| s += x * 2 }\n  s\nend\n",
        "# sums\ndef acc(vals)\n  r = 0 # start\n  vals.each { |v| r += v * 4 }\n  r\nend\n",
    ),
    "x.php": (
        "<?php\nfunction total(array $xs): int { $s = 0; foreach ($xs as $x) "
        "{ $s += $x * 2; } return $s; }\n",
        "<?php\n// renamed\nfunction acc(array $vals): int {\n    $r = 0;\n"
        "    foreach ($vals as $v) { $r += $v * 8; } # loop\n    return $r;\n}\n",
    ),
}


@pytest.mark.parametrize("filename", sorted(SNIPPETS))
def test_renamed_recommented_reformatted_code_has_the_same_tokens(filename: str) -> None:
    first, second = SNIPPETS[filename]
    a = [t.text for t in sim.tokens(first, filename)]
    b = [t.text for t in sim.tokens(second, filename)]
    assert a == b and len(a) > 10
    assert "N" in a and "0" in a


@pytest.mark.parametrize("filename", sorted(SNIPPETS))
def test_a_changed_operator_changes_the_tokens(filename: str) -> None:
    first, _ = SNIPPETS[filename]
    assert [t.text for t in sim.tokens(first.replace("+=", "-="), filename)] != [
        t.text for t in sim.tokens(first, filename)
    ]


def test_tokens_carry_their_source_lines_and_unknown_files_have_none() -> None:
    toks = sim.tokens("a = 1\n\n# c\nb = 'x' 'y'\n", "m.py")
    assert [(t.text, t.line) for t in toks] == [
        ("N", 1),
        ("=", 1),
        ("0", 1),
        ("N", 4),
        ("=", 4),
        ("S", 4),
    ]
    assert sim.tokens("a = 1\n", "notes.txt") == []
    assert sim.language_of("src/Main.JAVA") == "java" and sim.language_of("x.ts") is None


# --- winnowing -----------------------------------------------------------------------------


def test_winnowing_keeps_a_hash_of_every_long_enough_shared_run() -> None:
    """The guarantee: a shared run of k + w - 1 tokens always shares a kept hash."""
    rng = random.Random(7)
    params = sim.Params(k=5, w=4)
    vocab = [str(i) for i in range(12)]
    for _ in range(200):
        run = [rng.choice(vocab) for _ in range(params.guarantee)]
        left = [rng.choice(vocab) for _ in range(rng.randint(0, 30))] + run
        right = run + [rng.choice(vocab) for _ in range(rng.randint(0, 30))]
        kept = []
        for seq in (left, right):
            toks = [sim.Tok(t, 1) for t in seq]
            hashes = sim.kgram_hashes(toks, params.k)
            kept.append({hashes[i] for i in sim.winnow(hashes, params.w)})
        assert kept[0] & kept[1]


def test_winnow_keeps_about_two_in_w_plus_one_hashes() -> None:
    rng = random.Random(3)
    hashes = [rng.getrandbits(50) for _ in range(5000)]
    kept = sim.winnow(hashes, 4)
    assert 0.3 < len(kept) / len(hashes) < 0.5  # 2 / (w + 1) = 0.4 expected
    assert sim.winnow([], 4) == [] and sim.winnow([5, 3, 9], 4) == [1]


def test_fingerprints_are_the_same_in_every_process() -> None:
    """Stored fingerprints are compared later by other processes: no salted hash()."""
    code = (
        "from grader.similarity import fingerprint_files;"
        "print(sorted(fingerprint_files({'a.py': 'def f(x):\\n    return x + 1 * 2 - 3'"
        " * 3}).marks))"
    )
    outs = set()
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        outs.add(
            subprocess.run(
                [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
            ).stdout
        )
    assert len(outs) == 1 and outs.pop().strip() not in ("", "[]")


def test_fingerprints_survive_a_json_round_trip() -> None:
    fp = sim.fingerprint_files({"w.py": corpus(PYTHON)[0].text})
    back = sim.Fingerprints.from_json(json.loads(json.dumps(fp.to_json())))
    assert back.marks == fp.marks and back.files == fp.files and back.tag == fp.tag


# --- comparing -----------------------------------------------------------------------------


def test_identical_submissions_score_one_with_a_region_over_the_code() -> None:
    text = corpus(PYTHON)[0].text
    a = sim.fingerprint_files({"w.py": text})
    b = sim.fingerprint_files({"other/name.py": text})
    m = sim.compare(a, b)
    assert m.score == 1.0
    lines = len(text.splitlines())
    assert m.regions and all(
        r.a.file == "w.py" and r.b.file == "other/name.py" and 1 <= r.a.start <= r.a.end <= lines
        for r in m.regions
    )
    assert m.regions[0].a.start <= 12 and max(r.a.end for r in m.regions) >= lines - 3


def test_the_starter_never_makes_two_candidates_look_alike() -> None:
    """Two submissions that only kept the starter's provided code share nothing of their
    own; without the base rule they would look alike."""
    starter = starter_files(PYTHON)["starter/words.py"]
    a = sim.fingerprint_files({"w.py": starter + "\n\ndef extra(q):\n    return q * 3 + 1\n"})
    b = sim.fingerprint_files({"w.py": starter + "\n\nclass Other:\n    pass\n"})
    assert sim.compare(a, b).score > 0.5
    assert sim.compare(a, b, base=_base(PYTHON)).score == 0.0


def test_base_exclusion_lowers_independent_pairs() -> None:
    samples = [s for s in corpus(PYTHON) if s.name.endswith("orig")]
    prints = [sim.fingerprint_files({"w.py": s.text}) for s in samples]
    pairs = list(itertools.combinations(prints, 2))
    without = max(sim.compare(a, b).score for a, b in pairs)
    with_base = max(sim.compare(a, b, base=_base(PYTHON)).score for a, b in pairs)
    assert without >= 0.3 and with_base < 0.15


def test_a_tiny_submission_does_not_score_one_on_a_few_tokens() -> None:
    a = sim.fingerprint_files({"a.py": "def f(x):\n    return x + 1\n" * 2})
    assert 0 < len(a.marks) < sim.DEFAULT_PARAMS.min_fingerprints
    assert sim.compare(a, a).score < 0.5


def test_all_pairs_are_highest_first_and_cover_every_pair() -> None:
    samples = corpus(PYTHON)[:5]
    prints = {s.name: sim.fingerprint_files({"w.py": s.text}) for s in samples}
    pairs = sim.all_pairs(prints, base=_base(PYTHON))
    assert len(pairs) == 10
    assert [p.score for p in pairs] == sorted((p.score for p in pairs), reverse=True)
    assert all(p.a < p.b for p in pairs)
    assert len(sim.all_pairs(prints, base=_base(PYTHON), min_score=0.5)) < 10


# --- the generated corpus ------------------------------------------------------------------


@pytest.mark.parametrize("language", sorted(LANGUAGES))
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_disguised_copy_ranks_above_every_independent_pair(language: str, seed: int) -> None:
    copies, independent = _scores(LANGUAGES[language], seed)
    assert len(copies) >= 12 and len(independent) >= 50
    assert min(copies) > max(independent), (sorted(copies)[:3], sorted(independent)[-3:])


def test_the_default_threshold_flags_every_copy_and_no_independent_pair() -> None:
    """Precision and recall at the default threshold on the whole corpus (all languages,
    three seeds): both 1.0."""
    flagged_copies = copies_total = flagged_independent = 0
    for lang, seed in itertools.product(LANGUAGES.values(), (1, 2, 3)):
        copies, independent = _scores(lang, seed)
        copies_total += len(copies)
        flagged_copies += sum(s >= THRESHOLD for s in copies)
        flagged_independent += sum(s >= THRESHOLD for s in independent)
    assert flagged_copies == copies_total
    assert flagged_independent == 0


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_disguised_copies_look_different_as_text(language: str) -> None:
    """The disguise is real: a copy shares few of its original's lines verbatim."""
    lang = LANGUAGES[language]
    rng = random.Random(5)
    for units in lang.families:
        orig = original(lang, units, rng)
        copy = disguise(lang, units, rng)
        orig_lines = {ln.strip() for ln in orig.splitlines() if len(ln.strip()) > 12}
        copy_lines = {ln.strip() for ln in copy.splitlines() if len(ln.strip()) > 12}
        shared = orig_lines & copy_lines
        assert len(shared) <= 0.5 * len(orig_lines), shared


def test_python_copies_still_work() -> None:
    """The Python corpus is working code: originals and disguised copies answer alike."""
    text = "the cat and the dog and the bird; a cat is a cat"
    expected = [("cat", 3), ("the", 3), ("a", 2)]
    for sample in corpus(PYTHON):
        namespace: dict[str, object] = {}
        exec(compile(sample.text, sample.name, "exec"), namespace)
        func = next(
            v
            for k, v in namespace.items()
            if callable(v) and getattr(v, "__name__", "") == "top_words"
        )
        got = func(text, 3)  # type: ignore[operator]
        assert [tuple(p) for p in got] == expected, sample.name


# --- files and the CLI ---------------------------------------------------------------------


def test_read_sources_skips_dependencies_links_other_files_and_huge_files(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "a.py").write_text("x = 1\n")
    (tmp_path / "node_modules").mkdir()
    (tmp_path / "node_modules" / "lib.js").write_text("var x = 1;\n")
    (tmp_path / "notes.md").write_text("# hi\n")
    (tmp_path / "big.go").write_text("// x\n" * (sim.MAX_FILE_BYTES // 4))
    (tmp_path / "link.py").symlink_to(tmp_path / "pkg" / "a.py")
    assert sim.read_sources(tmp_path) == {"pkg/a.py": "x = 1\n"}


def _write_challenge(root: Path, lang: Lang) -> Path:
    ch = root / "words"
    for rel, text in {**starter_files(lang), **reference_files(lang)}.items():
        (ch / rel).parent.mkdir(parents=True, exist_ok=True)
        (ch / rel).write_text(text)
    (ch / "tests" / "public").mkdir(parents=True)
    (ch / "tests" / "public" / "test_words.py").write_text("def test_x():\n    pass\n")
    (ch / "challenge.toml").write_text(
        'title = "Words"\nlanguage = "python"\n[similarity]\nthreshold = 0.45\n'
    )
    return ch


def test_cli_similarity_prints_pairs_with_paths_as_ids(tmp_path: Path) -> None:
    ch = _write_challenge(tmp_path, PYTHON)
    paths = []
    for sample in corpus(PYTHON)[:4]:  # family 0 (three members) and one of family 1
        folder = tmp_path / "subs" / sample.name
        folder.mkdir(parents=True)
        (folder / "words.py").write_text(sample.text)
        paths.append(str(folder))
    result = CliRunner().invoke(cli, ["similarity", str(ch), *paths, "--format", "json"])
    assert result.exit_code == 0, result.output
    pairs = json.loads(result.output)["pairs"]
    assert len(pairs) == 6 and {p["a"] for p in pairs} | {p["b"] for p in pairs} == set(paths)
    top = pairs[:3]
    assert all(p["score"] > THRESHOLD for p in top)
    assert all(paths[3] not in (p["a"], p["b"]) for p in top)
    assert set(top[0]["regions"][0]) == {"a", "b"}
    assert set(top[0]["regions"][0]["a"]) == {"file", "start", "end"}
    text = CliRunner().invoke(cli, ["similarity", str(ch), *paths])
    assert text.exit_code == 0 and text.output.count("ALIKE") == 3
    assert "threshold 0.45" in text.output


def test_cli_similarity_refuses_a_bad_upload_with_exit_2(tmp_path: Path) -> None:
    ch = _write_challenge(tmp_path, PYTHON)
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"PK\x03\x04 not a zip")
    result = CliRunner().invoke(cli, ["similarity", str(ch), str(bad)])
    assert result.exit_code == 2
