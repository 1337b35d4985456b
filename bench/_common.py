"""Shared pieces of the speed benchmarks: test models, a forward-pass timer, requests, timers, machine info.

Not a test helper: nothing here asserts on time. Scripts import it as ``_common`` (run them as
``python bench/bench_<name>.py`` from the repository root).
"""

from __future__ import annotations

import contextlib
import functools
import os
import platform
import resource
import statistics
import string
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import torch

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # so `tests.model_adapters.reference_llada` and `model_adapters` import from the tree
    sys.path.insert(0, str(ROOT))

MASK = "<|mdm_mask|>"
EOS = "<|endoftext|>"
EOT = "<|eot_id|>"
CACHE_DIR = Path(os.environ.get("MDLM_BENCH_CACHE", "/tmp/mdlm_bench_models"))

PROMPT_WORDS = (
    "the quick brown fox jumps over the lazy dog while a masked diffusion model fills in every blank of the "
    "canvas step by step and the engine commits the most confident tokens first"
).split()


# ----------------------------------------------------------------------------- models
def llada_tokenizer(vocab_size: int) -> Any:
    """Character-level fast tokenizer with LLaDA's special tokens, padded to ``vocab_size`` with n-gram pieces.

    Encoding splits into single characters; decoding any id (n-grams included) is well defined, so
    a random-weight model of a realistic vocabulary size decodes to text.
    """
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    specials = ["[PAD]", "[UNK]", MASK, EOS, EOT]
    chars = sorted(set(string.printable) - set(string.whitespace)) + [" ", "\n"]
    pieces = specials + chars
    seen = set(pieces)
    alphabet = string.ascii_lowercase + " "
    for a in alphabet:  # n-grams, deterministic order, until the vocabulary is full
        for b in alphabet:
            for c in ("", *alphabet):
                if len(pieces) >= vocab_size:
                    break
                if (piece := a + b + c) not in seen:
                    seen.add(piece)
                    pieces.append(piece)
    vocab = {tok: i for i, tok in enumerate(pieces)}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Split(Regex("."), behavior="isolated")
    tok.decoder = decoders.Fuse()
    tok.add_special_tokens(specials)
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="[PAD]", unk_token="[UNK]", mask_token=MASK, eos_token=EOS,
        additional_special_tokens=[EOT],
    )


def _build_random(out: Path, arch: str, vocab: int, seed: int, scale: float, **config: Any) -> Path:
    """Save a random-weight transformers ``<arch>ForCausalLM`` with ``llada_tokenizer(vocab)`` to ``out`` once."""
    if (out / "config.json").is_file():
        return out
    import transformers

    tokenizer = llada_tokenizer(vocab)
    torch.manual_seed(seed)
    hidden = config["hidden_size"]
    model = getattr(transformers, f"{arch}ForCausalLM")(getattr(transformers, f"{arch}Config")(
        vocab_size=len(tokenizer), intermediate_size=int(hidden * 8 / 3) // 64 * 64,
        pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id, tie_word_embeddings=False, **config,
    ))
    if scale != 1.0:
        with torch.no_grad():  # larger weights give peaked, tie-free distributions (as tests/tiny_models.py)
            for p in model.parameters():
                p.mul_(scale)
    tmp = out.with_name(out.name + f".tmp{os.getpid()}")  # concurrent builders never see a half-written folder
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    tmp.rename(out)
    return out


def build_llada_like(
    hidden: int = 512, layers: int = 8, vocab: int = 16384, heads: int = 8, kv_heads: int = 4,
    max_positions: int = 4096, seed: int = 0, out: Path | None = None,
) -> Path:
    """A random-weight ``LlamaForCausalLM`` in the LLaDA convention (mask ``<|mdm_mask|>``), cached on disk.

    Returns:
        The model folder (built once per shape, then reused).
    """
    return _build_random(
        out or CACHE_DIR / f"llada_h{hidden}_l{layers}_v{vocab}_s{seed}", "Llama", vocab, seed, 4.0,
        hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=heads, num_key_value_heads=kv_heads,
        max_position_embeddings=max_positions,
    )


def build_sdar_like(
    hidden: int = 512, layers: int = 8, vocab: int = 16384, heads: int = 8, kv_heads: int = 4,
    max_positions: int = 4096, seed: int = 0,
) -> Path:
    """A random-weight ``Qwen3ForCausalLM`` (SDAR's backbone: q/k norms, GQA), cached on disk.

    For the block-causal benchmarks the engine is driven directly (``attention="block_causal"``), so the
    checkpoint needs no SDAR config of its own; the tokenizer is ``llada_tokenizer``'s.
    """
    return _build_random(
        CACHE_DIR / f"qwen3_h{hidden}_l{layers}_v{vocab}_s{seed}", "Qwen3", vocab, seed, 1.0,
        hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=heads, num_key_value_heads=kv_heads,
        head_dim=hidden // heads, max_position_embeddings=max_positions,
    )


def embedded_model() -> Path | None:
    """The embedded diffusion model's folder, or None (with the reason printed) when it is not installed yet."""
    try:
        from model_adapters._embedded import embedded_path

        path = Path(embedded_path("diffusion"))
    except Exception as error:  # noqa: BLE001  (any failure means: skip this part)
        print(f"NOTE: embedded model not available ({type(error).__name__}: {error}); its rows are skipped.")
        return None
    if not (path / "config.json").is_file():
        print(f"NOTE: embedded model folder {path} has no config.json yet; its rows are skipped.")
        return None
    return path


def make_adapter(path: Path, device: str, batch_size: int, family: str | None = "llada", **kwargs: Any) -> Any:
    """An ``MDLMAdapter`` on ``path`` (trace off unless a ``trace_path`` is given)."""
    from model_adapters._adapter import MDLMAdapter

    kwargs.setdefault("trace", "trace_path" in kwargs)
    if family is not None:
        kwargs["family"] = family
    return MDLMAdapter(pretrained=str(path), device=device, batch_size=batch_size, **kwargs)


def requests(n: int, gen_kwargs: dict[str, Any], prompt_chars: int = 48, task: str = "bench") -> list[Any]:
    """``n`` distinct generate_until Instances whose prompts all have ``prompt_chars`` characters."""
    from lm_eval.api.instance import Instance

    out = []
    for i in range(n):
        words = [PROMPT_WORDS[(i * 7 + j * 3) % len(PROMPT_WORDS)] for j in range(prompt_chars)]
        text = f"{i}: " + " ".join(words)
        text = (text * (prompt_chars // max(len(text), 1) + 1))[:prompt_chars]
        out.append(Instance("generate_until", {}, (text, dict(gen_kwargs)), idx=0, metadata=(task, i, 1)))
    return out


# ----------------------------------------------------------------------------- timing
def sync(device: str | torch.device) -> None:
    """Wait for queued device work so a host timer covers it (no-op on CPU)."""
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


class ForwardTimer:
    """Wraps ``model.forward`` to add up wall time spent inside it (synchronised on CUDA) and count calls."""

    def __init__(self, model: Any, device: str | torch.device) -> None:
        self.model, self.device = model, torch.device(device)
        self.seconds, self.calls = 0.0, 0
        self._original = model.forward

        @functools.wraps(self._original)
        def timed(*args: Any, **kwargs: Any) -> Any:
            sync(self.device)
            t0 = time.perf_counter()
            out = self._original(*args, **kwargs)
            sync(self.device)
            self.seconds += time.perf_counter() - t0
            self.calls += 1
            return out

        model.forward = timed

    def reset(self) -> None:
        """Zero the counters."""
        self.seconds, self.calls = 0.0, 0

    def remove(self) -> None:
        """Restore the model's own forward."""
        self.model.forward = self._original


@contextlib.contextmanager
def timed(device: str | torch.device, into: list[float]) -> Iterator[None]:
    """Append the synchronised wall time of the block to ``into``."""
    sync(device)
    t0 = time.perf_counter()
    yield
    sync(device)
    into.append(time.perf_counter() - t0)


def median(values: list[float]) -> float:
    """Median (the figure every table reports; the spread is printed beside it)."""
    return statistics.median(values)


def spread(values: list[float]) -> str:
    """min-max of repeats as a percentage of the median: the noise of the figure."""
    if len(values) < 2:
        return "-"
    m = median(values)
    return f"{100 * (max(values) - min(values)) / m:.0f}%" if m else "-"


def reset_peak_memory(device: str | torch.device) -> None:
    """Start a fresh CUDA peak (CPU RSS peaks cannot be reset; see ``peak_memory_mb``)."""
    if torch.device(device).type == "cuda":
        torch.cuda.reset_peak_memory_stats()


def peak_memory_mb(device: str | torch.device) -> float:
    """Peak memory in MiB: ``torch.cuda.max_memory_allocated`` on CUDA, else the process' peak RSS."""
    if torch.device(device).type == "cuda":
        return torch.cuda.max_memory_allocated() / 2**20
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    return peak / (2**20 if sys.platform == "darwin" else 2**10)


# ----------------------------------------------------------------------------- output
def machine_line(device: str) -> str:
    """One line naming the machine the figures come from."""
    cpu = platform.processor() or "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    import transformers

    gpu = f", GPU {torch.cuda.get_device_name()}" if torch.device(device).type == "cuda" else ""
    return (
        f"machine: nproc={os.cpu_count()}, CPU {cpu}{gpu}, torch {torch.__version__}, transformers "
        f"{transformers.__version__}, torch threads={torch.get_num_threads()}, "
        f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}, load avg {os.getloadavg()[0]:.1f}"
    )


def table(headers: list[str], rows: list[list[Any]]) -> str:
    """A Markdown table (copy-paste into bench/README.md)."""
    cells = [[str(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    line = lambda r: "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |"  # noqa: E731
    return "\n".join([line(headers), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, cells)])


def verdict(value: float, target: float) -> str:
    """'met' / 'NOT met' against an upper-bound target."""
    return "met" if value <= target else "NOT met"


def setting_supported(name: str) -> bool:
    """Whether ``DecodingSettings`` has a field ``name`` (features still being added by other engineers)."""
    from model_adapters._settings import DecodingSettings

    return name in DecodingSettings.field_names()


def common_args(parser: Any) -> None:
    """--device/--quick/--full/--repeats flags every script takes."""
    parser.add_argument("--device", default="cpu", help="cpu or cuda (figures are synchronised on CUDA)")
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="smallest run (smoke test, ~1 min)")
    size.add_argument("--full", action="store_true", help="larger run (more repeats and sizes; several minutes)")
    parser.add_argument("--repeats", type=int, default=None, help="timing repeats (median reported)")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: as the env says)")


def apply_common(args: Any) -> None:
    """Act on the common flags."""
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        raise SystemExit("--device cuda requested but CUDA is not available")


Timer = Callable[[], float]
