"""``ustack fetch`` (http.client over a ustack socket) against a kernel
server in the namespace fetch makes: a chunked body, a body cut short, an
HTTP error, a body delimited by the end of the connection.  Root only."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ustack import netns

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT / "python_bindings")}
REASON = netns.unavailable_reason()
pytestmark = pytest.mark.skipif(
    REASON is not None and os.environ.get("USTACK_REQUIRE_ALL") != "1", reason=f"{REASON}"
)

BODY = bytes(range(256)) * 400  # 102,400 bytes

# A raw HTTP server on the kernel's side, one answer per path.
SERVER = textwrap.dedent(
    """
    import socket, sys
    body = bytes(range(256)) * 400
    srv = socket.create_server(("198.18.0.2", 8000))
    while True:
        c, _ = srv.accept()
        req = b""
        while b"\\r\\n\\r\\n" not in req:
            req += c.recv(4096)
        path = req.split()[1].decode()
        if path == "/chunked":
            out = b"HTTP/1.1 200 OK\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n"
            for i in range(0, len(body), 7000):
                part = body[i:i + 7000]
                out += b"%x\\r\\n" % len(part) + part + b"\\r\\n"
            out += b"0\\r\\n\\r\\n"
        elif path == "/short":
            out = b"HTTP/1.1 200 OK\\r\\nContent-Length: %d\\r\\n\\r\\n" % len(body) + body[:500]
        elif path == "/eof":
            out = b"HTTP/1.0 200 OK\\r\\n\\r\\n" + body
        else:
            out = b"HTTP/1.1 404 Not Found\\r\\nContent-Length: 2\\r\\n\\r\\nno"
        c.sendall(out)
        c.close()
    """
)


def _fetch(tmp_path: Path, path: str) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "server.py"
    script.write_text(SERVER)
    argv = [sys.executable, "-m", "ustack", "fetch", f"http://198.18.0.2:8000{path}", "-q"]
    argv += ["--run-server", f"exec {sys.executable} {script}"]
    proc = subprocess.run(argv, capture_output=True, text=True, env=ENV, timeout=120)
    assert not netns.leaked()
    return proc


@pytest.mark.parametrize("path", ["/chunked", "/eof"])
def test_fetch_reads_chunked_and_close_delimited_bodies(tmp_path: Path, path: str) -> None:
    proc = _fetch(tmp_path, path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"HTTP 200 OK: {len(BODY)} bytes" in proc.stdout
    assert f"sha256 {hashlib.sha256(BODY).hexdigest()}" in proc.stdout


def test_fetch_reports_a_short_body(tmp_path: Path) -> None:
    proc = _fetch(tmp_path, "/short")
    assert proc.returncode == 1
    assert f"closed {len(BODY) - 500} bytes before the end of the body" in proc.stderr


def test_fetch_fails_on_an_http_error(tmp_path: Path) -> None:
    proc = _fetch(tmp_path, "/missing")
    assert proc.returncode == 1 and "HTTP 404 Not Found: 2 bytes" in proc.stdout
