"""The board back end: the scripts against the stack on a board (QEMU, or
the host emulation), packets over the board's TAP, syscalls over its
control channel.

As in the TAP back end (tap_backend.py), the script's peer is a packet
socket on the kernel's side of the board's TAP device, with a MAC address
no interface has (``PEER_MAC``), so the kernel stays out of the
conversation; it is opened inside the board's namespace.  The syscalls go
to :class:`ustack.board.Board` sockets, whose API is the one the runner
uses on a :class:`ustack.Stack`; the backend's ``stack`` is the Board.  Time
is the host's monotonic clock, with the TAP back end's tolerance (and a
wider floor for an emulated CPU).

One board serves a whole run (booting QEMU per script would dominate):
each script starts from :meth:`Board.reset` (every socket closed, every
connection dropped, every knob the previous script wrote set back), with a
static ARP entry for the script's peer.  The script's local address is the
board's; the peer is another address of the board's subnet, a different
one for each script (198.18.0.100, .101, ...), and only packets to it
count: what reset cannot reach (an embryonic connection in the syncache of
a listener the script closed, which FreeBSD too keeps until it times out,
retransmitting its SYN-ACK) talks to an earlier script's peer and is
ignored.

IPv6 scripts are skipped (Unsupported) with that reason: the board control
protocol (fw_ctl) configures IPv4 addresses and ARP entries only.
"""

from __future__ import annotations

import ipaddress
import itertools
import select
import socket
import time

from ustack.board.control import Board
from ustack.board.hostboard import netns_socket
from ustack.board.qemu import TAP_NAME as QEMU_TAP
from ustack.packetdrill.runner import Unsupported
from ustack.packetdrill.tap_backend import PEER_MAC, TAP_TOLERANCE_FLOOR_NS, PacketPeer

__all__ = ["BoardBackend", "open_board", "BOARD_TOLERANCE_FLOOR_NS"]

BOARD_TOLERANCE_FLOOR_NS = 2 * TAP_TOLERANCE_FLOOR_NS  # QEMU's CPU, the UART's round trips
_ETH_P_ALL = 0x0003
_SETTLE_NS = 3_000_000  # for an injected frame to reach the board's stack
_QUIET_NS = 20_000_000  # the board is done with the previous script
_QUIET_MAX_NS = 500_000_000
_PEERS = 100  # peer addresses rotate over .100-.199 of the board's subnet
_script_number = itertools.count()


def open_board(name: str) -> Board:
    """The board a run uses: ``"host"`` (fw_ctl_host) or a QEMU board, its
    kernel side without an address (the packet socket is the peer)."""
    if name == "host":
        return Board("host", peer=None)
    return Board(name)


class BoardBackend(PacketPeer):
    """A stack on a board, a packet socket on its TAP as the script's peer."""

    name = "board"

    def __init__(self, board: Board, *, mtu: int = 1500, family: int = 4) -> None:
        if family != 4:
            raise Unsupported(
                0, "the board back end speaks IPv4 only: the board control channel has no IPv6 yet"
            )
        owner = board.owner
        if getattr(owner, "netns", None) is None:
            raise Unsupported(0, "the board back end needs a board it booted (TAP, namespace)")
        tap = getattr(owner, "tap", None) or QEMU_TAP
        iface = board.interface
        if mtu != iface.mtu:
            raise Unsupported(0, f"--mtu={mtu}: the board's interface has MTU {iface.mtu}")
        if not iface.addresses:
            raise Unsupported(0, "the board's interface has no address")
        ifa = iface.addresses[0]
        self.board = board
        self.stack = board
        self.mtu = mtu
        self.local_ip = str(ifa.ip)
        self.remote_ip = _peer_address(ifa, next(_script_number) % _PEERS)
        self._only_to = ipaddress.IPv4Address(self.remote_ip).packed
        self._mine = iface.mac_bytes
        board.reset()
        try:
            board.arp_add(self.remote_ip, PEER_MAC)
        except FileExistsError:
            pass
        self._sock = netns_socket(
            owner.netns.name, socket.AF_PACKET, socket.SOCK_RAW, socket.htons(_ETH_P_ALL)
        )
        try:
            self._sock.bind((tap, _ETH_P_ALL))
            self._sock.setblocking(False)
        except BaseException:
            self._sock.close()
            raise
        self._peer_start()
        self._quiesce()
        self._t0 = time.monotonic_ns()

    def _quiesce(self) -> None:
        """Discards what the board sent before the script (the previous
        script's last segments, still crossing the TAP when the reset came):
        waits until it has been quiet for _QUIET_NS (at most _QUIET_MAX_NS)."""
        start = last = time.monotonic_ns()
        while (now := time.monotonic_ns()) - last < _QUIET_NS and now - start < _QUIET_MAX_NS:
            select.select([self._sock], [], [], 0.002)
            self._drain()
            if self._out:
                self._out.clear()
                last = time.monotonic_ns()

    @property
    def tolerance_floor_ns(self) -> int:
        return BOARD_TOLERANCE_FLOOR_NS

    def inject(self, ip_packet: bytes) -> None:
        self._send(ip_packet)
        self.settle()

    def settle(self) -> None:
        """Give the frames a moment to reach the board and its stack to act."""
        end = time.monotonic_ns() + _SETTLE_NS
        while (left := end - time.monotonic_ns()) > 0:
            select.select([self._sock], [], [], left / 1e9)
            self._drain()

    def advance(self, until_ns: int, *, stop_on_packet: bool) -> None:
        while True:
            self._drain()
            if stop_on_packet and self._out:
                return
            now = self.now()
            if now >= until_ns:
                return
            select.select([self._sock], [], [], min((until_ns - now) / 1e9, 0.01))

    def close(self) -> None:
        try:
            self._sock.close()
        finally:
            self.board.reset()
            self.board.arp_del(self.remote_ip)


def _peer_address(ifa: ipaddress.IPv4Interface, n: int) -> str:
    """The n-th address of the board's subnet from .100 on that is not the board's."""
    base = ifa.network.network_address + 100
    for host in (base + n, base + n + _PEERS):
        if host != ifa.ip and host in ifa.network and host != ifa.network.broadcast_address:
            return str(host)
    raise Unsupported(0, f"the board's subnet {ifa.network} has no room for the script's peer")
