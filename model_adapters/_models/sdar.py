"""SDAR / TraDo block-diffusion checkpoints as ``Qwen3ForCausalLM`` (dense) or ``Qwen3MoeForCausalLM``.

SDAR's modeling file is Qwen3's (per-head q/k RMSNorm, GQA, RoPE, SwiGLU) plus a block-diffusion
attention mask; the weight names are Qwen3's. The engine supplies the block-causal 4-D mask.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from model_adapters._loading import load_generic
from model_adapters._models._common import copy_fields, from_checkpoint, remote_or, rope_parameters

if TYPE_CHECKING:
    from model_adapters._loading import LoadRequest

_DROP = frozenset({"rope_theta", "rope_scaling", "rope_parameters", "mask_token_id", "block_size", "use_cache",
                   "fuse_cross_entropy", "micro_forward", "skip_checkpoint"})


def qwen3_config(config: dict[str, Any]) -> Any:
    """Translate an SDAR / TraDo ``config.json`` into ``Qwen3Config`` or ``Qwen3MoeConfig`` (MoE variants)."""
    from transformers import Qwen3Config, Qwen3MoeConfig

    # Routed experts make it the MoE variant, whatever the model_type (a family reusing this loader may rename it).
    moe = bool(config.get("num_experts")) or "SDARMoeForCausalLM" in (config.get("architectures") or ())
    cls = Qwen3MoeConfig if moe else Qwen3Config
    return cls(**copy_fields(config, _DROP), rope_parameters=rope_parameters(config, 1000000.0), use_cache=False)


def load_sdar(request: LoadRequest) -> Any:
    """Load an SDAR / TraDo checkpoint into transformers' Qwen3 (or Qwen3-MoE) causal LM class."""
    from transformers import Qwen3ForCausalLM, Qwen3MoeForCausalLM

    if (remote := remote_or(request)) is not None:
        return remote
    if request.config.get("model_type") in ("qwen3", "qwen3_moe"):  # already a native checkpoint
        return load_generic(request)
    native = qwen3_config(request.config)
    cls = Qwen3MoeForCausalLM if type(native).__name__ == "Qwen3MoeConfig" else Qwen3ForCausalLM
    return from_checkpoint(cls, native, request, {})
