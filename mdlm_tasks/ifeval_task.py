"""IFEval scored with lm-eval's own instruction checkers (imported, not copied).

The checkers read the answer only: reasoning is removed first by the suite's one rule
(:func:`mdlm_tasks.answers.strip_reasoning`), so a ``<think>`` block in capitals does not break
"all lowercase", and an unfinished one leaves an empty answer.
"""

from __future__ import annotations

from typing import Any

from mdlm_tasks.answers import strip_reasoning

__all__ = ["ifeval_doc_to_text", "ifeval_process_results"]


def ifeval_doc_to_text(doc: dict[str, Any]) -> str:
    """Return the ``google/IFEval`` prompt as is: its instructions are the answer format."""
    return doc["prompt"]


def ifeval_process_results(doc: dict[str, Any], results: list[str]) -> dict[str, Any]:
    """``acc`` is lm-eval's prompt-level strict accuracy; its other three metrics follow.

    Returns:
        ``acc`` (all instructions followed, strict), ``prompt_level_loose_acc`` and the
        per-instruction lists ``inst_level_strict_acc`` / ``inst_level_loose_acc``.
    """
    from lm_eval.tasks.ifeval import utils

    scores = utils.process_results(doc, [strip_reasoning(results[0] if results else "")])
    return {
        "acc": float(scores["prompt_level_strict_acc"]),
        "prompt_level_loose_acc": float(scores["prompt_level_loose_acc"]),
        "inst_level_strict_acc": scores["inst_level_strict_acc"],
        "inst_level_loose_acc": scores["inst_level_loose_acc"],
    }
