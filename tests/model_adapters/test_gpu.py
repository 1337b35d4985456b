"""On CUDA in float32 the adapter decodes what the reference loops decode (opt in: ``pytest --rungpu -m gpu``).

LLaDA and Dream: the reference loop itself runs on the GPU beside the engine. Every owned family, through
the adapter with its published defaults (and its exact cache): the CUDA tokens equal the CPU tokens, which
``test_families.py`` checks against each family's reference loop. float32 on both, so any difference is a
device-path bug (a mask, position or cache built on the wrong device or in the wrong dtype), not rounding.
"""

from __future__ import annotations

import pytest
import torch

from model_adapters._adapter import MDLMAdapter
from model_adapters._engine import SpecialTokens, denoise
from model_adapters._runner import bidirectional_logits_fn
from model_adapters._settings import DecodingSettings
from tests.model_adapters.reference_dream import reference_dream_generate
from tests.model_adapters.reference_llada import reference_generate
from tests.model_adapters.test_adapter import _requests
from tests.tiny_models import left_padded

pytestmark = pytest.mark.gpu

FAMILIES = ["llada", "dream", "sdar", "fast_dllm_v2", "llada_moe", "llada2"]
PROMPTS = ["Q: 2+2?\nA:", "Say hi", "The quick brown fox jumps over", "x"]


@pytest.fixture(scope="module")
def native(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    """Tiny checkpoints in every owned family's real layout."""
    from tests.tiny_models import build_native

    root = tmp_path_factory.mktemp("native_gpu")
    return {family: build_native(family, root / family) for family in FAMILIES}


def _cuda(family_path):  # noqa: ANN001, ANN202
    from transformers import AutoTokenizer

    from tests.tiny_models import load_native

    preset, model = load_native(family_path)
    return preset, model.to("cuda"), AutoTokenizer.from_pretrained(family_path)


def test_llada_engine_on_cuda_matches_the_reference_loop_on_cuda(tiny_llada_path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(tiny_llada_path).eval().to("cuda")
    tokenizer = AutoTokenizer.from_pretrained(tiny_llada_path)
    prompt, mask = left_padded(tokenizer, PROMPTS)
    prompt, mask = prompt.cuda(), mask.cuda()
    special = SpecialTokens(mask_id=tokenizer.mask_token_id, eos_id=tokenizer.eos_token_id)
    for steps, gen, block in ((16, 16, 16), (8, 16, 4)):
        expected = reference_generate(model, prompt, mask, steps, gen, block, special.mask_id)
        assert not (expected == special.mask_id).any(), "oracle precondition: the model never proposes the mask"
        settings = DecodingSettings(steps=steps, gen_length=gen, block_length=block).resolve(gen)
        full = torch.cat([mask, torch.ones(len(PROMPTS), gen, dtype=torch.long, device="cuda")], 1)
        with torch.inference_mode():
            got = denoise(bidirectional_logits_fn(model, full, shifted=False), prompt, settings, special)
        assert torch.equal(got.canvas, expected)


def test_dream_engine_on_cuda_matches_diffusion_generate_on_cuda(native) -> None:
    preset, model, tokenizer = _cuda(native["dream"])
    mask_id, gen = tokenizer.mask_token_id, 16
    settings = DecodingSettings.from_mapping({**preset.defaults, "steps": gen}).resolve(gen)

    def forward(x: torch.Tensor) -> torch.Tensor:
        full = torch.zeros(1, 1, x.shape[1], x.shape[1], device="cuda")
        return model(x, attention_mask=full, position_ids=torch.arange(x.shape[1], device="cuda")[None]).logits

    for text in PROMPTS:
        prompt = torch.tensor([tokenizer(text, add_special_tokens=False)["input_ids"]], device="cuda")
        with torch.inference_mode():
            expected = reference_dream_generate(forward, prompt, gen, gen, mask_id)
            full = torch.ones(1, prompt.shape[1] + gen, dtype=torch.long, device="cuda")
            got = denoise(bidirectional_logits_fn(model, full, shifted=True), prompt, settings,
                          SpecialTokens(mask_id=mask_id, eos_id=tokenizer.eos_token_id))
        assert torch.equal(got.canvas, expected)


@pytest.mark.parametrize("family", FAMILIES)
def test_adapter_on_cuda_equals_the_cpu_run_the_references_check(native, family) -> None:
    gen_kwargs = {"max_gen_toks": 32, "until": []}
    cache = {"sdar": "block_kv"}.get(family, "none")
    outputs = []
    for device in ("cpu", "cuda"):
        lm = MDLMAdapter(pretrained=str(native[family]), device=device, dtype="float32", batch_size=4, trace=False,
                         cache=cache)
        assert lm.model.device.type == device
        outputs.append(lm.generate_until(_requests(gen_kwargs, PROMPTS), disable_tqdm=True))
    assert outputs[0] == outputs[1]
    assert any(outputs[1])
