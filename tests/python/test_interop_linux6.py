"""IPv6 interop with the real Linux kernel (issue 17 item 6): ustack on a TAP
device in a network namespace each test makes and removes, addresses from
2001:2::/48 (RFC 5180) or link-local only.

- SLAAC: radvd in the namespace (forwarding on) advertises 2001:2::/64;
  ustack (``net.inet6.ip6.accept_rtadv=1`` before its interface attaches)
  forms its address from the prefix and its modified EUI-64 identifier
  (or, with ``use_stableaddr=1``, an RFC 7217 one that is not),
  takes the kernel as its default router, and the kernel pings that
  address and ustack's link-local one.
- DAD: ustack adds the address the kernel already holds; it ends
  DUPLICATED (ustack's NS counted in icmp6 outhist[135], the kernel's NA
  in inhist[136]), while a free address of the same prefix passes DAD and,
  once the duplicate is removed, answers the kernel's pings.
- The kernel pings ustack with payloads from 56 to 65,000 bytes
  (fragmented both ways); ``ustack ping -6`` pings the kernel.
- curl -6 downloads 100 MB from ``ustack serve --http`` (SHA-256), iperf2
  -V sends into ``serve --discard``, ``ustack fetch`` downloads 100 MB from
  python3 -m http.server on [2001:2::2], and 20 MB go through an echo both
  ways (socat into ``serve --echo``; a ustack client through socat PIPE).

The CLI gets IPv6 from ``--address 2001:2::1/64`` (the kernel gets
2001:2::2/64, nodad).  The scenarios that need the Python API on the
ustack side (SLAAC, DAD, the ustack client) run this file as a script
inside the namespace: ``python test_interop_linux6.py CONFIG_JSON``.

Root only, with curl, iperf (2), socat, ping and radvd installed and a
library built with UST_INET6: skipped with the reason otherwise, failed
instead when USTACK_REQUIRE_ALL=1 (CI).  A failing test keeps its pcap.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import os
import random
import re
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from live_cli import (
    ENV,
    Proc,
    check_fetch,
    check_iperf_discard,
    interop_marks,
    run_cli,
    show,
    unavailable_reason,
)
from radvd_rig import radvd_path

import ustack
from ustack import netns, pattern

TOOLS = ("curl", "iperf", "socat", "ping")
ME6 = "2001:2::1"
KERNEL6 = "2001:2::2"
PREFIX6 = "2001:2::/64"
ADDR_ARGS = ["--address", f"{ME6}/64"]
BIG = 100 * 1024 * 1024  # curl and fetch
ECHO = 20 * 1024 * 1024  # the echo, each way
SNAPLEN = 128
# 1452: a 1500-byte packet; 1453: the first that fragments; 65000: about 45
# fragments each way (ustack reassembles the request and fragments its reply).
KERNEL_PING_SIZES = (56, 1232, 1452, 1453, 4000, 8000, 65000)
USTACK_PING_SIZES = (56, 1453, 8000)


def _reason() -> str | None:
    reason = unavailable_reason(TOOLS)
    if reason is None and radvd_path() is None:
        reason = "radvd not installed (apt-get install radvd)"
    if reason is None and not ustack.UST_HAS_INET6:
        reason = "this ustack library is built without IPv6 (UST_INET6=0)"
    return reason


pytestmark = interop_marks(_reason())


@pytest.fixture
def ns() -> Iterator[netns.NetNs]:
    with netns.NetNs("interop6") as n:
        yield n


def _run(ns: netns.NetNs, argv: list[str], timeout: float = 300) -> Proc:
    return subprocess.run(
        ns.exec_argv(*argv),
        capture_output=True,
        text=True,
        env=ENV,
        timeout=timeout,
        check=False,
    )


def _serve(ns: netns.NetNs, pcap: Path, service: list[str], run: str) -> Proc:
    argv = [sys.executable, "-m", "ustack", "serve", *service, *ADDR_ARGS, "-v", "--no-control"]
    argv += ["--pcap", str(pcap), "--snaplen", str(SNAPLEN), "--run", run]
    return _run(ns, argv)


def _explain(proc: Proc, pcap: Path | None, what: str) -> str:
    kept = f"\npcap kept: {pcap}" if pcap is not None else ""
    return f"{what}\n{show(proc)}{kept}"


def _on_kernel_link6(proc: Proc) -> None:
    """The summary names both families on ust0."""
    text = proc.stdout + proc.stderr
    want = f"ustack on ust0 (198.18.0.1, kernel 198.18.0.2; {ME6}, kernel {KERNEL6})"
    assert want in text, show(proc)


def _no_csum_errors(proc: Proc) -> None:
    """``nstat -a`` in the run's output counted no checksum error, IPv6 ones included."""
    for name in (
        "TcpInCsumErrors",
        "UdpInCsumErrors",
        "Udp6InCsumErrors",
        "Icmp6InCsumErrors",
    ):
        bad = re.search(rf"{name}\s+(\d+)", proc.stdout)
        n = int(bad.group(1)) if bad else 0
        assert n == 0, f"the kernel counted {n} {name}\n{show(proc)}"


def kernel_pings6_command(host: str, sizes: Sequence[int] = KERNEL_PING_SIZES) -> str:
    """The kernel pings ``host`` twice with each payload size, one after another."""
    return " && ".join(f"ping -6 -c 2 -i 0.2 -W 2 -s {n} {host}" for n in sizes)


def check_kernel_pings6(proc: Proc, host: str, sizes: Sequence[int] = KERNEL_PING_SIZES) -> None:
    assert proc.returncode == 0, show(proc)
    for n in sizes:
        assert f"{n + 8} bytes from {host}" in proc.stdout, f"size {n}\n{show(proc)}"
    assert proc.stdout.count(" 0% packet loss") == len(sizes), show(proc)


# ---- the CLI against the kernel ------------------------------------------


def test_kernel_pings_ustack_56_to_65000_bytes(ns: netns.NetNs, tmp_path: Path) -> None:
    pcap = tmp_path / "ping.pcap"
    proc = _serve(ns, pcap, ["--echo", "7"], kernel_pings6_command(ME6))
    check_kernel_pings6(proc, ME6)
    _on_kernel_link6(proc)
    pcap.unlink(missing_ok=True)


@pytest.mark.parametrize("size", USTACK_PING_SIZES)
def test_ustack_ping6_to_the_kernel(ns: netns.NetNs, size: int) -> None:
    proc = run_cli(ns, "ping", "-6", "-c", "3", "-i", "0.2", "-s", str(size), *ADDR_ARGS)
    assert proc.returncode == 0, show(proc)
    assert "3 packets transmitted, 3 received" in proc.stdout, show(proc)
    assert len(re.findall(rf"{size + 8} bytes from {re.escape(KERNEL6)}", proc.stdout)) == 3, show(
        proc
    )


def test_curl6_downloads_100mb_from_ustack_serve(ns: netns.NetNs, tmp_path: Path) -> None:
    pcap = tmp_path / "curl.pcap"
    url = f"http://[{ME6}]:8080/bytes/{BIG}"
    run = f"bash -o pipefail -c 'curl -6 -g -sS --fail --max-time 120 {url} | sha256sum; nstat -a'"
    proc = _serve(ns, pcap, ["--http", "8080"], run)
    assert proc.returncode == 0, _explain(proc, pcap, "curl -6 or serve failed")
    _no_csum_errors(proc)
    assert f"{pattern.sha256(BIG)}  -" in proc.stdout, _explain(proc, pcap, "SHA-256 differs")
    m = re.search(r"http:8080: 1 connections, \d+ bytes in, (\d+) bytes out", proc.stdout)
    assert m is not None and int(m.group(1)) > BIG, _explain(proc, pcap, "serve's count")
    assert re.search(rf"accepted \[{re.escape(KERNEL6)}\]:\d+", proc.stdout), show(proc)
    pcap.unlink(missing_ok=True)


def test_iperf2_v6_into_ustack_discard(ns: netns.NetNs, tmp_path: Path) -> None:
    pcap = tmp_path / "iperf.pcap"
    proc = _serve(ns, pcap, ["--discard", "5001"], f"iperf -V -c {ME6} -p 5001 -t 5")
    rate = check_iperf_discard(proc, lambda p: _explain(p, pcap, "iperf -V into serve --discard"))
    assert re.search(rf"accepted \[{re.escape(KERNEL6)}\]:\d+", proc.stdout), show(proc)
    print(f"iperf -V: {rate}")
    pcap.unlink(missing_ok=True)


def test_socat6_echo_20mb_through_ustack_serve(ns: netns.NetNs, tmp_path: Path) -> None:
    src, back = tmp_path / "in.bin", tmp_path / "out.bin"
    src.write_bytes(os.urandom(ECHO))
    pcap = tmp_path / "echo.pcap"
    run = f"socat -t 30 -T 30 - TCP6:[{ME6}]:7 < {src} > {back}"
    proc = _serve(ns, pcap, ["--echo", "7"], run)
    assert proc.returncode == 0, _explain(proc, pcap, "socat or serve failed")
    assert back.stat().st_size == ECHO, _explain(proc, pcap, "short echo")
    assert hashlib.sha256(back.read_bytes()).digest() == hashlib.sha256(src.read_bytes()).digest()
    assert f"echo:7: 1 connections, {ECHO} bytes in, {ECHO} bytes out" in proc.stdout, show(proc)
    pcap.unlink(missing_ok=True)


def test_ustack_fetch6_from_python_http_server(ns: netns.NetNs, tmp_path: Path) -> None:
    data = random.Random(6).randbytes(BIG)
    (tmp_path / "f.bin").write_bytes(data)
    server = f"exec python3 -m http.server 8000 --bind {KERNEL6} --directory {tmp_path}"
    url = f"http://[{KERNEL6}]:8000/f.bin"
    proc = run_cli(ns, "fetch", url, "--run-server", server, *ADDR_ARGS, timeout=300)
    check_fetch(proc, data)


# ---- the Python API on the ustack side (this file run as a script) ------


def _scenario(ns: netns.NetNs, tmp_path: Path, scenario: str, **extra: object) -> Proc:
    pcap = tmp_path / f"{scenario}.pcap"
    cfg = {"scenario": scenario, "pcap": str(pcap), "snaplen": SNAPLEN, **extra}
    proc = _run(ns, [sys.executable, str(Path(__file__).resolve()), json.dumps(cfg)])
    assert proc.returncode == 0, _explain(proc, pcap, f"{scenario} failed")
    print(proc.stdout)
    pcap.unlink(missing_ok=True)
    return proc


@pytest.mark.parametrize("stable", [0, 1], ids=["eui64", "rfc7217"])
def test_slaac_from_radvd_and_the_kernel_reaches_it(
    ns: netns.NetNs, tmp_path: Path, stable: int
) -> None:
    proc = _scenario(ns, tmp_path, "slaac", stable=stable)
    assert "OK slaac" in proc.stdout and "OK default router" in proc.stdout, show(proc)
    assert "OK kernel pings" in proc.stdout, show(proc)


def test_dad_detects_the_kernels_address(ns: netns.NetNs, tmp_path: Path) -> None:
    proc = _scenario(ns, tmp_path, "dad")
    assert "OK duplicated" in proc.stdout and "OK unique" in proc.stdout, show(proc)
    # No counter has it (nor in FreeBSD): the stack logs it, as FreeBSD's nd6_dad_duplicated.
    assert "DAD detected a duplicate IPv6 address" in proc.stderr, show(proc)


def test_ustack_client_echo6_20mb_through_socat(ns: netns.NetNs, tmp_path: Path) -> None:
    proc = _scenario(ns, tmp_path, "echo", bytes=ECHO)
    assert "OK echo" in proc.stdout, show(proc)


def test_ustack_client_echo_over_link_local_addresses(ns: netns.NetNs, tmp_path: Path) -> None:
    proc = _scenario(ns, tmp_path, "echo", bytes=ECHO, linklocal=True)
    assert re.search(r"OK echo \d+ bytes each way via \('fe80::", proc.stdout), show(proc)


def test_no_namespace_left_behind() -> None:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert f"ustack-interop6-{os.getpid()}-" not in out, out
    assert not netns.leaked(), netns.leaked()


# ==== the ustack side, run inside the test's namespace ====================


def _link(cfg: dict[str, Any], knobs: dict[str, int]) -> Any:
    """ustack on a TAP device (the kernel's end ust0) whose stack has
    ``knobs`` set before the interface attaches (accept_rtadv and the ND
    parameters are per interface, taken at attach as in FreeBSD)."""
    from ustack.hostlink import HostLink
    from ustack.stack import Stack

    class Link6(HostLink):
        def _attach(self, end: Any, name: str, pcap: Any, snaplen: int, seed: int | None) -> None:
            self.stack = Stack()
            for k, v in knobs.items():
                self.stack.sysctl(k, v)
            self.iface = self.stack.add_interface(end, name, str(self.address))
            if pcap is not None:
                self.capture = self.iface.capture(pcap, snaplen=snaplen)

    return Link6(pcap=cfg.get("pcap"), snaplen=int(cfg.get("snaplen", 0)))


def _kernel(link: Any, cmd: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """A kernel-side shell command run while the stack is polled."""
    proc = subprocess.Popen(
        cmd, shell=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    end = time.monotonic() + timeout
    while proc.poll() is None:
        if time.monotonic() > end:
            proc.kill()
            break
        if link.poll() == 0:
            link.wait(limit=0.01)
    out, _ = proc.communicate()
    return subprocess.CompletedProcess(cmd, proc.returncode, out, "")


def _kernel_ll(ifname: str) -> ipaddress.IPv6Address:
    out = subprocess.run(
        ["ip", "-6", "-o", "addr", "show", "dev", ifname, "scope", "link"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    m = re.search(r"inet6 (fe80::[0-9a-f:]+)/64", out)
    assert m is not None, f"no link-local address on {ifname}: {out}"
    return ipaddress.IPv6Address(m.group(1))


def _kernel_ready(link: Any, timeout: float = 5.0) -> None:
    """Waits for the kernel's first frame on the link (its MLD report once
    IPv6 is up on its side): a packet sent to it before that (right after
    ``disable_ipv6=0``) can be dropped, as a DAD probe or a first echo
    request was now and then."""
    start = int(link.iface.stats["ipackets"])
    assert link.poll_until(lambda: int(link.iface.stats["ipackets"]) > start, timeout), (
        "nothing from the kernel's side"
    )
    link.poll_until(lambda: False, 0.05)


def _eui64(prefix: str, mac: str) -> ipaddress.IPv6Address:
    """RFC 4291 2.5.1: prefix's 64 bits, then mac with ff:fe inside and the U/L bit flipped."""
    b = bytes.fromhex(mac.replace(":", ""))
    iid = bytes([b[0] ^ 0x02]) + b[1:3] + b"\xff\xfe" + b[3:]
    net = ipaddress.IPv6Network(prefix)
    return ipaddress.IPv6Address(net.network_address.packed[:8] + iid)


def _wait_addr(link: Any, pick: Any, timeout: float, what: str) -> Any:
    found: list[Any] = []

    def done() -> bool:
        found[:] = [a for a in link.iface.addresses6 if pick(a)]
        return bool(found)

    assert link.poll_until(done, timeout), f"{what}: {link.iface.addresses6}"
    return found[0]


def _slaac(cfg: dict[str, Any]) -> None:
    from radvd_rig import RadvdConfig, radvd

    from ustack.hostlink import setup_kernel_side6

    stable = int(cfg.get("stable", 0))
    knobs = {"net.inet6.ip6.accept_rtadv": 1, "net.inet6.ip6.use_stableaddr": stable}
    link = _link(cfg, knobs)
    with link:
        setup_kernel_side6(link.ifname, ipaddress.IPv6Interface(f"{KERNEL6}/64"))
        _kernel_ready(link)
        net = ipaddress.IPv6Network(PREFIX6)
        with radvd(RadvdConfig(link.ifname, prefix=PREFIX6)):
            addr = _wait_addr(
                link,
                lambda a: a.ip in net and a.autoconf and not a.tentative,
                30,
                "no autoconfigured address from the RA",
            )
            want = _eui64(PREFIX6, link.iface.mac)
            if stable:  # RFC 7217: semantically opaque, not derived from the MAC
                assert addr.ip != want, f"use_stableaddr=1 gave the EUI-64 {addr.ip}"
            else:
                assert addr.ip == want, f"SLAAC gave {addr.ip}, EUI-64 is {want}"
            assert not addr.duplicated, addr
            print(f"OK slaac {addr.interface} flags {addr.flags_text}", flush=True)
            router = _kernel_ll(link.ifname)
            defaults = [r for r in link.stack.routes() if str(r.dst) == "::/0"]
            assert defaults, f"no default route: {link.stack.routes()}"
            gw = str(defaults[0].gateway or "").split("%")[0]
            assert ipaddress.IPv6Address(gw) == router, f"default via {gw}, router {router}"
            print(f"OK default router {gw}%{defaults[0].interface}", flush=True)
            ll = _wait_addr(
                link,
                lambda a: a.ip.is_link_local and not a.tentative,
                10,
                "no usable link-local address",
            )
            ll_text = str(ll.interface.ip).split("%")[0]
            for host in (str(addr.ip), f"{ll_text}%{link.ifname}"):
                res = _kernel(link, f"ping -6 -c 3 -i 0.2 -W 2 {host}")
                assert res.returncode == 0 and " 0% packet loss" in res.stdout, res.stdout
                print(f"OK kernel pings {host}", flush=True)
            ent = link.stack.nd6_lookup(f"{router}%{link.iface.name}")
            print(f"nd6 entry of the router: {ent}", flush=True)
            icmp6 = link.stack.netstat("icmp6")["icmp6"]
            print(f"icmp6 in {icmp6.get('icp6s_inhist')} out {icmp6.get('icp6s_outhist')}")


def _dad(cfg: dict[str, Any]) -> None:
    from ustack.hostlink import setup_kernel_side6

    link = _link(cfg, {})
    with link:
        setup_kernel_side6(link.ifname, ipaddress.IPv6Interface(f"{KERNEL6}/64"))
        _kernel_ready(link)
        before = link.stack.netstat("icmp6")["icmp6"]
        link.iface.add_address(f"{KERNEL6}/64")  # with DAD: the kernel holds it
        link.iface.add_address(f"{ME6}/64")  # with DAD: free
        dup = _wait_addr(
            link,
            lambda a: str(a.interface.ip) == KERNEL6 and not a.tentative,
            15,
            f"{KERNEL6}: DAD never ended",
        )
        assert dup.duplicated, f"{KERNEL6} should be DUPLICATED: {dup.flags_text}"
        after = link.stack.netstat("icmp6")["icmp6"]
        ns_out = after["icp6s_outhist"].get(135, 0) - before["icp6s_outhist"].get(135, 0)
        na_in = after["icp6s_inhist"].get(136, 0) - before["icp6s_inhist"].get(136, 0)
        assert ns_out >= 1 and na_in >= 1, f"NS out {ns_out}, NA in {na_in}"
        print(f"OK duplicated {dup.interface} ({dup.flags_text}); NS out {ns_out}, NA in {na_in}")
        uniq = _wait_addr(
            link,
            lambda a: str(a.interface.ip) == ME6 and not a.tentative,
            15,
            f"{ME6}: DAD never ended",
        )
        assert not uniq.duplicated, uniq.flags_text
        # RFC 4862 5.4.5: the duplicate is not ours to use; as FreeBSD, ustack
        # keeps it (flagged) until removed, and while it stays, replies to the
        # kernel's 2001:2::2 would stay local.  The operator removes it.
        link.iface.del_address(KERNEL6)
        res = _kernel(link, f"ping -6 -c 3 -i 0.2 -W 2 {ME6}")
        assert res.returncode == 0 and " 0% packet loss" in res.stdout, res.stdout
        print(f"OK unique {uniq.interface} answers the kernel's pings", flush=True)


def _echo(cfg: dict[str, Any]) -> None:
    from ustack.hostlink import setup_kernel_side6

    total = int(cfg["bytes"])
    linklocal = bool(cfg.get("linklocal"))
    # IPv6 starts on an interface with its first address or, when it takes
    # router advertisements, at attach (in6_ifattach): the latter gives a
    # link-local address with nothing else configured.
    link = _link(cfg, {"net.inet6.ip6.accept_rtadv": 1} if linklocal else {})
    with link:
        if linklocal:
            # Link-local only: the kernel's fe80:: (zone ust0 on its side,
            # tap0 on ustack's) and ustack's own, once DAD let it be.
            setup_kernel_side6(link.ifname, None)
            _kernel_ready(link)
            _wait_addr(
                link,
                lambda a: a.ip.is_link_local and not a.tentative,
                10,
                "no usable link-local address",
            )
            kernel_ip = str(_kernel_ll(link.ifname))
            bind = f"[{kernel_ip}%{link.ifname}]"
            target = f"{kernel_ip}%{link.iface.name}"
        else:
            link.enable_ipv6(f"{ME6}/64", f"{KERNEL6}/64", kernel_ifname=link.ifname)
            _kernel_ready(link)
            bind, target = f"[{KERNEL6}]", KERNEL6
        peer = subprocess.Popen(
            [
                "socat",
                "-b",
                "4096",
                "-T",
                "60",
                "-t",
                "30",
                f"TCP6-LISTEN:7,bind={bind},reuseaddr",
                "PIPE",
            ]
        )
        try:
            sock = None
            end = time.monotonic() + 10
            while sock is None:
                try:
                    sock = link.connect((target, 7))
                except ConnectionRefusedError:
                    if time.monotonic() > end:
                        raise
                    link.poll_until(lambda: False, 0.05)
            data = random.Random(7).randbytes(total)
            view = memoryview(data)
            got = hashlib.sha256()
            sent = received = 0
            t0 = time.monotonic()
            while received < total:
                assert time.monotonic() < t0 + 120, f"stalled: sent {sent}, received {received}"
                busy = link.stack.poll() > 0
                if sent < total:
                    try:
                        sent += sock.send(view[sent : sent + (1 << 18)])
                        busy = True
                    except BlockingIOError:
                        pass
                try:
                    chunk = sock.recv(1 << 18)
                    if not chunk:
                        raise AssertionError(f"EOF after {received} bytes")
                    got.update(chunk)
                    received += len(chunk)
                    busy = True
                except BlockingIOError:
                    pass
                if not busy:
                    link.wait(limit=0.01)
            assert got.hexdigest() == hashlib.sha256(data).hexdigest(), "echoed bytes differ"
            dt = time.monotonic() - t0
            peer_name = sock.getpeername()
            sock.close()
            print(f"OK echo {total} bytes each way via {peer_name} in {dt:.2f} s", flush=True)
        finally:
            peer.kill()
            peer.wait()


def _main(argv: list[str]) -> int:
    cfg = json.loads(argv[0])
    {"slaac": _slaac, "dad": _dad, "echo": _echo}[cfg["scenario"]](cfg)
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
