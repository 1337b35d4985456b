"""Sandboxed execution of model-written programs (Python, C++, JavaScript).

Every program runs in its own subprocess with a wall-clock timeout that kills it and
everything it started, and with ``RLIMIT_CPU``, ``RLIMIT_AS``, ``RLIMIT_FSIZE`` and a process
cap. How it is isolated is the *mode* (:func:`isolation_mode`), the first that works of:

- ``bwrap``: bubblewrap (Debian's ``bubblewrap`` package), as any user;
- ``userns``: ``unshare --user --map-root-user``, where the kernel lets users create user namespaces;
- ``namespaces``: ``unshare`` without a user namespace, for root where user namespaces are off;
- ``rlimits``: no isolation at all. Code tasks refuse to run in it unless the user opts in
  with ``MDLM_ALLOW_UNSANDBOXED=1``.

The three isolating modes give the same guarantees, each checked by a probe listed in
``tests/README.md``: the program sees a fresh root holding only read-only system folders and
the interpreter and compiler installations; its working directory, ``/tmp``, ``/var/tmp``
and ``/dev/shm`` share one private tmpfs of :attr:`Limits.disk_mb`; ``/proc`` is fresh and
read-only; the network namespace is empty (no loopback, no abstract Unix sockets) and host
files, sockets and processes are out of sight; it holds no capabilities; and it is PID 1's
child in its own PID namespace, so nothing it starts outlives it. Root additionally caps
processes with a cgroup ``pids.max`` (root ignores ``RLIMIT_NPROC``). ``MDLM_SANDBOX=<mode>``
forces a mode.

Like lm-eval's ``code_eval`` this refuses to run anything unless the user opted in, with
``HF_ALLOW_CODE_EVAL=1`` or lm-eval's ``--confirm_run_unsafe_code`` (see
:func:`code_execution_allowed`).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import importlib.util
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path

__all__ = [
    "MODES",
    "CodeExecutionDisabledError",
    "ExecutionResult",
    "Limits",
    "SandboxUnavailableError",
    "code_execution_allowed",
    "ensure_code_execution_allowed",
    "isolation_mode",
    "mode_problem",
    "run_program",
]

MODES = ("bwrap", "userns", "namespaces", "rlimits")
"""Sandbox modes, in the order :func:`isolation_mode` tries them."""

OPT_IN_MESSAGE = (
    "Executing model-generated code is disabled. It runs untrusted code on this machine (in a "
    "sandbox); opt in with the environment variable HF_ALLOW_CODE_EVAL=1, or pass "
    "--confirm_run_unsafe_code to lm_eval."
)

UNSANDBOXED_MESSAGE = (
    "No sandbox works on this machine: bubblewrap is not installed (Debian/Ubuntu: apt-get install "
    "bubblewrap), the kernel does not let this user create user namespaces (see "
    "/proc/sys/user/max_user_namespaces, kernel.unprivileged_userns_clone and AppArmor's "
    "kernel.apparmor_restrict_unprivileged_userns), and the process is not root. Model-written code "
    "would run with this user's full access to the network, files and processes. Install bubblewrap, "
    "or set MDLM_ALLOW_UNSANDBOXED=1 to run it anyway (the mode is then 'rlimits')."
)

# Files of /etc that programs, the dynamic linker and the compilers read; the rest (shadow,
# ssh keys, credentials) stays out of sight.
_ETC = ("alternatives", "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "timezone", "passwd",
        "group", "nsswitch.conf", "hosts", "host.conf", "ssl", "ca-certificates", "ca-certificates.conf",
        "fonts", "mime.types", "os-release", "python3", f"python3.{sys.version_info.minor}")
_SYSTEM = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
_INIT_SOURCE = Path(__file__).with_name("_sandbox_init.py")
_SETUP_FAILED = 125  # the init's exit status when it cannot build the sandbox
_INODES_PER_MB = 64

_OUTPUT_CHARS = 20_000


class CodeExecutionDisabledError(RuntimeError):
    """Raised when code execution was requested without the user's opt-in."""


class SandboxUnavailableError(CodeExecutionDisabledError):
    """Raised when no sandbox works (and unisolated runs were not allowed) or a forced mode fails."""


@dataclasses.dataclass(frozen=True)
class Limits:
    """Resource limits of one sandboxed run."""

    timeout_s: float = 10.0
    """Wall-clock limit; the program and everything it started are killed when it passes."""
    memory_mb: int = 2048
    """Address-space limit per process (``RLIMIT_AS``)."""
    max_processes: int = 64
    """Processes and threads (``RLIMIT_NPROC`` inside the sandbox, and cgroup ``pids.max`` as root)."""
    file_size_mb: int = 64
    """Largest file the program may write, stdout and stderr included (``RLIMIT_FSIZE``)."""
    disk_mb: int = 256
    """Everything the program may write, all files together (the size of its tmpfs; not in ``rlimits`` mode)."""


@dataclasses.dataclass(frozen=True)
class ExecutionResult:
    """Outcome of one sandboxed run."""

    status: str
    """``passed`` (exit 0), ``failed`` (non-zero exit or signal), ``timeout`` or ``compile_error``."""
    returncode: int | None
    """Exit status (negative for a signal, 128 + the signal under ``bwrap``); None after a timeout."""
    stdout: str
    """Standard output, truncated to its first 20,000 characters."""
    stderr: str
    """Standard error (the compiler's for ``compile_error``), truncated likewise."""
    elapsed_s: float
    """Wall-clock seconds of the run (compilation excluded)."""
    mode: str = ""
    """The sandbox mode that ran it (one of :data:`MODES`)."""

    @property
    def passed(self) -> bool:
        """True when the program exited with status 0 within its limits."""
        return self.status == "passed"


def _confirmed_by_lm_eval() -> bool:
    """Tell whether the caller runs under lm-eval's ``evaluate(confirm_run_unsafe_code=True)``.

    lm-eval 0.4.13 checks ``--confirm_run_unsafe_code`` against the tasks marked
    ``unsafe_code: true`` before generating, but hands the flag to no task or metric; the
    evaluator's own frame is the only place it is visible when results are scored.
    """
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_name == "evaluate" and frame.f_globals.get("__name__") == "lm_eval.evaluator":
            return bool(frame.f_locals.get("confirm_run_unsafe_code", False))
        frame = frame.f_back
    return False


def code_execution_allowed() -> bool:
    """Whether the user opted in to running model-generated code.

    Returns:
        True when ``HF_ALLOW_CODE_EVAL=1`` is set, or when scoring happens inside an lm-eval
        run started with ``--confirm_run_unsafe_code``.
    """
    return os.environ.get("HF_ALLOW_CODE_EVAL") == "1" or _confirmed_by_lm_eval()


def ensure_code_execution_allowed() -> None:
    """Raise :class:`CodeExecutionDisabledError`, naming how to opt in, unless allowed."""
    if not code_execution_allowed():
        raise CodeExecutionDisabledError(OPT_IN_MESSAGE)


def isolation_mode() -> str:
    """The sandbox mode programs run in now: the first of :data:`MODES` that works here.

    ``MDLM_SANDBOX=<mode>`` forces one. The availability of each mode is probed once per
    process (by running a trivial program in it).

    Returns:
        ``bwrap``, ``userns``, ``namespaces``, or ``rlimits`` when no isolation works.

    Raises:
        SandboxUnavailableError: When ``MDLM_SANDBOX`` names a mode that does not work here.
        ValueError: When ``MDLM_SANDBOX`` names no mode.
    """
    forced = os.environ.get("MDLM_SANDBOX", "").strip()
    if forced:
        if forced not in MODES:
            raise ValueError(f"MDLM_SANDBOX={forced!r}; expected one of {list(MODES)}")
        problem = mode_problem(forced)
        if problem:
            raise SandboxUnavailableError(f"MDLM_SANDBOX={forced}, but that sandbox does not work here: {problem}")
        return forced
    return next(mode for mode in MODES if mode_problem(mode) is None)


def mode_problem(mode: str) -> str | None:
    """Why ``mode`` does not work for this process's user (None when it works)."""
    return _mode_problem(mode, os.geteuid() if hasattr(os, "geteuid") else -1)


@functools.cache
def _mode_problem(mode: str, euid: int) -> str | None:  # euid in the key: tests switch users
    if mode == "rlimits":
        return None
    if sys.platform != "linux":
        return "namespaces need Linux"
    if mode == "namespaces" and euid != 0:
        return "needs root"
    tool = "bwrap" if mode == "bwrap" else "unshare"
    if shutil.which(tool) is None or (mode != "bwrap" and shutil.which("setpriv") is None):
        return f"{tool} is not installed" + (" (apt-get install bubblewrap)" if tool == "bwrap" else "")
    try:
        result, _ = _execute([sys.executable, "-I", "-S", "-c", "pass"], {}, Limits(timeout_s=30), "", mode)
    except (OSError, subprocess.SubprocessError, SandboxUnavailableError) as error:
        return str(error)
    return None if result.passed else f"a trivial program failed: {result.stderr.strip()[-500:]}"


def _pids_cgroup(max_processes: int) -> Path | None:
    """Create a ``pids`` cgroup capped at ``max_processes``; None where that is not possible."""
    name = f"mdlm-sandbox-{uuid.uuid4().hex[:12]}"
    for root in (Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup")):
        if not (root / "cgroup.procs").exists():
            continue
        group = root / name
        try:
            group.mkdir()
        except OSError:
            continue
        try:
            (group / "pids.max").write_text(str(max_processes))
            return group
        except OSError:  # e.g. cgroup v2 without the pids controller enabled
            _remove_cgroup(group)
    return None


def _remove_cgroup(group: Path | None) -> None:
    if group is None:
        return
    for _ in range(50):  # processes may take a moment to be reaped after SIGKILL
        try:
            group.rmdir()
            return
        except OSError:
            time.sleep(0.02)


def _limit_setter(limits: Limits, cpu_s: int, group: Path | None, nproc: bool):
    memory = limits.memory_mb * 1024 * 1024
    fsize = limits.file_size_mb * 1024 * 1024

    def apply() -> None:  # runs in the child between fork and exec
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s + 1))
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if nproc:  # the sandboxes set it inside their user namespace, where it counts their processes only
            resource.setrlimit(resource.RLIMIT_NPROC, (limits.max_processes, limits.max_processes))
        if group is not None:
            (group / "cgroup.procs").write_text(str(os.getpid()))

    return apply


def _environment(home: str, tmp: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": home,
        "TMPDIR": tmp,
        "LANG": "C.UTF-8",
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "MPLBACKEND": "Agg",
    }


def _read(path: Path) -> str:
    with path.open("rb") as handle:
        data = handle.read(_OUTPUT_CHARS * 4)
    return data.decode("utf-8", errors="replace")[:_OUTPUT_CHARS]


def _prefix(executable: str | None) -> Path | None:
    """The installation an executable belongs to (``<prefix>/bin/<name>`` -> ``<prefix>``)."""
    if executable is None:
        return None
    return Path(os.path.realpath(executable)).parent.parent


def _read_only_paths(extra: Sequence[str]) -> list[str]:
    """Host paths the sandbox shows read-only: system folders, selected /etc files, installations."""
    prefixes = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    wanted = [*_SYSTEM, *(f"/etc/{name}" for name in _ETC), *prefixes, *map(os.path.realpath, prefixes), *extra]
    for tool in (sys.executable, shutil.which("node"), shutil.which("g++")):
        wanted += [str(_prefix(tool))] if tool else []
    # Every Python start-up imports the plugin hook (a .pth file); in an editable install its
    # package lives in the checkout, which is otherwise out of sight.
    plugin = importlib.util.find_spec("model_adapters")
    if plugin is not None and plugin.submodule_search_locations:
        wanted += list(plugin.submodule_search_locations)
    kept: list[str] = []
    for path in sorted({os.path.abspath(p) for p in wanted if p and os.path.lexists(p)}):
        # A folder inside one already shown (a venv inside /usr, say) comes with it.
        if not any(path.startswith(parent.rstrip("/") + "/") and not os.path.islink(parent) for parent in kept):
            kept.append(path)
    return kept


def _unshare_command(mode: str, argv: Sequence[str], base: Path, names: Sequence[str], keep: Sequence[str],
                     limits: Limits, env: Mapping[str, str], extra_ro: Sequence[str]) -> list[str]:
    (base / "root").mkdir()
    config = {
        "root": str(base / "root"), "read_only": _read_only_paths(extra_ro), "input_dir": str(base / "in"),
        "inputs": list(names), "output_dir": str(base / "out"), "keep": list(keep),
        "status_file": str(base / "status"), "disk_mb": limits.disk_mb,
        "inodes": max(1024, limits.disk_mb * _INODES_PER_MB), "nproc": limits.max_processes,
        "setpriv": shutil.which("setpriv"), "argv": list(argv), "env": dict(env),
    }
    user = ["--user", "--map-root-user"] if mode == "userns" else []
    return [shutil.which("unshare") or "unshare", *user, "--mount", "--net", "--pid", "--ipc", "--uts", "--fork",
            "--kill-child", "--propagation", "private", sys.executable, "-I", "-S", "-c", _INIT_SOURCE.read_text(),
            json.dumps(config)]


def _bwrap_command(argv: Sequence[str], base: Path, names: Sequence[str], keep: Sequence[str], limits: Limits,
                   extra_ro: Sequence[str]) -> list[str]:
    command = [shutil.which("bwrap") or "bwrap", "--unshare-all", "--die-with-parent", "--new-session",
               "--cap-drop", "ALL"]
    for path in _read_only_paths(extra_ro):
        command += ["--symlink", os.readlink(path), path] if os.path.islink(path) else ["--ro-bind", path, path]
    command += ["--proc", "/proc", "--remount-ro", "/proc",
                "--size", str(64 * 1024), "--tmpfs", "/dev", "--symlink", "/proc/self/fd", "/dev/fd"]
    for device in ("null", "zero", "full", "random", "urandom"):
        command += ["--dev-bind", f"/dev/{device}", f"/dev/{device}"]
    # One size-limited tmpfs holds everything the program may write.
    command += ["--size", str(limits.disk_mb * 1024 * 1024), "--tmpfs", "/sandbox", "--dir", "/sandbox/work",
                "--dir", "/sandbox/tmp", "--symlink", "/sandbox/tmp", "/tmp", "--dir", "/var",
                "--symlink", "/sandbox/tmp", "/var/tmp", "--symlink", "/sandbox/tmp", "/dev/shm"]
    for name in names:
        command += ["--ro-bind", str(base / "in" / name), f"/sandbox/.in/{name}"]
    if keep:
        command += ["--bind", str(base / "out"), "/sandbox/.out"]
    command += ["--remount-ro", "/dev", "--remount-ro", "/", "--chdir", "/sandbox/work", "--"]
    # A shell copies the inputs into the writable folder (and the kept files out), and prlimit
    # caps processes inside the user namespace, where only the sandbox's own count.
    script = 'for f in /sandbox/.in/*; do [ -e "$f" ] && cp "$f" .; done; '
    if keep:
        script += '"$@"; s=$?; ' + " ".join(f"[ -f {n} ] && cp {n} /sandbox/.out/;" for n in keep) + ' exit $s'
    else:
        script += 'exec "$@"'
    nproc = f"--nproc={limits.max_processes}:{limits.max_processes}"
    return [*command, shutil.which("prlimit") or "prlimit", nproc, "--", "/bin/sh", "-c", script, "sandbox", *argv]


def _execute(argv: Sequence[str], files: Mapping[str, bytes], limits: Limits, stdin: str, mode: str, *,
             keep: Sequence[str] = (), extra_ro: Sequence[str] = ()) -> tuple[ExecutionResult, dict[str, bytes]]:
    """Run ``argv`` on ``files`` under ``limits`` in ``mode``; return the result and the ``keep`` files it wrote."""
    base = Path(tempfile.mkdtemp(prefix="mdlm-sandbox-"))
    try:
        work = base / ("work" if mode == "rlimits" else "in")
        for folder in (work, base / "out"):
            folder.mkdir()
        for name, content in files.items():
            (work / name).write_bytes(content)
            (work / name).chmod(0o755)
        (base / "stdin").write_text(stdin)
        if mode == "rlimits":
            command, cwd, env = list(argv), work, _environment(str(work), str(work))
        else:
            env = _environment("/sandbox/work", "/tmp")
            if mode == "bwrap":
                command = _bwrap_command(argv, base, list(files), keep, limits, extra_ro)
            else:
                command = _unshare_command(mode, argv, base, list(files), keep, limits, env, extra_ro)
            cwd = base
        result = _run(command, cwd, env, base, limits, mode)
        source = work if mode == "rlimits" else base / "out"
        kept = {name: (source / name).read_bytes() for name in keep if (source / name).is_file()}
        return result, kept
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _run(command: list[str], cwd: Path, env: dict[str, str], base: Path, limits: Limits,
         mode: str) -> ExecutionResult:
    """Start ``command`` in its own session; kill the session at the end or at the timeout."""
    group = _pids_cgroup(limits.max_processes) if hasattr(os, "geteuid") and os.geteuid() == 0 else None
    cpu_s = int(limits.timeout_s) + 1
    start = time.monotonic()
    with (base / "stdin").open("rb") as fin, (base / "stdout").open("wb") as fout, \
            (base / "stderr").open("wb") as ferr:
        proc = subprocess.Popen(  # noqa: S603 - the point of the module
            command, cwd=cwd, stdin=fin, stdout=fout, stderr=ferr, env=env, start_new_session=True,
            preexec_fn=_limit_setter(limits, cpu_s, group, nproc=mode == "rlimits"), close_fds=True,
        )
        timed_out = False
        try:
            proc.wait(timeout=limits.timeout_s)
        except subprocess.TimeoutExpired:
            timed_out = True
        finally:
            try:  # also ends any background children left in the session
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            proc.wait()
    elapsed = time.monotonic() - start
    _remove_cgroup(group)
    stdout, stderr = _read(base / "stdout"), _read(base / "stderr")
    returncode = proc.returncode
    if mode in ("userns", "namespaces") and not timed_out:
        status = (base / "status").read_text() if (base / "status").exists() else ""
        if not status:
            if returncode == _SETUP_FAILED:
                raise SandboxUnavailableError(f"the {mode} sandbox could not be built: {stderr.strip()[-500:]}")
            raise SandboxUnavailableError(f"the {mode} sandbox ended abnormally (exit {returncode}): "
                                          f"{stderr.strip()[-500:]}")
        returncode = os.waitstatus_to_exitcode(int(status))
    if timed_out:
        return ExecutionResult("timeout", None, stdout, stderr, elapsed, mode)
    status = "passed" if returncode == 0 else "failed"
    return ExecutionResult(status, returncode, stdout, stderr, elapsed, mode)


_SOURCE_NAMES = {"python": "main.py", "cpp": "main.cpp", "javascript": "main.js"}
_CXX_FLAGS = ["-std=c++17", "-O1"]


@functools.lru_cache(maxsize=1)
def _cpp_pch_dir() -> str | None:
    """Include folder holding a precompiled ``bits/stdc++.h`` for :data:`_CXX_FLAGS`, built once and cached.

    Parsing ``bits/stdc++.h`` (which MultiPL-E's C++ prompts include) dominates compile time;
    GCC uses ``<dir>/bits/stdc++.h.gch`` when ``-I<dir>`` comes first and the header is the
    program's first include. The header is the system's own, so it is compiled outside the
    sandbox. None when g++ or the build is unavailable (compiles then just take longer).
    """
    gxx = shutil.which("g++")
    if gxx is None:
        return None
    try:
        version = subprocess.run([gxx, "--version"], capture_output=True, text=True, timeout=30, check=True).stdout
        key = hashlib.sha256(f"{version}{_CXX_FLAGS}".encode()).hexdigest()[:16]
        root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "mdlm_bench" / "pch" / key
        target = root / "bits" / "stdc++.h.gch"
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            header = root / f"stdcxx.{os.getpid()}.h"
            header.write_text("#include <bits/stdc++.h>\n")
            partial = target.with_suffix(f".{os.getpid()}.tmp")
            subprocess.run([gxx, *_CXX_FLAGS, "-x", "c++-header", str(header), "-o", str(partial)],
                           capture_output=True, timeout=300, check=True)
            partial.replace(target)
            header.unlink()
        return str(root)
    except (OSError, subprocess.SubprocessError):
        return None


def run_program(
    source: str,
    language: str = "python",
    *,
    stdin: str = "",
    limits: Limits | None = None,
    compile_timeout_s: float = 60.0,
    files: Mapping[str, str] | None = None,
) -> ExecutionResult:
    """Run one program in the sandbox and report how it ended.

    Args:
        source: The complete program (tests included).
        language: ``python``, ``cpp`` (compiled with ``g++ -std=c++17``) or ``javascript`` (``node``).
        stdin: Text fed to the program's standard input.
        limits: Resource limits; defaults to :class:`Limits`'s.
        compile_timeout_s: Wall-clock limit of the C++ compilation.
        files: Further files (name to text) placed beside the program, e.g. a module it imports.

    Returns:
        The run's :class:`ExecutionResult` (its ``mode`` names the sandbox); a program that
        does not compile gives ``compile_error``.

    Raises:
        CodeExecutionDisabledError: When the user has not opted in to code execution.
        SandboxUnavailableError: When no sandbox works here and ``MDLM_ALLOW_UNSANDBOXED=1`` is
            not set, or when ``MDLM_SANDBOX`` forces a mode that does not work.
        ValueError: For an unknown language or file name.
    """
    ensure_code_execution_allowed()
    if language not in _SOURCE_NAMES:
        raise ValueError(f"unknown language {language!r}; expected one of {sorted(_SOURCE_NAMES)}")
    mode = isolation_mode()
    if mode == "rlimits" and os.environ.get("MDLM_ALLOW_UNSANDBOXED") != "1":
        raise SandboxUnavailableError(UNSANDBOXED_MESSAGE)
    limits = limits or Limits()
    name = _SOURCE_NAMES[language]
    inputs = {key: text.encode() for key, text in (files or {}).items()}
    if any(os.path.basename(key) != key or key.startswith(".") for key in inputs):
        raise ValueError(f"file names must be plain names, got {sorted(inputs)}")
    inputs[name] = source.encode()
    if language == "python":
        # -E -s as -I, but the program's folder stays on sys.path so it can import the files beside it.
        argv = [sys.executable, "-E", "-s", "-B", name]
    elif language == "javascript":
        argv = [shutil.which("node") or "node", f"--max-old-space-size={max(64, limits.memory_mb // 2)}", name]
    else:
        compile_limits = dataclasses.replace(limits, timeout_s=compile_timeout_s,
                                             memory_mb=max(limits.memory_mb, 2048))
        pch = _cpp_pch_dir() if "bits/stdc++.h" in source else None
        include = ["-I", pch] if pch else []
        built, kept = _execute([shutil.which("g++") or "g++", *include, *_CXX_FLAGS, "-o", "main", name], inputs,
                               compile_limits, "", mode, keep=["main"], extra_ro=[pch] if pch else [])
        if not built.passed or "main" not in kept:
            return dataclasses.replace(built, status="compile_error")
        inputs, argv = {"main": kept["main"]}, ["./main"]
    return _execute(argv, inputs, limits, stdin, mode)[0]
