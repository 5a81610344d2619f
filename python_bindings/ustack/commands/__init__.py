"""Subcommands of ``python -m ustack``.

Each module here defines ``NAME``, ``HELP`` (one line), ``DESCRIPTION``
(shown by ``--help``), ``add_arguments(parser)`` and ``run(args) -> int``.
A new subcommand (serve, ping, fetch, bench, stats, link) is a new module added to
``COMMANDS``.
"""

from __future__ import annotations

import argparse
from types import ModuleType

from ustack.commands import (
    bench,
    board,
    demo,
    fetch,
    link,
    packetdrill,
    ping,
    serve,
    stats,
    sysctl,
    version,
)

COMMANDS: tuple[ModuleType, ...] = (
    demo,
    packetdrill,
    serve,
    fetch,
    ping,
    stats,
    sysctl,
    bench,
    link,
    board,
    version,
)


def register_all(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add every subcommand to the CLI's subparsers."""
    for mod in COMMANDS:
        parser = subparsers.add_parser(
            mod.NAME,
            help=mod.HELP,
            description=mod.DESCRIPTION,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        mod.add_arguments(parser)
        parser.set_defaults(func=mod.run)
