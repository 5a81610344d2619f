"""The board control protocol, host side (firmware/fw_ctl.h is the board side).

Every integer is big-endian; one request at a time::

    request  u16 len | u8 op        | u8 tag | len bytes of arguments
    reply    u16 len | u8 op | 0x80 | u8 tag | i32 result | len-4 bytes

``result`` >= 0 is success, < 0 is ``-errno`` (ustack's UST_E* numbers,
which are FreeBSD's).  The op numbers live here and in fw_ctl.h only; the
arguments of each op are described there (ustack.board.control encodes
them).
"""

from __future__ import annotations

import struct
from typing import Protocol

__all__ = [
    "HELLO",
    "EXIT",
    "SOCKET",
    "BIND",
    "CONNECT",
    "LISTEN",
    "ACCEPT",
    "SEND",
    "SENDTO",
    "RECV",
    "RECVFROM",
    "SHUTDOWN",
    "CLOSE",
    "SETSOCKOPT",
    "GETSOCKOPT",
    "GETSOCKNAME",
    "GETPEERNAME",
    "POLL",
    "SYSCTL_GET",
    "SYSCTL_SET",
    "STATS",
    "CLOCK",
    "PCBLIST",
    "TCPDROP",
    "IFINFO",
    "ADDR_ADD",
    "ADDR_DEL",
    "ROUTE_ADD",
    "ROUTE_DEL",
    "ARP_ADD",
    "ARP_DEL",
    "RESET",
    "LIMITS",
    "REPLY",
    "PAYLOAD_MAX",
    "SOCKETS",
    "STATS_GROUPS",
    "encode",
    "decode_reply",
    "ByteStream",
    "call",
]

HELLO = 0x00
EXIT = 0x01
SOCKET = 0x02
BIND = 0x03
CONNECT = 0x04
LISTEN = 0x05
ACCEPT = 0x06
SEND = 0x07
SENDTO = 0x08
RECV = 0x09
RECVFROM = 0x0A
SHUTDOWN = 0x0B
CLOSE = 0x0C
SETSOCKOPT = 0x0D
GETSOCKOPT = 0x0E
GETSOCKNAME = 0x0F
GETPEERNAME = 0x10
POLL = 0x11
SYSCTL_GET = 0x12
SYSCTL_SET = 0x13
STATS = 0x14
CLOCK = 0x15
PCBLIST = 0x16
TCPDROP = 0x17
IFINFO = 0x18
ADDR_ADD = 0x19
ADDR_DEL = 0x1A
ROUTE_ADD = 0x1B
ROUTE_DEL = 0x1C
ARP_ADD = 0x1D
ARP_DEL = 0x1E
RESET = 0x1F
LIMITS = 0x20
REPLY = 0x80
PAYLOAD_MAX = 1536  # FW_CTL_PAYLOAD_MAX by default (a board tells its own: LIMITS)
SOCKETS = 16  # FW_CTL_SOCKETS by default
# FW_CTL_STATS groups, by number: "stack" is struct ust_stack_stats, the
# others netstat's protocols.
STATS_GROUPS = ("stack", "ether", "arp", "ip", "icmp", "udp", "tcp")
_HDR = struct.Struct(">HBB")


class ByteStream(Protocol):
    def sendall(self, data: bytes, /) -> None: ...
    def recv(self, n: int, /) -> bytes: ...


def encode(op: int, tag: int, args: bytes = b"") -> bytes:
    """One request frame."""
    if len(args) > PAYLOAD_MAX:
        raise ValueError(f"control request of {len(args)} bytes (at most {PAYLOAD_MAX})")
    return _HDR.pack(len(args), op, tag & 0xFF) + args


def _read_exact(stream: ByteStream, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = stream.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("board control channel closed")
        buf += chunk
    return bytes(buf)


def decode_reply(stream: ByteStream) -> tuple[int, int, int, bytes]:
    """Reads one reply: (op, tag, result, data)."""
    length, op, tag = _HDR.unpack(_read_exact(stream, _HDR.size))
    body = _read_exact(stream, length)
    if length < 4 or not op & REPLY:
        raise ConnectionError(f"malformed control reply (op {op:#x}, {length} bytes)")
    (result,) = struct.unpack(">i", body[:4])
    return op & ~REPLY, tag, result, body[4:]


def call(stream: ByteStream, op: int, args: bytes = b"", tag: int = 0) -> tuple[int, bytes]:
    """Sends one request and waits for its reply: (result, data)."""
    stream.sendall(encode(op, tag, args))
    rop, rtag, result, data = decode_reply(stream)
    if (rop, rtag) != (op, tag & 0xFF):
        raise ConnectionError(
            f"control reply to op {rop:#x} tag {rtag}, expected op {op:#x} tag {tag}"
        )
    return result, data
