r"""KOR-Bench (knowledge-orthogonal reasoning): pinned data, the suite's prompt, and KOR-Bench's own scoring.

KOR-Bench has no dataset on the Hugging Face hub; its data ships in its GitHub repository
(``KOR-Bench/KOR-Bench``, folder ``data/``): for each of the five categories (operation,
logic, cipher, puzzle, counterfactual) a ``rule.jsonl`` (``idx``, ``title``,
``rule_content``) and a ``sample.jsonl`` of 250 questions (``idx``, ``question``,
``answer`` in double square brackets, ``rule_id``). The files are fetched once from a fixed
commit, checked against their SHA-256 and cached, as Spider's databases are.

Scoring follows the official ``eval/eval_utils.py`` rule by rule (the answer is the first
``[[...]]`` of the reply, cleaned per category; puzzle rules have their own comparisons;
some operation questions compare math expressions). Where this differs, it is on purpose:

- reasoning is removed first (:func:`mdlm_tasks.answers.strip_reasoning`), as for every task;
- LaTeX-escaped brackets ``\[\[24\]\]`` are read as ``[[24]]`` (the official extractor
  misses them and scores the right answer 0);
- arithmetic answers (puzzle rules 9 and 10) are evaluated by a small arithmetic reader,
  never by ``eval`` of model text;
- math expressions are compared by :func:`mdlm_tasks.answers.math_equal` (math-verify), not
  by ``sympy.parse_latex``, which needs an ANTLR runtime the official code pins.
"""

from __future__ import annotations

import ast
import json
import operator
import re
from collections.abc import Mapping, Sequence
from typing import Any

from mdlm_tasks._pinned import GitHubPin
from mdlm_tasks.answers import math_equal, strip_reasoning

__all__ = [
    "KOR_BENCH_CATEGORIES",
    "KOR_BENCH_COMMIT",
    "KOR_BENCH_FILES",
    "kor_bench_correct",
    "kor_bench_results",
    "kor_bench_rows_to_docs",
    "kor_bench_target",
    "kor_bench_text",
    "load_kor_bench",
]

KOR_BENCH_REPO = "KOR-Bench/KOR-Bench"
KOR_BENCH_COMMIT = "bb8194dff8e51e2e2247cf62aa9932c3d57d53d7"
"""The repository's commit the data is taken from (its latest, "Create LICENSE")."""
KOR_BENCH_CATEGORIES = ("operation", "logic", "cipher", "puzzle", "counterfactual")
"""The five categories, in the paper's order."""
KOR_BENCH_FILES: dict[str, str] = {
    "data/cipher/sample.jsonl": "071d99669c9650a900029d752cc77b233ced51772179cb279a0f10355781834c",
    "data/cipher/rule.jsonl": "a37e7d581cba5563fb501e4593c0bedebbd1dde960c1b8df8c787f223373796c",
    "data/counterfactual/sample.jsonl": "111ff495b3ec7e01859c29fe546c57a80c0d7e744c684b34531e63fdae97687f",
    "data/counterfactual/rule.jsonl": "085551b90bf65a6c5099083f770effd78aff062edfe395c0f052741bae60f1fd",
    "data/logic/sample.jsonl": "7a68e511c2d33dff22bec59aab959c19726ad6b1a68304fdfd833b8c4a1990e4",
    "data/logic/rule.jsonl": "dbd5799c9bc00a1cdfc65666e1c967b7b772391091fd82205dfcdc86d66bbef3",
    "data/operation/sample.jsonl": "8c62c2f5da05aa7fe5582e1b75a1e930c3baf2ef05bce832e1aef64fbfda4aae",
    "data/operation/rule.jsonl": "6deeb083bc1f015f137f1dc8aecc3098265e236c9e2bcbfc6c7bb79bfaac3b9f",
    "data/puzzle/sample.jsonl": "6e6b7463c64788ff83d17ff2e898939c033c3c34e21426ba0330219459a2c12c",
    "data/puzzle/rule.jsonl": "6e4e21d8f59e61e366e423e4b9135dd23ff877a2f614f64d876fca5e20e88401",
}
"""SHA-256 of each file at :data:`KOR_BENCH_COMMIT` (computed from the repository's git objects)."""
KOR_BENCH_DIR_ENV = "MDLM_KOR_BENCH_DIR"

# ---------------------------------------------------------------- data


_PIN = GitHubPin(KOR_BENCH_REPO, KOR_BENCH_COMMIT, KOR_BENCH_DIR_ENV, "kor_bench")


def _url(path: str) -> str:
    return _PIN.url(path)


def _verified_file(path: str) -> bytes:
    """The bytes of one data file: from ``$MDLM_KOR_BENCH_DIR``, the cache, or the pinned URL; always checked."""
    return _PIN.read(path, KOR_BENCH_FILES[path])


def _json_lines(data: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in data.decode("utf-8").splitlines() if line.strip()]


def kor_bench_rows_to_docs(
    samples: Mapping[str, Sequence[Mapping[str, Any]]], rules: Mapping[str, Sequence[Mapping[str, Any]]]
) -> list[dict[str, str]]:
    """Join each category's questions with the rule they refer to (``rule_id`` = the rule's ``idx``).

    Args:
        samples: ``sample.jsonl`` rows per category.
        rules: ``rule.jsonl`` rows per category.

    Returns:
        One doc per question: ``category``, ``idx``, ``rule_id``, ``title``, ``rule``, ``question``, ``answer``.
    """
    docs = []
    for category in KOR_BENCH_CATEGORIES:
        by_id = {str(rule["idx"]): rule for rule in rules.get(category, [])}
        for row in samples.get(category, []):
            rule = by_id[str(row["rule_id"])]
            docs.append({
                "category": category,
                "idx": str(row["idx"]),
                "rule_id": str(row["rule_id"]),
                "title": str(rule.get("title", "")),
                "rule": str(rule["rule_content"]),
                "question": str(row["question"]),
                "answer": str(row["answer"]),
            })
    return docs


def load_kor_bench(**_: Any) -> dict[str, Any]:
    """``custom_dataset`` for KOR-Bench: the 1,250 questions of the five categories, from the pinned commit."""
    import datasets

    samples = {c: _json_lines(_verified_file(f"data/{c}/sample.jsonl")) for c in KOR_BENCH_CATEGORIES}
    rules = {c: _json_lines(_verified_file(f"data/{c}/rule.jsonl")) for c in KOR_BENCH_CATEGORIES}
    return {"test": datasets.Dataset.from_list(kor_bench_rows_to_docs(samples, rules))}


# ---------------------------------------------------------------- prompt


def kor_bench_text(doc: Mapping[str, Any]) -> str:
    """The suite's prompt: the rule as context, the question (which states the ``[[...]]`` format)."""
    from mdlm_tasks.prompts import bracketed_text

    context = f"{doc['category'].capitalize()} rule ({doc['title']}):\n\n{doc['rule'].strip()}"
    return bracketed_text({"mdlm_context": context, "mdlm_question": doc["question"]})


def kor_bench_target(doc: Mapping[str, Any]) -> str:
    """The gold answer as the dataset writes it (``[[...]]``)."""
    return str(doc["answer"])


# ---------------------------------------------------------------- scoring

# Operation questions whose answers are math expressions (the official list, by question idx).
_MATH_IDX = frozenset(
    [18, 73, 74, 77, 94, 115, 116, 117, 121, 122, 123, 125, 131, 132, 134, 135, 136, 141, 143, 149,
     145, 146, 147, 151, 152, 153, 154, 155, 156, 160, 161, 162, 164, 165, 166, 170, 206, 209,
     211, 212, 213, 214, 215, 217, 218]
)


def _bracketed(text: str, clean: str = "") -> str | None:
    r"""The first ``[[...]]`` of ``text`` (else ``$\boxed{...}$``, else ``[...]``), cleaned as the official one."""
    # Escaped brackets ("\[\[24\]\]") are read only where no plain "[[" exists, so a reply the
    # official extractor reads is read the same way.
    unescaped = text.replace("\\[\\[", "[[").replace("\\]\\]", "]]")
    searches = [(r"\[\[\s*(.*?)\s*\]\]", text), (r"\[\[\s*(.*?)\s*\]\]", unescaped),
                (r"\$\\boxed\{(.*?)\}\$", text), (r"\[\s*(.*?)\s*\]", text)]
    for pattern, where in searches:
        match = re.search(pattern, where, re.DOTALL)
        if match:
            break
    else:
        return None
    inner = match.group(1).strip()
    drop = {"clean": '"\n [] ', "logic": '"\n .', "math": '"\n[]$'}.get(clean, "")
    inner = "".join(ch for ch in inner if ch not in drop)
    if clean == "math":
        return _clean_latex(inner)
    return f"[[{inner}]]"


def _clean_latex(expression: str) -> str:
    expression = expression.rsplit("=", 1)[-1]
    expression = re.sub(r"\\[()\[\]]", "", expression)
    expression = re.sub(r"\\text\{.*?\}", "", expression)
    expression = re.sub(r"\\(?:left|right|displaystyle)", "", expression)
    return expression.replace("\\\\", "\\")


def _inner(text: str) -> str | None:
    for where in (text, text.replace("\\[\\[", "[[").replace("\\]\\]", "]]")):
        match = re.search(r"\[\[(.*?)\]\]", where, re.DOTALL)
        if match:
            return match.group(1)
    return None


_OPERATORS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}


def _arithmetic(text: str) -> float | None:
    """The value of an expression of numbers, ``+ - * /`` and parentheses; None for anything else."""

    def value(node: ast.AST) -> float:
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            return node.value
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            inner = value(node.operand)
            return -inner if isinstance(node.op, ast.USub) else inner
        if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
            return _OPERATORS[type(node.op)](value(node.left), value(node.right))
        raise ValueError("not arithmetic")

    try:
        return value(ast.parse(text.strip(), mode="eval").body)
    except (SyntaxError, ValueError, ZeroDivisionError, RecursionError, MemoryError):
        return None


def _letters(text: str) -> str:
    return re.sub(r"[^A-Za-z]", "", text).lower()


def _puzzle(rule_id: str, said: str, gold: str) -> bool:
    if rule_id == "1":
        return _letters(said) == _letters(gold)
    if rule_id == "2":
        return _letters(said) in gold.split(",")
    if rule_id == "3":
        return sorted(w for w in re.split(r"\W+", said.lower()) if w) == sorted(gold.split(" "))
    if rule_id == "4":
        return _letters(said) in gold
    if rule_id == "5":
        return sorted(re.sub(r"\s+", "", said).split(",")) == sorted(gold.split(","))
    if rule_id in ("9", "10"):
        said = said.replace("×", "*").replace("−", "-")
        left = said.split("=")[0]
        if rule_id == "9":
            gold = gold.replace("×", "*").replace("−", "-")
            expected = re.search(r"=\s*(-?\d+)", gold)
            same_operators = re.findall(r"[+\-*/]", left) == re.findall(r"[+\-*/]", gold.split("=")[0])
            return same_operators and expected is not None and _arithmetic(left) == int(expected.group(1))
        gold_left = gold.split("\n")[0].split("=")[0]
        same_tokens = sorted(re.sub(r"\W+", "", left)) == sorted(re.sub(r"\W+", "", gold_left))
        return same_tokens and _arithmetic(left) == 24
    if rule_id == "18":
        return re.sub(r"[,\s\[\]]+", "", said) == re.sub(r"[,\s\[\]]+", "", gold)
    return re.sub(r"\W+", "", said) == re.sub(r"\W+", "", gold)


def _math_answers(said: str | None, gold: str | None) -> bool:
    if said is None or gold is None:
        return False
    if "or" not in gold:
        return said == gold or math_equal(said, gold)
    said_parts = [part.strip() for part in said.split("or")]
    gold_parts = [part.strip() for part in gold.split("or")]
    # The official code compares the two sets of simplified expressions.
    return all(any(s == g or math_equal(s, g) for s in said_parts) for g in gold_parts) and all(
        any(s == g or math_equal(s, g) for g in gold_parts) for s in said_parts
    )


def _alternatives(said: str | None, gold: str | None) -> bool:
    if said is None or gold is None:
        return False
    said = re.sub(r"\\text\{or\}", "or", said)
    split = [sorted(part.strip() for part in text.strip("[]").split("or")) for text in (said, gold)]
    return split[0] == split[1]


def _inequalities(text: str | None) -> list[str]:
    return sorted("".join(m) for m in re.findall(r"(≥|≤)\s*(-?\d+\.?\d*)", text or ""))


def kor_bench_correct(response: str, answer: str, category: str, rule_id: str, idx: str) -> bool:
    """Whether a reply answers a KOR-Bench question, by the benchmark's own rule for its category.

    Args:
        response: The model's reply.
        answer: The gold answer as the dataset writes it (``[[...]]``).
        category: ``operation``, ``logic``, ``cipher``, ``puzzle`` or ``counterfactual``.
        rule_id: The question's ``rule_id``.
        idx: The question's ``idx`` within its category.

    Returns:
        The verdict.
    """
    response = strip_reasoning(response)
    if category == "logic":
        said = _bracketed(response, "logic")
        if rule_id == "5":  # an unordered list of ';'-separated items
            return said is not None and sorted(said.split(";")) == sorted(answer.split(";"))
        return said is not None and said == _bracketed(answer, "logic")
    if category == "operation":
        if idx in ("178", "179"):
            return _inequalities(_bracketed(response, "clean")) == _inequalities(answer)
        if rule_id == "18":
            said, gold = _bracketed(response, "clean"), _inner(answer)
            return said is not None and gold is not None and sorted(re.sub(r"\W+", "", said)) == sorted(
                re.sub(r"\W+", "", gold))
        if rule_id in ("23", "24", "25"):
            said = _bracketed(response, "clean")
            numbers = [[int(n) for n in re.findall(r"\d+", text)] for text in (said or "", answer)]
            return said is not None and numbers[0] == numbers[1]
        if idx.isdigit() and int(idx) in _MATH_IDX:
            return _math_answers(_bracketed(response, "math"), _bracketed(answer, "math"))
        if "or" in answer:
            return _alternatives(_bracketed(response, "clean"), _bracketed(answer, "clean"))
    if category == "puzzle":
        said, gold = _inner(response), _inner(answer)
        return said is not None and gold is not None and _puzzle(rule_id, said, gold)
    said = _bracketed(response, "clean")
    return said is not None and said == answer


def kor_bench_results(doc: Mapping[str, Any], results: Sequence[str]) -> dict[str, int]:
    """``{"acc": 1}`` when the first generation answers the question by KOR-Bench's rule."""
    response = results[0] if results else ""
    return {"acc": int(kor_bench_correct(response, doc["answer"], doc["category"], doc["rule_id"], doc["idx"]))}

