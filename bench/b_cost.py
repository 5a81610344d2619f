"""Per-packet cost (issue 8 item 4, issue 19 item 7): instructions per
in-order 1460-byte TCP segment received and per segment sent, counted by
valgrind's callgrind.

bench/c/pkt_cost.c moves K segments between two stacks on a virtual clock
with fixed seeds (deterministic: a change's cost shows commit to commit)
and collects only one side's work.  Each figure is the difference of the
instruction counts of two runs (K and 2K segments) divided by the
difference of their WIRE segments: the frames that crossed the pipe from
sender to receiver, not TCP's counters, which receive coalescing (LRO)
and TSO make smaller than the frames.  Setup and warm-up cancel.  Rows,
per side (received, sent):

- software checksums (the pipe's default: the stack computes and verifies
  every TCP checksum over the 1460 bytes), and checksum offload (the pipe
  advertises RXCSUM|TXCSUM as a NIC or a TAP with a virtio header does);
- each with the pipe driver's share, and without it ("pipe driver
  excluded": callgrind_annotate's inclusive cost of pipe_rx_burst and
  pipe_tx_burst taken out): what the stack itself spends from the frame
  handed in to the data in the application's buffer.  The driver's share
  per segment is in the params (driver_per_segment).

The receive side includes the ACKs it sends (params: ack_frames), the send
side the ACKs it takes in.  Only instruction costs are used: callgrind's
call counts are wrong with --collect-atstart=no (an arc's counter runs
while collection is off).  Counts are exact, so one run per figure: min =
max = median.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchlib import Context

NAME = "cost"
DESCRIPTION = "callgrind instructions per 1460-byte TCP segment received and sent"
GOAL = (
    "<= 1,500 instructions per in-order 1460-byte segment received and per segment sent,"
    " the driver's share included"
)
GOAL_MAX = 1500.0


_DRIVER = re.compile(r"^\s*([\d,]+) \([^)]*\)\s+\S+:pipe_(?:rx|tx)_burst \[", re.M)


def _driver(out: Path) -> int:
    """Instructions inside the pipe driver's bursts (inclusive), from the
    first (per-function) listing of callgrind_annotate."""
    text = subprocess.run(
        ["callgrind_annotate", "--inclusive=yes", str(out)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found: dict[str, int] = {}
    for m in _DRIVER.finditer(text):
        name = m.group(0).rsplit(":", 1)[1]
        found.setdefault(name, int(m.group(1).replace(",", "")))
    return sum(found.values())


def _outfile(tmp: Path, side: str, k: int, offload: bool, extra: Sequence[str] = ()) -> Path:
    """Where _count leaves that run's callgrind profile (b_ipv6.py reads it)."""
    return tmp / f"cg.{side}.{k}.{int(offload)}{''.join(extra)}"


def _count(
    prog: Path, side: str, k: int, offload: bool, tmp: Path, extra: Sequence[str] = ()
) -> tuple[int, int, int]:
    """(instructions collected, of which in the pipe driver, wire segments)
    of one run under callgrind; extra: more pkt_cost arguments (b_dpdk.py's
    --ring)."""
    i, d, info = _measure(prog, side, k, offload, tmp, extra)
    return i, d, int(info["segments"])


def _measure(
    prog: Path, side: str, k: int, offload: bool, tmp: Path, extra: Sequence[str] = ()
) -> tuple[int, int, dict[str, Any]]:
    """_count with pkt_cost's whole JSON line (wire segments, TCP's
    segments, ACK frames)."""
    out = _outfile(tmp, side, k, offload, extra)
    argv = [
        "valgrind",
        "--tool=callgrind",
        "--collect-atstart=no",
        f"--callgrind-out-file={out}",
        str(prog),
        "--side",
        side,
        "--segments",
        str(k),
    ]
    if offload:
        argv.append("--csum-offload")
    argv += extra
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=600, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: exit {proc.returncode}\n{proc.stderr[-2000:]}")
    info: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    if not info.get("callgrind"):
        raise RuntimeError("pkt_cost was built without valgrind/callgrind.h")
    m = re.search(r"^summary:\s*(\d+)", out.read_text(), re.M)
    if m is None:
        raise RuntimeError(f"no summary line in {out}")
    return int(m.group(1)), _driver(out), info


def run(ctx: Context) -> None:
    if shutil.which("valgrind") is None or shutil.which("callgrind_annotate") is None:
        ctx.note("skipped: valgrind is not installed (apt-get install valgrind)")
        return
    prog = ctx.program("pkt_cost")
    k = 200 if ctx.quick else 2000
    with tempfile.TemporaryDirectory(prefix="ustack-cost-") as d:
        tmp = Path(d)
        for offload in (False, True):
            for side in ("rx", "tx"):
                i1, d1, n1 = _measure(prog, side, k, offload, tmp)
                i2, d2, n2 = _measure(prog, side, 2 * k, offload, tmp)
                s1, s2 = int(n1["segments"]), int(n2["segments"])
                if s2 <= s1:
                    raise RuntimeError(f"{side}: {s1} then {s2} segments")
                case = f"{'received' if side == 'rx' else 'sent'}, " + (
                    "checksum offload" if offload else "software checksum"
                )
                params = {
                    "segment_payload": 1460,
                    "segments": [s1, s2],
                    "segments_counted": "wire frames, sender to receiver",
                    "tcp_segments": [n1.get("tcp_segments"), n2.get("tcp_segments")],
                    "ack_frames": [n1.get("ack_frames"), n2.get("ack_frames")],
                    "instructions": [i1, i2],
                    "driver_instructions": [d1, d2],
                    "driver_per_segment": (d2 - d1) / (s2 - s1),
                    "csum_offload": offload,
                    "timestamps": False,
                }
                _record(ctx, case, (i2 - i1) / (s2 - s1), params, goal=True)
                _record(
                    ctx,
                    f"{case}, pipe driver excluded",
                    (i2 - d2 - i1 + d1) / (s2 - s1),
                    params,
                    goal=False,
                )


def _record(ctx: Context, case: str, per: float, params: dict[str, Any], *, goal: bool) -> None:
    """One row; the goal (issue 19) is judged on the rows that include the
    driver's share."""
    if goal:
        params = {**params, "goal_max": GOAL_MAX, "goal_met": per <= GOAL_MAX}
    ctx.record(
        case,
        "instructions per segment",
        "instructions",
        ustack=ctx.stats([per]),
        higher_is_better=False,
        goal=GOAL if goal else "",
        params=params,
    )
