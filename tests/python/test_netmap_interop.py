"""The netmap driver against the real Linux kernel, through the netmap
emulator's TAP back end.

Every test goes through the CLI exactly as a user would (``ustack serve|ping
--driver netmap``) in a child process under the emulator's LD_PRELOAD
library (tests/netmap_emu, ``libnetmap_emu_preload.so``): the driver's
open("/dev/netmap"), ioctl, mmap and poll reach the emulator, which serves
``netmap:ust0`` from a TAP device it makes in the network namespace the test
made (198.18.0.0/15 only, removed afterwards); the kernel's tools (curl,
iperf2, ping, socat) meet ustack there, as in test_dpdk_interop.py:

- the kernel pings ustack and ustack pings the kernel with payloads up to
  8000 bytes (IPv4 fragments both ways);
- curl downloads 100 MB from ``serve --http`` (SHA-256 of ustack.pattern),
  with the kernel counting no checksum error (netmap offers no offloads:
  every checksum is ustack's);
- iperf2 sends into ``serve --discard``;
- socat sends 20 MB through ``serve --echo`` and gets the same bytes back;
- the same curl with the emulator's adversarial knobs (permuted buffers,
  frames split into NS_MOREFRAG chains, lazy tx completion) in strict mode.

Root, the emulator library and the tools are needed: skipped with the reason
otherwise, failed instead when USTACK_REQUIRE_ALL=1 (CI).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import live_cli
import pytest
from live_cli import show as _out

from ustack import netns, pattern

TOOLS = ("curl", "iperf", "ping", "socat")


def _reason() -> str | None:
    reason = netns.unavailable_reason()
    if reason is not None:
        return reason
    from ustack import netmap

    reason = netmap.emulator_unavailable_reason()
    if reason is not None:
        return reason
    return live_cli.missing_tools(TOOLS)


pytestmark = live_cli.interop_marks(_reason())

BIG = 100 * 1024 * 1024  # curl
ECHO = 20 * 1024 * 1024  # socat through the echo


def _env(**knobs: str) -> dict[str, str]:
    from ustack import netmap

    return {
        **live_cli.ENV,
        "LD_PRELOAD": str(netmap.emulator_library(preload=True)),
        "NETMAP_EMU_STRICT": "1",
        **knobs,
    }


@pytest.fixture
def ns() -> Iterator[netns.NetNs]:
    """A namespace for one command; no TAP outlives the command."""
    with live_cli.command_namespace("nm", "the emulator's TAP") as n:
        yield n


def _cli(
    ns: netns.NetNs, *argv: str, knobs: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return live_cli.run_cli(ns, *argv, timeout=150, env=_env(**(knobs or {})))


def _serve(
    ns: netns.NetNs, service: list[str], run: str, knobs: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    argv = ("serve", "--driver", "netmap", *service, "-v", "--no-control", "--run", run)
    return _cli(ns, *argv, knobs=knobs)


def _on_netmap(proc: subprocess.CompletedProcess[str]) -> None:
    """The command's summary names the netmap driver and its counters, and
    the emulator saw no strict-mode violation."""
    live_cli.on_kernel_link(proc, "netmap")
    assert "violation" not in (proc.stdout + proc.stderr).lower(), _out(proc)


def test_kernel_pings_ustack_with_fragmented_payloads(ns: netns.NetNs) -> None:
    proc = _serve(ns, ["--echo", "7"], live_cli.kernel_pings_command())
    live_cli.check_kernel_pings(proc)
    _on_netmap(proc)


@pytest.mark.parametrize("size", [1473, 8000])
def test_ustack_pings_the_kernel_with_fragmented_payloads(ns: netns.NetNs, size: int) -> None:
    live_cli.check_ustack_pings(_cli(ns, *live_cli.ping_argv("netmap", size)), size)


KNOBS = {
    "defaults": {},
    "adversarial": {
        "NETMAP_EMU_PERMUTE": "1",
        "NETMAP_EMU_SWAP_RX": "1",
        "NETMAP_EMU_FRAG": "600",
        "NETMAP_EMU_LAZY_TX": "2",
        "NETMAP_EMU_SLOTS": "97",
    },
}


@pytest.mark.parametrize("knobs", list(KNOBS))
def test_curl_downloads_100mb_from_serve_on_netmap(ns: netns.NetNs, knobs: str) -> None:
    run = live_cli.curl_sha_command(f"http://198.18.0.1:8080/bytes/{BIG}")
    proc = _serve(ns, ["--http", "8080"], run, KNOBS[knobs])
    live_cli.check_curl_download(proc, BIG)
    _on_netmap(proc)


def test_iperf2_sends_into_discard_on_netmap(ns: netns.NetNs) -> None:
    proc = _serve(ns, ["--discard", "5001"], live_cli.iperf_command())
    rate = live_cli.check_iperf_discard(proc)
    _on_netmap(proc)
    print(f"iperf over the emulated netmap TAP: {rate}")


def test_20mb_through_echo_on_netmap_byte_exact(ns: netns.NetNs, tmp_path: Path) -> None:
    src, back = live_cli.echo_files(tmp_path, ECHO)
    proc = _serve(ns, ["--echo", "7"], live_cli.echo_command(src, back))
    live_cli.check_echo(proc, src, back, ECHO)
    _on_netmap(proc)


def test_serve_on_netmap_without_the_emulator_says_what_it_needs(ns: netns.NetNs) -> None:
    env = {k: v for k, v in _env().items() if k != "LD_PRELOAD"}
    proc = live_cli.run_cli(ns, "serve", "--driver", "netmap", "--echo", "7", timeout=60, env=env)
    assert proc.returncode != 0
    assert "--netmap-port" in proc.stderr and "LD_PRELOAD" in proc.stderr, _out(proc)


def test_serve_makes_its_own_namespace_under_the_preload_emulator() -> None:
    """The command as a user types it: ``ustack serve --driver netmap --http
    8080 --run "curl ..."`` under LD_PRELOAD, the namespace its own."""
    env = {k: v for k, v in _env().items() if k != netns.INSIDE_ENV}
    n = 1_000_000
    run = f"bash -o pipefail -c 'curl -sS --fail http://198.18.0.1:8080/bytes/{n} | sha256sum'"
    proc = subprocess.run(
        [sys.executable, "-m", "ustack", "serve", "--driver", "netmap", "--http", "8080"]
        + ["--no-control", "--run", run],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, _out(proc)
    assert f"{pattern.sha256(n)}  -" in proc.stdout, _out(proc)
    _on_netmap(proc)


_RINGS_CHILD = r"""
import json, select, subprocess, sys, time
import ustack
from ustack import netmap
from ustack.hostlink import setup_kernel_side
import ipaddress

emu = netmap.Emulator(strict=1)
port = netmap.Port(sys.argv[1], sys=emu.sys, mac="02:00:00:00:00:01")
setup_kernel_side("ust0", ipaddress.IPv4Interface("198.18.0.2/24"), 1500)
st = ustack.Stack()
st.add_interface(port.queue(0), "nm0", "198.18.0.1/24")
ping = subprocess.Popen(["ping", "-c", "3", "-i", "0.2", "-W", "2", "-s", "3000", "198.18.0.1"],
                        stdout=subprocess.PIPE, text=True)
end = time.monotonic() + 20
while ping.poll() is None and time.monotonic() < end:
    st.poll()
    select.select([port.fileno()], [], [], 0.01)
out = {"rc": ping.wait(), "ping": ping.stdout.read(), "rings": port.rings, "stats": port.stats()}
st.close()
port.close()
out["violations"] = emu.violations()
emu.close()
print(json.dumps(out))
"""


@pytest.mark.parametrize("name", ["netmap:ust0^", "netmap:ust0-0"])
def test_host_rings_and_one_ring_pair_reach_the_kernel(ns: netns.NetNs, name: str) -> None:
    """The emulator in the test's own child process (its system-call table,
    no preload): the host rings (``^``) and NIC ring pair 0 (``-0``) of its
    TAP back end carry the kernel's pings (3000 bytes: fragments) to ustack
    and back."""
    import json

    proc = subprocess.run(
        ns.exec_argv(sys.executable, "-c", _RINGS_CHILD, name),
        capture_output=True,
        text=True,
        env={k: v for k, v in _env().items() if k != "LD_PRELOAD"},
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, _out(proc)
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["rc"] == 0 and "3 received" in out["ping"], out
    assert out["rings"] == 1, out
    assert out["stats"]["rx_frames"] >= 6 and out["stats"]["tx_frames"] >= 6, out
    assert out["violations"][0] == 0, out


def test_no_namespace_left_behind() -> None:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert f"ustack-nm-{os.getpid()}-" not in out, out
    assert not netns.leaked(), netns.leaked()
