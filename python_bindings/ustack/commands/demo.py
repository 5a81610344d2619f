"""``ustack demo``: two stacks joined by a faulty pipe on a virtual clock.

Until the protocol layers land this shows what exists: stacks, interfaces,
the pipe driver's fault injector, the virtual clock, pcap capture and the
counters.  Numbered Ethernet frames (ethertype 0x88B5) go from A to B; the
run ends when every frame has been delivered or lost.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from ustack._util import format_rate, parse_percent, parse_rate
from ustack.commands._table import counters_table, table
from ustack.pipe import Faults
from ustack.sim import MIN_FRAME, PipeRig
from ustack.stack import Capture

NAME = "demo"
HELP = "two stacks joined by a faulty pipe on a virtual clock, with counters and a pcap"
DESCRIPTION = """\
Build two stacks, A and B, joined by the in-memory pipe driver on a virtual
clock; send numbered Ethernet frames (ethertype 0x88B5, local experimental)
from A to B through the pipe's fault injector; run both stacks until every
frame has been delivered or lost; print the pipe, interface, stack and zone
counters, what B received (unique, duplicated, reordered, damaged), and the
pcap file B's interface wrote (open it with tshark -r or Wireshark).

Time is virtual: delays and rate limits cost no wall-clock time, and the
same --seed replays exactly the same losses, duplicates and reorderings.

examples:
  python -m ustack demo
  python -m ustack demo --frames 100000 --loss 10 --seed 7
  python -m ustack demo --delay 20 --rate 100mbit --reorder 1 --pcap /tmp/x.pcap"""

DEFAULT_PCAP = Path(tempfile.gettempdir()) / "ustack-demo.pcap"


def _percent(text: str) -> float:
    try:
        return parse_percent(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _rate(text: str) -> int:
    try:
        return parse_rate(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _ms(text: str) -> int:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of milliseconds: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"a duration must be >= 0, not {text!r}")
    return int(round(value * 1_000_000))


def _positive(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, not {text!r}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The demo's options."""
    parser.add_argument(
        "--frames",
        type=_positive,
        default=10000,
        metavar="N",
        help="number of frames A sends to B (default: %(default)s)",
    )
    parser.add_argument(
        "--size",
        type=int,
        default=128,
        metavar="BYTES",
        help=f"frame size in bytes without FCS, {MIN_FRAME}..1514 (default: %(default)s)",
    )
    parser.add_argument(
        "--loss",
        type=_percent,
        default=0.0,
        metavar="PCT",
        help="percent of frames the pipe loses, e.g. 10 or 0.5 (default: 0)",
    )
    parser.add_argument(
        "--dup",
        type=_percent,
        default=0.0,
        metavar="PCT",
        help="percent of frames the pipe delivers twice (default: 0)",
    )
    parser.add_argument(
        "--reorder",
        type=_percent,
        default=0.0,
        metavar="PCT",
        help="percent of frames held back so that later ones pass them (default: 0)",
    )
    parser.add_argument(
        "--reorder-delay",
        type=_ms,
        default=0,
        metavar="MS",
        help="how long a reordered frame is held back, in ms (default: the driver's, 1 ms)",
    )
    parser.add_argument(
        "--corrupt",
        type=_percent,
        default=0.0,
        metavar="PCT",
        help="percent of frames with one random bit flipped (default: 0)",
    )
    parser.add_argument(
        "--delay",
        type=_ms,
        default=0,
        metavar="MS",
        help="one-way delay of the pipe in milliseconds, fractions allowed (default: 0)",
    )
    parser.add_argument(
        "--jitter",
        type=_ms,
        default=0,
        metavar="MS",
        help="extra delay uniform in [0, MS], order kept (default: 0)",
    )
    parser.add_argument(
        "--rate",
        type=_rate,
        default=0,
        metavar="RATE",
        help="link rate like tc writes it: 1gbit, 100mbit, 56kbit; 0 means unlimited (default: 0)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=1,
        help="seed of the stacks and of the pipe's fault injector; the same "
        "seed replays the same run (default: %(default)s)",
    )
    parser.add_argument(
        "--batch",
        type=_positive,
        default=256,
        metavar="N",
        help="frames queued before both stacks run until idle (default: %(default)s)",
    )
    pcap = parser.add_mutually_exclusive_group()
    pcap.add_argument(
        "--pcap",
        type=Path,
        default=DEFAULT_PCAP,
        metavar="FILE",
        help="pcap file for the frames B's interface receives (default: %(default)s)",
    )
    pcap.add_argument("--no-pcap", action="store_true", help="do not write a pcap file")
    parser.add_argument(
        "--quiet",
        "-q",
        action="store_true",
        help="no progress line (progress shows only on a terminal anyway)",
    )


class _Progress:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.last = 0.0

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if done < total and now - self.last < 0.1:
            return
        self.last = now
        pct = 100.0 * done / total
        bar = "#" * int(pct / 5)
        sys.stderr.write(f"\r  sending [{bar:<20}] {done}/{total} frames ({pct:5.1f}%)")
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()


def run(args: argparse.Namespace) -> int:
    """Run the demo; 0 when every counter agrees, 1 otherwise."""
    if not MIN_FRAME <= args.size <= 1514:
        print(f"ustack demo: --size must be in {MIN_FRAME}..1514, not {args.size}", file=sys.stderr)
        return 2
    faults = Faults(
        loss=args.loss,
        dup=args.dup,
        reorder=args.reorder,
        reorder_ns=args.reorder_delay,
        corrupt=args.corrupt,
        delay_ns=args.delay,
        jitter_ns=args.jitter,
        rate_bps=args.rate,
        seed=args.seed,
    )
    pcap_path: Path | None = None if args.no_pcap else args.pcap
    print(f"ustack demo: {args.frames} frames of {args.size} bytes A -> B, seed {args.seed}")
    print(
        f"  faults a->b: loss {args.loss:.2%} dup {args.dup:.2%} reorder {args.reorder:.2%} "
        f"corrupt {args.corrupt:.2%} delay {args.delay / 1e6:g} ms jitter {args.jitter / 1e6:g} ms "
        f"rate {format_rate(args.rate) if args.rate else 'unlimited'}"
    )
    wall0 = time.perf_counter()
    with PipeRig(seed=args.seed, a_to_b=faults) as rig:
        cap: Capture | None = None
        if pcap_path is not None:
            pcap_path.parent.mkdir(parents=True, exist_ok=True)
            cap = rig.ib.capture(pcap_path)
        t0 = rig.b.now
        progress = _Progress(sys.stderr.isatty() and not args.quiet)
        rig.send_numbered(args.frames, size=args.size, batch=args.batch, progress=progress)
        virtual_ns = rig.b.now - t0
        wall = time.perf_counter() - wall0
        pcap_count = 0
        if cap is not None:
            cap.close()
            pcap_count = cap.count
        summary = rig.receiver.summary(rig.sent)
        counters = rig.stats()
        print()
        print(
            counters_table(
                {"a->b": counters["pipe a->b"], "b->a": counters["pipe b->a"]},
                "pipe (per direction)",
            )
        )
        print()
        print(
            counters_table(
                {"A pa0": counters["if a:pa0"], "B pb0": counters["if b:pb0"]}, "interfaces"
            )
        )
        print()
        print(counters_table({"A": rig.a.stats, "B": rig.b.stats}, "stacks"))
        print()
        zone_rows: list[list[object]] = []
        for label, st in (("A", rig.a), ("B", rig.b)):
            for z in st.zone_stats():
                zone_rows.append(
                    [
                        label,
                        z["name"],
                        z["size"],
                        z["max"],
                        z["in_use"],
                        z["peak"],
                        z["allocs"],
                        z["frees"],
                        z["failures"],
                    ]
                )
        print(
            table(
                ["stack", "zone", "size", "max", "in_use", "peak", "allocs", "frees", "failures"],
                zone_rows,
                "memory zones",
            )
        )
        print()
        print(counters_table({"B": summary}, "what B received"))
        print()
        rate = rig.sent / wall if wall > 0 else 0.0
        print(
            f"virtual time {virtual_ns / 1e6:.3f} ms, wall time {wall:.3f} s "
            f"({rate:,.0f} frames/s through Python)"
        )
        if pcap_path is not None:
            print(f"pcap: {pcap_path} ({pcap_count} frames; tshark -r {pcap_path})")
        problems = _check(counters, summary, pcap_count if pcap_path is not None else None)
    for p in problems:
        print(f"ustack demo: counters disagree: {p} (seed {args.seed})", file=sys.stderr)
    return 1 if problems else 0


def _check(
    counters: dict[str, dict[str, int]], summary: dict[str, int], pcap_count: int | None
) -> list[str]:
    pipe = counters["pipe a->b"]
    problems = []
    if counters["if b:pb0"]["ipackets"] != pipe["delivered"]:
        problems.append(
            f"B ipackets {counters['if b:pb0']['ipackets']} != pipe delivered {pipe['delivered']}"
        )
    if summary["received"] != pipe["delivered"]:
        problems.append(
            f"B's hook saw {summary['received']} frames, pipe delivered {pipe['delivered']}"
        )
    if pipe["sent"] != summary["sent"]:
        problems.append(f"pipe sent {pipe['sent']} != frames queued {summary['sent']}")
    if pcap_count is not None and pcap_count != pipe["delivered"]:
        problems.append(f"pcap holds {pcap_count} frames, pipe delivered {pipe['delivered']}")
    return problems
