"""Runs the benchmark suite: every bench/b_*.py module (see benchlib.py).

    python bench/run.py [--quick] [--only NAME[,NAME]] [--runs N] [--build DIR] [--out DIR]

Writes <out>/results.json (default bench/results/<timestamp>/).  The C programs must be
built (cmake target of bench/CMakeLists.txt in --build, default build/).
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "python_bindings"))

from benchlib import Context  # noqa: E402


def modules() -> list[str]:
    return sorted(p.stem for p in HERE.glob("b_*.py"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small sizes, 3 runs: under 60 s")
    ap.add_argument("--only", default="", help="comma-separated benchmark names (b_<name>.py)")
    ap.add_argument("--runs", type=int, default=0, help="runs per figure (default 5, quick 3)")
    ap.add_argument("--build", type=Path, default=ROOT / "build", help="CMake build dir")
    ap.add_argument("--out", type=Path, default=None, help="results folder")
    args = ap.parse_args(argv)
    out = args.out or HERE / "results" / time.strftime("%Y%m%dT%H%M%S")
    out.mkdir(parents=True, exist_ok=True)
    runs = args.runs or (3 if args.quick else 5)
    ctx = Context(quick=args.quick, runs=runs, build_dir=args.build, out_dir=out)
    wanted = {f"b_{n}" for n in args.only.split(",") if n}
    failed = []
    for name in modules():
        if wanted and name not in wanted:
            continue
        mod = importlib.import_module(name)
        ctx.bench = mod.NAME
        print(f"== {mod.NAME}: {mod.DESCRIPTION}", file=sys.stderr, flush=True)
        t0 = time.monotonic()
        try:
            mod.run(ctx)
        except Exception:
            failed.append(mod.NAME)
            ctx.note(f"failed:\n{traceback.format_exc()}")
            traceback.print_exc()
        print(f"   {time.monotonic() - t0:.1f} s", file=sys.stderr)
    (out / "results.json").write_text(
        json.dumps({"quick": args.quick, "results": ctx.records, "notes": ctx.notes}, indent=2)
        + "\n"
    )
    print(f"results: {out / 'results.json'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
