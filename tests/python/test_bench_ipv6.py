"""bench/b_ipv6.py through bench/run.py --quick --only ipv6, and the --family
option of the C programs it shares with b_bulk, b_rr and b_cost: IPv4 and
IPv6 figures side by side, the v6/v4 cost ratio judged against the 10% goal,
and no namespace left behind."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("USTACK_BENCH_BUILD", ROOT / "build"))
PROGRAMS = ("bulk_pipe", "rr_ustack", "rr_linux", "pkt_cost")
ENV = {**os.environ, "PYTHONPATH": str(ROOT / "python_bindings")}


def _prog(name: str) -> Path:
    path = BUILD / "bench" / name
    if not path.exists():
        pytest.skip(f"{path} is not built (cmake --build {BUILD})")
    return path


def _ustack6() -> bool:
    """Whether this build carries TCP over IPv6 between two stacks."""
    proc = subprocess.run(
        [str(_prog("rr_ustack")), "--pingpong", "10", "--family", "6"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return proc.returncode == 0


def _namespaces() -> set[str]:
    if shutil.which("ip") is None:
        return set()
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=False)
    return {ln.split()[0] for ln in out.stdout.splitlines() if ln.strip()}


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    for p in PROGRAMS:
        _prog(p)
    out = tmp_path_factory.mktemp("bench6")
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--quick", "--only", "ipv6"]
        + ["--build", str(BUILD), "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert "ipv6: side by side" in err
    # Its namespaces (ustack-<purpose>-<pid>-<n>, ustack.netns) are gone;
    # other work on the machine may have its own.
    left = [n for n in _namespaces() if f"-{proc.pid}-" in n]
    assert not left, f"b_ipv6 left {left} behind"
    data: dict[str, Any] = json.loads((out / "results.json").read_text())
    data["_md"] = (out / "results.md").read_text()
    return data


def test_family_option_parsing() -> None:
    for prog in ("bulk_pipe", "rr_ustack", "rr_linux"):
        proc = subprocess.run(
            [str(_prog(prog)), "--help"], capture_output=True, text=True, check=False
        )
        assert proc.returncode == 0 and "--family" in proc.stdout, prog
    proc = subprocess.run(
        [str(_prog("rr_ustack")), "--pingpong", "10", "--family", "5"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    proc = subprocess.run(
        [str(_prog("bulk_pipe")), "--family", "6", "--tso"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2  # no TSO over IPv6 on the pipe


def test_ipv4_is_unchanged_by_the_option() -> None:
    rr = subprocess.run(
        [str(_prog("rr_ustack")), "--pingpong", "200", "--family", "4"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    row = json.loads(rr.stdout.strip().splitlines()[-1])
    assert row["family"] == 4 and row["ops_per_s"] > 0
    bulk = subprocess.run(
        [str(_prog("bulk_pipe")), "--bytes", "8M", "--pin", "none"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert "family=4" in bulk.stdout and "gbit_per_s=" in bulk.stdout


def test_ustack_over_ipv6() -> None:
    if not _ustack6():
        pytest.skip("this build has no TCP over IPv6 yet")
    rr = subprocess.run(
        [str(_prog("rr_ustack")), "--crr", "100", "--family", "6"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert json.loads(rr.stdout.strip().splitlines()[-1])["family"] == 6
    bulk = subprocess.run(
        [str(_prog("bulk_pipe")), "--bytes", "8M", "--pin", "none", "--family", "6"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert "family=6" in bulk.stdout  # and every byte was checked


def _by(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["case"]: r for r in data["results"] if r["bench"] == "ipv6"}


@pytest.mark.slow
def test_quick_ipv6_records(results: dict[str, Any]) -> None:
    recs = _by(results)
    notes = results["notes"]
    v6 = not any("no ustack IPv6 figures" in n for n in notes)
    linux_rr = not any("no Linux request/response figures" in n for n in notes)
    fams = (4, 6) if v6 else (4,)
    for fam in fams:
        for case in (
            f"bulk mtu 1500, IPv{fam}: ustack segments vs Linux veth offloads off",
            f"pingpong same-core, IPv{fam}: ustack pipe vs Linux veth",
            f"crr same-core, IPv{fam}: ustack pipe vs Linux veth",
        ):
            rec = recs[case]
            assert rec["ustack"]["median"] > 0, case
            assert rec["params"]["family"] == fam
            if linux_rr and not case.startswith("bulk"):
                assert rec["linux"]["median"] > 0 and rec["ratio"] > 0, case
    if not v6:
        assert not any("IPv6" in c for c in recs)
    side = [n for n in notes if "side by side" in n]
    assert len(side) == 1 and "Linux v6" in side[0]
    assert "ustack v4" in results["_md"]


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed")
def test_quick_ipv6_cost(results: dict[str, Any]) -> None:
    recs = _by(results)
    for side in ("received", "sent"):
        v4 = recs[f"instructions per segment {side}, software checksum, IPv4"]
        assert 100 < v4["ustack"]["median"] < 1_000_000
        assert v4["params"]["mtu"] == 1500 and v4["params"]["segment_payload"] == 1460
        v6 = recs.get(f"instructions per segment {side}, software checksum, IPv6")
        if v6 is None:
            continue
        ratio = v6["params"]["v6_over_v4"]
        assert ratio == pytest.approx(v6["ustack"]["median"] / v4["ustack"]["median"])
        assert v6["params"]["mtu"] == 1520  # the same 1460-byte payload
        assert v6["goal_met"] == (ratio <= 1.10)
        if not v6["goal_met"]:
            assert any(f"IPv6 {side}" in n and "function" in n for n in results["notes"])
