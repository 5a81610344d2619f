"""UDP sockets through the bindings, with socket-module semantics."""

from __future__ import annotations

import errno
import random
import socket
import struct

import pytest

import ustack
from ustack import Faults, Socket
from ustack.sim import ADDR_A, ADDR_B, PipeRig, parse_ipv4

SECOND = 1_000_000_000


def _payload(seed: int, seq: int, size: int) -> bytes:
    """Deterministic, self-identifying datagram contents."""
    rnd = random.Random(seed * 1_000_003 + seq)
    head = struct.pack("!II", seq, size)
    return head + rnd.randbytes(max(size - len(head), 0))


def _from_a(sock: Socket) -> tuple[str, int]:
    """How B sees an unbound-address socket of A: A's address, the socket's port."""
    return ADDR_A, sock.getsockname()[1]


def _pair(net: PipeRig, port: int = 5000) -> tuple[Socket, Socket]:
    server = net.b.socket(ustack.AF_INET, ustack.SOCK_DGRAM)
    server.bind(("", port))
    client = net.a.socket(ustack.AF_INET, ustack.SOCK_DGRAM)
    return client, server


# --- constants -----------------------------------------------------------------


def test_c_constants_keep_freebsd_values() -> None:
    """The C API keeps FreeBSD's numbers; Python's are the host's
    (test_socket_idioms checks that side)."""
    lib = ustack.lib
    assert lib.UST_AF_INET == 2 and (lib.UST_SOCK_STREAM, lib.UST_SOCK_DGRAM) == (1, 2)
    assert lib.UST_SOL_SOCKET == 0xFFFF
    assert lib.UST_SO_RCVBUF == 0x1002 and lib.UST_SO_SNDBUF == 0x1001
    assert lib.UST_SO_REUSEADDR == 0x0004
    assert lib.UST_IPPROTO_UDP == 17 and lib.UST_IP_TTL == 4 and lib.UST_IP_TOS == 3
    assert lib.UST_MSG_PEEK == 2 and lib.UST_MSG_DONTWAIT == 0x80
    assert (lib.UST_SHUT_RD, lib.UST_SHUT_WR, lib.UST_SHUT_RDWR) == (0, 1, 2)


# --- basic exchange ------------------------------------------------------------------


def test_sendto_recvfrom_between_two_stacks(net: PipeRig) -> None:
    client, server = _pair(net)
    assert client.sendto(b"hello", (ADDR_B, 5000)) == 5
    data, peer = server.recvfrom(2048)  # blocking: polls both stacks
    assert data == b"hello"
    assert peer == _from_a(client)
    assert client.getsockname() == ("0.0.0.0", peer[1])  # unconnected: wildcard
    assert server.sendto(data.upper(), peer) == 5
    assert client.recvfrom(2048) == (b"HELLO", (ADDR_B, 5000))


def test_ephemeral_port_in_configured_range(net: PipeRig) -> None:
    first = net.a.sysctl("net.inet.ip.portrange.first")
    last = net.a.sysctl("net.inet.ip.portrange.last")
    assert (first, last) == (10000, 65535)
    ports = set()
    for _ in range(20):
        s = net.a.socket(ustack.AF_INET, ustack.SOCK_DGRAM)
        s.bind(("", 0))
        host, port = s.getsockname()
        assert host == "0.0.0.0"
        assert first <= port <= last
        ports.add(port)
    assert len(ports) == 20
    net.a.sysctl("net.inet.ip.portrange.first", 40000)
    net.a.sysctl("net.inet.ip.portrange.last", 40009)
    s = net.a.socket(ustack.AF_INET, ustack.SOCK_DGRAM)
    s.sendto(b"x", (ADDR_B, 9))  # implicit bind
    assert 40000 <= s.getsockname()[1] <= 40009


@pytest.mark.skipif(ustack.UST_HAS_INET6, reason="built with IPv6 (test_inet6_api.py)")
def test_af_inet6_is_refused_until_the_stack_speaks_it(net: PipeRig) -> None:
    # The C API says EAFNOSUPPORT itself: no silent IPv4 socket.
    for kind in (ustack.SOCK_DGRAM, ustack.SOCK_STREAM):
        with pytest.raises(OSError) as ei:
            net.a.socket(socket.AF_INET6, kind)
        assert ei.value.errno == errno.EAFNOSUPPORT


def test_bind_specific_address_and_errors(net: PipeRig) -> None:
    s = net.a.socket(ustack.AF_INET, ustack.SOCK_DGRAM)
    s.bind((ADDR_A, 6000))
    assert s.getsockname() == (ADDR_A, 6000)
    t = net.a.socket(ustack.AF_INET, ustack.SOCK_DGRAM)
    with pytest.raises(OSError) as ei:
        t.bind((ADDR_A, 6000))
    assert ei.value.errno == errno.EADDRINUSE
    assert isinstance(ei.value, ustack.Error)
    with pytest.raises(OSError) as ei:
        t.bind(("", 6000))  # the wildcard conflicts too without SO_REUSEADDR/PORT
    assert ei.value.errno == errno.EADDRINUSE
    u = net.a.socket(ustack.AF_INET, ustack.SOCK_DGRAM)
    with pytest.raises(OSError) as ei:
        u.bind(("203.0.113.9", 6001))  # not an address of this stack
    assert ei.value.errno == errno.EADDRNOTAVAIL
    s.close()
    t.bind(("", 6000))  # free again


def test_bad_addresses_like_the_socket_module(net: PipeRig) -> None:
    s = net.a.socket(ustack.AF_INET, ustack.SOCK_DGRAM)
    with pytest.raises(TypeError):
        s.sendto(b"x", ADDR_B)
    with pytest.raises(OverflowError):
        s.sendto(b"x", (ADDR_B, 70000))
    with pytest.raises(socket.gaierror):
        s.sendto(b"x", ("example.com", 7))
    with pytest.raises(TypeError):
        s.sendto(b"x", 0, 1, (ADDR_B, 7))


def test_sendto_with_flags_argument(net: PipeRig) -> None:
    client, server = _pair(net)
    assert client.sendto(b"abc", 0, (ADDR_B, 5000)) == 3
    assert server.recv(100) == b"abc"


# --- blocking, non-blocking, timeouts ------------------------------------------------


def test_timeout_accessors_like_socket(net: PipeRig) -> None:
    s = net.a.socket(ustack.AF_INET, ustack.SOCK_DGRAM)
    assert s.gettimeout() is None and s.getblocking()
    s.setblocking(False)
    assert s.gettimeout() == 0.0 and not s.getblocking()
    s.settimeout(2)
    assert s.gettimeout() == 2.0 and s.getblocking()
    s.setblocking(True)
    assert s.gettimeout() is None
    with pytest.raises(ValueError):
        s.settimeout(-1)


def test_nonblocking_recv_raises_blockingioerror(net: PipeRig) -> None:
    client, server = _pair(net)
    server.setblocking(False)
    with pytest.raises(BlockingIOError) as ei:
        server.recvfrom(100)
    assert ei.value.errno == errno.EAGAIN
    assert isinstance(ei.value, ustack.Error)
    client.sendto(b"x", (ADDR_B, 5000))
    with pytest.raises(BlockingIOError):
        server.recvfrom(100)  # non-blocking calls do not poll
    net.run()
    assert server.recvfrom(100) == (b"x", _from_a(client))


def test_timeout_elapses_on_the_stack_clock(net: PipeRig) -> None:
    _, server = _pair(net)
    server.settimeout(1.5)
    t0 = net.b.now
    with pytest.raises(TimeoutError) as ei:
        server.recvfrom(100)
    assert isinstance(ei.value, socket.timeout)
    assert isinstance(ei.value, ustack.Error)
    assert net.b.now - t0 >= int(1.5 * SECOND)


def test_blocking_with_nothing_pending_raises_instead_of_hanging(net: PipeRig) -> None:
    _, server = _pair(net)
    assert server.gettimeout() is None
    with pytest.raises(ustack.Deadlock, match=r"recv\(\) on <ustack.Socket .*nothing is pending"):
        server.recv(100)


def test_timeout_not_reached_when_data_arrives(net: PipeRig) -> None:
    net.pipe.set_faults("a_to_b", Faults(delay_ns=300_000_000))
    client, server = _pair(net)
    server.settimeout(1.0)
    client.sendto(b"late", (ADDR_B, 5000))
    t0 = net.b.now
    assert server.recv(100) == b"late"
    assert 300_000_000 <= net.b.now - t0 < SECOND


# --- connected sockets ----------------------------------------------------------------


def test_connect_send_recv(net: PipeRig) -> None:
    client, server = _pair(net)
    client.connect((ADDR_B, 5000))
    assert client.getpeername() == (ADDR_B, 5000)
    assert client.getsockname()[0] == ADDR_A  # source chosen by the route
    assert client.send(b"one") == 3
    data, peer = server.recvfrom(100)
    assert data == b"one"
    server.sendto(b"two", peer)
    assert client.recv(100) == b"two"


def test_connected_socket_filters_other_peers(net: PipeRig) -> None:
    client, server = _pair(net)
    client.bind(("", 7000))
    client.connect((ADDR_B, 5000))
    other = net.b.socket(ustack.AF_INET, ustack.SOCK_DGRAM)
    other.bind(("", 5001))
    other.sendto(b"stranger", (ADDR_A, 7000))
    server.sendto(b"peer", (ADDR_A, 7000))
    client.settimeout(1.0)
    assert client.recv(100) == b"peer"
    with pytest.raises(TimeoutError):
        client.recv(100)


def test_getpeername_unconnected_raises(net: PipeRig) -> None:
    s = net.a.socket(ustack.AF_INET, ustack.SOCK_DGRAM)
    with pytest.raises(OSError) as ei:
        s.getpeername()
    assert ei.value.errno == errno.ENOTCONN


def test_send_unconnected_raises(net: PipeRig) -> None:
    s = net.a.socket(ustack.AF_INET, ustack.SOCK_DGRAM)
    with pytest.raises(OSError) as ei:
        s.send(b"x")
    assert ei.value.errno in (errno.EDESTADDRREQ, errno.ENOTCONN)


def test_port_unreachable_refuses_connected_socket(net: PipeRig) -> None:
    s = net.a.socket(ustack.AF_INET, ustack.SOCK_DGRAM)
    s.connect((ADDR_B, 9))  # nobody listens on B:9
    s.send(b"anyone?")
    with pytest.raises(ConnectionRefusedError) as ei:
        s.recv(100)
    assert ei.value.errno == errno.ECONNREFUSED
    assert isinstance(ei.value, ustack.Error)
    assert net.b.netstat("udp")["udp"]["udps_noport"] == 1


def test_port_unreachable_ignored_by_unconnected_socket(net: PipeRig) -> None:
    s = net.a.socket(ustack.AF_INET, ustack.SOCK_DGRAM)
    s.sendto(b"anyone?", (ADDR_B, 9))
    s.settimeout(0.5)
    with pytest.raises(TimeoutError):
        s.recvfrom(100)  # BSD: errors go only to connected sockets


# --- data path details ----------------------------------------------------------------


def test_truncation_peek_and_recv_into(net: PipeRig) -> None:
    client, server = _pair(net)
    client.sendto(b"0123456789", (ADDR_B, 5000))
    client.sendto(b"abcdef", (ADDR_B, 5000))
    assert server.recv(4, ustack.MSG_PEEK) == b"0123"
    assert server.recv(4) == b"0123"  # the rest of the datagram is discarded
    buf = bytearray(16)
    n, peer = server.recvfrom_into(buf)
    assert (bytes(buf[:n]), peer) == (b"abcdef", _from_a(client))
    client.sendto(b"xyz", (ADDR_B, 5000))
    view = memoryview(bytearray(8))
    assert server.recv_into(view, 2) == 2
    assert bytes(view[:2]) == b"xy"


def test_empty_datagram(net: PipeRig) -> None:
    client, server = _pair(net)
    assert client.sendto(b"", (ADDR_B, 5000)) == 0
    assert server.recvfrom(10) == (b"", _from_a(client))


def test_large_datagram_is_fragmented_and_reassembled(net: PipeRig) -> None:
    client, server = _pair(net)
    data = _payload(1, 0, 10 * 1024)
    # Over FreeBSD's net.inet.udp.maxdgram (9216) for a C socket; a Python
    # socket has Linux's buffers.
    assert client.sendto(data, (ADDR_B, 5000)) == len(data)
    got, _ = server.recvfrom(65536)
    assert got == data
    a_ip = net.a.netstat("ip")["ip"]
    b_ip = net.b.netstat("ip")["ip"]
    frags = -(-(len(data) + 8) // 1480)  # 7 fragments of at most 1480 bytes
    assert a_ip["ips_fragmented"] == 1
    assert a_ip["ips_ofragments"] == frags
    assert b_ip["ips_fragments"] == frags
    assert b_ip["ips_reassembled"] == 1


def test_largest_datagram(net: PipeRig) -> None:
    """65,507 bytes (65,535 less the IP and UDP headers) cross; one more is
    EMSGSIZE, as with a host socket."""
    client, server = _pair(net)
    client.sendto(b"arp first", (ADDR_B, 5000))  # the ARP queue holds few fragments
    assert server.recv(100) == b"arp first"
    data = _payload(2, 0, 65_507)
    assert client.sendto(data, (ADDR_B, 5000)) == len(data)
    assert server.recvfrom(70_000) == (data, _from_a(client))
    with pytest.raises(OSError) as ei:
        client.sendto(bytes(65_508), (ADDR_B, 5000))
    assert ei.value.errno == errno.EMSGSIZE


def _send_big(
    faults: Faults, seed: int
) -> tuple[list[bytes], list[bytes], dict[str, int], dict[str, int]]:
    """Ten fragmented datagrams A -> B through ``faults``: (sent, received,
    pipe a->b counters, B's ip counters)."""
    with PipeRig(seed=seed, a_to_b=faults, addresses=True) as net:
        client, server = _pair(net)
        client.setsockopt(ustack.SOL_SOCKET, ustack.SO_SNDBUF, 65536)
        server.setsockopt(ustack.SOL_SOCKET, ustack.SO_RCVBUF, 1 << 20)
        sent = [_payload(seed, i, 4000 + 997 * i) for i in range(10)]
        for data in sent:
            client.sendto(data, (ADDR_B, 5000))
            net.run()
        server.setblocking(False)
        got: list[bytes] = []
        while True:
            try:
                got.append(server.recv(65536))
            except BlockingIOError:
                break
        return sent, got, net.pipe.stats("a_to_b"), net.b.netstat("ip")["ip"]


@pytest.mark.sim
@pytest.mark.parametrize("seed", [11, 12, 13])
def test_reassembly_survives_reordering(seed: int) -> None:
    sent, got, pipe, _ = _send_big(Faults(reorder=0.3, seed=seed), seed)
    assert sorted(got) == sorted(sent), f"datagrams missing or damaged (seed {seed})"
    assert pipe["reordered"] > 0, f"nothing reordered (seed {seed})"


@pytest.mark.sim
@pytest.mark.parametrize("seed", [11, 12])
def test_duplicated_fragments_never_deliver_damaged_data(seed: int) -> None:
    # ustack applies RFC 5722's rule to IPv4 too: any overlap, even a
    # byte-identical duplicate, drops the whole datagram (ip_reass.c).
    sent, got, pipe, ip = _send_big(Faults(dup=0.2, reorder=0.2, seed=seed), seed)
    assert pipe["duplicated"] > 0, f"nothing duplicated (seed {seed})"
    assert all(g in sent for g in got), f"damaged datagram (seed {seed})"
    if len(set(got)) < len(sent):
        assert ip["ips_fragdropped"] > 0, f"seed {seed}"


def test_socket_options(net: PipeRig) -> None:
    s = net.a.socket(ustack.AF_INET, ustack.SOCK_DGRAM)
    assert s.getsockopt(ustack.SOL_SOCKET, ustack.SO_TYPE) == ustack.SOCK_DGRAM
    # Linux's defaults, not FreeBSD's 42080 and 9216 (see LINUX_DGRAM_BUFFER)
    assert s.getsockopt(ustack.SOL_SOCKET, ustack.SO_RCVBUF) == 212_992
    assert s.getsockopt(ustack.SOL_SOCKET, ustack.SO_SNDBUF) == 212_992
    assert s.getsockopt(ustack.SOL_SOCKET, ustack.SO_REUSEADDR) == 0
    s.setsockopt(ustack.SOL_SOCKET, ustack.SO_REUSEADDR, 1)
    assert s.getsockopt(ustack.SOL_SOCKET, ustack.SO_REUSEADDR) != 0
    s.setsockopt(ustack.SOL_SOCKET, ustack.SO_RCVBUF, 100_000)
    assert s.getsockopt(ustack.SOL_SOCKET, ustack.SO_RCVBUF) >= 100_000
    raw = s.getsockopt(ustack.SOL_SOCKET, ustack.SO_RCVBUF, 4)
    assert isinstance(raw, bytes) and len(raw) == 4
    with pytest.raises(OSError) as ei:
        s.getsockopt(ustack.SOL_SOCKET, 0x7777)
    assert ei.value.errno == errno.ENOPROTOOPT
    assert s.getsockopt(ustack.IPPROTO_IP, ustack.IP_TTL) == 64


def test_sockbuf_over_maxsockbuf_is_refused(net: PipeRig) -> None:
    s = net.a.socket(ustack.AF_INET, ustack.SOCK_DGRAM)
    before = s.getsockopt(ustack.SOL_SOCKET, ustack.SO_RCVBUF)
    with pytest.raises(OSError) as ei:
        s.setsockopt(ustack.SOL_SOCKET, ustack.SO_RCVBUF, 1 << 30)
    assert ei.value.errno == errno.ENOBUFS
    assert s.getsockopt(ustack.SOL_SOCKET, ustack.SO_RCVBUF) == before


def test_dgram_buffers_stay_freebsds_where_maxsockbuf_is_lower(net: PipeRig) -> None:
    net.a.sysctl("kern.ipc.maxsockbuf", 100_000)
    s = net.a.socket(ustack.AF_INET, ustack.SOCK_DGRAM)
    assert s.getsockopt(ustack.SOL_SOCKET, ustack.SO_RCVBUF) == 42080
    assert s.getsockopt(ustack.SOL_SOCKET, ustack.SO_SNDBUF) == 9216


def test_ip_ttl_and_tos_reach_the_wire(net: PipeRig) -> None:
    seen: list[dict[str, int | str]] = []

    def tap(direction: int, ts: int, frame: bytes) -> None:
        hdr = parse_ipv4(frame)
        if hdr is not None and hdr["proto"] == 17:
            seen.append(hdr)

    net.ib.set_capture_hook(tap)
    client, server = _pair(net)
    client.setsockopt(ustack.IPPROTO_IP, ustack.IP_TTL, 9)
    client.setsockopt(ustack.IPPROTO_IP, ustack.IP_TOS, 0x10)
    client.sendto(b"ttl", (ADDR_B, 5000))
    assert server.recv(10) == b"ttl"
    assert [(h["ttl"], h["tos"]) for h in seen] == [(9, 0x10)]


def test_broadcast_needs_so_broadcast(net: PipeRig) -> None:
    _, server = _pair(net)
    s = net.a.socket(ustack.AF_INET, ustack.SOCK_DGRAM)
    with pytest.raises(PermissionError) as ei:
        s.sendto(b"all", ("198.18.0.255", 5000))
    assert ei.value.errno == errno.EACCES
    s.setsockopt(ustack.SOL_SOCKET, ustack.SO_BROADCAST, 1)
    s.sendto(b"all", ("198.18.0.255", 5000))
    assert server.recv(10) == b"all"


def test_host_strings_like_the_socket_module() -> None:
    from ustack.inet import ip_from_c, parse_host

    assert ip_from_c(parse_host("")) == "0.0.0.0"
    assert ip_from_c(parse_host("0.0.0.0")) == "0.0.0.0"
    assert ip_from_c(parse_host("<broadcast>")) == "255.255.255.255"
    assert ip_from_c(parse_host("198.18.0.7")) == "198.18.0.7"


def test_close_and_context_manager(net: PipeRig) -> None:
    with net.a.socket(ustack.AF_INET, ustack.SOCK_DGRAM) as s:
        s.bind(("", 5555))
        assert not s.closed
        assert s in net.a.sockets
    assert s.closed
    s.close()  # idempotent
    with pytest.raises(OSError) as ei:
        s.sendto(b"x", (ADDR_B, 1))
    assert ei.value.errno == errno.EBADF
    t = net.a.socket(ustack.AF_INET, ustack.SOCK_DGRAM)
    t.bind(("", 5555))  # the port is free again


def test_stack_close_closes_its_sockets(net: PipeRig) -> None:
    s = net.a.socket(ustack.AF_INET, ustack.SOCK_DGRAM)
    net.a.close()
    assert s.closed
    assert "closed" in repr(s)


def test_repr_shows_addresses(net: PipeRig) -> None:
    client, server = _pair(net)
    text = repr(server)
    assert "SOCK_DGRAM" in text and "5000" in text


def test_upcall_echo_server(net: PipeRig) -> None:
    server = net.b.socket(ustack.AF_INET, ustack.SOCK_DGRAM)
    server.bind(("", 7))
    server.setblocking(False)
    calls: list[int] = []

    def echo(sock: Socket, events: int) -> None:
        calls.append(events)
        while True:
            try:
                data, peer = sock.recvfrom(65536)
            except BlockingIOError:
                return
            sock.sendto(data, peer)

    server.set_upcall(echo)
    client = net.a.socket(ustack.AF_INET, ustack.SOCK_DGRAM)
    client.settimeout(1.0)
    for i in range(5):
        client.sendto(b"ping %d" % i, (ADDR_B, 7))
        assert client.recvfrom(100) == (b"ping %d" % i, (ADDR_B, 7))
    assert any(ev & ustack.EV_IN for ev in calls)


def test_blocking_call_inside_upcall_is_refused(net: PipeRig) -> None:
    server = net.b.socket(ustack.AF_INET, ustack.SOCK_DGRAM)
    server.bind(("", 7))

    def bad(sock: Socket, events: int) -> None:
        other = net.b.socket(ustack.AF_INET, ustack.SOCK_DGRAM)
        other.bind(("", 8))
        other.recv(10)  # blocking: would have to poll the stack being polled

    server.set_upcall(bad)
    client = net.a.socket(ustack.AF_INET, ustack.SOCK_DGRAM)
    client.sendto(b"x", (ADDR_B, 7))
    with pytest.raises(RuntimeError, match="inside a stack callback"):
        net.run()


def test_blocking_call_on_another_world_inside_upcall_is_refused(net: PipeRig) -> None:
    """The wait would release the lock mid-poll of this stack, letting another
    thread in: refused whichever world the blocking call belongs to."""
    elsewhere = PipeRig(seed=9, addresses=True)
    try:
        server = net.b.socket(ustack.AF_INET, ustack.SOCK_DGRAM)
        server.bind(("", 7))
        far = elsewhere.b.socket(ustack.AF_INET, ustack.SOCK_DGRAM)
        far.bind(("", 9))

        def bad(sock: Socket, events: int) -> None:
            far.recv(10)  # another world: still a wait inside this poll

        server.set_upcall(bad)
        client = net.a.socket(ustack.AF_INET, ustack.SOCK_DGRAM)
        client.sendto(b"x", (ADDR_B, 7))
        with pytest.raises(RuntimeError, match="inside a stack callback"):
            net.run()
        assert far._stack.world is not net.b.world
    finally:
        elsewhere.close()


# --- many datagrams through faults --------------------------------------------------


def _stream(net: PipeRig, seed: int, count: int, size_max: int) -> tuple[list[int], int, int]:
    """Send ``count`` datagrams A -> B, draining B every 16; returns the
    sequence numbers B got (checking each byte for byte), the number of bad
    ones and the frames the pipe lost meanwhile."""
    client, server = _pair(net)
    server.setblocking(False)
    server.setsockopt(ustack.SOL_SOCKET, ustack.SO_RCVBUF, 1 << 20)
    rnd = random.Random(seed)
    sizes = [rnd.randint(8, size_max) for _ in range(count)]
    got: list[int] = []
    bad = 0

    def drain() -> None:
        nonlocal bad
        while True:
            try:
                data, peer = server.recvfrom(65536)
            except BlockingIOError:
                return
            seq, size = struct.unpack_from("!II", data)
            if peer != _from_a(client) or data != _payload(seed, seq, sizes[seq]):
                bad += 1
            got.append(seq)

    # Resolve ARP first, so that the hold queue does not drop the burst.
    net.a.arp_add(net.ia, ADDR_B, net.ib.mac)
    net.run()  # gratuitous ARPs out of the way
    lost0 = net.pipe.stats("a_to_b")["lost"]
    for seq in range(count):
        client.sendto(_payload(seed, seq, sizes[seq]), (ADDR_B, 5000))
        if seq % 16 == 15:
            net.run()
            drain()
    net.run()
    drain()
    return got, bad, net.pipe.stats("a_to_b")["lost"] - lost0


@pytest.mark.sim
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_thousand_datagrams_with_loss(seed: int) -> None:
    faults = Faults(loss=0.05, seed=seed)
    with PipeRig(seed=seed, a_to_b=faults, addresses=True) as net:
        got, bad, lost = _stream(net, seed, 1000, 1400)
        assert bad == 0, f"damaged datagrams (seed {seed})"
        assert len(set(got)) == len(got), f"duplicates (seed {seed})"
        assert len(got) == 1000 - lost, f"{len(got)} received, {lost} lost (seed {seed})"
        assert 20 <= lost <= 90, f"5% loss gave {lost} (seed {seed})"
        assert got == sorted(got), f"reordered without reordering faults (seed {seed})"
        assert net.b.netstat("udp")["udp"]["udps_delivered"] == len(got), f"seed {seed}"


@pytest.mark.sim
@pytest.mark.parametrize("seed", [4, 5])
def test_thousand_datagrams_delay_only_arrive_in_order(seed: int) -> None:
    faults = Faults(delay_ns=5_000_000, jitter_ns=2_000_000, seed=seed)
    with PipeRig(seed=seed, a_to_b=faults, addresses=True) as net:
        got, bad, _ = _stream(net, seed, 1000, 3000)  # some fragmented
        assert bad == 0, f"damaged datagrams (seed {seed})"
        assert got == list(range(1000)), f"lost or reordered (seed {seed})"


# --- the world: which stacks a blocking call polls ---------------------------------------


def test_stacks_on_one_pipe_share_a_world(net: PipeRig) -> None:
    assert net.a.world is net.b.world
    assert net.a.world.stacks == [net.a, net.b]
    assert net.a.world.clock is net.clock


def test_pipe_joins_worlds_on_the_real_clock() -> None:
    pipe = ustack.Pipe(seed=1)
    with ustack.Stack(seed=1) as a, ustack.Stack(seed=2) as b:
        assert a.world is not b.world
        a.add_interface(pipe.a, "pa0", ADDR_A + "/24")
        b.add_interface(pipe.b, "pb0", ADDR_B + "/24")
        assert a.world is b.world and a.world.stacks == [a, b]
        server = b.socket(ustack.AF_INET, ustack.SOCK_DGRAM)
        server.bind(("", 5000))
        server.settimeout(5.0)
        client = a.socket(ustack.AF_INET, ustack.SOCK_DGRAM)
        client.sendto(b"real time", (ADDR_B, 5000))
        assert server.recvfrom(100) == (b"real time", _from_a(client))
        server.settimeout(0.05)
        t0 = ustack.monotonic_ns()
        with pytest.raises(TimeoutError):
            server.recv(100)
        assert ustack.monotonic_ns() - t0 >= 50_000_000
    pipe.close()
