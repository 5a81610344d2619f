"""The fault driver: seeded faults on any other driver.

``Fault(inner, loss=0.01, seed=7)`` wraps a driver end (a :class:`~ustack.Tap`,
one end of a :class:`~ustack.Pipe`, any :class:`~ustack.DriverEnd`) and is
attached in its place::

    clock = ustack.VirtualClock()
    pipe = ustack.Pipe(clock=clock)
    a = ustack.Stack(clock=clock, seed=1)
    a.add_interface(ustack.Fault(pipe.a, loss=0.05, seed=3, clock=clock), "pa0")

Keyword faults (the fields of :class:`Faults`) apply to both directions; give
``tx=`` (frames the stack sends) or ``rx=`` (frames it receives) a
:class:`Faults` each for different ones.  Each direction has its own PRNG, so
a seed replays the same fates (``ustack_fault.h``).  ``clock`` must be the
stack's clock.  Detaching the interface detaches the inner driver too.

This module lives in drivers/fault/ and is imported as ``ustack.fault``.
"""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass
from typing import Any

from ustack._native import UINT64_MAX, ffi, lib, struct_to_dict
from ustack.clock import VirtualClock
from ustack.drivers import DriverEnd, Link, check_busy
from ustack.errors import check

__all__ = ["FAULT_STATS_FIELDS", "Fault", "Faults"]
# Names the package exports as ustack.<name> (python_bindings/ustack/__init__.py).
USTACK_EXPORTS = ("Fault", "Faults")

PPM = 1_000_000
UINT32_MAX = (1 << 32) - 1
UINT64_MASK = (1 << 64) - 1

FAULT_STATS_FIELDS: tuple[str, ...] = (
    "frames",
    "bytes",
    "passed",
    "lost",
    "duplicated",
    "reordered",
    "corrupted",
    "ce_marked",
    "dropped_mtu",
    "dropped_queue",
    "dropped_nombuf",
)
_DIRS = {"tx": 0, "rx": 1}


def _fraction_to_ppm(name: str, value: float) -> int:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"Faults.{name} is a fraction in [0, 1], not {value!r} (10% is 0.1)")
    return int(round(value * PPM))


@dataclass(frozen=True)
class Faults:
    """Faults on one direction of a link (a pipe, a wrapped driver).  All zero: a perfect link.

    Probabilities are fractions in [0, 1] (``loss=0.1`` is 10%), stored as parts
    per million in C.  ``seed`` None derives the direction's seed from the
    pipe's (or :class:`Fault`'s) seed.
    """

    loss: float = 0.0
    """Probability that a frame is silently lost."""
    dup: float = 0.0
    """Probability that a frame is delivered twice."""
    reorder: float = 0.0
    """Probability that a frame is held back ``reorder_ns`` so later ones pass it."""
    corrupt: float = 0.0
    """Probability that one random bit of a frame is flipped."""
    delay_ns: int = 0
    """One-way propagation delay."""
    jitter_ns: int = 0
    """Extra delay, uniform in [0, jitter_ns]; order is kept."""
    reorder_ns: int = 0
    """Hold-back of a reordered frame (0: 1 ms)."""
    rate_bps: int = 0
    """Link rate in bit/s (0: infinite)."""
    mtu: int = 0
    """Frames with more payload than this are dropped (0: the link's MTU)."""
    queue_limit: int = 0
    """Frames in flight at most, more are tail-dropped (0: the ring size or capacity)."""
    seed: int | None = None
    """The direction's PRNG seed (None: derived from the pipe's seed)."""
    ce: float = 0.0
    """Probability that an ECT IPv4 frame is marked CE (RFC 3168); Not-ECT never is."""
    ce_threshold: int = 0
    """Mark ECT frames CE while more than this many frames are in flight (0: off)."""

    def __post_init__(self) -> None:
        for name in ("loss", "dup", "reorder", "corrupt", "ce"):
            _fraction_to_ppm(name, float(getattr(self, name)))
        for name in ("delay_ns", "jitter_ns", "reorder_ns", "rate_bps"):
            value = getattr(self, name)
            if not 0 <= value <= UINT64_MASK:
                raise ValueError(f"Faults.{name} must be in [0, 2**64), not {value!r}")
        for name in ("mtu", "queue_limit", "ce_threshold"):
            value = getattr(self, name)
            if not 0 <= value <= UINT32_MAX:
                raise ValueError(f"Faults.{name} must be in [0, 2**32), not {value!r}")

    def as_dict(self) -> dict[str, Any]:
        """The fields as a plain dict."""
        return asdict(self)

    def _fill(self, fc: Any, default_seed: int) -> None:
        fc.loss_ppm = _fraction_to_ppm("loss", self.loss)
        fc.dup_ppm = _fraction_to_ppm("dup", self.dup)
        fc.reorder_ppm = _fraction_to_ppm("reorder", self.reorder)
        fc.corrupt_ppm = _fraction_to_ppm("corrupt", self.corrupt)
        fc.delay_ns = self.delay_ns
        fc.jitter_ns = self.jitter_ns
        fc.reorder_ns = self.reorder_ns
        fc.rate_bps = self.rate_bps
        fc.mtu = self.mtu
        fc.queue_limit = self.queue_limit
        fc.ce_ppm = _fraction_to_ppm("ce", self.ce)
        fc.ce_threshold = self.ce_threshold
        fc.seed = (self.seed if self.seed is not None else default_seed) & UINT64_MASK


class Fault(DriverEnd):
    """A driver end with seeded faults on both directions (``struct ust_fault``)."""

    def __init__(
        self,
        inner: DriverEnd,
        tx: Faults | None = None,
        rx: Faults | None = None,
        *,
        clock: VirtualClock | None = None,
        seed: int | None = None,
        capacity: int = 1024,
        **faults: Any,
    ) -> None:
        if not isinstance(inner, DriverEnd):
            raise TypeError(f"Fault wraps a driver end such as pipe.a or a Tap, not {inner!r}")
        both = Faults(**faults) if faults else Faults()
        self.inner = inner
        self.seed: int = secrets.randbits(63) if seed is None else seed
        self.clock = clock
        self._faults = {"tx": tx or both, "rx": rx or both}
        ops, softc = inner._attach_args()
        cfg = ffi.new("struct ust_fault_wrap_config *")
        lib.ust_fault_wrap_config_init(cfg)
        cfg.capacity = capacity
        if clock is not None:
            cfg.clock = clock._c_clock()
        for name, d in _DIRS.items():
            self._faults[name]._fill(cfg.fault[d], self._dir_seed(d))
        out = ffi.new("struct ust_fault **")
        check(lib.ust_fault_wrap(ops, softc, cfg, out), "fault")
        # Destroyed by close(), also from __del__, and never by an ffi.gc
        # destructor: inside a garbage cycle those run in any order with the
        # stacks' finalizers, and a stack destroyed after its wrapper
        # detached through freed memory (fw_detach).  close() detaches a
        # live interface first, so either order is safe (as Pipe does).
        self._fw: Any = out[0]
        self._link: Link | None = None

    def _ptr(self) -> Any:
        if self._fw is None:
            raise ValueError("the fault wrapper is closed")
        return self._fw

    def close(self) -> None:
        """Detach the interface using the wrapper (if one still does) and
        free it; idempotent.  The wrapped end stays open."""
        fw, self._fw = self._fw, None
        if fw is None:
            return
        link = self._link
        if link is not None and link.alive:
            link.detach()
        lib.ust_fault_wrap_destroy(fw)

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown: the module may be gone
            pass

    @property
    def closed(self) -> bool:
        """True once :meth:`close` ran."""
        return self._fw is None

    def _dir_seed(self, d: int) -> int:
        return (self.seed + d * 0x9E3779B97F4A7C15) & UINT64_MASK

    def faults(self, direction: str) -> Faults:
        """The faults of ``'tx'`` or ``'rx'``."""
        return self._faults[direction]

    def set_faults(self, direction: str, faults: Faults) -> None:
        """Change the faults of ``'tx'`` or ``'rx'`` (reseeds that direction)."""
        d = _DIRS[direction]
        fc = ffi.new("struct ust_fault_config *")
        faults._fill(fc, self._dir_seed(d))
        check(lib.ust_fault_wrap_set_faults(self._ptr(), d, fc), "fault")
        self._faults[direction] = faults

    def stats(self, direction: str) -> dict[str, int]:
        """Counters of ``'tx'`` or ``'rx'`` (``struct ust_fault_stats`` names)."""
        out = ffi.new("struct ust_fault_stats *")
        lib.ust_fault_wrap_get_stats(self._ptr(), _DIRS[direction], out)
        return struct_to_dict(out, FAULT_STATS_FIELDS)

    def _attach_args(self) -> tuple[Any, Any]:
        if self._link is not None and self._link.alive:
            raise check_busy("fault wrapper")
        return lib.ust_fault_wrap_ops(), lib.ust_fault_wrap_softc(self._ptr())

    def _attached(self, link: Link) -> None:
        # The inner driver is attached through us: closing it (pipe.close,
        # tap.close) detaches this interface as for a direct attach.
        self._link = link
        self.inner._attached(link)

    def _shared_key(self) -> object | None:
        return self.inner._shared_key()

    def _in_flight(self) -> bool:
        # Frames the wrapper holds back (delay, reordering) or the inner
        # driver still carries: the world is not at rest (ustack.world).
        if self._fw is None:
            return bool(self.inner._in_flight())
        ops = lib.ust_fault_wrap_ops()
        soft = lib.ust_fault_wrap_softc(self._fw)
        return int(ops.next_deadline(soft)) != UINT64_MAX or self.inner._in_flight()

    def __repr__(self) -> str:
        return f"<Fault seed={self.seed} on {self.inner!r}>"
