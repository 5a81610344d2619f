"""Groups of stacks on AF_XDP queues and DPDK queue pairs, for ``ustack serve
--stacks N --driver afxdp|dpdk`` (the TAP one,
:class:`~ustack.hostlink.GroupHostLink`, is in :mod:`ustack.hostlink`).

As :class:`~ustack.afxdplink.AfxdpLink` but with one stack per queue:
queue i of the port is interface ``xdp0`` of stack i, every stack has
ustack's address, and the group steers each frame to the stack that owns
its flow.  On a veth pair made for the run (the default) the kernel's end
picks the queue a frame goes out on by its own transmit hash (no flow
learning), so about half the frames are re-steered; on the user's NIC
(``--afxdp-ifname``) its RSS spreads them (with the standard Toeplitz key,
the NIC's queue is the owner: nothing re-steered).

:class:`GroupDpdkLink` is :class:`~ustack.dpdklink.DpdkLink` with one stack
per queue pair: by default a net_tap device made for the run with N queue
pairs (the kernel's TAP device gets N queues, ``IFF_MULTI_QUEUE``).  The
port is configured for RSS, but net_tap spreads nothing itself: its RSS is
an rte_flow action that needs its eBPF program and the kernel's multiq
qdisc, and it is never asked for.  The kernel's TAP picks the queue by its
own flow hash, then by automatic flow steering (a flow's frames follow the
queue its last frame was written on), and the group re-steers what lands on
the wrong stack's queue (counted).  On the user's port (``--dpdk-port``,
a device in the EAL arguments) the NIC's RSS with the standard Toeplitz key
puts each flow on its owner's queue.

A DPDK queue has no descriptor to sleep on, except net_tap's (the driver
gives each queue's rx interrupt descriptor, the TAP queue's own): an idle
stack thread sleeps on it, or elsewhere at most 1 ms between polls (the
group's limit for an interface without one), and polls without sleeping
while it has work.  ``busy_poll`` makes
the threads spin instead: lower latency, but each thread takes a whole
core, which on a small machine starves the kernel on the other side of a
net_tap device (and the application's threads).
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from typing import Any

from ustack.afxdplink import MODES, make_veth, ustack_end
from ustack.dpdklink import ip_link, start_eal
from ustack.hostlink import (
    DEFAULT_ADDRESS,
    DEFAULT_IFNAME,
    DEFAULT_PEER_ADDRESS,
    GroupLink,
    local_mac,
    setup_kernel_side,
)

__all__ = ["GroupAfxdpLink", "GroupDpdkLink"]

# DPDK's net_tap takes 16 queue pairs, but DPDK 22.11's crashes (a stack
# overflow, after "EAL: Cannot send more than 8 FDs") when a port with more
# than 4 starts: it puts the descriptors of every rx and tx queue into one
# multi-process message that holds 8.
NET_TAP_MAX_QUEUES = 4


class GroupAfxdpLink(GroupLink):
    """``nstacks`` threaded stacks on the AF_XDP queues 0..nstacks-1 of one
    end of a veth pair made for the run (``device`` None: the kernel on the
    other end, ``ifname``), or of the user's interface ``device``."""

    driver = "afxdp"

    def __init__(
        self,
        *,
        nstacks: int,
        device: str | None = None,
        address: str = DEFAULT_ADDRESS,
        peer_address: str | None = DEFAULT_PEER_ADDRESS,
        ifname: str = DEFAULT_IFNAME,
        mtu: int = 0,
        mode: str = "auto",
        seed: int | None = None,
        pin: bool = False,
        busy_poll: bool = False,
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
        self.made_veth = device is None
        super().__init__(address, peer_address, checked=self.made_veth)
        self.peer_label = "kernel" if self.made_veth else "peer"
        self.kernel_ifname = ifname if self.made_veth else None
        self.ifname = ustack_end(ifname) if device is None else device
        self.port: Any = None
        try:
            if self.made_veth:
                make_veth(ifname, self.ifname, queues=nstacks, mtu=mtu or 1500)
            self.port = afxdp.Port(
                self.ifname, queues=nstacks, mode=mode, mtu=mtu if device else 0, **port_options
            )
            self._open_group(nstacks, "xdp0", self.port, seed=seed, pin=pin, busy_poll=busy_poll)
            if self.made_veth:
                setup_kernel_side(ifname, self.peer_address, mtu or 1500)
            assert self.group is not None
            self.group.start()
        except Exception:
            self.close()
            raise

    @property
    def mode(self) -> str:
        """The XDP mode the kernel gave: "native" or "generic"."""
        return str(self.port.mode)

    @property
    def driver_stats(self) -> dict[str, int]:
        """The port's counters summed over its queues."""
        stats: dict[str, int] = self.port.stats()
        return stats

    def close(self) -> None:
        self._close_group()
        if self.port is not None:
            self.port.close()
            self.port = None
        if self.made_veth and self.kernel_ifname is not None:
            subprocess.run(
                ["ip", "link", "del", self.kernel_ifname], capture_output=True, check=False
            )
            self.kernel_ifname = None


class GroupDpdkLink(GroupLink):
    """``nstacks`` threaded stacks on the queue pairs 0..nstacks-1 of one
    DPDK port: a net_tap device made for the run facing this namespace's
    kernel as ``ifname`` (``port`` None), or the user's port (a port id or
    DPDK device name).  The EAL starts with ``eal_args`` (once per process,
    :func:`ustack.dpdklink.start_eal`)."""

    driver = "dpdk"

    def __init__(
        self,
        *,
        nstacks: int,
        eal_args: Sequence[str] = (),
        port: str | None = None,
        address: str = DEFAULT_ADDRESS,
        peer_address: str | None = DEFAULT_PEER_ADDRESS,
        ifname: str = DEFAULT_IFNAME,
        mtu: int = 0,
        seed: int | None = None,
        pin: bool = False,
        busy_poll: bool = False,
        **port_options: Any,
    ) -> None:
        self.made_tap = port is None
        super().__init__(address, peer_address, checked=self.made_tap)
        self.peer_label = "kernel" if self.made_tap else "peer"
        self.port: Any = None
        if (port is None or str(port).startswith("net_tap")) and nstacks > NET_TAP_MAX_QUEUES:
            raise ValueError(
                f"{nstacks} stacks: a net_tap port takes at most {NET_TAP_MAX_QUEUES} queue "
                "pairs here (DPDK 22.11's net_tap crashes with more)"
            )
        start_eal(eal_args)
        from ustack import dpdk

        if port is None:
            # net_tap's interface appears at once in this namespace, named
            # ifname, with as many queues as the port gets queue pairs.
            port_id: int | str = dpdk.vdev(f"net_tap_{ifname}", f"iface={ifname}")
            self.ifname = ifname
        else:
            port_id = int(port) if port.isdigit() else port
            self.ifname = str(port)
        try:
            try:
                self.port = dpdk.Port(port_id, queues=nstacks, mtu=mtu, **port_options)
            except OSError as exc:
                raise OSError(
                    exc.errno,
                    f"{exc.strerror}: DPDK port {self.ifname} with {nstacks} queue pairs "
                    "(one per stack; the mbuf pools of each take about 20 MB of the EAL's "
                    "memory, -m in --dpdk-base-args)",
                ) from None
            if self.made_tap:
                # As DpdkLink: the kernel's side must not keep the port's MAC.
                ip_link("set", ifname, "address", local_mac())
                setup_kernel_side(ifname, self.peer_address, mtu or 1500)
            self._open_group(nstacks, "dp0", self.port, seed=seed, pin=pin, busy_poll=busy_poll)
            assert self.group is not None
            self.group.start()
        except Exception:
            self.close()
            raise

    @property
    def driver_stats(self) -> dict[str, int]:
        """The port's counters (every queue's)."""
        stats: dict[str, int] = self.port.stats()
        return stats

    def close(self) -> None:
        self._close_group()
        if self.port is not None:
            self.port.close()
            self.port = None
