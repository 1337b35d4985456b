"""A plain transcription of Fast-dLLM v2's ``batch_sample`` for one prompt (NVlabs Fast-dLLM v2), a test oracle.

Attention blocks of ``block_size`` sit at absolute positions (block-causal mask); logits are shifted (the
output at i predicts token i + 1). The prompt's full blocks are prefilled; when the prompt ends on a block
boundary the prefill's last output gives the next token by argmax. Decoding starts in the block holding
the end of the prompt; each block is decoded as sub-blocks of ``small_block_size`` left to right, each step
committing every masked candidate of the sub-block whose probability is strictly above ``threshold``, and
always the most confident one. A finished block gets one more pass (the reference's KV-cache write) whose
last output gives the next block's first token by argmax. Once a step commits the stop token, decoding ends
after the current block. Greedy only (temperature 0); full forward passes instead of the KV cache
(identical logits: a block never sees later ones).

Difference from the published code, on purpose: the reference skips the prefill when the prompt is exactly
one block long (``min_len > block_size``), so its first generated block does not see the prompt; this
transcription prefills whenever the prompt holds a full block. Tests avoid that length.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from tests.model_adapters.reference_sdar import block_causal_mask

Forward = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
"""forward(x [1, L], additive block-causal mask [1, 1, L, L]) -> logits [1, L, V]."""


def reference_fast_dllm_v2_generate(
    forward: Forward, prompt: torch.Tensor, max_new_tokens: int, mask_id: int, stop_id: int,
    block_size: int = 32, small_block_size: int = 8, threshold: float = 0.95,
) -> torch.Tensor:
    """Decode one prompt [1, P]; returns the whole sequence [1, L] (prompt, decoded blocks, next-block token)."""
    prompt_length = prompt.shape[1]
    num_blocks = max_new_tokens // block_size + prompt_length // block_size

    def run(x: torch.Tensor) -> torch.Tensor:
        return forward(x, block_causal_mask(x.shape[1], block_size))[0]

    x = prompt.clone()
    if prompt_length >= block_size and prompt_length % block_size == 0:
        x = torch.cat([x, run(x)[-1:].argmax(-1)[None]], 1)
    finished = False
    for block in range(prompt_length // block_size, num_blocks):
        if finished:
            break
        end = (block + 1) * block_size
        x = torch.cat([x, torch.full((1, end - x.shape[1]), mask_id, dtype=torch.long)], 1)
        for small in range(block_size // small_block_size):
            lo = block * block_size + small * small_block_size
            hi = lo + small_block_size
            while True:
                masked = x[0, lo:hi] == mask_id
                if not masked.any():
                    break
                # Shifted: token i from the output at i - 1 (position 0 from its own, as the reference does).
                logits = run(x)[(torch.arange(lo, hi) - 1).clamp(min=0)]
                p, x1 = torch.softmax(logits.float(), -1).max(-1)
                confidence = torch.where(masked, p, -torch.inf)
                unmask = confidence > threshold
                unmask[confidence.argmax()] = True
                unmask &= masked
                x[0, lo:hi][unmask] = x1[unmask]
                finished |= bool((x1[unmask] == stop_id).any())
        if not finished:  # the finished block's cache-writing pass predicts the next block's first token
            x = torch.cat([x, run(x)[-1:].argmax(-1)[None]], 1)
    return x
