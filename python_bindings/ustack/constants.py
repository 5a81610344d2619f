"""Socket constants: the host's values in Python, FreeBSD's in C.

``ustack.X == socket.X`` for every constant the host's :mod:`socket` module
has (``AF_INET``, ``SOCK_STREAM``, ``SOL_SOCKET``, ``SO_*``, ``IPPROTO_*``,
``IP_TOS``, ``TCP_KEEPIDLE``, ``MSG_DONTWAIT``, ``SHUT_*``...), so code
written for the socket module works unchanged with either module's names;
:class:`ustack.Socket` translates them to ustack's C values (FreeBSD's, the
``UST_*`` macros of ``ustack.h``, which the C API keeps) at the boundary.

Options ustack has and the host lacks (on Linux ``TCP_NOPUSH``,
``TCP_NOOPT``, ``TCP_KEEPINIT``) get values of their own, above
:data:`USTACK_ONLY_BASE`, that collide with nothing the host defines.
A constant ustack does not know (``socket.SO_PRIORITY``) is passed to C as
it is and gets the error FreeBSD gives (ENOPROTOOPT, EINVAL).
"""

from __future__ import annotations

import socket as _socket

from ustack._native import lib

__all__ = [
    "USTACK_ONLY_BASE",
    "AF_INET",
    "AF_INET6",
    "SOCK_STREAM",
    "SOCK_DGRAM",
    "SOCK_RAW",
    "IPPROTO_IP",
    "IPPROTO_ICMP",
    "IPPROTO_TCP",
    "IPPROTO_UDP",
    "IPPROTO_IPV6",
    "IPPROTO_ICMPV6",
    "SOL_SOCKET",
    "SO_REUSEADDR",
    "SO_KEEPALIVE",
    "SO_BROADCAST",
    "SO_LINGER",
    "SO_OOBINLINE",
    "SO_REUSEPORT",
    "SO_REUSEPORT_LB",
    "SO_SNDBUF",
    "SO_RCVBUF",
    "SO_SNDLOWAT",
    "SO_RCVLOWAT",
    "SO_ERROR",
    "SO_TYPE",
    "IP_TOS",
    "IP_TTL",
    "IPV6_UNICAST_HOPS",
    "IPV6_CHECKSUM",
    "IPV6_V6ONLY",
    "IPV6_RECVPKTINFO",
    "IPV6_TCLASS",
    "IPV6_USE_MIN_MTU",
    "ICMP6_FILTER",
    "TCP_NODELAY",
    "TCP_MAXSEG",
    "TCP_NOPUSH",
    "TCP_NOOPT",
    "TCP_MD5SIG",
    "TCP_INFO",
    "TCP_CONGESTION",
    "TCP_KEEPINIT",
    "TCP_KEEPIDLE",
    "TCP_KEEPINTVL",
    "TCP_KEEPCNT",
    "TCP_FASTOPEN",
    "TCP_FUNCTION_BLK",
    "TCP_REMOTE_UDP_ENCAPS_PORT",
    "MSG_OOB",
    "MSG_PEEK",
    "MSG_DONTWAIT",
    "SHUT_RD",
    "SHUT_WR",
    "SHUT_RDWR",
    "INADDR_ANY",
    "INADDR_BROADCAST",
]

USTACK_ONLY_BASE = 0x7500_0000
"""Python values of ustack-only constants are this plus the C value."""

_used: set[int] = set()


def _host(name: str) -> int:
    """The Python value of ``name``: the host's, else a ustack-only one."""
    c_value = int(getattr(lib, "UST_" + name))
    host = getattr(_socket, name, None)
    if isinstance(host, int):
        return int(host)  # a plain int, not socket's IntFlag: cheaper to mask
    value = USTACK_ONLY_BASE + c_value
    assert value not in _used, name
    _used.add(value)
    return value


AF_INET = _socket.AF_INET
AF_INET6 = _socket.AF_INET6
SOCK_STREAM = _socket.SOCK_STREAM
SOCK_DGRAM = _socket.SOCK_DGRAM
SOCK_RAW = _socket.SOCK_RAW
IPPROTO_IP = _host("IPPROTO_IP")
IPPROTO_ICMP = _host("IPPROTO_ICMP")
IPPROTO_TCP = _host("IPPROTO_TCP")
IPPROTO_UDP = _host("IPPROTO_UDP")
IPPROTO_IPV6 = _host("IPPROTO_IPV6")
IPPROTO_ICMPV6 = _host("IPPROTO_ICMPV6")
SOL_SOCKET = _host("SOL_SOCKET")
SO_REUSEADDR = _host("SO_REUSEADDR")
SO_KEEPALIVE = _host("SO_KEEPALIVE")
SO_BROADCAST = _host("SO_BROADCAST")
SO_LINGER = _host("SO_LINGER")
SO_OOBINLINE = _host("SO_OOBINLINE")
SO_REUSEPORT = _host("SO_REUSEPORT")
SO_REUSEPORT_LB = _host("SO_REUSEPORT_LB")
SO_SNDBUF = _host("SO_SNDBUF")
SO_RCVBUF = _host("SO_RCVBUF")
SO_SNDLOWAT = _host("SO_SNDLOWAT")
SO_RCVLOWAT = _host("SO_RCVLOWAT")
SO_ERROR = _host("SO_ERROR")
SO_TYPE = _host("SO_TYPE")
IP_TOS = _host("IP_TOS")
IP_TTL = _host("IP_TTL")
IPV6_UNICAST_HOPS = _host("IPV6_UNICAST_HOPS")
IPV6_CHECKSUM = _host("IPV6_CHECKSUM")
IPV6_V6ONLY = _host("IPV6_V6ONLY")
IPV6_RECVPKTINFO = _host("IPV6_RECVPKTINFO")
IPV6_TCLASS = _host("IPV6_TCLASS")
IPV6_USE_MIN_MTU = _host("IPV6_USE_MIN_MTU")
ICMP6_FILTER = _host("ICMP6_FILTER")  # ustack-only on Linux: its socket module has none
TCP_NODELAY = _host("TCP_NODELAY")
TCP_MAXSEG = _host("TCP_MAXSEG")
TCP_NOPUSH = _host("TCP_NOPUSH")
TCP_NOOPT = _host("TCP_NOOPT")
TCP_MD5SIG = _host("TCP_MD5SIG")
TCP_INFO = _host("TCP_INFO")
TCP_CONGESTION = _host("TCP_CONGESTION")
TCP_KEEPINIT = _host("TCP_KEEPINIT")
TCP_KEEPIDLE = _host("TCP_KEEPIDLE")
TCP_KEEPINTVL = _host("TCP_KEEPINTVL")
TCP_KEEPCNT = _host("TCP_KEEPCNT")
TCP_FASTOPEN = _host("TCP_FASTOPEN")  # FreeBSD 0x401 in C (RFC 7413)
TCP_FUNCTION_BLK = _host("TCP_FUNCTION_BLK")  # ustack-only on Linux (FreeBSD 0x2000)
TCP_REMOTE_UDP_ENCAPS_PORT = _host("TCP_REMOTE_UDP_ENCAPS_PORT")
MSG_OOB = _host("MSG_OOB")
MSG_PEEK = _host("MSG_PEEK")
MSG_DONTWAIT = _host("MSG_DONTWAIT")
SHUT_RD = _host("SHUT_RD")
SHUT_WR = _host("SHUT_WR")
SHUT_RDWR = _host("SHUT_RDWR")
INADDR_ANY = _host("INADDR_ANY")
INADDR_BROADCAST = _host("INADDR_BROADCAST")

_SOCK_NONBLOCK = int(getattr(_socket, "SOCK_NONBLOCK", 0))
_SOCK_CLOEXEC = int(getattr(_socket, "SOCK_CLOEXEC", 0))

_TYPES = {
    int(SOCK_STREAM): int(lib.UST_SOCK_STREAM),
    int(SOCK_DGRAM): int(lib.UST_SOCK_DGRAM),
    int(SOCK_RAW): int(lib.UST_SOCK_RAW),
}
_TYPES_BACK = {c: py for py, c in _TYPES.items()}
# Protocol levels are IANA numbers everywhere; only SOL_SOCKET differs (on
# Linux it is 1, which is also IPPROTO_ICMP: as a level it means SOL_SOCKET).
_LEVELS = {SOL_SOCKET: int(lib.UST_SOL_SOCKET)}
_OPTIONS: dict[int, dict[int, int]] = {
    SOL_SOCKET: {
        globals()[n]: int(getattr(lib, "UST_" + n)) for n in __all__ if n.startswith("SO_")
    },
    IPPROTO_IP: {IP_TOS: int(lib.UST_IP_TOS), IP_TTL: int(lib.UST_IP_TTL)},
    IPPROTO_IPV6: {
        globals()[n]: int(getattr(lib, "UST_" + n)) for n in __all__ if n.startswith("IPV6_")
    },
    IPPROTO_ICMPV6: {ICMP6_FILTER: int(lib.UST_ICMP6_FILTER)},
    IPPROTO_TCP: {
        globals()[n]: int(getattr(lib, "UST_" + n)) for n in __all__ if n.startswith("TCP_")
    },
}
_FLAGS = {
    MSG_OOB: int(lib.UST_MSG_OOB),
    MSG_PEEK: int(lib.UST_MSG_PEEK),
    MSG_DONTWAIT: int(lib.UST_MSG_DONTWAIT),
}


def to_c_type(kind: int) -> tuple[int, bool]:
    """A socket type as ``socket.socket`` takes it -> (ustack's type, non-blocking).

    ``SOCK_NONBLOCK`` makes the socket non-blocking and ``SOCK_CLOEXEC``
    means nothing (there is no descriptor), as on Linux.
    """
    nonblock = bool(_SOCK_NONBLOCK and kind & _SOCK_NONBLOCK)
    base = int(kind) & ~(_SOCK_NONBLOCK | _SOCK_CLOEXEC)
    return _TYPES.get(base, base), nonblock


def from_c_type(kind: int) -> int:
    """ustack's socket type -> the host's."""
    return _TYPES_BACK.get(kind, kind)


def to_c_level(level: int) -> int:
    """An option level (``SOL_SOCKET``, ``IPPROTO_TCP``) -> ustack's."""
    return _LEVELS.get(level, level)


def to_c_option(level: int, optname: int) -> int:
    """An option name at a (Python) level -> ustack's."""
    return _OPTIONS.get(level, {}).get(optname, optname)


def to_c_flags(flags: int) -> int:
    """``MSG_*`` bits -> ustack's; a bit ustack does not know stays as it is
    (so that ustack refuses it: EOPNOTSUPP/EINVAL)."""
    if not flags:
        return 0
    flags = int(flags)
    out = 0
    for py, c in _FLAGS.items():
        if flags & py:
            out |= c
            flags &= ~py
    return out | flags
