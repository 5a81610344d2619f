"""Raw ICMP sockets and ``ustack ping``.

Over a pipe on the virtual clock (no privileges): a raw socket's echo
request is answered by the other stack's ICMP echo server and the reply
comes back with its IPv4 header; the ping loop counts replies and
round-trip times.  Against the Linux kernel (root, CI): ``ustack ping`` in a
namespace of its own, an unused address, and the kernel's ping(8) answered
by ustack; no namespace or TAP device is left behind.
"""

from __future__ import annotations

import os
import shutil
import signal
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import ustack
from ustack import netns
from ustack.commands.ping import PingStats, echo_request, icmp_checksum, parse, ping_loop
from ustack.sim import ADDR_A, ADDR_B, PipeRig

ENV = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "python_bindings")}
ENV.pop(netns.INSIDE_ENV, None)
REASON = netns.unavailable_reason()
needs_netns = pytest.mark.skipif(
    REASON is not None and os.environ.get("USTACK_REQUIRE_ALL") != "1", reason=f"{REASON}"
)


def raw(stack: ustack.Stack) -> ustack.Socket:
    s = stack.socket(ustack.AF_INET, ustack.SOCK_RAW, ustack.IPPROTO_ICMP)
    s.settimeout(1.0)
    return s


def test_raw_constants_and_errors(net: PipeRig) -> None:
    assert ustack.SOCK_RAW == 3 and ustack.IPPROTO_ICMP == 1
    with raw(net.a) as s:
        assert s.type == ustack.SOCK_RAW and s.proto == ustack.IPPROTO_ICMP
    with pytest.raises(OSError):
        net.a.socket(ustack.AF_INET, ustack.SOCK_RAW, 0)
    with pytest.raises(OSError):
        net.a.socket(ustack.AF_INET, ustack.SOCK_RAW, ustack.IPPROTO_UDP)


def test_raw_echo_round_trip_with_ip_header(net: PipeRig) -> None:
    with raw(net.a) as s:
        req = echo_request(0x1234, 5, 40)
        assert icmp_checksum(req) == 0
        assert s.sendto(req, (ADDR_B, 0)) == len(req)
        data, (src, port) = s.recvfrom(2048)
        assert (src, port) == (ADDR_B, 0)
        # The IPv4 header as it arrived, then B's echo reply.
        assert data[0] == 0x45 and data[9] == ustack.IPPROTO_ICMP
        assert struct.unpack("!H", data[2:4])[0] == len(data)
        assert data[12:16] == bytes(map(int, ADDR_B.split(".")))
        icmp = data[20:]
        assert icmp[0] == 0 and icmp_checksum(icmp) == 0
        assert icmp[4:] == req[4:]  # id, seq and data echoed
        got = parse(data, 0x1234)
        assert (got.kind, got.seq, got.ttl, got.length) == ("reply", 5, 64, 48)
        assert parse(data, 0x9999).kind == ""
    assert net.a.netstat("ip")["ip"]["ips_rawout"] == 1
    assert net.a.netstat("ip")["ip"]["ips_rawin"] == 1
    assert net.b.netstat("icmp")["icmp"]["icps_reflect"] == 1


def test_raw_sees_echo_requests_it_did_not_send(net: PipeRig) -> None:
    """B's raw socket gets a copy of A's request; B's stack still answers."""
    with raw(net.a) as sa, raw(net.b) as sb:
        sa.sendto(echo_request(7, 1, 8), (ADDR_B, 0))
        data, (src, _) = sb.recvfrom(2048)
        assert src == ADDR_A and data[20] == 8
        assert parse(sa.recvfrom(2048)[0], 7).kind == "reply"


def test_ping_loop_over_pipe(net: PipeRig) -> None:
    lines: list[str] = []
    world = net.a.world
    with raw(net.a) as s:
        s.setblocking(False)
        stats = ping_loop(
            s,
            ADDR_B,
            lambda done, t: world.wait(done, int(t * 1e9)),
            count=4,
            interval=1.0,
            timeout=1.0,
            size=56,
            ident=77,
            out=lines.append,
            clock=lambda: net.a.now / 1e9,
        )
    assert (stats.transmitted, stats.received, stats.loss) == (4, 4, 0.0)
    assert [ln.split()[4] for ln in lines] == [f"icmp_seq={i}" for i in range(1, 5)]
    assert all(ln.startswith(f"64 bytes from {ADDR_B}:") and "ttl=64" in ln for ln in lines)
    assert all(r < 1000.0 for r in stats.rtts)
    text = stats.summary(ADDR_B, 3000.0)
    assert "4 packets transmitted, 4 received, 0% packet loss" in text
    assert "rtt min/avg/max/mdev" in text


def test_ping_stats_summary_without_replies() -> None:
    st = PingStats(transmitted=2)
    assert st.loss == 100.0
    assert "2 packets transmitted, 0 received, 100% packet loss" in st.summary("h", 1.0)
    assert "rtt" not in st.summary("h", 1.0)


# --- against the Linux kernel ------------------------------------------------


def _ustack(*args: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ustack", *args],
        env=ENV,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _namespaces() -> set[str]:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=False)
    return {line.split()[0] for line in out.stdout.splitlines() if line.strip()}


@pytest.fixture
def no_leftovers() -> Iterator[None]:
    """Asserts the test leaves no namespace and no ust0 device behind."""
    before = _namespaces()
    yield
    assert _namespaces() - before == set()
    link = subprocess.run(["ip", "link", "show", "ust0"], capture_output=True, check=False)
    assert link.returncode != 0, "a ust0 device was left in the host's namespace"


@needs_netns
def test_ustack_ping_kernel(no_leftovers: None) -> None:
    proc = _ustack("ping", "-c", "3", "-i", "0.2")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    replies = [ln for ln in proc.stdout.splitlines() if " bytes from 198.18.0.2:" in ln]
    assert [ln.split()[4] for ln in replies] == ["icmp_seq=1", "icmp_seq=2", "icmp_seq=3"]
    assert all("ttl=64" in ln and "time=" in ln for ln in replies)
    assert "3 packets transmitted, 3 received, 0% packet loss" in proc.stdout
    assert "rtt min/avg/max/mdev" in proc.stdout


@needs_netns
def test_ustack_ping_unused_address(no_leftovers: None) -> None:
    proc = _ustack("ping", "198.18.0.9", "-c", "2", "-W", "0.5", "-i", "0.2")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "2 packets transmitted, 0 received, 100% packet loss" in proc.stdout


@needs_netns
def test_ustack_ping_pcap(no_leftovers: None, tmp_path: Path) -> None:
    pcap = tmp_path / "ping.pcap"
    proc = _ustack("ping", "-c", "1", "--pcap", str(pcap))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    raw_pcap = pcap.read_bytes()
    # Global header plus ARP and the echo request/reply at least.
    assert len(raw_pcap) > 24 + 3 * 16 + 42
    assert raw_pcap.count(bytes([198, 18, 0, 2])) >= 2


@needs_netns
@pytest.mark.skipif(
    shutil.which("ping") is None and os.environ.get("USTACK_REQUIRE_ALL") != "1",
    reason="iputils-ping is not installed (apt-get install iputils-ping)",
)
def test_kernel_ping_answered_by_ustack(no_leftovers: None) -> None:
    """ustack ping runs in a namespace we made; the kernel's ping(8) there
    reaches ustack's address, answered by its ICMP echo server; Ctrl-C ends
    ustack ping with its summary."""
    with netns.NetNs("pingtest") as ns:
        proc = subprocess.Popen(
            [sys.executable, "-m", "ustack", "ping", "--netns", ns.name, "-i", "0.2"],
            env=ENV,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        try:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                addr = ns.run("ip", "-4", "addr", "show", "dev", "ust0", check=False)
                if "198.18.0.2/24" in addr.stdout:
                    break
                time.sleep(0.1)
            else:
                pytest.fail("ustack ping did not bring up ust0")
            kping = ns.run("ping", "-c", "3", "-i", "0.2", "-W", "2", "198.18.0.1", check=False)
            assert kping.returncode == 0, kping.stdout + kping.stderr
            assert "3 received" in kping.stdout
            assert kping.stdout.count("bytes from 198.18.0.1") == 3
        finally:
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=20)
        assert proc.returncode == 0, out + err
        assert "packets transmitted" in out and "0% packet loss" in out
