"""ustack on a netmap port for the commands that meet the kernel (``serve``,
``ping``, ``fetch`` with ``--driver netmap``).

Two ways, chosen by ``--netmap-port``:

- none given (the default): the process must run under the user-space
  netmap emulator's LD_PRELOAD library (tests/netmap_emu,
  ``libnetmap_emu_preload.so``), whose TAP back end serves ``netmap:IF`` by
  making a Linux TAP device IF in the current namespace (the command's own):
  the kernel gets --peer-address on it, and the kernel's tools reach ustack
  exactly as over ``HostLink``, through netmap rings;
- the user's port (``--netmap-port netmap:em0``, ``netmap:em0-1``,
  ``vale0:p1``, ...): used as it is, no namespace, no kernel side, the
  user's addresses (not held to 198.18.0.0/15): on a real netmap host.

The netmap descriptor is readable when a bound rx ring has frames, so
``wait`` sleeps in select(2) on it like the TAP driver.

This module lives in drivers/netmap/ and is imported as ``ustack.netmaplink``.
"""

from __future__ import annotations

import os
import select
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ustack.hostlink import (
    DEFAULT_ADDRESS,
    DEFAULT_IFNAME,
    DEFAULT_PEER_ADDRESS,
    PortLink,
    local_mac,
    setup_kernel_side,
)

__all__ = ["NetmapLink", "emulated"]


def emulated() -> bool:
    """True when this process runs under the netmap emulator's preload library."""
    return "netmap_emu_preload" in os.environ.get("LD_PRELOAD", "")


class NetmapLink(PortLink):
    """A stack on ring pair 0 of a netmap port: ``netmap:IFNAME`` through
    the emulator's TAP back end facing this namespace's kernel (``port``
    None), or the user's port."""

    driver = "netmap"

    def __init__(
        self,
        *,
        port: str | None = None,
        address: str = DEFAULT_ADDRESS,
        peer_address: str | None = DEFAULT_PEER_ADDRESS,
        ifname: str = DEFAULT_IFNAME,
        mtu: int = 0,
        pcap: str | Path | None = None,
        snaplen: int = 0,
        seed: int | None = None,
        **port_options: Any,
    ) -> None:
        from ustack import netmap

        if not netmap.available():
            raise OSError(f"netmap is not available: {netmap.why_unavailable()}")
        self.made_tap = port is None
        if self.made_tap and not emulated():
            raise OSError(
                "--driver netmap without --netmap-port needs the netmap emulator's "
                "preload library (LD_PRELOAD=.../libnetmap_emu_preload.so), which makes "
                "the TAP device; on a netmap host, name the port: --netmap-port netmap:IF"
            )
        super().__init__(address, peer_address, made=self.made_tap)
        name = f"netmap:{ifname}" if port is None else port
        self.ifname = ifname if port is None else port
        if self.made_tap:
            # The emulator's TAP is the kernel's side: its address is the
            # kernel's, ustack takes another.
            port_options.setdefault("mac", local_mac())
        try:
            self.port = netmap.Port(name, mtu=mtu, **port_options)
            if self.made_tap:
                setup_kernel_side(ifname, self.peer_address, mtu or 1500)
            self._attach(self.port.queue(0), "nm0", pcap, snaplen, seed)
        except Exception:
            self.close()
            raise

    def wait(self, fds: Sequence[int] = (), limit: float = 0.05) -> list[int]:
        nm = self.port.fileno()
        ready, _, _ = select.select([nm, *fds], [], [], self._timer_wait(limit))
        return [fd for fd in ready if fd != nm]
