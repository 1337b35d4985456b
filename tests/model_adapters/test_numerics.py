"""bf16 decoding against LLaDA's published arithmetic: ``confidence_dtype`` reproduces it, the default does not.

LLaDA's ``generate()`` takes the softmax of the model's logits in their own dtype. In bf16 that rounds every
probability to 8 significant bits, so confident positions tie and the top-k cut then falls by tie-breaking.
``confidence_dtype=logits`` does the same arithmetic; the float32 default ranks by the unrounded values.
"""

from __future__ import annotations

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from model_adapters._engine import SpecialTokens, denoise
from model_adapters._runner import bidirectional_logits_fn
from model_adapters._settings import DecodingSettings
from tests.model_adapters.reference_llada import reference_generate
from tests.tiny_models import left_padded

PROMPTS = ["Q: 2+2?\nA:", "Say hi", "The quick brown fox jumps over", "x"]


def _decode(model, tokenizer, confidence_dtype: str, published: bool, gen: int = 32):  # noqa: ANN001, ANN202
    prompt, mask = left_padded(tokenizer, PROMPTS)
    special = SpecialTokens(mask_id=tokenizer.mask_token_id, eos_id=tokenizer.eos_token_id)
    expected = reference_generate(model, prompt, mask, gen, gen, gen, special.mask_id, published_softmax=published)
    settings = DecodingSettings(confidence_dtype=confidence_dtype).resolve(gen)
    full = torch.cat([mask, torch.ones(len(PROMPTS), gen, dtype=torch.long)], 1)
    with torch.inference_mode():
        got = denoise(bidirectional_logits_fn(model, full, shifted=False), prompt, settings, special).canvas
    return got, expected


@pytest.fixture(scope="module")
def bf16_llada(tiny_llada_path):  # noqa: ANN001, ANN201
    model = AutoModelForCausalLM.from_pretrained(tiny_llada_path, dtype=torch.bfloat16).eval()
    return model, AutoTokenizer.from_pretrained(tiny_llada_path)


def test_confidence_dtype_logits_reproduces_the_published_bf16_softmax(bf16_llada) -> None:
    got, expected = _decode(*bf16_llada, "logits", published=True)
    assert torch.equal(got, expected)


def test_float32_confidence_matches_a_float32_softmax_reference_in_bf16(bf16_llada) -> None:
    got, expected = _decode(*bf16_llada, "float32", published=False)
    assert torch.equal(got, expected)


def test_the_float32_default_departs_from_the_published_bf16_arithmetic(bf16_llada) -> None:
    # The divergence the setting exists for: the same bf16 model, ranked by float32 vs bf16 probabilities.
    got, expected = _decode(*bf16_llada, "float32", published=True)
    assert not torch.equal(got, expected)


def test_unknown_confidence_dtype_is_refused() -> None:
    with pytest.raises(ValueError, match="confidence_dtype"):
        DecodingSettings(confidence_dtype="float16").validate()
