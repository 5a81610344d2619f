"""ECN (RFC 3168) through the bindings: the pipe marks ECT frames CE instead of
dropping them, and two stacks with net.inet.tcp.ecn.enable slow down on the marks.
"""

from __future__ import annotations

import hashlib
import random

import pytest

import ustack
from ustack import Faults
from ustack.sim import ADDR_B, PipeRig

pytestmark = pytest.mark.sim

PORT = 7100


def _transfer(net: PipeRig, nbytes: int, seed: int) -> None:
    srv = net.b.socket(ustack.AF_INET, ustack.SOCK_STREAM)
    srv.bind(("", PORT))
    srv.listen(4)
    cli = net.a.socket(ustack.AF_INET, ustack.SOCK_STREAM)
    cli.settimeout(10.0)
    srv.settimeout(10.0)
    cli.connect((ADDR_B, PORT))
    conn, _ = srv.accept()
    data = random.Random(seed).randbytes(nbytes)
    got = net.stream(cli, conn, data, step_ns=1_000_000, timeout_ns=120 * 1_000_000_000)
    for s in (cli, conn, srv):
        s.close()
    assert hashlib.sha256(got).digest() == hashlib.sha256(data).digest(), f"seed {seed}"


def test_faults_ce_fields_are_validated() -> None:
    assert Faults(ce=0.25, ce_threshold=8).as_dict()["ce_threshold"] == 8
    with pytest.raises(ValueError, match="Faults.ce is a fraction"):
        Faults(ce=2.0)
    with pytest.raises(ValueError, match="ce_threshold"):
        Faults(ce_threshold=-1)


@pytest.mark.parametrize(("seed", "ecn"), [(5, True), (6, False)])
def test_ce_threshold_marks_ect_only(seed: int, ecn: bool) -> None:
    faults = Faults(delay_ns=2_000_000, rate_bps=10_000_000, ce_threshold=8)
    with PipeRig(seed=seed, addresses=True, a_to_b=faults, b_to_a=faults) as net:
        net.a.sysctl("net.inet.tcp.ecn.enable", 1 if ecn else 0)
        _transfer(net, 300_000, seed)
        pstats = net.pipe.stats("a_to_b")
        sender = net.a.netstat("tcp")["tcp"]
        receiver = net.b.netstat("tcp")["tcp"]
    assert pstats["lost"] == pstats["dropped_queue"] == 0, f"seed {seed}: {pstats}"
    assert sender["tcps_sndrexmitbyte"] == 0, f"seed {seed}: {sender}"
    if ecn:
        assert pstats["ce_marked"] > 0, f"seed {seed}: {pstats}"
        assert receiver["tcps_ecn_ce"] == pstats["ce_marked"], f"seed {seed}"
        assert sender["tcps_ecn_rcwnd"] > 0, f"seed {seed}: {sender}"
        assert sender["tcps_ecn_shs"] == receiver["tcps_ecn_shs"] == 1, f"seed {seed}"
    else:
        assert pstats["ce_marked"] == 0, f"seed {seed}: {pstats}"
        assert receiver["tcps_ecn_ect0"] == receiver["tcps_ecn_ce"] == 0, f"seed {seed}"
