"""LiveCodeBench, CRUXEval and MultiPL-E (C++, JavaScript): prompts and execution scorers."""

from __future__ import annotations

import ast
import base64
import io
import json
import pickle
import re
import zlib
from typing import Any, NamedTuple

from mdlm_tasks._code_harness import cpp_tests_pass, javascript_tests_pass, python_tests_pass, records_sandbox
from mdlm_tasks._sandbox import Limits, run_program
from mdlm_tasks.code_extract import extract_code

__all__ = [
    "cruxeval_i_doc_to_text",
    "cruxeval_i_process_results",
    "cruxeval_o_doc_to_text",
    "cruxeval_o_process_results",
    "livecodebench_doc_to_text",
    "livecodebench_process_results",
    "livecodebench_tests",
    "multiple_doc_to_text",
    "multiple_entry_point",
    "multiple_process_results",
    "outputs_match",
]

_LIMITS = Limits(timeout_s=10.0, memory_mb=2048)


# --- LiveCodeBench -----------------------------------------------------------------------


def livecodebench_doc_to_text(doc: dict[str, Any]) -> str:
    """Prompt for a ``livecodebench/code_generation_lite`` row (stdin or LeetCode starter code)."""
    text = f"You will be given a competitive programming problem. Write a correct Python 3 program.\n\n" \
           f"Question: {doc['question_content'].strip()}\n\n"
    if doc.get("starter_code"):
        text += (
            "Complete this starter code (keep the class and method names):\n\n"
            f"```python\n{doc['starter_code'].rstrip()}\n```\n\n"
        )
    else:
        text += "Read the input from standard input and write the answer to standard output.\n\n"
    return text + "Return the complete solution in a single ```python code block."


class _PlainUnpickler(pickle.Unpickler):
    """Unpickles plain data only: loading any class or function is refused."""

    def find_class(self, module: str, name: str):  # noqa: D102
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a dataset pickle")


def livecodebench_tests(doc: dict[str, Any]) -> list[dict[str, str]]:
    """Public plus private tests of a row; private ones are base64(zlib(pickle(json))) encoded upstream."""
    tests = json.loads(doc["public_test_cases"])
    private = doc.get("private_test_cases") or "[]"
    try:
        tests += json.loads(private)
    except json.JSONDecodeError:
        # The official encoding of the LiveCodeBench release; the payload is a JSON string.
        raw = zlib.decompress(base64.b64decode(private.encode()))
        tests += json.loads(_PlainUnpickler(io.BytesIO(raw)).load())
    return tests


def _tokens_equal(a: str, b: str) -> bool:
    if a == b:
        return True
    try:
        return abs(float(a) - float(b)) <= 1e-6 * max(1.0, abs(float(b)))
    except ValueError:
        return False


def outputs_match(actual: str, expected: str) -> bool:
    """Compare program output line by line and token by token (floats within 1e-6)."""
    got = [line.split() for line in actual.strip().splitlines()]
    want = [line.split() for line in expected.strip().splitlines()]
    got = [line for line in got if line]
    want = [line for line in want if line]
    if len(got) != len(want):
        return False
    return all(len(g) == len(w) and all(map(_tokens_equal, g, w)) for g, w in zip(got, want, strict=True))


_FUNCTIONAL_HARNESS = """
import json as _json
_cases = _json.loads({cases!r})
for _inputs, _expected in _cases:
    _args = [_json.loads(line) for line in _inputs.split("\\n") if line.strip()]
    _got = getattr(Solution(), {name!r})(*_args)
    if isinstance(_got, tuple):
        _got = list(_got)
    assert _got == _json.loads(_expected), (_inputs, _got, _expected)
"""


@records_sandbox
def livecodebench_process_results(doc: dict[str, Any], results: list[str]) -> dict[str, float]:
    """Run the answer on every test: stdin/stdout problems one run per test, LeetCode ones in one run.

    A LeetCode-style answer is imported as a module and its ``Solution`` called by the harness
    (passing only when every case ran); a stdin/stdout answer is a whole program, run as
    ``__main__`` like LiveCodeBench runs it, and judged by its output on each test.
    """
    tests = livecodebench_tests(doc)
    name = json.loads(doc.get("metadata") or "{}").get("func_name")
    header = "import sys, math, collections, itertools, heapq, bisect, functools\nfrom typing import *\n"
    if name:
        code = extract_code(results[0], entry_point="Solution")
        cases = json.dumps([[t["input"], t["output"]] for t in tests])
        passed = python_tests_pass(header + code + "\n", _FUNCTIONAL_HARNESS.format(cases=cases, name=name), _LIMITS)
        return {"acc": float(passed and bool(tests))}
    code = extract_code(results[0])
    for test in tests:
        run = run_program(header + code, stdin=test["input"], limits=_LIMITS)
        if not (run.passed and outputs_match(run.stdout, test["output"])):
            return {"acc": 0.0}
    return {"acc": 1.0 if tests else 0.0}


# --- CRUXEval --------------------------------------------------------------------------------

_CRUX_HEAD = (
    "You are given a Python function and an assertion containing {what}.\n\n"
    "```python\n{code}\n{assertion}\n```\n\n"
)
_CRUX_TAIL = (
    "Complete the assertion with {fill}, executing the program step by step if needed. Return only the "
    "completed assertion, `assert f(...) == ...`, in a single ```python code block."
)


def cruxeval_o_doc_to_text(doc: dict[str, Any]) -> str:
    """Output prediction prompt for a ``cruxeval-org/cruxeval`` row."""
    head = _CRUX_HEAD.format(what="an input to the function", code=doc["code"].rstrip(),
                             assertion=f"assert f({doc['input']}) == ??")
    return head + _CRUX_TAIL.format(fill="the literal output of the function on that input")


def cruxeval_i_doc_to_text(doc: dict[str, Any]) -> str:
    """Input prediction prompt for a ``cruxeval-org/cruxeval`` row."""
    head = _CRUX_HEAD.format(what="the function's output", code=doc["code"].rstrip(),
                             assertion=f"assert f(??) == {doc['output']}")
    return head + _CRUX_TAIL.format(fill="an input for which the function returns that output")


class _CruxAnswer(NamedTuple):
    """A CRUXEval answer reduced to literals: the call's arguments and the asserted output."""

    args: list[ast.expr] | None
    """Argument nodes of ``f(...)``: literals, or the prompt's own input copied; None when there is no call."""
    keywords: list[ast.keyword]
    """Keyword arguments of ``f(...)``, values checked to be literals."""
    output: ast.expr | None
    """The literal the answer gives as the output; None when it gives none."""


def _is_literal(node: ast.expr) -> bool:
    try:
        ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return True


def _literal_call(node: ast.expr, given: str | None = None) -> _CruxAnswer | None:
    """``f(L, ..., k=L)`` with literal arguments only, or exactly the call ``f(given)``; None for anything else."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "f"):
        return None
    if given is not None and ast.dump(node) == ast.dump(ast.parse(f"f({given})", mode="eval").body):
        return _CruxAnswer(node.args, node.keywords, None)  # the prompt's own input, copied
    if not all(_is_literal(arg) for arg in node.args) or not all(
            kw.arg is not None and _is_literal(kw.value) for kw in node.keywords):
        return None
    return _CruxAnswer(node.args, node.keywords, None)


def _crux_statement(node: ast.stmt, source: str, given: str | None) -> _CruxAnswer | None:
    """Read ``assert f(...) == L``, ``f(...) == L``, ``f(...)`` or a bare literal; None for anything else.

    With ``given`` (output prediction) the call may also repeat the prompt's input ``f(given)``
    verbatim, and a bare expression is the output ``L``. Without it (input prediction) a bare
    expression is the argument list, the form of a row's ``input`` field: ``'abc', 3`` are two
    arguments, ``(1, 2)`` is one tuple.
    """
    test = node.test if isinstance(node, ast.Assert) else node.value if isinstance(node, ast.Expr) else None
    if test is None:
        return None
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq):
        call = _literal_call(test.left, given)
        if call is None or not _is_literal(test.comparators[0]):
            return None
        return call._replace(output=test.comparators[0])
    if isinstance(node, ast.Assert):
        return None
    if isinstance(test, ast.Call):
        return _literal_call(test, given)
    if given is None:
        try:
            return _literal_call(ast.parse(f"f({ast.get_source_segment(source, test)})", mode="eval").body)
        except SyntaxError:
            return None
    return _CruxAnswer(None, [], test) if _is_literal(test) else None


def _crux_parse(text: str, given: str | None) -> _CruxAnswer | None:
    """The answer in ``text``: the last statement that reads as one, whole text first, then line by line."""
    text = text.replace("[ANSWER]", "").replace("[/ANSWER]", "").strip()
    try:
        sources = [(text, ast.parse(text).body)]
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        sources = []
        for line in text.splitlines():
            try:
                sources.append((line.strip(), ast.parse(line.strip()).body))
            except (SyntaxError, ValueError, MemoryError, RecursionError):
                continue
    for source, statements in reversed(sources):
        for statement in reversed(statements):
            if (answer := _crux_statement(statement, source, given)) is not None:
                return answer
    return None


def _crux_answer(answer: str, given: str | None) -> _CruxAnswer | None:
    """Read the last fenced block that holds an answer, else the answer as :func:`extract_code` gives it."""
    blocks = re.findall(r"^[ \t]*```[^\n]*\n(.*?)^[ \t]*```", answer, re.DOTALL | re.MULTILINE)
    for text in [*reversed(blocks), extract_code(answer)]:
        if (parsed := _crux_parse(text, given)) is not None:
            return parsed
    return None


def cruxeval_o_process_results(doc: dict[str, Any], results: list[str]) -> dict[str, float]:
    """Correct when the predicted output, a literal, equals the row's output by value.

    Nothing of the answer runs: ``assert f(X) == Y``, ``f(X) == Y`` or a bare ``Y`` is read;
    ``Y`` must be a Python literal (``ast.literal_eval``), ``X`` literals or the prompt's input
    copied, and ``Y`` is compared with the row's ``output`` (a literal in every CRUXEval row).
    """
    parsed = _crux_answer(results[0], given=doc["input"])
    if parsed is None or parsed.output is None:
        return {"acc": 0.0}
    return {"acc": float(ast.literal_eval(parsed.output) == ast.literal_eval(doc["output"]))}


@records_sandbox
def cruxeval_i_process_results(doc: dict[str, Any], results: list[str]) -> dict[str, float]:
    """Correct when ``f`` applied to the predicted input, made of literals only, returns the row's output.

    ``assert f(X) == Y``, ``f(X)`` or bare arguments ``X`` are read; every argument (and ``Y``,
    when given) must be a literal, so only the row's own ``f`` runs, in the sandbox, on them.
    """
    parsed = _crux_answer(results[0], given=None)
    if parsed is None or parsed.args is None:
        return {"acc": 0.0}
    call = ast.unparse(ast.Call(ast.Name("f"), parsed.args, parsed.keywords))
    passed = python_tests_pass(doc["code"] + "\n", f"assert {call} == {doc['output']}\n", _LIMITS)
    return {"acc": float(passed)}


# --- MultiPL-E ------------------------------------------------------------------------------

_LANGUAGES = {"cpp": ("C++", "cpp"), "js": ("JavaScript", "javascript"), "javascript": ("JavaScript", "javascript")}


def multiple_doc_to_text(doc: dict[str, Any]) -> str:
    """Prompt for a ``nuprl/MultiPL-E`` row (``humaneval-cpp`` / ``humaneval-js``)."""
    name, tag = _LANGUAGES[doc["language"]]
    return (
        f"Complete the following {name} function.\n\n```{tag}\n{doc['prompt'].rstrip()}\n```\n\n"
        f"Return the complete function, with its signature and any includes or imports it needs, "
        f"in a single ```{tag} code block. Do not write a main function or tests."
    )


@records_sandbox
def multiple_process_results(doc: dict[str, Any], results: list[str]) -> dict[str, float]:
    """Compile/run the answer followed by the row's ``tests``; a pass needs ``main`` to reach its end.

    MultiPL-E tests start where the prompt's function would end, so a leading lone ``}``
    (the closing brace of the completion format) is dropped; C++ answers get the prompt's
    ``#include`` lines in front, ``bits/stdc++.h`` first so that its precompiled form applies.
    """
    _, language = _LANGUAGES[doc["language"]]
    code = extract_code(results[0], language, entry_point=multiple_entry_point(doc["prompt"]))
    tests = doc["tests"].lstrip()
    if tests.startswith("}"):
        tests = tests[1:]
    limits = Limits(timeout_s=15.0, memory_mb=2048)
    if language == "cpp":
        lines = [line for line in doc["prompt"].splitlines() if line.startswith("#include")]
        includes = "\n".join(sorted(lines, key=lambda line: "bits/stdc++.h" not in line))
        return {"acc": float(cpp_tests_pass(includes, code, tests, limits))}
    return {"acc": float(javascript_tests_pass(code, tests, limits))}


def multiple_entry_point(prompt: str) -> str | None:
    """Name of the function a MultiPL-E prompt ends with (``long add(long x, long y) {``, ``function add(x, y){``)."""
    names = re.findall(r"(\w+)\s*\([^()]*\)\s*\{\s*$", prompt.rstrip() + "\n", re.MULTILINE)
    return names[-1] if names else None
