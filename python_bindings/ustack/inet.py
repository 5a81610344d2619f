"""IPv4 and IPv6 addresses as the C API wants them, and records of routes,
ARP and neighbor cache entries.

The C API passes IPv4 addresses as ``uint32_t`` in network byte order (like
``in_addr_t``), IPv6 addresses as ``struct ust_in6_addr`` (16 bytes, network
order) and ports as ``uint16_t`` in network byte order inside ``struct
ust_sockaddr_in`` / ``struct ust_sockaddr_in6``; the socket calls take BSD's
``struct ust_sockaddr *`` and a length, which :class:`CSockaddr` holds (a
``struct ust_sockaddr_storage``, built and parsed by family).  Python code
uses the standard library's forms: ``'198.18.0.1'`` and ``'2001:2::1'``
strings (or :mod:`ipaddress` objects), ``(host, port)`` tuples for AF_INET,
``(host, port, flowinfo, scope_id)`` for AF_INET6 (2-, 3- and 4-tuples
accepted on input, 4-tuples given on output, as the socket module does) and
CIDR text (``'198.18.0.0/24'``, ``'2001:2::/64'``).

Host strings follow the :mod:`socket` module: ``''`` and ``'0.0.0.0'`` are
INADDR_ANY, ``'<broadcast>'`` is 255.255.255.255; for AF_INET6 ``''`` is
``'::'``.  There is no name resolution: any other host must be a numeric
address of the socket's family (the other family's: ``socket.gaierror``
EAI_ADDRFAMILY, as the host's resolver says).

Scope ids: an IPv6 scope id is **ustack's** interface index
(:attr:`Interface.index <ustack.stack.Interface.index>`, ``ust_if_index``),
not the host's.  ``'fe80::1%pd0'`` names the zone by the interface's name in
the socket's stack (``'%2'``: by number); a scope id given in the tuple
(nonzero) wins over the ``%zone``, as in the socket module.  Unlike CPython,
whose 2-tuple ``('fe80::1%eth0', port)`` ends with scope id 0 (the tuple's
default overwrites the zone), ustack keeps the zone of the text when the
tuple gives none.  A link-local address with no scope at all is left to the
stack, which refuses it (EINVAL) as FreeBSD does with
``net.inet6.ip6.use_defaultzone=0``.  Output addresses carry no ``%zone`` in
the host string (Python 3.7 and later): the scope id is the tuple's fourth
item.
"""

from __future__ import annotations

import ipaddress
import socket as _socket
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeAlias

from ustack._native import ffi, lib
from ustack._util import format_mac

__all__ = [
    "Address",
    "InetAddress",
    "Inet6Address",
    "HostLike",
    "IPAddress",
    "IPInterface",
    "IPNetwork",
    "ScopeLookup",
    "ip_to_c",
    "ip_from_c",
    "ip6_to_c",
    "ip6_from_c",
    "port_to_c",
    "port_from_c",
    "parse_host",
    "parse_host6",
    "parse_interface",
    "parse_interface6",
    "parse_interface_any",
    "parse_network",
    "parse_network6",
    "parse_network_any",
    "format_scoped",
    "CSockaddr",
    "sockaddr",
    "sockaddr_to_tuple",
    "numeric_getaddrinfo",
    "Route",
    "ArpEntry",
    "Address6",
    "Nd6Entry",
    "ND6_STATES",
    "IN6_IFF_ANYCAST",
    "IN6_IFF_TENTATIVE",
    "IN6_IFF_DUPLICATED",
    "IN6_IFF_DEPRECATED",
    "IN6_IFF_NODAD",
    "IN6_IFF_AUTOCONF",
    "ND6_STATIC",
    "ND6_ISROUTER",
    "RTF_UP",
    "RTF_GATEWAY",
    "RTF_STATIC",
    "ARP_STATIC",
    "ARP_RESOLVED",
]

HostLike = str | ipaddress.IPv4Address | ipaddress.IPv6Address
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPInterface = ipaddress.IPv4Interface | ipaddress.IPv6Interface
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
InetAddress = tuple[str, int]
"""An AF_INET address: ``(host, port)``."""
Inet6Address = tuple[str, int, int, int]
"""An AF_INET6 address: ``(host, port, flowinfo, scope_id)``."""
Address: TypeAlias = tuple[Any, ...]
"""A socket address of either family as the socket module gives it
(:data:`InetAddress` or :data:`Inet6Address`)."""
ScopeLookup = Callable[[str], int | None]
"""The interface index (IPv6 scope id) of an interface name, None if none."""

RTF_UP = int(lib.UST_RTF_UP)
RTF_GATEWAY = int(lib.UST_RTF_GATEWAY)
RTF_STATIC = int(lib.UST_RTF_STATIC)
ARP_STATIC = int(lib.UST_ARP_STATIC)
ARP_RESOLVED = int(lib.UST_ARP_RESOLVED)
IN6_IFF_ANYCAST = int(lib.UST_IN6_IFF_ANYCAST)
IN6_IFF_TENTATIVE = int(lib.UST_IN6_IFF_TENTATIVE)
IN6_IFF_DUPLICATED = int(lib.UST_IN6_IFF_DUPLICATED)
IN6_IFF_DEPRECATED = int(lib.UST_IN6_IFF_DEPRECATED)
IN6_IFF_NODAD = int(lib.UST_IN6_IFF_NODAD)
IN6_IFF_AUTOCONF = int(lib.UST_IN6_IFF_AUTOCONF)
ND6_STATIC = int(lib.UST_ND6_STATIC)
ND6_ISROUTER = int(lib.UST_ND6_ISROUTER)
ND6_STATES: dict[int, str] = {
    int(lib.UST_ND6_INCOMPLETE): "INCOMPLETE",
    int(lib.UST_ND6_REACHABLE): "REACHABLE",
    int(lib.UST_ND6_STALE): "STALE",
    int(lib.UST_ND6_DELAY): "DELAY",
    int(lib.UST_ND6_PROBE): "PROBE",
}
"""FreeBSD's ND6_LLINFO_* states (RFC 4861 7.3.2) by number."""

_SIN_LEN = ffi.sizeof("struct ust_sockaddr_in")
_SIN6_LEN = ffi.sizeof("struct ust_sockaddr_in6")
_SS_LEN = ffi.sizeof("struct ust_sockaddr_storage")
# What the host's resolver says for an address of the other family.
_EAI_ADDRFAMILY = int(getattr(_socket, "EAI_ADDRFAMILY", _socket.EAI_FAMILY))
_ADDRFAMILY_TEXT = "Address family for hostname not supported"
_FLOWINFO_MAX = 0xFFFFF
# AF_UNSPEC lookups give IPv6 results only from a stack that has IPv6.
_HAS_INET6 = bool(lib.UST_INET6)


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


def ip6_to_c(addr: str | ipaddress.IPv6Address | bytes, out: Any = None) -> Any:
    """An IPv6 address (text without a zone, an IPv6Address or 16 bytes) as
    a ``struct ust_in6_addr *`` (``out`` when given, else a new one)."""
    if isinstance(addr, bytes):
        packed = addr
    else:
        packed = ipaddress.IPv6Address(addr).packed
    if len(packed) != 16:
        raise ValueError(f"an IPv6 address has 16 bytes, not {len(packed)}")
    if out is None:
        out = ffi.new("struct ust_in6_addr *")
    ffi.memmove(out.s6_addr8, packed, 16)
    return out


def ip6_from_c(addr: Any) -> str:
    """A ``struct ust_in6_addr`` as the socket module writes it (inet_ntop:
    ``'2001:2::1'``, ``'::ffff:198.18.0.1'``)."""
    return _socket.inet_ntop(_socket.AF_INET6, bytes(addr.s6_addr8))


def port_to_c(port: int) -> int:
    """A port as a network-order ``uint16_t``."""
    return int.from_bytes(port.to_bytes(2, "big"), sys.byteorder)


def port_from_c(value: int) -> int:
    """A network-order ``uint16_t`` as a port number."""
    return int.from_bytes(int(value).to_bytes(2, sys.byteorder), "big")


def _is_ipv6_text(text: str) -> bool:
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return True


def _is_ipv4_text(text: str) -> bool:
    try:
        ipaddress.IPv4Address(text)
    except ValueError:
        return False
    return True


def _addrfamily() -> _socket.gaierror:
    return _socket.gaierror(_EAI_ADDRFAMILY, _ADDRFAMILY_TEXT)


def parse_host(host: HostLike) -> int:
    """A host as the socket module accepts it, as a network-order ``uint32_t``.

    Raises :class:`socket.gaierror` for a name (ustack does not resolve names)
    and for an IPv6 address (EAI_ADDRFAMILY, as the host's resolver).
    """
    if isinstance(host, ipaddress.IPv4Address):
        return ip_to_c(host)
    if isinstance(host, ipaddress.IPv6Address):
        raise _addrfamily()
    if not isinstance(host, str):
        raise TypeError(f"a host is a str such as '198.18.0.1', not {type(host).__name__}")
    if host in ("", "0.0.0.0"):
        return int(lib.UST_INADDR_ANY)
    if host == "<broadcast>":
        return int(lib.UST_INADDR_BROADCAST)
    try:
        return ip_to_c(ipaddress.IPv4Address(host))
    except ValueError:
        if _is_ipv6_text(host):
            raise _addrfamily() from None
        raise _socket.gaierror(
            _socket.EAI_NONAME,
            f"ustack resolves no names: {host!r} is not an IPv4 address",
        ) from None


def _zone_index(zone: str, scopes: ScopeLookup | None) -> int:
    """The scope id of ``%zone``: a number as it is, a name through ``scopes``."""
    if zone.isdigit():
        return int(zone) & 0xFFFFFFFF
    index = scopes(zone) if scopes is not None else None
    if index is None:
        raise _socket.gaierror(_socket.EAI_NONAME, "Name or service not known")
    return int(index)


def parse_host6(host: HostLike, scopes: ScopeLookup | None = None) -> tuple[bytes, int]:
    """An AF_INET6 host as the socket module accepts it: ``(16 address bytes,
    scope id)``.  ``''`` is ``::``; ``'fe80::1%pd0'`` takes the scope id of
    the interface ``pd0`` from ``scopes`` (``'%3'``: 3); no zone: 0.

    Raises :class:`socket.gaierror` for a name, an unknown zone (EAI_NONAME)
    or an IPv4 address (EAI_ADDRFAMILY), OSError for ``'<broadcast>'``.
    """
    if isinstance(host, ipaddress.IPv4Address):
        raise _addrfamily()
    if isinstance(host, ipaddress.IPv6Address):
        zone = host.scope_id
        return host.packed, 0 if zone is None else _zone_index(zone, scopes)
    if not isinstance(host, str):
        raise TypeError(f"a host is a str such as '2001:2::1', not {type(host).__name__}")
    if host == "":
        return bytes(16), 0
    if host == "<broadcast>":
        raise OSError("address family mismatched")
    try:
        addr = ipaddress.IPv6Address(host)
    except ValueError:
        if _is_ipv4_text(host):
            raise _addrfamily() from None
        raise _socket.gaierror(
            _socket.EAI_NONAME,
            f"ustack resolves no names: {host!r} is not an IPv6 address",
        ) from None
    zone = addr.scope_id
    return addr.packed, 0 if zone is None else _zone_index(zone, scopes)


def format_scoped(addr: str | ipaddress.IPv6Address, zone: str | None) -> str:
    """``addr%zone`` for a link-local (or other scoped) address when ``zone``
    is known, else ``addr``: how route(8) and ndp(8) print a scoped address."""
    ip = ipaddress.IPv6Address(addr)
    if zone and (ip.is_link_local or ip.is_multicast and (ip.packed[1] & 0x0F) <= 2):
        return f"{ip}%{zone}"
    return str(ip)


def parse_interface(text: str | ipaddress.IPv4Interface) -> ipaddress.IPv4Interface:
    """``'198.18.0.1/24'`` (no prefix: /32) as an :class:`ipaddress.IPv4Interface`."""
    try:
        return ipaddress.IPv4Interface(text)
    except ValueError as exc:
        raise ValueError(f"not an IPv4 address with prefix: {text!r} ({exc})") from None


def parse_interface6(text: str | ipaddress.IPv6Interface) -> ipaddress.IPv6Interface:
    """``'2001:2::1/64'`` (no prefix: /128; ``'fe80::1%pd0/64'`` keeps its
    zone) as an :class:`ipaddress.IPv6Interface`."""
    try:
        return ipaddress.IPv6Interface(text)
    except ValueError as exc:
        raise ValueError(f"not an IPv6 address with prefix: {text!r} ({exc})") from None


def parse_interface_any(text: str | IPInterface) -> IPInterface:
    """An address with prefix of either family (:func:`parse_interface` or
    :func:`parse_interface6`, by the text)."""
    if isinstance(text, ipaddress.IPv4Interface | ipaddress.IPv6Interface):
        return text
    if ":" in str(text):
        return parse_interface6(text)
    return parse_interface(text)


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


def parse_network6(text: str | ipaddress.IPv6Network) -> ipaddress.IPv6Network:
    """An IPv6 destination as ``route -6`` takes it: ``'2001:2::/48'``,
    ``'default'`` (``::/0``), a host (/128).  Host bits are masked off."""
    if isinstance(text, ipaddress.IPv6Network):
        return text
    if text == "default":
        return ipaddress.IPv6Network("::/0")
    try:
        return ipaddress.IPv6Network(text, strict=False)
    except ValueError as exc:
        raise ValueError(f"not an IPv6 network: {text!r} ({exc})") from None


def parse_network_any(text: str | IPNetwork, family: int | None = None) -> IPNetwork:
    """A destination of either family, by the text (``'default'`` is IPv4's
    unless ``family`` is AF_INET6)."""
    if isinstance(text, ipaddress.IPv4Network | ipaddress.IPv6Network):
        return text
    if family == _socket.AF_INET6 or ":" in text:
        return parse_network6(text)
    return parse_network(text)


def _check_address(address: Any, what: str) -> tuple[HostLike, int]:
    if not isinstance(address, tuple) or len(address) != 2:
        raise TypeError(f"{what}: AF_INET address must be a tuple (host, port), not {address!r}")
    host, port = address
    _check_port(port, what)
    return host, port


def _check_port(port: Any, what: str) -> None:
    if not isinstance(port, int) or isinstance(port, bool):
        raise TypeError(f"{what}: port must be an int, not {type(port).__name__}")
    if not 0 <= port <= 0xFFFF:
        raise OverflowError(f"{what}: port must be 0-65535.")


def _check_address6(address: Any, what: str) -> tuple[HostLike, int, int, int]:
    """``(host, port[, flowinfo[, scope_id]])`` checked as the socket module
    does: flowinfo 0-1048575 (OverflowError), scope_id taken modulo 2**32."""
    if not isinstance(address, tuple):
        raise TypeError(f"{what}: AF_INET6 address must be tuple, not {type(address).__name__}")
    if not 2 <= len(address) <= 4:
        raise TypeError(
            f"{what}: AF_INET6 address must be a tuple (host, port[, flowinfo[, scopeid]]), "
            f"not {address!r}"
        )
    host, port = address[0], address[1]
    _check_port(port, what)
    flowinfo = address[2] if len(address) > 2 else 0
    scope_id = address[3] if len(address) > 3 else 0
    for name, value in (("flowinfo", flowinfo), ("scope_id", scope_id)):
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(f"{what}: {name} must be an int, not {type(value).__name__}")
    if not 0 <= flowinfo <= _FLOWINFO_MAX:
        raise OverflowError(f"{what}: flowinfo must be 0-{_FLOWINFO_MAX}.")
    return host, port, flowinfo, scope_id & 0xFFFFFFFF


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


def _sockaddr_in(out: CSockaddr, address: Any, what: str, scopes: ScopeLookup | None) -> None:
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


def _sockaddr_in6(out: CSockaddr, address: Any, what: str, scopes: ScopeLookup | None) -> None:
    host, port, flowinfo, scope_id = _check_address6(address, what)
    packed, zone = parse_host6(host, scopes)
    sin6 = ffi.cast("struct ust_sockaddr_in6 *", out.storage)
    sin6.sin6_len = _SIN6_LEN
    sin6.sin6_family = int(lib.UST_AF_INET6)
    sin6.sin6_port = port_to_c(port)
    sin6.sin6_flowinfo = int.from_bytes(flowinfo.to_bytes(4, "big"), sys.byteorder)
    ffi.memmove(sin6.sin6_addr.s6_addr8, packed, 16)
    sin6.sin6_scope_id = scope_id or zone
    out.lenp[0] = _SIN6_LEN


def _sockaddr_in6_to_tuple(sa: CSockaddr) -> Address:
    if sa.length < _SIN6_LEN:
        raise ValueError(f"a struct ust_sockaddr_in6 is {_SIN6_LEN} bytes, not {sa.length}")
    sin6 = ffi.cast("struct ust_sockaddr_in6 *", sa.storage)
    flowinfo = int.from_bytes(int(sin6.sin6_flowinfo).to_bytes(4, sys.byteorder), "big")
    return (
        ip6_from_c(sin6.sin6_addr),
        port_from_c(sin6.sin6_port),
        flowinfo,
        int(sin6.sin6_scope_id),
    )


# Builders by the host's family number (what a Socket is created with) and
# parsers by the C API's sa_family: a family adds one line to each.
_BUILDERS: dict[int, Callable[[CSockaddr, Any, str, ScopeLookup | None], None]] = {
    int(_socket.AF_INET): _sockaddr_in,
    int(_socket.AF_INET6): _sockaddr_in6,
}
_PARSERS: dict[int, Callable[[CSockaddr], Address]] = {
    int(lib.UST_AF_INET): _sockaddr_in_to_tuple,
    int(lib.UST_AF_INET6): _sockaddr_in6_to_tuple,
}


def sockaddr(
    address: Any,
    what: str = "address",
    family: int = _socket.AF_INET,
    scopes: ScopeLookup | None = None,
) -> CSockaddr:
    """An address of ``family`` as the socket module takes it (AF_INET:
    ``(host, port)``; AF_INET6: ``(host, port[, flowinfo[, scope_id]])``) as
    a new :class:`CSockaddr`.  ``scopes`` resolves a ``%name`` zone
    (``Stack._scope_index``); without it only numeric zones work."""
    build = _BUILDERS.get(int(family))
    if build is None:
        raise _socket.gaierror(_socket.EAI_FAMILY, f"{what}: address family {family} not supported")
    out = CSockaddr()
    build(out, address, what, scopes)
    return out


def sockaddr_to_tuple(sa: CSockaddr) -> Address:
    """The address an output call wrote into ``sa``, as the socket module
    returns it (AF_INET: ``(host, port)``; AF_INET6: ``(host, port,
    flowinfo, scope_id)``), by its ``sa_family``."""
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


def _gai_hosts(
    host: str | None, family: int, flags: int, scopes: ScopeLookup | None
) -> list[tuple[int, Address]]:
    """The (family, address without port) a numeric host stands for, in the
    host resolver's order (glibc: ``::1`` before 127.0.0.1, 0.0.0.0 before
    ``::`` for AI_PASSIVE)."""
    v4 = family in (0, _socket.AF_INET)
    v6 = family == _socket.AF_INET6 or (family == 0 and _HAS_INET6)
    if host is None:
        if flags & _socket.AI_PASSIVE:
            out: list[tuple[int, Address]] = []
            if v4:
                out.append((_socket.AF_INET, ("0.0.0.0",)))
            if v6:
                out.append((_socket.AF_INET6, ("::", 0, 0)))
            return out
        out = []
        if v6:
            out.append((_socket.AF_INET6, ("::1", 0, 0)))
        if v4:
            out.append((_socket.AF_INET, ("127.0.0.1",)))
        return out
    try:
        addr4 = str(ipaddress.IPv4Address(host))
    except ValueError:
        pass
    else:
        if v4:
            return [(_socket.AF_INET, (addr4,))]
        if flags & _socket.AI_V4MAPPED:
            return [(_socket.AF_INET6, (f"::ffff:{addr4}", 0, 0))]
        raise _addrfamily()
    if _is_ipv6_text(host):
        if not v6:
            raise _addrfamily()
        packed, scope = parse_host6(host, scopes)
        return [(_socket.AF_INET6, (_socket.inet_ntop(_socket.AF_INET6, packed), 0, scope))]
    raise _socket.gaierror(
        _socket.EAI_NONAME, f"ustack resolves no names: {host!r} is not an IP address"
    )


def numeric_getaddrinfo(
    host: str | bytes | None,
    port: int | str | bytes | None,
    family: int = 0,
    kind: int = 0,
    proto: int = 0,
    flags: int = 0,
    scopes: ScopeLookup | None = None,
) -> list[tuple[Any, Any, int, str, Address]]:
    """:func:`socket.getaddrinfo` for numeric IPv4 and IPv6 hosts only, with
    the same results and errors (``socket.gaierror``) as the host's for such
    input.  ``scopes`` resolves ``'fe80::1%pd0'`` zones (the stack's
    interface names); without it only numeric zones work."""
    if isinstance(host, bytes):
        host = host.decode("ascii")
    if isinstance(port, bytes):
        port = port.decode("ascii")
    if family not in (0, _socket.AF_INET, _socket.AF_INET6):
        raise _socket.gaierror(_socket.EAI_FAMILY, "ai_family not supported")
    if host == "" or (host is None and port is None):
        raise _socket.gaierror(_socket.EAI_NONAME, "Name or service not known")
    hosts = _gai_hosts(host, family, flags, scopes)
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
    out: list[tuple[Any, Any, int, str, Address]] = []
    for fam, addr in hosts:
        sockaddr_tuple: Address = (addr[0], num, *addr[1:])
        for k, p in _GAI_KINDS:
            if kind and kind != k:
                continue
            if proto and p and proto != p:
                continue
            out.append(
                (_socket.AddressFamily(fam), _socket.SocketKind(k), proto or p, "", sockaddr_tuple)
            )
    if not out:
        raise _socket.gaierror(_socket.EAI_SOCKTYPE, "ai_socktype not supported")
    return out


@dataclass(frozen=True)
class Route:
    """A route of a stack's table (``struct ust_route_info``)."""

    dst: IPNetwork
    """The destination network (0.0.0.0/0 or ::/0 for a default route)."""
    gateway: str | None
    """The next hop, or None when the destination is directly connected (a
    link-local IPv6 gateway reads ``'fe80::1%pa0'``, as route(8) prints it)."""
    src: str | None
    """The preferred source address, or None (always None for IPv6)."""
    interface: str | None
    """Name of the outgoing interface (None if the stack does not know it)."""
    ifindex: int
    flags: int
    """``RTF_*`` bits."""
    mtu: int = 0
    """IPv6: the route's MTU, 0 for the interface's (IPv4 routes: 0)."""

    @property
    def family(self) -> int:
        """``socket.AF_INET`` or ``socket.AF_INET6``."""
        return _socket.AF_INET if self.dst.version == 4 else _socket.AF_INET6

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

    @classmethod
    def _from_c6(cls, info: Any, ifnames: dict[int, str]) -> Route:
        """From a ``struct ust_route6_info``."""
        gw = bytes(info.gateway.s6_addr8)
        ifindex = int(info.ifindex)
        name = ifnames.get(ifindex)
        net = ipaddress.IPv6Network((bytes(info.dst.s6_addr8), int(info.prefixlen)), strict=False)
        return cls(
            dst=net,
            gateway=format_scoped(ipaddress.IPv6Address(gw), name) if any(gw) else None,
            src=None,
            interface=name,
            ifindex=ifindex,
            flags=int(info.flags),
            mtu=int(info.mtu),
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


@dataclass(frozen=True)
class Address6:
    """An IPv6 address of an interface (``ust_if_addr6_get``), as
    ``ifconfig`` lists it: the address with its prefix (a link-local one
    with its zone, ``fe80::1%pa0/64``) and its ``IN6_IFF_*`` flags."""

    interface: ipaddress.IPv6Interface
    flags: int

    @property
    def ip(self) -> ipaddress.IPv6Address:
        """The address (with its zone when link-local: ``fe80::1%pa0``)."""
        zone = self.interface.scope_id
        ip = self.interface.ip
        return ipaddress.IPv6Address(f"{ip}%{zone}") if zone else ip

    @property
    def tentative(self) -> bool:
        """Duplicate address detection is still running: not usable yet."""
        return bool(self.flags & IN6_IFF_TENTATIVE)

    @property
    def duplicated(self) -> bool:
        """Duplicate address detection failed: another node has it."""
        return bool(self.flags & IN6_IFF_DUPLICATED)

    @property
    def deprecated(self) -> bool:
        """Its preferred lifetime ran out (RFC 4862): not chosen as a source."""
        return bool(self.flags & IN6_IFF_DEPRECATED)

    @property
    def autoconf(self) -> bool:
        """Made by stateless autoconfiguration (RFC 4862)."""
        return bool(self.flags & IN6_IFF_AUTOCONF)

    @property
    def flags_text(self) -> str:
        """The flags as ``ifconfig`` prints them (``tentative nodad``)."""
        names = (
            (IN6_IFF_ANYCAST, "anycast"),
            (IN6_IFF_TENTATIVE, "tentative"),
            (IN6_IFF_DUPLICATED, "duplicated"),
            (IN6_IFF_DEPRECATED, "deprecated"),
            (IN6_IFF_NODAD, "nodad"),
            (IN6_IFF_AUTOCONF, "autoconf"),
        )
        return " ".join(n for bit, n in names if self.flags & bit)


@dataclass(frozen=True)
class Nd6Entry:
    """An entry of a stack's IPv6 neighbor cache (``struct ust_nd6_entry``),
    as ``ndp -a`` shows it."""

    address: str
    """The neighbor's address (``'fe80::1'``; its zone is :attr:`iface`)."""
    mac: str | None
    """The link-layer address, or None while INCOMPLETE."""
    state: str
    """``'INCOMPLETE'``, ``'REACHABLE'``, ``'STALE'``, ``'DELAY'`` or ``'PROBE'``."""
    iface: str | None
    """Name of the interface (None if the stack does not know it)."""
    ifindex: int
    flags: int
    """``ND6_STATIC`` / ``ND6_ISROUTER`` bits."""
    expire_ns: int | None
    """Stack time at which the state times out; None for a static entry."""
    held: int
    """Packets waiting for the resolution."""

    @property
    def interface(self) -> str | None:
        """:attr:`iface` under :class:`ArpEntry`'s name."""
        return self.iface

    @property
    def is_router(self) -> bool:
        """The neighbor said it is a router (NA R flag, RA)."""
        return bool(self.flags & ND6_ISROUTER)

    @property
    def static(self) -> bool:
        """Added by the user (``ndp -s``): never expires, never replaced."""
        return bool(self.flags & ND6_STATIC)

    @property
    def scoped_address(self) -> str:
        """The address with ``%iface`` when link-local, as ``ndp -a`` prints it."""
        return format_scoped(self.address, self.iface)

    @classmethod
    def _from_c(cls, e: Any, ifnames: dict[int, str]) -> Nd6Entry:
        flags = int(e.flags)
        state = int(e.state)
        ifindex = int(e.ifindex)
        expire = int(e.expire_ns)
        incomplete = state == int(lib.UST_ND6_INCOMPLETE) and not flags & ND6_STATIC
        return cls(
            address=ip6_from_c(e.addr),
            mac=None if incomplete else format_mac(bytes(e.mac)),
            state=ND6_STATES.get(state, str(state)),
            iface=ifnames.get(ifindex),
            ifindex=ifindex,
            flags=flags,
            expire_ns=None if flags & ND6_STATIC or expire == 0 else expire,
            held=int(e.held),
        )
