"""Every family: detection from its real config.json, owned loading, reference logits and decoders, batches.

Checkpoints come from ``tests.tiny_models.build_native``: tiny random weights saved in each
family's published layout (model_type, architectures and key names), so detection and the owned
loaders in ``model_adapters/_models`` are exercised exactly as with a downloaded checkpoint.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from model_adapters import detect_family, get_family
from model_adapters._engine import SpecialTokens, TraceRecorder, denoise
from model_adapters._runner import bidirectional_logits_fn, make_logits_fn
from model_adapters._settings import DecodingSettings
from tests.model_adapters.reference_dream import reference_dream_generate
from tests.model_adapters.reference_fast_dllm_v2 import reference_fast_dllm_v2_generate
from tests.model_adapters.reference_llada2 import reference_llada2_generate, reference_llada21_generate
from tests.model_adapters.reference_sdar import block_causal_mask, reference_sdar_generate
from tests.tiny_models import load_native

OWNED = ["llada", "dream", "sdar", "fast_dllm_v2"]
MOE = ["llada_moe", "llada2"]  # owned too; their padded-batch, loader and CLI tests: test_models_moe.py
REFERENCE = json.loads((Path(__file__).parent / "reference_logits.json").read_text())


@pytest.fixture(scope="module")
def native(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Tiny checkpoints in every owned family's real layout (seed 0, as the reference logits)."""
    from tests.tiny_models import build_native

    root = tmp_path_factory.mktemp("native")
    return {family: build_native(family, root / family) for family in OWNED + MOE}


# ------------------------------------------------------------------ detection
@pytest.mark.parametrize(
    ("config", "family"),
    [
        ({"model_type": "llada", "architectures": ["LLaDAModelLM"]}, "llada"),
        ({"model_type": "Dream", "architectures": ["DreamModel"]}, "dream"),
        ({"model_type": "sdar", "architectures": ["SDARForCausalLM"]}, "sdar"),
        ({"model_type": "sdar_moe", "architectures": ["SDARMoeForCausalLM"]}, "sdar"),
        ({"model_type": "Fast_dLLM_QWen", "architectures": ["Fast_dLLM_QwenForCausalLM"]}, "fast_dllm_v2"),
        ({"model_type": "lladamoe", "architectures": ["LLaDAMoEModelLM"]}, "llada_moe"),
        # LLaDA-MoE checkpoints have also been published with LLaDA's model_type: architecture wins.
        ({"model_type": "llada", "architectures": ["LLaDAMoEModelLM"]}, "llada_moe"),
        ({"model_type": "llada2_moe", "architectures": ["LLaDA2MoeModelLM"]}, "llada2"),
        ({"model_type": "diffusion_gemma", "architectures": ["DiffusionGemmaForBlockDiffusion"]}, "diffusion_gemma"),
        ({"model_type": "modernbert", "architectures": ["ModernBertForMaskedLM"]}, "modernbert"),
    ],
)
def test_family_detected_from_config(config, family) -> None:
    assert detect_family(config).name == family


def test_presets_carry_published_facts() -> None:
    facts = {  # family: (mask id, shifted, attention, attention block)
        "llada": (126336, False, "bidirectional", None), "illada": (5, False, "bidirectional", None),
        "dream": (151666, True, "bidirectional", None), "sdar": (151669, False, "block_causal", 4),
        "llada_moe": (156895, False, "bidirectional", None), "llada2": (156895, False, "block_causal", 32),
        "llada2_1": (156895, False, "block_causal", 32), "fast_dllm_v2": (151665, True, "block_causal", 32),
    }
    for name, (mask_id, shifted, attention, block) in facts.items():
        preset = get_family(name)
        assert (preset.mask_token_id, preset.shifted_logits, preset.attention, preset.attention_block) == (
            mask_id, shifted, attention, block), name
        DecodingSettings.from_mapping(preset.defaults).resolve(64)  # every preset's defaults are valid settings
    assert get_family("llada2").defaults["early_stop"] == "eos_block"
    assert get_family("llada2").defaults["threshold"] == 0.95
    assert get_family("sdar").defaults["threshold"] == 0.9
    for name in ("sdar", "llada2"):  # strictly above the threshold, at least the block spread over its steps
        assert get_family(name).defaults["schedule"] == "threshold_count", name
    for name in ("llada2_1", "fast_dllm_v2"):  # strictly above the threshold, at least one, no step budget
        assert get_family(name).defaults["schedule"] == "threshold_strict", name
    assert get_family("fast_dllm_v2").defaults["ar_block_start"] is True
    llada21 = get_family("llada2_1").defaults  # its generate()'s defaults, editing inside decoding
    assert (llada21["editing_threshold"], llada21["max_post_steps"], llada21["threshold"]) == (0.9, 16, 0.95)
    assert "edit_rounds" not in llada21


# ------------------------------------------------------------------ owned implementations
@pytest.mark.parametrize("family", OWNED + MOE)
def test_owned_logits_match_authors_code(native, family) -> None:
    expected = REFERENCE[family]
    preset, model = load_native(native[family])
    assert preset.name == family
    ids = torch.tensor(expected["input_ids"])
    length = ids.shape[1]
    if expected["attention"] == "full":
        mask = torch.zeros(ids.shape[0], 1, length, length)
    else:
        mask = block_causal_mask(length, int(expected["attention"].split(":")[1])).expand(ids.shape[0], 1, -1, -1)
    with torch.no_grad():
        logits = model(ids, attention_mask=mask, position_ids=torch.arange(length).expand_as(ids)).logits
    torch.testing.assert_close(logits[..., :16], torch.tensor(expected["logits_first16"]), atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(logits.sum(-1), torch.tensor(expected["row_sums"]), atol=1e-3, rtol=1e-4)
    assert logits.argmax(-1).tolist() == expected["argmax"]


def test_owned_loader_refuses_a_checkpoint_with_missing_weights(native, tmp_path) -> None:
    import shutil

    from safetensors.torch import load_file, save_file

    broken = tmp_path / "broken"
    shutil.copytree(native["llada"], broken)
    state = load_file(broken / "model.safetensors")
    state.pop("model.transformer.blocks.1.up_proj.weight")
    save_file(state, str(broken / "model.safetensors"), metadata={"format": "pt"})
    with pytest.raises(ValueError, match="up_proj"):
        load_native(broken)


# ------------------------------------------------------------------ published decoders
def _prompts(tokenizer, texts):  # noqa: ANN001, ANN202
    return [torch.tensor([tokenizer(t, add_special_tokens=False)["input_ids"]]) for t in texts]


@pytest.mark.parametrize(("alg", "remasking"), [("entropy", "entropy"), ("maskgit_plus", "low_confidence"),
                                                  ("topk_margin", "margin")])
@pytest.mark.parametrize(("gen_length", "steps"), [(16, 16), (12, 5)])
def test_dream_engine_matches_diffusion_generate(native, alg, remasking, gen_length, steps) -> None:
    from transformers import AutoTokenizer

    preset, model = load_native(native["dream"])
    tokenizer = AutoTokenizer.from_pretrained(native["dream"])
    mask_id = tokenizer.mask_token_id
    settings = DecodingSettings.from_mapping({**preset.defaults, "remasking": remasking, "steps": steps})
    settings = settings.resolve(gen_length)
    assert settings.schedule == "dream" and settings.block_length == gen_length

    def forward(x: torch.Tensor) -> torch.Tensor:  # Dream's model call without padding: full attention
        full = torch.zeros(1, 1, x.shape[1], x.shape[1])
        return model(x, attention_mask=full, position_ids=torch.arange(x.shape[1])[None]).logits

    for prompt in _prompts(tokenizer, ["Q: 2+2?\nA:", "Say hi", "The quick brown fox", "x"]):
        with torch.no_grad():
            expected = reference_dream_generate(forward, prompt, gen_length, steps, mask_id, alg=alg)
            assert not (expected == mask_id).any(), "oracle precondition: the model never proposes the mask"
            full = torch.ones(1, prompt.shape[1] + gen_length, dtype=torch.long)
            got = denoise(bidirectional_logits_fn(model, full, shifted=True), prompt, settings,
                          SpecialTokens(mask_id=mask_id, eos_id=tokenizer.eos_token_id))
        assert got.canvas.tolist() == expected.tolist()


@pytest.mark.parametrize("threshold", [0.9, 0.3])
def test_sdar_engine_matches_block_diffusion_generate(native, threshold) -> None:
    # Prompts of exactly one attention block: the engine's blocks then line up with SDAR's absolute ones.
    from transformers import AutoTokenizer

    preset, model = load_native(native["sdar"])
    tokenizer = AutoTokenizer.from_pretrained(native["sdar"])
    mask_id, gen_length = tokenizer.mask_token_id, 16
    settings = DecodingSettings.from_mapping({**preset.defaults, "threshold": threshold}).resolve(gen_length)

    def forward(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return model(x, attention_mask=mask, position_ids=torch.arange(x.shape[1])[None]).logits

    changed = 0
    for prompt in _prompts(tokenizer, ["Q:2+", "Hi!!", "abcd", "0123"]):
        with torch.no_grad():
            expected = reference_sdar_generate(forward, prompt, gen_length, 4, 4, mask_id, threshold=threshold)
            expected = expected[:, prompt.shape[1]: prompt.shape[1] + gen_length]
            assert not (expected == mask_id).any(), "oracle precondition: the model never proposes the mask"
            full = torch.ones(1, prompt.shape[1] + gen_length, dtype=torch.long)
            fn = make_logits_fn(model, full, False, prompt.shape[1], preset.attention, preset.attention_block)
            got = denoise(fn, prompt, settings, SpecialTokens(mask_id=mask_id, eos_id=tokenizer.eos_token_id))
        assert got.canvas.tolist() == expected.tolist()
        changed += int(got.nfe.item() < gen_length)
    if threshold < 0.5:
        assert changed, "a low threshold should commit several tokens in some step"


def test_sdar_engine_matches_block_diffusion_generate_for_any_prompt_length(native) -> None:
    from transformers import AutoTokenizer

    preset, model = load_native(native["sdar"])
    tokenizer = AutoTokenizer.from_pretrained(native["sdar"])
    mask_id, gen_length = tokenizer.mask_token_id, 16
    settings = DecodingSettings.from_mapping(preset.defaults).resolve(gen_length)

    def forward(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return model(x, attention_mask=mask, position_ids=torch.arange(x.shape[1])[None]).logits

    for prompt in _prompts(tokenizer, ["Q: 2+2?", "abcdefgh"]):  # 7 tokens (unaligned), 8 (two prompt blocks)
        with torch.no_grad():
            expected = reference_sdar_generate(forward, prompt, gen_length, 4, 4, mask_id)
            expected = expected[:, prompt.shape[1]: prompt.shape[1] + gen_length]
            full = torch.ones(1, prompt.shape[1] + gen_length, dtype=torch.long)
            fn = make_logits_fn(model, full, False, prompt.shape[1], preset.attention, preset.attention_block)
            got = denoise(fn, prompt, settings, SpecialTokens(mask_id=mask_id, eos_id=tokenizer.eos_token_id))
        assert got.canvas.tolist() == expected.tolist()


def _left_padded(prompts: list[torch.Tensor], gen_length: int, pad: int) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(p.shape[1] for p in prompts)
    batch = torch.full((len(prompts), width), pad)
    mask = torch.zeros(len(prompts), width + gen_length, dtype=torch.long)
    for row, p in enumerate(prompts):
        batch[row, width - p.shape[1] :], mask[row, width - p.shape[1] :] = p[0], 1
    return batch, mask


def _block_causal_forward(model, mask_id: int):  # noqa: ANN001, ANN202
    """The references' model call, logits as the model gives them: the mask token keeps its mass in the softmax."""

    def forward(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return model(x, attention_mask=mask, position_ids=torch.arange(x.shape[1])[None]).logits

    return forward


def _mask_never_on_top(mask_id: int):  # noqa: ANN202
    """A forward hook on the output layer: the mask's logit at most the top other logit minus one."""

    def hook(module: torch.nn.Module, inputs: tuple, logits: torch.Tensor) -> torch.Tensor:  # noqa: ARG001
        others = logits.clone()
        others[..., mask_id] = float("-inf")
        capped = logits.clone()
        capped[..., mask_id] = torch.minimum(logits[..., mask_id], others.amax(-1) - 1.0)
        return capped

    return hook


def _answer(ids: list[int], stops: set[int]) -> list[int]:
    """Tokens up to and including the first stop token (what the adapter keeps)."""
    end = next((i + 1 for i, t in enumerate(ids) if t in stops), len(ids))
    return ids[:end]


SDAR_TEXTS = ["Q: 2+2?", "abcdefgh", "Hello there, how", "x", "The quick brown fox jumps"]  # 7, 8, 16, 1, 25 tokens


@pytest.mark.parametrize("cache", ["none", "block_kv"])
def test_sdar_left_padded_batch_matches_block_diffusion_generate_row_by_row(native, cache) -> None:
    # Each row's blocks sit at its own absolute positions: one batch of unaligned prompts equals the
    # reference decoding each prompt alone, with and without the KV cache.
    from transformers import AutoTokenizer

    preset, model = load_native(native["sdar"])
    tokenizer = AutoTokenizer.from_pretrained(native["sdar"])
    mask_id, gen_length = tokenizer.mask_token_id, 16
    settings = DecodingSettings.from_mapping({**preset.defaults, "threshold": 0.3, "cache": cache})
    settings = settings.resolve(gen_length)
    prompts = _prompts(tokenizer, SDAR_TEXTS)
    batch, mask = _left_padded(prompts, gen_length, tokenizer.pad_token_id)
    with torch.no_grad():
        fn = make_logits_fn(model, mask, False, batch.shape[1], preset.attention, preset.attention_block, cache)
        got = denoise(fn, batch, settings, SpecialTokens(mask_id=mask_id, eos_id=tokenizer.eos_token_id))
        forward = _block_causal_forward(model, mask_id)
        for row, prompt in enumerate(prompts):
            expected = reference_sdar_generate(forward, prompt, gen_length, 4, 4, mask_id,
                                               threshold=0.3)
            assert got.canvas[row].tolist() == expected[0, prompt.shape[1] : prompt.shape[1] + gen_length].tolist()


@pytest.mark.parametrize(("block", "gen_length", "threshold"),
                         [(32, 64, 0.95), (32, 16, 0.95), (4, 16, 0.95), (4, 16, 0.3)])
def test_llada2_engine_matches_generate(native, block, gen_length, threshold) -> None:
    # LLaDA2.0's decoding algorithm on tiny block-causal (SDAR/Qwen3) weights, blocks of 32 as published and
    # of 4; the preset's defaults with only the block size (and a low threshold) overridden. A canvas of 16
    # in blocks of 32: the reference's steps = min(32, gen_length) = 16 commit 2 per step, as ours do.
    from transformers import AutoTokenizer

    _, model = load_native(native["sdar"])
    tokenizer = AutoTokenizer.from_pretrained(native["sdar"])
    mask_id, eos_id = tokenizer.mask_token_id, tokenizer.eos_token_id
    defaults = get_family("llada2").defaults
    settings = DecodingSettings.from_mapping({**defaults, "block_length": block, "threshold": threshold})
    settings = settings.resolve(gen_length)
    prompts = _prompts(tokenizer, SDAR_TEXTS)
    batch, mask = _left_padded(prompts, gen_length, tokenizer.pad_token_id)
    recorder = TraceRecorder(len(prompts), gen_length, "cpu")
    with torch.no_grad():
        fn = make_logits_fn(model, mask, False, batch.shape[1], "block_causal", block)
        got = denoise(fn, batch, settings, SpecialTokens(mask_id=mask_id, eos_id=eos_id), observer=recorder)
        forward = _block_causal_forward(model, mask_id)
        for row, prompt in enumerate(prompts):
            ref = reference_llada2_generate(forward, prompt, gen_length, block, block, mask_id,
                                            eos_id, threshold=threshold)
            expected = ref.x[0, prompt.shape[1] : prompt.shape[1] + gen_length].tolist()
            assert _answer(got.canvas[row].tolist(), {eos_id}) == _answer(expected, {eos_id})
            assert int(got.nfe[row]) == ref.nfe
            decoded = sorted(g for g in ref.first_step if g < gen_length)
            assert [int(recorder.first_step[row, g]) for g in decoded] == [ref.first_step[g] for g in decoded]


@pytest.mark.parametrize(("editing_threshold", "threshold"), [(0.9, 0.95), (0.5, 0.7), (0.0, 0.5)])
def test_llada21_editing_matches_generate(native, editing_threshold, threshold) -> None:
    # LLaDA2.1's generate (token-to-token editing inside the block, post-fill passes) on tiny block-causal
    # weights, blocks of 4: tokens, forward passes, and each position's first-commit and last-change steps.
    from transformers import AutoTokenizer

    _, model = load_native(native["sdar"])
    tokenizer = AutoTokenizer.from_pretrained(native["sdar"])
    mask_id, eos_id, gen_length = tokenizer.mask_token_id, tokenizer.eos_token_id, 16
    # At a low editing threshold the reference would "edit" a token into [MASK] wherever the random weights'
    # argmax is the mask, which the engine never proposes (a trained model does not): keep the mask below the
    # top logit, its probability mass untouched in both decoders' softmax.
    model.get_output_embeddings().register_forward_hook(_mask_never_on_top(mask_id))
    defaults = get_family("llada2_1").defaults
    settings = DecodingSettings.from_mapping(
        {**defaults, "block_length": 4, "threshold": threshold, "editing_threshold": editing_threshold})
    settings = settings.resolve(gen_length)
    prompts = _prompts(tokenizer, SDAR_TEXTS)
    batch, mask = _left_padded(prompts, gen_length, tokenizer.pad_token_id)
    recorder = TraceRecorder(len(prompts), gen_length, "cpu")
    edited = 0
    with torch.no_grad():
        fn = make_logits_fn(model, mask, False, batch.shape[1], "block_causal", 4)
        got = denoise(fn, batch, settings, SpecialTokens(mask_id=mask_id, eos_id=eos_id), observer=recorder)
        forward = _block_causal_forward(model, mask_id)
        for row, prompt in enumerate(prompts):
            ref = reference_llada21_generate(forward, prompt, gen_length, 4, mask_id, eos_id,
                                             threshold=threshold, editing_threshold=editing_threshold)
            expected = ref.x[0, prompt.shape[1] : prompt.shape[1] + gen_length].tolist()
            assert _answer(got.canvas[row].tolist(), {eos_id}) == _answer(expected, {eos_id})
            assert int(got.nfe[row]) == ref.nfe
            decoded = sorted(g for g in ref.first_step if g < gen_length)
            assert [int(recorder.first_step[row, g]) for g in decoded] == [ref.first_step[g] for g in decoded]
            assert [int(recorder.final_step[row, g]) for g in decoded] == [ref.last_change[g] for g in decoded]
            edited += int((recorder.final_step[row] != recorder.first_step[row]).sum())
    if editing_threshold < 0.6:
        assert edited, "the low editing thresholds should edit some committed token on these weights"


@pytest.mark.parametrize("threshold", [0.95, 0.3])
def test_fast_dllm_v2_engine_matches_batch_sample(native, threshold) -> None:
    # Fast-dLLM v2: shifted logits, attention blocks of 32 at absolute positions, sub-blocks of 8, each
    # block's first token from the previous block; prompts unaligned, aligned on 32 (64 tokens) and short.
    from transformers import AutoTokenizer

    preset, model = load_native(native["fast_dllm_v2"])
    tokenizer = AutoTokenizer.from_pretrained(native["fast_dllm_v2"])
    mask_id, stop_id, gen_length = tokenizer.mask_token_id, tokenizer.eos_token_id, 48
    settings = DecodingSettings.from_mapping({**preset.defaults, "threshold": threshold}).resolve(gen_length)
    texts = ["Q: 2+2?\nA: ", "a" * 64, "The quick brown fox jumps over the lazy dog, twice!"]
    prompts = _prompts(tokenizer, texts)
    batch, mask = _left_padded(prompts, gen_length, tokenizer.pad_token_id)
    stops = {stop_id, tokenizer.convert_tokens_to_ids("<|endoftext|>")}
    with torch.no_grad():
        fn = make_logits_fn(model, mask, True, batch.shape[1], preset.attention, preset.attention_block)
        got = denoise(fn, batch, settings, SpecialTokens(mask_id=mask_id, eos_id=stop_id,
                                                          eot_id=tokenizer.convert_tokens_to_ids("<|endoftext|>")))
        forward = _block_causal_forward(model, mask_id)
        for row, prompt in enumerate(prompts):
            # The reference decodes (max_new_tokens // 32 + P // 32) blocks: ask for enough to cover our canvas.
            ref = reference_fast_dllm_v2_generate(forward, prompt, gen_length + 64, mask_id,
                                                  stop_id, threshold=threshold)
            expected = ref[0, prompt.shape[1] : prompt.shape[1] + gen_length].tolist()
            assert _answer(got.canvas[row].tolist(), stops) == _answer(expected, stops)


# ------------------------------------------------------------------ through the adapter
@pytest.mark.parametrize("family", OWNED)
def test_adapter_batch_8_equals_batch_1_with_published_defaults(native, family, tmp_path) -> None:
    from tests.model_adapters.test_adapter import _run

    # 32 tokens: LLaDA-MoE's blocks of 32 must divide the canvas (block-causal families take any length).
    gen_kwargs = {"max_gen_toks": 32 if family == "llada_moe" else 16, "until": []}
    one, rows_one = _run(native[family], tmp_path, "b1", 1, gen_kwargs)
    eight, rows_eight = _run(native[family], tmp_path, "b8", 8, gen_kwargs)
    assert one == eight
    assert rows_one == rows_eight
    settings = next(iter(rows_one.values()))["settings"]
    for key, value in get_family(family).defaults.items():
        assert settings[key] == value, (family, key)
    assert any(text for text in one)


def test_llada21_through_the_adapter_traces_edits_and_is_batch_invariant(native, tmp_path) -> None:
    # family=llada2_1 on the tiny LLaDA2 checkpoint with the S-mode thresholds: committed tokens get edited,
    # the trace rows say so (last change after first commit, n_changes > 1), batch 8 == batch 1.
    from tests.model_adapters.test_adapter import _run

    gen_kwargs = {"max_gen_toks": 16, "until": [], "threshold": 0.5, "editing_threshold": 0.0}
    one, rows_one = _run(native["llada2"], tmp_path, "b1", 1, gen_kwargs, family="llada2_1")
    eight, rows_eight = _run(native["llada2"], tmp_path, "b8", 8, gen_kwargs, family="llada2_1")
    assert one == eight and rows_one == rows_eight
    edited = [row for row in rows_one.values()
              if any(last != first for last, first in zip(row["final_step"], row["first_step"], strict=True))]
    assert edited, "S mode should edit some committed token on these weights"
    for row in edited:
        assert any(n > 1 for n in row["n_changes"]) and row["settings"]["editing_threshold"] == 0.0
        assert all(first <= last for first, last in zip(row["first_step"], row["final_step"], strict=True))


@pytest.mark.slow
def test_cli_run_with_a_dream_checkpoint(native, tmp_path) -> None:
    import subprocess

    from tests.model_adapters.test_cli import LM_EVAL, _env

    out = tmp_path / "out"
    cmd = [LM_EVAL, "--model", "mdlm", "--model_args", f"pretrained={native['dream']}", "--tasks",
           "mdlm_sudoku4_easy", "--limit", "4", "--device", "cpu", "--output_path", str(out), "--log_samples"]
    run = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
    (results_file,) = out.glob("*/results_*.json")
    config = json.loads(results_file.read_text())["config"]
    assert config["mdlm_family"] == "dream"
    assert config["mdlm_decoding"]["schedule"] == "dream" and config["mdlm_decoding"]["remasking"] == "entropy"
    traces = (results_file.parent / config["mdlm_trace_file"]).read_text().splitlines()
    assert len(traces) == 4


# ------------------------------------------------------------------ DiffusionGemma (native, own sampler)
@pytest.mark.slow  # transformers' DiffusionGemma loop takes ~5 s per request even at this size
def test_diffusion_gemma_generate_hook_traces_every_step_and_is_batch_invariant(tmp_path) -> None:
    from model_adapters._engine import TraceRecorder
    from tests.tiny_models import build_diffusion_gemma

    path = build_diffusion_gemma(tmp_path / "dg")
    preset, model = load_native(path)
    assert preset.name == "diffusion_gemma" and preset.generate is not None
    prompts = [[2, 10, 11, 12, 13], [2, 40, 41]]
    width = max(map(len, prompts))
    prompt = torch.zeros(len(prompts), width, dtype=torch.long)
    mask = torch.zeros(len(prompts), width, dtype=torch.long)
    for row, ids in enumerate(prompts):
        prompt[row, width - len(ids):], mask[row, width - len(ids):] = torch.tensor(ids), 1
    settings = DecodingSettings().resolve(16)
    special = SpecialTokens(mask_id=-1, eos_id=3)
    generators = [torch.Generator().manual_seed(100 + row) for row in range(len(prompts))]
    recorder = TraceRecorder(len(prompts), 16, "cpu")
    with torch.no_grad():
        both = preset.generate(model, prompt, mask, settings, special, generators, recorder)
        alone = preset.generate(model, prompt[1:, -3:], mask[1:, -3:], settings, special, generators[1:])
    assert both.canvas[1].tolist() == alone.canvas[0].tolist()
    assert both.nfe[1] == alone.nfe[0] and int(both.nfe.min()) >= 2
    for row in range(len(prompts)):
        final = recorder.final_step[row]
        assert (final >= 0).all() and int(final.max()) < int(both.nfe[row])
        assert (recorder.first_step[row] <= final).all()
        # The second canvas starts after the first one's last step.
        assert int(recorder.first_step[row, 8:].min()) > int(recorder.first_step[row, :8].max())
