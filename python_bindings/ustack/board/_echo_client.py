"""A TCP or UDP echo client run by ustack.board.checks inside a board's namespace.

Standard library only (it runs as a script, outside the ustack package):

    python _echo_client.py tcp HOST PORT BYTES TIMEOUT
        sends BYTES random bytes while reading the echo concurrently (a
        thread sends, the main thread reads), then checks the echo is the
        same bytes in the same order.
    python _echo_client.py udp HOST PORT SIZE[,SIZE...] TIMEOUT
        one datagram of each size; each echo must be the datagram.

Prints one line of figures; exit status 0 when everything came back intact,
1 with the reason otherwise.
"""

from __future__ import annotations

import hashlib
import os
import socket
import sys
import threading
import time


def tcp(host: str, port: int, size: int, timeout: float) -> str:
    data = os.urandom(size)
    t0 = time.monotonic()
    sock = socket.create_connection((host, port), timeout=timeout)
    sent_error: list[BaseException] = []

    def sender() -> None:
        try:
            view = memoryview(data)
            for off in range(0, size, 16384):
                sock.sendall(view[off : off + 16384])
            sock.shutdown(socket.SHUT_WR)
        except OSError as exc:
            sent_error.append(exc)

    thread = threading.Thread(target=sender, daemon=True)
    thread.start()
    got = hashlib.sha256()
    received = 0
    first_bad = -1
    deadline = t0 + timeout
    while received < size:
        sock.settimeout(max(0.1, deadline - time.monotonic()))
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            raise SystemExit(
                f"tcp echo: {received} of {size} bytes back in {timeout:g} s"
            ) from None
        if not chunk:
            break
        if first_bad < 0 and chunk != data[received : received + len(chunk)]:
            first_bad = received + next(
                i for i, (a, b) in enumerate(zip(chunk, data[received:], strict=False)) if a != b
            )
        got.update(chunk)
        received += len(chunk)
    thread.join(timeout=max(0.1, deadline - time.monotonic()))
    sock.close()
    secs = time.monotonic() - t0
    if sent_error:
        raise SystemExit(f"tcp echo: sending failed: {sent_error[0]}")
    if received != size:
        raise SystemExit(f"tcp echo: {received} of {size} bytes came back (connection closed)")
    if first_bad >= 0 or got.digest() != hashlib.sha256(data).digest():
        raise SystemExit(f"tcp echo: the echo differs from what was sent at byte {first_bad}")
    return f"{size} bytes each way in {secs:.2f} s ({2 * size / secs / 1e6:.2f} MB/s both ways)"


def udp(host: str, port: int, sizes: list[int], timeout: float) -> str:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(timeout)
    sock.connect((host, port))
    t0 = time.monotonic()
    for size in sizes:
        payload = os.urandom(size)
        for attempt in range(3):  # UDP: the first may wait for ARP
            sock.send(payload)
            try:
                echo = sock.recv(65536)
            except TimeoutError:
                if attempt == 2:
                    raise SystemExit(f"udp echo: no answer to {size} bytes") from None
                continue
            if echo != payload:
                raise SystemExit(f"udp echo: {size} bytes sent, {len(echo)} different came back")
            break
    sock.close()
    return f"{len(sizes)} datagrams ({','.join(map(str, sizes))} bytes) echoed in " + (
        f"{time.monotonic() - t0:.2f} s"
    )


def main(argv: list[str]) -> int:
    mode, host, port, what, timeout = argv
    try:
        if mode == "tcp":
            print(tcp(host, int(port), int(what), float(timeout)))
        elif mode == "udp":
            print(udp(host, int(port), [int(s) for s in what.split(",")], float(timeout)))
        else:
            raise SystemExit(f"unknown mode {mode}")
    except OSError as exc:
        raise SystemExit(f"{mode} echo to {host}:{port}: {exc}") from None
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
