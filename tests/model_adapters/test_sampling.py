"""Samplers against transcriptions of each reference's sampling step, with one shared noise stream.

Greedy decoding is compared with the references end to end elsewhere (test_engine.py, test_families.py);
here temperature, top-p and top-k, and the mask token's place in the softmax, are compared step by step
on random logits and then through whole LLaDA and Dream decodes at temperature > 0.
"""

from __future__ import annotations

import pytest
import torch

from model_adapters._engine import SpecialTokens, denoise
from model_adapters._runner import bidirectional_logits_fn
from model_adapters._sampling import SAMPLERS
from model_adapters._settings import DecodingSettings
from model_adapters._strategies import CONFIDENCE_RULES
from tests.model_adapters.reference_sampling import dream_sample_tokens, llada_step, topk_topp_sample

VOCAB, WIDTH, MASK, EOS, EOT = 40, 12, 39, 3, 4
SPECIAL = SpecialTokens(mask_id=MASK, eos_id=EOS, eot_id=EOT)


def _logits(seed: int) -> torch.Tensor:
    """[1, WIDTH, VOCAB] logits whose mask token holds real mass but is never the top token."""
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(1, WIDTH, VOCAB, generator=g) * 2.5
    others = logits[..., :MASK].amax(-1)
    logits[..., MASK] = others - torch.rand(1, WIDTH, generator=g) * 2  # up to e^-2 of the top token's mass
    return logits


def _ours(name: str, logits: torch.Tensor, rule: str, **settings: float) -> tuple[torch.Tensor, ...]:
    """Our sampler and confidence rule on ``logits``, and the uniforms its Gumbel noise came from."""
    resolved = DecodingSettings(sampler=name, remasking=rule, **settings)
    resolved.validate()
    uniform = torch.rand(logits.shape[1:], generator=torch.Generator().manual_seed(7), dtype=torch.float64)

    def gumbel() -> torch.Tensor:
        return -torch.log(-torch.log(uniform.clamp_min(1e-300)))[None]

    candidates, probs = SAMPLERS[name](logits.clone(), resolved, SPECIAL, gumbel)
    confidence = CONFIDENCE_RULES[rule].fn(probs, candidates, lambda: torch.zeros(1, logits.shape[1]))
    return candidates[0], confidence[0], uniform


def _where_the_reference_drew_a_token(x0: torch.Tensor) -> torch.Tensor:
    """Positions where the reference's draw is not [MASK] (the engine never proposes it: its one departure)."""
    drawn = x0 != MASK
    assert drawn.sum() >= WIDTH - 2, "the mask should rarely be drawn at these temperatures"
    return drawn


@pytest.mark.parametrize("temperature", [0.0, 0.5, 1.0, 1.7])
@pytest.mark.parametrize("eos_eot", [False, True])
@pytest.mark.parametrize("seed", range(3))
def test_llada_sampler_matches_generate(temperature, eos_eot, seed) -> None:
    logits = _logits(seed)
    candidates, confidence, uniform = _ours("llada", logits, "low_confidence", temperature=temperature,
                                            confidence_eos_eot_inf=eos_eot)
    x0, p = llada_step(logits[0], temperature, uniform, EOS, EOT, confidence_eos_eot_inf=eos_eot)
    drawn = _where_the_reference_drew_a_token(x0)
    assert candidates[drawn].tolist() == x0[drawn].tolist()
    torch.testing.assert_close(confidence[drawn], p[drawn].float())


def test_llada_confidence_drops_eos_only_when_greedy() -> None:
    # The published chained assignment writes EOS's -inf into the noised copy, which is the logits themselves
    # only at temperature 0: sampling keeps EOS's mass in the confidence, greedy decoding does not.
    logits = torch.zeros(1, 1, VOCAB)
    logits[0, 0, 10], logits[0, 0, EOS], logits[0, 0, EOT] = 6.0, 5.0, 5.0
    greedy = _ours("llada", logits, "low_confidence", confidence_eos_eot_inf=True)[1]
    sampled = _ours("llada", logits, "low_confidence", confidence_eos_eot_inf=True, temperature=1e-3)[1]
    e = torch.tensor(1.0).exp()
    assert greedy.item() == pytest.approx(e**6 / (e**6 + VOCAB - 3))
    assert sampled.item() == pytest.approx(e**6 / (e**6 + e**5 + VOCAB - 3))


@pytest.mark.parametrize(("alg", "rule"), [("maskgit_plus", "low_confidence"), ("topk_margin", "margin"),
                                           ("entropy", "entropy")])
@pytest.mark.parametrize(("temperature", "top_p", "top_k"),
                         [(0.0, 1.0, 0), (0.0, 0.9, 0), (0.0, 1.0, 5), (0.2, 1.0, 0), (1.0, 0.9, 0), (0.7, 0.95, 8),
                          (1.3, 1.0, 3)])
@pytest.mark.parametrize("seed", range(2))
def test_dream_sampler_matches_sample_tokens(alg, rule, temperature, top_p, top_k, seed) -> None:
    logits = _logits(seed)
    candidates, confidence, uniform = _ours("dream", logits, rule, temperature=temperature, top_p=top_p,
                                            top_k=top_k)
    expected_confidence, x0 = dream_sample_tokens(logits[0], temperature, top_p, top_k or None, uniform, alg)
    drawn = _where_the_reference_drew_a_token(x0)
    assert candidates[drawn].tolist() == x0[drawn].tolist()
    torch.testing.assert_close(confidence[drawn], expected_confidence[drawn], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize(("temperature", "top_p", "top_k"),
                         [(0.0, 1.0, 0), (1.0, 1.0, 0), (0.5, 1.0, 0), (1.0, 0.9, 0), (0.8, 0.95, 5), (1.5, 1.0, 4)])
@pytest.mark.parametrize("seed", range(3))
def test_sdar_llada2_sampler_matches_sample_with_temperature_topk_topp(temperature, top_p, top_k, seed) -> None:
    logits = _logits(seed)
    candidates, confidence, uniform = _ours("sdar", logits, "low_confidence", temperature=temperature,
                                            top_p=top_p, top_k=top_k)
    token, token_prob = topk_topp_sample(logits[0], temperature, top_k, top_p, uniform)
    drawn = _where_the_reference_drew_a_token(token)
    assert candidates[drawn].tolist() == token[drawn].tolist()
    torch.testing.assert_close(confidence[drawn], token_prob[drawn], atol=1e-6, rtol=1e-5)


def test_mask_mass_stays_in_the_confidence_and_can_reorder_positions() -> None:
    # Position 0: top token 0.4, mask 0.5. Position 1: top token 0.6, no mask mass. Every reference ranks
    # position 1 first (0.6 > 0.4); a softmax without the mask would rank position 0 first (0.8 > 0.6).
    probs = torch.full((1, 2, VOCAB), 1e-9)
    probs[0, 0, 7], probs[0, 0, MASK], probs[0, 0, 8] = 0.4, 0.5, 0.1
    probs[0, 1, 9], probs[0, 1, 10] = 0.6, 0.4
    _, confidence, _ = _ours("llada", probs.log(), "low_confidence")
    assert confidence.tolist() == pytest.approx([0.4, 0.6], abs=1e-6)


def test_filters_refused_where_the_reference_has_none() -> None:
    with pytest.raises(ValueError, match="no top-p / top-k"):
        DecodingSettings(sampler="llada", top_p=0.9).validate()
    with pytest.raises(ValueError, match="top_p must be in"):
        DecodingSettings(sampler="dream", top_p=0.0).validate()
    with pytest.raises(ValueError, match="unknown sampler"):
        DecodingSettings(sampler="nucleus").validate()
    with pytest.raises(ValueError, match="needs sampler='llada'"):
        DecodingSettings(sampler="sdar", confidence_eos_eot_inf=True).validate()


# ------------------------------------------------------------------ whole decodes at temperature > 0
def _mask_rarely_drawn(model, mask_id: int) -> None:  # noqa: ANN001
    """Keep the mask's logit 6 below the top one, as in a trained model: a little mass, (almost) never drawn.

    Both decoders call the same model, so both see these logits; the references would commit a drawn mask.
    """

    def hook(module: torch.nn.Module, inputs: tuple, logits: torch.Tensor) -> torch.Tensor:  # noqa: ARG001
        others = logits.clone()
        others[..., mask_id] = float("-inf")
        capped = logits.clone()
        capped[..., mask_id] = torch.minimum(logits[..., mask_id], others.amax(-1) - 6.0)
        return capped

    model.get_output_embeddings().register_forward_hook(hook)


def _llada_generate_sampled(model, prompt, steps, gen_length, block_length, temperature, generator,  # noqa: ANN001, ANN202
                            special):
    """LLaDA ``generate`` at temperature > 0 with ``confidence_eos_eot_inf`` (one prompt), noise per block window."""
    length = prompt.shape[1]
    x = torch.full((1, length + gen_length), special.mask_id, dtype=torch.long)
    x[:, :length] = prompt
    blocks, per_block = gen_length // block_length, steps // (gen_length // block_length)
    for b in range(blocks):
        lo, hi = length + b * block_length, length + (b + 1) * block_length
        n_masked = int((x[:, lo:hi] == special.mask_id).sum())
        counts = [n_masked // per_block + (1 if i < n_masked % per_block else 0) for i in range(per_block)]
        for i in range(per_block):
            is_mask = x == special.mask_id
            full = torch.zeros(1, 1, x.shape[1], x.shape[1])  # bidirectional, as LLaDA's own model attends
            logits = model(x, attention_mask=full, position_ids=torch.arange(x.shape[1])[None]).logits[0, lo:hi]
            uniform = torch.rand((hi - lo, logits.shape[-1]), generator=generator, dtype=torch.float64)
            x0, p = llada_step(logits, temperature, uniform, special.eos_id, special.eot_id, True)
            confidence = torch.where(is_mask[0, lo:hi], p, -torch.inf)
            chosen = torch.topk(confidence, counts[i]).indices
            assert (x0[chosen] != special.mask_id).all(), "oracle precondition: no draw of the mask"
            x[0, lo + chosen] = x0[chosen]
    return x[:, length:]


@pytest.mark.parametrize(("steps", "gen_length", "block_length", "temperature"),
                         [(12, 12, 4, 0.8), (6, 12, 12, 1.0), (8, 16, 8, 0.3)])
def test_llada_decode_at_temperature_matches_generate(tiny_llada_path, steps, gen_length, block_length,
                                                      temperature) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(tiny_llada_path).eval()
    tokenizer = AutoTokenizer.from_pretrained(tiny_llada_path)
    _mask_rarely_drawn(model, tokenizer.mask_token_id)
    mask_id, eos_id = tokenizer.mask_token_id, tokenizer.eos_token_id
    eot_id = tokenizer.convert_tokens_to_ids(tokenizer.pad_token)  # any id other than EOS stands in for EoT
    settings = DecodingSettings(steps=steps, gen_length=gen_length, block_length=block_length,
                                temperature=temperature, confidence_eos_eot_inf=True).resolve(gen_length)
    special = SpecialTokens(mask_id=mask_id, eos_id=eos_id, eot_id=eot_id)
    for seed, text in enumerate(["Q: 2+2?\nA:", "Say hi", "x"]):
        prompt = torch.tensor([tokenizer(text)["input_ids"]])
        with torch.inference_mode():
            expected = _llada_generate_sampled(model, prompt, steps, gen_length, block_length, temperature,
                                               torch.Generator().manual_seed(seed), special)
            full = torch.ones(1, prompt.shape[1] + gen_length, dtype=torch.long)
            got = denoise(bidirectional_logits_fn(model, full, shifted=False), prompt, settings, special,
                          generators=[torch.Generator().manual_seed(seed)])
        assert got.canvas.tolist() == expected.tolist()


def _dream_generate_sampled(forward, prompt, gen_length, steps, special, alg, temperature, top_p, top_k,  # noqa: ANN001, ANN202
                            generator):
    """Dream's ``_sample`` at temperature > 0 (one prompt): noise drawn over the canvas, read at its masks."""
    x = torch.nn.functional.pad(prompt, (0, gen_length), value=special.mask_id)
    timesteps = torch.linspace(1, 1e-3, steps + 1)
    for i in range(steps):
        mask_index = x == special.mask_id
        logits = forward(x)
        logits = torch.cat([logits[:, :1], logits[:, :-1]], dim=1)
        uniform = torch.rand((gen_length, logits.shape[-1]), generator=generator, dtype=torch.float64)
        confidence, x0 = dream_sample_tokens(logits[mask_index], temperature, top_p, top_k,
                                             uniform[mask_index[0, prompt.shape[1]:]], alg)
        t, s = timesteps[i], timesteps[i + 1]
        n_masked = mask_index.sum() / mask_index.shape[0]
        n_transfer = int(n_masked * (1 - s / t)) if i < steps - 1 else int(n_masked)
        full_confidence = torch.full_like(x, -torch.inf, dtype=logits.dtype)
        full_confidence[mask_index] = confidence
        if n_transfer > 0:
            ranked = full_confidence[0].sort(descending=True).values
            assert n_transfer == ranked.numel() or ranked[n_transfer - 1] > ranked[n_transfer], \
                "oracle precondition: no tie at the cut (torch.topk breaks ties in no documented order)"
            chosen = torch.topk(full_confidence, n_transfer).indices
            proposal = torch.full_like(x, special.mask_id)
            proposal[mask_index] = x0
            x[0, chosen[0]] = proposal[0, chosen[0]]
            assert (proposal[0, chosen[0]] != special.mask_id).all(), "oracle precondition: no draw of the mask"
    return x[:, prompt.shape[1]:]


@pytest.mark.parametrize(("alg", "rule"), [("entropy", "entropy"), ("maskgit_plus", "low_confidence")])
@pytest.mark.parametrize(("temperature", "top_p", "top_k"), [(0.5, 0.99, None), (1.0, 0.98, 20), (0.7, 1.0, None)])
def test_dream_decode_at_temperature_matches_diffusion_generate(tiny_dream_path, alg, rule, temperature, top_p,
                                                                top_k) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(tiny_dream_path).eval()
    tokenizer = AutoTokenizer.from_pretrained(tiny_dream_path)
    _mask_rarely_drawn(model, tokenizer.mask_token_id)
    special = SpecialTokens(mask_id=tokenizer.mask_token_id, eos_id=tokenizer.eos_token_id)
    gen_length, steps = 12, 6
    settings = DecodingSettings(sampler="dream", schedule="dream", remasking=rule, steps=steps, temperature=temperature,
                                top_p=top_p, top_k=top_k or 0).resolve(gen_length)

    def forward(x: torch.Tensor) -> torch.Tensor:
        full = torch.zeros(1, 1, x.shape[1], x.shape[1])
        return model(x, attention_mask=full, position_ids=torch.arange(x.shape[1])[None]).logits

    for seed, text in enumerate(["Q: 2+2?\nA:", "Say hi", "x"]):
        prompt = torch.tensor([tokenizer(text, add_special_tokens=False)["input_ids"]])
        with torch.inference_mode():
            expected = _dream_generate_sampled(forward, prompt, gen_length, steps, special, alg, temperature, top_p,
                                               top_k, torch.Generator().manual_seed(seed))
            full = torch.ones(1, prompt.shape[1] + gen_length, dtype=torch.long)
            got = denoise(bidirectional_logits_fn(model, full, shifted=True), prompt, settings, special,
                          generators=[torch.Generator().manual_seed(seed)])
        assert got.canvas.tolist() == expected.tolist()


def test_readme_sampler_table_lists_every_registered_sampler() -> None:
    from pathlib import Path

    readme = (Path(__file__).parents[2] / "README.md").read_text()
    table = readme.split("| sampler | reference |", 1)[1].split("\n\n", 1)[0]
    listed = {line.split("|")[1].strip().strip("`") for line in table.splitlines()[2:] if line.startswith("|")}
    assert listed == set(SAMPLERS)
