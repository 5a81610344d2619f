"""Per-packet cost (issue 8 item 4): instructions per in-order 1460-byte TCP
segment received and per segment sent, counted by valgrind's callgrind.

bench/c/pkt_cost.c moves K segments between two stacks on a virtual clock
with fixed seeds (deterministic: a change's cost shows commit to commit)
and collects only one side's work.  Each figure is the difference of the
instruction counts of two runs (K and 2K segments) divided by the
difference of the segments counted by the stack (tcps_rcvpack or
tcps_sndpack), so setup and warm-up cancel.  Two configurations:

- software checksums (the pipe's default: the stack computes and verifies
  every TCP checksum over the 1460 bytes);
- checksum offload (the pipe advertises RXCSUM|TXCSUM as a NIC or a TAP
  with a virtio header does): the stack's own work and the pipe driver's;
- the same without the pipe driver (callgrind_annotate's inclusive cost of
  pipe_rx_burst and pipe_tx_burst taken out): what the stack itself spends
  from the frame handed in to the data in the application's buffer.

Counts are exact, so one run per figure: min = max = median.
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
GOAL = "<= 1,500 instructions per in-order 1460-byte segment received"
GOAL_RX = 1500.0


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
    """(instructions collected, of which in the pipe driver, segments) of
    one run under callgrind; extra: more pkt_cost arguments (b_dpdk.py's --ring)."""
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
    return int(m.group(1)), _driver(out), int(info["segments"])


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
                i1, d1, s1 = _count(prog, side, k, offload, tmp)
                i2, d2, s2 = _count(prog, side, 2 * k, offload, tmp)
                if s2 <= s1:
                    raise RuntimeError(f"{side}: {s1} then {s2} segments")
                case = f"{'received' if side == 'rx' else 'sent'}, " + (
                    "checksum offload" if offload else "software checksum"
                )
                params = {
                    "segment_payload": 1460,
                    "segments": [s1, s2],
                    "instructions": [i1, i2],
                    "driver_instructions": [d1, d2],
                    "csum_offload": offload,
                    "timestamps": False,
                }
                _record(ctx, side, case, (i2 - i1) / (s2 - s1), params)
                if offload:
                    _record(
                        ctx,
                        side,
                        f"{case}, pipe driver excluded",
                        (i2 - d2 - i1 + d1) / (s2 - s1),
                        params,
                    )


def _record(ctx: Context, side: str, case: str, per: float, params: dict[str, Any]) -> None:
    rx = side == "rx"
    if rx:
        params = {**params, "goal_max": GOAL_RX, "goal_met": per <= GOAL_RX}
    ctx.record(
        case,
        "instructions per segment",
        "instructions",
        ustack=ctx.stats([per]),
        higher_is_better=False,
        goal=GOAL if rx else "",
        params=params,
    )
