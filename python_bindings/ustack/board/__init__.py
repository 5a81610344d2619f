"""ustack on emulated boards: building firmware, booting it under QEMU, driving it from Python.

    from ustack.board import QemuBoard
    with QemuBoard("mps2-an385") as board:   # firmware built, booted on a TAP
        board.run(f"ping -c 1 {board.address}", check=True)
        board.exit(0)

    from ustack.board import Board
    with Board("mps2-an385") as board:       # booted, and driven like a Stack
        srv = board.create_server(("", 5000))

:mod:`ustack.board.qemu` builds and boots (``BOARDS``, ``build_firmware``,
``QemuBoard``); :mod:`ustack.board.protocol` is the control channel's framing;
:class:`Board` (:mod:`ustack.board.control`) drives the stack on a board over
that channel with the socket API of :class:`ustack.Stack` (imported on first
use, so that the launcher needs no compiled extension).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ustack.board.qemu import (
    BOARDS,
    BoardError,
    BoardSpec,
    QemuBoard,
    board_spec,
    build_firmware,
    firmware_path,
)

if TYPE_CHECKING:
    from ustack.board.control import Board, BoardInterface, BoardSocket

__all__ = [
    "BOARDS",
    "Board",
    "BoardError",
    "BoardInterface",
    "BoardSocket",
    "BoardSpec",
    "QemuBoard",
    "board_spec",
    "build_firmware",
    "firmware_path",
]

_CONTROL = ("Board", "BoardSocket", "BoardInterface")


def __getattr__(name: str) -> Any:
    if name in _CONTROL:
        from ustack.board import control

        return getattr(control, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
