"""Socket.fileno(): a real descriptor, readable exactly when the ustack socket
is readable and writable exactly when it is writable (python_bindings/ext/
notify.c), so that select, poll, selectors and the *stdlib* asyncio loop
work on ustack sockets; socket_from_fd; the background poller
(ustack._pump) that runs a threadless world while the program waits
outside ustack calls.  Two stacks over a pipe, on the virtual clock and on
the real one (Stack(clock=None), Pipe(clock=None))."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import gc
import os
import select
import selectors
import socket
import struct
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Iterator
from typing import Any

import pytest

import ustack
from ustack import _pump
from ustack._native import ffi, lib
from ustack.sim import PipeRig
from ustack.sockets import Socket, socket_from_fd

ADDR_A = "198.18.0.1"
ADDR_B = "198.18.0.2"
SEED = int(os.environ.get("USTACK_TEST_SEED", "21"))
WAIT = 10.0  # wall seconds a select may take before the test calls it a hang

EV_IN = int(lib.UST_EV_IN)
EV_OUT = int(lib.UST_EV_OUT)
EV_ERR = int(lib.UST_EV_ERR)
EV_HUP = int(lib.UST_EV_HUP)

CLOCKS = ["virtual", "real"]


def ready(fd: Any) -> tuple[bool, bool]:
    """(readable, writable) as select() sees ``fd`` right now."""
    r, w, _ = select.select([fd], [fd], [], 0)
    return bool(r), bool(w)


def wait_readable(fd: Any, timeout: float = WAIT) -> bool:
    return bool(select.select([fd], [], [], timeout)[0])


def wait_writable(fd: Any, timeout: float = WAIT) -> bool:
    return bool(select.select([], [fd], [], timeout)[1])


@contextlib.contextmanager
def rig(kind: str) -> Iterator[PipeRig]:
    print(f"seed {SEED}, clock {kind}")
    r = PipeRig(seed=SEED, addresses=True, virtual=kind == "virtual")
    try:
        yield r
    finally:
        r.a.close()
        r.b.close()
        r.pipe.close()


def connected(r: PipeRig, port: int = 7000) -> tuple[Socket, Socket, Socket]:
    """(client on A, server's connection on B, B's listener), blocking."""
    lsock = r.b.create_server((ADDR_B, port))
    c = r.a.socket()
    c.connect((ADDR_B, port))
    s, _ = lsock.accept()
    return c, s, lsock


def events(sock: Socket) -> int:
    """The socket's UST_EV_* set, read from the stack now."""
    return int(lib.ust_socket_events(sock._so, ffi.NULL, ffi.NULL))


def expected(ev: int) -> tuple[bool, bool]:
    """(readable, writable) the fileno must show for the set ``ev``."""
    return bool(ev & (EV_IN | EV_ERR | EV_HUP)), bool(ev & (EV_OUT | EV_ERR | EV_HUP))


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


# --- the kernel rules the design relies on -----------------------------------


def test_unix_poll_rules() -> None:
    """Linux's unix_poll as ext/notify.c uses it: a byte in the receive queue
    makes the polled end readable; a send direction filled until EAGAIN
    makes it not writable, a full drain at the other end writable again,
    a partial one not; and every UST_EV_* set maps to the right pair."""
    f = lib.ust_py_fd_new()
    assert f != ffi.NULL
    try:
        fd = int(lib.ust_py_fd_fileno(f))
        assert ready(fd) == (False, True)  # a fresh pair: EV_OUT alone
        cases = [
            (0, (False, False)),
            (EV_IN, (True, False)),
            (EV_OUT, (False, True)),
            (EV_IN | EV_OUT, (True, True)),
            (EV_ERR, (True, True)),
            (EV_HUP, (True, True)),
            (0, (False, False)),
            (EV_OUT, (False, True)),
            (EV_IN, (True, False)),
            (EV_IN, (True, False)),  # applying twice changes nothing
            (0, (False, False)),
        ]
        for events, want in cases:
            lib.ust_py_fd_apply(f, events)
            assert ready(fd) == want, f"events {events:#x}"
            p = select.poll()
            p.register(fd, select.POLLIN | select.POLLOUT)
            got = dict(p.poll(0)).get(fd, 0)
            assert (bool(got & select.POLLIN), bool(got & select.POLLOUT)) == want
            assert not got & (select.POLLERR | select.POLLHUP)
        assert int(lib.ust_py_fd_applies(f)) == len(cases)
    finally:
        lib.ust_py_fd_free(f)
    # The raw rule: a partial drain does not make a filled sender writable.
    u, i = socket.socketpair()
    with u, i:
        u.setblocking(False)
        i.setblocking(False)
        u.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1)
        with contextlib.suppress(BlockingIOError):
            while True:
                u.send(bytes(65536))
        assert ready(u) == (False, False)
        i.recv(1)
        assert ready(u) == (False, False)
        with contextlib.suppress(BlockingIOError):
            while True:
                i.recv(65536)
        assert ready(u) == (False, True)


# --- exactness -----------------------------------------------------------------


@pytest.mark.parametrize("kind", CLOCKS)
def test_readable_and_writable_exactly(kind: str) -> None:
    with rig(kind) as r:
        c, s, lsock = connected(r)
        s.setblocking(False)
        fd = s.fileno()
        assert fd >= 0 and s.fileno() == fd  # stable
        assert ready(fd) == (False, True)
        assert ready(s) == (False, True)  # select takes the object too
        c.sendall(b"hello")
        assert wait_readable(s), f"seed {SEED}: data never made the fileno readable"
        assert ready(s) == (True, True)
        assert s.recv(100) == b"hello"
        assert ready(s) == (False, True), "still readable after the buffer was drained"
        # Fill the send buffer.  At every step the fileno shows the socket's
        # events exactly (EV_OUT goes when the free space drops under
        # SO_SNDLOWAT, as FreeBSD's sowriteable says; a send may still take
        # a little then), and once a send would block it is not writable.
        sent = 0
        chunk = bytes(range(256)) * 256
        shown = []
        with r.b.world.using():  # nothing polls meanwhile
            while True:
                ev = events(s)
                shown.append(ready(s))
                assert shown[-1] == expected(ev), f"events {ev:#x} shown as {shown[-1]}"
                try:
                    sent += s.send(chunk)
                except BlockingIOError:
                    break
            assert ready(s) == (False, False), "writable although a send would block"
        assert shown[0] == (False, True) and sent > 0
        # The peer reads; ACKs free the send buffer; the poller runs the world.
        got = 0
        c.settimeout(5.0)
        while got < sent:
            got += len(c.recv(65536))
        assert wait_writable(s), f"seed {SEED}: never writable again after the peer read"
        assert s.send(b"x") == 1
        for sock in (c, s, lsock):
            sock.close()


@pytest.mark.parametrize("kind", CLOCKS)
def test_listener_readable_with_a_connection_to_accept(kind: str) -> None:
    with rig(kind) as r:
        lsock = r.b.create_server((ADDR_B, 7001))
        lsock.setblocking(False)
        assert ready(lsock) == (False, False)  # a listener is never writable
        c = r.a.socket()
        c.setblocking(False)
        cfd = c.fileno()
        assert ready(cfd) == (False, False)  # unconnected: neither
        with pytest.raises(BlockingIOError):
            c.connect((ADDR_B, 7001))
        assert wait_writable(cfd), "connect never completed for the fileno"
        assert c.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0
        assert wait_readable(lsock)
        conn, _ = lsock.accept()
        assert ready(lsock) == (False, False), "readable after the only connection was taken"
        for sock in (conn, c, lsock):
            sock.close()


def test_fd_is_updated_from_c_by_the_stack() -> None:
    """Only the C upcall can make the fileno readable here: the data arrive
    while the test polls the stacks itself, with no Python socket call and
    no Python upcall on the socket; the fileno must follow, and the apply
    count (notify.c) must have grown inside those polls."""
    with rig("virtual") as r:
        c, s, lsock = connected(r)
        fd = s.fileno()
        assert s._upcall is None
        world = r.a.world
        world.add_driver()  # the poller stays out: this thread polls
        try:
            applies = int(lib.ust_py_fd_applies(s._notify))
            c.setblocking(False)
            c.send(b"data")
            assert ready(fd) == (False, True)  # still in the pipe
            r.run()  # polls A and B from this thread, no socket call on s
            assert ready(fd) == (True, True)
            assert int(lib.ust_py_fd_applies(s._notify)) > applies
            assert s._fd_events & EV_IN
        finally:
            world.remove_driver()
        for sock in (c, s, lsock):
            sock.close()


def test_python_upcall_is_chained() -> None:
    """A Python upcall and the fileno both work, in either order of setting."""
    with rig("virtual") as r:
        c, s, lsock = connected(r)
        seen: list[int] = []
        s.set_upcall(lambda sock, ev: seen.append(ev))
        fd = s.fileno()  # after set_upcall
        c.send(b"a")
        r.run()
        assert seen and seen[-1] & EV_IN
        assert ready(fd)[0]
        assert s.recv(10) == b"a"
        s.set_upcall(None)
        n = len(seen)
        c.send(b"b")
        r.run()
        assert len(seen) == n and ready(fd)[0]  # the fileno kept working alone
        assert s.recv(10) == b"b"
        c2 = r.a.socket()
        c2.connect((ADDR_B, 7000))
        s2, _ = lsock.accept()
        fd2 = s2.fileno()  # before set_upcall
        seen2: list[int] = []
        s2.set_upcall(lambda sock, ev: seen2.append(ev))
        c2.send(b"c")
        r.run()
        assert seen2 and ready(fd2)[0]
        for sock in (c, s, c2, s2, lsock):
            sock.close()


# --- errors and hangups ----------------------------------------------------------


@pytest.mark.parametrize("kind", CLOCKS)
def test_reset_and_peer_close(kind: str) -> None:
    with rig(kind) as r:
        c, s, lsock = connected(r)
        s.setblocking(False)
        # Peer close (FIN): readable, recv gives EOF, still readable after.
        c.close()
        assert wait_readable(s), "a FIN did not make the fileno readable"
        assert s.recv(10) == b""
        assert ready(s)[0]
        s.close()
        # RST (SO_LINGER 0): readable and writable (EV_ERR), recv raises.
        c2 = r.a.socket()
        c2.connect((ADDR_B, 7000))
        s2, _ = lsock.accept()
        s2.setblocking(False)
        assert ready(s2) == (False, True)
        c2.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        c2.close()
        assert wait_readable(s2), "an RST did not make the fileno readable"
        assert ready(s2) == (True, True)
        assert s2._fd_events & (EV_ERR | EV_HUP)
        with pytest.raises(ConnectionResetError):
            s2.recv(10)
        s2.close()
        lsock.close()


# --- lifetime --------------------------------------------------------------------


def test_close_closes_the_descriptors_and_socket_from_fd() -> None:
    with rig("virtual") as r:
        c, s, lsock = connected(r)
        fd = s.fileno()
        assert socket_from_fd(fd) is s
        assert socket_from_fd(-1) is None
        os.fstat(fd)
        before = open_fds()
        s.close()
        with pytest.raises(OSError) as exc:
            os.fstat(fd)
        assert exc.value.errno == errno.EBADF
        assert open_fds() == before - 2  # the pair: both ends
        assert s.fileno() == -1 and socket_from_fd(fd) is None
        # A socket of a closed stack: its pair goes with the stack.
        cfd = c.fileno()
        lfd = lsock.fileno()
        r.a.close()
        r.b.close()
        for x in (cfd, lfd):
            with pytest.raises(OSError):
                os.fstat(x)
        assert c.fileno() == -1 and socket_from_fd(cfd) is None


def test_no_descriptor_leak_over_1000_sockets() -> None:
    with rig("virtual") as r:
        gc.collect()
        before = open_fds()
        for i in range(1000):
            s = r.a.socket()
            assert s.fileno() >= 0
            if i % 2:
                s.close()
            else:
                del s  # collected unclosed: closed with a ResourceWarning
        gc.collect()
        assert open_fds() == before, "descriptors leaked"
        assert not r.a.sockets


@pytest.mark.filterwarnings("ignore::ResourceWarning")
def test_the_poller_keeps_nothing_alive_and_ends() -> None:
    r = PipeRig(seed=SEED, addresses=True, virtual=False)
    c, s, lsock = connected(r)
    s.fileno()
    assert _pump.pumps(), "no poller for a threadless world"
    for sock in (c, s, lsock):
        sock.close()
    end = time.monotonic() + WAIT
    while _pump.pumps() and time.monotonic() < end:
        time.sleep(0.01)
    assert not _pump.pumps(), "the poller outlived the last socket with a fileno"
    # A forgotten rig with a socket's fileno: everything is collected.
    r2 = PipeRig(seed=SEED, addresses=True, virtual=False)
    c2, s2, l2 = connected(r2)
    s2.fileno()
    ref = weakref.ref(r2.b)
    del c2, s2, l2, r2
    end = time.monotonic() + WAIT
    while (ref() is not None or _pump.pumps()) and time.monotonic() < end:
        gc.collect()
        time.sleep(0.01)
    assert ref() is None, "the poller kept a stack alive"
    assert not _pump.pumps()
    r.a.close()
    r.b.close()
    r.pipe.close()


def test_interpreter_exit_with_a_running_poller() -> None:
    code = (
        "import select\n"
        "from ustack.sim import PipeRig\n"
        "r = PipeRig(seed=1, addresses=True, virtual=False)\n"
        "l = r.b.create_server(('198.18.0.2', 80))\n"
        "c = r.a.socket(); c.connect(('198.18.0.2', 80)); s, _ = l.accept()\n"
        "c.send(b'x')\n"
        "print(bool(select.select([s], [], [], 5)[0]))\n"
    )
    res = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=60
    )
    assert res.returncode == 0 and res.stdout.strip() == "True", (res.returncode, res.stderr)


# --- the poller and other drivers --------------------------------------------------


def test_add_driver_keeps_the_poller_idle() -> None:
    with rig("real") as r:
        c, s, lsock = connected(r)
        fd = s.fileno()
        w = r.b.world
        w.add_driver()
        assert w.drivers == 1
        time.sleep(0.05)  # the poller ends the round of polls it is in
        try:
            c.setblocking(False)
            c.send(b"x")
            # Nobody runs the world: the data stay in the pipe.
            assert not wait_readable(fd, 0.3)
        finally:
            w.remove_driver()
        assert w.drivers == 0
        assert wait_readable(fd), "the poller did not resume after remove_driver"
        for sock in (c, s, lsock):
            sock.close()


def test_blocking_calls_still_work_beside_the_poller() -> None:
    """The poller steps aside for the program's own blocking calls (they run
    the world themselves), on the virtual clock: a Deadlock still comes."""
    with rig("virtual") as r:
        c, s, lsock = connected(r)
        s.fileno()
        for _ in range(50):
            c.sendall(b"ping")
            assert s.recv(4) == b"ping"
            s.sendall(b"pong")
            assert c.recv(4) == b"pong"
        with pytest.raises(ustack.Deadlock):
            s.recv(10)
        for sock in (c, s, lsock):
            sock.close()


def test_a_run_of_blocking_calls_keeps_the_fast_path_beside_the_poller() -> None:
    """While the program makes blocking calls back to back the poller stays
    aside (it runs the world only after _pump._QUIET_S without a ustack
    call), so those calls keep the C fast path instead of contending with
    it for the lock: almost every wait runs in C."""
    with rig("virtual") as r:
        c, s, lsock = connected(r)
        c.fileno()
        s.fileno()
        assert _pump.pumps()
        before = ustack.world.fast_waits()
        for _ in range(2000):
            c.send(b"x")
            assert s.recv(1) == b"x"
            s.send(b"y")
            assert c.recv(1) == b"y"
        # Each recv() waits in C; a few may meet the
        # poller at a quiet moment (a scheduling hiccup) and take the
        # Python loop.
        assert ustack.world.fast_waits() - before >= 3_800  # the 4,000 recv() waits
        for sock in (c, s, lsock):
            sock.close()


# --- select.poll, selectors, asyncio ----------------------------------------------


@pytest.mark.parametrize("kind", CLOCKS)
def test_select_poll_and_default_selector(kind: str) -> None:
    with rig(kind) as r:
        c, s, lsock = connected(r)
        s.setblocking(False)
        p = select.poll()
        p.register(s, select.POLLIN)
        assert p.poll(0) == []
        c.sendall(b"abc")
        assert p.poll(int(WAIT * 1000)) == [(s.fileno(), select.POLLIN)]
        assert s.recv(10) == b"abc"
        assert p.poll(0) == []
        with selectors.DefaultSelector() as sel:
            key = sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE, "data")
            assert key.fd == s.fileno()
            events = sel.select(0)
            assert [(k.fileobj, ev) for k, ev in events] == [(s, selectors.EVENT_WRITE)]
            sel.modify(s, selectors.EVENT_READ, "data")
            assert sel.select(0) == []
            c.sendall(b"def")
            events = sel.select(WAIT)
            assert [(k.fileobj, ev, k.data) for k, ev in events] == [
                (s, selectors.EVENT_READ, "data")
            ]
            assert s.recv(10) == b"def"
            sel.unregister(s)
        for sock in (c, s, lsock):
            sock.close()


async def _asyncio_sock_calls(r: PipeRig, port: int) -> bytes:
    loop = asyncio.get_running_loop()
    # (Any: typeshed wants a socket.socket; a ustack Socket is duck-typed as one.)
    lsock: Any = r.b.socket()
    lsock.bind((ADDR_B, port))
    lsock.listen()
    lsock.setblocking(False)
    c: Any = r.a.socket()
    c.setblocking(False)
    accepted = asyncio.ensure_future(loop.sock_accept(lsock))
    await asyncio.wait_for(loop.sock_connect(c, (ADDR_B, port)), WAIT)
    s, peer = await asyncio.wait_for(accepted, WAIT)
    assert peer[0] == ADDR_A
    s.setblocking(False)
    payload = bytes(range(256)) * 1024  # 256 KiB: more than a send buffer
    sender = asyncio.ensure_future(loop.sock_sendall(c, payload))
    got = bytearray()
    while len(got) < len(payload):
        part = await asyncio.wait_for(loop.sock_recv(s, 65536), WAIT)
        assert part
        got += part
    await asyncio.wait_for(sender, WAIT)
    for sock in (c, s, lsock):
        sock.close()
    return bytes(got) if got == payload else b"corrupt"


async def _asyncio_streams(r: PipeRig, port: int) -> bytes:
    lsock = r.b.create_server((ADDR_B, port))
    c = r.a.socket()
    c.connect((ADDR_B, port))
    s, _ = lsock.accept()
    reader, writer = await asyncio.open_connection(sock=c)
    sreader, swriter = await asyncio.open_connection(sock=s)
    writer.write(b"GET / HTTP/1.0\r\n\r\n")
    await writer.drain()
    # All of it: a close with unread bytes would reset the connection.
    request = await asyncio.wait_for(sreader.readuntil(b"\r\n\r\n"), WAIT)
    assert request == b"GET / HTTP/1.0\r\n\r\n"
    head = b"HTTP/1.0 200 OK\r\n\r\n"
    body = b"y" * 300_000

    async def serve() -> None:
        swriter.write(head + body)
        await swriter.drain()  # (more than both sockets' buffers: the client reads meanwhile)
        assert await sreader.read() == b""  # the client closes first
        swriter.close()
        await swriter.wait_closed()

    async def fetch() -> bytes:
        # The client closes first: on a virtual clock a program that waits
        # outside ustack calls lets time run (module ustack._pump), and the
        # server's orphaned FIN_WAIT_2 could expire, then answer the
        # client's window updates with RSTs while it still reads.
        data = await reader.readexactly(len(head) + len(body))
        writer.close()
        await writer.wait_closed()
        return data

    data, _ = await asyncio.wait_for(asyncio.gather(fetch(), serve()), WAIT)
    lsock.close()
    return data


@pytest.mark.parametrize("kind", CLOCKS)
def test_stdlib_asyncio_sock_calls(kind: str) -> None:
    with rig(kind) as r:
        loop = asyncio.new_event_loop()
        try:
            got = loop.run_until_complete(_asyncio_sock_calls(r, 7100))
        finally:
            loop.close()
        assert got == bytes(range(256)) * 1024, f"seed {SEED}: bytes not intact"


@pytest.mark.parametrize("kind", CLOCKS)
def test_stdlib_asyncio_streams(kind: str) -> None:
    with rig(kind) as r:
        loop = asyncio.new_event_loop()
        try:
            data = loop.run_until_complete(_asyncio_streams(r, 7200))
        finally:
            loop.close()
        assert data == b"HTTP/1.0 200 OK\r\n\r\n" + b"y" * 300_000, f"seed {SEED}"


# --- threaded stacks ------------------------------------------------------------------


def test_threaded_group_sockets() -> None:
    """Sockets of a StackGroup with threads: the stacks' own threads update
    the fileno (no poller), from C under the stack lock."""
    pipe = ustack.Pipe(seed=SEED, lanes=1, notify=True)
    ga = ustack.StackGroup(1, seed=SEED)
    gb = ustack.StackGroup(1, seed=SEED + 1000)
    try:
        ga.attach("pa0", pipe.lanes_of("a"), address=f"{ADDR_A}/24")
        gb.attach("pb0", pipe.lanes_of("b"), address=f"{ADDR_B}/24")
        ga.start()
        gb.start()
        a, b = ga.stacks[0], gb.stacks[0]
        pumps = len(_pump.pumps())
        lsock = b.create_server((ADDR_B, 7300))
        lsock.setblocking(False)
        assert ready(lsock) == (False, False)
        c = a.socket()
        c.settimeout(WAIT)
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # no Nagle wait per message
        c.connect((ADDR_B, 7300))
        assert wait_readable(lsock)
        s, _ = lsock.accept()
        s.setblocking(False)
        # (<=: a poller of an earlier test's world may end meanwhile)
        assert len(_pump.pumps()) <= pumps, "a threaded stack needs no poller"
        assert ready(s) == (False, True)
        for i in range(100):
            c.sendall(b"%04d" % i)
            assert wait_readable(s), f"message {i} never made the fileno readable"
            got = b""
            while len(got) < 4:
                got += s.recv(4 - len(got))
            assert got == b"%04d" % i
            assert ready(s)[0] is False or s.recv(1) == b"", "readable with nothing to read"
        fd = s.fileno()
        assert socket_from_fd(fd) is s
        s.close()
        with pytest.raises(OSError):
            os.fstat(fd)
        c.close()
        lsock.close()
    finally:
        ga.close()
        gb.close()
        pipe.close()


def test_threads_select_while_another_thread_sends() -> None:
    """A thread waits in select on the real clock while another thread
    sends on the peer: the poller runs the world between the sends."""
    with rig("real") as r:
        c, s, lsock = connected(r)
        s.setblocking(False)
        got = bytearray()
        errors: list[BaseException] = []

        def reader() -> None:
            try:
                while len(got) < 4000:
                    if not wait_readable(s):
                        raise AssertionError("select timed out")
                    with contextlib.suppress(BlockingIOError):
                        got.extend(s.recv(65536))
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        t = threading.Thread(target=reader, daemon=True)
        t.start()
        for i in range(1000):
            c.sendall(b"%04d" % (i % 10000))
            if i % 100 == 0:
                time.sleep(0.001)
        t.join(WAIT * 3)
        assert not t.is_alive() and not errors, errors
        assert bytes(got) == b"".join(b"%04d" % i for i in range(1000))
        for sock in (c, s, lsock):
            sock.close()


def test_a_callback_error_in_the_pollers_poll_reaches_the_program() -> None:
    with rig("real") as r:
        c, s, lsock = connected(r)
        calls: list[int] = []

        def upcall(sock: Socket, ev: int) -> None:
            calls.append(ev)
            if len(calls) == 1:
                raise ValueError("from the upcall")

        s.set_upcall(upcall)
        s.fileno()
        c.sendall(b"x")
        assert wait_readable(s)  # the poller polled
        # (The fileno is set before the chained Python upcall runs, and the
        # poller hands the exception back after its poll: give it a moment.)
        with pytest.raises(ValueError, match="from the upcall"):
            for _ in range(200):
                r.run(r.a.now + 5_000_000)  # the program's next poll raises it
        assert calls
        for sock in (c, s, lsock):
            sock.close()


def test_blocking_calls_keep_the_fileno_exact() -> None:
    """A blocking recv that drains the buffer (and a send) leave the fileno
    exact however the wait ran (the Python loop or a C fast path): the
    drain makes no upcall, so the call itself must bring the fileno up to
    date.  The poller is kept out (add_driver) so that this thread is the
    world's only user."""
    with rig("virtual") as r:
        c, s, lsock = connected(r)
        fd = s.fileno()
        world = r.b.world
        world.add_driver()
        time.sleep(0.05)  # the poller leaves the world
        try:
            for i in range(20):
                msg = b"%04d" % i
                c.sendall(msg)
                assert s.recv(4) == msg  # blocks: the data arrive during the wait
                assert ready(fd) == expected(events(s)) == (False, True), f"message {i}"
                s.sendall(msg)
                assert c.recv(4) == msg
                assert ready(fd) == expected(events(s)), f"message {i}"
        finally:
            world.remove_driver()
        for sock in (c, s, lsock):
            sock.close()
