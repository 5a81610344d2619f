"""Many cores: a group of stacks, one per thread, flows steered among them.

A :class:`StackGroup` is ``struct ust_group`` (include/ustack/ustack_group.h,
docs/multicore.md): N ordinary stacks, each owning queue i of every
multi-queue interface attached to the group, frames steered to the stack
that owns their flow by a Toeplitz hash (RSS), configuration (addresses,
routes, static neighbors, knobs) applied to every stack::

    with StackGroup(2) as g, Tap("ust0", queues=2) as tap:
        g.attach("tap0", tap, address="198.18.0.1/24")   # queue i -> stack i
        g.start()                                # one thread per stack
        listeners = [st.create_server(("", 80)) for st in g.stacks]
        conn, peer = listeners[0].accept()       # from any Python thread

With ``threads=True`` (the default) each stack's poll loop runs on a thread
of its own once :meth:`StackGroup.start` runs: its sockets may be used from
any Python thread (each call takes the stack's lock; a blocking call
sleeps in ``ust_socket_wait`` without it), and nothing polls them from
Python.  With ``threads=False`` the stacks are polled like any others: on
a :class:`~ustack.clock.VirtualClock` the group's stacks share the clock's
:class:`~ustack.world.World`, so blocking calls, ``run_until`` and the
Deadlock detection work as for lone stacks (a simulation of a group).

Two groups over a pipe with lanes (``Pipe(lanes=n)``, lane i to stack i)
are the simulation rig: ``ga.attach("pa0", pipe.lanes_of("a"))``.

``group.stacks[i]`` is a :class:`~ustack.stack.Stack` (it cannot be closed
on its own: the group closes them all).  ``EventQueue(group)`` watches
sockets of every stack.  ``stack.locked()`` holds a threaded stack's lock
for a run of calls (its thread waits meanwhile).
"""

from __future__ import annotations

import functools
import ipaddress
import weakref
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from ustack._native import ffi, lib, struct_to_dict
from ustack._stacklock import Fence, StackLock, in_callback
from ustack._util import parse_mac
from ustack.clock import VirtualClock
from ustack.constants import AF_INET6
from ustack.drivers import DriverEnd, Link
from ustack.errors import check, error_from_code
from ustack.inet import (
    IN6_IFF_NODAD,
    HostLike,
    IPInterface,
    IPNetwork,
    ip6_to_c,
    ip_to_c,
    parse_host6,
    parse_interface,
    parse_interface6,
    parse_network_any,
    port_to_c,
)
from ustack.netstat import PROTOCOLS, read_group_counters
from ustack.stack import STACK_STATS_FIELDS, Interface, Stack, fill_config
from ustack.world import World

if TYPE_CHECKING:
    from ustack.events import EventQueue
    from ustack.stack import TcpConnection

__all__ = [
    "StackGroup",
    "GROUP_STATS_FIELDS",
    "RSS_KEYLEN",
    "rss_default_key",
    "rss_hash_v4",
    "rss_hash_v6",
    "rss_hash_frame",
    "rss_queue",
]

GROUP_STATS_FIELDS = (
    "rss_local",
    "rss_steered_out",
    "rss_steered_in",
    "rss_ring_full",
    "rss_replicated",
    "rss_copies_in",
    "lport_tries",
    "exec_calls",
    "wakeups",
    "sleeps",
)
RSS_KEYLEN = int(lib.UST_RSS_KEYLEN)
GROUP_MAX = int(lib.UST_GROUP_MAX)
_GROUP_ALL = int(lib.UST_GROUP_ALL)

F = TypeVar("F", bound=Callable[..., Any])


# --- RSS -------------------------------------------------------------------


def rss_default_key() -> bytes:
    """The standard RSS key (6d5a56da...), every NIC's default."""
    key = ffi.new("uint8_t[]", RSS_KEYLEN)
    lib.ust_rss_default_key(key)
    return bytes(key)


def _key(key: bytes | None) -> Any:
    raw = rss_default_key() if key is None else bytes(key)
    if len(raw) != RSS_KEYLEN:
        raise ValueError(f"an RSS key has {RSS_KEYLEN} bytes, not {len(raw)}")
    return ffi.new("uint8_t[]", list(raw))


def rss_hash_v4(
    src: HostLike,
    dst: HostLike,
    sport: int = 0,
    dport: int = 0,
    *,
    ports: bool = True,
    key: bytes | None = None,
) -> int:
    """The Toeplitz hash a receiver computes for an IPv4 packet from
    ``src:sport`` to ``dst:dport`` (``ports=False``: the addresses only)."""
    return int(
        lib.ust_rss_hash_v4(
            _key(key), ip_to_c(src), ip_to_c(dst), port_to_c(sport), port_to_c(dport), int(ports)
        )
    )


def rss_hash_v6(
    src: HostLike,
    dst: HostLike,
    sport: int = 0,
    dport: int = 0,
    *,
    ports: bool = True,
    key: bytes | None = None,
) -> int:
    """The same for an IPv6 packet."""
    s6, _ = parse_host6(src)
    d6, _ = parse_host6(dst)
    return int(
        lib.ust_rss_hash_v6(
            _key(key), ip6_to_c(s6), ip6_to_c(d6), port_to_c(sport), port_to_c(dport), int(ports)
        )
    )


def rss_hash_frame(
    frame: bytes | bytearray | memoryview, *, key: bytes | None = None
) -> tuple[int, int]:
    """``(hash type, hash)`` of an Ethernet frame (``UST_RSS_*``; type 0
    and hash 0 for a frame that is not IP)."""
    out = ffi.new("uint32_t *")
    data = ffi.from_buffer(frame)
    kind = int(lib.ust_rss_hash_frame(_key(key), data, len(data), out))
    return kind, int(out[0])


def rss_queue(hash_value: int, n: int) -> int:
    """The queue (stack) of ``n`` that a hash selects."""
    return int(lib.ust_rss_queue(hash_value & 0xFFFFFFFF, n))


# --- the stacks of a group ---------------------------------------------------


def _locked(fn: F) -> F:
    """A Stack or Interface method run under a threaded stack's lock."""

    @functools.wraps(fn)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        lock = self._owner_lock()
        if lock is None:
            return fn(self, *args, **kwargs)
        with lock:
            return fn(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _no_destroy(st: Any) -> None:
    """A group's stack is destroyed by ust_group_destroy."""


class _Core:
    """What the C group needs to stay alive and to be destroyed right,
    shared by the StackGroup and its stacks with no reference back to
    either (so no garbage cycle holds a group: a cycle's finalizers run in
    any order, and a pipe could be freed before the group detached from
    it).  The last of the group and its stacks to go destroys the C group
    (``__del__``), the drivers' ends still alive then; or the group's
    :meth:`StackGroup.close` does it first."""

    __slots__ = ("g", "fence", "errors", "log", "ends", "links", "closing")

    def __init__(self) -> None:
        self.g: Any = None
        self.fence = Fence()
        self.errors: list[BaseException] = []
        self.log: tuple[Any, Any] | None = None  # the log callback and handle (C calls it)
        self.ends: list[DriverEnd] = []  # kept alive until the C group is gone
        self.links: list[Link] = []
        self.closing = False

    def destroy(self) -> None:
        g, self.g = self.g, None
        if g is None:
            return
        for link in self.links:
            link.alive = False
        lib.ust_group_destroy(g)
        for link in self.links:
            link.mark_dead()
        self.links.clear()

    def __del__(self) -> None:
        try:
            self.fence.closed = True
            self.destroy()
        except Exception:  # interpreter shutdown
            pass


class GroupInterface(Interface):
    """An interface of a group's stack: on a threaded group, every call
    holds the stack's lock."""

    def _owner_lock(self) -> StackLock | None:
        st = self._stack_ref()
        return None if st is None else st._lock


class GroupStack(Stack):
    """Stack ``index`` of a :class:`StackGroup` (made by the group)."""

    def __init__(self, group: StackGroup, index: int, st: Any, seed: int | None) -> None:  # noqa: D107
        self._init_fields(group.clock, seed, group._core.errors)
        self._st = st
        self._destroy = _no_destroy
        self.tick_ns = group.tick_ns
        self._core = group._core  # keeps the C group; the group itself only weakly
        self._group_ref = weakref.ref(group)
        self._index = index
        if group.threads:
            self._lock = StackLock(st, group._core.fence)
            self._world = World()  # its own, empty: nothing polls a threaded stack
        else:
            self._world = World.for_key(group.clock) if group.clock is not None else World()
            self._world._add(self)

    def _owner_lock(self) -> StackLock | None:
        return self._lock

    def _make_interface(self, link: Link, driver: DriverEnd) -> Interface:
        return GroupInterface(self, link, driver)

    @property
    def group(self) -> StackGroup | None:
        """The :class:`StackGroup` (None once that object is gone: a stack
        keeps the C group alive, not the Python object)."""
        return self._group_ref()

    def close(self) -> None:
        """A group's stack closes with its group (:meth:`StackGroup.close`)."""
        if self._st is not None and not self._core.closing:
            raise RuntimeError("a stack of a StackGroup is closed by its group: group.close()")
        super().close()

    def __del__(self) -> None:
        """Nothing: the C stack goes with the group (the last of the group
        and its stacks to go destroys it)."""

    def __repr__(self) -> str:
        if self._st is None:
            return "<Stack closed>"
        names = ",".join(self._interfaces)
        return f"<Stack {self._index} of a group, interfaces=[{names}]>"


# Stack and Interface methods that call C: on a threaded group, under the
# stack's lock.  (Not those that make blocking socket calls, which take the
# lock themselves and must not hold it while they wait.)
_STACK_METHODS = (
    "random",
    "zone_stats",
    "add_interface",
    "add_route",
    "_add_route6",
    "del_route",
    "routes",
    "route_lookup",
    "nd6_add",
    "nd6_del",
    "nd6_table",
    "nd6_lookup",
    "arp_add",
    "arp_del",
    "arp_table",
    "arp_lookup",
    "sysctl",
    "netstat",
    "tcp_connections",
    "_pcblist",
    "_resting_state",
    "tcp_drop",
)
_STACK_PROPERTIES = ("now", "next_deadline", "mem", "stats")
_IFACE_METHODS = (
    "add_address",
    "del_address",
    "send_frame",
    "set_input_hook",
    "set_capture_hook",
    "capture",
    "detach",
)
_IFACE_PROPERTIES = ("mac", "mac_bytes", "mtu", "caps", "stats", "addresses", "addresses6")

for _name in _STACK_METHODS:
    setattr(GroupStack, _name, _locked(getattr(Stack, _name)))
for _name in _STACK_PROPERTIES:
    _prop = getattr(Stack, _name)
    setattr(GroupStack, _name, property(_locked(_prop.fget), doc=_prop.__doc__))
for _name in _IFACE_METHODS:
    setattr(GroupInterface, _name, _locked(getattr(Interface, _name)))
for _name in _IFACE_PROPERTIES:
    _prop = getattr(Interface, _name)
    setattr(GroupInterface, _name, property(_locked(_prop.fget), doc=_prop.__doc__))


class _Calling:
    """``with group._calling():`` around a call that takes the stacks'
    locks itself (the group's shared configuration, its event queues):
    closing the group waits for it."""

    __slots__ = ("fence",)

    def __init__(self, fence: Fence) -> None:
        self.fence = fence

    def __enter__(self) -> None:
        self.fence.enter()

    def __exit__(self, *exc: object) -> None:
        self.fence.leave()


def _ends(driver: Any, n: int) -> list[DriverEnd]:
    """The n driver ends (one per stack) of ``driver``: a sequence of ends
    (``pipe.lanes_of("a")``), or a multi-queue device with ``queue(i)`` (a
    ``Tap(queues=n)``)."""
    ends: Any = driver
    if not isinstance(ends, Sequence) and callable(getattr(ends, "queue", None)):
        ends = [driver.queue(i) for i in range(n)]
    if not isinstance(ends, Sequence):
        raise TypeError(
            f"attach needs one driver end per stack (a list, or a device with queue(i)), "
            f"not {driver!r}"
        )
    ends = list(ends)
    if len(ends) != n:
        raise ValueError(f"attach needs {n} driver ends, one per stack, not {len(ends)}")
    for end in ends:
        if not isinstance(end, DriverEnd):
            raise TypeError(f"not a driver end: {end!r}")
    return ends


class StackGroup:
    """``nstacks`` stacks sharing their interfaces' queues (see the module
    documentation).

    seed: stack i is seeded with seed + i (replayable, not identical).
    threads: one thread per stack once started (True); False: the caller
    polls them (the only choice on a VirtualClock).
    pin / cpus: pin stack i's thread to CPU ``cpus[i]`` (default: CPU i
    modulo the CPUs online).  busy_poll: threads spin instead of sleeping.
    ring_size: slots of each hand-off ring (a power of two).
    rss_key: the 40-byte Toeplitz key (default: the standard one).
    The other keywords are :class:`~ustack.stack.Stack`'s, for every stack.
    """

    def __init__(
        self,
        nstacks: int,
        *,
        seed: int | None = None,
        threads: bool = True,
        pin: bool = False,
        cpus: Sequence[int] | None = None,
        busy_poll: bool = False,
        ring_size: int = 1024,
        rss_key: bytes | None = None,
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
        self._core = _Core()
        self._running = False
        self._evqs: weakref.WeakSet[EventQueue] = weakref.WeakSet()
        self._interfaces: dict[str, list[Interface]] = {}
        self.stacks: list[Stack] = []
        if not 1 <= nstacks <= GROUP_MAX:
            raise ValueError(f"a group has 1..{GROUP_MAX} stacks, not {nstacks}")
        if threads and clock is not None:
            raise ValueError(
                "a group with threads runs on the real clock: give threads=False with a "
                "VirtualClock (the caller then polls the stacks)"
            )
        if ring_size <= 0 or ring_size & (ring_size - 1):
            raise ValueError(f"ring_size must be a power of two, not {ring_size}")
        if cpus is not None and len(cpus) != nstacks:
            raise ValueError(f"cpus needs one CPU per stack ({nstacks}), not {len(cpus)}")
        self.clock = clock
        self.threads = bool(threads)
        self.seed = seed
        cfg = ffi.new("struct ust_group_config *")
        lib.ust_group_config_init(cfg)
        cfg.nstacks = nstacks
        self._core.log = fill_config(
            cfg.stack,
            self._core.errors,
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
        self.tick_ns = int(cfg.stack.tick_ns)
        if rss_key is not None:
            raw = bytes(rss_key)
            if len(raw) != RSS_KEYLEN:
                raise ValueError(f"an RSS key has {RSS_KEYLEN} bytes, not {len(raw)}")
            for i, byte in enumerate(raw):
                cfg.rss_key[i] = byte
            cfg.rss_key_set = 1
        cfg.threads = 1 if threads else 0
        if pin or cpus is not None:
            cfg.pin = 1
            for i in range(nstacks):
                cfg.cpus[i] = cpus[i] if cpus is not None else -1
        cfg.busy_poll = 1 if busy_poll else 0
        cfg.ring_size = ring_size
        out = ffi.new("struct ust_group **")
        check(lib.ust_group_create(cfg, out), "stack group")
        self._core.g = out[0]
        n = int(lib.ust_group_size(self._core.g))
        for i in range(n):
            st = lib.ust_group_stack(self._core.g, i)
            self.stacks.append(GroupStack(self, i, st, None if seed is None else seed + i))
        if not threads:
            # Frames go from stack to stack through the hand-off rings: the
            # group's stacks are polled together.
            for stack in self.stacks:
                stack._world = stack.world._join(self, stack)
        self._raise_pending()

    # --- the stacks -----------------------------------------------------------

    def __len__(self) -> int:
        return len(self.stacks)

    def __getitem__(self, i: int) -> Stack:
        return self.stacks[i]

    def __iter__(self) -> Iterator[Stack]:
        return iter(self.stacks)

    @property
    def closed(self) -> bool:
        return self._core.g is None

    @property
    def _g(self) -> Any:
        return self._core.g

    def _ptr(self) -> Any:
        if self._core.g is None:
            raise error_from_code(int(lib.UST_EBADF), "the stack group is closed")
        return self._core.g

    def _calling(self) -> _Calling:
        """The context of a call that takes the stacks' locks itself: it
        must not be made by a thread holding one (the locks do not nest)."""
        for stack in self.stacks:
            lock = stack._lock
            if lock is not None and (lock.held or in_callback() is not None):
                raise RuntimeError(
                    "this call takes every stack's lock itself: not inside stack.locked() "
                    "or a stack's callback"
                )
        return _Calling(self._core.fence)

    def _raise_pending(self) -> None:
        errors = self._core.errors
        if errors:
            exc = errors[0]
            errors.clear()
            raise exc

    @property
    def world(self) -> World:
        """The world of a group without threads (its stacks, polled
        together); a threaded group's stacks are in none."""
        return self.stacks[0].world

    # --- interfaces -------------------------------------------------------------

    def attach(
        self,
        name: str,
        driver: Any,
        address: str | IPInterface | Sequence[str | IPInterface] | None = None,
    ) -> list[Interface]:
        """Attach a multi-queue device as interface ``name`` of every stack:
        end i (``driver[i]``, or ``driver.queue(i)`` of a multi-queue device) on
        stack i (``ust_group_if_attach``); frames are steered among them by
        hash.  Optionally with addresses (on every stack).  Returns the n
        interfaces.  Before :meth:`start`."""
        g = self._ptr()
        n = len(self.stacks)
        ends = _ends(driver, n)
        args = [end._attach_args() for end in ends]
        ops = args[0][0]
        if any(a[0] != ops for a in args):
            raise ValueError("the ends of one group interface must be of one driver")
        softcs = ffi.new("void *[]", [a[1] for a in args])
        ifps = ffi.new("struct ust_if *[]", n)
        with self._calling():
            check(lib.ust_group_if_attach(g, name.encode("utf-8"), ops, softcs, ifps), name)
        ifaces: list[Interface] = []
        self._core.ends.extend(ends)
        for i, (stack, end) in enumerate(zip(self.stacks, ends, strict=True)):
            iface = stack._adopt_interface(ifps[i], end)
            self._core.links.append(iface._link)
            stack_ref = weakref.ref(stack)

            def forget(ref: weakref.ref[Stack] = stack_ref, ifname: str = iface.name) -> None:
                st = ref()
                if st is not None:
                    st._forget(ifname)

            iface._link.on_detach.append(forget)
            shared = end._shared_key()
            if shared is not None and not self.threads:
                stack._world = stack.world._join(shared, stack)
            ifaces.append(iface)
        self._interfaces[name] = ifaces
        if address is not None:
            texts = (
                [address]
                if isinstance(address, str | ipaddress.IPv4Interface | ipaddress.IPv6Interface)
                else list(address)
            )
            for text in texts:
                self.add_address(name, text)
        return ifaces

    def interfaces(self, name: str) -> list[Interface]:
        """Interface ``name`` of every stack (KeyError if none)."""
        return list(self._interfaces[name])

    # --- shared configuration ---------------------------------------------------

    def add_address(self, ifname: str, address: str | IPInterface, *, nodad: bool = False) -> None:
        """:meth:`Interface.add_address <ustack.stack.Interface.add_address>`
        on interface ``ifname`` of every stack."""
        g = self._ptr()
        name = ifname.encode("utf-8")
        if isinstance(address, ipaddress.IPv4Interface) or (
            isinstance(address, str) and ":" not in address
        ):
            ifa4 = parse_interface(address)
            with self._calling():
                check(
                    lib.ust_group_if_addr_add(g, name, ip_to_c(ifa4.ip), ifa4.network.prefixlen),
                    str(ifa4),
                )
            return
        if isinstance(address, str) and "/" not in address:
            address += "/64"
        ifa = parse_interface6(address)
        flags = IN6_IFF_NODAD if nodad else 0
        with self._calling():
            check(
                lib.ust_group_if_addr6_add(
                    g, name, ip6_to_c(ifa.ip.packed), ifa.network.prefixlen, flags
                ),
                str(ifa),
            )

    def add_route(
        self, dst: str | IPNetwork, gateway: HostLike | None = None, interface: str | None = None
    ) -> None:
        """:meth:`Stack.add_route <ustack.stack.Stack.add_route>` on every
        stack (``interface`` by name)."""
        g = self._ptr()
        if gateway is None and interface is None:
            raise ValueError("add_route needs a gateway or an interface")
        v6_gw = gateway is not None and (
            isinstance(gateway, ipaddress.IPv6Address) or ":" in str(gateway)
        )
        net = parse_network_any(dst, AF_INET6 if v6_gw else None)
        name = ffi.NULL if interface is None else interface.encode("utf-8")
        with self._calling():
            if net.version == 6:
                gw: Any = ffi.NULL
                if gateway is not None:
                    packed, _ = parse_host6(gateway)
                    gw = ip6_to_c(packed)
                check(
                    lib.ust_group_route6_add(
                        g, ip6_to_c(net.network_address), net.prefixlen, gw, name
                    ),
                    str(net),
                )
                return
            gw4 = 0 if gateway is None else ip_to_c(gateway)
            check(
                lib.ust_group_route_add(g, ip_to_c(net.network_address), net.prefixlen, gw4, name),
                str(net),
            )

    def arp_add(self, ifname: str, ip: HostLike, mac: str | bytes) -> None:
        """A static ARP entry on every stack."""
        raw = parse_mac(mac) if isinstance(mac, str) else bytes(mac)
        if len(raw) != 6:
            raise ValueError(f"a MAC address has 6 bytes, not {len(raw)}")
        with self._calling():
            check(
                lib.ust_group_arp_add_static(self._ptr(), ifname.encode(), ip_to_c(ip), raw),
                str(ip),
            )

    def nd6_add(self, ifname: str, ip: HostLike, mac: str | bytes) -> None:
        """A static neighbor cache entry on every stack."""
        raw = parse_mac(mac) if isinstance(mac, str) else bytes(mac)
        if len(raw) != 6:
            raise ValueError(f"a MAC address has 6 bytes, not {len(raw)}")
        packed, _ = parse_host6(ip)
        with self._calling():
            check(
                lib.ust_group_nd6_add_static(self._ptr(), ifname.encode(), ip6_to_c(packed), raw),
                str(ip),
            )

    def sysctl(self, name: str, value: int | str | None = None) -> int | str:
        """Read knob ``name`` (stack 0's), or set it on every stack and
        return the previous value, as :meth:`Stack.sysctl
        <ustack.stack.Stack.sysctl>`."""
        old = self.stacks[0].sysctl(name)
        if value is None:
            return old
        if isinstance(value, str) or isinstance(old, str):
            for stack in self.stacks:
                stack.sysctl(name, value)  # type: ignore[call-overload]
            return old
        if not isinstance(value, int):
            raise TypeError(f"sysctl {name}: the value must be an int, not {type(value).__name__}")
        with self._calling():
            check(lib.ust_group_sysctl_set(self._ptr(), name.encode("utf-8"), value), name)
        return old

    # --- running --------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """True between :meth:`start` and :meth:`stop` (threads run)."""
        return self._running

    def start(self) -> None:
        """Start one thread per stack (threads=True); the stacks are then
        never polled from Python."""
        if not self.threads:
            raise RuntimeError("a group made with threads=False is polled by the caller")
        with self._calling():
            check(lib.ust_group_start(self._ptr()), "start")
        self._running = True

    def stop(self) -> None:
        """Stop and join the threads; the stacks stay, idle."""
        if self._g is None or not self._running:
            return
        lib.ust_group_stop(self._g)  # the GIL is released: a thread in a callback can finish
        self._running = False
        self._raise_pending()

    def poll(self) -> int:
        """One poll of every stack (threads=False); the work done."""
        return sum(stack.poll() for stack in self.stacks)

    def run_until(
        self,
        until: Callable[[], bool] | int | None = None,
        *,
        timeout_ns: int | None = None,
        max_steps: int = 1_000_000,
    ) -> bool:
        """:func:`~ustack.world.run_until` over the group's world (threads=False)."""
        if self.threads:
            raise RuntimeError("a threaded group's stacks poll themselves")
        return self.world.run_until(until, timeout_ns=timeout_ns, max_steps=max_steps)

    def close(self) -> None:
        """Stop the threads, close every socket and event queue, destroy
        the stacks (their interfaces are detached; the drivers stay)."""
        core = self._core
        g = core.g
        if g is None:
            return
        core.closing = True
        try:
            if self._running:
                lib.ust_group_stop(g)
                self._running = False
            core.fence.close()  # calls in progress end first; new ones fail
            for q in list(self._evqs):
                q.close()
            for stack in self.stacks:
                lock, stack._lock = stack._lock, None  # no thread: plain calls now
                try:
                    stack.close()
                finally:
                    stack._lock = lock
        finally:
            core.destroy()
            self._interfaces.clear()

    # --- counters -------------------------------------------------------------------

    @property
    def stats(self) -> dict[str, int]:
        """The stacks' counters (``struct ust_stack_stats``) summed, as
        :attr:`Stack.stats <ustack.stack.Stack.stats>`."""
        out = ffi.new("struct ust_stack_stats *")
        with self._calling():
            lib.ust_group_stack_stats(self._ptr(), out)
        return struct_to_dict(out, STACK_STATS_FIELDS)

    def netstat(self, proto: str | None = None) -> dict[str, dict[str, Any]]:
        """Protocol counters summed over the stacks, as :meth:`Stack.netstat
        <ustack.stack.Stack.netstat>`."""
        g = self._ptr()
        protos = PROTOCOLS if proto is None else (proto,)
        with self._calling():
            return {p: read_group_counters(g, p) for p in protos}

    @property
    def rss_stats(self) -> dict[str, int]:
        """The steering counters (``struct ust_group_stats``) summed."""
        return self.rss_stats_of(None)

    def rss_stats_of(self, i: int | None) -> dict[str, int]:
        """Stack ``i``'s steering counters (None: the sum)."""
        out = ffi.new("struct ust_group_stats *")
        idx = _GROUP_ALL if i is None else int(i)
        if i is not None and not 0 <= idx < len(self.stacks):
            raise IndexError(f"no stack {i} in a group of {len(self.stacks)}")
        with self._calling():
            lib.ust_group_get_stats(self._ptr(), idx, out)
        return struct_to_dict(out, GROUP_STATS_FIELDS)

    def tcp_connections(self) -> list[TcpConnection]:
        """Every stack's TCP table, stack 0's first."""
        return [c for stack in self.stacks for c in stack.tcp_connections()]

    def event_queue(self) -> EventQueue:
        """An :class:`~ustack.events.EventQueue` over sockets of every stack."""
        from ustack.events import EventQueue

        return EventQueue(self)

    def __enter__(self) -> StackGroup:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        if self._core.g is None:
            return "<StackGroup closed>"
        mode = "threads" if self.threads else "polled"
        state = ", running" if self._running else ""
        return f"<StackGroup {len(self.stacks)} stacks, {mode}{state}>"
