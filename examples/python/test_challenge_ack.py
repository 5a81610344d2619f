"""Blind in-window attacks: RFC 5961 challenge ACKs.

An off-path attacker who guesses a sequence number somewhere in the receive
window could reset a connection with a RST (RFC 793 accepted any in-window
RST) or with a SYN.  RFC 5961 narrows that:

- section 3.2: a RST is accepted only when its sequence number is exactly
  RCV.NXT; one elsewhere in the window is answered with a "challenge ACK"
  (<SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>) and otherwise ignored -- the real
  peer, which knows RCV.NXT, answers it with a RST that is accepted;
- section 4.2: a SYN in a synchronized state always gets a challenge ACK;
- section 7: challenge ACKs are rate limited (FreeBSD: net.inet.tcp.ack_war_cnt,
  5 per net.inet.tcp.ack_war_timewindow of 1000 ms).

ustack does what FreeBSD does (net.inet.tcp.insecure_rst and insecure_syn 0,
the defaults).  Counters: tcps_badrst_inwindow, tcps_synchallenge,
tcps_challenge_ack, tcps_challenge_ack_limited, tcps_badrst.
"""

from __future__ import annotations

import pytest

from ustack.scripting import TCP
from ustack.scripting.fixtures import PeerRig
from ustack.sockets import Socket

PORT = 8080


def established(ustack_peer: PeerRig) -> Socket:
    """A connection from the peer (ISN 0) to a listener; the accepted socket."""
    stack, peer = ustack_peer.stack, ustack_peer.peer
    listener = stack.create_server(("", PORT))
    peer.send(TCP(dport=PORT, flags="S", seq=0, options=[("mss", 1460)]))
    peer.expect(TCP(flags="SA", ack=1))
    peer.send(TCP(dport=PORT, flags="A", seq=1, ack=1))
    conn, _ = listener.accept()
    return conn


def test_in_window_rst_gets_a_challenge_ack(ustack_peer: PeerRig) -> None:
    stack, peer = ustack_peer.stack, ustack_peer.peer
    conn = established(ustack_peer)
    peer.send(TCP(dport=PORT, flags="R", seq=1000))  # in the window, not RCV.NXT
    peer.expect(TCP(flags="A", seq=1, ack=1))  # <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>
    # Otherwise ignored: the connection still carries data.
    peer.send(TCP(dport=PORT, flags="PA", seq=1, ack=1) / b"still here")
    assert conn.recv(100) == b"still here"
    tcp = stack.netstat()["tcp"]
    assert tcp["tcps_badrst_inwindow"] == 1 and tcp["tcps_challenge_ack"] == 1, tcp


def test_syn_in_established_gets_a_challenge_ack(ustack_peer: PeerRig) -> None:
    stack, peer = ustack_peer.stack, ustack_peer.peer
    conn = established(ustack_peer)
    peer.send(TCP(dport=PORT, flags="S", seq=5000, options=[("mss", 1460)]))
    # The challenge ACK.  A SYN starts a new numbering for the peer's side
    # (a new connection, as far as the scripting layer can tell), so the
    # acknowledgment is checked on the wire: the peer's ISN is 0.
    peer.expect(TCP(flags="A", seq=1, raw_ack=1))
    conn.sendall(b"still here")  # the connection lives on
    assert peer.expect(lambda p: p.tcp.payload == b"still here").tcp.seq == 1
    tcp = stack.netstat()["tcp"]
    assert tcp["tcps_synchallenge"] == 1 and tcp["tcps_challenge_ack"] == 1, tcp
    assert tcp["tcps_badsyn"] == 0, tcp  # not insecure_syn: no reset


def test_rst_outside_the_window_is_dropped_silently(ustack_peer: PeerRig) -> None:
    stack, peer = ustack_peer.stack, ustack_peer.peer
    conn = established(ustack_peer)
    peer.send(TCP(dport=PORT, flags="R", seq=1 + 10_000_000))
    peer.expect_none(within=1)  # not even a challenge ACK
    assert stack.netstat()["tcp"]["tcps_badrst"] == 1
    conn.sendall(b"ping")
    assert peer.expect(lambda p: p.tcp.payload == b"ping").tcp.seq == 1


def test_challenge_acks_are_rate_limited(ustack_peer: PeerRig) -> None:
    stack, peer = ustack_peer.stack, ustack_peer.peer
    conn = established(ustack_peer)  # noqa: F841 - kept open
    assert stack.sysctl("net.inet.tcp.ack_war_cnt") == 5
    for i in range(10):  # a burst of guesses within one time window
        peer.send(TCP(dport=PORT, flags="R", seq=1000 + i))
    for _ in range(5):
        peer.expect(TCP(flags="A", seq=1, ack=1), within=0.01)
    peer.expect_none(within=0.5)  # the other five went unanswered
    tcp = stack.netstat()["tcp"]
    assert tcp["tcps_challenge_ack"] == 5 and tcp["tcps_challenge_ack_limited"] == 5, tcp


def test_rst_at_rcv_nxt_resets(ustack_peer: PeerRig) -> None:
    stack, peer = ustack_peer.stack, ustack_peer.peer
    conn = established(ustack_peer)
    peer.send(TCP(dport=PORT, flags="R", seq=1))  # exactly RCV.NXT
    peer.expect_none(within=1)  # accepted: no answer
    with pytest.raises(ConnectionResetError):
        conn.recv(100)
    assert stack.netstat()["tcp"]["tcps_badrst_inwindow"] == 0
    assert all(c.local[1] != PORT or c.remote[1] == 0 for c in stack.tcp_connections())
