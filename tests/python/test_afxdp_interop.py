"""The AF_XDP driver against the real Linux kernel, over a veth pair.

Every test goes through the CLI exactly as a user would
(``ustack serve|ping|fetch --driver afxdp``): the command makes a veth pair
in the network namespace the test made (198.18.0.0/15 only, removed
afterwards), binds AF_XDP sockets to one end (``ust0x``) and gives the
kernel the other (``ust0``, transmit checksumming off), and the kernel's
tools (curl, iperf2, ping, socat, python3 -m http.server) meet ustack there,
as in test_dpdk_interop.py over DPDK's net_tap:

- the kernel pings ustack and ustack pings the kernel with payloads up to
  8000 bytes (IPv4 fragments both ways), in native and generic XDP mode;
- curl downloads 100 MB from ``serve --http`` (SHA-256 of ustack.pattern),
  native and generic, with checksums through tx metadata and without
  (``--afxdp-no-offload``), and the kernel counts no checksum error;
- iperf2 sends into ``serve --discard``;
- socat sends 20 MB through ``serve --echo`` and gets the same bytes back;
- ``fetch`` downloads 20 MB from python3 -m http.server;
- MTU 9000: multi-buffer frames (longer than a UMEM frame) both ways;
- two queues: two iperf2 flows pinned to two CPUs with the kernel end's
  XPS mapping CPU i to queue i, so each queue carries one flow.

Root, the AF_XDP driver (ustack built on Linux with linux/if_xdp.h) and the
tools are needed: skipped with the reason otherwise, failed instead when
USTACK_REQUIRE_ALL=1 (CI).
"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import live_cli
import pytest
from interop_cases import CASES, OptionCase, expected_options
from live_cli import assert_no_csum_errors as _no_csum_errors
from live_cli import run_cli as _cli
from live_cli import show as _out

from ustack import netns, pattern

TOOLS = ("curl", "iperf", "ping", "socat", "ethtool", "nstat")


pytestmark = live_cli.interop_marks(live_cli.unavailable_reason(TOOLS, "afxdp"))

BIG = 100 * 1024 * 1024  # curl
ECHO = 20 * 1024 * 1024  # socat through the echo; fetch
MODES = ("native", "generic")
LINUX_CASES = [c for c in CASES if c.name == "defaults" or c.linux]


@pytest.fixture
def ns() -> Iterator[netns.NetNs]:
    """A namespace for one command; the veth pair must not outlive it."""
    with live_cli.command_namespace("afxdp", "the veth pair") as n:
        yield n


def _serve(
    ns: netns.NetNs, service: list[str], run: str, *xdp: str
) -> subprocess.CompletedProcess[str]:
    argv = ["serve", "--driver", "afxdp", *xdp, *service, "-v", "--no-control", "--run", run]
    return _cli(ns, *argv)


def _on_afxdp(proc: subprocess.CompletedProcess[str]) -> dict[str, int]:
    """The command's summary names the veth end and the AF_XDP counters."""
    return live_cli.on_kernel_link(proc, "afxdp", "ust0x")


@pytest.mark.parametrize("mode", MODES)
def test_kernel_pings_ustack_with_fragmented_payloads(ns: netns.NetNs, mode: str) -> None:
    proc = _serve(ns, ["--echo", "7"], live_cli.kernel_pings_command(), "--afxdp-mode", mode)
    live_cli.check_kernel_pings(proc)
    _on_afxdp(proc)


@pytest.mark.parametrize("size", [1473, 8000])
def test_ustack_pings_the_kernel_with_fragmented_payloads(ns: netns.NetNs, size: int) -> None:
    live_cli.check_ustack_pings(_cli(ns, *live_cli.ping_argv("afxdp", size)), size)


@pytest.mark.parametrize(
    ("mode", "offload"),
    [("native", True), ("generic", True), ("native", False)],
    ids=["native", "generic", "native-no-offload"],
)
def test_curl_downloads_100mb_from_serve_on_afxdp(
    ns: netns.NetNs, mode: str, offload: bool
) -> None:
    run = live_cli.curl_sha_command(f"http://198.18.0.1:8080/bytes/{BIG}")
    xdp = ["--afxdp-mode", mode, *([] if offload else ["--afxdp-no-offload"])]
    proc = _serve(ns, ["--http", "8080"], run, *xdp)
    live_cli.check_curl_download(proc, BIG)
    counters = _on_afxdp(proc)
    if offload:  # the kernel filled the checksums (tx metadata), or said it cannot
        assert counters.get("tx_csum_offload", 0) + counters.get("tx_sw_csum", 0) > 0
    else:
        assert counters.get("tx_csum_offload", 0) == 0, counters


def test_iperf2_sends_into_discard_on_afxdp(ns: netns.NetNs) -> None:
    proc = _serve(ns, ["--discard", "5001"], live_cli.iperf_command())
    rate = live_cli.check_iperf_discard(proc)
    _on_afxdp(proc)
    print(f"iperf over AF_XDP: {rate}")


def test_20mb_through_echo_on_afxdp_byte_exact(ns: netns.NetNs, tmp_path: Path) -> None:
    src, back = live_cli.echo_files(tmp_path, ECHO)
    proc = _serve(ns, ["--echo", "7"], f"{live_cli.echo_command(src, back)}; nstat -a")
    live_cli.check_echo(proc, src, back, ECHO)
    _no_csum_errors(proc)
    _on_afxdp(proc)


def test_fetch_downloads_20mb_over_afxdp(ns: netns.NetNs, tmp_path: Path) -> None:
    data = os.urandom(ECHO)
    proc = _cli(ns, *live_cli.fetch_argv("afxdp", tmp_path, data))
    live_cli.check_fetch(proc, data)
    _on_afxdp(proc)


def test_jumbo_frames_travel_as_multi_buffer_chains(ns: netns.NetNs) -> None:
    """MTU 9000 in generic mode: frames longer than a 4096-byte UMEM frame
    arrive and leave as descriptor chains (XDP_USE_SG)."""
    url = f"http://198.18.0.1:8080/bytes/{ECHO}"
    run = (
        f"bash -o pipefail -c 'curl -sS --fail --max-time 60 {url} | sha256sum && "
        "ping -c 2 -i 0.2 -W 2 -s 8900 198.18.0.1; nstat -a'"
    )
    argv = ["serve", "--driver", "afxdp", "--afxdp-mode", "generic", "--mtu", "9000"]
    proc = _cli(ns, *argv, "--http", "8080", "--no-control", "--run", run)
    assert proc.returncode == 0, _out(proc)
    assert f"{pattern.sha256(ECHO)}  -" in proc.stdout, _out(proc)
    assert "8908 bytes from 198.18.0.1" in proc.stdout, _out(proc)
    _no_csum_errors(proc)
    counters = _on_afxdp(proc)
    assert counters.get("rx_frags", 0) > 0 and counters.get("tx_frags", 0) > 0, counters


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two CPUs")
def test_two_queues_carry_two_flows(ns: netns.NetNs) -> None:
    """XPS on the kernel's end sends what CPU i transmits on queue i, so two
    iperf2 clients pinned to two CPUs reach ustack on two queues."""
    cpus = sorted(os.sched_getaffinity(0))[:2]
    xps = " && ".join(
        f"echo {1 << cpu:x} > /sys/class/net/ust0/queues/tx-{q}/xps_cpus"
        for q, cpu in enumerate(cpus)
    )
    clients = " & ".join(
        f"taskset -c {cpu} iperf -c 198.18.0.1 -p 5001 -t 2 > /dev/null" for cpu in cpus
    )
    run = f"bash -c '{xps} && {{ {clients} & wait; }}'"
    proc = _serve(ns, ["--discard", "5001"], run, "--afxdp-queues", "2")
    assert proc.returncode == 0, _out(proc)
    assert "discard:5001: 2 connections" in proc.stdout, _out(proc)
    counters = _on_afxdp(proc)
    # Each flow's data went to its own queue: thousands of frames on each.
    assert counters["rx_frames_q0"] > 1000 and counters["rx_frames_q1"] > 1000, counters


def test_serve_in_an_existing_namespace_removes_its_veth() -> None:
    """--netns NAME: the veth pair is made there and deleted at the end
    (the namespace outlives the command), also when the reader of the
    command's output has gone (| head: the summary cannot be printed)."""
    env = {k: v for k, v in live_cli.ENV.items() if k != netns.INSIDE_ENV}
    with netns.NetNs("afxdp") as n:
        argv = [sys.executable, "-m", "ustack", "serve", "--driver", "afxdp", "--netns", n.name]
        argv += ["--echo", "7", "--no-control", "--run", "echo hi | socat -t 5 - TCP:198.18.0.1:7"]
        proc = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=60)
        links = n.run("ip", "-o", "link").stdout
        cut = subprocess.run(
            ["bash", "-c", " ".join(shlex.quote(a) for a in argv) + " | head -c 10"],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        after = n.run("ip", "-o", "link").stdout
    assert proc.returncode == 0 and "hi" in proc.stdout, _out(proc)
    assert "ust0" not in links, links
    assert cut.stdout == "ustack ser", _out(cut)
    assert "ust0" not in after, after


def test_serve_on_the_users_own_interface() -> None:
    """--afxdp-ifname: an interface of the user's, used as it is (here a
    veth the test made in its namespace, the kernel's end set up by the
    test as a user would); the summary calls the far side the peer."""
    with netns.NetNs("afxdp") as n:
        n.run("ip", "link", "add", "lab0", "type", "veth", "peer", "name", "lab1")
        n.run("ethtool", "-K", "lab0", "tx", "off")
        n.run("ip", "addr", "add", "198.18.3.2/24", "dev", "lab0")
        n.run("ip", "link", "set", "lab1", "up")
        n.run("ip", "link", "set", "lab0", "up")
        run = f"curl -sS --fail --max-time 20 http://198.18.3.1:8080/bytes/{ECHO} | sha256sum"
        argv = ["serve", "--afxdp-ifname", "lab1", "--address", "198.18.3.1/24"]
        proc = _cli(n, *argv, "--http", "8080", "--no-control", "--run", run)
        links = n.run("ip", "-o", "link").stdout
    assert proc.returncode == 0, _out(proc)
    assert f"{pattern.sha256(ECHO)}  -" in proc.stdout, _out(proc)
    assert "ustack on lab1 (198.18.3.1, peer " in proc.stdout, _out(proc)
    live_cli.driver_counters(proc, "afxdp")
    assert "lab1" in links  # the user's interface is left in place


@pytest.mark.parametrize("case", LINUX_CASES, ids=[c.name for c in LINUX_CASES])
def test_options_negotiated_with_the_kernel(case: OptionCase, tmp_path: Path) -> None:
    """interop_cases' matrix over AF_XDP: the TCP options ustack and the
    kernel agree on, as server (serve --echo) and as client (fetch)."""
    page = tmp_path / "p.bin"
    page.write_bytes(os.urandom(100_000))
    knobs = [a for k, v in case.ustack.items() for a in ("--sysctl", f"{k}={v}")]
    with netns.NetNs("afxdp") as n:
        for name, value in case.linux.items():
            n.run("sysctl", "-qw", f"{name}={value}")
        run = "echo hello | socat -t 5 - TCP:198.18.0.1:7"
        served = _serve(n, ["--echo", "7", *knobs], run)
        server = live_cli.http_server_command(tmp_path)
        fetched = _cli(
            n,
            "fetch",
            "--driver",
            "afxdp",
            *knobs,
            "--run-server",
            server,
            "http://198.18.0.2:8000/p.bin",
        )
    assert served.returncode == 0 and "hello" in served.stdout, _out(served)
    want = expected_options(case, ustack_is_client=False, linux_peer=True)
    got = [int(m, 16) for m in re.findall(r"accepted .*options=(0x[0-9a-f]+)", served.stdout)]
    assert got == [want], f"options {got} != {want:#x}\n{_out(served)}"
    assert fetched.returncode == 0, _out(fetched)
    assert f"sha256 {hashlib.sha256(page.read_bytes()).hexdigest()}" in fetched.stdout
    want = expected_options(case, ustack_is_client=True, linux_peer=True)
    got = [int(m, 16) for m in re.findall(r"connected .*options=(0x[0-9a-f]+)", fetched.stderr)]
    assert got == [want], f"options {got} != {want:#x}\n{_out(fetched)}"


def test_no_namespace_left_behind() -> None:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert f"ustack-afxdp-{os.getpid()}-" not in out, out
    assert not netns.leaked(), netns.leaked()
