"""Goodput under loss (issue 8, item 5): newreno and cubic, SACK on and off, 0, 0.1
and 1% random loss each way, on the virtual 1 Gbit/s, 20 ms RTT pipe with 4 MB
buffers.  bench/c/goodput_loss runs one seeded transfer (tests/sim/sim_bulk.h, the
rig of the SACK and CUBIC campaigns) in virtual time; each figure is the median over
ctx.runs seeds.  Being virtual time, the figures do not depend on the machine or on
its load: they measure the protocol, not the CPU.

No Linux figure: wall-clock kernel figures would not be comparable with
virtual-time ones.  bench/b_loss.py (``--only loss``) has the wall-clock
comparison with Linux over the seeded link of `ustack link`.
"""

from __future__ import annotations

from typing import Any

from benchlib import Context

NAME = "loss_virtual"
DESCRIPTION = (
    "goodput under loss: newreno/cubic x SACK on/off x 0/0.1/1% loss, "
    "1 Gbit/s 20 ms RTT virtual pipe (virtual time)"
)
GOAL = ""

CCS = ("newreno", "cubic")
SACKS = (1, 0)
LOSS_PPM = (0, 1000, 10000)


def _parse(line: str) -> dict[str, float]:
    return {k: float(v) for k, v in (f.split("=", 1) for f in line.split())}


def run(ctx: Context) -> None:
    prog = ctx.program("goodput_loss")
    nbytes = (8 << 20) if ctx.quick else (64 << 20)
    goodput: dict[tuple[str, int], list[tuple[float, Any]]] = {}
    for cc in CCS:
        for sack in SACKS:
            for ppm in LOSS_PPM:
                vals, rexmit = [], []
                for seed in range(1, ctx.runs + 1):
                    out = ctx.run_program(
                        [
                            prog,
                            "--cc",
                            cc,
                            "--sack",
                            str(sack),
                            "--loss-ppm",
                            str(ppm),
                            "--bytes",
                            str(nbytes),
                            "--first",
                            str(seed),
                        ]
                    )
                    r = _parse(out)
                    vals.append(r["goodput_bps"] / 1e6)
                    rexmit.append(r["rexmit_bytes"])
                case = f"{cc} sack={'on' if sack else 'off'} loss={ppm / 1e4:g}%"
                st = ctx.stats(vals)
                ctx.record(
                    case,
                    "goodput",
                    "Mbit/s",
                    ustack=st,
                    params={
                        "cc": cc,
                        "sack": sack,
                        "loss_ppm": ppm,
                        "bytes": nbytes,
                        "rate_bps": 1_000_000_000,
                        "rtt_ms": 20,
                        "buf": 4 << 20,
                        "seeds": list(range(1, ctx.runs + 1)),
                        "rexmit_bytes_median": ctx.stats(rexmit)["median"],
                        "time": "virtual",
                    },
                )
                goodput.setdefault((cc, sack), []).append((ppm / 1e4, st))
                print(f"   {case}: {st['median']:.1f} Mbit/s", flush=True, file=_err())
    ctx.note(
        "no Linux figure: virtual time, not comparable with the kernel's wall clock; "
        "`--only loss` compares with Linux over the seeded link (ustack link)"
    )
    _plot(ctx, goodput)


def _err() -> Any:
    import sys

    return sys.stderr


def _plot(ctx: Context, goodput: dict[tuple[str, int], list[tuple[float, Any]]]) -> None:
    plt = ctx.pyplot()
    if plt is None:
        return
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for (cc, sack), pts in sorted(goodput.items()):
        xs = list(range(len(pts)))
        med = [p[1]["median"] for p in pts]
        lo = [p[1]["median"] - p[1]["min"] for p in pts]
        hi = [p[1]["max"] - p[1]["median"] for p in pts]
        ax.errorbar(
            xs,
            med,
            yerr=[lo, hi],
            marker="o" if sack else "s",
            linestyle="-" if cc == "cubic" else "--",
            capsize=3,
            label=f"{cc}, SACK {'on' if sack else 'off'}",
        )
        ax.set_xticks(xs, [f"{p[0]:g}%" for p in pts])
    ax.set_yscale("log")
    ax.set_xlabel("random loss each way")
    ax.set_ylabel("goodput, Mbit/s (median, min-max over seeds)")
    ax.set_title("ustack goodput under loss: 1 Gbit/s, 20 ms RTT, 4 MB buffers")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    ctx.save_plot(fig, "loss_goodput.png")
