"""The ``mdlm`` lm-eval model: batching, traces, stop handling and argument errors."""

from __future__ import annotations

import json

import pytest
from lm_eval.api.instance import Instance

import model_adapters._adapter as adapter_module
from model_adapters import read_traces
from model_adapters._adapter import MDLMAdapter

# Batch invariance holds up to floating-point reduction order; an empty prompt makes every canvas
# position an identical mask, whose near-tied confidences that noise can reorder, so it is tested apart.
PROMPTS = [
    "Q: 2+2?\nA:", "Say hi", "The quick brown fox jumps over", "x", "Hello world", "abc\ndef", "0123456789", "Zz",
]


def _requests(gen_kwargs: dict, prompts: list[str] = PROMPTS, task: str = "t") -> list[Instance]:
    return [
        Instance("generate_until", {}, (p, dict(gen_kwargs)), idx=0, metadata=(task, i, 1))
        for i, p in enumerate(prompts)
    ]


def _run(path, tmp_path, name, batch_size, gen_kwargs, **model_args):  # noqa: ANN001, ANN202
    trace = tmp_path / f"{name}.jsonl"
    lm = MDLMAdapter(pretrained=str(path), device="cpu", batch_size=batch_size, trace_path=str(trace), **model_args)
    out = lm.generate_until(_requests(gen_kwargs), disable_tqdm=True)
    lm._writer.close()
    rows = {r.key: json.loads(r.to_json()) for r in read_traces(trace)}
    return out, rows


@pytest.mark.parametrize("family", ["llada", "dream"])
@pytest.mark.parametrize(
    "gen_kwargs",
    [
        {"max_gen_toks": 16, "until": []},
        {"max_gen_toks": 16, "until": [], "block_length": 8, "steps": 8},
        {"max_gen_toks": 16, "until": [], "schedule": "threshold", "threshold": 0.5, "block_length": 8},
        {"max_gen_toks": 12, "until": [], "do_sample": True, "temperature": 0.8, "steps": 6},
    ],
)
def test_batch_8_equals_batch_1(family, gen_kwargs, tiny_llada_path, tiny_dream_path, tmp_path) -> None:
    path = tiny_llada_path if family == "llada" else tiny_dream_path
    one, rows_one = _run(path, tmp_path, "b1", 1, gen_kwargs, family=family)
    eight, rows_eight = _run(path, tmp_path, "b8", 8, gen_kwargs, family=family)
    assert one == eight
    assert rows_one == rows_eight
    assert len(rows_one) == len(PROMPTS)
    assert any(text for text in one), "the tiny model should produce some text"


def test_trace_rows_describe_the_generation(tiny_llada_path, tmp_path) -> None:
    out, rows = _run(tiny_llada_path, tmp_path, "t", 4, {"max_gen_toks": 16, "until": [], "steps": 8}, family="llada")
    from lm_eval.utils import hash_string

    for i, prompt in enumerate(PROMPTS):
        row = rows[("t", i, 0)]
        assert row["prompt_hash"] == hash_string(prompt)
        assert row["nfe"] == 8 and row["gen_length"] == 16
        # 16 tokens over 8 steps: exactly two finalized per step.
        assert sorted(row["final_step"]) == sorted(list(range(8)) * 2)
        assert "".join(row["pieces"]) .startswith(out[i][:3])


def test_task_length_may_end_in_a_short_block(tiny_llada_path, tmp_path) -> None:
    # A bidirectional preset's block of 32 (LLaDA-MoE) on tasks of 24 and 48 tokens: the last block is shorter.
    # The default budget is one step per block position: 24 steps for the single 24-token block; for 48 tokens
    # 2 x 32 steps, block 1 committing one token per step at steps 0..31, block 2 its 16 at steps 32..47.
    for n, nfe in ((24, 24), (48, 48)):
        _, rows = _run(tiny_llada_path, tmp_path, f"short{n}", 4, {"max_gen_toks": n, "until": []},
                       family="llada", block_length=32, early_stop="none")
        for row in rows.values():
            assert row["gen_length"] == n and row["nfe"] == nfe
            assert sorted(row["final_step"]) == list(range(n))
            assert max(row["final_step"][:32]) < min(row["final_step"][32:], default=n)


def test_pinned_length_must_fill_whole_blocks(tiny_llada_path) -> None:
    lm = MDLMAdapter(pretrained=str(tiny_llada_path), family="llada", device="cpu", trace=False, block_length=32)
    with pytest.raises(ValueError, match="not divisible"):
        lm.generate_until(_requests({"max_gen_toks": 48, "gen_length": 24, "until": []})[:1], disable_tqdm=True)


def test_repeats_get_their_own_rows_and_streams(tiny_llada_path, tmp_path) -> None:
    lm = MDLMAdapter(pretrained=str(tiny_llada_path), family="llada", device="cpu",
                     trace_path=str(tmp_path / "r.jsonl"))
    request = _requests({"max_gen_toks": 12, "until": [], "do_sample": True, "temperature": 1.0})[0]
    outs = lm.generate_until([request] * 3, disable_tqdm=True)
    lm._writer.close()
    keys = sorted(r.key for r in read_traces(tmp_path / "r.jsonl"))
    assert keys == [("t", 0, 0), ("t", 0, 1), ("t", 0, 2)]
    assert len(set(outs)) > 1, "repeats sample independently"


def test_output_cut_at_eos_and_stop_sequence(tiny_llada_path, tmp_path, monkeypatch) -> None:
    lm = MDLMAdapter(pretrained=str(tiny_llada_path), family="llada", device="cpu",
                     trace_path=str(tmp_path / "s.jsonl"))
    tok = lm.tokenizer
    text = "ab|cd"
    canvas = tok(text, add_special_tokens=False)["input_ids"] + [tok.eos_token_id] + tok("zz")["input_ids"]

    def fake_denoise(logits_fn, prompt, settings, special, generators=None, observer=None):  # noqa: ANN001, ANN202
        import torch

        from model_adapters._engine import DenoiseResult

        rows = prompt.shape[0]
        if observer is not None:
            observer.on_commit(torch.zeros(rows, dtype=torch.long), 0, torch.ones(rows, 8, dtype=torch.bool),
                               torch.full((rows, 8), special.mask_id), torch.tensor([canvas] * rows))
        return DenoiseResult(torch.tensor([canvas] * rows), torch.ones(rows, dtype=torch.long),
                             torch.ones(rows, dtype=torch.bool))

    monkeypatch.setattr(adapter_module, "denoise", fake_denoise)
    out = lm.generate_until(_requests({"max_gen_toks": 8, "until": []}, ["p"]) + _requests(
        {"max_gen_toks": 8, "until": ["|"]}, ["q"], task="u"), disable_tqdm=True)
    lm._writer.close()
    assert out == ["ab|cd", "ab"]
    rows = {r.key: r for r in read_traces(tmp_path / "s.jsonl")}
    assert rows[("t", 0, 0)].n_tokens == 6  # five characters and the EOS
    assert rows[("t", 0, 0)].n_generated == 6
    # The stop string inside the canvas: "ab" is scored, so the order metrics count two tokens; the row
    # keeps the count through EOS too.
    assert (rows[("u", 0, 0)].n_tokens, rows[("u", 0, 0)].n_generated) == (2, 6)
    assert rows[("u", 0, 0)].pieces == ["a", "b"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Answer: 4", 2),  # cut at "\nQuestion": the two tokens that write the answer
        ("Answer: ", 2),  # cut at "4": the token holding the cut also ends the answer
        ("Ans", 1),
        ("", 0),  # a stop string at the very start leaves nothing to count
    ],
)
def test_scored_token_count_with_multi_character_tokens(text, expected) -> None:
    vocab = ["Ans", "wer: 4", "\nQ", "uestion: 5"]

    def decode(ids: list[int]) -> str:
        return "".join(vocab[i] for i in ids)

    assert adapter_module.scored_token_count(decode, [0, 1, 2, 3], text) == expected


@pytest.mark.parametrize(
    ("model_args", "message"),
    [
        ({"family": "gpt9"}, "unknown family"),
        ({"remasking": "psychic"}, "unknown remasking"),
        ({"gen_length": 30, "block_length": 8}, "not divisible"),
        ({"gen_length": 32, "block_length": 8, "steps": 6}, "multiple of the number of blocks"),
        ({"threshold": 1.5}, "threshold must be in"),
        ({"bogus_arg": 1}, "unknown mdlm model argument"),
        ({"batch_size": "zero"}, "batch_size"),
    ],
)
def test_bad_arguments_fail_before_loading_weights(model_args, message, tiny_llada_path, monkeypatch) -> None:
    def no_weights(request):  # noqa: ANN001, ANN202
        raise AssertionError("weights were loaded before the arguments were checked")

    monkeypatch.setattr(adapter_module, "load_generic", no_weights)
    args = {"pretrained": str(tiny_llada_path), "family": "llada", "device": "cpu", **model_args}
    with pytest.raises(ValueError, match=message):
        MDLMAdapter(**args)


def test_tokenizer_without_mask_token_is_refused(tiny_llada_path, tmp_path, monkeypatch) -> None:
    import shutil

    broken = tmp_path / "nomask"
    shutil.copytree(tiny_llada_path, broken)
    config = json.loads((broken / "tokenizer_config.json").read_text())
    config.pop("mask_token", None)
    (broken / "tokenizer_config.json").write_text(json.dumps(config))
    tok = json.loads((broken / "tokenizer.json").read_text())
    tok["added_tokens"] = [t for t in tok["added_tokens"] if t["content"] != "<|mdm_mask|>"]
    tok["model"]["vocab"].pop("<|mdm_mask|>")
    (broken / "tokenizer.json").write_text(json.dumps(tok))
    monkeypatch.setattr(adapter_module, "load_generic", lambda r: pytest.fail("weights loaded"))
    with pytest.raises(ValueError, match="no mask token"):
        MDLMAdapter(pretrained=str(broken), family="llada", device="cpu")


def test_missing_local_model_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        MDLMAdapter(pretrained=str(tmp_path / "nope"), device="cpu")


def test_empty_prompt_decodes(tiny_llada_path) -> None:
    lm = MDLMAdapter(pretrained=str(tiny_llada_path), family="llada", device="cpu", trace=False, batch_size=2)
    out = lm.generate_until(_requests({"max_gen_toks": 8, "until": []}, ["", "abc"]), disable_tqdm=True)
    assert len(out) == 2 and all(isinstance(o, str) for o in out)


def test_unknown_gen_kwarg_names_the_request(tiny_llada_path) -> None:
    lm = MDLMAdapter(pretrained=str(tiny_llada_path), family="llada", device="cpu", trace=False)
    with pytest.raises(ValueError, match="unknown decoding setting"):
        lm.generate_until(_requests({"max_gen_toks": 8, "until": [], "top_q": 3}), disable_tqdm=True)


def test_long_prompt_truncated_from_the_left_with_one_warning(tiny_llada_path, tmp_path, caplog) -> None:
    lm = MDLMAdapter(pretrained=str(tiny_llada_path), family="llada", device="cpu", max_length=40,
                     trace_path=str(tmp_path / "long.jsonl"))
    prompts = ["a" * 100 + "END", "b" * 90 + "END"]
    with caplog.at_level("WARNING"):
        out = lm.generate_until(_requests({"max_gen_toks": 16, "until": []}, prompts), disable_tqdm=True)
    assert len(out) == 2
    warnings = [r for r in caplog.records if "truncated from the left" in r.getMessage()]
    assert len(warnings) == 1 and "103 tokens" in warnings[0].getMessage()
    # What was kept is the end of the prompt: 40 - 16 = 24 tokens.
    item = lm._prepare(_requests({"max_gen_toks": 16, "until": []}, prompts[:1]))[0]
    assert lm.tokenizer.decode(item.prompt_ids) == ("a" * 100 + "END")[-24:]


def test_canvas_larger_than_context_is_refused(tiny_llada_path) -> None:
    lm = MDLMAdapter(pretrained=str(tiny_llada_path), family="llada", device="cpu", max_length=64, trace=False)
    with pytest.raises(ValueError, match="exceeds the model's context"):
        lm.generate_until(_requests({"max_gen_toks": 128, "until": []}, ["x"]), disable_tqdm=True)


def test_nan_logits_stop_with_task_and_doc_and_write_no_row(tiny_llada_path, tmp_path) -> None:
    lm = MDLMAdapter(pretrained=str(tiny_llada_path), family="llada", device="cpu", batch_size=2,
                     trace_path=str(tmp_path / "nan.jsonl"))

    def poison(module, args, kwargs, output):  # noqa: ANN001, ANN202
        output.logits[args[0][:, 0] == lm.tokenizer.convert_tokens_to_ids("Z")] = float("nan")
        return output

    lm.model.register_forward_hook(poison, with_kwargs=True)
    with pytest.raises(FloatingPointError, match="NaN or infinite logits while decoding t doc 1"):
        lm.generate_until(_requests({"max_gen_toks": 8, "until": []}, ["abc", "Zed"]), disable_tqdm=True)
    lm._writer.close()
    assert not (tmp_path / "nan.jsonl").exists() or not (tmp_path / "nan.jsonl").read_text().strip()
