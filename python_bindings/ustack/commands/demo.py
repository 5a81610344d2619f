"""``ustack demo``: two stacks joined by a faulty pipe on a virtual clock.

By default a TCP transfer: stack A (198.18.0.1) sends ``--bytes`` (100 MB)
of seeded random data to stack B (198.18.0.2) over one TCP connection
through the pipe's fault injector (1% loss, 5 ms delay, 1 Gbit/s unless
told otherwise), with a progress bar; then the throughput (virtual and
wall-clock), the retransmissions from tcpstat, and the SHA-256 of what A
sent and B received, compared (exit 1 if they differ).

``--udp`` instead runs a UDP echo: stack A (198.18.0.1) sends datagrams of assorted
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
from ustack._util import format_rate, parse_duration_ns, parse_percent, parse_rate
from ustack.commands._common import add_sysctl_argument, apply_sysctls, human
from ustack.commands._table import counters_table, table
from ustack.netstat import ICMP_TYPES, describe
from ustack.pipe import Faults
from ustack.progress import Progress
from ustack.sim import ADDR_A, ADDR_B, MIN_FRAME, PipeRig
from ustack.sockets import Socket
from ustack.stack import Capture, Stack

NAME = "demo"
HELP = "two stacks joined by a faulty pipe on a virtual clock, with counters and a pcap"
DESCRIPTION = """\
Build two stacks, A (198.18.0.1/24) and B (198.18.0.2/24), joined by the
in-memory pipe driver on a virtual clock, with the faults below on both
directions (TCP defaults: --loss 1% --delay 5ms --rate 1gbit).  Percentages
are written 1%, 0.1% or 1/1000 (a bare number is percent); times 10ms,
500us or 1s (a bare number is ms); rates 1gbit, 100mbit or 10M.  --rtt 20ms
is --delay 10ms.

By default B listens on TCP port 5001 and A connects and sends --bytes of
random data generated from --seed (100M; suffixes K, M, G), with a progress
bar on a terminal; --cc picks A's congestion control (TCP_CONGESTION, one
of net.inet.tcp.cc.available).  Both sides close; then the demo prints the
nonzero tcpstat counters of both stacks, the throughput in virtual and in
wall-clock time, the retransmissions, the goodput (application bytes over
virtual time) with the congestion control's name, A's TCP_INFO at the end,
and the SHA-256 of what A sent and what B received.  It exits 1 if they
differ.  --plot FILE.png samples A's cwnd, ssthresh and smoothed RTT at
most every 5 ms of virtual time and draws them (matplotlib: pip install 'ustack[plot]').

With --udp (or --datagrams N) B runs a UDP echo server on port 7; A sends --datagrams
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
  python -m ustack demo --bytes 1G --loss 5 --reorder 1 --seed 7
  python -m ustack demo --cc cubic --loss 1% --rtt 20ms --rate 1gbit --plot cwnd.png
  python -m ustack demo --cc newreno --loss 0.1% --rtt 20ms --bytes 20M
  python -m ustack demo --udp --datagrams 1000 --loss 5 --corrupt 1 --seed 7
  python -m ustack demo --delay 20ms --rate 100mbit --reorder 1 --pcap /tmp/x.pcap
  python -m ustack demo --frames 100000 --loss 10"""

DEFAULT_PCAP = Path(tempfile.gettempdir()) / "ustack-demo.pcap"
_SAMPLE_NS = 5_000_000  # --plot: virtual time between two TCP_INFO samples


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
        return parse_duration_ns(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _size(text: str) -> int:
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    t = text.strip().upper().removesuffix("B")
    mult = 1
    if t and t[-1] in units:
        mult = units[t[-1]]
        t = t[:-1]
    try:
        value = int(float(t) * mult)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a size like 2M or 1G: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"a size must be > 0, not {text!r}")
    return value


def _positive(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, not {text!r}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The demo's options."""
    parser.add_argument(
        "--bytes",
        type=_size,
        default=100 * 1024 * 1024,
        metavar="SIZE",
        help="TCP mode: bytes A sends to B, with suffixes K, M, G: 2M, 1G (default: 100M)",
    )
    parser.add_argument(
        "--udp",
        action="store_true",
        help="UDP echo mode instead of the TCP transfer",
    )
    parser.add_argument(
        "--datagrams",
        type=_positive,
        default=None,
        metavar="N",
        help="UDP datagrams A sends to B's echo server (implies --udp; default: 200)",
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
        default=None,
        metavar="PCT",
        help="share of frames the pipe loses each way: 1%%, 0.1%%, a fraction 1/1000, or a "
        "bare number of percent as before (10 = 10%%) (default: TCP 1%%, else 0)",
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
        metavar="TIME",
        help="how long a reordered frame is held back: 2ms, 500us, or a bare number of ms "
        "(default: the driver's, 1 ms)",
    )
    parser.add_argument(
        "--corrupt",
        type=_percent,
        default=0.0,
        metavar="PCT",
        help="percent of frames with one random bit flipped (default: 0)",
    )
    delay = parser.add_mutually_exclusive_group()
    delay.add_argument(
        "--delay",
        type=_ms,
        default=None,
        metavar="TIME",
        help="one-way delay of the pipe, each direction: 10ms, 500us, 1s, or a bare number "
        "of ms as before (default: TCP 5ms, else 0)",
    )
    delay.add_argument(
        "--rtt",
        type=_ms,
        default=None,
        metavar="TIME",
        help="round-trip time instead of --delay: 20ms means 10ms of delay each way",
    )
    parser.add_argument(
        "--jitter",
        type=_ms,
        default=0,
        metavar="TIME",
        help="extra delay uniform in [0, TIME] (2ms, 500us, bare ms), order kept (default: 0)",
    )
    parser.add_argument(
        "--rate",
        type=_rate,
        default=None,
        metavar="RATE",
        help="link rate each way in bit/s, as tc writes it: 1gbit, 100mbit, 56kbit, or "
        "10M, 1G; 0 means unlimited (default: TCP 1gbit, else 0)",
    )
    parser.add_argument(
        "--cc",
        default=None,
        metavar="NAME",
        help="TCP mode: congestion control of A's (the sender's) socket, set with "
        "TCP_CONGESTION: a name from net.inet.tcp.cc.available (newreno, cubic) "
        "(default: net.inet.tcp.cc.algorithm, cubic)",
    )
    parser.add_argument(
        "--plot",
        type=Path,
        default=None,
        metavar="FILE.png",
        help="TCP mode: sample A's TCP_INFO (cwnd, ssthresh, smoothed RTT) at most every "
        f"{_SAMPLE_NS // 1_000_000} ms of virtual time and write a PNG of cwnd over time "
        "(needs matplotlib: pip install 'ustack[plot]')",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=1,
        help="seed of the stacks and of the pipe's fault injector; the same "
        "seed replays the same run (default: %(default)s)",
    )
    add_sysctl_argument(parser, "both stacks")
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


def _fault_defaults(args: argparse.Namespace, tcp: bool) -> None:
    """Fill the fault options left unset: the TCP demo's are a realistic
    link (1% loss, 5 ms, 1 Gbit/s); the UDP and raw modes' a perfect one."""
    if args.loss is None:
        args.loss = 0.01 if tcp else 0.0
    if args.delay is None:
        args.delay = 5_000_000 if tcp else 0
    if args.rate is None:
        args.rate = 1_000_000_000 if tcp else 0


def run(args: argparse.Namespace) -> int:
    """Run the demo; 0 when every check passes, 1 otherwise, 2 for bad options."""
    if args.rtt is not None:
        args.delay = args.rtt // 2
    tcp = args.frames is None and not args.udp and args.datagrams is None
    for opt in ("cc", "plot"):
        if not tcp and getattr(args, opt) is not None:
            print(f"ustack demo: --{opt} is for the TCP transfer only", file=sys.stderr)
            return 2
    if args.frames is not None:
        _fault_defaults(args, False)
        return _run_frames(args)
    if args.udp or args.datagrams is not None:
        _fault_defaults(args, False)
        if args.datagrams is None:
            args.datagrams = 200
        return _run_udp(args)
    _fault_defaults(args, True)
    return _run_tcp(args)


# --- TCP transfer -----------------------------------------------------------------

TCP_PORT = 5001
_CHUNK = 1 << 20  # bytes handed to the stack per call: the C side does the work


def _tcp_rows(stacks: dict[str, Stack]) -> list[list[object]]:
    stats = {label: st.netstat("tcp")["tcp"] for label, st in stacks.items()}
    names = list(next(iter(stats.values())))
    return [
        ["tcp", describe("tcp", name), *(s[name] for s in stats.values())]
        for name in names
        if any(s[name] for s in stats.values()) and not isinstance(stats["A"][name], dict)
    ]


def _check_cc(st: Stack, name: str) -> str | None:
    """An error message when ``name`` is not in net.inet.tcp.cc.available."""
    available = [n.strip() for n in str(st.sysctl("net.inet.tcp.cc.available")).split(",")]
    if name in available:
        return None
    return (
        f"ustack demo: --cc {name}: no such congestion control "
        f"(net.inet.tcp.cc.available: {', '.join(available)})"
    )


class _Sampler:
    """--plot: A's TCP_INFO at most every _SAMPLE_NS of virtual time (the
    clock jumps over idle stretches, in which nothing changes)."""

    def __init__(self, sock: Socket, t0: int) -> None:
        self.sock, self.t0 = sock, t0
        self.next = t0
        self.t: list[float] = []  # seconds since connect
        self.cwnd: list[int] = []  # bytes
        self.ssthresh: list[int] = []
        self.srtt: list[float] = []  # ms

    def due(self, now: int) -> bool:
        return now >= self.next

    def sample(self, now: int, force: bool = False) -> None:
        if now < self.next and not force:
            return
        info = self.sock.getsockopt(ustack.IPPROTO_TCP, ustack.TCP_INFO)
        self.t.append((now - self.t0) / 1e9)
        self.cwnd.append(info.tcpi_snd_cwnd)
        self.ssthresh.append(info.tcpi_snd_ssthresh)
        self.srtt.append(info.tcpi_rtt / 1000)
        # The next grid point after now (the clock may have jumped several).
        self.next = now - (now - self.t0) % _SAMPLE_NS + _SAMPLE_NS


def _write_plot(path: Path, smp: _Sampler, title: str) -> None:
    """cwnd and ssthresh over time, and the smoothed RTT below, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (top, bottom) = plt.subplots(
        2, 1, sharex=True, figsize=(10, 6), gridspec_kw={"height_ratios": [3, 1]}
    )
    kib = [c / 1024 for c in smp.cwnd]
    top.plot(smp.t, kib, label="cwnd", linewidth=0.8)
    # ssthresh starts "infinite" (until the first loss): leave that out.
    cap = 4 * max(smp.cwnd, default=1)
    top.plot(
        smp.t,
        [x / 1024 if x <= cap else float("nan") for x in smp.ssthresh],
        label="ssthresh",
        linewidth=0.8,
        linestyle="--",
    )
    top.set_ylabel("KiB")
    top.set_title(title, fontsize=9)
    top.legend(loc="upper right")
    top.grid(alpha=0.3)
    bottom.plot(smp.t, smp.srtt, color="tab:green", linewidth=0.8)
    bottom.set_ylabel("srtt (ms)")
    bottom.set_xlabel("virtual time (s)")
    bottom.grid(alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", dpi=100)
    plt.close(fig)


def _info_summary(info: ustack.TCPInfo) -> str:
    opts = [
        name
        for flag, name in (
            (ustack.TCPI_OPT_SACK, "sack"),
            (ustack.TCPI_OPT_TIMESTAMPS, "timestamps"),
            (ustack.TCPI_OPT_WSCALE, "wscale"),
        )
        if info.tcpi_options & flag
    ]
    return (
        f"TCP_INFO (A, at the end): {info.state_name} cwnd {info.tcpi_snd_cwnd} "
        f"ssthresh {info.tcpi_snd_ssthresh} mss {info.tcpi_snd_mss} "
        f"srtt {info.tcpi_rtt / 1000:.2f} ms rttvar {info.tcpi_rttvar / 1000:.2f} ms "
        f"rto {info.tcpi_rto / 1000:.0f} ms snd_wnd {info.tcpi_snd_wnd} "
        f"rexmit {info.tcpi_snd_rexmitpack} segments / {info.tcpi_snd_rexmitbyte} bytes "
        f"delivery {format_rate(info.tcpi_delivery_rate * 8)} "
        f"options {','.join(opts) or 'none'} wscale {info.tcpi_snd_wscale}/{info.tcpi_rcv_wscale}"
    )


def _run_tcp(args: argparse.Namespace) -> int:
    """A -> B over TCP, byte-exact by SHA-256; 0 when the hashes agree."""
    import hashlib

    if args.plot is not None:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            print(
                "ustack demo: --plot needs matplotlib: pip install 'ustack[plot]'",
                file=sys.stderr,
            )
            return 2
    total = args.bytes
    print(
        f"ustack demo: TCP transfer of {human(total)} {ADDR_A} -> {ADDR_B}:{TCP_PORT}, "
        f"seed {args.seed}"
    )
    print(
        f"  faults both ways: loss {args.loss:.2%} dup {args.dup:.2%} reorder {args.reorder:.2%} "
        f"corrupt {args.corrupt:.2%} delay {args.delay / 1e6:g} ms jitter {args.jitter / 1e6:g} ms "
        f"rate {format_rate(args.rate) if args.rate else 'unlimited'}"
    )
    pcap_path: Path | None = None if args.no_pcap else args.pcap
    rnd = random.Random(args.seed)
    sent_hash, recv_hash = hashlib.sha256(), hashlib.sha256()
    rbuf = bytearray(_CHUNK)
    rview = memoryview(rbuf)
    wall0 = time.perf_counter()
    with PipeRig(
        seed=args.seed,
        a_to_b=_faults(args, args.seed),
        b_to_a=_faults(args, args.seed + 1),
        addresses=True,
        ring_size=4096,
    ) as rig:
        if args.cc is not None and (err := _check_cc(rig.a, args.cc)) is not None:
            print(err, file=sys.stderr)
            return 2
        cap: Capture | None = None
        if pcap_path is not None:
            pcap_path.parent.mkdir(parents=True, exist_ok=True)
            cap = rig.ib.capture(pcap_path)
        for st in rig.stacks:
            st.sysctl("net.inet.tcp.sendspace", 1 << 18)
            st.sysctl("net.inet.tcp.recvspace", 1 << 17)
        apply_sysctls(rig.stacks, args.sysctl, "demo")
        listener = rig.b.socket(ustack.AF_INET, ustack.SOCK_STREAM)
        listener.bind(("", TCP_PORT))
        listener.listen(1)
        client = rig.a.socket(ustack.AF_INET, ustack.SOCK_STREAM)
        if args.cc is not None:
            client.setsockopt(ustack.IPPROTO_TCP, ustack.TCP_CONGESTION, args.cc)
        cc_name = client.getsockopt(ustack.IPPROTO_TCP, ustack.TCP_CONGESTION)
        client.settimeout(60.0)
        t0 = rig.a.now
        sampler = _Sampler(client, t0) if args.plot is not None else None
        client.connect((ADDR_B, TCP_PORT))
        client.setblocking(False)
        listener.settimeout(60.0)
        server, _peer = listener.accept()
        server.setblocking(False)
        listener.close()
        evq_a, evq_b = ustack.EventQueue(rig.a), ustack.EventQueue(rig.b)
        evq_a.register(client, ustack.EV_OUT)
        evq_b.register(server, ustack.EV_IN)

        def can_move() -> bool:
            if sampler is not None and sampler.due(rig.a.now):
                return True
            return bool(evq_a.ready() or evq_b.ready())

        progress = Progress("A -> B", total, unit="bytes", quiet=args.quiet, log=sys.stdout)
        pending = memoryview(b"")
        generated = received = 0
        shut = eof = False
        stalls = 0
        while not eof:
            moved = False
            if sampler is not None:
                sampler.sample(rig.a.now)
            # A: keep the send buffer full, a megabyte at a time.
            while not shut:
                if not pending:
                    if generated == total:
                        client.shutdown(ustack.SHUT_WR)
                        shut = True
                        break
                    chunk = rnd.randbytes(min(_CHUNK, total - generated))
                    generated += len(chunk)
                    sent_hash.update(chunk)
                    pending = memoryview(chunk)
                try:
                    n = client.send(pending)
                except BlockingIOError:
                    break
                pending = pending[n:]
                moved = True
            # B: drain what arrived.
            while True:
                try:
                    n = server.recv_into(rview)
                except BlockingIOError:
                    break
                moved = True
                if n == 0:
                    eof = True
                    break
                recv_hash.update(rview[:n])
                received += n
            progress(received, f"virtual {(rig.a.now - t0) / 1e9:.2f} s")
            if eof:
                break
            if shut and client in evq_a:
                evq_a.unregister(client)
            # Run both stacks (the virtual clock jumps from deadline to
            # deadline) until A can write or B can read again.
            if not moved and not rig.run(until=can_move, timeout_ns=60_000_000_000):
                stalls += 1
                if stalls > 3:
                    progress.finish()
                    print(
                        f"ustack demo: the transfer stalled after {received} bytes "
                        f"(seed {args.seed})",
                        file=sys.stderr,
                    )
                    return 1
            else:
                stalls = 0
        progress.finish()
        virtual_ns = rig.a.now - t0
        wall = time.perf_counter() - wall0
        info = client.getsockopt(ustack.IPPROTO_TCP, ustack.TCP_INFO)
        if sampler is not None:
            sampler.sample(rig.a.now, force=True)
        evq_a.close()
        evq_b.close()
        server.close()
        try:
            while client.recv(65536):
                pass
        except BlockingIOError:
            pass
        client.close()
        rig.run()  # FINs, ACKs and TIME_WAIT run out (virtual time)
        pcap_count = 0
        if cap is not None:
            cap.close()
            pcap_count = cap.count
        print()
        print(
            table(
                ["proto", "counter", "A", "B"],
                _tcp_rows({"A": rig.a, "B": rig.b}),
                "tcpstat (nonzero counters)",
            )
        )
        print()
        print(
            counters_table(
                {"a->b": rig.pipe.stats("a_to_b"), "b->a": rig.pipe.stats("b_to_a")},
                "pipe (per direction)",
            )
        )
        tcp_a = rig.a.netstat("tcp")["tcp"]
    print()
    vs = virtual_ns / 1e9
    print(
        f"transferred {received} bytes ({human(received)}) in {vs:.3f} s virtual time: "
        f"{format_rate(received * 8 / vs) if vs > 0 else 'n/a'}"
    )
    print(
        f"wall time {wall:.3f} s: {format_rate(received * 8 / wall) if wall > 0 else 'n/a'} "
        f"({human(received / wall if wall > 0 else 0)}/s through the C stack)"
    )
    print(
        f"retransmissions (A): {tcp_a['tcps_sndrexmitpack']} segments, "
        f"{tcp_a['tcps_sndrexmitbyte']} bytes; fast retransmits {tcp_a['tcps_fastretransmits']}, "
        f"timeouts {tcp_a['tcps_rexmttimeo']}"
    )
    print(
        f"goodput {received * 8 / vs / 1e6 if vs > 0 else 0.0:.2f} Mbit/s (application bytes "
        f"over virtual time), cc {cc_name}, retransmitted {tcp_a['tcps_sndrexmitbyte']} bytes"
    )
    print(_info_summary(info))
    if sampler is not None:
        rtt_ms = 2 * args.delay / 1e6
        title = (
            f"ustack demo: {cc_name}, loss {args.loss:.2%}, RTT {rtt_ms:g} ms, "
            f"rate {format_rate(args.rate) if args.rate else 'unlimited'}, seed {args.seed}: "
            f"{human(received)} at {received * 8 / vs / 1e6 if vs > 0 else 0.0:.1f} Mbit/s"
        )
        _write_plot(args.plot, sampler, title)
        print(f"plot: {args.plot} (cwnd, ssthresh and srtt of A, {len(sampler.t)} samples)")
    if pcap_path is not None:
        print(f"pcap: {pcap_path} ({pcap_count} frames at B; tshark -r {pcap_path})")
    a_hex, b_hex = sent_hash.hexdigest(), recv_hash.hexdigest()
    print(f"SHA-256 sent by A:     {a_hex}")
    print(f"SHA-256 received by B: {b_hex}")
    if a_hex != b_hex or received != total:
        print(
            f"ustack demo: MISMATCH: B received {received} of {total} bytes and the hashes "
            f"differ (seed {args.seed})",
            file=sys.stderr,
        )
        return 1
    print("match: B received exactly what A sent")
    return 0


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
        apply_sysctls(rig.stacks, args.sysctl, "demo")
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
        progress = Progress("sending", len(sizes), unit="datagrams", quiet=args.quiet)
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
            progress(seq + 1)
        progress.finish()
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
        with Progress("sending", args.frames, unit="frames", quiet=args.quiet) as bar:
            rig.send_numbered(
                args.frames, size=args.size, batch=args.batch, progress=lambda d, t: bar(d)
            )
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
