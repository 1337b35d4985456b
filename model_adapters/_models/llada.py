"""LLaDA / LLaDA-1.5 / iLLaDA checkpoints (``LLaDAModelLM``, OLMo-style keys) as ``LlamaForCausalLM``.

LLaDA's network is a Llama decoder without the causal mask: RMSNorm, RoPE over the head dim,
SwiGLU MLP (``act(ff_proj(x)) * up_proj(x)`` then ``ff_out``), untied output head. Only the
names differ, so the checkpoint loads into transformers' Llama with renamed keys. The engine
supplies the bidirectional 4-D mask.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from model_adapters._loading import load_generic
from model_adapters._models._common import from_checkpoint, remote_or

if TYPE_CHECKING:
    from model_adapters._loading import LoadRequest

_BLOCK = r"^model\.transformer\.blocks\.(\d+)\."
LLADA_KEY_MAPPING: dict[str, str] = {
    r"^model\.transformer\.wte\.": "model.embed_tokens.",
    r"^model\.transformer\.ln_f\.": "model.norm.",
    r"^model\.transformer\.ff_out\.": "lm_head.",
    _BLOCK + r"attn_norm\.": r"model.layers.\1.input_layernorm.",
    _BLOCK + r"ff_norm\.": r"model.layers.\1.post_attention_layernorm.",
    _BLOCK + r"q_proj\.": r"model.layers.\1.self_attn.q_proj.",
    _BLOCK + r"k_proj\.": r"model.layers.\1.self_attn.k_proj.",
    _BLOCK + r"v_proj\.": r"model.layers.\1.self_attn.v_proj.",
    _BLOCK + r"attn_out\.": r"model.layers.\1.self_attn.o_proj.",
    _BLOCK + r"ff_proj\.": r"model.layers.\1.mlp.gate_proj.",
    _BLOCK + r"up_proj\.": r"model.layers.\1.mlp.up_proj.",
    _BLOCK + r"ff_out\.": r"model.layers.\1.mlp.down_proj.",
}
"""Checkpoint key (regex) -> ``LlamaForCausalLM`` key."""

# Options of LLaDA's config whose non-default values the Llama mapping cannot express.
_REQUIRED = {
    "block_type": "llama", "layer_norm_type": "rms", "activation_type": "silu", "rope": True, "alibi": False,
    "scale_logits": False, "input_emb_norm": False, "attention_layer_norm": False, "block_group_size": 1,
}


def llama_config_from_llada(config: dict[str, Any]) -> Any:
    """Translate LLaDA's ``config.json`` into an equivalent ``LlamaConfig``.

    Raises:
        NotImplementedError: when the checkpoint uses a LLaDA option Llama has no equivalent for.
    """
    from transformers import LlamaConfig

    for key, wanted in _REQUIRED.items():
        if key in config and config[key] != wanted:
            raise NotImplementedError(f"LLaDA config {key}={config[key]!r} (only {wanted!r} is supported)")
    bias = bool(config.get("include_bias", False))
    if bool(config.get("include_qkv_bias", False)) and not bias:
        raise NotImplementedError("LLaDA include_qkv_bias without include_bias has no Llama equivalent")
    d_model, n_heads = int(config["d_model"]), int(config["n_heads"])
    mlp = config.get("mlp_hidden_size") or int(config.get("mlp_ratio", 4)) * d_model
    return LlamaConfig(
        vocab_size=int(config.get("embedding_size") or config["vocab_size"]),
        hidden_size=d_model,
        intermediate_size=int(mlp),
        num_hidden_layers=int(config["n_layers"]),
        num_attention_heads=n_heads,
        num_key_value_heads=int(config.get("n_kv_heads") or n_heads),
        head_dim=d_model // n_heads,
        max_position_embeddings=int(config.get("max_sequence_length", 4096)),
        rms_norm_eps=float(config.get("rms_norm_eps", 1e-5)),
        rope_parameters={"rope_type": "default", "rope_theta": float(config.get("rope_theta", 10000.0))},
        attention_bias=bias,
        mlp_bias=bias,
        tie_word_embeddings=bool(config.get("weight_tying", False)),
        pad_token_id=config.get("pad_token_id"),
        bos_token_id=config.get("bos_token_id"),
        eos_token_id=config.get("eos_token_id"),
        use_cache=False,
    )


def load_llada(request: LoadRequest) -> Any:
    """Load a LLaDA checkpoint into ``LlamaForCausalLM`` (remote code only with ``trust_remote_code``).

    The layout decides, not the ``model_type``: a config in LLaDA's OLMo-style terms (``d_model``,
    ``n_layers``) is translated whatever its type, so a new family with LLaDA's network reuses this loader;
    a checkpoint already in Llama layout (e.g. a converted one) loads as is.
    """
    from transformers import LlamaForCausalLM

    if (remote := remote_or(request)) is not None:
        return remote
    if "d_model" not in request.config:
        return load_generic(request)
    return from_checkpoint(LlamaForCausalLM, llama_config_from_llada(request.config), request, LLADA_KEY_MAPPING)
