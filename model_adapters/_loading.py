"""Loader helpers every family and every owned model shares: the load request, dtype names, config reading.

This module imports nothing else from the package, so family files (``families/*``) and the owned model
implementations (``_models/*``) can both use it without an import loop. Heavy libraries load inside the
functions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class LoadRequest:
    """What a family loader needs to build model and tokenizer."""

    pretrained: str
    """Local folder or hub id."""
    config: dict[str, Any]
    """The checkpoint's raw ``config.json``."""
    device: str
    """Torch device string."""
    dtype: str
    """Torch dtype name (float32, bfloat16, float16)."""
    trust_remote_code: bool
    """Whether the user opted in to running the checkpoint's own modeling code."""
    revision: str | None = None
    """Hub revision, if any."""


def read_config(pretrained: str, revision: str | None = None) -> dict[str, Any]:
    """Read ``config.json`` of a local folder or (cached) hub checkpoint without loading weights.

    Raises:
        FileNotFoundError: when the path or hub id has no config (offline, typo, or not a model folder).
    """
    from pathlib import Path

    local = Path(pretrained).expanduser()
    if local.is_dir():
        path = local / "config.json"
        if not path.is_file():
            raise FileNotFoundError(f"{local} has no config.json: is it a saved model folder?")
    elif pretrained.startswith((".", "/", "~")) or local.suffix:
        raise FileNotFoundError(f"model folder {pretrained!r} does not exist")
    else:
        from transformers.utils import cached_file

        try:
            path = Path(cached_file(pretrained, "config.json", revision=revision))
        except OSError as error:
            raise FileNotFoundError(
                f"could not fetch config.json for {pretrained!r} (offline or unknown id): {error}"
            ) from None
    return json.loads(path.read_text())


def torch_dtype(name: str) -> torch.dtype:
    """Map a dtype name to torch, with a clear error."""
    import torch

    table = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
    if name not in table:
        raise ValueError(f"dtype must be one of {sorted(table)} or 'auto', got {name!r}")
    return table[name]


def load_generic(request: LoadRequest) -> Any:
    """Load weights with transformers' Auto classes, picking masked- or causal-LM heads by architecture."""
    from transformers import AutoModel, AutoModelForCausalLM, AutoModelForMaskedLM

    archs = " ".join(request.config.get("architectures") or ())
    auto = AutoModelForMaskedLM if "MaskedLM" in archs else AutoModelForCausalLM if "CausalLM" in archs else AutoModel
    model = auto.from_pretrained(
        request.pretrained,
        dtype=torch_dtype(request.dtype),
        revision=request.revision,
        trust_remote_code=request.trust_remote_code,
    )
    return model.to(request.device).eval()
