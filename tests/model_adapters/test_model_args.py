"""``device`` and ``batch_size`` work both as lm-eval flags and inside ``--model_args``.

Both go through lm-eval's own factory with the values its evaluator passes for the flags (lm-eval fills
``batch_size=1`` and ``device='cuda:0'`` when the flags are not given), as ``lm_eval --model mdlm`` does.
"""

from __future__ import annotations

from lm_eval.api.registry import get_model

# What lm_eval's evaluator hands the factory when --batch_size / --device are left out.
FLAG_DEFAULTS = {"batch_size": 1, "max_batch_size": None, "device": "cuda:0"}


def test_device_and_batch_size_in_model_args_win_over_flag_defaults(tiny_llada_path) -> None:
    lm = get_model("mdlm").create_from_arg_string(
        f"pretrained={tiny_llada_path},family=llada,trace=False,device=cpu,batch_size=16", FLAG_DEFAULTS
    )
    assert (lm.batch_size, lm.device.type) == (16, "cpu")
    as_dict = get_model("mdlm").create_from_arg_obj(
        {"pretrained": str(tiny_llada_path), "family": "llada", "trace": False, "device": "cpu", "batch_size": 3},
        FLAG_DEFAULTS,
    )
    assert (as_dict.batch_size, as_dict.device.type) == (3, "cpu")


def test_device_and_batch_size_as_lm_eval_flags(tiny_llada_path) -> None:
    lm = get_model("mdlm").create_from_arg_string(
        f"pretrained={tiny_llada_path},family=llada,trace=False",
        {"batch_size": "16", "max_batch_size": None, "device": "cpu"},
    )
    assert (lm.batch_size, lm.device.type) == (16, "cpu")
