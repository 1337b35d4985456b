"""Agentic matchers on replies of reasoning chat models: drafts inside ``<think>`` do not count.

BFCL and Nexus docs are the real rows of the fixtures; the replies are written the way Qwen3
(Hermes ``<tool_call>`` tags after a ``<think>`` block) and code-style models (a fenced Python
call, module-qualified) answer them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mdlm_tasks.function_call import FunctionCall, parse_function_calls, resolve_names
from mdlm_tasks.function_call_tasks import function_call_process_results
from mdlm_tasks.ifeval_task import ifeval_process_results

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _doc(name: str, index: int = 0) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))["docs"][index]


def _tool_call(name: str, **arguments: Any) -> str:
    return f"<tool_call>\n{json.dumps({'name': name, 'arguments': arguments})}\n</tool_call>"


DRAFT_THEN_RIGHT = (
    "<think>\nThe user wants the area. Maybe:\n" + _tool_call("calculate_triangle_area", base=5, height=10)
    + "\nNo: the base is 10 and the height 5.\n</think>\n\n" + _tool_call("calculate_triangle_area", base=10, height=5)
)


@pytest.mark.parametrize(
    ("reply", "acc"),
    [
        (DRAFT_THEN_RIGHT, 1.0),
        # Template-opened thinking: only the closing tag is in the reply.
        ("Base 10, height 5.\n</think>\n\n```python\n[calculate_triangle_area(base=10, height=5)]\n```", 1.0),
        # The right call only as a draft, budget exhausted before the answer.
        ("<think>\n" + _tool_call("calculate_triangle_area", base=10, height=5) + "\nLet me verify the units", 0.0),
        # Right draft, wrong final answer.
        ("<think>" + _tool_call("calculate_triangle_area", base=10, height=5) + "</think>"
         + _tool_call("calculate_triangle_area", base=5, height=10), 0.0),
    ],
)
def test_bfcl_scores_the_calls_after_reasoning(reply: str, acc: float) -> None:
    assert function_call_process_results(_doc("bfcl_simple"), [reply])["acc"] == acc


def test_bfcl_parallel_counts_only_the_final_calls() -> None:
    doc = _doc("bfcl_parallel")
    final = ("```python\n[spotify.play(artist='Taylor Swift', duration=20), "
             "spotify.play(artist='Maroon 5', duration=15)]\n```")
    # A draft with one call inside <think> would make three calls if it were read.
    reply = "<think>\n```python\nspotify.play(artist='Taylor Swift', duration=20)\n```\nTwo calls needed.\n</think>\n"
    assert function_call_process_results(doc, [reply + final])["acc"] == 1.0


@pytest.mark.parametrize(
    ("reply", "acc"),
    [
        ("```python\nnvdlib.searchCPE(keywordSearch='Microsoft Exchange 2010', limit=2)\n```", 1.0),
        ("```python\nsearchCPE(keywordSearch='Microsoft Exchange 2010', limit=2)\n```", 1.0),
        ("nvdlib.searchCPE('Microsoft Exchange 2010', 2)", 1.0),  # positional, named by the schema's order
        ("```python\nnvdlib.searchCVE(keywordSearch='Microsoft Exchange 2010', limit=2)\n```", 0.0),
        ("```python\nnvdlib.searchCPE(keywordSearch='Microsoft Exchange 2010', limit=5)\n```", 0.0),
    ],
)
def test_nexus_accepts_a_module_qualified_name(reply: str, acc: float) -> None:
    assert function_call_process_results(_doc("nexus_fc"), [reply])["acc"] == acc


def test_qualified_names_resolve_only_to_an_offered_function() -> None:
    calls = [FunctionCall("nvdlib.searchCPE", {}), FunctionCall("math.factorial", {}), FunctionCall("x.unknown", {})]
    resolved = resolve_names(calls, ["searchCPE", "math.factorial"])
    assert [call.name for call in resolved] == ["searchCPE", "math.factorial", "x.unknown"]
    assert resolve_names(None, ["f"]) is None


def test_parser_sees_no_call_when_all_of_them_are_drafts() -> None:
    assert parse_function_calls("<think>\n" + _tool_call("f", a=1) + "\nhmm") is None


@pytest.fixture(scope="module", autouse=True)
def _offline_punkt(tmp_path_factory: pytest.TempPathFactory) -> None:
    """lm-eval's IFEval module downloads NLTK's punkt_tab at import; the lowercase check needs none."""
    import nltk

    try:
        nltk.data.find("tokenizers/punkt_tab")
    except LookupError:
        root = tmp_path_factory.mktemp("nltk_data")
        (root / "tokenizers" / "punkt_tab").mkdir(parents=True)
        nltk.data.path.append(str(root))


@pytest.mark.parametrize(
    ("reply", "acc"),
    [
        ("<think>\nThe user wants a Poem, All In Lowercase.\n</think>\n\nthe sea rolls in grey and slow", 1.0),
        ("The User wants lowercase.\n</think>\nthe sea rolls in grey and slow", 1.0),
        ("<think>\nthe sea rolls in grey and slow</think>\nThe Sea Rolls In Grey And Slow", 0.0),
        ("the sea rolls in grey and slow", 1.0),
        ("<think>\nthe sea rolls in grey and slow", 0.0),  # unfinished thought: no answer, which IFEval fails
    ],
)
def test_ifeval_checks_the_answer_not_the_reasoning(reply: str, acc: float) -> None:
    assert ifeval_process_results(_doc("ifeval"), [reply])["acc"] == acc
