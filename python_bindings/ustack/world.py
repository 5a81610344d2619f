"""Worlds: the stacks that have to be polled together, and the loop that runs them.

Nothing happens in a stack unless it is polled, and a frame sent by stack A
reaches stack B only when both are polled.  So a blocking call on one stack
(``sock.recvfrom()``, ``EventQueue.poll()``) has to run every stack its
frames may pass through.  A :class:`World` is that set: stacks on one
:class:`~ustack.clock.VirtualClock` share a world, and attaching two stacks
to the two ends of one pipe merges their worlds.  ``stack.world`` is the
stack's current world.

:func:`run_until` is the loop: it polls until every stack is idle, then on
a virtual clock jumps time to the next deadline, so a blocking call that
waits for a 2-second timeout costs no wall-clock time.

A wait that nothing can end.  On a virtual clock, a wait without a time
limit (a blocking call with timeout None, ``EventQueue.poll(None)``,
``run_until(predicate)``) gives up when the world is *stuck*:

* nothing is pending at all (no timer, no frame in flight), or
* the world came back, with no frame in flight, to a protocol state it was
  already in since the wait began (times and counters aside): every TCP
  connection's state, sequence numbers, buffered bytes, armed timers,
  retransmission and keepalive probe counts, the ARP tables and the
  objects in use in every memory zone.  From there it only repeats itself
  -- an idle connection's keepalive probe answered every two hours, a
  re-armed timer -- so the wait could only end by chance.

A blocking call then raises :class:`Deadlock` naming the call and the
socket; ``run_until(predicate)`` returns False and ``run_until()`` (until
quiet) True.  Telling a repeat needs one round of the idle timers: an idle
connection's keepalive (``net.inet.tcp.keepidle``, 2 h of virtual time;
the timing wheel first reports it as the start of its 1,048.576 s top-level
slot), about a dozen polls.  An unanswered keepalive does not repeat (the
silence since the last segment grows), so a dead peer still ends a wait with
ETIMEDOUT after keepidle plus 8 probes 75 s apart, as on a real host.  On
the real clock nothing is stuck: a wait blocks as a host socket does.

Threads.  Blocking calls may come from several threads (a server thread in
``accept()`` while another connects; two threads on one socket).  Calls
into the stacks are serialized by one lock that waiting threads release.
On a virtual clock time advances only when every thread that has used the
world is waiting in a ustack call, or has made none for
:data:`THREAD_GRACE` seconds of wall time (so that a thread in
``Thread.join()`` or ``time.sleep()`` does not stop the clock forever).

The C fast path.  A blocking ``recv``, ``send``, ``accept`` or ``connect``
on a world that only the calling thread uses (no other thread has called
into it, and no stack callback is running) is one C call
(``ust_py_wait_call``, python_bindings/ext/wait.c): it tries the call and,
while it would block, polls every stack, tries again after each round and
moves the virtual clock to the next deadline itself.  Every idle moment
where this loop does more -- nothing pending (Deadlock), a repeat to look
for, the time limit, any real-clock sleep (which releases the lock, up to
1 ms), any while other threads exist, one in 64 anyway (signals) -- goes
back to Python and runs as above, so the results, the times reached and the
exceptions are the Python loop's (tests/python/test_fastwait.py runs both
and compares).  An exception a callback raises comes out right after the
poll that ran it; a stack collected while a C wait runs is closed when the
call returns.  :func:`fast_path` turns it off and on; :func:`fast_waits` counts
the waits it ran.  With a second thread in the world every call takes the
Python loop.

The stacks of a :class:`~ustack.group.StackGroup` with threads are in no
world: each is polled by its own thread, and their sockets' blocking calls
sleep in ``ust_socket_wait`` (see :mod:`ustack.sockets`).  A group without
threads is one world (its stacks hand frames to each other), polled like
any stacks.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from ustack._native import ffi, lib

if TYPE_CHECKING:
    from ustack.clock import VirtualClock
    from ustack.stack import Stack

__all__ = [
    "World",
    "Deadlock",
    "run_until",
    "run_for",
    "settle",
    "THREAD_GRACE",
    "fast_path",
    "fast_waits",
]

# Each shared object (a VirtualClock, a Pipe) -> the world of the stacks using it.
_BY_KEY: weakref.WeakKeyDictionary[object, World] = weakref.WeakKeyDictionary()

# One lock for every call into a stack from Python (C requires one caller at
# a time per stack); waiting threads release it through the condition.
_LOCK = threading.RLock()
_COND = threading.Condition(_LOCK)

THREAD_GRACE = 1.0
"""Seconds of wall time after which a thread that used a world but is not in
a ustack call no longer holds back its virtual clock."""


# Polls in progress on this thread: a callback they run (upcall, input or
# capture hook) must not block, whichever world the blocking call is in
# (a wait releases _LOCK, and another thread would enter the stack mid-poll).
class _Polls(threading.local):
    depth = 0


_POLLS = _Polls()


# Read and written under _LOCK (its holder is the only thread that can be
# here), cheaper than _POLLS for the fast path: [0] polls in progress plus a
# C wait (World._fast_call) in progress, nonzero: a callback is running; [1]
# a C wait in progress.
_BUSY = [0, 0]


class polling:  # noqa: N801 - used as a context manager, like a function
    """``with polling():`` around a call into C that may run Python callbacks
    (made holding ``_LOCK``)."""

    def __enter__(self) -> None:
        _POLLS.depth += 1
        _BUSY[0] += 1

    def __exit__(self, *exc: object) -> None:
        _POLLS.depth -= 1
        _BUSY[0] -= 1


# Threads blocked on _LOCK: a waiting thread that holds it lets them in
# before it moves the virtual clock.
_KNOCKING: set[int] = set()

_REAL_PAUSE_NS = 1_000_000  # longest sleep of a real-clock wait between polls
# How long a stuck wait lets another thread that is not waiting act before it
# looks again (it never declares a deadlock while such a thread lives).
_ACTIVE_PAUSE_S = 0.01
# How long a stuck wait waits for threads that have not called into the world
# yet (one just started to connect) before it declares a deadlock.
_STRANGER_GRACE_S = 0.5
# Repeats are looked for before clock jumps of at least this much (the idle
# timers that repeat are seconds apart), and at every _REPEAT_EVERY-th idle
# moment whatever the jump, so that a busy transfer does not pay for it.
_REPEAT_MIN_JUMP_NS = 500_000_000
_REPEAT_EVERY = 256


# The C fast path of blocking socket calls (python_bindings/ext/wait.c).
_FAST = [True]  # fast_path() sets it (with _BUSY[0], which the hot path reads)


def fast_path(enabled: bool | None = None) -> bool:
    """Whether blocking socket calls may wait in C (see
    :meth:`World._fast_call`); ``fast_path(False)`` forces the Python loop
    (tests compare the two), ``fast_path(True)`` allows the fast path
    again.  Returns the setting before the call."""
    was = _FAST[0]
    if enabled is not None and bool(enabled) != was:
        if _BUSY[1]:
            raise RuntimeError("fast_path() from inside a C wait (a stack callback)")
        _FAST[0] = bool(enabled)
        _BUSY[0] += -1 if enabled else 1  # nonzero: no fast call starts
    return was


_MORE = int(lib.ust_py_wait_more)  # C results at or below: the call goes on
FOREVER = int(lib.UST_PY_WAIT_FOREVER)  # timeout_ns of a blocking call without limit
NOW = int(lib.UST_PY_WAIT_NOW)  # timeout_ns of a non-blocking call
_FAST_IDLE = int(lib.UST_PY_WAIT_IDLE)
_FAST_ERROR = int(lib.UST_PY_WAIT_ERROR)
_FAST_STEPS = int(lib.UST_PY_WAIT_STEPS)
_FAST_NOTED = int(lib.UST_PY_WAIT_NOTED)
_FAST_YIELD = int(lib.UST_PY_WAIT_YIELD)
_FAST_MAX_STEPS = 1_000_000  # as _Loop's for a wait on a virtual clock
TIMED_OUT = -(1 << 62)
"""What :meth:`World._fast_call` returns when the call's timeout passed."""
_NOTES_NEVER = (1 << 64) - 1  # an errors_seen that never matches
_OP_NAMES = {
    int(lib.UST_PY_OP_RECV): "recv()",
    int(lib.UST_PY_OP_SEND): "send()",
    int(lib.UST_PY_OP_ACCEPT): "accept()",
    int(lib.UST_PY_OP_CONNECT): "connect()",
}
_wait_call = lib.ust_py_wait_call
_get_ident = threading.get_ident


# Stacks collected while a C wait ran (it may be polling them): closed when
# its C call returns (see defer_close).
_DEFERRED: list[Any] = []


def defer_close(stack: Any) -> bool:
    """From a stack's finalizer: True when a C wait (World._fast_call) is in
    progress, which may be polling the stack; it is then kept and closed when
    the wait's C call returns (the Python loop holds its stacks during a wait
    for the same reason)."""
    if _BUSY[1]:
        _DEFERRED.append(stack)
        return True
    return False


def _close_deferred() -> None:
    while _DEFERRED:
        st = _DEFERRED.pop()
        try:
            st.close()
        except Exception:  # as a finalizer's close: never raise from here
            pass


_TNS_MAX = 1 << 62  # timeouts beyond (146 years) stay on the Python loop


def _tns(timeout: float) -> int | None:
    """A socket timeout (seconds, not None) for ust_py_wait_call: NOW for
    0.0, else nanoseconds; None when too large for C."""
    if not timeout:
        return NOW
    tns = int(timeout * 1e9)
    return tns if tns < _TNS_MAX else None


def fast_waits() -> int:
    """Blocking calls that waited (polled) in the C fast path so far,
    process-wide: a test can prove the fast path ran."""
    return int(lib.ust_py_wait_waits())


class _FastWorld:
    """The C view of a world's stacks (``struct ust_py_world``), rebuilt
    when they change (weak references: it keeps no stack alive)."""

    __slots__ = ("c", "arr", "refs", "clock")

    def __init__(self, stacks: list[Stack]) -> None:
        self.refs = [weakref.ref(st) for st in stacks]
        self.arr = ffi.new("struct ust_stack *[]", [st._st for st in stacks])
        c = self.c = ffi.new("struct ust_py_world *")
        c.stacks = self.arr
        c.nstacks = len(stacks)
        self.clock = clock = stacks[0].clock
        c.vc = clock._vc if clock is not None else ffi.NULL
        c.tick_ns = min(st.tick_ns for st in stacks) or 1
        c.errors_seen = lib.ust_py_wait_notes()
        c.repeat_min_jump = _REPEAT_MIN_JUMP_NS
        c.repeat_every = _REPEAT_EVERY
        c.max_steps = _FAST_MAX_STEPS if clock is not None else 0
        self.pending(stacks)

    def stacks(self) -> list[Stack] | None:
        """The stacks, or None when one is gone (closed or collected)."""
        out = []
        for r in self.refs:
            st = r()
            if st is None or st._st is None:
                return None
            out.append(st)
        return out

    def pending(self, stacks: list[Stack]) -> bool:
        """True while an exception a callback stored waits in a stack's list
        (to be raised by the Python loop's next poll, as before); the C
        calls then stop at once (UST_PY_WAIT_NOTED) until it is gone."""
        for st in stacks:
            if st._errors:
                self.c.errors_seen = _NOTES_NEVER
                return True
        return False


class Deadlock(RuntimeError):
    """A blocking call on a virtual clock that nothing can end (see the
    module documentation): with a host socket the program would hang.

    ``call`` names the call (``'recv()'``), ``socket`` is the socket (or
    None), ``now`` the virtual time in ns when the wait gave up."""

    def __init__(self, call: str, socket: object | None, now: int, reason: str) -> None:
        subject = f" on {socket!r}" if socket is not None else ""
        super().__init__(
            f"{call}{subject} can never complete: {reason} (virtual time {now / 1e9:.3f} s); "
            "with a host socket this would hang.  Give the call a timeout, or make the "
            "other side act first"
        )
        self.call = call
        self.socket = socket
        self.now = now


class _User:
    """A thread that made calls into a world."""

    __slots__ = ("thread", "depth", "waiting", "limit", "stuck", "last", "seen")

    def __init__(self, thread: threading.Thread) -> None:
        self.thread = thread
        self.depth = 0
        self.waiting = False
        self.limit: int | None = None  # while waiting: its time limit on the clock
        self.stuck: str | None = None  # set by another thread's wait that found all stuck
        self.last = time.monotonic()
        self.seen = -1  # the world generation its wait last checked


class _Guard:
    """``with world.using():`` around a call into a stack (see World.using)."""

    __slots__ = ("world",)

    def __init__(self, world: World) -> None:
        self.world = world

    def __enter__(self) -> None:
        if not _LOCK.acquire(blocking=False):
            ident = threading.get_ident()
            _KNOCKING.add(ident)
            try:
                _LOCK.acquire()
            finally:
                _KNOCKING.discard(ident)
        w = self.world._resolve()
        u = w._user()
        u.depth += 1
        if not u.waiting and not _BUSY[1]:
            w._touches += 1

    def __exit__(self, *exc: object) -> None:
        try:
            w = self.world._resolve()
            u = w._users.get(threading.get_ident())
            if u is not None:
                u.depth -= 1
                u.last = time.monotonic()
        finally:
            _LOCK.release()


class World:
    """A set of stacks polled together by blocking calls (see the module doc)."""

    def __init__(self) -> None:
        self._refs: list[weakref.ref[Stack]] = []
        self._merged: World | None = None
        self._users: dict[int, _User] = {}
        self._guard = _Guard(self)
        self._touches = 0  # calls from outside waits: they may break a repeat
        self._generation = 0  # bumped when a poll did work or the clock moved
        self._drivers = 0  # add_driver(): something else runs the world (ustack._pump)
        # The C fast path (_fast_call): the C view of the stacks, the thread
        # that may take it (the world's only user; None: look again), and
        # the user whose calls C counts (folded in by _fast_fold).
        self._fw: _FastWorld | None = None
        self._fwc: Any = None  # self._fw.c
        self._fast_ident: int | None = None
        self._fast_user: _User | None = None

    # --- membership ---------------------------------------------------------

    @staticmethod
    def of(key: object) -> World | None:
        """The world registered for a shared object (a clock, a pipe), if any."""
        w = _BY_KEY.get(key)
        return None if w is None else w._resolve()

    @staticmethod
    def for_key(key: object) -> World:
        """The world of a shared object, created on first use."""
        w = World.of(key)
        if w is None:
            w = World()
            _BY_KEY[key] = w
        return w

    def _resolve(self) -> World:
        w = self
        while w._merged is not None:
            w = w._merged
        return w

    def _add(self, stack: Stack) -> None:
        self._fast_fold()
        self._refs.append(weakref.ref(stack))
        self._fw = None
        self._fast_ident = None

    def _join(self, key: object, stack: Stack) -> World:
        """Register ``key`` as shared by this world's stacks, merging this world
        into the one already using it (if any).  Returns the resulting world."""
        me = self._resolve()
        other = World.of(key)
        if other is None:
            _BY_KEY[key] = me
            return me
        if other is me:
            return me
        clocks = {id(st.clock) for st in me.stacks + other.stacks}
        if len(clocks) > 1:
            # Stacks on different clocks cannot be run together; leave them apart.
            return me
        with _LOCK:
            other._refs.extend(me._refs)
            other._users.update(me._users)
            other._drivers += me._drivers
            me._drivers = 0
            me._fast_fold()
            other._fast_fold()
            me._refs = []
            me._users = {}
            me._merged = other
            me._fw = other._fw = None
            me._fast_ident = other._fast_ident = None
        return other

    @property
    def stacks(self) -> list[Stack]:
        """The open stacks of the world, oldest first."""
        w = self._resolve()
        alive = [st for st in (r() for r in w._refs) if st is not None and not st.closed]
        if len(alive) != len(w._refs):
            w._refs = [weakref.ref(st) for st in alive]
        return alive

    @property
    def clock(self) -> VirtualClock | None:
        """The clock the world's stacks share (None: the monotonic clock)."""
        stacks = self.stacks
        return stacks[0].clock if stacks else None

    # --- threads ------------------------------------------------------------

    def using(self) -> _Guard:
        """A context manager to hold around a call into one of the world's
        stacks: takes the lock and counts the thread as a user of the world."""
        return self._guard

    def _user(self) -> _User:
        ident = threading.get_ident()
        u = self._users.get(ident)
        if u is None:
            u = self._users[ident] = _User(threading.current_thread())
            self._fast_ident = None  # a second user, maybe: look again
        return u

    def _fast_fold(self) -> None:
        """Add what the C fast path counted (struct ust_py_world) to the
        world's figures: its generation, its user's last call."""
        fw = self._fw
        if fw is None:
            return
        c = fw.c
        if c.bumps:
            self._generation += c.bumps
            c.bumps = 0
        u = self._fast_user
        if u is not None and c.last_ns:
            last = c.last_ns / 1e9
            if last > u.last:
                u.last = last

    def _hold_back(self, me: _User) -> float | None:
        """Seconds to let other threads run before this one may move the
        virtual clock or give up; None if it may now."""
        if _KNOCKING:
            return 0.0005
        self._fast_fold()
        now = time.monotonic()
        wait: float | None = None
        for ident, u in list(self._users.items()):
            if u is me:
                continue
            if not u.thread.is_alive():
                del self._users[ident]
                continue
            if u.waiting:
                if u.seen != self._generation:
                    wait = 0.001 if wait is None else min(wait, 0.001)
                continue
            rest = THREAD_GRACE - (now - u.last)
            if rest > 0:
                wait = rest if wait is None else min(wait, rest)
        return wait

    def _other_limit(self, me: _User, now: int) -> int | None:
        """The earliest time limit, still ahead, of another thread's wait: a
        wait that will end by itself then, so the world is not stuck."""
        limits = [
            u.limit
            for u in self._users.values()
            if u is not me and u.waiting and u.limit is not None and u.limit > now
        ]
        return min(limits) if limits else None

    def _others_active(self, me: _User) -> bool:
        """True while another live thread that used the world is not waiting
        in it: it may still act (send, close), so this world is not stuck,
        however long it stays away (a thread in time.sleep() or join())."""
        return any(
            u is not me and not u.waiting and u.thread.is_alive() for u in self._users.values()
        )

    # --- drivers ------------------------------------------------------------

    def add_driver(self) -> None:
        """Say that something runs the world while the program's threads are
        outside ustack calls (an event loop's selector: ``ustack.selectors``,
        ``ustack.asyncio``): the background poller of sockets with a
        ``fileno()`` (:mod:`ustack._pump`) then stays idle.  A counter: each
        call wants its :meth:`remove_driver`."""
        with _LOCK:
            self._resolve()._drivers += 1
            _COND.notify_all()

    def remove_driver(self) -> None:
        """Undo one :meth:`add_driver`; at zero the poller runs the world again."""
        with _LOCK:
            w = self._resolve()
            if w._drivers > 0:
                w._drivers -= 1
            _COND.notify_all()

    @property
    def drivers(self) -> int:
        """How many :meth:`add_driver` calls are not undone."""
        return self._resolve()._drivers

    # --- running ------------------------------------------------------------

    def poll(self) -> int:
        """One poll of every stack; returns the total work done."""
        with self.using():
            return sum(st.poll() for st in self.stacks)

    def run_until(
        self,
        until: Callable[[], bool] | int | None = None,
        *,
        timeout_ns: int | None = None,
        max_steps: int = 1_000_000,
    ) -> bool:
        """:func:`run_until` over every stack of the world."""
        return run_until(self.stacks, until, timeout_ns=timeout_ns, max_steps=max_steps)

    def run_for(self, ns: int) -> None:
        """Run every stack for ``ns`` nanoseconds of the shared clock."""
        stacks = self.stacks
        if stacks:
            self.run_until(stacks[0].now + ns)

    def wait(
        self,
        ready: Callable[[], bool],
        timeout_ns: int | None,
        call: str = "wait",
        subject: object | None = None,
    ) -> bool:
        """Run the world until ``ready()`` holds or ``timeout_ns`` passes.

        The engine of blocking calls.  ``ready`` is checked after every round
        of polls (an exception it raises propagates).  Returns False on
        timeout, after moving a virtual clock to the timeout (a real wait
        would have taken that long).  On a virtual clock without a timeout a
        wait that is stuck raises :class:`Deadlock` naming ``call`` and
        ``subject``; on the real clock it waits as long as it takes.
        """
        with _LOCK:
            stacks = self.stacks
            if not stacks:
                return bool(ready())
            if _POLLS.depth > 0 or _BUSY[1]:
                raise RuntimeError(
                    "a blocking ustack call was made from inside a stack callback "
                    "(upcall, input or capture hook); make the socket non-blocking "
                    "with setblocking(False) there"
                )
            me = self._resolve()._user()
            me.waiting = True
            try:
                loop = _Loop(stacks, ready, timeout_ns, None, world=self._resolve(), user=me)
                me.limit = loop.limit
                me.stuck = None
                ok = loop.run()
            finally:
                me.waiting = False
                me.limit = None
                me.stuck = None
                me.last = time.monotonic()
            if ok:
                return True
            if loop.stuck is not None and timeout_ns is None:
                raise Deadlock(call, subject, stacks[0].now, loop.stuck)
            clock = stacks[0].clock
            if clock is not None and timeout_ns is not None:
                clock.set(loop.start + timeout_ns)
            return False

    def _fast_call(self, op: Any, kind: int, buf: Any, length: int, sock: Any) -> int | None:
        """A socket call (``kind``: UST_PY_OP_*, on ``op``, the socket's
        ``struct ust_py_op *``) made and, when it would block and the
        socket's timeout allows, waited for in C (python_bindings/ext/wait.c)
        exactly as :meth:`World.wait` would run it.  Returns the C call's
        result (negative: an error; -UST_EAGAIN when it would block and the
        timeout is 0.0), :data:`TIMED_OUT` when the timeout passed, or None
        when the fast path does not apply and nothing was done: another
        thread uses the world or holds the lock, a stack callback is
        running, a callback's exception waits to be raised by a poll.  The
        caller then takes the Python path.

        The C loop returns to Python at every moment where the Python loop
        does more than poll and move time; those run in :meth:`_Loop._idle`
        (Deadlock, repeats, the time limit, other threads)."""
        if self._fast_ident != _get_ident():
            if not self._fast_setup():
                return None
        t = sock._timeout
        tns = FOREVER if t is None else _tns(t)
        if tns is None or not _LOCK.acquire(False):
            return None
        if _BUSY[0]:  # we held the lock: called from a callback
            _LOCK.release()
            return None
        _BUSY[0] = _BUSY[1] = 1  # callbacks run by the polls must not block (nor touch)
        self._touches += 1  # the call, as _Guard counts it (the fd poller looks)
        try:
            r: int | None = _wait_call(self._fwc, op, kind, buf, length, tns)
            if r is not None and r <= _MORE:
                r = self._fast_more(op, r, kind, buf, length, tns, sock)
            if sock._notify is not None:
                sock._fd_sync()  # the call may have drained or filled a buffer
            return r
        finally:
            _BUSY[0] = _BUSY[1] = 0
            if _DEFERRED:
                _close_deferred()
            _LOCK.release()

    def _fast_setup(self) -> bool:
        """Before a fast call that cannot go straight in: True when the
        calling thread is (or now becomes) the world's only user, with the C
        view of the world ready."""
        ident = _get_ident()
        users = self._users
        if not _FAST[0] or self._merged is not None:
            return False
        if not _LOCK.acquire(False):
            return False  # held elsewhere: the Python path (which knocks)
        try:
            me = self._user()
            if len(users) != 1:
                # Threads that used the world and ended count no more (as
                # _hold_back finds them); a live one: the Python loop.
                for other, u in list(users.items()):
                    if u is not me and not u.thread.is_alive():
                        del users[other]
                if len(users) != 1:
                    return False
            fw = self._fw
            if fw is None:
                fw = self._fast_world()
                if fw is None:
                    return False
            if self._fast_user is not me:
                self._fast_fold()
                self._fast_user = me
            self._fast_ident = ident
            return True
        finally:
            _LOCK.release()

    def _fast_world(self) -> _FastWorld | None:
        stacks = self.stacks
        if not stacks:
            return None
        self._fast_fold()
        fw = self._fw = _FastWorld(stacks)
        self._fwc = fw.c
        return fw

    def _fast_noted(self) -> _FastWorld | None:
        """A note came since the fast path last looked (ext/wait.c): an
        exception a callback stored, or a stack closed.  A pending exception
        is left to the Python loop (its next poll raises it, as before);
        else the C view of the world is renewed.  None: take the Python loop."""
        fw = self._fw
        assert fw is not None
        fw.c.errors_seen = lib.ust_py_wait_notes()
        stacks = fw.stacks()
        if stacks is None:
            fw = self._fast_world()
            if fw is None:
                return None
            stacks = self.stacks
        if fw.pending(stacks):
            return None
        return fw

    def _fast_more(
        self, op: Any, r: int, kind: int, buf: Any, length: int, tns: int, sock: Any
    ) -> int | None:
        """A fast call that did not end in its first C call: one that had
        not started (a note came), or a wait that went on (an idle moment
        for Python, a callback's exception, a livelock)."""
        code = _MORE - r
        if code == _FAST_NOTED:
            fw = self._fast_noted()
            if fw is None:
                return None
            r = _wait_call(fw.c, op, kind, buf, length, tns)
            if r > _MORE:
                return r
            code = _MORE - r
            if code == _FAST_NOTED:
                return None  # another note already (a finalizer ran): the Python loop
        fw = self._fw
        assert fw is not None
        me = self._users[_get_ident()]
        me.waiting = True
        try:
            return self._fast_wait(fw, op, code, tns, _OP_NAMES.get(kind, "wait"), sock, me)
        finally:
            me.waiting = False
            me.last = time.monotonic()

    def _fast_wait(
        self,
        fw: _FastWorld,
        op: Any,
        code: int,
        tns: int,
        call: str,
        subject: object,
        me: _User,
    ) -> int:
        """The rest of the wait: the idle moments the C loop leaves to
        Python run as the Python loop runs them, in a :class:`_Loop` kept in
        step with the C wait's counters."""
        stacks = fw.stacks() or self.stacks
        timeout_ns = None if tns == FOREVER else tns

        def ready() -> bool:
            was = _BUSY[:]
            _BUSY[0] = _BUSY[1] = 1  # the call's callbacks must not take op over
            try:
                return bool(lib.ust_py_wait_try(op))
            finally:
                _BUSY[:] = was

        loop = _Loop(stacks, ready, timeout_ns, None, world=self, user=me)
        loop.start = int(op.start)
        loop.limit = int(op.limit) if op.has_limit else None
        me.limit = loop.limit
        me.stuck = None
        try:
            while True:
                self._fast_fold()
                if op.works:
                    loop.stuck_since = None
                    op.works = 0
                loop.steps = int(op.steps)
                if code == _FAST_STEPS:
                    loop._too_busy()
                end: bool | None = None
                _BUSY[0] = _BUSY[1] = 0  # as between the Python loop's polls
                try:
                    if code == _FAST_ERROR:
                        fw.c.errors_seen = lib.ust_py_wait_notes()
                        for st in stacks:
                            st._raise_pending()
                        if fw.stacks() is None:
                            # A callback closed a stack: on with the Python loop
                            # (whose next poll of it raises EBADF, as before).
                            end = loop.run()
                    elif code == _FAST_IDLE:
                        loop.idle_moments = int(op.idle_moments)
                        end = loop._idle()
                        op.idle_moments = loop.idle_moments
                        if end is None and fw.stacks() is None:
                            end = loop.run()
                finally:
                    _BUSY[0] = _BUSY[1] = 1
                if end is True:
                    return int(op.result)
                if end is False:
                    if loop.stuck is not None and timeout_ns is None:
                        raise Deadlock(call, subject, stacks[0].now, loop.stuck)
                    clock = stacks[0].clock
                    if clock is not None and timeout_ns is not None:
                        clock.set(loop.start + timeout_ns)
                    return TIMED_OUT
                op.steps = loop.steps
                # Alone in the process: no thread can want the lock or act in
                # the world, so the C loop may move time by itself.
                op.solo = threading.active_count() == 1
                rc = int(lib.ust_py_wait_resume(fw.c, op))
                if rc == int(lib.UST_PY_WAIT_DONE):
                    self._fast_fold()
                    return int(op.result)
                code = rc
        finally:
            me.limit = None
            me.stuck = None
            me.seen = self._generation

    def __repr__(self) -> str:
        return f"<World stacks={len(self.stacks)}>"


# --- the loop ---------------------------------------------------------------


def _common_clock(stacks: Sequence[Stack]) -> VirtualClock | None:
    if not stacks:
        raise ValueError("run_until needs at least one stack")
    clocks = {id(st.clock): st.clock for st in stacks}
    if len(clocks) != 1:
        raise ValueError("stacks driven together must share one clock (one VirtualClock, or None)")
    return next(iter(clocks.values()))


def _next_deadline(stacks: Sequence[Stack]) -> int | None:
    deadlines = [d for d in (st.next_deadline for st in stacks) if d is not None]
    return min(deadlines) if deadlines else None


def _snapshot(stacks: Sequence[Stack]) -> tuple[Any, ...] | None:
    """The protocol state a repeat is judged on (module doc), or None while a
    frame is in flight (the state is then not a resting one)."""
    out: list[Any] = []
    for st in stacks:
        if any(iface.driver._in_flight() for iface in st.interfaces):
            return None
        out.append(st._resting_state())
    return tuple(out)


class _Loop:
    """One run of :func:`run_until` or :meth:`World.wait`."""

    def __init__(
        self,
        stacks: Sequence[Stack],
        until: Callable[[], bool] | int | None,
        timeout_ns: int | None,
        max_steps: int | None,
        *,
        world: World | None = None,
        user: _User | None = None,
    ) -> None:
        self.stacks = stacks
        self.clock = _common_clock(stacks)
        self.start = stacks[0].now
        self.limit = None if timeout_ns is None else self.start + timeout_ns
        self.deadline = until if isinstance(until, int) else None
        if self.deadline is not None and (self.limit is None or self.deadline < self.limit):
            self.limit = self.deadline
        self.predicate: Callable[[], bool] | None = until if callable(until) else None
        self.settle = until is None
        # A wait on the real clock may take as long as it likes.
        self.max_steps = (
            max_steps if max_steps is not None else (1_000_000 if self.clock is not None else None)
        )
        self.tick = min(st.tick_ns for st in stacks) or 1
        self.world = world
        self.user = user
        self.stuck: str | None = None
        # Repeat detection: only on a virtual clock, without a time limit.
        self.watch = self.clock is not None and self.limit is None
        self.seen: set[tuple[Any, ...]] = set()
        self.touches = -1
        self.callouts = -1
        self.idle_moments = 0
        self.stuck_since: float | None = None  # wall time the wait first looked stuck
        self.steps = 0  # rounds of polls so far

    def done(self) -> bool:
        if self.user is not None and self.world is not None:
            self.user.seen = self.world._generation
        if self.predicate is not None:
            return bool(self.predicate())
        if self.deadline is not None:
            return self.stacks[0].now >= self.deadline
        return False

    def _repeats(self, jump: int) -> bool:
        """At an idle moment: has the world been here before?  Checked only
        after some timer ran (a jump that merely cascades the wheel changes
        nothing) and with no frame in flight."""
        self.idle_moments += 1
        if jump < _REPEAT_MIN_JUMP_NS and self.idle_moments % _REPEAT_EVERY:
            return False
        callouts = sum(st.stats["callouts_run"] for st in self.stacks)
        touches = self.world._touches if self.world is not None else 0
        if touches != self.touches:
            self.seen.clear()  # a call from outside the wait may change anything
            self.touches = touches
        elif callouts == self.callouts:
            return False
        self.callouts = callouts
        snap = _snapshot(self.stacks)
        if snap is None:
            return False
        if snap in self.seen:
            return True
        self.seen.add(snap)
        return False

    def _bump(self) -> None:
        if self.world is not None:
            self.world._generation += 1
            if len(self.world._users) > 1:
                _COND.notify_all()

    def run(self) -> bool:
        while True:
            # Poll every stack until all of them are idle.
            while True:
                self.steps += 1
                if self.max_steps is not None and self.steps > self.max_steps:
                    self._too_busy()
                work = 0
                for st in self.stacks:
                    work += st.poll()
                if work:
                    self._bump()
                    self.stuck_since = None
                if self.done():
                    return True
                if work == 0:
                    break
            end = self._idle()
            if end is not None:
                return end

    def _too_busy(self) -> None:
        raise RuntimeError(
            f"run_until: still busy after {self.max_steps} rounds of polls "
            f"(now={self.stacks[0].now} ns, started at {self.start} ns); raise "
            "max_steps or look for a livelock"
        )

    def _idle(self) -> bool | None:
        """An idle moment (every stack polled idle): give up, end, or move
        time on.  Returns the loop's result, or None to poll again.  The C
        fast path (World._fast_call) hands these moments to this method."""
        if self.user is not None and self.user.stuck is not None:
            self.stuck = self.user.stuck  # found by another waiting thread
            return False
        now = self.stacks[0].now
        nd = _next_deadline(self.stacks)
        # Another thread's wait that times out by itself is something
        # pending too: time may run to its limit (never past it).
        other = self._other_limit(now)
        if other is not None and (nd is None or other < nd):
            nd = other
        elif nd is None:
            if self.settle:
                return True
            if self.clock is not None and self.deadline is None:
                if self._others_pause() or self._others_active() or self._strangers():
                    return None
                return self._give_up("nothing is pending in any stack of the world")
        elif self.watch and self._repeats(nd - now):
            if self._others_pause():
                return None
            if self.settle:
                return True
            if self._others_active() or self._strangers():
                return None
            return self._give_up(
                "the world only repeats itself (idle connections' keepalives, "
                "re-armed timers) and nothing is in flight"
            )
        if self.limit is not None and (nd is None or nd > self.limit):
            if now >= self.limit:
                return self.done()
            target = self.limit
        elif nd is None:
            target = now + _REAL_PAUSE_NS  # real clock: frames may come from elsewhere
        else:
            target = nd if nd > now else now + self.tick
        if self.clock is not None:
            if self._others_pause():
                return None
            self.clock.set(target)
            self._bump()
        else:
            pause = min(target - now, _REAL_PAUSE_NS)
            if pause > 0:
                if self.world is not None:
                    _COND.wait(pause / 1e9)  # lets other threads in
                else:
                    time.sleep(pause / 1e9)
        return None

    def _strangers(self) -> bool:
        """Before declaring the world stuck while other threads live that
        never called into it (one just started, about to connect): wait up to
        _STRANGER_GRACE_S of wall time for them to show up."""
        if self.world is None:
            return False
        users = {u.thread for u in self.world._users.values()}
        me = threading.current_thread()
        if not any(
            t is not me and t not in users and not getattr(t, "ustack_poller", False)
            for t in threading.enumerate()
        ):  # (the fileno poller, ustack._pump, is no stranger: it steps aside)
            return False
        now = time.monotonic()
        if self.stuck_since is None:
            self.stuck_since = now
        if now - self.stuck_since >= _STRANGER_GRACE_S:
            return False
        _COND.wait(_ACTIVE_PAUSE_S)
        return True

    def _give_up(self, why: str) -> bool:
        """The world is stuck: every thread that uses it waits with no time
        limit.  They all end in Deadlock together, as asyncio's would."""
        self.stuck = why
        if self.world is not None:
            for u in self.world._users.values():
                if u is not self.user and u.waiting and u.limit is None:
                    u.stuck = why
            _COND.notify_all()
        return False

    def _other_limit(self, now: int) -> int | None:
        if self.world is None or self.user is None or self.clock is None:
            return None
        return self.world._other_limit(self.user, now)

    def _others_active(self) -> bool:
        """Before declaring the world stuck: another live thread that is not
        waiting may still act; give it time (without moving the clock)."""
        if self.world is None or self.user is None or not self.world._others_active(self.user):
            return False
        _COND.wait(_ACTIVE_PAUSE_S)
        return True

    def _others_pause(self) -> bool:
        """Before moving the virtual clock or giving up: if another thread of
        the world may still act, let it run for a while and return True."""
        if self.world is None or self.user is None:
            return False
        pause = self.world._hold_back(self.user)
        if pause is None:
            return False
        _COND.wait(pause)
        return True


def run_until(
    stacks: Iterable[Stack],
    until: Callable[[], bool] | int | None = None,
    *,
    timeout_ns: int | None = None,
    max_steps: int = 1_000_000,
) -> bool:
    """Poll ``stacks`` together until ``until`` holds.

    ``until`` is a predicate (checked after every round of polls), an absolute
    time in nanoseconds on the stacks' clock, or None: until the world is quiet
    (nothing pending, or on a virtual clock nothing but idle timers that only
    repeat themselves, see the module documentation).

    On a :class:`VirtualClock` (shared by all the stacks) each round polls
    every stack until all are idle, then jumps the clock to the earliest
    ``next_deadline`` -- time passes only when nothing else can happen.  On the
    monotonic clock it polls, sleeping until the next deadline (at most 1 ms)
    while idle.

    Returns True when ``until`` held, False when ``timeout_ns`` passed or, on
    a virtual clock, the world is stuck so that a predicate could never hold.
    Raises RuntimeError after ``max_steps`` rounds of polls (a livelock).
    """
    group = list(stacks)
    with _LOCK:
        return _Loop(group, until, timeout_ns, max_steps).run()


def settle(stacks: Iterable[Stack], max_rounds: int = 10_000) -> bool:
    """Poll ``stacks`` round after round until a round does no work, without
    moving any clock: the work due now (frames in flight between them,
    expired timers).  False if they were still busy after ``max_rounds``."""
    group = list(stacks)
    for _ in range(max_rounds):
        if sum(st.poll() for st in group) == 0:
            return True
    return False


def run_for(stacks: Iterable[Stack], ns: int) -> None:
    """Drive ``stacks`` for ``ns`` nanoseconds of their (shared) clock."""
    group = list(stacks)
    run_until(group, group[0].now + ns)
