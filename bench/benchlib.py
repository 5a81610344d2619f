"""The contract every benchmark module in bench/ follows (see bench/run.py).

A benchmark is a module ``bench/b_<name>.py`` with ``NAME`` (short), ``DESCRIPTION``
(one line), ``GOAL`` (the issue's goal in words, or "") and ``run(ctx) -> None`` that
measures and calls ``ctx.record(...)`` once per figure.  Speed is never asserted: a
record carries ustack's figure, Linux's figure when there is one, and the ratio.

Each figure is the median of ``ctx.runs`` runs (5 by default, 3 with --quick, whose
sizes are small so that all of it stays under 60 s), with min and max, from
``ctx.stats(values)``.  C programs come from ``ctx.program(name)``: the targets of
bench/CMakeLists.txt, built into <build>/bench/.  Anything that touches a network
device runs in a namespace from ustack.netns with addresses from 198.18.0.0/15.

Plots: ``plt = ctx.pyplot()`` gives matplotlib.pyplot (Agg backend) or None when
matplotlib (the optional extra ``ustack[plot]``) is missing, in which case a note
says so once; ``ctx.save_plot(fig, "name.png")`` writes it next to results.json and
lists it in results.md.  The runner adds a bar chart of every record's ratio.
"""

from __future__ import annotations

import os
import statistics
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Context", "Stats", "stats"]

Stats = dict[str, Any]  # {"median", "min", "max", "runs", "values"}


def stats(values: Sequence[float]) -> Stats:
    """Median, min and max of a run's values (and the values)."""
    vals = [float(v) for v in values]
    if not vals:
        raise ValueError("no values")
    return {
        "median": statistics.median(vals),
        "min": min(vals),
        "max": max(vals),
        "runs": len(vals),
        "values": vals,
    }


@dataclass
class Context:
    """What run(ctx) gets: options, paths, and where results go."""

    quick: bool
    runs: int
    build_dir: Path
    out_dir: Path
    records: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    bench: str = ""
    # The benchmarks named by --only (empty: the whole suite), so that a
    # long one can run a shorter version inside the whole --quick suite.
    only: frozenset[str] = frozenset()
    plots: list[str] = field(default_factory=list)
    _plt: Any = None
    _no_plt: bool = False

    def stats(self, values: Sequence[float]) -> Stats:
        return stats(values)

    def program(self, name: str) -> Path:
        """A C benchmark program built from bench/CMakeLists.txt."""
        path = self.build_dir / "bench" / name
        if not path.exists():
            raise FileNotFoundError(f"{path} is not built (invoke bench builds it)")
        return path

    def run_program(self, argv: Sequence[str | Path], timeout: float = 600) -> str:
        """Runs a program, returns its stdout; raises with its stderr on failure."""
        proc = subprocess.run(
            [str(a) for a in argv], capture_output=True, text=True, timeout=timeout, check=False
        )
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(map(str, argv))}: exit {proc.returncode}\n{proc.stderr}")
        return proc.stdout

    def record(
        self,
        case: str,
        metric: str,
        unit: str,
        *,
        ustack: Stats | None,
        linux: Stats | None = None,
        higher_is_better: bool = True,
        goal: str = "",
        goal_ratio: float | None = None,
        params: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """One figure.  ratio = how many times better ustack is than Linux
        (ustack/linux when higher is better, linux/ustack otherwise);
        goal_ratio, when given, is the ratio the goal asks for."""
        ratio = None
        if ustack is not None and linux is not None and linux["median"] and ustack["median"]:
            u, k = ustack["median"], linux["median"]
            ratio = u / k if higher_is_better else k / u
        rec = {
            "bench": self.bench,
            "case": case,
            "metric": metric,
            "unit": unit,
            "higher_is_better": higher_is_better,
            "ustack": ustack,
            "linux": linux,
            "ratio": ratio,
            "goal": goal,
            "goal_met": (ratio >= goal_ratio) if (ratio is not None and goal_ratio) else None,
            "params": params or {},
        }
        self.records.append(rec)
        return rec

    def pyplot(self) -> Any:
        """matplotlib.pyplot with the Agg backend, or None (noted once) without it."""
        if self._plt is None and not self._no_plt:
            try:
                import matplotlib

                matplotlib.use("Agg")
                import matplotlib.pyplot as plt

                self._plt = plt
            except ImportError:
                self._no_plt = True
                self.notes.append(
                    "plots skipped: matplotlib is not installed (pip install 'ustack[plot]')"
                )
        return self._plt

    def save_plot(self, fig: Any, name: str) -> Path:
        """Writes fig as out_dir/name (PNG) and lists it; closes the figure."""
        path = self.out_dir / name
        fig.tight_layout()
        fig.savefig(path, dpi=100)
        self._plt.close(fig)
        self.plots.append(name)
        return path

    def note(self, text: str) -> None:
        """Something the reader must know (a skipped part and why)."""
        self.notes.append(f"{self.bench}: {text}")

    def skipped(self, why: str | None) -> bool:
        """True, noting "skipped: WHY" (what tests/python/test_bench*.py look
        for), when ``why`` says what this machine lacks for the bench; False
        when it is None or empty."""
        if not why:
            return False
        self.note(f"skipped: {why}")
        return True

    def note_load(self) -> None:
        """Notes the load average at the start when other work shares the
        CPUs (wall-clock figures suffer)."""
        load = os.getloadavg()[0]
        if load > 0.5:
            self.note(f"load average {load:.2f} at the start: other work shared the CPUs")
