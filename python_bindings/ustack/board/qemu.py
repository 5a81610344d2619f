"""Building ustack's firmware and booting it on an emulated board under QEMU.

    with QemuBoard("mps2-an385") as board:          # build, namespace, TAP, boot
        board.run("ping -c 3 " + board.address)     # the kernel's tools, in the namespace
        status = board.exit(7)                      # control EXIT: QEMU ends with 7

What a :class:`QemuBoard` sets up, and takes down again on every way out
(an exception, Ctrl-C, SIGTERM turned into an exception by the caller):

- a network namespace of its own (:class:`ustack.netns.NetNs`), holding a TAP
  device (``ustb0``) with the kernel's side at ``host_address``
  (198.18.0.1/24) and IPv6 off, so the kernel sends nothing unasked;
- ``qemu-system-arm -M <machine>`` started inside that namespace, its NIC on
  the TAP (``-nic tap,ifname=ustb0,script=no,downscript=no``), UART0 (the
  firmware's log) to ``log_path``, UART1 (the control channel of
  firmware/fw_ctl.c) to a Unix socket at ``ctl_path`` (a chardev with
  ``server=on,wait=off``: the board boots without a client; bytes it sends
  while none is connected are dropped), semihosting on
  (``-semihosting-config enable=on,target=native``: the firmware reads its
  command line with SYS_GET_CMDLINE and ends QEMU with SYS_EXIT_EXTENDED's
  status), and ``-append "ip=... gw=... seed=..."`` as that command line;
- the wait for the firmware's ``ustack-fw: ready`` line on UART0 (a timeout
  raises :class:`BoardError` with the end of the log and QEMU's stderr).

Semihosting gives the firmware QEMU's -kernel path as the first word of the
command line (QEMU 7.2 builds argv from -kernel and -append); the firmware
reads only the ``key=value`` words.

Time: the board runs in real time (no ``-icount``).  Its peer is the Linux
kernel on the TAP, whose timers (ARP, TCP retransmission, curl's) run in real
time; with ``-icount shift=N`` the board's clock would follow the number of
instructions instead, running faster or slower than the kernel's as the host
is idle or loaded, so retransmission timers on the two sides would disagree.
``-icount`` makes CPU-only runs repeat exactly, which the network never does
here (frames arrive when the host delivers them); ``icount=N`` is still
offered for boot-time experiments.

The control channel is one byte stream and QEMU's chardev takes one client
at a time: :meth:`QemuBoard.control` opens it once and every user (``exit``,
:class:`ustack.board.Board`) shares that connection.
"""

from __future__ import annotations

import ipaddress
import os
import re
import shlex
import shutil
import socket
import struct
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from ustack._util import end_process
from ustack.board import protocol
from ustack.netns import BENCH_NET, NetNs, NetNsError

__all__ = [
    "BOARDS",
    "BoardSpec",
    "BoardError",
    "QemuBoard",
    "build_firmware",
    "firmware_path",
    "board_spec",
    "source_dir",
    "unavailable_reason",
    "READY",
    "QEMU",
    "DEFAULT_ADDRESS",
    "DEFAULT_HOST_ADDRESS",
    "TOOLCHAIN_FILE",
]

QEMU = "qemu-system-arm"
READY = "ustack-fw: ready"
# The ready line once complete: board name, then the address it serves at.
_READY_LINE = re.compile(re.escape(READY) + r" (\S+) (\S+)\r?\n")
DEFAULT_ADDRESS = "198.18.0.2/24"  # the board
DEFAULT_HOST_ADDRESS = "198.18.0.1/24"  # the kernel, on the TAP
TAP_NAME = "ustb0"
TOOLCHAIN_FILE = "cmake/arm-none-eabi-cortex-m3.cmake"
_INSTALL = "apt-get install qemu-system-arm"
_TOOLCHAIN_INSTALL = "apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi cmake"


class BoardError(RuntimeError):
    """A firmware build, a boot or the board's control channel failed."""


@dataclass(frozen=True)
class BoardSpec:
    """One board QEMU emulates and ustack has firmware for."""

    name: str  # what --board takes
    machine: str  # qemu-system-arm -M
    cpu: str  # the machine's core (informational: each machine fixes its CPU)
    firmware: str  # which firmware build it boots (USTACK_BOARD=...)
    nic: str  # QEMU's NIC model on the machine (-nic model=)
    ram: str  # what the firmware has to run in
    notes: str


BOARDS: dict[str, BoardSpec] = {
    b.name: b
    for b in (
        BoardSpec(
            name="mps2-an385",
            machine="mps2-an385",
            cpu="cortex-m3",
            firmware="mps2-an385",
            nic="lan9118",
            ram="4 MiB SSRAM at 0x0 (code); data, the 1 MiB heap and the stack in 4 MiB "
            "at 0x20000000",
            notes="ARM MPS2 FPGA image AN385 at 25 MHz; SMSC LAN9118 Ethernet at "
            "0x40200000, CMSDK UARTs (UART0 log, UART1 control); no RNG (weak entropy: "
            "give seed= for reproducible runs)",
        ),
        BoardSpec(
            name="mps2-an386",
            machine="mps2-an386",
            cpu="cortex-m4",
            firmware="mps2-an385",
            nic="lan9118",
            ram="as mps2-an385",
            notes="AN386: the AN385 design with a Cortex-M4; boots the mps2-an385 image",
        ),
        BoardSpec(
            name="mps2-an500",
            machine="mps2-an500",
            cpu="cortex-m7",
            firmware="mps2-an385",
            nic="lan9118",
            ram="as mps2-an385",
            notes="AN500: Cortex-M7, LAN9118 at 0xa0000000 (the image reads the FPGA's "
            "SCC_ID to tell); boots the mps2-an385 image",
        ),
        BoardSpec(
            name="lm3s6965evb",
            machine="lm3s6965evb",
            cpu="cortex-m3",
            firmware="lm3s6965evb",
            nic="stellaris",
            ram="64 KiB SRAM at 0x20000000 for everything: a 50 KiB stack heap, the "
            "firmware's buffers and the stack; 256 KiB flash",
            notes="TI Stellaris LM3S6965 evaluation board; Stellaris Ethernet MAC, "
            "Stellaris UARTs (UART0 log, UART1 control); SysTick counts only with "
            "CLKSOURCE=ref",
        ),
    )
}


def board_spec(board: str) -> BoardSpec:
    """The table entry for ``board``; BoardError naming the boards otherwise."""
    try:
        return BOARDS[board]
    except KeyError:
        raise BoardError(f"unknown board {board!r}; boards: {', '.join(BOARDS)}") from None


def source_dir() -> Path:
    """The source checkout this package belongs to (the firmware is built from it)."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "CMakeLists.txt").is_file() and (parent / "firmware").is_dir():
            return parent
    raise BoardError(
        "the firmware is built from a ustack source checkout, and this package is "
        f"not inside one ({here}); give the firmware's ELF instead (--elf)"
    )


def _build_dir(spec: BoardSpec, build_dir: Path | None, profile: str | None) -> Path:
    if build_dir is not None:
        return Path(build_dir)
    suffix = f"-{profile}" if profile else ""
    return source_dir() / "build" / f"board-{spec.firmware}{suffix}"


def firmware_path(board: str, *, build_dir: Path | None = None, profile: str | None = None) -> Path:
    """Where :func:`build_firmware` puts ``board``'s firmware ELF."""
    spec = board_spec(board)
    return _build_dir(spec, build_dir, profile) / f"ustack-fw-{spec.firmware}.elf"


def build_firmware(
    board: str,
    *,
    build_dir: Path | None = None,
    profile: str | None = None,
    jobs: int = 0,
    quiet: bool = False,
) -> Path:
    """Configures (first time) and builds ``board``'s firmware with CMake and
    the arm-none-eabi toolchain; returns the ELF's path.

    The tree is ``build/board-<firmware>`` of the source checkout (or
    ``build_dir``); ``profile`` names a configuration of ustack_opts.h
    (``-DUSTACK_PROFILE=...``) built in a tree of its own.  CMake's output
    is shown as it goes unless ``quiet``."""
    spec = board_spec(board)
    missing = [t for t in ("cmake", "arm-none-eabi-gcc") if shutil.which(t) is None]
    if missing:
        raise BoardError(f"{', '.join(missing)} not found; install: {_TOOLCHAIN_INSTALL}")
    src = source_dir()
    bdir = _build_dir(spec, build_dir, profile)
    configure = [
        "cmake",
        "-S",
        str(src),
        "-B",
        str(bdir),
        f"-DCMAKE_TOOLCHAIN_FILE={src / TOOLCHAIN_FILE}",
        f"-DUSTACK_BOARD={spec.firmware}",
    ]
    if profile:
        configure.append(f"-DUSTACK_PROFILE={profile}")
    steps = []
    if not (bdir / "CMakeCache.txt").is_file() or profile:
        steps.append(configure)
    steps.append(["cmake", "--build", str(bdir), "-j", str(jobs or os.cpu_count() or 2)])
    t0 = time.monotonic()
    if not quiet:
        print(f"ustack board: building the {spec.firmware} firmware in {bdir}", flush=True)
    for cmd in steps:
        out = subprocess.run(
            cmd,
            stdout=subprocess.PIPE if quiet else None,
            stderr=subprocess.STDOUT if quiet else None,
            text=True,
            check=False,
        )
        if out.returncode != 0:
            shown = f"\n{out.stdout[-4000:]}" if quiet and out.stdout else ""
            raise BoardError(f"firmware build failed: {shlex.join(cmd)}{shown}")
    elf = bdir / f"ustack-fw-{spec.firmware}.elf"
    if not elf.is_file():
        raise BoardError(f"the build made no {elf.name} in {bdir} (is USTACK_BOARD supported?)")
    if not quiet:
        print(f"ustack board: {elf} ({time.monotonic() - t0:.1f} s)", flush=True)
    return elf


def unavailable_reason() -> str | None:
    """Why boards cannot be booted here (root, iproute2, TUN, QEMU), or None."""
    from ustack import netns

    reason = netns.unavailable_reason()
    if reason is not None:
        return reason
    if shutil.which(QEMU) is None:
        return f"{QEMU} is not installed ({_INSTALL})"
    return None


def _in_range(cidr: str) -> ipaddress.IPv4Interface:
    addr = ipaddress.IPv4Interface(cidr)
    if addr.ip not in ipaddress.IPv4Network(BENCH_NET):
        raise ValueError(f"{cidr}: only addresses from {BENCH_NET} may be used here")
    return addr


def _tail(path: Path, lines: int = 20) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


class QemuBoard:
    """A board under QEMU in a network namespace of its own, reachable from
    the kernel there at :attr:`address`.  A context manager: entering boots
    it (:meth:`start`), leaving removes everything (:meth:`close`)."""

    def __init__(
        self,
        board: str = "mps2-an385",
        *,
        elf: str | Path | None = None,
        address: str = DEFAULT_ADDRESS,
        host_address: str = DEFAULT_HOST_ADDRESS,
        gateway: str | None = "",
        seed: int | None = None,
        log_path: str | Path | None = None,
        boot_timeout: float = 30.0,
        icount: int | None = None,
        qemu_args: Sequence[str] = (),
        build_dir: Path | None = None,
        quiet: bool = True,
    ) -> None:
        """``elf`` None builds the firmware (:func:`build_firmware`);
        ``gateway`` "" is the host's address, None none; ``seed`` None lets
        the firmware seed itself from the board's entropy; ``log_path`` None
        keeps UART0's log in a temporary folder removed on close."""
        self.spec = board_spec(board)
        self.interface = _in_range(address)
        self.host_interface = _in_range(host_address)
        if self.interface.network != self.host_interface.network:
            raise ValueError(f"{address} and {host_address} are not on one subnet")
        if self.interface.ip == self.host_interface.ip:
            raise ValueError(f"the board and the host both at {self.interface.ip}")
        self.gateway = str(self.host_interface.ip) if gateway == "" else gateway
        self.seed = seed
        self.elf = Path(elf) if elf is not None else None
        self.build_dir = build_dir
        self.boot_timeout = boot_timeout
        self.icount = icount
        self.qemu_args = list(qemu_args)
        self.quiet = quiet
        self._tmp = Path(tempfile.mkdtemp(prefix=f"ustack-{self.spec.name}-"))
        self.log_path = Path(log_path) if log_path is not None else self._tmp / "uart0.log"
        self.ctl_path = self._tmp / "ctl.sock"
        self.control_path = self.ctl_path  # the name ustack.board.control uses
        self.stderr_path = self._tmp / "qemu.stderr"
        # QEMU gets the ELF through this short link: semihosting hands the
        # firmware "<-kernel path> <-append>" whole or not at all (it has
        # 256 bytes for it), and a deep checkout's path would crowd out the
        # configuration.
        self.kernel_path = self._tmp / "fw.elf"
        self.netns: NetNs | None = None
        self.proc: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None
        self._ctl: socket.socket | None = None
        self._tag = 0
        self.boot_seconds = 0.0

    # --- what the board is --------------------------------------------------

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def address(self) -> str:
        """The board's IPv4 address (no prefix)."""
        return str(self.interface.ip)

    @property
    def host_ip(self) -> str:
        """The kernel's address on the TAP."""
        return str(self.host_interface.ip)

    @property
    def cmdline(self) -> str:
        """What the firmware reads with SYS_GET_CMDLINE (after the ELF's path)."""
        words = [f"ip={self.interface.with_prefixlen}"]
        if self.gateway:
            words.append(f"gw={self.gateway}")
        if self.seed is not None:
            words.append(f"seed={self.seed}")
        return " ".join(words)

    def qemu_argv(self) -> list[str]:
        """QEMU's command line (run inside the namespace)."""
        if self.elf is None:
            raise BoardError("no firmware ELF yet (start() builds it)")
        argv = [
            QEMU,
            "-M",
            self.spec.machine,
            "-nodefaults",
            "-display",
            "none",
            "-monitor",
            "none",
            "-kernel",
            str(self.kernel_path if self.kernel_path.is_symlink() else self.elf),
            "-append",
            self.cmdline,
            "-semihosting-config",
            "enable=on,target=native",
            "-chardev",
            f"file,id=uart0,path={self.log_path}",
            "-chardev",
            f"socket,id=ctl,path={self.ctl_path},server=on,wait=off",
            "-serial",
            "chardev:uart0",
            "-serial",
            "chardev:ctl",
            "-nic",
            f"tap,ifname={TAP_NAME},script=no,downscript=no,model={self.spec.nic}",
        ]
        if self.icount is not None:
            argv += ["-icount", f"shift={self.icount}"]
        return argv + self.qemu_args

    # --- life cycle -----------------------------------------------------------

    def start(self) -> QemuBoard:
        """Builds the firmware when no ELF was given, makes the namespace and
        TAP, boots QEMU and waits for the firmware's ready line.  Everything
        is removed again when any step fails."""
        try:
            self._start()
        except BaseException:
            self.close()
            raise
        return self

    def _start(self) -> None:
        reason = unavailable_reason()
        if reason is not None:
            raise BoardError(reason)
        if self.elf is None:
            self.elf = build_firmware(self.spec.name, build_dir=self.build_dir, quiet=self.quiet)
        if not self.elf.is_file():
            raise BoardError(f"no firmware at {self.elf}")
        self.elf = self.elf.resolve()
        self.kernel_path.unlink(missing_ok=True)
        self.kernel_path.symlink_to(self.elf)
        try:
            self.netns = NetNs(f"board-{self.spec.name.replace('-', '')}")
            ns = self.netns
            ns.run("ip", "tuntap", "add", "dev", TAP_NAME, "mode", "tap")
            ns.run("sysctl", "-qw", f"net.ipv6.conf.{TAP_NAME}.disable_ipv6=1")
            ns.run("ip", "addr", "add", self.host_interface.with_prefixlen, "dev", TAP_NAME)
            ns.run("ip", "link", "set", TAP_NAME, "up")
        except NetNsError as exc:
            raise BoardError(f"setting up the board's namespace: {exc}") from None
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.log_path.write_bytes(b"")
        self._stderr = open(self.stderr_path, "wb")  # noqa: SIM115 (closed in close())
        t0 = time.monotonic()
        # A process group of its own: Ctrl-C at the terminal reaches Python,
        # which stops QEMU itself after cleaning up, not QEMU first.
        self.proc = subprocess.Popen(
            ns.exec_argv(*self.qemu_argv()),
            stdin=subprocess.DEVNULL,
            stdout=self._stderr,
            stderr=self._stderr,
            process_group=0,
        )
        self._wait_ready(t0)
        self.boot_seconds = time.monotonic() - t0

    def _wait_ready(self, t0: float) -> None:
        deadline = t0 + self.boot_timeout
        while True:
            try:
                text = self.log_path.read_text(errors="replace")
            except OSError:
                text = ""
            # The whole line: the UART writes it a few bytes at a time, and a
            # ready line read half-written names half an address.
            if _READY_LINE.search(text) is not None:
                self._check_ready(text)
                return
            assert self.proc is not None
            rc = self.proc.poll()
            if rc is not None:
                raise BoardError(
                    f"{self.spec.name}: QEMU exited with status {rc} before the firmware "
                    f"was ready{self._diagnostics()}"
                )
            if time.monotonic() >= deadline:
                raise BoardError(
                    f"{self.spec.name}: no '{READY}' line in {self.boot_timeout:g} s"
                    f"{self._diagnostics()}"
                )
            time.sleep(0.02)

    def _check_ready(self, text: str) -> None:
        """The ready line names the address the firmware took: another one
        means it did not get the command line it was given."""
        m = _READY_LINE.search(text)
        if m is not None and m.group(2) != self.address:
            raise BoardError(
                f"{self.spec.name}: the firmware serves at {m.group(2)}, not {self.address}: "
                f"it did not read the command line {self.cmdline!r}{self._diagnostics()}"
            )

    def _diagnostics(self) -> str:
        out = ""
        log = _tail(self.log_path)
        out += f"\n--- UART0 log ({self.log_path}), last lines:\n{log or '(empty)'}"
        err = _tail(self.stderr_path)
        if err:
            out += f"\n--- QEMU stderr:\n{err}"
        out += f"\n--- QEMU: {shlex.join(self.qemu_argv())}" if self.elf is not None else ""
        return out

    def log_text(self) -> str:
        """UART0 so far."""
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def log_tail(self, lines: int = 20) -> str:
        return _tail(self.log_path, lines)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def returncode(self) -> int | None:
        """QEMU's exit status once it ended, else None."""
        return None if self.proc is None else self.proc.poll()

    # --- host side ------------------------------------------------------------------

    def env(self) -> dict[str, str]:
        """Variables telling a command run with :meth:`run` where the board is."""
        return {
            "USTACK_BOARD": self.spec.name,
            "USTACK_BOARD_IP": self.address,
            "USTACK_BOARD_HOST_IP": self.host_ip,
            "USTACK_BOARD_CTL": str(self.ctl_path),
            "USTACK_BOARD_LOG": str(self.log_path),
            "USTACK_BOARD_NETNS": self._ns().name,
        }

    def _ns(self) -> NetNs:
        if self.netns is None:
            raise BoardError("the board is not started")
        return self.netns

    def exec_argv(self, *argv: str) -> list[str]:
        """``argv`` prefixed to run inside the board's namespace."""
        return self._ns().exec_argv(*argv)

    def _command(
        self, cmd: str | Sequence[str], env: Mapping[str, str] | None
    ) -> tuple[list[str], dict[str, str]]:
        """argv in the namespace (a string runs through sh -c) and its environment."""
        argv = ["sh", "-c", cmd] if isinstance(cmd, str) else list(cmd)
        return self.exec_argv(*argv), {**os.environ, **self.env(), **(env or {})}

    def popen(
        self,
        cmd: str | Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        **kwargs: object,
    ) -> subprocess.Popen[bytes]:
        """Starts ``cmd`` (a shell command line, or argv) in the namespace,
        with :meth:`env` added to the environment."""
        argv, full = self._command(cmd, env)
        return subprocess.Popen(argv, env=full, **kwargs)  # type: ignore[call-overload]

    def run(
        self,
        cmd: str | Sequence[str],
        *,
        check: bool = False,
        timeout: float | None = None,
        capture: bool = True,
        input: bytes | None = None,  # noqa: A002 (subprocess's name)
        env: Mapping[str, str] | None = None,
    ) -> subprocess.CompletedProcess[bytes]:
        """Runs ``cmd`` in the namespace to its end (see :meth:`popen`);
        output captured unless ``capture`` is False.  ``check``: BoardError
        with its output when it fails."""
        argv, full = self._command(cmd, env)
        out = subprocess.run(
            argv,
            env=full,
            capture_output=capture,
            input=input,
            timeout=timeout,
            check=False,
        )
        if check and out.returncode != 0:
            shown = (out.stdout or b"")[-2000:] + (out.stderr or b"")[-2000:]
            raise BoardError(
                f"`{cmd if isinstance(cmd, str) else shlex.join(cmd)}` exited with status "
                f"{out.returncode}\n{shown.decode(errors='replace')}"
            )
        return out

    # --- control channel ---------------------------------------------------------------

    def control(self, timeout: float = 10.0) -> socket.socket:
        """The connection to the board's control UART (opened on first use,
        then shared: QEMU's chardev takes one client at a time)."""
        if self._ctl is not None:
            return self._ctl
        if not self.running:
            raise BoardError(f"{self.spec.name} is not running")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        try:
            sock.connect(str(self.ctl_path))
        except OSError as exc:
            sock.close()
            raise BoardError(f"control channel {self.ctl_path}: {exc}") from None
        self._ctl = sock
        return sock

    def next_tag(self) -> int:
        """A request tag (0..255, wrapping) for the shared control connection."""
        self._tag = (self._tag + 1) & 0xFF
        return self._tag

    def call(self, op: int, args: bytes = b"", timeout: float = 10.0) -> tuple[int, bytes]:
        """One control request on the shared connection: (result, data)."""
        sock = self.control(timeout)
        sock.settimeout(timeout)
        try:
            return protocol.call(sock, op, args, self.next_tag())
        except (OSError, ConnectionError) as exc:
            why = f"{self.spec.name} control channel: {exc}"
            raise BoardError(why + self._diagnostics()) from exc

    def hello(self) -> str:
        """The firmware's HELLO answer: "<board> ustack <version>"."""
        result, data = self.call(protocol.HELLO)
        if result < 0:
            raise BoardError(f"HELLO failed: {os.strerror(-result)}")
        return data.decode(errors="replace")

    def exit(self, status: int = 0, timeout: float = 10.0) -> int:
        """Asks the firmware to exit with ``status`` (control EXIT) and waits
        for QEMU to end; returns QEMU's exit status (``status`` when the
        firmware obeyed)."""
        result, _ = self.call(protocol.EXIT, struct.pack(">i", status), timeout)
        if result < 0:
            raise BoardError(f"EXIT refused: {os.strerror(-result)}")
        return self.wait(timeout)

    def wait(self, timeout: float | None = None) -> int:
        """QEMU's exit status, once it ended (TimeoutError after ``timeout``)."""
        if self.proc is None:
            raise BoardError("the board was never started")
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise TimeoutError(f"{self.spec.name}: QEMU still running after {timeout} s") from None

    def stop(self, timeout: float = 5.0) -> int | None:
        """Ends QEMU without the firmware's say (SIGTERM, SIGKILL after
        ``timeout``; nothing if it already ended) and removes the control
        connection and the namespace with its TAP.  The log stays readable
        until :meth:`close`.  QEMU's status (negative: the signal), None if
        it never started.  Safe to call more than once."""
        if self._ctl is not None:
            self._ctl.close()
            self._ctl = None
        try:
            if self.proc is not None:
                end_process(self.proc, timeout)
        finally:
            if self._stderr is not None:
                self._stderr.close()
                self._stderr = None
            if self.netns is not None:
                self.netns.run("ip", "link", "del", TAP_NAME, check=False)
                self.netns.close()
                self.netns = None
        return None if self.proc is None else self.proc.returncode

    def close(self) -> None:
        """:meth:`stop`, then removes the temporary folder (the log, unless
        ``log_path`` was given, and the control socket)."""
        try:
            self.stop()
        finally:
            shutil.rmtree(self._tmp, ignore_errors=True)

    def __enter__(self) -> QemuBoard:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        tmp = getattr(self, "_tmp", None)
        if getattr(self, "netns", None) is not None or (tmp is not None and tmp.exists()):
            try:
                self.close()
            except Exception:  # noqa: BLE001 (interpreter shutdown)
                pass

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<QemuBoard {self.spec.name} {self.address} {state}>"
