"""KV-cached model calls for the engine: Fast-dLLM's prefix/dual caches and the exact block-causal cache.

Each function returns a stateful ``logits_fn(canvas, start, end)`` for one batch. The first call with a
new ``(start, end)`` window (a new block, or an edit round over the whole canvas) is a full pass that
(re)builds the cache and answers that step; later calls on the same window feed only the query slice.

* ``prefix`` (bidirectional, approximate): the KV of everything left of the window, computed at the
  window's first step, is reused for the window's other steps; the window and everything right of it
  are recomputed at each step. Prefix keys are stale where they depended on tokens the window commits.
* ``dual`` (bidirectional, approximate): the KV of everything outside the window (left and right) is
  reused; only the window is recomputed. Stale window keys stay in the cache but are masked out.
* ``block_kv`` (block-causal, exact): finished attention blocks never attend to later ones, so their KV
  is final once they are; each new window first extends the cache over the block(s) finished since, and
  every step feeds the window's whole attention block (a prompt's tokens sharing it see the window).

The cache lives in transformers' ``DynamicCache``, driven through the forward's cache argument, explicit
``position_ids`` and an additive 4-D mask (decoder backbones such as Llama and Qwen2 accept all three).
Keys appended by a call land at the end of the cache whatever their canvas position; RoPE and the
mask, built from each slot's canvas position, make that order irrelevant.
"""

from __future__ import annotations

import inspect
from typing import Any

import torch

from model_adapters._engine import BlockLayout, LogitsFn
from model_adapters._settings import check_cache_attention


def positions(attention_mask: torch.Tensor, length: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """([B, L] real-token flags, [B, L] positions counted from each row's first real token).

    Counting from the first real token makes left padding invisible to RoPE. ``length`` beyond the mask's
    width extends both with real canvas positions (the engine may widen the canvas to a block boundary).
    """
    batch, width = attention_mask.shape
    real = attention_mask.bool()
    if length is not None and length > width:
        real = torch.cat([real, real.new_ones(batch, length - width)], 1)
    return real, (real.long().cumsum(-1) - 1).clamp(min=0)


def canvas_geometry(
    attention_mask: torch.Tensor, length: int | None = None, attention_block: int | None = None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """(real-token flags, positions, attention blocks or None) of a canvas, each [B, L] (see ``positions``)."""
    real, position_ids = positions(attention_mask, length)
    return real, position_ids, None if attention_block is None else position_ids // attention_block


def block_ids(attention_mask: torch.Tensor, attention_block: int, length: int | None = None) -> torch.Tensor:
    """[B, L] attention block of each position: blocks of ``attention_block`` at ABSOLUTE positions.

    As SDAR, LLaDA2 and Fast-dLLM v2 lay them out: the sequence (prompt + canvas) is cut into blocks from
    each row's first real token, so a prompt's full blocks stay block-causal and its last partial block is
    shared with the first canvas tokens. Left padding is masked out separately.
    """
    blocks = canvas_geometry(attention_mask, length, attention_block)[2]
    assert blocks is not None
    return blocks


def additive_mask(
    real: torch.Tensor,
    q_pos: torch.Tensor,
    kv_pos: torch.Tensor,
    kv_valid: torch.Tensor,
    blocks: torch.Tensor | None,
    dtype: torch.dtype,
) -> torch.Tensor:
    """[B, 1, q, kv] additive mask: 0 where a query may attend a key slot, the dtype's minimum elsewhere.

    Args:
        real: [B, L] True for real (non-pad) canvas tokens.
        q_pos: [q] canvas positions of the queries.
        kv_pos: [kv] canvas position held by each key slot.
        kv_valid: [kv] False for stale slots.
        blocks: [B, L] block index per position for block-causal attention; None for bidirectional.
        dtype: The model's dtype.
    """
    allowed = (real[:, kv_pos] & kv_valid).unsqueeze(1).expand(-1, len(q_pos), -1)
    if blocks is not None:
        allowed = allowed & (blocks[:, kv_pos].unsqueeze(1) <= blocks[:, q_pos].unsqueeze(2))
    mask = torch.zeros(allowed.shape, dtype=dtype, device=real.device)
    return mask.masked_fill(~allowed, torch.finfo(dtype).min).unsqueeze(1)


def cache_keyword(model: Any) -> str | None:
    """The name under which ``model.forward`` takes a KV cache, or None if it takes none.

    transformers 5.25 renamed ``past_key_values`` to ``cache`` (the old name is deprecated until 5.40).
    """
    params = inspect.signature(model.forward).parameters
    return next((name for name in ("cache", "past_key_values") if name in params), None)


def check_cacheable(model: Any) -> str:
    """Refuse models whose forward cannot take a KV cache, positions and a 4-D mask.

    Returns:
        The name under which the forward takes the cache (``cache_keyword``).
    """
    params = inspect.signature(model.forward).parameters
    keyword = cache_keyword(model)
    missing = [p for p in ("position_ids", "attention_mask") if p not in params]
    if keyword is None:
        missing.insert(0, "cache (past_key_values)")
    if missing or keyword is None:
        raise ValueError(
            f"{type(model).__name__}.forward takes no {missing}: KV caches and block-causal attention need a "
            "decoder backbone (Llama, Qwen2, ...) that accepts a KV cache, position_ids and a 4-D mask"
        )
    return keyword


class CachedLogits:
    """Stateful ``logits_fn`` over one batch with one of the cache modes (see the module docstring)."""

    def __init__(
        self,
        model: Any,
        attention_mask: torch.Tensor,
        shifted: bool,
        mode: str,
        layout: BlockLayout | None = None,
    ) -> None:
        """Set up the cache for one batch.

        Args:
            model: A transformers decoder model (see ``check_cacheable``).
            attention_mask: [B, L] 1 for real tokens (prompt and canvas), 0 for left padding.
            shifted: Whether token i is predicted at position i - 1.
            mode: ``prefix``, ``dual`` or ``block_kv``.
            layout: The block layout of a block-causal model (``block_kv``), else None.
        """
        self.cache_keyword = check_cacheable(model)
        if mode == "none":
            raise ValueError("cache='none' needs no cached model call")
        check_cache_attention(mode, "bidirectional" if layout is None else "block_causal")
        self.model, self.shifted, self.mode, self.layout = model, shifted, mode, layout
        self.attention_mask = attention_mask
        self._resize(attention_mask.shape[1])
        self.cache: Any = None
        self.slots = torch.empty(0, dtype=torch.long, device=attention_mask.device)
        """Canvas position of each cache slot, in cache order."""
        self.valid = torch.empty(0, dtype=torch.bool, device=attention_mask.device)
        """False for stale slots (dual mode: the window's own keys from the refresh pass)."""
        self.window: tuple[int, int] | None = None
        self.base = 0
        """Cache length that persists between the steps of a window (later slots are dropped after each call)."""
        self._step: tuple[tuple[int, int, int], tuple[torch.Tensor, torch.Tensor, torch.Tensor]] | None = None
        """Inputs of the last call, keyed by (a, b, cached slots): a window's later steps reuse its mask."""

    def _resize(self, length: int) -> None:
        """Masks and positions for a canvas of ``length`` columns (the engine may widen it to a block boundary)."""
        self.length = length
        block = None if self.layout is None else self.layout.attention_block
        self.real, self.position_ids, self.blocks = canvas_geometry(self.attention_mask, length, block)

    def __call__(self, canvas: torch.Tensor, start: int, end: int) -> torch.Tensor:
        """Logits predicting canvas[:, start:end]."""
        if canvas.shape[1] != self.length:
            self._resize(canvas.shape[1])
        lo, hi = (start - 1, end - 1) if self.shifted else (start, end)
        first = max(lo, 0)  # first canvas position whose output is needed
        if self.window != (start, end):
            self.window, self._step = (start, end), None
            logits = self._refresh(canvas, first, hi, end)
        elif self.mode == "block_kv":  # feed the window's attention block(s): their keys see the window
            logits = self._forward(canvas, self.base, end, keep=hi - self.base)[:, first - self.base :]
            self._crop(self.base)
        else:
            # Feed every query and every token the window may change (with a shift, [start-1, end)).
            stop = self.length if self.mode == "prefix" else end
            logits = self._forward(canvas, first, stop, keep=hi - first)
            self._crop(self.base)
        if lo < 0:  # position 0 of a shifted model has no left neighbour: reuse its own logits (as Dream does)
            logits = torch.cat([logits[:, :1], logits], dim=1)
        return logits

    def _refresh(self, canvas: torch.Tensor, first: int, hi: int, end: int) -> torch.Tensor:
        """First step of a window: rebuild the cache and return this step's logits."""
        if self.mode == "block_kv":
            # Keep the exact keys of the attention blocks before the window's; extend over what finished since.
            anchor = self._block_start(first)
            kept = min(self.base, anchor)
            self._crop(kept)
            logits = self._forward(canvas, kept, end, keep=hi - kept)[:, first - kept :]
            self.base = anchor
            self._crop(anchor)
            return logits
        self.cache, self.slots, self.valid = None, self.slots[:0], self.valid[:0]
        logits = self._forward(canvas, 0, self.length, keep=hi)[:, first:]
        if self.mode == "prefix":
            self.base = first
            self._crop(first)
        else:  # dual: keep every key, but the window's own go stale as soon as it changes
            self.base = self.length
            self.valid = (self.slots < first) | (self.slots >= end)
        return logits

    def _block_start(self, column: int) -> int:
        """First column of the attention block holding ``column``, earliest over the rows.

        Keys before it are final (their blocks never see later ones); keys from it on see the window, even
        a prompt's tokens that share the window's attention block, so they are recomputed at every step.
        """
        assert self.blocks is not None
        starts = (self.blocks >= self.blocks[:, column : column + 1]).long().argmax(-1)
        return int(starts.min())

    def _crop(self, length: int) -> None:
        if self.cache is not None and len(self.slots) > length:
            # A negative count removes that many trailing tokens in transformers 4.4x and 5.x alike.
            self.cache.crop(length - len(self.slots))
            self.slots, self.valid = self.slots[:length], self.valid[:length]

    def _forward(self, canvas: torch.Tensor, a: int, b: int, keep: int) -> torch.Tensor:
        """Feed canvas[:, a:b] after the cached slots; return logits of its first ``keep`` positions."""
        # Between a window's refreshes the kept slots do not change, so each later step feeds the same positions
        # against the same keys: its [B, 1, q, kv] mask is built once per window, not once per step.
        key = (a, b, len(self.slots))
        if self._step is not None and self._step[0] == key:
            kv_pos, kv_valid, mask = self._step[1]
        else:
            q_pos = torch.arange(a, b, device=canvas.device)
            kv_pos = torch.cat([self.slots, q_pos])
            kv_valid = torch.cat([self.valid, torch.ones_like(q_pos, dtype=torch.bool)])
            mask = additive_mask(self.real, q_pos, kv_pos, kv_valid, self.blocks, self.model.dtype)
            self._step = (key, (kv_pos, kv_valid, mask))
        if self.cache is None:
            self.cache = growing_cache(self.model.config)
        out = self.model(
            canvas[:, a:b],
            attention_mask=mask,
            position_ids=self.position_ids[:, a:b],
            use_cache=True,
            logits_to_keep=slice(0, keep),
            **{self.cache_keyword: self.cache},
        )
        self.slots, self.valid = kv_pos, kv_valid
        return out.logits


def growing_cache(config: Any) -> Any:
    """A ``DynamicCache`` whose full-attention layers write a call's keys into spare room, never concatenating.

    ``DynamicLayer.update`` copies the whole cache into a new tensor at every call (``torch.cat``): an
    O(context) copy per layer per step, which the crop after the step then throws away. Here a call writes
    only its own keys into a buffer that grows geometrically, and the inherited ``crop`` shortens the views,
    so a cached step does work proportional to the window, not the context.
    """
    from transformers import DynamicCache
    from transformers.cache_utils import DynamicLayer

    if not all(hasattr(DynamicLayer, name) for name in ("lazy_initialization", "update", "crop")):
        return DynamicCache(config=config)  # another transformers layout: correct, only slower

    class GrowingLayer(DynamicLayer):
        """``DynamicLayer`` over a buffer with spare room; ``keys``/``values`` view its used slots."""

        buffer: tuple[torch.Tensor, torch.Tensor] | None = None

        def update(self, key_states: torch.Tensor, value_states: torch.Tensor, *args: Any, **kwargs: Any) -> Any:
            if not self.is_initialized:
                self.lazy_initialization(key_states, value_states)
            used = self.keys.shape[-2] if self.keys.dim() == 4 else 0
            need = used + key_states.shape[-2]
            if self.buffer is None or need > self.buffer[0].shape[-2]:
                room = max(need, 2 * (0 if self.buffer is None else self.buffer[0].shape[-2]))
                grown = tuple(s.new_empty(*s.shape[:-2], room, s.shape[-1]) for s in (key_states, value_states))
                if used:
                    grown[0][..., :used, :] = self.keys
                    grown[1][..., :used, :] = self.values
                self.buffer = (grown[0], grown[1])
            keys, values = self.buffer
            keys[..., used:need, :] = key_states
            values[..., used:need, :] = value_states
            self.keys, self.values = keys[..., :need, :], values[..., :need, :]
            return self.keys, self.values

    cache = DynamicCache(config=config)
    cache.layers = [GrowingLayer() if type(layer) is DynamicLayer else layer for layer in cache.layers]
    return cache


def cached_logits_fn(
    model: Any, attention_mask: torch.Tensor, shifted: bool, mode: str, layout: BlockLayout | None = None
) -> LogitsFn:
    """A stateful cached ``logits_fn`` for one batch (see ``CachedLogits``)."""
    return CachedLogits(model, attention_mask, shifted, mode, layout)
