"""Confidence rules and transfer schedules on hand-made logits, settings validation, and end to end."""

from __future__ import annotations

import json

import pytest
import torch
from lm_eval.api.instance import Instance

import model_adapters._adapter as adapter_module
from model_adapters import read_traces
from model_adapters._adapter import MDLMAdapter
from model_adapters._engine import TraceRecorder, denoise
from model_adapters._settings import DecodingSettings
from tests.model_adapters._handmade import SPECIAL, dist, prefers_token_1, table_logits

PROMPT = torch.tensor([[3, 4]])

# Four positions whose distributions rank differently under each rule (worked by hand):
#   probability of the argmax: .50, .40, .45, .30  -> order 0, 2, 1, 3
#   top1 - top2 margin:        .05, .20, .00, .00  -> order 1, 0, 2, 3 (ties keep position order)
#   entropy (nats):            .889, 1.332, 1.018, 1.314 -> lowest first: 0, 2, 3, 1
RULE_TABLE = [dist(0.50, 0.45, 0.03, 0.02), dist(0.40, 0.20, 0.20, 0.20), dist(0.45, 0.45, 0.05, 0.05),
              dist(0.30, 0.30, 0.30, 0.10)]


def _decode(table, **settings):  # noqa: ANN001, ANN003, ANN202
    seed = settings.pop("gen_seed", 0)
    recorder = TraceRecorder(1, len(table), "cpu")
    resolved = DecodingSettings(**settings).resolve(len(table))
    generators = [torch.Generator().manual_seed(seed)] if resolved.needs_noise else None
    out = denoise(table_logits(table, PROMPT.shape[1]), PROMPT, resolved, SPECIAL, generators, recorder)
    return out, recorder.final_step[0].tolist()


@pytest.mark.parametrize(
    ("remasking", "final_step"),
    [("low_confidence", [0, 2, 1, 3]), ("margin", [1, 0, 2, 3]), ("entropy", [0, 3, 1, 2])],
)
def test_confidence_rules_pick_positions_in_hand_worked_order(remasking, final_step) -> None:
    out, steps = _decode(RULE_TABLE, remasking=remasking)
    assert steps == final_step
    assert out.canvas.tolist() == [[1, 1, 1, 1]]  # every position commits its argmax


@pytest.mark.parametrize(("factor", "final_step"), [(1.0, [1, 0, 0, 0]), (0.5, [2, 0, 1, 0])])
def test_factor_schedule(factor, final_step) -> None:
    # Sorted confidences .99, .9, .8, .5: (n+1)(1-c_n) = .02, .3, .8, 2.5.
    # f=1 commits three then one; f=.5 commits two, then (.8, .5): .4 ok, 1.5 not -> one, then one.
    out, steps = _decode(prefers_token_1([0.5, 0.99, 0.8, 0.9]), schedule="factor", factor=factor)
    assert steps == final_step
    assert out.nfe.tolist() == [max(final_step) + 1]


@pytest.mark.parametrize(
    ("schedule", "steps", "final_step"),
    # Confidences .5, .99, .8, .85, threshold .9: .99 passes, then one at a time by confidence. threshold
    # (Fast-dLLM: at least one) ignores the step budget; threshold_count (SDAR/LLaDA2: strictly above, at least
    # the scheduled count) with 2 steps per block of 4 commits at least 2 per step: .99 and .85, then the rest;
    # threshold_strict (LLaDA2.1, Fast-dLLM v2: at least one) ignores the budget as threshold does.
    [("threshold", 4, [3, 0, 2, 1]), ("threshold", 2, [3, 0, 2, 1]), ("threshold_count", 4, [3, 0, 2, 1]),
     ("threshold_count", 2, [1, 0, 1, 0]), ("threshold_strict", 4, [3, 0, 2, 1]),
     ("threshold_strict", 2, [3, 0, 2, 1])],
)
def test_threshold_schedules(schedule, steps, final_step) -> None:
    _, got = _decode(prefers_token_1([0.5, 0.99, 0.8, 0.85]), schedule=schedule, threshold=0.9, steps=steps)
    assert got == final_step


def test_factor_commits_at_least_one() -> None:
    _, steps = _decode(prefers_token_1([0.3, 0.4, 0.35, 0.31]), schedule="factor", factor=0.1)
    assert steps == [3, 0, 1, 2]


def test_dream_schedule_counts() -> None:
    # timesteps = linspace(1, 1e-3, 5) = 1, .75025, .5005, .25075, .001; eight masks:
    # step 0: int(8 * .24975) = 1; step 1: int(7 * .33289) = 2; step 2: int(5 * .49900) = 2; step 3: the last 3.
    prefs = [0.91, 0.99, 0.5, 0.6, 0.97, 0.7, 0.8, 0.95]
    out, steps = _decode(prefers_token_1(prefs), schedule="dream", steps=4)
    assert steps == [2, 0, 3, 3, 1, 3, 2, 1]
    assert out.nfe.tolist() == [4]


def test_dream_schedule_is_per_block() -> None:
    # Two blocks of four, two steps each: step 0 int(4 * (1 - .5005)) = 1, step 1 the remaining 3.
    prefs = [0.91, 0.99, 0.5, 0.6, 0.97, 0.7, 0.8, 0.95]
    _, steps = _decode(prefers_token_1(prefs), schedule="dream", steps=4, block_length=4)
    assert steps == [1, 0, 1, 1, 2, 3, 3, 3]


def test_origin_transfers_each_mask_with_probability_one_minus_s_over_t() -> None:
    # 64 masks, 4 steps: step 0 transfers each with probability .24975, so about 16 on average.
    table = prefers_token_1([0.9] * 64)
    firsts = []
    for seed in range(20):
        _, steps = _decode(table, schedule="origin", remasking="random", steps=4, gen_seed=seed)
        firsts.append(sum(s == 0 for s in steps))
        assert max(steps) == 3 and min(steps) >= 0  # the last step transfers whatever is left
    assert 12 <= sum(firsts) / len(firsts) <= 20
    assert len(set(firsts)) > 1  # a random count, not a fixed one


def test_alg_temp_near_zero_is_top_k_and_large_is_random() -> None:
    prefs = [0.91, 0.99, 0.5, 0.6, 0.97, 0.7, 0.8, 0.95]
    greedy = [3, 0, 7, 6, 1, 5, 4, 2]
    _, steps = _decode(prefers_token_1(prefs), alg_temp=1e-6)
    assert steps == greedy
    orders = {tuple(_decode(prefers_token_1(prefs), alg_temp=100.0, gen_seed=s)[1]) for s in range(5)}
    assert len(orders) > 1 and tuple(greedy) not in orders


def test_max_per_step_caps_dream_schedule() -> None:
    # Steps 0 and 1 would commit 1 and 2; step 2 would commit 2, the last step 3: a cap of 1 spreads them out.
    prefs = [0.91, 0.99, 0.5, 0.6, 0.97, 0.7, 0.8, 0.95]
    out, steps = _decode(prefers_token_1(prefs), schedule="dream", steps=4, max_per_step=1)
    assert steps == [3, 0, 7, 6, 1, 5, 4, 2]
    assert out.nfe.tolist() == [8]


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"schedule": "origin"}, "needs remasking='random'"),
        ({"alg_temp": -1}, "alg_temp must be >= 0"),
        ({"cache": "huge"}, "unknown cache"),
        ({"early_stop": "maybe"}, "unknown early_stop"),
        ({"early_stop": "settled", "cache": "dual"}, "early_stop='settled'"),
        ({"edit_k": 2}, "need edit_rounds"),
        ({"edit_threshold": 0.5}, "need edit_rounds"),
        ({"edit_rounds": 1}, "edit_rounds needs edit_k"),
        ({"edit_rounds": 1, "edit_threshold": 1.5}, "edit_threshold must be in"),
        ({"edit_rounds": 1, "edit_k": 0}, "edit_k must be a positive"),
        ({"schedule": "factor"}, "needs factor"),
        ({"schedule": "dream", "gen_length": 32, "block_length": 8, "steps": 6}, "multiple of the number of blocks"),
    ],
)
def test_bad_settings_are_clear_errors(settings, message) -> None:
    with pytest.raises(ValueError, match=message):
        DecodingSettings(**settings).resolve(32)


@pytest.mark.parametrize(
    ("cache", "attention", "message"),
    [("block_kv", "bidirectional", "block-causal"), ("prefix", "block_causal", "bidirectional"),
     ("dual", "block_causal", "bidirectional")],
)
def test_cache_must_fit_the_attention(cache, attention, message) -> None:
    with pytest.raises(ValueError, match=message):
        DecodingSettings(cache=cache).validate_for(attention, 4)


def test_ar_block_start_needs_a_block_causal_model() -> None:
    DecodingSettings(ar_block_start=True).validate_for("block_causal", 32)
    with pytest.raises(ValueError, match="block-causal"):
        DecodingSettings(ar_block_start=True).validate_for("bidirectional")


def test_only_bidirectional_blocks_must_divide_the_canvas() -> None:
    DecodingSettings(gen_length=16, block_length=32).validate_for("block_causal", 32)  # LLaDA2 takes any length
    with pytest.raises(ValueError, match="not divisible"):
        DecodingSettings(gen_length=16, block_length=32).validate_for("bidirectional")


def test_block_kv_needs_aligned_blocks() -> None:
    DecodingSettings(cache="block_kv", block_length=8).validate_for("block_causal", 4)
    with pytest.raises(ValueError, match="multiple of the model's attention block"):
        DecodingSettings(cache="block_kv", block_length=6).validate_for("block_causal", 4)


@pytest.mark.parametrize(
    ("model_args", "message"),
    [({"cache": "block_kv"}, "block-causal"), ({"edit_k": 3}, "edit_rounds"), ({"schedule": "dream", "alg_temp": "x"},
                                                                                "alg_temp")],
)
def test_adapter_refuses_bad_strategy_args_before_loading(model_args, message, tiny_llada_path, monkeypatch) -> None:
    monkeypatch.setattr(adapter_module, "load_generic", lambda r: pytest.fail("weights loaded"))
    with pytest.raises(ValueError, match=message):
        MDLMAdapter(pretrained=str(tiny_llada_path), family="llada", device="cpu", **model_args)


PROMPTS = ["Q: 2+2?\nA:", "Say hi", "The quick brown fox", "x"]
E2E = [
    {"remasking": "margin", "steps": 4},
    {"remasking": "entropy", "schedule": "dream", "steps": 4},
    {"schedule": "factor", "factor": 1.0, "block_length": 4},
    {"schedule": "origin", "remasking": "random", "steps": 4},
    {"schedule": "dream", "steps": 4, "alg_temp": 0.5},
    {"schedule": "threshold", "threshold": 0.5, "cache": "dual", "block_length": 4},
    {"early_stop": "settled", "cache": "prefix"},
    {"edit_rounds": 1, "edit_k": 2, "steps": 4},
    {"schedule": "threshold_count", "threshold": 0.5, "editing_threshold": 0.3, "max_post_steps": 2,
     "block_length": 4},
]


@pytest.mark.parametrize("gen_kwargs", E2E)
def test_every_strategy_end_to_end_batch_invariant(gen_kwargs, tiny_llada_path, tmp_path) -> None:
    _check_end_to_end(tiny_llada_path, "llada", gen_kwargs, tmp_path)


@pytest.mark.parametrize("gen_kwargs", [E2E[1], E2E[5], E2E[7]])
def test_shifted_family_end_to_end_batch_invariant(gen_kwargs, tiny_dream_path, tmp_path) -> None:
    _check_end_to_end(tiny_dream_path, "dream", gen_kwargs, tmp_path)


def _check_end_to_end(path, family: str, gen_kwargs: dict, tmp_path) -> None:  # noqa: ANN001
    runs = []
    for batch_size in (1, 4):
        trace = tmp_path / f"b{batch_size}.jsonl"
        lm = MDLMAdapter(pretrained=str(path), family=family, device="cpu", batch_size=batch_size,
                         trace_path=str(trace))
        requests = [Instance("generate_until", {}, (p, {"max_gen_toks": 8, "until": [], **gen_kwargs}), idx=0,
                             metadata=("t", i, 1)) for i, p in enumerate(PROMPTS)]
        out = lm.generate_until(requests, disable_tqdm=True)
        lm._writer.close()
        runs.append((out, {r.key: json.loads(r.to_json()) for r in read_traces(trace)}))
    (one, rows), (four, rows_four) = runs
    assert one == four and rows == rows_four
    for row in rows.values():
        assert all(s >= 0 for s in row["final_step"])  # every position decoded
        assert max(row["final_step"]) < row["nfe"]
        for key, value in gen_kwargs.items():  # the trace records the setting actually used
            assert row["settings"][key] == value
