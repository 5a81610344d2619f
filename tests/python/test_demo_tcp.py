"""The TCP demo (``python -m ustack demo``): two stacks over a faulty pipe,
a TCP transfer checked by SHA-256 at both ends, throughput and tcpstat."""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ustack.commands import demo

ROOT = Path(__file__).resolve().parents[2]


def run_demo(*args: str, pythonpath: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    paths = [str(ROOT / "python_bindings"), env.get("PYTHONPATH", "")]
    if pythonpath is not None:
        paths.insert(0, str(pythonpath))
    env["PYTHONPATH"] = os.pathsep.join(paths)
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
    for opt in (
        "--bytes",
        "--udp",
        "--frames",
        "--loss",
        "--delay",
        "--rate",
        "--seed",
        "--cc",
        "--rtt",
        "--plot",
    ):
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


def _parse(*args: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    demo.add_arguments(parser)
    return parser.parse_args(list(args))


def test_demo_units_and_the_old_numeric_forms() -> None:
    new = _parse("--loss", "0.1%", "--delay", "500us", "--rate", "10M", "--jitter", "2ms")
    assert new.loss == pytest.approx(0.001) and new.delay == 500_000
    assert new.rate == 10_000_000 and new.jitter == 2_000_000
    assert _parse("--loss", "1/1000").loss == pytest.approx(0.001)
    assert _parse("--loss", "1%", "--rate", "1gbit").rate == 1_000_000_000
    # The old forms: a bare loss is percent, a bare delay milliseconds.
    old = _parse("--loss", "1", "--delay", "2.5", "--rate", "100mbit")
    assert old.loss == pytest.approx(0.01) and old.delay == 2_500_000
    assert old.rate == 100_000_000
    assert _parse("--rtt", "20ms", "--cc", "newreno").rtt == 20_000_000
    for bad in (["--loss", "lots"], ["--delay", "-1"], ["--delay", "5parsecs"], ["--rate", "1x"]):
        with pytest.raises(SystemExit):
            _parse(*bad)


def test_demo_cc_rtt_goodput_and_tcp_info() -> None:
    proc = run_demo(
        "--bytes", "1M", "--no-pcap", "--cc", "newreno", "--loss", "0.1%", "--rtt", "20ms",
        "--rate", "100mbit",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr + proc.stdout
    out = proc.stdout
    # --rtt 20ms is 10 ms each way.
    assert "loss 0.10%" in out and "delay 10 ms" in out and "rate 100 Mbit/s" in out
    m = re.search(r"transferred 1048576 bytes \(1.0 MiB\) in ([0-9.]+) s virtual time", out)
    assert m, out
    g = re.search(
        r"goodput ([0-9.]+) Mbit/s \(application bytes over virtual time\), cc newreno, "
        r"retransmitted (\d+) bytes",
        out,
    )
    assert g, out
    assert float(g.group(1)) == pytest.approx(1048576 * 8 / float(m.group(1)) / 1e6, rel=0.01)
    # The pipe's RTT bounds the smoothed RTT from below.
    info = re.search(r"TCP_INFO \(A, at the end\): \S+ cwnd (\d+) .* srtt ([0-9.]+) ms", out)
    assert info, out
    assert int(info.group(1)) > 0 and float(info.group(2)) >= 20.0


def test_demo_rejects_a_bad_cc_and_rtt_with_delay() -> None:
    bad = run_demo("--bytes", "64K", "--no-pcap", "--cc", "vegas")
    assert bad.returncode == 2
    assert "--cc vegas" in bad.stderr and "newreno" in bad.stderr and "cubic" in bad.stderr
    assert "transferred" not in bad.stdout
    both = run_demo("--rtt", "20ms", "--delay", "10ms")
    assert both.returncode == 2 and "not allowed with" in both.stderr
    udp = run_demo("--udp", "--cc", "cubic")
    assert udp.returncode == 2 and "TCP transfer only" in udp.stderr


def test_demo_plot_writes_a_png(tmp_path: Path) -> None:
    if importlib.util.find_spec("matplotlib") is None:
        if os.environ.get("USTACK_REQUIRE_ALL") == "1":
            pytest.fail("matplotlib is missing: pip install '.[plot]' (USTACK_REQUIRE_ALL=1)")
        pytest.skip("matplotlib is missing: pip install 'ustack[plot]'")
    png = tmp_path / "sub" / "cwnd.png"
    proc = run_demo(
        "--bytes", "2M", "--no-pcap", "--cc", "cubic", "--loss", "1%", "--rtt", "20ms",
        "--plot", str(png),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr + proc.stdout
    m = re.search(r"plot: (\S+) \(cwnd, ssthresh and srtt of A, (\d+) samples\)", proc.stdout)
    assert m and m.group(1) == str(png), proc.stdout
    assert int(m.group(2)) > 10
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 1000


def test_demo_plot_without_matplotlib_says_what_to_install(tmp_path: Path) -> None:
    # A matplotlib that cannot be imported, ahead of any real one.
    fake = tmp_path / "fake" / "matplotlib"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('no matplotlib here')\n")
    png = tmp_path / "cwnd.png"
    proc = run_demo("--bytes", "64K", "--no-pcap", "--plot", str(png), pythonpath=fake.parent)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "ustack demo: --plot needs matplotlib: pip install 'ustack[plot]'"
    ]
    assert not png.exists()
