"""TCP over IPv4 and IPv6, ICMP and ICMPv6 frames for the packetdrill runner, built
and read by hand.

The runner injects the script's inbound packets as Ethernet frames and reads
the stack's outbound frames back; this module is the one place that knows the
byte layout (RFC 791 IPv4, RFC 8200 IPv6 with its Fragment header, RFC 9293
3.1 TCP, RFC 792 ICMP, RFC 4443 ICMPv6, RFC 7323 and RFC 2018 options), so
that the backends deal in :class:`Segment` values with absolute sequence
numbers only.  Lengths are checked once in :func:`parse_frame`, which
dispatches on the ethertype; a frame that is not IPv4 or IPv6 carrying TCP,
ICMP or ICMPv6 (or UDP, when asked) is None.  :mod:`ustack.scripting` builds
and reads its packets with the same functions (plus Ethernet, ARP and UDP).
"""

from __future__ import annotations

import hashlib
import ipaddress
import struct
from dataclasses import dataclass, field, replace
from typing import Any, Literal, overload

from ustack.sim import inet_checksum

__all__ = [
    "FLAG_BITS",
    "ECN_NAMES",
    "Option",
    "Segment",
    "Icmp",
    "flags_to_str",
    "str_to_flags",
    "encode_options",
    "decode_options",
    "tcp_frame",
    "icmp_frame",
    "icmp6_frame",
    "icmp_type_code",
    "parse_frame",
    "parse_packet",
    "ethertype_of",
    "fragment",
    "fragment6",
    "l4_checksum",
    "ETHERTYPE_IP",
    "ETHERTYPE_IPV6",
    "ETHERTYPE_ARP",
    "Arp",
    "Udp",
    "arp_bytes",
    "parse_arp",
    "neighbor_advert",
    "ether_header",
    "parse_ether",
    "ip4_header",
    "ip6_header",
    "tcp_bytes",
    "udp_bytes",
    "icmp_bytes",
    "ICMP4_TYPES",
    "ICMP4_CODES",
    "ICMP6_TYPES",
    "ICMP6_CODES",
    "ND_MLD_TYPES",
    "udp_encapsulated_packet",
    "parse_udp_encapsulated",
    "quotes_udp",
]

ETHERTYPE_IP = 0x0800
ETHERTYPE_IPV6 = 0x86DD
ETHERTYPE_ARP = 0x0806
PROTO_ICMP = 1
PROTO_TCP = 6
PROTO_FRAGMENT = 44  # IPv6 Fragment header (RFC 8200 4.5)
PROTO_ICMPV6 = 58
PROTO_UDP = 17
IP6_HLEN = 40
# Extension headers parse_frame walks past to reach TCP or ICMPv6: hop-by-hop
# options (MLD reports carry one), routing, destination options, each
# (length + 1) * 8 bytes; the Fragment header has 8.
_EXT_HEADERS = (0, 43, 60)
_MAX_EXT_HEADERS = 8

# ICMP types and codes by packetdrill's names (RFC 792; RFC 1812 5.2.7.1 for 13-15).
ICMP4_TYPES: dict[str, int] = {
    "unreachable": 3,
    "source_quench": 4,
    "redirect": 5,
    "time_exceeded": 11,
    "parameter_problem": 12,
}
ICMP4_CODES: dict[str, int] = {
    "net_unreachable": 0,
    "host_unreachable": 1,
    "protocol_unreachable": 2,
    "port_unreachable": 3,
    "frag_needed": 4,
    "source_route_failed": 5,
    "net_unknown": 6,
    "host_unknown": 7,
    "source_host_isolated": 8,
    "net_prohibited": 9,
    "host_prohibited": 10,
    "net_unreachable_for_tos": 11,
    "host_unreachable_for_tos": 12,
    "packet_filtered": 13,
    "admin_prohibited": 13,
    "precedence_violation": 14,
    "precedence_cutoff": 15,
    "ttl_exceeded_in_transit": 0,
    "exceeded_frag_time": 1,
    "frag_reass_exceeded": 1,
    "code_0": 0,
    "code_1": 1,
    "code_2": 2,
}
# ICMPv6 error types by packetdrill's names (RFC 4443 3) and their codes,
# which depend on the type.
ICMP6_TYPES: dict[str, int] = {
    "unreachable": 1,
    "packet_too_big": 2,
    "time_exceeded": 3,
    "parameter_problem": 4,
}
ICMP6_CODES: dict[str, dict[str, int]] = {
    "unreachable": {
        "no_route": 0,
        "admin_prohibited": 1,
        "not_neighbour": 2,  # RFC 4443 calls code 2 "beyond scope of source address"
        "beyond_scope": 2,
        "address_unreachable": 3,
        "port_unreachable": 4,
        "source_address_failed_policy": 5,
        "reject_route": 6,
    },
    "packet_too_big": {},
    "time_exceeded": {"exceeded_hop_limit": 0, "exceeded_frag_time": 1},
    "parameter_problem": {"header_field": 0, "unknown_next_header": 1, "unknown_option": 2},
}
# ICMPv6 the stack sends on its own, never part of a TCP script: MLD queries,
# reports and done (130-132, RFC 2710), router and neighbour discovery
# (133-137, RFC 4861) and MLDv2 reports (143, RFC 3810).
ND_MLD_TYPES = frozenset({130, 131, 132, 133, 134, 135, 136, 137, 143})

# packetdrill's flag letters; "." is ACK, E is ECE and W is CWR.
FLAG_BITS: dict[str, int] = {
    "F": 0x01,
    "S": 0x02,
    "R": 0x04,
    "P": 0x08,
    ".": 0x10,
    "U": 0x20,
    "E": 0x40,
    "W": 0x80,
}
# The IP ECN field (RFC 3168 5) by packetdrill's names.
ECN_NAMES: dict[str, int] = {"noecn": 0, "ect1": 1, "ect0": 2, "ce": 3}

# An option as a tuple: ("mss", 1460), ("wscale", 6), ("sackOK",), ("nop",),
# ("eol",), ("TS", val, ecr), ("sack", ((left, right), ...)), or
# ("kind", kind, raw bytes) for anything else.
Option = tuple[object, ...]

_KIND = {"eol": 0, "nop": 1, "mss": 2, "wscale": 3, "sackOK": 4, "sack": 5, "TS": 8, "md5": 19}


def flags_to_str(flags: int) -> str:
    """Flags in packetdrill's canonical letter order (e.g. ``S.``, ``FP.``)."""
    order = "FSRP.UEW"
    out = "".join(ch for ch in order if flags & FLAG_BITS[ch])
    return out or "-"


def str_to_flags(text: str) -> int:
    """The flag bits of a packetdrill flags word; ValueError for an unknown letter."""
    bits = 0
    for ch in text:
        if ch not in FLAG_BITS:
            raise ValueError(f"unknown TCP flag {ch!r} in {text!r}")
        bits |= FLAG_BITS[ch]
    return bits


def encode_options(opts: list[Option]) -> bytes:
    """Option bytes in the given order, zero-padded to a multiple of four."""
    out = bytearray()
    for opt in opts:
        name = opt[0]
        if name == "eol":
            out.append(0)
        elif name == "nop":
            out.append(1)
        elif name == "mss":
            out += struct.pack("!BBH", 2, 4, int(opt[1]))  # type: ignore[call-overload]
        elif name == "wscale":
            out += struct.pack("!BBB", 3, 3, int(opt[1]))  # type: ignore[call-overload]
        elif name == "sackOK":
            out += b"\x04\x02"
        elif name == "TS":
            out += struct.pack("!BBII", 8, 10, int(opt[1]), int(opt[2]))  # type: ignore[call-overload]
        elif name == "sack":
            blocks = opt[1]
            assert isinstance(blocks, tuple)
            out += struct.pack("!BB", 5, 2 + 8 * len(blocks))
            for left, right in blocks:
                out += struct.pack("!II", left & 0xFFFFFFFF, right & 0xFFFFFFFF)
        elif name == "FO":
            raw = opt[1]
            assert isinstance(raw, bytes)
            out += struct.pack("!BB", 34, 2 + len(raw)) + raw  # RFC 7413 2
        elif name == "md5":
            digest = opt[1]
            assert isinstance(digest, bytes) and len(digest) == 16
            out += b"\x13\x12" + digest
        elif name == "kind":
            raw = opt[2]
            assert isinstance(raw, bytes)
            out += struct.pack("!BB", int(opt[1]), 2 + len(raw)) + raw  # type: ignore[call-overload]
        else:
            raise ValueError(f"cannot encode TCP option {opt!r}")
    out += bytes(-len(out) % 4)
    if len(out) > 40:
        raise ValueError(f"TCP options take {len(out)} bytes, more than 40")
    return bytes(out)


def decode_options(raw: bytes) -> list[Option]:
    """The options of a TCP header as tuples; padding after EOL is dropped,
    a malformed option ends the list with ("bad", rest)."""
    opts: list[Option] = []
    i = 0
    while i < len(raw):
        kind = raw[i]
        if kind == 0:
            opts.append(("eol",))
            # Bytes after the first EOL are padding (RFC 9293 3.1); an
            # explicit second EOL in the script is still visible as zeros.
            i += 1
            while i < len(raw) and raw[i] == 0:
                opts.append(("eol",))
                i += 1
            if i < len(raw):
                opts.append(("bad", raw[i:]))
            break
        if kind == 1:
            opts.append(("nop",))
            i += 1
            continue
        if i + 1 >= len(raw) or raw[i + 1] < 2 or i + raw[i + 1] > len(raw):
            opts.append(("bad", raw[i:]))
            break
        length = raw[i + 1]
        body = raw[i + 2 : i + length]
        if kind == 2 and length == 4:
            opts.append(("mss", struct.unpack("!H", body)[0]))
        elif kind == 3 and length == 3:
            opts.append(("wscale", body[0]))
        elif kind == 4 and length == 2:
            opts.append(("sackOK",))
        elif kind == 8 and length == 10:
            opts.append(("TS", *struct.unpack("!II", body)))
        elif kind == 34:
            opts.append(("FO", bytes(body)))  # RFC 7413 2: the cookie, b"": a request
        elif kind == 5 and (length - 2) % 8 == 0:
            blocks = tuple(struct.iter_unpack("!II", body))
            opts.append(("sack", blocks))
        elif kind == 19 and length == 18:
            opts.append(("md5", bytes(body)))
        else:
            opts.append(("kind", kind, bytes(body)))
        i += length
    return opts


@dataclass(frozen=True)
class Segment:
    """A TCP segment in an IPv4 (``family`` 4) or IPv6 (6) packet, with
    absolute sequence numbers.  ``ttl``, ``ip_id`` and ``df`` are IPv4's;
    ``hlim``, ``tclass`` and ``flowlabel`` IPv6's.  ``ecn`` is the ECN field
    when read; when built it is ORed into the TOS byte (IPv4, where the
    runner passes the whole byte) or the traffic class (IPv6)."""

    src: str
    dst: str
    sport: int
    dport: int
    seq: int
    ack: int
    flags: int
    win: int
    urg: int = 0
    options: bytes = b""
    payload: bytes = b""
    ecn: int = 0  # the IP ECN field
    ttl: int = 64
    ip_id: int = 0
    df: bool = False
    extra: dict[str, int] = field(default_factory=dict)  # checksum status etc.
    family: int = 4
    hlim: int = 64
    tclass: int = 0  # the whole traffic class byte, ECN bits included, when read
    flowlabel: int = 0
    udp: tuple[int, int] | None = None  # (sport, dport) of a UDP-encapsulated segment

    @property
    def seglen(self) -> int:
        """Sequence space used: payload plus one for SYN and for FIN."""
        return len(self.payload) + bool(self.flags & 0x02) + bool(self.flags & 0x01)

    def tcp_header(self) -> bytes:
        """The TCP header and options (checksum filled in), without payload."""
        return self._tcp_bytes()[: 20 + len(self.options)]

    def _tcp_bytes(self) -> bytes:
        return tcp_bytes(
            self.src,
            self.dst,
            self.sport,
            self.dport,
            self.seq,
            self.ack,
            self.flags,
            self.win,
            self.urg,
            self.options,
            self.payload,
            family=self.family,
        )

    def ip_packet(self) -> bytes:
        """The whole IP packet (IPv4 header checksum and TCP checksum correct)."""
        if self.family == 6:
            tclass = (self.tclass | self.ecn) & 0xFF
            return ip6_header(
                self.src, self.dst, PROTO_TCP, self._tcp_bytes(), tclass, self.flowlabel, self.hlim
            )
        return _ip_header(self.src, self.dst, PROTO_TCP, self._tcp_bytes(), self)


@dataclass(frozen=True)
class Icmp:
    """An ICMP (``family`` 4) or ICMPv6 (6) message read from the wire (type,
    code, what it quotes)."""

    src: str
    dst: str
    type: int
    code: int
    rest: int  # the 32-bit word after the checksum (MTU, pointer, gateway)
    quoted: bytes
    family: int = 4
    ttl: int = 64  # the IPv4 TTL or IPv6 hop limit it came with


@dataclass(frozen=True)
class Udp:
    """A UDP datagram read from the wire (:func:`parse_frame` with ``udp=True``);
    ``csum_ok`` is whether its checksum is right (IPv4's "none", 0, is)."""

    src: str
    dst: str
    sport: int
    dport: int
    payload: bytes
    csum_ok: bool = True
    family: int = 4
    ttl: int = 64  # the IPv4 TTL or IPv6 hop limit


def _pseudo_header(src: str, dst: str, proto: int, length: int, family: int) -> bytes:
    if family == 6:
        # RFC 8200 8.1: source, destination, upper-layer length (32 bits),
        # three zero bytes, next header.
        return (
            ipaddress.IPv6Address(src).packed
            + ipaddress.IPv6Address(dst).packed
            + struct.pack("!I3xB", length, proto)
        )
    return (
        ipaddress.IPv4Address(src).packed
        + ipaddress.IPv4Address(dst).packed
        + struct.pack("!BBH", 0, proto, length)
    )


def l4_checksum(src: str, dst: str, proto: int, body: bytes, family: int = 4) -> int:
    """The Internet checksum of a TCP segment or ICMPv6 message ``body`` (its
    checksum field zero) over the pseudo header of ``family``."""
    pseudo = _pseudo_header(src, dst, proto, len(body), family)
    return inet_checksum(pseudo + body + bytes(len(body) % 2))


def _ip_header(src: str, dst: str, proto: int, body: bytes, seg: Segment | None) -> bytes:
    if seg is None:
        return ip4_header(src, dst, proto, body)
    frag = 0x4000 if seg.df else 0
    return ip4_header(src, dst, proto, body, tos=seg.ecn, ident=seg.ip_id, frag=frag, ttl=seg.ttl)


def ip4_header(
    src: str,
    dst: str,
    proto: int,
    body: bytes,
    *,
    tos: int = 0,
    ident: int = 0,
    frag: int = 0,
    ttl: int = 64,
    options: bytes = b"",
    length: int | None = None,
    chksum: int | None = None,
    version: int = 4,
    ihl: int | None = None,
) -> bytes:
    """An IPv4 header (RFC 791 3.1) followed by ``body``.  ``frag`` is the
    16-bit flags and fragment offset word (0x4000: DF, 0x2000: MF);
    ``options`` are padded to a multiple of four.  ``length``, ``chksum``,
    ``version`` and ``ihl`` replace the computed values (for broken headers)."""
    options += bytes(-len(options) % 4)
    hlen = 20 + len(options)
    if ihl is None:
        ihl = hlen // 4
    total = hlen + len(body) if length is None else length
    hdr = (
        struct.pack(
            "!BBHHHBBH4s4s",
            ((version & 0x0F) << 4) | (ihl & 0x0F),
            tos & 0xFF,
            total & 0xFFFF,
            ident & 0xFFFF,
            frag & 0xFFFF,
            ttl & 0xFF,
            proto & 0xFF,
            0,
            ipaddress.IPv4Address(src).packed,
            ipaddress.IPv4Address(dst).packed,
        )
        + options
    )
    csum = inet_checksum(hdr) if chksum is None else chksum
    return hdr[:10] + struct.pack("!H", csum & 0xFFFF) + hdr[12:] + body


def tcp_bytes(
    src: str,
    dst: str,
    sport: int,
    dport: int,
    seq: int,
    ack: int,
    flags: int,
    win: int,
    urg: int = 0,
    options: bytes = b"",
    payload: bytes = b"",
    *,
    family: int = 4,
    chksum: int | None = None,
    dataofs: int | None = None,
) -> bytes:
    """A TCP segment (RFC 9293 3.1): header, ``options`` (already encoded and
    padded) and ``payload``, the checksum over the pseudo header of ``family``
    unless ``chksum`` is given; ``dataofs`` replaces the data offset."""
    off = (20 + len(options)) // 4 if dataofs is None else dataofs
    hdr = struct.pack(
        "!HHIIBBHHH",
        sport & 0xFFFF,
        dport & 0xFFFF,
        seq & 0xFFFFFFFF,
        ack & 0xFFFFFFFF,
        ((off & 0x0F) << 4) | ((flags >> 8) & 0x0F),
        flags & 0xFF,
        win & 0xFFFF,
        0,
        urg & 0xFFFF,
    )
    body = hdr + options + payload
    csum = l4_checksum(src, dst, PROTO_TCP, body, family) if chksum is None else chksum
    return body[:16] + struct.pack("!H", csum & 0xFFFF) + body[18:]


def udp_bytes(
    src: str,
    dst: str,
    sport: int,
    dport: int,
    payload: bytes,
    *,
    family: int = 4,
    length: int | None = None,
    chksum: int | None = None,
) -> bytes:
    """A UDP datagram (RFC 768) with its checksum over the pseudo header of
    ``family`` (a computed zero sent as all ones) unless ``chksum`` is given."""
    ulen = 8 + len(payload) if length is None else length
    udp = struct.pack("!HHHH", sport & 0xFFFF, dport & 0xFFFF, ulen & 0xFFFF, 0) + payload
    if chksum is None:
        chksum = l4_checksum(src, dst, PROTO_UDP, udp, family) or 0xFFFF
    return udp[:6] + struct.pack("!H", chksum & 0xFFFF) + udp[8:]


def icmp_bytes(
    icmp_type: int,
    code: int,
    rest: int,
    body: bytes,
    *,
    family: int = 4,
    src: str = "",
    dst: str = "",
    chksum: int | None = None,
) -> bytes:
    """An ICMP (RFC 792) or ICMPv6 (RFC 4443 2.1, ``family`` 6: the checksum
    over the pseudo header of ``src`` and ``dst``) message: type, code, the
    32-bit word ``rest``, then ``body``."""
    msg = struct.pack("!BBHI", icmp_type & 0xFF, code & 0xFF, 0, rest & 0xFFFFFFFF) + body
    if chksum is None:
        if family == 6:
            chksum = l4_checksum(src, dst, PROTO_ICMPV6, msg, 6)
        else:
            chksum = inet_checksum(msg + bytes(len(msg) % 2))
    return msg[:2] + struct.pack("!H", chksum & 0xFFFF) + msg[4:]


def ip6_header(
    src: str,
    dst: str,
    nxt: int,
    body: bytes,
    tclass: int = 0,
    flowlabel: int = 0,
    hlim: int = 64,
    *,
    plen: int | None = None,
) -> bytes:
    """An IPv6 header (RFC 8200 3) followed by ``body``; ``plen`` replaces
    the payload length."""
    if len(body) > 0xFFFF:
        raise ValueError(f"an IPv6 payload of {len(body)} bytes needs a jumbogram")
    first = (6 << 28) | ((tclass & 0xFF) << 20) | (flowlabel & 0xFFFFF)
    hdr = struct.pack(
        "!IHBB16s16s",
        first,
        len(body) if plen is None else plen & 0xFFFF,
        nxt,
        hlim,
        ipaddress.IPv6Address(src).packed,
        ipaddress.IPv6Address(dst).packed,
    )
    return hdr + body


def ethertype_of(packet: bytes) -> int:
    """The ethertype that carries an IP packet: IPv6's when its version is 6."""
    return ETHERTYPE_IPV6 if packet and packet[0] >> 4 == 6 else ETHERTYPE_IP


def _ether(dst_mac: bytes, src_mac: bytes, packet: bytes) -> bytes:
    return ether_header(dst_mac, src_mac, ethertype_of(packet)) + packet


def ether_header(dst_mac: bytes, src_mac: bytes, ethertype: int) -> bytes:
    """An Ethernet II header (no FCS)."""
    if len(dst_mac) != 6 or len(src_mac) != 6:
        raise ValueError("a MAC address has 6 bytes")
    return bytes(dst_mac) + bytes(src_mac) + struct.pack("!H", ethertype & 0xFFFF)


def parse_ether(frame: bytes) -> tuple[bytes, bytes, int] | None:
    """(destination MAC, source MAC, ethertype) of an Ethernet II frame, else None."""
    if len(frame) < 14:
        return None
    return bytes(frame[:6]), bytes(frame[6:12]), struct.unpack_from("!H", frame, 12)[0]


@dataclass(frozen=True)
class Arp:
    """An ARP packet for IPv4 over Ethernet (RFC 826): ``op`` 1 request, 2 reply."""

    op: int
    sha: bytes
    spa: str
    tha: bytes
    tpa: str


def arp_bytes(op: int, sha: bytes, spa: str, tha: bytes, tpa: str) -> bytes:
    """The 28 bytes of an ARP packet for IPv4 over Ethernet (RFC 826)."""
    return struct.pack(
        "!HHBBH6s4s6s4s",
        1,
        ETHERTYPE_IP,
        6,
        4,
        op,
        sha,
        ipaddress.IPv4Address(spa).packed,
        tha,
        ipaddress.IPv4Address(tpa).packed,
    )


def neighbor_advert(src: str, dst: str, target: str, mac: bytes) -> bytes:
    """An IPv6 packet with a solicited Neighbor Advertisement (RFC 4861 4.4:
    flags S and O, hop limit 255) for ``target`` at ``mac`` (the target
    link-layer address option, 4.6.1)."""
    body = ipaddress.IPv6Address(target).packed + bytes([2, 1]) + mac
    msg = icmp_bytes(136, 0, 0x60000000, body, family=6, src=src, dst=dst)
    return ip6_header(src, dst, PROTO_ICMPV6, msg, hlim=255)


def parse_arp(frame: bytes) -> Arp | None:
    """The ARP packet (IPv4 over Ethernet) of an Ethernet frame, else None."""
    if len(frame) < 14 + 28 or struct.unpack_from("!H", frame, 12)[0] != ETHERTYPE_ARP:
        return None
    htype, ptype, hlen, plen, op, sha, spa, tha, tpa = struct.unpack_from(
        "!HHBBH6s4s6s4s", frame, 14
    )
    if (htype, ptype, hlen, plen) != (1, ETHERTYPE_IP, 6, 4):
        return None
    return Arp(op, sha, str(ipaddress.IPv4Address(spa)), tha, str(ipaddress.IPv4Address(tpa)))


def tcp_frame(dst_mac: bytes, src_mac: bytes, seg: Segment) -> bytes:
    """An Ethernet II frame carrying ``seg``."""
    return _ether(dst_mac, src_mac, seg.ip_packet())


def icmp_frame(
    dst_mac: bytes,
    src_mac: bytes,
    src: str,
    dst: str,
    icmp_type: int,
    code: int,
    rest: int,
    quoted: bytes,
) -> bytes:
    """An Ethernet II frame with an ICMP error quoting ``quoted`` (RFC 792:
    the offending IP header and at least 8 bytes of what followed it)."""
    body = icmp_bytes(icmp_type, code, rest, quoted)
    return _ether(dst_mac, src_mac, _ip_header(src, dst, PROTO_ICMP, body, None))


def icmp6_frame(
    dst_mac: bytes,
    src_mac: bytes,
    src: str,
    dst: str,
    icmp_type: int,
    code: int,
    rest: int,
    quoted: bytes,
    *,
    hlim: int = 64,
) -> bytes:
    """An Ethernet II frame with an ICMPv6 error (RFC 4443 2.1: next header 58,
    the checksum over the IPv6 pseudo header) quoting ``quoted`` (the
    offending IPv6 header and what followed it); ``rest`` is the MTU of a
    Packet Too Big, the pointer of a Parameter Problem, else 0."""
    body = icmp_bytes(icmp_type, code, rest, quoted, family=6, src=src, dst=dst)
    return _ether(dst_mac, src_mac, ip6_header(src, dst, PROTO_ICMPV6, body, hlim=hlim))


def icmp_type_code(family: int, type_name: str, code_name: str | None) -> tuple[int, int]:
    """(type, code) of an ICMP (``family`` 4) or ICMPv6 (6) error by
    packetdrill's names; ValueError naming what is unknown.  No code name is
    code 0; ``code_N`` is code N."""
    if family == 6:
        if type_name not in ICMP6_TYPES:
            raise ValueError(f"ICMPv6 type {type_name}")
        if code_name is None:
            return ICMP6_TYPES[type_name], 0
        codes = ICMP6_CODES[type_name]
        if code_name in codes:
            return ICMP6_TYPES[type_name], codes[code_name]
        if code_name.startswith("code_") and code_name[5:].isdigit() and int(code_name[5:]) < 256:
            return ICMP6_TYPES[type_name], int(code_name[5:])
        raise ValueError(f"ICMPv6 code {code_name} of {type_name}")
    if type_name not in ICMP4_TYPES:
        raise ValueError(f"ICMP type {type_name}")
    if code_name is None:
        return ICMP4_TYPES[type_name], 0
    if code_name not in ICMP4_CODES:
        raise ValueError(f"ICMP code {code_name}")
    return ICMP4_TYPES[type_name], ICMP4_CODES[code_name]


@overload
def parse_frame(frame: bytes, *, udp: Literal[False] = False) -> Segment | Icmp | None: ...
@overload
def parse_frame(frame: bytes, *, udp: bool) -> Segment | Icmp | Udp | None: ...
def parse_frame(frame: bytes, *, udp: bool = False) -> Segment | Icmp | Udp | None:
    """A TCP segment, ICMP or ICMPv6 message from an Ethernet frame, else None;
    with ``udp`` also a UDP datagram."""
    if len(frame) < 14:
        return None
    ethertype = struct.unpack_from("!H", frame, 12)[0]
    if ethertype == ETHERTYPE_IP:
        return _parse_ip4(frame[14:], udp)
    if ethertype == ETHERTYPE_IPV6:
        return _parse_ip6(frame[14:], udp)
    return None


@overload
def parse_packet(packet: bytes, *, udp: Literal[False] = False) -> Segment | Icmp | None: ...
@overload
def parse_packet(packet: bytes, *, udp: bool) -> Segment | Icmp | Udp | None: ...
def parse_packet(packet: bytes, *, udp: bool = False) -> Segment | Icmp | Udp | None:
    """:func:`parse_frame` of a bare IP packet, its family from the version field."""
    return parse_frame(b"\0" * 12 + struct.pack("!H", ethertype_of(packet)) + packet, udp=udp)


def _parse_udp(body: bytes, src: str, dst: str, family: int, ttl: int) -> Udp | None:
    if len(body) < 8:
        return None
    sport, dport, ulen, usum = struct.unpack_from("!HHHH", body)
    if ulen < 8 or ulen > len(body):
        return None
    dgram = body[:ulen]
    ok = (usum == 0 and family == 4) or l4_checksum(src, dst, PROTO_UDP, dgram, family) == 0
    return Udp(src, dst, sport, dport, bytes(dgram[8:]), ok, family, ttl)


def _parse_ip4(pkt: bytes, udp: bool = False) -> Segment | Icmp | Udp | None:
    if len(pkt) < 20:
        return None
    vhl, tos, total, ip_id, frag, ttl, proto, _, s_ip, d_ip = struct.unpack_from(
        "!BBHHHBBH4s4s", pkt
    )
    hlen = (vhl & 0x0F) * 4
    if vhl >> 4 != 4 or hlen < 20 or total < hlen or total > len(pkt):
        return None
    src = str(ipaddress.IPv4Address(s_ip))
    dst = str(ipaddress.IPv4Address(d_ip))
    body = pkt[hlen:total]
    if proto == PROTO_ICMP and len(body) >= 8:
        icmp_type, code, _, rest = struct.unpack_from("!BBHI", body)
        return Icmp(src, dst, icmp_type, code, rest, bytes(body[8:]), ttl=ttl)
    if proto == PROTO_UDP and udp:
        return _parse_udp(body, src, dst, 4, ttl)
    if proto != PROTO_TCP:
        return None
    return _parse_tcp(body, src, dst, ecn=tos & 0x03, ttl=ttl, ip_id=ip_id, df=bool(frag & 0x4000))


def _parse_ip6(pkt: bytes, udp: bool = False) -> Segment | Icmp | Udp | None:
    if len(pkt) < IP6_HLEN:
        return None
    first, plen, nxt, hlim, s_ip, d_ip = struct.unpack_from("!IHBB16s16s", pkt)
    if first >> 28 != 6 or IP6_HLEN + plen > len(pkt):
        return None
    tclass = (first >> 20) & 0xFF
    src = str(ipaddress.IPv6Address(s_ip))
    dst = str(ipaddress.IPv6Address(d_ip))
    body = pkt[IP6_HLEN : IP6_HLEN + plen]
    for _ in range(_MAX_EXT_HEADERS):
        if nxt in _EXT_HEADERS:
            if len(body) < 8 or len(body) < (body[1] + 1) * 8:
                return None
            nxt, body = body[0], body[(body[1] + 1) * 8 :]
        elif nxt == PROTO_FRAGMENT:
            # Only an unfragmented packet (offset 0, no more fragments) is read.
            if len(body) < 8 or struct.unpack_from("!H", body, 2)[0] & 0xFFF9:
                return None
            nxt, body = body[0], body[8:]
        else:
            break
    else:
        return None
    if nxt == PROTO_ICMPV6 and len(body) >= 8:
        icmp_type, code, _, rest = struct.unpack_from("!BBHI", body)
        return Icmp(src, dst, icmp_type, code, rest, bytes(body[8:]), family=6, ttl=hlim)
    if nxt == PROTO_UDP and udp:
        return _parse_udp(body, src, dst, 6, hlim)
    if nxt != PROTO_TCP:
        return None
    return _parse_tcp(
        body,
        src,
        dst,
        ecn=tclass & 0x03,
        family=6,
        hlim=hlim,
        tclass=tclass,
        flowlabel=first & 0xFFFFF,
    )


def _parse_tcp(body: bytes, src: str, dst: str, **ip: Any) -> Segment | None:
    if len(body) < 20:
        return None
    sport, dport, seq, ack, off, flags, win, _, urg = struct.unpack_from("!HHIIBBHHH", body)
    thlen = (off >> 4) * 4
    if thlen < 20 or thlen > len(body):
        return None
    return Segment(
        src=src,
        dst=dst,
        sport=sport,
        dport=dport,
        seq=seq,
        ack=ack,
        flags=flags | ((off & 0x0F) << 8),
        win=win,
        urg=urg,
        options=bytes(body[20:thlen]),
        payload=bytes(body[thlen:]),
        **ip,
    )


def md5_offset(options: bytes) -> int | None:
    """Where the 16-byte digest of an RFC 2385 option starts in ``options``."""
    i = 0
    while i < len(options):
        kind = options[i]
        if kind == 0:
            return None
        if kind == 1:
            i += 1
            continue
        if i + 1 >= len(options) or options[i + 1] < 2:
            return None
        if kind == 19 and options[i + 1] == 18:
            return i + 2
        i += options[i + 1]
    return None


def md5_digest(seg: Segment, key: bytes) -> bytes:
    """The RFC 2385 2.0 signature of ``seg``: MD5 over the pseudo-header, the
    TCP header without options with a zero checksum, the data and the key."""
    off = (20 + len(seg.options)) // 4
    hdr = struct.pack(
        "!HHIIBBHHH",
        seg.sport,
        seg.dport,
        seg.seq & 0xFFFFFFFF,
        seg.ack & 0xFFFFFFFF,
        (off << 4) | ((seg.flags >> 8) & 0x0F),
        seg.flags & 0xFF,
        seg.win,
        0,
        seg.urg,
    )
    length = 20 + len(seg.options) + len(seg.payload)
    pseudo = _pseudo_header(seg.src, seg.dst, PROTO_TCP, length, seg.family)
    return hashlib.md5(pseudo + hdr + seg.payload + key, usedforsecurity=False).digest()


def md5_sign(seg: Segment, key: bytes, *, valid: bool = True) -> Segment:
    """``seg`` with the digest of its signature option filled in (``valid``
    False: a wrong one)."""
    at = md5_offset(seg.options)
    if at is None:
        return seg
    digest = md5_digest(seg, key)
    if not valid:
        digest = bytes(b ^ 0xFF for b in digest)
    return replace(seg, options=seg.options[:at] + digest + seg.options[at + 16 :])


def md5_valid(seg: Segment, key: bytes) -> bool:
    """Whether ``seg`` carries the right RFC 2385 signature for ``key``."""
    at = md5_offset(seg.options)
    return at is not None and seg.options[at : at + 16] == md5_digest(seg, key)


def fragment(packet: bytes, mtu: int, ident: int = 0x5D6) -> list[bytes]:
    """An IP packet split into fragments of at most ``mtu`` bytes: IPv4 ones
    (RFC 791: data in multiples of 8 bytes, MF on all but the last), or for
    an IPv6 packet :func:`fragment6` with ``ident``; as it is when it fits."""
    if packet and packet[0] >> 4 == 6:
        return fragment6(packet, mtu, ident)
    hlen = (packet[0] & 0x0F) * 4
    if len(packet) <= mtu:
        return [packet]
    step = (mtu - hlen) // 8 * 8
    if step <= 0:
        raise ValueError(f"MTU {mtu} leaves no room for data after a {hlen}-byte header")
    body = packet[hlen:]
    out = []
    for off in range(0, len(body), step):
        chunk = body[off : off + step]
        more = 0x2000 if off + step < len(body) else 0
        hdr = bytearray(packet[:hlen])
        struct.pack_into("!H", hdr, 2, hlen + len(chunk))
        struct.pack_into("!H", hdr, 6, more | (off // 8))
        struct.pack_into("!H", hdr, 10, 0)
        struct.pack_into("!H", hdr, 10, inet_checksum(bytes(hdr)))
        out.append(bytes(hdr) + chunk)
    return out


def fragment6(packet: bytes, mtu: int, ident: int = 0x5D6) -> list[bytes]:
    """An IPv6 packet without extension headers split into fragments of at
    most ``mtu`` bytes (RFC 8200 4.5: the IPv6 header, then a Fragment header
    with the original next header, the offset in 8-byte units, M on all but
    the last, and ``ident``; data in multiples of 8 bytes); as it is when it fits."""
    if len(packet) <= mtu:
        return [packet]
    step = (mtu - IP6_HLEN - 8) // 8 * 8
    if step <= 0:
        raise ValueError(f"MTU {mtu} leaves no room for data after IPv6 and Fragment headers")
    nxt = packet[6]
    body = packet[IP6_HLEN:]
    out = []
    for off in range(0, len(body), step):
        chunk = body[off : off + step]
        more = 1 if off + step < len(body) else 0
        hdr = bytearray(packet[:IP6_HLEN])
        struct.pack_into("!H", hdr, 4, 8 + len(chunk))
        hdr[6] = PROTO_FRAGMENT
        frag = struct.pack("!BBHI", nxt, 0, off | more, ident & 0xFFFFFFFF)
        out.append(bytes(hdr) + frag + chunk)
    return out


# --- TCP over UDP (FreeBSD's TCP_REMOTE_UDP_ENCAPS_PORT) ---------------------------------


def udp_encapsulated_packet(seg: Segment, sport: int, dport: int) -> bytes:
    """The IP packet carrying ``seg`` as the whole payload of a UDP datagram
    from ``sport`` to ``dport`` (packetdrill's ``/udp(sport > dport)``): the
    TCP checksum as for plain TCP, the UDP checksum over the datagram (a
    computed zero sent as all ones, RFC 768)."""
    tcp = seg._tcp_bytes()
    udp = udp_bytes(seg.src, seg.dst, sport, dport, tcp, family=seg.family)
    if seg.family == 6:
        tclass = (seg.tclass | seg.ecn) & 0xFF
        return ip6_header(seg.src, seg.dst, PROTO_UDP, udp, tclass, seg.flowlabel, seg.hlim)
    return _ip_header(seg.src, seg.dst, PROTO_UDP, udp, seg)


def parse_udp_encapsulated(frame: bytes) -> Segment | None:
    """A TCP segment carried in a UDP datagram of an Ethernet frame (IPv4, or
    IPv6 without extension headers), else None.  ``udp`` holds the UDP
    ports; ``extra`` the TCP checksum field (``tcp_csum``) and whether the
    UDP checksum is right (``udp_csum_ok``, 1 for IPv4's "none", 0)."""
    if len(frame) < 14:
        return None
    ethertype = struct.unpack_from("!H", frame, 12)[0]
    pkt = frame[14:]
    if ethertype == ETHERTYPE_IP and len(pkt) >= 20 and pkt[0] >> 4 == 4 and pkt[9] == PROTO_UDP:
        hlen = (pkt[0] & 0x0F) * 4
        total = struct.unpack_from("!H", pkt, 2)[0]
        src, dst, family = (
            str(ipaddress.IPv4Address(pkt[12:16])),
            str(ipaddress.IPv4Address(pkt[16:20])),
            4,
        )
    elif ethertype == ETHERTYPE_IPV6 and len(pkt) >= IP6_HLEN and pkt[6] == PROTO_UDP:
        hlen = IP6_HLEN
        total = IP6_HLEN + struct.unpack_from("!H", pkt, 4)[0]
        src, dst, family = (
            str(ipaddress.IPv6Address(pkt[8:24])),
            str(ipaddress.IPv6Address(pkt[24:40])),
            6,
        )
    else:
        return None
    if hlen < 20 or total > len(pkt) or total < hlen + 8:
        return None
    sport, dport, ulen, usum = struct.unpack_from("!HHHH", pkt, hlen)
    if ulen < 8 or hlen + ulen > total:
        return None
    udp = pkt[hlen : hlen + ulen]
    udp_ok = (usum == 0 and family == 4) or l4_checksum(src, dst, PROTO_UDP, udp, family) == 0
    tcp = udp[8:]
    hdr = bytearray(pkt[:hlen])
    if family == 4:
        hdr[9] = PROTO_TCP
        struct.pack_into("!H", hdr, 2, hlen + len(tcp))
    else:
        hdr[6] = PROTO_TCP
        struct.pack_into("!H", hdr, 4, len(tcp))
    seg = parse_packet(bytes(hdr) + tcp)
    if not isinstance(seg, Segment):
        return None
    extra = dict(seg.extra)
    extra["tcp_csum"] = struct.unpack_from("!H", tcp, 16)[0]
    extra["udp_csum_ok"] = int(udp_ok)
    return replace(seg, udp=(sport, dport), extra=extra)


def quotes_udp(quoted: bytes) -> bool:
    """Whether an ICMP or ICMPv6 error quotes a UDP datagram."""
    if len(quoted) >= 20 and quoted[0] >> 4 == 4:
        return quoted[9] == PROTO_UDP
    return len(quoted) >= IP6_HLEN and quoted[0] >> 4 == 6 and quoted[6] == PROTO_UDP
