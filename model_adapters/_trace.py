"""Decoding traces: one record per generated sample, written as a JSONL side-car.

Torch-free on purpose: the leaderboard reads traces without importing any model code.
"""

from __future__ import annotations

import dataclasses
import gzip
import io
import json
import os
import threading
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

try:  # orjson parses trace files several times faster; the standard library is the fallback
    from orjson import loads as _loads
except ImportError:  # pragma: no cover
    _loads = json.loads

TRACE_SCHEMA = "mdlm-trace/1"
"""Version tag written into every row; readers reject rows of another major schema."""
FSYNC_INTERVAL_S = 1.0
"""Rows are flushed every batch (a killed process loses nothing flushed); fsync, which only guards
against an OS crash, runs at most this often (in a background thread) and on close."""


@dataclass(frozen=True)
class TraceRecord:
    """How one generation was decoded: the step at which each canvas position was finalized."""

    task_name: str
    """lm-eval task name of the request."""
    doc_id: int
    """lm-eval document id within the task."""
    repeat: int
    """Index of this generation among the repeats of the same (task, doc); 0 when not repeated."""
    prompt_hash: str
    """sha256 hex of the exact context string, as lm-eval's samples record it (``prompt_hash``)."""
    n_tokens: int
    """Generated tokens that count, those of the text lm-eval scores: up to and including the first EOS
    (the whole canvas if none), or fewer when a task's stop string cuts the answer earlier."""
    final_step: list[int]
    """Per canvas position: the last step whose forward pass changed the token there (-1: never decoded)."""
    first_step: list[int]
    """Per canvas position: the step at which a token was first committed there (-1: never decoded)."""
    n_changes: list[int]
    """Per canvas position: how many times its token was set (1 unless a sampler edits committed tokens)."""
    nfe: int
    """Number of model forward passes spent on this sample."""
    steps: int
    """Number of denoising steps run (steps after an early stop are not counted)."""
    gen_length: int
    """Length of the generation canvas in tokens."""
    stopped_early: bool = False
    """True when decoding ended before the step budget because the canvas had settled."""
    n_generated: int = -1
    """Tokens up to and including the first EOS (the whole canvas if none), before any stop string cuts
    the answer: ``n_tokens`` or more (-1: not recorded)."""
    token_ids: list[int] = field(default_factory=list)
    """The final canvas token ids (all positions, padding after EOS included)."""
    pieces: list[str] = field(default_factory=list)
    """Decoded text of each of the first ``n_tokens`` tokens, for the sample viewer."""
    settings: dict[str, Any] = field(default_factory=dict)
    """Decoding settings used (strategy, steps, block_length, threshold, temperature, ...)."""
    model: str = ""
    """Model identifier (``pretrained`` path or hub id)."""
    schema: str = TRACE_SCHEMA
    """Schema tag of this row."""

    def __post_init__(self) -> None:
        for name in ("task_name", "prompt_hash"):
            if not isinstance(getattr(self, name), str):
                raise ValueError(f"{name} must be a string")
        for name in ("doc_id", "repeat", "n_tokens", "n_generated", "nfe", "steps", "gen_length"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise ValueError(f"{name} must be an integer, got {value!r}")
        for name in ("final_step", "first_step", "n_changes"):
            values = getattr(self, name)
            # set(map(type, ...)) runs in C: readers validate hundreds of thousands of rows.
            if not isinstance(values, list) or not set(map(type, values)) <= _INT:
                raise ValueError(f"{name} must be a list of integers")
        lengths = {len(self.final_step), len(self.first_step), len(self.n_changes)}
        if lengths != {self.gen_length}:
            raise ValueError(f"trace arrays must all have gen_length={self.gen_length} entries, got {lengths}")
        if not 0 <= self.n_tokens <= self.gen_length:
            raise ValueError(f"n_tokens={self.n_tokens} outside [0, gen_length={self.gen_length}]")
        if self.n_generated != -1 and not self.n_tokens <= self.n_generated <= self.gen_length:
            raise ValueError(f"n_generated={self.n_generated} outside [n_tokens, gen_length={self.gen_length}]")

    @property
    def key(self) -> tuple[str, int, int]:
        """Join key with lm-eval's sample records."""
        return (self.task_name, self.doc_id, self.repeat)

    @property
    def edited(self) -> bool:
        """Whether any counted position changed after its first commit."""
        return any(c > 1 for c in self.n_changes[: self.n_tokens])

    def to_json(self) -> str:
        """One JSON line with sorted keys (deterministic output)."""
        # A shallow dict: ``dataclasses.asdict`` deep-copies every list first (~15x slower for a 256-token row).
        return json.dumps({name: getattr(self, name) for name in _FIELD_ORDER}, sort_keys=True, ensure_ascii=False)

    @classmethod
    def from_dict(cls, row: dict[str, Any]) -> TraceRecord:
        """Build a record from a parsed JSON row; unknown keys and other schemas are errors."""
        if not isinstance(row, dict):
            raise ValueError("a trace row must be a JSON object")
        schema = row.get("schema", TRACE_SCHEMA)
        if str(schema).split("/")[0] != TRACE_SCHEMA.split("/")[0] or schema != TRACE_SCHEMA:
            raise ValueError(f"unsupported trace schema {schema!r} (expected {TRACE_SCHEMA!r})")
        unknown = row.keys() - _FIELDS
        if unknown:
            raise ValueError(f"unknown trace fields: {sorted(unknown)}")
        return cls(**row)


_FIELD_ORDER = tuple(f.name for f in dataclasses.fields(TraceRecord))
_FIELDS = frozenset(_FIELD_ORDER)
_INT = {int}


class TraceWriter:
    """Appends trace rows to a JSONL file, flushed per batch so a killed process loses nothing written."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file: io.TextIOBase | None = None
        self._synced = float("-inf")
        self._syncer: threading.Thread | None = None

    def write_batch(self, records: list[TraceRecord]) -> None:
        """Write whole lines for a batch of records, then flush to disk."""
        if not records:
            return
        if self._file is None:
            self._file = _repair_then_open(self.path)
        self._file.write("".join(r.to_json() + "\n" for r in records))
        self._file.flush()
        idle = self._syncer is None or not self._syncer.is_alive()
        if idle and time.monotonic() - self._synced >= FSYNC_INTERVAL_S:
            # fsync blocks for milliseconds (more on a busy disk) and releases the GIL: off the decoding path.
            self._synced = time.monotonic()
            self._syncer = threading.Thread(target=os.fsync, args=(self._file.fileno(),), daemon=True)
            self._syncer.start()

    def close(self) -> None:
        """Close the file (idempotent)."""
        if self._file is not None:
            self._file.flush()
            if self._syncer is not None:
                self._syncer.join()  # never close the descriptor under a running fsync
            os.fsync(self._file.fileno())
            self._file.close()
            self._file = None


def _repair_then_open(path: Path) -> io.TextIOBase:
    """Open for append; a torn last line (from a killed run) is ended so new rows stay separate."""
    if path.suffix == ".gz":
        return gzip.open(path, "at", encoding="utf-8")  # type: ignore[return-value]
    if path.exists() and path.stat().st_size > 0:
        with open(path, "rb") as f:
            f.seek(-1, os.SEEK_END)
            torn = f.read(1) != b"\n"
        if torn:
            with open(path, "a", encoding="utf-8") as f:
                f.write("\n")
    return open(path, "a", encoding="utf-8")


def latest_by_key(records: Iterator[TraceRecord] | list[TraceRecord]) -> dict[tuple[str, int, int], TraceRecord]:
    """Index records by (task, doc_id, repeat); a key written twice (a resumed run) keeps its last row."""
    return {record.key: record for record in records}


def read_traces(path: str | os.PathLike[str]) -> Iterator[TraceRecord]:
    """Yield the valid rows of a trace file; torn or invalid lines are skipped with one warning.

    Args:
        path: A ``.jsonl`` or ``.jsonl.gz`` trace file.

    Yields:
        Each well-formed record in file order.
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    bad = 0
    try:
        with opener(path, "rt", encoding="utf-8") as f:  # type: ignore[operator]
            for line in f:
                line = line.strip()
                if not line:
                    continue
                try:
                    yield TraceRecord.from_dict(_loads(line))
                except (ValueError, TypeError):
                    bad += 1
    except (EOFError, gzip.BadGzipFile, OSError):  # truncated gzip stream: keep what was read
        bad += 1
    if bad:
        warnings.warn(f"{path}: skipped {bad} torn or invalid trace line(s)", stacklevel=2)
