"""Family presets and their registry: what differs between diffusion LM families, as data over one engine.

A family file builds one ``FamilyPreset`` and calls ``register_family``. This module imports no family and
no model (lookup, which needs the built-in families, lives in ``model_adapters.families``), so family files
and the owned loaders import it without a loop. Everything heavy (torch, transformers) loads later.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from model_adapters._loading import LoadRequest
from model_adapters._settings import ATTENTIONS, DecodingSettings


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
    """Mask token text looked up in the tokenizer's vocabulary (first choice, see ``mask_id``)."""
    mask_token_id: int | None = None
    """The published mask id: used when the tokenizer lacks ``mask_token``, before its own mask token."""
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
    """Custom model loader (the tokenizer always loads with AutoTokenizer); None uses ``load_generic``."""
    chat_template: Literal["instruct", "always", "never"] = "instruct"
    """Which checkpoints expect the tokenizer's chat template: instruct/chat ones (the reference
    evaluations' behaviour), all, or none. Advisory: lm-eval's ``--apply_chat_template`` decides."""
    generate: Callable[..., Any] | None = None
    """A family-specific decoding loop replacing the shared engine (None: the engine). Called as
    ``generate(model, prompt, attention_mask, settings, special, generators, observer)`` and must
    return a ``DenoiseResult``; used by families whose sampler is not mask-and-commit."""
    description: str = ""
    """One line for docs and error messages."""

    def mask_id(self, tokenizer: Any) -> int | None:
        """The mask id decoding uses with ``tokenizer``; None when there is none.

        Precedence: the id of ``mask_token`` in the tokenizer's vocabulary; else ``mask_token_id`` when it is
        inside the vocabulary (iLLaDA masks with the ordinary id 5, whatever mask token its tokenizer
        declares); else the tokenizer's own ``mask_token_id``. The family's word wins over the tokenizer's,
        since a generic tokenizer's mask token is not necessarily the one the model was trained with.
        """
        if self.mask_token is not None and (found := tokenizer.get_vocab().get(self.mask_token)) is not None:
            return int(found)
        if self.mask_token_id is not None and 0 <= self.mask_token_id < len(tokenizer):
            return self.mask_token_id
        own = tokenizer.mask_token_id
        return None if own is None else int(own)

    def matches(self, config: dict[str, Any]) -> bool:
        """Whether a checkpoint's config identifies this family."""
        return self.matches_architecture(config) or config.get("model_type") in self.model_types

    def matches_architecture(self, config: dict[str, Any]) -> bool:
        """Whether one of the config's ``architectures`` is this family's (a stronger signal than model_type)."""
        return bool(set(config.get("architectures") or ()) & set(self.architectures))


FAMILIES: dict[str, FamilyPreset] = {}
"""Registered presets by name (look them up with ``model_adapters.get_family``)."""


def register_family(preset: FamilyPreset) -> FamilyPreset:
    """Add a preset to the registry (a family file calls this once at import).

    Raises:
        ValueError: when the name is taken, or the preset's attention or decoding defaults are invalid
            (an unknown or misspelled setting, a schedule without its parameter, a cache the attention
            cannot use), so a broken family fails when it registers rather than on its first request.
    """
    if preset.name in FAMILIES:
        raise ValueError(f"family {preset.name!r} is already registered ({FAMILIES[preset.name].description})")
    _check(preset)
    FAMILIES[preset.name] = preset
    return preset


def _check(preset: FamilyPreset) -> None:
    if not preset.name.isidentifier():
        raise ValueError(f"family name {preset.name!r} must be an identifier (it is passed as family=<name>)")
    if preset.attention not in ATTENTIONS:
        raise ValueError(f"family {preset.name!r}: unknown attention {preset.attention!r}; choose from {ATTENTIONS}")
    if preset.attention == "block_causal" and preset.generate is None and not preset.attention_block:
        raise ValueError(f"family {preset.name!r}: block_causal attention needs attention_block")
    try:
        defaults = DecodingSettings.from_mapping(preset.defaults)
        defaults.validate()
        defaults.validate_for(preset.attention, preset.attention_block, whole_blocks=False)
    except ValueError as error:
        raise ValueError(f"family {preset.name!r} has invalid defaults {preset.defaults}: {error}") from None
