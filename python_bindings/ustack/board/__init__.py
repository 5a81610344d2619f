"""ustack on emulated boards: building firmware, booting it under QEMU, driving it from Python.

    from ustack.board import QemuBoard
    with QemuBoard("mps2-an385") as board:   # firmware built, booted on a TAP
        board.run(f"ping -c 1 {board.address}", check=True)
        board.exit(0)

:mod:`ustack.board.qemu` builds and boots (``BOARDS``, ``build_firmware``,
``QemuBoard``); :mod:`ustack.board.protocol` is the control channel's framing.
"""

from ustack.board.qemu import (
    BOARDS,
    BoardError,
    BoardSpec,
    QemuBoard,
    board_spec,
    build_firmware,
    firmware_path,
)

__all__ = [
    "BOARDS",
    "BoardError",
    "BoardSpec",
    "QemuBoard",
    "board_spec",
    "build_firmware",
    "firmware_path",
]
