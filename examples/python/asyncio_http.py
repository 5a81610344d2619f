#!/usr/bin/env python3
"""An asyncio HTTP/1.1 server and client on two ustack stacks over a faulty pipe.

Stack A (198.18.0.1, the client) and stack B (198.18.0.2, the server) are
joined by an in-memory pipe that loses, delays and jitters frames with a
seeded PRNG, on a virtual clock: the whole exchange runs in simulated time
(``ustack.asyncio.run(..., clock=clock)``), so a lossy link with 20 ms of
delay costs milliseconds of wall time and a seed replays the same run.

The server (``ustack.asyncio.start_server``) speaks just enough HTTP/1.1:
persistent connections, ``Content-Length`` bodies in both directions,
``Connection: close``.  ``GET /bytes/N`` returns N bytes of a pattern;
``POST /echo`` returns the request body.  The client
(``ustack.asyncio.open_connection``) sends ``--requests`` requests over one
keep-alive connection, alternating the two, checks every byte and prints a
summary.  Exit status 0 when every response was intact.

    python examples/python/asyncio_http.py --loss 0.02 --delay 10ms --requests 20 --size 65536
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import random
import sys
import time

import ustack
import ustack.asyncio as uasyncio

SERVER = "198.18.0.2"
CLIENT = "198.18.0.1"
PORT = 80
_UNITS = {"ns": 1, "us": 1_000, "ms": 1_000_000, "s": 1_000_000_000}


def parse_duration(text: str) -> int:
    """``'5ms'``, ``'250us'``, ``'0.1s'`` or plain nanoseconds -> ns."""
    text = text.strip()
    for unit in ("ns", "us", "ms", "s"):
        if text.endswith(unit):
            return int(float(text[: -len(unit)]) * _UNITS[unit])
    return int(text)


def pattern(n: int) -> bytes:
    """The body of ``GET /bytes/n``: n bytes that show any misplaced byte."""
    block = bytes(range(251))  # a prime length: a shifted block does not line up
    return (block * (n // len(block) + 1))[:n]


async def read_message(reader: asyncio.StreamReader) -> tuple[str, dict[str, str], bytes] | None:
    """One HTTP/1.1 message: ``(start line, headers, body)``; None at EOF."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if not exc.partial:
            return None
        raise
    lines = head.decode("latin-1").split("\r\n")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return lines[0], headers, body


def message(start: str, headers: dict[str, str], body: bytes) -> bytes:
    """An HTTP/1.1 message with its Content-Length."""
    head = [start, *(f"{k}: {v}" for k, v in headers.items()), f"Content-Length: {len(body)}"]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """The server side of one connection: requests until the client closes."""
    try:
        while True:
            request = await read_message(reader)
            if request is None:
                break
            line, headers, body = request
            method, path, _ = line.split(" ", 2)
            status, payload = "200 OK", b""
            if method == "GET" and path.startswith("/bytes/"):
                payload = pattern(int(path.removeprefix("/bytes/")))
            elif method == "POST" and path == "/echo":
                payload = body
            else:
                status = "404 Not Found"
            close = headers.get("connection", "").lower() == "close"
            extra = {"Server": "ustack-asyncio", "Connection": "close" if close else "keep-alive"}
            writer.write(message(f"HTTP/1.1 {status}", extra, payload))
            await writer.drain()
            if close:
                break
    finally:
        writer.close()
        await writer.wait_closed()


async def client(stack: ustack.Stack, requests: int, size: int, seed: int) -> tuple[int, int]:
    """``requests`` requests on one keep-alive connection; returns (ok, bytes)."""
    rng = random.Random(seed)
    reader, writer = await uasyncio.open_connection(SERVER, PORT, stack=stack)
    ok = received = 0
    for i in range(requests):
        last = i == requests - 1
        headers = {"Host": SERVER, "Connection": "close" if last else "keep-alive"}
        if i % 2 == 0:
            want = pattern(size)
            writer.write(message(f"GET /bytes/{size} HTTP/1.1", headers, b""))
        else:
            want = rng.randbytes(size)
            writer.write(message("POST /echo HTTP/1.1", headers, want))
        await writer.drain()
        response = await read_message(reader)
        if response is None:
            raise ConnectionError(f"request {i}: the server closed the connection")
        line, _, body = response
        received += len(body)
        if line.startswith("HTTP/1.1 200") and body == want:
            ok += 1
        else:
            print(
                f"request {i}: {line!r}, body {hashlib.sha256(body).hexdigest()[:16]} "
                f"!= {hashlib.sha256(want).hexdigest()[:16]}",
                file=sys.stderr,
            )
    writer.close()
    await writer.wait_closed()
    return ok, received


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--loss", type=float, default=0.01, help="frame loss rate, each way")
    ap.add_argument("--delay", default="5ms", help="one-way delay (ns, us, ms, s; default 5ms)")
    ap.add_argument("--seed", type=int, default=1, help="seed of the stacks, pipe and bodies")
    ap.add_argument("--requests", type=int, default=10, help="requests on one connection")
    ap.add_argument("--size", type=int, default=32768, help="bytes of each body")
    args = ap.parse_args(argv)
    print(
        f"seed={args.seed} loss={args.loss} delay={args.delay} "
        f"requests={args.requests} size={args.size}"
    )

    delay = parse_duration(args.delay)
    clock = ustack.VirtualClock()
    faults = {"loss": args.loss, "delay_ns": delay, "jitter_ns": delay // 10}
    pipe = ustack.Pipe(
        clock=clock, seed=args.seed, a_to_b=ustack.Faults(**faults), b_to_a=ustack.Faults(**faults)
    )
    a = ustack.Stack(clock=clock, seed=args.seed)
    b = ustack.Stack(clock=clock, seed=args.seed + 1)
    a.add_interface(pipe.a, "pa0", f"{CLIENT}/24")
    b.add_interface(pipe.b, "pb0", f"{SERVER}/24")

    async def run() -> tuple[int, int]:
        server = await uasyncio.start_server(handle, SERVER, PORT, stack=b)
        async with server:
            return await client(a, args.requests, args.size, args.seed)

    wall = time.perf_counter()
    try:
        ok, received = uasyncio.run(run(), clock=clock)
    finally:
        wall = time.perf_counter() - wall
    lost = pipe.stats("a_to_b")["lost"] + pipe.stats("b_to_a")["lost"]
    rexmit = sum(st.netstat("tcp")["tcp"]["tcps_sndrexmitpack"] for st in (a, b))
    print(
        f"{ok}/{args.requests} responses intact, {received} body bytes, "
        f"{clock.now / 1e9:.3f} s virtual, {wall:.3f} s wall, "
        f"{lost} frames lost by the pipe, {rexmit} segments retransmitted"
    )
    a.close()
    b.close()
    pipe.close()
    return 0 if ok == args.requests else 1


if __name__ == "__main__":
    sys.exit(main())
