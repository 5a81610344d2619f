"""Driving the stack on a board from Python: :class:`Board`, with the socket
API of :class:`ustack.Stack`.

The board answers the control protocol (``protocol.py``, firmware/fw_ctl.c)
on a channel that is not the network under test: QEMU's second UART on a
unix socket, or the emulated board of tests/board/fw_ctl_host.c.  Each
socket call is one request; the board never blocks in one, so a blocking
call, a timeout or ``connect()`` waiting for the handshake is done here, by
asking the board for the socket's readiness (``POLL``) until it is ready or
the timeout (host time) has passed::

    from ustack.board import Board

    with Board("mps2-an385") as board:            # boots QEMU (ustack.board.qemu)
        srv = board.create_server(("", 5000))
        conn, peer = srv.accept()                  # a host client connects over the TAP
        conn.sendall(conn.recv(100))

    board = Board.connect("/run/ctl.sock")         # a channel that already exists

Errors are the exceptions :class:`ustack.Socket` raises (``OSError``
subclasses with the host's errno, also :class:`ustack.Error`).  Constants
are the host :mod:`socket` module's, as for :class:`ustack.Socket`.
"""

from __future__ import annotations

import ipaddress
import socket as _socket
import struct
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from ustack._native import ffi, lib
from ustack.board import protocol as P
from ustack.constants import (
    AF_INET,
    MSG_PEEK,
    SO_REUSEADDR,
    SO_REUSEPORT,
    SOCK_STREAM,
    SOL_SOCKET,
    from_c_type,
    to_c_level,
    to_c_option,
    to_c_type,
)
from ustack.errors import check, error_from_code
from ustack.inet import _check_address, parse_host, parse_interface, parse_network
from ustack.netstat import PROTOCOLS, counters_from_struct
from ustack.sockets import SocketIdioms, TCPInfo, _timeout_error, _WouldBlock, int_option
from ustack.stack import STACK_STATS_FIELDS, TcpConnection

__all__ = ["Board", "BoardSocket", "BoardInterface"]

T = TypeVar("T")
Address = tuple[str, int]

_EAGAIN = int(lib.UST_EAGAIN)
_EINPROGRESS = int(lib.UST_EINPROGRESS)
_EOPNOTSUPP = int(lib.UST_EOPNOTSUPP)
_C_SOL_SOCKET = int(lib.UST_SOL_SOCKET)
_C_SO_ERROR = int(lib.UST_SO_ERROR)
_C_IPPROTO_TCP = int(lib.UST_IPPROTO_TCP)
_C_TCP_INFO = int(lib.UST_TCP_INFO)
_C_TCP_CONGESTION = int(lib.UST_TCP_CONGESTION)
_C_TCP_NOPUSH = int(lib.UST_TCP_NOPUSH)
_EV_IN = int(lib.UST_EV_IN)
_EV_OUT = int(lib.UST_EV_OUT)
_EV_ERR = int(lib.UST_EV_ERR)
_EV_HUP = int(lib.UST_EV_HUP)
_MSG_WAITALL = int(getattr(_socket, "MSG_WAITALL", 0))
_UINT64_MAX = (1 << 64) - 1
_POLL_FIRST_S = 0.0005  # the readiness poll's first and longest sleep
_POLL_MAX_S = 0.02

# TCP_INFO on the wire: each field of struct ust_tcp_info in order, big-endian
# (fw_ctl.c's fw_ctl_tcp_info).
_TI_FIELDS = [name for name, _ in ffi.typeof("struct ust_tcp_info").fields]


def _ti_format() -> str:
    fmt, pos = ">", 0
    for _, f in ffi.typeof("struct ust_tcp_info").fields:
        size = ffi.sizeof(f.type)
        fmt += f"{f.offset - pos}x" if f.offset > pos else ""
        fmt += {1: "B", 4: "I", 8: "Q"}[size]
        pos = f.offset + size
    return fmt


_TI_FORMAT = _ti_format()
_STATS_CTYPES = {"stack": "struct ust_stack_stats"} | {p: f"struct ust_{p}stat" for p in PROTOCOLS}


def _sa(address: Any, what: str) -> bytes:
    """``(host, port)`` as the protocol's 6 bytes (network order)."""
    host, port = _check_address(address, what)
    return parse_host(host).to_bytes(4, sys.byteorder) + port.to_bytes(2, "big")


def _sa_tuple(raw: bytes) -> Address:
    return str(ipaddress.IPv4Address(raw[:4])), int.from_bytes(raw[4:6], "big")


@dataclass(frozen=True)
class BoardInterface:
    """The board's network interface (``Board.interface``)."""

    name: str
    mac: str
    mtu: int
    addresses: tuple[ipaddress.IPv4Interface, ...]

    @property
    def mac_bytes(self) -> bytes:
        return bytes.fromhex(self.mac.replace(":", ""))


class Board:
    """A stack on a board (QEMU, or the host emulation), driven over its
    control channel, with the socket API of :class:`ustack.Stack`.

    ``Board(board="mps2-an385", **options)`` builds (if needed) and boots
    the firmware with :class:`ustack.board.qemu.QemuBoard` and connects to
    its control channel; ``Board("host")`` starts the host emulation
    (:class:`ustack.board.hostboard.HostBoard`) instead.  :meth:`close`
    asks the firmware to exit and stops it.  ``board.owner`` is the
    launcher (its ``netns`` and ``tap`` name the board's link).
    :meth:`connect` takes a channel that exists already.
    """

    _stream: Any
    _owner: Any

    def __init__(self, board: str = "mps2-an385", **options: Any) -> None:
        self._init_channel(None)
        if board == "host":
            from ustack.board.hostboard import HostBoard

            self._owner = HostBoard(board, **options)
        else:
            from ustack.board.qemu import QemuBoard

            self._owner = QemuBoard(board, **options)
        try:
            self._owner.start()
            # QEMU's chardev takes one client: share the launcher's connection.
            control = getattr(self._owner, "control", None)
            self._stream = control() if control else _open_stream(self._owner.control_path)
            self._handshake()
        except BaseException:
            _stop(self._owner)
            raise

    def _init_channel(self, stream: Any) -> None:
        self._stream = stream
        self._owner = None
        self._lock = threading.Lock()
        self._tag = 0
        self._closed = False
        self._sockets: dict[int, BoardSocket] = {}
        self._knobs: dict[str, int | str] = {}
        self.hello = ""
        self.payload_max = P.PAYLOAD_MAX
        self.max_sockets = P.SOCKETS

    def _handshake(self) -> None:
        """HELLO, then the board's limits (LIMITS; the defaults without it)."""
        self.hello = self._check(P.HELLO)[1].decode("utf-8", "replace")
        rc, data = self.call(P.LIMITS)
        if rc == 0 and len(data) >= 3:
            self.payload_max = int.from_bytes(data[:2], "big")
            self.max_sockets = data[2]
        # SENDTO's arguments and RECVFROM's reply before the bytes.
        self._send_max = self.payload_max - 2 - 6
        self._recv_max = self.payload_max - 6

    @classmethod
    def connect(cls, path_or_stream: str | Any, *, owner: Any = None) -> Board:
        """A board on an existing control channel: a unix socket path, or a
        connected stream (``sendall``/``recv``).  ``owner`` (with a
        ``stop()``) is stopped by :meth:`close`."""
        self = cls.__new__(cls)
        stream = _open_stream(path_or_stream) if isinstance(path_or_stream, str) else path_or_stream
        self._init_channel(stream)
        self._owner = owner
        self._handshake()
        return self

    # --- the channel ----------------------------------------------------------------------

    def call(self, op: int, args: bytes = b"") -> tuple[int, bytes]:
        """One raw request: (result, data); result < 0 is -UST_E*."""
        if self._closed:
            raise error_from_code(int(lib.UST_EBADF), "board closed")
        with self._lock:
            self._tag = (self._tag + 1) & 0xFF
            return P.call(self._stream, op, args, self._tag)

    def _check(self, op: int, args: bytes = b"", subject: str | None = None) -> tuple[int, bytes]:
        rc, data = self.call(op, args)
        check(rc, subject)
        return rc, data

    @property
    def owner(self) -> Any:
        """The launcher this object booted (QemuBoard, HostBoard), or None."""
        return self._owner

    @property
    def name(self) -> str:
        """The board's name as its firmware reports it (``"mps2-an385"``)."""
        return self.hello.split(" ", 1)[0]

    # --- sockets --------------------------------------------------------------------------

    def socket(self, family: int = AF_INET, type: int = SOCK_STREAM, proto: int = 0) -> BoardSocket:  # noqa: A002
        """A new socket on the board, as :meth:`ustack.Stack.socket`."""
        if int(family) != int(AF_INET):
            raise error_from_code(int(lib.UST_EAFNOSUPPORT), "ustack speaks IPv4 only (AF_INET)")
        c_type, nonblock = to_c_type(int(type))
        rc, _ = self._check(P.SOCKET, bytes((c_type & 0xFF, int(proto) & 0xFF)))
        sock = BoardSocket(self, rc, int(family), from_c_type(c_type), int(proto))
        if nonblock:
            sock.setblocking(False)
        return sock

    def create_connection(
        self,
        address: tuple[str, int],
        timeout: float | None = None,
        source_address: tuple[str, int] | None = None,
    ) -> BoardSocket:
        """A TCP socket connected to ``(host, port)``, as :func:`socket.create_connection`."""
        sock = self.socket(AF_INET, SOCK_STREAM)
        try:
            sock.settimeout(timeout)
            if source_address is not None:
                sock.bind(source_address)
            sock.connect(address)
        except BaseException:
            sock.close()
            raise
        return sock

    def create_server(
        self, address: tuple[str, int], *, backlog: int | None = None, reuse_port: bool = False
    ) -> BoardSocket:
        """A listening TCP socket, as :func:`socket.create_server` (SO_REUSEADDR set)."""
        sock = self.socket(AF_INET, SOCK_STREAM)
        try:
            sock.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)
            if reuse_port:
                sock.setsockopt(SOL_SOCKET, SO_REUSEPORT, 1)
            sock.bind(address)
            sock.listen(128 if backlog is None else backlog)
        except BaseException:
            sock.close()
            raise
        return sock

    def sockets(self) -> list[BoardSocket]:
        """The sockets open on the board through this object."""
        return list(self._sockets.values())

    def _ready(self, fd: int) -> int | None:
        """The socket's UST_EV_* bits now; None when the board cannot tell."""
        rc, data = self.call(P.POLL, bytes((fd,)))
        if rc == -_EOPNOTSUPP:
            return None
        check(rc)
        return int.from_bytes(data[:2], "big")

    # --- knobs, counters, time ------------------------------------------------------------

    def sysctl(self, name: str, value: int | str | None = None) -> Any:
        """Read the knob ``name`` or, given ``value``, set it and return the
        previous value, as :meth:`ustack.Stack.sysctl`."""
        raw = name.encode("utf-8")
        rc, data = self._check(P.SYSCTL_GET, raw, name)
        old: int | str = data.decode("utf-8") if rc == 1 else struct.unpack(">q", data)[0]
        if value is None:
            return old
        if isinstance(old, str) != isinstance(value, str) or isinstance(value, bool):
            want = "str" if isinstance(old, str) else "int"
            raise TypeError(
                f"sysctl {name}: the value must be a {want}, not {type(value).__name__}"
            )
        if isinstance(value, str):
            arg = b"\x01" + bytes((len(raw),)) + raw + value.encode("utf-8")
        else:
            if not -(1 << 63) <= value < (1 << 63):
                raise error_from_code(int(lib.UST_EINVAL), name)
            arg = b"\x00" + bytes((len(raw),)) + raw + struct.pack(">q", value)
        self._check(P.SYSCTL_SET, arg, name)
        self._knobs.setdefault(name, old)
        return old

    def restore_sysctls(self) -> None:
        """Set every knob this object changed back to the value it had before."""
        knobs, self._knobs = self._knobs, {}
        for name, value in knobs.items():
            self.sysctl(name, value)
        self._knobs.clear()

    def _counters(self, group: str) -> dict[str, Any]:
        rc, data = self._check(P.STATS, bytes((P.STATS_GROUPS.index(group),)))
        ctype = _STATS_CTYPES[group]
        if rc != ffi.sizeof(ctype) or len(data) != rc:
            raise ConnectionError(
                f"board counters {group}: {rc} bytes, expected {ffi.sizeof(ctype)}"
            )
        out = ffi.new(ctype + " *")
        words = struct.unpack(f">{rc // 8}Q", data)
        ffi.buffer(out)[:] = struct.pack(f"={rc // 8}Q", *words)
        return counters_from_struct(out, ctype)

    @property
    def stats(self) -> dict[str, int]:
        """Stack-wide counters (``struct ust_stack_stats``), as :attr:`ustack.Stack.stats`."""
        counters = self._counters("stack")
        return {k: int(counters[k]) for k in STACK_STATS_FIELDS}

    def netstat(self, proto: str | None = None) -> dict[str, dict[str, Any]]:
        """Protocol counters, as :meth:`ustack.Stack.netstat`."""
        protos = PROTOCOLS if proto is None else (proto,)
        return {p: self._counters(p) for p in protos}

    def _clock(self) -> tuple[int, int]:
        now, deadline = struct.unpack(">QQ", self._check(P.CLOCK)[1])
        return now, deadline

    @property
    def now(self) -> int:
        """The board stack's time in nanoseconds (its SysTick clock)."""
        return self._clock()[0]

    @property
    def next_deadline(self) -> int | None:
        """The stack's next timer; None when nothing is pending."""
        d = self._clock()[1]
        return None if d == _UINT64_MAX else d

    # --- TCP table --------------------------------------------------------------------------

    def tcp_connections(self) -> list[TcpConnection]:
        """The TCP connection table, as :meth:`ustack.Stack.tcp_connections`
        (the first FW_CTL_CONNS rows)."""
        _, data = self._check(P.PCBLIST)
        rows = []
        for off in range(0, len(data) - 23, 24):
            r = data[off : off + 24]
            recv_q, send_q = struct.unpack(">II", r[16:24])
            rows.append(
                TcpConnection(
                    local=(str(ipaddress.IPv4Address(r[0:4])), int.from_bytes(r[8:10], "big")),
                    remote=(str(ipaddress.IPv4Address(r[4:8])), int.from_bytes(r[10:12], "big")),
                    state=r[12],
                    has_socket=bool(r[13]),
                    recv_q=recv_q,
                    send_q=send_q,
                )
            )
        return rows

    def tcp_drop(self, local: tuple[str, int], remote: tuple[str, int]) -> None:
        """Drop a connection as ``tcpdrop`` does (ENOENT when there is none)."""
        self._check(P.TCPDROP, _sa(local, "tcp_drop()") + _sa(remote, "tcp_drop()"))

    # --- the interface, addresses, routes, ARP --------------------------------------------

    @property
    def interface(self) -> BoardInterface:
        """The board's network interface: name, MAC, MTU, addresses."""
        _, d = self._check(P.IFINFO)
        n = d[10]
        addrs = tuple(
            ipaddress.IPv4Interface(
                (ipaddress.IPv4Address(d[11 + 5 * i : 15 + 5 * i]), d[15 + 5 * i])
            )
            for i in range(n)
        )
        return BoardInterface(
            name=d[11 + 5 * n :].decode("utf-8", "replace"),
            mac=":".join(f"{b:02x}" for b in d[:6]),
            mtu=int.from_bytes(d[6:10], "big"),
            addresses=addrs,
        )

    def add_address(self, address: str | ipaddress.IPv4Interface) -> None:
        """Add ``'198.18.0.9/24'`` to the board's interface (EEXIST if present)."""
        ifa = parse_interface(address)
        self._check(P.ADDR_ADD, ifa.ip.packed + bytes((ifa.network.prefixlen,)), str(ifa))

    def del_address(self, address: str | ipaddress.IPv4Interface) -> None:
        """Remove an address (EADDRNOTAVAIL if absent)."""
        ip = parse_interface(address).ip
        self._check(P.ADDR_DEL, ip.packed, str(ip))

    def add_route(self, destination: str, gateway: str | None = None) -> None:
        """A static route (``'default'``, ``'10.0.0.0/8'``) via ``gateway``, or on-link."""
        net = parse_network(destination)
        gw = ipaddress.IPv4Address(gateway or "0.0.0.0").packed
        self._check(P.ROUTE_ADD, net.network_address.packed + bytes((net.prefixlen,)) + gw)

    def del_route(self, destination: str) -> None:
        net = parse_network(destination)
        self._check(P.ROUTE_DEL, net.network_address.packed + bytes((net.prefixlen,)))

    def arp_add(self, ip: str, mac: bytes | str) -> None:
        """A static ARP entry on the board's interface."""
        raw = mac if isinstance(mac, bytes) else bytes.fromhex(mac.replace(":", ""))
        self._check(P.ARP_ADD, ipaddress.IPv4Address(ip).packed + raw, ip)

    def arp_del(self, ip: str) -> None:
        self._check(P.ARP_DEL, ipaddress.IPv4Address(ip).packed, ip)

    # --- life -----------------------------------------------------------------------------

    def reset(self) -> int:
        """Close every socket on the board and drop every TCP connection, and
        set back the knobs this object changed: what one test leaves must
        not meet the next.  Returns the sockets closed."""
        for sock in list(self._sockets.values()):
            sock._fd = None
        self._sockets.clear()
        rc, _ = self._check(P.RESET)
        self.restore_sysctls()
        return rc

    def exit(self, status: int = 0) -> None:
        """Ask the firmware to exit with ``status`` (QEMU ends with it)."""
        self._check(P.EXIT, struct.pack(">i", status))
        self._closed = True

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """Close the channel (and stop the board this object booted).  Idempotent."""
        if self._stream is None:
            return
        for sock in list(self._sockets.values()):
            sock._fd = None
        self._sockets.clear()
        if self._owner is not None and not self._closed:
            try:
                self.exit(0)
                if hasattr(self._owner, "wait"):
                    self._owner.wait(10)
            except (OSError, ConnectionError):
                pass
        self._closed = True
        stream, self._stream = self._stream, None
        try:
            stream.close()
        finally:
            if self._owner is not None:
                owner, self._owner = self._owner, None
                _stop(owner)

    def __enter__(self) -> Board:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<ustack.board.Board {self.hello!r}{' [closed]' if self._closed else ''}>"


def _stop(owner: Any) -> None:
    """Takes a launcher down: close() where it has one (QemuBoard), else stop()."""
    (getattr(owner, "close", None) or owner.stop)()


def _open_stream(path: str, timeout: float = 30.0) -> _socket.socket:
    """A unix-socket connection to the control channel, retried while the
    other side is still coming up."""
    end = time.monotonic() + timeout
    while True:
        s = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
        try:
            s.connect(path)
            return s
        except (FileNotFoundError, ConnectionRefusedError):
            s.close()
            if time.monotonic() > end:
                raise
            time.sleep(0.05)


class BoardSocket(SocketIdioms):
    """A socket on the board; the methods of :class:`ustack.Socket`.

    Timeouts are host time: the board's clock runs at its own pace, but a
    test waits in seconds of its own."""

    def __init__(self, board: Board, fd: int, family: int, kind: int, proto: int) -> None:
        self._board = board
        self._fd: int | None = fd
        self._family = family
        self._type = kind
        self._proto = proto
        self._timeout: float | None = None
        self._nopush = False  # TCP_NOPUSH as the application set it
        board._sockets[fd] = self

    # --- plumbing ---------------------------------------------------------------------------

    @property
    def family(self) -> int:
        return self._family

    @property
    def type(self) -> int:
        return self._type

    @property
    def proto(self) -> int:
        return self._proto

    @property
    def board(self) -> Board:
        return self._board

    @property
    def closed(self) -> bool:
        return self._fd is None

    def _fdb(self) -> bytes:
        if self._fd is None:
            raise error_from_code(int(lib.UST_EBADF))
        return bytes((self._fd,))

    def _req(self, op: int, args: bytes = b"") -> tuple[int, bytes]:
        rc, data = self._board.call(op, self._fdb() + args)
        if rc == -_EAGAIN:
            raise _WouldBlock
        check(rc)
        return rc, data

    def _wait(self, ready: Callable[[], bool], events: int) -> bool:
        """Polls the board until ``ready()`` (True) or the timeout (False)."""
        end = None if self._timeout is None else time.monotonic() + self._timeout
        pause = _POLL_FIRST_S
        while True:
            ev = self._board._ready(self._fd if self._fd is not None else -1)
            if (ev is None or ev & (events | _EV_ERR | _EV_HUP)) and ready():
                return True
            if end is not None and time.monotonic() >= end:
                return False
            time.sleep(pause if end is None else max(0.0, min(pause, end - time.monotonic())))
            pause = min(pause * 2, _POLL_MAX_S)

    def _call(self, attempt: Callable[[], T], events: int, what: str, flags: int = 0) -> T:
        return self._blocking(attempt, what, flags, lambda ready: self._wait(ready, events))

    # --- addresses --------------------------------------------------------------------------

    def bind(self, address: tuple[Any, int]) -> None:
        self._req(P.BIND, _sa(address, "bind()"))

    def connect(self, address: tuple[Any, int]) -> None:
        """Connect; a stream connect waits for the handshake as the timeout says."""
        rc, _ = self._board.call(P.CONNECT, self._fdb() + _sa(address, "connect()"))
        if rc != -_EINPROGRESS:
            check(rc)
            return
        if self._timeout == 0.0:
            check(rc)

        if not self._wait(self._established, _EV_OUT):
            raise _timeout_error("connect()")

    def getsockname(self) -> Address:
        return _sa_tuple(self._req(P.GETSOCKNAME)[1])

    def getpeername(self) -> Address:
        return _sa_tuple(self._req(P.GETPEERNAME)[1])

    # --- streams ----------------------------------------------------------------------------

    def listen(self, backlog: int = 128) -> None:
        self._req(P.LISTEN, struct.pack(">H", max(0, min(int(backlog), 0xFFFF))))

    def accept(self) -> tuple[BoardSocket, Address]:
        def attempt() -> tuple[BoardSocket, Address]:
            rc, data = self._req(P.ACCEPT)
            conn = BoardSocket(self._board, rc, self._family, self._type, self._proto)
            return conn, _sa_tuple(data)

        return self._call(attempt, _EV_IN, "accept()")

    # --- data -------------------------------------------------------------------------------

    def send(self, data: bytes | bytearray | memoryview, flags: int = 0) -> int:
        """Send on a connected socket; returns the bytes the board took.  Data
        larger than one request goes in several while the board takes it
        (the first waits as the timeout says, the others do not)."""
        view = memoryview(data).cast("B")
        if len(view) <= self._board._send_max or self._type != SOCK_STREAM or self._nopush:
            return self._send(view, flags)
        # The stack must segment the whole as one send: hold partial
        # segments until the last request (TCP_NOPUSH; clearing it sends).
        self._set_nopush(1)
        try:
            return self._send(view, flags)
        finally:
            self._set_nopush(0)

    def _set_nopush(self, on: int) -> None:
        self._req(P.SETSOCKOPT, struct.pack(">iii", _C_IPPROTO_TCP, _C_TCP_NOPUSH, on))

    def _send(self, view: memoryview, flags: int) -> int:
        hdr = bytes((self._c_flags(flags) & 0xFF,))
        first = bytes(view[: self._board._send_max])
        sent = self._call(lambda: self._req(P.SEND, hdr + first)[0], _EV_OUT, "send()", flags)
        if sent < len(first):
            return sent
        while sent < len(view):
            chunk = bytes(view[sent : sent + self._board._send_max])
            try:
                n = self._req(P.SEND, hdr + chunk)[0]
            except (_WouldBlock, OSError):
                break
            sent += n
            if n < len(chunk):
                break
        return sent

    def sendto(self, data: bytes | bytearray | memoryview, *args: Any) -> int:
        """``sendto(data, address)`` or ``sendto(data, flags, address)``."""
        flags, address = self._sendto_args(args)
        raw = bytes(data)
        if len(raw) > self._board._send_max:
            raise error_from_code(
                int(lib.UST_EMSGSIZE), f"{len(raw)} bytes (board: {self._board._send_max})"
            )
        arg = bytes((self._c_flags(flags) & 0xFF,)) + _sa(address, "sendto()") + raw
        return self._call(lambda: self._req(P.SENDTO, arg)[0], _EV_OUT, "sendto()", flags)

    def _recvfrom(self, bufsize: int, flags: int, what: str) -> tuple[bytes, Address]:
        if bufsize < 0:
            raise ValueError(f"negative buffersize in {what}")
        arg = bytes((self._c_flags(flags) & 0xFF,)) + struct.pack(
            ">H", min(bufsize, self._board._recv_max)
        )

        def attempt() -> tuple[bytes, Address]:
            _, data = self._req(P.RECVFROM, arg)
            return data[6:], _sa_tuple(data[:6])

        data, peer = self._call(attempt, _EV_IN, what, flags)
        if self._type != SOCK_STREAM or flags & MSG_PEEK:
            return data, peer
        # A stream read larger than one request takes what the board holds
        # already, as one recv(2) would, without waiting for more.
        chunks = [data]
        got = len(data)
        while len(chunks[-1]) == self._board._recv_max and got < bufsize:
            arg = arg[:1] + struct.pack(">H", min(bufsize - got, self._board._recv_max))
            try:
                chunks.append(attempt()[0])
            except (_WouldBlock, OSError):
                break
            got += len(chunks[-1])
        return b"".join(chunks), peer

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        """Up to ``bufsize`` bytes (one datagram for UDP); MSG_WAITALL waits for all."""
        if flags & _MSG_WAITALL and self._type == SOCK_STREAM and bufsize > 0:
            return self._recv_waitall(bufsize, flags)
        if bufsize == 0 and self._type == SOCK_STREAM:
            self._fdb()
            return b""
        return self._recvfrom(bufsize, flags, "recv()")[0]

    def recvfrom(self, bufsize: int, flags: int = 0) -> tuple[bytes, Any]:
        data, peer = self._recvfrom(bufsize, flags, "recvfrom()")
        return data, None if self._type == SOCK_STREAM else peer

    def recv_into(self, buffer: bytearray | memoryview, nbytes: int = 0, flags: int = 0) -> int:
        n, _ = self.recvfrom_into(buffer, nbytes, flags)
        return n

    def recvfrom_into(
        self, buffer: bytearray | memoryview, nbytes: int = 0, flags: int = 0
    ) -> tuple[int, Any]:
        view = memoryview(buffer).cast("B")
        if nbytes < 0:
            raise ValueError("negative buffersize in recvfrom_into()")
        if nbytes > len(view):
            raise ValueError("buffer too small for requested bytes in recvfrom_into()")
        data, peer = self.recvfrom(nbytes or len(view), flags)
        view[: len(data)] = data
        return len(data), peer

    # --- options ----------------------------------------------------------------------------

    def setsockopt(self, level: int, optname: int, value: int | bytes | bytearray | str) -> None:
        """An int, raw bytes in the host's layout (``SO_LINGER``: two C ints)
        or a string (``TCP_CONGESTION``)."""
        c_level, c_opt = to_c_level(level), to_c_option(level, optname)
        if isinstance(value, str):
            value = value.encode()
        if isinstance(value, int):
            try:
                raw = struct.pack(">i", value)
            except struct.error:
                raise OverflowError(f"option value {value} does not fit a C int") from None
        elif (c_level, c_opt) == (_C_IPPROTO_TCP, _C_TCP_CONGESTION):
            raw = bytes(value)
        else:
            if len(value) % 4:
                raise error_from_code(int(lib.UST_EINVAL), "option value: C ints only")
            n = len(value) // 4
            raw = struct.pack(f">{n}i", *struct.unpack(f"={n}i", bytes(value)))
        self._req(P.SETSOCKOPT, struct.pack(">ii", c_level, c_opt) + raw)
        if (c_level, c_opt) == (_C_IPPROTO_TCP, _C_TCP_NOPUSH):
            self._nopush = raw != bytes(4)

    def _so_error(self) -> int:
        """SO_ERROR as ustack's error number (reading clears it)."""
        raw = self._req(P.GETSOCKOPT, struct.pack(">iiH", _C_SOL_SOCKET, _C_SO_ERROR, 4))[1]
        return int(struct.unpack(">i", raw)[0])

    def getsockopt(self, level: int, optname: int, buflen: int = 0) -> Any:
        """As :meth:`ustack.Socket.getsockopt`: an int, ``buflen`` raw bytes,
        a :class:`ustack.TCPInfo` for TCP_INFO, a str for TCP_CONGESTION,
        SO_ERROR as the host's errno."""
        if buflen < 0:
            raise ValueError("getsockopt buflen out of range")
        c_level, c_opt = to_c_level(level), to_c_option(level, optname)
        size = buflen or 4
        rc, data = self._req(P.GETSOCKOPT, struct.pack(">iiH", c_level, c_opt, min(size, 0xFFFF)))
        if (c_level, c_opt) == (_C_IPPROTO_TCP, _C_TCP_INFO):
            info = TCPInfo(zip(_TI_FIELDS, struct.unpack(_TI_FORMAT, data), strict=True))
            return info if buflen == 0 else _tcp_info_raw(info)[:buflen]
        if (c_level, c_opt) == (_C_IPPROTO_TCP, _C_TCP_CONGESTION):
            return data.split(b"\0", 1)[0].decode() if buflen == 0 else data[:buflen]
        n = len(data) // 4
        words = struct.unpack(f">{n}i", data[: 4 * n])
        if buflen > 0:
            return struct.pack(f"={n}i", *words)[:buflen]
        return int_option(c_level, c_opt, words[0] if words else 0)

    # --- shutdown and close -----------------------------------------------------------------

    def shutdown(self, how: int) -> None:
        self._req(P.SHUTDOWN, bytes((int(how) & 0xFF,)))

    def close(self) -> None:
        """Close the socket on the board.  Idempotent."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        self._board._sockets.pop(fd, None)
        if self._board.closed:
            return
        check(self._board.call(P.CLOSE, bytes((fd,)))[0])

    def __repr__(self) -> str:
        state = "closed" if self._fd is None else f"fd={self._fd}"
        return f"<ustack.board.BoardSocket {state}, type={self._type}, proto={self._proto}>"


def _tcp_info_raw(info: TCPInfo) -> bytes:
    """TCP_INFO in the host's layout of struct ust_tcp_info."""
    out = ffi.new("struct ust_tcp_info *")
    for name in _TI_FIELDS:
        setattr(out, name, info[name])
    return bytes(ffi.buffer(out))
