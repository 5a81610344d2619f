"""The board emulated on the host: tests/board/fw_ctl_host (ustack on a TAP
device serving the firmware's control protocol on a unix socket), in a
network namespace of its own, so that :class:`ustack.board.Board`, its
tests and the packetdrill board back end run without QEMU.

``HostBoard`` has the shape of the QEMU launcher (ustack.board.qemu's
QemuBoard): ``start()``, ``stop()``, ``control_path``, ``netns`` (its
:class:`ustack.netns.NetNs`), ``tap`` (the kernel's side of the board's
NIC) and ``ip``; ``Board("host")`` boots one.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from ustack.netns import NetNs, in_netns

__all__ = ["HostBoard", "find_fw_ctl_host", "netns_socket"]

_READY = "ustack-fw: ready"


def find_fw_ctl_host() -> Path:
    """$USTACK_FW_CTL_HOST, else build*/tests/board/fw_ctl_host in the source tree."""
    env = os.environ.get("USTACK_FW_CTL_HOST")
    if env:
        return Path(env)
    root = Path(__file__).resolve().parents[3]
    for build in sorted(root.glob("build*")):
        exe = build / "tests" / "board" / "fw_ctl_host"
        if exe.is_file():
            return exe
    raise FileNotFoundError(
        "tests/board/fw_ctl_host is not built: cmake -S . -B build && "
        "cmake --build build --target fw_ctl_host (or set USTACK_FW_CTL_HOST)"
    )


def netns_socket(netns: str, *args: Any) -> socket.socket:
    """``socket.socket(*args)`` created inside the namespace ``netns``
    (``ip netns`` name): the host kernel's side of a board's link, used
    from this process."""
    with in_netns(netns):
        return socket.socket(*args)


class HostBoard:
    """fw_ctl_host in a fresh namespace, the board's NIC a TAP device there.

    ``peer`` (``"198.18.0.1/24"``) is given to the kernel's side of the TAP
    so that kernel sockets (:func:`netns_socket`) talk to the board; None
    leaves it without an address (packetdrill's packet socket plays the
    peer)."""

    def __init__(
        self,
        board: str = "host",
        *,
        ip: str = "198.18.0.2/24",
        peer: str | None = "198.18.0.1/24",
        tap: str = "bd0",
        seed: int | None = None,
        mtu: int = 1500,
    ) -> None:
        if board != "host":
            raise ValueError(f"HostBoard emulates board 'host', not {board!r}")
        self.ip = ip
        self.peer = peer
        self.tap = tap
        self.seed = seed
        self.mtu = mtu
        self.netns: NetNs | None = None
        self._proc: subprocess.Popen[str] | None = None
        self._dir = tempfile.mkdtemp(prefix="ustack-hostboard-")
        self.control_path = os.path.join(self._dir, "ctl.sock")
        self.log = ""

    def start(self) -> HostBoard:
        exe = find_fw_ctl_host()
        self.netns = NetNs("board")
        try:
            argv = [str(exe), "--ctl", self.control_path, "--tap", self.tap, "--ip", self.ip]
            argv += ["--mtu", str(self.mtu)]
            if self.seed is not None:
                argv += ["--seed", str(self.seed)]
            self._proc = subprocess.Popen(
                self.netns.exec_argv(*argv), stdout=subprocess.PIPE, text=True
            )
            assert self._proc.stdout is not None
            self.log = self._proc.stdout.readline()
            if not self.log.startswith(_READY):
                raise RuntimeError(f"fw_ctl_host did not come up (exit {self._proc.wait(5)})")
            self.netns.run("ip", "link", "set", self.tap, "up")
            if self.peer is not None:
                self.netns.run("ip", "addr", "add", self.peer, "dev", self.tap)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> int | None:
        """Ends fw_ctl_host (if the EXIT op did not) and removes the namespace;
        the program's exit status."""
        rc = None
        if self._proc is not None:
            proc, self._proc = self._proc, None
            try:
                rc = proc.wait(0.5)
            except subprocess.TimeoutExpired:
                proc.terminate()
                rc = proc.wait(5)
            if proc.stdout is not None:
                proc.stdout.close()
        if self.netns is not None:
            ns, self.netns = self.netns, None
            ns.close()
        shutil.rmtree(self._dir, ignore_errors=True)
        return rc

    def __enter__(self) -> HostBoard:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
