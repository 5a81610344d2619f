"""Developer tasks for ustack (https://www.pyinvoke.org/).

    invoke --list              what there is
    invoke --help TASK         a task's options
    invoke build               CMake configure + build into build/
    invoke test                ctest, ctest under ASan+UBSan, and pytest
    invoke demo --loss 10      python -m ustack demo
    invoke lint [--fix]        clang-format and ruff (and mypy when installed)
    invoke conformance         FreeBSD's TCP test suite (packetdrill) in virtual time
    invoke fuzz --seconds 60   the libFuzzer harnesses (clang) in build-fuzz/

Every failure ends with what went wrong and the command that fixes it.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import sys
from pathlib import Path

from invoke import Context, Exit, task

ROOT = Path(__file__).resolve().parent
PY = shlex.quote(sys.executable)
BUILD = ROOT / "build"
BUILD_ASAN = ROOT / "build-asan"
BUILD_FUZZ = ROOT / "build-fuzz"
FUZZ_TARGETS = ("fuzz_frame", "fuzz_frames")
SANITIZERS = "address,undefined"
C_DIRS = (
    "include",
    "netstack",
    "osal",
    "drivers",
    "tests/unit",
    "tests/sim",
    "tests/fuzz",
    "examples",
    "bench/c",
)
PY_PATHS = ("python_bindings", "drivers", "tests/python", "bench", "tasks.py", "setup.py")
BUILD_TYPES = ("Debug", "Release", "RelWithDebInfo", "MinSizeRel")


def _jobs(jobs: int) -> int:
    return jobs if jobs > 0 else (os.cpu_count() or 2)


def _need(tool: str, install: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise Exit(f"{tool} not found; install it: {install}")
    return path


def _run(c: Context, cmd: str, what: str, fix: str, env: dict[str, str] | None = None) -> None:
    result = c.run(cmd, warn=True, pty=False, env=env or {}, echo=True)
    if result is None or not result.ok:
        raise Exit(f"{what} failed (`{cmd}`); {fix}")


def _cmake_build(
    c: Context,
    build_dir: Path,
    build_type: str,
    sanitize: str,
    tests: bool,
    jobs: int,
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
        *extra,
    ]
    _run(
        c,
        shlex.join(configure),
        "CMake configure",
        "read the CMake error above; a stale cache is fixed by `invoke clean` then `invoke build`",
    )
    _run(
        c,
        shlex.join([cmake, "--build", str(build_dir), "-j", str(_jobs(jobs))]),
        f"the C build in {build_dir.name}/",
        "fix the compile error above, then rerun `invoke build`",
    )


def _python_ext(c: Context) -> None:
    """Build (or refresh) ustack._ffi in place so that tests use the current C code."""
    _run(
        c,
        f"{PY} setup.py -q build_ext --inplace",
        "building the Python extension ustack._ffi",
        f"install the build requirements (`{PY} -m pip install -e '.[dev]'`) and rerun",
    )


def _pytest_env() -> dict[str, str]:
    path = str(ROOT / "python_bindings")
    old = os.environ.get("PYTHONPATH")
    return {"PYTHONPATH": path if not old else f"{path}{os.pathsep}{old}"}


@task(
    help={
        "type": f"CMake build type: {', '.join(BUILD_TYPES)} (default RelWithDebInfo)",
        "sanitize": f"sanitizers, e.g. {SANITIZERS}; builds into build-asan/ instead of build/",
        "tests": "build the C unit tests too (default on; --no-tests to skip)",
        "python": "also build the Python extension ustack._ffi in place",
        "jobs": "parallel compile jobs (default: CPU count)",
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
    """Configure and build libustack (and the C unit tests) with CMake into build/."""
    build_dir = BUILD_ASAN if sanitize else BUILD
    _cmake_build(c, build_dir, type, sanitize, tests, jobs)
    if python:
        _python_ext(c)


def _ctest(c: Context, build_dir: Path, jobs: int, env: dict[str, str] | None = None) -> bool:
    ctest = _need("ctest", "apt-get install cmake")
    cmd = shlex.join(
        [ctest, "--test-dir", str(build_dir), "--output-on-failure", "-j", str(_jobs(jobs))]
    )
    result = c.run(cmd, warn=True, pty=False, env=env or {}, echo=True)
    return result is not None and result.ok


@task(
    help={
        "sanitize": f"also build build-asan/ with {SANITIZERS} and run ctest there (default on)",
        "c_tests": "run the C unit tests with ctest (default on; --no-c-tests to skip)",
        "python": "run the Python tests with pytest (default on; --no-python to skip)",
        "quick": "plain ctest and pytest -m 'not slow' only: no sanitizer build",
        "keyword": "only pytest tests matching this expression (pytest -k)",
        "pytest_args": "extra arguments for pytest, e.g. '-x -vv'",
        "jobs": "parallel build and ctest jobs (default: CPU count)",
        "lint": "also run `invoke lint` (clang-format, ruff, mypy; default on)",
        "conformance": "also run `invoke conformance` (FreeBSD's TCP suite, must reach 95%; "
        "default on, skipped with a reason when the suite is missing unless USTACK_REQUIRE_ALL=1)",
        "seeds": "seeds of the TCP fault-simulation campaign (tests/sim) to run in build/ "
        "after ctest, e.g. 10000 (0: only the ctest's own, 500 in the plain build)",
        "cross": "also cross-build the core for Cortex-M3 and the library for aarch64 "
        "(default on; skipped with a printed reason when the toolchains are missing, "
        "a failure when USTACK_REQUIRE_ALL=1 as in CI)",
        "fuzz": "also run each libFuzzer harness for --fuzz-seconds in build-fuzz/ (default on; "
        "skipped with a printed reason without clang, a failure when USTACK_REQUIRE_ALL=1)",
        "fuzz_seconds": "seconds per fuzz harness in the fuzz tier (default 60)",
    }
)
def test(
    c: Context,
    sanitize: bool = True,
    c_tests: bool = True,
    python: bool = True,
    quick: bool = False,
    keyword: str = "",
    pytest_args: str = "",
    jobs: int = 0,
    cross: bool = True,
    lint: bool = True,
    seeds: int = 0,
    conformance: bool = True,
    fuzz: bool = True,
    fuzz_seconds: int = 60,
) -> None:
    """Run every test tier: ctest in build/, ctest under ASan+UBSan in build-asan/,
    the cross builds, pytest, FreeBSD's conformance suite and the lint checks.

    Each tier runs even if an earlier one failed; the task fails at the end
    listing what failed and how to rerun it.
    """
    failed: list[str] = []
    if c_tests:
        _cmake_build(c, BUILD, "RelWithDebInfo", "", True, jobs)
        if not _ctest(c, BUILD, jobs):
            failed.append(f"ctest in build/ (rerun: ctest --test-dir {BUILD} --output-on-failure)")
        if seeds > 0:
            sim = BUILD / "tests" / "sim" / "tcp_transfer_sim"
            cmd = f"{shlex.quote(str(sim))} --seeds {seeds}"
            result = c.run(cmd, warn=True, pty=False, echo=True)
            if result is None or not result.ok:
                failed.append(
                    f"the {seeds}-seed TCP simulation (each failing seed printed its replay "
                    f"command; rerun: {cmd})"
                )
        if sanitize and not quick:
            _cmake_build(c, BUILD_ASAN, "Debug", SANITIZERS, True, jobs)
            env = {
                "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=1:strict_string_checks=1",
                "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1",
            }
            if not _ctest(c, BUILD_ASAN, jobs, env):
                failed.append(
                    f"ctest under {SANITIZERS} in build-asan/ "
                    f"(rerun: ctest --test-dir {BUILD_ASAN} --output-on-failure)"
                )
    if cross and not quick:
        missing = [t for t in ("arm-none-eabi-gcc", "aarch64-linux-gnu-gcc") if not shutil.which(t)]
        script = ROOT / "scripts" / "cross-build.sh"
        if missing and os.environ.get("USTACK_REQUIRE_ALL") != "1":
            print(
                f"cross builds skipped: {', '.join(missing)} not installed "
                "(apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi gcc-aarch64-linux-gnu)"
            )
        else:
            result = c.run(f"bash {shlex.quote(str(script))}", warn=True, pty=False, echo=True)
            if result is None or not result.ok:
                failed.append(f"cross builds (rerun: bash {script.relative_to(ROOT)})")
    if python:
        _python_ext(c)
        args = ["-m", "pytest"]
        if quick:
            args += ["-m", "not slow"]
        if keyword:
            args += ["-k", keyword]
        cmd = " ".join([PY, *(shlex.quote(a) for a in args), pytest_args]).strip()
        result = c.run(cmd, warn=True, pty=False, env=_pytest_env(), echo=True)
        if result is None or not result.ok:
            failed.append(f"pytest (rerun: {cmd})")
    if conformance and python:
        try:
            _conformance(c)
        except Exit as e:
            failed.append(
                f"conformance ({str(e.message or '').strip()}; rerun: invoke conformance)"
            )
    if fuzz and not quick:
        if not shutil.which("clang") and os.environ.get("USTACK_REQUIRE_ALL") != "1":
            print("fuzz tier skipped: clang not installed (apt-get install clang)")
        else:
            try:
                _fuzz(c, list(FUZZ_TARGETS), fuzz_seconds, 1, jobs)
            except Exit as e:
                failed.append(f"fuzz ({str(e.message or '').strip()}; rerun: invoke fuzz)")
    if lint and not quick:
        try:
            _lint(c)
        except Exit as e:
            failed.append(f"lint ({str(e.message or '').strip()}; rerun: invoke lint)")
    if failed:
        raise Exit("test failures:\n  " + "\n  ".join(failed))
    print("invoke test: all requested tiers passed")


@task(
    help={
        "bytes": "TCP transfer size with K/M/G suffixes (default 100M)",
        "loss": "percent of frames lost, e.g. 10 (default: the demo's, 1)",
        "seed": "seed of the stacks and the fault injector (default 1)",
        "pcap": "pcap file to write (default: the demo's, in the temp directory)",
        "args": "more options for `python -m ustack demo`, verbatim: '--delay 5 --rate 100mbit'"
        " (--udp or --frames N for the older modes)",
    }
)
def demo(
    c: Context,
    bytes: str = "100M",  # the option is --bytes
    loss: float = -1.0,
    seed: int = 1,
    pcap: str = "",
    args: str = "",
) -> None:
    """Run `python -m ustack demo`: two stacks over a faulty pipe, a TCP transfer with a
    progress bar, then throughput, retransmissions and the SHA-256 of both ends."""
    _python_ext(c)
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
        env=_pytest_env(),
    )


@task(
    help={
        "quick": "small sizes and 3 runs: the whole suite in under 60 s (CI's smoke test)",
        "only": "comma-separated benchmarks, e.g. loss,scale (`python bench/run.py --list`)",
        "runs": "runs per figure, medians reported (default 5, --quick 3)",
        "out": "results folder (default bench/results/<timestamp>/)",
        "tap": "only the TAP benchmark (the same as --only tap): ustack over TAP against "
        "the kernel over veth (root; namespaces)",
        "jobs": "parallel compile jobs (default: CPU count)",
    }
)
def bench(
    c: Context,
    quick: bool = False,
    only: str = "",
    runs: int = 0,
    out: str = "",
    tap: bool = False,
    jobs: int = 0,
) -> None:
    """Build build/ (the config `invoke test` uses) and run the benchmark suite,
    bench/run.py: results.json, results.md and PNG plots in bench/results/<timestamp>/.

    Speed is reported, never judged: every figure is a median with min and max,
    next to Linux's where there is one, with the ratio.
    """
    _cmake_build(c, BUILD, "RelWithDebInfo", "", True, jobs)
    _python_ext(c)
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
        env=_pytest_env(),
    )


def _suite_dir() -> Path:
    env = os.environ.get("USTACK_CONFORMANCE_DIR")
    return Path(env) if env else ROOT.parent / "shared" / "conformance" / "tcp-testsuite"


def _conformance(
    c: Context,
    paths: list[str] | None = None,
    json_out: str = "build/conformance.json",
    min_pass: int = 95,
    force: str = "",
) -> None:
    suite = _suite_dir()
    if paths is None:
        if not suite.is_dir():
            if os.environ.get("USTACK_REQUIRE_ALL") == "1":
                raise Exit(f"FreeBSD's TCP suite not found at {suite}")
            print(f"conformance skipped: FreeBSD's TCP suite not found at {suite}")
            return
    (ROOT / "build").mkdir(exist_ok=True)
    args = [PY, "-m", "ustack", "packetdrill", "--min-pass", str(min_pass), "--quiet"]
    if paths is None:
        args += ["--in-scope"]
        paths = [str(suite)]
    if json_out:
        args += ["--json", shlex.quote(json_out)]
    for item in force.split(",") if force else []:
        args += ["--force", shlex.quote(item)]
    args += [shlex.quote(p) for p in paths]
    _python_ext(c)
    _run(
        c,
        " ".join(args),
        "FreeBSD's TCP conformance suite",
        "read the FAIL lines above (expected and actual packet) and the JSON report",
        env=_pytest_env(),
    )


@task(
    help={
        "path": "scripts or folders, comma-separated (default: the six in-scope groups of "
        "../shared/conformance/tcp-testsuite or $USTACK_CONFORMANCE_DIR)",
        "json_out": "where to write the JSON report (default build/conformance.json; '' for none)",
        "min_pass": "fail unless this percent of the in-scope IPv4 scripts pass (default 95)",
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
) -> None:
    """Run FreeBSD's TCP test suite (packetdrill scripts) against ustack in virtual time,
    print the report per group and every failure's first mismatching line, write JSON."""
    _conformance(c, path.split(",") if path else None, json_out, min_pass, force)


def _fuzz_build(c: Context, jobs: int) -> None:
    clang = _need("clang", "apt-get install clang")
    extra: tuple[str, ...] = (f"-DCMAKE_C_COMPILER={clang}", "-DUSTACK_FUZZ=ON")
    extra += (
        "-DUSTACK_BUILD_EXAMPLES=OFF",
        "-DUSTACK_BUILD_BENCH=OFF",
        "-DUSTACK_BUILD_SHARED=OFF",
    )
    _cmake_build(c, BUILD_FUZZ, "RelWithDebInfo", "", False, jobs, extra)


def _fuzz_one(c: Context, target: str, seconds: int, workers: int) -> str | None:
    """Runs one harness; prints its numbers; returns a failure message or None."""
    fuzz_dir = BUILD_FUZZ / "tests" / "fuzz"
    seeds = fuzz_dir / "corpus" / target
    work = BUILD_FUZZ / "fuzz-corpus" / target  # grows across runs: new inputs land here
    crashes = BUILD_FUZZ / "fuzz-crashes" / target
    work.mkdir(parents=True, exist_ok=True)
    crashes.mkdir(parents=True, exist_ok=True)
    before = set(crashes.iterdir())
    cmd = [
        str(fuzz_dir / target),
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
    found = sorted(str(p) for p in set(crashes.iterdir()) - before)
    print(
        f"fuzz {target}: {execs[-1] if execs else '?'} executions in {seconds} s, "
        f"{rate[-1] if rate else '?'} exec/s, "
        f"cov: {cov[-1][0] if cov else '?'} ft: {cov[-1][1] if cov else '?'}, "
        f"corpus {work}"
    )
    for path in found:
        print(f"fuzz {target}: CRASH INPUT {path}")
    if found or result is None or not result.ok:
        return (
            f"{target} failed (log {log}; crash inputs: {', '.join(found) or 'none'}); "
            f"replay: {fuzz_dir / target} INPUT, then add the input to "
            f"tests/fuzz/regressions/{target}/"
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
    """Build the libFuzzer harnesses (clang, ASan, UBSan) into build-fuzz/ and run each for
    --seconds on its seed corpus, printing executions, coverage and any crash input."""
    if target and target not in FUZZ_TARGETS:
        raise Exit(f"unknown fuzz target {target!r}; use one of {', '.join(FUZZ_TARGETS)}")
    _fuzz(c, [target] if target else list(FUZZ_TARGETS), seconds, jobs, 2)


@task(help={"target": "target to build (see scripts/cross-build.sh --help); empty: all"})
def cross(c: Context, target: str = "") -> None:
    """Cross-compile the portable core for other CPUs (runs scripts/cross-build.sh)."""
    script = ROOT / "scripts" / "cross-build.sh"
    if not script.exists():
        raise Exit(f"{script.relative_to(ROOT)} is missing; it comes with the cross-build work")
    cmd = f"bash {shlex.quote(str(script))}" + (f" {shlex.quote(target)}" if target else "")
    _run(c, cmd, "the cross build", f"see the error above; rerun with `{cmd}`")


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
    """Check formatting and lint: clang-format on the C tree, ruff (and mypy) on Python."""
    _lint(c, fix, c_only, python_only)


def _lint(c: Context, fix: bool = False, c_only: bool = False, python_only: bool = False) -> None:
    failed: list[str] = []
    with c.cd(str(ROOT)):
        if (
            not python_only
            and not fix
            and not shutil.which("clang-format")
            and (os.environ.get("USTACK_REQUIRE_ALL") != "1")
        ):
            print(
                "clang-format check skipped: clang-format is not installed "
                "(apt-get install clang-format)"
            )
        elif not python_only:
            clang_format = _need("clang-format", "apt-get install clang-format")
            files = " ".join(shlex.quote(f) for f in _c_files())
            if files:
                mode = "-i" if fix else "--dry-run --Werror"
                r = c.run(f"{clang_format} {mode} {files}", warn=True, pty=False, hide=True)
                if r is None or not r.ok:
                    text = r.stderr if r is not None else ""
                    bad = sorted(
                        {ln.split(":", 1)[0] for ln in text.splitlines() if ": error:" in ln}
                    )
                    for name in bad:
                        print(f"clang-format: {name} is not formatted")
                    failed.append(
                        f"clang-format: {len(bad)} file(s) not formatted (fix: invoke lint --fix)"
                    )
                else:
                    print(f"clang-format: {len(_c_files())} C files formatted")
        if not c_only:
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
    if failed:
        raise Exit("lint failures:\n  " + "\n  ".join(failed))
    print("invoke lint: clean")


def _has_module(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


@task(help={"python": "also remove the built extension and Python caches (default on)"})
def clean(c: Context, python: bool = True) -> None:
    """Remove build trees (build/, build-asan/) and, by default, Python build products."""
    for d in (BUILD, BUILD_ASAN):
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
