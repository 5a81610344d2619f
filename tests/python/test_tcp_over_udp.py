"""TCP over UDP encapsulation (netinet/tcp_udp_tunnel.c, FreeBSD's
net.inet.tcp.udp_tunneling_port and TCP_REMOTE_UDP_ENCAPS_PORT).

The conformance suite's tcp-over-udp group runs on the virtual back end and
must pass but for the scripts that need what ustack does not have (listed
below, each with the reason the runner gives).  Then two ustack stacks talk
TCP over UDP across the pipe: the bytes arrive intact, every frame on the
wire is UDP between the tunneling ports with a zero TCP checksum and a
right UDP checksum, and the counters add up.  The wire-format helpers of the
runner are checked against a checksum written out here.
"""

from __future__ import annotations

import hashlib
import random
import struct
from pathlib import Path

import pytest

import ustack
from ustack.packetdrill.suite import default_suite_dir, run_script
from ustack.packetdrill.wire import (
    Segment,
    parse_udp_encapsulated,
    quotes_udp,
    udp_encapsulated_packet,
)
from ustack.sim import ADDR_B, PipeRig
from ustack.stack import CAPTURE_OUT

pytestmark = pytest.mark.skipif(
    not getattr(ustack, "UST_HAS_TCP_TUNNEL", False), reason="UST_TCP_TUNNEL 0"
)

SUITE = default_suite_dir()
GROUP = Path(SUITE) / "tcp-over-udp"
# Scripts of the group that need a feature ustack lacks; anything else that
# does not pass is a failure.
NEEDS = {
    "sysctl-pmtud-blackhole-detection-ipv4.pkt": "TCP_FUNCTION_BLK",
    "sysctl-pmtud-blackhole-detection-ipv6.pkt": "TCP_FUNCTION_BLK",
}
TUNNEL_PORT = 9811


def _scripts() -> list[Path]:
    if not GROUP.is_dir():
        return []
    return sorted(GROUP.glob("*.pkt"))


def _csum(data: bytes) -> int:
    """RFC 1071 written out (odd length padded with a zero byte)."""
    if len(data) % 2:
        data += b"\0"
    total = sum(int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


@pytest.mark.skipif(not _scripts(), reason="no conformance suite")
def test_group_has_all_scripts() -> None:
    assert len(_scripts()) == 56


@pytest.mark.parametrize("path", _scripts(), ids=lambda p: p.stem)
def test_tcp_over_udp_script(path: Path) -> None:
    r = run_script(path, group="tcp-over-udp")
    if r.family == 6 and not ustack.UST_HAS_INET6:
        pytest.skip("no IPv6")
    if path.name in NEEDS:
        assert r.status in ("pass", "unsupported"), (r.line, r.reason, r.expected, r.actual)
        if r.status == "unsupported":
            assert NEEDS[path.name] in r.reason, r.reason
        return
    assert r.status == "pass", (r.line, r.reason, r.expected, r.actual)


def test_runner_frames_round_trip() -> None:
    """What the runner builds for ``/udp(1 > 9811)`` and reads back: UDP
    ports, the UDP checksum over the pseudo header (computed here), TCP
    inside with its ports and numbers."""
    seg = Segment(
        src="198.18.0.2",
        dst="198.18.0.1",
        sport=53000,
        dport=8080,
        seq=7,
        ack=9,
        flags=0x12,
        win=1000,
        payload=b"abc",
    )
    pkt = udp_encapsulated_packet(seg, 1, TUNNEL_PORT)
    assert pkt[9] == 17 and struct.unpack_from("!HHH", pkt, 20) == (1, TUNNEL_PORT, 8 + 23)
    pseudo = bytes([198, 18, 0, 2, 198, 18, 0, 1, 0, 17]) + struct.pack("!H", 31)
    assert _csum(pseudo + pkt[20:]) == 0
    frame = b"\0" * 12 + b"\x08\x00" + pkt
    got = parse_udp_encapsulated(frame)
    assert got is not None and got.udp == (1, TUNNEL_PORT)
    assert (got.sport, got.dport, got.seq, got.ack, got.payload) == (53000, 8080, 7, 9, b"abc")
    assert got.extra["udp_csum_ok"] == 1
    bad = bytearray(frame)
    bad[-1] ^= 0xFF
    got = parse_udp_encapsulated(bytes(bad))
    assert got is not None and got.extra["udp_csum_ok"] == 0
    assert quotes_udp(pkt) and not quotes_udp(seg.ip_packet())


def _wire_check(frames: list[bytes]) -> int:
    """Every IPv4 frame is an encapsulated segment between the tunneling
    ports: TCP checksum 0, UDP checksum right.  Returns how many."""
    n = 0
    for frame in frames:
        if struct.unpack_from("!H", frame, 12)[0] != 0x0800:
            continue
        assert frame[14 + 9] == 17, f"a frame that is not UDP: proto {frame[14 + 9]}"
        seg = parse_udp_encapsulated(frame)
        assert seg is not None
        assert seg.udp == (TUNNEL_PORT, TUNNEL_PORT)
        assert seg.extra["tcp_csum"] == 0 and seg.extra["udp_csum_ok"] == 1
        n += 1
    return n


@pytest.mark.parametrize("seed", [1, 5])
def test_two_stacks_talk_tcp_over_udp(seed: int) -> None:
    with PipeRig(seed=seed, addresses=True) as net:
        for st in (net.a, net.b):
            st.sysctl("net.inet.tcp.udp_tunneling_port", TUNNEL_PORT)
        sent: list[bytes] = []
        net.a.interfaces[0].set_capture_hook(
            lambda d, _t, f: sent.append(bytes(f)) if d == CAPTURE_OUT else None
        )
        srv = net.b.socket(ustack.AF_INET, ustack.SOCK_STREAM)
        srv.setsockopt(ustack.SOL_SOCKET, ustack.SO_REUSEADDR, 1)
        srv.bind(("", 7000))
        srv.listen(4)
        cli = net.a.socket(ustack.AF_INET, ustack.SOCK_STREAM)
        cli.setsockopt(ustack.IPPROTO_TCP, ustack.TCP_REMOTE_UDP_ENCAPS_PORT, TUNNEL_PORT)
        assert cli.getsockopt(ustack.IPPROTO_TCP, ustack.TCP_REMOTE_UDP_ENCAPS_PORT) == (
            TUNNEL_PORT
        )
        for s in (cli, srv):
            s.settimeout(10.0)
        cli.connect((ADDR_B, 7000))
        conn, _ = srv.accept()
        conn.settimeout(10.0)
        # The accepted connection took the port from the SYN it came in.
        assert conn.getsockopt(ustack.IPPROTO_TCP, ustack.TCP_REMOTE_UDP_ENCAPS_PORT) == (
            TUNNEL_PORT
        )
        # The MSS lost the 8 bytes of overhead: 1500 - 40 - 8.
        assert cli.getsockopt(ustack.IPPROTO_TCP, ustack.TCP_MAXSEG) == 1452
        data = random.Random(seed).randbytes(300_000)
        got = net.stream(cli, conn, data)
        assert hashlib.sha256(got).digest() == hashlib.sha256(data).digest(), f"seed {seed}"
        cli.close()
        conn.settimeout(10.0)
        assert conn.recv(10) == b""
        conn.close()
        srv.close()
        a = net.a.netstat("tcp")["tcp"]
        b = net.b.netstat("tcp")["tcp"]
        n = _wire_check(sent)
        assert n > 200, f"seed {seed}: {n} frames"
        # Everything A sent went in UDP, and B took it all through the tunnel.
        assert a["tcps_tunneled_opkts"] == n == a["tcps_sndtotal"], f"seed {seed}: {a}"
        assert b["tcps_tunneled_pkts"] == b["tcps_rcvtotal"] >= n, f"seed {seed}: {b}"
        assert a["tcps_tunneled_errs"] == b["tcps_tunneled_errs"] == 0
        assert b["tcps_rcvbadsum"] == 0


def test_plain_segment_to_encapsulated_connection_is_refused() -> None:
    """The listener side is plain TCP: its SYN-ACK to an encapsulated SYN
    goes back in UDP; a socket whose port is not set talks plain TCP and
    the tunnel does not see it."""
    with PipeRig(seed=3, addresses=True) as net:
        for st in (net.a, net.b):
            st.sysctl("net.inet.tcp.udp_tunneling_port", TUNNEL_PORT)
        srv = net.b.socket(ustack.AF_INET, ustack.SOCK_STREAM)
        srv.bind(("", 7001))
        srv.listen(4)
        cli = net.a.socket(ustack.AF_INET, ustack.SOCK_STREAM)
        for s in (cli, srv):
            s.settimeout(10.0)
        cli.connect((ADDR_B, 7001))
        conn, _ = srv.accept()
        assert conn.getsockopt(ustack.IPPROTO_TCP, ustack.TCP_REMOTE_UDP_ENCAPS_PORT) == 0
        assert net.b.netstat("tcp")["tcp"]["tcps_tunneled_pkts"] == 0
        for s in (cli, conn, srv):
            s.close()


def test_socket_option_rules() -> None:
    with PipeRig(seed=4, addresses=True) as net:
        s = net.a.socket(ustack.AF_INET, ustack.SOCK_STREAM)
        # The tunnel is closed: only 0.
        with pytest.raises(OSError):
            s.setsockopt(ustack.IPPROTO_TCP, ustack.TCP_REMOTE_UDP_ENCAPS_PORT, 1)
        s.setsockopt(ustack.IPPROTO_TCP, ustack.TCP_REMOTE_UDP_ENCAPS_PORT, 0)
        net.a.sysctl("net.inet.tcp.udp_tunneling_port", TUNNEL_PORT)
        for bad in (-1, 65536):
            with pytest.raises(OSError):
                s.setsockopt(ustack.IPPROTO_TCP, ustack.TCP_REMOTE_UDP_ENCAPS_PORT, bad)
        s.setsockopt(ustack.IPPROTO_TCP, ustack.TCP_REMOTE_UDP_ENCAPS_PORT, 65535)
        assert s.getsockopt(ustack.IPPROTO_TCP, ustack.TCP_REMOTE_UDP_ENCAPS_PORT) == 65535
        with pytest.raises(OSError):
            net.a.sysctl("net.inet.tcp.udp_tunneling_overhead", 7)
        s.close()


@pytest.mark.skipif(not ustack.UST_HAS_INET6, reason="no IPv6")
def test_ipv6_use_min_mtu_option() -> None:
    """IPV6_USE_MIN_MTU (RFC 3542 11.1): -1 by default, takes -1..1."""
    with PipeRig(seed=6, addresses=True) as net:
        s = net.a.socket(ustack.AF_INET6, ustack.SOCK_STREAM)
        assert s.getsockopt(ustack.IPPROTO_IPV6, ustack.IPV6_USE_MIN_MTU) == -1
        for v in (1, 0, -1):
            s.setsockopt(ustack.IPPROTO_IPV6, ustack.IPV6_USE_MIN_MTU, v)
            assert s.getsockopt(ustack.IPPROTO_IPV6, ustack.IPV6_USE_MIN_MTU) == v
        for bad in (2, -2):
            with pytest.raises(OSError):
                s.setsockopt(ustack.IPPROTO_IPV6, ustack.IPV6_USE_MIN_MTU, bad)
        s.close()
