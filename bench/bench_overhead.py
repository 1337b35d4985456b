"""Engine overhead and trace cost of the ``mdlm`` adapter.

engine overhead = adapter wall time / time spent inside ``model.forward``, same generations (target <= 1.10
at batch 1 and batch 8); trace cost = wall time with a trace file / with ``trace=False`` (target <= 1.02).
Each figure is the median of interleaved repeats; the spread (max-min over median) is the noise.

Usage: python bench/bench_overhead.py [--quick | --full] [--big] [--device cpu|cuda] [--repeats N]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import _common as c


def models(args: argparse.Namespace) -> list[tuple[str, Path, str | None, dict[str, int]]]:
    """(label, folder, family, workload) of the models measured: embedded (if installed), embedded-size proxy, ~40M."""
    small = {"gen": 16 if args.quick else 32, "prompt": 32, "b1": 4, "b8": 1}
    big = ({"gen": 16, "prompt": 16, "b1": 2, "b8": 1} if not args.full
           else {"gen": 32, "prompt": 32, "b1": 4, "b8": 2})
    out: list[tuple[str, Path, str | None, dict[str, int]]] = []
    if (path := c.embedded_model()) is not None:
        out.append(("embedded diffusion", path, None, small))
    out.append(("tiny llama h64 l4 v128 (embedded-size proxy)", c.build_llada_like(64, 4, 128, 4, 2, 512), "llada",
                small))
    if args.big or args.full:
        out.append(("llama h512 l8 v16k (39.6M)", c.build_llada_like(512, 8, 16384), "llada", big))
    return out


class TraceTimer:
    """Adds up time spent in trace-only code: the recorder's per-step update, building the rows, the file write."""

    def __init__(self) -> None:
        import model_adapters._adapter as adapter
        import model_adapters._trace as trace

        self.seconds = 0.0
        self.parts: dict[str, float] = {}
        self._patched: list[tuple[Any, str, Any]] = []
        for owner, name in ((adapter.TraceRecorder, "on_commit"), (adapter.MDLMAdapter, "_trace_records"),
                            (trace.TraceWriter, "write_batch")):
            self._wrap(owner, name)

    def _wrap(self, owner: Any, name: str) -> None:
        original = getattr(owner, name)

        def timed(*a: Any, **k: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return original(*a, **k)
            finally:
                dt = time.perf_counter() - t0
                self.seconds += dt
                self.parts[name] = self.parts.get(name, 0.0) + dt

        setattr(owner, name, timed)
        self._patched.append((owner, name, original))

    def remove(self) -> None:
        """Restore the original methods."""
        for owner, name, original in self._patched:
            setattr(owner, name, original)


def measure(label: str, path: Path, family: str | None, work: dict[str, int], args: argparse.Namespace,
            rows: dict[str, list]) -> None:
    kwargs = {"max_gen_toks": work["gen"], "until": []}
    variants = ["current"]
    for batch in (1, 8):
        n = batch * (work["b1"] if batch == 1 else work["b8"])
        reqs = c.requests(n, kwargs, prompt_chars=work["prompt"])
        tmp = Path(tempfile.mkdtemp(prefix="mdlm_bench_"))
        plain = c.make_adapter(path, args.device, batch, family)
        traced = c.make_adapter(path, args.device, batch, family, trace_path=str(tmp / "t.jsonl"))
        plain.generate_until(reqs[:batch], disable_tqdm=True)  # warm-up (allocator, tokenizer, first-call costs)
        traced.generate_until(reqs[:batch], disable_tqdm=True)
        fwd_plain = c.ForwardTimer(plain.model, args.device)
        fwd_traced = c.ForwardTimer(traced.model, args.device)
        res = {v: {"overhead": [], "wall": [], "wall_t": [], "share": [], "parts": [], "out": None} for v in variants}
        for _ in range(args.repeats):
            for variant in variants:  # interleaved, so load changes hit both variants alike
                r = res[variant]
                fwd_plain.reset()
                wall: list[float] = []
                with c.timed(args.device, wall):
                    out = plain.generate_until(reqs, disable_tqdm=True)
                r["out"] = r["out"] or out
                assert out == r["out"], "outputs differ between repeats"
                r["wall"].append(wall[0])
                r["overhead"].append(wall[0] / fwd_plain.seconds)
                tt = TraceTimer()
                try:
                    with c.timed(args.device, wall):
                        traced.generate_until(reqs, disable_tqdm=True)
                finally:
                    tt.remove()
                r["wall_t"].append(wall[1])
                r["share"].append(tt.seconds / (wall[1] - tt.seconds))
                r["parts"].append({k: v / (wall[1] - tt.seconds) for k, v in tt.parts.items()})
        nfe = fwd_plain.calls
        for variant in variants:
            r = res[variant]
            ov, walls = c.median(r["overhead"]), r["wall"]
            rows["overhead"].append([
                label, variant, batch, n, nfe, f"{c.median(walls):.3f}", f"{1e3 * c.median(walls) / nfe:.2f}",
                f"{ov:.3f}", c.spread(r["overhead"]), c.verdict(ov, 1.10),
            ])
            ratio = [t / p for t, p in zip(r["wall_t"], walls, strict=True)]
            share = 1 + c.median(r["share"])
            rows["trace"].append([
                label, variant, batch, f"{c.median(walls):.3f}", f"{c.median(r['wall_t']):.3f}",
                f"{c.median(ratio):.3f}", c.spread(ratio), f"{share:.4f}",
                *(f"{100 * c.median([p.get(k, 0.0) for p in r['parts']]):.2f}%"
                  for k in ("on_commit", "_trace_records", "write_batch")),
                c.verdict(share, 1.02),
            ])
        fwd_plain.remove()
        fwd_traced.remove()
        traced._writer.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    c.common_args(parser)
    parser.add_argument("--big", action="store_true",
                        help="add the 39.6M model (gen 16; --full: gen 32)")
    args = parser.parse_args()
    c.apply_common(args)
    args.repeats = args.repeats or (5 if args.full else 3)
    print(c.machine_line(args.device))
    print(f"settings: LLaDA defaults (fixed schedule, steps = gen_length, one block), {args.repeats} interleaved "
          "repeats, median reported; spread = (max-min)/median")
    rows: dict[str, list] = {"overhead": [], "trace": []}
    for label, path, family, work in models(args):
        print(f"model {label}: gen_length {work['gen']}, prompt {work['prompt']} chars", flush=True)
        measure(label, path, family, work, args, rows)
    print("\n## Engine overhead (adapter wall / time inside model.forward; target <= 1.10)\n")
    print(c.table(["model", "variant", "batch", "samples", "forwards", "wall s", "ms/forward", "overhead", "spread",
                   "target"], rows["overhead"]))
    print("\n## Trace cost (trace_path vs trace=False; target <= 1.02)\n")
    print("`measured` = median of interleaved wall-time ratios (noisy on a shared machine); `trace-only` = 1 + "
          "time inside trace-only code / the rest of the traced run, split into the recorder's per-step update "
          "(on_commit), building the rows (_trace_records) and writing them (write_batch: flush per batch, fsync at "
          "most once a second).\n")
    print(c.table(["model", "variant", "batch", "wall off s", "wall on s", "measured", "spread", "trace-only",
                   "on_commit", "_trace_records", "write_batch", "target"],
                  rows["trace"]))


if __name__ == "__main__":
    main()
