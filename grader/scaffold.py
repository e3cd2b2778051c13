"""``grader new``: a new challenge folder that validates out of the box."""

from __future__ import annotations

from pathlib import Path

_FILES = {
    "challenge.toml": """title = "{title}"
language = "python"
version = 1
entrypoint = "solution.py"

[limits]
wall_seconds = 60
test_seconds = 5
memory_mb = 256
cpus = 1.0
pids = 64
output_kb = 256

[scoring]
correctness = 70
style = 15
complexity = 10
docs = 5

[tests.weights]
"tests/hidden/test_hidden.py::test_large_input" = 2

[feedback]
public_tests = "full"
hidden_tests = "count"
score = false
""",
    "README.md": """# {title}

Write `solution.py` with a function `word_count(text: str) -> dict[str, int]` that
returns how many times each word occurs in `text`. Words are separated by white
space and compared case-insensitively (keys are lower-case). A `TypeError` is
raised when `text` is not a `str`.

```python
>>> word_count("the cat and The hat")
{{"the": 2, "cat": 1, "and": 1, "hat": 1}}
```
""",
    "starter/solution.py": '''"""Your solution goes here."""


def word_count(text: str) -> dict[str, int]:
    """Count each word of ``text``, case-insensitively."""
    raise NotImplementedError
''',
    "solution/solution.py": '''"""Reference solution."""

from collections import Counter


def word_count(text: str) -> dict[str, int]:
    """Count each word of ``text``, case-insensitively."""
    if not isinstance(text, str):
        raise TypeError("text must be a str")
    return dict(Counter(word.lower() for word in text.split()))
''',
    "tests/public/test_public.py": """from solution import word_count


def test_counts_words():
    assert word_count("a b a") == {{"a": 2, "b": 1}}


def test_empty_text_has_no_words():
    assert word_count("") == {{}}
""",
    "tests/hidden/test_hidden.py": """import pytest
from solution import word_count


def test_case_insensitive():
    assert word_count("Go go GO") == {{"go": 3}}


def test_any_whitespace_separates():
    assert word_count("a\\tb\\n a") == {{"a": 2, "b": 1}}


def test_rejects_non_text():
    with pytest.raises(TypeError):
        word_count(42)


def test_large_input():
    assert word_count("x " * 100_000) == {{"x": 100_000}}
""",
}


def write_scaffold(dest: Path, slug: str) -> None:
    """Write the scaffold into ``dest`` (which must not exist)."""
    title = slug.replace("-", " ").capitalize()
    dest.mkdir(parents=True)
    for rel, text in _FILES.items():
        path = dest / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.format(title=title), encoding="utf-8")
