"""Helpers several subcommands share: knobs from the command line, sizes."""

from __future__ import annotations

import argparse
from collections.abc import Iterable

from ustack.progress import human
from ustack.stack import Stack

__all__ = ["add_sysctl_argument", "apply_sysctls", "human"]


def add_sysctl_argument(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup,
    what: str = "the stack",
    *,
    short: bool = True,
) -> None:
    """``--sysctl/-o NAME=VALUE`` (repeatable; ``short=False``: no ``-o``)."""
    parser.add_argument(
        "--sysctl",
        *(["-o"] if short else []),
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help=f"set a knob on {what}, as sysctl -w does (repeatable), e.g. "
        "-o net.inet.tcp.delacktime=100 -o net.inet.tcp.recvspace=262144; "
        "`ustack sysctl` lists them",
    )


def apply_sysctls(stacks: Iterable[Stack], settings: list[str], prog: str) -> None:
    """``NAME=VALUE`` strings onto every stack (``sysctl -w``); integers, or
    text for the string knobs (net.inet.tcp.cc.algorithm=newreno)."""
    stacks = list(stacks)
    for item in settings:
        name, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"ustack {prog}: --sysctl wants NAME=VALUE, got {item!r}")
        setting: int | str
        try:
            setting = int(value, 0)
        except ValueError:
            setting = value
        for st in stacks:
            try:
                st.sysctl(name, setting)  # type: ignore[arg-type]
            except (OSError, TypeError, ValueError) as e:
                why = getattr(e, "strerror", None) or str(e)
                raise SystemExit(f"ustack {prog}: sysctl {name}={value}: {why}") from None
