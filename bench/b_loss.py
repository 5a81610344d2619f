"""Goodput and retransmissions under loss, Linux and ustack, over one seeded link.

Setup (three namespaces; the link, `ustack link`'s program tools/link/ustack_link.c,
is the only element that loses, delays or limits anything, for both senders)::

    Linux sender (ns S)  198.18.0.1 on TAP ls0 --+
                                                 +== ustack-link ==  TAP lr0  198.18.0.2
    ustack sender (ns U) on its own TAP ust0:    |   loss, delay,    Linux receiver (ns R)
      ustack <-> /dev/net/tun | ust0 <-AF_PACKET-+   rate, seeded
      (kernel side of ust0: no address)

- (a) Linux -> Linux: cubic, and Linux's own loss recovery, which has RACK-TLP on
  (net.ipv4.tcp_recovery=1, the default), SACK, no metrics cache
  (net.ipv4.tcp_no_metrics_save=1 so runs do not inherit an ssthresh);
- (b) ustack -> Linux: bench/c/link_sender, ustack on a TAP without offload (it cuts
  its own segments), the link reading the TAP's kernel side with AF_PACKET: newreno
  and cubic on the default ("freebsd") stack, cubic on the "rack" stack
  (net.inet.tcp.functions_default=rack; "n/a (stack not built)" when it is not).

The same receiver (a Python socket in ns R) for both, static neighbours (no ARP
through the link) and IPv6 off, so that the link carries only the transfer.  The
link: DELAY_MS each way (RTT about 2 x DELAY_MS), RATE_MBIT (chosen because 2 shared
vCPUs carry the sender, the link and the receiver: at 1 Gbit/s the CPU, not the
link, would set the pace and the figures would measure the machine's load), a
queue of 8192 frames (more than any window here, so every loss is a seeded one), loss
0, 0.1, 1 and 3% each way; seed = SEED0 + run.

Measured per run: goodput (bytes the receiver read over its first-to-last-byte time)
of a --seconds-long transfer, retransmitted bytes (Linux: tcp_info's
tcpi_bytes_retrans, what `ss -ti` shows as bytes_retrans; ustack: its counter
tcps_sndrexmitbyte), and short transfers (10 KB, 100 KB) whose last data segment is
dropped by the link (--drop-byte = the size): time from the first write to the
receiver's one-line reply, in RTTs, with and without the drop; no FIN follows the
data, so nothing but a timer (RACK's tail loss probe, or an RTO) can recover it.
Figures are medians over --runs runs.  Wall clock: load on the machine lowers the
goodputs (both, as they run interleaved).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchlib import Context

NAME = "loss"
DESCRIPTION = (
    "goodput and retransmitted bytes at 0/0.1/1/3% loss, Linux->Linux vs ustack->Linux "
    "(newreno, cubic, rack) over the seeded `ustack link`; tail-loss completion in RTTs"
)
GOAL = "RACK stack: a dropped last segment costs about 2 RTTs, not an RTO"

DELAY_MS = 10
RATE_MBIT = 200
LIMIT = 8192
SEED0 = 1000
LOSS_PPM = (0, 1000, 10000, 30000)
SHORT = (10 * 1024, 100 * 1024)
# The short transfers also over a 100 ms RTT path (50 ms each way), where a
# lone tail segment's probe timeout (2 SRTT + the worst-case delayed ACK,
# RFC 8985 7.2) weighs less against the RTT.  Not in --quick.
SHORT_DELAYS_MS = (DELAY_MS, 50)
# (label, kind, cc, stack)
SENDERS = (
    ("Linux cubic (RACK on)", "linux", "cubic", ""),
    ("ustack newreno (freebsd stack)", "ustack", "newreno", "freebsd"),
    ("ustack cubic (freebsd stack)", "ustack", "cubic", "freebsd"),
    ("ustack rack stack (cubic)", "ustack", "cubic", "rack"),
)
NA = "n/a (stack not built)"
MAC_S, MAC_R = "02:00:00:00:00:01", "02:00:00:00:00:02"
PORT = 5001

RECEIVER = r"""
import socket, sys, time
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind((sys.argv[1], int(sys.argv[2])))
srv.listen(1)
want = int(sys.argv[3])
print("ready", flush=True)
c, _ = srv.accept()
n, first, last = 0, 0.0, 0.0
while want == 0 or n < want:
    d = c.recv(1 << 20)
    if not d:
        break
    if n == 0:
        first = time.monotonic()
    n += len(d)
    last = time.monotonic()
c.sendall(f"done {n} {last - first:.6f}\n".encode())
c.settimeout(20)
try:
    while c.recv(65536):
        pass
except OSError:
    pass
c.close()
"""

# The Linux sender: the same protocol as bench/c/link_sender.c.  Its
# retransmissions are tcp_info's tcpi_bytes_retrans (offset 208, Linux 4.19)
# and tcpi_total_retrans (offset 100).
SENDER = r"""
import socket, struct, sys, time
host, port, nbytes, seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
s = socket.socket()
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, b"cubic")
s.connect((host, port))
s.setblocking(True)
chunk = bytes(65536)
sent, t0 = 0, time.monotonic()
if nbytes:
    while sent < nbytes:
        sent += s.send(chunk[: min(len(chunk), nbytes - sent)])
else:
    end = t0 + seconds
    s.settimeout(0.05)
    while time.monotonic() < end:
        try:
            sent += s.send(chunk)
        except TimeoutError:
            pass
    s.settimeout(None)
    s.shutdown(socket.SHUT_WR)
reply = b""
while not reply.endswith(b"\n"):
    d = s.recv(256)
    if not d:
        break
    reply += d
t = time.monotonic() - t0
info = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 232)
pkts = struct.unpack_from("I", info, 100)[0]
rbytes = struct.unpack_from("Q", info, 208)[0] if len(info) >= 216 else pkts * 1448
print(f"sent {sent} reply_s {t:.6f} rexmit_bytes {rbytes} rexmit_pkts {pkts} "
      f"reply {reply.decode().strip()}", flush=True)
s.close()
"""


def _link_program() -> Path | None:
    from ustack.commands.link import find_program

    return find_program()


class Rig:
    """The three namespaces, made once for the whole benchmark."""

    def __init__(self) -> None:
        from ustack.netns import NetNs

        self.nss: list[Any] = []
        self.s = self._ns(NetNs, "loss-s")
        self.u = self._ns(NetNs, "loss-u")
        self.r = self._ns(NetNs, "loss-r")
        for ns in (self.s, self.r):
            ns.run("sysctl", "-qw", "net.ipv4.tcp_no_metrics_save=1")
        self.s.run("sysctl", "-qw", "net.ipv4.tcp_recovery=1")
        self.recovery = self.s.run("sysctl", "-n", "net.ipv4.tcp_recovery").stdout.strip()

    def _ns(self, cls: Any, purpose: str) -> Any:
        ns = cls(purpose)
        self.nss.append(ns)
        for knob in ("all", "default"):
            ns.run("sysctl", "-qw", f"net.ipv6.conf.{knob}.disable_ipv6=1")
        return ns

    def close(self) -> None:
        for ns in self.nss:
            ns.close()


def _fields(line: str) -> dict[str, Any]:
    words = line.split()
    if not words or words[0] != "sent":
        raise RuntimeError(f"sender said {line!r}")
    out: dict[str, Any] = {}
    for i in range(0, 8, 2):
        out[words[i]] = float(words[i + 1])
    rep = words[9:]
    if len(rep) != 3 or rep[0] != "done":
        raise RuntimeError(f"receiver replied {' '.join(rep)!r}")
    out["recv_bytes"] = int(rep[1])
    out["recv_s"] = float(rep[2])
    return out


def _setup_tap(ns: Any, name: str, mac: str, addr: str, peer: str, peer_mac: str) -> None:
    ns.run("ip", "link", "set", name, "address", mac)
    ns.run("ip", "addr", "add", f"{addr}/24", "dev", name)
    ns.run("ip", "neigh", "replace", peer, "lladdr", peer_mac, "dev", name, "nud", "permanent")


def one_run(
    ctx: Context,
    rig: Rig,
    kind: str,
    cc: str,
    stack: str,
    *,
    loss_ppm: int,
    seed: int,
    nbytes: int = 0,
    seconds: float = 0.0,
    drop_byte: int = 0,
    delay_ms: int = DELAY_MS,
) -> dict[str, Any] | None:
    """One transfer; None when the stack is not built."""
    from ustack.commands.link import LinkProcess

    fault: dict[str, Any] = {
        "loss_ppm": loss_ppm,
        "delay_ns": delay_ms * 1_000_000,
        "rate_bps": RATE_MBIT * 1_000_000,
        "limit": LIMIT,
        "seed": seed,
        "drop_byte": drop_byte,
    }
    procs: list[subprocess.Popen[str]] = []
    link: LinkProcess | None = None
    try:
        if kind == "ustack":
            snd = subprocess.Popen(
                rig.u.exec_argv(
                    str(ctx.program("link_sender")), "--cc", cc, "--stack", stack,
                    "--peer-mac", MAC_R,
                    *(["--bytes", str(nbytes)] if nbytes else ["--seconds", str(seconds)]),
                ),
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            )  # fmt: skip
            procs.append(snd)
            assert snd.stdout is not None and snd.stdin is not None
            first = snd.stdout.readline()
            if first.startswith("unsupported stack"):
                snd.wait()
                return None
            if not first.startswith("ready"):
                raise RuntimeError(f"link_sender did not start: {first!r}")
            rig.u.run("ip", "link", "set", "ust0", "up")
            port_a = f"dev:ust0@{rig.u.name}"
        else:
            port_a = f"tap:ls0@{rig.s.name}"
        link = LinkProcess(port_a, f"tap:lr0@{rig.r.name}", **fault)
        _setup_tap(rig.r, "lr0", MAC_R, "198.18.0.2", "198.18.0.1", MAC_S)
        if kind == "linux":
            _setup_tap(rig.s, "ls0", MAC_S, "198.18.0.1", "198.18.0.2", MAC_R)
        rcv = subprocess.Popen(
            rig.r.exec_argv(sys.executable, "-c", RECEIVER, "198.18.0.2", str(PORT), str(nbytes)),
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        procs.append(rcv)
        assert rcv.stdout is not None
        if not rcv.stdout.readline().startswith("ready"):
            raise RuntimeError("the receiver did not start")
        if kind == "ustack":
            assert snd.stdin is not None and snd.stdout is not None
            snd.stdin.write("go\n")
            snd.stdin.flush()
            line = snd.stdout.readline()
        else:
            out = rig.s.run(
                sys.executable, "-c", SENDER, "198.18.0.2", str(PORT), str(nbytes), str(seconds)
            )
            line = out.stdout.strip()
        res = _fields(line)
        res["link"] = link.stop()
        return res
    finally:
        if link is not None:
            link.stop()
        for p in procs:
            if p.poll() is None:
                p.kill()
            p.wait()


def _why_not(ctx: Context) -> str | None:
    try:
        from ustack.netns import unavailable_reason

        why = unavailable_reason()
    except ImportError as e:
        return f"ustack.netns not importable ({e})"
    if why:
        return why
    if _link_program() is None:
        return "ustack-link is not built (cmake --build build --target ustack-link)"
    try:
        ctx.program("link_sender")
    except FileNotFoundError as e:
        return str(e)
    return None


def _med(ctx: Context, vals: list[float]) -> dict[str, Any]:
    return ctx.stats(vals)


def run(ctx: Context) -> None:
    if ctx.quick and NAME not in ctx.only:
        # Minutes of wall clock: not in the whole --quick suite's 60 s.
        ctx.skipped("runs only when named (--only loss; --quick: about a minute)")
        return
    if ctx.skipped(_why_not(ctx)):
        return
    ctx.note_load()
    seconds = 1.0 if ctx.quick else 5.0
    losses = (0, 10000) if ctx.quick else LOSS_PPM
    shorts = SHORT[:1] if ctx.quick else SHORT
    delays = SHORT_DELAYS_MS[:1] if ctx.quick else SHORT_DELAYS_MS
    rig = Rig()
    table: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "delay_ms_each_way": DELAY_MS,
        "rtt_ms": 2 * DELAY_MS,
        "rate_mbit": RATE_MBIT,
        "limit_frames": LIMIT,
        "seconds": seconds,
        "seeds": [SEED0 + i for i in range(ctx.runs)],
        "short_rtts_ms": [2 * d for d in delays],
        "linux_tcp_recovery": rig.recovery,
        "goodput": {},
        "short": {},
    }
    try:
        for label, kind, cc, stack in SENDERS:
            for ppm in losses:
                gp: list[float] = []
                rx: list[float] = []
                rb: list[float] = []
                na = False
                for i in range(ctx.runs):
                    r = one_run(
                        ctx, rig, kind, cc, stack, loss_ppm=ppm, seed=SEED0 + i, seconds=seconds
                    )
                    if r is None:
                        na = True
                        break
                    gp.append(r["recv_bytes"] * 8 / max(r["recv_s"], 1e-9) / 1e6)
                    rx.append(r["rexmit_bytes"])
                    rb.append(r["recv_bytes"])
                key = f"{label} @ {ppm / 1e4:g}%"
                if na:
                    table["goodput"][key] = NA
                    print(f"   {key}: {NA}", file=sys.stderr, flush=True)
                    continue
                table["goodput"][key] = {
                    "label": label, "loss_ppm": ppm,
                    "goodput_mbit": _med(ctx, gp), "rexmit_bytes": _med(ctx, rx),
                    "recv_bytes": _med(ctx, rb),
                }  # fmt: skip
                print(
                    f"   {key}: {ctx.stats(gp)['median']:.1f} Mbit/s, "
                    f"{ctx.stats(rx)['median']:.0f} bytes retransmitted (seeds "
                    f"{SEED0}..{SEED0 + ctx.runs - 1})",
                    file=sys.stderr,
                    flush=True,
                )
            for size, dly in [(z, d) for d in delays for z in shorts]:
                for drop in (False, True):
                    ts: list[float] = []
                    na = False
                    for i in range(ctx.runs):
                        r = one_run(
                            ctx, rig, kind, cc, stack, loss_ppm=0, seed=SEED0 + i,
                            nbytes=size, drop_byte=size if drop else 0, delay_ms=dly,
                        )  # fmt: skip
                        if r is None:
                            na = True
                            break
                        if drop and r["link"]["a2b"]["dropped_chosen"] != 1:
                            raise RuntimeError(f"the link did not drop the last segment: {r}")
                        ts.append(r["reply_s"] / (2 * dly / 1000))
                    key = _short_key(label, size, drop, 2 * dly)
                    table["short"][key] = NA if na else {
                        "label": label, "bytes": size, "dropped": drop, "rtt_ms": 2 * dly,
                        "rtts": _med(ctx, ts),
                    }  # fmt: skip
                    print(
                        f"   {key}: " + (NA if na else f"{ctx.stats(ts)['median']:.2f} RTTs"),
                        file=sys.stderr,
                        flush=True,
                    )
    finally:
        rig.close()
    _record(ctx, table, losses, shorts)
    (ctx.out_dir / "loss.json").write_text(json.dumps(table, indent=1) + "\n")
    text = format_table(table, losses, shorts)
    (ctx.out_dir / "loss.txt").write_text(text + "\n")
    print(text, file=sys.stderr, flush=True)
    _plot(ctx, table, losses)


def _short_key(label: str, size: int, drop: bool, rtt_ms: int) -> str:
    """The key of a short transfer in table["short"] (no RTT in it at the
    goodput runs' RTT, as before)."""
    rtt = "" if rtt_ms == 2 * DELAY_MS else f" @ {rtt_ms} ms RTT"
    return f"{label} {size // 1024} KB{rtt}{' last segment dropped' if drop else ''}"


def _record(ctx: Context, table: dict[str, Any], losses: Any, shorts: Any) -> None:
    linux = SENDERS[0][0]
    params = {k: table[k] for k in ("delay_ms_each_way", "rate_mbit", "limit_frames", "seeds")}
    for label, _, cc, stack in SENDERS[1:]:
        for ppm in losses:
            u = table["goodput"][f"{label} @ {ppm / 1e4:g}%"]
            k = table["goodput"][f"{linux} @ {ppm / 1e4:g}%"]
            if u == NA:
                if ppm == losses[0]:
                    ctx.note(f"{label}: {NA}")
                continue
            p = {**params, "cc": cc, "stack": stack, "loss_ppm": ppm}
            ctx.record(
                f"{label} vs Linux, {ppm / 1e4:g}% loss", "goodput", "Mbit/s",
                ustack=u["goodput_mbit"], linux=k["goodput_mbit"], params=p,
            )  # fmt: skip
            ctx.record(
                f"{label} vs Linux, {ppm / 1e4:g}% loss", "retransmitted bytes", "bytes",
                ustack=u["rexmit_bytes"], linux=k["rexmit_bytes"], higher_is_better=False,
                params=p,
            )  # fmt: skip
        for rtt_ms in table["short_rtts_ms"]:
            for size in shorts:
                u = table["short"][_short_key(label, size, True, rtt_ms)]
                if u == NA:
                    continue
                k = table["short"][_short_key(linux, size, True, rtt_ms)]
                ctx.record(
                    f"{label} vs Linux, {size // 1024} KB, last segment dropped, "
                    f"{rtt_ms} ms RTT",
                    "time to complete", "RTTs", ustack=u["rtts"], linux=k["rtts"],
                    higher_is_better=False, goal=GOAL if stack == "rack" else "",
                    params={**params, "cc": cc, "stack": stack, "bytes": size,
                            "rtt_ms": rtt_ms},
                )  # fmt: skip


def format_table(table: dict[str, Any], losses: Any, shorts: Any) -> str:
    """The side-by-side table: one row per sender, goodput (Mbit/s), retransmitted
    bytes and the ratio of goodput to Linux's at each loss; then the short transfers."""
    linux = SENDERS[0][0]
    head = (
        f"link: {table['delay_ms_each_way']} ms each way (RTT ~{table['rtt_ms']} ms), "
        f"{table['rate_mbit']} Mbit/s, queue {table['limit_frames']} frames, same loss both "
        f"ways; {table['seconds']:g} s transfers; median of {len(table['seeds'])} runs, seeds "
        f"{table['seeds']}; Linux net.ipv4.tcp_recovery={table['linux_tcp_recovery']} "
        "(RACK on)"
    )
    lines = [head, ""]
    hdr = ["sender"]
    for ppm in losses:
        p = f"{ppm / 1e4:g}%"
        hdr += [f"{p} Mbit/s", f"{p} rexmit KB (% of data)", f"{p} x Linux"]
    lines += ["| " + " | ".join(hdr) + " |", "|---" * len(hdr) + "|"]
    for label, *_ in SENDERS:
        cells = [label]
        for ppm in losses:
            g = table["goodput"][f"{label} @ {ppm / 1e4:g}%"]
            if g == NA:
                cells += [NA, "", ""]
                continue
            k = table["goodput"][f"{linux} @ {ppm / 1e4:g}%"]
            ratio = g["goodput_mbit"]["median"] / max(k["goodput_mbit"]["median"], 1e-9)
            rx = g["rexmit_bytes"]["median"]
            pct = 100 * rx / max(g.get("recv_bytes", {}).get("median", 0), 1)
            cells += [
                f"{g['goodput_mbit']['median']:.1f}",
                f"{rx / 1024:.0f} ({pct:.1f}%)",
                f"{ratio:.2f}",
            ]
        lines.append("| " + " | ".join(cells) + " |")
    for rtt_ms in table.get("short_rtts_ms", [table["rtt_ms"]]):
        lines += [
            "",
            f"short transfers, {rtt_ms} ms RTT, no loss but the chosen one: first write to "
            "the receiver's reply, in RTTs (median); tail cost = dropped - intact",
            "",
        ]
        hdr = ["sender"]
        for sz in shorts:
            k = f"{sz // 1024} KB"
            hdr += [f"{k} intact", f"{k} tail dropped", f"{k} tail cost", f"{k} x Linux"]
        lines += ["| " + " | ".join(hdr) + " |", "|---" * len(hdr) + "|"]
        for label, *_ in SENDERS:
            cells = [label]
            for sz in shorts:
                a = table["short"][_short_key(label, sz, False, rtt_ms)]
                b = table["short"][_short_key(label, sz, True, rtt_ms)]
                if a == NA:
                    cells += [NA, "", "", ""]
                    continue
                k = table["short"][_short_key(linux, sz, True, rtt_ms)]
                am, bm = a["rtts"]["median"], b["rtts"]["median"]
                ratio = bm / max(k["rtts"]["median"], 1e-9)
                cells += [f"{am:.2f}", f"{bm:.2f}", f"{bm - am:.2f}", f"{ratio:.2f}"]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _plot(ctx: Context, table: dict[str, Any], losses: Any) -> None:
    plt = ctx.pyplot()
    if plt is None:
        _svg(ctx, table, losses)
        return
    fig, ax = plt.subplots(figsize=(7, 4.5))
    xs = list(range(len(losses)))
    for label, *_ in SENDERS:
        pts = [table["goodput"][f"{label} @ {ppm / 1e4:g}%"] for ppm in losses]
        if any(p == NA for p in pts):
            continue
        med = [p["goodput_mbit"]["median"] for p in pts]
        lo = [p["goodput_mbit"]["median"] - p["goodput_mbit"]["min"] for p in pts]
        hi = [p["goodput_mbit"]["max"] - p["goodput_mbit"]["median"] for p in pts]
        ax.errorbar(xs, med, yerr=[lo, hi], marker="o", capsize=3, label=label)
    ax.set_xticks(xs, [f"{p / 1e4:g}%" for p in losses])
    ax.set_yscale("log")
    ax.set_xlabel("random loss each way (seeded ustack link)")
    ax.set_ylabel("goodput, Mbit/s (median, min-max)")
    ax.set_title(f"goodput under loss: {RATE_MBIT} Mbit/s, {2 * DELAY_MS} ms RTT, Linux receiver")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    ctx.save_plot(fig, "loss_link.png")


def _svg(ctx: Context, table: dict[str, Any], losses: Any) -> None:
    """Without matplotlib: a small line chart written by hand."""
    w, h, pad = 560, 320, 50
    series = []
    top = 1.0
    for label, *_ in SENDERS:
        pts = [table["goodput"][f"{label} @ {ppm / 1e4:g}%"] for ppm in losses]
        if any(p == NA for p in pts):
            continue
        vals = [p["goodput_mbit"]["median"] for p in pts]
        top = max(top, *vals)
        series.append((label, vals))
    colors = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728")
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}">',
           f'<text x="{pad}" y="20">goodput (Mbit/s) vs loss</text>']  # fmt: skip
    n = max(len(losses) - 1, 1)
    for j, ppm in enumerate(losses):
        x = pad + j * (w - 2 * pad) / n
        out.append(f'<text x="{x:.0f}" y="{h - 15}">{ppm / 1e4:g}%</text>')
    for i, (label, vals) in enumerate(series):
        poly = " ".join(
            f"{pad + j * (w - 2 * pad) / n:.0f},{h - pad - v / top * (h - 2 * pad):.0f}"
            for j, v in enumerate(vals)
        )
        c = colors[i % len(colors)]
        out.append(f'<polyline fill="none" stroke="{c}" points="{poly}"/>')
        out.append(f'<text x="{w - 200}" y="{40 + 15 * i}" fill="{c}">{label}</text>')
    out.append("</svg>")
    (ctx.out_dir / "loss_link.svg").write_text("\n".join(out) + "\n")
    ctx.plots.append("loss_link.svg")
