"""A bulk transfer between two connected stream sockets on a PipeRig, shared
by the TCP test modules (imported from the test directory)."""

from __future__ import annotations

from collections.abc import Callable

from ustack import Socket
from ustack.sim import PipeRig


def transfer(
    net: PipeRig,
    cli: Socket,
    conn: Socket,
    data: bytes,
    what: str,
    *,
    step_ns: int = 10_000_000,
    on_idle: Callable[[], None] | None = None,
) -> bytearray:
    """Sends ``data`` from ``cli`` and reads it on ``conn`` (both made
    non-blocking), running the rig ``step_ns`` at a time whenever nothing
    is ready and calling ``on_idle`` then; fails naming ``what`` if no
    progress is made for 600 s of virtual time."""
    cli.setblocking(False)
    conn.setblocking(False)
    got = bytearray()
    view = memoryview(data)
    deadline = net.a.now + 600 * 1_000_000_000
    while len(got) < len(data):
        assert net.a.now < deadline, f"{what}: stalled at {len(got)} bytes"
        if view:
            try:
                view = view[cli.send(view[:16384]) :]
            except BlockingIOError:
                pass
        try:
            got += conn.recv(65536)
        except BlockingIOError:
            net.run(net.a.now + step_ns)
            if on_idle is not None:
                on_idle()
    return got
