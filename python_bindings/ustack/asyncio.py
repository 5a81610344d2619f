"""asyncio on ustack sockets, on the real clock or on a virtual one.

::

    import ustack
    import ustack.asyncio as uasyncio

    async def main() -> None:
        async def echo(reader, writer):
            writer.write(await reader.read(100))
            await writer.drain()
            writer.close()

        server = await uasyncio.start_server(echo, "198.18.0.2", 7, stack=b)
        async with server:
            reader, writer = await uasyncio.open_connection("198.18.0.2", 7, stack=a)
            writer.write(b"ping")
            print(await reader.read(100))        # b'ping'
            writer.close()
            await writer.wait_closed()
            await asyncio.sleep(120)             # virtual seconds: milliseconds of wall time

    uasyncio.run(main(), clock=clock)

:class:`EventLoop` is a :class:`asyncio.SelectorEventLoop` whose selector is
a :class:`~ustack.selectors.UstackSelector`: it runs the stacks of the
ustack sockets it watches while it waits, and watches host files (the
loop's self-pipe, host sockets, subprocess pipes) as usual.  Given a
:class:`~ustack.clock.VirtualClock`, ``loop.time()`` is ``clock.now / 1e9``:
``asyncio.sleep``, ``call_later``, ``wait_for`` and ``asyncio.timeout`` run
in virtual time, and virtual time jumps to the next event (a stack's timer,
a frame arriving, an asyncio timer) whenever every task waits, so a test
that sleeps through a 2-minute TIME_WAIT takes milliseconds.  Without a
clock the loop runs on the real (monotonic) clock, as any asyncio loop.

The streams are asyncio's own: :func:`open_connection` connects a ustack
socket with ``loop.sock_connect`` and hands it to
:func:`asyncio.open_connection` (``sock=``); :func:`start_server` hands a
listening ustack socket to ``loop.create_server`` and returns its
:class:`asyncio.Server`.  Any asyncio code written for host sockets --
``reader.readexactly``, ``writer.drain``, ``Server.serve_forever`` --
runs unchanged.

A wait that nothing can end.  On a virtual clock, when every task waits on
ustack sockets, no asyncio timer is scheduled, nothing is pending in any
stack (or the stacks only repeat idle timers) and no host file but the
loop's own self-pipe is registered, ``run_until_complete`` (and so
:func:`run`) raises :class:`~ustack.world.Deadlock` instead of hanging: on
host sockets that program would hang.  Work handed to ``run_in_executor``
counts as something that may end the wait while it runs.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket as _socket
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar, cast

from ustack.selectors import UstackSelector

if TYPE_CHECKING:
    from ustack.clock import VirtualClock
    from ustack.sockets import Socket
    from ustack.stack import Stack

__all__ = ["EventLoop", "new_event_loop", "run", "open_connection", "start_server"]

T = TypeVar("T")

_ClientConnected = Callable[[asyncio.StreamReader, asyncio.StreamWriter], "Awaitable[None] | None"]


class EventLoop(asyncio.SelectorEventLoop):
    """A :class:`asyncio.SelectorEventLoop` over a
    :class:`~ustack.selectors.UstackSelector`; on a virtual ``clock`` its
    :meth:`time` is the clock's (module doc)."""

    def __init__(
        self, clock: VirtualClock | None = None, selector: UstackSelector | None = None
    ) -> None:
        self._ustack_clock = clock
        self._ustack_jobs = 0
        sel = selector if selector is not None else UstackSelector(clock=clock)
        self._ustack_selector = sel
        super().__init__(sel)
        # The self-pipe only carries wake-ups from threads (call_soon_threadsafe):
        # it does not keep a virtual-clock wait from being a deadlock, unless
        # an executor job runs (it will write to it).
        sel._set_quiet(cast(Any, self)._ssock.fileno())  # asyncio's self-pipe
        sel._set_may_wake(lambda: self._ustack_jobs > 0)

    @property
    def clock(self) -> VirtualClock | None:
        """The virtual clock of the loop (None: the real clock)."""
        return self._ustack_clock

    def time(self) -> float:
        """Seconds of the loop's clock: ``clock.now / 1e9`` on a virtual clock,
        else :func:`time.monotonic`."""
        clock = self._ustack_clock
        if clock is None:
            return time.monotonic()
        return clock.now / 1e9

    def run_in_executor(  # type: ignore[override]  # typeshed's is generic over *args
        self, executor: Any, func: Callable[..., T], *args: Any
    ) -> asyncio.Future[T]:
        """As asyncio's; while the job runs, a wait is not a deadlock."""
        fut = super().run_in_executor(executor, func, *args)
        self._ustack_jobs += 1

        def done(_: object) -> None:
            self._ustack_jobs -= 1

        fut.add_done_callback(done)
        return fut

    async def shutdown_default_executor(self, *args: Any, **kwargs: Any) -> None:
        """As asyncio's (it waits for a thread: no deadlock meanwhile)."""
        self._ustack_jobs += 1
        try:
            await super().shutdown_default_executor(*args, **kwargs)
        finally:
            self._ustack_jobs -= 1


def new_event_loop(clock: VirtualClock | None = None) -> EventLoop:
    """A new :class:`EventLoop` (on ``clock`` when given)."""
    return EventLoop(clock)


def run(
    main: Coroutine[Any, Any, T], *, clock: VirtualClock | None = None, debug: bool | None = None
) -> T:
    """Run a coroutine on a new :class:`EventLoop`, as :func:`asyncio.run`
    does (the loop is closed after; remaining tasks cancelled)."""
    with asyncio.Runner(debug=debug, loop_factory=lambda: new_event_loop(clock)) as runner:
        return runner.run(main)


def _family(host: str | None) -> int | None:
    """AF_INET or AF_INET6 for an address literal, None for a name."""
    if host is None:
        return None
    try:
        addr = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None
    return _socket.AF_INET6 if addr.version == 6 else _socket.AF_INET


async def _resolve(host: str, port: int, family: int) -> list[tuple[int, tuple[Any, ...]]]:
    """``[(family, address), ...]`` to try for ``host`` (a literal, or a name
    the host's resolver knows: ustack has no resolver of its own)."""
    fam = _family(host)
    if fam is not None:
        if family and family != fam:
            raise OSError(f"{host!r} is not an address of family {family!r}")
        return [(fam, (host, port))]
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, family=family, type=_socket.SOCK_STREAM)
    out = [(int(f), sa) for f, _, _, _, sa in infos if f in (_socket.AF_INET, _socket.AF_INET6)]
    if not out:
        raise OSError(f"getaddrinfo({host!r}) gave no IPv4/IPv6 address")
    return out


async def _connected_socket(
    host: str, port: int, stack: Stack, local_addr: tuple[Any, ...] | None, family: int
) -> Socket:
    loop = asyncio.get_running_loop()
    errors: list[OSError] = []
    for fam, address in await _resolve(host, port, family):
        sock = stack.socket(fam, _socket.SOCK_STREAM)
        try:
            sock.setblocking(False)
            if local_addr is not None:
                sock.bind(local_addr)
            await loop.sock_connect(cast(Any, sock), address)
            # As asyncio's own connections (its getaddrinfo sockets have
            # proto IPPROTO_TCP, ustack's 0, so it would not do it here).
            sock.setsockopt(_socket.IPPROTO_TCP, _socket.TCP_NODELAY, 1)
            return sock
        except OSError as exc:
            sock.close()
            errors.append(exc)
        except BaseException:
            sock.close()
            raise
    if len(errors) == 1:
        raise errors[0]
    raise OSError(f"Multiple exceptions: {', '.join(str(e) for e in errors)}")


async def open_connection(
    host: str,
    port: int,
    *,
    stack: Stack,
    limit: int = 2**16,
    local_addr: tuple[Any, ...] | None = None,
    family: int = 0,
    **kw: Any,
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Connect a TCP socket of ``stack`` to ``(host, port)``; returns asyncio's
    ``(StreamReader, StreamWriter)``, as :func:`asyncio.open_connection`.

    ``host`` is an address literal (or a name the host resolves);
    ``local_addr`` binds the socket first; ``kw`` go to
    :func:`asyncio.open_connection` (``ssl=...``, ``server_hostname=...``).
    Runs on the current loop: an :class:`EventLoop`, or any selector loop
    once ustack's background poller drives the stack."""
    sock = await _connected_socket(host, port, stack, local_addr, family)
    try:
        return await asyncio.open_connection(sock=sock, limit=limit, **kw)
    except BaseException:
        sock.close()
        raise


async def start_server(
    client_connected_cb: _ClientConnected,
    host: str | None = None,
    port: int = 0,
    *,
    stack: Stack,
    backlog: int = 100,
    limit: int = 2**16,
    family: int = 0,
    **kw: Any,
) -> asyncio.Server:
    """Listen on ``(host, port)`` of ``stack`` (host None or "": every
    address; port 0: an ephemeral one, see ``server.sockets[0].getsockname()``)
    and call ``client_connected_cb(reader, writer)`` for each connection, as
    :func:`asyncio.start_server`; returns the :class:`asyncio.Server`
    (``async with``, ``serve_forever``, ``close``, ``wait_closed``,
    ``sockets``).  ``kw`` go to ``loop.create_server`` (``ssl=...``,
    ``start_serving=False``)."""
    loop = asyncio.get_running_loop()
    fam = family or _family(host) or _socket.AF_INET
    sock = stack.socket(fam, _socket.SOCK_STREAM)
    try:
        sock.setblocking(False)
        sock.setsockopt(_socket.SOL_SOCKET, _socket.SO_REUSEADDR, 1)
        # Inherited by accepted connections, which asyncio's create_server
        # gives TCP_NODELAY (it does not here: ustack's proto is 0).
        sock.setsockopt(_socket.IPPROTO_TCP, _socket.TCP_NODELAY, 1)
        sock.bind((host or ("::" if fam == _socket.AF_INET6 else "0.0.0.0"), port))

        def factory() -> asyncio.StreamReaderProtocol:
            reader = asyncio.StreamReader(limit=limit, loop=loop)
            return asyncio.StreamReaderProtocol(reader, client_connected_cb, loop=loop)

        return await loop.create_server(factory, sock=cast(Any, sock), backlog=backlog, **kw)
    except BaseException:
        sock.close()
        raise
