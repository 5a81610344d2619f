"""Threaded groups on the real clock: each stack polled by its own thread,
its sockets used from several Python threads at once (accept, send, recv,
close), with blocking calls that sleep in ust_socket_wait.  Nothing may
deadlock (every thread ends within its time limit) and every byte crosses
intact."""

from __future__ import annotations

import functools
import hashlib
import os
import random
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

import ustack
from ustack import EventQueue, StackGroup
from ustack.events import EV_IN
from ustack.sockets import Socket

ADDR_A = "198.18.0.1"
ADDR_B = "198.18.0.2"
SEED = int(os.environ.get("USTACK_TEST_SEED", "18"))
LIMIT = 60.0  # seconds a test's threads get before it is called a deadlock


@contextmanager
def threaded_groups(n: int = 2) -> Iterator[tuple[StackGroup, StackGroup]]:
    # notify: each lane end has a descriptor (a doorbell) the stack's thread
    # sleeps on, rung when a frame arrives.
    pipe = ustack.Pipe(seed=SEED, lanes=n, steer="rss", notify=True)
    ga = StackGroup(n, seed=SEED)
    gb = StackGroup(n, seed=SEED + 1000)
    try:
        ga.attach("pa0", pipe.lanes_of("a"), address=f"{ADDR_A}/24")
        gb.attach("pb0", pipe.lanes_of("b"), address=f"{ADDR_B}/24")
        ga.start()
        gb.start()
        yield ga, gb
    finally:
        ga.close()
        gb.close()
        pipe.close()


def _run_threads(fns: list[Callable[[], None]]) -> None:
    """Run every fn on a thread of its own; re-raise the first failure;
    fail when one is still running after LIMIT seconds (a deadlock)."""
    errors: list[BaseException] = []

    def wrap(fn: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                fn()
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        return run

    threads = [threading.Thread(target=wrap(fn), daemon=True) for fn in fns]
    for t in threads:
        t.start()
    end = time.monotonic() + LIMIT
    for t in threads:
        t.join(max(0.0, end - time.monotonic()))
    alive = [t for t in threads if t.is_alive()]
    assert not alive, f"{len(alive)} threads still running after {LIMIT} s (seed {SEED})"
    if errors:
        raise errors[0]


def _recv_all(sock: Socket, n: int) -> bytes:
    chunks = []
    while n:
        part = sock.recv(min(n, 65536))
        if not part:
            break
        chunks.append(part)
        n -= len(part)
    return b"".join(chunks)


def test_threads_use_sockets_of_both_stacks_at_once() -> None:
    per_stack = 4
    size = 200_000
    with threaded_groups(2) as (ga, gb):
        assert all(st.threaded for st in ga.stacks)
        listeners = [st.create_server((ADDR_B, 7000)) for st in gb.stacks]
        for lsock in listeners:
            lsock.settimeout(0.5)  # the accept loops look at `done` twice a second
        total = per_stack * len(ga.stacks)
        served: list[int] = []
        lock = threading.Lock()
        done = threading.Event()

        def serve(lsock: Socket, index: int) -> None:
            # Accepts in this thread, echoes each connection in another.
            handlers = []
            while not done.is_set():
                try:
                    conn, _ = lsock.accept()
                except TimeoutError:
                    continue
                with lock:
                    served.append(index)

                def echo(conn: Socket = conn) -> None:
                    conn.settimeout(LIMIT)
                    while True:
                        data = conn.recv(65536)
                        if not data:
                            break
                        conn.sendall(data)
                    conn.close()

                t = threading.Thread(target=echo, daemon=True)
                t.start()
                handlers.append(t)
                with lock:
                    if len(served) >= total:
                        done.set()
            for t in handlers:
                t.join(LIMIT)

        def client(stack: ustack.Stack, k: int) -> None:
            rng = random.Random(SEED * 100 + stack.index * 10 + k)
            data = rng.randbytes(size)
            c = stack.create_connection((ADDR_B, 7000), timeout=LIMIT)
            got: list[bytes] = []
            # A reader thread and this writer on one socket at once.
            reader = threading.Thread(target=lambda: got.append(_recv_all(c, size)), daemon=True)
            reader.start()
            c.sendall(data)
            reader.join(LIMIT)
            assert got and hashlib.sha256(got[0]).digest() == hashlib.sha256(data).digest(), (
                f"seed {SEED}: stack {stack.index} client {k}"
            )
            c.close()

        # The listeners stop accepting after `total`; done also set on a timeout.
        fns: list[Callable[[], None]] = [
            functools.partial(serve, ls, i) for i, ls in enumerate(listeners)
        ]
        fns += [functools.partial(client, st, k) for st in ga.stacks for k in range(per_stack)]
        try:
            _run_threads(fns)
        finally:
            done.set()
        assert len(served) == total
        for lsock in listeners:
            lsock.close()
        tcp = gb.netstat("tcp")["tcp"]
        assert tcp["tcps_accepts"] == total
        assert ga.rss_stats["rss_ring_full"] == 0


def test_group_event_queue_from_a_thread_and_close_while_waiting() -> None:
    with threaded_groups(2) as (ga, gb):
        listeners = [st.create_server((ADDR_B, 7001)) for st in gb.stacks]
        for lsock in listeners:
            lsock.setblocking(False)
        q = EventQueue(gb)
        for lsock in listeners:
            q.register(lsock, EV_IN)
        accepted: list[Any] = []

        def server() -> None:
            while len(accepted) < 6:
                for sock, _ in q.poll(LIMIT):
                    while True:
                        try:
                            conn, _ = sock.accept()
                        except BlockingIOError:
                            break
                        accepted.append(conn)

        def clients() -> None:
            for st in ga.stacks:
                for _ in range(3):
                    st.create_connection((ADDR_B, 7001), timeout=LIMIT).close()

        _run_threads([server, clients])
        assert len(accepted) == 6
        # A recv asleep in another thread ends (EBADF) when the socket is closed.
        conn = accepted[0]
        conn.settimeout(LIMIT)
        outcome: list[BaseException | bytes] = []

        def reader() -> None:
            try:
                outcome.append(conn.recv(10))
            except OSError as exc:
                outcome.append(exc)

        t = threading.Thread(target=reader, daemon=True)
        t.start()
        time.sleep(0.3)
        conn.close()
        t.join(5.0)
        assert not t.is_alive()
        assert outcome and (outcome[0] == b"" or isinstance(outcome[0], OSError))
        for c in accepted[1:]:
            c.close()
        q.close()


def test_a_held_stack_lock_stalls_only_that_stack() -> None:
    with threaded_groups(2) as (ga, gb):
        listeners = [st.create_server((ADDR_B, 7002)) for st in gb.stacks]
        for lsock in listeners:
            lsock.settimeout(LIMIT)
        polls = [st.stats["polls"] for st in ga.stacks]
        with ga.stacks[1].locked():
            time.sleep(0.5)
            during = [st.stats["polls"] for st in ga.stacks]  # the lock nests
        assert during[0] > polls[0] or ga.stacks[0].stats["polls"] >= polls[0]
        # Stack 0 still connects while stack 1 is held.
        held = threading.Event()
        release = threading.Event()

        def hold() -> None:
            with ga.stacks[1].locked():
                held.set()
                release.wait(LIMIT)

        t = threading.Thread(target=hold, daemon=True)
        t.start()
        assert held.wait(5.0)
        try:
            c = ga.stacks[0].create_connection((ADDR_B, 7002), timeout=10.0)
            c.sendall(b"x" * 1000)
            c.close()
        finally:
            release.set()
            t.join(5.0)
        for lsock in listeners:
            lsock.close()


def test_upcalls_run_on_the_stack_thread_without_deadlock() -> None:
    """An upcall runs on the stack's thread, which holds the stack lock: a
    call it makes on its own socket takes no lock (no self-deadlock), and
    a blocking call there is refused instead of waiting forever."""
    with threaded_groups(2) as (ga, gb):
        listeners = [st.create_server((ADDR_B, 7003)) for st in gb.stacks]
        data: list[bytes] = []
        refused: list[BaseException] = []
        arrived = threading.Event()
        c = ga.stacks[0].create_connection((ADDR_B, 7003), timeout=LIMIT)
        # The stack the SYN hashed to accepted it.
        owner = ustack.rss_queue(ustack.rss_hash_v4(ADDR_A, ADDR_B, c.getsockname()[1], 7003), 2)
        listeners[owner].settimeout(LIMIT)
        conn, _ = listeners[owner].accept()
        conn_stack = conn.stack

        def upcall(sock: Socket, events: int) -> None:
            while True:
                try:
                    part = sock.recv(100, socket.MSG_DONTWAIT)
                except BlockingIOError:
                    break
                if not part:
                    break
                data.append(part)
            if data and not refused:
                try:
                    sock.recv(100)  # would block: refused inside the stack's thread
                except RuntimeError as exc:
                    refused.append(exc)
                arrived.set()

        conn.set_upcall(upcall)
        c.sendall(b"hello from a thread")
        assert arrived.wait(10.0), "the upcall did not run"
        assert b"".join(data) == b"hello from a thread"
        assert refused and "callback" in str(refused[0])
        conn.set_upcall(None)
        assert conn_stack.threaded
        with pytest.raises(RuntimeError, match="polls itself"):
            conn_stack.poll()
        for s_ in (c, conn, *listeners):
            s_.close()
