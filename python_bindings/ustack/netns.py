"""Network namespaces for anything that touches a real network device.

Every test, demo or benchmark that uses a TAP device runs in a namespace it
creates itself and removes afterwards, with addresses from 198.18.0.0/15
(RFC 2544's benchmarking range) and, for IPv6, 2001:2::/48 (RFC 5180) or
link-local ones inside it; nothing touches the host's own
interfaces.  :class:`NetNs` does that with iproute2 (``ip netns``), needs
root, and removes the namespace (killing whatever still runs in it) even when
the code inside fails.

    with NetNs("demo") as ns:
        ns.run("ip", "link", "set", "lo", "up")
        subprocess.run(ns.exec_argv(sys.executable, "-m", "ustack", ...))
"""

from __future__ import annotations

import contextlib
import ctypes
import itertools
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence

__all__ = [
    "NetNs",
    "NetNsError",
    "available",
    "in_netns",
    "leaked",
    "unavailable_reason",
    "reexec_inside",
    "run_inside",
    "BENCH_NET",
    "BENCH_NET6",
    "LINK_LOCAL6",
]

BENCH_NET = "198.18.0.0/15"
BENCH_NET6 = "2001:2::/48"
"""RFC 5180's IPv6 benchmarking prefix: the only global IPv6 addresses used."""
LINK_LOCAL6 = "fe80::/10"
"""IPv6 link-local addresses (RFC 4291), also allowed on links made here."""
_counter = itertools.count()
_CLONE_NEWNET = 0x40000000  # setns(2)'s nstype for a network namespace


@contextlib.contextmanager
def in_netns(name: str) -> Iterator[None]:
    """This thread inside namespace ``name`` (an ``ip netns`` name) for the
    block: devices, sockets and child processes made in it belong there."""
    libc = ctypes.CDLL(None, use_errno=True)
    with open(f"/var/run/netns/{name}") as there, open("/proc/self/ns/net") as home:
        if libc.setns(there.fileno(), _CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"setns({name}): {os.strerror(err)}")
        try:
            yield
        finally:
            if libc.setns(home.fileno(), _CLONE_NEWNET) != 0:  # pragma: no cover
                err = ctypes.get_errno()
                raise OSError(err, f"setns(back home): {os.strerror(err)}")


class NetNsError(RuntimeError):
    """A namespace could not be created or set up."""


def unavailable_reason() -> str | None:
    """Why namespaces cannot be used here, or None when they can."""
    if os.geteuid() != 0:
        return "network namespaces and TAP devices need root"
    if shutil.which("ip") is None:
        return "iproute2's `ip` is not installed (apt-get install iproute2)"
    if not os.path.exists("/dev/net/tun"):
        return "/dev/net/tun does not exist"
    return None


def leaked() -> list[str]:
    """ustack namespaces whose creating process is gone: left behind by a
    crash (a live owner may still be using its own)."""
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=False)
    names = [line.split()[0] for line in out.stdout.splitlines() if line.strip()]
    dead = []
    for name in names:
        parts = name.split("-")
        if name.startswith("ustack-") and len(parts) >= 4 and parts[-2].isdigit():
            if not os.path.exists(f"/proc/{parts[-2]}"):
                dead.append(name)
    return dead


def available() -> bool:
    return unavailable_reason() is None


class NetNs:
    """A fresh network namespace named ``ustack-<purpose>-<pid>-<n>``."""

    def __init__(self, purpose: str = "test") -> None:
        reason = unavailable_reason()
        if reason is not None:
            raise NetNsError(reason)
        self.name = f"ustack-{purpose}-{os.getpid()}-{next(_counter)}"
        proc = subprocess.run(
            ["ip", "netns", "add", self.name], capture_output=True, text=True, check=False
        )
        if proc.returncode != 0:
            raise NetNsError(f"ip netns add {self.name}: {proc.stderr.strip()}")
        self._open = True
        try:
            self.run("ip", "link", "set", "lo", "up")
        except Exception:
            self.close()
            raise

    def exec_argv(self, *argv: str) -> list[str]:
        """``argv`` prefixed to run inside the namespace."""
        return ["ip", "netns", "exec", self.name, *argv]

    def run(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Runs a command inside the namespace and waits for it."""
        proc = subprocess.run(self.exec_argv(*argv), capture_output=True, text=True, check=False)
        if check and proc.returncode != 0:
            raise NetNsError(f"{' '.join(argv)} in {self.name}: {proc.stderr.strip()}")
        return proc

    def pids(self) -> list[int]:
        proc = subprocess.run(
            ["ip", "netns", "pids", self.name], capture_output=True, text=True, check=False
        )
        return [int(p) for p in proc.stdout.split()]

    def close(self) -> None:
        """Kills what still runs inside, then deletes the namespace (its
        devices go with it)."""
        if not self._open:
            return
        for sig in (signal.SIGTERM, signal.SIGKILL):
            pids = self.pids()
            for pid in pids:
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
            deadline = time.monotonic() + 2.0
            while pids and self.pids() and time.monotonic() < deadline:
                time.sleep(0.02)
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True, check=False)
        self._open = False

    def __enter__(self) -> NetNs:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        if getattr(self, "_open", False):
            self.close()

    def __repr__(self) -> str:
        return f"<NetNs {self.name}{'' if self._open else ' (deleted)'}>"


INSIDE_ENV = "USTACK_IN_NETNS"  # set for the re-run inside the namespace


def reexec_inside(purpose: str, existing: str | None = None) -> int | None:
    """For a CLI command that must run in a namespace of its own: in the
    parent, creates one (or uses the ``existing`` one, left in place), runs
    this same command line inside (``python -m ustack`` with the same
    arguments) and returns its exit status once the namespace is deleted;
    inside (the re-run), returns None: carry on.  A Ctrl-C (SIGINT) of the
    parent is passed on to the re-run, which ends as it sees fit."""
    if os.environ.get(INSIDE_ENV) == "1":
        return None
    reason = unavailable_reason()
    if reason is not None:
        raise NetNsError(reason)
    if existing is not None and not os.path.exists(f"/run/netns/{existing}"):
        raise NetNsError(f"no network namespace {existing} (ip netns list shows them)")
    os.environ[INSIDE_ENV] = "1"
    argv = [sys.executable, "-m", "ustack", *sys.argv[1:]]
    try:
        if existing is not None:
            return wait_forwarding(["ip", "netns", "exec", existing, *argv])
        return run_inside(purpose, argv)
    finally:
        del os.environ[INSIDE_ENV]


def run_inside(purpose: str, argv: Sequence[str]) -> int:
    """Runs ``argv`` in a new namespace (removed afterwards); its exit status."""
    with NetNs(purpose) as ns:
        return wait_forwarding(ns.exec_argv(*argv))


def wait_forwarding(argv: Sequence[str]) -> int:
    """Runs argv to its end in a process group of its own, passing SIGINT and
    SIGTERM on exactly once: Ctrl-C at a terminal reaches only this process,
    a signal sent to this process's pid reaches the command too, and either
    way the command shuts down cleanly and prints what it prints then.
    (``ip netns exec`` execs the command, so the child is the command.)"""
    proc = subprocess.Popen(argv, process_group=0)
    if threading.current_thread() is not threading.main_thread():
        return proc.wait()

    def forward(signum: int, frame: object) -> None:
        if proc.poll() is None:
            proc.send_signal(signum)

    old_int = signal.signal(signal.SIGINT, forward)
    old_term = signal.signal(signal.SIGTERM, forward)
    try:
        return proc.wait()
    finally:
        signal.signal(signal.SIGINT, old_int)
        signal.signal(signal.SIGTERM, old_term)
