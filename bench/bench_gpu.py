"""The GPU table in one command: random-weight models at real widths, per-step figures, JSON + Markdown.

For each family a random-weight network of the published checkpoint's width is built directly on the
device, its depth cut to ``--layers`` (per-step figures carry over to full depth: every cost here but the
logits scales with the layers): LLaDA-8B (Llama, bidirectional), Dream-7B (Qwen2, shifted logits),
SDAR-8B (Qwen3, block-causal, ``block_kv``) and LLaDA-MoE-7B-A1B (Qwen3-MoE). The adapter runs them as
``lm_eval --model mdlm`` would (the family preset's conventions, our tokenizer), on LLaDA's GSM8K shape:
prompt ~200 tokens, gen_length 256, block_length 32, one token per step (low_confidence, fixed schedule).

Reported per family: forward and outside-forward time per step at batch 1, adapter wall / plain
reference loop (unshifted bidirectional families) with the token agreement in both ``confidence_dtype``s,
trace on/off, caches at batch 1 (and 8 with steps 64), threshold-schedule forwards, samples/s, tokens/s,
peak memory and the share of forward-only throughput at batch 1/8/32 (batch 8/32 with 4 tokens per step:
per-step cost is what carries over), the share of wall spent in forwards, and for ``block_kv`` the
per-token cost at prompt 2048 vs 128. Levers, side by side on one uncached batch-1 model call: CUDA graph
replay, no 4-D mask (SDPA's flash path, causal: a bound on what dropping the mask saves), logits for the
whole canvas instead of the block, and ``--compile`` (torch.compile; off by default, its compile time
does not fit the budget at every width).

Random weights have no meaning: agreement and threshold forwards depend on how peaked the logits are
(``--logit-scale`` multiplies the output head). Items past the time budget are skipped, not cut short.

Usage: python bench/bench_gpu.py [--device cuda] [--quick] [--layers 8] [--families llada,dream,sdar,llada_moe]
       [--budget 420] [--out DIR] [--compile]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import _common as c
import torch

GEN, BLOCK, PROMPT = 256, 32, 200
"""The workload (LLaDA's GSM8K shape); ``--quick`` shrinks it to a smoke test."""
LONG_PROMPTS = (128, 2048)
"""Prompt lengths of the ``block_kv`` scaling figure."""


@dataclasses.dataclass(frozen=True)
class Spec:
    """A family's network as published, with its width (depth is cut by ``--layers``)."""

    arch: str
    """transformers class prefix (``Llama`` -> ``LlamaForCausalLM``)."""
    preset: str
    """The adapter's family preset."""
    width: dict[str, Any]
    """Config entries of the published checkpoint (hidden size, heads, MLP, vocabulary)."""
    quick: dict[str, Any]
    """Tiny stand-ins for ``--quick`` (CPU smoke test)."""


SPECS = {
    "llada": Spec("Llama", "llada", dict(hidden_size=4096, num_attention_heads=32, num_key_value_heads=32,
                                         intermediate_size=12288, vocab_size=126464),
                  dict(hidden_size=64, num_attention_heads=4, num_key_value_heads=4, intermediate_size=192)),
    "dream": Spec("Qwen2", "dream", dict(hidden_size=3584, num_attention_heads=28, num_key_value_heads=4,
                                         intermediate_size=18944, vocab_size=152064),
                  dict(hidden_size=64, num_attention_heads=4, num_key_value_heads=2, intermediate_size=192)),
    "sdar": Spec("Qwen3", "sdar", dict(hidden_size=4096, num_attention_heads=32, num_key_value_heads=8, head_dim=128,
                                       intermediate_size=12288, vocab_size=151936),
                 dict(hidden_size=64, num_attention_heads=4, num_key_value_heads=2, head_dim=16,
                      intermediate_size=192)),
    "llada_moe": Spec("Qwen3Moe", "llada_moe",
                      dict(hidden_size=2048, num_attention_heads=16, num_key_value_heads=16, head_dim=128,
                           intermediate_size=8192, moe_intermediate_size=1024, num_experts=64, num_experts_per_tok=8,
                           norm_topk_prob=False, vocab_size=157184),
                      dict(hidden_size=64, num_attention_heads=4, num_key_value_heads=4, head_dim=16,
                           intermediate_size=192, moe_intermediate_size=32, num_experts=8, num_experts_per_tok=2,
                           norm_topk_prob=False)),
}


class Budget:
    """Wall-clock budget: items that would start after it are skipped (and say so)."""

    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds

    def run(self, name: str, fn: Callable[[], Any], into: dict[str, Any]) -> None:
        """Run ``fn`` (which fills ``into``) unless time is up; a crash is reported, not raised."""
        if time.monotonic() > self.end:
            into[name] = "skipped (time budget)"
            return
        try:
            fn()
        except Exception as error:  # noqa: BLE001  (one broken item must not lose the rest of the table)
            into[name] = f"failed: {type(error).__name__}: {str(error)[:200]}"
            print(f"  {name} failed: {type(error).__name__}: {error}", flush=True)


# ----------------------------------------------------------------------------- models and adapters
def build(spec: Spec, args: argparse.Namespace) -> Any:
    """The random-weight network, built on the device in its dtype (no float32 copy, no disk)."""
    import transformers

    width = {**spec.width, **(spec.quick if args.quick else {})}
    if args.quick:
        width["vocab_size"] = 30000  # larger than the tokenizer, as a real vocabulary is here
    config = getattr(transformers, f"{spec.arch}Config")(
        num_hidden_layers=args.layers, max_position_embeddings=4096, tie_word_embeddings=False,
        pad_token_id=0, eos_token_id=3, **width)
    previous = torch.get_default_dtype()
    torch.set_default_dtype(args.torch_dtype)
    try:
        torch.manual_seed(0)
        with torch.device(args.device):
            model = getattr(transformers, f"{spec.arch}ForCausalLM")(config).eval()
    finally:
        torch.set_default_dtype(previous)
    with torch.no_grad():  # peaked distributions, so confidences and thresholds behave as with a trained model
        model.lm_head.weight.mul_(args.logit_scale)
    return model


def adapter(model: Any, spec: Spec, folder: Path, args: argparse.Namespace, batch: int, **kwargs: Any) -> Any:
    """An ``MDLMAdapter`` over the prebuilt ``model``, with the family's preset and our tokenizer's tokens."""
    import model_adapters._adapter as adapter_module

    real = adapter_module.get_family(spec.preset)
    preset = dataclasses.replace(real, loader=lambda request: model, mask_token=c.MASK, mask_token_id=None,
                                 eos_tokens=(c.EOS,), eot_token=c.EOT)
    original = adapter_module.get_family
    adapter_module.get_family = lambda name: preset if name == spec.preset else original(name)
    try:
        return c.make_adapter(folder, args.device, batch, spec.preset, dtype=args.dtype_name, **kwargs)
    finally:
        adapter_module.get_family = original


def model_folder(model: Any, tmp: Path) -> Path:
    """config.json and tokenizer only: the adapter reads them; the weights stay on the device."""
    folder = tmp / type(model).__name__
    folder.mkdir(exist_ok=True)
    model.config.save_pretrained(folder)
    c.llada_tokenizer(20000).save_pretrained(folder)
    return folder


def workload(n: int, **settings: Any) -> list[Any]:
    """``n`` requests of ~PROMPT tokens (the tokenizer is per character), GEN tokens, block BLOCK."""
    gen_kwargs: dict[str, Any] = {"max_gen_toks": GEN, "until": [], "block_length": BLOCK, "schedule": "fixed",
                                  "remasking": "low_confidence", "early_stop": "none", "temperature": 0.0, **settings}
    return c.requests(n, gen_kwargs, prompt_chars=PROMPT)


def timed_run(lm: Any, reqs: list[Any], device: str) -> dict[str, float]:
    """Wall, time inside the forward, forwards and peak memory of one ``generate_until``."""
    fwd = c.ForwardTimer(lm.model, device)
    c.reset_peak_memory(device)
    wall: list[float] = []
    try:
        with torch.inference_mode(), c.timed(device, wall):
            lm.generate_until(reqs, disable_tqdm=True)
    finally:
        fwd.remove()
    return {"wall": wall[0], "forward": fwd.seconds, "calls": fwd.calls, "peak_gib": c.peak_memory_mb(device) / 1024}


# ----------------------------------------------------------------------------- measurements
def batch1(model: Any, spec: Spec, folder: Path, args: argparse.Namespace, out: dict[str, Any],
           budget: Budget) -> None:
    """Batch-1 figures: default run, trace, caches, threshold schedule."""
    lm = adapter(model, spec, folder, args, 1)
    caches = ["block_kv"] if spec.preset == "sdar" else ["dual", "prefix"]
    lm.generate_until(workload(1, steps=GEN // BLOCK), disable_tqdm=True)  # warm-up: one step per block
    runs: dict[str, dict[str, float]] = {}

    def default() -> None:
        runs["default"] = r = timed_run(lm, workload(1), args.device)
        out.update(forward_ms=1e3 * r["forward"] / r["calls"], outside_ms=1e3 * (r["wall"] - r["forward"]) / r["calls"],
                   wall_over_forward=r["wall"] / r["forward"], tokens_per_s_b1=GEN / r["wall"],
                   samples_per_s_b1=1 / r["wall"], peak_gib_b1=r["peak_gib"], forward_share_b1=r["forward"] / r["wall"],
                   wall_s_b1=r["wall"])

    def trace() -> None:
        traced = adapter(model, spec, folder, args, 1, trace_path=str(folder / "trace.jsonl"))
        r = timed_run(traced, workload(1), args.device)
        out["trace_on_off"] = r["wall"] / runs["default"]["wall"]

    def cache(mode: str) -> Callable[[], None]:
        def go() -> None:
            r = timed_run(lm, workload(1, cache=mode), args.device)
            out[f"cache_{mode}_b1_speedup"] = runs["default"]["wall"] / r["wall"]
            out[f"cache_{mode}_b1_wall_s"] = r["wall"]
        return go

    def threshold() -> None:
        r = timed_run(lm, workload(1, schedule="threshold", threshold=0.9), args.device)
        out.update(threshold_forwards=r["calls"], threshold_speedup=runs["default"]["wall"] / r["wall"])

    budget.run("default", default, out)
    if "default" not in runs:
        return
    budget.run("trace_on_off", trace, out)
    for mode in caches:
        budget.run(f"cache_{mode}_b1_speedup", cache(mode), out)
    budget.run("threshold_forwards", threshold, out)


def reference(model: Any, spec: Spec, folder: Path, args: argparse.Namespace, out: dict[str, Any]) -> None:
    """Adapter / plain LLaDA ``generate()`` loop at batch 1, and token agreement in both confidence dtypes."""
    from bench_reference import Capture, llada_generate

    lm = adapter(model, spec, folder, args, 1)
    req = workload(1)[0]
    prompt = torch.tensor([lm._encode(req.args[0], GEN)], device=args.device)
    mask = torch.ones_like(prompt)
    walls: dict[str, float] = {}
    tokens: dict[str, torch.Tensor] = {}
    ties = [0, 0]
    for name in ("reference", "float32", "logits"):
        wall: list[float] = []
        if name == "reference":
            with c.timed(args.device, wall):
                tokens[name] = llada_generate(model, prompt, mask, GEN, GEN, BLOCK, lm.special.mask_id, ties).cpu()
        else:
            cap = Capture()
            try:
                with torch.inference_mode(), c.timed(args.device, wall):
                    lm.generate_until(workload(1, confidence_dtype=name), disable_tqdm=True)
            finally:
                cap.remove()
            tokens[name] = cap.canvases[-1]
        walls[name] = wall[0]
    out["adapter_over_reference"] = walls["float32"] / walls["reference"]
    for name in ("float32", "logits"):
        out[f"agreement_{name}"] = float((tokens[name] == tokens["reference"]).float().mean())
    out["reference_topk_ties"] = f"{ties[0]}/{ties[1]}"


def batches(model: Any, spec: Spec, folder: Path, args: argparse.Namespace, out: dict[str, Any],
            budget: Budget) -> None:
    """Samples/s, peak memory and share of forward-only throughput at batch 1/8/32 (steps 64: 4 per block)."""
    for batch in (1, 8, 32):
        def go(batch: int = batch) -> None:
            lm = adapter(model, spec, folder, args, batch)
            r = timed_run(lm, workload(batch, steps=GEN // 4), args.device)
            per_step = r["wall"] / r["calls"]
            out[f"samples_per_s_b{batch}"] = batch / (GEN * per_step)  # at one token per step, as batch 1
            out[f"peak_gib_b{batch}"] = r["peak_gib"]
            out[f"forward_share_b{batch}"] = r["forward"] / r["wall"]
        budget.run(f"samples_per_s_b{batch}", go, out)
    if spec.preset != "sdar":
        def dual8() -> None:
            lm = adapter(model, spec, folder, args, 8)
            none = timed_run(lm, workload(8, steps=GEN // 4), args.device)
            dual = timed_run(lm, workload(8, steps=GEN // 4, cache="dual"), args.device)
            out["cache_dual_b8_speedup_steps64"] = none["wall"] / dual["wall"]
        budget.run("cache_dual_b8_speedup_steps64", dual8, out)


def block_kv_scaling(model: Any, spec: Spec, args: argparse.Namespace, out: dict[str, Any]) -> None:
    """Per generated token with ``block_kv`` (first call, the prefill, excluded) at prompt 2048 vs 128."""
    from model_adapters._engine import SpecialTokens, denoise
    from model_adapters._runner import make_logits_fn
    from model_adapters._settings import DecodingSettings

    gen, per_token = 2 * BLOCK, {}
    for plen in LONG_PROMPTS:
        prompt = torch.randint(10, 1000, (1, plen), device=args.device)
        attention = torch.ones(1, plen + gen, dtype=torch.long, device=args.device)
        settings = DecodingSettings(block_length=BLOCK, steps=gen, cache="block_kv").resolve(gen)
        fwd = c.ForwardTimer(model, args.device)
        first: list[float] = []
        timed = model.forward

        def once(*a: Any, timed: Any = timed, fwd: Any = fwd, first: list[float] = first, **k: Any) -> Any:
            before = fwd.seconds
            result = timed(*a, **k)
            if not first:
                first.append(fwd.seconds - before)
            return result

        import functools

        model.forward = functools.wraps(timed)(once)
        wall: list[float] = []
        try:
            with torch.inference_mode(), c.timed(args.device, wall):
                fn = make_logits_fn(model, attention, False, plen, "block_causal", 4, "block_kv")
                denoise(fn, prompt, settings, SpecialTokens(mask_id=2, eos_id=3))
        finally:
            model.forward = timed
            fwd.remove()
        per_token[plen] = (wall[0] - first[0]) / gen
    short, long = LONG_PROMPTS
    out["block_kv_ms_per_token_p128"] = 1e3 * per_token[short]
    out["block_kv_ms_per_token_p2048"] = 1e3 * per_token[long]
    out["block_kv_ratio_2048_128"] = per_token[long] / per_token[short]


def levers(model: Any, spec: Spec, args: argparse.Namespace, out: dict[str, Any], budget: Budget) -> None:
    """One uncached batch-1 model call as the engine makes it, and variants of it (milliseconds, median)."""
    from model_adapters._runner import make_logits_fn

    length = PROMPT + GEN
    canvas = torch.randint(10, 1000, (1, length), device=args.device)
    attention = torch.ones(1, length, dtype=torch.long, device=args.device)
    block_causal = spec.preset == "sdar"
    fn = make_logits_fn(model, attention, spec.preset == "dream", PROMPT,
                        "block_causal" if block_causal else "bidirectional", 4 if block_causal else None)
    lo, hi = PROMPT, PROMPT + BLOCK
    calls: dict[str, Callable[[], Any]] = {
        "engine call (block logits)": lambda: fn(canvas, lo, hi),
        "whole-canvas logits": lambda: model(canvas, attention_mask=None, use_cache=False).logits,
        "no 4-D mask (causal flash bound)": lambda: model(canvas, use_cache=False, logits_to_keep=slice(lo, hi)),
    }
    cached = make_logits_fn(model, attention, spec.preset == "dream", PROMPT,
                            "block_causal" if block_causal else "bidirectional", 4 if block_causal else None,
                            "block_kv" if block_causal else "dual")
    cached(canvas, lo, hi)  # the window's refresh; later calls feed the block only
    calls["cached block call"] = lambda: cached(canvas, lo, hi)
    timings: dict[str, Any] = {}
    for name, call in calls.items():
        budget.run(name, lambda name=name, call=call: timings.__setitem__(name, per_call_ms(call, args.device)),
                   timings)
    if args.device.startswith("cuda"):
        budget.run("CUDA graph replay of the engine call",
                   lambda: timings.__setitem__("CUDA graph replay of the engine call",
                                               graph_ms(lambda: fn(canvas, lo, hi))), timings)
    if args.compile:
        def compiled() -> None:
            model.forward = torch.compile(model.forward, dynamic=False)
            try:
                timings["torch.compile (default mode)"] = per_call_ms(lambda: fn(canvas, lo, hi), args.device)
            finally:
                del model.forward
        budget.run("torch.compile (default mode)", compiled, timings)
    out["levers_ms_b1"] = timings


def per_call_ms(call: Callable[[], Any], device: str, repeats: int = 15) -> float:
    """Median milliseconds per call after three warm-ups (synchronised)."""
    with torch.inference_mode():
        for _ in range(3):
            call()
        times: list[float] = []
        for _ in range(repeats):
            with c.timed(device, times):
                call()
    return 1e3 * c.median(times)


def graph_ms(call: Callable[[], Any], repeats: int = 15) -> float:
    """Median milliseconds per replay of ``call`` captured in a CUDA graph (the launch gaps removed)."""
    with torch.inference_mode():
        stream = torch.cuda.Stream()
        stream.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(stream):
            for _ in range(3):
                call()
        torch.cuda.current_stream().wait_stream(stream)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            call()
        return per_call_ms(graph.replay, "cuda", repeats)


# ----------------------------------------------------------------------------- report
ROWS = [
    ("forward / outside forward per step, batch 1 (ms)", lambda r: f"{r['forward_ms']:.2f} / {r['outside_ms']:.3f}"),
    ("wall / forward, batch 1", lambda r: f"{r['wall_over_forward']:.3f}"),
    ("adapter wall / reference loop", lambda r: f"{r['adapter_over_reference']:.3f}"),
    ("tokens equal to the reference loop: float32 / logits confidence",
     lambda r: f"{100 * r['agreement_float32']:.1f}% / {100 * r['agreement_logits']:.1f}% "
               f"(top-k cut in a tie: {r['reference_topk_ties']})"),
    ("trace on / off", lambda r: f"{r['trace_on_off']:.3f}"),
    ("cache=dual / prefix speed-up, batch 1", lambda r: f"{r['cache_dual_b1_speedup']:.2f}x / "
                                                        f"{r['cache_prefix_b1_speedup']:.2f}x"),
    ("cache=block_kv speed-up, batch 1", lambda r: f"{r['cache_block_kv_b1_speedup']:.2f}x"),
    ("cache=dual speed-up, batch 8 (steps 64)", lambda r: f"{r['cache_dual_b8_speedup_steps64']:.2f}x"),
    ("threshold=0.9: forwards (of 256), speed-up", lambda r: f"{r['threshold_forwards']}, "
                                                             f"{r['threshold_speedup']:.2f}x"),
    ("samples/s at batch 1 / 8 / 32", lambda r: " / ".join(f"{r[f'samples_per_s_b{b}']:.3f}" for b in (1, 8, 32))),
    ("tokens/s at batch 1 / 8 / 32", lambda r: " / ".join(f"{GEN * r[f'samples_per_s_b{b}']:.0f}"
                                                          for b in (1, 8, 32))),
    ("peak GiB at batch 1 / 8 / 32", lambda r: " / ".join(f"{r[f'peak_gib_b{b}']:.1f}" for b in (1, 8, 32))),
    ("share of wall in forwards at batch 1 / 8 / 32",
     lambda r: " / ".join(f"{100 * r[f'forward_share_b{b}']:.0f}%" for b in (1, 8, 32))),
    ("block_kv ms per token, prompt 128 / 2048 (ratio)",
     lambda r: f"{r['block_kv_ms_per_token_p128']:.2f} / {r['block_kv_ms_per_token_p2048']:.2f} "
               f"({r['block_kv_ratio_2048_128']:.2f})"),
]


def markdown(results: dict[str, dict[str, Any]]) -> str:
    """The per-family table, then the levers table."""
    names = list(results)
    rows = []
    for label, cell in ROWS:
        cells = []
        for name in names:
            try:
                cells.append(cell(results[name]))
            except (KeyError, TypeError, ValueError):
                cells.append("-")
        if any(x != "-" for x in cells):
            rows.append([label, *cells])
    out = c.table(["what", *names], rows)
    lever_names = sorted({k for r in results.values() for k in r.get("levers_ms_b1", {})})
    lever_rows = [[k, *(_fmt(results[n].get("levers_ms_b1", {}).get(k)) for n in names)] for k in lever_names]
    return out + "\n\nOne batch-1 model call (prompt 200 + canvas 256), ms:\n\n" + c.table(["call", *names], lever_rows)


def _fmt(value: Any) -> str:
    return f"{value:.2f}" if isinstance(value, float) else str(value or "-")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    c.common_args(parser)
    parser.add_argument("--layers", type=int, default=None, help="depth of every network (default 8; --quick 2)")
    parser.add_argument("--families", default=",".join(SPECS), help="comma-separated, from " + ",".join(SPECS))
    parser.add_argument("--budget", type=float, default=420.0, help="seconds; later items are skipped")
    parser.add_argument("--logit-scale", type=float, default=8.0, help="output-head multiplier (peaked logits)")
    parser.add_argument("--dtype", default="auto", help="auto: bfloat16 on CUDA, float32 on CPU")
    parser.add_argument("--compile", action="store_true", help="also time torch.compile of the forward")
    parser.add_argument("--out", default=None, help="folder for gpu_table.json / gpu_table.md")
    args = parser.parse_args()
    c.apply_common(args)
    args.layers = args.layers or (2 if args.quick else 8)
    if args.quick:
        global GEN, BLOCK, PROMPT, LONG_PROMPTS
        GEN, BLOCK, PROMPT, LONG_PROMPTS = 32, 16, 24, (16, 128)
    args.dtype_name = args.dtype if args.dtype != "auto" else ("bfloat16" if args.device.startswith("cuda")
                                                              else "float32")
    args.torch_dtype = getattr(torch, args.dtype_name)
    families = args.families.split(",")
    budget = Budget(args.budget)
    print(c.machine_line(args.device), flush=True)
    print(f"workload: prompt ~{PROMPT} tokens, gen {GEN}, block {BLOCK}, {args.layers} layers, {args.dtype_name}, "
          f"budget {args.budget:.0f} s", flush=True)
    results: dict[str, dict[str, Any]] = {}
    tmp = Path(tempfile.mkdtemp(prefix="mdlm_bench_gpu_"))
    for name in families:
        spec, t0 = SPECS[name], time.monotonic()
        out: dict[str, Any] = {"layers": args.layers}
        results[name] = out
        model = build(spec, args)
        out["parameters_b"] = sum(p.numel() for p in model.parameters()) / 1e9
        print(f"{name}: {out['parameters_b']:.2f}B parameters built in {time.monotonic() - t0:.1f} s", flush=True)
        folder = model_folder(model, tmp)
        batch1(model, spec, folder, args, out, budget)
        if spec.preset in ("llada", "llada_moe"):
            budget.run("adapter_over_reference",
                       lambda m=model, s=spec, f=folder, o=out: reference(m, s, f, args, o), out)
        batches(model, spec, folder, args, out, budget)
        if spec.preset == "sdar":
            budget.run("block_kv_ratio_2048_128", lambda m=model, s=spec, o=out: block_kv_scaling(m, s, args, o), out)
        levers(model, spec, args, out, budget)
        print(f"{name}: done in {time.monotonic() - t0:.1f} s", flush=True)
        del model
        if args.device.startswith("cuda"):
            torch.cuda.empty_cache()
    table = markdown(results)
    print("\n" + table)
    if args.out:
        folder = Path(args.out)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "gpu_table.json").write_text(json.dumps(results, indent=1, sort_keys=True, default=str))
        (folder / "gpu_table.md").write_text(c.machine_line(args.device) + "\n\n" + table + "\n")


if __name__ == "__main__":
    main()
