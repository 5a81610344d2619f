"""bench/b_pyrr.py through bench/run.py --quick: every row is recorded with
positive figures, the stdlib row when namespaces are in reach, the goal on
the blocking virtual-clock row only, and the fast path was taken (timing
itself is never asserted)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from bench_quick import run_quick

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow

CASES = (
    "blocking, virtual clock (PipeRig)",
    "blocking, real clock (PipeRig)",
    "blocking, virtual clock, software checksums",
    "non-blocking, manual polls (virtual clock)",
)


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return run_quick(tmp_path_factory.mktemp("bench"), "pyrr")


def test_pyrr_records(results: dict[str, Any]) -> None:
    assert not results["failed"], results["notes"]
    recs = {r["case"]: r for r in results["results"] if r["bench"] == "pyrr"}
    assert set(recs) == set(CASES)
    stdlib = not any("no stdlib figures" in n for n in results["notes"])
    for case, rec in recs.items():
        assert rec["metric"] == "round trip" and rec["unit"] == "us"
        assert rec["higher_is_better"] is False
        u = rec["ustack"]
        assert u["runs"] == 3 and 0 < u["min"] <= u["median"] <= u["max"], case
        p = rec["params"]
        assert p["count"] == 5000 and p["message_bytes"] == 1 and p["chunks"] >= 1
        if stdlib:
            k = rec["linux"]
            assert k is not None and k["median"] > 0, case
            # ratio: stdlib/ustack; params: ustack/stdlib, its inverse.
            assert rec["ratio"] == pytest.approx(k["median"] / u["median"])
            assert p["ustack_over_stdlib"] == pytest.approx(1 / rec["ratio"])
        else:
            assert rec["linux"] is None and rec["ratio"] is None
    goal = recs[CASES[0]]
    assert goal["goal"] == "ustack blocking <= 0.5x stdlib"
    assert (goal["goal_met"] is None) == (not stdlib)
    if stdlib:
        assert goal["goal_met"] == (goal["ratio"] >= 2.0)
    assert all(not recs[c]["goal"] for c in CASES[1:])
    # The blocking rows waited in C: 2 waits per round trip (each recv) at
    # least, over 3 runs of 3 blocking rows of 5,000 round trips (+ warm-up).
    assert goal["params"]["fast_waits"] >= 3 * 3 * 2 * 5000
