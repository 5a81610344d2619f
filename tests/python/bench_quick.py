"""Running ``bench/run.py --quick --only NAME`` from a test and reading its
results.json (the benchmark tests check structure, never timing)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def run_quick(out: Path, only: str, build: Path | None = None) -> dict[str, Any]:
    """The results of ``bench/run.py --quick --only only`` written to ``out``."""
    argv = [sys.executable, str(ROOT / "bench" / "run.py"), "--quick", "--only", only]
    if build is not None:
        argv += ["--build", str(build)]
    proc = subprocess.run(
        [*argv, "--out", str(out)], capture_output=True, text=True, timeout=300, check=False
    )
    assert proc.returncode == 0, proc.stderr
    data: dict[str, Any] = json.loads((out / "results.json").read_text())
    return data
