"""ustack over TAP next to the kernel over veth: one bulk TCP flow per run.

Both sides move the same bytes from the same kernel sender (a small Python socket
program) to a receiver that reads and drops them:

- ustack: examples/tap_sink (ustack on a TAP device, busy-polling) in a namespace of
  its own; the kernel's side of the device is the sender's interface
  (198.18.0.2 -> 198.18.0.1);
- Linux: a Python receiver in a second namespace, joined to the sender's namespace
  by a veth pair (198.18.1.1 -> 198.18.1.2), offloads as the kernel sets them.

Throughput is the receiver's, first byte to last; the sides alternate run by run.
Wall-clock figures: other load on the machine lowers both.  Root only (namespaces,
/dev/net/tun); without them the module notes why and records nothing.

Mode column (issue 19, TAP batching): ``vec`` is the driver's default (readv into an
mbuf taken first, writev of the chain), ``copy`` its former path through a buffer of
its own (one memcpy each way); ``/plain`` without the vnet header (no offload).
Each mode is also run with ``tap_sink --sleep`` (poll(2) when idle), whose CPU
time per GiB received is the second figure; the busy-polling runs spend a whole
core whatever they move.  tun takes one frame per
read/write either way (no recvmmsg), so the syscall count does not change.
"""

from __future__ import annotations

import subprocess
import sys

from benchlib import Context

NAME = "tap"
DESCRIPTION = "one bulk TCP flow: kernel -> ustack over TAP vs kernel -> kernel over veth"
GOAL = ""

SENDER = r"""
import socket, sys
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.create_connection((host, port), timeout=30)
chunk = bytes(262144)
left = n
while left > 0:
    left -= s.send(chunk[: min(left, len(chunk))])
s.shutdown(socket.SHUT_WR)
while s.recv(65536):
    pass
"""

RECEIVER = r"""
import socket, sys, time
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind((sys.argv[1], int(sys.argv[2])))
srv.listen(1)
print("ready", flush=True)
c, _ = srv.accept()
n, first, last = 0, 0.0, 0.0
while True:
    d = c.recv(1 << 20)
    if not d:
        break
    if n == 0:
        first = time.monotonic()
    n += len(d)
    last = time.monotonic()
c.close()
dt = last - first
print(f"bytes {n} seconds {dt:.6f} mbit_per_s {n * 8 / dt / 1e6 if dt > 0 else 0:.1f}", flush=True)
"""


# io mode, then "/plain" for a device without the vnet header (no checksum
# offload, TSO or GRO: every frame at most 1514 bytes, so that "vec" reads
# every one into its mbuf; with offload the kernel's GRO frames exceed the
# mbuf and are copied in both modes).
MODES = ("copy", "vec", "copy/plain", "vec/plain")


def _fields(line: str) -> dict[str, float]:
    fields = line.split()
    if len(fields) < 6 or fields[0] != "bytes":
        raise RuntimeError(f"receiver said {line!r}")
    return {fields[i]: float(fields[i + 1]) for i in range(0, len(fields) - 1, 2)}


def _parse(line: str) -> float:
    return _fields(line)["mbit_per_s"]


def ustack_run(ctx: Context, nbytes: int, io: str = "vec", sleep: bool = False) -> float:
    return ustack_run_fields(ctx, nbytes, io, sleep)["mbit_per_s"]


def ustack_run_fields(
    ctx: Context, nbytes: int, io: str = "vec", sleep: bool = False
) -> dict[str, float]:
    from ustack.netns import NetNs

    sink = ctx.build_dir / "examples" / "tap_sink"
    if not sink.exists():
        raise FileNotFoundError(f"{sink} is not built (invoke bench builds it)")
    mode, _, plain = io.partition("/")
    argv = [str(sink), "--once", "--io", mode] + (["--sleep"] if sleep else [])
    argv += ["--no-offload"] if plain else []
    with NetNs("bench-tap") as ns:
        rx = subprocess.Popen(ns.exec_argv(*argv), stdout=subprocess.PIPE, text=True)
        try:
            assert rx.stdout is not None
            ready = rx.stdout.readline()
            if not ready.startswith("ready"):
                raise RuntimeError(f"tap_sink did not start: {ready!r}")
            ns.run("sysctl", "-qw", "net.ipv6.conf.ust0.disable_ipv6=1")
            ns.run("ip", "link", "set", "ust0", "up")
            ns.run("ip", "addr", "add", "198.18.0.2/24", "dev", "ust0")
            ns.run(sys.executable, "-c", SENDER, "198.18.0.1", "5001", str(nbytes))
            return _fields(rx.stdout.readline())
        finally:
            rx.kill()
            rx.wait()


def kernel_run(nbytes: int) -> float:
    from ustack.netns import NetNs

    with NetNs("bench-va") as a, NetNs("bench-vb") as b:
        subprocess.run(
            ["ip", "link", "add", "va", "netns", a.name, "type", "veth"]
            + ["peer", "name", "vb", "netns", b.name],
            check=True,
            capture_output=True,
        )
        a.run("ip", "addr", "add", "198.18.1.1/24", "dev", "va")
        a.run("ip", "link", "set", "va", "up")
        b.run("ip", "addr", "add", "198.18.1.2/24", "dev", "vb")
        b.run("ip", "link", "set", "vb", "up")
        rx = subprocess.Popen(
            b.exec_argv(sys.executable, "-c", RECEIVER, "198.18.1.2", "5001"),
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert rx.stdout is not None
            if not rx.stdout.readline().startswith("ready"):
                raise RuntimeError("the kernel receiver did not start")
            a.run(sys.executable, "-c", SENDER, "198.18.1.2", "5001", str(nbytes))
            return _parse(rx.stdout.readline())
        finally:
            rx.kill()
            rx.wait()


def run(ctx: Context) -> None:
    try:
        from ustack.netns import unavailable_reason

        why_not = unavailable_reason()
    except ImportError as e:
        why_not = f"ustack.netns not importable ({e})"
    if ctx.skipped(why_not):
        return
    nbytes = (4 << 20) if ctx.quick else (100 << 20)
    u: dict[str, list[float]] = {m: [] for m in MODES}
    fps: dict[str, list[float]] = {m: [] for m in MODES}
    cpu: dict[str, list[float]] = {m: [] for m in MODES}
    k: list[float] = []
    for i in range(ctx.runs):
        for m in MODES:
            f = ustack_run_fields(ctx, nbytes, m)
            u[m].append(f["mbit_per_s"])
            fps[m].append(f.get("rx_frames", 0.0) / f["seconds"] if f["seconds"] > 0 else 0.0)
            f = ustack_run_fields(ctx, nbytes, m, sleep=True)
            cpu[m].append(f.get("cpu_s", 0.0) * (1 << 30) / max(f["bytes"], 1.0))
        k.append(kernel_run(nbytes))
        print(
            f"   run {i + 1}/{ctx.runs}: ustack over TAP "
            + ", ".join(
                f"{m} {u[m][-1]:.0f} Mbit/s {fps[m][-1]:.0f} frames/s "
                f"{cpu[m][-1]:.2f} CPU s/GiB (--sleep)"
                for m in MODES
            )
            + f"; Linux over veth {k[-1]:.0f} Mbit/s",
            file=sys.stderr,
            flush=True,
        )
    print(f"   {'mode':<10} {'Mbit/s':>8} {'frames/s':>10} {'CPU s/GiB':>10}", file=sys.stderr)
    for m in MODES:
        print(
            f"   {m:<10} {ctx.stats(u[m])['median']:>8.0f} {ctx.stats(fps[m])['median']:>10.0f} "
            f"{ctx.stats(cpu[m])['median']:>10.2f}",
            file=sys.stderr,
        )
    for m in MODES:
        ctx.record(
            f"1 flow, {nbytes >> 20} MiB, mode {m}",
            "receiver throughput",
            "Mbit/s",
            ustack=ctx.stats(u[m]),
            linux=ctx.stats(k),
            params={
                "bytes": nbytes,
                "mode": m,
                "ustack": "TAP, examples/tap_sink",
                "linux": "veth",
                "frames_per_s": ctx.stats(fps[m])["median"],
            },
        )
        ctx.record(
            f"1 flow, {nbytes >> 20} MiB, mode {m}, tap_sink --sleep",
            "CPU time per GiB received",
            "s/GiB",
            ustack=ctx.stats(cpu[m]),
            higher_is_better=False,
            params={"bytes": nbytes, "mode": m},
        )
