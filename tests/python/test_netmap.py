"""ustack.netmap over the user-space netmap emulator, in this process.

Two stacks on the two ends of an emulated netmap pipe (``netmap:X{N`` /
``netmap:X}N``; ``ustack.netmap.Emulator`` loads tests/netmap_emu's shared
library with cffi, strict mode on), moving TCP data both ways byte-exact
under each of the emulator's adversarial knobs, with zero-copy receive
(buffers lent and every one back), NS_MOREFRAG chains both ways, several
ring pairs on one port, a port closed while the stack still holds its
buffers, and bad port names.  Every case ends with no strict-mode
violation, which includes extra buffers not handed back at close.

Skipped with the reason when ustack was built without the driver or the
emulator library is not built; USTACK_REQUIRE_ALL=1 (CI) makes that a
failure.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

import ustack
from ustack import netmap

REQUIRE_ALL = os.environ.get("USTACK_REQUIRE_ALL") == "1"


REASON = netmap.emulator_unavailable_reason()
if REASON is not None:
    if REQUIRE_ALL:
        pytest.fail(f"USTACK_REQUIRE_ALL=1: {REASON}", pytrace=False)
    pytest.skip(REASON, allow_module_level=True)

KNOBS: dict[str, dict[str, int]] = {
    "defaults": {},
    "permute": {"permute_bufs": 1, "swap_rx": 1, "num_slots": 97},
    "lazy": {"lazy_tx": 3, "partial_tx": 1},
    "frag": {"buf_size": 512, "frag_size": 200},
    "paranoid": {"paranoid": 1, "permute_bufs": 1},
}


@pytest.fixture
def emu(request: pytest.FixtureRequest) -> Iterator[netmap.Emulator]:
    knobs = getattr(request, "param", {})
    e = netmap.Emulator(strict=1, **knobs)
    yield e
    n, msg = e.violations()
    assert n == 0, f"{n} strict-mode violations, last: {msg}"
    e.close()


def _pair(emu: netmap.Emulator, name: str = "t", **kw: Any) -> tuple[netmap.Port, netmap.Port]:
    a = netmap.Port(f"netmap:{name}{{0", sys=emu.sys, zero_copy=False, **kw)
    b = netmap.Port(f"netmap:{name}}}0", sys=emu.sys, **kw)
    return a, b


def _stacks(
    a: netmap.Port, b: netmap.Port, ring: int = 0, net: int = 0
) -> tuple[ustack.Stack, ustack.Stack, ustack.VirtualClock]:
    clock = ustack.VirtualClock()
    sa = ustack.Stack(clock=clock, seed=1)
    sb = ustack.Stack(clock=clock, seed=2)
    sa.add_interface(a.queue(ring), "nm0", f"198.18.{net}.1/24")
    sb.add_interface(b.queue(ring), "nm0", f"198.18.{net}.2/24")
    return sa, sb, clock


def _close(*objs: Any) -> None:
    """Closes sockets, then stacks, then ports, in the order given."""
    for o in objs:
        o.close()


def _tcp_both_ways(sa: ustack.Stack, sb: ustack.Stack, ip: str, nbytes: int) -> None:
    srv = sb.socket(ustack.AF_INET, ustack.SOCK_STREAM)
    srv.bind(("", 9))
    srv.listen(1)
    cli = sa.socket(ustack.AF_INET, ustack.SOCK_STREAM)
    cli.connect((ip, 9))
    conn, _ = srv.accept()
    data = os.urandom(nbytes)
    for tx, rx in ((cli, conn), (conn, cli)):
        tx.setblocking(False)
        rx.setblocking(False)
        sent, got = 0, bytearray()
        for _ in range(200_000):
            if len(got) >= nbytes:
                break
            if sent < nbytes:
                try:
                    sent += tx.send(data[sent : sent + 65536])
                except BlockingIOError:
                    pass
            if sa.poll() + sb.poll() == 0:
                ustack.run_until([sa, sb], sa.now + 1_000_000)
            try:
                while chunk := rx.recv(65536):
                    got += chunk
            except BlockingIOError:
                pass
        assert bytes(got) == data
    _close(cli, conn, srv)
    ustack.run_until([sa, sb], sa.now + 5_000_000_000)


@pytest.mark.parametrize("knob", list(KNOBS))
def test_tcp_both_ways_over_an_emulated_pipe(knob: str) -> None:
    emu = netmap.Emulator(strict=1, **KNOBS[knob])
    a, b = _pair(emu)
    assert a.rings == b.rings == 1
    sa, sb, _ = _stacks(a, b)
    _tcp_both_ways(sa, sb, "198.18.0.2", 1_000_000)
    st_a, st_b = a.stats(), b.stats()
    # a copies what it receives, b lends; every lent buffer is back.
    assert st_a["rx_lent"] == 0 and st_a["rx_copied"] > 0, st_a
    assert st_b["rx_lent"] > 0 and st_b["lent_now"] == 0, st_b
    assert st_a["tx_frames"] >= st_b["rx_frames"] > 700, (st_a, st_b)
    assert st_a["txsync"] > 0 and st_b["rxsync"] > 0
    if "frag_size" in KNOBS[knob]:
        # Full-size frames leave as NS_MOREFRAG chains of 512-byte
        # buffers and arrive split at 200 bytes.
        assert st_a["tx_frags"] > 0 and st_b["rx_frags"] > 0, (st_a, st_b)
    _close(sa, sb, a, b)
    n, msg = emu.violations()
    assert n == 0, f"{n} strict-mode violations, last: {msg}"
    emu.close()


@pytest.mark.parametrize("emu", [{"buf_size": 512}], ids=["512B-buffers"], indirect=True)
def test_morefrag_chains_both_ways_at_mtu_9000(emu: netmap.Emulator) -> None:
    a, b = _pair(emu, mtu=9000)
    sa, sb, _ = _stacks(a, b)
    _tcp_both_ways(sa, sb, "198.18.0.2", 300_000)
    st_a, st_b = a.stats(), b.stats()
    # A 9018-byte frame is 18 slots of 512 bytes.
    assert st_a["tx_frags"] > 0 and st_b["tx_frags"] > 0, (st_a, st_b)
    assert st_a["rx_frags"] > 0 and st_b["rx_frags"] > 0, (st_a, st_b)
    assert st_a["rx_dropped"] == st_b["rx_dropped"] == 0
    _close(sa, sb, a, b)


@pytest.mark.parametrize("emu", [{"pipe_rings": 2}], ids=["2-ring-pairs"], indirect=True)
def test_two_ring_pairs_are_two_interfaces(emu: netmap.Emulator) -> None:
    a, b = _pair(emu)
    assert a.rings == b.rings == 2
    clock = ustack.VirtualClock()
    sa = ustack.Stack(clock=clock, seed=1)
    sb = ustack.Stack(clock=clock, seed=2)
    for ring in range(2):
        sa.add_interface(a.queue(ring), f"nm{ring}", f"198.18.{ring}.1/24")
        sb.add_interface(b.queue(ring), f"nm{ring}", f"198.18.{ring}.2/24")
    before = b.stats()["rx_frames"]
    _tcp_both_ways(sa, sb, "198.18.1.2", 100_000)
    _tcp_both_ways(sa, sb, "198.18.0.2", 100_000)
    assert b.stats()["rx_frames"] > before
    with pytest.raises(OSError):  # a ring pair is one interface only
        sa.add_interface(a.queue(0), "again", "198.18.2.1/24")
    _close(sa, sb, a, b)


@pytest.mark.parametrize("emu", [{}], ids=["defaults"], indirect=True)
def test_close_while_buffers_are_lent(emu: netmap.Emulator) -> None:
    """Data sits in the receive buffer in lent netmap buffers when the port
    closes: the mapping stays until the stack lets go, and the bytes read
    afterwards are intact."""
    a, b = _pair(emu)
    sa, sb, _ = _stacks(a, b)
    srv = sb.socket(ustack.AF_INET, ustack.SOCK_STREAM)
    srv.bind(("", 9))
    srv.listen(1)
    cli = sa.socket(ustack.AF_INET, ustack.SOCK_STREAM)
    cli.connect(("198.18.0.2", 9))
    conn, _ = srv.accept()
    data = os.urandom(40_000)
    cli.sendall(data)
    ustack.run_until([sa, sb], sa.now + 100_000_000)
    lent = b.stats()["lent_now"]
    assert lent > 0, b.stats()
    b.close()  # detaches sb's interface; its socket still holds the buffers
    got = bytearray()
    conn.setblocking(False)
    try:
        while chunk := conn.recv(65536):
            got += chunk
    except BlockingIOError:
        pass
    assert bytes(got) == data
    _close(cli, conn, srv, sa, sb, a)


@pytest.mark.parametrize("name", ["em0", "netmap:", "vale0", "netmap:x-", "netmap:" + "x" * 80])
def test_bad_port_names_are_refused(name: str) -> None:
    with pytest.raises(OSError):
        # tap_create 0: a name that slipped through must not make a TAP here.
        netmap.Port(name, sys=netmap.Emulator(tap_create=0).sys)


def test_emulated_port_is_readable_when_frames_wait() -> None:
    import select

    emu = netmap.Emulator(strict=1)
    a, b = _pair(emu)
    sa, sb, _ = _stacks(a, b)
    assert select.select([b.fileno()], [], [], 0)[0] == []
    s = sa.socket(ustack.AF_INET, ustack.SOCK_DGRAM)
    s.sendto(b"x" * 100, ("198.18.0.2", 9))
    sa.poll()
    ready: Any = select.select([b.fileno()], [], [], 1)[0]
    assert ready == [b.fileno()]
    _close(s, sa, sb, a, b)
    assert emu.violations()[0] == 0
    emu.close()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--driver", "tap", "--netmap-port", "netmap:em0"], "--netmap-port needs --driver netmap"),
        (["--driver", "netmap", "--tap", "t0"], "--tap is the TAP driver's"),
    ],
)
def test_cli_refuses_netmap_options_that_do_not_go_together(argv: list[str], message: str) -> None:
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "ustack", "serve", *argv, "--echo", "7"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode != 0 and message in proc.stderr, proc.stderr


def test_a_real_port_without_netmap_says_why() -> None:
    if os.path.exists("/dev/netmap"):
        pytest.skip("this host has netmap")
    with pytest.raises(OSError, match="no /dev/netmap"):
        netmap.Port("netmap:eth0")


def test_the_emulator_cdef_matches_its_header() -> None:
    """ustack.netmap.Emulator declares nm_emu.h's config struct and calls to
    cffi by hand (ABI mode): a field added, moved or retyped in the header
    must fail here, not corrupt memory."""
    import re
    from pathlib import Path

    header = (Path(__file__).resolve().parents[2] / "tests/netmap_emu/nm_emu.h").read_text()

    def decls(text: str, struct: str) -> list[str]:
        text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
        body = re.search(rf"struct {struct} \{{(.*?)\}};", text, re.S)
        assert body is not None, struct
        return [" ".join(d.split()) for d in body.group(1).split(";") if d.strip()]

    fields = decls(header, "nm_emu_config")
    assert decls(netmap._EMU_CDEF, "nm_emu_config") == fields and len(fields) > 10
    fns = re.findall(r"^\s*(\w[^;(]*\bnm_emu_\w+\([^)]*\));", netmap._EMU_CDEF, re.M)
    assert len(fns) == 6, fns
    for fn in fns:
        assert " ".join(fn.split()) in " ".join(header.split()), fn
