"""Protocol counters (``netstat -s``) and the knob registry (``sysctl``).

Counters come from ``ust_stats_<proto>()`` as dicts built from the cffi
struct fields, so a counter added to ``ustack_stats.h`` (and the cdef, which
the build checks is complete) shows up here without a Python change.  The
ICMP type histograms become dicts ``{icmp_type: count}`` of nonzero entries.

Knobs carry FreeBSD's sysctl names and defaults; :func:`sysctl_info` lists
them (no stack needed), ``Stack.sysctl()`` reads and sets one stack's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from ustack._native import cstr, ffi, lib
from ustack.errors import check

__all__ = [
    "PROTOCOLS",
    "ICMP_TYPES",
    "SysctlInfo",
    "sysctl_info",
    "read_counters",
    "format_netstat",
    "describe",
]

PROTOCOLS: tuple[str, ...] = ("ether", "arp", "ip", "icmp", "udp", "tcp")

_STRUCTS: dict[str, tuple[str, str]] = {
    "ether": ("struct ust_etherstat", "ust_stats_ether"),
    "arp": ("struct ust_arpstat", "ust_stats_arp"),
    "ip": ("struct ust_ipstat", "ust_stats_ip"),
    "icmp": ("struct ust_icmpstat", "ust_stats_icmp"),
    "udp": ("struct ust_udpstat", "ust_stats_udp"),
    "tcp": ("struct ust_tcpstat", "ust_stats_tcp"),
}

# RFC 792 and later assignments (IANA "ICMP Type Numbers"), the names netstat uses.
ICMP_TYPES: dict[int, str] = {
    0: "echo reply",
    3: "destination unreachable",
    4: "source quench",
    5: "routing redirect",
    8: "echo",
    9: "router advertisement",
    10: "router solicitation",
    11: "time exceeded",
    12: "parameter problem",
    13: "time stamp",
    14: "time stamp reply",
    15: "information request",
    16: "information request reply",
    17: "address mask request",
    18: "address mask reply",
}

# netstat -s style phrases; a counter missing here is shown by its field name.
_DESCRIPTIONS: dict[str, dict[str, str]] = {
    "ether": {
        "ether_ipackets": "frames received",
        "ether_opackets": "frames sent",
        "ether_tooshort": "frames shorter than an Ethernet header",
        "ether_notours": "frames for another station",
        "ether_srcbcast": "frames with a broadcast or multicast source",
        "ether_vlan": "802.1Q tagged frames dropped",
        "ether_unknowntype": "frames with an unknown ethertype",
        "ether_noresolve": "output packets dropped: next hop not resolved",
        "ether_nombuf": "output packets dropped: no buffer for the header",
    },
    "arp": {
        "txrequests": "ARP requests sent",
        "txreplies": "ARP replies sent",
        "txannounces": "gratuitous ARP announcements sent",
        "rxrequests": "ARP requests received",
        "rxreplies": "ARP replies received",
        "received": "ARP packets received",
        "dropped": "packets dropped from a full hold queue",
        "timeouts": "resolutions timed out",
        "dupips": "duplicate IPs seen",
        "rx_tooshort": "ARP packets too short",
        "rx_badformat": "ARP packets with a bad format",
        "rx_badop": "ARP packets with an unknown opcode",
        "rx_badaddr": "ARP packets with a bad sender address",
        "cachefull": "entries refused: cache full",
        "expired": "entries expired",
    },
    "ip": {
        "ips_total": "total packets received",
        "ips_badsum": "bad header checksums",
        "ips_tooshort": "with data size < data length",
        "ips_toosmall": "with size smaller than minimum",
        "ips_badhlen": "with header length < data size",
        "ips_badlen": "with data length < header length",
        "ips_badvers": "with incorrect version number",
        "ips_badttl": "with TTL 0",
        "ips_badoptions": "with bad options",
        "ips_badaddr": "with a bad source address",
        "ips_notforus": "packets not for this host",
        "ips_fragments": "fragments received",
        "ips_fragdropped": "fragments dropped (dup, overlap or out of space)",
        "ips_fragtimeout": "fragments dropped after timeout",
        "ips_reassembled": "packets reassembled ok",
        "ips_delivered": "packets for this host",
        "ips_noproto": "packets for unknown/unsupported protocol",
        "ips_localout": "packets sent from this host",
        "ips_odropped": "output packets dropped due to no bufs, etc.",
        "ips_noroute": "output packets discarded due to no route",
        "ips_fragmented": "output datagrams fragmented",
        "ips_ofragments": "fragments created",
        "ips_cantfrag": "datagrams that can't be fragmented",
        "ips_rawout": "raw ip packets generated",
        "ips_rawin": "copies delivered to raw sockets",
        "ips_rawfull": "copies dropped due to full raw socket buffers",
    },
    "icmp": {
        "icps_error": "calls to icmp_error",
        "icps_oldshortmsg": "errors not generated: old message too short",
        "icps_oldicmp": "errors not generated: old message was icmp",
        "icps_nobcast": "errors not generated: old message was broadcast or multicast",
        "icps_notfirstfrag": "errors not generated: old message was not a first fragment",
        "icps_ratelimited": "responses suppressed by the rate limit",
        "icps_badcode": "messages with bad code fields",
        "icps_tooshort": "messages < minimum length",
        "icps_checksum": "bad checksums",
        "icps_badlen": "messages with bad length",
        "icps_reflect": "message responses generated",
        "icps_bmcastecho": "broadcast/multicast echo requests ignored",
        "icps_outhist": "Output histogram:",
        "icps_inhist": "Input histogram:",
    },
    "udp": {
        "udps_ipackets": "datagrams received",
        "udps_hdrops": "with incomplete header",
        "udps_badsum": "with bad checksum",
        "udps_nosum": "with no checksum",
        "udps_badlen": "with bad data length field",
        "udps_noport": "dropped due to no socket",
        "udps_noportbcast": "broadcast/multicast datagrams undelivered",
        "udps_fullsock": "dropped due to full socket buffers",
        "udps_delivered": "delivered",
        "udps_opackets": "datagrams output",
        "udps_odropped": "datagrams dropped on output",
    },
    "tcp": {
        "tcps_connattempt": "connections initiated (SYN sent)",
        "tcps_accepts": "connections accepted (passive)",
        "tcps_connects": "connections established",
        "tcps_drops": "established connections dropped",
        "tcps_conndrops": "embryonic connections dropped",
        "tcps_closed": "connections closed (and freed)",
        "tcps_timeoutdrop": "dropped by retransmission timeout",
        "tcps_keepdrops": "dropped by keepalive",
        "tcps_keeptimeo": "keepalive timeouts",
        "tcps_keepprobe": "keepalive probes sent",
        "tcps_persisttimeo": "persist timeouts",
        "tcps_rexmttimeo": "retransmission timeouts",
        "tcps_segstimed": "segments timed for RTT",
        "tcps_rttupdated": "RTT estimator updates",
        "tcps_delack": "delayed ACKs sent",
        "tcps_sndtotal": "segments sent",
        "tcps_sndpack": "data segments sent",
        "tcps_sndbyte": "data bytes sent",
        "tcps_sndrexmitpack": "data segments retransmitted",
        "tcps_sndrexmitbyte": "data bytes retransmitted",
        "tcps_sndacks": "ACK-only segments sent",
        "tcps_sndprobe": "window probes sent",
        "tcps_sndurg": "segments with URG sent",
        "tcps_sndwinup": "window updates sent",
        "tcps_sndctrl": "control segments (SYN, FIN, RST) sent",
        "tcps_rcvtotal": "segments received",
        "tcps_rcvpack": "in-order data segments received",
        "tcps_rcvbyte": "in-order data bytes received",
        "tcps_rcvbadsum": "bad checksum",
        "tcps_rcvbadoff": "bad data offset",
        "tcps_rcvshort": "shorter than a TCP header",
        "tcps_rcvduppack": "completely duplicate segments",
        "tcps_rcvdupbyte": "completely duplicate segments (bytes)",
        "tcps_rcvpartduppack": "partly duplicate segments",
        "tcps_rcvpartdupbyte": "partly duplicate segments (bytes)",
        "tcps_rcvoopack": "out-of-order segments queued",
        "tcps_rcvoobyte": "out-of-order segments queued (bytes)",
        "tcps_rcvpackafterwin": "segments beyond the window",
        "tcps_rcvbyteafterwin": "segments beyond the window (bytes)",
        "tcps_rcvafterclose": "data after the socket was closed",
        "tcps_rcvwinprobe": "window probes received",
        "tcps_rcvdupack": "duplicate ACKs received",
        "tcps_rcvacktoomuch": "ACKs for data not sent",
        "tcps_rcvackpack": "ACK segments received",
        "tcps_rcvackbyte": "bytes acknowledged",
        "tcps_rcvwinupd": "window updates received",
        "tcps_rcvreassfull": "out-of-order segments dropped: queue full",
        "tcps_rcvmemdrop": "dropped for lack of memory",
        "tcps_pawsdrop": "dropped by PAWS",
        "tcps_predack": "header prediction: pure ACKs",
        "tcps_preddat": "header prediction: in-order data",
        "tcps_badsyn": "bogus SYN (e.g. with FIN)",
        "tcps_badrst": "ignored RSTs outside the window",
        "tcps_dropsyn": "SYNs dropped (e.g. no listener, blackhole)",
        "tcps_listendrop": "listen queue overflows",
        "tcps_rcvnoport": "segments for no connection or listener (RST sent)",
        "tcps_ecn_shs": "ECN handshakes",
        "tcps_ecn_ce": "segments received CE-marked",
        "tcps_ecn_ect0": "segments received ECT(0)",
        "tcps_ecn_ect1": "segments received ECT(1)",
        "tcps_ecn_rcwnd": "congestion window reductions for ECN-Echo",
        "tcps_mturesent": "resends after an ICMP frag-needed",
        "tcps_fastretransmits": "fast retransmits (3 duplicate ACKs)",
        "tcps_newreno_partial": "NewReno partial ACKs",
        "tcps_finwait2_drops": "orphans timed out in FIN_WAIT_2",
        "tcps_tw_recycles": "TIME_WAIT connections reused by a new SYN",
        "tcps_sc_added": "syncache entries added",
        "tcps_sc_retransmitted": "SYN-ACKs retransmitted",
        "tcps_sc_dupsyn": "duplicate SYNs",
        "tcps_sc_dropped": "syncache entries dropped (no memory)",
        "tcps_sc_completed": "handshakes completed from the syncache",
        "tcps_sc_bucketoverflow": "syncache bucket full",
        "tcps_sc_cacheoverflow": "syncache full",
        "tcps_sc_reset": "syncache entries reset by RST",
        "tcps_sc_stale": "syncache entries timed out",
        "tcps_sc_aborted": "handshakes aborted (listen queue full)",
        "tcps_sc_badack": "bad ACKs for syncache entries",
        "tcps_sc_unreach": "ICMP unreachables for syncache entries",
        "tcps_sc_sendcookie": "SYN cookies sent",
        "tcps_sc_recvcookie": "valid SYN cookies received",
        "tcps_sc_spurcookie": "bogus SYN cookies received",
        "tcps_sc_zonefail": "syncache allocations refused",
        "tcps_challenge_ack": "RFC 5961 challenge ACKs sent",
        "tcps_challenge_ack_limited": "challenge ACKs suppressed by the rate limit",
        "tcps_badrst_inwindow": "in-window but not exact RSTs (RFC 5961 3.2)",
        "tcps_synchallenge": "SYNs in a synchronized state (RFC 5961 4)",
        "tcps_ackchallenge": "ACKs outside the acceptable range (RFC 5961 5)",
        "tcps_autorcvbuf": "receive buffers grown automatically",
        "tcps_autosndbuf": "send buffers grown automatically",
        "tcps_autobuf_fail": "automatic buffer growths refused",
    },
}


def describe(proto: str, field: str) -> str:
    """The netstat -s phrase of a counter (its field name if there is none)."""
    return _DESCRIPTIONS.get(proto, {}).get(field, field)


def read_counters(st: Any, proto: str) -> dict[str, Any]:
    """One protocol's counters of a ``struct ust_stack *`` as a dict.

    Scalar fields are ints; array fields (the ICMP histograms) are dicts of
    their nonzero entries by index (ICMP type).
    """
    try:
        ctype, fn_name = _STRUCTS[proto]
    except KeyError:
        raise ValueError(f"unknown protocol {proto!r}: one of {', '.join(PROTOCOLS)}") from None
    out = ffi.new(ctype + " *")
    getattr(lib, fn_name)(st, out)
    result: dict[str, Any] = {}
    for name, field in ffi.typeof(ctype).fields:
        value = getattr(out, name)
        if field.type.kind == "array":
            result[name] = {i: int(v) for i, v in enumerate(value) if v}
        else:
            result[name] = int(value)
    return result


def format_netstat(stats: Mapping[str, Mapping[str, Any]], *, zeros: bool = True) -> str:
    """Counters as ``netstat -s`` prints them: a block per protocol, one
    ``<count> <description>`` line per counter (``zeros=False``: nonzero
    ones only, like ``netstat -ss``)."""
    lines: list[str] = []
    for proto, counters in stats.items():
        lines.append(f"{proto}:")
        for name, value in counters.items():
            if isinstance(value, Mapping):
                if not value:
                    continue
                lines.append(f"\t{describe(proto, name)}")
                for idx, count in sorted(value.items()):
                    label = ICMP_TYPES.get(int(idx), f"#{idx}") if proto == "icmp" else str(idx)
                    lines.append(f"\t\t{label}: {count}")
                continue
            if value or zeros:
                lines.append(f"\t{value} {describe(proto, name)}")
    return "\n".join(lines)


# --- knobs -------------------------------------------------------------------


@dataclass(frozen=True)
class SysctlInfo:
    """A knob of the registry (``struct ust_sysctl_info``)."""

    name: str
    description: str
    default: int | str
    """An int, or a str for string knobs (``net.inet.tcp.cc.algorithm``)."""
    min: int
    max: int
    readonly: bool
    """Read-only after the stack is created."""
    string: bool = False
    """A string knob (``UST_SYSCTL_STRING``): min and max mean nothing."""


@cache
def _registry() -> tuple[SysctlInfo, ...]:
    out = ffi.new("struct ust_sysctl_info *")
    knobs: list[SysctlInfo] = []
    for idx in range(1 << 16):
        rc = int(lib.ust_sysctl_info(idx, out))
        if rc == -int(lib.UST_ENOENT):
            break
        check(rc)
        string = bool(int(out.flags) & int(lib.UST_SYSCTL_STRING))
        knobs.append(
            SysctlInfo(
                name=cstr(out.name) or f"knob{idx}",
                description=cstr(out.descr) or "",
                default=(cstr(out.defstr) or "") if string else int(out.defval),
                min=int(out.min),
                max=int(out.max),
                readonly=bool(int(out.flags) & int(lib.UST_SYSCTL_RDONLY)),
                string=string,
            )
        )
    return tuple(knobs)


def sysctl_info(name: str | None = None) -> list[SysctlInfo]:
    """Every knob of the registry in its order, or those whose name starts with ``name``."""
    knobs = _registry()
    if name is None:
        return list(knobs)
    return [k for k in knobs if k.name == name or k.name.startswith(name.rstrip(".") + ".")]
