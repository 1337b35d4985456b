"""Spider text-to-SQL: schema prompt and execution match on the row's SQLite database.

The ``xlangai/spider`` dataset carries questions and gold SQL but no databases. They are
found, in this order: in ``$MDLM_SPIDER_DIR`` (the unpacked official Spider release, the
folder holding ``database/<db_id>/<db_id>.sqlite``); in this package's cache; or fetched
once from the ``HAL-9001/spider-databases`` re-host of the official zip, checked against
the SHA-256 of the official archive and unpacked into the cache. Queries run read-only,
with ``ATTACH`` refused and a time budget, in this process.

The official release is ``spider_data.zip`` on Google Drive (:data:`SPIDER_OFFICIAL_URL`,
linked from https://yale-lily.github.io/spider). The pinned SHA-256 is the re-host's, and
it is the digest (and 205,800,266 bytes the size) that several unrelated projects record
for their own downloads of that official file; it was not checked here against a download
of the official file (no access to Google Drive from where this was written).
"""

from __future__ import annotations

import collections
import contextlib
import functools
import hashlib
import os
import re
import sqlite3
import time
import zipfile
from pathlib import Path
from typing import Any

from mdlm_tasks._pinned import user_cache_dir
from mdlm_tasks.answers import strip_reasoning
from mdlm_tasks.code_extract import extract_code

__all__ = [
    "execution_match",
    "same_results",
    "spider_database",
    "spider_doc_to_text",
    "spider_process_results",
    "spider_root",
    "unpack_spider_zip",
]

SPIDER_DIR_ENV = "MDLM_SPIDER_DIR"
SPIDER_MIRROR = ("HAL-9001/spider-databases", "spider_data.zip",
                 "00636695dabed6b5f4b8328a16b13e069a2f16591d5efcce57660669c85b121b")
"""Hub dataset repo, file and SHA-256 of the official Spider zip (its card states the hash)."""
SPIDER_OFFICIAL_URL = "https://drive.google.com/file/d/1403EGqzIDoHMdQF4c9Bkyl7dZLZ5Wt6J/view"
"""The official ``spider_data.zip`` (Google Drive, linked from the Spider page); same SHA-256 as the re-host."""
_TIME_BUDGET_S = 10.0


def _cache_dir() -> Path:
    return user_cache_dir("spider")


def unpack_spider_zip(archive: Path, target: Path, sha256: str) -> Path:
    """Check ``archive`` against ``sha256`` and unpack it into ``target``; return the folder holding ``database/``.

    Raises:
        ValueError: When the checksum differs or the archive holds no ``database/`` folder.
    """
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    if digest != sha256:
        raise ValueError(f"{archive} has SHA-256 {digest}, expected {sha256}")
    with zipfile.ZipFile(archive) as bundle:
        for member in bundle.namelist():  # no absolute paths or '..' escaping the target
            if member.startswith("/") or ".." in Path(member).parts:
                raise ValueError(f"unsafe path {member!r} in {archive}")
        bundle.extractall(target)
    found = sorted(path.parent for path in target.glob("**/database") if path.is_dir())
    if not found:
        raise ValueError(f"{archive} holds no database/ folder")
    return found[0]


def spider_root() -> Path:
    """Folder holding Spider's ``database/``: ``$MDLM_SPIDER_DIR``, the cache, or a verified download.

    Raises:
        FileNotFoundError: With instructions when no copy can be found or fetched.
    """
    if os.environ.get(SPIDER_DIR_ENV):
        return Path(os.environ[SPIDER_DIR_ENV])
    cache = _cache_dir()
    cached = sorted(path.parent for path in cache.glob("**/database") if path.is_dir())
    if cached:
        return cached[0]
    repo, filename, sha256 = SPIDER_MIRROR
    try:
        from huggingface_hub import hf_hub_download

        archive = Path(hf_hub_download(repo, filename, repo_type="dataset"))
    except Exception as error:  # offline, hub unreachable, repo gone
        raise FileNotFoundError(
            "mdlm_spider needs the Spider databases, which the xlangai/spider dataset does not ship, and "
            f"fetching {repo}/{filename} failed ({error}). Download the official Spider release "
            f"({SPIDER_OFFICIAL_URL}), check its SHA-256 is {sha256}, unpack it "
            f"and set {SPIDER_DIR_ENV} to the folder that holds database/."
        ) from error
    return unpack_spider_zip(archive, cache, sha256)


def spider_database(db_id: str) -> Path:
    """Path of one Spider database (see :func:`spider_root`).

    Raises:
        FileNotFoundError: When the database is missing.
    """
    root = spider_root()
    path = root / "database" / db_id / f"{db_id}.sqlite"
    if not path.is_file():
        raise FileNotFoundError(f"Spider database {db_id!r} not found at {path}")
    return path


def _deny_attach(action: int, *_: Any) -> int:
    return sqlite3.SQLITE_DENY if action in (sqlite3.SQLITE_ATTACH, sqlite3.SQLITE_DETACH) else sqlite3.SQLITE_OK


def _connect(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    connection.text_factory = lambda data: data.decode("utf-8", errors="replace")
    connection.set_authorizer(_deny_attach)
    return connection


@functools.lru_cache(maxsize=256)
def _schema(path: Path) -> str:
    with contextlib.closing(_connect(path)) as connection:
        rows = connection.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND sql IS NOT NULL ORDER BY rowid"
        ).fetchall()
    return "\n".join(f"{sql.strip()};" for (sql,) in rows)


def spider_doc_to_text(doc: dict[str, Any]) -> str:
    """Prompt: the database's ``CREATE TABLE`` statements, the question and the answer format."""
    schema = _schema(spider_database(doc["db_id"]))
    return (
        f"Here is the schema of the SQLite database `{doc['db_id']}`:\n\n```sql\n{schema}\n```\n\n"
        f"Question: {doc['question'].strip()}\n\n"
        "Write one SQLite query that answers the question. Return only the query in a single ```sql code block."
    )


def _run(path: Path, query: str) -> list[tuple[Any, ...]] | None:
    deadline = time.monotonic() + _TIME_BUDGET_S
    try:
        with contextlib.closing(_connect(path)) as connection:
            connection.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
            return connection.execute(query).fetchall()
    except (sqlite3.Error, sqlite3.Warning, ValueError, OverflowError):
        return None


_LITERAL = re.compile(r"'(?:''|[^'])*'|\"(?:\"\"|[^\"])*\"")


def _without_distinct(query: str) -> str:
    """``query`` with the keyword DISTINCT removed outside string literals (Spider's default)."""
    parts = _LITERAL.split(query)
    literals = _LITERAL.findall(query)
    kept = [re.sub(r"\bdistinct\b", "", part, flags=re.IGNORECASE) for part in parts]
    return "".join(part + (literals[i] if i < len(literals) else "") for i, part in enumerate(kept))


def _prepare(query: str) -> str:
    # Spider's evaluator joins split comparison operators ("> =") and, unless told to keep
    # it, drops DISTINCT from both queries before running them.
    query = query.replace("> =", ">=").replace("< =", "<=").replace("! =", "!=")
    return _without_distinct(query)


def _column_orders(gold: list[tuple[Any, ...]], got: list[tuple[Any, ...]]) -> list[tuple[int, ...]]:
    """Every assignment of ``got``'s columns to ``gold``'s whose value multisets agree column by column."""
    width = len(gold[0])
    gold_columns = [collections.Counter(row[i] for row in gold) for i in range(width)]
    got_columns = [collections.Counter(row[j] for row in got) for j in range(width)]
    fits = [[j for j in range(width) if got_columns[j] == gold_columns[i]] for i in range(width)]
    orders: list[tuple[int, ...]] = []

    def extend(prefix: tuple[int, ...]) -> None:
        if len(prefix) == width:
            orders.append(prefix)
            return
        for j in fits[len(prefix)]:
            if j not in prefix:
                extend((*prefix, j))

    extend(())
    return orders


def same_results(gold: list[tuple[Any, ...]], got: list[tuple[Any, ...]], ordered: bool) -> bool:
    """Whether two query results denote the same table, as Spider's execution match decides.

    The tables match when some order of ``got``'s columns makes its rows equal to ``gold``'s:
    as a multiset of rows, or as a sequence when ``ordered`` (the gold query sorts). Two
    empty results match; different row or column counts never do. Values compare exactly.
    """
    if not gold or not got:
        return not gold and not got
    if len(gold) != len(got) or len(gold[0]) != len(got[0]):
        return False
    for order in _column_orders(gold, got):
        moved = [tuple(row[j] for j in order) for row in got]
        if (moved == gold) if ordered else (collections.Counter(moved) == collections.Counter(gold)):
            return True
    return False


def execution_match(path: Path, predicted: str, gold: str) -> bool:
    """Whether two queries return the same table on the database at ``path`` (see :func:`same_results`).

    Both queries lose DISTINCT first, as in Spider's evaluation; rows are compared in order
    only when the gold query has ``ORDER BY``. A predicted query that fails (syntax, runtime
    error, over the time budget) never matches.
    """
    gold, predicted = _prepare(gold), _prepare(predicted)
    want = _run(path, gold)
    got = _run(path, predicted)
    if want is None or got is None:
        return False
    return same_results(want, got, ordered=bool(re.search(r"\border\s+by\b", gold, re.IGNORECASE)))


def spider_process_results(doc: dict[str, Any], results: list[str]) -> dict[str, float]:
    """Score 1 when the answer's SQL returns the gold query's rows."""
    predicted = extract_code(strip_reasoning(results[0]), "sql").strip().rstrip(";").strip()
    if not predicted:
        return {"acc": 0.0}
    return {"acc": float(execution_match(spider_database(doc["db_id"]), predicted, doc["query"]))}
