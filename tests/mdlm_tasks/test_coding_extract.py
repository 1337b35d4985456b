"""Code extraction and output comparison, on hand-worked cases."""

from __future__ import annotations

import pytest

from mdlm_tasks.code_contest import multiple_entry_point, outputs_match
from mdlm_tasks.code_extract import defines, extract_code, import_lines
from mdlm_tasks.code_python import mbpp_entry_point

F = "```"


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        (f"Here:\n{F}python\ndef f():\n    return 1\n{F}\nUsage:\n{F}\nf()\n{F}", "python", "def f():\n    return 1"),
        (f"{F}js\nlet a;\n{F}\n{F}python\nb = 1\n{F}", "python", "b = 1"),
        (f"{F}\nuntagged = 1\n{F}\n{F}cpp\nint x;\n{F}", "python", "untagged = 1"),
        (f"{F}c++\nint x;\n{F}", "cpp", "int x;"),
        (f"{F}javascript\nlet y = 2;\n{F}", "javascript", "let y = 2;"),
        (f"{F}Python\nA = 1\n{F}", "python", "A = 1"),
        (f"{F}python\ndef f():\n    pass", "python", "def f():\n    pass"),  # truncated: no closing fence
        ("def f():\n    pass\n", "python", "def f():\n    pass"),  # bare code
        (f"{F}sql\nSELECT 1;\n{F}", "sql", "SELECT 1;"),
        ("", "python", ""),
    ],
)
def test_extract_code(text: str, language: str, expected: str) -> None:
    assert extract_code(text, language) == expected


WRONG = "def f(x):\n    return x"
RIGHT = "def f(x):\n    return x + 1"


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        # a first attempt, then the corrected block: the last block defining f wins
        (f"{F}python\n{WRONG}\n{F}\nOops, fixed:\n{F}python\n{RIGHT}\n{F}", "python", RIGHT),
        # the function, then a usage block that only calls it
        (f"{F}python\n{RIGHT}\n{F}\nUsage:\n{F}python\nprint(f(1))\n{F}", "python", RIGHT),
        # a truncated last block is not complete: the last complete one wins
        (f"{F}python\n{RIGHT}\n{F}\nAlternatively:\n{F}python\ndef f(x):\n    return", "python", RIGHT),
        # a block in another language does not count, an untagged one does
        (f"{F}python\n{WRONG}\n{F}\n{F}js\nfunction f(x) {{}}\n{F}\n{F}\n{RIGHT}\n{F}", "python", RIGHT),
        # no block defines f: today's rule (first python block)
        (f"{F}python\nx = 1\n{F}\n{F}python\ny = 2\n{F}", "python", "x = 1"),
        # a declaration is not a definition; a main() after the function does not define it
        (f"{F}cpp\nlong f(long x);\n{F}\n{F}cpp\nlong f(long x) {{\n    return x;\n}}\n{F}\n"
         f"{F}cpp\nint main() {{}}\n{F}", "cpp", "long f(long x) {\n    return x;\n}"),
        (f"{F}js\nfunction f(x) {{ return 0; }}\n{F}\nBetter:\n{F}javascript\nconst f = (x) => x;\n{F}", "javascript",
         "const f = (x) => x;"),
    ],
)
def test_extract_code_last_block_defining_the_entry_point(text: str, language: str, expected: str) -> None:
    assert extract_code(text, language, entry_point="f") == expected


@pytest.mark.parametrize(
    ("code", "language", "defined"),
    [
        ("class Solution:\n    def twoSum(self): ...", "python", True),
        ("async def f(x):\n    pass", "python", True),
        ("f = lambda x: x", "python", True),
        ("print(f(2))", "python", False),
        ("def fx(y):\n    pass", "python", False),
        ("std::vector<long> f(std::vector<long> v) {", "cpp", True),
        ("long f(long x);", "cpp", False),
        ("function* f(n) {", "javascript", True),
        ("let f = function (x) {", "javascript", True),
        ("console.log(f(1));", "javascript", False),
    ],
)
def test_defines(code: str, language: str, defined: bool) -> None:
    name = "Solution" if "class" in code else "f"
    assert defines(code, name, language) is defined


@pytest.mark.parametrize(
    ("test", "name"),
    [
        ('assert remove_Occ("hello","l") == "heo"', "remove_Occ"),
        ("assert set(similar_elements((3, 4, 5, 6),(5, 7, 4, 10))) == set((4, 5))", "similar_elements"),
        ("assert math.isclose(volume_sphere(10), 4188.79, rel_tol=0.001)", "volume_sphere"),
        ("assert sorted(heap_queue_largest([25, 35], 2)) == [35, 25]", "heap_queue_largest"),
        ("assert len(str(123)) == 3", None),
    ],
)
def test_mbpp_entry_point(test: str, name: str | None) -> None:
    assert mbpp_entry_point(test) == name


def test_multiple_entry_point() -> None:
    cpp = "#include<assert.h>\n// Add two numbers\n// >>> add((2), (3))\nlong add(long x, long y) {\n"
    js = "//Add two numbers x and y\n// >>> add(2, 3)\n// 5\nfunction add(x, y){\n"
    assert multiple_entry_point(cpp) == multiple_entry_point(js) == "add"


def test_import_lines() -> None:
    source = "from typing import List\nimport math\n\n\ndef f():\n    import os\n    return 1\n"
    assert import_lines(source) == "from typing import List\nimport math"


@pytest.mark.parametrize(
    ("actual", "expected", "same"),
    [
        ("8\n", "8\n", True),
        ("8", "8\n\n", True),
        ("1 2  3\n", "1 2 3\n", True),
        ("0.3333333\n", "0.333333333\n", True),
        ("0.33\n", "0.333333333\n", False),
        ("YES\nNO\n", "YES\nNO\n", True),
        ("YES NO\n", "YES\nNO\n", False),
        ("yes\n", "YES\n", False),
        ("", "0\n", False),
    ],
)
def test_outputs_match(actual: str, expected: str, same: bool) -> None:
    assert outputs_match(actual, expected) is same


def test_code_drafted_inside_reasoning_is_not_the_answer() -> None:
    reply = ("<think>Maybe:\n```python\ndef add(a, b):\n    return a - b\n```\nNo, that subtracts.</think>\n"
             "Here it is:\n```python\ndef add(a, b):\n    return a + b\n```\n")
    assert extract_code(reply, entry_point="add") == "def add(a, b):\n    return a + b"
    # A reply cut off inside its reasoning has no answer at all.
    assert extract_code("<think>\n```python\ndef add(a, b):\n    return a + b\n```\n") == ""
