"""bench/b_http.py: wrk's and ab's reports read right, the plan, the table; and
(root, nginx and wrk installed or installable) a --quick run whose every
request was answered by both servers with the right bytes, and that leaves no
namespace or process behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

import b_http  # noqa: E402
from benchlib import Context  # noqa: E402

from ustack import netns  # noqa: E402

ENV = {**os.environ, "PYTHONPATH": str(ROOT / "python_bindings")}
REQUIRE_ALL = os.environ.get("USTACK_REQUIRE_ALL") == "1"

WRK = """\
Running 1s test @ http://198.18.0.1:8080/bytes/128
  1 threads and 100 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    15.52ms   10.10ms   1.20s    80.00%
    Req/Sec     6.49k   500.00     7.00k    70.00%
  Latency Distribution
     50%  612.00us
     75%   18.00ms
     90%   25.00ms
     99%    1.20s
  6445 requests in 1.00s, 1.83MB read
  Socket errors: connect 1, read 3, write 0, timeout 2
  Non-2xx or 3xx responses: 4
Requests/sec:   6445.12
Transfer/sec:      1.83MB
"""

AB = """\
Server Software:        ustack
Server Hostname:        198.18.0.1
Server Port:            8080

Document Path:          /bytes/128
Document Length:        128 bytes

Concurrency Level:      100
Time taken for tests:   0.472 seconds
Complete requests:      2000
Failed requests:        3
   (Connect: 0, Receive: 0, Length: 3, Exceptions: 0)
Non-2xx responses:      2
Keep-Alive requests:    2000
Total transferred:      578000 bytes
HTML transferred:       256000 bytes
Requests per second:    4236.10 [#/sec] (mean)
Time per request:       23.607 [ms] (mean)

Percentage of the requests served within a certain time (ms)
  50%     20
  66%     22
  75%     24
  80%     26
  90%     33
  95%     45
  98%     60
  99%     75
 100%     80 (longest request)
"""


def test_wrk_report_with_errors_and_units() -> None:
    load = b_http.parse_wrk(WRK)
    assert load.requests == 6445 and load.seconds == pytest.approx(1.0)
    assert load.rps == pytest.approx(6445.12)
    assert load.p50_ms == pytest.approx(0.612) and load.p99_ms == pytest.approx(1200.0)
    assert load.detail == {"connect": 1, "read": 3, "write": 0, "timeout": 2}
    assert load.errors == 6 and load.non2xx == 4 and load.failures == 10


def test_wrk_report_without_errors() -> None:
    text = WRK.replace("  Socket errors: connect 1, read 3, write 0, timeout 2\n", "")
    text = text.replace("  Non-2xx or 3xx responses: 4\n", "")
    load = b_http.parse_wrk(text)
    assert load.failures == 0 and load.requests == 6445


def test_ab_report() -> None:
    load = b_http.parse_ab(AB)
    assert load.requests == 2000 and load.seconds == pytest.approx(0.472)
    assert load.rps == pytest.approx(4236.10)
    assert (load.p50_ms, load.p99_ms) == (20.0, 75.0)
    assert load.errors == 3 and load.non2xx == 2 and load.failures == 5


@pytest.mark.parametrize("parse", [b_http.parse_wrk, b_http.parse_ab])
def test_not_a_report_says_so(parse: Any) -> None:
    with pytest.raises(ValueError, match="not an? (wrk|ab) report"):
        parse("connection refused\n")


def _ctx(tmp_path: Path, quick: bool, only: frozenset[str] = frozenset()) -> Context:
    return Context(quick=quick, runs=5, build_dir=tmp_path, out_dir=tmp_path, only=only)


def test_plans(tmp_path: Path) -> None:
    full = b_http.plan(_ctx(tmp_path, False))
    assert len(full.cases) == 12 and full.runs == 3 and full.seconds >= 2 and full.extra
    assert {c.size for c in full.cases} == {128, 65536}
    assert {c.conc for c in full.cases} == {1, 100, 500}
    assert {c.keep for c in full.cases} == {True, False} and full.ab_cases
    alone = b_http.plan(_ctx(tmp_path, True, frozenset({"http"})))
    assert {c.conc for c in alone.cases} == {1, 100, 500} and alone.runs == 1
    suite = b_http.plan(_ctx(tmp_path, True))  # inside the whole --quick suite
    assert len(suite.cases) == 1 and not suite.ab_cases and suite.seconds == 1


def test_records_and_table(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path, True, frozenset({"http"}))
    ctx.bench = "http"
    case = b_http.Case(128, 100, True)
    p = b_http.Plan([case], [], 1, 2, 0)
    ok = b_http.parse_wrk(WRK.split("  Socket errors")[0] + "Requests/sec: 6445.12\n")
    bad = b_http.parse_wrk(WRK)
    results = {("wrk", "ustack", case): [ok, ok], ("wrk", "linux", case): [ok, bad]}
    heads = {"ustack": {128: 157}, "linux": {128: 252}}
    b_http._record(ctx, p, results, heads, {"ustack": "ustack", "linux": "nginx"})
    rps = [r for r in ctx.records if r["metric"] == "requests/s"]
    assert len(rps) == 1 and rps[0]["ratio"] == pytest.approx(1.0)
    assert rps[0]["params"]["failures"] == {"ustack": 0, "linux": 10}
    assert rps[0]["goal_met"] is False
    assert any("failures" in n for n in ctx.notes)
    lat = {r["metric"]: r for r in ctx.records if "latency" in r["metric"]}
    assert set(lat) == {"p50 latency", "p99 latency"}
    assert not lat["p99 latency"]["higher_is_better"]
    text = b_http.table(ctx.records, heads)
    assert "128 B, c=100, keep-alive" in text and "6,445" in text and "0/10" in text
    assert "head bytes ustack: 128 B: 157" in text


def test_tools_without_root_say_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(b_http, "_which", lambda tool: None if tool == "wrk" else "/x")
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert b_http.ensure_tools() == "wrk not installed (apt-get install wrk)"
    monkeypatch.setattr(b_http, "_which", lambda tool: "/x")
    assert b_http.ensure_tools() is None


# --- a real run: root -----------------------------------------------------------


def _reason() -> str | None:
    why = netns.unavailable_reason()
    if why is None and b_http.missing_tools():
        why = b_http.ensure_tools()  # root: installs them
    return why


def test_quick_run_answers_every_request_with_the_right_bytes(tmp_path: Path) -> None:
    why = _reason()
    if why is not None:
        if REQUIRE_ALL:
            pytest.fail(f"USTACK_REQUIRE_ALL=1: {why}", pytrace=False)
        pytest.skip(why)
    before = set(netns.leaked())
    argv = [sys.executable, str(ROOT / "bench" / "run.py"), "--quick", "--only", "http"]
    proc = subprocess.run(
        [*argv, "--out", str(tmp_path)], capture_output=True, text=True, env=ENV, timeout=170
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = json.loads((tmp_path / "results.json").read_text())
    assert not doc["failed"], doc["notes"]
    recs = [r for r in doc["results"] if r["bench"] == "http"]
    rps = [r for r in recs if r["metric"] == "requests/s"]
    # Every case of the quick plan, both servers, every request answered.
    cases = {
        (r["params"]["size"], r["params"]["concurrency"], r["params"]["keep_alive"]) for r in rps
    }
    assert {(128, c, k) for c in (1, 100, 500) for k in (True, False)} <= cases
    for r in rps:
        assert r["params"]["failures"] == {"ustack": 0, "linux": 0}, r
        assert r["goal_met"] is True
        assert r["ustack"]["median"] > 0 and r["linux"]["median"] > 0 and r["ratio"] > 0
        assert min(r["params"]["requests"].values()) > 0
        # The check before and after the load read each server's head.
        heads = r["params"]["head_bytes"]
        assert 100 < heads["ustack"] < heads["linux"] < 400, heads
    assert {r["metric"] for r in recs} >= {"requests/s", "p50 latency", "p99 latency"}
    assert any(r["metric"] == "requests/s (ab)" for r in recs)
    # The table, on stderr.
    assert "ustack req/s" in proc.stderr and "nginx req/s" in proc.stderr
    assert "128 B, c=500, Connection: close" in proc.stderr
    assert "## http" in (tmp_path / "results.md").read_text()
    # Nothing left behind.
    assert set(netns.leaked()) <= before
    names = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert "bench-http" not in names
    left = subprocess.run(["pgrep", "-af", "b_http-"], capture_output=True, text=True).stdout
    assert "nginx" not in left, left
