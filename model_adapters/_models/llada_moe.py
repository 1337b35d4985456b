"""LLaDA-MoE checkpoints (``LLaDAMoEModelLM``) as transformers' ``Qwen3MoeForCausalLM``.

LLaDA-MoE's remote modeling file is OLMoE's code with the causal mask removed, but its q/k RMSNorm
runs per head over ``head_dim`` (Qwen3's layout, not OLMoE's full-width norm), its router is a
softmax over experts with the top-k probabilities used as weights without renormalising
(``norm_topk_prob`` is hard-coded False), and ``moe_layer_freq`` marks dense layers. That is
exactly Qwen3-MoE's network, and the weight names are Qwen3-MoE's too (transformers merges the
per-expert weights on load), so only the config needs translating. The remote code ignores every
attention mask (pads are attended); the engine's 4-D bidirectional mask masks left padding out,
which changes nothing for unpadded rows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from model_adapters._models._common import from_checkpoint, remote_or, rope_parameters

if TYPE_CHECKING:
    from model_adapters._loading import LoadRequest


def qwen3_moe_config_from_llada_moe(config: dict[str, Any]) -> Any:
    """Translate LLaDA-MoE's ``config.json`` into an equivalent ``Qwen3MoeConfig``.

    Raises:
        NotImplementedError: for options of the remote code Qwen3-MoE cannot express (QKV clipping,
            partial rotary, an expert bias added to the router, shared experts, no q/k norm).
    """
    from transformers import Qwen3MoeConfig

    unsupported = {
        "clip_qkv": config.get("clip_qkv") is not None,
        "partial_rotary_factor": float(config.get("partial_rotary_factor", 1.0)) != 1.0,
        "moe_router_enable_expert_bias": bool(config.get("moe_router_enable_expert_bias")),
        "shared_expert_intermediate_size": config.get("shared_expert_intermediate_size") is not None,
        "qk_layernorm": not config.get("qk_layernorm", True),
    }
    if bad := [key for key, flag in unsupported.items() if flag]:
        raise NotImplementedError(f"LLaDA-MoE config options {bad} have no Qwen3-MoE equivalent")
    layers = int(config["num_hidden_layers"])
    freq = list(config.get("moe_layer_freq") or [1] * layers)
    heads = int(config["num_attention_heads"])
    return Qwen3MoeConfig(
        vocab_size=int(config["vocab_size"]),
        hidden_size=int(config["hidden_size"]),
        # Dense layers (moe_layer_freq 0) use Qwen3-MoE's ``intermediate_size`` MLP.
        intermediate_size=int(config.get("dense_intermediate_size") or config["expert_intermediate_size"]),
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=int(config.get("num_key_value_heads") or heads),
        head_dim=int(config["hidden_size"]) // heads,
        hidden_act=config.get("hidden_act", "silu"),
        max_position_embeddings=int(config.get("max_position_embeddings", 4096)),
        rms_norm_eps=float(config.get("rms_norm_eps", 1e-5)),
        rope_parameters=rope_parameters(config, 10000.0),
        attention_bias=bool(config.get("attention_bias", False)),
        tie_word_embeddings=bool(config.get("tie_word_embeddings", False)),
        num_experts=int(config["num_experts"]),
        num_experts_per_tok=int(config["num_experts_per_tok"]),
        moe_intermediate_size=int(config["expert_intermediate_size"]),
        norm_topk_prob=False,  # the remote MoE block ignores the config and never renormalises
        decoder_sparse_step=1,
        mlp_only_layers=[i for i, sparse in enumerate(freq) if not sparse],
        pad_token_id=config.get("pad_token_id"),
        bos_token_id=config.get("bos_token_id"),
        eos_token_id=config.get("eos_token_id"),
        use_cache=False,
    )


def load_llada_moe(request: LoadRequest) -> Any:
    """Load a LLaDA-MoE checkpoint into ``Qwen3MoeForCausalLM`` (remote code only with ``trust_remote_code``)."""
    from transformers import Qwen3MoeForCausalLM

    if (remote := remote_or(request)) is not None:
        return remote
    native = qwen3_moe_config_from_llada_moe(request.config)
    return from_checkpoint(Qwen3MoeForCausalLM, native, request, {})
