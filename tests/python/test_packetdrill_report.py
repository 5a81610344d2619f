"""The conformance report over a whole suite: per-family totals over every
script (skips count as not passed) as the headline, every failure listed
(FreeBSD's .exfail never hides one), the passing scripts FreeBSD itself
fails named, the JSON totals, and the --min-pass-all exit status.

A small suite is made in tmp_path: two groups with passing, failing and
skipped scripts in IPv4 and IPv6, and .exfail files beside a passing and a
failing script.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ustack.packetdrill.suite import Report, ScriptResult, freebsd_exfail, run_scripts

BODY = """--tolerance_usecs=10000

 0.00 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0.00 setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
+0.00 bind(3, ..., ...) = 0
+0.00 listen(3, 1) = 0
+0.00 < S  0:0(0) win 32767 <mss 1460,sackOK,eol,eol>
+0.00 > S. 0:0(0) ack 1 win {win} <mss {mss},sackOK,eol,eol>
+0.01 <  . 1:1(0) ack 1 win 32767
+0.00 accept(3, ..., ...) = 4
"""
PASS = BODY.format(win=65535, mss=1460)
PASS6 = BODY.format(win=65535, mss=1440)  # 1500 - 40 - 20
FAIL = BODY.format(win=1234, mss=1460)  # ustack offers 65535: fails at the SYN-ACK
SKIP = (
    "--tolerance_usecs=10000\n 0.00 `sysctl -w net.inet.tcp.no_such_knob=1`\n"  # unknown: skipped
)


def _script(root: Path, rel: str, text: str, family: int, exfail: str | None = None) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"--ip_version=ipv{family}\n" + text)
    if exfail is not None:
        path.with_suffix(".exfail").write_text(exfail)


@pytest.fixture
def suite(tmp_path: Path) -> Path:
    """alpha: IPv4 pass, pass, fail, skip; IPv6 pass, fail.  beta: IPv4 pass
    (.exfail), fail (.exfail), skip; IPv6 skip.  IPv4 3/7 pass, IPv6 1/3."""
    root = tmp_path / "suite"
    root.mkdir()
    (root / "run-tests.sh").write_text("#!/bin/sh\n")  # marks the suite root
    _script(root, "alpha/a-pass-ipv4.pkt", PASS, 4)
    _script(root, "alpha/sub/b-pass-ipv4.pkt", PASS, 4)
    _script(root, "alpha/c-fail-ipv4.pkt", FAIL, 4)
    _script(root, "alpha/d-skip-ipv4.pkt", SKIP, 4)
    _script(root, "alpha/a-pass-ipv6.pkt", PASS6, 6)
    _script(root, "alpha/c-fail-ipv6.pkt", FAIL, 6)
    _script(root, "beta/x-pass-ipv4.pkt", PASS, 4, exfail="Bug.\n")
    _script(root, "beta/y-fail-ipv4.pkt", FAIL, 4, exfail="Bug.\n")
    _script(root, "beta/z-skip-ipv4.pkt", SKIP, 4)
    _script(root, "beta/z-skip-ipv6.pkt", SKIP, 6)
    return root


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ustack", "packetdrill", "--quiet", *args],
        capture_output=True,
        text=True,
        check=False,
    )


def test_per_family_totals_over_all_scripts(suite: Path) -> None:
    report = run_scripts([suite])
    assert report.totals(4) == (3, 7)
    assert report.totals(6) == (1, 3)
    assert report.totals() == (4, 10)
    assert report.pass_rate(4) == pytest.approx(300 / 7)
    assert report.pass_rate(6) == pytest.approx(100 / 3)
    by_name = {Path(r.path).name: r for r in report.results}
    assert by_name["c-fail-ipv4.pkt"].status == "fail"
    assert by_name["d-skip-ipv4.pkt"].status == "unsupported"
    assert by_name["x-pass-ipv4.pkt"].freebsd_exfail == "Bug."
    assert by_name["a-pass-ipv4.pkt"].freebsd_exfail == ""
    # The groups are the folders below the suite root, subfolders included.
    assert {r.group for r in report.results} == {"alpha", "beta"}
    assert report.in_scope(4) == (0, 0)  # neither group is one of the six


def test_report_headline_failures_and_exfail(suite: Path) -> None:
    report = run_scripts([suite])
    text = report.format()
    lines = text.splitlines()
    assert "pass rate over all scripts, per family (skips count as not passed):" in lines
    assert "  IPv4  3/7  (42.9%)" in lines
    assert "  IPv6  1/3  (33.3%)" in lines
    # Every failure, one line each; FreeBSD's .exfail is a note, not an excuse.
    start = lines.index("failed (3):")
    failed = lines[start + 1 : start + 4]
    assert [x.split(":")[0] for x in failed] == [
        "  IPv4 alpha/c-fail-ipv4.pkt",
        "  IPv6 alpha/c-fail-ipv6.pkt",
        "  IPv4 beta/y-fail-ipv4.pkt",
    ]
    assert failed[2].endswith("[FreeBSD fails it too: .exfail 'Bug.']")
    assert "FreeBSD fails it too" not in failed[0]
    assert (
        "FreeBSD's expected failures (.exfail): 2 scripts, 1 pass here, 1 fail, 0 skipped" in lines
    )
    assert "  passes here, FreeBSD fails it: IPv4 beta/x-pass-ipv4.pkt" in lines
    assert lines[-1].startswith("4 passed, 3 failed, 3 skipped")
    data = json.loads(report.to_json())
    assert data["families"]["ipv4"]["passed"] == 3
    assert data["families"]["ipv4"]["total"] == 7
    assert data["families"]["ipv6"]["total"] == 3
    assert data["families"]["ipv6"]["pass_rate"] == pytest.approx(33.33)
    assert [Path(f["path"]).name for f in data["failures"]] == [
        "c-fail-ipv4.pkt",
        "c-fail-ipv6.pkt",
        "y-fail-ipv4.pkt",
    ]
    assert [Path(p).name for p in data["freebsd_exfail"]["pass"]] == ["x-pass-ipv4.pkt"]
    assert [Path(p).name for p in data["freebsd_exfail"]["fail"]] == ["y-fail-ipv4.pkt"]


def test_min_pass_all_threshold_sets_the_exit_status(tmp_path: Path, suite: Path) -> None:
    # Failures fail the run whatever the rate (and whatever FreeBSD expects).
    proc = _cli("--min-pass-all", "10", str(suite))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "IPv4 pass rate over all 7 scripts: 42.9% (required 10%)" in proc.stdout
    assert "IPv6 pass rate over all 3 scripts: 33.3% (required 10%)" in proc.stdout
    # Without failures the per-family floor decides: IPv4 3/5, IPv6 1/2.
    for p in suite.rglob("*fail*"):
        p.unlink()
    out = tmp_path / "r.json"
    assert _cli("--min-pass-all", "50", "--json", str(out), str(suite)).returncode == 0
    data = json.loads(out.read_text())
    assert (data["families"]["ipv4"]["passed"], data["families"]["ipv4"]["total"]) == (3, 5)
    assert (data["families"]["ipv6"]["passed"], data["families"]["ipv6"]["total"]) == (1, 2)
    proc = _cli("--min-pass-all", "60", str(suite))  # IPv4 60% passes, IPv6 50% does not
    assert proc.returncode == 1
    assert "IPv6 pass rate over all 2 scripts: 50.0% (required 60%)" in proc.stdout
    assert _cli("--min-pass-all", "60", "--family", "4", str(suite)).returncode == 0
    assert _cli(str(suite)).returncode == 0  # no floor asked


def test_exfail_note_of_a_missing_or_empty_file(tmp_path: Path) -> None:
    script = tmp_path / "s.pkt"
    script.write_text("")
    assert freebsd_exfail(script) == ""
    (tmp_path / "s.exfail").write_text("")
    assert freebsd_exfail(script) == "s.exfail exists"
    (tmp_path / "s.exfail").write_text("Bug.\nmore\n")
    assert freebsd_exfail(script) == "Bug."


def test_report_without_exfail_or_failures_has_no_such_sections() -> None:
    report = Report([ScriptResult("a.pkt", "g", "pass"), ScriptResult("b.pkt", "g", "pass")])
    text = report.format()
    assert "failed (" not in text and ".exfail" not in text
    assert "  IPv4  2/2  (100.0%)" in text.splitlines()


def test_force_takes_string_knobs(suite: Path) -> None:
    """--force holds a string knob too (every script on the rack stack), and a
    value the stack refuses is a usage error (exit 2), not a traceback."""
    ok = _cli(
        "--force", "net.inet.tcp.functions_default=rack", str(suite / "alpha" / "a-pass-ipv4.pkt")
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "1 passed" in ok.stdout
    bad = _cli("--force", "net.inet.tcp.functions_default=bogus", str(suite / "alpha"))
    assert bad.returncode == 2, bad.stdout + bad.stderr
    assert "functions_default=bogus" in bad.stderr and "Traceback" not in bad.stderr
