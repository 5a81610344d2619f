"""ustack.scripting: a scripted peer (Peer), packet builders and the parsed
Packet, against a real stack on a virtual clock (docs/scripting.md)."""

from __future__ import annotations

import errno
import struct
from collections.abc import Iterator

import pytest

import ustack
from ustack.packetdrill import wire
from ustack.scripting import (
    ICMP,
    IP,
    TCP,
    UDP,
    Ether,
    Flags,
    IPv6,
    Options,
    Packet,
    Peer,
    Raw,
)
from ustack.scripting.fixtures import PeerRig, peer_rig
from ustack.sockets import Socket

PORT = 80
pytest_plugins = ["pytester"]


@pytest.fixture(name="ustack_peer")
def _ustack_peer(request: pytest.FixtureRequest) -> Iterator[PeerRig]:
    # The ustack.testing plugin provides ustack_peer; this makes the module stand alone.
    yield from peer_rig(request)


def _listener(stack: ustack.Stack, port: int = PORT) -> Socket:
    srv = stack.socket(ustack.AF_INET, ustack.SOCK_STREAM)
    srv.bind(("0.0.0.0", port))
    srv.listen(8)
    return srv


def _tcpstat(stack: ustack.Stack, name: str) -> int:
    return int(stack.netstat()["tcp"][name])


@pytest.fixture
def server(ustack_peer: PeerRig) -> Iterator[Socket]:
    srv = _listener(ustack_peer.stack)
    yield srv
    srv.close()


# --- handshakes ----------------------------------------------------------------------------


@pytest.mark.parametrize("ustack_peer", [{"isn": 1000}], indirect=True)
def test_handshake_peer_connects_with_relative_numbers(
    ustack_peer: PeerRig, server: Socket
) -> None:
    peer = ustack_peer.peer
    peer.send(TCP(dport=PORT, flags="S", seq=0, options=[("mss", 1460)]))
    synack = peer.expect(lambda p: p.tcp.flags == "SA", within=0.2)
    # Relative to the peer's ISN (1000) and to the stack's own ISN, learned from this SYN-ACK.
    assert synack.tcp.seq == 0
    assert synack.tcp.ack == 1
    assert synack.tcp.raw_ack == 1001
    assert synack.tcp.raw_seq != 0  # a random ISN, shown as 0
    assert synack.tcp.flags.S and synack.tcp.flags.A and not synack.tcp.flags.R
    assert synack.tcp.flags == "AS" and synack.tcp.flags == "S."
    assert synack.ip.src == "198.18.0.1" and synack.ip.dst == "198.18.0.2"
    sent = peer.send(TCP(flags="A", seq=1, ack=1))[0]
    assert sent.tcp.raw_seq == 1001
    assert sent.tcp.raw_ack == synack.tcp.raw_seq + 1
    server.settimeout(0)
    conn, addr = server.accept()
    assert addr == ("198.18.0.2", sent.tcp.sport)
    assert conn.getsockopt(ustack.IPPROTO_TCP, ustack.TCP_INFO).state_name == "ESTABLISHED"
    conn.close()


def test_handshake_stack_connects(ustack_peer: PeerRig) -> None:
    peer, stack = ustack_peer.peer, ustack_peer.stack
    sock = stack.socket(ustack.AF_INET, ustack.SOCK_STREAM)
    sock.setblocking(False)
    assert sock.connect_ex(("198.18.0.2", 9000)) == errno.EINPROGRESS
    syn = peer.expect(TCP(flags="S", dport=9000), within=0.1)
    assert syn.tcp.seq == 0 and syn.tcp.ack == 0
    assert syn.tcp.options["mss"] == 1460
    peer.send(TCP(flags="SA", seq=0, ack=1, options=[("mss", 1000)]))
    ack = peer.expect(TCP(flags="A"), within=0.1)
    assert (ack.tcp.seq, ack.tcp.ack) == (1, 1)
    assert ack.tcp.raw_seq == syn.tcp.raw_seq + 1
    assert ack.tcp.raw_ack == peer.isn + 1
    info = sock.getsockopt(ustack.IPPROTO_TCP, ustack.TCP_INFO)
    assert info.state_name == "ESTABLISHED"
    assert info.tcpi_snd_mss == 1000  # our MSS option was read
    sock.close()


def test_connect_and_accept_conveniences(ustack_peer: PeerRig, server: Socket) -> None:
    peer, stack = ustack_peer.peer, ustack_peer.stack
    conn = peer.connect(PORT)
    assert conn.synack is not None and conn.synack.tcp.ack == 1
    assert (conn.snd_nxt, conn.rcv_nxt) == (1, 1)
    server.settimeout(0)
    accepted, _ = server.accept()
    accepted.close()
    sock = stack.socket(ustack.AF_INET, ustack.SOCK_STREAM)
    sock.setblocking(False)
    sock.connect_ex(("198.18.0.2", 7000))
    out = peer.accept(7000)
    assert out.syn is not None and out.key[1] == 7000
    assert sock.getsockopt(ustack.IPPROTO_TCP, ustack.TCP_INFO).state_name == "ESTABLISHED"
    sock.close()


def test_syn_to_closed_port_gets_rst_ack(ustack_peer: PeerRig) -> None:
    peer, stack = ustack_peer.peer, ustack_peer.stack
    before = _tcpstat(stack, "tcps_sndctrl")
    peer.send(TCP(dport=81, flags="S", seq=0))
    rst = peer.expect(TCP(flags="RA"), within=0.1)
    assert rst.tcp.ack == 1 and rst.tcp.raw_seq == 0 and rst.tcp.sport == 81
    assert rst.tcp.flags == "RA" and rst.tcp.flags != "R"
    assert _tcpstat(stack, "tcps_sndctrl") == before + 1
    peer.expect_none(within=1.0)  # and nothing else


# --- data ----------------------------------------------------------------------------------


def test_data_and_acks_both_ways(ustack_peer: PeerRig, server: Socket) -> None:
    peer = ustack_peer.peer
    conn = peer.connect(PORT)
    server.settimeout(0)
    sock, _ = server.accept()
    sock.setblocking(False)
    chunks = [b"hello ", b"scripted ", b"world"]
    for chunk in chunks:
        conn.send(chunk)
    ack = conn.expect(lambda p: p.tcp.ack == 1 + sum(map(len, chunks)), within=0.5)
    assert ack.tcp.flags.A and ack.tcp.seq == 1
    assert sock.recv(100) == b"".join(chunks)
    # The other way: the stack's data starts at its relative 1, and we ACK it.
    data = bytes(range(256)) * 8
    sock.send(data)
    got = bytearray()
    while len(got) < len(data):
        seg = conn.expect(lambda p: len(p.payload) > 0, within=1.0)
        assert seg.tcp.seq == 1 + len(got)
        got += seg.payload
        conn.send(flags="A")  # ack defaults to what arrived
    assert bytes(got) == data
    assert conn.rcv_nxt == 1 + len(data)
    sock.close()


# --- RFC 5961 ------------------------------------------------------------------------------


def test_in_window_rst_gets_challenge_ack(ustack_peer: PeerRig, server: Socket) -> None:
    peer, stack = ustack_peer.peer, ustack_peer.stack
    conn = peer.connect(PORT)
    server.settimeout(0)
    sock, _ = server.accept()
    before = _tcpstat(stack, "tcps_challenge_ack")
    # RFC 5961 3.2: a RST in the window but not at rcv_nxt is challenged, not obeyed.
    conn.send(flags="R", seq=1000)
    challenge = conn.expect(TCP(flags="A"), within=0.1)
    assert (challenge.tcp.seq, challenge.tcp.ack) == (1, 1)  # the exact point to reset at
    assert _tcpstat(stack, "tcps_challenge_ack") == before + 1
    assert _tcpstat(stack, "tcps_badrst_inwindow") >= 1
    assert sock.getsockopt(ustack.IPPROTO_TCP, ustack.TCP_INFO).state_name == "ESTABLISHED"
    sock.close()


def test_out_of_window_rst_is_dropped_silently(ustack_peer: PeerRig, server: Socket) -> None:
    peer, stack = ustack_peer.peer, ustack_peer.stack
    conn = peer.connect(PORT)
    server.settimeout(0)
    sock, _ = server.accept()
    before = _tcpstat(stack, "tcps_badrst")
    conn.send(flags="R", seq=-100_000)  # RFC 5961 3.2: outside the window: dropped
    conn.expect_none(within=0.5)
    assert _tcpstat(stack, "tcps_badrst") == before + 1
    assert sock.getsockopt(ustack.IPPROTO_TCP, ustack.TCP_INFO).state_name == "ESTABLISHED"
    conn.send(flags="R", seq=1)  # exactly rcv_nxt: reset
    peer.run(0.01)
    with pytest.raises(ConnectionResetError):
        sock.recv(10)
    sock.close()


def test_syn_on_established_connection_gets_challenge_ack(
    ustack_peer: PeerRig, server: Socket
) -> None:
    peer, stack = ustack_peer.peer, ustack_peer.stack
    conn = peer.connect(PORT)
    before = _tcpstat(stack, "tcps_synchallenge")
    conn.send(flags="S", seq=0)  # RFC 5961 4.2
    conn.expect(lambda p: p.tcp.flags == "A" and p.tcp.ack == 1, within=0.1)
    assert _tcpstat(stack, "tcps_synchallenge") == before + 1


# --- options -------------------------------------------------------------------------------

SYN_OPTIONS = [("mss", 1460), ("sackOK",), ("ts", 12345, 0), ("nop",), ("wscale", 7)]


def test_options_built_and_parsed(ustack_peer: PeerRig, server: Socket) -> None:
    peer = ustack_peer.peer
    sent = peer.send(TCP(dport=PORT, flags="S", seq=0, options=SYN_OPTIONS))[0]
    # On the wire in the given order, padded to 4 bytes.
    assert sent.tcp.options.list == [
        ("mss", 1460),
        ("sackOK",),
        ("ts", 12345, 0),
        ("nop",),
        ("wscale", 7),
    ]
    assert sent.tcp.options == {
        "mss": 1460,
        "sackOK": True,
        "ts": (12345, 0),
        "nop": 1,
        "wscale": 7,
    }
    synack = peer.expect(TCP(flags="SA", options=[("sackOK",), ("mss", 1460)]), within=0.1)
    opts = synack.tcp.options
    assert opts["MSS"] == 1460 and opts["mss"] == 1460  # scapy's spelling too
    assert "sackOK" in opts and "SAckOK" in opts
    assert opts["ts"][1] == 12345  # our timestamp echoed
    assert opts["Timestamp"] == opts["ts"]
    assert 0 <= opts["wscale"] <= 14
    assert "<mss 1460," in synack.summary() and "TS val" in synack.summary()
    peer.send(TCP(flags="A", seq=1, ack=1, options=[("nop",), ("nop",), ("ts", 12346, 0)]))
    server.settimeout(0)
    sock, _ = server.accept()
    info = sock.getsockopt(ustack.IPPROTO_TCP, ustack.TCP_INFO)
    assert info.tcpi_snd_wscale == 7  # our window scale was read
    assert (
        info.tcpi_options & ustack.TCPI_OPT_SACK and info.tcpi_options & ustack.TCPI_OPT_TIMESTAMPS
    )
    sock.close()


def test_sack_blocks_relative_to_the_stack_isn(ustack_peer: PeerRig, server: Socket) -> None:
    peer = ustack_peer.peer
    conn = peer.connect(PORT, options=[("mss", 1000), ("sackOK",)])
    sent = conn.send(flags="A", options=[("nop",), ("nop",), ("sack", [(1001, 2001)])])
    assert conn.stack_isn is not None
    raw = wire.decode_options(sent.tcp.options.raw)
    left, right = (conn.stack_isn + 1001) & 0xFFFFFFFF, (conn.stack_isn + 2001) & 0xFFFFFFFF
    assert ("sack", ((left, right),)) in raw
    assert sent.tcp.options["sack"] == [(1001, 2001)]  # read back relative


def test_option_spellings_and_errors() -> None:
    a = bytes(
        IP()
        / TCP(
            options=[
                ("MSS", 536),
                ("SAckOK", b""),
                ("Timestamp", (5, 6)),
                ("NOP", None),
                ("WScale", 2),
            ]
        )
    )
    b = bytes(IP() / TCP(options=[("mss", 536), "sackOK", ("ts", 5, 6), "nop", ("wscale", 2)]))
    assert a == b
    with pytest.raises(KeyError, match="unknown TCP option"):
        bytes(IP() / TCP(options=[("bogus", 1)]))
    with pytest.raises(ValueError, match="more than 40"):
        bytes(IP() / TCP(options=[("ts", 1, 2)] * 5))
    with pytest.raises(TypeError, match="no field 'sequence'"):
        TCP(sequence=1)


# --- flags ---------------------------------------------------------------------------------


def test_flags_compare_in_any_order() -> None:
    f = Flags(0x12)
    assert f == "SA" and f == "AS" and f == "S." and f == 0x12
    assert f != "S" and f != "A" and f != "SAF"
    assert "S" in f and "SA" in f and "F" not in f
    assert f.S and f.A and not (f.F or f.R or f.P or f.U or f.E or f.C)
    assert str(f) == "SA" and f.packetdrill == "S."
    assert Flags(0x19).packetdrill == "FP." and Flags(0).packetdrill == "-"
    with pytest.raises(ValueError, match="unknown TCP flag"):
        bytes(IP() / TCP(flags="SX"))


# --- builders ------------------------------------------------------------------------------


def test_builders_fill_lengths_and_checksums() -> None:
    frame = bytes(
        Ether(dst="02:00:00:00:00:01", src="02:00:00:00:00:02")
        / IP(src="198.18.0.2", dst="198.18.0.1", ttl=3, id=7, flags="DF")
        / TCP(sport=1, dport=2, raw_seq=100, raw_ack=200, flags="PA", window=1000)
        / b"data"
    )
    pkt = Packet(frame)
    assert pkt.eth.dst == "02:00:00:00:00:01" and pkt.eth.type == 0x0800
    assert (pkt.ip.ttl, pkt.ip.id, pkt.ip.df, pkt.ip.proto) == (3, 7, True, 6)
    assert (pkt.tcp.raw_seq, pkt.tcp.raw_ack, pkt.tcp.window) == (100, 200, 1000)
    assert pkt.payload == b"data" and pkt.tcp.flags == "PA"
    ip = frame[14:]
    assert struct.unpack_from("!H", ip, 2)[0] == len(ip)  # total length
    assert wire.inet_checksum(ip[:20]) == 0  # header checksum right
    assert wire.l4_checksum("198.18.0.2", "198.18.0.1", 6, ip[20:]) == 0  # TCP checksum right
    # Layer repr, copy semantics of "/", getlayer.
    tcp = TCP(flags="S")
    stacked = IP(ttl=3) / tcp
    assert repr(stacked) == "IP(ttl=3)/TCP(flags='S')"
    assert stacked[TCP] is not tcp and stacked[TCP].flags == "S" and TCP in stacked
    assert UDP not in stacked


def test_udp_icmp_and_ipv6_builders() -> None:
    udp = Packet(bytes(Ether() / IP(src="1.2.3.4", dst="5.6.7.8") / UDP(sport=5, dport=7) / b"x"))
    assert udp.udp.sport == 5 and udp.udp.dport == 7 and udp.udp.csum_ok and udp.payload == b"x"
    v6 = Packet(
        bytes(Ether() / IPv6(src="2001:2::2", dst="2001:2::1", hlim=9) / TCP(sport=1, dport=2))
    )
    assert v6.ip6.hlim == 9 and v6.tcp.dport == 2 and "ip" not in v6 and "ip6" in v6
    err = Packet(bytes(Ether() / IP(src="1.2.3.4", dst="5.6.7.8") / ICMP(type=3, code=4, mtu=1200)))
    assert (err.icmp.type, err.icmp.code, err.icmp.mtu) == (3, 4, 1200)
    assert "mtu 1200" in err.summary()
    echo6 = Packet(bytes(Ether() / IPv6(src="2001:2::2", dst="2001:2::1") / ICMP(id=1, seq=2)))
    assert (echo6.icmp.type, echo6.icmp.family, echo6.icmp.id, echo6.icmp.seq) == (128, 6, 1, 2)
    with pytest.raises(AttributeError, match="no TCP header"):
        _ = err.tcp
    assert err.get("tcp") is None and err.get(ICMP) is err.icmp


def test_icmp_error_quotes_a_received_packet(ustack_peer: PeerRig, server: Socket) -> None:
    peer = ustack_peer.peer
    conn = peer.connect(PORT)
    server.settimeout(0)
    sock, _ = server.accept()
    sock.setblocking(False)
    sock.send(b"x" * 1400)
    big = conn.expect(lambda p: len(p.payload) > 1000, within=0.5)
    assert big.ip.df
    # RFC 1191: Fragmentation Needed quoting the segment; the stack resends smaller.
    peer.send(ICMP(type=3, code=4, mtu=1000) / big)
    smaller = conn.expect(lambda p: 0 < len(p.payload) <= 960, within=1.0)
    assert smaller.tcp.seq == 1 and smaller.ip.df
    sock.close()


# --- expect --------------------------------------------------------------------------------


def test_expect_runs_virtual_time(ustack_peer: PeerRig) -> None:
    peer, stack = ustack_peer.peer, ustack_peer.stack
    sock = stack.socket(ustack.AF_INET, ustack.SOCK_STREAM)
    sock.setblocking(False)
    sock.connect_ex(("198.18.0.2", 9000))
    first = peer.expect(TCP(flags="S"), within=0.01)
    t0 = stack.now
    # Unanswered, the SYN is sent again after the initial RTO (RFC 6298: 1 s).
    again = peer.expect(TCP(flags="S"), within=5.0)
    assert again.tcp.raw_seq == first.tcp.raw_seq
    assert 0.9 <= again.time - first.time <= 3.1
    assert stack.now - t0 == pytest.approx((again.time - first.time) * 1e9, abs=1e6)
    # expect_none lets exactly `within` pass when nothing matches.
    t1 = stack.now
    peer.expect_none(TCP(flags="F"), within=0.25)
    assert stack.now - t1 == 250_000_000
    peer.run(0.5)
    assert stack.now - t1 == 750_000_000
    sock.close()


def test_expect_failure_lists_frames(ustack_peer: PeerRig, server: Socket) -> None:
    peer = ustack_peer.peer
    peer.send(TCP(dport=PORT, flags="S", seq=0))
    with pytest.raises(AssertionError) as info:
        peer.expect(TCP(flags="F"), within=0.1)
    text = str(info.value)
    assert "expect(TCP(flags='F')): no matching frame within 0.1 s" in text
    assert "198.18.0.1:80 > 198.18.0.2:" in text and "S. 0:0(0) ack 1" in text
    assert "tcp.flags: S. != 'F'" in text
    assert "last frames the peer sent:" in text
    # The SYN-ACK was passed over: it is kept.
    assert peer.unmatched[-1].tcp.flags == "SA" and peer.received[-1] is peer.unmatched[-1]
    # A predicate that raises AttributeError does not match; the frame is listed.
    peer.send(UDP(dport=9) / b"?")
    with pytest.raises(AssertionError, match="no matching frame") as info2:
        peer.expect(lambda p: p.tcp.flags == "R", within=0.1)
    assert 'expect(lambda p: p.tcp.flags == "R")' in str(info2.value)
    assert "icmp type 3 code 3" in str(info2.value)
    assert "AttributeError: no TCP header" in str(info2.value)


def test_expect_takes_frames_in_order(ustack_peer: PeerRig, server: Socket) -> None:
    peer = ustack_peer.peer
    conn = peer.connect(PORT)
    server.settimeout(0)
    sock, _ = server.accept()
    sock.setblocking(False)
    sock.setsockopt(ustack.IPPROTO_TCP, ustack.TCP_NODELAY, 1)
    sock.send(b"a")
    peer.run(0.001)
    sock.send(b"b")
    peer.run(0.001)
    first = conn.expect(Raw(b"a"))
    second = conn.expect(lambda p: p.payload == b"b")
    assert second.time >= first.time and second.tcp.seq == 2
    with pytest.raises(AssertionError):
        conn.expect(Raw(b"a"), within=0.05)  # consumed: not seen twice
    sock.close()


# --- bad input -----------------------------------------------------------------------------


def test_malformed_frames_are_dropped_and_counted(ustack_peer: PeerRig, server: Socket) -> None:
    peer, stack = ustack_peer.peer, ustack_peer.stack
    syn = TCP(dport=PORT, flags="S", seq=0)
    broken = {
        ("ip", "ips_badsum"): IP(chksum=0x1234) / syn,
        ("ip", "ips_badvers"): IP(version=5) / syn,
        ("ip", "ips_toosmall"): peer.build(IP() / syn)[: 14 + 12],  # a runt IP header
        ("tcp", "tcps_rcvbadsum"): TCP(dport=PORT, flags="S", seq=0, chksum=0x1234),
        ("tcp", "tcps_rcvshort"): IP(len=20) / syn,  # no room left for TCP
        ("tcp", "tcps_rcvbadoff"): TCP(dport=PORT, flags="S", seq=0, dataofs=15),
    }
    for (proto, counter), pkt in broken.items():
        before = stack.netstat()[proto][counter]
        peer.send(pkt)
        assert stack.netstat()[proto][counter] == before + 1, counter
    peer.expect_none(within=0.5)  # none of them answered
    assert stack.netstat()["tcp"]["tcps_accepts"] == 0
    # The stack still works.
    conn = peer.connect(PORT)
    assert conn.rcv_nxt == 1


def test_garbage_bytes_do_not_break_the_peer(ustack_peer: PeerRig) -> None:
    peer = ustack_peer.peer
    sent = peer.send(bytes(14), bytes(60))
    assert len(sent) == 2 and "ether type 0x0000 (0 bytes)" in sent[0].summary()
    assert "runt frame (3 bytes)" in Packet(b"abc").summary()
    peer.expect_none(within=0.1)
    with pytest.raises(TypeError, match="layers, bytes or scapy"):
        peer.send(12345)
    with pytest.raises(ValueError, match="no dport"):
        peer.send(TCP(flags="S"))


# --- fixture and peer setup ----------------------------------------------------------------


@pytest.mark.parametrize(
    "ustack_peer",
    [{"seed": 7, "mtu": 1280, "sysctl": {"net.inet.tcp.rfc1323": 0}}],
    indirect=True,
)
def test_fixture_settings(ustack_peer: PeerRig, server: Socket) -> None:
    assert ustack_peer.seed == 7 and ustack_peer.peer.mtu == 1280
    assert ustack_peer.sysctl("net.inet.tcp.rfc1323") == 0
    peer = ustack_peer.peer
    peer.send(TCP(dport=PORT, flags="S", seq=0, options=SYN_OPTIONS))
    synack = peer.expect(TCP(flags="SA"))
    assert synack.tcp.options["mss"] == 1240  # the interface's MTU
    assert "ts" not in synack.tcp.options and "wscale" not in synack.tcp.options


def test_peer_on_an_existing_pipe_answers_arp() -> None:
    clock = ustack.VirtualClock(1_000_000_000)
    with ustack.Stack(clock=clock, seed=3) as stack, ustack.Pipe(clock=clock, seed=3) as pipe:
        stack.add_interface(pipe.a, "p0", "198.18.5.1/24")
        peer = Peer(stack, addr="198.18.5.9", stack_addr="198.18.5.1", end=pipe.b)
        srv = _listener(stack)
        peer.send(TCP(dport=PORT, flags="S", seq=0))
        synack = peer.expect(TCP(flags="SA"), within=1.0)  # after ARP: answered by the peer
        assert synack.tcp.ack == 1
        arps = [p for p in peer.received if "arp" in p and p.arp.pdst == "198.18.5.9"]
        assert arps and arps[0].arp.op == 1 and arps[0].arp.pdst == "198.18.5.9"
        assert "arp who-has 198.18.5.9" in arps[0].summary()
        srv.close()
        peer.close()


def test_ipv6_peer() -> None:
    if not getattr(ustack, "UST_HAS_INET6", False):
        pytest.skip("ustack built without IPv6")
    clock = ustack.VirtualClock(1_000_000_000)
    with ustack.Stack(clock=clock, seed=5) as stack:
        peer = Peer(stack, addr="2001:2::2", stack_addr="2001:2::1")
        srv = stack.socket(ustack.AF_INET6, ustack.SOCK_STREAM)
        srv.bind(("::", PORT))
        srv.listen(4)
        conn = peer.connect(PORT)
        assert conn.synack is not None and conn.synack.ip6.src == "2001:2::1"
        assert conn.synack.tcp.options["mss"] == 1440
        conn.send(b"six")
        srv.settimeout(0)
        sock, _ = srv.accept()
        assert sock.recv(10) == b"six"
        sock.close()
        srv.close()
        peer.close()


# --- scapy ---------------------------------------------------------------------------------


def test_scapy_packets_sent_and_received(ustack_peer: PeerRig, server: Socket) -> None:
    sc = pytest.importorskip("scapy.all")
    peer = ustack_peer.peer
    # A scapy SYN with absolute numbers and scapy's option names; addresses filled in.
    peer.send(
        sc.IP()
        / sc.TCP(
            sport=5555,
            dport=PORT,
            flags="S",
            seq=424242,
            options=[("MSS", 1200), ("SAckOK", b""), ("WScale", 3)],
        )
    )
    synack = peer.expect(lambda p: p.tcp.flags == "SA")
    assert synack.tcp.ack == 1 and synack.tcp.raw_ack == 424243  # ISN from the scapy SYN
    s = synack.scapy()
    assert s.haslayer(sc.TCP) and s[sc.TCP].flags == "SA"
    assert s[sc.IP].src == "198.18.0.1" and s[sc.TCP].dport == 5555
    assert s[sc.TCP].ack == 424243
    assert dict((k, v) for k, v in s[sc.TCP].options if k == "MSS") == {"MSS": 1460}
    # The ACK from scapy without seq/ack: filled in from the connection.
    peer.send(sc.Ether() / sc.IP() / sc.TCP(flags="A") / b"from scapy")
    server.settimeout(0)
    sock, _ = server.accept()
    sock.setblocking(False)
    peer.run(0.001)
    assert sock.recv(100) == b"from scapy"
    sock.close()


def test_builders_match_scapy_byte_for_byte() -> None:
    sc = pytest.importorskip("scapy.all")
    opts_ours = [("mss", 1460), ("sackOK",), ("ts", 1, 2), ("nop",), ("wscale", 7)]
    opts_scapy = [
        ("MSS", 1460),
        ("SAckOK", b""),
        ("Timestamp", (1, 2)),
        ("NOP", None),
        ("WScale", 7),
    ]
    ours = bytes(
        IP(src="198.18.0.2", dst="198.18.0.1", id=9, ttl=33)
        / TCP(sport=1, dport=2, raw_seq=5, raw_ack=6, flags="SA", window=999, options=opts_ours)
        / b"payload"
    )
    theirs = bytes(
        sc.IP(src="198.18.0.2", dst="198.18.0.1", id=9, ttl=33)
        / sc.TCP(sport=1, dport=2, seq=5, ack=6, flags="SA", window=999, options=opts_scapy)
        / b"payload"
    )
    assert ours == theirs
    udp_ours = bytes(IP(src="1.1.1.1", dst="2.2.2.2", id=1) / UDP(sport=3, dport=4) / b"u")
    udp_theirs = bytes(sc.IP(src="1.1.1.1", dst="2.2.2.2", id=1) / sc.UDP(sport=3, dport=4) / b"u")
    assert udp_ours == udp_theirs
    v6_ours = bytes(IPv6(src="2001:2::2", dst="2001:2::1") / TCP(sport=1, dport=2, flags="S"))
    v6_theirs = bytes(
        sc.IPv6(src="2001:2::2", dst="2001:2::1")
        / sc.TCP(sport=1, dport=2, flags="S", window=65535)
    )
    assert v6_ours == v6_theirs
    # And scapy reads our options as we wrote them.
    parsed = sc.IP(ours)
    assert parsed[sc.TCP].options[0] == ("MSS", 1460)
    assert Options(bytes(parsed[sc.TCP])[20:40])["ts"] == (1, 2)


def test_ipv6_peer_on_an_existing_pipe_answers_neighbour_solicitations() -> None:
    if not getattr(ustack, "UST_HAS_INET6", False):
        pytest.skip("ustack built without IPv6")
    clock = ustack.VirtualClock(1_000_000_000)
    with ustack.Stack(clock=clock, seed=6) as stack, ustack.Pipe(clock=clock, seed=6) as pipe:
        iface = stack.add_interface(pipe.a, "p0")
        iface.add_address("2001:2::1/64", nodad=True)
        peer = Peer(stack, addr="2001:2::9", stack_addr="2001:2::1", end=pipe.b, isn=77)
        srv = stack.socket(ustack.AF_INET6, ustack.SOCK_STREAM)
        srv.bind(("::", PORT))
        srv.listen(4)
        conn = peer.connect(PORT, isn=5000)
        assert conn.isn == 5000 and conn.synack is not None
        assert conn.synack.tcp.raw_ack == 5001 and conn.synack.tcp.ack == 1
        solicits = [p for p in peer.received if "icmp" in p and p.icmp.type == 135]
        assert solicits, "the stack resolved the peer by neighbour discovery"
        srv.close()
        peer.close()


def test_scapy_is_optional(monkeypatch: pytest.MonkeyPatch) -> None:
    import subprocess
    import sys

    # Importing and using ustack.scripting never imports scapy.
    code = (
        "import sys, ustack.scripting as s\n"
        "from ustack.scripting.fixtures import PeerRig\n"
        "with PeerRig() as rig:\n"
        "    rig.peer.send(s.TCP(dport=1, flags='S'))\n"
        "    rig.peer.expect(s.TCP(flags='RA'))\n"
        "print('scapy' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    # Without scapy, Packet.scapy() says what is missing.
    monkeypatch.setitem(sys.modules, "scapy.layers.l2", None)
    pkt = Packet(bytes(Ether() / IP() / TCP()))
    with pytest.raises(ImportError, match="needs scapy"):
        pkt.scapy()


def test_docs_examples_run() -> None:
    """Every ```python block of docs/scripting.md runs; each test_* function it
    defines is called with a fresh ustack_peer."""
    import inspect
    import pathlib
    import re

    import ustack.scripting as scripting

    doc = pathlib.Path(__file__).resolve().parents[2] / "docs" / "scripting.md"
    blocks = re.findall(r"```python\n(.*?)```", doc.read_text(), re.S)
    assert len(blocks) >= 8
    ran = 0
    for block in blocks:
        names: dict[str, object] = {"ustack": ustack, "pytest": pytest}
        names.update({n: getattr(scripting, n) for n in scripting.__all__})
        exec(compile(block, str(doc), "exec"), names)
        for name, fn in list(names.items()):
            if not (name.startswith("test_") and callable(fn)):
                continue
            if "ustack_peer" in inspect.signature(fn).parameters:
                with PeerRig(seed=1) as rig:
                    fn(ustack_peer=rig)
            ran += 1
    assert ran >= 7


def test_connections_expect_their_own_frames(ustack_peer: PeerRig, server: Socket) -> None:
    peer = ustack_peer.peer
    one, two = peer.connect(PORT), peer.connect(PORT)
    assert one.sport != two.sport
    server.settimeout(0)
    s1, _ = server.accept()
    s2, _ = server.accept()
    s1.send(b"first")
    peer.run(0.001)
    s2.send(b"second")
    # The frame of connection one, sent first, stays pending while two looks for its own.
    got2 = two.expect(Raw(b"second"))
    got1 = one.expect(Raw(b"first"))
    assert got1.time <= got2.time
    assert (got1.tcp.dport, got2.tcp.dport) == (one.sport, two.sport)
    assert got1.tcp.seq == 1 and got2.tcp.seq == 1  # each relative to its own ISN
    assert got1.tcp.raw_seq != got2.tcp.raw_seq
    with pytest.raises(AssertionError):
        one.expect(Raw(b"second"), within=0.05)
    s1.close()
    s2.close()


def test_two_peers_on_one_stack(ustack_peer: PeerRig, server: Socket) -> None:
    stack = ustack_peer.stack
    other = Peer(stack, addr="198.18.1.2", stack_addr="198.18.1.1", name="peer1", isn=9)
    try:
        a = ustack_peer.peer.connect(PORT)
        b = other.connect(PORT)
        assert b.synack is not None and b.synack.ip.src == "198.18.1.1"
        assert b.synack.tcp.raw_ack == 10
        server.settimeout(0)
        accepted = [server.accept(), server.accept()]
        assert {addr[0] for _, addr in accepted} == {"198.18.0.2", "198.18.1.2"}
        for sock, _ in accepted:
            sock.close()
        # Each peer sees only its own wire.
        assert all(p.dst != "198.18.1.2" for p in ustack_peer.peer.received if "tcp" in p)
        assert a.key[0] == "198.18.0.2" and other.received
    finally:
        other.close()


def test_peer_setup_failure_leaves_nothing_behind() -> None:
    clock = ustack.VirtualClock(1_000_000_000)
    with ustack.Stack(clock=clock, seed=2) as stack:
        with pytest.raises(ValueError):
            Peer(stack, addr="198.18.0.2", stack_addr="198.18.0.300")
        with pytest.raises(ValueError, match="no interface with 198.18.9.1"):
            Peer(stack, stack_addr="198.18.9.1", end=ustack.Pipe(clock=clock).b)
        with pytest.raises(ValueError, match="both have 198.18.0.2"):
            Peer(stack, addr="198.18.0.2", stack_addr="198.18.0.2")
        assert stack.interfaces == []
        peer = Peer(stack)  # a good one still works
        with pytest.raises(ustack.Error, match="EEXIST"):
            Peer(stack, name="peer1")  # the same subnet again
        assert [i.name for i in stack.interfaces] == ["peer0"]
        peer.send(TCP(dport=1, flags="S"))
        peer.expect(TCP(flags="RA"))
        peer.close()
        assert stack.interfaces == []


def test_udp_and_icmp_echo_both_ways(ustack_peer: PeerRig) -> None:
    peer, stack = ustack_peer.peer, ustack_peer.stack
    sock = stack.socket(ustack.AF_INET, ustack.SOCK_DGRAM)
    sock.bind(("0.0.0.0", 7))
    sock.setblocking(False)
    peer.send(UDP(sport=5000, dport=7) / b"ping")
    assert sock.recvfrom(100) == (b"ping", ("198.18.0.2", 5000))
    sock.sendto(b"pong", ("198.18.0.2", 5000))
    got = peer.expect(IP(src="198.18.0.1", ttl=64) / UDP(sport=7, dport=5000) / Raw(b"pong"))
    assert got.udp.csum_ok and got.ip.proto == 17 and got.summary() == "udp (4)"
    # A broken UDP checksum is dropped and counted.
    before = stack.netstat()["udp"]["udps_badsum"]
    peer.send(UDP(sport=5000, dport=7, chksum=0x1234) / b"bad")
    assert stack.netstat()["udp"]["udps_badsum"] == before + 1
    with pytest.raises(BlockingIOError):
        sock.recvfrom(100)
    # ICMP echo: the reply carries our id, sequence number and data.
    peer.send(ICMP(type=8, id=0x1234, seq=7) / b"abcdefgh")
    reply = peer.expect(ICMP(type=0, code=0), within=0.1)
    assert (reply.icmp.id, reply.icmp.seq, reply.payload) == (0x1234, 7, b"abcdefgh")
    # Templates say which field differed.
    peer.send(ICMP(type=8, id=1, seq=1))
    with pytest.raises(AssertionError, match=r"icmp.type: 0 != 3") as info:
        peer.expect(IP(ttl=1) / ICMP(type=3), within=0.05)
    assert "ip.ttl: 64 != 1" in str(info.value)
    sock.close()


def test_fixture_markers_and_seed(pytester: pytest.Pytester) -> None:
    """The ustack_peer fixture in a test session: markers set the seed and the
    peer's settings, and the seed is printed."""
    pytester.makeconftest(
        "from ustack.scripting.fixtures import MARKERS, ustack_peer  # noqa: F401\n"
        "def pytest_configure(config):\n"
        "    config.addinivalue_line('markers', 'ustack(**kw): settings')\n"
        "    for line in MARKERS:\n"
        "        config.addinivalue_line('markers', line)\n"
    )
    pytester.makepyfile(
        """
        import pytest
        from ustack.scripting import TCP

        @pytest.mark.ustack(seed=11)
        @pytest.mark.ustack_peer(isn=500, addr="198.18.7.2", stack_addr="198.18.7.1")
        def test_marked(ustack_peer):
            assert ustack_peer.seed == 11
            peer = ustack_peer.peer
            assert (peer.addr, peer.stack_addr, peer.isn) == ("198.18.7.2", "198.18.7.1", 500)
            peer.send(TCP(dport=9, flags="S"))
            assert peer.expect(TCP(flags="RA")).tcp.raw_ack == 501

        @pytest.mark.ustack_peer(seed=3, sysctl={"net.inet.tcp.blackhole": 2})
        def test_knobs(ustack_peer):
            assert ustack_peer.seed == 3
            assert ustack_peer.sysctl("net.inet.tcp.blackhole") == 2
            ustack_peer.peer.send(TCP(dport=9, flags="S"))
            ustack_peer.peer.expect_none(within=0.5)  # a black hole: no RST

        def test_default(ustack_peer):
            print("default seed", ustack_peer.seed)
            assert 0
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:ustack.testing", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*ustack_peer: seed 1*", "*default seed 1*"])


def test_syn_on_established_keeps_relative_numbering() -> None:
    """RFC 5961 4.2: a SYN on an established connection is answered by a
    challenge ACK; the script's numbers stay relative to the first SYN's ISN,
    as packetdrill keeps them, so the ACK reads ``ack == 1``."""
    clock = ustack.VirtualClock(1_000_000_000)
    stack = ustack.Stack(clock=clock, seed=3)
    try:
        peer = Peer(stack, isn=1000)
        server = stack.socket(ustack.AF_INET, ustack.SOCK_STREAM)
        server.bind(("0.0.0.0", 80))
        server.listen(4)
        peer.send(TCP(dport=80, flags="S", seq=0))
        peer.expect(lambda p: p.tcp.flags == "SA" and p.tcp.ack == 1, within=0.2)
        peer.send(TCP(flags="A", seq=1, ack=1))
        peer.send(TCP(flags="S", seq=500))
        challenge = peer.expect(lambda p: p.tcp.flags == "A", within=0.2)
        assert challenge.tcp.ack == 1 and challenge.tcp.raw_ack == 1001
        assert challenge.tcp.seq == 1
        peer.send(TCP(flags="PA", seq=1, ack=1) / b"hello")
        peer.expect(lambda p: p.tcp.flags == "A" and p.tcp.ack == 6, within=0.5)
    finally:
        stack.close()
