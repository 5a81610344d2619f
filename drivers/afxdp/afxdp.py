"""AF_XDP ports: a stack on a Linux interface's queues through AF_XDP sockets.

>>> from ustack import afxdp
>>> port = afxdp.Port("veth0", queues=1, mode="auto")
>>> stack.add_interface(port.queue(0), "xdp0", "198.18.0.2/24")

A ``Port`` binds one AF_XDP socket per queue of the interface (each with its
UMEM and fill, completion, rx and tx rings) and attaches a tiny XDP program
that redirects the interface's frames to them.  The program is loaded with
the raw bpf(2) syscall and attached with a BPF link: it goes away with the
process, even after SIGKILL.  Needs root (CAP_NET_ADMIN, CAP_BPF); run it on
a veth inside a network namespace the caller made (``ustack.netns.NetNs``).

``mode`` is "native" (the driver's XDP hook), "generic" (the skb path) or
"auto" (native, else generic); ``zero_copy`` None tries an XDP_ZEROCOPY bind
and falls back to copy mode (veth: copy), True requires it, False asks for
copy mode.  ``.mode`` and ``.zero_copy`` say what the kernel gave.

When ustack was built without the driver (not Linux, or no linux/if_xdp.h),
``available()`` is False and ``why_unavailable()`` says why; everything else
raises OSError.

This module lives in drivers/afxdp/ and is imported as ``ustack.afxdp``.
"""

from __future__ import annotations

import os
from typing import Any

from ustack._native import ffi, lib, struct_to_dict
from ustack.drivers import PortQueue, QueuedPort
from ustack.errors import check

__all__ = [
    "AFXDP_STATS_FIELDS",
    "MODES",
    "Port",
    "Queue",
    "available",
    "why_unavailable",
]
# Names the package exports as ustack.<name>: none (ustack.afxdp.Port).
USTACK_EXPORTS: tuple[str, ...] = ()

AFXDP_STATS_FIELDS = (
    "rx_frames",
    "rx_bytes",
    "rx_lent",
    "rx_copied",
    "rx_frags",
    "rx_dropped",
    "rx_invalid",
    "rx_ring_full",
    "fill_empty",
    "rx_bad",
    "tx_frames",
    "tx_bytes",
    "tx_frags",
    "tx_full",
    "tx_invalid",
    "tx_ring_empty",
    "comp_empty",
    "tx_csum_offload",
    "tx_sw_csum",
    "tx_kicks",
    "lent_now",
    "fill_now",
    "rx_free_now",
    "tx_free_now",
    "tx_pending_now",
    "tx_dropped",
)

# mode name -> UST_AFXDP_MODE_*
MODES = {"auto": 0, "native": 1, "generic": 2}


def available() -> bool:
    """True when this ustack was built with the AF_XDP driver."""
    return hasattr(lib, "ust_afxdp_open")


def why_unavailable() -> str:
    """Why ``available()`` is False ("" when it is True)."""
    if available():
        return ""
    return (
        "ustack was built without the AF_XDP driver: it needs Linux and "
        "<linux/if_xdp.h> at build time (linux-libc-dev; USTACK_WITH_AFXDP=ON "
        "makes its absence an error)"
    )


def _need() -> None:
    if not available():
        raise OSError(why_unavailable())


class Queue(PortQueue):
    """Queue ``index`` of a :class:`Port`: one interface of one stack."""

    _port: Port

    def _label(self) -> str:
        return f"AF_XDP {self._port.ifname} queue {self.index}"

    def _ops_softc(self) -> tuple[Any, Any]:
        return lib.ust_afxdp_ops(), lib.ust_afxdp_softc(self._port._ptr(), self.index)

    def fileno(self) -> int:
        """The queue's socket, readable when frames wait on its rx ring."""
        return int(lib.ust_afxdp_fd(self._port._ptr(), self.index))

    def stats(self) -> dict[str, int]:
        """This queue's counters."""
        return self._port.stats(self.index)

    def __repr__(self) -> str:
        return f"<afxdp.Queue {self._port.ifname} queue {self.index}>"


class Port(QueuedPort[Queue]):
    """AF_XDP sockets on queues 0..queues-1 of interface ``ifname``
    (``struct ust_afxdp_port``).

    ``frame_size`` (2048 or 4096) and ``frames`` (per queue, a power of two)
    size each queue's UMEM; ``multi_buffer`` binds with XDP_USE_SG (frames
    longer than a UMEM frame both ways); ``tx_csum`` asks the kernel to fill
    checksums through tx metadata (else the driver does it); ``lend`` False
    copies received frames instead of lending UMEM to the stack;
    ``caps_mask`` limits the ``UST_IFCAP_*`` offloads offered.
    """

    _what = "the AF_XDP port"

    def __init__(
        self,
        ifname: str,
        *,
        queues: int = 1,
        mode: str = "auto",
        zero_copy: bool | None = None,
        frame_size: int = 4096,
        frames: int = 4096,
        multi_buffer: bool = True,
        tx_csum: bool = True,
        lend: bool = True,
        mtu: int = 0,
        caps_mask: int | None = None,
    ) -> None:
        _need()
        if mode not in MODES:
            raise ValueError(f"mode {mode!r}: one of {', '.join(MODES)}")
        super().__init__()
        self.ifname = ifname
        self._name = ffi.new("char[]", os.fsencode(ifname))
        cfg = ffi.new("struct ust_afxdp_config *")
        lib.ust_afxdp_config_init(cfg)
        cfg.ifname = self._name
        cfg.queues = queues
        cfg.mode = MODES[mode]
        cfg.zero_copy = -1 if zero_copy is None else (1 if zero_copy else 0)
        cfg.frame_size = frame_size
        cfg.frames = frames
        cfg.multi_buffer = 1 if multi_buffer else 0
        cfg.tx_csum = 1 if tx_csum else 0
        cfg.lend = 1 if lend else 0
        cfg.mtu = mtu
        if caps_mask is not None:
            cfg.caps_mask = caps_mask
        out = ffi.new("struct ust_afxdp_port **")
        check(lib.ust_afxdp_open(cfg, out), f"AF_XDP on {ifname}")
        self._p = out[0]
        info = ffi.new("struct ust_afxdp_info *")
        lib.ust_afxdp_info(self._p, info)
        self.mode: str = "native" if info.mode == lib.UST_AFXDP_MODE_NATIVE else "generic"
        self.zero_copy: bool = bool(info.zero_copy)
        self.multi_buffer: bool = bool(info.multi_buffer)
        self.tx_csum: bool = bool(info.tx_csum)
        self.mtu: int = int(info.mtu)
        self.frame_size: int = int(info.frame_size)
        self.ifindex: int = int(info.ifindex)
        self._queues = [Queue(self, i) for i in range(queues)]

    @property
    def queues(self) -> int:
        """Number of queues (sockets)."""
        return len(self._queues)

    def stats(self, queue: int | None = None) -> dict[str, int]:
        """The driver's and the kernel's counters, summed over the queues
        (or one queue's)."""
        out = ffi.new("struct ust_afxdp_stats *")
        lib.ust_afxdp_get_stats(self._ptr(), 0xFFFF if queue is None else queue, out)
        return struct_to_dict(out, AFXDP_STATS_FIELDS)

    def fileno(self, queue: int = 0) -> int:
        """The socket of ``queue``."""
        return int(lib.ust_afxdp_fd(self._ptr(), queue))

    def raw_pump(self, queue: int, frame: bytes | None, seconds: float) -> int:
        """Raw frame rate without a stack, on a queue no stack uses: send
        copies of ``frame`` for ``seconds`` and return how many completed, or
        (``frame`` None) receive and recycle and return how many arrived."""
        buf = ffi.NULL if frame is None else ffi.from_buffer(frame)
        n = int(
            lib.ust_afxdp_raw_pump(
                self._ptr(), queue, buf, 0 if frame is None else len(frame), int(seconds * 1e9)
            )
        )
        check(n if n < 0 else 0, f"AF_XDP raw pump on {self.ifname} queue {queue}")
        return n

    def _close_port(self, p: Any) -> None:
        """Detaches the XDP program and closes the sockets (UMEM lent to
        stacks stays until they let go)."""
        lib.ust_afxdp_close(p)

    def __repr__(self) -> str:
        if self._p is None:
            return f"<afxdp.Port {self.ifname} closed>"
        zc = "zero-copy" if self.zero_copy else "copy"
        return f"<afxdp.Port {self.ifname} {self.mode} {zc} {len(self._queues)} queues>"
