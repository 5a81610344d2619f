"""PMTUD black-hole detection as FreeBSD has it (net.inet.tcp.pmtud_blackhole_detection,
tcp_timer.c): the retransmissions of a full-sized segment step the MSS down,
two at each stage, and bring it back when the last stage fails too; the
scripts in tests/packetdrill/pmtud pin the frames, this file the counters."""

from __future__ import annotations

from pathlib import Path

import pytest
from pd_counters import script_counters

from ustack.packetdrill.suite import run_script

SCRIPTS = Path(__file__).resolve().parents[1] / "packetdrill" / "pmtud"


@pytest.mark.parametrize("script", sorted(p.name for p in SCRIPTS.glob("*.pkt")))
def test_blackhole_scripts(script: str) -> None:
    r = run_script(SCRIPTS / script)
    assert r.status == "pass", r


@pytest.mark.parametrize(
    ("script", "family", "probe", "min_mss", "failed"),
    [
        ("blackhole-ipv4.pkt", 4, 1, 1, 1),
        ("blackhole-ipv6.pkt", 6, 0, 1, 1),
        ("blackhole-off-ipv4.pkt", 4, 0, 0, 0),
    ],
)
def test_blackhole_counters(
    script: str, family: int, probe: int, min_mss: int, failed: int
) -> None:
    c = script_counters(SCRIPTS / script, family)
    assert c["tcps_pmtud_blackhole_activated"] == probe, c
    assert c["tcps_pmtud_blackhole_activated_min_mss"] == min_mss, c
    assert c["tcps_pmtud_blackhole_failed"] == failed, c
