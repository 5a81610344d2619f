"""IPv6 checksum and TSO offload (ustack_driver.h: UST_IFCAP_TXCSUM_IPV6,
UST_IFCAP_TSO6, UST_CSUM_IP6_*) between two stacks over the pipe, and ECN CE
marking of the IPv6 Traffic Class by the fault injector.
"""

from __future__ import annotations

import hashlib
import random

import pytest

import ustack
from ustack import Faults
from ustack.pipe import PIPE_TSO6_CAPS, PIPE_TSO_CAPS, Pipe
from ustack.sim import ADDR6_B, ADDR_B, PipeRig

pytestmark = [
    pytest.mark.sim,
    pytest.mark.skipif(not ustack.UST_HAS_INET6, reason="built with UST_INET6=0"),
]

CSUM6 = int(ustack.lib.UST_IFCAP_RXCSUM | ustack.lib.UST_IFCAP_TXCSUM_IPV6)
# tcp_output asks for TSO over IPv6 (tcp_tso_maxlen with UST_IFCAP_TSO6):
# the branch offload6-tcp (tcp_output.c/tcp_subr.c) turns this on.
TCP_ASKS_TSO6 = True


def _transfer(net: PipeRig, family: int, addr: str, data: bytes, port: int) -> bytes:
    srv = net.b.socket(family, ustack.SOCK_STREAM)
    srv.bind(("", port))
    srv.listen(1)
    cli = net.a.socket(family, ustack.SOCK_STREAM)
    cli.settimeout(10.0)
    srv.settimeout(10.0)
    cli.connect((addr, port))
    conn, _ = srv.accept()
    got = net.stream(cli, conn, data, step_ns=1_000_000, timeout_ns=120 * 1_000_000_000)
    for s in (cli, conn, srv):
        s.close()
    return got


def test_tso6_caps_need_checksum_offload_and_lro() -> None:
    with pytest.raises(ustack.Error):
        Pipe(caps=int(ustack.lib.UST_IFCAP_TSO6))
    with pytest.raises(ustack.Error):
        Pipe(caps=int(ustack.lib.UST_IFCAP_TSO6 | ustack.lib.UST_IFCAP_TXCSUM_IPV6))
    Pipe(caps=PIPE_TSO6_CAPS, ring_size=8).close()
    Pipe(caps=PIPE_TSO6_CAPS | PIPE_TSO_CAPS, ring_size=8).close()


@pytest.mark.parametrize("caps", [0, CSUM6, PIPE_TSO6_CAPS, PIPE_TSO6_CAPS | PIPE_TSO_CAPS])
def test_tcp6_bulk_with_offload_is_byte_exact(caps: int) -> None:
    data = random.Random(caps).randbytes(1 << 20)
    with PipeRig(seed=11, addresses6=True, caps=caps, ring_size=256) as net:
        assert net.ia.caps == caps
        got = _transfer(net, ustack.AF_INET6, ADDR6_B, data, 7300)
        st = net.pipe.stats("a_to_b")
        tcp_b = net.b.netstat("tcp")["tcp"]
    assert hashlib.sha256(got).digest() == hashlib.sha256(data).digest()
    assert st["dropped_mtu"] == st["lost"] == 0, st
    # The receiver verified every checksum it had to (none bad).
    assert tcp_b["tcps_rcvbadsum"] == 0, tcp_b
    if TCP_ASKS_TSO6 and caps & ustack.lib.UST_IFCAP_TSO6:
        # Whole TSO6 packets crossed: far more than one 1514-byte frame each.
        assert st["delivered_bytes"] > 4 * 1514 * st["delivered"], st
    else:
        assert st["delivered_bytes"] <= 1514 * st["delivered"], st


def test_tso6_and_tso4_together_leave_ipv4_alone() -> None:
    """Both families on one pipe with every cap: IPv4 bulk still byte-exact."""
    data = random.Random(4).randbytes(1 << 19)
    caps = PIPE_TSO6_CAPS | PIPE_TSO_CAPS
    with PipeRig(seed=12, addresses=True, addresses6=True, caps=caps, ring_size=256) as net:
        got4 = _transfer(net, ustack.AF_INET, ADDR_B, data, 7301)
        got6 = _transfer(net, ustack.AF_INET6, ADDR6_B, data, 7302)
        st = net.pipe.stats("a_to_b")
    assert got4 == data and got6 == data
    assert st["dropped_mtu"] == 0, st


@pytest.mark.parametrize("caps", [0, CSUM6])
def test_udp6_checksum_offload(caps: int) -> None:
    with PipeRig(seed=13, addresses6=True, caps=caps) as net:
        rx = net.b.socket(ustack.AF_INET6, ustack.SOCK_DGRAM)
        rx.bind(("", 7303))
        tx = net.a.socket(ustack.AF_INET6, ustack.SOCK_DGRAM)
        rx.settimeout(0)
        sent = [bytes([i]) * (100 + 37 * i) for i in range(20)]
        got = []
        for payload in sent:  # one at a time: the first waits for ND
            tx.sendto(payload, (ADDR6_B, 7303))
            net.run(50_000_000)
            got.append(rx.recvfrom(4096)[0])
        udp_b = net.b.netstat("udp")["udp"]
        for s in (rx, tx):
            s.close()
    assert got == sent
    assert udp_b["udps_badsum"] == 0, udp_b


@pytest.mark.parametrize(("seed", "caps"), [(5, 0), (6, PIPE_TSO6_CAPS)])
def test_ce_marks_ipv6_traffic_class(seed: int, caps: int) -> None:
    # A queue threshold in frames for MSS-sized segments; TSO6 frames are
    # few and large, so those are marked at random instead.
    if caps:
        faults = Faults(delay_ns=2_000_000, ce=0.25)
    else:
        faults = Faults(delay_ns=2_000_000, rate_bps=10_000_000, ce_threshold=8)
    data = random.Random(seed).randbytes(300_000)
    with PipeRig(
        seed=seed, addresses6=True, caps=caps, ring_size=256, a_to_b=faults, b_to_a=faults
    ) as net:
        net.a.sysctl("net.inet.tcp.ecn.enable", 1)
        got = _transfer(net, ustack.AF_INET6, ADDR6_B, data, 7304)
        pstats = net.pipe.stats("a_to_b")
        sender = net.a.netstat("tcp")["tcp"]
        receiver = net.b.netstat("tcp")["tcp"]
    assert got == data
    assert pstats["ce_marked"] > 0, f"seed {seed}: {pstats}"
    assert receiver["tcps_ecn_ce"] == pstats["ce_marked"], f"seed {seed}"
    assert sender["tcps_ecn_rcwnd"] > 0, f"seed {seed}: {sender}"
    assert receiver["tcps_rcvbadsum"] == 0, receiver
