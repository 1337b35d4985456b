"""Owned model implementations: the authors' checkpoints loaded into transformers' own classes.

The authors' remote modeling code pins transformers 4.x and breaks on 5.x. Each module here
translates a family's ``config.json`` into a native transformers config and renames the
checkpoint's weights on load (``key_mapping``), so no remote code runs. LLaDA2, whose fused QKV
attention has no transformers class, is assembled from GLM-4-MoE's modules (``llada2_modules``). Every loader takes a
``LoadRequest`` and returns a model in eval mode whose forward accepts a 4-D attention mask and
``position_ids``, the way the engine calls it.
"""

from model_adapters._models.dream import load_dream, load_fast_dllm_v2
from model_adapters._models.llada import load_llada
from model_adapters._models.llada2 import load_llada2
from model_adapters._models.llada_moe import load_llada_moe
from model_adapters._models.sdar import load_sdar

__all__ = ["load_dream", "load_fast_dllm_v2", "load_llada", "load_llada2", "load_llada_moe", "load_sdar"]
