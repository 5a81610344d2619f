"""``ustack fetch``: an HTTP/1.1 GET through ustack from a server on the kernel's side.

In a fresh network namespace, ustack on a TAP device connects to the kernel
side (198.18.0.2 by default), where ``--run-server`` has started a server,
downloads one URL (Content-Length, chunked, or until the server closes),
optionally saves it, and prints bytes, time, rate and SHA-256.
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import time
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

from ustack._util import format_rate
from ustack.commands._live import (
    LINK_MODES,
    Stopper,
    add_link_arguments,
    enter_namespace,
    open_link,
    option_names,
    summary,
    wait_io,
)
from ustack.hostlink import HostLink
from ustack.progress import Progress
from ustack.sockets import Socket

NAME = "fetch"
HELP = "HTTP/1.1 GET through ustack from a server on the kernel's side of a TAP device"
DESCRIPTION = (
    """\
Puts ustack on a TAP device with --address (198.18.0.1/24), the kernel on
the other side with --peer-address (198.18.0.2/24); starts --run-server CMD
there (a shell command, e.g. a python3 -m http.server bound to the kernel's
address), waits until it accepts connections (up to --server-wait seconds,
retrying refused connects), and GETs URL through ustack with HTTP/1.1 and
Connection: close.  The body (by Content-Length, chunked, or until the
server closes) goes to -o FILE (- for stdout) or is only counted and
hashed; a progress bar shows on a terminal.  Then it prints the status,
bytes, time, rate and SHA-256, and the stack's counters, and stops the
server.

Exit status 0 for a complete 2xx answer, 1 for anything else (HTTP error,
connection refused or reset, short body), 130 on Ctrl-C.

"""
    + LINK_MODES
    + """

examples:
  ustack fetch http://198.18.0.2:8000/big.bin -o /tmp/big.bin \\
      --run-server "python3 -m http.server 8000 --bind 198.18.0.2 --directory /srv"
  ustack fetch http://198.18.0.2:8000/ --run-server "python3 -m http.server 8000 --bind 198.18.0.2"
  ustack fetch http://198.18.0.2:8080/x --pcap /tmp/fetch.pcap \\
      --sysctl net.inet.tcp.sack.enable=0
  ustack fetch --tap tap0 http://198.18.0.2:8000/  # no root; a server on 198.18.0.2"""
)

_RECV = 1 << 18


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """fetch's options."""
    parser.add_argument("url", metavar="URL", help="http://HOST[:PORT]/PATH, HOST an IPv4 address")
    parser.add_argument(
        "--output",
        "-o",
        dest="output",
        default=None,
        metavar="FILE",
        help="save the body to FILE (- for stdout; default: count and hash only)",
    )
    parser.add_argument(
        "--run-server",
        metavar="CMD",
        default=None,
        help="shell command started in the namespace before fetching (the kernel's "
        "server) and stopped afterwards",
    )
    parser.add_argument(
        "--server-wait",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="how long to retry while the server refuses connections (default: %(default)s)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="give up when no byte arrives for this long (default: %(default)s)",
    )
    parser.add_argument(
        "--quiet", "-q", action="store_true", help="no progress bar and no counters"
    )
    # -o is the output file here, as for curl and wget: knobs take --sysctl.
    add_link_arguments(parser, sysctl_short=False)


class HttpError(Exception):
    """The answer was not a usable HTTP response."""


class Download:
    """Reads one HTTP/1.1 response from ``sock`` into ``sink``."""

    def __init__(self, link: HostLink, sock: Socket, sink: BinaryIO | None, timeout: float) -> None:
        self.link, self.sock, self.sink, self.timeout = link, sock, sink, timeout
        self.buf = bytearray()
        self.eof = False
        self.sha = hashlib.sha256()
        self.body = 0
        self.status = 0
        self.reason = ""
        self.length: int | None = None

    def _fill(self, stop: Stopper) -> bool:
        """More bytes into ``buf``; False at EOF."""
        last = time.monotonic()
        while not stop.stopped:
            n = self.link.stack.poll()
            try:
                data = self.sock.recv(_RECV)
            except BlockingIOError:
                if time.monotonic() - last > self.timeout:
                    raise TimeoutError(f"no data for {self.timeout:g} s") from None
                if n == 0:
                    wait_io(self.link)
                continue
            if not data:
                self.eof = True
                return False
            self.buf += data
            return True
        raise KeyboardInterrupt

    def _line(self, stop: Stopper) -> bytes:
        while True:
            end = self.buf.find(b"\r\n")
            if end >= 0:
                line = bytes(self.buf[:end])
                del self.buf[: end + 2]
                return line
            if len(self.buf) > 65536 or not self._fill(stop):
                raise HttpError("the response ended inside its header")

    def _emit(self, data: bytes | bytearray | memoryview, progress: Progress) -> None:
        self.sha.update(data)
        if self.sink is not None:
            self.sink.write(data)
        self.body += len(data)
        progress(self.body)

    def head(self, stop: Stopper) -> dict[str, str]:
        status = self._line(stop).decode("latin-1").split(" ", 2)
        if len(status) < 2 or not status[0].startswith("HTTP/1.") or not status[1].isdigit():
            raise HttpError(f"not an HTTP/1.x status line: {' '.join(status)!r}")
        self.status = int(status[1])
        self.reason = status[2] if len(status) > 2 else ""
        headers: dict[str, str] = {}
        while line := self._line(stop):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            self.length = int(headers["content-length"])
        return headers

    def body_until(self, stop: Stopper, progress: Progress, size: int | None) -> None:
        """``size`` bytes of body, or everything until EOF when None."""
        while size is None or size > 0:
            if not self.buf and not self._fill(stop):
                if size is None:
                    return
                raise HttpError(f"the connection closed {size} bytes before the end of the body")
            take = len(self.buf) if size is None else min(size, len(self.buf))
            self._emit(memoryview(self.buf)[:take], progress)
            del self.buf[:take]
            if size is not None:
                size -= take

    def chunked(self, stop: Stopper, progress: Progress) -> None:
        """RFC 9112 7.1: hex size lines, a zero chunk, trailers."""
        while True:
            size_line = self._line(stop).split(b";", 1)[0].strip()
            try:
                size = int(size_line, 16)
            except ValueError:
                raise HttpError(f"bad chunk size {size_line!r}") from None
            if size == 0:
                while self._line(stop):
                    pass
                return
            self.body_until(stop, progress, size)
            if self._line(stop):
                raise HttpError("a chunk did not end with CRLF")


def _parse_url(url: str) -> tuple[str, int, str]:
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        raise SystemExit(f"ustack fetch: {url}: only http://HOST[:PORT]/PATH URLs")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return parts.hostname, parts.port or 80, path


def _connect(link: HostLink, addr: tuple[str, int], wait: float, stop: Stopper) -> Socket:
    """Connects, retrying while the server is not listening yet."""
    end = time.monotonic() + wait
    while True:
        try:
            return link.connect(addr, timeout=max(0.5, end - time.monotonic()))
        except ConnectionRefusedError:
            if time.monotonic() >= end or stop.stopped:
                raise
            link.poll_until(lambda: stop.stopped, 0.1)


def run(args: argparse.Namespace) -> int:
    """Fetch the URL; 0 for a complete 2xx body."""
    host, port, path = _parse_url(args.url)
    rc = enter_namespace(args, "fetch", "fetch")
    if rc is not None:
        return rc
    link = open_link(args, "fetch")
    server: subprocess.Popen[bytes] | None = None
    sink: BinaryIO | None = None
    status = 1
    t0 = time.monotonic()
    dl: Download | None = None
    with Stopper() as stop:
        try:
            if args.run_server:
                server = subprocess.Popen(args.run_server, shell=True)
            try:
                sock = _connect(link, (host, port), args.server_wait, stop)
            except (OSError, TimeoutError) as exc:
                print(f"ustack fetch: connect to {host}:{port}: {exc}", file=sys.stderr)
                return 1
            print(
                f"ustack fetch: connected {link.ip}:{sock.getsockname()[1]} -> {host}:{port} "
                f"{option_names(sock)}",
                file=sys.stderr,
                flush=True,
            )
            if args.output == "-":
                sink = sys.stdout.buffer
            elif args.output is not None:
                sink = Path(args.output).open("wb")
            request = (
                f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUser-Agent: ustack-fetch\r\n"
                "Accept: */*\r\nConnection: close\r\n\r\n"
            ).encode()
            sock.setblocking(True)
            sock.settimeout(args.timeout)
            sock.sendall(request)
            sock.setblocking(False)
            dl = Download(link, sock, sink, args.timeout)
            t0 = time.monotonic()
            headers = dl.head(stop)
            progress = Progress("", dl.length, unit="bytes", quiet=args.quiet)
            if "chunked" in headers.get("transfer-encoding", "").lower():
                dl.chunked(stop, progress)
            else:
                dl.body_until(stop, progress, dl.length)
            progress.finish()
            elapsed = time.monotonic() - t0
            rate = format_rate(8 * dl.body / max(elapsed, 1e-9))
            print(
                f"HTTP {dl.status} {dl.reason}: {dl.body} bytes in {elapsed:.3f} s "
                f"({rate}, {dl.body / max(elapsed, 1e-9) / 1e6:.1f} MB/s)\n"
                f"sha256 {dl.sha.hexdigest()}",
                file=sys.stderr if args.output == "-" else sys.stdout,
                flush=True,
            )
            sock.close()
            link.poll_until(lambda: False, 0.05)  # let the FIN and last ACKs go
            status = 0 if 200 <= dl.status < 300 else 1
        except KeyboardInterrupt:
            got = dl.body if dl is not None else 0
            print(f"ustack fetch: interrupted ({stop.signame}) after {got} bytes", file=sys.stderr)
            status = 130
        except (HttpError, OSError, TimeoutError) as exc:
            print(f"ustack fetch: {exc}", file=sys.stderr)
            status = 1
        finally:
            if sink is not None and sink is not sys.stdout.buffer:
                sink.close()
            if server is not None:
                if server.poll() is None:
                    server.terminate()
                try:
                    server.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    server.kill()
                    server.wait()
            if not args.quiet:
                print(summary(link, time.monotonic() - t0), file=sys.stderr, flush=True)
            link.close()
    return status
