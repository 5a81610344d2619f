"""A :class:`selectors.BaseSelector` over ustack sockets and host files together.

::

    sel = UstackSelector()
    sel.register(sock, selectors.EVENT_READ, data=handler)   # a ustack Socket
    sel.register(sock.fileno(), selectors.EVENT_WRITE)        # ... or its fileno
    sel.register(host_socket, selectors.EVENT_READ)           # a host file object
    for key, mask in sel.select(timeout=1.0):
        key.data(key.fileobj, mask)

One selector watches any mix of ustack sockets -- of any stacks, in any
:class:`~ustack.world.World`, on any clocks -- and host file objects or file
descriptors.  A ustack socket may be given as the object or as its
``fileno()`` (mapped back by :func:`ustack.sockets.socket_from_fd`);
``SelectorKey.fd`` is always that fileno.  Host files are delegated to a
:class:`selectors.DefaultSelector`.

``select(timeout)``:

1. polls every world of the registered ustack sockets until it is idle, and
   reports the ready ustack sockets (from one :class:`~ustack.events.EventQueue`
   per stack; errors and hang-ups count as both readable and writable, as
   :class:`selectors.EpollSelector` does), then the ready host files (a look
   that does not block);
2. if nothing is ready, waits.  On a virtual clock time *jumps* to the
   earliest of the stacks' next deadline and ``now + timeout``, never past
   it, and the selector polls again -- so the wait costs no wall time.  On
   the real clock it sleeps in the host selector until the next deadline of
   the stacks (at most 1 ms while a stack has a driver whose frames arrive
   from outside the process without a file descriptor to wake on).

``timeout`` is in seconds of the selector's clock: the ``clock`` given to
the constructor, else that of the ``stack`` given, else the clock all the
registered ustack sockets share (the real clock when they are on several
clocks or there are none).  A world on another virtual clock than the
selector's moves to its own next deadline whenever the selector would wait.

On a virtual clock ``select(None)`` that nothing can end -- no host file
that could wake it is registered, and nothing is pending in any stack (or
the stacks only repeat idle timers, see :mod:`ustack.world`) -- raises
:class:`~ustack.world.Deadlock` naming ``select()``: with host sockets the
program would hang.

Registering a ustack socket calls ``world.add_driver()`` (and unregistering
the last one of a world ``remove_driver()``), so that ustack's background
poller leaves the world to this selector.  Sockets of a threaded stack
(:class:`~ustack.group.StackGroup` with threads) are watched through their
fileno in the host selector: their own threads poll them.
"""

from __future__ import annotations

import math
import selectors
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from ustack._native import lib
from ustack.clock import monotonic_ns
from ustack.events import EV_ERR, EV_HUP, EV_IN, EV_OUT, EventQueue
from ustack.sockets import Socket, socket_from_fd
from ustack.world import Deadlock, World, _snapshot, polling

if TYPE_CHECKING:
    from ustack.clock import VirtualClock
    from ustack.stack import Stack

__all__ = ["UstackSelector", "EVENT_READ", "EVENT_WRITE"]

EVENT_READ = selectors.EVENT_READ
EVENT_WRITE = selectors.EVENT_WRITE

_REAL_PAUSE_S = 0.001  # longest sleep while frames may come from a driver without fd
_THREADS_PAUSE_S = 0.01  # longest sleep on the real clock while other threads live
_MAX_ROUNDS = 100_000  # polls of one world in one select() before it is a livelock
# Repeats (module ustack.world) are looked for at clock jumps of at least this
# much, and at every _REPEAT_EVERY-th idle moment whatever the jump.
_REPEAT_MIN_JUMP_NS = 500_000_000
_REPEAT_EVERY = 256
_UNSET: Any = object()


def _fd_of(fileobj: Any) -> int:
    """The file descriptor of ``fileobj`` (an int, or an object with fileno())."""
    if isinstance(fileobj, int):
        fd = fileobj
    else:
        try:
            fd = int(fileobj.fileno())
        except (AttributeError, TypeError, ValueError):
            raise ValueError(f"Invalid file object: {fileobj!r}") from None
    if fd < 0:
        raise ValueError(f"Invalid file descriptor: {fd}")
    return fd


class _Entry:
    """A registered ustack socket."""

    __slots__ = ("sock", "world", "evq")

    def __init__(self, sock: Socket, world: World | None, evq: EventQueue | None) -> None:
        self.sock = sock
        self.world = world  # the world add_driver() was called on (None: threaded stack)
        self.evq = evq  # None: watched through its fileno in the host selector


class _Map(Mapping[Any, selectors.SelectorKey]):
    """``get_map()``: file objects (or fds) -> keys, as the stdlib's."""

    def __init__(self, selector: UstackSelector) -> None:
        self._selector = selector

    def __len__(self) -> int:
        return len(self._selector._keys)

    def __getitem__(self, fileobj: Any) -> selectors.SelectorKey:
        fd = self._selector._lookup(fileobj)
        if fd is None:
            raise KeyError(f"{fileobj!r} is not registered")
        return self._selector._keys[fd]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._selector._keys)


class UstackSelector(selectors.BaseSelector):
    """A selector over ustack sockets and host files (see the module doc).

    ``stack`` (optional) and ``clock`` (a :class:`~ustack.clock.VirtualClock`,
    or None for the real clock) fix the clock ``select()``'s timeout is
    measured on; by default it is the clock of the registered ustack sockets.
    """

    def __init__(self, stack: Stack | None = None, *, clock: VirtualClock | None = _UNSET) -> None:
        if clock is _UNSET:
            self._clock_fixed = stack is not None
            self._clock: VirtualClock | None = stack.clock if stack is not None else None
        else:
            self._clock_fixed = True
            self._clock = clock
        self._host = selectors.DefaultSelector()
        self._keys: dict[int, selectors.SelectorKey] = {}
        self._ustack: dict[int, _Entry] = {}  # fd -> registered ustack socket
        self._evqs: dict[int, EventQueue] = {}  # id(stack) -> its queue
        self._drivers: dict[int, tuple[World, int]] = {}  # id(world) -> (world, sockets)
        self._driver_fds: set[int] = set()  # drivers' fds the real-clock wait sleeps on
        self._quiet: set[int] = set()  # host fds that do not count as wake-up sources
        self._may_wake: Callable[[], bool] | None = None
        self._map = _Map(self)
        self._closed = False
        self._clock_world: tuple[World] | None = None  # held: the world of the clock
        self._generation = 0  # bumped by every (un)registration
        self._worlds_cache: tuple[tuple[int, int], list[World]] | None = None

    # --- wake-up sources (for the asyncio loop) ---------------------------

    def _set_quiet(self, fd: int, quiet: bool = True) -> None:
        """A host fd (an event loop's self-pipe) whose registration does not
        make a virtual-clock wait without limit a wait that may end."""
        if quiet:
            self._quiet.add(fd)
        else:
            self._quiet.discard(fd)

    def _set_may_wake(self, fn: Callable[[], bool] | None) -> None:
        """``fn()`` True: something outside (an executor's thread) may still
        wake a wait, which is then no deadlock."""
        self._may_wake = fn

    # --- registration -----------------------------------------------------

    @staticmethod
    def _check_events(events: int) -> None:
        if not events or events & ~(EVENT_READ | EVENT_WRITE):
            raise ValueError(f"Invalid events: {events!r}")

    @staticmethod
    def _mask(events: int) -> int:
        mask = 0
        if events & EVENT_READ:
            mask |= EV_IN
        if events & EVENT_WRITE:
            mask |= EV_OUT
        return mask

    def _lookup(self, fileobj: Any) -> int | None:
        """The fd under which ``fileobj`` is registered, or None."""
        try:
            fd = _fd_of(fileobj)
        except ValueError:
            fd = -1
        if fd in self._keys:
            key = self._keys[fd]
            if (
                isinstance(fileobj, int)
                or key.fileobj is fileobj
                or fd not in self._ustack
                or self._ustack[fd].sock is fileobj
            ):
                return fd
        if isinstance(fileobj, int):
            return None
        # A closed file: its fileno() is gone, look for the object itself.
        for fd, key in self._keys.items():
            if key.fileobj is fileobj:
                return fd
        return None

    def _prune(self) -> None:
        """Forget ustack sockets closed behind the selector's back (their fd
        is closed, and a new socket may get its number)."""
        for fd in [fd for fd, e in self._ustack.items() if e.sock.closed]:
            self._drop(fd)
        for sid in [sid for sid, q in self._evqs.items() if q.closed]:
            del self._evqs[sid]

    def _drop(self, fd: int) -> selectors.SelectorKey:
        key = self._keys.pop(fd)
        self._generation += 1
        entry = self._ustack.pop(fd, None)
        if entry is None:
            try:
                self._host.unregister(fd)
            except (KeyError, ValueError, OSError):
                pass
            return key
        if entry.evq is not None and not entry.evq.closed and entry.sock in entry.evq:
            entry.evq.unregister(entry.sock)
        elif entry.evq is None:
            try:
                self._host.unregister(fd)
            except (KeyError, ValueError, OSError):
                pass
        if entry.world is not None:
            self._release_world(entry.world)
        return key

    def _hold_world(self, world: World) -> None:
        held = self._drivers.get(id(world))
        if held is None:
            world.add_driver()
            self._drivers[id(world)] = (world, 1)
        else:
            self._drivers[id(world)] = (world, held[1] + 1)

    def _release_world(self, world: World) -> None:
        w, n = self._drivers[id(world)]
        if n > 1:
            self._drivers[id(world)] = (w, n - 1)
        else:
            del self._drivers[id(world)]
            w.remove_driver()

    def _evq(self, stack: Stack) -> EventQueue:
        q = self._evqs.get(id(stack))
        if q is None or q.closed or q.stack is not stack:
            q = self._evqs[id(stack)] = EventQueue(stack)
        return q

    def register(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        """Watch a ustack socket (object or fileno) or a host file object/fd
        for ``EVENT_READ`` and/or ``EVENT_WRITE``.  KeyError if it is
        registered already, ValueError for bad events or a closed file."""
        if self._closed:
            raise RuntimeError("the selector is closed")
        self._check_events(events)
        sock = fileobj if isinstance(fileobj, Socket) else None
        fd = _fd_of(fileobj)
        if sock is None:
            sock = socket_from_fd(fd)
        old = self._ustack.get(fd)
        if old is not None and old.sock.closed:
            self._drop(fd)  # a closed socket's number, reused
        if fd in self._keys:
            raise KeyError(f"{fileobj!r} (FD {fd}) is already registered")
        key = selectors.SelectorKey(fileobj, fd, events, data)
        self._generation += 1
        if sock is None:
            self._host.register(fd, events)
            self._keys[fd] = key
            return key
        if sock.stack.threaded:
            self._host.register(fd, events)
            entry = _Entry(sock, None, None)
        else:
            world = sock.stack.world
            evq = self._evq(sock.stack)
            evq.register(sock, self._mask(events), fd)
            entry = _Entry(sock, world, evq)
            self._hold_world(world)
        self._ustack[fd] = entry
        self._keys[fd] = key
        return key

    def unregister(self, fileobj: Any) -> selectors.SelectorKey:
        """Stop watching (KeyError if not registered)."""
        fd = self._lookup(fileobj)
        if fd is None:
            raise KeyError(f"{fileobj!r} is not registered")
        return self._drop(fd)

    def modify(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        """Change the events and data of a registered file."""
        self._check_events(events)
        fd = self._lookup(fileobj)
        if fd is None:
            raise KeyError(f"{fileobj!r} is not registered")
        old = self._keys[fd]
        entry = self._ustack.get(fd)
        if entry is not None and entry.sock.closed:
            self._drop(fd)
            raise KeyError(f"{fileobj!r} is closed")
        key = selectors.SelectorKey(old.fileobj, fd, events, data)
        if events != old.events:
            if entry is not None and entry.evq is not None:
                entry.evq.modify(entry.sock, self._mask(events), fd)
            else:
                self._host.modify(fd, events)
        self._keys[fd] = key
        return key

    def get_key(self, fileobj: Any) -> selectors.SelectorKey:
        """The key of a registered file (KeyError if none)."""
        fd = self._lookup(fileobj)
        if fd is None:
            raise KeyError(f"{fileobj!r} is not registered")
        return self._keys[fd]

    def get_map(self) -> Mapping[Any, selectors.SelectorKey]:
        """Registered files -> their keys (read-only)."""
        return self._map

    def close(self) -> None:
        """Forget every file, release the worlds and close the host selector."""
        for fd in list(self._keys):
            self._drop(fd)
        self._release_clock_world()
        for q in self._evqs.values():
            q.close()
        self._evqs.clear()
        self._host.close()
        self._closed = True

    # --- selecting --------------------------------------------------------

    def _worlds(self) -> list[World]:
        clock_world = None
        if self._clock_fixed and self._clock is not None:
            clock_world = World.of(self._clock)
        tag = (self._generation, id(clock_world))
        if self._worlds_cache is not None and self._worlds_cache[0] == tag:
            # (Worlds merge when stacks join: resolve the cached ones again.)
            resolved = {id(w): w for w in (w._resolve() for w in self._worlds_cache[1])}
            return list(resolved.values())
        worlds = self._compute_worlds(clock_world)
        self._worlds_cache = (tag, worlds)
        return worlds

    def _compute_worlds(self, clock_world: World | None) -> list[World]:
        seen: dict[int, World] = {}
        if clock_world is not None:
            # The stacks of the selector's own virtual clock run whenever its
            # time moves, socket registered or not (their timers -- TIME_WAIT,
            # retransmissions -- must fire in order as time jumps).
            seen[id(clock_world)] = clock_world
            if self._clock_world is None or self._clock_world[0] is not clock_world:
                self._release_clock_world()
                self._hold_world(clock_world)
                self._clock_world = (clock_world,)
        for e in self._ustack.values():
            if e.evq is not None:
                w = e.sock.stack.world
                seen.setdefault(id(w), w)
        return list(seen.values())

    def _release_clock_world(self) -> None:
        if self._clock_world is not None:
            self._release_world(self._clock_world[0])
            self._clock_world = None

    def _timeout_clock(self, worlds: list[World]) -> VirtualClock | None:
        if self._clock_fixed:
            return self._clock
        clocks = {id(w.clock): w.clock for w in worlds}
        return next(iter(clocks.values())) if len(clocks) == 1 else None

    def _run_and_collect(self, worlds: list[World]) -> list[tuple[selectors.SelectorKey, int]]:
        """Poll every world until its stacks are idle and collect its ready
        sockets, under one hold of the world's lock; then the host files."""
        queues: dict[int, list[EventQueue]] = {}
        for q in self._evqs.values():
            if not q.closed:
                queues.setdefault(id(q.stack.world), []).append(q)
        out: list[tuple[selectors.SelectorKey, int]] = []
        for w in worlds:
            with w.using():
                stacks = [(st, st._ptr()) for st in w.stacks]
                for _ in range(_MAX_ROUNDS):
                    work = 0
                    with polling():  # as Stack.poll, for the whole round
                        for st, ptr in stacks:
                            work += int(lib.ust_stack_poll(ptr))
                            if st._errors:
                                st._raise_pending()
                    if not work:
                        break
                else:
                    raise RuntimeError(
                        f"select(): {w!r} still busy after {_MAX_ROUNDS} rounds of polls"
                    )
                for q in queues.get(id(w), ()):
                    self._collect(q, out)
        if len(self._host.get_map()) > len(self._driver_fds):
            out.extend(self._host_ready(0))
        return out

    def _collect(self, q: EventQueue, out: list[tuple[selectors.SelectorKey, int]]) -> None:
        """Append ``q``'s ready sockets as (key, events) (caller holds the lock)."""
        for fd, ev in q._collect(max(len(q), 1)):
            key = self._keys.get(fd)
            if key is None:
                continue
            mask = 0
            if ev & EV_IN:
                mask |= EVENT_READ
            if ev & EV_OUT:
                mask |= EVENT_WRITE
            if ev & (EV_ERR | EV_HUP):
                mask |= EVENT_READ | EVENT_WRITE
            mask &= key.events
            if mask:
                out.append((key, mask))

    def _host_ready(self, timeout: float | None) -> list[tuple[selectors.SelectorKey, int]]:
        out: list[tuple[selectors.SelectorKey, int]] = []
        for hkey, mask in self._host.select(timeout):
            key = self._keys.get(hkey.fd)
            if key is not None and hkey.fd not in self._driver_fds:
                mask &= key.events
                if mask:
                    out.append((key, mask))
        return out

    def _wakers(self) -> bool:
        """True if something outside the stacks may end a wait: a host file
        that is not quiet, a threaded stack's socket, the may-wake hook."""
        for fd in self._keys:
            entry = self._ustack.get(fd)
            if entry is None and fd not in self._quiet:
                return True
            if entry is not None and entry.evq is None:
                return True
        return self._may_wake is not None and bool(self._may_wake())

    def _real_pause(self, worlds: list[World]) -> float | None:
        """How long the real-clock worlds let the selector sleep (None: no
        limit), keeping their drivers' fds in the host selector."""
        pause: float | None = None
        fds: set[int] = set()
        blind = False
        for w in worlds:
            stacks = w.stacks
            if not stacks:
                continue
            # Drivers without fd on a medium shared with another stack of
            # the world (a pipe between two of them): frames on it come from
            # the polls of this selector.  A medium no other stack of the
            # world uses (the other end on a threaded stack, or outside the
            # process) may bring frames at any moment.
            shared: dict[int, int] = {}
            now = stacks[0].now
            for st in stacks:
                nd = st.next_deadline
                if nd is not None:
                    p = max(0, nd - now) / 1e9
                    pause = p if pause is None else min(pause, p)
                for iface in st.interfaces:
                    drv = iface.driver
                    fileno = getattr(drv, "fileno", None)
                    fd = -1
                    if fileno is not None:
                        try:
                            fd = int(fileno())
                        except (OSError, ValueError):
                            fd = -1
                    if fd >= 0:
                        fds.add(fd)
                    else:
                        key = drv._shared_key()
                        if key is None:
                            blind = True  # frames from outside, nothing to wake on
                        else:
                            shared[id(key)] = shared.get(id(key), 0) + 1
            if any(n < 2 for n in shared.values()):
                blind = True
        if blind:
            pause = _REAL_PAUSE_S if pause is None else min(pause, _REAL_PAUSE_S)
        if threading.active_count() > 1:
            pause = _THREADS_PAUSE_S if pause is None else min(pause, _THREADS_PAUSE_S)
        self._watch_driver_fds(fds)
        return pause

    def _watch_driver_fds(self, fds: set[int]) -> None:
        fds -= self._keys.keys()
        for fd in self._driver_fds - fds:
            try:
                self._host.unregister(fd)
            except (KeyError, ValueError, OSError):
                pass
        for fd in fds - self._driver_fds:
            try:
                self._host.register(fd, EVENT_READ)
            except (KeyError, ValueError, OSError):
                continue
        self._driver_fds = {fd for fd in fds if fd in self._host.get_map()}

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        """Ready ``(key, events)`` pairs; ``timeout`` as
        :meth:`selectors.BaseSelector.select` (None waits, <= 0 looks once),
        in seconds of the selector's clock (module doc).  On a virtual clock
        ``select(None)`` that nothing can end raises :class:`~ustack.world.Deadlock`."""
        if self._closed:
            raise RuntimeError("the selector is closed")
        self._prune()
        worlds = self._worlds()
        clock = self._timeout_clock(worlds)
        start = clock.now if clock is not None else monotonic_ns()
        limit: int | None = None
        if timeout is not None:
            limit = start + max(0, math.ceil(timeout * 1e9))
        seen: set[tuple[Any, ...]] = set()
        idle = 0
        callouts = -1
        while True:
            out = self._run_and_collect(worlds)
            if out:
                return out
            now = clock.now if clock is not None else monotonic_ns()
            if limit is not None and now >= limit:
                return []
            # Nothing ready: let time pass.
            virtual: dict[int, tuple[VirtualClock, list[World]]] = {}
            real: list[World] = []
            for w in worlds:
                c = w.clock
                if c is None:
                    real.append(w)
                else:
                    virtual.setdefault(id(c), (c, []))[1].append(w)
            jumps: list[tuple[VirtualClock, int]] = []
            moved = 0
            for c, ws in virtual.values():
                stacks = [st for w in ws for st in w.stacks]
                if not stacks:
                    continue
                deadlines = [d for d in (st.next_deadline for st in stacks) if d is not None]
                nd = min(deadlines) if deadlines else None
                if c is clock and limit is not None:
                    nd = limit if nd is None else min(nd, limit)
                if nd is None:
                    continue
                cnow = c.now
                target = nd if nd > cnow else cnow + (min(st.tick_ns for st in stacks) or 1)
                if c is clock and limit is not None:
                    target = min(target, limit)
                moved = max(moved, target - cnow, 1)
                jumps.append((c, target))
            if clock is not None and id(clock) not in virtual and limit is not None:
                clock.set(limit)  # no socket of the selector's clock: its timers are due
                continue
            if moved:
                if (
                    timeout is None
                    and not real
                    and (moved >= _REPEAT_MIN_JUMP_NS or idle % _REPEAT_EVERY == 0)
                    and not self._wakers()
                ):
                    # The state at rest, before the jump (as World.wait judges it).
                    stacks = [st for w in worlds for st in w.stacks]
                    # Only after a timer ran: a jump that merely cascades the
                    # timing wheel changes nothing and is no repeat.
                    ran = sum(st.stats["callouts_run"] for st in stacks)
                    snap = _snapshot(stacks) if ran != callouts else None
                    callouts = ran
                    if snap is not None:
                        if snap in seen:
                            raise self._deadlock(
                                worlds,
                                "the stacks only repeat themselves (idle connections' "
                                "keepalives, re-armed timers) and nothing is in flight",
                            )
                        seen.add(snap)
                idle += 1
                for c, target in jumps:
                    c.set(target)
                continue
            # Nothing pending on any virtual clock.
            if (
                timeout is None
                and not real
                and (clock is not None or virtual)
                and not self._wakers()
            ):
                raise self._deadlock(worlds, "nothing is pending in any stack")
            pause = self._real_pause(real) if real else None
            if limit is not None and clock is None:
                left = (limit - now) / 1e9
                pause = left if pause is None else min(pause, left)
            out = self._host_ready(pause)
            if out:
                return out

    def _deadlock(self, worlds: list[World], why: str) -> Deadlock:
        stacks = [st for w in worlds for st in w.stacks]
        now = stacks[0].now if stacks else (self._clock.now if self._clock is not None else 0)
        return Deadlock("select()", None, now, why)

    def __repr__(self) -> str:
        return (
            f"<ustack.UstackSelector {len(self._ustack)} ustack sockets, "
            f"{len(self._keys) - len(self._ustack)} host files>"
        )
