"""The interop option matrix (interop_cases.py) between two ustack instances.

For every case and both roles: the options both ends report in TCP_INFO are
exactly the ones the RFCs' negotiation rules give, and 256 KB cross each way
intact over a pipe with 0.5% seeded loss and 10 ms of round trip, so that
recovery runs with the negotiated options.  The TAP interop tests run the
same cases against the Linux kernel.
"""

from __future__ import annotations

import hashlib
import random

import pytest
from interop_cases import CASES, OptionCase, expected_options

import ustack
from ustack import Faults, Socket
from ustack.sim import ADDR_B, PipeRig

PORT = 7100
SIZE = 256 * 1024
OPT_MASK = (
    ustack.TCPI_OPT_TIMESTAMPS | ustack.TCPI_OPT_SACK | ustack.TCPI_OPT_WSCALE | ustack.TCPI_OPT_ECN
)


def _exchange(net: PipeRig, a: Socket, b: Socket, seed: int) -> None:
    """Sends SIZE random bytes each way at once; asserts both arrive intact."""
    rng = random.Random(seed)
    out = {a: rng.randbytes(SIZE), b: rng.randbytes(SIZE)}
    left = {s: memoryview(d) for s, d in out.items()}
    got: dict[Socket, bytearray] = {a: bytearray(), b: bytearray()}
    peer = {a: b, b: a}
    deadline = net.a.now + 300 * 1_000_000_000
    for s in (a, b):
        s.setblocking(False)
    while any(len(got[s]) < SIZE for s in (a, b)):
        assert net.a.now < deadline, f"seed {seed}: stalled ({len(got[a])}, {len(got[b])})"
        progress = False
        for s in (a, b):
            if left[s]:
                try:
                    left[s] = left[s][s.send(left[s][:32768]) :]
                    progress = True
                except BlockingIOError:
                    pass
            try:
                chunk = s.recv(65536)
                got[s] += chunk
                progress = progress or bool(chunk)
            except BlockingIOError:
                pass
        if not progress:
            net.run(net.a.now + 5_000_000)
    for s in (a, b):
        want = hashlib.sha256(out[peer[s]]).hexdigest()
        assert hashlib.sha256(got[s]).hexdigest() == want, f"seed {seed}: data differs"


@pytest.mark.sim
@pytest.mark.parametrize("role", ["client", "server"])
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_option_case(case: OptionCase, role: str) -> None:
    seed = 11
    faults = Faults(loss=0.005, delay_ns=5_000_000)
    with PipeRig(seed=seed, addresses=True, a_to_b=faults, b_to_a=faults) as net:
        # A is the ustack under test, B plays the peer.
        for name, value in case.ustack.items():
            net.a.sysctl(name, value)
        for name, value in case.peer.items():
            net.b.sysctl(name, value)
        client_stack, server_stack = (net.a, net.b) if role == "client" else (net.b, net.a)
        srv = server_stack.socket(ustack.AF_INET, ustack.SOCK_STREAM)
        srv.bind(("", PORT))
        srv.listen(4)
        cli = client_stack.socket(ustack.AF_INET, ustack.SOCK_STREAM)
        if case.cc is not None and role == "client":
            cli.setsockopt(ustack.IPPROTO_TCP, ustack.TCP_CONGESTION, case.cc)
        elif case.cc is not None:
            srv.setsockopt(ustack.IPPROTO_TCP, ustack.TCP_CONGESTION, case.cc)
        for s in (cli, srv):
            s.settimeout(30.0)
        server_addr = ADDR_B if role == "client" else "198.18.0.1"
        cli.connect((server_addr, PORT))
        conn, _ = srv.accept()
        mine, theirs = (cli, conn) if role == "client" else (conn, cli)
        want = expected_options(case, ustack_is_client=role == "client", linux_peer=False)
        for s in (mine, theirs):
            opts = s.getsockopt(ustack.IPPROTO_TCP, ustack.TCP_INFO).tcpi_options & OPT_MASK
            assert opts == want, f"{case.name}/{role}: options {opts:#x}, expected {want:#x}"
        if case.cc is not None:
            assert mine.getsockopt(ustack.IPPROTO_TCP, ustack.TCP_CONGESTION) == case.cc
        _exchange(net, mine, theirs, seed)
        for s in (cli, conn, srv):
            s.close()


def test_expected_options_follow_the_rfcs() -> None:
    """The oracle itself: spot checks, so that a wrong rule cannot hide."""
    full = ustack.TCPI_OPT_TIMESTAMPS | ustack.TCPI_OPT_SACK | ustack.TCPI_OPT_WSCALE
    by_name = {c.name: c for c in CASES}
    assert expected_options(by_name["defaults"], ustack_is_client=True, linux_peer=True) == full
    ts_off = expected_options(by_name["peer-ts-off"], ustack_is_client=True, linux_peer=True)
    assert ts_off == ustack.TCPI_OPT_SACK | ustack.TCPI_OPT_WSCALE
    ecn = by_name["ustack-ecn-on"]
    assert expected_options(ecn, ustack_is_client=True, linux_peer=False) & ustack.TCPI_OPT_ECN
    # The server never asks for ECN (RFC 3168 6.1.1): ustack serving gets none.
    assert not expected_options(ecn, ustack_is_client=False, linux_peer=False) & (
        ustack.TCPI_OPT_ECN
    )
    refused = by_name["ecn-on-peer-refuses"]
    assert not expected_options(refused, ustack_is_client=True, linux_peer=True) & (
        ustack.TCPI_OPT_ECN
    )
    off = expected_options(by_name["ustack-rfc1323-off"], ustack_is_client=True, linux_peer=True)
    assert off == ustack.TCPI_OPT_SACK
