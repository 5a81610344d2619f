"""The skeleton driver through Python: the template's Python side works as a
driver's must (``ustack.Skeleton``, found in drivers/skeleton/ with no
registration elsewhere), with zero-copy receive and software offloads."""

from __future__ import annotations

import os

import pytest
from forgotten import assert_collected

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


def test_forgotten_skeleton_rig_is_collected_without_a_crash() -> None:
    """A rig nobody closed is a garbage cycle: the stacks' finalizers and the
    skeleton's destruction run in any order (the skeleton once freed its C
    object through an ffi.gc destructor, before the stacks that used it
    were destroyed).  Traffic leaves lent buffers in the stacks."""
    code = (
        "import gc\n"
        "import ustack\n"
        "class Rig: pass\n"
        "r = Rig(); r.me = r\n"
        "r.clock = ustack.VirtualClock()\n"
        "r.sk = ustack.Skeleton()\n"
        "r.a = ustack.Stack(clock=r.clock, seed=1); r.b = ustack.Stack(clock=r.clock, seed=2)\n"
        "r.a.add_interface(r.sk.a, 'sk0', '198.18.0.1/24')\n"
        "r.b.add_interface(r.sk.b, 'sk1', '198.18.0.2/24')\n"
        "l = r.b.create_server(('198.18.0.2', 9))\n"
        "c = r.a.socket(); c.connect(('198.18.0.2', 9)); s, _ = l.accept()\n"
        "c.sendall(b'x' * 20000)\n"
        "r.socks = [l, c, s]; del l, c, s\n"
        "del r\n"
        "gc.collect()\n"
        "print('collected')\n"
    )
    assert_collected(code)


def test_skeleton_close_detaches_and_frees() -> None:
    sk = ustack.Skeleton()
    a = ustack.Stack(seed=1)
    iface = a.add_interface(sk.a, "sk0", "198.18.0.1/24")
    assert iface.attached and sk.a.stats["tx_frames"] == 0
    sk.close()
    assert not iface.attached
    with pytest.raises(ValueError, match="closed"):
        sk.a.stats  # noqa: B018 - the property reads the closed driver
    sk.close()  # idempotent
    a.close()
