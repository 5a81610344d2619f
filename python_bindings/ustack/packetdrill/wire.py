"""TCP/IPv4 and ICMP frames for the packetdrill runner, built and read by hand.

The runner injects the script's inbound packets as Ethernet frames and reads
the stack's outbound frames back; this module is the one place that knows the
byte layout (RFC 791 IPv4, RFC 9293 3.1 TCP, RFC 792 ICMP, RFC 7323 and
RFC 2018 options), so that the backends deal in :class:`Segment` values with
absolute sequence numbers only.  Lengths are checked once in
:func:`parse_frame`; a frame that is not IPv4 carrying TCP or ICMP is None.
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass, field

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
    "parse_frame",
    "fragment",
]

ETHERTYPE_IP = 0x0800
PROTO_ICMP = 1
PROTO_TCP = 6

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

_KIND = {"eol": 0, "nop": 1, "mss": 2, "wscale": 3, "sackOK": 4, "sack": 5, "TS": 8}


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
        elif kind == 5 and (length - 2) % 8 == 0:
            blocks = tuple(struct.iter_unpack("!II", body))
            opts.append(("sack", blocks))
        else:
            opts.append(("kind", kind, bytes(body)))
        i += length
    return opts


@dataclass(frozen=True)
class Segment:
    """A TCP segment in an IPv4 packet, with absolute sequence numbers."""

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

    @property
    def seglen(self) -> int:
        """Sequence space used: payload plus one for SYN and for FIN."""
        return len(self.payload) + bool(self.flags & 0x02) + bool(self.flags & 0x01)

    def tcp_header(self) -> bytes:
        """The TCP header and options (checksum filled in), without payload."""
        return self._tcp_bytes()[: 20 + len(self.options)]

    def _tcp_bytes(self) -> bytes:
        off = (20 + len(self.options)) // 4
        hdr = struct.pack(
            "!HHIIBBHHH",
            self.sport,
            self.dport,
            self.seq & 0xFFFFFFFF,
            self.ack & 0xFFFFFFFF,
            (off << 4) | ((self.flags >> 8) & 0x0F),
            self.flags & 0xFF,
            self.win,
            0,
            self.urg,
        )
        body = hdr + self.options + self.payload
        pseudo = (
            ipaddress.IPv4Address(self.src).packed
            + ipaddress.IPv4Address(self.dst).packed
            + struct.pack("!BBH", 0, PROTO_TCP, len(body))
        )
        csum = inet_checksum(pseudo + body + bytes(len(body) % 2))
        return body[:16] + struct.pack("!H", csum) + body[18:]

    def ip_packet(self) -> bytes:
        """The whole IPv4 packet (header checksum and TCP checksum correct)."""
        return _ip_header(self.src, self.dst, PROTO_TCP, self._tcp_bytes(), self)


@dataclass(frozen=True)
class Icmp:
    """An ICMP message read from the wire (type, code, what it quotes)."""

    src: str
    dst: str
    type: int
    code: int
    rest: int  # the 32-bit word after the checksum (MTU, pointer, gateway)
    quoted: bytes


def _ip_header(src: str, dst: str, proto: int, body: bytes, seg: Segment | None) -> bytes:
    tos = seg.ecn if seg is not None else 0
    ttl = seg.ttl if seg is not None else 64
    ip_id = seg.ip_id if seg is not None else 0
    frag = 0x4000 if seg is not None and seg.df else 0
    hdr = struct.pack(
        "!BBHHHBBH4s4s",
        0x45,
        tos,
        20 + len(body),
        ip_id,
        frag,
        ttl,
        proto,
        0,
        ipaddress.IPv4Address(src).packed,
        ipaddress.IPv4Address(dst).packed,
    )
    hdr = hdr[:10] + struct.pack("!H", inet_checksum(hdr)) + hdr[12:]
    return hdr + body


def _ether(dst_mac: bytes, src_mac: bytes, packet: bytes) -> bytes:
    return dst_mac + src_mac + struct.pack("!H", ETHERTYPE_IP) + packet


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
    body = struct.pack("!BBHI", icmp_type, code, 0, rest & 0xFFFFFFFF) + quoted
    body = body[:2] + struct.pack("!H", inet_checksum(body + bytes(len(body) % 2))) + body[4:]
    return _ether(dst_mac, src_mac, _ip_header(src, dst, PROTO_ICMP, body, None))


def parse_frame(frame: bytes) -> Segment | Icmp | None:
    """A TCP segment or ICMP message from an Ethernet frame, else None."""
    if len(frame) < 34 or struct.unpack_from("!H", frame, 12)[0] != ETHERTYPE_IP:
        return None
    vhl, tos, total, ip_id, frag, ttl, proto, _, s_ip, d_ip = struct.unpack_from(
        "!BBHHHBBH4s4s", frame, 14
    )
    hlen = (vhl & 0x0F) * 4
    if vhl >> 4 != 4 or hlen < 20 or total < hlen or 14 + total > len(frame):
        return None
    src = str(ipaddress.IPv4Address(s_ip))
    dst = str(ipaddress.IPv4Address(d_ip))
    body = frame[14 + hlen : 14 + total]
    if proto == PROTO_ICMP and len(body) >= 8:
        icmp_type, code, _, rest = struct.unpack_from("!BBHI", body)
        return Icmp(src, dst, icmp_type, code, rest, bytes(body[8:]))
    if proto != PROTO_TCP or len(body) < 20:
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
        ecn=tos & 0x03,
        ttl=ttl,
        ip_id=ip_id,
        df=bool(frag & 0x4000),
    )


def fragment(packet: bytes, mtu: int) -> list[bytes]:
    """An IPv4 packet split into fragments of at most ``mtu`` bytes (RFC 791:
    data in multiples of 8 bytes, MF on all but the last); as it is when it fits."""
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
