"""ParallelBench's scoring rules, re-implemented from their specification (commit 72de8f7).

Each rule returns ``score`` and ``score_strict`` in {0.0, 1.0}; ParallelBench reports their means
times 100. What a rule accepts, in words (``dataset/parallel_bench/metrics.py`` there):

* Reading a list, lenient: the text after the *last* ``[`` up to the next ``]`` (the whole text
  when there is no ``[``), split on commas; each item loses surrounding spaces and double quotes;
  empty items are dropped. Strict: both brackets must be there, items are separated by exactly
  ``", "`` and every item is wrapped in double quotes with none inside (``["A B", "C D"]``).
* ``list_match_score``: the list read from the reply equals the gold list (read leniently).
* ``list_shuffle_score``: the same names as the input, in a different order.
* ``list_random_insert_score``: the new name is there, and removing its first occurrence leaves the input.
* ``list_random_remove_score``: one name fewer, exactly one input name missing, the rest in order.
* ``list_random_replace_score``: same length; at the first occurrence of the new name, putting it
  into the input gives the reply.
* ``latin_square_score``: of the reply's non-empty lines, those whose comma-separated cells are
  exactly the symbol set (as a set) are kept; the first ``size`` of them must each hold every
  symbol, and so must every column. No strict form (strict = lenient).
* ``sentence_to_words_score`` (words-to-sentence): every word occurs in the reply as a substring
  (case-sensitive) *and* LanguageTool finds no grammar error. Only the first half is reproduced
  (``inclusion_score``): LanguageTool needs Java and a server download. It has no strict form.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any


def read_list(text: str, strict: bool = False) -> list[str] | None:
    """The list a reply states, by ParallelBench's reading rules (None: no list in strict mode)."""
    has_open = "[" in text
    if has_open:
        text = text[text.rindex("[") + 1 :]
    elif strict:
        return None
    if "]" in text:
        text = text[: text.index("]")]
    elif strict:
        return None
    if not strict:
        return [item.strip('" ') for item in text.strip("[]").split(",") if item.strip()]
    items = []
    for item in text.split(", "):
        # One lone quote counts as an empty quoted item, as in the reference.
        if not (item.startswith('"') and item.endswith('"')) or '"' in item[1:-1]:
            return None
        items.append(item[1:-1])
    return items


def _match(reply: list[str] | None, ref: Mapping[str, Any] | str) -> bool:
    return reply is not None and reply == read_list(str(ref))


def _shuffle(reply: list[str] | None, ref: Mapping[str, Any]) -> bool:
    original = list(ref["input"])
    return reply is not None and sorted(reply) == sorted(original) and reply != original


def _insert(reply: list[str] | None, ref: Mapping[str, Any]) -> bool:
    if reply is None or ref["word"] not in reply:
        return False
    rest = list(reply)
    rest.remove(ref["word"])
    return rest == list(ref["input"])


def _remove(reply: list[str] | None, ref: Mapping[str, Any]) -> bool:
    original = list(ref["input"])
    if reply is None or len(reply) != len(original) - 1:
        return False
    missing = set(original) - set(reply)
    if len(missing) != 1:
        return False
    original.remove(missing.pop())
    return reply == original


def _replace(reply: list[str] | None, ref: Mapping[str, Any]) -> bool:
    expected = list(ref["input"])
    if reply is None or len(reply) != len(expected) or ref["word"] not in reply:
        return False
    expected[reply.index(ref["word"])] = ref["word"]
    return reply == expected


_LIST_RULES: dict[str, Callable[[list[str] | None, Any], bool]] = {
    "list_match_score": _match,
    "list_shuffle_score": _shuffle,
    "list_random_insert_score": _insert,
    "list_random_remove_score": _remove,
    "list_random_replace_score": _replace,
}


def latin_square_ok(text: str, symbols: list[str]) -> bool:
    """Whether a reply holds a Latin square over ``symbols`` by ParallelBench's reading (see module doc)."""
    want = set(symbols)
    rows = [line.strip() for line in text.split("\n") if line.strip()]
    rows = [line for line in rows if {cell.strip() for cell in line.split(",")} == want]
    if len(rows) < len(want):
        return False
    grid = [[cell.strip() for cell in line.split(",")] for line in rows[: len(want)]]
    # zip stops at the shortest row, as the reference's column check does
    return all(set(row) == want for row in grid) and all(set(col) == want for col in zip(*grid, strict=False))


def words_included(text: str, words: list[str]) -> bool:
    """Whether every word occurs in the reply (substring, case-sensitive): half of words-to-sentence."""
    return all(word in text for word in words)


METRICS = (*_LIST_RULES, "latin_square_score", "sentence_to_words_score")
"""ParallelBench metric names this module scores."""


def pb_score(metric: str, reply: str, reference: Mapping[str, Any] | str) -> dict[str, float]:
    """Score one reply with one of ParallelBench's metrics.

    Args:
        metric: ParallelBench's metric name for the task (``tasks.json``).
        reply: The model's text, as generated.
        reference: The item's ``answer`` field, as ParallelBench stores it.

    Returns:
        ``score`` and ``score_strict`` for list and Latin-square tasks; ``inclusion_score`` for
        words-to-sentence (its grammar half is not reproduced, so there is no ``score``).
    """
    if metric in _LIST_RULES:
        rule = _LIST_RULES[metric]
        return {
            "score": float(rule(read_list(reply), reference)),
            "score_strict": float(rule(read_list(reply, strict=True), reference)),
        }
    if metric == "latin_square_score":
        ok = float(latin_square_ok(reply, list(reference["symbols"])))  # type: ignore[index]
        return {"score": ok, "score_strict": ok}
    if metric == "sentence_to_words_score":
        return {"inclusion_score": float(words_included(reply, list(reference["words"])))}  # type: ignore[index]
    raise ValueError(f"unknown ParallelBench metric {metric!r}; known: {', '.join(METRICS)}")
