"""Calls into the stacks of a threaded group from any Python thread.

A stack whose poll loop runs on a thread of its own (``StackGroup(...,
threads=True)``) is reached from Python threads through its lock
(``ust_stack_lock``/``ust_stack_unlock``): :class:`StackLock` is the context
manager every call into such a stack is made in.  It nests on one thread
(a socket method that makes a socket makes C calls inside C calls), and it
is not taken inside a callback the stack itself runs (an upcall, an input
or capture hook on the stack's thread, which holds the lock already).

Deadlocks it avoids:

* the GIL and a stack lock: cffi releases the GIL around every C call, so a
  thread waiting in ``ust_stack_lock`` never holds the GIL, and the stack's
  thread can take the GIL in a callback while it holds its lock;
* a Python lock and a stack lock: no Python lock is held while waiting for
  a stack lock (the group's call counter is a lock held for an increment
  only);
* a finalizer (``Socket.__del__``) run by the garbage collector on a
  thread that already holds a stack lock, or on a stack's own thread in a
  callback: the close is deferred (:func:`defer`) to the next call that
  leaves every lock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from ustack._native import lib
from ustack.errors import error_from_code

__all__ = [
    "StackLock",
    "SocketCalls",
    "CallbackScope",
    "in_callback",
    "defer",
    "run_deferred",
    "Fence",
]

_TLS = threading.local()
# Work deferred by finalizers (closes), run by the next call that holds no lock.
_DEFERRED: list[Callable[[], None]] = []
_DEFERRED_LOCK = threading.Lock()


def _held() -> int:
    """Stack locks held by this thread (nesting counted once per stack)."""
    return int(getattr(_TLS, "held", 0))


def in_callback() -> Any:
    """Inside a callback a stack runs on its own thread: that stack's
    ``struct ust_stack *`` (True when unknown), else None."""
    return getattr(_TLS, "cb", None)


class CallbackScope:
    """``with CallbackScope(st):`` around the Python body of a C callback
    (``st``: the stack running it, None when unknown)."""

    __slots__ = ("st", "old")

    def __init__(self, st: Any) -> None:
        self.st = st if st is not None else True
        self.old: Any = None

    def __enter__(self) -> None:
        self.old = getattr(_TLS, "cb", None)
        _TLS.cb = self.st

    def __exit__(self, *exc: object) -> None:
        _TLS.cb = self.old


def defer(fn: Callable[[], None]) -> bool:
    """From a finalizer: True when ``fn`` was queued because this thread may
    not take a stack lock now (it holds one, or runs inside a stack's
    callback); False when the caller should run it at once."""
    if _held() == 0 and in_callback() is None:
        return False
    with _DEFERRED_LOCK:
        _DEFERRED.append(fn)
    return True


def run_deferred() -> None:
    """Run what finalizers deferred (from a thread that holds no lock)."""
    if not _DEFERRED or _held() or in_callback() is not None:
        return
    with _DEFERRED_LOCK:
        work = list(_DEFERRED)
        _DEFERRED.clear()
    for fn in work:
        try:
            fn()
        except Exception:  # a finalizer's work: never raise
            pass


class Fence:
    """Counts calls in progress on a group's stacks so that closing the
    group waits for them (and refuses new ones) before the C stacks go."""

    __slots__ = ("_cond", "_calls", "closed")

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._calls = 0
        self.closed = False

    def enter(self) -> None:
        with self._cond:
            if self.closed:
                raise error_from_code(int(lib.UST_EBADF), "the stack group is closed")
            self._calls += 1

    def leave(self) -> None:
        with self._cond:
            self._calls -= 1
            if self._calls == 0:
                self._cond.notify_all()

    def close(self, timeout: float = 5.0) -> None:
        """Refuse new calls and wait (at most ``timeout`` s) for those in progress."""
        with self._cond:
            self.closed = True
            self._cond.wait_for(lambda: self._calls == 0, timeout)


class SocketCalls:
    """``with lock.socket_calls:`` around socket calls on a threaded stack.

    C's socket calls take a threaded stack's lock themselves, for the call
    only, when the calling thread does not hold it (docs/multicore.md).  So
    a socket operation does not hold the stack lock across Python code: a
    thread that held it while waiting for the GIL would stop the stack's
    thread for a GIL switch interval (milliseconds), and the peer would
    retransmit.  Only the group's fence is entered (closing the group waits
    for the call)."""

    __slots__ = ("fence",)

    def __init__(self, fence: Fence) -> None:
        self.fence = fence

    def __enter__(self) -> None:
        self.fence.enter()

    def __exit__(self, *exc: object) -> None:
        self.fence.leave()
        if _DEFERRED:
            run_deferred()


class StackLock:
    """The lock of one stack of a threaded group, as a reentrant context
    manager (see the module documentation)."""

    __slots__ = ("st", "fence", "_tls", "socket_calls")

    def __init__(self, st: Any, fence: Fence) -> None:
        self.st = st
        self.fence = fence
        self._tls = threading.local()
        self.socket_calls = SocketCalls(fence)

    def __enter__(self) -> None:
        tls = self._tls
        depth = getattr(tls, "depth", 0)
        if depth == 0:
            self.fence.enter()
            cb = in_callback()
            # The stack's own thread, in a callback, holds the lock already.
            own = cb is not None and cb is not True and cb == self.st
            if not own:
                lib.ust_stack_lock(self.st)  # GIL released meanwhile (cffi)
                _TLS.held = _held() + 1
            tls.locked = not own
        tls.depth = depth + 1

    def __exit__(self, *exc: object) -> None:
        tls = self._tls
        tls.depth -= 1
        if tls.depth == 0:
            if tls.locked:
                _TLS.held = _held() - 1
                lib.ust_stack_unlock(self.st)
            self.fence.leave()
            if _DEFERRED:
                run_deferred()

    @property
    def held(self) -> bool:
        """True when this thread is inside the lock."""
        return getattr(self._tls, "depth", 0) > 0

    def release_all(self) -> int:
        """Leave the lock entirely (for a wait); returns the depth to give
        back to :meth:`reacquire`."""
        tls = self._tls
        depth = getattr(tls, "depth", 0)
        if depth:
            tls.depth = 1
            self.__exit__()
        return int(depth)

    def reacquire(self, depth: int) -> None:
        if depth:
            self.__enter__()
            self._tls.depth = depth
