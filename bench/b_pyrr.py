"""One-byte round trips from Python (issue 21 item 4): ustack sockets against
the standard library's, in the same run.

The loop is the same on both sides, one thread, one connection::

    client.send(b"x"); server.recv(1); server.send(b"x"); client.recv(1)

ustack: two stacks joined by the in-memory pipe (ustack.sim.PipeRig), on a
virtual clock and on the real clock, with blocking sockets (the wait runs the
world: the C fast path of python_bindings/ext/wait.c when it applies, else
the Python loop of ustack.world), and with non-blocking sockets polled by
hand (``a.poll(); b.poll()`` until the recv goes through).  The pipe offers
checksum offload, as the kernel's loopback does (it computes no checksum)
and as bench/c/rr_ustack.c does; one more row shows blocking sockets with
software checksums.  stdlib: blocking ``socket.socket``s over the kernel's
loopback, in a network namespace of its own (a Python child process, so the
interpreter is the same).

Figures are microseconds per round trip; the ratio is stdlib/ustack (how
many times faster ustack is), and params give ustack/stdlib.  The goal asks
ustack's blocking round trip to cost at most half of the stdlib's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Any

from benchlib import Context

NAME = "pyrr"
DESCRIPTION = "1-byte round trips from Python: ustack blocking/non-blocking vs stdlib loopback"
GOAL = "ustack blocking <= 0.5x stdlib"

_PORT = 8021

# Runs inside the namespace: the same loop over the kernel's loopback.
_STDLIB = r"""
import json, socket, sys, time
n = int(sys.argv[1])
ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
ls.bind(("127.0.0.1", 0))
ls.listen()
client = socket.create_connection(ls.getsockname())
server, _ = ls.accept()
for _ in range(min(n, 1000)):  # warm up
    client.send(b"x"); server.recv(1); server.send(b"x"); client.recv(1)
t0 = time.perf_counter()
for _ in range(n):
    client.send(b"x"); server.recv(1); server.send(b"x"); client.recv(1)
t1 = time.perf_counter()
print(json.dumps({"us": (t1 - t0) / n * 1e6}))
"""


def _caps() -> int:
    """Checksum offload on the pipe (what loopback does: no checksums)."""
    from ustack._native import lib

    return int(lib.UST_IFCAP_RXCSUM) | int(lib.UST_IFCAP_TXCSUM) | int(lib.UST_IFCAP_TXCSUM_IPV6)


def _ustack_pair(virtual: bool, offload: bool = True) -> tuple[Any, Any, Any]:
    from ustack.sim import PipeRig

    rig = PipeRig(addresses=True, virtual=virtual, caps=_caps() if offload else 0)
    ls = rig.b.socket()
    ls.bind(("198.18.0.2", _PORT))
    ls.listen()
    client = rig.a.socket()
    client.connect(("198.18.0.2", _PORT))
    server, _ = ls.accept()
    ls.close()
    return rig, client, server


def _close(rig: Any, *socks: Any) -> None:
    for s in socks:
        s.close()
    rig.a.close()
    rig.b.close()
    rig.pipe.close()


def ustack_blocking(n: int, virtual: bool, offload: bool = True) -> float:
    """Microseconds per blocking round trip between two ustack stacks."""
    rig, client, server = _ustack_pair(virtual, offload)
    try:
        for _ in range(min(n, 1000)):
            client.send(b"x")
            server.recv(1)
            server.send(b"x")
            client.recv(1)
        t0 = time.perf_counter()
        for _ in range(n):
            client.send(b"x")
            server.recv(1)
            server.send(b"x")
            client.recv(1)
        t1 = time.perf_counter()
    finally:
        _close(rig, client, server)
    return (t1 - t0) / n * 1e6


def ustack_nonblocking(n: int) -> float:
    """Microseconds per round trip with non-blocking sockets and manual polls
    (virtual clock)."""
    rig, client, server = _ustack_pair(True)
    client.setblocking(False)
    server.setblocking(False)
    a, b = rig.a, rig.b

    def one() -> None:
        client.send(b"x")
        while True:
            a.poll()
            b.poll()
            try:
                server.recv(1)
                break
            except BlockingIOError:
                pass
        server.send(b"x")
        while True:
            b.poll()
            a.poll()
            try:
                client.recv(1)
                break
            except BlockingIOError:
                pass

    try:
        for _ in range(min(n, 1000)):
            one()
        t0 = time.perf_counter()
        for _ in range(n):
            one()
        t1 = time.perf_counter()
    finally:
        _close(rig, client, server)
    return (t1 - t0) / n * 1e6


def _fast_waits() -> int | None:
    """C waits taken so far in this process (None: no fast path here)."""
    import ustack.world as world

    return getattr(world, "fast_waits", lambda: None)()


def _stdlib_prefix(ctx: Context) -> tuple[list[str], Any]:
    try:
        from ustack.netns import NetNs, unavailable_reason
    except ImportError as exc:  # the bindings are not built
        ctx.note(f"no stdlib figures: {exc}")
        return [], None
    reason = unavailable_reason()
    if reason is not None:
        ctx.note(f"no stdlib figures (no network namespace): {reason}")
        return [], None
    ns = NetNs("bench-pyrr")
    return ns.exec_argv(), ns


def stdlib_blocking(prefix: list[str], n: int) -> float:
    out = subprocess.run(
        [*prefix, sys.executable, "-c", _STDLIB, str(n)],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    ).stdout
    return float(json.loads(out.strip().splitlines()[-1])["us"])


def run(ctx: Context) -> None:
    n = 5000 if ctx.quick else 100_000
    runs = min(ctx.runs, 3) if ctx.quick else ctx.runs
    load = os.getloadavg()[0]
    if load > 0.5:
        ctx.note(f"load average {load:.2f} when pyrr started: other work shared the CPUs")
    rows: dict[str, list[float]] = {
        "virtual": [],
        "real": [],
        "soft": [],
        "manual": [],
        "stdlib": [],
    }
    fast0 = _fast_waits()
    prefix, ns = _stdlib_prefix(ctx)
    try:
        for _ in range(runs):
            # Interleaved, so that a burst of load hits every row.
            rows["virtual"].append(ustack_blocking(n, True))
            if ns is not None:
                rows["stdlib"].append(stdlib_blocking(prefix, n))
            rows["real"].append(ustack_blocking(n, False))
            rows["soft"].append(ustack_blocking(n, True, offload=False))
            rows["manual"].append(ustack_nonblocking(n))
    finally:
        if ns is not None:
            ns.close()
    fast1 = _fast_waits()
    std = ctx.stats(rows["stdlib"]) if rows["stdlib"] else None
    params: dict[str, Any] = {
        "count": n,
        "message_bytes": 1,
        "python": sys.version.split()[0],
        "stdlib": "blocking socket.socket over loopback in a fresh namespace",
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "fast_waits": None if fast0 is None or fast1 is None else fast1 - fast0,
    }
    cases = [
        ("virtual", "blocking, virtual clock (PipeRig)", True),
        ("real", "blocking, real clock (PipeRig)", False),
        ("soft", "blocking, virtual clock, software checksums", False),
        ("manual", "non-blocking, manual polls (virtual clock)", False),
    ]
    for key, case, goal in cases:
        u = ctx.stats(rows[key])
        p = dict(params)
        p["ustack_over_stdlib"] = (u["median"] / std["median"]) if std is not None else None
        ctx.record(
            case,
            "round trip",
            "us",
            ustack=u,
            linux=std,
            higher_is_better=False,
            goal=GOAL if goal else "",
            goal_ratio=2.0 if goal else None,
            params=p,
        )
