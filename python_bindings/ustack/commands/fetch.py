"""``ustack fetch``: an HTTP/1.1 GET through ustack from a server on the kernel's side.

ustack on a TAP device (in a fresh namespace, --netns or --tap) connects to
the kernel side (198.18.0.2 by default), where ``--run-server`` has started a
server, downloads one URL with the standard library's http.client over the
ustack socket (Content-Length, chunked, or until the server closes),
optionally saves it, and prints bytes, time, rate and SHA-256.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
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
    is_ipv6,
    open_link,
    option_names,
    summary,
)
from ustack.hostlink import StackLink
from ustack.netstat import format_endpoint
from ustack.progress import Progress
from ustack.sockets import Socket

NAME = "fetch"
HELP = (
    "HTTP/1.1 GET through ustack from a server on the kernel's side of a TAP device, DPDK or AF_XDP"
)
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
  ustack fetch --tap tap0 http://198.18.0.2:8000/  # no root; a server on 198.18.0.2
  ustack fetch --driver dpdk http://198.18.0.2:8000/ \\
      --run-server "python3 -m http.server 8000 --bind 198.18.0.2"   # over a net_tap
  ustack fetch --driver afxdp http://198.18.0.2:8000/ \\
      --run-server "python3 -m http.server 8000 --bind 198.18.0.2"   # AF_XDP on a veth"""
)

_RECV = 1 << 18


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """fetch's options."""
    parser.add_argument(
        "url",
        metavar="URL",
        help="http://HOST[:PORT]/PATH, HOST an IPv4 address or an IPv6 one in brackets "
        "(http://[2001:2::2]:8000/: IPv6 on both sides of the link, see --address)",
    )
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


class _Connection(http.client.HTTPConnection):
    """http.client's HTTP/1.1 client on a socket ustack already connected:
    the request goes out with ``sendall`` and the response is read through
    ``makefile("rb")`` -- framing by Content-Length, chunked coding or the
    end of the connection is the standard library's."""

    def __init__(self, sock: Socket, host: str, port: int, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.sock = sock

    def connect(self) -> None:
        """Already connected (through ustack, retried while refused)."""


def _download(
    conn: _Connection, path: str, sink: BinaryIO | None, quiet: bool
) -> tuple[http.client.HTTPResponse, int, str]:
    """GETs ``path``; the response, the body's length and its SHA-256."""
    conn.request("GET", path, headers={"User-Agent": "ustack-fetch", "Connection": "close"})
    resp = conn.getresponse()
    sha = hashlib.sha256()
    got = 0
    with Progress("", resp.length, unit="bytes", quiet=quiet) as progress:
        while chunk := resp.read1(_RECV):
            sha.update(chunk)
            if sink is not None:
                sink.write(chunk)
            got += len(chunk)
            progress(got)
    if resp.length:  # read1 ends quietly where the connection did
        raise http.client.IncompleteRead(b"", resp.length)
    return resp, got, sha.hexdigest()


def _parse_url(url: str) -> tuple[str, int, str]:
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        raise SystemExit(f"ustack fetch: {url}: only http://HOST[:PORT]/PATH URLs")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    host = parts.hostname.replace("%25", "%")  # RFC 6874: [fe80::2%25tap0]
    return host, parts.port or 80, path


def _connect(link: StackLink, addr: tuple[str, int], wait: float, stop: Stopper) -> Socket:
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
    v6 = is_ipv6(host)
    link = open_link(args, "fetch", ipv6=v6)
    server: subprocess.Popen[bytes] | None = None
    sink: BinaryIO | None = None
    status = 1
    t0 = time.monotonic()
    with Stopper() as stop:
        try:
            if args.run_server:
                server = subprocess.Popen(args.run_server, shell=True)
            try:
                sock = _connect(link, (host, port), args.server_wait, stop)
            except (OSError, TimeoutError) as exc:
                print(
                    f"ustack fetch: connect to {format_endpoint(host, port)}: {exc}",
                    file=sys.stderr,
                )
                return 1
            local = format_endpoint(link.ip6 if v6 else link.ip, sock.getsockname()[1])
            print(
                f"ustack fetch: connected {local} -> {format_endpoint(host, port)} "
                f"{option_names(sock)}",
                file=sys.stderr,
                flush=True,
            )
            if args.output == "-":
                sink = sys.stdout.buffer
            elif args.output is not None:
                sink = Path(args.output).open("wb")
            sock.setblocking(True)
            sock.settimeout(args.timeout)  # no byte for this long: TimeoutError
            stop.raising = True  # Ctrl-C now ends a blocking read at once
            conn = _Connection(sock, host, port, args.timeout)
            t0 = time.monotonic()
            resp, got, digest = _download(conn, path, sink, args.quiet)
            elapsed = time.monotonic() - t0
            rate = format_rate(8 * got / max(elapsed, 1e-9))
            print(
                f"HTTP {resp.status} {resp.reason}: {got} bytes in {elapsed:.3f} s "
                f"({rate}, {got / max(elapsed, 1e-9) / 1e6:.1f} MB/s)\n"
                f"sha256 {digest}",
                file=sys.stderr if args.output == "-" else sys.stdout,
                flush=True,
            )
            conn.close()
            link.poll_until(lambda: False, 0.05)  # let the FIN and last ACKs go
            status = 0 if 200 <= resp.status < 300 else 1
        except KeyboardInterrupt:
            stop.raising = False
            print(f"ustack fetch: interrupted ({stop.signame or 'SIGINT'})", file=sys.stderr)
            status = 130
        except http.client.IncompleteRead as exc:
            left = "a chunk" if exc.expected is None else f"{exc.expected} bytes"
            print(
                f"ustack fetch: the connection closed {left} before the end of the body",
                file=sys.stderr,
            )
            status = 1
        except (http.client.HTTPException, OSError) as exc:
            print(f"ustack fetch: {type(exc).__name__}: {exc}", file=sys.stderr)
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
            try:
                if not args.quiet:
                    print(summary(link, time.monotonic() - t0), file=sys.stderr, flush=True)
            finally:  # a closed stderr must not leave the link (a veth) behind
                link.close()
    return status
