"""The suite's one prompting scheme: zero-shot, one explicit answer-format instruction per answer type.

Every task's ``process_docs`` maps its dataset rows onto the same few fields, so one
``doc_to_text`` / ``doc_to_target`` / ``process_results`` serves every task of an answer type:

- ``mdlm_context`` (str, optional): a passage, story or set of premises shown before the question.
- ``mdlm_question`` (str): the question itself, no options, no instruction.
- ``mdlm_options`` (list[str]): option texts, multiple choice only (option ``i`` has letter ``LETTERS[i]``).
- ``mdlm_answer`` (str): the gold letter (multiple choice), final answer (math), ``"yes"``/``"no"`` (yes/no),
  or the exact target string (exact-answer tasks such as BBH).
- ``mdlm_answers`` (list[str]): acceptable short answers; empty means unanswerable.

Prompts read the context (if any), ``Question: ...``, then the options, then the instruction, and end with
``Answer:`` (``Solution:`` for math): a base model continues naturally without a chat
template, and the same text is a plain user turn with one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mdlm_tasks.answers import LETTERS, extract_short_answer, score_choice, score_math, score_short_answer, score_yes_no
from mdlm_tasks.answers._short_answer import exact_match

INSTRUCTIONS: dict[str, str] = {
    "multiple_choice": (
        "Answer with the letter of the correct option. You may think step by step first; "
        'finish with "The answer is X", where X is the letter.'
    ),
    "math": "Solve the problem step by step. Put the final answer in \\boxed{}.",
    "short_answer": (
        "Answer with a short phrase of a few words. You may think step by step first; "
        'finish with "The answer is X", where X is the short answer.'
    ),
    "short_answer_or_abstain": (
        'Answer with a short phrase taken from the passage, or with "unanswerable" if the passage does not '
        'contain the answer. You may think step by step first; finish with "The answer is X".'
    ),
    "yes_no": (
        'Answer yes or no. You may think step by step first; finish with "The answer is yes" or "The answer is no".'
    ),
    "exact": (
        "Follow the task's instructions for the answer format. You may think step by step first; "
        'finish with "The answer is X", where X is the final answer only.'
    ),
    "bracketed": (
        "Apply the rule above to the question. You may think step by step first; then give the final "
        "answer once, in double square brackets [[...]], in the format the question asks for."
    ),
}
"""The answer-format instruction for each answer type."""


def _prompt(doc: Mapping[str, Any], kind: str, options: Sequence[str] = (), suffix: str = "Answer:") -> str:
    context = str(doc.get("mdlm_context") or "").strip()
    parts = [context] if context else []
    parts.append(f"Question: {str(doc['mdlm_question']).strip()}")
    if options:
        parts.append("\n".join(f"{LETTERS[i]}. {str(opt).strip()}" for i, opt in enumerate(options)))
    parts.append(INSTRUCTIONS[kind])
    return "\n\n".join(parts) + f"\n{suffix}"


def multiple_choice_text(doc: Mapping[str, Any]) -> str:
    """Prompt for a multiple-choice doc: question, lettered options, instruction."""
    return _prompt(doc, "multiple_choice", doc["mdlm_options"])


def multiple_choice_target(doc: Mapping[str, Any]) -> str:
    """The gold letter."""
    return str(doc["mdlm_answer"])


def multiple_choice_results(doc: Mapping[str, Any], results: Sequence[str]) -> dict[str, int]:
    """``{"acc": 1}`` when the first generation chose the gold letter (or its option text)."""
    return {"acc": score_choice(results[0] if results else "", doc["mdlm_answer"], doc["mdlm_options"])}


def math_text(doc: Mapping[str, Any]) -> str:
    r"""Prompt for a math doc: problem, then the ``\\boxed{}`` instruction."""
    return _prompt(doc, "math", suffix="Solution:")


def math_target(doc: Mapping[str, Any]) -> str:
    """The gold final answer."""
    return str(doc["mdlm_answer"])


def math_results(doc: Mapping[str, Any], results: Sequence[str]) -> dict[str, int]:
    """``{"acc": 1}`` when the final answer is mathematically equal to the gold one."""
    return {"acc": score_math(results[0] if results else "", doc["mdlm_answer"])}


def short_answer_text(doc: Mapping[str, Any]) -> str:
    """Prompt for a short-answer doc."""
    return _prompt(doc, "short_answer")


def short_answer_or_abstain_text(doc: Mapping[str, Any]) -> str:
    """Prompt for a reading-comprehension doc that may be unanswerable (SQuAD 2.0)."""
    return _prompt(doc, "short_answer_or_abstain")


def short_answer_target(doc: Mapping[str, Any]) -> str:
    """The first acceptable answer, or ``"unanswerable"``."""
    answers = [a for a in doc["mdlm_answers"] if str(a).strip()]
    return str(answers[0]) if answers else "unanswerable"


def short_answer_results(doc: Mapping[str, Any], results: Sequence[str]) -> dict[str, float]:
    """``{"acc": exact match, "f1": token F1}`` against the best gold answer."""
    return score_short_answer(results[0] if results else "", list(doc["mdlm_answers"]))


def yes_no_text(doc: Mapping[str, Any]) -> str:
    """Prompt for a yes/no doc."""
    return _prompt(doc, "yes_no")


def yes_no_target(doc: Mapping[str, Any]) -> str:
    """``"yes"`` or ``"no"``."""
    return str(doc["mdlm_answer"])


def yes_no_results(doc: Mapping[str, Any], results: Sequence[str]) -> dict[str, int]:
    """``{"acc": 1}`` when the generation says the gold yes/no."""
    return {"acc": score_yes_no(results[0] if results else "", str(doc["mdlm_answer"]).lower() == "yes")}


def bracketed_text(doc: Mapping[str, Any]) -> str:
    """Prompt for a rule-following doc whose answer goes in ``[[...]]`` (KOR-Bench): rule as context, question."""
    return _prompt(doc, "bracketed")


def exact_text(doc: Mapping[str, Any]) -> str:
    """Prompt for an exact-answer doc whose question states its own answer format (BBH, BBEH)."""
    return _prompt(doc, "exact")


def exact_target(doc: Mapping[str, Any]) -> str:
    """The exact target string."""
    return str(doc["mdlm_answer"])


def exact_results(doc: Mapping[str, Any], results: Sequence[str]) -> dict[str, int]:
    """``{"acc": 1}`` when the final answer equals the target.

    Targets written as an option letter in parentheses (``"(B)"``) are matched as multiple
    choice over the options listed in the question; other targets by SQuAD-normalised exact
    match of the final answer, with surrounding parentheses ignored.
    """
    response = results[0] if results else ""
    target = str(doc["mdlm_answer"]).strip()
    letter = target.strip("()") if len(target) == 3 and target[0] == "(" and target[-1] == ")" else ""
    if len(letter) == 1 and letter in LETTERS:
        count = LETTERS.index(letter) + 1
        for i in range(count, len(LETTERS)):
            if f"({LETTERS[i]})" not in str(doc["mdlm_question"]):
                break
            count = i + 1
        return {"acc": score_choice(response, letter, [""] * count)}
    pred = extract_short_answer(response)
    return {"acc": max(exact_match(pred, target), int(pred.strip() == target))}
