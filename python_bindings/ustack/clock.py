"""Clocks: a stack reads time only from its clock.

:class:`VirtualClock` wraps ``ust_vclock``: time moves only when told, so a
two-minute TIME_WAIT runs in microseconds and a seeded run replays exactly.
One virtual clock is shared by every stack and pipe of a simulation.
``None`` where a clock is expected means the OSAL monotonic clock.
"""

from __future__ import annotations

from typing import Any

from ustack._native import ffi, lib

__all__ = ["VirtualClock", "monotonic_ns"]


def monotonic_ns() -> int:
    """The OSAL monotonic clock, in nanoseconds from an arbitrary origin."""
    return int(lib.ust_osal_clock_ns())


class VirtualClock:
    """A clock that moves only when the program says so (``ust_vclock``)."""

    def __init__(self, start_ns: int = 0) -> None:
        if start_ns < 0:
            raise ValueError(f"start_ns must be >= 0, not {start_ns}")
        ptr = lib.ust_vclock_create(start_ns)
        if ptr == ffi.NULL:
            raise MemoryError("ust_vclock_create failed")
        # Freed when the cdata is deallocated, which is after the finalizers
        # of any stack or pipe that referenced it (even inside a GC cycle).
        self._vc: Any = ffi.gc(ptr, lib.ust_vclock_destroy)

    @property
    def now(self) -> int:
        """Current time in nanoseconds."""
        return int(lib.ust_vclock_now(self._vc))

    def advance(self, ns: int) -> int:
        """Move time forward by ``ns`` nanoseconds; returns the new time."""
        if ns < 0:
            raise ValueError(f"time never moves back: advance({ns})")
        lib.ust_vclock_advance(self._vc, ns)
        return self.now

    def set(self, ns: int) -> int:
        """Move time forward to ``ns``; an earlier value is ignored.  Returns now."""
        if ns < 0:
            raise ValueError(f"time must be >= 0, not {ns}")
        lib.ust_vclock_set(self._vc, ns)
        return self.now

    def _c_clock(self) -> Any:
        """The ``struct ust_clock`` value to put in a C config."""
        return lib.ust_vclock_clock(self._vc)

    def __repr__(self) -> str:
        return f"VirtualClock(now={self.now})"
