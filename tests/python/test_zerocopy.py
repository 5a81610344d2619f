"""Zero-copy sockets from Python (docs/zerocopy.md): send_zc pins the buffer
until the stack lets go (completions reaped from the C ring, never run
under the stack's lock), recv_mbuf hands out the stack's buffers as
memoryviews, sendmsg gathers, recv/recv_into copy once."""

from __future__ import annotations

import errno
import os
import threading
import time

import pytest

import ustack
from ustack import Socket, StackGroup
from ustack import sockets as sockmod
from ustack.sim import ADDR_A, ADDR_B, PipeRig

PORT = 7100
SEED = int(os.environ.get("USTACK_TEST_SEED", "19"))


def _pattern(n: int, off: int = 0) -> bytes:
    return bytes((i * 2654435761 >> 24) & 0xFF for i in range(off, off + n))


def _connected(net: PipeRig) -> tuple[Socket, Socket, Socket]:
    srv = net.b.socket(ustack.AF_INET, ustack.SOCK_STREAM)
    srv.bind(("", PORT))
    srv.listen(8)
    cli = net.a.socket(ustack.AF_INET, ustack.SOCK_STREAM)
    cli.settimeout(10.0)
    srv.settimeout(10.0)
    cli.connect((ADDR_B, PORT))
    conn, _ = srv.accept()
    conn.settimeout(10.0)
    return cli, conn, srv


def _run_for(net: PipeRig, ns: int) -> None:
    net.run(net.a.now + ns)


def _zone(stack: ustack.Stack, name: str) -> int:
    return next(int(z["in_use"]) for z in stack.zone_stats() if z["name"] == name)


def test_send_zc_pins_until_acknowledged_and_bytes_arrive(net: PipeRig) -> None:
    cli, conn, srv = _connected(net)
    data = bytearray(_pattern(300_000))
    statuses: list[int] = []
    sent = cli.send_zc(data, callback=statuses.append)  # a send buffer's worth
    assert 0 < sent < len(data)
    assert cli.zc_pending == 1 and statuses == [] and _zone(net.a, "zc") == 1
    with pytest.raises(BufferError):
        data.append(0)  # pinned: the stack reads it in place
    view = memoryview(data)
    cli.setblocking(False)
    out = bytearray()
    while len(out) < len(data):
        while sent < len(data):
            try:
                sent += cli.send_zc(view[sent:], callback=statuses.append)
            except BlockingIOError:
                break
        out += conn.recv(65536)
    assert bytes(out) == bytes(data)
    _run_for(net, 500_000_000)  # the last ACKs
    assert cli.zc_pending == 0
    assert len(statuses) >= 2 and all(s in (0, sockmod.ZC_COPIED) for s in statuses)
    assert _zone(net.a, "zc") == 0
    view.release()
    data.append(0)  # unpinned: resizable again
    cli.close()
    conn.close()
    srv.close()


def test_send_zc_small_is_copied_and_completes_at_once(net: PipeRig) -> None:
    cli, conn, srv = _connected(net)
    seen: list[int] = []
    assert net.a.sysctl("kern.ipc.zc_min") == 1024
    assert cli.send_zc(b"hello", callback=seen.append) == 5
    assert seen == [sockmod.ZC_COPIED]  # reaped by the call itself
    assert cli.zc_pending == 0
    assert conn.recv(100) == b"hello"
    cli.close()
    conn.close()
    srv.close()


def test_send_zc_reset_completes_with_an_error(net: PipeRig) -> None:
    cli, conn, srv = _connected(net)
    conn.setsockopt(ustack.SOL_SOCKET, ustack.SO_RCVBUF, 16384)
    seen: list[int] = []
    data = _pattern(200_000)
    cli.setblocking(False)
    sent = 0
    for _ in range(20):
        try:
            sent += cli.send_zc(memoryview(data)[sent:], callback=seen.append)
        except BlockingIOError:
            _run_for(net, 5_000_000)
    assert 0 < sent < len(data)
    assert cli.zc_pending > 0  # conn does not read: unacknowledged
    conn.setsockopt(ustack.SOL_SOCKET, ustack.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
    conn.close()  # RST
    _run_for(net, 10_000_000)
    assert cli.zc_pending == 0
    assert -int(ustack.lib.UST_ECONNRESET) in seen
    cli.close()
    srv.close()


def test_send_zc_bounded_pins_would_block(net: PipeRig, monkeypatch: pytest.MonkeyPatch) -> None:
    cli, conn, srv = _connected(net)
    monkeypatch.setattr(sockmod, "ZC_MAX_PINNED", 4096)
    cli.setblocking(False)
    assert cli.send_zc(_pattern(5000)) == 5000
    with pytest.raises(BlockingIOError):
        cli.send_zc(_pattern(5000))  # 5000 pinned >= 4096: wait for completions
    _run_for(net, 500_000_000)
    assert cli.send_zc(_pattern(5000)) == 5000  # reaped: room again
    cli.close()
    conn.close()
    srv.close()


def test_recv_mbuf_views_and_release(net: PipeRig) -> None:
    cli, conn, srv = _connected(net)
    data = _pattern(60_000)  # within the receive buffer: sendall returns
    cli.sendall(data)
    out = bytearray()
    held = []
    while len(out) < len(data):
        chain = conn.recv_mbuf(7_000)
        assert chain and len(chain) == chain.nbytes == sum(len(v) for v in chain.views)
        assert all(v.readonly for v in chain.views)
        for v in chain.views:
            out += v
        held.append(chain)
    assert bytes(out) == data
    views = held[0].views
    for chain in held:
        chain.release()
    with pytest.raises(ValueError):
        bytes(views[0])  # released with the chain
    assert held[0].released
    cli.close()
    with conn.recv_mbuf(100) as eof:
        assert not eof and eof.nbytes == 0
    with pytest.raises(OSError) as e:
        conn.recv_mbuf(100, ustack.MSG_PEEK)
    assert e.value.errno == errno.EINVAL
    conn.close()
    srv.close()


def test_recv_mbuf_held_bytes_are_bounded(net: PipeRig) -> None:
    cli, conn, srv = _connected(net)
    conn.setsockopt(ustack.SOL_SOCKET, ustack.SO_RCVBUF, 32768)
    cli.setblocking(False)
    conn.setblocking(False)
    data = _pattern(150_000)
    sent, held, got = 0, [], 0
    for _ in range(100):
        try:
            sent += cli.send(memoryview(data)[sent:])
        except BlockingIOError:
            pass
        _run_for(net, 2_000_000)
        try:
            while True:
                chain = conn.recv_mbuf(4000)
                got += chain.nbytes
                held.append(chain)
        except BlockingIOError:
            pass
    assert got == 32768  # a buffer's worth held, no more
    # recv (copying) still reads what is queued.
    assert len(conn.recv(1000)) == 1000
    assert b"".join(c.tobytes() for c in held) == data[:32768]
    for chain in held:
        chain.release()
    assert conn.recv_mbuf(4000).nbytes > 0
    cli.close()
    conn.close()
    srv.close()


def test_recv_mbuf_survives_socket_close_released_by_stack_close() -> None:
    with PipeRig(seed=SEED, addresses=True) as net:
        cli, conn, srv = _connected(net)
        cli.sendall(b"x" * 5000)
        chain = conn.recv_mbuf(5000)
        conn.close()
        assert chain.tobytes()[:10] == b"x" * 10  # still the application's
        cli.close()
        srv.close()
    # The stack went: its buffers with it; the chain was released first.
    assert chain.released


def test_sendmsg_gathers(net: PipeRig) -> None:
    cli, conn, srv = _connected(net)
    body = _pattern(3000)
    assert cli.sendmsg([b"HTTP/1.1 200 OK\r\n\r\n", memoryview(body), bytearray(b"!")]) == 3020
    got = b""
    while len(got) < 3020:
        got += conn.recv(65536)
    assert got == b"HTTP/1.1 200 OK\r\n\r\n" + body + b"!"
    assert cli.sendmsg([]) == 0
    with pytest.raises(OSError):
        cli.sendmsg([b"x"], [(0, 0, b"")])
    cli.close()
    conn.close()
    srv.close()


def test_udp_sendmsg_send_zc_recvfrom_mbuf(net: PipeRig) -> None:
    a = net.a.socket(ustack.AF_INET, ustack.SOCK_DGRAM)
    b = net.b.socket(ustack.AF_INET, ustack.SOCK_DGRAM)
    b.bind((ADDR_B, 9000))
    a.bind((ADDR_A, 9001))
    assert a.sendmsg([b"ab", b"cd"], (), 0, (ADDR_B, 9000)) == 4
    a.connect((ADDR_B, 9000))
    seen: list[int] = []
    dg = _pattern(3000)
    assert a.send_zc(dg, callback=seen.append) == 3000
    b.settimeout(5.0)
    chain, peer = b.recvfrom_mbuf(10000)
    with chain:
        assert chain.tobytes() == b"abcd" and peer == (ADDR_A, 9001)
    chain, peer = b.recvfrom_mbuf(10000)
    with chain:
        assert chain.tobytes() == dg and chain.address == (ADDR_A, 9001)
    _run_for(net, 10_000_000)
    assert a.zc_pending == 0 and seen == [0]
    a.close()
    b.close()


def test_recv_and_recv_into_copy_once(net: PipeRig) -> None:
    cli, conn, srv = _connected(net)
    # Less than the initial send buffer plus receive window (32 + 64 KB):
    # sendall must finish before anyone reads.  (Buffer auto-sizing grows
    # the send buffer only as cwnd grows, and with one ACK per burst from
    # the receiver slow start is slower: docs/fastpath.md.)
    data = _pattern(90_000)
    cli.sendall(data)
    first = conn.recv(4096)  # through ust_recv_mbuf: one copy
    buf = bytearray(len(data))
    view = memoryview(buf)
    n = len(first)
    view[:n] = first
    while n < len(data):
        n += conn.recv_into(view[n:])
    assert bytes(buf) == data
    cli.close()
    assert conn.recv(4096) == b""
    conn.close()
    srv.close()


def test_send_zc_on_threaded_stacks() -> None:
    """Completions run on the stacks' threads (C only); Python reaps them."""
    pipe = ustack.Pipe(seed=SEED, lanes=1, notify=True)
    ga, gb = StackGroup(1, seed=SEED), StackGroup(1, seed=SEED + 1000)
    try:
        ga.attach("pa0", pipe.lanes_of("a"), address=f"{ADDR_A}/24")
        gb.attach("pb0", pipe.lanes_of("b"), address=f"{ADDR_B}/24")
        ga.start()
        gb.start()
        lsock = gb.stacks[0].create_server((ADDR_B, 7001))
        lsock.settimeout(10.0)
        cli = ga.stacks[0].socket(ustack.AF_INET, ustack.SOCK_STREAM)
        cli.settimeout(10.0)
        cli.connect((ADDR_B, 7001))
        conn, _ = lsock.accept()
        conn.settimeout(10.0)
        data = _pattern(1_000_000)
        got = bytearray()
        statuses: list[int] = []

        def reader() -> None:
            while len(got) < len(data):
                with conn.recv_mbuf(65536) as chain:
                    if not chain:
                        return
                    for v in chain.views:
                        got.extend(v)

        t = threading.Thread(target=reader, daemon=True)
        t.start()
        sent = 0
        view = memoryview(data)
        while sent < len(data):
            sent += cli.send_zc(view[sent:], callback=statuses.append)
        t.join(30)
        assert not t.is_alive()
        assert bytes(got) == data
        end = time.monotonic() + 10
        while cli.zc_pending and time.monotonic() < end:
            time.sleep(0.01)
        assert cli.zc_pending == 0
        assert statuses and all(s in (0, sockmod.ZC_COPIED) for s in statuses)
        cli.close()
        conn.close()
        lsock.close()
    finally:
        ga.close()
        gb.close()
        pipe.close()


def test_recv_one_buffer_and_many_buffers_leave_nothing_held(net: PipeRig) -> None:
    """recv takes one large buffer without the scratch copy and gathers
    several into the scratch buffer; either way the chain goes back."""
    cli, conn, srv = _connected(net)
    a = net.a.socket(ustack.AF_INET, ustack.SOCK_DGRAM)
    b = net.b.socket(ustack.AF_INET, ustack.SOCK_DGRAM)
    b.bind((ADDR_B, 9100))
    b.settimeout(5.0)
    _run_for(net, 10_000_000)
    base = _zone(net.b, "mbuf")
    one = _pattern(1400)
    cli.sendall(one)
    assert conn.recv(65536) == one  # one segment: one buffer, lent to the copy
    many = _pattern(20_000, 7)
    cli.sendall(many)
    got = b""
    while len(got) < len(many):
        got += conn.recv(65536)
    assert got == many
    for size in (1200, 3000, 100):  # one buffer; reassembled fragments; small
        dg = _pattern(size, size)
        a.sendto(dg, (ADDR_B, 9100))
        assert b.recv(65536) == dg
    a.sendto(b"123456789", (ADDR_B, 9100))
    assert b.recv(5) == b"12345"  # trimmed, the rest discarded
    cli.sendall(b"peek")
    conn.settimeout(5.0)
    assert conn.recv(10, ustack.MSG_PEEK) == b"peek"  # MSG_PEEK: through ust_recv
    assert conn.recv(10) == b"peek"
    _run_for(net, 10_000_000)
    assert _zone(net.b, "mbuf") <= base
    for s in (a, b, cli, conn, srv):
        s.close()
