"""Interop with the real Linux kernel: curl, iperf2, socat and kernel sockets
against ustack on a TAP device, in a network namespace each test makes.

Each test runs with the kernel's defaults and again with SACK, window
scaling or timestamps turned off and ECN turned on or refused by sysctl in
the namespace (the ``linux`` rows of interop_cases.CASES), and checks the
TCP options ustack's socket reports (TCP_INFO) against
``expected_options(..., linux_peer=True)``.  curl and fetch move 100 MB in
every row (about a second each here); the echo moves 20 MB each way; the
whole set takes about a minute, most of it iperf's 5 s per row.

Root only, with curl, iperf (2) and socat installed: skipped with the reason
otherwise, failed instead when USTACK_REQUIRE_ALL=1 (CI).  A failing test
keeps its pcap (headers only) and names it in the message.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from interop_cases import CASES, OptionCase, expected_options
from live_cli import (
    ENV,
    check_iperf_discard,
    http_server_command,
    interop_marks,
    iperf_command,
    unavailable_reason,
)

from ustack import netns, pattern

CLIENT = Path(__file__).resolve().parent / "interop_linux_client.py"
TOOLS = ("curl", "iperf", "socat")


pytestmark = interop_marks(unavailable_reason(TOOLS))

LINUX_CASES = [c for c in CASES if c.name == "defaults" or c.linux]
IDS = [c.name for c in LINUX_CASES]
BIG = 100 * 1024 * 1024  # curl and fetch
ECHO = 20 * 1024 * 1024  # the echo, each way
SNAPLEN = 128  # headers only: a 100 MB transfer's pcap stays near 10 MB


@pytest.fixture(params=LINUX_CASES, ids=IDS)
def case(request: pytest.FixtureRequest) -> OptionCase:
    """Each row of the matrix that configures the kernel, and the defaults."""
    row: OptionCase = request.param
    return row


@pytest.fixture
def ns(case: OptionCase) -> Iterator[netns.NetNs]:
    """A namespace whose kernel has the case's sysctls."""
    with netns.NetNs("interop") as n:
        for name, value in case.linux.items():
            n.run("sysctl", "-qw", f"{name}={value}")
        yield n


def _ustack_knobs(case: OptionCase) -> list[str]:
    return [f"{k}={v}" for k, v in case.ustack.items()]


def _run(
    ns: netns.NetNs, argv: list[str], timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ns.exec_argv(*argv),
        capture_output=True,
        text=True,
        env=ENV,
        timeout=timeout,
        check=False,
    )


def _fail(proc: subprocess.CompletedProcess[str], pcap: Path, what: str) -> str:
    return (
        f"{what}\n--- stdout\n{proc.stdout[-4000:]}\n--- stderr\n{proc.stderr[-4000:]}\n"
        f"pcap kept: {pcap}"
    )


def _serve(
    ns: netns.NetNs, case: OptionCase, pcap: Path, service: list[str], run: str
) -> subprocess.CompletedProcess[str]:
    knobs = [a for k in _ustack_knobs(case) for a in ("--sysctl", k)]
    argv = [sys.executable, "-m", "ustack", "serve", *service, "-v", "--no-control"]
    argv += ["--pcap", str(pcap), "--snaplen", str(SNAPLEN), *knobs, "--run", run]
    return _run(ns, argv)


def _options(text: str, role: str) -> list[int]:
    """The options= values of serve's 'accepted' or fetch's 'connected' lines."""
    return [int(m, 16) for m in re.findall(rf"{role} .*options=(0x[0-9a-f]+)", text)]


def _done(pcap: Path) -> None:
    pcap.unlink(missing_ok=True)  # kept only when the test failed


def test_curl_downloads_from_ustack_serve(
    case: OptionCase, ns: netns.NetNs, tmp_path: Path
) -> None:
    size = BIG
    out, pcap = tmp_path / "body", tmp_path / "serve.pcap"
    run = (
        f"curl -sS --fail -o {out} -w 'curl %{{size_download}} bytes "
        f"%{{speed_download}} B/s\\n' http://198.18.0.1:8080/bytes/{size}"
    )
    proc = _serve(ns, case, pcap, ["--http", "8080"], run)
    assert proc.returncode == 0, _fail(proc, pcap, "curl or serve failed")
    assert out.stat().st_size == size, _fail(proc, pcap, "short download")
    h = hashlib.sha256()
    with out.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    assert h.hexdigest() == pattern.sha256(size), _fail(proc, pcap, "SHA-256 differs")
    want = expected_options(case, ustack_is_client=False, linux_peer=True)
    assert _options(proc.stdout, "accepted") == [want], _fail(proc, pcap, f"options != {want:#x}")
    print(re.search(r"curl .*", proc.stdout).group(0))  # type: ignore[union-attr]
    _done(pcap)


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """100 MB of random bytes for python3 -m http.server, and their SHA-256."""
    d = tmp_path_factory.mktemp("www")
    path = d / "big.bin"
    h = hashlib.sha256()
    with path.open("wb") as f:
        for _ in range(BIG >> 20):
            chunk = os.urandom(1 << 20)
            h.update(chunk)
            f.write(chunk)
    return path, h.hexdigest()


def test_ustack_fetch_downloads_from_python_http_server(
    case: OptionCase,
    ns: netns.NetNs,
    tmp_path: Path,
    big_file: tuple[Path, str],
) -> None:
    src, digest = big_file
    out, pcap = tmp_path / "got.bin", tmp_path / "fetch.pcap"
    server = http_server_command(src.parent)
    knobs = [a for k in _ustack_knobs(case) for a in ("--sysctl", k)]
    argv = [sys.executable, "-m", "ustack", "fetch", f"http://198.18.0.2:8000/{src.name}"]
    argv += ["-o", str(out), "--run-server", server, "--pcap", str(pcap)]
    argv += ["--snaplen", str(SNAPLEN), *knobs]
    proc = _run(ns, argv)
    assert proc.returncode == 0, _fail(proc, pcap, "fetch failed")
    assert f"sha256 {digest}" in proc.stdout, _fail(proc, pcap, "SHA-256 differs")
    assert out.stat().st_size == BIG
    want = expected_options(case, ustack_is_client=True, linux_peer=True)
    got = _options(proc.stderr, "connected")
    assert got == [want], _fail(proc, pcap, f"options {got} != {want:#x}")
    print(re.search(r"HTTP 200 .*", proc.stdout).group(0))  # type: ignore[union-attr]
    _done(pcap)


def test_iperf2_client_sends_to_ustack_discard(
    case: OptionCase, ns: netns.NetNs, tmp_path: Path
) -> None:
    pcap = tmp_path / "iperf.pcap"
    proc = _serve(ns, case, pcap, ["--discard", "5001"], iperf_command(5))
    rate = check_iperf_discard(proc, lambda p: _fail(p, pcap, "iperf into serve --discard"))
    want = expected_options(case, ustack_is_client=False, linux_peer=True)
    assert _options(proc.stdout, "accepted") == [want], _fail(proc, pcap, f"options != {want:#x}")
    print(f"iperf: {rate}")
    _done(pcap)


def _client(
    ns: netns.NetNs, case: OptionCase, tmp_path: Path, scenario: str, **extra: object
) -> None:
    pcap = tmp_path / f"{scenario}.pcap"
    cfg = {
        "scenario": scenario,
        "pcap": str(pcap),
        "snaplen": SNAPLEN,
        "sysctl": _ustack_knobs(case),
        "expect_options": expected_options(case, ustack_is_client=True, linux_peer=True),
        **extra,
    }
    proc = _run(ns, [sys.executable, str(CLIENT), json.dumps(cfg)])
    assert proc.returncode == 0, _fail(proc, pcap, f"{scenario} failed")
    print(proc.stdout)
    _done(pcap)


def test_echo_both_ways_with_socat(case: OptionCase, ns: netns.NetNs, tmp_path: Path) -> None:
    _client(ns, case, tmp_path, "echo", bytes=ECHO)


def test_kernel_close_reset_and_halfclose(
    case: OptionCase, ns: netns.NetNs, tmp_path: Path
) -> None:
    _client(ns, case, tmp_path, "closes")


def test_no_namespace_left_behind() -> None:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert f"ustack-interop-{os.getpid()}-" not in out, out
    assert not netns.leaked(), netns.leaked()
