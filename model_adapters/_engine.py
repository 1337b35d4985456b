"""The shared sampler engine: semi-autoregressive masked-diffusion decoding over a canvas.

Every strategy, and every family but one that brings its own ``generate`` (DiffusionGemma's uniform-noise
sampler), runs through ``denoise``. The loop keeps all state on the model's
device; the only host synchronisation is the per-step "any row still masked?" check that
dynamic schedules need to know when a block is finished (plus, with ``early_stop``, one
"every row stopped?" check per block).

Phases: the draft (blocks left to right; in each, a confidence rule ranks the masked positions and a
transfer schedule says how many to commit; with ``editing_threshold``, LLaDA2.1's token-to-token edits of
the block's committed tokens ride along each step), optional early stop (``eos_block``: a finished block
holding EOS ends the row, the rest of its canvas becomes EOS without being decoded, trace -1;
``settled``: once every remaining mask proposes EOS they are all committed in that step), then
optional generate-then-edit rounds (``edit_rounds``; see ``_edit_round``). Rows keep their own step
counters, so a row that has stopped stops counting forward passes and never changes again.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import torch

from model_adapters._sampling import SAMPLERS
from model_adapters._settings import DecodingSettings
from model_adapters._strategies import CONFIDENCE_RULES, TRANSFER_SCHEDULES, ScheduleFn, StepPlan

LogitsFn = Callable[[torch.Tensor, int, int], torch.Tensor]
"""(canvas [B, L], start, end) -> logits [B, end - start, V] predicting canvas[:, start:end].

A block-causal model's function also carries ``layout`` (a ``BlockLayout``); the engine then aligns its
decoding blocks to absolute positions as that model's reference decoders do (see ``denoise``)."""


@dataclass(frozen=True)
class BlockLayout:
    """Where a block-causal model's blocks sit: at absolute positions counted from each row's first real token."""

    prompt_lengths: torch.Tensor
    """[B] real (non-pad) prompt tokens of each row."""
    attention_block: int
    """The model's attention block size."""


class StepObserver(Protocol):
    """Sees every commit; must never change the canvas."""

    def on_commit(
        self, row_step: torch.Tensor, offset: int, commit: torch.Tensor, old: torch.Tensor, new: torch.Tensor
    ) -> None:
        """``commit``/``old``/``new`` cover canvas columns [offset, offset + width) of the generation."""


@dataclass(frozen=True)
class SpecialTokens:
    """Token ids the engine must know about."""

    mask_id: int
    """The mask token filling undecoded canvas positions."""
    eos_id: int | None
    """End-of-sequence id (for ``logits_eos_inf`` and ``confidence_eos_eot_inf``)."""
    eot_id: int | None = None
    """End-of-turn id of chat models (for ``confidence_eos_eot_inf``)."""


@dataclass
class DenoiseResult:
    """Output of one batch."""

    canvas: torch.Tensor
    """[B, gen_length] final generated tokens."""
    nfe: torch.Tensor
    """[B] forward passes each row needed (steps after the row stopped are not counted)."""
    finite: torch.Tensor
    """[B] False where any logits the row used were NaN or infinite."""
    stopped_early: torch.Tensor | None = None
    """[B] True where ``early_stop`` ended the row before its canvas was decoded to the end (None: no row)."""


@dataclass
class _State:
    """Per-batch decoding state shared by the draft loop, early stop and the edit rounds."""

    canvas: torch.Tensor
    """[B, P + G] prompt and canvas."""
    row_step: torch.Tensor
    """[B] steps (forward passes) counted for each row so far."""
    finite: torch.Tensor
    """[B] False once a row saw non-finite logits."""
    stopped: torch.Tensor
    """[B] rows that early stop has ended."""
    stopped_early: torch.Tensor
    """[B] rows whose early stop skipped part of the canvas."""
    filled: torch.Tensor
    """[B, G'] positions filled by ``eos_block`` (or past the row's last block) without being decoded."""
    offsets: torch.Tensor
    """[B] length of each row's first, prompt-aligned decoding block (0: the prompt ends on a block boundary)."""
    live: torch.Tensor
    """[B] canvas columns each row decodes (G, or up to the end of the attention block holding column G - 1)."""
    gen_length: int
    """G, the canvas length returned (the state's canvas may run up to a block further)."""
    layout: BlockLayout | None
    """The block-causal layout, if any."""


@dataclass(frozen=True)
class _Run:
    """What stays fixed while one batch decodes: the model call, the setting and its strategies."""

    logits_fn: LogitsFn
    """The model call."""
    prompt_len: int
    """P, the padded prompt width (generation column 0 is canvas column P)."""
    settings: DecodingSettings
    """The resolved setting."""
    special: SpecialTokens
    """Mask/EOS/EoT ids."""
    generators: list[torch.Generator] | None
    """One random stream per row, when the setting draws noise."""
    observer: StepObserver | None
    """The trace recorder, if any."""
    rule: Callable[..., torch.Tensor]
    """The confidence rule, its declared parameters bound."""
    schedule: ScheduleFn
    """The transfer schedule."""
    schedule_params: Mapping[str, Any]
    """The values of the schedule's declared parameters (``StepPlan.params``)."""
    stop_ids: torch.Tensor
    """Token ids that end a generation (EOS and, for chat models, EoT)."""

    @classmethod
    def of(cls, logits_fn: LogitsFn, prompt_len: int, settings: DecodingSettings, special: SpecialTokens,
           generators: list[torch.Generator] | None, observer: StepObserver | None, device: torch.device) -> _Run:
        """Look the strategies up and bind the parameters their registrations declare."""
        rule_params, schedule_params = settings.strategy_params()
        rule = functools.partial(CONFIDENCE_RULES[settings.remasking].fn, **rule_params)
        return cls(logits_fn, prompt_len, settings, special, generators, observer, rule,
                   TRANSFER_SCHEDULES[settings.schedule].fn, schedule_params, _stop_ids(special, device))


def denoise(
    logits_fn: LogitsFn,
    prompt: torch.Tensor,
    settings: DecodingSettings,
    special: SpecialTokens,
    generators: list[torch.Generator] | None = None,
    observer: StepObserver | None = None,
) -> DenoiseResult:
    """Decode a left-padded batch of prompts with one resolved decoding setting.

    Args:
        logits_fn: Model call returning logits for a slice of the canvas (the family decides
            attention mask, positions, logit shift and KV caching).
        prompt: [B, P] prompt ids, left-padded.
        settings: A setting already passed through ``DecodingSettings.resolve``.
        special: Mask/EOS/EoT ids.
        generators: One generator per row (needed when ``settings.needs_noise``), so every
            request has its own random stream whatever the batch.
        observer: Optional trace recorder.

    Returns:
        The generated canvas, per-row forward-pass counts, a finiteness flag and early-stop flags.

    With a block-causal ``logits_fn`` (one carrying ``layout``), decoding blocks sit at absolute multiples of
    ``block_length`` as in SDAR's, LLaDA2's and Fast-dLLM v2's decoders: each row's first block is the rest
    of the block its prompt ends in, so rows of a left-padded batch have their own block boundaries.
    """
    assert settings.gen_length and settings.block_length and settings.steps
    batch, prompt_len = prompt.shape
    device = prompt.device
    gen_length, block_length = settings.gen_length, settings.block_length
    if settings.needs_noise and generators is None:
        raise ValueError("sampling, random remasking or alg_temp > 0 needs one generator per row")
    if settings.early_stop != "none" and special.eos_id is None:
        raise ValueError(f"early_stop={settings.early_stop!r} needs an EOS token id")
    layout: BlockLayout | None = getattr(logits_fn, "layout", None)
    if settings.ar_block_start and layout is None:
        raise ValueError("ar_block_start needs a block-causal model call (its logits fn carries a layout)")
    if layout is None:
        offsets = torch.zeros(batch, dtype=torch.long, device=device)
        live = torch.full_like(offsets, gen_length)
    else:
        # Decoding blocks at absolute multiples of block_length: a row's first block is what its prompt leaves
        # of the block it ends in. As the references, decoding runs to the end of the attention block holding
        # the last generated token (a whole block is decoded, and all of it is visible inside the block).
        lengths = layout.prompt_lengths.to(device)
        unit = math.lcm(block_length, layout.attention_block)  # both kinds of block end there
        offsets = (-lengths) % block_length
        live = (lengths + gen_length + unit - 1) // unit * unit - lengths
    width = int(live.max())  # one host sync per batch
    canvas = torch.cat([prompt, torch.full((batch, width), special.mask_id, dtype=prompt.dtype, device=device)], 1)
    # Columns past a row's last block are never decoded (and, block-causal, never seen): not masks, not answers.
    beyond = torch.arange(width, device=device) >= live.unsqueeze(1)
    filler = special.eos_id if special.eos_id is not None else special.mask_id
    canvas[:, prompt_len:] = torch.where(beyond, filler, canvas[:, prompt_len:])
    no = torch.zeros(batch, dtype=torch.bool, device=device)
    state = _State(
        canvas=canvas,
        row_step=torch.zeros(batch, dtype=torch.long, device=device),
        finite=torch.ones(batch, dtype=torch.bool, device=device),
        stopped=no.clone(),
        stopped_early=no.clone(),
        filled=beyond.clone(),
        offsets=offsets,
        live=live,
        gen_length=gen_length,
        layout=layout,
    )
    run = _Run.of(logits_fn, prompt_len, settings, special, generators, observer, device)
    _draft(run, state)
    for _ in range(settings.edit_rounds):
        _edit_round(run, state)
    return DenoiseResult(
        canvas=state.canvas[:, prompt_len : prompt_len + gen_length],
        nfe=state.row_step,
        finite=state.finite,
        stopped_early=state.stopped_early,
    )


@dataclass
class _Block:
    """One decoding block of every row: the canvas window one model call covers and each row's part of it."""

    lo: int
    """First generation column of the window (the union of the rows' blocks)."""
    hi: int
    """End generation column of the window."""
    start: int
    """``lo`` as a canvas column."""
    end: int
    """``hi`` as a canvas column."""
    in_block: torch.Tensor
    """[B, W] which window columns are the row's own block."""
    row_hi: torch.Tensor
    """[B] generation column where each row's block ends."""
    masked: torch.Tensor
    """[B, W] the row's block positions still masked (updated after every commit)."""
    masked_at_start: torch.Tensor
    """[B] masked positions of each row's block when it opened."""
    full_window: torch.Tensor
    """[B] whether the row's block is a whole ``block_length`` (a prompt-aligned first block may be shorter)."""
    ar_first: torch.Tensor | None
    """[B, W] Fast-dLLM v2's first commit of the block (``ar_block_start``), else None."""
    done: torch.Tensor
    """[B] rows finished with this block (stopped rows, rows without a block here, and editing's ends)."""
    post_steps: torch.Tensor
    """[B] editing passes after the block's masks were all filled (``editing_threshold``)."""


def _draft(run: _Run, state: _State) -> None:
    """The semi-autoregressive sampler loop: blocks left to right, schedule-sized commits inside a block.

    Block ``j`` of row r covers generation columns [o_r + (j-1) L, o_r + j L) (L = block_length, o_r = the
    row's offset), clipped to [0, live_r): j = 0 is the prompt-aligned partial block, empty unless o_r > 0.
    Without a block-causal layout every offset is 0 and blocks start at the prompt's end. Each step runs the
    model once over the union of the rows' windows; a row only commits (and edits) inside its own.
    """
    settings = run.settings
    assert settings.gen_length and settings.block_length and settings.steps
    steps_per_block = max(settings.steps // settings.num_blocks, 1)  # a row's first block may be short, its last too
    active_rows, max_steps = _pace(settings, steps_per_block)
    row_blocks = (state.live - state.offsets + settings.block_length - 1) // settings.block_length  # last index
    low, high, last = int(state.offsets.min()), int(state.offsets.max()), int(row_blocks.max())  # once a batch
    for index in range(0 if high > 0 else 1, last + 1):
        block = _open_block(run, state, index, low, high)
        for step in range(max_steps):
            active = active_rows(run, state, block)
            if active is None:
                break
            _step(run, state, block, step, steps_per_block, active)
        if settings.early_stop == "eos_block":
            _stop_after_eos_block(run, state, block, index >= row_blocks)
        if settings.early_stop != "none" and bool(state.stopped.all()):  # one sync per block, not per step
            break


ActiveRows = Callable[[_Run, _State, _Block], "torch.Tensor | None"]
"""(run, state, block) -> [B] rows that decode this step, or None when the block is finished for every row."""


def _pace(settings: DecodingSettings, steps_per_block: int) -> tuple[ActiveRows, int]:
    """How a block's steps run: which rows take each step, and the most steps a block may take.

    A budget schedule finishes a block in ``steps_per_block`` steps. A per-step cap can hold it back, so it
    then runs until the block is done, as a threshold schedule always does (each step commits >= 1 token).
    With ``editing_threshold``, up to ``max_post_steps`` editing passes follow the block's last mask.
    """
    budget = TRANSFER_SCHEDULES[settings.schedule].kind == "budget"
    dynamic = not budget or settings.max_per_step is not None
    block_length = settings.block_length
    assert block_length
    max_steps = (steps_per_block + block_length if budget else block_length) if dynamic else steps_per_block
    if settings.editing_threshold is not None:
        return _editing_rows, max_steps + settings.max_post_steps
    return (_masked_rows if dynamic else _budget_rows), max_steps


def _budget_rows(run: _Run, state: _State, block: _Block) -> torch.Tensor:
    """A budget runs all its steps (as LLaDA counts them); a short first block ends with its masks."""
    return (block.masked.any(-1) | block.full_window) & ~state.stopped


def _masked_rows(run: _Run, state: _State, block: _Block) -> torch.Tensor | None:
    """Rows with masks left in their block; None once there are none (one host sync per step)."""
    active = block.masked.any(-1) & ~state.stopped
    return active if bool(active.any()) else None


def _editing_rows(run: _Run, state: _State, block: _Block) -> torch.Tensor | None:
    """LLaDA2.1: rows with masks left, then up to ``max_post_steps`` passes that may still edit the block."""
    block.post_steps += (~block.masked.any(-1) & ~block.done).long()
    block.done |= block.post_steps > run.settings.max_post_steps
    active = ~block.done & ~state.stopped
    return active if bool(active.any()) else None


def _open_block(run: _Run, state: _State, index: int, low: int, high: int) -> _Block:
    """Block ``index`` of every row (see ``_draft``; ``low``/``high``: the rows' least and greatest offsets)."""
    settings, canvas, offsets = run.settings, state.canvas, state.offsets
    assert settings.block_length
    length, device = settings.block_length, canvas.device
    lo = max(0, low + (index - 1) * length)
    hi = min(high + index * length, canvas.shape[1] - run.prompt_len)
    cols = torch.arange(lo, hi, device=device)
    row_lo = (offsets + (index - 1) * length).clamp(min=0)
    row_hi = torch.minimum(offsets + index * length, state.live)
    in_block = (cols >= row_lo.unsqueeze(1)) & (cols < row_hi.unsqueeze(1))
    start, end = run.prompt_len + lo, run.prompt_len + hi
    masked = (canvas[:, start:end] == run.special.mask_id) & in_block
    return _Block(
        lo=lo, hi=hi, start=start, end=end, in_block=in_block, row_hi=row_hi, masked=masked,
        masked_at_start=masked.sum(-1),
        full_window=in_block.sum(-1) == length,
        ar_first=_ar_block_start(state, masked, cols, row_lo) if settings.ar_block_start else None,
        done=state.stopped | ~in_block.any(-1),  # a row whose prompt ends on a boundary has no block 0
        post_steps=torch.zeros_like(state.row_step),
    )


def _step(run: _Run, state: _State, block: _Block, step: int, steps_per_block: int, active: torch.Tensor) -> None:
    """One forward pass: propose a token everywhere, commit the schedule's share (and edits), count the step."""
    settings, canvas = run.settings, state.canvas
    settle = settings.early_stop == "settled"
    logits = run.logits_fn(canvas, block.start, canvas.shape[1] if settle else block.end)
    state.finite &= _all_finite(logits) | ~active
    window = logits[:, : block.hi - block.lo]
    candidates, confidence, probs = _propose(window, settings, run.special, run.rule, run.generators)
    commit = _scheduled_commit(run, block, confidence, step, steps_per_block, active)
    if block.ar_first is not None and step == 0:
        commit, candidates = _commit_ar_first(run, block, window, commit, candidates)
    old = canvas[:, block.start : block.end]
    if settings.editing_threshold is not None:
        commit |= _edits(run, state, block, candidates, probs, old, active)
    if settle:
        _commit_settled(run, state, logits, candidates, block.masked, commit, active, block.start)
        block.masked = (canvas[:, block.start : block.end] == run.special.mask_id) & block.in_block
    else:
        new = torch.where(commit, candidates, old)
        _observe(run.observer, state, block.lo, commit, old, new)
        canvas[:, block.start : block.end] = new
        block.masked &= ~commit
    state.row_step += active.long()


def _scheduled_commit(
    run: _Run, block: _Block, confidence: torch.Tensor, step: int, steps_per_block: int, active: torch.Tensor
) -> torch.Tensor:
    """[B, W] the masked positions this step commits: the schedule's count of the most confident ones.

    With ``alg_temp > 0`` (Dream) that many positions are drawn from softmax(confidence / alg_temp) instead.
    """
    settings = run.settings
    confidence = torch.where(block.masked, confidence, float("-inf"))
    sorted_conf, order = torch.sort(confidence, dim=-1, descending=True, stable=True)
    if settings.alg_temp > 0:
        order = _sampled_order(confidence, settings.alg_temp, run.generators)
    assert settings.block_length
    plan = StepPlan(
        sorted_confidence=sorted_conf,
        n_eligible=block.masked.sum(-1),
        n_masked_at_block_start=block.masked_at_start,
        step_in_block=step,
        steps_per_block=steps_per_block,
        block_length=settings.block_length,
        params=run.schedule_params,
    )
    count = torch.minimum(run.schedule(plan), plan.n_eligible)
    if settings.max_per_step is not None:
        count = count.clamp(max=settings.max_per_step)
    count = torch.where(active, count, 0)
    ranks = torch.arange(block.hi - block.lo, device=confidence.device)
    return torch.zeros_like(block.masked).scatter(1, order, ranks < count.unsqueeze(1))


def _commit_ar_first(
    run: _Run, block: _Block, logits: torch.Tensor, commit: torch.Tensor, candidates: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Fast-dLLM v2's first step of a block: a row opening an attention block commits that one token alone."""
    assert block.ar_first is not None
    commit = torch.where(block.ar_first.any(-1, keepdim=True), block.ar_first, commit)
    if run.settings.temperature > 0:  # the reference takes that token by argmax even when sampling
        greedy = logits.float().clone()  # never write into the model's logits
        greedy[..., run.special.mask_id] = -torch.inf
        candidates = torch.where(block.ar_first, greedy.argmax(-1), candidates)
    return commit, candidates


def _edits(
    run: _Run, state: _State, block: _Block, candidates: torch.Tensor, probs: torch.Tensor, old: torch.Tensor,
    active: torch.Tensor,
) -> torch.Tensor:
    """[B, W] LLaDA2.1's token-to-token edits: committed tokens of the block whose new, confident prediction differs.

    A pass after the block's last mask that changes nothing ends the row's block.
    """
    threshold = run.settings.editing_threshold
    assert threshold is not None
    probability = probs.gather(-1, candidates.unsqueeze(-1)).squeeze(-1)  # only editing needs it
    edits = (block.in_block & ~block.masked & ~state.filled[:, block.lo : block.hi] & active.unsqueeze(1)
             & (probability > threshold) & (candidates != old))
    block.done |= active & ~block.masked.any(-1) & ~edits.any(-1)
    return edits


def _ar_block_start(state: _State, masked: torch.Tensor, cols: torch.Tensor, row_lo: torch.Tensor) -> torch.Tensor:
    """[B, W] Fast-dLLM v2's first commit of a block: the row's window start, where it opens an attention block.

    Only where that column is still masked: the finished previous block predicts it, and the reference
    commits it alone by argmax in the pass that caches that block.
    """
    assert state.layout is not None
    opens = (state.layout.prompt_lengths.to(row_lo.device) + row_lo) % state.layout.attention_block == 0
    return masked & (cols == row_lo.unsqueeze(1)) & opens.unsqueeze(1)


def _observe(
    observer: StepObserver | None, state: _State, lo: int, commit: torch.Tensor, old: torch.Tensor, new: torch.Tensor
) -> None:
    """Report a commit over generation columns [lo, lo + width) to the observer, clipped to the returned canvas."""
    if observer is None or lo >= state.gen_length:
        return
    keep = state.gen_length - lo
    observer.on_commit(state.row_step, lo, commit[:, :keep], old[:, :keep], new[:, :keep])


def _stop_ids(special: SpecialTokens, device: torch.device) -> torch.Tensor:
    """Token ids that end a generation (EOS and, for chat models, EoT)."""
    ids = [t for t in (special.eos_id, special.eot_id) if t is not None]
    return torch.tensor(ids, dtype=torch.long, device=device)


def _stop_after_eos_block(run: _Run, state: _State, block: _Block, last: torch.Tensor) -> None:
    """LLaDA2.0's early stop: a finished block holding EOS ends the row; the rest becomes EOS, undecoded.

    ``last`` [B] marks the rows for which this block is their last one.
    """
    window = state.canvas[:, block.start : block.end]
    hit = (torch.isin(window, run.stop_ids) & block.in_block).any(-1) & ~state.stopped
    state.stopped |= hit
    hit &= ~last  # EOS in a row's last block stops nothing early
    assert run.special.eos_id is not None
    state.stopped_early |= hit
    gen = state.canvas[:, run.prompt_len :]
    tail = (hit.unsqueeze(1) & (torch.arange(gen.shape[1], device=gen.device) >= block.row_hi.unsqueeze(1))
            & ~state.filled)
    state.canvas[:, run.prompt_len :] = torch.where(tail, run.special.eos_id, gen)
    state.filled |= tail


def _commit_settled(
    run: _Run,
    state: _State,
    logits: torch.Tensor,
    candidates: torch.Tensor,
    masked: torch.Tensor,
    commit: torch.Tensor,
    active: torch.Tensor,
    start: int,
) -> None:
    """Commit this step; a row whose every remaining mask (this block and after) proposes EOS commits them all."""
    canvas, width = state.canvas, candidates.shape[1]
    tail_logits = logits[:, width:].float()
    tail_logits[..., run.special.mask_id] = float("-inf")
    tail_candidates = tail_logits.argmax(-1)  # greedy: the check asks what the model expects there
    old = canvas[:, start:]
    window_masked = old == run.special.mask_id
    window_candidates = torch.cat([candidates, tail_candidates], 1)
    proposes_stop = torch.isin(window_candidates, run.stop_ids)
    settles = active & window_masked.any(-1) & (proposes_stop | ~window_masked).all(-1)
    scheduled = torch.cat([commit, torch.zeros_like(window_masked[:, width:])], 1)
    window_commit = torch.where(settles.unsqueeze(1), window_masked, scheduled)
    new = torch.where(window_commit, window_candidates, old)
    _observe(run.observer, state, start - run.prompt_len, window_commit, old, new)
    canvas[:, start:] = new
    state.stopped |= settles
    state.stopped_early |= settles & (window_commit & ~scheduled).any(-1)


def _sampled_order(
    confidence: torch.Tensor, alg_temp: float, generators: list[torch.Generator] | None
) -> torch.Tensor:
    """Dream's alg_temp: positions drawn without replacement from softmax(confidence / alg_temp).

    Gumbel-top-k: sorting confidence / alg_temp + Gumbel noise gives such a draw in its order.
    """
    assert generators is not None
    uniform = torch.stack([torch.rand(confidence.shape[1], generator=g, device=confidence.device,
                                      dtype=torch.float64) for g in generators])
    gumbel = -torch.log(-torch.log(uniform.clamp_min(1e-300)))
    keys = torch.where(torch.isfinite(confidence), confidence.double() / alg_temp + gumbel, float("-inf"))
    return torch.sort(keys, dim=-1, descending=True, stable=True).indices


def _edit_round(run: _Run, state: _State) -> None:
    """One generate-then-edit round: score the draft, re-mask its weakest tokens, re-predict them in one pass.

    Two forward passes per row: one with the whole draft visible to score each committed token by the
    probability the model gives it, one over the canvas with the chosen tokens re-masked whose argmax
    (or sample) replaces them all at once. Positions ``eos_block`` filled are never edited.
    """
    logits_fn, prompt_len, settings, special = run.logits_fn, run.prompt_len, run.settings, run.special
    canvas, total = state.canvas, state.canvas.shape[1]
    logits = logits_fn(canvas, prompt_len, total).float()
    state.finite &= _all_finite(logits)
    logits[..., special.mask_id] = float("-inf")
    current = canvas[:, prompt_len:]
    score = torch.softmax(logits, -1).gather(-1, current.unsqueeze(-1)).squeeze(-1)
    editable = ~state.filled & (current != special.mask_id)
    score = torch.where(editable, score, float("inf"))
    remask = editable
    if settings.edit_threshold is not None:
        remask = remask & (score < settings.edit_threshold)
    if settings.edit_k is not None:
        order = torch.sort(score, dim=-1, stable=True).indices
        ranks = torch.arange(score.shape[1], device=score.device)
        weakest = torch.zeros_like(remask).scatter(1, order, (ranks < settings.edit_k).expand_as(order))
        remask = remask & weakest
    state.row_step += 1
    masked_canvas = torch.cat([canvas[:, :prompt_len], torch.where(remask, special.mask_id, current)], 1)
    logits = logits_fn(masked_canvas, prompt_len, total)
    state.finite &= _all_finite(logits)
    candidates, _, _ = _propose(logits, settings, special, CONFIDENCE_RULES["low_confidence"].fn, run.generators)
    new = torch.where(remask, candidates, current)
    _observe(run.observer, state, 0, remask, current, new)  # ``old`` is the draft token: re-predicting it is no change
    canvas[:, prompt_len:] = new
    state.row_step += 1


def _all_finite(logits: torch.Tensor) -> torch.Tensor:
    """[B] whether every logit of a row is finite.

    amax/amin propagate NaN and expose infinities, so two reductions replace a [B, N, V] boolean
    temporary (about 20x cheaper per step at LLaDA's vocabulary size).
    """
    dims = tuple(range(1, logits.dim()))
    return logits.amax(dim=dims).isfinite() & logits.amin(dim=dims).isfinite()


def _propose(
    logits: torch.Tensor,
    settings: DecodingSettings,
    special: SpecialTokens,
    rule: Callable[..., torch.Tensor],
    generators: list[torch.Generator] | None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Candidate token and its confidence at every position of the block, and the distribution ([..., V]).

    The family's sampler (``_sampling.py``) decides how temperature, top-p and top-k shape both. With
    ``confidence_dtype=logits`` it works in the model's own dtype (bf16 on GPU), as the published loops do.
    """
    if settings.confidence_dtype != "logits":
        logits = logits.float()

    def gumbel() -> torch.Tensor:
        assert generators is not None
        uniform = torch.stack([torch.rand(logits.shape[1:], generator=g, device=logits.device, dtype=torch.float64)
                               for g in generators])
        return -torch.log(-torch.log(uniform.clamp_min(1e-300)))

    def uniform_noise() -> torch.Tensor:
        assert generators is not None
        return torch.stack([torch.rand(logits.shape[1], generator=g, device=logits.device) for g in generators])

    candidates, probs = SAMPLERS[settings.sampler](logits, settings, special, gumbel)
    return candidates, rule(probs, candidates, uniform_noise), probs


class TraceRecorder:
    """Records first-commit step, last-change step and change count per canvas position, on device.

    Each step only logs its commit and change masks; the arrays are reduced once per canvas window when
    first read (row steps never decrease, so the first commit is the smallest committed step).
    """

    def __init__(self, batch: int, gen_length: int, device: torch.device) -> None:
        self.shape, self.device = (batch, gen_length), device
        self._log: dict[tuple[int, int], list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]] = {}
        self._arrays: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None

    def on_commit(
        self, row_step: torch.Tensor, offset: int, commit: torch.Tensor, old: torch.Tensor, new: torch.Tensor
    ) -> None:
        """Log the step's masks (the engine never modifies ``commit`` afterwards)."""
        self._log.setdefault((offset, commit.shape[1]), []).append((row_step.clone(), commit, commit & (new != old)))
        self._arrays = None

    def _reduce(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        if self._arrays is None:
            never = torch.iinfo(torch.long).max
            first = torch.full(self.shape, never, dtype=torch.long, device=self.device)
            final = torch.full(self.shape, -1, dtype=torch.long, device=self.device)
            changes = torch.zeros(self.shape, dtype=torch.long, device=self.device)
            for (offset, width), entries in self._log.items():
                cols = slice(offset, offset + width)
                steps = torch.stack([e[0] for e in entries]).unsqueeze(-1)  # [S, B, 1]
                commits, changed = torch.stack([e[1] for e in entries]), torch.stack([e[2] for e in entries])
                first[:, cols] = torch.minimum(first[:, cols], torch.where(commits, steps, never).amin(0))
                final[:, cols] = torch.maximum(final[:, cols], torch.where(changed, steps, -1).amax(0))
                changes[:, cols] += changed.sum(0)
            self._arrays = (first.masked_fill(first == never, -1), final, changes)
        return self._arrays

    @property
    def first_step(self) -> torch.Tensor:
        """[B, G] step of each position's first commit (-1: never committed)."""
        return self._reduce()[0]

    @property
    def final_step(self) -> torch.Tensor:
        """[B, G] step of each position's last change (-1: never changed)."""
        return self._reduce()[1]

    @property
    def n_changes(self) -> torch.Tensor:
        """[B, G] how many steps changed each position."""
        return self._reduce()[2]
