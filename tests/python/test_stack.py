"""The stack instance: lifetime, clock, deadlines, memory and counters."""

from __future__ import annotations

import gc

import pytest

import ustack
from ustack import Pipe, Stack, VirtualClock, run_until
from ustack.sim import PipeRig
from ustack.stack import IF_STATS_FIELDS, MEM_FIELDS, STACK_STATS_FIELDS


def test_create_and_close() -> None:
    st = Stack(seed=1)
    assert not st.closed
    assert st.poll() == 0
    st.close()
    assert st.closed
    st.close()  # idempotent
    with pytest.raises(ustack.Error):
        st.poll()


def test_context_manager_closes() -> None:
    with Stack(seed=1) as st:
        assert st.stats["polls"] == 0
    assert st.closed


def test_del_without_close_is_safe() -> None:
    clock = VirtualClock()
    for _ in range(20):
        st = Stack(clock=clock, seed=3)
        pipe = Pipe(clock=clock)
        st.add_interface(pipe.a, "pa0")
        del st, pipe
    gc.collect()


def test_pipe_closed_before_stack_detaches_interface() -> None:
    clock = VirtualClock()
    st = Stack(clock=clock, seed=1)
    pipe = Pipe(clock=clock)
    iface = st.add_interface(pipe.a, "pa0")
    pipe.close()
    assert not iface.attached
    assert st.interfaces == []
    assert st.poll() == 0
    st.close()


def test_virtual_clock_is_the_stacks_time(clock: VirtualClock, stack: Stack) -> None:
    assert stack.now == clock.now == 0
    clock.advance(1_500_000)
    assert stack.now == 1_500_000
    clock.set(10**9)
    assert stack.now == 10**9
    clock.set(5)  # time never moves back
    assert stack.now == 10**9
    with pytest.raises(ValueError):
        clock.advance(-1)


def test_virtual_clock_start() -> None:
    assert VirtualClock(start_ns=123).now == 123


def test_next_deadline_none_when_idle(stack: Stack) -> None:
    assert stack.poll() == 0
    assert stack.next_deadline is None


def test_run_until_deadline_advances_virtual_clock(clock: VirtualClock, stack: Stack) -> None:
    assert stack.run_until(clock.now + 5_000_000)
    assert stack.now == 5_000_000
    stack.run_for(1_000_000)
    assert stack.now == 6_000_000


def test_run_until_predicate_false_when_nothing_pending(stack: Stack) -> None:
    assert stack.run_until(lambda: False) is False
    assert stack.run_until(None) is True


def test_run_until_requires_one_clock() -> None:
    with Stack(clock=VirtualClock()) as a, Stack(clock=VirtualClock()) as b:
        with pytest.raises(ValueError):
            run_until([a, b])


def test_monotonic_clock_stack() -> None:
    with Stack() as st:
        t0 = st.now
        assert st.run_until(t0 + 2_000_000)
        assert st.now >= t0 + 2_000_000


def test_mem_stats(stack: Stack) -> None:
    mem = stack.mem
    assert set(mem) == set(MEM_FIELDS)
    assert mem["in_use"] > 0
    assert mem["peak"] >= mem["in_use"]
    assert mem["allocs"] >= mem["frees"]


def test_mem_limit_is_applied() -> None:
    with Stack(mem_limit=32 << 20) as st:
        assert st.mem["limit"] == 32 << 20


def test_zone_stats(stack: Stack) -> None:
    zones = stack.zone_stats()
    assert zones, "a stack has mbuf zones"
    names = [z["name"] for z in zones]
    assert any("mbuf" in n for n in names), names
    for z in zones:
        assert z["in_use"] == 0
        assert z["size"] > 0


def test_zone_limits_from_config() -> None:
    with Stack(nmbufs=1000) as st:
        mbuf = next(z for z in st.zone_stats() if z["name"] == "mbuf")
        assert mbuf["max"] == 1000


def test_stack_stats_keys(stack: Stack) -> None:
    stack.poll()
    stats = stack.stats
    assert set(stats) == set(STACK_STATS_FIELDS)
    assert stats["polls"] == 1


def test_bad_config_raises_einval() -> None:
    with pytest.raises(ustack.Error) as info:
        Stack(rx_burst=10_000)
    assert info.value.errname == "EINVAL"


def test_two_stacks_are_independent(clock: VirtualClock) -> None:
    with (
        Stack(clock=clock, seed=5) as a,
        Stack(clock=clock, seed=5) as b,
        Stack(clock=clock, seed=6) as c,
    ):
        for _ in range(3):
            a.poll()
        assert a.stats["polls"] == 3
        assert b.stats["polls"] == 0
        # Same seed, same sequence; each stack has its own PRNG.
        seq_a = [a.random() for _ in range(4)]
        seq_b = [b.random() for _ in range(4)]
        seq_c = [c.random() for _ in range(4)]
        assert seq_a == seq_b, "seed 5"
        assert seq_a != seq_c, "seeds 5 and 6"


def test_interfaces(clock: VirtualClock, stack: Stack, pipe: Pipe) -> None:
    iface = stack.add_interface(pipe.a, "pa0")
    assert iface.name == "pa0"
    assert iface.index >= 1
    assert iface.mac == "02:00:00:00:00:01"
    assert iface.mtu == 1500
    assert set(iface.stats) == set(IF_STATS_FIELDS)
    assert stack.interfaces == [iface]
    assert stack.interface("pa0") is iface
    with pytest.raises(ustack.Error) as info:
        stack.add_interface(pipe.a, "pa1")  # one interface per driver end
    assert info.value.errname == "EBUSY"
    iface.detach()
    assert stack.interfaces == []
    with pytest.raises(ustack.Error):
        iface.send_frame(b"\0" * 60)


def test_interface_indexes_stable_across_detach(clock: VirtualClock, stack: Stack) -> None:
    # IPv6 scope ids are interface indexes: a detach renumbers nothing,
    # and a free index is reused, the lowest first (FreeBSD's ifindex).
    with Pipe(clock=clock) as p1, Pipe(clock=clock) as p2, Pipe(clock=clock) as p3:
        a = stack.add_interface(p1.a, "pa0")
        b = stack.add_interface(p2.a, "pb0")
        c = stack.add_interface(p3.a, "pc0")
        assert (a.index, b.index, c.index) == (1, 2, 3)
        b.detach()
        assert (a.index, c.index) == (1, 3)
        assert stack._ifnames() == {1: "pa0", 3: "pc0"}
        d = stack.add_interface(p2.a, "pd0")
        assert d.index == 2
        assert stack._ifnames() == {1: "pa0", 2: "pd0", 3: "pc0"}


def test_pipe_macs_and_mtu(clock: VirtualClock) -> None:
    with Pipe(clock=clock, mtu=9000, macs=("02:aa:00:00:00:01", "02:aa:00:00:00:02")) as p:
        with Stack(clock=clock) as st:
            iface = st.add_interface(p.b, "pb0")
            assert iface.mac == "02:aa:00:00:00:02"
            assert iface.mtu == 9000


def test_tcp_table_rows_outlive_the_read_buffer() -> None:
    """tcp_connections() and the deadlock check (_resting_state) read the C
    table through a buffer that must live as long as the rows read from it:
    returned as a slice of a dead array, the rows were freed memory, reused
    by the next allocation of that size or unmapped, which crashed with the
    thousands of half-open rows of a SYN flood
    (examples/python/test_syn_flood_cookies.py found it)."""
    from ustack import ffi
    from ustack.inet import port_from_c
    from ustack.scripting import TCP, Peer

    with Stack(clock=VirtualClock(), seed=1) as st:
        listener = st.create_server(("", 80), backlog=8)
        with Peer(st) as peer:
            for sport in range(10_000, 12_000):
                peer.send(TCP(sport=sport, dport=80, flags="S", seq=0))
            rows = list(st._pcblist())
            gc.collect()
            # Allocations of the buffer's size, filled: they reuse its memory
            # if it was freed.
            junk = [ffi.new("struct ust_tcp_conn[]", len(rows)) for _ in range(8)]
            for j in junk:
                ffi.memmove(j, b"\xff" * ffi.sizeof(j), ffi.sizeof(j))
            ports = sorted(port_from_c(r.fport) for r in rows)
            assert ports == [0, *range(10_000, 12_000)]  # the listener's row, then the SYNs'
            assert len(st.tcp_connections()) == 2001
            assert len(st._resting_state()[0]) == 2001
        listener.close()


def test_deadlock_beside_a_listener_comes_after_one_keepalive_round() -> None:
    """An idle established connection is told stuck after one answered
    keepalive round (keepidle, 2 h of virtual time) or two, with a listener
    still open beside it: a listener's time since its last segment only
    grows, and counted as progress it hid the repeat until that count
    saturated (49.7 days of virtual time)."""
    with PipeRig(seed=1, addresses=True) as r:
        listener = r.b.create_server(("198.18.0.2", 7))
        client = r.a.create_connection(("198.18.0.2", 7))
        conn, _ = listener.accept()
        start = r.b.now
        with pytest.raises(ustack.Deadlock) as ei:
            conn.recv(1)
        assert ei.value.now - start <= 3 * 7200 * 10**9, ei.value.now
        for s in (client, conn, listener):
            s.close()
