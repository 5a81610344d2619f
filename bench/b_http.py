"""HTTP requests per second and latency: ``ustack serve --http`` over TAP next to
nginx on the Linux kernel over veth, the same bytes from both (issue 19 item 6).

One test bed for the whole run, three namespaces made and removed here
(addresses from 198.18.0.0/15):

- client (C): the kernel's clients, wrk and ab, pinned to CPU 0;
- ustack: ``ustack serve --http 8080`` (Python, on examples' TAP driver) makes its
  TAP device inside C: ustack 198.18.0.1, the kernel 198.18.0.2;
- Linux (S): nginx from Debian (``nginx -p DIR -c DIR/nginx.conf``: daemon off, one
  worker, access_log off, sendfile, tcp_nodelay, keepalive_requests 1000000),
  joined to C by a veth pair: nginx 198.18.1.1, the client 198.18.1.2; it serves
  DIR/www/bytes/N, files written from ustack.pattern, so /bytes/N is the same N
  bytes from both servers (checked before and after the load: status, length and
  SHA-256 of every size from every server).  Both servers are pinned to CPU 1.

Each case (body size, concurrency, keep-alive or ``Connection: close``) runs
``wrk -t1 -cN -dS --latency`` against each server in turn, alternating which goes
first run by run; ab (single-threaded) cross-checks a few cases.  Figures:
requests/s, p50 and p99 latency (wrk's distribution), and the response head's size
of each server (nginx sends more headers).  No speed goal: the goal is that every
request is answered (0 socket errors, 0 non-2xx answers); the Python server is
interpreter-bound, so nginx is expected to win.

Root only (namespaces, TAP); nginx, wrk and ab (apache2-utils) are installed with
apt-get when missing, else the module says why it skipped.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import select
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchlib import Context

NAME = "http"
DESCRIPTION = (
    "HTTP requests/s and latency (wrk, ab): ustack serve --http over TAP vs nginx "
    "on the kernel over veth, same bytes"
)
GOAL = "every request answered: 0 socket errors, 0 non-2xx"

ROOT = Path(__file__).resolve().parent.parent
PORT = 8080
USTACK_IP, TAP_KERNEL_IP = "198.18.0.1", "198.18.0.2"
AFXDP_NET = "198.18.2"  # serve --driver afxdp: .1 ustack, .2 the kernel
C_NET = "198.18.3"  # examples/http_server --tap: .1 ustack, .2 the kernel
NGINX_IP, VETH_CLIENT_IP = "198.18.1.1", "198.18.1.2"
SERVER_CPU, CLIENT_CPU = 1, 0
# What each tool is and which Debian package has it.
TOOLS = {"nginx": "nginx-light", "wrk": "wrk", "ab": "apache2-utils"}


# --- what the clients print --------------------------------------------------


@dataclass
class Load:
    """One client run against one server."""

    tool: str
    requests: int
    seconds: float
    rps: float
    p50_ms: float | None
    p99_ms: float | None
    errors: int  # connect/read/write/timeout errors (wrk), failed requests (ab)
    non2xx: int
    detail: dict[str, int] = field(default_factory=dict)

    @property
    def failures(self) -> int:
        return self.errors + self.non2xx


_UNITS_MS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    if m is None:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(m.group(1)) * _UNITS_MS[m.group(2)]


def parse_wrk(text: str) -> Load:
    """wrk's report (with --latency): requests, duration, Requests/sec, the 50%
    and 99% latencies, socket errors and non-2xx/3xx answers."""
    m = re.search(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m|h), ", text, re.M)
    rps = re.search(r"^Requests/sec:\s*([\d.]+)", text, re.M)
    if m is None or rps is None:
        raise ValueError(f"not a wrk report:\n{text}")
    pct = dict(re.findall(r"^\s*(50|99)(?:\.0+)?%\s+([\d.]+(?:us|ms|s|m|h))\s*$", text, re.M))
    detail = {"connect": 0, "read": 0, "write": 0, "timeout": 0}
    err = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if err is not None:
        detail = dict(zip(detail, map(int, err.groups()), strict=True))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    return Load(
        tool="wrk",
        requests=int(m.group(1)),
        seconds=_ms(m.group(2) + m.group(3)) / 1e3,
        rps=float(rps.group(1)),
        p50_ms=_ms(pct["50"]) if "50" in pct else None,
        p99_ms=_ms(pct["99"]) if "99" in pct else None,
        errors=sum(detail.values()),
        non2xx=int(bad.group(1)) if bad else 0,
        detail=detail,
    )


def parse_ab(text: str) -> Load:
    """ab's report: complete and failed requests, non-2xx answers, requests
    per second, the 50% and 99% times (ms)."""

    def field_(name: str) -> str | None:
        m = re.search(rf"^{name}:\s+([\d.]+)", text, re.M)
        return m.group(1) if m else None

    complete, rps, took = field_("Complete requests"), field_("Requests per second"), None
    took = field_("Time taken for tests")
    if complete is None or rps is None or took is None:
        raise ValueError(f"not an ab report:\n{text}")
    pct = dict(re.findall(r"^\s*(50|99)%\s+(\d+)", text, re.M))
    failed = int(field_("Failed requests") or 0)
    non2xx = int(field_("Non-2xx responses") or 0)
    return Load(
        tool="ab",
        requests=int(complete),
        seconds=float(took),
        rps=float(rps),
        p50_ms=float(pct["50"]) if "50" in pct else None,
        p99_ms=float(pct["99"]) if "99" in pct else None,
        errors=failed,
        non2xx=non2xx,
        detail={"failed": failed},
    )


# --- the tools ---------------------------------------------------------------


def _which(tool: str) -> str | None:
    # nginx lives in /usr/sbin, which a user's PATH may lack.
    return shutil.which(tool) or shutil.which(tool, path="/usr/sbin:/usr/bin:/sbin:/bin")


def missing_tools() -> list[str]:
    """The Debian packages of the tools not installed."""
    return [pkg for tool, pkg in TOOLS.items() if _which(tool) is None]


def ensure_tools(ctx: Context | None = None) -> str | None:
    """Installs nginx, wrk and ab with apt-get when missing (root only; once,
    idempotent: nothing happens when they are there).  Why they cannot be
    had, or None.  A package's own nginx service, if the install started
    one, is stopped again."""
    missing = missing_tools()
    if not missing:
        return None
    need = f"{', '.join(missing)} not installed (apt-get install {' '.join(missing)})"
    if os.geteuid() != 0:
        return need
    if shutil.which("apt-get") is None:
        return f"{need}; no apt-get here"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    had_pid = Path("/run/nginx.pid").exists()
    proc = None
    for update in (False, True):
        if update:
            subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True, check=False)
        proc = subprocess.run(
            ["apt-get", "install", "-y", "-qq", *missing],
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=600,
        )
        if proc.returncode == 0:
            break
    if not had_pid and Path("/run/nginx.pid").exists() and _which("nginx"):
        # A system with a service manager started the package's nginx: stop it.
        subprocess.run([str(_which("nginx")), "-s", "quit"], capture_output=True, check=False)
    still = missing_tools()
    if still:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] if proc else []
        return f"{', '.join(still)} could not be installed with apt-get: {' '.join(tail)}"
    if ctx is not None:
        ctx.note(f"installed {' '.join(missing)} with apt-get")
    return None


# --- the test bed --------------------------------------------------------------

NGINX_CONF = """\
daemon off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
worker_rlimit_nofile 8192;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {d}/tmp/body;
    proxy_temp_path {d}/tmp/proxy;
    fastcgi_temp_path {d}/tmp/fastcgi;
    uwsgi_temp_path {d}/tmp/uwsgi;
    scgi_temp_path {d}/tmp/scgi;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_requests 1000000;
    default_type application/octet-stream;
    server {{
        listen {ip}:{port} backlog=4096;
        root {d}/www;
    }}
}}
"""

# Run in the client namespace: GET /bytes/N from each server, keep-alive, twice
# on one connection; prints {url: head length} or exits non-zero saying what
# was wrong (status, Content-Length, SHA-256 of the body).
CHECKER = r"""
import hashlib, json, socket, sys, time
sys.path.insert(0, sys.argv[1])
from ustack import pattern
urls, sizes = json.loads(sys.argv[2]), json.loads(sys.argv[3])
def answer(s, buf):
    while b"\r\n\r\n" not in buf:
        d = s.recv(65536)
        if not d:
            raise SystemExit(f"closed before a head: {buf!r}")
        buf += d
    head, _, buf = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    hdr = {k.lower(): v.strip() for k, _, v in (l.partition(":") for l in lines[1:])}
    n = int(hdr.get("content-length", -1))
    while len(buf) < n:
        d = s.recv(1 << 20)
        if not d:
            break
        buf += d
    return lines[0], len(head) + 4, buf[:n], buf[n:]
out = {}
for name, (host, port) in urls.items():
    deadline = time.monotonic() + 10
    while True:
        try:
            s = socket.create_connection((host, port), timeout=10)
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    heads, buf = {}, b""
    for n in sizes + sizes:
        s.sendall(b"GET /bytes/%d HTTP/1.1\r\nHost: %s\r\n\r\n" % (n, host.encode()))
        status, hlen, body, buf = answer(s, buf)
        if not status.startswith("HTTP/1.1 200"):
            raise SystemExit(f"{name} /bytes/{n}: {status}")
        if len(body) != n or hashlib.sha256(body).hexdigest() != pattern.sha256(n):
            raise SystemExit(f"{name} /bytes/{n}: {len(body)} bytes, not the pattern's {n}")
        heads[n] = hlen
    s.close()
    out[name] = heads
print(json.dumps(out))
"""


@dataclass
class Server:
    name: str  # "ustack" (serve over TAP), "afxdp" (serve over AF_XDP), "linux" (nginx)
    label: str
    host: str
    tag: str = ""  # appended to the case of its records (the TAP serve's have none)


class Bed:
    """The namespaces, the servers and the client's commands (see the module
    documentation); ``close`` stops every process and removes everything,
    whatever happened."""

    def __init__(self, ctx: Context, sizes: tuple[int, ...], extra: bool = False) -> None:
        """``extra``: also ``serve --driver afxdp`` (on a veth in the client's
        namespace), when it starts (else a note says why not)."""
        from ustack.netns import NetNs

        self.ctx = ctx
        self.sizes = sizes
        self.pin = len(os.sched_getaffinity(0)) >= 2
        self.stack = contextlib.ExitStack()
        self.procs: list[tuple[str, subprocess.Popen[str]]] = []
        self.servers: list[Server] = []
        self.outputs: dict[str, str] = {}
        try:
            self.dir = Path(self.stack.enter_context(tempfile.TemporaryDirectory(prefix="b_http-")))
            self.client = self.stack.enter_context(NetNs("bench-http-c"))
            self.nginx_ns = self.stack.enter_context(NetNs("bench-http-s"))
            self.stack.callback(self._stop_all)
            self._client_sysctls()
            self._start_ustack()
            if extra:
                self._start_c()
                self._start_afxdp()
            self._start_nginx()
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        self.stack.close()

    def __enter__(self) -> Bed:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def taskset(self, cpu: int, argv: list[str]) -> list[str]:
        return ["taskset", "-c", str(cpu), *argv] if self.pin else argv

    def _client_sysctls(self) -> None:
        # Connection: close at c=500 opens thousands of connections a second.
        self.client.run("sysctl", "-qw", "net.ipv4.ip_local_port_range=1024 65535")
        self.client.run("sysctl", "-qw", "net.ipv4.tcp_tw_reuse=1")

    def _start(
        self, name: str, argv: list[str], env: dict[str, str] | None = None
    ) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        self.procs.append((name, proc))
        return proc

    def _serve(self, name: str, options: list[str]) -> None:
        """``ustack serve --http`` in the client's namespace with ``options``;
        RuntimeError when it does not start."""
        env = {**os.environ, "PYTHONPATH": str(ROOT / "python_bindings")}
        argv = [sys.executable, "-m", "ustack", "serve", "--http", str(PORT), "--no-control"]
        argv += ["--netns", self.client.name, *options]
        proc = self._start(name, self.taskset(SERVER_CPU, argv), env)
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], 60)
        line = proc.stdout.readline() if ready else "(nothing in 60 s)"
        if not line.startswith("ustack serve: http"):
            from ustack._util import end_process

            end_process(proc)  # type: ignore[arg-type]
            rest = line + (proc.stdout.read() if proc.stdout else "")
            raise RuntimeError(f"ustack serve {' '.join(options)} did not start: {rest.strip()}")

    def _start_ustack(self) -> None:
        self._serve("ustack", [])
        self.servers.append(Server("ustack", "ustack serve --http (Python) over TAP", USTACK_IP))

    def _start_c(self) -> None:
        """examples/http_server --tap (C: ust_send_zc bodies, ust_recv_mbuf
        requests) on a TAP device in the client's namespace, when built.
        --sleep: it waits in poll(2) when idle, as the other servers do, so
        that it takes no CPU from them while they are measured."""
        prog = self.ctx.build_dir / "examples" / "http_server"
        if not prog.exists():
            self.ctx.note(f"no C http_server figures: {prog} is not built")
            return
        net, ifname = C_NET, "uh0"
        argv = self.client.exec_argv(
            str(prog), "--tap", "--ifname", ifname, "--address", f"{net}.1", "--port", str(PORT)
        )
        proc = self._start("c", self.taskset(SERVER_CPU, [*argv, "--sleep"]))
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], 30)
        line = proc.stdout.readline() if ready else "(nothing in 30 s)"
        if not line.startswith("ready"):
            from ustack._util import end_process

            end_process(proc)  # type: ignore[arg-type]
            self.ctx.note(f"no C http_server figures: it did not start: {line.strip()}")
            return
        self.client.run("sysctl", "-qw", f"net.ipv6.conf.{ifname}.disable_ipv6=1")
        self.client.run("ip", "addr", "add", f"{net}.2/24", "dev", ifname)
        self.client.run("ip", "link", "set", ifname, "up")
        label = "examples/http_server (C, zero-copy) over TAP"
        self.servers.append(Server("c", label, f"{net}.1", " [C http_server]"))

    def _start_afxdp(self) -> None:
        net = AFXDP_NET
        try:
            self._serve(
                "afxdp",
                ["--driver", "afxdp", "--ifname", "ux0"]
                + ["--address", f"{net}.1/24", "--peer-address", f"{net}.2/24"],
            )
        except RuntimeError as exc:
            self.ctx.note(f"no AF_XDP figures: {exc}")
            return
        label = "ustack serve --http (Python) over AF_XDP on a veth"
        self.servers.append(Server("afxdp", label, f"{net}.1", " [AF_XDP]"))

    def _start_nginx(self) -> None:
        d = self.dir / "nginx"
        (d / "tmp").mkdir(parents=True)
        www = d / "www" / "bytes"
        www.mkdir(parents=True)
        from ustack import pattern

        for n in self.sizes:
            (www / str(n)).write_bytes(pattern.pattern(n))
        # nginx's worker runs as nobody: the tree must be readable by it.
        for p in [self.dir, *self.dir.rglob("*")]:
            p.chmod(0o755 if p.is_dir() else 0o644)
        conf = d / "nginx.conf"
        conf.write_text(NGINX_CONF.format(d=d, ip=NGINX_IP, port=PORT))
        subprocess.run(
            ["ip", "link", "add", "hc", "netns", self.client.name, "type", "veth"]
            + ["peer", "name", "hs", "netns", self.nginx_ns.name],
            check=True,
            capture_output=True,
        )
        self.client.run("ip", "addr", "add", f"{VETH_CLIENT_IP}/24", "dev", "hc")
        self.client.run("ip", "link", "set", "hc", "up")
        self.nginx_ns.run("ip", "addr", "add", f"{NGINX_IP}/24", "dev", "hs")
        self.nginx_ns.run("ip", "link", "set", "hs", "up")
        nginx = str(_which("nginx"))
        argv = self.nginx_ns.exec_argv(
            nginx, "-p", str(d), "-c", str(conf), "-e", str(d / "error.log")
        )
        self._start("nginx", self.taskset(SERVER_CPU, argv))
        version = subprocess.run([nginx, "-v"], capture_output=True, text=True, check=False)
        label = version.stderr.strip().removeprefix("nginx version: ") or "nginx"
        self.servers.append(Server("linux", f"{label} on the kernel over veth", NGINX_IP))

    def check(self) -> dict[str, dict[int, int]]:
        """Every size from every server: status 200, Content-Length, the
        pattern's SHA-256; the head's size per server and size."""
        urls = {s.name: [s.host, PORT] for s in self.servers}
        argv = self.client.exec_argv(
            sys.executable,
            "-c",
            CHECKER,
            str(ROOT / "python_bindings"),
            json.dumps(urls),
            json.dumps(list(self.sizes)),
        )
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"wrong answers: {proc.stdout}{proc.stderr}{self.server_logs()}")
        out = json.loads(proc.stdout)
        return {name: {int(k): v for k, v in heads.items()} for name, heads in out.items()}

    def wrk(self, server: Server, size: int, conc: int, keep: bool, seconds: int) -> Load:
        argv = ["wrk", "-t1", f"-c{conc}", f"-d{seconds}s", "--latency", "--timeout", "5s"]
        if not keep:
            argv += ["-H", "Connection: close"]
        argv.append(f"http://{server.host}:{PORT}/bytes/{size}")
        return parse_wrk(self._client(argv, seconds + 30))

    def ab(self, server: Server, size: int, conc: int, keep: bool, n: int) -> Load:
        argv = ["ab", "-q", "-n", str(n), "-c", str(conc), "-s", "10"]
        if keep:
            argv.append("-k")
        argv.append(f"http://{server.host}:{PORT}/bytes/{size}")
        return parse_ab(self._client(argv, 120))

    def _client(self, argv: list[str], timeout: float) -> str:
        full = self.taskset(CLIENT_CPU, self.client.exec_argv(*argv))
        proc = subprocess.run(full, capture_output=True, text=True, timeout=timeout, check=False)
        if proc.returncode != 0:
            raise RuntimeError(
                f"{' '.join(argv)}: exit {proc.returncode}\n{proc.stdout}{proc.stderr}"
                f"{self.server_logs()}"
            )
        return proc.stdout

    def server_logs(self) -> str:
        out = ""
        for name, p in self.procs:
            if p.poll() is not None:
                text = p.stdout.read() if p.stdout else ""
                out += f"\n{name} exited {p.returncode}: {text[-2000:]}"
        err = self.dir / "nginx" / "error.log"
        if err.exists() and err.read_text().strip():
            out += f"\nnginx error.log: {err.read_text()[-2000:]}"
        return out

    def _stop_all(self) -> None:
        from ustack._util import end_process

        for name, p in reversed(self.procs):
            try:
                end_process(p, timeout=10)  # type: ignore[arg-type]
            finally:
                if p.stdout is not None:
                    self.outputs[name] = p.stdout.read()
                    p.stdout.close()


# --- the plan and the run ----------------------------------------------------


@dataclass(frozen=True)
class Case:
    size: int
    conc: int
    keep: bool

    @property
    def label(self) -> str:
        mode = "keep-alive" if self.keep else "Connection: close"
        return f"{_size(self.size)}, c={self.conc}, {mode}"


def _size(n: int) -> str:
    return f"{n >> 10} KiB" if n >= 1024 and n % 1024 == 0 else f"{n} B"


@dataclass
class Plan:
    cases: list[Case]
    ab_cases: list[Case]
    seconds: int
    runs: int
    ab_requests: int
    extra: bool = False  # serve over AF_XDP too


def plan(ctx: Context) -> Plan:
    """Full: 128 B and 64 KiB, c = 1, 100, 500, keep-alive and close, 2 s each,
    3 runs at most, serve over AF_XDP too; --quick --only http: 128 B over c
    and mode, 64 KiB keep-alive c=100, 1 s, one run, AF_XDP too; inside the
    whole --quick suite (CI's 60 s): 128 B keep-alive c=100, 1 s, TAP and
    nginx only (about 7 s with the set-up)."""
    if ctx.quick and NAME not in ctx.only:
        return Plan([Case(128, 100, True)], [], 1, 1, 0)
    if ctx.quick:
        cases = [Case(128, c, k) for k in (True, False) for c in (1, 100, 500)]
        cases.append(Case(65536, 100, True))
        return Plan(cases, [Case(128, 100, True)], 1, 1, 2000, extra=True)
    cases = [Case(s, c, k) for s in (128, 65536) for k in (True, False) for c in (1, 100, 500)]
    ab = [Case(128, 1, True), Case(128, 100, True), Case(128, 100, False)]
    return Plan(cases, ab, 2, min(ctx.runs, 3), 20000, extra=True)


def why_not() -> str | None:
    try:
        from ustack.netns import unavailable_reason
    except ImportError as e:
        return f"ustack.netns not importable ({e})"
    return unavailable_reason()


def run(ctx: Context) -> None:
    if ctx.skipped(why_not()) or ctx.skipped(ensure_tools(ctx)):
        return
    ctx.note_load()
    p = plan(ctx)
    sizes = tuple(sorted({c.size for c in p.cases + p.ab_cases}))
    results: dict[tuple[str, str, Case], list[Load]] = {}
    with Bed(ctx, sizes, extra=p.extra) as bed:
        if not bed.pin:
            ctx.note("one CPU only: servers and clients share it (not pinned)")
        heads = bed.check()
        for i in range(p.runs):
            servers = bed.servers if i % 2 == 0 else bed.servers[::-1]
            for case in p.cases:
                for srv in servers:
                    load = bed.wrk(srv, case.size, case.conc, case.keep, p.seconds)
                    results.setdefault(("wrk", srv.name, case), []).append(load)
                    _progress(i, p.runs, srv, case, load)
            for case in p.ab_cases:
                for srv in [s for s in servers if s.name in ("ustack", "linux")]:
                    load = bed.ab(srv, case.size, case.conc, case.keep, p.ab_requests)
                    results.setdefault(("ab", srv.name, case), []).append(load)
                    _progress(i, p.runs, srv, case, load)
        after = bed.check()  # still the right bytes after the load
        labels = {s.name: s.label for s in bed.servers}
        tags = {s.name: s.tag for s in bed.servers}
    if after != heads:
        ctx.note(f"head sizes changed during the run: {heads} -> {after}")
    _record(ctx, p, results, heads, labels, tags)
    print(table(ctx.records, heads), file=sys.stderr, flush=True)


def _progress(i: int, runs: int, srv: Server, case: Case, load: Load) -> None:
    bad = f", {load.failures} FAILED" if load.failures else ""
    lat = f", p50 {load.p50_ms:.3g} ms, p99 {load.p99_ms:.3g} ms" if load.p99_ms else ""
    print(
        f"   run {i + 1}/{runs} {load.tool} {srv.name:6} {case.label}: "
        f"{load.rps:,.0f} req/s{lat}{bad}",
        file=sys.stderr,
        flush=True,
    )


def _record(
    ctx: Context,
    p: Plan,
    results: dict[tuple[str, str, Case], list[Load]],
    heads: dict[str, dict[int, int]],
    labels: dict[str, str],
    tags: dict[str, str] | None = None,
) -> None:
    """A requests/s record (goal: 0 failures) and p50/p99 records per case,
    tool and ustack server, each against nginx."""
    tags = tags or {}
    mine = [name for name in labels if name != "linux"]
    for tool, cases in (("wrk", p.cases), ("ab", p.ab_cases)):
        for name, case in ((name, case) for name in mine for case in cases):
            if (tool, name, case) not in results:
                continue
            label = case.label + tags.get(name, "")
            u = results[(tool, name, case)]
            k = results[(tool, "linux", case)]
            fails = {"ustack": sum(x.failures for x in u), "linux": sum(x.failures for x in k)}
            params: dict[str, Any] = {
                "tool": tool,
                "server": name,
                "size": case.size,
                "concurrency": case.conc,
                "keep_alive": case.keep,
                "seconds": p.seconds if tool == "wrk" else None,
                "requests": {
                    "ustack": sum(x.requests for x in u),
                    "linux": sum(x.requests for x in k),
                },
                "failures": fails,
                "errors": {"ustack": [x.detail for x in u], "linux": [x.detail for x in k]},
                "head_bytes": {
                    "ustack": heads[name][case.size],
                    "linux": heads["linux"][case.size],
                },
                "servers": labels,
                "pinned": {"server_cpu": SERVER_CPU, "client_cpu": CLIENT_CPU},
            }
            suffix = "" if tool == "wrk" else " (ab)"
            rec = ctx.record(
                label,
                f"requests/s{suffix}",
                "req/s",
                ustack=ctx.stats([x.rps for x in u]),
                linux=ctx.stats([x.rps for x in k]),
                goal="0 failures",
                params=params,
            )
            rec["goal_met"] = fails["ustack"] == 0 and fails["linux"] == 0
            if not rec["goal_met"]:
                ctx.note(f"{tool} {label}: failures {fails}: {params['errors']}")
            for q in ("p50", "p99"):
                uq = [getattr(x, f"{q}_ms") for x in u]
                kq = [getattr(x, f"{q}_ms") for x in k]
                if None in uq or None in kq:
                    continue
                ctx.record(
                    label,
                    f"{q} latency{suffix}",
                    "ms",
                    ustack=ctx.stats(uq),
                    linux=ctx.stats(kq),
                    higher_is_better=False,
                    params={
                        "tool": tool,
                        "server": name,
                        "size": case.size,
                        "concurrency": case.conc,
                        "keep_alive": case.keep,
                    },
                )
    sizes = sorted({s for h in heads.values() for s in h})
    ctx.note(
        "response head bytes: "
        + "; ".join(
            f"{labels[name]}: " + ", ".join(f"{_size(s)} {h[s]}" for s in sizes)
            for name, h in heads.items()
        )
    )


def table(records: list[dict[str, Any]], heads: dict[str, dict[int, int]]) -> str:
    """The run's figures, a line per case: requests/s of each server and the
    ratio ustack/nginx, the p50 and p99 latencies, the failures."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for r in records:
        if r["bench"] not in (NAME, "") and r["bench"]:
            continue
        tool = "ab" if r["metric"].endswith("(ab)") else "wrk"
        row = rows.setdefault((r["case"], tool), {})
        row[r["metric"].removesuffix(" (ab)")] = r
    out = [
        f"{'case':42} {'tool':4} {'ustack req/s':>12} {'nginx req/s':>12} {'ratio':>6} "
        f"{'p50 u/n ms':>15} {'p99 u/n ms':>15} {'failures u/n':>12}"
    ]
    for (case, tool), row in rows.items():
        rps = row.get("requests/s")
        if rps is None:
            continue

        def pair(metric: str, row: dict[str, Any] = row) -> str:
            r = row.get(metric)
            if r is None:
                return "-"
            return f"{r['ustack']['median']:.3g}/{r['linux']['median']:.3g}"

        f = rps["params"].get("failures", {})
        ratio = f"{rps['ratio']:.2f}" if rps["ratio"] is not None else "-"
        out.append(
            f"{case:42} {tool:4} {rps['ustack']['median']:12,.0f} {rps['linux']['median']:12,.0f} "
            f"{ratio:>6} {pair('p50 latency'):>15} {pair('p99 latency'):>15} "
            f"{f.get('ustack', 0)}/{f.get('linux', 0):<10}"
        )
    for name, h in heads.items():
        out.append(f"head bytes {name}: " + ", ".join(f"{_size(s)}: {n}" for s, n in h.items()))
    return "\n".join(out)
