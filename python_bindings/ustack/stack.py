"""The stack instance, its interfaces, and the loops that drive stacks.

A :class:`Stack` is one ``struct ust_stack``: all protocol state, counters,
timers and memory zones of one network node.  Many stacks live in one
process; two stacks joined by a :class:`~ustack.pipe.Pipe` on a shared
:class:`~ustack.clock.VirtualClock` are the basic rig::

    clock = VirtualClock()
    with Stack(clock=clock, seed=1) as a, Stack(clock=clock, seed=2) as b:
        pipe = Pipe(clock=clock)
        ia, ib = a.add_interface(pipe.a, "pa0"), b.add_interface(pipe.b, "pb0")
        ia.send_frame(frame)
        run_until([a, b])          # until nothing is pending

Execution is run-to-completion: nothing happens unless :meth:`Stack.poll`
(or :func:`run_until`) is called.  Exceptions raised by Python callbacks
(input hooks, capture hooks) are re-raised from the poll that ran them.
"""

from __future__ import annotations

import contextlib
import ipaddress
import itertools
import logging
import os
import socket
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, overload

from ustack._native import UINT64_MAX, cstr, ffi, lib, struct_to_dict
from ustack._stacklock import CallbackScope, StackLock
from ustack._util import format_mac, parse_mac
from ustack.clock import VirtualClock
from ustack.constants import (
    AF_INET,
    AF_INET6,
    IPPROTO_IPV6,
    IPV6_V6ONLY,
    SO_REUSEADDR,
    SO_REUSEPORT,
    SOCK_STREAM,
    SOL_SOCKET,
)
from ustack.drivers import Closing, DriverEnd, Link
from ustack.errors import check, error_from_code
from ustack.inet import (
    IN6_IFF_NODAD,
    Address,
    Address6,
    ArpEntry,
    HostLike,
    IPInterface,
    IPNetwork,
    Nd6Entry,
    Route,
    ip6_from_c,
    ip6_to_c,
    ip_from_c,
    ip_to_c,
    numeric_getaddrinfo,
    parse_host6,
    parse_interface,
    parse_interface6,
    parse_network_any,
    port_from_c,
    port_to_c,
    sockaddr,
)
from ustack.netstat import PROTOCOLS, read_counters, sysctl_info
from ustack.sockets import Socket, tcp_state_name
from ustack.world import _LOCK, World, defer_close, polling, run_for, run_until

if TYPE_CHECKING:
    from ustack.events import EventQueue

__all__ = [
    "CAPTURE_IN",
    "CAPTURE_OUT",
    "Stack",
    "Interface",
    "Capture",
    "TcpConnection",
    "run_until",
    "run_for",
    "MEM_FIELDS",
    "ZONE_FIELDS",
    "STACK_STATS_FIELDS",
    "IF_STATS_FIELDS",
]

MEM_FIELDS = ("limit", "in_use", "peak", "allocs", "frees", "failures", "fail_after")
ZONE_FIELDS = ("size", "max", "in_use", "peak", "cached", "allocs", "frees", "failures")
STACK_STATS_FIELDS = ("polls", "rx_frames", "tx_frames", "callouts_run", "nombuf", "nocluster")
IF_STATS_FIELDS = (
    "ipackets",
    "ibytes",
    "ierrors",
    "iqdrops",
    "noproto",
    "opackets",
    "obytes",
    "oerrors",
    "oqdrops",
    "imcasts",
    "lro_queued",
    "lro_flushed",
    "lro_bad_csum",
)

CAPTURE_IN = int(lib.UST_CAPTURE_IN)
CAPTURE_OUT = int(lib.UST_CAPTURE_OUT)
_HAS_INET6 = bool(lib.UST_INET6)

_LOG = logging.getLogger("ustack")
_DEFAULT_TIMEOUT: object = socket._GLOBAL_DEFAULT_TIMEOUT  # type: ignore[attr-defined]
_LOG_LEVELS = {
    int(lib.UST_LOG_ERR): logging.ERROR,
    int(lib.UST_LOG_WARNING): logging.WARNING,
    int(lib.UST_LOG_NOTICE): logging.INFO,
    int(lib.UST_LOG_INFO): logging.INFO,
    int(lib.UST_LOG_DEBUG): logging.DEBUG,
}
_LOG_NAMES = {
    "err": int(lib.UST_LOG_ERR),
    "error": int(lib.UST_LOG_ERR),
    "warning": int(lib.UST_LOG_WARNING),
    "notice": int(lib.UST_LOG_NOTICE),
    "info": int(lib.UST_LOG_INFO),
    "debug": int(lib.UST_LOG_DEBUG),
}

# A copy-out buffer for frames handed to Python callbacks.
_FRAME_BUF_SIZE = 65536 + 64
# Bytes read for a string knob (net.inet.tcp.cc.available and friends).
_SYSCTL_STR_MAX = 256
# The string knobs (UST_SYSCTL_STRING), for the type checker; at run time the
# registry decides.
StringKnob = Literal[
    "net.inet.tcp.cc.algorithm",
    "net.inet.tcp.cc.available",
    "net.inet.tcp.fastopen.setkey",
    "net.inet.tcp.fastopen.setpsk",
    "net.inet.tcp.functions_default",
    "net.inet.tcp.functions_available",
]


class _Callbacks:
    """State a C callback reaches through its handle (no reference to a Stack).

    ``errors`` is the owning stack's list of exceptions raised inside
    callbacks; the stack re-raises the first after the C call returns.
    """

    __slots__ = ("fn", "errors", "buf", "logger", "st", "__weakref__")

    def __init__(
        self, fn: Callable[..., Any] | None, errors: list[BaseException], st: Any = None
    ) -> None:
        self.fn = fn
        self.errors = errors
        self.buf: Any = None
        self.logger: logging.Logger = _LOG
        # The stack that runs the callback (None: unknown, a group's logger):
        # on a threaded stack, calls from the callback into it take no lock.
        self.st = st

    def frame(self, m: Any) -> bytes:
        n = int(lib.ust_mbuf_pktlen(m))
        if self.buf is None or n > len(self.buf):
            self.buf = ffi.new("char[]", max(n, _FRAME_BUF_SIZE))
        check(lib.ust_mbuf_copydata(m, 0, n, self.buf))
        return bytes(ffi.buffer(self.buf, n))


@ffi.def_extern()
def _ust_py_input_hook(arg: Any, ifp: Any, m: Any) -> int:
    cb: _Callbacks = ffi.from_handle(arg)
    try:
        assert cb.fn is not None
        with CallbackScope(cb.st):
            return 1 if cb.fn(cb.frame(m)) else 0
    except BaseException as exc:  # re-raised by the stack after the C call
        cb.errors.append(exc)
        lib.ust_py_wait_note()  # a C wait (ext/wait.c) stops to raise it
        return 0


@ffi.def_extern()
def _ust_py_capture(arg: Any, ifp: Any, direction: int, ts_ns: int, m: Any) -> None:
    cb: _Callbacks = ffi.from_handle(arg)
    try:
        assert cb.fn is not None
        with CallbackScope(cb.st):
            cb.fn(int(direction), int(ts_ns), cb.frame(m))
    except BaseException as exc:
        cb.errors.append(exc)
        lib.ust_py_wait_note()  # a C wait (ext/wait.c) stops to raise it


@ffi.def_extern()
def _ust_py_log(arg: Any, level: int, line: Any) -> None:
    cb: _Callbacks = ffi.from_handle(arg)
    try:
        text = ffi.string(line).decode("utf-8", "replace")
        with CallbackScope(cb.st):
            cb.logger.log(_LOG_LEVELS.get(int(level), logging.INFO), "%s", text)
    except BaseException as exc:
        cb.errors.append(exc)
        lib.ust_py_wait_note()  # a C wait (ext/wait.c) stops to raise it


def _log_level(level: int | str | None) -> int | None:
    if level is None or isinstance(level, int):
        return level
    try:
        return _LOG_NAMES[level.lower()]
    except KeyError:
        raise ValueError(f"unknown log level {level!r}: one of {sorted(_LOG_NAMES)}") from None


def fill_config(
    cfg: Any,
    errors: list[BaseException],
    *,
    seed: int | None = None,
    clock: VirtualClock | None = None,
    mem_limit: int | None = None,
    nmbufs: int | None = None,
    nmbclusters: int | None = None,
    nmbjumbo9: int | None = None,
    tick_ns: int | None = None,
    rx_burst: int | None = None,
    ifq_maxlen: int | None = None,
    log_level: int | str | None = None,
) -> tuple[_Callbacks, Any]:
    """Fill a ``struct ust_stack_config`` from :class:`Stack`'s keyword
    options (a StackGroup's too); log lines go to the ``ustack`` logger,
    exceptions raised there to ``errors``.  Returns the log callback's
    state and handle, to keep alive as long as the stack."""
    if mem_limit is not None:
        cfg.mem_limit = mem_limit
    if nmbufs is not None:
        cfg.nmbufs = nmbufs
    if nmbclusters is not None:
        cfg.nmbclusters = nmbclusters
    if nmbjumbo9 is not None:
        cfg.nmbjumbo9 = nmbjumbo9
    if tick_ns is not None:
        cfg.tick_ns = tick_ns
    if rx_burst is not None:
        cfg.rx_burst = rx_burst
    if ifq_maxlen is not None:
        cfg.ifq_maxlen = ifq_maxlen
    if clock is not None:
        cfg.clock = clock._c_clock()
    if seed is not None:
        cfg.seed_set = 1
        cfg.seed = seed & UINT64_MAX
    log_cb = _Callbacks(None, errors)
    handle = ffi.new_handle(log_cb)
    cfg.log.fn = lib._ust_py_log
    cfg.log.arg = handle
    level = _log_level(log_level)
    if level is not None:
        cfg.log.level = level
    return log_cb, handle


class Stack(Closing):
    """One network stack instance (``struct ust_stack``).

    Keyword arguments left at None keep ``ust_stack_config_init()``'s defaults:

    seed: fixes all of the stack's randomness so that a run replays exactly.
    clock: a :class:`VirtualClock` (simulation) or None (OSAL monotonic clock).
    mem_limit: bytes the stack may allocate in all (0: no limit; default 64 MiB).
    nmbufs / nmbclusters / nmbjumbo9: hard maxima of the mbuf zones.
    tick_ns: callout wheel resolution (default 1 ms).
    rx_burst: frames taken from each interface per poll (1..UST_RX_BURST_MAX).
    ifq_maxlen: frames queued for transmission per interface before tail drop.
    log_level: ``'err'``..``'debug'`` or a syslog number; lines go to the
    ``logging`` logger ``ustack``.
    """

    def __init__(
        self,
        *,
        seed: int | None = None,
        clock: VirtualClock | None = None,
        mem_limit: int | None = None,
        nmbufs: int | None = None,
        nmbclusters: int | None = None,
        nmbjumbo9: int | None = None,
        tick_ns: int | None = None,
        rx_burst: int | None = None,
        ifq_maxlen: int | None = None,
        log_level: int | str | None = None,
    ) -> None:
        self._init_fields(clock, seed, [])
        cfg = ffi.new("struct ust_stack_config *")
        lib.ust_stack_config_init(cfg)
        self._log_cb, self._log_handle = fill_config(
            cfg,
            self._errors,
            seed=seed,
            clock=clock,
            mem_limit=mem_limit,
            nmbufs=nmbufs,
            nmbclusters=nmbclusters,
            nmbjumbo9=nmbjumbo9,
            tick_ns=tick_ns,
            rx_burst=rx_burst,
            ifq_maxlen=ifq_maxlen,
            log_level=log_level,
        )
        self.tick_ns = int(cfg.tick_ns)
        out = ffi.new("struct ust_stack **")
        check(lib.ust_stack_create(cfg, out), "stack")
        self._st = out[0]
        self._world = World.for_key(clock) if clock is not None else World()
        self._world._add(self)
        self._raise_pending()

    # Set on the stacks of a StackGroup (ustack.group): the group, the
    # stack's index in it, and with threads the stack's lock (every call
    # into the stack from Python is then made holding it).
    _group: Any = None
    _index = 0
    _lock: StackLock | None = None
    _st: Any
    _errors: list[BaseException]
    tick_ns: int

    def _init_fields(
        self, clock: VirtualClock | None, seed: int | None, errors: list[BaseException]
    ) -> None:
        self._st = None
        self._destroy: Callable[[Any], None] = lib.ust_stack_destroy
        self._errors = errors
        self._interfaces: dict[str, Interface] = {}
        self._links: list[Link] = []
        self._sockets: weakref.WeakValueDictionary[int, Socket] = weakref.WeakValueDictionary()
        self._sock_ids = itertools.count(1)
        self._evqs: weakref.WeakSet[EventQueue] = weakref.WeakSet()
        self.clock = clock
        self.seed = seed
        self.tick_ns = 0

    # --- lifetime ---------------------------------------------------------

    @property
    def closed(self) -> bool:
        """True once :meth:`close` ran."""
        return self._st is None

    def close(self) -> None:
        """Detach every interface and free all of the stack's memory."""
        # Under the worlds' lock: no other thread (the fileno poller,
        # ustack._pump, or another thread's blocking call) polls it meanwhile.
        with _LOCK:
            self._close()

    def _close(self) -> None:
        st, self._st = self._st, None
        if st is None:
            return
        self._st = st  # event queues and sockets go first, through the live stack
        try:
            for q in list(self._evqs):
                q.close()
            for sock in list(self._sockets.values()):
                sock._stack_closing()
        finally:
            self._st = None
        self._sockets.clear()
        for link in self._links:
            link.alive = False
        lib.ust_py_wait_note()  # a C wait (ext/wait.c) must not poll it again
        self._destroy(st)
        for link in self._links:
            link.mark_dead()
        self._links.clear()
        self._interfaces.clear()

    def _ptr(self) -> Any:
        if self._st is None:
            raise error_from_code(int(lib.UST_EBADF), "stack is closed")
        return self._st

    def __del__(self) -> None:
        # Collected during a C wait that may be polling it (ext/wait.c):
        # closed when the wait's C call returns.
        if not defer_close(self):
            super().__del__()

    def _raise_pending(self) -> None:
        if self._errors:
            exc = self._errors[0]
            self._errors.clear()
            raise exc

    # --- running ----------------------------------------------------------

    def _using(self) -> Any:
        """The context every call into the stack is made in: the lock of
        the world's stacks, or a threaded group's stack lock."""
        lock = self._lock
        return lock if lock is not None else self.world.using()

    @property
    def group(self) -> Any:
        """The :class:`~ustack.group.StackGroup` of a group's stack, else None."""
        return self._group

    @property
    def index(self) -> int:
        """The stack's index in its group (0 for a lone stack)."""
        return self._index

    def locked(self) -> contextlib.AbstractContextManager[None]:
        """``with stack.locked():`` holds a threaded stack's lock
        (``ust_stack_lock``) for a run of calls, which then see no packet
        processed in between; its thread waits meanwhile (a long hold stalls
        the stack).  A stack without a thread: nothing to hold."""
        return self._lock if self._lock is not None else contextlib.nullcontext()

    @property
    def threaded(self) -> bool:
        """True for a stack of a StackGroup with threads: its thread polls
        it, and any Python thread may call it (through its lock)."""
        return self._lock is not None

    def poll(self) -> int:
        """One turn of the run-to-completion loop; returns the work done (0: idle)."""
        if self._lock is not None:
            raise RuntimeError(
                "this stack runs on a thread of its own (a StackGroup with threads): "
                "it polls itself"
            )
        st = self._ptr()
        with _LOCK, polling():
            n = int(lib.ust_stack_poll(st))
        self._raise_pending()
        return n

    @property
    def world(self) -> World:
        """The stacks polled together with this one by blocking calls
        (:class:`~ustack.world.World`): those on the same virtual clock and
        those joined to it by pipes."""
        self._world = self._world._resolve()
        return self._world

    @property
    def now(self) -> int:
        """The stack's time in nanoseconds, from its clock."""
        return int(lib.ust_stack_now(self._ptr()))

    @property
    def next_deadline(self) -> int | None:
        """Earliest absolute time at which polling may have work; None if nothing is pending."""
        d = int(lib.ust_stack_next_deadline(self._ptr()))
        return None if d == UINT64_MAX else d

    def run_until(
        self,
        until: Callable[[], bool] | int | None = None,
        *,
        timeout_ns: int | None = None,
        max_steps: int = 1_000_000,
    ) -> bool:
        """Drive this stack alone; see :func:`run_until`."""
        return run_until([self], until, timeout_ns=timeout_ns, max_steps=max_steps)

    def run_for(self, ns: int) -> None:
        """Drive this stack alone for ``ns`` nanoseconds of its clock."""
        run_for([self], ns)

    def random(self) -> int:
        """The next 64 bits of the stack's PRNG."""
        return int(lib.ust_stack_random(self._ptr()))

    # --- counters ---------------------------------------------------------

    @property
    def mem(self) -> dict[str, int]:
        """Memory accounting (``struct ust_mem``) as a dict."""
        out = ffi.new("struct ust_mem *")
        lib.ust_stack_get_mem(self._ptr(), out)
        return struct_to_dict(out, MEM_FIELDS)

    def zone_stats(self) -> list[dict[str, Any]]:
        """Statistics of every memory zone, each a dict with its ``name``."""
        st = self._ptr()
        out = ffi.new("struct ust_zone_stats *")
        zones: list[dict[str, Any]] = []
        for idx in range(4096):
            rc = int(lib.ust_stack_get_zone_stats(st, idx, out))
            if rc == -int(lib.UST_ENOENT):
                break
            check(rc)
            zone: dict[str, Any] = {"name": cstr(out.name) or f"zone{idx}"}
            zone.update(struct_to_dict(out, ZONE_FIELDS))
            zones.append(zone)
        return zones

    @property
    def stats(self) -> dict[str, int]:
        """Stack-wide counters (``struct ust_stack_stats``) as a dict."""
        out = ffi.new("struct ust_stack_stats *")
        lib.ust_stack_get_stats(self._ptr(), out)
        return struct_to_dict(out, STACK_STATS_FIELDS)

    # --- interfaces -------------------------------------------------------

    @property
    def interfaces(self) -> list[Interface]:
        """Attached interfaces, in attach order."""
        return list(self._interfaces.values())

    def interface(self, name: str) -> Interface:
        """The interface called ``name`` (KeyError if none)."""
        return self._interfaces[name]

    def add_interface(
        self,
        driver: DriverEnd,
        name: str,
        address: str | IPInterface | Sequence[str | IPInterface] | None = None,
    ) -> Interface:
        """Attach a driver end (``pipe.a``, ...) as a new interface called ``name``,
        optionally with an address (``'198.18.0.1/24'``, ``'2001:2::1/64'``)
        or a list of them (see :meth:`Interface.add_address`).

        The stack joins the world of the stacks on the driver's other end, so
        that blocking calls on either poll both.
        """
        st = self._ptr()
        if not isinstance(driver, DriverEnd):
            raise TypeError(f"add_interface needs a driver end such as pipe.a, not {driver!r}")
        ops, softc = driver._attach_args()
        out = ffi.new("struct ust_if **")
        with self._lock or contextlib.nullcontext():
            check(lib.ust_if_attach(st, name.encode("utf-8"), ops, softc, out), name)
        iface = self._adopt_interface(out[0], driver)
        if address is not None:
            for text in (
                [address]
                if isinstance(address, str | ipaddress.IPv4Interface | ipaddress.IPv6Interface)
                else address
            ):
                iface.add_address(text)
        return iface

    def _make_interface(self, link: Link, driver: DriverEnd) -> Interface:
        return Interface(self, link, driver)

    def _adopt_interface(self, ifp: Any, driver: DriverEnd) -> Interface:
        """The Interface of a new ``struct ust_if *`` on this stack with
        ``driver``'s end (``add_interface``, a StackGroup's attach)."""
        link = Link(ifp)
        self._links.append(link)
        driver._attached(link)
        iface = self._make_interface(link, driver)
        self._interfaces[iface.name] = iface
        stack_ref = weakref.ref(self)  # no cycle: a Link never holds its stack

        def forget(ref: weakref.ref[Stack] = stack_ref, name: str = iface.name) -> None:
            st = ref()
            if st is not None:
                st._forget(name)

        link.on_detach.append(forget)
        shared = driver._shared_key()
        if shared is not None and self._lock is None:
            self._world = self.world._join(shared, self)
        return iface

    def _forget(self, name: str) -> None:
        self._interfaces.pop(name, None)
        self._links = [lk for lk in self._links if lk.alive]

    def _ifnames(self) -> dict[int, str]:
        return {i.index: i.name for i in self._interfaces.values()}

    def _scope_index(self, name: str) -> int | None:
        """The scope id (ustack's interface index) of the interface ``name``,
        for ``'fe80::1%name'``; None if the stack has no such interface."""
        iface = self._interfaces.get(name)
        return iface.index if iface is not None else None

    def _iface_ptr(self, iface: Interface | str | None) -> Any:
        if iface is None:
            return ffi.NULL
        if isinstance(iface, str):
            iface = self.interface(iface)
        return iface._ifp()

    # --- sockets ------------------------------------------------------------

    def socket(self, family: int = AF_INET, type: int = SOCK_STREAM, proto: int = 0) -> Socket:  # noqa: A002
        """A new socket, as :func:`socket.socket`: TCP unless told otherwise."""
        return Socket(self, family, type, proto)

    def create_connection(
        self,
        address: tuple[str, int],
        timeout: float | None | object = _DEFAULT_TIMEOUT,
        source_address: tuple[Any, ...] | None = None,
        *,
        all_errors: bool = False,
    ) -> Socket:
        """A TCP socket connected to ``(host, port)``, as
        :func:`socket.create_connection` (numeric hosts only, of either
        family: the socket's family is the host's)."""
        host, port = address[0], address[1]
        errors: list[Exception] = []
        for family, kind, proto, _name, addr in self.getaddrinfo(host, port, 0, SOCK_STREAM):
            sock = self.socket(family, kind, proto)
            try:
                if timeout is not _DEFAULT_TIMEOUT:
                    sock.settimeout(timeout)  # type: ignore[arg-type]
                if source_address is not None:
                    sock.bind(source_address)
                sock.connect(addr)
                return sock
            except OSError as exc:
                sock.close()
                errors.append(exc)
                if not all_errors:
                    raise
        raise ExceptionGroup("create_connection failed", errors)

    def create_server(
        self,
        address: tuple[Any, ...],
        *,
        family: int = AF_INET,
        backlog: int | None = None,
        reuse_port: bool = False,
        dualstack_ipv6: bool = False,
    ) -> Socket:
        """A TCP socket bound to ``address`` and listening, as
        :func:`socket.create_server` (SO_REUSEADDR set, as on POSIX; an
        AF_INET6 socket gets IPV6_V6ONLY 1, or 0 with ``dualstack_ipv6``)."""
        if family not in (AF_INET, AF_INET6):
            raise ValueError("ustack speaks AF_INET and AF_INET6 only")
        if dualstack_ipv6 and family != AF_INET6:
            raise ValueError("dualstack_ipv6 requires AF_INET6 family")
        sock = self.socket(family, SOCK_STREAM)
        try:
            sock.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)
            if reuse_port:
                sock.setsockopt(SOL_SOCKET, SO_REUSEPORT, 1)
            if family == AF_INET6:
                if dualstack_ipv6:
                    sock.setsockopt(IPPROTO_IPV6, IPV6_V6ONLY, 0)
                else:
                    try:
                        sock.setsockopt(IPPROTO_IPV6, IPV6_V6ONLY, 1)
                    except OSError:
                        pass
            sock.bind(address)
            if backlog is None:
                sock.listen()
            else:
                sock.listen(backlog)
        except BaseException:
            sock.close()
            raise
        return sock

    def socketpair(
        self,
        family: int = AF_INET,
        type: int = SOCK_STREAM,  # noqa: A002 - the socket module's name
        proto: int = 0,
    ) -> tuple[Socket, Socket]:
        """Two TCP sockets of this stack connected to each other, as
        :func:`socket.socketpair` builds them where there is no AF_UNIX:
        through a listener on the stack's first address of ``family``."""
        if family not in (AF_INET, AF_INET6) or type != SOCK_STREAM:
            raise ValueError("ustack's socketpair() is AF_INET or AF_INET6, SOCK_STREAM only")
        where: tuple[Any, ...] | None
        if family == AF_INET:
            where = next(((str(a.ip), 0) for i in self.interfaces for a in i.addresses), None)
        else:
            where = next(
                (
                    (str(a.ip).split("%")[0], 0, 0, i.index if a.ip.is_link_local else 0)
                    for i in self.interfaces
                    for a in i.addresses6
                    if not (a.tentative or a.duplicated)
                ),
                None,
            )
        if where is None:
            raise error_from_code(int(lib.UST_EADDRNOTAVAIL), "socketpair() needs an address")
        lsock = self.create_server(where, family=family)
        try:
            a = self.socket(family, type, proto)
            try:
                a.connect(lsock.getsockname())
                b, _ = lsock.accept()
            except BaseException:
                a.close()
                raise
        finally:
            lsock.close()
        return a, b

    def getaddrinfo(
        self,
        host: str | None,
        port: int | str | None,
        family: int = 0,
        type: int = 0,  # noqa: A002 - the socket module's name
        proto: int = 0,
        flags: int = 0,
    ) -> list[tuple[Any, Any, int, str, Address]]:
        """:func:`socket.getaddrinfo` for numeric hosts and ports: ustack
        resolves no names (:class:`socket.gaierror` EAI_NONAME).  An IPv6
        ``%zone`` is one of this stack's interface names (or a number)."""
        return numeric_getaddrinfo(host, port, family, type, proto, flags, self._scope_index)

    def _register_socket(self, sock: Socket) -> int:
        sid = next(self._sock_ids)
        self._sockets[sid] = sock
        return sid

    def _unregister_socket(self, sock: Socket) -> None:
        self._sockets.pop(sock.id, None)

    @property
    def sockets(self) -> list[Socket]:
        """The open sockets of this stack, oldest first."""
        return [s for _, s in sorted(self._sockets.items()) if not s.closed]

    # --- routes, ARP and the neighbor cache ----------------------------------

    @staticmethod
    def _is_v6(host: Any) -> bool:
        return isinstance(host, ipaddress.IPv6Address) or (isinstance(host, str) and ":" in host)

    def _v6_target(self, ip: HostLike) -> tuple[Any, int]:
        """An IPv6 host as ``(struct ust_in6_addr *, scope id)``; a ``%zone``
        is one of this stack's interface names."""
        packed, scope = parse_host6(ip, self._scope_index)
        return ip6_to_c(packed), scope

    def _iface_of_scope(self, scope: int) -> Interface | None:
        return next((i for i in self._interfaces.values() if i.index == scope), None)

    def add_route(
        self,
        dst: str | IPNetwork,
        gateway: HostLike | None = None,
        interface: Interface | str | None = None,
    ) -> None:
        """Add a static route to ``dst`` (``'10.0.0.0/8'``, ``'2001:2:0:1::/64'``,
        ``'default'``) via ``gateway``, or on-link on ``interface`` when there
        is no gateway.  The family is the destination's (``'default'``: the
        gateway's, IPv4 without one; ``'::/0'`` is IPv6's default).  A
        link-local IPv6 gateway needs its zone (``'fe80::1%pa0'``) or
        ``interface``."""
        if gateway is None and interface is None:
            raise ValueError("add_route needs a gateway or an interface")
        net = parse_network_any(dst, AF_INET6 if self._is_v6(gateway) else None)
        if net.version == 6:
            self._add_route6(net, gateway, interface)
            return
        gw = 0 if gateway is None else ip_to_c(gateway)
        check(
            lib.ust_route_add(
                self._ptr(),
                ip_to_c(net.network_address),
                net.prefixlen,
                gw,
                self._iface_ptr(interface),
            ),
            str(net),
        )

    def _add_route6(
        self,
        net: ipaddress.IPv6Network,
        gateway: HostLike | None,
        interface: Interface | str | None,
    ) -> None:
        gw: Any = ffi.NULL
        if gateway is not None:
            gw, scope = self._v6_target(gateway)
            if scope and interface is None:
                interface = self._iface_of_scope(scope)
                if interface is None:
                    raise error_from_code(int(lib.UST_ENODEV), f"{gateway}: no interface {scope}")
        check(
            lib.ust_route6_add(
                self._ptr(),
                ip6_to_c(net.network_address),
                net.prefixlen,
                gw,
                self._iface_ptr(interface),
            ),
            str(net),
        )

    def del_route(self, dst: str | IPNetwork, *, family: int | None = None) -> None:
        """Remove the route to exactly ``dst`` (``'default'`` is IPv4's
        unless ``family`` is AF_INET6; or give ``'::/0'``)."""
        net = parse_network_any(dst, family)
        if net.version == 6:
            check(
                lib.ust_route6_del(self._ptr(), ip6_to_c(net.network_address), net.prefixlen),
                str(net),
            )
            return
        check(
            lib.ust_route_del(self._ptr(), ip_to_c(net.network_address), net.prefixlen),
            str(net),
        )

    def routes(self, family: int | None = None) -> list[Route]:
        """The routing table in the stack's order: IPv4 routes, then IPv6
        ones (``family`` AF_INET or AF_INET6: that family's only)."""
        st = self._ptr()
        names = self._ifnames()
        table: list[Route] = []
        if family in (None, AF_INET):
            out = ffi.new("struct ust_route_info *")
            for idx in range(1 << 20):
                rc = int(lib.ust_route_get(st, idx, out))
                if rc == -int(lib.UST_ENOENT):
                    break
                check(rc)
                table.append(Route._from_c(out, names))
        if family in (None, AF_INET6) and _HAS_INET6:
            out6 = ffi.new("struct ust_route6_info *")
            for idx in range(1 << 20):
                rc = int(lib.ust_route6_get(st, idx, out6))
                if rc == -int(lib.UST_ENOENT):
                    break
                check(rc)
                table.append(Route._from_c6(out6, names))
        return table

    def route_lookup(self, ip: HostLike) -> Route:
        """The route the stack uses for ``ip`` (longest prefix; an IPv6
        link-local destination needs its zone, ``'fe80::1%pa0'``); the
        ENETUNREACH error (an OSError) if none matches."""
        if self._is_v6(ip):
            dst, scope = self._v6_target(ip)
            out6 = ffi.new("struct ust_route6_info *")
            check(lib.ust_route6_lookup(self._ptr(), dst, scope, out6), str(ip))
            return Route._from_c6(out6, self._ifnames())
        out = ffi.new("struct ust_route_info *")
        check(lib.ust_route_lookup(self._ptr(), ip_to_c(ip), out), str(ip))
        return Route._from_c(out, self._ifnames())

    def nd6_add(self, iface: Interface | str, ip: HostLike, mac: str | bytes) -> None:
        """Add a static neighbor cache entry (``ndp -s``: never expires, never
        replaced from the wire)."""
        raw = parse_mac(mac) if isinstance(mac, str) else bytes(mac)
        if len(raw) != 6:
            raise ValueError(f"a MAC address has 6 bytes, not {len(raw)}")
        addr, _ = self._v6_target(ip)
        check(lib.ust_nd6_add_static(self._iface_ptr(iface), addr, raw), str(ip))

    def nd6_del(self, iface: Interface | str, ip: HostLike) -> None:
        """Remove the neighbor cache entry of ``ip`` on ``iface`` (``ndp -d``)."""
        addr, _ = self._v6_target(ip)
        check(lib.ust_nd6_del(self._iface_ptr(iface), addr), str(ip))

    def nd6_table(self) -> list[Nd6Entry]:
        """Every entry of the neighbor cache (``ndp -a``); empty without IPv6."""
        if not _HAS_INET6:
            return []
        st = self._ptr()
        out = ffi.new("struct ust_nd6_entry *")
        names = self._ifnames()
        table: list[Nd6Entry] = []
        for idx in range(1 << 24):
            rc = int(lib.ust_nd6_get(st, idx, out))
            if rc == -int(lib.UST_ENOENT):
                break
            check(rc)
            table.append(Nd6Entry._from_c(out, names))
        return table

    def nd6_lookup(self, ip: HostLike) -> Nd6Entry | None:
        """The neighbor cache entry of ``ip`` (a link-local one with its zone,
        ``'fe80::1%pa0'``), or None."""
        addr, scope = self._v6_target(ip)
        out = ffi.new("struct ust_nd6_entry *")
        rc = int(lib.ust_nd6_lookup(self._ptr(), addr, scope, out))
        if rc == -int(lib.UST_ENOENT):
            return None
        check(rc, str(ip))
        return Nd6Entry._from_c(out, self._ifnames())

    def arp_add(self, iface: Interface | str, ip: HostLike, mac: str | bytes) -> None:
        """Add a static ARP entry (never expires, never replaced from the wire)."""
        raw = parse_mac(mac) if isinstance(mac, str) else bytes(mac)
        if len(raw) != 6:
            raise ValueError(f"a MAC address has 6 bytes, not {len(raw)}")
        check(
            lib.ust_arp_add_static(self._iface_ptr(iface), ip_to_c(ip), raw),
            str(ip),
        )

    def arp_del(self, iface: Interface | str, ip: HostLike) -> None:
        """Remove the ARP entry of ``ip`` on ``iface``."""
        check(lib.ust_arp_del(self._iface_ptr(iface), ip_to_c(ip)), str(ip))

    def arp_table(self) -> list[ArpEntry]:
        """Every entry of the ARP cache."""
        st = self._ptr()
        out = ffi.new("struct ust_arp_entry *")
        names = self._ifnames()
        table: list[ArpEntry] = []
        for idx in range(1 << 24):
            rc = int(lib.ust_arp_get(st, idx, out))
            if rc == -int(lib.UST_ENOENT):
                break
            check(rc)
            table.append(ArpEntry._from_c(out, names))
        return table

    def arp_lookup(self, ip: HostLike) -> ArpEntry | None:
        """The ARP entry of ``ip``, or None."""
        out = ffi.new("struct ust_arp_entry *")
        rc = int(lib.ust_arp_lookup(self._ptr(), ip_to_c(ip), out))
        if rc == -int(lib.UST_ENOENT):
            return None
        check(rc, str(ip))
        return ArpEntry._from_c(out, self._ifnames())

    # --- knobs and protocol counters ----------------------------------------

    @overload
    def sysctl(  # type: ignore[overload-overlap]
        self, name: StringKnob, value: str | None = None
    ) -> str: ...

    @overload
    def sysctl(self, name: str, value: int | None = None) -> int: ...

    def sysctl(self, name: str, value: int | str | None = None) -> int | str:
        """Read the knob ``name`` or, given ``value``, set it and return the
        previous value (``sysctl -w``).  Integer knobs take and give ints,
        string knobs (``net.inet.tcp.cc.algorithm``) strs.  Unknown names
        raise the ENOENT error (FileNotFoundError), out-of-range values EINVAL,
        read-only knobs EPERM, an unknown congestion-control module ENOENT."""
        st = self._ptr()
        raw = name.encode("utf-8")
        info = sysctl_info(name)
        if any(k.string and k.name == name for k in info):
            buf = ffi.new("char[]", _SYSCTL_STR_MAX)
            check(lib.ust_sysctl_get_str(st, raw, buf, _SYSCTL_STR_MAX), name)
            old_str = ffi.string(buf).decode("utf-8")
            if value is None:
                return old_str
            if not isinstance(value, str):
                kind = type(value).__name__
                raise TypeError(f"sysctl {name}: the value must be a str, not {kind}")
            check(lib.ust_sysctl_set_str(st, raw, value.encode("utf-8")), name)
            return old_str
        cur = ffi.new("int64_t *")
        check(lib.ust_sysctl_get(st, raw, cur), name)
        old = int(cur[0])
        if value is None:
            return old
        if not isinstance(value, int):
            raise TypeError(f"sysctl {name}: the value must be an int, not {type(value).__name__}")
        if not -(1 << 63) <= value < (1 << 63):
            raise error_from_code(int(lib.UST_EINVAL), name)
        check(lib.ust_sysctl_set(st, raw, value), name)
        return old

    def sysctls(self, prefix: str | None = None) -> dict[str, int | str]:
        """Every knob's current value (or those under ``prefix``), by name."""
        return {k.name: self.sysctl(k.name) for k in sysctl_info(prefix)}

    def netstat(self, proto: str | None = None) -> dict[str, dict[str, Any]]:
        """Protocol counters as ``{'ether': {...}, 'arp': ..., 'ip': ..., 'icmp': ...,
        'udp': ..., 'tcp': ...}`` with FreeBSD's field names (or just ``proto``'s).  The ICMP
        histograms are dicts ``{icmp_type: count}``."""
        st = self._ptr()
        protos = PROTOCOLS if proto is None else (proto,)
        return {p: read_counters(st, p) for p in protos}

    def tcp_connections(self) -> list[TcpConnection]:
        """The TCP connection table, as ``sockstat``/``netstat -an`` show it:
        listeners, connections (also those the application already closed,
        such as TIME_WAIT) and embryonic ones in the syncache (SYN_RECEIVED).
        Addresses are ``(host, port)`` pairs in both families; ``family``
        tells them apart."""
        return [_tcp_connection(c) for c in self._pcblist()]

    def _pcblist(self) -> list[Any]:
        """``ust_tcp_pcblist``: a ``struct ust_tcp_conn *`` per row, each
        owning a copy of its row.  (A slice ``buf[0:total]`` does not own its
        memory: the array was freed under the caller, which read freed memory
        and crashed once the table had thousands of rows, a SYN flood's.)"""
        st = self._ptr()
        n = 64
        while True:
            buf = ffi.new("struct ust_tcp_conn[]", n)
            total = int(lib.ust_tcp_pcblist(st, buf, n))
            if total <= n:
                return [ffi.new("struct ust_tcp_conn *", buf[i]) for i in range(total)]
            n = total

    def _resting_state(self) -> tuple[Any, ...]:
        """What :mod:`ustack.world` compares to tell a world that only repeats
        itself: the TCP table with sequence numbers, buffered bytes, timers
        and probe counts (every field of ``struct ust_tcp_conn``, an array or
        address field as its bytes); the ARP table; the IPv6 neighbor cache
        (state, held packets) and addresses with their flags (a DAD timer
        that turns a tentative address usable is progress); the objects in
        use per zone."""
        rows = self._pcblist()
        for c in rows:
            if c.state == _C_TCPS_LISTEN:
                # A listener's time since its last segment only grows (no
                # keepalive answers a listener); it is no progress, and left
                # in it kept every wait on a world with a listener from
                # repeating until the count saturated (49.7 days).
                c.idle_ms = 0
        tcp = sorted(_conn_fields(c) for c in rows)
        arp = sorted((e.ip, e.ifindex, e.is_resolved, e.held) for e in self.arp_table())
        nd6 = sorted((e.address, e.ifindex, e.state, e.flags, e.held) for e in self.nd6_table())
        addrs6 = (
            tuple(
                (i.index, str(a.interface), a.flags) for i in self.interfaces for a in i.addresses6
            )
            if _HAS_INET6
            else ()
        )
        zones = tuple(z["in_use"] for z in self.zone_stats())
        return (tuple(tcp), tuple(arp), tuple(nd6), addrs6, zones)

    def tcp_drop(self, local: tuple[Any, ...], remote: tuple[Any, ...]) -> None:
        """Drop a connection as ``tcpdrop`` does: a RST to the peer (none from
        TIME_WAIT) and ECONNABORTED to its socket.  FileNotFoundError (ENOENT)
        when no connection has that 4-tuple.  The addresses are ``(host,
        port)`` of either family (an IPv6 one may also be a 4-tuple)."""
        what = f"{local} -> {remote}"
        if not _TCP_DROP_SOCKADDR:
            check(
                lib.ust_tcp_drop(
                    self._ptr(),
                    ip_to_c(local[0]),
                    port_to_c(local[1]),
                    ip_to_c(remote[0]),
                    port_to_c(remote[1]),
                ),
                what,
            )
            return
        family = AF_INET6 if self._is_v6(local[0]) else AF_INET
        lsa = sockaddr(local, "tcp_drop()", family, self._scope_index)
        fsa = sockaddr(remote, "tcp_drop()", family, self._scope_index)
        check(lib.ust_tcp_drop(self._ptr(), lsa.ptr, lsa.length, fsa.ptr, fsa.length), what)

    def _md5_pair(self, a: str, b: str, what: str) -> tuple[Any, Any]:
        family = AF_INET6 if self._is_v6(a) or self._is_v6(b) else AF_INET
        return (
            sockaddr((a, 0), what, family, self._scope_index),
            sockaddr((b, 0), what, family, self._scope_index),
        )

    def tcp_md5_add(self, local: str, remote: str, key: bytes | str, *, both: bool = True) -> None:
        """Add the TCP-MD5 key (RFC 2385) for an address pair, as FreeBSD's
        ``setkey add LOCAL REMOTE tcp SPI -A tcp-md5 KEY``.  ``both`` (the
        default) adds the reverse direction with the same key as well; with
        ``both=False`` the key signs only segments from ``local`` to
        ``remote`` (and checks only those received from ``local``, seen
        from ``remote``).  Sockets use the keys once ``TCP_MD5SIG`` is set.
        Adding a pair again replaces its key.  OSError(ENOSPC) when the table
        (UST_TCP_MD5_MAXKEYS) is full; OSError(EOPNOTSUPP) when the build
        has no TCP-MD5 (UST_TCP_SIGNATURE 0)."""
        raw = key.encode() if isinstance(key, str) else bytes(key)
        a, b = self._md5_pair(local, remote, "tcp_md5_add()")
        fn = lib.ust_tcp_md5_key_add if both else lib.ust_tcp_md5_sa_add
        check(fn(self._ptr(), a.ptr, a.length, b.ptr, b.length, raw, len(raw)), "tcp_md5_add()")

    def tcp_md5_del(self, local: str, remote: str, *, both: bool = True) -> None:
        """Remove the key of an address pair (both directions by default);
        FileNotFoundError (ENOENT) when there is none."""
        a, b = self._md5_pair(local, remote, "tcp_md5_del()")
        fn = lib.ust_tcp_md5_key_del if both else lib.ust_tcp_md5_sa_del
        check(fn(self._ptr(), a.ptr, a.length, b.ptr, b.length), "tcp_md5_del()")

    def tcp_md5_flush(self) -> None:
        """Forget every TCP-MD5 key (``setkey -F``)."""
        lib.ust_tcp_md5_flush(self._ptr())

    @property
    def tcp_md5_count(self) -> int:
        """How many (source, destination) keys the stack holds."""
        return int(lib.ust_tcp_md5_count(self._ptr()))

    def __repr__(self) -> str:
        if self._st is None:
            return "<Stack closed>"
        names = ",".join(self._interfaces)
        return f"<Stack seed={self.seed} now={self.now} interfaces=[{names}]>"


# struct ust_tcp_conn: IPv4 only (uint32_t laddr/faddr), or with IPv6 (a
# family byte and struct ust_in6_addr laddr6/faddr6, INET6_API.md); and
# ust_tcp_drop() with uint32_t addresses or with two struct ust_sockaddr.
_CONN_FIELDS = [(name, field.type.kind) for name, field in ffi.typeof("struct ust_tcp_conn").fields]
_CONN_HAS_FAMILY = any(name == "family" for name, _ in _CONN_FIELDS)
_CONN_HAS_SCOPE = any(name == "scope_id" for name, _ in _CONN_FIELDS)
_TCP_DROP_SOCKADDR = ffi.typeof(lib.ust_tcp_drop).args[1].cname != "uint32_t"
_C_AF_INET6 = int(lib.UST_AF_INET6)
_C_TCPS_LISTEN = int(lib.UST_TCPS_LISTEN)


def _conn_fields(c: Any) -> tuple[Any, ...]:
    """Every field of a ``struct ust_tcp_conn``: ints, and bytes for an
    address (struct) or array field."""
    return tuple(
        int(getattr(c, name)) if kind == "primitive" else bytes(ffi.buffer(ffi.addressof(c, name)))
        for name, kind in _CONN_FIELDS
    )


def _tcp_connection(c: Any) -> TcpConnection:
    scope_id = 0
    if _CONN_HAS_FAMILY and int(c.family) == _C_AF_INET6:
        family = AF_INET6
        local = (ip6_from_c(c.laddr6), port_from_c(c.lport))
        remote = (ip6_from_c(c.faddr6), port_from_c(c.fport))
        scope_id = int(c.scope_id) if _CONN_HAS_SCOPE else 0
    else:
        family = AF_INET
        local = (ip_from_c(c.laddr), port_from_c(c.lport))
        remote = (ip_from_c(c.faddr), port_from_c(c.fport))
    return TcpConnection(
        local=local,
        remote=remote,
        state=int(c.state),
        has_socket=bool(c.has_socket),
        recv_q=int(c.recv_q),
        send_q=int(c.send_q),
        family=family,
        scope_id=scope_id,
    )


@dataclass(frozen=True)
class TcpConnection:
    """One row of :meth:`Stack.tcp_connections`."""

    local: tuple[str, int]
    """``(host, port)``; the host is IPv6 text for an AF_INET6 connection."""
    remote: tuple[str, int]
    state: int
    """TCPS_* (FreeBSD numbering)."""
    has_socket: bool
    """False once the application closed it, or before it was accepted."""
    recv_q: int = 0
    """Bytes received and not read yet (netstat's Recv-Q)."""
    send_q: int = 0
    """Bytes in the send buffer: not sent, or not acknowledged (Send-Q)."""
    family: int = AF_INET
    """``socket.AF_INET`` or ``socket.AF_INET6``."""
    scope_id: int = 0
    """AF_INET6 link-local connections: the zone (ustack's interface index)."""

    @property
    def state_name(self) -> str:
        return tcp_state_name(self.state)


class Interface:
    """An interface of a stack (``struct ust_if``, a FreeBSD ifnet).

    Holds its driver end (so a pipe outlives the interfaces using it) and a
    weak reference to its stack.
    """

    def __init__(self, stack: Stack, link: Link, driver: DriverEnd) -> None:
        self._stack_ref = weakref.ref(stack)
        self._errors = stack._errors
        self._link = link
        self.driver = driver
        self.name: str = cstr(lib.ust_if_name(link.ifp)) or ""
        self.index: int = int(lib.ust_if_index(link.ifp))
        self._input_cb: _Callbacks | None = None
        self._input_handle: Any = None
        self._capture: Capture | _Callbacks | None = None
        self._capture_handle: Any = None

    def _ifp(self) -> Any:
        if not self._link.alive:
            raise error_from_code(int(lib.UST_ENODEV), self.name)
        return self._link.ifp

    def _c_stack(self) -> Any:
        """The ``struct ust_stack *`` of the interface's stack (None if gone)."""
        st = self._stack_ref()
        return None if st is None else st._st

    @property
    def stack(self) -> Stack:
        """The stack this interface belongs to."""
        st = self._stack_ref()
        if st is None or st.closed:
            raise error_from_code(int(lib.UST_ENODEV), self.name)
        return st

    @property
    def attached(self) -> bool:
        """False once the interface or its stack is gone."""
        return self._link.alive

    @property
    def mac(self) -> str:
        """The link-layer address, ``'02:00:00:00:00:01'``."""
        raw = ffi.new("uint8_t[6]")
        lib.ust_if_get_mac(self._ifp(), raw)
        return format_mac(bytes(raw))

    @property
    def mac_bytes(self) -> bytes:
        """The link-layer address as 6 bytes."""
        raw = ffi.new("uint8_t[6]")
        lib.ust_if_get_mac(self._ifp(), raw)
        return bytes(raw)

    @property
    def mtu(self) -> int:
        """The interface MTU (payload bytes of a frame)."""
        return int(lib.ust_if_mtu(self._ifp()))

    @property
    def caps(self) -> int:
        """Offload capabilities (``UST_IFCAP_*`` bits)."""
        return int(lib.ust_if_caps(self._ifp()))

    @property
    def stats(self) -> dict[str, int]:
        """Counters with FreeBSD's if_data names (ipackets, ibytes, ...)."""
        out = ffi.new("struct ust_if_stats *")
        lib.ust_if_get_stats(self._ifp(), out)
        return struct_to_dict(out, IF_STATS_FIELDS)

    def add_address(self, address: str | IPInterface, *, nodad: bool = False) -> None:
        """Add ``'198.18.0.1/24'`` (no prefix: /32) with its connected route;
        the stack announces it with a gratuitous ARP.  Or an IPv6 address,
        ``'2001:2::1/64'`` (no prefix: /64, as ifconfig(8) defaults; a
        link-local one may carry this interface's zone, ``'fe80::1%pa0/64'``),
        with its prefix route; it stays tentative while duplicate address
        detection runs, unless ``nodad`` (``IN6_IFF_NODAD``, ``ifconfig ...
        no_dad``).  The EEXIST error (FileExistsError) if the stack has it
        already."""
        if isinstance(address, ipaddress.IPv4Interface) or (
            isinstance(address, str) and ":" not in address
        ):
            ifa4 = parse_interface(address)
            c_ip = ip_to_c(ifa4.ip)
            check(lib.ust_if_addr_add(self._ifp(), c_ip, ifa4.network.prefixlen), str(ifa4))
            return
        if isinstance(address, str) and "/" not in address:
            address += "/64"
        ifa = parse_interface6(address)
        self._check_zone(ifa)
        flags = IN6_IFF_NODAD if nodad else 0
        c_addr = ip6_to_c(ifa.ip.packed)
        check(lib.ust_if_addr6_add(self._ifp(), c_addr, ifa.network.prefixlen, flags), str(ifa))

    def _check_zone(self, ip: ipaddress.IPv6Address) -> None:
        """A ``%zone`` on an address of this interface must name it (an
        IPv6Interface keeps its zone in ``scope_id``; its ``.ip`` drops it)."""
        zone = ip.scope_id
        if zone is not None and zone not in (self.name, str(self.index)):
            raise ValueError(f"{ip}: the zone of an address of {self.name} is {self.name}")

    def del_address(
        self, address: str | IPInterface | ipaddress.IPv4Address | ipaddress.IPv6Address
    ) -> None:
        """Remove an address (the prefix, if given, is ignored) and its connected
        route; the EADDRNOTAVAIL error if the interface does not have it."""
        if isinstance(address, ipaddress.IPv4Address | ipaddress.IPv4Interface) or (
            isinstance(address, str) and ":" not in address
        ):
            ip = (
                address
                if isinstance(address, ipaddress.IPv4Address)
                else parse_interface(address).ip
            )
            check(lib.ust_if_addr_del(self._ifp(), ip_to_c(ip)), str(ip))
            return
        ip6 = address if isinstance(address, ipaddress.IPv6Address) else parse_interface6(address)
        self._check_zone(ip6)
        check(lib.ust_if_addr6_del(self._ifp(), ip6_to_c(ip6.packed)), str(ip6))

    @property
    def addresses(self) -> list[ipaddress.IPv4Interface]:
        """The interface's IPv4 addresses with their prefixes."""
        ifp = self._ifp()
        addr = ffi.new("uint32_t *")
        plen = ffi.new("unsigned *")
        out: list[ipaddress.IPv4Interface] = []
        for idx in range(1 << 16):
            rc = int(lib.ust_if_addr_get(ifp, idx, addr, plen))
            if rc == -int(lib.UST_ENOENT):
                break
            check(rc, self.name)
            out.append(ipaddress.IPv4Interface(f"{ip_from_c(addr[0])}/{int(plen[0])}"))
        return out

    @property
    def addresses6(self) -> list[Address6]:
        """The interface's IPv6 addresses (:class:`~ustack.inet.Address6`:
        the address with its prefix, a link-local one with this interface's
        zone, and its ``IN6_IFF_*`` flags: tentative, duplicated, ...);
        empty in a library without IPv6."""
        if not _HAS_INET6:
            return []
        ifp = self._ifp()
        addr = ffi.new("struct ust_in6_addr *")
        plen = ffi.new("unsigned *")
        flags = ffi.new("unsigned *")
        out: list[Address6] = []
        for idx in range(1 << 16):
            rc = int(lib.ust_if_addr6_get(ifp, idx, addr, plen, flags))
            if rc == -int(lib.UST_ENOENT):
                break
            check(rc, self.name)
            ip = ipaddress.IPv6Address(bytes(addr.s6_addr8))
            text = f"{ip}%{self.name}" if ip.is_link_local else str(ip)
            out.append(Address6(ipaddress.IPv6Interface(f"{text}/{int(plen[0])}"), int(flags[0])))
        return out

    def send_frame(self, frame: bytes | bytearray | memoryview) -> None:
        """Queue a complete link-layer frame for the next flush (poll).

        Raises the EMSGSIZE error (over MTU plus link header) or the ENOBUFS
        error (out of mbufs or transmit queue full; counted in oqdrops).
        """
        data = ffi.from_buffer(frame)
        check(lib.ust_if_output_frame(self._ifp(), data, len(data)), self.name)

    def set_input_hook(self, fn: Callable[[bytes], bool] | None) -> None:
        """Call ``fn(frame)`` for every received frame, after capture and before
        the protocols; a true result consumes the frame.  None removes the hook.

        An exception raised by ``fn`` propagates out of the poll that ran it.
        """
        ifp = self._ifp()
        if fn is None:
            lib.ust_if_set_input_hook(ifp, ffi.NULL, ffi.NULL)
            self._input_cb = self._input_handle = None
            return
        cb = _Callbacks(fn, self._errors, self._c_stack())
        handle = ffi.new_handle(cb)
        lib.ust_if_set_input_hook(ifp, lib._ust_py_input_hook, handle)
        # Kept alive for as long as C may call back with it.
        self._input_cb, self._input_handle = cb, handle

    def set_capture_hook(self, fn: Callable[[int, int, bytes], None] | None) -> None:
        """Call ``fn(direction, ts_ns, frame)`` for every frame received
        (direction ``CAPTURE_IN``) or transmitted (``CAPTURE_OUT``).  One capture per
        interface: this replaces a :meth:`capture` file.  None removes it.
        """
        ifp = self._ifp()
        self._drop_capture()
        if fn is None:
            return
        cb = _Callbacks(fn, self._errors, self._c_stack())
        handle = ffi.new_handle(cb)
        lib.ust_if_set_capture(ifp, lib._ust_py_capture, handle)
        self._capture, self._capture_handle = cb, handle

    def capture(self, path: str | os.PathLike[str], *, snaplen: int = 0) -> Capture:
        """Write every frame in and out of this interface to a pcap file.

        Returns a :class:`Capture`; use it as a context manager or close it to
        flush the file.  ``snaplen`` 0 means 65535.
        """
        ifp = self._ifp()
        self._drop_capture()
        cap = Capture(self, path, snaplen)
        lib.ust_if_set_capture(ifp, ffi.addressof(lib, "ust_pcap_capture"), cap._pc)
        self._capture = cap
        self._link.on_detach.append(cap._interface_gone)
        return cap

    def _drop_capture(self) -> None:
        old = self._capture
        if isinstance(old, Capture):
            old.close()
        elif old is not None and self._link.alive:
            lib.ust_if_set_capture(self._link.ifp, ffi.NULL, ffi.NULL)
        self._capture = self._capture_handle = None

    def _capture_closed(self, cap: Capture) -> None:
        if self._capture is cap:
            if self._link.alive:
                lib.ust_if_set_capture(self._link.ifp, ffi.NULL, ffi.NULL)
            self._capture = None

    def detach(self) -> None:
        """Detach the interface from its stack (the driver's detach runs)."""
        if self._link.alive:
            self._link.detach()

    def __repr__(self) -> str:
        if not self._link.alive:
            return f"<Interface {self.name} detached>"
        return f"<Interface {self.name} index={self.index} mac={self.mac} mtu={self.mtu}>"


class Capture(Closing):
    """A pcap file being written from an interface (``ust_pcap``).

    Closing it removes the capture hook and flushes the file; so does leaving
    its ``with`` block.
    """

    def __init__(self, iface: Interface, path: str | os.PathLike[str], snaplen: int) -> None:
        self.path = Path(path)
        self._iface: Interface | None = iface
        out = ffi.new("struct ust_pcap **")
        check(lib.ust_pcap_open(os.fsencode(self.path), snaplen, out), str(self.path))
        self._pc: Any = out[0]
        self._count = 0
        self._close = lib.ust_pcap_close

    @property
    def count(self) -> int:
        """Records written so far."""
        if self._pc is None:
            return self._count
        return int(lib.ust_pcap_count(self._pc))

    @property
    def closed(self) -> bool:
        """True once the file is flushed and closed."""
        return self._pc is None

    def _interface_gone(self) -> None:
        self._iface = None

    def close(self) -> None:
        """Stop capturing, flush and close the file."""
        if self._pc is None:
            return
        iface, self._iface = self._iface, None
        if iface is not None:
            iface._capture_closed(self)
        self._count = int(lib.ust_pcap_count(self._pc))
        pc, self._pc = self._pc, None
        check(self._close(pc), str(self.path))

    def __repr__(self) -> str:
        return f"<Capture {str(self.path)!r} count={self.count}{' closed' if self.closed else ''}>"
