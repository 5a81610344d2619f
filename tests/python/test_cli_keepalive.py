"""Keep-alive that does not stall: ``ustack serve --http`` answers each
request in one send with TCP_NODELAY, so a client that waits for each answer
before the next request is never held by Nagle's algorithm until its own
delayed ACK (40 ms a request, 22 requests/s, before the fix).

The first tests need no root: serve's HTTP connection on a fake socket.
The others run serve in the namespace it makes (root) against the kernel's
clients: Python's http.client at concurrency 1, and ab (apache2-utils) at
concurrency 100 and 500.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from ustack import netns, pattern
from ustack.commands.serve import HttpConn, Service

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT / "python_bindings")}
REQUIRE_ALL = os.environ.get("USTACK_REQUIRE_ALL") == "1"


class FakeSock:
    """Reads come from ``chunks``; every send is recorded whole."""

    def __init__(self, *chunks: bytes) -> None:
        self.chunks = list(chunks)
        self.sends: list[bytes] = []
        self.closed = False

    def recv(self, n: int) -> bytes:
        if not self.chunks:
            raise BlockingIOError
        return self.chunks.pop(0)

    def send(self, data: Any) -> int:
        self.sends.append(bytes(data))
        return len(data)

    def close(self) -> None:
        self.closed = True


def _conn(sock: FakeSock) -> HttpConn:
    server: Any = SimpleNamespace(verbose=False, evq=SimpleNamespace(modify=lambda *a: None))
    svc = Service(server, "http", 8080, sock)  # type: ignore[arg-type]
    conn = HttpConn(svc, sock, ("198.18.0.2", 40000))  # type: ignore[arg-type]
    svc.active = 1
    return conn


def _split(response: bytes) -> tuple[str, bytes]:
    head, _, body = response.partition(b"\r\n\r\n")
    return head.decode("latin-1"), body


def test_each_keepalive_response_is_one_send() -> None:
    req = b"GET /bytes/1000 HTTP/1.1\r\nHost: x\r\n\r\n"
    sock = FakeSock(req + req)  # pipelined: both answered, in order, one send each
    conn = _conn(sock)
    conn.handle(1)
    assert len(sock.sends) == 2
    for resp in sock.sends:
        head, body = _split(resp)
        assert head.startswith("HTTP/1.1 200 OK"), head
        assert "Content-Length: 1000" in head and "Connection: keep-alive" in head
        assert body == pattern.pattern(1000)
    assert not conn.closed and not conn.done()


def test_a_head_split_across_reads_waits_for_its_end() -> None:
    sock = FakeSock(b"GET /bytes/3 HTTP/1.1\r\nHo", b"st: x\r\n", b"\r\n")
    conn = _conn(sock)
    conn.handle(1)
    assert len(sock.sends) == 1 and sock.sends[0].endswith(b"\r\n\r\n" + pattern.pattern(3))


def test_large_response_starts_with_a_block_of_body() -> None:
    size = 3 * pattern.BLOCK + 123
    sock = FakeSock(b"GET /bytes/%d HTTP/1.0\r\n\r\n" % size)
    conn = _conn(sock)
    conn.handle(1)
    head, first = _split(sock.sends[0])
    assert len(first) == pattern.BLOCK and "Connection: close" in head
    assert first + b"".join(sock.sends[1:]) == pattern.pattern(size)
    assert conn.closed  # HTTP/1.0 without keep-alive: closed once sent


def test_http10_keepalive_as_ab_sends_it() -> None:
    """ab -k speaks HTTP/1.0 with Connection: Keep-Alive and keeps the
    connection only when the answer says keep-alive."""
    sock = FakeSock(b"GET /bytes/10 HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n")
    conn = _conn(sock)
    conn.handle(1)
    head, body = _split(sock.sends[0])
    assert head.startswith("HTTP/1.1 200") and "Connection: keep-alive" in head
    assert body == pattern.pattern(10) and not conn.closed


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"GET /nothing HTTP/1.1\r\n\r\n", 404),
        (b"POST /bytes/1 HTTP/1.1\r\nContent-Length: 1\r\n\r\nx", 501),
        (b"GET /bytes/1 HTTP/1.1\r\nContent-Length: 1\r\n\r\nx", 400),
        (b"BREW / HTTP/9\r\n\r\n", 400),
        (b"GET /" + b"x" * 20000, 431),
    ],
)
def test_errors_close_the_connection(request_bytes: bytes, status: int) -> None:
    sock = FakeSock(request_bytes)
    conn = _conn(sock)
    conn.handle(1)
    assert len(sock.sends) == 1
    head, _ = _split(sock.sends[0])
    assert head.startswith(f"HTTP/1.1 {status} "), head
    assert conn.closed


def test_head_has_no_body() -> None:
    sock = FakeSock(b"HEAD /bytes/5000 HTTP/1.1\r\n\r\n")
    conn = _conn(sock)
    conn.handle(1)
    head, body = _split(sock.sends[0])
    assert "Content-Length: 5000" in head and body == b""
    assert not conn.has_output()


# --- against the kernel's clients, in serve's namespace --------------------


def _live_reason(*tools: str) -> str | None:
    """Why serve cannot meet the kernel's clients here (root, ab)."""
    missing = " ".join(t for t in tools if shutil.which(t) is None)
    apt = f"{missing} not installed (apt-get install apache2-utils)" if missing else None
    return netns.unavailable_reason() or apt


def _serve(run: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "ustack", "serve", "--http", "8080", "--no-control"]
    proc = subprocess.run(
        [*argv, "--run", run], capture_output=True, text=True, env=ENV, timeout=timeout
    )
    assert not netns.leaked()
    return proc


# http.client on the kernel's side: 1,000 GETs on one connection, each sent
# only after the previous answer is read.  Stalled, each takes a delayed ACK.
KERNEL_CLIENT = textwrap.dedent(
    """
    import http.client, sys, time
    c = http.client.HTTPConnection("198.18.0.1", 8080, timeout=10)
    c.request("GET", "/bytes/1000"); c.getresponse().read()  # connected, warm
    t0 = time.monotonic()
    for _ in range(1000):
        c.request("GET", "/bytes/1000")
        r = c.getresponse()
        assert r.status == 200 and len(r.read()) == 1000
    print(f"ELAPSED {time.monotonic() - t0:.4f}")
    """
)


def test_1000_keepalive_requests_at_concurrency_1_do_not_stall() -> None:
    reason = _live_reason()
    if reason is not None and not REQUIRE_ALL:
        pytest.skip(reason)
    proc = _serve(f"{sys.executable} -c '{KERNEL_CLIENT}'")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    m = re.search(r"ELAPSED ([\d.]+)", proc.stdout)
    assert m, proc.stdout
    # 44 s when every answer waits for a delayed ACK; about 0.1 s here.
    assert float(m.group(1)) < 1.0, f"1,000 keep-alive requests took {m.group(1)} s"
    assert "1 connections" in proc.stdout


@pytest.mark.parametrize("concurrency", [100, 500])
def test_ab_50000_keepalive_requests(concurrency: int) -> None:
    reason = _live_reason("ab")
    if reason is not None and not REQUIRE_ALL:
        pytest.skip(reason)
    run = f"ab -k -n 50000 -c {concurrency} http://198.18.0.1:8080/bytes/1000"
    proc = _serve(run)
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    fields = dict(re.findall(r"^([A-Za-z -]+):\s+(\S+)", out, re.M))
    assert fields.get("Complete requests") == "50000", out
    assert fields.get("Failed requests") == "0", out
    assert fields.get("Keep-Alive requests") == "50000", out
    assert "Non-2xx" not in out
    assert f"http:8080: {concurrency} connections" in out
