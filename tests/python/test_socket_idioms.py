"""Idioms of the standard socket module, each written once and run against
the host's sockets on loopback and against ustack on a pipe (virtual clock):
data, return values and exceptions (type and errno) must be the same."""

from __future__ import annotations

import http.client
import http.server
import io
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from socket_backends import Backend, backends


@pytest.fixture(params=["stdlib", "ustack"])
def be(request: pytest.FixtureRequest) -> Iterator[Backend]:
    yield from backends(request.param)


# --- makefile ---------------------------------------------------------------


def test_makefile_binary_lines(be: Backend) -> None:
    client, conn = be.connected()
    with client, conn:
        wfile = client.makefile("wb")
        rfile = conn.makefile("rb")
        assert isinstance(wfile, io.BufferedWriter) and isinstance(rfile, io.BufferedReader)
        wfile.write(b"first line\r\nsecond")
        wfile.write(b" line\r\n")
        wfile.flush()
        assert rfile.readline() == b"first line\r\n"
        assert rfile.readline() == b"second line\r\n"
        assert (rfile.readable(), rfile.writable(), wfile.writable()) == (True, False, True)
        wfile.close()
        client.shutdown(socket.SHUT_WR)
        assert rfile.read() == b""
        rfile.close()
        assert rfile.closed


def test_makefile_text_read_write(be: Backend) -> None:
    client, conn = be.connected()
    with client, conn:
        f = client.makefile("rw", encoding="utf-8", newline="")
        g = conn.makefile("rw", encoding="utf-8", newline="")
        assert f.mode == "rw"
        f.write("héllo\nwörld\n")
        f.flush()
        assert g.readline() == "héllo\n"
        g.write(g.readline().upper())
        g.flush()
        assert f.readline() == "WÖRLD\n"
        f.close()
        g.close()


def test_makefile_unbuffered_and_bad_modes(be: Backend) -> None:
    client, conn = be.connected()
    with client, conn:
        raw: Any = client.makefile("wb", buffering=0)
        assert raw.mode == "wb"
        assert isinstance(raw, io.RawIOBase)
        assert raw.write(b"abc") == 3
        raw.close()
        with pytest.raises(ValueError):
            client.makefile("rx")
        with pytest.raises(ValueError, match="unbuffered"):
            client.makefile("r", buffering=0)
        r = conn.makefile("rb", 0)
        buf = bytearray(8)
        assert r.readinto(buf) == 3 and buf[:3] == b"abc"
        r.close()
        with pytest.raises(ValueError):
            r.read(1)


def test_makefile_keeps_the_socket_open_until_closed(be: Backend) -> None:
    """socket.close() with a makefile open closes the connection only when
    the file is closed too (http.client relies on it)."""
    client, conn = be.connected()
    with client:
        rfile = conn.makefile("rb")
        conn.close()
        client.sendall(b"still there\n")
        assert rfile.readline() == b"still there\n"
        rfile.close()
        client.settimeout(5.0)
        assert client.recv(10) == b""  # the peer's FIN, once the file is closed


def test_makefile_timeout_poisons_reads(be: Backend) -> None:
    client, conn = be.connected()
    with client, conn:
        conn.settimeout(0.05)
        rfile = conn.makefile("rb", buffering=0)
        with pytest.raises(TimeoutError):
            rfile.read(1)
        with pytest.raises(OSError, match="timed out object"):
            rfile.read(1)
        rfile.close()


def test_makefile_nonblocking_read_returns_none(be: Backend) -> None:
    client, conn = be.connected()
    with client, conn:
        conn.setblocking(False)
        raw = conn.makefile("rb", buffering=0)
        assert raw.read(10) is None
        raw.close()


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        body = f"you asked for {self.path}".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


def test_http_client_and_server_over_a_socket(be: Backend) -> None:
    """http.client with a socket it did not create, against http.server's
    request handler on the accepted socket."""
    lsock, (host, port) = be.listener()
    with lsock:
        client = be.socket()
        client.connect((host, port))
        conn = http.client.HTTPConnection(host, port)
        conn.sock = client
        conn.request("GET", "/bytes/42", headers={"Connection": "close"})
        server_side, peer = lsock.accept()
        with server_side:
            _Handler(server_side, peer, None)  # type: ignore[arg-type]
        resp = conn.getresponse()
        assert (resp.status, resp.reason) == (200, "OK")
        assert resp.getheader("Content-Type") == "text/plain"
        assert resp.read() == b"you asked for /bytes/42"
        conn.close()
