"""ustack on a DPDK port for the commands that meet the kernel (``serve``,
``ping``, ``fetch`` with ``--driver dpdk``), and the EAL command line they use.

Two ways, chosen by the EAL arguments and ``--dpdk-port``:

- a net_tap virtual device made for the run (the default): DPDK's TAP PMD
  creates a Linux TAP interface in the current namespace (the command's own,
  as with the TAP driver), the kernel gets --peer-address on it, and the
  kernel's tools reach ustack exactly as over ``HostLink``;
- the user's port (``--dpdk-port NAME``, or a device named in the EAL
  arguments: ``-a 0000:03:00.0``, ``--vdev=net_memif0,...``): used as it is,
  no namespace, no kernel side, the user's addresses (not held to
  198.18.0.0/15: the port is the user's network).

The EAL runs in this process, once (DPDK allows one ``rte_eal_init`` per
process).  Its arguments are the base (``DEFAULT_EAL_ARGS``: no hugepages,
256 MB of ordinary memory, no shared config, no PCI scan -- what works on a
machine without hugepages or VFIO; ``--dpdk-base-args`` or
``$USTACK_DPDK_BASE_ARGS`` replace it, e.g. with ``""`` on a machine with
hugepages), ``--no-pci`` dropped when the user names a PCI device, then
``--file-prefix`` and ``--lcores`` unless given, quieter logs, then the
user's ``--dpdk-args``.  The runtime folder the EAL makes under
/var/run/dpdk (or $XDG_RUNTIME_DIR/dpdk) is removed when the process ends.

A DPDK port has no file descriptor to sleep on: ``wait`` polls without
sleeping while frames flow and for ``SPIN_S`` after the last one, then
naps ``NAP_S`` at a time (so an idle server costs little CPU and a reply
waits at most that long).
"""

from __future__ import annotations

import atexit
import os
import select
import shlex
import shutil
import signal
import subprocess
import threading
import time
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

__all__ = [
    "DEFAULT_EAL_ARGS",
    "DpdkLink",
    "eal_arguments",
    "names_pci_device",
    "names_port",
    "first_device",
    "remove_runtime",
    "runtime_dir",
    "SPIN_S",
    "NAP_S",
]

DEFAULT_EAL_ARGS = "--no-huge -m 256 --no-shconf --no-pci"
BASE_ENV = "USTACK_DPDK_BASE_ARGS"
# Below notice, the EAL describes the machine on every start (telemetry at
# info says it made no legacy socket); net_tap reports
# as errors that it cannot add a multiq qdisc (sch_multiq missing) and so
# disables rte_flow, which ustack does not use.  The user's --log-level
# options come later and win.
QUIET_LOGS = (
    "--log-level=lib.eal:notice",
    "--log-level=lib.telemetry:warning",
    "--log-level=pmd.net.tap:critical",
)
SPIN_S = 0.002  # keep polling this long after the last work
NAP_S = 0.0005  # then sleep this long between polls

_PCI_OPTS = ("-a", "--allow", "-b", "--block", "--pci-whitelist", "--pci-blacklist")
_DEVICE_OPTS = (*_PCI_OPTS, "--vdev")


def _options(argv: Sequence[str], names: Sequence[str]) -> list[str]:
    """Values of the options ``names`` in ``argv`` (``-a X``, ``-aX``, ``--a=X``)."""
    out = []
    for i, arg in enumerate(argv):
        for name in names:
            if arg == name and i + 1 < len(argv):
                out.append(argv[i + 1])
            elif name.startswith("--") and arg.startswith(name + "="):
                out.append(arg[len(name) + 1 :])
            elif not name.startswith("--") and arg.startswith(name) and len(arg) > len(name):
                out.append(arg[len(name) :])
    return out


def names_pci_device(argv: Sequence[str]) -> bool:
    """True when the EAL arguments allow or block a PCI device."""
    return bool(_options(argv, _PCI_OPTS))


def names_port(argv: Sequence[str]) -> bool:
    """True when the EAL arguments bring a device of their own (PCI or vdev)."""
    return bool(_options(argv, _DEVICE_OPTS))


def first_device(argv: Sequence[str]) -> str | None:
    """The DPDK name of the first device the EAL arguments bring (``-a
    0000:03:00.0,opt=1`` gives 0000:03:00.0, ``--vdev=net_memif0,...``
    net_memif0), or None."""
    found = _options(argv, ("-a", "--allow", "--pci-whitelist", "--vdev"))
    return found[0].split(",", 1)[0] if found else None


def runtime_dir(prefix: str) -> Path:
    """Where the EAL keeps its runtime files for ``--file-prefix`` ``prefix``
    (DPDK 22.11: /var/run/dpdk/PREFIX for root, else under
    $XDG_RUNTIME_DIR or /tmp)."""
    if os.geteuid() == 0:
        base = "/var/run"
    else:
        base = os.environ.get("XDG_RUNTIME_DIR") or "/tmp"
    return Path(base) / "dpdk" / prefix


def eal_arguments(
    user: str | Sequence[str] = "", base: str | None = None, prefix: str | None = None
) -> list[str]:
    """The EAL command line (without a program name) for ``user``'s
    ``--dpdk-args``: the base (``base``, else $USTACK_DPDK_BASE_ARGS, else
    ``DEFAULT_EAL_ARGS``) without ``--no-pci`` when ``user`` names a PCI
    device; ``--file-prefix=PREFIX`` and ``--lcores=0@(CPUS)`` (one lcore
    free to run on every CPU this process may use: the EAL would pin it to
    the first) unless given; quiet logs; then ``user``."""
    extra = shlex.split(user) if isinstance(user, str) else list(user)
    if base is None:
        base = os.environ.get(BASE_ENV, DEFAULT_EAL_ARGS)
    argv = shlex.split(base)
    if names_pci_device(extra):
        argv = [a for a in argv if a != "--no-pci"]
    given = argv + extra
    if not _options(given, ("--file-prefix",)) and prefix is not None:
        argv.append(f"--file-prefix={prefix}")
    if not _options(given, ("-l", "-c", "--lcores")):
        cpus = ",".join(str(c) for c in sorted(os.sched_getaffinity(0)))
        argv.append(f"--lcores=0@({cpus})")
    return [*argv, *QUIET_LOGS, *extra]


def remove_runtime(prefix: str) -> None:
    """Removes the EAL's runtime folder for ``prefix`` (a process that was
    killed, or a child this process ran, cannot), and the dpdk/ folder above
    it once nothing else is in it."""
    path = runtime_dir(prefix)
    shutil.rmtree(path, ignore_errors=True)
    try:
        path.parent.rmdir()
    except OSError:  # another process's files are there, or it is gone
        pass


class _RuntimeCleanup:
    """Removes the EAL's runtime folder for a prefix at exit (after the
    EAL's own cleanup, registered later, has run), and the dpdk/ folder
    above it when this process made it and it is empty."""

    def __init__(self, prefix: str) -> None:
        self.path = runtime_dir(prefix)
        self.parent_existed = self.path.parent.exists()
        self.existed = self.path.exists()
        atexit.register(self.run)

    def run(self) -> None:
        if not self.existed:
            shutil.rmtree(self.path, ignore_errors=True)
        if not self.parent_existed:
            try:
                self.path.parent.rmdir()
            except OSError:  # another process's files are there: theirs
                pass


def start_eal(argv: Sequence[str]) -> None:
    """``ustack.dpdk.eal_init(argv)`` with its runtime folder removed at
    exit; OSError (with the arguments) when the EAL does not start."""
    try:
        from ustack import dpdk
    except ImportError as exc:
        raise OSError(f"DPDK is not available: ustack.dpdk cannot be imported ({exc})") from None
    if not dpdk.available():
        raise OSError(f"DPDK is not available: {dpdk.why_unavailable()}")
    prefix = _options(argv, ("--file-prefix",))
    if prefix:
        _RuntimeCleanup(prefix[-1])
        # A SIGTERM before the command installs its own handler (a test
        # ending a server that is still starting) must still end through
        # the exit handlers that remove the runtime folder.
        if (
            threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
        ):
            signal.signal(signal.SIGTERM, _exit_on_signal)
    try:
        dpdk.eal_init(list(argv))
    except OSError as exc:
        raise OSError(f"the DPDK EAL did not start ({exc}) with: {' '.join(argv)}") from None


def _exit_on_signal(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


class DpdkLink(PortLink):
    """A stack on queue 0 of a DPDK port: a net_tap device made for the run
    facing this namespace's kernel (``port`` None), or the user's port."""

    driver = "dpdk"

    def __init__(
        self,
        *,
        eal_args: Sequence[str] = (),
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
        from ustack import dpdk

        self.made_tap = port is None
        super().__init__(address, peer_address, made=self.made_tap)
        start_eal(eal_args)
        if port is None:
            # net_tap's interface appears at once in this namespace, named ifname.
            port_id: int | str = dpdk.vdev(f"net_tap_{ifname}", f"iface={ifname}")
            self.ifname = ifname
        else:
            port_id = int(port) if port.isdigit() else port
            self.ifname = str(port)
        try:
            self.port = dpdk.Port(port_id, mtu=mtu, **port_options)
            if self.made_tap:
                # net_tap gives the kernel's interface the port's own MAC
                # address (again when the port starts); ustack drops frames
                # from its own address, so the kernel's side takes another.
                ip_link("set", ifname, "address", local_mac())
                setup_kernel_side(ifname, self.peer_address, mtu or 1500)
            self._attach(self.port.queue(0), "dp0", pcap, snaplen, seed)
        except Exception:
            self.close()
            raise

    def wait(self, fds: Sequence[int] = (), limit: float = 0.05) -> list[int]:
        nap = 0.0 if self.idle < SPIN_S else min(NAP_S, self._timer_wait(limit))
        if not fds:
            if nap > 0:
                time.sleep(nap)
            return []
        ready, _, _ = select.select(list(fds), [], [], nap)
        return list(ready)


def ip_link(*argv: str) -> None:
    """``ip link ARGV`` (CalledProcessError when it fails)."""
    subprocess.run(["ip", "link", *argv], check=True, capture_output=True)
