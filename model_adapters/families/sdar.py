"""SDAR / TraDo (JetLM, Gen-Verse): block diffusion over a Qwen3 backbone, block 4, mask id 151669."""

from model_adapters._models.sdar import load_sdar
from model_adapters._preset import FamilyPreset, register_family

SDAR = register_family(
    FamilyPreset(
        name="sdar",
        model_types=("sdar", "sdar_moe"),
        architectures=("SDARForCausalLM", "SDARMoeForCausalLM"),
        mask_token="<|MASK|>",
        mask_token_id=151669,
        eos_tokens=("<|endoftext|>", "<|im_end|>"),
        eot_token="<|im_end|>",
        shifted_logits=False,
        attention="block_causal",
        attention_block=4,
        # block_diffusion_generate: blocks of 4 at absolute positions (the prompt's last partial block is
        # decoded first), 4 denoising steps per block, low_confidence_dynamic with threshold 0.9 (every token
        # strictly above it, else the scheduled count), greedy, KV cache over finished blocks.
        defaults={"block_length": 4, "schedule": "threshold_count", "threshold": 0.9, "remasking": "low_confidence",
                  "temperature": 0.0, "cache": "block_kv", "sampler": "sdar"},
        loader=load_sdar,
        description="SDAR-{1.7B,4B,8B}-Chat, SDAR-30B-A3B, TraDo-{4B,8B}-Instruct (reference: JetLM/SDAR generate)",
    )
)
