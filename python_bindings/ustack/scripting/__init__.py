"""Packet-level scripting from Python, without packetdrill syntax (docs/scripting.md).

    from ustack.scripting import Peer, TCP

    peer = Peer(stack)                               # 198.18.0.2 <-> the stack's 198.18.0.1
    peer.send(TCP(dport=80, flags="S", seq=0, options=[("mss", 1460)]))
    synack = peer.expect(lambda p: p.tcp.flags == "SA", within=0.2)
    assert synack.tcp.ack == 1                       # relative to the peer's ISN
    peer.send(TCP(flags="A", seq=1, ack=1))

Builders (``Ether``, ``IP``, ``IPv6``, ``TCP``, ``UDP``, ``ICMP``, ``Raw``) stack
with ``/``; the peer fills in what is left out.  :class:`Packet` is the parsed
view ``expect`` hands to predicates.  scapy packets are accepted by
``Peer.send`` and ``Packet.scapy()`` converts back, when scapy is installed.
"""

from ustack.scripting.flags import Flags, Options
from ustack.scripting.layers import ICMP, IP, TCP, UDP, Ether, ICMPv6, IPv6, Layer, Raw
from ustack.scripting.packet import Packet
from ustack.scripting.peer import Connection, Peer

__all__ = [
    "Peer",
    "Connection",
    "Packet",
    "Layer",
    "Ether",
    "IP",
    "IPv6",
    "TCP",
    "UDP",
    "ICMP",
    "ICMPv6",
    "Raw",
    "Flags",
    "Options",
]
