"""``ustack demo``: two stacks joined by a faulty pipe on a virtual clock.

By default a UDP echo: stack A (198.18.0.1) sends datagrams of assorted
sizes, some larger than the MTU so that they are fragmented and reassembled,
to an echo server on stack B (198.18.0.2) through the pipe's fault injector;
every echo is checked byte for byte, lost ones are sent again.  Then the
netstat -s counters of both stacks.  ``--frames N`` instead sends raw
numbered Ethernet frames (ethertype 0x88B5) from A to B, as before the
protocol layers existed.
"""

from __future__ import annotations

import argparse
import random
import struct
import sys
import tempfile
import time
from pathlib import Path

import ustack
from ustack._util import format_rate, parse_percent, parse_rate
from ustack.commands._table import counters_table, table
from ustack.netstat import ICMP_TYPES, describe
from ustack.pipe import Faults
from ustack.sim import ADDR_A, ADDR_B, MIN_FRAME, PipeRig
from ustack.sockets import Socket
from ustack.stack import Capture, Stack

NAME = "demo"
HELP = "two stacks joined by a faulty pipe on a virtual clock, with counters and a pcap"
DESCRIPTION = """\
Build two stacks, A (198.18.0.1/24) and B (198.18.0.2/24), joined by the
in-memory pipe driver on a virtual clock, with the faults below on both
directions.  B runs a UDP echo server on port 7; A sends --datagrams
datagrams of random sizes up to --max-size bytes (about one in four larger
than the MTU, so IP fragments and reassembles them), waits for each echo,
checks it byte for byte, and sends a datagram again when its echo does not
come back in time.  Then it prints what was echoed, lost and retransmitted,
the netstat -s counters of both stacks side by side (nonzero ones: drops by
reason show where each lost packet went), the pipe counters, and the pcap
file B's interface wrote (open it with tshark -r or Wireshark).

With --frames N the demo sends N raw numbered Ethernet frames (ethertype
0x88B5, local experimental) from A to B instead, faults on A -> B only, and
prints the pipe, interface, stack and zone counters.

Time is virtual: delays and rate limits cost no wall-clock time, and the
same --seed replays exactly the same losses, duplicates and reorderings.

examples:
  python -m ustack demo
  python -m ustack demo --datagrams 1000 --loss 5 --corrupt 1 --seed 7
  python -m ustack demo --delay 20 --rate 100mbit --reorder 1 --pcap /tmp/x.pcap
  python -m ustack demo --frames 100000 --loss 10"""

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
        "--datagrams",
        type=_positive,
        default=200,
        metavar="N",
        help="UDP datagrams A sends to B's echo server (default: %(default)s)",
    )
    parser.add_argument(
        "--max-size",
        type=int,
        default=4000,
        metavar="BYTES",
        help="largest datagram payload, 8..65507; larger than 1472 means fragments "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--retries",
        type=int,
        default=5,
        metavar="N",
        help="times a datagram is sent again when its echo does not come back (default: 5)",
    )
    parser.add_argument(
        "--frames",
        type=_positive,
        default=None,
        metavar="N",
        help="raw mode: send N numbered Ethernet frames A -> B instead of the UDP echo",
    )
    parser.add_argument(
        "--size",
        type=int,
        default=128,
        metavar="BYTES",
        help=f"raw mode: frame size in bytes without FCS, {MIN_FRAME}..1514 (default: %(default)s)",
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
        help="raw mode: frames queued before both stacks run until idle (default: %(default)s)",
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
    def __init__(self, enabled: bool, unit: str = "frames") -> None:
        self.enabled = enabled
        self.unit = unit
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
        sys.stderr.write(f"\r  sending [{bar:<20}] {done}/{total} {self.unit} ({pct:5.1f}%)")
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()


def _faults(args: argparse.Namespace, seed: int) -> Faults:
    return Faults(
        loss=args.loss,
        dup=args.dup,
        reorder=args.reorder,
        reorder_ns=args.reorder_delay,
        corrupt=args.corrupt,
        delay_ns=args.delay,
        jitter_ns=args.jitter,
        rate_bps=args.rate,
        seed=seed,
    )


def run(args: argparse.Namespace) -> int:
    """Run the demo; 0 when every check passes, 1 otherwise."""
    if args.frames is not None:
        return _run_frames(args)
    return _run_udp(args)


# --- UDP echo ------------------------------------------------------------------

ECHO_PORT = 7
_HDR = struct.Struct("!II")  # sequence number, size


def _payload(seed: int, seq: int, size: int) -> bytes:
    rnd = random.Random((seed << 32) ^ seq)
    return _HDR.pack(seq, size) + rnd.randbytes(size - _HDR.size)


def _echo(sock: Socket, events: int) -> None:
    """B's echo server: an upcall that answers everything readable."""
    while True:
        try:
            data, peer = sock.recvfrom(65536)
        except BlockingIOError:
            return
        try:
            sock.sendto(data, peer)
        except OSError:
            pass  # no buffer or no route: the client sends again


def _netstat_rows(stacks: dict[str, Stack]) -> list[list[object]]:
    stats = {label: st.netstat() for label, st in stacks.items()}
    rows: list[list[object]] = []
    first = next(iter(stats.values()))
    for proto, counters in first.items():
        for name, value in counters.items():
            if isinstance(value, dict):
                keys = sorted({k for s in stats.values() for k in s[proto][name]})
                for k in keys:
                    kind = ICMP_TYPES.get(k, f"type {k}") if proto == "icmp" else str(k)
                    label = f"{describe(proto, name).rstrip(':').lower()}: {kind}"
                    rows.append([proto, label, *(s[proto][name].get(k, 0) for s in stats.values())])
                continue
            values = [s[proto][name] for s in stats.values()]
            if any(values):
                rows.append([proto, describe(proto, name), *values])
    return rows


def _run_udp(args: argparse.Namespace) -> int:
    if not _HDR.size <= args.max_size <= 65507:
        print(f"ustack demo: --max-size must be in 8..65507, not {args.max_size}", file=sys.stderr)
        return 2
    if args.retries < 0:
        print("ustack demo: --retries must be >= 0", file=sys.stderr)
        return 2
    pcap_path: Path | None = None if args.no_pcap else args.pcap
    print(
        f"ustack demo: UDP echo of {args.datagrams} datagrams (up to {args.max_size} bytes) "
        f"{ADDR_A} -> {ADDR_B}:{ECHO_PORT}, seed {args.seed}"
    )
    print(
        f"  faults both ways: loss {args.loss:.2%} dup {args.dup:.2%} reorder {args.reorder:.2%} "
        f"corrupt {args.corrupt:.2%} delay {args.delay / 1e6:g} ms jitter {args.jitter / 1e6:g} ms "
        f"rate {format_rate(args.rate) if args.rate else 'unlimited'}"
    )
    rnd = random.Random(args.seed)
    mtu_payload = 1500 - 20 - 8
    sizes = [
        rnd.randint(mtu_payload + 1, args.max_size)
        if args.max_size > mtu_payload and rnd.random() < 0.25
        else rnd.randint(_HDR.size, min(args.max_size, mtu_payload))
        for _ in range(args.datagrams)
    ]
    # Long enough for the round trip through delay, jitter, reordering and the rate.
    rto = 0.2 + 4 * (args.delay + args.jitter + args.reorder_delay) / 1e9
    if args.rate:
        rto += 4 * 8 * (args.max_size + 60) / args.rate
    wall0 = time.perf_counter()
    result = {"sent": 0, "echoed": 0, "retransmitted": 0, "lost": 0, "stale": 0, "damaged": 0}
    with PipeRig(
        seed=args.seed,
        a_to_b=_faults(args, args.seed),
        b_to_a=_faults(args, args.seed + 1),
        addresses=True,
    ) as rig:
        cap: Capture | None = None
        if pcap_path is not None:
            pcap_path.parent.mkdir(parents=True, exist_ok=True)
            cap = rig.ib.capture(pcap_path)
        server = rig.b.socket(ustack.AF_INET, ustack.SOCK_DGRAM)
        server.bind(("", ECHO_PORT))
        server.setsockopt(ustack.SOL_SOCKET, ustack.SO_SNDBUF, 65535)
        server.setsockopt(ustack.SOL_SOCKET, ustack.SO_RCVBUF, 1 << 20)
        server.setblocking(False)
        server.set_upcall(_echo)
        client = rig.a.socket(ustack.AF_INET, ustack.SOCK_DGRAM)
        client.setsockopt(ustack.SOL_SOCKET, ustack.SO_SNDBUF, 65535)
        client.setsockopt(ustack.SOL_SOCKET, ustack.SO_RCVBUF, 1 << 20)
        client.connect((ADDR_B, ECHO_PORT))
        client.settimeout(rto)
        t0 = rig.a.now
        progress = _Progress(sys.stderr.isatty() and not args.quiet, "datagrams")
        for seq, size in enumerate(sizes):
            data = _payload(args.seed, seq, size)
            ok = False
            for attempt in range(args.retries + 1):
                result["sent"] += 1
                if attempt:
                    result["retransmitted"] += 1
                try:
                    client.send(data)
                except OSError:
                    continue  # ENOBUFS and the like: like a loss
                ok = _await_echo(client, seq, data, result)
                if ok:
                    break
            result["echoed" if ok else "lost"] += 1
            progress(seq + 1, len(sizes))
        virtual_ns = rig.a.now - t0
        rig.run(timeout_ns=10 * 1_000_000_000)  # late echoes and duplicates settle
        wall = time.perf_counter() - wall0
        pcap_count = 0
        if cap is not None:
            cap.close()
            pcap_count = cap.count
        print()
        print(counters_table({"A": result}, "UDP echo (every echo checked byte for byte)"))
        print()
        rows = _netstat_rows({"A": rig.a, "B": rig.b})
        print(table(["proto", "counter", "A", "B"], rows, "netstat -s (nonzero counters)"))
        print()
        print(
            counters_table(
                {"a->b": rig.pipe.stats("a_to_b"), "b->a": rig.pipe.stats("b_to_a")},
                "pipe (per direction)",
            )
        )
        print()
        print(
            f"virtual time {virtual_ns / 1e6:.3f} ms, wall time {wall:.3f} s "
            f"({result['sent'] / wall if wall > 0 else 0.0:,.0f} datagrams/s through Python)"
        )
        if pcap_path is not None:
            print(f"pcap: {pcap_path} ({pcap_count} frames at B; tshark -r {pcap_path})")
    problems: list[str] = []
    if result["damaged"]:
        problems.append(f"{result['damaged']} echoes differed from what was sent")
    perfect = not (args.loss or args.corrupt or args.rate or args.reorder)
    if perfect and result["lost"]:
        problems.append(f"{result['lost']} datagrams lost on a pipe that loses nothing")
    for p in problems:
        print(f"ustack demo: {p} (seed {args.seed})", file=sys.stderr)
    return 1 if problems else 0


def _await_echo(client: Socket, seq: int, data: bytes, result: dict[str, int]) -> bool:
    """Wait for the echo of ``seq``; older echoes (of retransmissions) are stale."""
    while True:
        try:
            echo = client.recv(65536)
        except TimeoutError:
            return False
        except ConnectionRefusedError:
            return False
        if len(echo) >= _HDR.size and _HDR.unpack_from(echo)[0] != seq:
            result["stale"] += 1
            continue
        if echo != data:
            result["damaged"] += 1
            return False
        return True


# --- raw frames ------------------------------------------------------------------


def _run_frames(args: argparse.Namespace) -> int:
    """Numbered frames A -> B; 0 when every counter agrees, 1 otherwise."""
    if not MIN_FRAME <= args.size <= 1514:
        print(f"ustack demo: --size must be in {MIN_FRAME}..1514, not {args.size}", file=sys.stderr)
        return 2
    faults = _faults(args, args.seed)
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
