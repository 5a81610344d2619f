"""The progress display every long command uses (demo, fetch, packetdrill, bench).

On a terminal, one line on stderr redrawn in place at most ten times a
second: a bar when the total is known, the count (bytes in KiB/MiB/GiB, or
items with their unit), the percentage, the rate for bytes and any extra
text the caller adds.  Not on a terminal (a log, CI, a pipe), nothing --
or, with ``log`` given, a plain line there at every tenth of the total, so
a log shows that a long run moves without carriage returns in it.  With
``quiet`` nothing at all.

    with Progress("A -> B", total=size, unit="bytes", quiet=args.quiet) as bar:
        while ...:
            bar.update(done)
    # the last state is drawn and the line ended on leaving the block
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

from ustack._util import format_rate

__all__ = ["Progress", "human"]

_WIDTH = 30  # characters of bar
_INTERVAL = 0.1  # seconds between redraws


def human(n: float) -> str:
    """Bytes in B, KiB, MiB or GiB."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


class Progress:
    """A progress line for ``total`` items of ``unit`` (``"bytes"`` shows
    sizes and a rate); ``total`` None when not known ahead."""

    def __init__(
        self,
        label: str,
        total: int | None = None,
        *,
        unit: str = "",
        quiet: bool = False,
        stream: TextIO | None = None,
        log: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.label = label
        self.total = total
        self.unit = unit
        self.stream = stream if stream is not None else sys.stderr
        self.tty = not quiet and self.stream.isatty()
        self.log = None if quiet or self.tty else log
        self.done = 0
        self.extra = ""
        self._clock = clock
        self._t0 = self._clock()
        self._last = -_INTERVAL
        self._next_tenth = 1
        self._drawn = False
        self._dirty = False
        self._finished = False

    def _count(self, n: int) -> str:
        return human(n) if self.unit == "bytes" else f"{n}"

    def line(self) -> str:
        """The text of the current state (what the terminal shows)."""
        parts = [self.label] if self.label else []
        if self.total:
            frac = min(1.0, self.done / self.total)
            parts.append(f"[{'#' * int(frac * _WIDTH):<{_WIDTH}}]")
            count = f"{self._count(self.done)} / {self._count(self.total)}"
            if self.unit and self.unit != "bytes":
                count += f" {self.unit}"
            parts.append(f"{count} ({100.0 * frac:5.1f}%)")
        else:
            unit = "" if self.unit in ("", "bytes") else f" {self.unit}"
            parts.append(f"{self._count(self.done)}{unit}")
        if self.unit == "bytes":
            elapsed = max(self._clock() - self._t0, 1e-9)
            parts.append(format_rate(8 * self.done / elapsed))
        if self.extra:
            parts.append(self.extra)
        return "  " + " ".join(p for p in parts if p)

    def update(self, done: int, extra: str = "") -> None:
        """``done`` items so far (a running total, not an increment)."""
        self.done = done
        self.extra = extra
        self._dirty = True
        if self.tty:
            now = self._clock()
            complete = self.total is not None and done >= self.total
            if complete or now - self._last >= _INTERVAL:
                self._last = now
                self._draw()
        elif self.log is not None and self.total:
            tenth = 10 * done // self.total
            if tenth >= self._next_tenth:
                self._next_tenth = tenth + 1
                pct = min(100, 100 * done // self.total)
                self.log.write(
                    f"  progress: {self._count(done)} of {self._count(self.total)} ({pct}%)\n"
                )
                self.log.flush()

    __call__ = update

    def _draw(self) -> None:
        self.stream.write("\r" + self.line() + "\x1b[K")
        self.stream.flush()
        self._drawn = True
        self._dirty = False

    def message(self, text: str, file: TextIO | None = None) -> None:
        """A line of its own on ``file`` (stdout), above the progress line,
        which is redrawn below it."""
        if self.tty and self._drawn:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
        print(text, file=file if file is not None else sys.stdout, flush=True)
        if self.tty and self._drawn:
            self._draw()

    def finish(self) -> None:
        """Draws the last state and ends the line (terminal only); once."""
        if self._finished:
            return
        self._finished = True
        if self.tty and (self._drawn or self._dirty):
            if self._dirty:
                self._draw()
            self.stream.write("\n")
            self.stream.flush()

    def clear(self) -> None:
        """Removes the progress line instead (for output that follows it)."""
        self._finished = True
        if self.tty and self._drawn:
            self.stream.write("\r\x1b[K")
            self.stream.flush()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.finish()
