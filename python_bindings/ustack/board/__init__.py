"""ustack on emulated boards: building firmware, booting it under QEMU, driving it from Python.

:class:`Board` (``ustack.board.control``) drives the stack on a board over
its control channel with the socket API of :class:`ustack.Stack`; it is
imported on first use, so that the launcher needs no compiled extension.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ustack.board.control import Board, BoardInterface, BoardSocket

__all__ = ["Board", "BoardSocket", "BoardInterface"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from ustack.board import control

        return getattr(control, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
