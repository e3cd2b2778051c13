"""Time ``grader.analysis.analyse`` on generated 1,000- and 20,000-line submissions.

Run: ``.venv/bin/python bench/analysis_bench.py`` (prints the median of 3 runs, in seconds).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from grader.analysis import analyse
from grader.challenge import ComplexityConfig, StyleConfig

LINES_PER_MODULE = 500
RUNS = 3


def function(i: int) -> str:
    """One ~20-line function with some branching, a docstring on every other one."""
    doc = f'    """Compute value {i}."""\n' if i % 2 == 0 else ""
    return (
        f"def compute_{i}(items, limit={i}):\n"
        f"{doc}"
        "    total = 0\n"
        "    for item in items:\n"
        "        if item > limit and item % 3:\n"
        "            total += item\n"
        "        elif item < 0:\n"
        "            total -= item\n"
        "        else:\n"
        "            continue\n"
        "    while total > 1000:\n"
        "        total //= 2\n"
        "    try:\n"
        "        ratio = total / limit\n"
        "    except ZeroDivisionError:\n"
        "        ratio = 0\n"
        f"    return [x for x in range({i % 7}) if x] + [ratio]  # note\n"
        "\n"
        "\n"
    )


def make_submission(root: Path, lines: int) -> list[str]:
    """Modules of about LINES_PER_MODULE lines each, ``lines`` lines in all."""
    files: list[str] = []
    written, i, module = 0, 0, 0
    while written < lines:
        body = ['"""Generated module."""\nimport os\nimport sys\n\n\n']
        size = 5
        while size < LINES_PER_MODULE and written + size < lines:
            chunk = function(i)
            body.append(chunk)
            size += chunk.count("\n")
            i += 1
        name = f"pkg/mod_{module}.py"
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("".join(body))
        files.append(name)
        written += size
        module += 1
    return files


def bench(lines: int) -> tuple[float, int, int]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        files = make_submission(root, lines)
        actual = sum((root / f).read_text().count("\n") for f in files)
        times = []
        for _ in range(RUNS):
            t0 = time.perf_counter()
            result = analyse(root, files, StyleConfig(), ComplexityConfig())
            times.append(time.perf_counter() - t0)
        assert result.complexity.analysable and not result.complexity.unanalysable
        return statistics.median(times), actual, len(result.complexity.functions)


def main() -> None:
    for lines in (1_000, 20_000):
        median, actual, functions = bench(lines)
        print(f"{actual:>6} lines, {functions:>4} functions: median of {RUNS} = {median:.3f} s")


if __name__ == "__main__":
    main()
