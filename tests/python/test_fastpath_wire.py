"""Header prediction changes nothing on the wire (issue 19).

FreeBSD's conformance scripts of the groups where in-order data and ACKs
abound (rcv-data-segments: reordering, overlapping, delayed ACKs; snippets:
TCP_INFO asserts) run on the virtual back end with
``net.inet.tcp.header_prediction`` at 0 and at 1; every frame the stack
under test sends, with its time, must be the same script by script, and the
fast paths must have run (their counters moved) so the comparison proves
something.  The seeded faulty-pipe twin of this test is
tests/unit/netinet/test_tcp_fastpath.c (fastpath_wire_identical_seeded).
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from ustack.netstat import read_counters
from ustack.packetdrill import virtual
from ustack.packetdrill.runner import RunOptions
from ustack.packetdrill.suite import ScriptResult, default_suite_dir, run_scripts
from ustack.stack import CAPTURE_OUT

SUITE = default_suite_dir()
GROUPS = ("rcv-data-segments", "snippets")
KNOB = "net.inet.tcp.header_prediction"

pytestmark = pytest.mark.skipif(
    not SUITE.is_dir() and os.environ.get("USTACK_REQUIRE_ALL") != "1",
    reason=f"FreeBSD's suite not found at {SUITE} (set USTACK_CONFORMANCE_DIR)",
)


def _run(monkeypatch: pytest.MonkeyPatch, value: int) -> tuple[dict[str, Any], dict[str, int]]:
    """Runs GROUPS with the knob held at value: per script, its status and
    the frames it sent; and the prediction counters summed over the scripts."""
    frames: list[tuple[int, bytes]] = []
    pred = {"tcps_predack": 0, "tcps_preddat": 0}
    per: dict[str, Any] = {}
    captured = virtual.VirtualBackend._captured
    close = virtual.VirtualBackend.close

    def capture(self: Any, direction: int, ts_ns: int, frame: bytes) -> None:
        if direction == CAPTURE_OUT:
            frames.append((ts_ns, bytes(frame)))
        captured(self, direction, ts_ns, frame)

    def closing(self: Any) -> None:
        tcp = read_counters(self.stack._ptr(), "tcp")
        for name in pred:
            pred[name] += int(tcp[name])
        close(self)

    def done(_i: int, result: ScriptResult) -> None:
        per[f"{result.path} v{result.family}"] = (result.status, list(frames))
        frames.clear()

    monkeypatch.setattr(virtual.VirtualBackend, "_captured", capture)
    monkeypatch.setattr(virtual.VirtualBackend, "close", closing)
    run_scripts([SUITE / g for g in GROUPS], opts=RunOptions(forced={KNOB: value}), progress=done)
    monkeypatch.undo()
    return per, pred


def test_conformance_frames_identical_with_header_prediction_off_and_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    off, pred_off = _run(monkeypatch, 0)
    on, pred_on = _run(monkeypatch, 1)
    assert off.keys() == on.keys()
    assert len(off) > 200
    differ = [name for name in off if off[name] != on[name]]
    assert not differ, f"{len(differ)} scripts differ with {KNOB}=0/1, first: {differ[:5]}"
    # Not vacuous: both fast paths ran with the knob on, never with it off.
    assert pred_off == {"tcps_predack": 0, "tcps_preddat": 0}
    assert pred_on["tcps_predack"] > 0 and pred_on["tcps_preddat"] > 100, pred_on
    assert sum(len(f) for _, f in on.values()) > 1000
