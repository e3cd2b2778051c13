"""Workers on other machines: no shared folder. Two workers with data and cache folders of
their own and no challenges folder grade submissions whose upload and challenge reach
them through the database, by content hash, verified."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from service_support import Api, Procs, copy_challenges, upload, wait_finished

pytestmark = [pytest.mark.service, pytest.mark.docker]


def test_workers_with_folders_of_their_own_grade_through_the_database(
    live_api: Callable[..., Api],
    procs: Procs,
    tmp_path: Path,
    sandbox_cleanup: list[str],
    runner_image: str,
) -> None:
    challenges = copy_challenges(tmp_path / "api-challenges", "rate-limiter")
    api = live_api(challenges_dir=challenges, data_dir=tmp_path / "api-data")
    empty = tmp_path / "no-challenges"
    empty.mkdir()
    homes = []
    for n in range(2):
        home = tmp_path / f"host{n}"
        homes.append(home)
        procs.worker(
            api.settings.model_copy(
                update={
                    "challenges_dir": empty,
                    "data_dir": home / "data",
                    "cache_dir": home / "cache",
                }
            ),
            "--hostname",
            f"host{n}@elsewhere",
        )
    candidate = api.client("candidate")
    solution = challenges / "rate-limiter" / "solution" / "ratelimit.py"
    starter = challenges / "rate-limiter" / "starter" / "ratelimit.py"
    ids = [upload(candidate, path).json()["id"] for path in (solution, starter, solution)]
    sandbox_cleanup.extend(ids)
    states = [wait_finished(candidate, sub_id, timeout=300) for sub_id in ids]
    assert [s["status"] for s in states] == ["graded"] * 3, states
    reviewer = api.client("reviewer")
    totals = [
        reviewer.get(f"/v1/submissions/{i}/report").json()["scores"]["correctness"] for i in ids
    ]
    assert totals[0] == totals[2] == 100 and totals[1] < 100
    # The workers fetched what they graded into their own folders; the API's stays its own.
    fetched = [p for home in homes for p in (home / "data" / "archives").rglob("*") if p.is_file()]
    bundles = [p for home in homes for p in (home / "cache" / "bundles").glob("*/rate-limiter")]
    assert fetched and bundles
    assert not any((home / "data").is_relative_to(tmp_path / "api-data") for home in homes)
