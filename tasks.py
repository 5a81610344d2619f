"""Developer tasks for ustack (https://www.pyinvoke.org/).

    invoke --list              what there is
    invoke --help TASK         a task's options
    invoke build               CMake configure + build into build/
    invoke test                every tier: ctest, ASan+UBSan, build matrix, pytest, ...
    invoke matrix              gcc and clang x Debug/Release/RelWithDebInfo/MinSizeRel
    invoke demo --loss 10      python -m ustack demo
    invoke lint [--fix]        clang-format and ruff (and mypy when installed)
    invoke conformance         FreeBSD's TCP test suite (packetdrill) in virtual time
    invoke fuzz --seconds 60   the libFuzzer harnesses (clang) in build-fuzz/
    invoke cross --test        the C tests on aarch64, s390x and powerpc under qemu-user
    invoke footprint           Cortex-M3 code size per profile beside lwIP's (docs/footprint.md)
    invoke qemu                the firmware on mps2-an385 and lm3s6965evb under QEMU,
                               checked from the kernel (ping, HTTP, TCP/UDP echo, EXIT)

Configuration (invoke's own: an ``invoke.yaml`` next to this file, ``INVOKE_USTACK_*``
environment variables, or ``invoke -f FILE``), under the ``ustack`` key:

    require_all      a missing tool or suite fails the run instead of being skipped
                     (CI; default from USTACK_REQUIRE_ALL=1, which pytest reads too)
    conformance_dir  FreeBSD's tcp-testsuite (default ../shared/conformance/tcp-testsuite,
                     or USTACK_CONFORMANCE_DIR)
    werror           warnings are errors in every build the tasks make (default true)
    debug_checks     KASSERT-style invariants (UST_DEBUG) in the sanitizer, fuzz and
                     simulation builds (default true)
    jobs             parallel compile and ctest jobs (0: CPU count)

Every failure ends with what went wrong and the command that fixes it.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from invoke import Collection, Context, Exit, task

ROOT = Path(__file__).resolve().parent
PY = shlex.quote(sys.executable)
BUILD = ROOT / "build"
BUILD_ASAN = ROOT / "build-asan"
BUILD_TSAN = ROOT / "build-tsan"
BUILD_FUZZ = ROOT / "build-fuzz"
BUILD_MATRIX = ROOT / "build-matrix"
CROSS_SCRIPT = ROOT / "scripts" / "cross-build.sh"
FUZZ_TARGETS = ("fuzz_frame", "fuzz_frames")
SANITIZERS = "address,undefined"
C_DIRS = (
    "include",
    "netstack",
    "osal",
    "drivers",
    "tests",
    "examples",
    "bench/c",
)
PY_PATHS = (
    "python_bindings",
    "drivers",
    "tests/python",
    "examples/python",
    "bench",
    "tasks.py",
    "setup.py",
)
BUILD_TYPES = ("Debug", "Release", "RelWithDebInfo", "MinSizeRel")
COMPILERS = {"gcc": "gcc", "clang": "clang"}
# The main build (build/) is gcc RelWithDebInfo; the matrix builds the rest.
MAIN_CONFIG = ("gcc", "RelWithDebInfo")
# ctest labels the matrix leaves to the main build: long campaigns, valgrind,
# the install/packaging checks.  The matrix runs the unit tests, examples and
# fuzz-corpus replays, which is where a compiler or optimisation level shows.
MATRIX_EXCLUDE_LABELS = "sim|valgrind|packaging"
# The one build of the minimal profile the matrix adds (gcc): type, profile.
MATRIX_MINIMAL = ("Release", "minimal")
# `invoke cross --test`: CPUs whose C tests run under qemu-user, and what they need.
CROSS_TEST_CPUS = ("aarch64", "s390x", "powerpc")
CROSS_TEST_TOOLS = (
    "qemu-aarch64",
    "qemu-s390x",
    "qemu-ppc",
    "aarch64-linux-gnu-gcc",
    "s390x-linux-gnu-gcc",
    "powerpc-linux-gnu-gcc",
)
CROSS_TEST_INSTALL = (
    "apt-get install qemu-user gcc-aarch64-linux-gnu gcc-s390x-linux-gnu gcc-powerpc-linux-gnu "
    "libc6-dev-arm64-cross libc6-dev-s390x-cross libc6-dev-powerpc-cross"
)
# `invoke qemu`: the boards CI boots (ustack.board.BOARDS: two firmware
# images, the mps2 one on three machines), what it needs, and the time the
# whole run (builds, boots, checks) may take.
QEMU_BOARDS = ("mps2-an385", "mps2-an386", "mps2-an500", "lm3s6965evb")
QEMU_TOOLS = ("qemu-system-arm", "arm-none-eabi-gcc", "ip", "ping", "curl")
QEMU_INSTALL = (
    "apt-get install qemu-system-arm gcc-arm-none-eabi libnewlib-arm-none-eabi iproute2 "
    "iputils-ping curl"
)
QEMU_TIMEOUT_S = 170
# A slow-unit report whose input replays faster than this is machine load,
# not a slow input (libFuzzer reports any run over -report_slow_units).
FUZZ_SLOW_REPLAY_S = 1.0


# --- configuration ------------------------------------------------------------


def _default_config() -> dict[str, object]:
    """The ``ustack`` config defaults; the only place the environment is read."""
    suite = os.environ.get("USTACK_CONFORMANCE_DIR") or str(
        ROOT.parent / "shared" / "conformance" / "tcp-testsuite"
    )
    return {
        "require_all": os.environ.get("USTACK_REQUIRE_ALL") == "1",
        "conformance_dir": suite,
        "werror": True,
        "debug_checks": True,
        "jobs": 0,
    }


def _cfg(c: Context, key: str) -> object:
    return c.config.ustack[key]


def _require_all(c: Context) -> bool:
    return bool(_cfg(c, "require_all"))


def _jobs(c: Context, jobs: int = 0) -> int:
    configured = _cfg(c, "jobs")
    return jobs or (configured if isinstance(configured, int) else 0) or (os.cpu_count() or 2)


def _need(tool: str, install: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise Exit(f"{tool} not found; install it: {install}")
    return path


def _optional_tool(c: Context, tools: tuple[str, ...], what: str, install: str) -> bool:
    """True when every tool exists; otherwise skip with a printed reason, or fail
    when the configuration requires everything (CI)."""
    missing = [t for t in tools if not shutil.which(t)]
    if not missing:
        return True
    if _require_all(c):
        raise Exit(f"{what}: {', '.join(missing)} not installed ({install})")
    print(f"{what} skipped: {', '.join(missing)} not installed ({install})")
    return False


def _run(c: Context, cmd: str, what: str, fix: str, env: dict[str, str] | None = None) -> None:
    result = c.run(cmd, warn=True, pty=False, env=env or {}, echo=True)
    if result is None or not result.ok:
        raise Exit(f"{what} failed (`{cmd}`); {fix}")


def _cmake_build(
    c: Context,
    build_dir: Path,
    build_type: str,
    *,
    sanitize: str = "",
    tests: bool = True,
    debug_checks: bool = False,
    compiler: str = "",
    jobs: int = 0,
    extra: tuple[str, ...] = (),
) -> None:
    if build_type not in BUILD_TYPES:
        raise Exit(f"unknown build type {build_type!r}; use one of {', '.join(BUILD_TYPES)}")
    cmake = _need("cmake", "apt-get install cmake")
    configure = [
        cmake,
        "-S",
        str(ROOT),
        "-B",
        str(build_dir),
        f"-DCMAKE_BUILD_TYPE={build_type}",
        f"-DUSTACK_BUILD_TESTS={'ON' if tests else 'OFF'}",
        f"-DUSTACK_SANITIZE={sanitize}",
        f"-DUSTACK_WERROR={'ON' if _cfg(c, 'werror') else 'OFF'}",
        f"-DUSTACK_DEBUG={'ON' if debug_checks and _cfg(c, 'debug_checks') else 'OFF'}",
        *extra,
    ]
    if compiler:
        configure.append(f"-DCMAKE_C_COMPILER={_need(compiler, f'apt-get install {compiler}')}")
    _run(
        c,
        shlex.join(configure),
        "CMake configure",
        "read the CMake error above; a stale cache is fixed by `invoke clean` then `invoke build`",
    )
    _run(
        c,
        shlex.join([cmake, "--build", str(build_dir), "-j", str(_jobs(c, jobs))]),
        f"the C build in {build_dir.relative_to(ROOT)}/",
        "fix the compile error above, then rerun `invoke build`",
    )


def _ctest(
    c: Context,
    build_dir: Path,
    jobs: int = 0,
    env: dict[str, str] | None = None,
    exclude_labels: str = "",
    labels: str = "",
) -> bool:
    ctest = _need("ctest", "apt-get install cmake")
    cmd = [ctest, "--test-dir", str(build_dir), "--output-on-failure", "-j", str(_jobs(c, jobs))]
    if exclude_labels:
        cmd += ["-LE", exclude_labels]
    if labels:
        cmd += ["-L", labels]
    result = c.run(shlex.join(cmd), warn=True, pty=False, env=env or {}, echo=True)
    return result is not None and result.ok


def _tsan(c: Context, jobs: int) -> None:
    """The tests that run threads (ctest label 'threaded': groups of stacks,
    their hand-off rings, the threaded pipe, application threads) under
    ThreadSanitizer; only what threads can get wrong, so only those."""
    _cmake_build(c, BUILD_TSAN, "Debug", sanitize="thread", jobs=jobs)
    env = {"TSAN_OPTIONS": "halt_on_error=1:second_deadlock_stack=1"}
    if not _ctest(c, BUILD_TSAN, jobs, env, labels="threaded"):
        raise Exit("ctest -L threaded under ThreadSanitizer in build-tsan/ failed")


def _pytest_env(c: Context) -> dict[str, str]:
    path = str(ROOT / "python_bindings")
    old = os.environ.get("PYTHONPATH")
    env = {"PYTHONPATH": path if not old else f"{path}{os.pathsep}{old}"}
    env["USTACK_CONFORMANCE_DIR"] = str(_cfg(c, "conformance_dir"))
    if _require_all(c):
        env["USTACK_REQUIRE_ALL"] = "1"
    return env


class _Tiers:
    """Runs test tiers one after another, each even when an earlier one failed,
    timing each; the summary lists every tier's time and what failed."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, float, str]] = []
        self.failed: list[str] = []

    @contextmanager
    def tier(self, name: str, rerun: str) -> Iterator[None]:
        print(f"\n=== tier: {name} ===", flush=True)
        t0 = time.monotonic()
        outcome = "passed"
        try:
            yield
        except Exit as e:
            outcome = "FAILED"
            self.failed.append(f"{name}: {str(e.message or '').strip()} (rerun: {rerun})")
        finally:
            self.rows.append((name, time.monotonic() - t0, outcome))
            print(f"=== tier: {name}: {outcome} in {self.rows[-1][1]:.0f} s ===", flush=True)

    def summary(self) -> None:
        print("\ninvoke test: tier times")
        for name, secs, outcome in self.rows:
            print(f"  {name:<28} {secs:7.0f} s  {outcome}")
        print(f"  {'total':<28} {sum(r[1] for r in self.rows):7.0f} s", flush=True)
        if self.failed:
            raise Exit("test failures:\n  " + "\n  ".join(self.failed))


# --- build ----------------------------------------------------------------------


@task(
    help={
        "type": f"CMake build type: {', '.join(BUILD_TYPES)} (default RelWithDebInfo)",
        "sanitize": f"sanitizers, e.g. {SANITIZERS}; builds into build-asan/ instead of build/",
        "tests": "build the C unit tests too (default on; --no-tests to skip)",
        "python": "also build the Python extension ustack._ffi in place",
        "jobs": "parallel compile jobs (default: the ustack.jobs config, else CPU count)",
    }
)
def build(
    c: Context,
    type: str = "RelWithDebInfo",  # the option is --type
    sanitize: str = "",
    tests: bool = True,
    python: bool = False,
    jobs: int = 0,
) -> None:
    """Configure and build libustack and the C unit tests with CMake into build/."""
    build_dir = BUILD_ASAN if sanitize else BUILD
    _cmake_build(
        c, build_dir, type, sanitize=sanitize, tests=tests, debug_checks=bool(sanitize), jobs=jobs
    )
    if python:
        ext(c)


@task
def ext(c: Context) -> None:
    """Build (or refresh) the Python extension ustack._ffi in place.

    Tests and commands then run against the current C code (setup.py build_ext:
    CMake into build/py)."""
    _run(
        c,
        f"{PY} setup.py -q build_ext --inplace",
        "building the Python extension ustack._ffi",
        f"install the build requirements (`{PY} -m pip install -e '.[dev]'`) and rerun",
    )


def _matrix(c: Context, compilers: list[str], types: list[str], jobs: int) -> list[str]:
    """Builds and unit-tests each compiler x build type; returns failure lines."""
    failed: list[str] = []
    for cc in compilers:
        if cc not in COMPILERS:
            raise Exit(f"unknown compiler {cc!r}; use one of {', '.join(COMPILERS)}")
        if not _optional_tool(c, (COMPILERS[cc],), f"matrix {cc}", f"apt-get install {cc}"):
            continue
        configs = [(bt, "full") for bt in types if (cc, bt) != MAIN_CONFIG]
        # The minimal profile (USTACK_PROFILE, docs/footprint.md) once, with gcc:
        # its unit tests, those of compiled-out features DISABLED by CMake.
        if cc == "gcc" and MATRIX_MINIMAL[0] in types:
            configs.append(MATRIX_MINIMAL)
        for bt, profile in configs:
            suffix = "" if profile == "full" else f"-{profile}"
            bdir = BUILD_MATRIX / f"{cc}-{bt.lower()}{suffix}"
            t0 = time.monotonic()
            try:
                _cmake_build(
                    c,
                    bdir,
                    bt,
                    compiler=COMPILERS[cc],
                    jobs=jobs,
                    extra=("-DUSTACK_BUILD_BENCH=OFF", f"-DUSTACK_PROFILE={profile}"),
                )
                ok = _ctest(c, bdir, jobs, exclude_labels=MATRIX_EXCLUDE_LABELS)
            except Exit as e:
                ok = False
                print(e.message)
            outcome = "passed" if ok else "FAILED"
            what = f"{cc} {bt}{'' if profile == 'full' else ' ' + profile}"
            print(f"matrix {what}: {outcome} in {time.monotonic() - t0:.0f} s", flush=True)
            if not ok:
                failed.append(f"{what} (rerun: ctest --test-dir {bdir} --output-on-failure)")
    return failed


@task(
    help={
        "compilers": "comma-separated: gcc,clang (default both)",
        "types": f"comma-separated build types (default all: {','.join(BUILD_TYPES)})",
        "jobs": "parallel compile and ctest jobs (default: CPU count)",
    }
)
def matrix(
    c: Context, compilers: str = "gcc,clang", types: str = ",".join(BUILD_TYPES), jobs: int = 0
) -> None:
    """Build gcc and clang x every build type and run the unit tests in each.

    Warnings are errors; the trees go to build-matrix/.  The long campaigns,
    valgrind and packaging checks run once, in build/, under `invoke test`.

    gcc RelWithDebInfo is build/ itself and is skipped here.  gcc Release is built
    once more with USTACK_PROFILE=minimal (docs/footprint.md) into
    build-matrix/gcc-release-minimal/."""
    failed = _matrix(c, compilers.split(","), types.split(","), jobs)
    if failed:
        raise Exit("build matrix failures:\n  " + "\n  ".join(failed))
    print("invoke matrix: every configuration built and passed")


# --- test -----------------------------------------------------------------------


@task(
    help={
        "sanitize": f"also build build-asan/ with {SANITIZERS} and UST_DEBUG invariants and run "
        "ctest there (default on)",
        "tsan": "also build build-tsan/ with ThreadSanitizer and run the tests labelled "
        "'threaded' there (groups of stacks, threaded pipe, application threads; default on)",
        "c_tests": "run the C unit tests with ctest (default on; --no-c-tests to skip)",
        "python": "run the Python tests with pytest (default on; --no-python to skip)",
        "quick": "plain ctest and pytest -m 'not slow' only: no sanitizer build, matrix, "
        "cross builds, fuzzing or lint",
        "keyword": "only pytest tests matching this expression (pytest -k)",
        "pytest_args": "extra arguments for pytest, e.g. '-x -vv'",
        "jobs": "parallel build and ctest jobs (default: CPU count)",
        "lint": "also run `invoke lint` (clang-format, ruff, mypy; default on)",
        "conformance": "also run `invoke conformance` (FreeBSD's whole TCP suite: 99% of all "
        "IPv4 and of all IPv6 scripts must pass, 95% of the six in-scope groups; default on, "
        "skipped with a reason when the suite is missing unless require_all)",
        "seeds": "seeds of the TCP fault-simulation campaign (tests/sim) to run in build/ "
        "after ctest, e.g. 10000 (0: only the ctest's own, 500 in the plain build)",
        "matrix": "also run `invoke matrix`: gcc and clang x every build type, unit tests "
        "(default on)",
        "cross": "also cross-build the core for Cortex-M3 and the library for aarch64 "
        "(default on; skipped with a printed reason when the toolchains are missing, "
        "a failure under require_all as in CI)",
        "cross_tests": "also run the C tests on aarch64, s390x and powerpc under qemu-user "
        "(`invoke cross --test`; default on; skipped with a printed reason when qemu-user "
        "or a cross compiler is missing, a failure under require_all)",
        "qemu": "also run `invoke qemu`: build the firmware, boot mps2-an385 (an386, an500) "
        "and lm3s6965evb under qemu-system-arm and check them from the kernel (default on; "
        "root; skipped with a printed reason when QEMU, the arm-none-eabi toolchain or root "
        "is missing, a failure under require_all)",
        "fuzz": "also run each libFuzzer harness for --fuzz-seconds in build-fuzz/ (default on; "
        "skipped with a printed reason without clang, a failure under require_all)",
        "fuzz_seconds": "seconds per fuzz harness in the fuzz tier (default 60)",
    }
)
def test(
    c: Context,
    sanitize: bool = True,
    tsan: bool = True,
    c_tests: bool = True,
    python: bool = True,
    quick: bool = False,
    keyword: str = "",
    pytest_args: str = "",
    jobs: int = 0,
    matrix: bool = True,
    cross: bool = True,
    cross_tests: bool = True,
    qemu: bool = True,
    lint: bool = True,
    seeds: int = 0,
    conformance: bool = True,
    fuzz: bool = True,
    fuzz_seconds: int = 60,
) -> None:
    """Run every test tier and print each tier's time.

    ctest in build/, ctest under ASan+UBSan with invariants in build-asan/, the
    threaded tests under ThreadSanitizer in build-tsan/, the
    build matrix, the cross builds, the C tests on other CPUs under qemu-user,
    the firmware on emulated boards (qemu-system-arm), pytest, FreeBSD's
    conformance suite, the fuzzers and the lint checks.

    Each tier runs even if an earlier one failed; the task fails at the end
    listing what failed and how to rerun it.
    """
    tiers = _Tiers()
    if c_tests:
        with tiers.tier("ctest build/", f"ctest --test-dir {BUILD} --output-on-failure"):
            _cmake_build(c, BUILD, "RelWithDebInfo", jobs=jobs)
            if not _ctest(c, BUILD, jobs):
                raise Exit("ctest in build/ failed")
        if seeds > 0:
            sim = BUILD / "tests" / "sim" / "tcp_transfer_sim"
            cmd = f"{shlex.quote(str(sim))} --seeds {seeds}"
            with tiers.tier(f"sim {seeds} seeds", cmd):
                _run(
                    c,
                    cmd,
                    f"the {seeds}-seed TCP simulation",
                    "each failing seed printed its replay command",
                )
        if sanitize and not quick:
            with tiers.tier(
                "ctest ASan+UBSan+UST_DEBUG", f"ctest --test-dir {BUILD_ASAN} --output-on-failure"
            ):
                _cmake_build(
                    c, BUILD_ASAN, "Debug", sanitize=SANITIZERS, debug_checks=True, jobs=jobs
                )
                env = {
                    "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=1:strict_string_checks=1",
                    "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1",
                }
                if not _ctest(c, BUILD_ASAN, jobs, env):
                    raise Exit(f"ctest under {SANITIZERS} in build-asan/ failed")
        if tsan and not quick:
            rerun = f"ctest --test-dir {BUILD_TSAN} -L threaded --output-on-failure"
            with tiers.tier("ctest TSan (threaded)", rerun):
                _tsan(c, jobs)
        if matrix and not quick:
            with tiers.tier("build matrix", "invoke matrix"):
                failed = _matrix(c, list(COMPILERS), list(BUILD_TYPES), jobs)
                if failed:
                    raise Exit("; ".join(failed))
    if cross and not quick:
        script = CROSS_SCRIPT
        with tiers.tier("cross builds", f"bash {script.relative_to(ROOT)}"):
            install = (
                "apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi gcc-aarch64-linux-gnu"
            )
            if _optional_tool(
                c, ("arm-none-eabi-gcc", "aarch64-linux-gnu-gcc"), "cross builds", install
            ):
                _run(c, f"bash {shlex.quote(str(script))}", "cross builds", "see the error above")
    if cross_tests and not quick:
        script = CROSS_SCRIPT
        with tiers.tier("cross tests", f"bash {script.relative_to(ROOT)} --test all"):
            if _optional_tool(c, CROSS_TEST_TOOLS, "cross tests", CROSS_TEST_INSTALL):
                _run(
                    c,
                    f"bash {shlex.quote(str(script))} --test all",
                    "the C tests on other CPUs",
                    "see the failing CPU's ctest output above",
                )
    if qemu and not quick:
        with tiers.tier("qemu boards", "invoke qemu"):
            _qemu(c, list(QEMU_BOARDS), "", QEMU_TIMEOUT_S)
    if python:
        args = ["-m", "pytest"]
        if quick:
            args += ["-m", "not slow"]
        if keyword:
            args += ["-k", keyword]
        cmd = " ".join([PY, *(shlex.quote(a) for a in args), pytest_args]).strip()
        with tiers.tier("pytest", cmd):
            ext(c)
            _run(c, cmd, "pytest", "read the failures above", env=_pytest_env(c))
        if conformance:
            with tiers.tier("conformance", "invoke conformance"):
                _conformance(c)
    if fuzz and not quick:
        with tiers.tier("fuzz", "invoke fuzz"):
            if _optional_tool(c, ("clang",), "fuzz tier", "apt-get install clang"):
                _fuzz(c, list(FUZZ_TARGETS), fuzz_seconds, 1, jobs)
    if lint and not quick:
        with tiers.tier("lint", "invoke lint"):
            _lint(c)
    tiers.summary()
    print("invoke test: all requested tiers passed")


# --- demo, bench, conformance --------------------------------------------------------


@task(
    pre=[ext],
    help={
        "bytes": "TCP transfer size with K/M/G suffixes (default 100M)",
        "loss": "percent of frames lost, e.g. 10 (default: the demo's, 1)",
        "seed": "seed of the stacks and the fault injector (default 1)",
        "pcap": "pcap file to write (default: the demo's, in the temp directory)",
        "args": "more options for `python -m ustack demo`, verbatim: '--delay 5 --rate 100mbit'"
        " (--udp or --frames N for the older modes)",
    },
)
def demo(
    c: Context,
    bytes: str = "100M",  # the option is --bytes
    loss: float = -1.0,
    seed: int = 1,
    pcap: str = "",
    args: str = "",
) -> None:
    """Run `python -m ustack demo`: TCP over a faulty pipe between two stacks.

    A transfer with a progress bar, then throughput, retransmissions and the
    SHA-256 of both ends."""
    cmd = f"{PY} -m ustack demo --bytes {shlex.quote(bytes)} --seed {seed}"
    if loss >= 0:
        cmd += f" --loss {loss}"
    if pcap:
        cmd += f" --pcap {shlex.quote(pcap)}"
    if args:
        cmd += " " + args
    _run(
        c,
        cmd,
        "the demo",
        "see its error above; `python -m ustack demo --help` lists the options",
        env=_pytest_env(c),
    )


@task(
    pre=[build, ext],
    help={
        "quick": "small sizes and 3 runs: the whole suite in under 60 s (CI's smoke test)",
        "only": "comma-separated benchmarks, e.g. loss,scale, or rings (ustack over AF_XDP "
        "vs TAP vs Linux over veth; root) (`python bench/run.py --list`)",
        "runs": "runs per figure, medians reported (default 5, --quick 3)",
        "out": "results folder (default bench/results/<timestamp>/)",
        "tap": "only the TAP benchmark (the same as --only tap): ustack over TAP against "
        "the kernel over veth (root; namespaces)",
    },
)
def bench(
    c: Context,
    quick: bool = False,
    only: str = "",
    runs: int = 0,
    out: str = "",
    tap: bool = False,
) -> None:
    """Run the benchmark suite (bench/run.py) on build/, side by side with Linux.

    Writes results.json, results.md and PNG plots in bench/results/<timestamp>/.

    Speed is reported, never judged: every figure is a median with min and max,
    next to Linux's where there is one, with the ratio.
    """
    if tap:
        only = ",".join(x for x in (only, "tap") if x)
    cmd = [PY, str(ROOT / "bench" / "run.py"), "--build", str(BUILD)]
    if quick:
        cmd.append("--quick")
    if only:
        cmd += ["--only", only]
    if runs:
        cmd += ["--runs", str(runs)]
    if out:
        cmd += ["--out", out]
    _run(
        c,
        " ".join(cmd[:1] + [shlex.quote(a) for a in cmd[1:]]),
        "the benchmark suite",
        "see the failing module's traceback above (also in the notes of results.md)",
        env=_pytest_env(c),
    )


# The CI gate over the whole suite: percent of ALL scripts of each family (IPv4, IPv6) that
# must pass, skips counting as not passed (`ustack packetdrill --min-pass-all`).
CONFORMANCE_MIN_PASS_ALL = 99


def _conformance(
    c: Context,
    paths: list[str] | None = None,
    json_out: str = "build/conformance.json",
    min_pass: int = 95,
    force: str = "",
    min_pass_ipv6: int = 95,
    min_pass_all: int = CONFORMANCE_MIN_PASS_ALL,
    in_scope: bool = False,
) -> None:
    suite = Path(str(_cfg(c, "conformance_dir")))
    if paths is None:
        if not suite.is_dir():
            if _require_all(c):
                raise Exit(f"FreeBSD's TCP suite not found at {suite}")
            print(f"conformance skipped: FreeBSD's TCP suite not found at {suite}")
            return
    (ROOT / "build").mkdir(exist_ok=True)
    args = [PY, "-m", "ustack", "packetdrill", "--min-pass", str(min_pass), "--quiet"]
    if paths is None:
        # A --path run may hold no IPv6 script (0% of none): the IPv6 floor is the suite's.
        args += ["--min-pass-ipv6", str(min_pass_ipv6)]
        if in_scope:
            args += ["--in-scope"]  # the six groups alone: the old view
        elif min_pass_all > 0:
            args += ["--min-pass-all", str(min_pass_all)]
        paths = [str(suite)]
    if json_out:
        args += ["--json", shlex.quote(json_out)]
    for item in force.split(",") if force else []:
        args += ["--force", shlex.quote(item)]
    args += [shlex.quote(p) for p in paths]
    ext(c)
    _run(
        c,
        " ".join(args),
        "FreeBSD's TCP conformance suite",
        "read the FAIL lines above (expected and actual packet) and the JSON report",
        env=_pytest_env(c),
    )


@task(
    help={
        "path": "scripts or folders, comma-separated (default: the whole suite in the "
        "ustack.conformance_dir config, every group)",
        "json_out": "where to write the JSON report (default build/conformance.json; '' for none)",
        "min_pass": "fail unless this percent of the in-scope IPv4 scripts pass (default 95)",
        "min_pass_ipv6": "fail unless this percent of the in-scope IPv6 scripts pass (default 95; "
        "the whole-suite run only, not --path)",
        "min_pass_all": "fail unless this percent of ALL the suite's scripts pass in each family, "
        "IPv4 and IPv6, skips counting as not passed (default 99; the whole-suite run only; "
        "0: no floor)",
        "in_scope": "run only the six in-scope groups (the old view; no --min-pass-all)",
        "force": "KNOB=VALUE[,KNOB=VALUE]: hold knobs whatever the scripts write (the "
        "self-test's wrong configurations)",
    }
)
def conformance(
    c: Context,
    path: str = "",
    json_out: str = "build/conformance.json",
    min_pass: int = 95,
    force: str = "",
    min_pass_ipv6: int = 95,
    min_pass_all: int = CONFORMANCE_MIN_PASS_ALL,
    in_scope: bool = False,
) -> None:
    """Run FreeBSD's TCP test suite (packetdrill scripts, IPv4 and IPv6) in virtual time.

    Prints the report per group and family, the pass rate over all scripts per family, every
    failure's first mismatching line, writes JSON."""
    _conformance(
        c,
        path.split(",") if path else None,
        json_out,
        min_pass,
        force,
        min_pass_ipv6,
        min_pass_all,
        in_scope,
    )


# --- fuzz -----------------------------------------------------------------------


def _fuzz_build(c: Context, jobs: int) -> None:
    _need("clang", "apt-get install clang")
    extra = (
        "-DUSTACK_FUZZ=ON",
        "-DUSTACK_BUILD_EXAMPLES=OFF",
        "-DUSTACK_BUILD_BENCH=OFF",
        "-DUSTACK_BUILD_SHARED=OFF",
    )
    _cmake_build(
        c,
        BUILD_FUZZ,
        "RelWithDebInfo",
        tests=False,
        debug_checks=True,
        compiler="clang",
        jobs=jobs,
        extra=extra,
    )


def _replay_seconds(c: Context, harness: Path, unit: Path) -> tuple[bool, float]:
    """Runs one input through a harness: (ok, seconds)."""
    t0 = time.monotonic()
    r = c.run(
        f"{shlex.quote(str(harness))} -runs=1 {shlex.quote(str(unit))}",
        warn=True,
        hide=True,
        pty=False,
    )
    return (r is not None and r.ok, time.monotonic() - t0)


def _fuzz_artifacts(c: Context, harness: Path, found: list[Path]) -> list[str]:
    """Sorts libFuzzer's artifacts: crashes, leaks, timeouts and OOMs are failures;
    a slow-unit report is replayed first and is a failure only when the input is
    still slow (or crashes) on its own, since a loaded machine makes any input
    look slow now and then."""
    problems: list[str] = []
    for path in found:
        kind = path.name.split("-", 1)[0]
        if path.name.startswith("slow-unit-"):
            ok, secs = _replay_seconds(c, harness, path)
            if ok and secs < FUZZ_SLOW_REPLAY_S:
                print(
                    f"fuzz: slow-unit report {path.name} replays in {secs * 1000:.0f} ms: "
                    "machine load, not a slow input (kept in fuzz-slow/)"
                )
                keep = path.parent.parent.parent / "fuzz-slow"
                keep.mkdir(exist_ok=True)
                path.rename(keep / path.name)
                continue
            problems.append(
                f"slow input {path} ({'crashes' if not ok else f'{secs:.1f} s'} on replay)"
            )
        else:
            problems.append(f"{kind} input {path}")
    return problems


def _fuzz_one(c: Context, target: str, seconds: int, workers: int) -> str | None:
    """Runs one harness; prints its numbers; returns a failure message or None."""
    fuzz_dir = BUILD_FUZZ / "tests" / "fuzz"
    seeds = fuzz_dir / "corpus" / target
    work = BUILD_FUZZ / "fuzz-corpus" / target  # grows across runs: new inputs land here
    crashes = BUILD_FUZZ / "fuzz-crashes" / target
    work.mkdir(parents=True, exist_ok=True)
    crashes.mkdir(parents=True, exist_ok=True)
    before = set(crashes.iterdir())
    harness = fuzz_dir / target
    cmd = [
        str(harness),
        f"-max_total_time={seconds}",
        "-max_len=4096",
        "-timeout=10",  # an input that takes 10 s is a hang: the stack loops
        "-print_final_stats=1",
        f"-artifact_prefix={crashes}/",
    ]
    if workers > 1:
        cmd.append(f"-fork={workers}")
    cmd += [str(work), str(seeds)]
    log = BUILD_FUZZ / f"{target}.log"
    print(f"fuzz: {shlex.join(cmd)} (log: {log})", flush=True)
    result = c.run(f"{shlex.join(cmd)} > {shlex.quote(str(log))} 2>&1", warn=True, pty=False)
    text = log.read_text(errors="replace")
    execs = re.findall(r"^#(\d+):?\s", text, re.M)
    cov = re.findall(r"cov: (\d+) ft: (\d+)", text)
    rate = re.findall(r"exec/s:? (\d+)", text)  # -fork prints no colon
    problems = _fuzz_artifacts(c, harness, sorted(set(crashes.iterdir()) - before))
    print(
        f"fuzz {target}: {execs[-1] if execs else '?'} executions in {seconds} s, "
        f"{rate[-1] if rate else '?'} exec/s, "
        f"cov: {cov[-1][0] if cov else '?'} ft: {cov[-1][1] if cov else '?'}, "
        f"corpus {work}"
    )
    for p in problems:
        print(f"fuzz {target}: {p}")
    if problems or result is None or not result.ok:
        return (
            f"{target} failed (log {log}; {'; '.join(problems) or 'libFuzzer exited non-zero'}); "
            f"replay: {harness} INPUT, then add the input to tests/fuzz/regressions/{target}/"
        )
    return None


def _fuzz(c: Context, targets: list[str], seconds: int, workers: int, jobs: int) -> None:
    _fuzz_build(c, jobs)
    failures = [f for f in (_fuzz_one(c, t, seconds, workers) for t in targets) if f]
    if failures:
        raise Exit("; ".join(failures))


@task(
    help={
        "seconds": "how long each harness runs (default 60)",
        "target": f"one harness: {', '.join(FUZZ_TARGETS)} (default: all, one after another)",
        "jobs": "parallel fuzzing processes per harness (libFuzzer -fork; default 1)",
    }
)
def fuzz(c: Context, seconds: int = 60, target: str = "", jobs: int = 1) -> None:
    """Run the libFuzzer harnesses (clang, ASan, UBSan, invariants) in build-fuzz/.

    Runs each for --seconds on its seed corpus, printing executions,
    coverage and any crash, leak, timeout or OOM input (slow-unit reports are replayed
    and count only when the input is slow on its own)."""
    if target and target not in FUZZ_TARGETS:
        raise Exit(f"unknown fuzz target {target!r}; use one of {', '.join(FUZZ_TARGETS)}")
    _fuzz(c, [target] if target else list(FUZZ_TARGETS), seconds, jobs, 0)


# --- cross, lint, clean -------------------------------------------------------------


@task(
    help={
        "target": "target to build (see scripts/cross-build.sh --help); empty: all",
        "test": f"build the C tests for {', '.join(CROSS_TEST_CPUS)} (or --target) and run "
        "them under qemu-user, with build and test times",
    }
)
def cross(c: Context, target: str = "", test: bool = False) -> None:
    """Cross-compile for other CPUs (runs scripts/cross-build.sh).

    Without --test: the portable core for a Cortex-M3 and the library for aarch64.
    With --test: the C test suite on aarch64, s390x (64-bit big-endian) and powerpc
    (32-bit big-endian) under qemu-user."""
    script = CROSS_SCRIPT
    cmd = f"bash {shlex.quote(str(script))}" + (" --test" if test else "")
    cmd += f" {shlex.quote(target)}" if target else ""
    _run(c, cmd, "the cross build", f"see the error above; rerun with `{cmd}`")


def _qemu(c: Context, boards: list[str], check: str, timeout: int) -> None:
    if not _optional_tool(c, QEMU_TOOLS, "qemu boards", QEMU_INSTALL):
        return
    if os.geteuid() != 0:
        why = "qemu boards: booting a board makes a network namespace and a TAP device (root)"
        if _require_all(c):
            raise Exit(why)
        print(f"{why}: skipped")
        return
    ext(c)
    cmd = [PY, "-m", "ustack", "board", "check", "--timeout", f"{timeout:g}"]
    for b in boards:
        cmd += ["--board", shlex.quote(b)]
    for name in check.split(",") if check else []:
        cmd += ["--check", shlex.quote(name)]
    _run(
        c,
        " ".join(cmd),
        "the board checks",
        "read the FAILED lines above (each names the check and what differed); rerun one "
        "board with `python -m ustack board check --board NAME`",
        env=_pytest_env(c),
    )


@task(
    help={
        "board": f"'all' ({', '.join(QEMU_BOARDS)}) or one board of `ustack board list`, "
        "or several, comma-separated",
        "check": "only these checks, comma-separated: ping, hostile, http, tcp-echo, udp-echo, "
        "exit "
        "(default all)",
        "timeout": f"seconds the whole run may take, builds included (default "
        f"{QEMU_TIMEOUT_S}); the boards are taken down cleanly when it passes",
    }
)
def qemu(c: Context, board: str = "all", check: str = "", timeout: int = QEMU_TIMEOUT_S) -> None:
    """Build the firmware and boot each board under qemu-system-arm, checked from Linux.

    The boards: mps2-an385 (also its image on mps2-an386 and mps2-an500) and
    lm3s6965evb.  For each: build its firmware (build/board-<firmware>/), boot it in a
    network namespace on a TAP device, then from the kernel there: ping with
    payloads of 56 to 8000 bytes (fragmented), hostile HTTP and echo clients
    (garbage, oversized and pipelined requests, a connection flood with
    half-sent requests; HELLO after), curl /bytes/1000000 with the
    SHA-256 checked, 1 MiB TCP echo both ways byte-exact, UDP echo, and control
    EXIT 42, which must be QEMU's exit status.  Each check's time is printed.
    Root (namespaces)."""
    boards = list(QEMU_BOARDS) if board == "all" else board.split(",")
    _qemu(c, boards, check, timeout)


def _c_files() -> list[str]:
    files: list[str] = []
    for d in C_DIRS:
        base = ROOT / d
        if base.is_dir():
            files += sorted(str(p.relative_to(ROOT)) for p in base.rglob("*.[ch]"))
    return files


@task(
    help={
        "fix": "rewrite files instead of checking: clang-format -i, ruff check --fix, ruff format",
        "c_only": "only the C files (clang-format)",
        "python_only": "only the Python files (ruff, mypy)",
    }
)
def lint(c: Context, fix: bool = False, c_only: bool = False, python_only: bool = False) -> None:
    """Check formatting and lint: clang-format on C, ruff and mypy on Python."""
    _lint(c, fix, c_only, python_only)


def _lint_c(c: Context, fix: bool) -> list[str]:
    if not fix and not _optional_tool(
        c, ("clang-format",), "clang-format check", "apt-get install clang-format"
    ):
        return []
    clang_format = _need("clang-format", "apt-get install clang-format")
    files = _c_files()
    mode = "-i" if fix else "--dry-run --Werror"
    r = c.run(
        f"{clang_format} {mode} {' '.join(shlex.quote(f) for f in files)}",
        warn=True,
        pty=False,
        hide=True,
    )
    if r is not None and r.ok:
        print(f"clang-format: {len(files)} C files formatted")
        return []
    # (a failed Result is falsy: test for None)
    out = (r.stderr + r.stdout) if r is not None else ""
    bad = sorted({ln.split(":", 1)[0] for ln in out.splitlines() if ": error:" in ln})
    if not bad:  # clang-format failed without naming a file: show what it said
        print(out.strip()[-2000:] or "clang-format failed without a message")
    for name in bad:
        print(f"clang-format: {name} is not formatted")
    return [f"clang-format: {len(bad)} file(s) not formatted (fix: invoke lint --fix)"]


def _lint_python(c: Context, fix: bool) -> list[str]:
    failed: list[str] = []
    paths = " ".join(PY_PATHS)
    ruff = f"{PY} -m ruff"
    if fix:
        c.run(f"{ruff} check --fix {paths}", warn=True, pty=False, echo=True)
        c.run(f"{ruff} format {paths}", warn=True, pty=False, echo=True)
    r = c.run(f"{ruff} check {paths}", warn=True, pty=False, echo=True)
    if r is None or not r.ok:
        failed.append("ruff check (fix: invoke lint --fix, then edit what remains)")
    r = c.run(f"{ruff} format --check {paths}", warn=True, pty=False, echo=True)
    if r is None or not r.ok:
        failed.append("ruff format (fix: invoke lint --fix)")
    if shutil.which("mypy") or _has_module("mypy"):
        r = c.run(f"{PY} -m mypy", warn=True, pty=False, echo=True)
        if r is None or not r.ok:
            failed.append("mypy (fix the type errors above)")
    else:
        print("lint: mypy is not installed, type check skipped (pip install -e '.[dev]')")
    return failed


def _lint(c: Context, fix: bool = False, c_only: bool = False, python_only: bool = False) -> None:
    failed: list[str] = []
    with c.cd(str(ROOT)):
        if not python_only:
            failed += _lint_c(c, fix)
        if not c_only:
            failed += _lint_python(c, fix)
    if failed:
        raise Exit("lint failures:\n  " + "\n  ".join(failed))
    print("invoke lint: clean")


def _has_module(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


# --- footprint ----------------------------------------------------------------------

FOOTPRINT_PROFILES = ("minimal", "fulltcp", "full")
FOOTPRINT_REF = ROOT / "scripts" / "footprint" / "footprint_ref.c"
FOOTPRINT_DOC = ROOT / "docs" / "footprint.md"
FOOTPRINT_CFLAGS = ("-mcpu=cortex-m3", "-mthumb", "-Os", "-ffunction-sections", "-fdata-sections")
# lwIP 2.x for Cortex-M3 with Debian's arm-none-eabi-gcc 12.2, -Os, --gc-sections:
# IPv4, ARP, ICMP, UDP and TCP (issue 14's measurement).
LWIP_TEXT = 21684
FULLTCP_GOAL = 40 * 1024
_MAP_SECTION = re.compile(r"^(\.[\w.]+|COMMON)\b")
_MAP_INPUT = re.compile(r"^ (\S+)?\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$")


def _map_kind(out_section: str) -> str:
    """text, data or bss as arm-none-eabi-size counts an output section."""
    if out_section.startswith((".bss", ".noinit", "COMMON")):
        return "bss"
    if out_section.startswith((".data", ".init_array", ".fini_array", ".preinit_array")):
        return "data"
    return "text"


def _map_owner(path: str) -> str:
    """tcp_input.c for an object of libustack.a, libc_nano/libgcc/... else."""
    m = re.search(r"([^/]+)\.a\(([^)]+)\)$", path)
    if m is None:
        return "program" if path.endswith("footprint_ref.o") else "startup"
    lib, obj = m.group(1), m.group(2)
    if lib == "libustack":
        return obj.removesuffix(".obj")
    return lib.removeprefix("lib")


def _map_sizes(text: str) -> dict[str, dict[str, int]]:
    """Bytes per object after --gc-sections, from a GNU ld map file."""
    sizes: dict[str, dict[str, int]] = {}
    out, name_only = "", False
    _, _, body = text.partition("Linker script and memory map")
    for line in body.splitlines():
        if (m := _MAP_SECTION.match(line)) is not None:
            out, name_only = m.group(1), False
            continue
        m2 = _MAP_INPUT.match(line)
        if m2 is None or (m2.group(1) is None and not name_only):
            name_only = bool(re.fullmatch(r" \S+", line))
            continue
        name_only = False
        size = int(m2.group(3), 16)
        if size == 0 or not out or out.startswith((".debug", ".comment", ".ARM.attributes")):
            continue
        row = sizes.setdefault(_map_owner(m2.group(4).strip()), {"text": 0, "data": 0, "bss": 0})
        row[_map_kind(out)] += size
    return sizes


def _footprint_one(
    c: Context, profile: str, jobs: int, lto: bool = False
) -> tuple[dict[str, dict[str, int]], int]:
    """Builds the core for Cortex-M3 in one profile and links the reference program.

    Returns the sizes per object and the heap arena's bytes (in osal_baremetal.c's bss)."""
    gcc = _need("arm-none-eabi-gcc", "apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi")
    bdir = BUILD / f"footprint-{profile}{'-lto' if lto else ''}"
    cmake = _need("cmake", "apt-get install cmake")
    flags = (*FOOTPRINT_CFLAGS, "-flto") if lto else FOOTPRINT_CFLAGS
    configure = [
        cmake, "-S", str(ROOT), "-B", str(bdir),
        f"-DCMAKE_TOOLCHAIN_FILE={ROOT / 'cmake' / 'arm-none-eabi-cortex-m3.cmake'}",
        "-DCMAKE_BUILD_TYPE=MinSizeRel", "-DUSTACK_CORE_ONLY=ON", "-DUSTACK_OSAL=baremetal",
        f"-DUSTACK_PROFILE={profile}", f"-DUSTACK_WERROR={'ON' if _cfg(c, 'werror') else 'OFF'}",
        f"-DCMAKE_INTERPROCEDURAL_OPTIMIZATION={'ON' if lto else 'OFF'}",
    ]  # fmt: skip
    _run(c, shlex.join(configure), f"CMake configure ({profile})", "read the CMake error above")
    build = [cmake, "--build", str(bdir), "-j", str(_jobs(c, jobs))]
    _run(c, shlex.join(build), f"the Cortex-M3 build ({profile})", "fix the compile error above")
    obj, elf, mapf = (
        bdir / "footprint_ref.o",
        bdir / "footprint_ref.elf",
        bdir / "footprint_ref.map",
    )
    opts = f"-DUSTACK_USER_OPTS_H='\"{ROOT}/include/ustack/profiles/ustack_opts_{profile}.h\"'"
    compile_ = [gcc, *flags, "-std=c11", "-Wall", "-Wextra", "-Werror"]
    compile_ += ["-I", str(ROOT / "include"), "-c", str(FOOTPRINT_REF), "-o", str(obj)]
    cmd = shlex.join(compile_) + (" " + opts if profile != "full" else "")
    _run(c, cmd, "compiling the reference program", "fix the error above")
    link = [gcc, *flags, "-Wl,--gc-sections", "--specs=nano.specs"]
    link += ["--specs=nosys.specs", f"-Wl,-Map={mapf}", str(obj), str(bdir / "libustack.a")]
    _run(c, shlex.join([*link, "-o", str(elf)]), "linking the reference program", "see above")
    nm = _need("arm-none-eabi-nm", "apt-get install binutils-arm-none-eabi")
    syms = c.run(shlex.join([nm, "-S", str(elf)]), hide=True, warn=True)
    arena = 0
    for line in (syms.stdout if syms is not None else "").splitlines():
        f = line.split()
        if len(f) == 4 and f[3] == "bm_arena":
            arena = int(f[1], 16)
    return _map_sizes(mapf.read_text()), arena


def _footprint_table(
    results: dict[str, tuple[dict[str, dict[str, int]], int]], top: int
) -> tuple[list[str], dict[str, int]]:
    """Markdown rows (objects by text of the first profile) and each profile's text."""
    profiles = list(results)
    stack = {p: {k: v for k, v in r[0].items() if k.endswith(".c")} for p, r in results.items()}
    objs = sorted(
        {o for s in stack.values() for o in s},
        key=lambda o: -stack[profiles[-1]].get(o, {}).get("text", 0),
    )
    head = "| object | " + " | ".join(f"{p} text | data | bss" for p in profiles) + " |"
    rows = [head, "|---" * (1 + 3 * len(profiles)) + "|"]
    zero = {"text": 0, "data": 0, "bss": 0}

    def cells(row: dict[str, int]) -> str:
        return " | ".join(f"{row[k]:,}" for k in ("text", "data", "bss"))

    shown = objs if top <= 0 else objs[:top]
    for o in shown:
        rows.append(f"| {o} | " + " | ".join(cells(stack[p].get(o, zero)) for p in profiles) + " |")
    totals: dict[str, int] = {}
    tot_cells, lib_cells, all_cells = [], [], []
    for p in profiles:
        sizes, arena = results[p]
        t = {k: sum(r[k] for r in stack[p].values()) for k in zero}
        t["bss"] -= arena
        totals[p] = t["text"]
        tot_cells.append(" | ".join(f"**{t[k]:,}**" for k in zero))
        libs = {
            k: sum(r[k] for o, r in sizes.items() if not o.endswith(".c") and o != "program")
            for k in zero
        }
        lib_cells.append(cells(libs))
        every = {k: sum(r[k] for r in sizes.values()) for k in zero}
        every["bss"] -= arena
        all_cells.append(cells(every))
    if len(shown) < len(objs):
        rows.append(
            f"| ({len(objs) - len(shown)} more objects) | "
            + " | ".join(["", "", ""] * len(profiles))
            + " |"
        )
    rows.append("| **ustack total** (bss without the heap arena) | " + " | ".join(tot_cells) + " |")
    rows.append("| C library, libgcc, start-up | " + " | ".join(lib_cells) + " |")
    rows.append("| whole reference program | " + " | ".join(all_cells) + " |")
    rows.append(
        f"| lwIP 2.x (IPv4, ARP, ICMP, UDP, TCP) | {LWIP_TEXT:,} | | |"
        + " | | |" * (len(profiles) - 1)
    )
    return rows, totals


@task(
    help={
        "profiles": "comma-separated USTACK_PROFILE values "
        f"(default {','.join(FOOTPRINT_PROFILES)})",
        "docs": "write the table into docs/footprint.md between its footprint markers "
        "(default on; --no-docs only prints)",
        "top": "object rows in the table, largest first (default 0: every object)",
        "symbols": "also print the N largest symbols of each linked program "
        "(arm-none-eabi-nm --size-sort; default 0)",
        "lto": "build and link with -flto (CMake INTERPROCEDURAL_OPTIMIZATION) into "
        "build/footprint-<profile>-lto/ and print each whole program's size only "
        "(objects lose their identity under LTO; the docs table is not touched)",
        "jobs": "parallel compile jobs (default: the ustack.jobs config, else CPU count)",
    }
)
def footprint(
    c: Context,
    profiles: str = ",".join(FOOTPRINT_PROFILES),
    docs: bool = True,
    top: int = 0,
    symbols: int = 0,
    lto: bool = False,
    jobs: int = 0,
) -> None:
    """Measure the stack's Cortex-M3 code size per profile, beside lwIP's 21,684 B.

    For each profile: the portable core (USTACK_CORE_ONLY, baremetal OSAL, -Os) into
    build/footprint-<profile>/, then scripts/footprint/footprint_ref.c (a stack, an
    interface, a UDP and a TCP socket) linked against it with --gc-sections, so the
    bytes counted are what a real program keeps.  Prints text/data/bss per object from
    the linker map, the totals and the goals (minimal <= lwIP's text; fulltcp <= 40 KB),
    and writes the table into docs/footprint.md."""
    results: dict[str, tuple[dict[str, dict[str, int]], int]] = {}
    for p in [x for x in profiles.split(",") if x]:
        if p not in ("full", "minimal", "fulltcp"):
            raise Exit(f"unknown profile {p!r}; use minimal, fulltcp or full")
        results[p] = _footprint_one(c, p, jobs, lto)
        if symbols > 0:
            elf = BUILD / f"footprint-{p}" / "footprint_ref.elf"
            print(f"largest symbols ({p}):")
            c.run(
                f"arm-none-eabi-nm --size-sort -S -t d {shlex.quote(str(elf))} | tail -n {symbols}"
            )
    if lto:
        for p, (sizes, _arena) in results.items():
            whole = sum(r["text"] for r in sizes.values())
            print(f"{p} with -flto: whole reference program {whole:,} B text")
        return
    rows, totals = _footprint_table(results, top)
    goals = []
    if "minimal" in totals:
        t = totals["minimal"]
        goals.append(
            f"minimal: {t:,} B text against lwIP's {LWIP_TEXT:,} B: "
            f"{'met' if t <= LWIP_TEXT else f'NOT met (+{t - LWIP_TEXT:,} B)'}"
        )
    if "fulltcp" in totals:
        t = totals["fulltcp"]
        goals.append(
            f"fulltcp: {t:,} B text against the 40 KB ({FULLTCP_GOAL:,} B) goal: "
            f"{'met' if t <= FULLTCP_GOAL else f'NOT met (+{t - FULLTCP_GOAL:,} B)'}"
        )
    print("\n".join(rows))
    print("\n".join(goals))
    if docs:
        begin, end = "<!-- footprint:begin -->", "<!-- footprint:end -->"
        text = FOOTPRINT_DOC.read_text() if FOOTPRINT_DOC.exists() else f"{begin}\n{end}\n"
        if begin not in text or end not in text:
            raise Exit(
                f"{FOOTPRINT_DOC} lacks the {begin} / {end} markers: add them where the table goes"
            )
        cmd = f"invoke footprint --profiles {','.join(results)}"
        table = "\n".join(
            [begin, f"Measured by `{cmd}`.", "", *rows, "", *[f"- {g}" for g in goals], end]
        )
        head, _, rest = text.partition(begin)
        FOOTPRINT_DOC.write_text(head + table + rest.partition(end)[2])
        print(f"wrote the table into {FOOTPRINT_DOC.relative_to(ROOT)}")


@task(help={"python": "also remove the built extension and Python caches (default on)"})
def clean(c: Context, python: bool = True) -> None:
    """Remove the build trees and, by default, Python build products.

    build/, build-asan/, build-tsan/, build-fuzz/ and build-matrix/ go."""
    for d in (BUILD, BUILD_ASAN, BUILD_TSAN, BUILD_FUZZ, BUILD_MATRIX):
        if d.exists():
            print(f"rm -r {d}")
            shutil.rmtree(d)
    if python:
        pkg = ROOT / "python_bindings"
        doomed = list((pkg / "ustack").glob("_ffi*.so")) + list((pkg / "ustack").glob("_ffi*.c"))
        doomed += list(pkg.glob("*.egg-info"))
        doomed += [p for p in ROOT.rglob("__pycache__") if ".git" not in p.parts]
        doomed += [ROOT / n for n in (".pytest_cache", ".ruff_cache", ".mypy_cache")]
        for p in doomed:
            if p.is_dir():
                print(f"rm -r {p}")
                shutil.rmtree(p)
            elif p.exists():
                print(f"rm {p}")
                p.unlink()


ns = Collection(
    build, ext, test, matrix, demo, bench, conformance, fuzz, cross, footprint, qemu, lint, clean
)
ns.configure({"ustack": _default_config(), "run": {"pty": False}})
