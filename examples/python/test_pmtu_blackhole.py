"""PMTU black-hole detection (RFC 2923 2.1, RFC 4821; FreeBSD's
net.inet.tcp.pmtud_blackhole_detection).

Path MTU discovery (RFC 1191) needs the ICMP "fragmentation needed" that a
router sends when a packet with DF does not fit.  A path that drops such
packets silently -- a tunnel, a firewall eating ICMP -- is a black hole:
the handshake works, small requests work, and every full-sized segment
vanishes.  With detection on (the knob is 0 by default, as in FreeBSD) the
sender treats timeouts of full-sized segments as a hint: after two
transmissions at the connection's MSS it tries net.inet.tcp.pmtud_blackhole_mss
(1200), after two more the default MSS (536), and restores the MSS if even
that fails.  Counters: tcps_pmtud_blackhole_activated,
tcps_pmtud_blackhole_activated_min_mss, tcps_pmtud_blackhole_failed.
"""

from __future__ import annotations

import socket

import pytest

from ustack.scripting import TCP
from ustack.scripting.fixtures import PeerRig
from ustack.testing.pair import UstackPair

PORT = 8080
FITS = 1240  # the largest IP packet the path carries (no ICMP for bigger ones)


def test_mss_steps_down_after_two_timeouts(ustack_peer: PeerRig) -> None:
    stack, peer = ustack_peer.stack, ustack_peer.peer
    stack.sysctl("net.inet.tcp.pmtud_blackhole_detection", 1)
    listener = stack.create_server(("", PORT))
    peer.send(TCP(dport=PORT, flags="S", seq=0, options=[("mss", 1460)]))
    peer.expect(TCP(flags="SA", ack=1))
    peer.send(TCP(dport=PORT, flags="A", seq=1, ack=1))
    conn, _ = listener.accept()
    conn.sendall(bytes(20_000))

    delivered = 1  # what the peer has received in order (relative)
    sizes = []  # (time, seq, payload length) of every data segment
    while delivered < 20_001:
        seg = peer.expect(lambda p: len(p.tcp.payload) > 0, within=10)
        sizes.append((seg.time, seg.tcp.seq, len(seg.tcp.payload)))
        if len(seg.ip_bytes) > FITS:
            continue  # lost in the black hole, silently
        if seg.tcp.seq == delivered:
            delivered += len(seg.tcp.payload)
            peer.send(TCP(dport=PORT, flags="A", seq=1, ack=delivered))

    # The initial window at MSS 1460, all lost; its first segment again after
    # the 1 s timeout; after the second timeout (2 s later) MSS 1200 gets through.
    assert sizes[:10] == [(0.0, 1 + i * 1460, 1460) for i in range(10)]
    assert sizes[10] == (1.0, 1, 1460)
    assert sizes[11] == (3.0, 1, 1200)
    assert {n for _, _, n in sizes[11:-1]} == {1200}
    info = conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO)
    assert info.tcpi_snd_mss == 1200
    tcp = stack.netstat()["tcp"]
    assert tcp["tcps_pmtud_blackhole_activated"] == 1, tcp
    assert tcp["tcps_pmtud_blackhole_activated_min_mss"] == 0, tcp
    assert tcp["tcps_rexmttimeo"] == 2, tcp


@pytest.mark.parametrize("detection", [1, 0], ids=["detection-on", "detection-off"])
@pytest.mark.ustack(delay="10ms", a_to_b={"max_frame": FITS}, seed=3)
def test_transfer_through_a_black_hole(ustack_pair: UstackPair, detection: int) -> None:
    """Two stacks; the link from A to B drops every frame over FITS bytes."""
    ustack_pair.a.sysctl("net.inet.tcp.pmtud_blackhole_detection", detection)
    client, server = ustack_pair.connect(port=PORT)
    server.settimeout(60.0)  # virtual seconds
    client.sendall(bytes(14_600))  # ten full-sized segments
    if detection:
        assert len(server.recv(14_600, socket.MSG_WAITALL)) == 14_600
        assert client.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO).tcpi_snd_mss == 1200
        assert ustack_pair.a.netstat()["tcp"]["tcps_pmtud_blackhole_activated"] == 1
    else:
        with pytest.raises(TimeoutError):
            server.recv(14_600)  # a minute of retransmissions, none fits
        tcp = ustack_pair.a.netstat()["tcp"]
        assert tcp["tcps_rexmttimeo"] >= 5 and tcp["tcps_pmtud_blackhole_activated"] == 0, tcp
    assert ustack_pair.pipe.stats("a_to_b")["dropped_mtu"] > 0
