"""Congestion control through the bindings: the string knobs
net.inet.tcp.cc.algorithm / net.inet.tcp.cc.available (FreeBSD's cc(4)
names, default cubic as FreeBSD 14) and TCP_CONGESTION per socket."""

from __future__ import annotations

import errno
import random

import pytest
from tcp_transfer import transfer

import ustack
from ustack import Socket, Stack, VirtualClock
from ustack.sim import ADDR_A, ADDR_B, PipeRig

PORT = 7100


def _connected(net: PipeRig) -> tuple[Socket, Socket, Socket]:
    srv = net.b.socket(ustack.AF_INET, ustack.SOCK_STREAM)
    srv.setsockopt(ustack.SOL_SOCKET, ustack.SO_REUSEADDR, 1)
    srv.bind(("", PORT))
    srv.listen(4)
    cli = net.a.socket(ustack.AF_INET, ustack.SOCK_STREAM)
    for s in (cli, srv):
        s.settimeout(10.0)
    cli.connect((ADDR_B, PORT))
    conn, peer = srv.accept()
    conn.settimeout(10.0)
    assert peer == (ADDR_A, cli.getsockname()[1])
    return cli, conn, srv


def _cc(sock: Socket) -> str:
    name = sock.getsockopt(ustack.IPPROTO_TCP, ustack.TCP_CONGESTION)
    assert isinstance(name, str)
    return name


def test_string_knobs_defaults(stack: Stack) -> None:
    assert stack.sysctl("net.inet.tcp.cc.algorithm") == "cubic"
    assert stack.sysctl("net.inet.tcp.cc.available") == "newreno, cubic"
    knobs = {k.name: k for k in ustack.sysctl_info("net.inet.tcp.cc")}
    assert set(knobs) == {"net.inet.tcp.cc.algorithm", "net.inet.tcp.cc.available"}
    algo, avail = knobs["net.inet.tcp.cc.algorithm"], knobs["net.inet.tcp.cc.available"]
    assert algo.string and algo.default == "cubic" and not algo.readonly
    assert avail.string and avail.default == "newreno, cubic" and avail.readonly
    assert not ustack.sysctl_info("net.inet.ip.ttl")[0].string
    values = stack.sysctls("net.inet.tcp.cc")
    assert values == {
        "net.inet.tcp.cc.algorithm": "cubic",
        "net.inet.tcp.cc.available": "newreno, cubic",
    }


def test_set_default_module(clock: VirtualClock) -> None:
    with Stack(clock=clock, seed=1) as a, Stack(clock=clock, seed=2) as b:
        assert a.sysctl("net.inet.tcp.cc.algorithm", "newreno") == "cubic"
        assert a.sysctl("net.inet.tcp.cc.algorithm") == "newreno"
        assert b.sysctl("net.inet.tcp.cc.algorithm") == "cubic"
        with a.socket(ustack.AF_INET, ustack.SOCK_STREAM) as s:
            assert _cc(s) == "newreno"
        with b.socket(ustack.AF_INET, ustack.SOCK_STREAM) as s:
            assert _cc(s) == "cubic"


def test_string_knob_errors(stack: Stack) -> None:
    with pytest.raises(FileNotFoundError):
        stack.sysctl("net.inet.tcp.cc.algorithm", "vegas")
    assert stack.sysctl("net.inet.tcp.cc.algorithm") == "cubic"
    with pytest.raises(PermissionError):
        stack.sysctl("net.inet.tcp.cc.available", "cubic")
    with pytest.raises(TypeError):
        stack.sysctl("net.inet.tcp.cc.algorithm", 1)
    with pytest.raises(TypeError):
        stack.sysctl("net.inet.ip.ttl", "64")  # type: ignore[call-overload]
    with pytest.raises(FileNotFoundError):
        stack.sysctl("net.inet.tcp.cc.nope")


def test_tcp_congestion_get_set_live(net: PipeRig) -> None:
    cli, conn, srv = _connected(net)
    available = net.a.sysctl("net.inet.tcp.cc.available")
    assert isinstance(available, str)
    assert _cc(cli) == "cubic" and _cc(conn) == "cubic"
    for name in available.split(", "):
        cli.setsockopt(ustack.IPPROTO_TCP, ustack.TCP_CONGESTION, name)
        assert _cc(cli) == name
        cli.sendall(name.encode() * 100)
        assert conn.recv(65536)
    cli.setsockopt(ustack.IPPROTO_TCP, ustack.TCP_CONGESTION, b"newreno\0")
    assert _cc(cli) == "newreno"
    with pytest.raises(FileNotFoundError):
        cli.setsockopt(ustack.IPPROTO_TCP, ustack.TCP_CONGESTION, "vegas")
    with pytest.raises(OSError) as ei:
        cli.setsockopt(ustack.IPPROTO_TCP, ustack.TCP_CONGESTION, "x" * 17)
    assert ei.value.errno == errno.EINVAL
    assert _cc(cli) == "newreno"
    raw = cli.getsockopt(ustack.IPPROTO_TCP, ustack.TCP_CONGESTION, 16)
    assert raw == b"newreno".ljust(16, b"\0")
    for s in (cli, conn, srv):
        s.close()


@pytest.mark.parametrize("algo", ["newreno", "cubic"])
def test_bulk_transfer_each_module(algo: str) -> None:
    faults = ustack.Faults(loss=0.01, delay_ns=2_000_000)
    with PipeRig(seed=5, addresses=True, a_to_b=faults, b_to_a=faults) as net:
        net.a.sysctl("net.inet.tcp.cc.algorithm", algo)
        cli, conn, srv = _connected(net)
        assert _cc(cli) == algo
        data = random.Random(5).randbytes(300_000)
        got = transfer(net, cli, conn, data, algo)
        assert bytes(got) == data
        info = cli.getsockopt(ustack.IPPROTO_TCP, ustack.TCP_INFO)
        assert info.tcpi_snd_cwnd > 0
        for s in (cli, conn, srv):
            s.close()


def test_accepted_connection_inherits_listener_module(net: PipeRig) -> None:
    # FreeBSD: a connection accepted from a listener with TCP_CONGESTION
    # set runs the listener's module, not the stack default (cubic).
    srv = net.b.socket(ustack.AF_INET, ustack.SOCK_STREAM)
    srv.bind(("", PORT + 1))
    srv.setsockopt(ustack.IPPROTO_TCP, ustack.TCP_CONGESTION, b"newreno")
    srv.listen(4)
    cli = net.a.socket(ustack.AF_INET, ustack.SOCK_STREAM)
    for s in (cli, srv):
        s.settimeout(10.0)
    cli.connect((ADDR_B, PORT + 1))
    conn, _ = srv.accept()
    assert _cc(conn) == "newreno"
    assert _cc(cli) == "cubic"
