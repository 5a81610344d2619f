"""Test bodies written once for "a stack and its peer", run on a host stack
(ustack.Stack on a pipe, its peer another Stack) and on a board
(ustack.board.Board, its peer the Linux kernel on the board's TAP): the
same socket calls must behave the same on both.

``Net`` names the node under test (``node``: a Stack or a Board), a
factory of the peer's sockets, and the two addresses (the node is
198.18.0.2, the peer 198.18.0.1 in both set-ups).
"""

from __future__ import annotations

import errno
import os
import socket
import struct
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import ustack
from ustack.packetdrill.suite import default_suite_dir


def kernel_peer(board: Any) -> Callable[[int], socket.socket]:
    """Sockets of the kernel on a board's TAP (198.18.0.1), made in the
    board's namespace and used from this process."""
    from ustack.board.hostboard import netns_socket

    def make(kind: int) -> socket.socket:
        s = netns_socket(board.owner.netns.name, socket.AF_INET, kind)
        s.settimeout(10)
        return s

    return make


def packetdrill_group(board: str, group: str) -> None:
    """``ustack packetdrill --board BOARD`` on one conformance group: no failure."""
    suite = default_suite_dir()
    if not (suite / group).is_dir():
        pytest.skip(f"no conformance suite at {suite} (USTACK_CONFORMANCE_DIR)")
    env = {**os.environ, "PYTHONPATH": str(Path(ustack.__file__).resolve().parents[1])}
    # Real time on a shared host: a script whose packet came late runs again
    # (at most twice more); the report names it, and a real failure still
    # fails every run.
    argv = [sys.executable, "-m", "ustack", "packetdrill", "--board", board, "--quiet"]
    argv += ["--retries", "2"]
    proc = subprocess.run(
        [*argv, str(suite / group)],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert " 0 failed" in proc.stdout


def reset_around(board: Any) -> Iterator[Any]:
    """A fixture body: the module's board, reset before and after the test."""
    board.reset()
    yield board
    board.reset()


@dataclass
class Net:
    node: Any  # ustack.Stack or ustack.board.Board
    peer: Callable[[int], Any]  # socket type -> a socket of the peer
    node_ip: str = "198.18.0.2"
    peer_ip: str = "198.18.0.1"


def _recv_exactly(sock: Any, n: int) -> bytes:
    got = b""
    while len(got) < n:
        part = sock.recv(n - len(got))
        if not part:
            break
        got += part
    return got


def tcp_echo_server_on_node(net: Net) -> None:
    """A TCP server on the node echoes 12 KB for the peer, byte-exact."""
    srv = net.node.create_server(("", 7000))
    srv.settimeout(10)
    cli = net.peer(socket.SOCK_STREAM)
    try:
        cli.setblocking(False)
        assert cli.connect_ex((net.node_ip, 7000)) in (0, errno.EINPROGRESS)
        conn, addr = srv.accept()
        assert addr[0] == net.peer_ip
        cli.settimeout(10)
        conn.settimeout(10)
        info = conn.getsockopt(ustack.IPPROTO_TCP, ustack.TCP_INFO)
        assert info.state_name == "ESTABLISHED" and info.tcpi_snd_mss > 0
        assert conn.getpeername() == cli.getsockname()
        data = bytes(range(256)) * 48
        cli.sendall(data)
        got = _recv_exactly(conn, len(data))
        assert got == data
        conn.sendall(got)
        assert _recv_exactly(cli, len(data)) == data
        cli.shutdown(socket.SHUT_WR)
        assert conn.recv(100) == b""
        conn.close()
    finally:
        cli.close()
        srv.close()


def udp_echo_on_node(net: Net) -> None:
    """A datagram to the node comes back from it, with the right addresses."""
    srv = net.node.socket(ustack.AF_INET, ustack.SOCK_DGRAM)
    cli = net.peer(socket.SOCK_DGRAM)
    try:
        srv.bind(("", 7001))
        srv.settimeout(10)
        cli.settimeout(10)
        cli.sendto(b"ping over the wire", (net.node_ip, 7001))
        data, peer = srv.recvfrom(2048)
        assert data == b"ping over the wire" and peer[0] == net.peer_ip
        assert srv.sendto(data.upper(), peer) == len(data)
        back, frm = cli.recvfrom(2048)
        assert back == b"PING OVER THE WIRE" and frm == (net.node_ip, 7001)
    finally:
        cli.close()
        srv.close()


def connect_refused_and_timeouts(net: Net) -> None:
    """RST to a SYN is ConnectionRefusedError (connect_ex: ECONNREFUSED); a
    receive times out as the timeout says, or would block."""
    s = net.node.socket()
    try:
        s.settimeout(10)
        with pytest.raises(ConnectionRefusedError):
            s.connect((net.peer_ip, 9))
    finally:
        s.close()
    with net.node.socket() as s2:
        s2.settimeout(10)
        assert s2.connect_ex((net.peer_ip, 9)) == errno.ECONNREFUSED
    u = net.node.socket(ustack.AF_INET, ustack.SOCK_DGRAM)
    try:
        u.bind(("", 7002))
        u.settimeout(0.2)
        with pytest.raises(TimeoutError):
            u.recv(10)
        u.setblocking(False)
        with pytest.raises(BlockingIOError):
            u.recvfrom(10)
    finally:
        u.close()


def socket_options(net: Net) -> None:
    """Options read back as set, in the host's socket-module vocabulary."""
    with net.node.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32768)
        assert s.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) >= 32768
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        assert s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
        s.setsockopt(socket.IPPROTO_TCP, ustack.TCP_CONGESTION, "newreno")
        assert s.getsockopt(socket.IPPROTO_TCP, ustack.TCP_CONGESTION) == "newreno"
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("=ii", 1, 5))
        assert struct.unpack("=ii", s.getsockopt(socket.SOL_SOCKET, socket.SO_LINGER, 8)) == (1, 5)
        assert s.getsockopt(socket.SOL_SOCKET, socket.SO_TYPE) == socket.SOCK_STREAM
        assert s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0
        assert s.getsockopt(socket.IPPROTO_TCP, ustack.TCP_INFO).state_name == "CLOSED"
        with pytest.raises(OSError) as exc:
            s.setsockopt(socket.IPPROTO_TCP, ustack.TCP_CONGESTION, "no-such-cc")
        assert exc.value.errno in (errno.ENOENT, errno.EINVAL)


def sysctl_knobs(net: Net) -> None:
    """Knobs by FreeBSD name: the old value back from a write, strings for
    string knobs, ENOENT (FileNotFoundError) for an unknown name."""
    old = net.node.sysctl("net.inet.ip.ttl", 33)
    try:
        assert old == 64
        assert net.node.sysctl("net.inet.ip.ttl") == 33
    finally:
        net.node.sysctl("net.inet.ip.ttl", old)
    assert isinstance(net.node.sysctl("net.inet.tcp.cc.algorithm"), str)
    with pytest.raises(FileNotFoundError):
        net.node.sysctl("net.inet.no.such.knob")


CASES = [
    tcp_echo_server_on_node,
    udp_echo_on_node,
    connect_refused_and_timeouts,
    socket_options,
    sysctl_knobs,
]
