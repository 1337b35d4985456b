"""Loader helpers every family and every owned model shares: load request, dtypes, config, attention choice.

This module imports nothing else from the package, so family files (``families/*``) and the owned model
implementations (``_models/*``) can both use it without an import loop. Heavy libraries load inside the
functions.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

logger = logging.getLogger(__name__)


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
    attn_implementation: str | None = None
    """The user's attention choice (None: SDPA); the checkpoint's own ``attn_implementation`` is ignored."""


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
        attn_implementation=attention_implementation(request, remote=request.trust_remote_code),
    )
    return model.to(request.device).eval()


ATTENTION_CHOICES = ("sdpa", "eager", "flex_attention")
"""Values of the ``attn_implementation`` model argument; ``sdpa`` is the default."""

# FlashAttention kernels take a padding mask and a causal flag, never the engine's 4-D
# bidirectional / block-causal mask: with them a diffusion model would silently attend causally.
_MASKLESS = ("flash_attention_2", "flash_attention_3", "kernels-community/flash-attn")


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
