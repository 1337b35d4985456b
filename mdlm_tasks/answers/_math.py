r"""Math answers: the final answer from ``\\boxed{}`` (or a marker, or the last number) and equivalence.

Equivalence is decided by ``math-verify`` when it is installed and does not raise; a
normalised string / number comparison is the fallback and the fast path.
"""

from __future__ import annotations

import re
from fractions import Fraction

from mdlm_tasks.answers._text import after_last_marker, as_text, boxed_contents, strip_emphasis

_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?(?:/\d+)?|-?\.\d+")
_UNITS_TEXT = re.compile(r"\\(?:text|textbf|mathrm|mbox)\s*\{([^{}]*)\}")
# A quantity: an optional currency sign, one number, optional unit words ("dollars", "eggs per
# day", "%"). A connective or math after the number ("3 and 4", "2 x 5", "2\\sqrt{2}", "6 - 2")
# means the text is more than a quantity.
_QUANTITY = re.compile(
    r"\s*(?P<currency>\\?\$|[€£¥₹]|(?:USD|Rs\.?)\s*)?\s*"
    r"(?P<number>-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:/\d+)?)"
)
_CONNECTIVE = r"(?:and|or|to|x|times|plus|minus|over|divided|by|because|since|which|so|as|is|are|than)\b"
_UNIT = re.compile(rf"\s*(?:\\?%|(?!{_CONNECTIVE})[^\W\d_][\w'’-]*(?:\s+(?!{_CONNECTIVE})[^\W\d_][\w'’-]*)*)")
# After a currency or a unit the quantity may go on with a clause: "18 dollars, since 9 x 2 = 18".
_CLAUSE = re.compile(r"\s*(?:[,;:(]|\.\s|\s[–—-]\s|(?:because|since|which|so|as|than|per)\b)", re.IGNORECASE)


def extract_math_answer(response: object) -> str | None:
    r"""The final answer a response gives.

    The last ``\boxed{}`` wins; otherwise the segment after the last answer marker
    ("The answer is 42."), reduced to its number when it is a quantity with a currency
    or a unit ("The answer is $1,234.50", "18 eggs per day"); otherwise the last number in
    the text, as lm-eval's GSM8K ``flexible-extract`` takes it.

    Args:
        response: The model's generation (non-strings never raise).

    Returns:
        The answer string, or ``None`` when nothing answer-like is present.
    """
    text = as_text(response)
    boxes = [b for b in boxed_contents(text) if b.strip()]
    if boxes:
        return boxes[-1].strip()
    segment = after_last_marker(text)
    if segment is not None:
        segment = strip_emphasis(segment).strip().rstrip(".").strip()
        inline = re.fullmatch(r"\$+(.+?)\$+", segment)
        if inline:
            return inline.group(1).strip()
        quantity = unit_number(segment)
        if quantity is not None:
            return quantity
        if segment:
            return segment
    numbers = _NUMBER.findall(text)
    return numbers[-1] if numbers else None


def unit_number(text: str) -> str | None:
    """The number of a quantity written with a currency or unit ("$18", "18 dollars", "25%").

    Args:
        text: An answer segment.

    Returns:
        The number as written (commas kept), or ``None`` when ``text`` is not one quantity.
    """
    text = _UNITS_TEXT.sub(r" \1", strip_emphasis(text)).strip().rstrip(".")
    match = _QUANTITY.match(text)
    if not match:
        return None
    rest = text[match.end() :]
    unit = _UNIT.match(rest)
    if unit and not rest[: unit.end()].strip():  # the unit must follow at once or after spaces
        unit = None
    if unit:
        rest = rest[unit.end() :]
    if not rest.strip() or ((match.group("currency") or unit) and _CLAUSE.match(rest)):
        return match.group("number")
    return None


def gsm8k_gold(answer: str) -> str:
    """The number after ``####`` in a GSM8K-style solution, commas removed.

    Args:
        answer: The dataset's full solution text.

    Returns:
        The final answer string (the whole text, stripped, when it has no ``####``).
    """
    final = answer.split("####")[-1]
    return final.replace(",", "").strip()


def normalize_math(answer: str) -> str:
    r"""A canonical string form: no dollars, spaces, ``\\left``/``\\right``, text wrappers, trailing dot.

    Args:
        answer: An answer string.

    Returns:
        The normalised string.
    """
    s = str(answer).strip()
    s = _UNITS_TEXT.sub(r"\1", s)
    for old, new in (
        ("\\left", ""),
        ("\\right", ""),
        ("\\!", ""),
        ("\\,", ""),
        ("\\;", ""),
        ("\\dfrac", "\\frac"),
        ("\\tfrac", "\\frac"),
        ("^\\circ", ""),
        ("^{\\circ}", ""),
        ("\\%", ""),
        ("%", ""),
        ("$", ""),
    ):
        s = s.replace(old, new)
    s = re.sub(r"\s+", "", s).rstrip(".")
    if re.fullmatch(r"-?\d{1,3}(,\d{3})+(\.\d+)?", s):
        s = s.replace(",", "")
    return s


def _as_number(answer: str) -> Fraction | None:
    s = normalize_math(answer)
    s = re.sub(r"^[a-zA-Z]\s*=", "", s)  # "x=3"
    quantity = unit_number(str(answer))  # "\\$18.00", "18 \\text{ eggs}"
    if quantity is not None and not re.fullmatch(r"-?\d+(\.\d+)?(/\d+)?|-?\.\d+", s):
        s = quantity.replace(",", "")
    frac = re.fullmatch(r"(-?)\\frac\{(-?\d+)\}\{(-?\d+)\}", s) or re.fullmatch(r"(-?)\\frac(\d)(\d)", s)
    try:
        if frac:
            value = Fraction(int(frac.group(2)), int(frac.group(3)))
            return -value if frac.group(1) else value
        if re.fullmatch(r"-?\d+(\.\d+)?(/\d+)?|-?\.\d+", s):
            return Fraction(s)
    except (ValueError, ZeroDivisionError):
        return None
    return None


def _math_verify_equal(pred: str, gold: str) -> bool | None:
    try:
        from math_verify import parse, verify
    except ImportError:  # optional dependency: the string / number compare decides alone
        return None
    try:
        gold_parsed = parse(f"${gold}$")
        pred_parsed = parse(f"${pred}$")
        if not gold_parsed or not pred_parsed:
            return None
        return bool(verify(gold_parsed, pred_parsed))
    except Exception:  # math-verify may raise anything on odd input: fall back
        return None


def math_equal(pred: str | None, gold: str) -> bool:
    """Whether two final answers are mathematically the same.

    Args:
        pred: The extracted prediction (``None`` is never equal).
        gold: The gold answer.

    Returns:
        True when the normalised strings match, the numbers are equal, or math-verify says so.
    """
    if pred is None or not str(pred).strip():
        return False
    if normalize_math(pred) == normalize_math(gold):
        return True
    pred_num, gold_num = _as_number(pred), _as_number(gold)
    if pred_num is not None and gold_num is not None:
        if pred_num == gold_num:
            return True
        # A decimal approximation with at least 3 places ("0.333") matches the gold rounded to as many places.
        decimals = re.search(r"\.(\d+)$", normalize_math(pred))
        if decimals and len(decimals.group(1)) >= 3:
            places = len(decimals.group(1))
            return round(pred_num, places) == round(gold_num, places)
        return False
    verdict = _math_verify_equal(str(pred), str(gold))
    return bool(verdict)


def score_math(response: object, gold: str) -> int:
    """1 when the response's final answer equals ``gold``, else 0.

    Args:
        response: The model's generation.
        gold: The gold final answer.

    Returns:
        1 or 0.
    """
    return int(math_equal(extract_math_answer(response), str(gold)))
