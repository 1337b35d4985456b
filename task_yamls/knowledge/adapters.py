"""Row adapters (``process_docs``) for the knowledge tasks: each maps a dataset row onto the canonical fields."""

from __future__ import annotations

from typing import Any

from mdlm_tasks.answers import LETTERS
from mdlm_tasks.prompts import map_docs


def _letter_options(doc: dict[str, Any], keys: str = "ABCD") -> list[str]:
    return [str(doc[k]) for k in keys]


def mmlu(dataset: Any) -> Any:
    """cais/mmlu and MMLU-Redux rows: ``question``, ``choices`` (4), ``answer`` (int index)."""
    return map_docs(
        dataset,
        lambda d: {
            "mdlm_question": d["question"],
            "mdlm_options": list(d["choices"]),
            "mdlm_answer": LETTERS[int(d["answer"])],
        },
    )


def mmlu_pro(dataset: Any) -> Any:
    """TIGER-Lab/MMLU-Pro rows: ``question``, ``options`` (up to 10), ``answer`` (letter)."""
    return map_docs(
        dataset,
        lambda d: {
            "mdlm_question": d["question"],
            "mdlm_options": list(d["options"]),
            "mdlm_answer": str(d["answer"]).strip(),
        },
    )


def supergpqa(dataset: Any) -> Any:
    """m-a-p/SuperGPQA rows: ``question``, ``options`` (up to 10), ``answer_letter``."""
    return map_docs(
        dataset,
        lambda d: {
            "mdlm_question": d["question"],
            "mdlm_options": list(d["options"]),
            "mdlm_answer": str(d["answer_letter"]).strip(),
        },
    )


def ceval(dataset: Any) -> Any:
    """ceval/ceval-exam rows: ``question``, ``A``-``D``, ``answer`` (letter)."""
    return map_docs(
        dataset,
        lambda d: {
            "mdlm_question": d["question"],
            "mdlm_options": _letter_options(d),
            "mdlm_answer": str(d["answer"]).strip(),
        },
    )


def cmmlu(dataset: Any) -> Any:
    """haonan-li/cmmlu rows: ``Question``, ``A``-``D``, ``Answer`` (letter)."""
    return map_docs(
        dataset,
        lambda d: {
            "mdlm_question": d["Question"],
            "mdlm_options": _letter_options(d),
            "mdlm_answer": str(d["Answer"]).strip(),
        },
    )


def triviaqa(dataset: Any) -> Any:
    """mandarjoshi/trivia_qa rows: ``question``, ``answer.aliases`` (+ ``answer.value``)."""
    return map_docs(
        dataset,
        lambda d: {
            "mdlm_question": d["question"],
            "mdlm_answers": list(dict.fromkeys([d["answer"]["value"], *d["answer"]["aliases"]])),
        },
    )


def nq_open(dataset: Any) -> Any:
    """google-research-datasets/nq_open rows: ``question``, ``answer`` (list of strings)."""
    return map_docs(dataset, lambda d: {"mdlm_question": d["question"], "mdlm_answers": list(d["answer"])})


def arc(dataset: Any) -> Any:
    """allenai/ai2_arc rows: ``question``, ``choices.text``/``choices.label``, ``answerKey`` (may be "1".."4")."""

    def fn(d: dict[str, Any]) -> dict[str, Any]:
        labels = [str(x) for x in d["choices"]["label"]]
        return {
            "mdlm_question": d["question"],
            "mdlm_options": list(d["choices"]["text"]),
            "mdlm_answer": LETTERS[labels.index(str(d["answerKey"]).strip())],
        }

    return map_docs(dataset, fn)
