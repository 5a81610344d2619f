"""Bulk TCP throughput, one flow: ustack over the pipe against Linux over veth.

ustack: bench/c/bulk_pipe, two stacks on two threads pinned to cores 0 and 1,
joined by the in-memory pipe on the real clock; the receiver checks every byte.
Two modes at each MTU:

- segments: MTU-sized segments (checksum offload on the pipe, as veth keeps
  tx-checksumming even with the segmentation offloads off);
- TSO/LRO: large segments cross the pipe whole (UST_IFCAP_TSO4|LRO), as
  between two NICs with TSO and LRO.

Linux: iperf3 client (core 0) and server (core 1) in two namespaces joined by
a veth pair of the same MTU, with the veth's offloads as the kernel sets them
("offloads on": 64 KB GSO/GRO packets cross the pair) and with
``ethtool -K tso off gso off gro off`` on both ends ("offloads off").

Goals (issue 19 item 7, raised from issue 8's 1.5x and 1.0x): segments >= 3x
Linux offloads off; TSO/LRO >= 2.5x Linux offloads on.  Runs alternate ustack
and Linux so that contention from other work on the machine falls on both
alike.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from benchlib import Context

from ustack.netns import NetNs, unavailable_reason

NAME = "bulk"
DESCRIPTION = "bulk TCP, one flow: ustack over the pipe vs Linux over veth (iperf3)"
GOAL = (
    "ustack with MTU-sized segments >= 3x Linux veth offloads off; "
    "ustack TSO/LRO on the pipe >= 2.5x Linux veth offloads on"
)

ADDR_A, ADDR_B = "198.18.1.1", "198.18.1.2"
# IPv6 (b_ipv6.py): 2001:2::/48 only (the benchmarking range, RFC 5180).
ADDR6_A, ADDR6_B = "2001:2::1", "2001:2::2"
PORT = "5201"
_LINE = re.compile(r"(\w+)=([0-9.]+)")


def _ustack(
    ctx: Context, mtu: int, nbytes: int, tso: bool, family: int = 4, csum: bool = True
) -> dict[str, float]:
    """One bulk_pipe run (csum False: software checksums, --no-csum)."""
    argv: list[str | Path] = [ctx.program("bulk_pipe"), "--mtu", str(mtu), "--bytes", str(nbytes)]
    if tso:
        argv.append("--tso")
    if not csum:
        argv.append("--no-csum")
    if family != 4:
        argv += ["--family", str(family)]
    if len(os.sched_getaffinity(0)) < 2:
        argv += ["--pin", "none"]
    out = ctx.run_program(argv, timeout=900)
    fields = {k: float(v) for k, v in _LINE.findall(out)}
    if "gbit_per_s" not in fields:
        raise RuntimeError(f"bulk_pipe said {out!r}")
    return fields


@contextmanager
def veth_pair(
    mtu: int, offloads: bool, families: Sequence[int] = (4,), purpose: str = "bulk"
) -> Iterator[tuple[NetNs, NetNs]]:
    """Two fresh namespaces joined by a veth pair va (in the first: ADDR_A,
    and ADDR6_A with 6 in families) and vb (ADDR_B, ADDR6_B); IPv6 addresses
    without duplicate address detection.  Both go at the end."""
    with NetNs(f"{purpose}-a") as a, NetNs(f"{purpose}-b") as b:
        subprocess.run(
            ["ip", "link", "add", "va", "netns", a.name, "type", "veth"]
            + ["peer", "name", "vb", "netns", b.name],
            check=True,
            capture_output=True,
        )
        for ns, dev, addr, addr6 in ((a, "va", ADDR_A, ADDR6_A), (b, "vb", ADDR_B, ADDR6_B)):
            ns.run("ip", "link", "set", dev, "mtu", str(mtu))
            if 4 in families:
                ns.run("ip", "addr", "add", f"{addr}/24", "dev", dev)
            if 6 in families:
                ns.run("ip", "-6", "addr", "add", f"{addr6}/64", "dev", dev, "nodad")
            if not offloads:
                ns.run("ethtool", "-K", dev, "tso", "off", "gso", "off", "gro", "off")
            ns.run("ip", "link", "set", dev, "up")
        yield a, b


def _iperf3(mtu: int, nbytes: int, offloads: bool, family: int = 4) -> float:
    """One iperf3 transfer over a fresh veth pair; the receiver's Gbit/s."""
    addr_b = ADDR6_B if family == 6 else ADDR_B
    with veth_pair(mtu, offloads, (family,)) as (a, b):
        srv = subprocess.Popen(
            b.exec_argv("iperf3", "-s", "-1", "-B", addr_b, "-p", PORT, "-A", "1"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            # The client starts once the server listens (a refused first
            # connection would be retried, but iperf3 then sometimes ends
            # a run without its totals).
            for _attempt in range(200):
                if b.run("ss", "-Hltn", f"sport = :{PORT}", check=False).stdout.strip():
                    break
                time.sleep(0.02)
            else:
                raise RuntimeError("the iperf3 server did not start")
            proc = a.run(
                "iperf3", "-c", addr_b, "-p", PORT, "-n", str(nbytes), "-A", "0", "-J", check=False
            )
            try:
                bps = json.loads(proc.stdout)["end"]["sum_received"]["bits_per_second"]
            except (ValueError, KeyError) as exc:
                raise RuntimeError(
                    f"iperf3 failed: {proc.stdout[-800:]} {proc.stderr[-300:]}"
                ) from exc
            return float(bps) / 1e9
        finally:
            srv.kill()
            srv.wait()


def run(ctx: Context) -> None:
    reason = unavailable_reason()
    linux_ok = reason is None and shutil.which("iperf3") and shutil.which("ethtool")
    if not linux_ok:
        ctx.note(f"Linux side skipped: {reason or 'iperf3 or ethtool missing'}")
    runs = 1 if ctx.quick else ctx.runs
    mtus = [1500] if ctx.quick else [1500, 9000]
    seg_bytes = (256 << 20) if ctx.quick else (1 << 30)
    tso_bytes = (1 << 30) if ctx.quick else (4 << 30)
    linux_bytes = (1 << 30) if ctx.quick else (4 << 30)
    for mtu in mtus:
        vals: dict[str, list[float]] = {"seg": [], "tso": [], "off": [], "on": []}
        extra: dict[str, list[float]] = {"seg_rexmit": [], "tso_rexmit": []}
        for _ in range(runs):
            seg = _ustack(ctx, mtu, seg_bytes, tso=False)
            vals["seg"].append(seg["gbit_per_s"])
            extra["seg_rexmit"].append(seg.get("rexmit", 0.0))
            if linux_ok:
                vals["off"].append(_iperf3(mtu, linux_bytes, offloads=False))
            tso = _ustack(ctx, mtu, tso_bytes, tso=True)
            vals["tso"].append(tso["gbit_per_s"])
            extra["tso_rexmit"].append(tso.get("rexmit", 0.0))
            if linux_ok:
                vals["on"].append(_iperf3(mtu, linux_bytes, offloads=True))
        params = {
            "mtu": mtu,
            "ustack_bytes_segments": seg_bytes,
            "ustack_bytes_tso": tso_bytes,
            "linux_bytes": linux_bytes,
            "pinned": "cores 0 and 1",
            "ustack_retransmits": extra,
            "load_avg_at_end": os.getloadavg()[0],
        }
        for mode, kernel, goal, goal_ratio in (
            ("seg", "off", "ustack with MTU-sized segments >= 3x Linux offloads off", 3.0),
            ("tso", "on", "ustack TSO/LRO on the pipe >= 2.5x Linux offloads on", 2.5),
        ):
            what = "segments" if mode == "seg" else "TSO/LRO"
            ctx.record(
                f"mtu {mtu}: ustack {what} vs Linux veth offloads {kernel}",
                "throughput",
                "Gbit/s",
                ustack=ctx.stats(vals[mode]),
                linux=ctx.stats(vals[kernel]) if vals[kernel] else None,
                goal=goal,
                goal_ratio=goal_ratio,
                params=params,
            )
