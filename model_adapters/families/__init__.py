"""Family lookup over the built-in presets, plugins and user modules.

Importing this package registers the built-in presets (one file each, below). Families from outside the
package register in two ways, with no edit here:

* an installed distribution declares an entry point in the ``mdlm_bench.families`` group whose object is
  the module that calls ``register_family`` (loaded on the first lookup);
* ``--model_args family_module=<dotted.module or path/to/file.py>`` imports that module before the lookup.

Order matters only for model_type ties: built-ins (in the order below) win over plugins.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import sys
from pathlib import Path
from typing import Any

from model_adapters._preset import FAMILIES, FamilyPreset
from model_adapters.families import (  # noqa: F401  (registers the built-in presets)
    diffusion_gemma,
    dream,
    fast_dllm_v2,
    llada,
    llada2,
    llada_moe,
    modernbert,
    sdar,
)

ENTRY_POINT_GROUP = "mdlm_bench.families"
"""Entry-point group whose modules register families (``[project.entry-points."mdlm_bench.families"]``)."""

logger = logging.getLogger(__name__)
_plugins_loaded = False


def load_plugins() -> None:
    """Import every ``mdlm_bench.families`` entry point once; a broken plugin is logged, never fatal."""
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True
    from importlib.metadata import entry_points

    for entry in entry_points(group=ENTRY_POINT_GROUP):
        try:
            entry.load()
        except Exception as error:  # a third-party package must not stop every other family from working
            logger.warning("mdlm_bench family plugin %r (%s) failed to load: %s", entry.name, entry.value, error)


def import_family_module(spec: str) -> None:
    """Import a module that registers families: a dotted module name or the path of a ``.py`` file.

    Raises:
        ImportError: when the module cannot be found.
    """
    if not spec.endswith(".py"):
        importlib.import_module(spec)
        return
    path = Path(spec).expanduser().resolve()
    name = f"mdlm_bench_family_{path.stem}_{abs(hash(str(path))):x}"
    if name in sys.modules:  # registered already: running the file again would register its names twice
        return
    loader_spec = importlib.util.spec_from_file_location(name, path)
    if loader_spec is None or loader_spec.loader is None or not path.is_file():
        raise ImportError(f"family_module={spec!r}: no such Python file")
    module = importlib.util.module_from_spec(loader_spec)
    sys.modules[name] = module
    try:
        loader_spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise


def get_family(name: str) -> FamilyPreset:
    """Look a preset up by name, with the list of choices on error."""
    load_plugins()
    if name not in FAMILIES:
        raise ValueError(f"unknown family {name!r}; choose from {sorted(FAMILIES)}")
    return FAMILIES[name]


def detect_family(config: dict[str, Any]) -> FamilyPreset:
    """Pick the preset whose architectures (first) or model_type match the checkpoint config.

    Raises:
        ValueError: when no family matches (the message suggests ``family=``).
    """
    load_plugins()
    # Architectures first: some families share a model_type (LLaDA-MoE checkpoints have used "llada").
    found = [p for p in FAMILIES.values() if p.matches_architecture(config)]
    found = found or [p for p in FAMILIES.values() if p.matches(config)]
    if not found:
        raise ValueError(
            f"cannot tell the diffusion family of model_type={config.get('model_type')!r}, "
            f"architectures={config.get('architectures')}; pass family=<{'|'.join(sorted(FAMILIES))}>"
        )
    return found[0]
