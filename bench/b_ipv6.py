"""IPv6 beside IPv4 (issue 17 item 8), in one run, with the other modules'
programs and helpers and a family option (no copies):

- bulk: one TCP flow between two ustack stacks over the pipe (bench/c/bulk_pipe
  --family 4|6: MTU 1500, MTU-sized segments with checksum offload, b_bulk.py's
  "segments" mode), against iperf3 over a veth pair between two namespaces with
  the veth's offloads off (b_bulk.py's like-for-like); and ustack again with
  software checksums on both families (--no-csum), as the stack offloads no
  IPv6 checksum (ip6_output finishes them in software);
- request/response on one core: 64-byte ping-pong on one connection and
  connect + request/response + close (bench/c/rr_ustack --family), against
  bench/c/rr_linux --family whose listening socket is made in the other
  namespace of a veth pair (--server-netns), so that Linux's segments cross
  the veth as ustack's cross the pipe (client and server threads on one CPU,
  blocking sockets, as in b_rr.py's same-core setting);
- instructions per in-order 1460-byte segment received and sent
  (bench/c/pkt_cost --family under callgrind, b_cost.py's method: two runs of
  K and 2K segments), with software checksums and with checksum offload
  (and that without the pipe driver).  IPv6 runs at MTU 1520, so that its
  segments carry the same 1460 bytes as IPv4's at 1500 and the families
  differ only in their headers' work.

Goal: per-segment instructions over IPv6 within 10% of IPv4's.  When a figure
misses it, the notes list the functions whose instructions per segment grew
most (callgrind_annotate of the same runs).  The veth pairs carry 198.18.1.0/24
and 2001:2::/64 (added with nodad); their namespaces are removed at the end.
A side-by-side table (ustack IPv4 and IPv6, Linux IPv4 and IPv6, the v6/v4
ratios) goes to stderr and into the notes of results.md.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import b_bulk
import b_cost
import b_rr
from benchlib import Context, Stats

from ustack.netns import NetNs, unavailable_reason

NAME = "ipv6"
DESCRIPTION = "IPv6 beside IPv4: ustack over the pipe, Linux over veth, instructions per segment"
GOAL = "ustack's instructions per IPv6 segment within 10% of IPv4's"
COST_GOAL = 1.10  # v6 / v4 at most
MTU = 1500
FAMILIES = (4, 6)

T = TypeVar("T")

_FUNC = re.compile(r"^\s*([\d,]+) \([^)]*\)\s+(\S+?):(\S+) \[", re.M)


def _fam(family: int) -> list[str]:
    return ["--family", str(family)]


def _why_no_ustack6(ctx: Context) -> str | None:
    """Why ustack cannot carry TCP over IPv6 in this build (a short
    ping-pong over the pipe), or None when it can."""
    argv = [str(ctx.program("rr_ustack")), "--pingpong", "10", *_fam(6)]
    try:
        ctx.run_program(argv, timeout=30)
    except RuntimeError as exc:
        lines = [ln for ln in str(exc).splitlines() if ln.strip()]
        return f"rr_ustack --family 6 failed: {lines[-1] if lines else exc}"
    except subprocess.TimeoutExpired:
        return "rr_ustack --family 6 did not finish in 30 s"
    return None


def _guard(
    ctx: Context, ufams: list[int], fam: int, what: str, fn: Callable[..., T], *args: Any
) -> T | None:
    """fn(*args); for IPv6, a failure is noted and takes IPv6 out of ufams (the
    rest of this part runs IPv4 only) instead of failing the module."""
    if fam != 6:
        return fn(*args)
    try:
        return fn(*args)
    except (RuntimeError, subprocess.TimeoutExpired, ValueError) as exc:
        ctx.note(f"ustack over IPv6 failed in {what}; no more IPv6 figures of it:\n{exc}")
        ufams.remove(6)
        return None


def _linux_reason(bulk: bool) -> str | None:
    reason = unavailable_reason()
    if reason is None and bulk and not (shutil.which("iperf3") and shutil.which("ethtool")):
        reason = "iperf3 or ethtool missing"
    return reason


@contextlib.contextmanager
def _rr_veth(ok: bool) -> Iterator[tuple[NetNs, NetNs] | None]:
    if not ok:
        yield None
        return
    with b_bulk.veth_pair(MTU, True, FAMILIES, purpose="v6rr") as pair:
        yield pair


def run(ctx: Context) -> None:
    why6 = _why_no_ustack6(ctx)
    if why6:
        ctx.note(f"no ustack IPv6 figures: {why6}")
    ufams = (4,) if why6 else FAMILIES
    ctx.note_load()
    table: list[tuple[str, dict[str, Stats | None], bool, str]] = []
    table += _bulk(ctx, ufams)
    table += _rr(ctx, ufams)
    table += _cost(ctx, ufams)
    text = _side_by_side(table)
    print(f"ipv6: side by side\n{text}", file=sys.stderr)
    ctx.note(f"side by side (medians; v6/v4 > 1: IPv6 is higher):\n{text}")


# --- bulk ---------------------------------------------------------------------------


def _bulk(
    ctx: Context, ufams: Sequence[int]
) -> list[tuple[str, dict[str, Stats | None], bool, str]]:
    reason = _linux_reason(bulk=True)
    if reason:
        ctx.note(f"no Linux bulk figures: {reason}")
    runs = 1 if ctx.quick else ctx.runs
    ubytes = (128 << 20) if ctx.quick else (1 << 30)
    lbytes = (256 << 20) if ctx.quick else (2 << 30)
    vals: dict[tuple[str, int], list[float]] = {}
    soft: dict[tuple[str, int], list[float]] = {}
    uf = list(ufams)
    for _ in range(runs):
        # Alternate families and stacks, so that load falls on all alike.
        for fam in FAMILIES:
            for csum, into in ((True, vals), (False, soft)):
                if fam in uf:
                    r = _guard(
                        ctx, uf, fam, "bulk", b_bulk._ustack, ctx, MTU, ubytes, False, fam, csum
                    )
                    if r is not None:
                        into.setdefault(("ustack", fam), []).append(r["gbit_per_s"])
            if not reason:
                g = b_bulk._iperf3(MTU, lbytes, offloads=False, family=fam)
                vals.setdefault(("linux", fam), []).append(g)
    cells, soft_cells = _cells(ctx, vals), _cells(ctx, soft)
    for fam in FAMILIES:
        if soft_cells[f"u{fam}"] is None:
            continue
        ctx.record(
            f"bulk mtu {MTU}, IPv{fam}: ustack segments, software checksums",
            "throughput",
            "Gbit/s",
            ustack=soft_cells[f"u{fam}"],
            params={"family": fam, "mtu": MTU, "ustack_bytes": ubytes, **_ratios(soft_cells)},
        )
    for fam in FAMILIES:
        if cells[f"u{fam}"] is None:
            continue
        ctx.record(
            f"bulk mtu {MTU}, IPv{fam}: ustack segments vs Linux veth offloads off",
            "throughput",
            "Gbit/s",
            ustack=cells[f"u{fam}"],
            linux=cells[f"k{fam}"],
            params={
                "family": fam,
                "mtu": MTU,
                "ustack_bytes": ubytes,
                "linux_bytes": lbytes,
                **_ratios(cells),
            },
        )
    return [
        (f"bulk, MTU {MTU}, one flow (Gbit/s)", cells, True, ""),
        ("bulk, ustack with software checksums (Gbit/s)", soft_cells, True, ""),
    ]


# --- request/response ---------------------------------------------------------------


def _rr(ctx: Context, ufams: Sequence[int]) -> list[tuple[str, dict[str, Stats | None], bool, str]]:
    reason = _linux_reason(bulk=False)
    if reason:
        ctx.note(f"no Linux request/response figures: {reason}")
    counts = {"pingpong": 5000, "crr": 1000} if ctx.quick else {"pingpong": 100000, "crr": 10000}
    runs = 1 if ctx.quick else ctx.runs
    uprog, lprog = str(ctx.program("rr_ustack")), str(ctx.program("rr_linux"))
    server = {4: b_bulk.ADDR_B, 6: b_bulk.ADDR6_B}
    rows = []
    uf = list(ufams)
    with _rr_veth(reason is None) as pair:
        for work, n in counts.items():
            vals: dict[tuple[str, int], list[float]] = {}
            lat: dict[tuple[str, int], list[float]] = {}
            for _ in range(runs):
                for fam in FAMILIES:
                    argv = [uprog, f"--{work}", str(n), "--same-core", *_fam(fam)]
                    u = _guard(ctx, uf, fam, work, b_rr._run, ctx, argv) if fam in uf else None
                    if u is not None:
                        vals.setdefault(("ustack", fam), []).append(u["ops_per_s"])
                        lat.setdefault(("ustack", fam), []).append(u["p50_us"])
                    if pair is not None:
                        a, b = pair
                        argv = [lprog, f"--{work}", str(n), "--same-core", *_fam(fam)]
                        argv += ["--server", server[fam], "--server-netns", b.name]
                        k = b_rr._run(ctx, a.exec_argv(*argv))
                        vals.setdefault(("linux", fam), []).append(k["ops_per_s"])
                        lat.setdefault(("linux", fam), []).append(k["p50_us"])
            cells = _cells(ctx, vals)
            p50 = _cells(ctx, lat)
            what = "64-byte ping-pong" if work == "pingpong" else "connect/request/response/close"
            metric = "round trips/s" if work == "pingpong" else "connections/s"
            for fam in FAMILIES:
                if cells[f"u{fam}"] is None:
                    continue
                ctx.record(
                    f"{work} same-core, IPv{fam}: ustack pipe vs Linux veth",
                    metric,
                    "1/s",
                    ustack=cells[f"u{fam}"],
                    linux=cells[f"k{fam}"],
                    params={
                        "family": fam,
                        "count": n,
                        "message_bytes": 64,
                        "linux": "rr_linux across a veth pair (--server-netns), blocking sockets, "
                        "one CPU",
                        "p50_us": {k: v["median"] if v else None for k, v in p50.items()},
                        **_ratios(cells),
                    },
                )
            rows.append((f"{what}, one core ({metric})", cells, True, ""))
            rows.append((f"{what}, p50 (us)", p50, False, ""))
    return rows


# --- instructions per segment -------------------------------------------------------


def _functions(path: Path) -> dict[str, int]:
    """Exclusive instructions per function of one callgrind profile."""
    text = subprocess.run(
        ["callgrind_annotate", "--threshold=100", str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    out: dict[str, int] = {}
    for m in _FUNC.finditer(text):
        name = f"{Path(m.group(2)).name}:{m.group(3)}"
        out[name] = out.get(name, 0) + int(m.group(1).replace(",", ""))
    return out


def _per_function(
    tmp: Path, side: str, k: int, offload: bool, fam: int, segs: int
) -> dict[str, float]:
    extra = _fam(6) if fam == 6 else []
    f1 = _functions(b_cost._outfile(tmp, side, k, offload, extra))
    f2 = _functions(b_cost._outfile(tmp, side, 2 * k, offload, extra))
    return {n: (f2.get(n, 0) - f1.get(n, 0)) / segs for n in set(f1) | set(f2)}


def _where(tmp: Path, side: str, k: int, offload: bool, segs: dict[int, int]) -> str:
    """The functions whose instructions per segment differ most, v6 against v4."""
    v4 = _per_function(tmp, side, k, offload, 4, segs[4])
    v6 = _per_function(tmp, side, k, offload, 6, segs[6])
    names = sorted(set(v4) | set(v6), key=lambda n: v6.get(n, 0) - v4.get(n, 0), reverse=True)
    lines = [f"{'function (exclusive)':58} {'IPv4':>8} {'IPv6':>8} {'v6-v4':>8}"]
    for n in names[:10]:
        a, b = v4.get(n, 0.0), v6.get(n, 0.0)
        if b - a < 1:
            break
        lines.append(f"{n[:58]:58} {a:8.0f} {b:8.0f} {b - a:+8.0f}")
    lines.append("IPv6's most expensive functions:")
    for n in sorted(v6, key=lambda n: v6[n], reverse=True)[:5]:
        lines.append(
            f"{n[:58]:58} {v4.get(n, 0.0):8.0f} {v6[n]:8.0f} {v6[n] - v4.get(n, 0.0):+8.0f}"
        )
    return "\n".join(lines)


def _two(
    prog: Path, side: str, k: int, offload: bool, tmp: Path, extra: list[str]
) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    """b_cost's two runs, K and 2K segments."""
    c1 = b_cost._count(prog, side, k, offload, tmp, extra)
    c2 = b_cost._count(prog, side, 2 * k, offload, tmp, extra)
    if c2[2] <= c1[2]:
        raise RuntimeError(f"{side}: {c1[2]} then {c2[2]} segments")
    return c1, c2


def _cost(
    ctx: Context, ufams: Sequence[int]
) -> list[tuple[str, dict[str, Stats | None], bool, str]]:
    if shutil.which("valgrind") is None or shutil.which("callgrind_annotate") is None:
        ctx.note("no instruction counts: valgrind is not installed (apt-get install valgrind)")
        return []
    prog = ctx.program("pkt_cost")
    k = 200 if ctx.quick else 2000
    rows = []
    uf = list(ufams)
    with tempfile.TemporaryDirectory(prefix="ustack-cost6-") as d:
        tmp = Path(d)
        for offload in (False,) if ctx.quick else (False, True):
            for side in ("rx", "tx"):
                per: dict[int, tuple[float, float]] = {}
                segs: dict[int, int] = {}
                params: dict[int, dict[str, Any]] = {}
                for fam in list(uf):
                    extra = _fam(6) if fam == 6 else []
                    got = _guard(
                        ctx,
                        uf,
                        fam,
                        f"pkt_cost --side {side}",
                        _two,
                        prog,
                        side,
                        k,
                        offload,
                        tmp,
                        extra,
                    )
                    if got is None:
                        continue
                    (i1, d1, s1), (i2, d2, s2) = got
                    segs[fam] = s2 - s1
                    per[fam] = ((i2 - i1) / (s2 - s1), (i2 - d2 - i1 + d1) / (s2 - s1))
                    params[fam] = {
                        "family": fam,
                        "segment_payload": 1460,
                        "mtu": 1520 if fam == 6 else 1500,
                        "segments": [s1, s2],
                        "instructions": [i1, i2],
                        "driver_instructions": [d1, d2],
                        "csum_offload": offload,
                    }
                what = "received" if side == "rx" else "sent"
                variants = [(0, "software checksum" if not offload else "checksum offload")]
                if offload:
                    variants.append((1, "checksum offload, pipe driver excluded"))
                for idx, label in variants:
                    cells: dict[str, Stats | None] = {
                        f"u{f}": ctx.stats([per[f][idx]]) if f in per else None for f in FAMILIES
                    }
                    ratio = per[6][idx] / per[4][idx] if 6 in per else None
                    met = ratio <= COST_GOAL if ratio is not None else None
                    for fam in per:
                        rec = ctx.record(
                            f"instructions per segment {what}, {label}, IPv{fam}",
                            "instructions per segment",
                            "instructions",
                            ustack=cells[f"u{fam}"],
                            higher_is_better=False,
                            goal=GOAL if fam == 6 else "",
                            params={
                                **params[fam],
                                "v6_over_v4": ratio,
                                "goal_max_ratio": COST_GOAL,
                            },
                        )
                        if fam == 6:
                            rec["goal_met"] = met
                    mark = (
                        ""
                        if met is None
                        else f"goal <= {COST_GOAL:.2f}: {'met' if met else 'NOT met'}"
                    )
                    rows.append((f"instructions per segment {what}, {label}", cells, False, mark))
                    if met is False:
                        ctx.note(
                            f"IPv6 {what}, {label}: {ratio:.3f}x IPv4's instructions per segment "
                            f"({per[6][idx]:.0f} against {per[4][idx]:.0f}); where (per segment, "
                            f"K={k} and 2K runs):\n{_where(tmp, side, k, offload, segs)}"
                        )
    return rows


# --- the side-by-side table ---------------------------------------------------------


def _cells(ctx: Context, vals: dict[tuple[str, int], list[float]]) -> dict[str, Stats | None]:
    """u4, u6 (ustack), k4, k6 (Linux): the stats of each, None when missing."""
    out: dict[str, Stats | None] = {}
    for stack, key in (("ustack", "u"), ("linux", "k")):
        for fam in FAMILIES:
            v = vals.get((stack, fam))
            out[f"{key}{fam}"] = ctx.stats(v) if v else None
    return out


def _ratio(a: Stats | None, b: Stats | None) -> float | None:
    if a is None or b is None or not b["median"]:
        return None
    return float(a["median"] / b["median"])


def _ratios(cells: dict[str, Stats | None]) -> dict[str, float | None]:
    return {
        "ustack_v6_over_v4": _ratio(cells["u6"], cells["u4"]),
        "linux_v6_over_v4": _ratio(cells["k6"], cells["k4"]),
    }


def _fmt(s: Stats | None) -> str:
    if s is None:
        return "-"
    x = s["median"]
    if x >= 1e6:
        return f"{x / 1e6:.3g}M"
    if x >= 1e4:
        return f"{x / 1e3:.3g}k"
    return f"{x:.4g}" if x < 100 else f"{x:.0f}"


def _side_by_side(rows: list[tuple[str, dict[str, Stats | None], bool, str]]) -> str:
    head = ("figure", "ustack v4", "ustack v6", "v6/v4", "Linux v4", "Linux v6", "v6/v4", "")
    body = []
    for label, c, _higher, mark in rows:
        r1, r2 = _ratio(c.get("u6"), c.get("u4")), _ratio(c.get("k6"), c.get("k4"))
        body.append(
            (
                label,
                _fmt(c.get("u4")),
                _fmt(c.get("u6")),
                f"{r1:.3f}" if r1 is not None else "-",
                _fmt(c.get("k4")),
                _fmt(c.get("k6")),
                f"{r2:.3f}" if r2 is not None else "-",
                mark,
            )
        )
    widths = [max(len(r[i]) for r in [head, *body]) for i in range(len(head))]
    lines = []
    for r in [head, *body]:
        cols = [r[0].ljust(widths[0])] + [r[i].rjust(widths[i]) for i in range(1, 7)] + [r[7]]
        lines.append("  ".join(cols).rstrip())
    return "\n".join(lines) + f"\n(load average {os.getloadavg()[0]:.2f} at the end)"
