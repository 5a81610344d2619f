"""ustack on AF_XDP for the commands that meet the kernel (``serve``,
``ping``, ``fetch`` with ``--driver afxdp``).

Two ways, chosen by ``--afxdp-ifname``:

- a veth pair made for the run (the default) in the command's namespace
  (its own, or --netns): the kernel's end is ``--ifname`` (``ust0``) with
  --peer-address, ustack binds AF_XDP sockets to the other end
  (``ust0x``), so the kernel's tools reach ustack as over ``HostLink``.
  The kernel's end has transmit checksumming off (``ethtool -K ust0 tx
  off``): AF_XDP has no receive checksum metadata, and a frame the kernel
  leaves CHECKSUM_PARTIAL arrives with only the pseudo-header sum in its
  checksum field, which ustack rightly drops;
- the user's interface (``--afxdp-ifname NAME``): used as it is, no
  namespace, no kernel side, the user's addresses (not held to
  198.18.0.0/15: the interface is the user's network).

``--afxdp-queues N`` binds queues 0..N-1 (the veth is made with N queues),
each an interface of the one stack (``xdp0`` .. ``xdpN-1``): a veth has no
RSS, a frame arrives on the queue the kernel's end transmitted it on (its
XPS map or flow hash), so every queue must be served.  The address and its
route are on ``xdp0``, whose transmit queue carries every reply (IPv4
takes a datagram to a local address on any interface); the queues share
the device's MAC address.  ARP answers only on the interface holding the
address, so with several queues both sides get static neighbour entries
instead of asking.

An AF_XDP socket is readable when its rx ring has frames, so ``wait``
sleeps in select(2) on every queue's socket, after spinning for
``SPIN_S`` past the last work (a frame often follows soon: the spin saves
a wake-up per round trip).
"""

from __future__ import annotations

import select
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ustack.hostlink import (
    DEFAULT_ADDRESS,
    DEFAULT_IFNAME,
    DEFAULT_PEER_ADDRESS,
    PortLink,
    setup_kernel_side,
)

__all__ = ["AfxdpLink", "MODES", "SPIN_S", "make_veth", "ustack_end"]

MODES = ("auto", "native", "generic")
SPIN_S = 0.0002  # keep polling this long after the last work before sleeping


def ustack_end(ifname: str) -> str:
    """The name of ustack's end of the veth pair whose kernel end is ``ifname``."""
    return f"{ifname[:14]}x"


def _run(*argv: str) -> None:
    proc = subprocess.run(list(argv), capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise OSError(f"{' '.join(argv)}: {proc.stderr.strip() or proc.returncode}")


def make_veth(kernel: str, mine: str, *, queues: int = 1, mtu: int = 1500) -> None:
    """A veth pair in this namespace: ``kernel`` for the kernel (transmit
    checksumming off, so its frames carry full checksums), ``mine`` for
    AF_XDP (up, IPv6 off so the kernel sends nothing from it), both with
    ``queues`` queue pairs and ``mtu``.  The kernel's end is left down,
    without an address (``setup_kernel_side`` does that)."""
    q = ["numtxqueues", str(queues), "numrxqueues", str(queues)]
    _run("ip", "link", "add", kernel, *q, "type", "veth", "peer", "name", mine, *q)
    try:
        for dev in (kernel, mine):
            _run("ip", "link", "set", "dev", dev, "mtu", str(mtu))
        # Without tx checksumming the kernel also stops TSO: MTU-sized frames.
        _run("ethtool", "-K", kernel, "tx", "off")
        if mtu >= 1280:
            _run("sysctl", "-qw", f"net.ipv6.conf.{mine}.disable_ipv6=1")
        _run("ip", "link", "set", "dev", mine, "up")
    except Exception:
        subprocess.run(["ip", "link", "del", kernel], capture_output=True, check=False)
        raise


class AfxdpLink(PortLink):
    """A stack on the AF_XDP queues of one end of a veth pair made for the
    run, facing this namespace's kernel (``device`` None), or of the user's
    interface ``device``."""

    driver = "afxdp"

    def __init__(
        self,
        *,
        device: str | None = None,
        address: str = DEFAULT_ADDRESS,
        peer_address: str | None = DEFAULT_PEER_ADDRESS,
        ifname: str = DEFAULT_IFNAME,
        mtu: int = 0,
        mode: str = "auto",
        queues: int = 1,
        pcap: str | Path | None = None,
        snaplen: int = 0,
        seed: int | None = None,
        **port_options: Any,
    ) -> None:
        try:
            from ustack import afxdp
        except ImportError as exc:
            raise OSError(
                f"AF_XDP is not available: ustack.afxdp cannot be imported ({exc})"
            ) from None
        if not afxdp.available():
            raise OSError(f"AF_XDP is not available: {afxdp.why_unavailable()}")
        if mode not in MODES:
            raise ValueError(f"--afxdp-mode {mode!r}: one of {', '.join(MODES)}")
        if queues < 1:
            raise ValueError(f"--afxdp-queues {queues}: at least 1")
        self.made_veth = device is None
        super().__init__(address, peer_address, made=self.made_veth)
        self.kernel_ifname = ifname if self.made_veth else None
        self.ifname = ustack_end(ifname) if device is None else device
        self.queues: list[Any] = []
        try:
            if self.made_veth:
                make_veth(ifname, self.ifname, queues=queues, mtu=mtu or 1500)
            self.port = afxdp.Port(
                self.ifname, queues=queues, mode=mode, mtu=mtu if device else 0, **port_options
            )
            self.queues = [self.port.queue(i) for i in range(queues)]
            self._attach(self.queues[0], "xdp0", pcap, snaplen, seed)
            for i in range(1, queues):
                self.stack.add_interface(self.queues[i], f"xdp{i}")
            if self.made_veth:
                setup_kernel_side(ifname, self.peer_address, mtu or 1500)
                if queues > 1 and self.peer_address is not None:
                    self._static_neighbours(ifname)
        except Exception:
            self.close()
            raise

    def _static_neighbours(self, kernel: str) -> None:
        """ARP answers only where the address is (xdp0), but the kernel's
        requests and replies may come on any queue: both sides learn each
        other's MAC address here instead."""
        mac = Path(f"/sys/class/net/{kernel}/address").read_text().strip()
        self.stack.arp_add(self.iface, self.peer_ip, mac)
        _run("ip", "neigh", "replace", self.ip, "lladdr", self.iface.mac, "dev", kernel)

    @property
    def mode(self) -> str:
        """The XDP mode the kernel gave: "native" or "generic"."""
        return str(self.port.mode)

    @property
    def driver_stats(self) -> dict[str, int]:
        """The port's counters summed over its queues; with several queues
        also each queue's frames (``rx_frames_q1``...)."""
        stats = super().driver_stats
        if len(self.queues) > 1:
            for i, q in enumerate(self.queues):
                mine = q.stats()
                stats[f"rx_frames_q{i}"] = mine["rx_frames"]
                stats[f"tx_frames_q{i}"] = mine["tx_frames"]
        return stats

    def wait(self, fds: Sequence[int] = (), limit: float = 0.05) -> list[int]:
        if self.idle < SPIN_S:
            ready, _, _ = select.select(list(fds), [], [], 0) if fds else ([], [], [])
            return list(ready)
        socks = [q.fileno() for q in self.queues]
        ready, _, _ = select.select([*socks, *fds], [], [], self._timer_wait(limit))
        return [fd for fd in ready if fd not in socks]

    def close(self) -> None:
        super().close()
        if self.made_veth and self.kernel_ifname is not None:
            # Deleting one end deletes the pair; the namespace would too,
            # but --netns NAME outlives the command.
            subprocess.run(
                ["ip", "link", "del", self.kernel_ifname], capture_output=True, check=False
            )
            self.kernel_ifname = None
