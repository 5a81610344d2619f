"""bench/b_rings.py through bench/run.py --only rings --quick: ustack over
AF_XDP, over TAP and Linux over veth are all measured in the one run, every
figure is positive, the goals are attached to the right pairs, and nothing
(namespace, process) is left behind.  Root and the AF_XDP driver needed; a
run without them must say why it skipped.  No speed is judged."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ustack import netns

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("USTACK_BENCH_BUILD", ROOT / "build"))
ENV = {**os.environ, "PYTHONPATH": str(ROOT / "python_bindings")}

pytestmark = pytest.mark.slow


def _run(out: Path) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--quick", "--only", "rings"]
        + ["--build", str(BUILD), "--out", str(out)],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data: dict[str, Any] = json.loads((out / "results.json").read_text())
    assert not data["failed"], data["notes"]
    return data


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    if not (BUILD / "bench" / "rings_peer").exists():
        pytest.skip(f"rings_peer not built in {BUILD}/bench (no AF_XDP driver in the build)")
    return _run(tmp_path_factory.mktemp("bench"))


def _skipped(data: dict[str, Any]) -> bool:
    return any(n.startswith("rings: skipped") for n in data["notes"])


def test_every_rig_is_measured(results: dict[str, Any]) -> None:
    if _skipped(results):
        assert os.geteuid() != 0 or netns.unavailable_reason(), results["notes"]
        pytest.skip(str(results["notes"]))
    recs = {r["case"]: r for r in results["results"] if r["bench"] == "rings"}
    for case in (
        "bulk 1 flow, kernel -> server: afxdp native vs tap",
        "bulk 1 flow, kernel -> server: afxdp native vs linux",
        "TCP RR 64 B, lockstep: afxdp native vs tap",
        "UDP RR 18 B, 32 in flight: afxdp native vs tap",
        "UDP RR 18 B, 32 in flight: afxdp native vs raw native",
        "raw AF_XDP native, 60-byte frames, rx (no stack)",
        "raw AF_XDP native, 60-byte frames, tx (no stack)",
    ):
        assert case in recs, sorted(recs)
        r = recs[case]
        assert r["ustack"]["median"] > 0, r
        if r["linux"] is not None:
            assert r["linux"]["median"] > 0 and r["ratio"] is not None, r
    # The goals sit on the pairs they name.
    assert recs["UDP RR 18 B, 32 in flight: afxdp native vs tap"]["goal"] == "AF_XDP ahead of TAP"
    raw = recs["UDP RR 18 B, 32 in flight: afxdp native vs raw native"]
    assert raw["goal"] == "within 10% of raw AF_XDP" and raw["goal_met"] is not None
    # A bulk of 8 MiB at under 10 Mbit/s or an RR under 100/s means a rig
    # that did not work (retransmission timeouts), not a slow machine.
    assert recs["bulk 1 flow, kernel -> server: afxdp native vs tap"]["ustack"]["median"] > 0.01
    assert recs["TCP RR 64 B, lockstep: afxdp native vs tap"]["ustack"]["median"] > 100


def test_nothing_left_behind(results: dict[str, Any]) -> None:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert "ustack-bench-rings" not in out, out
    procs = subprocess.run(["pgrep", "-f", "rings_peer"], capture_output=True, text=True)
    assert not procs.stdout.strip(), procs.stdout
