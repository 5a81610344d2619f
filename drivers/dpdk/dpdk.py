"""DPDK ports: a stack on a kernel-bypass ethdev queue pair.

>>> from ustack import dpdk
>>> dpdk.eal_init("--no-huge -m 256 --no-shconf --no-pci --vdev=net_tap0,iface=dtap0")
>>> port = dpdk.Port("net_tap0")
>>> stack.add_interface(port.queue(0), "dp0", "198.18.0.2/24")

DPDK's EAL runs once per process (``eal_init``; a second call is a no-op, a
failed one cannot be retried), so run it in a process made for the purpose,
never inside a test runner that other tests share.  A ``Port`` opens any
ethdev (a vdev such as net_tap, net_memif or net_ring, or a PCI NIC bound to
vfio-pci) with ``queues`` rx/tx queue pairs; ``port.queue(i)`` is accepted
by ``Stack.add_interface`` like a ``ustack.Tap``.  ``ring_pair`` makes two
net_ring ports joined back to back in this process (tests, benchmarks).

When ustack was built without libdpdk, ``available()`` is False and
``why_unavailable()`` says why; everything else raises OSError.

This module lives in drivers/dpdk/ and is imported as ``ustack.dpdk``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ustack._native import ffi, lib, struct_to_dict
from ustack.drivers import PortQueue, QueuedPort
from ustack.errors import check

__all__ = [
    "DPDK_STATS_FIELDS",
    "Port",
    "Queue",
    "available",
    "eal_init",
    "port_by_name",
    "ring_pair",
    "vdev",
    "why_unavailable",
]
# Names the package exports as ustack.<name>: none (ustack.dpdk.Port).
USTACK_EXPORTS: tuple[str, ...] = ()

DPDK_STATS_FIELDS = (
    "ipackets",
    "ibytes",
    "imissed",
    "ierrors",
    "rx_nombuf",
    "opackets",
    "obytes",
    "oerrors",
    "rx_lent",
    "rx_copied",
    "tx_full",
    "tx_sw_csum",
    "tx_tso",
    "rx_lent_now",
    "tx_copied",
)


# Ports of one ring_pair share a key, so that blocking calls on a stack
# poll the stack on the other end too (as stacks on one pipe).
class _RingKey:
    """The medium of one ring pair (a World key: weak-referenceable)."""


_RING_KEYS: dict[int, _RingKey] = {}


def available() -> bool:
    """True when this ustack was built with the DPDK driver."""
    return hasattr(lib, "ust_dpdk_eal_init")


def why_unavailable() -> str:
    """Why ``available()`` is False ("" when it is True)."""
    if available():
        return ""
    return (
        "ustack was built without the DPDK driver: pkg-config did not find libdpdk "
        "at build time (apt-get install libdpdk-dev, then rebuild; USTACK_WITH_DPDK=ON "
        "makes its absence an error)"
    )


def _need() -> None:
    if not available():
        raise OSError(why_unavailable())


def eal_init(args: str | Sequence[str]) -> None:
    """Start DPDK's EAL in this process with these arguments (without the
    program name), e.g. ``"--no-huge -m 256 --no-shconf --no-pci"``.  A
    second call once the EAL is up returns at once; failure raises OSError
    (DPDK's log on stderr says why) and cannot be retried in this process."""
    _need()
    line = args if isinstance(args, str) else " ".join(args)
    rc = int(lib.ust_dpdk_eal_init(line.encode()))
    if rc == -int(lib.UST_EALREADY):
        return
    check(rc, f"rte_eal_init({line!r})")


def vdev(name: str, args: str = "") -> int:
    """Create a virtual device (``vdev("net_tap0", "iface=dtap0")``) and
    return its port id."""
    _need()
    out = ffi.new("uint16_t *")
    check(lib.ust_dpdk_vdev_create(name.encode(), args.encode(), out), f"vdev {name}")
    return int(out[0])


def port_by_name(name: str) -> int:
    """The port id of a device by its DPDK name (``"net_tap0"``, a PCI address)."""
    _need()
    out = ffi.new("uint16_t *")
    check(lib.ust_dpdk_port_by_name(name.encode(), out), f"DPDK port {name}")
    return int(out[0])


def ring_pair(name: str, *, queues: int = 1, ring_size: int = 0) -> tuple[int, int]:
    """Two net_ring ports joined back to back (what one sends the other
    receives), as port ids; ``ring_size`` frames per ring (0: 1024)."""
    _need()
    a = ffi.new("uint16_t *")
    b = ffi.new("uint16_t *")
    check(lib.ust_dpdk_ring_pair(name.encode(), queues, ring_size, a, b), f"ring pair {name}")
    key = _RingKey()
    _RING_KEYS[int(a[0])] = key
    _RING_KEYS[int(b[0])] = key
    return int(a[0]), int(b[0])


class Queue(PortQueue):
    """Queue pair ``index`` of a :class:`Port`: one interface of one stack."""

    _port: Port

    def _label(self) -> str:
        return f"DPDK port {self._port.port_id} queue {self.index}"

    def _ops_softc(self) -> tuple[Any, Any]:
        return lib.ust_dpdk_ops(), lib.ust_dpdk_softc(self._port._ptr(), self.index)

    def _shared_key(self) -> object | None:
        return _RING_KEYS.get(self._port.port_id)

    def __repr__(self) -> str:
        return f"<dpdk.Queue port {self._port.port_id} queue {self.index}>"


class Port(QueuedPort["Queue"]):
    """One ethdev port (``struct ust_dpdk_port``), configured and started.

    ``port`` is a port id or a DPDK device name.  ``queues`` rx/tx queue
    pairs; ``mtu`` 0 keeps the port's; ``zero_copy`` lends received data to
    the stack (False copies, so that sanitizers see every byte the stack
    reads); ``caps_mask`` limits the ``UST_IFCAP_*`` offloads offered.
    """

    _what = "the DPDK port"

    def __init__(
        self,
        port: int | str,
        *,
        queues: int = 1,
        mtu: int = 0,
        promisc: bool = False,
        zero_copy: bool = True,
        caps_mask: int | None = None,
    ) -> None:
        _need()
        super().__init__()
        self.port_id = port_by_name(port) if isinstance(port, str) else int(port)
        cfg = ffi.new("struct ust_dpdk_port_config *")
        lib.ust_dpdk_port_config_init(cfg)
        cfg.port_id = self.port_id
        cfg.nb_queues = queues
        cfg.mtu = mtu
        cfg.promisc = 1 if promisc else 0
        cfg.zero_copy = 1 if zero_copy else 0
        if caps_mask is not None:
            cfg.caps_mask = caps_mask
        out = ffi.new("struct ust_dpdk_port **")
        check(lib.ust_dpdk_port_open(cfg, out), f"DPDK port {port}")
        self._p: Any = out[0]
        self._queues = [Queue(self, i) for i in range(queues)]

    def stats(self) -> dict[str, int]:
        """The port's counters (rte_eth_stats) and the driver's own."""
        out = ffi.new("struct ust_dpdk_stats *")
        lib.ust_dpdk_get_stats(self._ptr(), out)
        return struct_to_dict(out, DPDK_STATS_FIELDS)

    def link(self) -> tuple[bool, int]:
        """(link up, speed in Mbit/s or 0 when unknown)."""
        speed = ffi.new("uint32_t *")
        up = int(lib.ust_dpdk_link(self._ptr(), speed))
        return up == 1, int(speed[0])

    def _close_port(self, p: Any) -> None:
        """Stops and closes the port (the interfaces are detached)."""
        lib.ust_dpdk_port_close(p)

    def __repr__(self) -> str:
        state = "closed" if self._p is None else f"{len(self._queues)} queues"
        return f"<dpdk.Port {self.port_id} {state}>"
