"""mdlm_parallelbench: pinned data, ParallelBench's prompt format, and its scorer's verdicts.

The package ships none of ParallelBench's data (its repository has no licence). The tests use
fixtures/parallelbench_items.json: real items of each of the 14 pinned files (the first three and
one per list length, lines copied byte for byte by tools/pin_parallelbench.py from commit 72de8f7).
``pb_clone`` writes them as a ParallelBench checkout holding only those lines and tells the
loader their sha256, so loading runs the production path (checkout variable, sha256 check) offline.
The verdicts in fixtures/parallelbench_verdicts.json were produced by ParallelBench's own metric
functions (tools/pb_verdicts.py) on those items; our scorer is an independent re-implementation and
must agree with every one of them.
"""

from __future__ import annotations

import copy
import hashlib
import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mdlm_tasks.parallelbench import (
    DIR_ENV,
    gold_text,
    load_items,
    messages,
    pb_score,
    pb_tasks,
    read_list,
    source,
)
from mdlm_tasks.parallelbench import _data as pb_data

FIXTURES = Path(__file__).parent / "fixtures"
VERDICTS = json.loads((FIXTURES / "parallelbench_verdicts.json").read_text(encoding="utf-8"))
ITEMS = json.loads((FIXTURES / "parallelbench_items.json").read_text(encoding="utf-8"))
TASKS = sorted(pb_tasks())
SCORED = [t for t in TASKS if "words_to_sentence" not in t]


def _file_bytes(pb_name: str) -> bytes:
    """The fixture's lines of one ParallelBench task as a JSONL file (each line newline-terminated, as there)."""
    return "".join(line + "\n" for line in ITEMS["tasks"][pb_name]["lines"]).encode("utf-8")


@pytest.fixture
def pb_clone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A ParallelBench checkout holding only the fixture's lines, with the loader told their sha256."""
    meta = copy.deepcopy(pb_data._meta())
    for pb_name, spec in meta["tasks"].items():
        raw = _file_bytes(pb_name)
        target = tmp_path / "ParallelBench" / spec["path"]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(raw)
        spec["sha256"], spec["items"] = hashlib.sha256(raw).hexdigest(), raw.count(b"\n")
    monkeypatch.setenv(DIR_ENV, str(tmp_path / "ParallelBench"))
    monkeypatch.setattr(pb_data, "_meta", lambda: meta)
    pb_data.pb_tasks.cache_clear()
    yield tmp_path / "ParallelBench"
    pb_data.pb_tasks.cache_clear()


def _indexed(name: str) -> list[tuple[int, dict[str, Any]]]:
    """(0-based position in ParallelBench's file, item) of the fixture's items of one task, via the loader."""
    task = pb_tasks()[name]
    return list(zip(ITEMS["tasks"][task.name]["index"], load_items(task), strict=True))


def test_pinned_source_and_budgets() -> None:
    repo, commit = source()
    assert repo == "furiosa-ai/ParallelBench" and commit.startswith("72de8f7") and len(commit) == 40
    assert VERDICTS["commit"] == ITEMS["commit"] == commit
    assert len(TASKS) == 14
    for name in TASKS:
        task = pb_tasks()[name]
        assert task.items == 100 and len(task.sha256) == 64
        assert task.path == f"dataset/parallel_bench/data/output/test/{task.name}.jsonl"
        assert task.max_tokens == (32 if task.name.startswith("waiting_line/") else 64)


def test_files_are_fetched_from_the_pinned_commit() -> None:
    task = pb_tasks()["mdlm_parallelbench_copy"]
    assert pb_data.pin().url(task.path) == (
        "https://raw.githubusercontent.com/furiosa-ai/ParallelBench/72de8f73246ae5b7c742c7eeae9a9853a90084ac/"
        "dataset/parallel_bench/data/output/test/waiting_line/copy.jsonl"
    )


def test_package_ships_no_parallelbench_data() -> None:
    shipped = Path(pb_data.__file__).parent / "data"
    assert sorted(p.name for p in shipped.iterdir()) == ["SOURCE.md", "tasks.json"]


@pytest.mark.usefixtures("pb_clone")
def test_fixture_items_load_from_a_checkout_in_file_order() -> None:
    for name in TASKS:
        task = pb_tasks()[name]
        indexed = _indexed(name)  # load_items checks the sha256 of the file's bytes
        assert [i for i, _ in indexed] == [0, 1, 2, 26, 53, 99]
        if task.name.startswith("waiting_line/"):
            # ParallelBench's files hold 25 items per list length 3-6, in that order
            assert [it["metadata"]["length"] for _, it in indexed] == [3 + i // 25 for i, _ in indexed]
            assert [len(json.loads(it["input"]["context"])) for _, it in indexed] == [3 + i // 25 for i, _ in indexed]


def test_a_changed_byte_is_refused(pb_clone: Path) -> None:
    task = pb_tasks()["mdlm_parallelbench_copy"]
    path = pb_clone / task.path
    path.write_bytes(path.read_bytes()[:-1] + b" \n")  # still valid JSON lines: only the sha256 can tell
    with pytest.raises(ValueError, match="SHA-256"):
        load_items(task)


def test_a_checkout_without_the_file_says_so(pb_clone: Path) -> None:
    task = pb_tasks()["mdlm_parallelbench_sort"]
    (pb_clone / task.path).unlink()
    with pytest.raises(FileNotFoundError, match=DIR_ENV):
        load_items(task)


class _Response:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def __enter__(self) -> _Response:
        return self

    def __exit__(self, *_: Any) -> None:
        return None

    def read(self) -> bytes:
        return self.data


def test_download_is_checked_then_cached(
    pb_clone: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    task = pb_tasks()["mdlm_parallelbench_reverse"]
    served = (pb_clone / task.path).read_bytes()
    fetched: list[str] = []

    def serve(url: str, timeout: float) -> _Response:
        fetched.append(url)
        return _Response(served)

    monkeypatch.delenv(DIR_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(urllib.request, "urlopen", serve)
    served = served[:-1] + b" \n"  # a corrupted download is refused and not cached
    with pytest.raises(ValueError, match="SHA-256"):
        load_items(task)
    assert not pb_data.pin().cache_path(task.path).exists()
    served = (pb_clone / task.path).read_bytes()
    first = load_items(task)
    assert fetched == [pb_data.pin().url(task.path)] * 2
    assert pb_data.pin().cache_path(task.path).read_bytes() == served
    assert load_items(task) == first and len(fetched) == 2  # the second read comes from the cache


def test_offline_without_cache_or_checkout_says_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def offline(*_: Any, **__: Any) -> None:
        raise OSError("no network")

    monkeypatch.delenv(DIR_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(urllib.request, "urlopen", offline)
    task = pb_tasks()["mdlm_parallelbench_copy"]
    with pytest.raises(FileNotFoundError) as error:
        load_items(task)
    message = str(error.value)
    for needed in (pb_data.pin().url(task.path), DIR_ENV, "https://github.com/furiosa-ai/ParallelBench",
                   source()[1], "network access", str(tmp_path)):
        assert needed in message, needed


@pytest.mark.usefixtures("pb_clone")
@pytest.mark.parametrize("name", SCORED)
def test_every_gold_answer_gets_parallelbench_verdict(name: str) -> None:
    task = pb_tasks()[name]
    expected = VERDICTS["tasks"][name]["gold"]
    indexed = _indexed(name)
    assert sorted(expected, key=int) == [str(i) for i, _ in indexed]
    for i, item in indexed:
        got = pb_score(task.metric, gold_text(item["answer"]), item["answer"])
        assert [got["score"], got["score_strict"]] == expected[str(i)], i
        assert expected[str(i)] == [1.0, 1.0]  # ParallelBench's scorer accepts each of its golds


@pytest.mark.usefixtures("pb_clone")
@pytest.mark.parametrize("name", TASKS)
def test_wrong_and_variant_replies_get_parallelbench_verdicts(name: str) -> None:
    task = pb_tasks()[name]
    items = dict(_indexed(name))
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
    return messages(pb_tasks()[name], dict(_indexed(name))[index])


@pytest.mark.usefixtures("pb_clone")
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


@pytest.mark.usefixtures("pb_clone")
def test_sort_gold_is_by_full_string_as_in_parallelbench() -> None:
    by_last = 0
    for _, item in _indexed("mdlm_parallelbench_sort"):
        names = json.loads(item["input"]["context"])
        assert json.loads(item["answer"]) == sorted(names)
        by_last += sorted(names) != sorted(names, key=lambda n: (n.split()[-1], n))
    assert by_last > 0  # the fixture holds items where the two orders differ


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


@pytest.mark.usefixtures("pb_clone")
def test_group_through_lm_eval_with_a_chat_template(task_manager: Any) -> None:
    from lm_eval import evaluator

    chats: list[str] = []
    lm = _echo_gold_lm(chats)
    task_dict = task_manager.load(["mdlm_parallelbench"])
    out = evaluator.evaluate(lm=lm, task_dict=task_dict, bootstrap_iters=0, apply_chat_template=True)
    results = out["results"]
    for name in SCORED:
        assert results[name]["score,none"] == 1.0 and results[name]["score_strict,none"] == 1.0, name
    assert results["mdlm_parallelbench"]["score,none"] == 1.0
    # of the fixture's six items only the first carries an example sentence, and it holds every word
    assert results["mdlm_parallelbench_words_to_sentence_easy"]["inclusion_score,none"] == pytest.approx(1 / 6)
    sent = [json.loads(c) for c in chats]
    assert any(len(c) == 3 and c[1]["role"] == "assistant" for c in sent)
    assert len(sent) == 14 * 6
    expected = [messages(pb_tasks()[name], item) for name in TASKS for _, item in _indexed(name)]
    assert sorted(map(json.dumps, sent)) == sorted(map(json.dumps, expected))  # each fixture item once, as its chat
    budgets = {name: task_dict["tasks"][name].config.generation_kwargs["max_gen_toks"] for name in TASKS}
    assert budgets == {name: pb_tasks()[name].max_tokens for name in TASKS}


@pytest.mark.usefixtures("pb_clone")
def test_plain_context_without_chat_template(task_manager: Any) -> None:
    task = task_manager.load(["mdlm_parallelbench_copy"])["tasks"]["mdlm_parallelbench_copy"]
    doc = task.test_docs()[0]
    ctx = task.fewshot_context(doc, 0)
    user1, answer1, user2 = (m["content"] for m in doc["messages"])
    assert ctx == f"{user1.rstrip()}\n\n{answer1}\n\n{user2.rstrip()}\n"
    assert task.config.generation_kwargs["max_gen_toks"] == 32
    assert task.config.generation_kwargs["until"] == []
