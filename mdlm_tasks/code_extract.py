"""Pull the program out of a model's answer (fenced code blocks, or bare code)."""

from __future__ import annotations

import re

from mdlm_tasks.answers import strip_reasoning

__all__ = ["defines", "extract_code", "import_lines"]

_FENCE = re.compile(
    r"^[ \t]*```[ \t]*([\w+#.-]*)[^\n]*\n(.*?)(?:(^[ \t]*```)|\Z)", re.DOTALL | re.MULTILINE
)
_ALIASES = {
    "python": {"python", "py", "python3"},
    "cpp": {"cpp", "c++", "cc", "cxx", "c"},
    "javascript": {"javascript", "js", "node"},
    "sql": {"sql", "sqlite"},
}
# How a definition of NAME starts, per language (a declaration without a body does not count in C++).
_DEFINITION = {
    "python": r"^[ \t]*(?:async[ \t]+)?(?:def|class)[ \t]+{name}\b|^{name}[ \t]*=",
    "cpp": r"\b{name}\s*\([^;{{}}]*\)\s*(?:const\s*)?(?:noexcept\s*)?\{{",
    "javascript": r"\bfunction\s*\*?\s*{name}\s*\(|\b(?:const|let|var)\s+{name}\s*=",
}


def defines(code: str, name: str, language: str = "python") -> bool:
    """Tell whether ``code`` defines the function (or, in Python, class) ``name``."""
    pattern = _DEFINITION.get(language, _DEFINITION["python"]).format(name=re.escape(name))
    return re.search(pattern, code, re.MULTILINE) is not None


def extract_code(text: str, language: str = "python", entry_point: str | None = None) -> str:
    """Return the code of a model answer.

    With ``entry_point``, the last complete fenced block (closed, tagged with ``language`` or
    one of its aliases, or untagged) that defines it wins: chat models often show a first
    attempt and then a corrected one, or the function followed by a usage example. Otherwise,
    or when no such block exists, the first block tagged with ``language`` wins, then the
    first untagged block, then the first block of any tag. An opening fence with no closing
    fence (a truncated answer) runs to the end of the text. An answer with no fence at all is
    taken as bare code. Reasoning (``<think>...</think>``) is dropped first, as every matcher does.

    Args:
        text: The model's answer.
        language: ``python``, ``cpp``, ``javascript`` or ``sql``.
        entry_point: Name of the function (or class) the task calls, if any.

    Returns:
        The code, without the fences; an empty string for an empty answer.
    """
    text = strip_reasoning(text)
    blocks = [(m.group(1).lower(), m.group(2), m.group(3) is not None) for m in _FENCE.finditer(text)]
    if not blocks:
        return text.strip("\n")
    wanted = _ALIASES.get(language, {language})
    if entry_point:
        for tag, body, closed in reversed(blocks):
            if closed and tag in wanted | {""} and defines(body, entry_point, language):
                return body.rstrip()
    for tags in (wanted, {""}):
        for tag, body, _ in blocks:
            if tag in tags:
                return body.rstrip()
    return blocks[0][1].rstrip()


def import_lines(source: str) -> str:
    """Return the top-level ``import``/``from`` lines of Python ``source``, one per line."""
    lines = [line for line in source.splitlines() if re.match(r"(import|from)\s+\w", line)]
    return "\n".join(lines)
