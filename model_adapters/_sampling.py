"""Token samplers: logits -> the candidate token at each position and the distribution confidence reads.

Each family's reference decoder turns logits into candidates and confidences in its own way, and those
ways differ exactly where sampling starts (temperature > 0, top-p, top-k). A sampler reproduces one
reference's arithmetic; the family preset names its sampler in its defaults (``sampler=``).

* ``llada``: LLaDA ``generate`` (and LLaDA-MoE). Candidates by Gumbel-max on logits / T, no top-p or
  top-k; confidences from the softmax of the *untempered* logits.
* ``dream``: Dream ``sample_tokens``. Logits / T (T > 0), then top-p, then top-k (at T = 0 too); candidates
  drawn from (or, at T = 0, the argmax of) that distribution, and confidences read from it.
* ``sdar``: SDAR's, LLaDA2.0/2.1's and Fast-dLLM v2's ``sample_with_temperature_topk_topp``. At T > 0 logits
  / T, then top-k, then top-p, drawn from and read from; at T = 0 the argmax of the plain softmax.

Every reference keeps ``[MASK]`` in the softmax, so its probability mass stays in the confidences. The
engine never proposes ``[MASK]`` as a candidate (a committed position must hold a token); the references
would, with the tiny probability a trained model gives it, and that is the one departure.

Draws use the Gumbel-max trick with the request's own uniform stream (``argmax(log p + g)`` is a draw
from p), so batching never changes a row's tokens. LLaDA's ``exp(l) / (-log u)^T`` is the same rule.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

    from model_adapters._engine import SpecialTokens
    from model_adapters._settings import DecodingSettings

Gumbel = Callable[[], "torch.Tensor"]
"""Returns fresh standard Gumbel noise [B, N, V] (float64) from each row's own generator."""

Sampler = Callable[["torch.Tensor", "DecodingSettings", "SpecialTokens", Gumbel], "tuple[torch.Tensor, torch.Tensor]"]
"""(float logits [B, N, V], settings, special tokens, gumbel) -> (candidates [B, N], probs [B, N, V])."""

SAMPLERS: dict[str, Sampler] = {}
FILTERING_SAMPLERS: set[str] = set()
"""Samplers whose reference applies ``top_p`` / ``top_k``."""


def token_sampler(name: str, *, filters: bool) -> Callable[[Sampler], Sampler]:
    """Register a sampler under ``name``; ``filters`` says whether its reference takes top-p / top-k."""

    def register(fn: Sampler) -> Sampler:
        if name in SAMPLERS:
            raise ValueError(f"a sampler named {name!r} is already registered")
        SAMPLERS[name] = fn
        if filters:
            FILTERING_SAMPLERS.add(name)
        return fn

    return register


def _without_eos(logits: torch.Tensor, settings: DecodingSettings, special: SpecialTokens) -> torch.Tensor:
    """LLaDA's ``logits_eos_inf``: EOS can be neither proposed nor scored."""
    if settings.logits_eos_inf and special.eos_id is not None:
        logits = logits.clone()
        logits[..., special.eos_id] = float("-inf")
    return logits


def _candidates(scores: torch.Tensor, special: SpecialTokens, gumbel: Gumbel | None) -> torch.Tensor:
    """Argmax of ``scores`` (+ Gumbel noise when sampling), never the mask token."""
    import torch

    scores = scores.double() + gumbel() if gumbel is not None else scores.clone()
    scores[..., special.mask_id] = -torch.inf
    return scores.argmax(-1)


def _top_k(logits: torch.Tensor, k: int) -> torch.Tensor:
    """Keep the k largest logits of each position (ties with the k-th kept), the rest -inf."""
    if k <= 0 or k >= logits.shape[-1]:
        return logits
    kth = logits.topk(k, dim=-1).values[..., -1:]
    return logits.masked_fill(logits < kth, float("-inf"))


def _top_p(logits: torch.Tensor, p: float) -> torch.Tensor:
    """Nucleus filter: the smallest prefix of the sorted distribution whose mass exceeds p, the rest -inf.

    The token whose cumulative mass first exceeds p is kept (the references shift the removal mask
    right by one), so at least one token always survives.
    """
    import torch

    if p >= 1.0:
        return logits
    ordered, order = logits.sort(dim=-1, descending=True)
    cumulative = torch.softmax(ordered, dim=-1).cumsum(-1)
    remove = torch.zeros_like(cumulative, dtype=torch.bool)
    remove[..., 1:] = cumulative[..., :-1] > p
    return logits.masked_fill(remove.scatter(-1, order, remove), float("-inf"))


@token_sampler("llada", filters=False)
def llada_sampler(
    logits: torch.Tensor, settings: DecodingSettings, special: SpecialTokens, gumbel: Gumbel
) -> tuple[torch.Tensor, torch.Tensor]:
    """LLaDA ``generate``: Gumbel-max at T, confidence from the untempered softmax.

    ``confidence_eos_eot_inf`` removes EoT from that softmax, and EOS too only at T = 0: the reference
    writes EOS's -inf into its noised copy of the logits, which is the logits tensor itself only when
    T = 0 (its ``add_gumbel_noise`` returns its input unchanged then).
    """
    import torch

    logits = _without_eos(logits, settings, special)
    sampling = settings.temperature > 0
    candidates = _candidates(logits / settings.temperature if sampling else logits, special,
                             gumbel if sampling else None)
    if settings.confidence_eos_eot_inf:
        suppressed = [special.eot_id] + ([] if sampling else [special.eos_id])
        logits = logits.clone()
        for token in suppressed:
            if token is not None:
                logits[..., token] = float("-inf")
    return candidates, torch.softmax(logits, dim=-1)


@token_sampler("dream", filters=True)
def dream_sampler(
    logits: torch.Tensor, settings: DecodingSettings, special: SpecialTokens, gumbel: Gumbel
) -> tuple[torch.Tensor, torch.Tensor]:
    """Dream ``sample_tokens``: logits / T, then top-p, then top-k (at T = 0 too); draw or argmax from that."""
    import torch

    logits = _without_eos(logits, settings, special)
    sampling = settings.temperature > 0
    if sampling:
        logits = logits / settings.temperature
    logits = _top_k(_top_p(logits, settings.top_p), settings.top_k)
    return _candidates(logits, special, gumbel if sampling else None), torch.softmax(logits, dim=-1)


@token_sampler("sdar", filters=True)
def topk_topp_sampler(
    logits: torch.Tensor, settings: DecodingSettings, special: SpecialTokens, gumbel: Gumbel
) -> tuple[torch.Tensor, torch.Tensor]:
    """SDAR / LLaDA2 / Fast-dLLM v2: at T > 0, logits / T, then top-k, then top-p; at T = 0 the plain argmax."""
    import torch

    logits = _without_eos(logits, settings, special)
    if settings.temperature > 0:
        logits = _top_p(_top_k(logits / settings.temperature, settings.top_k), settings.top_p)
        return _candidates(logits, special, gumbel), torch.softmax(logits, dim=-1)
    return _candidates(logits, special, None), torch.softmax(logits, dim=-1)

