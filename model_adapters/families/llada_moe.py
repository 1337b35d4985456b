"""LLaDA-MoE (inclusionAI): LLaDA's sampler on a sparse MoE network, unshifted, mask id 156895."""

from model_adapters._models.llada_moe import load_llada_moe
from model_adapters._preset import FamilyPreset, register_family

LLADA_MOE = register_family(
    FamilyPreset(
        name="llada_moe",
        model_types=("lladamoe", "llada_moe"),
        architectures=("LLaDAMoEModelLM", "LLaDAMoEModel"),
        mask_token="<|mdm_mask|>",
        mask_token_id=156895,
        shifted_logits=False,
        attention="bidirectional",
        # The model card's generate(): LLaDA's sampler with blocks of 32, low-confidence, greedy.
        defaults={"block_length": 32, "remasking": "low_confidence", "schedule": "fixed", "temperature": 0.0},
        loader=load_llada_moe,
        description="LLaDA-MoE-7B-A1B Base/Instruct (reference: the model card's generate, LLaDA-style)",
    )
)
