"""``ustack version``: versions of the package, the C library and the toolchain."""

from __future__ import annotations

import argparse
import platform

import ustack

NAME = "version"
HELP = "print the versions of ustack, its C library, cffi and Python"
DESCRIPTION = """\
Print the version of the Python package, of the C library it is linked with
(ust_version()), of cffi and of Python.  Takes no options."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """No options."""


def run(args: argparse.Namespace) -> int:
    """Print the versions."""
    print(f"ustack {ustack.__version__}")
    print(f"libustack {ustack.c_version()}")
    try:  # only the backend is needed at run time (python3-cffi-backend)
        import cffi

        print(f"cffi {cffi.__version__}")
    except ImportError:
        import _cffi_backend

        print(f"cffi backend {_cffi_backend.__version__}")
    print(f"python {platform.python_version()} ({platform.machine()})")
    return 0
