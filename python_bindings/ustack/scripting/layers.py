"""Packet builders: ``Ether``, ``IP``, ``IPv6``, ``TCP``, ``UDP``, ``ICMP``, ``Raw``,
stacked with ``/`` as in scapy (``IP(ttl=3)/TCP(flags="S")/b"data"``).

A layer holds only the fields the script gave; the rest is filled in when the
packet is built: by a :class:`~ustack.scripting.Peer` from its addresses and
the current connection (:meth:`Peer.build`), or with neutral defaults by
``bytes(layer)``.  A layer is also a template for :meth:`Peer.expect`: a
received packet matches it when it has each layer and every given field is
equal (``TCP(flags="SA", ack=1)``).  The byte layout itself is written by
:mod:`ustack.packetdrill.wire`, the one place that knows the headers.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from ustack.packetdrill import wire
from ustack.scripting.flags import Flags, Options, encode_tcp_options, flag_bits, option_name
from ustack.scripting.packet import Packet, mac_str

__all__ = ["Layer", "Ether", "IP", "IPv6", "TCP", "UDP", "ICMP", "ICMPv6", "Raw", "BuildContext"]


@dataclass
class BuildContext:
    """What a layer needs from below and around it when it is built:
    addresses, and how to fill the TCP fields the script left out."""

    src_mac: bytes = bytes(6)
    dst_mac: bytes = bytes(6)
    src: str = "0.0.0.0"
    dst: str = "0.0.0.0"
    family: int = 4
    # (tcp layer, src, dst) -> dict of every TCP field, absolute numbers
    fill_tcp: Callable[[TCP, str, str], dict[str, Any]] | None = None
    # (udp layer) -> (sport, dport)
    fill_udp: Callable[[UDP], tuple[int, int]] | None = None


def _mac(value: str | bytes) -> bytes:
    if isinstance(value, bytes):
        return value
    raw = bytes.fromhex(value.replace(":", "").replace("-", ""))
    if len(raw) != 6:
        raise ValueError(f"not a MAC address: {value!r}")
    return raw


class Layer:
    """One header (or payload) of a packet being built; ``a / b`` stacks."""

    name: ClassVar[str] = "Layer"
    fields: ClassVar[tuple[str, ...]] = ()
    aliases: ClassVar[dict[str, str]] = {}

    def __init__(self, **kwargs: Any) -> None:
        self.values: dict[str, Any] = {}
        for key, value in kwargs.items():
            key = self.aliases.get(key, key)
            if key not in self.fields:
                raise TypeError(
                    f"{self.name} has no field {key!r} (fields: {', '.join(self.fields)})"
                )
            self.values[key] = value
        self.payload: Layer | None = None

    def __getattr__(self, name: str) -> Any:
        cls = type(self)
        key = cls.aliases.get(name, name)
        if key in cls.fields:
            return self.__dict__["values"].get(key)
        raise AttributeError(f"{cls.name} has no field {name!r}")

    def copy(self) -> Layer:
        """A copy of this layer and the layers on top of it."""
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        new.values = dict(self.values)
        new.payload = self.payload.copy() if self.payload is not None else None
        return new

    def __truediv__(self, other: Layer | bytes | str | Packet) -> Layer:
        top = self.copy()
        last = top
        while last.payload is not None:
            last = last.payload
        last.payload = _as_layer(other)
        return top

    def __rtruediv__(self, other: bytes | str) -> Layer:
        return _as_layer(other) / self

    def layers(self) -> list[Layer]:
        """This layer and those on top of it, bottom first."""
        out: list[Layer] = []
        layer: Layer | None = self
        while layer is not None:
            out.append(layer)
            layer = layer.payload
        return out

    def getlayer(self, cls: type[Layer]) -> Layer | None:
        """The first layer of type ``cls`` (this one or above), else None."""
        return next((la for la in self.layers() if isinstance(la, cls)), None)

    def __contains__(self, cls: type[Layer]) -> bool:
        return self.getlayer(cls) is not None

    def __getitem__(self, cls: type[Layer]) -> Layer:
        got = self.getlayer(cls)
        if got is None:
            raise KeyError(f"no {cls.name} layer in {self!r}")
        return got

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.values.items())
        own = f"{self.name}({args})"
        return own if self.payload is None else f"{own}/{self.payload!r}"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Layer):
            return NotImplemented
        return repr(self) == repr(other)

    __hash__ = None  # type: ignore[assignment]

    def __bytes__(self) -> bytes:
        """The packet with neutral defaults for what is left out (addresses
        0.0.0.0 or ::, ports 0, seq/ack as given or 0): an Ethernet frame
        when the bottom layer is ``Ether``, else from the bottom layer up."""
        return build(self, BuildContext())

    # --- building ------------------------------------------------------------
    def encode(self, ctx: BuildContext, payload: bytes) -> bytes:
        """This layer's bytes followed by ``payload`` (the layers above)."""
        raise NotImplementedError

    # --- matching ------------------------------------------------------------
    def match_fields(self, pkt: Packet) -> list[str]:
        """The given fields that ``pkt`` does not match ("tcp.flags: S. != SA"),
        or the layer missing; empty when it matches."""
        raise NotImplementedError


def _as_layer(other: Layer | bytes | str | Any) -> Layer:
    if isinstance(other, Layer):
        return other.copy()
    if isinstance(other, (bytes, bytearray, memoryview)):
        return Raw(bytes(other))
    if isinstance(other, str):
        return Raw(other.encode())
    if isinstance(other, Packet):  # a received frame: its IP packet (an ICMP error's quote)
        return Raw(other.ip_bytes)
    raise TypeError(f"cannot stack {type(other).__name__} on a layer")


def _compare(out: list[str], what: str, got: Any, want: Any) -> None:
    if want is None:
        return
    if got != want:
        out.append(f"{what}: {got!r} != {want!r}")


class Raw(Layer):
    """Payload bytes: ``Raw(b"data")`` or ``Raw(load=b"data")``."""

    name = "Raw"
    fields = ("load",)

    def __init__(self, load: bytes | str | None = None, **kwargs: Any) -> None:
        if isinstance(load, str):
            load = load.encode()
        super().__init__(**({"load": load} if load is not None else {}), **kwargs)

    def encode(self, ctx: BuildContext, payload: bytes) -> bytes:
        return bytes(self.values.get("load") or b"") + payload

    def match_fields(self, pkt: Packet) -> list[str]:
        out: list[str] = []
        _compare(out, "payload", pkt.payload, self.values.get("load"))
        return out


class Ether(Layer):
    """Ethernet II: ``dst``, ``src`` (``"02:00:..."`` or 6 bytes), ``type``."""

    name = "Ether"
    fields = ("dst", "src", "type")

    def encode(self, ctx: BuildContext, payload: bytes) -> bytes:
        dst = _mac(self.values["dst"]) if self.values.get("dst") is not None else ctx.dst_mac
        src = _mac(self.values["src"]) if self.values.get("src") is not None else ctx.src_mac
        etype = self.values.get("type")
        if etype is None:
            etype = wire.ethertype_of(payload) if payload else wire.ETHERTYPE_IP
        return wire.ether_header(dst, src, etype) + payload

    def match_fields(self, pkt: Packet) -> list[str]:
        if "eth" not in pkt:
            return ["no Ethernet header"]
        out: list[str] = []
        v = self.values
        _compare(out, "eth.dst", pkt.eth.dst, _fmt_mac(v["dst"]) if "dst" in v else None)
        _compare(out, "eth.src", pkt.eth.src, _fmt_mac(v["src"]) if "src" in v else None)
        _compare(out, "eth.type", pkt.eth.type, v.get("type"))
        return out


def _fmt_mac(value: str | bytes) -> str:
    return mac_str(_mac(value))


_IP_FLAGS = {"DF": 0x4000, "MF": 0x2000, "evil": 0x8000}


def _ip_flag_bits(value: str | int) -> int:
    if isinstance(value, int):
        return (value & 0x7) << 13
    bits = 0
    for part in value.replace("+", " ").replace("|", " ").split():
        if part not in _IP_FLAGS:
            raise ValueError(f"unknown IP flag {part!r} (DF, MF)")
        bits |= _IP_FLAGS[part]
    return bits


class IP(Layer):
    """IPv4: ``src``, ``dst``, ``ttl``, ``tos``, ``id``, ``flags`` ("DF", "MF"
    or scapy's bits), ``frag`` (offset in 8-byte units), ``proto``,
    ``options`` (bytes), and for broken headers ``len``, ``chksum``,
    ``version``, ``ihl``."""

    name = "IP"
    fields = (
        "src",
        "dst",
        "ttl",
        "tos",
        "id",
        "flags",
        "frag",
        "proto",
        "options",
        "len",
        "chksum",
        "version",
        "ihl",
    )

    def encode(self, ctx: BuildContext, payload: bytes) -> bytes:
        v = self.values
        frag = _ip_flag_bits(v.get("flags") or 0) | (int(v.get("frag") or 0) & 0x1FFF)
        proto = v.get("proto")
        if proto is None:
            proto = _proto_of(self.payload, 4)
        return wire.ip4_header(
            ctx.src,
            ctx.dst,
            proto,
            payload,
            tos=int(v.get("tos") or 0),
            ident=int(v.get("id") or 0),
            frag=frag,
            ttl=64 if v.get("ttl") is None else int(v["ttl"]),
            options=bytes(v.get("options") or b""),
            length=v.get("len"),
            chksum=v.get("chksum"),
            version=4 if v.get("version") is None else int(v["version"]),
            ihl=v.get("ihl"),
        )

    def match_fields(self, pkt: Packet) -> list[str]:
        if "ip" not in pkt:
            return ["no IPv4 header"]
        out: list[str] = []
        v = self.values
        _compare(out, "ip.src", pkt.ip.src, _addr(v.get("src")))
        _compare(out, "ip.dst", pkt.ip.dst, _addr(v.get("dst")))
        _compare(out, "ip.ttl", pkt.ip.ttl, v.get("ttl"))
        _compare(out, "ip.id", pkt.ip.id, v.get("id"))
        if v.get("flags") is not None:
            _compare(out, "ip.df", pkt.ip.df, bool(_ip_flag_bits(v["flags"]) & 0x4000))
        _compare(out, "ip.proto", pkt.ip.proto, v.get("proto"))
        return out


def _addr(value: Any) -> str | None:
    return None if value is None else str(ipaddress.ip_address(value))


class IPv6(Layer):
    """IPv6: ``src``, ``dst``, ``hlim``, ``tc`` (traffic class), ``fl`` (flow
    label), ``nh`` (next header), ``plen`` (for broken headers)."""

    name = "IPv6"
    fields = ("src", "dst", "hlim", "tc", "fl", "nh", "plen")

    def encode(self, ctx: BuildContext, payload: bytes) -> bytes:
        v = self.values
        nh = v.get("nh")
        if nh is None:
            nh = _proto_of(self.payload, 6)
        return wire.ip6_header(
            ctx.src,
            ctx.dst,
            nh,
            payload,
            int(v.get("tc") or 0),
            int(v.get("fl") or 0),
            64 if v.get("hlim") is None else int(v["hlim"]),
            plen=v.get("plen"),
        )

    def match_fields(self, pkt: Packet) -> list[str]:
        if "ip6" not in pkt:
            return ["no IPv6 header"]
        out: list[str] = []
        v = self.values
        _compare(out, "ip6.src", pkt.ip6.src, _addr(v.get("src")))
        _compare(out, "ip6.dst", pkt.ip6.dst, _addr(v.get("dst")))
        _compare(out, "ip6.hlim", pkt.ip6.hlim, v.get("hlim"))
        _compare(out, "ip6.nh", pkt.ip6.proto, v.get("nh"))
        return out


def _proto_of(layer: Layer | None, family: int) -> int:
    if isinstance(layer, TCP):
        return wire.PROTO_TCP
    if isinstance(layer, UDP):
        return wire.PROTO_UDP
    if isinstance(layer, ICMP):
        return wire.PROTO_ICMPV6 if family == 6 else wire.PROTO_ICMP
    return 59 if family == 6 else 255  # IPv6 "no next header"; IPv4's reserved 255


class TCP(Layer):
    """TCP: ``sport``, ``dport``, ``seq`` and ``ack`` (relative to each
    side's ISN, as packetdrill writes them), ``raw_seq``/``raw_ack``
    (absolute), ``flags`` ("S", "SA", "PA", "S." ... or bits), ``window``
    (``win``), ``urgptr`` (``urg``), ``options`` (``[("mss", 1460),
    ("sackOK",), ("ts", 1, 0), ("nop",), ("wscale", 7), ("sack", [(l, r)])]``,
    scapy's names too), and for broken segments ``chksum``, ``dataofs``."""

    name = "TCP"
    fields = (
        "sport",
        "dport",
        "seq",
        "ack",
        "raw_seq",
        "raw_ack",
        "flags",
        "window",
        "urgptr",
        "options",
        "chksum",
        "dataofs",
    )
    aliases = {"win": "window", "urg": "urgptr"}

    def encode(self, ctx: BuildContext, payload: bytes) -> bytes:
        if ctx.fill_tcp is not None:
            f = ctx.fill_tcp(self, ctx.src, ctx.dst)
        else:
            v = self.values
            f = {
                "sport": v.get("sport") or 0,
                "dport": v.get("dport") or 0,
                "seq": v.get("raw_seq", v.get("seq")) or 0,
                "ack": v.get("raw_ack", v.get("ack")) or 0,
                "flags": flag_bits(v["flags"]) if v.get("flags") is not None else 0x02,
                "window": 65535 if v.get("window") is None else v["window"],
                "options": encode_tcp_options(v.get("options") or ()),
            }
        return wire.tcp_bytes(
            ctx.src,
            ctx.dst,
            f["sport"],
            f["dport"],
            f["seq"],
            f["ack"],
            f["flags"],
            f["window"],
            int(self.values.get("urgptr") or 0),
            f["options"],
            payload,
            family=ctx.family,
            chksum=self.values.get("chksum"),
            dataofs=self.values.get("dataofs"),
        )

    def match_fields(self, pkt: Packet) -> list[str]:
        if "tcp" not in pkt:
            return ["no TCP header"]
        tcp = pkt.tcp
        out: list[str] = []
        v = self.values
        for name in ("sport", "dport", "seq", "ack", "raw_seq", "raw_ack", "window", "urgptr"):
            _compare(out, f"tcp.{name}", getattr(tcp, name), v.get(name))
        if v.get("flags") is not None and tcp.flags != Flags(flag_bits(v["flags"])):
            out.append(f"tcp.flags: {tcp.flags.packetdrill} != {v['flags']!r}")
        for opt in v.get("options") or ():
            opt = (opt,) if isinstance(opt, str) else tuple(opt)
            name = option_name(opt[0]) if isinstance(opt[0], str) else f"kind{opt[0]}"
            if name in ("nop", "eol"):
                continue
            if name not in tcp.options:
                out.append(f"tcp.options: no {name}")
            elif len(opt) > 1:
                want = Options(encode_tcp_options([opt]))[name]
                if tcp.options[name] != want:
                    out.append(f"tcp.options[{name}]: {tcp.options[name]!r} != {want!r}")
        return out


class UDP(Layer):
    """UDP: ``sport``, ``dport`` (the peer's defaults when left out), and for
    broken datagrams ``len``, ``chksum``."""

    name = "UDP"
    fields = ("sport", "dport", "len", "chksum")

    def encode(self, ctx: BuildContext, payload: bytes) -> bytes:
        v = self.values
        if ctx.fill_udp is not None:
            sport, dport = ctx.fill_udp(self)
        else:
            sport, dport = int(v.get("sport") or 0), int(v.get("dport") or 0)
        return wire.udp_bytes(
            ctx.src,
            ctx.dst,
            sport,
            dport,
            payload,
            family=ctx.family,
            length=v.get("len"),
            chksum=v.get("chksum"),
        )

    def match_fields(self, pkt: Packet) -> list[str]:
        if "udp" not in pkt:
            return ["no UDP header"]
        out: list[str] = []
        _compare(out, "udp.sport", pkt.udp.sport, self.values.get("sport"))
        _compare(out, "udp.dport", pkt.udp.dport, self.values.get("dport"))
        return out


class ICMP(Layer):
    """ICMP, or ICMPv6 over IPv6 (the checksum over its pseudo header):
    ``type`` (default echo request: 8, or 128 for ICMPv6), ``code``, ``id``
    and ``seq`` (echo), ``mtu`` (Fragmentation Needed or Packet Too Big),
    ``rest`` (the whole 32-bit word after the checksum), ``chksum``.  An error
    quotes what is stacked on it: ``ICMP(type=3, code=4, mtu=1200)/pkt`` with
    a received :class:`Packet` quotes its IP packet."""

    name = "ICMP"
    fields = ("type", "code", "id", "seq", "mtu", "rest", "chksum")
    v6 = False

    def _rest(self, family: int) -> int:
        v = self.values
        if v.get("rest") is not None:
            return int(v["rest"])
        if v.get("mtu") is not None:
            # RFC 1191 4: the next-hop MTU in the low 16 bits; RFC 4443 3.2: all 32.
            return int(v["mtu"]) & (0xFFFFFFFF if family == 6 else 0xFFFF)
        return ((int(v.get("id") or 0) & 0xFFFF) << 16) | (int(v.get("seq") or 0) & 0xFFFF)

    def encode(self, ctx: BuildContext, payload: bytes) -> bytes:
        v = self.values
        family = 6 if self.v6 else ctx.family
        icmp_type = v.get("type")
        if icmp_type is None:
            icmp_type = 128 if family == 6 else 8
        return wire.icmp_bytes(
            int(icmp_type),
            int(v.get("code") or 0),
            self._rest(family),
            payload,
            family=family,
            src=ctx.src,
            dst=ctx.dst,
            chksum=v.get("chksum"),
        )

    def match_fields(self, pkt: Packet) -> list[str]:
        if "icmp" not in pkt:
            return ["no ICMP header"]
        out: list[str] = []
        v = self.values
        _compare(out, "icmp.type", pkt.icmp.type, v.get("type"))
        _compare(out, "icmp.code", pkt.icmp.code, v.get("code"))
        _compare(out, "icmp.rest", pkt.icmp.rest, v.get("rest"))
        return out


class ICMPv6(ICMP):
    """ICMPv6 by name (:class:`ICMP` over IPv6 is the same)."""

    name = "ICMPv6"
    v6 = True


def build(top: Layer, ctx: BuildContext) -> bytes:
    """The bytes of ``top`` and the layers on it, from the top down so that
    each header sees its payload (lengths, checksums); layers above an ICMP
    error are its quoted packet, built with the addresses the other way round."""
    layers = top.layers()
    quoted_from = next(
        (i + 1 for i, la in enumerate(layers) if isinstance(la, ICMP) and i + 1 < len(layers)),
        None,
    )
    payload = b""
    if quoted_from is not None and isinstance(layers[quoted_from], (IP, IPv6)):
        inner = BuildContext(src=ctx.dst, dst=ctx.src, family=ctx.family)
        _addresses(layers[quoted_from], inner)
        payload = build(layers[quoted_from], inner)
        layers = layers[:quoted_from]
    for layer in layers:
        if isinstance(layer, (IP, IPv6)):
            _addresses(layer, ctx)
    for layer in reversed(layers):
        payload = layer.encode(ctx, payload)
    return payload


def _addresses(layer: Layer, ctx: BuildContext) -> None:
    v = layer.values
    ctx.family = 6 if isinstance(layer, IPv6) else 4
    if v.get("src") is not None:
        ctx.src = str(ipaddress.ip_address(v["src"]))
    elif ctx.family == 6 and ":" not in ctx.src:
        ctx.src = "::"
    if v.get("dst") is not None:
        ctx.dst = str(ipaddress.ip_address(v["dst"]))
    elif ctx.family == 6 and ":" not in ctx.dst:
        ctx.dst = "::"
