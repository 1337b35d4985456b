"""KOR-Bench: real rows and real model replies from the benchmark's repository, scored by its rules.

The fixture holds rows of ``data/<category>/sample.jsonl`` and ``rule.jsonl`` at the pinned
commit, and replies of instruction-tuned models with the verdicts the benchmark's own evaluator
gave them (its ``eval/results/0923_main`` files). Over all 185 of those result files (46,250
replies) the scorer agrees with the stored verdicts except where it differs on purpose (see
``mdlm_tasks/kor_bench.py``); the cases below pin those differences one by one.
"""

from __future__ import annotations

import hashlib
import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest

import mdlm_tasks.kor_bench as kor
from mdlm_tasks.kor_bench import KOR_BENCH_CATEGORIES, KOR_BENCH_COMMIT, KOR_BENCH_FILES, kor_bench_correct

FIXTURE = json.loads((Path(__file__).resolve().parent / "fixtures" / "kor_bench.json").read_text(encoding="utf-8"))


def _doc(category: str, idx: str) -> dict[str, Any]:
    return next(d for d in FIXTURE["docs"] if d["category"] == category and d["idx"] == idx)


def _correct(reply: str, doc: dict[str, Any]) -> bool:
    return kor_bench_correct(reply, doc["answer"], doc["category"], doc["rule_id"], doc["idx"])


def test_docs_are_the_joined_source_rows() -> None:
    rows = FIXTURE["source_rows"]
    assert kor.kor_bench_rows_to_docs(rows["samples"], rows["rules"]) == FIXTURE["docs"]
    assert {d["category"] for d in FIXTURE["docs"]} == set(KOR_BENCH_CATEGORIES)


@pytest.mark.parametrize("index", range(len(FIXTURE["cases"])))
def test_real_replies_get_the_official_verdict(index: int) -> None:
    case = FIXTURE["cases"][index]
    doc = FIXTURE["docs"][case["doc"]]
    assert _correct(case["response"], doc) is case["official"], (case["model"], doc["category"], doc["idx"])


def test_every_category_has_right_and_wrong_real_replies() -> None:
    seen = {(FIXTURE["docs"][c["doc"]]["category"], c["official"]) for c in FIXTURE["cases"]}
    assert seen == {(category, verdict) for category in KOR_BENCH_CATEGORIES for verdict in (True, False)}


@pytest.mark.parametrize(
    ("category", "idx", "reply", "right"),
    [
        # The first [[...]] is the answer, as in the official extractor.
        ("operation", "1", "Neither is a multiple of the other, so 4※7 = 24.\n\n[[24]]", True),
        ("operation", "1", "[[25]] would be wrong; it is [[24]].", False),
        # Escaped brackets: the official extractor misses them (stored verdict 0); read here.
        ("operation", "1", "Thus, the answer is:\n\n\\[\\[24\\]\\]", True),
        # Math-expression questions: equal expressions match (stored verdicts compared strings only).
        ("operation", "115", "Therefore, the answer is:\n\\[\n[[9 + \\sqrt{6}]]\n\\]", True),
        ("operation", "115", "[[3^2 + \\sqrt{6}]]", True),
        ("operation", "115", "[[9 + \\sqrt{5}]]", False),
        # Reasoning is removed first, as for every task of the suite.
        ("operation", "1", "<think>Maybe [[25]]? No: neither divides the other.</think>\n[[24]]", True),
        ("operation", "1", "<think>\nIt is [[24]], let me double-check", False),
    ],
)
def test_deliberate_differences_and_reasoning(category: str, idx: str, reply: str, right: bool) -> None:
    assert _correct(reply, _doc(category, idx)) is right


def test_arithmetic_answers_are_read_never_executed(tmp_path: Path) -> None:
    doc = next(d for d in FIXTURE["docs"] if d["category"] == "puzzle" and d["rule_id"] == "10")
    gold = doc["answer"].strip("[]").split("=")[0]
    assert _correct(f"[[{gold}]]", doc)
    sentinel = tmp_path / "ran"
    assert not _correct(f"[[__import__('pathlib').Path({str(sentinel)!r}).touch() or 24]]", doc)
    assert not sentinel.exists()


def test_files_are_pinned_by_commit_and_sha256() -> None:
    assert len(KOR_BENCH_COMMIT) == 40
    expected = [f"data/{c}/{kind}.jsonl" for c in KOR_BENCH_CATEGORIES for kind in ("sample", "rule")]
    assert sorted(KOR_BENCH_FILES) == sorted(expected)
    assert all(len(digest) == 64 for digest in KOR_BENCH_FILES.values())
    assert kor._url("data/logic/rule.jsonl") == (
        f"https://raw.githubusercontent.com/KOR-Bench/KOR-Bench/{KOR_BENCH_COMMIT}/data/logic/rule.jsonl")


def _write_clone(root: Path) -> dict[str, str]:
    """A local copy holding the fixture's rows, and the digests of its files."""
    digests = {}
    for category in KOR_BENCH_CATEGORIES:
        for kind, rows in (("sample", FIXTURE["source_rows"]["samples"]), ("rule", FIXTURE["source_rows"]["rules"])):
            path = root / "data" / category / f"{kind}.jsonl"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows[category]), encoding="utf-8")
            digests[f"data/{category}/{kind}.jsonl"] = hashlib.sha256(path.read_bytes()).hexdigest()
    return digests


def test_loader_reads_a_clone_and_checks_every_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    digests = _write_clone(tmp_path)
    monkeypatch.setenv(kor.KOR_BENCH_DIR_ENV, str(tmp_path))
    monkeypatch.setattr(kor, "KOR_BENCH_FILES", digests)
    assert list(kor.load_kor_bench()["test"]) == FIXTURE["docs"]
    monkeypatch.setattr(kor, "KOR_BENCH_FILES", {**digests, "data/logic/rule.jsonl": "0" * 64})
    with pytest.raises(ValueError, match="SHA-256"):
        kor.load_kor_bench()


def test_offline_without_a_clone_says_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def offline(*_: Any, **__: Any) -> None:
        raise OSError("no network")

    monkeypatch.delenv(kor.KOR_BENCH_DIR_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(FileNotFoundError, match=kor.KOR_BENCH_DIR_ENV):
        kor.load_kor_bench()
