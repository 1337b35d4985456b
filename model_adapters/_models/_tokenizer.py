"""Tokenizers of every family loaded from the checkpoint's files, without running its code.

Most diffusion checkpoints ship a tokenizer transformers reads natively. Dream's
``tokenizer_config.json`` instead names its own class (``auto_map`` -> ``tokenization_dream.DreamTokenizer``;
SDAR's names a copied ``tokenization_qwen2.Qwen2Tokenizer``), so ``AutoTokenizer`` refuses it without
remote code. Both are Qwen2's byte-level BPE: ``vocab.json`` and ``merges.txt`` are Qwen2's, and the
special tokens, chat template and ids are in the JSON files beside them. Such a tokenizer is built
as transformers' fast Qwen2 tokenizer from those files and the ``auto_map`` is ignored.
``trust_remote_code=True`` still loads the checkpoint's own class.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from model_adapters._preset import FamilyPreset

logger = logging.getLogger(__name__)

QWEN2_BPE_CLASSES = frozenset({"DreamTokenizer", "Qwen2Tokenizer", "Qwen2TokenizerFast"})
"""Custom tokenizer classes (Dream's; SDAR ships a copy of Qwen2's) that are Qwen2's byte-level BPE."""


def load_tokenizer(
    pretrained: str, revision: str | None = None, trust_remote_code: bool = False, preset: FamilyPreset | None = None
) -> Any:
    """The checkpoint's tokenizer; its own tokenizer code runs only with ``trust_remote_code``.

    Args:
        pretrained: Local folder or hub id.
        revision: Hub revision, if any.
        trust_remote_code: Load the class the checkpoint's ``auto_map`` names (its own code).
        preset: When given, a mask id that differs from the preset's published one is logged.

    Raises:
        ValueError: when the checkpoint's tokenizer needs its own code and cannot be rebuilt from its
            files (pass ``trust_remote_code=True`` for those).
    """
    from transformers import AutoTokenizer

    if trust_remote_code or not (remote := _remote_class(pretrained, revision)):
        tokenizer = AutoTokenizer.from_pretrained(pretrained, revision=revision, trust_remote_code=trust_remote_code)
    else:
        tokenizer = _from_files(pretrained, revision, remote)
        logger.info("%s: tokenizer %s loaded as %s from its files (its own code is not run)",
                    pretrained, remote, type(tokenizer).__name__)
    if preset is not None:
        _check_mask_id(tokenizer, preset)
    return tokenizer


def _remote_class(pretrained: str, revision: str | None) -> str | None:
    """The class name in ``tokenizer_config.json``'s ``auto_map`` (a custom tokenizer), if any."""
    path = _checkpoint_file(pretrained, "tokenizer_config.json", revision)
    if path is None:
        return None
    auto = (json.loads(path.read_text()).get("auto_map") or {}).get("AutoTokenizer")
    names = [auto] if isinstance(auto, str) else [name for name in auto or () if name]
    return names[0].rsplit(".", 1)[-1] if names else None


def _from_files(pretrained: str, revision: str | None, remote: str) -> Any:
    """A fast tokenizer from the checkpoint's files for a tokenizer whose class is custom code."""
    if remote in QWEN2_BPE_CLASSES and _checkpoint_file(pretrained, "merges.txt", revision):
        from transformers import Qwen2TokenizerFast

        return Qwen2TokenizerFast.from_pretrained(pretrained, revision=revision)
    if _checkpoint_file(pretrained, "tokenizer.json", revision):
        from transformers import PreTrainedTokenizerFast

        return PreTrainedTokenizerFast.from_pretrained(pretrained, revision=revision)
    raise ValueError(
        f"{pretrained}: its tokenizer is custom code ({remote}) with no tokenizer.json to load instead; "
        "pass trust_remote_code=True to run it"
    )


def _checkpoint_file(pretrained: str, name: str, revision: str | None) -> Path | None:
    """A file of a local folder or of a (cached) hub checkpoint, or None when it has none."""
    local = Path(pretrained).expanduser()
    if local.is_dir():
        return local / name if (local / name).is_file() else None
    from transformers.utils import cached_file

    try:
        found = cached_file(pretrained, name, revision=revision, _raise_exceptions_for_missing_entries=False)
    except OSError:
        return None
    return Path(found) if found else None


def _check_mask_id(tokenizer: Any, preset: FamilyPreset) -> None:
    """Log when the tokenizer's id for the preset's mask token is not the published one."""
    if preset.mask_token is None or preset.mask_token_id is None:
        return
    found = tokenizer.get_vocab().get(preset.mask_token)
    if found is not None and found != preset.mask_token_id:
        logger.warning("%s has id %d in this tokenizer, not the published %d: is it the %s tokenizer?",
                       preset.mask_token, found, preset.mask_token_id, preset.name)
