"""TCP Fast Open (RFC 7413) between two stacks over the pipe, and the
server-side packet scripts in tests/packetdrill/fastopen/ on the virtual
back end.

The first connection asks for a cookie; the second carries its data in the
SYN, which the server's application reads before the handshake's ACK
arrives; an invalid cookie falls back to the usual handshake; the pending
limit (half the backlog) sends further SYNs that way too.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import ustack
from ustack import Faults
from ustack.sim import ADDR_B, PipeRig

pytestmark = pytest.mark.sim

PORT = 7300
DELAY_NS = 10_000_000  # one way: the handshake's ACK comes 20 ms after the SYN
SCRIPTS = Path(__file__).resolve().parents[1] / "packetdrill" / "fastopen"

if not ustack.UST_HAS_TCP_TFO:
    pytest.skip("built without UST_TCP_TFO", allow_module_level=True)


def _rig(seed: int) -> PipeRig:
    faults = Faults(delay_ns=DELAY_NS)
    net = PipeRig(seed=seed, addresses=True, a_to_b=faults, b_to_a=faults)
    net.b.sysctl("net.inet.tcp.fastopen.server_enable", 1)
    net.a.sysctl("net.inet.tcp.fastopen.client_enable", 1)
    return net


def _listener(net: PipeRig, backlog: int = 8) -> ustack.Socket:
    srv = net.b.socket(ustack.AF_INET, ustack.SOCK_STREAM)
    srv.bind(("", PORT))
    srv.listen(backlog)
    srv.setsockopt(ustack.IPPROTO_TCP, ustack.TCP_FASTOPEN, 1)
    assert srv.getsockopt(ustack.IPPROTO_TCP, ustack.TCP_FASTOPEN) == 1
    srv.setblocking(False)
    return srv


def _client(net: PipeRig, data: bytes) -> ustack.Socket:
    cli = net.a.socket(ustack.AF_INET, ustack.SOCK_STREAM)
    cli.setsockopt(ustack.IPPROTO_TCP, ustack.TCP_FASTOPEN, 1)
    cli.setblocking(False)
    assert cli.sendto(data, (ADDR_B, PORT)) == len(data)
    return cli


def _accept(net: PipeRig, srv: ustack.Socket, seed: int) -> ustack.Socket:
    got: list[ustack.Socket] = []

    def ready() -> bool:
        try:
            got.append(srv.accept()[0])
        except BlockingIOError:
            return False
        return True

    assert net.run(ready, timeout_ns=2_000_000_000), f"seed {seed}: no connection"
    got[0].setblocking(False)
    return got[0]


def _read(net: PipeRig, conn: ustack.Socket, n: int, seed: int) -> bytes:
    buf = bytearray()

    def full() -> bool:
        try:
            buf.extend(conn.recv(n - len(buf)))
        except BlockingIOError:
            pass
        return len(buf) >= n

    assert net.run(full, timeout_ns=2_000_000_000), f"seed {seed}: {len(buf)} of {n} bytes"
    return bytes(buf)


def _state(s: ustack.Socket) -> int:
    return int(s.getsockopt(ustack.IPPROTO_TCP, ustack.TCP_INFO).tcpi_state)


@pytest.mark.parametrize("seed", [11, 12])
def test_second_connection_carries_data_in_the_syn(seed: int) -> None:
    with _rig(seed) as net:
        srv = _listener(net)
        # First connection: a cookie request; the data follow the handshake.
        cli = _client(net, b"first")
        conn = _accept(net, srv, seed)
        assert _read(net, conn, 5, seed) == b"first"
        a, b = net.a.netstat("tcp")["tcp"], net.b.netstat("tcp")["tcp"]
        assert a["tcps_tfo_cookie_req"] == 1 and a["tcps_tfo_cookie_rcvd"] == 1, f"seed {seed}"
        assert b["tcps_tfo_cookie_req_rcvd"] == 1 and b["tcps_tfo_cookie_sent"] == 1
        assert b["tcps_tfo_syn_data_rcvd"] == 0, f"seed {seed}"
        for s in (cli, conn):
            s.close()
        # Second: cookie and data in the SYN, delivered at once.
        t0 = net.a.now
        cli = _client(net, b"in the SYN")
        conn = _accept(net, srv, seed)
        assert net.b.now - t0 < 2 * DELAY_NS, f"seed {seed}: accepted after the handshake"
        assert _state(conn) == ustack.TCPS_SYN_RECEIVED, f"seed {seed}"
        assert conn.recv(100) == b"in the SYN", f"seed {seed}"
        b = net.b.netstat("tcp")["tcp"]
        assert b["tcps_tfo_conn_accepted"] == 1 and b["tcps_tfo_syn_data_rcvd"] == 1
        assert b["tcps_tfo_syn_data_bytes"] == len(b"in the SYN"), f"seed {seed}"
        # The handshake completes; the SYN's data were acknowledged.
        assert net.run(lambda: _state(conn) == ustack.TCPS_ESTABLISHED, timeout_ns=10**9)
        a = net.a.netstat("tcp")["tcp"]
        assert a["tcps_tfo_syn_data_acked"] == 1, f"seed {seed}: {a}"
        assert a["tcps_tfo_syn_data_rexmit"] == 0, f"seed {seed}"
        conn.send(b"reply")
        assert _read(net, cli, 5, seed) == b"reply"
        for s in (cli, conn, srv):
            s.close()


def test_invalid_cookie_falls_back() -> None:
    seed = 21
    with _rig(seed) as net:
        srv = _listener(net)
        cli = _client(net, b"x")
        conn = _accept(net, srv, seed)
        _read(net, conn, 1, seed)
        for s in (cli, conn):
            s.close()
        # A new server key: the cached cookie is no longer valid (two keys
        # are kept; two new ones push the old one out).
        net.b.sysctl("net.inet.tcp.fastopen.setkey", "00112233445566778899aabbccddeeff")
        net.b.sysctl("net.inet.tcp.fastopen.setkey", "ffeeddccbbaa99887766554433221100")
        cli = _client(net, b"retried")
        conn = _accept(net, srv, seed)
        assert _read(net, conn, 7, seed) == b"retried"
        a, b = net.a.netstat("tcp")["tcp"], net.b.netstat("tcp")["tcp"]
        assert b["tcps_tfo_cookie_invalid"] == 1 and b["tcps_tfo_conn_accepted"] == 0
        assert b["tcps_tfo_cookie_sent"] == 2, f"seed {seed}: a fresh cookie answers"
        assert a["tcps_tfo_syn_data_rexmit"] == 1 and a["tcps_tfo_cookie_rcvd"] == 2
        for s in (cli, conn, srv):
            s.close()


def test_pending_limit_refuses() -> None:
    seed = 31
    with _rig(seed) as net:
        srv = _listener(net, backlog=4)  # at most 4 / 2 + 1 = 3 TFO connections waiting
        cli = _client(net, b"c")
        conn = _accept(net, srv, seed)
        _read(net, conn, 1, seed)
        for s in (cli, conn):
            s.close()
        net.run(timeout_ns=100_000_000)
        clients = []
        for i in range(5):
            s = net.a.socket(ustack.AF_INET, ustack.SOCK_STREAM)
            s.setsockopt(ustack.IPPROTO_TCP, ustack.TCP_FASTOPEN, 1)
            s.setblocking(False)
            s.bind(("", 40000 + i))
            s.sendto(b"%d" % i, (ADDR_B, PORT))
            clients.append(s)
        # Half a round trip: the SYNs are there, no ACK yet.
        net.run(timeout_ns=DELAY_NS + DELAY_NS // 2)
        b = net.b.netstat("tcp")["tcp"]
        assert b["tcps_tfo_conn_accepted"] == 3, f"seed {seed}: {b}"
        assert b["tcps_tfo_pending_limit"] == 2, f"seed {seed}: {b}"
        # The refused ones complete the usual way; everyone's data arrive.
        got = set()
        for _ in range(5):
            c = _accept(net, srv, seed)
            got.add(_read(net, c, 1, seed))
            c.close()
        assert got == {b"0", b"1", b"2", b"3", b"4"}, f"seed {seed}"
        for s in [*clients, srv]:
            s.close()


def test_socket_option_rules() -> None:
    with PipeRig(seed=41, addresses=True) as net:
        s = net.b.socket(ustack.AF_INET, ustack.SOCK_STREAM)
        s.bind(("", PORT))
        s.listen(4)
        # server_enable defaults to 0 (FreeBSD): a listener may not.
        with pytest.raises(OSError):
            s.setsockopt(ustack.IPPROTO_TCP, ustack.TCP_FASTOPEN, 1)
        assert s.getsockopt(ustack.IPPROTO_TCP, ustack.TCP_FASTOPEN) == 0
        net.b.sysctl("net.inet.tcp.fastopen.server_enable", 1)
        s.setsockopt(ustack.IPPROTO_TCP, ustack.TCP_FASTOPEN, 1)
        assert net.b.sysctl("net.inet.tcp.fastopen.numkeys") == 1  # autokey made one
        with pytest.raises(OSError):
            net.b.sysctl("net.inet.tcp.fastopen.setkey", "not hex")
        # Without TCP_FASTOPEN, sendto() on an unconnected TCP socket is ENOTCONN.
        c = net.a.socket(ustack.AF_INET, ustack.SOCK_STREAM)
        with pytest.raises(OSError):
            c.sendto(b"x", (ADDR_B, PORT))
        s.close()
        c.close()


@pytest.mark.parametrize("script", sorted(SCRIPTS.glob("*.pkt")), ids=lambda p: p.name)
def test_server_scripts(script: Path) -> None:
    from ustack.packetdrill.suite import run_script

    result = run_script(script)
    detail = f"{result.reason} {result.expected} {result.actual}"
    assert result.status == "pass", f"{script.name}: {detail}"


@pytest.mark.skipif(not ustack.UST_HAS_INET6, reason="built without UST_INET6")
def test_ipv6_cookie_then_syn_data() -> None:
    seed = 51
    faults = Faults(delay_ns=DELAY_NS)
    with PipeRig(seed=seed, addresses6=True, a_to_b=faults, b_to_a=faults) as net:
        net.b.sysctl("net.inet.tcp.fastopen.server_enable", 1)
        srv = net.b.socket(ustack.AF_INET6, ustack.SOCK_STREAM)
        srv.bind(("", PORT))
        srv.listen(8)
        srv.setsockopt(ustack.IPPROTO_TCP, ustack.TCP_FASTOPEN, 1)
        srv.setblocking(False)
        for n, data in enumerate((b"request", b"in the SYN")):
            cli = net.a.socket(ustack.AF_INET6, ustack.SOCK_STREAM)
            cli.setsockopt(ustack.IPPROTO_TCP, ustack.TCP_FASTOPEN, 1)
            cli.setblocking(False)
            assert cli.sendto(data, ("2001:2::2", PORT)) == len(data)
            conn = _accept(net, srv, seed)
            if n == 1:
                assert _state(conn) == ustack.TCPS_SYN_RECEIVED, f"seed {seed}"
            assert _read(net, conn, len(data), seed) == data, f"seed {seed}"
            for s in (cli, conn):
                s.close()
        b = net.b.netstat("tcp")["tcp"]
        assert b["tcps_tfo_cookie_sent"] == 1 and b["tcps_tfo_syn_data_rcvd"] == 1, f"seed {seed}"
        srv.close()
