"""``ustack stats``: the counters of a running ``ustack serve``.

``serve`` listens on a Unix socket (``/run/ustack/serve-<pid>.sock`` unless
``--control`` says otherwise) and answers every connection with a JSON
snapshot; this command reads it and prints it like ``netstat -s``.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
from pathlib import Path
from typing import Any

from ustack.commands._table import table
from ustack.commands.serve import control_dir
from ustack.netstat import format_netstat

NAME = "stats"
HELP = "print the counters of a running `ustack serve` (netstat -s style)"
DESCRIPTION = f"""\
Asks a running `ustack serve` for its counters through its control socket
and prints them: the services with their connections and bytes, the TAP
device's and the interface's frame counts (with --stacks N, per stack, and the
frames re-steered between stacks), the TCP connection table, and
the protocol counters as netstat -s does (nonzero ones unless --zeros).

Without --control, every serve found as {control_dir()}/serve-*.sock is
asked, one after the other (sockets nothing answers on are reported as
stale and skipped).  Exit status 1 when no serve answered.

examples:
  ustack stats
  ustack stats --control /tmp/serve.sock --zeros
  ustack stats --json | python3 -m json.tool"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """stats' options."""
    parser.add_argument(
        "--control",
        type=Path,
        default=None,
        metavar="PATH",
        help=f"the control socket of one serve (default: every {control_dir()}/serve-*.sock)",
    )
    parser.add_argument(
        "--zeros", action="store_true", help="also print counters that are 0 (netstat -s)"
    )
    parser.add_argument(
        "--json", action="store_true", help="print the raw JSON snapshot(s), one per line"
    )


def fetch(path: Path, timeout: float = 5.0) -> dict[str, Any]:
    """The JSON snapshot a serve answers on its control socket ``path``."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(str(path))
        chunks = []
        while True:
            data = s.recv(1 << 16)
            if not data:
                break
            chunks.append(data)
    result: dict[str, Any] = json.loads(b"".join(chunks))
    return result


def format_snapshot(snap: dict[str, Any], zeros: bool) -> str:
    """A snapshot as text: services, devices, connections, netstat -s."""
    drv = snap.get("driver", "tap")
    six = ""
    if snap.get("address6"):
        six = f"; {snap['address6']}, kernel {snap.get('peer_address6')}"
    out = [
        f"ustack serve (pid {snap['pid']}) on {snap['ifname']}: {snap['address']}, "
        f"kernel {snap['peer_address']}{six}, up {snap['uptime']:.1f} s",
        "",
        table(
            ["service", "port", "accepted", "active", "bytes in", "bytes out"],
            [
                [s["kind"], s["port"], s["accepted"], s["active"], s["bytes_in"], s["bytes_out"]]
                for s in snap["services"]
            ],
        ),
        "",
        table(
            ["counter", "value"],
            [[f"stack.{k}", v] for k, v in snap["stack"].items()]
            + [[f"{drv}.{k}", v] for k, v in snap[drv].items()]
            + [[f"if.{k}", v] for k, v in snap["interface"].items()]
            + [[f"rss.{k}", v] for k, v in snap.get("rss", {}).items()],
        ),
        "",
    ]
    stacks = snap.get("stacks")
    if stacks:  # serve --stacks N
        out += [
            table(
                [
                    "stack",
                    "accepted",
                    "rx frames",
                    "tx frames",
                    "local",
                    "steered out",
                    "steered in",
                    "ring full",
                ],
                [
                    [
                        s["index"],
                        s["accepted"],
                        s["stack"]["rx_frames"],
                        s["stack"]["tx_frames"],
                        s["rss"]["rss_local"],
                        s["rss"]["rss_steered_out"],
                        s["rss"]["rss_steered_in"],
                        s["rss"]["rss_ring_full"],
                    ]
                    for s in stacks
                ],
                title="stacks (frames re-steered to the stack owning their flow):",
            ),
            "",
        ]
    conns = snap["connections"]
    if conns:
        out += [
            table(
                ["local", "remote", "state"],
                [[c["local"], c["remote"], c["state"]] for c in conns],
                title="tcp connections:",
            ),
            "",
        ]
    out.append(format_netstat(snap["netstat"], zeros=zeros))
    return "\n".join(out)


def run(args: argparse.Namespace) -> int:
    """Print every reachable serve's counters; 1 when none answered."""
    paths = [args.control] if args.control else sorted(control_dir().glob("serve-*.sock"))
    if not paths:
        print(
            f"ustack stats: no `ustack serve` is running (nothing in {control_dir()})",
            file=sys.stderr,
        )
        return 1
    answered = 0
    for path in paths:
        try:
            snap = fetch(path)
        except (OSError, ValueError) as exc:
            print(f"ustack stats: {path}: {exc} (stale socket?)", file=sys.stderr)
            continue
        answered += 1
        if args.json:
            print(json.dumps(snap))
        else:
            if answered > 1:
                print()
            print(format_snapshot(snap, args.zeros))
    return 0 if answered else 1
