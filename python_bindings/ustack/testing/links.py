"""The fixtures with a real peer: ustack on a device whose other side is
the Linux kernel, in a network namespace made for the test.

Every one is a :class:`KernelPeer`: a fresh namespace (:class:`ustack.netns.NetNs`)
holding the device, ustack 198.18.0.1/24 on it, the kernel 198.18.0.2/24 on
the other side.  ustack's stack is a one-stack :class:`ustack.StackGroup`
with its own thread, so its sockets block as host sockets do (on the real
clock) while the test also blocks on kernel sockets made in the namespace
(:meth:`KernelPeer.socket`, :func:`ustack.board.hostboard.netns_socket`).
The device is made with this thread moved into the namespace (setns) and
moved back at once: nothing is created in the host's namespace and nothing
of it is touched.

- :class:`LinuxPeer` (``ustack_linux``): a TAP device ``ust0``;
- :class:`DpdkPeer` (``ustack_dpdk``): a DPDK ``net_tap`` virtual device
  (the EAL starts once in the pytest process, without hugepages);
- :class:`XdpPeer` (``ustack_afxdp``): an AF_XDP socket on ``xa``, one end
  of a veth pair whose other end ``xb`` is the kernel's;
- :class:`BoardPeer` (``ustack_board``): a QEMU board running the firmware
  (:class:`ustack.board.Board`), the kernel on its TAP.

Each ``*_unavailable()`` says why its fixture cannot run here (None when
it can); the fixture skips with that reason, or fails with it when
``USTACK_REQUIRE_ALL=1`` (CI).
"""

from __future__ import annotations

import itertools
import os
import shutil
import socket as pysocket
import subprocess
import time
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from ustack.netns import in_netns
from ustack.testing.report import Subject

__all__ = [
    "BoardPeer",
    "DpdkPeer",
    "KernelPeer",
    "LinuxPeer",
    "XdpPeer",
    "afxdp_unavailable",
    "board_unavailable",
    "dpdk_unavailable",
    "in_netns",
    "linux_unavailable",
    "skip_unless",
]

USTACK_IP = "198.18.0.1"
KERNEL_IP = "198.18.0.2"
_names = itertools.count()


def skip_unless(fixture: str, reason: str | None) -> None:
    """Skip the test with ``"<fixture>: <reason>"`` (fail with it under
    USTACK_REQUIRE_ALL=1)."""
    if reason is None:
        return
    reason = f"{fixture}: {reason}"
    if os.environ.get("USTACK_REQUIRE_ALL") == "1":
        pytest.fail(f"USTACK_REQUIRE_ALL=1: {reason}", pytrace=False)
    pytest.skip(reason)


def linux_unavailable() -> str | None:
    """Why ``ustack_linux`` cannot run (no root, no ``ip``, no /dev/net/tun)."""
    from ustack import netns

    return netns.unavailable_reason()


def dpdk_unavailable() -> str | None:
    """Why ``ustack_dpdk`` cannot run: no root or namespaces, no DPDK in this build."""
    from ustack import netns

    reason = netns.unavailable_reason()
    if reason is None:
        try:
            from ustack import dpdk
        except ImportError as exc:  # pragma: no cover - a broken install
            reason = f"ustack.dpdk cannot be imported ({exc})"
        else:
            if not dpdk.available():
                reason = dpdk.why_unavailable()
    return reason


def afxdp_unavailable() -> str | None:
    """Why ``ustack_afxdp`` cannot run: no root or namespaces, no AF_XDP in
    this build, no ``ethtool``."""
    from ustack import netns

    reason = netns.unavailable_reason()
    if reason is None:
        try:
            from ustack import afxdp
        except ImportError as exc:  # pragma: no cover - a broken install
            reason = f"ustack.afxdp cannot be imported ({exc})"
        else:
            if not afxdp.available():
                reason = afxdp.why_unavailable()
            elif shutil.which("ethtool") is None:
                reason = "ethtool is not installed (apt-get install ethtool)"
    return reason


def board_name() -> str:
    """The board ``ustack_board`` boots: $USTACK_TEST_BOARD, default mps2-an385."""
    return os.environ.get("USTACK_TEST_BOARD", "mps2-an385")


def board_unavailable() -> str | None:
    """Why ``ustack_board`` cannot run: no root, no qemu-system-arm, no
    arm-none-eabi-gcc to build the firmware (when it is not built yet)."""
    from ustack import netns

    reason = netns.unavailable_reason()
    if reason is None:
        try:
            from ustack.board.qemu import QEMU, firmware_path, unavailable_reason
        except ImportError as exc:  # pragma: no cover - a broken install
            reason = f"ustack.board cannot be imported ({exc})"
        else:
            if shutil.which(QEMU) is None:
                reason = f"{QEMU} is not installed (apt-get install qemu-system-arm)"
            else:
                reason = unavailable_reason()
            if reason is None and shutil.which("arm-none-eabi-gcc") is None:
                try:
                    built = firmware_path(board_name()).is_file()
                except Exception:
                    built = False
                if not built:
                    reason = (
                        "arm-none-eabi-gcc is not installed and the firmware is not built "
                        "(apt-get install gcc-arm-none-eabi)"
                    )
    return reason


class KernelPeer:
    """ustack (:attr:`stack`, 198.18.0.1) on a device in :attr:`ns`, the
    Linux kernel (198.18.0.2) on the other side.  Subclasses make the
    device in :meth:`_make_device`, inside the namespace."""

    kind = "kernel"
    ifname = "ust0"  # the kernel's interface

    def __init__(
        self,
        *,
        seed: int,
        mtu: int = 1500,
        knobs: Mapping[str, int | str] | None = None,
        kernel_sysctl: Mapping[str, int | str] | None = None,
    ) -> None:
        from ustack.group import StackGroup
        from ustack.netns import NetNs

        self._ksocks: list[pysocket.socket] = []  # kernel sockets, closed at teardown
        self.seed = seed
        self.mtu = mtu
        self.addr = USTACK_IP
        self.peer_addr = KERNEL_IP
        self.ns = NetNs(f"pytest{self.kind[:5]}")
        self.group: Any = None
        self.device: Any = None
        try:
            for name, value in (kernel_sysctl or {}).items():
                self.sysctl(name, value)
            with in_netns(self.ns.name):
                self.device = self._make_device()
            self.group = StackGroup(1, seed=seed)
            for name, value in (knobs or {}).items():
                self.group.sysctl(name, value)
            self.iface = self.group.attach("if0", self.device)[0]
            self.group.add_address("if0", f"{USTACK_IP}/24")
            self.stack = self.group.stacks[0]
            self.group.start()
        except BaseException:
            self.close()
            raise

    def _make_device(self) -> Any:
        raise NotImplementedError

    def _kernel_side(self, ifname: str) -> None:
        """The kernel's end (in the namespace): IPv6 off, 198.18.0.2/24, up."""
        from ustack.hostlink import setup_kernel_side

        setup_kernel_side(ifname, _iface(f"{KERNEL_IP}/24"), self.mtu)

    def describe(self) -> str:
        return (
            f"ustack_{self.kind}: ustack {USTACK_IP} on {self.device!r}, the kernel {KERNEL_IP} "
            f"on {self.ifname} in namespace {self.ns.name}"
        )

    def subjects(self) -> list[Subject]:
        """What the report shows: the stack and the device's counters."""
        subject = Subject(self.kind, self.stack)
        stats = self._driver_stats
        if stats is not None:
            subject.extra.append((f"{self.kind} driver", stats))
        return [subject]

    @property
    def _driver_stats(self) -> Callable[[], dict[str, int]] | None:
        dev = self.device
        attr = getattr(type(dev), "stats", None)
        if attr is None:
            return None
        if isinstance(attr, property):  # a Tap's counters
            return lambda: dict(dev.stats)
        return lambda: dict(dev.stats())

    # --- the kernel's side -------------------------------------------------------------

    def run(
        self, *argv: str, check: bool = True, timeout: float = 60.0
    ) -> subprocess.CompletedProcess[str]:
        """Run a command in the namespace (``ss -tni``, ``ping -c1 198.18.0.1``,
        ``sysctl -w ...``) and return it finished; CalledProcessError when
        ``check`` and it fails."""
        proc = subprocess.run(
            self.ns.exec_argv(*argv), capture_output=True, text=True, timeout=timeout, check=False
        )
        if check and proc.returncode != 0:
            raise subprocess.CalledProcessError(
                proc.returncode, list(argv), proc.stdout, proc.stderr
            )
        return proc

    def popen(self, *argv: str, **kw: Any) -> subprocess.Popen[str]:
        """Start a command in the namespace (a server); the namespace's
        removal ends it if the test did not."""
        kw.setdefault("text", True)
        return subprocess.Popen(self.ns.exec_argv(*argv), **kw)

    def sysctl(self, name: str, value: int | str) -> None:
        """Set a kernel knob of the namespace (``net.ipv4.tcp_sack``, 0)."""
        self.run("sysctl", "-qw", f"{name}={value}")

    def socket(
        self, family: int = pysocket.AF_INET, type: int = pysocket.SOCK_STREAM, proto: int = 0
    ) -> pysocket.socket:
        """A kernel socket made in the namespace (a plain ``socket.socket``,
        10 s timeout), closed at teardown if still open."""
        with in_netns(self.ns.name):
            s = pysocket.socket(family, type, proto)
        s.settimeout(10.0)
        self._ksocks.append(s)
        return s

    def connect(
        self, port: int = 5001, *, timeout: float = 10.0, **sockopts: Any
    ) -> tuple[Any, pysocket.socket]:
        """ustack connects to a kernel listener on ``port``: ``(ustack
        client, kernel server)``, both blocking with ``timeout``.  Keyword
        options are set on the ustack socket before it connects, as for
        ``ustack_pair.connect``."""
        from ustack.testing.pair import sockopt

        listener = self.socket()
        listener.setsockopt(pysocket.SOL_SOCKET, pysocket.SO_REUSEADDR, 1)
        listener.bind((KERNEL_IP, port))
        listener.listen(4)
        client = self.stack.socket(pysocket.AF_INET, pysocket.SOCK_STREAM)
        try:
            for name, value in sockopts.items():
                client.setsockopt(*sockopt(name), int(value) if isinstance(value, bool) else value)
            client.settimeout(timeout)
            client.connect((KERNEL_IP, port))
            server, _ = listener.accept()
            server.settimeout(timeout)
        except BaseException:
            client.close()
            raise
        finally:
            listener.close()
        return client, server

    def connect_from_kernel(
        self, port: int = 5001, *, timeout: float = 10.0
    ) -> tuple[pysocket.socket, Any]:
        """The kernel connects to a ustack listener on ``port``: ``(kernel
        client, ustack server)``, both blocking with ``timeout``."""
        listener = self.stack.socket(pysocket.AF_INET, pysocket.SOCK_STREAM)
        try:
            listener.bind((USTACK_IP, port))
            listener.listen(4)
            client = self.socket()
            client.settimeout(timeout)
            client.connect((USTACK_IP, port))
            listener.settimeout(timeout)
            server, _ = listener.accept()
            server.settimeout(timeout)
        finally:
            listener.close()
        return client, server

    def wait_until(self, done: Callable[[], bool], timeout: float = 10.0) -> bool:
        """Wait (real time; the stack runs on its thread) until ``done()``."""
        end = time.monotonic() + timeout
        while not done():
            if time.monotonic() >= end:
                return False
            time.sleep(0.005)
        return True

    def close(self) -> None:
        for s in self._ksocks:
            s.close()
        if self.group is not None:
            self.group.close()
            self.group = None
        device, self.device = self.device, None
        if device is not None:
            self._close_device(device)
        self.ns.close()

    def _close_device(self, device: Any) -> None:
        device.close()


def _iface(cidr: str) -> Any:
    import ipaddress

    return ipaddress.IPv4Interface(cidr)


class LinuxPeer(KernelPeer):
    """``ustack_linux``: a TAP device ``ust0`` (ustack's end) in the namespace."""

    kind = "linux"

    def _make_device(self) -> Any:
        from ustack.tap import Tap

        tap = Tap(self.ifname, mtu=self.mtu)
        try:
            self._kernel_side(self.ifname)
        except BaseException:
            tap.close()
            raise
        return tap


class DpdkPeer(KernelPeer):
    """``ustack_dpdk``: a DPDK ``net_tap`` port in the namespace.  The EAL
    starts in this process on first use (its threads in the host's
    namespace), with ``ustack.dpdklink``'s default arguments."""

    kind = "dpdk"

    def __init__(self, *, seed: int, **options: Any) -> None:
        from ustack import dpdklink

        prefix = f"ustack-pytest-{os.getpid()}"
        dpdklink.start_eal(dpdklink.eal_arguments(prefix=prefix))
        super().__init__(seed=seed, **options)

    def _make_device(self) -> Any:
        from ustack import dpdk
        from ustack.dpdklink import ip_link
        from ustack.hostlink import local_mac

        port_id = dpdk.vdev(f"net_tap_pytest{os.getpid()}_{next(_names)}", f"iface={self.ifname}")
        port = dpdk.Port(port_id, mtu=self.mtu)
        try:
            # net_tap gives the kernel's side the port's MAC: it takes another.
            ip_link("set", self.ifname, "address", local_mac())
            self._kernel_side(self.ifname)
        except BaseException:
            port.close()
            raise
        return port


class XdpPeer(KernelPeer):
    """``ustack_afxdp``: an AF_XDP socket on ``xa``, the kernel on ``xb``
    (a veth pair in the namespace; ``xb`` transmits without checksum
    offload, whose partial checksums AF_XDP would hand up unfinished)."""

    kind = "afxdp"
    ifname = "xb"

    def _make_device(self) -> Any:
        from ustack import afxdp

        sh = self._sh
        sh("ip", "link", "add", "xa", "type", "veth", "peer", "name", "xb")
        for dev in ("xa", "xb"):
            sh("ip", "link", "set", dev, "mtu", str(self.mtu))
        sh("ip", "link", "set", "xa", "up")
        self._kernel_side("xb")
        sh("ethtool", "-K", "xb", "tx", "off")
        return afxdp.Port("xa")

    @staticmethod
    def _sh(*argv: str) -> None:
        subprocess.run(argv, check=True, capture_output=True)


class PacketCapture:
    """A pcap file of every frame on a kernel interface (a board's TAP), from
    an ``AF_PACKET`` socket made in the namespace, read by a thread and
    written by the project's pcap writer (``ust_pcap``, as
    :class:`ustack.Capture`): the same shape (``path``, ``count``,
    ``close()``)."""

    def __init__(self, ns_name: str, ifname: str, path: str | os.PathLike[str]) -> None:
        import threading

        from ustack._native import ffi, lib
        from ustack.errors import check

        self.path = os.fspath(path)
        self._lib = lib
        self._count = 0
        with in_netns(ns_name):
            self._sock = pysocket.socket(pysocket.AF_PACKET, pysocket.SOCK_RAW, pysocket.htons(3))
        try:
            self._sock.bind((ifname, 0))
            self._sock.settimeout(0.05)
            out = ffi.new("struct ust_pcap **")
            check(lib.ust_pcap_open(os.fsencode(self.path), 0, out), self.path)
        except BaseException:
            self._sock.close()
            raise
        self._pc: Any = out[0]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"pcap {ifname}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                frame = self._sock.recv(65535)
            except TimeoutError:
                continue
            except OSError:
                return
            self._lib.ust_pcap_write(self._pc, time.time_ns(), frame, len(frame))

    @property
    def count(self) -> int:
        """Frames written so far."""
        return self._count if self._pc is None else int(self._lib.ust_pcap_count(self._pc))

    @property
    def closed(self) -> bool:
        return self._pc is None

    def close(self) -> None:
        if self._pc is None:
            return
        self._stop.set()
        self._thread.join()
        self._sock.close()
        self._count = int(self._lib.ust_pcap_count(self._pc))
        pc, self._pc = self._pc, None
        self._lib.ust_pcap_close(pc)


class BoardPeer:
    """``ustack_board``: a QEMU board (:class:`ustack.board.Board`) running
    ustack's firmware on a TAP in its own namespace, the kernel 198.18.0.1
    there.  :attr:`board` is driven like a Stack (sockets, netstat, the TCP
    table); :meth:`socket` makes kernel sockets in the board's namespace."""

    kind = "board"

    def __init__(self, *, seed: int) -> None:
        from ustack.board import Board

        self.seed = seed
        self.name = board_name()
        self.board: Any = Board(self.name, seed=seed)
        self.stack = self.board
        self.addr = "198.18.0.2"
        self.peer_addr = "198.18.0.1"
        self._ksocks: list[pysocket.socket] = []

    @property
    def ns_name(self) -> str:
        return str(self.board.owner.netns.name)

    def describe(self) -> str:
        return (
            f"ustack_board: {self.name} at {self.addr}, the kernel {self.peer_addr} "
            f"in namespace {self.ns_name}"
        )

    def subjects(self) -> list[Subject]:
        return [Subject("board", self.board)]

    def capture(self, path: str | os.PathLike[str]) -> PacketCapture:
        """Capture the board's link (the kernel's end of its TAP) to ``path``."""
        from ustack.board.qemu import TAP_NAME

        return PacketCapture(self.ns_name, TAP_NAME, path)

    def socket(
        self, family: int = pysocket.AF_INET, type: int = pysocket.SOCK_STREAM, proto: int = 0
    ) -> pysocket.socket:
        """A kernel socket in the board's namespace (10 s timeout)."""
        with in_netns(self.ns_name):
            s = pysocket.socket(family, type, proto)
        s.settimeout(10.0)
        self._ksocks.append(s)
        return s

    def run(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run a command in the board's namespace."""
        proc = subprocess.run(
            ["ip", "netns", "exec", self.ns_name, *argv],
            capture_output=True,
            text=True,
            check=False,
        )
        if check and proc.returncode != 0:
            raise subprocess.CalledProcessError(
                proc.returncode, list(argv), proc.stdout, proc.stderr
            )
        return proc

    def close(self) -> None:
        for s in self._ksocks:
            s.close()
        self.board.close()
