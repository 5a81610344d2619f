"""Parser of packetdrill scripts (FreeBSD's TCP test-suite dialect) into a typed syntax tree.

    from ustack.packetdrill import parse_file
    script = parse_file("rcv-icmp/some-test.pkt")          # #ifdef sees {"FreeBSD"}
    for event in script.events: ...                        # TcpPacketEvent, SyscallEvent, ...

Errors raise :class:`ParseError` with the path, line and column.  The node types live in
:mod:`ustack.packetdrill.ast`; ``python -m ustack.packetdrill.parser FILE...`` dumps events.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ustack.packetdrill.ast import Event, Script
from ustack.packetdrill.lexer import ParseError

if TYPE_CHECKING:
    from ustack.packetdrill.parser import DEFAULT_DEFINES, parse_file, parse_text

__all__ = ["DEFAULT_DEFINES", "Event", "ParseError", "Script", "parse_file", "parse_text"]


def __getattr__(name: str) -> Any:
    # Imported on first use, so that `python -m ustack.packetdrill.parser` does not find the
    # module already loaded by its package (runpy warns about that).
    if name in ("DEFAULT_DEFINES", "parse_file", "parse_text"):
        from ustack.packetdrill import parser

        return getattr(parser, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
