"""Decoding strategies, one small function each, in two registries the engine looks up by name.

Each registration declares what the settings validation and the engine need to know: the decoding settings
the strategy reads (``params``), whether a rule draws noise, and whether a schedule is a step budget or a
threshold rule. Nothing elsewhere lists strategies by name.

A confidence rule scores every candidate token; a transfer schedule decides how many of the
most confident candidates each row commits this step. The engine then commits the top-k (or, with
``alg_temp > 0``, that many positions sampled from softmax(confidence / alg_temp), as Dream does).

Mapping to the reference decoders:

* LLaDA ``low_confidence`` / ``random`` remasking: ``remasking=low_confidence|random``, ``schedule=fixed``.
* Dream ``alg``: ``maskgit_plus`` = ``low_confidence``, ``topk_margin`` = ``margin``, ``entropy`` =
  ``entropy``, each with ``schedule=dream``; ``origin`` = ``remasking=random, schedule=origin`` (a
  position whose uniform draw is at least s/t transfers, i.e. with probability 1 - s/t).
* Fast-dLLM: ``schedule=threshold`` (parallel threshold) and ``schedule=factor`` (ParallelBench / Fast-dLLM
  factor rule).
* SDAR ``low_confidence_static`` = ``schedule=fixed`` within each block; ``low_confidence_dynamic`` =
  ``schedule=threshold_count`` within each block (both with ``block_length`` = the model's attention block).
  LLaDA2.0 ``generate`` uses ``threshold_count`` too (its step budget per block capped at gen_length).
* LLaDA2.1 ``generate`` (``num_to_transfer=1``) and Fast-dLLM v2 ``batch_sample``: ``schedule=threshold_strict``
  (strictly above the threshold, at least the most confident one, whatever the step budget).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import torch

ConfidenceFn = Callable[..., "torch.Tensor"]
"""(probs [B,N,V] float, x0 [B,N] candidate ids, uniform() -> [B,N] noise, **params) -> confidence [B,N]."""

ScheduleFn = Callable[["StepPlan"], "torch.Tensor"]
"""(plan) -> [B] number of the most confident candidates each row commits this step."""


@dataclass(frozen=True)
class ConfidenceRule:
    """A registered confidence rule and what the settings validation and the engine must know about it."""

    name: str
    """Registry name, used as ``remasking=<name>``."""
    fn: ConfidenceFn
    """The rule; called with the declared ``params`` as keyword arguments."""
    params: tuple[str, ...] = ()
    """Decoding settings (``DecodingSettings`` fields) the rule reads; each must be set (not None)."""
    draws_noise: bool = False
    """Whether it calls ``uniform()``: then every row gets its own random generator."""
    description: str = ""
    """One line for docs and errors (the function's docstring's first line)."""


@dataclass(frozen=True)
class TransferSchedule:
    """A registered transfer schedule and what the settings validation and the engine must know about it."""

    name: str
    """Registry name, used as ``schedule=<name>``."""
    fn: ScheduleFn
    """The schedule."""
    kind: Literal["budget", "threshold"]
    """``budget``: a block finishes in exactly its ``steps_per_block`` steps (so ``steps`` must split evenly
    over the blocks); ``threshold``: each step commits what passes the rule (at least one token) and the
    block runs until its masks are gone, whatever ``steps``."""
    params: tuple[str, ...] = ()
    """Decoding settings the schedule reads from ``StepPlan.params``; each must be set (not None)."""
    remasking: str | None = None
    """The only confidence rule the schedule is meaningful with (None: any)."""
    description: str = ""
    """One line for docs and errors (the function's docstring's first line)."""


CONFIDENCE_RULES: dict[str, ConfidenceRule] = {}
"""Registered confidence rules by name."""
TRANSFER_SCHEDULES: dict[str, TransferSchedule] = {}
"""Registered transfer schedules by name."""


def confidence_rule(
    name: str, *, params: tuple[str, ...] = (), draws_noise: bool = False
) -> Callable[[ConfidenceFn], ConfidenceFn]:
    """Register the decorated function as the confidence rule ``name``.

    Args:
        name: The ``remasking`` value that selects it.
        params: Decoding settings it needs, passed to it as keyword arguments.
        draws_noise: Whether it draws random numbers (through its ``uniform`` argument).

    Raises:
        ValueError: when ``name`` is taken.
    """

    def register(fn: ConfidenceFn) -> ConfidenceFn:
        _refuse_duplicate(CONFIDENCE_RULES, name, "confidence rule")
        CONFIDENCE_RULES[name] = ConfidenceRule(name, fn, tuple(params), draws_noise, _first_line(fn))
        return fn

    return register


def transfer_schedule(
    name: str,
    *,
    kind: Literal["budget", "threshold"],
    params: tuple[str, ...] = (),
    remasking: str | None = None,
) -> Callable[[ScheduleFn], ScheduleFn]:
    """Register the decorated function as the transfer schedule ``name``.

    Args:
        name: The ``schedule`` value that selects it.
        kind: ``budget`` or ``threshold`` (see ``TransferSchedule.kind``).
        params: Decoding settings it reads from ``plan.params``.
        remasking: The one confidence rule it requires, if any.

    Raises:
        ValueError: when ``name`` is taken or ``kind`` is neither ``budget`` nor ``threshold``.
    """
    if kind not in ("budget", "threshold"):
        raise ValueError(f"schedule {name!r}: kind must be 'budget' or 'threshold', got {kind!r}")

    def register(fn: ScheduleFn) -> ScheduleFn:
        _refuse_duplicate(TRANSFER_SCHEDULES, name, "transfer schedule")
        TRANSFER_SCHEDULES[name] = TransferSchedule(name, fn, kind, tuple(params), remasking, _first_line(fn))
        return fn

    return register


def _refuse_duplicate(registry: Mapping[str, Any], name: str, what: str) -> None:
    if name in registry:
        raise ValueError(f"{what} {name!r} is already registered; pick another name")


def _first_line(fn: Callable[..., Any]) -> str:
    return (fn.__doc__ or "").strip().split("\n")[0]


@dataclass(frozen=True)
class StepPlan:
    """What a transfer schedule sees at one step of one block (all tensors on the model's device)."""

    sorted_confidence: torch.Tensor
    """[B, N] confidences of eligible (still masked) positions, descending; -inf past the eligible ones."""
    n_eligible: torch.Tensor
    """[B] number of masked positions left in the block."""
    n_masked_at_block_start: torch.Tensor
    """[B] masked positions in the block when the block started."""
    step_in_block: int
    """0-based index of this step within the block."""
    block_length: int
    """Nominal block length (a row's first, prompt-aligned block may be shorter)."""
    steps_per_block: int
    """Step budget of the block (the fixed schedule spreads its tokens over it)."""
    params: Mapping[str, Any]
    """The values of the decoding settings the schedule declared in ``params`` (e.g. ``threshold``)."""


@confidence_rule("low_confidence")
def probability_of_candidate(
    probs: torch.Tensor, x0: torch.Tensor, uniform: Callable[[], torch.Tensor]
) -> torch.Tensor:
    """LLaDA's rule: the model's probability of the token it proposes."""
    return probs.gather(-1, x0.unsqueeze(-1)).squeeze(-1)


@confidence_rule("random", draws_noise=True)
def random_confidence(probs: torch.Tensor, x0: torch.Tensor, uniform: Callable[[], torch.Tensor]) -> torch.Tensor:
    """LLaDA's random remasking: a uniform draw per position from the request's own stream."""
    return uniform()


@confidence_rule("margin")
def top2_margin(probs: torch.Tensor, x0: torch.Tensor, uniform: Callable[[], torch.Tensor]) -> torch.Tensor:
    """Dream's ``topk_margin``: top-1 minus top-2 probability of the distribution."""
    top2 = probs.topk(2, dim=-1).values
    return top2[..., 0] - top2[..., 1]


@confidence_rule("entropy")
def negative_entropy(probs: torch.Tensor, x0: torch.Tensor, uniform: Callable[[], torch.Tensor]) -> torch.Tensor:
    """Dream's ``entropy``: sum p log p (the negative entropy; peaked distributions score highest)."""
    import torch

    return (probs * torch.log(probs + 1e-10)).sum(-1)


@transfer_schedule("fixed", kind="budget")
def fixed_count(plan: StepPlan) -> torch.Tensor:
    """LLaDA's schedule: the block's masks spread evenly over its steps, earlier steps taking the remainder."""
    if plan.step_in_block >= plan.steps_per_block:  # past the budget (a per-step cap held it back)
        return plan.n_eligible
    base = plan.n_masked_at_block_start // plan.steps_per_block
    remainder = plan.n_masked_at_block_start % plan.steps_per_block
    return base + (plan.step_in_block < remainder).long()


@transfer_schedule("threshold", kind="threshold", params=("threshold",))
def confidence_threshold(plan: StepPlan) -> torch.Tensor:
    """Fast-dLLM's schedule: every candidate at or above the threshold, and at least the most confident one."""
    above = (plan.sorted_confidence >= plan.params["threshold"]).sum(-1)
    return above.clamp(min=1)


@transfer_schedule("threshold_strict", kind="threshold", params=("threshold",))
def strictly_above_threshold(plan: StepPlan) -> torch.Tensor:
    """LLaDA2.1's and Fast-dLLM v2's rule: every candidate strictly above the threshold, at least the most confident."""
    above = (plan.sorted_confidence > plan.params["threshold"]).sum(-1)
    return above.clamp(min=1)


@transfer_schedule("threshold_count", kind="threshold", params=("threshold",))
def threshold_or_scheduled_count(plan: StepPlan) -> torch.Tensor:
    """SDAR's ``low_confidence_dynamic``, also LLaDA2.0's commit rule.

    Every candidate strictly above the threshold when they number at least this step's scheduled count,
    else that many of the most confident. The scheduled count spreads the nominal block length over the
    block's steps, earlier steps taking the remainder (SDAR's ``get_num_transfer_tokens``), whatever the
    masks left; the engine caps it at the masks left.
    """
    import torch

    base, remainder = divmod(plan.block_length, plan.steps_per_block)
    scheduled = base + int(plan.step_in_block < remainder) if plan.step_in_block < plan.steps_per_block else 1
    above = (plan.sorted_confidence > plan.params["threshold"]).sum(-1)
    return torch.clamp(above, min=max(scheduled, 1))


@transfer_schedule("factor", kind="threshold", params=("factor",))
def confidence_factor(plan: StepPlan) -> torch.Tensor:
    """Fast-dLLM / ParallelBench factor rule: the n most confident while (n+1)(1 - c_n) <= f, at least one."""
    import torch

    n = torch.arange(1, plan.sorted_confidence.shape[-1] + 1, device=plan.sorted_confidence.device)
    passes = (n + 1) * (1 - plan.sorted_confidence) <= plan.params["factor"]  # -inf confidences (not eligible) fail
    return passes.long().cumprod(-1).sum(-1).clamp(min=1)


def dream_timesteps(plan: StepPlan) -> tuple[torch.Tensor, torch.Tensor]:
    """Dream's (t, s) for this step: timesteps = linspace(1, 1e-3, steps + 1), t = ts[i], s = ts[i + 1]."""
    import torch

    steps = plan.steps_per_block
    timesteps = torch.linspace(1, 1e-3, steps + 1, device=plan.n_eligible.device)
    i = min(plan.step_in_block, steps - 1)
    return timesteps[i], timesteps[i + 1]


@transfer_schedule("dream", kind="budget")
def dream_count(plan: StepPlan) -> torch.Tensor:
    """Dream's diffusion_generate: int(num_masked * (1 - s/t)) tokens, every remaining one at the last step."""
    if plan.step_in_block >= plan.steps_per_block - 1:
        return plan.n_eligible
    t, s = dream_timesteps(plan)
    # Float32 product then truncation, as Dream's ``int(num_mask_token * (1 - s / t))``.
    return (plan.n_eligible.float() * (1 - s / t)).long()


@transfer_schedule("origin", kind="budget", remasking="random")
def dream_origin(plan: StepPlan) -> torch.Tensor:
    """Dream's ``origin``: with uniform confidences, those >= s/t transfer (each with probability 1 - s/t).

    Only meaningful with ``remasking=random`` (validated): then the count is every draw at or above s/t,
    so each masked position transfers independently with probability 1 - s/t; all remaining at the last step.
    """
    if plan.step_in_block >= plan.steps_per_block - 1:
        return plan.n_eligible
    t, s = dream_timesteps(plan)
    return (plan.sorted_confidence >= s / t).sum(-1)
