"""Knobs under FreeBSD's sysctl names, with FreeBSD's defaults."""

from __future__ import annotations

import errno

import pytest

import ustack
from ustack import Stack, VirtualClock
from ustack.sim import ADDR_B, PipeRig, parse_ipv4

# FreeBSD's defaults (FREEBSD_DEFAULTS.md and a FreeBSD sysctl dump).
FREEBSD_DEFAULTS = {
    "net.inet.ip.ttl": 64,
    "net.inet.ip.portrange.first": 10000,
    "net.inet.ip.portrange.last": 65535,
    "net.inet.ip.portrange.randomized": 1,
    "net.inet.icmp.icmplim": 200,
    "net.inet.icmp.bmcastecho": 0,
    "net.inet.udp.checksum": 1,
    "net.inet.udp.recvspace": 42080,
    "net.inet.udp.maxdgram": 9216,
    "net.inet.udp.blackhole": 0,
    "net.link.ether.inet.max_age": 1200,
    "net.link.ether.inet.maxtries": 5,
    "kern.ipc.maxsockbuf": 2097152,
    "kern.ipc.somaxconn": 128,
}


def test_freebsd_defaults(stack: Stack) -> None:
    for name, value in FREEBSD_DEFAULTS.items():
        assert stack.sysctl(name) == value, name


def test_registry_matches_a_fresh_stack(stack: Stack) -> None:
    knobs = ustack.sysctl_info()
    assert len(knobs) >= len(FREEBSD_DEFAULTS)
    assert len({k.name for k in knobs}) == len(knobs)
    values = stack.sysctls()
    assert list(values) == [k.name for k in knobs]
    for k in knobs:
        if not k.string:
            assert isinstance(k.default, int) and k.min <= k.default <= k.max, k.name
        assert k.description, k.name
        assert values[k.name] == k.default, k.name
    udp = ustack.sysctl_info("net.inet.udp")
    assert udp and all(k.name.startswith("net.inet.udp.") for k in udp)
    assert set(stack.sysctls("net.inet.udp")) == {k.name for k in udp}


def test_set_returns_old_value_and_is_per_stack(clock: VirtualClock) -> None:
    with Stack(clock=clock, seed=1) as a, Stack(clock=clock, seed=2) as b:
        assert a.sysctl("net.inet.ip.ttl", 32) == 64
        assert a.sysctl("net.inet.ip.ttl") == 32
        assert b.sysctl("net.inet.ip.ttl") == 64


def test_bad_names_and_values(stack: Stack) -> None:
    with pytest.raises(FileNotFoundError) as ei:
        stack.sysctl("net.inet.ip.no_such_knob")
    assert isinstance(ei.value, ustack.Error) and ei.value.errno == errno.ENOENT
    for bad in (0, 256, -1):
        with pytest.raises(OSError) as ei2:
            stack.sysctl("net.inet.ip.ttl", bad)
        assert ei2.value.errno == errno.EINVAL, bad
    with pytest.raises(OSError):
        stack.sysctl("net.inet.ip.ttl", 1 << 70)
    with pytest.raises(TypeError):
        stack.sysctl("net.inet.ip.ttl", "64")  # type: ignore[call-overload]
    assert stack.sysctl("net.inet.ip.ttl") == 64


def test_ttl_knob_reaches_the_wire(net: PipeRig) -> None:
    ttls: list[object] = []

    def tap(direction: int, ts: int, frame: bytes) -> None:
        hdr = parse_ipv4(frame)
        if hdr is not None and hdr["proto"] == 17:
            ttls.append(hdr["ttl"])

    net.ib.set_capture_hook(tap)
    net.a.sysctl("net.inet.ip.ttl", 7)
    server = net.b.socket(ustack.AF_INET, ustack.SOCK_DGRAM)
    server.bind(("", 5000))
    net.a.socket(ustack.AF_INET, ustack.SOCK_DGRAM).sendto(b"x", (ADDR_B, 5000))
    assert server.recv(10) == b"x"
    assert ttls == [7]


def test_buffer_knobs_set_new_sockets_defaults(net: PipeRig) -> None:
    net.a.sysctl("net.inet.udp.recvspace", 100_000)
    net.a.sysctl("net.inet.udp.maxdgram", 1000)
    s = net.a.socket(ustack.AF_INET, ustack.SOCK_DGRAM)
    assert s.getsockopt(ustack.SOL_SOCKET, ustack.SO_RCVBUF) == 100_000
    assert s.getsockopt(ustack.SOL_SOCKET, ustack.SO_SNDBUF) == 1000
    with pytest.raises(OSError) as ei:
        s.sendto(bytes(1001), (ADDR_B, 5000))
    assert ei.value.errno == errno.EMSGSIZE


def test_udp_blackhole_silences_port_unreachable(net: PipeRig) -> None:
    net.b.sysctl("net.inet.udp.blackhole", 1)
    net.a.socket(ustack.AF_INET, ustack.SOCK_DGRAM).sendto(b"x", (ADDR_B, 9))
    net.run()
    assert net.b.netstat("udp")["udp"]["udps_noport"] == 1
    assert net.b.netstat("icmp")["icmp"]["icps_outhist"] == {}
