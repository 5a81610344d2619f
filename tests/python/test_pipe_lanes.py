"""The pipe's lanes from Python: ``Pipe(lanes=, steer=)``, one stack per lane.

Ordinary stacks (no group) on one virtual clock, each attached to one lane
end: UDP datagrams from every lane of A arrive on the lane of B their
Toeplitz hash selects (computed here independently), on the lane they were
sent from (``same``), or on the next lane (``spread``); with ``same`` each
lane pair is a link of its own and TCP runs over each; counters per lane sum
to the direction's.
"""

from __future__ import annotations

import ipaddress
import struct

import pytest

import ustack
from ustack import Pipe, Stack, VirtualClock
from ustack.pipe import Steer

pytestmark = pytest.mark.sim

ADDR_A, ADDR_B = "198.18.0.1", "198.18.0.2"
PORT = 7000
# Microsoft's RSS verification key, the default of every NIC and of the pipe.
KEY = bytes.fromhex(
    "6d5a56da255b0ec24167253d43a38fb0d0ca2bcbae7b30b477cb2da38030f20c6a42b73bbeac01fa"
)


def toeplitz(key: bytes, data: bytes) -> int:
    """The Toeplitz hash of data under key (the RSS specification)."""
    k = int.from_bytes(key, "big")
    klen = len(key) * 8
    h = 0
    for i, byte in enumerate(data):
        for b in range(8):
            if byte & (0x80 >> b):
                h ^= (k >> (klen - 32 - (i * 8 + b))) & 0xFFFFFFFF
    return h


def rss_lane(src: str, dst: str, sport: int, dport: int, lanes: int) -> int:
    data = (
        ipaddress.IPv4Address(src).packed
        + ipaddress.IPv4Address(dst).packed
        + struct.pack("!HH", sport, dport)
    )
    return (toeplitz(KEY, data) % 128) % lanes


def test_toeplitz_helper_matches_the_specification() -> None:
    # Microsoft's verification suite, IPv4 with ports: 66.9.149.187:2794 ->
    # 161.142.100.80:1766 hashes to 0x51ccc178.
    data = (
        ipaddress.IPv4Address("66.9.149.187").packed
        + ipaddress.IPv4Address("161.142.100.80").packed
        + struct.pack("!HH", 2794, 1766)
    )
    assert toeplitz(KEY, data) == 0x51CCC178


class LaneRig:
    """``lanes`` stacks per side of one pipe, A's at ADDR_A, B's at ADDR_B,
    with static ARP entries (an ARP reply would come back on lane 0 only)."""

    def __init__(self, lanes: int, steer: str, seed: int = 1) -> None:
        self.clock = VirtualClock()
        self.pipe = Pipe(clock=self.clock, lanes=lanes, steer=steer, seed=seed, ring_size=256)
        self.a: list[Stack] = []
        self.b: list[Stack] = []
        for i in range(lanes):
            for side, addr, peer, out in (
                ("a", ADDR_A, ADDR_B, self.a),
                ("b", ADDR_B, ADDR_A, self.b),
            ):
                st = Stack(clock=self.clock, seed=seed * 100 + len(out) * 2 + (side == "b"))
                ifc = st.add_interface(self.pipe.lane(side, i), "p0", f"{addr}/24")
                st.arp_add(ifc, peer, "02:00:00:00:00:0" + ("2" if side == "a" else "1"))
                out.append(st)

    @property
    def stacks(self) -> list[Stack]:
        return self.a + self.b

    def run(self, ns: int = 10_000_000) -> None:
        ustack.run_until(self.stacks, self.stacks[0].now + ns)

    def close(self) -> None:
        for st in self.stacks:
            st.close()
        self.pipe.close()


@pytest.mark.parametrize(("lanes", "steer"), [(2, "rss"), (4, "rss"), (2, "spread"), (4, "same")])
def test_udp_flows_arrive_on_their_lane(lanes: int, steer: str) -> None:
    rig = LaneRig(lanes, steer)
    try:
        servers = []
        for st in rig.b:
            s = st.socket(ustack.AF_INET, ustack.SOCK_DGRAM)
            s.bind(("", PORT))
            s.setblocking(False)
            servers.append(s)
        sent: dict[tuple[int, int], bytes] = {}
        clients = []
        for i, st in enumerate(rig.a):
            for j in range(8):
                c = st.socket(ustack.AF_INET, ustack.SOCK_DGRAM)
                sport = 20000 + i * 100 + j
                c.bind(("", sport))
                payload = struct.pack("!HH", i, sport) + bytes(
                    (i + j + k) & 0xFF for k in range(300)
                )
                c.sendto(payload, (ADDR_B, PORT))
                sent[(i, sport)] = payload
                clients.append(c)
        rig.run()
        got = 0
        for lane, s in enumerate(servers):
            while True:
                try:
                    data, peer = s.recvfrom(2048)
                except BlockingIOError:
                    break
                got += 1
                i, sport = struct.unpack("!HH", data[:4])
                assert peer == (ADDR_A, sport)
                assert sent[(i, sport)] == data, f"lane {lane}: bytes differ"
                q = rss_lane(ADDR_A, ADDR_B, sport, PORT, lanes)
                want = {"rss": q, "spread": (q + 1) % lanes, "same": i}[steer]
                assert lane == want, f"flow {i}/{sport} on lane {lane}, expected {want}"
        assert got == len(sent)
        total = rig.pipe.stats("a_to_b")
        per_lane = [rig.pipe.lane_stats("a_to_b", lane) for lane in range(lanes)]
        # The stacks send a few frames of their own too (gratuitous ARP).
        assert sum(p["delivered"] for p in per_lane) == total["delivered"] == total["sent"]
        assert sum(p["sent"] for p in per_lane) == total["sent"] >= got
        assert all(p["sent"] >= 8 for p in per_lane)
        for c in clients:
            c.close()
        for s in servers:
            s.close()
    finally:
        rig.close()


def test_same_steer_lanes_are_independent_links_for_tcp() -> None:
    lanes = 2
    rig = LaneRig(lanes, "same")
    try:
        for i in range(lanes):
            srv = rig.b[i].create_server(("", 5000 + i))
            cli = rig.a[i].create_connection((ADDR_B, 5000 + i))
            conn, _ = srv.accept()
            data = bytes(range(256)) * 64 * (i + 1)
            cli.sendall(data)
            got = b""
            while len(got) < len(data):
                got += conn.recv(65536)
            assert got == data
            for s in (cli, conn, srv):
                s.close()
        assert rig.pipe.lane_stats("a_to_b", 0)["sent"] > 0
        assert rig.pipe.lane_stats("a_to_b", 1)["sent"] > 0
    finally:
        rig.close()


def test_lane_api_and_validation() -> None:
    with Pipe(lanes=3, steer=Steer.SPREAD) as p:
        assert p.lanes == 3 and p.steer is Steer.SPREAD
        assert [e.label for e in p.lanes_of("b")] == ["b0", "b1", "b2"]
        assert p.lane("a", 0).label == "a0"
        with pytest.raises(ValueError):
            p.lane("a", 3)
        with pytest.raises(ValueError):
            p.lane("c", 0)
        with pytest.raises(ustack.Error):
            p.lane_stats("a_to_b", 3)
        st = Stack()
        st.add_interface(p.lane("a", 1), "p0")
        with pytest.raises(ustack.Error):
            Stack().add_interface(p.lane("a", 1), "p0")
        st.close()
    with Pipe() as p:
        assert p.lanes == 1 and p.a.label == "a" and p.lanes_of("a")[0].label == "a"
    for bad in (0, 65):
        with pytest.raises(ValueError):
            Pipe(lanes=bad)
    with pytest.raises(ValueError):
        Pipe(lanes=2, steer="nowhere")
    with pytest.raises(ValueError):
        Pipe(lanes=2, rss_key=b"short")
    assert Steer.parse("same") is Steer.SAME and Steer.parse(2) is Steer.SPREAD


def test_notify_gives_each_end_a_descriptor() -> None:
    import select

    with Pipe(lanes=2, steer="same", notify=True) as p:
        fds = [e.fileno() for e in p.lanes_of("a") + p.lanes_of("b")]
        assert all(fd >= 0 for fd in fds) and len(set(fds)) == 4
        a, b = Stack(), Stack()
        ia = a.add_interface(p.lane("a", 1), "p0")
        b.add_interface(p.lane("b", 1), "p0")
        b.poll()
        fd = p.lane("b", 1).fileno()
        ia.send_frame(
            b"\xff" * 6 + bytes.fromhex(ia.mac.replace(":", "")) + b"\x88\xb5" + bytes(50)
        )
        a.poll()
        assert select.select([fd], [], [], 0)[0] == [fd]
        b.poll()
        assert select.select([fd], [], [], 0)[0] == []
        a.close()
        b.close()
    with Pipe() as p:
        assert p.a.fileno() == -1
