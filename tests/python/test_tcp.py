"""TCP stream sockets through the bindings, with socket-module semantics."""

from __future__ import annotations

import errno
import hashlib
import random
import struct

import pytest

import ustack
from ustack import EV_IN, EV_OUT, EventQueue, Faults, Socket
from ustack.sim import ADDR_A, ADDR_B, PipeRig

PORT = 7000


def _listener(net: PipeRig, port: int = PORT, backlog: int = 16) -> Socket:
    srv = net.b.socket(ustack.AF_INET, ustack.SOCK_STREAM)
    srv.setsockopt(ustack.SOL_SOCKET, ustack.SO_REUSEADDR, 1)
    srv.bind(("", port))
    srv.listen(backlog)
    return srv


def _connected(net: PipeRig, port: int = PORT) -> tuple[Socket, Socket, Socket]:
    srv = _listener(net, port)
    cli = net.a.socket(ustack.AF_INET, ustack.SOCK_STREAM)
    cli.settimeout(10.0)
    srv.settimeout(10.0)
    cli.connect((ADDR_B, port))
    conn, peer = srv.accept()
    conn.settimeout(10.0)
    assert peer == (ADDR_A, cli.getsockname()[1])
    return cli, conn, srv


def _recv_exactly(sock: Socket, n: int) -> bytes:
    chunks = []
    while n > 0:
        data = sock.recv(min(n, 65536))
        assert data, "EOF before all the data arrived"
        chunks.append(data)
        n -= len(data)
    return b"".join(chunks)


def test_constants() -> None:
    lib = ustack.lib
    assert lib.UST_SOCK_STREAM == 1 and lib.UST_IPPROTO_TCP == 6
    assert lib.UST_TCP_NODELAY == 1 and lib.UST_TCP_MAXSEG == 2
    assert lib.UST_TCP_INFO == 0x20 and lib.UST_TCP_KEEPIDLE == 0x100
    assert ustack.TCPS_ESTABLISHED == 4 and ustack.TCPS_TIME_WAIT == 10


def test_connect_accept_echo(net: PipeRig) -> None:
    cli, conn, srv = _connected(net)
    assert cli.getpeername() == (ADDR_B, PORT)
    assert conn.getsockname() == (ADDR_B, PORT)
    cli.sendall(b"hello over tcp")
    assert _recv_exactly(conn, 14) == b"hello over tcp"
    conn.sendall(b"HELLO BACK")
    assert _recv_exactly(cli, 10) == b"HELLO BACK"
    for s in (cli, conn, srv):
        s.close()


@pytest.mark.parametrize("seed", [1, 7, 42])
def test_bulk_transfer_over_lossy_pipe(seed: int) -> None:
    faults = Faults(loss=0.02, reorder=0.02, dup=0.01, corrupt=0.01, delay_ns=1_000_000)
    with PipeRig(seed=seed, addresses=True, a_to_b=faults, b_to_a=faults) as net:
        cli, conn, srv = _connected(net)
        data = random.Random(seed).randbytes(200_000)
        got = net.stream(cli, conn, data)
        assert hashlib.sha256(got).digest() == hashlib.sha256(data).digest()
        cli.close()
        conn.settimeout(60.0)
        assert conn.recv(10) == b""  # EOF after the FIN
        conn.close()
        srv.close()


def test_blocking_recv_times_out(net: PipeRig) -> None:
    cli, conn, srv = _connected(net)
    conn.settimeout(0.5)
    t0 = net.b.now
    with pytest.raises(TimeoutError):
        conn.recv(10)
    assert net.b.now - t0 >= 500_000_000


def test_nonblocking_connect_with_eventqueue(net: PipeRig) -> None:
    srv = _listener(net)
    srv.setblocking(False)
    cli = net.a.socket(ustack.AF_INET, ustack.SOCK_STREAM)
    cli.setblocking(False)
    with pytest.raises(BlockingIOError) as ei:
        cli.connect((ADDR_B, PORT))
    assert ei.value.errno == errno.EINPROGRESS
    with pytest.raises(BlockingIOError):
        srv.accept()
    qa, qb = EventQueue(net.a), EventQueue(net.b)
    qa.register(cli, EV_OUT)
    qb.register(srv, EV_IN)
    ready = qa.poll(5.0)
    assert ready and ready[0][0] is cli and ready[0][1] & EV_OUT
    assert cli.getsockopt(ustack.SOL_SOCKET, ustack.SO_ERROR) == 0
    ready = qb.poll(5.0)
    assert ready and ready[0][0] is srv and ready[0][1] & EV_IN
    conn, _ = srv.accept()
    assert conn.getpeername() == (ADDR_A, cli.getsockname()[1])
    qb.register(conn, EV_IN)
    assert cli.send(b"ping") == 4
    ready = qb.poll(5.0)
    assert ready and ready[0][0] is conn
    conn.setblocking(False)
    assert conn.recv(100) == b"ping"
    with pytest.raises(BlockingIOError):
        conn.recv(100)


def test_connection_refused(net: PipeRig) -> None:
    cli = net.a.socket(ustack.AF_INET, ustack.SOCK_STREAM)
    cli.settimeout(5.0)
    with pytest.raises(ConnectionRefusedError):
        cli.connect((ADDR_B, 9))
    assert cli.connect_ex((ADDR_B, 9)) != 0


def test_nonblocking_refused_shows_in_so_error(net: PipeRig) -> None:
    cli = net.a.socket(ustack.AF_INET, ustack.SOCK_STREAM)
    cli.setblocking(False)
    with pytest.raises(BlockingIOError):
        cli.connect((ADDR_B, 9))
    q = EventQueue(net.a)
    q.register(cli, EV_OUT)
    assert q.poll(5.0)
    assert cli.getsockopt(ustack.SOL_SOCKET, ustack.SO_ERROR) == errno.ECONNREFUSED


def test_connect_timeout(net: PipeRig) -> None:
    # Nobody answers at this address: the SYNs go unanswered.
    net.a.sysctl("net.inet.tcp.keepinit", 3000)
    cli = net.a.socket(ustack.AF_INET, ustack.SOCK_STREAM)
    cli.settimeout(1.5)
    with pytest.raises(TimeoutError):
        cli.connect(("198.18.0.99", PORT))


def test_shutdown_half_close(net: PipeRig) -> None:
    cli, conn, srv = _connected(net)
    cli.sendall(b"request")
    cli.shutdown(ustack.SHUT_WR)
    assert _recv_exactly(conn, 7) == b"request"
    assert conn.recv(100) == b""  # the client's FIN
    with pytest.raises(BrokenPipeError):
        cli.send(b"more")
    conn.sendall(b"response")  # the other direction still works
    assert _recv_exactly(cli, 8) == b"response"
    conn.close()
    assert cli.recv(100) == b""


def test_linger_zero_resets_peer(net: PipeRig) -> None:
    cli, conn, srv = _connected(net)
    cli.setsockopt(ustack.SOL_SOCKET, ustack.SO_LINGER, struct.pack("ii", 1, 0))
    cli.close()
    with pytest.raises(ConnectionResetError):
        conn.recv(100)


def test_tcp_info_and_options(net: PipeRig) -> None:
    cli, conn, srv = _connected(net)
    info = cli.getsockopt(ustack.IPPROTO_TCP, ustack.TCP_INFO)
    assert info.tcpi_state == ustack.TCPS_ESTABLISHED
    assert info.state_name == "ESTABLISHED"
    assert info["tcpi_rto"] > 0
    assert info.tcpi_snd_mss == 1460
    assert info.tcpi_options & ustack.TCPI_OPT_WSCALE
    assert info.tcpi_options & ustack.TCPI_OPT_TIMESTAMPS
    assert srv.getsockopt(ustack.IPPROTO_TCP, ustack.TCP_INFO).tcpi_state == ustack.TCPS_LISTEN
    cli.setsockopt(ustack.IPPROTO_TCP, ustack.TCP_NODELAY, 1)
    assert cli.getsockopt(ustack.IPPROTO_TCP, ustack.TCP_NODELAY) == 1
    cli.setsockopt(ustack.IPPROTO_TCP, ustack.TCP_KEEPIDLE, 60)
    assert cli.getsockopt(ustack.IPPROTO_TCP, ustack.TCP_KEEPIDLE) == 60
    assert cli.getsockopt(ustack.IPPROTO_TCP, ustack.TCP_CONGESTION) == "cubic"
    with pytest.raises(FileNotFoundError):
        cli.setsockopt(ustack.IPPROTO_TCP, ustack.TCP_CONGESTION, "vegas")
    assert conn.getsockopt(ustack.SOL_SOCKET, ustack.SO_RCVBUF) == 65700


def test_netstat_tcp_counters(net: PipeRig) -> None:
    cli, conn, srv = _connected(net)
    cli.sendall(b"x" * 5000)
    _recv_exactly(conn, 5000)
    a, b = net.a.netstat("tcp")["tcp"], net.b.netstat("tcp")["tcp"]
    assert a["tcps_connattempt"] == 1 and a["tcps_connects"] == 1
    assert b["tcps_accepts"] == 1 and b["tcps_sc_added"] == 1 and b["tcps_sc_completed"] == 1
    assert a["tcps_sndbyte"] >= 5000 and b["tcps_rcvbyte"] >= 5000
    assert "tcps_sc_sendcookie" in b


def test_tcp_connections_and_drop(net: PipeRig) -> None:
    cli, conn, srv = _connected(net)
    rows = {(c.local, c.remote): c for c in net.b.tcp_connections()}
    est = rows[((ADDR_B, PORT), (ADDR_A, cli.getsockname()[1]))]
    assert est.state_name == "ESTABLISHED" and est.has_socket
    assert rows[(("0.0.0.0", PORT), ("0.0.0.0", 0))].state == ustack.TCPS_LISTEN
    # tcpdrop: the peer gets a RST, the dropped socket ECONNABORTED.
    net.b.tcp_drop(est.local, est.remote)
    net.run()
    with pytest.raises(ConnectionResetError):
        cli.recv(10)
    assert conn.getsockopt(ustack.SOL_SOCKET, ustack.SO_ERROR) == errno.ECONNABORTED
    with pytest.raises(FileNotFoundError):
        net.b.tcp_drop(est.local, est.remote)
    assert [c.state_name for c in net.b.tcp_connections()] == ["LISTEN"]


@pytest.mark.parametrize("autosize", [1, 0])
def test_receive_buffer_autosizing(autosize: int) -> None:
    """net.inet.tcp.recvbuf_auto / sendbuf_auto: over a 10 ms, 100 Mbit/s
    pipe a bulk transfer grows the receiver's SO_RCVBUF and the sender's
    SO_SNDBUF past FreeBSD's defaults; with the knobs off they never change."""
    link = Faults(delay_ns=10_000_000, rate_bps=100_000_000)
    with PipeRig(seed=5, addresses=True, a_to_b=link, b_to_a=link, ring_size=4096) as net:
        for st in net.stacks:
            st.sysctl("net.inet.tcp.recvbuf_auto", autosize)
            st.sysctl("net.inet.tcp.sendbuf_auto", autosize)
        cli, conn, srv = _connected(net)
        rcv0 = conn.getsockopt(ustack.SOL_SOCKET, ustack.SO_RCVBUF)
        snd0 = cli.getsockopt(ustack.SOL_SOCKET, ustack.SO_SNDBUF)
        assert 65536 <= rcv0 < 65536 + 1460 and snd0 == 32768
        rcvbufs, sndbufs = {rcv0}, {snd0}

        def sample() -> None:
            rcvbufs.add(conn.getsockopt(ustack.SOL_SOCKET, ustack.SO_RCVBUF))
            sndbufs.add(cli.getsockopt(ustack.SOL_SOCKET, ustack.SO_SNDBUF))

        data = random.Random(5).randbytes(2_000_000)
        got = net.stream(cli, conn, data, step_ns=1_000_000, on_idle=sample)
        assert got == data
        if autosize:
            assert max(rcvbufs) > 2 * rcv0 and max(sndbufs) > 2 * snd0
            assert net.b.netstat("tcp")["tcp"]["tcps_autorcvbuf"] > 0
            assert net.a.netstat("tcp")["tcp"]["tcps_autosndbuf"] > 0
        else:
            assert rcvbufs == {rcv0} and sndbufs == {snd0}
        for s in (cli, conn, srv):
            s.close()
