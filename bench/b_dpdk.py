"""ustack over DPDK (issue 15 item 4): two ustack processes over net_memif,
side by side in one run with ustack over the in-memory pipe and Linux over
veth, and the raw memif frame rate as the ceiling.

bench/c/dpdk_memif runs one memif end per process (one EAL each, busy
polling, socket file in a temporary directory).  The pipe and Linux figures
come from the programs and helpers of b_bulk.py and b_rr.py, run again here
so that the three share the machine's load:

- bulk TCP, one flow, MTU 1500 (MTU-sized segments, checksum offload where
  the link has it): dpdk_memif --work bulk (server on CPU 1, client on CPU 0)
  against bulk_pipe (threads on CPUs 0 and 1) and iperf3 over veth with the
  offloads on and off;
- 64-byte ping-pong and connect/request/response/close, same-core (both
  processes on CPU 0, each yielding after an idle poll) and cross-core;
- the raw ceiling: a minimal forwarder (rx_burst, tx_burst back) and a
  generator keeping 512 frames in flight, 60-byte (64 with the FCS) and
  1514-byte frames, no stack at all.

Ratios: the "Linux" column holds the baseline that the case names (the pipe,
or Linux over veth).  Goal: memif/pipe >= 0.9 for throughput and rates
(the DPDK path costs at most 10% of the pipe's); the memif-vs-Linux ratios
are set beside the pipe-vs-Linux ones for the "beats Linux by the same
ratios" half.  Per-segment instructions: pkt_cost (b_cost.py's program and
method) over two DPDK net_ring ports in one process against the same over
the pipe, software checksums on both, under callgrind; goal: at most 1.1x.

Needs root (EAL's /var/run/dpdk) and the build with the DPDK driver; without
them the benchmark notes why and records nothing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import b_bulk
import b_cost
import b_rr
from benchlib import Context, Stats

from ustack import dpdklink
from ustack.netns import unavailable_reason

NAME = "dpdk"
DESCRIPTION = "ustack over DPDK net_memif (two processes) vs ustack over the pipe and Linux veth"
GOAL = "memif >= 0.9x the pipe (the DPDK path costs at most 10% of the pipe's)"
GOAL_RATIO = 0.9


class Memif:
    """Runs dpdk_memif pairs in one temporary directory."""

    def __init__(self, ctx: Context, tmp: Path) -> None:
        self.prog = str(ctx.program("dpdk_memif"))
        self.sock = str(tmp / "memif.sock")
        self.ctx = ctx
        self.n = 0

    def _argv(self, role: str, work: str, lcore: int, same: bool, extra: list[str]) -> list[str]:
        self.n += 1
        prefix = f"ustbench{os.getpid()}{role[0]}{self.n}"
        argv = [self.prog, "--role", role, "--sock", self.sock, "--work", work]
        argv += ["--prefix", prefix, "--lcore", str(lcore), *extra]
        return argv + (["--yield"] if same else [])

    def run(self, work: str, same: bool, extra: list[str]) -> dict[str, Any]:
        """One server and one client; the result line of the side that measures."""
        cpus = sorted(os.sched_getaffinity(0))
        srv_cpu = cpus[0] if same or len(cpus) < 2 else cpus[1]
        sargv = self._argv("server", work, srv_cpu, same, extra)
        cargv = self._argv("client", work, cpus[0], same, extra)
        server = subprocess.Popen(sargv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert server.stdout is not None and server.stderr is not None
            line = server.stdout.readline()
            if "ready" not in line:
                raise RuntimeError(f"dpdk_memif server: {line!r} {server.stderr.read()[-1500:]}")
            out = self.ctx.run_program(cargv, timeout=600).strip().splitlines()
            if work == "bulk":  # the receiver measures
                rest, err = server.communicate(timeout=60)
                if server.returncode != 0:
                    raise RuntimeError(f"dpdk_memif bulk server: exit {server.returncode}\n{err}")
                out = rest.strip().splitlines()
            return dict(json.loads(out[-1]))
        finally:
            if server.poll() is None:
                server.terminate()
                try:
                    server.wait(10)
                except subprocess.TimeoutExpired:
                    server.kill()
                    server.wait()
            for argv in (sargv, cargv):  # EAL leaves its runtime directory behind
                prefix = argv[argv.index("--prefix") + 1]
                dpdklink.remove_runtime(prefix)


def _why_not(ctx: Context) -> str | None:
    if os.geteuid() != 0:
        return "needs root (DPDK's EAL runtime directory /var/run/dpdk)"
    try:
        ctx.program("dpdk_memif")
    except FileNotFoundError as exc:
        return f"{exc}: the build has no DPDK driver (libdpdk-dev, USTACK_WITH_DPDK)"
    return None


def _trio(
    ctx: Context,
    case: str,
    metric: str,
    unit: str,
    memif: Stats,
    pipe: Stats,
    linux: dict[str, Stats | None],
    params: dict[str, Any],
    higher: bool = True,
) -> None:
    """memif vs pipe (the goal), then memif and pipe each vs every Linux figure."""
    ctx.record(
        f"{case}: memif vs pipe",
        metric,
        unit,
        ustack=memif,
        linux=pipe,
        higher_is_better=higher,
        goal=GOAL if higher else "",
        goal_ratio=GOAL_RATIO if higher else None,
        params=params,
    )
    for what, figure in linux.items():
        if figure is None:
            continue
        for name, mine in (("memif", memif), ("pipe", pipe)):
            ctx.record(
                f"{case}: {name} vs Linux {what}",
                metric,
                unit,
                ustack=mine,
                linux=figure,
                higher_is_better=higher,
                params=params,
            )


def _raw(ctx: Context, memif: Memif, runs: int) -> None:
    seconds = "0.5" if ctx.quick else "3"
    for size in (60, 1514):
        argv = ["--size", str(size), "--seconds", seconds]
        rows = [memif.run("fwd", False, argv) for _ in range(runs)]
        ctx.record(
            f"raw memif forwarder, {size + 4}-byte frames, cross-core",
            "frames forwarded per second",
            "1/s",
            ustack=ctx.stats([r["frames_per_s"] for r in rows]),
            params={"window": 512, "burst": 32, "gbit_per_s": [r["gbit_per_s"] for r in rows]},
        )


def _bulk(ctx: Context, memif: Memif, runs: int) -> None:
    nbytes = (64 << 20) if ctx.quick else (1 << 30)
    linux_ok = not ctx.quick and unavailable_reason() is None and shutil.which("iperf3") is not None
    vals: dict[str, list[float]] = {"memif": [], "pipe": [], "off": [], "on": []}
    for _ in range(runs):
        vals["memif"].append(memif.run("bulk", False, ["--bytes", str(nbytes)])["gbit_per_s"])
        vals["pipe"].append(b_bulk._ustack(ctx, 1500, nbytes, tso=False)["gbit_per_s"])
        if linux_ok:
            vals["off"].append(b_bulk._iperf3(1500, nbytes, offloads=False))
            vals["on"].append(b_bulk._iperf3(1500, nbytes, offloads=True))
    if not linux_ok and not ctx.quick:
        ctx.note("no Linux bulk figures: namespaces or iperf3 unavailable")
    _trio(
        ctx,
        "bulk mtu 1500",
        "throughput",
        "Gbit/s",
        ctx.stats(vals["memif"]),
        ctx.stats(vals["pipe"]),
        {
            "veth offloads off": ctx.stats(vals["off"]) if vals["off"] else None,
            "veth offloads on": ctx.stats(vals["on"]) if vals["on"] else None,
        },
        {"bytes": nbytes, "mtu": 1500, "cpus": "memif: server 1, client 0; pipe: 0 and 1"},
    )


def _rr(ctx: Context, memif: Memif, runs: int) -> None:
    counts = {"pingpong": 5000, "crr": 1000} if ctx.quick else {"pingpong": 100000, "crr": 10000}
    uprog, lprog = str(ctx.program("rr_ustack")), str(ctx.program("rr_linux"))
    prefix, ns = ([], None) if ctx.quick else b_rr._linux_argv(ctx)
    try:
        for setting, linux_extra in b_rr._SETTINGS.items():
            same = setting == "same-core"
            for work, n in counts.items():
                rows: dict[str, list[dict[str, Any]]] = {"memif": [], "pipe": [], "linux": []}
                for _ in range(runs):
                    rows["memif"].append(memif.run(work, same, ["--count", str(n)]))
                    rows["pipe"].append(
                        b_rr._run(ctx, [uprog, f"--{work}", str(n), f"--{setting}"])
                    )
                    if ns is not None:
                        argv = [*prefix, lprog, f"--{work}", str(n), f"--{setting}", *linux_extra]
                        rows["linux"].append(b_rr._run(ctx, argv))
                metric = "round trips/s" if work == "pingpong" else "connections/s"
                params = {
                    "count": n,
                    "message_bytes": 64,
                    "memif": "two processes, "
                    + ("one CPU, yielding when idle" if same else "two CPUs"),
                }
                for key, label, unit, higher in (
                    ("ops_per_s", metric, "1/s", True),
                    ("p50_us", "p50 latency", "us", False),
                ):
                    linux = ctx.stats([r[key] for r in rows["linux"]]) if rows["linux"] else None
                    _trio(
                        ctx,
                        f"{work} {setting}",
                        label,
                        unit,
                        ctx.stats([r[key] for r in rows["memif"]]),
                        ctx.stats([r[key] for r in rows["pipe"]]),
                        {"loopback": linux},
                        params,
                        higher,
                    )
    finally:
        if ns is not None:
            ns.close()


def run(ctx: Context) -> None:
    if ctx.skipped(_why_not(ctx)):
        return
    runs = 1 if ctx.quick else ctx.runs
    if ctx.quick:
        ctx.note(
            "--quick: one run, small sizes, no Linux figures (b_bulk and b_rr have them) "
            "and no callgrind counts (b_cost has the pipe's)"
        )
    ctx.note_load()
    with tempfile.TemporaryDirectory(prefix="ustack-memif-") as d:
        memif = Memif(ctx, Path(d))
        _raw(ctx, memif, runs)
        _bulk(ctx, memif, runs)
        _rr(ctx, memif, runs)
        if not ctx.quick:
            _cost(ctx, Path(d))


def _cost(ctx: Context, tmp: Path) -> None:
    """Instructions per 1460-byte segment, pkt_cost over two net_ring ports
    against the same over the pipe (b_cost.py's method: two runs, K and 2K
    segments, the difference over the difference)."""
    if shutil.which("valgrind") is None:
        ctx.note("no per-segment instructions: valgrind is not installed")
        return
    prog = ctx.program("pkt_cost")
    k = 200 if ctx.quick else 1000
    for side in ("rx", "tx"):
        per: dict[str, float] = {}
        for link, extra in (("pipe", []), ("ring", ["--dpdk-ring"])):
            i1, _, s1 = b_cost._count(prog, side, k, False, tmp, extra)
            i2, _, s2 = b_cost._count(prog, side, 2 * k, False, tmp, extra)
            per[link] = (i2 - i1) / (s2 - s1)
        ctx.record(
            f"per segment {'received' if side == 'rx' else 'sent'}: net_ring vs pipe",
            "instructions per segment",
            "instructions",
            ustack=ctx.stats([per["ring"]]),
            linux=ctx.stats([per["pipe"]]),
            higher_is_better=False,
            goal="net_ring <= 1.1x the pipe's instructions per segment",
            goal_ratio=1 / 1.1,
            params={"segment_payload": 1460, "checksums": "software", "segments": k},
        )
