"""A two-stack rig on a pipe, and numbered test frames.

Used by ``ustack demo``, the benchmark task and the tests: two stacks joined
by a :class:`~ustack.pipe.Pipe` on one clock, interface ``pa0`` on stack A
and ``pb0`` on stack B, and a :class:`Receiver` input hook on B that records
the sequence numbers of the numbered frames it gets.

A numbered frame is an Ethernet II frame with the local experimental
ethertype 0x88B5 (IEEE 802 "local experimental 1"), the magic ``USTK``, a
32-bit sequence number, padding, and a CRC-32 over everything before it, so
that the receiver tells a frame the pipe corrupted from a good one.

With ``addresses=(...)`` the rig is an IPv4 network instead: A is
198.18.0.1/24 and B 198.18.0.2/24 by default, no input hook, and the stacks
talk through their sockets.  :func:`udp_frame` and :func:`parse_ipv4` build
and read IPv4/UDP frames by hand, to inject good or broken packets.
``addresses6=True`` also gives A 2001:2::1/64 and B 2001:2::2/64 (without
duplicate address detection); :func:`parse_ipv6` reads an IPv6 header.
"""

from __future__ import annotations

import ipaddress
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

from ustack.clock import VirtualClock
from ustack.errors import error_class
from ustack.pipe import Direction, Faults, Pipe
from ustack.sockets import Socket
from ustack.stack import Interface, Stack, run_until

__all__ = [
    "ADDR_A",
    "ADDR_B",
    "ADDR6_A",
    "ADDR6_B",
    "parse_ipv6",
    "icmp6_checksum",
    "icmp6_echo_frame",
    "inet_checksum",
    "udp_frame",
    "parse_ipv4",
    "TEST_ETHERTYPE",
    "MIN_FRAME",
    "numbered_frame",
    "parse_numbered_frame",
    "Receiver",
    "PipeRig",
]

ADDR_A = "198.18.0.1"
ADDR_B = "198.18.0.2"
ADDR6_A = "2001:2::1"
ADDR6_B = "2001:2::2"
ETHERTYPE_IP = 0x0800
ETHERTYPE_IPV6 = 0x86DD
TEST_ETHERTYPE = 0x88B5
MAGIC = b"USTK"
_HDR = struct.Struct("!6s6sH4sI")  # dst, src, ethertype, magic, seq
MIN_FRAME = _HDR.size + 4  # + CRC-32


def numbered_frame(dst: bytes, src: bytes, seq: int, size: int = 128) -> bytes:
    """An Ethernet frame of ``size`` bytes (no FCS) carrying ``seq``."""
    if size < MIN_FRAME:
        raise ValueError(f"a numbered frame needs at least {MIN_FRAME} bytes, not {size}")
    head = _HDR.pack(dst, src, TEST_ETHERTYPE, MAGIC, seq & 0xFFFFFFFF)
    body = head + bytes(size - MIN_FRAME)
    return body + struct.pack("!I", zlib.crc32(body))


def parse_numbered_frame(frame: bytes) -> int | None:
    """The sequence number of a good numbered frame; None if it is not one or is damaged."""
    if len(frame) < MIN_FRAME:
        return None
    if struct.unpack_from("!I", frame, len(frame) - 4)[0] != zlib.crc32(frame[:-4]):
        return None
    _dst, _src, etype, magic, seq = _HDR.unpack_from(frame)
    if etype != TEST_ETHERTYPE or magic != MAGIC:
        return None
    return int(seq)


def inet_checksum(data: bytes) -> int:
    """The Internet checksum (RFC 1071) of ``data``."""
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def udp_frame(
    dst_mac: bytes,
    src_mac: bytes,
    src: str,
    dst: str,
    sport: int,
    dport: int,
    payload: bytes,
    *,
    ttl: int = 64,
    ip_id: int = 1,
    ip_sum_delta: int = 0,
    udp_sum_delta: int = 0,
    udp_sum: bool = True,
    version: int = 4,
) -> bytes:
    """An Ethernet II + IPv4 + UDP frame built by hand.

    ``*_sum_delta`` is added to a correct checksum to break it; ``udp_sum``
    False sends no UDP checksum (0).  ``version`` other than 4 makes a bad
    IP version.
    """
    s_ip = ipaddress.IPv4Address(src).packed
    d_ip = ipaddress.IPv4Address(dst).packed
    ulen = 8 + len(payload)
    pseudo = s_ip + d_ip + struct.pack("!BBH", 0, 17, ulen)
    udp = struct.pack("!HHHH", sport, dport, ulen, 0) + payload
    csum = 0
    if udp_sum:
        csum = inet_checksum(pseudo + udp) or 0xFFFF
        csum = (csum + udp_sum_delta) & 0xFFFF
    udp = udp[:6] + struct.pack("!H", csum) + udp[8:]
    hdr = struct.pack(
        "!BBHHHBBH4s4s", (version << 4) | 5, 0, 20 + ulen, ip_id, 0, ttl, 17, 0, s_ip, d_ip
    )
    hsum = (inet_checksum(hdr) + ip_sum_delta) & 0xFFFF
    hdr = hdr[:10] + struct.pack("!H", hsum) + hdr[12:]
    return dst_mac + src_mac + struct.pack("!H", ETHERTYPE_IP) + hdr + udp


def parse_ipv4(frame: bytes) -> dict[str, int | str] | None:
    """The IPv4 header fields of an Ethernet frame, or None if it carries no IPv4."""
    if len(frame) < 34 or struct.unpack_from("!H", frame, 12)[0] != ETHERTYPE_IP:
        return None
    vhl, tos, total, ip_id, off, ttl, proto, csum, s_ip, d_ip = struct.unpack_from(
        "!BBHHHBBH4s4s", frame, 14
    )
    return {
        "version": vhl >> 4,
        "hlen": (vhl & 0xF) * 4,
        "tos": tos,
        "len": total,
        "id": ip_id,
        "df": (off >> 14) & 1,
        "mf": (off >> 13) & 1,
        "offset": (off & 0x1FFF) * 8,
        "ttl": ttl,
        "proto": proto,
        "sum": csum,
        "src": str(ipaddress.IPv4Address(s_ip)),
        "dst": str(ipaddress.IPv4Address(d_ip)),
    }


def icmp6_checksum(src: str, dst: str, message: bytes) -> int:
    """The ICMPv6 checksum of ``message`` (its checksum field zero) between
    ``src`` and ``dst``: RFC 4443 2.3, over the RFC 8200 8.1 pseudo header."""
    pseudo = (
        ipaddress.IPv6Address(src).packed
        + ipaddress.IPv6Address(dst).packed
        + struct.pack("!I3xB", len(message), 58)
    )
    return inet_checksum(pseudo + message)


def icmp6_echo_frame(
    dst_mac: bytes,
    src_mac: bytes,
    src: str,
    dst: str,
    ident: int,
    seq: int,
    payload: bytes = b"",
    *,
    hlim: int = 64,
    reply: bool = False,
) -> bytes:
    """An Ethernet II + IPv6 + ICMPv6 echo request (``reply``: echo reply)
    frame built by hand, checksummed (RFC 4443 4.1)."""
    msg = struct.pack("!BBHHH", 129 if reply else 128, 0, 0, ident, seq) + payload
    msg = msg[:2] + struct.pack("!H", icmp6_checksum(src, dst, msg)) + msg[4:]
    hdr = struct.pack(
        "!IHBB16s16s",
        6 << 28,
        len(msg),
        58,
        hlim,
        ipaddress.IPv6Address(src).packed,
        ipaddress.IPv6Address(dst).packed,
    )
    return dst_mac + src_mac + struct.pack("!H", ETHERTYPE_IPV6) + hdr + msg


def parse_ipv6(frame: bytes) -> dict[str, int | str] | None:
    """The IPv6 header fields of an Ethernet frame (RFC 8200 3), or None if
    it carries no IPv6."""
    if len(frame) < 54 or struct.unpack_from("!H", frame, 12)[0] != ETHERTYPE_IPV6:
        return None
    vcf, plen, nxt, hlim, s_ip, d_ip = struct.unpack_from("!IHBB16s16s", frame, 14)
    return {
        "version": vcf >> 28,
        "tclass": (vcf >> 20) & 0xFF,
        "flowlabel": vcf & 0xFFFFF,
        "plen": plen,
        "nxt": nxt,
        "hlim": hlim,
        "src": str(ipaddress.IPv6Address(s_ip)),
        "dst": str(ipaddress.IPv6Address(d_ip)),
    }


@dataclass
class Receiver:
    """An input hook that records numbered frames (and consumes every frame).

    ``arrivals`` is the sequence of good sequence numbers in arrival order,
    ``bad`` counts frames that were damaged or not numbered frames.
    """

    arrivals: list[int] = field(default_factory=list)
    bad: int = 0
    times: list[int] = field(default_factory=list)
    clock: Callable[[], int] | None = None

    def __call__(self, frame: bytes) -> bool:
        seq = parse_numbered_frame(frame)
        if seq is None:
            self.bad += 1
        else:
            self.arrivals.append(seq)
            if self.clock is not None:
                self.times.append(self.clock())
        return True

    def summary(self, sent: int) -> dict[str, int]:
        """Unique, duplicate, out-of-order, missing and damaged frame counts."""
        seen: set[int] = set()
        dups = ooo = 0
        highest = -1
        for seq in self.arrivals:
            if seq in seen:
                dups += 1
                continue
            seen.add(seq)
            if seq < highest:
                ooo += 1
            highest = max(highest, seq)
        return {
            "sent": sent,
            "received": len(self.arrivals) + self.bad,
            "unique": len(seen),
            "duplicates": dups,
            "out_of_order": ooo,
            "missing": sent - len(seen),
            "damaged": self.bad,
        }


class PipeRig:
    """Stacks A and B joined by a pipe on one clock (virtual unless ``clock=None``).

    ``seed`` seeds both stacks and the pipe; ``a_to_b``/``b_to_a`` are the
    faults of each direction.  Without ``addresses``, ``receiver`` is
    installed as B's input hook (it consumes every frame); with
    ``addresses=(a_cidr, b_cidr)`` (True: 198.18.0.1/24 and 198.18.0.2/24)
    the interfaces get those IPv4 addresses and no hook.  ``addresses6``
    (True: 2001:2::1/64 and 2001:2::2/64) adds IPv6 addresses, without
    duplicate address detection, and no hook either.
    """

    def __init__(
        self,
        *,
        seed: int = 1,
        a_to_b: Faults | None = None,
        b_to_a: Faults | None = None,
        mtu: int = 1500,
        ring_size: int = 1024,
        virtual: bool = True,
        clock: VirtualClock | None = None,
        addresses: tuple[str, str] | bool = False,
        addresses6: tuple[str, str] | bool = False,
        caps: int = 0,
    ) -> None:
        self.seed = seed
        self.clock = clock if clock is not None else (VirtualClock() if virtual else None)
        self.pipe = Pipe(
            mtu=mtu,
            ring_size=ring_size,
            clock=self.clock,
            a_to_b=a_to_b,
            b_to_a=b_to_a,
            seed=seed,
            caps=caps,
        )
        self.a = Stack(clock=self.clock, seed=seed)
        self.b = Stack(clock=self.clock, seed=seed + 1)
        self.ia: Interface = self.a.add_interface(self.pipe.a, "pa0")
        self.ib: Interface = self.b.add_interface(self.pipe.b, "pb0")
        self.receiver = Receiver(clock=lambda: self.b.now)
        if addresses is True:
            addresses = (ADDR_A + "/24", ADDR_B + "/24")
        if addresses:
            self.ia.add_address(addresses[0])
            self.ib.add_address(addresses[1])
        if addresses6 is True:
            addresses6 = (ADDR6_A + "/64", ADDR6_B + "/64")
        if addresses6:
            self.ia.add_address(addresses6[0], nodad=True)
            self.ib.add_address(addresses6[1], nodad=True)
        if not addresses and not addresses6:
            self.ib.set_input_hook(self.receiver)
        self.sent = 0

    @property
    def stacks(self) -> list[Stack]:
        """``[a, b]``."""
        return [self.a, self.b]

    def run(self, until: Callable[[], bool] | int | None = None, **kwargs: int | None) -> bool:
        """:func:`~ustack.stack.run_until` on both stacks."""
        return run_until(self.stacks, until, **kwargs)  # type: ignore[arg-type]

    def stream(
        self,
        src: Socket,
        dst: Socket,
        data: bytes,
        *,
        step_ns: int = 10_000_000,
        timeout_ns: int = 600 * 1_000_000_000,
        on_idle: Callable[[], None] | None = None,
    ) -> bytes:
        """Send ``data`` from ``src`` to ``dst`` (both non-blocking afterwards), running the
        stacks ``step_ns`` at a time whenever ``dst`` has nothing to read (and calling
        ``on_idle`` then); returns what arrived.  Raises TimeoutError when it has not all
        arrived within ``timeout_ns``."""
        src.setblocking(False)
        dst.setblocking(False)
        got = bytearray()
        view = memoryview(data)
        deadline = self.a.now + timeout_ns
        while len(got) < len(data):
            if self.a.now >= deadline:
                raise TimeoutError(f"seed {self.seed}: stalled at {len(got)} of {len(data)} bytes")
            if view:
                try:
                    view = view[src.send(view[:16384]) :]
                except BlockingIOError:
                    pass
            try:
                got += dst.recv(65536)
            except BlockingIOError:
                self.run(self.a.now + step_ns)
                if on_idle is not None:
                    on_idle()
        return bytes(got)

    def send_numbered(
        self,
        count: int,
        *,
        size: int = 128,
        batch: int = 256,
        progress: Callable[[int, int], None] | None = None,
    ) -> None:
        """Send ``count`` numbered frames A -> B in batches, running both stacks
        until idle after each batch (time advances on a virtual clock).
        ``progress(sent, count)`` is called after each batch."""
        enobufs = error_class("ENOBUFS")
        dst, src = self.ib.mac_bytes, self.ia.mac_bytes
        end = self.sent + count
        while self.sent < end:
            stop = min(end, self.sent + batch)
            while self.sent < stop:
                try:
                    self.ia.send_frame(numbered_frame(dst, src, self.sent, size))
                except enobufs:
                    break  # transmit queue full: let it drain
                self.sent += 1
            self.run()
            if progress is not None:
                progress(count - (end - self.sent), count)

    def stats(self) -> dict[str, dict[str, int]]:
        """Pipe, interface and receiver counters in one dict of dicts."""
        return {
            "pipe a->b": self.pipe.stats(Direction.A_TO_B),
            "pipe b->a": self.pipe.stats(Direction.B_TO_A),
            "if a:pa0": self.ia.stats,
            "if b:pb0": self.ib.stats,
        }

    def close(self) -> None:
        """Close both stacks, then the pipe."""
        self.a.close()
        self.b.close()
        self.pipe.close()

    def __enter__(self) -> PipeRig:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
