"""ParallelBench-faithful tasks (``mdlm_parallelbench``): its pinned test items, prompts, budgets and scores.

Source: furiosa-ai/ParallelBench at commit 72de8f7 (``data/tasks.json`` and ``data/SOURCE.md``). Its
repository has no licence, so the test files are not shipped: they are fetched from that commit on
first use, sha256-checked and cached, or read from a checkout named by ``$MDLM_PARALLELBENCH_DIR``.
Unlike the ParallelBench-*style* ``mdlm_pb_*`` tasks of ``mdlm_synthetic`` (generated, 1-based
positions, "Answer:" prompts, forgiving scorers), these reproduce ParallelBench: 100 items per
task (25 per list length 3-6), chat messages with the item's worked example as an earlier turn,
0-based positions and its sort-by-full-string gold, its output budgets (32 tokens for the waiting
line, 64 otherwise) and its two scores. lm-eval hooks (dataset, context, ``process_results``)
live in ``_task`` and import lm-eval; the scorers and data here do not.
"""

from ._data import DIR_ENV, PREFIX, PBTask, gold_text, load_items, messages, pb_tasks, source
from ._score import METRICS, latin_square_ok, pb_score, read_list, words_included

__all__ = [
    "DIR_ENV",
    "METRICS",
    "PREFIX",
    "PBTask",
    "gold_text",
    "latin_square_ok",
    "load_items",
    "messages",
    "pb_score",
    "pb_tasks",
    "read_list",
    "source",
    "words_included",
]
