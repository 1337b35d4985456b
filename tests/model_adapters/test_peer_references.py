"""Peer agreement: the engine against transcriptions of Fast-dLLM's LLaDA ``generate`` and dllm's LLaDA sampler.

Issue 19: the decoder matched both token for token and forward for forward at batch 1 and in a
padded batch of 4; these tests keep that property. Neither reference stops at EOS, so the
comparisons run with ``early_stop="none"``; with the presets' ``eos_block`` NFE (and TPF) differ.
"""

from __future__ import annotations

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from model_adapters._engine import SpecialTokens, denoise
from model_adapters._runner import bidirectional_logits_fn
from model_adapters._settings import DecodingSettings
from tests.model_adapters.reference_dllm import dllm_counts, dllm_sample
from tests.model_adapters.reference_fast_dllm import fast_dllm_generate
from tests.tiny_models import left_padded

PROMPTS = ["Q: 2+2?\nA:", "Say hi", "The quick brown fox jumps over", "x"]


@pytest.fixture(scope="module")
def llada(tiny_llada_path):  # noqa: ANN001, ANN201
    model = AutoModelForCausalLM.from_pretrained(tiny_llada_path, dtype=torch.float32).eval()
    return model, AutoTokenizer.from_pretrained(tiny_llada_path)


@pytest.mark.parametrize(
    ("steps", "gen_length", "block_length", "threshold"),
    [(16, 16, 16, None), (8, 16, 4, None), (16, 16, 16, 0.9), (16, 16, 8, 0.02), (24, 24, 8, 0.005)],
)
@pytest.mark.parametrize("batched", [False, True], ids=["batch1", "leftpad4"])
def test_engine_matches_fast_dllm_generate(llada, steps, gen_length, block_length, threshold, batched) -> None:
    model, tokenizer = llada
    special = SpecialTokens(mask_id=tokenizer.mask_token_id, eos_id=tokenizer.eos_token_id)
    ids = [tokenizer(p)["input_ids"] for p in PROMPTS]
    prompt, mask = left_padded(tokenizer, PROMPTS)
    expected = []
    with torch.inference_mode():
        for seq in ids:
            expected.append(
                fast_dllm_generate(
                    model, torch.tensor([seq]), steps, gen_length, block_length, special.mask_id, threshold
                )
            )
    schedule = {"schedule": "threshold", "threshold": threshold} if threshold is not None else {}
    settings = DecodingSettings(
        steps=steps, gen_length=gen_length, block_length=block_length, early_stop="none", **schedule
    ).resolve(gen_length)
    rows = [slice(0, len(PROMPTS))] if batched else [slice(r, r + 1) for r in range(len(PROMPTS))]
    got_canvas, got_nfe = [], []
    with torch.inference_mode():
        for rs in rows:
            if batched:
                p, m = prompt[rs], mask[rs]
            else:
                seq = ids[rs.start]
                p, m = torch.tensor([seq]), torch.ones(1, len(seq), dtype=torch.long)
            full = torch.cat([m, torch.ones(p.shape[0], gen_length, dtype=torch.long)], 1)
            out = denoise(bidirectional_logits_fn(model, full, shifted=False), p, settings, special)
            got_canvas += list(out.canvas)
            got_nfe += out.nfe.tolist()
    for row, (canvas, nfe) in enumerate(expected):
        assert torch.equal(got_canvas[row], canvas[0]), (row, got_canvas[row].tolist(), canvas[0].tolist())
        assert got_nfe[row] == nfe, row
    if threshold is not None and threshold < 0.1:  # the case must exercise multi-token passes
        assert min(n for _, n in expected) < gen_length


def test_dllm_split_differs_from_llada_when_uneven() -> None:
    # 10 masks over 4 passes: dllm rounds remaining / passes left (half to even); LLaDA front-loads the remainder.
    assert dllm_counts(10, 4) == [2, 3, 2, 3]
    assert dllm_counts(16, 8) == [2] * 8 and dllm_counts(3, 4) == [1, 1, 1]  # a pass revealing nothing is dropped


@pytest.mark.parametrize(("steps", "gen_length", "block_length"), [(16, 16, 16), (8, 16, 16), (8, 16, 4), (12, 24, 8)])
def test_engine_matches_dllm_sampler_where_its_split_is_even(llada, steps, gen_length, block_length) -> None:
    """dllm's rounding split equals LLaDA's even split when each block's masks divide by its passes (as here).

    dllm's batch is right-padded and ours left-padded: both must give every row its batch-1 answer.
    """
    model, tokenizer = llada
    special = SpecialTokens(mask_id=tokenizer.mask_token_id, eos_id=tokenizer.eos_token_id)
    ids = [tokenizer(p)["input_ids"] for p in PROMPTS]
    prompt, mask = left_padded(tokenizer, PROMPTS)
    with torch.inference_mode():
        expected, ref_nfe = dllm_sample(model, ids, steps, gen_length, block_length, special.mask_id, special.eos_id)
        settings = DecodingSettings(
            steps=steps, gen_length=gen_length, block_length=block_length, early_stop="none"
        ).resolve(gen_length)
        full = torch.cat([mask, torch.ones(len(PROMPTS), gen_length, dtype=torch.long)], 1)
        out = denoise(bidirectional_logits_fn(model, full, shifted=False), prompt, settings, special)
    for row in range(len(PROMPTS)):
        assert torch.equal(out.canvas[row], expected[row]), row
    assert out.nfe.tolist() == [ref_nfe] * len(PROMPTS) == [steps] * len(PROMPTS)
