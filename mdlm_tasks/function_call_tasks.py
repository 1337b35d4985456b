"""BFCL and Nexus function-calling tasks: data loading, prompt and scorer.

Both datasets are normalised to one document shape so that one prompt and one scorer serve
all five tasks: ``id``, ``question`` (the user's request), ``functions`` (JSON list of
function schemas in BFCL's format) and ``ground_truth`` (JSON list of BFCL possible answers).
Nested, per-row schemas are stored as JSON strings because Arrow cannot hold them as columns.
"""

from __future__ import annotations

import ast
import json
from typing import Any

from mdlm_tasks.function_call import calls_match, parse_function_calls, resolve_names

__all__ = [
    "BFCL_REPO",
    "BFCL_REVISION",
    "bfcl_rows_to_docs",
    "function_call_doc_to_text",
    "function_call_process_results",
    "load_bfcl",
    "load_nexus",
    "nexus_rows_to_docs",
]

BFCL_REPO = "gorilla-llm/Berkeley-Function-Calling-Leaderboard"
BFCL_REVISION = "069792401e40006bfd99008cfb176c2e3d341f71"
"""A pinned revision that holds the v3 files (``BFCL_v3_<category>.json`` and ``possible_answer/``)."""
NEXUS_REPO = "Nexusflow/NexusRaven_API_evaluation"
NEXUS_REVISION = "85c7c326fcfb9c6587daabd9582e7cfaddcc65bd"


def _question_text(question: list[Any]) -> str:
    turn = question[0] if question and isinstance(question[0], list) else question
    return "\n".join(message["content"] for message in turn if message.get("role") == "user")


def bfcl_rows_to_docs(questions: list[dict[str, Any]], answers: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Join BFCL question rows (``id``, ``question``, ``function``) with their ``possible_answer`` rows."""
    truth = {row["id"]: row["ground_truth"] for row in answers}
    return [
        {
            "id": row["id"],
            "question": _question_text(row["question"]),
            "functions": json.dumps(row["function"]),
            "ground_truth": json.dumps(truth[row["id"]]),
        }
        for row in questions
    ]


def _read_json_lines(path: str) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def load_bfcl(category: str, revision: str = BFCL_REVISION, **_: Any) -> dict[str, Any]:
    """``custom_dataset`` for a BFCL v3 category (``simple``, ``multiple``, ``parallel``, ``parallel_multiple``)."""
    import datasets
    from huggingface_hub import hf_hub_download

    def fetch(name: str) -> list[dict[str, Any]]:
        return _read_json_lines(hf_hub_download(BFCL_REPO, name, repo_type="dataset", revision=revision))

    docs = bfcl_rows_to_docs(fetch(f"BFCL_v3_{category}.json"), fetch(f"possible_answer/BFCL_v3_{category}.json"))
    return {"test": datasets.Dataset.from_list(docs)}


_NEXUS_TYPES = {"str": "string", "int": "integer", "float": "float", "bool": "boolean", "list": "array",
                "dict": "dict"}


def _nexus_value(text: Any) -> Any:
    if not isinstance(text, str):
        return text
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def _nexus_schema(api: dict[str, Any]) -> dict[str, Any]:
    properties = {}
    for arg in api["args_dicts"]:
        kind = str(arg.get("type") or "str").strip()
        if kind.lower().startswith("optional[") and kind.endswith("]"):
            kind = kind[len("optional["):-1]
        kind = kind.split("[")[0].lower()
        properties[arg["name"]] = {"type": _NEXUS_TYPES.get(kind, kind), "description": arg.get("description") or ""}
        if arg.get("default") not in (None, ""):
            properties[arg["name"]]["default"] = arg["default"]
    required = [arg["name"] for arg in api["args_dicts"] if arg.get("required")]
    return {"name": api["name"], "description": api["description"],
            "parameters": {"type": "dict", "properties": properties, "required": required}}


def nexus_rows_to_docs(queries: list[dict[str, Any]], apis: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Join ``standardized_queries`` rows with the ``standardized_api_list`` schemas they offer.

    Arguments absent from the reference call may be omitted or set to their declared default.
    """
    schemas = {(api["dataset"], api["name"]): api for api in apis}
    docs = []
    for index, row in enumerate(queries):
        offered = [schemas[(row["dataset"], name)] for name in row["context_functions"]
                   if (row["dataset"], name) in schemas]
        gold = {key: [value] for key, value in json.loads(row["python_args_dict"]).items()}
        target = next((api for api in offered if api["name"] == row["python_function_name"]), None)
        for arg in (target or {}).get("args_dicts", []):
            if arg["name"] not in gold:
                gold[arg["name"]] = ["", _nexus_value(arg.get("default"))]
        docs.append({
            "id": f"nexus_{index}",
            "question": row["prompt"],
            "functions": json.dumps([_nexus_schema(api) for api in offered]),
            "ground_truth": json.dumps([{row["python_function_name"]: gold}]),
        })
    return docs


def load_nexus(revision: str = NEXUS_REVISION, **_: Any) -> dict[str, Any]:
    """``custom_dataset`` for NexusRaven's evaluation queries joined with their API schemas."""
    import datasets

    queries = datasets.load_dataset(NEXUS_REPO, "standardized_queries", split="train", revision=revision)
    apis = datasets.load_dataset(NEXUS_REPO, "standardized_api_list", split="train", revision=revision)
    return {"test": datasets.Dataset.from_list(nexus_rows_to_docs(list(queries), list(apis)))}


def function_call_doc_to_text(doc: dict[str, Any]) -> str:
    """One prompt for every function-calling task."""
    functions = json.dumps(json.loads(doc["functions"]), indent=2)
    return (
        f"You have access to the following functions, described in JSON:\n\n{functions}\n\n"
        f"Request: {doc['question'].strip()}\n\n"
        "Answer with only the function call or calls that fulfil the request, as a Python list of calls "
        "with keyword arguments in a single ```python code block, for example:\n"
        "```python\n[function_name(argument=value, other_argument=\"text\")]\n```\n"
        "If several calls are needed, put all of them in the list."
    )


def function_call_process_results(doc: dict[str, Any], results: list[str]) -> dict[str, float]:
    """Score 1 when the parsed calls AST-match the gold calls (unordered for parallel tasks)."""
    functions = json.loads(doc["functions"])
    positional = {f["name"]: list(f.get("parameters", {}).get("properties", {})) for f in functions}
    calls = resolve_names(parse_function_calls(results[0], positional), list(positional))
    return {"acc": float(calls_match(calls, json.loads(doc["ground_truth"])))}
