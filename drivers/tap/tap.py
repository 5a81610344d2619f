"""A TAP device: a stack on an Ethernet interface of the host kernel.

``Tap(name)`` opens Linux's /dev/net/tun as a TAP device (needs root or
CAP_NET_ADMIN); the kernel's side is an interface called ``name`` in the
network namespace of this process, and it disappears when the Tap is closed.
Pass the Tap to ``Stack.add_interface`` like a pipe end.  Run it inside a
namespace made for the purpose (see :mod:`ustack.netns`), never on the host's
own network.

With ``offload`` (the default) the device carries a virtio-net header:
checksums are left to the kernel and TCP sends segments of up to 64 KB
that the kernel cuts (TSO), and the kernel hands up coalesced frames
larger than the MTU (GRO); ``offload=False`` gives plain frames.

``io="vec"`` (the default) moves frames with readv/writev straight from and
into the stack's buffers; ``io="copy"`` goes through a buffer of the driver
(one copy each way, the driver before issue 19), for comparison.

With ``queues=n`` (Linux IFF_MULTI_QUEUE) the device has n queues, each its
own descriptor: ``tap.queue(i)`` is queue i for ``Stack.add_interface`` (one
stack per queue, as a group attaches them), the Tap itself is queue 0.  The
kernel spreads the frames it sends over the queues by its own flow hash, or
to the queue a flow's frames were last written on.

This module lives in drivers/tap/ and is imported as ``ustack.tap``.
"""

from __future__ import annotations

from typing import Any

from ustack._native import cstr, ffi, lib, struct_to_dict
from ustack._util import parse_mac
from ustack.drivers import Closing, Link, OneLinkEnd
from ustack.errors import check, strerror

__all__ = ["Tap", "TapQueue", "TAP_STATS_FIELDS"]
# Names the package exports as ustack.<name> (python_bindings/ustack/__init__.py).
USTACK_EXPORTS = ("Tap", "TapQueue")

TAP_STATS_FIELDS = (
    "rx_frames",
    "rx_bytes",
    "rx_nombuf",
    "tx_frames",
    "tx_bytes",
    "tx_errors",
    "tx_full",
    "tx_tso",
    "tx_csum",
    "rx_gso",
    "rx_csum",
)


class TapQueue(OneLinkEnd):
    """Queue ``index`` of a multi-queue :class:`Tap`: one interface of one stack."""

    def __init__(self, tap: Tap, index: int) -> None:
        self.tap = tap
        self.index = index

    def fileno(self) -> int:
        """The queue's descriptor: readable when frames wait."""
        return int(lib.ust_tap_queue_fd(self.tap._ptr(), self.index))

    @property
    def stats(self) -> dict[str, int]:
        """This queue's counters (``struct ust_tap_stats`` names)."""
        return self.tap.queue_stats(self.index)

    def _label(self) -> str:
        return f"tap {self.tap.name} queue {self.index}"

    def _ops_softc(self) -> tuple[Any, Any]:
        return lib.ust_tap_ops(), lib.ust_tap_queue_softc(self.tap._ptr(), self.index)

    def __repr__(self) -> str:
        return f"<TapQueue {self.index} of {self.tap!r}>"


class Tap(OneLinkEnd, Closing):
    """One TAP device (``struct ust_tap``); with ``queues`` > 1 a multi-queue
    one whose queue 0 is the Tap itself and queue i is :meth:`queue`."""

    def __init__(
        self,
        name: str = "",
        *,
        mac: str | None = None,
        mtu: int = 1500,
        offload: bool = True,
        queues: int = 1,
        rss_steer: bool = True,
        rss_key: bytes | None = None,
        io: str = "vec",
    ) -> None:
        raw = name.encode()
        modes = {"vec": int(lib.UST_TAP_IO_VEC), "copy": int(lib.UST_TAP_IO_COPY)}
        if io not in modes:
            raise ValueError(f"io must be one of {sorted(modes)}, not {io!r}")
        if len(raw) > 15:
            raise ValueError(f"interface name {name!r} is longer than 15 bytes")
        if not 1 <= queues <= int(lib.UST_TAP_QUEUES_MAX):
            raise ValueError(f"queues must be 1..{int(lib.UST_TAP_QUEUES_MAX)}, not {queues}")
        cfg = ffi.new("struct ust_tap_config *")
        lib.ust_tap_config_init(cfg)
        cfg.name = raw
        cfg.mtu = mtu
        cfg.offload = 1 if offload else 0
        cfg.queues = queues
        cfg.rss_steer = 1 if rss_steer else 0
        cfg.io = modes[io]
        if rss_key is not None:
            key = bytes(rss_key)
            if len(key) != 40:
                raise ValueError(f"an RSS key has 40 bytes, not {len(key)}")
            cfg.rss_key = key
            cfg.rss_key_set = 1
        if mac is not None:
            cfg.mac = parse_mac(mac)
            cfg.mac_set = 1
        out = ffi.new("struct ust_tap **")
        check(lib.ust_tap_open(cfg, out), f"/dev/net/tun ({name or 'tap'})")
        self._t: Any = out[0]
        self._queues = [TapQueue(self, i) for i in range(queues)]

    @property
    def queues(self) -> int:
        """The number of queues."""
        return len(self._queues)

    @property
    def rss_steering(self) -> int:
        """The steering program: 1 installed, 0 not asked for (one queue or
        ``rss_steer=False``), else the negative ``UST_E*`` code of the
        kernel's refusal (``ust_tap_rss_steering``)."""
        return int(lib.ust_tap_rss_steering(self._ptr()))

    @property
    def rss_steered(self) -> bool:
        """Whether the steering program is installed: every frame arrives
        on the queue its Toeplitz hash names."""
        return self.rss_steering == 1

    def rss_steering_note(self) -> str:
        """One line for summaries: the program installed, or why not."""
        rc = self.rss_steering
        if rc == 1:
            return (
                f"tap {self.name}: steering program installed: the kernel sends each frame "
                f"to the queue its Toeplitz hash names ({self.queues} queues)"
            )
        if rc == 0:
            return f"tap {self.name}: no steering program: the kernel spreads the queues"
        return (
            f"tap {self.name}: steering program refused ({strerror(rc)}): the kernel "
            "spreads the queues by its own hash"
        )

    def queue(self, i: int) -> TapQueue:
        """Queue ``i`` for ``Stack.add_interface`` (queue 0 is the Tap's own)."""
        self._ptr()
        if not 0 <= i < len(self._queues):
            raise ValueError(f"queue {i} out of range: the TAP has {len(self._queues)}")
        return self._queues[i]

    def queue_stats(self, i: int) -> dict[str, int]:
        """Queue ``i``'s counters (:attr:`stats` is their sum)."""
        out = ffi.new("struct ust_tap_stats *")
        check(lib.ust_tap_get_queue_stats(self._ptr(), i, out), "tap")
        return struct_to_dict(out, TAP_STATS_FIELDS)

    @property
    def name(self) -> str:
        """The kernel's name of the interface."""
        return cstr(lib.ust_tap_name(self._ptr())) or ""

    def fileno(self) -> int:
        """The device's descriptor (queue 0's): readable when frames wait (select/poll)."""
        return int(lib.ust_tap_fd(self._ptr()))

    @property
    def stats(self) -> dict[str, int]:
        """The counters, summed over the queues."""
        out = ffi.new("struct ust_tap_stats *")
        lib.ust_tap_get_stats(self._ptr(), out)
        return struct_to_dict(out, TAP_STATS_FIELDS)

    def _ptr(self) -> Any:
        if self._t is None:
            raise ValueError("the TAP device is closed")
        return self._t

    def _label(self) -> str:
        return f"tap {self.name}"

    def _ops_softc(self) -> tuple[Any, Any]:
        return lib.ust_tap_ops(), lib.ust_tap_softc(self._ptr())

    # The Tap is queue 0: one link state, whichever object attached it.
    def _attach_args(self) -> tuple[Any, Any]:
        self._ptr()
        return self._queues[0]._attach_args()

    def _attached(self, link: Link) -> None:
        self._queues[0]._attached(link)

    def _detach(self) -> None:
        for q in self._queues:
            q._detach()

    def close(self) -> None:
        """Detach the interfaces still using it, then close the device."""
        if self._t is None:
            return
        self._detach()
        lib.ust_tap_close(self._t)
        self._t = None

    def __repr__(self) -> str:
        if self._t is None:
            return "<Tap closed>"
        queues = f" queues={len(self._queues)}" if len(self._queues) > 1 else ""
        return f"<Tap {self.name}{queues}>"
