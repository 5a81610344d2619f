"""RFC 6675 2's duplicate ACK: an ACK with new SACK information counts even
when it changes the advertised window (found against Linux, whose receive
autotuning opens the window on every ACK while a hole is open:
test_interop_tcp20.py's lossy transfer with the default stack ended most of
its losses with a retransmission timeout).  The packet script of
tests/packetdrill/sack/ on the virtual back end."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ustack.netstat import read_counters
from ustack.packetdrill import virtual
from ustack.packetdrill.suite import run_script

SCRIPT = (
    Path(__file__).resolve().parents[1]
    / "packetdrill"
    / "sack"
    / ("sack-dupack-window-grows-ipv4.pkt")
)


def test_sack_dupacks_with_a_growing_window_start_recovery(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    counters: dict[str, Any] = {}
    close = virtual.VirtualBackend.close

    def closing(self: Any) -> None:
        counters.update(read_counters(self.stack._ptr(), "tcp"))
        close(self)

    monkeypatch.setattr(virtual.VirtualBackend, "close", closing)
    res = run_script(SCRIPT)
    assert res.status == "pass", f"{res.line}: {res.reason}"
    assert counters["tcps_sack_recovery_episode"] == 1, counters
    assert counters["tcps_rcvdupack"] == 3, counters
    assert counters["tcps_rexmttimeo"] == 0, counters
