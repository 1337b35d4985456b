"""CRUXEval's literal judge on real rows, against CRUXEval's own judgement by execution.

``fixtures/cruxeval_official.json`` holds every eighth of the 800 rows of the official
``data/cruxeval.jsonl`` (MIT; repository and commit recorded in the file). CRUXEval's
evaluation runs ``f`` and the model's assertion with ``exec``; mdlm's judge runs nothing of
the answer: it reads literals. On literal answers the two must agree:

- output prediction: the row's own output, the output of another row and, for comparison
  by value, the output with its type loosened (``True`` for ``1``) are judged, and the
  reference runs ``f(input) == prediction`` (in-process: the row's own ``f`` on its own input);
- input prediction: the row's own input and the input of the next row are judged, and the
  reference runs the assertion in the sandbox, as CRUXEval's harness would. Rows whose
  official input is not a literal (a lambda, ``range(...)``, ...) are rejected by design.
"""

from __future__ import annotations

import ast
import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "cruxeval_official.json"
F = "```"


@functools.cache
def rows() -> list[dict[str, Any]]:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))["rows"]


def literal_input(row: dict[str, Any]) -> bool:
    call = ast.parse(f"f({row['input']})", mode="eval").body
    try:
        for node in [*call.args, *(keyword.value for keyword in call.keywords)]:
            ast.literal_eval(node)
    except ValueError:
        return False
    return True


def executed_output(row: dict[str, Any]) -> Any:
    """What the row's ``f`` returns on the row's input (CRUXEval's reference computation)."""
    namespace: dict[str, Any] = {}
    exec(compile(row["code"], row["id"], "exec"), namespace)  # noqa: S102 - the benchmark's own functions
    return eval(f"f({row['input']})", namespace)  # noqa: S307


@pytest.fixture(autouse=True)
def _allow_code(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_ALLOW_CODE_EVAL", "1")


def test_fixture_is_the_official_sample() -> None:
    assert len(rows()) == 100
    assert [row["id"] for row in rows()[:3]] == ["sample_0", "sample_8", "sample_16"]


def test_output_prediction_agrees_with_execution(build_task: Callable[[str], Any]) -> None:
    task = build_task("mdlm_cruxeval_o")
    checked = accepted = 0
    for index, row in enumerate(rows()):
        actual = executed_output(row)
        other = rows()[(index + 1) % len(rows())]["output"]
        predictions = [row["output"], other]
        if type(actual) is int and actual in (0, 1):
            predictions.append(repr(bool(actual)))  # equal by value, as `==` in CRUXEval's assertion
        for prediction in predictions:
            expected = float(actual == ast.literal_eval(prediction))
            answers = [f"{F}python\nassert f({row['input']}) == {prediction}\n{F}",
                       f"[ANSWER]assert f({row['input']}) == {prediction}[/ANSWER]",
                       prediction]
            for answer in answers:
                assert task.process_results(row, [answer])["acc"] == expected, (row["id"], answer)
                checked += 1
                accepted += int(expected)
    assert accepted >= 300 and checked - accepted >= 250  # both verdicts well represented




def _agree_on_inputs(task: Any, index: int) -> None:
    from mdlm_tasks._sandbox import run_program

    row = rows()[index]
    for candidate in (row, rows()[(index + 1) % len(rows())]):
        answer = f"{F}python\nassert f({candidate['input']}) == {row['output']}\n{F}"
        ours = task.process_results(row, [answer])["acc"]
        if not literal_input(candidate):
            assert ours == 0, (row["id"], answer)
            continue
        reference = run_program(f"{row['code']}\nassert f({candidate['input']}) == {row['output']}\n").passed
        assert ours == float(reference), (row["id"], answer)


@pytest.mark.parametrize("index", range(0, 100, 10))
def test_input_prediction_agrees_with_execution(build_task: Callable[[str], Any], index: int) -> None:
    _agree_on_inputs(build_task("mdlm_cruxeval_i"), index)


@pytest.mark.slow
def test_input_prediction_agrees_with_execution_on_every_row(build_task: Callable[[str], Any]) -> None:
    task = build_task("mdlm_cruxeval_i")
    for index in range(len(rows())):
        _agree_on_inputs(task, index)
