"""Published checkpoints pinned as files (``checkpoints/<family>/<name>/``) and fake checkpoints built from them.

Each pinned folder holds a checkpoint's real ``config.json``, weight-name index and tokenizer
configs, copied from a public GitHub repository that vendors them (its ``SOURCE`` file names the
repository, path and commit). Qwen2's byte-level BPE (``vocab.json`` / ``merges.txt``, identical in
every Qwen-based checkpoint here) is stored once, xz-compressed, in ``checkpoints/_qwen2_bpe``.

A fake checkpoint keeps everything that decides whether a checkpoint loads: the real config with
only the widths shrunk (layer, expert and vocabulary counts kept), every real weight name (tiny
random tensors, written as two shards plus an index), the real tokenizer files.
"""

from __future__ import annotations

import gzip
import json
import lzma
import re
import shutil
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

ROOT = Path(__file__).parent / "checkpoints"
QWEN2_BPE = ROOT / "_qwen2_bpe"

_QWEN_TINY = {"hidden_size": 16, "num_attention_heads": 2, "num_key_value_heads": 1, "head_dim": 8,
              "intermediate_size": 32, "moe_intermediate_size": 8}


@dataclass(frozen=True)
class Pinned:
    """One published checkpoint whose small files are pinned in the tests."""

    family: str
    """The family detection must pick."""
    folder: str
    """Folder under ``checkpoints/``."""
    hub_id: str
    """The checkpoint's hub id."""
    tiny: dict[str, Any] = field(default_factory=dict)
    """config.json overrides that shrink the widths for a fake checkpoint."""
    stand_in_specials: dict[str, int] = field(default_factory=dict)
    """For a checkpoint whose ``tokenizer.json`` was not found: special tokens and their published ids."""
    config_from: str | None = None
    """Folder whose config and tokenizer files stand in when this checkpoint's were not found unmodified."""
    float32_weights: str | None = None
    """Regex of weight names the checkpoint stores in float32 (the rest in its config's dtype)."""
    fake_load: bool = True
    """Whether to load a fake copy through the adapter (False where another pinned one has the same names)."""

    @property
    def path(self) -> Path:
        """The pinned folder."""
        return ROOT / self.folder

    @property
    def files(self) -> Path:
        """Where the config and tokenizer files come from (this folder unless ``config_from``)."""
        return ROOT / (self.config_from or self.folder)

    def config(self) -> dict[str, Any]:
        """The real ``config.json``."""
        return json.loads((self.files / "config.json").read_text())

    def index(self) -> dict[str, Any] | None:
        """The real ``model.safetensors.index.json`` (stored gzip-compressed when large), or None."""
        plain, packed = self.path / "model.safetensors.index.json", self.path / "model.safetensors.index.json.gz"
        if plain.is_file():
            return json.loads(plain.read_text())
        if packed.is_file():
            return json.loads(gzip.decompress(packed.read_bytes()))
        return None


_LLADA_TINY = {"d_model": 16, "n_heads": 2, "n_kv_heads": 2, "mlp_hidden_size": 32}

PINNED = [
    Pinned("llada", "llada/LLaDA-8B-Instruct", "GSAI-ML/LLaDA-8B-Instruct", _LLADA_TINY),
    # Only LLaDA 1.5's index was found unmodified: same network as LLaDA-8B-Instruct (its model card).
    Pinned("llada", "llada/LLaDA-1.5", "GSAI-ML/LLaDA-1.5", _LLADA_TINY, config_from="llada/LLaDA-8B-Instruct"),
    Pinned("dream", "dream/Dream-v0-Instruct-7B", "Dream-org/Dream-v0-Instruct-7B", _QWEN_TINY),
    Pinned("sdar", "sdar/SDAR-1.7B-Chat", "JetLM/SDAR-1.7B-Chat", _QWEN_TINY),
    Pinned("sdar", "sdar/SDAR-4B-Chat", "JetLM/SDAR-4B-Chat", _QWEN_TINY),
    Pinned("sdar", "sdar/SDAR-8B-Chat", "JetLM/SDAR-8B-Chat", _QWEN_TINY),
    Pinned("sdar", "sdar/SDAR-30B-A3B-Chat", "JetLM/SDAR-30B-A3B-Chat", _QWEN_TINY),
    Pinned("fast_dllm_v2", "fast_dllm_v2/Fast_dLLM_v2_7B", "Efficient-Large-Model/Fast_dLLM_v2_7B", _QWEN_TINY),
    # LLaDA2's tokenizer.json was not found: a stand-in carries the published mask and EOS/pad ids.
    Pinned("llada2", "llada2/LLaDA2.0-mini", "inclusionAI/LLaDA2.0-mini", _QWEN_TINY,
           {"<|endoftext|>": 156892, "<|mask|>": 156895}),
    # LLaDA2.1 (decoded with family=llada2_1): LLaDA2.0-mini's network and names, expert biases in float32.
    Pinned("llada2", "llada2/LLaDA2.1-mini", "inclusionAI/LLaDA2.1-mini", _QWEN_TINY,
           {"<|endoftext|>": 156892, "<|mask|>": 156895}, float32_weights=r"\.mlp\.gate\.expert_bias$",
           fake_load=False),
]
"""Every pinned checkpoint."""

WITH_INDEX = [p for p in PINNED if p.index() is not None]
"""The pinned checkpoints whose weight-name index was found (all but the single-file SDAR-1.7B)."""


# ------------------------------------------------------------------ the owned network a loader builds
def loader_plan(pinned: Pinned, config: dict[str, Any] | None = None) -> tuple[Any, Any, dict[str, str]]:
    """(model class, native config, key mapping) the family's loader passes to ``from_checkpoint``.

    The loader runs as for a user; only its final ``from_checkpoint`` call is intercepted, so what is
    checked is exactly what the loader would build.
    """
    from model_adapters import LoadRequest, detect_family

    config = pinned.config() if config is None else config
    preset = detect_family(config)
    captured: dict[str, Any] = {}

    def capture(model_class: Any, native: Any, request: Any, key_mapping: dict[str, str]) -> None:
        captured.update(model_class=model_class, native=native, key_mapping=key_mapping)

    with ExitStack() as stack:
        for module in ("llada", "dream", "sdar", "llada2", "llada_moe"):
            stack.enter_context(mock.patch(f"model_adapters._models.{module}.from_checkpoint", capture))
        assert preset.loader is not None
        preset.loader(LoadRequest(str(pinned.files), config, "cpu", "bfloat16", False))
    return captured["model_class"], captured["native"], captured["key_mapping"]


def meta_state(model_class: Any, native: Any) -> dict[str, tuple[int, ...]]:
    """Name -> shape of every tensor the owned network loads, built on the meta device (no memory)."""
    import torch

    with torch.device("meta"):
        model = model_class(native)
    return {name: tuple(tensor.shape) for name, tensor in model.state_dict().items()
            if not name.endswith("rotary_emb.inv_freq")}


_EXPERT = re.compile(r"^(?P<prefix>.*\.experts)\.(?P<index>\d+)\.(?P<proj>gate|up|down)_proj\.weight$")


def native_name(name: str, key_mapping: dict[str, str]) -> str:
    """A checkpoint weight name renamed by the loader's key mapping (regexes applied in order)."""
    for pattern, replacement in key_mapping.items():
        name = re.sub(pattern, replacement, name)
    return name


def shapes_by_real_name(
    names: list[str], state: dict[str, tuple[int, ...]], key_mapping: dict[str, str]
) -> tuple[dict[str, tuple[int, ...]], list[str], list[str]]:
    """(real name -> shape, real names with no owned tensor, owned tensors no real name fills).

    transformers stores a MoE layer's experts fused (``experts.gate_up_proj`` [E, 2I, H],
    ``experts.down_proj`` [E, H, I]) and fuses the checkpoint's per-expert matrices on load; a fused
    tensor counts as filled when every expert of it has its real matrices.
    """
    shapes: dict[str, tuple[int, ...]] = {}
    unexpected: list[str] = []
    experts_seen: dict[str, set[tuple[int, str]]] = {}
    for name in names:
        target = native_name(name, key_mapping)
        if target in state:
            shapes[name] = state[target]
            continue
        match = _EXPERT.match(target)
        fused = f"{match['prefix']}.{'down_proj' if match['proj'] == 'down' else 'gate_up_proj'}" if match else ""
        if not match or fused not in state:
            unexpected.append(name)
            continue
        count, rows, cols = state[fused]
        shapes[name] = (rows // 2, cols) if match["proj"] != "down" else (rows, cols)
        experts_seen.setdefault(fused, set()).add((int(match["index"]), match["proj"]))
    filled = {native_name(n, key_mapping) for n in shapes}
    missing = []
    for name, shape in state.items():
        if name in filled:
            continue
        projections = ("down",) if name.endswith("down_proj") else ("gate", "up")
        wanted = {(e, p) for e in range(shape[0]) for p in projections}
        if not wanted <= experts_seen.get(name, set()):
            missing.append(name)
    return shapes, unexpected, missing


# ------------------------------------------------------------------ fake checkpoints
def build_fake(pinned: Pinned, out: Path, seed: int = 0) -> Path:
    """A loadable checkpoint: the real config (widths shrunk), every real weight name in two shards, real tokenizer.

    Returns:
        The checkpoint folder ``out``.
    """
    import torch
    from safetensors.torch import save_file

    index = pinned.index()
    assert index is not None, f"{pinned.folder} has no weight-name index"
    out.mkdir(parents=True, exist_ok=True)
    config = {**pinned.config(), **{k: v for k, v in pinned.tiny.items() if k in pinned.config()}}
    model_class, native, mapping = loader_plan(pinned, config)
    shapes, unexpected, missing = shapes_by_real_name(sorted(index["weight_map"]), meta_state(model_class, native),
                                                      mapping)
    assert not unexpected and not missing, (unexpected[:5], missing[:5])
    generator = torch.Generator().manual_seed(seed)
    tensors = {name: (1.0 + 0.1 * torch.randn(shape, generator=generator) if "norm" in name
                      else torch.randn(shape, generator=generator) / shape[-1] ** 0.5).to(torch.bfloat16)
               for name, shape in shapes.items()}
    names = sorted(tensors)
    shards = {"model-00001-of-00002.safetensors": names[: len(names) // 2],
              "model-00002-of-00002.safetensors": names[len(names) // 2:]}
    weight_map = {}
    for shard, members in shards.items():
        save_file({n: tensors[n] for n in members}, str(out / shard), metadata={"format": "pt"})
        weight_map |= {n: shard for n in members}
    total = sum(t.numel() * t.element_size() for t in tensors.values())
    (out / "model.safetensors.index.json").write_text(
        json.dumps({"metadata": {"total_size": total}, "weight_map": weight_map}, indent=2))
    (out / "config.json").write_text(json.dumps(config, indent=2))
    copy_tokenizer(pinned, out)
    return out


def copy_tokenizer(pinned: Pinned, out: Path) -> Path:
    """The checkpoint's real tokenizer files in ``out`` (Qwen2's BPE unpacked; a stand-in ``tokenizer.json``
    only where the real one was not found)."""
    out.mkdir(parents=True, exist_ok=True)
    for name in ("tokenizer_config.json", "special_tokens_map.json", "added_tokens.json", "chat_template.jinja",
                 "generation_config.json", "config.json"):
        if (pinned.files / name).is_file() and not (out / name).exists():
            shutil.copy(pinned.files / name, out / name)
    tokenizer_config = json.loads((pinned.files / "tokenizer_config.json").read_text())
    if tokenizer_config.get("tokenizer_class", "").startswith(("Qwen2Tokenizer", "DreamTokenizer")):
        for name in ("vocab.json", "merges.txt"):
            (out / name).write_bytes(lzma.decompress((QWEN2_BPE / f"{name}.xz").read_bytes()))
    else:
        specials = dict(pinned.stand_in_specials)
        specials |= {t["content"]: int(i) for i, t in tokenizer_config.get("added_tokens_decoder", {}).items()}
        (out / "tokenizer.json").write_text(stand_in_tokenizer_json(specials))
    return out


def stand_in_tokenizer_json(specials: dict[str, int]) -> str:
    """A byte-level BPE ``tokenizer.json`` with no merges whose special tokens sit at the given (real) ids.

    Used where a checkpoint's multi-megabyte ``tokenizer.json`` was not found in any public copy:
    the ids that matter to decoding (mask, EOS, end of turn) are the published ones; ordinary text
    encodes byte by byte.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers

    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    tokenizer = Tokenizer(models.BPE(vocab={c: i for i, c in enumerate(alphabet)}, merges=[]))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    data = json.loads(tokenizer.to_str())
    data["added_tokens"] = [
        {"id": i, "content": text, "single_word": False, "lstrip": False, "rstrip": False, "normalized": False,
         "special": True}
        for text, i in sorted(specials.items(), key=lambda item: item[1])
    ]
    data["model"]["vocab"] |= specials  # in the model's vocabulary too, or they are renumbered from 256
    return json.dumps(data)
