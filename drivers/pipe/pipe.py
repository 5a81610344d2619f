"""The in-memory pipe driver: two Ethernet endpoints with seeded fault injection.

>>> clock = VirtualClock()
>>> pipe = Pipe(clock=clock, a_to_b=Faults(loss=0.1, seed=1))
>>> a = Stack(clock=clock, seed=1); b = Stack(clock=clock, seed=2)
>>> ia = a.add_interface(pipe.a, "pa0"); ib = b.add_interface(pipe.b, "pb0")

Faults are applied on the sending side with each direction's own PRNG, so a
seed replays the same losses, duplicates, reorderings, bit flips and CE marks.
They are the fault driver's (:mod:`ustack.fault`), built into the pipe.

With ``lanes=n`` each side has n lane ends (``pipe.lane("a", i)``), as a NIC
has n queue pairs, for a group of n stacks (one per lane): a frame sent on any
lane arrives on the lane of the other side that ``steer`` picks: its RSS lane
(Toeplitz hash, marked on the frame), the lane it was sent on, or on purpose
the next lane (``"spread"``, to exercise a group's software re-steering).

This module lives in drivers/pipe/ and is imported as ``ustack.pipe``.
"""

from __future__ import annotations

import enum
import secrets
from typing import Any

from ustack._native import UINT64_MAX, ffi, lib, struct_to_dict
from ustack._util import parse_mac
from ustack.clock import VirtualClock
from ustack.drivers import DriverEnd, Link, check_busy
from ustack.errors import check
from ustack.fault import UINT64_MASK, Faults

__all__ = [
    "Direction",
    "Faults",
    "Steer",
    "Pipe",
    "PipeEnd",
    "PIPE_STATS_FIELDS",
    "PIPE_TSO_CAPS",
    "PIPE_TSO6_CAPS",
]
# Names the package exports as ustack.<name> (python_bindings/ustack/__init__.py).
USTACK_EXPORTS = ("Direction", "Pipe", "PipeEnd", "Steer")
# Large segments on the pipe: all four or none (ust_pipe_create: -EINVAL).
PIPE_TSO_CAPS = int(
    lib.UST_IFCAP_TSO4 | lib.UST_IFCAP_LRO | lib.UST_IFCAP_TXCSUM | lib.UST_IFCAP_RXCSUM
)
# The same for TCP/IPv6 (TSO6 needs TXCSUM_IPV6, RXCSUM and LRO); may be
# combined with PIPE_TSO_CAPS.
PIPE_TSO6_CAPS = int(
    lib.UST_IFCAP_TSO6 | lib.UST_IFCAP_LRO | lib.UST_IFCAP_TXCSUM_IPV6 | lib.UST_IFCAP_RXCSUM
)

PIPE_STATS_FIELDS: tuple[str, ...] = (
    "sent",
    "sent_bytes",
    "delivered",
    "delivered_bytes",
    "lost",
    "duplicated",
    "reordered",
    "corrupted",
    "dropped_mtu",
    "dropped_queue",
    "dropped_nombuf",
    "ce_marked",
    "lent",
    "lend_copied",
    "returned",
)


class Direction(enum.IntEnum):
    """A direction of a pipe (``enum ust_pipe_dir``)."""

    A_TO_B = int(lib.UST_PIPE_A_TO_B)
    B_TO_A = int(lib.UST_PIPE_B_TO_A)

    @classmethod
    def parse(cls, value: Direction | int | str) -> Direction:
        """Accept a Direction, its int, or ``'a_to_b'``/``'ab'``/``'b_to_a'``/``'ba'``."""
        if isinstance(value, str):
            key = value.strip().lower().replace("-", "_").replace(">", "_to_")
            aliases = {
                "a_to_b": cls.A_TO_B,
                "ab": cls.A_TO_B,
                "b_to_a": cls.B_TO_A,
                "ba": cls.B_TO_A,
            }
            if key not in aliases:
                raise ValueError(f"unknown direction {value!r}: use 'a_to_b' or 'b_to_a'")
            return aliases[key]
        return cls(int(value))


class Steer(enum.IntEnum):
    """Which lane of the receiving side a frame arrives on (``enum ust_pipe_steer``)."""

    RSS = int(lib.UST_PIPE_STEER_RSS)
    SAME = int(lib.UST_PIPE_STEER_SAME)
    SPREAD = int(lib.UST_PIPE_STEER_SPREAD)

    @classmethod
    def parse(cls, value: Steer | int | str) -> Steer:
        """Accept a Steer, its int, or ``'rss'``/``'same'``/``'spread'``."""
        if isinstance(value, str):
            try:
                return cls[value.strip().upper()]
            except KeyError:
                raise ValueError(
                    f"unknown steer mode {value!r}: use 'rss', 'same' or 'spread'"
                ) from None
        return cls(int(value))


def _parse_side(side: int | str) -> int:
    if isinstance(side, str):
        key = side.strip().lower()
        if key not in ("a", "b"):
            raise ValueError(f"unknown pipe side {side!r}: use 'a' or 'b'")
        return int(lib.UST_PIPE_A if key == "a" else lib.UST_PIPE_B)
    if int(side) not in (int(lib.UST_PIPE_A), int(lib.UST_PIPE_B)):
        raise ValueError(f"unknown pipe side {side!r}")
    return int(side)


class PipeEnd(DriverEnd):
    """One end (A or B; a lane of it with lanes) of a :class:`Pipe`, to pass to
    ``Stack.add_interface`` (or, all lanes of a side, to a group)."""

    def __init__(self, pipe: Pipe, side: int, lane: int = 0) -> None:
        self.pipe = pipe
        self.side = side
        self.lane = lane

    @property
    def label(self) -> str:
        """``'a'`` or ``'b'``; with lanes ``'a0'``, ``'b3'``..."""
        name = "a" if self.side == lib.UST_PIPE_A else "b"
        return name if self.pipe.lanes == 1 else f"{name}{self.lane}"

    def _softc(self) -> Any:
        return lib.ust_pipe_lane_end(self.pipe._p, self.side, self.lane)

    def _attach_args(self) -> tuple[Any, Any]:
        self.pipe._check_open()
        link = self.pipe._links[self.side][self.lane]
        if link is not None and link.alive:
            raise check_busy(f"pipe end {self.label}")
        return lib.ust_pipe_ops(), self._softc()

    def _attached(self, link: Link) -> None:
        self.pipe._links[self.side][self.lane] = link

    def _shared_key(self) -> object | None:
        return self.pipe

    def fileno(self) -> int:
        """The end's descriptor (``Pipe(notify=True)``), readable when frames
        may be waiting for it; -1 without notify."""
        self.pipe._check_open()
        return int(lib.ust_pipe_ops().get_fd(self._softc()))

    def _in_flight(self) -> bool:
        if self.pipe._closed:
            return False
        ops = lib.ust_pipe_ops()
        return int(ops.next_deadline(self._softc())) != UINT64_MAX

    def __repr__(self) -> str:
        return f"<PipeEnd {self.label} of {self.pipe!r}>"


class Pipe:
    """Two Ethernet endpoints joined by two one-way links with fault injection.

    ``clock`` must be the clock of the stacks on both ends (the same
    :class:`VirtualClock` in a simulation; None for the monotonic clock).
    ``seed`` seeds directions whose :class:`Faults` have no seed of their own;
    None picks a random one, shown as :attr:`seed` so that a run can be replayed.
    ``caps`` are the ``UST_IFCAP_*`` bits both ends advertise: RXCSUM|TXCSUM for
    checksum offload, and with them TSO4|LRO (:data:`PIPE_TSO_CAPS`) for large
    segments, which cross whole as between two NICs with TSO and LRO (slots then
    hold 64 KB: keep ``ring_size`` modest); RXCSUM|TXCSUM_IPV6 and
    :data:`PIPE_TSO6_CAPS` are the same for IPv6.

    ``lanes`` (1..64) gives each side that many lane ends (:meth:`lane`,
    :meth:`lanes_of`); ``steer`` (:class:`Steer` or ``'rss'``, ``'same'``,
    ``'spread'``) picks the receiving lane, ``rss_key`` (40 bytes; None: the
    standard key) the Toeplitz key, ``rss_mark`` whether frames arrive marked
    with the hash.  Each ring (sending lane to receiving lane) holds
    ``ring_size`` frames, and each sending lane has its own fault injector.
    ``notify`` gives every end a descriptor (:meth:`PipeEnd.fileno`) readable
    when frames may be waiting, for threads that sleep instead of spinning.

    ``lend`` (default on) moves frames without copying their payload: the
    receiver gets a copy of the headers and read-only references to the
    sender's buffers, which go back to the sender once read; frames are copied
    when a fault changes bytes (duplicate, corrupt), when ``lend_max`` frames
    are out per sending lane (0: ring_size * lanes), when the sender's buffers
    run low, or when the payload is under ``lend_min`` bytes (default 2048:
    MTU-sized frames copy, jumbo and TSO frames are lent).  The stats count
    ``lent``, ``lend_copied`` (budget or low buffers) and ``returned``.
    """

    def __init__(
        self,
        *,
        mtu: int = 1500,
        ring_size: int = 1024,
        clock: VirtualClock | None = None,
        a_to_b: Faults | None = None,
        b_to_a: Faults | None = None,
        seed: int | None = None,
        caps: int = 0,
        macs: tuple[str, str] | None = None,
        lanes: int = 1,
        steer: Steer | int | str = Steer.RSS,
        rss_key: bytes | None = None,
        rss_mark: bool = True,
        notify: bool = False,
        lend: bool = True,
        lend_max: int = 0,
        lend_min: int = 2048,
    ) -> None:
        if ring_size <= 0 or ring_size & (ring_size - 1):
            raise ValueError(f"ring_size must be a power of two, not {ring_size}")
        if not 1 <= lanes <= int(lib.UST_PIPE_LANES_MAX):
            raise ValueError(f"lanes must be 1..{int(lib.UST_PIPE_LANES_MAX)}, not {lanes}")
        if rss_key is not None and len(rss_key) != 40:
            raise ValueError(f"rss_key must be 40 bytes, not {len(rss_key)}")
        self.lanes: int = lanes
        self.steer: Steer = Steer.parse(steer)
        self.seed: int = secrets.randbits(63) if seed is None else seed
        self.clock = clock
        self._faults = {Direction.A_TO_B: a_to_b or Faults(), Direction.B_TO_A: b_to_a or Faults()}
        self._links: list[list[Link | None]] = [[None] * lanes, [None] * lanes]
        cfg = ffi.new("struct ust_pipe_config *")
        lib.ust_pipe_config_init(cfg)
        cfg.mtu = mtu
        cfg.ring_size = ring_size
        cfg.caps = caps
        cfg.lanes = lanes
        cfg.steer = int(self.steer)
        cfg.rss_mark = 1 if rss_mark else 0
        cfg.notify = 1 if notify else 0
        cfg.lend = 1 if lend else 0
        cfg.lend_max = lend_max
        cfg.lend_min = lend_min
        if rss_key is not None:
            for i, byte in enumerate(rss_key):
                cfg.rss_key[i] = byte
        if macs is not None:
            for i, text in enumerate(macs):
                for j, byte in enumerate(parse_mac(text)):
                    cfg.mac[i][j] = byte
        if clock is not None:
            cfg.clock = clock._c_clock()
        for d, faults in self._faults.items():
            faults._fill(cfg.fault[d], self._dir_seed(d))
        out = ffi.new("struct ust_pipe **")
        check(lib.ust_pipe_create(cfg, out), "pipe")
        # Destroyed by close(), also from __del__, and never by an ffi.gc
        # destructor: inside a garbage cycle those run in any order with the
        # stacks' finalizers, and a stack destroyed after its pipe detached
        # from freed memory.  A finalizer detaches live ends first, so either
        # order is safe (drivers.Link).
        self._p: Any = out[0]
        self._closed = False

    def _dir_seed(self, d: Direction) -> int:
        # Distinct, reproducible seeds per direction.
        return (self.seed + int(d) * 0x9E3779B97F4A7C15) & UINT64_MASK

    def _check_open(self) -> None:
        if self._closed:
            raise ValueError("the pipe is closed")

    @property
    def a(self) -> PipeEnd:
        """End A (its frames go A -> B)."""
        return PipeEnd(self, int(lib.UST_PIPE_A))

    @property
    def b(self) -> PipeEnd:
        """End B."""
        return PipeEnd(self, int(lib.UST_PIPE_B))

    def lane(self, side: int | str, lane: int) -> PipeEnd:
        """Lane ``lane`` of side ``'a'`` or ``'b'`` (lane 0 is :attr:`a` / :attr:`b`)."""
        if not 0 <= lane < self.lanes:
            raise ValueError(f"lane {lane} out of range: the pipe has {self.lanes}")
        return PipeEnd(self, _parse_side(side), lane)

    def lanes_of(self, side: int | str) -> list[PipeEnd]:
        """Every lane end of a side, lane 0 first (one per stack of a group)."""
        return [self.lane(side, i) for i in range(self.lanes)]

    def faults(self, direction: Direction | int | str) -> Faults:
        """The faults last set on a direction."""
        return self._faults[Direction.parse(direction)]

    def set_faults(self, direction: Direction | int | str, faults: Faults) -> None:
        """Change the faults of one direction (from the sending end's thread)."""
        self._check_open()
        d = Direction.parse(direction)
        fc = ffi.new("struct ust_fault_config *")
        faults._fill(fc, self._dir_seed(d))
        check(lib.ust_pipe_set_faults(self._p, int(d), fc), "pipe")
        self._faults[d] = faults

    def stats(self, direction: Direction | int | str) -> dict[str, int]:
        """Counters of one direction as a dict (``struct ust_pipe_stats`` names)."""
        self._check_open()
        out = ffi.new("struct ust_pipe_stats *")
        lib.ust_pipe_get_stats(self._p, int(Direction.parse(direction)), out)
        return struct_to_dict(out, PIPE_STATS_FIELDS)

    def lane_stats(self, direction: Direction | int | str, lane: int) -> dict[str, int]:
        """One lane's share of a direction's counters: what the sending side's
        lane ``lane`` sent (``sent`` .. ``dropped_queue``, ``ce_marked``) and
        what the receiving side's lane ``lane`` received (``delivered``,
        ``delivered_bytes``, ``dropped_nombuf``)."""
        self._check_open()
        out = ffi.new("struct ust_pipe_stats *")
        check(
            lib.ust_pipe_get_lane_stats(self._p, int(Direction.parse(direction)), lane, out),
            "pipe",
        )
        return struct_to_dict(out, PIPE_STATS_FIELDS)

    def close(self) -> None:
        """Detach any interface still using an end, then destroy the pipe."""
        if self._closed:
            return
        for side in self._links:
            for link in side:
                if link is not None and link.alive:
                    link.detach()
        self._closed = True
        lib.ust_pipe_destroy(self._p)

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown: the module may be gone
            pass

    def __enter__(self) -> Pipe:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        lanes = f" lanes={self.lanes} steer={self.steer.name.lower()}" if self.lanes > 1 else ""
        return f"<Pipe seed={self.seed}{lanes} {state}>"
