"""Interop of issue 20's TCP features with the real Linux kernel as the peer:
ustack on a TAP device (198.18.0.1) facing the kernel (198.18.0.2) in a
network namespace each test makes and removes.

- TCP Fast Open (RFC 7413), ustack client -> Linux server
  (``net.ipv4.tcp_fastopen=3``, TCP_FASTOPEN on the listener): the first
  connection gets a cookie, the second carries its data in the SYN; the
  kernel's TcpExtTCPFastOpenPassive moves, ustack's tcps_tfo_cookie_rcvd and
  tcps_tfo_syn_data_acked too.
- TCP Fast Open, Linux client (MSG_FASTOPEN) -> ustack server: the second
  SYN's data is readable at accept(); tcps_tfo_syn_data_rcvd,
  tcps_tfo_conn_accepted and the kernel's TcpExtTCPFastOpenActive move.
- TCP-MD5 (RFC 2385) with Linux's TCP_MD5SIG (option 14) both ways, a few MB
  each way, then a wrong key on either side: no connection, the kernel's
  TcpExtTCPMD5Failure or ustack's tcps_sig_rcvbadsig moves.
- The rack stack and the default one (SACK + PRR) sending 20 MB to a Linux
  receiver through the fault driver wrapping the TAP (1% seeded loss on
  ustack's transmit side): bytes intact, loss repaired without an RTO storm.
- SYN cookies with options (``net.inet.tcp.syncookies_only=1``) against a
  Linux client with its default options: window scale, SACK and timestamps
  on both ends (TCP_INFO on each side), 10 MB intact.

Each test runs this file as a script inside its namespace
(``python test_interop_tcp20.py CONFIG_JSON``): the ustack side and the
kernel side (threads with kernel sockets) in one process, the kernel's
counters read from /proc/net/netstat of the namespace.  Root only: skipped
with the reason otherwise, failed instead when USTACK_REQUIRE_ALL=1 (CI).
A failing test keeps its pcap (headers only) and names it.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from live_cli import ENV, interop_marks

import ustack
from ustack import netns
from ustack.drivers import DriverEnd
from ustack.hostlink import HostLink
from ustack.sockets import Socket

ME = "198.18.0.1"
PEER = "198.18.0.2"
PORT = 7400
SNAPLEN = 128
CHUNK = 1 << 18
LINUX_TCP_MD5SIG = 14  # <linux/tcp.h>; ustack.TCP_MD5SIG is FreeBSD's 0x10 flag
LINUX_TCPI_OPTS = {"timestamps": 1, "sack": 2, "wscale": 4}  # <linux/tcp.h> TCPI_OPT_*


def _reason() -> str | None:
    reason = netns.unavailable_reason()
    if reason is None and not (
        ustack.UST_HAS_TCP_TFO and ustack.UST_HAS_TCP_RACK and hasattr(ustack, "TCP_MD5SIG")
    ):
        reason = "library built without UST_TCP_TFO, UST_TCP_RACK or TCP-MD5"
    return reason


pytestmark = interop_marks(_reason())


# --------------------------------------------------------------------------
# The pytest side: one namespace per test, the scenario run inside it.


def _scenario(tmp_path: Path, scenario: str, linux: dict[str, str], **cfg: Any) -> str:
    """Runs ``scenario`` in a fresh namespace whose kernel has the sysctls
    ``linux``; its stdout.  The pcap is removed unless the scenario failed."""
    pcap = tmp_path / f"{scenario}.pcap"
    config = {"scenario": scenario, "pcap": str(pcap), **cfg}
    with netns.NetNs("tcp20") as ns:
        for name, value in linux.items():
            ns.run("sysctl", "-qw", f"{name}={value}")
        proc = subprocess.run(
            ns.exec_argv(sys.executable, str(Path(__file__).resolve()), json.dumps(config)),
            capture_output=True,
            text=True,
            env=ENV,
            timeout=120,
            check=False,
        )
    assert proc.returncode == 0, (
        f"{scenario} failed (config {config})\n--- stdout\n{proc.stdout[-4000:]}\n"
        f"--- stderr\n{proc.stderr[-4000:]}\npcap kept: {pcap}"
    )
    pcap.unlink(missing_ok=True)
    print(proc.stdout)
    return proc.stdout


def test_tfo_ustack_client_linux_server(tmp_path: Path) -> None:
    out = _scenario(tmp_path, "tfo_client", {"net.ipv4.tcp_fastopen": "3"})
    assert "OK tfo_client" in out, out


def test_tfo_linux_client_ustack_server(tmp_path: Path) -> None:
    out = _scenario(tmp_path, "tfo_server", {"net.ipv4.tcp_fastopen": "1"})
    assert "OK tfo_server" in out, out


def test_md5_both_ways_and_wrong_keys(tmp_path: Path) -> None:
    out = _scenario(tmp_path, "md5", {}, bytes=3 << 20)
    assert "OK md5 wrong keys" in out, out


@pytest.mark.parametrize("stack", ["rack", "freebsd"])
def test_lossy_bulk_to_linux(tmp_path: Path, stack: str) -> None:
    out = _scenario(tmp_path, "bulk", {}, stack=stack, bytes=20 << 20, loss=0.01, seed=20)
    assert f"OK bulk {stack}" in out, out


def test_syncookies_with_options_linux_client(tmp_path: Path) -> None:
    out = _scenario(tmp_path, "syncookies", {}, bytes=10 << 20)
    assert "OK syncookies" in out, out


def test_no_namespace_left_behind() -> None:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert f"ustack-tcp20-{os.getpid()}-" not in out, out
    assert not netns.leaked(), netns.leaked()


# --------------------------------------------------------------------------
# The script side: ustack and the kernel's sockets, inside the namespace.


class FaultyHostLink(HostLink):
    """A HostLink whose TAP is wrapped by the fault driver (loss on what
    ustack transmits only, seeded), when ``loss`` is given.  ``offload``
    goes to the Tap."""

    def __init__(self, *, loss: float = 0.0, fault_seed: int = 0, **kw: Any) -> None:
        self.loss = loss
        self.fault_seed = fault_seed
        self.fault: ustack.Fault | None = None
        super().__init__(**kw)

    def _attach(
        self, end: DriverEnd, name: str, pcap: str | Path | None, snaplen: int, seed: int | None
    ) -> None:
        if self.loss:
            self.fault = ustack.Fault(
                end, tx=ustack.Faults(loss=self.loss), rx=ustack.Faults(), seed=self.fault_seed
            )
            end = self.fault
        super()._attach(end, name, pcap, snaplen, seed)


def kernel_netstat() -> dict[str, int]:
    """The kernel's TcpExt counters of this namespace (what ``nstat`` shows)."""
    lines = Path("/proc/net/netstat").read_text().splitlines()
    out: dict[str, int] = {}
    for names, values in zip(lines[::2], lines[1::2], strict=True):
        if names.startswith("TcpExt:"):
            keys, vals = names.split()[1:], values.split()[1:]
            out.update({k: int(v) for k, v in zip(keys, vals, strict=True)})
    return out


def tcp(link: HostLink) -> dict[str, int]:
    return {k: int(v) for k, v in link.stack.netstat("tcp")["tcp"].items()}


class Kernel(threading.Thread):
    """Runs ``fn`` (kernel socket work) in a thread; ``join_ok`` re-raises
    its exception in the main thread."""

    def __init__(self, fn: Callable[[], Any]) -> None:
        super().__init__(daemon=True)
        self.fn = fn
        self.result: Any = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.result = self.fn()
        except BaseException as exc:  # reported by the main thread
            self.error = exc

    def join_ok(self, link: HostLink, timeout: float = 60) -> Any:
        assert link.poll_until(lambda: not self.is_alive(), timeout), "kernel side hung"
        if self.error is not None:
            raise self.error
        return self.result


def kernel_read_all(conn: socket.socket) -> tuple[int, str]:
    h, n = hashlib.sha256(), 0
    while data := conn.recv(1 << 16):
        h.update(data)
        n += len(data)
    return n, h.hexdigest()


def ustack_send_all(link: HostLink, sock: Socket, data: bytes, timeout: float = 60) -> None:
    view, sent = memoryview(data), 0
    end = time.monotonic() + timeout
    while sent < len(data):
        assert time.monotonic() < end, f"send stalled at {sent} of {len(data)}"
        busy = link.poll() > 0
        try:
            sent += sock.send(view[sent : sent + CHUNK])
            busy = True
        except BlockingIOError:
            pass
        if not busy:
            link.wait(limit=0.01)


def ustack_read(link: HostLink, sock: Socket, n: int | None, timeout: float = 60) -> bytes:
    """``n`` bytes (None: until EOF) from a non-blocking ustack socket."""
    out = bytearray()
    end = time.monotonic() + timeout
    while n is None or len(out) < n:
        assert time.monotonic() < end, f"read stalled at {len(out)} bytes"
        busy = link.poll() > 0
        try:
            data = sock.recv(CHUNK)
        except BlockingIOError:
            if not busy:
                link.wait(limit=0.01)
            continue
        if not data:
            break
        out += data
    return bytes(out)


def ustack_accept(link: HostLink, srv: Socket, timeout: float = 10) -> Socket | None:
    got: list[Socket] = []

    def ready() -> bool:
        try:
            got.append(srv.accept()[0])
        except BlockingIOError:
            return False
        return True

    if not link.poll_until(ready, timeout):
        return None
    got[0].setblocking(False)
    return got[0]


def ustack_listener(link: HostLink, **opts: int) -> Socket:
    srv = link.stack.socket(ustack.AF_INET, ustack.SOCK_STREAM)
    srv.setsockopt(ustack.SOL_SOCKET, ustack.SO_REUSEADDR, 1)
    srv.bind(("", PORT))
    srv.listen(8)
    for name, value in opts.items():
        srv.setsockopt(ustack.IPPROTO_TCP, getattr(ustack, name), value)
    srv.setblocking(False)
    return srv


def kernel_listener(**opts: int) -> socket.socket:
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    for name, value in opts.items():
        ls.setsockopt(socket.IPPROTO_TCP, getattr(socket, name), value)
    ls.bind((PEER, PORT))
    ls.listen(8)
    ls.settimeout(20)
    return ls


def wait_connected(link: HostLink, sock: Socket, timeout: float = 5) -> None:
    def settled() -> bool:
        err = sock.getsockopt(ustack.SOL_SOCKET, ustack.SO_ERROR)
        if err:
            raise OSError(err, os.strerror(err))
        try:
            sock.getpeername()
        except OSError:
            return False
        return True

    assert link.poll_until(settled, timeout), "not connected"


def linux_options(s: socket.socket) -> set[str]:
    """The options a kernel socket agreed on (struct tcp_info's tcpi_options)."""
    info = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
    return {name for name, bit in LINUX_TCPI_OPTS.items() if info[5] & bit}


# -- TCP Fast Open ----------------------------------------------------------


def tfo_client(link: HostLink, cfg: dict[str, Any]) -> None:
    link.stack.sysctl("net.inet.tcp.fastopen.client_enable", 1)
    ls = kernel_listener(TCP_FASTOPEN=16)
    msgs = [random.Random(i).randbytes(600) for i in range(2)]  # fits in one SYN

    def serve() -> list[tuple[bytes, int]]:
        got = []
        for _ in msgs:
            conn, _ = ls.accept()
            with conn:
                conn.settimeout(20)
                data = bytearray()
                while chunk := conn.recv(1 << 16):
                    data += chunk
                # TCPI_OPT_SYN_DATA (32): the kernel took data from the SYN.
                info = conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
                got.append((bytes(data), info[5] & 32))
        return got

    before = kernel_netstat()
    k = Kernel(serve)
    k.start()
    for i, msg in enumerate(msgs):
        sock = link.stack.socket(ustack.AF_INET, ustack.SOCK_STREAM)
        sock.setsockopt(ustack.IPPROTO_TCP, ustack.TCP_FASTOPEN, 1)
        sock.setblocking(False)
        assert sock.sendto(msg, (PEER, PORT)) == len(msg)
        wait_connected(link, sock)
        c = tcp(link)
        if i == 0:
            assert c["tcps_tfo_cookie_req"] >= 1 and c["tcps_tfo_cookie_rcvd"] >= 1, c
        link.poll_until(lambda: False, 0.05)
        sock.close()
    got = k.join_ok(link)
    ls.close()
    after = kernel_netstat()
    c = tcp(link)
    assert [g[0] for g in got] == msgs, "the kernel read other bytes"
    assert got[0][1] == 0 and got[1][1] != 0, f"SYN data flags {[g[1] for g in got]}"
    assert c["tcps_tfo_syn_data_acked"] >= 1, c
    passive = after["TCPFastOpenPassive"] - before["TCPFastOpenPassive"]
    reqd = after["TCPFastOpenCookieReqd"] - before["TCPFastOpenCookieReqd"]
    assert passive == 1 and reqd == 1, (passive, reqd)
    tfo = {k: v for k, v in c.items() if k.startswith("tcps_tfo_") and v}
    print(f"OK tfo_client: kernel TCPFastOpenPassive +{passive}, ustack {tfo}")


def tfo_server(link: HostLink, cfg: dict[str, Any]) -> None:
    link.stack.sysctl("net.inet.tcp.fastopen.server_enable", 1)
    srv = ustack_listener(link, TCP_FASTOPEN=1)
    msgs = [random.Random(10 + i).randbytes(500) for i in range(2)]

    def client() -> list[tuple[bytes, int]]:
        replies = []
        for msg in msgs:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                # Blocking: with a timeout (O_NONBLOCK) a cookie-less
                # MSG_FASTOPEN sendto fails with EINPROGRESS.
                s.sendto(msg, socket.MSG_FASTOPEN, (ME, PORT))
                s.settimeout(20)
                reply = s.recv(64)
                # TCPI_OPT_SYN_DATA (32): ustack acknowledged the SYN's data.
                info = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
                replies.append((reply, info[5] & 32))
        return replies

    before = kernel_netstat()
    k = Kernel(client)
    k.start()
    for i, msg in enumerate(msgs):
        conn = ustack_accept(link, srv)
        assert conn is not None, f"connection {i} not accepted"
        if i == 1:
            # The SYN's data: readable at once, before anything else came.
            first = conn.recv(4096)
            assert first == msg, f"SYN data {len(first)} bytes, not the {len(msg)} sent"
            data = first
        else:
            data = ustack_read(link, conn, len(msg))
        assert data == msg, f"connection {i}: other bytes"
        conn.send(b"ok %d" % i)
        link.poll_until(lambda: False, 0.05)
        conn.close()
    replies = k.join_ok(link)
    assert replies == [(b"ok 0", 0), (b"ok 1", 32)], replies
    srv.close()
    after = kernel_netstat()
    c = tcp(link)
    active = after["TCPFastOpenActive"] - before["TCPFastOpenActive"]
    assert active == 1, f"kernel TCPFastOpenActive +{active}"
    assert c["tcps_tfo_cookie_sent"] >= 1, c
    assert c["tcps_tfo_syn_data_rcvd"] == 1 and c["tcps_tfo_conn_accepted"] == 1, c
    assert c["tcps_tfo_syn_data_bytes"] == len(msgs[1]), c
    tfo = {k: v for k, v in c.items() if k.startswith("tcps_tfo_") and v}
    print(f"OK tfo_server: kernel TCPFastOpenActive +{active}, ustack {tfo}")


# -- TCP-MD5 ----------------------------------------------------------------


def linux_md5sig(addr: str, key: bytes) -> bytes:
    """struct tcp_md5sig for an IPv4 peer: sockaddr_storage (128 bytes),
    u8 flags, u8 prefixlen, u16 keylen, int ifindex, u8 key[80]."""
    sin = struct.pack("=H", socket.AF_INET) + struct.pack("!H", 0) + socket.inet_aton(addr)
    return sin.ljust(128, b"\0") + struct.pack("=BBHi", 0, 0, len(key), 0) + key.ljust(80, b"\0")


def md5_ustack_client(link: HostLink, key: bytes, size: int) -> None:
    """ustack signs as the client; the kernel reads ``size`` bytes, then
    sends ``size`` back; both compared by SHA-256."""
    ls = kernel_listener()
    ls.setsockopt(socket.IPPROTO_TCP, LINUX_TCP_MD5SIG, linux_md5sig(ME, key))
    up, down = random.Random(1).randbytes(size), random.Random(2).randbytes(size)

    def serve() -> tuple[int, str]:
        conn, _ = ls.accept()
        with conn:
            conn.settimeout(30)
            h, n = hashlib.sha256(), 0
            while n < size and (data := conn.recv(1 << 16)):
                h.update(data)
                n += len(data)
            conn.sendall(down)
            conn.shutdown(socket.SHUT_WR)
            return n, h.hexdigest()

    k = Kernel(serve)
    k.start()
    sock = link.stack.socket(ustack.AF_INET, ustack.SOCK_STREAM)
    sock.setsockopt(ustack.IPPROTO_TCP, ustack.TCP_MD5SIG, 1)
    sock.setblocking(False)
    try:
        sock.connect((PEER, PORT))
    except BlockingIOError:
        pass
    wait_connected(link, sock)
    ustack_send_all(link, sock, up)
    got = ustack_read(link, sock, None)
    assert k.join_ok(link) == (size, hashlib.sha256(up).hexdigest()), "kernel got other bytes"
    assert got == down, f"ustack got {len(got)} other bytes"
    sock.close()
    ls.close()


def md5_linux_client(link: HostLink, key: bytes, size: int) -> None:
    """The kernel signs as the client and sends ``size`` bytes to ustack."""
    srv = ustack_listener(link, TCP_MD5SIG=1)
    data = random.Random(3).randbytes(size)

    def client() -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.setsockopt(socket.IPPROTO_TCP, LINUX_TCP_MD5SIG, linux_md5sig(ME, key))
            s.settimeout(30)
            s.connect((ME, PORT))
            s.sendall(data)

    k = Kernel(client)
    k.start()
    conn = ustack_accept(link, srv)
    assert conn is not None, "the kernel's signed connection was not accepted"
    got = ustack_read(link, conn, None)
    k.join_ok(link)
    assert got == data, f"ustack got {len(got)} other bytes"
    conn.close()
    srv.close()


def md5(link: HostLink, cfg: dict[str, Any]) -> None:
    key = b"interop md5 key 20"
    size = int(cfg["bytes"])
    link.stack.tcp_md5_add(ME, PEER, key)
    md5_ustack_client(link, key, size)
    md5_linux_client(link, key, size // 3)
    c = tcp(link)
    assert c["tcps_sig_rcvgoodsig"] > 0 and c["tcps_sig_rcvbadsig"] == 0, c
    print(f"OK md5 both ways: rcvgoodsig {c['tcps_sig_rcvgoodsig']}")

    # ustack signs with a key the kernel does not have: the kernel drops the SYNs.
    before = kernel_netstat()
    ls = kernel_listener()
    ls.setsockopt(socket.IPPROTO_TCP, LINUX_TCP_MD5SIG, linux_md5sig(ME, b"the other key"))
    ls.setblocking(False)
    sock = link.stack.socket(ustack.AF_INET, ustack.SOCK_STREAM)
    sock.setsockopt(ustack.IPPROTO_TCP, ustack.TCP_MD5SIG, 1)
    sock.setblocking(False)
    try:
        sock.connect((PEER, PORT))
    except BlockingIOError:
        pass
    link.poll_until(lambda: False, 1.5)
    try:
        sock.getpeername()
    except OSError:
        pass
    else:
        raise AssertionError("connected although the kernel has another key")
    try:
        ls.accept()
    except BlockingIOError:
        pass
    else:
        raise AssertionError("the kernel accepted a SYN signed with another key")
    sock.close()
    ls.close()
    failures = kernel_netstat()["TCPMD5Failure"] - before["TCPMD5Failure"]
    assert failures >= 1, f"kernel TCPMD5Failure +{failures}"

    # The kernel signs with a key ustack does not have: ustack drops the SYNs.
    srv = ustack_listener(link, TCP_MD5SIG=1)
    bad0 = tcp(link)["tcps_sig_rcvbadsig"]

    def client() -> BaseException | None:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.setsockopt(socket.IPPROTO_TCP, LINUX_TCP_MD5SIG, linux_md5sig(ME, b"yet another key"))
            s.settimeout(1.5)
            try:
                s.connect((ME, PORT))
            except OSError as exc:
                return exc
        return None

    k = Kernel(client)
    k.start()
    assert ustack_accept(link, srv, 1.5) is None, "ustack accepted a SYN with another key"
    err = k.join_ok(link)
    assert isinstance(err, OSError), f"the kernel's connect ended with {err!r}"
    srv.close()
    bad = tcp(link)["tcps_sig_rcvbadsig"] - bad0
    assert bad >= 1, f"tcps_sig_rcvbadsig +{bad}"
    print(f"OK md5 wrong keys: kernel TCPMD5Failure +{failures}, ustack rcvbadsig +{bad}")


# -- rack / PRR under loss --------------------------------------------------


def bulk(link: HostLink, cfg: dict[str, Any]) -> None:
    stack, size, seed = str(cfg["stack"]), int(cfg["bytes"]), int(cfg["seed"])
    link.stack.sysctl("net.inet.tcp.functions_default", stack)
    ls = kernel_listener()
    data = random.Random(seed).randbytes(size)

    def serve() -> tuple[int, str]:
        conn, _ = ls.accept()
        with conn:
            conn.settimeout(30)
            return kernel_read_all(conn)

    k = Kernel(serve)
    k.start()
    sock = link.connect((PEER, PORT))
    sock.setblocking(False)
    t0 = time.monotonic()
    ustack_send_all(link, sock, data)
    sock.shutdown(ustack.SHUT_WR)
    got = k.join_ok(link)
    elapsed = time.monotonic() - t0
    assert got == (size, hashlib.sha256(data).hexdigest()), f"seed {seed}: the kernel got {got}"
    link.poll_until(lambda: False, 0.05)
    sock.close()
    ls.close()
    assert isinstance(link, FaultyHostLink) and link.fault is not None
    lost = link.fault.stats("tx")["lost"]
    c = tcp(link)
    assert lost >= size // 1448 // 200, f"seed {seed}: the fault driver lost only {lost}"
    if stack == "rack":
        assert c["tcps_rack_lost"] + c["tcps_tlpresends"] > 0, (seed, c)
    else:
        assert c["tcps_sack_rexmits"] > 0, (seed, c)  # SACK recovery, paced by PRR
    # Every lost data segment was sent again (the SYN and FIN may be among the lost).
    assert c["tcps_sndrexmitpack"] >= lost - 2, (seed, lost, c["tcps_sndrexmitpack"])
    # Losses are repaired by recovery, not by timeouts (no RTO storm): at
    # most a lost retransmission or two.  Before tcp_do_dupack took SACK
    # ACKs that open the window as duplicates (RFC 6675 2), the default
    # stack ended 30-60 of ~135 losses here with an RTO.
    assert c["tcps_rexmttimeo"] <= max(2, lost // 40), (seed, lost, c["tcps_rexmttimeo"])
    keys = "sndrexmitpack rexmttimeo sack_rexmits rack_lost tlpresends".split()
    shown = " ".join(f"{k} {c['tcps_' + k]}" for k in keys)
    rate = 8 * size / elapsed / 1e6
    print(f"OK bulk {stack} seed {seed}: {lost} lost, {shown}, {rate:.0f} Mbit/s")


# -- SYN cookies with options -----------------------------------------------


def syncookies(link: HostLink, cfg: dict[str, Any]) -> None:
    size = int(cfg["bytes"])
    link.stack.sysctl("net.inet.tcp.syncookies_only", 1)
    srv = ustack_listener(link)
    data = random.Random(5).randbytes(size)

    def client() -> set[str]:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.settimeout(30)
            s.connect((ME, PORT))
            s.sendall(data)
            opts = linux_options(s)
            s.shutdown(socket.SHUT_WR)
            assert s.recv(16) == b"", "ustack sent data"
            return opts

    k = Kernel(client)
    k.start()
    conn = ustack_accept(link, srv)
    assert conn is not None, "no connection"
    info = conn.getsockopt(ustack.IPPROTO_TCP, ustack.TCP_INFO)
    got = ustack_read(link, conn, None)
    conn.close()
    linux_opts = k.join_ok(link)
    srv.close()
    assert got == data, f"ustack got {len(got)} other bytes"
    c = tcp(link)
    assert c["tcps_sc_sendcookie"] == 1 and c["tcps_sc_recvcookie"] == 1, c
    assert c["tcps_sc_added"] == 0, c
    want = ustack.TCPI_OPT_WSCALE | ustack.TCPI_OPT_SACK | ustack.TCPI_OPT_TIMESTAMPS
    assert info.tcpi_options & want == want, f"ustack options {info.tcpi_options:#x}"
    assert info.tcpi_snd_wscale > 0 and info.tcpi_rcv_wscale > 0, info
    assert linux_opts == set(LINUX_TCPI_OPTS), f"the kernel agreed on {linux_opts}"
    print(
        f"OK syncookies: options {info.tcpi_options:#x}, wscale "
        f"{info.tcpi_snd_wscale}/{info.tcpi_rcv_wscale}, {size} bytes"
    )


SCENARIOS: dict[str, Callable[[HostLink, dict[str, Any]], None]] = {
    "tfo_client": tfo_client,
    "tfo_server": tfo_server,
    "md5": md5,
    "bulk": bulk,
    "syncookies": syncookies,
}


def main() -> int:
    cfg = json.loads(sys.argv[1])
    with FaultyHostLink(
        pcap=cfg["pcap"],
        snaplen=SNAPLEN,
        seed=int(cfg.get("seed", 1)),
        loss=float(cfg.get("loss", 0.0)),
        fault_seed=int(cfg.get("seed", 1)),
        # Under loss, one frame per segment (no TSO): 1% of frames is 1% of segments.
        offload=not cfg.get("loss"),
    ) as link:
        SCENARIOS[cfg["scenario"]](link, cfg)
    return 0


if __name__ == "__main__":
    sys.exit(main())
