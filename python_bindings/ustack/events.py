"""Readiness events: an epoll-like queue of sockets (``ust_evq``).

Shaped like :class:`select.epoll`::

    q = ustack.EventQueue(stack)
    q.register(sock, ustack.EV_IN)           # data= defaults to the socket
    for obj, events in q.poll(timeout=1.0):  # runs the world until ready
        ...

Events are level-triggered: a readable socket is reported by every poll
until it has been drained.  ``EV_ERR`` and ``EV_HUP`` are always reported.
A closed socket leaves every queue by itself.

The stacks of a :class:`~ustack.group.StackGroup` share queues:
``EventQueue(group)`` (or ``group.event_queue()``) watches sockets of all
of them (``ust_group_evq_create``), and on a threaded group ``EventQueue(stack)``
is such a queue limited to that stack's sockets.  Their ``poll`` sleeps in
``ust_evq_wait`` until a stack's thread reports readiness (the stacks are
not polled by the caller), and any Python thread may use them.
"""

from __future__ import annotations

import itertools
import time
from typing import TYPE_CHECKING, Any

from ustack._native import ffi, lib
from ustack._stacklock import defer
from ustack.errors import check, error_from_code
from ustack.sockets import Socket

if TYPE_CHECKING:
    from ustack.group import StackGroup
    from ustack.stack import Stack

__all__ = ["EventQueue", "EV_IN", "EV_OUT", "EV_ERR", "EV_HUP", "EV_RDHUP", "event_names"]

EV_IN = int(lib.UST_EV_IN)
EV_OUT = int(lib.UST_EV_OUT)
EV_ERR = int(lib.UST_EV_ERR)
EV_HUP = int(lib.UST_EV_HUP)
EV_RDHUP = int(lib.UST_EV_RDHUP)

_EV_NAMES = (
    (EV_IN, "IN"),
    (EV_OUT, "OUT"),
    (EV_ERR, "ERR"),
    (EV_HUP, "HUP"),
    (EV_RDHUP, "RDHUP"),
)
_EBADF = int(lib.UST_EBADF)
_EEXIST = int(lib.UST_EEXIST)
_ENOENT = int(lib.UST_ENOENT)
_EINVAL = int(lib.UST_EINVAL)
# A threaded group's queue sleeps in ust_evq_wait this long at a time at most.
_WAIT_SLICE_NS = 100_000_000


def event_names(events: int) -> str:
    """``EV_IN | EV_OUT`` as ``'IN|OUT'``."""
    names = [name for bit, name in _EV_NAMES if events & bit]
    rest = events & ~sum(bit for bit, _ in _EV_NAMES)
    if rest:
        names.append(hex(rest))
    return "|".join(names) or "0"


class _Reg:
    __slots__ = ("key", "sock", "events", "data")

    def __init__(self, key: int, sock: Socket, events: int, data: Any) -> None:
        self.key = key
        self.sock = sock
        self.events = events
        self.data = data


class EventQueue:
    """An event queue of one stack, or of a group's stacks (see the module
    documentation)."""

    def __init__(self, stack: Stack | StackGroup) -> None:
        from ustack.group import StackGroup

        self._q: Any = None
        self._destroy = lib.ust_evq_destroy
        self._group: StackGroup | None = None
        out = ffi.new("struct ust_evq **")
        if isinstance(stack, StackGroup):
            self._group = stack
            self._stack = stack.stacks[0]
            self._members: tuple[Stack, ...] = tuple(stack.stacks)
        elif stack.threaded:
            self._group = stack.group
            if self._group is None:
                raise ValueError("the StackGroup of this stack is gone: keep it while in use")
            self._stack = stack
            self._members = (stack,)
        else:
            self._stack = stack
            self._members = (stack,)
        if self._group is not None:
            check(lib.ust_group_evq_create(self._group._ptr(), out), "event queue")
        else:
            check(lib.ust_evq_create(stack._ptr(), out), "event queue")
        self._q = out[0]
        self._keys = itertools.count(1)
        self._by_key: dict[int, _Reg] = {}
        self._by_sock: dict[int, _Reg] = {}  # id(sock) -> registration
        self._evs: Any = None
        if self._group is not None:
            self._group._evqs.add(self)
        else:
            self._stack._evqs.add(self)

    @property
    def stack(self) -> Stack:
        """The stack whose sockets this queue watches (of a group's queue:
        its first stack)."""
        return self._stack

    @property
    def group(self) -> StackGroup | None:
        """The group of a queue made over a group's stacks (else None)."""
        return self._group

    def _threaded(self) -> bool:
        return self._group is not None and self._group.threads

    def _using(self) -> Any:
        """The context of calls on the queue: a one-stack queue's stack's;
        a group's queue takes each stack's lock itself (a threaded group's
        counts the call, so that closing the group waits for it)."""
        if self._group is None:
            return self._stack._using()
        if self._group.threads:
            return self._group._calling()
        return self._stack.world.using()

    @property
    def closed(self) -> bool:
        """True once :meth:`close` ran (or the stack was closed)."""
        return self._q is None

    def _ptr(self) -> Any:
        if self._q is None:
            raise ValueError("I/O operation on closed event queue")
        return self._q

    def __len__(self) -> int:
        return len(self._by_key)

    def __contains__(self, sock: object) -> bool:
        return id(sock) in self._by_sock and self._by_sock[id(sock)].sock is sock

    # --- interest -----------------------------------------------------------

    def _sock_ptr(self, sock: Socket) -> Any:
        if not isinstance(sock, Socket):
            raise TypeError(f"an EventQueue watches ustack sockets, not {type(sock).__name__}")
        if sock.stack is not self._stack and not any(sock.stack is m for m in self._members):
            raise ValueError("the socket belongs to another stack than the event queue")
        return sock._ptr()

    def register(self, sock: Socket, events: int = EV_IN | EV_OUT, data: Any = None) -> None:
        """Watch ``sock`` for ``events``; ``poll`` reports ``data`` (default: the
        socket).  FileExistsError if it is registered already."""
        q = self._ptr()
        so = self._sock_ptr(sock)
        if sock in self:
            raise error_from_code(_EEXIST, "socket already registered")
        key = next(self._keys)
        with self._using():
            check(lib.ust_evq_ctl(q, int(lib.UST_EVQ_ADD), so, events, ffi.cast("void *", key)))
        reg = _Reg(key, sock, events, data)
        self._by_key[key] = reg
        self._by_sock[id(sock)] = reg
        sock._evqs.add(self)

    def modify(self, sock: Socket, events: int, data: Any = ...) -> None:
        """Change the events (and, if given, the data) of a registered socket;
        FileNotFoundError if it is not registered."""
        q = self._ptr()
        so = self._sock_ptr(sock)
        reg = self._by_sock.get(id(sock))
        if reg is None or reg.sock is not sock:
            raise error_from_code(_ENOENT, "socket not registered")
        with self._using():
            check(lib.ust_evq_ctl(q, int(lib.UST_EVQ_MOD), so, events, ffi.cast("void *", reg.key)))
        reg.events = events
        if data is not ...:
            reg.data = data

    def unregister(self, sock: Socket) -> None:
        """Stop watching ``sock``; FileNotFoundError if it is not registered."""
        q = self._ptr()
        reg = self._by_sock.get(id(sock))
        if reg is None or reg.sock is not sock:
            raise error_from_code(_ENOENT, "socket not registered")
        if not sock.closed:
            with self._using():
                check(lib.ust_evq_ctl(q, int(lib.UST_EVQ_DEL), sock._ptr(), 0, ffi.NULL))
        self._forget(sock)
        sock._evqs.discard(self)

    def _forget(self, sock: Socket) -> None:
        reg = self._by_sock.pop(id(sock), None)
        if reg is not None:
            self._by_key.pop(reg.key, None)

    def registered(self) -> dict[Socket, int]:
        """The watched sockets and their events."""
        return {reg.sock: reg.events for reg in self._by_key.values()}

    # --- waiting ------------------------------------------------------------

    def _collect(self, max_events: int) -> list[tuple[Any, int]]:
        q = self._ptr()
        if self._evs is None or len(self._evs) < max_events:
            self._evs = ffi.new("struct ust_event[]", max(max_events, 16))
        n = check(lib.ust_evq_poll(q, self._evs, max_events))
        return self._events(n)

    def _events(self, n: int) -> list[tuple[Any, int]]:
        out: list[tuple[Any, int]] = []
        for i in range(n):
            ev = self._evs[i]
            reg = self._by_key.get(int(ffi.cast("uintptr_t", ev.udata)))
            if reg is None:
                continue  # unregistered meanwhile
            out.append((reg.sock if reg.data is None else reg.data, int(ev.events)))
        return out

    def ready(self, maxevents: int = -1) -> list[tuple[Any, int]]:
        """What is ready now, without running any stack (``ust_evq_poll``):
        for a loop that drives several stacks itself, e.g. as the predicate
        of :func:`ustack.run_until`."""
        self._ptr()
        if maxevents == 0 or maxevents < -1:
            raise error_from_code(_EINVAL, "maxevents must be -1 or > 0")
        with self._using():
            return self._collect(maxevents if maxevents > 0 else max(len(self._by_key), 1))

    def poll(self, timeout: float | None = None, maxevents: int = -1) -> list[tuple[Any, int]]:
        """Ready sockets as ``[(data or socket, events), ...]``.

        ``timeout`` in seconds of the stack clock, as :meth:`select.epoll.poll`:
        None or negative waits, running every stack of the world, until
        something is ready; 0 polls the world once and returns what is ready;
        a positive value waits at most that long.  Returns ``[]`` on timeout;
        on a virtual clock a wait without timeout that nothing can end raises
        :class:`~ustack.world.Deadlock`.
        """
        return self._poll(timeout, maxevents, "EventQueue.poll()")

    def _poll(self, timeout: float | None, maxevents: int, call: str) -> list[tuple[Any, int]]:
        self._ptr()
        if maxevents == 0 or maxevents < -1:
            raise error_from_code(_EINVAL, "maxevents must be -1 or > 0")
        max_events = maxevents if maxevents > 0 else max(len(self._by_key), 1)
        if self._threaded():
            return self._thread_poll(timeout, max_events)
        world = self._stack.world
        with world.using():
            ready = self._collect(max_events)
        if ready:
            return ready
        if timeout is not None and timeout == 0:
            world.poll()
            with world.using():
                return self._collect(max_events)
        timeout_ns = None if timeout is None or timeout < 0 else int(timeout * 1e9)

        def got() -> bool:
            ready.extend(self._collect(max_events))
            return bool(ready)

        world.wait(got, timeout_ns, call)
        return ready

    def _thread_poll(self, timeout: float | None, max_events: int) -> list[tuple[Any, int]]:
        """A threaded group's queue: sleep in ust_evq_wait (no lock held;
        the stacks' threads wake it), in slices so that a close of the
        group or the queue is noticed."""
        end = None if timeout is None or timeout < 0 else time.monotonic_ns() + int(timeout * 1e9)
        while True:
            left = _WAIT_SLICE_NS if end is None else max(0, end - time.monotonic_ns())
            with self._using():
                q = self._ptr()
                if self._evs is None or len(self._evs) < max_events:
                    self._evs = ffi.new("struct ust_event[]", max(max_events, 16))
                n = check(lib.ust_evq_wait(q, self._evs, max_events, min(left, _WAIT_SLICE_NS)))
                if n:
                    return self._events(n)
            if end is not None and time.monotonic_ns() >= end:
                return []

    # --- lifetime -----------------------------------------------------------

    def close(self) -> None:
        """Remove every registration and free the queue.  Idempotent."""
        q, self._q = self._q, None
        if q is None:
            return
        for reg in self._by_key.values():
            reg.sock._evqs.discard(self)
        self._by_key.clear()
        self._by_sock.clear()
        if self._group is not None:
            self._group._evqs.discard(self)
        else:
            self._stack._evqs.discard(self)
        self._destroy(q)

    def __enter__(self) -> EventQueue:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            if self._q is not None and not self._stack.closed:
                if self._group is None or not defer(self.close):
                    self.close()
        except Exception:  # never raise from a finalizer
            pass

    def __repr__(self) -> str:
        state = "closed" if self._q is None else f"{len(self._by_key)} sockets"
        return f"<ustack.EventQueue {state}>"
