"""The DPDK driver against the real Linux kernel, over DPDK's net_tap PMD.

Every test goes through the CLI exactly as a user would
(``ustack serve|ping|fetch --driver dpdk``): the command starts DPDK's EAL in
its own process (without hugepages), makes a net_tap device in the network
namespace the test made (198.18.0.0/15 only, removed afterwards), and the
kernel's tools (curl, iperf2, ping, socat, python3 -m http.server) meet ustack
there, as in test_interop_linux.py over the TAP driver:

- the kernel pings ustack and ustack pings the kernel with payloads up to
  8000 bytes (IPv4 fragments both ways: reassembly and fragmentation);
- curl downloads 100 MB from ``serve --http`` (SHA-256 of ustack.pattern),
  with the port's checksum and TSO offloads and without
  (``--dpdk-no-offload``), and the kernel counts no checksum error;
- iperf2 sends into ``serve --discard``;
- socat sends 20 MB through ``serve --echo`` and gets the same bytes back
  (``--dpdk-no-offload``: ustack's own checksums and segments);
- ``fetch`` downloads 20 MB from python3 -m http.server;
- on the user's own port (a net_memif named in --dpdk-args, no namespace),
  ``fetch`` downloads 20 MB from ``serve`` in another process.

Each run must leave no EAL runtime folder (/var/run/dpdk/ustack-*) behind.
Root, libdpdk (ustack built with USTACK_WITH_DPDK) and the tools are needed:
skipped with the reason otherwise, failed instead when USTACK_REQUIRE_ALL=1
(CI).  About 30 s in all here, most of it iperf's 3 s and curl's 100 MB.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import live_cli
import pytest
from live_cli import run_cli as _cli
from live_cli import show as _out

from ustack import netns, pattern

TOOLS = ("curl", "iperf", "ping", "socat")
RUNTIME = Path("/var/run/dpdk")


pytestmark = live_cli.interop_marks(live_cli.unavailable_reason(TOOLS, "dpdk"))

BIG = 100 * 1024 * 1024  # curl
ECHO = 20 * 1024 * 1024  # socat through the echo; fetch


def _ours() -> set[str]:
    """The EAL runtime folders the CLI makes (ustack-<command>-<pid>)."""
    if not RUNTIME.is_dir():
        return set()
    return {p.name for p in RUNTIME.iterdir() if re.match(r"ustack-(serve|ping|fetch)-", p.name)}


@pytest.fixture
def ns() -> Iterator[netns.NetNs]:
    """A namespace for one command; afterwards no EAL folder of the run may
    remain and no net_tap device outlives the namespace."""
    before = _ours()
    with live_cli.command_namespace("dpdk", "the net_tap device") as n:
        yield n
    left = _ours() - before
    assert not left, f"EAL runtime folders left behind: {sorted(left)}"


def _serve(ns: netns.NetNs, service: list[str], run: str) -> subprocess.CompletedProcess[str]:
    return _cli(ns, "serve", "--driver", "dpdk", *service, "-v", "--no-control", "--run", run)


def _on_dpdk(proc: subprocess.CompletedProcess[str]) -> None:
    """The command's summary names the DPDK driver and its counters."""
    live_cli.on_kernel_link(proc, "dpdk")


def test_kernel_pings_ustack_with_fragmented_payloads(ns: netns.NetNs) -> None:
    proc = _serve(ns, ["--echo", "7"], live_cli.kernel_pings_command())
    live_cli.check_kernel_pings(proc)
    _on_dpdk(proc)


@pytest.mark.parametrize("size", [1473, 8000])
def test_ustack_pings_the_kernel_with_fragmented_payloads(ns: netns.NetNs, size: int) -> None:
    live_cli.check_ustack_pings(_cli(ns, *live_cli.ping_argv("dpdk", size)), size)


@pytest.mark.parametrize("offload", [True, False], ids=["offload", "no-offload"])
def test_curl_downloads_100mb_from_serve_on_dpdk(ns: netns.NetNs, offload: bool) -> None:
    run = live_cli.curl_sha_command(f"http://198.18.0.1:8080/bytes/{BIG}", max_time=40)
    proc = _serve(ns, ["--http", "8080", *([] if offload else ["--dpdk-no-offload"])], run)
    live_cli.check_curl_download(proc, BIG)
    _on_dpdk(proc)


def test_iperf2_sends_into_discard_on_dpdk(ns: netns.NetNs) -> None:
    proc = _serve(ns, ["--discard", "5001"], live_cli.iperf_command())
    rate = live_cli.check_iperf_discard(proc)
    _on_dpdk(proc)
    print(f"iperf over net_tap: {rate}")


def test_20mb_through_echo_on_dpdk_byte_exact(ns: netns.NetNs, tmp_path: Path) -> None:
    src, back = live_cli.echo_files(tmp_path, ECHO)
    # Without the port's offloads: ustack's own checksums and segments.
    proc = _serve(ns, ["--echo", "7", "--dpdk-no-offload"], live_cli.echo_command(src, back))
    live_cli.check_echo(proc, src, back, ECHO)
    _on_dpdk(proc)


def test_fetch_downloads_20mb_over_dpdk(ns: netns.NetNs, tmp_path: Path) -> None:
    data = os.urandom(ECHO)
    proc = _cli(ns, *live_cli.fetch_argv("dpdk", tmp_path, data))
    live_cli.check_fetch(proc, data)
    _on_dpdk(proc)


def test_serve_and_fetch_over_memif_on_the_users_port(tmp_path: Path) -> None:
    """--dpdk-args naming a device: the user's port, no namespace, the
    user's addresses; two CLI processes over net_memif (a file socket)."""
    before = _ours()
    memif = f"socket={tmp_path / 'm.sock'},socket-abstract=no"
    env = {k: v for k, v in live_cli.ENV.items() if k != netns.INSIDE_ENV}
    base = [sys.executable, "-m", "ustack"]
    serve = subprocess.Popen(
        [*base, "serve", f"--dpdk-args=--vdev=net_memif0,role=server,{memif}"]
        + ["--http", "8080", "--address", "198.18.1.1/24", "--no-control", "--duration", "20"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    head = []
    try:
        assert serve.stdout is not None
        for line in serve.stdout:  # the memif socket exists once serve is up
            head.append(line)
            if line.startswith("ustack serve: http"):
                break
        fetch = subprocess.run(
            [*base, "fetch", f"--dpdk-args=--vdev=net_memif0,role=client,{memif}", "-q"]
            + ["--address", "198.18.1.2/24", f"http://198.18.1.1:8080/bytes/{ECHO}"],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )
    finally:
        serve.terminate()
        out = "".join(head) + serve.communicate(timeout=30)[0]
    assert fetch.returncode == 0, _out(fetch) + out
    assert f"sha256 {pattern.sha256(ECHO)}" in fetch.stdout, _out(fetch)
    assert "ustack on net_memif0 (198.18.1.1, peer 198.18.0.2)" in out, out
    assert "stopping (SIGTERM)" in out, out
    assert not _ours() - before


def test_no_namespace_left_behind() -> None:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert f"ustack-dpdk-{os.getpid()}-" not in out, out
    assert not netns.leaked(), netns.leaked()
