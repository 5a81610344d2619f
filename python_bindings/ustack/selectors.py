"""A :class:`selectors.BaseSelector` over ustack sockets.

::

    sel = UstackSelector(stack)
    sel.register(sock, selectors.EVENT_READ, data=handler)
    for key, mask in sel.select(timeout=1.0):
        key.data(key.fileobj, mask)

Built on :class:`~ustack.events.EventQueue`, so ``select()`` runs every stack
of the socket's world while it waits.  ``SelectorKey.fd`` is the socket's
``id`` (ustack sockets have no file descriptor).  Errors and hang-ups are
reported as both readable and writable, as :class:`selectors.EpollSelector`
does.
"""

from __future__ import annotations

import selectors
import types
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

from ustack.events import EV_ERR, EV_HUP, EV_IN, EV_OUT, EventQueue
from ustack.sockets import Socket

if TYPE_CHECKING:
    from ustack.stack import Stack

__all__ = ["UstackSelector", "EVENT_READ", "EVENT_WRITE"]

EVENT_READ = selectors.EVENT_READ
EVENT_WRITE = selectors.EVENT_WRITE


class UstackSelector(selectors.BaseSelector):
    """A selector for the sockets of one stack."""

    def __init__(self, stack: Stack) -> None:
        self._evq = EventQueue(stack)
        self._map: dict[Socket, selectors.SelectorKey] = {}

    @staticmethod
    def _mask(events: int) -> int:
        mask = 0
        if events & EVENT_READ:
            mask |= EV_IN
        if events & EVENT_WRITE:
            mask |= EV_OUT
        return mask

    def _check(self, fileobj: Any, events: int) -> Socket:
        if not isinstance(fileobj, Socket):
            raise ValueError(f"Invalid file object: {fileobj!r} (not a ustack socket)")
        if not events or events & ~(EVENT_READ | EVENT_WRITE):
            raise ValueError(f"Invalid events: {events!r}")
        return fileobj

    def register(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        """Watch a socket for ``EVENT_READ`` and/or ``EVENT_WRITE``."""
        sock = self._check(fileobj, events)
        if sock in self._map:
            raise KeyError(f"{sock!r} is already registered")
        key = selectors.SelectorKey(cast(Any, sock), sock.id, events, data)
        self._evq.register(sock, self._mask(events), key)
        self._map[sock] = key
        return key

    def unregister(self, fileobj: Any) -> selectors.SelectorKey:
        """Stop watching a socket (KeyError if it is not registered)."""
        try:
            key = self._map.pop(fileobj)
        except (KeyError, TypeError):
            raise KeyError(f"{fileobj!r} is not registered") from None
        if fileobj in self._evq:
            self._evq.unregister(fileobj)
        return key

    def modify(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        """Change the events and data of a registered socket."""
        sock = self._check(fileobj, events)
        old = self._map.get(sock)
        if old is None:
            raise KeyError(f"{fileobj!r} is not registered")
        key = selectors.SelectorKey(cast(Any, sock), sock.id, events, data)
        if sock.closed:
            del self._map[sock]
            raise KeyError(f"{fileobj!r} is closed")
        self._evq.modify(sock, self._mask(events), key)
        self._map[sock] = key
        return key

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        """Ready ``(key, events)`` pairs; timeout as :meth:`selectors.BaseSelector.select`
        (None waits, <= 0 polls once), on the stack's clock.  On a virtual clock
        ``select(None)`` that nothing can end raises :class:`~ustack.world.Deadlock`."""
        if timeout is not None:
            timeout = max(timeout, 0.0)
        # Forget sockets closed behind our back.
        for sock in [s for s in self._map if s.closed]:
            del self._map[sock]
        out: list[tuple[selectors.SelectorKey, int]] = []
        for key, ev in self._evq._poll(timeout, -1, "select()"):
            mask = 0
            if ev & ~EV_OUT:
                mask |= EVENT_READ
            if ev & ~EV_IN:
                mask |= EVENT_WRITE
            if ev & (EV_ERR | EV_HUP):
                mask |= EVENT_READ | EVENT_WRITE
            mask &= key.events
            if mask:
                out.append((key, mask))
        return out

    def get_key(self, fileobj: Any) -> selectors.SelectorKey:
        """The key of a registered socket (KeyError if none)."""
        try:
            return self._map[fileobj]
        except (KeyError, TypeError):
            raise KeyError(f"{fileobj!r} is not registered") from None

    def close(self) -> None:
        """Free the event queue and forget every socket."""
        self._map.clear()
        self._evq.close()

    def get_map(self) -> Mapping[Any, selectors.SelectorKey]:
        """Registered sockets -> their keys (read-only)."""
        return types.MappingProxyType(self._map)
