"""Dream / Dream-Coder (Dream-org): logits shifted by one, bidirectional, mask id 151666."""

from model_adapters._models.dream import load_dream
from model_adapters._preset import FamilyPreset, register_family

DREAM = register_family(
    FamilyPreset(
        name="dream",
        model_types=("Dream",),
        architectures=("DreamModel",),
        mask_token="<|mask|>",
        mask_token_id=151666,
        eos_tokens=("<|endoftext|>", "<|im_end|>"),
        eot_token="<|im_end|>",
        shifted_logits=True,
        attention="bidirectional",
        # diffusion_generate as the authors evaluate: one canvas, steps = tokens, alg="entropy",
        # linspace(1, 1e-3) timestep transfer counts, alg_temp 0, greedy.
        defaults={"remasking": "entropy", "schedule": "dream", "temperature": 0.0, "alg_temp": 0.0, "sampler": "dream"},
        loader=load_dream,
        description="Dream-v0 7B Base/Instruct, Dream-Coder (reference: Dream-org/Dream diffusion_generate)",
    )
)
