"""A plain transcription of dllm's LLaDA sampler (ZHZisZZ/dllm, ``dllm/core/samplers/mdlm.py``), a test oracle.

Greedy, low-confidence remasking, linear alpha schedule, no classifier-free guidance. Unlike LLaDA's
``generate``, a batch is *right*-padded: each prompt starts at column 0, its masks follow it directly,
and the canvas is filled up with EOS behind; the attention mask hides only that EOS fill. Blocks are
counted from each row's own prompt end. Per block, the number of tokens to reveal at pass j is
``round(remaining / (passes - j))`` (round half to even), passes that would reveal nothing are dropped;
each pass commits that many of the most confident masked positions up to the block's end.
"""

from __future__ import annotations

import math

import torch


def dllm_counts(n_masked: int, passes: int) -> list[int]:
    out, remaining = [], n_masked
    for j in range(passes):
        k = min(int(torch.round(torch.tensor(remaining / (passes - j), dtype=torch.float64))), remaining)
        out.append(k)
        remaining -= k
        if remaining == 0:
            break
    return [k for k in out if k > 0]


def dllm_sample(model, prompts, steps, max_new_tokens, block_size, mask_id, eos_id):  # noqa: ANN001, ANN201
    lens = [len(p) for p in prompts]
    width = max(lens) + max_new_tokens
    batch = len(prompts)
    x = torch.full((batch, width), eos_id, dtype=torch.long)
    keep = torch.zeros((batch, width), dtype=torch.long)
    for i, p in enumerate(prompts):
        x[i, : lens[i]] = torch.tensor(p)
        x[i, lens[i] : lens[i] + max_new_tokens] = mask_id
        keep[i, : lens[i] + max_new_tokens] = 1
    # LLaDA attends both ways; the 2-D mask only hides keys (the tiny Llama needs it as a 4-D additive mask).
    additive = torch.zeros(batch, 1, width, width).masked_fill(
        ~keep[:, None, None, :].bool(), torch.finfo(torch.float32).min
    )
    blocks = math.ceil(max_new_tokens / block_size)
    passes = math.ceil(steps / blocks)
    nfe = 0
    for b in range(blocks):
        counts = []
        for i in range(batch):
            lo = lens[i] + b * block_size
            hi = min(lo + block_size, lens[i] + max_new_tokens)
            counts.append(dllm_counts(int((x[i, lo:hi] == mask_id).sum()), passes))
        for j in range(max(map(len, counts))):
            nfe += 1
            masked = x == mask_id
            logits = model(x, attention_mask=additive).logits
            proposal = logits.argmax(-1)
            conf = torch.softmax(logits, -1).gather(-1, proposal[..., None])[..., 0]
            for i in range(batch):
                conf[i, lens[i] + (b + 1) * block_size :] = float("-inf")
            conf = torch.where(masked, conf, torch.tensor(float("-inf")))
            proposal = torch.where(masked, proposal, x)
            for i in range(batch):
                k = counts[i][j] if j < len(counts[i]) else 0
                idx = torch.topk(conf[i], k=k).indices
                x[i, idx] = proposal[i, idx]
    return [x[i, lens[i] : lens[i] + max_new_tokens] for i in range(batch)], nfe
