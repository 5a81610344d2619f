"""Small helpers shared by the bindings and the CLI."""

from __future__ import annotations

import re
import subprocess

__all__ = [
    "end_process",
    "format_mac",
    "parse_mac",
    "parse_rate",
    "format_rate",
    "parse_percent",
    "parse_duration_ns",
]


def format_mac(raw: bytes) -> str:
    """``b'\\x02\\0\\0\\0\\0\\x01'`` -> ``'02:00:00:00:00:01'``."""
    return ":".join(f"{b:02x}" for b in raw)


def parse_mac(text: str) -> bytes:
    """``'02:00:00:00:00:01'`` (or with ``-``) -> 6 bytes."""
    parts = re.split(r"[:-]", text.strip())
    if len(parts) != 6:
        raise ValueError(f"not a MAC address: {text!r}")
    try:
        raw = bytes(int(p, 16) for p in parts)
    except ValueError:
        raise ValueError(f"not a MAC address: {text!r}") from None
    return raw


_RATE_UNITS = {
    "": 1,
    "bit": 1,
    "bps": 1,
    "kbit": 10**3,
    "kbps": 10**3,
    "mbit": 10**6,
    "mbps": 10**6,
    "gbit": 10**9,
    "gbps": 10**9,
    "tbit": 10**12,
    "tbps": 10**12,
    "k": 10**3,
    "m": 10**6,
    "g": 10**9,
}


def parse_rate(text: str) -> int:
    """A link rate as tc writes it (``1gbit``, ``100mbit``, ``2.5Gbps``, ``64000``) in bit/s.

    ``0`` means unlimited.
    """
    m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]*)?)\s*([a-zA-Z/]*)\s*", text)
    if m is None:
        raise ValueError(f"not a rate: {text!r} (examples: 1gbit, 100mbit, 56kbit)")
    unit = m.group(2).lower().replace("/s", "ps")
    if unit not in _RATE_UNITS:
        raise ValueError(
            f"unknown rate unit {m.group(2)!r} in {text!r} (use bit, kbit, mbit, gbit)"
        )
    return int(round(float(m.group(1)) * _RATE_UNITS[unit]))


def format_rate(bps: float) -> str:
    """Bit/s in the largest unit that keeps the number >= 1 (``1.5 Gbit/s``)."""
    for unit, scale in (("Tbit/s", 1e12), ("Gbit/s", 1e9), ("Mbit/s", 1e6), ("kbit/s", 1e3)):
        if bps >= scale:
            return f"{bps / scale:.3g} {unit}"
    return f"{bps:.3g} bit/s"


def parse_percent(text: str) -> float:
    """A probability -> a fraction in [0, 1].

    ``'10'``, ``'10%'``, ``'0.5'`` and ``'0.5%'`` are percent (a bare
    number is percent, as it always was); ``'1/1000'`` is a fraction.
    """
    t = text.strip()
    num, slash, den = t.partition("/")
    try:
        if slash:
            value = 100.0 * float(num) / float(den)
        else:
            value = float(t.removesuffix("%"))
    except (ValueError, ZeroDivisionError):
        raise ValueError(f"not a percentage like 1%, 0.1% or 1/1000: {text!r}") from None
    if not 0.0 <= value <= 100.0:
        raise ValueError(f"a percentage must be in [0, 100], not {text!r}")
    return value / 100.0


_DURATION_UNITS = {"": 1_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1, "s": 1_000_000_000}


def parse_duration_ns(text: str) -> int:
    """``'10ms'``, ``'500us'``, ``'1.5s'``, ``'20ns'`` or a bare number of
    milliseconds (``'2.5'``) -> nanoseconds (>= 0)."""
    m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*([a-zA-Z]*)\s*", text)
    unit = m.group(2).lower() if m else ""
    if m is None or unit not in _DURATION_UNITS:
        raise ValueError(f"not a duration like 10ms, 500us or 1s: {text!r}")
    return int(round(float(m.group(1)) * _DURATION_UNITS[unit]))


def end_process(proc: subprocess.Popen[bytes], timeout: float = 5.0) -> int:
    """Ends ``proc`` if it still runs: SIGTERM, then SIGKILL after
    ``timeout`` seconds; its exit status."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode
