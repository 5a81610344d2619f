"""bench/b_rr.py and bench/b_cost.py through bench/run.py --quick: every
figure is recorded, positive, and the rates agree with the latencies."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from bench_quick import run_quick

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("USTACK_BENCH_BUILD", ROOT / "build"))
PROGRAMS = ("rr_ustack", "rr_linux", "pkt_cost")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    missing = [p for p in PROGRAMS if not (BUILD / "bench" / p).exists()]
    if missing:
        pytest.skip(f"{', '.join(missing)} not built in {BUILD}/bench (cmake --build {BUILD})")
    return run_quick(tmp_path_factory.mktemp("bench"), "rr,cost", BUILD)


def _by(data: dict[str, Any], bench: str) -> dict[tuple[str, str], dict[str, Any]]:
    return {(r["case"], r["metric"]): r for r in data["results"] if r["bench"] == bench}


def test_rr_records(results: dict[str, Any]) -> None:
    recs = _by(results, "rr")
    linux = not any("no Linux figures" in n for n in results["notes"])
    for setting in ("same-core", "cross-core"):
        pp, crr = f"pingpong {setting}", f"crr {setting}"
        for key in (
            (pp, "round trips/s"),
            (pp, "p50 round trip"),
            (pp, "p99 round trip"),
            (crr, "connections/s"),
            (crr, "p50 connection"),
        ):
            rec = recs[key]
            assert rec["ustack"]["median"] > 0, key
            assert rec["ustack"]["runs"] >= 1
            if linux:
                assert rec["linux"]["median"] > 0 and rec["ratio"] > 0, key
        # p50 <= p99; and round trips on one connection are sequential, so
        # the mean (1 / rate) cannot be far below the median.
        assert (
            recs[(pp, "p50 round trip")]["ustack"]["median"]
            <= recs[(pp, "p99 round trip")]["ustack"]["median"]
        )
        assert (
            recs[(pp, "round trips/s")]["ustack"]["median"]
            < 2e6 / recs[(pp, "p50 round trip")]["ustack"]["median"]
        )
    same = recs[("pingpong same-core", "round trips/s")]
    assert same["goal"] and (same["goal_met"] is None) == (not linux)
    assert recs[("pingpong same-core", "p99 round trip")]["higher_is_better"] is False


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed")
def test_cost_records(results: dict[str, Any]) -> None:
    recs = _by(results, "cost")
    # received and sent, software checksum and offload, each with and
    # without the pipe driver's share (issue 19 item 7).
    assert len(recs) == 8
    for (case, _), rec in recs.items():
        per = rec["ustack"]["median"]
        # A segment cannot cost fewer instructions than touching its
        # headers, nor a whole millisecond of them.
        assert 100 < per < 1_000_000, case
        assert rec["higher_is_better"] is False
        params = rec["params"]
        assert params["segments"][1] > params["segments"][0]
        # Divided by the frames on the wire; without LRO or TSO in the
        # rig TCP counts the same segments.
        assert params["segments_counted"].startswith("wire frames")
        assert params["tcp_segments"][1] - params["tcp_segments"][0] > 0
        assert 0 < params["driver_per_segment"] < per, case
    # The goal (<= 1,500, issue 19) is judged with the driver's share in,
    # on both sides.
    for (case, _), rec in recs.items():
        if case.endswith("pipe driver excluded"):
            assert "goal_met" not in rec["params"] and not rec["goal"], case
        else:
            assert rec["params"]["goal_met"] == (rec["ustack"]["median"] <= 1500), case
    # Offload takes the checksum off the stack: never dearer.
    for side in ("received", "sent"):
        soft = recs[(f"{side}, software checksum", "instructions per segment")]
        off = recs[(f"{side}, checksum offload", "instructions per segment")]
        bare = recs[(f"{side}, checksum offload, pipe driver excluded", "instructions per segment")]
        assert bare["ustack"]["median"] < off["ustack"]["median"] < soft["ustack"]["median"]
        soft_bare = recs[
            (f"{side}, software checksum, pipe driver excluded", "instructions per segment")
        ]
        assert soft_bare["ustack"]["median"] < soft["ustack"]["median"]
        for rec in (off, soft):
            # The rows without the driver are the rows less its share.
            p = rec["params"]
            bare_rec = recs[(f"{rec['case']}, pipe driver excluded", "instructions per segment")]
            assert bare_rec["ustack"]["median"] == pytest.approx(
                rec["ustack"]["median"] - p["driver_per_segment"]
            )
