"""The answer matchers on replies chat models really write: reasoning blocks, markdown, units, hedges.

Each case is a reply in the style of an instruction-tuned or reasoning model (Qwen3 and
DeepSeek-R1 ``<think>`` blocks, GPT-style markdown, Llama-style "The answer is ...") with the
verdict a reader would give it. The GSM8K cases are also run through lm-eval's own
``flexible-extract`` filter, read from its installed ``gsm8k.yaml``, so the number we read is
checked against the reference harness and not only against this file.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from mdlm_tasks.answers import extract_choice, extract_yes_no, score_math, strip_reasoning

# ---------------------------------------------------------------- reasoning blocks


@pytest.mark.parametrize(
    ("reply", "answer"),
    [
        ("<think>\nOkay, 9 * 2 = 18.\n</think>\n\nThe answer is 18.", "The answer is 18."),
        # Qwen3 / R1 chat templates put "<think>" in the prompt: the reply holds only the closing tag.
        ("Okay, let me see... 9 * 2 = 18.\n</think>\n\nThe answer is 18.", "The answer is 18."),
        ("<think>first</think>Answer: B<think>second thoughts</think>", "Answer: B"),
        ("<Think>Hmm.</Think>No.", "No."),
        ("<thinking>Draft: A.</thinking>\nThe answer is (C).", "The answer is (C)."),
        # Out of budget mid-thought: the draft inside is not an answer.
        ("<think>\nThe answer is probably A... wait, let me re-check", ""),
        ("The answer is B.\n<think>Let me double-check that", "The answer is B."),
        ("Plain reply, no reasoning.\n", "Plain reply, no reasoning.\n"),
    ],
)
def test_one_rule_keeps_only_the_answer(reply: str, answer: str) -> None:
    assert strip_reasoning(reply) == answer


def test_every_matcher_ignores_an_unfinished_thought() -> None:
    options = ["Paris", "London", "Rome", "Berlin"]
    assert extract_choice("<think>The answer is (A).", options) is None
    assert extract_yes_no("<think>So the answer is yes.") is None
    assert score_math("<think>9 * 2 = 18, so \\boxed{18}", "18") == 0
    assert score_math("<think>9 * 2 = 20?</think>\n9 * 2 = 18, so \\boxed{18}", "18") == 1


# ---------------------------------------------------------------- numbers with units and currency

GSM8K_REPLIES = [
    # (reply, gold, right?)
    ("Janet sells 16 - 3 - 4 = 9 eggs and makes 9 * 2 = 18 dollars.\nThe answer is 18 dollars.", "18", True),
    ("18 eggs", "18", True),
    ("She has 9 eggs left, and each sells for $2.\n\n**Answer:** $18", "18", True),
    ("The total cost is 1,234.50 dollars.\nThe answer is $1,234.50.", "1234.5", True),
    ("20 x 1,100 = 22,000. The answer is $22,000.", "22000", True),
    ("Half of 36 is 18, so 18% of the class.\nThe answer is 18%.", "18", True),
    ("Final Answer: The final answer is $18$. I hope it is correct.", "18", True),
    ("#### 18", "18", True),
    ("So he needs 7 more boxes.\n\nThe answer is: 7 boxes", "7", True),
    ("The answer is 20 dollars.", "18", False),
    ("The answer is 18 eggs.", "9", False),
]


def _lm_eval_gsm8k_flexible(reply: str) -> str:
    """What lm-eval's gsm8k ``flexible-extract`` filter and its exact_match normalisation make of ``reply``."""
    import lm_eval
    from lm_eval.filters.extraction import RegexFilter

    config = yaml.safe_load((Path(lm_eval.__file__).parent / "tasks" / "gsm8k" / "gsm8k.yaml").read_text())
    flexible = next(f for f in config["filter_list"] if f["name"] == "flexible-extract")["filter"][0]
    regex = RegexFilter(regex_pattern=flexible["regex_pattern"], group_select=flexible["group_select"])
    (answer,), = regex.apply([[reply]], [{}])
    for pattern in config["metric_list"][0]["regexes_to_ignore"]:
        answer = re.sub(pattern, "", answer)
    return answer.strip()


@pytest.mark.parametrize(("reply", "gold", "right"), GSM8K_REPLIES)
def test_gsm8k_quantities_agree_with_lm_evals_flexible_extract(reply: str, gold: str, right: bool) -> None:
    assert score_math(reply, gold) == int(right)
    assert (float(_lm_eval_gsm8k_flexible(reply)) == float(gold)) is right


@pytest.mark.parametrize(
    ("reply", "gold", "right"),
    [
        # The stated answer wins over a later number, where lm-eval's "last number" takes the later one.
        ("The answer is 18 dollars, not 20 as I first thought.", "18", True),
        ("The answer is 18 eggs per day (16 - 3 - 4 = 9 eggs at $2).", "18", True),
        ("\\boxed{18 \\text{ dollars}}", "18", True),
        ("The answer is \\$18.00.", "18", True),
        ("The answer is €5 each, so 10 in total.", "5", True),
        # Not a quantity: math after the number stays math.
        ("The answer is 6 - 2.", "6", False),
        ("The answer is 2\\sqrt{2}.", "2", False),
        ("The answer is 3, 4.", "3", False),
        ("The answer is 5 hours and 30 minutes.", "5", False),
    ],
)
def test_quantities_beyond_gsm8k(reply: str, gold: str, right: bool) -> None:
    assert score_math(reply, gold) == int(right)


# ---------------------------------------------------------------- letters (MMLU-Pro, options A-J)

TEN = [f"option text {i}" for i in range(9)] + ["Paris"]


@pytest.mark.parametrize(
    ("reply", "letter"),
    [
        ("The answer is I believe (B)", "B"),
        ("Answer: (C)", "C"),
        ("**C**", "C"),
        ("The correct option is C.", "C"),
        ("I think it's B) because the other options contradict the passage.", "B"),
        ("C. Paris", "C"),
        ("J. Paris", "J"),
        ("Let's check each option.\nA. Wrong: ...\nB. Wrong: ...\n\nThe answer is (I).", "I"),
        ("The answer is I.", "I"),
        ("Answer: I", "I"),
        ("The answer is: **(D) option text 3**", "D"),
        ("Therefore, the answer is $\\boxed{E}$.", "E"),
        ("**Answer: F**", "F"),
        ("I'd go with (G).", "G"),
        ("I'll pick H.", "H"),
        ("After weighing them, (B) is correct.", "B"),
        ("Option D is the right one.", "D"),
        ("I think the answer might be (A).", "A"),
        ("The answer is A because the definition says so.", "A"),
        ("<think>The answer is A.</think>\n\nThe answer is (C).", "C"),
        ("Looking at it again, the answer is Paris.", "J"),
    ],
)
def test_letter_read_from_answer_shaped_text(reply: str, letter: str) -> None:
    assert extract_choice(reply, TEN) == letter


@pytest.mark.parametrize(
    "reply",
    [
        "I am not sure which one it is.",
        "I believe it depends on the context.",
        "A good case can be made for several options.",
        "The answer is a matter of interpretation.",
        "The answer is I think unclear.",
        "<think>The answer is (B).",
    ],
)
def test_pronoun_and_article_are_not_letters(reply: str) -> None:
    assert extract_choice(reply, TEN) is None


# ---------------------------------------------------------------- yes / no verdicts (BoolQ, StrategyQA)


@pytest.mark.parametrize(
    ("reply", "said"),
    [
        ("Based on the passage, no.", False),
        ("Not necessarily; the passage only says some states allow it.", False),
        ("Not really. The passage describes it as rare.", False),
        ("No, ethanol production does not take more energy than it produces.", False),
        ("**No.** The passage states that the show was cancelled.", False),
        ("Yes — the passage says the Sun is a star.", True),
        ("Yes it does, according to the second sentence.", True),
        ("The passage says it is allowed, so yes.", True),
        ("The passage says it was cancelled in 2019; so, no.", False),
        ("Probably not.", False),
        ("Most likely, yes.", True),
        ("I would say no.", False),
        ("Definitely not.", False),
        ("Of course not.", False),
        ("The answer is not necessarily.", False),
        ("The answer is yes, but only in some states.", True),
        ("<think>Maybe yes? The passage...</think>\nNo.", False),
        ("Certainly! Let me read the passage.\nThe passage says it was renewed. The answer is yes.", True),
        ("True.", True),
    ],
)
def test_yes_no_read_from_the_verdict(reply: str, said: bool) -> None:
    assert extract_yes_no(reply) is said


@pytest.mark.parametrize(
    "reply",
    [
        "It depends on the state.",
        "No doubt the passage is about Texas law.",
        "No one in the passage mentions it.",
        "The passage does not say.",
        "<think>The answer is yes",
        "Certainly! Let me read the passage first.",
    ],
)
def test_no_verdict_is_none(reply: str) -> None:
    assert extract_yes_no(reply) is None
