"""Multiple-choice answers: find the option letter (or the option text) a model chose."""

from __future__ import annotations

import re
import string
from collections.abc import Sequence

from mdlm_tasks.answers._text import after_last_marker, as_text, boxed_contents, strip_emphasis

LETTERS = string.ascii_uppercase
"""Option letters in order: option ``i`` is ``LETTERS[i]``."""

_OPEN = r"[\s\*\(\[\{\"'`]*"
# A letter that stands alone: closed by punctuation or the end of the text/line.
# A closing quote counts, an apostrophe does not ("I'd go with C" starts with the pronoun).
_STRICT_TAIL = r"(?=\s*(?:[\)\]\}\.:,;!*]|[\"'`](?![A-Za-z])|$|\n|\s[-–—]))"


def option_letter(index: int) -> str:
    """The letter of option ``index`` (0 -> ``A``).

    Args:
        index: Zero-based option index.

    Returns:
        The capital letter naming that option.
    """
    return LETTERS[index]


def _norm(text: str) -> str:
    text = strip_emphasis(text).lower()
    text = re.sub(r"\\text\{([^}]*)\}", r"\1", text)
    text = re.sub(r"[\s\"'`$.,;:!?()\[\]{}]+", " ", text)
    return text.strip()


# After "The answer is", a letter followed by a word is read only when the word cannot make the
# letter an English word: "A" and "I" are also the article and the pronoun ("The answer is I
# believe (B)", "the answer is a dog"), so for them the word must start a clause.
_CLAUSE_WORD = r"\s+(?:because|since|as|which|for|given|due|from|[-–—])\b"
# Phrases that introduce a choice outside the usual answer markers: "I think it's B) because",
# "I'd go with (C)", "my answer is D".
_SOFT_MARKER = re.compile(
    r"\b(?:it(?:'|’)?s|it\s+is|i(?:'d|’d|\s+would|\s+will|'ll)?\s+(?:choose|pick|select|go\s+with)"
    r"|my\s+(?:choice|pick|answer)\s+(?:is|would\s+be))\s*:?\s*",
    re.IGNORECASE,
)


def _letter_at_start(segment: str, letters: str, strict: bool) -> str | None:
    opening = _OPEN + r"(?:option|choice)?\s*([" + letters + "])"
    match = re.match(opening + _STRICT_TAIL, segment)
    if match or strict:
        return match.group(1) if match else None
    match = re.match(opening + r"(?![A-Za-z0-9])", segment)
    if match and match.group(1) in "AI" and not re.match(_CLAUSE_WORD, segment[match.end() :], re.IGNORECASE):
        return None
    return match.group(1) if match else None


def _delimited_letter(segment: str, letters: str) -> str | None:
    """The first letter set off as an answer inside ``segment``: ``(B)``, ``[B]``, ``**B**``, ``option B``."""
    pattern = (
        rf"\(([{letters}])\)|\[([{letters}])\]|\*\*\(?([{letters}])\)?\*\*"
        rf"|\b(?:option|choice)\s+\(?([{letters}])\b"
    )
    match = re.search(pattern, segment)
    return next(group for group in match.groups() if group) if match else None


def _verdict_letter(text: str, letters: str) -> str | None:
    """A letter the reply states as its choice without an answer marker ("I think it's B)", "(C) is correct")."""
    for marker in reversed(list(_SOFT_MARKER.finditer(text))):
        letter = _letter_at_start(text[marker.end() :], letters, strict=True)
        if letter:
            return letter
    found = re.findall(
        rf"(?:^|[\s*])(?:option\s+|choice\s+)?\(?([{letters}])\)?\**\s+is\s+(?:the\s+)?(?:correct|right|best|answer)\b",
        text,
    )
    return found[-1] if found else None


def _option_by_text(segment: str, options: Sequence[str]) -> int | None:
    seg = _norm(segment)
    if not seg:
        return None
    normed = [_norm(str(opt)) for opt in options]
    exact = [i for i, opt in enumerate(normed) if opt and opt == seg]
    if len(exact) == 1:
        return exact[0]
    # The segment starts with exactly one option's text (longest wins when one contains another).
    starts = [i for i, opt in enumerate(normed) if opt and (seg.startswith(opt + " ") or seg == opt)]
    if starts:
        return max(starts, key=lambda i: len(normed[i]))
    return None


def _unique_option_mentioned(text: str, options: Sequence[str]) -> int | None:
    seg = f" {_norm(text)} "
    normed = [_norm(str(opt)) for opt in options]
    found = [i for i, opt in enumerate(normed) if opt and f" {opt} " in seg]
    # Drop options whose text is part of another mentioned option ("cat" inside "black cat").
    found = [i for i in found if not any(j != i and normed[i] in normed[j] for j in found)]
    return found[0] if len(found) == 1 else None


def extract_choice(response: object, options: Sequence[str]) -> str | None:
    r"""The option letter a response chose, or ``None`` when it cannot be told.

    A letter is read only where it stands as an answer. Recognised, in order: the segment
    after the last answer marker ("The answer is (B)", "Answer: **B**", "answer is B.", "The
    answer is I believe (B)"), a final ``\\boxed{B}``, a response that opens with the letter
    ("B", "(B)", "B. text"), a stated choice ("I think it's B) because", "I'd go with C.",
    "(C) is correct"), a lone letter on the last line, the option's own text after a marker
    or as the whole reply, and a reply mentioning exactly one option text. "A" and "I" followed
    by a word are the article and the pronoun, not options.

    Args:
        response: The model's generation (any object; non-strings never raise).
        options: The option texts in order; option ``i`` has letter ``LETTERS[i]``.

    Returns:
        The chosen letter (``"A"``...), or ``None``.
    """
    text = as_text(response)
    n = max(1, min(len(options), len(LETTERS)))
    letters = LETTERS[:n]
    segment = after_last_marker(text)
    if segment is not None:
        letter = _letter_at_start(segment, letters, strict=True) or _delimited_letter(segment, letters)
        if letter:
            return letter
        index = _option_by_text(segment, options)
        if index is not None and index < n:
            return LETTERS[index]
        letter = _letter_at_start(segment, letters, strict=False)
        if letter:
            return letter
    for boxed in reversed(boxed_contents(text)):
        inner = re.sub(r"\\text\{([^}]*)\}", r"\1", boxed).strip()
        letter = _letter_at_start(inner, letters, strict=True)
        if letter:
            return letter
    letter = _letter_at_start(text, letters, strict=True) or _verdict_letter(text, letters)
    if letter:
        return letter
    lines = [ln for ln in text.strip().split("\n") if ln.strip()]
    if lines:
        last = re.fullmatch(_OPEN + r"([" + letters + r"])[\s\)\]\}\.:*\"'`]*", lines[-1])
        if last:
            return last.group(1)
    index = _option_by_text(text, options)
    if index is None:
        index = _unique_option_mentioned(text, options)
    if index is not None and index < n:
        return LETTERS[index]
    return None


def score_choice(response: object, gold: str, options: Sequence[str]) -> int:
    """1 when the response chose the gold letter, else 0.

    Args:
        response: The model's generation.
        gold: The gold letter (``"A"``...).
        options: The option texts in order.

    Returns:
        1 or 0.
    """
    return int(extract_choice(response, options) == str(gold).strip().upper())
