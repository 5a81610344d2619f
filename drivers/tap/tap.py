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

This module lives in drivers/tap/ and is imported as ``ustack.tap``.
"""

from __future__ import annotations

from typing import Any

from ustack._native import cstr, ffi, lib, struct_to_dict
from ustack._util import parse_mac
from ustack.drivers import Closing, OneLinkEnd
from ustack.errors import check

__all__ = ["Tap", "TAP_STATS_FIELDS"]
# Names the package exports as ustack.<name> (python_bindings/ustack/__init__.py).
USTACK_EXPORTS = ("Tap",)

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


class Tap(OneLinkEnd, Closing):
    """One TAP device (``struct ust_tap``)."""

    def __init__(
        self, name: str = "", *, mac: str | None = None, mtu: int = 1500, offload: bool = True
    ) -> None:
        raw = name.encode()
        if len(raw) > 15:
            raise ValueError(f"interface name {name!r} is longer than 15 bytes")
        cfg = ffi.new("struct ust_tap_config *")
        lib.ust_tap_config_init(cfg)
        cfg.name = raw
        cfg.mtu = mtu
        cfg.offload = 1 if offload else 0
        if mac is not None:
            cfg.mac = parse_mac(mac)
            cfg.mac_set = 1
        out = ffi.new("struct ust_tap **")
        check(lib.ust_tap_open(cfg, out), f"/dev/net/tun ({name or 'tap'})")
        self._t: Any = out[0]

    @property
    def name(self) -> str:
        """The kernel's name of the interface."""
        return cstr(lib.ust_tap_name(self._ptr())) or ""

    def fileno(self) -> int:
        """The device's descriptor: readable when frames wait (select/poll)."""
        return int(lib.ust_tap_fd(self._ptr()))

    @property
    def stats(self) -> dict[str, int]:
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

    def close(self) -> None:
        """Detach the interface still using it, then close the device."""
        if self._t is None:
            return
        self._detach()
        lib.ust_tap_close(self._t)
        self._t = None

    def __repr__(self) -> str:
        if self._t is None:
            return "<Tap closed>"
        return f"<Tap {self.name}>"
