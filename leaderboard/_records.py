"""Typed records of the leaderboard: what data.json holds and what ``build_site`` returns."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

THIN_MIN = 10
"""An estimate resting on fewer samples than this is marked as thin."""
THIN_SHARE = 0.5
"""An estimate defined for less than this share of its scope's samples is marked as thin."""


def is_thin(n: int, of: int) -> bool:
    """Whether ``n`` defining samples out of ``of`` are too few to lean on (see ``THIN_MIN``, ``THIN_SHARE``)."""
    return n > 0 and (n < THIN_MIN or n < THIN_SHARE * of)


class _Strict:
    """Mixin: ``from_dict`` that rejects unknown keys (nested records are built by their own class)."""

    @classmethod
    def from_dict(cls: type[T], data: dict[str, Any]) -> T:
        """Build from a plain dict; unknown keys are an error."""
        names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        unknown = set(data) - names
        if unknown:
            raise ValueError(f"{cls.__name__}: unknown keys {sorted(unknown)}")
        return cls(**data)


@dataclass
class Estimate(_Strict):
    """A mean with its seeded bootstrap 95% interval."""

    value: float | None
    """Point estimate (None when no sample has a defined value)."""
    low: float | None
    """2.5th percentile of the bootstrap replicates."""
    high: float | None
    """97.5th percentile of the bootstrap replicates."""
    n: int
    """Samples with a defined value that entered the estimate (k)."""
    of: int = 0
    """Samples that could have defined it: the scope's traced (or AR) generations, of that correctness for the
    correct/incorrect splits. tau is undefined for single-step samples, so its ``n`` may be far below this."""
    thin: bool = False
    """True when few samples define the value: fewer than ``THIN_MIN``, or under ``THIN_SHARE`` of ``of``."""


@dataclass
class ScopeStats(_Strict):
    """Aggregates of one row over one scope: a task, a domain, or everything."""

    accuracy: float | None
    """Primary-metric score (task) or unweighted mean over tasks/domains; None when unknown."""
    accuracy_stderr: float | None
    """Standard error of ``accuracy`` (lm-eval's, propagated as independent for means)."""
    n_tasks: int
    """Tasks in the scope."""
    n_docs: int
    """Documents evaluated."""
    n_docs_full: int
    """Documents in the full tasks (lm-eval's ``n-samples.original``)."""
    n_generations: int
    """Generations (documents times repeats) joined."""
    n_traced: int
    """Generations with a usable trace (or AR by construction)."""
    n_tau_undefined: int
    """Generations whose tau is undefined (single step or n < 2): excluded from tau means."""
    metrics: dict[str, Estimate] = field(default_factory=dict)
    """Trace metric estimates by key (afp, tpf, tau_b, ..., afp_correct, stage_afp_1, ...)."""


@dataclass
class TaskStats(ScopeStats):
    """A task's aggregates plus what defines them."""

    task: str = ""
    """lm-eval task name."""
    domain: str = ""
    """Domain group (``other`` outside any group)."""
    metric: str = ""
    """Primary metric key (first entry of the task's metric_list)."""
    filter: str = ""
    """Filter whose scores are used (first of the task's filter_list, else ``none``)."""
    accuracy_source: str = ""
    """``results`` (lm-eval's aggregate) or ``samples`` (mean of per-sample scores)."""
    task_hash: str = ""
    """lm-eval's task hash."""


@dataclass
class RunInfo(_Strict):
    """Reproducibility facts of one lm-eval results file merged into a row."""

    results_file: str
    """Path of the results file, relative to its run folder's parent."""
    command: str
    """lm_eval command reconstructed from the results config."""
    model_args: str
    """Model arguments as lm-eval recorded them."""
    decoding: dict[str, Any]
    """Decoding settings (``mdlm_decoding``) and generation kwargs."""
    lm_eval_version: str
    """lm-eval version that wrote the file."""
    transformers_version: str
    """transformers version."""
    torch_version: str
    """torch version (parsed from ``pretty_env_info``)."""
    seeds: dict[str, Any]
    """random, numpy, torch and fewshot seeds."""
    task_hashes: dict[str, str]
    """lm-eval's hash per task."""
    date: str
    """When the run finished (UTC, ISO 8601)."""
    limit: Any
    """``--limit`` value (None for full runs)."""
    trace_files: list[str]
    """Trace files read for this run."""
    inputs: dict[str, str]
    """sha256 of every file read (results, samples, traces), by file name."""


@dataclass
class LeaderboardRow(_Strict):
    """One model with one decoding setting."""

    row_id: str
    """Stable identifier (slug of the model plus a hash of the setting)."""
    model: str
    """Model name as lm-eval reports it."""
    model_type: str
    """``diffusion`` or ``AR``."""
    backend: str
    """lm-eval model backend (``mdlm``, ``hf``, ``vllm``, ...)."""
    family: str
    """Diffusion family preset (empty for AR)."""
    params: int | None
    """Parameter count when the run records it."""
    setting: dict[str, Any]
    """Decoding setting that, with the model, defines the row."""
    setting_label: str
    """Short human-readable form of ``setting``."""
    partial: bool
    """True when any task was evaluated on fewer documents than the full task (``--limit``)."""
    overall: ScopeStats
    """Aggregates over all domains."""
    domains: dict[str, ScopeStats]
    """Aggregates per domain."""
    tasks: dict[str, TaskStats]
    """Aggregates per task."""
    runs: list[RunInfo]
    """The results files merged into this row."""
    warnings: list[str]
    """Problems specific to this row."""
    rank: int | None = None
    """Rank by overall accuracy (None without accuracy)."""
    setting_short: str = ""
    """What tells this row apart from the other rows of its model (``schedule`` always); ``setting_label``
    holds the whole setting."""


@dataclass
class PromptCheck(_Strict):
    """Whether every model saw the same prompt for each (task, doc)."""

    checked: int
    """(task, doc) pairs evaluated by more than one row."""
    agreed: int
    """Of those, pairs whose prompt hashes all agree."""
    mismatches: list[dict[str, Any]]
    """Disagreeing pairs: task, doc_id and the hash each row saw."""

    @property
    def share_agreed(self) -> float | None:
        """Fraction of checked pairs that agree (None when nothing could be checked)."""
        return self.agreed / self.checked if self.checked else None


@dataclass
class BuildReport:
    """What ``build_site`` did."""

    output: Path
    """Site folder written."""
    rows: list[LeaderboardRow]
    """Leaderboard rows, ranked."""
    prompt_check: PromptCheck
    """Identical-prompt check across rows."""
    warnings: list[str]
    """Everything that was skipped, missing or suspicious (also shown on the site)."""
    files: list[str]
    """Files written, relative to ``output``."""
