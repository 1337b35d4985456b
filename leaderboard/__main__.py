"""``mdlm-leaderboard build RUN_DIR... --output SITE_DIR`` (also ``python -m leaderboard``)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from leaderboard._build import NothingUsableError
from leaderboard._site import build_site


def _names(path: str | None, pairs: list[str]) -> dict[str, str]:
    """Display names from a names file (JSON object or ``MODEL=NAME`` lines) and ``--name`` flags (which win)."""
    lines: list[str] = []
    names: dict[str, str] = {}
    if path:
        text = Path(path).read_text(encoding="utf-8")
        if text.lstrip().startswith("{"):
            loaded = json.loads(text)
            names.update({str(k): str(v) for k, v in loaded.items()})
        else:
            lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    for pair in lines + list(pairs):
        model, sep, name = pair.partition("=")
        if not sep or not model.strip() or not name.strip():
            raise ValueError(f"a display name is MODEL=NAME, got {pair!r}")
        names[model.strip()] = name.strip()
    return names


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 2 nothing usable)."""
    parser = argparse.ArgumentParser(prog="mdlm-leaderboard", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    build = sub.add_parser("build", help="build the static leaderboard site from lm-eval output folders")
    build.add_argument("run_dirs", nargs="+", help="lm-eval --output_path folders (or parents of them)")
    build.add_argument("--output", "-o", required=True, help="site folder to write")
    build.add_argument("--bootstrap", type=int, default=1000, help="bootstrap replicates per task (default 1000)")
    build.add_argument("--name", action="append", default=[], metavar="MODEL=NAME",
                       help="show MODEL (hub id, path, or the name the site would show) as NAME; repeatable")
    build.add_argument("--names", metavar="FILE",
                       help="a JSON object, or lines of MODEL=NAME, of display names")
    build.add_argument("--keep-paths", action="store_true",
                       help="publish local model paths and input folders as they are (default: their names)")
    args = parser.parse_args(argv)
    try:
        names = _names(args.names, args.name)
    except (OSError, ValueError) as exc:
        parser.error(str(exc))
    try:
        report = build_site(
            args.run_dirs, args.output, bootstrap=args.bootstrap, names=names, keep_paths=args.keep_paths
        )
    except NothingUsableError as exc:
        print(f"mdlm-leaderboard: error: {exc}", file=sys.stderr)
        return 2
    for w in report.warnings:
        print(f"warning: {w}", file=sys.stderr)
    print(f"wrote {len(report.files)} files for {len(report.rows)} row(s) to {report.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
