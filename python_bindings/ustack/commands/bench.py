"""``ustack bench``: the benchmark suite (bench/run.py of the source checkout)."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

NAME = "bench"
HELP = "run the benchmark suite (bench/run.py of the source checkout)"
DESCRIPTION = """\
Runs the benchmark suite of the ustack source checkout this package lives in
(python_bindings/../bench/run.py) and writes, into bench/results/<timestamp>/
or --out: results.json (the machine, the commit, every figure as a median with
min and max, Linux's figure next to ustack's and the ratio), results.md (a
table per benchmark) and PNG plots (with matplotlib: pip install 'ustack[plot]').
Speed is reported, never judged.

The C benchmark programs must be built first (cmake, target of
bench/CMakeLists.txt, into --build); `invoke bench` builds them and runs this.
Benchmarks that need network namespaces (tap, the Linux side of scale) need
root; without it they say why in the notes.

examples:
  ustack bench --list
  ustack bench --quick
  ustack bench --only loss,scale --runs 5 --out /tmp/bench"""


def bench_dir() -> Path:
    """bench/ of the checkout the package was loaded from."""
    return Path(__file__).resolve().parents[3] / "bench"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """bench's options (passed on to bench/run.py)."""
    parser.add_argument(
        "--quick", action="store_true", help="small sizes and 3 runs: all of it under 60 s"
    )
    parser.add_argument(
        "--only",
        default="",
        metavar="NAME[,NAME]",
        help="only these benchmarks (--list shows them); default all",
    )
    parser.add_argument(
        "--runs", type=int, default=0, help="runs per figure, medians reported (5; --quick 3)"
    )
    parser.add_argument(
        "--build",
        type=Path,
        default=None,
        help="CMake build dir with the benchmark programs (default <checkout>/build)",
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="results folder (bench/results/<timestamp>/)"
    )
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")


def run(args: argparse.Namespace) -> int:
    """Runs bench/run.py with the options; its exit status."""
    script = bench_dir() / "run.py"
    if not script.exists():
        print(
            f"ustack bench: {script} not found: the benchmarks live in the source checkout "
            "(git clone it and run from there; an installed wheel has no bench/)",
            file=sys.stderr,
        )
        return 2
    argv = [sys.executable, str(script)]
    if args.list:
        argv.append("--list")
    if args.quick:
        argv.append("--quick")
    if args.only:
        argv += ["--only", args.only]
    if args.runs:
        argv += ["--runs", str(args.runs)]
    if args.build is not None:
        argv += ["--build", str(args.build)]
    if args.out is not None:
        argv += ["--out", str(args.out)]
    return subprocess.run(argv, check=False).returncode
