"""Tiny random-weight checkpoints in each family's convention, built offline for tests."""

from __future__ import annotations

import string
from pathlib import Path
from typing import Any

SPECIALS = {
    "llada": {"mask": "<|mdm_mask|>", "eos": "<|endoftext|>", "extra": ["<|eot_id|>"]},
    "dream": {"mask": "<|mask|>", "eos": "<|endoftext|>", "extra": ["<|im_end|>"]},
}


def char_tokenizer(mask: str, eos: str, extra: list[str]):  # noqa: ANN201
    """Character-level fast tokenizer with the family's special tokens."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    specials = ["[PAD]", "[UNK]", mask, eos, *extra]
    chars = sorted(set(string.printable))
    vocab = {tok: i for i, tok in enumerate(specials + chars)}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Split(Regex("."), behavior="isolated")
    tok.decoder = decoders.Fuse()
    tok.add_special_tokens(specials)
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="[PAD]", unk_token="[UNK]", mask_token=mask, eos_token=eos,
        additional_special_tokens=extra,
    )


def left_padded(tokenizer, prompts: list[str]) -> tuple[Any, Any]:  # noqa: ANN001
    """([B, W] prompt ids left-padded with the pad id, [B, W] attention mask) of ``prompts``."""
    import torch

    ids = [tokenizer(p)["input_ids"] for p in prompts]
    width = max(map(len, ids))
    prompt = torch.full((len(ids), width), tokenizer.pad_token_id)
    mask = torch.zeros((len(ids), width), dtype=torch.long)
    for row, seq in enumerate(ids):
        prompt[row, width - len(seq) :], mask[row, width - len(seq) :] = torch.tensor(seq), 1
    return prompt, mask


def build_tiny(family: str, out: Path, seed: int = 0, hidden: int = 32, layers: int = 2) -> Path:
    """Save a tiny random model whose checkpoint follows ``family``'s conventions; returns its folder."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM

    spec = SPECIALS[family]
    tokenizer = char_tokenizer(spec["mask"], spec["eos"], spec["extra"])
    torch.manual_seed(seed)
    common = dict(
        vocab_size=len(tokenizer), hidden_size=hidden, intermediate_size=2 * hidden, num_hidden_layers=layers,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
        pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id, tie_word_embeddings=False,
    )
    model = (LlamaForCausalLM(LlamaConfig(**common)) if family == "llada" else Qwen2ForCausalLM(Qwen2Config(**common)))
    with torch.no_grad():  # larger weights give peaked, tie-free distributions
        for p in model.parameters():
            p.mul_(4.0)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


# ----------------------------------------------------------------------------------------------
# Checkpoints in each family's REAL layout (config.json model_type/architectures and key names as
# published), so detection and the owned loaders in model_adapters/_models are exercised.

NATIVE_SPECIALS = {
    "llada": {"mask": "<|mdm_mask|>", "eos": "<|endoftext|>", "extra": ["<|eot_id|>"]},
    "dream": {"mask": "<|mask|>", "eos": "<|endoftext|>", "extra": ["<|im_end|>"]},
    "sdar": {"mask": "<|MASK|>", "eos": "<|endoftext|>", "extra": ["<|im_end|>"]},
    "fast_dllm_v2": {"mask": "|<MASK>|", "eos": "<|im_end|>", "extra": ["<|endoftext|>"]},
    "llada_moe": {"mask": "<|mdm_mask|>", "eos": "<|endoftext|>", "extra": ["<|role_end|>"]},
    "llada2": {"mask": "<|mask|>", "eos": "<|endoftext|>", "extra": ["<|role_end|>"]},
}
"""Special token texts per family, as in the published tokenizers."""

_LLADA_FROM_LLAMA = {
    "model.embed_tokens.": "model.transformer.wte.",
    "model.norm.": "model.transformer.ln_f.",
    "lm_head.": "model.transformer.ff_out.",
    "input_layernorm.": "attn_norm.",
    "post_attention_layernorm.": "ff_norm.",
    "self_attn.q_proj.": "q_proj.",
    "self_attn.k_proj.": "k_proj.",
    "self_attn.v_proj.": "v_proj.",
    "self_attn.o_proj.": "attn_out.",
    "mlp.gate_proj.": "ff_proj.",
    "mlp.up_proj.": "up_proj.",
    "mlp.down_proj.": "ff_out.",
}


def _llada_key(name: str) -> str:
    """Llama key -> LLaDA checkpoint key (the inverse of the owned loader's mapping)."""
    for old, new in _LLADA_FROM_LLAMA.items():
        if name.startswith(old):
            return new + name[len(old):]
    prefix, layer, rest = name.split(".", 3)[0:2], name.split(".")[2], name.split(".", 3)[3]
    assert prefix == ["model", "layers"], name
    for old, new in _LLADA_FROM_LLAMA.items():
        if rest.startswith(old):
            return f"model.transformer.blocks.{layer}.{new}{rest[len(old):]}"
    raise KeyError(name)


def _random_state(model, seed: int, scale: float) -> dict:  # noqa: ANN001
    """Reseeded random weights (norms around 1) so layouts built from the same seed share numbers."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    state = {}
    for name, tensor in model.state_dict().items():
        if name.endswith("norm.weight"):
            value = 1.0 + 0.1 * torch.randn(tensor.shape, generator=generator)
        else:
            value = scale * torch.randn(tensor.shape, generator=generator) / tensor.shape[-1] ** 0.5
        state[name] = value.contiguous()
    return state


def build_native(family: str, out: Path, seed: int = 0, hidden: int = 32, layers: int = 2) -> Path:
    """Save a tiny random checkpoint in ``family``'s published layout; returns its folder.

    Families: ``llada`` (LLaDAModelLM, OLMo-style keys), ``dream`` (DreamModel), ``sdar``
    (SDARForCausalLM, Qwen3 keys), ``fast_dllm_v2`` (Fast_dLLM_QwenForCausalLM, Qwen2 keys),
    ``llada_moe`` (LLaDAMoEModelLM) and ``llada2`` (LLaDA2MoeModelLM): the two MoE families are
    fixed at 3 layers (one dense, two MoE) with ``hidden`` 64, whatever ``hidden``/``layers`` say.
    """
    import json

    import torch
    from safetensors.torch import save_file
    from transformers import LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM, Qwen3Config, Qwen3ForCausalLM

    spec = NATIVE_SPECIALS[family]
    tokenizer = char_tokenizer(spec["mask"], spec["eos"], spec["extra"])
    out.mkdir(parents=True, exist_ok=True)
    vocab, heads, kv_heads, inter = len(tokenizer), 4, 2, 2 * hidden
    ids = {"pad_token_id": tokenizer.pad_token_id, "eos_token_id": tokenizer.eos_token_id, "bos_token_id": None}
    mask_id = tokenizer.mask_token_id
    if family in MOE_BUILDERS:
        config, state = MOE_BUILDERS[family](vocab, seed, ids)
        config["mask_token_id"] = mask_id
    elif family == "llada":
        native = LlamaForCausalLM(LlamaConfig(
            vocab_size=vocab, hidden_size=hidden, intermediate_size=inter, num_hidden_layers=layers,
            num_attention_heads=heads, num_key_value_heads=kv_heads, tie_word_embeddings=False))
        state = {_llada_key(k): v for k, v in _random_state(native, seed, 4.0).items()}
        config = {
            "architectures": ["LLaDAModelLM"], "model_type": "llada", "activation_type": "silu",
            "alibi": False, "attention_layer_norm": False, "block_group_size": 1, "block_type": "llama",
            "d_model": hidden, "embedding_size": vocab, "vocab_size": vocab, "include_bias": False,
            "include_qkv_bias": False, "input_emb_norm": False, "layer_norm_type": "rms",
            "max_sequence_length": 512, "mlp_hidden_size": inter, "mlp_ratio": 4, "n_heads": heads,
            "n_kv_heads": kv_heads, "n_layers": layers, "rms_norm_eps": 1e-5, "rope": True,
            "rope_theta": 500000.0, "scale_logits": False, "weight_tying": False, "mask_token_id": mask_id,
            "use_cache": False, **ids,
        }
    else:
        common = dict(
            vocab_size=vocab, hidden_size=hidden, intermediate_size=inter, num_hidden_layers=layers,
            num_attention_heads=heads, num_key_value_heads=kv_heads, max_position_embeddings=512,
            tie_word_embeddings=False, rms_norm_eps=1e-6,
        )
        if family == "sdar":
            native = Qwen3ForCausalLM(Qwen3Config(head_dim=hidden // heads, **common))
            arch, model_type, extra = "SDARForCausalLM", "sdar", {"head_dim": hidden // heads, "attention_bias": False}
        else:
            native = Qwen2ForCausalLM(Qwen2Config(**common))
            arch, model_type = {"dream": ("DreamModel", "Dream"),
                                "fast_dllm_v2": ("Fast_dLLM_QwenForCausalLM", "Fast_dLLM_QWen")}[family]
            extra = {"bd_size": 32} if family == "fast_dllm_v2" else {}
        state = _random_state(native, seed, 4.0)
        config = {
            "architectures": [arch], "model_type": model_type, **common, **extra, "hidden_act": "silu",
            "rope_theta": 10000.0, "rope_scaling": None, "use_sliding_window": False, "sliding_window": None,
            "attention_dropout": 0.0, "mask_token_id": mask_id, "use_cache": False, **ids,
        }
    save_file({k: v.to(torch.float32) for k, v in state.items()}, str(out / "model.safetensors"),
              metadata={"format": "pt"})
    (out / "config.json").write_text(json.dumps(config, indent=2))
    tokenizer.save_pretrained(out)
    return out


def load_native(path: Path, family: str | None = None, trust_remote_code: bool = False) -> tuple[Any, Any]:
    """(preset, model) for a saved tiny checkpoint, loaded by its family's loader on CPU in float32.

    The family is detected from its ``config.json`` unless ``family`` forces one (``llada2_1``).
    """
    import json

    from model_adapters import LoadRequest, detect_family, get_family

    config = json.loads((path / "config.json").read_text())
    preset = get_family(family) if family else detect_family(config)
    assert preset.loader is not None
    return preset, preset.loader(LoadRequest(str(path), config, "cpu", "float32", trust_remote_code))


def build_diffusion_gemma(out: Path, seed: int = 0) -> Path:
    """Save a tiny random ``DiffusionGemmaForBlockDiffusion`` (canvas 8, 2 layers, 4 experts); returns its folder."""
    import torch
    from transformers import DiffusionGemmaConfig, DiffusionGemmaForBlockDiffusion

    text = dict(vocab_size=128, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
                num_key_value_heads=2, head_dim=8, max_position_embeddings=256, pad_token_id=0, eos_token_id=3,
                bos_token_id=2, sliding_window=16, num_experts=4, top_k_experts=2, moe_intermediate_size=16)
    config = DiffusionGemmaConfig(text_config=text, vision_config=None, canvas_length=8, image_token_id=127,
                                  boi_token_id=126, eoi_token_id=125)
    torch.manual_seed(seed)
    model = DiffusionGemmaForBlockDiffusion(config)
    model.generation_config.max_denoising_steps = 6  # a short sampler keeps the test fast
    model.save_pretrained(out)
    return out


# ----------------------------------------------------------------------------------------------
# The MoE families, written straight in the hub's layout (one tensor per expert) from a shape table.


def _hub_state(shapes: dict[str, tuple[int, ...]], seed: int, scale: float = 4.0) -> dict:
    """Reseeded random tensors for ``shapes``: norms around 1, biases small, matrices ~ scale / sqrt(fan_in)."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    state = {}
    for name, shape in shapes.items():
        noise = torch.randn(shape, generator=generator)
        if "norm" in name:
            state[name] = 1.0 + 0.1 * noise
        elif name.endswith(("bias", "expert_bias")):
            state[name] = 0.1 * noise
        else:
            state[name] = scale * noise / shape[-1] ** 0.5
    return state


def _mlp(prefix: str, hidden: int, inner: int) -> dict[str, tuple[int, ...]]:
    return {f"{prefix}.gate_proj.weight": (inner, hidden), f"{prefix}.up_proj.weight": (inner, hidden),
            f"{prefix}.down_proj.weight": (hidden, inner)}


def _llada_moe(vocab: int, seed: int, ids: dict) -> tuple[dict, dict]:
    """LLaDA-MoE (``LLaDAMoEModelLM``): OLMoE-style names, per-head q/k norm, layer 0 dense (moe_layer_freq)."""
    hidden, heads, kv_heads, experts = 64, 4, 2, 8
    head_dim, freq = hidden // heads, [0, 1, 1]
    shapes: dict[str, tuple[int, ...]] = {"model.embed_tokens.weight": (vocab, hidden)}
    for i, sparse in enumerate(freq):
        p = f"model.layers.{i}"
        shapes |= {f"{p}.input_layernorm.weight": (hidden,), f"{p}.post_attention_layernorm.weight": (hidden,),
                   f"{p}.self_attn.q_proj.weight": (heads * head_dim, hidden),
                   f"{p}.self_attn.k_proj.weight": (kv_heads * head_dim, hidden),
                   f"{p}.self_attn.v_proj.weight": (kv_heads * head_dim, hidden),
                   f"{p}.self_attn.o_proj.weight": (hidden, hidden),
                   f"{p}.self_attn.q_norm.weight": (head_dim,), f"{p}.self_attn.k_norm.weight": (head_dim,)}
        if sparse:
            shapes[f"{p}.mlp.gate.weight"] = (experts, hidden)
            for e in range(experts):
                shapes |= _mlp(f"{p}.mlp.experts.{e}", hidden, 32)
        else:
            shapes |= _mlp(f"{p}.mlp", hidden, 96)
    shapes |= {"model.norm.weight": (hidden,), "lm_head.weight": (vocab, hidden)}
    config = {
        "architectures": ["LLaDAMoEModelLM"], "model_type": "llada", "vocab_size": vocab, "hidden_size": hidden,
        "dense_intermediate_size": 96, "expert_intermediate_size": 32, "shared_expert_intermediate_size": None,
        "num_hidden_layers": len(freq), "num_attention_heads": heads, "num_key_value_heads": kv_heads,
        "hidden_act": "silu", "max_position_embeddings": 512, "initializer_range": 0.02, "rms_norm_eps": 1e-5,
        "use_cache": False, "tie_word_embeddings": False, "rope_theta": 50000.0, "partial_rotary_factor": 1.0,
        "rope_scaling": None, "attention_bias": False, "attention_dropout": 0.0, "clip_qkv": None,
        "num_experts_per_tok": 2, "num_experts": experts, "output_router_logits": False,
        "router_aux_loss_coef": 0.01, "norm_topk_prob": False, "qk_layernorm": True, "moe_layer_freq": freq,
        "moe_router_enable_expert_bias": False, "moe_router_score_function": "softmax", **ids,
    }
    return config, _hub_state(shapes, seed)


def _llada2(vocab: int, seed: int, ids: dict) -> tuple[dict, dict]:
    """LLaDA2.0 (``LLaDA2MoeModelLM``): fused QKV with bias, partial RoPE, grouped sigmoid router, shared expert."""
    hidden, heads, kv_heads, head_dim, experts, layers = 64, 4, 2, 16, 8, 3
    shapes: dict[str, tuple[int, ...]] = {"model.word_embeddings.weight": (vocab, hidden)}
    for i in range(layers):
        p = f"model.layers.{i}"
        qkv = (heads + 2 * kv_heads) * head_dim
        shapes |= {f"{p}.input_layernorm.weight": (hidden,), f"{p}.post_attention_layernorm.weight": (hidden,),
                   f"{p}.attention.query_key_value.weight": (qkv, hidden),
                   f"{p}.attention.query_key_value.bias": (qkv,),
                   f"{p}.attention.query_layernorm.weight": (head_dim,),
                   f"{p}.attention.key_layernorm.weight": (head_dim,),
                   f"{p}.attention.dense.weight": (hidden, heads * head_dim), f"{p}.attention.dense.bias": (hidden,)}
        if i == 0:  # first_k_dense_replace = 1
            shapes |= _mlp(f"{p}.mlp", hidden, 96)
            continue
        shapes |= {f"{p}.mlp.gate.weight": (experts, hidden), f"{p}.mlp.gate.expert_bias": (experts,)}
        for e in range(experts):
            shapes |= _mlp(f"{p}.mlp.experts.{e}", hidden, 32)
        shapes |= _mlp(f"{p}.mlp.shared_experts", hidden, 32)
    shapes |= {"model.norm.weight": (hidden,), "lm_head.weight": (vocab, hidden)}
    config = {
        "architectures": ["LLaDA2MoeModelLM"], "model_type": "llada2_moe", "vocab_size": vocab,
        "hidden_size": hidden, "intermediate_size": 96, "num_hidden_layers": layers, "num_attention_heads": heads,
        "num_key_value_heads": kv_heads, "head_dim": head_dim, "hidden_act": "silu", "use_qkv_bias": True,
        "use_qk_norm": True, "use_bias": True, "rms_norm_eps": 1e-6, "norm_head": False,
        "tie_word_embeddings": False, "embedding_dropout": 0.0, "attention_dropout": 0.0, "output_dropout": 0.0,
        "max_position_embeddings": 512, "rope_theta": 600000.0, "rope_scaling": None, "use_cache": False,
        "num_experts": experts, "num_shared_experts": 1, "num_experts_per_tok": 2, "n_group": 4, "topk_group": 2,
        "routed_scaling_factor": 2.5, "moe_intermediate_size": 32, "first_k_dense_replace": 1,
        "partial_rotary_factor": 0.5, "score_function": "sigmoid", "norm_topk_prob": True,
        "moe_router_enable_expert_bias": True, **ids,
    }
    return config, _hub_state(shapes, seed)


MOE_BUILDERS = {"llada_moe": _llada_moe, "llada2": _llada2}
"""Family -> (vocab, seed, special ids) -> (config.json, state dict in the hub's key names)."""
