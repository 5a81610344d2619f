"""The five example tests of examples/python/ (zero-window probe, SACK
recovery, RFC 5961 challenge ACK, PMTU black hole, SYN flood with cookies)
run as a test engineer runs them: a separate pytest with the plugin
(``-p ustack.testing``), each file on its own.  Every test in a file must
pass, none may be skipped, and the plugin must have written no pcap (it
writes one only for a failing test)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "python"
NAMES = [
    "test_zero_window_probe.py",
    "test_sack_recovery.py",
    "test_challenge_ack.py",
    "test_pmtu_blackhole.py",
    "test_syn_flood_cookies.py",
]


def pytest_env() -> dict[str, str]:
    """The environment of a child pytest: this checkout's package first."""
    env = dict(os.environ)
    paths = [str(ROOT / "python_bindings"), env.get("PYTHONPATH", "")]
    env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    env.pop("PYTEST_ADDOPTS", None)
    return env


def run_pytest(
    args: list[str], cwd: Path, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """``python -m pytest -p ustack.testing ARGS`` in ``cwd``."""
    cmd = [sys.executable, "-m", "pytest", "-p", "ustack.testing", "-p", "no:cacheprovider"]
    return subprocess.run(
        [*cmd, *args],
        cwd=cwd,
        env=pytest_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_every_example_is_listed() -> None:
    assert sorted(p.name for p in EXAMPLES.glob("test_*.py")) == sorted(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_example_passes(name: str, tmp_path: Path) -> None:
    path = EXAMPLES / name
    source = path.read_text()
    # A short readable test citing its RFC: the module docstring says so.
    doc = source.split('"""')[1]
    assert re.search(r"RFC \d{3,4}", doc), f"{name}: the docstring cites no RFC"
    pcaps = tmp_path / "pcaps"
    proc = run_pytest(
        [
            "-q",
            "-rs",
            f"--ustack-pcap-dir={pcaps}",
            "--ustack-seed=1",  # CI replays; the examples pass for any seed
            str(path),
        ],
        cwd=tmp_path,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    m = re.search(r"(\d+) passed", out)
    assert m and int(m.group(1)) >= 1, out
    assert not re.search(r"\d+ (skipped|failed|error|xfailed|xpassed)", out), out
    # The plugin writes a pcap only for a failing test.
    assert not list(pcaps.glob("**/*.pcap*")), out
