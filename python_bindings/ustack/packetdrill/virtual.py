"""The virtual-time back end: the stack under test on a pipe, in-process.

The stack under test owns pipe end A with the script's local address; end B
belongs to a second stack that only carries frames: its input hook consumes
everything the stack under test sends, and the runner's inbound packets leave
through it.  The capture hook on the stack's interface timestamps each
outbound frame as it is handed to the driver, so timing checks see the
stack's own send time.  Both stacks run on one :class:`VirtualClock` and time
moves only when the runner asks, so a script runs as fast as the CPU allows
and the same way every time.
"""

from __future__ import annotations

from collections import deque

from ustack.clock import VirtualClock
from ustack.drivers import DriverEnd
from ustack.packetdrill.wire import fragment
from ustack.pipe import Pipe
from ustack.stack import CAPTURE_OUT, Stack, run_until

__all__ = ["VirtualBackend"]

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
        prefixlen: int = 24,
        mtu: int = 1500,
        seed: int = 1,
    ) -> None:
        self.local_ip = local_ip
        self.remote_ip = remote_ip
        self.clock = VirtualClock(_T0_NS)
        self.mtu = mtu
        end, peer_end = self._make_ends(mtu, seed)
        self.stack = Stack(clock=self.clock, seed=seed)
        self._peer = Stack(clock=self.clock, seed=seed + 1)
        self.iface = self.stack.add_interface(end, "pd0", f"{local_ip}/{prefixlen}")
        self._peer_if = self._peer.add_interface(peer_end, "peer0")
        self._peer_if.set_input_hook(lambda frame: True)
        self.stack.arp_add(self.iface, remote_ip, self._peer_if.mac_bytes)
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
            self._out.append((ts_ns - _T0_NS, frame[14:]))

    @property
    def tolerance_scale(self) -> float:
        """Virtual time is exact: the script's tolerance as written."""
        return 1.0

    def now(self) -> int:
        """Nanoseconds since the script started."""
        return self.stack.now - _T0_NS

    def inject(self, ip_packet: bytes) -> None:
        """Deliver an IPv4 packet to the stack under test, now; one larger
        than the link MTU goes as IPv4 fragments (a tun device would take it
        whole; the stack sees the same segment after reassembly)."""
        head = self.iface.mac_bytes + self._peer_if.mac_bytes + b"\x08\x00"
        for part in fragment(ip_packet, self.mtu):
            # One at a time, so that the pipe's short ring never fills.
            self._peer_if.send_frame(head + part)
            self.settle()

    def settle(self) -> None:
        """Let the stacks do all the work that needs no time to pass."""
        for _ in range(1000):
            if self.stack.poll() + self._peer.poll() == 0:
                return

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
