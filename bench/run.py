"""Runs the benchmark suite: every bench/b_*.py module (see benchlib.py).

    python bench/run.py [--quick] [--only NAME[,NAME]] [--runs N] [--build DIR] [--out DIR]
    python bench/run.py --list

Writes into <out> (default bench/results/<timestamp>/):
  results.json  machine (CPU model, cores, kernel, memory), commit (and whether the
                tree was dirty), start time, options, every record, notes;
  results.md    a Markdown table per benchmark: case, metric, ustack median [min-max],
                Linux median [min-max], ratio, goal, goal met;
  *.png         plots (matplotlib, the optional extra ustack[plot]; without it the
                rest is written and a note says so): the ratio of every record with a
                Linux figure, and whatever plots the modules draw (ctx.plot).

Progress goes to stderr.  The C programs must be built (the targets of
bench/CMakeLists.txt in --build, default build/; `invoke bench` builds them).
Exit status 1 when a module failed (its traceback is in the notes).
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import json
import os
import platform
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "python_bindings"))

from benchlib import Context  # noqa: E402

from ustack.progress import Progress  # noqa: E402


def modules() -> list[str]:
    """The benchmark module names (b_<name>), sorted."""
    return sorted(p.stem for p in HERE.glob("b_*.py"))


def _cpuinfo() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memtotal() -> int:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return {
        "cpu": _cpuinfo(),
        "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpus_online": os.cpu_count(),
        "kernel": f"{platform.system()} {platform.release()}",
        "memory_bytes": _memtotal(),
        "python": platform.python_version(),
        "loadavg_at_start": [round(x, 2) for x in load],
    }


def commit() -> dict[str, Any]:
    """The checkout's commit and whether tracked files differ from it."""

    def git(*args: str) -> str:
        proc = subprocess.run(
            ["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=False
        )
        return proc.stdout.strip() if proc.returncode == 0 else ""

    sha = git("rev-parse", "HEAD")
    dirty = bool(git("status", "--porcelain", "--untracked-files=no")) if sha else None
    return {"sha": sha or None, "short": sha[:10] or None, "dirty": dirty}


def _fmt(x: float | None) -> str:
    if x is None:
        return "-"
    a = abs(x)
    if a >= 1e9:
        return f"{x / 1e9:.3g}G"
    if a >= 1e6:
        return f"{x / 1e6:.3g}M"
    if a >= 1e4:
        return f"{x / 1e3:.3g}k"
    if a >= 100 or a == int(a):
        return f"{x:.0f}"
    return f"{x:.3g}"


def _cell(s: dict[str, Any] | None) -> str:
    if s is None:
        return "-"
    return f"{_fmt(s['median'])} [{_fmt(s['min'])}-{_fmt(s['max'])}]"


def markdown(doc: dict[str, Any]) -> str:
    """results.md: the machine, then a table per benchmark, then the notes."""
    m, c = doc["machine"], doc["commit"]
    lines = [
        f"# ustack benchmarks, {doc['started']}",
        "",
        f"- machine: {m['cpu']}, {m['cores']} cores, {m['kernel']}, "
        f"{m['memory_bytes'] / 2**30:.1f} GiB, load {m['loadavg_at_start']} at start",
        f"- commit: {c['short']}{' (dirty)' if c['dirty'] else ''}",
        f"- {'--quick, ' if doc['quick'] else ''}{doc['runs']} runs per figure: "
        "median [min-max]; ratio > 1 means ustack is better",
        "",
    ]
    benches: dict[str, list[dict[str, Any]]] = {}
    for r in doc["results"]:
        benches.setdefault(r["bench"], []).append(r)
    for name, recs in benches.items():
        lines += [f"## {name}", ""]
        desc = doc["descriptions"].get(name)
        if desc:
            lines += [desc, ""]
        lines += [
            "| case | metric | ustack | Linux | ratio | goal | goal met |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in recs:
            ratio = f"{r['ratio']:.2f}" if r["ratio"] is not None else "-"
            met = {True: "yes", False: "no", None: "-"}[r["goal_met"]]
            metric = f"{r['metric']} ({r['unit']})" if r["unit"] else r["metric"]
            lines.append(
                f"| {r['case']} | {metric} | {_cell(r['ustack'])} | {_cell(r['linux'])} "
                f"| {ratio} | {r['goal'] or '-'} | {met} |"
            )
        lines.append("")
    if doc["notes"]:
        lines += ["## Notes", ""]
        for n in doc["notes"]:
            first, _, rest = n.partition("\n")
            lines.append(f"- {first}")
            if rest:
                lines += ["", "```", rest.rstrip(), "```"]
        lines.append("")
    if doc["plots"]:
        lines += ["## Plots", ""] + [f"![{p}]({p})" for p in doc["plots"]] + [""]
    return "\n".join(lines)


def ratio_plot(ctx: Context) -> None:
    """A bar per record with a Linux figure: ustack's ratio (log scale, 1 = parity)."""
    recs = [r for r in ctx.records if r["ratio"] is not None]
    if not recs:
        return
    plt = ctx.pyplot()
    if plt is None:
        return
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(recs) + 1.5))
    labels = [f"{r['bench']}: {r['case']} {r['metric']}" for r in recs]
    # Long labels leave no room for the bars: cut them.
    labels = [lab if len(lab) <= 80 else lab[:77] + "..." for lab in labels]
    vals = [r["ratio"] for r in recs]
    ax.barh(labels, vals, color=["tab:green" if v >= 1 else "tab:red" for v in vals])
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_xscale("log")
    ax.set_xlabel("ustack / Linux (higher is better for ustack)")
    ax.invert_yaxis()
    ctx.save_plot(fig, "ratios.png")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="bench/run.py", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    ap.add_argument(
        "--quick", action="store_true", help="small sizes, 3 runs: all of it under 60 s"
    )
    ap.add_argument(
        "--only",
        default="",
        help="comma-separated benchmark names (b_<name>.py, '-' for '_'); default all",
    )
    ap.add_argument("--runs", type=int, default=0, help="runs per figure (default 5, quick 3)")
    ap.add_argument(
        "--build", type=Path, default=ROOT / "build", help="CMake build dir (default build/)"
    )
    ap.add_argument(
        "--out", type=Path, default=None, help="results folder (bench/results/<timestamp>)"
    )
    ap.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args = ap.parse_args(argv)
    names = modules()
    if args.list:
        for name in names:
            mod = importlib.import_module(name)
            print(f"{mod.NAME:10} {mod.DESCRIPTION}")
        return 0
    # scale-cores names b_scale_cores.py: '-' and '_' are the same here.
    wanted = {n.strip().replace("-", "_") for n in args.only.split(",") if n.strip()}
    known = {n.removeprefix("b_") for n in names}
    if wanted - known:
        ap.error(f"unknown benchmark(s) {', '.join(sorted(wanted - known))}; --list shows them")
    started = datetime.datetime.now(datetime.UTC)
    out = args.out or HERE / "results" / started.strftime("%Y%m%dT%H%M%SZ")
    out.mkdir(parents=True, exist_ok=True)
    runs = args.runs or (3 if args.quick else 5)
    ctx = Context(
        quick=args.quick,
        runs=runs,
        build_dir=args.build.resolve(),
        out_dir=out,
        only=frozenset(wanted),
    )
    doc: dict[str, Any] = {
        "started": started.isoformat(timespec="seconds"),
        "quick": args.quick,
        "runs": runs,
        "machine": machine(),
        "commit": commit(),
        "descriptions": {},
        "timings_s": {},
    }
    failed = []
    t_all = time.monotonic()
    chosen = [n for n in names if not wanted or n.removeprefix("b_") in wanted]
    bar = Progress("bench", len(chosen), unit="benchmarks")
    for name in chosen:
        mod = importlib.import_module(name)
        ctx.bench = mod.NAME
        doc["descriptions"][mod.NAME] = mod.DESCRIPTION
        bar.message(f"== {mod.NAME}: {mod.DESCRIPTION}", sys.stderr)
        bar(bar.done, mod.NAME)
        t0 = time.monotonic()
        try:
            mod.run(ctx)
        except Exception:
            failed.append(mod.NAME)
            ctx.note(f"failed:\n{traceback.format_exc()}")
            traceback.print_exc()
        doc["timings_s"][mod.NAME] = round(time.monotonic() - t0, 2)
        bar.message(f"   {mod.NAME}: {doc['timings_s'][mod.NAME]:.1f} s", sys.stderr)
        bar(bar.done + 1)
    bar.clear()
    ctx.bench = "run"
    ratio_plot(ctx)
    doc["timings_s"]["total"] = round(time.monotonic() - t_all, 2)
    doc["machine"]["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    doc.update(results=ctx.records, notes=ctx.notes, plots=ctx.plots, failed=failed)
    (out / "results.json").write_text(json.dumps(doc, indent=2) + "\n")
    (out / "results.md").write_text(markdown(doc))
    print(f"results: {out / 'results.json'}, {out / 'results.md'}", file=sys.stderr)
    print(out)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
