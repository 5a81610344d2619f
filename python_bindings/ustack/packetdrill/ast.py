"""Syntax tree of a packetdrill script, as produced by :mod:`ustack.packetdrill.parser`.

Every node is a frozen dataclass.  Top-level nodes (script options and events) carry the
1-based source ``line`` where they start; their parts (TCP options, syscall arguments) belong
to that line.  Nothing is resolved here: names such as ``SOL_SOCKET`` or ``ECONNRESET`` stay
symbolic, sequence numbers stay relative to the ISNs and times stay in the form written
(kind plus microseconds), so a runner decides what they mean.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar

__all__ = [
    "BitOr",
    "Call",
    "CodeEvent",
    "CommandEvent",
    "Direction",
    "Ellipsis_",
    "Event",
    "EolOption",
    "Expr",
    "FastOpenOption",
    "GenericOption",
    "IcmpEvent",
    "Int",
    "IpField",
    "List",
    "Md5Option",
    "MssOption",
    "Name",
    "NopOption",
    "OptionLine",
    "OtherPacketEvent",
    "SackBlock",
    "SackOption",
    "SackPermittedOption",
    "Script",
    "ShellCommand",
    "Str",
    "Struct",
    "StructField",
    "SyscallEvent",
    "TcpOption",
    "TcpPacketEvent",
    "Time",
    "TimeKind",
    "TimestampOption",
    "UdpEncap",
    "WindowScaleOption",
]


# --- times ------------------------------------------------------------------------------------


class TimeKind(StrEnum):
    ABSOLUTE = "absolute"  # 0.100: since the start of the script
    RELATIVE = "relative"  # +0.1: since the previous event
    ANY = "any"  # *: whenever it happens
    RANGE = "range"  # 0.1~0.2 or +0~+0.5: anywhere in the interval
    BLOCKING = "blocking"  # 0.1...0.2: a syscall that blocks from start to end


@dataclass(frozen=True)
class Time:
    """When an event happens.  ``start_us``/``end_us`` are microseconds as written.

    ``relative``/``end_relative`` say whether each bound had a leading ``+``.  ``end_us`` is
    set only for RANGE and BLOCKING; ANY has ``start_us == 0``.
    """

    kind: TimeKind
    start_us: int
    relative: bool = False
    end_us: int | None = None
    end_relative: bool = False


# --- expressions (syscall arguments and return values) ----------------------------------------


@dataclass(frozen=True)
class Int:
    value: int
    hex: bool = False  # written as 0x..


@dataclass(frozen=True)
class Str:
    value: str  # without the quotes; escapes kept as written


@dataclass(frozen=True)
class Name:
    name: str  # a symbolic constant: SOL_SOCKET, O_NONBLOCK, ECONNRESET, ...


@dataclass(frozen=True)
class Ellipsis_:  # trailing _: Ellipsis is a builtin
    """``...``: an elided argument (a default address, length or buffer)."""


@dataclass(frozen=True)
class List:
    items: tuple[Expr, ...]  # [65536] is a pointer to an int holding 65536


@dataclass(frozen=True)
class StructField:
    name: str | None  # None for a positional member or a `...`
    value: Expr


@dataclass(frozen=True)
class Struct:
    fields: tuple[StructField, ...]

    def get(self, name: str) -> Expr | None:
        for f in self.fields:
            if f.name == name:
                return f.value
        return None


@dataclass(frozen=True)
class BitOr:
    terms: tuple[Expr, ...]  # O_RDWR | O_NONBLOCK


@dataclass(frozen=True)
class Call:
    name: str  # htons(8080), inet_addr("192.0.2.1")
    args: tuple[Expr, ...]


Expr = Int | Str | Name | Ellipsis_ | List | Struct | BitOr | Call


# --- TCP options --------------------------------------------------------------------------------


@dataclass(frozen=True)
class MssOption:
    mss: int


@dataclass(frozen=True)
class NopOption:
    pass


@dataclass(frozen=True)
class EolOption:
    pass


@dataclass(frozen=True)
class WindowScaleOption:
    shift: int


@dataclass(frozen=True)
class SackPermittedOption:
    pass


@dataclass(frozen=True)
class TimestampOption:
    val: int
    ecr: int


@dataclass(frozen=True)
class SackBlock:
    left: int
    right: int


@dataclass(frozen=True)
class SackOption:
    blocks: tuple[SackBlock, ...]


@dataclass(frozen=True)
class FastOpenOption:
    """``FO`` (RFC 7413): a cookie request when ``cookie`` is None, else the cookie bytes."""

    cookie: bytes | None


@dataclass(frozen=True)
class Md5Option:
    """``md5 valid``: an RFC 2385 signature option, with the word that follows (valid, ...)."""

    spec: str


@dataclass(frozen=True)
class GenericOption:
    """An option kind this parser does not model, kept as written."""

    kind: str
    raw: str


TcpOption = (
    MssOption
    | NopOption
    | EolOption
    | WindowScaleOption
    | SackPermittedOption
    | TimestampOption
    | SackOption
    | FastOpenOption
    | Md5Option
    | GenericOption
)


# --- events -------------------------------------------------------------------------------------


class Direction(StrEnum):
    INBOUND = "<"  # injected into the stack under test
    OUTBOUND = ">"  # expected from the stack under test


@dataclass(frozen=True)
class IpField:
    """``(tos 0x20)``, ``(ttl 64)``, ``(hlim 64)``, ``(class 0x28)``: an IP header field."""

    name: str
    value: int


@dataclass(frozen=True)
class UdpEncap:
    """``/udp(9811 > 1)``: the segment travels in UDP (RFC 8899-style tunnelling)."""

    src_port: int
    dst_port: int


@dataclass(frozen=True)
class OptionLine:
    """``--name=value`` (value None for a bare ``--name``)."""

    line: int
    name: str
    value: str | None


@dataclass(frozen=True)
class TcpPacketEvent:
    line: int
    time: Time
    direction: Direction
    flags: str  # as written without spaces, e.g. "S.", "SEW", "." ("." is ACK)
    seq_start: int | None  # None for `...(len)`: any sequence number
    seq_end: int | None
    payload_len: int
    ack: int | None = None
    win: int | None = None
    urg: int | None = None
    # None: no <...> written, so the segment carries no options.
    options: tuple[TcpOption, ...] | None = None
    options_ignored: bool = False  # <...>: do not check the options
    ecn: str | None = None  # [ect0], [ect1], [ect01], [ce], [noecn]: the IP ECN codepoint
    ip_fields: tuple[IpField, ...] = ()
    absolute_seq: bool = False  # `seq:end(len)!`: numbers are not relative to the ISN
    udp: UdpEncap | None = None

    kind: ClassVar[str] = "packet"


@dataclass(frozen=True)
class IcmpEvent:
    """``< icmp unreachable frag_needed mtu 1200 [1:1461(1460)]``: an ICMP error quoting the
    start of a TCP segment (the quoted sequence range, relative to the ISN as usual)."""

    line: int
    time: Time
    direction: Direction
    icmp_type: str  # unreachable, time_exceeded, parameter_problem, packet_too_big, ...
    icmp_code: str | None  # frag_needed, port_unreachable, code_1, ... (None when absent)
    mtu: int | None
    seq_start: int
    seq_end: int
    payload_len: int
    udp: UdpEncap | None = None  # the quoted segment was UDP-encapsulated
    ecn: str | None = None
    ip_fields: tuple[IpField, ...] = ()

    kind: ClassVar[str] = "icmp"


@dataclass(frozen=True)
class OtherPacketEvent:
    """A packet of a protocol this parser does not model (udp, sctp, ...), kept as written."""

    line: int
    time: Time
    direction: Direction
    protocol: str
    raw: str

    kind: ClassVar[str] = "other_packet"


@dataclass(frozen=True)
class SyscallEvent:
    line: int
    time: Time
    name: str
    args: tuple[Expr, ...]
    ret: Expr
    errno: str | None = None  # -1 EINPROGRESS (...)
    note: str | None = None  # the parenthesised text after the errno or value

    kind: ClassVar[str] = "syscall"


@dataclass(frozen=True)
class CommandEvent:
    """A backtick shell command, text between the backticks as written."""

    line: int
    time: Time
    command: str

    kind: ClassVar[str] = "command"


@dataclass(frozen=True)
class CodeEvent:
    """A ``%{ ... }%`` block, text between the delimiters as written."""

    line: int
    time: Time
    code: str

    kind: ClassVar[str] = "code"


Event = TcpPacketEvent | IcmpEvent | OtherPacketEvent | SyscallEvent | CommandEvent | CodeEvent


@dataclass(frozen=True)
class ShellCommand:
    """A backtick command without a time: the script's init (before the first event) or
    cleanup (after the last) command."""

    line: int
    command: str


@dataclass(frozen=True)
class Script:
    path: str
    options: tuple[OptionLine, ...]
    events: tuple[Event, ...]
    defines: frozenset[str]
    init_command: ShellCommand | None = None
    cleanup_command: ShellCommand | None = None

    def option(self, name: str) -> str | None:
        """The value of the last ``--name=value`` line, None when absent or bare."""
        value: str | None = None
        for opt in self.options:
            if opt.name == name:
                value = opt.value
        return value
