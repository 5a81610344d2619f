"""The stack on an emulated Cortex-M (mps2-an385 under QEMU) driven from
Python: the socket-test bodies of board_cases.py that also run on a host
Stack, the board's counters and TCP table, and the packetdrill groups
snippets and rcv-icmp through the board back end.

Needs root (a namespace and a TAP), qemu-system-arm and the arm-none-eabi
toolchain (the firmware is built on first use); each skip says why, and
USTACK_REQUIRE_ALL=1 (CI) turns the skips into failures.  One board boots
for the module and is reset between tests.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from board_cases import CASES, Net, kernel_peer, packetdrill_group, reset_around
from test_board_cli import BOOT_REASON

BOARD = os.environ.get("USTACK_TEST_BOARD", "mps2-an385")
REQUIRE_ALL = os.environ.get("USTACK_REQUIRE_ALL") == "1"


pytestmark = [
    pytest.mark.interop,
    pytest.mark.skipif(
        BOOT_REASON is not None and not REQUIRE_ALL, reason=f"cannot boot {BOARD}: {BOOT_REASON}"
    ),
]


@pytest.fixture(scope="module")
def qemu_board() -> Iterator[Any]:
    from ustack.board import Board

    with Board(BOARD, seed=1) as board:
        yield board


@pytest.fixture
def board(qemu_board: Any) -> Iterator[Any]:
    yield from reset_around(qemu_board)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.__name__)
def test_case_on_qemu_board(case: Callable[[Net], None], board: Any) -> None:
    case(Net(node=board, peer=kernel_peer(board)))


def test_board_identity_counters_and_tcp_table(board: Any) -> None:
    assert board.name == BOARD or board.hello.startswith("mps2-an385 ustack ")
    iface = board.interface
    assert [str(a) for a in iface.addresses] == ["198.18.0.2/24"]
    assert iface.mtu == 1500
    before = board.netstat("tcp")["tcp"]["tcps_accepts"]
    srv = board.create_server(("", 7200))
    cli = kernel_peer(board)(socket.SOCK_STREAM)
    try:
        cli.connect(("198.18.0.2", 7200))
        conn, peer = srv.accept()
        rows = {(c.local[1], c.remote, c.state_name) for c in board.tcp_connections()}
        assert (7200, peer, "ESTABLISHED") in rows
        conn.close()
    finally:
        cli.close()
        srv.close()
    assert board.netstat("tcp")["tcp"]["tcps_accepts"] == before + 1
    assert board.stats["rx_frames"] > 0


@pytest.mark.slow
@pytest.mark.parametrize("group", ["snippets", "rcv-icmp"])
def test_packetdrill_group_on_qemu_board(group: str) -> None:
    packetdrill_group(BOARD, group)
