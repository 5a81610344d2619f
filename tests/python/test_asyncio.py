"""ustack.asyncio and ustack.selectors: asyncio streams on ustack sockets, in
virtual and real time, and one selector over sockets of several worlds and
host files."""

from __future__ import annotations

import asyncio
import errno
import os
import random
import selectors
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import ustack
import ustack.asyncio as uasyncio
from ustack.selectors import UstackSelector
from ustack.sim import ADDR6_B, ADDR_A, ADDR_B, PipeRig
from ustack.sockets import TCPS_TIME_WAIT, socket_from_fd

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "python" / "asyncio_http.py"


def _rig(seed: int = 1, loss: float = 0.0, delay_ns: int = 1_000_000) -> PipeRig:
    faults = ustack.Faults(loss=loss, delay_ns=delay_ns)
    print(f"seed={seed} loss={loss} delay_ns={delay_ns}")
    return PipeRig(seed=seed, a_to_b=faults, b_to_a=faults, addresses=True)


def _vclock(rig: PipeRig) -> ustack.VirtualClock:
    assert rig.clock is not None
    return rig.clock


@pytest.fixture
def rig() -> Iterator[PipeRig]:
    r = _rig()
    yield r
    r.close()


async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Echo until EOF, then close."""
    while data := await reader.read(65536):
        writer.write(data)
        await writer.drain()
    writer.close()
    await writer.wait_closed()


async def _roundtrip(
    stack: ustack.Stack, payload: bytes, port: int = 7, host: str = ADDR_B
) -> tuple[bytes, asyncio.StreamWriter]:
    reader, writer = await uasyncio.open_connection(host, port, stack=stack)
    writer.write(payload)
    await writer.drain()
    writer.write_eof()
    back = await reader.read()  # to EOF
    return back, writer


# --- streams ------------------------------------------------------------------


@pytest.mark.parametrize("seed", [3, 11])
def test_streams_roundtrip_intact_under_loss(seed: int) -> None:
    rig = _rig(seed=seed, loss=0.03, delay_ns=5_000_000)
    payload = random.Random(seed).randbytes(300_000)

    async def main() -> bytes:
        server = await uasyncio.start_server(_echo, ADDR_B, 7, stack=rig.b)
        async with server:
            back, writer = await _roundtrip(rig.a, payload)
            writer.close()
            await writer.wait_closed()
            return back

    wall = time.perf_counter()
    back = uasyncio.run(main(), clock=rig.clock)
    wall = time.perf_counter() - wall
    lost = rig.pipe.stats("a_to_b")["lost"] + rig.pipe.stats("b_to_a")["lost"]
    rexmit = sum(st.netstat("tcp")["tcp"]["tcps_sndrexmitpack"] for st in rig.stacks)
    print(f"lost={lost} rexmit={rexmit} virtual={_vclock(rig).now / 1e9:.3f}s wall={wall:.3f}s")
    assert back == payload
    assert lost > 0 and rexmit > 0  # the loss was real, and TCP repaired it
    rig.close()


def test_streams_standard_objects_and_extra_info(rig: PipeRig) -> None:
    conns: list[ustack.Socket] = []

    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conns.append(writer.get_extra_info("socket")._sock)  # asyncio's TransportSocket
        await _echo(reader, writer)

    async def main() -> None:
        server = await uasyncio.start_server(echo, ADDR_B, 8080, stack=rig.b)
        async with server:
            reader, writer = await uasyncio.open_connection(ADDR_B, 8080, stack=rig.a)
            assert type(reader) is asyncio.StreamReader
            assert type(writer) is asyncio.StreamWriter
            assert writer.get_extra_info("peername") == (ADDR_B, 8080)
            assert writer.get_extra_info("sockname")[0] == ADDR_A
            sock = writer.get_extra_info("socket")
            assert sock.fileno() >= 0 and socket_from_fd(sock.fileno()) is not None
            # TCP_NODELAY, as asyncio's own streams; the server's inherited it.
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
            writer.write(b"line one\nline two\n")
            assert await reader.readline() == b"line one\n"
            assert conns[0].getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
            assert await reader.readexactly(9) == b"line two\n"
            writer.close()
            await writer.wait_closed()
            assert [s.getsockname() for s in server.sockets] == [(ADDR_B, 8080)]
            assert server.is_serving()
            assert isinstance(server.get_loop(), uasyncio.EventLoop)

    uasyncio.run(main(), clock=rig.clock)


@pytest.mark.skipif(not ustack.UST_HAS_INET6, reason="library built without UST_INET6")
def test_streams_over_ipv6() -> None:
    rig = PipeRig(seed=6, addresses=True, addresses6=True)

    async def main() -> tuple[bytes, tuple[object, ...]]:
        server = await uasyncio.start_server(_echo, ADDR6_B, 7, stack=rig.b)
        async with server:
            assert server.sockets[0].family == socket.AF_INET6
            back, writer = await _roundtrip(rig.a, b"over ipv6", host=ADDR6_B)
            peer = writer.get_extra_info("peername")
            writer.close()
            await writer.wait_closed()
            return back, peer

    back, peer = uasyncio.run(main(), clock=rig.clock)
    assert back == b"over ipv6"
    assert peer[:2] == (ADDR6_B, 7)
    rig.close()


def test_connect_refused(rig: PipeRig) -> None:
    async def main() -> None:
        with pytest.raises(ConnectionRefusedError):
            await uasyncio.open_connection(ADDR_B, 9, stack=rig.a)

    uasyncio.run(main(), clock=rig.clock)


def test_many_concurrent_clients() -> None:
    rig = _rig(seed=5, loss=0.01, delay_ns=2_000_000)
    n = 40

    async def client(i: int) -> bytes:
        payload = bytes([i]) * (1000 + 97 * i)
        back, writer = await _roundtrip(rig.a, payload)
        writer.close()
        await writer.wait_closed()
        return back

    async def main() -> list[bytes]:
        server = await uasyncio.start_server(_echo, ADDR_B, 7, stack=rig.b, backlog=n)
        async with server:
            return await asyncio.gather(*(client(i) for i in range(n)))

    results = uasyncio.run(main(), clock=rig.clock)
    assert results == [bytes([i]) * (1000 + 97 * i) for i in range(n)]
    rig.close()


# --- virtual time --------------------------------------------------------------


def test_wait_for_times_out_in_virtual_time(rig: PipeRig) -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # never answers; waits for EOF

    async def main() -> tuple[float, float]:
        loop = asyncio.get_running_loop()
        server = await uasyncio.start_server(silent, ADDR_B, 7, stack=rig.b)
        async with server:
            reader, writer = await uasyncio.open_connection(ADDR_B, 7, stack=rig.a)
            t0 = loop.time()
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(reader.read(1), 30.0)
            waited = loop.time() - t0
            t0 = loop.time()
            await asyncio.sleep(0.25)
            slept = loop.time() - t0
            writer.close()
            await writer.wait_closed()
            return waited, slept

    wall = time.perf_counter()
    waited, slept = uasyncio.run(main(), clock=rig.clock)
    wall = time.perf_counter() - wall
    assert 30.0 <= waited < 30.01
    assert 0.25 <= slept < 0.251
    assert wall < 5.0  # virtual: 30 s of waiting cost no wall time to speak of


def test_loop_time_is_the_virtual_clock(rig: PipeRig) -> None:
    loop = uasyncio.new_event_loop(rig.clock)
    try:
        assert loop.clock is rig.clock
        _vclock(rig).advance(1_500_000_000)
        assert loop.time() == _vclock(rig).now / 1e9
        assert loop.run_until_complete(asyncio.sleep(2.0, result="ok")) == "ok"
        assert _vclock(rig).now >= 3_500_000_000
    finally:
        loop.close()


@pytest.mark.parametrize("serving", [True, False], ids=["serving", "no-socket-left"])
def test_time_wait_sleep_costs_no_wall_time(rig: PipeRig, serving: bool) -> None:
    """With ``serving`` False the loop has no ustack socket left when it
    sleeps: it still runs the stacks of its clock, so TIME_WAIT ends on time."""

    async def sleep_through() -> tuple[list[int], list[int]]:
        await asyncio.sleep(1.0)
        before = [c.state for c in rig.a.tcp_connections() if c.remote[1] == 7]
        await asyncio.sleep(120.0)  # 2 MSL and then some
        after = [c.state for c in rig.a.tcp_connections() if c.remote[1] == 7]
        return before, after

    async def main() -> tuple[list[int], list[int]]:
        server = await uasyncio.start_server(_echo, ADDR_B, 7, stack=rig.b)
        async with server:
            back, writer = await _roundtrip(rig.a, b"bye")
            assert back == b"bye"
            writer.close()  # the client sent the first FIN: it ends in TIME_WAIT
            await writer.wait_closed()
            if serving:
                return await sleep_through()
        return await sleep_through()

    wall = time.perf_counter()
    before, after = uasyncio.run(main(), clock=rig.clock)
    wall = time.perf_counter() - wall
    assert before == [TCPS_TIME_WAIT]
    assert after == []
    assert _vclock(rig).now >= 121_000_000_000
    assert wall < 1.0, f"120 s of TIME_WAIT took {wall:.3f} s of wall time"


def test_server_close_and_wait_closed(rig: PipeRig) -> None:
    async def main() -> None:
        server = await uasyncio.start_server(_echo, ADDR_B, 7, stack=rig.b)
        back, writer = await _roundtrip(rig.a, b"x")
        assert back == b"x"
        writer.close()
        await writer.wait_closed()
        listener = server.sockets[0]
        server.close()
        await server.wait_closed()
        assert not server.is_serving()
        assert listener.fileno() == -1  # the ustack socket was closed
        assert not [c for c in rig.b.tcp_connections() if c.state == ustack.TCPS_LISTEN]
        with pytest.raises(ConnectionRefusedError):
            await uasyncio.open_connection(ADDR_B, 7, stack=rig.a)

    uasyncio.run(main(), clock=rig.clock)


def test_serve_forever_cancelled(rig: PipeRig) -> None:
    async def main() -> bytes:
        server = await uasyncio.start_server(_echo, ADDR_B, 7, stack=rig.b, start_serving=False)
        task = asyncio.create_task(server.serve_forever())
        back, writer = await _roundtrip(rig.a, b"forever")
        writer.close()
        await writer.wait_closed()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert not server.is_serving()
        return back

    assert uasyncio.run(main(), clock=rig.clock) == b"forever"


def test_deadlock_on_a_read_nothing_can_end(rig: PipeRig) -> None:
    async def mute(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.Event().wait()  # holds the connection open, never writes

    async def main() -> None:
        server = await uasyncio.start_server(mute, ADDR_B, 7, stack=rig.b)
        async with server:
            reader, _ = await uasyncio.open_connection(ADDR_B, 7, stack=rig.a)
            await reader.read(1)  # an idle connection: only keepalive timers repeat

    wall = time.perf_counter()
    with pytest.raises(ustack.Deadlock, match=r"select\(\)"):
        uasyncio.run(main(), clock=rig.clock)
    assert time.perf_counter() - wall < 10.0


def test_deadlock_on_accept_without_clients(rig: PipeRig) -> None:
    async def main() -> None:
        server = await uasyncio.start_server(_echo, ADDR_B, 7, stack=rig.b)
        await server.serve_forever()

    with pytest.raises(ustack.Deadlock, match="nothing is pending"):
        uasyncio.run(main(), clock=rig.clock)


def test_executor_job_is_not_a_deadlock(rig: PipeRig) -> None:
    async def main() -> str:
        loop = asyncio.get_running_loop()

        def job() -> str:
            time.sleep(0.05)
            return "done"

        return await loop.run_in_executor(None, job)

    assert uasyncio.run(main(), clock=rig.clock) == "done"


# --- real time -----------------------------------------------------------------


def test_real_clock_roundtrip() -> None:
    rig = PipeRig(seed=2, virtual=False, addresses=True)
    payload = random.Random(2).randbytes(100_000)

    async def main() -> tuple[bytes, float]:
        loop = asyncio.get_running_loop()
        server = await uasyncio.start_server(_echo, ADDR_B, 7, stack=rig.b)
        async with server:
            back, writer = await _roundtrip(rig.a, payload)
            writer.close()
            await writer.wait_closed()
            t0 = loop.time()
            await asyncio.sleep(0.05)
            return back, loop.time() - t0

    wall = time.perf_counter()
    back, slept = uasyncio.run(main())
    wall = time.perf_counter() - wall
    assert back == payload
    assert 0.05 <= slept < 1.0
    assert wall >= 0.05  # real time: the sleep took real time
    rig.close()


def test_stdlib_loop_on_the_real_clock() -> None:
    """open_connection/start_server on asyncio's own loop: ustack's background
    poller (ustack._pump) runs the stacks and their filenos wake the loop."""
    rig = PipeRig(seed=4, virtual=False, addresses=True)
    payload = random.Random(4).randbytes(50_000)

    async def main() -> tuple[bytes, str]:
        server = await uasyncio.start_server(_echo, ADDR_B, 7, stack=rig.b)
        async with server:
            back, writer = await _roundtrip(rig.a, payload)
            writer.close()
            await writer.wait_closed()
        return back, type(asyncio.get_running_loop()).__name__

    back, loop_name = asyncio.run(asyncio.wait_for(main(), 30.0))
    assert back == payload
    assert loop_name != "EventLoop"  # really the stdlib's
    rig.close()


# --- the selector ----------------------------------------------------------------


def test_selector_mixes_ustack_sockets_and_host_socketpair(rig: PipeRig) -> None:
    server = rig.b.socket(ustack.AF_INET, ustack.SOCK_DGRAM)
    server.bind(("", 5000))
    client = rig.a.socket(ustack.AF_INET, ustack.SOCK_DGRAM)
    client.setblocking(False)
    h1, h2 = socket.socketpair()
    with UstackSelector() as sel:
        k_srv = sel.register(server, selectors.EVENT_READ, data="srv")
        k_cli = sel.register(client.fileno(), selectors.EVENT_WRITE, data="cli")  # by fileno
        k_host = sel.register(h1, selectors.EVENT_READ, data="host")
        assert k_srv.fd == server.fileno() and k_cli.fd == client.fileno()
        assert sel.get_key(client.fileno()) is k_cli and sel.get_key(h1) is k_host
        assert len(sel.get_map()) == 3
        # An unconnected UDP socket is writable; nothing is readable yet.
        assert [(k.data, m) for k, m in sel.select(0)] == [("cli", selectors.EVENT_WRITE)]
        sel.unregister(client.fileno())
        assert sel.select(0) == []
        h2.send(b"host")
        assert [(k.data, m) for k, m in sel.select(1.0)] == [("host", selectors.EVENT_READ)]
        assert h1.recv(10) == b"host"
        client.sendto(b"ustack", (ADDR_B, 5000))
        t0 = _vclock(rig).now
        got = sel.select(1.0)  # runs the world: delay 1 ms each way, plus ARP
        assert [(k.data, m) for k, m in got] == [("srv", selectors.EVENT_READ)]
        assert _vclock(rig).now - t0 < 1_000_000_000
        assert server.recvfrom(100) == (b"ustack", (ADDR_A, client.getsockname()[1]))
        # A timeout on the virtual clock: time jumps to it, never past.
        t0 = _vclock(rig).now
        assert sel.select(2.5) == []
        assert _vclock(rig).now - t0 == 2_500_000_000
        # A registered host file may still wake a wait: no Deadlock.
        h2.send(b"again")
        assert [k.data for k, _ in sel.select(None)] == ["host"]
    h1.close()
    h2.close()
    for s in (server, client):
        s.close()


def test_selector_sockets_of_two_worlds() -> None:
    r1, r2 = _rig(seed=1), _rig(seed=2)
    assert r1.a.world is not r2.a.world and r1.clock is not r2.clock
    socks = []
    with UstackSelector(clock=r1.clock) as sel:
        for i, r in enumerate((r1, r2)):
            srv = r.b.socket(ustack.AF_INET, ustack.SOCK_DGRAM)
            srv.bind(("", 6000))
            cli = r.a.socket(ustack.AF_INET, ustack.SOCK_DGRAM)
            cli.setblocking(False)
            sel.register(srv, selectors.EVENT_READ, data=i)
            socks += [srv, cli]
        assert sel.select(0) == []
        socks[1].sendto(b"one", (ADDR_B, 6000))
        socks[3].sendto(b"two", (ADDR_B, 6000))
        ready: set[int] = set()
        for _ in range(10):
            ready |= {k.data for k, _ in sel.select(1.0)}
            if ready == {0, 1}:
                break
        assert ready == {0, 1}
        assert socks[0].recv(10) == b"one" and socks[2].recv(10) == b"two"
        # Nothing left anywhere: a wait without limit can never end.
        with pytest.raises(ustack.Deadlock):
            sel.select(None)
    with UstackSelector() as sel:  # no clock given: the sockets' two clocks
        sel.register(socks[0], selectors.EVENT_READ)
        sel.register(socks[2], selectors.EVENT_READ)
        with pytest.raises(ustack.Deadlock, match="nothing is pending"):
            sel.select(None)
    for s in socks:
        s.close()
    r1.close()
    r2.close()


def test_selector_calls_add_driver_per_world(rig: PipeRig, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    world = rig.a.world
    monkeypatch.setattr(type(world), "add_driver", lambda self: calls.append("add"))
    monkeypatch.setattr(type(world), "remove_driver", lambda self: calls.append("remove"))
    s1 = rig.a.socket(ustack.AF_INET, ustack.SOCK_DGRAM)
    s2 = rig.b.socket(ustack.AF_INET, ustack.SOCK_DGRAM)
    sel = UstackSelector()
    sel.register(s1, selectors.EVENT_READ)
    sel.register(s2, selectors.EVENT_READ)  # same world: counted once
    assert calls == ["add"]
    sel.unregister(s1)
    assert calls == ["add"]
    sel.unregister(s2)
    assert calls == ["add", "remove"]
    sel.register(s1, selectors.EVENT_READ)
    sel.close()
    assert calls == ["add", "remove", "add", "remove"]
    s1.close()
    s2.close()


def test_selector_forgets_sockets_closed_behind_its_back(rig: PipeRig) -> None:
    s = rig.a.socket(ustack.AF_INET, ustack.SOCK_DGRAM)
    sel = UstackSelector(rig.a)
    sel.register(s, selectors.EVENT_WRITE)
    s.close()
    assert sel.select(0) == []
    assert len(sel.get_map()) == 0
    sel.close()


def test_example_runs() -> None:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT / "python_bindings"), env.get("PYTHONPATH", "")]
    ).rstrip(os.pathsep)
    help_out = subprocess.run(
        [sys.executable, str(EXAMPLE), "--help"], capture_output=True, text=True, env=env
    )
    assert help_out.returncode == 0
    for opt in ("--loss", "--delay", "--seed", "--requests", "--size"):
        assert opt in help_out.stdout
    args = ["--loss", "0.03", "--delay", "10ms", "--seed", "4", "--requests", "6"]
    run = subprocess.run(
        [sys.executable, str(EXAMPLE), *args, "--size", "20000"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    print(run.stdout, run.stderr)
    assert run.returncode == 0
    assert "6/6 responses intact, 120000 body bytes" in run.stdout


def test_selector_reports_errors_as_readable_and_writable(rig: PipeRig) -> None:
    """EPOLL's rule: a refused connect (EV_ERR) is both readable and writable."""
    s = rig.a.socket(ustack.AF_INET, ustack.SOCK_STREAM)
    s.setblocking(False)
    with pytest.raises(BlockingIOError):
        s.connect((ADDR_B, 9))
    with UstackSelector(rig.a) as sel:
        sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE)
        (key, mask), *rest = sel.select(5.0)
        assert not rest and key.fileobj is s
        assert mask == selectors.EVENT_READ | selectors.EVENT_WRITE
        assert s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == errno.ECONNREFUSED
        sel.modify(s, selectors.EVENT_WRITE)
        assert [m for _, m in sel.select(0)] == [selectors.EVENT_WRITE]
    s.close()


def test_real_clock_selector_sleeps_instead_of_spinning() -> None:
    rig = PipeRig(seed=3, virtual=False, addresses=True)
    s = rig.b.socket(ustack.AF_INET, ustack.SOCK_DGRAM)
    s.bind(("", 5000))
    with UstackSelector() as sel:
        sel.register(s, selectors.EVENT_READ)
        polls = rig.b.stats["polls"]
        t0 = time.monotonic()
        assert sel.select(0.2) == []
        took = time.monotonic() - t0
        polls = rig.b.stats["polls"] - polls
        print(f"select(0.2) took {took:.3f} s with {polls} polls")
        assert 0.2 <= took < 1.0
        # It sleeps to the stack's next deadline (none here but ARP/IP timers),
        # not 1 ms at a time: far fewer polls than 200.
        assert polls < 50
    s.close()
    rig.close()


def test_threaded_group_stack_with_a_lone_stack() -> None:
    """A StackGroup's threaded stack (watched through its fileno) talking to a
    lone real-clock stack (polled by the selector) over a pipe: the pipe's
    frames come from the group's thread, so the selector must not sleep
    through them."""
    from ustack.group import StackGroup

    pipe = ustack.Pipe(clock=None, seed=1)
    group = StackGroup(1, seed=5)
    group.attach("pa0", [pipe.a], address=f"{ADDR_A}/24")
    group.start()
    lone = ustack.Stack(seed=2)
    lone.add_interface(pipe.b, "pb0", f"{ADDR_B}/24")
    threaded = group.stacks[0]
    payload = random.Random(9).randbytes(200_000)

    async def exchange(server_stack: ustack.Stack, addr: str, client_stack: ustack.Stack) -> bytes:
        server = await uasyncio.start_server(_echo, addr, 7, stack=server_stack)
        async with server:
            reader, writer = await uasyncio.open_connection(addr, 7, stack=client_stack)
            writer.write(payload)
            await writer.drain()
            writer.write_eof()
            back = await asyncio.wait_for(reader.read(), 20.0)
            writer.close()
            await writer.wait_closed()
            return back

    async def main() -> tuple[bytes, bytes]:
        one = await exchange(lone, ADDR_B, threaded)
        two = await exchange(threaded, ADDR_A, lone)
        return one, two

    try:
        one, two = uasyncio.run(main())
        assert one == payload and two == payload
    finally:
        group.close()
        lone.close()
        pipe.close()
