"""Zero-window probing: the persist timer (RFC 9293 3.8.6.1, RFC 1122 4.2.2.17).

A receiver that advertises a zero window stops the sender; if the window
update that reopens it were lost, both ends would wait forever.  So the
sender keeps probing: ustack, like FreeBSD (tcp_setpersist), sends one byte
beyond the window when the persist timer fires.  The interval is the
retransmission timeout backed off exponentially, plus rexmit_slop (200 ms),
clamped to [net.inet.tcp.persmin, net.inet.tcp.persmax] (5 s and 60 s): with
the 1 s initial RTO of a connection without an RTT sample, 5, 5, 5, 8.2,
16.2, 32.2 s, then every 60 s.  A peer that answers the probes keeps the
connection alive indefinitely (RFC 9293: the sender must not drop it); when
the window opens, the queued data goes out at once.  Counters:
tcps_persisttimeo, tcps_sndprobe.
"""

from __future__ import annotations

from ustack.scripting import TCP, Packet
from ustack.scripting.fixtures import PeerRig

PORT = 8080


def has_data(p: Packet) -> bool:
    return "tcp" in p and len(p.tcp.payload) > 0


def test_zero_window_is_probed_with_backoff_until_it_opens(ustack_peer: PeerRig) -> None:
    stack, peer = ustack_peer.stack, ustack_peer.peer
    listener = stack.create_server(("", PORT))
    # The handshake; our ACK shuts the window at once.
    peer.send(TCP(dport=PORT, flags="S", seq=0, options=[("mss", 1460)]))
    peer.expect(TCP(flags="SA", ack=1))
    peer.send(TCP(dport=PORT, flags="A", seq=1, ack=1, window=0))
    conn, _ = listener.accept()
    conn.setblocking(False)
    assert conn.send(b"x" * 1000) == 1000  # queued in the send buffer

    last = peer.now
    gaps = []
    for _ in range(8):
        probe = peer.expect(has_data, within=61)
        # One byte beyond the closed window: the first byte of the queue.
        assert (probe.tcp.seq, len(probe.tcp.payload)) == (1, 1), probe
        gaps.append(round(probe.time - last, 3))
        last = probe.time
        peer.send(TCP(dport=PORT, flags="A", seq=1, ack=1, window=0))  # still shut
    assert gaps == [5.0, 5.0, 5.0, 8.2, 16.2, 32.2, 60.0, 60.0]

    tcp = stack.netstat()["tcp"]
    assert tcp["tcps_persisttimeo"] == 8 and tcp["tcps_sndprobe"] == 8, tcp
    assert tcp["tcps_timeoutdrop"] == 0, tcp  # an answering peer is never given up on

    # The window opens: all 1000 bytes at once (the probe byte included).
    peer.send(TCP(dport=PORT, flags="A", seq=1, ack=1, window=65535))
    data = peer.expect(has_data, within=0.01)
    assert (data.tcp.seq, len(data.tcp.payload)) == (1, 1000), data
    peer.send(TCP(dport=PORT, flags="A", seq=1, ack=1001, window=65535))
    peer.expect_none(has_data, within=70)  # acknowledged: no more probes, nothing resent
