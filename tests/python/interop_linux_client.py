"""ustack as a TCP client of the Linux kernel, run inside a test's namespace.

``python interop_linux_client.py CONFIG_JSON`` with CONFIG_JSON holding
``scenario`` ("echo" or "closes"), ``pcap``, ``sysctl`` (ustack's knobs),
``expect_options`` (TCPI_OPT_* bits every connection must show) and, for
echo, ``bytes``.  It puts ustack on a TAP device (198.18.0.1) facing the
kernel (198.18.0.2), runs the scenario against kernel-side peers it starts
itself, and exits 0 after printing ``OK`` lines, or raises with what went
wrong.  Run by test_interop_linux.py; not a test module itself.

- echo: socat echoes (``PIPE``) what a ustack client sends: ``bytes`` of
  seeded random data out and back, compared by SHA-256.
- closes: a kernel server in a thread closes (FIN), resets (SO_LINGER 0)
  and half-closes (shutdown SHUT_WR) one connection each; ustack must see
  EOF, ECONNRESET, and EOF while its own writes still arrive.
"""

from __future__ import annotations

import hashlib
import json
import random
import select
import socket
import struct
import subprocess
import sys
import threading
import time
from typing import Any

import ustack
from ustack.hostlink import HostLink
from ustack.sockets import Socket

PEER = "198.18.0.2"
_CHUNK = 1 << 18


def wait(link: HostLink, limit: float = 0.01) -> None:
    """Sleeps on the TAP until a frame, the next timer, or ``limit``."""
    nd = link.stack.next_deadline
    if nd is not None:
        limit = min(limit, max(0.0, (nd - link.stack.now) / 1e9))
    select.select([link.tap.fileno()], [], [], limit)


def check_options(sock: Socket, expect: int, what: str) -> None:
    got = int(sock.getsockopt(ustack.IPPROTO_TCP, ustack.TCP_INFO).tcpi_options)
    assert got == expect, f"{what}: TCP_INFO options {got:#x}, expected {expect:#x}"


def recv_until(
    link: HostLink, sock: Socket, timeout: float = 10.0
) -> tuple[bytes, BaseException | None]:
    """Everything until EOF (error None) or an exception (returned)."""
    out = bytearray()
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        busy = link.stack.poll() > 0
        try:
            data = sock.recv(_CHUNK)
        except BlockingIOError:
            if not busy:
                wait(link)
            continue
        except OSError as exc:
            return bytes(out), exc
        if not data:
            return bytes(out), None
        out += data
    raise TimeoutError(f"no EOF after {timeout} s ({len(out)} bytes read)")


def echo(link: HostLink, cfg: dict[str, Any]) -> None:
    total = int(cfg["bytes"])
    peer = subprocess.Popen(
        # -b 4096: socat writes a block into the pipe it reads itself; a block
        # larger than one pipe page can block that write forever (a deadlock).
        [
            "socat",
            "-b",
            "4096",
            "-T",
            "60",
            "-t",
            "30",
            f"TCP-LISTEN:7,bind={PEER},reuseaddr",
            "PIPE",
        ]
    )
    try:
        sock = None
        end = time.monotonic() + 10
        while sock is None:
            try:
                sock = link.connect((PEER, 7))
            except ConnectionRefusedError:
                if time.monotonic() > end:
                    raise
                link.poll_until(lambda: False, 0.05)
        check_options(sock, cfg["expect_options"], "echo")
        data = random.Random(7).randbytes(total)
        view = memoryview(data)
        want = hashlib.sha256(data).hexdigest()
        got = hashlib.sha256()
        sent = received = 0
        t0 = time.monotonic()
        deadline = t0 + 120
        while received < total:
            assert time.monotonic() < deadline, f"echo stalled: sent {sent}, received {received}"
            busy = link.stack.poll() > 0
            if sent < total:
                try:
                    n = sock.send(view[sent : sent + _CHUNK])
                    sent += n
                    busy = True
                except BlockingIOError:
                    pass
            try:
                chunk = sock.recv(_CHUNK)
                assert chunk, f"EOF after {received} of {total} echoed bytes"
                got.update(chunk)
                received += len(chunk)
                busy = True
            except BlockingIOError:
                pass
            if not busy:
                wait(link)
        elapsed = time.monotonic() - t0
        assert got.hexdigest() == want, "the echoed bytes differ from those sent"
        sock.close()
        link.poll_until(lambda: False, 0.05)
        rate = 8 * 2 * total / elapsed / 1e6
        print(f"OK echo {total} bytes each way in {elapsed:.2f} s ({rate:.0f} Mbit/s both ways)")
    finally:
        peer.terminate()
        peer.wait(timeout=5)


class KernelServer(threading.Thread):
    """A kernel TCP server that ends each accepted connection as told."""

    def __init__(self, port: int) -> None:
        super().__init__(daemon=True)
        self.lsock = socket.create_server((PEER, port), reuse_port=False)
        self.lsock.settimeout(20)
        self.modes: list[str] = []
        self.results: dict[str, Any] = {}
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            for mode in self.modes:
                conn, _ = self.lsock.accept()
                with conn:
                    getattr(self, f"_{mode}")(conn)
        except BaseException as exc:  # reported by the main thread
            self.error = exc

    def _close(self, conn: socket.socket) -> None:
        conn.sendall(b"x" * 100_000)

    def _reset(self, conn: socket.socket) -> None:
        conn.recv(16)  # the client's "ping": it is connected and listening
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    def _halfclose(self, conn: socket.socket) -> None:
        conn.sendall(b"hello")
        conn.shutdown(socket.SHUT_WR)
        h, n = hashlib.sha256(), 0
        while data := conn.recv(1 << 16):
            h.update(data)
            n += len(data)
        self.results["halfclose"] = (n, h.hexdigest())


def closes(link: HostLink, cfg: dict[str, Any]) -> None:
    srv = KernelServer(9000)
    srv.modes = ["close", "reset", "halfclose"]
    srv.start()

    # The kernel sends 100 kB and closes: ustack reads them, then EOF.
    sock = link.connect((PEER, 9000))
    check_options(sock, cfg["expect_options"], "close")
    data, err = recv_until(link, sock)
    assert err is None and data == b"x" * 100_000, (len(data), err)
    state = sock.getsockopt(ustack.IPPROTO_TCP, ustack.TCP_INFO).state_name
    assert state == "CLOSE_WAIT", state
    sock.close()
    print("OK close: 100000 bytes then EOF, CLOSE_WAIT")

    # The kernel closes with SO_LINGER 0: a RST; ustack reports ECONNRESET.
    sock = link.connect((PEER, 9000))
    check_options(sock, cfg["expect_options"], "reset")
    sock.send(b"ping")
    data, err = recv_until(link, sock)
    assert isinstance(err, ConnectionResetError), (data, err)
    try:
        sock.send(b"more")
    except OSError:
        pass
    else:
        raise AssertionError("send after a RST succeeded")
    sock.close()
    print("OK reset: ConnectionResetError")

    # The kernel shuts down writing: ustack reads EOF and can still send.
    sock = link.connect((PEER, 9000))
    check_options(sock, cfg["expect_options"], "halfclose")
    data, err = recv_until(link, sock)
    assert err is None and data == b"hello", (data, err)
    payload = random.Random(3).randbytes(1 << 20)
    view, sent = memoryview(payload), 0
    while sent < len(payload):
        busy = link.stack.poll() > 0
        try:
            sent += sock.send(view[sent : sent + _CHUNK])
            busy = True
        except BlockingIOError:
            if not busy:
                wait(link)
    sock.shutdown(ustack.SHUT_WR)
    link.poll_until(lambda: not srv.is_alive(), 20)
    sock.close()
    link.poll_until(lambda: False, 0.05)
    assert srv.error is None, srv.error
    assert srv.results.get("halfclose") == (
        len(payload),
        hashlib.sha256(payload).hexdigest(),
    ), srv.results
    print("OK halfclose: EOF read, then 1 MiB written and received by the kernel")


def main() -> int:
    cfg = json.loads(sys.argv[1])
    with HostLink(pcap=cfg.get("pcap"), snaplen=int(cfg.get("snaplen", 0))) as link:
        for item in cfg.get("sysctl", []):
            name, _, value = item.partition("=")
            link.stack.sysctl(name, int(value))
        {"echo": echo, "closes": closes}[cfg["scenario"]](link, cfg)
        print(link.stack.netstat("tcp")["tcp"]["tcps_sndrexmitpack"], "retransmitted")
    return 0


if __name__ == "__main__":
    sys.exit(main())
