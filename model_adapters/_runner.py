"""Turns a loaded transformers model into the engine's ``logits_fn`` for one batch."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import torch

from model_adapters._engine import BlockLayout, LogitsFn
from model_adapters._settings import check_cache_attention


def bidirectional_logits_fn(model: Any, attention_mask: torch.Tensor, shifted: bool) -> LogitsFn:
    """Model call with full attention over non-pad tokens and positions counted from each row's first token.

    Args:
        model: A transformers model returning ``.logits``.
        attention_mask: [B, L] 1 for real tokens (prompt and canvas), 0 for left padding.
        shifted: Whether logits are shifted by one (token i predicted at position i-1).

    Returns:
        A function (canvas, start, end) -> logits for canvas[:, start:end].
    """
    from transformers.masking_utils import create_bidirectional_mask

    from model_adapters._cache import positions

    batch, length = attention_mask.shape
    _, position_ids = positions(attention_mask)
    placeholder = torch.empty(batch, length, 0, dtype=model.dtype, device=attention_mask.device)
    # A 4-D mask is used as given, so decoder backbones (Llama, Qwen2) attend both ways.
    mask = create_bidirectional_mask(
        config=model.config,
        inputs_embeds=placeholder,
        attention_mask=attention_mask,
        allow_is_bidirectional_skip=False,
    )
    params = inspect.signature(model.forward).parameters
    can_slice = "logits_to_keep" in params
    extra: dict[str, Any] = {"attention_mask": mask}
    if "position_ids" in params:
        extra["position_ids"] = position_ids
    if "use_cache" in params:  # every step re-reads the whole canvas: a KV cache would be dead weight
        extra["use_cache"] = False

    def logits_fn(canvas: torch.Tensor, start: int, end: int) -> torch.Tensor:
        if can_slice:
            return _window_logits(lambda keep: model(canvas, logits_to_keep=keep, **extra).logits, start, end, shifted)
        return _window_logits(lambda keep: model(canvas, **extra).logits[:, keep], start, end, shifted)

    return logits_fn


def _window_logits(call: Callable[[slice], torch.Tensor], start: int, end: int, shifted: bool) -> torch.Tensor:
    """Logits predicting canvas[:, start:end] from ``call(positions to keep)``, for either logits convention."""
    lo, hi = (start - 1, end - 1) if shifted else (start, end)
    logits = call(slice(max(lo, 0), hi))
    if lo < 0:  # position 0 of a shifted model has no left neighbour: reuse its own logits (as Dream does)
        logits = torch.cat([logits[:, :1], logits], dim=1)
    return logits


class BlockCausalLogits:
    """Full forward passes under block-causal attention (SDAR, LLaDA2.0, Fast-dLLM v2), no cache.

    Attention blocks of ``attention_block`` tokens sit at absolute positions counted from each row's first
    real token (``model_adapters._cache.block_ids``): each attends to itself and every earlier block, the
    prompt's full blocks included, and its last partial block is shared with the first canvas tokens. Left
    padding is masked out of every row. ``layout`` tells the engine to align its decoding blocks likewise.
    """

    def __init__(
        self, model: Any, attention_mask: torch.Tensor, shifted: bool, prompt_len: int, attention_block: int
    ) -> None:
        """Args: see ``make_logits_fn``."""
        from model_adapters._cache import check_cacheable

        check_cacheable(model)
        self.model, self.attention_mask, self.shifted = model, attention_mask, shifted
        self.layout = block_layout(attention_mask, prompt_len, attention_block)
        self.length = -1

    def _resize(self, length: int) -> None:
        from model_adapters._cache import additive_mask, canvas_geometry

        self.length = length
        real, self.position_ids, blocks = canvas_geometry(self.attention_mask, length, self.layout.attention_block)
        pos = torch.arange(length, device=real.device)
        self.mask = additive_mask(real, pos, pos, torch.ones_like(pos, dtype=torch.bool), blocks, self.model.dtype)

    def __call__(self, canvas: torch.Tensor, start: int, end: int) -> torch.Tensor:
        """Logits predicting canvas[:, start:end]."""
        if canvas.shape[1] != self.length:  # the engine may widen the canvas to a block boundary
            self._resize(canvas.shape[1])
        return _window_logits(
            lambda keep: self.model(canvas, attention_mask=self.mask, position_ids=self.position_ids,
                                    logits_to_keep=keep, use_cache=False).logits,
            start, end, self.shifted,
        )


def block_layout(attention_mask: torch.Tensor, prompt_len: int, attention_block: int) -> BlockLayout:
    """The layout of a left-padded batch whose (padded) prompts are ``prompt_len`` wide."""
    return BlockLayout(prompt_lengths=attention_mask[:, :prompt_len].long().sum(-1), attention_block=attention_block)


def make_logits_fn(
    model: Any,
    attention_mask: torch.Tensor,
    shifted: bool,
    prompt_len: int,
    attention: str = "bidirectional",
    attention_block: int | None = None,
    cache: str = "none",
) -> LogitsFn:
    """The engine's model call for one batch, from the family's attention and the ``cache`` setting.

    Args:
        model: A loaded transformers model returning ``.logits``.
        attention_mask: [B, P + G] 1 for real tokens, 0 for left padding.
        shifted: Whether logits are shifted by one (Dream convention).
        prompt_len: Padded prompt width P.
        attention: ``bidirectional`` or ``block_causal`` (the family preset's ``attention``).
        attention_block: Block size of a block-causal model.
        cache: The ``cache`` decoding setting (see ``model_adapters._settings.CACHE_MODES``).

    Raises:
        ValueError: for a cache that does not apply to the attention, or a model that cannot be cached.
    """
    from model_adapters._cache import cached_logits_fn

    check_cache_attention(cache, attention)
    if attention == "block_causal":
        if not attention_block or attention_block <= 0:
            raise ValueError("attention='block_causal' needs a positive attention_block")
        if cache == "block_kv":
            layout = block_layout(attention_mask, prompt_len, attention_block)
            return cached_logits_fn(model, attention_mask, shifted, "block_kv", layout)
        return BlockCausalLogits(model, attention_mask, shifted, prompt_len, attention_block)
    if cache != "none":
        return cached_logits_fn(model, attention_mask, shifted, cache)
    return bidirectional_logits_fn(model, attention_mask, shifted)
