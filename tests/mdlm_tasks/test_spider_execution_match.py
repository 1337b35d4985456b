"""Spider's execution match, case by case as Spider's own evaluator decides.

The verdicts are those of ``result_eq`` and ``eval_exec_match`` in the official evaluator
(taoyds/test-suite-sql-eval, ``exec_eval.py``, which Spider's ``evaluation.py`` calls for
``--etype exec``), worked out by hand on each pair of results:

- both results empty: match; different numbers of rows or of columns: no match;
- otherwise a match when some reordering of the predicted columns gives the gold rows, as a
  bag of rows, or as a list when the gold query contains ``order by``;
- values compare exactly (no rounding); DISTINCT is removed from both queries before they
  run (the evaluator's default, ``--keep_distinct`` off); "> =" is read as ">=".
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from mdlm_tasks.sql_spider import execution_match, same_results, spider_process_results


@pytest.mark.parametrize(
    ("gold", "got", "ordered", "match"),
    [
        ([], [], False, True),
        ([], [], True, True),
        ([(1,)], [], False, False),
        ([("Joe", 52), ("Ann", 29)], [(52, "Joe"), (29, "Ann")], False, True),  # columns swapped
        ([("Joe", 52), ("Ann", 29)], [(29, "Ann"), (52, "Joe")], False, True),  # and rows
        ([("Joe", 52), ("Ann", 29)], [(29, "Ann"), (52, "Joe")], True, False),  # rows out of the gold's order
        ([("Joe", 52), ("Ann", 29)], [(52, "Joe"), (29, "Ann")], True, True),  # columns free even when ordered
        ([("Joe", 52), ("Joe", 52)], [("Joe", 52)], False, False),  # a bag, not a set
        ([("Joe", 52), ("Ann", 52)], [("Joe", 52), ("Ann", 29)], False, False),
        ([("Joe", 52)], [("Joe", 52, "UK")], False, False),  # extra column
        ([(1, 2), (2, 1)], [(2, 1), (1, 2)], True, True),  # (b, a) order of columns fits
        ([(1, 1), (1, 2)], [(1, 2), (1, 1)], False, True),
        ([(0.30000000000000004,)], [(0.3,)], False, False),  # exact values
        ([(1,)], [(1.0,)], False, True),  # Python equality: 1 == 1.0
    ],
)
def test_result_verdicts_of_spiders_evaluator(gold: list, got: list, ordered: bool, match: bool) -> None:
    assert same_results(gold, got, ordered) is match


@pytest.fixture
def singers(tmp_path: Path) -> Path:
    path = tmp_path / "concert_singer.sqlite"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE singer (name TEXT, country TEXT, age INT)")
        connection.executemany("INSERT INTO singer VALUES (?, ?, ?)",
                               [("Joe", "UK", 52), ("Ann", "France", 29), ("Tom", "UK", 41), ("Eve", "distinct", 30)])
    return path


@pytest.mark.parametrize(
    ("gold", "predicted", "match"),
    [
        ("SELECT name, age FROM singer", "SELECT age, name FROM singer", True),
        ("SELECT name, age FROM singer ORDER BY age DESC", "SELECT age, name FROM singer ORDER BY age DESC", True),
        ("SELECT name, age FROM singer ORDER BY age DESC", "SELECT name, age FROM singer ORDER BY age", False),
        ("SELECT name FROM singer ORDER BY age DESC", "SELECT name FROM singer", False),
        ("SELECT name FROM singer", "SELECT name FROM singer ORDER BY age DESC", True),
        # DISTINCT is dropped from both queries, as the evaluator does by default.
        ("SELECT DISTINCT country FROM singer", "SELECT country FROM singer", True),
        ("SELECT count(DISTINCT country) FROM singer", "SELECT count(*) FROM singer", True),
        ("SELECT country FROM singer", "SELECT DISTINCT country FROM singer", True),
        ("SELECT name FROM singer WHERE country = 'distinct'", "SELECT name FROM singer WHERE age = 30", True),
        ("SELECT name FROM singer WHERE age >= 41", "SELECT name FROM singer WHERE age > = 41", True),
        ("SELECT name FROM singer WHERE age >= 41", "SELECT name FROM singer WHERE age > 41", False),
        ("SELECT name FROM singer", "SELECT nam FROM singer", False),
    ],
)
def test_queries_on_a_database(singers: Path, gold: str, predicted: str, match: bool) -> None:
    assert execution_match(singers, predicted, gold) is match


def test_sql_written_inside_reasoning_is_not_the_answer(singers: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import mdlm_tasks.sql_spider as spider

    monkeypatch.setattr(spider, "spider_database", lambda _db_id: singers)
    doc = {"db_id": "concert_singer", "query": "SELECT name, age FROM singer"}
    draft = "<think>\nMaybe ```sql\nSELECT name FROM singer\n```\nNo, age too.\n</think>\n"
    assert spider_process_results(doc, [draft + "```sql\nSELECT age, name FROM singer;\n```"]) == {"acc": 1.0}
    assert spider_process_results(doc, ["<think>\n```sql\nSELECT name, age FROM singer\n```"]) == {"acc": 0.0}
