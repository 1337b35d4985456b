"""The adapter against a plain transcription of LLaDA's published ``generate()``: same weights, same outputs.

Ratio = adapter wall time (tokenisation and decoding included) / reference loop wall time on the same
prompts; target <= 1.0 with the family's default settings. In float32 their outputs are asserted equal
token for token; in bf16 (the default on CUDA) the agreement is reported instead, for the default
(confidence from a float32 softmax) and for ``confidence_dtype=logits`` (the softmax in bf16, as the
published loop computes it), with the share of steps whose top-k cut fell inside a tie of the reference's
confidences. Then the speed-up of early stop (``early_stop``) and of threshold decoding
(``schedule=threshold,threshold=0.9``), whose outputs legitimately differ.

Usage: python bench/bench_reference.py [--quick | --full] [--device cpu|cuda] [--dtype auto] [--batch 1]
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import _common as c
import torch


@torch.no_grad()
def llada_generate(model: Any, prompt: torch.Tensor, attention_mask: torch.Tensor, steps: int, gen_length: int,
                   block_length: int, mask_id: int, ties: list[int] | None = None) -> torch.Tensor:
    """LLaDA's published ``generate()`` (GSAI-ML/LLaDA generate.py), greedy, low-confidence remasking, written plainly.

    Full forward over the whole sequence every step, full-vocabulary softmax, per-row top-k; the one
    addition is that [MASK] is never a candidate (see below). Decoder
    backbones get a bidirectional 4-D mask and positions counted from each row's first real token (as
    the adapter does for left padding); encoder (masked-LM) backbones get the 2-D mask. ``ties``, when
    given, gets [row steps whose top-k cut fell inside a tie of equal confidences, row steps].
    """
    batch, prompt_len = prompt.shape
    x = torch.full((batch, prompt_len + gen_length), mask_id, dtype=torch.long, device=prompt.device)
    x[:, :prompt_len] = prompt.clone()
    full = torch.cat([attention_mask, torch.ones(batch, gen_length, dtype=attention_mask.dtype,
                                                 device=prompt.device)], 1)
    if "MaskedLM" in type(model).__name__:
        call: dict[str, Any] = {"attention_mask": full}
    else:
        keep = full[:, None, None, :].bool().expand(batch, 1, x.shape[1], x.shape[1])
        additive = torch.zeros(keep.shape, dtype=model.dtype, device=prompt.device)
        call = {"attention_mask": additive.masked_fill(~keep, torch.finfo(model.dtype).min),
                "position_ids": (full.cumsum(-1) - 1).clamp(min=0)}
    assert gen_length % block_length == 0
    num_blocks = gen_length // block_length
    assert steps % num_blocks == 0
    steps = steps // num_blocks
    for num_block in range(num_blocks):
        lo = prompt_len + num_block * block_length
        hi = prompt_len + (num_block + 1) * block_length
        block_mask_index = x[:, lo:hi] == mask_id
        # get_num_transfer_tokens: the block's masks spread evenly, earlier steps take the remainder
        mask_num = block_mask_index.sum(dim=1, keepdim=True)
        base, remainder = mask_num // steps, mask_num % steps
        num_transfer = torch.zeros(mask_num.size(0), steps, device=x.device, dtype=torch.int64) + base
        for i in range(mask_num.size(0)):
            num_transfer[i, : remainder[i]] += 1
        for i in range(steps):
            mask_index = x == mask_id
            logits = model(x, **call).logits
            # Not in the published loop, which trusts a trained model never to propose [MASK]; random weights
            # do, and the engine forbids it (a committed position must not stay masked). The softmax below
            # still covers [MASK], as published.
            x0 = torch.argmax(logits.index_fill(-1, torch.tensor([mask_id], device=x.device), -float("inf")), -1)
            p = torch.nn.functional.softmax(logits, dim=-1)
            x0_p = torch.squeeze(torch.gather(p, dim=-1, index=torch.unsqueeze(x0, -1)), -1)
            x0_p[:, hi:] = -float("inf")
            x0 = torch.where(mask_index, x0, x)
            confidence = torch.where(mask_index, x0_p, -float("inf"))
            transfer_index = torch.zeros_like(x0, dtype=torch.bool, device=x0.device)
            for j in range(confidence.shape[0]):
                k = int(num_transfer[j, i])
                _, select_index = torch.topk(confidence[j], k=k)
                if ties is not None and 0 < k < int(mask_index[j].sum()):  # is the k-th value also the (k+1)-th?
                    top = torch.topk(confidence[j].float(), k + 1).values
                    ties[0] += int(top[k - 1] == top[k])
                    ties[1] += 1
                transfer_index[j, select_index] = True
            x[transfer_index] = x0[transfer_index]
    return x[:, prompt_len:]


class Capture:
    """Keeps the canvas of every ``denoise`` call the adapter makes (to compare tokens with the reference)."""

    def __init__(self) -> None:
        import model_adapters._adapter as adapter

        self.module, self.original, self.canvases = adapter, adapter.denoise, []

        def capturing(*a: Any, **k: Any) -> Any:
            result = self.original(*a, **k)
            self.canvases.append(result.canvas.cpu())
            return result

        adapter.denoise = capturing

    def remove(self) -> None:
        """Restore the adapter's own ``denoise``."""
        self.module.denoise = self.original


def sudoku_requests(n: int) -> list[Any]:
    """The first ``n`` held-out 4x4 Sudoku prompts of ``mdlm_synthetic`` (what the embedded model is trained on)."""
    from lm_eval.api.instance import Instance

    from mdlm_tasks.synthetic import EVAL_SEED, make_examples

    docs = make_examples("mdlm_sudoku4_easy", n, EVAL_SEED)
    return [Instance("generate_until", {}, (d["prompt"], {"max_gen_toks": 24, "until": []}), idx=0,
                     metadata=("sudoku", i, 1)) for i, d in enumerate(docs)]


def run(label: str, path: Path, family: str | None, reqs: list[Any], gen: int, args: argparse.Namespace,
        rows: list[list[Any]]) -> None:
    lm = c.make_adapter(path, args.device, args.batch, family, dtype=args.dtype)
    exact = lm.model.dtype == torch.float32
    variants: list[tuple[str, dict[str, Any]]] = [("default", {})]
    if c.setting_supported("confidence_dtype"):
        variants.append(("confidence_dtype=logits", {"confidence_dtype": "logits"}))
    if c.setting_supported("early_stop"):
        variants += [("early_stop=settled", {"early_stop": "settled"}),
                     (f"block_length={gen // 4},early_stop=eos_block", {"block_length": gen // 4,
                                                                       "early_stop": "eos_block"})]
    else:
        rows.append([label, "early_stop", "n/a", "n/a", "n/a", "n/a", "n/a", "setting `early_stop` absent"])
    variants.append(("schedule=threshold,threshold=0.9", {"schedule": "threshold", "threshold": 0.9}))
    # Reference inputs: the adapter's own tokenisation and left padding, batched the same way.
    encoded = [lm._encode(r.args[0], gen) for r in reqs]
    batches = []
    for start in range(0, len(reqs), args.batch):
        chunk = encoded[start : start + args.batch]
        width = max(map(len, chunk))
        prompt = torch.full((len(chunk), width), lm.pad_id, dtype=torch.long)
        mask = torch.zeros((len(chunk), width), dtype=torch.long)
        for row, ids in enumerate(chunk):
            prompt[row, width - len(ids) :] = torch.tensor(ids, dtype=torch.long)
            mask[row, width - len(ids) :] = 1
        batches.append((prompt.to(args.device), mask.to(args.device)))
    mask_id = lm.special.mask_id
    with_kwargs = [[type(r)(r.request_type, r.doc, (r.args[0], {**r.args[1], **kw}), idx=0,
                            metadata=(r.task_name, r.doc_id, 1)) for r in reqs] for _, kw in variants]
    ref_out = lm.generate_until(reqs[: args.batch], disable_tqdm=True)  # warm-up both paths
    llada_generate(lm.model, *batches[0], gen, gen, gen, mask_id)
    times: dict[str, list[float]] = {"reference": [], **{name: [] for name, _ in variants}}
    nfe: dict[str, int] = {}
    agree: dict[str, float] = {}
    ref_tokens = None
    for _ in range(args.repeats):  # interleaved repeats
        wall: list[float] = []
        ties = [0, 0]
        with c.timed(args.device, wall):
            outs = [llada_generate(lm.model, p, m, gen, gen, gen, mask_id, ties) for p, m in batches]
        times["reference"].append(wall[0])
        ref_tokens = torch.cat([o.cpu() for o in outs])
        for (name, _), vreqs in zip(variants, with_kwargs, strict=True):
            cap = Capture()
            fwd = c.ForwardTimer(lm.model, args.device)
            try:
                with c.timed(args.device, wall):
                    out = lm.generate_until(vreqs, disable_tqdm=True)
            finally:
                cap.remove()
                fwd.remove()
            times[name].append(wall[-1])
            nfe[name] = fwd.calls
            if name in ("default", "confidence_dtype=logits"):
                tokens = torch.cat(cap.canvases)
                agree[name] = float((tokens == ref_tokens).float().mean())
                # float32: the same arithmetic, so the same tokens; bf16: reported, not asserted (see README)
                assert not exact or torch.equal(tokens, ref_tokens), f"{label}: tokens differ from the reference"
                ref_out = out
    ref = c.median(times["reference"])
    tie_note = f"; top-k cut inside a tie: {ties[0]}/{ties[1]} row steps"
    rows.append([label, f"reference loop (published generate, {str(lm.model.dtype).removeprefix('torch.')})",
                 f"{ref:.3f}", len(batches) * gen, "1.000", "-", c.spread(times["reference"]),
                 ("outputs equal to default: asserted" if exact else "tokens not asserted (bf16)") + tie_note])
    for name, _ in variants:
        t = c.median(times[name])
        ratio = [a / b for a, b in zip(times[name], times["reference"], strict=True)]
        note = c.verdict(c.median(ratio), 1.0) + " (target <= 1.0)" if name == "default" else ""
        if name in agree:
            note += f"{'; ' if note else ''}{100 * agree[name]:.1f}% of positions equal the reference"
        rows.append([label, name, f"{t:.3f}", nfe[name], f"{c.median(ratio):.3f}",
                     f"{c.median(times['default']) / t:.2f}x", c.spread(times[name]), note])
    del ref_out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    c.common_args(parser)
    parser.add_argument("--batch", type=int, default=1, help="batch size of both loops")
    parser.add_argument("--dtype", default="auto", help="model dtype (auto: bfloat16 on CUDA, float32 on CPU)")
    args = parser.parse_args()
    c.apply_common(args)
    args.repeats = args.repeats or (5 if args.full else 3)
    print(c.machine_line(args.device))
    rows: list[list[Any]] = []
    n = args.batch * (2 if args.quick else 4)
    if (path := c.embedded_model()) is not None:
        print("model embedded diffusion: 4x4 Sudoku prompts, gen_length 24", flush=True)
        run("embedded diffusion (sudoku4)", path, None, sudoku_requests(n), 24, args, rows)
    print("model tiny llama: gen_length 32", flush=True)
    run("tiny llama h64 l4 v128", c.build_llada_like(64, 4, 128, 4, 2, 512), "llada",
        c.requests(n, {"max_gen_toks": 32, "until": []}, 32), 32, args, rows)
    if not args.quick:
        gen = 32 if args.full else 16
        print(f"model llama 39.6M: gen_length {gen}", flush=True)
        run("llama h512 l8 v16k (39.6M)", c.build_llada_like(512, 8, 16384), "llada",
            c.requests(args.batch * (4 if args.full else 2), {"max_gen_toks": gen, "until": []}, gen), gen, args,
            rows)
    print(f"\n## Adapter vs the plain LLaDA generate() loop (batch {args.batch}, {args.repeats} interleaved repeats)\n")
    print("default = family defaults (steps = gen_length, one block, low_confidence, greedy); ratio = wall / "
          "reference wall; speed-up = default wall / this wall; forwards = model calls (reference: steps x batches)."
          "\n")
    print(c.table(["model", "setting", "wall s", "forwards", "ratio vs ref", "speed-up vs default", "spread",
                   "note"], rows))


if __name__ == "__main__":
    main()
