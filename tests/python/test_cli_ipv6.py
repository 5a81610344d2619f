"""IPv6 in the live commands (``ping``, ``fetch``, ``serve``) and host links.

Without privileges: the address options (one per family, IPv6 defaults
2001:2::1/64 and 2001:2::2/64, the other side derived from the one given),
the 2001:2::/48 and fe80::/10 rule, URLs with IPv6 hosts.  Against the Linux
kernel (root): ``ustack ping -6`` in a namespace of its own and the kernel's
``ping -6`` answered by ustack, when the C library has raw ICMPv6 sockets.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import ustack
from ustack import netns, pattern
from ustack.commands import fetch
from ustack.commands._live import add_link_arguments, link_addresses, link_addresses6
from ustack.hostlink import check_range6

ENV = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "python_bindings")}
ENV.pop(netns.INSIDE_ENV, None)
REASON = netns.unavailable_reason()
needs_netns = pytest.mark.skipif(
    REASON is not None and os.environ.get("USTACK_REQUIRE_ALL") != "1", reason=f"{REASON}"
)


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_link_arguments(parser)
    return parser.parse_args(list(argv))


def test_ipv6_is_off_by_default() -> None:
    args = _args()
    assert link_addresses(args) == ("198.18.0.1/24", "198.18.0.2/24")
    assert link_addresses6(args) is None
    assert link_addresses6(args, wanted=True) == ("2001:2::1/64", "2001:2::2/64")


def test_one_address_option_per_family() -> None:
    args = _args("--address", "2001:2::1/64", "--address", "198.18.0.5/24")
    assert link_addresses(args) == ("198.18.0.5/24", "198.18.0.2/24")
    assert link_addresses6(args) == ("2001:2::1/64", "2001:2::2/64")
    # The other side is another host of the given address's network.
    assert link_addresses6(_args("--address", "2001:2::2/64")) == ("2001:2::2/64", "2001:2::1/64")
    assert link_addresses6(_args("--peer-address", "2001:2:0:7::1")) == (
        "2001:2:0:7::2/64",
        "2001:2:0:7::1/64",
    )
    assert link_addresses6(_args("--address", "fe80::1/64")) == ("fe80::1/64", "fe80::2/64")
    with pytest.raises(ValueError, match="one IPv6 address at most"):
        link_addresses6(_args("--address", "2001:2::1/64", "--address", "2001:2::3/64"))
    with pytest.raises(ValueError, match="one IPv4 address at most"):
        link_addresses(_args("--address", "198.18.0.1/24", "--address", "198.18.0.3/24"))


def test_ipv6_addresses_stay_in_the_benchmark_prefix() -> None:
    assert str(check_range6("2001:2::1/64")) == "2001:2::1/64"
    assert str(check_range6("2001:2:0:ffff::1")) == "2001:2:0:ffff::1/64"
    assert str(check_range6("fe80::1%eth0/64")) == "fe80::1/64"  # the link is the zone
    for bad in ("2001:db8::1/64", "fd00::1/64", "2001:3::1/64", "::1/128"):
        with pytest.raises(ValueError, match="2001:2::/48"):
            check_range6(bad)
    assert netns.BENCH_NET6 == "2001:2::/48"


def test_fetch_urls_with_ipv6_hosts() -> None:
    assert fetch._parse_url("http://[2001:2::2]:8000/x?y=1") == ("2001:2::2", 8000, "/x?y=1")
    assert fetch._parse_url("http://[fe80::2%25tap0]/") == ("fe80::2%tap0", 80, "/")
    assert fetch._parse_url("http://198.18.0.2/") == ("198.18.0.2", 80, "/")


# --- against the Linux kernel -------------------------------------------------


def _ustack(*args: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ustack", *args],
        env=ENV,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _has_raw6() -> bool:
    if not ustack.UST_HAS_INET6:
        return False
    with ustack.Stack(seed=1) as st:
        try:
            st.socket(ustack.AF_INET6, ustack.SOCK_RAW, ustack.IPPROTO_ICMPV6).close()
        except OSError:
            return False
    return True


needs_raw6 = pytest.mark.skipif(not _has_raw6(), reason="no raw ICMPv6 sockets in the C library")


@needs_netns
@needs_raw6
@pytest.mark.parametrize(
    "how", [["-6"], ["2001:2::2"], ["--address", "fe80::1/64", "fe80::2%tap0"]]
)
def test_ustack_ping6_kernel(how: list[str]) -> None:
    proc = _ustack("ping", *how, "-c", "3", "-i", "0.2", "-W", "3")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    peer = "fe80::2%tap0" if "fe80::1/64" in how else "2001:2::2"
    replies = [ln for ln in proc.stdout.splitlines() if f" bytes from {peer.split('%')[0]}:" in ln]
    assert [ln.split()[4] for ln in replies] == ["icmp_seq=1", "icmp_seq=2", "icmp_seq=3"]
    assert all("ttl=" not in ln and "time=" in ln for ln in replies)
    assert f"PING {peer} ({peer}) from " in proc.stdout
    assert "3 packets transmitted, 3 received, 0% packet loss" in proc.stdout


@needs_netns
@needs_raw6
def test_ustack_ping6_unused_address() -> None:
    proc = _ustack("ping", "2001:2::9", "-c", "2", "-W", "0.5", "-i", "0.2")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "2 packets transmitted, 0 received" in proc.stdout


@needs_netns
@needs_raw6
@pytest.mark.skipif(
    shutil.which("ping") is None and os.environ.get("USTACK_REQUIRE_ALL") != "1",
    reason="iputils-ping is not installed (apt-get install iputils-ping)",
)
def test_kernel_ping6_answered_by_ustack() -> None:
    """The kernel's ping -6 reaches ustack's IPv6 address in a namespace we
    made, answered by ustack's ICMPv6 echo (neighbor discovery both ways)."""
    with netns.NetNs("ping6test") as ns:
        proc = subprocess.Popen(
            [sys.executable, "-m", "ustack", "ping", "-6", "--netns", ns.name, "-i", "0.2"],
            env=ENV,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        try:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                addr = ns.run("ip", "-6", "addr", "show", "dev", "ust0", check=False)
                if "2001:2::2/64" in addr.stdout:
                    break
                time.sleep(0.1)
            out = ns.run("ping", "-6", "-c", "3", "-i", "0.2", "-W", "2", "2001:2::1", check=False)
            assert "3 received" in out.stdout, out.stdout + out.stderr
        finally:
            proc.send_signal(signal.SIGINT)
            stdout, stderr = proc.communicate(timeout=20)
        assert "packets transmitted" in stdout, stdout + stderr


_HOSTLINK6 = r"""
import subprocess, threading
from ustack.hostlink import HostLink
with HostLink() as link:
    link.enable_ipv6("2001:2::1/64", "2001:2::2/64", kernel_ifname="ust0", static_neighbors=True)
    out = {}
    def pinger():
        out["p"] = subprocess.run(
            ["ping", "-6", "-c", "3", "-i", "0.2", "-W", "2", "2001:2::1"],
            capture_output=True, text=True,
        )
    t = threading.Thread(target=pinger)
    t.start()
    link.poll_until(lambda: not t.is_alive(), 15)
    t.join()
    print(out["p"].stdout)
    print("echo requests", link.stack.netstat("icmp6")["icmp6"]["icp6s_inhist"].get(128, 0))
    print("kernel", [str(a) for a in link.iface.addresses6], link.peer_ip6)
"""


@needs_netns
@pytest.mark.skipif(not ustack.UST_HAS_INET6, reason="built with UST_INET6=0")
@pytest.mark.skipif(
    shutil.which("ping") is None and os.environ.get("USTACK_REQUIRE_ALL") != "1",
    reason="iputils-ping is not installed (apt-get install iputils-ping)",
)
def test_kernel_ping6_reaches_a_hostlink() -> None:
    """HostLink.enable_ipv6 on a TAP made for the run: the kernel's side
    gets IPv6 back (2001:2::2/64, nodad) and its ping -6 is answered by
    ustack's ICMPv6 echo."""
    with netns.NetNs("hostlink6") as ns:
        proc = subprocess.run(
            ns.exec_argv(sys.executable, "-c", _HOSTLINK6),
            env=ENV,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "3 packets transmitted, 3 received" in proc.stdout, proc.stdout + proc.stderr
    assert "echo requests 3" in proc.stdout
    assert "2001:2::2" in proc.stdout


def _has_tcp6() -> bool:
    if not ustack.UST_HAS_INET6:
        return False
    with ustack.Stack(seed=1) as st:
        try:
            st.socket(ustack.AF_INET6, ustack.SOCK_STREAM).close()
        except OSError:
            return False
    return True


needs_tcp6 = pytest.mark.skipif(not _has_tcp6(), reason="no TCP over IPv6 in the C library")


@needs_netns
@needs_tcp6
@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_serve_http_over_both_families() -> None:
    run = (
        "curl -sS -g http://[2001:2::1]:8080/bytes/100000 | sha256sum && "
        "curl -sS http://198.18.0.1:8080/bytes/100 | wc -c"
    )
    proc = _ustack(
        "serve", "--http", "8080", "--address", "2001:2::1/64", "--no-control",
        "--duration", "30", "--run", run, "-v",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert pattern.sha256(100000) in proc.stdout
    assert "http [2001:2::1]:8080" in proc.stdout
    assert "accepted [2001:2::2]:" in proc.stdout and "accepted 198.18.0.2:" in proc.stdout
    assert "http:8080: 2 connections" in proc.stdout


@needs_netns
@needs_tcp6
def test_fetch_from_an_ipv6_url(tmp_path: Path) -> None:
    (tmp_path / "f.bin").write_bytes(bytes(range(256)) * 100)
    server = f"{sys.executable} -m http.server 8000 --bind 2001:2::2 --directory {tmp_path}"
    proc = _ustack("fetch", "-q", "http://[2001:2::2]:8000/f.bin", "--run-server", server)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "HTTP 200 OK: 25600 bytes" in proc.stdout
    assert "connected [2001:2::1]:" in proc.stderr
