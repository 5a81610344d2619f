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

Figures are microseconds per round trip (wall clock).  Each run sets every
row up afresh and measures them in CHUNKS chunks, interleaved (ustack rows
and the stdlib's in turn), so that a burst of other work on the machine
hits one chunk of every row; a run's figure is a row's median chunk, and
the record gives the median, min and max over the runs.  The ratio is
stdlib/ustack (how many times faster ustack is), and params give
ustack/stdlib.  The goal asks ustack's blocking round trip to cost at most
half of the stdlib's.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from typing import Any

from benchlib import Context

NAME = "pyrr"
DESCRIPTION = "1-byte round trips from Python: ustack blocking/non-blocking vs stdlib loopback"
GOAL = "ustack blocking <= 0.5x stdlib"

_PORT = 8021
# Each run interleaves every row in this many chunks and takes the median of
# the chunks: a burst of other work on the machine hits one chunk of each
# row, not one row.
CHUNKS = 10

# Runs inside the namespace: the same loop over the kernel's loopback, one
# chunk per line read ("n": n round trips, answered with the seconds taken).
_STDLIB = r"""
import socket, sys, time
ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
ls.bind(("127.0.0.1", 0))
ls.listen()
client = socket.create_connection(ls.getsockname())
server, _ = ls.accept()
for line in sys.stdin:
    n = int(line)
    t0 = time.perf_counter()
    for _ in range(n):
        client.send(b"x"); server.recv(1); server.send(b"x"); client.recv(1)
    print(time.perf_counter() - t0, flush=True)
"""


def _caps() -> int:
    """Checksum offload on the pipe (what loopback does: no checksums)."""
    from ustack._native import lib

    return int(lib.UST_IFCAP_RXCSUM) | int(lib.UST_IFCAP_TXCSUM) | int(lib.UST_IFCAP_TXCSUM_IPV6)


class _Row:
    """One loop measured in chunks: ``chunk(n)`` runs n round trips and
    returns the seconds they took."""

    def chunk(self, n: int) -> float:
        raise NotImplementedError

    def close(self) -> None:
        pass


class UstackRow(_Row):
    """Two stacks over the pipe; blocking sockets, or non-blocking ones
    polled by hand (``a.poll(); b.poll()`` until the recv goes through)."""

    def __init__(self, *, virtual: bool = True, offload: bool = True, manual: bool = False) -> None:
        from ustack.sim import PipeRig

        self.rig = PipeRig(addresses=True, virtual=virtual, caps=_caps() if offload else 0)
        ls = self.rig.b.socket()
        ls.bind(("198.18.0.2", _PORT))
        ls.listen()
        self.client = self.rig.a.socket()
        self.client.connect(("198.18.0.2", _PORT))
        self.server, _ = ls.accept()
        ls.close()
        self.manual = manual
        if manual:
            self.client.setblocking(False)
            self.server.setblocking(False)

    def chunk(self, n: int) -> float:
        client, server = self.client, self.server
        if not self.manual:
            t0 = time.perf_counter()
            for _ in range(n):
                client.send(b"x")
                server.recv(1)
                server.send(b"x")
                client.recv(1)
            return time.perf_counter() - t0
        a, b = self.rig.a, self.rig.b
        t0 = time.perf_counter()
        for _ in range(n):
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
        return time.perf_counter() - t0

    def close(self) -> None:
        self.client.close()
        self.server.close()
        self.rig.a.close()
        self.rig.b.close()
        self.rig.pipe.close()


class StdlibRow(_Row):
    """The stdlib's sockets over loopback, in a child in the namespace."""

    def __init__(self, prefix: list[str]) -> None:
        self.proc = subprocess.Popen(
            [*prefix, sys.executable, "-c", _STDLIB],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def chunk(self, n: int) -> float:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(f"{n}\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the stdlib loop ended (exit {self.proc.wait()})")
        return float(line)

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


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


def _one_run(prefix: list[str] | None, n: int) -> dict[str, float]:
    """One run: every row set up afresh, warmed up, then measured in CHUNKS
    interleaved chunks; each row's figure is its median chunk (us per round
    trip)."""
    makers: dict[str, Any] = {
        "virtual": lambda: UstackRow(),
        "real": lambda: UstackRow(virtual=False),
        "soft": lambda: UstackRow(offload=False),
        "manual": lambda: UstackRow(manual=True),
    }
    if prefix is not None:
        makers["stdlib"] = lambda: StdlibRow(prefix)
    rows: dict[str, _Row] = {}
    try:
        for key, make in makers.items():
            rows[key] = make()
        per = max(1, n // CHUNKS)
        for row in rows.values():
            row.chunk(min(per, 1000))  # warm up
        chunks: dict[str, list[float]] = {key: [] for key in rows}
        for _ in range(CHUNKS):
            for key, row in rows.items():
                chunks[key].append(row.chunk(per) / per * 1e6)
    finally:
        for row in rows.values():
            row.close()
    return {key: statistics.median(vals) for key, vals in chunks.items()}


def run(ctx: Context) -> None:
    n = 5000 if ctx.quick else 100_000
    runs = min(ctx.runs, 3) if ctx.quick else ctx.runs
    load = os.getloadavg()[0]
    if load > 0.5:
        ctx.note(f"load average {load:.2f} when pyrr started: other work shared the CPUs")
    rows: dict[str, list[float]] = {k: [] for k in ("virtual", "real", "soft", "manual", "stdlib")}
    fast0 = _fast_waits()
    prefix, ns = _stdlib_prefix(ctx)
    try:
        for _ in range(runs):
            for key, value in _one_run(prefix if ns is not None else None, n).items():
                rows[key].append(value)
    finally:
        if ns is not None:
            ns.close()
    fast1 = _fast_waits()
    std = ctx.stats(rows["stdlib"]) if rows["stdlib"] else None
    params: dict[str, Any] = {
        "count": n,
        "chunks": CHUNKS,
        "figure": "median chunk of each run, the rows' chunks interleaved; median of runs",
        "message_bytes": 1,
        "python": sys.version.split()[0],
        "stdlib": "blocking socket.socket over loopback in a fresh namespace",
        "pipe": "checksum offload (as loopback), except the software-checksum row",
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
