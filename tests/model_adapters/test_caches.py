"""KV caches: exact where they must be (block_kv on block-causal attention), approximate ones bounded."""

from __future__ import annotations

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from model_adapters._cache import block_ids
from model_adapters._engine import SpecialTokens, TraceRecorder, denoise
from model_adapters._runner import make_logits_fn
from model_adapters._settings import DecodingSettings

PROMPTS = ["Q: 2+2?\nA:", "Say hi", "The quick brown fox", "x"]
GEN = 16


@pytest.fixture(scope="module")
def models(tiny_llada_path, tiny_dream_path):  # noqa: ANN001, ANN201
    """(model, tokenizer, shifted) for an unshifted Llama and a shifted Qwen2 backbone."""
    out = {}
    for name, path, shifted in (("llada", tiny_llada_path, False), ("dream", tiny_dream_path, True)):
        out[name] = (AutoModelForCausalLM.from_pretrained(path).eval(), AutoTokenizer.from_pretrained(path), shifted)
    return out


def _batch(tokenizer):  # noqa: ANN001, ANN202
    ids = [tokenizer(p)["input_ids"] for p in PROMPTS]
    width = max(map(len, ids))
    prompt = torch.full((len(ids), width), tokenizer.pad_token_id)
    mask = torch.zeros((len(ids), width + GEN), dtype=torch.long)
    for row, seq in enumerate(ids):
        prompt[row, width - len(seq) :] = torch.tensor(seq)
        mask[row, width - len(seq) :] = 1
    return prompt, mask


def _decode(model_entry, attention: str, cache: str, **settings):  # noqa: ANN001, ANN003, ANN202
    model, tokenizer, shifted = model_entry
    prompt, mask = _batch(tokenizer)
    special = SpecialTokens(mask_id=tokenizer.mask_token_id, eos_id=tokenizer.eos_token_id)
    resolved = DecodingSettings(cache=cache, **settings).resolve(GEN)
    recorder = TraceRecorder(len(PROMPTS), GEN, "cpu")
    with torch.inference_mode():
        fn = make_logits_fn(model, mask, shifted, prompt.shape[1], attention, 4, cache)
        out = denoise(fn, prompt, resolved, special, observer=recorder)
    return out, recorder


BLOCK_CAUSAL_SETTINGS = [
    {"block_length": 4, "steps": 16},
    {"block_length": 8, "steps": 8},
    {"block_length": 4, "schedule": "threshold", "threshold": 0.3},
    {"block_length": 4, "steps": 8, "early_stop": "eos_block"},
    {"block_length": 4, "steps": 8, "edit_rounds": 1, "edit_k": 3},
]


@pytest.mark.parametrize("family", ["llada", "dream"])
@pytest.mark.parametrize("settings", BLOCK_CAUSAL_SETTINGS)
def test_block_kv_is_exact_on_block_causal_models(models, family, settings) -> None:
    plain, plain_rec = _decode(models[family], "block_causal", "none", **settings)
    cached, cached_rec = _decode(models[family], "block_causal", "block_kv", **settings)
    assert torch.equal(plain.canvas, cached.canvas)
    assert torch.equal(plain.nfe, cached.nfe)
    assert torch.equal(plain_rec.final_step, cached_rec.final_step)


def test_block_causal_attention_hides_later_blocks(models) -> None:
    # Blocks sit at absolute positions of each row (from its first real token): changing a later block must
    # not change an earlier block's logits; changing a token of a block must change its neighbours'.
    model, tokenizer, _ = models["llada"]
    prompt, mask = _batch(tokenizer)
    width = prompt.shape[1]
    offsets = (-mask[:, :width].sum(-1)) % 4  # canvas columns before each row's first block boundary
    canvas = torch.cat([prompt, torch.randint(10, 60, (len(PROMPTS), GEN))], 1)
    fn = make_logits_fn(model, mask, False, width, "block_causal", 4)
    with torch.inference_mode():
        for row, offset in enumerate(offsets.tolist()):
            boundary = offset + 4
            before = fn(canvas, width, width + boundary)[row]
            later, earlier = canvas.clone(), canvas.clone()
            later[row, width + boundary :] = 7
            earlier[row, width + boundary - 1] = 7
            assert torch.equal(fn(later, width, width + boundary)[row], before)
            assert not torch.allclose(fn(earlier, width, width + boundary)[row, offset : boundary - 1],
                                      before[offset : boundary - 1])
    # Blocks at absolute positions from each row's first real token (left padding masked out separately).
    mask = torch.tensor([[1] * 10, [0, 0, 0] + [1] * 7])
    assert block_ids(mask, 4).tolist() == [[0, 0, 0, 0, 1, 1, 1, 1, 2, 2], [0, 0, 0, 0, 0, 0, 0, 1, 1, 1]]


@pytest.mark.parametrize("family", ["llada", "dream"])
@pytest.mark.parametrize("cache", ["prefix", "dual"])
@pytest.mark.parametrize(
    "settings",
    [{"block_length": 4, "steps": 4}, {"block_length": 8, "steps": 2}],
    ids=["block4", "block8"],
)
def test_approximate_caches_are_exact_when_nothing_cached_goes_stale(models, family, cache, settings) -> None:
    # With one step per block every step is the refresh pass (a full forward), so nothing cached is ever
    # stale and prefix / dual must reproduce no-cache decoding token for token. (Even the prompt's keys go
    # stale within a longer block: under bidirectional attention they depend on the canvas.)
    plain, _ = _decode(models[family], "bidirectional", "none", **settings)
    cached, _ = _decode(models[family], "bidirectional", cache, **settings)
    assert torch.equal(plain.canvas, cached.canvas)
    assert torch.equal(plain.nfe, cached.nfe)


@pytest.mark.parametrize("cache", ["prefix", "dual"])
def test_approximate_cache_error_is_bounded_to_stale_keys(models, cache) -> None:
    # Same canvas twice: the cached call must equal a fresh full pass; after a change inside the window
    # the cached call differs only through the stale keys, so it stays closer to the fresh pass than the
    # logits before the change were.
    model, tokenizer, _ = models["llada"]
    prompt, mask = _batch(tokenizer)
    width = prompt.shape[1]
    canvas = torch.cat([prompt, torch.randint(10, 60, (len(PROMPTS), GEN))], 1)
    exact = make_logits_fn(model, mask, False, width)
    fn = make_logits_fn(model, mask, False, width, cache=cache)
    window = (width + 4, width + 8)
    with torch.inference_mode():
        first = fn(canvas, *window)
        assert torch.allclose(fn(canvas, *window), exact(canvas, *window), atol=1e-5)
        canvas[:, window[0] : window[1]] = 9
        fresh, cached = exact(canvas, *window), fn(canvas, *window)
    assert (cached - fresh).abs().max() < (first - fresh).abs().max()


def test_caches_refuse_the_wrong_attention_or_model(models) -> None:
    model, tokenizer, _ = models["llada"]
    _, mask = _batch(tokenizer)
    with pytest.raises(ValueError, match="block-causal"):
        make_logits_fn(model, mask, False, 4, "bidirectional", None, "block_kv")
    with pytest.raises(ValueError, match="bidirectional"):
        make_logits_fn(model, mask, False, 4, "block_causal", 4, "dual")

    class EncoderOnly(torch.nn.Module):
        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None) -> None:
            """No cache, no positions."""

    with pytest.raises(ValueError, match="past_key_values"):
        make_logits_fn(EncoderOnly(), mask, False, 4, "bidirectional", None, "prefix")


def test_growing_cache_holds_what_transformers_dynamic_cache_holds() -> None:
    # The engine's cache pattern: a prefill, then per step append a window and crop back to the kept slots.
    from transformers import DynamicCache, LlamaConfig

    from model_adapters._cache import growing_cache

    config = LlamaConfig(hidden_size=32, num_attention_heads=4, num_key_value_heads=2, num_hidden_layers=2)
    ours, theirs = growing_cache(config), DynamicCache(config=config)
    gen = torch.Generator().manual_seed(0)
    for length, keep in ((20, 20), (4, 20), (4, 20), (8, 24), (3, 10), (40, 50)):
        for layer in range(2):
            k, v = torch.randn(2, 2, length, 8, generator=gen), torch.randn(2, 2, length, 8, generator=gen)
            got, want = ours.update(k, v, layer), theirs.update(k, v, layer)
            assert all(torch.equal(a, b) for a, b in zip(got, want, strict=True))
        for cache in (ours, theirs):
            cache.crop(keep - cache.get_seq_length())
        assert ours.get_seq_length() == theirs.get_seq_length() == keep
