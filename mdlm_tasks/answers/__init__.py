"""Answer matchers shared by every task of one answer type (multiple choice, math, short answer, yes/no).

Every matcher of the suite, function calls, IFEval and SQL included, reads a reply through
:func:`strip_reasoning`, the one rule for what is reasoning and what is the answer.
"""

from mdlm_tasks.answers._math import extract_math_answer, gsm8k_gold, math_equal, normalize_math, score_math
from mdlm_tasks.answers._multiple_choice import LETTERS, extract_choice, option_letter, score_choice
from mdlm_tasks.answers._reasoning import strip_reasoning
from mdlm_tasks.answers._short_answer import (
    exact_match,
    extract_short_answer,
    f1,
    normalize_answer,
    score_short_answer,
)
from mdlm_tasks.answers._yes_no import extract_yes_no, score_yes_no

__all__ = [
    "LETTERS",
    "exact_match",
    "extract_choice",
    "extract_math_answer",
    "extract_short_answer",
    "extract_yes_no",
    "f1",
    "gsm8k_gold",
    "math_equal",
    "normalize_answer",
    "normalize_math",
    "option_letter",
    "score_choice",
    "score_math",
    "score_short_answer",
    "score_yes_no",
    "strip_reasoning",
]
