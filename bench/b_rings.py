"""Shared-memory rings (issue 16 item 6): ustack over AF_XDP vs ustack over
TAP vs Linux over veth, bulk and request/response, side by side in one run,
with the raw AF_XDP frame rate as the ceiling.

Every rig is a network namespace made for it (198.18.0.0/15), the server
pinned to one CPU and the kernel's client to another, both at nice -10:

- AF_XDP (native and generic XDP): a veth pair, the kernel on ``ust0``
  (198.18.0.2, transmit checksumming off: AF_XDP has no receive checksum
  status), bench/c/rings_peer ``ustack --driver afxdp`` on ``ust0x``
  (198.18.0.1), busy-polling as kernel-bypass programs do;
- TAP: rings_peer ``ustack --driver tap`` on a TAP device without the vnet
  header, so without offloads (ustack cuts and checksums every segment, as
  it must on AF_XDP), the kernel on its other side;
- Linux over veth: two namespaces, the kernel at both ends (rings_peer
  ``kecho`` and b_tap's receiver), offloads as the kernel sets them and
  again with the sender's transmit checksumming (so TSO) off, as the
  kernel's side of the AF_XDP rig has it;
- raw AF_XDP: rings_peer ``ustack --reflect`` (the driver and an input
  hook that sends each UDP request straight back, no protocols: the round
  trip's ceiling through AF_XDP), and ``pump`` (ust_afxdp_raw_pump: frames
  received from a kernel flood, and sent, per second, no stack at all).

The work, the same kernel clients everywhere (rings_peer, C):

- bulk: one TCP flow from the kernel (b_tap's sender) into a sink, the
  receiver's throughput first byte to last; and one the other way, the
  server's source into the kernel (rings_peer ``drain``) for a time;
- TCP RR: one connection, 64-byte request and response in lockstep;
- UDP RR: 18-byte datagrams (64-byte frames on the wire), one in flight
  (latency-bound) and 32 in flight (frame-rate-bound: small-packet RR).

Ratios: "ustack" is the first rig a case names, "linux" the second.  Goals
(issue 16): AF_XDP ahead of TAP (ratio > 1) on bulk and RR; AF_XDP's
small-packet RR within 10% of the raw reflector's (ratio >= 0.9).  Root,
the AF_XDP driver and rings_peer needed; otherwise notes why and records
nothing.  Wall-clock figures on a shared machine: medians of ``ctx.runs``.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import b_tap
from benchlib import Context

from ustack.netns import NetNs, unavailable_reason

NAME = "rings"
DESCRIPTION = "ustack over AF_XDP vs over TAP vs Linux over veth; raw AF_XDP as the ceiling"
GOAL = "AF_XDP ahead of TAP (no vnet offloads) on bulk and RR; small-packet RR >= 0.9x raw AF_XDP"

USTACK_IP, KERNEL_IP = "198.18.0.1", "198.18.0.2"
SINK_PORT = 5001
WINDOW = 32  # UDP requests in flight for the frame-rate-bound RR
NICE = -10


def _pin(cpu: str) -> list[str]:
    """The prefix that runs a command on ``cpu`` at a raised priority (nice
    -10: on a shared machine other work then takes less of the CPUs; every
    rig's programs get the same)."""
    return ["nice", "-n", str(NICE), "taskset", "-c", cpu]


def _cpus() -> tuple[str, str]:
    """(client CPU, server CPU): two different ones when there are two."""
    cpus = sorted(os.sched_getaffinity(0))
    return str(cpus[0]), str(cpus[1] if len(cpus) > 1 else cpus[0])


class Rig:
    """One namespace (or two, for Linux) with a server running and the
    kernel's client side ready; ``client(argv)`` runs rings_peer's clients
    there, pinned."""

    def __init__(self, ctx: Context, label: str) -> None:
        self.ctx = ctx
        self.label = label
        self.peer = str(ctx.program("rings_peer"))
        self.client_cpu, self.server_cpu = _cpus()
        self.server: subprocess.Popen[str] | None = None
        self.client_ns: NetNs | None = None
        self.far_ns: NetNs | None = None  # Linux: the server's namespace
        self.target = USTACK_IP

    def start(self, ns: NetNs, argv: list[str]) -> None:
        self.server = subprocess.Popen(
            ns.exec_argv(*_pin(self.server_cpu), *argv),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        line = self._line(10)
        if not line.startswith("ready"):
            err = self.server.stderr.read() if self.server.stderr else ""
            raise RuntimeError(f"{self.label}: {' '.join(argv)} said {line!r} {err[-800:]}")

    def _line(self, timeout: float) -> str:
        assert self.server is not None and self.server.stdout is not None
        ready, _, _ = select.select([self.server.stdout], [], [], timeout)
        return self.server.stdout.readline() if ready else ""

    def client(self, *argv: str, timeout: float = 120) -> dict[str, Any]:
        assert self.client_ns is not None
        out = self.ctx.run_program(
            self.client_ns.exec_argv(*_pin(self.client_cpu), self.peer, *argv),
            timeout=timeout,
        )
        return dict(json.loads(out.strip().splitlines()[-1]))

    def bulk(self, nbytes: int) -> float:
        """Kernel -> server, one flow: the receiver's Gbit/s."""
        assert self.client_ns is not None
        self.ctx.run_program(
            self.client_ns.exec_argv(*_pin(self.client_cpu), sys.executable, "-c", b_tap.SENDER)
            + [self.target, str(SINK_PORT), str(nbytes)],
            timeout=300,
        )
        line = self._line(30)
        return b_tap._parse(line) / 1000.0

    def stop(self) -> None:
        if self.server is not None and self.server.poll() is None:
            self.server.terminate()
            try:
                self.server.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                self.server.kill()
                self.server.communicate()
        self.server = None


def _veth(ns: NetNs, kernel: str, mine: str, tx_off: bool) -> None:
    ns.run("ip", "link", "add", kernel, "type", "veth", "peer", "name", mine)
    if tx_off:
        ns.run("ethtool", "-K", kernel, "tx", "off")
    for dev in (kernel, mine):
        ns.run("sysctl", "-qw", f"net.ipv6.conf.{dev}.disable_ipv6=1")


def _kernel_side(ns: NetNs, dev: str) -> None:
    ns.run("sysctl", "-qw", f"net.ipv6.conf.{dev}.disable_ipv6=1")
    ns.run("ip", "addr", "add", f"{KERNEL_IP}/24", "dev", dev)
    ns.run("ip", "link", "set", dev, "up")


@contextmanager
def ustack_rig(ctx: Context, driver: str, mode: str = "", reflect: bool = False) -> Iterator[Rig]:
    """rings_peer on AF_XDP (``mode``) or TAP, the kernel in the same namespace."""
    label = f"{driver} {mode}".strip() + (" reflect" if reflect else "")
    rig = Rig(ctx, label)
    with NetNs("bench-rings") as ns:
        rig.client_ns = ns
        argv = [rig.peer, "ustack", "--driver", driver, "--address", USTACK_IP]
        if driver == "afxdp":
            _veth(ns, "ust0", "ust0x", tx_off=True)
            ns.run("ip", "link", "set", "ust0x", "up")
            argv += ["--ifname", "ust0x", "--mode", mode]
        else:
            argv += ["--ifname", "ust0"]
        if reflect:
            argv.append("--reflect")
        try:
            rig.start(ns, argv)
            _kernel_side(ns, "ust0")
            yield rig
        finally:
            rig.stop()


@contextmanager
def linux_rig(ctx: Context, tx_off: bool) -> Iterator[Rig]:
    """The kernel at both ends of a veth pair, two namespaces."""
    rig = Rig(ctx, "linux" + (" tx off" if tx_off else ""))
    rig.target = "198.18.1.2"
    with NetNs("bench-rings-a") as a, NetNs("bench-rings-b") as b:
        rig.client_ns = a
        subprocess.run(
            ["ip", "link", "add", "va", "netns", a.name, "type", "veth"]
            + ["peer", "name", "vb", "netns", b.name],
            check=True,
            capture_output=True,
        )
        if tx_off:
            a.run("ethtool", "-K", "va", "tx", "off")
        for ns, dev, ip in ((a, "va", "198.18.1.1"), (b, "vb", "198.18.1.2")):
            ns.run("sysctl", "-qw", f"net.ipv6.conf.{dev}.disable_ipv6=1")
            ns.run("ip", "addr", "add", f"{ip}/24", "dev", dev)
            ns.run("ip", "link", "set", dev, "up")
        kecho = subprocess.Popen(
            b.exec_argv(*_pin(rig.server_cpu), rig.peer, "kecho") + ["--address", rig.target],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert kecho.stdout is not None
            if not kecho.stdout.readline().startswith("ready"):
                raise RuntimeError("rings_peer kecho did not start")
            rig.far_ns = b
            yield rig
        finally:
            kecho.kill()
            kecho.wait()


def _linux_bulk(rig: Rig, nbytes: int) -> float:
    """b_tap's receiver in the far namespace, pinned like the servers."""
    b = rig.far_ns
    assert b is not None
    rig.server = subprocess.Popen(
        b.exec_argv(*_pin(rig.server_cpu), sys.executable, "-c", b_tap.RECEIVER)
        + [rig.target, str(SINK_PORT)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        if not rig._line(10).startswith("ready"):
            raise RuntimeError("the kernel receiver did not start")
        return rig.bulk(nbytes)
    finally:
        rig.stop()


def _rr(rig: Rig, seconds: float, tcp: bool) -> dict[str, dict[str, Any]]:
    """The RR figures: TCP (not for the reflector, which has no TCP) and UDP."""
    s = f"{seconds:g}"
    out = {}
    if tcp:
        out["tcp"] = rig.client("tcp-rr", "--to", rig.target, "--size", "64", "--seconds", s)
    out["udp1"] = rig.client("udp-rr", "--to", rig.target, "--seconds", s)
    out["udpw"] = rig.client("udp-rr", "--to", rig.target, "--window", str(WINDOW), "--seconds", s)
    return out


@contextmanager
def pump_rig(ctx: Context, mode: str) -> Iterator[tuple[NetNs, str]]:
    """A veth pair for the raw pump: ust0x for AF_XDP, the kernel on ust0
    with a permanent neighbour entry for 198.18.0.1 (nobody answers ARP)."""
    with NetNs("bench-rings-raw") as ns:
        _veth(ns, "ust0", "ust0x", tx_off=True)
        ns.run("ip", "link", "set", "ust0x", "up")
        _kernel_side(ns, "ust0")
        mac = ns.run("cat", "/sys/class/net/ust0x/address").stdout.strip()
        ns.run(
            "ip", "neigh", "replace", USTACK_IP, "lladdr", mac, "dev", "ust0", "nud", "permanent"
        )
        yield ns, mode


def _pump(ctx: Context, mode: str, seconds: float) -> dict[str, float]:
    """Frames per second AF_XDP alone receives (a kernel flood) and sends."""
    prog = str(ctx.program("rings_peer"))
    client_cpu, server_cpu = _cpus()
    out: dict[str, float] = {}
    with pump_rig(ctx, mode) as (ns, _):
        base = [*_pin(server_cpu), prog, "pump", "--ifname", "ust0x", "--mode", mode]
        s = f"{seconds:g}"
        rx = subprocess.Popen(
            ns.exec_argv(*base, "--rx", "--seconds", s), stdout=subprocess.PIPE, text=True
        )
        assert rx.stdout is not None
        if not rx.stdout.readline().startswith("ready"):
            rx.kill()
            raise RuntimeError("rings_peer pump --rx did not start")
        flood = ns.exec_argv(*_pin(client_cpu), prog, "flood", "--to", USTACK_IP)
        ctx.run_program([*flood, "--seconds", f"{seconds + 0.3:g}"])
        line = rx.communicate(timeout=30)[0].strip().splitlines()[-1]
        out["rx"] = float(json.loads(line)["frames_per_s"])
        time.sleep(0.05)  # a re-bind right after close gives EBUSY for ~10 ms
        tx = ctx.run_program(ns.exec_argv(*base, "--tx", "--seconds", s))
        out["tx"] = float(json.loads(tx.strip().splitlines()[-1])["frames_per_s"])
    return out


def _why_not(ctx: Context) -> str | None:
    why = unavailable_reason()
    if why is not None:
        return why
    try:
        from ustack import afxdp
    except ImportError as exc:
        return f"ustack.afxdp cannot be imported ({exc})"
    if not afxdp.available():
        return afxdp.why_unavailable()
    try:
        ctx.program("rings_peer")
    except FileNotFoundError as exc:
        return f"{exc}: the build has no AF_XDP driver"
    for tool in ("ethtool", "taskset"):
        if subprocess.run(["which", tool], capture_output=True).returncode != 0:
            return f"{tool} is not installed"
    return None


Rows = dict[str, dict[str, list[float]]]


def _measure(
    rows: Rows, name: str, opener: Callable[[], Any], nbytes: int, seconds: float, stack: bool
) -> None:
    """One rig: bulk and TCP RR (with a stack), UDP RR, appended to rows[name]."""
    got = rows.setdefault(name, {})
    with opener() as rig:
        if stack:
            if rig.label.startswith("linux"):
                got.setdefault("bulk", []).append(_linux_bulk(rig, nbytes))
            else:
                got.setdefault("bulk", []).append(rig.bulk(nbytes))
            out = rig.client("drain", "--to", rig.target, "--seconds", f"{seconds:g}")
            got.setdefault("bulk_out", []).append(float(out["gbit_per_s"]))
        for key, r in _rr(rig, seconds, stack).items():
            got.setdefault(key, []).append(float(r["ops_per_s"]))
            got.setdefault(f"{key}_p50", []).append(float(r["p50_us"]))
            got.setdefault(f"{key}_lost", []).append(float(r["lost"]))


def run(ctx: Context) -> None:
    if ctx.skipped(_why_not(ctx)):
        return
    runs = 1 if ctx.quick else ctx.runs
    nbytes = (8 << 20) if ctx.quick else (200 << 20)
    seconds = 0.3 if ctx.quick else 1.0
    modes = ["native"] if ctx.quick else ["native", "generic"]
    if ctx.quick:
        ctx.note("--quick: one run, native XDP only, 8 MiB bulk, 0.3 s per RR figure")
    if len(os.sched_getaffinity(0)) < 2:
        ctx.note("one CPU: server and client share it")
    ctx.note_load()
    rigs: list[tuple[str, Callable[[], Any], bool]] = []
    for m in modes:
        rigs.append((f"afxdp {m}", partial(ustack_rig, ctx, "afxdp", m), True))
        rigs.append((f"raw {m}", partial(ustack_rig, ctx, "afxdp", m, reflect=True), False))
    rigs.append(("tap", partial(ustack_rig, ctx, "tap"), True))
    rigs.append(("linux", partial(linux_rig, ctx, tx_off=False), True))
    if not ctx.quick:
        rigs.append(("linux tx off", partial(linux_rig, ctx, tx_off=True), True))
    rows: Rows = {}
    pumps: dict[str, dict[str, list[float]]] = {}
    for i in range(runs):
        for name, opener, stack in rigs:
            _measure(rows, name, opener, nbytes, seconds, stack)
        for m in modes:
            for k, v in _pump(ctx, m, seconds).items():
                pumps.setdefault(m, {}).setdefault(k, []).append(v)
        print(f"   run {i + 1}/{runs}: " + _progress(rows), file=sys.stderr, flush=True)
    _record(ctx, rows, pumps, modes, nbytes)


def _progress(rows: Rows) -> str:
    parts = []
    for name, got in rows.items():
        bulk = f"{got['bulk'][-1]:.2f} Gbit/s, " if "bulk" in got else ""
        parts.append(f"{name} {bulk}{got['udpw'][-1] / 1e3:.0f}k udp rr/s")
    return "; ".join(parts)


CASES = (
    ("bulk", "bulk 1 flow, kernel -> server", "throughput", "Gbit/s"),
    ("bulk_out", "bulk 1 flow, server -> kernel", "throughput", "Gbit/s"),
    ("tcp", "TCP RR 64 B, lockstep", "round trips/s", "1/s"),
    ("udp1", "UDP RR 18 B, 1 in flight", "round trips/s", "1/s"),
    ("udpw", f"UDP RR 18 B, {WINDOW} in flight", "round trips/s", "1/s"),
)


def _record(
    ctx: Context,
    rows: Rows,
    pumps: dict[str, dict[str, list[float]]],
    modes: list[str],
    nbytes: int,
) -> None:
    params: dict[str, Any] = {
        "bytes": nbytes,
        "window": WINDOW,
        "cpus": "server and client pinned to two CPUs",
        "tap": "no vnet header (no offloads)",
        "afxdp": "copy mode on veth, kernel end tx off",
    }
    for key, case, metric, unit in CASES:
        pairs: list[tuple[str, str, str, float | None]] = []
        for m in modes:
            pairs.append((f"afxdp {m}", "tap", "AF_XDP ahead of TAP", 1.0))
        if key.startswith("udp"):
            for m in modes:
                goal = "within 10% of raw AF_XDP" if key == "udpw" else ""
                pairs.append((f"afxdp {m}", f"raw {m}", goal, 0.9 if goal else None))
        for name in (*(f"afxdp {m}" for m in modes), "tap"):
            for lx in ("linux", "linux tx off"):
                pairs.append((name, lx, "", None))
        for mine, theirs, goal, ratio in pairs:
            if key not in rows.get(mine, {}) or key not in rows.get(theirs, {}):
                continue
            ctx.record(
                f"{case}: {mine} vs {theirs}",
                metric,
                unit,
                ustack=ctx.stats(rows[mine][key]),
                linux=ctx.stats(rows[theirs][key]),
                goal=goal,
                goal_ratio=ratio,
                params=params,
            )
        if not key.startswith("bulk"):
            for m in modes:
                mine = f"afxdp {m}"
                ctx.record(
                    f"{case}: {mine} p50 latency vs tap",
                    "p50 latency",
                    "us",
                    ustack=ctx.stats(rows[mine][f"{key}_p50"]),
                    linux=ctx.stats(rows["tap"][f"{key}_p50"]),
                    higher_is_better=False,
                    params=params,
                )
    for m in modes:
        for direction in ("rx", "tx"):
            ctx.record(
                f"raw AF_XDP {m}, 60-byte frames, {direction} (no stack)",
                "frames per second",
                "1/s",
                ustack=ctx.stats(pumps[m][direction]),
                params={"how": "ust_afxdp_raw_pump; rx from a kernel UDP flood"},
            )
        # Frames ustack received per second in the windowed UDP RR, against
        # what AF_XDP alone receives from a kernel that only sends.
        ctx.record(
            f"UDP RR frames received/s: afxdp {m} vs raw rx pump",
            "frames per second",
            "1/s",
            ustack=ctx.stats(rows[f"afxdp {m}"]["udpw"]),
            linux=ctx.stats(pumps[m]["rx"]),
            params={"note": "the RR kernel also receives every reply; the pump's only sends"},
        )


if __name__ == "__main__":  # pragma: no cover - a quick manual run
    out = Path("/tmp/b_rings")
    out.mkdir(exist_ok=True)
    c = Context(quick=True, runs=1, build_dir=Path("build"), out_dir=out, bench=NAME)
    run(c)
    for rec in c.records:
        print(rec["case"], rec["ustack"]["median"], rec["ratio"])
    print(c.notes)
