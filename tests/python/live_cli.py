"""What the tests that run the live CLI against the kernel share
(test_dpdk_interop.py, test_netmap_interop.py, test_afxdp_interop.py,
test_interop_linux.py): ``python -m ustack`` run inside the test's namespace
(not one of its own), its output shown on a failure, the driver counters of
its summary, the kernel's checksum errors, and the kernel's tools' command
lines with the checks of what they and the CLI printed: the kernel pings
ustack and ustack pings the kernel, curl downloads from ``serve --http``,
iperf2 sends into ``serve --discard``, socat goes through ``serve --echo``,
``fetch`` downloads from python3 -m http.server.  ustack is 198.18.0.1 and
the kernel 198.18.0.2, as the CLI sets them up by default."""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from shutil import which

import pytest

from ustack import netns, pattern

ROOT = Path(__file__).resolve().parents[2]
ENV = {
    **os.environ,
    "PYTHONPATH": str(ROOT / "python_bindings"),
    netns.INSIDE_ENV: "1",  # the CLI runs in the test's namespace, not one of its own
}

Proc = subprocess.CompletedProcess[str]
PING_SIZES = (56, 1473, 4000, 8000)  # 1473: one byte over a frame; 8000: six fragments


def run_cli(
    ns: netns.NetNs, *argv: str, timeout: float = 180, env: Mapping[str, str] | None = None
) -> Proc:
    """``python -m ustack ARGV`` inside ``ns``, output captured; ``env``
    instead of ``ENV`` when given."""
    return subprocess.run(
        ns.exec_argv(sys.executable, "-m", "ustack", *argv),
        capture_output=True,
        text=True,
        env=ENV if env is None else env,
        timeout=timeout,
        check=False,
    )


@contextlib.contextmanager
def command_namespace(prefix: str, device: str) -> Iterator[netns.NetNs]:
    """A namespace (``netns.NetNs(prefix)``) for one command, whose device
    (``ust0``..., ``device`` in the message) must not outlive the command:
    AssertionError when a link of that name is still there at the end."""
    with netns.NetNs(prefix) as n:
        yield n
        links = n.run("ip", "-o", "link").stdout
    assert "ust0" not in links, f"{device} outlived the command:\n{links}"


def show(proc: Proc) -> str:
    """The status and the ends of both outputs, for an assertion message."""
    return (
        f"status {proc.returncode}\n--- stdout\n{proc.stdout[-4000:]}\n--- stderr\n"
        + (proc.stderr[-4000:])
    )


def driver_counters(proc: Proc, driver: str) -> dict[str, int]:
    """The summary's ``(driver: N name, ...)`` counters; AssertionError
    unless frames went both ways on that driver."""
    text = proc.stdout + proc.stderr
    m = re.search(rf"(\d+) frames received, (\d+) frames sent \({driver}: ([^)]*)\)", text)
    assert m is not None and int(m.group(1)) > 0 and int(m.group(2)) > 0, show(proc)
    counters = {}
    for part in m.group(3).split(", "):
        value, _, name = part.partition(" ")
        counters[name] = int(value)
    return counters


def on_kernel_link(proc: Proc, driver: str, ifname: str = "ust0") -> dict[str, int]:
    """The command's summary names ustack's interface ``ifname`` facing the
    kernel, and the counters of ``driver`` (frames both ways): those counters."""
    text = proc.stdout + proc.stderr
    assert f"ustack on {ifname} (198.18.0.1, kernel 198.18.0.2)" in text, show(proc)
    return driver_counters(proc, driver)


def assert_no_csum_errors(proc: Proc) -> None:
    """``nstat -a`` in the run's output counted no checksum error."""
    for name in ("TcpInCsumErrors", "UdpInCsumErrors", "IcmpInCsumErrors"):
        bad = re.search(rf"{name}\s+(\d+)", proc.stdout)
        n = int(bad.group(1)) if bad else 0
        assert n == 0, f"the kernel counted {n} {name}\n{show(proc)}"


def missing_tools(tools: Sequence[str]) -> str | None:
    """Which of ``tools`` are not installed, as a skip reason, or None."""
    missing = [t for t in tools if which(t) is None]
    return f"{', '.join(missing)} not installed" if missing else None


def unavailable_reason(tools: Sequence[str], driver: str | None = None) -> str | None:
    """Why an interop module cannot run here, as a skip reason, or None: no
    network namespaces (not root), ``ustack.DRIVER`` (a driver's binding)
    not importable or built without its driver, one of ``tools`` missing."""
    reason = netns.unavailable_reason()
    if reason is not None:
        return reason
    if driver is not None:
        try:
            binding = importlib.import_module(f"ustack.{driver}")
        except ImportError as exc:
            return f"ustack.{driver} cannot be imported ({exc})"
        if not binding.available():
            return str(binding.why_unavailable())
    return missing_tools(tools)


def interop_marks(reason: str | None) -> list[pytest.MarkDecorator]:
    """``pytestmark`` of an interop module: skipped with ``reason`` when it
    is not None, except under USTACK_REQUIRE_ALL=1 (CI), where it fails."""
    return [
        pytest.mark.interop,
        pytest.mark.skipif(
            reason is not None and os.environ.get("USTACK_REQUIRE_ALL") != "1",
            reason=f"{reason}",
        ),
    ]


def kernel_pings_command(sizes: Sequence[int] = PING_SIZES) -> str:
    """The kernel pings ustack twice with each payload size, one after another."""
    return " && ".join(f"ping -c 2 -i 0.2 -W 2 -s {n} 198.18.0.1" for n in sizes)


def check_kernel_pings(proc: Proc, sizes: Sequence[int] = PING_SIZES) -> None:
    """Every ping of ``kernel_pings_command(sizes)`` was answered."""
    assert proc.returncode == 0, show(proc)
    for n in sizes:
        assert f"{n + 8} bytes from 198.18.0.1" in proc.stdout, show(proc)
    assert proc.stdout.count(" 0% packet loss") == len(sizes), show(proc)


def ping_argv(driver: str, size: int) -> list[str]:
    """``ping --driver DRIVER``: ustack pings the kernel three times with ``size`` bytes."""
    return ["ping", "--driver", driver, "-c", "3", "-i", "0.2", "-s", str(size)]


def check_ustack_pings(proc: Proc, size: int) -> None:
    """The kernel answered the three pings of ``ping_argv(driver, size)``."""
    assert proc.returncode == 0, show(proc)
    assert "3 packets transmitted, 3 received" in proc.stdout, show(proc)
    assert len(re.findall(rf"{size + 8} bytes from 198\.18\.0\.2", proc.stdout)) == 3


def curl_sha_command(url: str, max_time: int = 60) -> str:
    """curl downloads ``url`` into sha256sum, then ``nstat -a`` (the
    kernel's counters, checksum errors among them)."""
    curl = f"curl -sS --fail --max-time {max_time} {url}"
    return f"bash -o pipefail -c '{curl} | sha256sum; nstat -a'"


def check_curl_download(proc: Proc, size: int) -> None:
    """``curl_sha_command`` downloaded ``size`` bytes of ustack.pattern from
    ``serve --http 8080``, and the kernel counted no checksum error."""
    assert proc.returncode == 0, show(proc)
    assert_no_csum_errors(proc)
    assert f"{pattern.sha256(size)}  -" in proc.stdout, show(proc)
    m = re.search(r"http:8080: 1 connections, \d+ bytes in, (\d+) bytes out", proc.stdout)
    assert m is not None and int(m.group(1)) > size, show(proc)


def iperf_command(seconds: int = 3) -> str:
    """iperf2 sends to ustack's port 5001 for ``seconds``."""
    return f"iperf -c 198.18.0.1 -p 5001 -t {seconds}"


def check_iperf_discard(proc: Proc, explain: Callable[[Proc], str] = show) -> str:
    """iperf2 reported its run and ``serve --discard 5001`` took more than
    1 MB on one connection; what iperf reported ("X MBytes at Y Mbits/sec").
    ``explain`` makes the assertion messages."""
    assert proc.returncode == 0, explain(proc)
    m = re.search(r"sec\s+([\d.]+ [KMG]?Bytes)\s+([\d.]+ [KMG]?bits/sec)", proc.stdout)
    assert m is not None, explain(proc)
    moved = re.search(r"discard:5001: 1 connections, (\d+) bytes in", proc.stdout)
    assert moved is not None and int(moved.group(1)) > 1_000_000, explain(proc)
    return f"{m.group(1)} at {m.group(2)}"


def echo_files(directory: Path, size: int) -> tuple[Path, Path]:
    """``directory``/in.bin with ``size`` random bytes, and where the echo
    writes them back (out.bin, not made here)."""
    src, back = directory / "in.bin", directory / "out.bin"
    src.write_bytes(os.urandom(size))
    return src, back


def echo_command(src: Path, back: Path) -> str:
    """socat sends ``src`` through ustack's echo on port 7 into ``back``."""
    return f"socat -t 30 -T 30 - TCP:198.18.0.1:7 < {src} > {back}"


def check_echo(proc: Proc, src: Path, back: Path, size: int) -> None:
    """``echo_command(src, back)`` got back the ``size`` bytes it sent, and
    ``serve --echo 7`` counted them both ways on one connection."""
    assert proc.returncode == 0, show(proc)
    assert back.stat().st_size == size, show(proc)
    assert hashlib.sha256(back.read_bytes()).digest() == hashlib.sha256(src.read_bytes()).digest()
    assert f"echo:7: 1 connections, {size} bytes in, {size} bytes out" in proc.stdout, show(proc)


def http_server_command(directory: Path) -> str:
    """python3 -m http.server on the kernel's side, port 8000, serving ``directory``."""
    return f"exec python3 -m http.server 8000 --bind 198.18.0.2 --directory {directory}"


def fetch_argv(driver: str, directory: Path, data: bytes) -> list[str]:
    """``fetch --driver DRIVER`` of ``data``, written here to
    ``directory``/f.bin, from ``http_server_command(directory)``."""
    (directory / "f.bin").write_bytes(data)
    server = http_server_command(directory)
    return ["fetch", "--driver", driver, "http://198.18.0.2:8000/f.bin", "--run-server", server]


def check_fetch(proc: Proc, data: bytes) -> None:
    """``fetch`` downloaded ``data`` whole (its length and SHA-256)."""
    assert proc.returncode == 0, show(proc)
    assert f"HTTP 200 OK: {len(data)} bytes" in proc.stdout, show(proc)
    assert f"sha256 {hashlib.sha256(data).hexdigest()}" in proc.stdout, show(proc)
