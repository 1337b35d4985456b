"""tools/train_tiny.py is reproducible: the same seed gives bit-identical weights, another seed does not.

A few optimizer steps of a tiny configuration, in-process; the shipped checkpoints rest on the same property
at full length (their model cards state the command and seed).
"""

from __future__ import annotations

import pytest
import torch

from mdlm_tasks.synthetic import EVAL_SEED, eval_keys, make_examples
from tests.tools._tool_import import import_tool

TASKS = {"mdlm_pb_copy_small": 1.0, "mdlm_sudoku4_easy": 2.0}
TINY = {"steps": 10, "batch_size": 8, "warmup": 3, "hidden": 16, "layers": 1, "heads": 2}


@pytest.fixture(scope="module")
def tt():
    return import_tool("train_tiny")


@pytest.fixture(scope="module")
def prep(tt):
    return tt.prepare(TASKS, n_train=64, seed=0, n_eval=4)


def _same(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    return all(torch.equal(sa[k], sb[k]) for k in sa)


@pytest.mark.parametrize("kind", ["diffusion", "ar"])
def test_same_seed_same_weights_other_seed_differs(tt, prep, kind):
    cfg = tt.TrainConfig(**TINY)
    first, curve = tt.train_model(kind, prep, cfg, seed=0, log_every=5)
    torch.rand(7)  # global RNG state between runs must not matter: training seeds everything itself
    again, curve_again = tt.train_model(kind, prep, cfg, seed=0, log_every=5)
    other, _ = tt.train_model(kind, prep, cfg, seed=1, log_every=5)
    untrained, _ = tt.train_model(kind, prep, tt.TrainConfig(**{**TINY, "steps": 0}), seed=0)
    assert len(curve) == 2 and curve == curve_again
    assert _same(first, again)
    assert not _same(first, other)
    assert not _same(first, untrained)  # ten steps did change the weights


def test_prepare_is_deterministic_and_excludes_eval_items(tt, prep):
    again = tt.prepare(TASKS, n_train=64, seed=0, n_eval=4)
    assert [(e.task, e.prompt, e.answer) for e in prep.data] == [(e.task, e.prompt, e.answer) for e in again.data]
    assert prep.tokenizer.get_vocab() == again.tokenizer.get_vocab()
    for task in prep.tasks:
        assert task.train_seed != EVAL_SEED
        assert len(task.train) == 64
        assert not {ex["key"] for ex in task.train} & eval_keys(task.name)
        assert task.eval == make_examples(task.name, 4, EVAL_SEED)  # exactly what lm-eval scores
    # a task's weight is split over its examples: sudoku (weight 2) gets two thirds of the sampling mass
    sudoku = sum(w for e, w in zip(prep.data, prep.weights, strict=True) if e.task == "mdlm_sudoku4_easy")
    assert sudoku / sum(prep.weights) == pytest.approx(2 / 3)


def test_lr_schedule(tt):
    cfg = tt.TrainConfig(steps=1100, lr=1e-3, warmup=100)
    assert tt.lr_at(0, cfg) == pytest.approx(1e-5)
    assert tt.lr_at(99, cfg) == pytest.approx(1e-3)
    assert tt.lr_at(600, cfg) == pytest.approx(1e-3 * (0.1 + 0.45))  # half-way through the cosine
    assert tt.lr_at(1100, cfg) == pytest.approx(1e-4)
