"""``ustack board``: ustack's firmware on an emulated Cortex-M board under QEMU.

``board run`` is ``serve --run``'s shape for a board: build the firmware,
boot it in a namespace of its own on a TAP device
(:class:`ustack.board.QemuBoard`), run a command there against it, stop the
board through its control channel (EXIT) and exit with the command's status,
which the firmware hands back to QEMU.  ``board build`` and ``board list``
build and describe.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import time
from pathlib import Path

from ustack._util import end_process
from ustack.board.checks import CHECKS, run_checks
from ustack.board.qemu import (
    BOARDS,
    DEFAULT_ADDRESS,
    DEFAULT_HOST_ADDRESS,
    BoardError,
    QemuBoard,
    build_firmware,
    firmware_path,
    unavailable_reason,
)
from ustack.commands._live import Stopper
from ustack.commands._table import table

NAME = "board"
HELP = "build ustack's firmware and boot it on an emulated board (QEMU), reachable from Linux"
DESCRIPTION = f"""\
ustack's firmware (firmware/: ping, UDP echo :7, TCP echo :7, HTTP :80
GET /bytes/N, a control channel on UART1) on a board qemu-system-arm
emulates: {", ".join(BOARDS)}.

  ustack board list                  the boards, their QEMU machine, CPU, RAM, NIC
  ustack board build --board B       build B's firmware (CMake, arm-none-eabi-gcc)
                                     into build/board-<firmware>/
  ustack board run --board B         build, boot and stay up until Ctrl-C,
                                     printing how to reach the board
  ustack board check --board all     boot each board and run the host-side checks
                                     (ping to 8000 bytes, hostile clients, HTTP 1 MB,
                                     TCP/UDP echo, EXIT)
  ustack board run --board B --run CMD
                                     build, boot, run CMD next to the board, stop
                                     it and exit with CMD's status

`board run` (root) makes a network namespace with a TAP device (the kernel
at --host-ip, 198.18.0.1/24) and boots QEMU inside it, the board's NIC on
the TAP, the board at --ip (198.18.0.2/24).  UART0 (the firmware's log)
goes to --log; UART1, the control channel, to a Unix socket (printed; the
protocol of ustack.board.protocol).  --run CMD runs in the namespace once
the firmware logged "ustack-fw: ready", with these variables set:

  USTACK_BOARD_IP       the board's address (198.18.0.2)
  USTACK_BOARD_HOST_IP  the kernel's address on the TAP (198.18.0.1)
  USTACK_BOARD          the board's name
  USTACK_BOARD_CTL      the control socket (one client at a time)
  USTACK_BOARD_LOG      UART0's log file
  USTACK_BOARD_NETNS    the namespace (ip netns exec NAME ...)

When CMD exits, the board is asked to exit with CMD's status (control op
EXIT); the firmware ends QEMU with it (semihosting) and that is this
command's exit status.  If the firmware stops first (a fatal error, or CMD
sent EXIT itself), CMD gets 5 s to finish, then the exit status is CMD's
when it failed, else the firmware's.  Ctrl-C or SIGTERM stop the board the
same way (status 128+signal with --run: 130, 143; else 0); --timeout S ends CMD (status
124) or the board after S seconds.  The namespace, TAP, QEMU and sockets
are removed on every way out.

The board runs in real time (no -icount): its peer, the kernel, times out
in real time.

examples:
  ustack board list
  ustack board run --board mps2-an385 --run 'ping -c 3 -s 4000 $USTACK_BOARD_IP'
  ustack board run --board lm3s6965evb --run \\
      'curl -s http://$USTACK_BOARD_IP/bytes/1000000 | sha256sum'
  ustack board run --board mps2-an385 --run 'echo hi | socat - TCP:$USTACK_BOARD_IP:7'
  ustack board run --board mps2-an385 --log /tmp/fw.log     # until Ctrl-C
  ustack board build --board all"""

_GRACE = 5.0  # seconds CMD may still run after the firmware stopped
_TIMEOUT_STATUS = 124  # timeout(1)'s


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """board's subcommands: list, build, run."""
    sub = parser.add_subparsers(dest="board_command", metavar="ACTION")
    sub.add_parser(
        "list",
        help="the boards: QEMU machine, CPU, firmware, NIC, RAM; whether it is built",
        description="Lists the boards ustack has firmware for, with what QEMU emulates.",
    )
    build = sub.add_parser(
        "build",
        help="build a board's firmware",
        description="Configures (the first time) and builds the firmware with CMake and "
        "arm-none-eabi-gcc into build/board-<firmware>/ of the source checkout; prints the "
        "ELF's path.",
    )
    build.add_argument(
        "--board",
        required=True,
        choices=[*BOARDS, "all"],
        help="which board's firmware ('all': every firmware)",
    )
    _build_options(build)
    check = sub.add_parser(
        "check",
        help="boot a board and run the host-side checks (invoke qemu)",
        description="Boots each board (building its firmware unless --elf) and checks it "
        "from the kernel in its namespace: ping with payloads 56..8000 bytes (fragmented), "
        "hostile HTTP and echo clients (garbage, oversized and pipelined requests, a "
        "connection flood with half-sent requests; HELLO after), "
        "curl /bytes/1000000 with the SHA-256 checked, 1 MiB TCP echo both ways "
        "byte-exact, UDP echo, then control EXIT 42 and QEMU's exit status.  Prints each "
        "check's outcome and time; exit status 1 when any failed.",
    )
    check.add_argument(
        "--board",
        action="append",
        default=[],
        choices=[*BOARDS, "all"],
        help="board to check (repeatable; 'all': every board; default mps2-an385)",
    )
    check.add_argument(
        "--check",
        action="append",
        default=[],
        choices=list(CHECKS),
        help="run only this check (repeatable; default all, in the order listed)",
    )
    check.add_argument(
        "--elf",
        type=Path,
        default=None,
        metavar="PATH",
        help="boot this ELF instead of building the firmware (with one --board)",
    )
    check.add_argument("--seed", type=int, default=None, help="the firmware's seed")
    check.add_argument(
        "--timeout",
        type=float,
        default=None,
        metavar="S",
        help="give up after S seconds in all (builds included), taking the board down "
        "cleanly; exit status 1 (default: each check's own limits only)",
    )
    _build_options(check)
    run = sub.add_parser(
        "run",
        help="boot a board on a TAP in a namespace; run a command against it",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument("--board", default="mps2-an385", choices=list(BOARDS), help="the board")
    run.add_argument(
        "--run",
        metavar="CMD",
        default=None,
        help="shell command run in the board's namespace once the firmware is ready "
        "($USTACK_BOARD_IP is the board); the board exits with its status, and so does "
        "this command (default: stay up until Ctrl-C)",
    )
    run.add_argument(
        "--ip",
        default=DEFAULT_ADDRESS,
        metavar="CIDR",
        help="the board's address, inside 198.18.0.0/15 (default: %(default)s)",
    )
    run.add_argument(
        "--host-ip",
        default=DEFAULT_HOST_ADDRESS,
        metavar="CIDR",
        help="the kernel's address on the TAP, same subnet (default: %(default)s; also the "
        "board's gateway)",
    )
    run.add_argument(
        "--seed",
        type=int,
        default=None,
        help="seed of the firmware's stack (ISNs, ports); default: the board's entropy",
    )
    run.add_argument(
        "--elf",
        type=Path,
        default=None,
        metavar="PATH",
        help="boot this firmware ELF instead of building the board's",
    )
    run.add_argument(
        "--log",
        type=Path,
        default=None,
        metavar="PATH",
        help="write UART0 (the firmware's log) to PATH and keep it (default: a temporary "
        "file, removed at the end; its last lines are shown when the board fails)",
    )
    run.add_argument(
        "--timeout",
        type=float,
        default=None,
        metavar="S",
        help="with --run: end CMD after S seconds (exit status 124); without: stop the "
        "board after S seconds (default: no limit)",
    )
    run.add_argument(
        "--boot-timeout",
        type=float,
        default=30.0,
        metavar="S",
        help="seconds to wait for the firmware's ready line (default: %(default)s)",
    )
    run.add_argument(
        "--icount",
        type=int,
        default=None,
        metavar="SHIFT",
        help="run QEMU with -icount shift=SHIFT (the board's clock follows instructions, "
        "not real time; see docs/boards.md; default: real time)",
    )
    run.add_argument(
        "--qemu-arg",
        action="append",
        default=[],
        metavar="ARG",
        help="one more argument for qemu-system-arm (repeatable), e.g. "
        "--qemu-arg=-d --qemu-arg=guest_errors",
    )
    run.add_argument(
        "--verbose",
        "-v",
        action="store_true",
        help="with --run, copy the firmware's log to stdout as it comes (without --run "
        "it always is)",
    )
    _build_options(run)


def _build_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--build-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="the firmware's CMake tree (default: build/board-<firmware>/ of the checkout)",
    )
    parser.add_argument(
        "--quiet", "-q", action="store_true", help="no build output unless the build fails"
    )


def run(args: argparse.Namespace) -> int:
    """Dispatches to list, build or run."""
    action = getattr(args, "board_command", None)
    try:
        if action == "list":
            return _list()
        if action == "build":
            return _build(args)
        if action == "run":
            return _run(args)
        if action == "check":
            return _check(args)
    except BoardError as exc:
        print(f"ustack board: {exc}", file=sys.stderr)
        return 1
    print(
        "ustack board: give an action: list, build, run or check (ustack board --help)",
        file=sys.stderr,
    )
    return 2


def _list() -> int:
    rows = []
    for b in BOARDS.values():
        try:
            built = "yes" if firmware_path(b.name).is_file() else "no"
        except BoardError:
            built = "?"
        rows.append([b.name, b.machine, b.cpu, b.firmware, b.nic, built])
    print(table(["board", "QEMU -M", "CPU", "firmware", "NIC", "built"], rows))
    print()
    for b in BOARDS.values():
        print(f"{b.name}: {b.ram}; {b.notes}")
    reason = unavailable_reason()
    if reason is not None:
        print(f"\n`ustack board run` cannot boot boards here: {reason}")
    return 0


def _build(args: argparse.Namespace) -> int:
    names = list(BOARDS) if args.board == "all" else [args.board]
    done: set[str] = set()
    for name in names:
        firmware = BOARDS[name].firmware
        if firmware in done:
            continue
        done.add(firmware)
        elf = build_firmware(name, build_dir=args.build_dir, quiet=args.quiet)
        if args.quiet:
            print(elf)
    return 0


class _OutOfTime(Exception):
    """board check's --timeout passed."""


def _out_of_time(signum: int, frame: object) -> None:
    raise _OutOfTime


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def _check(args: argparse.Namespace) -> int:
    boards = args.board or ["mps2-an385"]
    if "all" in boards:
        boards = list(BOARDS)
    if args.elf is not None and len(boards) != 1:
        raise BoardError("--elf goes with exactly one --board")
    failed: list[str] = []
    t0 = time.monotonic()
    # Every way out unwinds through QemuBoard's cleanup: SIGTERM and the
    # --timeout alarm become exceptions instead of ending the process.
    old_term = signal.signal(signal.SIGTERM, _interrupt)
    old_alarm = signal.signal(signal.SIGALRM, _out_of_time)
    if args.timeout:
        signal.setitimer(signal.ITIMER_REAL, args.timeout)
    try:
        _check_boards(args, boards, failed)
    except _OutOfTime:
        failed.append(f"--timeout {args.timeout:g} s passed")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old_alarm)
        signal.signal(signal.SIGTERM, old_term)
    print(
        f"ustack board check: {len(boards)} board(s) in {time.monotonic() - t0:.1f} s, "
        + (f"FAILED: {', '.join(failed)}" if failed else "all checks passed"),
        flush=True,
    )
    return 1 if failed else 0


def _check_boards(args: argparse.Namespace, boards: list[str], failed: list[str]) -> None:
    for name in boards:
        elf = args.elf
        if elf is None:
            elf = build_firmware(name, build_dir=args.build_dir, quiet=args.quiet)
        try:
            results = run_checks(name, elf=elf, only=args.check, seed=args.seed)
        except BoardError as exc:
            print(f"{name}: {exc}", flush=True)  # stdout: in order with the checks' lines
            failed.append(f"{name}: boot")
            continue
        failed += [f"{name}: {r.name}" for r in results if not r.ok]


class _Follow:
    """Copies what is added to the log file to stdout."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0

    def __call__(self) -> None:
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                data = f.read()
        except OSError:
            return
        if data:
            self.offset += len(data)
            sys.stdout.write(data.decode(errors="replace"))
            sys.stdout.flush()


def _banner(board: QemuBoard, with_run: bool) -> None:
    ns = board.env()["USTACK_BOARD_NETNS"]
    print(
        f"ustack board: {board.name} at {board.address} (kernel {board.host_ip} in namespace "
        f"{ns}), booted in {board.boot_seconds:.2f} s",
        flush=True,
    )
    if with_run:
        return
    ip = board.address
    print(
        f"  reach it:  ip netns exec {ns} ping {ip}\n"
        f"             ip netns exec {ns} curl -s http://{ip}/bytes/1000 | sha256sum\n"
        f"             ip netns exec {ns} socat - TCP:{ip}:7     (UDP echo: UDP:{ip}:7)\n"
        f"  control:   {board.ctl_path}  (ustack.board.protocol; one client at a time)\n"
        f"  log:       {board.log_path}  (copied below)\n"
        "  Ctrl-C stops it.",
        flush=True,
    )


def _status(code: int) -> int:
    """A shell's view of a wait status: 128+N for a signal."""
    return 128 - code if code < 0 else code


def _run(args: argparse.Namespace) -> int:
    board = QemuBoard(
        args.board,
        elf=args.elf,
        address=args.ip,
        host_address=args.host_ip,
        seed=args.seed,
        log_path=args.log,
        boot_timeout=args.boot_timeout,
        icount=args.icount,
        qemu_args=args.qemu_arg,
        build_dir=args.build_dir,
        quiet=args.quiet,
    )
    follow = _Follow(board.log_path) if (args.verbose or not args.run) else None
    with Stopper() as stop:
        # Signals end blocking waits during the boot; afterwards the loop
        # below looks at the flag.
        stop.raising = True
        try:
            board.start()
        except KeyboardInterrupt:
            print("ustack board: interrupted while booting", file=sys.stderr)
            return 128 + signal.Signals[stop.signame or "SIGINT"].value
        stop.raising = False
        try:
            _banner(board, bool(args.run))
            return _serve(board, args, stop, follow)
        finally:
            board.close()


def _serve(
    board: QemuBoard, args: argparse.Namespace, stop: Stopper, follow: _Follow | None
) -> int:
    proc: subprocess.Popen[bytes] | None = None
    if args.run:
        proc = board.popen(args.run)
    t0 = time.monotonic()
    deadline = None if args.timeout is None else t0 + args.timeout
    status: int | None = None  # what to ask the firmware to exit with
    why = ""
    try:
        while True:
            if follow is not None:
                follow()
            if board.returncode is not None:
                return _firmware_stopped(board, proc)
            if proc is not None and proc.poll() is not None:
                status = _status(proc.returncode)
                why = f"--run exited with status {status}"
                break
            if stop.stopped:
                why = stop.signame or "SIGINT"
                status = 128 + signal.Signals[why].value if proc is not None else 0
                break
            if deadline is not None and time.monotonic() >= deadline:
                status = _TIMEOUT_STATUS if proc is not None else 0
                why = f"--timeout {args.timeout:g} s"
                break
            time.sleep(0.05)
    finally:
        if proc is not None:
            end_process(proc)
    print(f"ustack board: stopping {board.name} ({why}): EXIT {status}", flush=True)
    rc = board.exit(status)
    if follow is not None:
        follow()
    if rc != status:
        print(
            f"ustack board: asked the firmware to exit with {status}, QEMU exited with {rc}",
            file=sys.stderr,
        )
    print(f"ustack board: {board.name} exited with status {rc}", flush=True)
    return rc


def _firmware_stopped(board: QemuBoard, proc: subprocess.Popen[bytes] | None) -> int:
    """QEMU ended before being asked to: the firmware's status (or CMD's,
    when it failed)."""
    rc = board.returncode
    assert rc is not None
    print(f"ustack board: {board.name} stopped by itself with status {rc}", flush=True)
    if proc is None:
        if rc != 0:
            print(board.log_tail(), file=sys.stderr)
        return _status(rc)
    try:
        proc.wait(timeout=_GRACE)
    except subprocess.TimeoutExpired:
        print(f"ustack board: --run still running {_GRACE:g} s later: ended", file=sys.stderr)
        end_process(proc)
    cmd = _status(proc.returncode)
    if cmd != 0:
        return cmd
    if rc != 0:
        print(f"--- firmware log (last lines):\n{board.log_tail()}", file=sys.stderr)
    return _status(rc)
