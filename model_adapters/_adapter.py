"""The ``mdlm`` lm-eval model: masked diffusion LMs doing ``generate_until`` with a trace per sample."""

from __future__ import annotations

import hashlib
import logging
import os
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from lm_eval.api.instance import Instance
from lm_eval.api.model import LM
from lm_eval.utils import hash_string
from tqdm import tqdm

from model_adapters._engine import SpecialTokens, TraceRecorder, denoise
from model_adapters._loading import LoadRequest, load_generic, read_config
from model_adapters._models._tokenizer import load_tokenizer
from model_adapters._paths import default_trace_path, relative_trace_name
from model_adapters._preset import FamilyPreset
from model_adapters._runner import make_logits_fn
from model_adapters._settings import LM_EVAL_GEN_KEYS, DecodingSettings
from model_adapters._trace import TraceRecord, TraceWriter
from model_adapters.families import detect_family, get_family, import_family_module

logger = logging.getLogger(__name__)

DEFAULT_MAX_GEN_TOKS = 256


@dataclass
class _Request:
    index: int
    context: str
    gen_kwargs: dict[str, Any]
    prompt_ids: list[int]
    settings: DecodingSettings
    until: list[str]
    key: tuple[str, int, int]
    prompt_hash: str


class MDLMAdapter(LM):
    """lm-eval model for masked diffusion LMs (``lm_eval --model mdlm``).

    Model args: ``pretrained`` (folder or hub id; the embedded tiny model when omitted), ``family``
    (forced preset; detected from config.json otherwise), ``family_module`` (a dotted module or ``.py``
    file imported first, so the families it registers can be used), ``device``, ``dtype`` (auto: bfloat16 on
    CUDA, float32 elsewhere), ``batch_size``, ``max_length``, ``trust_remote_code`` (off),
    ``revision``, ``attn_implementation`` (sdpa by default, eager, or flex_attention on CUDA), ``trace``
    (record traces, on), ``trace_path``, plus any decoding setting of ``DecodingSettings`` as a
    run-wide default (gen_kwargs override it per task).
    """

    def __init__(
        self,
        pretrained: str | None = None,
        family: str | None = None,
        family_module: str | None = None,
        device: str = "cuda",
        dtype: str = "auto",
        batch_size: int | str = 1,
        max_batch_size: int | str | None = None,
        max_length: int | None = None,
        trust_remote_code: bool = False,
        revision: str | None = None,
        attn_implementation: str | None = None,
        trace: bool = True,
        trace_path: str | None = None,
        **decoding: Any,
    ) -> None:
        super().__init__()
        unknown = set(decoding) - DecodingSettings.field_names()
        if unknown:
            raise ValueError(
                f"unknown mdlm model argument(s) {sorted(unknown)}. Model args: pretrained, family, family_module, "
                f"device, dtype, batch_size, max_length, trust_remote_code, revision, attn_implementation, trace, "
                f"trace_path; decoding settings: "
                f"{sorted(DecodingSettings.field_names())}"
            )
        self.batch_size = _parse_batch_size(batch_size, device)
        self._device = _resolve_device(device)
        self.accelerator = _data_parallel(self._device)
        if self.accelerator is not None:  # `accelerate launch -m lm_eval ...`: lm-eval shards requests by rank
            self._rank = self.accelerator.process_index
            self._world_size = self.accelerator.num_processes
            self._device = self.accelerator.device
        self.dtype_name = ("bfloat16" if self.device.type == "cuda" else "float32") if dtype == "auto" else str(dtype)
        self.pretrained = str(pretrained) if pretrained else str(_embedded_default())
        config = read_config(self.pretrained, revision)
        if family_module:
            import_family_module(str(family_module))
        self.preset: FamilyPreset = get_family(family) if family else detect_family(config)
        base = DecodingSettings.from_mapping(self.preset.defaults)
        self.decoding = DecodingSettings.from_mapping(decoding, base=base)
        self.decoding.validate()
        self.decoding.validate_for(self.preset.attention, self.preset.attention_block)
        if self.decoding.gen_length:
            self.decoding.resolve(self.decoding.gen_length)

        self.tokenizer = load_tokenizer(self.pretrained, revision, bool(trust_remote_code), self.preset)
        self.special, self.stop_ids = _special_tokens(self.tokenizer, self.preset)
        self.pad_id = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else self.special.mask_id
        self.max_length = int(max_length) if max_length else _context_limit(config)

        request = LoadRequest(self.pretrained, config, str(self.device), self.dtype_name, bool(trust_remote_code),
                              revision, attn_implementation)
        self.model = (self.preset.loader or load_generic)(request)
        self._chat_template_used = False
        self._pieces: dict[int, str] = {}
        self._truncation_warned = False
        self._writer: TraceWriter | None = None
        self.trace_file: Path | None = None
        self.results_dir: Path | None = None
        if trace:
            found = default_trace_path(rank=self.rank)
            self.results_dir = found[1] if found else None
            self.trace_file = Path(trace_path) if trace_path else found[0] if found else None
            if self.trace_file is not None:
                self._writer = TraceWriter(self.trace_file)

    @classmethod
    def create_from_arg_string(cls, arg_string: str, additional_config: dict | None = None) -> MDLMAdapter:
        """Build from ``--model_args``; ``device``/``batch_size`` there win over lm-eval's flags (see ``_flags``)."""
        from lm_eval.utils import simple_parse_args_string

        args = simple_parse_args_string(arg_string)
        return cls(**args, **_flags(args, additional_config))

    @classmethod
    def create_from_arg_obj(cls, arg_dict: dict[str, Any], additional_config: dict | None = None) -> MDLMAdapter:
        """Build from a model-args dict (``simple_evaluate(model_args={...})``); see ``create_from_arg_string``."""
        return cls(**arg_dict, **_flags(arg_dict, additional_config))

    # ----------------------------------------------------------------- lm-eval API
    def generate_until(self, requests: list[Instance], disable_tqdm: bool = False) -> list[str]:
        """Decode every request; batches group identical settings and similar prompt lengths."""
        prepared = self._prepare(requests)
        outputs: list[str] = [""] * len(prepared)
        groups: dict[DecodingSettings, list[_Request]] = defaultdict(list)
        for item in prepared:
            groups[item.settings].append(item)
        bar = tqdm(total=len(prepared), disable=disable_tqdm or self.rank != 0, desc="mdlm generate")
        for settings, items in groups.items():
            items.sort(key=lambda r: -len(r.prompt_ids))
            for start in range(0, len(items), self.batch_size):
                batch = items[start : start + self.batch_size]
                for item, text in zip(batch, self._run_batch(batch, settings), strict=True):
                    outputs[item.index] = text
                    self.cache_hook.add_partial("generate_until", (item.context, item.gen_kwargs), text)
                bar.update(len(batch))
        bar.close()
        return outputs

    def loglikelihood(self, requests: list[Instance], disable_tqdm: bool = False) -> list[tuple[float, bool]]:
        """Not supported: diffusion LMs have no cheap exact likelihood; the suite is generative."""
        raise NotImplementedError("mdlm evaluates generatively: use generate_until tasks (e.g. mdlm_suite)")

    def loglikelihood_rolling(self, requests: list[Instance], disable_tqdm: bool = False) -> list[float]:
        """Not supported (see ``loglikelihood``)."""
        raise NotImplementedError("mdlm evaluates generatively: use generate_until tasks (e.g. mdlm_suite)")

    def apply_chat_template(self, chat_history: list[dict[str, str]], add_generation_prompt: bool = True) -> str:
        """Render a chat with the tokenizer's template (lm-eval calls this for --apply_chat_template)."""
        self._chat_template_used = True
        return self.tokenizer.apply_chat_template(
            chat_history,
            tokenize=False,
            add_generation_prompt=add_generation_prompt,
            continue_final_message=not add_generation_prompt,
        )

    @property
    def tokenizer_name(self) -> str:
        """Name lm-eval uses in cache keys for chat-templated prompts."""
        return self.tokenizer.name_or_path.replace("/", "__")

    def chat_template(self, chat_template: bool | str = False) -> str | None:
        """The template text lm-eval records in the results JSON."""
        if chat_template is False or chat_template is None:
            return None
        template = self.tokenizer.chat_template
        if isinstance(template, dict):
            return template.get(chat_template if isinstance(chat_template, str) else "default")
        return template

    def get_model_info(self) -> dict[str, Any]:
        """Merged into the results JSON's ``config``: where the traces are and how decoding was set."""
        from importlib.metadata import version

        # Names relative to the results folder travel with the run when it is moved or copied.
        trace_file = relative_trace_name(self.trace_file, self.results_dir) if self.trace_file else None
        rank_files = None
        if self.trace_file is not None and self.world_size > 1:
            stem = self.trace_file.name.split("_rank")[0].removesuffix(".jsonl")
            rank_files = [relative_trace_name(self.trace_file.with_name(f"{stem}{f'_rank{r}' if r else ''}.jsonl"),
                                              self.results_dir) for r in range(self.world_size)]
        return {
            "mdlm_trace_files": rank_files,
            "mdlm_bench_version": version("mdlm-bench"),
            "mdlm_family": self.preset.name,
            "mdlm_pretrained": self.pretrained,
            "mdlm_decoding": self.decoding.as_dict(),
            "mdlm_trace_file": trace_file,
            "mdlm_trace_file_abs": str(self.trace_file.resolve()) if self.trace_file else None,
            "mdlm_num_parameters": sum(p.numel() for p in self.model.parameters()),
            "mdlm_dtype": self.dtype_name,
        }

    def all_gather(self, tensor: torch.Tensor) -> torch.Tensor:
        """Concatenate a tensor across data-parallel ranks (lm-eval pads shards with it)."""
        return tensor if self.accelerator is None else self.accelerator.gather(tensor)

    def gather_object(self, obj: Any, dst: int = 0) -> list[Any] | None:
        """Collect a Python object from every rank on ``dst``."""
        if self.accelerator is None:
            return [obj]
        result = [None] * self.world_size if self.rank == dst else None
        torch.distributed.gather_object(obj=obj, object_gather_list=result, dst=dst)
        return result

    def barrier(self) -> None:
        """Wait for every rank."""
        if self.accelerator is not None:
            self.accelerator.wait_for_everyone()

    # ----------------------------------------------------------------- internals
    def _prepare(self, requests: list[Instance]) -> list[_Request]:
        seen: Counter[tuple[str, int]] = Counter()
        prepared = []
        for index, request in enumerate(requests):
            context, gen_kwargs = request.args
            gen_kwargs = dict(gen_kwargs or {})
            task_doc = (str(request.task_name), int(request.doc_id if request.doc_id is not None else index))
            repeat = seen[task_doc]
            seen[task_doc] += 1
            settings, until = self._request_settings(gen_kwargs)
            prepared.append(
                _Request(
                    index=index,
                    context=context,
                    gen_kwargs=request.args[1],
                    prompt_ids=self._encode(context, settings.gen_length or 0),
                    settings=settings,
                    until=until,
                    key=(task_doc[0], task_doc[1], repeat),
                    prompt_hash=hash_string(context),
                )
            )
        return prepared

    def _request_settings(self, gen_kwargs: dict[str, Any]) -> tuple[DecodingSettings, list[str]]:
        until = gen_kwargs.get("until") or []
        until = [until] if isinstance(until, str) else list(until)
        max_gen_toks = int(gen_kwargs.get("max_gen_toks", DEFAULT_MAX_GEN_TOKS))
        overrides = {k: v for k, v in gen_kwargs.items() if k not in LM_EVAL_GEN_KEYS}
        do_sample = str(gen_kwargs.get("do_sample", False)).lower() == "true"
        if "temperature" in gen_kwargs:
            overrides["temperature"] = float(gen_kwargs["temperature"]) if do_sample else 0.0
        try:
            settings = DecodingSettings.from_mapping(overrides, base=self.decoding).resolve(max_gen_toks)
            # A length the user pinned must fill whole blocks, as in the reference decoders; a task's
            # max_gen_toks may end in a shorter block (LLaDA-MoE's block of 32 on a 24-token task).
            pinned = "gen_length" in overrides or self.decoding.gen_length is not None
            settings.validate_for(self.preset.attention, self.preset.attention_block, whole_blocks=pinned)
        except ValueError as error:
            raise ValueError(f"bad generation settings {gen_kwargs}: {error}") from None
        if settings.gen_length > self.max_length:  # type: ignore[operator]
            raise ValueError(f"gen_length={settings.gen_length} exceeds the model's context ({self.max_length})")
        return settings, until

    def _encode(self, context: str, gen_length: int) -> list[int]:
        add_special = self.preset.add_special_tokens and not self._chat_template_used
        ids = self.tokenizer(context, add_special_tokens=add_special)["input_ids"]
        room = self.max_length - gen_length
        if len(ids) > room:
            if not self._truncation_warned:
                logger.warning("prompt of %d tokens truncated from the left to %d (context %d, canvas %d)",
                               len(ids), room, self.max_length, gen_length)
                self._truncation_warned = True
            ids = ids[len(ids) - room :]
        return ids

    def _run_batch(self, batch: list[_Request], settings: DecodingSettings) -> list[str]:
        width = max(len(r.prompt_ids) for r in batch)
        prompt = torch.full((len(batch), width), self.pad_id, dtype=torch.long)
        attention = torch.zeros((len(batch), width + settings.gen_length), dtype=torch.long)  # type: ignore[operator]
        for row, item in enumerate(batch):
            if item.prompt_ids:
                prompt[row, width - len(item.prompt_ids) :] = torch.tensor(item.prompt_ids)
            attention[row, width - len(item.prompt_ids) :] = 1
        prompt, attention = prompt.to(self.device), attention.to(self.device)
        logits_fn = None
        if self.preset.generate is None:  # a family with its own sampler never calls the engine's model wrapper
            with torch.inference_mode():
                logits_fn = make_logits_fn(self.model, attention, self.preset.shifted_logits, width,
                                           self.preset.attention, self.preset.attention_block, settings.cache)
        # A family with its own sampler (DiffusionGemma) always gets per-request random streams.
        needs_noise = settings.needs_noise or self.preset.generate is not None
        generators = [self._generator(item, settings) for item in batch] if needs_noise else None
        recorder = TraceRecorder(len(batch), settings.gen_length, self.device) if self._writer else None  # type: ignore[arg-type]
        with torch.inference_mode():
            if self.preset.generate is not None:
                result = self.preset.generate(
                    self.model, prompt, attention[:, :width], settings, self.special, generators, recorder
                )
            else:
                assert logits_fn is not None
                result = denoise(logits_fn, prompt, settings, self.special, generators, recorder)
        bad = (~result.finite).nonzero().flatten().tolist()
        if bad:
            where = ", ".join(f"{batch[i].key[0]} doc {batch[i].key[1]}" for i in bad)
            raise FloatingPointError(f"NaN or infinite logits while decoding {where}; no output was recorded")
        canvas = result.canvas.cpu().tolist()
        # Each row's answer ends at its first stop token (the trace keeps that token, the text does not).
        stops = [next((i for i, t in enumerate(ids) if t in self.stop_ids), len(ids)) for ids in canvas]
        texts, scored = [], []
        for ids, stop, item in zip(canvas, stops, batch, strict=True):
            full = self.tokenizer.decode(ids[:stop], skip_special_tokens=True)
            text = full
            for term in item.until:
                if term:
                    text = text.split(term)[0]
            texts.append(text)
            # The order metrics count the tokens of the text lm-eval scores: through EOS, or up to a stop string.
            scored.append(min(stop + 1, len(ids)) if text == full else scored_token_count(self._decode, ids, text))
        if recorder is not None and self._writer is not None:
            self._writer.write_batch(self._trace_records(batch, settings, canvas, stops, scored, result, recorder))
        return texts

    def _decode(self, ids: list[int]) -> str:
        return self.tokenizer.decode(ids, skip_special_tokens=True)

    def _trace_records(
        self, batch: list[_Request], settings: DecodingSettings, canvas: list[list[int]], stops: list[int],
        scored: list[int], result: Any, recorder: TraceRecorder,
    ) -> list[TraceRecord]:
        """One trace row per sample (trace-only work, kept apart so the benchmarks can time it)."""
        # One device-to-host copy per batch, not three per row.
        final_steps, first_steps, changes = (t.cpu().tolist() for t in
                                             (recorder.final_step, recorder.first_step, recorder.n_changes))
        nfes = result.nfe.cpu().tolist()
        stopped = result.stopped_early.cpu().tolist() if result.stopped_early is not None else [False] * len(batch)
        as_dict = settings.as_dict()
        records = []
        for row, item in enumerate(batch):
            ids = canvas[row]
            n_tokens = scored[row]
            records.append(TraceRecord(
                task_name=item.key[0],
                doc_id=item.key[1],
                repeat=item.key[2],
                prompt_hash=item.prompt_hash,
                n_tokens=n_tokens,
                final_step=final_steps[row],
                first_step=first_steps[row],
                n_changes=changes[row],
                nfe=nfes[row],
                steps=nfes[row],
                stopped_early=bool(stopped[row]),
                n_generated=min(stops[row] + 1, len(ids)),
                gen_length=len(ids),
                token_ids=ids,
                pieces=[self._piece(t) for t in ids[:n_tokens]],
                settings=dict(as_dict),
                model=self.pretrained,
            ))
        return records

    def _piece(self, token: int) -> str:
        """Text of one token for the sample viewer, decoded once per token id."""
        if token not in self._pieces:
            self._pieces[token] = self.tokenizer.decode([token])
        return self._pieces[token]

    def _generator(self, item: _Request, settings: DecodingSettings) -> torch.Generator:
        # Each request's stream depends only on the seed, its prompt and its repeat index.
        digest = hashlib.sha256(f"{settings.seed}|{item.prompt_hash}|{item.key[2]}".encode()).hexdigest()
        generator = torch.Generator(device=self.device)
        generator.manual_seed(int(digest[:15], 16))
        return generator

    def __del__(self) -> None:
        if getattr(self, "_writer", None) is not None:
            self._writer.close()  # type: ignore[union-attr]


def _flags(model_args: dict[str, Any], flags: dict[str, Any] | None) -> dict[str, Any]:
    """lm-eval's ``--device``/``--batch_size``/``--max_batch_size`` values that ``--model_args`` does not name.

    lm-eval always passes these flags (``batch_size`` 1 and ``device`` cuda:0 when not given), so a default
    cannot be told from a choice: the model arg, the more specific of the two, wins.
    """
    passed = {k: v for k, v in (flags or {}).items() if v is not None}
    for key in passed.keys() & model_args.keys():
        if str(passed[key]) != str(model_args[key]):
            logger.info("%s=%s from --model_args wins over lm-eval's %s", key, model_args[key], passed[key])
    return {k: v for k, v in passed.items() if k not in model_args}


def scored_token_count(decode: Callable[[list[int]], str], ids: list[int], text: str) -> int:
    """How many leading tokens of ``ids`` it takes to write ``text``, a prefix of their decoded text.

    A task's stop string cuts the answer inside the canvas; the tokens after the cut are not scored, so
    they do not count in AFP, TPF or tau. The token holding the start of the cut counts when it also
    holds the end of the answer. Binary search: the decoded length grows with the number of tokens.
    """
    lo, hi = 0, len(ids)
    while lo < hi:
        mid = (lo + hi) // 2
        if len(decode(ids[:mid])) >= len(text):
            hi = mid
        else:
            lo = mid + 1
    return lo


def _parse_batch_size(batch_size: int | str, device: str) -> int:
    text = str(batch_size)
    if text.startswith("auto"):
        return 16 if str(device).startswith("cuda") and torch.cuda.is_available() else 1
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"batch_size must be a positive integer or 'auto', got {batch_size!r}") from None
    if value < 1:
        raise ValueError(f"batch_size must be a positive integer or 'auto', got {batch_size!r}")
    return value


def _data_parallel(device: torch.device) -> Any:
    """An Accelerator when launched on several processes (``accelerate launch``), else None."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return None
    from datetime import timedelta

    from accelerate import Accelerator
    from accelerate.utils import InitProcessGroupKwargs

    accelerator = Accelerator(cpu=device.type == "cpu",
                              kwargs_handlers=[InitProcessGroupKwargs(timeout=timedelta(weeks=52))])
    return accelerator if accelerator.num_processes > 1 else None


def _resolve_device(device: str) -> torch.device:
    if str(device).startswith("cuda") and not torch.cuda.is_available():
        logger.warning("device %s requested but CUDA is not available: running on CPU", device)
        return torch.device("cpu")
    return torch.device(device)


def _special_tokens(tokenizer: Any, preset: FamilyPreset) -> tuple[SpecialTokens, frozenset[int]]:
    vocab = tokenizer.get_vocab()
    mask_id = preset.mask_id(tokenizer)
    if mask_id is None and preset.generate is not None:
        mask_id = -1  # a family with its own sampler (uniform-noise canvas) has no mask token
    if mask_id is None:
        wanted = preset.mask_token or "a mask token"
        raise ValueError(f"the tokenizer has no mask token ({wanted}); it cannot drive a {preset.name} model")
    stop = {vocab[t] for t in preset.eos_tokens if t in vocab}
    if tokenizer.eos_token_id is not None:
        stop.add(tokenizer.eos_token_id)
    eos_id = tokenizer.eos_token_id if tokenizer.eos_token_id is not None else next(iter(sorted(stop)), None)
    eot_id = vocab.get(preset.eot_token) if preset.eot_token else None
    return SpecialTokens(mask_id=int(mask_id), eos_id=eos_id, eot_id=eot_id), frozenset(stop)


def _context_limit(config: dict[str, Any]) -> int:
    for key in ("max_position_embeddings", "max_sequence_length", "n_positions", "max_seq_len"):
        if isinstance(config.get(key), int):
            return int(config[key])
    return 4096


def _embedded_default() -> Path:
    try:
        from model_adapters._embedded import embedded_path
    except ImportError:
        raise ValueError("no `pretrained` given and the embedded default model is not installed") from None
    return embedded_path("diffusion")
