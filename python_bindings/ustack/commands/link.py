"""``ustack link``: a user-space netem between two Ethernet ports.

The frames are moved by ``ustack-link`` (tools/link/ustack_link.c, built by
CMake into ``<build>/tools/``), a C loop around the fault driver's seeded
injector (drivers/fault/fault.h), one injector per direction, each with its
own PRNG.  This module parses netem-style units, checks them, makes the
namespaces it is asked to make, runs the program, and prints its counters.
:class:`LinkProcess` is the same from Python (tests, bench/b_loss.py).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

NAME = "link"
HELP = "bridge two ports (TAP or AF_PACKET) through a seeded faulty link: a user-space netem"
DESCRIPTION = """\
Bridge two Ethernet ports through ustack's seeded fault injector, one
injector per direction: loss, duplication, reordering, corruption, delay
with order-keeping jitter, a serialising rate limit, an MTU and a bounded
queue, as tc netem does (this machine has no netem).  Two Linux namespaces,
or Linux and ustack, then talk over a reproducible faulty link.

A PORT is
  tap:NAME[@NETNS]  a TAP device, created (when it does not exist) in the
                    network namespace NETNS (a name in /run/netns or a
                    path), set up with a 10000-frame queue; removed when
                    the link stops unless it existed before.  The kernel
                    of NETNS sees frames from the other port arrive on it.
  dev:NAME[@NETNS]  an existing interface, frames taken and given with an
                    AF_PACKET socket: e.g. one end of a veth pair (turn its
                    peer's offloads off: ethtool -K PEER tx off tso off gso
                    off, or the frames carry partial checksums and can
                    exceed the MTU) or the kernel side of a TAP that a
                    ustack process owns.
Frames from A go to B through injector a2b (PRNG seeded with --seed),
frames from B to A through b2a (--seed + 1).  With --netns, namespaces named
in the ports that do not exist are made (IPv6 off, lo up) and removed at
exit; --addr-a/--addr-b put an IPv4 address (198.18.0.0/15) on a TAP port's
kernel side.  Counters per direction (forwarded, lost, dropped by the queue,
the MTU or --drop-byte, duplicated, reordered, corrupted, delayed) are
printed at exit (Ctrl-C, SIGTERM, --duration) and every second with
--progress; --json prints them as JSON lines instead.

Determinism: the n-th frame of a direction meets the same fate for the same
seed and options whatever the timing, so the same frames in the same order
(e.g. ping with static neighbours and IPv6 off) give the same drop pattern.
--drop-byte N drops, once per TCP connection (known from its SYN) and
direction, the first frame whose payload carries stream byte N (1 = the
first byte after the SYN): with N the size of a transfer, its last data
segment, the tail-loss experiment.  It does not shift the seeded draws.

Units as netem's: loss/duplicate/reorder/corrupt in % (1%, 0.1) ; delay,
jitter in s, ms, us or ns (default ms); rate in bit, kbit, mbit, gbit (or
bps, kbps, mbps, gbps: bytes per second).  Root only.

examples:
  ustack link --netns --addr-a 198.18.0.1/24 --addr-b 198.18.0.2/24 \\
      --loss 1% --delay 10ms --rate 1gbit --seed 7 tap:la@nsa tap:lb@nsb
  ustack link --delay 5ms --progress dev:ust0@nsu tap:lr0@nsr
  ustack link --drop-byte 10240 --delay 10ms tap:la@nsa tap:lb@nsb"""

# Where the program is looked for (in order): $USTACK_LINK, build trees of
# the source checkout, PATH.
_ROOT = Path(__file__).resolve().parents[3]
_BUILD_DIRS = ("build", "build-release", "build-asan")


def find_program() -> Path | None:
    """The ustack-link executable, or None when it is not built."""
    env = os.environ.get("USTACK_LINK")
    if env:
        return Path(env)
    for d in _BUILD_DIRS:
        p = _ROOT / d / "tools" / "ustack-link"
        if p.exists():
            return p
    found = shutil.which("ustack-link")
    return Path(found) if found else None


_NUM = r"([0-9]*\.?[0-9]+(?:e[+-]?[0-9]+)?)"


def parse_percent(text: str) -> int:
    """'1%', '0.1%', '1' (percent) -> parts per million."""
    m = re.fullmatch(_NUM + r"\s*%?", text.strip())
    if not m:
        raise ValueError(f"not a percentage: {text!r}")
    v = float(m.group(1))
    if not 0 <= v <= 100:
        raise ValueError(f"percentage out of 0..100: {text!r}")
    return round(v * 10_000)


_TIME = {"": 1_000_000, "s": 1_000_000_000, "sec": 1_000_000_000, "ms": 1_000_000,
         "msec": 1_000_000, "us": 1_000, "usec": 1_000, "ns": 1}  # fmt: skip


def parse_time(text: str) -> int:
    """'10ms', '500us', '1s', '10' (ms, as netem) -> nanoseconds."""
    m = re.fullmatch(_NUM + r"\s*([a-z]*)", text.strip().lower())
    if not m or m.group(2) not in _TIME:
        raise ValueError(f"not a time (s, ms, us, ns): {text!r}")
    return round(float(m.group(1)) * _TIME[m.group(2)])


_RATE = {"bit": 1, "kbit": 10**3, "mbit": 10**6, "gbit": 10**9, "tbit": 10**12,
         "bps": 8, "kbps": 8 * 10**3, "mbps": 8 * 10**6, "gbps": 8 * 10**9}  # fmt: skip


def parse_rate(text: str) -> int:
    """'1gbit', '100mbit', '10kbps' (as tc: bps = bytes/s) -> bits per second."""
    m = re.fullmatch(_NUM + r"\s*([a-z]+)", text.strip().lower())
    if not m or m.group(2) not in _RATE:
        raise ValueError(f"not a rate (bit, kbit, mbit, gbit, or bps ...): {text!r}")
    v = round(float(m.group(1)) * _RATE[m.group(2)])
    if v <= 0:
        raise ValueError(f"rate must be positive: {text!r}")
    return v


_PORT = re.compile(r"(tap|dev):([A-Za-z0-9_.-]{1,15})(?:@([A-Za-z0-9_.:/-]+))?")


def parse_port(text: str) -> tuple[str, str, str | None]:
    """'tap:NAME@NETNS' -> ('tap', NAME, NETNS or None)."""
    m = _PORT.fullmatch(text)
    if not m:
        raise ValueError(f"not a port (tap:NAME[@NETNS] or dev:NAME[@NETNS]): {text!r}")
    return m.group(1), m.group(2), m.group(3)


def fault_argv(
    *,
    loss_ppm: int = 0,
    duplicate_ppm: int = 0,
    reorder_ppm: int = 0,
    corrupt_ppm: int = 0,
    delay_ns: int = 0,
    jitter_ns: int = 0,
    reorder_ns: int = 0,
    rate_bps: int = 0,
    mtu: int = 0,
    limit: int = 1000,
    seed: int = 1,
    drop_byte: int = 0,
) -> list[str]:
    """The program's options (base units) for a configuration."""
    return [
        "--loss-ppm", str(loss_ppm), "--dup-ppm", str(duplicate_ppm),
        "--reorder-ppm", str(reorder_ppm), "--corrupt-ppm", str(corrupt_ppm),
        "--delay-ns", str(delay_ns), "--jitter-ns", str(jitter_ns),
        "--reorder-ns", str(reorder_ns), "--rate-bps", str(rate_bps), "--mtu", str(mtu),
        "--limit", str(limit), "--seed", str(seed), "--drop-byte", str(drop_byte),
    ]  # fmt: skip


def predict_losses(n: int, **fault: Any) -> dict[str, list[int]]:
    """Which of the first n frames of each direction the seeded injector
    loses (indices from 0), whatever the frames: ``{"a2b": [...], "b2a": [...]}``."""
    prog = find_program()
    if prog is None:
        raise FileNotFoundError("ustack-link is not built (cmake --build build)")
    out = subprocess.run(
        [str(prog), "--predict", str(n), *fault_argv(**fault)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    result: dict[str, list[int]] = json.loads(out.stdout)
    return result


class LinkProcess:
    """``ustack-link`` running between two ports until :meth:`stop`.

    ``fault`` takes :func:`fault_argv`'s keywords.  The ports' namespaces
    must exist.  :meth:`stop` returns the final counters
    ``{"t": seconds, "a2b": {...}, "b2a": {...}}``."""

    def __init__(self, port_a: str, port_b: str, *, progress: bool = False, **fault: Any) -> None:
        for p in (port_a, port_b):
            parse_port(p)
        prog = find_program()
        if prog is None:
            raise FileNotFoundError("ustack-link is not built (cmake --build build)")
        argv = [str(prog), *fault_argv(**fault)] + (["--progress"] if progress else [])
        self.proc = subprocess.Popen(
            [*argv, port_a, port_b], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.final: dict[str, Any] | None = None
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if line.strip() != "ready":
            err = self.proc.stderr.read() if self.proc.stderr else ""
            self.proc.kill()
            self.proc.wait()
            raise RuntimeError(f"ustack-link did not start: {line.strip()} {err.strip()}")

    @property
    def stdout(self) -> IO[str]:
        assert self.proc.stdout is not None
        return self.proc.stdout

    def stop(self, timeout: float = 10.0) -> dict[str, Any]:
        """Stops the link (SIGINT) and returns its last counters."""
        if self.final is not None:
            return self.final
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            out, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
        for line in out.splitlines():
            if line.startswith("final "):
                self.final = json.loads(line[len("final ") :])
        if self.final is None:
            raise RuntimeError(f"ustack-link ended without counters: {err.strip()}")
        return self.final

    def __enter__(self) -> LinkProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.final is None:
            try:
                self.stop()
            except RuntimeError:
                pass


COUNTERS = ("rx_frames", "forwarded", "lost", "dropped_queue", "dropped_mtu",
            "dropped_chosen", "duplicated", "reordered", "corrupted", "delayed",
            "in_flight", "tx_errors", "oversize")  # fmt: skip


def format_counters(doc: dict[str, Any]) -> str:
    """The counters of both directions as a small table."""
    width = max(len(c) for c in COUNTERS)
    lines = [f"{'after ' + format(doc['t'], '.1f') + ' s':<{width}} {'a2b':>12} {'b2a':>12}"]
    for c in COUNTERS:
        lines.append(f"{c:<{width}} {doc['a2b'].get(c, 0):>12} {doc['b2a'].get(c, 0):>12}")
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The link subcommand's options."""
    f = parser.add_argument_group("faults (the same both ways; netem's units)")
    f.add_argument("--loss", default="0", help="frames lost at random, e.g. 1%% or 0.1%%")
    f.add_argument("--duplicate", default="0", help="frames delivered twice, e.g. 0.5%%")
    f.add_argument(
        "--reorder", default="0", help="frames held back by --reorder-delay so later ones pass"
    )
    f.add_argument("--reorder-delay", default="1ms", help="hold-back of a reordered frame (1ms)")
    f.add_argument("--corrupt", default="0", help="frames with one random bit flipped")
    f.add_argument("--delay", default="0", help="one-way delay, e.g. 10ms (a bare number: ms)")
    f.add_argument(
        "--jitter", default="0", help="extra delay uniform in [0, JITTER]; never reorders"
    )
    f.add_argument(
        "--rate", default=None, help="link rate, e.g. 1gbit, 100mbit (default: unlimited)"
    )
    f.add_argument("--mtu", type=int, default=0, help="largest payload (default: the ports')")
    f.add_argument(
        "--limit",
        type=int,
        default=1000,
        help="frames in the link at most per direction, more tail-dropped (1000, as netem)",
    )
    f.add_argument("--seed", type=int, default=1, help="PRNG seed of a2b; b2a uses SEED+1")
    f.add_argument(
        "--drop-byte",
        type=int,
        default=0,
        metavar="N",
        help="drop once per TCP connection the first frame carrying stream byte N "
        "(1 = first data byte): N = transfer size drops the last data segment",
    )
    p = parser.add_argument_group("namespaces and output")
    p.add_argument(
        "--netns", action="store_true", help="make the ports' namespaces that do not exist"
    )
    p.add_argument("--addr-a", default=None, help="IPv4 address/len for port A's kernel side (TAP)")
    p.add_argument("--addr-b", default=None, help="IPv4 address/len for port B's kernel side (TAP)")
    p.add_argument("--progress", action="store_true", help="print the counters every second")
    p.add_argument("--json", action="store_true", help="counters as JSON lines")
    p.add_argument(
        "--duration", type=float, default=0, help="stop after this many seconds (0: Ctrl-C)"
    )
    parser.add_argument("port_a", metavar="A", help="tap:NAME[@NETNS] or dev:NAME[@NETNS]")
    parser.add_argument("port_b", metavar="B", help="tap:NAME[@NETNS] or dev:NAME[@NETNS]")


def _fault_options(args: argparse.Namespace) -> dict[str, Any]:
    if args.limit < 1 or args.limit > 1_000_000:
        raise ValueError("--limit must be 1..1000000")
    if not 0 <= args.mtu <= 65535:
        raise ValueError("--mtu must be 0..65535")
    if args.drop_byte < 0 or args.drop_byte > 0xFFFFFFFF:
        raise ValueError("--drop-byte must be 0..2^32-1")
    if args.seed < 0 or args.seed >= 2**64 - 1:
        raise ValueError("--seed must be 0..2^64-2")
    return {
        "loss_ppm": parse_percent(args.loss),
        "duplicate_ppm": parse_percent(args.duplicate),
        "reorder_ppm": parse_percent(args.reorder),
        "corrupt_ppm": parse_percent(args.corrupt),
        "delay_ns": parse_time(args.delay),
        "jitter_ns": parse_time(args.jitter),
        "reorder_ns": parse_time(args.reorder_delay),
        "rate_bps": parse_rate(args.rate) if args.rate else 0,
        "mtu": args.mtu,
        "limit": args.limit,
        "seed": args.seed,
        "drop_byte": args.drop_byte,
    }


def _check_addr(text: str) -> str:
    import ipaddress

    iface = ipaddress.IPv4Interface(text)
    if iface.ip not in ipaddress.IPv4Network("198.18.0.0/15"):
        raise ValueError(f"{text}: use addresses from 198.18.0.0/15 (RFC 2544)")
    return str(iface)


def _ip(*argv: str, ns: str | None = None) -> None:
    pre = ["ip", "-n", ns] if ns else ["ip"]
    subprocess.run([*pre, *argv], check=True, capture_output=True, text=True)


def make_netns(name: str) -> None:
    """A namespace with IPv6 off (no router or neighbour solicitations to
    shift the seeded fates) and lo up."""
    subprocess.run(["ip", "netns", "add", name], check=True, capture_output=True, text=True)
    for knob in ("all", "default"):
        subprocess.run(
            ["ip", "netns", "exec", name, "sysctl", "-qw", f"net.ipv6.conf.{knob}.disable_ipv6=1"],
            check=True, capture_output=True,
        )  # fmt: skip
    _ip("link", "set", "lo", "up", ns=name)


def _netns_exists(name: str) -> bool:
    return "/" in name or os.path.exists(f"/run/netns/{name}")


def run(args: argparse.Namespace) -> int:
    if os.geteuid() != 0:
        print("ustack link: needs root (TAP devices, AF_PACKET, namespaces)", file=sys.stderr)
        return 2
    try:
        fault = _fault_options(args)
        ports = [parse_port(args.port_a), parse_port(args.port_b)]
        addrs = [_check_addr(a) if a else None for a in (args.addr_a, args.addr_b)]
    except ValueError as e:
        print(f"ustack link: {e}", file=sys.stderr)
        return 2
    for (kind, _, _), addr in zip(ports, addrs, strict=True):
        if addr and kind != "tap":
            print("ustack link: --addr-a/--addr-b only for tap: ports", file=sys.stderr)
            return 2
    made: list[str] = []
    link: LinkProcess | None = None
    stopping = False

    def on_term(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    old = signal.signal(signal.SIGTERM, on_term)
    try:
        for _, _, ns in ports:
            if ns and not _netns_exists(ns):
                if not args.netns:
                    print(f"ustack link: no namespace {ns} (--netns makes it)", file=sys.stderr)
                    return 2
                if ns not in made:
                    make_netns(ns)
                    made.append(ns)
        link = LinkProcess(args.port_a, args.port_b, progress=True, **fault)
        for (_, name, ns), addr in zip(ports, addrs, strict=True):
            if addr:
                _ip("addr", "add", addr, "dev", name, ns=ns)
        print(
            f"link {args.port_a} <-> {args.port_b}: seed {fault['seed']} (a2b), "
            f"{fault['seed'] + 1} (b2a); Ctrl-C stops",
            file=sys.stderr,
            flush=True,
        )
        deadline = time.monotonic() + args.duration if args.duration > 0 else None
        try:
            for line in link.stdout:
                if args.progress:
                    doc = json.loads(line)
                    print(json.dumps(doc) if args.json else format_counters(doc), flush=True)
                if stopping or (deadline is not None and time.monotonic() >= deadline):
                    break
        except KeyboardInterrupt:
            pass
        final = link.stop()
        print(json.dumps(final) if args.json else format_counters(final), flush=True)
        return 0
    except (subprocess.CalledProcessError, RuntimeError, FileNotFoundError) as e:
        detail = e.stderr if isinstance(e, subprocess.CalledProcessError) else ""
        print(f"ustack link: {e} {detail or ''}".strip(), file=sys.stderr)
        return 1
    finally:
        if link is not None and link.final is None:
            try:
                link.stop()
            except RuntimeError:
                pass
        for ns in made:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, check=False)
        signal.signal(signal.SIGTERM, old)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ustack link", description=DESCRIPTION)
    add_arguments(parser)
    return run(parser.parse_args(argv))
