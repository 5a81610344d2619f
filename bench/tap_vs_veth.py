"""ustack over TAP next to the kernel over veth: one bulk TCP flow, same run.

Both runs move the same number of bytes from the same kernel sender (a small
Python socket program) to a receiver that reads and drops them:

- ustack: examples/tap_sink (ustack on a TAP device, busy-polling) in a
  namespace of its own; the kernel's side of the device is the sender's
  interface (198.18.0.2 -> 198.18.0.1);
- kernel: a Python receiver in a second namespace, joined to the sender's
  namespace by a veth pair (198.18.1.1 -> 198.18.1.2), offloads as the
  kernel sets them.

Throughput is the receiver's, first byte to last.  Each side runs --runs
times, alternating; the table gives median, min and max and the ratio of the
medians (ustack / kernel).  Results go to bench/results/<timestamp>/tap.json.
Root only; every device lives in a namespace made here and removed after.

    python bench/tap_vs_veth.py --sink build/examples/tap_sink [--bytes 100M] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python_bindings"))

from ustack.netns import NetNs  # noqa: E402

SENDER = r"""
import socket, sys, time
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


def ustack_run(sink: Path, nbytes: int) -> float:
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
    with NetNs("bench-va") as a, NetNs("bench-vb") as b:
        subprocess.run(
            [
                "ip",
                "link",
                "add",
                "va",
                "netns",
                a.name,
                "type",
                "veth",
                "peer",
                "name",
                "vb",
                "netns",
                b.name,
            ],
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


def _size(text: str) -> int:
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    if text[-1:].upper() in units:
        return int(float(text[:-1]) * units[text[-1].upper()])
    return int(text)


def _summary(xs: list[float]) -> dict[str, float]:
    return {"median": statistics.median(xs), "min": min(xs), "max": max(xs)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--sink", type=Path, required=True, help="the built examples/tap_sink")
    ap.add_argument("--bytes", default="100M", help="bytes per run, K/M/G suffixes (100M)")
    ap.add_argument("--runs", type=int, default=5, help="runs per side (5); medians reported")
    ap.add_argument("--out", type=Path, default=None, help="results folder (bench/results/<ts>)")
    args = ap.parse_args(argv)
    nbytes = _size(args.bytes)
    results: dict[str, list[float]] = {"ustack_tap": [], "kernel_veth": []}
    for i in range(args.runs):
        results["ustack_tap"].append(ustack_run(args.sink, nbytes))
        results["kernel_veth"].append(kernel_run(nbytes))
        print(
            f"run {i + 1}/{args.runs}: ustack over TAP {results['ustack_tap'][-1]:.0f} Mbit/s, "
            f"kernel over veth {results['kernel_veth'][-1]:.0f} Mbit/s",
            file=sys.stderr,
        )
    u, k = _summary(results["ustack_tap"]), _summary(results["kernel_veth"])
    ratio = u["median"] / k["median"] if k["median"] else 0.0
    print(f"\none TCP flow, {args.bytes} per run, {args.runs} runs, receiver's throughput")
    print("| receiver | median Mbit/s | min | max |")
    print("|---|---|---|---|")
    print(f"| ustack over TAP | {u['median']:.0f} | {u['min']:.0f} | {u['max']:.0f} |")
    print(f"| Linux over veth | {k['median']:.0f} | {k['min']:.0f} | {k['max']:.0f} |")
    print(f"\nratio ustack/Linux: {ratio:.2f}")
    out = args.out or Path(__file__).resolve().parent / "results" / time.strftime("%Y%m%dT%H%M%S")
    out.mkdir(parents=True, exist_ok=True)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    (out / "tap.json").write_text(
        json.dumps(
            {
                "benchmark": "tcp bulk, one flow: ustack over TAP vs Linux over veth",
                "bytes": nbytes,
                "runs": args.runs,
                "mbit_per_s": results,
                "ustack_tap": u,
                "kernel_veth": k,
                "ratio": ratio,
                "machine": {
                    "cpu": platform.processor() or platform.machine(),
                    "kernel": platform.release(),
                    "cores": len(__import__("os").sched_getaffinity(0)),
                },
                "commit": commit,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"results: {out / 'tap.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
