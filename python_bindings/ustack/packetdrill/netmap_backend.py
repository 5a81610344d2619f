"""The netmap back end: the virtual-time back end with the stack under test
and the peer stack on the two ends of a netmap pipe (``netmap:pdN{0`` and
``netmap:pdN}0``) served by the user-space netmap emulator (tests/netmap_emu)
in this process, instead of the pipe driver.

The emulator is loaded from its shared library with cffi's ABI mode
(``ustack.netmap.Emulator``: <build>/tests/netmap_emu/libnetmap_emu.so or
``$USTACK_NETMAP_EMU_LIB``), not preloaded: only the driver's system-call
table points at it, so nothing else in the process changes.  It runs in
strict mode: a ring update the real kernel would refuse fails the script
(as an error naming the violation).  Its knobs come from the
``NETMAP_EMU_*`` environment variables (ring size, permuted buffers,
NS_MOREFRAG splitting, ...).
"""

from __future__ import annotations

import itertools

from ustack.drivers import DriverEnd
from ustack.packetdrill.virtual import VirtualBackend

__all__ = ["NetmapBackend"]

_SEQ = itertools.count()


class NetmapBackend(VirtualBackend):
    """The stack under test and its peer on an emulated netmap pipe."""

    name = "netmap"

    def _make_ends(self, mtu: int, seed: int) -> tuple[DriverEnd, DriverEnd]:
        from ustack import netmap

        self.emu = netmap.Emulator(strict=1)
        n = next(_SEQ)
        self.ports = [netmap.Port(f"netmap:pd{n}{sep}0", sys=self.emu.sys, mtu=mtu) for sep in "{}"]
        return self.ports[0].queue(0), self.ports[1].queue(0)

    def settle(self) -> None:
        super().settle()
        n, msg = self.emu.violations()
        if n:
            raise RuntimeError(f"netmap emulator: {n} strict-mode violations, last: {msg}")

    def _close_ends(self) -> None:
        for p in self.ports:
            p.close()
        # Stacks are closed by now: every lent buffer is back.
        self.emu.close()
