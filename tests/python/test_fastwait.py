"""The C fast path of blocking socket calls (python_bindings/ext/wait.c,
World._fast_call): taken when it applies, and exactly the Python loop's
semantics -- timeouts, Deadlock, callbacks' exceptions, threads, clock jumps."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

import ustack.world as world
from ustack import Deadlock, Faults
from ustack.sim import PipeRig
from ustack.sockets import Socket

PORT = 7021
SEED = 21


@pytest.fixture(params=[True, False], ids=["fast", "python"])
def fast(request: pytest.FixtureRequest) -> Iterator[bool]:
    """Each test runs with the fast path on, and with the Python loop only."""
    was = world.fast_path(request.param)
    try:
        yield request.param
    finally:
        world.fast_path(was)


def connected(rig: PipeRig) -> tuple[Socket, Socket]:
    ls = rig.b.socket()
    ls.bind(("198.18.0.2", PORT))
    ls.listen()
    client = rig.a.socket()
    client.connect(("198.18.0.2", PORT))
    server, _ = ls.accept()
    ls.close()
    return client, server


def waits_during(fn: Any) -> int:
    before = world.fast_waits()
    fn()
    return world.fast_waits() - before


def test_round_trips_take_the_fast_path(fast: bool) -> None:
    with PipeRig(seed=SEED, addresses=True) as rig:
        client, server = connected(rig)

        def ping_pong() -> None:
            for i in range(50):
                assert client.send(bytes([i])) == 1
                assert server.recv(1) == bytes([i])
                assert server.send(b"yz") == 2
                assert client.recv(10) == b"yz"

        n = waits_during(ping_pong)
        # Each recv waits for the other side's segment: 100 waits in C, or
        # none with the fast path off (so this test fails without it).
        assert n == (100 if fast else 0)
        w = rig.a.world
        assert (w._fast_ident == threading.get_ident()) is fast


def test_same_run_either_way() -> None:
    """A lossy transfer ends at the same virtual time with the same counters
    whether the waits ran in C or in Python."""

    def run(flag: bool) -> tuple[bytes, int, dict[str, int], dict[str, int], int]:
        world.fast_path(flag)
        faults = Faults(loss=0.05, delay_ns=1_000_000)
        with PipeRig(seed=SEED, addresses=True, a_to_b=faults, b_to_a=faults) as rig:
            client, server = connected(rig)
            data = bytes(range(256)) * 200
            got = bytearray()
            before = world.fast_waits()
            client.sendall(data[:20000])
            while len(got) < 20000:
                got += server.recv(65536)
            for i in range(20):
                client.send(b"q%d" % i)
                server.recv(10)
                server.send(b"r")
                client.recv(10)
            return bytes(got), rig.a.now, rig.a.stats, rig.b.stats, world.fast_waits() - before

    try:
        fast_run = run(True)
        slow_run = run(False)
    finally:
        world.fast_path(True)
    print(f"seed {SEED}: end at {fast_run[1]} ns, {fast_run[4]} waits in C")
    assert fast_run[4] > 0 and slow_run[4] == 0
    assert fast_run[0] == slow_run[0] == (bytes(range(256)) * 200)[:20000]
    assert fast_run[1] == slow_run[1]
    assert fast_run[2] == slow_run[2]
    assert fast_run[3] == slow_run[3]


def test_timeout_moves_the_virtual_clock_to_the_limit(fast: bool) -> None:
    with PipeRig(seed=SEED, addresses=True) as rig:
        client, server = connected(rig)
        server.settimeout(2.5)
        start = rig.b.now
        n0 = world.fast_waits()
        with pytest.raises(TimeoutError, match="timed out"):
            server.recv(1)
        assert rig.b.now == start + 2_500_000_000
        assert world.fast_waits() - n0 == (1 if fast else 0)
        # The socket still works after the timeout.
        client.send(b"k")
        assert server.recv(1) == b"k"


def test_timeout_with_nothing_pending(fast: bool) -> None:
    """Nothing pending at all (a UDP socket, no timer): the wait gives up at
    once, and the clock is moved to the limit (a real wait would have taken
    that long); without a timeout it is a Deadlock."""
    import socket

    with PipeRig(seed=SEED, addresses=True) as rig:
        udp = rig.b.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind(("198.18.0.2", PORT))
        rig.a.world.run_until()  # until quiet
        assert rig.a.next_deadline is None and rig.b.next_deadline is None
        udp.settimeout(7.0)
        start = rig.b.now
        n0 = world.fast_waits()
        with pytest.raises(TimeoutError):
            udp.recv(1)
        assert rig.b.now == start + 7_000_000_000
        udp.settimeout(None)
        with pytest.raises(Deadlock, match="nothing is pending"):
            udp.recv(1)
        assert world.fast_waits() - n0 == (2 if fast else 0)
        sender = rig.a.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sender.sendto(b"dgram", ("198.18.0.2", PORT))
        assert udp.recvfrom(100) == (b"dgram", ("198.18.0.1", sender.getsockname()[1]))
        udp.settimeout(1.0)
        sender.sendto(b"d2", ("198.18.0.2", PORT))
        assert udp.recv(100) == b"d2"


def test_tiny_timeout_polls_then_times_out(fast: bool) -> None:
    with PipeRig(seed=SEED, addresses=True) as rig:
        _, server = connected(rig)
        server.settimeout(1e-10)  # 0 ns: polls until idle, then the limit
        start = rig.b.now
        with pytest.raises(TimeoutError):
            server.recv(1)
        assert rig.b.now == start


def test_non_blocking_would_block(fast: bool) -> None:
    with PipeRig(seed=SEED, addresses=True) as rig:
        client, server = connected(rig)
        server.setblocking(False)
        start = rig.b.now
        with pytest.raises(BlockingIOError):
            server.recv(1)
        assert rig.b.now == start  # nothing polled, no time passed
        client.send(b"n")
        rig.a.world.run_until(lambda: False, timeout_ns=1_000_000)
        assert server.recv(1) == b"n"


def test_deadlock_when_nothing_can_end_the_wait(fast: bool) -> None:
    with PipeRig(seed=SEED, addresses=True) as rig:
        _, server = connected(rig)
        n0 = world.fast_waits()
        with pytest.raises(Deadlock) as info:
            server.recv(1)
        assert info.value.call == "recv()"
        assert info.value.socket is server
        assert world.fast_waits() - n0 == (1 if fast else 0)


def test_deadlock_of_an_idle_keepalive_connection(fast: bool) -> None:
    """Keepalives answered forever: the repeat detection (left to Python at
    the big clock jumps) ends the wait, after the same virtual time."""
    from ustack.constants import SO_KEEPALIVE, SOL_SOCKET

    with PipeRig(seed=SEED, addresses=True) as rig:
        client, server = connected(rig)
        client.setsockopt(SOL_SOCKET, SO_KEEPALIVE, 1)
        start = rig.a.now
        with pytest.raises(Deadlock, match="repeats itself"):
            server.recv(1)
        # At least one keepalive round (2 h of idle time) passed.
        assert rig.a.now - start >= 7200 * 10**9


def test_retransmission_after_loss(fast: bool) -> None:
    """recv waits for the retransmission of a lost segment: the virtual clock
    jumps to the retransmission timer."""
    with PipeRig(seed=SEED, addresses=True) as rig:
        client, server = connected(rig)
        seen: list[bytes] = []

        def drop_first_data(frame: bytes) -> bool:
            if frame.endswith(b"lost-then-found"):
                seen.append(frame)
                return len(seen) == 1  # consume (drop) the first copy only
            return False

        rig.ib.set_input_hook(drop_first_data)
        start = rig.a.now
        n0 = world.fast_waits()
        client.send(b"lost-then-found")
        assert server.recv(100) == b"lost-then-found"
        assert len(seen) == 2  # the original, dropped, and the retransmission
        assert rig.a.now - start >= 30_000_000  # net.inet.tcp.rexmit_min at least
        assert world.fast_waits() - n0 == (1 if fast else 0)


class Boom(Exception):
    pass


def test_input_hook_exception_propagates(fast: bool) -> None:
    with PipeRig(seed=SEED, addresses=True) as rig:
        client, server = connected(rig)

        def hook(frame: bytes) -> bool:
            if frame.endswith(b"boom"):
                raise Boom("from the input hook")
            return False

        rig.ib.set_input_hook(hook)
        client.send(b"boom")
        n0 = world.fast_waits()
        with pytest.raises(Boom):
            server.recv(10)
        assert world.fast_waits() - n0 == (1 if fast else 0)
        # The frame was dropped by the failed hook; the retransmission
        # raises again: remove the hook and the data arrives.
        rig.ib.set_input_hook(None)
        assert server.recv(10) == b"boom"


def test_upcall_exception_propagates(fast: bool) -> None:
    with PipeRig(seed=SEED, addresses=True) as rig:
        client, server = connected(rig)
        calls: list[int] = []

        def upcall(sock: Socket, events: int) -> None:
            calls.append(events)
            raise Boom("from the upcall")

        server.set_upcall(upcall)
        client.send(b"u")
        with pytest.raises(Boom):
            server.recv(1)
        assert calls
        server.set_upcall(None)
        assert server.recv(1) == b"u"


def test_exception_pending_before_the_call_is_raised_by_a_poll(fast: bool) -> None:
    """An exception a callback stored outside a poll (an upcall run by
    shutdown) is raised by the next poll, not lost, as with the Python loop."""
    import socket

    with PipeRig(seed=SEED, addresses=True) as rig:
        client, server = connected(rig)
        raised: list[int] = []

        def upcall(sock: Socket, events: int) -> None:
            raised.append(events)
            raise Boom("stored during shutdown")

        client.set_upcall(upcall)
        try:
            client.shutdown(socket.SHUT_WR)  # runs the upcall, outside any poll
        except Boom:
            pytest.skip("shutdown raised the upcall's exception itself")
        client.set_upcall(None)
        assert raised
        with pytest.raises(Boom):
            server.recv(1)
        assert server.recv(1) == b""  # the FIN
        assert server.recv(1) == b""


def test_blocking_call_from_a_callback_is_refused(fast: bool) -> None:
    with PipeRig(seed=SEED, addresses=True) as rig:
        client, server = connected(rig)
        other, other_server = connected_again(rig)
        errors: list[BaseException] = []

        def upcall(sock: Socket, events: int) -> None:
            try:
                other_server.recv(1)  # blocking, inside a poll
            except BaseException as exc:  # noqa: BLE001 - looked at below
                errors.append(exc)
                raise

        server.set_upcall(upcall)
        client.send(b"c")
        with pytest.raises(RuntimeError, match="inside a stack callback"):
            server.recv(1)
        assert isinstance(errors[0], RuntimeError)
        server.set_upcall(None)
        assert server.recv(1) == b"c"
        other.close()


def connected_again(rig: PipeRig) -> tuple[Socket, Socket]:
    ls = rig.b.socket()
    ls.bind(("198.18.0.2", PORT + 1))
    ls.listen()
    client = rig.a.socket()
    client.connect(("198.18.0.2", PORT + 1))
    server, _ = ls.accept()
    ls.close()
    return client, server


def test_non_blocking_calls_from_a_callback_still_work(fast: bool) -> None:
    with PipeRig(seed=SEED, addresses=True) as rig:
        client, server = connected(rig)
        got: list[bytes] = []

        def upcall(sock: Socket, events: int) -> None:
            try:
                got.append(sock.recv(10))
            except BlockingIOError:
                pass

        server.setblocking(False)
        server.set_upcall(upcall)
        client.send(b"cb")
        rig.a.world.run_until(lambda: bool(got), timeout_ns=10**9)
        assert got == [b"cb"]


def test_two_threads_fall_back_and_work(fast: bool) -> None:
    """A server thread and the main thread in one world on a virtual clock:
    the world has two users, so both take the Python loop, as before."""
    with PipeRig(seed=SEED, addresses=True) as rig:
        ls = rig.b.socket()
        ls.bind(("198.18.0.2", PORT))
        ls.listen()
        echoed: list[bytes] = []

        def serve() -> None:
            conn, _ = ls.accept()
            while True:
                data = conn.recv(100)
                if not data:
                    break
                conn.send(data)
                echoed.append(data)
            conn.close()

        t = threading.Thread(target=serve)
        t.start()
        client = rig.a.socket()
        client.connect(("198.18.0.2", PORT))
        for i in range(20):
            client.send(b"m%d" % i)
            assert client.recv(100) == b"m%d" % i
        assert rig.a.world._fast_ident is None  # two users: no fast path
        client.close()
        t.join(timeout=30)
        assert not t.is_alive()
        assert len(echoed) == 20
        # The server thread ended: the main thread alone again, fast again.
        c2, s2 = connected_again(rig)
        n0 = world.fast_waits()
        c2.send(b"again")
        assert s2.recv(10) == b"again"
        assert world.fast_waits() - n0 == (1 if fast else 0)


def test_real_clock_timeout(fast: bool) -> None:
    with PipeRig(seed=SEED, addresses=True, virtual=False) as rig:
        client, server = connected(rig)
        server.settimeout(0.05)
        t0 = time.monotonic()
        with pytest.raises(TimeoutError):
            server.recv(1)
        assert time.monotonic() - t0 >= 0.049
        client.send(b"r")
        server.settimeout(5)
        assert server.recv(1) == b"r"


def test_closed_socket(fast: bool) -> None:
    with PipeRig(seed=SEED, addresses=True) as rig:
        client, server = connected(rig)
        server.close()
        with pytest.raises(OSError, match="closed"):
            server.recv(1)
        with pytest.raises(OSError, match="closed"):
            server.send(b"x")


def test_closed_stack_is_not_polled(fast: bool) -> None:
    """A stack of the world closed between calls: the C view is renewed."""
    with PipeRig(seed=SEED, addresses=True) as rig:
        client, server = connected(rig)
        client.send(b"a")
        assert server.recv(1) == b"a"
        extra = rig.a.world  # the world the next call renews
        from ustack import Stack

        lone = Stack(clock=rig.clock, seed=3)
        assert lone.world is extra
        lone.close()
        client.send(b"b")
        assert server.recv(1) == b"b"


def test_connect_and_accept_wait_in_c(fast: bool) -> None:
    with PipeRig(seed=SEED, addresses=True) as rig:
        ls = rig.b.socket()
        ls.bind(("198.18.0.2", PORT))
        ls.listen()
        n0 = world.fast_waits()
        client = rig.a.socket()
        client.connect(("198.18.0.2", PORT))
        server, peer = ls.accept()
        assert peer == client.getsockname()
        assert server.getpeername() == client.getsockname()
        assert world.fast_waits() - n0 == (1 if fast else 0)  # connect waited
        # Refused: the error of the connect, from SO_ERROR.
        refused = rig.a.socket()
        with pytest.raises(ConnectionRefusedError):
            refused.connect(("198.18.0.2", PORT + 9))
        ls.settimeout(0.5)
        start = rig.b.now
        with pytest.raises(TimeoutError):
            ls.accept()
        assert rig.b.now == start + 500_000_000


def test_signal_interrupts_a_real_clock_wait(fast: bool) -> None:
    """A signal handler's exception ends a blocking recv on the real clock
    at once (the C loop hands every real-clock sleep to Python)."""
    import signal

    def alarm(signum: int, frame: Any) -> None:
        raise Boom("alarm")

    with PipeRig(seed=SEED, addresses=True, virtual=False) as rig:
        _, server = connected(rig)
        server.settimeout(5.0)
        old = signal.signal(signal.SIGALRM, alarm)
        try:
            t0 = time.monotonic()
            signal.setitimer(signal.ITIMER_REAL, 0.05)
            with pytest.raises(Boom):
                server.recv(1)
            assert time.monotonic() - t0 < 2.0
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)


def test_stack_collected_during_a_wait_is_closed_after_it(fast: bool) -> None:
    """A stack of the world that the garbage collector frees while a wait
    polls it (here from an input hook) is closed only once the C call is
    over, as the Python loop keeps its stacks alive while it waits."""
    import gc
    import weakref

    from ustack import Stack

    gc.collect()  # the garbage of earlier tests first
    with PipeRig(seed=SEED, addresses=True) as rig:
        client, server = connected(rig)
        extra = Stack(clock=rig.clock, seed=5)
        assert extra.world is rig.a.world
        ref = weakref.ref(extra)
        extra.cycle = extra  # type: ignore[attr-defined]  # only the cyclic GC frees it
        del extra
        deferred: list[int] = []

        def hook(frame: bytes) -> bool:
            if frame.endswith(b"gc"):
                gc.collect()
                deferred.append(len(world._DEFERRED))
            return False

        rig.ib.set_input_hook(hook)
        client.send(b"gc")
        assert server.recv(2) == b"gc"
        rig.ib.set_input_hook(None)
        assert deferred == [1 if fast else 0]
        assert not world._DEFERRED
        gc.collect()
        assert ref() is None
        client.send(b"ok")
        assert server.recv(2) == b"ok"


def test_fast_path_switch() -> None:
    assert world.fast_path() is True
    assert world.fast_path(False) is True
    try:
        assert world.fast_path(False) is False  # idempotent
        assert world._BUSY[0] == 1
    finally:
        assert world.fast_path(True) is False
    assert world._BUSY[0] == 0 and world.fast_path() is True


def test_huge_timeout_takes_the_python_loop(fast: bool) -> None:
    """A timeout too large for C's int64 nanoseconds (here 317 years): the
    Python loop, which has no such bound."""
    with PipeRig(seed=SEED, addresses=True) as rig:
        client, server = connected(rig)
        server.settimeout(1e10)
        n0 = world.fast_waits()
        client.send(b"h")
        assert server.recv(1) == b"h"
        assert world.fast_waits() == n0


def test_large_reads_intact(fast: bool) -> None:
    """Reads of 1,024 bytes and more: the data may come in a buffer the stack
    lends (ust_py_recv), copied once and given back; the bytes are intact
    and the stack's buffers all come back."""
    with PipeRig(seed=SEED, addresses=True) as rig:
        client, server = connected(rig)

        def clusters() -> int:
            return sum(z["in_use"] for z in rig.b.zone_stats() if z["name"].startswith("mbuf"))

        in_use = clusters()
        for i in range(30):
            msg = bytes((i + k) & 0xFF for k in range(1400))
            client.sendall(msg)
            got = b""
            while len(got) < len(msg):
                got += server.recv(4096)
            assert got == msg
            server.send(b"k")
            assert client.recv(10) == b"k"
        rig.a.world.run_until(lambda: False, timeout_ns=1_000_000_000)
        assert clusters() == in_use  # every lent buffer given back
