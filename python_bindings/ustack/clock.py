"""Clocks: a stack reads time only from its clock.

:class:`VirtualClock` wraps ``ust_vclock``: time moves only when told, so a
two-minute TIME_WAIT runs in microseconds and a seeded run replays exactly.
One virtual clock is shared by every stack and pipe of a simulation.
``None`` where a clock is expected means the OSAL monotonic clock.
"""

from __future__ import annotations

import gc
import threading
from typing import Any

from ustack._native import ffi, lib

__all__ = ["VirtualClock", "monotonic_ns"]

# The C clocks of VirtualClock objects that went away inside a garbage
# collection, freed when it ends (see VirtualClock.__del__).
_DOOMED: list[Any] = []
_DOOMED_LOCK = threading.Lock()
_collecting = 0  # garbage collections in progress (gc.callbacks)


def _gc_phase(phase: str, info: dict[str, int]) -> None:
    global _collecting
    if phase == "start":
        _collecting += 1
        return
    _collecting = max(0, _collecting - 1)
    if _DOOMED and _collecting == 0:
        with _DOOMED_LOCK:
            doomed = list(_DOOMED)
            _DOOMED.clear()
        for vc in doomed:
            lib.ust_vclock_destroy(vc)


gc.callbacks.append(_gc_phase)


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
        # Freed by __del__, never by an ffi.gc destructor: inside a garbage
        # cycle those run in any order with the finalizers of the stacks
        # using the clock, and a stack destroyed after its clock read freed
        # memory (closing a TCP connection reads the time).  See __del__.
        self._vc: Any = ptr

    def __del__(self) -> None:
        # Outside a collection every stack using the clock is gone already
        # (each holds a reference to it).  Inside one, stacks of the same
        # garbage may still be finalized after this: the C clock is freed
        # when the collection ends (_gc_phase).
        vc, self._vc = getattr(self, "_vc", None), None
        if vc is None:
            return
        try:
            if _collecting:
                with _DOOMED_LOCK:
                    _DOOMED.append(vc)
            else:
                lib.ust_vclock_destroy(vc)
        except Exception:  # interpreter shutdown: the module may be gone
            pass

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
