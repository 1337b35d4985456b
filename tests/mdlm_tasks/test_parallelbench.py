"""mdlm_parallelbench: pinned data, ParallelBench's prompt format, and its scorer's verdicts.

The verdicts in fixtures/parallelbench_verdicts.json were produced by ParallelBench's own metric
functions (tools/pb_verdicts.py); our scorer is an independent re-implementation and must agree
with every one of them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mdlm_tasks.parallelbench import gold_text, load_items, messages, pb_score, pb_tasks, read_list, source

VERDICTS = json.loads((Path(__file__).parent / "fixtures" / "parallelbench_verdicts.json").read_text(encoding="utf-8"))
TASKS = sorted(pb_tasks())
SCORED = [t for t in TASKS if "words_to_sentence" not in t]


def test_pinned_source_and_shape() -> None:
    repo, commit = source()
    assert repo == "furiosa-ai/ParallelBench" and commit.startswith("72de8f7") and len(commit) == 40
    assert VERDICTS["commit"] == commit
    assert len(TASKS) == 14
    for name in TASKS:
        task = pb_tasks()[name]
        items = load_items(task)  # checks the sha256 of the file's bytes
        assert len(items) == task.items == 100
        if task.name.startswith("waiting_line/"):
            lengths = [it["metadata"]["length"] for it in items]
            assert {n: lengths.count(n) for n in set(lengths)} == {3: 25, 4: 25, 5: 25, 6: 25}
            assert task.max_tokens == 32
        else:
            assert task.max_tokens == 64


def test_a_changed_byte_is_refused() -> None:
    import dataclasses

    task = dataclasses.replace(pb_tasks()["mdlm_parallelbench_copy"], sha256="0" * 64)
    with pytest.raises(ValueError, match="sha256"):
        load_items(task)


@pytest.mark.parametrize("name", SCORED)
def test_every_gold_answer_gets_parallelbench_verdict(name: str) -> None:
    task = pb_tasks()[name]
    expected = VERDICTS["tasks"][name]["gold_all"]
    got = [pb_score(task.metric, gold_text(it["answer"]), it["answer"]) for it in load_items(task)]
    assert [[g["score"], g["score_strict"]] for g in got] == expected
    assert all(pair == [1.0, 1.0] for pair in expected)  # ParallelBench's scorer accepts each of its golds


@pytest.mark.parametrize("name", TASKS)
def test_wrong_and_variant_replies_get_parallelbench_verdicts(name: str) -> None:
    task = pb_tasks()[name]
    items = load_items(task)
    cases = VERDICTS["tasks"][name]["cases"]
    assert len(cases) >= 15
    for case in cases:
        got = pb_score(task.metric, case["reply"], items[case["item"]]["answer"])
        want = {k: case[k] for k in ("score", "score_strict", "inclusion_score") if k in case}
        assert got == want, (case["kind"], case["reply"], got, want)


def test_verdicts_cover_the_known_differences_from_mdlm_pb() -> None:
    """The format slips our mdlm_pb_* scorers forgive and ParallelBench does not (issue 19)."""
    by_kind = {c["kind"]: c for c in VERDICTS["tasks"]["mdlm_parallelbench_copy"]["cases"] if c["item"] == 0}
    assert by_kind["lowercase"]["score"] == 0.0
    assert by_kind["numbered lines"]["score"] == 0.0
    assert by_kind["plain names (mdlm_pb style)"] == {
        **by_kind["plain names (mdlm_pb style)"],
        "score": 1.0,
        "score_strict": 0.0,
    }
    latin = {c["kind"]: c for c in VERDICTS["tasks"]["mdlm_parallelbench_latin_square_n4"]["cases"]}
    assert latin["no commas (mdlm_pb style)"]["score"] == 0.0


def test_read_list_rules_by_hand() -> None:
    assert read_list('Sure! ["Ann Lee", "Bo Ray"]') == ["Ann Lee", "Bo Ray"]
    assert read_list('[1] then ["A", "B"]') == ["A", "B"]  # the last "[" wins
    assert read_list("Ann Lee, Bo Ray") == ["Ann Lee", "Bo Ray"]
    assert read_list("Ann Lee, Bo Ray", strict=True) is None
    assert read_list('["A","B"]', strict=True) is None  # strict needs ", " between items
    assert read_list('["A", B]', strict=True) is None
    assert read_list('["A", "B"', strict=True) is None


def _chat(name: str, index: int = 0) -> list[dict[str, str]]:
    task = pb_tasks()[name]
    return messages(task, load_items(task)[index])


def test_worked_example_is_an_earlier_chat_turn() -> None:
    chat = _chat("mdlm_parallelbench_insert_index")
    assert [m["role"] for m in chat] == ["user", "assistant", "user"]
    assert chat[0]["content"].startswith("You are managing a waiting line at a customer service desk.\n")
    assert 'position 0:\n["Laura Brown", "Joseph Parker", "Roger Reyes"]\n' in chat[0]["content"]
    assert chat[1]["content"] == '["Steven Edwards", "Laura Brown", "Joseph Parker", "Roger Reyes"]'
    assert '"Aaron Stewart" is inserted into the line at position 2:' in chat[2]["content"]
    latin = _chat("mdlm_parallelbench_latin_square_n4")
    assert latin[-1]["content"] == (
        "Generate a Latin square of size 4 with the symbols [H, 4, C, A]. Only output the final result as CSV."
    )
    assert latin[1]["content"] == "7,K,B,A\nB,A,K,7\nK,7,A,B\nA,B,7,K"
    words = _chat("mdlm_parallelbench_words_to_sentence_easy")
    assert words == [
        {"role": "user", "content": "Construct a single, coherent sentence using the words dog, park, ball, and throw."}
    ]


def test_sort_gold_is_by_full_string_as_in_parallelbench() -> None:
    task = pb_tasks()["mdlm_parallelbench_sort"]
    for item in load_items(task):
        names = json.loads(item["input"]["context"])
        assert json.loads(item["answer"]) == sorted(names)


def _echo_gold_lm(chats: list[str]) -> Any:
    """A stand-in chat model: records each context, replies with the item's gold text."""
    from lm_eval.api.model import LM

    golds = {}
    for name in TASKS:
        task = pb_tasks()[name]
        for item in load_items(task):
            golds[messages(task, item)[-1]["content"]] = gold_text(item["answer"])

    class Echo(LM):
        tokenizer_name = "echo"

        def apply_chat_template(self, chat_history: list[dict[str, str]], add_generation_prompt: bool = True) -> str:
            return json.dumps(chat_history)

        def generate_until(self, requests: list[Any], disable_tqdm: bool = False) -> list[str]:
            out = []
            for r in requests:
                chats.append(r.args[0])
                last = json.loads(r.args[0])[-1]["content"] if r.args[0].startswith("[") else None
                out.append(golds.get(last, ""))
            return out

        def loglikelihood(self, requests: list[Any], disable_tqdm: bool = False) -> list[Any]:
            raise NotImplementedError

        def loglikelihood_rolling(self, requests: list[Any], disable_tqdm: bool = False) -> list[Any]:
            raise NotImplementedError

    return Echo()


def test_group_through_lm_eval_with_a_chat_template(task_manager: Any) -> None:
    from lm_eval import evaluator

    chats: list[str] = []
    lm = _echo_gold_lm(chats)
    task_dict = task_manager.load(["mdlm_parallelbench"])
    out = evaluator.evaluate(lm=lm, task_dict=task_dict, bootstrap_iters=0, apply_chat_template=True, limit=4)
    results = out["results"]
    for name in SCORED:
        assert results[name]["score,none"] == 1.0 and results[name]["score_strict,none"] == 1.0, name
    assert results["mdlm_parallelbench"]["score,none"] == 1.0
    # only the first item of words-to-sentence carries an example sentence, and it holds every word
    assert results["mdlm_parallelbench_words_to_sentence_easy"]["inclusion_score,none"] == 0.25
    sent = [json.loads(c) for c in chats]
    assert any(len(c) == 3 and c[1]["role"] == "assistant" for c in sent)
    assert len(sent) == 14 * 4
    budgets = {name: task_dict["tasks"][name].config.generation_kwargs["max_gen_toks"] for name in TASKS}
    assert budgets == {name: pb_tasks()[name].max_tokens for name in TASKS}


def test_plain_context_without_chat_template(task_manager: Any) -> None:
    task = task_manager.load(["mdlm_parallelbench_copy"])["tasks"]["mdlm_parallelbench_copy"]
    doc = task.test_docs()[0]
    ctx = task.fewshot_context(doc, 0)
    user1, answer1, user2 = (m["content"] for m in doc["messages"])
    assert ctx == f"{user1.rstrip()}\n\n{answer1}\n\n{user2.rstrip()}\n"
    assert task.config.generation_kwargs["max_gen_toks"] == 32
    assert task.config.generation_kwargs["until"] == []
