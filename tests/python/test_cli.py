"""The command line: python -m ustack."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SUBCOMMANDS = ["demo", "serve", "fetch", "stats", "sysctl", "version"]


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
        "--datagrams",
        "--max-size",
        "--retries",
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


def test_demo_udp_echo_verifies_and_shows_netstat(tmp_path: Path) -> None:
    pcap = tmp_path / "udp.pcap"
    args = ("demo", "--datagrams", "300", "--loss", "5", "--corrupt", "1", "--seed", "3")
    out = run_cli(*args, "--pcap", str(pcap)).stdout
    assert "198.18.0.1" in out and "198.18.0.2" in out
    assert "UDP echo" in out and "netstat -s" in out
    for phrase in ("packets reassembled ok", "fragments created", "datagrams output"):
        assert phrase in out, phrase
    damaged = [ln.split() for ln in out.splitlines() if ln.startswith("damaged")]
    assert damaged == [["damaged", "0"]], "seed 3"
    assert pcap.exists() and pcap.stat().st_size > 24
    again = run_cli(*args, "--no-pcap").stdout
    counts = [ln for ln in out.splitlines() if ln.startswith(("sent", "echoed", "lost"))]
    assert counts == [ln for ln in again.splitlines() if ln.startswith(("sent", "echoed", "lost"))]


def test_demo_udp_perfect_pipe_loses_nothing() -> None:
    out = run_cli("demo", "--datagrams", "50", "--no-pcap").stdout
    rows = dict(ln.split()[:2] for ln in out.splitlines() if ln.startswith(("echoed", "lost")))
    assert rows == {"echoed": "50", "lost": "0"}


def test_sysctl_lists_knobs_with_freebsd_defaults() -> None:
    out = run_cli("sysctl").stdout
    assert "net.inet.ip.ttl" in out and "net.inet.udp.recvspace" in out
    assert run_cli("sysctl", "-n", "net.inet.udp.recvspace").stdout.split() == ["42080"]
    names = run_cli("sysctl", "-N", "net.inet.udp").stdout.split()
    assert names and all(n.startswith("net.inet.udp.") for n in names)
    proc = run_cli("sysctl", "net.no.such", check=False)
    assert proc.returncode == 1 and "unknown oid" in proc.stderr


@pytest.mark.parametrize("name", ["serve", "fetch", "stats"])
def test_live_commands_explain_every_option(name: str) -> None:
    import argparse

    from ustack.__main__ import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    cmd = sub.choices[name]
    for action in cmd._actions:
        if action.option_strings and action.dest != "help":
            assert action.help and len(action.help) > 10, (name, action.option_strings)
    out = run_cli(name, "--help").stdout
    if name != "stats":
        assert "--pcap" in out and "--sysctl" in out


def test_serve_without_a_service_says_what_to_give() -> None:
    proc = run_cli("serve", check=False)
    assert proc.returncode == 2
    assert "--echo, --discard or --http" in proc.stderr


def test_stats_reports_a_missing_serve(tmp_path: Path) -> None:
    proc = run_cli("stats", "--control", str(tmp_path / "none.sock"), check=False)
    assert proc.returncode == 1
    assert "none.sock" in proc.stderr


def test_pattern_is_the_documented_formula() -> None:
    import hashlib

    from ustack import pattern

    n = 200_000
    want = bytes((i ^ i >> 8 ^ i >> 16) & 0xFF for i in range(n))
    assert pattern.pattern(n) == want
    assert pattern.sha256(n) == hashlib.sha256(want).hexdigest()
    off = (1 << 24) - 1000  # across the 16 MiB period
    assert pattern.pattern(3000, off) == bytes(
        (i ^ i >> 8 ^ i >> 16) & 0xFF for i in range(off, off + 3000)
    )
