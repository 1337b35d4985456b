"""Shared pieces of the owned loaders: config field copying, the attention choice, weight loading with renamed keys."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from model_adapters._preset import load_generic, torch_dtype

if TYPE_CHECKING:
    from model_adapters._preset import LoadRequest

logger = logging.getLogger(__name__)

# config.json keys that describe where the checkpoint came from or how it was run, not the network.
# A checkpoint's own attention choice is dropped: the project picks it (``attention_implementation``).
_PROVENANCE_KEYS = frozenset(
    {"architectures", "auto_map", "model_type", "transformers_version", "_name_or_path", "torch_dtype", "dtype",
     "attn_implementation", "_attn_implementation"}
)

ATTENTION_CHOICES = ("sdpa", "eager", "flex_attention")
"""Values of the ``attn_implementation`` model argument; ``sdpa`` is the default."""

# FlashAttention kernels take a padding mask and a causal flag, never the engine's 4-D
# bidirectional / block-causal mask: with them a diffusion model would silently attend causally.
_MASKLESS = ("flash_attention_2", "flash_attention_3", "kernels-community/flash-attn")


def copy_fields(config: dict[str, Any], drop: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The checkpoint's config without provenance keys (and without ``drop``)."""
    return {k: v for k, v in config.items() if k not in _PROVENANCE_KEYS | drop}


def rope_parameters(config: dict[str, Any], default_theta: float) -> dict[str, Any]:
    """The transformers 5.x RoPE description from a 4.x-style config (``rope_theta`` + ``rope_scaling``).

    Raises:
        NotImplementedError: for a RoPE scaling the owned implementations were not checked against.
    """
    if isinstance(config.get("rope_parameters"), dict):  # already in 5.x form
        return dict(config["rope_parameters"])
    scaling = config.get("rope_scaling")
    if scaling and (scaling.get("rope_type") or scaling.get("type")) not in (None, "default"):
        raise NotImplementedError(f"rope_scaling={scaling} is not supported by the owned implementation")
    return {"rope_type": "default", "rope_theta": float(config.get("rope_theta", default_theta))}


def attention_implementation(request: LoadRequest, remote: bool = False) -> str | None:
    """The attention implementation to build with: the user's choice if it runs here, else SDPA.

    A checkpoint's own ``attn_implementation`` (some carry ``flash_attention_2``) is ignored, with one log
    line. ``flex_attention`` needs a CUDA device and a torch that ships it; asked for elsewhere, SDPA is
    used with a warning. For the checkpoint's own code (``remote``) with nothing asked and nothing in its
    config, None leaves the choice to that code (it may not support SDPA).

    Raises:
        ValueError: for an unknown name, or a FlashAttention kernel (it cannot take the engine's 4-D masks).
    """
    own = request.config.get("attn_implementation") or request.config.get("_attn_implementation")
    if remote and not request.attn_implementation and not own:
        return None
    asked = request.attn_implementation or "sdpa"
    if asked in _MASKLESS:
        raise ValueError(
            f"attn_implementation={asked!r} cannot apply the bidirectional / block-causal 4-D masks diffusion "
            f"decoding needs (FlashAttention only knows causal or padding masks); choose from {ATTENTION_CHOICES}"
        )
    if asked not in ATTENTION_CHOICES:
        raise ValueError(f"attn_implementation must be one of {ATTENTION_CHOICES}, got {asked!r}")
    chosen = asked
    if asked == "flex_attention" and not _flex_available(request.device):
        logger.warning("attn_implementation=flex_attention needs CUDA and torch's flex attention: using sdpa")
        chosen = "sdpa"
    if own and own != chosen:
        logger.warning("checkpoint config.json asks for attn_implementation=%r: ignored, using %r "
                       "(choose with the attn_implementation= model argument)", own, chosen)
    return chosen


def _flex_available(device: str) -> bool:
    import torch

    if not str(device).startswith("cuda") or not torch.cuda.is_available():
        return False
    try:
        import torch.nn.attention.flex_attention  # noqa: F401
    except ImportError:
        return False
    return True


def from_checkpoint(model_class: Any, native_config: Any, request: LoadRequest, key_mapping: dict[str, str]) -> Any:
    """Instantiate ``model_class`` from the checkpoint's weights, renaming keys with ``key_mapping`` regexes.

    Raises:
        ValueError: when a weight of the native model was not found or a checkpoint weight was left
            over, so a wrong mapping fails loudly rather than leaving random weights.
    """
    model, info = model_class.from_pretrained(
        request.pretrained,
        config=native_config,
        dtype=torch_dtype(request.dtype),
        revision=request.revision,
        key_mapping=key_mapping,
        output_loading_info=True,
        attn_implementation=attention_implementation(request),
    )
    missing = [k for k in info.get("missing_keys", ()) if not k.endswith("rotary_emb.inv_freq")]
    unexpected = list(info.get("unexpected_keys", ()))
    if missing or unexpected:
        raise ValueError(
            f"{request.pretrained}: checkpoint does not match the owned {model_class.__name__} "
            f"(missing {sorted(missing)[:8]}, unexpected {sorted(unexpected)[:8]})"
        )
    return model.to(request.device).eval()


def remote_or(request: LoadRequest) -> Any | None:
    """The opt-in path: with ``trust_remote_code=True`` the authors' own modeling code is used."""
    return load_generic(request) if request.trust_remote_code else None
