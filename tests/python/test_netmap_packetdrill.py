"""The in-scope packetdrill conformance suite over emulated netmap pipe ports.

``ustack packetdrill --in-scope --backend netmap`` runs every script in
virtual time with the stack under test and its peer on the two ends of a
netmap pipe served by the user-space emulator (strict mode: a ring update
the real kernel would refuse is an error of the script) instead of the pipe
driver.  The netmap driver must not change a single verdict: every script
has the status it has on the default back end, and the pass count is the
same (561 of the in-scope scripts here).  A few seconds each.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ustack import netmap
from ustack.packetdrill.suite import IN_SCOPE_GROUPS, default_suite_dir, run_scripts

SUITE = default_suite_dir()
REQUIRE_ALL = os.environ.get("USTACK_REQUIRE_ALL") == "1"


def _reason() -> str | None:
    if not SUITE.is_dir():
        return f"FreeBSD's suite not found at {SUITE} (set USTACK_CONFORMANCE_DIR)"
    return netmap.emulator_unavailable_reason()


REASON = _reason()
pytestmark = pytest.mark.skipif(REASON is not None and not REQUIRE_ALL, reason=f"{REASON}")


def test_in_scope_suite_on_netmap_matches_the_default_back_end(tmp_path: Path) -> None:
    groups = [SUITE / g for g in IN_SCOPE_GROUPS]
    base = run_scripts(groups)
    out = tmp_path / "netmap.json"
    proc = subprocess.run(
        [sys.executable, "-m", "ustack", "packetdrill", "--in-scope", "--backend", "netmap"]
        + ["--quiet", "--json", str(out), str(SUITE)],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    data = json.loads(out.read_text())
    got = {r["path"]: r["status"] for r in data["results"]}
    want = {r.path: r.status for r in base.results}
    assert got.keys() == want.keys()
    differ = {p: (want[p], got[p]) for p in want if want[p] != got[p]}
    assert not differ, differ
    assert data["summary"]["pass"] == base.counts()["pass"] >= 561, data["summary"]
    errors = [r for r in data["results"] if r["status"] == "error"]
    assert not errors, errors[:3]
