"""Protocol counters (netstat -s) move as the packets say."""

from __future__ import annotations

import struct
from typing import Any

import pytest

import ustack
from ustack import Stack
from ustack.netstat import PROTOCOLS, describe
from ustack.sim import ADDR_A, ADDR_B, PipeRig, inet_checksum, numbered_frame, udp_frame

FREEBSD_NAMES = {
    "ip": {"ips_total", "ips_badsum", "ips_tooshort", "ips_fragments", "ips_reassembled",
           "ips_delivered", "ips_localout", "ips_noproto", "ips_fragmented", "ips_cantfrag"},
    "icmp": {"icps_error", "icps_badcode", "icps_checksum", "icps_reflect", "icps_inhist",
             "icps_outhist"},
    "udp": {"udps_ipackets", "udps_hdrops", "udps_badsum", "udps_nosum", "udps_badlen",
            "udps_noport", "udps_noportbcast", "udps_fullsock", "udps_opackets"},
    "arp": {"txrequests", "txreplies", "rxrequests", "rxreplies", "received", "dropped",
            "timeouts", "dupips"},
    "ether": {"ether_ipackets", "ether_opackets"},
}  # fmt: skip


def _nonzero(st: Stack, proto: str) -> dict[str, object]:
    return {k: v for k, v in st.netstat(proto)[proto].items() if v}


def _inject(net: PipeRig, **kwargs: Any) -> None:
    """A UDP frame A -> B:5000 built by hand and sent from A's interface."""
    frame = udp_frame(
        net.ib.mac_bytes, net.ia.mac_bytes, ADDR_A, ADDR_B, 4000, 5000, b"payload!", **kwargs
    )
    net.ia.send_frame(frame)
    net.run()


def test_shape_and_freebsd_names(stack: Stack) -> None:
    stats = stack.netstat()
    from ustack._native import lib

    v6 = ("ip6", "icmp6") if lib.UST_INET6 else ()
    assert tuple(stats) == PROTOCOLS == ("ether", "arp", "ip", "icmp", "udp", "tcp", *v6)
    for proto, names in FREEBSD_NAMES.items():
        assert names <= set(stats[proto]), proto
    assert all(v == 0 for p in ("ether", "arp", "ip", "udp") for v in stats[p].values())
    assert stats["icmp"]["icps_inhist"] == {} and stats["icmp"]["icps_outhist"] == {}
    assert stack.netstat("udp") == {"udp": stats["udp"]}
    with pytest.raises(ValueError):
        stack.netstat("tcp6")


def test_counters_of_one_exchange(net: PipeRig) -> None:
    server = net.b.socket(ustack.AF_INET, ustack.SOCK_DGRAM)
    server.bind(("", 5000))
    client = net.a.socket(ustack.AF_INET, ustack.SOCK_DGRAM)
    client.sendto(b"count me", (ADDR_B, 5000))
    assert server.recv(100) == b"count me"
    a_udp, b_udp = net.a.netstat("udp")["udp"], net.b.netstat("udp")["udp"]
    assert a_udp["udps_opackets"] == 1
    assert b_udp["udps_ipackets"] == 1 and b_udp["udps_delivered"] == 1
    a_ip, b_ip = net.a.netstat("ip")["ip"], net.b.netstat("ip")["ip"]
    assert a_ip["ips_localout"] == 1
    assert b_ip["ips_total"] == 1 and b_ip["ips_delivered"] == 1
    assert net.a.netstat("ether")["ether"]["ether_opackets"] >= 2  # ARP request + datagram
    assert net.b.netstat("arp")["arp"]["rxrequests"] == 2  # A's gratuitous ARP + request
    assert net.b.netstat("arp")["arp"]["txreplies"] == 1


def test_bad_udp_checksum_is_counted(net: PipeRig) -> None:
    server = net.b.socket(ustack.AF_INET, ustack.SOCK_DGRAM)
    server.bind(("", 5000))
    server.setblocking(False)
    _inject(net, udp_sum_delta=1)
    assert net.b.netstat("udp")["udp"]["udps_badsum"] == 1
    assert net.b.netstat("udp")["udp"]["udps_delivered"] == 0
    with pytest.raises(BlockingIOError):
        server.recv(100)
    _inject(net)  # the same datagram with a good checksum goes through
    assert server.recvfrom(100) == (b"payload!", (ADDR_A, 4000))


def test_no_udp_checksum_is_accepted_and_counted(net: PipeRig) -> None:
    server = net.b.socket(ustack.AF_INET, ustack.SOCK_DGRAM)
    server.bind(("", 5000))
    _inject(net, udp_sum=False)
    assert net.b.netstat("udp")["udp"]["udps_nosum"] == 1
    assert server.recv(100) == b"payload!"


def test_bad_ip_header_is_counted(net: PipeRig) -> None:
    _inject(net, ip_sum_delta=1)
    assert _nonzero(net.b, "ip") == {"ips_total": 1, "ips_badsum": 1}
    _inject(net, version=6)
    assert net.b.netstat("ip")["ip"]["ips_badvers"] == 1


def test_closed_port_counts_noport_and_icmp(net: PipeRig) -> None:
    client = net.a.socket(ustack.AF_INET, ustack.SOCK_DGRAM)
    client.sendto(b"x", (ADDR_B, 9))
    net.run()
    assert net.b.netstat("udp")["udp"]["udps_noport"] == 1
    b_icmp = net.b.netstat("icmp")["icmp"]
    assert b_icmp["icps_error"] == 1
    assert b_icmp["icps_outhist"] == {3: 1}  # destination unreachable
    assert net.a.netstat("icmp")["icmp"]["icps_inhist"] == {3: 1}


def test_frame_for_another_station_and_unknown_ethertype(net: PipeRig) -> None:
    net.ia.send_frame(numbered_frame(b"\x02\x00\x00\x00\x00\x77", net.ia.mac_bytes, 1))
    net.ia.send_frame(numbered_frame(net.ib.mac_bytes, net.ia.mac_bytes, 2))
    net.run()
    ether = net.b.netstat("ether")["ether"]
    assert ether["ether_notours"] == 1
    assert ether["ether_unknowntype"] == 1


def test_short_udp_header_is_counted(net: PipeRig) -> None:
    frame = bytearray(udp_frame(net.ib.mac_bytes, net.ia.mac_bytes, ADDR_A, ADDR_B, 1, 5000, b""))
    # Claim only 4 bytes of UDP in IP (total length 24) and fix the IP checksum.
    struct.pack_into("!H", frame, 16, 24)
    struct.pack_into("!H", frame, 24, 0)
    struct.pack_into("!H", frame, 24, inet_checksum(bytes(frame[14:34])))
    net.ia.send_frame(bytes(frame[:38]))
    net.run()
    assert net.b.netstat("udp")["udp"]["udps_hdrops"] == 1


def test_netstat_text(net: PipeRig) -> None:
    client = net.a.socket(ustack.AF_INET, ustack.SOCK_DGRAM)
    client.sendto(b"x", (ADDR_B, 9))
    net.run()
    text = ustack.format_netstat(net.b.netstat())
    assert text.splitlines()[0] == "ether:"
    for proto in PROTOCOLS:
        assert f"\n{proto}:" in "\n" + text
    assert "\t1 dropped due to no socket" in text
    assert "Output histogram:" in text and "\t\tdestination unreachable: 1" in text
    assert "\t0 with bad checksum" in text
    terse = ustack.format_netstat(net.b.netstat(), zeros=False)
    assert "with bad checksum" not in terse and "dropped due to no socket" in terse
    assert describe("udp", "udps_badsum") == "with bad checksum"
    assert describe("udp", "no_such_counter") == "no_such_counter"


def test_every_counter_has_a_description(stack: Stack) -> None:
    """Each field of each counter struct (the cffi view of ustack_stats.h)
    has a real description from the C table, not its own name."""
    stats = stack.netstat()
    assert stats, "no counters"
    for proto, counters in stats.items():
        assert counters, proto
        for name in counters:
            text = describe(proto, name)
            assert text and text != name, f"{proto}.{name} has no description"
    # The six SACK counters, in FreeBSD's netstat -s words.
    assert describe("tcp", "tcps_sack_recovery_episode") == "SACK recovery episodes"
    assert describe("tcp", "tcps_sack_sboverflow") == "SACK scoreboard overflow"


def test_descriptions_come_from_the_library() -> None:
    """netstat.py holds no text of its own: every row of ust_stats_describe
    is a field of the struct it names, and the rows cover the structs."""
    from ustack._native import cstr, ffi, lib

    out = ffi.new("struct ust_stat_desc *")
    seen: dict[str, set[str]] = {}
    idx = 0
    while int(lib.ust_stats_describe(idx, out)) == 0:
        group, name = cstr(out.group) or "", cstr(out.name) or ""
        fields = dict(ffi.typeof(f"struct ust_{group}stat").fields)
        assert name in fields
        assert int(out.offset) == fields[name].offset
        assert describe(group, name) == cstr(out.descr)
        seen.setdefault(group, set()).add(name)
        idx += 1
    assert tuple(seen) == PROTOCOLS
    for group, names in seen.items():
        assert names == {n for n, _ in ffi.typeof(f"struct ust_{group}stat").fields}, group
