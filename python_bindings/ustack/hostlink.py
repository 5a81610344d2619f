"""ustack on a TAP device facing the Linux kernel, inside a namespace of its own.

What every command that meets the real kernel shares (``ustack serve``,
``ping``, ``fetch``, the interop tests, ``packetdrill --backend tap``):

    rc = netns.reexec_inside("serve")       # in the parent: make a namespace, run
    if rc is not None:                      # this same command inside, delete it
        return rc
    with HostLink() as link:                # inside: ustack 198.18.0.1/24 on TAP
        sock = link.stack.socket(...)       # "ust0", the kernel 198.18.0.2/24
        link.poll_until(lambda: done, timeout=5.0)

``HostLink`` creates the TAP device (``ust0`` by default), attaches it to a new
stack on the monotonic clock with ustack's address, brings the kernel's side
up with the peer address and IPv6 off (so the kernel sends nothing
unasked), and optionally captures to a pcap file (``snaplen`` bytes of each frame, 0 for
all).  ``poll_until`` runs the
stack, sleeping in select(2) on the device until the next timer.  Addresses
must stay inside 198.18.0.0/15.

IPv6 is off unless asked for: ``link.enable_ipv6("2001:2::1/64",
"2001:2::2/64", kernel_ifname=...)`` gives ustack the first address (no
DAD) and, on a device made for the run, turns the kernel's IPv6 back on
(``disable_ipv6=0``, ``accept_dad=0``) with the second (``nodad``), so the
first packets are not held by duplicate address detection.  IPv6 addresses
must stay inside 2001:2::/48 (RFC 5180) or be link-local (fe80::/10).

``HostLink(ifname="tap0", existing=True)`` attaches to a TAP device that is
already there instead, in the current namespace, and changes nothing about
it: no root needed when the device belongs to the user
(``ip tuntap add dev tap0 mode tap user $USER``).  It must be up; its MTU is
used as found, and the kernel's address is the device's own (``peer_address``
None), which ``existing_device`` reads.
"""

from __future__ import annotations

import ipaddress
import json
import os
import select
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ustack.drivers import DriverEnd
from ustack.group import StackGroup
from ustack.netns import BENCH_NET, BENCH_NET6, LINK_LOCAL6
from ustack.sockets import AF_INET, AF_INET6, SO_ERROR, SOCK_STREAM, SOL_SOCKET, Socket
from ustack.stack import Capture, Interface, Stack
from ustack.tap import Tap

__all__ = [
    "HostLink",
    "GroupHostLink",
    "GroupLink",
    "PortLink",
    "StackLink",
    "local_mac",
    "setup_kernel_side",
    "setup_kernel_side6",
    "kernel_mac",
    "TapDevice",
    "existing_device",
    "DEFAULT_ADDRESS",
    "DEFAULT_PEER_ADDRESS",
    "DEFAULT_ADDRESS6",
    "DEFAULT_PEER_ADDRESS6",
    "DEFAULT_IFNAME",
    "check_range6",
]

DEFAULT_ADDRESS = "198.18.0.1/24"
DEFAULT_PEER_ADDRESS = "198.18.0.2/24"
DEFAULT_ADDRESS6 = "2001:2::1/64"
DEFAULT_PEER_ADDRESS6 = "2001:2::2/64"
DEFAULT_IFNAME = "ust0"


def _check_range(cidr: str) -> ipaddress.IPv4Interface:
    addr = ipaddress.IPv4Interface(cidr)
    if addr.ip not in ipaddress.IPv4Network(BENCH_NET):
        raise ValueError(f"{cidr}: only addresses from {BENCH_NET} may be used here")
    return addr


def check_range6(cidr: str | ipaddress.IPv6Interface) -> ipaddress.IPv6Interface:
    """``cidr`` as an IPv6Interface (no prefix: /64), refused (ValueError)
    outside 2001:2::/48 and fe80::/10: the only IPv6 addresses a device made
    here may carry."""
    if isinstance(cidr, str) and "/" not in cidr:
        cidr += "/64"
    addr = ipaddress.IPv6Interface(cidr)
    if addr.scope_id is not None:  # the link is the zone: drop a %name
        addr = ipaddress.IPv6Interface((addr.ip.packed, addr.network.prefixlen))
    if addr.ip not in ipaddress.IPv6Network(BENCH_NET6) and not addr.ip.is_link_local:
        raise ValueError(
            f"{cidr}: only IPv6 addresses from {BENCH_NET6} or {LINK_LOCAL6} may be used here"
        )
    return addr


_IFF_UP = 0x1
_IFF_TAP = 0x0002  # tun_flags: a TAP (Ethernet) device, not a TUN one
_SETUP = (
    "create it, e.g.: sudo ip tuntap add dev {name} mode tap user $USER && "
    "sudo ip addr add 198.18.0.2/24 dev {name} && sudo ip link set {name} up"
)


@dataclass(frozen=True)
class TapDevice:
    """What the kernel says about an existing TAP device."""

    name: str
    mtu: int
    owner: int  # uid, -1 for anyone with CAP_NET_ADMIN
    group: int
    up: bool
    addresses: tuple[ipaddress.IPv4Interface, ...]  # the kernel's, on this device
    addresses6: tuple[ipaddress.IPv6Interface, ...] = ()  # the kernel's IPv6 ones (global first)


def existing_device(name: str) -> TapDevice:
    """The TAP device ``name`` of this namespace, checked for use by this
    user without privileges; ValueError saying what to do otherwise."""
    sysfs = Path("/sys/class/net") / name
    if not sysfs.exists():
        raise ValueError(f"no device {name} in this network namespace; {_SETUP.format(name=name)}")

    def read(attr: str) -> str:
        return (sysfs / attr).read_text().strip()

    try:
        tun_flags = int(read("tun_flags"), 16)
    except FileNotFoundError:
        raise ValueError(f"{name} is not a TUN/TAP device") from None
    if not tun_flags & _IFF_TAP:
        raise ValueError(f"{name} is a TUN device; ustack needs a TAP one (mode tap)")
    owner, group = int(read("owner")), int(read("group"))
    euid = os.geteuid()
    if euid != 0 and owner not in (-1, euid) and group not in os.getgroups():
        raise ValueError(
            f"{name} belongs to uid {owner}: give it to this user "
            f"(sudo ip tuntap del dev {name} mode tap; "
            f"sudo ip tuntap add dev {name} mode tap user {euid})"
        )
    out = subprocess.run(
        ["ip", "-j", "addr", "show", "dev", name],
        capture_output=True,
        text=True,
        check=False,
    )
    addrs: list[ipaddress.IPv4Interface] = []
    addrs6: list[ipaddress.IPv6Interface] = []
    if out.returncode == 0 and out.stdout.strip():
        for link in json.loads(out.stdout):
            for a in link.get("addr_info", []):
                if a.get("family") == "inet":
                    addrs.append(ipaddress.IPv4Interface(f"{a['local']}/{a['prefixlen']}"))
                elif a.get("family") == "inet6":
                    addrs6.append(ipaddress.IPv6Interface(f"{a['local']}/{a['prefixlen']}"))
    addrs6.sort(key=lambda a: a.ip.is_link_local)
    return TapDevice(
        name=name,
        mtu=int(read("mtu")),
        owner=owner,
        group=group,
        up=bool(int(read("flags"), 16) & _IFF_UP),
        addresses=tuple(addrs),
        addresses6=tuple(addrs6),
    )


class StackLink:
    """A stack on one interface facing something outside the process: what
    ``HostLink`` (a TAP device) and ``ustack.dpdklink.DpdkLink`` (a DPDK
    port) share.  A subclass sets ``stack``, ``iface``, ``capture`` and
    ``ifname`` and says how to sleep until frames may have come (``wait``)
    and what its driver counts (``driver_stats``)."""

    driver = ""  # "tap", "dpdk": the name summaries and snapshots use
    peer_label = "kernel"  # what summaries call the other side
    stack: Stack
    iface: Interface
    capture: Capture | None
    ifname: str
    address6: ipaddress.IPv6Interface | None = None  # enable_ipv6()
    peer_address6: ipaddress.IPv6Interface | None = None

    def __init__(self, address: str, peer_address: str | None, *, checked: bool = True) -> None:
        # checked: addresses must be inside 198.18.0.0/15 (every device this
        # project makes itself); False only for a user's own NIC.
        conv = _check_range if checked else ipaddress.IPv4Interface
        self.address = conv(address)
        # None: the kernel's side gets no address and stays out of the
        # conversation (packetdrill's TAP back end plays the peer itself).
        self.peer_address = conv(peer_address) if peer_address is not None else None
        self.capture = None

    @property
    def ip(self) -> str:
        """ustack's address."""
        return str(self.address.ip)

    @property
    def peer_ip(self) -> str:
        """The kernel's address."""
        if self.peer_address is None:
            raise ValueError("the kernel's side of this link has no address")
        return str(self.peer_address.ip)

    @property
    def ip6(self) -> str:
        """ustack's IPv6 address (a link-local one with ustack's zone,
        ``fe80::1%tap0``); ValueError without :meth:`enable_ipv6`."""
        if self.address6 is None:
            raise ValueError("IPv6 is not enabled on this link")
        return self._scoped(self.address6.ip)

    @property
    def peer_ip6(self) -> str:
        """The kernel's IPv6 address, as ustack's sockets take it (a
        link-local one with ustack's zone)."""
        if self.peer_address6 is None:
            raise ValueError("the kernel's side of this link has no IPv6 address")
        return self._scoped(self.peer_address6.ip)

    def _scoped(self, ip: ipaddress.IPv6Address) -> str:
        text = str(ip).split("%")[0]
        return f"{text}%{self.iface.name}" if ip.is_link_local else text

    def enable_ipv6(
        self,
        address: str | ipaddress.IPv6Interface,
        peer_address: str | ipaddress.IPv6Interface | None,
        *,
        kernel_ifname: str | None = None,
        checked: bool = True,
        static_neighbors: bool = False,
    ) -> None:
        """IPv6 on the link: ustack gets ``address`` without DAD; with
        ``kernel_ifname`` (the kernel's end of a device made for the run) the
        kernel gets IPv6 back on and ``peer_address`` (nodad).
        ``static_neighbors``: both sides also get permanent neighbor entries
        for each other (``ndp -s`` / ``ip -6 neigh``), so that no neighbor
        solicitation is needed.  ``checked``: 2001:2::/48 or link-local only."""
        conv = check_range6 if checked else ipaddress.IPv6Interface
        self.address6 = conv(address)
        self.peer_address6 = conv(peer_address) if peer_address is not None else None
        self.iface.add_address(self.address6, nodad=True)
        if kernel_ifname is None:
            return
        setup_kernel_side6(kernel_ifname, self.peer_address6)
        if static_neighbors and self.peer_address6 is not None:
            self.stack.nd6_add(self.iface, self.peer_ip6, kernel_mac(kernel_ifname))
            mine = str(self.address6.ip).split("%")[0]
            _ip(
                "-6",
                "neigh",
                "replace",
                mine,
                "lladdr",
                self.iface.mac,
                "dev",
                kernel_ifname,
                "nud",
                "permanent",
            )

    @property
    def driver_stats(self) -> dict[str, int]:
        """The driver's own counters (frames, bytes, offloads)."""
        raise NotImplementedError

    _busy = 0.0  # time.monotonic() when poll() last did work

    def poll(self) -> int:
        """One round of stack work (frames, timers)."""
        n = self.stack.poll()
        if n > 0:
            self._busy = time.monotonic()
        return n

    @property
    def idle(self) -> float:
        """Seconds since ``poll`` last did work: links that spin before
        sleeping (a frame often follows soon) ask it in ``wait``."""
        return time.monotonic() - self._busy

    def wait(self, fds: Sequence[int] = (), limit: float = 0.05) -> list[int]:
        """Sleeps until a frame may have arrived, one of ``fds`` is readable,
        the stack's next timer is due or ``limit`` seconds pass; the
        readable ``fds``."""
        raise NotImplementedError

    def _timer_wait(self, limit: float) -> float:
        """``limit`` cut to the stack's next timer."""
        nd = self.stack.next_deadline
        if nd is not None:
            limit = min(limit, max(0.0, (nd - self.stack.now) / 1e9))
        return limit

    def poll_until(self, done: Callable[[], bool], timeout: float | None = None) -> bool:
        """Runs the stack until ``done()`` holds (True) or ``timeout`` seconds
        pass (False), sleeping in between (``wait``) until the next timer."""
        end = None if timeout is None else time.monotonic() + timeout
        while True:
            while self.poll() > 0:
                if done():
                    return True
            if done():
                return True
            now = time.monotonic()
            if end is not None and now >= end:
                return False
            self.wait((), 0.05 if end is None else min(0.05, end - now))

    def connect(self, address: tuple[Any, ...], timeout: float = 5.0) -> Socket:
        """A non-blocking TCP socket connected to ``address`` (the kernel's
        side; an IPv6 host makes an AF_INET6 socket), the stack run in the
        meantime.  ConnectionRefusedError when a RST answers the SYN,
        TimeoutError after ``timeout`` seconds."""
        family = AF_INET6 if ":" in str(address[0]) else AF_INET
        sock = self.stack.socket(family, SOCK_STREAM)
        sock.setblocking(False)
        try:
            try:
                sock.connect(address)
            except BlockingIOError:
                pass

            def settled() -> bool:
                err = sock.getsockopt(SOL_SOCKET, SO_ERROR)
                if err:
                    raise OSError(err, os.strerror(err), f"{address[0]}:{address[1]}")
                try:
                    sock.getpeername()
                except OSError:
                    return False
                return True

            if not self.poll_until(settled, timeout):
                raise TimeoutError(f"connect to {address[0]}:{address[1]}: no answer")
        except BaseException:
            sock.close()
            raise
        return sock

    def _attach(
        self, end: DriverEnd, name: str, pcap: str | Path | None, snaplen: int, seed: int | None
    ) -> None:
        """A new stack on the monotonic clock with ``end`` as interface
        ``name`` at ustack's address, captured to ``pcap`` when given."""
        self.stack = Stack(seed=seed) if seed is not None else Stack()
        self.iface = self.stack.add_interface(end, name, str(self.address))
        if pcap is not None:
            self.capture = self.iface.capture(pcap, snaplen=snaplen)

    def _close_stack(self) -> None:
        if self.capture is not None:
            self.capture.close()
            self.capture = None
        stack = getattr(self, "stack", None)
        if stack is not None and not stack.closed:
            stack.close()

    def close(self) -> None:
        self._close_stack()

    def __enter__(self) -> StackLink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class PortLink(StackLink):
    """A ``StackLink`` on a driver's port object (``stats()``, ``close()``),
    closed after the stack: what ``DpdkLink``, ``NetmapLink`` and
    ``AfxdpLink`` share.  ``port`` stays None until the subclass opens it.

    ``made``: the device was made for the run, facing this namespace's
    kernel (addresses held to 198.18.0.0/15, the far side "kernel"); else
    it is the user's own (any addresses, the far side "peer")."""

    port: Any = None

    def __init__(self, address: str, peer_address: str | None, *, made: bool) -> None:
        super().__init__(address, peer_address, checked=made)
        self.peer_label = "kernel" if made else "peer"

    @property
    def driver_stats(self) -> dict[str, int]:
        """The port's counters."""
        stats: dict[str, int] = self.port.stats()
        return stats

    def close(self) -> None:
        self._close_stack()
        if self.port is not None:
            self.port.close()
            self.port = None


def local_mac() -> str:
    """A random locally administered unicast MAC address (IEEE 802: bit 1
    of the first octet set, bit 0 clear), ``"02:..."``: for the kernel's
    side of a device made for the run, which must not share ustack's."""
    raw = bytearray(os.urandom(6))
    raw[0] = (raw[0] & 0xFC) | 0x02
    return ":".join(f"{b:02x}" for b in raw)


def kernel_mac(ifname: str) -> str:
    """The link-layer address of the kernel's device ``ifname``."""
    return (Path("/sys/class/net") / ifname / "address").read_text().strip()


def setup_kernel_side6(ifname: str, peer: ipaddress.IPv6Interface | None) -> None:
    """IPv6 back on at the kernel's end of a device made for the run
    (``setup_kernel_side`` turned it off): no DAD (``accept_dad=0``, and
    ``nodad`` on ``peer``), so that nothing holds the first packets, and no
    router advertisements taken (``accept_ra=0``)."""
    for knob in ("accept_dad=0", "accept_ra=0", "disable_ipv6=0"):
        subprocess.run(
            ["sysctl", "-qw", f"net.ipv6.conf.{ifname}.{knob}"],
            check=True,
            capture_output=True,
        )
    if peer is not None:
        _ip("-6", "addr", "add", str(peer), "dev", ifname, "nodad")


def setup_kernel_side(ifname: str, peer: ipaddress.IPv4Interface | None, mtu: int) -> None:
    """The kernel's end of a device made for the run: IPv6 off (so the
    kernel sends nothing unasked), the peer address on it, up."""
    if mtu >= 1280:
        subprocess.run(
            ["sysctl", "-qw", f"net.ipv6.conf.{ifname}.disable_ipv6=1"],
            check=True,
            capture_output=True,
        )
    if peer is not None:
        _ip("addr", "add", str(peer), "dev", ifname)
    _ip("link", "set", ifname, "up")


class HostLink(StackLink):
    """A stack on a TAP device whose other side is the kernel of this namespace."""

    driver = "tap"

    def __init__(
        self,
        *,
        address: str = DEFAULT_ADDRESS,
        peer_address: str | None = DEFAULT_PEER_ADDRESS,
        ifname: str = DEFAULT_IFNAME,
        mtu: int = 1500,
        pcap: str | Path | None = None,
        snaplen: int = 0,
        seed: int | None = None,
        existing: bool = False,
        **tap_options: Any,
    ) -> None:
        super().__init__(address, peer_address)
        self.ifname = ifname
        self.existing = existing
        if existing:
            dev = existing_device(ifname)
            if not dev.up:
                raise ValueError(f"{ifname} is down: sudo ip link set {ifname} up")
            mtu = dev.mtu
        try:
            self.tap = Tap(ifname, mtu=mtu, **tap_options)
        except PermissionError as exc:
            if existing and mtu != 1500:
                # The driver sets the kernel's MTU to its own when not 1500.
                raise ValueError(
                    f"{ifname} has MTU {mtu}: without CAP_NET_ADMIN only MTU 1500 works "
                    f"(sudo ip link set {ifname} mtu 1500)"
                ) from exc
            raise
        try:
            self._attach(self.tap, "tap0", pcap, snaplen, seed)
            if not existing:  # else the user's device, set up as the user wants it
                setup_kernel_side(ifname, self.peer_address, mtu)
        except Exception:
            self.close()
            raise

    @property
    def driver_stats(self) -> dict[str, int]:
        return self.tap.stats

    def wait(self, fds: Sequence[int] = (), limit: float = 0.05) -> list[int]:
        tap = self.tap.fileno()
        ready, _, _ = select.select([tap, *fds], [], [], self._timer_wait(limit))
        return [fd for fd in ready if fd != tap]

    def close(self) -> None:
        self._close_stack()
        self.tap.close()

    def __enter__(self) -> HostLink:
        return self


def _ip(*argv: str) -> None:
    subprocess.run(["ip", *argv], check=True, capture_output=True)


class GroupLink(StackLink):
    """A :class:`~ustack.group.StackGroup` of threaded stacks on the queues
    of one multi-queue device (queue i to stack i), facing something outside
    the process: ``ustack serve --stacks N``.  A subclass opens the device
    and calls :meth:`_open_group`.

    ``stack`` is stack 0 and ``iface`` its interface; :attr:`group` has
    them all.  The threads start with the link: from then on the stacks'
    sockets are used from any Python thread, never polled."""

    group: StackGroup | None = None
    ifaces: list[Interface]
    _name = ""  # the interface's name on every stack

    def _open_group(
        self, nstacks: int, name: str, device: Any, *, seed: int | None, **group_options: Any
    ) -> None:
        """The group, the device's queues attached as ``name`` with
        ustack's address on every stack."""
        self._name = name
        self.group = StackGroup(nstacks, seed=seed, **group_options)
        self.ifaces = self.group.attach(name, device)
        self.group.add_address(name, str(self.address))
        self.stack = self.group.stacks[0]
        self.iface = self.ifaces[0]

    @property
    def stacks(self) -> list[Stack]:
        assert self.group is not None
        return self.group.stacks

    def enable_ipv6(
        self,
        address: str | ipaddress.IPv6Interface,
        peer_address: str | ipaddress.IPv6Interface | None,
        *,
        kernel_ifname: str | None = None,
        checked: bool = True,
        static_neighbors: bool = False,
    ) -> None:
        """As :meth:`StackLink.enable_ipv6`, on every stack of the group."""
        assert self.group is not None
        conv = check_range6 if checked else ipaddress.IPv6Interface
        self.address6 = conv(address)
        self.peer_address6 = conv(peer_address) if peer_address is not None else None
        self.group.add_address(self._name, self.address6, nodad=True)
        if kernel_ifname is None:
            return
        setup_kernel_side6(kernel_ifname, self.peer_address6)
        if static_neighbors and self.peer_address6 is not None:
            self.group.nd6_add(self._name, self.peer_ip6, kernel_mac(kernel_ifname))

    def poll(self) -> int:
        """Nothing to do: the stacks' threads poll them."""
        return 0

    def wait(self, fds: Sequence[int] = (), limit: float = 0.05) -> list[int]:
        ready, _, _ = select.select(list(fds), [], [], limit)
        return list(ready)

    def _close_group(self) -> None:
        if self.group is not None:
            self.group.close()
            self.group = None


class GroupHostLink(GroupLink):
    """A group of ``nstacks`` threaded stacks on a multi-queue TAP device
    (``IFF_MULTI_QUEUE``, one queue per stack) whose other side is the
    kernel of this namespace.  The TAP's steering program (``rss_steer``,
    the default) makes the kernel send each frame on the queue of the stack
    that owns its flow (the group's Toeplitz hash and key); without it (no
    CAP_BPF, an old kernel, ``rss_steer=False``) the kernel spreads the
    flows by its own hash and the group re-steers each frame in software."""

    driver = "tap"

    def __init__(
        self,
        *,
        nstacks: int,
        address: str = DEFAULT_ADDRESS,
        peer_address: str | None = DEFAULT_PEER_ADDRESS,
        ifname: str = DEFAULT_IFNAME,
        mtu: int = 1500,
        seed: int | None = None,
        pin: bool = False,
        busy_poll: bool = False,
        **tap_options: Any,
    ) -> None:
        super().__init__(address, peer_address)
        self.ifname = ifname
        self.existing = False
        # The program hashes with the group's key (both the standard one
        # unless rss_key is given).
        rss_key = tap_options.get("rss_key")
        self.tap = Tap(ifname, mtu=mtu, queues=nstacks, **tap_options)
        try:
            self._open_group(
                nstacks, "tap0", self.tap, seed=seed, pin=pin, busy_poll=busy_poll, rss_key=rss_key
            )
            setup_kernel_side(ifname, self.peer_address, mtu)
            assert self.group is not None
            self.group.start()
        except Exception:
            self.close()
            raise

    @property
    def driver_stats(self) -> dict[str, int]:
        stats: dict[str, int] = self.tap.stats
        return stats

    @property
    def steering_note(self) -> str:
        """The summary's line on the TAP's steering program."""
        return self.tap.rss_steering_note()

    def close(self) -> None:
        self._close_group()
        self.tap.close()
