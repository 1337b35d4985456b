"""Joining lm-eval sample records with decoding traces, and merging runs into leaderboard rows.

A row is one (model, backend, decoding setting). Per task the primary metric is the first
entry of the task config's ``metric_list`` and the primary filter the first of its
``filter_list`` (``none`` without filters); only that filter's sample rows are used.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from leaderboard._inputs import Run, Trace

AR_BACKENDS = frozenset(
    {
        # transformers and wrappers around it
        "hf", "hf-auto", "huggingface", "hf-multimodal", "hf-mistral3", "hf-audiolm-qwen", "steered",
        # serving engines and runtimes that run causal LMs token by token
        "vllm", "vllm-vlm", "sglang", "sglang-generate", "gguf", "ggml", "trtllm", "mamba_ssm",
        "openvino", "ipex", "habana", "neuronx", "onnxruntime", "onnxruntime-genai", "winml",
        "megatron_lm", "nemo_lm",
    }
)  # fmt: skip
"""lm-eval backends (registry names) known to decode left to right, one token per forward pass.

Their runs get AFP = TPF = tau = 1 by construction. API backends (``openai-*``, ``local-completions``,
``anthropic-*``, ``litellm``, ...) are absent on purpose: whatever model serves the API may decode in
any order, so a traceless run of one shows its order metrics as n/a.
"""
MODEL_TYPES = ("diffusion", "AR", "unknown")
"""Row kinds: traced (or ``mdlm``) runs, left-to-right backends, and anything else without traces."""
KNOWN_DOMAINS = frozenset(
    {"mdlm_knowledge", "mdlm_math", "mdlm_reasoning", "mdlm_language", "mdlm_agentic", "mdlm_coding", "mdlm_synthetic"}
)
"""Domain groups of ``mdlm_suite``."""


@dataclass
class Gen:
    """One generation: a sample record (one repeat) with its trace."""

    doc_id: int
    """lm-eval document id."""
    repeat: int
    """Repeat index."""
    prompt_hash: str
    """sha256 of the context, from the sample record."""
    score: float | None
    """Primary metric value of the document (None when not a number)."""
    response: str
    """Raw generated text of this repeat."""
    filtered: str
    """Response after the primary filter."""
    target: str
    """Reference answer as lm-eval logged it."""
    prompt: str
    """Context string."""
    doc: Any
    """The document (used by the Sudoku easy-first join)."""
    trace: Trace | None
    """The matching trace (None when missing or when its prompt hash disagrees)."""


@dataclass
class TaskInput:
    """One task of one row, merged over the row's runs."""

    task: str
    """lm-eval task name."""
    metric: str
    """Primary metric."""
    filter: str
    """Primary filter."""
    gens: dict[tuple[int, int], Gen] = field(default_factory=dict)
    """Generations by (doc_id, repeat)."""
    reported: list[tuple[float, float | None]] = field(default_factory=list)
    """(value, stderr) that lm-eval reported, one per run containing the task."""
    n_original: int = 0
    """Documents in the full task."""
    n_effective: int = 0
    """Documents lm-eval evaluated (max over runs)."""
    task_hash: str = ""
    """lm-eval's task hash."""
    has_samples: bool = False
    """Whether any run logged samples for the task."""


@dataclass
class RowInput:
    """A leaderboard row before aggregation."""

    row_id: str
    """Stable identifier."""
    model: str
    """Model name."""
    backend: str
    """lm-eval backend."""
    family: str
    """Diffusion family preset."""
    params: int | None
    """Parameter count if recorded."""
    setting: dict[str, Any]
    """Decoding setting."""
    model_type: str
    """``diffusion``, ``AR`` or ``unknown`` (``MODEL_TYPES``)."""
    source: str = ""
    """The model as the runs name it (may be a local path: never published unless asked)."""
    tasks: dict[str, TaskInput] = field(default_factory=dict)
    """Tasks by name."""
    runs: list[Run] = field(default_factory=list)
    """Merged runs."""
    warnings: list[str] = field(default_factory=list)
    """Row-specific problems."""


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)) and math.isfinite(value):
        return float(value)
    return None


def _params(cfg: dict[str, Any]) -> int | None:
    """Parameter count from lm-eval's ``hf`` model info or our adapter's."""
    for key in ("model_num_parameters", "mdlm_num_parameters"):
        if (value := _number(cfg.get(key))) is not None and value > 0:
            return int(value)
    return None


def display_name(source: str) -> str:
    """What the site calls a model: a hub id as it is, a local folder by its own name.

    A hub id is ``org/name`` (or a bare name); anything else that looks like a path (absolute,
    ``./``, ``~``, or several folders deep) is a local model whose full path must not be published.
    """
    text = source.strip().rstrip("/\\")
    local = text.startswith(("/", ".", "~", "\\")) or re.match(r"^[A-Za-z]:[\\/]", text) or text.count("/") > 1
    if not local:
        return text
    return re.split(r"[\\/]", text)[-1] or text


def model_source(run: Run) -> str:
    """The model as the run names it (a hub id or a path on the machine that ran it)."""
    pretrained = run.config.get("mdlm_pretrained")  # our adapter's; lm-eval invents a name without pretrained=
    if isinstance(pretrained, str) and pretrained:
        return pretrained
    name = run.results.get("model_name")
    if isinstance(name, str) and name:
        return name
    args = run.config.get("model_args")
    if isinstance(args, dict) and args.get("pretrained"):
        return str(args["pretrained"])
    if isinstance(args, str) and (m := re.search(r"pretrained=([^,]+)", args)):
        return m.group(1)
    return run.path.parent.name


def applied_decoding(run: Run) -> dict[str, Any]:
    """The decoding settings the traces say were applied (a key that differs between tasks reads ``per task``).

    Empty without traces. These, not the command's gen_kwargs, define a traced row: a ``temperature``
    given without ``do_sample`` decodes greedily, and gen_kwargs override the run-wide ``mdlm_decoding``.
    """
    seen = list(run.trace_settings.values())
    if not seen:
        return {}
    keys = sorted({k for s in seen for k in s})
    first = seen[0]
    return {k: first.get(k) if all(s.get(k) == first.get(k) for s in seen) else "per task" for k in keys}


def setting_of(run: Run) -> dict[str, Any]:
    """The decoding setting that, with the model, defines a row."""
    cfg = run.config
    setting: dict[str, Any] = {}
    applied = applied_decoding(run)
    if applied:
        setting["decoding"] = applied
    elif isinstance(cfg.get("mdlm_decoding"), dict) and cfg["mdlm_decoding"]:
        setting["decoding"] = cfg["mdlm_decoding"]
    if cfg.get("gen_kwargs") and not applied:
        setting["gen_kwargs"] = cfg["gen_kwargs"]
    for key in ("chat_template_sha", "system_instruction_sha", "fewshot_as_multiturn"):
        if run.results.get(key):
            setting[key] = run.results[key]
    return setting


def setting_label(setting: dict[str, Any]) -> str:
    """Short ``key=value`` form of a setting (``default`` when empty)."""
    parts: list[str] = []
    setting = dict(setting)
    if isinstance(setting.get("decoding"), dict) and isinstance(setting.get("gen_kwargs"), dict):
        # gen_kwargs override the run-wide decoding settings per request: show each key once.
        setting["decoding"] = _merged_decoding(setting)
        del setting["gen_kwargs"]
    for key, value in sorted(setting.items()):
        if isinstance(value, dict):
            parts.extend(f"{k}={v}" for k, v in sorted(value.items()) if v is not None)  # unset options
        elif key.endswith("_sha"):
            parts.append(f"{key[:-4]}={str(value)[:8]}")
        else:
            parts.append(f"{key}={value}")
    return ", ".join(parts) or "default"


def _merged_decoding(setting: dict[str, Any]) -> dict[str, Any]:
    """The run-wide decoding settings with the per-request gen_kwargs applied over them."""
    decoding = setting.get("decoding") if isinstance(setting.get("decoding"), dict) else {}
    gen_kwargs = setting.get("gen_kwargs") if isinstance(setting.get("gen_kwargs"), dict) else {}
    return {**decoding, **gen_kwargs}


def distinguishing_labels(rows: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """Per (model, setting), the short label a table can show.

    That is ``schedule`` and the decoding keys whose values differ between this model's rows; rows without
    decoding settings keep ``setting_label``.
    """
    # Only rows with the adapter's decoding settings (mdlm) are shortened; gen_kwargs alone (hf) stay whole.
    decodings = [_merged_decoding(setting) if isinstance(setting.get("decoding"), dict) else {} for _, setting in rows]
    labels = []
    for (model, setting), decoding in zip(rows, decodings, strict=True):
        if not decoding:
            labels.append(setting_label(setting))
            continue
        peers = [d for (m, _), d in zip(rows, decodings, strict=True) if m == model and d]
        keys = [k for k in sorted(decoding) if k == "schedule" or any(p.get(k) != decoding[k] for p in peers)]
        keys.sort(key=lambda k: k != "schedule")  # the strategy first
        labels.append(", ".join(f"{k}={decoding[k]}" for k in keys if decoding[k] is not None) or "default")
    return labels


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:48] or "model"


def domain_map(runs: list[Run]) -> dict[str, str]:
    """Task -> domain over all runs.

    The domain is a known domain group among the task's ancestors (``group_subtasks``), else the domain
    group the project's own group YAMLs put the task (or an ancestor) in (a task run on its own, outside
    its group, keeps its domain: ``mdlm_sudoku4_easy`` is synthetic), else the ancestor just below the
    outermost group, else the group itself; ``other`` otherwise.
    """
    shipped = shipped_parents()
    out: dict[str, str] = {}
    for run in runs:
        groups = run.results.get("group_subtasks") or {}
        parent = {child: g for g, children in groups.items() for child in (children or [])}
        for task in run.results.get("configs") or {}:
            chain, node = [], task
            while node in parent and parent[node] not in chain:
                node = parent[node]
                chain.append(node)
            known = [g for g in chain if g in KNOWN_DOMAINS] or _shipped_domain(task, chain, shipped)
            domain = known[-1] if known else (chain[-2] if len(chain) >= 2 else chain[0] if chain else "other")
            if out.get(task, "other") == "other":
                out[task] = domain
    return out


@functools.cache
def shipped_parents() -> dict[str, str]:
    """Child -> group of every group YAML shipped in ``task_yamls`` (empty when the package is absent)."""
    try:
        import task_yamls
    except ImportError:  # pragma: no cover - the leaderboard also runs without the task package
        return {}
    parents: dict[str, str] = {}
    for path in sorted(Path(task_yamls.__file__).parent.rglob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        group = re.search(r"^group:\s*(\S+)\s*$", text, re.MULTILINE)
        listed = re.search(r"^task:\s*\n((?:[ \t]+-[ \t]*\S+[ \t]*\n?)+)", text, re.MULTILINE)
        if group and listed:
            for child in re.findall(r"-[ \t]*(\S+)", listed.group(1)):
                parents.setdefault(child, group.group(1))
    return parents


def _shipped_domain(task: str, chain: list[str], parents: dict[str, str]) -> list[str]:
    for node in (task, *chain):
        seen = {node}
        while node in parents and parents[node] not in seen:
            node = parents[node]
            seen.add(node)
            if node in KNOWN_DOMAINS:
                return [node]
    return []


def _primary(run: Run, task: str) -> tuple[str, str]:
    cfg = (run.results.get("configs") or {}).get(task) or {}
    metrics = cfg.get("metric_list") or []
    metric = str(metrics[0].get("metric")) if metrics and isinstance(metrics[0], dict) else ""
    filters = cfg.get("filter_list") or []
    filt = str(filters[0].get("name", "none")) if filters and isinstance(filters[0], dict) else "none"
    if not metric:  # fall back to the first reported "metric,filter" key
        keys = [k for k in (run.results["results"].get(task) or {}) if "," in k and "_stderr" not in k]
        if keys:
            metric, filt = keys[0].split(",", 1)
    return metric, filt


def _gens(run: Run, task: str, metric: str, filt: str, problems: list[str]) -> dict[tuple[int, int], Gen]:
    gens: dict[tuple[int, int], Gen] = {}
    missing = mismatched = 0
    for row in run.samples.get(task, []):
        if row.get("filter", filt) != filt:
            continue
        resps = row.get("resps") or [[""]]
        reps = resps[0] if isinstance(resps[0], list) else [resps[0]]
        filtered = (row.get("filtered_resps") or [""])[0]
        for rep, text in enumerate(reps):
            key = (task, int(row["doc_id"]), rep)
            trace = run.traces.get(key)
            if trace is not None and trace.prompt_hash != row.get("prompt_hash"):
                mismatched += 1
                trace = None
            elif trace is None:
                missing += 1
            gens[(int(row["doc_id"]), rep)] = Gen(
                doc_id=int(row["doc_id"]),
                repeat=rep,
                prompt_hash=str(row.get("prompt_hash", "")),
                score=_number(row.get(metric)),
                response=str(text),
                target=str(row.get("target", "")),
                filtered=filtered if isinstance(filtered, str) else json.dumps(filtered),
                prompt=row.get("prompt", ""),
                doc=row.get("doc"),
                trace=trace,
            )
    if run.traces and missing:
        problems.append(f"{run.label}: {task}: {missing} generation(s) without a trace")
    if mismatched:
        problems.append(f"{run.label}: {task}: {mismatched} trace(s) with a different prompt_hash, ignored")
    if run.samples.get(task) and not gens:
        problems.append(f"{run.label}: {task}: no sample rows for filter {filt!r}")
    return gens


def _merge_task(row: RowInput, run: Run, task: str) -> None:
    metric, filt = _primary(run, task)
    entry = row.tasks.setdefault(task, TaskInput(task=task, metric=metric, filter=filt))
    res = run.results["results"].get(task) or {}
    value = _number(res.get(f"{metric},{filt}"))
    if value is not None:
        entry.reported.append((value, _number(res.get(f"{metric}_stderr,{filt}"))))
    counts = (run.results.get("n-samples") or {}).get(task) or {}
    entry.n_original = max(entry.n_original, int(counts.get("original", 0) or 0))
    entry.n_effective = max(entry.n_effective, int(counts.get("effective", 0) or 0))
    entry.task_hash = entry.task_hash or str((run.results.get("task_hashes") or {}).get(task, ""))
    if task not in run.samples:
        return
    entry.has_samples = True
    conflicts = 0
    for key, gen in _gens(run, task, metric, filt, row.warnings).items():
        old = entry.gens.get(key)
        if old is None or (old.trace is None and gen.trace is not None and old.response == gen.response):
            entry.gens[key] = gen
        elif (old.response, old.score) != (gen.response, gen.score):
            conflicts += 1
    if conflicts:
        row.warnings.append(
            f"conflict: {task}: {conflicts} sample(s) answered differently by {run.label}; kept the first run's answers"
        )


def _model_type(backend: str, run: Run) -> str:
    if backend == "mdlm" or "mdlm_family" in run.config or run.traces:
        return "diffusion"
    return "AR" if backend in AR_BACKENDS else "unknown"


def build_rows(runs: list[Run], names: dict[str, str] | None = None) -> list[RowInput]:
    """Group runs into rows (model, backend, setting) and join each task's samples with traces.

    Args:
        runs: The runs read.
        names: Display names by model source (hub id or path as the run records it) or by default display name.
    """
    names = names or {}
    rows: dict[str, RowInput] = {}
    for run in runs:
        cfg = run.config
        backend = str(cfg.get("model", ""))
        source = model_source(run)
        model = names.get(source) or names.get(display_name(source)) or display_name(source)
        setting = setting_of(run)
        digest = hashlib.sha256(json.dumps([source, backend, setting], sort_keys=True, default=str).encode())
        row_id = f"{_slug(model)}--{digest.hexdigest()[:8]}"
        kind = _model_type(backend, run)
        row = rows.setdefault(
            row_id,
            RowInput(
                row_id=row_id,
                model=model,
                backend=backend,
                family=str(cfg.get("mdlm_family") or ""),
                params=_params(cfg),
                setting=setting,
                model_type=kind,
                source=source,
            ),
        )
        if kind == "diffusion" and row.model_type != "diffusion":
            row.model_type = "diffusion"
        row.runs.append(run)
        row.warnings.extend(f"{run.label}: {w}" for w in run.warnings)
        if kind == "diffusion" and not run.traces:
            row.warnings.append(f"{run.label}: diffusion run without usable traces: AFP, TPF and tau unavailable")
        if kind == "unknown":
            row.warnings.append(
                f"{run.label}: backend {backend!r} is not known to decode left to right and the run has no "
                "traces: AFP, TPF and tau are n/a (not assumed to be 1)"
            )
        if not run.samples:
            row.warnings.append(f"{run.label}: results without samples: accuracy only (from lm-eval's results)")
        for task in sorted(run.results.get("configs") or run.results["results"]):
            if task in (run.results.get("group_subtasks") or {}):
                continue
            _merge_task(row, run, task)
    sources: dict[str, set[str]] = {}
    for row in rows.values():
        sources.setdefault(row.model, set()).add(row.source)
    for row in rows.values():
        if len(sources[row.model]) > 1:
            row.warnings.append(
                f"{len(sources[row.model])} different models are shown as {row.model!r} (local folders of one "
                "name?): tell them apart with --name or a names file"
            )
        if len(row.runs) > 1:
            row.warnings.append(
                f"{len(row.runs)} runs merged into this row (same model, backend and setting): "
                + ", ".join(r.label for r in row.runs)
            )
    return [rows[k] for k in sorted(rows)]
