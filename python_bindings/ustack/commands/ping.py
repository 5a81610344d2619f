"""``ustack ping``: ICMP echo requests from a ustack instance, printed like ping(8).

The stack runs on a TAP device facing the Linux kernel inside a network
namespace (:mod:`ustack.hostlink`); its raw ICMP socket sends the requests
and receives the replies with their IPv4 header (RFC 792 echo, RFC 1122
3.2.2.6).  While it runs, the stack also answers echo requests itself, so
the kernel's ``ping`` reaches ustack's address from inside the namespace.

``ping -6`` (or an IPv6 HOST) uses ICMPv6 echo (RFC 4443 4.1) on a raw
``AF_INET6`` socket (RFC 3542): the stack computes the checksum and the
received data has no IPv6 header, so the replies' hop limit is unknown
(ustack has no recvmsg for IPV6_RECVHOPLIMIT) and the reply lines carry no
``ttl=``.
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import struct
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ustack.commands._live import (
    LINK_MODES,
    add_link_arguments,
    enter_namespace,
    is_ipv6,
    open_link,
)
from ustack.constants import ICMP6_FILTER
from ustack.sim import inet_checksum as icmp_checksum
from ustack.sockets import AF_INET, AF_INET6, IPPROTO_ICMP, IPPROTO_ICMPV6, SOCK_RAW, Socket

NAME = "ping"
HELP = (
    "send ICMP echo requests from ustack (on a TAP, DPDK or AF_XDP in a namespace) and "
    "print the replies"
)
DESCRIPTION = (
    """\
Send ICMP echo requests from a ustack instance and print each reply as
ping(8) does (bytes, source, icmp_seq, ttl, round-trip time), then a summary
(transmitted, received, loss, rtt min/avg/max/mdev).  Ctrl-C stops early and
still prints the summary.  Exit status: 0 when a reply came back, 1 when none
did, 2 on errors.

HOST defaults to the kernel's side of the TAP device (--peer-address).
With -6, or an IPv6 HOST, ICMPv6 echo requests go out instead (both sides
get IPv6 addresses, 2001:2::1/64 and 2001:2::2/64 unless --address and
--peer-address say otherwise); the reply lines then have no ttl= field:
ustack's raw ICMPv6 socket gives no hop limit (RFC 3542 recvmsg is missing).

"""
    + LINK_MODES
    + """

examples:
  ustack ping -c 3
  ustack ping -c 5 -i 0.2 --pcap ping.pcap 198.18.0.2
  ustack ping -6 -c 3                             # ICMPv6 to 2001:2::2
  ustack ping -c 3 --address fe80::1/64 --peer-address fe80::2/64 fe80::2%tap0
  ip netns add lab && ustack ping --netns lab -c 100 &
  ip netns exec lab ping -c 3 198.18.0.1
  ustack ping --tap tap0 -c 3                     # no root: a TAP device of the user's
  ustack ping --driver dpdk -c 3 -s 8000          # DPDK's net_tap; fragments both ways
  ustack ping --driver afxdp -c 3 -s 8000         # AF_XDP on a veth; fragments both ways
  ustack ping --driver afxdp --afxdp-mode generic -c 3   # the skb path's XDP hook"""
)

ICMP_ECHOREPLY = 0
ICMP_UNREACH = 3
ICMP_ECHO = 8
ICMP_TIMXCEED = 11
ICMP6_DST_UNREACH = 1
ICMP6_PACKET_TOO_BIG = 2
ICMP6_TIME_EXCEEDED = 3
ICMP6_PARAM_PROB = 4
ICMP6_ECHO_REQUEST = 128
ICMP6_ECHO_REPLY = 129
_IP6_HDR = 40
_NXT_ICMPV6 = 58
# What iputils' ping prints for each ICMPv6 error (RFC 4443 3.1-3.4).
_UNREACH6 = {
    0: "Destination unreachable: No route",
    1: "Destination unreachable: Administratively prohibited",
    2: "Destination unreachable: Beyond scope of source address",
    3: "Destination unreachable: Address unreachable",
    4: "Destination unreachable: Port unreachable",
}
_UNREACH = {
    0: "Destination Net Unreachable",
    1: "Destination Host Unreachable",
    2: "Destination Protocol Unreachable",
    3: "Destination Port Unreachable",
    4: "Frag needed and DF set",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ping subcommand's options."""
    parser.add_argument(
        "host",
        nargs="?",
        metavar="HOST",
        help="address to ping (default: the kernel's side, --peer-address)",
    )
    parser.add_argument(
        "-c",
        dest="count",
        type=int,
        default=None,
        metavar="COUNT",
        help="stop after COUNT requests (default: until Ctrl-C)",
    )
    parser.add_argument(
        "-i",
        dest="interval",
        type=float,
        default=1.0,
        metavar="INTERVAL",
        help="seconds between requests (default 1.0)",
    )
    parser.add_argument(
        "-W",
        dest="timeout",
        type=float,
        default=1.0,
        metavar="TIMEOUT",
        help="seconds to wait for replies after the last request (default 1.0)",
    )
    parser.add_argument(
        "-s",
        dest="size",
        type=int,
        default=56,
        metavar="SIZE",
        help="data bytes per request (default 56: 64 bytes of ICMP)",
    )
    parser.add_argument("-q", dest="quiet", action="store_true", help="print the summary only")
    parser.add_argument(
        "-6",
        dest="ipv6",
        action="store_true",
        help="ICMPv6 (implied by an IPv6 HOST): IPv6 addresses on both sides of the link",
    )
    add_link_arguments(parser)


# --- ICMP echo messages -------------------------------------------------------


def echo_request(ident: int, seq: int, size: int) -> bytes:
    """An ICMP echo request (RFC 792) with ``size`` data bytes, checksummed."""
    data = bytes((0x10 + i) & 0xFF for i in range(size))
    msg = struct.pack("!BBHHH", ICMP_ECHO, 0, 0, ident, seq) + data
    return msg[:2] + struct.pack("!H", icmp_checksum(msg)) + msg[4:]


def icmp6_filter(*types: int) -> bytes:
    """An ICMP6_FILTER value (RFC 3542 3.2, ``struct ust_icmp6_filter``)
    that passes only ``types``."""
    words = [0] * 8
    for t in types:
        words[t >> 5] |= 1 << (t & 31)
    return struct.pack("=8I", *words)


def echo_request6(ident: int, seq: int, size: int) -> bytes:
    """An ICMPv6 echo request (RFC 4443 4.1) with ``size`` data bytes and a
    zero checksum: the stack fills it in (RFC 3542 3.1)."""
    data = bytes((0x10 + i) & 0xFF for i in range(size))
    return struct.pack("!BBHHH", ICMP6_ECHO_REQUEST, 0, 0, ident, seq) + data


@dataclass
class Received:
    """What a raw socket's datagram (IPv4 header first) says about our pings."""

    kind: str  # "reply", "error" or "" (not ours)
    seq: int = 0
    ttl: int | None = 0  # None: unknown (ICMPv6: no header to read it from)
    length: int = 0  # ICMP bytes
    text: str = ""


def parse(datagram: bytes, ident: int) -> Received:
    """Classifies one datagram from the raw socket: an echo reply with our
    identifier, an ICMP error quoting one of our requests, or neither."""
    if len(datagram) < 20 or datagram[0] >> 4 != 4:
        return Received("")
    hl = (datagram[0] & 0x0F) * 4
    icmp = datagram[hl:]
    if len(icmp) < 8 or icmp_checksum(icmp) != 0:
        return Received("")
    typ, code, _, rid, rseq = struct.unpack("!BBHHH", icmp[:8])
    if typ == ICMP_ECHOREPLY and rid == ident:
        return Received("reply", rseq, datagram[8], len(icmp))
    if typ in (ICMP_UNREACH, ICMP_TIMXCEED) and len(icmp) >= 8 + 20 + 8:
        inner = icmp[8:]
        ihl = (inner[0] & 0x0F) * 4
        q = inner[ihl : ihl + 8]
        if inner[9] == IPPROTO_ICMP and len(q) == 8:
            qtype, _, _, qid, qseq = struct.unpack("!BBHHH", q)
            if qtype == ICMP_ECHO and qid == ident:
                text = (
                    _UNREACH.get(code, f"Destination Unreachable, code {code}")
                    if typ == ICMP_UNREACH
                    else "Time to live exceeded"
                )
                return Received("error", qseq, datagram[8], len(icmp), text)
    return Received("")


def parse6(datagram: bytes, ident: int) -> Received:
    """Classifies one datagram from the raw ICMPv6 socket (the ICMPv6
    message alone, checked by the stack): an echo reply with our identifier,
    an ICMPv6 error quoting one of our requests, or neither."""
    if len(datagram) < 8:
        return Received("")
    typ, code, _, rid, rseq = struct.unpack("!BBHHH", datagram[:8])
    if typ == ICMP6_ECHO_REPLY and rid == ident:
        return Received("reply", rseq, None, len(datagram))
    errors = (ICMP6_DST_UNREACH, ICMP6_PACKET_TOO_BIG, ICMP6_TIME_EXCEEDED, ICMP6_PARAM_PROB)
    if typ in errors and len(datagram) >= 8 + _IP6_HDR + 8:
        inner = datagram[8:]
        q = inner[_IP6_HDR : _IP6_HDR + 8]
        if inner[0] >> 4 == 6 and inner[6] == _NXT_ICMPV6:
            qtype, _, _, qid, qseq = struct.unpack("!BBHHH", q)
            if qtype == ICMP6_ECHO_REQUEST and qid == ident:
                if typ == ICMP6_DST_UNREACH:
                    text = _UNREACH6.get(code, f"Destination unreachable: Unknown code {code}")
                elif typ == ICMP6_PACKET_TOO_BIG:
                    text = f"Packet too big: mtu={struct.unpack('!I', datagram[4:8])[0]}"
                elif typ == ICMP6_TIME_EXCEEDED:
                    text = "Time exceeded: Hop limit" if code == 0 else "Time exceeded: Defrag"
                else:
                    text = f"Parameter problem: code {code}"
                return Received("error", qseq, None, len(datagram), text)
    return Received("")


# --- the ping loop ------------------------------------------------------------


@dataclass
class PingStats:
    """Requests sent, replies received and round-trip times (ms)."""

    transmitted: int = 0
    received: int = 0
    errors: int = 0
    duplicates: int = 0
    rtts: list[float] = field(default_factory=list)

    @property
    def loss(self) -> float:
        """Percentage of requests without a reply."""
        if self.transmitted == 0:
            return 0.0
        return 100.0 * (self.transmitted - self.received) / self.transmitted

    def summary(self, host: str, elapsed_ms: float) -> str:
        """The ping(8) statistics lines."""
        line = f"{self.transmitted} packets transmitted, {self.received} received"
        if self.duplicates:
            line += f", +{self.duplicates} duplicates"
        if self.errors:
            line += f", +{self.errors} errors"
        line += f", {self.loss:.0f}% packet loss, time {elapsed_ms:.0f}ms"
        out = [f"--- {host} ping statistics ---", line]
        if self.rtts:
            n = len(self.rtts)
            avg = sum(self.rtts) / n
            mdev = math.sqrt(max(0.0, sum(r * r for r in self.rtts) / n - avg * avg))
            out.append(
                f"rtt min/avg/max/mdev = {min(self.rtts):.3f}/{avg:.3f}/"
                f"{max(self.rtts):.3f}/{mdev:.3f} ms"
            )
        return "\n".join(out)


def ping_loop(
    sock: Socket,
    host: str,
    poll_until: Callable[[Callable[[], bool], float], bool],
    *,
    count: int | None,
    interval: float,
    timeout: float,
    size: int,
    ident: int,
    out: Callable[[str], None] = print,
    clock: Callable[[], float] = time.monotonic,
    stats: PingStats | None = None,
) -> PingStats:
    """Sends ``count`` echo requests (None: until KeyboardInterrupt) to
    ``host`` every ``interval`` seconds on the raw ICMP socket ``sock``
    (non-blocking; an AF_INET6 one sends ICMPv6 echo requests), printing
    replies; ``poll_until(done, seconds)`` runs the stack.  Returns once
    every reply is in or ``timeout`` seconds after the last request.  Counts
    into ``stats`` when given (it survives a Ctrl-C)."""
    if stats is None:
        stats = PingStats()
    v6 = sock.family == AF_INET6
    request = echo_request6 if v6 else echo_request
    classify = parse6 if v6 else parse
    sent_at: dict[int, float] = {}
    answered: set[int] = set()

    def drain() -> bool:
        while True:
            try:
                datagram, addr = sock.recvfrom(65535)
            except BlockingIOError:
                break
            src = addr[0]
            got = classify(datagram, ident)
            if got.kind == "" or got.seq not in sent_at:
                continue
            if got.kind == "error":
                stats.errors += 1
                out(f"From {src} icmp_seq={got.seq} {got.text}")
                continue
            rtt = (clock() - sent_at[got.seq]) * 1000.0
            dup = got.seq in answered
            if dup:
                stats.duplicates += 1
            else:
                answered.add(got.seq)
                stats.received += 1
                stats.rtts.append(rtt)
            ttl = "" if got.ttl is None else f" ttl={got.ttl}"
            out(
                f"{got.length} bytes from {src}: icmp_seq={got.seq}{ttl} "
                f"time={rtt:.3f} ms{' (DUP!)' if dup else ''}"
            )
        return count is not None and stats.transmitted >= count and stats.received >= count

    seq = 0
    next_send = clock()
    while count is None or stats.transmitted < count:
        seq += 1
        sent_at[seq & 0xFFFF] = clock()
        stats.transmitted += 1
        try:
            sock.sendto(request(ident, seq & 0xFFFF, size), (host, 0))
        except OSError as exc:  # no route, ARP gave up: lost, like ping(8)
            out(f"ping: sendto: {exc.strerror or exc}")
        next_send += interval
        if count is not None and stats.transmitted >= count:
            break
        poll_until(drain, max(0.0, next_send - clock()))
        if drain():
            break
    poll_until(drain, timeout)
    return stats


# --- the command --------------------------------------------------------------


def run(args: argparse.Namespace) -> int:
    """Ping; 0 with replies, 1 without, 2 on errors."""
    if args.count is not None and args.count < 1:
        print("ustack ping: -c must be at least 1", file=sys.stderr)
        return 2
    if args.interval < 0.001 or args.timeout < 0 or not 0 <= args.size <= 9000:
        print("ustack ping: bad -i, -W or -s", file=sys.stderr)
        return 2
    v6 = bool(args.ipv6 or (args.host and is_ipv6(args.host)))
    if v6 and args.size > 9000 - 20:
        print("ustack ping: -s is at most 8980 with -6", file=sys.stderr)
        return 2
    rc = enter_namespace(args, "ping", "ping")
    if rc is not None:
        return rc
    with open_link(args, "ping", ipv6=v6) as link:
        try:
            if v6:
                host = args.host or link.peer_ip6
                sock = link.stack.socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6)
                # Replies and errors only, as ping6 does: no ND or MLD noise.
                sock.setsockopt(
                    IPPROTO_ICMPV6,
                    ICMP6_FILTER,
                    icmp6_filter(
                        ICMP6_ECHO_REPLY,
                        ICMP6_DST_UNREACH,
                        ICMP6_PACKET_TOO_BIG,
                        ICMP6_TIME_EXCEEDED,
                        ICMP6_PARAM_PROB,
                    ),
                )
                header = f"PING {host} ({host}) from {link.ip6} : {args.size} data bytes"
            else:
                host = args.host or link.peer_ip
                sock = link.stack.socket(AF_INET, SOCK_RAW, IPPROTO_ICMP)
                header = (
                    f"PING {host} ({host}) from {link.ip} {args.size}({args.size + 28}) "
                    "bytes of data."
                )
        except OSError as exc:
            print(f"ustack ping: socket: {exc}", file=sys.stderr)
            return 2
        sock.setblocking(False)
        ident = os.getpid() & 0xFFFF
        print(header)
        sys.stdout.flush()
        start = time.monotonic()
        stats = PingStats()

        def out(line: str) -> None:
            if not args.quiet:
                print(line, flush=True)

        try:
            stats = ping_loop(
                sock,
                host,
                lambda done, t: link.poll_until(done, timeout=t),
                count=args.count,
                interval=args.interval,
                timeout=args.timeout,
                size=args.size,
                ident=ident,
                out=out,
                stats=stats,
            )
        except KeyboardInterrupt:
            # A terminal's Ctrl-C reaches us twice (directly and passed on
            # by the parent): the first one ends the pings, no other may
            # cut the summary short.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        print()
        print(stats.summary(host, (time.monotonic() - start) * 1000.0), flush=True)
        sock.close()
    return 0 if stats.received > 0 else 1
