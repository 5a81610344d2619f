"""What the plugin knows about one test's stacks, and the failure report.

A fixture registers each stack it makes as a :class:`Subject` (a label, the
stack, its pcap captures, extra counters such as the pipe's) in the test's
:class:`TestState`; when the test fails, :meth:`TestState.report` closes
the captures (so that the files are complete) and writes the "ustack"
section: seed, replay command, pcap paths, counters that moved, the TCP
table and TCP_INFO of every open TCP socket.
"""

from __future__ import annotations

import contextlib
import os
import struct
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Subject", "TestState", "flat_counters", "pcap_frames", "safe_name"]

# TCP_INFO fields shown first, in this order, when nonzero (then the rest).
_INFO_FIRST = (
    "tcpi_state",
    "tcpi_options",
    "tcpi_rto",
    "tcpi_rtt",
    "tcpi_rttvar",
    "tcpi_snd_cwnd",
    "tcpi_snd_ssthresh",
    "tcpi_snd_wnd",
    "tcpi_rcv_space",
    "tcpi_snd_mss",
    "tcpi_rcv_mss",
    "tcpi_snd_rexmitpack",
    "tcpi_rcv_ooopack",
    "tcpi_snd_zerowin",
)


def safe_name(text: str, limit: int = 100) -> str:
    """``text`` (a node id) as a file name: unsafe characters become ``_``,
    and a long one is cut and given a hash of the whole."""
    import hashlib
    import re

    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_.") or "test"
    if len(name) > limit:
        digest = hashlib.sha256(text.encode()).hexdigest()[:8]
        name = f"{name[: limit - 9]}-{digest}"
    return name


def flat_counters(netstat: Mapping[str, Mapping[str, Any]]) -> dict[str, int]:
    """``Stack.netstat()`` as ``{"tcp.tcps_sndtotal": n, "icmp.outhist[8]": n}``."""
    out: dict[str, int] = {}
    for proto, fields in netstat.items():
        for name, value in fields.items():
            if isinstance(value, Mapping):
                for key, count in value.items():
                    out[f"{proto}.{name}[{key}]"] = int(count)
            elif isinstance(value, int):
                out[f"{proto}.{name}"] = value
    return out


def pcap_frames(path: str | os.PathLike[str]) -> int:
    """Records in a classic pcap file (ValueError when it is not one)."""
    data = Path(path).read_bytes()
    if len(data) < 24:
        raise ValueError(f"{path}: {len(data)} bytes, shorter than a pcap header")
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        order = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        order = ">"
    else:
        raise ValueError(f"{path}: not a pcap file (magic {magic.hex()})")
    count, off = 0, 24
    while off + 16 <= len(data):
        incl = struct.unpack_from(order + "I", data, off + 8)[0]
        off += 16 + incl
        if off > len(data):
            raise ValueError(f"{path}: record {count} is cut short")
        count += 1
    return count


@dataclass
class Subject:
    """One stack of a fixture (or a board driven like one)."""

    label: str
    stack: Any
    captures: list[Any] = field(default_factory=list)
    """:class:`ustack.Capture` objects writing this stack's interfaces."""
    extra: list[tuple[str, Callable[[], Mapping[str, int]]]] = field(default_factory=list)
    """Named counter sources shown when they moved (a pipe direction, a driver)."""
    baseline: dict[str, int] = field(default_factory=dict)
    extra_baseline: dict[str, dict[str, int]] = field(default_factory=dict)

    def snapshot(self) -> None:
        """Remember the counters now, so the report shows what moved since."""
        self.baseline = self._counters()
        self.extra_baseline = {}
        for name, fn in self.extra:
            with contextlib.suppress(Exception):
                self.extra_baseline[name] = dict(fn())

    def _counters(self) -> dict[str, int]:
        out: dict[str, int] = {}
        try:
            out.update(flat_counters(self.stack.netstat()))
        except Exception:  # a board may lack a group: take them one by one
            from ustack.netstat import PROTOCOLS

            for proto in PROTOCOLS:
                with contextlib.suppress(Exception):
                    out.update(flat_counters(self.stack.netstat(proto)))
        with contextlib.suppress(Exception):
            for k, v in self.stack.stats.items():
                if isinstance(v, int):
                    out[f"stack.{k}"] = v
        return out

    def moved(self) -> dict[str, int]:
        """Counters that changed since :meth:`snapshot`, as deltas."""
        now = self._counters()
        return {
            k: v - self.baseline.get(k, 0) for k, v in now.items() if v != self.baseline.get(k, 0)
        }

    def extra_moved(self) -> Iterator[tuple[str, dict[str, int]]]:
        for name, fn in self.extra:
            try:
                now = dict(fn())
            except Exception as exc:  # a closed driver: say so, do not fail the report
                yield name, {f"<unavailable: {exc}>": 0}
                continue
            base = self.extra_baseline.get(name, {})
            moved = {
                k: v - base.get(k, 0)
                for k, v in now.items()
                if isinstance(v, int) and v != base.get(k, 0)
            }
            if moved:
                yield name, moved


def _locked(stack: Any) -> contextlib.AbstractContextManager[Any]:
    """A threaded stack's lock (its thread waits), else nothing to hold (also
    for a stack already closed)."""
    fn = getattr(stack, "locked", None)
    if not callable(fn) or getattr(stack, "closed", False):
        return contextlib.nullcontext()
    return fn()


def _format_counters(counters: Mapping[str, int], indent: str = "    ") -> list[str]:
    return [f"{indent}{k} = {v}" for k, v in sorted(counters.items())]


def _tcp_lines(subject: Subject) -> list[str]:
    lines: list[str] = []
    try:
        conns = subject.stack.tcp_connections()
    except Exception:
        return lines
    for c in conns:
        local = f"{c.local[0]}:{c.local[1]}"
        remote = f"{c.remote[0]}:{c.remote[1]}"
        lines.append(
            f"    {local} -> {remote} {c.state_name} recv_q={c.recv_q} send_q={c.send_q}"
            f"{'' if c.has_socket else ' (no socket)'}"
        )
    return lines


def _tcp_info_lines(subject: Subject) -> list[str]:
    import socket as pysocket

    lines: list[str] = []
    try:
        sockets = subject.stack.sockets
        sockets = list(sockets() if callable(sockets) else sockets)  # a Board's is a method
    except Exception:
        return lines
    for sock in sockets:
        try:
            if int(sock.type) != int(pysocket.SOCK_STREAM) or sock.closed:
                continue
            info = sock.getsockopt(pysocket.IPPROTO_TCP, pysocket.TCP_INFO)
        except Exception:
            continue
        try:
            local = "{}:{}".format(*sock.getsockname()[:2])
        except Exception:
            local = "?"
        try:
            remote = "{}:{}".format(*sock.getpeername()[:2])
        except Exception:
            remote = "-"
        state = getattr(info, "state_name", str(info.get("tcpi_state")))
        fields = [k for k in _INFO_FIRST if k in info and k != "tcpi_state"]
        fields += sorted(k for k in info if k not in _INFO_FIRST)
        shown = " ".join(f"{k[5:]}={info[k]}" for k in fields if info[k])
        ident = getattr(sock, "id", None)
        if ident is None:
            ident = getattr(sock, "_fd", "?")
        lines.append(f"    socket {ident} {local} -> {remote} {state}: {shown}")
    return lines


@dataclass
class TestState:
    """The plugin's record of one test: its seed and the stacks its fixtures made."""

    seed: int
    session_seed: int
    seed_source: str
    """How the seed came about, for the report."""
    replay: str
    """The command line that runs this test again with the same seed."""
    pcap_mode: str
    pcap_dir: Path | None = None
    subjects: list[Subject] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """Lines the fixtures add to the report (faults, links, namespaces)."""
    reported: bool = False
    failed: bool = False

    @property
    def captures(self) -> list[Any]:
        return [c for s in self.subjects for c in s.captures]

    def pcap_paths(self) -> list[Path]:
        return [Path(c.path) for c in self.captures]

    def add(self, subject: Subject) -> Subject:
        with _locked(subject.stack):  # a threaded stack's thread waits meanwhile
            subject.snapshot()
        self.subjects.append(subject)
        return subject

    def close_captures(self) -> None:
        for s in self.subjects:
            with _locked(s.stack):
                for cap in s.captures:
                    with contextlib.suppress(Exception):
                        cap.close()

    def seed_line(self) -> str:
        return f"seed: {self.seed} ({self.seed_source})"

    def report(self) -> str:
        """The "ustack" section of a failed test (closes the captures).  What
        cannot be read (a stack the test closed in a way the report did not
        expect) is named in the section instead of failing the run."""
        try:
            return self._report()
        except Exception as exc:
            self.reported = True
            return "\n".join(
                [
                    self.seed_line(),
                    f"replay: {self.replay}",
                    *self.notes,
                    *(f"pcap: {p}" for p in self.pcap_paths()),
                    f"(the rest of the report failed: {exc!r})",
                ]
            )

    def _report(self) -> str:
        self.close_captures()
        lines = [self.seed_line(), f"replay: {self.replay}"]
        lines += self.notes
        paths = self.pcap_paths()
        if paths:
            lines.append("pcap:")
            for p in paths:
                try:
                    lines.append(f"    {p} ({pcap_frames(p)} frames)")
                except (OSError, ValueError) as exc:
                    lines.append(f"    {p} ({exc})")
        elif self.pcap_mode == "none":
            lines.append("pcap: none (--ustack-pcap=none)")
        for s in self.subjects:
            with _locked(s.stack):
                moved = s.moved()
                extras = list(s.extra_moved())
            if getattr(s.stack, "closed", False):
                lines.append(f"counters {s.label}: (the test closed the stack)")
            else:
                lines.append(f"counters {s.label} (moved during the test):")
                lines += _format_counters(moved) if moved else ["    (none)"]
            for name, counters in extras:
                lines.append(f"counters {name}:")
                lines += _format_counters(counters)
        for s in self.subjects:
            with _locked(s.stack):
                tcp = _tcp_lines(s)
                info = _tcp_info_lines(s)
            if tcp:
                lines.append(f"tcp connections {s.label}:")
                lines += tcp
            if info:
                lines.append(f"TCP_INFO {s.label}:")
                lines += info
        self.reported = True
        return "\n".join(lines)

    def passed_summary(self) -> str:
        """The section of a passing test with ``--ustack-pcap=all``."""
        lines = [self.seed_line()]
        lines += [f"pcap: {p}" for p in self.pcap_paths()]
        return "\n".join(lines)
