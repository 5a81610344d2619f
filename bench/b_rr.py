"""Request/response (issue 8 item 2): 64-byte ping-pong on one connection
(round trips per second, p50 and p99 latency) and connect + 64-byte
request/response + close per second, ustack against Linux.

ustack: bench/c/rr_ustack.c, two stacks joined by the in-memory pipe.  Linux:
bench/c/rr_linux.c, kernel sockets over loopback in a namespace of its own.
Two settings, compared like with like:

- same-core: ustack polls both stacks from one thread; Linux's client and
  server threads share one CPU with blocking sockets.  The goal is here.
- cross-core: one busy-polling thread per ustack stack on two CPUs; Linux's
  threads on the same two CPUs spinning on non-blocking sockets (--busy),
  so neither side pays for waking a halted core.

Cross-core figures swing with whatever else runs on the machine (both cores
are used); the notes say so when the load average is above 0.5.
"""

from __future__ import annotations

import json
import os
from typing import Any

from benchlib import Context, Stats

NAME = "rr"
DESCRIPTION = "64-byte request/response and connect/request/response/close, ustack vs Linux"
GOAL = "ustack >= 10x Linux on ping-pong and on connect/request/response/close, same core"

_SETTINGS = {"same-core": [], "cross-core": ["--busy"]}


def _run(ctx: Context, argv: list[str]) -> dict[str, Any]:
    out = ctx.run_program(argv, timeout=300).strip().splitlines()
    return dict(json.loads(out[-1]))


def _linux_argv(ctx: Context) -> tuple[list[str], Any]:
    """The prefix that runs rr_linux in a fresh namespace, and the namespace
    (None when namespaces are out of reach: then no Linux figures)."""
    try:
        from ustack.netns import NetNs, unavailable_reason
    except ImportError as exc:  # the bindings are not built
        ctx.note(f"no Linux figures: {exc}")
        return [], None
    reason = unavailable_reason()
    if reason is not None:
        ctx.note(f"no Linux figures: {reason}")
        return [], None
    ns = NetNs("bench-rr")
    return ns.exec_argv(), ns


def run(ctx: Context) -> None:
    counts = {"pingpong": 20000, "crr": 3000} if ctx.quick else {"pingpong": 100000, "crr": 10000}
    runs = min(ctx.runs, 3) if ctx.quick else ctx.runs
    load = os.getloadavg()[0]
    if load > 0.5:
        ctx.note(f"load average {load:.2f} when rr started: other work shared the CPUs")
    uprog, lprog = str(ctx.program("rr_ustack")), str(ctx.program("rr_linux"))
    prefix, ns = _linux_argv(ctx)
    try:
        for setting, linux_extra in _SETTINGS.items():
            for work, n in counts.items():
                u: list[dict[str, Any]] = []
                k: list[dict[str, Any]] = []
                for _ in range(runs):
                    # Alternate, so that a burst of load hits both sides.
                    u.append(_run(ctx, [uprog, f"--{work}", str(n), f"--{setting}"]))
                    if ns is not None:
                        k.append(
                            _run(
                                ctx,
                                [*prefix, lprog, f"--{work}", str(n), f"--{setting}", *linux_extra],
                            )
                        )
                _record(ctx, setting, work, n, u, k, linux_extra)
    finally:
        if ns is not None:
            ns.close()


def _record(
    ctx: Context,
    setting: str,
    work: str,
    n: int,
    u: list[dict[str, Any]],
    k: list[dict[str, Any]],
    linux_extra: list[str],
) -> None:
    def st(rows: list[dict[str, Any]], key: str) -> Stats | None:
        return ctx.stats([r[key] for r in rows]) if rows else None

    same = setting == "same-core"
    params = {
        "count": n,
        "message_bytes": 64,
        "cpus": u[0]["cpus"],
        "linux": "loopback in a namespace, "
        + ("non-blocking busy-polled sockets" if linux_extra else "blocking sockets"),
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }
    # (metric, unit, result key, higher is better) per workload
    figures = {
        "pingpong": [
            ("round trips/s", "1/s", "ops_per_s", True),
            ("p50 round trip", "us", "p50_us", False),
            ("p99 round trip", "us", "p99_us", False),
        ],
        "crr": [
            ("connections/s", "1/s", "ops_per_s", True),
            ("p50 connection", "us", "p50_us", False),
        ],
    }
    for metric, unit, key, higher in figures[work]:
        # The goal is a rate ratio on the same core; latencies just report.
        goal_here = same and higher
        ctx.record(
            f"{work} {setting}",
            metric,
            unit,
            ustack=st(u, key),
            linux=st(k, key),
            higher_is_better=higher,
            goal=GOAL if goal_here else "",
            goal_ratio=10 if goal_here else None,
            params=params,
        )
