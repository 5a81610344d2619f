"""The packetdrill runner: it passes what ustack does, fails what it does not.

Small scripts written here check each part of the runner (matching, timing,
syscalls, commands, TCP_INFO blocks, unsupported constructs); the self-test
runs scripts of FreeBSD's suite that pass, then again against deliberately
wrong configurations (a wrong window, a missing option, a wrong answer to a
segment for a closed port), which must fail at the right line.  A runner that
cannot fail proves nothing.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ustack.packetdrill.runner import RunOptions
from ustack.packetdrill.suite import ScriptResult, default_suite_dir, run_script, run_scripts
from ustack.packetdrill.wire import Segment, fragment, parse_frame

SUITE = default_suite_dir()
need_suite = pytest.mark.skipif(
    not SUITE.is_dir() and os.environ.get("USTACK_REQUIRE_ALL") != "1",
    reason=f"FreeBSD's suite not found at {SUITE} (set USTACK_CONFORMANCE_DIR)",
)

HEADER = """--ip_version=ipv4
--tolerance_usecs=10000
"""
# A listener, FreeBSD's passive open and an accept (as the suite's scripts do).
PASSIVE = (
    HEADER
    + """
 0.00 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0.00 setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
+0.00 bind(3, ..., ...) = 0
+0.00 listen(3, 1) = 0
+0.00 < S  0:0(0) win 32767 <mss 1460,sackOK,eol,eol>
+0.00 > S. 0:0(0) ack 1 win 65535 <mss 1460,sackOK,eol,eol>
+0.01 <  . 1:1(0) ack 1 win 32767
+0.00 accept(3, ..., ...) = 4
"""
)


def _run(tmp_path: Path, text: str, opts: RunOptions | None = None) -> ScriptResult:
    path = tmp_path / "t.pkt"
    path.write_text(text)
    return run_script(path, opts=opts)


def test_passive_open_data_and_close_pass(tmp_path: Path) -> None:
    r = _run(
        tmp_path,
        PASSIVE
        + """+0.00 < P. 1:1001(1000) ack 1 win 32767
+0.04 > . 1:1(0) ack 1001 win 64700
+0.00 recv(4, ..., 2000, 0) = 1000
+0.00 write(4, ..., 10) = 10
+0.00 > P. 1:11(10) ack 1001 win 65535
+0.01 < . 1001:1001(0) ack 11 win 32767
+0.00 %{ assert tcpi_state == TCPI_ESTABLISHED }%
+0.00 close(4) = 0
+0.00 > F. 11:11(0) ack 1001 win 65535
+0.01 < F. 1001:1001(0) ack 12 win 32767
+0.00 > . 12:12(0) ack 1002 win 65535
+0.00 `sockstat -4 -P tcp -s | grep packetdril | grep -c TIME_WAIT | grep 1`
+0.00 `tcpdrop -s TIME_WAIT`
+0.00 `sockstat -4 -P tcp -s | grep packetdril | grep -c TIME_WAIT | grep 0`
""",
    )
    assert r.status == "pass", r


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("+0.00 > S. 0:0(0) ack 1 win 1000 <mss 1460,sackOK,eol,eol>", "window 65535"),
        ("+0.00 > S. 0:0(0) ack 1 win 65535 <mss 1460,eol,eol>", "TCP options"),
        ("+0.00 > S. 0:0(0) ack 1 win 65535 <mss 1400,sackOK,eol,eol>", "TCP option mss"),
        ("+0.00 > S. 0:0(0) ack 2 win 65535 <mss 1460,sackOK,eol,eol>", "acknowledgment"),
        ("+0.00 > R. 0:0(0) ack 1 win 65535 <mss 1460,sackOK,eol,eol>", "flags S."),
        ("+0.50 > S. 0:0(0) ack 1 win 65535 <mss 1460,sackOK,eol,eol>", "expected at 0.5"),
    ],
)
def test_a_wrong_expectation_fails_at_its_line(tmp_path: Path, line: str, reason: str) -> None:
    text = PASSIVE.replace("+0.00 > S. 0:0(0) ack 1 win 65535 <mss 1460,sackOK,eol,eol>", line)
    r = _run(tmp_path, text)
    assert r.status == "fail", r
    assert r.line == 9 and reason in r.reason, r
    assert r.expected and r.actual.startswith("S. 0:0(0) ack 1 win 65535"), r


def test_an_unexpected_packet_fails_the_next_expectation(tmp_path: Path) -> None:
    # Out-of-order data makes the stack ACK at once; the script expects a FIN.
    r = _run(
        tmp_path,
        PASSIVE
        + """+0.00 < P. 101:111(10) ack 1 win 32767
+0.00 > F. 1:1(0) ack 1 win 65535
""",
    )
    assert r.status == "fail" and r.line == 13, r
    assert "flags" in r.reason and r.actual.startswith(". 1:1(0) ack 1 "), r


def test_a_missing_packet_fails(tmp_path: Path) -> None:
    r = _run(tmp_path, PASSIVE + "+0.00 > . 1:1(0) ack 1 win 65535\n")
    assert r.status == "fail" and "no packet" in r.reason and r.actual == "nothing", r


def test_syscall_results_and_errno_are_checked(tmp_path: Path) -> None:
    ok = _run(
        tmp_path,
        HEADER
        + """ 0.00 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0.00 fcntl(3, F_GETFL) = 0x02 (flags O_RDWR)
+0.00 fcntl(3, F_SETFL, O_RDWR | O_NONBLOCK) = 0
+0.00 getsockopt(3, SOL_SOCKET, SO_RCVBUF, [65536], [4]) = 0
+0.00 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)
+0.00 > S 0:0(0) win 65535 <mss 1460,nop,wscale 6,sackOK,TS val 100 ecr 0>
+0.10 < R. 0:0(0) ack 1 win 0
+0.00 getsockopt(3, SOL_SOCKET, SO_ERROR, [ECONNREFUSED], [4]) = 0
+0.00 close(3) = 0
""",
    )
    assert ok.status == "pass", ok
    bad = _run(
        tmp_path,
        HEADER
        + """ 0.00 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0.00 fcntl(3, F_SETFL, O_RDWR | O_NONBLOCK) = 0
+0.00 connect(3, ..., ...) = 0
""",
    )
    assert bad.status == "fail" and bad.line == 5 and "EINPROGRESS" in bad.reason, bad
    wrong_value = _run(
        tmp_path,
        HEADER
        + """ 0.00 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0.00 getsockopt(3, SOL_SOCKET, SO_RCVBUF, [1234], [4]) = 0
""",
    )
    assert wrong_value.status == "fail" and "65536" in wrong_value.reason, wrong_value


def test_a_failed_tcp_info_assertion_fails(tmp_path: Path) -> None:
    r = _run(tmp_path, PASSIVE + "+0.00 %{ assert tcpi_state == TCPI_CLOSE_WAIT }%\n")
    assert r.status == "fail" and "assertion" in r.reason and "ESTABLISHED" in r.actual, r


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (
            "--ip_version=ipv4-mapped-ipv6\n 0.00 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n",
            "ipv4-mapped-ipv6",
        ),
        (HEADER + " 0.00 `sysctl -w net.inet.tcp.no_such_knob=1`\n", "no_such_knob"),
        (HEADER + " 0.00 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 epoll(3) = 0\n", "epoll"),
        (HEADER + " 0.00 `ls /`\n", "command"),
    ],
)
def test_unsupported_is_reported_never_passed(tmp_path: Path, text: str, reason: str) -> None:
    r = _run(tmp_path, text)
    assert r.status == "unsupported" and reason in r.reason, r


def test_fragment_and_parse_round_trip() -> None:
    seg = Segment("198.18.0.2", "198.18.0.1", 1, 2, 100, 0, 0x10, 1000, payload=bytes(4000))
    parts = fragment(seg.ip_packet(), 1500)
    assert len(parts) == 3 and all(len(p) <= 1500 for p in parts)
    assert sum(len(p) - 20 for p in parts) == len(seg.ip_packet()) - 20
    whole = parse_frame(bytes(12) + b"\x08\x00" + seg.ip_packet())
    assert isinstance(whole, Segment) and whole.seq == 100 and len(whole.payload) == 4000


@need_suite
@pytest.mark.parametrize(
    ("script", "force", "reason"),
    [
        # A wrong window: the SYN-ACK offers 32768, not 65535.
        ("rcv-data-segments/reordering-12345.pkt", {"net.inet.tcp.recvspace": 32768}, "window"),
        # A missing option: no sackOK in the SYN.
        ("snd-syn/snd-syn-rtx-keepinit-ipv4.pkt", {"net.inet.tcp.sack.enable": 0}, "option"),
        # A wrong answer: no RST for a segment to a closed port.
        (
            "state-event-engine/rcv-ack-closed/rcv-ack-without-data-closed-ipv4.pkt",
            {"net.inet.tcp.blackhole": 2},
            "no packet",
        ),
        # A wrong answer: an in-window RST resets instead of being challenged.
        (
            "state-event-engine/rcv-rst-established/rcv-rst-established-right-edge-insecure-ipv4.pkt",
            {"net.inet.tcp.insecure_rst": 0},
            "",
        ),
    ],
)
def test_self_test_wrong_configurations_fail(
    script: str, force: dict[str, int], reason: str
) -> None:
    path = SUITE / script
    good = run_script(path)
    assert good.status == "pass", good
    bad = run_script(path, opts=RunOptions(forced=force))
    assert bad.status == "fail", f"{script} still passes with {force}: the runner proves nothing"
    assert reason in bad.reason and bad.line > 0, bad


@need_suite
def test_in_scope_suite_pass_rate_and_report(tmp_path: Path) -> None:
    """The issue's goal, checked on every run: at least 95% of the in-scope
    IPv4 scripts pass in virtual time, and the CLI writes the JSON report."""
    groups = ["snd-syn", "rcv-icmp", "snippets"]
    report = run_scripts([SUITE / g for g in groups], ipv4_only=True)
    assert report.counts()["pass"] == len(report.results) >= 30
    out = tmp_path / "report.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "ustack",
            "packetdrill",
            "--ipv4-only",
            "--min-pass",
            "95",
            "--json",
            str(out),
            *(str(SUITE / g) for g in groups),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    last = proc.stdout.strip().splitlines()[-2]
    assert re.fullmatch(r"\d+ passed, 0 failed, \d+ skipped \([\d.]+ s\)", last), last
    data = json.loads(out.read_text())
    assert data["summary"]["pass"] == report.counts()["pass"]
    assert {r["group"] for r in data["results"]} == set(groups)


def test_cli_rejects_bad_force(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "ustack", "packetdrill", "--force", "nonsense", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2 and "KNOB=VALUE" in proc.stderr


def test_retries_rerun_a_real_time_failure_and_name_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real-time back end reruns a failing script (--retries) and the report
    says so; a script failing every run still fails; virtual time never reruns."""
    import ustack.packetdrill.suite as suite

    for name in ("flaky.pkt", "broken.pkt"):
        (tmp_path / name).write_text(PASSIVE)
    runs: list[str] = []

    def fake_run_script(path: Path, **kw: object) -> ScriptResult:
        runs.append(path.name)
        flaky_pass = path.name == "flaky.pkt" and runs.count(path.name) == 2
        return ScriptResult(str(path), "g", "pass" if flaky_pass else "fail", reason="late")

    monkeypatch.setattr(suite, "run_script", fake_run_script)
    report = run_scripts([tmp_path], backend="tap", retries=2)
    by_name = {Path(r.path).name: r for r in report.results}
    assert (by_name["flaky.pkt"].status, by_name["flaky.pkt"].attempts) == ("pass", 2)
    assert (by_name["broken.pkt"].status, by_name["broken.pkt"].attempts) == ("fail", 3)
    text = report.format()
    assert "flaky.pkt: passed at run 2" in text and "broken.pkt: still failed at run 3" in text
    assert report.summary_line() == "1 passed, 1 failed, 0 skipped"

    runs.clear()
    report = run_scripts([tmp_path], backend="virtual", retries=2)
    assert sorted(runs) == ["broken.pkt", "flaky.pkt"]
    assert all(r.attempts == 1 for r in report.results)
