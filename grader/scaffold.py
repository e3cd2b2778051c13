"""``grader new``: a new challenge folder that validates out of the box."""

from __future__ import annotations

from pathlib import Path

from grader.languages import get

_TOML = """title = "{title}"
language = "{language}"
version = 1
entrypoint = "{entrypoint}"

[limits]
wall_seconds = 60
test_seconds = 5
memory_mb = {memory_mb}
cpus = 1.0
pids = {pids}
output_kb = 256

[scoring]
correctness = 70
style = 15
complexity = 10
docs = 5

[tests.weights]
"{weighted}" = 2

[feedback]
public_tests = "full"
hidden_tests = "count"
score = false
"""


def write_scaffold(dest: Path, slug: str, language: str = "python") -> None:
    """Write the scaffold of a challenge in ``language`` into ``dest`` (which must not exist)."""
    lang = get(language)
    title = slug.replace("-", " ").capitalize()
    files = {
        "challenge.toml": _TOML.format(
            title=title,
            language=lang.name,
            entrypoint=lang.scaffold_entrypoint,
            weighted=lang.scaffold_weighted_test,
            memory_mb=lang.scaffold_memory_mb,
            pids=lang.scaffold_pids,
        )
    }
    files.update(
        {rel: text.replace("{title}", title) for rel, text in lang.scaffold(title).items()}
    )
    dest.mkdir(parents=True)
    for rel, text in files.items():
        path = dest / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
