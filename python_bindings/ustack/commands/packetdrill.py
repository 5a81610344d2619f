"""``ustack packetdrill``: run packetdrill scripts against ustack in virtual time."""

from __future__ import annotations

import argparse
import os
import socket
import sys
from pathlib import Path

from ustack import netns
from ustack.hostlink import existing_device
from ustack.packetdrill.runner import RunOptions
from ustack.packetdrill.suite import (
    FAMILIES,
    IN_SCOPE_GROUPS,
    Report,
    ScriptResult,
    default_suite_dir,
    run_scripts,
    select_scripts,
)
from ustack.packetdrill.tap_backend import TAP_TOLERANCE_FLOOR_NS
from ustack.progress import Progress

NAME = "packetdrill"
HELP = "run packetdrill scripts (FreeBSD's TCP test suite) against ustack"
DESCRIPTION = """\
Run packetdrill scripts against a fresh ustack instance each, in virtual time
(in-process, no network device, no root): inbound packets are injected at
their script times, outbound packets are matched field by field within the
script's --tolerance_usecs, syscalls run on ustack's sockets, `sysctl -w`
sets ustack's knobs of the same FreeBSD name, sockstat/tcpdrop commands query
and drop ustack's connections, %{ }% blocks assert on TCP_INFO.

PATH is a .pkt file or a folder searched recursively (default: the FreeBSD
suite in ../shared/conformance/tcp-testsuite, or $USTACK_CONFORMANCE_DIR).
Prints each failure with its first mismatching line (expected and actual
packet), a table per group (pass, fail, skip), the reasons for skips, the
failures again one line each, the scripts FreeBSD's own stack fails
(<script>.exfail, "Bug.") that pass here, the headline pass rate over all
the scripts of each family that ran (skips count as not passed), and a
closing line "N passed, N failed, N skipped"; IPv4 and IPv6 scripts are
counted apart (a column set each in the table, a summary line each with the
in-scope pass rate of the six groups of --in-scope).  IPv6 scripts
(--ip_version=ipv6) run between 2001:2::1 (ustack) and 2001:2::2.  A
construct the runner or ustack does not support (IPv6 in a build without
it, TCP Fast Open, TCP over UDP, MD5 signatures, unknown knobs) is skipped
with its reason, never passed.

Exit status: 0 when nothing failed (a failure FreeBSD expects, .exfail, is
still a failure), with --min-pass-all the pass rate over all scripts of each
family reached it, and with --min-pass/--min-pass-ipv6 the pass rate of the
in-scope IPv4/IPv6 scripts reached it; 1 otherwise, 2 for a usage error.

--backend tap runs the scripts over a real TAP device in real time instead:
by default in a fresh namespace (root); --netns NAME in an existing one
(root); --tap NAME on an existing device of the current namespace, no root
but CAP_NET_RAW (a packet socket plays the script's peer).

Examples:
  ustack packetdrill
  ustack packetdrill --backend tap ../shared/conformance/tcp-testsuite/snippets
  setpriv --inh-caps +net_raw --ambient-caps +net_raw \\
      ustack packetdrill --tap tap0 ../shared/conformance/tcp-testsuite/rcv-icmp
  ustack packetdrill --min-pass-all 99 --json report.json   # what CI runs
  ustack packetdrill --in-scope                              # the six groups
  ustack packetdrill --family 4 --json report.json
  ustack packetdrill ../shared/conformance/tcp-testsuite/snd-syn -v
  ustack packetdrill --force net.inet.tcp.sack.enable=0 snd-syn/   # must fail
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="scripts or folders of scripts (default: the FreeBSD suite)",
    )
    parser.add_argument(
        "--json",
        metavar="FILE",
        help="also write the report as JSON (summary, groups, every result)",
    )
    parser.add_argument(
        "--in-scope",
        action="store_true",
        help=f"run only the groups the conformance goal counts ({', '.join(IN_SCOPE_GROUPS)}) "
        "of the suite (PATH, if given, is the suite's folder)",
    )
    parser.add_argument(
        "--family",
        choices=FAMILIES,
        default="both",
        help="run only the IPv4 (4) or the IPv6 (6) scripts, by their --ip_version, "
        "or both (default); the report counts the two apart either way",
    )
    parser.add_argument(
        "--ipv4-only",
        action="store_const",
        const="4",
        dest="family",
        help="the same as --family 4",
    )
    parser.add_argument(
        "--force",
        action="append",
        default=[],
        metavar="KNOB=VALUE",
        help="hold a knob at VALUE whatever the scripts write (repeatable; a string knob "
        "too: net.inet.tcp.functions_default=rack runs every script on the rack stack); "
        "the self-test uses this to prove that a wrong configuration fails",
    )
    parser.add_argument(
        "--min-pass",
        type=float,
        default=0.0,
        metavar="PERCENT",
        help="also fail unless at least PERCENT of the in-scope IPv4 scripts "
        f"({', '.join(IN_SCOPE_GROUPS)}) pass",
    )
    parser.add_argument(
        "--min-pass-all",
        type=float,
        default=0.0,
        metavar="PERCENT",
        help="also fail unless, in each family (IPv4, IPv6) that ran, at least PERCENT of "
        "all its scripts pass (skips count as not passed; the headline rate)",
    )
    parser.add_argument(
        "--min-pass-ipv6",
        type=float,
        default=0.0,
        metavar="PERCENT",
        help="also fail unless at least PERCENT of the in-scope IPv6 scripts pass",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="list every skipped script with its reason, and every pass",
    )
    parser.add_argument(
        "--backend",
        choices=("virtual", "tap", "board", "netmap"),
        default="virtual",
        help="virtual: in-process on the virtual clock (default); tap: over a real TAP device "
        "in a network namespace made for the run (root), a packet socket as the script's peer, "
        f"real time with the tolerance doubled (at least {TAP_TOLERANCE_FLOOR_NS // 1_000_000} "
        "ms); board: on the stack of a board (--board) booted once for the run (root), "
        "packets over its TAP, syscalls over its control channel; netmap: virtual time "
        "with the stack and its peer on an emulated netmap pipe (the netmap driver over "
        "the user-space emulator, tests/netmap_emu, strict mode)",
    )
    parser.add_argument(
        "--board",
        default=None,
        metavar="BOARD",
        help="--backend board on BOARD: a QEMU board (mps2-an385, the default) or host "
        "(tests/board/fw_ctl_host, the board emulated on the host)",
    )
    parser.add_argument(
        "--tap",
        default=None,
        metavar="NAME",
        help="--backend tap on the existing TAP device NAME of the current namespace "
        "(or of --netns), as it is: no namespace and no root, only CAP_NET_RAW for the "
        "packet socket; the scripts' MTU must be the device's",
    )
    parser.add_argument(
        "--netns",
        default=None,
        metavar="NAME",
        help="--backend tap in the existing network namespace NAME (root) instead of a fresh one",
    )
    parser.add_argument(
        "--retries",
        type=int,
        default=0,
        metavar="N",
        help="tap and board back ends: run a failing script up to N more times (real time: a "
        "busy host can delay a packet past the tolerance); the report lists every script that "
        "needed it.  The virtual back end is deterministic and never retries (default 0)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress line")


def _parse_force(items: list[str]) -> dict[str, int | str]:
    out: dict[str, int | str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not value.strip():
            raise ValueError(f"--force {item!r}: expected KNOB=VALUE")
        value = value.strip()
        try:
            out[name.strip()] = int(value, 0)
        except ValueError:
            out[name.strip()] = value  # a string knob: functions_default=rack
    return out


def _check_force(forced: dict[str, int | str]) -> None:
    """A knob or value a stack refuses is a usage error, said once here
    rather than as a traceback from the first script."""
    if not forced:
        return
    from ustack import Error, Stack  # noqa: PLC0415 (a stack only when needed)

    with Stack() as st:
        for name, value in forced.items():
            try:
                st.sysctl(name, value)  # type: ignore[arg-type]
            except (Error, OverflowError) as exc:
                raise ValueError(f"--force {name}={value}: {exc}") from None


def _tap_unusable(name: str) -> str | None:
    """Why the existing device ``name`` cannot carry the scripts, or None:
    said once here rather than as the same failure of every script."""
    try:
        dev = existing_device(name)
    except ValueError as exc:
        return str(exc)
    if not dev.up:
        return f"the device is down: sudo ip link set {name} up"
    try:
        socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0).close()
    except PermissionError:
        return (
            "the packet socket that plays the scripts' peer needs CAP_NET_RAW: "
            "run as root, or with setpriv --inh-caps +net_raw --ambient-caps +net_raw"
        )
    return None


def run(args: argparse.Namespace) -> int:
    try:
        forced = _parse_force(args.force)
        _check_force(forced)
    except ValueError as exc:
        print(f"ustack packetdrill: {exc}", file=sys.stderr)
        return 2
    paths = [Path(p) for p in args.paths] or [default_suite_dir()]
    if args.in_scope:
        if len(paths) != 1:
            print(
                "ustack packetdrill: --in-scope takes at most one PATH, the suite", file=sys.stderr
            )
            return 2
        paths = [paths[0] / g for g in IN_SCOPE_GROUPS]
    for p in paths:
        if not p.exists():
            print(f"ustack packetdrill: {p}: no such file or folder", file=sys.stderr)
            return 2
    if args.board is not None:
        args.backend = "board"
    if args.tap is not None or args.netns is not None:
        args.backend = "tap"
    if (args.backend == "tap" and args.tap is None) or args.netns is not None:
        # Re-run this very command inside a namespace of its own (or --netns).
        try:
            rc = netns.reexec_inside("pd", args.netns)
        except netns.NetNsError as exc:
            print(f"ustack packetdrill: --backend tap: {exc}", file=sys.stderr)
            return 2
        if rc is not None:
            return rc
    if args.tap is not None:
        why = _tap_unusable(args.tap)
        if why is not None:
            print(f"ustack packetdrill: --tap {args.tap}: {why}", file=sys.stderr)
            return 2
    total = sum(1 for _ in select_scripts(paths, args.family))
    bar = Progress("", total, unit="scripts", quiet=args.quiet)

    def progress(i: int, r: ScriptResult) -> None:
        if args.verbose and r.status == "pass":
            bar.message(f"PASS {r.path}")
        bar(bar.done + 1)

    report: Report = run_scripts(
        paths,
        opts=RunOptions(forced=forced),
        family=args.family,
        progress=progress,
        backend=args.backend,
        tap=args.tap,
        board=args.board,
        retries=max(0, args.retries),
    )
    bar.clear()
    print(report.format(verbose=args.verbose))
    if args.json:
        Path(args.json).write_text(report.to_json() + os.linesep)
    ok = report.counts()["fail"] + report.counts()["error"] == 0
    if args.min_pass_all > 0:
        for family in report.families():
            passed, scripts = report.totals(family)
            rate = report.pass_rate(family)
            print(
                f"IPv{family} pass rate over all {scripts} scripts: {rate:.1f}% "
                f"(required {args.min_pass_all:g}%)"
            )
            ok = ok and rate >= args.min_pass_all
    for family, minimum in ((4, args.min_pass), (6, args.min_pass_ipv6)):
        if minimum > 0:
            rate = report.in_scope_pass_rate(family)
            print(f"in-scope IPv{family} pass rate: {rate:.1f}% (required {minimum:g}%)")
            ok = ok and rate >= minimum
    return 0 if ok else 1
