"""The skeleton driver: two Ethernet ends joined by rings in memory, the
template for a new driver (``ustack_skeleton.h``; drivers/README.md).

>>> sk = Skeleton()
>>> a.add_interface(sk.a, "sk0", "198.18.0.1/24")
>>> b.add_interface(sk.b, "sk1", "198.18.0.2/24")

A driver's Python module is this small: a :class:`~ustack.DriverEnd` per end
that returns the C ops and softc, and the names to export as ``ustack.X``
(``USTACK_EXPORTS``).  It lives in drivers/skeleton/ and is imported as
``ustack.skeleton``.
"""

from __future__ import annotations

from typing import Any

from ustack._native import ffi, lib, struct_to_dict
from ustack.drivers import DriverEnd, Link, check_busy
from ustack.errors import check

__all__ = ["SKELETON_STATS_FIELDS", "Skeleton", "SkeletonEnd"]
USTACK_EXPORTS = ("Skeleton",)

SKELETON_STATS_FIELDS = (
    "tx_frames",
    "tx_full",
    "tx_errors",
    "rx_frames",
    "rx_lent",
    "rx_nombuf",
    "lent_now",
)


class SkeletonEnd(DriverEnd):
    """End 0 or 1 of a :class:`Skeleton`."""

    def __init__(self, sk: Skeleton, side: int) -> None:
        self.sk = sk
        self.side = side

    def _attach_args(self) -> tuple[Any, Any]:
        link = self.sk._links[self.side]
        if link is not None and link.alive:
            raise check_busy(f"skeleton end {self.side}")
        return lib.ust_skeleton_ops(), lib.ust_skeleton_end(self.sk._ptr(), self.side)

    def _attached(self, link: Link) -> None:
        self.sk._links[self.side] = link

    def _shared_key(self) -> object | None:
        return self.sk

    @property
    def stats(self) -> dict[str, int]:
        """This end's counters (``struct ust_skeleton_stats`` names)."""
        out = ffi.new("struct ust_skeleton_stats *")
        lib.ust_skeleton_get_stats(self.sk._ptr(), self.side, out)
        return struct_to_dict(out, SKELETON_STATS_FIELDS)


class Skeleton:
    """Two joined ends (``struct ust_skeleton``); ``caps`` may hold
    ``UST_IFCAP_TXCSUM`` and ``UST_IFCAP_TSO4`` (done in software)."""

    def __init__(
        self, *, mtu: int = 1500, nbufs: int = 256, caps: int = 0, lend: bool = True
    ) -> None:
        cfg = ffi.new("struct ust_skeleton_config *")
        lib.ust_skeleton_config_init(cfg)
        cfg.mtu = mtu
        cfg.nbufs = nbufs
        cfg.lend_min_free = nbufs // 4
        cfg.caps = caps
        cfg.lend = 1 if lend else 0
        out = ffi.new("struct ust_skeleton **")
        check(lib.ust_skeleton_create(cfg, out), "skeleton")
        # Destroyed by close(), also from __del__, and never by an ffi.gc
        # destructor: inside a garbage cycle those run in any order with the
        # stacks' finalizers, so a stack could be destroyed after its driver.
        # close() detaches the live interfaces first, so either order is
        # safe; ust_skeleton_destroy keeps the memory while buffers it lent
        # sit in a stack (TEMPLATE: a new driver's Python object does this).
        self._p: Any = out[0]
        self._links: list[Link | None] = [None, None]

    def _ptr(self) -> Any:
        if self._p is None:
            raise ValueError("the skeleton is closed")
        return self._p

    @property
    def a(self) -> SkeletonEnd:
        """End 0."""
        return SkeletonEnd(self, 0)

    @property
    def b(self) -> SkeletonEnd:
        """End 1."""
        return SkeletonEnd(self, 1)

    def close(self) -> None:
        """Detach any interface still using an end and free the driver;
        idempotent."""
        p, self._p = self._p, None
        if p is None:
            return
        for link in self._links:
            if link is not None and link.alive:
                link.detach()
        lib.ust_skeleton_destroy(p)

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown: the module may be gone
            pass
