"""A SYN flood against a listener: the syncache fills, SYN cookies take over
(RFC 4987 3.6; FreeBSD's syncache and net.inet.tcp.syncookies).

A SYN flood sends SYNs from addresses or ports that never complete the
handshake, to fill the listener's table of half-open connections so that
real clients are refused.  FreeBSD (and ustack) keep half-open connections
in a bounded syncache (net.inet.tcp.syncache.bucketlimit 30 per hash
bucket, cachelimit 15360 in all); a SYN that finds no room is answered with
a SYN cookie instead (net.inet.tcp.syncookies=1, the default): the SYN-ACK's
sequence number encodes the handshake (MSS, window scale, SACK) under a MAC,
nothing is stored, and a valid ACK of it (RFC 9293 3.5's third segment)
recreates the connection.  So a flood costs the listener no memory beyond
the cache, every SYN is answered, and a client whose SYN met a full cache
still gets a connection that accept() returns, while an ACK without a valid
cookie is refused.  Counters:
tcps_sc_added, tcps_sc_bucketoverflow / tcps_sc_cacheoverflow,
tcps_sc_sendcookie, tcps_sc_recvcookie, tcps_sc_spurcookie.
"""

from __future__ import annotations

from ustack.scripting import TCP
from ustack.scripting.fixtures import PeerRig

PORT = 8080


def test_flood_overflows_the_syncache_and_cookies_still_connect(ustack_peer: PeerRig) -> None:
    stack, peer = ustack_peer.stack, ustack_peer.peer
    listener = stack.create_server(("", PORT), backlog=128)

    def counters() -> dict[str, int]:
        return stack.netstat()["tcp"]

    # The flood: SYNs from 16,000 ports of one spoofed host (the peer never
    # answers the SYN-ACKs), more than the whole cache holds.
    flood = 16_000
    for sport in range(10_000, 10_000 + flood):
        peer.send(TCP(sport=sport, dport=PORT, flags="S", seq=0, options=[("mss", 1460)]))
    tcp = counters()
    limit = stack.sysctl("net.inet.tcp.syncache.cachelimit")
    assert limit == 15360 and tcp["tcps_sc_added"] <= limit, tcp
    assert tcp["tcps_sc_bucketoverflow"] + tcp["tcps_sc_cacheoverflow"] > 0, tcp
    # Every SYN was answered: from the cache, or with a cookie.
    assert tcp["tcps_sc_sendcookie"] >= flood - limit, tcp
    assert tcp["tcps_sc_added"] + tcp["tcps_sc_sendcookie"] == flood, tcp
    synacks = [p for p in peer.received if "tcp" in p and p.tcp.flags == "SA"]
    assert len(synacks) == flood

    # The half-open connections the listener keeps: SYN_RECEIVED rows of
    # its table, one per cached SYN.  The other SYNs got cookies.
    cached = {c.remote[1] for c in stack.tcp_connections() if c.remote[1] != 0}
    assert len(cached) == tcp["tcps_sc_added"]
    cookie_ports = [p.tcp.dport for p in synacks if p.tcp.dport not in cached]
    assert len(cookie_ports) == tcp["tcps_sc_sendcookie"]

    # A blind attacker cannot complete a handshake: an ACK that does not
    # carry the cookie (SYN-ACK's ISN + 1) gets a RST and no connection.
    peer.send(TCP(sport=cookie_ports[1], dport=PORT, flags="A", seq=1, raw_ack=12345))
    peer.expect(lambda p: p.tcp.flags.R and p.tcp.dport == cookie_ports[1])
    assert counters()["tcps_sc_spurcookie"] == 1

    # A client whose SYN met a full cache: its ACK (the handshake's third
    # segment) brings the cookie back, and the connection is made from it.
    port = cookie_ports[0]
    cookie_synack = next(p for p in synacks if p.tcp.dport == port)
    assert cookie_synack.tcp.ack == 1 and cookie_synack.tcp.options["mss"] == 1460
    peer.send(TCP(sport=port, dport=PORT, flags="A", seq=1, ack=1))
    conn, addr = listener.accept()
    assert addr == (peer.addr, port)
    tcp = counters()
    assert tcp["tcps_sc_recvcookie"] == 1 and tcp["tcps_sc_spurcookie"] == 1, tcp
    peer.send(TCP(sport=port, dport=PORT, flags="PA", seq=1, ack=1) / b"hello")
    assert conn.recv(100) == b"hello"
