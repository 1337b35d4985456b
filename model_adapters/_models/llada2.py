"""LLaDA2.0 / LLaDA2.1 checkpoints (``LLaDA2MoeModelLM``, BailingMoE-V2 layout) on GLM-4-MoE's building blocks.

LLaDA2's network is a BailingMoE-V2 decoder: per-head q/k RMSNorm, RoPE over the first
``partial_rotary_factor`` of each head (``rotate_half`` layout), GQA, then a dense SwiGLU MLP in
the first ``first_k_dense_replace`` layers and a DeepSeek-V3-style MoE after (sigmoid router, an
expert bias used only to choose, group-limited top-k over ``n_group`` groups scored by their two
best experts, weights renormalised when top-k > 1 and scaled by ``routed_scaling_factor``, plus
shared experts). transformers' GLM-4-MoE has every one of those pieces (``Glm4MoeTopkRouter``,
``Glm4MoeMLP``, ``Glm4MoeRMSNorm``, its partial RoPE); what it lacks is the fused
``query_key_value`` projection with an optional ``dense`` output bias, and a stack that keeps the
checkpoint's names. This module assembles those pieces so the published weights load unchanged
(only ``gate.expert_bias`` is renamed). The attention pattern comes from the 4-D mask the engine
passes (block-causal for LLaDA2); a 2-D padding mask or none gives bidirectional attention.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from model_adapters._models._common import from_checkpoint, remote_or, rope_parameters

if TYPE_CHECKING:
    from model_adapters._loading import LoadRequest

LLADA2_KEY_MAPPING: dict[str, str] = {r"\.mlp\.gate\.expert_bias$": ".mlp.gate.e_score_correction_bias"}
"""Checkpoint key (regex) -> owned model key: only the router's bias buffer is named differently."""


def glm4_moe_config_from_llada2(config: dict[str, Any]) -> Any:
    """Translate LLaDA2's ``config.json`` into a ``Glm4MoeConfig`` (plus ``use_bias`` for the output projection).

    Raises:
        NotImplementedError: for a checkpoint without routed or shared experts (the remote code's
            degenerate cases), or a RoPE scaling that was not checked against the remote code.
    """
    from transformers import Glm4MoeConfig

    if config.get("num_experts") is None or not config.get("num_shared_experts"):
        raise NotImplementedError("LLaDA2 checkpoints without routed and shared experts are not supported")
    heads = int(config["num_attention_heads"])
    head_dim = int(config.get("head_dim") or int(config["hidden_size"]) // heads)
    top_k = int(config["num_experts_per_tok"])
    native = Glm4MoeConfig(
        vocab_size=int(config["vocab_size"]),
        hidden_size=int(config["hidden_size"]),
        intermediate_size=int(config["intermediate_size"]),
        num_hidden_layers=int(config["num_hidden_layers"]),
        num_attention_heads=heads,
        num_key_value_heads=int(config["num_key_value_heads"]),
        head_dim=head_dim,
        hidden_act=config.get("hidden_act", "silu"),
        max_position_embeddings=int(config.get("max_position_embeddings", 16384)),
        rms_norm_eps=float(config.get("rms_norm_eps", 1e-5)),
        rope_parameters={
            **rope_parameters(config, 10000.0),
            "partial_rotary_factor": float(config.get("partial_rotary_factor", 0.5)),
        },
        attention_bias=bool(config.get("use_qkv_bias", False)),
        attention_dropout=0.0,
        tie_word_embeddings=bool(config.get("tie_word_embeddings", False)),
        n_routed_experts=int(config["num_experts"]),
        num_experts_per_tok=top_k,
        moe_intermediate_size=int(config["moe_intermediate_size"]),
        n_shared_experts=int(config["num_shared_experts"]),
        n_group=int(config.get("n_group", 8)),
        topk_group=int(config.get("topk_group", 4)),
        routed_scaling_factor=float(config.get("routed_scaling_factor", 2.5)),
        first_k_dense_replace=int(config.get("first_k_dense_replace", 0)),
        # The remote gate renormalises whenever top-k > 1, whatever norm_topk_prob says.
        norm_topk_prob=top_k > 1,
        use_qk_norm=True,  # the remote attention always has query/key_layernorm
        pad_token_id=config.get("pad_token_id"),
        bos_token_id=config.get("bos_token_id"),
        eos_token_id=config.get("eos_token_id"),
        use_cache=False,
    )
    native.use_bias = bool(config.get("use_bias", True))  # the remote config's default: ``dense`` has a bias
    return native


def load_llada2(request: LoadRequest) -> Any:
    """Load a LLaDA2.0 / 2.1 checkpoint into the owned ``LLaDA2ForDiffusionLM`` (remote code: ``trust_remote_code``)."""
    from model_adapters._models.llada2_modules import LLaDA2ForDiffusionLM

    if (remote := remote_or(request)) is not None:
        return remote
    native = glm4_moe_config_from_llada2(request.config)
    return from_checkpoint(LLaDA2ForDiffusionLM, native, request, LLADA2_KEY_MAPPING)
