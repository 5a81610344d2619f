"""StackGroup on a virtual clock (threads=False): two groups of stacks joined
by a pipe with lanes, polled by the World like lone stacks.

Every stack of group A connects to listeners on every stack of group B;
each connection's replies hash back to the stack that made it (connect()
picks its port so), the SYN is accepted on the stack of B its hash
selects, bytes cross intact, and the re-steering counters say whether the
pipe delivered frames on their owner's lane (steer "rss": none re-steered)
or on purpose on the wrong one ("spread": every one re-steered).
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

import ustack
from ustack import EventQueue, StackGroup, VirtualClock, rss_hash_v4, rss_queue
from ustack.events import EV_IN
from ustack.sockets import Socket

ADDR_A = "198.18.0.1"
ADDR_B = "198.18.0.2"
PORT = 8080
SEED = int(os.environ.get("USTACK_TEST_SEED", "18"))


@contextmanager
def groups(n: int, steer: str, seed: int = SEED) -> Iterator[tuple[StackGroup, StackGroup, object]]:
    """Groups A and B of ``n`` stacks on a pipe with ``n`` lanes."""
    clock = VirtualClock()
    pipe = ustack.Pipe(clock=clock, seed=seed, lanes=n, steer=steer)
    ga = StackGroup(n, threads=False, clock=clock, seed=seed)
    gb = StackGroup(n, threads=False, clock=clock, seed=seed + 1000)
    try:
        ga.attach("pa0", pipe.lanes_of("a"), address=f"{ADDR_A}/24")
        gb.attach("pb0", pipe.lanes_of("b"), address=f"{ADDR_B}/24")
        yield ga, gb, pipe
    finally:
        ga.close()
        gb.close()
        pipe.close()


def _listeners(g: StackGroup) -> list[Socket]:
    out = []
    for st in g.stacks:
        s = st.create_server((ADDR_B, PORT))
        s.setblocking(False)
        out.append(s)
    return out


def _accept_on(listeners: list[Socket], g: StackGroup) -> tuple[int, Socket]:
    """The next accepted connection and the index of the stack it is on."""
    found: list[tuple[int, Socket]] = []

    def ready() -> bool:
        for i, lsock in enumerate(listeners):
            try:
                conn, _ = lsock.accept()
            except BlockingIOError:
                continue
            found.append((i, conn))
            return True
        return False

    assert g.world.wait(ready, 5_000_000_000, "accept")
    return found[0]


@pytest.mark.parametrize("n", [2, 3])
def test_every_stack_to_every_stack_rss(n: int) -> None:
    with groups(n, "rss") as (ga, gb, _pipe):
        listeners = _listeners(gb)
        rng = random.Random(SEED)
        on_b: set[int] = set()
        for i, st in enumerate(ga.stacks):
            for k in range(4):
                c = st.create_connection((ADDR_B, PORT), timeout=5.0)
                lport = c.getsockname()[1]
                # Replies (B -> A) hash to the stack that connected.
                assert rss_queue(rss_hash_v4(ADDR_B, ADDR_A, PORT, lport), n) == i, (
                    f"seed {SEED}: stack {i} port {lport}"
                )
                j, s = _accept_on(listeners, gb)
                # The SYN is accepted where its own hash says.
                assert j == rss_queue(rss_hash_v4(ADDR_A, ADDR_B, lport, PORT), n)
                on_b.add(j)
                data = rng.randbytes(3000 + 1000 * k)
                c.sendall(data)
                got = b""
                s.settimeout(5.0)
                while len(got) < len(data):
                    part = s.recv(65536)
                    assert part
                    got += part
                assert got == data, f"seed {SEED}"
                s.sendall(got[::-1])
                back = b""
                while len(back) < len(data):
                    back += c.recv(65536)
                assert back == data[::-1]
                c.close()
                s.close()
        assert len(on_b) > 1 or n == 1  # the flows spread over B's stacks
        ga.run_until(None)
        for g in (ga, gb):
            rss = g.rss_stats
            assert rss["rss_steered_out"] == 0, rss
            assert rss["rss_steered_in"] == 0, rss
            assert rss["rss_local"] > 0, rss
            assert rss["rss_ring_full"] == 0, rss
        assert ga.rss_stats["lport_tries"] >= n * 4
        tcp = ga.netstat("tcp")["tcp"]
        assert tcp["tcps_connects"] == n * 4
        assert gb.netstat("tcp")["tcp"]["tcps_accepts"] == n * 4
        # The group's counters are the sum of its stacks'.
        assert ga.stats["rx_frames"] == sum(st.stats["rx_frames"] for st in ga.stacks)
        for lsock in listeners:
            lsock.close()


def test_spread_resteers_and_still_delivers() -> None:
    n = 2
    with groups(n, "spread") as (ga, gb, _pipe):
        listeners = _listeners(gb)
        rng = random.Random(SEED + 1)
        for st in ga.stacks:
            for _ in range(3):
                c = st.create_connection((ADDR_B, PORT), timeout=5.0)
                _, s = _accept_on(listeners, gb)
                data = rng.randbytes(20000)
                c.sendall(data)
                s.settimeout(5.0)
                got = b""
                while len(got) < len(data):
                    got += s.recv(65536)
                assert got == data, f"seed {SEED}"
                c.close()
                s.close()
        ga.run_until(None)
        for g in (ga, gb):
            total = g.rss_stats
            assert total["rss_steered_out"] > 0, total
            assert total["rss_steered_out"] == total["rss_steered_in"], total
            per = [g.rss_stats_of(i) for i in range(n)]
            assert sum(p["rss_steered_out"] for p in per) == total["rss_steered_out"]
        for lsock in listeners:
            lsock.close()


def test_group_event_queue_watches_every_stack() -> None:
    with groups(2, "rss") as (ga, gb, _pipe):
        listeners = _listeners(gb)
        q = EventQueue(gb)
        for lsock in listeners:
            q.register(lsock, EV_IN)
        clients = [
            st.create_connection((ADDR_B, PORT), timeout=5.0) for st in ga.stacks for _ in range(3)
        ]
        accepted = 0
        while accepted < len(clients):
            events = q.poll(5.0)
            assert events, "no event within 5 s"
            for sock, _ in events:
                while True:
                    try:
                        conn, _ = sock.accept()
                    except BlockingIOError:
                        break
                    accepted += 1
                    conn.close()
        assert accepted == len(clients)
        q.close()
        for c in clients:
            c.close()
        for lsock in listeners:
            lsock.close()


def test_shared_configuration_reaches_every_stack() -> None:
    with groups(2, "rss") as (ga, _gb, _pipe):
        old = ga.sysctl("net.inet.ip.ttl")
        assert ga.sysctl("net.inet.ip.ttl", 33) == old
        assert [st.sysctl("net.inet.ip.ttl") for st in ga.stacks] == [33, 33]
        ga.add_route("198.19.0.0/16", "198.18.0.2")
        for st in ga.stacks:
            assert st.route_lookup("198.19.1.1").gateway == "198.18.0.2"
        ga.arp_add("pa0", "198.18.0.9", "02:00:00:00:00:09")
        for st in ga.stacks:
            entry = st.arp_lookup("198.18.0.9")
            assert entry is not None and entry.mac == "02:00:00:00:00:09"
        assert [str(a) for a in ga.stacks[1].interface("pa0").addresses] == [f"{ADDR_A}/24"]
        assert len(ga) == 2 and ga[1] is ga.stacks[1] and ga[1].index == 1
        assert ga[0].group is ga


def test_a_group_stack_closes_with_its_group() -> None:
    clock = VirtualClock()
    g = StackGroup(2, threads=False, clock=clock, seed=1)
    with pytest.raises(RuntimeError, match="group.close"):
        g.stacks[0].close()
    s = g.stacks[1].socket()
    g.close()
    assert g.stacks[0].closed and s.closed
    g.close()  # idempotent


def test_threads_need_the_real_clock() -> None:
    with pytest.raises(ValueError, match="threads=False"):
        StackGroup(2, clock=VirtualClock())
