"""DiffusionGemma: transformers' own block-diffusion ``generate`` wrapped to produce the engine's result and trace.

DiffusionGemma does not mask and commit: each canvas starts as uniform random tokens, and every
denoising step proposes a whole canvas (entropy-bound acceptance, renoising). The shared engine
cannot drive it, so the preset's ``generate`` hook runs transformers' loop one request at a time
(its random canvas comes from the global RNG, seeded per request for batch invariance) and turns
the per-step drafts it streams into trace commits: every position is rewritten at every step, and a
position's final step is the last step its token changed.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from model_adapters._loading import torch_dtype

if TYPE_CHECKING:
    import torch

    from model_adapters._loading import LoadRequest


def load_diffusion_gemma(request: LoadRequest) -> Any:
    """Load a DiffusionGemma checkpoint with transformers' native ``DiffusionGemmaForBlockDiffusion``."""
    from transformers import DiffusionGemmaForBlockDiffusion

    from model_adapters._models._common import attention_implementation

    model = DiffusionGemmaForBlockDiffusion.from_pretrained(
        request.pretrained, dtype=torch_dtype(request.dtype), revision=request.revision,
        attn_implementation=attention_implementation(request),
    )
    return model.to(request.device).eval()


class _DraftRecorder:
    """A transformers streamer keeping every per-step draft canvas, tagged with the canvas (block) it belongs to."""

    def __init__(self) -> None:
        self.drafts: list[tuple[int, torch.Tensor]] = []
        self._puts = 0

    def put(self, value: torch.Tensor) -> None:
        """Called once with the prompt, then once per finished canvas: advances the block index."""
        self._puts += 1

    def put_draft(self, value: torch.Tensor) -> None:
        """Keep one denoising step's canvas ([1, canvas_length])."""
        self.drafts.append((self._puts - 1, value[0].clone()))

    def end(self) -> None:
        """Nothing to flush."""


def generate_diffusion_gemma(
    model: Any, prompt: torch.Tensor, attention_mask: torch.Tensor, settings: Any, special: Any,
    generators: list[torch.Generator] | None = None, observer: Any = None,
) -> Any:
    """Decode a left-padded batch with DiffusionGemma's own sampler; returns the engine's ``DenoiseResult``.

    Args:
        model: A ``DiffusionGemmaForBlockDiffusion``.
        prompt: [B, P] left-padded prompt ids.
        attention_mask: [B, P] 1 for real prompt tokens (left padding is stripped per row).
        settings: Resolved ``DecodingSettings`` (``gen_length`` and ``seed`` are used; the sampler's own
            settings come from the checkpoint's generation config).
        special: ``SpecialTokens`` (its EOS pads rows that stop early).
        generators: Per-row generators; each row's canvas noise is seeded from its generator.
        observer: Optional trace recorder (``on_commit``), fed one commit per denoising step.
    """
    import torch

    from model_adapters._engine import DenoiseResult

    batch, gen_length = prompt.shape[0], int(settings.gen_length)
    device = prompt.device
    pad = special.eos_id if special.eos_id is not None else 0
    canvas = torch.full((batch, gen_length), pad, dtype=torch.long, device=device)
    nfe = torch.zeros(batch, dtype=torch.long, device=device)
    block = int(model.config.canvas_length)
    for row in range(batch):
        ids = prompt[row][attention_mask[row].bool()].unsqueeze(0)
        seed = generators[row].initial_seed() if generators else int(settings.seed)
        recorder = _DraftRecorder()
        with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
            torch.manual_seed(seed)
            out = model.generate(ids, max_new_tokens=gen_length, streamer=recorder, return_dict_in_generate=False)
        generated = out[0, ids.shape[1]: ids.shape[1] + gen_length]
        canvas[row, : generated.shape[0]] = generated
        _replay(recorder.drafts, block, gen_length, row, batch, device, observer)
        nfe[row] = len(recorder.drafts)
    fields = {f.name for f in dataclasses.fields(DenoiseResult)}
    extra = {"stopped_early": torch.zeros(batch, dtype=torch.bool, device=device)} if "stopped_early" in fields else {}
    return DenoiseResult(canvas=canvas, nfe=nfe, finite=torch.ones(batch, dtype=torch.bool, device=device), **extra)


def _replay(drafts: list[tuple[int, torch.Tensor]], block: int, gen_length: int, row: int, batch: int,
            device: torch.device, observer: Any) -> None:
    """Feed the drafts to the observer: canvas k covers columns [k * block, (k + 1) * block)."""
    import torch

    if observer is None:
        return
    previous: dict[int, torch.Tensor] = {}
    for step, (index, draft) in enumerate(drafts):
        offset = index * block
        width = min(block, gen_length - offset)
        if width <= 0:
            break
        old = torch.full((batch, width), -1, dtype=torch.long, device=device)
        if index in previous:
            old[row] = previous[index][:width]
        new = old.clone()
        new[row] = draft[:width].to(device)
        commit = torch.zeros((batch, width), dtype=torch.bool, device=device)
        commit[row] = True
        row_step = torch.zeros(batch, dtype=torch.long, device=device)
        row_step[row] = step
        observer.on_commit(row_step, offset, commit, old, new)
        previous[index] = draft
