"""The virtual-time back end: the stack under test on a pipe, in-process.

The stack under test owns pipe end A with the script's local address; end B
belongs to a second stack that only carries frames: its input hook consumes
everything the stack under test sends, and the runner's inbound packets leave
through it.  The capture hook on the stack's interface timestamps each
outbound frame as it is handed to the driver, so timing checks see the
stack's own send time.  Both stacks run on one :class:`VirtualClock` and time
moves only when the runner asks, so a script runs as fast as the CPU allows
and the same way every time.

With ``family=6`` the stack under test has the IPv6 address instead (added
without duplicate address detection) and the peer is a static neighbour.
Whatever the family, both stacks are made quiet before their interfaces
exist when ustack has IPv6 (:data:`QUIET_INET6_KNOBS`: no DAD, no router
solicitation, no link-local address), so that no neighbour discovery or MLD
message of either stack crosses the pipe uninvited.
"""

from __future__ import annotations

import ipaddress
import struct
from collections import deque
from typing import Any

import ustack
from ustack.clock import VirtualClock
from ustack.drivers import DriverEnd
from ustack.errors import Error
from ustack.packetdrill.runner import Unsupported
from ustack.packetdrill.wire import ethertype_of, fragment
from ustack.pipe import Pipe
from ustack.stack import CAPTURE_OUT, Stack, run_until
from ustack.world import settle

__all__ = ["VirtualBackend", "QUIET_INET6_KNOBS", "quiet_inet6"]

# IPv6 knobs that keep a stack from talking on its own when an interface
# comes up (FreeBSD names; accept_rtadv 0 is FreeBSD's default already).
QUIET_INET6_KNOBS = (
    ("net.inet6.ip6.dad_count", 0),
    ("net.inet6.ip6.accept_rtadv", 0),
    ("net.inet6.ip6.auto_linklocal", 0),
)


def quiet_inet6(stack: Any) -> None:
    """Sets :data:`QUIET_INET6_KNOBS` on ``stack`` (before it has interfaces);
    nothing when ustack has no IPv6 or lacks one of them."""
    if not getattr(ustack, "UST_HAS_INET6", False):
        return
    for name, value in QUIET_INET6_KNOBS:
        try:
            stack.sysctl(name, value)
        except FileNotFoundError:
            pass


# The clock starts here rather than at zero so that nothing in the stack
# sees a zero time (millisecond timestamps would start at 0).
_T0_NS = 1_000_000_000


class VirtualBackend:
    """A stack under test plus the plumbing to inject and observe packets."""

    name = "virtual"

    def __init__(
        self,
        *,
        local_ip: str,
        remote_ip: str,
        prefixlen: int | None = None,
        mtu: int = 1500,
        seed: int = 1,
        family: int = 4,
    ) -> None:
        self.family = family
        self.local_ip = str(ipaddress.ip_address(local_ip))
        self.remote_ip = str(ipaddress.ip_address(remote_ip))
        if prefixlen is None:
            prefixlen = 64 if family == 6 else 24
        self.clock = VirtualClock(_T0_NS)
        self.mtu = mtu
        end, peer_end = self._make_ends(mtu, seed)
        self.stack = Stack(clock=self.clock, seed=seed)
        self._peer = Stack(clock=self.clock, seed=seed + 1)
        quiet_inet6(self.stack)
        quiet_inet6(self._peer)
        if family == 6:
            self.iface = self.stack.add_interface(end, "pd0")
            iface6: Any = self.iface  # the IPv6 API (nodad, nd6_add) of issue 17
            try:
                iface6.add_address(f"{self.local_ip}/{prefixlen}", nodad=True)
            except Error as exc:
                self.stack.close()
                self._peer.close()
                self._close_ends()
                if exc.errname == "EAFNOSUPPORT":
                    raise Unsupported(0, f"ustack's IPv6 is not there yet ({exc})") from None
                raise
        else:
            self.iface = self.stack.add_interface(end, "pd0", f"{self.local_ip}/{prefixlen}")
        self._peer_if = self._peer.add_interface(peer_end, "peer0")
        self._peer_if.set_input_hook(lambda frame: True)
        if family == 6:
            stack6: Any = self.stack
            stack6.nd6_add(self.iface, self.remote_ip, self._peer_if.mac_bytes)
        else:
            self.stack.arp_add(self.iface, self.remote_ip, self._peer_if.mac_bytes)
        self._out: deque[tuple[int, bytes]] = deque()
        self.iface.set_capture_hook(self._captured)
        self._group = [self.stack, self._peer]

    def _make_ends(self, mtu: int, seed: int) -> tuple[DriverEnd, DriverEnd]:
        """The two joined ends: the stack under test's and the peer's."""
        # A short ring: scripts have few packets in flight, and a slot
        # holds a whole frame of the MTU (up to 64 KB).
        self.pipe = Pipe(mtu=mtu, ring_size=64, clock=self.clock, seed=seed)
        return self.pipe.a, self.pipe.b

    def _close_ends(self) -> None:
        self.pipe.close()

    def _captured(self, direction: int, ts_ns: int, frame: bytes) -> None:
        if direction == CAPTURE_OUT:
            self._out.append((ts_ns - _T0_NS, bytes(frame)))

    @property
    def tolerance_scale(self) -> float:
        """Virtual time is exact: the script's tolerance as written."""
        return 1.0

    def now(self) -> int:
        """Nanoseconds since the script started."""
        return self.stack.now - _T0_NS

    def inject(self, ip_packet: bytes) -> None:
        """Deliver an IPv4 or IPv6 packet to the stack under test, now; one
        larger than the link MTU goes as fragments (a tun device would take it
        whole; the stack sees the same segment after reassembly)."""
        head = (
            self.iface.mac_bytes
            + self._peer_if.mac_bytes
            + struct.pack("!H", ethertype_of(ip_packet))
        )
        for part in fragment(ip_packet, self.mtu):
            # One at a time, so that the pipe's short ring never fills.
            self._peer_if.send_frame(head + part)
            self.settle()

    def settle(self) -> None:
        """Let the stacks do all the work that needs no time to pass."""
        settle((self.stack, self._peer), 1000)

    def advance(self, until_ns: int, *, stop_on_packet: bool) -> None:
        """Run until ``until_ns`` (script time), or until the stack sends a
        packet when ``stop_on_packet`` is set."""
        target = until_ns + _T0_NS
        self.settle()
        if stop_on_packet and self._out:
            return
        if self.stack.now >= target:
            return

        def done() -> bool:
            return (stop_on_packet and bool(self._out)) or self.stack.now >= target

        run_until(self._group, done, timeout_ns=target - self.stack.now)
        if self.stack.now < target and not (stop_on_packet and self._out):
            self.clock.set(target)
            self.settle()

    def pending_outbound(self) -> int:
        return len(self._out)

    def next_outbound(self) -> tuple[int, bytes] | None:
        """The oldest packet the stack sent and nobody matched yet."""
        return self._out.popleft() if self._out else None

    def peek_outbound(self) -> tuple[int, bytes] | None:
        return self._out[0] if self._out else None

    def close(self) -> None:
        self.iface.set_capture_hook(None)
        self.stack.close()
        self._peer.close()
        self._close_ends()
