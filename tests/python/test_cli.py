"""The command line: python -m ustack."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SUBCOMMANDS = ["demo", "version"]


def run_cli(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    proc = subprocess.run(
        [sys.executable, "-m", "ustack", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    if check:
        assert proc.returncode == 0, f"ustack {' '.join(args)}: {proc.stderr}\n{proc.stdout}"
    return proc


def test_top_level_help() -> None:
    out = run_cli("--help").stdout
    for name in SUBCOMMANDS:
        assert name in out


@pytest.mark.parametrize("name", SUBCOMMANDS)
def test_subcommand_help(name: str) -> None:
    out = run_cli(name, "--help").stdout
    assert out.startswith("usage: ustack " + name)


def test_demo_help_explains_every_option() -> None:
    out = run_cli("demo", "--help").stdout
    for opt in (
        "--frames",
        "--loss",
        "--dup",
        "--reorder",
        "--corrupt",
        "--delay",
        "--rate",
        "--seed",
        "--pcap",
    ):
        assert opt in out


def test_version() -> None:
    out = run_cli("version").stdout
    assert "libustack 0." in out


def test_demo_runs_and_writes_pcap(tmp_path: Path) -> None:
    pcap = tmp_path / "demo.pcap"
    proc = run_cli("demo", "--frames", "2000", "--loss", "5", "--seed", "7", "--pcap", str(pcap))
    out = proc.stdout
    assert "pipe (per direction)" in out and "memory zones" in out
    assert str(pcap) in out
    assert pcap.exists() and pcap.stat().st_size > 24
    # Same seed, same output counters.
    again = run_cli("demo", "--frames", "2000", "--loss", "5", "--seed", "7", "--no-pcap").stdout
    lost = [ln for ln in out.splitlines() if ln.startswith("lost")]
    assert lost and lost == [ln for ln in again.splitlines() if ln.startswith("lost")], "seed 7"


def test_demo_rejects_bad_rate() -> None:
    proc = run_cli("demo", "--rate", "fast", check=False)
    assert proc.returncode == 2
    assert "rate" in proc.stderr


def test_no_subcommand_prints_help() -> None:
    proc = run_cli(check=False)
    assert proc.returncode == 2
    assert "SUBCOMMAND" in proc.stdout
