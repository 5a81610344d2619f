"""IPv4 addresses as the C API wants them, and records of routes and ARP entries.

The C API passes IPv4 addresses as ``uint32_t`` in network byte order (like
``in_addr_t``) and ports as ``uint16_t`` in network byte order inside
``struct ust_sockaddr_in``; the socket calls take BSD's ``struct
ust_sockaddr *`` and a length, which :class:`CSockaddr` holds (a ``struct
ust_sockaddr_storage``, built and parsed by family).  Python code uses the
standard library's forms:
``'198.18.0.1'`` strings (or :mod:`ipaddress` objects), ``(host, port)``
tuples and CIDR text (``'198.18.0.0/24'``).

Host strings follow the :mod:`socket` module: ``''`` and ``'0.0.0.0'`` are
INADDR_ANY, ``'<broadcast>'`` is 255.255.255.255.  There is no name
resolution: any other host must be a dotted quad.
"""

from __future__ import annotations

import ipaddress
import socket as _socket
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ustack._native import ffi, lib
from ustack._util import format_mac

__all__ = [
    "Address",
    "HostLike",
    "ip_to_c",
    "ip_from_c",
    "port_to_c",
    "port_from_c",
    "parse_host",
    "parse_interface",
    "parse_network",
    "CSockaddr",
    "sockaddr",
    "sockaddr_to_tuple",
    "numeric_getaddrinfo",
    "Route",
    "ArpEntry",
    "RTF_UP",
    "RTF_GATEWAY",
    "RTF_STATIC",
    "ARP_STATIC",
    "ARP_RESOLVED",
]

HostLike = str | ipaddress.IPv4Address
Address = tuple[str, int]

RTF_UP = int(lib.UST_RTF_UP)
RTF_GATEWAY = int(lib.UST_RTF_GATEWAY)
RTF_STATIC = int(lib.UST_RTF_STATIC)
ARP_STATIC = int(lib.UST_ARP_STATIC)
ARP_RESOLVED = int(lib.UST_ARP_RESOLVED)

_SIN_LEN = ffi.sizeof("struct ust_sockaddr_in")
_SS_LEN = ffi.sizeof("struct ust_sockaddr_storage")


def ip_to_c(addr: HostLike | int) -> int:
    """An IPv4 address as the C API's ``uint32_t`` in network byte order.

    An int is taken as the address in host order (``0xC6120001`` is
    198.18.0.1), as :class:`ipaddress.IPv4Address` does.
    """
    packed = ipaddress.IPv4Address(addr).packed
    return int.from_bytes(packed, sys.byteorder)


def ip_from_c(value: int) -> str:
    """The C API's network-order ``uint32_t`` as a dotted quad."""
    return str(ipaddress.IPv4Address(int(value).to_bytes(4, sys.byteorder)))


def port_to_c(port: int) -> int:
    """A port as a network-order ``uint16_t``."""
    return int.from_bytes(port.to_bytes(2, "big"), sys.byteorder)


def port_from_c(value: int) -> int:
    """A network-order ``uint16_t`` as a port number."""
    return int.from_bytes(int(value).to_bytes(2, sys.byteorder), "big")


def parse_host(host: HostLike) -> int:
    """A host as the socket module accepts it, as a network-order ``uint32_t``.

    Raises :class:`socket.gaierror` for a name (ustack does not resolve names).
    """
    if isinstance(host, ipaddress.IPv4Address):
        return ip_to_c(host)
    if not isinstance(host, str):
        raise TypeError(f"a host is a str such as '198.18.0.1', not {type(host).__name__}")
    if host in ("", "0.0.0.0"):
        return int(lib.UST_INADDR_ANY)
    if host == "<broadcast>":
        return int(lib.UST_INADDR_BROADCAST)
    try:
        return ip_to_c(ipaddress.IPv4Address(host))
    except ValueError:
        raise _socket.gaierror(
            _socket.EAI_NONAME,
            f"ustack resolves no names: {host!r} is not an IPv4 address",
        ) from None


def parse_interface(text: str | ipaddress.IPv4Interface) -> ipaddress.IPv4Interface:
    """``'198.18.0.1/24'`` (no prefix: /32) as an :class:`ipaddress.IPv4Interface`."""
    try:
        return ipaddress.IPv4Interface(text)
    except ValueError as exc:
        raise ValueError(f"not an IPv4 address with prefix: {text!r} ({exc})") from None


def parse_network(text: str | ipaddress.IPv4Network) -> ipaddress.IPv4Network:
    """A destination as route(8) takes it: ``'10.0.0.0/8'``, ``'default'``, a host.

    Host bits are masked off (``'10.1.2.3/8'`` is 10.0.0.0/8).
    """
    if isinstance(text, ipaddress.IPv4Network):
        return text
    if text == "default":
        return ipaddress.IPv4Network("0.0.0.0/0")
    try:
        return ipaddress.IPv4Network(text, strict=False)
    except ValueError as exc:
        raise ValueError(f"not an IPv4 network: {text!r} ({exc})") from None


def _check_address(address: Any, what: str) -> tuple[HostLike, int]:
    if not isinstance(address, tuple) or len(address) != 2:
        raise TypeError(f"{what}: AF_INET address must be a tuple (host, port), not {address!r}")
    host, port = address
    if not isinstance(port, int) or isinstance(port, bool):
        raise TypeError(f"{what}: port must be an int, not {type(port).__name__}")
    if not 0 <= port <= 0xFFFF:
        raise OverflowError(f"{what}: port must be 0-65535.")
    return host, port


class CSockaddr:
    """A socket address for the C API: a ``struct ust_sockaddr_storage``
    (:attr:`storage`), the ``struct ust_sockaddr *`` view of it the socket
    calls take (:attr:`ptr`) and its length (:attr:`lenp`, a ``ust_socklen_t
    *``: the address's size for an input, the buffer's size before an
    output call and the address's size after it)."""

    __slots__ = ("storage", "ptr", "lenp")

    def __init__(self) -> None:
        self.storage: Any = ffi.new("struct ust_sockaddr_storage *")
        self.ptr: Any = ffi.cast("struct ust_sockaddr *", self.storage)
        self.lenp: Any = ffi.new("ust_socklen_t *", _SS_LEN)

    @property
    def length(self) -> int:
        """The length: the input address's, or what the last output call wrote."""
        return int(self.lenp[0])

    def reset(self) -> CSockaddr:
        """Ready for an output call (the whole storage offered); returns self."""
        self.lenp[0] = _SS_LEN
        return self


def _sockaddr_in(out: CSockaddr, address: Any, what: str) -> None:
    host, port = _check_address(address, what)
    sin = ffi.cast("struct ust_sockaddr_in *", out.storage)
    sin.sin_len = _SIN_LEN
    sin.sin_family = int(lib.UST_AF_INET)
    sin.sin_port = port_to_c(port)
    sin.sin_addr = parse_host(host)
    out.lenp[0] = _SIN_LEN


def _sockaddr_in_to_tuple(sa: CSockaddr) -> Address:
    if sa.length < _SIN_LEN:
        raise ValueError(f"a struct ust_sockaddr_in is {_SIN_LEN} bytes, not {sa.length}")
    sin = ffi.cast("struct ust_sockaddr_in *", sa.storage)
    return ip_from_c(sin.sin_addr), port_from_c(sin.sin_port)


# Builders by the host's family number (what a Socket is created with) and
# parsers by the C API's sa_family: a family adds one line to each.
_BUILDERS: dict[int, Callable[[CSockaddr, Any, str], None]] = {
    int(_socket.AF_INET): _sockaddr_in,
}
_PARSERS: dict[int, Callable[[CSockaddr], Address]] = {
    int(lib.UST_AF_INET): _sockaddr_in_to_tuple,
}


def sockaddr(address: Any, what: str = "address", family: int = _socket.AF_INET) -> CSockaddr:
    """An address of ``family`` as the socket module takes it (AF_INET:
    ``(host, port)``) as a new :class:`CSockaddr`."""
    build = _BUILDERS.get(int(family))
    if build is None:
        raise _socket.gaierror(_socket.EAI_FAMILY, f"{what}: address family {family} not supported")
    out = CSockaddr()
    build(out, address, what)
    return out


def sockaddr_to_tuple(sa: CSockaddr) -> Address:
    """The address an output call wrote into ``sa``, as the socket module
    returns it (AF_INET: ``(host, port)``), by its ``sa_family``."""
    family = int(sa.ptr.sa_family)
    parse = _PARSERS.get(family)
    if parse is None:
        raise ValueError(f"no address of family {family} (length {sa.length})")
    return parse(sa)


_GAI_KINDS = (
    (_socket.SOCK_STREAM, _socket.IPPROTO_TCP),
    (_socket.SOCK_DGRAM, _socket.IPPROTO_UDP),
    (_socket.SOCK_RAW, 0),
)


def numeric_getaddrinfo(
    host: str | bytes | None,
    port: int | str | bytes | None,
    family: int = 0,
    kind: int = 0,
    proto: int = 0,
    flags: int = 0,
) -> list[tuple[Any, Any, int, str, tuple[str, int]]]:
    """:func:`socket.getaddrinfo` for IPv4 numbers only, with the same
    results and errors (``socket.gaierror``) as the host's for such input."""
    if isinstance(host, bytes):
        host = host.decode("ascii")
    if isinstance(port, bytes):
        port = port.decode("ascii")
    if family not in (0, _socket.AF_INET):
        raise _socket.gaierror(_socket.EAI_FAMILY, "ai_family not supported")
    if host is None or host == "":
        if host == "" or port is None:
            raise _socket.gaierror(_socket.EAI_NONAME, "Name or service not known")
        addr = "0.0.0.0" if flags & _socket.AI_PASSIVE else "127.0.0.1"
    else:
        try:
            addr = str(ipaddress.IPv4Address(host))
        except ValueError:
            raise _socket.gaierror(
                _socket.EAI_NONAME, f"ustack resolves no names: {host!r} is not an IPv4 address"
            ) from None
    if port is None:
        num = 0
    elif isinstance(port, int):
        num = port
    elif port.isdigit():
        num = int(port)
    else:
        raise _socket.gaierror(_socket.EAI_SERVICE, f"ustack resolves no service names: {port!r}")
    if not 0 <= num <= 0xFFFF:
        raise OverflowError("getaddrinfo(): port must be 0-65535.")
    out: list[tuple[Any, Any, int, str, tuple[str, int]]] = []
    for k, p in _GAI_KINDS:
        if kind and kind != k:
            continue
        if proto and p and proto != p:
            continue
        out.append(
            (_socket.AddressFamily.AF_INET, _socket.SocketKind(k), proto or p, "", (addr, num))
        )
    if not out:
        raise _socket.gaierror(_socket.EAI_SOCKTYPE, "ai_socktype not supported")
    return out


@dataclass(frozen=True)
class Route:
    """A route of a stack's table (``struct ust_route_info``)."""

    dst: ipaddress.IPv4Network
    """The destination network (0.0.0.0/0 for the default route)."""
    gateway: str | None
    """The next hop, or None when the destination is directly connected."""
    src: str | None
    """The preferred source address, or None."""
    interface: str | None
    """Name of the outgoing interface (None if the stack does not know it)."""
    ifindex: int
    flags: int
    """``RTF_*`` bits."""

    @property
    def is_static(self) -> bool:
        """Added by the user rather than by an address."""
        return bool(self.flags & RTF_STATIC)

    @property
    def is_gateway(self) -> bool:
        """Reached through a gateway."""
        return bool(self.flags & RTF_GATEWAY)

    @property
    def flags_text(self) -> str:
        """Flags as ``netstat -r`` prints them (``UGS``)."""
        out = ""
        for bit, ch in ((RTF_UP, "U"), (RTF_GATEWAY, "G"), (RTF_STATIC, "S")):
            if self.flags & bit:
                out += ch
        return out

    @classmethod
    def _from_c(cls, info: Any, ifnames: dict[int, str]) -> Route:
        gw = int(info.gateway)
        src = int(info.src)
        ifindex = int(info.ifindex)
        return cls(
            dst=ipaddress.IPv4Network(f"{ip_from_c(info.dst)}/{int(info.prefixlen)}"),
            gateway=ip_from_c(gw) if gw else None,
            src=ip_from_c(src) if src else None,
            interface=ifnames.get(ifindex),
            ifindex=ifindex,
            flags=int(info.flags),
        )


@dataclass(frozen=True)
class ArpEntry:
    """An entry of a stack's ARP cache (``struct ust_arp_entry``)."""

    ip: str
    mac: str | None
    """The hardware address, or None while unresolved."""
    interface: str | None
    ifindex: int
    flags: int
    """``ARP_*`` bits."""
    expire_ns: int | None
    """Stack time at which the entry expires; None for a static entry."""
    held: int
    """Packets waiting for the resolution."""

    @property
    def is_static(self) -> bool:
        """Added by the user: never expires, never replaced from the wire."""
        return bool(self.flags & ARP_STATIC)

    @property
    def is_resolved(self) -> bool:
        """Has a hardware address."""
        return bool(self.flags & ARP_RESOLVED)

    @classmethod
    def _from_c(cls, e: Any, ifnames: dict[int, str]) -> ArpEntry:
        flags = int(e.flags)
        ifindex = int(e.ifindex)
        expire = int(e.expire_ns)
        return cls(
            ip=ip_from_c(e.addr),
            mac=format_mac(bytes(e.mac)) if flags & ARP_RESOLVED else None,
            interface=ifnames.get(ifindex),
            ifindex=ifindex,
            flags=flags,
            expire_ns=None if flags & ARP_STATIC or expire == 0 else expire,
            held=int(e.held),
        )
