"""A plain transcription of the published LLaDA ``generate()`` algorithm, used only as a test oracle.

Semi-autoregressive blocks; each block's masks are spread evenly over its steps (earlier
steps take the remainder); each step commits the highest-confidence masked positions of the
current block, confidence being the softmax probability of the argmax token. Greedy only.
``published_softmax`` takes that softmax in the logits' own dtype, as the published code does (bf16 on
GPU); by default it is taken in float32. Runs on the prompt's device, with a mask in the model's dtype.
"""

from __future__ import annotations

import torch


def reference_generate(model, prompt, attention_mask, steps, gen_length, block_length, mask_id,
                       logits_eos_inf=False, eos_id=None, published_softmax=False):  # noqa: ANN001, ANN201
    batch, prompt_len = prompt.shape
    device, dtype = prompt.device, getattr(model, "dtype", torch.float32)
    x = torch.full((batch, prompt_len + gen_length), mask_id, dtype=torch.long, device=device)
    x[:, :prompt_len] = prompt
    ones = torch.ones(batch, gen_length, dtype=attention_mask.dtype, device=device)
    full_mask = torch.cat([attention_mask, ones], 1)
    positions = (full_mask.cumsum(-1) - 1).clamp(min=0)
    bidirectional = full_mask[:, None, None, :].bool().expand(batch, 1, x.shape[1], x.shape[1])
    additive = torch.zeros(bidirectional.shape, dtype=dtype, device=device).masked_fill(
        ~bidirectional, torch.finfo(dtype).min)
    blocks = gen_length // block_length
    per_block = steps // blocks
    for b in range(blocks):
        lo, hi = prompt_len + b * block_length, prompt_len + (b + 1) * block_length
        n_masked = (x[:, lo:hi] == mask_id).sum(1).cpu()
        counts = torch.zeros(batch, per_block, dtype=torch.long) + (n_masked // per_block)[:, None]
        for row in range(batch):
            counts[row, : int(n_masked[row] % per_block)] += 1
        for i in range(per_block):
            is_mask = x == mask_id
            with torch.no_grad():
                logits = model(x, attention_mask=additive, position_ids=positions).logits
            if logits_eos_inf:
                logits[:, :, eos_id] = -torch.inf
            x0 = logits.argmax(-1)
            p = torch.softmax(logits if published_softmax else logits.float(), -1).gather(-1, x0[..., None]).squeeze(-1)
            p[:, hi:] = -torch.inf
            x0 = torch.where(is_mask, x0, x)
            confidence = torch.where(is_mask, p, -torch.inf)
            chosen = torch.zeros_like(x, dtype=torch.bool)
            for row in range(batch):
                _, idx = torch.topk(confidence[row], k=int(counts[row, i]))
                chosen[row, idx] = True
            x[chosen] = x0[chosen]
    return x[:, prompt_len:]
