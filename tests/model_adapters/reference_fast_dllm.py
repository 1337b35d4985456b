"""A plain transcription of Fast-dLLM's LLaDA ``generate`` (NVlabs/Fast-dLLM, ``llada/generate.py``), a test oracle.

No cache, greedy, one prompt at a time (the reference calls LLaDA without an attention mask: every
position attends to every other; the Llama-backed tiny model needs that said with an all-zero additive mask).
Per semi-autoregressive block, each pass proposes the argmax token at every masked position of the
block (positions after the block are left alone) with its softmax probability (float64) as confidence:

* fixed schedule: the block's masks are split evenly over ``steps / num_blocks`` passes (earlier passes
  take the remainder) and each pass commits that many of the most confident;
* threshold schedule: each pass commits the most confident masked position and every other one whose
  confidence is at least ``threshold``.

A block runs until it has no mask left; nothing stops at EOS. Returns the canvas and the pass count.
"""

from __future__ import annotations

import torch


def _split(n_masked: int, passes: int) -> list[int]:
    base, extra = divmod(n_masked, passes)
    return [base + (1 if i < extra else 0) for i in range(passes)]


def fast_dllm_generate(model, prompt, steps, gen_length, block_length, mask_id, threshold=None):  # noqa: ANN001, ANN201
    assert prompt.shape[0] == 1 and gen_length % block_length == 0
    blocks = gen_length // block_length
    assert steps % blocks == 0
    start = prompt.shape[1]
    x = torch.full((1, start + gen_length), mask_id, dtype=torch.long)
    x[:, :start] = prompt
    full = torch.zeros(1, 1, x.shape[1], x.shape[1])  # bidirectional, nothing hidden
    nfe = 0
    for b in range(blocks):
        lo, hi = start + b * block_length, start + (b + 1) * block_length
        quota = _split(int((x[0, lo:hi] == mask_id).sum()), steps // blocks)
        i = 0
        while (x[0, lo:hi] == mask_id).any():
            nfe += 1
            logits = model(x, attention_mask=full).logits[0]
            proposal = logits.argmax(-1)
            prob = torch.softmax(logits.double(), -1).gather(-1, proposal[:, None])[:, 0]
            masked = x[0] == mask_id
            masked[hi:] = False
            confidence = torch.where(masked, prob, torch.tensor(float("-inf"), dtype=torch.float64))
            k = int(masked.sum()) if threshold is not None else quota[i]
            order = torch.topk(confidence, k=k).indices
            chosen = [int(order[0])] + [int(p) for p in order[1:] if threshold is None or confidence[p] >= threshold]
            x[0, chosen] = proposal[chosen]
            i += 1
    return x[:, start:], nfe
