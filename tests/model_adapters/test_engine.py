"""The sampler engine against a plain transcription of LLaDA's reference decoder and hand-made logits."""

from __future__ import annotations

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from model_adapters._engine import SpecialTokens, TraceRecorder, denoise
from model_adapters._runner import bidirectional_logits_fn
from model_adapters._settings import DecodingSettings
from tests.model_adapters.reference_llada import reference_generate
from tests.tiny_models import left_padded

PROMPTS = ["Q: 2+2?\nA:", "Say hi", "The quick brown fox jumps over", "x"]


@pytest.fixture(scope="module")
def llada(tiny_llada_path):  # noqa: ANN001, ANN201
    model = AutoModelForCausalLM.from_pretrained(tiny_llada_path).eval()
    return model, AutoTokenizer.from_pretrained(tiny_llada_path)


@pytest.mark.parametrize(
    ("steps", "gen_length", "block_length", "eos_inf"),
    [(16, 16, 16, False), (8, 16, 16, False), (8, 16, 4, False), (6, 24, 8, True), (3, 12, 12, False)],
)
def test_matches_reference_llada_token_for_token(llada, steps, gen_length, block_length, eos_inf) -> None:
    model, tokenizer = llada
    prompt, mask = left_padded(tokenizer, PROMPTS)
    special = SpecialTokens(mask_id=tokenizer.mask_token_id, eos_id=tokenizer.eos_token_id)
    expected = reference_generate(model, prompt, mask, steps, gen_length, block_length, special.mask_id,
                                  logits_eos_inf=eos_inf, eos_id=special.eos_id)
    assert not (expected == special.mask_id).any(), "oracle precondition: the model never proposes the mask"
    settings = DecodingSettings(steps=steps, gen_length=gen_length, block_length=block_length,
                                logits_eos_inf=eos_inf).resolve(gen_length)
    full = torch.cat([mask, torch.ones(len(PROMPTS), gen_length, dtype=torch.long)], 1)
    with torch.inference_mode():
        got = denoise(bidirectional_logits_fn(model, full, shifted=False), prompt, settings, special)
    assert torch.equal(got.canvas, expected)
    assert got.nfe.tolist() == [steps] * len(PROMPTS)


def test_tracing_never_changes_outputs(llada) -> None:
    model, tokenizer = llada
    prompt, mask = left_padded(tokenizer, PROMPTS)
    special = SpecialTokens(mask_id=tokenizer.mask_token_id, eos_id=tokenizer.eos_token_id)
    full = torch.cat([mask, torch.ones(len(PROMPTS), 16, dtype=torch.long)], 1)
    for settings in (DecodingSettings(steps=8), DecodingSettings(schedule="threshold", threshold=0.3, block_length=8)):
        resolved = settings.resolve(16)
        with torch.inference_mode():
            fn = bidirectional_logits_fn(model, full, shifted=False)
            plain = denoise(fn, prompt.clone(), resolved, special)
            traced = denoise(fn, prompt.clone(), resolved, special, observer=TraceRecorder(len(PROMPTS), 16, "cpu"))
        assert torch.equal(plain.canvas, traced.canvas)
        assert torch.equal(plain.nfe, traced.nfe)


def _scripted_logits(preferences: torch.Tensor, vocab: int = 8):  # noqa: ANN202
    """Logits where position p proposes token 1 with a fixed, hand-chosen probability preferences[p]."""

    def logits_fn(canvas, start, end):  # noqa: ANN001, ANN202
        p = preferences[start - (canvas.shape[1] - len(preferences)) :][: end - start]
        probs = torch.full((1, end - start, vocab), 0.0)
        probs[0, :, 1] = p
        probs[0, :, 2:] = ((1 - p) / (vocab - 2))[:, None]
        return torch.log(probs.clamp_min(1e-12))

    return logits_fn


def test_trace_on_hand_made_logits() -> None:
    # Confidences 0.9, 0.5, 0.95, 0.6 → one per step: positions 2, 0, 3, 1.
    fn = _scripted_logits(torch.tensor([0.9, 0.5, 0.95, 0.6]))
    special = SpecialTokens(mask_id=0, eos_id=7)
    recorder = TraceRecorder(1, 4, "cpu")
    out = denoise(fn, torch.tensor([[5, 6]]), DecodingSettings().resolve(4), special, observer=recorder)
    assert out.canvas.tolist() == [[1, 1, 1, 1]]
    assert recorder.final_step.tolist() == [[1, 3, 0, 2]]
    assert recorder.first_step.tolist() == [[1, 3, 0, 2]]
    assert recorder.n_changes.tolist() == [[1, 1, 1, 1]]
    # Threshold 0.8 commits 0.9 and 0.95 together, then the best remaining one per step.
    recorder = TraceRecorder(1, 4, "cpu")
    settings = DecodingSettings(schedule="threshold", threshold=0.8).resolve(4)
    out = denoise(fn, torch.tensor([[5, 6]]), settings, special, observer=recorder)
    assert recorder.final_step.tolist() == [[0, 2, 0, 1]]
    assert out.nfe.tolist() == [3]


def test_blocks_finish_left_block_first() -> None:
    # The right block holds the most confident tokens, yet the left block is decoded first.
    fn = _scripted_logits(torch.tensor([0.3, 0.4, 0.9, 0.95]))
    recorder = TraceRecorder(1, 4, "cpu")
    settings = DecodingSettings(block_length=2, steps=4).resolve(4)
    denoise(fn, torch.tensor([[5]]), settings, SpecialTokens(mask_id=0, eos_id=7), observer=recorder)
    assert recorder.final_step.tolist() == [[1, 0, 3, 2]]
