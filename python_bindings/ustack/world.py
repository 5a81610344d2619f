"""Worlds: the stacks that have to be polled together.

Nothing happens in a stack unless it is polled, and a frame sent by stack A
reaches stack B only when both are polled.  So a blocking call on one stack
(``sock.recvfrom()``, ``EventQueue.poll()``) has to run every stack its
frames may pass through.  A :class:`World` is that set: stacks on one
:class:`~ustack.clock.VirtualClock` share a world, and attaching two stacks
to the two ends of one pipe merges their worlds.  ``stack.world`` is the
stack's current world.

A world is run with :func:`ustack.stack.run_until`'s loop: on a virtual clock
time jumps to the next deadline whenever every stack is idle, so a blocking
call that waits for a 2-second timeout costs no wall-clock time.
"""

from __future__ import annotations

import sys
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ustack.clock import VirtualClock
    from ustack.stack import Stack

__all__ = ["World"]

# Each shared object (a VirtualClock, a Pipe) -> the world of the stacks using it.
_BY_KEY: weakref.WeakKeyDictionary[object, World] = weakref.WeakKeyDictionary()


class World:
    """A set of stacks polled together by blocking calls (see the module doc)."""

    def __init__(self) -> None:
        self._refs: list[weakref.ref[Stack]] = []
        self._merged: World | None = None

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
        self._refs.append(weakref.ref(stack))

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
        other._refs.extend(me._refs)
        me._refs = []
        me._merged = other
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

    # --- running ------------------------------------------------------------

    def poll(self) -> int:
        """One poll of every stack; returns the total work done."""
        return sum(st.poll() for st in self.stacks)

    def run_until(
        self,
        until: Callable[[], bool] | int | None = None,
        *,
        timeout_ns: int | None = None,
        max_steps: int = 1_000_000,
    ) -> bool:
        """:func:`ustack.stack.run_until` over every stack of the world."""
        from ustack.stack import run_until

        return run_until(self.stacks, until, timeout_ns=timeout_ns, max_steps=max_steps)

    def run_for(self, ns: int) -> None:
        """Run every stack for ``ns`` nanoseconds of the shared clock."""
        stacks = self.stacks
        if stacks:
            self.run_until(stacks[0].now + ns)

    def wait(self, ready: Callable[[], bool], timeout_ns: int | None) -> bool:
        """Run the world until ``ready()`` holds or ``timeout_ns`` passes.

        The engine of blocking calls.  ``ready`` is checked after every round
        of polls (an exception it raises propagates).  Returns False on
        timeout; on a virtual clock also when nothing is pending any more, so
        that ``ready`` could never hold, after moving the clock to the
        timeout (if there is one) as a real wait would have taken that long.
        """
        stacks = self.stacks
        if not stacks:
            return bool(ready())
        for st in stacks:
            if st._polling:
                raise RuntimeError(
                    "a blocking ustack call was made from inside a stack callback "
                    "(upcall, input or capture hook); make the socket non-blocking "
                    "with setblocking(False) there"
                )
        from ustack.stack import run_until

        clock = stacks[0].clock
        start = stacks[0].now
        # On the real clock a blocking call may wait as long as it likes.
        max_steps = 1_000_000 if clock is not None else sys.maxsize
        if run_until(stacks, ready, timeout_ns=timeout_ns, max_steps=max_steps):
            return True
        if clock is not None and timeout_ns is not None and clock.now < start + timeout_ns:
            clock.set(start + timeout_ns)
        return False

    def __repr__(self) -> str:
        return f"<World stacks={len(self.stacks)}>"
