"""Hostile clients of a board's HTTP and echo services, run by
ustack.board.checks.hostile inside the board's namespace.

Standard library only (it runs as a script, outside the ustack package):

    python _hostile_client.py HOST HTTP_PORT ECHO_PORT HEAD_TIMEOUT

In order: garbage instead of a request (400, closed); a request head over
the firmware's 512 bytes (431, closed); /bytes/N with N far over the limit
(404, the connection stays usable); 64 pipelined requests sent before any
answer is read (64 answers in order); 9 persistent connections left idle
after one answer each, more than mps2's 8 HTTP slots (each served at once,
the first closed to make room); then a flood of connections beyond
the slots, to both ports, the HTTP ones sending half a request and
stopping (slowloris): the firmware must close at least one of them within
HEAD_TIMEOUT plus a margin (fw.h FW_HTTP_HEAD_S) (those beyond the listen
queue may be refused instead), and once the flood is gone a plain GET and
an echo must be served again.

Prints one line of figures; exit status 0 when the board behaved, 1 with
the reason otherwise.
"""

from __future__ import annotations

import select
import socket
import sys
import time

FLOOD = 12  # connections to each port, beyond lm3s6965evb's slots
PIPELINED = 64
PARTIAL = b"GET /bytes/1 HTTP/1.1\r\nHost: board\r\n"  # no empty line: never ends


def pattern(off: int, n: int) -> bytes:
    """ustack.pattern's bytes (byte i is (i ^ i >> 8 ^ i >> 16) & 0xff)."""
    return bytes((i ^ i >> 8 ^ i >> 16) & 0xFF for i in range(off, off + n))


def read_all(sock: socket.socket, timeout: float) -> bytes:
    """Everything until the board closes (EOF or reset) or ``timeout``."""
    sock.settimeout(timeout)
    out = b""
    try:
        while chunk := sock.recv(65536):
            out += chunk
    except ConnectionResetError:
        pass
    except TimeoutError:
        raise SystemExit(f"no close after {len(out)} bytes: {out[:80]!r}") from None
    return out


class Responses:
    """HTTP/1.1 responses off one connection, one at a time."""

    def __init__(self, sock: socket.socket, timeout: float) -> None:
        self.sock = sock
        self.buf = b""
        sock.settimeout(timeout)

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise SystemExit(f"connection closed with {self.buf[:80]!r} pending")
        self.buf += chunk

    def next(self) -> tuple[int, bytes]:
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        while len(self.buf) < length:
            self._fill()
        body, self.buf = self.buf[:length], self.buf[length:]
        return status, body


def expect_status(host: str, port: int, request: bytes, status: int) -> None:
    """One request; the answer must have ``status`` and the board must then close."""
    with socket.create_connection((host, port), timeout=5) as sock:
        sock.sendall(request)
        got = read_all(sock, 5)
    if not got.startswith(f"HTTP/1.1 {status} ".encode()):
        raise SystemExit(f"{request[:40]!r}...: answered {got[:60]!r}, expected {status}")


def huge_then_keepalive(host: str, port: int) -> None:
    with socket.create_connection((host, port), timeout=5) as sock:
        answers = Responses(sock, 5)
        sock.sendall(b"GET /bytes/" + b"9" * 40 + b" HTTP/1.1\r\n\r\n")
        status, _ = answers.next()
        if status != 404:
            raise SystemExit(f"GET /bytes/9...9: {status}, expected 404")
        sock.sendall(b"GET /bytes/300 HTTP/1.1\r\n\r\n")
        status, body = answers.next()
        if status != 200 or body != pattern(0, 300):
            raise SystemExit(f"GET /bytes/300 after a 404 on the same connection: {status}")


def pipelined(host: str, port: int) -> None:
    with socket.create_connection((host, port), timeout=5) as sock:
        answers = Responses(sock, 10)
        sock.sendall(
            b"".join(b"GET /bytes/%d HTTP/1.1\r\n\r\n" % (i + 1) for i in range(PIPELINED))
        )
        for i in range(PIPELINED):
            status, body = answers.next()
            if status != 200 or body != pattern(0, i + 1):
                raise SystemExit(f"pipelined answer {i}: {status}, {len(body)} bytes")


def idle_keepalive(host: str, port: int, count: int = 9) -> str:
    """Persistent connections left idle after one answer each, more than
    the slots: each new one must be served at once (it takes the slot of
    the longest-idle one, RFC 9112 9.6), and the first must be closed."""
    socks: list[socket.socket] = []
    try:
        t0 = time.monotonic()
        for _ in range(count):
            sock = socket.create_connection((host, port), timeout=3)
            socks.append(sock)
            sock.sendall(b"GET /bytes/10 HTTP/1.1\r\n\r\n")
            status, body = Responses(sock, 3).next()
            if status != 200 or body != pattern(0, 10):
                raise SystemExit(f"keep-alive GET {len(socks)}: {status}")
        secs = time.monotonic() - t0
        first = read_all(socks[0], 3)
        if first:
            raise SystemExit(f"the longest-idle connection got {first[:40]!r}, not a close")
    finally:
        for sock in socks:
            sock.close()
    return f"{count} idle keep-alive connections served in {secs:.2f} s"


def flood(host: str, http_port: int, echo_port: int, head_timeout: float) -> str:
    """Half-open HTTP requests and idle echo connections beyond the slots."""
    socks: list[tuple[socket.socket, int]] = []
    try:
        for port in (http_port,) * FLOOD + (echo_port,) * FLOOD:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            s.connect_ex((host, port))
            socks.append((s, port))
        t0 = time.monotonic()
        pending = [s for s, _ in socks]
        while pending and time.monotonic() < t0 + 3:
            _, writable, _ = select.select([], pending, [], 0.2)
            pending = [s for s in pending if s not in writable]
        connected = [
            (s, p)
            for s, p in socks
            if s not in pending and s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0
        ]
        for s, p in connected:
            if p == http_port:
                try:
                    s.send(PARTIAL)
                except OSError:
                    pass
        # The firmware must end a half-sent request once its head time is
        # up.  Connections beyond the slots and the listen queue may have
        # been refused (reset) instead: dropped, not served, which is fine.
        open_http = [s for s, p in connected if p == http_port]
        if not open_http:
            return f"flood: {len(connected)} of {len(socks)} connected, none to HTTP"
        closed_by_board = 0
        deadline = t0 + head_timeout + 5
        while open_http and closed_by_board == 0 and time.monotonic() < deadline:
            readable, _, _ = select.select(open_http, [], [], 0.5)
            for s in readable:
                try:
                    data = s.recv(4096)
                except OSError:
                    data = b""
                if not data:
                    closed_by_board += 1
                    open_http.remove(s)
        if closed_by_board == 0:
            raise SystemExit(
                f"{len(connected)} flood connections up; no half-open request closed "
                f"by the board in {head_timeout + 5:g} s"
            )
        return (
            f"flood: {len(connected)} of {len(socks)} connected, a half-open request "
            f"closed after {time.monotonic() - t0:.1f} s"
        )
    finally:
        for s, _ in socks:
            s.close()


def _get(host: str, port: int) -> bool:
    with socket.create_connection((host, port), timeout=3) as sock:
        sock.sendall(b"GET /bytes/2000 HTTP/1.1\r\nConnection: close\r\n\r\n")
        status, body = Responses(sock, 5).next()
    return status == 200 and body == pattern(0, 2000)


def _echo(host: str, port: int) -> bool:
    with socket.create_connection((host, port), timeout=3) as sock:
        sock.settimeout(3)
        sock.sendall(b"after the flood")
        return sock.recv(100) == b"after the flood"


def served_after(host: str, http_port: int, echo_port: int, timeout: float) -> float:
    """Seconds until a plain GET and an echo are served again after the flood."""
    t0 = time.monotonic()
    why = ""
    while True:
        try:
            why = "GET"
            if _get(host, http_port):
                why = "echo"
                if _echo(host, echo_port):
                    return time.monotonic() - t0
            why += ": wrong answer"
        except (OSError, SystemExit) as exc:
            why += f": {exc}"
        if time.monotonic() - t0 > timeout:
            raise SystemExit(f"no GET and echo served in {timeout:g} s after the flood ({why})")
        time.sleep(0.5)


def main(argv: list[str]) -> int:
    host, http_port, echo_port, head_timeout = argv
    port = int(http_port)
    t0 = time.monotonic()
    step = "garbage"
    try:
        expect_status(host, port, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 400)
        step = "oversized head"
        expect_status(host, port, b"GET /bytes/1 HTTP/1.1\r\nX-Pad: " + b"a" * 600, 431)
        step = "huge N"
        huge_then_keepalive(host, port)
        step = "pipelined"
        pipelined(host, port)
        step = "idle keep-alive connections"
        idle = idle_keepalive(host, port)
        step = "flood"
        what = flood(host, port, int(echo_port), float(head_timeout))
        step = "service after the flood"
        again = served_after(host, port, int(echo_port), 70)
    except OSError as exc:
        raise SystemExit(f"hostile clients of {host}, {step}: {exc}") from None
    except SystemExit as exc:
        raise SystemExit(f"hostile clients of {host}, {step}: {exc}") from None
    print(
        f"400, 431, 404 then 200, {PIPELINED} pipelined, {idle}, {what}, "
        f"GET and echo ok {again:.1f} s after; {time.monotonic() - t0:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
