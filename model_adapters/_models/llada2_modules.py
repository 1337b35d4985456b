"""The owned LLaDA2 network (see ``model_adapters._models.llada2``), apart so importing the family stays torch-free."""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any

import torch
from torch import nn
from transformers import Glm4MoeConfig, PreTrainedModel
from transformers.cache_utils import DynamicCache
from transformers.masking_utils import create_bidirectional_mask
from transformers.modeling_outputs import MoeCausalLMOutputWithPast
from transformers.modeling_utils import ALL_ATTENTION_FUNCTIONS
from transformers.models.glm4_moe.modeling_glm4_moe import (
    Glm4MoeMLP,
    Glm4MoeRMSNorm,
    Glm4MoeRotaryEmbedding,
    Glm4MoeTopkRouter,
    apply_rotary_pos_emb,
    eager_attention_forward,
)

# transformers 5.25 renamed ``past_key_values`` to ``cache`` in its model calls, mask helpers and outputs; the
# owned network takes either name and speaks whichever the installed version expects.
_MASK_CACHE = "cache" if "cache" in inspect.signature(create_bidirectional_mask).parameters else "past_key_values"
_OUTPUT_FIELDS = {field.name for field in dataclasses.fields(MoeCausalLMOutputWithPast)}
_OUTPUT_CACHE = "cache" if "cache" in _OUTPUT_FIELDS else "past_key_values"


class LLaDA2Attention(nn.Module):
    """LLaDA2 attention: fused ``query_key_value``, per-head q/k RMSNorm, partial RoPE, ``dense`` output."""

    def __init__(self, config: Any, layer_idx: int) -> None:
        """Build the projections from a ``glm4_moe_config_from_llada2`` config."""
        super().__init__()
        self.config, self.layer_idx = config, layer_idx
        self.num_heads, self.num_kv_heads = config.num_attention_heads, config.num_key_value_heads
        self.head_dim = config.head_dim
        self.num_key_value_groups = self.num_heads // self.num_kv_heads
        self.scaling = self.head_dim**-0.5
        self.is_causal = False  # the mask decides (block-causal, bidirectional)
        width = (self.num_heads + 2 * self.num_kv_heads) * self.head_dim
        self.query_key_value = nn.Linear(config.hidden_size, width, bias=config.attention_bias)
        self.query_layernorm = Glm4MoeRMSNorm(self.head_dim, eps=config.rms_norm_eps)
        self.key_layernorm = Glm4MoeRMSNorm(self.head_dim, eps=config.rms_norm_eps)
        self.dense = nn.Linear(self.num_heads * self.head_dim, config.hidden_size, bias=config.use_bias)

    def forward(
        self,
        hidden_states: torch.Tensor,
        position_embeddings: tuple[torch.Tensor, torch.Tensor],
        attention_mask: torch.Tensor | None,
        cache: Any = None,
        **kwargs: Any,
    ) -> torch.Tensor:
        """Attention over the (cached and) current keys; returns the output projection."""
        batch, length, _ = hidden_states.shape
        qkv = self.query_key_value(hidden_states).view(batch, length, -1, self.head_dim)
        query, key, value = qkv.split([self.num_heads, self.num_kv_heads, self.num_kv_heads], dim=2)
        query = self.query_layernorm(query).transpose(1, 2)
        key = self.key_layernorm(key).transpose(1, 2)
        value = value.transpose(1, 2)
        cos, sin = position_embeddings
        query, key = apply_rotary_pos_emb(query, key, cos, sin)
        if cache is not None:
            key, value = cache.update(key, value, self.layer_idx)
        attend = ALL_ATTENTION_FUNCTIONS.get_interface(self.config._attn_implementation, eager_attention_forward)
        output, _ = attend(self, query, key, value, attention_mask, dropout=0.0, scaling=self.scaling, **kwargs)
        return self.dense(output.reshape(batch, length, -1))


class LLaDA2SparseMoe(nn.Module):
    """Routed experts (one ``Glm4MoeMLP`` each, the checkpoint's layout) plus the shared experts."""

    def __init__(self, config: Any) -> None:
        """Build router, experts and shared experts."""
        super().__init__()
        self.gate = Glm4MoeTopkRouter(config)
        self.experts = nn.ModuleList(
            Glm4MoeMLP(config, intermediate_size=config.moe_intermediate_size) for _ in range(config.n_routed_experts)
        )
        self.shared_experts = Glm4MoeMLP(
            config, intermediate_size=config.moe_intermediate_size * config.n_shared_experts
        )

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        """Route each token to its top-k experts, summing their outputs in float32 as the remote code does."""
        flat = hidden_states.reshape(-1, hidden_states.shape[-1])
        _, weights, chosen = self.gate(flat)
        routed = torch.zeros(flat.shape, dtype=weights.dtype, device=flat.device)
        for expert in chosen.unique().tolist():
            token, slot = torch.where(chosen == expert)
            out = self.experts[expert](flat[token]).to(weights.dtype) * weights[token, slot, None]
            routed.index_add_(0, token, out)
        return routed.to(hidden_states.dtype).view_as(hidden_states) + self.shared_experts(hidden_states)


class LLaDA2DecoderLayer(nn.Module):
    """Pre-norm attention then a dense MLP (first ``first_k_dense_replace`` layers) or the MoE."""

    def __init__(self, config: Any, layer_idx: int) -> None:
        """Build one layer."""
        super().__init__()
        self.attention = LLaDA2Attention(config, layer_idx)
        dense = layer_idx < config.first_k_dense_replace
        self.mlp = Glm4MoeMLP(config) if dense else LLaDA2SparseMoe(config)
        self.input_layernorm = Glm4MoeRMSNorm(config.hidden_size, eps=config.rms_norm_eps)
        self.post_attention_layernorm = Glm4MoeRMSNorm(config.hidden_size, eps=config.rms_norm_eps)

    def forward(self, hidden_states: torch.Tensor, **attention: Any) -> torch.Tensor:
        """Residual attention block then residual MLP block."""
        hidden_states = hidden_states + self.attention(self.input_layernorm(hidden_states), **attention)
        return hidden_states + self.mlp(self.post_attention_layernorm(hidden_states))


class LLaDA2PreTrainedModel(PreTrainedModel):
    """Loading behaviour shared by the LLaDA2 stack and its LM head."""

    config_class = Glm4MoeConfig
    base_model_prefix = "model"
    _no_split_modules = ["LLaDA2DecoderLayer"]
    _supports_sdpa = True
    _supports_flex_attn = True  # attention goes through ALL_ATTENTION_FUNCTIONS, which has flex


class LLaDA2Model(LLaDA2PreTrainedModel):
    """Embeddings, decoder layers and final norm, named as in the checkpoint (``word_embeddings``, ``attention``)."""

    def __init__(self, config: Any) -> None:
        """Build the stack."""
        super().__init__(config)
        self.word_embeddings = nn.Embedding(config.vocab_size, config.hidden_size, config.pad_token_id)
        self.layers = nn.ModuleList(LLaDA2DecoderLayer(config, i) for i in range(config.num_hidden_layers))
        self.norm = Glm4MoeRMSNorm(config.hidden_size, eps=config.rms_norm_eps)
        self.rotary_emb = Glm4MoeRotaryEmbedding(config=config)
        self.post_init()

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        position_ids: torch.Tensor | None = None,
        cache: Any = None,
        **kwargs: Any,
    ) -> torch.Tensor:
        """Final hidden states; a 4-D additive mask is used as given (see the module docstring).

        ``cache`` is resolved by ``LLaDA2ForDiffusionLM.forward``, the only caller.
        """
        hidden_states = self.word_embeddings(input_ids)
        if position_ids is None:
            past = cache.get_seq_length() if cache is not None else 0
            position_ids = torch.arange(past, past + input_ids.shape[1], device=input_ids.device)[None]
        mask = create_bidirectional_mask(
            config=self.config,
            inputs_embeds=hidden_states,
            attention_mask=attention_mask,
            **{_MASK_CACHE: cache},
        )
        position_embeddings = self.rotary_emb(hidden_states, position_ids)
        for layer in self.layers:
            hidden_states = layer(
                hidden_states,
                position_embeddings=position_embeddings,
                attention_mask=mask,
                cache=cache,
                **kwargs,
            )
        return self.norm(hidden_states)


class LLaDA2ForDiffusionLM(LLaDA2PreTrainedModel):
    """``LLaDA2MoeModelLM``'s network: the stack plus an untied (or tied) output head."""

    def __init__(self, config: Any) -> None:
        """Build stack and head."""
        super().__init__(config)
        self.model = LLaDA2Model(config)
        self.lm_head = nn.Linear(config.hidden_size, config.vocab_size, bias=False)
        if config.tie_word_embeddings:
            self.lm_head.weight = self.model.word_embeddings.weight
        self.post_init()

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        position_ids: torch.Tensor | None = None,
        cache: Any = None,
        use_cache: bool | None = None,
        logits_to_keep: int | slice = 0,
        past_key_values: Any = None,
        **kwargs: Any,
    ) -> MoeCausalLMOutputWithPast:
        """Logits (float32, as the remote code returns them) for the positions ``logits_to_keep`` selects.

        The KV cache comes as ``cache`` or, as transformers before 5.25 names it, ``past_key_values``.
        """
        cache = cache if cache is not None else past_key_values
        if use_cache and cache is None:
            cache = DynamicCache(config=self.config)
        hidden_states = self.model(input_ids, attention_mask=attention_mask, position_ids=position_ids, cache=cache,
                                   **kwargs)
        keep = slice(-logits_to_keep, None) if isinstance(logits_to_keep, int) else logits_to_keep
        logits = self.lm_head(hidden_states[:, keep]).float()
        return MoeCausalLMOutputWithPast(logits=logits, **{_OUTPUT_CACHE: cache})
