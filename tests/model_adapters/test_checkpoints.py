"""The published checkpoints, checked through their real files (``checkpoints/``; see ``_checkpoints.py``).

For each pinned checkpoint: the family is detected from its real ``config.json``; the network its
loader builds (on the meta device) has exactly the parameter count the published index records;
every real weight name maps onto that network with nothing missing or left over; and a fake
checkpoint (real config with tiny widths, every real weight name in two shards, real tokenizer
files) loads through ``MDLMAdapter(pretrained=...)``, the code ``--model_args pretrained=...``
reaches, and decodes.
"""

from __future__ import annotations

import json
import logging
import math
import re
from pathlib import Path

import pytest
from lm_eval.api.instance import Instance

from model_adapters import LoadRequest, detect_family
from model_adapters._adapter import MDLMAdapter
from tests.model_adapters._checkpoints import (
    PINNED,
    ROOT,
    WITH_INDEX,
    Pinned,
    build_fake,
    copy_tokenizer,
    loader_plan,
    meta_state,
    shapes_by_real_name,
)

_BYTES = {"bfloat16": 2, "float16": 2, "float32": 4}

# Token ids the authors publish (model cards and reference code; DESIGN.md section 4).
PUBLISHED_IDS = {
    "llada": {"mask": 126336, "eos": 126081, "eot": 126348},
    "dream": {"mask": 151666, "eos": 151643, "eot": 151645},
    "sdar": {"mask": 151669, "eos": 151643, "eot": 151645},
    "fast_dllm_v2": {"mask": 151665, "eos": 151645, "eot": 151645},
    "llada2": {"mask": 156895, "eos": 156892, "eot": None},
}


def _id(pinned: Pinned) -> str:
    return pinned.folder.split("/")[-1]


@pytest.fixture(scope="module")
def fake(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    """Fake checkpoint of a pinned one, built once per module (a copy to edit: ``fake(p, copy=True)``)."""
    import shutil

    built: dict[str, Path] = {}

    def get(pinned: Pinned, copy: bool = False) -> Path:
        if pinned.folder not in built:
            built[pinned.folder] = build_fake(pinned, tmp_path_factory.mktemp("fake") / _id(pinned))
        if not copy:
            return built[pinned.folder]
        return Path(shutil.copytree(built[pinned.folder], tmp_path_factory.mktemp("copy") / _id(pinned)))

    return get


def test_every_pinned_folder_names_its_source() -> None:
    folders = {p.folder for p in PINNED} | {"_qwen2_bpe"}
    for folder in folders:
        source = (ROOT / folder / "SOURCE").read_text()
        assert "repository: https://github.com/" in source and "commit: " in source, folder
        assert len(source.split("commit: ")[1].split()[0]) == 40, folder


@pytest.mark.parametrize("pinned", PINNED, ids=_id)
def test_family_detected_from_the_real_config(pinned) -> None:
    assert detect_family(pinned.config()).name == pinned.family


@pytest.mark.parametrize("pinned", WITH_INDEX, ids=_id)
def test_owned_network_has_the_published_parameter_count(pinned) -> None:
    model_class, native, mapping = loader_plan(pinned)
    state = meta_state(model_class, native)
    dtype = pinned.config().get("torch_dtype") or pinned.config().get("dtype") or "bfloat16"
    shapes, _, _ = shapes_by_real_name(sorted(pinned.index()["weight_map"]), state, mapping)
    wide = [n for n in shapes if pinned.float32_weights and re.search(pinned.float32_weights, n)]
    size = sum(math.prod(shape) for shape in state.values()) * _BYTES[dtype]
    size += sum(math.prod(shapes[n]) for n in wide) * (_BYTES["float32"] - _BYTES[dtype])
    assert size == pinned.index()["metadata"]["total_size"]


@pytest.mark.parametrize("pinned", WITH_INDEX, ids=_id)
def test_every_real_weight_name_maps_onto_the_owned_network(pinned) -> None:
    model_class, native, mapping = loader_plan(pinned)
    names = sorted(pinned.index()["weight_map"])
    shapes, unexpected, missing = shapes_by_real_name(names, meta_state(model_class, native), mapping)
    assert unexpected == [] and missing == []
    assert len(shapes) == len(names)


def test_a_config_rewritten_for_another_network_is_refused() -> None:
    # LLaDA 1.5's only public copy has rope off and YaRN scaling added by a fine-tuning project.
    config = json.loads((ROOT / "llada/LLaDA-1.5/config.modified.json").read_text())
    preset = detect_family(config)
    with pytest.raises(NotImplementedError, match="rope"):
        preset.loader(LoadRequest(str(ROOT / "llada/LLaDA-1.5"), config, "cpu", "float32", False))


# ------------------------------------------------------------------ tokenizers, no remote code
@pytest.mark.parametrize("pinned", PINNED, ids=_id)
def test_tokenizer_loads_without_remote_code_with_the_published_ids(pinned, tmp_path) -> None:
    from model_adapters._models._tokenizer import load_tokenizer

    folder = copy_tokenizer(pinned, tmp_path / "tok")
    preset = detect_family(pinned.config())
    tokenizer = load_tokenizer(str(folder), preset=preset)
    vocab = tokenizer.get_vocab()
    ids = PUBLISHED_IDS[pinned.family]
    assert vocab[preset.mask_token] == ids["mask"] == preset.mask_token_id
    assert tokenizer.eos_token_id == ids["eos"]
    if ids["eot"] is not None:
        assert vocab[preset.eot_token] == ids["eot"]
    assert tokenizer.decode(tokenizer("Hello, world")["input_ids"]) == "Hello, world"


def test_dream_tokenizer_is_qwen2_bpe_with_its_chat_template_and_no_remote_code(tmp_path) -> None:
    from transformers import AutoTokenizer

    from model_adapters._models._tokenizer import load_tokenizer

    dream = next(p for p in PINNED if p.family == "dream")
    folder = copy_tokenizer(dream, tmp_path / "dream")
    with pytest.raises(ValueError, match="custom code"):  # what a plain AutoTokenizer does with its auto_map
        AutoTokenizer.from_pretrained(str(folder), trust_remote_code=False)
    tokenizer = load_tokenizer(str(folder))
    assert type(tokenizer).__name__.startswith("Qwen2Tokenizer") and tokenizer.is_fast
    # Qwen2.5's ids for ordinary text (the same BPE as every Qwen2-based model).
    assert tokenizer("Hello world", add_special_tokens=False)["input_ids"] == [9707, 1879]
    chat = tokenizer.apply_chat_template([{"role": "user", "content": "hi"}], tokenize=False,
                                         add_generation_prompt=True)
    assert chat == ("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n"
                    "<|im_start|>assistant\n")
    assert (tokenizer.mask_token, tokenizer.mask_token_id, tokenizer.pad_token_id) == ("<|mask|>", 151666, 151643)


def test_trust_remote_code_still_loads_the_checkpoints_own_tokenizer_class(tmp_path, monkeypatch) -> None:
    import transformers

    from model_adapters._models._tokenizer import load_tokenizer

    dream = next(p for p in PINNED if p.family == "dream")
    folder = copy_tokenizer(dream, tmp_path / "dream")
    calls = []
    monkeypatch.setattr(transformers.AutoTokenizer, "from_pretrained", lambda *a, **k: calls.append(k) or "theirs")
    assert load_tokenizer(str(folder), trust_remote_code=True) == "theirs"
    assert calls == [{"revision": None, "trust_remote_code": True}]


# ------------------------------------------------------------------ fake checkpoints through the adapter
@pytest.mark.parametrize("pinned", [p for p in WITH_INDEX if p.fake_load], ids=_id)
def test_fake_checkpoint_with_real_names_loads_and_decodes_through_the_adapter(pinned, fake) -> None:
    folder = fake(pinned)
    assert len(list(folder.glob("model-0000*-of-00002.safetensors"))) == 2
    lm = MDLMAdapter(pretrained=str(folder), device="cpu", dtype="float32", trace=False)
    assert lm.preset.name == pinned.family
    ids = PUBLISHED_IDS[pinned.family]
    assert (lm.special.mask_id, lm.special.eos_id) == (ids["mask"], ids["eos"])
    vocab = int(pinned.config().get("embedding_size") or pinned.config()["vocab_size"])
    assert lm.model.lm_head.weight.shape[0] == vocab  # the real vocabulary, so real token ids index it
    # A few tokens in two denoising steps: enough to run every layer over the real vocabulary.
    request = Instance("generate_until", {}, ("Hello, world", {"max_gen_toks": 4, "steps": 2, "until": []}), idx=0,
                       metadata=("t", 0, 1))
    [text] = lm.generate_until([request], disable_tqdm=True)
    assert isinstance(text, str)


# ------------------------------------------------------------------ attention implementation
@pytest.mark.parametrize("own", [None, "flash_attention_2", "flex_attention", "eager", "sdpa"])
def test_checkpoint_attention_choice_is_ignored_for_sdpa(own, fake, caplog) -> None:
    dream = next(p for p in WITH_INDEX if p.family == "dream")
    folder = fake(dream, copy=True)
    config = json.loads((folder / "config.json").read_text())
    config.pop("attn_implementation", None)
    if own:
        config["attn_implementation"] = own
    (folder / "config.json").write_text(json.dumps(config))
    with caplog.at_level(logging.WARNING, logger="model_adapters._loading"):
        lm = MDLMAdapter(pretrained=str(folder), device="cpu", dtype="float32", trace=False)
    assert lm.model.config._attn_implementation == "sdpa"
    ignored = [r for r in caplog.records if "ignored" in r.getMessage()]
    assert len(ignored) == (1 if own not in (None, "sdpa") else 0)


@pytest.mark.parametrize(("asked", "used"), [("eager", "eager"), ("sdpa", "sdpa"), ("flex_attention", "sdpa")])
def test_attn_implementation_model_argument(asked, used, fake) -> None:
    # flex attention needs CUDA: on this CPU it falls back to SDPA with a warning.
    sdar = next(p for p in WITH_INDEX if p.folder.endswith("SDAR-4B-Chat"))
    folder = fake(sdar)
    lm = MDLMAdapter(pretrained=str(folder), device="cpu", dtype="float32", trace=False, attn_implementation=asked)
    assert lm.model.config._attn_implementation == used


@pytest.mark.parametrize("asked", ["flash_attention_2", "flash_attention_3", "bogus"])
def test_attention_that_cannot_take_the_engines_masks_is_refused(asked) -> None:
    from model_adapters._models._common import attention_implementation

    with pytest.raises(ValueError, match="sdpa"):
        attention_implementation(LoadRequest("x", {}, "cpu", "float32", False, attn_implementation=asked))


def test_eager_and_sdpa_give_the_same_logits(fake) -> None:
    import torch

    sdar = next(p for p in WITH_INDEX if p.folder.endswith("SDAR-4B-Chat"))
    folder = fake(sdar)
    config = json.loads((folder / "config.json").read_text())
    preset = detect_family(config)
    ids = torch.tensor([[9707, 1879, 151669, 151669]])
    requests = [LoadRequest(str(folder), config, "cpu", "float32", False, attn_implementation=attention)
                for attention in ("eager", "sdpa")]
    logits = [preset.loader(request)(ids).logits for request in requests]
    torch.testing.assert_close(logits[0], logits[1], rtol=1e-4, atol=1e-4)


def test_pinned_files_stay_small() -> None:
    total = sum(f.stat().st_size for f in Path(ROOT).rglob("*") if f.is_file())
    assert total < 3_000_000
