"""Prompts and execution scorers of the Python function-writing tasks.

HumanEval(+), MBPP(+), BigCodeBench-Hard and DS-1000: the model returns code in a fenced
block; the harness imports it as a module and runs the dataset's own tests against it in
the sandbox. A sample passes only when every test ran to completion (see
:mod:`mdlm_tasks._code_harness`): exiting early, ``atexit`` hooks or a ``unittest.main()``
of the answer's own do not count.
"""

from __future__ import annotations

import ast
import builtins
from typing import Any

from mdlm_tasks._code_harness import python_tests_pass, records_sandbox
from mdlm_tasks._sandbox import Limits
from mdlm_tasks.code_extract import extract_code, import_lines

__all__ = [
    "bigcodebench_doc_to_text",
    "bigcodebench_process_results",
    "ds1000_doc_to_text",
    "ds1000_process_results",
    "humaneval_doc_to_text",
    "humaneval_process_results",
    "mbpp_doc_to_text",
    "mbpp_entry_point",
    "mbpp_plus_doc_to_text",
    "mbpp_plus_process_results",
    "mbpp_process_results",
    "run_python",
]

PYTHON_LIMITS = Limits(timeout_s=20.0, memory_mb=4096)
"""Limits of one scored Python program (EvalPlus' larger tests need seconds)."""


def run_python(candidate: str, tests: str, limits: Limits = PYTHON_LIMITS) -> dict[str, float]:
    """Import ``candidate`` as a module, run ``tests`` against it; ``{"acc": 1.0}`` when they all ran to the end.

    Args:
        candidate: The model's code, with what the task puts in front of it (imports, setup).
        tests: The dataset's test code; it sees the candidate's names and fails by raising.
        limits: Sandbox limits of the run.
    """
    return {"acc": float(python_tests_pass(candidate, tests, limits))}


def humaneval_doc_to_text(doc: dict[str, Any]) -> str:
    """Prompt for HumanEval and HumanEval+ rows (``prompt`` holds signature and docstring)."""
    return (
        "Complete the following Python function.\n\n"
        f"```python\n{doc['prompt'].rstrip()}\n```\n\n"
        "Return the complete function, with its signature and any imports it needs, "
        "in a single ```python code block."
    )


@records_sandbox
def humaneval_process_results(doc: dict[str, Any], results: list[str]) -> dict[str, float]:
    """Run the answer against the row's ``check`` function (HumanEval and HumanEval+)."""
    entry = doc["entry_point"]
    code = extract_code(results[0], entry_point=entry)
    if f"def {entry}(" not in code:  # the model returned only the body
        code = doc["prompt"] + code
    return run_python(f"{import_lines(doc['prompt'])}\n{code}\n", f"{doc['test']}\n\ncheck({entry})\n")


def _tests_block(tests: list[str]) -> str:
    return "\n".join(test.strip() for test in tests)


def mbpp_entry_point(test: str) -> str | None:
    """Name of the function an MBPP assertion tests: the first call of a name that is not a builtin."""
    try:
        tree = ast.parse(test.strip())
    except SyntaxError:
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not hasattr(builtins, node.func.id):
            return node.func.id
    return None


def mbpp_doc_to_text(doc: dict[str, Any]) -> str:
    """Prompt for MBPP rows (``text`` is the task, ``test_list`` three asserts)."""
    return (
        f"You are an expert Python programmer. {doc['text'].strip()}\n"
        f"Your code should pass these tests:\n\n{_tests_block(doc['test_list'])}\n\n"
        "Return the complete function in a single ```python code block."
    )


@records_sandbox
def mbpp_process_results(doc: dict[str, Any], results: list[str]) -> dict[str, float]:
    """Run the answer (after ``test_setup_code``) against the row's ``test_list``."""
    code = extract_code(results[0], entry_point=mbpp_entry_point(doc["test_list"][0]))
    return run_python(f"{doc.get('test_setup_code') or ''}\n{code}\n", _tests_block(doc["test_list"]) + "\n")


def mbpp_plus_doc_to_text(doc: dict[str, Any]) -> str:
    """Prompt for MBPP+ rows (``prompt`` is the task; the first test names the function)."""
    return (
        f"You are an expert Python programmer. {doc['prompt'].strip()}\n"
        f"Your code should pass this test:\n\n{doc['test_list'][0].strip()}\n\n"
        "Return the complete function in a single ```python code block."
    )


@records_sandbox
def mbpp_plus_process_results(doc: dict[str, Any], results: list[str]) -> dict[str, float]:
    """Run the answer against the row's EvalPlus ``test`` program (with ``test_imports``)."""
    code = extract_code(results[0], entry_point=mbpp_entry_point(doc["test_list"][0]))
    imports = "\n".join(doc.get("test_imports") or [])
    return run_python(f"{imports}\n{code}\n", f"{imports}\n{doc['test']}\n")


def bigcodebench_doc_to_text(doc: dict[str, Any]) -> str:
    """Prompt for BigCodeBench rows from their ``instruct_prompt`` (which names ``task_func``)."""
    return (
        f"{doc['instruct_prompt'].strip()}\n\n"
        "Return the complete, self-contained code, with its imports and the function, "
        "in a single ```python code block."
    )


# Runs the row's TestCases the way BigCodeBench's own evaluator does: every test must pass, none may error.
_RUN_TESTCASES = """
import sys as _mdlm_sys
import unittest as _mdlm_unittest
_mdlm_result = _mdlm_unittest.TestResult()
_mdlm_unittest.defaultTestLoader.loadTestsFromTestCase(TestCases).run(_mdlm_result)
for _mdlm_test, _mdlm_trace in _mdlm_result.failures + _mdlm_result.errors:
    print(_mdlm_test, _mdlm_trace, file=_mdlm_sys.stderr)
assert _mdlm_result.testsRun and _mdlm_result.wasSuccessful()
"""


@records_sandbox
def bigcodebench_process_results(doc: dict[str, Any], results: list[str]) -> dict[str, float]:
    """Run the answer against the row's ``unittest`` test case class."""
    entry = doc["entry_point"]
    code = extract_code(results[0], entry_point=entry)
    if f"def {entry}(" not in code:
        code = doc["code_prompt"] + code
    return run_python(code + "\n", f"{doc['test']}\n{_RUN_TESTCASES}", Limits(timeout_s=30.0, memory_mb=8192))


def ds1000_doc_to_text(doc: dict[str, Any]) -> str:
    """Prompt for DS-1000 rows (``prompt`` shows the problem and the code around the gap)."""
    return (
        f"{doc['prompt'].strip()}\n\n"
        "Write only the code that goes in place of the solution placeholder, so that the result "
        "is stored in the variables the problem names. Return it in a single ```python code block."
    )


@records_sandbox
def ds1000_process_results(doc: dict[str, Any], results: list[str]) -> dict[str, float]:
    """Run the answer through the row's ``code_context`` (``test_execution`` and, if any, ``test_string``)."""
    code = extract_code(results[0])
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "<code>", "</code>"):
        code = code.replace(marker, "")
    checks = "test_execution(code)\n"
    if "test_string(" in doc["code_context"]:
        checks += "test_string(code)\n"
    # The snippet runs inside the row's own test_execution (exec into a fresh namespace), so the
    # "candidate module" is empty and everything happens in the tests.
    return run_python("", f"{doc['code_context']}\ncode = {code!r}\n{checks}", Limits(timeout_s=60.0, memory_mb=8192))
