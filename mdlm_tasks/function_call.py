"""Parse a model's function calls and match them against BFCL-style possible answers.

Accepted answer forms (inside a fenced block or bare): Python calls,
``[f(a=1), g(b="x")]`` or one call per line; JSON objects ``{"name": ..., "arguments": {...}}``
(``parameters`` also accepted, and ``arguments`` may be a JSON string), lists of them,
``{"f": {...}}``, and Hermes/Qwen ``<tool_call>...</tool_call>`` tags. Calls written inside
reasoning (``<think>...</think>``, see :func:`mdlm_tasks.answers.strip_reasoning`) are drafts
and are not read.

Matching follows BFCL's AST checker: the function name must match; every argument given
must exist in the gold call and equal one of its possible values (strings compared after
BFCL's normalisation, ints accepted for floats); a gold argument whose possible values
include ``""`` may be omitted, any other must be present. Parallel answers are an unordered
set: every gold call must match a distinct predicted call and the counts must agree.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import re
from typing import Any

from mdlm_tasks.answers import strip_reasoning
from mdlm_tasks.code_extract import extract_code

__all__ = ["FunctionCall", "calls_match", "parse_function_calls", "resolve_names"]


@dataclasses.dataclass(frozen=True)
class FunctionCall:
    """One parsed call."""

    name: str
    """Function name as written (dots kept)."""
    arguments: dict[str, Any]
    """Keyword arguments as Python values."""


class _Unparsable:
    """Stands for an argument whose value is not a literal; it equals nothing."""

    def __repr__(self) -> str:
        return "<unparsable>"


_TOOL_CALL = re.compile(r"<tool_call>(.*?)(?:</tool_call>|\Z)", re.DOTALL)


def _dotted_name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted_name(node.value)
        return None if base is None else f"{base}.{node.attr}"
    return None


def _literal(node: ast.AST) -> Any:
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return _Unparsable()


def _from_python(text: str, positional: dict[str, list[str]]) -> list[FunctionCall] | None:
    try:
        tree = ast.parse(text.strip())
    except SyntaxError:
        return None
    nodes: list[ast.AST] = []
    for statement in tree.body:
        if not isinstance(statement, ast.Expr):
            return None
        value = statement.value
        nodes.extend(value.elts if isinstance(value, (ast.List, ast.Tuple)) else [value])
    calls = []
    for node in nodes:
        name = _dotted_name(node.func) if isinstance(node, ast.Call) else None
        if name is None:
            return None
        arguments = {kw.arg: _literal(kw.value) for kw in node.keywords if kw.arg is not None}
        order = positional.get(name) or positional.get(name.rsplit(".", 1)[-1], [])
        for param, arg in zip(order, node.args, strict=False):
            arguments.setdefault(param, _literal(arg))
        if len(node.args) > len(order):
            return None
        calls.append(FunctionCall(name, arguments))
    return calls or None


def _json_call(item: Any) -> FunctionCall | None:
    if not isinstance(item, dict):
        return None
    if "function" in item and isinstance(item["function"], dict):  # OpenAI tool_calls entry
        item = item["function"]
    if isinstance(item.get("name"), str):
        arguments = item.get("arguments", item.get("parameters", {}))
        if isinstance(arguments, str):
            try:
                arguments = json.loads(arguments)
            except json.JSONDecodeError:
                return None
        return FunctionCall(item["name"], arguments) if isinstance(arguments, dict) else None
    if len(item) == 1:
        (name, arguments), = item.items()
        if isinstance(arguments, dict):
            return FunctionCall(name, arguments)
    return None


def _from_json(text: str) -> list[FunctionCall] | None:
    try:
        data = json.loads(text.strip())
    except json.JSONDecodeError:
        return None
    items = data if isinstance(data, list) else [data]
    calls = [_json_call(item) for item in items]
    return None if not calls or None in calls else calls


def parse_function_calls(text: str, positional: dict[str, list[str]] | None = None) -> list[FunctionCall] | None:
    """Read the function calls of a model answer.

    Args:
        text: The model's answer.
        positional: Parameter order per function name, to name positional Python arguments.

    Returns:
        The calls in the order written, or None when the answer holds no parsable call.
    """
    positional = positional or {}
    text = strip_reasoning(text)
    tagged = _TOOL_CALL.findall(text)
    if tagged:
        calls = [_from_json(chunk) for chunk in tagged]
        return None if None in calls else [call for chunk in calls for call in chunk]
    candidates = [extract_code(text, "python"), text]
    for candidate in candidates:
        for parse in (_from_json, lambda t: _from_python(t, positional)):
            calls = parse(candidate)
            if calls:
                return calls
    return None


def resolve_names(calls: list[FunctionCall] | None, offered: list[str]) -> list[FunctionCall] | None:
    """Name each call after the offered function it means when it qualifies it with a module.

    A schema names ``searchCPE``; a model that knows the library writes ``nvdlib.searchCPE``.
    A dotted name that is not offered itself but whose last part is exactly one offered name
    is that function. Names that are offered, or unknown, are left as written.

    Args:
        calls: Parsed calls (None passes through).
        offered: Names of the functions the prompt offered.

    Returns:
        The calls, renamed where needed.
    """
    if calls is None:
        return None
    names = set(offered)
    resolved = []
    for call in calls:
        tail = call.name.rsplit(".", 1)[-1]
        if call.name not in names and "." in call.name and tail in names:
            call = FunctionCall(tail, call.arguments)
        resolved.append(call)
    return resolved


def _standardize(text: str) -> str:
    return re.sub(r"[ ,./\-_*^]", "", text).lower().replace("'", '"')


def _value_matches(value: Any, gold: Any) -> bool:
    if isinstance(value, _Unparsable):
        return False
    if isinstance(gold, dict):
        if not isinstance(value, dict):
            return False
        if any(key not in gold or not _any_matches(item, gold[key]) for key, item in value.items()):
            return False
        return all(key in value or "" in options for key, options in gold.items() if isinstance(options, list))
    if isinstance(gold, (list, tuple)):
        return (isinstance(value, (list, tuple)) and len(value) == len(gold)
                and all(_value_matches(v, g) for v, g in zip(value, gold, strict=True)))
    if isinstance(gold, str):
        return isinstance(value, str) and _standardize(value) == _standardize(gold)
    if isinstance(gold, bool) or gold is None:
        return value is gold
    if isinstance(gold, (int, float)):
        return isinstance(value, (int, float)) and not isinstance(value, bool) and float(value) == float(gold)
    return value == gold


def _any_matches(value: Any, options: Any) -> bool:
    if not isinstance(options, list):
        options = [options]
    return any(_value_matches(value, option) for option in options if not (isinstance(option, str) and option == ""))


def _names_equal(predicted: str, gold: str) -> bool:
    return predicted == gold or predicted.replace(".", "_") == gold.replace(".", "_")


def _call_matches(call: FunctionCall, gold: dict[str, dict[str, list[Any]]]) -> bool:
    (name, params), = gold.items()
    if not _names_equal(call.name, name):
        return False
    if any(arg not in params or not _any_matches(value, params[arg]) for arg, value in call.arguments.items()):
        return False
    return all(arg in call.arguments or "" in options for arg, options in params.items())


def _assign(calls: list[FunctionCall], golds: list[dict[str, Any]], used: set[int]) -> bool:
    if not golds:
        return True
    for index, call in enumerate(calls):
        if index not in used and _call_matches(call, golds[0]) and _assign(calls, golds[1:], used | {index}):
            return True
    return False


def calls_match(calls: list[FunctionCall] | None, ground_truth: list[dict[str, dict[str, list[Any]]]]) -> bool:
    """Whether the predicted calls are exactly the gold calls, in any order.

    Args:
        calls: Parsed predicted calls (None when the answer did not parse).
        ground_truth: BFCL possible answers: one ``{name: {argument: [possible values]}}`` per call.

    Returns:
        True when the numbers of calls agree and each gold call matches a distinct predicted one.
    """
    if not calls or len(calls) != len(ground_truth):
        return False
    return _assign(calls, ground_truth, set())
