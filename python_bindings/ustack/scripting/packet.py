"""The parsed view of a frame: what :meth:`Peer.expect` hands to predicates.

``pkt.eth``, ``pkt.ip`` (IPv4) or ``pkt.ip6``, ``pkt.tcp``, ``pkt.udp``,
``pkt.icmp``, ``pkt.arp`` (AttributeError when the frame has no such header:
test with ``"tcp" in pkt``, ``TCP in pkt`` or ``pkt.get("tcp")``),
``pkt.payload``, ``bytes(pkt)``, ``pkt.summary()`` in packetdrill's words
and ``pkt.scapy()``.  TCP sequence and acknowledgment numbers are relative
to the ISN of the side that chose them (``pkt.tcp.seq``, ``pkt.tcp.ack``);
``raw_seq``/``raw_ack`` are the numbers on the wire.  The bytes are read by
:mod:`ustack.packetdrill.wire`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ustack.packetdrill import wire
from ustack.scripting.flags import Flags, Options

__all__ = ["Packet", "EtherView", "IPView", "TCPView", "UDPView", "ICMPView", "ARPView"]

_M32 = 0xFFFFFFFF


def mac_str(raw: bytes) -> str:
    """``02:00:00:00:00:01`` of 6 bytes."""
    return ":".join(f"{b:02x}" for b in raw)


@dataclass(frozen=True)
class EtherView:
    """The Ethernet header: MACs as ``"02:00:00:00:00:01"``, ``type`` an int."""

    dst: str
    src: str
    type: int


@dataclass(frozen=True)
class IPView:
    """The IP header (IPv4 or IPv6, ``version``).  ``ttl`` and ``hlim`` are the
    same number; ``id``, ``df``, ``ecn`` and the IPv6 ``tc``/``fl`` are read
    for TCP packets only (None otherwise); ``proto`` the upper layer (6, 17,
    1, 58)."""

    version: int
    src: str
    dst: str
    proto: int
    ttl: int | None = None
    id: int | None = None
    df: bool | None = None
    ecn: int | None = None
    tc: int | None = None
    fl: int | None = None

    @property
    def hlim(self) -> int | None:
        return self.ttl


@dataclass(frozen=True)
class TCPView:
    """The TCP header.  ``seq`` relative to the sender's ISN, ``ack`` to the
    receiver's (the wire numbers when that ISN is unknown), ``flags`` a
    :class:`Flags` (``== "SA"``, ``.S``), ``options`` an :class:`Options`."""

    sport: int
    dport: int
    seq: int
    ack: int
    raw_seq: int
    raw_ack: int
    flags: Flags
    window: int
    urgptr: int
    options: Options
    payload: bytes

    @property
    def win(self) -> int:
        return self.window

    @property
    def urg(self) -> int:
        return self.urgptr

    @property
    def len(self) -> int:
        """Sequence space used: payload, plus one for SYN and for FIN."""
        return len(self.payload) + self.flags.S + self.flags.F

    @property
    def end_seq(self) -> int:
        """``seq + len`` (relative)."""
        return (self.seq + self.len) & _M32


@dataclass(frozen=True)
class UDPView:
    sport: int
    dport: int
    payload: bytes
    csum_ok: bool


@dataclass(frozen=True)
class ICMPView:
    """An ICMP or ICMPv6 (``family`` 6) message; ``quoted`` what follows the
    first 8 bytes (the offending packet of an error, echo data)."""

    type: int
    code: int
    rest: int
    quoted: bytes
    family: int

    @property
    def mtu(self) -> int:
        """The next-hop MTU of a Fragmentation Needed (low 16 bits) or Packet Too Big."""
        return self.rest if self.family == 6 else self.rest & 0xFFFF

    @property
    def id(self) -> int:
        return self.rest >> 16

    @property
    def seq(self) -> int:
        return self.rest & 0xFFFF


@dataclass(frozen=True)
class ARPView:
    op: int
    hwsrc: str
    psrc: str
    hwdst: str
    pdst: str


class Packet:
    """One frame, parsed.  ``seq_base``/``ack_base`` are the ISNs that make
    its TCP numbers relative; ``time`` the virtual seconds since its
    :class:`Peer` started; ``sent`` True for the peer's own frames;
    ``parsed`` what :func:`ustack.packetdrill.wire.parse_frame` made of the
    frame already (with ``udp=True``), to save parsing it again."""

    def __init__(
        self,
        frame: bytes,
        *,
        seq_base: int = 0,
        ack_base: int = 0,
        time_ns: int = 0,
        sent: bool = False,
        parsed: wire.Segment | wire.Icmp | wire.Udp | None | bool = False,
    ) -> None:
        self.frame = bytes(frame)
        self.time_ns = time_ns
        self.sent = sent
        self.seq_base = seq_base
        self.ack_base = ack_base
        eth = wire.parse_ether(self.frame)
        self._eth: EtherView | None = (
            EtherView(mac_str(eth[0]), mac_str(eth[1]), eth[2]) if eth is not None else None
        )
        self._ip: IPView | None = None
        self._ip6: IPView | None = None
        self._tcp: TCPView | None = None
        self._udp: UDPView | None = None
        self._icmp: ICMPView | None = None
        self._arp: ARPView | None = None
        arp = wire.parse_arp(self.frame)
        if arp is not None:
            self._arp = ARPView(arp.op, mac_str(arp.sha), arp.spa, mac_str(arp.tha), arp.tpa)
        if parsed is False:  # not parsed yet (None: parsed, nothing to read)
            parsed = wire.parse_frame(self.frame, udp=True)
        if isinstance(parsed, wire.Segment):
            ip = IPView(
                parsed.family,
                parsed.src,
                parsed.dst,
                wire.PROTO_TCP,
                ttl=parsed.ttl if parsed.family == 4 else parsed.hlim,
                id=parsed.ip_id if parsed.family == 4 else None,
                df=parsed.df if parsed.family == 4 else None,
                ecn=parsed.ecn,
                tc=parsed.tclass if parsed.family == 6 else None,
                fl=parsed.flowlabel if parsed.family == 6 else None,
            )
            self._tcp = TCPView(
                parsed.sport,
                parsed.dport,
                (parsed.seq - seq_base) & _M32,
                (parsed.ack - ack_base) & _M32,
                parsed.seq,
                parsed.ack,
                Flags(parsed.flags),
                parsed.win,
                parsed.urg,
                Options(parsed.options, sack_base=ack_base),
                parsed.payload,
            )
        elif isinstance(parsed, wire.Icmp):
            proto = wire.PROTO_ICMPV6 if parsed.family == 6 else wire.PROTO_ICMP
            ip = IPView(parsed.family, parsed.src, parsed.dst, proto, ttl=parsed.ttl)
            self._icmp = ICMPView(
                parsed.type, parsed.code, parsed.rest, parsed.quoted, parsed.family
            )
        elif isinstance(parsed, wire.Udp):
            ip = IPView(parsed.family, parsed.src, parsed.dst, wire.PROTO_UDP, ttl=parsed.ttl)
            self._udp = UDPView(parsed.sport, parsed.dport, parsed.payload, parsed.csum_ok)
        else:
            return
        if ip.version == 6:
            self._ip6 = ip
        else:
            self._ip = ip

    # --- layers -------------------------------------------------------------------
    def _need(self, view: Any, what: str) -> Any:
        if view is None:
            raise AttributeError(f"no {what} in this frame: {self}")
        return view

    @property
    def eth(self) -> EtherView:
        """The Ethernet header (AttributeError for a runt frame)."""
        return self._need(self._eth, "Ethernet header")

    @property
    def ip(self) -> IPView:
        """The IPv4 header (AttributeError when there is none: ``"ip" in pkt``)."""
        return self._need(self._ip, "IPv4 header")

    @property
    def ip6(self) -> IPView:
        """The IPv6 header."""
        return self._need(self._ip6, "IPv6 header")

    @property
    def net(self) -> IPView:
        """The IPv4 or IPv6 header, whichever there is."""
        return self._need(self._ip or self._ip6, "IP header")

    @property
    def tcp(self) -> TCPView:
        """The TCP header."""
        return self._need(self._tcp, "TCP header")

    @property
    def udp(self) -> UDPView:
        """The UDP header."""
        return self._need(self._udp, "UDP header")

    @property
    def icmp(self) -> ICMPView:
        """The ICMP or ICMPv6 message."""
        return self._need(self._icmp, "ICMP message")

    @property
    def arp(self) -> ARPView:
        """The ARP packet."""
        return self._need(self._arp, "ARP packet")

    _NAMES = {
        "ether": "_eth",
        "eth": "_eth",
        "ip": "_ip",
        "ipv6": "_ip6",
        "ip6": "_ip6",
        "tcp": "_tcp",
        "udp": "_udp",
        "icmp": "_icmp",
        "icmpv6": "_icmp",
        "arp": "_arp",
    }

    def get(self, layer: str | type) -> Any:
        """The view of ``layer`` (a name, ``"tcp"``, or a builder class,
        ``TCP``) or None when the frame has no such header."""
        name = layer if isinstance(layer, str) else str(getattr(layer, "name", layer))
        attr = self._NAMES.get(name.lower())
        if attr is None:
            if name.lower() == "raw":
                return self.payload or None
            raise KeyError(f"unknown layer {layer!r}")
        view = getattr(self, attr)
        if name.lower() == "icmpv6" and view is not None and view.family != 6:
            return None
        return view

    def __contains__(self, layer: str | type) -> bool:
        """``"tcp" in pkt``, ``TCP in pkt`` (as in scapy)."""
        return self.get(layer) is not None

    # --- plain data -------------------------------------------------------------
    def __bytes__(self) -> bytes:
        return self.frame

    def __len__(self) -> int:
        return len(self.frame)

    def __eq__(self, other: object) -> bool:
        """Same bytes (a Packet, or the bytes of a frame)."""
        if isinstance(other, Packet):
            return self.frame == other.frame
        if isinstance(other, (bytes, bytearray)):
            return self.frame == bytes(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    @property
    def ip_bytes(self) -> bytes:
        """The IP packet (the frame without its Ethernet header): what an ICMP
        error quotes (``ICMP(type=3, code=4, mtu=1200)/pkt``)."""
        return self.frame[14:]

    @property
    def time(self) -> float:
        """Virtual seconds since the peer started."""
        return self.time_ns / 1e9

    @property
    def payload(self) -> bytes:
        """TCP or UDP data, the ICMP message after its first 8 bytes, else b""."""
        if self._tcp is not None:
            return self._tcp.payload
        if self._udp is not None:
            return self._udp.payload
        if self._icmp is not None:
            return self._icmp.quoted
        return b""

    @property
    def src(self) -> str | None:
        net = self._ip or self._ip6
        return net.src if net is not None else None

    @property
    def dst(self) -> str | None:
        net = self._ip or self._ip6
        return net.dst if net is not None else None

    def summary(self) -> str:
        """One line in packetdrill's words: ``S. 0:0(0) ack 1 win 65535
        <mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7>`` for TCP."""
        if self._tcp is not None:
            t = self._tcp
            text = f"{t.flags.packetdrill} {t.seq}:{(t.seq + len(t.payload)) & _M32}"
            text += f"({len(t.payload)})"
            if t.flags.A:
                text += f" ack {t.ack}"
            text += f" win {t.window}"
            if t.flags.U:
                text += f" urg {t.urgptr}"
            if t.options.raw:
                text += f" <{t.options}>"
            return text
        if self._udp is not None:
            return f"udp ({len(self._udp.payload)})"
        if self._icmp is not None:
            v6 = "6" if self._icmp.family == 6 else ""
            text = f"icmp{v6} type {self._icmp.type} code {self._icmp.code}"
            if (self._icmp.family, self._icmp.type) in ((4, 3), (6, 2)):
                text += f" mtu {self._icmp.mtu}"
            return text
        if self._arp is not None:
            if self._arp.op == 1:
                return f"arp who-has {self._arp.pdst} tell {self._arp.psrc}"
            return f"arp reply {self._arp.psrc} is-at {self._arp.hwsrc}"
        if self._eth is not None:
            return f"ether type 0x{self._eth.type:04x} ({len(self.frame) - 14} bytes)"
        return f"runt frame ({len(self.frame)} bytes)"

    def _endpoints(self) -> str:
        if self.src is None:
            return ""
        l4 = self._tcp or self._udp
        if l4 is not None:
            return f"{self.src}:{l4.sport} > {self.dst}:{l4.dport} "
        return f"{self.src} > {self.dst} "

    def __str__(self) -> str:
        return f"{self.time:.6f} {self._endpoints()}{self.summary()}"

    def __repr__(self) -> str:
        return f"<Packet {self}>"

    def scapy(self) -> Any:
        """This frame as a scapy ``Ether`` packet (ImportError without scapy)."""
        try:
            from scapy.layers.l2 import Ether
        except ImportError as exc:
            raise ImportError(f"Packet.scapy() needs scapy (pip install scapy): {exc}") from None
        return Ether(self.frame)
