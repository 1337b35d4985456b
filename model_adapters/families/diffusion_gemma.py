"""DiffusionGemma (Google): uniform-noise block diffusion, native in transformers 5.x (no mask token)."""

from model_adapters._models.diffusion_gemma import generate_diffusion_gemma, load_diffusion_gemma
from model_adapters._preset import FamilyPreset, register_family

DIFFUSION_GEMMA = register_family(
    FamilyPreset(
        name="diffusion_gemma",
        model_types=("diffusion_gemma",),
        architectures=("DiffusionGemmaForBlockDiffusion",),
        shifted_logits=False,
        attention="block_causal",
        # Its sampler (entropy-bound acceptance with renoising) lives in transformers'
        # DiffusionGemmaGenerationMixin and is driven by the checkpoint's generation config.
        defaults={},
        loader=load_diffusion_gemma,
        generate=generate_diffusion_gemma,
        description="google/diffusiongemma-* (transformers' DiffusionGemmaForBlockDiffusion; its own generate loop)",
    )
)
