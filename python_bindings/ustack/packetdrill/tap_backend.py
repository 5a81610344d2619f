"""The TAP back end: the same scripts over a real TAP device, in real time.

It proves the driver path that the virtual back end skips: ustack runs on a
TAP device (drivers/tap), and the script's peer is a packet socket
(AF_PACKET, from the standard library) on the kernel's side of that device,
sending the injected frames (they arrive at ustack through read(2) on
/dev/net/tun) and receiving what ustack writes.  The kernel itself stays out
of the conversation: the peer's MAC address is one no interface has
(``PEER_MAC``), so the kernel classes ustack's frames as meant for another
host and drops them before IP, whatever its addresses or forwarding say,
while the packet socket still sees them.  Time is the host's monotonic
clock, so the tolerance is wider (``tolerance_scale``) and a script takes
as long as its timeline.

By default in a namespace of its own: ``ustack packetdrill --backend tap``
creates one (ustack.netns) and runs itself inside, with a device made for
each script.  ``tap="tap0"`` uses an existing device instead (``--tap``),
as it is: that needs no namespace and no root, only CAP_NET_RAW for the
packet socket (``setpriv --ambient-caps +net_raw``, or ``setcap
cap_net_raw+ep`` on the interpreter), and the scripts' MTU must be the
device's.

IPv6 scripts (``family=6``) run the same way: the kernel's side stays silent
for IPv6 too (disable_ipv6 on a device made for the run), the IPv6 frames go
out through the packet socket, the stack gets the IPv6 address without
duplicate address detection and the peer as a static neighbour.  As on the
virtual back end, the stack is made quiet (:data:`QUIET_INET6_KNOBS`) before
its interface exists, whatever the family; neighbour discovery or MLD that
still leaves it is passed over by the runner.
"""

from __future__ import annotations

import ipaddress
import select
import socket
import struct
import time
from collections import deque
from pathlib import Path
from typing import Any

from ustack.drivers import DriverEnd
from ustack.hostlink import HostLink, existing_device
from ustack.packetdrill.runner import Unsupported
from ustack.packetdrill.virtual import quiet_inet6
from ustack.stack import Stack

__all__ = ["PacketPeer", "TapBackend", "TAP_TOLERANCE_SCALE", "TAP_TOLERANCE_FLOOR_NS", "PEER_MAC"]

TAP_TOLERANCE_SCALE = 2.0
TAP_TOLERANCE_FLOOR_NS = 20_000_000  # scheduling on a busy 2-core host
_IFNAME = "pdtap0"
TAP_MAX_MTU = 65521  # Linux: 65535 less the Ethernet header
PEER_MAC = bytes.fromhex("02005e0000fe")  # locally administered, on no interface
_ETH_P_ALL = 0x0003
_ETH_P_IP = b"\x08\x00"
_ETH_P_IPV6 = b"\x86\xdd"
# The stack's IPv4 address in IPv6 runs (HostLink wants one; nothing uses it).
_V4_ADDRESS = "198.18.0.1/24"
_FRAME_MAX = 65600


class PacketPeer:
    """The script's peer as a packet socket on the kernel's side of a TAP
    device: frames to the stack under test (MAC ``_mine``) go out from
    ``PEER_MAC``, and what the stack sends is queued with the time it
    arrived.  The TAP and the board back ends both are one."""

    _sock: socket.socket
    _mine: bytes
    mtu: int
    family: int = 4
    _only_to: bytes | None = None  # when set: only IPv4 packets to this address count

    def _peer_start(self) -> None:
        self._out: deque[tuple[int, bytes]] = deque()
        self._t0 = time.monotonic_ns()

    @property
    def tolerance_scale(self) -> float:
        return TAP_TOLERANCE_SCALE

    @property
    def tolerance_floor_ns(self) -> int:
        return TAP_TOLERANCE_FLOOR_NS

    def now(self) -> int:
        return time.monotonic_ns() - self._t0

    def _drain(self) -> None:
        """What the stack wrote to the device, as the kernel's side received it."""
        while True:
            try:
                data, addr = self._sock.recvfrom(_FRAME_MAX)
            except BlockingIOError:
                return
            if addr[2] == socket.PACKET_OUTGOING or data[6:12] != self._mine:
                continue  # our injections going out, or the kernel's own frames
            if data[12:14] == _ETH_P_IP and self._only_to in (None, data[30:34]):
                self._out.append((self.now(), data))
            elif data[12:14] == _ETH_P_IPV6 and self._only_to is None:
                self._out.append((self.now(), data))

    def _send(self, ip_packet: bytes) -> None:
        from ustack.packetdrill.wire import ethertype_of, fragment

        head = self._mine + PEER_MAC + struct.pack("!H", ethertype_of(ip_packet))
        for part in fragment(ip_packet, self.mtu):
            self._sock.send(head + part)

    def next_outbound(self) -> tuple[int, bytes] | None:
        return self._out.popleft() if self._out else None


class _QuietHostLink(HostLink):
    """A :class:`HostLink` whose stack gets :data:`QUIET_INET6_KNOBS` before
    its interface is attached (no link-local address, DAD or router
    solicitation to reach the packet socket)."""

    def _attach(
        self, end: DriverEnd, name: str, pcap: str | Path | None, snaplen: int, seed: int | None
    ) -> None:
        if pcap is not None:
            raise ValueError("the packetdrill TAP back end takes no capture file")
        self.stack = Stack(seed=seed) if seed is not None else Stack()
        quiet_inet6(self.stack)
        self.iface = self.stack.add_interface(end, name, str(self.address))


class TapBackend(PacketPeer):
    """A stack under test on a TAP device, a packet socket as the script's peer."""

    name = "tap"

    def __init__(
        self,
        *,
        local_ip: str,
        remote_ip: str,
        prefixlen: int | None = None,
        mtu: int = 1500,
        seed: int = 1,
        tap: str | None = None,
        family: int = 4,
    ) -> None:
        if mtu > TAP_MAX_MTU:
            raise Unsupported(0, f"--mtu={mtu}: a TAP device's MTU is at most {TAP_MAX_MTU}")
        ifname = tap or _IFNAME
        if tap is not None:
            have = existing_device(tap).mtu
            if have != mtu:
                raise Unsupported(0, f"--mtu={mtu}: the TAP device {tap} has MTU {have}")
        self.family = family
        self.local_ip = str(ipaddress.ip_address(local_ip))
        self.remote_ip = str(ipaddress.ip_address(remote_ip))
        self.mtu = mtu
        if prefixlen is None:
            prefixlen = 64 if family == 6 else 24
        # Segments as the script wrote them (no offloads); the kernel's side
        # gets no address, the script is the peer.
        self.link = _QuietHostLink(
            address=_V4_ADDRESS if family == 6 else f"{self.local_ip}/{prefixlen}",
            peer_address=None,
            ifname=ifname,
            mtu=mtu,
            seed=seed,
            offload=False,
            existing=tap is not None,
        )
        self.stack = self.link.stack
        self.iface = self.link.iface
        self._mine = self.iface.mac_bytes
        try:
            if family == 6:
                iface6: Any = self.iface  # the IPv6 API (nodad, nd6_add) of issue 17
                iface6.add_address(f"{self.local_ip}/{prefixlen}", nodad=True)
                stack6: Any = self.stack
                stack6.nd6_add(self.iface, self.remote_ip, PEER_MAC)
            else:
                self.stack.arp_add(self.iface, self.remote_ip, PEER_MAC)
            self._sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(_ETH_P_ALL))
        except PermissionError as exc:
            self.link.close()
            raise PermissionError(
                exc.errno, "the packet socket that plays the peer needs CAP_NET_RAW"
            ) from None
        except BaseException:
            self.link.close()
            raise
        try:
            self._sock.bind((ifname, _ETH_P_ALL))
            self._sock.setblocking(False)
        except BaseException:
            self.close()
            raise
        self._peer_start()

    def _poll(self) -> None:
        for _ in range(100):
            if self.stack.poll() == 0:
                break
        self._drain()

    def inject(self, ip_packet: bytes) -> None:
        self._send(ip_packet)
        self.settle()

    def settle(self) -> None:
        """Give the frames a moment to cross the device and the stack to act."""
        end = time.monotonic_ns() + 2_000_000
        while time.monotonic_ns() < end:
            self._poll()
            time.sleep(0.0002)

    def advance(self, until_ns: int, *, stop_on_packet: bool) -> None:
        while True:
            self._poll()
            if stop_on_packet and self._out:
                return
            now = self.now()
            if now >= until_ns:
                return
            deadline = self.stack.next_deadline
            wait = (until_ns - now) / 1e9
            if deadline is not None:
                wait = min(wait, max(0.0, (deadline - self.stack.now) / 1e9))
            select.select([self._sock], [], [], min(wait, 0.001))

    def close(self) -> None:
        try:
            self._sock.close()
        finally:
            self.link.close()
