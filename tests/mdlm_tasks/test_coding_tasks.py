"""Every coding task, through its real YAML, scores fixture answers as worked out by hand."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).resolve().parent / "fixtures"
TASK_YAMLS = Path(__file__).resolve().parents[2] / "task_yamls"
EXECUTED = ["humaneval", "humaneval_plus", "mbpp", "mbpp_plus", "livecodebench", "bigcodebench_hard",
            "cruxeval_i", "cruxeval_o", "multiple_cpp", "multiple_js", "ds1000"]
CODING = [*EXECUTED, "spider"]


def _fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


@pytest.fixture(autouse=True)
def _allow_code(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_ALLOW_CODE_EVAL", "1")


def _cases() -> list[Any]:
    return [pytest.param(name, index, id=f"{name}-{index}")
            for name in EXECUTED for index in range(len(_fixture(name)["cases"]))]


@pytest.mark.parametrize(("name", "index"), _cases())
def test_fixture_case(build_task: Callable[[str], Any], name: str, index: int) -> None:
    data = _fixture(name)
    case = data["cases"][index]
    task = build_task(f"mdlm_{name}")
    doc = task.test_docs()[case["doc"]] if task.has_test_docs() else task.validation_docs()[case["doc"]]
    prompt = task.doc_to_text(doc)
    assert "```" in prompt and "code block" in prompt
    assert task.process_results(doc, [case["response"]])["acc"] == case["acc"], case["response"]


@pytest.mark.parametrize("name", CODING)
def test_config(build_task: Callable[[str], Any], name: str, request: pytest.FixtureRequest) -> None:
    if name == "spider":  # building renders a prompt, which reads the database schema
        request.getfixturevalue("spider_dir")
    task = build_task(f"mdlm_{name}")
    config = task.config
    assert config.metric_list[0]["metric"] == "acc"
    assert config.num_fewshot == 0
    assert config.generation_kwargs["do_sample"] is False
    assert config.generation_kwargs["max_gen_toks"] >= 256
    assert config.unsafe_code is (name != "spider")
    assert len(task.eval_docs) == len(_fixture(name)["docs"])


def test_group_lists_the_twelve_tasks(task_manager: Any) -> None:
    import yaml

    group = yaml.safe_load((TASK_YAMLS / "coding" / "mdlm_coding.yaml").read_text())
    assert group["group"] == "mdlm_coding"
    assert sorted(group["task"]) == sorted(f"mdlm_{name}" for name in CODING)
    assert group["aggregate_metric_list"] == [{"metric": "acc", "aggregation": "mean", "weight_by_size": True}]
    assert "mdlm_coding" in task_manager.all_groups


def test_execution_needs_opt_in(build_task: Callable[[str], Any], monkeypatch: pytest.MonkeyPatch) -> None:
    from mdlm_tasks._sandbox import CodeExecutionDisabledError

    monkeypatch.delenv("HF_ALLOW_CODE_EVAL")
    task = build_task("mdlm_humaneval")
    with pytest.raises(CodeExecutionDisabledError, match="HF_ALLOW_CODE_EVAL"):
        task.process_results(task.test_docs()[0], [_fixture("humaneval")["cases"][0]["response"]])


@pytest.fixture
def spider_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    import sqlite3

    for db_id, statements in _fixture("spider")["database"].items():
        folder = tmp_path / "database" / db_id
        folder.mkdir(parents=True)
        with sqlite3.connect(folder / f"{db_id}.sqlite") as connection:
            for statement in statements:
                connection.execute(statement)
    monkeypatch.setenv("MDLM_SPIDER_DIR", str(tmp_path))
    return tmp_path


def test_spider_cases(build_task: Callable[[str], Any], spider_dir: Path) -> None:
    import sqlite3

    task = build_task("mdlm_spider")
    docs = task.validation_docs()
    prompt = task.doc_to_text(docs[0])
    assert "CREATE TABLE singer" in prompt and "How many singers do we have?" in prompt and "```sql" in prompt
    for case in _fixture("spider")["cases"]:
        assert task.process_results(docs[case["doc"]], [case["response"]])["acc"] == case["acc"], case["response"]
    with sqlite3.connect(spider_dir / "database" / "concert_singer" / "concert_singer.sqlite") as connection:
        assert connection.execute("SELECT count(*) FROM singer").fetchone() == (4,)  # DROP TABLE was refused


def test_spider_without_databases_says_how_to_get_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MDLM_SPIDER_DIR", "")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))  # empty cache; the hub is offline in tests
    from mdlm_tasks.sql_spider import spider_doc_to_text

    doc = _fixture("spider")["docs"][0]
    with pytest.raises(FileNotFoundError, match="set MDLM_SPIDER_DIR"):
        spider_doc_to_text(doc)


def _zip(path: Path, members: dict[str, bytes]) -> str:
    import hashlib
    import zipfile

    with zipfile.ZipFile(path, "w") as bundle:
        for name, data in members.items():
            bundle.writestr(name, data)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_spider_zip_is_verified_and_unpacked(tmp_path: Path) -> None:
    from mdlm_tasks.sql_spider import unpack_spider_zip

    archive = tmp_path / "spider_data.zip"
    digest = _zip(archive, {"spider_data/database/db/db.sqlite": b"", "spider_data/tables.json": b"[]"})
    assert unpack_spider_zip(archive, tmp_path / "out", digest) == tmp_path / "out" / "spider_data"
    with pytest.raises(ValueError, match="SHA-256"):
        unpack_spider_zip(archive, tmp_path / "other", "0" * 64)
    evil = tmp_path / "evil.zip"
    with pytest.raises(ValueError, match="unsafe path"):
        unpack_spider_zip(evil, tmp_path / "evil", _zip(evil, {"../escape.txt": b"x"}))
    assert not (tmp_path / "escape.txt").exists()


def test_lm_eval_confirm_flag_reaches_the_sandbox(task_manager: Any, offline_downloads: None,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Through lm-eval's own evaluator: refused without the flag, scored with it (no env var)."""
    from lm_eval.api.model import LM
    from lm_eval.evaluator import evaluate
    from lm_eval.tasks import get_task_dict

    monkeypatch.delenv("HF_ALLOW_CODE_EVAL")
    cases = _fixture("humaneval")["cases"]
    answers = {"has_close_elements": cases[0]["response"], "truncate_number": cases[2]["response"]}

    class Canned(LM):
        def generate_until(self, requests: list[Any], disable_tqdm: bool = False) -> list[str]:
            return [next(a for name, a in answers.items() if name in r.args[0]) for r in requests]

        def loglikelihood(self, requests: list[Any], disable_tqdm: bool = False) -> list[Any]:
            raise NotImplementedError

        def loglikelihood_rolling(self, requests: list[Any], disable_tqdm: bool = False) -> list[Any]:
            raise NotImplementedError

    tasks = get_task_dict(["mdlm_humaneval"], task_manager)
    with pytest.raises(ValueError, match="marked as unsafe"):
        evaluate(lm=Canned(), task_dict=tasks)
    results = evaluate(lm=Canned(), task_dict=tasks, confirm_run_unsafe_code=True)["results"]["mdlm_humaneval"]
    assert (results["acc,none"], results["sample_len"]) == (1.0, 2)


def test_results_record_whether_the_code_ran_sandboxed(build_task: Callable[[str], Any],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    case = _fixture("humaneval")["cases"][0]
    task = build_task("mdlm_humaneval")
    doc = task.test_docs()[case["doc"]]
    assert [m["metric"] for m in task.config.metric_list] == ["acc", "sandboxed"]
    isolated = task.process_results(doc, [case["response"]])
    assert isolated == {"acc": case["acc"], "sandboxed": 1.0}
    monkeypatch.setenv("MDLM_SANDBOX", "rlimits")
    monkeypatch.setenv("MDLM_ALLOW_UNSANDBOXED", "1")
    assert task.process_results(doc, [case["response"]]) == {"acc": case["acc"], "sandboxed": 0.0}
