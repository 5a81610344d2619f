"""What a stack needs from a driver object, the record of one attachment, and
how the package finds driver modules."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Generic, TypeVar

from ustack._native import lib
from ustack.world import _LOCK

__all__ = [
    "Closing",
    "DriverEnd",
    "Link",
    "OneLinkEnd",
    "PortQueue",
    "QueuedPort",
    "check_busy",
    "driver_modules",
]

_C = TypeVar("_C", bound="Closing")


def check_busy(subject: str) -> Exception:
    """The EBUSY error for a driver end attached twice."""
    from ustack.errors import error_from_code

    return error_from_code(int(lib.UST_EBUSY), subject)


def driver_modules(package_path: list[str]) -> list[str]:
    """Names of the driver modules (``drivers/<name>/*.py``), found where the
    package runs from.  In a source tree (PYTHONPATH=python_bindings, or an
    editable install) the driver folders join ``package_path`` (the
    package's ``__path__``), so that drivers/pipe/pipe.py is ``ustack.pipe``;
    an installed package has them copied in by setup.py and listed in
    ``_drivers.txt``."""
    here = Path(__file__).resolve().parent
    root = here.parents[1]
    if here == root / "python_bindings" / "ustack" and (root / "drivers").is_dir():
        found = sorted(root.glob("drivers/*/*.py"))
        for d in sorted({str(p.parent) for p in found}):
            if d not in package_path:
                package_path.append(d)
        return [p.stem for p in found]
    listing = here / "_drivers.txt"
    return listing.read_text(encoding="utf-8").split() if listing.exists() else []


class Link:
    """One interface attachment: the ``struct ust_if *`` and whether it is live.

    Shared by the stack and the driver object without references back to
    either, so whichever of the two goes first (even inside a garbage cycle)
    knows whether the C interface still exists: a stack marks its links dead
    when it is destroyed, a driver detaches live links before it frees itself.
    """

    __slots__ = ("ifp", "alive", "on_detach")

    def __init__(self, ifp: Any) -> None:
        self.ifp = ifp
        self.alive = True
        self.on_detach: list[Any] = []

    def detach(self) -> None:
        """Detach the interface now (the stack must still exist)."""
        # Under the worlds' lock: no other thread polls the stack meanwhile
        # (the fileno poller, ustack._pump, polls while the program is away).
        with _LOCK:
            if self.alive:
                self.alive = False
                lib.ust_if_detach(self.ifp)
                for fn in self.on_detach:
                    fn()
                self.on_detach.clear()

    def mark_dead(self) -> None:
        """The stack went away and took the interface with it."""
        self.alive = False
        for fn in self.on_detach:
            fn()
        self.on_detach.clear()


class DriverEnd:
    """Base of driver objects that ``Stack.add_interface`` accepts.

    A subclass returns the driver ops and softc for ``ust_if_attach`` and keeps
    the driver's C object alive while an interface uses it (the Interface keeps
    a reference to its DriverEnd).
    """

    def _attach_args(self) -> tuple[Any, Any]:
        """``(const struct ust_driver_ops *, void *softc)`` for ust_if_attach."""
        raise NotImplementedError

    def _attached(self, link: Link) -> None:
        """Called after a successful attach with the new link."""

    def _shared_key(self) -> object | None:
        """An object shared by every end of the same medium (the pipe of a
        pipe end), so that stacks attached to it are polled together; None
        when the other side is not in this process."""
        return None

    def _in_flight(self) -> bool:
        """True while frames sent towards this end have not arrived yet (a
        delayed pipe): the world is not at rest.  Drivers whose other side
        is outside the process say False."""
        return False


class OneLinkEnd(DriverEnd):
    """A driver end that one interface at a time may use (a TAP device, a
    queue of a port): a second attach while the first is live is EBUSY,
    and ``_detach`` lets the owner close it under a live interface."""

    _link: Link | None = None

    def _label(self) -> str:
        """What the EBUSY error names."""
        raise NotImplementedError

    def _ops_softc(self) -> tuple[Any, Any]:
        """``(ops, softc)`` of the driver, once the end is known free."""
        raise NotImplementedError

    def _attach_args(self) -> tuple[Any, Any]:
        if self._link is not None and self._link.alive:
            raise check_busy(self._label())
        return self._ops_softc()

    def _attached(self, link: Link) -> None:
        self._link = link

    def _detach(self) -> None:
        """Detach the interface using this end, if one does (the stack must
        still exist: a dead link is left alone)."""
        if self._link is not None and self._link.alive:
            self._link.detach()


class Closing:
    """``close()`` at the end of a ``with`` block and when collected (a
    driver object that owns a device, a port or a mapping)."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self: _C) -> _C:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown
            pass


class PortQueue(OneLinkEnd):
    """Queue (ring pair) ``index`` of a :class:`QueuedPort`: one interface
    of one stack.  A driver's subclass gives ``_ops_softc`` and ``_label``."""

    def __init__(self, port: Any, index: int) -> None:
        self._port = port
        self.index = index


_Q = TypeVar("_Q", bound=PortQueue)


class QueuedPort(Closing, Generic[_Q]):
    """A device whose queue pairs are interfaces (a DPDK port, a netmap
    port, AF_XDP sockets): ``queue(i)`` for ``Stack.add_interface``, and
    ``close()`` detaches the interfaces still on it before the driver's
    ``_close_port`` lets the C object go.  ``_p`` is that object (None once
    closed), ``_queues`` the queues, ``_what`` names it in errors."""

    _p: Any = None
    _what = "the port"

    def __init__(self) -> None:
        self._queues: list[_Q] = []

    def _close_port(self, p: Any) -> None:
        raise NotImplementedError

    def queue(self, i: int) -> _Q:
        """Queue pair ``i``, for ``Stack.add_interface``."""
        self._ptr()
        return self._queues[i]

    def _ptr(self) -> Any:
        if self._p is None:
            raise ValueError(f"{self._what} is closed")
        return self._p

    def close(self) -> None:
        """Detach the interfaces still on it, then close it."""
        if self._p is None:
            return
        for q in self._queues:
            q._detach()
        p, self._p = self._p, None
        self._close_port(p)
