"""What the tests that run the live CLI against the kernel share
(test_dpdk_interop.py, test_afxdp_interop.py): ``python -m ustack`` run
inside the test's namespace (not one of its own), its output shown on a
failure, the driver counters of its summary, the kernel's checksum errors."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from shutil import which

import pytest

from ustack import netns

ROOT = Path(__file__).resolve().parents[2]
ENV = {
    **os.environ,
    "PYTHONPATH": str(ROOT / "python_bindings"),
    netns.INSIDE_ENV: "1",  # the CLI runs in the test's namespace, not one of its own
}


def run_cli(ns: netns.NetNs, *argv: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """``python -m ustack ARGV`` inside ``ns``, output captured."""
    return subprocess.run(
        ns.exec_argv(sys.executable, "-m", "ustack", *argv),
        capture_output=True,
        text=True,
        env=ENV,
        timeout=timeout,
        check=False,
    )


def show(proc: subprocess.CompletedProcess[str]) -> str:
    """The status and the ends of both outputs, for an assertion message."""
    return (
        f"status {proc.returncode}\n--- stdout\n{proc.stdout[-4000:]}\n--- stderr\n"
        + (proc.stderr[-4000:])
    )


def driver_counters(proc: subprocess.CompletedProcess[str], driver: str) -> dict[str, int]:
    """The summary's ``(driver: N name, ...)`` counters; AssertionError
    unless frames went both ways on that driver."""
    text = proc.stdout + proc.stderr
    m = re.search(rf"(\d+) frames received, (\d+) frames sent \({driver}: ([^)]*)\)", text)
    assert m is not None and int(m.group(1)) > 0 and int(m.group(2)) > 0, show(proc)
    counters = {}
    for part in m.group(3).split(", "):
        value, _, name = part.partition(" ")
        counters[name] = int(value)
    return counters


def assert_no_csum_errors(proc: subprocess.CompletedProcess[str]) -> None:
    """``nstat -a`` in the run's output counted no checksum error."""
    for name in ("TcpInCsumErrors", "UdpInCsumErrors", "IcmpInCsumErrors"):
        bad = re.search(rf"{name}\s+(\d+)", proc.stdout)
        n = int(bad.group(1)) if bad else 0
        assert n == 0, f"the kernel counted {n} {name}\n{show(proc)}"


def missing_tools(tools: Sequence[str]) -> str | None:
    """Which of ``tools`` are not installed, as a skip reason, or None."""
    missing = [t for t in tools if which(t) is None]
    return f"{', '.join(missing)} not installed" if missing else None


def interop_marks(reason: str | None) -> list[pytest.MarkDecorator]:
    """``pytestmark`` of an interop module: skipped with ``reason`` when it
    is not None, except under USTACK_REQUIRE_ALL=1 (CI), where it fails."""
    return [
        pytest.mark.interop,
        pytest.mark.skipif(
            reason is not None and os.environ.get("USTACK_REQUIRE_ALL") != "1",
            reason=f"{reason}",
        ),
    ]
