"""Proposed patches, applied to copies of the current modules so their effect can be measured.

Each patch is a list of (old, new) text replacements on one module's source. ``patched_module`` builds
the patched copy under a new name (the tree's modules are never touched); ``diff`` prints the patch.
A replacement whose ``old`` text is no longer in the file is reported, not silently skipped.
"""

from __future__ import annotations

import difflib
import importlib
import sys
import types
from pathlib import Path
from typing import Any

import _common as c  # noqa: F401  (puts the repository root on sys.path)

PATCHES: dict[str, tuple[str, list[tuple[str, str]]]] = {
    # One pass over the logits per reduction, no bool temporaries: amax/amin propagate NaN, and +/-inf
    # shows in one of them, so this is exactly "all logits finite".
    "engine_finite": ("model_adapters._engine", [
        ("torch.isfinite(logits).flatten(1).all(-1)", "_all_finite(logits)"),
        (
            "\n\ndef _propose(",
            "\n\ndef _all_finite(logits: torch.Tensor) -> torch.Tensor:\n"
            '    """[B] whether every logit of a row is finite, in two plain reductions.\n'
            "\n"
            "    amax/amin propagate NaN and expose +inf/-inf, so this equals ``isfinite().flatten(1).all(-1)``\n"
            "    without its [B, N, V] boolean temporaries (about 50x cheaper on CPU).\n"
            '    """\n'
            "    dims = tuple(range(1, logits.dim()))\n"
            "    return logits.amax(dim=dims).isfinite() & logits.amin(dim=dims).isfinite()\n"
            "\n\ndef _propose(",
        ),
    ]),
    # transformers' decoder models default to use_cache=True and fill a DynamicCache on every uncached call,
    # which nothing reads.
    "runner_no_cache": ("model_adapters._runner", [
        (
            '    if "position_ids" in params:\n        extra["position_ids"] = position_ids\n',
            '    if "position_ids" in params:\n        extra["position_ids"] = position_ids\n'
            '    if "use_cache" in params:  # every step re-reads the whole canvas: a KV cache would be dead weight\n'
            '        extra["use_cache"] = False\n',
        ),
        (
            "position_ids=position_ids, logits_to_keep=keep).logits",
            "position_ids=position_ids, logits_to_keep=keep,\n"
            "                       use_cache=False).logits",
        ),
    ]),
    # Each token id's piece decoded once per adapter instead of one tokenizer call per generated token.
    "adapter_pieces": ("model_adapters._adapter", [
        (
            "            pieces=self.tokenizer.batch_decode([[t] for t in ids[:n_tokens]]),\n",
            "            pieces=[self._piece(t) for t in ids[:n_tokens]],\n",
        ),
        (
            "    def _generator(self, item: _Request, settings: DecodingSettings) -> torch.Generator:\n",
            "    def _piece(self, token: int) -> str:\n"
            '        """Text of one token id for the sample viewer, decoded once per adapter."""\n'
            "        pieces = self.__dict__.setdefault(\"_pieces\", {})  # id -> text; the vocabulary bounds it\n"
            "        if token not in pieces:\n"
            "            pieces[token] = self.tokenizer.decode([token])\n"
            "        return pieces[token]\n"
            "\n"
            "    def _generator(self, item: _Request, settings: DecodingSettings) -> torch.Generator:\n",
        ),
    ]),
    # fsync costs ~4 ms per batch on this disk (flush: 0.05 ms), 5-10% of a batch-1 embedded-model sample on an
    # idle machine. A flushed line survives the process being killed; only an OS crash can lose the last second.
    "trace_fsync": ("model_adapters._trace", [
        ("import os\n", "import os\nimport time\n"),
        (
            "        self._file: io.TextIOBase | None = None\n",
            "        self._file: io.TextIOBase | None = None\n"
            "        self._synced = float(\"-inf\")\n",
        ),
        (
            "        self._file.flush()\n        os.fsync(self._file.fileno())\n",
            "        self._file.flush()  # a killed process loses nothing flushed; fsync only guards OS crashes\n"
            "        if time.monotonic() - self._synced >= FSYNC_INTERVAL_S:\n"
            "            os.fsync(self._file.fileno())\n"
            "            self._synced = time.monotonic()\n",
        ),
        (
            "        if self._file is not None:\n            self._file.close()\n",
            "        if self._file is not None:\n"
            "            self._file.flush()\n"
            "            os.fsync(self._file.fileno())\n"
            "            self._file.close()\n",
        ),
        (
            '"""Version tag written into every row; readers reject rows of another major schema."""\n',
            '"""Version tag written into every row; readers reject rows of another major schema."""\n'
            "\nFSYNC_INTERVAL_S = 1.0\n"
            '"""Trace rows are flushed every batch and fsynced at most this often (and on close)."""\n',
        ),
    ]),
    "cache_step_reuse": ("model_adapters._cache", []),  # filled below (long text, kept unindented)
}


# block_kv / prefix / dual caches: O(context) work per step. transformers' DynamicLayer.update concatenates the
# whole cache with the new keys at every call (an O(context) copy per layer per step that the crop after the
# step throws away), and the step's [B, 1, q, kv] mask is rebuilt every step although a window's later steps
# feed the same positions against the same slots. Both go: a buffer with spare room, and the mask memoised per
# window. Outputs are bit-identical (asserted in bench_kv_cache.py).
PATCHES["cache_step_reuse"][1].extend([('''        self.base = 0
        """Cache length that persists between the steps of a window (later slots are dropped after each call)."""
''', '''        self.base = 0
        """Cache length that persists between the steps of a window (later slots are dropped after each call)."""
        self._step: tuple[tuple[int, int, int], tuple[torch.Tensor, torch.Tensor, torch.Tensor]] | None = None
        """Inputs of the last call keyed by (a, b, cached slots): a window's later steps reuse its mask."""
'''), ('''        if self.window != (start, end):
            self.window = (start, end)
''', '''        if self.window != (start, end):
            self.window, self._step = (start, end), None
'''), ('''        q_pos = torch.arange(a, b, device=canvas.device)
        kv_pos = torch.cat([self.slots, q_pos])
        kv_valid = torch.cat([self.valid, torch.ones_like(q_pos, dtype=torch.bool)])
        mask = additive_mask(self.real, q_pos, kv_pos, kv_valid, self.blocks, self.model.dtype)
        from transformers import DynamicCache

        if self.cache is None:
            self.cache = DynamicCache(config=self.model.config)
''', '''        # The slots kept between a window's steps do not change until its next refresh, so every step after the
        # first feeds the same positions against the same keys: build their [B, 1, q, kv] mask once per window.
        key = (a, b, len(self.slots))
        if self._step is not None and self._step[0] == key:
            kv_pos, kv_valid, mask = self._step[1]
        else:
            q_pos = torch.arange(a, b, device=canvas.device)
            kv_pos = torch.cat([self.slots, q_pos])
            kv_valid = torch.cat([self.valid, torch.ones_like(q_pos, dtype=torch.bool)])
            mask = additive_mask(self.real, q_pos, kv_pos, kv_valid, self.blocks, self.model.dtype)
            self._step = (key, (kv_pos, kv_valid, mask))
        if self.cache is None:
            self.cache = _growing_cache(self.model.config)
'''), ('''        self.slots, self.valid = kv_pos, kv_valid
        return out.logits
''', '''        self.slots, self.valid = kv_pos, kv_valid
        return out.logits


def _growing_cache(config: Any) -> Any:
    """A ``DynamicCache`` whose full-attention layers write new keys into spare room instead of concatenating.

    ``DynamicLayer.update`` copies the whole cache into a new tensor at every call (``torch.cat``), an
    O(context) copy per layer per step that the crop after each step throws away again. Here a call writes
    only its own keys into a buffer grown geometrically, and ``crop`` (inherited) just shortens the views.
    """
    from transformers import DynamicCache
    from transformers.cache_utils import DynamicLayer

    class GrowingLayer(DynamicLayer):
        """``DynamicLayer`` over a buffer with spare room; ``keys``/``values`` are views of its first slots."""

        def update(self, key_states: torch.Tensor, value_states: torch.Tensor, *args: Any, **kwargs: Any) -> Any:
            if not self.is_initialized:
                self.lazy_initialization(key_states, value_states)
            used = self.keys.shape[-2] if self.keys.dim() == 4 else 0
            need = used + key_states.shape[-2]
            buffer = getattr(self, "buffer", None)
            if buffer is None or need > buffer[0].shape[-2]:
                room = max(need, 2 * (buffer[0].shape[-2] if buffer is not None else 0))
                buffer = tuple(s.new_empty(*s.shape[:-2], room, s.shape[-1]) for s in (key_states, value_states))
                if used:
                    buffer[0][..., :used, :] = self.keys
                    buffer[1][..., :used, :] = self.values
                self.buffer = buffer
            buffer[0][..., used:need, :] = key_states
            buffer[1][..., used:need, :] = value_states
            self.keys, self.values = buffer[0][..., :need, :], buffer[1][..., :need, :]
            return self.keys, self.values

    cache = DynamicCache(config=config)
    cache.layers = [GrowingLayer() if type(layer) is DynamicLayer else layer for layer in cache.layers]
    return cache
''')])


def _source(module: str) -> tuple[Path, str]:
    mod = importlib.import_module(module)
    path = Path(mod.__file__)  # type: ignore[arg-type]
    return path, path.read_text()


def patched_source(name: str) -> tuple[str, str, list[str]]:
    """(module name, patched source, replacements that no longer apply) for patch ``name``."""
    module, edits = PATCHES[name]
    _, text = _source(module)
    missing = []
    for old, new in edits:
        if old not in text:
            missing.append(old.strip().splitlines()[0][:80])
            continue
        text = text.replace(old, new)
    return module, text, missing


def pending() -> list[str]:
    """Names of the patches that still apply to the tree (the others have landed)."""
    return [name for name in PATCHES if not patched_source(name)[2]]


def patched_module(name: str, extra_globals: dict[str, Any] | None = None) -> types.ModuleType:
    """Import a patched copy of the module ``name`` patches, as ``<module>__bench_<name>``.

    Raises:
        RuntimeError: when part of the patch no longer applies to the current source.
    """
    module, text, missing = patched_source(name)
    if missing:
        # The proposed patches have landed (in their own wording): 'patched' is now the current code.
        print(f"note: patch {name} no longer applies to {module} (landed); comparing the current code with itself")
        return importlib.import_module(module)
    copy = types.ModuleType(f"{module}__bench_{name}")
    copy.__file__ = f"<{module} patched with {name}>"
    sys.modules[copy.__name__] = copy
    exec(compile(text, copy.__file__, "exec"), copy.__dict__)  # noqa: S102  (our own tree's source)
    copy.__dict__.update(extra_globals or {})
    return copy


def diff(name: str) -> str:
    """Unified diff of patch ``name`` against the current file (paste-able into a review)."""
    module, text, missing = patched_source(name)
    path, original = _source(module)
    rel = path.relative_to(c.ROOT)
    out = "".join(difflib.unified_diff(original.splitlines(True), text.splitlines(True), f"a/{rel}", f"b/{rel}"))
    return out + (f"# NOT APPLIED (source changed): {missing}\n" if missing else "")


class Applied:
    """Context manager swapping the patched functions into the live modules the adapter calls."""

    def __init__(self, names: list[str]) -> None:
        self.names = names
        self._undo: list[tuple[Any, str, Any]] = []

    def _swap(self, owner: Any, attr: str, value: Any) -> None:
        self._undo.append((owner, attr, getattr(owner, attr, None)))
        setattr(owner, attr, value)

    def __enter__(self) -> Applied:
        import model_adapters._adapter as adapter

        targets = [adapter]  # modules whose global `denoise` / `make_logits_fn` the adapter calls
        if "adapter_pieces" in self.names:
            mod = patched_module("adapter_pieces")
            for attr in ("_record", "_piece"):
                if hasattr(mod.MDLMAdapter, attr):  # landed: _record was folded into _trace_records
                    self._swap(adapter.MDLMAdapter, attr, getattr(mod.MDLMAdapter, attr))
        if "trace_fsync" in self.names:
            import model_adapters._trace as trace

            mod = patched_module("trace_fsync")
            for attr in ("write_batch", "close"):
                self._swap(trace.TraceWriter, attr, getattr(mod.TraceWriter, attr))
            self._swap(trace.TraceWriter, "_synced", float("-inf"))  # writers built before the swap
            self._swap(mod, "FSYNC_INTERVAL_S", mod.FSYNC_INTERVAL_S)
        if "cache_step_reuse" in self.names:  # the runner imports cached_logits_fn from _cache at each call
            import model_adapters._cache as cache

            self._swap(cache, "cached_logits_fn", patched_module("cache_step_reuse").cached_logits_fn)
        for name, attr in (("engine_finite", "denoise"), ("runner_no_cache", "make_logits_fn")):
            if name in self.names:
                value = getattr(patched_module(name), attr)
                for target in targets:
                    self._swap(target, attr, value)
        return self

    def __exit__(self, *exc: object) -> None:
        for owner, attr, value in reversed(self._undo):
            if value is None:
                delattr(owner, attr)
            else:
                setattr(owner, attr, value)
        self._undo.clear()
