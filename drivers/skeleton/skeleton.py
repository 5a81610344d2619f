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
        return lib.ust_skeleton_ops(), lib.ust_skeleton_end(self.sk._p, self.side)

    def _attached(self, link: Link) -> None:
        self.sk._links[self.side] = link

    def _shared_key(self) -> object | None:
        return self.sk

    @property
    def stats(self) -> dict[str, int]:
        """This end's counters (``struct ust_skeleton_stats`` names)."""
        out = ffi.new("struct ust_skeleton_stats *")
        lib.ust_skeleton_get_stats(self.sk._p, self.side, out)
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
        # Freed when the cdata goes (after the stacks' finalizers detach),
        # or later still if buffers are lent (ust_skeleton_destroy).
        self._p: Any = ffi.gc(out[0], lib.ust_skeleton_destroy)
        self._links: list[Link | None] = [None, None]

    @property
    def a(self) -> SkeletonEnd:
        """End 0."""
        return SkeletonEnd(self, 0)

    @property
    def b(self) -> SkeletonEnd:
        """End 1."""
        return SkeletonEnd(self, 1)

    def close(self) -> None:
        """Detach any interface still using an end."""
        for link in self._links:
            if link is not None and link.alive:
                link.detach()
