"""Scaling across cores (issue 18 item 5; `invoke bench --only scale-cores`):
aggregate bulk throughput, request/response and connect/request/response/close
with 1 and 2 stacks, beside Linux with 1 and 2 flows, in the same run.

ustack: bench/c/cores_pairs.c, K = 1 or 2 independent pairs of stacks, each
pair joined by a pipe of its own and polled by one worker thread pinned to
CPU i, so that the pairs share nothing but the process.  Linux:
bench/c/cores_linux.c, K workers each a client and a server thread pinned to
CPU i, kernel TCP over loopback in a namespace the bench makes (and removes),
its MTU 1500 and TSO/GSO/GRO off as on ustack's pipe (checksums are not
computed on either), ip_local_port_range widened for the connection churn.  Runs alternate
ustack and Linux, K = 1 and K = 2.

Workloads (each a fixed window after a warm-up; the aggregate is the sum of
the workers' counts in that one window): bulk (one flow per worker, every
byte checked, MB/s), rr (1-byte ping-pong round trips/s on one connection
per worker), crr (connect + 1-byte request/response + close per second).

Each figure is also reported per CPU-second: every worker's rate divided by
the CPU time its threads had in the window (cpu_share), summed.  The two
cores are shared with whatever else runs (and the Linux side also spends
them on softirq work), so the raw 2-vs-1 scaling measures the machine as
much as the stack; the per-CPU-second scaling is what sharing costs.

Goal: 2 stacks >= 1.8x the aggregate of 1 on RR and CRR, and ustack's
scaling >= Linux's.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchlib import Context, Stats

from ustack.progress import Progress

NAME = "scale_cores"
DESCRIPTION = "bulk, RR and CRR with 1 and 2 stacks (one per core) vs Linux with 1 and 2 flows"
GOAL = "2 stacks >= 1.8x the aggregate of 1 on RR and CRR; scaling >= Linux's"

WORKS = ("bulk", "rr", "crr")
KS = (1, 2)
_UNIT = {"bulk": "MB/s", "rr": "1/s", "crr": "1/s"}
_WHAT = {
    "bulk": "throughput, bytes checked",
    "rr": "1-byte round trips/s",
    "crr": "connect/request/response/close per second",
}


def _once(ctx: Context, argv: Sequence[str | Path]) -> dict[str, Any]:
    out = ctx.run_program(argv, timeout=120).strip().splitlines()
    row = dict(json.loads(out[-1]))
    shares = [max(float(s), 1e-3) for s in row["cpu_share"]]
    # Each worker's rate on a whole CPU (its count per CPU-second), summed.
    row["per_cpu"] = sum(r / s for r, s in zip(row["per_thread"], shares, strict=True))
    if row["aggregate"] <= 0:
        raise RuntimeError(f"{argv[0]}: nothing counted: {row}")
    return row


def _linux_ns(ctx: Context) -> Any:
    """A namespace for cores_linux, or None (noted) when out of reach."""
    try:
        from ustack.netns import NetNs, unavailable_reason
    except ImportError as exc:
        ctx.note(f"no Linux figures: {exc}")
        return None
    reason = unavailable_reason()
    if reason is not None:
        ctx.note(f"no Linux figures: {reason}")
        return None
    ns = NetNs("bench-cores")
    try:
        # CRR closes client-first: 28k ports in TIME_WAIT last well under
        # a second at these rates (tcp_tw_reuse needs them 1 s old).
        ns.run("sysctl", "-q", "-w", "net.ipv4.ip_local_port_range=1024 65535")
        # Like ustack's pipe: MTU-sized segments, checksums not computed
        # (loopback never computes them), no segmentation offloads.
        ns.run("ip", "link", "set", "lo", "mtu", "1500")
        if shutil.which("ethtool"):
            ns.run("ethtool", "-K", "lo", "tso", "off", "gso", "off", "gro", "off")
        else:
            ctx.note("ethtool missing: Linux's loopback keeps its TSO/GSO (64 KB segments)")
    except Exception:
        ns.close()
        raise
    return ns


def _ratios(num: list[dict[str, Any]], den: list[dict[str, Any]], key: str) -> list[float]:
    """Run by run: num's key over den's (the runs were made back to back)."""
    return [a[key] / b[key] for a, b in zip(num, den, strict=True) if b[key]]


def _first(exc: BaseException) -> str:
    """What a failed run said, short."""
    text = str(exc).strip().splitlines()
    return " / ".join(text[-3:])[:400] if text else type(exc).__name__


def _drop(
    ctx: Context,
    side: str,
    exc: BaseException,
    plan: dict[str, list[str]],
    rows: dict[tuple[str, int], list[dict[str, Any]]],
) -> None:
    """A group side failed: noted, and left out from here on."""
    ctx.note(f"{_LABEL.get(side, side)} failed, its figures are left out: {_first(exc)}")
    for sides in plan.values():
        if side in sides:
            sides.remove(side)
    for key in [key for key in rows if key[0] == side]:
        del rows[key]


def _group_program(ctx: Context) -> Path | None:
    """cores_group, or None (noted) when this build has no groups."""
    try:
        return ctx.program("cores_group")
    except FileNotFoundError as exc:
        ctx.note(f"group figures skipped: {exc}")
        return None


def run(ctx: Context) -> None:
    ctx.note_load()
    if ctx.quick and NAME not in ctx.only:
        # Part of the whole --quick suite (CI's 60 s smoke test): one short run.
        runs, seconds, warm = 1, 0.2, 0.05
    elif ctx.quick:
        runs, seconds, warm = min(ctx.runs, 3), 0.5, 0.1
    else:
        runs, seconds, warm = ctx.runs, 2.0, 0.3
    ncpu = len(os.sched_getaffinity(0))
    if ncpu < 2:
        ctx.note(f"only {ncpu} CPU allowed: the 2 workers share it (no scaling to measure)")
    upath, lpath = ctx.program("cores_pairs"), ctx.program("cores_linux")
    gpath = _group_program(ctx)
    ns = _linux_ns(ctx)
    # Each side: how to run it (the program and its extra options).
    argv: dict[str, list[str]] = {"ustack": [str(upath)]}
    if ns is not None:
        argv["linux"] = ns.exec_argv(str(lpath))
    if gpath is not None:
        argv["group"] = [str(gpath), "--mode", "group"]
        if not ctx.quick:
            argv["group-stdkey"] = [str(gpath), "--mode", "group:default"]
    plan = {w: [s for s in argv if w in ("rr", "crr") or not s.startswith("group")] for w in WORKS}
    apps: tuple[str, ...] = ()
    if gpath is not None:
        apps = ("lock", "exec") if ctx.quick else ("lock", "exec", "lock-wait", "exec-wait")
    total = (sum(len(v) for v in plan.values()) * len(KS) + len(apps)) * runs
    bar = Progress("scale-cores", total, unit="runs", log=sys.stderr)
    try:
        for work in WORKS:
            rows: dict[tuple[str, int], list[dict[str, Any]]] = {
                (s, k): [] for s in plan[work] for k in KS
            }
            for i in range(runs):
                for k in KS:
                    common = ["--work", work, "--threads", str(k)]
                    common += ["--seconds", str(seconds), "--warm", str(warm)]
                    for side in list(plan[work]):
                        try:
                            row = _once(ctx, [*argv[side], *common])
                        except (RuntimeError, subprocess.TimeoutExpired) as exc:
                            if not side.startswith("group"):
                                raise
                            _drop(ctx, side, exc, plan, rows)
                            continue
                        rows[(side, k)].append(row)
                        bar.update(
                            bar.done + 1,
                            f"{work} K={k} {side} run {i + 1}/{runs}: "
                            f"{row['aggregate']:.4g} {row['unit']}",
                        )
            bar.message(_record(ctx, work, rows, plan[work], seconds), sys.stderr)
        if gpath is not None:
            app: dict[str, list[dict[str, Any]]] = {m: [] for m in apps}
            for i in range(runs):
                for mode in [m for m in apps if m in app]:
                    try:
                        row = _once(
                            ctx,
                            [str(gpath), "--mode", mode, "--work", "rr", "--threads", "2"]
                            + ["--seconds", str(seconds), "--warm", str(warm)],
                        )
                    except (RuntimeError, subprocess.TimeoutExpired) as exc:
                        ctx.note(f"application thread by {mode} failed: {_first(exc)}")
                        del app[mode]
                        continue
                    app[mode].append(row)
                    bar.update(
                        bar.done + 1,
                        f"application thread by {mode} run {i + 1}/{runs}: "
                        f"{row['ns_per_roundtrip']:.0f} ns per round trip",
                    )
            if app:
                bar.message(_record_app(ctx, app), sys.stderr)
        if ns is not None and (NAME in ctx.only or not ctx.quick):
            _serve_part(ctx, lpath, min(runs, 3), min(seconds, 1.0), warm, bar)
    finally:
        bar.finish()
        if ns is not None:
            ns.close()


_STEERED = re.compile(r"steering \((\d+) stacks\): (\d+) frames re-steered")
_SERVE_PORT = 7


def _serve_once(
    ctx: Context, lpath: Path, n: int, work: str, seconds: float, warm: float
) -> dict[str, Any]:
    """Kernel clients (cores_linux --connect, n threads) against
    `ustack serve --stacks n --echo` in the namespace serve makes."""
    client = (
        "sysctl -q -w net.ipv4.ip_local_port_range='1024 65535'; "
        f"{lpath} --connect 198.18.0.1:{_SERVE_PORT} --work {work} --threads {n} "
        f"--seconds {seconds} --warm {warm}"
    )
    argv = [sys.executable, "-m", "ustack", "serve", "--stacks", str(n)]
    argv += ["--echo", str(_SERVE_PORT), "--no-control", "--run", client]
    env = dict(
        os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent / "python_bindings")
    )
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=120, env=env, check=False)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith('{"stack"')]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(
            f"ustack serve --stacks {n}: exit {proc.returncode}\n{proc.stderr[-600:]}"
        )
    row = dict(json.loads(lines[-1]))
    m = _STEERED.search(proc.stdout)
    row["resteered"] = int(m.group(2)) if m else 0
    return row


def _serve_part(
    ctx: Context, lpath: Path, runs: int, seconds: float, warm: float, bar: Progress
) -> None:
    """Issue 18 item 5's second half: kernel clients against serve --stacks 1
    and 2 over a multi-queue TAP (the service's worker threads are Python)."""
    said = ["   ustack serve --stacks N, kernel clients:"]
    for work in ("rr", "crr"):
        rows: dict[int, list[dict[str, Any]]] = {k: [] for k in KS}
        try:
            for _ in range(runs):
                for k in KS:
                    rows[k].append(_serve_once(ctx, lpath, k, work, seconds, warm))
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            ctx.note(f"serve --stacks: {work} failed, left out: {_first(exc)}")
            continue
        params = {
            "server": f"ustack serve --stacks N --echo {_SERVE_PORT} (TAP with N queues, "
            "a Python worker thread per stack)",
            "clients": "cores_linux --connect, N kernel client threads pinned to CPUs 0..N-1",
            "seconds": seconds,
            "resteered_frames": {k: [r["resteered"] for r in rows[k]] for k in KS},
            "client_cpu_share": {k: [r["cpu_share"] for r in rows[k]] for k in KS},
        }
        for k in KS:
            ctx.record(
                f"{work}, serve --stacks {k}, {k} kernel client thread{'s' if k > 1 else ''}",
                f"aggregate {_WHAT[work]}",
                _UNIT[work],
                ustack=ctx.stats([r["aggregate"] for r in rows[k]]),
                params=params,
            )
        scale = ctx.stats(
            [b["aggregate"] / a["aggregate"] for a, b in zip(rows[1], rows[2], strict=True)]
        )
        ctx.record(
            f"{work}, serve, 2 vs 1 scaling",
            "aggregate of 2 / aggregate of 1",
            "x",
            ustack=scale,
            params=params,
        )
        said.append(f"{work} x{scale['median']:.2f};")
        bar.update(bar.done, f"serve {work} done")
    bar.message(" ".join(said), sys.stderr)


def _record_app(ctx: Context, app: dict[str, list[dict[str, Any]]]) -> str:
    """The application-thread API: ns per round trip and per empty call."""
    said = ["   application thread:"]
    what = {
        "lock": "stack lock",
        "exec": "ust_stack_exec",
        "lock-wait": "stack lock, ust_socket_wait",
        "exec-wait": "ust_stack_exec, ust_socket_wait",
    }
    setup = {
        False: "the client stack in a group of one, its thread busy polling on CPU 0; the "
        "application thread on CPU 1 sends and receives through the mode, polls the "
        "lone server stack itself (the echo) and waits on a flag the client socket's "
        "upcall raises",
        True: "client and server each a group of one threaded, busy-polling stack (CPUs 0 "
        "and 1), the echo in upcalls on the server's thread; the application thread on "
        "CPU 1: send, ust_socket_wait, receive",
    }
    for mode, rows in app.items():
        params = {
            "msg_bytes": 1,
            "setup": setup[mode.endswith("-wait")],
            "exec_calls": [r["exec_calls"] for r in rows],
            "stack_wakeups": [r["stack_wakeups"] for r in rows],
            "stack_threads_cpu_share": [r.get("stack_threads_cpu_share") for r in rows],
            "cpu_share": [r["cpu_share"] for r in rows],
        }
        rt = ctx.stats([r["ns_per_roundtrip"] for r in rows])
        call = ctx.stats([r["call_ns"] for r in rows])
        ctx.record(
            f"application thread, {what[mode]}",
            "1-byte round trip (send, wait, receive)",
            "ns",
            ustack=rt,
            higher_is_better=False,
            params=params,
        )
        ctx.record(
            f"application thread, {what[mode]}",
            "one empty call while the stack thread polls",
            "ns",
            ustack=call,
            higher_is_better=False,
            params=params,
        )
        said.append(f"{what[mode]} {rt['median']:.0f} ns/round trip, {call['median']:.0f} ns/call;")
    return " ".join(said)


_LABEL = {
    "linux": "Linux",
    "ustack": "pairs",
    "group": "group",
    "group-stdkey": "group, standard key",
}
_GROUP_KEYS = ("client_lport_tries", "client_steered_in", "server_steered_in", "ring_full")


def _record(
    ctx: Context,
    work: str,
    rows: dict[tuple[str, int], list[dict[str, Any]]],
    sides: list[str],
    seconds: float,
) -> str:
    """Records work's figures for every ustack side (pairs, groups) beside
    Linux's; returns a line saying the scaling (progress)."""

    def st(vals: list[float]) -> Stats | None:
        return ctx.stats(vals) if vals else None

    def col(side: str, k: int, key: str) -> list[float]:
        return [float(r[key]) for r in rows.get((side, k), [])]

    linux = "linux" in sides
    unit = _UNIT[work]
    common: dict[str, Any] = {
        "work": work,
        "seconds": seconds,
        "msg_bytes": 1 if work != "bulk" else None,
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "linux": "loopback (MTU 1500, TSO/GSO/GRO off) in a namespace, blocking "
        "sockets, the client and server threads of a flow on one CPU",
    }
    if linux:
        for k in KS:
            rs = rows[("linux", k)]
            common[f"linux_k{k}_cpu_share"] = [r["cpu_share"] for r in rs]
            common[f"linux_k{k}_per_thread"] = [r["per_thread"] for r in rs]
    said = [f"   {work} 2 vs 1:"]

    def scaling(side: str) -> str:
        raw = ctx.stats(_ratios(rows[(side, 2)], rows[(side, 1)], "aggregate"))
        cpu = ctx.stats(_ratios(rows[(side, 2)], rows[(side, 1)], "per_cpu"))
        return (
            f"{_LABEL.get(side, side)} x{raw['median']:.2f} (per CPU-second x{cpu['median']:.2f});"
        )

    if linux:
        said.append(scaling("linux"))
    for side in (s for s in sides if s != "linux"):
        label = _LABEL[side]
        params = dict(common, ustack=label)
        for k in KS:
            rs = rows[(side, k)]
            params[f"k{k}_cpu_share"] = [r["cpu_share"] for r in rs]
            params[f"k{k}_per_thread"] = [r["per_thread"] for r in rs]
            params[f"k{k}_cpus"] = rs[0]["cpus"] if rs else []
            for key in ("rexmit", "pipe_drops", *_GROUP_KEYS):
                if rs and key in rs[0]:
                    params[f"k{k}_{key}"] = [r[key] for r in rs]
        for k in KS:
            what = f"{k} stack{'s' if k > 1 else ''} / {k} Linux flow{'s' if k > 1 else ''}"
            for key, how in (("aggregate", ""), ("per_cpu", ", per CPU-second")):
                ctx.record(
                    f"{work}, {label}, {what}{how}",
                    f"aggregate {_WHAT[work]}",
                    unit,
                    ustack=st(col(side, k, key)),
                    linux=st(col("linux", k, key)) if linux else None,
                    params=params,
                )
        rr_goal = work in ("rr", "crr") and side in ("ustack", "group")
        for key, what in (("aggregate", "2 vs 1 scaling"), ("per_cpu", "2 vs 1 per CPU-second")):
            u = _ratios(rows[(side, 2)], rows[(side, 1)], key)
            k_ = _ratios(rows[("linux", 2)], rows[("linux", 1)], key) if linux else []
            goal_here = rr_goal and key == "aggregate"
            rec = ctx.record(
                f"{work}, {label}, {what}",
                "aggregate of 2 / aggregate of 1",
                "x",
                ustack=st(u),
                linux=st(k_) if k_ else None,
                goal=GOAL if goal_here else "",
                goal_ratio=1.0 if goal_here else None,
                params=params,
            )
            if goal_here:
                # Both halves of the goal: >= 1.8x, and at least Linux's scaling.
                umed = rec["ustack"]["median"]
                rec["goal_met"] = umed >= 1.8 and (rec["ratio"] is None or rec["ratio"] >= 1.0)
        said.append(scaling(side))
    return " ".join(said)
