"""How long a browser takes to render the report of a 20,000-function submission.

Baseline in the same run: the report of a 10-function submission. Prints both medians
and the ratio; the issue's target is under 2 s for the big page.
Usage: python bench/report_bench.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from grader import scoring  # noqa: E402
from grader.analysis import analyse  # noqa: E402
from grader.challenge import ChallengeConfig  # noqa: E402
from grader.render import render  # noqa: E402
from grader.report import ChallengeRef, Report, SubmissionRef, bound  # noqa: E402

CONFIG = ChallengeConfig.model_validate({"title": "Bench", "language": "python"})


def page_for(functions: int, folder: Path) -> Path:
    lines = ['"""Generated."""', ""]
    for i in range(functions):
        lines += [f"def f{i}(x):", f'    """Add {i}."""', f"    return x + {i}", ""]
    src = folder / f"sub{functions}"
    src.mkdir()
    (src / "solution.py").write_text("\n".join(lines))
    a = analyse(src, ["solution.py"], CONFIG.style, CONFIG.complexity, timeout_s=120)
    report = Report(
        challenge=ChallengeRef(slug="bench", version=1),
        submission=SubmissionRef(id="s", sha256="0" * 64),
        style=a.style,
        complexity=a.complexity,
        docs=a.docs,
        sources=a.sources,
    )
    bound(scoring.apply_scores(report, CONFIG))
    page = folder / f"report{functions}.html"
    page.write_text(render(report, "html"), encoding="utf-8")
    size = page.stat().st_size
    print(f"{functions:>6} functions: JSON {len(report.to_json()):,} B, HTML {size:,} B")
    return page


def load_s(page: Path, profile: Path) -> float:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("chromium is required")
    argv = [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--dump-dom",
        page.as_uri(),
    ]
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    started = time.monotonic()
    subprocess.run(argv, capture_output=True, timeout=120, check=True, env=env)
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        small, big = page_for(10, folder), page_for(20_000, folder)
        times: dict[Path, list[float]] = {small: [], big: []}
        for i in range(args.runs):  # interleaved, so machine noise hits both alike
            for page in (small, big):
                times[page].append(load_s(page, folder / f"profile-{i}-{page.stem}"))
        s, b = statistics.median(times[small]), statistics.median(times[big])
        print(f"browser load (start, parse, render, dump), median of {args.runs}:")
        print(f"  10 functions      {s:.2f} s")
        print(f"  20,000 functions  {b:.2f} s   ratio {b / s:.2f}x")


if __name__ == "__main__":
    main()
