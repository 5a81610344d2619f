"""A VirtualClock in a garbage cycle with the stacks that use it.

Inside a collection the finalizers of a cycle run in any order.  The
clock's C object was freed by an ffi.gc destructor, which could run before
a stack's finalizer; destroying the stack then closed its TCP connections,
which read the time from the freed clock (vclock_now from tcp_output: an
invalid read under valgrind, garbage timestamps otherwise).  Now the clock
is freed by its __del__, after the collection when it dies inside one."""

from __future__ import annotations

import gc
import shutil

import pytest
from forgotten import assert_collected

import ustack
from ustack import clock as clock_mod

FORGOTTEN_RIG = (
    "import gc\n"
    "import ustack\n"
    "class Rig: pass\n"
    "r = Rig(); r.me = r\n"
    "r.clock = ustack.VirtualClock()\n"
    "r.pipe = ustack.Pipe(clock=r.clock, seed=1)\n"
    "r.a = ustack.Stack(clock=r.clock, seed=1); r.b = ustack.Stack(clock=r.clock, seed=2)\n"
    "r.a.add_interface(r.pipe.a, 'pa0', '198.18.0.1/24')\n"
    "r.b.add_interface(r.pipe.b, 'pb0', '198.18.0.2/24')\n"
    "l = r.b.create_server(('198.18.0.2', 80))\n"
    "c = r.a.socket(); c.connect(('198.18.0.2', 80)); s, _ = l.accept()\n"
    "c.send(b'x' * 5000)\n"
    "r.socks = [l, c, s]; del l, c, s\n"
    "del r\n"
    "gc.collect()\n"
    "print('collected')\n"
)


def test_forgotten_rig_with_a_clock_is_collected() -> None:
    assert_collected(FORGOTTEN_RIG)


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed")
def test_forgotten_rig_reads_no_freed_clock_under_valgrind() -> None:
    res = assert_collected(FORGOTTEN_RIG, valgrind=True)
    # Python itself draws "uninitialised value" reports; a use after free
    # is an invalid read or write.
    assert "Invalid read" not in res.stderr and "Invalid write" not in res.stderr, res.stderr


def test_a_clock_dying_in_a_collection_is_freed_after_it() -> None:
    class Holder:
        pass

    h = Holder()
    h.me = h  # type: ignore[attr-defined]
    h.clock = ustack.VirtualClock(5)  # type: ignore[attr-defined]
    freed: list[int] = []

    def probe(phase: str, info: dict[str, int]) -> None:
        if phase == "stop":
            freed.append(len(clock_mod._DOOMED))

    del h
    gc.callbacks.insert(0, probe)  # runs before the clock module's callback
    try:
        gc.collect()
    finally:
        gc.callbacks.remove(probe)
    assert freed and freed[0] >= 1, "the clock was not kept until the collection ended"
    assert not clock_mod._DOOMED, "the collection's end did not free it"
    c = ustack.VirtualClock(7)
    assert c.now == 7
    del c  # outside a collection: freed at once
    assert not clock_mod._DOOMED
