"""TIME_WAIT as FreeBSD 14's tcp_twcheck, on the wire (tests/packetdrill/timewait):
old SYNs dropped silently, every non-duplicate segment with an ACK answered
(tcps_tw_responds, PSH-ACKs included), segments without timestamps dropped
when timestamps were agreed and net.inet.tcp.tolerate_missing_ts is 0, and a
SYN beyond RCV.NXT reusing the connection at once: the listener's SYN-ACK is
the only answer (tcps_tw_recycles)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pd_counters import script_counters

from ustack.packetdrill.suite import run_script

SCRIPTS = Path(__file__).resolve().parents[1] / "packetdrill" / "timewait"


@pytest.mark.parametrize("script", sorted(p.name for p in SCRIPTS.glob("*.pkt")))
def test_timewait_scripts(script: str) -> None:
    r = run_script(SCRIPTS / script)
    assert r.status == "pass", r


def test_timewait_counters() -> None:
    c = script_counters(SCRIPTS / "syn-reuse-ipv4.pkt")
    # The PSH-ACK, the data and the SYN-ACK were answered; the old SYNs and
    # the exact duplicate ACK were not.
    assert c["tcps_tw_responds"] == 3, c
    assert c["tcps_tw_recycles"] == 1, c
    c = script_counters(SCRIPTS / "missing-ts-ipv4.pkt")
    assert c["tcps_tw_responds"] == 2, c
