"""The mutators: each class of mutation yields the expected mutants, every Python
mutant parses and differs, token mutants never touch strings or comments, ids are
stable when unrelated code moves, and every language's scaffold yields mutants."""

from __future__ import annotations

import ast
import textwrap
from collections import Counter
from pathlib import Path

import pytest
from pygments.token import Error

from grader.errors import ChallengeError
from grader.languages import LANGUAGES
from grader.mutation import OPERATORS, Mutant, mutants_of, mutants_of_folder
from grader.mutation.tokens import _lexer

PY = textwrap.dedent(
    '''\
    """A module docstring with 1 + 2 in it."""

    from __future__ import annotations

    from typing import TYPE_CHECKING

    if TYPE_CHECKING:
        LIMIT_FOR_TYPES = 3

    LIMIT = 10


    def clamp(x: int, lo: int = 0, hi: int = LIMIT) -> int:
        """Bound ``x`` to [lo, hi]."""
        if x < lo:
            return lo
        if not x <= hi:
            return hi
        return x


    def total(items, bonus=1.5):
        """Sum with a bonus."""
        acc = 0
        for it in items:
            if it is None or it in (0,):
                continue
            acc += it * 2 - 1
        assert acc >= 0, f"negative {acc + 1}"
        log(acc)
        return acc + bonus if items else -bonus


    def flag():
        """Always on."""
        return True


    if __name__ == "__main__":
        print(clamp(1 + 1))
    '''
)


def descriptions(mutants: list[Mutant], operator: str) -> list[tuple[int, str]]:
    return [(m.line, m.description) for m in mutants if m.operator == operator]


@pytest.fixture(scope="module")
def py_mutants() -> list[Mutant]:
    return mutants_of("python", "calc.py", PY)


def test_python_arithmetic_swaps_each_operator_and_drops_unary_minus(
    py_mutants: list[Mutant],
) -> None:
    found = descriptions(py_mutants, "arithmetic")
    assert (28, "`+=` → `-=`") in found
    assert (28, "`*` → `/`") in found
    assert (28, "`-` → `+`") in found
    assert (31, "`+` → `-`") in found
    assert (31, "`-` → ``") in found


def test_python_comparisons_move_their_boundary_or_flip(py_mutants: list[Mutant]) -> None:
    found = descriptions(py_mutants, "comparison")
    assert found == [
        (15, "`<` → `<=`"),
        (17, "`<=` → `<`"),
        (26, "`is` → `is not`"),
        (26, "`in` → `not in`"),
        (29, "`>=` → `>`"),
    ]


def test_python_logical_and_conditions(py_mutants: list[Mutant]) -> None:
    assert descriptions(py_mutants, "logical") == [(26, "`or` → `and`")]
    conditions = descriptions(py_mutants, "condition")
    assert (15, "`x < lo` negated") in conditions
    # `if not x <= hi` loses its `not` rather than gaining a second one.
    assert (17, "`not` → ``") in conditions
    assert not any(line == 17 and "negated" in d for line, d in conditions)
    assert (31, "`items` negated") in conditions  # the conditional expression
    assert (26, "`it is None or it in (0,)` negated") in conditions


def test_python_constants_move_by_one_and_booleans_swap(py_mutants: list[Mutant]) -> None:
    found = descriptions(py_mutants, "constant")
    assert (10, "`10` → `11`") in found and (10, "`10` → `9`") in found
    assert (13, "`0` → `1`") in found  # a default value
    assert not any(d == "`0` → `-1`" for _, d in found)  # zero only goes up
    assert (22, "`1.5` → `2.5`") in found
    assert (36, "`True` → `False`") in found


def test_python_statements_are_removed_and_return_values_swapped(
    py_mutants: list[Mutant],
) -> None:
    removed = descriptions(py_mutants, "statement")
    assert (24, "`acc = 0` removed") in removed
    assert (27, "`continue` removed") in removed
    assert (30, "`log(acc)` removed") in removed
    assert any(line == 29 and d.startswith("`assert acc >= 0") for line, d in removed)
    returns = descriptions(py_mutants, "return")
    assert (16, "`lo` → `None`") in returns
    assert (19, "`x` → `None`") in returns
    # `return True` is the constant mutator's: no `None` for it.
    assert not any(line == 36 for line, _ in returns)


def test_python_leaves_docstrings_annotations_fstrings_and_guarded_blocks_alone(
    py_mutants: list[Mutant],
) -> None:
    lines = {m.line for m in py_mutants}
    assert 1 not in lines and 8 not in lines and 40 not in lines
    # The annotation `int` and the module-level LIMIT stay; only clamp's default moves.
    assert not any(m.line == 13 and "LIMIT" in m.description for m in py_mutants)
    # Inside the f-string `{acc + 1}` is a message, not behaviour.
    assert not any(m.line == 29 and m.description == "`+` → `-`" for m in py_mutants)


def test_every_python_mutant_parses_differs_and_changes_one_place(
    py_mutants: list[Mutant],
) -> None:
    original = ast.dump(ast.parse(PY))
    assert len({m.mutated for m in py_mutants}) == len(py_mutants)
    for m in py_mutants:
        assert ast.dump(ast.parse(m.mutated)) != original, m.description
        diff = m.diff()
        assert diff.startswith("--- a/calc.py\n+++ b/calc.py\n@@ -"), diff
        minus = [x for x in diff.splitlines() if x.startswith("-") and not x.startswith("---")]
        assert minus and all(x[1:] in PY for x in minus)
    assert set(OPERATORS) == {m.operator for m in py_mutants}


def test_mutant_ids_survive_edits_elsewhere_in_the_file(py_mutants: list[Mutant]) -> None:
    moved = mutants_of(
        "python", "calc.py", '"""Shifted."""\n\nimport os\n\n' + PY.split("\n", 1)[1]
    )
    before = {m.id: m.description for m in py_mutants}
    after = {m.id: m.description for m in moved}
    shared = set(before) & set(after)
    assert len(shared) >= len(before) - 1
    assert all(before[i] == after[i] for i in shared)
    assert all(m.id.startswith("calc.py#") and len(m.id) == len("calc.py#") + 8 for m in moved)


def test_identical_lines_get_distinct_ids() -> None:
    src = "def f(a):\n    a += 1\n    a += 1\n    return a\n"
    ids = [m.id for m in mutants_of("python", "f.py", src)]
    assert len(ids) == len(set(ids))


def test_python_source_that_does_not_parse_yields_nothing() -> None:
    assert mutants_of("python", "bad.py", "def f(:\n") == []


# -- token mutator --------------------------------------------------------------------------

GO = """package calc

// Clamp bounds x. "x < 1" stays a comment.
func Clamp(x, lo, hi int) int {
	if v := x - 1; v < lo {
		return lo
	}
	var p *int = &x
	total := *p * 2
	for i := 0; i < 3; i++ {
		total += i
	}
	msg := "a < b"
	_ = msg
	return total / 2
}
"""

JAVA = """import java.util.ArrayList;
import java.util.List;

/** Calc. */
public final class Calc {
    @SuppressWarnings(value = 1)
    public static List<Integer> evens(List<Integer> xs, int limit) {
        List<Integer> out = new ArrayList<>();
        for (int x : xs) {
            if (x % 2 == 0 && out.size() <= limit) {
                out.add(x);
            }
        }
        return out;
    }

    static boolean on() {
        return !false;
    }
}
"""

JS = """function score(items, bonus = 1) {
  let total = 0; // a comment with 5 > 4
  for (const it of items) {
    if (it.value >= 10 || it.star) total += it.value * 2;
  }
  while (total > 100) { total = total - 100; }
  return total === 0 ? 'none' : total + bonus;
}
module.exports = { score };
"""

RUBY = """# Score.
module Score
  def self.total(items, bonus = 1)
    sum = 0
    items.each { |it| sum += it * 2 if it >= 10 }
    return -1 unless items.any?
    sum > 100 && bonus.positive? ? sum - 100 : sum
  end
end
"""

PHP = """<?php

declare(strict_types=1);

function total(array $items, int $bonus = 1): int
{
    $sum = 0;
    foreach ($items as $it) {
        if ($it >= 10 && $it !== 99) {
            $sum += $it * 2;
        } elseif (!$it) {
            return 0;
        }
    }
    return $sum + $bonus;
}
"""


def by_class(language: str, source: str) -> dict[str, list[tuple[int, str]]]:
    out: dict[str, list[tuple[int, str]]] = {}
    for m in mutants_of(language, "x", source):
        out.setdefault(m.operator, []).append((m.line, m.description))
    return out


def test_go_operators_constants_and_conditions_but_not_pointers_or_strings() -> None:
    found = by_class("go", GO)
    assert (5, "`v < lo` negated") in found["condition"]  # after the init statement
    assert (5, "`<` → `<=`") in found["comparison"]
    assert (9, "`*` → `/`") in found["arithmetic"]  # the product, not the dereference
    assert sum(1 for line, _ in found["arithmetic"] if line == 9) == 1
    assert (10, "`++` → `--`") in found["arithmetic"]
    assert (11, "`+=` → `-=`") in found["arithmetic"]
    assert (10, "`3` → `4`") in found["constant"] and (10, "`3` → `2`") in found["constant"]
    assert not any(line in (3, 8, 13) for ms in found.values() for line, _ in ms)
    assert "return" not in found  # Go's zero values depend on types


def test_java_leaves_generics_annotations_and_imports_alone() -> None:
    found = by_class("java", JAVA)
    lines = {line for ms in found.values() for line, _ in ms}
    assert lines <= {10, 18}, found
    assert (10, "`<=` → `<`") in found["comparison"]
    assert (10, "`%` → `/`") in found["arithmetic"]
    assert (10, "`&&` → `||`") in found["logical"]
    assert (18, "`false` → `true`") in found["constant"]
    assert (18, "`!` removed") in found["condition"]


def test_javascript_ops_conditions_returns_not_comments() -> None:
    found = by_class("javascript", JS)
    assert (4, "`it.value >= 10 || it.star` negated") in found["condition"]
    assert (6, "`total > 100` negated") in found["condition"]
    assert (7, "`===` → `!==`") in found["comparison"]
    assert (7, "`total === 0 ? 'none' : total + bonus` → `null`") in found["return"]
    assert (1, "`1` → `2`") in found["constant"]
    assert not any(line == 2 and "5" in d for line, d in found["constant"])


def test_ruby_swaps_if_and_unless_and_leaves_block_pipes() -> None:
    found = by_class("ruby", RUBY)
    assert (5, "`if` → `unless`") in found["condition"]
    assert (6, "`unless` → `if`") in found["condition"]
    assert (6, "`-1` → `nil`") in found["return"]
    assert (5, "`+=` → `-=`") in found["arithmetic"]
    assert not any(d.startswith("`|`") for ms in found.values() for _, d in ms)


def test_php_skips_declare_and_negates_conditions() -> None:
    found = by_class("php", PHP)
    assert not any(line == 3 for ms in found.values() for line, _ in ms)
    assert (9, "`$it >= 10 && $it !== 99` negated") in found["condition"]
    assert (11, "`!` removed") in found["condition"]
    assert (9, "`!==` → `===`") in found["comparison"]
    assert (15, "`$sum + $bonus` → `null`") in found["return"]


@pytest.mark.parametrize(
    ("language", "source"),
    [("go", GO), ("java", JAVA), ("javascript", JS), ("ruby", RUBY), ("php", PHP)],
)
def test_token_mutants_still_lex_cleanly(language: str, source: str) -> None:
    mutants = mutants_of(language, "x", source)
    assert mutants
    for m in mutants:
        errors = [v for t, v in _lexer(language).get_tokens(m.mutated) if t in Error]
        assert not errors, (m.description, errors)


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_every_languages_scaffold_yields_mutants(language: str) -> None:
    lang = LANGUAGES[language]
    files = lang.scaffold("Scaffold")
    sources = {
        k.removeprefix("solution/"): v
        for k, v in files.items()
        if k.startswith("solution/") and lang.is_source(k) and not lang.is_test_file(k)
    }
    mutants = [m for rel, text in sources.items() for m in mutants_of(language, rel, text)]
    assert mutants, language
    assert len({m.id for m in mutants}) == len(mutants)
    if language == "python":
        for m in mutants:
            ast.parse(m.mutated)
    assert Counter(m.operator for m in mutants).keys() <= set(OPERATORS)


def test_a_source_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    (tmp_path / "x.py").write_bytes(b"x = '\xff'\n")
    with pytest.raises(ChallengeError, match=r"x\.py: cannot be read as UTF-8 text"):
        mutants_of_folder("python", tmp_path, ["x.py"])
