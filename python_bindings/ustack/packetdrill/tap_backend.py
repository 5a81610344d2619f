"""The TAP back end: the same scripts over a real TAP device, in real time.

It proves the driver path that the virtual back end skips: ustack runs on a
TAP device (drivers/tap) in a network namespace made for the run, and the
script's peer is scapy on the kernel's side of that device, sending the
injected frames with a PF_PACKET socket (they arrive at ustack through
read(2) on /dev/net/tun) and receiving what ustack writes.  The kernel itself
stays out of the conversation: its side of the link has no IPv4 address and
IPv6 is off there, and the peer's MAC is the kernel interface's own, so the
kernel drops the frames addressed to 198.18.0.2 (forwarding is off in a new
namespace).  Time is the host's monotonic clock, so the tolerance is wider
(``tolerance_scale``) and a script takes as long as its timeline.

Must run inside a namespace of its own: ``ustack packetdrill --backend tap``
creates one (ustack.netns) and runs itself inside.
"""

from __future__ import annotations

import logging
import select
import time
from collections import deque
from typing import Any

from ustack.hostlink import HostLink
from ustack.packetdrill.runner import Unsupported

__all__ = ["TapBackend", "TAP_TOLERANCE_SCALE", "TAP_TOLERANCE_FLOOR_NS"]

TAP_TOLERANCE_SCALE = 2.0
TAP_TOLERANCE_FLOOR_NS = 20_000_000  # scheduling on a busy 2-core host
_IFNAME = "pdtap0"
TAP_MAX_MTU = 65521  # Linux: 65535 less the Ethernet header


class TapBackend:
    """A stack under test on a TAP device, with scapy as the script's peer."""

    name = "tap"

    def __init__(
        self, *, local_ip: str, remote_ip: str, prefixlen: int = 24, mtu: int = 1500, seed: int = 1
    ) -> None:
        # scapy is the peer's side; its guesses about an interface it has
        # not seen at import time are noise here (frames are raw bytes).
        logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
        logging.getLogger("scapy").setLevel(logging.ERROR)
        from scapy.arch.linux import L2Socket

        if mtu > TAP_MAX_MTU:
            raise Unsupported(0, f"--mtu={mtu}: a TAP device's MTU is at most {TAP_MAX_MTU}")
        self.local_ip = local_ip
        self.remote_ip = remote_ip
        self.mtu = mtu
        # Segments as the script wrote them (no offloads); the kernel's side
        # gets no address, the script is the peer.
        self.link = HostLink(
            address=f"{local_ip}/{prefixlen}",
            peer_address=None,
            ifname=_IFNAME,
            mtu=mtu,
            seed=seed,
            offload=False,
        )
        self.stack = self.link.stack
        self.iface = self.link.iface
        try:
            with open(f"/sys/class/net/{_IFNAME}/address") as f:
                self._peer_mac = bytes.fromhex(f.read().strip().replace(":", ""))
            self.stack.arp_add(self.iface, remote_ip, self._peer_mac)
            # Not promiscuous: ustack addresses the kernel interface's own MAC.
            self._sock: Any = L2Socket(iface=_IFNAME, promisc=False)
        except Exception:
            self.link.close()
            raise
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
        """What ustack wrote to the device, as the kernel's side received it."""
        mine = self.iface.mac_bytes
        while True:
            ready, _, _ = select.select([self._sock.ins], [], [], 0)
            if not ready:
                return
            _, data, _ = self._sock.recv_raw(65600)
            if data is None or data[6:12] != mine:
                continue  # the kernel's own frames, or our injections going out
            if data[12:14] == b"\x08\x00":
                self._out.append((self.now(), bytes(data[14:])))

    def _poll(self) -> None:
        for _ in range(100):
            if self.stack.poll() == 0:
                break
        self._drain()

    def inject(self, ip_packet: bytes) -> None:
        from ustack.packetdrill.wire import fragment

        head = self.iface.mac_bytes + self._peer_mac + b"\x08\x00"
        for part in fragment(ip_packet, self.mtu):
            self._sock.send(head + part)
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
            select.select([self._sock.ins], [], [], min(wait, 0.001))

    def next_outbound(self) -> tuple[int, bytes] | None:
        return self._out.popleft() if self._out else None

    def close(self) -> None:
        try:
            self._sock.close()
        finally:
            self.link.close()
