"""ustack.asyncio on the real clock against the Linux kernel: ustack on a TAP
device (198.18.0.1) facing the kernel (198.18.0.2) in a network namespace the
test makes and removes.

One :class:`ustack.asyncio.EventLoop` runs both ends: the kernel's side with
asyncio's own host sockets (``asyncio.start_server`` /
``asyncio.open_connection``), ustack's with ``ustack.asyncio``, so its
selector watches host sockets, the TAP device and ustack sockets at once.
1 MB each way through an echo server, both directions of who serves; bytes
intact, and the connection's TCP state checked on the ustack side.

The test runs this file as a script inside the namespace.  Root only:
skipped with the reason otherwise, failed instead under USTACK_REQUIRE_ALL=1.
"""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import sys
import time
from pathlib import Path

from live_cli import ENV, interop_marks

from ustack import netns

ME = "198.18.0.1"
PEER = "198.18.0.2"
PORT = 7500
SIZE = 1 << 20

pytestmark = interop_marks(netns.unavailable_reason())


def _inside(scenario: str) -> str:
    with netns.NetNs("aio") as ns:
        proc = subprocess.run(
            ns.exec_argv(sys.executable, str(Path(__file__).resolve()), scenario),
            capture_output=True,
            text=True,
            env=ENV,
            timeout=120,
            check=False,
        )
    assert proc.returncode == 0, f"--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr[-4000:]}"
    print(proc.stdout)
    return proc.stdout


def test_ustack_client_linux_server() -> None:
    assert "OK ustack->linux" in _inside("client")


def test_linux_client_ustack_server() -> None:
    assert "OK linux->ustack" in _inside("server")


def test_no_namespace_left_behind() -> None:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert f"ustack-aio-{os.getpid()}-" not in out, out
    assert not netns.leaked(), netns.leaked()


# --------------------------------------------------------------------------
# The script side, inside the namespace.


async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while data := await reader.read(65536):
        writer.write(data)
        await writer.drain()
    writer.close()


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bytes:
    payload = random.Random(21).randbytes(SIZE)

    async def send() -> None:
        writer.write(payload)
        await writer.drain()
        writer.write_eof()

    sender = asyncio.create_task(send())
    back = await asyncio.wait_for(reader.read(), 30.0)
    await sender
    writer.close()
    await writer.wait_closed()
    assert back == payload, f"{len(back)} bytes back of {len(payload)}"
    return back


def main(scenario: str) -> int:
    import ustack
    import ustack.asyncio as uasyncio
    from ustack.hostlink import HostLink

    with HostLink() as link:

        async def client() -> None:  # ustack connects to the kernel's server
            server = await asyncio.start_server(_echo, PEER, PORT)
            async with server:
                reader, writer = await uasyncio.open_connection(PEER, PORT, stack=link.stack)
                sock = writer.get_extra_info("socket")
                info = sock.getsockopt(ustack.IPPROTO_TCP, ustack.TCP_INFO)
                assert info.state_name == "ESTABLISHED", info.state_name
                await _exchange(reader, writer)
            print("OK ustack->linux")

        async def serve() -> None:  # the kernel connects to ustack's server
            server = await uasyncio.start_server(_echo, ME, PORT, stack=link.stack)
            async with server:
                reader, writer = await asyncio.open_connection(ME, PORT)
                await _exchange(reader, writer)
                states = [c.state_name for c in link.stack.tcp_connections()]
                assert "LISTEN" in states, states
            print("OK linux->ustack")

        t0 = time.perf_counter()
        uasyncio.run(client() if scenario == "client" else serve())
        print(f"{2 * SIZE} bytes in {time.perf_counter() - t0:.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
