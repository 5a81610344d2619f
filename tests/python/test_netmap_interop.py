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

import hashlib
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ustack import netns, pattern

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ("curl", "iperf", "ping", "socat")


def _reason() -> str | None:
    reason = netns.unavailable_reason()
    if reason is not None:
        return reason
    from ustack import netmap

    reason = netmap.emulator_unavailable_reason()
    if reason is not None:
        return reason
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        return f"{', '.join(missing)} not installed (apt-get install {' '.join(missing)})"
    return None


REASON = _reason()
pytestmark = [
    pytest.mark.interop,
    pytest.mark.skipif(
        REASON is not None and os.environ.get("USTACK_REQUIRE_ALL") != "1",
        reason=f"{REASON}",
    ),
]

BIG = 100 * 1024 * 1024  # curl
ECHO = 20 * 1024 * 1024  # socat through the echo


def _env(**knobs: str) -> dict[str, str]:
    from ustack import netmap

    return {
        **os.environ,
        "PYTHONPATH": str(ROOT / "python_bindings"),
        netns.INSIDE_ENV: "1",  # the CLI runs in the test's namespace
        "LD_PRELOAD": str(netmap.emulator_library(preload=True)),
        "NETMAP_EMU_STRICT": "1",
        **knobs,
    }


@pytest.fixture
def ns() -> Iterator[netns.NetNs]:
    """A namespace for one command; no TAP outlives the command."""
    with netns.NetNs("nm") as n:
        yield n
        links = n.run("ip", "-o", "link").stdout
    assert "ust0" not in links, f"the emulator's TAP outlived the command:\n{links}"


def _cli(
    ns: netns.NetNs, *argv: str, knobs: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ns.exec_argv(sys.executable, "-m", "ustack", *argv),
        capture_output=True,
        text=True,
        env=_env(**(knobs or {})),
        timeout=150,
        check=False,
    )


def _serve(
    ns: netns.NetNs, service: list[str], run: str, knobs: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    argv = ("serve", "--driver", "netmap", *service, "-v", "--no-control", "--run", run)
    return _cli(ns, *argv, knobs=knobs)


def _out(proc: subprocess.CompletedProcess[str]) -> str:
    return (
        f"status {proc.returncode}\n--- stdout\n{proc.stdout[-4000:]}\n--- stderr\n"
        + (proc.stderr[-4000:])
    )


def _on_netmap(proc: subprocess.CompletedProcess[str]) -> None:
    """The command's summary names the netmap driver and its counters, and
    the emulator saw no strict-mode violation."""
    text = proc.stdout + proc.stderr
    assert "ustack on ust0 (198.18.0.1, kernel 198.18.0.2)" in text, _out(proc)
    m = re.search(r"(\d+) frames received, (\d+) frames sent \(netmap: ([^)]*)\)", text)
    assert m is not None and int(m.group(1)) > 0 and int(m.group(2)) > 0, _out(proc)
    assert "violation" not in text.lower(), _out(proc)


SIZES = (56, 1473, 4000, 8000)  # 1473: one byte over a frame; 8000: six fragments


def test_kernel_pings_ustack_with_fragmented_payloads(ns: netns.NetNs) -> None:
    run = " && ".join(f"ping -c 2 -i 0.2 -W 2 -s {n} 198.18.0.1" for n in SIZES)
    proc = _serve(ns, ["--echo", "7"], run)
    assert proc.returncode == 0, _out(proc)
    for n in SIZES:
        assert f"{n + 8} bytes from 198.18.0.1" in proc.stdout, _out(proc)
    assert proc.stdout.count(" 0% packet loss") == len(SIZES), _out(proc)
    _on_netmap(proc)


@pytest.mark.parametrize("size", [1473, 8000])
def test_ustack_pings_the_kernel_with_fragmented_payloads(ns: netns.NetNs, size: int) -> None:
    proc = _cli(ns, "ping", "--driver", "netmap", "-c", "3", "-i", "0.2", "-s", str(size))
    assert proc.returncode == 0, _out(proc)
    assert "3 packets transmitted, 3 received" in proc.stdout, _out(proc)
    assert len(re.findall(rf"{size + 8} bytes from 198\.18\.0\.2", proc.stdout)) == 3


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
    url = f"http://198.18.0.1:8080/bytes/{BIG}"
    run = f"bash -o pipefail -c 'curl -sS --fail --max-time 60 {url} | sha256sum; nstat -a'"
    proc = _serve(ns, ["--http", "8080"], run, KNOBS[knobs])
    assert proc.returncode == 0, _out(proc)
    bad = re.search(r"TcpInCsumErrors\s+(\d+)", proc.stdout)
    n = int(bad.group(1)) if bad else 0
    assert n == 0, f"the kernel dropped {n} segments for bad checksums\n{_out(proc)}"
    assert f"{pattern.sha256(BIG)}  -" in proc.stdout, _out(proc)
    m = re.search(r"http:8080: 1 connections, \d+ bytes in, (\d+) bytes out", proc.stdout)
    assert m is not None and int(m.group(1)) > BIG, _out(proc)
    _on_netmap(proc)


def test_iperf2_sends_into_discard_on_netmap(ns: netns.NetNs) -> None:
    proc = _serve(ns, ["--discard", "5001"], "iperf -c 198.18.0.1 -p 5001 -t 3")
    assert proc.returncode == 0, _out(proc)
    m = re.search(r"sec\s+([\d.]+ [KMG]?Bytes)\s+([\d.]+ [KMG]?bits/sec)", proc.stdout)
    assert m is not None, _out(proc)
    moved = re.search(r"discard:5001: 1 connections, (\d+) bytes in", proc.stdout)
    assert moved is not None and int(moved.group(1)) > 1_000_000, _out(proc)
    _on_netmap(proc)
    print(f"iperf over the emulated netmap TAP: {m.group(1)} at {m.group(2)}")


def test_20mb_through_echo_on_netmap_byte_exact(ns: netns.NetNs, tmp_path: Path) -> None:
    src, back = tmp_path / "in.bin", tmp_path / "out.bin"
    src.write_bytes(os.urandom(ECHO))
    run = f"socat -t 30 -T 30 - TCP:198.18.0.1:7 < {src} > {back}"
    proc = _serve(ns, ["--echo", "7"], run)
    assert proc.returncode == 0, _out(proc)
    assert back.stat().st_size == ECHO, _out(proc)
    assert hashlib.sha256(back.read_bytes()).digest() == hashlib.sha256(src.read_bytes()).digest()
    assert f"echo:7: 1 connections, {ECHO} bytes in, {ECHO} bytes out" in proc.stdout
    _on_netmap(proc)


def test_serve_on_netmap_without_the_emulator_says_what_it_needs(ns: netns.NetNs) -> None:
    env = {k: v for k, v in _env().items() if k != "LD_PRELOAD"}
    proc = subprocess.run(
        ns.exec_argv(sys.executable, "-m", "ustack", "serve", "--driver", "netmap", "--echo", "7"),
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
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
