"""Decoding settings: every knob of the sampler engine, validated before any weights load."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from model_adapters._strategies import CONFIDENCE_RULES, TRANSFER_SCHEDULES

CACHE_MODES = {
    "none": "no KV cache: every step is a full forward pass (exact)",
    "prefix": "Fast-dLLM prefix cache for bidirectional models: prompt + finished blocks' KV reused within a block "
    "(approximate)",
    "dual": "Fast-dLLM dual cache for bidirectional models: KV of everything outside the current block reused "
    "within a block (approximate)",
    "block_kv": "exact KV cache of finished blocks for block-causal models",
}
"""Accepted ``cache`` values and what each means."""

EARLY_STOPS = {
    "none": "decode the whole canvas",
    "eos_block": "after a block completes holding EOS, stop; the rest of the canvas is EOS, never decoded",
    "settled": "when every masked position left proposes EOS, fill them all with EOS in that step and stop",
}
"""Accepted ``early_stop`` values and what each means."""

CONFIDENCE_DTYPES = {
    "float32": "softmax of the logits upcast to float32: confidences rarely tie (default)",
    "logits": "softmax in the logits' own dtype, as LLaDA's and Dream's published generate() do (bf16 on GPU "
    "rounds probabilities to 8 bits, so confident positions tie and tie-breaking picks the order)",
}
"""Accepted ``confidence_dtype`` values and what each means."""

ATTENTIONS = ("bidirectional", "block_causal")
"""Attention patterns a family may declare (the preset's ``attention`` field)."""

CACHE_ATTENTION = {"none": ATTENTIONS, "prefix": ("bidirectional",), "dual": ("bidirectional",),
                   "block_kv": ("block_causal",)}
"""The attentions each cache mode is valid for: the one compatibility rule (settings, runner and cache use it)."""


def check_cache_attention(cache: str, attention: str) -> None:
    """Refuse a cache mode the attention pattern cannot use.

    Raises:
        ValueError: for an unknown attention or cache, or a pair that does not go together.
    """
    if attention not in ATTENTIONS:
        raise ValueError(f"unknown attention {attention!r}; choose from {list(ATTENTIONS)}")
    if cache not in CACHE_ATTENTION:
        raise ValueError(f"unknown cache {cache!r}; choose from {sorted(CACHE_ATTENTION)}")
    if attention in CACHE_ATTENTION[cache]:
        return
    fits = [name for name, attentions in CACHE_ATTENTION.items() if attention in attentions]
    why = ("is exact only for block-causal models" if cache == "block_kv"
           else "is the Fast-dLLM approximation for bidirectional models")
    choices = " or ".join(map(repr, fits))
    raise ValueError(f"cache={cache!r} {why}; this family's attention is {attention}: use cache={choices}")

# Keys lm-eval itself puts into gen_kwargs; the adapter consumes them, the engine never sees them.
LM_EVAL_GEN_KEYS = frozenset({"until", "max_gen_toks", "do_sample", "temperature"})


@dataclass(frozen=True)
class DecodingSettings:
    """How to decode one request; family presets supply defaults, model_args and gen_kwargs override."""

    gen_length: int | None = None
    """Canvas length in tokens; None means the request's ``max_gen_toks``."""
    steps: int | None = None
    """Total denoising-step budget over all blocks; None means one step per block position (``gen_length``
    when blocks fill it; a short last block ends with its masks)."""
    block_length: int | None = None
    """Semi-autoregressive block length; None means one block spanning the canvas."""
    remasking: str = "low_confidence"
    """Confidence rule that ranks candidate tokens (see ``CONFIDENCE_RULES``)."""
    schedule: str = "fixed"
    """Transfer schedule deciding how many tokens to commit per step (see ``TRANSFER_SCHEDULES``)."""
    threshold: float | None = None
    """Confidence threshold of the ``threshold``, ``threshold_strict`` and ``threshold_count`` schedules, in (0, 1]."""
    factor: float | None = None
    """Factor f of the ``factor`` schedule: commit the n most confident while (n+1)(1-c_n) <= f."""
    max_per_step: int | None = None
    """Cap on tokens committed per step by any schedule."""
    temperature: float = 0.0
    """Sampling temperature; 0 is greedy argmax. How it enters candidates and confidences is the sampler's."""
    top_p: float = 1.0
    """Nucleus filter before sampling, in (0, 1] (1: off); only samplers whose reference has one take it."""
    top_k: int = 0
    """Keep the k most likely tokens before sampling (0: off); only samplers whose reference has one take it."""
    sampler: str = "llada"
    """Which reference's arithmetic turns logits into candidates and confidences (see ``SAMPLERS``)."""
    logits_eos_inf: bool = False
    """Forbid EOS as a candidate token (LLaDA reference option)."""
    confidence_eos_eot_inf: bool = False
    """Give EOS/EoT candidates zero confidence so they are committed last (LLaDA reference option)."""
    confidence_dtype: str = "float32"
    """Arithmetic of the confidence softmax: ``float32`` or ``logits`` (the model's dtype, to replicate the
    published loops' bf16 arithmetic; see ``CONFIDENCE_DTYPES``)."""
    seed: int = 1234
    """Base seed; each request derives its own random stream from it, its prompt and its repeat index."""
    alg_temp: float = 0.0
    """Dream's ``alg_temp``: > 0 samples the positions to commit from softmax(confidence / alg_temp)."""
    cache: str = "none"
    """KV cache: ``none``, ``prefix`` / ``dual`` (approximate, bidirectional) or ``block_kv`` (block-causal)."""
    early_stop: str = "none"
    """``none``, ``eos_block`` (stop after the block holding EOS) or ``settled`` (stop once all masks propose EOS)."""
    edit_rounds: int = 0
    """Generate-then-edit rounds after the draft: re-mask the least confident tokens and predict them again."""
    edit_k: int | None = None
    """Per round, re-mask at most this many least-confident generated tokens (per row)."""
    edit_threshold: float | None = None
    """Per round, re-mask generated tokens whose confidence is below this value, in (0, 1]."""
    editing_threshold: float | None = None
    """LLaDA2.1 token-to-token editing inside decoding (None: off): at every step of a block, an already
    committed token of that block whose new top prediction differs and has probability above this value, in
    [0, 1], is replaced. Unlike ``edit_rounds`` it runs while the block is decoded, not after the draft."""
    max_post_steps: int = 16
    """With ``editing_threshold``: at most this many extra passes per block once its masks are all filled,
    each replacing tokens as above; the block ends at the first pass that changes nothing."""
    ar_block_start: bool = False
    """Fast-dLLM v2: the first token of each attention block, predicted from the finished previous block, is
    committed alone (argmax) at the block's first step, before the threshold rule (block-causal, shifted)."""

    @property
    def num_blocks(self) -> int:
        """Nominal decoding blocks over the canvas, the last one possibly shorter (needs both lengths set)."""
        assert self.gen_length and self.block_length
        return -(-self.gen_length // self.block_length)

    @classmethod
    def field_names(cls) -> frozenset[str]:
        """Names accepted as decoding keys in model_args and gen_kwargs."""
        return frozenset(f.name for f in dataclasses.fields(cls))

    @classmethod
    def from_mapping(cls, values: dict[str, Any], base: DecodingSettings | None = None) -> DecodingSettings:
        """Overlay ``values`` on ``base`` (or the defaults), coercing strings as the lm-eval CLI passes them.

        Raises:
            ValueError: on an unknown key or a value that cannot be coerced.
        """
        unknown = set(values) - cls.field_names()
        if unknown:
            raise ValueError(
                f"unknown decoding setting(s) {sorted(unknown)}; valid: {sorted(cls.field_names())}"
            )
        current = dataclasses.asdict(base or cls())
        types = {f.name: f.type for f in dataclasses.fields(cls)}
        for key, raw in values.items():
            current[key] = _coerce(key, raw, str(types[key]))
        return cls(**current)

    def resolve(self, max_gen_toks: int) -> DecodingSettings:
        """Fill the length-dependent defaults for one request and validate the whole setting.

        Raises:
            ValueError: with a message naming the offending setting.
        """
        gen_length = self.gen_length or max_gen_toks
        block_length = self.block_length or gen_length
        # One step per block position, as every reference counts its steps per block; a block longer than the
        # whole generation gets gen_length steps (LLaDA2.0's generate caps them so).
        resolved = dataclasses.replace(self, gen_length=gen_length, block_length=block_length)
        if not self.steps:
            resolved = dataclasses.replace(resolved, steps=resolved.num_blocks * min(block_length, gen_length))
        resolved.validate()
        return resolved

    def validate(self) -> None:
        """Check names and ranges; called for every resolved setting."""
        self._validate_strategies()
        for name in ("gen_length", "steps", "block_length", "max_per_step"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ValueError(f"{name} must be a positive integer, got {value}")
        if self.gen_length and self.block_length:
            # (Divisibility is checked per attention in ``validate_for``: block-causal families take any length.)
            budget = TRANSFER_SCHEDULES[self.schedule].kind == "budget"
            if self.steps and budget and self.steps % self.num_blocks:
                raise ValueError(f"steps={self.steps} must be a multiple of the number of blocks ({self.num_blocks})")
        if self.threshold is not None and not 0.0 < self.threshold <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], got {self.threshold}")
        if self.factor is not None and self.factor <= 0:
            raise ValueError(f"factor must be > 0, got {self.factor}")
        if self.temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {self.temperature}")
        self._validate_sampler()
        self._validate_extensions()

    def _validate_sampler(self) -> None:
        """The sampler exists and takes the options asked of it."""
        from model_adapters._sampling import FILTERING_SAMPLERS, SAMPLERS

        if self.sampler not in SAMPLERS:
            raise ValueError(f"unknown sampler {self.sampler!r}; choose from {sorted(SAMPLERS)}")
        if not 0.0 < self.top_p <= 1.0:
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p}")
        if self.top_k < 0:
            raise ValueError(f"top_k must be >= 0 (0: off), got {self.top_k}")
        if (self.top_p < 1.0 or self.top_k > 0) and self.sampler not in FILTERING_SAMPLERS:
            raise ValueError(f"sampler={self.sampler!r} has no top-p / top-k in its reference; "
                             f"use one of {sorted(FILTERING_SAMPLERS)}")
        if self.confidence_eos_eot_inf and self.sampler != "llada":
            raise ValueError("confidence_eos_eot_inf is LLaDA's option; it needs sampler='llada'")

    def _validate_strategies(self) -> None:
        """Check the rule and schedule against what their registrations declare."""
        if self.remasking not in CONFIDENCE_RULES:
            raise ValueError(f"unknown remasking {self.remasking!r}; choose from {sorted(CONFIDENCE_RULES)}")
        if self.schedule not in TRANSFER_SCHEDULES:
            raise ValueError(f"unknown schedule {self.schedule!r}; choose from {sorted(TRANSFER_SCHEDULES)}")
        rule, schedule = CONFIDENCE_RULES[self.remasking], TRANSFER_SCHEDULES[self.schedule]
        for kind, name, params in (("remasking", rule.name, rule.params), ("schedule", schedule.name, schedule.params)):
            for param in params:
                if param not in self.field_names():
                    raise ValueError(f"{kind}={name!r} declares parameter {param!r}, which is no decoding setting")
                if getattr(self, param) is None:
                    raise ValueError(f"{kind}={name!r} needs {param}=<value>")
        if schedule.remasking is not None and self.remasking != schedule.remasking:
            raise ValueError(f"schedule={schedule.name!r} needs remasking={schedule.remasking!r}")

    def strategy_params(self) -> tuple[dict[str, object], dict[str, object]]:
        """The values of the parameters the confidence rule and the schedule declare, in that order."""
        rule, schedule = CONFIDENCE_RULES[self.remasking], TRANSFER_SCHEDULES[self.schedule]
        return ({p: getattr(self, p) for p in rule.params}, {p: getattr(self, p) for p in schedule.params})

    def _validate_extensions(self) -> None:
        """Checks of the Dream, cache, early-stop and edit settings."""
        if self.alg_temp < 0:
            raise ValueError(f"alg_temp must be >= 0, got {self.alg_temp}")
        if self.confidence_dtype not in CONFIDENCE_DTYPES:
            raise ValueError(f"unknown confidence_dtype {self.confidence_dtype!r}; choose from "
                             f"{sorted(CONFIDENCE_DTYPES)}")
        if self.cache not in CACHE_MODES:
            raise ValueError(f"unknown cache {self.cache!r}; choose from {sorted(CACHE_MODES)}")
        if self.early_stop not in EARLY_STOPS:
            raise ValueError(f"unknown early_stop {self.early_stop!r}; choose from {sorted(EARLY_STOPS)}")
        if self.early_stop == "settled" and self.cache in ("dual", "block_kv"):
            raise ValueError(
                f"early_stop='settled' reads predictions for the masks after the current block, which "
                f"cache={self.cache!r} does not compute; use cache='none' or 'prefix'"
            )
        if self.edit_rounds < 0:
            raise ValueError(f"edit_rounds must be >= 0, got {self.edit_rounds}")
        if self.edit_k is not None and self.edit_k <= 0:
            raise ValueError(f"edit_k must be a positive integer, got {self.edit_k}")
        if self.edit_threshold is not None and not 0.0 < self.edit_threshold <= 1.0:
            raise ValueError(f"edit_threshold must be in (0, 1], got {self.edit_threshold}")
        if self.editing_threshold is not None:
            if not 0.0 <= self.editing_threshold <= 1.0:
                raise ValueError(f"editing_threshold must be in [0, 1], got {self.editing_threshold}")
            if self.early_stop == "settled":
                raise ValueError("editing_threshold (in-block token editing) does not combine with "
                                 "early_stop='settled'; use early_stop='eos_block' or 'none'")
        if self.max_post_steps < 0:
            raise ValueError(f"max_post_steps must be >= 0, got {self.max_post_steps}")
        has_rule = self.edit_k is not None or self.edit_threshold is not None
        if has_rule and not self.edit_rounds:
            raise ValueError("edit_k / edit_threshold need edit_rounds=<number of rounds> (> 0)")
        if self.edit_rounds and not has_rule:
            raise ValueError("edit_rounds needs edit_k=<tokens per round> and/or edit_threshold=<value in (0, 1]>")

    def validate_for(self, attention: str, attention_block: int | None = None, *, whole_blocks: bool = True) -> None:
        """Check the setting against the model's attention pattern (the adapter knows the family).

        Args:
            attention: ``bidirectional`` or ``block_causal`` (the family preset's ``attention``).
            attention_block: Block size of a block-causal model.
            whole_blocks: Whether a bidirectional model's ``gen_length`` must be a whole number of blocks. The
                adapter relaxes it when the length is a task's ``max_gen_toks`` rather than one the user chose
                (a preset's block of 32 and a task's 24 tokens): the last block is then shorter.

        Raises:
            ValueError: when the cache does not apply to that attention, or blocks do not line up.
        """
        check_cache_attention(self.cache, attention)
        if attention == "bidirectional" and whole_blocks and self.gen_length and self.block_length:
            # LLaDA's and Dream's decoders cut the canvas into whole blocks. Block-causal families do not need
            # it: their blocks sit at absolute positions and the last one is decoded whole past gen_length.
            if self.gen_length % self.block_length:
                raise ValueError(f"gen_length={self.gen_length} is not divisible by block_length={self.block_length}")
        if self.ar_block_start and attention != "block_causal":
            raise ValueError("ar_block_start (Fast-dLLM v2) needs a block-causal model: it commits the token that the "
                             "finished previous attention block predicts")
        if attention == "block_causal" and self.cache == "block_kv":
            if attention_block is None or attention_block <= 0:
                raise ValueError("a block-causal model needs a positive attention_block")
            if self.block_length is not None and self.block_length % attention_block:
                raise ValueError(
                    f"cache='block_kv' needs block_length ({self.block_length}) to be a multiple of the model's "
                    f"attention block ({attention_block})"
                )

    @property
    def needs_noise(self) -> bool:
        """Whether decoding draws random numbers (then every row needs its own generator)."""
        return self.temperature > 0 or CONFIDENCE_RULES[self.remasking].draws_noise or self.alg_temp > 0

    def as_dict(self) -> dict[str, Any]:
        """Plain dict for traces and the results JSON."""
        return dataclasses.asdict(self)


def _coerce(key: str, raw: Any, type_name: str) -> Any:
    if raw is None or raw == "None":
        if "None" in type_name:
            return None
        raise ValueError(f"{key} cannot be None")
    try:
        if type_name.startswith("bool"):
            if isinstance(raw, str):
                if raw.lower() not in {"true", "false", "1", "0"}:
                    raise ValueError(raw)
                return raw.lower() in {"true", "1"}
            return bool(raw)
        if type_name.startswith("int"):
            if isinstance(raw, float) and not raw.is_integer():
                raise ValueError(raw)
            return int(raw)
        if type_name.startswith("float"):
            return float(raw)
        return str(raw)
    except (TypeError, ValueError):
        raise ValueError(f"decoding setting {key}={raw!r} is not a valid {type_name.split(' ')[0]}") from None
