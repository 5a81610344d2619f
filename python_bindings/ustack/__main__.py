"""``python -m ustack`` / ``ustack``: the command-line interface.

Subcommands live in :mod:`ustack.commands`; ``ustack SUBCOMMAND --help``
explains each option.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

DESCRIPTION = """\
ustack: a portable user-space TCP/IP stack with FreeBSD's architecture.

Run `ustack SUBCOMMAND --help` for the options of a subcommand."""


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser with every subcommand registered."""
    from ustack.commands import register_all

    parser = argparse.ArgumentParser(
        prog="ustack",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    subparsers = parser.add_subparsers(dest="command", metavar="SUBCOMMAND")
    register_all(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the CLI; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 2
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
