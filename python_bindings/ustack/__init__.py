"""ustack: a portable user-space TCP/IP stack with FreeBSD's architecture.

The Python API follows the standard :mod:`socket` module's vocabulary and
raises the same built-in exceptions (``ConnectionResetError``,
``BlockingIOError``, ...), each also a :class:`ustack.Error`.

Main objects: :class:`Stack` (one network node), :class:`Pipe` (two Ethernet
endpoints with seeded fault injection), :class:`VirtualClock` (time that moves
only when told), :class:`Interface` and :class:`Capture` (pcap files).
"""

from __future__ import annotations

from ustack._native import ffi, lib
from ustack.clock import VirtualClock, monotonic_ns
from ustack.drivers import DriverEnd
from ustack.errors import Error, check, error_class
from ustack.pipe import Direction, Faults, Pipe, PipeEnd
from ustack.stack import CAPTURE_IN, CAPTURE_OUT, Capture, Interface, Stack, run_for, run_until

__version__ = "0.1.0"

__all__ = [
    "CAPTURE_IN",
    "CAPTURE_OUT",
    "Capture",
    "Direction",
    "DriverEnd",
    "Error",
    "Faults",
    "Interface",
    "Pipe",
    "PipeEnd",
    "Stack",
    "VirtualClock",
    "c_version",
    "check",
    "error_class",
    "ffi",
    "lib",
    "monotonic_ns",
    "run_for",
    "run_until",
]


def c_version() -> str:
    """Version string of the C library (``ust_version()``)."""
    return str(ffi.string(lib.ust_version()).decode())
