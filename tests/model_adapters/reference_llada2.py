"""Plain transcriptions of LLaDA2.0's and LLaDA2.1's ``generate`` (inclusionAI modeling_llada2_moe.py), test oracles.

Both cut the whole sequence (prompt + gen_length, rounded up) into blocks of ``block_length`` at absolute
positions under a block-causal mask, start with the block holding the end of the prompt (its prompt
tokens stay) and run full forward passes over everything up to the current block's end. Greedy only
(temperature 0), one prompt at a time. Differences from the published code, on purpose: none in the
algorithm; the 2.0 copy inspected draws with ``torch.multinomial`` even at temperature 0 although its
docstring calls 0 greedy, and the 2.1 code takes the argmax there, so both are transcribed as argmax.

* 2.0: at most ``steps`` steps per block; each commits every masked candidate whose probability is
  strictly above ``threshold`` when they number at least the step's scheduled count (the block spread
  over ``steps``), else that many of the most confident; after a block, a generated EOS ends decoding.
* 2.1: no step budget; each pass commits masks as above with a scheduled count of ``num_to_transfer`` and
  also replaces already committed, non-prompt tokens of the block whose argmax differs with probability
  strictly above ``editing_threshold``. Once the block holds no mask, each further pass counts as a post
  step; the block ends at a pass that edits nothing or after ``max_post_steps`` of them. With
  ``eos_early_stop``, a fully decoded generation holding EOS ends decoding after the block.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from tests.model_adapters.reference_sdar import block_causal_mask, scheduled_counts

Forward = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
"""forward(x [1, L], additive block-causal mask [1, 1, L, L]) -> logits [1, L, V]."""


@dataclass
class Decoded:
    """What a reference decode produced."""

    x: torch.Tensor
    """[1, total] prompt and canvas (masks where decoding stopped early)."""
    nfe: int
    """Forward passes."""
    first_step: dict[int, int]
    """Generated position -> index of the pass that first committed it."""
    last_change: dict[int, int]
    """Generated position -> index of the pass that last changed it."""


def _layout(prompt: torch.Tensor, gen_length: int, block_length: int, mask_id: int) -> tuple[torch.Tensor, int]:
    prompt_length = prompt.shape[1]
    num_blocks = (prompt_length + gen_length + block_length - 1) // block_length
    x = torch.full((1, num_blocks * block_length), mask_id, dtype=torch.long)
    x[:, :prompt_length] = prompt
    return x, num_blocks


def _record(out: Decoded, positions: torch.Tensor, lo: int, prompt_length: int) -> None:
    for p in positions.nonzero().flatten().tolist():
        g = lo + p - prompt_length
        out.first_step.setdefault(g, out.nfe)
        out.last_change[g] = out.nfe


def reference_llada2_generate(
    forward: Forward, prompt: torch.Tensor, gen_length: int, block_length: int, steps: int, mask_id: int,
    eos_id: int, threshold: float = 0.95, minimal_topk: int = 1,
) -> Decoded:
    """LLaDA2.0 ``generate`` (greedy); see the module docstring."""
    steps = min(steps, gen_length // minimal_topk)
    prompt_length = prompt.shape[1]
    x, num_blocks = _layout(prompt, gen_length, block_length, mask_id)
    mask = block_causal_mask(x.shape[1], block_length)
    counts = scheduled_counts(block_length, steps)
    out = Decoded(x, 0, {}, {})
    for block in range(prompt_length // block_length, num_blocks):
        lo, hi = block * block_length, (block + 1) * block_length
        for step in range(steps):
            active = x[0, lo:hi] == mask_id
            if not active.any():
                break
            logits = forward(x[:, :hi], mask[:, :, :hi, :hi])[0, lo:hi]
            p, x0 = torch.softmax(logits.float(), -1).max(-1)
            confidence = torch.where(active, p, -torch.inf)
            high = confidence > threshold
            if high.sum() >= counts[step]:
                transfer = high
            else:
                transfer = torch.zeros_like(active)
                transfer[torch.topk(confidence, min(counts[step], int(active.sum()))).indices] = True
            x[0, lo:hi][transfer] = x0[transfer]
            _record(out, transfer, lo, prompt_length)
            out.nfe += 1
        if (x[0, prompt_length:hi] == eos_id).any():
            break
    return out


def reference_llada21_generate(
    forward: Forward, prompt: torch.Tensor, gen_length: int, block_length: int, mask_id: int, eos_id: int,
    threshold: float = 0.95, editing_threshold: float = 0.9, max_post_steps: int = 16, num_to_transfer: int = 1,
    eos_early_stop: bool = True,
) -> Decoded:
    """LLaDA2.1 ``generate`` (greedy) with token-to-token editing; see the module docstring."""
    prompt_length = prompt.shape[1]
    x, num_blocks = _layout(prompt, gen_length, block_length, mask_id)
    mask = block_causal_mask(x.shape[1], block_length)
    out = Decoded(x, 0, {}, {})
    for block in range(prompt_length // block_length, num_blocks):
        lo, hi = block * block_length, (block + 1) * block_length
        in_prompt = torch.arange(lo, hi) < prompt_length
        post_steps = 0
        while True:
            old = x[0, lo:hi].clone()
            active = old == mask_id
            if not active.any():
                post_steps += 1
            if post_steps > max_post_steps:
                break
            logits = forward(x[:, :hi], mask[:, :, :hi, :hi])[0, lo:hi]
            p, x0 = torch.softmax(logits.float(), -1).max(-1)
            transfer = torch.zeros_like(active)
            if active.any():
                confidence = torch.where(active, p, -torch.inf)
                high = (confidence > threshold) & active
                if high.sum() >= num_to_transfer:
                    transfer = high
                else:
                    transfer[torch.topk(confidence, min(num_to_transfer, int(active.sum()))).indices] = True
            edit = ~active & ~in_prompt & (p > editing_threshold) & (x0 != old)
            change = transfer | edit
            x[0, lo:hi][change] = x0[change]
            _record(out, change, lo, prompt_length)
            out.nfe += 1
            if not active.any() and not edit.any():
                break
        generated = x[0, prompt_length:hi]
        if eos_early_stop and not (generated == mask_id).any() and (generated == eos_id).any():
            break
    return out
