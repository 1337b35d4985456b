"""Family presets: what differs between diffusion LM families, as data over one shared engine.

A family file builds one ``FamilyPreset`` and calls ``register_family``. Everything heavy
(torch, transformers) is imported inside the functions that need it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

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
    attn_implementation: str | None = None
    """The user's attention choice (None: SDPA); the checkpoint's own ``attn_implementation`` is ignored."""


@dataclass(frozen=True)
class FamilyPreset:
    """Everything the adapter must know about one diffusion LM family."""

    name: str
    """Registry name, used as ``family=<name>``."""
    model_types: tuple[str, ...] = ()
    """``config.json`` ``model_type`` values that identify the family."""
    architectures: tuple[str, ...] = ()
    """``config.json`` ``architectures`` entries that identify the family."""
    mask_token: str | None = None
    """Mask token text looked up in the tokenizer; falls back to the tokenizer's own mask token."""
    mask_token_id: int | None = None
    """The published mask id, for documentation; the id actually used is the tokenizer's for ``mask_token``."""
    eos_tokens: tuple[str, ...] = ()
    """Token texts that end a generation, besides the tokenizer's EOS (e.g. an end-of-turn token)."""
    eot_token: str | None = None
    """End-of-turn token text, for the ``confidence_eos_eot_inf`` option."""
    shifted_logits: bool = False
    """True when position i's token is predicted from position i-1 (Dream); False when from i (LLaDA)."""
    attention: Literal["bidirectional", "block_causal"] = "bidirectional"
    """Attention pattern the engine's model calls use."""
    attention_block: int | None = None
    """Block size of ``block_causal`` attention (a token sees its own block and every earlier one)."""
    defaults: dict[str, Any] = field(default_factory=dict)
    """Decoding settings published by the family's authors (overridable by model_args and gen_kwargs)."""
    add_special_tokens: bool = True
    """Whether plain (non-chat) prompts are tokenized with the tokenizer's special tokens (e.g. BOS)."""
    loader: Callable[[LoadRequest], Any] | None = None
    """Custom model loader (the tokenizer loads apart, with ``load_tokenizer``); None uses ``load_generic``."""
    chat_template: Literal["instruct", "always", "never"] = "instruct"
    """Which checkpoints expect the tokenizer's chat template: instruct/chat ones (the reference
    evaluations' behaviour), all, or none. Advisory: lm-eval's ``--apply_chat_template`` decides."""
    generate: Callable[..., Any] | None = None
    """A family-specific decoding loop replacing the shared engine (None: the engine). Called as
    ``generate(model, prompt, attention_mask, settings, special, generators, observer)`` and must
    return a ``DenoiseResult``; used by families whose sampler is not mask-and-commit."""
    description: str = ""
    """One line for docs and error messages."""

    def matches(self, config: dict[str, Any]) -> bool:
        """Whether a checkpoint's config identifies this family."""
        return self.matches_architecture(config) or config.get("model_type") in self.model_types

    def matches_architecture(self, config: dict[str, Any]) -> bool:
        """Whether one of the config's ``architectures`` is this family's (a stronger signal than model_type)."""
        return bool(set(config.get("architectures") or ()) & set(self.architectures))


FAMILIES: dict[str, FamilyPreset] = {}
"""Registered presets by name."""


def register_family(preset: FamilyPreset) -> FamilyPreset:
    """Add a preset to the registry (a family file calls this once at import)."""
    if preset.name in FAMILIES and FAMILIES[preset.name] != preset:
        raise ValueError(f"family {preset.name!r} registered twice")
    FAMILIES[preset.name] = preset
    return preset


def get_family(name: str) -> FamilyPreset:
    """Look a preset up by name, with the list of choices on error."""
    _import_families()
    if name not in FAMILIES:
        raise ValueError(f"unknown family {name!r}; choose from {sorted(FAMILIES)}")
    return FAMILIES[name]


def detect_family(config: dict[str, Any]) -> FamilyPreset:
    """Pick the preset whose architectures (first) or model_type match the checkpoint config.

    Raises:
        ValueError: when no family matches (the message suggests ``family=``).
    """
    _import_families()
    # Architectures first: some families share a model_type (LLaDA-MoE checkpoints have used "llada").
    found = [p for p in FAMILIES.values() if p.matches_architecture(config)]
    found = found or [p for p in FAMILIES.values() if p.matches(config)]
    if not found:
        raise ValueError(
            f"cannot tell the diffusion family of model_type={config.get('model_type')!r}, "
            f"architectures={config.get('architectures')}; pass family=<{'|'.join(sorted(FAMILIES))}>"
        )
    return found[0]


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


def _import_families() -> None:
    import model_adapters.families  # noqa: F401  (registers the built-in presets)


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

    from model_adapters._models._common import attention_implementation

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
