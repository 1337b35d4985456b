"""Where the sampler loop spends its time outside the model.

Sections: (1) engine-only cost per step (``denoise`` fed constant logits, no model) at the logits shapes
of the embedded model, a 16k-vocabulary model and LLaDA-8B; (2) the per-step pieces of that cost;
(3) ``use_cache`` in the model call; (4) per-sample trace bookkeeping in the adapter (per-token decode of
``pieces``, per-row device->host copies).

Usage: python bench/bench_hotloop.py [--quick | --full] [--device cpu|cuda]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import _common as c
import torch


def per_call(fn: Callable[[], object], device: str, repeats: int, inner: int = 1) -> list[float]:
    """Seconds per call of ``fn`` (``inner`` calls per sample, ``repeats`` samples, after one warm-up)."""
    fn()
    out = []
    for _ in range(repeats):
        c.sync(device)
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        c.sync(device)
        out.append((time.perf_counter() - t0) / inner)
    return out


def engine_per_step(args: argparse.Namespace, rows: list[list[object]], parts: list[list[object]]) -> None:
    from model_adapters._engine import SpecialTokens, TraceRecorder, denoise
    from model_adapters._settings import DecodingSettings

    block = 16 if args.quick else 32
    shapes = [(1, 128), (8, 128)] + ([] if args.quick else [(1, 16384)])
    if args.full:
        shapes += [(8, 16384), (1, 126464), (8, 126464)]
    dtypes = [torch.float32] + ([torch.bfloat16] if args.device.startswith("cuda") else [])
    for (batch, vocab), dtype in ((s, d) for s in shapes for d in dtypes):
        gen = torch.Generator(device="cpu").manual_seed(0)
        logits = (4 * torch.randn(batch, block, vocab, generator=gen)).to(args.device, dtype)
        prompt = torch.randint(5, vocab, (batch, 16), generator=gen).to(args.device)
        special = SpecialTokens(mask_id=2, eos_id=3)
        settings = DecodingSettings().resolve(block)

        def logits_fn(canvas: torch.Tensor, start: int, end: int, logits: torch.Tensor = logits) -> torch.Tensor:
            return logits.clone()  # the engine edits its logits in place; a model returns fresh ones

        clone = c.median(per_call(lambda t=logits: t.clone(), args.device, args.repeats, 5))  # noqa: B023
        with torch.inference_mode():
            runs = {
                "current": lambda: denoise(logits_fn, prompt, settings, special),  # noqa: B023
                "current+trace": lambda: denoise(logits_fn, prompt, settings, special,  # noqa: B023
                                                 observer=TraceRecorder(batch, block, args.device)),  # noqa: B023
            }
            times = {k: [] for k in runs}
            for _ in range(args.repeats):  # interleaved, so load changes hit all variants alike
                for name, fn in runs.items():
                    times[name].extend(per_call(fn, args.device, 1))
        step = {k: 1e6 * (c.median(v) / block - clone) for k, v in times.items()}
        rows.append([batch, block, vocab, str(dtype).removeprefix("torch."), f"{step['current']:.0f}",
                     f"{step['current+trace'] - step['current']:.0f}", c.spread(times["current"])])

        # The per-step pieces, each timed alone on the same shapes.
        with torch.inference_mode():
            lf = logits.float()
            cand = lf.argmax(-1)
            masked = torch.ones(batch, block, dtype=torch.bool, device=args.device)
            rec = TraceRecorder(batch, block, args.device)
            row_step = torch.zeros(batch, dtype=torch.long, device=args.device)
            items = {
                "isfinite().all() (before)": lambda: torch.isfinite(lf).flatten(1).all(-1),  # noqa: B023
                "amax/amin finite (engine)": lambda: (lf.amax((1, 2)).isfinite() & lf.amin((1, 2)).isfinite()),  # noqa: B023
                "logits.float()": lambda: logits.float(),  # noqa: B023
                "argmax": lambda: lf.argmax(-1),  # noqa: B023
                "softmax (full vocab)": lambda: torch.softmax(lf, -1),  # noqa: B023
                "logsumexp (alternative)": lambda: torch.logsumexp(lf, -1),  # noqa: B023
                "sort+scatter commit": lambda: torch.zeros_like(masked).scatter(  # noqa: B023
                    1, torch.sort(lf[..., 0], dim=-1, descending=True, stable=True)[1], masked),  # noqa: B023
                "TraceRecorder.on_commit": lambda: rec.on_commit(row_step, 0, masked, cand, cand),  # noqa: B023
            }
            for name, fn in items.items():
                t = c.median(per_call(fn, args.device, args.repeats, 3))
                parts.append([batch, vocab, str(dtype).removeprefix("torch."), name, f"{1e6 * t:.0f}"])


def use_cache_cost(args: argparse.Namespace, rows: list[list[object]]) -> None:
    from transformers import AutoModelForCausalLM

    specs = [(64, 4, 128)] + ([] if args.quick else [(512, 8, 16384)])
    for hidden, layers, vocab in specs:
        path = c.build_llada_like(hidden, layers, vocab, 8 if hidden >= 512 else 4, 4 if hidden >= 512 else 2,
                                  4096 if hidden >= 512 else 512)
        model = AutoModelForCausalLM.from_pretrained(path).to(args.device).eval()
        for batch, length in ((1, 64), (8, 64)):
            x = torch.randint(5, vocab, (batch, length), device=args.device)
            keep = slice(length - 32, length)
            with torch.inference_mode():
                default = lambda: model(x, logits_to_keep=keep)  # noqa: B023,E731
                nocache = lambda: model(x, logits_to_keep=keep, use_cache=False)  # noqa: B023,E731
                a, b = [], []
                inner = 20 if hidden < 512 else 1
                for _ in range(args.repeats):
                    a += per_call(default, args.device, 1, inner)
                    b += per_call(nocache, args.device, 1, inner)
            rows.append([f"h{hidden} l{layers} v{vocab}", batch, length, f"{1e3 * c.median(a):.2f}",
                         f"{1e3 * c.median(b):.2f}", f"{c.median(a) / c.median(b):.3f}", c.spread(a)])


def record_cost(args: argparse.Namespace, rows: list[list[object]]) -> None:
    from transformers import AutoTokenizer

    path = c.build_llada_like(512, 8, 16384)
    tok = AutoTokenizer.from_pretrained(path)
    gen = torch.Generator().manual_seed(0)
    for n_tokens in (32, 256):
        ids = torch.randint(5, len(tok), (n_tokens,), generator=gen).tolist()
        cache: dict[int, str] = {}

        def memo(ids: list[int] = ids, cache: dict[int, str] = cache) -> list[str]:
            out = []
            for t in ids:
                if t not in cache:
                    cache[t] = tok.decode([t])
                out.append(cache[t])
            return out

        assert memo() == tok.batch_decode([[t] for t in ids])
        cur = c.median(per_call(lambda i=ids: tok.batch_decode([[t] for t in i]), "cpu", args.repeats, 3))
        new = c.median(per_call(memo, "cpu", args.repeats, 3))
        rows.append([f"pieces, {n_tokens} tokens/sample", f"{1e3 * cur:.3f}", f"{1e3 * new:.3f}",
                     f"{cur / new:.0f}x"])
    batch, gen_length = 16, 256
    rec = [torch.randint(0, 99, (batch, gen_length), device=args.device) for _ in range(3)]
    per_row = c.median(per_call(lambda: [[t[r].tolist() for t in rec] for r in range(batch)], args.device,
                                args.repeats, 3))
    once = c.median(per_call(lambda: [t.cpu().tolist() for t in rec], args.device, args.repeats, 3))
    rows.append([f"trace arrays to host, batch {batch} x {gen_length}", f"{1e3 * per_row:.3f}", f"{1e3 * once:.3f}",
                 f"{per_row / once:.1f}x"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    c.common_args(parser)
    args = parser.parse_args()
    c.apply_common(args)
    args.repeats = args.repeats or (3 if args.quick else 7 if args.full else 5)
    print(c.machine_line(args.device))
    print(f"{args.repeats} interleaved repeats, median reported")
    steps: list[list[object]] = []
    parts: list[list[object]] = []
    engine_per_step(args, steps, parts)
    print("\n## Engine cost per step outside the model (denoise on constant logits, block 32 (16 with --quick), "
          "fixed schedule)\n")
    print("current: microseconds per step (the logits copy a model call would make is subtracted); "
          "trace = extra per step with a TraceRecorder.\n")
    print(c.table(["batch", "block", "vocab", "dtype", "current us", "trace +us",
                   "spread"], steps))
    print("\n## Pieces of one step (microseconds per call, same shapes)\n")
    print(c.table(["batch", "vocab", "dtype", "operation", "us"], parts))
    cache_rows: list[list[object]] = []
    use_cache_cost(args, cache_rows)
    print("\n## Model call: transformers' default use_cache=True vs use_cache=False\n")
    print(c.table(["model", "batch", "tokens", "default ms", "use_cache=False ms", "ratio", "spread"], cache_rows))
    rec_rows: list[list[object]] = []
    record_cost(args, rec_rows)
    print("\n## Adapter bookkeeping per sample / batch (ms; 'patched' = pieces decoded once, as landed)\n")
    print(c.table(["item", "current ms", "patched ms", "speed-up"], rec_rows))


if __name__ == "__main__":
    main()
