"""Plain transcriptions of the reference decoders' sampling steps, used only as test oracles.

Each function follows its published code's arithmetic line by line (temperature, filters, which logits the
confidence is read from, the mask token kept in every softmax). One thing is replaced on purpose: the
references draw with ``torch.multinomial`` / ``Categorical.sample``, whose random stream no other code can
share; here that draw is the Gumbel-max draw ``argmax(log p + g)`` with the caller's uniforms, the same
distribution, so a test can give the engine and the oracle one noise stream. LLaDA's own noise is explicit
(``exp(l) / (-log u)^T``) and is kept as written.
"""

from __future__ import annotations

import torch


def _draw(probs: torch.Tensor, uniform: torch.Tensor) -> torch.Tensor:
    """A categorical draw from ``probs`` by Gumbel-max with the given uniforms."""
    gumbel = -torch.log(-torch.log(uniform.clamp_min(1e-300)))
    return (torch.log(probs.double()) + gumbel).argmax(-1)


def llada_step(logits: torch.Tensor, temperature: float, uniform: torch.Tensor, eos_id: int, eot_id: int,
               confidence_eos_eot_inf: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """LLaDA ``generate``'s per-step sampling: (x0, probability the confidence reads) for every position."""
    logits = logits.clone()
    if temperature == 0:
        logits_with_noise = logits  # add_gumbel_noise returns its input
    else:
        logits_with_noise = logits.to(torch.float64).exp() / (-torch.log(uniform)) ** temperature
    x0 = torch.argmax(logits_with_noise, dim=-1)
    if confidence_eos_eot_inf:
        logits_with_noise[..., eos_id] = logits[..., eot_id] = -torch.inf  # the published chained assignment
    p = torch.softmax(logits, dim=-1)
    return x0, torch.gather(p, -1, x0.unsqueeze(-1)).squeeze(-1)


def dream_sample_tokens(logits: torch.Tensor, temperature: float, top_p: float | None, top_k: int | None,
                        uniform: torch.Tensor, alg: str = "maskgit_plus") -> tuple[torch.Tensor, torch.Tensor]:
    """Dream's ``sample_tokens``: returns (confidence, x0)."""
    if temperature > 0:
        logits = logits / temperature
    if top_p is not None and top_p < 1:
        sorted_logits, sorted_indices = torch.sort(logits, descending=True)
        cumulative = torch.cumsum(torch.softmax(sorted_logits, dim=-1), dim=-1)
        remove = cumulative > top_p
        remove[..., 1:] = remove[..., :-1].clone()
        remove[..., 0] = 0
        mask = torch.zeros_like(logits, dtype=torch.bool).scatter_(-1, sorted_indices, remove)
        logits = logits.masked_fill(mask, torch.finfo(logits.dtype).min)
    if top_k is not None:
        top_k = min(top_k, logits.size(-1))
        logits = logits.masked_fill(logits < torch.topk(logits, top_k)[0][..., -1, None], torch.finfo(logits.dtype).min)
    probs = torch.softmax(logits, dim=-1)
    if temperature > 0:
        x0 = _draw(probs, uniform)
        confidence = torch.gather(probs, -1, x0.unsqueeze(-1)).squeeze(-1)
    else:
        confidence, x0 = probs.max(dim=-1)
    if alg == "topk_margin":
        top = torch.sort(probs, dim=-1, descending=True).values
        confidence = top[..., 0] - top[..., 1]
    elif alg == "entropy":
        confidence = torch.sum(probs * torch.log(probs + 1e-10), dim=-1)
    return confidence, x0


def topk_topp_sample(logits: torch.Tensor, temperature: float, top_k: int, top_p: float,
                     uniform: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """SDAR's / LLaDA2.0's ``sample_with_temperature_topk_topp``: returns (token, token_prob).

    At temperature 0, LLaDA2's version (SDAR's divides by it) takes the argmax of the plain softmax.
    """
    if temperature == 0:
        probs = torch.softmax(logits, dim=-1)
        token = logits.argmax(-1)
        return token, torch.gather(probs, -1, token.unsqueeze(-1)).squeeze(-1)
    if temperature != 1.0:
        logits = logits / temperature
    if top_k > 0:
        kth = torch.topk(logits, top_k)[0][..., -1, None]
        logits = torch.where(logits < kth, torch.full_like(logits, float("-inf")), logits)
    if top_p < 1.0:
        sorted_logits, sorted_indices = torch.sort(logits, descending=True)
        cumulative = torch.cumsum(torch.softmax(sorted_logits, dim=-1), dim=-1)
        remove = cumulative > top_p
        remove[..., 1:] = remove[..., :-1].clone()
        remove[..., 0] = False
        mask = torch.scatter(torch.full_like(logits, False, dtype=torch.bool), -1, sorted_indices, remove)
        logits = logits.masked_fill(mask, float("-inf"))
    probs = torch.softmax(logits, dim=-1)
    token = _draw(probs, uniform)
    return token, torch.gather(probs, -1, token.unsqueeze(-1)).squeeze(-1)
