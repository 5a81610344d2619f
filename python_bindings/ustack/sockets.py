"""Sockets with the standard :mod:`socket` module's API (``ust_socket`` inside).

::

    with a.socket(ustack.AF_INET, ustack.SOCK_DGRAM) as s:
        s.bind(("198.18.0.1", 5000))
        s.sendto(b"hello", ("198.18.0.2", 7))
        data, peer = s.recvfrom(2048)       # runs the stacks until a reply

Method names, address tuples (AF_INET ``(host, port)``, AF_INET6 ``(host,
port, flowinfo, scope_id)``; see :mod:`ustack.inet` for scope ids, which
are ustack's interface indexes), options, constants and exceptions are
those of :class:`socket.socket`: ``ustack.SOL_SOCKET == socket.SOL_SOCKET``,
and either module's constants may be passed (:mod:`ustack.constants`
translates them to ustack's FreeBSD values for C).

Blocking works as with :class:`socket.socket`: a new socket blocks (timeout
None); ``settimeout(0.0)`` / ``setblocking(False)`` makes calls raise
:class:`BlockingIOError` instead; a positive timeout raises
:class:`TimeoutError` once that much time has passed *on the stack's clock*.
A blocking call polls every stack of the socket's :class:`~ustack.world.World`
(the stacks joined to it by pipes or a shared virtual clock) until it can
complete; on a virtual clock time jumps over idle stretches, and a call that
could never complete raises at once
(:class:`~ustack.world.Deadlock`; see :mod:`ustack.world`,
also for threads).  Non-blocking calls never poll: drive the stacks with
``stack.poll()``, ``world.run_until()`` or an :class:`~ustack.events.EventQueue`.

``recv``, ``send`` (without flags), ``accept`` and a stream ``connect`` make
the call and run that wait in C (``python_bindings/ext/wait.c``) when the
calling thread is the only one using the world: one C call per blocking
call, with the Python loop's semantics (see "The C fast path" in
:mod:`ustack.world`).

``fileno()`` gives a real descriptor (one end of a socketpair, kept readable
and writable as the socket is by C) that ``select``, ``poll``,
:mod:`selectors` and the standard asyncio loop can watch; a background
thread (:mod:`ustack._pump`) then runs the world while the program waits
outside ustack calls.  :func:`socket_from_fd` maps it back.

Sockets of a threaded stack (a :class:`~ustack.group.StackGroup` started
with threads) may be used from any Python thread at once: each call runs
under the stack's lock (``ust_stack_lock``), a blocking call sleeps in
``ust_socket_wait`` without it (the stack's thread wakes it) and its
timeout is in seconds of the real clock; nothing polls the stack from
Python.  A socket closed while another thread blocks on it ends that call
with EBADF.

Raw sockets, ``socket(AF_INET, SOCK_RAW, IPPROTO_ICMP)``, behave as on BSD
and Linux: ``sendto(icmp_message, (host, 0))`` sends the ICMP message as
given (the application computes its checksum; the stack adds the IPv4
header, IP_HDRINCL is not supported), and ``recvfrom`` returns a copy of
each ICMP message the stack received, IPv4 header included, with
``(source, 0)``.  ``socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6)`` follows RFC
3542 instead: the stack computes the ICMPv6 checksum (it covers a pseudo
header the application cannot see) and received data starts at the ICMPv6
header, with no IPv6 header; ``recvfrom`` gives ``(source, 0, 0,
scope_id)``.  There is no ``recvmsg``: the hop limit of a received packet
(IPV6_RECVHOPLIMIT) is not available.

Copies (docs/zerocopy.md): ``send``, ``sendall`` and ``sendto`` hand the
object's buffer to C as it is (no Python copy; the stack copies once into
its buffers); ``sendmsg([head, body])`` sends several buffers as one
without joining them; ``send_zc`` lends the buffer instead of copying it
and keeps it pinned until the stack lets go.  ``recv_into`` receives
with one copy (into the caller's buffer), ``recv`` on a stream with one
(into the bytes it returns), and ``recv_mbuf`` with none: memoryviews on
the stack's own buffers, given back when its context ends.
"""

from __future__ import annotations

import enum
import errno as _errno
import io
import itertools
import os
import socket as _socket
import struct
import threading
import time
import warnings
import weakref
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Self, TypeVar

from ustack import world as _world
from ustack._native import ffi, lib
from ustack._stacklock import CallbackScope, defer, in_callback
from ustack.constants import (  # some re-exported for older imports (hostlink, ping)
    AF_INET,
    AF_INET6,
    IPPROTO_ICMP,
    IPPROTO_ICMPV6,
    MSG_DONTWAIT,
    MSG_OOB,
    MSG_PEEK,
    SO_ERROR,
    SOCK_RAW,
    SOCK_STREAM,
    SOL_SOCKET,
    from_c_type,
    to_c_flags,
    to_c_level,
    to_c_option,
    to_c_type,
)
from ustack.errors import check, error_from_code
from ustack.inet import Address, CSockaddr, sockaddr, sockaddr_to_tuple
from ustack.world import _MORE, FOREVER, TIMED_OUT, _tns

if TYPE_CHECKING:
    from ustack.events import EventQueue
    from ustack.stack import Stack

__all__ = [
    "AF_INET",
    "AF_INET6",
    "IPPROTO_ICMP",
    "IPPROTO_ICMPV6",
    "SO_ERROR",
    "SOCK_RAW",
    "SOCK_STREAM",
    "SOL_SOCKET",
    "AddressFamily",
    "SocketKind",
    "Socket",
    "SocketIdioms",
    "SocketIO",
    "int_option",
    "TCPInfo",
    "LINUX_DGRAM_BUFFER",
    "MbufChain",
    "ZC_COPIED",
    "ZC_MAX_PINNED",
    "zc_reap",
    "socket_from_fd",
    "tcp_state_name",
    "TCPS_CLOSED",
    "TCPS_LISTEN",
    "TCPS_SYN_SENT",
    "TCPS_SYN_RECEIVED",
    "TCPS_ESTABLISHED",
    "TCPS_CLOSE_WAIT",
    "TCPS_FIN_WAIT_1",
    "TCPS_CLOSING",
    "TCPS_LAST_ACK",
    "TCPS_FIN_WAIT_2",
    "TCPS_TIME_WAIT",
    "TCPI_OPT_TIMESTAMPS",
    "TCPI_OPT_SACK",
    "TCPI_OPT_WSCALE",
    "TCPI_OPT_ECN",
]


AddressFamily = _socket.AddressFamily
SocketKind = _socket.SocketKind
TCPS_CLOSED = int(lib.UST_TCPS_CLOSED)
TCPS_LISTEN = int(lib.UST_TCPS_LISTEN)
TCPS_SYN_SENT = int(lib.UST_TCPS_SYN_SENT)
TCPS_SYN_RECEIVED = int(lib.UST_TCPS_SYN_RECEIVED)
TCPS_ESTABLISHED = int(lib.UST_TCPS_ESTABLISHED)
TCPS_CLOSE_WAIT = int(lib.UST_TCPS_CLOSE_WAIT)
TCPS_FIN_WAIT_1 = int(lib.UST_TCPS_FIN_WAIT_1)
TCPS_CLOSING = int(lib.UST_TCPS_CLOSING)
TCPS_LAST_ACK = int(lib.UST_TCPS_LAST_ACK)
TCPS_FIN_WAIT_2 = int(lib.UST_TCPS_FIN_WAIT_2)
TCPS_TIME_WAIT = int(lib.UST_TCPS_TIME_WAIT)
TCPI_OPT_TIMESTAMPS = int(lib.UST_TCPI_OPT_TIMESTAMPS)
TCPI_OPT_SACK = int(lib.UST_TCPI_OPT_SACK)
TCPI_OPT_WSCALE = int(lib.UST_TCPI_OPT_WSCALE)
TCPI_OPT_ECN = int(lib.UST_TCPI_OPT_ECN)
_TCP_STATE_NAMES = {
    TCPS_CLOSED: "CLOSED",
    TCPS_LISTEN: "LISTEN",
    TCPS_SYN_SENT: "SYN_SENT",
    TCPS_SYN_RECEIVED: "SYN_RECEIVED",
    TCPS_ESTABLISHED: "ESTABLISHED",
    TCPS_CLOSE_WAIT: "CLOSE_WAIT",
    TCPS_FIN_WAIT_1: "FIN_WAIT_1",
    TCPS_CLOSING: "CLOSING",
    TCPS_LAST_ACK: "LAST_ACK",
    TCPS_FIN_WAIT_2: "FIN_WAIT_2",
    TCPS_TIME_WAIT: "TIME_WAIT",
}


def tcp_state_name(state: int) -> str:
    """FreeBSD's name of a TCPS_* state (``'ESTABLISHED'``)."""
    return _TCP_STATE_NAMES.get(state, str(state))


_EAGAIN = int(lib.UST_EAGAIN)
_EINPROGRESS = int(lib.UST_EINPROGRESS)
_EBADF = int(lib.UST_EBADF)
_ETIMEDOUT = int(lib.UST_ETIMEDOUT)
_EOPNOTSUPP = int(lib.UST_EOPNOTSUPP)
_EV_IN = int(lib.UST_EV_IN)
_OP_RECV = int(lib.UST_PY_OP_RECV)
_OP_SEND = int(lib.UST_PY_OP_SEND)
_OP_ACCEPT = int(lib.UST_PY_OP_ACCEPT)
_OP_CONNECT = int(lib.UST_PY_OP_CONNECT)
_RECV_LEND = 1024  # UST_PY_RECV_LEND (ext/zc.c): smaller reads come back in the scratch buffer
_wait_call = lib.ust_py_wait_call
_get_ident = threading.get_ident
# Assigned, not imported: the compiler then calls their methods as methods
# (an imported name's attribute is loaded as a module's, a bound method each time).
_LOCK = _world._LOCK
_BUSY = _world._BUSY
_DEFERRED = _world._DEFERRED
_unpack = ffi.unpack
_EV_OUT = int(lib.UST_EV_OUT)
# A threaded stack's blocking call sleeps at most this long at a time in
# ust_socket_wait (then looks whether another thread closed the socket).
_WAIT_SLICE_NS = 100_000_000
_INT = struct.Struct("i")
# The host's family numbers (what a Socket is made with) as the C API's.
# ust_socket() itself refuses a family the stack has no domain for
# (AF_INET6 in a library built with UST_INET6=0: EAFNOSUPPORT).
_C_FAMILIES = {
    int(_socket.AF_INET): int(lib.UST_AF_INET),
    int(_socket.AF_INET6): int(lib.UST_AF_INET6),
}
_C_SOL_SOCKET = int(lib.UST_SOL_SOCKET)
_C_SO_ERROR = int(lib.UST_SO_ERROR)
_C_SO_TYPE = int(lib.UST_SO_TYPE)
_C_IPPROTO_TCP = int(lib.UST_IPPROTO_TCP)
_C_TCP_INFO = int(lib.UST_TCP_INFO)
_C_TCP_CONGESTION = int(lib.UST_TCP_CONGESTION)
_C_TCP_FUNCTION_BLK = int(lib.UST_TCP_FUNCTION_BLK)
_MSG_WAITALL = int(getattr(_socket, "MSG_WAITALL", 0))
_C_SO_SNDBUF = int(lib.UST_SO_SNDBUF)
_C_SO_RCVBUF = int(lib.UST_SO_RCVBUF)

LINUX_DGRAM_BUFFER = 212_992
"""SO_SNDBUF and SO_RCVBUF a new UDP socket gets at least (Linux's
net.core.wmem_default/rmem_default): FreeBSD's defaults (net.inet.udp.maxdgram
9,216 and recvspace 42,080, which the C API keeps) refuse or drop datagrams
over 9,216 bytes, where code written for the socket module expects up to
65,507 to work."""

ZC_COPIED = int(lib.UST_ZC_COPIED)
"""The status a :meth:`Socket.send_zc` callback gets when the stack copied
the bytes after all (a send shorter than ``kern.ipc.zc_min``)."""

ZC_MAX_PINNED = 64 << 20
"""Bytes :meth:`Socket.send_zc` keeps pinned per stack at most: beyond it a
send_zc waits for completions (or raises BlockingIOError when
non-blocking), so that a peer that does not read cannot pin without
bound.  A module setting; change it before sending."""

_IOV_N = 64

T = TypeVar("T")


class TCPInfo(dict[str, int]):
    """``getsockopt(IPPROTO_TCP, TCP_INFO)``: the fields of ``struct
    ust_tcp_info`` (FreeBSD's ``tcpi_*`` names) as a dict whose keys also
    read as attributes (``info.tcpi_state``, ``info["tcpi_rto"]``).  Times
    are in microseconds; ``state_name`` gives the state as text."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def state_name(self) -> str:
        """``tcpi_state`` as FreeBSD names it (``"ESTABLISHED"``)."""
        return tcp_state_name(int(self["tcpi_state"]))


def _tcp_info(raw: Any) -> TCPInfo:
    return TCPInfo((name, int(getattr(raw, name))) for name, _ in ffi.typeof(raw[0]).fields)


class _WouldBlock(Exception):
    """Internal: the call returned -UST_EAGAIN (here or on a board)."""


def _timeout_error(what: str) -> OSError:
    exc = error_from_code(_ETIMEDOUT, what)
    exc.strerror = "timed out"
    return exc


@ffi.def_extern()
def _ust_py_upcall(arg: Any, so: Any, events: int) -> None:
    ref: weakref.ref[Socket] = ffi.from_handle(arg)
    sock = ref()
    if sock is None or sock._upcall is None:
        return
    try:
        with CallbackScope(lib.ust_socket_stack(so)):
            sock._upcall(sock, int(events))
    except BaseException as exc:  # re-raised by the stack after the poll
        sock._stack._errors.append(exc)
        lib.ust_py_wait_note()  # a C wait (ext/wait.c) stops to raise it


def int_option(c_level: int, c_opt: int, value: int) -> int:
    """An int option's value as the socket module gives it: ``SO_ERROR`` as
    the *host's* errno of the same name (as the exceptions' ``errno``), so
    ``== errno.ECONNREFUSED`` holds, and ``SO_TYPE`` as the host's ``SOCK_*``."""
    if c_level == _C_SOL_SOCKET and c_opt == _C_SO_ERROR and value:
        err = error_from_code(value)
        return int(err.errno) if err.errno is not None else value
    if c_level == _C_SOL_SOCKET and c_opt == _C_SO_TYPE:
        return from_c_type(value)
    return value


class _ZcPin:
    """One send_zc in flight: what keeps its buffer alive and its owner."""

    __slots__ = ("view", "buf", "tok", "nbytes", "sock", "callback")

    def __init__(self, view: memoryview, buf: Any, tok: Any, sock: int, callback: Any) -> None:
        self.view = view
        self.buf = buf
        self.tok = tok
        self.nbytes = 0
        self.sock = sock
        self.callback = callback


class _ZcState:
    """A stack's zero-copy sends from Python: the C completion ring (its
    producer is ``ust_py_zc_done`` on the stack's thread, never Python) and
    the pinned buffers, keyed by the id each completion reports."""

    CAP = 1 << 15

    def __init__(self) -> None:
        ring = lib.ust_py_zc_ring_new(self.CAP)
        if ring == ffi.NULL:
            raise MemoryError("ust_py_zc_ring_new")
        self.ring = ffi.gc(ring, lib.ust_py_zc_ring_free)
        self.pins: dict[int, _ZcPin] = {}
        self.per_socket: dict[int, int] = {}
        self.pinned = 0
        self.ids = itertools.count(1)
        self.lock = threading.Lock()
        self._ids = ffi.new("uint64_t[]", 256)
        self._status = ffi.new("int32_t[]", 256)

    def full(self) -> bool:
        return self.pinned >= ZC_MAX_PINNED or len(self.pins) >= self.CAP - 1

    def pin(self, pin: _ZcPin) -> int:
        pid = next(self.ids)
        pin.tok.ring = self.ring
        pin.tok.id = pid
        with self.lock:
            self.pins[pid] = pin
            self.per_socket[pin.sock] = self.per_socket.get(pin.sock, 0) + 1
        return pid

    def accepted(self, pid: int, nbytes: int) -> None:
        """After the C call: nbytes lent (< 0: refused, never completes)."""
        with self.lock:
            pin = self.pins.get(pid)
            if pin is None:
                return  # completed (and reaped) already
            if nbytes < 0:
                del self.pins[pid]
                self._forget(pin)
            else:
                pin.nbytes = nbytes
                self.pinned += nbytes

    def _forget(self, pin: _ZcPin) -> None:
        left = self.per_socket.get(pin.sock, 0) - 1
        if left > 0:
            self.per_socket[pin.sock] = left
        else:
            self.per_socket.pop(pin.sock, None)

    def reap(self) -> int:
        """Unpins what completed; runs the callbacks (outside every lock)."""
        done: list[tuple[_ZcPin, int]] = []
        with self.lock:
            while True:
                n = int(lib.ust_py_zc_reap(self.ring, self._ids, self._status, 256))
                for i in range(n):
                    pin = self.pins.pop(int(self._ids[i]), None)
                    if pin is None:
                        continue
                    self.pinned -= pin.nbytes
                    self._forget(pin)
                    done.append((pin, int(self._status[i])))
                if n < 256:
                    break
        for pin, status in done:
            if pin.callback is not None:
                pin.callback(status)
        return len(done)


_ZC_DONE = ffi.addressof(lib, "ust_py_zc_done")


def _zc_state(stack: Stack) -> _ZcState:
    """The stack's send_zc state, made on first use; it lives as long as
    the Stack object, past ust_stack_destroy (which completes what is
    still lent)."""
    attrs = vars(stack)
    zc = attrs.get("_zc_state")
    if zc is None:
        zc = attrs.setdefault("_zc_state", _ZcState())
    assert isinstance(zc, _ZcState)
    return zc


def zc_reap(stack: Stack) -> int:
    """Release the buffers of ``stack``'s completed :meth:`Socket.send_zc`
    calls and run their callbacks; returns how many.  Socket calls do this
    themselves; an event loop may call it when idle."""
    zc = vars(stack).get("_zc_state")
    return 0 if zc is None else int(zc.reap())


# fileno() -> its socket, for the sockets that asked for one (socket_from_fd).
_BY_FD: weakref.WeakValueDictionary[int, Socket] = weakref.WeakValueDictionary()
_FD_UPCALL = lib.ust_py_fd_upcall


def socket_from_fd(fd: int) -> Socket | None:
    """The open ustack socket whose :meth:`Socket.fileno` is ``fd``, else None
    (what an event loop's callback gets back is the number)."""
    sock = _BY_FD.get(int(fd))
    if sock is None or sock._notify is None:
        return None
    return sock


class MbufChain:
    """Received bytes still in the stack's buffers (:meth:`Socket.recv_mbuf`):
    ``views`` are read-only memoryviews on them, in order.  Give them back
    with :meth:`release` or by leaving the ``with`` block; the views (and
    any slice made from them) must not be used after that.  Chains held
    count against the socket's receive buffer: a socket whose chains reach
    SO_RCVBUF gets no more (BlockingIOError) until some are released."""

    __slots__ = ("_sock", "_stack", "_chain", "_views", "nbytes", "address", "__weakref__")

    def __init__(self, sock: Socket, chain: Any, nbytes: int, address: Any = None) -> None:
        self._sock = sock
        self._stack = sock._stack
        self._chain = chain
        self.nbytes = nbytes
        """Bytes in the chain (0 at end of stream)."""
        self.address = address
        """The sender of a datagram (recvfrom_mbuf), else None."""
        self._views: list[memoryview] | None = None
        if chain != ffi.NULL:
            sock._chains.add(self)

    @property
    def views(self) -> list[memoryview]:
        """The chain's buffers as read-only memoryviews (no copy)."""
        if self._views is None:
            if self._chain is None:
                raise ValueError("the chain was released")
            self._views = [memoryview(b).toreadonly() for b in _chain_buffers(self._chain)]
        return self._views

    def tobytes(self) -> bytes:
        """A copy of the bytes (one copy)."""
        views = self.views
        return bytes(views[0]) if len(views) == 1 else b"".join(views)

    def __len__(self) -> int:
        return self.nbytes

    def __bool__(self) -> bool:
        return self.nbytes > 0

    @property
    def released(self) -> bool:
        """True once given back."""
        return self._chain is None

    def release(self) -> None:
        """Give the buffers back to the stack (``ust_mbuf_release``); idempotent."""
        chain, self._chain = self._chain, None
        for v in self._views or ():
            v.release()
        self._views = None
        if chain is None or chain == ffi.NULL:
            return
        sock = self._sock
        sock._chains.discard(self)
        if sock._so is None and not sock._chains:
            self._stack._unregister_socket(sock)  # closed, and nothing held now
        if self._stack.closed:
            return  # the stack freed its buffers with it
        so = sock._so if sock._so is not None else ffi.NULL
        with self._stack._using():
            lib.ust_mbuf_release(so, chain)
            if sock._notify is not None and sock._so is not None:
                lib.ust_py_fd_refresh(sock._so, sock._notify)

    def __enter__(self) -> MbufChain:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def __del__(self) -> None:
        try:
            if self._chain is not None and self._chain != ffi.NULL and not self._stack.closed:
                if self._stack._lock is not None and defer(self.release):
                    return
                self.release()
        except Exception:  # never raise from a finalizer
            pass

    def __repr__(self) -> str:
        state = " [released]" if self._chain is None else ""
        return f"<ustack.MbufChain {self.nbytes} bytes{state}>"


def _chain_buffers(chain: Any) -> list[Any]:
    """The non-empty buffers of an mbuf chain as cffi buffers (no copy)."""
    iov = ffi.new("struct ust_iovec[]", _IOV_N)
    n = int(lib.ust_mbuf_sglist(chain, iov, _IOV_N))
    if n > _IOV_N:
        iov = ffi.new("struct ust_iovec[]", n)
        n = int(lib.ust_mbuf_sglist(chain, iov, n))
    return [ffi.buffer(ffi.cast("char *", iov[i].iov_base), iov[i].iov_len) for i in range(n)]


class SocketIdioms:
    """What a ustack socket does as :class:`socket.socket` does, whatever
    carries its calls (:class:`Socket` in-process, ``ustack.board``'s
    BoardSocket over a board's control channel): timeouts, ``connect_ex``,
    ``sendall``, ``sendto``'s two forms, ``MSG_WAITALL``, the ``MSG_*``
    translation, the context manager."""

    _timeout: float | None
    _type: int

    def connect(self, address: tuple[Any, ...]) -> None:
        raise NotImplementedError

    def send(self, data: bytes | bytearray | memoryview, flags: int = 0) -> int:
        raise NotImplementedError

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def fileno(self) -> int:
        """-1 here (a board's socket has no descriptor in this process);
        :meth:`Socket.fileno` gives one for select() and selectors."""
        return -1

    def settimeout(self, value: float | None) -> None:
        """None: block; 0.0: non-blocking; > 0: block at most ``value`` seconds
        (of the stack's clock; of the host's for a board), then raise TimeoutError."""
        if value is not None:
            value = float(value)
            if value < 0.0:
                raise ValueError("Timeout value out of range")
        self._timeout = value

    def gettimeout(self) -> float | None:
        """The timeout in seconds (None: blocking without limit)."""
        return self._timeout

    def setblocking(self, flag: bool) -> None:
        """``setblocking(True)`` is ``settimeout(None)``, False is ``settimeout(0.0)``."""
        self._timeout = None if flag else 0.0

    def getblocking(self) -> bool:
        """False when non-blocking (timeout 0.0)."""
        return self._timeout != 0.0

    @staticmethod
    def _c_flags(flags: int) -> int:
        """``MSG_*`` flags (Python values) -> ustack's; MSG_DONTWAIT is done
        by the caller (C calls never block) and MSG_WAITALL by ``recv``."""
        if not flags:
            return 0
        rest = int(flags) & ~(MSG_DONTWAIT | _MSG_WAITALL)
        c = to_c_flags(rest)
        known = to_c_flags(rest & (MSG_OOB | MSG_PEEK))
        if c != known:
            raise error_from_code(_EOPNOTSUPP, f"flags {rest & ~(MSG_OOB | MSG_PEEK):#x}")
        return c

    def _so_error(self) -> int:
        raise NotImplementedError

    def getpeername(self) -> Address:
        raise NotImplementedError

    def _established(self) -> bool:
        """A connect in progress is done: True when connected, False while
        it goes on, the error when it failed (SO_ERROR)."""
        err = self._so_error()
        if err:
            raise error_from_code(err)
        try:
            self.getpeername()
        except OSError:
            return False
        return True

    def _blocking(
        self,
        attempt: Callable[[], T],
        what: str,
        flags: int,
        wait: Callable[[Callable[[], bool]], bool],
    ) -> T:
        """Run ``attempt`` (which raises _WouldBlock for -UST_EAGAIN); when it
        would block, EAGAIN for a non-blocking call, else ``wait(ready)``
        (False: the timeout passed) retries it until it goes through."""
        try:
            return attempt()
        except _WouldBlock:
            if self._timeout == 0.0 or flags & MSG_DONTWAIT:
                raise error_from_code(_EAGAIN) from None
        result: list[T] = []

        def ready() -> bool:
            try:
                result.append(attempt())
            except _WouldBlock:
                return False
            return True

        if wait(ready):
            return result[0]
        raise _timeout_error(what)

    def connect_ex(self, address: tuple[Any, ...]) -> int:
        """Like ``connect`` but returns the host's errno (0 on success),
        as :meth:`socket.socket.connect_ex`."""
        try:
            self.connect(address)
        except OSError as exc:
            if exc.errno is None:
                raise
            return int(exc.errno)
        return 0

    def sendall(self, data: bytes | bytearray | memoryview, flags: int = 0) -> None:
        """Send all of ``data`` (a stream socket may take it in pieces)."""
        view = memoryview(data).cast("B")
        while view:
            n = self.send(view, flags)
            view = view[n:]

    @staticmethod
    def _sendto_args(args: tuple[Any, ...]) -> tuple[int, Any]:
        """``sendto``'s ``(address)`` or ``(flags, address)``."""
        if len(args) == 1:
            return 0, args[0]
        if len(args) == 2:
            return int(args[0]), args[1]
        raise TypeError(f"sendto() takes 2 or 3 arguments ({len(args) + 1} given)")

    def _recv_waitall(self, bufsize: int, flags: int) -> bytes:
        """``MSG_WAITALL`` on a stream: ``bufsize`` bytes, or fewer at EOF."""
        chunks: list[bytes] = []
        need = bufsize
        while need:
            part = self.recv(need, flags & ~_MSG_WAITALL)
            if not part:
                break
            chunks.append(part)
            need -= len(part)
        return b"".join(chunks)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Socket(SocketIdioms):
    """A ustack socket; create one with :meth:`Stack.socket <ustack.Stack.socket>`.

    See the module documentation for blocking, timeouts and the world.
    """

    def __init__(
        self,
        stack: Stack,
        family: int = AF_INET,
        type: int = SOCK_STREAM,  # noqa: A002 - the socket module's name
        proto: int = 0,
        *,
        _so: Any = None,
    ) -> None:
        self._so: Any = None
        self._stack = stack
        self._close_fn = lib.ust_close
        c_type, nonblock = to_c_type(int(type))
        created = _so is None
        c_family = _C_FAMILIES.get(int(family))
        if c_family is None:
            raise error_from_code(
                int(lib.UST_EAFNOSUPPORT), "ustack speaks AF_INET and AF_INET6 only"
            )
        if _so is None:
            out = ffi.new("struct ust_socket **")
            with stack._using():
                check(lib.ust_socket(stack._ptr(), c_family, c_type, int(proto), out))
            _so = out[0]
        self._so = _so
        # The C fast path's struct ust_py_op (World._fast_call), for this socket.
        self._fop: Any = ffi.new("struct ust_py_op *")
        self._fop.so = _so
        self._family = int(family)
        self._type = from_c_type(c_type)
        self._proto = int(proto)
        self._timeout: float | None = 0.0 if nonblock else None
        self._buf: Any = None
        self._buflen = 0  # len(self._buf)
        self._evqs: weakref.WeakSet[EventQueue] = weakref.WeakSet()
        self._upcall: Callable[[Socket, int], None] | None = None
        self._upcall_handle: Any = None
        # fileno(): the struct ust_py_fd (ext/notify.c), made on first call.
        self._notify: Any = None
        self._io_refs = 0
        self._closed = False
        self._chains: weakref.WeakSet[MbufChain] = weakref.WeakSet()
        self._recv_ptrs: tuple[Any, Any] | None = None
        # Threaded stacks: threads asleep in ust_socket_wait on it, and a
        # close that waits for them to leave.
        self._waiters = 0
        self._pending_so: Any = None
        self.id = stack._register_socket(self)
        if c_type == int(lib.UST_SOCK_DGRAM) and created:
            self._linux_dgram_buffers()

    def _linux_dgram_buffers(self) -> None:
        """Raise the buffers of a new UDP socket to :data:`LINUX_DGRAM_BUFFER`
        where the knobs give less and memory allows (kern.ipc.maxsockbuf)."""
        raw = _INT.pack(LINUX_DGRAM_BUFFER)
        for opt in (_C_SO_SNDBUF, _C_SO_RCVBUF):
            cur = _INT.unpack(self._getsockopt_raw(_C_SOL_SOCKET, opt, _INT.size))[0]
            if cur < LINUX_DGRAM_BUFFER:
                with self._stack._using():
                    lib.ust_setsockopt(self._so, _C_SOL_SOCKET, opt, ffi.from_buffer(raw), len(raw))

    # --- identity -----------------------------------------------------------

    @property
    def family(self) -> AddressFamily | int:
        """The address family (``AF_INET`` or ``AF_INET6``)."""
        try:
            return AddressFamily(self._family)
        except ValueError:
            return self._family

    @property
    def type(self) -> SocketKind | int:
        """The socket type (``SOCK_DGRAM``, ``SOCK_STREAM``, ``SOCK_RAW``)."""
        try:
            return SocketKind(self._type)
        except ValueError:
            return self._type

    @property
    def proto(self) -> int:
        """The protocol number given at creation (0: the type's default)."""
        return self._proto

    @property
    def stack(self) -> Stack:
        """The stack the socket belongs to."""
        return self._stack

    @property
    def closed(self) -> bool:
        """True once :meth:`close` ran (or the stack was closed)."""
        return self._closed or self._so is None

    def _ptr(self) -> Any:
        if self._so is None:
            raise error_from_code(_EBADF, "socket is closed")
        return self._so

    def __getstate__(self) -> Any:
        raise TypeError(f"cannot pickle {self.__class__.__name__!r} object")

    # --- the C fast path (python_bindings/ext/wait.c, World._fast_call) -------

    def _fast(self, kind: int, buf: Any, length: int) -> int | None:
        """The call ``kind`` (UST_PY_OP_*) made, and waited for as the
        timeout says, in C; the C result, TIMED_OUT, or None when the fast
        path does not apply (closed, a threaded stack, another thread in
        the world...): the caller then takes the Python path."""
        so = self._so
        st = self._stack
        if so is None or st._lock is not None:
            return None
        w = st._world
        if w._merged is not None:
            w = st.world
        return w._fast_call(self._fop, kind, buf, length, self)

    def _fast_recv_lent(self, n: int, buf: Any) -> bytes:
        """A fast recv's ``n`` bytes: in ``buf``, or in one large buffer of
        the stack that ust_py_recv lent (ext/zc.c), copied once and given back."""
        op = self._fop
        chain = op.chain
        if chain == ffi.NULL:
            return ffi.unpack(buf, n)
        with self._stack._using():
            try:
                return ffi.unpack(ffi.cast("char *", op.data), n)
            finally:
                lib.ust_mbuf_release(op.so, chain)

    def _fast_fail(self, rc: int, what: str) -> OSError:
        """The exception for a fast call's negative result or TIMED_OUT."""
        if rc == TIMED_OUT:
            return _timeout_error(what)
        if rc == -_EAGAIN:
            return error_from_code(_EAGAIN)
        try:
            check(rc)
        except OSError as exc:
            return exc
        return error_from_code(-rc)

    # --- blocking -----------------------------------------------------------

    def _call(self, attempt: Callable[[], T], what: str, flags: int = 0, events: int = _EV_IN) -> T:
        """Run ``attempt`` (which raises _WouldBlock for -UST_EAGAIN), blocking
        as the socket's timeout (and MSG_DONTWAIT in ``flags``) says; on a
        threaded stack, waiting for ``events``."""
        lock = self._stack._lock
        if lock is not None:
            calls = lock.socket_calls

            def locked() -> T:
                with calls:  # each C call locks the stack for itself
                    return attempt()

            return self._blocking(
                locked,
                what,
                flags,
                lambda ready: self._thread_wait(ready, events, self._timeout_ns()),
            )
        with self._stack._using():
            world = self._stack.world
            return self._blocking(
                attempt,
                what,
                flags,
                lambda ready: world.wait(ready, self._timeout_ns(), what, self),
            )

    def _timeout_ns(self) -> int | None:
        return None if self._timeout is None else int(self._timeout * 1e9)

    def _thread_wait(self, ready: Callable[[], bool], events: int, timeout_ns: int | None) -> bool:
        """A threaded stack's blocking wait: ``ready()`` (which makes its C
        calls under the stack lock) until it holds (True) or ``timeout_ns``
        of the real clock pass (False), sleeping in ``ust_socket_wait`` with
        no lock held (the stack's thread wakes it).  The sleep is cut into
        slices so that a close from another thread is noticed."""
        lock = self._stack._lock
        assert lock is not None
        if in_callback() is not None:
            raise RuntimeError(
                "a blocking ustack call was made from inside a stack callback "
                "(upcall, input or capture hook); make the socket non-blocking "
                "with setblocking(False) there"
            )
        depth = lock.release_all()  # a wait inside a locked region must let the stack run
        try:
            end = None if timeout_ns is None else time.monotonic_ns() + timeout_ns
            revents = ffi.new("uint32_t *")
            while True:
                if ready():
                    return True
                left = _WAIT_SLICE_NS if end is None else end - time.monotonic_ns()
                if left <= 0:
                    return False
                # The group's fence counts the sleep: closing the group waits for it.
                lock.fence.enter()
                try:
                    with lock:
                        so = self._ptr()
                        self._waiters += 1
                    try:
                        rc = int(
                            lib.ust_socket_wait(so, events, min(left, _WAIT_SLICE_NS), revents)
                        )
                    finally:
                        with lock:
                            self._waiters -= 1
                            self._close_if_last()
                finally:
                    lock.fence.leave()
                if rc < 0:
                    check(rc, "ust_socket_wait")
        finally:
            lock.reacquire(depth)

    def _rc(self, rc: int, subject: str | None = None) -> int:
        if rc == -_EAGAIN:
            raise _WouldBlock
        if self._notify is not None:
            self._fd_sync()  # the call may have drained or filled a buffer
        return check(rc, subject)

    # --- addresses ----------------------------------------------------------

    def _sockaddr(self, address: Any, what: str) -> CSockaddr:
        """``address`` of the socket's family for C; ``%name`` zones are
        this stack's interface names."""
        return sockaddr(address, what, self._family, self._stack._scope_index)

    def bind(self, address: tuple[Any, ...]) -> None:
        """Bind to ``(host, port)`` (AF_INET6: ``(host, port[, flowinfo[,
        scope_id]])``); port 0 picks an ephemeral port."""
        with self._stack._using():
            sa = self._sockaddr(address, "bind()")
            check(lib.ust_bind(self._ptr(), sa.ptr, sa.length))

    def connect(self, address: tuple[Any, ...]) -> None:
        """Connect to ``(host, port)`` (AF_INET6: a 2- to 4-tuple); for UDP
        this sets the default peer and filters what arrives.  A stream
        connect blocks as the timeout says."""
        lock = self._stack._lock
        if lock is not None:
            with lock.socket_calls:
                sa = self._sockaddr(address, "connect()")
                rc = int(lib.ust_connect(self._ptr(), sa.ptr, sa.length))
                if self._notify is not None:
                    self._fd_sync()
            if rc != -_EINPROGRESS or self._timeout == 0.0:
                check(rc)
                return

            def connected() -> bool:
                with lock.socket_calls:
                    return self._established()

            if not self._thread_wait(connected, _EV_OUT, self._timeout_ns()):
                raise _timeout_error("connect()")
            return
        world = self._stack.world
        with world.using():
            so = self._ptr()
            sa = self._sockaddr(address, "connect()")
            rc = int(lib.ust_connect(so, sa.ptr, sa.length))
            if self._notify is not None:
                self._fd_sync()
            if rc != -_EINPROGRESS:
                check(rc)
                return
            if self._timeout == 0.0:
                check(rc)

            fast = self._fast(_OP_CONNECT, ffi.NULL, 0)
            if fast is not None:
                if fast > 0:
                    raise error_from_code(fast)
                if fast < 0:
                    raise self._fast_fail(fast, "connect()")
                return
            if self._established():
                return
            if not world.wait(self._established, self._timeout_ns(), "connect()", self):
                raise _timeout_error("connect()")

    def getsockname(self) -> Address:
        """The local ``(host, port)`` (AF_INET6: ``(host, port, flowinfo, scope_id)``)."""
        sa = CSockaddr()
        with self._stack._using():
            check(lib.ust_getsockname(self._ptr(), sa.ptr, sa.lenp))
        return sockaddr_to_tuple(sa)

    def getpeername(self) -> Address:
        """The connected peer's address (as :meth:`getsockname`); ENOTCONN if none."""
        sa = CSockaddr()
        with self._stack._using():
            check(lib.ust_getpeername(self._ptr(), sa.ptr, sa.lenp))
        return sockaddr_to_tuple(sa)

    # --- stream sockets -----------------------------------------------------

    def listen(self, backlog: int = 128) -> None:
        """Accept connections (stream sockets)."""
        with self._stack._using():
            check(lib.ust_listen(self._ptr(), backlog))
            if self._notify is not None:
                self._fd_sync()

    def accept(self) -> tuple[Socket, Address]:
        """A new connection as ``(socket, (host, port))``, blocking as the timeout says."""
        self._ptr()  # EBADF now; each attempt reads it again (another thread may close)
        peer = CSockaddr()
        self._fop.addr = peer.ptr
        rc = self._fast(_OP_ACCEPT, ffi.NULL, 0)
        if rc is not None:
            if rc < 0:
                raise self._fast_fail(rc, "accept()")
            op = self._fop
            peer.lenp[0] = op.addrlen
            conn = Socket(self._stack, self._family, self._type, self._proto, _so=op.newso)
            return conn, sockaddr_to_tuple(peer)
        out = ffi.new("struct ust_socket **")

        def attempt() -> tuple[Socket, Address]:
            self._rc(int(lib.ust_accept(self._ptr(), out, peer.ptr, peer.reset().lenp)))
            conn = Socket(self._stack, self._family, self._type, self._proto, _so=out[0])
            return conn, sockaddr_to_tuple(peer)

        return self._call(attempt, "accept()")

    # --- data ---------------------------------------------------------------

    def send(self, data: bytes | bytearray | memoryview, flags: int = 0) -> int:
        """Send on a connected socket; returns the bytes taken."""
        if not flags and self._so is not None:
            buf = data if type(data) is bytes else ffi.from_buffer(data)
            w = self._stack._world
            rc: int | None = None
            if w._fast_ident == _get_ident():
                # World._fast_call inlined (the hot path of a blocking
                # round trip); anything unusual goes to the world.
                t = self._timeout
                tns = FOREVER if t is None else _tns(t)
                if tns is not None and _LOCK.acquire(False):
                    if _BUSY[0]:  # a callback is running, or fast_path(False)
                        _LOCK.release()
                    else:
                        _BUSY[0] = _BUSY[1] = 1
                        w._touches += 1  # as World.using() counts the call
                        try:
                            rc = _wait_call(w._fwc, self._fop, _OP_SEND, buf, len(buf), tns)
                            if rc <= _MORE:
                                rc = w._fast_more(self._fop, rc, _OP_SEND, buf, len(buf), tns, self)
                            if self._notify is not None:
                                self._fd_sync()  # the call may have drained or filled a buffer
                        finally:
                            _BUSY[0] = _BUSY[1] = 0
                            if _DEFERRED:
                                _world._close_deferred()
                            _LOCK.release()
            elif self._stack._lock is None:
                rc = w._fast_call(self._fop, _OP_SEND, buf, len(buf), self)
            if rc is not None:
                if rc < 0:
                    raise self._fast_fail(rc, "send()")
                return rc
        return self._send(data, flags)

    def _send(self, data: bytes | bytearray | memoryview, flags: int) -> int:
        """send() on the Python path (apart: its closures would slow the fast path)."""
        self._ptr()  # EBADF now; each attempt reads it again (another thread may close)
        buf = ffi.from_buffer(data)
        cflags = self._c_flags(flags)

        def attempt() -> int:
            return self._rc(int(lib.ust_send(self._ptr(), buf, len(buf), cflags)))

        return self._call(attempt, "send()", flags, _EV_OUT)

    def sendto(self, data: bytes | bytearray | memoryview, *args: Any) -> int:
        """``sendto(data, address)`` or ``sendto(data, flags, address)``.

        On a TCP socket with ``TCP_FASTOPEN`` set that has not connected,
        this connects to ``address`` with ``data`` queued first, so that
        the SYN carries them when a Fast Open cookie is cached (RFC 7413,
        docs/tcp.md); without ``TCP_FASTOPEN`` it is ENOTCONN."""
        flags, address = self._sendto_args(args)
        self._ptr()  # EBADF now; each attempt reads it again (another thread may close)
        buf = ffi.from_buffer(data)
        sa = self._sockaddr(address, "sendto()")
        cflags = self._c_flags(flags)

        def attempt() -> int:
            return self._rc(
                int(lib.ust_sendto(self._ptr(), buf, len(buf), cflags, sa.ptr, sa.length))
            )

        return self._call(attempt, "sendto()", flags, _EV_OUT)

    def _recv_buf(self, size: int) -> Any:
        if size < 0:
            raise ValueError("negative buffersize in recv")
        if self._buf is None or self._buflen < size:
            self._buflen = max(size, 2048)
            self._buf = ffi.new("char[]", self._buflen)
        return self._buf

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        """Up to ``bufsize`` bytes (one datagram, truncated to fit, for UDP).

        As with a host socket, ``recv(0)`` on a stream socket returns b""
        at once, and ``MSG_WAITALL`` waits for ``bufsize`` bytes (or EOF)."""
        if not flags and bufsize > 0 and self._so is not None:
            buf = self._buf
            if buf is None or bufsize > self._buflen:
                buf = self._recv_buf(bufsize)
            w = self._stack._world
            rc: int | None = None
            if w._fast_ident == _get_ident():
                # World._fast_call inlined (the hot path of a blocking
                # round trip); anything unusual goes to the world.
                t = self._timeout
                tns = FOREVER if t is None else _tns(t)
                if tns is not None and _LOCK.acquire(False):
                    if _BUSY[0]:  # a callback is running, or fast_path(False)
                        _LOCK.release()
                    else:
                        _BUSY[0] = _BUSY[1] = 1
                        w._touches += 1  # as World.using() counts the call
                        try:
                            rc = _wait_call(w._fwc, self._fop, _OP_RECV, buf, bufsize, tns)
                            if rc <= _MORE:
                                rc = w._fast_more(self._fop, rc, _OP_RECV, buf, bufsize, tns, self)
                            if self._notify is not None:
                                self._fd_sync()  # the call may have drained or filled a buffer
                        finally:
                            _BUSY[0] = _BUSY[1] = 0
                            if _DEFERRED:
                                _world._close_deferred()
                            _LOCK.release()
            elif self._stack._lock is None:
                rc = w._fast_call(self._fop, _OP_RECV, buf, bufsize, self)
            if rc is not None:
                if rc == 1:
                    return buf[0]  # a char: bytes of 1
                if rc < 0:
                    raise self._fast_fail(rc, "recv()")
                if rc < _RECV_LEND:  # ust_py_recv lends no buffer that small
                    return _unpack(buf, rc)
                return self._fast_recv_lent(rc, buf)
        return self._recv(bufsize, flags)

    def _recv(self, bufsize: int, flags: int) -> bytes:
        """recv() on the Python path (apart: its closures would slow the fast path)."""
        if flags & _MSG_WAITALL and self._type == SOCK_STREAM and bufsize > 0:
            return self._recv_waitall(bufsize, flags)
        self._ptr()  # EBADF now; each attempt reads it again (another thread may close)
        buf = self._recv_buf(bufsize)
        cflags = self._c_flags(flags)
        if bufsize == 0 and self._type == SOCK_STREAM:
            with self._stack._using():
                self._ptr()
            return b""

        if self._recv_ptrs is None:
            self._recv_ptrs = (ffi.new("struct ust_mbuf **"), ffi.new("const void **"))
        chainp, datap = self._recv_ptrs

        def attempt() -> bytes:
            # ust_py_recv (python_bindings/ext/zc.c): data lying in one
            # large buffer of the stack are copied once, straight into the
            # bytes returned; the rest as ust_recv (scratch, then bytes).
            so = self._ptr()
            n = self._rc(int(lib.ust_py_recv(so, buf, bufsize, cflags, chainp, datap)))
            chain = chainp[0]
            if chain == ffi.NULL:
                return bytes(ffi.buffer(buf, n))
            try:
                return ffi.unpack(ffi.cast("char *", datap[0]), n)
            finally:
                lib.ust_mbuf_release(so, chain)

        return self._call(attempt, "recv()", flags)

    def recvfrom(self, bufsize: int, flags: int = 0) -> tuple[bytes, Any]:
        """``(data, (host, port))`` of the next datagram; on a stream socket
        ``(data, None)``, as a host socket returns."""
        if self._type == SOCK_STREAM:
            return self.recv(bufsize, flags), None
        self._ptr()  # EBADF now; each attempt reads it again (another thread may close)
        buf = self._recv_buf(bufsize)
        sa = CSockaddr()
        cflags = self._c_flags(flags)

        def attempt() -> tuple[bytes, Address]:
            n = self._rc(
                int(lib.ust_recvfrom(self._ptr(), buf, bufsize, cflags, sa.ptr, sa.reset().lenp))
            )
            return bytes(ffi.buffer(buf, n)), sockaddr_to_tuple(sa)

        return self._call(attempt, "recvfrom()", flags)

    def recv_into(self, buffer: bytearray | memoryview, nbytes: int = 0, flags: int = 0) -> int:
        """Receive into a writable buffer; returns the byte count."""
        n, _ = self._recvfrom_into(buffer, nbytes, flags, "recv_into()")
        return n

    def recvfrom_into(
        self, buffer: bytearray | memoryview, nbytes: int = 0, flags: int = 0
    ) -> tuple[int, Any]:
        """Receive into a writable buffer; returns ``(count, (host, port))``
        (``(count, None)`` on a stream socket)."""
        return self._recvfrom_into(buffer, nbytes, flags, "recvfrom_into()")

    def _recvfrom_into(
        self, buffer: bytearray | memoryview, nbytes: int, flags: int, what: str
    ) -> tuple[int, Address | None]:
        self._ptr()  # EBADF now; each attempt reads it again (another thread may close)
        buf = ffi.from_buffer(buffer, require_writable=True)
        if nbytes < 0:
            raise ValueError(f"negative buffersize in {what}")
        if nbytes == 0:
            nbytes = len(buf)
        elif nbytes > len(buf):
            raise ValueError(f"buffer too small for requested bytes in {what}")
        stream = self._type == SOCK_STREAM
        if nbytes == 0 and stream:
            return 0, None
        sa = CSockaddr()
        cflags = self._c_flags(flags)

        def attempt() -> tuple[int, Address | None]:
            n = self._rc(
                int(lib.ust_recvfrom(self._ptr(), buf, nbytes, cflags, sa.ptr, sa.reset().lenp))
            )
            return n, None if stream else sockaddr_to_tuple(sa)

        return self._call(attempt, what, flags)

    # --- zero copy (docs/zerocopy.md) ---------------------------------------

    def send_zc(
        self,
        data: bytes | bytearray | memoryview,
        flags: int = 0,
        callback: Callable[[int], None] | None = None,
    ) -> int:
        """Send without copying: lend ``data``'s buffer to the stack
        (``ust_send_zc``); returns the bytes accepted from its start, which
        may be fewer than ``len(data)`` on a stream (send the rest with
        another call, as with :meth:`send`).

        The buffer stays pinned (a memoryview is held; a bytearray cannot
        be resized) until the stack no longer references it: acknowledged
        and freed by every segment that shared it.  Do not change a
        writable buffer until then.  ``callback(status)``, if given, runs
        once at that point, from a later socket call of this stack's (or
        :func:`zc_reap`), never under the stack's lock: status 0, or
        :data:`ZC_COPIED` when the stack copied instead (sends shorter than
        ``kern.ipc.zc_min``), or a negative ``UST_E*`` (the connection was
        reset or aborted with the bytes unacknowledged).  Blocks as
        :meth:`send` does, also while the stack's pinned bytes exceed
        :data:`ZC_MAX_PINNED`."""
        self._ptr()
        zc = _zc_state(self._stack)
        view = memoryview(data).cast("B")
        buf = ffi.from_buffer(view)
        cflags = self._c_flags(flags)
        sid = self.id

        def attempt() -> int:
            zc.reap()
            if zc.full():
                raise _WouldBlock
            pin = _ZcPin(view, buf, ffi.new("struct ust_py_zc_tok *"), sid, callback)
            pid = zc.pin(pin)
            rc = int(lib.ust_send_zc(self._ptr(), buf, len(view), cflags, _ZC_DONE, pin.tok))
            zc.accepted(pid, rc)
            return self._rc(rc)

        try:
            return self._call(attempt, "send_zc()", flags, _EV_OUT)
        finally:
            zc.reap()

    @property
    def zc_pending(self) -> int:
        """This socket's :meth:`send_zc` calls not yet complete."""
        zc = vars(self._stack).get("_zc_state")
        if zc is None:
            return 0
        zc.reap()
        return int(zc.per_socket.get(self.id, 0))

    def sendmsg(
        self,
        buffers: Iterable[bytes | bytearray | memoryview],
        ancdata: Iterable[Any] = (),
        flags: int = 0,
        address: tuple[Any, ...] | None = None,
    ) -> int:
        """Send the buffers in order as one send (``ust_sendv``: gathered,
        copied once by the stack, never joined in Python first); returns
        the bytes accepted.  ``ancdata`` is not supported (must be empty);
        with an ``address`` (unconnected datagrams) the buffers are joined
        and sent with :meth:`sendto`."""
        if list(ancdata):
            raise error_from_code(_EOPNOTSUPP, "sendmsg() ancillary data")
        bufs = [ffi.from_buffer(b) for b in buffers]
        if address is not None:
            return self.sendto(b"".join(ffi.buffer(b) for b in bufs), flags, address)
        self._ptr()
        iov = ffi.new("struct ust_iovec[]", max(len(bufs), 1))
        for i, b in enumerate(bufs):
            iov[i].iov_base = b
            iov[i].iov_len = len(b)
        cflags = self._c_flags(flags)
        n = len(bufs)

        def attempt() -> int:
            return self._rc(int(lib.ust_sendv(self._ptr(), iov, n, cflags)))

        return self._call(attempt, "sendmsg()", flags, _EV_OUT)

    def recv_mbuf(self, bufsize: int, flags: int = 0) -> MbufChain:
        """Up to ``bufsize`` bytes (one datagram, trimmed to fit, for UDP)
        without copying (``ust_recv_mbuf``): an :class:`MbufChain` of
        memoryviews on the stack's buffers, to use in a ``with`` block (or
        :meth:`MbufChain.release`).  An empty chain means end of stream.
        Blocks as :meth:`recv` does; ``MSG_PEEK`` is not supported."""
        chain, _ = self._recv_mbuf(bufsize, flags, False)
        return chain

    def recvfrom_mbuf(self, bufsize: int, flags: int = 0) -> tuple[MbufChain, Any]:
        """:meth:`recv_mbuf` with the sender's address (``(chain, (host,
        port))``; ``(chain, None)`` on a stream socket)."""
        return self._recv_mbuf(bufsize, flags, self._type != SOCK_STREAM)

    def _recv_mbuf(self, bufsize: int, flags: int, want_from: bool) -> tuple[MbufChain, Any]:
        if bufsize < 0:
            raise ValueError("negative buffersize in recv_mbuf")
        self._ptr()
        out = ffi.new("struct ust_mbuf **")
        sa = CSockaddr()
        cflags = self._c_flags(flags)

        def attempt() -> tuple[MbufChain, Any]:
            if want_from:
                rc = lib.ust_recvfrom_mbuf(
                    self._ptr(), out, bufsize, cflags, sa.ptr, sa.reset().lenp
                )
            else:
                rc = lib.ust_recv_mbuf(self._ptr(), out, bufsize, cflags)
            n = self._rc(int(rc))
            addr = sockaddr_to_tuple(sa) if want_from else None
            return MbufChain(self, out[0], n, addr), addr

        return self._call(attempt, "recv_mbuf()", flags)

    # --- options ------------------------------------------------------------

    def setsockopt(self, level: int, optname: int, value: int | bytes | bytearray | str) -> None:
        """Set an option from an int (a C int), raw bytes (``SO_LINGER``) or
        a string (``TCP_CONGESTION``, ``TCP_FUNCTION_BLK``: a stack's name)."""
        self._ptr()
        if isinstance(value, str):
            value = value.encode()
        if isinstance(value, int):
            try:
                raw = _INT.pack(value)
            except struct.error:
                raise OverflowError(f"option value {value} does not fit a C int") from None
        else:
            raw = bytes(value)
        buf = ffi.from_buffer(raw)
        c_level, c_opt = to_c_level(level), to_c_option(level, optname)
        with self._stack._using():
            check(lib.ust_setsockopt(self._ptr(), c_level, c_opt, buf, len(raw)))

    def _so_error(self) -> int:
        """SO_ERROR as ustack's error number (reading clears it)."""
        raw = self._getsockopt_raw(_C_SOL_SOCKET, _C_SO_ERROR, _INT.size)
        return int(_INT.unpack(raw)[0])

    def getsockopt(self, level: int, optname: int, buflen: int = 0) -> Any:
        """An option as an int, or as up to ``buflen`` raw bytes when ``buflen`` > 0.

        ``SO_ERROR`` comes back as the *host's* errno of the same name (as the
        exceptions' ``errno`` does), so ``== errno.ECONNREFUSED`` holds, and
        ``SO_TYPE`` as the host's ``SOCK_*``.  ``TCP_INFO`` gives a
        :class:`TCPInfo` and ``TCP_CONGESTION`` a str, as does
        ``TCP_FUNCTION_BLK`` (the TCP stack's name, "freebsd" or "rack";
        ``buflen`` 36 gives FreeBSD's struct tcp_function_set with the
        stack's connection count).
        """
        if buflen < 0:
            raise ValueError("getsockopt buflen out of range")
        c_level, c_opt = to_c_level(level), to_c_option(level, optname)
        if c_level == _C_IPPROTO_TCP and c_opt == _C_TCP_INFO and buflen == 0:
            info = ffi.new("struct ust_tcp_info *")
            length = ffi.new("size_t *", ffi.sizeof("struct ust_tcp_info"))
            with self._stack._using():
                check(lib.ust_getsockopt(self._ptr(), c_level, c_opt, info, length))
            return _tcp_info(info)
        if c_level == _C_IPPROTO_TCP and c_opt == _C_TCP_CONGESTION and buflen == 0:
            raw = self._getsockopt_raw(c_level, c_opt, 16)
            return raw.split(b"\0", 1)[0].decode()
        if c_level == _C_IPPROTO_TCP and c_opt == _C_TCP_FUNCTION_BLK and buflen == 0:
            raw = self._getsockopt_raw(c_level, c_opt, 36)
            return raw[:32].split(b"\0", 1)[0].decode()
        if buflen > 0:
            return self._getsockopt_raw(c_level, c_opt, buflen)
        raw = self._getsockopt_raw(c_level, c_opt, _INT.size)
        return int_option(c_level, c_opt, int(_INT.unpack(raw.ljust(_INT.size, b"\0"))[0]))

    def _getsockopt_raw(self, c_level: int, c_opt: int, size: int) -> bytes:
        self._ptr()
        buf = ffi.new("char[]", max(size, 1))
        length = ffi.new("size_t *", size)
        with self._stack._using():
            check(lib.ust_getsockopt(self._ptr(), c_level, c_opt, buf, length))
        return bytes(ffi.buffer(buf, min(int(length[0]), size)))

    # --- upcall -------------------------------------------------------------

    def set_upcall(self, fn: Callable[[Socket, int], None] | None) -> None:
        """Call ``fn(sock, events)`` from inside the stack whenever the socket's
        readiness may have changed (``ust_socket_set_upcall``).

        ``fn`` runs inside a poll: it may send and receive with non-blocking
        calls, must not close the socket, and an exception it raises comes out
        of the poll that ran it.  None removes the upcall.
        """
        so = self._ptr()
        if fn is None:
            with self._stack._using():
                if self._notify is not None:  # the fileno's upcall stays, alone
                    lib.ust_py_fd_set_chain(self._notify, ffi.NULL, ffi.NULL)
                else:
                    lib.ust_socket_set_upcall(so, ffi.NULL, ffi.NULL)
            self._upcall = self._upcall_handle = None
            return
        self._upcall = fn
        if self._upcall_handle is None:
            self._upcall_handle = ffi.new_handle(weakref.ref(self))
        with self._stack._using():
            if self._notify is not None:  # chained after the fileno's (ext/notify.c)
                lib.ust_py_fd_set_chain(self._notify, lib._ust_py_upcall, self._upcall_handle)
            else:
                lib.ust_socket_set_upcall(so, lib._ust_py_upcall, self._upcall_handle)

    # --- fileno -------------------------------------------------------------

    def fileno(self) -> int:
        """A file descriptor for ``select``, ``poll``, ``selectors`` and
        asyncio's loops: readable exactly when the socket is (data, a
        connection to accept, EOF, an error), writable exactly when a send
        would not block (or an error), as of the stack's last poll.

        It is one end of an ``AF_UNIX`` socketpair made on the first call
        (two descriptors per socket that asked; python_bindings/ext/notify.c),
        kept up to date from C by the socket's upcall, never read or written
        by the application.  Closed by :meth:`close`; -1 once closed, as
        :meth:`socket.socket.fileno`.  A socket of a stack that no thread
        runs (no StackGroup threads) starts :mod:`ustack._pump`, which
        polls the world while the program is outside ustack calls.
        """
        n = self._notify
        if n is not None:
            return int(lib.ust_py_fd_fileno(n))
        if self._so is None or self._closed:
            return -1
        return self._fd_create()

    def _fd_create(self) -> int:
        with self._stack._using():
            so = self._ptr()
            if self._notify is not None:  # another thread made it meanwhile
                return int(lib.ust_py_fd_fileno(self._notify))
            n = lib.ust_py_fd_new()
            if n == ffi.NULL:
                err = ffi.errno
                raise OSError(err, f"fileno(): socketpair: {os.strerror(err)}")
            if self._upcall is not None:
                lib.ust_py_fd_attach(so, n, lib._ust_py_upcall, self._upcall_handle)
            else:
                lib.ust_py_fd_attach(so, n, ffi.NULL, ffi.NULL)
            self._notify = n
            fd = int(lib.ust_py_fd_fileno(n))
            _BY_FD[fd] = self
        if self._stack._lock is None:
            from ustack import _pump

            _pump.watch(self)
        return fd

    def _fd_sync(self) -> None:
        """Bring the fileno up to the socket's readiness (ext/notify.c)."""
        so = self._so
        if so is not None and self._notify is not None:
            lib.ust_py_fd_refresh(so, self._notify)

    @property
    def _fd_events(self) -> int:
        """The UST_EV_* set the fileno shows (0 without one; tests)."""
        n = self._notify
        return 0 if n is None else int(lib.ust_py_fd_events(n))

    def _fd_release(self, so: Any) -> None:
        """Close the fileno's pair.  ``so`` (if not None, the C socket still
        open) stops calling it first; the caller holds the stack's lock."""
        n, self._notify = self._notify, None
        if n is None:
            return
        fd = int(lib.ust_py_fd_fileno(n))
        if _BY_FD.get(fd) is self:
            del _BY_FD[fd]
        if so is not None:
            lib.ust_socket_set_upcall(so, ffi.NULL, ffi.NULL)
        lib.ust_py_fd_free(n)

    # --- shutdown and close -------------------------------------------------

    def shutdown(self, how: int) -> None:
        """Shut down reading (``SHUT_RD``), writing (``SHUT_WR``) or both."""
        with self._stack._using():
            check(lib.ust_shutdown(self._ptr(), how))
            if self._notify is not None:
                self._fd_sync()

    def close(self) -> None:
        """Close the socket; it also leaves every event queue.  Idempotent.

        As with :class:`socket.socket`, while a file from :meth:`makefile` is
        open the connection stays up (the file may still read and write); it
        is closed when the last such file is closed.
        """
        self._closed = True
        if self._io_refs <= 0:
            self._real_close()

    def _real_close(self) -> None:
        so, self._so = self._so, None
        if so is None:
            return
        for q in list(self._evqs):
            q._forget(self)
        self._evqs.clear()
        if not self._chains:
            # (With recv_mbuf chains still held it stays listed, so that
            # closing the stack releases them first.)
            self._stack._unregister_socket(self)
        self._upcall = None
        with self._stack._using():
            if self._notify is not None:
                self._fd_release(so)
            if self._waiters:
                # A thread sleeps in ust_socket_wait on it: the last one
                # out closes it (within _WAIT_SLICE_NS).
                self._pending_so = so
                return
            check(self._close_fn(so))

    def _close_if_last(self) -> None:
        """Under a threaded stack's lock, after a wait: the close that
        waited for the sleeping threads."""
        if self._waiters == 0 and self._pending_so is not None:
            so, self._pending_so = self._pending_so, None
            self._close_fn(so)

    def _decref_socketios(self) -> None:
        """A file from :meth:`makefile` was closed."""
        if self._io_refs > 0:
            self._io_refs -= 1
        if self._closed:
            self.close()

    # --- files --------------------------------------------------------------

    def makefile(
        self,
        mode: str = "r",
        buffering: int | None = None,
        *,
        encoding: str | None = None,
        errors: str | None = None,
        newline: str | None = None,
    ) -> Any:
        """A file object reading and/or writing the socket, as
        :meth:`socket.socket.makefile`: ``mode`` is made of ``r``, ``w`` and
        ``b``; a binary file is an :class:`io.BufferedReader`,
        :class:`io.BufferedWriter` or :class:`io.BufferedRWPair` over a
        :class:`SocketIO` (``buffering=0``: the SocketIO itself), a text
        file an :class:`io.TextIOWrapper` over that.  The socket's timeout
        applies to the file's reads and writes."""
        if not set(mode) <= {"r", "w", "b"}:
            raise ValueError(f"invalid mode {mode!r} (only r, w, b allowed)")
        writing = "w" in mode
        reading = "r" in mode or not writing
        binary = "b" in mode
        rawmode = ("r" if reading else "") + ("w" if writing else "")
        raw = SocketIO(self, rawmode)
        self._io_refs += 1
        if buffering is None or buffering < 0:
            buffering = io.DEFAULT_BUFFER_SIZE
        if buffering == 0:
            if not binary:
                raise ValueError("unbuffered streams must be binary")
            return raw
        buffer: Any
        if reading and writing:
            buffer = io.BufferedRWPair(raw, raw, buffering)
        elif reading:
            buffer = io.BufferedReader(raw, buffering)
        else:
            buffer = io.BufferedWriter(raw, buffering)
        if binary:
            return buffer
        text = io.TextIOWrapper(buffer, io.text_encoding(encoding), errors, newline)
        text.mode = mode  # type: ignore[misc]
        return text

    def _stack_closing(self) -> None:
        """The stack is about to be destroyed: close quietly."""
        for chain in list(self._chains):
            chain.release()  # its views die with the stack's buffers
        self._closed = True
        so, self._so = self._so, None
        if so is None:
            so, self._pending_so = self._pending_so, None
        if so is not None:
            for q in list(self._evqs):
                q._forget(self)
            self._close_fn(so)
        if self._notify is not None:
            self._fd_release(None)

    def detach(self) -> None:
        """Not supported: a ustack socket is no kernel socket (its
        :meth:`fileno` only signals readiness)."""
        raise NotImplementedError("a ustack socket is no kernel socket: nothing to detach")

    def __del__(self) -> None:
        # As socket.socket: a socket collected unclosed is closed, with a
        # ResourceWarning (shown with -X dev or -W default).
        try:
            if self._notify is not None and (self._so is None or self._stack.closed):
                self._fd_release(None)  # the C socket went with its stack
            if self._so is not None and not self._stack.closed:
                # A threaded stack's lock may not be taken here now (this
                # thread holds a stack lock, or runs a stack's callback).
                if self._stack._lock is not None and defer(self._finalize):
                    return
                self._finalize()
        except Exception:  # never raise from a finalizer
            pass

    def _finalize(self) -> None:
        if self._so is not None and not self._stack.closed:
            warnings.warn(f"unclosed {self!r}", ResourceWarning, stacklevel=3, source=self)
            self.close()

    def __repr__(self) -> str:
        fam = self.family
        typ = self.type
        fam_s = fam.name if isinstance(fam, enum.Enum) else str(fam)
        typ_s = typ.name if isinstance(typ, enum.Enum) else str(typ)
        text = f"<ustack.Socket id={self.id}, family={fam_s}, type={typ_s}, proto={self._proto}"
        if self._so is None:
            return text + " [closed]>"
        try:
            laddr = self.getsockname()
            if laddr[:2] not in (("0.0.0.0", 0), ("::", 0)):
                text += f", laddr={laddr}"
            text += f", raddr={self.getpeername()}"
        except OSError:
            pass
        return text + ">"


_BLOCKING_ERRNOS = frozenset((_errno.EAGAIN, _errno.EWOULDBLOCK))


class SocketIO(io.RawIOBase):
    """The raw I/O under :meth:`Socket.makefile`, as :class:`socket.SocketIO`:
    ``readinto`` is ``recv_into``, ``write`` is ``send``; on a non-blocking
    socket both return None when they would block, and after a timeout the
    object refuses further reads (the stream's position is then unknown)."""

    def __init__(self, sock: Socket, mode: str) -> None:
        if mode not in ("r", "w", "rw", "rb", "wb", "rwb"):
            raise ValueError(f"invalid mode: {mode!r}")
        io.RawIOBase.__init__(self)
        self._sock: Socket | None = sock
        if "b" not in mode:
            mode += "b"
        self._mode = mode
        self._reading = "r" in mode
        self._writing = "w" in mode
        self._timeout_occurred = False

    def _socket(self) -> Socket:
        if self.closed or self._sock is None:
            raise ValueError("I/O operation on closed file.")
        return self._sock

    def readinto(self, b: Any) -> int | None:
        sock = self._socket()
        if not self._reading:
            raise io.UnsupportedOperation("File not open for reading")
        if self._timeout_occurred:
            raise OSError("cannot read from timed out object")
        try:
            return sock.recv_into(b)
        except TimeoutError:
            self._timeout_occurred = True
            raise
        except OSError as exc:
            if exc.errno in _BLOCKING_ERRNOS:
                return None
            raise

    def write(self, b: Any) -> int | None:
        sock = self._socket()
        if not self._writing:
            raise io.UnsupportedOperation("File not open for writing")
        try:
            return sock.send(b)
        except OSError as exc:
            if exc.errno in _BLOCKING_ERRNOS:
                return None
            raise

    def readable(self) -> bool:
        if self.closed:
            raise ValueError("I/O operation on closed socket.")
        return self._reading

    def writable(self) -> bool:
        if self.closed:
            raise ValueError("I/O operation on closed socket.")
        return self._writing

    def seekable(self) -> bool:
        if self.closed:
            raise ValueError("I/O operation on closed socket.")
        return False

    def fileno(self) -> int:
        """The socket's :meth:`Socket.fileno`."""
        return self._socket().fileno()

    @property
    def name(self) -> int:
        """-1: there is no file descriptor to name the file by."""
        return -1

    @property
    def mode(self) -> str:
        return self._mode

    def close(self) -> None:
        if self.closed:
            return
        io.RawIOBase.close(self)
        sock, self._sock = self._sock, None
        if sock is not None:
            sock._decref_socketios()
