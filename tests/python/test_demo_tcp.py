"""The TCP demo (``python -m ustack demo``): two stacks over a faulty pipe,
a TCP transfer checked by SHA-256 at both ends, throughput and tcpstat."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_demo(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT / "python_bindings") + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run(
        [sys.executable, "-m", "ustack", "demo", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def _hashes(out: str) -> tuple[str, str]:
    sent = re.search(r"SHA-256 sent by A:\s+([0-9a-f]{64})", out)
    got = re.search(r"SHA-256 received by B:\s+([0-9a-f]{64})", out)
    assert sent and got, out
    return sent.group(1), got.group(1)


def test_demo_tcp_default_faults_transfers_byte_exact() -> None:
    proc = run_demo("--bytes", "2M", "--no-pcap")
    assert proc.returncode == 0, proc.stderr + proc.stdout
    out = proc.stdout
    assert "TCP transfer of 2.0 MiB 198.18.0.1 -> 198.18.0.2:5001, seed 1" in out
    assert "loss 1.00%" in out and "delay 5 ms" in out and "rate 1 Gbit/s" in out
    assert "transferred 2097152 bytes" in out
    assert "virtual time" in out and "wall time" in out
    assert "retransmissions (A):" in out and "tcpstat" in out
    sent, got = _hashes(out)
    assert sent == got
    assert "match: B received exactly what A sent" in out
    # 1% loss over ~1450 data segments: some were retransmitted.
    m = re.search(r"retransmissions \(A\): (\d+) segments", out)
    assert m and int(m.group(1)) > 0
    # Not a terminal: plain progress lines, no carriage returns.
    assert "progress: 2.0 MiB of 2.0 MiB (100%)" in out and "\r" not in proc.stderr


def test_demo_tcp_replays_and_survives_heavy_faults(tmp_path: Path) -> None:
    args = ("--bytes", "2M", "--loss", "5", "--reorder", "2", "--dup", "1", "--corrupt", "1")
    first = run_demo(*args, "--seed", "9", "--pcap", str(tmp_path / "t.pcap"))
    assert first.returncode == 0, first.stderr + first.stdout
    again = run_demo(*args, "--seed", "9", "--no-pcap")
    assert again.returncode == 0, again.stderr
    assert _hashes(first.stdout) == _hashes(again.stdout)
    line = [ln for ln in first.stdout.splitlines() if ln.startswith("retransmissions")]
    assert line == [ln for ln in again.stdout.splitlines() if ln.startswith("retransmissions")]
    assert (tmp_path / "t.pcap").stat().st_size > 24


def test_demo_bytes_suffixes_and_bad_values() -> None:
    proc = run_demo("--bytes", "lots")
    assert proc.returncode == 2 and "size" in proc.stderr
    out = run_demo("--help").stdout
    for opt in ("--bytes", "--udp", "--frames", "--loss", "--delay", "--rate", "--seed"):
        assert opt in out


def test_demo_udp_mode_still_there() -> None:
    proc = run_demo("--udp", "--datagrams", "20", "--no-pcap")
    assert proc.returncode == 0, proc.stderr
    assert "UDP echo" in proc.stdout


def test_demo_sets_knobs_from_the_command_line() -> None:
    proc = run_demo("--bytes", "256K", "--no-pcap", "-o", "net.inet.tcp.delacktime=100")
    assert proc.returncode == 0, proc.stderr + proc.stdout
    bad = run_demo("--bytes", "256K", "--no-pcap", "-o", "net.inet.tcp.no_such_knob=1")
    assert bad.returncode != 0
    assert "net.inet.tcp.no_such_knob" in bad.stderr
