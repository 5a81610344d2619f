"""Scale (issue 8, item 3): N concurrent TCP connections between two stacks in one
process (bench/c/scale_conns: a pipe, a virtual clock, one listener, clients over
several addresses), N = 10k, 100k, 1M (--quick: 10k).  Figures: wall time to
establish all N, and the stack memory each idle connection costs per end
(ust_stack_get_mem in_use after minus before, over N: client end on stack A,
accepted end on stack B).  Goal: 1M connections at <= 2 KB each (per end).

Linux: N idle loopback connections in a fresh network namespace (a Python program,
blocking connects, explicit ports over several 127.0.0.x addresses), the kernel's
memory as the /proc/meminfo Slab delta over 2N sockets (per end), and the time to
establish.  Slab is machine-wide, so other work on the machine blurs the figure;
1M kernel connections (2M file descriptors) are not attempted.
"""

from __future__ import annotations

import sys
from typing import Any

from benchlib import Context

NAME = "scale"
DESCRIPTION = "N idle TCP connections between two stacks in one process: time and bytes each"
GOAL = "1M connections at <= 2 KB each"
GOAL_BYTES = 2048

# Two processes, since one may not hold 2N descriptors (RLIMIT_NOFILE): the child
# accepts and holds the server ends, the parent connects and holds the client ends.
KERNEL = r"""
import os, resource, socket, sys, time
n = int(sys.argv[1])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
if hard != resource.RLIM_INFINITY and n + 64 > hard:
    sys.exit(f"RLIMIT_NOFILE hard limit {hard} < {n + 64}")
resource.setrlimit(resource.RLIMIT_NOFILE, (n + 64, hard))

def slab():
    for line in open("/proc/meminfo"):
        if line.startswith("Slab:"):
            return int(line.split()[1]) * 1024
    return 0

lso = socket.socket()
lso.bind(("127.0.0.1", 80))
lso.listen(65535)
done_r, done_w = os.pipe()
quit_r, quit_w = os.pipe()
base = slab()
if os.fork() == 0:
    srv = [lso.accept()[0] for _ in range(n)]
    os.write(done_w, b"x")
    os.read(quit_r, 1)
    os._exit(0)
lso.close()
cli = []
t0 = time.monotonic()
for i in range(n):
    c = socket.socket()
    c.bind((f"127.0.{1 + i // 60000}.1", 1500 + i % 60000))
    c.connect(("127.0.0.1", 80))
    cli.append(c)
os.read(done_r, 1)
dt = time.monotonic() - t0
time.sleep(0.2)
print(f"establish_s={dt:.6f} slab_delta={slab() - base}")
os.write(quit_w, b"x")
os.wait()
"""

KERNEL_MAX = 10_000  # 2 x 10k descriptors fit under this machine's hard limit of 20000


def _parse(text: str) -> dict[str, float]:
    return {k: float(v) for k, v in (f.split("=", 1) for f in text.split() if "=" in f)}


def _kernel(ctx: Context, n: int) -> dict[str, float]:
    from ustack.netns import NetNs

    with NetNs("bench-scale") as ns:
        ns.run("ip", "link", "set", "lo", "up")
        ns.run("sysctl", "-qw", "net.core.somaxconn=65535")
        return _parse(ctx.run_program(ns.exec_argv(sys.executable, "-c", KERNEL, str(n))))


def _kernel_ok() -> str | None:
    try:
        from ustack.netns import unavailable_reason
    except ImportError as e:
        return f"ustack.netns not importable ({e})"
    return unavailable_reason()


def run(ctx: Context) -> None:
    prog = ctx.program("scale_conns")
    sizes = [10_000] if ctx.quick else [10_000, 100_000, 1_000_000]
    why_not = _kernel_ok()
    if why_not:
        ctx.note(f"no Linux figure: network namespaces unavailable ({why_not})")
    for n in sizes:
        runs: list[dict[str, float]] = []
        kruns: list[dict[str, float]] = []
        for i in range(ctx.runs):
            runs.append(_parse(ctx.run_program([prog, "--conns", str(n)], timeout=1200)))
            if not why_not and n <= KERNEL_MAX:
                kruns.append(_kernel(ctx, n))
            print(
                f"   N={n} run {i + 1}/{ctx.runs}: {runs[-1]['establish_s']:.2f} s, "
                f"{runs[-1]['bytes_per_conn_client']:.0f} B/client end, "
                f"{runs[-1]['bytes_per_conn_server']:.0f} B/server end"
                + (
                    f"; Linux {kruns[-1]['establish_s']:.2f} s, "
                    f"{kruns[-1]['slab_delta'] / (2 * n):.0f} B/end"
                    if kruns
                    else ""
                ),
                file=sys.stderr,
                flush=True,
            )
        case = f"N={n:,}"
        params: dict[str, Any] = {
            "conns": n,
            "maxrss_kb": max(r["maxrss_kb"] for r in runs),
            "mem_a_after": runs[-1]["mem_a_after"],
            "mem_b_after": runs[-1]["mem_b_after"],
        }
        klin = ctx.stats([k["establish_s"] for k in kruns]) if kruns else None
        ctx.record(
            case,
            "time to establish",
            "s",
            ustack=ctx.stats([r["establish_s"] for r in runs]),
            linux=klin,
            higher_is_better=False,
            params=params,
        )
        kmem = ctx.stats([k["slab_delta"] / (2 * n) for k in kruns]) if kruns else None
        for end, key in (
            ("client end", "bytes_per_conn_client"),
            ("server end", "bytes_per_conn_server"),
        ):
            st = ctx.stats([r[key] for r in runs])
            rec = ctx.record(
                case,
                f"bytes per idle connection, {end}",
                "B",
                ustack=st,
                linux=kmem,
                higher_is_better=False,
                goal="<= 2048 B at N=1M" if n == 1_000_000 else "",
                params=params,
            )
            if n == 1_000_000:
                rec["goal_met"] = st["max"] <= GOAL_BYTES
    if not why_not:
        ctx.note(
            f"Linux: only N <= {KERNEL_MAX:,} (each end in its own process: RLIMIT_NOFILE's "
            "hard limit here is 20000 and raising it needs CAP_SYS_RESOURCE); its "
            "memory figure is the Slab delta over 2N sockets, machine-wide and so blurred "
            "by other work; it counts the kernel's struct file/dentry/inode per socket too; "
            "its time is a Python loop of blocking connects (ustack's is C), so the time "
            "ratio flatters ustack"
        )
