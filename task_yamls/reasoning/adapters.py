"""Row adapters (``process_docs``) for the reasoning tasks: each maps a dataset row onto the canonical fields."""

from __future__ import annotations

import ast
import re
from typing import Any

from mdlm_tasks.answers import LETTERS
from mdlm_tasks.prompts import map_docs, stable_permutation


def bbh(dataset: Any) -> Any:
    """SaylorTwift/bbh and BBEH/bbeh rows: ``input`` (states its own answer format), ``target``."""
    return map_docs(dataset, lambda d: {"mdlm_question": d["input"], "mdlm_answer": str(d["target"]).strip()})


def gpqa(dataset: Any) -> Any:
    """Idavidrein/gpqa rows: ``Question``, ``Correct Answer``, ``Incorrect Answer 1..3``.

    The correct answer is listed first in the data; a permutation fixed by the question
    text puts it at a reproducible position.
    """

    def fn(d: dict[str, Any]) -> dict[str, Any]:
        raw = [d["Correct Answer"], d["Incorrect Answer 1"], d["Incorrect Answer 2"], d["Incorrect Answer 3"]]
        raw = [" ".join(str(x or "").split()) for x in raw]
        order = stable_permutation(str(d["Question"]), 4)
        return {
            "mdlm_question": str(d["Question"]).strip(),
            "mdlm_options": [raw[i] for i in order],
            "mdlm_answer": LETTERS[order.index(0)],
        }

    return map_docs(dataset, fn)


def zebralogic(dataset: Any) -> Any:
    """allenai/ZebraLogicBench-private ``mc_mode`` rows: ``puzzle``, ``question``, ``choices``, ``answer`` (text)."""

    def fn(d: dict[str, Any]) -> dict[str, Any]:
        choices = [str(c) for c in d["choices"]]
        return {
            "mdlm_context": d["puzzle"].strip(),
            "mdlm_question": d["question"].strip(),
            "mdlm_options": choices,
            "mdlm_answer": LETTERS[choices.index(str(d["answer"]))],
        }

    return map_docs(dataset, fn)


def mastermind(dataset: Any) -> Any:
    """flair/mastermind_46_mcq_close rows: ``instruction``, ``options.text``/``options.label``, ``answerKey``."""

    def fn(d: dict[str, Any]) -> dict[str, Any]:
        labels = [str(x) for x in d["options"]["label"]]
        return {
            "mdlm_question": f"{d['instruction'].strip()}\n\nWhich option is the secret code?",
            "mdlm_options": [str(t) for t in d["options"]["text"]],
            "mdlm_answer": LETTERS[labels.index(str(d["answerKey"]).strip())],
        }

    return map_docs(dataset, fn)


def musr(dataset: Any) -> Any:
    """TAUR-Lab/MuSR rows: ``narrative``, ``question``, ``choices`` (a Python list literal), ``answer_index``."""
    return map_docs(
        dataset,
        lambda d: {
            "mdlm_context": d["narrative"].strip(),
            "mdlm_question": d["question"].strip(),
            "mdlm_options": [str(c) for c in ast.literal_eval(d["choices"])],
            "mdlm_answer": LETTERS[int(d["answer_index"])],
        },
    )


def prontoqa(dataset: Any) -> Any:
    """renma/ProntoQA rows: ``context``, ``question``, ``options`` (``"A) True"``...), ``answer`` (letter)."""
    return map_docs(
        dataset,
        lambda d: {
            "mdlm_context": d["context"].strip(),
            "mdlm_question": d["question"].strip(),
            "mdlm_options": [re.sub(r"^\s*[A-Z]\)\s*", "", str(o)) for o in d["options"]],
            "mdlm_answer": str(d["answer"]).strip(),
        },
    )


def _drop_answer(answer: dict[str, Any]) -> str:
    if str(answer.get("number", "")).strip():
        return str(answer["number"]).strip()
    spans = [s for s in answer.get("spans", []) if str(s).strip()]
    if spans:
        return ", ".join(spans)
    date = answer.get("date") or {}
    return " ".join(str(date.get(k, "")).strip() for k in ("day", "month", "year")).strip()


def drop(dataset: Any) -> Any:
    """EleutherAI/drop rows: ``passage``, ``question``, ``answer`` and ``validated_answers`` (number/date/spans).

    Every distinct gold (the answer and each validated answer) is acceptable; multi-span
    answers are joined with ", " and scored with SQuAD-style EM/F1 (not DROP's own
    bag-of-spans alignment).
    """

    def fn(d: dict[str, Any]) -> dict[str, Any]:
        golds = [_drop_answer(d["answer"])]
        validated = d.get("validated_answers") or {}
        for i in range(len(validated.get("number", []))):
            golds.append(_drop_answer({k: validated[k][i] for k in ("number", "date", "spans")}))
        return {
            "mdlm_context": f"Passage: {d['passage'].strip()}",
            "mdlm_question": d["question"].strip(),
            "mdlm_answers": [g for g in dict.fromkeys(golds) if g],
        }

    return map_docs(dataset, fn)


def strategyqa(dataset: Any) -> Any:
    """ChilleD/StrategyQA rows: ``question``, ``answer`` (bool)."""
    return map_docs(dataset, lambda d: {"mdlm_question": d["question"], "mdlm_answer": "yes" if d["answer"] else "no"})


def logiqa(dataset: Any) -> Any:
    """EleutherAI/logiqa rows: ``context``, ``question``, ``options`` (4), ``label`` (``"a"``-``"d"``)."""
    return map_docs(
        dataset,
        lambda d: {
            "mdlm_context": d["context"].strip(),
            "mdlm_question": d["question"].strip(),
            "mdlm_options": list(d["options"]),
            "mdlm_answer": str(d["label"]).strip().upper(),
        },
    )


FOLIO_OPTIONS = ["True", "False", "Uncertain"]
"""FOLIO's three labels, offered as options A-C."""


def folio(dataset: Any) -> Any:
    """yale-nlp/FOLIO rows: ``premises`` (text, one per line), ``conclusion``, ``label`` (True/False/Uncertain)."""

    def fn(d: dict[str, Any]) -> dict[str, Any]:
        premises = d["premises"] if isinstance(d["premises"], str) else "\n".join(d["premises"])
        return {
            "mdlm_context": f"Premises:\n{premises.strip()}\n\nConclusion: {d['conclusion'].strip()}",
            "mdlm_question": "Based on the premises, is the conclusion true, false, or uncertain?",
            "mdlm_options": FOLIO_OPTIONS,
            "mdlm_answer": LETTERS[FOLIO_OPTIONS.index(str(d["label"]).strip())],
        }

    return map_docs(dataset, fn)
