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

import errno
import os
import random
import re
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from ustack import netns, pattern
from ustack.commands import serve
from ustack.commands.serve import HttpConn, Service, _Request

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
        chunk = self.chunks.pop(0)
        if len(chunk) > n:
            self.chunks.insert(0, chunk[n:])
        return chunk[:n]

    def recv_into(self, buf: Any, n: int = 0) -> int:
        data = self.recv(n or len(buf))
        buf[: len(data)] = data
        return len(data)

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
    for _ in range(3):  # a short read ends a round; the event is level-triggered
        conn.handle(1)
        assert len(sock.sends) == (0 if sock.chunks else 1)
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


# --- the fast parser answers as the standard library would ------------------


def _answer(conn_request: bytes) -> list[bytes]:
    sock = FakeSock(conn_request)
    conn = _conn(sock)
    conn.handle(1)
    return sock.sends


def _stdlib_answer(request: bytes) -> bytes:
    req = _Request(request, ("198.18.0.2", 40000))
    head = req.respond()
    return head + pattern.pattern(req.body_length)


COMMON_HEADS = [
    b"GET /bytes/128 HTTP/1.0\r\nHost: 198.18.0.1:8080\r\nUser-Agent: ApacheBench/2.3\r\n"
    b"Accept: */*\r\n\r\n",
    b"GET /bytes/128 HTTP/1.0\r\nConnection: Keep-Alive\r\nHost: 198.18.0.1:8080\r\n"
    b"User-Agent: ApacheBench/2.3\r\nAccept: */*\r\n\r\n",
    b"GET /bytes/65536 HTTP/1.1\r\nHost: 198.18.0.1:8080\r\n\r\n",  # wrk
    b"GET /bytes/128 HTTP/1.1\r\nHost: 198.18.0.1:8080\r\nConnection: close\r\n\r\n",
    b"GET /bytes/100 HTTP/1.1\r\nHost: 198.18.0.1:8080\r\nUser-Agent: curl/7.88.1\r\n"
    b"Accept: */*\r\n\r\n",
    b"HEAD /bytes/5000 HTTP/1.1\r\nHost: x\r\n\r\n",
]


@pytest.mark.parametrize("request_bytes", COMMON_HEADS)
def test_clients_requests_take_the_fast_path(request_bytes: bytes) -> None:
    assert serve.fast_request(request_bytes, 0, len(request_bytes)) is not None


def _variants(seed: int, n: int) -> list[bytes]:
    """Request heads around the fast path's edges: methods, targets,
    versions, Connection values and spellings, odd whitespace, bodies,
    Expect, folded and non-ASCII lines."""
    rng = random.Random(seed)
    methods = [b"GET", b"HEAD", b"POST", b"get", b"GET "]
    targets = [
        b"/bytes/0",
        b"/bytes/7",
        b"/bytes/0012",
        b"/bytes/70000",
        b"/bytes/12?x=1",
        b"/bytes/12#f",
        b"//bytes/3",
        b"/bytes/",
        b"/bytes/1x",
        b"/bytes/\xb2",
        b"/bytes/99999999999999",
        b"/other",
        b"/bytes/3/",
    ]
    versions = [b"HTTP/1.1", b"HTTP/1.0", b"HTTP/1.01", b"HTTP/2.0", b"HTTP/0.9", b"http/1.1"]
    headers = [
        b"Host: x",
        b"Connection: close",
        b"connection: Close",
        b"CONNECTION:keep-alive",
        b"Connection: keep-alive ",
        b"Connection:\tKeep-Alive",
        b"Connection: upgrade",
        b"Content-Length: 0",
        b"Transfer-Encoding: chunked",
        b"Expect: 100-continue",
        b" folded",
        b"X-Empty:",
        b"Bad Name: v",
        b"NoColon",
        b"X-Latin: \xe9",
        b":v",
        b"Accept: */*",
    ]

    def pick(items: list[bytes], plain: int) -> bytes:
        # Mostly one of the first ``plain`` (what the fast path takes).
        return rng.choice(items[:plain] if rng.random() < 0.85 else items)

    out = []
    for _ in range(n):
        sep = b" " if rng.random() < 0.95 else b"  "
        line = pick(methods, 2) + sep + pick(targets, 5) + b" " + pick(versions, 2)
        hs = [pick(headers, 7) for _ in range(rng.randrange(4))]
        out.append(b"\r\n".join([line, *hs]) + b"\r\n\r\n")
    return out


def test_fast_path_answers_byte_for_byte_as_the_stdlib(monkeypatch: pytest.MonkeyPatch) -> None:
    seed = 1905
    monkeypatch.setattr(time, "time", lambda: 1_796_472_000.25)  # one Date for both
    fast = 0
    for req in _variants(seed, 600):
        if serve.fast_request(req, 0, len(req)) is not None:
            fast += 1
        got = b"".join(_answer(req))
        want = _stdlib_answer(req)
        assert got == want, f"seed {seed}: {req!r}"
    assert fast > 150, f"seed {seed}: only {fast} of 600 took the fast path"


def test_a_head_over_the_limit_is_refused_after_a_larger_buffer() -> None:
    # A head longer than the first read buffer but inside the limit is served.
    long_head = b"GET /bytes/9 HTTP/1.1\r\nX-Pad: " + b"p" * 9000 + b"\r\n\r\n"
    sends = _answer(long_head)
    assert len(sends) == 1 and sends[0].endswith(b"\r\n\r\n" + pattern.pattern(9))


def test_pipelined_requests_across_a_buffer_boundary() -> None:
    req = b"GET /bytes/33 HTTP/1.1\r\nHost: x\r\n\r\n"
    stream = req * 300  # more than the first buffer: compaction and refills
    chunks = [stream[i : i + 1000] for i in range(0, len(stream), 1000)]
    sock = FakeSock(*chunks)
    conn = _conn(sock)
    while sock.chunks:
        conn.handle(1)
    assert len(sock.sends) == 300
    assert all(s.endswith(b"\r\n\r\n" + pattern.pattern(33)) for s in sock.sends)


def test_a_partly_taken_send_streams_the_rest() -> None:
    class Slow(FakeSock):
        def send(self, data: Any) -> int:
            part = bytes(data)[:700]
            self.sends.append(part)
            return len(part)

    size = pattern.BLOCK + 5000
    sock = Slow(b"GET /bytes/%d HTTP/1.1\r\n\r\n" % size)
    conn = _conn(sock)
    conn.handle(1)
    head, body = _split(b"".join(sock.sends))
    assert f"Content-Length: {size}" in head and body == pattern.pattern(size)
    assert all(len(s) <= 700 for s in sock.sends) and not conn.has_output()


def test_a_non_ascii_digit_is_a_404_not_a_crash() -> None:
    # "²" (latin-1 0xb2) passes str.isdigit() but not int(): the server used
    # to raise ValueError out of its event loop and stop.
    sends = _answer(b"GET /bytes/\xb2 HTTP/1.1\r\n\r\n")
    assert len(sends) == 1 and sends[0].startswith(b"HTTP/1.1 404 ")


def test_no_mbufs_for_a_moment_is_not_the_connections_end() -> None:
    """ENOBUFS (the stack's mbufs all queued, ab/wrk at c=500 of 64 KiB)
    used to close the connection mid-answer; now the answer waits."""

    class Short(FakeSock):
        def __init__(self, *chunks: bytes) -> None:
            super().__init__(*chunks)
            self.refusals = 3

        def send(self, data: Any) -> int:
            if self.refusals:
                self.refusals -= 1
                raise OSError(errno.ENOBUFS, "ENOBUFS: No buffer space available")
            return super().send(data)

    size = pattern.BLOCK + 10
    sock = Short(b"GET /bytes/%d HTTP/1.1\r\n\r\n" % size)
    conn = _conn(sock)
    for _ in range(5):
        conn.handle(1)
    assert not conn.closed and not conn.has_output()
    head, body = _split(b"".join(sock.sends))
    assert head.startswith("HTTP/1.1 200 ") and body == pattern.pattern(size)
