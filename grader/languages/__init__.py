"""The languages challenges can be written in: an explicit registry, no discovery.

Adding a language is one module here (data and a small adapter over
``grader.languages.base.Language``), its image recipe under ``runners/images/`` and
its challenges.
"""

from __future__ import annotations

from grader.errors import ChallengeError
from grader.languages.base import Language, Results
from grader.languages.go import Go
from grader.languages.java import Java
from grader.languages.javascript import JavaScript
from grader.languages.php import Php
from grader.languages.python import Python
from grader.languages.ruby import Ruby

LANGUAGES: dict[str, Language] = {
    lang.name: lang for lang in (Python(), Go(), Java(), JavaScript(), Ruby(), Php())
}

__all__ = ["LANGUAGES", "Language", "Results", "get", "names"]


def names() -> list[str]:
    return list(LANGUAGES)


def get(name: str) -> Language:
    """The language called ``name``; ChallengeError naming the known ones otherwise."""
    try:
        return LANGUAGES[name]
    except KeyError:
        known = ", ".join(LANGUAGES)
        raise ChallengeError(f"unknown language {name!r} (known: {known})") from None
