"""Text clean-up shared by the answer matchers: reasoning blocks, markdown, answer markers."""

from __future__ import annotations

import re

from mdlm_tasks.answers._reasoning import strip_reasoning

# "The answer is", "the correct answer is:", "Final answer:", "Answer -", "答案是", "答案：".
# A bare "Option D:" is not a marker: chains of thought walk through the options that way.
_MARKER = re.compile(
    r"(?:(?:final|correct|best|right)\s+)?answer\s*(?:is|(?:would|should|must|might|will|seems\s+to)\s+be|:|：|-)\s*:?"
    r"|(?:final|correct|best|right)\s+(?:option|choice)\s*(?:is|would\s+be|should\s+be|:)\s*:?"
    r"|答案\s*(?:是|为|：|:)",
    re.IGNORECASE,
)
_EMPHASIS = re.compile(r"(\*\*|__|`)")


def as_text(response: object) -> str:
    """Return ``response`` as a string; ``None`` and non-strings never raise.

    Args:
        response: Whatever the model produced (normally a string).

    Returns:
        The text without its reasoning (:func:`strip_reasoning`).
    """
    if response is None:
        return ""
    return strip_reasoning(response if isinstance(response, str) else str(response))


def strip_emphasis(text: str) -> str:
    """Drop markdown emphasis and code ticks (``**B**`` -> ``B``)."""
    return _EMPHASIS.sub("", text)


def after_last_marker(text: str) -> str | None:
    """The text after the last answer marker ("The answer is", "Answer:"), up to the end of its line.

    Args:
        text: A cleaned model response.

    Returns:
        The segment after the marker, or ``None`` when the response has no marker or
        only an empty segment follows the last one.
    """
    matches = list(_MARKER.finditer(text))
    for match in reversed(matches):
        rest = text[match.end() :]
        line = rest.lstrip(" \t*_:").split("\n", 1)[0] if rest.strip(" \t*_:\n") else ""
        if not line.strip() and rest.strip():
            # "Answer:\n\nB" puts the answer on the next non-empty line.
            line = next((ln for ln in rest.split("\n") if ln.strip()), "")
        if line.strip():
            return line.strip()
    return None


def boxed_contents(text: str) -> list[str]:
    r"""Contents of every ``\boxed{...}`` / ``\fbox{...}`` in ``text``, braces balanced, in order.

    Args:
        text: Any string.

    Returns:
        The inner strings; unterminated boxes are ignored.
    """
    out: list[str] = []
    for match in re.finditer(r"\\(?:boxed|fbox)\s*\{", text):
        depth, start = 1, match.end()
        for pos in range(start, len(text)):
            char = text[pos]
            if char == "{":
                depth += 1
            elif char == "}":
                depth -= 1
                if depth == 0:
                    out.append(text[start:pos])
                    break
    return out
