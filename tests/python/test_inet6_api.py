"""The Python API for IPv6 (issue 17): AF_INET6 addresses as the socket
module takes and gives them, scope ids (ustack's interface indexes),
numeric getaddrinfo, the IPv6 constants, and -- in a library with IPv6 --
interface addresses, routes, the neighbor cache, counters and ICMPv6 echo
between two stacks."""

from __future__ import annotations

import errno
import ipaddress
import socket
import struct
from collections.abc import Iterator
from typing import Any

import pytest

import ustack
from ustack import inet
from ustack.commands.ping import echo_request6, icmp6_filter, parse6, ping_loop
from ustack.netstat import format_endpoint, format_netstat
from ustack.sim import ADDR6_A, ADDR6_B, PipeRig, icmp6_checksum, icmp6_echo_frame, parse_ipv6

needs_inet6 = pytest.mark.skipif(not ustack.UST_HAS_INET6, reason="built with UST_INET6=0")

SCOPES = {"pd0": 3, "pa0": 1}.get


# --- addresses as the socket module takes them (no stack needed) ------------


def _roundtrip(address: tuple[object, ...]) -> tuple[object, ...]:
    sa = inet.sockaddr(address, "connect()", socket.AF_INET6, SCOPES)
    assert sa.length == 28
    return inet.sockaddr_to_tuple(sa)


def test_sockaddr_in6_layout() -> None:
    sa = inet.sockaddr(("2001:2::1", 80, 0x12345, 7), "bind()", socket.AF_INET6)
    raw = bytes(ustack.ffi.buffer(sa.storage, 28))
    # BSD layout: len, family (FreeBSD's 28), port and flowinfo in network order.
    assert raw[0] == 28 and raw[1] == ustack.lib.UST_AF_INET6 == 28
    assert raw[2:4] == b"\x00\x50" and raw[4:8] == (0x12345).to_bytes(4, "big")
    assert raw[8:24] == ipaddress.IPv6Address("2001:2::1").packed
    assert int.from_bytes(raw[24:28], "little" if struct.pack("=I", 1)[0] else "big") == 7


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (("2001:2::1", 80), ("2001:2::1", 80, 0, 0)),
        (("2001:2::1", 80, 5), ("2001:2::1", 80, 5, 0)),
        (("2001:2::1", 80, 5, 9), ("2001:2::1", 80, 5, 9)),
        (("", 0), ("::", 0, 0, 0)),
        (("2001:0002:0::0001", 1), ("2001:2::1", 1, 0, 0)),
        (("::ffff:198.18.0.1", 1), ("::ffff:198.18.0.1", 1, 0, 0)),
        ((ipaddress.IPv6Address("2001:2::5"), 1), ("2001:2::5", 1, 0, 0)),
        # The zone by name (the stack's interfaces) or number; no %zone on output.
        (("fe80::1%pd0", 80), ("fe80::1", 80, 0, 3)),
        (("fe80::1%12", 80), ("fe80::1", 80, 0, 12)),
        # A scope id in the tuple wins over the zone, as in the socket module.
        (("fe80::1%pd0", 80, 0, 4), ("fe80::1", 80, 0, 4)),
        # The socket module's 'I' format: the scope id is taken modulo 2**32.
        (("2001:2::1", 1, 0, 2**32 + 3), ("2001:2::1", 1, 0, 3)),
    ],
)
def test_inet6_tuples(given: tuple[object, ...], expected: tuple[object, ...]) -> None:
    assert _roundtrip(given) == expected


@pytest.mark.parametrize(
    ("address", "exc", "text"),
    [
        ("::1", TypeError, "AF_INET6 address must be tuple, not str"),
        (("::1",), TypeError, "(host, port[, flowinfo[, scopeid]])"),
        (("::1", 1, 0, 0, 0), TypeError, "(host, port[, flowinfo[, scopeid]])"),
        (("::1", "80"), TypeError, "port must be an int"),
        (("::1", 70000), OverflowError, "port must be 0-65535."),
        (("::1", 1, 1 << 20), OverflowError, "flowinfo must be 0-1048575."),
        (("::1", 1, -1), OverflowError, "flowinfo must be 0-1048575."),
        (("::1", 1, 0, "x"), TypeError, "scope_id must be an int"),
    ],
)
def test_inet6_tuple_errors(address: object, exc: type[Exception], text: str) -> None:
    with pytest.raises(exc) as ei:
        inet.sockaddr(address, "connect()", socket.AF_INET6)
    assert text in str(ei.value)


def test_host_errors_as_the_resolver_gives_them() -> None:
    # Another family's address: EAI_ADDRFAMILY, both ways, as socket.socket says.
    for family, host in ((socket.AF_INET6, "198.18.0.1"), (socket.AF_INET, "2001:2::1")):
        with pytest.raises(socket.gaierror) as ei:
            inet.sockaddr((host, 1), "connect()", family)
        assert ei.value.errno == socket.EAI_ADDRFAMILY
        assert ei.value.strerror == "Address family for hostname not supported"
    with pytest.raises(socket.gaierror) as ei:
        inet.sockaddr(("fe80::1%nosuch", 1), "connect()", socket.AF_INET6, SCOPES)
    assert ei.value.errno == socket.EAI_NONAME
    with pytest.raises(socket.gaierror) as ei:  # no names without a stack
        inet.sockaddr(("fe80::1%pd0", 1), "connect()", socket.AF_INET6)
    assert ei.value.errno == socket.EAI_NONAME
    with pytest.raises(socket.gaierror) as ei:
        inet.sockaddr(("example.org", 1), "connect()", socket.AF_INET6)
    assert ei.value.errno == socket.EAI_NONAME
    with pytest.raises(OSError, match="address family mismatched"):
        inet.sockaddr(("<broadcast>", 1), "sendto()", socket.AF_INET6)


def test_the_ipv4_forms_stay() -> None:
    sa = inet.sockaddr(("198.18.0.1", 8080))
    assert sa.length == 16 and inet.sockaddr_to_tuple(sa) == ("198.18.0.1", 8080)
    with pytest.raises(TypeError):
        inet.sockaddr(("198.18.0.1", 1, 0, 0))
    with pytest.raises(socket.gaierror) as ei:
        inet.parse_host("name.example")
    assert ei.value.errno == socket.EAI_NONAME


def test_parse_interfaces_and_networks() -> None:
    assert inet.parse_interface6("2001:2::1/64") == ipaddress.IPv6Interface("2001:2::1/64")
    assert str(inet.parse_interface6("fe80::1%pd0/64")) == "fe80::1%pd0/64"
    assert inet.parse_interface_any("198.18.0.1/24").version == 4
    assert inet.parse_interface_any("2001:2::1/64").version == 6
    assert inet.parse_network6("2001:2::5/48") == ipaddress.IPv6Network("2001:2::/48")
    assert inet.parse_network6("default") == ipaddress.IPv6Network("::/0")
    assert inet.parse_network_any("default") == ipaddress.IPv4Network("0.0.0.0/0")
    assert inet.parse_network_any("default", socket.AF_INET6).version == 6
    with pytest.raises(ValueError, match="not an IPv6 network"):
        inet.parse_network6("2001:2::/129")
    assert inet.format_scoped("fe80::1", "pd0") == "fe80::1%pd0"
    assert inet.format_scoped("2001:2::1", "pd0") == "2001:2::1"
    assert inet.format_scoped("ff02::1", "pd0") == "ff02::1%pd0"
    assert format_endpoint("2001:2::1", 80) == "[2001:2::1]:80"
    assert format_endpoint("198.18.0.1", 80) == "198.18.0.1:80"


# --- numeric getaddrinfo ------------------------------------------------------


def _gai(*args: Any, **kw: Any) -> list[tuple[Any, ...]]:
    return [(f, t, p, a) for f, t, p, _c, a in inet.numeric_getaddrinfo(*args, **kw)]


def test_getaddrinfo_ipv6() -> None:
    stream = (socket.SOCK_STREAM, socket.IPPROTO_TCP)
    assert _gai("2001:2::1", 80, socket.AF_INET6, socket.SOCK_STREAM) == [
        (socket.AF_INET6, *stream, ("2001:2::1", 80, 0, 0))
    ]
    assert _gai("fe80::1%7", "80", socket.AF_INET6, socket.SOCK_STREAM) == [
        (socket.AF_INET6, *stream, ("fe80::1", 80, 0, 7))
    ]
    assert _gai("fe80::1%pd0", 80, socket.AF_INET6, socket.SOCK_STREAM, scopes=SCOPES) == [
        (socket.AF_INET6, *stream, ("fe80::1", 80, 0, 3))
    ]
    passive = _gai(None, 80, socket.AF_INET6, socket.SOCK_STREAM, 0, socket.AI_PASSIVE)
    assert passive == [(socket.AF_INET6, *stream, ("::", 80, 0, 0))]
    mapped = _gai("198.18.0.1", 80, socket.AF_INET6, socket.SOCK_STREAM, 0, socket.AI_V4MAPPED)
    assert mapped == [(socket.AF_INET6, *stream, ("::ffff:198.18.0.1", 80, 0, 0))]
    for host, family in (("198.18.0.1", socket.AF_INET6), ("2001:2::1", socket.AF_INET)):
        with pytest.raises(socket.gaierror) as ei:
            inet.numeric_getaddrinfo(host, 80, family)
        assert ei.value.errno == socket.EAI_ADDRFAMILY
    # Like the host's resolver for numeric input (it is the reference).
    ref = socket.getaddrinfo("2001:2::1", 80, socket.AF_INET6, socket.SOCK_DGRAM)
    assert [(f, t, p, a) for f, t, p, _, a in ref] == _gai(
        "2001:2::1", 80, socket.AF_INET6, socket.SOCK_DGRAM
    )


@needs_inet6
def test_getaddrinfo_unspec_gives_both_families_as_glibc() -> None:
    ours = _gai(None, 80, 0, socket.SOCK_STREAM, 0, socket.AI_PASSIVE)
    assert [a[0] for a in ours] == [socket.AF_INET, socket.AF_INET6]
    ours = _gai(None, 80, 0, socket.SOCK_STREAM)
    assert [a[3][0] for a in ours] == ["::1", "127.0.0.1"]
    assert _gai("2001:2::1", 80, 0, socket.SOCK_STREAM)[0][0] == socket.AF_INET6
    assert _gai("198.18.0.1", 80, 0, socket.SOCK_STREAM)[0][0] == socket.AF_INET


# --- constants ------------------------------------------------------------------


def test_ipv6_constants_are_the_hosts() -> None:
    for name in (
        "AF_INET6",
        "IPPROTO_IPV6",
        "IPPROTO_ICMPV6",
        "IPV6_V6ONLY",
        "IPV6_UNICAST_HOPS",
        "IPV6_TCLASS",
        "IPV6_RECVPKTINFO",
    ):
        assert getattr(ustack, name) == getattr(socket, name), name
    # ... and reach C as FreeBSD's values.
    assert ustack.constants.to_c_option(ustack.IPPROTO_IPV6, ustack.IPV6_V6ONLY) == 27
    assert ustack.constants.to_c_option(ustack.IPPROTO_IPV6, ustack.IPV6_UNICAST_HOPS) == 4
    assert ustack.constants.to_c_option(ustack.IPPROTO_IPV6, ustack.IPV6_TCLASS) == 61
    assert ustack.constants.to_c_option(ustack.IPPROTO_IPV6, ustack.IPV6_RECVPKTINFO) == 36
    assert ustack.constants.to_c_level(ustack.IPPROTO_IPV6) == 41
    assert isinstance(ustack.UST_HAS_INET6, bool)


def test_no_inet6_library_says_eafnosupport() -> None:
    if ustack.UST_HAS_INET6:
        pytest.skip("built with IPv6")
    with ustack.Stack(seed=1) as st, pytest.raises(OSError) as ei:
        st.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    assert ei.value.errno == errno.EAFNOSUPPORT


# --- a stack with IPv6 ----------------------------------------------------------


@pytest.fixture
def net6() -> Iterator[PipeRig]:
    """A (2001:2::1/64 on pa0) and B (2001:2::2/64 on pb0), no DAD, also
    with their IPv4 addresses, and static neighbor entries for each other
    (the stack has no neighbor solicitation yet)."""
    with PipeRig(seed=1, addresses=True, addresses6=True) as r:
        if ustack.UST_HAS_INET6:
            r.a.nd6_add(r.ia, ADDR6_B, r.ib.mac)
            r.b.nd6_add(r.ib, ADDR6_A, r.ia.mac)
        yield r


def _globals(iface: ustack.Interface) -> list[ustack.Address6]:
    return [a for a in iface.addresses6 if not a.ip.is_link_local]


@needs_inet6
def test_interface_addresses6(net6: PipeRig) -> None:
    ia = net6.ia
    assert [str(a.interface) for a in _globals(ia)] == ["2001:2::1/64"]
    a = _globals(ia)[0]
    assert not a.tentative and not a.duplicated and a.flags & inet.IN6_IFF_NODAD
    assert "nodad" in a.flags_text
    # IPv4 addresses stay apart.
    assert ia.addresses == [ipaddress.IPv4Interface("198.18.0.1/24")]
    ia.add_address("2001:2:0:1::1", nodad=True)  # no prefix: /64 as ifconfig
    assert "2001:2:0:1::1/64" in {str(x.interface) for x in ia.addresses6}
    with pytest.raises(FileExistsError):
        ia.add_address("2001:2:0:1::1/64", nodad=True)
    ia.del_address("2001:2:0:1::1")
    assert "2001:2:0:1::1/64" not in {str(x.interface) for x in ia.addresses6}
    with pytest.raises(OSError) as ei:
        ia.del_address("2001:2:0:1::1/64")
    assert ei.value.errno == errno.EADDRNOTAVAIL
    with pytest.raises(ValueError, match="zone"):
        ia.add_address("fe80::99%pb0/64")
    assert ia.index == int(ustack.lib.ust_if_index(ia._ifp()))


@needs_inet6
def test_link_local_addresses_carry_the_zone(net6: PipeRig) -> None:
    net6.ia.add_address("fe80::99%pa0/64", nodad=True)
    ll = [a for a in net6.ia.addresses6 if str(a.ip).startswith("fe80::99")]
    assert [str(a.interface) for a in ll] == ["fe80::99%pa0/64"]


@needs_inet6
def test_tentative_address_with_dad(rig: PipeRig) -> None:
    rig.ia.add_address("2001:2::7/64")
    (a,) = [x for x in rig.ia.addresses6 if str(x.ip) == "2001:2::7"]
    if not a.tentative:
        pytest.skip("no duplicate address detection in this library yet")
    rig.run()
    (a,) = [x for x in rig.ia.addresses6 if str(x.ip) == "2001:2::7"]
    assert not a.tentative


@needs_inet6
def test_routes6(net6: PipeRig) -> None:
    a = net6.a
    v6 = a.routes(socket.AF_INET6)
    prefix = [r for r in v6 if r.dst == ipaddress.IPv6Network("2001:2::/64")]
    assert len(prefix) == 1 and prefix[0].gateway is None and prefix[0].interface == "pa0"
    assert prefix[0].family == socket.AF_INET6
    assert all(r.family == socket.AF_INET for r in a.routes(socket.AF_INET))
    assert set(a.routes()) == set(a.routes(socket.AF_INET)) | set(v6)
    a.add_route("2001:2:1::/48", gateway=ADDR6_B)
    a.add_route("default", gateway="2001:2::fe")
    r = a.route_lookup("2001:2:1::5")
    assert r.dst == ipaddress.IPv6Network("2001:2:1::/48") and r.gateway == ADDR6_B
    assert r.is_gateway and r.is_static and r.interface == "pa0"
    assert a.route_lookup("2001:2::9").gateway is None
    assert a.route_lookup("2001:2:9::1").dst == ipaddress.IPv6Network("::/0")
    a.del_route("2001:2:1::/48")
    a.del_route("default", family=socket.AF_INET6)
    with pytest.raises(OSError) as ei:
        a.route_lookup("2001:2:9::1")
    assert ei.value.errno == errno.ENETUNREACH
    # IPv4's default is still IPv4's.
    a.add_route("default", gateway="198.18.0.254")
    assert a.route_lookup("203.0.113.1").dst == ipaddress.IPv4Network("0.0.0.0/0")


@needs_inet6
def test_link_local_gateway_takes_its_zone(net6: PipeRig) -> None:
    net6.a.add_route("2001:2:1::/48", gateway="fe80::2%pa0")
    r = net6.a.route_lookup("2001:2:1::1")
    assert r.gateway == "fe80::2%pa0" and r.interface == "pa0"


@needs_inet6
def test_neighbor_cache(net6: PipeRig) -> None:
    a = net6.a
    a.nd6_add(net6.ia, "2001:2::50", "02:00:00:00:00:50")
    e = a.nd6_lookup("2001:2::50")
    assert e is not None
    assert e.address == "2001:2::50" and e.mac == "02:00:00:00:00:50"
    assert e.static and not e.is_router and e.expire_ns is None
    assert e.iface == "pa0" and e.interface == "pa0" and e.state in inet.ND6_STATES.values()
    assert "2001:2::50" in {x.address for x in a.nd6_table()}
    a.nd6_del("pa0", "2001:2::50")
    assert a.nd6_lookup("2001:2::50") is None
    with pytest.raises(ValueError):
        a.nd6_add("pa0", "2001:2::51", "02:00:00:00:00")


@needs_inet6
def test_netstat_has_ip6_and_icmp6(net6: PipeRig) -> None:
    stats = net6.a.netstat()
    assert "ip6" in stats and "icmp6" in stats
    assert "ip6s_total" in stats["ip6"] and "icp6s_inhist" in stats["icmp6"]
    assert "ip6:" in format_netstat(stats)


@needs_inet6
def test_udp6_socket_addresses(net6: PipeRig) -> None:
    with _socket6(net6.b, socket.SOCK_DGRAM) as s:
        assert s.family == socket.AF_INET6
        s.bind(("", 0))
        host, port, flowinfo, scope = s.getsockname()
        assert (host, flowinfo, scope) == ("::", 0, 0) and port > 0
        with pytest.raises(socket.gaierror) as ei:
            s.bind(("198.18.0.2", 0))
        assert ei.value.errno == socket.EAI_ADDRFAMILY


# --- ICMPv6 echo between two stacks (raw sockets, RFC 3542) -----------------


@needs_inet6
def test_stack_answers_an_icmp6_echo_frame(net6: PipeRig) -> None:
    """A hand-built echo request from A's interface to B's address: B's
    ICMPv6 answers it (RFC 4443 4.2) with a correct checksum and hop limit
    net.inet6.ip6.hlim (64); B's neighbor entry for A is static here, so no
    neighbor discovery is needed."""
    frames: list[bytes] = []
    net6.ia.set_capture_hook(lambda d, ts, f: frames.append(f) if d == ustack.CAPTURE_IN else None)
    net6.ia.set_input_hook(lambda f: True)  # A itself stays out of it
    net6.ia.send_frame(
        icmp6_echo_frame(net6.ib.mac_bytes, net6.ia.mac_bytes, ADDR6_A, ADDR6_B, 7, 3, b"hi6")
    )
    net6.run()
    replies = [f for f in frames if (h := parse_ipv6(f)) and h["nxt"] == 58 and f[54] == 129]
    if not replies:
        pytest.skip("no ICMPv6 echo in the C library yet")
    f = replies[0]
    h = parse_ipv6(f)
    assert h is not None and (h["src"], h["dst"], h["hlim"]) == (ADDR6_B, ADDR6_A, 64)
    msg = f[54 : 54 + int(h["plen"])]
    assert msg[4:] == struct.pack("!HH", 7, 3) + b"hi6"
    zeroed = msg[:2] + b"\0\0" + msg[4:]
    assert struct.unpack("!H", msg[2:4])[0] == icmp6_checksum(ADDR6_B, ADDR6_A, zeroed)
    icmp6 = net6.b.netstat("icmp6")["icmp6"]
    assert icmp6["icp6s_inhist"].get(128) == 1 and icmp6["icp6s_outhist"].get(129) == 1


def _socket6(st: ustack.Stack, kind: int, proto: int = 0) -> ustack.Socket:
    """An AF_INET6 socket; the test skips while the C side has none of that kind."""
    try:
        return st.socket(socket.AF_INET6, kind, proto)
    except OSError as exc:
        if exc.errno in (errno.EAFNOSUPPORT, errno.EPROTONOSUPPORT):
            pytest.skip(f"no AF_INET6 socket of type {kind} in the C library yet")
        raise


def _raw6(st: ustack.Stack) -> ustack.Socket:
    return _socket6(st, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)


@needs_inet6
def test_icmp6_echo_between_two_stacks(net6: PipeRig) -> None:
    with _raw6(net6.a) as s:
        s.settimeout(2.0)
        s.sendto(echo_request6(0x4242, 1, 24), (ADDR6_B, 0))
        for _ in range(10):  # skip what else arrives (ND, MLD)
            data, src = s.recvfrom(2048)
            got = parse6(data, 0x4242)
            if got.kind:
                break
        # No IPv6 header: data starts at the ICMPv6 header.
        assert data[0] == 129 and got.kind == "reply" and got.seq == 1
        assert got.length == 8 + 24 and got.ttl is None
        assert src == (ADDR6_B, 0, 0, 0)
    assert net6.b.netstat("icmp6")["icmp6"]["icp6s_outhist"].get(129, 0) >= 1


@needs_inet6
def test_icmp6_echo_to_a_link_local_address(net6: PipeRig) -> None:
    net6.ib.add_address("fe80::2/64", nodad=True)
    net6.a.nd6_add(net6.ia, "fe80::2%pa0", net6.ib.mac)
    net6.ia.add_address("fe80::1/64", nodad=True)  # a link-local source
    net6.b.nd6_add(net6.ib, "fe80::1%pb0", net6.ia.mac)
    with _raw6(net6.a) as s:
        s.settimeout(2.0)
        with pytest.raises(OSError) as ei:  # no zone: FreeBSD's EINVAL (no default zone)
            s.sendto(echo_request6(1, 1, 8), ("fe80::2", 0))
        assert ei.value.errno == errno.EINVAL
        s.sendto(echo_request6(1, 2, 8), ("fe80::2%pa0", 0))
        for _ in range(10):
            data, src = s.recvfrom(2048)
            if parse6(data, 1).kind == "reply":
                break
        assert src == ("fe80::2", 0, 0, net6.ia.index)


@needs_inet6
def test_ping_loop_ipv6(net6: PipeRig) -> None:
    lines: list[str] = []
    world = net6.a.world
    with _raw6(net6.a) as s:
        s.setblocking(False)
        stats = ping_loop(
            s,
            ADDR6_B,
            lambda done, t: world.wait(done, int(t * 1e9)),
            count=3,
            interval=1.0,
            timeout=1.0,
            size=56,
            ident=99,
            out=lines.append,
            clock=lambda: net6.a.now / 1e9,
        )
    assert (stats.transmitted, stats.received) == (3, 3)
    assert all(ln.startswith(f"64 bytes from {ADDR6_B}: icmp_seq=") for ln in lines)
    assert not any("ttl=" in ln for ln in lines)


def test_parse6_errors_quoting_our_request() -> None:
    req = echo_request6(5, 9, 8)
    ip6 = struct.pack("!IHBB16s16s", 6 << 28, len(req), 58, 64, bytes(16), bytes(16))
    unreach = struct.pack("!BBHI", 1, 3, 0, 0) + ip6 + req
    got = parse6(unreach, 5)
    assert (got.kind, got.seq) == ("error", 9) and "Address unreachable" in got.text
    ptb = struct.pack("!BBHI", 2, 0, 0, 1280) + ip6 + req
    assert parse6(ptb, 5).text == "Packet too big: mtu=1280"
    assert parse6(unreach, 6).kind == ""
    assert parse6(echo_request6(5, 1, 0), 5).kind == ""  # a request is not a reply


@needs_inet6
def test_resting_state_takes_ipv6_state(net6: PipeRig) -> None:
    state = net6.a._resting_state()
    assert isinstance(hash(state), int)
    net6.a.nd6_add("pa0", "2001:2::60", "02:00:00:00:00:60")
    assert net6.a._resting_state() != state


# --- TCP and UDP over IPv6 ------------------------------------------------------


@needs_inet6
def test_udp6_datagrams(net6: PipeRig) -> None:
    with _socket6(net6.b, socket.SOCK_DGRAM) as srv, _socket6(net6.a, socket.SOCK_DGRAM) as cli:
        srv.bind(("::", 7000))
        srv.settimeout(2.0)
        cli.sendto(b"over v6", (ADDR6_B, 7000))
        data, peer = srv.recvfrom(100)
        assert data == b"over v6"
        assert peer[0] == ADDR6_A and peer[2:] == (0, 0) and peer[1] == cli.getsockname()[1]
        srv.sendto(data.upper(), peer)
        cli.settimeout(2.0)
        assert cli.recvfrom(100) == (b"OVER V6", (ADDR6_B, 7000, 0, 0))


@needs_inet6
def test_tcp6_connection_and_table(net6: PipeRig) -> None:
    _socket6(net6.b, socket.SOCK_STREAM).close()  # skips without TCP over IPv6
    with net6.b.create_server(("::", 8080), family=socket.AF_INET6) as lsock:
        assert lsock.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY) == 1
        with net6.a.create_connection((ADDR6_B, 8080), timeout=5.0) as c:
            assert c.family == socket.AF_INET6
            s, peer = lsock.accept()
            with s:
                assert peer == c.getsockname() and s.getpeername() == peer
                assert c.getpeername() == (ADDR6_B, 8080, 0, 0)
                c.sendall(b"x" * 100_000)
                got = bytearray()
                while len(got) < 100_000:
                    got += s.recv(65536)
                assert bytes(got) == b"x" * 100_000
                rows = {
                    (r.local, r.remote, r.state_name, r.family) for r in net6.a.tcp_connections()
                }
                mine = ((ADDR6_A, peer[1]), (ADDR6_B, 8080), "ESTABLISHED")
                if not any(r[:3] == mine for r in rows):
                    pytest.skip("ust_tcp_pcblist gives no IPv6 addresses yet")
                assert (*mine, socket.AF_INET6) in rows
                net6.a.tcp_drop((ADDR6_A, peer[1]), (ADDR6_B, 8080))
                with pytest.raises(ConnectionAbortedError):
                    c.recv(10)


@needs_inet6
def test_tcp6_flow_label_is_one_per_flow(net6: PipeRig) -> None:
    """RFC 6437 3: every packet of a TCP flow carries the same nonzero flow
    label, each direction its own (the SYN or SYN-ACK, which come before the
    connection's cached label, included), and another connection another."""
    _socket6(net6.b, socket.SOCK_STREAM).close()  # skips without TCP over IPv6
    frames: list[bytes] = []
    net6.ib.set_capture_hook(lambda d, ts, f: frames.append(f))
    labels: dict[tuple[str, int, int], set[int]] = {}
    with net6.b.create_server(("::", 8081), family=socket.AF_INET6) as lsock:
        for _ in range(2):
            with net6.a.create_connection((ADDR6_B, 8081), timeout=5.0) as c:
                s, _peer = lsock.accept()
                with s:
                    c.sendall(b"y" * 20_000)
                    got = 0
                    while got < 20_000:
                        got += len(s.recv(65536))
                    s.sendall(b"z" * 5_000)
                    c.recv(65536)
    net6.run()
    for f in frames:
        h = parse_ipv6(f)
        if h is None or h["nxt"] != 6:
            continue
        sport, dport = struct.unpack_from("!HH", f, 54)
        labels.setdefault((str(h["src"]), sport, dport), set()).add(int(h["flowlabel"]))
    assert len(labels) == 4, labels  # two connections, two directions each
    assert all(len(v) == 1 and 0 not in v for v in labels.values()), labels
    assert len({next(iter(v)) for v in labels.values()}) == 4, labels


@needs_inet6
def test_socket_module_helpers_in_ipv6(net6: PipeRig) -> None:
    _socket6(net6.a, socket.SOCK_STREAM).close()  # skips without TCP over IPv6
    a, b = net6.a.socketpair(socket.AF_INET6)
    with a, b:
        assert a.family == b.family == socket.AF_INET6
        a.sendall(b"pair")
        assert b.recv(10) == b"pair"
    infos = net6.a.getaddrinfo(ADDR6_B, 9, 0, socket.SOCK_STREAM)
    assert [i[0] for i in infos] == [socket.AF_INET6]
    with net6.b.create_server(("", 9), family=socket.AF_INET6) as lsock:
        with net6.a.create_connection((ADDR6_B, 9), timeout=5.0) as c:
            assert c.family == socket.AF_INET6 and c.getpeername()[:2] == (ADDR6_B, 9)
            lsock.accept()[0].close()
    with pytest.raises(ValueError, match="requires AF_INET6"):
        net6.b.create_server(("", 10), dualstack_ipv6=True)


@needs_inet6
def test_icmp6_filter_keeps_what_it_passes(net6: PipeRig) -> None:
    with _raw6(net6.a) as s, _raw6(net6.b) as sb:
        sb.setsockopt(socket.IPPROTO_ICMPV6, ustack.ICMP6_FILTER, icmp6_filter(129))
        raw = sb.getsockopt(socket.IPPROTO_ICMPV6, ustack.ICMP6_FILTER, 32)
        assert raw == icmp6_filter(129)
        sb.setblocking(False)
        s.settimeout(2.0)
        s.sendto(echo_request6(3, 1, 8), (ADDR6_B, 0))
        while parse6(s.recvfrom(2048)[0], 3).kind != "reply":
            pass
        # B's raw socket saw A's echo request (128) go by only without the filter.
        with pytest.raises(BlockingIOError):
            sb.recvfrom(2048)
