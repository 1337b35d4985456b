"""tools/demo.py's terminal summary: short row labels and one line per row and task."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tests.tools._tool_import import import_tool


@pytest.fixture(scope="module")
def demo():
    return import_tool("demo")


def _row(model: str, short: str, tasks: dict) -> SimpleNamespace:
    return SimpleNamespace(model=model, model_type="diffusion", backend="mdlm", setting_short=short,
                           setting_label="the whole setting", tasks=tasks)


def _stats(acc: float, afp: float | None, tau: float | None, easy: float | None, n: int,
           tau_k: int | None = None) -> SimpleNamespace:
    k = n if tau_k is None else tau_k
    metrics = {key: SimpleNamespace(value=v, n=k if key == "tau_b" else n, of=n, thin=k < 10 or k < n / 2)
               for key, v in (("afp", afp), ("tau_b", tau), ("easy_first_rho", easy)) if v is not None}
    return SimpleNamespace(accuracy=acc, metrics=metrics, n_docs=n)


def test_summary_line_per_row_and_task(demo) -> None:
    tasks = {"mdlm_sudoku4_easy": _stats(0.85, 1.0, -0.02, 0.377, 20),
             "mdlm_pb_copy_small": _stats(1, 1, 0.1, None, 20, tau_k=3)}
    rows = [_row("m", "schedule=fixed", tasks), _row("ar", "", {})]
    lines = demo.summary(rows).splitlines()
    assert lines[0] == "[1] diffusion mdlm m: schedule=fixed"
    assert lines[1] == "[2] diffusion mdlm ar: the whole setting"  # no short form: the whole label
    # tau carries how many samples define it, and a * when that is too few
    assert lines[4].split() == ["[1]", "mdlm_pb_copy_small", "1.00", "1.00", "0.10", "3/20*", "-", "20"]
    assert lines[5].split() == ["[1]", "mdlm_sudoku4_easy", "0.85", "1.00", "-0.02", "20/20", "0.38", "20"]
