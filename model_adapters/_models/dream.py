"""Qwen2-backbone diffusion checkpoints as ``Qwen2ForCausalLM``: Dream / Dream-Coder and Fast-dLLM v2.

Dream's ``DreamModel`` is Qwen2 with the causal mask removed and Fast-dLLM v2 is Qwen2.5 with a
block-causal mask; both keep Qwen2's weight names (``model.layers.N.self_attn.q_proj`` ...,
``lm_head``), so only the config needs translating. The attention pattern comes from the 4-D mask
the engine passes; positions come from ``position_ids``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from model_adapters._loading import load_generic
from model_adapters._models._common import copy_fields, from_checkpoint, remote_or, rope_parameters

if TYPE_CHECKING:
    from model_adapters._loading import LoadRequest

_DROP = frozenset({"rope_theta", "rope_scaling", "rope_parameters", "mask_token_id", "bd_size", "use_cache"})


def qwen2_config(config: dict[str, Any]) -> Any:
    """Translate a Dream / Fast-dLLM v2 ``config.json`` into ``Qwen2Config``."""
    from transformers import Qwen2Config

    fields = copy_fields(config, _DROP)
    return Qwen2Config(**fields, rope_parameters=rope_parameters(config, 10000.0), use_cache=False)


def _load_qwen2(request: LoadRequest) -> Any:
    from transformers import Qwen2ForCausalLM

    if (remote := remote_or(request)) is not None:
        return remote
    if request.config.get("model_type") == "qwen2":  # already a native checkpoint (e.g. converted)
        return load_generic(request)
    return from_checkpoint(Qwen2ForCausalLM, qwen2_config(request.config), request, {})


def load_dream(request: LoadRequest) -> Any:
    """Load a Dream checkpoint (``DreamModel``) into ``Qwen2ForCausalLM``."""
    return _load_qwen2(request)


def load_fast_dllm_v2(request: LoadRequest) -> Any:
    """Load a Fast-dLLM v2 checkpoint (``Fast_dLLM_QwenForCausalLM``) into ``Qwen2ForCausalLM``."""
    return _load_qwen2(request)
