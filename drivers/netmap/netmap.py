"""netmap ports: a stack on the rings of a netmap(4) port.

>>> from ustack import netmap
>>> port = netmap.Port("netmap:em0-1")          # NIC ring pair 1 of em0
>>> stack.add_interface(port.queue(0), "nm0", "198.18.0.2/24")

Port names are netmap's own (``ustack_netmap.h``): ``netmap:IF`` (every NIC
ring pair), ``netmap:IF-N`` (pair N), ``netmap:IF^`` (the host rings),
``netmap:IF*`` (NIC and host rings), ``netmap:X{N`` / ``netmap:X}N`` (the
two ends of pipe N of X), ``vale0:P`` (a VALE switch port).  Each bound
ring pair is one interface (``port.rings`` of them, ``port.queue(i)``); all
interfaces of one port belong to one stack (they share its syncs).

``sys`` replaces the system calls (a cffi ``struct ust_netmap_sys *``): the
tests hand the user-space emulator's table (tests/netmap_emu) here.  None
uses libc, i.e. the kernel's netmap module, or the emulator when this
process runs under its LD_PRELOAD library.

This module lives in drivers/netmap/ and is imported as ``ustack.netmap``.
"""

from __future__ import annotations

import os
import re
import weakref
from pathlib import Path
from typing import Any

from ustack._native import ffi, lib, struct_to_dict
from ustack.drivers import PortQueue, QueuedPort
from ustack.errors import check

__all__ = [
    "NETMAP_STATS_FIELDS",
    "Emulator",
    "Port",
    "Queue",
    "available",
    "emulator_library",
    "emulator_unavailable_reason",
    "why_unavailable",
]
# Names the package exports as ustack.<name>: none (ustack.netmap.Port).
USTACK_EXPORTS: tuple[str, ...] = ()

NETMAP_STATS_FIELDS = (
    "rx_frames",
    "rx_bytes",
    "rx_lent",
    "rx_copied",
    "rx_frags",
    "rx_dropped",
    "tx_frames",
    "tx_bytes",
    "tx_frags",
    "tx_full",
    "txsync",
    "rxsync",
    "spare_bufs",
    "lent_now",
)

_PIPE = re.compile(r"^netmap:(.+)[{}](\d+)$")


class _PipeKey:
    """The medium of one netmap pipe (a World key: weak-referenceable)."""


# Both ends of a pipe in this process share a key, so that blocking calls
# on one stack poll the stack on the other end too (as on a ustack.Pipe).
_PIPE_KEYS: weakref.WeakValueDictionary[tuple[int, str], _PipeKey] = weakref.WeakValueDictionary()


def available() -> bool:
    """True when this ustack was built with the netmap driver."""
    return hasattr(lib, "ust_netmap_open")


def why_unavailable() -> str:
    """Why ``available()`` is False ("" when it is True)."""
    if available():
        return ""
    return (
        "ustack was built without the netmap driver (USTACK_WITH_NETMAP=OFF, or not a "
        "Linux/FreeBSD posix build)"
    )


def _need() -> None:
    if not available():
        raise OSError(why_unavailable())


def _mac_bytes(mac: str | bytes) -> bytes:
    raw = mac if isinstance(mac, bytes) else bytes(int(b, 16) for b in mac.split(":"))
    if len(raw) != 6:
        raise ValueError(f"not a MAC address: {mac!r}")
    return raw


class Queue(PortQueue):
    """Ring pair ``index`` of a :class:`Port`: one interface of one stack."""

    _port: Port

    def _label(self) -> str:
        return f"netmap port {self._port.name} ring {self.index}"

    def _ops_softc(self) -> tuple[Any, Any]:
        return lib.ust_netmap_ops(), lib.ust_netmap_softc(self._port._ptr(), self.index)

    def _shared_key(self) -> object | None:
        return self._port._key

    def __repr__(self) -> str:
        return f"<netmap.Queue {self._port.name} ring {self.index}>"


class Port(QueuedPort[Queue]):
    """One registered netmap port (``struct ust_netmap_port``).

    ``slots`` asks for that ring size (0: the port's); ``extra_bufs`` spare
    buffers for zero-copy receive (the kernel may give fewer); ``zero_copy``
    lends received buffers to the stack (False copies); ``mtu`` 0 is 1500;
    ``sys`` is a cffi ``struct ust_netmap_sys *`` or an :class:`Emulator`
    (kept alive as long as the port); ``mac`` (``"02:..."`` or 6 bytes) the
    interface's address, else the NIC's own or one derived from the name;
    ``caps_mask`` is accepted for symmetry with the other drivers (netmap
    ports offer no offloads).
    """

    _what = "the netmap port"

    def __init__(
        self,
        name: str,
        *,
        slots: int = 0,
        extra_bufs: int = 1024,
        zero_copy: bool = True,
        mtu: int = 0,
        caps_mask: int | None = None,
        sys: Any = None,
        mac: str | bytes | None = None,
        lend_min_free: int | None = None,
        device: str | None = None,
    ) -> None:
        _need()
        super().__init__()
        self.name = name
        self._sys = sys  # kept alive as long as the port (an Emulator too)
        if isinstance(sys, Emulator):
            sys = sys.sys
        cfg = ffi.new("struct ust_netmap_config *")
        lib.ust_netmap_config_init(cfg)
        cname = ffi.new("char[]", name.encode())
        cdev = ffi.new("char[]", device.encode()) if device is not None else ffi.NULL
        cfg.port = cname
        cfg.device = cdev
        cfg.slots = slots
        cfg.extra_bufs = extra_bufs
        cfg.zero_copy = 1 if zero_copy else 0
        cfg.mtu = mtu
        if lend_min_free is not None:
            cfg.lend_min_free = lend_min_free
        if caps_mask is not None:
            cfg.caps_mask = caps_mask
        if mac is not None:
            cfg.mac = list(_mac_bytes(mac))
        if sys is not None:
            cfg.sys = sys
        out = ffi.new("struct ust_netmap_port **")
        rc = int(lib.ust_netmap_open(cfg, out))
        dev = device or "/dev/netmap"
        if rc < 0 and sys is None and not os.path.exists(dev) and "LD_PRELOAD" not in os.environ:
            raise OSError(
                f"netmap port {name}: no {dev} (netmap's kernel module is not loaded here; "
                "the tests use the user-space emulator, tests/netmap_emu)"
            )
        check(rc, f"netmap port {name}")
        self._p: Any = out[0]
        self.rings = int(lib.ust_netmap_rings(self._p))
        self._queues = [Queue(self, i) for i in range(self.rings)]
        self._key: _PipeKey | None = None
        pipe = _PIPE.match(name)
        if pipe is not None:
            sys_id = int(ffi.cast("uintptr_t", sys)) if sys is not None else 0
            base = (sys_id, f"{pipe.group(1)}#{pipe.group(2)}")
            key = _PIPE_KEYS.get(base)
            if key is None:
                key = _PipeKey()
                _PIPE_KEYS[base] = key
            self._key = key

    def stats(self) -> dict[str, int]:
        """The driver's counters (frames, lent and copied receive buffers,
        NS_MOREFRAG chains, syncs, spare and lent buffers now)."""
        out = ffi.new("struct ust_netmap_stats *")
        lib.ust_netmap_get_stats(self._ptr(), out)
        return struct_to_dict(out, NETMAP_STATS_FIELDS)

    def fileno(self) -> int:
        """The port's descriptor: readable when a bound rx ring has frames."""
        return int(lib.ust_netmap_fd(self._ptr()))

    def _close_port(self, p: Any) -> None:
        """Unregisters (buffers still lent to a stack keep the mapping until
        they come back)."""
        lib.ust_netmap_close(p)

    def __repr__(self) -> str:
        state = "closed" if self._p is None else f"{self.rings} ring pairs"
        return f"<netmap.Port {self.name} {state}>"


# The emulator's C API (tests/netmap_emu/nm_emu.h), for loading it with
# cffi's ABI mode from its shared library.
_EMU_CDEF = """
struct ust_netmap_sys;
struct nm_emu_config {
    uint32_t num_slots;
    uint32_t max_slots;
    uint32_t buf_size;
    uint32_t num_bufs;
    uint32_t max_extra_bufs;
    uint8_t strict;
    uint8_t permute_bufs;
    uint32_t lazy_tx;
    uint8_t partial_tx;
    uint8_t swap_rx;
    uint32_t frag_size;
    uint8_t paranoid;
    uint64_t seed;
    uint32_t pipe_rings;
    uint32_t tap_rings;
    uint8_t tap_up;
    uint8_t tap_create;
    const char *device;
};
struct nm_emu;
void nm_emu_config_init(struct nm_emu_config *cfg);
int nm_emu_config_env(struct nm_emu_config *cfg, char *err, size_t errlen);
struct nm_emu *nm_emu_create(const struct nm_emu_config *cfg);
void nm_emu_destroy(struct nm_emu *emu);
const struct ust_netmap_sys *nm_emu_sys(struct nm_emu *emu);
unsigned nm_emu_violations(const struct nm_emu *emu, char *last_msg, size_t len);
"""
EMU_LIB_ENV = "USTACK_NETMAP_EMU_LIB"
EMU_PRELOAD_ENV = "USTACK_NETMAP_EMU_PRELOAD"
EMU_LIB_NAME = "libnetmap_emu.so"
EMU_PRELOAD_NAME = "libnetmap_emu_preload.so"
_emu_lib: Any = None


def emulator_library(*, preload: bool = False) -> Path | None:
    """The emulator's shared library, for loading in this process (its
    nm_emu_* API), or with ``preload`` its LD_PRELOAD form (which serves
    open("/dev/netmap") to a whole process): ``$USTACK_NETMAP_EMU_LIB`` /
    ``$USTACK_NETMAP_EMU_PRELOAD``, else the build tree of this source tree
    that has it (build/ first; never a sanitizer build, whose runtime a
    plain Python cannot load).  It is a test double, never installed."""
    env = os.environ.get(EMU_PRELOAD_ENV if preload else EMU_LIB_ENV)
    if env:
        return Path(env)
    name = EMU_PRELOAD_NAME if preload else EMU_LIB_NAME
    root = Path(__file__).resolve().parents[2]
    builds = [root / "build"] + sorted(
        b for b in root.glob("build?*") if "asan" not in b.name and "fuzz" not in b.name
    )
    for build in builds:
        lib_path = build / "tests" / "netmap_emu" / name
        if lib_path.exists():
            return lib_path
    return None


def emulator_unavailable_reason() -> str | None:
    """Why the driver cannot run over the emulator here (None: it can)."""
    if not available():
        return why_unavailable()
    for preload in (False, True):
        if emulator_library(preload=preload) is None:
            name = EMU_PRELOAD_NAME if preload else EMU_LIB_NAME
            return f"the netmap emulator library ({name}) is not built (tests/netmap_emu)"
    return None


def _load_emulator() -> tuple[Any, Any]:
    global _emu_lib
    import cffi

    if _emu_lib is None:
        path = emulator_library()
        if path is None or not path.exists():
            raise OSError(
                f"the netmap emulator library ({EMU_LIB_NAME}) was not found: build the "
                f"tests (cmake --build build) or set ${EMU_LIB_ENV}"
            )
        emu_ffi = cffi.FFI()
        emu_ffi.cdef(_EMU_CDEF)
        # Only the driver's system-call table (cfg.sys) reaches it.
        _emu_lib = (emu_ffi, emu_ffi.dlopen(str(path)))
    return _emu_lib


class Emulator:
    """An in-process instance of the user-space netmap emulator (a test
    double of the kernel side, tests/netmap_emu): ``Port(name, sys=emu.sys)``
    registers on it.  Knobs are nm_emu_config's fields (``strict``,
    ``permute_bufs``, ``lazy_tx``, ``frag_size``, ``paranoid``, ...), applied
    over the ``NETMAP_EMU_*`` environment variables."""

    def __init__(self, **knobs: int) -> None:
        _need()
        self._ffi, self._lib = _load_emulator()
        cfg = self._ffi.new("struct nm_emu_config *")
        self._lib.nm_emu_config_init(cfg)
        err = self._ffi.new("char[128]")
        if self._lib.nm_emu_config_env(cfg, err, 128) != 0:
            raise ValueError(f"netmap emulator: {self._ffi.string(err).decode()}")
        for k, v in knobs.items():
            setattr(cfg, k, v)
        self._emu: Any = self._lib.nm_emu_create(cfg)
        if self._emu == self._ffi.NULL:
            raise OSError("nm_emu_create failed")
        self.sys: Any = ffi.cast(
            "struct ust_netmap_sys *",
            int(self._ffi.cast("uintptr_t", self._lib.nm_emu_sys(self._emu))),
        )

    def violations(self) -> tuple[int, str]:
        """Strict-mode violations so far and the last one's message."""
        msg = self._ffi.new("char[512]")
        n = int(self._lib.nm_emu_violations(self._emu, msg, 512))
        return n, self._ffi.string(msg).decode(errors="replace")

    def close(self) -> None:
        """Destroys the emulator (every port on it must be closed, and no
        buffer of theirs lent any more)."""
        if self._emu is not None:
            self._lib.nm_emu_destroy(self._emu)
            self._emu = None
