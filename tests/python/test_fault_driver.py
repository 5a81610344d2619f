"""The fault driver (drivers/fault/, ``ustack.Fault``) wrapping other drivers:
seeded and deterministic on a pipe, and on a TAP to the real kernel (root, in a
namespace of its own).  Every assertion that involves randomness names its seed.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
from forgotten import assert_collected
from test_tap import ECHO

import ustack
from ustack import netns
from ustack.sim import Receiver, numbered_frame

FRAMES = 2000


def lossy(seed: int, loss: float = 0.2) -> tuple[list[int], dict[str, int], dict[str, int]]:
    """FRAMES numbered frames A -> B through a Fault on A's pipe end; returns
    (arrivals at B, the wrapper's tx stats, B's interface stats)."""
    clock = ustack.VirtualClock()
    pipe = ustack.Pipe(clock=clock, seed=1)
    fault = ustack.Fault(pipe.a, tx=ustack.Faults(loss=loss, seed=seed), clock=clock)
    a = ustack.Stack(clock=clock, seed=1)
    b = ustack.Stack(clock=clock, seed=2)
    ia = a.add_interface(fault, "fa0")
    ib = b.add_interface(pipe.b, "pb0")
    rx = Receiver(clock=lambda: b.now)
    ib.set_input_hook(rx)
    for i in range(FRAMES):
        ia.send_frame(numbered_frame(ib.mac_bytes, ia.mac_bytes, i))
        if i % 200 == 199:
            ustack.run_until([a, b])
    ustack.run_until([a, b])
    out = list(rx.arrivals), fault.stats("tx"), ib.stats
    a.close()
    b.close()
    pipe.close()
    return out


def test_fault_on_pipe_is_seeded() -> None:
    seed = 5
    arrivals, st, ibs = lossy(seed)
    assert st["frames"] == FRAMES, f"seed {seed}: {st}"
    assert st["lost"] + st["passed"] == FRAMES, f"seed {seed}: {st}"
    assert len(arrivals) == st["passed"] == ibs["ipackets"], f"seed {seed}: {st} {ibs}"
    assert arrivals == sorted(arrivals), f"seed {seed}: loss alone keeps order"
    sd = math.sqrt(FRAMES * 0.2 * 0.8)
    assert abs(st["lost"] - FRAMES * 0.2) <= 5 * sd, f"seed {seed}: {st['lost']} lost"
    again, st2, _ = lossy(seed)
    assert again == arrivals and st2 == st, f"seed {seed}: a rerun lost other frames"
    other, _, _ = lossy(seed + 1)
    assert other != arrivals, f"seeds {seed} and {seed + 1} lost the same frames"


def test_fault_tcp_intact_under_every_fault() -> None:
    seed = 11
    clock = ustack.VirtualClock()
    pipe = ustack.Pipe(clock=clock, seed=seed)
    faults = dict(loss=0.03, dup=0.03, reorder=0.03, corrupt=0.02, delay_ns=2_000_000)
    fa = ustack.Fault(pipe.a, clock=clock, seed=seed, **faults)
    a = ustack.Stack(clock=clock, seed=1)
    b = ustack.Stack(clock=clock, seed=2)
    a.add_interface(fa, "fa0", "198.18.0.1/24")
    b.add_interface(pipe.b, "pb0", "198.18.0.2/24")
    srv = b.socket(ustack.AF_INET, ustack.SOCK_STREAM)
    srv.bind(("", 9))
    srv.listen(1)
    cli = a.socket(ustack.AF_INET, ustack.SOCK_STREAM)
    cli.connect(("198.18.0.2", 9))
    conn, _ = srv.accept()
    data = os.urandom(600_000)
    cli.setblocking(False)
    conn.setblocking(False)
    got = bytearray()
    view = memoryview(data)
    for _ in range(100_000):
        if len(got) == len(data):
            break
        if view:
            try:
                view = view[cli.send(view[:16384]) :]
            except BlockingIOError:
                pass
        try:
            got += conn.recv(65536)
        except BlockingIOError:
            ustack.run_until([a, b], a.now + 10_000_000)
    assert bytes(got) == data, f"seed {seed}: {len(got)} of {len(data)} bytes, or damaged"
    for d in ("tx", "rx"):
        st = fa.stats(d)
        assert st["lost"] > 0 and st["corrupted"] > 0 and st["duplicated"] > 0, (seed, d, st)
    cli.close()
    conn.close()
    srv.close()
    a.close()
    b.close()
    pipe.close()


# test_tap.py's echo through the kernel, with the TAP wrapped by the fault
# driver (10% loss each way, seeded): every byte must still come back, and
# the wrapper must have lost frames.
TAP_FAULT = ECHO.replace(
    'ifc = st.add_interface(tap, "tap0", "198.18.0.1/24")',
    "fault = ustack.Fault(tap, loss=0.1, seed=3)\n"
    'ifc = st.add_interface(fault, "tap0", "198.18.0.1/24")',
).replace(
    'print("ECHO-OK"',
    'lost = fault.stats("tx")["lost"] + fault.stats("rx")["lost"]\n'
    'assert lost > 0, (fault.stats("tx"), fault.stats("rx"))\n'
    'print("FAULT-TAP-OK", lost)\n'
    'print("ECHO-OK"',
)
assert "ustack.Fault(tap" in TAP_FAULT and "FAULT-TAP-OK" in TAP_FAULT


@pytest.mark.skipif(
    netns.unavailable_reason() is not None and os.environ.get("USTACK_REQUIRE_ALL") != "1",
    reason=f"{netns.unavailable_reason()}",
)
def test_fault_wraps_tap_in_netns() -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "python_bindings")}
    with netns.NetNs("fault") as ns:
        proc = subprocess.run(
            ns.exec_argv(sys.executable, "-c", TAP_FAULT),
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )
    assert proc.returncode == 0 and "FAULT-TAP-OK" in proc.stdout, proc.stdout + proc.stderr


# A rig nobody closed is a garbage cycle (r.me = r): in a collection the
# stacks' finalizers and the drivers' destruction run in any order.  The
# wrapper once freed its C object through an ffi.gc destructor first, and a
# stack destroyed afterwards detached through freed memory (fw_detach:
# a segfault with MALLOC_PERTURB_, an invalid read under valgrind).
FORGOTTEN_FAULT_RIG = (
    "import gc\n"
    "import ustack\n"
    "class Rig: pass\n"
    "r = Rig(); r.me = r\n"
    "r.sk = ustack.Skeleton()\n"
    "r.fault = ustack.Fault(r.sk.a, loss=0.1, seed=1)\n"
    "r.a = ustack.Stack(seed=1); r.b = ustack.Stack(seed=2)\n"
    "r.ia = r.a.add_interface(r.fault, 'fa0', '198.18.0.1/24')\n"
    "r.ib = r.b.add_interface(r.sk.b, 'sk1', '198.18.0.2/24')\n"
    "{close}"
    "del r\n"
    "gc.collect()\n"
    "print('collected')\n"
)


@pytest.mark.parametrize("close_first", ["", "a", "fault", "sk"])
def test_forgotten_fault_rig_is_collected_without_a_crash(close_first: str) -> None:
    code = FORGOTTEN_FAULT_RIG.format(close=f"r.{close_first}.close()\n" if close_first else "")
    assert_collected(code)


def test_fault_close_detaches_and_frees() -> None:
    sk = ustack.Skeleton()
    fault = ustack.Fault(sk.a, loss=0.5, seed=3)
    a = ustack.Stack(seed=1)
    iface = a.add_interface(fault, "fa0", "198.18.0.1/24")
    assert fault.stats("tx")["frames"] == 0 and iface.attached
    fault.close()
    assert fault.closed and not iface.attached
    with pytest.raises(ValueError, match="closed"):
        fault.stats("tx")
    fault.close()  # idempotent
    a.close()
    sk.close()
