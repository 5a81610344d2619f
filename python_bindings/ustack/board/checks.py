"""The host-side checks of a booted board (``ustack board check``, ``invoke qemu``).

Each drives the firmware's services from the Linux kernel in the board's
namespace, with the kernel's own tools, and raises :class:`CheckFailed`
saying what differed:

- ``ping``: ICMP echo with payloads from 56 bytes to 8000 (above 1472 the
  kernel fragments the request and the board reassembles it, then
  fragments its reply: RFC 791 3.2);
- ``http``: curl fetches /bytes/N (1 MB) and its SHA-256 must be
  :func:`ustack.pattern.sha256` (N);
- ``tcp_echo``: 1 MiB of random bytes to the TCP echo port while reading
  the echo concurrently; the echo must be the same bytes (a Python client,
  _echo_client.py, in the namespace);
- ``udp_echo``: datagrams of several sizes to the UDP echo port, each
  echoed intact;
- ``hostile``: garbage, an oversized head, a huge /bytes/N, 64 pipelined
  requests, then a flood of connections beyond the slots with half-sent
  requests (_hostile_client.py): each answered as it should be (400, 431,
  404, 64 answers), a half-open request closed by the firmware's head
  timeout, a plain GET answered once the flood is gone, and the control
  channel still answering HELLO; it runs before the others, which must
  still pass after it;
- ``exit``: control EXIT with a status; QEMU's exit status must be it.

:func:`run_checks` boots a board, runs them all in that order with each
one's time, and always takes the board down.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ustack import pattern
from ustack.board.qemu import BoardError, QemuBoard

__all__ = [
    "CheckFailed",
    "CheckResult",
    "PING_SIZES",
    "UDP_SIZES",
    "CHECKS",
    "HTTP_HEAD_TIMEOUT",
    "ping",
    "hostile",
    "http",
    "tcp_echo",
    "udp_echo",
    "exit_status",
    "run_checks",
]

PING_SIZES = (56, 1472, 1473, 4000, 8000)
UDP_SIZES = (1, 512, 1472)
ECHO_PORT = 7
HTTP_PORT = 80
HTTP_HEAD_TIMEOUT = 5.0  # firmware/fw.h FW_HTTP_HEAD_S
_CLIENT = Path(__file__).with_name("_echo_client.py")
_HOSTILE = Path(__file__).with_name("_hostile_client.py")


class CheckFailed(AssertionError):
    """A board answered wrongly, or not at all."""


@dataclass(frozen=True)
class CheckResult:
    name: str
    seconds: float
    ok: bool
    detail: str


def _run(board: QemuBoard, argv: Sequence[str], timeout: float) -> str:
    try:
        out = board.run(list(argv), timeout=timeout)
    except subprocess.TimeoutExpired:
        raise CheckFailed(f"`{' '.join(argv)}` still running after {timeout:g} s") from None
    text = (out.stdout or b"").decode(errors="replace") + (out.stderr or b"").decode(
        errors="replace"
    )
    if out.returncode != 0:
        raise CheckFailed(f"`{' '.join(argv)}` exited with {out.returncode}: {text.strip()}")
    return text


def ping(board: QemuBoard, sizes: Sequence[int] = PING_SIZES, count: int = 2) -> str:
    """The kernel pings the board with each payload size; every echo must come back."""
    rtts = []
    for size in sizes:
        argv = ["ping", "-n", "-c", str(count), "-i", "0.2", "-W", "3", "-s", str(size)]
        text = _run(board, [*argv, board.address], timeout=15 + count)
        m = re.search(r"(\d+) packets transmitted, (\d+) received", text)
        if m is None or int(m.group(2)) != count:
            raise CheckFailed(f"ping -s {size}: {m.group(0) if m else text.strip()}")
        if f"{size + 8} bytes from {board.address}" not in text:
            raise CheckFailed(f"ping -s {size}: no {size + 8}-byte reply in: {text.strip()}")
        if "wrong data" in text or "DUP!" in text:
            raise CheckFailed(f"ping -s {size}: corrupt or duplicated replies: {text.strip()}")
        avg = re.search(r"= [\d.]+/([\d.]+)/", text)
        rtts.append(f"{size}:{avg.group(1) if avg else '?'}ms")
    return f"{count} echoes of each size, avg rtt {' '.join(rtts)}"


def http(board: QemuBoard, size: int = 1_000_000, timeout: float = 60.0) -> str:
    """curl fetches /bytes/SIZE; the body's SHA-256 must be the pattern's."""
    url = f"http://{board.address}:{HTTP_PORT}/bytes/{size}"
    with tempfile.TemporaryDirectory(prefix="ustack-board-http-") as tmp:
        body = Path(tmp) / "body"
        t0 = time.monotonic()
        argv = ["curl", "-sS", "--fail", "--max-time", f"{timeout:g}", "-o", str(body), url]
        _run(board, argv, timeout + 5)
        secs = time.monotonic() - t0
        data = body.read_bytes()
    if len(data) != size:
        raise CheckFailed(f"GET {url}: {len(data)} bytes, expected {size}")
    digest = hashlib.sha256(data).hexdigest()
    want = pattern.sha256(size)
    if digest != want:
        raise CheckFailed(f"GET {url}: SHA-256 {digest}, expected {want}")
    return f"{size} bytes in {secs:.2f} s ({size / secs / 1e6:.2f} MB/s), sha256 {digest[:16]}..."


def tcp_echo(board: QemuBoard, size: int = 1 << 20, timeout: float = 60.0) -> str:
    """SIZE random bytes to TCP echo, read back concurrently, byte-exact."""
    argv = [sys.executable, str(_CLIENT), "tcp", board.address, str(ECHO_PORT), str(size)]
    return _run(board, [*argv, f"{timeout:g}"], timeout + 5).strip()


def udp_echo(board: QemuBoard, sizes: Sequence[int] = UDP_SIZES, timeout: float = 3.0) -> str:
    """One datagram of each size to UDP echo; each comes back intact."""
    what = ",".join(str(s) for s in sizes)
    argv = [sys.executable, str(_CLIENT), "udp", board.address, str(ECHO_PORT), what]
    return _run(board, [*argv, f"{timeout:g}"], 4 * timeout * len(sizes) + 5).strip()


def hostile(board: QemuBoard) -> str:
    """Hostile HTTP and echo clients (see the module's text); then HELLO."""
    argv = [sys.executable, str(_HOSTILE), board.address, str(HTTP_PORT), str(ECHO_PORT)]
    text = _run(board, [*argv, f"{HTTP_HEAD_TIMEOUT:g}"], 4 * HTTP_HEAD_TIMEOUT + 120).strip()
    if not board.running:
        raise CheckFailed(f"QEMU ended during the hostile clients\n{board.log_tail()}")
    return f"{text}; HELLO: {board.hello()}"


def exit_status(board: QemuBoard, status: int = 42) -> str:
    """Control EXIT with ``status``: QEMU must end with it."""
    rc = board.exit(status)
    if rc != status:
        raise CheckFailed(f"EXIT {status}: QEMU exited with {rc}\n{board.log_tail()}")
    return f"QEMU exited with {rc}"


CHECKS: dict[str, Callable[[QemuBoard], str]] = {
    "ping": ping,
    "hostile": hostile,
    "http": http,
    "tcp-echo": tcp_echo,
    "udp-echo": udp_echo,
    "exit": exit_status,
}


def run_checks(
    board_name: str,
    *,
    elf: Path | None = None,
    only: Sequence[str] = (),
    out: Callable[[str], None] = print,
    **board_options: object,
) -> list[CheckResult]:
    """Boots ``board_name`` and runs the checks (all, or ``only``) in order,
    printing each one's outcome and time; a failed check does not stop the
    ones after it (except that EXIT always runs last).  The board is taken
    down on every path."""
    names = [n for n in CHECKS if not only or n in only]
    unknown = set(only) - set(CHECKS)
    if unknown:
        raise BoardError(
            f"unknown checks {', '.join(sorted(unknown))}; checks: {', '.join(CHECKS)}"
        )
    results: list[CheckResult] = []
    t0 = time.monotonic()
    with QemuBoard(board_name, elf=elf, **board_options) as board:  # type: ignore[arg-type]
        out(f"{board_name}: booted in {board.boot_seconds:.2f} s at {board.address}")
        for name in names:
            c0 = time.monotonic()
            try:
                detail, ok = CHECKS[name](board), True
            except (CheckFailed, BoardError, OSError) as exc:
                detail, ok = str(exc), False
            secs = time.monotonic() - c0
            results.append(CheckResult(name, secs, ok, detail))
            out(f"{board_name}: {name:<9} {'ok    ' if ok else 'FAILED'} {secs:6.2f} s  {detail}")
            if not board.running and name != "exit":
                out(f"{board_name}: QEMU ended (status {board.returncode}):\n{board.log_tail()}")
                break
    out(
        f"{board_name}: {sum(r.ok for r in results)}/{len(results)} checks passed in "
        f"{time.monotonic() - t0:.1f} s"
    )
    return results
