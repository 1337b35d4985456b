"""Code tasks score a sample 1 only when every test ran to completion, whatever the answer does to end early.

Each case is a chat-style answer scored through the task's real YAML and the fixture rows of
``fixtures/<task>.json``; the expected score was worked out by hand. The wrong answers exit,
hook the interpreter's exit or a signal, run their own ``unittest.main()`` or print a pass
message; before the token harness every one of them scored 1. The right answers print a
demo under a ``__main__`` guard that reads stdin, or fix a first wrong block in a later one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

F = "```"

HAS_CLOSE_WRONG = '''from typing import List


def has_close_elements(numbers: List[float], threshold: float) -> bool:
    return False
'''
HAS_CLOSE_RIGHT = '''from typing import List


def has_close_elements(numbers: List[float], threshold: float) -> bool:
    ordered = sorted(numbers)
    return any(b - a < threshold for a, b in zip(ordered, ordered[1:]))
'''
UNITTEST_REPLY = f'''Here is the implementation together with a few unit tests:

{F}python
{HAS_CLOSE_WRONG}

import unittest


class TestHasCloseElements(unittest.TestCase):
    def test_far_apart(self):
        self.assertFalse(has_close_elements([1.0, 2.0, 3.0], 0.5))


unittest.main()
{F}

Running the file shows that all tests pass.'''


def reply(code: str, language: str = "python") -> str:
    """A typical chat answer: one sentence, then the code in a fenced block."""
    return f"Sure! Here is the solution.\n\n{F}{language}\n{code.strip()}\n{F}\n"


# (task, fixture row, answer, expected acc)
CASES = [
    ("humaneval", 0, reply(HAS_CLOSE_WRONG + "\n\nimport sys\nsys.exit(0)\n"), 0),
    ("humaneval", 0, reply(HAS_CLOSE_WRONG + "\n\nexit()\n"), 0),
    ("humaneval", 0, reply(HAS_CLOSE_WRONG + "\n\nimport os\nos._exit(0)\n"), 0),
    ("humaneval", 0, reply(HAS_CLOSE_WRONG.replace("return False", "raise SystemExit(0)")), 0),
    ("humaneval", 0, reply(HAS_CLOSE_WRONG + "\n\nimport atexit\nimport os\natexit.register(os._exit, 0)\n"), 0),
    ("humaneval", 0, reply(HAS_CLOSE_WRONG + "\n\nimport os\nimport sys\nsys.excepthook = lambda *exc: os._exit(0)\n"),
     0),
    ("humaneval", 0, reply(HAS_CLOSE_WRONG.replace("return False", "import time\n    time.sleep(5)")
                           + "\n\nimport os\nimport signal\nsignal.signal(signal.SIGALRM, lambda *_: os._exit(0))\n"
                           "signal.setitimer(signal.ITIMER_REAL, 0.2)\n"), 0),
    ("humaneval", 0, reply(HAS_CLOSE_WRONG + "\n\nimport atexit\natexit.register(print, 'All tests passed!')\n"), 0),
    ("humaneval", 0, reply(HAS_CLOSE_WRONG + "\n\nimport threading, os\nthreading.Timer(0.1, os._exit, [0]).start()\n"
                           "import time\ntime.sleep(1)\n"), 0),
    ("humaneval", 0, UNITTEST_REPLY, 0),
    ("humaneval", 0, reply(HAS_CLOSE_RIGHT + '\n\nif __name__ == "__main__":\n    values = [float(x) for x in '
                           'input().split()]\n    print(has_close_elements(values, float(input())))\n'), 1),
    ("humaneval", 0, reply(HAS_CLOSE_WRONG) + "\nWait, that ignores the threshold. Corrected version:\n\n"
     + reply(HAS_CLOSE_RIGHT) + "\nExample:\n\n" + reply("print(has_close_elements([1.0, 1.05], 0.1))"), 1),
    ("humaneval", 0, reply(HAS_CLOSE_RIGHT + "\n\nprint('stdout', 'is', 'not', 'the', 'verdict')\n"), 1),
    ("humaneval", 0, reply("from __future__ import annotations\n\n" + HAS_CLOSE_RIGHT), 1),
    ("humaneval_plus", 1, reply("def truncate_number(number: float) -> float:\n    return 0.0\n\nquit()"), 0),
    ("mbpp", 0, reply("def remove_Occ(s, ch):\n    return s\n\n\nimport sys\nsys.exit(0)"), 0),
    ("mbpp", 0, reply("def remove_Occ(s, ch):\n    return s\n\n\nimport unittest\n\n\nclass Test(unittest.TestCase):\n"
                      "    def test_absent(self):\n        self.assertEqual(remove_Occ('abc', 'z'), 'abc')\n\n\n"
                      "unittest.main()"), 0),
    ("mbpp", 0, reply("def remove_Occ(s, ch):\n    s = s.replace(ch, '', 1)\n    i = s.rfind(ch)\n"
                      "    return s if i < 0 else s[:i] + s[i + 1:]\n\n\nif __name__ == '__main__':\n"
                      "    text, ch = input().split()\n    print(remove_Occ(text, ch))"), 1),
    ("mbpp_plus", 0, reply("def square_perimeter(a):\n    return 0\n\n\nexit(0)"), 0),
    ("bigcodebench_hard", 0, reply("import collections\n\n\ndef task_func(text):\n    return {}\n\n\n"
                                   "import unittest\nunittest.main()"), 0),
    ("bigcodebench_hard", 0, reply("import collections\nimport os\n\n\ndef task_func(text):\n    os._exit(0)"), 0),
    ("bigcodebench_hard", 0, reply("import collections\n\n\ndef task_func(text):\n    if not isinstance(text, str):\n"
                                   "        raise TypeError('text must be a str')\n"
                                   "    return dict(collections.Counter(text.split()))\n\n\n"
                                   "if __name__ == '__main__':\n    print(task_func(input()))"), 1),
    ("ds1000", 0, reply("import sys\nsys.exit(0)"), 0),
    ("ds1000", 0, reply("result = df['a'] + df['b']\nprint(result)"), 1),
    ("livecodebench", 1, reply("class Solution:\n    def maxOdd(self, nums: List[int]) -> int:\n        exit(0)"), 0),
    ("livecodebench", 0, reply("def main():\n    a, b = map(int, input().split())\n    print(a + b)\n\n\n"
                               "if __name__ == '__main__':\n    main()"), 1),
    ("multiple_cpp", 0, reply("long add(long x, long y) {\n    exit(0);\n}", "cpp"), 0),
    ("multiple_cpp", 0, reply("#include <cstdlib>\nstatic int early = (std::_Exit(0), 0);\n"
                              "long add(long x, long y) {\n    return 0;\n}", "cpp"), 0),
    ("multiple_cpp", 0, reply("#include <csignal>\n#include <cstdlib>\nstatic int hook = (std::signal(SIGABRT, "
                              "[](int) { std::_Exit(0); }), 0);\nlong add(long x, long y) {\n    return 0;\n}", "cpp"),
     0),
    ("multiple_cpp", 0, reply("#undef assert\n#define assert(x) ((void)0)\n"
                              "long add(long x, long y) {\n    return 0;\n}", "cpp"), 0),
    ("multiple_cpp", 0, reply("#include <iostream>\nlong add(long x, long y) {\n"
                              "    std::cout << x << '+' << y << '\\n';\n    return x + y;\n}", "cpp"), 1),
    ("multiple_js", 0, reply("function add(x, y) {\n  process.exit(0);\n}", "javascript"), 0),
    ("multiple_js", 0, reply("process.on('uncaughtException', () => process.exit(0));\n"
                             "function add(x, y) {\n  return 0;\n}", "javascript"), 0),
    ("multiple_js", 0, reply("process.on('exit', () => { process.exitCode = 0; });\n"
                             "function add(x, y) {\n  return 0;\n}", "javascript"), 0),
    ("multiple_js", 0, reply("function add(x, y) {\n  console.log(x, y);\n  return x + y;\n}", "javascript"), 1),
]


@pytest.fixture(autouse=True)
def _allow_code(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_ALLOW_CODE_EVAL", "1")


def _doc(task: Any, index: int) -> dict[str, Any]:
    return (task.test_docs() if task.has_test_docs() else task.validation_docs())[index]


@pytest.mark.parametrize(("name", "row", "answer", "acc"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_only_completed_tests_pass(build_task: Callable[[str], Any], name: str, row: int, answer: str,
                                   acc: int) -> None:
    task = build_task(f"mdlm_{name}")
    assert task.process_results(_doc(task, row), [answer])["acc"] == acc, answer


# CRUXEval: (task, fixture row, answer, expected acc). Row 1 is f(text) = text.upper() + '!' on 'hi'.
CRUX_CASES = [
    ("cruxeval_o", 1, "'HI!'", 1),
    ("cruxeval_o", 1, "The output is:\n\n```\n\"HI!\"\n```", 1),
    ("cruxeval_o", 0, reply("assert f([1, 1, 3, 1, 3, 1]) == [(4, 1), (4, 1), (4, 1), (4, 1), (2, 3), (2, 3)]"), 1),
    ("cruxeval_o", 0, reply("[(4, 1), (4, 1), (4, 1), (4, 1), (2, 3), (2, 3)]"), 1),
    ("cruxeval_o", 0, "[ANSWER]f([1, 1, 3, 1, 3, 1]) == [(4, 1)] * 4 + [(2, 3)] * 2[/ANSWER]", 0),
    ("cruxeval_o", 1, reply("assert f('hi') == 'hi!'") + "\nCorrection:\n" + reply("assert f('hi') == 'HI!'"), 1),
    ("cruxeval_o", 1, reply("assert f('hi') == f('hi')"), 0),
    ("cruxeval_o", 1, reply("assert f('hi') == 'hi'.upper() + '!'"), 0),
    ("cruxeval_o", 1, reply("'hi'.upper() + '!'"), 0),
    ("cruxeval_o", 1, reply("assert f('hi') == f(__import__('os')._exit(0))"), 0),
    ("cruxeval_o", 1, reply("assert f(__import__('os')._exit(0)) == 'HI!'"), 0),
    ("cruxeval_o", 1, "HI!", 0),
    ("cruxeval_i", 1, "'hi'", 1),
    ("cruxeval_i", 1, reply("f('hI')"), 1),
    ("cruxeval_i", 1, reply("assert f('hi') == 'HI!'"), 1),
    ("cruxeval_i", 1, reply("assert f(text='hi') == 'HI!'"), 1),
    ("cruxeval_i", 0, reply("[3, 1, 1, 3, 1, 1]"), 1),
    ("cruxeval_i", 0, reply("([3, 1, 1, 3, 1, 1],)"), 0),  # one tuple argument, not the list
    ("cruxeval_i", 1, reply("assert f(__import__('os')._exit(0)) == 'HI!'"), 0),
    ("cruxeval_i", 1, reply("assert f('hi') == f('hi')"), 0),
    ("cruxeval_i", 1, reply("assert f('h' + 'i') == 'HI!'"), 0),
    ("cruxeval_i", 1, reply("assert f('hi'.lower()) == 'HI!'"), 0),
]


@pytest.mark.parametrize(("name", "row", "answer", "acc"), CRUX_CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CRUX_CASES)])
def test_cruxeval_judges_literals_only(build_task: Callable[[str], Any], name: str, row: int, answer: str,
                                       acc: int) -> None:
    task = build_task(f"mdlm_{name}")
    assert task.process_results(_doc(task, row), [answer])["acc"] == acc, answer


def test_cruxeval_output_is_never_executed(build_task: Callable[[str], Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """Output prediction compares literals: nothing runs, so it needs no opt-in and no sandbox."""
    monkeypatch.delenv("HF_ALLOW_CODE_EVAL")
    task = build_task("mdlm_cruxeval_o")
    assert task.process_results(_doc(task, 1), ["'HI!'"])["acc"] == 1
