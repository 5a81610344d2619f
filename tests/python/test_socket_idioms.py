"""Idioms of the standard socket module, each written once and run against
the host's sockets on loopback and against ustack on a pipe (virtual clock):
data, return values and exceptions (type and errno) must be the same."""

from __future__ import annotations

import copy
import errno
import gc
import http.client
import http.server
import io
import pickle
import selectors
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from socket_backends import Backend, UstackBackend, backends

import ustack
from ustack import Faults
from ustack.selectors import UstackSelector


@pytest.fixture(params=["stdlib", "ustack"])
def be(request: pytest.FixtureRequest) -> Iterator[Backend]:
    yield from backends(request.param)


# --- makefile ---------------------------------------------------------------


def test_makefile_binary_lines(be: Backend) -> None:
    client, conn = be.connected()
    with client, conn:
        wfile = client.makefile("wb")
        rfile = conn.makefile("rb")
        assert isinstance(wfile, io.BufferedWriter) and isinstance(rfile, io.BufferedReader)
        wfile.write(b"first line\r\nsecond")
        wfile.write(b" line\r\n")
        wfile.flush()
        assert rfile.readline() == b"first line\r\n"
        assert rfile.readline() == b"second line\r\n"
        assert (rfile.readable(), rfile.writable(), wfile.writable()) == (True, False, True)
        wfile.close()
        client.shutdown(socket.SHUT_WR)
        assert rfile.read() == b""
        rfile.close()
        assert rfile.closed


def test_makefile_text_read_write(be: Backend) -> None:
    client, conn = be.connected()
    with client, conn:
        f = client.makefile("rw", encoding="utf-8", newline="")
        g = conn.makefile("rw", encoding="utf-8", newline="")
        assert f.mode == "rw"
        f.write("héllo\nwörld\n")
        f.flush()
        assert g.readline() == "héllo\n"
        g.write(g.readline().upper())
        g.flush()
        assert f.readline() == "WÖRLD\n"
        f.close()
        g.close()


def test_makefile_unbuffered_and_bad_modes(be: Backend) -> None:
    client, conn = be.connected()
    with client, conn:
        raw: Any = client.makefile("wb", buffering=0)
        assert raw.mode == "wb"
        assert isinstance(raw, io.RawIOBase)
        assert raw.write(b"abc") == 3
        raw.close()
        with pytest.raises(ValueError):
            client.makefile("rx")
        with pytest.raises(ValueError, match="unbuffered"):
            client.makefile("r", buffering=0)
        r = conn.makefile("rb", 0)
        buf = bytearray(8)
        assert r.readinto(buf) == 3 and buf[:3] == b"abc"
        r.close()
        with pytest.raises(ValueError):
            r.read(1)


def test_makefile_keeps_the_socket_open_until_closed(be: Backend) -> None:
    """socket.close() with a makefile open closes the connection only when
    the file is closed too (http.client relies on it)."""
    client, conn = be.connected()
    with client:
        rfile = conn.makefile("rb")
        conn.close()
        client.sendall(b"still there\n")
        assert rfile.readline() == b"still there\n"
        rfile.close()
        client.settimeout(5.0)
        assert client.recv(10) == b""  # the peer's FIN, once the file is closed


def test_makefile_timeout_poisons_reads(be: Backend) -> None:
    client, conn = be.connected()
    with client, conn:
        conn.settimeout(0.05)
        rfile = conn.makefile("rb", buffering=0)
        with pytest.raises(TimeoutError):
            rfile.read(1)
        with pytest.raises(OSError, match="timed out object"):
            rfile.read(1)
        rfile.close()


def test_makefile_nonblocking_read_returns_none(be: Backend) -> None:
    client, conn = be.connected()
    with client, conn:
        conn.setblocking(False)
        raw = conn.makefile("rb", buffering=0)
        assert raw.read(10) is None
        raw.close()


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        body = f"you asked for {self.path}".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


def test_http_client_and_server_over_a_socket(be: Backend) -> None:
    """http.client with a socket it did not create, against http.server's
    request handler on the accepted socket."""
    lsock, (host, port) = be.listener()
    with lsock:
        client = be.socket()
        client.connect((host, port))
        conn = http.client.HTTPConnection(host, port)
        conn.sock = client
        conn.request("GET", "/bytes/42", headers={"Connection": "close"})
        server_side, peer = lsock.accept()
        with server_side:
            _Handler(server_side, peer, None)  # type: ignore[arg-type]
        resp = conn.getresponse()
        assert (resp.status, resp.reason) == (200, "OK")
        assert resp.getheader("Content-Type") == "text/plain"
        assert resp.read() == b"you asked for /bytes/42"
        conn.close()


# --- constants and defaults -------------------------------------------------

EXPOSED = [
    n
    for n in ustack.__all__
    if n.split("_", 1)[0] in ("AF", "SOCK", "SOL", "SO", "IPPROTO", "IP", "TCP", "MSG", "SHUT")
    and n not in ("TCP_INFO",)
]


def test_constants_are_the_hosts() -> None:
    ours_only = {
        "TCP_NOPUSH",
        "TCP_NOOPT",
        "TCP_KEEPINIT",
        "TCP_FUNCTION_BLK",
        "TCP_MD5SIG",
        "TCP_REMOTE_UDP_ENCAPS_PORT",
        "SO_REUSEPORT_LB",
    } - set(dir(socket))
    for name in EXPOSED:
        if name in ours_only:
            prefix = name.split("_", 1)[0] + "_"
            assert getattr(ustack, name) not in {
                getattr(socket, n) for n in dir(socket) if n.startswith(prefix)
            }, name
        else:
            assert getattr(ustack, name) == getattr(socket, name), name
    assert ustack.TCP_INFO == socket.TCP_INFO
    assert ustack.AF_INET is socket.AF_INET and ustack.SOCK_STREAM is socket.SOCK_STREAM


def test_default_socket_is_tcp(be: Backend) -> None:
    s = be.socket()
    with s:
        assert (s.family, s.type, s.proto) == (socket.AF_INET, socket.SOCK_STREAM, 0)
        assert s.getsockopt(socket.SOL_SOCKET, socket.SO_TYPE) == socket.SOCK_STREAM
        assert repr(s.type) == "<SocketKind.SOCK_STREAM: 1>"


def test_host_option_constants_reach_the_right_option(be: Backend) -> None:
    s = be.socket()
    with s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 60)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, 7)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 3)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, 33)
        got = [
            s.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE),
            s.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL),
            s.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT),
            bool(s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)),
            bool(s.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE)),
            bool(s.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR)),
            s.getsockopt(socket.IPPROTO_IP, socket.IP_TTL),
        ]
        assert got == [60, 7, 3, True, True, True, 33]
    if be.name == "ustack":
        t = be.socket()
        with t:  # TCP_KEEPIDLE did not land on TCP_NOPUSH (4 in FreeBSD)
            t.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 60)
            assert t.getsockopt(ustack.IPPROTO_TCP, ustack.TCP_NOPUSH) == 0


# --- flags -------------------------------------------------------------------


def test_msg_dontwait_on_a_blocking_socket(be: Backend) -> None:
    client, conn = be.connected()
    with client, conn:
        assert conn.gettimeout() is None
        with pytest.raises(BlockingIOError) as ei:
            conn.recv(10, socket.MSG_DONTWAIT)
        assert ei.value.errno == errno.EAGAIN
        client.sendall(b"hi")
        conn.settimeout(5.0)
        assert conn.recv(10, socket.MSG_PEEK) == b"hi"
        assert conn.recv(10, socket.MSG_DONTWAIT) == b"hi"


def test_recv_zero_returns_at_once(be: Backend) -> None:
    client, conn = be.connected()
    with client, conn:
        assert conn.recv(0) == b""
        assert conn.recv_into(bytearray(0)) == 0


def test_msg_waitall(be: Backend) -> None:
    client, conn = be.connected()
    with client, conn:
        client.sendall(b"abc")
        client.sendall(b"defg")
        conn.settimeout(5.0)
        assert conn.recv(7, socket.MSG_WAITALL) == b"abcdefg"


def test_recvfrom_on_tcp_gives_no_address(be: Backend) -> None:
    client, conn = be.connected()
    with client, conn:
        client.sendall(b"xyz")
        conn.settimeout(5.0)
        assert conn.recvfrom(10) == (b"xyz", None)
        client.sendall(b"uvw")
        buf = bytearray(10)
        assert conn.recvfrom_into(buf) == (3, None)


# --- connecting ----------------------------------------------------------------


def test_connect_ex_codes(be: Backend) -> None:
    lsock, addr = be.listener()
    with lsock:
        port = addr[1]
    s = be.socket()
    with s:
        s.settimeout(5.0)
        assert s.connect_ex((be.server_host, port)) == errno.ECONNREFUSED
    lsock, addr = be.listener()
    with lsock:
        s = be.socket()
        with s:
            assert s.connect_ex(addr) == 0
            assert s.connect_ex(addr) == errno.EISCONN
        s = be.socket()
        with s:
            s.setblocking(False)
            assert s.connect_ex(addr) == errno.EINPROGRESS


def test_create_connection_and_server(be: Backend) -> None:
    srv = be.create_server((be.server_host, 0))
    with srv:
        assert srv.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR)
        addr = srv.getsockname()
        c = be.create_connection(addr, timeout=5.0)
        with c:
            assert c.gettimeout() == 5.0
            conn, peer = srv.accept()
            with conn:
                assert peer == c.getsockname()
                c.sendall(b"ping")
                assert conn.recv(4) == b"ping"
    lsock, addr = be.listener()
    lsock.close()
    with pytest.raises(ConnectionRefusedError):
        be.create_connection(addr, timeout=5.0)


def test_socketpair(be: Backend) -> None:
    a, b = be.socketpair()  # the host's is AF_UNIX, ustack's AF_INET: both streams
    with a, b:
        a.sendall(b"one")
        assert b.recv(3) == b"one"
        b.sendall(b"two")
        assert a.recv(3) == b"two"


def test_numeric_getaddrinfo(be: Backend) -> None:
    host = be.server_host
    assert be.getaddrinfo(host, 80) == socket.getaddrinfo(host, 80)
    assert be.getaddrinfo(host, "8080", socket.AF_INET, socket.SOCK_STREAM) == [
        (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (host, 8080))
    ]
    assert be.getaddrinfo(None, 7, socket.AF_INET, flags=socket.AI_PASSIVE) == (
        socket.getaddrinfo(None, 7, socket.AF_INET, flags=socket.AI_PASSIVE)
    )
    with pytest.raises(socket.gaierror):
        be.getaddrinfo("no.such.name.invalid", 80)


# --- objects -------------------------------------------------------------------


def test_copy_is_refused(be: Backend) -> None:
    s = be.socket()
    with s:
        for fn in (copy.copy, copy.deepcopy, pickle.dumps):
            with pytest.raises(TypeError, match="cannot pickle"):
                fn(s)


def test_unclosed_socket_warns(be: Backend) -> None:
    s = be.socket()
    if be.name == "stdlib":
        be._socks.remove(s)  # type: ignore[attr-defined]
    with pytest.warns(ResourceWarning, match="unclosed"):
        del s
        gc.collect()


# --- waits -------------------------------------------------------------------


def test_idle_connection_recv_deadlocks_at_once_in_virtual_time() -> None:
    be = UstackBackend()
    try:
        client, conn = be.connected()
        t0 = time.monotonic()
        with pytest.raises(ustack.Deadlock, match=r"recv\(\) on <ustack.Socket") as ei:
            conn.recv(10)
        assert time.monotonic() - t0 < 2.0
        assert ei.value.call == "recv()" and id(ei.value.socket) == id(conn)
        assert isinstance(ei.value, RuntimeError)
        # The connection is still fine: the peer did nothing wrong.
        client.sendall(b"late")
        assert conn.recv(10) == b"late"
        client.close()
        conn.close()
    finally:
        be.close()


def test_selector_and_run_until_do_not_spin_on_idle_connections() -> None:
    be = UstackBackend()
    try:
        client, conn = be.connected()
        sel = UstackSelector(be.rig.b)
        sel.register(conn, selectors.EVENT_READ)
        with pytest.raises(ustack.Deadlock, match=r"select\(\)"):
            sel.select(None)
        sel.close()
        world = be.rig.b.world
        assert world.run_until(lambda: False) is False
        assert world.run_until() is True  # quiet: only keepalives left
        client.close()
        conn.close()
    finally:
        be.close()


def test_dead_peer_keepalive_still_times_out() -> None:
    """An unanswered keepalive moves the world on: recv ends in ETIMEDOUT
    (FreeBSD: keepidle 2 h, then 8 probes 75 s apart), not in Deadlock."""
    be = UstackBackend()
    try:
        client, conn = be.connected()
        be.rig.pipe.set_faults("b_to_a", Faults(loss=1.0))
        t0 = be.rig.b.now
        with pytest.raises(TimeoutError) as ei:
            conn.recv(10)
        assert ei.value.errno == errno.ETIMEDOUT
        assert be.rig.b.now - t0 >= (7200 + 8 * 75) * 10**9
        client.close()
        conn.close()
    finally:
        be.close()


# --- threads -------------------------------------------------------------------


def _in_thread(fn: Any, *args: Any) -> tuple[threading.Thread, list[Any]]:
    out: list[Any] = []

    def body() -> None:
        try:
            out.append(fn(*args))
        except BaseException as exc:  # handed to the test
            out.append(exc)

    t = threading.Thread(target=body, daemon=True)
    t.start()
    return t, out


def test_server_thread_accepts_while_main_connects(be: Backend) -> None:
    lsock, addr = be.listener()
    with lsock:

        def serve() -> bytes:
            conn, _ = lsock.accept()
            with conn:
                data = conn.recv(100)
                conn.sendall(data.upper())
                return bytes(data)

        t, out = _in_thread(serve)
        time.sleep(0.01)  # the server is blocked in accept() by now
        c = be.socket()
        with c:
            c.connect(addr)
            c.sendall(b"hello")
            assert c.recv(100) == b"HELLO"
        t.join(10)
        assert out == [b"hello"]


def test_two_threads_on_one_socket(be: Backend) -> None:
    client, conn = be.connected()
    with client, conn:
        t, out = _in_thread(conn.recv, 100)  # thread 1 reads conn ...
        time.sleep(0.01)
        conn.sendall(b"ping")  # ... while thread 2 writes it
        assert client.recv(100) == b"ping"
        client.sendall(b"pong")
        t.join(10)
        assert out == [b"pong"]


def test_virtual_time_waits_for_busy_threads(be: Backend) -> None:
    """A thread's 1-second timeout does not run out while another thread is
    still about to send (it has not waited yet): as on a real host."""
    client, conn = be.connected()
    with client, conn:
        conn.settimeout(1.0)
        t, out = _in_thread(conn.recv, 100)
        time.sleep(0.02)
        client.sendall(b"in time")
        t.join(10)
        assert out == [b"in time"]


def test_threads_deadlock_together_in_virtual_time() -> None:
    be = UstackBackend()
    try:
        client, conn = be.connected()
        t, out = _in_thread(conn.recv, 100)
        with pytest.raises(ustack.Deadlock):
            client.recv(100)
        t.join(10)
        assert len(out) == 1 and isinstance(out[0], ustack.Deadlock)
        client.close()
        conn.close()
    finally:
        be.close()


def test_a_timed_wait_in_another_thread_is_not_a_deadlock() -> None:
    """One thread waits with a timeout and acts when it runs out; another
    waits with none.  The untimed wait must let time run to the other's
    limit instead of declaring the world stuck (a retry after a timeout)."""
    be = UstackBackend()
    try:
        client, conn = be.connected()

        def retry() -> bytes:
            client.settimeout(1.0)
            with pytest.raises(TimeoutError):
                client.recv(10)  # nothing comes: times out after 1 s
            client.sendall(b"retry")
            return b"ok"

        t, out = _in_thread(retry)
        assert conn.recv(10) == b"retry"
        t.join(10)
        assert out == [b"ok"]
        client.close()
        conn.close()
    finally:
        be.close()


def test_a_thread_away_longer_than_the_grace_is_not_a_deadlock() -> None:
    """A server thread that sleeps (wall time, longer than THREAD_GRACE)
    before it answers: the client's untimed recv waits for it, as a host
    socket would, instead of ending in Deadlock."""
    be = UstackBackend()
    try:
        client, conn = be.connected()

        def slow_answer() -> None:
            conn.recv(1)
            time.sleep(ustack.world.THREAD_GRACE * 1.5)
            conn.sendall(b"late")

        t, out = _in_thread(slow_answer)
        client.sendall(b"?")
        assert client.recv(10) == b"late"
        t.join(10)
        assert out == [None]
        client.close()
        conn.close()
    finally:
        be.close()


def test_a_thread_that_has_not_called_yet_is_waited_for() -> None:
    """The main thread blocks in recv() while a thread it just started has
    not reached its first ustack call: not a deadlock, the data comes."""
    be = UstackBackend()
    try:
        client, conn = be.connected()

        def late_sender() -> None:
            time.sleep(0.1)
            client.sendall(b"hello")

        t, out = _in_thread(late_sender)
        assert conn.recv(10) == b"hello"
        t.join(10)
        assert out == [None]
        client.close()
        conn.close()
    finally:
        be.close()


def test_sock_nonblock_in_the_type(be: Backend) -> None:
    s = be.socket(socket.AF_INET, socket.SOCK_STREAM | socket.SOCK_NONBLOCK)
    with s:
        assert s.type == socket.SOCK_STREAM and s.gettimeout() == 0.0
        lsock, addr = be.listener()
        with lsock, pytest.raises(BlockingIOError):
            lsock.setblocking(False)
            lsock.accept()


def test_sendall_to_a_peer_that_never_reads_deadlocks() -> None:
    """The peer's window closes and stays closed (its persist probes are
    answered): a single-threaded sendall could only hang."""
    be = UstackBackend()
    try:
        client, conn = be.connected()
        with pytest.raises(ustack.Deadlock, match=r"send\(\)"):
            client.sendall(bytes(4 << 20))
        assert conn.recv(10) == bytes(10)  # the connection still works
        client.close()
        conn.close()
    finally:
        be.close()
