"""ustack.board.Board against the board emulated on the host
(tests/board/fw_ctl_host: ustack on a TAP device serving the firmware's
control protocol), and the packetdrill board back end on it.

The shared bodies of board_cases.py run twice: on a host Stack (a pipe, its
peer another Stack, virtual clock) and on the emulated board (its peer the
kernel on the board's TAP, in the board's namespace).  The board half needs
root (a namespace and a TAP) and the built fw_ctl_host; each skip says why.
test_board_qemu.py runs the same bodies on mps2-an385 under QEMU.
"""

from __future__ import annotations

import errno
import os
import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from board_cases import (
    CASES,
    Net,
    connect_refused_and_timeouts,
    kernel_peer,
    packetdrill_group,
    reset_around,
    udp_echo_on_node,
)

import ustack
from ustack import netns
from ustack.board import protocol as P
from ustack.board.hostboard import find_fw_ctl_host
from ustack.sim import PipeRig

REQUIRE_ALL = os.environ.get("USTACK_REQUIRE_ALL") == "1"


def _host_reason() -> str | None:
    reason = netns.unavailable_reason()
    if reason is None:
        try:
            find_fw_ctl_host()
        except FileNotFoundError as exc:
            reason = str(exc)
    return reason


HOST_REASON = _host_reason()
needs_host_board = pytest.mark.skipif(
    HOST_REASON is not None and not REQUIRE_ALL, reason=f"no emulated board: {HOST_REASON}"
)


@pytest.fixture(scope="module")
def host_board() -> Iterator[Any]:
    from ustack.board import Board

    with Board("host") as board:
        yield board


@pytest.fixture
def board(host_board: Any) -> Iterator[Any]:
    yield from reset_around(host_board)


# --- one body, two stacks ----------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.__name__)
def test_case_on_host_stack(case: Callable[[Net], None]) -> None:
    rig = PipeRig(addresses=True)
    try:
        case(Net(node=rig.b, peer=lambda kind: rig.a.socket(ustack.AF_INET, kind)))
    finally:
        rig.close()


@needs_host_board
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.__name__)
def test_case_on_emulated_board(case: Callable[[Net], None], board: Any) -> None:
    case(Net(node=board, peer=kernel_peer(board)))


@needs_host_board
def test_blocking_calls_without_the_poll_op(board: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A board built without event queues answers POLL with EOPNOTSUPP: the
    blocking calls and timeouts then retry the call itself."""
    assert board.call(P.POLL, b"")[0] == 0
    monkeypatch.setattr(board, "_ready", lambda fd: None)
    for case in (udp_echo_on_node, connect_refused_and_timeouts):
        case(Net(node=board, peer=kernel_peer(board)))


# --- what only a board has ---------------------------------------------------------------


@needs_host_board
def test_hello_interface_and_clock(board: Any) -> None:
    assert board.hello.startswith("host ustack ")
    assert board.name == "host"
    iface = board.interface
    assert [str(a) for a in iface.addresses] == ["198.18.0.2/24"]
    assert iface.mtu == 1500 and len(iface.mac_bytes) == 6
    t1 = board.now
    t2 = board.now
    assert 0 < t1 <= t2


@needs_host_board
def test_counters_and_tcp_table(board: Any) -> None:
    before = board.netstat("udp")["udp"]
    k = kernel_peer(board)(socket.SOCK_DGRAM)
    u = board.socket(ustack.AF_INET, ustack.SOCK_DGRAM)
    try:
        u.bind(("", 7100))
        u.settimeout(5)
        k.sendto(b"x", ("198.18.0.2", 7100))
        assert u.recv(10) == b"x"
    finally:
        u.close()
        k.close()
    after = board.netstat("udp")["udp"]
    assert after["udps_ipackets"] == before["udps_ipackets"] + 1
    assert board.stats["rx_frames"] > 0
    srv = board.create_server(("", 7101))
    cli = kernel_peer(board)(socket.SOCK_STREAM)
    try:
        cli.connect(("198.18.0.2", 7101))
        conn, peer = srv.accept()
        rows = {(c.local[1], c.state_name) for c in board.tcp_connections()}
        assert (7101, "LISTEN") in rows and (7101, "ESTABLISHED") in rows
        board.tcp_drop(("198.18.0.2", 7101), peer)
        with pytest.raises(ConnectionAbortedError):
            conn.recv(1)
        with pytest.raises(ConnectionResetError):
            cli.recv(1)
        with pytest.raises(FileNotFoundError):
            board.tcp_drop(("198.18.0.2", 7101), peer)
    finally:
        cli.close()
        srv.close()


@needs_host_board
def test_socket_table_is_bounded_and_closed_sockets_are_ebadf(board: Any) -> None:
    socks = [board.socket(ustack.AF_INET, ustack.SOCK_DGRAM) for _ in range(board.max_sockets)]
    with pytest.raises(OSError) as exc:
        board.socket(ustack.AF_INET, ustack.SOCK_DGRAM)
    assert exc.value.errno == errno.EMFILE
    socks[3].close()
    socks[3].close()  # idempotent, as socket.socket
    with pytest.raises(OSError) as exc:
        socks[3].bind(("", 1))
    assert exc.value.errno == errno.EBADF
    again = board.socket(ustack.AF_INET, ustack.SOCK_DGRAM)
    assert len(board.sockets()) == board.max_sockets
    assert board.reset() == board.max_sockets
    assert again.closed and board.sockets() == []


@needs_host_board
def test_malformed_requests_get_einval_and_the_channel_stays_in_step(board: Any) -> None:
    assert board.call(P.BIND, b"")[0] == -int(ustack.lib.UST_EBADF)
    assert board.call(P.SOCKET, b"\x01")[0] == -int(ustack.lib.UST_EINVAL)
    assert board.call(P.SYSCTL_SET, b"\x00\xff" + b"x" * 20)[0] == -int(ustack.lib.UST_EINVAL)
    assert board.call(0x7E)[0] == -int(ustack.lib.UST_EOPNOTSUPP)
    assert board.call(P.HELLO)[0] == 0


@needs_host_board
def test_reset_sets_knobs_back(board: Any) -> None:
    cc = board.sysctl("net.inet.tcp.cc.algorithm")
    other = "newreno" if cc != "newreno" else "cubic"
    assert board.sysctl("net.inet.tcp.delayed_ack", 0) == 1
    board.sysctl("net.inet.tcp.cc.algorithm", other)
    board.reset()
    assert board.sysctl("net.inet.tcp.delayed_ack") == 1
    assert board.sysctl("net.inet.tcp.cc.algorithm") == cc


@needs_host_board
def test_exit_status_comes_back() -> None:
    from ustack.board import Board
    from ustack.board.hostboard import HostBoard

    hb = HostBoard().start()
    try:
        b = Board.connect(str(hb.control_path))
        b.exit(7)
        b.close()
    finally:
        assert hb.stop() == 7


@needs_host_board
@pytest.mark.slow
@pytest.mark.parametrize("group", ["snippets", "rcv-icmp"])
def test_packetdrill_groups_on_emulated_board(group: str) -> None:
    packetdrill_group("host", group)
