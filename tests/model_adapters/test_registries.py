"""Registries and declarations: families and strategies say what they need, in their registration only."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import torch

import model_adapters
from model_adapters import (
    CONFIDENCE_RULES,
    FAMILIES,
    TRANSFER_SCHEDULES,
    DecodingSettings,
    FamilyPreset,
    StepPlan,
    confidence_rule,
    get_family,
    register_family,
    transfer_schedule,
)
from model_adapters._engine import TraceRecorder, denoise
from model_adapters._settings import CACHE_ATTENTION, CACHE_MODES, EARLY_STOPS
from tests.model_adapters._handmade import SPECIAL, prefers_token_1, table_logits

ROOT = Path(__file__).resolve().parents[2]
PROMPT = torch.tensor([[3, 4]])


@pytest.fixture
def registries() -> Iterator[None]:
    """Let a test register strategies and families, and forget them afterwards."""
    saved = [(registry, dict(registry)) for registry in (CONFIDENCE_RULES, TRANSFER_SCHEDULES, FAMILIES)]
    yield
    for registry, content in saved:
        registry.clear()
        registry.update(content)


# ------------------------------------------------------------------ duplicates and family validation
def test_registries_refuse_a_name_already_taken() -> None:
    with pytest.raises(ValueError, match="already registered"):
        confidence_rule("low_confidence")(lambda probs, x0, uniform: uniform())
    with pytest.raises(ValueError, match="already registered"):
        transfer_schedule("fixed", kind="budget")(lambda plan: plan.n_eligible)
    with pytest.raises(ValueError, match="already registered"):
        register_family(FamilyPreset(name="llada"))
    assert CONFIDENCE_RULES["low_confidence"].description.startswith("LLaDA's rule")


@pytest.mark.parametrize(
    ("defaults", "attention", "message"),
    [
        ({"treshold": 0.9}, "bidirectional", "unknown decoding setting.*treshold"),
        ({"schedule": "threshold"}, "bidirectional", "needs threshold"),
        ({"schedule": "origin"}, "bidirectional", "needs remasking='random'"),
        ({"cache": "block_kv"}, "bidirectional", "exact only for block-causal"),
        ({"threshold": 1.5}, "bidirectional", r"threshold must be in \(0, 1\]"),
        ({}, "causal", "unknown attention"),
    ],
)
def test_a_family_with_invalid_defaults_fails_when_it_registers(registries, defaults, attention, message) -> None:
    with pytest.raises(ValueError, match=message):
        register_family(FamilyPreset(name="broken", attention=attention, defaults=defaults))
    assert "broken" not in FAMILIES


def test_every_builtin_family_passes_its_own_validation() -> None:
    for preset in FAMILIES.values():
        settings = DecodingSettings.from_mapping(preset.defaults)
        settings.validate()  # what register_family checked, repeated on the registered objects


# ------------------------------------------------------------------ strategies describe themselves
def _decode(table: list[list[float]], generators: list[torch.Generator] | None = None, **values: object):
    settings = DecodingSettings.from_mapping(values).resolve(len(table))
    recorder = TraceRecorder(1, len(table), torch.device("cpu"))
    out = denoise(table_logits(table, PROMPT.shape[1]), PROMPT, settings, SPECIAL, generators, recorder)
    return settings, out, recorder.first_step[0].tolist()


def test_a_noise_drawing_rule_is_one_registration(registries) -> None:
    """No list elsewhere: ``needs_noise`` comes from the declaration, and the rule gets the row's own stream."""
    drawn: list[torch.Tensor] = []

    @confidence_rule("coin", draws_noise=True)
    def coin(probs: torch.Tensor, x0: torch.Tensor, uniform) -> torch.Tensor:  # noqa: ANN001
        drawn.append(uniform())
        return drawn[-1]

    table = prefers_token_1([0.9, 0.8, 0.7, 0.6])
    settings = DecodingSettings(remasking="coin", steps=4).resolve(4)
    assert settings.needs_noise and not DecodingSettings().resolve(4).needs_noise
    with pytest.raises(ValueError, match="one generator per row"):
        _decode(table, remasking="coin", steps=4)
    _, _, first = _decode(table, [torch.Generator().manual_seed(7)], remasking="coin", steps=4)
    # Fixed schedule, one token a step: positions commit in the order of the first draw's values (masked ones).
    expected_order = torch.argsort(drawn[0][0], descending=True, stable=True).tolist()
    assert first[expected_order[0]] == 0
    assert sorted(first) == [0, 1, 2, 3]


def test_a_schedule_parameter_is_declared_checked_and_handed_over(registries) -> None:
    seen: list[dict[str, object]] = []

    @transfer_schedule("top_k_of_factor", kind="threshold", params=("factor",))
    def top_k(plan: StepPlan) -> torch.Tensor:
        seen.append(dict(plan.params))
        return torch.full_like(plan.n_eligible, int(plan.params["factor"]))

    table = prefers_token_1([0.9, 0.8, 0.7, 0.6, 0.5])
    with pytest.raises(ValueError, match="schedule='top_k_of_factor' needs factor"):
        _decode(table, schedule="top_k_of_factor")
    _, out, first = _decode(table, schedule="top_k_of_factor", factor=2.0)
    assert seen[0] == {"factor": 2.0}
    # Two a step, most confident first, at least one at the end; a threshold kind runs until the block is done.
    assert first == [0, 0, 1, 1, 2] and out.nfe.tolist() == [3]


def test_a_parameter_that_is_no_setting_is_refused(registries) -> None:
    transfer_schedule("uses_gamma", kind="threshold", params=("gamma",))(lambda plan: plan.n_eligible)
    with pytest.raises(ValueError, match="'gamma', which is no decoding setting"):
        DecodingSettings(schedule="uses_gamma").validate()


def test_a_rule_parameter_reaches_the_rule_as_a_keyword(registries) -> None:
    @confidence_rule("shifted_confidence", params=("threshold",))
    def shifted(probs: torch.Tensor, x0: torch.Tensor, uniform, threshold: float) -> torch.Tensor:  # noqa: ANN001
        return probs.gather(-1, x0.unsqueeze(-1)).squeeze(-1) - threshold

    with pytest.raises(ValueError, match="remasking='shifted_confidence' needs threshold"):
        DecodingSettings(remasking="shifted_confidence").validate()
    table = prefers_token_1([0.6, 0.9, 0.7])
    # With threshold 0.65 and schedule=threshold: 0.9 - 0.65 = 0.25 < 0.65, so one a step, most confident first.
    _, _, first = _decode(table, remasking="shifted_confidence", schedule="threshold", threshold=0.65)
    assert first == [2, 0, 1]


def test_the_kind_decides_the_step_budget(registries) -> None:
    transfer_schedule("two_each", kind="budget")(lambda plan: torch.full_like(plan.n_eligible, 2))
    with pytest.raises(ValueError, match="multiple of the number of blocks"):
        DecodingSettings(schedule="two_each", steps=3, block_length=2).resolve(4)
    DecodingSettings(schedule="threshold", threshold=0.5, steps=3, block_length=2).resolve(4)  # no budget to split


# ------------------------------------------------------------------ mask id precedence
def test_the_family_mask_id_wins_over_the_tokenizer_mask_token() -> None:
    from tests.tiny_models import char_tokenizer

    tokenizer = char_tokenizer("<|mdm_mask|>", "<|endoftext|>", ["<|eot_id|>"])  # declares <|mdm_mask|> = id 2
    assert tokenizer.mask_token_id == 2
    assert get_family("llada").mask_id(tokenizer) == 2  # the family's mask text, found in the vocabulary
    assert get_family("illada").mask_id(tokenizer) == 5  # iLLaDA masks with id 5 whatever the tokenizer says
    assert get_family("modernbert").mask_id(tokenizer) == 2  # no word from the family: the tokenizer's own
    other = replace(get_family("llada"), mask_token="<|absent|>", mask_token_id=126336)  # id beyond the vocabulary
    assert other.mask_id(tokenizer) == 2
    named = replace(get_family("llada"), mask_token="<|eot_id|>", mask_token_id=5)
    assert named.mask_id(tokenizer) == tokenizer.convert_tokens_to_ids("<|eot_id|>")  # the text beats the id


# ------------------------------------------------------------------ one cache/attention rule
@pytest.mark.parametrize("attention", ["bidirectional", "block_causal"])
@pytest.mark.parametrize("cache", sorted(CACHE_MODES))
def test_settings_and_runner_apply_the_same_cache_rule(cache, attention) -> None:
    from model_adapters._runner import make_logits_fn

    settings = DecodingSettings(cache=cache)
    try:
        settings.validate_for(attention, 4)
        settings_error = None
    except ValueError as error:
        settings_error = str(error)
    assert (settings_error is None) == (attention in CACHE_ATTENTION[cache])
    if settings_error is not None:  # the runner refuses before it touches the (absent) model
        with pytest.raises(ValueError) as caught:
            make_logits_fn(None, torch.ones(1, 4), False, 2, attention, 4, cache)
        assert str(caught.value) == settings_error


# ------------------------------------------------------------------ public API and import structure
def test_the_public_api_resolves_and_importing_it_stays_cheap() -> None:
    for name in model_adapters.__all__:
        assert getattr(model_adapters, name) is not None
    code = ("import sys, model_adapters\n"
            "print(sorted(m for m in sys.modules if m.startswith('model_adapters.') or m == 'torch'))\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    loaded = set(ast.literal_eval(run.stdout))  # the start-up hook (_plugin) is there in every process anyway
    assert loaded == {"model_adapters._plugin", "model_adapters._trace"}


def import_graph() -> dict[str, set[str]]:
    """Module -> package modules it imports, at module level or inside functions (TYPE_CHECKING blocks excluded).

    Importing ``a.b.c`` runs ``a/b/__init__.py`` first, so that package counts as imported too, unless it
    is the importer's own package (a package's ``__init__`` importing its own submodules is no loop).
    """
    package = ROOT / "model_adapters"
    graph: dict[str, set[str]] = {}
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        is_package = parts[-1] == "__init__"
        own = {".".join(parts[:i]) for i in range(1, len(parts))}
        edges: set[str] = set()
        tree = ast.parse(path.read_text())
        skipped = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(
            node.test) for child in node.body for n in ast.walk(child)}
        for node in ast.walk(tree):
            if id(node) in skipped or not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            if isinstance(node, ast.ImportFrom) and node.module:
                names += [f"{node.module}.{a.name}" for a in node.names]  # ``from pkg import submodule``
            for name in names:
                pieces = name.split(".")
                for i in range(2, len(pieces) + 1):
                    target = ".".join(pieces[:i])
                    if target != module and (target not in own or is_package and target == module):
                        edges.add(target)
        graph[module] = edges
    return {m: {t for t in targets if t in graph} for m, targets in graph.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_package_has_no_import_circle() -> None:
    graph = import_graph()
    assert "model_adapters._loading" in graph["model_adapters._models._common"]  # the graph sees real edges
    assert "model_adapters._preset" in graph["model_adapters.families.llada"]
    assert _cycles(graph) == []
    assert _cycles({**graph, "model_adapters._preset": graph["model_adapters._preset"] | {
        "model_adapters.families"}}) != []  # the lazy lookup _preset once made would be caught


# ------------------------------------------------------------------ README against the code
def _table(after: str) -> list[list[str]]:
    """The rows (cells) of the first Markdown table after the line starting with ``after``."""
    text = (ROOT / "README.md").read_text()
    lines = text[text.index(after):].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def _names(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


def test_readme_settings_table_matches_decoding_settings() -> None:
    rows = _table("Decoding settings (")
    listed = [name for row in rows for name in _names(row[0])]
    assert sorted(listed) == sorted(DecodingSettings.field_names()), "one README row per DecodingSettings field"
    values = {_names(row[0])[0]: _names(row[1]) for row in rows}
    assert sorted(values["remasking"]) == sorted(CONFIDENCE_RULES)
    assert sorted(values["schedule"]) == sorted(TRANSFER_SCHEDULES)
    assert sorted(values["cache"]) == sorted(CACHE_MODES)
    assert sorted(values["early_stop"]) == sorted(EARLY_STOPS)


def test_readme_strategy_tables_match_the_declarations() -> None:
    rules = {_names(row[0])[0]: (row[1], tuple(_names(row[2]))) for row in _table("Confidence rules (")}
    assert rules == {name: ("yes" if r.draws_noise else "no", r.params) for name, r in CONFIDENCE_RULES.items()}
    schedules = {_names(row[0])[0]: (row[1], tuple(_names(row[2]))) for row in _table("Transfer schedules (")}
    assert schedules == {name: (s.kind, s.params) for name, s in TRANSFER_SCHEDULES.items()}
    origin = next(row for row in _table("Transfer schedules (") if row[0] == "`origin`")
    assert f"remasking={TRANSFER_SCHEDULES['origin'].remasking}" in origin[3]


def test_readme_families_table_lists_every_builtin_family() -> None:
    import model_adapters.families as families

    builtin = {
        value.name
        for module in vars(families).values() if getattr(module, "__name__", "").startswith(families.__name__ + ".")
        for value in vars(module).values() if isinstance(value, FamilyPreset)
    }
    listed = {name for row in _table("Detected from `config.json`") for name in _names(row[0])}
    assert listed == builtin
    for name in builtin:  # the "own sampler" wording belongs to exactly the families with their own generate
        row = next(r for r in _table("Detected from `config.json`") if f"`{name}`" in r[0])
        assert ("own sampler" in row[3]) == (FAMILIES[name].generate is not None), name
