"""``ustack serve``: TCP services on ustack, facing the Linux kernel over a TAP.

ustack (198.18.0.1/24) sits on a TAP device whose other side is the kernel
(198.18.0.2/24) -- in a fresh network namespace, an existing one (--netns)
or on an existing device (--tap, no root) -- and serves any number of
listeners at once -- echo, discard, HTTP -- to any number of connections,
non-blocking, from one event queue.  ``--run CMD`` drives the kernel side
(curl, iperf, socat) inside the namespace and ends the server with the
command's exit status; Ctrl-C, SIGTERM or ``--duration`` end it too.  Every
way out prints the stack's counters.  A Unix socket (``--control``) answers
``ustack stats`` with them while it runs.

With an IPv6 --address (2001:2::1/64; the kernel then gets 2001:2::2/64)
every service also listens on an AF_INET6 socket (IPV6_V6ONLY, as FreeBSD's
default), next to the IPv4 one.

HTTP requests are read into a buffer of each connection's own and parsed
there: a plain GET or HEAD of /bytes/N by a small parser, anything else by
the standard library (http.server's BaseHTTPRequestHandler, given the
request head), which the small parser answers exactly as; every answer
leaves in one send with TCP_NODELAY, its body never copied in Python (see
:class:`HttpConn`).
"""

from __future__ import annotations

import argparse
import email.utils
import errno
import http.server
import io
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import ustack
import ustack.group
from ustack import pattern
from ustack._util import end_process
from ustack.commands._live import (
    LINK_MODES,
    Stopper,
    add_link_arguments,
    enter_namespace,
    open_group_link,
    open_link,
    option_names,
    summary,
    use_afxdp,
    use_netmap,
    wait_io,
)
from ustack.events import EV_ERR, EV_HUP, EV_IN, EV_OUT, EventQueue
from ustack.hostlink import GroupLink, StackLink
from ustack.netstat import format_endpoint
from ustack.sockets import Socket

NAME = "serve"
HELP = (
    "serve TCP echo, discard and HTTP on ustack to the Linux kernel over a TAP device, DPDK "
    "or AF_XDP"
)
DESCRIPTION = (
    """\
Puts ustack on a TAP device with --address (198.18.0.1/24), the kernel on
the other side with --peer-address (198.18.0.2/24), and serves the
listeners asked for, all at once, each to many concurrent connections
(non-blocking sockets on one event queue):

  --echo PORT      sends back every byte it receives (RFC 862)
  --discard PORT   reads and drops everything (RFC 863): a sink for iperf2
                   (iperf -c 198.18.0.1 -p PORT -t 5)
  --http PORT      HTTP/1.1 GET (and HEAD): /bytes/N answers N bytes of a
                   deterministic pattern -- byte i is (i ^ i>>8 ^ i>>16) & 0xff,
                   see ustack.pattern -- so a client can check the SHA-256
                   (python3 -c 'import ustack.pattern as p; print(p.sha256(N))');
                   Content-Length always; keep-alive (HTTP/1.1 default,
                   HTTP/1.0 with Connection: keep-alive) or close; each answer
                   leaves in one send with TCP_NODELAY, so a keep-alive client
                   never waits for a delayed ACK; 404 for other paths

Each option can be repeated for more ports.  The server stops on Ctrl-C or
SIGTERM, after --duration seconds, or when the --run command exits; then it
prints the stack's counters (frames, TCP segments and bytes, retransmits,
connections) and exits with the --run command's status (else 0).

--stacks N runs N stacks on N threads (many cores): the TAP device gets N
queues, stack i owns queue i, and a steering eBPF program on the device
makes the kernel send each frame on the queue of the stack that owns its
flow (the summary says whether it was installed; without it frames are
re-steered between the stacks, and the count is in the summary); every
service listens on every stack, served by a worker thread per stack.

--run CMD runs a shell command next to the server (in its namespace) once
the listeners are up, so the kernel's tools reach ustack at --address, e.g.
  --run "curl -s http://198.18.0.1:8080/bytes/1000000 | sha256sum"

While it runs, a Unix socket (--control, by default
/run/ustack/serve-<pid>.sock, or $XDG_RUNTIME_DIR/ustack/ when not root;
removed on exit) answers each connection with a JSON dump of the counters:
`ustack stats` prints them like netstat -s.

"""
    + LINK_MODES
    + """

examples:
  ustack serve --http 8080 --run "curl -s http://198.18.0.1:8080/bytes/1000000 | sha256sum"
  ustack serve --http 8080 --run "ab -k -n 10000 -c 100 http://198.18.0.1:8080/bytes/1000"
  ustack serve --discard 5001 --run "iperf -c 198.18.0.1 -p 5001 -t 5"
  ustack serve --echo 7 --run "echo hello | socat - TCP:198.18.0.1:7"
  ustack serve --http 80 --echo 7 --discard 9 -v       # until Ctrl-C; ustack stats
  ustack serve --http 8080 --address 2001:2::1/64 \
      --run "curl -s http://[2001:2::1]:8080/bytes/1000 | wc -c"   # IPv4 and IPv6
  ustack serve --http 8080 --stacks 2 --run "curl -s 198.18.0.1:8080/bytes/1000 | wc -c"
                                                       # two stacks, two threads
  ustack serve --http 8080 --tap tap0                  # no root: curl 198.18.0.1:8080
  ustack serve --http 8080 --netns lab                 # ip netns exec lab curl ...
  ustack serve --driver dpdk --http 8080 --run "curl -s 198.18.0.1:8080/bytes/1000 | wc -c"
  ustack serve --driver dpdk --dpdk-args "-a 0000:03:00.0" --dpdk-base-args "" \\
      --address 192.0.2.10/24 --http 80          # a NIC bound to vfio-pci, hugepages
  ustack serve --driver dpdk --stacks 2 --http 8080 \\
      --run "curl -s 198.18.0.1:8080/bytes/1000 | wc -c"   # two stacks on two queue pairs
  ustack serve --driver afxdp --http 8080 --run "curl -s 198.18.0.1:8080/bytes/1000 | wc -c"
  ustack serve --driver afxdp --afxdp-mode generic --afxdp-queues 2 --discard 5001 \\
      --run "iperf -c 198.18.0.1 -p 5001 -P 2 -t 3"   # AF_XDP on a veth, two queues
  ustack serve --afxdp-ifname eth1 --address 192.0.2.10/24 --http 80   # the user's NIC
  ustack serve --http 8080 --pcap /tmp/serve.pcap --snaplen 128 --duration 30"""
)

CONTROL_DIR = Path("/run/ustack")


def control_dir() -> Path:
    """Where serve's control sockets go: /run/ustack for root, else the
    user's runtime folder ($XDG_RUNTIME_DIR/ustack, /tmp/ustack-<uid>)."""
    if os.geteuid() == 0:
        return CONTROL_DIR
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime:
        return Path(runtime) / "ustack"
    return Path(f"/tmp/ustack-{os.geteuid()}")


_RECV = 1 << 18  # bytes read per recv
_ECHO_HIGH = 1 << 20  # echo: stop reading while this much waits to go back
_HEADER_MAX = 16384  # HTTP: a request head longer than this is refused
_BYTES_MAX = 1 << 40  # HTTP: the largest /bytes/N
_ACCEPT_BURST = 64


def _port(text: str) -> int:
    value = int(text)
    if not 0 < value < 65536:
        raise argparse.ArgumentTypeError(f"a port is 1..65535, not {text}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """serve's options."""
    svc = parser.add_argument_group("services (at least one; each repeatable)")
    for kind, what in (
        ("echo", "TCP echo: send back what is received"),
        ("discard", "TCP discard: read and drop (an iperf2 sink)"),
        ("http", "HTTP/1.1: GET /bytes/N returns N bytes of the pattern"),
    ):
        svc.add_argument(
            f"--{kind}", type=_port, action="append", default=[], metavar="PORT", help=what
        )
    parser.add_argument(
        "--run",
        metavar="CMD",
        default=None,
        help="shell command run inside the namespace once serving; the server stops "
        "when it exits and returns its exit status",
    )
    parser.add_argument(
        "--duration",
        type=float,
        default=None,
        metavar="SECONDS",
        help="stop by itself after this many seconds (default: run until Ctrl-C)",
    )
    ctl = parser.add_mutually_exclusive_group()
    ctl.add_argument(
        "--control",
        type=Path,
        default=None,
        metavar="PATH",
        help=f"Unix socket answering `ustack stats` (default: {control_dir()}/serve-<pid>.sock)",
    )
    ctl.add_argument("--no-control", action="store_true", help="no control socket")
    parser.add_argument(
        "--backlog",
        type=int,
        default=1024,
        help="listen queue length; kern.ipc.somaxconn is raised to it when lower, so "
        "that a burst of hundreds of connects (ab -c 500) is queued, not reset "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--stacks",
        type=int,
        default=1,
        metavar="N",
        help="run N stacks, one per thread (many cores, docs/multicore.md): the TAP "
        "device gets N queues (IFF_MULTI_QUEUE) and stack i owns queue i; a frame that "
        "arrives on another stack's queue (the kernel spreads flows by its own hash) is "
        "handed to the stack that owns its flow (Toeplitz hash), and counted; every "
        "service listens on every stack, a worker thread per stack serves that stack's "
        "connections; the summary and `ustack stats` show each stack's connections and "
        "the re-steered frames.  The TAP gets a steering eBPF program that makes the "
        "kernel send each frame on its owner's queue (nothing re-steered; needs CAP_BPF, "
        "else the summary says why not).  With --driver afxdp: N AF_XDP queues instead, "
        "one per stack; with --driver dpdk: a DPDK port with N queue pairs (net_tap's "
        "kernel device gets N queues), one per stack.  (default: %(default)s, one stack "
        "and no threads)",
    )
    parser.add_argument(
        "--no-steering-program",
        action="store_true",
        help="with --stacks N on the TAP: no steering program; the kernel spreads the "
        "queues by its own flow hash and the stacks re-steer (for comparison)",
    )
    parser.add_argument(
        "--verbose",
        "-v",
        action="store_true",
        help="one line per connection: peer, service and the TCP options it "
        "negotiated (TCP_INFO), and its bytes when it ends",
    )
    add_link_arguments(parser)


class Service:
    """One listener and its totals."""

    def __init__(self, server: Server, kind: str, port: int, sock: Socket) -> None:
        self.server, self.kind, self.port, self.sock = server, kind, port, sock
        self.socks = [sock]  # the AF_INET listener, and the AF_INET6 one with IPv6
        self.accepted = self.active = self.bytes_in = self.bytes_out = 0

    def handle(self, events: int) -> None:
        for sock in self.socks:
            self._accept(sock)

    def _accept(self, sock: Socket) -> None:
        for _ in range(_ACCEPT_BURST):
            try:
                conn, peer = sock.accept()
            except BlockingIOError:
                return
            except OSError as exc:  # e.g. ECONNABORTED: gone before accept
                self.server.log(f"accept on {self.port}: {exc}")
                continue
            conn.setblocking(False)
            if self.kind != "discard":
                # Answers go out as soon as they are written (see HttpConn).
                conn.setsockopt(ustack.IPPROTO_TCP, ustack.TCP_NODELAY, 1)
            self.accepted += 1
            self.active += 1
            cls = {"echo": EchoConn, "discard": DiscardConn, "http": HttpConn}[self.kind]
            c = cls(self, conn, peer)
            if self.server.verbose:
                self.server.log(
                    f"{self.kind}:{self.port} accepted {format_endpoint(peer[0], peer[1])} "
                    f"{option_names(conn)}"
                )
            self.server.evq.register(conn, EV_IN, c)
            c.handle(EV_IN)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "port": self.port,
            "accepted": self.accepted,
            "active": self.active,
            "bytes_in": self.bytes_in,
            "bytes_out": self.bytes_out,
        }


class Conn:
    """An accepted connection; subclasses say what to do with its bytes."""

    def __init__(self, svc: Service, sock: Socket, peer: tuple[Any, ...]) -> None:
        self.svc, self.sock, self.peer = svc, sock, peer
        self.mask = EV_IN
        self.bytes_in = self.bytes_out = 0
        self.eof = False
        self.closed = False

    def handle(self, events: int) -> None:
        try:
            if events & (EV_IN | EV_HUP | EV_ERR) and self.want_read():
                self.read()
            self.write()
        except (ConnectionError, OSError) as exc:
            self.close(str(exc) or type(exc).__name__)
            return
        if self.closed:
            return
        if self.done():
            self.close()
            return
        mask = (EV_IN if self.want_read() else 0) | (EV_OUT if self.has_output() else 0)
        if mask != self.mask and mask:
            self.svc.server.evq.modify(self.sock, mask)
            self.mask = mask

    def read(self) -> None:
        for _ in range(8):
            try:
                data = self.sock.recv(_RECV)
            except BlockingIOError:
                return
            if not data:
                self.eof = True
                return
            self.bytes_in += len(data)
            self.svc.bytes_in += len(data)
            self.consume(data)
            if not self.want_read():
                return

    def sent(self, n: int) -> None:
        self.bytes_out += n
        self.svc.bytes_out += n

    def want_read(self) -> bool:
        return not self.eof

    def has_output(self) -> bool:
        return False

    def consume(self, data: bytes) -> None:
        """Bytes read from the peer."""

    def write(self) -> None:
        """Sends what is pending until the socket buffer is full."""

    def done(self) -> bool:
        return self.eof and not self.has_output()

    def close(self, why: str = "") -> None:
        if self.closed:
            return
        self.closed = True
        self.svc.active -= 1
        try:
            self.sock.close()  # graceful: what is queued still goes, then FIN
        except OSError:
            pass
        if self.svc.server.verbose:
            end = f" ({why})" if why else ""
            self.svc.server.log(
                f"{self.svc.kind}:{self.svc.port} closed "
                f"{format_endpoint(self.peer[0], self.peer[1])}: "
                f"{self.bytes_in} bytes in, {self.bytes_out} out{end}"
            )


class DiscardConn(Conn):
    """RFC 863: everything read is dropped."""


class EchoConn(Conn):
    """RFC 862: everything read is sent back; reading pauses while a
    megabyte waits, so a peer that never reads cannot grow memory."""

    def __init__(self, svc: Service, sock: Socket, peer: tuple[str, int]) -> None:
        super().__init__(svc, sock, peer)
        self.pending = bytearray()

    def want_read(self) -> bool:
        return not self.eof and len(self.pending) < _ECHO_HIGH

    def has_output(self) -> bool:
        return bool(self.pending)

    def consume(self, data: bytes) -> None:
        self.pending += data

    def write(self) -> None:
        while self.pending:
            try:
                n = self.sock.send(self.pending)
            except BlockingIOError:
                return
            del self.pending[:n]
            self.sent(n)


class _Request(http.server.BaseHTTPRequestHandler):
    """The standard library's HTTP/1.1 request handling (request line,
    headers, keep-alive rules of RFC 9112 9.3, error pages) on one complete
    request head; the response head goes to ``wfile``, and ``body_length``
    says how many bytes of the pattern follow it (the connection streams
    them).  Made per request by :class:`HttpConn`, never given a socket:
    the event loop owns the socket, so one server handles hundreds of
    connections without a thread each."""

    protocol_version = "HTTP/1.1"
    server_version = "ustack"
    sys_version = ""
    # Answers to requests it cannot read still start with a status line
    # (the stdlib's default, HTTP/0.9, sends the error page bare).
    default_request_version = "HTTP/1.0"

    def __init__(self, head: bytes, peer: tuple[str, int]) -> None:  # noqa: D107
        # Not super().__init__: that would read from and answer a socket.
        self.rfile = io.BytesIO(head)
        self.out = io.BytesIO()
        self.wfile = self.out
        self.client_address = peer
        self.body_length = 0
        self.close_connection = True
        self.requestline = ""
        self.request_version = "HTTP/1.0"
        self.command = ""

    def version_string(self) -> str:
        return self.server_version

    def respond(self) -> bytes:
        """The response head for the request (or an error page, whole)."""
        self.handle_one_request()
        return self.out.getvalue()

    def refuse(self, code: int) -> bytes:
        """An error page that ends the connection, for a request the loop
        could not hand over (a head longer than the server takes)."""
        self.send_error(code)
        return self.out.getvalue()

    def do_GET(self) -> None:  # noqa: N802 (the stdlib's naming)
        if "Content-Length" in self.headers or "Transfer-Encoding" in self.headers:
            # A GET with a body is not something this server expects: refuse
            # rather than misread the body as the next request.
            self.send_error(400, None, "request bodies are not supported")
            return
        size = _bytes_path(self.path)
        if size is None:
            self.send_error(404, None, "try /bytes/N for N bytes of the pattern")
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(size))
        # ab (and HTTP/1.0 clients) keep the connection only when told so.
        self.send_header("Connection", "close" if self.close_connection else "keep-alive")
        self.end_headers()
        if self.command != "HEAD":
            self.body_length = size

    do_HEAD = do_GET  # noqa: N815

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Quiet: serve -v logs connections, not requests."""


# --- HTTP ---------------------------------------------------------------------
#
# The request path copies nothing it need not: each connection reads into a
# bytearray of its own (recv_into), the head is found and parsed where it lies
# (re on the bytearray, bounded by pos/endpos), and the answer leaves in one
# send whose body is never concatenated to the head: the head is written into
# the room left just before a cached copy of the pattern's first block, so the
# send covers [head | body] in place (see _Slab).  Requests the fast parser does
# not recognise in full go to the standard library's handler (:class:`_Request`),
# which answers them as before; for those it does recognise, the fast path
# answers byte for byte what the standard library would (the tests compare the
# two).

_IN_FIRST = 4096  # a connection's first read buffer; grown up to _IN_MAX
_IN_MAX = _HEADER_MAX + 1  # enough to see that a head is too long
_HEAD_ROOM = 1024  # head bytes the slab holds before the body
_BLOCK_CACHE = 32  # pattern blocks kept per process (64 KiB each)
_MAX_HEADERS = 100  # http.client's limit: more and the stdlib answers 431

# GET or HEAD of an absolute path, HTTP/1.0 or 1.1, nothing unusual; the
# header lines as RFC 9112 5 writes them (token ":" OWS value), ASCII only.
_REQUEST_LINE = re.compile(rb"(GET|HEAD) (/[!-~]*) HTTP/1\.([01])\r\n")
_HEADER_LINE = re.compile(rb"([!-9;-~]+):[ \t]*([\t -~]*)\r\n")
_BYTES_TARGET = re.compile(rb"/bytes/([0-9]+)(?:\?[!-~]*)?")
# Headers the fast path leaves to the standard library: a body (refused
# there), and Expect (a 100 Continue first).
_SLOW_HEADERS = frozenset((b"content-length", b"transfer-encoding", b"expect"))


class _Blocks:
    """The pattern's 64 KiB blocks, made once per process (immutable bytes,
    so every thread and connection shares them) -- at most _BLOCK_CACHE of
    them; beyond that a block is made for the one send that needs it."""

    def __init__(self) -> None:
        self.blocks: dict[int, bytes] = {}
        self.lock = threading.Lock()

    def get(self, idx: int) -> bytes:
        key = idx & 0xFF  # the pattern's period is 256 blocks (16 MiB)
        b = self.blocks.get(key)
        if b is None:
            b = pattern.block(idx)
            with self.lock:
                if len(self.blocks) < _BLOCK_CACHE:
                    self.blocks[key] = b
        return b


_BLOCKS = _Blocks()


class _Slab(threading.local):
    """Per thread: _HEAD_ROOM bytes of room followed by the pattern's first
    block, so that a response head written right before the block makes
    [head | first bytes of body] one contiguous buffer for one send, with
    only the head copied.  ``send`` copies the bytes into the stack's mbufs
    before it returns, so the next response may overwrite the room."""

    buf: bytearray | None = None
    view = memoryview(b"")

    def frame(self, head: bytes, body: int) -> memoryview:
        """[head | ``body`` bytes of the pattern] (body <= a block)."""
        if self.buf is None:
            self.buf = bytearray(_HEAD_ROOM) + _BLOCKS.get(0)
            self.view = memoryview(self.buf)
        start = _HEAD_ROOM - len(head)
        self.buf[start:_HEAD_ROOM] = head
        return self.view[start : _HEAD_ROOM + body]


_SLAB = _Slab()


class _Heads(threading.local):
    """Per thread: response heads of the fast path, as the standard library
    writes them (status line, Server, Date, then do_GET's three headers),
    cached for the current second (the Date header's)."""

    second = -1
    prefix = b""
    heads: dict[tuple[int, bool], bytes] = {}

    def get(self, size: int, close: bool) -> bytes:
        now = time.time()
        if int(now) != self.second:
            self.second = int(now)
            self.heads = {}
            date = email.utils.formatdate(now, usegmt=True)
            self.prefix = f"HTTP/1.1 200 OK\r\nServer: ustack\r\nDate: {date}\r\n".encode()
        head = self.heads.get((size, close))
        if head is None:
            head = (
                self.prefix
                + (
                    "Content-Type: application/octet-stream\r\n"
                    f"Content-Length: {size}\r\n"
                    f"Connection: {'close' if close else 'keep-alive'}\r\n\r\n"
                ).encode()
            )
            if len(self.heads) < 64:
                self.heads[(size, close)] = head
        return head


_HEADS = _Heads()


def fast_request(buf: bytes | bytearray, start: int, end: int) -> tuple[int, bool, bool] | None:
    """The request head ``buf[start:end]`` (ending in CRLF CRLF), parsed in
    place when it is a plain GET or HEAD of /bytes/N: ``(N, head_only,
    close)``, where close follows the standard library's keep-alive rules
    (HTTP/1.1 keeps the connection unless "Connection: close"; HTTP/1.0
    closes it unless "Connection: keep-alive"; the first Connection header
    counts).  None for anything else: the standard library answers it."""
    m = _REQUEST_LINE.match(buf, start, end)
    if m is None:
        return None
    t = _BYTES_TARGET.fullmatch(m.group(2))
    if t is None:
        return None
    size = int(t.group(1))
    if size > _BYTES_MAX:
        return None
    close = m.group(3) == b"0"
    conn: bytes | None = None
    pos, last, count = m.end(), end - 2, 0
    while pos < last:
        h = _HEADER_LINE.match(buf, pos, end)
        if h is None:
            return None
        count += 1
        name = h.group(1).lower()
        if name in _SLOW_HEADERS or count > _MAX_HEADERS:
            return None
        if conn is None and name == b"connection":
            conn = h.group(2).lower()
        pos = h.end()
    if pos != last:
        return None
    if conn == b"close":
        close = True
    elif conn == b"keep-alive":
        close = False
    return size, m.group(1) == b"HEAD", close


class HttpConn(Conn):
    """HTTP/1.1 (RFC 9112) GET and HEAD of /bytes/N, one request at a time
    (pipelined ones wait their turn in ``inbuf``).  Each response leaves in
    one send -- head and the first 64 KiB of body together -- and the
    socket has TCP_NODELAY: a head sent alone, then a small body, is held by
    Nagle's algorithm (RFC 896) until the client's delayed ACK (40 ms on
    Linux), and a keep-alive client waits that long for every answer.

    Requests are read with recv_into into ``inbuf`` (its unparsed bytes are
    ``inbuf[start:filled]``), parsed there, and the body comes from the
    process's cached pattern blocks: no request or body byte is copied in
    Python (see the comment above :class:`_Blocks`)."""

    def __init__(self, svc: Service, sock: Socket, peer: tuple[str, int]) -> None:
        super().__init__(svc, sock, peer)
        self.inbuf = bytearray(_IN_FIRST)
        self.inview = memoryview(self.inbuf)
        self.start = self.filled = 0
        self.out: bytes | memoryview = b""  # head bytes still to send
        self.body_off = self.body_end = 0
        self.keep_alive = True
        self.requests = 0

    def want_read(self) -> bool:
        return not self.eof and self.filled - self.start <= _HEADER_MAX

    def has_output(self) -> bool:
        return bool(self.out) or self.body_off < self.body_end

    def done(self) -> bool:
        if self.has_output():
            return False
        return self.eof or not self.keep_alive

    def read(self) -> None:
        while True:
            if self.filled == len(self.inbuf) and not self._make_room():
                return
            space = len(self.inbuf) - self.filled
            try:
                n = self.sock.recv_into(self.inview[self.filled :], space)
            except BlockingIOError:
                return
            if not n:
                self.eof = True
                return
            self.filled += n
            self.bytes_in += n
            self.svc.bytes_in += n
            # Short: the socket is drained (events are level-triggered, so
            # what arrives next is reported again).
            if n < space or not self.want_read():
                return

    def _make_room(self) -> bool:
        """Room after ``filled``: the unparsed bytes moved to the front, or
        a larger buffer (up to _IN_MAX).  False when full at _IN_MAX."""
        pending = self.filled - self.start
        if self.start:
            self.inbuf[:pending] = self.inview[self.start : self.filled]
            self.start, self.filled = 0, pending
            return True
        if len(self.inbuf) >= _IN_MAX:
            return False
        grown = bytearray(min(2 * len(self.inbuf), _IN_MAX))
        grown[:pending] = self.inview[:pending]
        self.inview.release()
        self.inbuf, self.inview = grown, memoryview(grown)
        return True

    def _next_request(self) -> bool:
        """Answers the next request when its head is complete (False when
        it is not: wait for more)."""
        end = self.inbuf.find(b"\r\n\r\n", self.start, self.filled)
        if end < 0:
            if self.filled - self.start <= _HEADER_MAX:
                return False
            self.start = self.filled = 0
            self._queue(_Request(b"", self.peer).refuse(431), 0, close=True)
            return True
        end += 4
        parsed = fast_request(self.inbuf, self.start, end)
        if parsed is None:
            req = _Request(bytes(self.inview[self.start : end]), self.peer)
            head = req.respond()
            length, close = req.body_length, req.close_connection
        else:
            size, head_only, close = parsed
            head = _HEADS.get(size, close)
            length = 0 if head_only else size
        self.start = end
        if end == self.filled:
            self.start = self.filled = 0
        self.requests += 1
        self._queue(head, length, close=close)
        return True

    def _queue(self, head: bytes, length: int, *, close: bool) -> None:
        """The head and up to a block of the body in one send (from the
        slab: only the head is copied); what the socket does not take, and
        the rest of the body, is sent as it takes it."""
        self.keep_alive = not close
        self.body_end = length
        first = min(length, pattern.BLOCK)
        if not first or len(head) > _HEAD_ROOM:
            self.out, self.body_off = head, 0
            return
        n = self._send(_SLAB.frame(head, first)) or 0
        if n < len(head):
            self.out, self.body_off = head[n:], 0
        else:
            self.out, self.body_off = b"", n - len(head)

    def write(self) -> None:
        while True:
            if not self.has_output():
                if not self.keep_alive or self.start == self.filled:
                    return
                if not self._next_request():
                    return  # an incomplete request: wait for more
                continue
            if self.out:
                n = self._send(self.out)
                if n is None:
                    return
                self.out = self.out[n:]
                continue
            idx, start = divmod(self.body_off, pattern.BLOCK)
            stop = min(pattern.BLOCK, start + self.body_end - self.body_off)
            n = self._send(memoryview(_BLOCKS.get(idx))[start:stop])
            if n is None:
                return
            self.body_off += n

    def _send(self, data: bytes | memoryview) -> int | None:
        """One send; None when the socket takes nothing now: its buffer is
        full (EAGAIN), or the stack's mbufs are (ENOBUFS: hundreds of
        connections with 64 KiB answers queued) -- a moment's shortage,
        not the connection's end: the answer goes on once ACKs free them
        (EV_OUT is level-triggered, so the loop retries)."""
        try:
            n = self.sock.send(data)
        except BlockingIOError:
            return None
        except OSError as exc:
            if exc.errno != errno.ENOBUFS:
                raise
            return None
        self.sent(n)
        return n


def _bytes_path(target: str) -> int | None:
    path = target.split("?", 1)[0]
    if not path.startswith("/bytes/"):
        return None
    digits = path[len("/bytes/") :]
    # ASCII digits only: str.isdigit() also takes e.g. "²", which int() refuses.
    if not (digits.isascii() and digits.isdigit()) or int(digits) > _BYTES_MAX:
        return None
    return int(digits)


def _snapshot(
    link: Any,
    started: float,
    services: list[dict[str, Any]],
    stacks: Any,
    iface: dict[str, int],
) -> dict[str, Any]:
    """The control socket's JSON (what `ustack stats` prints), for one stack
    or a group: ``stacks`` is the Stack or the StackGroup whose counters,
    connections and netstat it gives."""
    return {
        "pid": os.getpid(),
        "uptime": time.monotonic() - started,
        "address": str(link.address),
        "peer_address": str(link.peer_address),
        "address6": None if link.address6 is None else str(link.address6),
        "peer_address6": None if link.peer_address6 is None else str(link.peer_address6),
        "ifname": link.ifname,
        "services": services,
        "stack": stacks.stats,
        "driver": link.driver,
        link.driver: link.driver_stats,
        "interface": iface,
        "connections": [
            {
                "local": format_endpoint(c.local[0], c.local[1]),
                "remote": format_endpoint(c.remote[0], c.remote[1]),
                "state": c.state_name,
            }
            for c in stacks.tcp_connections()
        ],
        "netstat": stacks.netstat(),
    }


class Server:
    """The listeners, their connections and the loop that drives them: of
    the link's stack, or (``serve --stacks N``) of one stack of its group,
    run by a worker thread of its own (:meth:`serve_forever`)."""

    def __init__(
        self,
        link: StackLink,
        verbose: bool,
        stack: ustack.Stack | None = None,
        index: int | None = None,
    ) -> None:
        self.link = link
        self.verbose = verbose
        self.stack = link.stack if stack is None else stack
        self.index = index
        self.evq = EventQueue(self.stack)
        self.services: list[Service] = []
        self.started = time.monotonic()

    def log(self, line: str) -> None:
        where = "" if self.index is None else f"stack {self.index}: "
        print(f"[{time.monotonic() - self.started:8.3f}] {where}{line}", flush=True)

    def listen(self, kind: str, port: int, backlog: int) -> None:
        stack = self.stack
        if backlog > int(stack.sysctl("kern.ipc.somaxconn")):
            stack.sysctl("kern.ipc.somaxconn", backlog)
        sock = self._listener(ustack.AF_INET, ("", port), backlog)
        svc = Service(self, kind, port, sock)
        self.services.append(svc)
        self.evq.register(sock, EV_IN, svc)
        if self.link.address6 is not None:
            sock6 = self._listener(ustack.AF_INET6, ("::", port), backlog)
            svc.socks.append(sock6)
            self.evq.register(sock6, EV_IN, svc)

    def _listener(self, family: int, address: tuple[Any, ...], backlog: int) -> Socket:
        sock = self.stack.socket(family, ustack.SOCK_STREAM)
        try:
            sock.setsockopt(ustack.SOL_SOCKET, ustack.SO_REUSEADDR, 1)
            if family == ustack.AF_INET6:
                sock.setsockopt(ustack.IPPROTO_IPV6, ustack.IPV6_V6ONLY, 1)
            sock.bind(address)
            sock.listen(backlog)
            sock.setblocking(False)
        except BaseException:
            sock.close()
            raise
        return sock

    def step(self) -> bool:
        """One round: the stack's frames and timers, then every ready socket.
        True when anything happened (so the loop should not sleep)."""
        busy = self.link.poll() > 0
        ready = self.evq.ready()
        for obj, events in ready:
            obj.handle(events)
        return busy or bool(ready)

    def serve_forever(self, stop: threading.Event, errors: list[BaseException]) -> None:
        """A worker thread's loop (a threaded stack): wait on the event
        queue (ust_evq_wait: the stack's thread wakes it), handle what is
        ready, until ``stop``.  An exception ends it, kept in ``errors``
        (and sets ``stop``)."""
        try:
            while not stop.is_set():
                for obj, events in self.evq.poll(0.05):
                    obj.handle(events)
        except BaseException as exc:
            errors.append(exc)
            stop.set()

    def snapshot(self) -> dict[str, Any]:
        """What the control socket answers (and `ustack stats` prints)."""
        link = self.link
        return _snapshot(
            link,
            self.started,
            [s.as_dict() for s in self.services],
            link.stack,
            link.iface.stats,
        )

    def close(self) -> None:
        for svc in self.services:
            for sock in svc.socks:
                sock.close()
        self.evq.close()


class GroupServer:
    """``serve --stacks N``: a :class:`Server` per stack of the link's group,
    each with its own listeners (a SYN is accepted on the stack its hash
    selects) and event queue, run by a worker thread of its own."""

    def __init__(self, link: GroupLink, verbose: bool) -> None:
        self.link = link
        self.verbose = verbose
        self.workers = [Server(link, verbose, st, i) for i, st in enumerate(link.stacks)]
        self.started = time.monotonic()
        self.stop = threading.Event()
        self.errors: list[BaseException] = []
        self.threads: list[threading.Thread] = []

    def listen(self, kind: str, port: int, backlog: int) -> None:
        for w in self.workers:
            w.listen(kind, port, backlog)

    def start(self) -> None:
        for w in self.workers:
            t = threading.Thread(
                target=w.serve_forever,
                args=(self.stop, self.errors),
                name=f"serve-stack-{w.index}",
                daemon=True,
            )
            t.start()
            self.threads.append(t)

    def join(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(5.0)

    @property
    def services(self) -> list[dict[str, Any]]:
        """Each service's totals over the stacks, with ``per_stack``
        accepted connections."""
        out = []
        for k, svc in enumerate(self.workers[0].services):
            per = [w.services[k] for w in self.workers]
            d = svc.as_dict()
            for key in ("accepted", "active", "bytes_in", "bytes_out"):
                d[key] = sum(getattr(p, key) for p in per)
            d["per_stack"] = [p.accepted for p in per]
            out.append(d)
        return out

    def snapshot(self) -> dict[str, Any]:
        """The control socket's JSON: as one stack's, summed over the
        group, with ``stacks`` (per stack: connections, counters and
        steering counters) and ``rss`` (the group's steering counters)."""
        link = self.link
        group = link.group
        assert group is not None
        iface: dict[str, int] = {}
        for ifc in link.ifaces:
            for key, value in ifc.stats.items():
                iface[key] = iface.get(key, 0) + value
        snap = _snapshot(link, self.started, self.services, group, iface)
        snap["rss"] = group.rss_stats
        snap["stacks"] = [
            {
                "index": w.index,
                "accepted": sum(svc.accepted for svc in w.services),
                "stack": w.stack.stats,
                "rss": group.rss_stats_of(i),
            }
            for i, w in enumerate(self.workers)
        ]
        return snap

    def close(self) -> None:
        self.join()
        for w in self.workers:
            w.close()


class Control:
    """The Unix socket that answers every connection with a JSON snapshot."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if path.exists() or path.is_symlink():
            path.unlink()
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(str(path))
        self.sock.listen(8)
        self.sock.setblocking(False)

    def fileno(self) -> int:
        return self.sock.fileno()

    def answer(self, server: Server | GroupServer) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except BlockingIOError:
                return
            with conn:
                conn.settimeout(2.0)
                try:
                    conn.sendall(json.dumps(server.snapshot()).encode() + b"\n")
                except OSError:
                    pass

    def close(self) -> None:
        self.sock.close()
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass


class _PortRefused(Exception):
    """A service's port could not be listened on (the message says which)."""


def _open_services(
    server: Server | GroupServer,
    link: Any,
    args: argparse.Namespace,
    services: list[tuple[str, int]],
    on: str,
) -> Control | None:
    """Every service's listeners, the control socket and the banner line
    (``on`` says where, e.g. " on 2 stacks").  _PortRefused when a port
    cannot be listened on."""
    for kind, port in services:
        try:
            server.listen(kind, port, args.backlog)
        except OSError as exc:
            raise _PortRefused(f"ustack serve: {kind} port {port}: {exc}") from exc
    control = None
    if not args.no_control:
        control = Control(args.control or control_dir() / f"serve-{os.getpid()}.sock")
    names = ", ".join(f"{k} {link.ip}:{p}" for k, p in services)
    kernel = link.peer_ip
    if link.address6 is not None:
        names += ", " + ", ".join(f"{k} {format_endpoint(link.ip6, p)}" for k, p in services)
        if link.peer_address6 is not None:
            kernel += f", {link.peer_ip6}"
    ctl = f"; ustack stats --control {control.path}" if control else ""
    print(f"ustack serve: {names}{on} (kernel side {kernel}){ctl}", flush=True)
    return control


def _stop_reason(
    stop: Stopper,
    proc: subprocess.Popen[bytes] | None,
    deadline: float | None,
    now: float,
    args: argparse.Namespace,
) -> tuple[str, int] | None:
    """Why the server stops now and the status it exits with (0 unless
    --run's), or None to go on."""
    if stop.stopped:
        return stop.signame or "", 0
    if proc is not None and proc.poll() is not None:
        return f"--run exited with status {proc.returncode}", proc.returncode
    if deadline is not None and now >= deadline:
        return f"--duration {args.duration:g} s", 0
    return None


def run(args: argparse.Namespace) -> int:
    """Serve until Ctrl-C, --duration or the --run command's end."""
    services = [(k, p) for k in ("echo", "discard", "http") for p in getattr(args, k)]
    if not services:
        print(
            "ustack serve: nothing to serve: give --echo, --discard or --http PORT", file=sys.stderr
        )
        return 2
    if args.stacks != 1:
        problem = _stacks_problem(args)
        if problem is not None:
            print(f"ustack serve: --stacks {args.stacks}: {problem}", file=sys.stderr)
            return 2
    rc = enter_namespace(args, "serve", "serve")
    if rc is not None:
        return rc
    if args.stacks != 1:
        return run_group(args, services)
    link = open_link(args, "serve")
    control: Control | None = None
    proc: subprocess.Popen[bytes] | None = None
    status = 0
    server = Server(link, args.verbose)
    with Stopper() as stop:
        try:
            try:
                control = _open_services(server, link, args, services, "")
            except _PortRefused as exc:
                print(exc, file=sys.stderr)
                return 1
            if args.run:
                proc = subprocess.Popen(args.run, shell=True)
            deadline = None if args.duration is None else server.started + args.duration
            why = ""
            last_ctl = 0.0
            while True:
                busy = server.step()
                now = time.monotonic()
                end = _stop_reason(stop, proc, deadline, now, args)
                if end is not None:
                    why, status = end
                    break
                if control is not None and now - last_ctl > 0.1:
                    control.answer(server)
                    last_ctl = now
                if not busy:
                    fds = [control.fileno()] if control is not None else []
                    if wait_io(link, fds) and control is not None:
                        control.answer(server)
            print(f"ustack serve: stopping ({why})", flush=True)
        finally:
            if proc is not None:
                end_process(proc)
            if control is not None:
                control.close()
            elapsed = time.monotonic() - server.started
            try:
                for svc in server.services:
                    print(
                        f"{svc.kind}:{svc.port}: {svc.accepted} connections, "
                        f"{svc.bytes_in} bytes in, {svc.bytes_out} bytes out"
                    )
                print(summary(link, elapsed), flush=True)
            finally:  # a closed stdout (| head) must not leave the link (a veth) behind
                server.close()
                link.close()
    return status


def _stacks_problem(args: argparse.Namespace) -> str | None:
    """Why --stacks N cannot be used with the other options (None: it can)."""
    if not 1 <= args.stacks <= ustack.group.GROUP_MAX:
        return f"1..{ustack.group.GROUP_MAX} stacks"
    if use_netmap(args):
        return "several stacks run on the TAP driver, DPDK or AF_XDP (--driver tap, dpdk or afxdp)"
    if use_afxdp(args) and args.afxdp_queues not in (1, args.stacks):
        return f"--afxdp-queues {args.afxdp_queues}: a stack per queue, give --stacks as many"
    if args.tap is not None:
        return "several stacks need a multi-queue TAP device made for the run, not --tap"
    if args.pcap is not None:
        return "--pcap captures one interface: not with several stacks"
    return None


def run_group(args: argparse.Namespace, services: list[tuple[str, int]]) -> int:
    """``serve --stacks N``: a worker thread per stack of a threaded group
    on a multi-queue device (TAP, AF_XDP or DPDK queues), until Ctrl-C,
    --duration or --run's end."""
    link = open_group_link(args, "serve")
    control: Control | None = None
    proc: subprocess.Popen[bytes] | None = None
    status = 0
    server = GroupServer(link, args.verbose)
    with Stopper() as stop:
        try:
            try:
                control = _open_services(
                    server, link, args, services, f" on {len(link.stacks)} stacks"
                )
            except _PortRefused as exc:
                print(exc, file=sys.stderr)
                return 1
            server.start()
            if args.run:
                proc = subprocess.Popen(args.run, shell=True)
            deadline = None if args.duration is None else server.started + args.duration
            why = ""
            while True:
                now = time.monotonic()
                if server.stop.is_set():
                    err = server.errors[0] if server.errors else None
                    why, status = f"a worker thread failed: {err!r}", 1
                    break
                end = _stop_reason(stop, proc, deadline, now, args)
                if end is not None:
                    why, status = end
                    break
                fds = [control.fileno()] if control is not None else []
                if wait_io(link, fds, 0.05) and control is not None:
                    control.answer(server)
            print(f"ustack serve: stopping ({why})", flush=True)
        finally:
            if proc is not None:
                end_process(proc)
            if control is not None:
                control.close()
            server.join()
            elapsed = time.monotonic() - server.started
            try:
                for svc in server.services:
                    per = ", ".join(f"{n}" for n in svc["per_stack"])
                    print(
                        f"{svc['kind']}:{svc['port']}: {svc['accepted']} connections "
                        f"(per stack: {per}), {svc['bytes_in']} bytes in, "
                        f"{svc['bytes_out']} bytes out"
                    )
                print(summary(link, elapsed), flush=True)
            finally:
                server.close()
                link.close()
    return status
