"""The one rule, shared by every matcher, for what of a reply is reasoning and what is the answer.

Reasoning models wrap their chain of thought in ``<think>...</think>`` (Qwen3, DeepSeek-R1,
QwQ; a few write ``<thinking>``). Only the text outside such blocks is the answer:

- every closed block is removed, wherever it stands;
- a closing tag with no opening one (the chat template put ``<think>`` in the prompt) ends
  the reasoning: only the text after the last closing tag is kept, as lm-eval's
  ``think_end_token`` does;
- an opening tag that is never closed (the token budget ran out mid-thought) starts
  reasoning that has no answer after it: the text from it to the end is dropped. A draft
  "The answer is A" inside unfinished thinking is not the model's answer. (lm-eval keeps
  the whole text in this case; scoring a draft would reward a reply that never answered.)
"""

from __future__ import annotations

import re

__all__ = ["strip_reasoning"]

_TAG = r"think(?:ing)?"
_BLOCK = re.compile(rf"<{_TAG}>.*?</{_TAG}>", re.IGNORECASE | re.DOTALL)
_CLOSE = re.compile(rf"</{_TAG}>", re.IGNORECASE)
_OPEN = re.compile(rf"<{_TAG}>", re.IGNORECASE)


def strip_reasoning(text: str) -> str:
    """The answer part of a reply: ``text`` without its reasoning blocks.

    Args:
        text: A model's reply.

    Returns:
        The reply with closed ``<think>`` blocks removed, cut after a stray closing tag and
        before an unclosed opening tag (see the module docstring), and stripped of the
        surrounding white space when something was removed; a reply without reasoning as is.
    """
    original = text
    text = _BLOCK.sub("\n", text)
    closes = list(_CLOSE.finditer(text))
    if closes:
        text = text[closes[-1].end() :]
    opened = _OPEN.search(text)
    if opened:
        text = text[: opened.start()]
    # The blank lines a removed block leaves are not part of the answer (IFEval counts them).
    return text.strip() if text != original else text
