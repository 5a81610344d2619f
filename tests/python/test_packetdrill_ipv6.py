"""The packetdrill runner's IPv6: wire format, ICMPv6 tables, runner, report.

The wire tests check every byte the runner builds for IPv6 against values
computed here independently (the standard library's ``socket.inet_pton``
for addresses, a checksum written out below rather than ustack's), and the
parser against frames built by hand.  The runner tests drive a scripted
fake back end (no stack needed), so they run before ustack has IPv6; the
report and family-filter tests use tiny scripts.  The end-to-end tests at
the bottom need a ustack built with IPv6 (``ustack.UST_HAS_INET6``).
"""

from __future__ import annotations

import json
import re
import socket
import struct
import subprocess
import sys
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import ustack
from ustack.errors import Error
from ustack.packetdrill.parser import parse_text
from ustack.packetdrill.runner import (
    _SOCKSTAT,
    LOCAL_PORT,
    REMOTE_PORT,
    Failure,
    ScriptRunner,
    Unsupported,
    inet6_missing,
)
from ustack.packetdrill.suite import (
    LOCAL_IP6,
    REMOTE_IP6,
    Report,
    ScriptResult,
    default_suite_dir,
    file_family,
    run_script,
    run_scripts,
    select_scripts,
)
from ustack.packetdrill.wire import (
    ETHERTYPE_IPV6,
    ICMP6_CODES,
    ICMP6_TYPES,
    ND_MLD_TYPES,
    Icmp,
    Segment,
    encode_options,
    fragment,
    fragment6,
    icmp6_frame,
    icmp_type_code,
    parse_frame,
    parse_packet,
    tcp_frame,
)

SUITE = default_suite_dir()
HAS_INET6 = bool(getattr(ustack, "UST_HAS_INET6", False))
MAC_A = bytes.fromhex("020000000001")
MAC_B = bytes.fromhex("020000000002")


def _csum(data: bytes) -> int:
    """RFC 1071, written out: the one's complement of the one's complement
    sum of the 16-bit words (odd length padded with a zero byte)."""
    if len(data) % 2:
        data += b"\0"
    total = sum(int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def _pseudo6(src: str, dst: str, length: int, nxt: int) -> bytes:
    """RFC 8200 8.1's pseudo header from the standard library's addresses."""
    return (
        socket.inet_pton(socket.AF_INET6, src)
        + socket.inet_pton(socket.AF_INET6, dst)
        + length.to_bytes(4, "big")
        + bytes(3)
        + bytes([nxt])
    )


def _seg6(**kw: Any) -> Segment:
    base: dict[str, Any] = dict(
        src=REMOTE_IP6,
        dst=LOCAL_IP6,
        sport=REMOTE_PORT,
        dport=LOCAL_PORT,
        seq=0x01020304,
        ack=0,
        flags=0x02,
        win=32767,
        options=encode_options([("mss", 1440), ("sackOK",), ("eol",), ("eol",)]),
        family=6,
    )
    base.update(kw)
    return Segment(**base)


# --- wire: encoding ---------------------------------------------------------------------------


def test_ipv6_header_fields_by_hand() -> None:
    seg = _seg6(hlim=3, tclass=0x28, flowlabel=0xABCDE, payload=b"xyz")
    pkt = seg.ip_packet()
    assert len(pkt) == 40 + 20 + 8 + 3
    assert pkt[0] >> 4 == 6
    # version 6, traffic class 0x28, flow label 0xabcde: 0110 0010 1000 1010 1011 ...
    assert pkt[0:4] == bytes.fromhex("628abcde")
    assert struct.unpack("!H", pkt[4:6])[0] == 31  # payload length: TCP header + data
    assert pkt[6] == 6 and pkt[7] == 3  # next header TCP, hop limit
    assert pkt[8:24] == socket.inet_pton(socket.AF_INET6, REMOTE_IP6)
    assert pkt[24:40] == socket.inet_pton(socket.AF_INET6, LOCAL_IP6)


def test_ipv6_ecn_goes_into_the_traffic_class() -> None:
    pkt = _seg6(tclass=0x20, ecn=2).ip_packet()
    assert (struct.unpack("!I", pkt[:4])[0] >> 20) & 0xFF == 0x22


def test_tcp_checksum_over_the_ipv6_pseudo_header() -> None:
    for payload in (b"", b"a", b"odd-length payload!", bytes(1440)):
        pkt = _seg6(payload=payload, flags=0x18, ack=7).ip_packet()
        tcp = pkt[40:]
        assert _csum(_pseudo6(REMOTE_IP6, LOCAL_IP6, len(tcp), 6) + tcp) == 0
        # ... and the field holds what the hand computation gives.
        zeroed = tcp[:16] + b"\0\0" + tcp[18:]
        want = _csum(_pseudo6(REMOTE_IP6, LOCAL_IP6, len(tcp), 6) + zeroed)
        assert struct.unpack("!H", tcp[16:18])[0] == want


def test_tcp_checksum_hand_computed_value() -> None:
    # ::1 port 1 to ::2 port 2, seq 0, ack 0, data offset 5, flags SYN,
    # window 0, urgent 0.  One's complement sum of the 16-bit words: pseudo
    # header 0x0001 + 0x0002 (addresses) + 0x0014 (length 20) + 0x0006 (next
    # header) = 0x001d; TCP 0x0001 + 0x0002 (ports) + 0x5002 (offset, flags)
    # = 0x5005; total 0x5022, checksum ~0x5022 = 0xafdd.
    seg = Segment(src="::1", dst="::2", sport=1, dport=2, seq=0, ack=0, flags=0x02, win=0, family=6)
    tcp = seg.ip_packet()[40:]
    assert tcp[16:18] == bytes.fromhex("afdd")


def test_frame_carries_the_ipv6_ethertype() -> None:
    frame = tcp_frame(MAC_A, MAC_B, _seg6())
    assert frame[:12] == MAC_A + MAC_B
    assert struct.unpack("!H", frame[12:14])[0] == ETHERTYPE_IPV6 == 0x86DD


# --- wire: parsing ----------------------------------------------------------------------------


def test_parse_round_trip() -> None:
    seg = _seg6(hlim=4, tclass=0x21, flowlabel=0x12345, payload=b"data", flags=0x18, ack=99)
    got = parse_frame(tcp_frame(MAC_A, MAC_B, seg))
    assert isinstance(got, Segment)
    assert (got.family, got.src, got.dst, got.sport, got.dport) == (
        6,
        REMOTE_IP6,
        LOCAL_IP6,
        REMOTE_PORT,
        LOCAL_PORT,
    )
    assert (got.seq, got.ack, got.flags, got.win) == (seg.seq, 99, 0x18, seg.win)
    assert (got.hlim, got.tclass, got.ecn, got.flowlabel) == (4, 0x21, 1, 0x12345)
    assert got.options == seg.options and got.payload == b"data"
    assert parse_packet(seg.ip_packet()) == got


def test_parse_dispatches_on_the_ethertype() -> None:
    v6 = _seg6().ip_packet()
    v4 = Segment(
        src="198.18.0.2", dst="198.18.0.1", sport=1, dport=2, seq=0, ack=0, flags=2, win=0
    ).ip_packet()
    assert parse_frame(MAC_A + MAC_B + b"\x08\x00" + v6) is None  # IPv6 bytes called IPv4
    assert parse_frame(MAC_A + MAC_B + b"\x86\xdd" + v4) is None  # and the other way round
    assert isinstance(parse_frame(MAC_A + MAC_B + b"\x86\xdd" + v6), Segment)
    got4 = parse_frame(MAC_A + MAC_B + b"\x08\x00" + v4)
    assert isinstance(got4, Segment) and got4.family == 4
    assert parse_frame(MAC_A + MAC_B + b"\x08\x06" + bytes(28)) is None  # ARP
    # Truncated: the payload length says more than the frame holds.
    assert parse_frame(MAC_A + MAC_B + b"\x86\xdd" + v6[:-1]) is None


def _mld2_report(src: str = "::") -> bytes:
    """An MLDv2 report as a stack sends it: hop-by-hop header with the router
    alert option, then ICMPv6 type 143 (RFC 3810 5.2)."""
    icmp = struct.pack("!BBHHH", 143, 0, 0, 0, 1) + struct.pack("!BBH", 4, 0, 0)
    icmp += socket.inet_pton(socket.AF_INET6, "ff02::1:ff00:1")
    dst = "ff02::16"
    csum = _csum(_pseudo6(src, dst, len(icmp), 58) + icmp)
    icmp = icmp[:2] + struct.pack("!H", csum) + icmp[4:]
    hbh = bytes([58, 0, 5, 2, 0, 0, 1, 0])  # next 58, length 0, router alert, PadN
    body = hbh + icmp
    hdr = struct.pack(
        "!IHBB16s16s",
        6 << 28,
        len(body),
        0,
        1,
        socket.inet_pton(socket.AF_INET6, src),
        socket.inet_pton(socket.AF_INET6, dst),
    )
    return bytes.fromhex("333300000016") + MAC_A + b"\x86\xdd" + hdr + body


def test_parse_walks_extension_headers_to_icmpv6() -> None:
    got = parse_frame(_mld2_report())
    assert isinstance(got, Icmp)
    assert (got.family, got.type, got.code) == (6, 143, 0)
    assert got.type in ND_MLD_TYPES


def test_nd_and_mld_types() -> None:
    assert set(range(133, 138)) | {143} <= ND_MLD_TYPES
    assert not {1, 2, 3, 4, 128, 129} & ND_MLD_TYPES  # errors and echo are not noise


# --- ICMPv6 -----------------------------------------------------------------------------------


def test_icmp6_tables_match_rfc_4443() -> None:
    assert ICMP6_TYPES == {
        "unreachable": 1,
        "packet_too_big": 2,
        "time_exceeded": 3,
        "parameter_problem": 4,
    }
    # Every name the suite's IPv6 scripts use (IPV6_STUDY.md section 4).
    want = {
        ("unreachable", "no_route"): (1, 0),
        ("unreachable", "admin_prohibited"): (1, 1),
        ("unreachable", "not_neighbour"): (1, 2),
        ("unreachable", "address_unreachable"): (1, 3),
        ("unreachable", "port_unreachable"): (1, 4),
        ("packet_too_big", None): (2, 0),
        ("time_exceeded", "exceeded_hop_limit"): (3, 0),
        ("time_exceeded", "exceeded_frag_time"): (3, 1),
        ("parameter_problem", "header_field"): (4, 0),
        ("parameter_problem", "unknown_next_header"): (4, 1),
        ("parameter_problem", "unknown_option"): (4, 2),
    }
    for (t, c), tc in want.items():
        assert icmp_type_code(6, t, c) == tc, (t, c)
    assert icmp_type_code(6, "unreachable", "code_6") == (1, 6)
    assert set(ICMP6_CODES) == set(ICMP6_TYPES)


def test_icmp_names_of_the_other_family_are_refused() -> None:
    with pytest.raises(ValueError, match="ICMPv6 code frag_needed"):
        icmp_type_code(6, "unreachable", "frag_needed")
    with pytest.raises(ValueError, match="ICMPv6 type source_quench"):
        icmp_type_code(6, "source_quench", None)
    with pytest.raises(ValueError, match="ICMP type packet_too_big"):
        icmp_type_code(4, "packet_too_big", None)
    with pytest.raises(ValueError, match="ICMP code no_route"):
        icmp_type_code(4, "unreachable", "no_route")
    # IPv4's table is as it was.
    assert icmp_type_code(4, "unreachable", "frag_needed") == (3, 4)
    assert icmp_type_code(4, "unreachable", "admin_prohibited") == (3, 13)
    assert icmp_type_code(4, "time_exceeded", "ttl_exceeded_in_transit") == (11, 0)


def test_icmp6_frame_checksum_and_quote() -> None:
    quoted = _seg6(src=LOCAL_IP6, dst=REMOTE_IP6, sport=LOCAL_PORT, dport=REMOTE_PORT)
    quote = quoted.ip_packet()[:48]
    frame = icmp6_frame(MAC_A, MAC_B, REMOTE_IP6, LOCAL_IP6, 2, 0, 1300, quote)
    assert struct.unpack("!H", frame[12:14])[0] == 0x86DD
    ip = frame[14:]
    assert ip[6] == 58  # next header ICMPv6
    body = ip[40:]
    assert struct.unpack("!H", ip[4:6])[0] == len(body) == 8 + 48
    assert _csum(_pseudo6(REMOTE_IP6, LOCAL_IP6, len(body), 58) + body) == 0
    got = parse_frame(frame)
    assert isinstance(got, Icmp)
    assert (got.family, got.type, got.code, got.rest) == (6, 2, 0, 1300)
    assert got.quoted == quote
    inner = parse_packet(got.quoted[:40] + quoted.tcp_header())
    assert isinstance(inner, Segment) and inner.seq == quoted.seq


# --- fragments --------------------------------------------------------------------------------


def _reassemble6(frags: list[bytes]) -> tuple[int, bytes]:
    """(next header, payload) of IPv6 fragments, checked on the way."""
    parts: dict[int, bytes] = {}
    idents = set()
    nxt = -1
    for i, f in enumerate(frags):
        assert f[6] == 44  # Fragment header
        assert struct.unpack("!H", f[4:6])[0] == len(f) - 40
        fh_next, _res, offm, ident = struct.unpack("!BBHI", f[40:48])
        nxt = fh_next
        idents.add(ident)
        more = offm & 1
        assert more == (i < len(frags) - 1)
        data = f[48:]
        if more:
            assert len(data) % 8 == 0
        parts[offm & 0xFFF8] = data
    assert len(idents) == 1
    out = b""
    for off in sorted(parts):
        assert off == len(out)
        out += parts[off]
    return nxt, out


def test_fragment6_splits_at_the_mtu_and_reassembles() -> None:
    pkt = _seg6(payload=bytes(range(256)) * 12, flags=0x18).ip_packet()  # 3100 bytes
    frags = fragment6(pkt, 1280, ident=0xDEADBEEF)
    assert len(frags) == 3
    assert all(len(f) <= 1280 for f in frags)
    assert all(struct.unpack("!I", f[44:48])[0] == 0xDEADBEEF for f in frags)
    assert all(f[:4] == pkt[:4] and f[7:40] == pkt[7:40] for f in frags)  # same header
    nxt, payload = _reassemble6(frags)
    assert nxt == 6 and payload == pkt[40:]
    assert fragment(pkt, 1280, ident=0xDEADBEEF) == frags  # fragment() dispatches
    assert fragment6(pkt, len(pkt)) == [pkt]
    with pytest.raises(ValueError):
        fragment6(pkt, 48)


def test_parse_reads_only_whole_packets_behind_a_fragment_header() -> None:
    pkt = _seg6(payload=bytes(3000)).ip_packet()
    frags = fragment6(pkt, 1500)
    assert parse_packet(frags[0]) is None and parse_packet(frags[1]) is None
    # An atomic fragment (offset 0, M clear) holds the whole segment.
    atomic = bytearray(pkt[:40])
    atomic[6] = 44
    body = struct.pack("!BBHI", 6, 0, 0, 7) + pkt[40:]
    struct.pack_into("!H", atomic, 4, len(body))
    got = parse_packet(bytes(atomic) + body)
    assert isinstance(got, Segment) and len(got.payload) == 3000


# --- the runner, on a scripted fake back end --------------------------------------------------


@dataclass
class _Conn:
    local: tuple[str, int]
    remote: tuple[str, int]
    state_name: str


class _FakeStack:
    def __init__(self, conns: list[_Conn]) -> None:
        self.conns = conns
        self.dropped: list[tuple[tuple[str, int], tuple[str, int]]] = []

    def socket(self, family: int, type: int) -> Any:  # noqa: A002
        raise AssertionError("no syscalls in these scripts")

    def sysctl(self, name: str, value: int) -> int:
        return 0

    def tcp_connections(self) -> list[_Conn]:
        return self.conns

    def tcp_drop(self, local: tuple[str, int], remote: tuple[str, int]) -> None:
        self.dropped.append((local, remote))


class _FakeBackend:
    """An IPv6 back end whose 'stack' answers injected packets with ``respond``."""

    name = "fake"
    family = 6
    local_ip = LOCAL_IP6
    remote_ip = REMOTE_IP6
    tolerance_scale = 1.0

    def __init__(
        self, respond: Callable[[bytes], list[bytes]], conns: list[_Conn] | None = None
    ) -> None:
        self.t = 0
        self.injected: list[bytes] = []
        self.out: deque[tuple[int, bytes]] = deque()
        self.respond = respond
        self.stack = _FakeStack(conns or [])

    def now(self) -> int:
        return self.t

    def inject(self, ip_packet: bytes) -> None:
        self.injected.append(ip_packet)
        for frame in self.respond(ip_packet):
            self.out.append((self.t, frame))

    def advance(self, until_ns: int, *, stop_on_packet: bool) -> None:
        if stop_on_packet and self.out:
            return
        self.t = max(self.t, until_ns)

    def next_outbound(self) -> tuple[int, bytes] | None:
        return self.out.popleft() if self.out else None

    def close(self) -> None:
        pass


RST_SCRIPT = """--ip_version=ipv6
--tolerance_usecs=10000
 0.00 < (hlim 3) (class 0x28) S 0:0(0) win 32767 <mss 1440,sackOK,eol,eol>
+0.00 > (hlim 4) (class 0x20) R. 0:0(0) ack 1 win 0
+0.10 < icmp packet_too_big mtu 1300 [0:0(0)]
+0.00 < icmp unreachable admin_prohibited [0:0(0)]
"""


def _rst_answer(
    hlim: int = 4, tclass: int = 0x20, noise: bool = True
) -> Callable[[bytes], list[bytes]]:
    def respond(pkt: bytes) -> list[bytes]:
        seg = parse_packet(pkt)
        if not isinstance(seg, Segment):
            return []
        rst = Segment(
            src=LOCAL_IP6,
            dst=REMOTE_IP6,
            sport=LOCAL_PORT,
            dport=REMOTE_PORT,
            seq=0,
            ack=(seg.seq + 1) & 0xFFFFFFFF,
            flags=0x14,
            win=0,
            family=6,
            hlim=hlim,
            tclass=tclass,
        )
        frames = [_mld2_report()] if noise else []
        return [*frames, tcp_frame(MAC_B, MAC_A, rst)]

    return respond


@pytest.fixture
def with_inet6(monkeypatch: pytest.MonkeyPatch) -> None:
    """The runner believes ustack has IPv6 (the fake back end needs none)."""
    monkeypatch.setattr(ustack, "UST_HAS_INET6", True, raising=False)


def _run_fake(text: str, be: _FakeBackend) -> None:
    runner = ScriptRunner(parse_text(text, "fake.pkt"), be)  # type: ignore[arg-type]
    runner.run()


@pytest.mark.usefixtures("with_inet6")
def test_runner_builds_checks_and_quotes_ipv6() -> None:
    be = _FakeBackend(_rst_answer())
    _run_fake(RST_SCRIPT, be)
    syn = parse_packet(be.injected[0])
    assert isinstance(syn, Segment)
    assert (syn.family, syn.src, syn.dst, syn.hlim, syn.tclass) == (
        6,
        REMOTE_IP6,
        LOCAL_IP6,
        3,
        0x28,
    )
    assert (syn.sport, syn.dport, syn.flags) == (REMOTE_PORT, LOCAL_PORT, 0x02)
    ptb, unreach = (parse_packet(p) for p in be.injected[1:3])
    assert isinstance(ptb, Icmp) and isinstance(unreach, Icmp)
    assert (ptb.family, ptb.type, ptb.code, ptb.rest) == (6, 2, 0, 1300)
    assert (unreach.type, unreach.code, unreach.rest) == (1, 1, 0)
    assert (ptb.src, ptb.dst) == (REMOTE_IP6, LOCAL_IP6)
    # The quote: our IPv6 header (local to remote) and 8 bytes of TCP.
    assert len(ptb.quoted) == 48
    assert ptb.quoted[8:24] == socket.inet_pton(socket.AF_INET6, LOCAL_IP6)
    assert struct.unpack("!HH", ptb.quoted[40:44]) == (LOCAL_PORT, REMOTE_PORT)


@pytest.mark.usefixtures("with_inet6")
@pytest.mark.parametrize(
    ("hlim", "tclass", "what"),
    [(64, 0x20, "hop limit 64, expected 4"), (4, 0x00, "traffic class 0x00, expected 0x20")],
)
def test_runner_fails_a_wrong_hop_limit_or_class(hlim: int, tclass: int, what: str) -> None:
    with pytest.raises(Failure, match=re.escape(what)) as exc:
        _run_fake(RST_SCRIPT, _FakeBackend(_rst_answer(hlim, tclass)))
    assert exc.value.line == 4


@pytest.mark.usefixtures("with_inet6")
def test_runner_class_with_an_ecn_mark() -> None:
    """(class N) is the whole byte; an ECN mark beside it judges the low bits."""
    marked = RST_SCRIPT.replace("> (hlim 4) (class 0x20)", "> [ect0] (hlim 4) (class 0x20)")
    _run_fake(marked, _FakeBackend(_rst_answer(tclass=0x22)))
    with pytest.raises(Failure, match="traffic class 0x22, expected 0x20"):
        _run_fake(RST_SCRIPT, _FakeBackend(_rst_answer(tclass=0x22)))
    with pytest.raises(Failure, match="IP ECN field 1, expected ect0"):
        _run_fake(marked, _FakeBackend(_rst_answer(tclass=0x21)))


@pytest.mark.usefixtures("with_inet6")
def test_runner_fails_an_unexpected_icmpv6_error() -> None:
    def respond(pkt: bytes) -> list[bytes]:
        quote = pkt[:48]
        return [icmp6_frame(MAC_B, MAC_A, LOCAL_IP6, REMOTE_IP6, 1, 4, 0, quote)]

    with pytest.raises(Failure, match="ICMPv6"):
        _run_fake(RST_SCRIPT, _FakeBackend(respond))


@pytest.mark.usefixtures("with_inet6")
def test_runner_refuses_ipv4_fields_and_names_on_ipv6() -> None:
    bad_field = "--ip_version=ipv6\n 0.00 < (ttl 3) S 0:0(0) win 1000\n"
    with pytest.raises(Unsupported, match="IP field ttl on IPv6"):
        _run_fake(bad_field, _FakeBackend(_rst_answer()))
    bad_icmp = "--ip_version=ipv6\n 0.00 < icmp unreachable frag_needed mtu 1200 [0:0(0)]\n"
    with pytest.raises(Unsupported, match="ICMPv6 code frag_needed"):
        _run_fake(bad_icmp, _FakeBackend(_rst_answer()))
    v4_script = "--ip_version=ipv4\n 0.00 < S 0:0(0) win 1000\n"
    with pytest.raises(Unsupported, match="set up for IPv6"):
        _run_fake(v4_script, _FakeBackend(_rst_answer()))


def test_runner_without_inet6_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(ustack, "UST_HAS_INET6", raising=False)
    assert inet6_missing() == "ustack has no IPv6 (the bindings lack UST_HAS_INET6)"
    with pytest.raises(Unsupported, match="no IPv6"):
        _run_fake(RST_SCRIPT, _FakeBackend(_rst_answer()))
    monkeypatch.setattr(ustack, "UST_HAS_INET6", False, raising=False)
    assert inet6_missing() == "ustack was built without IPv6 (UST_INET6 0)"


@pytest.mark.usefixtures("with_inet6")
def test_socket_eafnosupport_skips_the_script() -> None:
    class NoTcp6(_FakeStack):
        def socket(self, family: int, type: int) -> Any:  # noqa: A002
            exc = Error(97, "Address family not supported by protocol family")
            exc.errname = "EAFNOSUPPORT"
            raise exc

    be = _FakeBackend(_rst_answer())
    be.stack = NoTcp6([])
    with pytest.raises(Unsupported, match="no IPv6 TCP sockets yet") as info:
        _run_fake("--ip_version=ipv6\n 0.00 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n", be)
    assert info.value.line == 2


SOCKSTAT_SCRIPT = """--ip_version=ipv6
 0.00 `sockstat -6 -P tcp -p 8080 -s | grep -c SYN_RCVD | grep 1`
+0.00 `sockstat -4 -P tcp -p 8080 -s | grep -c SYN_RCVD | grep 0`
+0.00 `sockstat -6 -P tcp -s | grep packetdril | grep -c LISTEN | grep 1`
+0.00 `sockstat -4 -P tcp -s -p 8080 | grep -c LISTEN | grep 1`
+0.00 `sockstat -6 -P tcp -s | grep packetdril | grep -c TIME_WAIT | grep 1`
+0.00 `tcpdrop -s TIME_WAIT`
"""


@pytest.mark.usefixtures("with_inet6")
def test_sockstat_counts_one_family_and_tcpdrop_takes_ipv6_tuples() -> None:
    conns = [
        _Conn(("2001:2::1", 8080), ("2001:2:0::2", 53000), "SYN_RECEIVED"),
        _Conn(("::", 8080), ("::", 0), "LISTEN"),
        _Conn(("0.0.0.0", 8080), ("0.0.0.0", 0), "LISTEN"),
        _Conn(("2001:2::1", 8080), ("2001:2::2", 53001), "TIME_WAIT"),
        _Conn(("2001:2::1", 8080), ("2001:2::99", 53001), "TIME_WAIT"),  # another peer's
    ]
    be = _FakeBackend(lambda pkt: [], conns)
    _run_fake(SOCKSTAT_SCRIPT, be)
    assert be.stack.dropped == [(("2001:2::1", 8080), ("2001:2::2", 53001))]
    wrong = SOCKSTAT_SCRIPT.replace("SYN_RCVD | grep 0", "SYN_RCVD | grep 1")
    with pytest.raises(Failure, match="sockstat: 0 connections in SYN_RCVD"):
        _run_fake(wrong, _FakeBackend(lambda pkt: [], conns))


@pytest.mark.skipif(not SUITE.is_dir(), reason=f"FreeBSD's suite not found at {SUITE}")
def test_every_sockstat_line_of_the_suite_is_understood() -> None:
    lines = set()
    for path in SUITE.rglob("*.pkt"):
        lines.update(re.findall(r"`(sockstat [^`]*)`", path.read_text(errors="replace")))
    assert any("-6" in x for x in lines) and any("-4" in x for x in lines)
    assert [x for x in lines if not _SOCKSTAT.fullmatch(x.strip())] == []


# --- report and family filter -----------------------------------------------------------------


def _results() -> list[ScriptResult]:
    return [
        ScriptResult("a-ipv4.pkt", "snippets", "pass", family=4),
        ScriptResult("b-ipv4.pkt", "snippets", "unsupported", reason="MD5", family=4),
        ScriptResult("c-ipv4.pkt", "fast-open", "pass", family=4),
        ScriptResult("a-ipv6.pkt", "snippets", "pass", family=6),
        ScriptResult("b-ipv6.pkt", "snippets", "fail", reason="window", family=6),
        ScriptResult("d-ipv6.pkt", "rcv-icmp", "unsupported", reason="MD5", family=6),
    ]


def test_report_counts_the_families_apart() -> None:
    report = Report(_results(), seconds=1.0)
    assert report.families() == [4, 6]
    assert report.counts(4) == {"pass": 2, "unsupported": 1}
    assert report.counts(6) == {"pass": 1, "fail": 1, "unsupported": 1}
    assert report.counts()["pass"] == 3
    assert report.in_scope(4) == (1, 2)  # fast-open is out of scope
    assert report.in_scope(6) == (1, 3)
    assert report.in_scope_pass_rate() == 50.0  # IPv4 by default, as before
    assert report.in_scope_pass_rate(6) == pytest.approx(100 / 3)
    assert report.by_group(6) == {
        "snippets": {"pass": 1, "fail": 1},
        "rcv-icmp": {"unsupported": 1},
    }
    text = report.format()
    lines = text.splitlines()
    assert lines[-1] == "3 passed, 1 failed, 2 skipped (1.0 s)"
    assert "IPv4: 2 passed, 0 failed, 1 skipped; in scope 1/2 (50.0%)" in lines
    assert "IPv6: 1 passed, 1 failed, 1 skipped; in scope 1/3 (33.3%)" in lines
    row = next(line for line in lines if line.startswith("snippets"))
    assert row.split() == ["snippets", "1", "0", "1", "1", "1", "0"]
    assert "     1  IPv4: MD5" in lines and "     1  IPv6: MD5" in lines
    data = json.loads(report.to_json())
    assert data["summary"] == {"pass": 3, "unsupported": 2, "fail": 1}
    assert data["families"]["ipv6"]["in_scope_total"] == 3
    assert data["families"]["ipv4"]["groups"]["snippets"] == {"pass": 1, "unsupported": 1}
    assert {r["family"] for r in data["results"]} == {4, 6}


def test_report_of_ipv4_alone_has_one_column_set() -> None:
    report = Report([r for r in _results() if r.family == 4])
    lines = report.format().splitlines()
    assert lines[-1].startswith("2 passed, 0 failed, 1 skipped")
    assert not any(line.startswith("IPv6") for line in lines)
    assert next(x for x in lines if x.startswith("group")).split() == [
        "group",
        "pass",
        "fail",
        "skip",
    ]


def _tiny_suite(tmp_path: Path) -> Path:
    (tmp_path / "run-tests.sh").write_text("")
    group = tmp_path / "snippets"
    group.mkdir()
    body = " 0.00 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0.00 close(3) = 0\n"
    (group / "one-ipv4.pkt").write_text("--ip_version=ipv4\n" + body)
    (group / "one-ipv6.pkt").write_text("--ip_version=ipv6\n" + body)
    # Named neither way: the option decides.
    (group / "unnamed.pkt").write_text("// x\n--ip_version=ipv6\n" + body)
    return tmp_path


def test_family_filter_by_ip_version(tmp_path: Path) -> None:
    suite = _tiny_suite(tmp_path)
    names = {f: sorted(p.name for _, p in select_scripts([suite], f)) for f in ("4", "6", "both")}
    assert names["4"] == ["one-ipv4.pkt"]
    assert names["6"] == ["one-ipv6.pkt", "unnamed.pkt"]
    assert names["both"] == ["one-ipv4.pkt", "one-ipv6.pkt", "unnamed.pkt"]
    assert file_family(suite / "snippets" / "unnamed.pkt") == 6
    with pytest.raises(ValueError, match="family"):
        list(select_scripts([suite], "5"))


def test_run_scripts_by_family(tmp_path: Path) -> None:
    suite = _tiny_suite(tmp_path)
    r4 = run_scripts([suite], family="4")
    assert [(Path(r.path).name, r.family, r.status) for r in r4.results] == [
        ("one-ipv4.pkt", 4, "pass")
    ]
    assert [r.path for r in run_scripts([suite], ipv4_only=True).results] == [
        r.path for r in r4.results
    ]
    r6 = run_scripts([suite], family="6")
    assert [r.family for r in r6.results] == [6, 6]
    if HAS_INET6:
        assert all(r.status == "pass" or _no_tcp6(r) for r in r6.results), r6.format(verbose=True)
    else:
        assert {r.reason for r in r6.results} == {inet6_missing()}
        assert all(r.status == "unsupported" for r in r6.results)


def test_cli_family_flag(tmp_path: Path) -> None:
    suite = _tiny_suite(tmp_path)
    base = [sys.executable, "-m", "ustack", "packetdrill", "--quiet", str(suite)]
    both = subprocess.run(base, capture_output=True, text=True, timeout=120)
    assert both.returncode == 0, both.stdout + both.stderr
    assert "IPv4: 1 passed" in both.stdout and "IPv6: " in both.stdout
    only4 = subprocess.run([*base, "--ipv4-only"], capture_output=True, text=True, timeout=120)
    assert only4.stdout.strip().splitlines()[-1].startswith("1 passed, 0 failed, 0 skipped")
    only6 = subprocess.run([*base, "--family", "6"], capture_output=True, text=True, timeout=120)
    assert "IPv4:" not in only6.stdout and "IPv6: " in only6.stdout
    bad = subprocess.run([*base, "--family", "5"], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2


# --- end to end: needs ustack with IPv6 -------------------------------------------------------


def _no_tcp6(r: ScriptResult) -> bool:
    """Skipped because the build's IPv6 has no TCP sockets yet."""
    return r.status == "unsupported" and "EAFNOSUPPORT" in r.reason


need_inet6 = pytest.mark.skipif(not HAS_INET6, reason="ustack has no IPv6 (UST_HAS_INET6)")

PASSIVE6 = """--ip_version=ipv6
--tolerance_usecs=10000
 0.00 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0.00 setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
+0.00 bind(3, ..., ...) = 0
+0.00 listen(3, 1) = 0
+0.00 < S  0:0(0) win 32767 <mss 1440,sackOK,eol,eol>
+0.00 > S. 0:0(0) ack 1 win 65535 <mss 1440,sackOK,eol,eol>
+0.01 <  . 1:1(0) ack 1 win 32767
+0.00 accept(3, ..., ...) = 4
+0.00 `sockstat -6 -P tcp -s | grep packetdril | grep -c ESTABLISHED | grep 1`
+0.00 `sockstat -4 -P tcp -s | grep packetdril | grep -c ESTABLISHED | grep 0`
+0.00 write(4, ..., 1000) = 1000
+0.00 > P. 1:1001(1000) ack 1 win 65535
+0.01 < . 1:1(0) ack 1001 win 32767
"""


@need_inet6
def test_ipv6_passive_open_end_to_end(tmp_path: Path) -> None:
    path = tmp_path / "passive-ipv6.pkt"
    path.write_text(PASSIVE6)
    r = run_script(path)
    if _no_tcp6(r):
        pytest.skip(r.reason)
    assert (r.status, r.family) == ("pass", 6), (r.line, r.reason, r.expected, r.actual)


@need_inet6
def test_ipv6_wrong_window_fails(tmp_path: Path) -> None:
    path = tmp_path / "wrong-ipv6.pkt"
    path.write_text(PASSIVE6.replace("ack 1 win 65535 <mss", "ack 1 win 1000 <mss"))
    r = run_script(path)
    if _no_tcp6(r):
        pytest.skip(r.reason)
    assert r.status == "fail" and r.line == 8, (r.reason, r.actual)


@need_inet6
def test_virtual_backend_ipv6_is_quiet_and_speaks_icmpv6() -> None:
    """The backend's IPv6 set-up on the real stack: nothing on its own for
    seconds (no DAD, RS, MLD), an echo request built here is answered, and
    one above the MTU crosses as fragments (fragment6) and comes back as the
    stack's own fragments, whose reassembly gives the data back."""
    from ustack.packetdrill.virtual import VirtualBackend

    be = VirtualBackend(local_ip=LOCAL_IP6, remote_ip=REMOTE_IP6, mtu=1280, family=6)
    try:
        be.advance(5_000_000_000, stop_on_packet=False)
        assert be.next_outbound() is None
        echo = icmp6_frame(MAC_A, MAC_B, REMOTE_IP6, LOCAL_IP6, 128, 0, 0x12340001, b"hello")
        be.inject(echo[14:])
        be.advance(be.now() + 1_000_000, stop_on_packet=True)
        got = be.next_outbound()
        assert got is not None
        reply = parse_frame(got[1])
        assert isinstance(reply, Icmp)
        assert (reply.family, reply.type, reply.rest, reply.quoted) == (
            6,
            129,
            0x12340001,
            b"hello",
        )
        assert (reply.src, reply.dst) == (LOCAL_IP6, REMOTE_IP6)
        data = bytes(range(256)) * 8
        big = icmp6_frame(MAC_A, MAC_B, REMOTE_IP6, LOCAL_IP6, 128, 0, 0x12340002, data)
        be.inject(big[14:])  # 2 fragments at MTU 1280
        be.advance(be.now() + 1_000_000, stop_on_packet=True)
        frames = []
        while (out := be.next_outbound()) is not None:
            frames.append(out[1])
        assert len(frames) >= 2 and all(len(f) - 14 <= 1280 for f in frames)
        assert all(struct.unpack("!H", f[12:14])[0] == ETHERTYPE_IPV6 for f in frames)
        nxt, body = _reassemble6([f[14:] for f in frames])
        assert nxt == 58 and body[0] == 129 and body[8:] == data
    finally:
        be.close()
