"""LLaDA-MoE and LLaDA2.0: owned implementations against the authors' code, their loaders, the real CLI.

Reference logits were computed by the authors' modeling code on the same tiny checkpoints
(``tests.tiny_models.build_native``), in a throwaway environment with the transformers version it
needs, and pinned in ``reference_logits.json``: an unpadded batch (full attention for LLaDA-MoE,
blocks of 8 for LLaDA2) and a left-padded one (LLaDA-MoE's remote code ignores masks, so each row
was run alone; LLaDA2's was given the padded block-causal mask).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import torch

from model_adapters import LoadRequest, detect_family
from model_adapters._engine import SpecialTokens, denoise
from model_adapters._runner import make_logits_fn
from model_adapters._settings import DecodingSettings
from tests.tiny_models import load_native

FAMILIES = ["llada_moe", "llada2"]
REFERENCE = json.loads((Path(__file__).parent / "reference_logits.json").read_text())


@pytest.fixture(scope="module")
def moe(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Tiny checkpoints in the hub layout of both MoE families (seed 0, as the reference logits)."""
    from tests.tiny_models import build_native

    root = tmp_path_factory.mktemp("moe")
    return {family: build_native(family, root / family) for family in FAMILIES}


@pytest.mark.parametrize("family", FAMILIES)
def test_left_padded_batch_matches_authors_code(moe, family) -> None:
    expected = REFERENCE[family]["padded"]
    preset, model = load_native(moe[family])
    ids, real = torch.tensor(expected["input_ids"]), torch.tensor(expected["attention_mask"])
    assert not real.all(), "the pinned batch is left-padded"
    block = 8 if family == "llada2" else None  # the pinned LLaDA2 run used attention blocks of 8
    with torch.no_grad():
        fn = make_logits_fn(model, real, False, ids.shape[1], preset.attention, block)
        logits = fn(ids, 0, ids.shape[1])[real.bool()]
    torch.testing.assert_close(logits[:, :16], torch.tensor(expected["logits_first16"]), atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(logits.sum(-1), torch.tensor(expected["row_sums"]), atol=1e-3, rtol=1e-4)
    assert logits.argmax(-1).tolist() == expected["argmax"]


def test_owned_networks_have_the_published_structure(moe) -> None:
    from transformers.models.qwen3_moe.modeling_qwen3_moe import Qwen3MoeMLP, Qwen3MoeSparseMoeBlock

    from model_adapters._models.llada2_modules import LLaDA2SparseMoe

    _, llada_moe = load_native(moe["llada_moe"])
    layers = llada_moe.model.layers
    assert isinstance(layers[0].mlp, Qwen3MoeMLP) and isinstance(layers[1].mlp, Qwen3MoeSparseMoeBlock)
    assert llada_moe.config.norm_topk_prob is False  # the remote MoE block never renormalises
    _, llada2 = load_native(moe["llada2"])
    layers = llada2.model.layers
    assert not isinstance(layers[0].mlp, LLaDA2SparseMoe) and isinstance(layers[1].mlp, LLaDA2SparseMoe)
    assert layers[0].attention.dense.bias is not None  # use_bias=True in the tiny config
    assert llada2.model.rotary_emb.inv_freq.numel() == 16 * 0.5 // 2  # partial RoPE over half of head_dim 16
    assert layers[1].mlp.gate.e_score_correction_bias.abs().sum() > 0  # the checkpoint's expert_bias was loaded


@pytest.mark.parametrize(
    ("family", "change", "message"),
    [
        ("llada_moe", {"moe_router_enable_expert_bias": True}, "moe_router_enable_expert_bias"),
        ("llada_moe", {"clip_qkv": 8.0}, "clip_qkv"),
        ("llada_moe", {"shared_expert_intermediate_size": 32}, "shared_expert"),
        ("llada2", {"num_shared_experts": 0}, "shared experts"),
        ("llada2", {"rope_scaling": {"rope_type": "yarn", "factor": 4.0}}, "rope_scaling"),
    ],
)
def test_loaders_refuse_options_the_owned_network_lacks(moe, family, change, message) -> None:
    config = {**json.loads((moe[family] / "config.json").read_text()), **change}
    preset = detect_family(config)
    with pytest.raises(NotImplementedError, match=message):
        preset.loader(LoadRequest(str(moe[family]), config, "cpu", "float32", False))


@pytest.mark.parametrize("family", FAMILIES)
def test_trust_remote_code_is_the_opt_in_for_the_authors_code(moe, family, monkeypatch) -> None:
    import model_adapters._models._common as common

    monkeypatch.setattr(common, "load_generic", lambda request: ("remote", request.trust_remote_code))
    assert load_native(moe[family], trust_remote_code=True)[1] == ("remote", True)


@pytest.mark.parametrize(
    ("family", "key"),
    [
        ("llada_moe", "model.layers.1.mlp.gate.weight"),
        ("llada_moe", "model.layers.2.mlp.experts.3.up_proj.weight"),  # transformers' expert merge fails
        ("llada2", "model.layers.2.attention.query_key_value.bias"),
        ("llada2", "model.layers.1.mlp.experts.5.down_proj.weight"),
    ],
)
def test_loader_refuses_a_checkpoint_with_missing_weights(moe, family, key, tmp_path) -> None:
    import shutil

    from safetensors.torch import load_file, save_file

    broken = tmp_path / "broken"
    shutil.copytree(moe[family], broken)
    state = load_file(broken / "model.safetensors")
    state.pop(key)
    save_file(state, str(broken / "model.safetensors"), metadata={"format": "pt"})
    with pytest.raises((ValueError, RuntimeError), match="missing|conversion"):
        load_native(broken)


def test_llada2_block_kv_cache_decodes_like_full_passes(moe) -> None:
    # The owned attention feeds transformers' DynamicCache: the exact block cache must not change a token.
    from transformers import AutoTokenizer

    preset, model = load_native(moe["llada2"])
    tokenizer = AutoTokenizer.from_pretrained(moe["llada2"])
    gen_length, block = 24, 8
    prompts = [tokenizer(t, add_special_tokens=False)["input_ids"] for t in ["Q: 2+2?", "Hello there, how are"]]
    width = max(map(len, prompts))
    batch = torch.full((len(prompts), width), tokenizer.pad_token_id)
    real = torch.zeros(len(prompts), width + gen_length, dtype=torch.long)
    for row, ids in enumerate(prompts):
        batch[row, width - len(ids):], real[row, width - len(ids):] = torch.tensor(ids), 1
    special = SpecialTokens(mask_id=tokenizer.mask_token_id, eos_id=tokenizer.eos_token_id)
    canvases = {}
    for cache in ("none", "block_kv"):
        settings = DecodingSettings.from_mapping({**preset.defaults, "block_length": block, "threshold": 0.3,
                                                  "early_stop": "none", "cache": cache}).resolve(gen_length)
        with torch.no_grad():
            fn = make_logits_fn(model, real, False, width, "block_causal", block, cache)
            canvases[cache] = denoise(fn, batch, settings, special).canvas.tolist()
    assert canvases["block_kv"] == canvases["none"]


@pytest.mark.parametrize("family", FAMILIES)
def test_adapter_batch_8_equals_batch_1_with_published_defaults(moe, family, tmp_path) -> None:
    from model_adapters import get_family
    from tests.model_adapters.test_adapter import _run

    gen_kwargs = {"max_gen_toks": 32, "until": []}  # one block of 32, as both presets decode
    one, rows_one = _run(moe[family], tmp_path, "b1", 1, gen_kwargs)
    eight, rows_eight = _run(moe[family], tmp_path, "b8", 8, gen_kwargs)
    assert one == eight
    assert rows_one == rows_eight
    settings = next(iter(rows_one.values()))["settings"]
    for key, value in get_family(family).defaults.items():
        assert settings[key] == value, (family, key)
    assert any(text for text in one)


@pytest.mark.parametrize("family", FAMILIES)
def test_cli_run_batch_8_equals_batch_1_in_process(moe, family, tmp_path) -> None:
    # One real lm_eval run (both documents in one batch) against the adapter decoding each alone. The task's
    # 24 tokens are raised to one 32-token block: both presets decode in blocks of 32.
    from lm_eval.api.instance import Instance

    from model_adapters._adapter import MDLMAdapter
    from tests.model_adapters.test_cli import LM_EVAL, _env

    out = tmp_path / "out"
    cmd = [LM_EVAL, "--model", "mdlm", "--model_args", f"pretrained={moe[family]},family={family}",
           "--tasks", "mdlm_sudoku4_easy", "--limit", "2", "--batch_size", "8", "--gen_kwargs", "max_gen_toks=32",
           "--device", "cpu", "--output_path", str(out), "--log_samples"]
    run = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
    (results_file,) = out.glob("*/results_*.json")
    (samples_file,) = out.glob("*/samples_mdlm_sudoku4_easy_*.jsonl")
    config = json.loads(results_file.read_text())["config"]
    assert config["mdlm_family"] == family
    samples = [json.loads(line) for line in samples_file.read_text().splitlines()]
    traces = (results_file.parent / config["mdlm_trace_file"]).read_text().splitlines()
    assert len(samples) == len(traces) == 2
    lm = MDLMAdapter(pretrained=str(moe[family]), family=family, device="cpu", batch_size=1,
                     trace_path=str(tmp_path / "alone.jsonl"))
    for sample in samples:
        prompt, gen_kwargs = sample["arguments"]["gen_args_0"]["arg_0"], sample["arguments"]["gen_args_0"]["arg_1"]
        request = Instance("generate_until", {}, (prompt, dict(gen_kwargs)), idx=0,
                           metadata=("mdlm_sudoku4_easy", sample["doc_id"], 1))
        assert lm.generate_until([request], disable_tqdm=True) == sample["resps"][0]
    lm._writer.close()
