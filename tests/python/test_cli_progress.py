"""ustack.progress: the one progress display of the long commands."""

from __future__ import annotations

import io
import re
from pathlib import Path

from ustack.progress import Progress, human

COMMANDS = Path(__file__).resolve().parents[2] / "python_bindings" / "ustack" / "commands"


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_terminal_redraws_in_place_at_most_ten_times_a_second() -> None:
    out, clock = Tty(), Clock()
    bar = Progress("A -> B", 1000, unit="bytes", stream=out, clock=clock)
    for i in range(1, 100):
        clock.t = i * 0.001  # 99 updates within 0.1 s: one drawing
        bar(i)
    assert out.getvalue().count("\r") == 1
    clock.t = 1.0
    bar(1000, "virtual 2.00 s")
    bar.finish()
    text = out.getvalue()
    assert text.count("\r") == 2 and text.endswith("\n")
    last = text.rsplit("\r", 1)[1]
    assert "[" + "#" * 30 + "]" in last and "1000 B / 1000 B (100.0%)" in last
    assert "kbit/s" in last and "virtual 2.00 s" in last


def test_not_a_terminal_writes_a_line_per_tenth_to_the_log_only() -> None:
    out, log = io.StringIO(), io.StringIO()
    bar = Progress("A -> B", 2 << 20, unit="bytes", stream=out, log=log)
    for done in range(0, (2 << 20) + 1, 1 << 16):
        bar(done)
    bar.finish()
    assert out.getvalue() == ""
    lines = log.getvalue().splitlines()
    assert len(lines) == 10 and "\r" not in log.getvalue()
    assert lines[-1] == "  progress: 2.0 MiB of 2.0 MiB (100%)"


def test_quiet_and_unknown_totals() -> None:
    out = Tty()
    with Progress("x", 10, quiet=True, stream=out) as bar:
        bar(5)
    assert out.getvalue() == ""
    out = Tty()
    with Progress("", None, unit="scripts", stream=out) as bar:
        bar(7)
    assert out.getvalue().startswith("\r  7 scripts") and out.getvalue().endswith("\n")


def test_message_goes_above_the_bar() -> None:
    out, msgs = Tty(), io.StringIO()
    bar = Progress("", 4, unit="scripts", stream=out)
    bar(1)
    bar.message("PASS a.pkt", msgs)
    assert msgs.getvalue() == "PASS a.pkt\n"
    assert out.getvalue().count("\r\x1b[K") == 1 and out.getvalue().count("1 / 4 scripts") == 2
    bar.clear()
    assert out.getvalue().endswith("\r\x1b[K")


def test_human_sizes() -> None:
    assert [human(n) for n in (0, 1023, 1024, 5 << 20, 3 << 30)] == [
        "0 B",
        "1023 B",
        "1.0 KiB",
        "5.0 MiB",
        "3.0 GiB",
    ]


def test_no_command_draws_its_own_progress() -> None:
    """One helper for all: no command module defines a progress class or
    writes carriage returns itself."""
    for path in COMMANDS.glob("*.py"):
        src = path.read_text()
        assert not re.search(r"class \w*Progress", src), path.name
        assert not re.search(r"[\"']\\r(?!\\n)", src), path.name
