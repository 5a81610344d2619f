"""The QEMU board launcher (ustack.board.qemu) and `ustack board`.

Without QEMU: the board table, QEMU's command line as built, the address
rules, `board list` and every option in `board run --help`.  With root,
qemu-system-arm and the arm-none-eabi toolchain: a real `ustack board run
--board mps2-an385 --run ...` whose command pings the board and exits with a
status that must come back as QEMU's, and a Ctrl-C-free check that nothing
(namespace, QEMU) is left behind.
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from ustack import netns
from ustack.__main__ import main
from ustack.board import BOARDS, BoardError, QemuBoard, board_spec, checks, firmware_path
from ustack.board.checks import CHECKS, CheckFailed, run_checks
from ustack.board.qemu import QEMU, READY, unavailable_reason

REQUIRE_ALL = os.environ.get("USTACK_REQUIRE_ALL") == "1"


def _boot_reason() -> str | None:
    reason = unavailable_reason()
    if reason is None and shutil.which("arm-none-eabi-gcc") is None:
        reason = "arm-none-eabi-gcc is not installed (apt-get install gcc-arm-none-eabi)"
    return reason


BOOT_REASON = _boot_reason()
needs_boot = pytest.mark.skipif(
    BOOT_REASON is not None and not REQUIRE_ALL, reason=f"cannot boot boards: {BOOT_REASON}"
)


def test_board_table_names_machines_and_firmware() -> None:
    assert {"mps2-an385", "lm3s6965evb"} <= set(BOARDS)
    assert board_spec("lm3s6965evb").nic == "stellaris"
    assert board_spec("mps2-an385").nic == "lan9118"
    for spec in BOARDS.values():
        assert spec.firmware in BOARDS  # every board boots one of the built images
        assert firmware_path(spec.name).name == f"ustack-fw-{spec.firmware}.elf"
    with pytest.raises(BoardError, match="unknown board"):
        board_spec("pdp-11")


def test_qemu_command_line(tmp_path: Path) -> None:
    elf = tmp_path / "fw.elf"
    board = QemuBoard(
        "lm3s6965evb", elf=elf, address="198.18.5.9/24", host_address="198.18.5.1/24", seed=17
    )
    try:
        board.elf = elf
        argv = board.qemu_argv()
        joined = " ".join(argv)
        assert argv[0] == QEMU
        assert argv[argv.index("-M") + 1] == "lm3s6965evb"
        assert argv[argv.index("-append") + 1] == "ip=198.18.5.9/24 gw=198.18.5.1 seed=17"
        assert "enable=on,target=native" in argv
        assert f"path={board.ctl_path},server=on,wait=off" in joined
        # UART0 is the log file, UART1 the control socket, in that order.
        serials = [argv[i + 1] for i, a in enumerate(argv) if a == "-serial"]
        assert serials == ["chardev:uart0", "chardev:ctl"]
        assert "model=stellaris" in joined and "script=no,downscript=no" in joined
        assert "-icount" not in argv  # real time: the peer is the kernel
        assert board.address == "198.18.5.9" and board.host_ip == "198.18.5.1"
    finally:
        board.close()
    assert not board.ctl_path.parent.exists()  # the temporary folder went


def test_short_kernel_path_and_ready_address_checked(tmp_path: Path) -> None:
    # Semihosting gives the firmware "<-kernel path> <-append>" in 256
    # bytes or not at all: a deep checkout's path must not crowd out the
    # configuration, so QEMU loads the ELF through a link in the run's
    # folder once the board starts.
    deep = tmp_path / ("d" * 200) / ("e" * 100)
    deep.mkdir(parents=True)
    elf = deep / "fw.elf"
    elf.write_bytes(b"")
    board = QemuBoard("mps2-an385", elf=elf, address="198.18.5.9/24", host_address="198.18.5.1/24")
    try:
        board.kernel_path.symlink_to(elf)  # what start() does
        argv = board.qemu_argv()
        kernel = argv[argv.index("-kernel") + 1]
        assert Path(kernel).resolve() == elf.resolve()
        assert len(kernel) + 1 + len(board.cmdline) < 256
        # A ready line at another address: the firmware did not get its line.
        board._check_ready("ustack-fw: ready mps2-an385 198.18.5.9\n")
        with pytest.raises(BoardError, match="not 198.18.5.9: it did not read the command line"):
            board._check_ready("ustack-fw: ready mps2-an385 198.18.0.2\n")
    finally:
        board.close()


@needs_boot
def test_firmware_refuses_a_command_line_it_cannot_read() -> None:
    # A line over 255 bytes reaches the firmware as nothing; it must stop
    # (status 1, saying why) rather than serve with the defaults.
    elf = firmware_path("mps2-an385")
    if not elf.is_file():
        pytest.skip(f"no firmware at {elf} (invoke qemu builds it)")
    argv = [QEMU, "-M", "mps2-an385", "-nodefaults", "-display", "none", "-monitor", "none"]
    argv += ["-kernel", str(elf), "-append", "ip=198.18.0.2/24 " + "x" * 300]
    argv += ["-semihosting-config", "enable=on,target=native", "-serial", "stdio"]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "command line longer than 255 bytes" in out.stdout


def test_addresses_stay_in_the_benchmark_range() -> None:
    with pytest.raises(ValueError, match="198.18.0.0/15"):
        QemuBoard(address="10.0.0.2/24", host_address="10.0.0.1/24")
    with pytest.raises(ValueError, match="one subnet"):
        QemuBoard(address="198.18.1.2/24")
    with pytest.raises(ValueError, match="both at"):
        QemuBoard(address="198.18.0.1/24")


def test_board_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["board", "list"]) == 0
    out = capsys.readouterr().out
    for name, spec in BOARDS.items():
        assert name in out and spec.machine in out and spec.cpu in out


@pytest.mark.parametrize(
    ("action", "options"),
    [
        (
            "run",
            [
                "--board",
                "--run",
                "--ip",
                "--host-ip",
                "--seed",
                "--elf",
                "--log",
                "--timeout",
                "--boot-timeout",
                "--icount",
                "--qemu-arg",
                "--verbose",
                "--build-dir",
                "--quiet",
                "USTACK_BOARD_IP",
                "EXIT",
            ],
        ),
        ("build", ["--board", "--build-dir", "--quiet"]),
        ("check", ["--board", "--check", "--elf", "--seed", "--timeout", "--build-dir"]),
    ],
)
def test_help_explains_every_option(
    action: str, options: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["board", action, "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for opt in options:
        assert opt in out, f"`ustack board {action} --help` does not mention {opt}"


def test_a_missing_elf_is_reported_without_leaving_anything(tmp_path: Path) -> None:
    if BOOT_REASON is not None:
        pytest.skip(f"cannot boot boards: {BOOT_REASON}")
    before = set(netns.leaked())
    out = _ustack("board", "run", "--elf", str(tmp_path / "none.elf"), "--run", "true")
    assert out.returncode == 1
    assert "no firmware at" in out.stderr
    assert set(netns.leaked()) <= before


def _qemus_using(path: Path) -> list[str]:
    """QEMU processes whose command line names ``path`` (other test runs on
    this machine may have QEMUs of their own)."""
    out = subprocess.run(["pgrep", "-a", "-x", QEMU], capture_output=True, text=True, check=False)
    return [line for line in out.stdout.splitlines() if str(path) in line]


def _ustack(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ustack", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@needs_boot
@pytest.mark.slow
def test_board_run_pings_and_exits_with_the_commands_status(tmp_path: Path) -> None:
    before = set(netns.leaked())
    log = tmp_path / "uart0.log"
    out = _ustack(
        "board",
        "run",
        "--board",
        "mps2-an385",
        "--log",
        str(log),
        "--timeout",
        "60",
        "--run",
        'ping -c 1 -W 5 -s 3000 "$USTACK_BOARD_IP" && test -S "$USTACK_BOARD_CTL" && exit 7',
    )
    assert out.returncode == 7, out.stdout + out.stderr
    assert "ustack board: mps2-an385 exited with status 7" in out.stdout
    assert READY in log.read_text()  # --log keeps UART0
    # The namespace went with the command (a leaked one outlives its maker).
    assert set(netns.leaked()) <= before
    assert _qemus_using(log) == []


@needs_boot
@pytest.mark.slow
def test_board_run_failing_command_and_timeout(tmp_path: Path) -> None:
    before = set(netns.leaked())
    log = tmp_path / "uart0.log"
    run = ("board", "run", "--log", str(log))
    out = _ustack(*run, "--run", "ping -c 1 -W 1 198.18.0.99", "--timeout", "30")
    assert out.returncode == 1, out.stdout + out.stderr  # ping's status, through EXIT
    out = _ustack(*run, "--run", "sleep 30", "--timeout", "1")
    assert out.returncode == 124, out.stdout + out.stderr
    assert "--timeout 1 s" in out.stdout
    assert set(netns.leaked()) <= before
    assert _qemus_using(log) == []


@needs_boot
@pytest.mark.slow
def test_board_run_ctrl_c_exits_the_board_and_cleans_up(tmp_path: Path) -> None:
    before = set(netns.leaked())
    log = tmp_path / "uart0.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "ustack", "board", "run", "--log", str(log), "--run", "sleep 60"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    banner = ""  # the build's lines, then this one once the firmware is ready
    while "ustack board: mps2-an385 at 198.18.0.2" not in banner:
        line = proc.stdout.readline()
        assert line, banner
        banner += line
    proc.send_signal(signal.SIGINT)
    rest = proc.communicate(timeout=60)[0]
    assert proc.returncode == 130, banner + rest
    assert "(SIGINT): EXIT 130" in rest
    assert set(netns.leaked()) <= before
    assert _qemus_using(log) == []


@needs_boot
@pytest.mark.slow
def test_host_checks_pass_and_can_fail() -> None:
    lines: list[str] = []
    results = run_checks("mps2-an385", out=lines.append, seed=3)
    assert [r.name for r in results] == list(CHECKS)
    assert all(r.ok for r in results), "\n".join(lines)
    assert any("1000000 bytes in" in line for line in lines)  # each check says what it saw
    with QemuBoard("mps2-an385", seed=3) as board:
        # Nobody is at .3: the checks must say so rather than pass.
        board.interface = ipaddress.IPv4Interface("198.18.0.3/24")
        with pytest.raises(CheckFailed, match="0 received"):
            checks.ping(board, sizes=(56,), count=1)
        with pytest.raises(CheckFailed, match="curl"):
            checks.http(board, size=1000, timeout=2)
        board.interface = ipaddress.IPv4Interface("198.18.0.2/24")
        assert board.exit(0) == 0
