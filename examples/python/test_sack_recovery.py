"""SACK loss recovery: only the holes are retransmitted (RFC 2018, RFC 6675).

With selective acknowledgments the receiver tells the sender exactly which
blocks above a hole it holds.  A sender following RFC 6675 enters loss
recovery at the third duplicate ACK carrying SACK information (DupThresh,
section 5), marks a segment lost once DupThresh segments above it are
SACKed (IsLost, section 4) and retransmits those holes (NextSeg) -- not the
whole window, as a go-back-N sender would.

The first test scripts the receiver: of ten segments, the third and sixth
are "lost"; the stack must resend exactly those two.  The second one runs
two stacks over a pipe losing 2% of the frames A sends (a seeded, replayable
loss pattern) and checks that A never retransmitted more segments than the
pipe lost.  Counters: tcps_sack_recovery_episode, tcps_sack_rexmits,
tcps_sndrexmitpack, tcps_rexmttimeo.
"""

from __future__ import annotations

import pytest

from ustack.scripting import TCP, Packet
from ustack.scripting.fixtures import PeerRig
from ustack.testing.pair import UstackPair

PORT = 8080
MSS = 1460


def has_data(p: Packet) -> bool:
    return "tcp" in p and len(p.tcp.payload) > 0


def test_two_holes_two_retransmissions(ustack_peer: PeerRig) -> None:
    stack, peer = ustack_peer.stack, ustack_peer.peer
    listener = stack.create_server(("", PORT))
    peer.send(TCP(dport=PORT, flags="S", seq=0, options=[("mss", MSS), ("sackOK",)]))
    synack = peer.expect(TCP(flags="SA", ack=1))
    assert "sackOK" in synack.tcp.options  # SACK agreed
    peer.send(TCP(dport=PORT, flags="A", seq=1, ack=1))
    conn, _ = listener.accept()
    conn.sendall(b"x" * 10 * MSS)
    # The initial window (10 segments) goes out at once.
    starts = [peer.expect(has_data).tcp.seq for _ in range(10)]
    assert starts == [1 + i * MSS for i in range(10)]

    hole1, hole2 = 1 + 2 * MSS, 1 + 5 * MSS  # segments 3 and 6 were lost

    def ack(blocks: list[tuple[int, int]]) -> None:
        """A duplicate ACK of the first hole, with SACK blocks (relative)."""
        peer.send(TCP(dport=PORT, flags="A", seq=1, ack=hole1, options=[("sack", blocks)]))

    peer.send(TCP(dport=PORT, flags="A", seq=1, ack=hole1))  # segments 1 and 2 arrived
    ack([(hole1 + MSS, hole1 + 2 * MSS)])  # 4 arrived
    ack([(hole1 + MSS, hole2)])  # 5
    peer.expect_none(has_data, within=0.01)  # two duplicate ACKs: not yet
    ack([(hole2 + MSS, hole2 + 2 * MSS), (hole1 + MSS, hole2)])  # 7: the third one
    assert peer.expect(has_data, within=0.01).tcp.seq == hole1  # the first hole
    ack([(hole2 + MSS, hole2 + 3 * MSS), (hole1 + MSS, hole2)])  # 8: 3 SACKed above hole 2
    assert peer.expect(has_data, within=0.01).tcp.seq == hole2  # the second hole
    ack([(hole2 + MSS, hole2 + 4 * MSS), (hole1 + MSS, hole2)])  # 9
    ack([(hole2 + MSS, hole2 + 5 * MSS), (hole1 + MSS, hole2)])  # 10
    peer.expect_none(has_data, within=0.01)  # 4, 5, 7..10 are never sent again
    peer.send(TCP(dport=PORT, flags="A", seq=1, ack=1 + 10 * MSS))  # the holes filled
    peer.expect_none(has_data, within=5)  # no timeout, nothing more

    tcp = stack.netstat()["tcp"]
    assert tcp["tcps_sack_recovery_episode"] == 1, tcp
    assert tcp["tcps_sack_rexmits"] == 2 and tcp["tcps_sndrexmitpack"] == 2, tcp
    assert tcp["tcps_rexmttimeo"] == 0, tcp


DATA = bytes(range(256)) * 8192  # 2 MiB


@pytest.mark.ustack(delay="10ms", rate="100Mbit", a_to_b={"loss": 0.02}, seed=5)
def test_seeded_loss_costs_only_the_lost_segments(ustack_pair: UstackPair) -> None:
    client, server = ustack_pair.connect(port=PORT)
    assert ustack_pair.stream(client, server, DATA) == DATA

    lost = ustack_pair.pipe.stats("a_to_b")["lost"]
    tcp = ustack_pair.a.netstat()["tcp"]
    assert lost > 0 and tcp["tcps_sack_recovery_episode"] > 0, tcp
    # Every retransmission repaired a loss: at most one per lost frame.
    assert 0 < tcp["tcps_sndrexmitpack"] <= lost, (tcp["tcps_sndrexmitpack"], lost)
    assert tcp["tcps_sack_rexmits"] > 0, tcp
