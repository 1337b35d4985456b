"""The code sandbox contains hostile programs and scores honest ones.

The escape probes (``PROBES``) are the table in ``tests/README.md``: each runs in every
isolating mode, as root and as an unprivileged user (``nobody``, through a small driver
started with ``setpriv``). A mode that does not work here is skipped with its reason, unless
``MDLM_SANDBOX_REQUIRE`` (set by ``.ci/run``) names it: then the test fails.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import mdlm_tasks._sandbox as sandbox
from mdlm_tasks._sandbox import (
    CodeExecutionDisabledError,
    Limits,
    SandboxUnavailableError,
    isolation_mode,
    run_program,
)

FAST = Limits(timeout_s=1.5, memory_mb=512, max_processes=32)


@pytest.fixture(autouse=True)
def _allow_code(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    monkeypatch.setenv("HF_ALLOW_CODE_EVAL", "1")
    monkeypatch.delenv("MDLM_SANDBOX", raising=False)
    if isolation_mode() == "rlimits":  # the behaviour tests still run; the probes below skip visibly
        monkeypatch.setenv("MDLM_ALLOW_UNSANDBOXED", "1")
    # The sandbox's folders go under a folder of this test's own, so processes it leaves
    # behind can be told from those of other test runs on the machine.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path_factory.mktemp("mdlm-test-")))


def _sandbox_processes() -> int:
    """Processes of this test's sandbox runs: wrappers by command line, unisolated programs by directory."""
    marker = tempfile.gettempdir()
    count = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if marker.encode() in (entry / "cmdline").read_bytes() or os.readlink(entry / "cwd").startswith(marker):
                count += 1
    return count


def test_refuses_without_opt_in(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HF_ALLOW_CODE_EVAL")
    with pytest.raises(CodeExecutionDisabledError, match="HF_ALLOW_CODE_EVAL=1.*--confirm_run_unsafe_code"):
        run_program("print(1)")


def test_lm_eval_confirmation_opts_in(monkeypatch: pytest.MonkeyPatch) -> None:
    # lm-eval's evaluate() frame carries --confirm_run_unsafe_code; scoring code runs below it.
    monkeypatch.delenv("HF_ALLOW_CODE_EVAL")
    namespace = {"__name__": "lm_eval.evaluator", "run_program": run_program}
    exec(  # noqa: S102 - builds a frame named like lm-eval's evaluate
        "def evaluate(confirm_run_unsafe_code):\n    return run_program('print(6*7)')\n", namespace
    )
    assert namespace["evaluate"](True).stdout == "42\n"
    with pytest.raises(CodeExecutionDisabledError):
        namespace["evaluate"](False)


def test_correct_humaneval_solution_passes() -> None:
    program = textwrap.dedent(
        '''
        def add(a: int, b: int) -> int:
            """Return a + b."""
            return a + b


        def check(candidate):
            assert candidate(2, 3) == 5
            assert candidate(-1, 1) == 0


        check(add)
        '''
    )
    assert run_program(program, limits=FAST).passed


def test_wrong_humaneval_solution_fails() -> None:
    program = "def add(a, b):\n    return a * b\n\n\ndef check(candidate):\n    assert candidate(2, 3) == 5\n\n\n" \
              "check(add)\n"
    result = run_program(program, limits=FAST)
    assert result.status == "failed"
    assert "AssertionError" in result.stderr


def test_stdin_reaches_the_program() -> None:
    result = run_program("a, b = map(int, input().split())\nprint(a + b)\n", stdin="4 5\n", limits=FAST)
    assert (result.status, result.stdout) == ("passed", "9\n")


def test_infinite_loop_is_killed_at_the_timeout() -> None:
    start = time.monotonic()
    result = run_program("while True:\n    pass\n", limits=FAST)
    assert result.status == "timeout"
    assert result.returncode is None
    assert time.monotonic() - start < FAST.timeout_s + 3


def test_background_child_does_not_survive() -> None:
    program = "import os, time\nif os.fork() == 0:\n    time.sleep(60)\nprint('parent done')\n"
    before = _sandbox_processes()
    result = run_program(program, limits=FAST)
    assert result.stdout == "parent done\n"
    time.sleep(0.2)
    assert _sandbox_processes() <= before


def test_fork_bomb_is_contained() -> None:
    before = _sandbox_processes()
    start = time.monotonic()
    result = run_program("import os\nwhile True:\n    os.fork()\n", limits=FAST)
    assert not result.passed
    assert time.monotonic() - start < FAST.timeout_s + 5
    time.sleep(0.3)
    assert _sandbox_processes() <= before


def _forker(attempts: int, sleep_s: int) -> str:
    """A program forking up to ``attempts`` sleeping children; prints how many forks succeeded."""
    return textwrap.dedent(
        f"""
        import os, time
        started = 0
        for _ in range({attempts}):
            try:
                pid = os.fork()
            except OSError:
                break
            if pid == 0:
                time.sleep({sleep_s})
                os._exit(0)
            started += 1
        print(started)
        """
    )


def _skip_unless_required(modes: tuple[str, ...], why: str) -> None:
    """Skip for a sandbox mode that does not work here, unless ``MDLM_SANDBOX_REQUIRE`` names it (then fail)."""
    required = os.environ.get("MDLM_SANDBOX_REQUIRE", "").split(",")
    if any(mode in required for mode in modes):
        pytest.fail(f"required here (MDLM_SANDBOX_REQUIRE={','.join(required)}) but {why}")
    pytest.skip(why)


def test_process_count_is_capped() -> None:
    program = _forker(200, sleep_s=1)
    result = run_program(program, limits=Limits(timeout_s=5, memory_mb=512, max_processes=16))
    assert result.status == "passed", result.stderr
    assert int(result.stdout) < 16


def test_memory_hog_is_stopped() -> None:
    # Stopped by the address-space limit (MemoryError), well before the wall clock.
    hog = "blocks = []\nwhile True:\n    blocks.append(bytearray(8 * 1024 * 1024))\n"
    result = run_program(hog, limits=Limits(timeout_s=20, memory_mb=256))
    assert result.status == "failed"
    assert "MemoryError" in result.stderr
    assert result.elapsed_s < 20


def test_single_huge_allocation_fails() -> None:
    result = run_program("data = bytearray(8 * 1024 ** 3)\n", limits=FAST)
    assert (result.status, "MemoryError" in result.stderr) == ("failed", True)


def test_write_outside_its_directory_fails(tmp_path: Path) -> None:
    target = tmp_path / "escaped.txt"
    program = f"open('inside.txt', 'w').write('ok')\nopen({str(target)!r}, 'w').write('pwned')\n"
    result = run_program(program, limits=FAST)
    assert result.status == "failed"
    assert not target.exists()
    if isolation_mode() != "rlimits":  # the host's /tmp is out of sight
        assert "No such file or directory" in result.stderr


def test_working_directory_is_private_and_writable() -> None:
    program = "import os\nopen('out.txt', 'w').write('x')\n" \
              "print(os.path.basename(os.getcwd()), sorted(os.listdir('.')))\n"
    result = run_program(program, limits=FAST)
    assert result.stdout == "work ['main.py', 'out.txt']\n"


def test_network_is_unreachable() -> None:
    if isolation_mode() == "rlimits":
        _skip_unless_required(sandbox.MODES, "no sandbox works on this machine")
    program = "import socket\nsocket.create_connection(('1.1.1.1', 53), timeout=1)\n"
    result = run_program(program, limits=FAST)
    assert result.status == "failed"
    assert "unreachable" in result.stderr.lower()


CPP_ADD = "#include <cassert>\nint add(int a, int b) { return a %s b; }\n" \
          "int main() { assert(add(2, 3) == 5); return 0; }\n"


def test_cpp_passing_and_failing_programs() -> None:
    assert run_program(CPP_ADD % "+", "cpp", limits=FAST).passed
    failing = run_program(CPP_ADD % "*", "cpp", limits=FAST)
    assert failing.status == "failed"
    assert failing.returncode != 0


def test_cpp_compile_error_is_reported() -> None:
    assert run_program("int main() { return undefined_name; }\n", "cpp", limits=FAST).status == "compile_error"


def test_javascript_passing_and_failing_programs() -> None:
    program = "const assert = require('node:assert');\nfunction add(a, b) { return a %s b; }\n" \
              "assert.deepEqual(add(2, 3), 5);\n"
    js_limits = Limits(timeout_s=5, memory_mb=1024, max_processes=32)
    assert run_program(program % "+", "javascript", limits=js_limits).passed
    failing = run_program(program % "*", "javascript", limits=js_limits)
    assert failing.status == "failed"
    assert "AssertionError" in failing.stderr


def test_unknown_language_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown language"):
        run_program("print(1)", "cobol")


def test_environment_does_not_leak_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MDLM_SECRET_TOKEN", "s3cret")
    result = run_program("import os\nprint(os.environ.get('MDLM_SECRET_TOKEN'))\n", limits=FAST)
    assert result.stdout == "None\n"
    assert os.environ["MDLM_SECRET_TOKEN"] == "s3cret"


def test_rlimits_fallback_runs_scores_and_kills(monkeypatch: pytest.MonkeyPatch) -> None:
    # The unisolated path, when the user opts in: same results, limits by rlimits and session only.
    monkeypatch.setenv("MDLM_SANDBOX", "rlimits")
    monkeypatch.setenv("MDLM_ALLOW_UNSANDBOXED", "1")
    result = run_program("print(2 + 2)\n", limits=FAST)
    assert (result.stdout, result.mode) == ("4\n", "rlimits")
    assert run_program("raise SystemExit(3)\n", limits=FAST).returncode == 3
    before = _sandbox_processes()
    assert run_program("import os, time\nos.fork()\nwhile True:\n    pass\n", limits=FAST).status == "timeout"
    time.sleep(0.2)
    assert _sandbox_processes() <= before


def test_no_sandbox_refuses_unless_the_user_opts_in(monkeypatch: pytest.MonkeyPatch) -> None:
    # A machine where nothing isolates: no bubblewrap, no user namespaces, not root.
    monkeypatch.setattr(sandbox, "mode_problem", lambda mode: None if mode == "rlimits" else "unavailable")
    monkeypatch.delenv("MDLM_ALLOW_UNSANDBOXED", raising=False)
    assert isolation_mode() == "rlimits"
    with pytest.raises(SandboxUnavailableError, match="apt-get install bubblewrap.*MDLM_ALLOW_UNSANDBOXED=1"):
        run_program("print(1)\n", limits=FAST)
    monkeypatch.setenv("MDLM_ALLOW_UNSANDBOXED", "1")
    result = run_program("print(1)\n", limits=FAST)
    assert (result.status, result.mode) == ("passed", "rlimits")


def test_forced_mode_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MDLM_SANDBOX", "chroot")
    with pytest.raises(ValueError, match="expected one of"):
        isolation_mode()
    monkeypatch.setattr(sandbox, "mode_problem", lambda mode: "bwrap is not installed")
    monkeypatch.setenv("MDLM_SANDBOX", "bwrap")
    with pytest.raises(SandboxUnavailableError, match="MDLM_SANDBOX=bwrap.*not installed"):
        run_program("print(1)\n", limits=FAST)


def test_result_names_its_mode() -> None:
    assert run_program("print(1)\n", limits=FAST).mode == isolation_mode()


def test_extra_files_sit_beside_the_program() -> None:
    result = run_program("import helper\nprint(helper.VALUE)\n", files={"helper.py": "VALUE = 7\n"}, limits=FAST)
    assert result.stdout == "7\n"
    with pytest.raises(ValueError, match="plain names"):
        run_program("pass\n", files={"../x.py": ""}, limits=FAST)


# --- Escape probes: the table in tests/README.md -------------------------------------------------

PROBE_LIMITS = Limits(timeout_s=20, memory_mb=1024, max_processes=32, file_size_mb=16, disk_mb=32)
"""Limits of every probe run; the disk probe writes 96 MB against the 32 MB quota."""

UNPRIVILEGED = 65534  # nobody / nogroup
HOST_TMP = "/tmp"  # the host's shared temporary folder (not this test's private one)
ESCAPED = "ESCAPED"

_DRIVER = textwrap.dedent(
    """
    import dataclasses, importlib.util, json, os, sys
    spec = importlib.util.spec_from_file_location("sandbox_under_test", sys.argv[1])
    module = sys.modules[spec.name] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    request = json.loads(sys.stdin.read())
    if not hasattr(module, "MODES"):  # the sandbox before issue 15 had no mode switch
        module.isolation_mode = lambda: request["mode"]
    if request.get("problem"):
        print(json.dumps({"problem": module.mode_problem(request["mode"])}))
        raise SystemExit
    fields = {field.name for field in dataclasses.fields(module.Limits)}
    limits = module.Limits(**{key: value for key, value in request["limits"].items() if key in fields})
    result = module.run_program(request["program"], limits=limits)
    print(json.dumps(dataclasses.asdict(result)))
    """
)


@dataclasses.dataclass(frozen=True)
class Runner:
    """Runs programs through a given sandbox module, in one mode, as root or as ``nobody``."""

    module: Path
    """The ``_sandbox.py`` under test (another checkout's to measure the old one)."""
    mode: str
    """Sandbox mode forced with ``MDLM_SANDBOX``."""
    user: str
    """``root`` or ``nobody``."""

    def _call(self, request: dict) -> dict:
        python, prefix = sys.executable, []
        if self.user == "nobody":
            python, prefix = _unprivileged_python(), ["setpriv", f"--reuid={UNPRIVILEGED}",
                                                      f"--regid={UNPRIVILEGED}", "--clear-groups"]
        with tempfile.TemporaryDirectory(dir=HOST_TMP) as folder:
            driver = Path(folder) / "driver.py"
            driver.write_text(_DRIVER)
            # A copy of the module and its PID-1 helper: the checkout may sit where nobody cannot read (/root).
            module = Path(folder) / self.module.name
            for source in (self.module, self.module.with_name("_sandbox_init.py")):
                if source.exists():
                    shutil.copyfile(source, Path(folder) / source.name)
            for path in Path(folder).iterdir():
                path.chmod(0o644)
            Path(folder).chmod(0o755)
            env = {"PATH": os.environ["PATH"], "HF_ALLOW_CODE_EVAL": "1", "MDLM_SANDBOX": self.mode,
                   "MDLM_ALLOW_UNSANDBOXED": "1", "LANG": "C.UTF-8"}
            done = subprocess.run([*prefix, python, "-I", str(driver), str(module)], input=json.dumps(request),
                                  capture_output=True, text=True, env=env, cwd="/", timeout=120, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"driver failed ({self.mode}, {self.user}): {done.stderr[-2000:]}")
        return json.loads(done.stdout)

    def problem(self) -> str | None:
        """Why this mode does not work for this user here (None when it does)."""
        if self.user == "nobody" and not _unprivileged_python():
            return "no Python interpreter that user nobody can run (apt-get install python3)"
        if self.user == "root" and os.geteuid() != 0:
            return "the tests do not run as root"
        return self._call({"mode": self.mode, "problem": True})["problem"]

    def run(self, program: str, limits: Limits = PROBE_LIMITS) -> dict:
        """Run ``program``; return the ExecutionResult's fields."""
        return self._call({"mode": self.mode, "program": program, "limits": dataclasses.asdict(limits)})


def _unprivileged_python() -> str | None:
    for python in ("/usr/bin/python3", "/usr/local/bin/python3", sys.executable):
        done = subprocess.run(["setpriv", f"--reuid={UNPRIVILEGED}", f"--regid={UNPRIVILEGED}", "--clear-groups",
                               python, "-I", "-c", "pass"], capture_output=True, check=False)
        if done.returncode == 0:
            return python
    return None


def _processes_with(token: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if token.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
    return found


Judge = Callable[[dict], str | None]
"""Given the run's result, the escape it shows (None when contained)."""


def _printed_escape(result: dict) -> str | None:
    lines = [line for line in result["stdout"].splitlines() if line.startswith(ESCAPED)]
    return "; ".join(lines) or None


def probe_tcp_loopback(stack: contextlib.ExitStack, user: str) -> tuple[str, Judge]:
    server = stack.enter_context(socket.create_server(("127.0.0.1", 0)))
    port = server.getsockname()[1]
    program = f"""
import socket
try:
    socket.create_connection(("127.0.0.1", {port}), timeout=3)
    print("{ESCAPED}: connected to 127.0.0.1:{port}")
except OSError as error:
    print(error)
"""
    return program, _printed_escape


def _unix_listener(stack: contextlib.ExitStack, address: str | bytes) -> None:
    server = stack.enter_context(socket.socket(socket.AF_UNIX, socket.SOCK_STREAM))
    server.bind(address)
    if isinstance(address, str):
        os.chmod(address, 0o777)
        stack.callback(os.unlink, address)
    server.listen()


def probe_unix_socket_file(stack: contextlib.ExitStack, user: str) -> tuple[str, Judge]:
    folder = stack.enter_context(tempfile.TemporaryDirectory(dir=HOST_TMP))
    os.chmod(folder, 0o755)
    paths = [os.path.join(folder, "probe.sock")]
    if os.access("/run", os.W_OK):  # where daemons' sockets live (docker.sock, ...)
        paths.append(f"/run/mdlm-probe-{secrets.token_hex(6)}.sock")
    for path in paths:
        _unix_listener(stack, path)
    program = f"""
import socket
for path in {paths!r}:
    try:
        socket.socket(socket.AF_UNIX).connect(path)
        print("{ESCAPED}: connected to", path)
    except OSError as error:
        print(path, error)
"""
    return program, _printed_escape


def probe_unix_socket_abstract(stack: contextlib.ExitStack, user: str) -> tuple[str, Judge]:
    name = f"mdlm-probe-{secrets.token_hex(6)}"
    _unix_listener(stack, b"\0" + name.encode())
    program = f"""
import socket
try:
    socket.socket(socket.AF_UNIX).connect("\\0{name}")
    print("{ESCAPED}: connected to @{name}")
except OSError as error:
    print(error)
"""
    return program, _printed_escape


def probe_write_host_tmp(stack: contextlib.ExitStack, user: str) -> tuple[str, Judge]:
    name = f"mdlm-probe-{secrets.token_hex(6)}"
    paths = [f"{folder}/{name}" for folder in ("/tmp", "/var/tmp", "/dev/shm") if os.path.isdir(folder)]
    for path in paths:
        stack.callback(lambda path=path: Path(path).unlink(missing_ok=True))
    program = f"""
for path in {paths!r}:
    try:
        open(path, "w").write("x")
    except OSError as error:
        print(path, error)
"""
    return program, lambda result: ", ".join(path for path in paths if os.path.exists(path)) or None


def probe_write_installation(stack: contextlib.ExitStack, user: str) -> tuple[str, Judge]:
    name = f"mdlm-probe-{secrets.token_hex(6)}"
    paths = [os.path.join(folder, name) for folder in (sys.prefix, "/etc")]
    for path in paths:
        stack.callback(lambda path=path: Path(path).unlink(missing_ok=True))
    program = f"""
for path in {paths!r}:
    try:
        open(path, "w").write("x")
    except OSError as error:
        print(path, error)
"""
    return program, lambda result: ", ".join(path for path in paths if os.path.exists(path)) or None


def probe_read_host_file(stack: contextlib.ExitStack, user: str) -> tuple[str, Judge]:
    folder = stack.enter_context(tempfile.TemporaryDirectory(dir=HOST_TMP))
    os.chmod(folder, 0o755)
    secret = secrets.token_hex(8)
    path = Path(folder) / "secret.txt"
    path.write_text(secret)
    path.chmod(0o644)
    program = f"""
try:
    print("{ESCAPED}: read", open({str(path)!r}).read())
except OSError as error:
    print(error)
"""
    return program, _printed_escape


def probe_proc_write(stack: contextlib.ExitStack, user: str) -> tuple[str, Judge]:
    # Writes back the value it read: harmless where it succeeds.
    program = f"""
try:
    value = open("/proc/self/oom_score_adj").read()
    with open("/proc/self/oom_score_adj", "w") as handle:
        handle.write(value)
    print("{ESCAPED}: wrote /proc/self/oom_score_adj")
except OSError as error:
    print(error)
"""
    return program, _printed_escape


def probe_capabilities(stack: contextlib.ExitStack, user: str) -> tuple[str, Judge]:
    program = f"""
status = dict(line.split(":\t") for line in open("/proc/self/status").read().splitlines() if ":\t" in line)
if int(status["CapEff"], 16):
    print("{ESCAPED}: effective capabilities", status["CapEff"])
"""
    return program, _printed_escape


def probe_host_process(stack: contextlib.ExitStack, user: str) -> tuple[str, Judge]:
    token = f"mdlm-probe-{secrets.token_hex(6)}"
    ids = {"user": UNPRIVILEGED, "group": UNPRIVILEGED} if user == "nobody" else {}
    sleeper = subprocess.Popen(["/bin/sh", "-c", f"sleep 60; : {token}"], **ids)  # noqa: S603
    stack.callback(lambda: (sleeper.kill(), sleeper.wait()))
    program = f"""
import os, signal
for entry in os.listdir("/proc"):
    try:
        if entry.isdigit() and b"{token}" in open(f"/proc/{{entry}}/cmdline", "rb").read():
            os.kill(int(entry), signal.SIGKILL)
            print("{ESCAPED}: saw and killed host process", entry)
    except OSError:
        pass
"""
    return program, lambda result: _printed_escape(result) or (None if sleeper.poll() is None else "killed")


def probe_daemon_survives(stack: contextlib.ExitStack, user: str) -> tuple[str, Judge]:
    token = f"mdlm-probe-{secrets.token_hex(6)}"
    stack.callback(lambda: [os.kill(pid, signal.SIGKILL) for pid in _processes_with(token)])
    program = f"""
import os, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv("/bin/sh", ["/bin/sh", "-c", "touch started; sleep 60; : {token}"])
    os._exit(0)
os.wait()
while not os.path.exists("started"):
    time.sleep(0.01)
print("daemon started")
"""

    def judge(result: dict) -> str | None:
        assert "daemon started" in result["stdout"], result
        alive = _processes_with(token)
        return f"daemon still running: {alive}" if alive else None

    return program, judge


def probe_disk_quota(stack: contextlib.ExitStack, user: str) -> tuple[str, Judge]:
    # 8 MB files, alternately in the working directory and /tmp, until 96 MB are written.
    token = f"mdlm-probe-{secrets.token_hex(6)}"
    stack.callback(lambda: [path.unlink() for path in Path("/tmp").glob(f"{token}-*")])
    program = f"""
written = 0
for index in range(12):
    path = f"fill{{index}}" if index % 2 else f"/tmp/{token}-{{index}}"
    try:
        with open(path, "wb") as handle:
            for _ in range(8):
                handle.write(b"x" * 2**20)
                handle.flush()
                written += 1
    except OSError as error:
        print(path, error)
print("MB", written)
"""

    def judge(result: dict) -> str | None:
        written = int(result["stdout"].split("MB")[-1])
        quota = PROBE_LIMITS.disk_mb
        return f"wrote {written} MB against a {quota} MB quota" if written > quota else None

    return program, judge


PROBES: dict[str, Callable[[contextlib.ExitStack, str], tuple[str, Judge]]] = {
    "tcp_loopback": probe_tcp_loopback,
    "unix_socket_file": probe_unix_socket_file,
    "unix_socket_abstract": probe_unix_socket_abstract,
    "write_host_tmp": probe_write_host_tmp,
    "write_installation": probe_write_installation,
    "read_host_file": probe_read_host_file,
    "proc_write": probe_proc_write,
    "capabilities": probe_capabilities,
    "host_process": probe_host_process,
    "daemon_survives": probe_daemon_survives,
    "disk_quota": probe_disk_quota,
}
"""Escape probes by name; each sets up host resources and returns the program and its judge."""

RUNNERS = [("bwrap", "root"), ("bwrap", "nobody"), ("userns", "root"), ("userns", "nobody"), ("namespaces", "root")]
"""Isolating modes and the users they are exercised as."""

_SANDBOX_FILE = Path(sandbox.__file__)


def probe(name: str, runner: Runner) -> str | None:
    """Run one probe through ``runner``; the escape it found, or None when contained."""
    with contextlib.ExitStack() as stack:
        program, judge = PROBES[name](stack, runner.user)
        result = runner.run(program)
        assert result["status"] == "passed", result  # a probe that could not run proves nothing
        return judge(result)


@pytest.fixture(scope="module", params=RUNNERS, ids=[f"{mode}-{user}" for mode, user in RUNNERS])
def runner(request: pytest.FixtureRequest) -> Iterator[Runner]:
    mode, user = request.param
    runner = Runner(_SANDBOX_FILE, mode, user)
    problem = runner.problem()
    if problem:
        _skip_unless_required((mode, f"{mode}-{user}"), f"{mode} as {user} does not work on this machine: {problem}")
    yield runner


@pytest.mark.parametrize("name", list(PROBES))
def test_escape_probe_is_contained(name: str, runner: Runner) -> None:
    assert probe(name, runner) is None


def test_probes_detect_escapes_without_isolation() -> None:
    # The judges are not blind: unisolated (as root here), the escapes they look for happen.
    if os.geteuid() != 0:
        pytest.skip("the unisolated baseline is measured as root")
    baseline = Runner(_SANDBOX_FILE, "rlimits", "root")
    escaped = {name for name in PROBES if probe(name, baseline)}
    assert escaped == set(PROBES)


def test_process_cap_holds(runner: Runner) -> None:
    # RLIMIT_NPROC inside the user namespace for users, the cgroup's pids.max for root.
    program = _forker(100, sleep_s=2)
    result = runner.run(program, dataclasses.replace(PROBE_LIMITS, max_processes=16))
    assert result["status"] == "passed", result
    assert 0 < int(result["stdout"]) < 16
