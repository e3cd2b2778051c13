"""Similarity: how well it separates disguised copies from independent work, and how long
indexing 500 submissions takes.

Run: ``.venv/bin/python bench/similarity_bench.py`` (about a minute). Prints:

1. On the generated corpus (tests/similarity_corpus.py: six languages, independent
   solutions of one problem, each with two disguised copies; three seeds): precision and
   recall at the default threshold, and whether every copy pair outranks every independent
   pair; against two baselines in the same run: the same fingerprints without the starter /
   reference exclusion, and difflib's ratio on the raw text.
2. Indexing 500 Python submissions one after another, each compared with every earlier one
   (as the worker does): the engine alone, and the service's path (SQLite, archives, the
   pairs stored) with ``api.similarity.index_submission``; difflib on all pairs as the
   baseline (measured on 100 submissions, scaled to 500 by the pair count).
"""

from __future__ import annotations

import difflib
import hashlib
import itertools
import random
import secrets
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from similarity_corpus import (  # noqa: E402 - the corpus lives with the tests
    LANGUAGES,
    PYTHON,
    corpus,
    disguise,
    original,
    reference_files,
    starter_files,
)

from grader import similarity as sim  # noqa: E402
from grader.challenge import ChallengeConfig  # noqa: E402

THRESHOLD = ChallengeConfig(title="t", language="python").similarity.threshold
SEEDS = (1, 2, 3)
N_INDEX = 500
N_BASELINE = 100


def _pairs(score: Callable[[str, str, str], float]) -> tuple[list[float], list[float]]:
    copies, independent = [], []
    for lang, seed in itertools.product(LANGUAGES.values(), SEEDS):
        samples = corpus(lang, seed=seed)
        for a, b in itertools.combinations(samples, 2):
            s = score(lang.name, a.text, b.text)
            (copies if a.family == b.family else independent).append(s)
    return copies, independent


def _winnowing(use_base: bool) -> Callable[[str, str, str], float]:
    bases = {
        name: sim.base_hashes({**starter_files(lang), **reference_files(lang)})
        for name, lang in LANGUAGES.items()
    }
    cache: dict[tuple[str, str], sim.Fingerprints] = {}

    def fp(lang: str, text: str) -> sim.Fingerprints:
        key = (lang, text)
        if key not in cache:
            cache[key] = sim.fingerprint_files({LANGUAGES[lang].filename: text})
        return cache[key]

    def score(lang: str, a: str, b: str) -> float:
        base = bases[lang] if use_base else frozenset()
        return sim.compare(fp(lang, a), fp(lang, b), base=base).score

    return score


def _difflib(_: str, a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def _report(
    name: str, copies: list[float], independent: list[float], threshold: float | None
) -> None:
    def at(t: float) -> tuple[float, float]:
        tp = sum(s >= t for s in copies)
        fp = sum(s >= t for s in independent)
        precision = tp / (tp + fp) if tp + fp else 1.0
        return precision, tp / len(copies)

    def f1(t: float) -> float:
        p, r = at(t)
        return 2 * p * r / (p + r) if p + r else 0.0

    best = max(sorted(set(copies + independent)), key=f1)
    separated = min(copies) > max(independent)
    line = (
        f"  {name:<34} copies {min(copies):.2f}-{max(copies):.2f}  independent "
        f"{min(independent):.2f}-{max(independent):.2f}  every copy above every "
        f"independent pair: {'yes' if separated else 'no'}"
    )
    print(line)
    if threshold is not None:
        p, r = at(threshold)
        print(
            f"  {'':<34} at the default threshold {threshold:g}: precision {p:.3f}, recall {r:.3f}"
        )
    p, r = at(best)
    print(f"  {'':<34} at its best threshold {best:.2f}: precision {p:.3f}, recall {r:.3f}")


def quality() -> None:
    copies, independent = _pairs(_winnowing(use_base=True))
    print(
        f"corpus: {len(LANGUAGES)} languages x {len(SEEDS)} seeds: {len(copies)} copy pairs, "
        f"{len(independent)} independent pairs"
    )
    _report(
        f"winnowing (k={sim.DEFAULT_PARAMS.k}, w={sim.DEFAULT_PARAMS.w}), base excluded",
        copies,
        independent,
        THRESHOLD,
    )
    _report("baseline: winnowing, no base rule", *_pairs(_winnowing(use_base=False)), THRESHOLD)
    _report("baseline: difflib ratio on raw text", *_pairs(_difflib), None)


def submissions(n: int) -> list[str]:
    """``n`` Python submissions: each family's original and disguised copies, round robin."""
    rng = random.Random(11)
    out = []
    for i in range(n):
        units = PYTHON.families[i % len(PYTHON.families)]
        out.append(
            original(PYTHON, units, rng)
            if i < len(PYTHON.families)
            else disguise(PYTHON, units, rng)
        )
    return out


def index_engine(texts: list[str], base: frozenset[int]) -> float:
    started = time.perf_counter()
    seen: list[set[int]] = []
    for text in texts:
        own = sim.fingerprint_files({"words.py": text}).hashes() - base
        for earlier in seen:
            sim.score_sets(own, earlier)
        seen.append(own)
    return time.perf_counter() - started


def index_service(texts: list[str]) -> tuple[float, int]:
    """The worker's path: archives in the store, rows in SQLite, pairs stored."""
    sys.path.insert(0, str(REPO / "tests" / "ui"))
    from conftest import words_challenge

    from api.auth import create_token
    from api.db import upgrade, utcnow
    from api.models import Submission
    from api.queue import make_celery
    from api.services import Services
    from api.similarity import index_submission
    from api.storage import ArchiveStore
    from grader.settings import Settings

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "challenges").mkdir()
        ch = words_challenge(root / "challenges")
        settings = Settings(
            challenges_dir=root / "challenges",
            data_dir=root / "data",
            database_url=f"sqlite:///{root / 'g.db'}",
            secret_key=secrets.token_hex(32),
        )
        celery = make_celery(settings.model_copy(update={"redis_url": "memory://"}))
        svc = Services.build(settings, celery=celery)
        upgrade(svc.engine)
        store = ArchiveStore(settings.data_dir)
        ids = []
        with svc.session() as db:
            for i, text in enumerate(texts):
                token, _ = create_token(db, "candidate", f"c{i}")
                data = text.encode()
                sha = hashlib.sha256(data).hexdigest()
                fd, path = store.temp_file()
                with open(fd, "wb") as f:
                    f.write(data)
                store.put(path, sha)
                sub_id = secrets.token_hex(16)
                now = utcnow()
                db.add(
                    Submission(
                        id=sub_id,
                        challenge_slug=ch.name,
                        challenge_version=1,
                        token_id=token.id,
                        sha256=sha,
                        filename="words.py",
                        size_bytes=len(data),
                        status="graded",
                        attempts=1,
                        generation=1,
                        stale=False,
                        total=50.0,
                        created_at=now,
                        enqueued_at=now,
                    )
                )
                ids.append(sub_id)
        started = time.perf_counter()
        stored = sum(index_submission(svc, sub_id) for sub_id in ids)
        elapsed = time.perf_counter() - started
        svc.close()
    return elapsed, stored


def timing() -> None:
    texts = submissions(N_INDEX)
    base = sim.base_hashes({**starter_files(PYTHON), **reference_files(PYTHON)})
    pairs = N_INDEX * (N_INDEX - 1) // 2
    engine = index_engine(texts, base)
    print(
        f"indexing {N_INDEX} Python submissions ({pairs:,} pairs), each against every earlier one:"
    )
    print(
        f"  engine alone (fingerprint + compare):        {engine:7.2f} s "
        f"({engine / N_INDEX * 1000:.1f} ms per submission)"
    )
    service, stored = index_service(texts)
    print(
        f"  service path (SQLite, archives, pairs kept): {service:7.2f} s "
        f"({service / N_INDEX * 1000:.1f} ms per submission; {stored:,} pairs >= 0.1 kept)"
    )
    sample = texts[:N_BASELINE]
    started = time.perf_counter()
    for a, b in itertools.combinations(sample, 2):
        _difflib("python", a, b)
    per_pair = (time.perf_counter() - started) / (N_BASELINE * (N_BASELINE - 1) // 2)
    print(
        f"  baseline: difflib on every pair:             {per_pair * pairs:7.2f} s "
        f"(measured on {N_BASELINE} submissions, scaled by pair count)"
    )


if __name__ == "__main__":
    quality()
    print()
    timing()
