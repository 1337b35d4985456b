"""LLaDA2.0 / LLaDA2.1 (inclusionAI): block diffusion on a BailingMoE-V2 network, block 32, mask id 156895."""

from model_adapters._models.llada2 import load_llada2
from model_adapters._preset import FamilyPreset, register_family

_LLADA2_DEFAULTS = {
    "block_length": 32, "schedule": "threshold_count", "threshold": 0.95, "remasking": "low_confidence",
    "temperature": 0.0, "early_stop": "eos_block", "sampler": "sdar",
}

LLADA2 = register_family(
    FamilyPreset(
        name="llada2",
        model_types=("llada2_moe",),
        architectures=("LLaDA2MoeModelLM",),
        mask_token="<|mask|>",
        mask_token_id=156895,
        shifted_logits=False,
        attention="block_causal",
        attention_block=32,
        # generate(): blocks of 32 at absolute positions (the prompt's last partial block first), 32 steps per
        # block (the default steps = gen_length gives 32 per block), every mask strictly above threshold 0.95
        # or else the most confident one, greedy, stop after the block holding EOS.
        defaults=dict(_LLADA2_DEFAULTS),
        loader=load_llada2,
        description="LLaDA2.0-mini (16B), LLaDA2.0-flash (100B) (reference: the model card's generate)",
    )
)

LLADA2_1 = register_family(
    FamilyPreset(
        name="llada2_1",
        # Same architecture as LLaDA2.0: select with family=llada2_1.
        mask_token="<|mask|>",
        mask_token_id=156895,
        shifted_logits=False,
        attention="block_causal",
        attention_block=32,
        # LLaDA2.1's generate(): LLaDA2.0's block loop without a step budget (at least one token a pass) plus
        # token-to-token editing inside the current block (a committed token whose new argmax differs with
        # probability > editing_threshold is replaced, also in up to max_post_steps passes after the block's
        # masks are filled). Its generate() defaults: threshold 0.95, editing_threshold 0.9, max_post_steps 16.
        # Published modes, through gen_kwargs: Q (threshold 0.7, editing_threshold 0.5) and S (threshold 0.5;
        # editing_threshold 0.0 in dllm's eval, off in diffusers).
        defaults={**_LLADA2_DEFAULTS, "schedule": "threshold_strict", "editing_threshold": 0.9, "max_post_steps": 16},
        loader=load_llada2,
        description="LLaDA2.1 token-editing decoder over LLaDA2 checkpoints; select with family=llada2_1",
    )
)
