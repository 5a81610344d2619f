"""The skeleton driver through Python: the template's Python side works as a
driver's must (``ustack.Skeleton``, found in drivers/skeleton/ with no
registration elsewhere), with zero-copy receive and software offloads."""

from __future__ import annotations

import os

import ustack


def test_skeleton_tcp_lends_and_returns_buffers() -> None:
    caps = int(ustack.lib.UST_IFCAP_TXCSUM | ustack.lib.UST_IFCAP_TSO4)
    clock = ustack.VirtualClock()
    sk = ustack.Skeleton(caps=caps)
    a = ustack.Stack(clock=clock, seed=1)
    b = ustack.Stack(clock=clock, seed=2)
    a.add_interface(sk.a, "sk0", "198.18.0.1/24")
    end_b = sk.b
    b.add_interface(end_b, "sk1", "198.18.0.2/24")
    srv = b.socket(ustack.AF_INET, ustack.SOCK_STREAM)
    srv.bind(("", 9))
    srv.listen(1)
    cli = a.socket(ustack.AF_INET, ustack.SOCK_STREAM)
    cli.connect(("198.18.0.2", 9))
    conn, _ = srv.accept()
    data = os.urandom(60_000)  # within the receive buffer: sendall cannot block
    cli.sendall(data)
    cli.close()
    got = bytearray()
    while chunk := conn.recv(65536):
        got += chunk
    assert bytes(got) == data
    stats = end_b.stats
    assert stats["rx_lent"] > 0, stats
    conn.close()
    srv.close()
    ustack.run_until([a, b], a.now + 5_000_000_000)
    assert end_b.stats["lent_now"] == 0, end_b.stats
    a.close()
    b.close()
