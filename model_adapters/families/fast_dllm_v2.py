"""Fast-dLLM v2 (NVIDIA): Qwen2.5 with block-causal attention (block 32), shifted logits, mask id 151665."""

from model_adapters._models.dream import load_fast_dllm_v2
from model_adapters._preset import FamilyPreset, register_family

FAST_DLLM_V2 = register_family(
    FamilyPreset(
        name="fast_dllm_v2",
        model_types=("Fast_dLLM_QWen", "Fast_dLLM_Qwen"),
        architectures=("Fast_dLLM_QwenForCausalLM",),
        mask_token="|<MASK>|",
        mask_token_id=151665,
        eos_tokens=("<|im_end|>", "<|endoftext|>"),
        eot_token="<|im_end|>",
        shifted_logits=True,
        attention="block_causal",
        attention_block=32,
        # batch_sample: attention blocks of 32 at absolute positions, decoded as sub-blocks of 8
        # (small_block_size), each step committing every token strictly above threshold 0.95 (at least the
        # most confident), greedy; a block's first token is the previous block's argmax prediction, and a
        # row ends once a block holds its stop token (here checked per sub-block: same answer, fewer passes).
        defaults={"block_length": 8, "schedule": "threshold_strict", "threshold": 0.95, "temperature": 0.0,
                  "sampler": "sdar", "ar_block_start": True, "early_stop": "eos_block"},
        loader=load_fast_dllm_v2,
        description="Efficient-Large-Model/Fast_dLLM_v2_7B (reference: NVlabs Fast-dLLM v2 batch_sample)",
    )
)
