"""ustack: a portable user-space TCP/IP stack with FreeBSD's architecture.

The Python API follows the standard :mod:`socket` module's vocabulary and
raises the same built-in exceptions (``ConnectionRefusedError``,
``BlockingIOError``, ``TimeoutError``, ...), each also a :class:`ustack.Error`.

Main objects: :class:`Stack` (one network node), :class:`Pipe` (two Ethernet
endpoints with seeded fault injection), :class:`VirtualClock` (time that moves
only when told), :class:`Interface` and :class:`Capture` (pcap files),
:class:`Socket` and :class:`EventQueue`; :class:`StackGroup` (many cores:
stacks on threads of their own, flows steered among them, sockets usable
from any thread).

Two stacks talking UDP over a pipe with 2 ms of delay, on virtual time::

    import ustack

    clock = ustack.VirtualClock()
    pipe = ustack.Pipe(clock=clock, a_to_b=ustack.Faults(delay_ns=2_000_000))
    a = ustack.Stack(clock=clock, seed=1)
    b = ustack.Stack(clock=clock, seed=2)
    a.add_interface(pipe.a, "pa0", "198.18.0.1/24")
    b.add_interface(pipe.b, "pb0", "198.18.0.2/24")

    server = b.socket(ustack.AF_INET, ustack.SOCK_DGRAM)
    server.bind(("", 7))
    client = a.socket(ustack.AF_INET, ustack.SOCK_DGRAM)
    client.settimeout(0.5)                   # seconds of the stacks' clock
    client.sendto(b"ping", ("198.18.0.2", 7))
    data, peer = server.recvfrom(2048)       # polls a and b until it arrives
    server.sendto(data, peer)
    print(client.recvfrom(2048))             # (b'ping', ('198.18.0.2', 7))

    print(ustack.format_netstat(a.netstat()))   # netstat -s
    a.sysctl("net.inet.ip.ttl", 32)             # sysctl -w

Constants (``AF_INET``, ``SOL_SOCKET``, ``SO_RCVBUF``, ``MSG_PEEK``, ...) are
the host :mod:`socket` module's (``ustack.SOL_SOCKET == socket.SOL_SOCKET``);
the bindings translate them to ustack's FreeBSD values for C
(:mod:`ustack.constants`).  A blocking call polls every stack of the
socket's :class:`World` (stacks on one virtual clock or joined by pipes); on
a virtual clock a call that nothing can end raises :class:`Deadlock`;
non-blocking sockets (``setblocking(False)``) never poll.  The guide is
docs/python.md.
"""

from __future__ import annotations

import importlib as _importlib
from typing import Any as _Any

from ustack import constants as _constants

# ``ustack.selectors`` (UstackSelector) is loaded by ``import ustack``; the
# name shadows the stdlib's only inside the package (imports are absolute).
from ustack import selectors as selectors
from ustack._native import ffi, lib
from ustack.clock import VirtualClock, monotonic_ns
from ustack.constants import *  # noqa: F403 - the socket module's names, listed in its __all__
from ustack.drivers import DriverEnd, driver_modules
from ustack.errors import Error, check, error_class
from ustack.events import EV_ERR, EV_HUP, EV_IN, EV_OUT, EV_RDHUP, EventQueue, event_names
from ustack.group import StackGroup, rss_default_key, rss_hash_v4, rss_hash_v6, rss_queue
from ustack.inet import Address6, ArpEntry, Nd6Entry, Route
from ustack.netstat import SysctlInfo, format_netstat, sysctl_info
from ustack.sockets import (
    TCPI_OPT_ECN,
    TCPI_OPT_SACK,
    TCPI_OPT_TIMESTAMPS,
    TCPI_OPT_WSCALE,
    TCPS_CLOSE_WAIT,
    TCPS_CLOSED,
    TCPS_CLOSING,
    TCPS_ESTABLISHED,
    TCPS_FIN_WAIT_1,
    TCPS_FIN_WAIT_2,
    TCPS_LAST_ACK,
    TCPS_LISTEN,
    TCPS_SYN_RECEIVED,
    TCPS_SYN_SENT,
    TCPS_TIME_WAIT,
    AddressFamily,
    Socket,
    SocketIO,
    SocketKind,
    TCPInfo,
)
from ustack.stack import (
    CAPTURE_IN,
    CAPTURE_OUT,
    Capture,
    Interface,
    Stack,
    TcpConnection,
    run_for,
    run_until,
)
from ustack.world import Deadlock, World

__version__ = "0.1.0"

__all__ = [
    "CAPTURE_IN",
    "CAPTURE_OUT",
    "EV_ERR",
    "EV_HUP",
    "EV_IN",
    "EV_OUT",
    "EV_RDHUP",
    "TCPS_CLOSED",
    "TCPS_LISTEN",
    "TCPS_SYN_SENT",
    "TCPS_SYN_RECEIVED",
    "TCPS_ESTABLISHED",
    "TCPS_CLOSE_WAIT",
    "TCPS_FIN_WAIT_1",
    "TCPS_CLOSING",
    "TCPS_LAST_ACK",
    "TCPS_FIN_WAIT_2",
    "TCPS_TIME_WAIT",
    "TCPI_OPT_TIMESTAMPS",
    "TCPI_OPT_SACK",
    "TCPI_OPT_WSCALE",
    "TCPI_OPT_ECN",
    "TCPInfo",
    "Address6",
    "AddressFamily",
    "ArpEntry",
    "Capture",
    "TcpConnection",
    "DriverEnd",
    "Error",
    "EventQueue",
    "Interface",
    "Nd6Entry",
    "Route",
    "Socket",
    "SocketIO",
    "SocketKind",
    "Deadlock",
    "Stack",
    "StackGroup",
    "SysctlInfo",
    "VirtualClock",
    "World",
    "c_version",
    "check",
    "error_class",
    "event_names",
    "ffi",
    "format_netstat",
    "lib",
    "monotonic_ns",
    "run_for",
    "run_until",
    "rss_default_key",
    "rss_hash_v4",
    "rss_hash_v6",
    "rss_queue",
    "sysctl_info",
]
__all__ += _constants.__all__
__all__ += [
    "UST_HAS_TCP_SACK",
    "UST_HAS_TCP_RFC1323",
    "UST_HAS_CC_CUBIC",
    "UST_HAS_TCP_SYNCACHE",
    "UST_HAS_TCP_ECN",
    "UST_HAS_TCP_TFO",
    "UST_HAS_TCP_TUNNEL",
    "UST_HAS_TCP_TSO",
    "UST_HAS_IP_REASS",
    "UST_HAS_ICMP_ERRORS",
    "UST_HAS_ICMP_CTLINPUT",
    "UST_HAS_IP_LOOPBACK",
    "UST_HAS_RAW_IP",
    "UST_HAS_INET6",
    "UST_HAS_EVQ",
    "UST_HAS_TCP_AUTOBUF",
    "UST_HAS_TCP_RACK",
    "UST_HAS_SYSCTL_NAMES",
    "UST_HAS_STRERROR",
    "UST_HAS_STATS",
    "UST_HAS_LOG",
]

# Compile-time features of the C library (ustack_opts.h, docs/footprint.md):
# True where compiled in; a test of a feature skips with the reason otherwise.
UST_HAS_TCP_SACK: bool = bool(lib.UST_TCP_SACK)
UST_HAS_TCP_RFC1323: bool = bool(lib.UST_TCP_RFC1323)
UST_HAS_CC_CUBIC: bool = bool(lib.UST_CC_CUBIC)
UST_HAS_TCP_SYNCACHE: bool = bool(lib.UST_TCP_SYNCACHE)
UST_HAS_TCP_ECN: bool = bool(lib.UST_TCP_ECN)
UST_HAS_TCP_TFO: bool = bool(lib.UST_TCP_TFO)
UST_HAS_TCP_TSO: bool = bool(lib.UST_TCP_TSO)
UST_HAS_TCP_TUNNEL: bool = bool(lib.UST_TCP_TUNNEL)
UST_HAS_IP_REASS: bool = bool(lib.UST_IP_REASS)
UST_HAS_ICMP_ERRORS: bool = bool(lib.UST_ICMP_ERRORS)
UST_HAS_ICMP_CTLINPUT: bool = bool(lib.UST_ICMP_CTLINPUT)
UST_HAS_IP_LOOPBACK: bool = bool(lib.UST_IP_LOOPBACK)
UST_HAS_RAW_IP: bool = bool(lib.UST_RAW_IP)
UST_HAS_INET6: bool = bool(lib.UST_INET6)
UST_HAS_EVQ: bool = bool(lib.UST_EVQ)
UST_HAS_TCP_AUTOBUF: bool = bool(lib.UST_TCP_AUTOBUF)
UST_HAS_TCP_RACK: bool = bool(lib.UST_TCP_RACK)
UST_HAS_SYSCTL_NAMES: bool = bool(lib.UST_SYSCTL_NAMES)
UST_HAS_STRERROR: bool = bool(lib.UST_STRERROR)
UST_HAS_STATS: bool = bool(lib.UST_STATS)
UST_HAS_LOG: bool = bool(lib.UST_LOG)


def c_version() -> str:
    """Version string of the C library (``ust_version()``)."""
    return str(ffi.string(lib.ust_version()).decode())


# Each driver module's USTACK_EXPORTS become ustack.<name> (ustack.Pipe,
# ustack.Tap, ustack.Fault, ...): a new driver needs no line here.
for _name in driver_modules(__path__):  # noqa: F405 - the package path, not a star name
    _mod = _importlib.import_module(f"ustack.{_name}")
    for _export in getattr(_mod, "USTACK_EXPORTS", ()):
        globals()[_export] = getattr(_mod, _export)
        __all__.append(_export)


def __getattr__(name: str) -> _Any:
    """Driver exports are set above at import; this only tells type checkers
    that ``ustack.Pipe`` and the like exist (they cannot see them)."""
    raise AttributeError(f"module 'ustack' has no attribute {name!r}")
