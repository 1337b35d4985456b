"""Where the trace side-car goes: next to the results file lm-eval will write."""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

# Flags that do not change what is generated: a resumed run (same command plus --use_cache) must
# find the trace file of the run it resumes.
_IGNORED_FLAGS = {"--use_cache", "-c", "--verbosity", "-v"}
_UNNAMED = "<lm-eval's random folder>"


def _argv_value(argv: list[str], *flags: str) -> str | None:
    for i, arg in enumerate(argv):
        for flag in flags:
            if arg == flag and i + 1 < len(argv):
                return argv[i + 1]
            if arg.startswith(flag + "="):
                return arg.split("=", 1)[1]
    return None


def default_trace_path(argv: list[str] | None = None, rank: int = 0) -> tuple[Path, Path] | None:
    """Trace file and the results folder lm-eval will use, read from the ``lm_eval`` command line.

    lm-eval does not tell a model its ``--output_path``; the CLI arguments are the only source.
    Returns None when no output path was given (then traces are written only if ``trace_path`` is set).
    Without a model name in ``--model_args`` lm-eval writes the results into a randomly named folder
    under the output path: the trace then goes into the output path itself, and the returned results
    folder is a stand-in child of it, so that a name relative to it (``../traces_....jsonl``) is right.
    """
    argv = sys.argv if argv is None else argv
    output = _argv_value(argv, "--output_path", "-o")
    if not output:
        return None
    root = Path(output)
    if root.suffix == ".json":
        root = root.parent
    from lm_eval.loggers.evaluation_tracker import GeneralConfigTracker
    from lm_eval.utils import sanitize_model_name

    name = GeneralConfigTracker._get_model_name(_argv_value(argv, "--model_args") or "")
    # Without a model name lm-eval picks a random folder: any child of root stands for it.
    results_dir = root / sanitize_model_name(name) if name else root / _UNNAMED
    suffix = f"_rank{rank}" if rank else ""
    return (results_dir if name else root) / f"traces_{run_fingerprint(argv)}{suffix}.jsonl", results_dir


def relative_trace_name(trace_file: Path, results_dir: Path | None) -> str:
    """How the results JSON names its trace file.

    Relative to the results folder, so that moving or copying the run folder keeps the pair together
    (the absolute path is recorded separately, for the reader's last resort).
    """
    if results_dir is None:  # no output path: lm-eval writes no results file to point from
        return str(trace_file)
    return Path(os.path.relpath(trace_file.absolute(), results_dir.absolute())).as_posix()


def run_fingerprint(argv: list[str]) -> str:
    """Short hash of the command line without flags that leave generations unchanged."""
    kept, skip = [], False
    for arg in argv[1:]:
        if skip:
            skip = False
            continue
        name = arg.split("=", 1)[0]
        if name in _IGNORED_FLAGS:
            skip = "=" not in arg
            continue
        kept.append(arg)
    return hashlib.sha256("\0".join(kept).encode()).hexdigest()[:16]
