"""TIME_WAIT as FreeBSD 14's tcp_twcheck, on the wire (tests/packetdrill/timewait):
old SYNs dropped silently, every non-duplicate segment with an ACK answered
(tcps_tw_responds, PSH-ACKs included), segments without timestamps dropped
when timestamps were agreed and net.inet.tcp.tolerate_missing_ts is 0, and a
SYN beyond RCV.NXT reusing the connection at once: the listener's SYN-ACK is
the only answer (tcps_tw_recycles)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ustack.packetdrill.parser import parse_file
from ustack.packetdrill.runner import ScriptRunner
from ustack.packetdrill.suite import LOCAL_IP, REMOTE_IP, run_script
from ustack.packetdrill.virtual import VirtualBackend

SCRIPTS = Path(__file__).resolve().parents[1] / "packetdrill" / "timewait"


def _run_with_counters(name: str) -> dict[str, int]:
    script = parse_file(SCRIPTS / name)
    be = VirtualBackend(local_ip=LOCAL_IP, remote_ip=REMOTE_IP, mtu=1500, seed=1, family=4)
    runner = ScriptRunner(script, be, None)
    try:
        runner.run()
        return {k: int(v) for k, v in be.stack.netstat("tcp")["tcp"].items()}
    finally:
        runner.close()
        be.close()


@pytest.mark.parametrize("script", sorted(p.name for p in SCRIPTS.glob("*.pkt")))
def test_timewait_scripts(script: str) -> None:
    r = run_script(SCRIPTS / script)
    assert r.status == "pass", r


def test_timewait_counters() -> None:
    c = _run_with_counters("syn-reuse-ipv4.pkt")
    # The PSH-ACK, the data and the SYN-ACK were answered; the old SYNs and
    # the exact duplicate ACK were not.
    assert c["tcps_tw_responds"] == 3, c
    assert c["tcps_tw_recycles"] == 1, c
    c = _run_with_counters("missing-ts-ipv4.pkt")
    assert c["tcps_tw_responds"] == 2, c
