"""The background poller behind :meth:`Socket.fileno() <ustack.sockets.Socket.fileno>`.

Nothing polls a stack that no thread of its own runs unless a ustack call
blocks: a program that waits in ``select.select([sock], ...)``, a
``selectors.DefaultSelector`` or the standard asyncio loop makes no ustack
call while it waits, so without help the data it waits for would never
arrive.  When a socket of such a stack first gets a fileno, :func:`watch`
starts one daemon thread per :class:`~ustack.world.World` that runs the
world (:meth:`World.wait <ustack.world.World.wait>`) while no thread of the
program is in a ustack call, so the filenos follow the stacks.

Rules it keeps:

* It steps aside as soon as another thread is inside a ustack call (that
  call runs the world itself; the blocking fast path sees one user again),
  and until the program has made no ustack call for ``_QUIET_S`` (1 ms of
  wall time), so a run of blocking calls keeps the C fast path
  and while :meth:`World.add_driver <ustack.world.World.add_driver>` says
  something else runs the world (``ustack.selectors``, ``ustack.asyncio``).
* It is a user of the world like any thread (:mod:`ustack.world`): on a
  virtual clock time moves only when every user waits in a ustack call or
  has been away :data:`~ustack.world.THREAD_GRACE` seconds of wall time.  A
  program waiting in ``select`` is such a user: the clock jumps only after
  it has been away that long (each jump of a wait that needs one costs up
  to THREAD_GRACE of wall time).  Prefer ``ustack.asyncio`` or
  ``ustack.selectors.UstackSelector`` on a virtual clock.
* A world it finds stuck (:class:`~ustack.world.Deadlock`) is idle: it
  sleeps until a ustack call touches the world again.
* It holds only weak references between rounds (no stack, world or socket
  is kept alive by it) and ends when the world has no open socket with a
  fileno or no stack, and at interpreter exit (an ``atexit`` hook stops and
  joins it, before modules are torn down).
* An exception a stack callback raised in one of its polls is handed back
  to that stack, raised by the program's next call into it.
"""

from __future__ import annotations

import atexit
import threading
import time
import weakref
from typing import TYPE_CHECKING

from ustack._native import lib
from ustack.world import _COND, _LOCK, Deadlock, World

if TYPE_CHECKING:
    from ustack.sockets import Socket

__all__ = ["watch", "pumps", "stop_all"]

# How long an idle poller sleeps between looks (wall seconds).
_IDLE_S = 0.005
# How long the program must have made no ustack call before the poller runs
# the world (wall seconds): a program busy with blocking calls (which run the
# world themselves) keeps it aside, so they stay on the C fast path instead
# of contending with it for the lock at every call.
_QUIET_S = 0.001

_PUMPS: dict[int, _Pump] = {}  # id(resolved world) -> its poller
_PUMPS_LOCK = threading.Lock()
_STOP = threading.Event()


class _Pump(threading.Thread):
    """The poller of one world."""

    def __init__(self, world: World) -> None:
        super().__init__(name=f"ustack-fileno-poller-{id(world):x}", daemon=True)
        self.world_ref: weakref.ref[World] = weakref.ref(world)
        self.key = id(world)
        self.socks: weakref.WeakSet[Socket] = weakref.WeakSet()
        self.rounds = 0  # waits begun (tests)
        self.touches = -1  # the world's _touches when last looked at
        self.touched_at = 0.0  # when they last changed (time.monotonic)
        # Known to ustack.world: not a thread about to use the world (it
        # steps aside for any that does), so a stuck wait need not wait for it.
        self.ustack_poller = True

    # --- conditions (under world._LOCK) -------------------------------------

    def _live(self) -> bool:
        return any(s._notify is not None for s in list(self.socks))

    def _step_aside(self, w: World) -> bool:
        """True when the poller must not run the world now."""
        if _STOP.is_set() or w._drivers > 0 or not self._live():
            return True
        if self._program_busy(w):
            return True  # the program is making ustack calls: they run the world
        me = threading.get_ident()
        for ident, u in list(w._users.items()):
            if ident != me and (u.depth > 0 or u.waiting) and u.thread.is_alive():
                return True
        return False

    def _program_busy(self, w: World) -> bool:
        """True until the program has made no ustack call (the world's
        touches stood still) for _QUIET_S.  Called with or without the
        lock: of the world it only reads the touch count."""
        now = time.monotonic()
        if w._touches != self.touches:
            self.touches, self.touched_at = w._touches, now
        return now - self.touched_at < _QUIET_S

    def _leave(self, w: World) -> None:
        """Stop counting as a user of the world (under _LOCK): a blocking
        call on one thread then sees itself alone."""
        w._users.pop(threading.get_ident(), None)
        _COND.notify_all()

    # --- the thread ---------------------------------------------------------

    def run(self) -> None:
        try:
            self._run()
        finally:
            with _PUMPS_LOCK:
                if _PUMPS.get(self.key) is self:
                    del _PUMPS[self.key]

    def _run(self) -> None:
        while not _STOP.is_set():
            w = self._world()
            if w is None:
                return
            stacks = w.stacks
            if not stacks or not self._live():
                return
            del stacks
            aside = False
            touches = w._touches
            try:
                with _LOCK:
                    if self._step_aside(w):
                        aside = True
                    else:
                        self.rounds += 1

                        def stop(w: World = w) -> bool:
                            if self._step_aside(w):
                                self._leave(w)
                                return True
                            return False

                        w.wait(stop, None, "the fileno poller")
                        aside = True
            except Deadlock:
                self._idle(w, touches)
            except BaseException as exc:  # a callback's: back to its stack
                self._hand_back(w, exc)
                self._idle(w, w._touches)
            finally:
                with _LOCK:
                    self._leave(w)
            if aside:
                self._wait_aside(w)
            del w

    def _world(self) -> World | None:
        w = self.world_ref()
        return None if w is None else w._resolve()

    def _wait_aside(self, w: World) -> None:
        """Sleep while the poller must step aside (a bounded nap, then the
        main loop looks again at the world and the sockets)."""
        # While the program makes ustack calls, nap without the lock (its
        # calls need it) until they have stopped for _QUIET_S.
        while not _STOP.is_set() and self._program_busy(w):
            _STOP.wait(_QUIET_S)
        with _LOCK:
            if self._step_aside(w) and not _STOP.is_set():
                _COND.wait(_IDLE_S)

    def _idle(self, w: World, touches: int) -> None:
        """A stuck world: sleep until a ustack call touches it (or its
        sockets with filenos are gone, or the interpreter exits)."""
        while not _STOP.is_set() and w._touches == touches and self._live() and w.stacks:
            _STOP.wait(_IDLE_S)

    @staticmethod
    def _hand_back(w: World, exc: BaseException) -> None:
        stacks = w.stacks
        if stacks:
            stacks[0]._errors.append(exc)
            lib.ust_py_wait_note()  # a fast call raises it as the Python loop would


def watch(sock: Socket) -> None:
    """Make sure the world of ``sock`` (a socket of a stack without a thread
    that just got a fileno) has a running poller that knows the socket."""
    if _STOP.is_set():
        return
    w = sock.stack.world._resolve()
    with _PUMPS_LOCK:
        # (A poller started for a world that merged into w since runs w.)
        for p in _PUMPS.values():
            if p.is_alive() and p._world() is w:
                p.socks.add(sock)
                return
        p = _Pump(w)
        p.socks.add(sock)
        _PUMPS[id(w)] = p
        p.start()


def pumps() -> list[threading.Thread]:
    """The pollers running now (tests, diagnostics)."""
    with _PUMPS_LOCK:
        return [p for p in _PUMPS.values() if p.is_alive()]


def stop_all(timeout: float = 2.0) -> None:
    """Stop every poller and wait for them (at interpreter exit)."""
    _STOP.set()
    with _LOCK:
        _COND.notify_all()
    for p in pumps():
        if p is not threading.current_thread():
            p.join(timeout)


atexit.register(stop_all)
