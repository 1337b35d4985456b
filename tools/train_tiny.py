"""Train the two embedded tiny models from scratch on the synthetic tasks, on one CPU thread, in one command.

A masked diffusion `ModernBertForMaskedLM` (MDLM objective) and an autoregressive `LlamaForCausalLM` of about
the same size, on the same examples, with one character-level tokenizer. Each model is trained from freshly
initialized weights for a fixed number of steps, so the same command and seed give the same weights (the two
models are independent: `--models diffusion` alone gives the same diffusion weights as the default run).
Held-out accuracy is measured on the tasks' own evaluation items (never trained on) with the tasks' own scorers.

    python tools/train_tiny.py                      # both models, the shipped recipe, into model_adapters/_embedded
    python tools/train_tiny.py --steps 300 --n-eval 20 --out /tmp/tiny   # a quick trial
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import random
import shlex
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _tiny_data import Encoded, build_tokenizer, causal_batch, diffusion_batch, encode, save_tokenizer  # noqa: E402
from _tiny_models import ar_decode, cut_at_eos, diffusion_decode, make_ar_model, make_diffusion_model  # noqa: E402
from _tiny_tasks import TaskData, load_task  # noqa: E402

DEFAULT_TASKS = {
    "mdlm_sudoku4_easy": 2.0,
    "mdlm_sudoku4_hard": 2.0,
    "mdlm_countdown3": 1.0,
    "mdlm_pb_copy_small": 1.0,
    "mdlm_pb_reverse_small": 1.0,
    "mdlm_pb_sort_small": 1.0,
}
"""Trained tasks and their sampling weights (the share of each batch drawn from the task)."""

KINDS = ("diffusion", "ar")

DEFAULT_STEPS = {"diffusion": 8000, "ar": 3000}
"""Optimizer steps per model in the shipped recipe (the AR model learns these tasks in fewer)."""


@dataclass
class TrainConfig:
    """Hyper-parameters of one training run."""

    steps: int
    """Optimizer steps (fixed: the machine's load must not change the result)."""
    batch_size: int = 32
    """Examples per step."""
    lr: float = 3e-3
    """Peak AdamW learning rate (linear warm-up, cosine decay to 10%)."""
    warmup: int = 100
    """Warm-up steps."""
    weight_decay: float = 0.01
    """AdamW weight decay."""
    hidden: int = 64
    """Hidden size of both models."""
    layers: int = 4
    """Transformer layers."""
    heads: int = 4
    """Attention heads (head dim = hidden / heads)."""


def lr_at(step: int, cfg: TrainConfig) -> float:
    """Learning rate at `step`: linear warm-up then cosine decay to 10% of the peak."""
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    frac = (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup)
    return cfg.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))


def mdlm_loss(model, batch: dict[str, torch.Tensor], mask_id: int, gen: torch.Generator) -> torch.Tensor:
    """MDLM loss: mask each target position with probability t ~ U(0, 1) per sample; CE on masked, weight 1/t.

    The prompt is never masked. t is stratified over the batch (lower variance, same expectation); each
    sample's loss is normalized by its target length, as in LLaDA's SFT.
    """
    ids, region = batch["input_ids"], batch["region"]
    n = ids.shape[0]
    t = ((torch.rand(1, generator=gen) + torch.arange(n) / n) % 1.0).clamp_min(1e-3)
    masked = region & (torch.rand(ids.shape, generator=gen) < t[:, None])
    noisy = ids.masked_fill(masked, mask_id)
    logits = model(input_ids=noisy, attention_mask=batch["attention_mask"]).logits
    ce = F.cross_entropy(logits[masked], ids[masked], reduction="none")
    weight = (1.0 / (t[:, None] * batch["gen_length"][:, None])).expand_as(ids)[masked]
    return (ce * weight).sum() / n


def causal_loss(model, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Next-token cross-entropy on the answer and its EOS only."""
    return model(**batch).loss


@dataclass
class Prepared:
    """Everything both models are trained on: tasks, tokenizer, encoded examples and their sampling weights."""

    tasks: list[TaskData]
    """Per task: training examples, evaluation items, scorer."""
    tokenizer: object
    """The shared character-level tokenizer."""
    data: list[Encoded]
    """All training examples, tokenized."""
    weights: list[float]
    """Sampling weight of each example (a task's weight split evenly over its examples)."""
    max_len: int
    """Positions the models are built for (a power of two above the longest canvas)."""


def prepare(task_weights: dict[str, float], n_train: int, seed: int, n_eval: int = 0) -> Prepared:
    """Generate (deterministically from `seed`) and tokenize the training data of every task.

    Args:
        task_weights: Task name -> sampling weight.
        n_train: Training examples generated per task (capped for tasks with a small item space).
        seed: Training seed (the data seed is derived from it, never the evaluation seed).
        n_eval: Keep only the first `n_eval` evaluation items per task (0: all).
    """
    tasks = [load_task(name, n_train, seed, n_eval) for name in task_weights]
    text = "".join(d["prompt"] + d["answer"] for t in tasks for d in t.train + t.eval)
    tokenizer = build_tokenizer(extra_chars="".join(sorted(set(text))))
    data, weights = [], []
    for task in tasks:
        enc = encode(tokenizer, task.name, task.train, task.gen_length)
        data += enc
        weights += [task_weights[task.name] / len(enc)] * len(enc)
    max_len = 1 << (max((len(e.prompt) + e.gen_length for e in data), default=0) + 64).bit_length()
    tokenizer.model_max_length = max_len
    return Prepared(tasks, tokenizer, data, weights, max_len)


def train_model(kind: str, prep: Prepared, cfg: TrainConfig, seed: int, log_every: int = 100):
    """Build a fresh model of `kind` (seeded) and train it for `cfg.steps` steps.

    Everything random (initial weights, batch sampling, masking) comes from `seed`, so the result depends only
    on the arguments: the same call in another process gives bit-identical weights on the same machine.

    Returns:
        The trained model (eval mode) and the loss curve (mean every `log_every` steps).
    """
    tok = prep.tokenizer
    torch.manual_seed(seed)
    make = make_diffusion_model if kind == "diffusion" else make_ar_model
    model = make(tok, cfg.hidden, cfg.layers, cfg.heads, prep.max_len)
    gen = torch.Generator().manual_seed(seed)
    rng = random.Random(seed)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay, betas=(0.9, 0.98))
    model.train()
    curve, window, t0 = [], [], time.time()
    for step in range(cfg.steps):
        items = rng.choices(prep.data, weights=prep.weights, k=cfg.batch_size)
        if kind == "diffusion":
            loss = mdlm_loss(model, diffusion_batch(items, tok.pad_token_id, tok.eos_token_id), tok.mask_token_id, gen)
        else:
            loss = causal_loss(model, causal_batch(items, tok.pad_token_id, tok.eos_token_id))
        for group in opt.param_groups:
            group["lr"] = lr_at(step, cfg)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        window.append(loss.item())
        if (step + 1) % log_every == 0 or step + 1 == cfg.steps:
            curve.append(round(sum(window) / len(window), 4))
            window = []
            print(f"[{kind}] step {step + 1}/{cfg.steps} loss {curve[-1]:.4f} ({time.time() - t0:.0f}s)", flush=True)
    model.eval()
    return model, curve


def evaluate(model, kind: str, task: TaskData, tokenizer, batch_size: int = 100) -> float:
    """Held-out accuracy on the task's evaluation items, decoded as the shipped conventions prescribe."""
    docs = task.eval
    prompts = [tokenizer(d["prompt"], add_special_tokens=False)["input_ids"] for d in docs]
    scores = []
    for i in range(0, len(docs), batch_size):
        chunk = prompts[i : i + batch_size]
        if kind == "diffusion":
            outs = diffusion_decode(model, chunk, task.gen_length, tokenizer.mask_token_id, tokenizer.pad_token_id)
        else:
            outs = ar_decode(model, chunk, task.gen_length, tokenizer.pad_token_id)
        for doc, out in zip(docs[i : i + batch_size], outs, strict=True):
            text = tokenizer.decode(cut_at_eos(out, tokenizer.eos_token_id), skip_special_tokens=True)
            scores.append(task.score(doc, text))
    return sum(scores) / len(scores)


DECODING = {
    "diffusion": "low-confidence remasking, 1 token/step, steps = max_gen_toks, one block, temperature 0",
    "ar": "greedy, stop at [EOS]",
}


def load(kind: str, path: Path):
    """Load a saved checkpoint and its tokenizer (plain `from_pretrained`, offline)."""
    from transformers import AutoModelForCausalLM, AutoModelForMaskedLM, AutoTokenizer

    auto = AutoModelForMaskedLM if kind == "diffusion" else AutoModelForCausalLM
    return auto.from_pretrained(path).eval(), AutoTokenizer.from_pretrained(path)


def save(model, tokenizer, out: Path) -> tuple[int, str]:
    """Save weights + tokenizer readable by all (save_pretrained writes 0600); returns the weights' size, sha256."""
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    save_tokenizer(tokenizer, out)
    for f in out.iterdir():
        f.chmod(0o644)
    weights = (out / "model.safetensors").read_bytes()
    return len(weights), hashlib.sha256(weights).hexdigest()


def write_card(out: Path, kind: str, info: dict) -> None:
    """Write MODEL_CARD.md: data, command, seed, steps, wall time, held-out accuracy per task."""
    arch = "ModernBertForMaskedLM, MDLM objective" if kind == "diffusion" else "LlamaForCausalLM, next-token loss"
    cfg = info["config"]
    lines = [
        f"# mdlm-bench embedded {kind} model",
        "",
        f"A tiny character-level {arch}, trained from scratch on CPU by `tools/train_tiny.py` for the offline",
        "demo and tests. It knows only the synthetic tasks below; it is a fixture, not a language model.",
        "",
        f"- command: `{info['command']}`; a model's weights depend on neither `--models` nor `--out`, so the",
        "  default `python tools/train_tiny.py` (both models, into model_adapters/_embedded) gives these same weights",
        f"- seed: {info['seed']}; steps: {cfg['steps']}; batch size: {cfg['batch_size']}; peak lr: {cfg['lr']} "
        f"(warm-up {cfg['warmup']}, cosine to 10%); AdamW weight decay {cfg['weight_decay']}",
        f"- size: hidden {cfg['hidden']}, {cfg['layers']} layers, {cfg['heads']} heads; {info['params']:,} parameters; "
        f"weights {info['bytes']:,} bytes (float32 safetensors, sha256 `{info['sha256'][:16]}...`)",
        f"- training wall time: {info['wall_s']:.0f} s on one CPU thread ({info['torch']}), on a shared 2-core machine",
        "  whose load varies (fixed steps, so the load changes only the time); the same command and seed",
        "  reproduce the weights bit for bit on the same software (tests/tools/test_train_tiny.py checks it)",
        f"- decoding for the accuracies below: {info['decoding']}",
        "",
        "## Data and held-out accuracy",
        "",
        "Training examples come from `mdlm_tasks.synthetic.make_examples` with a training seed; any item sharing a",
        "key with an evaluation item is dropped, so the accuracies are measured on prompts never seen in training,",
        "scored by each task's own scorer (`acc`). The weight is the task's share of each training batch.",
        "",
        "| task | weight | train examples | train seed | max_gen_toks | held-out items | held-out accuracy |",
        "|---|---|---|---|---|---|---|",
    ]
    for t in info["tasks"]:
        lines.append(
            f"| {t['task']} | {t['weight']:g} | {t['n_train']} | {t['train_seed']} | {t['gen_length']} | "
            f"{t['n_eval']} | {t['acc']:.3f} |"
        )
    lines += ["", f"Loss every 100 steps: {info['curve']}", ""]
    (out / "MODEL_CARD.md").write_text("\n".join(lines))
    (out / "MODEL_CARD.md").chmod(0o644)


def _measure(model, kind: str, prep: Prepared, weights: dict[str, float], n_train: dict[str, int]) -> list[dict]:
    rows = []
    for task in prep.tasks:
        t0 = time.time()
        acc = evaluate(model, kind, task, prep.tokenizer)
        print(f"[{kind}] {task.name}: held-out accuracy {acc:.3f} on {len(task.eval)} ({time.time() - t0:.0f}s)")
        rows.append(
            {
                "task": task.name,
                "weight": weights[task.name],
                "n_train": n_train.get(task.name, len(task.train)),
                "train_seed": task.train_seed,
                "gen_length": task.gen_length,
                "n_eval": len(task.eval),
                "acc": round(acc, 4),
            }
        )
    return rows


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    d = TrainConfig(steps=0)
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--steps", type=int, default=None, help=f"optimizer steps of every model (default {DEFAULT_STEPS})")
    p.add_argument("--out", type=Path, default=Path("model_adapters/_embedded"))
    p.add_argument("--tasks", default=",".join(DEFAULT_TASKS), help="comma-separated synthetic task names")
    p.add_argument("--weights", default="", help="comma-separated sampling weights per task (default: the recipe's)")
    p.add_argument("--n-train", type=int, default=20000, help="training examples generated per task")
    p.add_argument("--n-eval", type=int, default=0, help="evaluate on the first N eval items per task (0: all)")
    p.add_argument("--models", default="diffusion,ar", help="which models to train")
    p.add_argument("--batch-size", type=int, default=d.batch_size)
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--warmup", type=int, default=d.warmup)
    p.add_argument("--hidden", type=int, default=d.hidden)
    p.add_argument("--layers", type=int, default=d.layers)
    p.add_argument("--heads", type=int, default=d.heads)
    p.add_argument("--eval-only", action="store_true", help="re-evaluate the checkpoints in --out, update cards")
    args = p.parse_args(argv)

    torch.set_num_threads(1)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    names = args.tasks.split(",")
    if args.weights:
        weights = dict(zip(names, (float(w) for w in args.weights.split(",")), strict=True))
    else:
        weights = {name: DEFAULT_TASKS.get(name, 1.0) for name in names}
    t0 = time.time()
    prep = prepare(weights, 0 if args.eval_only else args.n_train, args.seed, args.n_eval)
    print(f"{len(prep.data)} training examples; tasks {names}; {time.time() - t0:.0f}s", flush=True)

    command = "python " + shlex.join(["tools/train_tiny.py", *(argv if argv is not None else sys.argv[1:])])
    for kind in args.models.split(","):
        if kind not in KINDS:
            raise SystemExit(f"unknown model kind {kind!r}; expected {KINDS}")
        out = args.out / kind
        if args.eval_only:  # re-measure a saved checkpoint (e.g. after the tasks' eval items changed)
            model, prep.tokenizer = load(kind, out)
            info = json.loads((out / "training.json").read_text())
        else:
            steps = args.steps if args.steps is not None else DEFAULT_STEPS[kind]
            cfg = TrainConfig(steps, args.batch_size, args.lr, args.warmup, 0.01, args.hidden, args.layers, args.heads)
            t1 = time.time()
            model, curve = train_model(kind, prep, cfg, args.seed)
            info = {
                "command": command,
                "seed": args.seed,
                "config": asdict(cfg),
                "params": sum(p.numel() for p in model.parameters()),
                "wall_s": round(time.time() - t1, 1),
                "torch": f"torch {torch.__version__}",
                "decoding": DECODING[kind],
                "curve": curve,
            }
            info["bytes"], info["sha256"] = save(model, prep.tokenizer, out)
        n_train = {t["task"]: t["n_train"] for t in info.get("tasks", [])}  # --eval-only generates none
        info["tasks"] = _measure(model, kind, prep, weights, n_train)
        (out / "training.json").write_text(json.dumps(info, indent=1, sort_keys=True) + "\n")
        (out / "training.json").chmod(0o644)
        write_card(out, kind, info)
        print(json.dumps({k: v for k, v in info.items() if k != "curve"}), flush=True)


if __name__ == "__main__":
    main()
