"""``ustack sysctl``: the run-time knobs, their defaults and what they do."""

from __future__ import annotations

import argparse
import sys

from ustack.commands._table import table
from ustack.netstat import SysctlInfo, sysctl_info

NAME = "sysctl"
HELP = "list the run-time knobs (FreeBSD sysctl names) with defaults and descriptions"
DESCRIPTION = """\
List the knobs every stack has, under FreeBSD's sysctl names and with
FreeBSD's defaults: name, default, accepted range and description.  Give
names or prefixes to list only those.  Set them per stack from Python with
Stack.sysctl(name, value) or from C with ust_sysctl_set() (string knobs such
as net.inet.tcp.cc.algorithm: ust_sysctl_set_str()).

examples:
  python -m ustack sysctl
  python -m ustack sysctl net.inet.udp
  python -m ustack sysctl -N
  python -m ustack sysctl -n net.inet.ip.ttl
  python -m ustack sysctl net.inet.tcp.cc"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The sysctl subcommand's options."""
    parser.add_argument("names", nargs="*", metavar="NAME", help="knob names or prefixes")
    shown = parser.add_mutually_exclusive_group()
    shown.add_argument(
        "-N", dest="names_only", action="store_true", help="print only the names, one a line"
    )
    shown.add_argument(
        "-n", dest="values_only", action="store_true", help="print only the defaults, one a line"
    )
    shown.add_argument(
        "-d", dest="descr", action="store_true", help="print name: description, as sysctl -d"
    )


def run(args: argparse.Namespace) -> int:
    """List the knobs; 1 when a name matches none."""
    knobs = sysctl_info()
    if args.names:
        selected: list[SysctlInfo] = []
        for name in args.names:
            found = sysctl_info(name)
            if not found:
                print(f"ustack sysctl: unknown oid '{name}'", file=sys.stderr)
                return 1
            selected.extend(k for k in found if k not in selected)
        knobs = selected
    if args.names_only:
        print("\n".join(k.name for k in knobs))
    elif args.values_only:
        print("\n".join(str(k.default) for k in knobs))
    elif args.descr:
        print("\n".join(f"{k.name}: {k.description}" for k in knobs))
    else:
        rows: list[list[object]] = [
            [
                k.name,
                k.default,
                "(string)" if k.string else f"{k.min}..{k.max}",
                ("(read-only) " if k.readonly else "") + k.description,
            ]
            for k in knobs
        ]
        print(table(["name", "default", "range", "description"], rows))
    return 0
