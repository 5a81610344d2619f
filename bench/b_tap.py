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


def _parse(line: str) -> float:
    fields = line.split()
    if len(fields) < 6 or fields[0] != "bytes":
        raise RuntimeError(f"receiver said {line!r}")
    return float(fields[5])


def ustack_run(ctx: Context, nbytes: int) -> float:
    from ustack.netns import NetNs

    sink = ctx.build_dir / "examples" / "tap_sink"
    if not sink.exists():
        raise FileNotFoundError(f"{sink} is not built (invoke bench builds it)")
    with NetNs("bench-tap") as ns:
        rx = subprocess.Popen(ns.exec_argv(str(sink), "--once"), stdout=subprocess.PIPE, text=True)
        try:
            assert rx.stdout is not None
            ready = rx.stdout.readline()
            if not ready.startswith("ready"):
                raise RuntimeError(f"tap_sink did not start: {ready!r}")
            ns.run("sysctl", "-qw", "net.ipv6.conf.ust0.disable_ipv6=1")
            ns.run("ip", "link", "set", "ust0", "up")
            ns.run("ip", "addr", "add", "198.18.0.2/24", "dev", "ust0")
            ns.run(sys.executable, "-c", SENDER, "198.18.0.1", "5001", str(nbytes))
            return _parse(rx.stdout.readline())
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
    u: list[float] = []
    k: list[float] = []
    for i in range(ctx.runs):
        u.append(ustack_run(ctx, nbytes))
        k.append(kernel_run(nbytes))
        print(
            f"   run {i + 1}/{ctx.runs}: ustack over TAP {u[-1]:.0f} Mbit/s, "
            f"Linux over veth {k[-1]:.0f} Mbit/s",
            file=sys.stderr,
            flush=True,
        )
    ctx.record(
        f"1 flow, {nbytes >> 20} MiB",
        "receiver throughput",
        "Mbit/s",
        ustack=ctx.stats(u),
        linux=ctx.stats(k),
        params={"bytes": nbytes, "ustack": "TAP, examples/tap_sink", "linux": "veth"},
    )
