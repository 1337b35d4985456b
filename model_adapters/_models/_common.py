"""Shared pieces of the owned loaders: config field copying and weight loading with renamed keys."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from model_adapters._loading import load_generic, torch_dtype

if TYPE_CHECKING:
    from model_adapters._loading import LoadRequest

# config.json keys that describe where the checkpoint came from, not the network.
_PROVENANCE_KEYS = frozenset(
    {"architectures", "auto_map", "model_type", "transformers_version", "_name_or_path", "torch_dtype", "dtype"}
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
