"""Model adapters: run masked diffusion LMs through lm-eval with a decoding trace per sample.

The public API: the trace types, and the extension points for new families and decoding strategies
(``FamilyPreset`` + ``register_family``, ``confidence_rule``, ``transfer_schedule``, ``token_sampler``)
with the loaders a new family reuses. Importing this package is cheap (a start-up hook imports it in every process): the
extension API loads on first use, and torch and transformers only when a model is built.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from model_adapters._trace import TRACE_SCHEMA, TraceRecord, TraceWriter, latest_by_key, read_traces

if TYPE_CHECKING:
    from model_adapters._loading import LoadRequest, load_generic, read_config, torch_dtype
    from model_adapters._models import (
        load_dream,
        load_fast_dllm_v2,
        load_llada,
        load_llada2,
        load_llada_moe,
        load_sdar,
    )
    from model_adapters._models._common import from_checkpoint
    from model_adapters._preset import FAMILIES, FamilyPreset, register_family
    from model_adapters._sampling import SAMPLERS, token_sampler
    from model_adapters._settings import DecodingSettings
    from model_adapters._strategies import (
        CONFIDENCE_RULES,
        TRANSFER_SCHEDULES,
        StepPlan,
        confidence_rule,
        transfer_schedule,
    )
    from model_adapters.families import detect_family, get_family, import_family_module

# Public name -> private module defining it, imported on first attribute access (PEP 562).
_LAZY = {
    "FamilyPreset": "_preset", "register_family": "_preset", "FAMILIES": "_preset",
    "get_family": "families", "detect_family": "families", "import_family_module": "families",
    "LoadRequest": "_loading", "load_generic": "_loading", "read_config": "_loading", "torch_dtype": "_loading",
    "load_llada": "_models", "load_dream": "_models", "load_fast_dllm_v2": "_models", "load_sdar": "_models",
    "load_llada2": "_models", "load_llada_moe": "_models", "from_checkpoint": "_models._common",
    "confidence_rule": "_strategies", "transfer_schedule": "_strategies", "StepPlan": "_strategies",
    "CONFIDENCE_RULES": "_strategies", "TRANSFER_SCHEDULES": "_strategies",
    "DecodingSettings": "_settings", "token_sampler": "_sampling", "SAMPLERS": "_sampling",
}

__all__ = [
    "TRACE_SCHEMA",
    "TraceRecord",
    "TraceWriter",
    "latest_by_key",
    "read_traces",
    "CONFIDENCE_RULES",
    "DecodingSettings",
    "FAMILIES",
    "FamilyPreset",
    "LoadRequest",
    "SAMPLERS",
    "StepPlan",
    "TRANSFER_SCHEDULES",
    "confidence_rule",
    "detect_family",
    "from_checkpoint",
    "get_family",
    "import_family_module",
    "load_dream",
    "load_fast_dllm_v2",
    "load_generic",
    "load_llada",
    "load_llada2",
    "load_llada_moe",
    "load_sdar",
    "read_config",
    "register_family",
    "token_sampler",
    "torch_dtype",
    "transfer_schedule",
]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'model_adapters' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"model_adapters.{_LAZY[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
