"""lm-eval hooks of the ``mdlm_parallelbench`` tasks: dataset, chat prompt, scoring."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from lm_eval.api.task import ConfigurableTask

from ._data import load_items, pb_tasks, to_doc
from ._score import pb_score


def build_dataset(task_name: str, **metadata: Any) -> dict[str, Any]:
    """lm-eval ``custom_dataset`` hook: ParallelBench's 100 pinned test items of one task.

    Args:
        task_name: lm-eval task name (``mdlm_parallelbench_copy``...), from ``dataset_kwargs``.
        **metadata: lm-eval's metadata and model arguments (ignored).

    Returns:
        ``{"test": Dataset}`` with one row per item, in ParallelBench's order.
    """
    import datasets

    task = pb_tasks()[task_name]
    return {"test": datasets.Dataset.from_list([to_doc(task, i, item) for i, item in enumerate(load_items(task))])}


def process_results(doc: Mapping[str, Any], results: list[str]) -> dict[str, float]:
    """lm-eval ``process_results`` hook: ParallelBench's scores of the generated text."""
    return pb_score(doc["pb_metric"], results[0] if results else "", json.loads(doc["reference"]))


def render_plain(chat: list[dict[str, str]]) -> str:
    """The chat as one string for runs without a chat template (the project's choice).

    ParallelBench always applies a chat template. Without one, turns are separated by a blank
    line and the context ends with a newline, so the reply starts on a line of its own.
    """
    return "\n\n".join(m["content"].rstrip("\n") for m in chat) + "\n"


class ParallelBenchTask(ConfigurableTask):
    """A ConfigurableTask whose context is the item's own chat (worked example as an earlier turn).

    lm-eval's few-shot machinery draws shots from a split, the same for every document;
    ParallelBench pairs each item with its own example, so the context is built here instead.
    ``--num_fewshot`` is ignored; ``--fewshot_as_multiturn`` too (the example is always a turn).
    """

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        super().__init__(config={k: v for k, v in (config or {}).items() if k != "class"})

    def fewshot_context(  # type: ignore[override]
        self,
        doc: dict,
        num_fewshot: int = 0,
        system_instruction: str | None = None,
        apply_chat_template: bool = False,
        fewshot_as_multiturn: bool = False,
        chat_template: Callable[..., str] | None = None,
        gen_prefix: str | None = None,
    ) -> str:
        """The item's chat, through the model's chat template when one is applied."""
        chat = [{"role": m["role"], "content": m["content"]} for m in doc["messages"]]
        if system_instruction:
            chat.insert(0, {"role": "system", "content": system_instruction})
        if apply_chat_template and chat_template is not None:
            return chat_template(chat, add_generation_prompt=True)
        return render_plain(chat)
