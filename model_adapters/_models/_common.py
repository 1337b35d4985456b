"""Shared pieces of the owned loaders: config field copying, the attention choice, weight loading with renamed keys."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from model_adapters._loading import ATTENTION_CHOICES, attention_implementation, load_generic, torch_dtype

if TYPE_CHECKING:
    from model_adapters._loading import LoadRequest

# config.json keys that describe where the checkpoint came from or how it was run, not the network.
# A checkpoint's own attention choice is dropped: the project picks it (``attention_implementation``).
__all__ = ["ATTENTION_CHOICES", "attention_implementation", "copy_fields", "from_checkpoint", "remote_or",
           "rope_parameters"]
_PROVENANCE_KEYS = frozenset(
    {"architectures", "auto_map", "model_type", "transformers_version", "_name_or_path", "torch_dtype", "dtype",
     "attn_implementation", "_attn_implementation"}
)

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
