"""Yes / no answers (also true / false), read from the reply's verdict.

A verdict is a yes/no word or phrase that stands as an answer: right after the last answer
marker ("The answer is no"), opening the reply ("No, because ...", "Not necessarily; ..."),
or as a whole clause ("Based on the passage, no.", "So, yes."). Hedged verdicts count as the
verdict they hedge ("Probably not." is no, "Most likely, yes." is yes). "Not necessarily" and
"not really" are read as no: a yes/no question asks whether a statement holds, and these
deny that it does.
"""

from __future__ import annotations

import re

from mdlm_tasks.answers._text import after_last_marker, as_text, strip_emphasis

# Longer phrases first, so that "of course not" is not read as "of course".
_NO = (
    r"not\s+(?:necessarily|really|exactly|quite|at\s+all|always|entirely)"
    r"|(?:definitely|certainly|absolutely|probably|likely|of\s+course|surely)\s+not"
    # "No doubt ...", "No one ...": "no" as a determiner is not a verdict.
    r"|no(?!\s+(?:doubt|one|longer|matter|way|less|more|idea|need|evidence|mention|information)\b)"
    r"|nope|false|incorrect"
)
_YES = r"yes|yeah|yep|true|correct"
_VERDICT = rf"(?P<no>{_NO})|(?P<yes>{_YES})"
_HEDGE = r"(?:(?:most\s+)?(?:probably|likely|possibly)|i\s+(?:think|believe|would\s+say)|i'd\s+say)"
_LEAD = rf"(?:{_HEDGE}|so|thus|therefore|hence)"
# Anywhere after a marker: the first verdict word.
_IN_SEGMENT = re.compile(rf"\b(?:{_VERDICT})\b", re.IGNORECASE)
# Opening the reply, after optional punctuation and a hedge.
_OPENING = re.compile(rf"[\s\W]*(?:{_HEDGE}[\s,:]+)?(?:{_VERDICT})\b", re.IGNORECASE)
# A whole clause: after the start, a clause break or a hedge; before a clause break or the end.
_CLAUSE = re.compile(
    rf"(?:^|[.,;:!?\n—–(]|\b{_LEAD})\s*(?:{_VERDICT})(?=\s*(?:[.,;:!?\n—–)]|$))",
    re.IGNORECASE,
)


def _said(match: re.Match[str] | None) -> bool | None:
    if match is None:
        return None
    return match.group("yes") is not None


def extract_yes_no(response: object) -> bool | None:
    """Whether a response says yes (True), no (False), or neither (None).

    Looked for, in order: the first verdict after the last answer marker ("The answer is
    no"), the verdict the reply opens with ("Yes, because ...", "Not necessarily; ..."),
    the last verdict standing as a whole clause ("Based on the passage, no.").

    Args:
        response: The model's generation (non-strings never raise).

    Returns:
        True, False or None.
    """
    text = strip_emphasis(as_text(response))
    segment = after_last_marker(text)
    if segment is not None:
        said = _said(_IN_SEGMENT.search(segment))
        if said is not None:
            return said
    said = _said(_OPENING.match(text))
    if said is not None:
        return said
    clauses = list(_CLAUSE.finditer(text.strip()))
    return _said(clauses[-1]) if clauses else None


def score_yes_no(response: object, gold: bool) -> int:
    """1 when the response's yes/no equals ``gold``, else 0 (no answer scores 0).

    Args:
        response: The model's generation.
        gold: True for yes, False for no.

    Returns:
        1 or 0.
    """
    said = extract_yes_no(response)
    return int(said is not None and said == bool(gold))
