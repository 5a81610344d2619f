"""A scripted host on the other end of a pipe from a stack (docs/scripting.md).

The peer owns the far end of a :class:`~ustack.pipe.Pipe`: a carrier stack
without addresses holds that end, and its input hook hands every frame the
stack under test sends to the peer (as the packetdrill runner's
VirtualBackend does).  Frames the script sends leave through the carrier
and reach the stack at the same virtual instant.  Both stacks run on the
stack's clock, so ``expect(..., within=0.2)`` means 0.2 virtual seconds and
takes no wall time.

Sequence numbers are packetdrill's: per connection (4-tuple), the peer's
relative to the sequence number of its own SYN (``isn``), the stack's
relative to that of the stack's SYN or SYN-ACK, learned when it passes.
"""

from __future__ import annotations

import ipaddress
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ustack.clock import VirtualClock
from ustack.drivers import DriverEnd
from ustack.packetdrill import wire
from ustack.packetdrill.virtual import quiet_inet6
from ustack.pipe import Pipe
from ustack.scripting.flags import encode_tcp_options, flag_bits
from ustack.scripting.layers import (
    IP,
    TCP,
    UDP,
    BuildContext,
    Ether,
    IPv6,
    Layer,
    build,
)
from ustack.scripting.packet import Packet, mac_str
from ustack.stack import Interface, Stack, run_until
from ustack.world import settle

__all__ = ["Peer", "Connection", "Predicate"]

_M32 = 0xFFFFFFFF
Predicate = Callable[[Packet], Any] | Layer | None
Key = tuple[str, int, str, int]
Parsed = (
    wire.Segment | wire.Icmp | wire.Udp | None
)  # (peer address, peer port, stack address, stack port)


def _after(a: int, b: int) -> bool:
    """a > b in sequence space (RFC 9293 3.4)."""
    return 0 < ((a - b) & _M32) < 0x80000000


@dataclass
class _Conn:
    """What the peer knows of one connection; numbers absolute."""

    key: Key
    peer_isn: int | None = None
    stack_isn: int | None = None
    snd_nxt: int | None = None  # the peer's next sequence number
    rcv_nxt: int | None = None  # the stack's next sequence number: the peer's ACK


class Peer:
    """A scripted host wired to ``stack`` by a new pipe.

    ``Peer(stack)`` adds an interface ``name`` (default ``peer0``) to the
    stack on a new pipe, gives it ``stack_addr/prefixlen`` and a static ARP
    (or neighbour) entry for the peer's ``addr``; when the stack had no
    interface yet it is first made quiet (no IPv6 DAD, router solicitation or
    link-local address, as the packetdrill runner does).  With ``end=`` (the
    far end of a pipe whose other end the stack already uses) nothing is set
    up on the stack: its interface with ``stack_addr`` is used as it is.

    ``isn`` is the peer's initial sequence number for the connections it
    opens (the sequence number of its SYN); ``win`` its default window;
    ``mtu`` the pipe's.  ARP requests for ``addr`` are answered.
    """

    def __init__(
        self,
        stack: Stack,
        addr: str | None = None,
        stack_addr: str | None = None,
        *,
        prefixlen: int | None = None,
        mtu: int = 1500,
        isn: int = 0,
        win: int = 65535,
        name: str = "peer0",
        end: DriverEnd | None = None,
        seed: int = 1,
    ) -> None:
        family = 6 if ":" in (addr or "") + (stack_addr or "") else 4
        self.family = family
        self.addr = str(
            ipaddress.ip_address(addr or ("2001:2::2" if family == 6 else "198.18.0.2"))
        )
        self.stack_addr = str(
            ipaddress.ip_address(stack_addr or ("2001:2::1" if family == 6 else "198.18.0.1"))
        )
        if self.addr == self.stack_addr:
            raise ValueError(f"the peer and the stack both have {self.addr}")
        if prefixlen is None:
            prefixlen = 64 if family == 6 else 24
        self.stack = stack
        self.clock: VirtualClock | None = stack.clock
        self.isn = isn & _M32
        self.win = win
        self.mtu = mtu
        self.pipe: Pipe | None = None
        self.iface: Interface
        try:
            if end is None:
                if not stack.interfaces:
                    quiet_inet6(stack)
                self.pipe = Pipe(mtu=mtu, ring_size=256, clock=self.clock, seed=seed)
                end, stack_end = self.pipe.b, self.pipe.a
                self.iface = stack.add_interface(stack_end, name)
                self.iface.add_address(f"{self.stack_addr}/{prefixlen}", nodad=family == 6)
            else:
                self.iface = self._iface_with(stack, self.stack_addr)
            self._carrier = Stack(clock=self.clock, seed=seed + 1000)
            quiet_inet6(self._carrier)
            self._carrier_if = self._carrier.add_interface(end, name + "c")
            self.mac = self._carrier_if.mac_bytes
            self.stack_mac = self.iface.mac_bytes
            if self.pipe is not None:
                if family == 6:
                    self.stack.nd6_add(self.iface, self.addr, self.mac)
                else:
                    self.stack.arp_add(self.iface, self.addr, self.mac)
        except BaseException:
            self._undo()
            raise
        self._inbox: deque[tuple[int, bytes]] = deque()
        self._carrier_if.set_input_hook(self._hook)
        self._t0 = stack.now
        self._conns: dict[Key, _Conn] = {}
        self._current: _Conn | None = None
        self._next_port = 40000 + (seed % 1000) * 16
        self.received: list[Packet] = []
        """Every frame the stack sent the peer, in order (ARP included)."""
        self.sent: list[Packet] = []
        """Every frame the peer sent, in order."""
        self.pending: deque[Packet] = deque()
        """Frames from the stack no expect has looked at yet."""
        self.unmatched: list[Packet] = []
        """Frames an expect looked at and passed over."""
        self.closed = False

    @staticmethod
    def _iface_with(stack: Stack, addr: str) -> Interface:
        for iface in stack.interfaces:
            nets: list[Any] = list(iface.addresses)
            try:
                nets += [a.interface for a in iface.addresses6]
            except Exception:  # noqa: BLE001 - a stack without IPv6
                pass
            if any(str(n.ip).split("%")[0] == addr for n in nets):
                return iface
        raise ValueError(f"the stack has no interface with {addr}")

    @classmethod
    def attach(cls, stack: Stack, **kwargs: Any) -> Peer:
        """``Peer(stack, **kwargs)``."""
        return cls(stack, **kwargs)

    # --- time ---------------------------------------------------------------------
    @property
    def now(self) -> float:
        """Virtual seconds since the peer started."""
        return (self.stack.now - self._t0) / 1e9

    def _hook(self, frame: bytes) -> bool:
        self._inbox.append((self.stack.now - self._t0, bytes(frame)))
        return True

    def _settle(self) -> None:
        settle((self.stack, self._carrier))

    def _drain(self) -> None:
        """Frames the hook collected into Packets (relative numbers, ARP answered)."""
        while self._inbox:
            t, frame = self._inbox.popleft()
            arp = wire.parse_arp(frame)
            if arp is not None:
                self.received.append(Packet(frame, time_ns=t))
                if arp.op == 1 and arp.tpa == self.addr:
                    reply = wire.ether_header(arp.sha, self.mac, wire.ETHERTYPE_ARP)
                    reply += wire.arp_bytes(2, self.mac, self.addr, arp.sha, arp.spa)
                    self._carrier_if.send_frame(reply)
                continue
            parsed = wire.parse_frame(frame, udp=True)
            seq_base, ack_base = self._track(parsed, sent=False)
            pkt = Packet(frame, seq_base=seq_base, ack_base=ack_base, time_ns=t, parsed=parsed)
            self.received.append(pkt)
            icmp = pkt.get("icmp")
            if icmp is not None and icmp.family == 6 and icmp.type in wire.ND_MLD_TYPES:
                if icmp.type == 135 and len(icmp.quoted) >= 16:
                    self._answer_ns(pkt, icmp.quoted[:16])
                continue  # neighbour discovery and MLD: never part of a script
            self.pending.append(pkt)

    def _answer_ns(self, ns: Packet, target: bytes) -> None:
        """A Neighbor Advertisement (RFC 4861 4.4: solicited, override, our MAC
        as the target link-layer address option) for a solicitation of ``addr``."""
        if ipaddress.IPv6Address(target) != ipaddress.IPv6Address(self.addr) or ns.src is None:
            return
        dst = ns.src if ns.src != "::" else "ff02::1"
        packet = wire.neighbor_advert(self.addr, dst, self.addr, self.mac)
        head = wire.parse_ether(ns.frame)
        assert head is not None
        frame = wire.ether_header(head[1], self.mac, wire.ETHERTYPE_IPV6) + packet
        self._carrier_if.send_frame(frame)

    def run(self, seconds: float = 0.0) -> None:
        """Let ``seconds`` of virtual time pass (0: just the work due now)."""
        target = self.stack.now + int(seconds * 1e9)
        self._run_until(lambda: False, target)

    def _run_until(self, done: Callable[[], bool], target: int) -> bool:
        self._settle()
        self._drain()
        if done():
            return True
        group = [self.stack, self._carrier]

        def check() -> bool:
            self._drain()
            return done() or self.stack.now >= target

        if self.stack.now < target:
            run_until(group, check, timeout_ns=target - self.stack.now)
        self._drain()
        if done():
            return True
        if self.clock is not None and self.stack.now < target:
            # Nothing was pending before the target: time jumps there.
            self.clock.set(target)
            self._settle()
            self._drain()
        return done()

    # --- connections ----------------------------------------------------------------
    def _conn(self, key: Key) -> _Conn:
        conn = self._conns.get(key)
        if conn is None:
            conn = self._conns[key] = _Conn(key)
        return conn

    def _track(self, seg: Parsed, *, sent: bool) -> tuple[int, int]:
        """Learns ISNs and next sequence numbers from a TCP segment the peer
        sent or received; returns the bases of its (seq, ack)."""
        if not isinstance(seg, wire.Segment):
            return 0, 0
        if sent:
            key = (seg.src, seg.sport, seg.dst, seg.dport)
        else:
            key = (seg.dst, seg.dport, seg.src, seg.sport)
        conn = self._conn(key)
        syn = bool(seg.flags & 0x02)
        end = (seg.seq + seg.seglen) & _M32
        if sent:
            # A SYN on a synchronized connection (RFC 5961 4.2's test) keeps
            # the numbering of the first, as packetdrill does; a new
            # connection on the same 4-tuple is renumbered from the stack's
            # SYN-ACK below.
            if syn and (conn.peer_isn is None or conn.stack_isn is None):
                conn.peer_isn, conn.snd_nxt = seg.seq, end
            elif conn.peer_isn is None:
                conn.peer_isn = self.isn  # no SYN of ours: numbers relative to isn
            if not seg.flags & 0x04 and (conn.snd_nxt is None or _after(end, conn.snd_nxt)):
                conn.snd_nxt = end
            self._current = conn
            return conn.peer_isn or 0, conn.stack_isn or 0
        if syn:
            if conn.stack_isn != seg.seq:
                conn.stack_isn = seg.seq
                conn.rcv_nxt = end
                if not seg.flags & 0x10:  # a SYN of the stack's connect: a new connection
                    conn.peer_isn, conn.snd_nxt = None, None
                else:  # a SYN-ACK of a new connection: it acknowledges the peer's SYN
                    conn.peer_isn = (seg.ack - 1) & _M32
                    if conn.snd_nxt is None or _after(seg.ack, conn.snd_nxt):
                        conn.snd_nxt = seg.ack
            self._current = conn
        if conn.stack_isn is not None and (conn.rcv_nxt is None or _after(end, conn.rcv_nxt)):
            conn.rcv_nxt = end
        return conn.stack_isn or 0, conn.peer_isn or 0

    def _fill_tcp(self, tcp: TCP, src: str, dst: str) -> dict[str, Any]:
        """Every field of ``tcp`` with absolute numbers, from what is given
        and the connection it belongs to."""
        v = tcp.values
        cur = self._current
        dport = v.get("dport")
        sport = v.get("sport")
        if dport is None:
            if cur is None:
                raise ValueError(f"{tcp!r}: no dport and no current connection")
            dport = cur.key[3]
            if sport is None:
                sport = cur.key[1]
        if sport is None:
            if cur is not None and cur.key[3] == dport and cur.key[0] == src:
                sport = cur.key[1]
            else:
                sport = self._new_port()
        conn = self._conns.get((src, sport, dst, dport))
        flags = v.get("flags")
        if flags is None:
            flags = "A" if conn is not None and conn.stack_isn is not None else "S"
        bits = flag_bits(flags)
        new_syn = bits & 0x12 == 0x02
        synced = conn is not None and conn.peer_isn is not None and conn.stack_isn is not None
        if conn is not None and conn.peer_isn is not None and (synced or not new_syn):
            peer_isn = conn.peer_isn
        else:
            peer_isn = self.isn
        stack_isn = conn.stack_isn if conn is not None and (synced or not new_syn) else None
        if v.get("raw_seq") is not None:
            seq = int(v["raw_seq"])
        elif v.get("seq") is not None:
            seq = peer_isn + int(v["seq"])
        elif conn is not None and conn.snd_nxt is not None and not new_syn:
            seq = conn.snd_nxt
        else:
            seq = peer_isn
        if v.get("raw_ack") is not None:
            ack = int(v["raw_ack"])
        elif v.get("ack") is not None:
            ack = (stack_isn or 0) + int(v["ack"])
        elif bits & 0x10 and conn is not None and conn.rcv_nxt is not None and not new_syn:
            ack = conn.rcv_nxt
        else:
            ack = 0
        window = self.win if v.get("window") is None else int(v["window"])
        options = encode_tcp_options(v.get("options") or (), sack_base=stack_isn or 0)
        return {
            "sport": int(sport),
            "dport": int(dport),
            "seq": seq & _M32,
            "ack": ack & _M32,
            "flags": bits,
            "window": window,
            "options": options,
        }

    def _fill_udp(self, udp: UDP) -> tuple[int, int]:
        v = udp.values
        if v.get("dport") is None:
            raise ValueError(f"{udp!r}: give dport")
        sport = v.get("sport")
        return (self._new_port() if sport is None else int(sport)), int(v["dport"])

    def _new_port(self) -> int:
        port = self._next_port
        self._next_port = 40000 + (self._next_port - 40000 + 1) % 20000
        return port

    # --- sending ----------------------------------------------------------------------
    def build(self, pkt: Layer) -> bytes:
        """The Ethernet frame ``peer.send(pkt)`` would send: Ethernet and IP
        (IPv4 or IPv6 as the peer's address) added when missing, addresses,
        ports, sequence and acknowledgment numbers, window, lengths and
        checksums filled in where the script left them out."""
        layers = pkt.layers()
        top = pkt.copy()
        if not isinstance(layers[0], Ether):
            if not isinstance(layers[0], (IP, IPv6)):
                top = (IPv6() if self.family == 6 else IP()) / top
            top = Ether() / top
        elif len(layers) > 1 and not isinstance(layers[1], (IP, IPv6)):
            rest = top.payload
            assert rest is not None
            top = Ether(**top.values) / ((IPv6() if self.family == 6 else IP()) / rest)
        ctx = BuildContext(
            src_mac=self.mac,
            dst_mac=self.stack_mac,
            src=self.addr,
            dst=self.stack_addr,
            family=self.family,
            fill_tcp=self._fill_tcp,
            fill_udp=self._fill_udp,
        )
        return build(top, ctx)

    def send(self, *pkts: Layer | bytes | Any) -> list[Packet]:
        """Send each packet to the stack, now, and let the stack handle it
        (the virtual clock does not move).  A packet is one of ours (``TCP(...)``,
        ``IP(...)/UDP(...)``, ...), the bytes of an Ethernet frame, or a scapy
        packet (``Ether``, ``IP`` or ``IPv6`` at the bottom; fields scapy was
        not given, addresses, ports, seq and ack, are filled in as for ours).
        Returns what was sent, parsed."""
        out = []
        for pkt in pkts:
            frame = self._frame(pkt)
            parsed = wire.parse_frame(frame, udp=True)
            seq_base, ack_base = self._track(parsed, sent=True)
            sent = Packet(
                frame,
                parsed=parsed,
                seq_base=seq_base,
                ack_base=ack_base,
                time_ns=self.stack.now - self._t0,
                sent=True,
            )
            self.sent.append(sent)
            self._carrier_if.send_frame(frame)
            self._settle()
            self._drain()
            out.append(sent)
        return out

    def _frame(self, pkt: Layer | bytes | Any) -> bytes:
        if isinstance(pkt, Layer):
            return self.build(pkt)
        if isinstance(pkt, (bytes, bytearray, memoryview)):
            return bytes(pkt)
        if type(pkt).__module__.startswith("scapy"):
            return self._from_scapy(pkt)
        raise TypeError(f"peer.send takes layers, bytes or scapy packets, not {type(pkt).__name__}")

    def _from_scapy(self, pkt: Any) -> bytes:
        from scapy.layers.inet import IP as SIP
        from scapy.layers.inet import TCP as STCP
        from scapy.layers.inet import UDP as SUDP
        from scapy.layers.inet6 import IPv6 as SIPv6
        from scapy.layers.l2 import Ether as SEther

        pkt = pkt.copy()
        net = pkt.getlayer(SIP) or pkt.getlayer(SIPv6)
        src, dst = self.addr, self.stack_addr
        if net is not None:
            if "src" not in net.fields:
                net.src = self.addr
            if "dst" not in net.fields:
                net.dst = self.stack_addr
            src, dst = str(net.src), str(net.dst)
        tcp = pkt.getlayer(STCP)
        if tcp is not None:
            given = {k: tcp.fields[k] for k in ("sport", "dport") if k in tcp.fields}
            if "flags" in tcp.fields:
                given["flags"] = int(tcp.flags)
            else:
                given["flags"] = 0x02  # scapy's default
            if "seq" in tcp.fields:
                given["raw_seq"] = tcp.seq
            if "ack" in tcp.fields:
                given["raw_ack"] = tcp.ack
            f = self._fill_tcp(TCP(**given), src, dst)
            for name in ("sport", "dport", "seq", "ack"):
                if name not in tcp.fields:
                    setattr(tcp, name, f[name])
        udp = pkt.getlayer(SUDP)
        if udp is not None and "dport" in udp.fields and "sport" not in udp.fields:
            udp.sport = self._new_port()
        if isinstance(pkt, SEther):
            if "dst" not in pkt.fields:
                pkt.dst = mac_str(self.stack_mac)
            if "src" not in pkt.fields:
                pkt.src = mac_str(self.mac)
            return bytes(pkt)
        raw = bytes(pkt)
        return wire.ether_header(self.stack_mac, self.mac, wire.ethertype_of(raw)) + raw

    # --- expecting ----------------------------------------------------------------------
    def _matcher(self, pred: Predicate) -> tuple[Callable[[Packet], bool], list[str]]:
        notes: list[str] = []
        if pred is None:
            return (lambda p: True), notes
        if isinstance(pred, Layer):
            template = pred

            def by_template(p: Packet) -> bool:
                why = [w for la in template.layers() for w in la.match_fields(p)]
                if why:
                    notes.append(f"{p}  [{'; '.join(why)}]")
                return not why

            return by_template, notes
        if not callable(pred):
            raise TypeError(f"expect takes a callable on Packet or a layer template, not {pred!r}")

        def by_call(p: Packet) -> bool:
            try:
                ok = bool(pred(p))
            except (AttributeError, TypeError) as exc:
                # p.tcp.flags on an ARP frame and the like: not a match.
                notes.append(f"{p}  [{type(exc).__name__}: {exc}]")
                return False
            notes.append(str(p))
            return ok

        return by_call, notes

    def _take(
        self,
        match: Callable[[Packet], bool],
        where: Callable[[Packet], bool] | None,
        found: list[Packet],
    ) -> bool:
        """Looks at the pending frames in order until one matches (appended to
        ``found``); those that do not match go to :attr:`unmatched`, those
        ``where`` rejects (another connection's) stay pending."""
        if found:
            return True
        others: list[Packet] = []
        while self.pending:
            pkt = self.pending.popleft()
            if where is not None and not where(pkt):
                others.append(pkt)
            elif match(pkt):
                found.append(pkt)
                break
            else:
                self.unmatched.append(pkt)
        self.pending.extendleft(reversed(others))
        return bool(found)

    def expect(
        self,
        pred: Predicate = None,
        within: float = 0.2,
        *,
        where: Callable[[Packet], bool] | None = None,
    ) -> Packet:
        """Run the stack (up to ``within`` virtual seconds) until a frame from
        it matches ``pred``, a callable on :class:`Packet` or a layer template
        (``TCP(flags="SA", ack=1)``), and return that frame.

        Frames are looked at in the order the stack sent them, from the oldest
        no expect has looked at yet (those that arrived during ``send`` or
        ``run`` too); those that do not match are set aside in
        :attr:`unmatched`.  With ``where`` (a filter, as
        :meth:`Connection.expect` uses for its 4-tuple) the frames it rejects
        stay pending for later expects.  A predicate that raises AttributeError or
        TypeError (``p.tcp.flags`` of a frame without TCP) does not match.
        Raises AssertionError listing the frames seen when none matches."""
        match, notes = self._matcher(pred)
        found: list[Packet] = []
        seen_before = len(self.unmatched)
        start = self.stack.now

        def done() -> bool:
            return self._take(match, where, found)

        if self._run_until(done, start + int(within * 1e9)):
            return found[0]
        raise AssertionError(
            self._failure(f"expect({_describe(pred)})", within, start, seen_before, notes)
        )

    def expect_none(
        self,
        pred: Predicate = None,
        within: float = 0.2,
        *,
        where: Callable[[Packet], bool] | None = None,
    ) -> None:
        """Run the stack for ``within`` virtual seconds and raise
        AssertionError if a frame from it matches ``pred`` (None: any frame)."""
        match, _notes = self._matcher(pred)
        found: list[Packet] = []

        def done() -> bool:
            return self._take(match, where, found)

        start = self.stack.now
        if self._run_until(done, start + int(within * 1e9)):
            raise AssertionError(
                f"expect_none({_describe(pred)}, within={within}): the stack sent {found[0]}"
            )

    def _failure(
        self, what: str, within: float, start: int, seen_before: int, notes: list[str]
    ) -> str:
        t0 = (start - self._t0) / 1e9
        lines = [
            f"{what}: no matching frame within {within} s "
            f"(virtual time {t0:.6f} -> {self.now:.6f} s since the peer started)"
        ]
        looked = notes or [str(p) for p in self.unmatched[seen_before:]]
        if looked:
            lines.append(f"frames looked at ({len(looked)}):")
            lines += [f"  {line}" for line in looked[-50:]]
        else:
            lines.append("the stack sent nothing in that time")
        if self.sent:
            lines.append("last frames the peer sent:")
            lines += [f"  {p}" for p in self.sent[-5:]]
        return "\n".join(lines)

    # --- conveniences -------------------------------------------------------------------
    def connect(
        self,
        port: int,
        *,
        sport: int | None = None,
        options: Iterable[Any] | None = None,
        win: int | None = None,
        isn: int | None = None,
        within: float = 1.0,
    ) -> Connection:
        """The three-way handshake as the client: SYN from ``sport`` (default a
        new port) to the stack's ``port`` with sequence number ``isn`` (default
        the peer's), ``options`` (default ``[("mss", mtu - 40)]``), expect its
        SYN-ACK, ACK it.  Returns the :class:`Connection`; AssertionError
        when no SYN-ACK acknowledging the SYN comes within ``within`` seconds."""
        if sport is None:
            sport = self._new_port()
        opts = list(options) if options is not None else [("mss", self.mtu - 40)]
        syn = TCP(sport=sport, dport=port, flags="S", raw_seq=self.isn if isn is None else isn)
        syn.values["options"] = opts
        if win is not None:
            syn.values["window"] = win
        self.send(syn)
        conn = Connection(self, (self.addr, sport, self.stack_addr, port))
        synack = conn.expect(TCP(flags="SA", ack=1), within=within)
        conn.send(flags="A")
        conn.synack = synack
        return conn

    def accept(
        self,
        port: int | None = None,
        *,
        options: Iterable[Any] | None = None,
        win: int | None = None,
        within: float = 1.0,
    ) -> Connection:
        """The three-way handshake as the server, for a connect() of the
        stack (to ``port``, or any): expect its SYN, answer with a SYN-ACK
        (``options`` default ``[("mss", mtu - 40)]``), expect its ACK."""

        def is_syn(p: Packet) -> bool:
            return "tcp" in p and p.tcp.flags == "S" and (port is None or p.tcp.dport == port)

        syn = self.expect(is_syn, within=within)
        assert syn.src is not None and syn.dst is not None
        conn = Connection(self, (syn.dst, syn.tcp.dport, syn.src, syn.tcp.sport))
        conn.syn = syn
        opts = list(options) if options is not None else [("mss", self.mtu - 40)]
        synack = TCP(flags="SA", seq=0, ack=1, options=opts)
        if win is not None:
            synack.values["window"] = win
        conn.send(synack)
        conn.expect(lambda p: p.tcp.flags.A and p.tcp.ack == 1 and not p.tcp.flags.S)
        return conn

    def listen(self, port: int | None = None, **kwargs: Any) -> Connection:
        """:meth:`accept` (the peer listens on every port anyway)."""
        return self.accept(port, **kwargs)

    def close(self) -> None:
        """Detach the interface the peer made from the stack, close the carrier
        stack and the pipe (the stack under test stays open)."""
        if self.closed:
            return
        self.closed = True
        self._carrier_if.set_input_hook(None)
        self._undo()

    def _undo(self) -> None:
        carrier: Stack | None = getattr(self, "_carrier", None)
        if carrier is not None:
            carrier.close()
        if self.pipe is not None:
            iface = getattr(self, "iface", None)
            if iface is not None and not self.stack.closed:
                iface.detach()
            self.pipe.close()

    def __enter__(self) -> Peer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Peer({self.addr} <-> {self.stack_addr}, t={self.now:.6f}s)"


def _describe(pred: Predicate) -> str:
    if pred is None:
        return "any frame"
    if isinstance(pred, Layer):
        return repr(pred)
    name = getattr(pred, "__name__", None)
    if name and name != "<lambda>":
        return str(name)
    try:
        import inspect

        src = inspect.getsource(pred)
    except (OSError, TypeError):
        return repr(pred)
    return _lambda_text(src) or repr(pred)


def _lambda_text(src: str) -> str | None:
    """The ``lambda ...`` expression in a line of source, up to the comma or
    bracket that ends it."""
    at = src.find("lambda")
    if at < 0:
        return None
    depth = 0
    quote = ""
    for i, ch in enumerate(src[at:], at):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth < 0:
                return src[at:i].strip()
        elif (ch == "," and depth == 0) or ch == "\n":
            return src[at:i].strip()
    return src[at:].strip()


class Connection:
    """One TCP connection of a :class:`Peer` (4-tuple ``key``: peer address
    and port, stack address and port).  ``send`` and ``expect`` are the
    peer's, restricted to this connection; ``isn``/``stack_isn`` absolute,
    ``snd_nxt``/``rcv_nxt`` relative."""

    def __init__(self, peer: Peer, key: Key) -> None:
        self.peer = peer
        self.key = key
        self.syn: Packet | None = None
        self.synack: Packet | None = None

    @property
    def sport(self) -> int:
        """The peer's port."""
        return self.key[1]

    @property
    def dport(self) -> int:
        """The stack's port."""
        return self.key[3]

    @property
    def _c(self) -> _Conn:
        return self.peer._conn(self.key)

    @property
    def isn(self) -> int | None:
        return self._c.peer_isn

    @property
    def stack_isn(self) -> int | None:
        return self._c.stack_isn

    @property
    def snd_nxt(self) -> int:
        """The peer's next sequence number, relative."""
        c = self._c
        return ((c.snd_nxt or 0) - (c.peer_isn or 0)) & _M32

    @property
    def rcv_nxt(self) -> int:
        """The stack's next sequence number (what the peer acknowledges), relative."""
        c = self._c
        return ((c.rcv_nxt or 0) - (c.stack_isn or 0)) & _M32

    def _mine(self, p: Packet) -> bool:
        return (
            "tcp" in p
            and p.src == self.key[2]
            and p.dst == self.key[0]
            and p.tcp.sport == self.key[3]
            and p.tcp.dport == self.key[1]
        )

    def send(
        self,
        pkt: Layer | bytes | str | None = None,
        *,
        flags: str | int | None = None,
        **fields: Any,
    ) -> Packet:
        """Send on this connection: a TCP layer (ports filled in), data
        (``conn.send(b"hello")``: flags PA), or just fields
        (``conn.send(flags="F", seq=5)``)."""
        if isinstance(pkt, (bytes, str)):
            data = pkt.encode() if isinstance(pkt, str) else pkt
            layer: Layer = TCP(flags="PA" if flags is None else flags, **fields) / data
        elif pkt is None:
            layer = TCP(flags="A" if flags is None else flags, **fields)
        else:
            layer = pkt.copy()
            if flags is not None or fields:
                raise TypeError("give fields in the layer or as keywords, not both")
        tcp = layer.getlayer(TCP)
        if tcp is None:
            raise TypeError(f"Connection.send needs a TCP layer, not {layer!r}")
        tcp.values.setdefault("sport", self.key[1])
        tcp.values.setdefault("dport", self.key[3])
        net = layer.getlayer(IPv6) or layer.getlayer(IP)
        if net is None:
            layer = (IPv6 if ":" in self.key[0] else IP)(src=self.key[0], dst=self.key[2]) / layer
        return self.peer.send(layer)[0]

    def expect(self, pred: Predicate = None, within: float = 0.2) -> Packet:
        """:meth:`Peer.expect` of a frame of this connection."""
        return self.peer.expect(pred, within, where=self._mine)

    def expect_none(self, pred: Predicate = None, within: float = 0.2) -> None:
        """:meth:`Peer.expect_none` of a frame of this connection."""
        self.peer.expect_none(pred, within, where=self._mine)

    def __repr__(self) -> str:
        a, ap, b, bp = self.key
        return f"Connection({a}:{ap} -> {b}:{bp}, snd_nxt {self.snd_nxt}, rcv_nxt {self.rcv_nxt})"
